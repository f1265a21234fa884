"""Ingest everything that has arrived in the landing zone into the raw layer.

Every arrival of a file is a delivery, recorded once in ``raw.landing_files`` (path, size,
checksum, arrival, status, rows loaded and rejected, reason). Bytes already accepted, at the
same path or another, are stored once: the later arrival is a ``duplicate`` delivery that
loads nothing and names the file whose rows it repeats (``content_file_id``), so that it
still counts as the unit's latest submission (DESIGN §3.3). Changed bytes at a path, or a
corrected export under a new name, are a new version (staging picks the newest).
Files are processed in batches, each batch one transaction, so a crash leaves no partial file
behind and the next run picks the batch up again. A large file is written in committed chunks
to keep memory bounded; its rows count only once its manifest entry is written, and a run
that died half-way through one leaves rows that the next run removes before it starts.

This module is the one run loop: listing, ordering, hashing, deduplication, size limits,
the manifest, lineage, quarantine and the writes are the same for every source. What a
source knows (which files are its, how to turn one into rows) is behind the small interface
of ``ingest/source.py``, implemented in ``ingest/sources.py``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from bluezone_warehouse import tables
from bluezone_warehouse.config import Settings
from bluezone_warehouse.ingest.messages import render as render_message
from bluezone_warehouse.ingest.reports import Rejection
from bluezone_warehouse.ingest.source import (
    Content,
    InputRejected,
    RowsFile,
    Source,
    iter_claimed,
)
from bluezone_warehouse.ingest.sources import ReportSource, open_sources
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.landing import LandedFile, LandingZone, quarantine_file
from bluezone_warehouse.registry import load_registry
from bluezone_warehouse.tables import Table
from bluezone_warehouse.warehouse import writer

log = logging.getLogger(__name__)

ACCEPTED_STATUSES = ("loaded", "partial")
# Rows held before they are written and committed: bounds the memory of Python and DuckDB.
FLUSH_ROWS = 50_000
# What DuckDB may hold for ingestion's writer before it writes to disk: beside the export
# checker's own (``exports.CHECKER_MEMORY``), it keeps one landed file within the 1 GB of
# DESIGN §8 (a 190 MB export of 6 million rejected rows: 1,146 MiB without it, 613 with it).
WRITER_MEMORY = "256MB"
# The raw tables a batch writes, the manifest last.
_WRITE_ORDER = (
    tables.INSTALL_EXPORTS,
    tables.INSTALL_EVENT_COUNTS,
    tables.UNIT_REPORTS,
    tables.REJECTED_ROWS,
    tables.LANDING_FILES,
)


@dataclass
class IngestSummary:
    """What one ingestion run did, for logs and the task's return value."""

    files_listed: int = 0
    statuses: Counter = field(default_factory=Counter)
    rows_loaded: int = 0
    rows_rejected: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "files_listed": self.files_listed,
            "files_new": sum(self.statuses.values()),
            "statuses": dict(self.statuses),
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
        }


@dataclass
class _Batch:
    rows: dict[Table, list[dict]] = field(default_factory=lambda: {t: [] for t in _WRITE_ORDER})
    recorded: list[dict] = field(default_factory=list)  # every manifest entry, kept past flushes

    def add(self, table: Table, row: dict) -> None:
        self.rows[table].append(row)

    @property
    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    @property
    def manifest(self) -> list[dict]:
        return self.rows[tables.LANDING_FILES]

    @property
    def rejected(self) -> list[dict]:
        return self.rows[tables.REJECTED_ROWS]


def file_id_for(path: str, checksum: str, arrived_at: datetime | None = None) -> str:
    """The id of a delivery: its path and content, and for a later arrival of the same bytes
    at the same path, its arrival time too."""
    key = f"{path}\0{checksum}" + (f"\0{arrived_at.isoformat()}" if arrived_at else "")
    return hashlib.sha256(key.encode()).hexdigest()[:24]


