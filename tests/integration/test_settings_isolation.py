"""Two pipelines with different BLUEZONE_LANDING_URL / BLUEZONE_WAREHOUSE_PATH work on their
own data and never touch each other's (DESIGN §7)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.pipeline import run_daily
from tests.conftest import environment_for


def export(province: str, installs: int) -> str:
    return (
        "snapshot_date,level,unit_code,installs,installs_with_phone\n"
        f"2020-08-04,province,{province},{installs},\n"
    )


def test_two_configurations_do_not_touch_each_other(tmp_path: Path) -> None:
    results = {}
    for name, province, installs in (("a", "30", 1234), ("b", "89", 5678)):
        env = environment_for(tmp_path / name)
        landing = Path(env["BLUEZONE_LANDING_URL"]) / "installs"
        landing.mkdir(parents=True)
        (landing / "installs_20200804.csv").write_text(export(province, installs))
        settings = load_settings(env)
        run = run_daily(settings, date(2020, 8, 4), run_id=f"isolation-{name}")
        con = duckdb.connect(run.snapshot, read_only=True)
        results[name] = con.execute(
            "select unit_code, installs from marts.fct_coverage_daily where level = 'province'"
        ).fetchall()
        con.close()
        assert Path(run.snapshot).is_relative_to(tmp_path / name)
        assert settings.warehouse_path.is_relative_to(tmp_path / name)
    assert results == {"a": [("30", 1234)], "b": [("89", 5678)]}
    for name in ("a", "b"):
        files = {p.name for p in (tmp_path / name).rglob("*.duckdb")}
        assert files == {"bluezone.duckdb", "bluezone_marts.duckdb"}


def test_a_backfill_does_not_move_the_published_snapshot_backwards(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    landing = Path(env["BLUEZONE_LANDING_URL"]) / "installs"
    landing.mkdir(parents=True)
    for day, installs in (("04", 100), ("05", 150)):
        (landing / f"installs_202008{day}.csv").write_text(
            export("30", installs).replace("2020-08-04", f"2020-08-{day}")
        )
    settings = load_settings(env)
    latest = run_daily(settings, date(2020, 8, 5), run_id="daily")
    backfill = run_daily(settings, date(2020, 8, 4), run_id="backfill")
    current = (settings.publish_dir / "current").resolve()
    assert Path(latest.snapshot) == current / "bluezone_marts.duckdb"
    assert current.name == "20200805-daily"
    assert Path(backfill.snapshot).parent.name == "20200804-backfill"
    for snapshot, last_day in (
        (latest.snapshot, date(2020, 8, 5)),
        (backfill.snapshot, date(2020, 8, 4)),
    ):
        con = duckdb.connect(snapshot, read_only=True)
        assert con.execute(
            "select max(snapshot_date) from marts.fct_coverage_daily"
        ).fetchone() == (last_day,)
        con.close()
