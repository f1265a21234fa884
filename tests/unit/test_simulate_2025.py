"""A campaign on the 2025 units (DESIGN §9): the seeds of its registry, recipients and targets,
and the simulator writing it (34 provinces and their communes, no district level).

Expected values come from the reference seeds, read here with the csv module and computed
here, never from the simulator's own tables. One small campaign (two provinces × five days,
An Giang with its 15:00 deadline) serves most tests; determinism and the subset property
run their own.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from bluezone_devtools.demo import campaign_line, demo_environment
from bluezone_devtools.simulate import (
    Campaign,
    FaultRates,
    Oracle,
    load_provinces,
    simulate_campaign,
    simulate_in_memory,
)
from bluezone_devtools.simulate.faults import CHILDREN_CHECK
from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR, load_settings
from bluezone_warehouse.names import ascii_fold, slug
from bluezone_warehouse.registry import load_registry
from tests.unit.test_simulate import (
    BOUNDARIES,  # the checks with boundary probes: the same on both unit sets
    Unreadable,
    fingerprint,
    read_export,
    read_report,
    read_truth,
)

PROVINCES = ["12", "91"]  # Lai Châu (38 communes), An Giang (102, reporting by 15:00)
START, END = date(2026, 9, 1), date(2026, 9, 5)
SMALL = {"provinces": PROVINCES, "start": START, "end": END, "units": "2025"}
REGISTRY_COLUMNS = [
    "unit_code",
    "unit_name",
    "unit_name_ascii",
    "unit_kind",
    "province_code",
    "district_code",
    "deadline_local",
    "reports_from",
    "reports_to",
    "contact_email",
    "contact_phone",
    "escalation_email",
    "area_code",
]
TRUTH_COLUMNS = {
    "truth_installs.csv": "snapshot_date,level,unit_code,installs,installs_with_phone",
    "truth_exported.csv": "snapshot_date,level,unit_code,installs,installs_with_phone",
    "truth_reports.csv": "report_date,unit_code,province_code,deadline_local,status,"
    "submitted_at_local,minutes_late,submissions_count,installs_reported,staff_total,"
    "staff_installed,source_file,status_at_deadline",
    "faults.csv": "fault_id,kind,unit_code,province_code,day,file,detail,caused_by,observed,"
    "limit,origin",
    "boundary_probes.csv": "probe_id,check,side,unit_code,province_code,day,observed,limit,"
    "flagged,fault_id,what",
}


def rows(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


PROVINCES_2025 = {p["province_code"]: p for p in rows("ref_provinces_2025.csv")}
COMMUNES_2025 = {c["commune_code"]: c for c in rows("ref_communes_2025.csv")}
POPULATED = {code: c for code, c in COMMUNES_2025.items() if c["population_total_est"]}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small2025")
    simulate_campaign(out, **SMALL)
    return out


# the seeds ----------------------------------------------------------------------------------


def test_the_2025_registry_has_every_populated_commune_and_ten_agencies_per_province() -> None:
    units = rows("reporting_units_2025.csv")
    assert header(SEEDS_DIR / "reporting_units_2025.csv") == REGISTRY_COLUMNS
    assert header(SEEDS_DIR / "reporting_units.csv") == REGISTRY_COLUMNS
    hoang_sa = [
        c for c in COMMUNES_2025.values() if c["population_basis"] == "no_census_population"
    ]
    assert [c["commune_name"] for c in hoang_sa] == ["Hoàng Sa"]
    assert Counter(u["unit_kind"] for u in units) == {
        "commune_committee": 3_320,
        "provincial_agency": 340,
    }
    committees = [u for u in units if u["unit_kind"] == "commune_committee"]
    assert {u["unit_code"] for u in committees} == set(COMMUNES_2025) - {
        hoang_sa[0]["commune_code"]
    }
    assert len({u["unit_code"] for u in units}) == len(units)
    for unit in committees:
        commune = COMMUNES_2025[unit["area_code"]]
        assert re.fullmatch(r"\d{5}", unit["unit_code"]), unit
        assert unit["area_code"] == unit["unit_code"] and unit["district_code"] == ""
        assert commune["province_code"] == unit["province_code"], unit
        assert unit["unit_name"] == f"UBND {commune['commune_name_full']}"
        assert unit["unit_name_ascii"] == ascii_fold(unit["unit_name"])
    assert next(u for u in committees if u["unit_code"] == "00004")["unit_name"] == (
        "UBND Phường Ba Đình"
    )
    agencies = [u for u in units if u["unit_kind"] == "provincial_agency"]
    assert Counter(u["province_code"] for u in agencies) == dict.fromkeys(PROVINCES_2025, 10)
    for unit in agencies:
        assert re.fullmatch(rf"{unit['province_code']}-[A-Z]+", unit["unit_code"]), unit
        assert unit["area_code"] == unit["district_code"] == ""
        assert unit["unit_name"].endswith(
            " " + PROVINCES_2025[unit["province_code"]]["province_name"]
        )
    assert {u["reports_from"] for u in units} == {"2026-09-01"}
    assert {u["reports_to"] for u in units} == {""}
    for unit in units:
        assert unit["contact_email"].endswith("@example.org")
        assert unit["escalation_email"].endswith("@example.org")


def test_the_2020_registry_names_each_committees_district_as_its_area() -> None:
    for unit in rows("reporting_units.csv"):
        expected = unit["district_code"] if unit["unit_kind"] == "district_committee" else ""
        assert unit["area_code"] == expected, unit


def test_every_2025_province_has_recipients_and_an_giang_reports_by_15h() -> None:
    reporting = {r["province_code"]: r for r in rows("province_reporting_2025.csv")}
    assert set(reporting) == set(PROVINCES_2025)
    crosswalk = {
        x["province_code_2020"]: x["province_code_2025"]
        for x in rows("xwalk_provinces_2020_2025.csv")
    }
    an_giang = crosswalk["89"]
    assert an_giang == "91"
    assert {code for code, r in reporting.items() if r["deadline_local"] == "15:00"} == {an_giang}
    assert Counter(r["deadline_local"] for r in reporting.values()) == {"16:00": 33, "15:00": 1}
    for r in reporting.values():
        assert r["digest_email"].endswith("@example.org")
        assert r["escalation_email"].endswith("@example.org")
    for unit in rows("reporting_units_2025.csv"):
        assert unit["deadline_local"] == reporting[unit["province_code"]]["deadline_local"]


def test_the_2025_targets_mirror_the_letters_on_the_2025_provinces() -> None:
    targets = rows("campaign_targets_2025.csv")
    assert header(SEEDS_DIR / "campaign_targets_2025.csv") == header(
        SEEDS_DIR / "campaign_targets.csv"
    )
    crosswalk = {
        x["province_code_2020"]: x["province_code_2025"]
        for x in rows("xwalk_provinces_2020_2025.csv")
    }
    assert {
        (t["scope_code"], t["metric"], float(t["threshold"]), t["due_date"]) for t in targets
    } == {
        ("VN", "share_smartphone_owners", 0.60, "2026-09-20"),
        (crosswalk["30"], "share_smartphone_owners", 0.60, "2026-09-20"),
        (crosswalk["30"], "rank_by_installs", 5.0, "2026-09-20"),  # 10th of 63 ~ 5th of 34
        (crosswalk["58"], "share_smartphone_owners", 0.50, "2026-09-20"),
        (crosswalk["08"], "share_smartphone_owners", 0.50, "2026-09-25"),
        (crosswalk["89"], "share_smartphone_owners", 0.60, "2026-09-20"),
    }
    assert {t["start_date"] for t in targets} == {"2026-09-01"}
    either = [t for t in targets if t["scope_code"] == crosswalk["30"]]
    assert len({t["any_of_group"] for t in either}) == 1 and either[0]["any_of_group"]
    assert len({t["target_id"] for t in targets}) == len(targets)


def test_the_warehouse_registry_reads_the_2025_seeds() -> None:
    registry = load_registry(SEEDS_DIR, "2025")
    assert set(registry.provinces) == set(PROVINCES_2025)
    assert registry.provinces["91"].deadline_local == "15:00"
    committees = [u for u in registry.units if u.is_committee]
    assert len(committees) == 3_320 and len(registry.units) == 3_660
    assert {u.area_code for u in committees} == set(POPULATED)
    assert {u.area_code for u in registry.units if not u.is_committee} == {""}


# the simulator's units and denominators ------------------------------------------------------


def test_the_simulated_2025_provinces_have_their_communes_and_the_stated_denominators() -> None:
    """Province: the seed's population, 15+, 18+, and the sum of its 2020 provinces'
    smartphone owners; commune: its estimated population, the rest its province's in
    proportion (unrounded)."""
    owners_2020 = {
        o["province_code"]: int(o["smartphone_owners_est"])
        for o in rows("ref_smartphone_owners.csv")
    }
    olds = [
        x for x in rows("xwalk_provinces_2020_2025.csv") if x["province_code_2025"] in PROVINCES
    ]
    for province in load_provinces(PROVINCES, units="2025"):
        seed = PROVINCES_2025[province.code]
        total, p15, p18 = (int(seed[f"population_{k}"]) for k in ("total", "15plus", "18plus"))
        owners = sum(
            owners_2020[x["province_code_2020"]]
            for x in olds
            if x["province_code_2025"] == province.code
        )
        assert province.area_level == "commune"
        assert province.denominators == {
            "population_total": total,
            "population_15plus": p15,
            "population_18plus": p18,
            "smartphone_owners": owners,
        }
        communes = sorted(
            c for c, row in POPULATED.items() if row["province_code"] == province.code
        )
        assert [a.code for a in province.areas] == communes
        assert len(communes) == int(seed["n_communes"])  # no Hoàng Sa in these two
        for area in province.areas:
            people = int(POPULATED[area.code]["population_total_est"])
            assert area.denominators == {
                "population_total": people,
                "population_15plus": people * p15 / total,
                "population_18plus": people * p18 / total,
                "smartphone_owners": owners * people / total,
            }, area.code
        committees = {u.code for u in province.units if u.is_committee}
        assert committees == set(communes)
        assert len(province.units) == len(communes) + 10


def test_hoang_sa_has_no_commune_and_no_reporting_unit() -> None:
    (da_nang,) = load_provinces(["48"], units="2025")
    hoang_sa = next(c for c, row in COMMUNES_2025.items() if row["commune_name"] == "Hoàng Sa")
    assert hoang_sa not in {a.code for a in da_nang.areas}
    assert len(da_nang.areas) == int(PROVINCES_2025["48"]["n_communes"]) - 1
    assert hoang_sa not in {u.code for u in da_nang.units}


def test_2020_codes_are_refused_on_the_2025_units() -> None:
    with pytest.raises(ValueError, match="2025 units"):
        load_provinces(["30"], units="2025")  # Hải Dương is part of Hải Phòng (31) now


# the small campaign ---------------------------------------------------------------------------


def test_the_truth_files_have_the_2020_columns(small: Path) -> None:
    truth = small / "_simulation"
    for name, columns in TRUTH_COLUMNS.items():
        assert header(truth / name) == columns.split(","), name
    parameters = json.loads((truth / "simulation.json").read_text())
    assert (parameters["units"], parameters["provinces"]) == ("2025", PROVINCES)
    assert (parameters["start"], parameters["end"]) == ("2026-09-01", "2026-09-05")


def test_exports_have_province_and_commune_rows_of_the_simulated_provinces(small: Path) -> None:
    communes = {c for c, row in POPULATED.items() if row["province_code"] in PROVINCES}
    files = sorted((small / "installs").iterdir())
    days = {path.name[9:17] for path in files}
    assert len(days) >= 4  # one may be stale, never the first or the last
    seen: set[str] = set()
    for path in files:
        assert re.fullmatch(r"installs_202609\d\d(_v2)?\.(csv|csv\.gz|parquet)", path.name)
        _, frame = read_export(path)
        assert set(frame["level"]) == {"province", "commune"}, path.name
        provinces = frame.loc[frame["level"] == "province", "unit_code"]
        assert sorted(provinces) == PROVINCES, path.name
        codes = frame.loc[frame["level"] == "commune", "unit_code"]
        assert codes.str.fullmatch(r"\d{5}").all() and set(codes) <= communes, path.name
        assert len(codes) >= len(communes) - 1  # an incomplete export lacks one row
        seen |= set(codes)
        arrival = datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ)
        assert arrival.date() - date.fromisoformat(frame["snapshot_date"].iloc[0]) == timedelta(1)
    assert seen == communes


def _sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Each day's province rows beside the sum of its commune rows (seed's provinces)."""
    frame = frame.assign(installs=frame["installs"].astype(int))
    communes = frame[frame["level"] == "commune"].copy()
    communes["province"] = communes["unit_code"].map(
        {code: row["province_code"] for code, row in COMMUNES_2025.items()}
    )
    sums = communes.groupby(["snapshot_date", "province"])["installs"].sum()
    totals = frame[frame["level"] == "province"].set_index(["snapshot_date", "unit_code"])
    totals.index.names = ["snapshot_date", "province"]
    return totals.assign(communes=sums)