class _Ingestor:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        run_id: str,
        loaded_at: datetime,
        sources: list[Source],
    ) -> None:
        self.con = con
        self.settings = settings
        self.run_id = run_id
        self.loaded_at = loaded_at
        self.zone = LandingZone(settings.landing_url)
        self.sources = sources
        # arrival as microseconds since the epoch: the manifest holds every file of the
        # campaign, and turning each arrival into a zoned datetime cost more than the rest
        rows = con.execute(
            "select path, size_bytes, epoch_us(arrived_at), checksum, file_id, status "
            "from raw.landing_files order by arrived_at, path"
        ).fetchall()
        self.seen = {(path, size, arrived_us) for path, size, arrived_us, *_ in rows}
        self.seen_ids = {file_id for _, _, _, _, file_id, _ in rows}
        # Only accepted content deduplicates: the same bytes as a rejected file are rejected
        # again (with their own flag), never waved through as a duplicate.
        self.accepted: dict[str, tuple[str, str]] = {}  # checksum -> (path, file_id)
        for path, _, _, checksum, file_id, status in rows:
            if status in ACCEPTED_STATUSES:
                self.accepted.setdefault(checksum, (path, file_id))

    def pending(self) -> tuple[int, list[LandedFile]]:
        """Files not yet in the manifest that are whole: settled (unchanged for
        ``settle_seconds``) or provably complete already (``LandingZone.whole``). Anything
        else may still be being written, and waits for the next run."""
        folders = sorted({source.folder for source in self.sources})
        listed = sorted(
            (landed for folder in folders for landed in self.zone.list(folder)),
            key=lambda landed: (landed.arrived_at, landed.path),
        )
        unseen = [
            f for f in listed if _seen_key(f.path, f.size_bytes, f.arrived_at) not in self.seen
        ]
        ready, unsettled = ready_files(self.zone, unseen, self.settings.settle_seconds)
        if unsettled:
            log.info(
                "%d file(s) changed in the last %ss and not provably whole: read next run",
                len(unsettled),
                self.settings.settle_seconds,
            )
        return len(listed), ready

    def remove_orphans(self) -> int:
        """Rows of a file whose manifest entry was never written: a run died while it was
        writing a large file in chunks. The file is still pending and is read again."""
        removed = 0
        self.con.begin()
        for table in _WRITE_ORDER:
            if table is tables.LANDING_FILES:
                continue
            removed += self.con.execute(
                f"delete from {table.qualified} "
                "where file_id not in (select file_id from raw.landing_files)"
            ).fetchone()[0]
        self.con.commit()
        if removed:
            log.warning("removed %d rows of files a previous run did not finish", removed)
        return removed

    def run(self, summary: IngestSummary) -> None:
        self.remove_orphans()
        listed, pending = self.pending()
        summary.files_listed = listed
        size = max(1, self.settings.ingest_batch_files)
        for start in range(0, len(pending), size):
            self._run_batch(pending[start : start + size], summary)

    def _run_batch(self, files: list[LandedFile], summary: IngestSummary) -> None:
        batch = _Batch()
        self.con.begin()
        landed = None
        try:
            for landed in files:
                self._ingest_file(landed, batch)
            landed = None
            self._flush(batch)
            self.con.commit()
        except BaseException as err:
            self.con.rollback()
            # a file's content never gets here (it is quarantined); the warehouse or the
            # landing zone failing does, and the failure alert names the file it was on
            err.add_note(
                f"while ingesting {landed.path} ({landed.size_bytes} bytes, arrived "
                f"{landed.arrived_at:%Y-%m-%d %H:%M:%S} UTC)"
                if landed is not None
                else f"while writing a batch of {len(files)} file(s): "
                + ", ".join(f.path for f in files[:5])
            )
            raise
        for entry in batch.recorded:
            self.seen.add(_seen_key(entry["path"], entry["size_bytes"], entry["arrived_at"]))
            summary.statuses[entry["status"]] += 1
            summary.rows_loaded += entry["rows_loaded"]
            summary.rows_rejected += entry["rows_rejected"]

    def _ingest_file(self, landed: LandedFile, batch: _Batch) -> None:
        source = next(iter_claimed(self.sources, landed))
        entry = {
            "landed": landed,
            "source": landed.source,
            "path": landed.path,
            "file_name": landed.name,
            "size_bytes": landed.size_bytes,
            "arrived_at": landed.arrived_at,
            "first_seen_at": self.loaded_at,
            "run_id": self.run_id,
            "rows_loaded": 0,
            "rows_rejected": 0,
            "reason": None,
            "snapshot_date": None,
            "quarantined_to": None,
        }
        # Every file is hashed as a stream and read from disk, never held in memory whole.
        try:
            checksum = self._stream_checksum(landed)
        except FileNotFoundError:
            log.warning("%s disappeared before it could be read; skipped", landed.path)
            return
        file_id = file_id_for(landed.path, checksum)
        if file_id in self.seen_ids:  # the same bytes at the same path again: a new delivery
            file_id = file_id_for(landed.path, checksum, landed.arrived_at)
            if file_id in self.seen_ids:
                return
        entry["file_id"] = file_id
        limit = source.size_limit(self.settings)
        if landed.size_bytes > limit:
            self._record(
                entry,
                checksum,
                batch,
                "refused",
                f"file is {landed.size_bytes} bytes, over the limit of {limit}",
                message=render_message(
                    "file_too_big",
                    self.settings.alert_language,
                    file=landed.name,
                    size=landed.size_bytes,
                    limit=limit,
                ),
            )
            return
        if checksum in self.accepted:
            content_path, entry["content_file_id"] = self.accepted[checksum]
            self._record(
                entry,
                checksum,
                batch,
                "duplicate",
                f"same content as {content_path}",
                quarantine=False,
            )
            return
        lineage = {
            "file_id": file_id,
            "source_file": landed.path,
            "checksum": checksum,
            "arrived_at": landed.arrived_at,
            "loaded_at": self.loaded_at,
        }
        rejection_lineage = {
            "file_id": file_id,
            "source": landed.source,
            "source_file": landed.path,
            "detected_at": self.loaded_at,
        }
        counted = Counter()
        try:
            entry["snapshot_date"] = source.day_of(landed.name)
            loaded = source.load(Content(self.zone, landed))
            for table, record in loaded.records:
                is_rejection = table is tables.REJECTED_ROWS
                same = rejection_lineage if is_rejection else lineage
                many = isinstance(record, RowsFile)
                if many:  # written by DuckDB, now: the file lasts until the next record
                    table.insert_file(self.con, record.path, same)
                else:
                    batch.add(table, {**record, **same})
                counted["rejected" if is_rejection else "loaded"] += record.count if many else 1
                if many or batch.pending >= FLUSH_ROWS:
                    # A large file goes in in chunks, each committed, so that memory stays
                    # bounded; until its manifest entry is written its rows are orphans,
                    # which the next run removes if this one dies (remove_orphans).
                    self._flush(batch)
                    self.con.commit()
                    self.con.begin()
        except InputRejected as err:
            self._discard(batch, file_id, keep_rejections=True)
            batch.rejected.extend({**row, **rejection_lineage} for row in err.rejected)
            rejected = counted["rejected"] + len(err.rejected)
            entry["rows_rejected"] = rejected
            self._record(
                entry,
                checksum,
                batch,
                "quarantined",
                str(err),
                flag_file=not rejected,
                message=err.message,
                sheet=err.sheet,
            )
            return
        except Exception as err:  # one file never stops the others (DESIGN §5)
            log.exception("%s could not be read; quarantined", landed.path)
            self._discard(batch, file_id, keep_rejections=False)
            reason = (
                f"the file could not be read ({type(err).__name__}: {str(err)[:300]}); "
                "it is kept in quarantine for the data team"
            )
            message = render_message(
                "file_unreadable", self.settings.alert_language, file=landed.name
            )
            self._record(entry, checksum, batch, "quarantined", reason, message=message)
            return
        loaded_rows = counted["loaded"] if loaded.rows_loaded is None else loaded.rows_loaded
        rejected = counted["rejected"] if loaded.rows_rejected is None else loaded.rows_rejected
        entry.update(rows_loaded=loaded_rows, rows_rejected=rejected)
        self.accepted.setdefault(checksum, (landed.path, file_id))
        status = "partial" if rejected else "loaded"
        self._record(entry, checksum, batch, status, None, quarantine=False)

    def _discard(self, batch: _Batch, file_id: str, *, keep_rejections: bool) -> None:
        """Take back what a file that turned out unreadable had added to the batch, pending
        or already written in this transaction (row rejections stay when asked)."""
        for table in _WRITE_ORDER:
            if table is tables.LANDING_FILES or (keep_rejections and table is tables.REJECTED_ROWS):
                continue
            batch.rows[table] = [row for row in batch.rows[table] if row["file_id"] != file_id]
            self.con.execute(f"delete from {table.qualified} where file_id = ?", [file_id])

    def _stream_checksum(self, landed: LandedFile) -> str:
        digest = hashlib.sha256()
        with self.zone.fs.open(self.zone.full_path(landed.read_path), "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def _record(
        self,
        entry: dict,
        checksum: str,
        batch: _Batch,
        status: str,
        reason: str | None,
        quarantine: bool = True,
        flag_file: bool = True,
        message: str | None = None,
        sheet: str | None = None,
    ) -> None:
        file_id = entry["file_id"]
        entry.update(checksum=checksum, status=status, reason=reason)
        if status in ("quarantined", "refused"):
            if quarantine and status == "quarantined":
                landed = entry["landed"]
                entry["quarantined_to"] = quarantine_file(
                    self.zone, landed, checksum, self.settings.quarantine_url
                )
            if flag_file:
                file_flag = asdict(
                    Rejection(
                        None,
                        None,
                        None,
                        "malformed_file",
                        reason or status,
                        day=entry["snapshot_date"],
                        sheet=sheet,
                        message=message,
                    )
                )
                batch.rejected.extend(self._with_lineage([file_flag], entry))
        self.seen_ids.add(file_id)
        batch.manifest.append(entry)
        batch.recorded.append(entry)

    def _with_lineage(self, rejected: list[dict], entry: dict) -> list[dict]:
        return [
            {
                **row,
                "file_id": entry["file_id"],
                "source": entry["source"],
                "source_file": entry["path"],
                "detected_at": self.loaded_at,
            }
            for row in rejected
        ]

    def _flush(self, batch: _Batch) -> None:
        """Write every pending row (the manifest too) and empty the batch's lists."""
        for table in _WRITE_ORDER:
            rows = batch.rows[table]
            if rows:
                batch.rows[table] = []
                table.insert(self.con, rows)


