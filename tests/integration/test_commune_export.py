"""The commune-level export variant: commune rows (5-digit codes) load next to the province
and district rows, feed fct_commune_installs_daily exactly, and leave every other mart as
it is without them."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from fractions import Fraction
from pathlib import Path

import duckdb

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse import transform
from bluezone_warehouse.config import SEEDS_DIR, load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.registry import read_seed
from tests.conftest import environment_for

END = date(2020, 8, 4)
PROVINCES = ("30", "89")


def build(root: Path, *, commune_level: bool) -> tuple[Path, Path]:
    settings = load_settings(environment_for(root))
    result = simulate_campaign(
        Path(settings.landing_url),
        end=END,
        provinces=list(PROVINCES),
        seed=5,
        faults=FaultRates.none(),
        commune_level=commune_level,
    )
    ingest_landing(settings, run_id="communes")
    transform.build(settings, END, "communes")
    return settings.warehouse_path, result.truth_dir


def test_commune_rows_feed_their_mart_and_nothing_else(tmp_path: Path) -> None:
    warehouse, truth = build(tmp_path / "communes", commune_level=True)
    with (truth / "truth_exported.csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    communes = {
        (r["snapshot_date"], r["unit_code"]): int(r["installs"])
        for r in exported
        if r["level"] == "commune"
    }
    districts = {
        (r["snapshot_date"], r["unit_code"]): int(r["installs"])
        for r in exported
        if r["level"] == "district"
    }
    with (SEEDS_DIR / "ref_communes.csv").open(encoding="utf-8") as handle:
        seeded = {
            r["commune_code"] for r in csv.DictReader(handle) if r["province_code"] in PROVINCES
        }
    assert {code for _, code in communes} == seeded  # every commune of both provinces

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select cast(snapshot_date as varchar), commune_code, district_code, installs, "
        "new_installs, share_of_district_installs from marts.fct_commune_installs_daily "
        "order by commune_code, snapshot_date"
    ).fetchall()
    rejected = con.execute("select count(*) from raw.rejected_rows").fetchone()[0]  # none at all
    con.close()
    assert rejected == 0
    assert {(day, code): installs for day, code, _, installs, _, _ in rows} == communes
    previous: dict[str, int] = {}
    for day, code, district, installs, new, share in rows:
        assert share == installs / districts[(day, district)]
        assert new == (installs - previous[code] if code in previous else None)
        previous[code] = installs
    by_district: dict[tuple[str, str], int] = {}
    for day, _, district, installs, _, _ in rows:
        by_district[(day, district)] = by_district.get((day, district), 0) + installs
    assert all(total <= districts[key] for key, total in by_district.items())

    plain, _ = build(tmp_path / "plain", commune_level=False)
    for table in ("fct_coverage_daily", "fct_data_quality_issues", "fct_province_ranking"):
        query = f"select * exclude (detected_at) from marts.{table} order by all"
        if table != "fct_data_quality_issues":
            query = f"select * from marts.{table} order by all"
        assert fetch(warehouse, query) == fetch(plain, query), table
    assert fetch(plain, "select count(*) from marts.fct_commune_installs_daily") == [(0,)]


def _seed(name: str) -> list[dict[str, str]]:
    return read_seed(SEEDS_DIR, name)


def test_the_campaign_on_the_2025_units(tmp_path: Path) -> None:
    """DESIGN §9: the 2020 figures on today's units. A 2025 province is the sum of the
    2020 provinces it was formed from (here only two of them are in the campaign, so each
    2025 province is incomplete); a 2025 commune gets every installation of the 2020
    communes that went into it whole and 1/n of those split among n, flagged as estimated.
    The expected figures come from the simulator's truth and the crosswalk seeds."""
    warehouse, truth = build(tmp_path / "communes", commune_level=True)
    with (truth / "truth_exported.csv").open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    province_2025 = {
        r["province_code_2020"]: r["province_code_2025"]
        for r in _seed("xwalk_provinces_2020_2025.csv")
    }
    population = {
        p["province_code"]: int(p["population_total"]) for p in _seed("ref_provinces.csv")
    }
    expected: dict[tuple[str, str], list] = {}
    for row in exported:
        if row["level"] == "province":
            key = (row["snapshot_date"], province_2025[row["unit_code"]])
            installs, people, included = expected.get(key, (0, 0, 0))
            expected[key] = (
                installs + int(row["installs"]),
                people + population[row["unit_code"]],
                included + 1,
            )
    formed_from = Counter(province_2025.values())
    provinces = fetch(
        warehouse,
        "select cast(snapshot_date as varchar), province_code, installs, coverage_population, "
        "provinces_2020_included, provinces_2020_expected, is_complete, rank_by_installs "
        "from marts.fct_coverage_2025_provinces order by all",
    )
    assert {(d, p) for d, p, *_ in provinces} == set(expected) and len(expected) == 2 * 4
    for day, code, installs, coverage, included, formed, complete, rank in provinces:
        total, people, count = expected[(day, code)]
        assert (installs, included, formed) == (total, count, formed_from[code])
        assert coverage == total / people
        assert complete is False  # Hải Phòng lacks Hải Phòng, An Giang lacks Kiên Giang
        others = [value[0] for (other_day, _), value in expected.items() if other_day == day]
        assert rank == 1 + sum(1 for other in others if other > installs)

    # communes: exact fractions from the crosswalk, summed in Python
    links: dict[str, list[tuple[str, str]]] = {}
    expected_links = Counter()
    for link in _seed("xwalk_communes_2020_2025.csv"):
        links.setdefault(link["commune_code_2020"], []).append(
            (link["commune_code_2025"], link["kind"])
        )
        expected_links[link["commune_code_2025"]] += 1
    communes: dict[tuple[str, str], list] = {}
    totals_2020 = Counter()
    for row in exported:
        if row["level"] != "commune":
            continue
        successors = links[row["unit_code"]]
        totals_2020[row["snapshot_date"]] += int(row["installs"])
        for code, kind in successors:
            entry = communes.setdefault((row["snapshot_date"], code), [Fraction(0), False, 0])
            entry[0] += Fraction(int(row["installs"]), len(successors))
            entry[1] = entry[1] or kind == "part"
            entry[2] += 1
    rows = fetch(
        warehouse,
        "select cast(snapshot_date as varchar), commune_code, installs, installs_whole, "
        "installs_shared, is_estimated, communes_2020_included, communes_2020_expected, "
        "is_complete from marts.fct_installs_2025_communes",
    )
    assert {(d, c) for d, c, *_ in rows} == set(communes)
    assert any(r[5] for r in rows) and not all(r[5] for r in rows)  # both kinds are here
    for day, code, installs, whole, shared, estimated, included, formed, complete in rows:
        share, is_part, count = communes[(day, code)]
        assert abs(installs - float(share)) <= 1e-9 * max(1.0, float(share)), (day, code)
        assert abs(whole + shared - installs) <= 1e-9 * max(1.0, installs)
        assert whole == int(whole) and (estimated or shared == 0)
        assert (estimated, included, formed) == (is_part, count, expected_links[code])
        assert complete == (count == expected_links[code])
    by_day = Counter()
    for day, _, installs, *_ in rows:
        by_day[day] += installs
    assert all(abs(by_day[d] - totals_2020[d]) <= 1e-6 * totals_2020[d] for d in totals_2020)


def fetch(warehouse: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()
