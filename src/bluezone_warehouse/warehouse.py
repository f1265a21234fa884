"""DuckDB connections to the warehouse (one writer, many read-only readers) and its raw layer.

DuckDB allows one writer per file: every task that writes goes through the Airflow pool
``warehouse_writer`` and opens the file with :func:`connect_writer`; everything else reads
with :func:`connect_reader` or reads the published snapshot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

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
XLSX_DIR = "xlsx"  # the snapshot's workbooks (bluezone_warehouse.workbooks)
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


def publish(
    warehouse_path: Path,
    publish_dir: Path,
    snapshot_id: str,
    *,
    workbooks: Literal["after", "inline", "none"] = "after",
) -> Path:
    """Copy the marts into a new read-only snapshot (DuckDB + Parquet + CSV) and swap it in;
    then its Excel workbooks follow (``xlsx/<mart>.xlsx``, :mod:`bluezone_warehouse.workbooks`).

    The DuckDB file is written in the storage format of ``SNAPSHOT_STORAGE_VERSION``, so
    that BI tools bundling DuckDB 1.x open it.

    The snapshot is written to its own folder, then the ``current`` link is replaced in one
    atomic rename, so a reader sees the old snapshot or the new one, never a mix. Older
    snapshots stay for readers that still hold them open; only the last few are kept.
    ``snapshot_id`` starts with the run's day (YYYYMMDD): a backfill of an older day than
    the one published writes its snapshot but leaves ``current`` where it is. Returns the
    path of the snapshot's DuckDB file (in its own folder, not through ``current``). Which
    snapshot it replaced is noted, for ``withdraw``.

    The workbooks cost seconds to minutes at national scale, so they never delay the swap:
    with ``workbooks="after"`` (the default) a process of their own writes them once the
    snapshot is current, each renamed into place when whole (:func:`wait_for_workbooks`
    waits for the ones this process started); ``"inline"`` waits for that process before
    returning, ``"none"`` starts none. A snapshot that does not become current (a backfill)
    gets none.
    """
    snapshots = publish_dir / "snapshots"
    target = snapshots / snapshot_id
    building = snapshots / f".building-{snapshot_id}"
    if building.exists():
        shutil.rmtree(building)
    building.mkdir(parents=True)
    # Written in a storage format that DuckDB 1.x reads too: BI tools that bundle DuckDB
    # (Superset through duckdb-engine, Harlequin) are still on 1.x.
    con = duckdb.connect(
        str(building / SNAPSHOT_FILE),
        config={"storage_compatibility_version": SNAPSHOT_STORAGE_VERSION},
    )
    try:
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
        (building / XLSX_DIR).mkdir()  # filled once the snapshot is current
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
    replaced = _replaced_note(publish_dir, snapshot_id)
    replaced.write_text(current if current is not None and current != snapshot_id else "")
    _point_current(publish_dir, snapshot_id)
    _prune(snapshots, keep={target.name, *([current] if current else [])})
    if workbooks != "none":
        writer = _start_workbooks(target)
        if workbooks == "inline":
            _workbook_writers.remove(writer)
            if writer.wait() != 0:
                log = publish_dir / ".workbooks.log"
                raise RuntimeError(f"the workbooks of snapshot {snapshot_id} failed: see {log}")
    return target / SNAPSHOT_FILE


_workbook_writers: list[subprocess.Popen] = []


def _start_workbooks(snapshot_dir: Path) -> subprocess.Popen:
    """Start the process that writes the snapshot's workbooks (``python -m
    bluezone_warehouse.workbooks``), detached from this one (it outlives a task that ends
    first); what it did goes to the publish folder's ``.workbooks.log``."""
    _workbook_writers[:] = [writer for writer in _workbook_writers if writer.poll() is None]
    writer = subprocess.Popen(
        [sys.executable, "-m", "bluezone_warehouse.workbooks", str(snapshot_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _workbook_writers.append(writer)
    return writer


def wait_for_workbooks() -> list[int]:
    """Wait for every workbook writer this process started; their exit codes (0: written,
    or stopped because their snapshot stopped being current)."""
    codes = [writer.wait() for writer in _workbook_writers]
    _workbook_writers.clear()
    return codes


def _point_current(publish_dir: Path, snapshot_id: str) -> None:
    """``current`` to ``snapshots/<snapshot_id>``, in one atomic rename."""
    temporary_link = publish_dir / f".{CURRENT_LINK}-{snapshot_id}"
    if temporary_link.is_symlink() or temporary_link.exists():
        temporary_link.unlink()
    temporary_link.symlink_to(Path("snapshots") / snapshot_id)
    os.replace(temporary_link, publish_dir / CURRENT_LINK)


def _replaced_note(publish_dir: Path, snapshot_id: str) -> Path:
    """Where publish notes which snapshot ``snapshot_id`` replaced as ``current``."""
    return publish_dir / "snapshots" / f".replaced-{snapshot_id}"


def replaced_snapshot(publish_dir: Path, snapshot_id: str) -> str | None:
    """The snapshot ``snapshot_id`` replaced as ``current`` when it was published, if any."""
    note = _replaced_note(publish_dir, snapshot_id)
    return (note.read_text().strip() if note.exists() else "") or None


def withdraw(publish_dir: Path, snapshot_id: str) -> str | None:
    """Take a published snapshot away from BI: if ``current`` points at it, point it back
    at the snapshot it replaced (or remove the link when it replaced none, or that one is
    gone), and finish that one's workbooks if they were left unwritten. The snapshot's
    folder is kept for inspection as ``.withdrawn-<id>``, never current again. Returns the
    snapshot BI is on now."""
    snapshots = publish_dir / "snapshots"
    link = publish_dir / CURRENT_LINK
    current = link.resolve().name if link.is_symlink() else None
    if current == snapshot_id:
        previous = replaced_snapshot(publish_dir, snapshot_id)
        if previous and (snapshots / previous).is_dir():
            _point_current(publish_dir, previous)
            current = previous
            # Its writer may have stopped when it was superseded: finish its workbooks.
            _start_workbooks(snapshots / previous)
        else:
            link.unlink()
            current = None
    _replaced_note(publish_dir, snapshot_id).unlink(missing_ok=True)
    withdrawn = snapshots / f".withdrawn-{snapshot_id}"
    if (snapshots / snapshot_id).is_dir():
        if withdrawn.exists():
            shutil.rmtree(withdrawn)
        (snapshots / snapshot_id).rename(withdrawn)
    return current


# What a spreadsheet takes for the start of a formula: text starting so is written as text
# (a leading apostrophe in the CSV, a string cell in the workbooks).
FORMULA_START_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = (  # the same, as a regular expression for DuckDB: ^[=+\-@\t\r]
    "^["
    + "".join({"-": r"\-", "\t": r"\t", "\r": r"\r"}.get(c, c) for c in FORMULA_START_CHARACTERS)
    + "]"
)


def quoted(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


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
        column = quoted(name)
        if kind == "VARCHAR":
            safe.append(
                f"case when regexp_matches({column}, '{FORMULA_START}') "
                f"then '''' || {column} else {column} end as {column}"
            )
        else:
            safe.append(column)
    return ", ".join(safe)


def _prune(snapshots: Path, keep: set[str]) -> None:
    """Remove all but the newest few snapshots, withdrawn ones first, and never one in
    ``keep``, the current one, or the one it replaced (where a withdrawal would go back)."""
    keep = set(keep)
    link = snapshots.parent / CURRENT_LINK
    if link.is_symlink():
        current = link.resolve().name
        note = _replaced_note(snapshots.parent, current)
        keep |= {current, note.read_text().strip() if note.exists() else current}
    done = sorted(
        (
            p
            for p in snapshots.iterdir()
            if p.is_dir() and (not p.name.startswith(".") or p.name.startswith(".withdrawn-"))
        ),
        key=lambda p: (not p.name.startswith(".withdrawn-"), p.stat().st_mtime),
    )
    for old in done[:-KEEP_SNAPSHOTS]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)  # read-only files in a writable folder
            _replaced_note(snapshots.parent, old.name).unlink(missing_ok=True)
