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
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from bluezone_warehouse.config import SEEDS_DIR, Settings
from bluezone_warehouse.ingest.events import EventsRejected, events_day, load_events
from bluezone_warehouse.ingest.exports import (
    ExportRejected,
    export_day,
    load_export,
    register_known_units,
)
from bluezone_warehouse.ingest.readers import FileRejected, read_report
from bluezone_warehouse.ingest.reports import Rejection, check_report_rows
from bluezone_warehouse.ingest.units import Registry
from bluezone_warehouse.landing import LandedFile, LandingZone, quarantine_file
from bluezone_warehouse.warehouse import writer

log = logging.getLogger(__name__)

ACCEPTED_STATUSES = ("loaded", "partial")

_TS = pa.timestamp("us", tz="UTC")
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
        ("file_id", pa.string()),
        ("source_file", pa.string()),
        ("checksum", pa.string()),
        ("row_number", pa.int32()),
        ("arrived_at", _TS),
        ("loaded_at", _TS),
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
        self.registry = Registry.from_seed(SEEDS_DIR / "reporting_units.csv")
        register_known_units(con, SEEDS_DIR)
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
                loaded, rejected = self._load_export(landed, entry, file_id, checksum)
            else:
                loaded, rejected = self._load_report(landed, data, file_id, checksum, batch)
        except (ExportRejected, EventsRejected, FileRejected) as err:
            flagged = getattr(err, "rows_flagged", False)
            self._record(entry, checksum, batch, "quarantined", str(err), flag_file=not flagged)
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
                batch.rejected.append(
                    self._rejection_row(
                        entry,
                        Rejection(
                            None,
                            None,
                            None,
                            "malformed_file",
                            reason or status,
                            day=entry["snapshot_date"],
                        ),
                    )
                )
        self.seen_ids.add(file_id)
        batch.manifest.append(entry)

    def _rejection_row(self, entry: dict, rejection: Rejection) -> dict:
        return {
            "file_id": file_id_for(entry["path"], entry["checksum"]),
            "source": entry["source"],
            "source_file": entry["path"],
            "row_number": rejection.row_number,
            "column_name": rejection.column_name,
            "raw_value": rejection.raw_value,
            "check_id": rejection.check_id,
            "reason": rejection.reason,
            "unit_code": rejection.unit_code,
            "province_code": rejection.province_code,
            "day": rejection.day,
            "detected_at": self.loaded_at,
        }

    def _load_export(
        self, landed: LandedFile, entry: dict, file_id: str, checksum: str
    ) -> tuple[int, int]:
        event_day = events_day(landed.name)
        if event_day is not None:
            entry["snapshot_date"] = event_day
            with self.zone.local_copy(landed.path) as local:
                events = load_events(
                    self.con,
                    local,
                    day=event_day,
                    file_id=file_id,
                    source_file=landed.path,
                    checksum=checksum,
                    arrived_at=landed.arrived_at,
                    loaded_at=self.loaded_at,
                )
            return events.events_loaded, events.events_rejected
        day = export_day(landed.name)
        entry["snapshot_date"] = day
        with self.zone.local_copy(landed.path) as local:
            result = load_export(
                self.con,
                local,
                day=day,
                file_id=file_id,
                source_file=landed.path,
                checksum=checksum,
                arrived_at=landed.arrived_at,
                loaded_at=self.loaded_at,
            )
        return result.rows_loaded, result.rows_rejected

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
        entry = {"path": landed.path, "checksum": checksum, "source": landed.source}
        rejected = [self._rejection_row(entry, rejection) for rejection in rows.rejected]
        if not rows.good:
            reasons = Counter(r.check_id for r in rows.rejected)
            detail = ", ".join(f"{n} {kind}" for kind, n in reasons.most_common())
            batch.rejected.extend(rejected)
            raise FileRejected(
                f"no usable row: {detail}; first: {rows.rejected[0].reason}", rows_flagged=True
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
        batch.rejected.extend(rejected)
        return len(rows.good), len(rows.rejected)

    def _flush(self, batch: _Batch) -> None:
        for table, rows, schema in (
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
        _Ingestor(con, settings, run_id, loaded_at).run(summary)
    log.info("ingested landing zone %s: %s", settings.landing_url, summary.as_dict())
    return summary
