"""A campaign on the 2025 units, end to end (DESIGN §9): simulate two of the 34 provinces
with their communes for a week of 2026, run ``bluezone_daily`` and the deadline run under a
real ``airflow dags test`` with ``BLUEZONE_UNITS=2025``, and compare every mart figure with
values computed here from the simulator's ground truth and the 2025 seeds, never from the
warehouse's models.

Lai Châu (12, 38 communes, deadline 16:00) and An Giang (91, 102 communes, the 15:00
deadline An Giang's units kept): the levels are nation → province → commune, no region
and no district; the communes' People's Committees report to their province.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections import Counter, defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.cli import airflow_dags_test
from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.schedule import logical_date_for
from tests.conftest import environment_for
from tests.truth import add_sums, exported_figures, read_csv

PROVINCES = ["12", "91"]
START, END = date(2026, 9, 1), date(2026, 9, 6)
FAULTS = dataclasses.replace(
    FaultRates.none(),
    late_report=0.15,
    missing_report=0.1,
    conflicting_resubmission=0.05,
    redelivery=0.4,
    stale_export=0.3,
)

pytestmark = pytest.mark.airflow


def dags_test(env: dict[str, str], dag_id: str, logical: str) -> subprocess.CompletedProcess[str]:
    """One real ``airflow dags test`` run with ``env``; alerts are sent (to the outbox)."""
    return airflow_dags_test(
        dag_id, logical, quiet=True, conf={"send": True}, env={**os.environ, **env}
    )


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("units2025")
    # the unit set alone: its campaign's days are the settings' defaults
    env = {**environment_for(root), "BLUEZONE_UNITS": "2025"}
    result = simulate_campaign(
        Path(env["BLUEZONE_LANDING_URL"]),
        start=START,
        end=END,
        provinces=PROVINCES,
        seed=25,
        faults=FAULTS,
        units="2025",
    )
    completed = dags_test(env, "bluezone_daily", logical_date_for(END).isoformat())
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    deadline = dags_test(env, "bluezone_report_deadlines", f"{END.isoformat()}T16:00:00+07:00")
    assert deadline.returncode == 0, deadline.stdout[-3000:] + deadline.stderr[-3000:]
    snapshot = Path(env["BLUEZONE_PUBLISH_DIR"]) / "current" / "bluezone_marts.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    yield {"con": con, "truth": result.truth_dir, "env": env, "root": root}
    con.close()


# --- what the figures must be, from the seeds and the truth alone --------------------------


def provinces_2025() -> dict[str, dict[str, str]]:
    return {row["province_code"]: row for row in read_csv(SEEDS_DIR / "ref_provinces_2025.csv")}


def communes_2025() -> dict[str, dict[str, str]]:
    return {row["commune_code"]: row for row in read_csv(SEEDS_DIR / "ref_communes_2025.csv")}


def smartphone_owners() -> dict[str, Fraction]:
    """Each 2025 province's smartphone owners: the sum of its 2020 provinces' estimates."""
    owners_2020 = {
        row["province_code"]: Fraction(row["smartphone_owners_est"])
        for row in read_csv(SEEDS_DIR / "ref_smartphone_owners.csv")
    }
    owners: dict[str, Fraction] = defaultdict(Fraction)
    for row in read_csv(SEEDS_DIR / "xwalk_provinces_2020_2025.csv"):
        owners[row["province_code_2025"]] += owners_2020[row["province_code_2020"]]
    return owners


def denominators() -> dict[tuple[str, str], tuple[Fraction, Fraction, Fraction, Fraction]]:
    """(population, 15+, 18+, smartphone owners) of every province and commune of 2025: a
    commune's adults and owners are its population's share of its province's."""
    provinces, owners = provinces_2025(), smartphone_owners()
    result = {}
    for code, row in provinces.items():
        result[("province", code)] = (
            Fraction(row["population_total"]),
            Fraction(row["population_15plus"]),
            Fraction(row["population_18plus"]),
            owners[code],
        )
    for code, row in communes_2025().items():
        population = Fraction(row["population_total_est"] or 0)
        total, adults15, adults18, phones = result[("province", row["province_code"])]
        share = population / total
        result[("commune", code)] = (population, share * adults15, share * adults18, share * phones)
    nation = [sum(result[("province", code)][i] for code in PROVINCES) for i in range(4)]
    result[("nation", "VN")] = tuple(nation)
    return result


def expected_coverage(truth_dir: Path) -> dict[tuple[str, str, date], dict]:
    """Every level's installs from the final exports (gaps interpolated), the nation's the
    sum of the provinces'."""
    expected = exported_figures(truth_dir)
    add_sums(expected, {code: [("nation", "VN")] for code in provinces_2025()})
    return expected


# --- the tests -----------------------------------------------------------------------------


