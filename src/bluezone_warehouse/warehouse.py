"""DuckDB connections to the warehouse (one writer, many read-only readers) and its raw layer.

DuckDB allows one writer per file: every task that writes goes through the Airflow pool
``warehouse_writer`` and opens the file with :func:`connect_writer`; everything else reads
with :func:`connect_reader` or reads the published snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
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
PARQUET_DIR, CSV_DIR = "parquet", "csv"  # <mart>.parquet, <mart>.csv
XLSX_DIR = "xlsx"  # the snapshot's workbooks (bluezone_warehouse.workbooks)
# Each mart's CSV rows as one file per day (its first DATE column), and what they hold: the
# next snapshot reuses the days that have not changed (``_publish_mart``).
PARTS_DIR = ".parts"
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
        "select table_name from information_schema.tables where table_catalog = "
        "current_database() and table_schema = 'marts' and table_type = 'BASE TABLE' "
        "order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _check_no_personal_data(con: duckdb.DuckDBPyConnection) -> None:
    leaked = con.execute(
        "select table_name || '.' || column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = 'marts' and column_name in "
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

    Only what changed is written: the new snapshot starts as a copy of the current one, and
    each mart's days whose rows differ from it are replaced (``_publish_mart``); a mart
    that did not change keeps the current snapshot's files, linked, not copied.

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
    link = publish_dir / CURRENT_LINK
    base = (
        link.resolve() if link.is_symlink() and (link.resolve() / SNAPSHOT_FILE).is_file() else None
    )
    snapshot = building / SNAPSHOT_FILE
    if base is not None:
        # Copy-on-write: the snapshot BI is on, whose unchanged days stay as they are.
        shutil.copyfile(base / SNAPSHOT_FILE, snapshot)
        snapshot.chmod(0o644)
    # Written in a storage format that DuckDB 1.x reads too: BI tools that bundle DuckDB
    # (Superset through duckdb-engine, Harlequin) are still on 1.x.
    con = duckdb.connect(
        str(snapshot), config={"storage_compatibility_version": SNAPSHOT_STORAGE_VERSION}
    )
    try:
        con.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
        con.execute("use warehouse")
        tables = mart_tables(con)
        if not tables:
            raise PublishRefused(f"no marts in {warehouse_path}: run the build first")
        _check_no_personal_data(con)
        con.execute(f"use {snapshot.stem}")
        con.execute("create schema if not exists marts")
        copied = set(mart_tables(con))  # the current snapshot's marts
        for gone in sorted(copied - set(tables)):
            con.execute(f"drop table marts.{quoted(gone)}")
        for directory in (PARQUET_DIR, CSV_DIR, PARTS_DIR, XLSX_DIR):  # xlsx: once current
            (building / directory).mkdir()
        # Each changed mart's Parquet file is written by a thread of its own while the next
        # marts are published (DuckDB works without the GIL), each on a cursor of its own.
        with ThreadPoolExecutor(1, thread_name_prefix="parquet") as pool:

            def parquet(table: str, file: Path) -> Future:
                mart = f"{quoted(snapshot.stem)}.marts.{quoted(table)}"
                return pool.submit(_copy_to_parquet, con.cursor(), mart, file)

            writes = [
                _publish_mart(con, table, building, base if table in copied else None, parquet)
                for table in tables
            ]
            for written in writes:
                if written is not None:
                    written.result()
        con.execute("checkpoint")
    finally:
        con.close()
    for path in building.rglob("*"):
        if path.is_file():
            path.chmod(0o444)  # a snapshot is never written again
    if target.exists():
        shutil.rmtree(target)
    building.rename(target)
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


# Bump when what ``_publish_mart`` writes for the same rows changes (its parts are reused).
PARTS_FORMAT = 1
NO_DAY = "no-day"  # the group of rows without a day (sorts after every ISO date)


def _publish_mart(
    con: duckdb.DuckDBPyConnection,
    table: str,
    building: Path,
    base: Path | None,
    parquet: Callable[[str, Path], Future],
) -> Future | None:
    """Publish one mart into the snapshot being built: its table, Parquet and CSV.

    The snapshot started as a copy of ``base`` (the current snapshot, if it has the
    mart). The mart's
    rows are grouped by day, its first DATE column (one group when it has none), and each
    group is summed up as a count and a sum of row hashes, computed in the warehouse; a
    group whose sum equals the one recorded with ``base``'s copy of the mart is the same
    rows. Only the other groups are deleted and inserted in the table and written as CSV
    parts (``.parts/<mart>/<day>.csv``, in ``publish_order``); the CSV is its header and
    the parts in order of day, rows without a day last. Which column is the day only
    decides how much is rewritten, never what is published: a group that differs is
    replaced whole. A mart whose columns or CSV form changed, or that ``base`` lacks, is
    written whole; one with no changed group keeps ``base``'s files, hard-linked. The
    Parquet file of a changed mart is written again from the table (a Parquet file cannot
    be appended to), by ``parquet(table, file)``: the write's future, or None when nothing
    is written."""
    name = quoted(table)
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = 'warehouse' and table_schema = 'marts' and table_name = ? "
        "order by ordinal_position",
        [table],
    ).fetchall()
    day = day_column(columns)
    order = publish_order(columns)
    key = f"coalesce(cast({quoted(day)} as varchar), '{NO_DAY}')" if day else f"'{NO_DAY}'"
    safe = _csv_safe_columns(columns)
    form = hashlib.sha256(
        json.dumps([PARTS_FORMAT, duckdb.__version__, columns, safe, order]).encode()
    ).hexdigest()
    groups = {
        group: [count, str(total)]
        for group, count, total in con.execute(
            f"select {key}, count(*), sum(hash(*columns(*))) from warehouse.marts.{name} "
            f"group by all order by {f'min({quoted(day)}) nulls last' if day else 1}"
        ).fetchall()
    }

    def rows_of(groups: Collection[str]) -> str:  # a filter on the day column itself
        if day is None:
            return "true" if groups else "false"
        days = ", ".join(f"date '{group}'" for group in groups if group != NO_DAY) or "null"
        is_null = f" or {quoted(day)} is null" if NO_DAY in groups else ""
        return f"({quoted(day)} in ({days}){is_null})"

    parts = building / PARTS_DIR / table
    parts.mkdir()
    before = _parts_record(base, table, form)
    if before is None:  # the whole mart, clustered by day (each part reads its own blocks)
        con.execute(f"drop table if exists marts.{name}")
        con.execute(
            f"create table marts.{name} as select * from warehouse.marts.{name} order by {order}"
        )
        changed, dropped = sorted(groups), []
    else:
        changed = sorted(g for g in groups if before.get(g) != groups[g])
        dropped = sorted(set(before) - set(groups))
        if changed or dropped:
            con.execute(f"delete from marts.{name} where {rows_of(changed + dropped)}")
            con.execute(
                f"insert into marts.{name} select * from warehouse.marts.{name} "
                f"where {rows_of(changed)} order by {order}"
            )
        for group in sorted(set(groups) - set(changed)):
            os.link(base / PARTS_DIR / table / f"{group}.csv", parts / f"{group}.csv")
    (building / PARTS_DIR / f"{table}.json").write_text(
        json.dumps({"format": form, "groups": groups})
    )
    csv_file = building / CSV_DIR / f"{table}.csv"
    parquet_file = building / PARQUET_DIR / f"{table}.parquet"
    if before is not None and not changed and not dropped:
        os.link(base / CSV_DIR / f"{table}.csv", csv_file)
        os.link(base / PARQUET_DIR / f"{table}.parquet", parquet_file)
        return None
    written = parquet(table, parquet_file)
    text = [quoted(column) for column, kind in columns if kind == "VARCHAR"]
    breaks = " or ".join(f"contains({column}, chr(10))" for column in text) or "false"
    one_line_rows = (
        before is None
        and not con.execute(
            f"select coalesce(bool_or({breaks}), false) from marts.{name}"
        ).fetchone()[0]
    )
    if one_line_rows:
        # Written whole: one ordered copy, cut into the days' parts by their row counts (a
        # row is a line when no text holds a line break).
        con.execute(
            f"copy (select {safe} from marts.{name} order by {order}) "
            f"to '{csv_file}' (header, delimiter ',')"
        )
        with open(csv_file, "rb") as whole:
            whole.readline()  # the header
            for group, (count, _) in groups.items():
                with open(parts / f"{group}.csv", "wb") as part:
                    part.writelines(islice(whole, count))
    else:
        for group in changed:
            con.execute(
                f"copy (select {safe} from marts.{name} where {rows_of([group])} "
                f"order by {order}) to '{parts / group}.csv' (header false, delimiter ',')"
            )
        con.execute(
            f"copy (select {safe} from marts.{name} limit 0) "
            f"to '{csv_file}' (header, delimiter ',')"
        )
        _concatenate([parts / f"{group}.csv" for group in groups], csv_file)  # in order of day
    return written


def _copy_to_parquet(cursor: duckdb.DuckDBPyConnection, table: str, file: Path) -> None:
    try:
        cursor.execute(f"copy {table} to '{file}' (format parquet)")
    finally:
        cursor.close()


def day_column(columns: Sequence[tuple[str, str]]) -> str | None:
    """The column a mart's published rows are grouped and ordered by: its first DATE
    column, if any (``columns``: name and type, in order)."""
    return next((column for column, kind in columns if kind == "DATE"), None)


def publish_order(columns: Sequence[tuple[str, str]]) -> str:
    """The order of a mart's rows in its CSV and workbook: by day (``day_column``, rows
    without one last), then by every column in turn; rows that tie are the same."""
    day = day_column(columns)
    keys = ([quoted(day)] if day else []) + [quoted(column) for column, _ in columns]
    return ", ".join(f"{key} nulls last" for key in keys)


def _concatenate(sources: list[Path], target: Path) -> None:
    """Append ``sources`` to ``target``, in order."""
    with open(target, "ab") as out:
        for source in sources:
            with open(source, "rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)


def _parts_record(base: Path | None, table: str, form: str) -> dict[str, list] | None:
    """The groups ``base`` holds of ``table`` (see ``_publish_mart``), when its copy of the
    mart was written in the same form and its parts are all there; otherwise None."""
    if base is None:
        return None
    try:
        record = json.loads((base / PARTS_DIR / f"{table}.json").read_text())
    except (OSError, ValueError):
        return None
    if record.get("format") != form:
        return None
    groups = record.get("groups") or {}
    if not all((base / PARTS_DIR / table / f"{group}.csv").is_file() for group in groups):
        return None
    return groups


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


def _csv_safe_columns(columns: Sequence[tuple[str, str]]) -> str:
    """A mart's columns (name and type, in order) for its CSV copy: text that starts like a
    formula (=, +, -, @, tab, CR) gets a leading apostrophe, so a spreadsheet shows it
    instead of running it."""
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