def test_true_commune_figures_sum_to_at_most_their_province(small: Path) -> None:
    sums = _sums(read_truth(small, "truth_installs.csv"))
    assert len(sums) == len(PROVINCES) * 5
    assert (sums["communes"] <= sums["installs"]).all()
    assert (sums["communes"] >= 0.95 * sums["installs"]).all()  # unattributed under 5 %


def test_exported_communes_exceed_their_province_exactly_where_the_truth_says(
    small: Path,
) -> None:
    """The 2025 name of the check: children_exceed_parent (the 2020 one never appears)."""
    sums = _sums(read_truth(small, "truth_exported.csv"))
    over = {(code, day) for (day, code), r in sums.iterrows() if r["communes"] > r["installs"]}
    faults = read_truth(small, "faults.csv")
    assert CHILDREN_CHECK == "children_exceed_parent"
    listed = faults[faults["kind"] == "children_exceed_parent"]
    assert over and over == set(zip(listed["unit_code"], listed["day"], strict=True))
    assert "district_sum_exceeds_province" not in set(faults["kind"])
    probes = read_truth(small, "boundary_probes.csv")
    assert "district_sum_exceeds_province" not in set(probes["check"])


def test_coverage_flags_use_the_2025_denominators(small: Path) -> None:
    """coverage_over_100 in faults.csv is exactly the exported rows above any of the unit's
    denominators, as computed here from the seeds."""
    owners_2020 = {
        o["province_code"]: int(o["smartphone_owners_est"])
        for o in rows("ref_smartphone_owners.csv")
    }
    crosswalk = rows("xwalk_provinces_2020_2025.csv")
    smallest: dict[str, float] = {}
    for code in PROVINCES:
        seed = PROVINCES_2025[code]
        total, p15, p18 = (int(seed[f"population_{k}"]) for k in ("total", "15plus", "18plus"))
        owners = sum(
            owners_2020[x["province_code_2020"]]
            for x in crosswalk
            if x["province_code_2025"] == code
        )
        smallest[code] = min(total, p15, p18, owners)
        for commune, row in POPULATED.items():
            if row["province_code"] == code:
                people = int(row["population_total_est"])
                smallest[commune] = min(people, people * p18 / total, owners * people / total)
    exported = read_truth(small, "truth_exported.csv")
    over = {
        (r.unit_code, r.snapshot_date)
        for r in exported.itertuples()
        if int(r.installs) > smallest[r.unit_code]
    }
    faults = read_truth(small, "faults.csv")
    listed = faults[faults["kind"] == "coverage_over_100"]
    assert over and over == set(zip(listed["unit_code"], listed["day"], strict=True))


