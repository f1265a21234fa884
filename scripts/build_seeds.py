"""Build the dbt seeds under ``seeds/`` from the public reference data.

This is a maintainer's tool, run by hand when the reference data changes:
``python scripts/build_seeds.py --refdata ../shared/refdata``. The seeds it writes are
committed, so nothing in the project reads the reference folder when it runs or is tested.
Every derived figure (the smartphone-owner denominator, the reporting-unit registry) is
deterministic; ``seeds/README.md`` states the method.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bluezone_warehouse.units import unit_set

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

# MIC, August 2020: "76.8 million smartphone users", the denominator of the national goal.
NATIONAL_SMARTPHONE_USERS = 76_800_000
SMARTPHONE_VINTAGE = "mic_2020_08_by_urban_share"

# Provincial agencies that report their own staff (about ten per province).
AGENCIES = [
    ("VPUB", "Văn phòng UBND tỉnh", "Van phong UBND tinh"),
    ("SYT", "Sở Y tế", "So Y te"),
    ("STTTT", "Sở Thông tin và Truyền thông", "So Thong tin va Truyen thong"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "So Giao duc va Dao tao"),
    ("SNV", "Sở Nội vụ", "So Noi vu"),
    ("STC", "Sở Tài chính", "So Tai chinh"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "So Ke hoach va Dau tu"),
    ("SCT", "Sở Công Thương", "So Cong Thuong"),
    ("SGTVT", "Sở Giao thông vận tải", "So Giao thong van tai"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", "So Lao dong - Thuong binh va Xa hoi"),
]

# Reporting deadlines from the provincial letters; every other province defaults to 16:00.
DEADLINES = {"89": "15:00", "30": "16:00"}
DEFAULT_DEADLINE = "16:00"
# Every registry unit reports from its campaign's first day, as its unit set declares it
# (dbt_project.yml, vars.unit_sets: 2020-08-01, and 2026-09-01 for the present-day campaign on
# the units in force since 1 July 2025, DESIGN §9).
REPORTS_FROM = unit_set("2020").campaign_start.isoformat()
REPORTS_FROM_2025 = unit_set("2025").campaign_start.isoformat()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(name: str, rows: list[dict[str, object]]) -> None:
    path = SEEDS / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path.relative_to(SEEDS.parent)}: {len(rows)} rows")


def stable_int(text: str, modulo: int) -> int:
    """A deterministic pseudo-random integer derived from ``text``."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % modulo


def build_provinces(refdata: Path) -> list[dict[str, str]]:
    rows = read_csv(refdata / "vn_provinces_2020.csv")
    provinces = [
        {
            "province_code": row["province_code"],
            "province_name_full": row["province_name_full"],
            "province_name": row["province_name"],
            "province_name_ascii": row["province_name_ascii"],
            "province_type": row["province_type"],
            "region_code": row["region_code"],
            "n_districts": row["n_districts_2020"],
            "population_total": row["pop_2019"],
            "population_urban": row["pop_urban_2019"],
            "population_rural": row["pop_rural_2019"],
            "urban_share": row["urban_share_2019"],
            "population_15plus": row["pop_15plus_2019"],
            "population_18plus": row["pop_18plus_2019_est"],
            "population_0_14": row["pop_0_14_2019"],
            "population_15_19": row["pop_15_19_2019"],
            "population_60plus": row["pop_60plus_2019"],
        }
        for row in rows
    ]
    write_csv("ref_provinces.csv", provinces)
    regions: dict[str, dict[str, object]] = {}
    for row in rows:
        regions.setdefault(
            row["region_code"],
            {
                "region_code": row["region_code"],
                "region_name": row["region_name_vi"],
                "region_name_ascii": ascii_name(row["region_name_vi"]),
                "region_name_en": row["region_name_en"],
            },
        )
    write_csv("ref_regions.csv", list(regions.values()))
    return provinces


