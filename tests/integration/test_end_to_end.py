"""End to end: simulate 2 provinces x 5 days, run ``bluezone_daily`` under a real
``airflow dags test``, and compare every mart figure with values computed independently
from the simulator's ground truth and the reference seeds."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import SEEDS_DIR, airflow_environment
from bluezone_warehouse.schedule import logical_date_for
from tests.conftest import environment_for
from tests.truth import add_sums, exported_figures, read_csv

PROVINCES = ["30", "89"]  # Hải Dương (16:00 deadline) and An Giang (15:00)
START, END = date(2020, 8, 1), date(2020, 8, 5)
FAULTS = dataclasses.replace(
    FaultRates.none(),
    late_report=0.15,
    missing_report=0.1,
    conflicting_resubmission=0.05,
    redelivery=0.4,
    stale_export=0.3,
)

pytestmark = pytest.mark.airflow


def daily_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``bluezone_daily`` for END as a real Airflow run."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("airflow")),
            "dags",
            "test",
            "bluezone_daily",
            logical_date_for(END).isoformat(),
        ],
        env=airflow_environment({**airflow_environment(), **env}),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    env = environment_for(root)
    result = simulate_campaign(
        Path(env["BLUEZONE_LANDING_URL"]),
        start=START,
        end=END,
        provinces=PROVINCES,
        seed=11,
        faults=FAULTS,
    )
    completed = daily_run(env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    snapshot = Path(env["BLUEZONE_PUBLISH_DIR"]) / "current" / "bluezone_marts.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    yield {"con": con, "truth": result.truth_dir, "env": env, "result": result}
    con.close()


def expected_coverage(truth_dir: Path) -> dict[tuple[str, str, date], dict]:
    """Every level's installs, new installs and coverage, from the truth and the seeds."""
    expected = exported_figures(truth_dir)
    provinces = {p["province_code"]: p for p in read_csv(SEEDS_DIR / "ref_provinces.csv")}
    add_sums(
        expected,
        {code: [("region", p["region_code"]), ("nation", "VN")] for code, p in provinces.items()},
    )
    return expected


def populations() -> dict[tuple[str, str], tuple[int, int, int]]:
    result = {}
    provinces = read_csv(SEEDS_DIR / "ref_provinces.csv")
    for row in provinces:
        result[("province", row["province_code"])] = (
            int(row["population_total"]),
            int(row["population_15plus"]),
            int(row["population_18plus"]),
        )
    for row in read_csv(SEEDS_DIR / "ref_districts.csv"):
        if row["population_total"]:
            result[("district", row["district_code"])] = (
                int(row["population_total"]),
                int(row["population_15plus"]),
                int(row["population_18plus"]),
            )
    # A region or the nation divides by the provinces it includes (DESIGN §4): here, the
    # simulated ones, every day.
    for level, key in (("region", "region_code"), ("nation", None)):
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in (p for p in provinces if p["province_code"] in PROVINCES):
            code = row[key] if key else "VN"
            for i, column in enumerate(
                ("population_total", "population_15plus", "population_18plus")
            ):
                totals[code][i] += int(row[column])
        result.update({(level, code): tuple(values) for code, values in totals.items()})
    return result


def test_coverage_matches_the_ground_truth_at_every_level(campaign: dict) -> None:
    expected = expected_coverage(campaign["truth"])
    rows = (
        campaign["con"]
        .execute(
            "select level, unit_code, snapshot_date, installs, installs_with_phone, new_installs, "
            "new_installs_7d_avg, is_estimated, coverage_population, coverage_adults_15plus, "
            "coverage_adults_18plus, is_over_100 from marts.fct_coverage_daily"
        )
        .fetchall()
    )
    assert {(r[0], r[1], r[2]) for r in rows} == set(expected)
    assert {r[0] for r in rows} == {"nation", "region", "province", "district"}
    pops = populations()
    for level, code, day, installs, phone, new, avg7, estimated, cov, cov15, cov18, over in rows:
        want = expected[(level, code, day)]
        assert installs == want["installs"], (level, code, day)
        assert phone == want["installs_with_phone"], (level, code, day)
        assert estimated == want["is_estimated"], (level, code, day)
        if want["new_installs"] is None:
            assert new is None, (level, code, day)
        else:
            assert new == pytest.approx(want["new_installs"], rel=1e-12), (level, code, day)
        assert avg7 is None  # five days: never a full 7-day window
        total, adults15, adults18 = pops[(level, code)]
        assert cov == pytest.approx(installs / total, rel=1e-12)
        assert cov15 == pytest.approx(installs / adults15, rel=1e-12)
        assert cov18 == pytest.approx(installs / adults18, rel=1e-12)
        assert over == (installs > total)
    provinces = read_csv(SEEDS_DIR / "ref_provinces.csv")
    districts = Counter(row["province_code"] for row in read_csv(SEEDS_DIR / "ref_districts.csv"))
    parts = (
        campaign["con"]
        .execute(
            "select distinct level, unit_code, parts_level, parts_included, parts_expected, "
            "is_complete from marts.fct_coverage_daily where level in ('nation', 'province')"
        )
        .fetchall()
    )
    # Every day the nation includes the two simulated provinces of all of them, and says so;
    # each province's export has all its districts.
    assert sorted(parts) == sorted(
        [("nation", "VN", "province", len(PROVINCES), len(provinces), False)]
        + [
            ("province", code, "district", districts[code], districts[code], True)
            for code in PROVINCES
        ]
    )