def _name_key(name: str) -> str:
    """A commune committee's name as it may be written (``UBND P. Ba Đình``, ``Xa Da Phuc``),
    folded to compare with the registry's."""
    text = " ".join(ascii_fold(name).casefold().split()).removeprefix("ubnd ")
    for short, full in (("p.", "phuong "), ("x.", "xa ")):
        if text.startswith(short):
            text = full + text[len(short) :].lstrip()
    return text


def test_reports_come_from_the_2025_registry_units(small: Path) -> None:
    registry = rows("reporting_units_2025.csv")
    by_code = {u["unit_code"]: u for u in registry}
    keys = Counter(_name_key(u["unit_name"]) for u in registry)
    by_name = {
        _name_key(u["unit_name"]): u for u in registry if keys[_name_key(u["unit_name"])] == 1
    }
    faults = read_truth(small, "faults.csv")
    unknown = {f.file for f in faults.itertuples() if f.kind == "unknown_unit"}
    mismatched = {f.file for f in faults.itertuples() if f.kind == "code_name_mismatch"}
    senders: set[str] = set()
    strangers: set[str] = set()
    by_names = 0
    for path in sorted((small / "reports").iterdir()):
        file = f"reports/{path.name}"
        assert re.fullmatch(r"202609\d\d_(12|91)_[a-z0-9_-]+\.(csv|xlsx|json)", path.name)
        try:
            records = read_report(path)
        except Unreadable:
            continue
        for record in records:
            coded = by_code.get(record["unit_code"])
            named = by_name.get(_name_key(record["unit_name"]))
            if coded is None and named is None:
                strangers.add(file)
                continue
            if coded is not None and named is not None and coded is not named:
                assert file in mismatched
                continue
            unit = coded or named
            by_names += coded is None
            senders.add(unit["unit_code"])
            if unit["unit_kind"] == "commune_committee" and not path.name.endswith(
                ("_lan2.csv", "_lan2.xlsx", "_lan2.json")
            ):
                commune = COMMUNES_2025[unit["area_code"]]
                assert slug(commune["commune_name_full"]) in path.name
    assert strangers == unknown and unknown
    assert by_names > 0  # some committees write a name, not their code
    expected = {u["unit_code"] for u in registry if u["province_code"] in PROVINCES}
    assert senders <= expected and len(senders) > 0.9 * len(expected)
    truth = read_truth(small, "truth_reports.csv")
    assert Counter(truth["report_date"]) == dict.fromkeys(
        [f"2026-09-0{d}" for d in range(1, 6)], len(expected)
    )
    assert set(truth["unit_code"]) == expected
    deadlines = set(zip(truth["province_code"], truth["deadline_local"], strict=True))
    assert deadlines == {("12", "16:00"), ("91", "15:00")}


