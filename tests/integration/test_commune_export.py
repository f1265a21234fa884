"""The commune-level export variant: commune rows (5-digit codes) load next to the province
and district rows, feed fct_commune_installs_daily exactly, and leave every other mart as
it is without them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse import transform
from bluezone_warehouse.config import SEEDS_DIR, load_settings
from bluezone_warehouse.ingest import ingest_landing
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


def fetch(warehouse: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()