def test_stale_days_and_redeliveries_were_exercised(campaign: dict) -> None:
    faults = read_csv(campaign["truth"] / "faults.csv")
    kinds = {row["kind"] for row in faults}
    assert {"stale_export", "redelivery", "late_report", "missing_report"} <= kinds
    estimated = (
        campaign["con"]
        .execute("select count(*) from marts.fct_coverage_daily where is_estimated")
        .fetchone()[0]
    )
    assert estimated > 0


def test_reporting_compliance_matches_the_ground_truth(campaign: dict) -> None:
    truth = {
        (row["unit_code"], date.fromisoformat(row["report_date"])): row
        for row in read_csv(campaign["truth"] / "truth_reports.csv")
    }
    rows = (
        campaign["con"]
        .execute(
            "select unit_code, report_date, province_code, status, minutes_late, "
            "submissions_count, installs_reported, staff_total, staff_installed, "
            "submitted_at_local "
            "from marts.fct_reporting_compliance"
        )
        .fetchall()
    )
    simulated = [r for r in rows if r[2] in PROVINCES]
    assert {(r[0], r[1]) for r in simulated} == set(truth)
    assert {r[3] for r in rows if r[2] not in PROVINCES} == {"missing"}
    for code, day, _, status, late, count, installs, staff, staff_in, sent in simulated:
        want = truth[(code, day)]
        assert status == want["status"], (code, day)
        assert (late or 0) == int(want["minutes_late"] or 0), (code, day)
        assert count == int(want["submissions_count"]), (code, day)
        for got, column in (
            (installs, "installs_reported"),
            (staff, "staff_total"),
            (staff_in, "staff_installed"),
        ):
            assert got == (int(want[column]) if want[column] else None), (code, day, column)
        if want["submitted_at_local"]:
            assert sent == datetime.fromisoformat(want["submitted_at_local"]), (code, day)
        else:
            assert sent is None
    statuses = {r[3] for r in simulated}
    assert statuses == {"on_time", "late", "missing"}


def test_reporting_rates_per_province_and_nation(campaign: dict) -> None:
    truth = read_csv(campaign["truth"] / "truth_reports.csv")
    counts: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in truth:
        key = (row["province_code"], date.fromisoformat(row["report_date"]))
        counts[key][0] += 1
        counts[key][1] += row["status"] != "missing"
        counts[key][2] += row["status"] == "on_time"
    rows = (
        campaign["con"]
        .execute(
            "select scope_code, report_date, expected_reports, actual_reports, on_time_reports, "
            "reporting_rate, on_time_rate, meets_completeness_threshold "
            "from marts.agg_reporting_rates "
            "where scope_code in ('30', '89')"
        )
        .fetchall()
    )
    assert len(rows) == len(counts) == 10
    for scope, day, expected, actual, on_time, rate, on_time_rate, complete in rows:
        assert [expected, actual, on_time] == counts[(scope, day)]
        assert rate == pytest.approx(actual / expected, rel=1e-12)
        assert on_time_rate == pytest.approx(on_time / expected, rel=1e-12)
        assert complete == (actual / expected >= 0.9)
    registry = read_csv(SEEDS_DIR / "reporting_units.csv")
    nation = (
        campaign["con"]
        .execute(
            "select expected_reports from marts.agg_reporting_rates "
            "where scope_code = 'VN' and report_date = ?",
            [END],
        )
        .fetchone()
    )
    assert nation == (len(registry),)


def test_snapshot_has_no_personal_data(campaign: dict) -> None:
    columns = {
        name
        for (name,) in campaign["con"]
        .execute("select column_name from information_schema.columns")
        .fetchall()
    }
    assert not columns & {"contact_email", "contact_phone", "escalation_email", "digest_email"}
    emails = (
        campaign["con"]
        .execute("select count(*) from marts.fct_reporting_compliance where unit_name like '%@%'")
        .fetchone()
    )
    assert emails == (0,)


