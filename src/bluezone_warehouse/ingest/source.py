"""The interface every landing-zone source implements, and what a load returns.

A source owns a landing folder (``installs/``, ``reports/``) or the part of it whose file
names it claims, and turns one landed file into rows for its raw tables plus row-level
rejections. It never touches the warehouse: the run loop (``ingest/__init__.py``) hashes,
deduplicates, records the manifest, adds lineage, quarantines and writes, the same way for
every source. Adding a source is one class here-shaped, one raw table in ``tables.py``, and
its place in ``ingest.sources.open_sources``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from bluezone_warehouse.config import Settings
from bluezone_warehouse.landing import LandedFile, LandingZone
from bluezone_warehouse.tables import Table


class InputRejected(ValueError):
    """A whole file that cannot be loaded; the message says why, in words the sender can
    act on. ``rejected`` holds the row-level rejections when every row was rejected with its
    own reason: those are kept, and the file needs no separate flag."""

    def __init__(self, message: str, *, rejected: list[dict] | None = None) -> None:
        super().__init__(message)
        self.rejected = rejected or []


@dataclass
class Loaded:
    """What a source made of one file: rows per raw table (without lineage), row-level
    rejections (``Rejection`` fields, without lineage), and the counts the manifest keeps."""

    rows: dict[Table, list[dict]] = field(default_factory=dict)
    rejected: list[dict] = field(default_factory=list)
    rows_loaded: int = 0
    rows_rejected: int = 0


@dataclass(frozen=True)
class Content:
    """A landed file's content: its bytes (sources that are not streamed), or a local copy
    on disk for sources that read large files with DuckDB."""

    zone: LandingZone
    landed: LandedFile
    data: bytes

    def local_copy(self) -> AbstractContextManager[Path]:
        return self.zone.local_copy(self.landed.read_path)


class Source(Protocol):
    folder: str  # the landing folder it reads
    streamed: bool  # hashed as a stream and read from disk, never held in memory

    def claims(self, file_name: str) -> bool:
        """Whether a file in ``folder`` with this name is this source's."""

    def size_limit(self, settings: Settings) -> int:
        """Larger files are refused unread."""

    def day_of(self, file_name: str) -> date | None:
        """The day a file's name declares (the manifest's ``snapshot_date``), if any;
        raises InputRejected when the name must declare one and does not."""

    def load(self, content: Content) -> Loaded:
        """Rows and rejections of one file; raises InputRejected for a file that cannot be
        loaded at all."""

    def close(self) -> None: ...


def iter_claimed(sources: list[Source], landed: LandedFile) -> Iterator[Source]:
    return (s for s in sources if s.folder == landed.source and s.claims(landed.name))
