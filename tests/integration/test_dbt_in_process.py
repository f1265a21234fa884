"""dbt runs in the pipeline's process and parses the project once for the life of the
process (DESIGN §8): the next build here reuses the parse, a change to a project file
parses again, and the warehouse is free for the pipeline as soon as a command ends.

dbt writes ``perf_info.json`` into a command's target directory exactly when it parsed the
project for that command, so the tests read that artifact rather than the runner's state.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse import transform
from bluezone_warehouse.config import DBT_PROJECT_DIR, Settings, load_settings
from tests.conftest import environment_for

DAY = date(2020, 8, 4)


def parsed(settings: Settings, run_id: str) -> bool:
    return (settings.run_artifacts_dir / run_id / "dbt" / "target" / "perf_info.json").exists()


def built(settings: Settings, run_id: str) -> bool:
    return (settings.run_artifacts_dir / run_id / "dbt" / "target" / "run_results.json").exists()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environment_for(tmp_path))


def test_the_parse_is_kept_between_builds_and_redone_when_the_project_changes(
    settings: Settings,
) -> None:
    transform.build(settings, DAY, "first")
    assert parsed(settings, "first") and built(settings, "first")

    transform.build(settings, DAY, "second")
    assert built(settings, "second") and not parsed(settings, "second")

    model = DBT_PROJECT_DIR / "models" / "marts" / "fct_coverage_daily.sql"
    before = model.stat()
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        transform.build(settings, DAY, "after-a-change")
    finally:
        os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert parsed(settings, "after-a-change") and built(settings, "after-a-change")


def test_another_warehouse_gets_its_own_parse(settings: Settings, tmp_path: Path) -> None:
    transform.build(settings, DAY, "here")
    # another file name: another catalog, in which dbt names every node of the other parse
    other = load_settings(
        {
            **environment_for(tmp_path / "other"),
            "BLUEZONE_WAREHOUSE_PATH": str(tmp_path / "other" / "county.duckdb"),
        }
    )
    transform.build(other, DAY, "there")
    assert parsed(other, "there")
    # every node of the other build went to the other warehouse, none to the first
    con = duckdb.connect(str(other.warehouse_path), read_only=True)
    try:
        (marts,) = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ).fetchone()
    finally:
        con.close()
    assert marts > 0


def test_the_warehouse_is_free_once_dbt_has_finished(settings: Settings) -> None:
    """dbt-duckdb keeps its database open for the next command; the runner closes it, so
    this process can attach the file again at once (DuckDB attaches a file once)."""
    transform.build(settings, DAY, "build")
    con = duckdb.connect()
    try:
        con.execute("attach ? as warehouse (read_only)", [str(settings.warehouse_path)])
        (marts,) = con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = 'warehouse' and table_schema = 'marts'"
        ).fetchone()
    finally:
        con.close()
    assert marts > 0


def test_a_failing_command_reports_dbt_s_own_words(settings: Settings, tmp_path: Path) -> None:
    outcome = transform.run_dbt(
        settings, ["build", "--select", "no_such_model_anywhere"], DAY, tmp_path / "nothing"
    )
    assert outcome.returncode == 0  # dbt selects nothing and says so
    assert "does not match any enabled nodes" in outcome.output

    outcome = transform.run_dbt(settings, ["build", "--no-such-flag"], DAY, tmp_path / "bad")
    assert outcome.returncode == 2
    assert "no-such-flag" in outcome.output