def test_ranking_matches_the_ground_truth(campaign: dict) -> None:
    expected = expected_coverage(campaign["truth"])
    populations_ = populations()
    rows = (
        campaign["con"]
        .execute(
            "select snapshot_date, province_code, rank_by_coverage, rank_by_installs, rank_change, "
            "is_below_10pct from marts.fct_province_ranking order by snapshot_date, province_code"
        )
        .fetchall()
    )
    days = sorted({day for level, _, day in expected if level == "province"})
    assert len(rows) == len(days) * len(PROVINCES)
    previous: dict[str, int] = {}
    for day in days:
        figures = {code: expected[("province", code, day)]["installs"] for code in PROVINCES}
        coverage = {code: figures[code] / populations_[("province", code)][0] for code in figures}
        for snapshot_date, code, by_coverage, by_installs, change, below in rows:
            if snapshot_date != day:
                continue
            assert by_coverage == 1 + sum(c > coverage[code] for c in coverage.values())
            assert by_installs == 1 + sum(i > figures[code] for i in figures.values())
            assert change == (previous[code] - by_coverage if code in previous else None)
            assert below == (coverage[code] < 0.10)
            previous[code] = by_coverage


def test_target_progress_matches_the_ground_truth(campaign: dict) -> None:
    expected = expected_coverage(campaign["truth"])
    targets = read_csv(SEEDS_DIR / "campaign_targets.csv")
    owners = {
        row["province_code"]: int(row["smartphone_owners_est"])
        for row in read_csv(SEEDS_DIR / "ref_smartphone_owners.csv")
    }
    owners["VN"] = sum(owners[code] for code in PROVINCES)  # the provinces it includes
    rows = (
        campaign["con"]
        .execute(
            "select snapshot_date, target_id, current_value, gap_installs, days_left, "
            "needed_per_day, projected_date, is_met, is_on_track from marts.fct_target_progress"
        )
        .fetchall()
    )
    tracked = {t["target_id"]: t for t in targets if t["scope_code"] in {*PROVINCES, "VN"}}
    days = sorted({day for level, _, day in expected if level == "nation"})
    assert {(r[0], r[1]) for r in rows} == {(d, t) for d in days for t in tracked}
    for day, target_id, value, gap, days_left, needed, projected, met, on_track in rows:
        target = tracked[target_id]
        scope = target["scope_code"]
        level = "nation" if scope == "VN" else "province"
        installs = expected[(level, scope, day)]["installs"]
        due = date.fromisoformat(target["due_date"])
        assert days_left == (due - day).days
        if target["metric"] == "rank_by_installs":
            assert value == 1 + sum(
                expected[("province", code, day)]["installs"] > installs for code in PROVINCES
            )
            assert met and gap == 0 and needed == 0 and projected == day and on_track
            continue
        threshold = float(target["threshold"])
        assert value == pytest.approx(installs / owners[scope], rel=1e-12)
        want_gap = max(math.ceil(threshold * owners[scope]) - installs, 0)
        assert gap == want_gap
        assert met == (installs / owners[scope] >= threshold)
        assert needed == pytest.approx(want_gap / days_left, rel=1e-12)
        # Five days never give a 7-day pace: no projection, so not on track unless met.
        assert projected is None and on_track is False


def test_a_rerun_with_nothing_new_skips_every_task_after_ingestion(campaign: dict) -> None:
    """Last in the module: it runs the same day again under Airflow."""
    env = campaign["env"]
    published = (Path(env["BLUEZONE_PUBLISH_DIR"]) / "current").resolve()
    completed = daily_run(env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    metadata = sqlite3.connect(Path(airflow_environment()["AIRFLOW_HOME"]) / "airflow.db")
    try:
        states = dict(
            metadata.execute(
                "select task_id, state from task_instance where dag_id = 'bluezone_daily' "
                "and run_id = (select run_id from dag_run where dag_id = 'bluezone_daily' "
                "order by end_date desc limit 1)"
            ).fetchall()
        )
    finally:
        metadata.close()
    assert states == {
        "ingest": "success",
        "changes": "success",
        "build": "skipped",
        "check": "skipped",
        "publish": "skipped",
        "alert_data_quality": "skipped",
        "report": "skipped",
        "record": "skipped",
    }
    assert (Path(env["BLUEZONE_PUBLISH_DIR"]) / "current").resolve() == published
    warehouse = duckdb.connect(env["BLUEZONE_WAREHOUSE_PATH"], read_only=True)
    try:
        runs = warehouse.execute("select count(*) from ops.daily_runs").fetchone()
        builds = warehouse.execute("select count(distinct run_id) from ops.dbt_results").fetchone()
    finally:
        warehouse.close()
    assert (runs, builds) == ((1,), (1,))
