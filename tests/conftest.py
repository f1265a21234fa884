"""Shared fixtures: isolated settings per test (every path under the test's tmp dir)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Collection, Iterable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse.config import Settings, environment_under, load_settings
from bluezone_warehouse.ingest.source import RowsFile


def environment_for(root: Path) -> dict[str, str]:
    """BLUEZONE_* variables that put every input and output of the pipeline under ``root``;
    files are read as soon as they land (tests write them just before ingesting); no
    snapshot gets Excel workbooks unless a test asks (``BLUEZONE_WORKBOOKS``), so that no
    writer outlives its test and runs that do not look at them do not pay for them."""
    return {
        **environment_under(root),
        "BLUEZONE_SETTLE_SECONDS": "0",
        "BLUEZONE_WORKBOOKS": "none",
    }


def airflow(env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """The ``airflow`` command of this environment with ``env``; it must succeed (its output
    ends the failure message otherwise)."""
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def land(settings: Settings, relative: str, content: bytes | str, arrived: datetime) -> Path:
    """Drop a file into the landing zone as if it had arrived at ``arrived``."""
    path = Path(settings.landing_url) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    os.utime(path, (arrived.timestamp(), arrived.timestamp()))
    return path


def query(settings: Settings, sql: str) -> list[tuple]:
    """Rows of ``sql`` on the warehouse, opened read-only for this one query."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rows_of(rows: RowsFile) -> list[dict]:
    """The rows of a source's ``RowsFile``, in its order, as the warehouse inserts them."""
    cursor = duckdb.execute("select * from read_parquet(?)", [str(rows.path)])
    names = [column[0] for column in cursor.description]
    found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert len(found) == rows.count
    return found


def table_rows(
    warehouse: Path, tables: Iterable[str] | None = None, *, exclude: Collection[str] = ()
) -> dict[str, list[tuple]]:
    """Every row of each table ("schema.table"; by default every mart, keyed by its bare
    name), in a stable order, without the columns named in ``exclude``."""
    from bluezone_warehouse.warehouse import mart_tables

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if tables is None:
            tables = {table: f"marts.{table}" for table in mart_tables(con)}
        else:
            tables = {table: table for table in tables}
        contents = {}
        for key, table in tables.items():
            columns = [
                f'"{name}"'
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema || '.' || table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if name not in exclude
            ]
            contents[key] = con.execute(
                f"select {', '.join(columns)} from {table} order by all"
            ).fetchall()
        return contents
    finally:
        con.close()


@pytest.fixture
def bluezone_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = environment_for(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(bluezone_env: dict[str, str]) -> Settings:
    return load_settings(bluezone_env)
