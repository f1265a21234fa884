"""Ingest everything that has arrived in the landing zone into the raw layer.

Every file is recorded once in ``raw.landing_files`` (path, size, checksum, arrival, status,
rows loaded and rejected, reason). The same bytes at the same path are never read twice; the
same bytes at another path are recorded as a duplicate and load nothing; changed bytes at a
path, or a corrected export under a new name, are a new version (staging picks the newest).
Files are processed in batches, each batch one transaction, so a crash leaves no partial file
behind and the next run picks the batch up again.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from bluezone_warehouse.config import SEEDS_DIR, Settings
from bluezone_warehouse.ingest.events import EventsRejected, events_day
from bluezone_warehouse.ingest.exports import ExportChecker, ExportRejected, export_day
from bluezone_warehouse.ingest.readers import FileRejected, read_report
from bluezone_warehouse.ingest.reports import Rejection, check_report_rows
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.landing import LandedFile, LandingZone, quarantine_file
from bluezone_warehouse.warehouse import writer

log = logging.getLogger(__name__)

ACCEPTED_STATUSES = ("loaded", "partial")

_TS = pa.timestamp("us", tz="UTC")
# The lineage every loaded row carries (DESIGN §2): the delivery, its file and checksum,
# when it arrived and when it was loaded.
LINEAGE = [
    ("file_id", pa.string()),
    ("source_file", pa.string()),
    ("checksum", pa.string()),
    ("arrived_at", _TS),
    ("loaded_at", _TS),
]
REPORT_SCHEMA = pa.schema(
    [
        ("report_date", pa.date32()),
        ("unit_code", pa.string()),
        ("unit_code_raw", pa.string()),
        ("unit_name_raw", pa.string()),
        ("match_method", pa.string()),
        ("submitted_at", _TS),
        ("submitted_at_source", pa.string()),
        ("installs_reported", pa.int64()),
        ("staff_total", pa.int64()),
        ("staff_installed", pa.int64()),
        ("households_visited", pa.int64()),
        ("note", pa.string()),
        ("row_number", pa.int32()),
        *LINEAGE,
    ]
)
REJECTED_SCHEMA = pa.schema(
    [
        ("file_id", pa.string()),
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("row_number", pa.int32()),
        ("column_name", pa.string()),
        ("raw_value", pa.string()),
        ("check_id", pa.string()),
        ("reason", pa.string()),
        ("unit_code", pa.string()),
        ("province_code", pa.string()),
        ("day", pa.date32()),
        ("detected_at", _TS),
    ]
)
EXPORT_SCHEMA = pa.schema(
    [
        ("snapshot_date", pa.date32()),
        ("level", pa.string()),
        ("unit_code", pa.string()),
        ("installs", pa.int64()),
        ("installs_with_phone", pa.int64()),
        ("row_number", pa.int32()),
        *LINEAGE,
    ]
)
EVENT_COUNTS_SCHEMA = pa.schema(
    [
        ("event_date", pa.date32()),
        ("district_code", pa.string()),
        ("installs", pa.int64()),
        ("uninstalls", pa.int64()),
        ("installs_with_phone", pa.int64()),
        ("uninstalls_with_phone", pa.int64()),
        ("events", pa.int64()),
        *LINEAGE,
    ]
)
MANIFEST_SCHEMA = pa.schema(
    [
        ("file_id", pa.string()),
        ("source", pa.string()),
        ("path", pa.string()),
        ("file_name", pa.string()),
        ("size_bytes", pa.int64()),
        ("checksum", pa.string()),
        ("arrived_at", _TS),
        ("first_seen_at", _TS),
        ("run_id", pa.string()),
        ("status", pa.string()),
        ("rows_loaded", pa.int32()),
        ("rows_rejected", pa.int32()),
        ("reason", pa.string()),
        ("snapshot_date", pa.date32()),
        ("quarantined_to", pa.string()),
    ]
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
    manifest: list[dict] = field(default_factory=list)
    exports: list[dict] = field(default_factory=list)
    event_counts: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_id_for(path: str, checksum: str) -> str:
    return hashlib.sha256(f"{path}\0{checksum}".encode()).hexdigest()[:24]


class _Ingestor:
    def __init__(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, loaded_at: datetime
    ) -> None:
        self.con = con
        self.settings = settings
        self.run_id = run_id
        self.loaded_at = loaded_at
        self.zone = LandingZone(settings.landing_url)
        self.registry = UnitMatcher.from_registry()
        self.checker = ExportChecker(SEEDS_DIR)
        rows = con.execute(
            "select path, size_bytes, arrived_at, checksum, file_id, status "
            "from raw.landing_files order by arrived_at, path"
        ).fetchall()
        self.seen = {(path, size, arrived.astimezone(UTC)) for path, size, arrived, *_ in rows}
        self.seen_ids = {file_id for _, _, _, _, file_id, _ in rows}
        # Only accepted content deduplicates: the same bytes as a rejected file are rejected
        # again (with their own flag), never waved through as a duplicate.
        self.accepted = {
            checksum: path
            for path, _, _, checksum, _, status in rows
            if status in ACCEPTED_STATUSES
        }

    def pending(self) -> tuple[int, list[LandedFile]]:
        listed = sorted(
            self.zone.list("installs") + self.zone.list("reports"),
            key=lambda landed: (landed.arrived_at, landed.path),
        )
        new = [f for f in listed if (f.path, f.size_bytes, f.arrived_at) not in self.seen]
        return len(listed), new

    def run(self, summary: IngestSummary) -> None:
        listed, pending = self.pending()
        summary.files_listed = listed
        size = max(1, self.settings.ingest_batch_files)
        for start in range(0, len(pending), size):
            self._run_batch(pending[start : start + size], summary)

    def _run_batch(self, files: list[LandedFile], summary: IngestSummary) -> None:
        batch = _Batch()
        self.con.begin()
        try:
            for landed in files:
                self._ingest_file(landed, batch)
            self._flush(batch)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        for entry in batch.manifest:
            self.seen.add((entry["path"], entry["size_bytes"], entry["arrived_at"]))
            summary.statuses[entry["status"]] += 1
            summary.rows_loaded += entry["rows_loaded"]
            summary.rows_rejected += entry["rows_rejected"]

    def _ingest_file(self, landed: LandedFile, batch: _Batch) -> None:
        entry = {
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
        limit = (
            self.settings.max_export_bytes
            if landed.source == "installs"
            else self.settings.max_file_bytes
        )
        if landed.size_bytes > limit:
            checksum = self._stream_checksum(landed)
            if file_id_for(landed.path, checksum) in self.seen_ids:
                return  # refused before; only the timestamp moved
            self._record(
                entry,
                checksum,
                batch,
                "refused",
                f"file is {landed.size_bytes} bytes, over the limit of {limit}",
            )
            return
        # Exports can be large: they are hashed as a stream and read by DuckDB from disk.
        data = b"" if landed.source == "installs" else self.zone.read_bytes(landed.path)
        checksum = self._stream_checksum(landed) if landed.source == "installs" else _sha256(data)
        file_id = file_id_for(landed.path, checksum)
        if file_id in self.seen_ids:  # same bytes, only the timestamp moved: nothing new
            return
        if checksum in self.accepted:
            self._record(
                entry,
                checksum,
                batch,
                "duplicate",
                f"same content as {self.accepted[checksum]}",
                quarantine=False,
            )
            return
        try:
            if landed.source == "installs":
                loaded, rejected = self._load_export(landed, entry, file_id, checksum, batch)
            else:
                loaded, rejected = self._load_report(landed, data, file_id, checksum, batch)
        except (ExportRejected, EventsRejected, FileRejected) as err:
            rows = getattr(err, "rejected", [])  # rows rejected one by one, all of them
            entry["rows_rejected"] = len(rows)
            batch.rejected.extend(self._with_lineage(rows, entry, checksum))
            self._record(entry, checksum, batch, "quarantined", str(err), flag_file=not rows)
            return
        entry.update(rows_loaded=loaded, rows_rejected=rejected)
        self.accepted[checksum] = landed.path
        self._record(
            entry, checksum, batch, "partial" if rejected else "loaded", None, quarantine=False
        )

    def _stream_checksum(self, landed: LandedFile) -> str:
        digest = hashlib.sha256()
        with self.zone.fs.open(self.zone.full_path(landed.path), "rb") as handle:
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
    ) -> None:
        file_id = file_id_for(entry["path"], checksum)
        entry.update(file_id=file_id, checksum=checksum, status=status, reason=reason)
        if status in ("quarantined", "refused"):
            if quarantine and status == "quarantined":
                landed = LandedFile(
                    entry["source"], entry["path"], entry["size_bytes"], entry["arrived_at"]
                )
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
                    )
                )
                batch.rejected.extend(self._with_lineage([file_flag], entry, checksum))
        self.seen_ids.add(file_id)
        batch.manifest.append(entry)

    def _load_export(
        self, landed: LandedFile, entry: dict, file_id: str, checksum: str, batch: _Batch
    ) -> tuple[int, int]:
        lineage = {
            "file_id": file_id,
            "source_file": landed.path,
            "checksum": checksum,
            "arrived_at": landed.arrived_at,
            "loaded_at": self.loaded_at,
        }
        event_day = events_day(landed.name)
        day = event_day if event_day is not None else export_day(landed.name)
        entry["snapshot_date"] = day
        with self.zone.local_copy(landed.path) as local:
            if event_day is not None:
                events = self.checker.check_events(local, day)
                batch.event_counts.extend({**row, **lineage} for row in events.counts)
                rejected, loaded, bad = (
                    events.rejected,
                    events.events_loaded,
                    events.events_rejected,
                )
            else:
                checked = self.checker.check(local, day)
                batch.exports.extend({**row, **lineage} for row in checked.rows)
                rejected, loaded, bad = checked.rejected, len(checked.rows), len(checked.rejected)
        batch.rejected.extend(self._with_lineage(rejected, entry, checksum))
        return loaded, bad

    def _with_lineage(self, rejected: list[dict], entry: dict, checksum: str) -> list[dict]:
        return [
            {
                **row,
                "file_id": file_id_for(entry["path"], checksum),
                "source": entry["source"],
                "source_file": entry["path"],
                "detected_at": self.loaded_at,
            }
            for row in rejected
        ]

    def _load_report(
        self, landed: LandedFile, data: bytes, file_id: str, checksum: str, batch: _Batch
    ) -> tuple[int, int]:
        parsed = read_report(landed.name, data, self.settings.max_xlsx_uncompressed_bytes)
        if not parsed.rows:
            raise FileRejected("the file has a header but no data rows")
        rows = check_report_rows(
            parsed,
            self.registry,
            file_name=landed.name,
            arrived_at=landed.arrived_at,
            campaign=(self.settings.campaign_start, self.settings.campaign_end),
        )
        entry = {"path": landed.path, "source": landed.source}
        rejected = [asdict(rejection) for rejection in rows.rejected]
        if not rows.good:
            reasons = Counter(r.check_id for r in rows.rejected)
            detail = ", ".join(f"{n} {kind}" for kind, n in reasons.most_common())
            raise FileRejected(
                f"no usable row: {detail}; first: {rows.rejected[0].reason}", rejected=rejected
            )
        for record in rows.good:
            batch.reports.append(
                {
                    **{name: record.get(name) for name in REPORT_SCHEMA.names},
                    "file_id": file_id,
                    "source_file": landed.path,
                    "checksum": checksum,
                    "arrived_at": landed.arrived_at,
                    "loaded_at": self.loaded_at,
                }
            )
        batch.rejected.extend(self._with_lineage(rejected, entry, checksum))
        return len(rows.good), len(rows.rejected)

    def _flush(self, batch: _Batch) -> None:
        for table, rows, schema in (
            ("raw.install_exports", batch.exports, EXPORT_SCHEMA),
            ("raw.install_event_counts", batch.event_counts, EVENT_COUNTS_SCHEMA),
            ("raw.unit_reports", batch.reports, REPORT_SCHEMA),
            ("raw.rejected_rows", batch.rejected, REJECTED_SCHEMA),
            ("raw.landing_files", batch.manifest, MANIFEST_SCHEMA),
        ):
            if not rows:
                continue
            arrow_rows = pa.Table.from_pylist(
                [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
            )
            self.con.register("incoming_rows", arrow_rows)
            try:
                self.con.execute(f"insert into {table} by name select * from incoming_rows")
            finally:
                self.con.unregister("incoming_rows")


def ingest_landing(
    settings: Settings, *, run_id: str, loaded_at: datetime | None = None
) -> IngestSummary:
    """Ingest every file that has arrived and is not yet in the manifest."""
    loaded_at = loaded_at or datetime.now(UTC)
    summary = IngestSummary()
    with writer(settings.warehouse_path) as con:
        ingestor = _Ingestor(con, settings, run_id, loaded_at)
        try:
            ingestor.run(summary)
        finally:
            ingestor.checker.close()
    log.info("ingested landing zone %s: %s", settings.landing_url, summary.as_dict())
    return summary