def test_the_same_arguments_give_identical_files_and_mtimes(small: Path, tmp_path: Path) -> None:
    simulate_campaign(tmp_path, **SMALL)
    first, second = fingerprint(small), fingerprint(tmp_path)
    assert len(first) > 0.9 * 5 * (38 + 102) and first == second


def test_a_subset_of_the_2025_provinces_gets_the_same_figures(tmp_path: Path) -> None:
    subset = {**SMALL, "provinces": ["12"]}
    for name, faults in (("clean", FaultRates.none()), ("default", FaultRates())):
        simulate_campaign(tmp_path / f"{name}-all", faults=faults, **SMALL)
        simulate_campaign(tmp_path / f"{name}-one", faults=faults, **subset)
        whole = read_truth(tmp_path / f"{name}-all", "truth_installs.csv")
        part = read_truth(tmp_path / f"{name}-one", "truth_installs.csv")
        same = whole[whole["unit_code"].isin(part["unit_code"])].reset_index(drop=True)
        assert len(part) == 5 * (1 + 38) and part.reset_index(drop=True).equals(same)
    whole, part = fingerprint(tmp_path / "clean-all"), fingerprint(tmp_path / "clean-one")
    reports = {k: v for k, v in part.items() if k.startswith("reports/")}
    assert len(reports) == 5 * (38 + 1) and all(whole[k] == v for k, v in reports.items())


