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


def test_the_two_misplaced_communes_count_in_their_own_district() -> None:
    """The 2020 district file counts TT Tân Bình (4,402 people, urban) in Yên Sơn (075) and
    xã Sùng Phài (2,000, rural) in Tam Đường (106); the commune-level census and GSO's list
    of 01/06/2020 place them in TP Tuyên Quang (070) and TP Lai Châu (105)."""
    districts = {d["district_code"]: d for d in rows("ref_districts.csv")}
    published = {  # the 2020 district file's figures: total, urban, rural
        "070": (124_944, 62_375, 62_569),
        "075": (153_467, 4_402, 149_065),
        "105": (41_771, 34_474, 7_297),
        "106": (56_079, 7_398, 48_681),
    }
    moved = {"070": (4_402, 4_402, 0), "075": (-4_402, -4_402, 0)}
    moved |= {"105": (2_000, 0, 2_000), "106": (-2_000, 0, -2_000)}
    for code, figures in published.items():
        seed = districts[code]
        observed = tuple(int(seed[f"population_{c}"]) for c in ("total", "urban", "rural"))
        assert observed == tuple(f + m for f, m in zip(figures, moved[code], strict=True)), code
        assert seed["population_basis"] == "reaggregated_from_communes"
        units = [u.rpartition(" (") for u in seed["census_units"].split("; ")]
        assert sum(int(people.rstrip(")")) for _, _, people in units) == observed[0], code
    # the 15+ and 18+ moved with them, in the proportion of the district they left
    assert int(districts["070"]["population_15plus"]) - 93_382 == round(4_402 * 111_000 / 153_467)
    assert int(districts["105"]["population_18plus"]) - 26_780 == round(2_000 * 33_515 / 56_079)


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


def test_the_2025_units_and_their_crosswalks_add_up() -> None:
    """DESIGN §9: 34 provinces and 3,321 communes since 1 July 2025. Every 2020 province lies
    wholly in one 2025 province, whose census figures are the sums of its 2020 provinces';
    every 2020 commune goes into one or more 2025 communes, shares adding up to 1."""
    provinces_2025 = {p["province_code"]: p for p in rows("ref_provinces_2025.csv")}
    communes_2025 = {c["commune_code"]: c for c in rows("ref_communes_2025.csv")}
    assert len(provinces_2025) == 34 and len(communes_2025) == 3_321
    assert all(len(code) == 2 for code in provinces_2025)
    assert all(
        len(code) == 5 and c["province_code"] in provinces_2025 for code, c in communes_2025.items()
    )
    assert Counter(c["province_code"] for c in communes_2025.values()) == {
        code: int(p["n_communes"]) for code, p in provinces_2025.items()
    }

    provinces_2020 = {p["province_code"]: p for p in rows("ref_provinces.csv")}
    crosswalk = {
        x["province_code_2020"]: x["province_code_2025"]
        for x in rows("xwalk_provinces_2020_2025.csv")
    }
    assert set(crosswalk) == set(provinces_2020) and set(crosswalk.values()) == set(provinces_2025)
    for column in ("population_total", "population_15plus", "population_18plus"):
        sums = Counter()
        for old, new in crosswalk.items():
            sums[new] += int(provinces_2020[old][column])
        assert sums == {code: int(p[column]) for code, p in provinces_2025.items()}, column

    links = rows("xwalk_communes_2020_2025.csv")
    province_of = {c["commune_code"]: c["province_code"] for c in rows("ref_communes.csv")}
    by_old: dict[str, list[dict[str, str]]] = {}
    for link in links:
        by_old.setdefault(link["commune_code_2020"], []).append(link)
    assert set(by_old) == {c["commune_code"] for c in rows("ref_communes.csv")}
    for old, successors in by_old.items():
        assert {int(s["n_successors"]) for s in successors} == {len(successors)}, old
        assert {s["kind"] for s in successors} <= (
            {"part"} if len(successors) > 1 else {"whole", "unchanged"}
        ), old
        assert all(s["commune_code_2025"] in communes_2025 for s in successors)
        # in the 2025 province its own 2020 province went into
        province = crosswalk[province_of[old]]
        assert {communes_2025[s["commune_code_2025"]]["province_code"] for s in successors} == {
            province
        }, old
    reached = {link["commune_code_2025"] for link in links}
    assert len(reached) == 3_316  # the 5 others are đặc khu made from districts, no commune
    assert {communes_2025[c]["commune_type"] for c in set(communes_2025) - reached} == {"đặc khu"}
