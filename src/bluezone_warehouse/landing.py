"""Listing and reading the landing zone, whether it is a local folder or an ``s3://`` URL.

The landing zone has two folders that the outside world drops files into: ``installs/``
(the national install export, DESIGN §3.2) and ``reports/`` (unit reports, §3.3). Anything
else under the landing URL (such as a simulator's ``_simulation/`` ground truth) is ignored.
Every file is addressed by its path relative to the landing root, which is what the manifest
records; the filesystem behind it is fsspec's, so ``file://`` and ``s3://`` behave alike.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import fsspec

from bluezone_warehouse.names import safe_file_name

SOURCES = ("installs", "reports")


@dataclass(frozen=True)
class LandedFile:
    """One file in the landing zone as listed (not yet read)."""

    source: str  # "installs" or "reports"
    path: str  # relative to the landing root, "/" separators: what the manifest records
    size_bytes: int
    arrived_at: datetime  # UTC; the file's modification time in the landing zone
    # The path as the filesystem spells it, when that differs from ``path`` (a name that is
    # not UTF-8, from a legacy Windows encoding).
    storage_path: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def read_path(self) -> str:
        return self.storage_path or self.path


def readable_path(path: str) -> str:
    """A path as valid text. Names that are not UTF-8 (they reach Python with surrogate
    escapes) are read as Windows-1258, the legacy Vietnamese encoding, which maps every
    byte a name can hold; the file itself is still read under its real name."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogateescape")
        return unicodedata.normalize("NFC", raw.decode("cp1258", "replace"))


def _mtime(info: dict) -> datetime:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromtimestamp(float(value), tz=UTC)
    raise ValueError(f"cannot tell when {info.get('name')} arrived: no modification time")


class LandingZone:
    """The landing zone at ``url`` (a local path, ``file://`` or ``s3://`` URL)."""

    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **(storage_options or {}))
        self.root = self.root.rstrip("/")

    def list(self, source: str) -> list[LandedFile]:
        """Every file under ``source/``, sorted by arrival time then path."""
        if source not in SOURCES:
            raise ValueError(f"unknown landing source {source!r}; expected one of {SOURCES}")
        base = f"{self.root}/{source}"
        if not self.fs.exists(base):
            return []
        files = []
        for relative, size, arrived_at in self._find(base):
            readable = readable_path(relative)
            files.append(
                LandedFile(
                    source=source,
                    path=readable,
                    size_bytes=size,
                    arrived_at=arrived_at,
                    storage_path=relative if readable != relative else None,
                )
            )
        return sorted(files, key=lambda f: (f.arrived_at, f.path))

    def _find(self, base: str) -> Iterator[tuple[str, int, datetime]]:
        """Every file under ``base``: its path relative to the root, size and arrival.

        A local folder is walked with ``os.scandir``, as fsspec's local ``find`` walks it
        (regular files only, symbolic links neither followed nor listed), without the cost
        fsspec adds per file: the whole history is listed at every run."""
        if not _is_local(self.fs):
            for full, info in self.fs.find(base, detail=True).items():
                if info.get("type") == "file":
                    relative = full[len(self.root) + 1 :] if full.startswith(self.root) else full
                    yield relative, int(info.get("size") or 0), _mtime(info)
            return
        folders = [base]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        try:
                            stat = entry.stat(follow_symlinks=False)
                        except FileNotFoundError:  # gone since it was listed
                            continue
                        yield (
                            entry.path[len(self.root) + 1 :],
                            stat.st_size,
                            datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                        )

    def full_path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(self.full_path(relative))

    @contextmanager
    def local_copy(self, relative: str) -> Iterator[Path]:
        """A local path to the file: the file itself when local, else a temporary download."""
        if _is_local(self.fs):
            yield Path(self.full_path(relative))
            return
        with tempfile.TemporaryDirectory(prefix="bluezone-landing-") as tmp:
            target = Path(tmp) / Path(relative).name
            self.fs.get_file(self.full_path(relative), str(target))
            yield target

    def whole(self, landed: LandedFile) -> bool:
        """Whether ``landed`` is provably complete as listed, so that it can be read before
        it has settled (DESIGN §3.3: a file is never read half-way).

        An object store lists an object only once its upload has finished. A local file is
        whole when its format ends with its own index and that end reads back: the zip
        directory of an XLSX (written last, every member within the file), a JSON document
        that parses, Parquet's footer, gzip's trailer (length and CRC). Its size and time
        must still be as listed afterwards. A CSV has no such end: it waits to settle."""
        if not _is_local(self.fs):
            return bool(_protocols(self.fs) & ATOMIC_PROTOCOLS)
        check = next(
            (check for suffix, check in _WHOLE.items() if landed.name.lower().endswith(suffix)),
            None,
        )
        if check is None:
            return False
        path = Path(self.full_path(landed.read_path))
        try:
            if not check(path):
                return False
            stat = path.stat()
        except Exception:  # whatever a half-written or hostile file does, it is not whole
            return False
        return stat.st_size == landed.size_bytes and (
            datetime.fromtimestamp(stat.st_mtime, tz=UTC) == landed.arrived_at
        )


# Object stores whose objects appear only when complete.
ATOMIC_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az"})
# Self-delimiting files larger than this are not proven whole by reading them: they settle.
WHOLE_CHECK_MAX_BYTES = 64 * 1024 * 1024


def _zip_whole(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            size = path.stat().st_size
            return all(
                info.header_offset + info.compress_size <= size for info in archive.infolist()
            )
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False


def _json_whole(path: Path) -> bool:
    if path.stat().st_size > WHOLE_CHECK_MAX_BYTES:
        return False
    try:
        return isinstance(json.loads(path.read_bytes()), list | dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return False


def _parquet_whole(path: Path) -> bool:
    size = path.stat().st_size
    if size < 12:
        return False
    with path.open("rb") as file:
        head = file.read(4)
        file.seek(size - 8)
        footer_length, tail = struct.unpack("<I4s", file.read(8))
    return head == tail == b"PAR1" and footer_length + 12 <= size


def _gzip_whole(path: Path) -> bool:
    """One gzip member whose trailer (length and CRC) checks out, and nothing after it: a
    file of several members could be cut at a member's end and still read cleanly."""
    if path.stat().st_size > WHOLE_CHECK_MAX_BYTES:
        return False
    inflater = zlib.decompressobj(wbits=31)
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            inflater.decompress(chunk)
            if inflater.eof:
                return not inflater.unused_data and not file.read(1)
    return False


_WHOLE = {
    ".xlsx": _zip_whole,
    ".xlsm": _zip_whole,
    ".json": _json_whole,
    ".parquet": _parquet_whole,
    ".gz": _gzip_whole,
}


def _protocols(fs: fsspec.AbstractFileSystem) -> set[str]:
    return {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return bool(_protocols(fs) & {"file", "local"})


def quarantine_file(zone: LandingZone, landed: LandedFile, checksum: str, url: str) -> str:
    """Copy a rejected file, untouched, to the quarantine area; returns its URL or path."""
    fs, root = fsspec.core.url_to_fs(url)
    target = f"{root.rstrip('/')}/{landed.source}/{checksum[:16]}_{safe_file_name(landed.name)}"
    if not fs.exists(target):
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        source = zone.full_path(landed.read_path)
        with zone.fs.open(source, "rb") as src, fs.open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return target if _is_local(fs) else fs.unstrip_protocol(target)
