"""Only the work the new data needs (DESIGN §8): a build leaves the reference nodes (the
seeds and the models built from them alone) as the last build left them while the seeds,
the project and the unit set are the same and their tables are there, and builds
everything otherwise. The marts are the same either way."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse import transform
from bluezone_warehouse.config import SEEDS_DIR, Settings, load_settings
from bluezone_warehouse.ingest import ingest_landing
from tests.conftest import environment_for, land, query, table_rows

DAY = date(2020, 8, 2)
NEXT = date(2020, 8, 3)
HEADER = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
REPORT = "report_date,unit_code,installs_reported\n"


def ran(settings: Settings, run_id: str) -> dict[str, dict]:
    """The nodes a build ran, by unique id, from its own run_results.json and manifest."""
    target = transform.dbt_artifacts_dir(settings, run_id) / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    return {result["unique_id"]: nodes[result["unique_id"]] for result in results}


def seed_names() -> set[str]:
    return {path.stem for path in SEEDS_DIR.glob("*.csv")}


def land_day(settings: Settings, day: date, installs: int) -> None:
    arrived = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
    land(
        settings,
        f"installs/installs_{day:%Y%m%d}.csv",
        HEADER + f"{day},province,89,{installs},\n",
        arrived,
    )
    land(
        settings,
        f"reports/an-phu-{day:%Y%m%d}.csv",
        REPORT + f"{day},886,{installs // 10}\n",
        arrived,
    )


def dbt_log(settings: Settings, run_id: str) -> dict[str, list[str]]:
    """The events of a build's dbt log, by level (a statement's SQL continues on the lines
    after its event's)."""
    path = transform.dbt_artifacts_dir(settings, run_id) / "logs" / "dbt.log"
    events: dict[str, list[str]] = {}
    for level, text in re.findall(r"\[(\w+)\s*\] \[[^]]*\]: (.*)", path.read_text()):
        events.setdefault(level, []).append(text)
    return events


def build(settings: Settings, day: date, run_id: str) -> dict[str, dict]:
    ingest_landing(settings, run_id=run_id)
    transform.build(settings, day, run_id)
    return ran(settings, run_id)


def test_reference_nodes_stand_while_their_inputs_do(tmp_path: Path) -> None:
    settings = load_settings(environment_for(tmp_path))
    land_day(settings, DAY, 1000)
    first = build(settings, DAY, "first")
    assert {n["name"] for n in first.values() if n["resource_type"] == "seed"} == seed_names()

    # the next day: new data, the same seeds and project
    land_day(settings, NEXT, 1100)
    second = build(settings, NEXT, "second")
    kinds = {n["resource_type"] for n in second.values()}
    assert "seed" not in kinds and {"model", "test"} <= kinds
    assert not any(n["name"].startswith("stg_seeds__") for n in second.values())
    # the views over the landed data hold a query, not rows: they stand too, and every
    # test of them runs on the new rows; the tables reading them are rebuilt
    reads_sources = {
        uid
        for uid, n in first.items()
        if any(p.startswith("source.") for p in n["depends_on"].get("nodes", []))
    }
    assert reads_sources and {first[uid]["config"]["materialized"] for uid in reads_sources} == {
        "view"
    }
    assert not reads_sources & set(second)
    their_tests = {
        uid
        for uid, n in first.items()
        if n["resource_type"] == "test" and reads_sources & set(n["depends_on"]["nodes"])
    }
    assert their_tests and their_tests <= set(second)
    assert {"model.bluezone.fct_deliveries", "model.bluezone.fct_reporting_compliance"} <= set(
        second
    )
    # a view reading the run's day is built again: the units expected on the new day
    assert first["model.bluezone.int_reports_expected"]["config"]["materialized"] == "view"
    assert "model.bluezone.int_reports_expected" in second
    expected = query(
        settings,
        "select report_date, count(*) from marts.fct_reporting_compliance "
        "group by all order by all",
    )
    assert [day for day, _ in expected] == [settings.campaign_start, DAY, NEXT]
    assert len({count for _, count in expected}) == 1 and expected[0][1] > 0
    assert query(settings, "select run_id, reference_inputs is not null from ops.builds") == [
        ("first", True),
        ("second", False),
    ]
    left_as_they_were = table_rows(settings.warehouse_path)
    # the run's dbt log: a line per node, not every statement, unless asked
    logged = dbt_log(settings, "second")
    assert set(logged) == {"info"}
    assert any("OK created" in line and "fct_deliveries" in line for line in logged["info"])

    # the last build that built them did so from other inputs: everything, same marts (a
    # dbt log with every SQL statement asked for, this time)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("update ops.builds set reference_inputs = 'older seeds' where run_id = 'first'")
    con.close()
    third = build(dataclasses.replace(settings, dbt_log_level="debug"), NEXT, "third")
    statements = dbt_log(settings, "third")["debug"]
    assert any(line.startswith("SQL status: OK") for line in statements)
    assert {n["name"] for n in third.values() if n["resource_type"] == "seed"} == seed_names()
    assert table_rows(settings.warehouse_path) == left_as_they_were

    # a reference table gone from the warehouse: everything again
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("drop table seeds.ref_regions")
    con.close()
    fourth = build(settings, NEXT, "fourth")
    assert "seed.bluezone.ref_regions" in fourth
    assert query(settings, "select count(*) from seeds.ref_regions")[0][0] > 0

    # a view over landed data gone: everything again, the view too
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("drop view staging.stg_raw__unit_reports")
    con.close()
    fifth = build(settings, NEXT, "fifth")
    assert {"model.bluezone.stg_raw__unit_reports", "seed.bluezone.ref_regions"} <= set(fifth)
    assert table_rows(settings.warehouse_path) == left_as_they_were

    # today's refresh on standing reference nodes reloads no seed either
    transform.refresh_today(settings, datetime(2020, 8, 3, 10, 0, tzinfo=UTC), "refresh")
    refreshed = ran(settings, "refresh")
    assert "model.bluezone.fct_province_consolidation" in refreshed
    assert not {n["resource_type"] for n in refreshed.values()} & {"seed"}
    # nor the views over landed data; the tests of the landed files' view still run
    assert "model.bluezone.stg_raw__landing_files" not in refreshed
    landing_tests = {
        uid
        for uid, n in first.items()
        if n["resource_type"] == "test"
        and n["depends_on"]["nodes"] == ["model.bluezone.stg_raw__landing_files"]
    }
    assert len(landing_tests) == 2 and landing_tests <= set(refreshed)


def test_the_reference_fingerprint_follows_the_seeds_and_the_unit_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    monkeypatch.setattr(transform, "SEEDS_DIR", seeds)
    settings = load_settings(environment_for(tmp_path))
    before = transform.reference_inputs(settings)
    assert transform.reference_inputs(settings) == before
    other_units = load_settings({**environment_for(tmp_path), "BLUEZONE_UNITS": "2025"})
    assert transform.reference_inputs(other_units) != before
    registry = seeds / "reporting_units.csv"
    registry.write_text(
        registry.read_text().replace("UBND Huyện An Phú", "UBND Huyện An Phú (mới)", 1)
    )
    assert transform.reference_inputs(settings) != before