def test_the_default_2025_campaign_is_a_present_day_one(tmp_path: Path) -> None:
    result = simulate_campaign(
        tmp_path, provinces=["12"], end=date(2026, 9, 2), units="2025", faults=FaultRates.none()
    )
    assert result.days == [date(2026, 9, 1), date(2026, 9, 2)]
    with pytest.raises(ValueError, match="2020 units"):
        simulate_campaign(tmp_path / "x", provinces=["12"], units="2025", commune_level=True)


# the ground truth's definitions on the 2025 units ----------------------------------------------


@pytest.fixture(scope="module")
def probed() -> Campaign:
    """Four provinces for three weeks: room for every boundary probe."""
    provinces = ["12", "31", "56", "91"]
    return simulate_in_memory(START, date(2026, 9, 20), provinces, 7, FaultRates(), "2025")


def test_every_threshold_gets_a_probe_on_each_side_on_the_2025_units(probed: Campaign) -> None:
    placed = {(p.check, p.side) for p in probed.probes}
    assert placed == {(check, side) for check in BOUNDARIES for side in ("at", "over")}
    simulated = {p.code for p in probed.provinces}
    communes = {c for c, row in POPULATED.items() if row["province_code"] in simulated}
    coverage = [p for p in probed.probes if p.check == "coverage_over_100"]
    assert {p.unit_code for p in coverage} <= communes
    assert {p.side for p in coverage if "population_18plus" in p.limit} == {"at", "over"}
    # an unrounded 18+ estimate: "at" is the last whole number under it, "over" the next
    for probe in coverage:
        if "population_18plus" in probe.limit:
            row = POPULATED[probe.unit_code]
            province = PROVINCES_2025[row["province_code"]]
            cap = Fraction(
                int(row["population_total_est"]) * int(province["population_18plus"]),
                int(province["population_total"]),
            )
            assert int(probe.observed) == math.floor(cap) + (probe.side == "over")
            assert probe.flagged == (probe.side == "over")


