"""The warehouse's own tables (``raw.*`` and ``ops.*``): one spec per table.

Each ``Table`` generates its DuckDB DDL and the insert of a batch of rows, so the raw layer
written by ingestion, the operational logs written by the build, the checks and the alerts,
and the batches handed to DuckDB cannot disagree about a column. dbt reads ``raw.*`` as sources
(``dbt_project/models/staging/_staging__sources.yml``); the marts are dbt's.

Adding a column: add it here (and, for a raw table, to the source and its staging model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

# The SQL types a column can have (timestamps are UTC instants, microseconds).
TYPES = ("varchar", "bigint", "integer", "double", "boolean", "date", "timestamptz")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    doc: str = ""

    def ddl(self) -> str:
        constraint = " primary key" if self.primary_key else "" if self.nullable else " not null"
        return f"{self.name} {self.type}{constraint}"


def col(name: str, type_: str, *, null: bool = True, key: bool = False, doc: str = "") -> Column:
    if type_ not in TYPES:
        raise ValueError(f"column {name}: unknown type {type_!r}")
    return Column(name, type_, nullable=null and not key, primary_key=key, doc=doc)


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def ddl(self) -> str:
        """Create the table if missing; add any column a warehouse made by an earlier
        version lacks (nullable: its old rows have no value)."""
        body = ",\n".join(f"    {column.ddl()}" for column in self.columns)
        added = "".join(
            f"alter table {self.qualified} add column if not exists {column.name} {column.type};\n"
            for column in self.columns
            if column.nullable
        )
        return (
            f"create schema if not exists {self.schema};\n"
            f"create table if not exists {self.qualified} (\n{body}\n);\n" + added
        )

    def insert(self, con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> None:
        """Insert ``rows`` (by column name; a column a row lacks is null). Each column goes
        to DuckDB as one list of Python values, cast to the column's type in the insert
        (no Arrow table: building one imports pandas, 0.2-0.5 s of every ingestion).
        A timestamp without a zone is a UTC instant."""
        values = []
        for column in self.columns:
            cells = [row.get(column.name) for row in rows]
            if column.type == "timestamptz":
                cells = [_utc(cell) for cell in cells]
            values.append(cells)
        unnested = ", ".join(
            f"unnest(${n}::{column.type}[]) as {column.name}"
            for n, column in enumerate(self.columns, start=1)
        )
        con.execute(f"insert into {self.qualified} by name select {unnested}", values)

    def insert_file(self, con: duckdb.DuckDBPyConnection, path: Path, same: dict) -> None:
        """Insert the rows of the Parquet file ``path`` (columns named as this table's; a
        column it lacks is null), each with the values of ``same`` (lineage) added, by
        DuckDB alone: no row passes through Python."""
        read = con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        present = {name for name, *_ in read}
        selected = [
            f"${column.name}::{column.type} as {column.name}"
            if column.name in same
            else f"{column.name}::{column.type} as {column.name}"
            for column in self.columns
            if column.name in same or column.name in present
        ]
        values = {
            name: _utc(value) if isinstance(value, datetime) else value
            for name, value in same.items()
        }
        con.execute(
            f"insert into {self.qualified} by name select {', '.join(selected)} "
            "from read_parquet($rows_file)",
            {**values, "rows_file": str(path)},
        )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


# The lineage every loaded row carries (DESIGN §2): the delivery, its file and checksum,
# when it arrived and when it was loaded.
LINEAGE = (
    col("file_id", "varchar", null=False),
    col("source_file", "varchar", null=False),
    col("checksum", "varchar", null=False),
    col("arrived_at", "timestamptz", null=False),
    col("loaded_at", "timestamptz", null=False),
)

LANDING_FILES = Table(
    "raw",
    "landing_files",
    (
        col("file_id", "varchar", key=True),
        col("source", "varchar", null=False),
        col("path", "varchar", null=False),
        col("file_name", "varchar", null=False),
        col("size_bytes", "bigint", null=False),
        col("checksum", "varchar", null=False),
        col("arrived_at", "timestamptz", null=False),
        col("first_seen_at", "timestamptz", null=False),
        col("run_id", "varchar", null=False),
        col("status", "varchar", null=False),
        col("rows_loaded", "integer", null=False),
        col("rows_rejected", "integer", null=False),
        col("reason", "varchar"),
        col("snapshot_date", "date"),
        col("quarantined_to", "varchar"),
        col(
            "content_file_id",
            "varchar",
            doc="a duplicate delivery: the accepted file whose rows it repeats (DESIGN §3.3)",
        ),
    ),
)

INSTALL_EXPORTS = Table(
    "raw",
    "install_exports",
    (
        col("snapshot_date", "date", null=False),
        col("level", "varchar", null=False),
        col("unit_code", "varchar", null=False),
        col("installs", "bigint", null=False),
        col("installs_with_phone", "bigint"),
        col("row_number", "integer", null=False),
        *LINEAGE,
    ),
)

INSTALL_EVENT_COUNTS = Table(
    "raw",
    "install_event_counts",
    (
        col("event_date", "date", null=False),
        col("district_code", "varchar"),
        col("installs", "bigint", null=False),
        col("uninstalls", "bigint", null=False),
        col("installs_with_phone", "bigint", null=False),
        col("uninstalls_with_phone", "bigint", null=False),
        col("events", "bigint", null=False),
        *LINEAGE,
    ),
)

UNIT_REPORTS = Table(
    "raw",
    "unit_reports",
    (
        col("report_date", "date", null=False),
        col("unit_code", "varchar", null=False),
        col("unit_code_raw", "varchar"),
        col("unit_name_raw", "varchar"),
        col("match_method", "varchar", null=False),
        col("submitted_at", "timestamptz", null=False),
        col("submitted_at_source", "varchar", null=False),
        col("installs_reported", "bigint"),
        col("staff_total", "bigint"),
        col("staff_installed", "bigint"),
        col("households_visited", "bigint"),
        col("note", "varchar"),
        col("row_number", "integer", null=False),
        *LINEAGE,
    ),
)

REJECTED_ROWS = Table(
    "raw",
    "rejected_rows",
    (
        col("file_id", "varchar", null=False),
        col("source", "varchar", null=False),
        col("source_file", "varchar", null=False),
        col("row_number", "integer"),
        col("column_name", "varchar"),
        col("raw_value", "varchar"),
        col("check_id", "varchar", null=False),
        col("reason", "varchar", null=False),
        col("unit_code", "varchar"),
        col("province_code", "varchar"),
        col("day", "date"),
        col("detected_at", "timestamptz", null=False),
        col("sheet", "varchar", doc="the workbook sheet read (none for CSV and JSON)"),
        col("header", "varchar", doc="the column header exactly as the sender wrote it"),
        col(
            "message",
            "varchar",
            doc="what the sender reads: file, sheet, row, header, value and what to write",
        ),
    ),
)

GX_RESULTS = Table(
    "ops",
    "gx_results",
    (
        col("run_id", "varchar", null=False),
        col("run_date", "date", null=False),
        col("suite", "varchar", null=False),
        col("relation", "varchar", null=False),
        col("expectation", "varchar", null=False),
        col("column_name", "varchar"),
        col("success", "boolean", null=False),
        col("observed_value", "varchar"),
        col("details", "varchar"),
        col("validated_at", "timestamptz", null=False),
        col("kind", "varchar", doc="structural (blocks publication) | data (a warning)"),
    ),
)

ALERT_LOG = Table(
    "ops",
    "alert_log",
    (
        col("scope_code", "varchar", null=False),
        col("day", "date", null=False),
        col("kind", "varchar", null=False),
        col("channel", "varchar", null=False),
        col("status", "varchar", null=False, doc="sent | recorded (not sent) | failed"),
        col("attempts", "integer", null=False),
        col("error", "varchar"),
        col("subject", "varchar", null=False),
        col("message_id", "varchar", null=False),
        col("recipients", "varchar"),
        col("run_id", "varchar", null=False),
        col("logged_at", "timestamptz", null=False),
    ),
)

BUILDS = Table(
    "ops",
    "builds",
    (
        col("run_id", "varchar", null=False),
        col("run_date", "date", null=False),
        col("rebuild_from", "date", null=False),
        col("full_refresh", "boolean", null=False),
        col("finished_at", "timestamptz", null=False),
        col(
            "reference_inputs",
            "varchar",
            doc="fingerprint of the seeds and the project the build built the reference "
            "nodes (seeds, models of seeds alone) from; null when it left them as they were",
        ),
    ),
)

FILES_BUILT = Table(
    "ops",
    "files_built",
    (
        col("file_id", "varchar", null=False),
        col("run_id", "varchar", null=False),
    ),
)

DBT_RESULTS = Table(
    "ops",
    "dbt_results",
    (
        col("run_id", "varchar", null=False),
        col("run_date", "date", null=False),
        col("unique_id", "varchar", null=False),
        col("resource_type", "varchar"),
        col("status", "varchar", null=False),
        col("failures", "bigint"),
        col("message", "varchar"),
        col("execution_seconds", "double"),
        col("invocation_id", "varchar", null=False),
        col("generated_at", "timestamptz"),
    ),
)

DAILY_RUNS = Table(
    "ops",
    "daily_runs",
    (
        col("run_id", "varchar", null=False),
        col("run_date", "date", null=False),
        col(
            "inputs",
            "varchar",
            null=False,
            doc="fingerprint of what the run's outputs depend on: the landed files in the "
            "manifest, the code and rules, the settings and the day",
        ),
        col("snapshot", "varchar", null=False),
        col("report", "varchar", null=False),
        col("finished_at", "timestamptz", null=False),
    ),
)

RAW_TABLES = (LANDING_FILES, INSTALL_EXPORTS, INSTALL_EVENT_COUNTS, UNIT_REPORTS, REJECTED_ROWS)
OPS_TABLES = (BUILDS, FILES_BUILT, DBT_RESULTS, GX_RESULTS, ALERT_LOG, DAILY_RUNS)


def ddl(*tables: Table) -> str:
    return "".join(table.ddl() for table in tables)
