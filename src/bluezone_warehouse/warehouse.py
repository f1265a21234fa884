"""DuckDB connections to the warehouse (one writer, many read-only readers) and its raw layer.

DuckDB allows one writer per file: every task that writes goes through the Airflow pool
``warehouse_writer`` and opens the file with :func:`connect_writer`; everything else reads
with :func:`connect_reader` or reads the published snapshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bluezone_warehouse.tables import RAW_TABLES, ddl

RAW_DDL = ddl(*RAW_TABLES)


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """The single writer connection; creates the file and the raw layer when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute(RAW_DDL)
    return con


def connect_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection, which never takes the writer's lock."""
    return duckdb.connect(str(path), read_only=True)


@contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_writer(path)
    try:
        yield con
    finally:
        con.close()


# --- publishing ----------------------------------------------------------------------------

SNAPSHOT_FILE = "bluezone_marts.duckdb"
# The oldest DuckDB storage format the snapshot is written in: readable by DuckDB 1.0 and
# every later version (the warehouse itself is in DuckDB 2.0's own format).
SNAPSHOT_STORAGE_VERSION = "v1.0.0"
CURRENT_LINK = "current"
KEEP_SNAPSHOTS = 3
PERSONAL_DATA_COLUMNS = ("contact_email", "contact_phone", "escalation_email", "digest_email")


class PublishRefused(RuntimeError):
    """The marts cannot be published (missing, or carrying personal data)."""


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _check_no_personal_data(con: duckdb.DuckDBPyConnection) -> None:
    leaked = con.execute(
        "select table_name || '.' || column_name from information_schema.columns "
        "where table_schema = 'marts' and column_name in "
        f"({', '.join('?' for _ in PERSONAL_DATA_COLUMNS)})",
        list(PERSONAL_DATA_COLUMNS),
    ).fetchall()
    if leaked:
        raise PublishRefused(f"personal data in marts: {', '.join(c for (c,) in leaked)}")


def publish(warehouse_path: Path, publish_dir: Path, snapshot_id: str) -> Path:
    """Copy the marts into a new read-only snapshot (DuckDB + Parquet + CSV) and swap it in.

    The DuckDB file is written in the storage format of ``SNAPSHOT_STORAGE_VERSION``, so
    that BI tools bundling DuckDB 1.x open it.

    The snapshot is written to its own folder, then the ``current`` link is replaced in one
    atomic rename, so a reader sees the old snapshot or the new one, never a mix. Older
    snapshots stay for readers that still hold them open; only the last few are kept.
    ``snapshot_id`` starts with the run's day (YYYYMMDD): a backfill of an older day than
    the one published writes its snapshot but leaves ``current`` where it is. Returns the
    path of the snapshot's DuckDB file.
    """
    snapshots = publish_dir / "snapshots"
    target = snapshots / snapshot_id
    building = snapshots / f".building-{snapshot_id}"
    if building.exists():
        shutil.rmtree(building)
    building.mkdir(parents=True)
    con = duckdb.connect()
    try:
        # Written in a storage format that DuckDB 1.x reads too: BI tools that bundle
        # DuckDB (Superset through duckdb-engine, Harlequin) are still on 1.x.
        quoted = str(building / SNAPSHOT_FILE).replace("'", "''")
        con.execute(
            f"attach '{quoted}' as {Path(SNAPSHOT_FILE).stem} "
            f"(storage_version '{SNAPSHOT_STORAGE_VERSION}')"
        )
        con.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
        con.execute("use warehouse")
        tables = mart_tables(con)
        if not tables:
            raise PublishRefused(f"no marts in {warehouse_path}: run the build first")
        _check_no_personal_data(con)
        snapshot = building / SNAPSHOT_FILE
        con.execute(f"use {snapshot.stem}")
        con.execute("create schema marts")
        parquet_dir, csv_dir = building / "parquet", building / "csv"
        parquet_dir.mkdir()
        csv_dir.mkdir()
        for table in tables:
            con.execute(f"create table marts.{table} as select * from warehouse.marts.{table}")
            con.execute(f"copy marts.{table} to '{parquet_dir / table}.parquet' (format parquet)")
            con.execute(
                f"copy (select {_csv_safe_columns(con, table)} from marts.{table}) "
                f"to '{csv_dir / table}.csv' (header, delimiter ',')"
            )
        con.execute("checkpoint")
    finally:
        con.close()
    for path in building.rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # a snapshot is never written again
    if target.exists():
        shutil.rmtree(target)
    building.rename(target)
    link = publish_dir / CURRENT_LINK
    current = link.resolve().name if link.is_symlink() else None
    if current is not None and current[:8] > snapshot_id[:8]:
        # A backfill of an older day: keep its snapshot, but BI stays on the newest day.
        _prune(snapshots, keep={target.name, current})
        return target / SNAPSHOT_FILE
    temporary_link = publish_dir / f".{CURRENT_LINK}-{snapshot_id}"
    if temporary_link.is_symlink() or temporary_link.exists():
        temporary_link.unlink()
    temporary_link.symlink_to(Path("snapshots") / snapshot_id)
    os.replace(temporary_link, link)
    _prune(snapshots, keep={target.name})
    return link / SNAPSHOT_FILE


def withdraw(publish_dir: Path, snapshot_id: str) -> str | None:
    """Take a published snapshot away from BI: if ``current`` points at it, point it back
    at the newest other snapshot (the one it replaced), or remove the link if there is
    none. The snapshot's folder stays for inspection. Returns the snapshot BI is on now."""
    link = publish_dir / CURRENT_LINK
    if not link.is_symlink():
        return None
    if link.resolve().name != snapshot_id:
        return link.resolve().name  # never current (a backfill), or already replaced
    others = sorted(
        (
            p
            for p in (publish_dir / "snapshots").iterdir()
            if not p.name.startswith(".") and p.name != snapshot_id
        ),
        key=lambda p: p.stat().st_mtime,
    )
    if not others:
        link.unlink()
        return None
    previous = others[-1].name
    temporary_link = publish_dir / f".{CURRENT_LINK}-{previous}"
    if temporary_link.is_symlink() or temporary_link.exists():
        temporary_link.unlink()
    temporary_link.symlink_to(Path("snapshots") / previous)
    os.replace(temporary_link, link)
    return previous


FORMULA_START = r"^[=+\-@\t\r]"


def _csv_safe_columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table's columns for the CSV copy: text that starts like a formula (=, +, -, @,
    tab, CR) gets a leading apostrophe, so a spreadsheet shows it instead of running it."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'marts' "
        "and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    safe = []
    for name, kind in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        if kind == "VARCHAR":
            safe.append(
                f"case when regexp_matches({quoted}, '{FORMULA_START}') "
                f"then '''' || {quoted} else {quoted} end as {quoted}"
            )
        else:
            safe.append(quoted)
    return ", ".join(safe)


def _prune(snapshots: Path, keep: set[str]) -> None:
    """Remove all but the newest few snapshots (and never one in ``keep``)."""
    done = sorted(
        (p for p in snapshots.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in done[:-KEEP_SNAPSHOTS]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)  # read-only files in a writable folder