def _seen_key(path: str, size_bytes: int, arrived_at: datetime) -> tuple[str, int, int]:
    """A listed file as the manifest knows it: path, size and arrival (microseconds since
    the epoch, as ``epoch_us`` gives it)."""
    return path, size_bytes, (arrived_at - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _now() -> datetime:
    """The wall clock, for what has settled (the only use of it in ingestion)."""
    return datetime.now(UTC)


def ready_files(
    zone: LandingZone, files: list[LandedFile], settle_seconds: int
) -> tuple[list[LandedFile], list[LandedFile]]:
    """``files`` split into those that can be read now (settled, or provably whole) and
    those that may still be being written (DESIGN §3.3)."""
    settled_by = _now() - timedelta(seconds=settle_seconds)
    ready, unsettled = [], []
    for landed in files:
        whole = landed.arrived_at <= settled_by or zone.whole(landed)
        (ready if whole else unsettled).append(landed)
    return ready, unsettled


def settling_reports(settings: Settings, moment: datetime) -> list[LandedFile]:
    """Reports that had arrived by ``moment`` and cannot be read yet: changed in the last
    ``settle_seconds`` and not provably whole (a CSV)."""
    zone = LandingZone(settings.landing_url)
    arrived = [f for f in zone.list("reports") if f.arrived_at <= moment]
    return ready_files(zone, arrived, settings.settle_seconds)[1]


def settled_at(settings: Settings, moment: datetime) -> datetime | None:
    """When every report that had arrived by ``moment`` can be read, or None if they all
    can now: a deadline run waits for that before it decides who reported, so that what it
    says is what the compliance mart will say (DESIGN §4). Only a report still settling
    (a CSV changed in the last ``settle_seconds``) is waited for."""
    settling = settling_reports(settings, moment)
    if not settling:
        return None
    return max(f.arrived_at for f in settling) + timedelta(seconds=settings.settle_seconds)


def settle_wait(settings: Settings, moment: datetime) -> float:
    """Seconds until every report that had arrived by ``moment`` can be read (0: now)."""
    ready = settled_at(settings, moment)
    return 0.0 if ready is None else max(0.0, (ready - _now()).total_seconds())


def provinces_awaited(settings: Settings, moment: datetime) -> set[str] | None:
    """The provinces whose figures at ``moment`` still wait on a report that is settling:
    those its lines written so far name, read as ingestion reads them (never recorded).
    Empty when nothing is settling; None when a settling report names no unit yet, so
    that every province waits. A deadline run sends the other provinces' digests at once."""
    settling = settling_reports(settings, moment)
    if not settling:
        return set()
    zone = LandingZone(settings.landing_url)
    reader = ReportSource(settings, UnitMatcher.from_registry(load_registry(units=settings.units)))
    awaited: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="bluezone-settling-") as tmp:
        for landed in settling:
            if landed.size_bytes > settings.max_file_bytes:
                continue  # refused when read, for its size: it names no unit
            try:
                written = zone.read_bytes(landed.read_path)
            except OSError as err:  # gone or renamed since listed (a temporary file)
                log.info(
                    "%s could not be read while settling (%s): every province waits",
                    landed.path,
                    err,
                )
                return None
            lines = Path(tmp) / landed.name
            lines.write_bytes(written[: written.rfind(b"\n") + 1])
            named = reader.provinces_named(lines, landed)
            if not named:
                log.info("%s is settling and names no unit yet: every province waits", landed.path)
                return None
            awaited |= named
    log.info("reports still settling name provinces %s: their digests wait", sorted(awaited))
    return awaited


def ingest_landing(
    settings: Settings, *, run_id: str, loaded_at: datetime | None = None
) -> IngestSummary:
    """Ingest every file that has arrived and is not yet in the manifest."""
    loaded_at = loaded_at or datetime.now(UTC)
    summary = IngestSummary()
    sources = open_sources(settings)
    try:
        with writer(settings.warehouse_path) as con:
            con.execute(f"set memory_limit = '{WRITER_MEMORY}'")
            _Ingestor(con, settings, run_id, loaded_at, sources).run(summary)
    finally:
        for source in sources:
            source.close()
    log.info("ingested landing zone %s: %s", settings.landing_url, summary.as_dict())
    return summary