def test_the_units_are_the_2025_set(campaign: dict) -> None:
    con = campaign["con"]
    levels = dict(
        con.execute("select level, count(*) from marts.dim_admin_units group by 1").fetchall()
    )
    communes = communes_2025()
    assert levels == {"nation": 1, "province": len(provinces_2025()), "commune": len(communes)}
    assert levels["province"] == 34 and levels["commune"] == 3321
    parents = dict(
        con.execute(
            "select unit_code, parent_code from marts.dim_admin_units where level = 'commune'"
        ).fetchall()
    )
    assert parents == {code: row["province_code"] for code, row in communes.items()}
    assert {
        r[0]
        for r in con.execute(
            "select parent_code from marts.dim_admin_units where level = 'province'"
        ).fetchall()
    } == {"VN"}
    assert all(len(code) == 5 for code in parents) and all(len(p) == 2 for p in parents.values())


def test_coverage_matches_the_ground_truth_at_every_level(campaign: dict) -> None:
    expected = expected_coverage(campaign["truth"])
    rows = (
        campaign["con"]
        .execute(
            "select level, unit_code, snapshot_date, installs, is_estimated, coverage_population, "
            "coverage_adults_15plus, coverage_adults_18plus, coverage_smartphone_owners "
            "from marts.fct_coverage_daily"
        )
        .fetchall()
    )
    assert {(r[0], r[1], r[2]) for r in rows} == set(expected)
    assert {r[0] for r in rows} == {"nation", "province", "commune"}
    assert {r[1] for r in rows if r[0] == "province"} == set(PROVINCES)
    pops = denominators()
    for level, code, day, installs, estimated, cov, cov15, cov18, cov_phones in rows:
        want = expected[(level, code, day)]
        assert installs == want["installs"], (level, code, day)
        assert estimated == want["is_estimated"], (level, code, day)
        total, adults15, adults18, phones = pops[(level, code)]
        if total == 0:
            assert cov is None, (level, code)
            continue
        assert cov == pytest.approx(float(installs / total), rel=1e-9), (level, code, day)
        assert cov15 == pytest.approx(float(installs / adults15), rel=1e-9), (level, code, day)
        assert cov18 == pytest.approx(float(installs / adults18), rel=1e-9), (level, code, day)
        assert cov_phones == pytest.approx(float(installs / phones), rel=1e-9), (level, code, day)
    communes = Counter(
        row["province_code"]
        for row in communes_2025().values()
        if int(row["population_total_est"] or 0) > 0
    )
    parts = (
        campaign["con"]
        .execute(
            "select distinct level, unit_code, parts_level, parts_included, parts_expected, "
            "is_complete from marts.fct_coverage_daily where level in ('nation', 'province')"
        )
        .fetchall()
    )
    assert sorted(parts) == sorted(
        [("nation", "VN", "province", len(PROVINCES), 34, False)]
        + [
            ("province", code, "commune", communes[code], communes[code], True)
            for code in PROVINCES
        ]
    )


def test_ranking_is_among_the_provinces_of_2025(campaign: dict) -> None:
    expected = expected_coverage(campaign["truth"])
    pops = denominators()
    rows = (
        campaign["con"]
        .execute(
            "select snapshot_date, province_code, rank_by_coverage, rank_by_installs, "
            "provinces_ranked from marts.fct_province_ranking"
        )
        .fetchall()
    )
    days = sorted({day for level, _, day in expected if level == "province"})
    assert len(rows) == len(days) * len(PROVINCES)
    for day, code, by_coverage, by_installs, ranked in rows:
        installs = {p: expected[("province", p, day)]["installs"] for p in PROVINCES}
        coverage = {p: installs[p] / pops[("province", p)][0] for p in PROVINCES}
        assert by_coverage == 1 + sum(c > coverage[code] for c in coverage.values())
        assert by_installs == 1 + sum(i > installs[code] for i in installs.values())
        assert ranked == len(PROVINCES)


def test_commune_committees_report_to_their_province(campaign: dict) -> None:
    truth = {
        (row["unit_code"], date.fromisoformat(row["report_date"])): row
        for row in read_csv(campaign["truth"] / "truth_reports.csv")
    }
    rows = (
        campaign["con"]
        .execute(
            "select unit_code, report_date, province_code, unit_kind, district_code, area_code, "
            "status, status_at_deadline, installs_reported from marts.fct_reporting_compliance"
        )
        .fetchall()
    )
    simulated = [r for r in rows if r[2] in PROVINCES]
    assert {(r[0], r[1]) for r in simulated} == set(truth)
    registry = read_csv(SEEDS_DIR / "reporting_units_2025.csv")
    kinds = Counter(r["unit_kind"] for r in registry if r["province_code"] in PROVINCES)
    assert set(kinds) == {"commune_committee", "provincial_agency"}
    assert Counter(r[3] for r in simulated if r[1] == END) == kinds
    communes = communes_2025()
    for code, day, province, kind, district, area, status, at_deadline, installs in simulated:
        want = truth[(code, day)]
        assert status == want["status"], (code, day)
        assert at_deadline == want["status_at_deadline"], (code, day)
        assert installs == (int(want["installs_reported"]) if want["installs_reported"] else None)
        assert district is None
        if kind == "commune_committee":
            assert area == code and communes[code]["province_code"] == province
        else:
            assert area is None
    assert {r[6] for r in simulated} >= {"on_time", "late", "missing"}
    # the nation expects every 2025 unit of the registry
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