def test_the_definitions_flag_exactly_the_probes_and_the_injected_faults(probed: Campaign) -> None:
    expected = {(e.check, e.unit_code, e.day) for e in Oracle(probed).expected(None)}
    verdicts = {(p.check, p.side, p.unit_code, p.day): p.flagged for p in probed.probes}
    found = {
        (p.check, p.side, p.unit_code, p.day): (p.check, p.unit_code, p.day) in expected
        for p in probed.probes
    }
    assert found == verdicts
    injected = {f.key for f in probed.faults if f.kind not in ("stale_export", "redelivery")}
    assert {k[0] for k in injected} >= {"children_exceed_parent", "coverage_over_100"}
    assert injected - expected == set()


# the demo -------------------------------------------------------------------------------------


def test_the_demo_runs_under_the_2025_units_and_counts_from_the_seeds() -> None:
    env = demo_environment("2025")
    assert (
        env["BLUEZONE_UNITS"],
        env["BLUEZONE_CAMPAIGN_START"],
        env["BLUEZONE_CAMPAIGN_END"],
    ) == (
        "2025",
        "2026-09-01",
        "2026-12-31",
    )
    settings = load_settings(env)
    assert (settings.units, settings.campaign_start) == ("2025", date(2026, 9, 1))
    line = campaign_line("2025", date(2026, 9, 1), date(2026, 9, 21), 2020)
    assert "63" not in line
    assert "all 34 provinces, 3,320 commune committees and 340 provincial agencies" in line
    assert "all 63 provinces, 706 district committees and 630" in campaign_line(
        "2020", date(2020, 8, 1), date(2020, 8, 25), 2020
    )
