"""The reference seeds: counts, sums and the registry's shape (DESIGN §3.1, §3.4)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from bluezone_warehouse.config import SEEDS_DIR


def rows(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_row_counts() -> None:
    assert len(rows("ref_provinces.csv")) == 63
    assert len(rows("ref_districts.csv")) == 707
    assert len(rows("ref_communes.csv")) == 10_614
    assert len(rows("ref_regions.csv")) == 6
    assert len(rows("ref_smartphone_owners.csv")) == 63


def test_provinces_sum_to_the_census_total() -> None:
    provinces = rows("ref_provinces.csv")
    assert sum(int(p["population_total"]) for p in provinces) == 96_208_984


def district_sums(column: str) -> tuple[Counter, Counter, dict[str, int]]:
    sums, counts = Counter(), Counter()
    for district in rows("ref_districts.csv"):
        sums[district["province_code"]] += int(district[column] or 0)
        counts[district["province_code"]] += 1
    provinces = {p["province_code"]: int(p[column]) for p in rows("ref_provinces.csv")}
    return sums, counts, provinces


@pytest.mark.parametrize("column", ["population_total", "population_15plus"])
def test_census_districts_sum_exactly_to_their_province(column: str) -> None:
    sums, _, provinces = district_sums(column)
    assert dict(sums) == provinces


def test_estimated_18plus_districts_sum_to_their_province_up_to_rounding() -> None:
    sums, counts, provinces = district_sums("population_18plus")
    assert sum(sums.values()) != 0
    for code, total in provinces.items():
        assert abs(sums[code] - total) <= counts[code], code


def test_codes_keep_leading_zeros_and_join() -> None:
    provinces = {p["province_code"] for p in rows("ref_provinces.csv")}
    assert all(len(code) == 2 for code in provinces)
    assert "01" in provinces
    districts = rows("ref_districts.csv")
    assert all(len(d["district_code"]) == 3 and d["province_code"] in provinces for d in districts)
    district_codes = {d["district_code"] for d in districts}
    communes = rows("ref_communes.csv")
    assert all(c["district_code"] in district_codes for c in communes)


def test_smartphone_owners_sum_to_the_national_figure_and_name_their_method() -> None:
    owners = rows("ref_smartphone_owners.csv")
    assert sum(int(o["smartphone_owners_est"]) for o in owners) == 76_800_000
    assert {o["vintage"] for o in owners} == {"mic_2020_08_by_urban_share"}
    assert all(o["method"] and o["source"] for o in owners)
    population = {p["province_code"]: int(p["population_total"]) for p in rows("ref_provinces.csv")}
    assert all(0 < int(o["smartphone_owners_est"]) < population[o["province_code"]] for o in owners)


def test_registry_has_every_district_committee_and_ten_agencies_per_province() -> None:
    units = rows("reporting_units.csv")
    kinds = Counter(u["unit_kind"] for u in units)
    populated = [d for d in rows("ref_districts.csv") if int(d["population_total"] or 0) > 0]
    assert kinds["district_committee"] == len(populated) == 706
    assert kinds["provincial_agency"] == 630
    assert Counter(u["province_code"] for u in units if u["unit_kind"] == "provincial_agency") == {
        p["province_code"]: 10 for p in rows("ref_provinces.csv")
    }
    assert len({u["unit_code"] for u in units}) == len(units)


def test_registry_deadlines_and_contacts() -> None:
    units = rows("reporting_units.csv")
    deadlines = {u["province_code"]: u["deadline_local"] for u in units}
    assert deadlines["89"] == "15:00"  # An Giang
    assert deadlines["30"] == "16:00"  # Hải Dương
    assert Counter(deadlines.values()) == {"16:00": 62, "15:00": 1}
    for unit in units:
        assert unit["contact_email"].endswith("@example.org")
        assert unit["escalation_email"].endswith("@example.org")


def test_targets_from_the_provincial_letters() -> None:
    targets = {t["target_id"]: t for t in rows("campaign_targets.csv")}
    assert {
        (t["scope_code"], t["metric"], float(t["threshold"]), t["due_date"])
        for t in targets.values()
    } == {
        ("VN", "share_smartphone_owners", 0.60, "2020-08-20"),
        ("30", "share_smartphone_owners", 0.60, "2020-08-20"),
        ("30", "rank_by_installs", 10.0, "2020-08-20"),
        ("58", "share_smartphone_owners", 0.50, "2020-08-20"),
        ("08", "share_smartphone_owners", 0.50, "2020-08-25"),
        ("89", "share_smartphone_owners", 0.60, "2020-08-20"),
    }
    assert (
        targets["p30_60pct_smartphone"]["any_of_group"]
        == targets["p30_top10_installs"]["any_of_group"]
    )