def test_data_quality_flags_name_the_commune_level(campaign: dict) -> None:
    """The checks run on communes: an export lacking some of a province's communes is
    flagged with the communes it has; no flag names a district."""
    messages = [
        row[0]
        for row in campaign["con"]
        .execute("select message from marts.fct_data_quality_issues")
        .fetchall()
    ]
    assert messages
    assert not [m for m in messages if "district" in m.lower()]


def test_the_consolidation_lists_the_communes_at_the_deadline(campaign: dict) -> None:
    con = campaign["con"]
    rows = con.execute(
        "select province_code, unit_code, unit_kind, area_code, installs_export, export_day "
        "from marts.fct_province_consolidation where report_date = ?",
        [END],
    ).fetchall()
    registry = read_csv(SEEDS_DIR / "reporting_units_2025.csv")
    assert sorted((r[0], r[1]) for r in rows if r[0] in PROVINCES) == sorted(
        (u["province_code"], u["unit_code"]) for u in registry if u["province_code"] in PROVINCES
    )
    exported = {
        (row["unit_code"], date.fromisoformat(row["snapshot_date"])): int(row["installs"])
        for row in read_csv(campaign["truth"] / "truth_exported.csv")
        if row["level"] == "commune"
    }
    for province, code, kind, area, installs, day in rows:
        if province not in PROVINCES or kind != "commune_committee":
            continue
        assert installs == exported[(area, day)], code
    folder = Path(campaign["env"]["BLUEZONE_PUBLISH_DIR"]) / "consolidation" / END.isoformat()
    assert {p.name for p in folder.glob("*.xlsx")} >= {f"{code}.xlsx" for code in PROVINCES}


def test_the_report_draws_the_34_provinces(campaign: dict) -> None:
    report = Path(campaign["env"]["BLUEZONE_PUBLISH_DIR"]) / "report.html"
    page = report.read_text(encoding="utf-8")
    assert "34 tỉnh, thành phố" in page
    assert "Các xã, phường, đặc khu của từng tỉnh" in page
    assert "Các huyện của từng tỉnh" not in page
    assert "Trên bản đồ hành chính 2025" not in page  # nothing of 2020 to carry over
    con = campaign["con"]
    assert con.execute("select count(*) from marts.fct_coverage_2025_provinces").fetchone() == (0,)
    province_pages = {
        p.stem for p in (report.parent / "provinces" / END.isoformat()).glob("*.html")
    }
    assert set(PROVINCES) <= province_pages


def test_the_2025_provinces_carry_their_2020_denominators_exactly() -> None:
    """The denominators the coverage divides by are the 2020 provinces' sums."""
    xwalk = read_csv(SEEDS_DIR / "xwalk_provinces_2020_2025.csv")
    old = {row["province_code"]: row for row in read_csv(SEEDS_DIR / "ref_provinces.csv")}
    for code, row in provinces_2025().items():
        members = [x["province_code_2020"] for x in xwalk if x["province_code_2025"] == code]
        assert int(row["population_total"]) == sum(int(old[m]["population_total"]) for m in members)


def test_the_deadline_digest_names_the_units_missing_at_the_deadline(campaign: dict) -> None:
    """At 16:00 Lai Châu's digest names exactly the units the truth says had nothing
    accepted by their 16:00 deadline: commune committees and agencies alike."""
    outbox = Path(campaign["env"]["BLUEZONE_OUTBOX_DIR"])
    alerts = [
        json.loads(line)
        for line in (outbox / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    digests = [a for a in alerts if a["kind"] == "deadline" and a["day"] == END.isoformat()]
    # every province whose deadline is 16:00 (the others simulated nothing: all missing);
    # An Giang's digest was due at 15:00
    at_four = {
        row["province_code"]
        for row in read_csv(SEEDS_DIR / "province_reporting_2025.csv")
        if row["deadline_local"] == "16:00"
    }
    assert sorted(a["scope_code"] for a in digests) == sorted(at_four)
    assert "91" not in at_four and len(at_four) == 33
    digests = [a for a in digests if a["scope_code"] in PROVINCES]
    named = {(u["unit_code"], u["status"]) for u in digests[0]["payload"]["missing"]}
    truth = {
        (row["unit_code"], row["status_at_deadline"])
        for row in read_csv(campaign["truth"] / "truth_reports.csv")
        if row["province_code"] == "12"
        and row["report_date"] == END.isoformat()
        and row["status_at_deadline"] != "on_time"
    }
    assert named == truth and named
    assert {code for code, _ in named if "-" not in code} <= set(communes_2025())