def ascii_name(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


# Communes that ``vn_districts_2020.csv`` counts in the wrong district (refdata README, "Known
# errors in the 2020 district file"): the commune-level census and GSO's list of 01/06/2020
# place them in another district of the same province. (commune, its people, counted in,
# belongs to, urban.)
MISPLACED_COMMUNES = [
    ("Thị trấn Tân Bình", 4_402, "075", "070", True),
    ("Xã Sùng Phài", 2_000, "106", "105", False),
]


def _census_units(text: str) -> dict[str, int]:
    """ "Huyện Yên Sơn (153467); …" as {name: people}."""
    units = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, people = part.rpartition(" (")
        units[name] = int(people.rstrip(")"))
    return units


def correct_misplaced_communes(districts: list[dict[str, str]]) -> None:
    """Move each misplaced commune's people to the district it belongs to. Its total and
    its urban or rural count are the census's; its 15+ and 18+ are not published per
    commune, so they move in the proportion of the district it leaves (rounded). Province
    totals do not change."""
    by_code = {d["district_code"]: d for d in districts}
    for _, people, wrong, right, urban in MISPLACED_COMMUNES:
        source, target = by_code[wrong], by_code[right]
        assert source["province_code"] == target["province_code"]
        total = int(source["population_total"])
        moved = {
            "population_total": people,
            "population_urban" if urban else "population_rural": people,
            "population_15plus": round(people * int(source["population_15plus"]) / total),
            "population_18plus": round(people * int(source["population_18plus"]) / total),
        }
        for column, count in moved.items():
            source[column] = str(int(source[column]) - count)
            target[column] = str(int(target[column]) + count)
        # the census district the commune's people were counted in
        census_name = source["district_name_full"]
        for district, sign in ((source, -1), (target, 1)):
            units = _census_units(district["census_units"])
            units[census_name] = units.get(census_name, 0) + sign * people
            district["census_units"] = "; ".join(f"{n} ({p})" for n, p in units.items() if p)
            district["population_basis"] = "reaggregated_from_communes"


def build_districts(refdata: Path) -> list[dict[str, str]]:
    rows = read_csv(refdata / "vn_districts_2020.csv")
    districts = [
        {
            "district_code": row["district_code"],
            "province_code": row["province_code"],
            "district_name_full": row["district_name_full"],
            "district_name": row["district_name"],
            "district_name_ascii": row["district_name_ascii"],
            "district_name_full_ascii": ascii_name(row["district_name_full"]),
            "district_type": row["district_type"],
            "district_type_ascii": row["district_type_ascii"],
            "n_communes": row["n_communes_2020"],
            "population_total": row["pop_2019"],
            "population_urban": row["pop_urban_2019"],
            "population_rural": row["pop_rural_2019"],
            "population_15plus": row["pop_15plus_2019"],
            "population_18plus": row["pop_18plus_2019_est"],
            "population_basis": row["pop_basis"],
            "census_units": row["census_units"],
        }
        for row in rows
    ]
    correct_misplaced_communes(districts)
    write_csv("ref_districts.csv", districts)
    return districts


def build_communes(refdata: Path) -> None:
    write_csv("ref_communes.csv", read_csv(refdata / "vn_communes_2020.csv"))


@dataclass(frozen=True)
class Units2025:
    """The 2025 seeds' rows the registry, recipients and targets of a 2025 campaign need."""

    provinces: list[dict[str, str]]
    communes: list[dict[str, str]]
    crosswalk: list[dict[str, str]]  # 2020 province -> 2025 province

    def provinces_2020_of(self, code_2025: str) -> list[str]:
        return [
            x["province_code_2020"] for x in self.crosswalk if x["province_code_2025"] == code_2025
        ]

    def province_2025_of(self, code_2020: str) -> str:
        (code,) = (
            x["province_code_2025"] for x in self.crosswalk if x["province_code_2020"] == code_2020
        )
        return code


def build_units_2025(refdata: Path) -> Units2025:
    """The units in force since 1 July 2025 (34 provinces, 3,321 communes, no districts) and
    the crosswalks from the 2020 provinces and communes (``vn_units_2025/``)."""
    units = refdata / "vn_units_2025"
    provinces = [
        {
            "province_code": row["province_code_2025"],
            "province_name_full": row["name"],
            "province_name": row["name_short"],
            "province_name_ascii": row["name_ascii"],
            "province_type": row["type"],
            "n_communes": row["n_communes_2025"],
            "population_total": row["population_2019_census"],
            "population_15plus": row["pop_15plus_2019"],
            "population_18plus": row["pop_18plus_2019_est"],
            "population_published": row["population_published"],
            "population_published_year": row["population_published_year"],
            "area_km2": row["area_km2"],
        }
        for row in read_csv(units / "vn_provinces_2025.csv")
    ]
    write_csv("ref_provinces_2025.csv", provinces)
    communes = [
        {
            "commune_code": row["commune_code_2025"],
            "province_code": row["province_code_2025"],
            "commune_name_full": row["name"],
            "commune_name": row["name_short"],
            "commune_name_ascii": row["name_ascii"],
            "commune_type": row["type"],
            "population_total_est": row["population_2019_census_est"],
            "population_basis": row["population_basis"],
            "population_published": row["population_published"],
            "area_km2": row["area_km2"],
            "lat": row["lat"],
            "lon": row["lon"],
        }
        for row in read_csv(units / "vn_communes_2025.csv")
    ]
    write_csv("ref_communes_2025.csv", communes)
    crosswalk = [
        {
            "province_code_2020": row["province_code_2020"],
            "province_code_2025": row["province_code_2025"],
            "kind": row["kind"],
        }
        for row in read_csv(units / "crosswalk_provinces_2020_2025.csv")
    ]
    write_csv("xwalk_provinces_2020_2025.csv", crosswalk)
    write_csv(
        "xwalk_communes_2020_2025.csv",
        [
            {
                "commune_code_2020": row["commune_code_2020"],
                "commune_code_2025": row["commune_code_2025"],
                "province_code_2025": row["province_code_2025"],
                "kind": row["kind"],
                "n_successors": row["n_successors"],
                "population_share": row["population_share"],
            }
            for row in read_csv(units / "crosswalk_communes_2020_2025.csv")
        ],
    )
    return Units2025(provinces, communes, crosswalk)


def build_smartphone_owners(refdata: Path, provinces: list[dict[str, str]]) -> None:
    """Allocate MIC's national smartphone users to provinces by urban share.

    No official per-province figure exists for 2020. The only provincial figures are MIC's
    share of adults using a smartphone in March 2022 for eight provinces; a least-squares
    line of that share on the 2019 urban share gives each province's relative propensity,
    and MIC's national 76.8 million of August 2020 is split in proportion to
    population x propensity, so the provinces sum exactly to the national figure.
    """
    indicators = read_csv(refdata / "vn_smartphone_indicators.csv")
    write_csv("ref_smartphone_indicators.csv", indicators)
    urban = {p["province_code"]: float(p["urban_share"]) for p in provinces}
    points = [
        (urban[row["province_code"]], float(row["value"]) / 100)
        for row in indicators
        if row["scope"] == "province" and row["indicator"] == "adults using a smartphone"
    ]
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    intercept = mean_y - slope * mean_x
    weights = {
        p["province_code"]: int(p["population_total"])
        * (intercept + slope * urban[p["province_code"]])
        for p in provinces
    }
    total_weight = sum(weights.values())
    # Largest-remainder rounding so the provinces sum exactly to the national figure.
    raw = {code: NATIONAL_SMARTPHONE_USERS * w / total_weight for code, w in weights.items()}
    owners = {code: int(value) for code, value in raw.items()}
    shortfall = NATIONAL_SMARTPHONE_USERS - sum(owners.values())
    for code in sorted(raw, key=lambda c: raw[c] - owners[c], reverse=True)[:shortfall]:
        owners[code] += 1
    write_csv(
        "ref_smartphone_owners.csv",
        [
            {
                "province_code": p["province_code"],
                "smartphone_owners_est": owners[p["province_code"]],
                "propensity": round(intercept + slope * urban[p["province_code"]], 4),
                "propensity_intercept": round(intercept, 6),
                "propensity_slope": round(slope, 6),
                "vintage": SMARTPHONE_VINTAGE,
                "method": (
                    f"MIC 2020-08 national {NATIONAL_SMARTPHONE_USERS} smartphone users split by "
                    f"population_2019 x ({intercept:.4f} + {slope:.4f} x urban_share_2019)"
                ),
                "source": "MIC (Bo TT&TT) 2020-08; MIC Cuc Vien thong 2022-03 provincial shares",
            }
            for p in provinces
        ],
    )


# The targets of the provincial letters (DESIGN §3.1): id, scope, level, metric, threshold,
# due date, any-of group, description.
TARGETS = [
    (
        "nation_60pct_smartphone",
        "VN",
        "nation",
        "share_smartphone_owners",
        0.60,
        "2020-08-20",
        "",
        "MIC national goal: 60% of smartphone users",
    ),
    (
        "p30_60pct_smartphone",
        "30",
        "province",
        "share_smartphone_owners",
        0.60,
        "2020-08-20",
        "p30_2020_08_20",
        "Hải Dương: 60% of smartphone users",
    ),
    (
        "p30_top10_installs",
        "30",
        "province",
        "rank_by_installs",
        10,
        "2020-08-20",
        "p30_2020_08_20",
        "Hải Dương: or at least 10th of the provinces by installs",
    ),
    (
        "p58_50pct_smartphone",
        "58",
        "province",
        "share_smartphone_owners",
        0.50,
        "2020-08-20",
        "",
        "Ninh Thuận: 50% of smartphone owners",
    ),
    (
        "p08_50pct_smartphone",
        "08",
        "province",
        "share_smartphone_owners",
        0.50,
        "2020-08-25",
        "",
        "Tuyên Quang: 50% of smartphone owners",
    ),
    (
        "p89_60pct_smartphone",
        "89",
        "province",
        "share_smartphone_owners",
        0.60,
        "2020-08-20",
        "",
        "An Giang: the national 60% of smartphone users",
    ),
]
TARGET_COLUMNS = (
    "target_id",
    "scope_code",
    "scope_level",
    "metric",
    "threshold",
    "start_date",
    "due_date",
    "any_of_group",
    "description",
)


def build_targets() -> None:
    write_csv(
        "campaign_targets.csv",
        [dict(zip(TARGET_COLUMNS, target_row(t, REPORTS_FROM), strict=True)) for t in TARGETS],
    )


def target_row(target: tuple, start: str) -> tuple:
    target_id, scope, level, metric, threshold, due, group, description = target
    return (target_id, scope, level, metric, threshold, start, due, group, description)


def phone(key: str) -> str:
    """A phone-number-shaped contact derived from ``key`` (generated, never real)."""
    number = f"{stable_int(key, 10**8):08d}"
    return f"+84 9{number[0]} {number[1:4]} {number[4:]}"


def build_registry(provinces: list[dict[str, str]], districts: list[dict[str, str]]) -> None:
    """Every district's People's Committee plus ten provincial agencies per province. A
    committee's ``area_code`` is the unit whose figures it reports (its district)."""
    province_rows = []
    for p in provinces:
        code = p["province_code"]
        province_rows.append(
            {
                "province_code": code,
                "deadline_local": DEADLINES.get(code, DEFAULT_DEADLINE),
                "digest_email": f"sotttt.p{code}@example.org",
                "escalation_email": f"bcd.p{code}@example.org",
            }
        )
    write_csv("province_reporting.csv", province_rows)
    deadline = {row["province_code"]: row["deadline_local"] for row in province_rows}

    units = []
    for d in districts:
        if d["population_basis"] == "no_census_population":
            continue  # Hoàng Sa: no resident population, no reporting duty
        code = d["district_code"]
        units.append(
            {
                "unit_code": code,
                "unit_name": f"UBND {d['district_name_full']}",
                "unit_name_ascii": f"UBND {ascii_name(d['district_name_full'])}",
                "unit_kind": "district_committee",
                "province_code": d["province_code"],
                "district_code": code,
                "deadline_local": deadline[d["province_code"]],
                "reports_from": REPORTS_FROM,
                "reports_to": "",
                "contact_email": f"vanphong.d{code}@example.org",
                "contact_phone": phone(f"contact:{code}"),
                "escalation_email": f"chutich.d{code}@example.org",
                "area_code": code,
            }
        )
    units += agencies(provinces, deadline, REPORTS_FROM)
    write_csv("reporting_units.csv", units)


def agencies(
    provinces: list[dict[str, str]], deadline: dict[str, str], reports_from: str
) -> list[dict[str, object]]:
    """The ten provincial agencies of every province (``<province code>-<abbreviation>``)."""
    units: list[dict[str, object]] = []
    for p in provinces:
        code = p["province_code"]
        for abbrev, name, name_ascii in AGENCIES:
            unit_code = f"{code}-{abbrev}"
            units.append(
                {
                    "unit_code": unit_code,
                    "unit_name": f"{name} {p['province_name']}",
                    "unit_name_ascii": f"{name_ascii} {p['province_name_ascii']}",
                    "unit_kind": "provincial_agency",
                    "province_code": code,
                    "district_code": "",
                    "deadline_local": deadline[code],
                    "reports_from": reports_from,
                    "reports_to": "",
                    "contact_email": f"vanthu.{abbrev.lower()}.p{code}@example.org",
                    "contact_phone": phone(f"contact:{unit_code}"),
                    "escalation_email": f"giamdoc.{abbrev.lower()}.p{code}@example.org",
                    "area_code": "",
                }
            )
    return units


# -- a campaign on the 2025 units ------------------------------------------------------------


def deadlines_2025(units: Units2025) -> dict[str, str]:
    """Each 2025 province's deadline: the earliest its 2020 provinces' letters set (An Giang's
    15:00 goes to the An Giang of 2025, which took in Kiên Giang), 16:00 by default."""
    return {
        p["province_code"]: min(
            DEADLINES.get(old, DEFAULT_DEADLINE)
            for old in units.provinces_2020_of(p["province_code"])
        )
        for p in units.provinces
    }


def build_registry_2025(units: Units2025) -> None:
    """The registry of a campaign on the 2025 units: the People's Committee of every commune
    with a resident population (``unit_code`` = ``area_code`` = its 5-digit code; every
    commune but Hoàng Sa, as in 2020) and the same ten agencies per 2025 province."""
    deadline = deadlines_2025(units)
    write_csv(
        "province_reporting_2025.csv",
        [
            {
                "province_code": code,
                "deadline_local": deadline[code],
                "digest_email": f"sotttt.p{code}@example.org",
                "escalation_email": f"bcd.p{code}@example.org",
            }
            for code in (p["province_code"] for p in units.provinces)
        ],
    )
    committees: list[dict[str, object]] = []
    for c in units.communes:
        if c["population_basis"] == "no_census_population":
            continue  # Hoàng Sa: no resident population, no reporting duty
        code = c["commune_code"]
        committees.append(
            {
                "unit_code": code,
                "unit_name": f"UBND {c['commune_name_full']}",
                "unit_name_ascii": f"UBND {ascii_name(c['commune_name_full'])}",
                "unit_kind": "commune_committee",
                "province_code": c["province_code"],
                "district_code": "",
                "deadline_local": deadline[c["province_code"]],
                "reports_from": REPORTS_FROM_2025,
                "reports_to": "",
                "contact_email": f"vanphong.x{code}@example.org",
                "contact_phone": phone(f"contact:{code}"),
                "escalation_email": f"chutich.x{code}@example.org",
                "area_code": code,
            }
        )
    write_csv(
        "reporting_units_2025.csv",
        committees + agencies(units.provinces, deadline, REPORTS_FROM_2025),
    )


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def build_targets_2025(units: Units2025, provinces_2020: list[dict[str, str]]) -> None:
    """The letters' targets carried onto a campaign on the 2025 units: a province's target goes
    to the 2025 province its own lies in, due the same number of days into the campaign; a
    rank among the provinces keeps its place relative to their number (10th of 63 is 5th of
    34)."""
    names_2020 = {p["province_code"]: p["province_name"] for p in provinces_2020}
    names_2025 = {p["province_code"]: p["province_name"] for p in units.provinces}
    start_2020, start_2025 = date.fromisoformat(REPORTS_FROM), date.fromisoformat(REPORTS_FROM_2025)

    def shifted(day: str) -> date:
        return start_2025 + (date.fromisoformat(day) - start_2020)

    rows = []
    for target_id, scope, level, metric, threshold, due, group, description in TARGETS:
        due_2025 = shifted(due)
        if level == "province":
            old, scope = scope, units.province_2025_of(scope)
            target_id = target_id.replace(f"p{old}_", f"p{scope}_", 1)
            what = description.split(": ", 1)[1]
            if metric == "rank_by_installs":
                threshold = max(1, round(threshold * len(names_2025) / len(names_2020)))
                what = f"or at least {_ordinal(threshold)} of the provinces by installs"
                target_id = f"p{scope}_top{threshold}_installs"
            named = names_2025[scope]
            if names_2020[old] != named:
                named += f" (the letter of {names_2020[old]})"
            description = f"{named}: {what}"
            if group:
                group = f"p{scope}_{due_2025:%Y_%m_%d}"
        row = (target_id, scope, level, metric, threshold, due_2025.isoformat(), group, description)
        rows.append(dict(zip(TARGET_COLUMNS, target_row(row, REPORTS_FROM_2025), strict=True)))
    assert len({r["target_id"] for r in rows}) == len(rows)
    write_csv("campaign_targets_2025.csv", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refdata", type=Path, default=Path("../shared/refdata"))
    args = parser.parse_args()
    SEEDS.mkdir(exist_ok=True)
    provinces = build_provinces(args.refdata)
    districts = build_districts(args.refdata)
    build_communes(args.refdata)
    units_2025 = build_units_2025(args.refdata)
    build_smartphone_owners(args.refdata, provinces)
    build_targets()
    build_registry(provinces, districts)
    build_targets_2025(units_2025, provinces)
    build_registry_2025(units_2025)


if __name__ == "__main__":
    main()
