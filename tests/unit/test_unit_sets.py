"""The unit sets a campaign can report on (DESIGN §9): their declaration, the settings that
pick one, and the export checks and name matching that follow from it."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from bluezone_warehouse.config import SEEDS_DIR, load_settings
from bluezone_warehouse.ingest.exports import ExportChecker, ExportRejected
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.quality.expectations import unit_set_parameters
from bluezone_warehouse.registry import load_registry
from bluezone_warehouse.units import unit_set, unit_set_with_levels, unit_sets
from tests.conftest import rows_of

DAY = date(2026, 9, 3)


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["2020", "2025"])
def test_every_declared_set_is_whole(name: str) -> None:
    declared = unit_set(name)
    assert declared.levels[0] == "nation" and "province" in declared.levels
    assert set(declared.export_levels) <= set(declared.code_digits)
    assert {"province", declared.area_level} <= set(declared.export_levels)
    for seed in (
        declared.provinces_seed,
        declared.areas_seed,
        declared.registry_seed,
        declared.province_reporting_seed,
        declared.targets_seed,
        *declared.export_levels.values(),
    ):
        assert (SEEDS_DIR / declared.seed_file(seed)).is_file(), seed
    for level, seed in declared.export_levels.items():
        codes = [row[f"{level}_code"] for row in _rows(declared.seed_file(seed))]
        assert {len(code) for code in codes} == {declared.digits(level)}, level
    kinds = {row["unit_kind"] for row in _rows(declared.seed_file(declared.registry_seed))}
    assert kinds == {declared.committee_kind, "provincial_agency"}
    assert unit_set_with_levels(reversed(declared.levels)) == declared


def test_the_two_sets_differ_where_the_reform_did() -> None:
    old, new = unit_set("2020"), unit_set("2025")
    assert (old.area_level, new.area_level) == ("district", "commune")
    assert "region" in old.levels and "region" not in new.levels
    assert new.carried_from == "2020" and old.carried_from is None
    assert unit_set_parameters("2025") | {"unit_levels": None} == {
        "unit_levels": None,
        "area_level": "commune",
        "committee_kinds": ["commune_committee", "provincial_agency"],
        "regions_count": 0,
        "provinces_count": 34,
        "areas_count": 3321,
        "units_count": 1 + 34 + 3321,
        "history_rows_min": 0,
    }
    assert unit_set_parameters("2020")["units_count"] == 1 + 6 + 63 + 707


def test_the_setting_picks_a_declared_set_or_says_which_exist() -> None:
    assert load_settings({}).units == "2020"
    assert load_settings({"BLUEZONE_UNITS": " 2025 "}).units == "2025"
    with pytest.raises(ValueError, match=r"BLUEZONE_UNITS must be one of 2020, 2025, not '2019'"):
        load_settings({"BLUEZONE_UNITS": "2019"})
    with pytest.raises(ValueError, match="declared sets are 2020, 2025"):
        unit_set("1975")
    assert set(unit_sets()) == {"2020", "2025"}


def test_the_campaign_window_is_the_sets_unless_set() -> None:
    """A campaign on the 2025 units needs no other setting for its report dates to count."""
    on_2025 = load_settings({"BLUEZONE_UNITS": "2025"})
    assert (on_2025.campaign_start, on_2025.campaign_end) == (date(2026, 9, 1), date(2026, 12, 31))
    on_2020 = load_settings({})
    assert (on_2020.campaign_start, on_2020.campaign_end) == (date(2020, 8, 1), date(2020, 12, 31))
    moved = load_settings({"BLUEZONE_UNITS": "2025", "BLUEZONE_CAMPAIGN_END": "2027-01-31"})
    assert (moved.campaign_start, moved.campaign_end) == (date(2026, 9, 1), date(2027, 1, 31))
    for name in ("2020", "2025"):
        registry = _rows(unit_set(name).seed_file(unit_set(name).registry_seed))
        assert {row["reports_from"] for row in registry} == {
            unit_set(name).campaign_start.isoformat()
        }


def _export(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "installs_20260903.csv"
    path.write_text(
        "snapshot_date,level,unit_code,installs,installs_with_phone\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_a_2025_export_has_provinces_and_communes_only(tmp_path: Path) -> None:
    path = _export(
        tmp_path,
        [
            "2026-09-03,province,12,5000,",
            "2026-09-03,commune,4,10,",  # 00004 Phường Ba Đình, Hà Nội: padded
            "2026-09-03,commune,03430,20,",
            "2026-09-03,district,105,30,",  # no districts since 1 July 2025
            "2026-09-03,commune,99999,40,",
        ],
    )
    checker = ExportChecker(SEEDS_DIR, unit_set("2025"))
    try:
        result = checker.check(path, DAY, file_name=path.name, language="en")
        good = [(row["level"], row["unit_code"]) for row in result.rows]
        rejected = rows_of(result.rejected)
    finally:
        checker.close()
    assert good == [("province", "12"), ("commune", "00004"), ("commune", "03430")]
    assert [(r["row_number"], r["column_name"], r["check_id"]) for r in rejected] == [
        (5, "level", "malformed_file"),
        (6, "unit_code", "unknown_unit"),
    ]
    assert "write province or commune" in rejected[0]["message"]
    assert "2 digits for a province, 5 for a commune" in rejected[1]["message"]


def test_a_2020_export_still_names_districts(tmp_path: Path) -> None:
    path = _export(tmp_path, ["2026-09-03,region,DBSH,10,"])
    checker = ExportChecker(SEEDS_DIR, unit_set("2020"))
    try:
        rejected = rows_of(checker.check(path, DAY, file_name=path.name, language="vi").rejected)
    finally:
        checker.close()
    assert "hãy ghi province, district hoặc commune" in rejected[0]["message"]


def test_an_event_export_is_refused_whole_on_the_2025_units(tmp_path: Path) -> None:
    """Events name 2020 districts: none is attributed to a 2025 unit sharing its code."""
    checker = ExportChecker(SEEDS_DIR, unit_set("2025"))
    name = "install_events_20260903.parquet"
    try:
        with pytest.raises(ExportRejected) as refused:
            checker.check_events(tmp_path / name, DAY, file_name=name, language="en")
    finally:
        checker.close()
    assert refused.value.problem == "events_unit_set"
    refused.value.explain(name, "en")
    message = str(refused.value.message)
    assert "names 2020 districts, but this campaign reports on the 2025 units" in message
    assert "each row at level province or commune" in message


@pytest.mark.parametrize(
    ("code", "name", "provinces", "unit_code"),
    [
        ("4", None, set(), "00004"),
        (None, "UBND Phường Ba Đình", set(), "00004"),
        (None, "P. Ba Đình", set(), "00004"),
        (None, "phuong ba dinh", set(), "00004"),
        ("91-SYT", None, set(), "91-SYT"),
    ],
)
def test_commune_committees_are_matched_by_code_or_name(
    code: str | None, name: str | None, provinces: set[str], unit_code: str
) -> None:
    matcher = UnitMatcher.from_registry(load_registry(units="2025"))
    match = matcher.match(code, name, provinces)
    assert match.unit is not None and match.unit.unit_code == unit_code
    assert match.unit.area_code == ("" if "-" in unit_code else unit_code)
