"""Tests of the campaign simulator: determinism, figures, landing-zone formats, fault manifest,
DESIGN §5's definitions as ground truth and the boundary probes.

Small campaigns (2 provinces × 5 days, 10 provinces × 10 days, 4 provinces × 20 days in
memory) keep them to a few seconds. A reference reader at the bottom parses every report
file the way DESIGN §3.3 describes and checks that the files say what ``truth_reports.csv``
and ``faults.csv`` claim.
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import io
import json
import re
from dataclasses import fields
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

import bluezone_devtools.simulate as simulate_package
from bluezone_devtools.simulate import (
    EXPORT_COLUMNS,
    FAULT_KINDS,
    Campaign,
    ExportView,
    FaultRates,
    Limits,
    Oracle,
    format_count,
    load_provinces,
    simulate_adoption,
    simulate_campaign,
    simulate_in_memory,
)
from bluezone_devtools.simulate.definitions import (
    Rejection,
    Submission,
    UnitDayState,
    daily_increments,
    export_expectations,
    judge_increment,
    report_expectations,
    stale_expectations,
    status_at_deadline,
    unit_day_state,
)
from bluezone_warehouse.checks import threshold
from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import ascii_fold, slug

SMALL = {"provinces": ["02", "04"], "start": date(2020, 8, 1), "end": date(2020, 8, 5)}
TEN = ["01", "02", "04", "06", "08", "10", "11", "12", "14", "15"]
DSC_KINDS = set(FAULT_KINDS) - {"redelivery"}
EXPORT_CHECKS = {
    "decreasing_cumulative",
    "children_exceed_parent",
    "unattributed_share",
    "outlier_increment",
    "coverage_over_100",
    "export_incomplete",
    "installs_with_phone_exceeds_installs",
}
PROBED = {
    "provinces": ["01", "08", "30", "89"],
    "start": date(2020, 8, 1),
    "end": date(2020, 8, 20),
}
LIMITS = Limits.from_catalogue()
BOUNDARIES = {
    "installs_with_phone_exceeds_installs",
    "unattributed_share",
    "report_export_mismatch",
    "outlier_increment",
    "coverage_over_100",
    "staff_installed_exceeds_total",
    "decreasing_cumulative",
    "children_exceed_parent",
    "late_report",
}


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: its sha256 and mtime in nanoseconds."""
    return {
        str(path.relative_to(root)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def read_truth(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "_simulation" / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def ten_by_ten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ten")
    simulate_campaign(out, provinces=TEN, start=date(2020, 8, 1), end=date(2020, 8, 10))
    return out


@pytest.fixture(scope="module")
def probed() -> Campaign:
    """A campaign long enough for every boundary probe, with Hà Nội's large districts."""
    return simulate_in_memory(seed=7, rates=FaultRates(), **PROBED)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    simulate_campaign(out, faults=FaultRates.none(), **SMALL)
    return out


# names ----------------------------------------------------------------------------------


def test_ascii_fold_strips_every_vietnamese_mark() -> None:
    assert ascii_fold("Thành phố Hải Dương") == "Thanh pho Hai Duong"
    assert ascii_fold("Đắk Lắk, Đồng Tháp, Thuỷ Nguyên") == "Dak Lak, Dong Thap, Thuy Nguyen"
    assert ascii_fold("ỨNG DỤNG BLUEZONE") == "UNG DUNG BLUEZONE"


def test_slug_is_lowercase_ascii_with_dashes() -> None:
    assert slug("Thị xã Kỳ Anh") == "thi-xa-ky-anh"
    assert slug("Sở Lao động - Thương binh và Xã hội") == "so-lao-dong-thuong-binh-va-xa-hoi"


# options --------------------------------------------------------------------------------


def test_every_fault_rate_has_help_text() -> None:
    for option in fields(FaultRates):
        assert len(option.metadata.get("help", "")) > 20, option.name


def test_fault_rates_reject_values_outside_their_range() -> None:
    with pytest.raises(ValueError, match="late_report"):
        FaultRates(late_report=1.5)
    with pytest.raises(ValueError, match="coverage_over_100"):
        FaultRates(coverage_over_100=-1)
    with pytest.raises(ValueError, match="boundary_probes"):
        FaultRates(boundary_probes=0.5)


def test_refuses_to_overwrite_an_existing_landing_zone(clean: Path) -> None:
    with pytest.raises(FileExistsError):
        simulate_campaign(clean, faults=FaultRates.none(), **SMALL)


# determinism ----------------------------------------------------------------------------


def test_same_arguments_give_identical_files_and_mtimes(tmp_path: Path) -> None:
    simulate_campaign(tmp_path / "a", **SMALL)
    simulate_campaign(tmp_path / "b", **SMALL)
    assert fingerprint(tmp_path / "a") == fingerprint(tmp_path / "b")


def test_a_different_seed_gives_different_figures(tmp_path: Path) -> None:
    simulate_campaign(tmp_path / "a", **SMALL)
    simulate_campaign(tmp_path / "b", seed=7, **SMALL)
    first = read_truth(tmp_path / "a", "truth_installs.csv")
    second = read_truth(tmp_path / "b", "truth_installs.csv")
    assert not first.equals(second)


def test_a_subset_of_provinces_gets_the_same_figures(tmp_path: Path) -> None:
    subset = {**SMALL, "provinces": ["04"]}
    for name, faults in (("clean", FaultRates.none()), ("default", FaultRates())):
        simulate_campaign(tmp_path / f"{name}-all", faults=faults, **SMALL)
        simulate_campaign(tmp_path / f"{name}-one", faults=faults, **subset)
        whole = read_truth(tmp_path / f"{name}-all", "truth_installs.csv")
        part = read_truth(tmp_path / f"{name}-one", "truth_installs.csv")
        same_units = whole[whole["unit_code"].isin(part["unit_code"])]
        assert len(part) and part.reset_index(drop=True).equals(same_units.reset_index(drop=True))
    # Without faults, everything about province 04 is identical, files included.
    whole, part = fingerprint(tmp_path / "clean-all"), fingerprint(tmp_path / "clean-one")
    reports = {k: v for k, v in part.items() if k.startswith("reports/")}
    assert reports and all(whole[k] == v for k, v in reports.items())
    for name in ("truth_exported.csv", "truth_reports.csv"):
        one = read_truth(tmp_path / "clean-one", name)
        both = read_truth(tmp_path / "clean-all", name)
        key = "unit_code" if name == "truth_exported.csv" else "province_code"
        values = set(one[key])
        assert one.reset_index(drop=True).equals(
            both[both[key].isin(values)].reset_index(drop=True)
        )


# the true figures -------------------------------------------------------------------------


def test_cumulative_truth_is_monotone_and_districts_stay_under_the_province(
    ten_by_ten: Path,
) -> None:
    truth = pd.read_csv(ten_by_ten / "_simulation" / "truth_installs.csv", dtype={"unit_code": str})
    wide = truth.pivot(index="unit_code", columns="snapshot_date", values="installs")
    assert (wide.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    districts = truth[truth["level"] == "district"].copy()
    provinces = load_provinces(TEN)
    parent = {d.code: p.code for p in provinces for d in p.districts}
    districts["province"] = districts["unit_code"].map(parent)
    sums = districts.groupby(["snapshot_date", "province"])["installs"].sum()
    totals = truth[truth["level"] == "province"].set_index(["snapshot_date", "unit_code"])[
        "installs"
    ]
    totals.index.names = ["snapshot_date", "province"]
    assert (sums <= totals.loc[sums.index]).all()
    assert ((totals.loc[sums.index] - sums) / totals.loc[sums.index] < 0.05).all()


def test_national_installs_reach_about_twenty_million_by_20_august() -> None:
    days = [date(2020, 8, d) for d in range(1, 21)]
    total = sum(int(simulate_adoption(p, days, 2020).total[-1]) for p in load_provinces())
    assert 15_000_000 < total < 26_000_000


def test_a_clean_export_calls_for_no_flag() -> None:
    days = [date(2020, 8, d) for d in range(1, 26)]
    exported = np.ones(len(days), dtype=bool)
    for province in load_provinces(TEN):
        curves = simulate_adoption(province, days, 2020)
        view = ExportView(province, days, curves.installs, curves.total, exported)
        assert export_expectations(view, LIMITS) == [], province.code


# the clean campaign -----------------------------------------------------------------------


def test_the_clean_campaign_has_no_fault_and_every_report_on_time(clean: Path) -> None:
    assert (clean / "_simulation" / "faults.csv").read_text().strip().count("\n") == 0
    assert (clean / "_simulation" / "boundary_probes.csv").read_text().strip().count("\n") == 0
    reports = read_truth(clean, "truth_reports.csv")
    assert len(reports) > 0 and set(reports["status"]) == {"on_time"}
    assert set(reports["submissions_count"]) == {"1"}
    assert len(list((clean / "installs").iterdir())) == 5


# the export files -------------------------------------------------------------------------


def read_export(path: Path) -> tuple[list[str], pd.DataFrame]:
    """An export file's column names and its rows, every value as text ("" for empty)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        rows = [{k: "" if v is None else str(v) for k, v in r.items()} for r in table.to_pylist()]
        return table.column_names, pd.DataFrame(rows, columns=table.column_names)
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return list(frame.columns), frame


def test_export_files_follow_the_contract(ten_by_ten: Path) -> None:
    files = sorted((ten_by_ten / "installs").iterdir())
    assert {p.name.split(".", 1)[1] for p in files} >= {"csv"}
    for path in files:
        assert re.fullmatch(r"installs_\d{8}(_v2)?\.(csv|csv\.gz|parquet)", path.name)
        columns, frame = read_export(path)
        assert columns == list(EXPORT_COLUMNS), path.name
        codes = frame["unit_code"].astype(str)
        assert codes[frame["level"] == "province"].str.fullmatch(r"\d{2}").all()
        assert codes[frame["level"] == "district"].str.fullmatch(r"\d{3}").all()
        assert set(frame["snapshot_date"]) == {
            f"{path.name[9:13]}-{path.name[13:15]}-{path.name[15:17]}"
        }
        day = date.fromisoformat(frame["snapshot_date"].iloc[0])
        arrival = datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ)
        assert (arrival.date() - day).days == 1


def test_truth_exported_is_what_the_newest_deliveries_say(ten_by_ten: Path) -> None:
    newest: dict[str, Path] = {}
    for path in sorted((ten_by_ten / "installs").iterdir()):
        day = path.name[9:17]
        if day not in newest or path.stat().st_mtime > newest[day].stat().st_mtime:
            newest[day] = path
    frames = [read_export(path)[1] for path in newest.values()]
    files = pd.concat(frames).sort_values(["snapshot_date", "level", "unit_code"])
    truth = read_truth(ten_by_ten, "truth_exported.csv").sort_values(
        ["snapshot_date", "level", "unit_code"]
    )
    assert files.reset_index(drop=True).equals(truth.reset_index(drop=True))


def test_export_flags_in_the_truth_are_what_the_written_exports_call_for(
    ten_by_ten: Path,
) -> None:
    """faults.csv's export flags, recomputed from truth_exported.csv (what the files say)."""
    exported = read_truth(ten_by_ten, "truth_exported.csv")
    simulation = json.loads((ten_by_ten / "_simulation" / "simulation.json").read_text())
    start, end = date.fromisoformat(simulation["start"]), date.fromisoformat(simulation["end"])
    days = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    columns = [d.isoformat() for d in days]
    arrived = np.array([d in set(exported["snapshot_date"]) for d in columns])

    def wide(column: str) -> pd.DataFrame:
        cells = exported.assign(value=pd.to_numeric(exported[column].replace("", None)))
        return cells.pivot(index="unit_code", columns="snapshot_date", values="value").reindex(
            columns=columns
        )

    installs, phones = wide("installs"), wide("installs_with_phone")
    flags = set()
    for province in load_provinces(TEN):
        rows = [province.code, *(d.code for d in province.districts)]
        values = installs.reindex(rows)
        view = ExportView(
            province,
            days,
            values.iloc[1:].fillna(0).astype(np.int64).to_numpy(),
            values.iloc[0].fillna(0).astype(np.int64).to_numpy(),
            arrived,
            with_phone=phones.reindex(rows).fillna(-1).astype(np.int64).to_numpy(),
            absent=values.isna().to_numpy() & arrived[None, :],
        )
        found = export_expectations(view, LIMITS)
        flags |= {(e.check, e.unit_code, e.day.isoformat()) for e in found}
    faults = read_truth(ten_by_ten, "faults.csv")
    manifest = {
        (f.kind, f.unit_code, f.day) for f in faults.itertuples() if f.kind in EXPORT_CHECKS
    }
    assert flags == manifest
    assert {k for k, _, _ in flags} >= EXPORT_CHECKS - {"outlier_increment"}


# the fault manifest -----------------------------------------------------------------------


def test_every_check_is_exercised_and_every_fault_file_exists(ten_by_ten: Path) -> None:
    faults = read_truth(ten_by_ten, "faults.csv")
    assert set(faults["kind"]) >= DSC_KINDS | {"redelivery"}
    assert set(faults["kind"]) <= set(FAULT_KINDS)
    assert faults["fault_id"].is_unique
    for fault in faults.itertuples():
        if fault.kind in ("missing_report", "stale_export"):
            assert fault.file == ""
        else:
            assert (ten_by_ten / fault.file).is_file(), fault
    assert set(faults["caused_by"]) - {""} <= set(faults["fault_id"])


def test_late_and_missing_faults_match_the_final_report_states(ten_by_ten: Path) -> None:
    reports = read_truth(ten_by_ten, "truth_reports.csv")
    faults = read_truth(ten_by_ten, "faults.csv")
    for status, kind in (
        ("late", "late_report"),
        ("missing", "missing_report"),
        ("rejected", "report_rejected"),
    ):
        expected = set(
            zip(
                *(reports[reports["status"] == status][c] for c in ("unit_code", "report_date")),
                strict=True,
            )
        )
        listed = set(
            zip(*(faults[faults["kind"] == kind][c] for c in ("unit_code", "day")), strict=True)
        )
        assert expected == listed


# the report files, read as DESIGN §3.3 describes them ------------------------------------

HEADERS = {
    "ngay bao cao": "report_date",
    "ma don vi": "unit_code",
    "ten don vi": "unit_name",
    "don vi": "unit_name",
    "thoi gian gui": "submitted_at",
    "so luong cai dat": "installs_reported",
    "so nguoi da cai dat": "installs_reported",
    "tong so cbccvc": "staff_total",
    "so cbccvc da cai dat": "staff_installed",
    "so ho da tuyen truyen": "households_visited",
    "ghi chu": "note",
}
PREFIXES = {"q.": "quan ", "h.": "huyen ", "tx.": "thi xa ", "tp.": "thanh pho "}


class Unreadable(Exception):
    """A file or value the reference reader rejects (malformed_file)."""


def header_key(label: object) -> str:
    text = " ".join(ascii_fold(str(label)).casefold().replace("_", " ").split())
    return HEADERS.get(text, text.replace(" ", "_"))


def name_key(name: str) -> str:
    text = " ".join(ascii_fold(name).casefold().split()).removeprefix("ubnd ")
    for short, full in PREFIXES.items():
        if text.startswith(short):
            text = full + text[len(short) :].lstrip()
    return text


def parse_count(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,3}([.,]\d{3})+|\d+", text):
        raise Unreadable(f"count {text!r}")
    return int(re.sub(r"[.,]", "", text))


def parse_day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    text = str(value)
    return datetime.strptime(text, "%d/%m/%Y" if "/" in text else "%Y-%m-%d").date()


def parse_moment(value: object, arrival: datetime) -> datetime:
    if value is None:
        return arrival
    if isinstance(value, datetime):
        return value
    text = str(value)
    try:
        return datetime.strptime(text, "%d/%m/%Y %H:%M" if "/" in text else "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise Unreadable(f"time {text!r}") from error


def raw_rows(path: Path) -> list[list[object]]:
    data = path.read_bytes()
    if not data:
        raise Unreadable("empty")
    try:
        if path.suffix == ".csv":
            return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        if path.suffix == ".json":
            document = json.loads(data)
            records = document["rows"] if isinstance(document, dict) else document
            labels = list(records[0])
            return [labels, *([record.get(label) for label in labels] for record in records)]
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception as error:  # whatever fails to parse is a malformed file
        raise Unreadable(type(error).__name__) from error


def read_report(path: Path) -> list[dict[str, object]]:
    """Rows of a report file, with the header found and the totals row dropped. A row whose
    figure or time cannot be read still says who sent it and for which day: it comes with
    ``unreadable`` set (a file that cannot be read, or a row without a readable date, raises
    Unreadable)."""
    rows = raw_rows(path)
    start = next(
        i for i, row in enumerate(rows) if sum(header_key(c) in HEADERS.values() for c in row) >= 3
    )
    columns = [header_key(c) for c in rows[start]]
    if "report_date" not in columns or not {"unit_code", "unit_name"} & set(columns):
        raise Unreadable("required column missing")
    arrival = datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ).replace(tzinfo=None)
    records = []
    for row in rows[start + 1 :]:
        record = dict(zip(columns, row, strict=False))
        if name_key(str(record.get("unit_name") or "")) == "tong cong":
            continue
        read: dict[str, object] = {
            "report_date": parse_day(record["report_date"]),
            "unit_code": str(record.get("unit_code") or ""),
            "unit_name": str(record.get("unit_name") or ""),
            "arrival": arrival,
            "unreadable": None,
        }
        try:
            read["submitted_at"] = parse_moment(record.get("submitted_at"), arrival)
            for k in ("installs_reported", "staff_total", "staff_installed"):
                read[k] = parse_count(record.get(k))
        except Unreadable as error:
            read["unreadable"] = str(error)
        records.append(read)
    return records


def test_report_files_say_what_the_truth_says(ten_by_ten: Path) -> None:
    units = {u.code: u for p in load_provinces() for u in p.units}
    keys = [name_key(u.name) for u in units.values()]
    by_name = {k: u for k, u in zip(keys, units.values(), strict=True) if keys.count(k) == 1}
    simulation = json.loads((ten_by_ten / "_simulation" / "simulation.json").read_text())
    first, last = date.fromisoformat(simulation["start"]), date.fromisoformat(simulation["end"])
    latest: dict[tuple[str, str], tuple[datetime, dict, str]] = {}
    earliest: dict[tuple[str, str], datetime] = {}
    contents: dict[tuple[str, str], set[bytes]] = {}
    quarantined: set[tuple[str, str]] = set()
    # the first arrival of an accepted and of a rejected delivery, by unit-day
    first_in: dict[tuple[str, str], datetime] = {}
    first_refused: dict[tuple[str, str], datetime] = {}
    for path in sorted((ten_by_ten / "reports").iterdir()):
        file = f"reports/{path.name}"
        try:
            records = read_report(path)
        except Unreadable:
            quarantined.add(("malformed_file", file))
            continue
        for record in records:
            coded = units.get(record["unit_code"])
            named = by_name.get(name_key(record["unit_name"]))
            unit = coded or named
            day = record["report_date"]
            if record["unreadable"]:
                # a row that names its unit and day: a rejected delivery for that unit-day
                quarantined.add(("malformed_file", file))
                if unit is not None and (coded is None or named in (None, coded)):
                    key = (unit.code, day.isoformat())
                    first_refused[key] = min(
                        first_refused.get(key, record["arrival"]), record["arrival"]
                    )
            elif coded is not None and named is not None and named is not coded:
                quarantined.add(("code_name_mismatch", file))
            elif unit is None:
                quarantined.add(("unknown_unit", file))
            elif day > record["submitted_at"].date() or not first <= day <= last:
                quarantined.add(("out_of_range_date", file))
            else:
                key = (unit.code, day.isoformat())
                contents.setdefault(key, set()).add(path.read_bytes())
                earliest[key] = min(
                    earliest.get(key, record["submitted_at"]), record["submitted_at"]
                )
                if key not in latest or record["submitted_at"] > latest[key][0]:
                    latest[key] = (record["submitted_at"], record, file)
                first_in[key] = min(first_in.get(key, record["arrival"]), record["arrival"])
    faults = read_truth(ten_by_ten, "faults.csv")
    kinds = {"malformed_file", "unknown_unit", "out_of_range_date", "code_name_mismatch"}
    assert quarantined == {(f.kind, f.file) for f in faults.itertuples() if f.kind in kinds}
    truth = read_truth(ten_by_ten, "truth_reports.csv")
    assert {"rejected", "missing", "late", "on_time"} <= set(truth["status"])
    for row in truth.itertuples():
        key = (row.unit_code, row.report_date)
        deadline = units[row.unit_code].deadline_on(date.fromisoformat(row.report_date))
        at_deadline = "missing"
        if key in first_refused and first_refused[key] <= deadline:
            at_deadline = "rejected"
        if key in first_in and first_in[key] <= deadline:
            at_deadline = "on_time"
        assert row.status_at_deadline == at_deadline, key
        if row.status in ("missing", "rejected"):
            assert key not in latest
            assert (key in first_refused) == (row.status == "rejected"), key
            continue
        _, record, file = latest[key]
        # The first submission decides timeliness; identical bytes are one delivery.
        assert f"{earliest[key]:%Y-%m-%d %H:%M:%S}" == row.submitted_at_local
        assert (file, str(len(contents[key]))) == (row.source_file, row.submissions_count)
        for column in ("installs_reported", "staff_total", "staff_installed"):
            assert ("" if record[column] is None else str(record[column])) == getattr(row, column)


def test_format_count_writes_the_three_styles() -> None:
    assert [format_count(70264, s) for s in ("plain", "vi", "en")] == ["70264", "70.264", "70,264"]


# DESIGN §5's definitions, exactly at their thresholds ---------------------------------------


def test_thresholds_are_the_dbt_vars_read_as_the_decimals_they_are() -> None:
    assert LIMITS.unattributed_share_max == Fraction(repr(threshold("unattributed_share_max")))
    assert LIMITS.unattributed_share_max == Fraction(1, 20)  # not the double nearest 0.05
    assert LIMITS.report_export_mismatch_max == Fraction(1, 10)
    assert (LIMITS.outlier_z, LIMITS.outlier_ratio, LIMITS.outlier_min_volume) == (
        Fraction(7, 2),
        6,
        10,
    )
    assert (LIMITS.outlier_window, LIMITS.outlier_ratio_window, LIMITS.outlier_min_history) == (
        14,
        7,
        7,
    )


def _one_day_view(total: int, districts: list[int]) -> ExportView:
    province = load_provinces(["02"])[0]
    installs = np.zeros((len(province.districts), 1), dtype=np.int64)
    installs[: len(districts), 0] = districts
    return ExportView(province, [date(2020, 8, 1)], installs, np.array([total]), np.array([True]))


def test_an_unattributed_share_of_exactly_five_percent_is_not_flagged() -> None:
    checks = lambda view: {e.check for e in export_expectations(view, LIMITS)}  # noqa: E731
    assert checks(_one_day_view(20_000, [10_000, 9_000])) == set()  # 1,000 of 20,000: 5 %
    assert checks(_one_day_view(20_001, [10_000, 9_000])) == {"unattributed_share"}
    assert checks(_one_day_view(19_000, [10_000, 9_000])) == set()  # districts = total
    assert checks(_one_day_view(18_999, [10_000, 9_000])) == {"children_exceed_parent"}


def test_the_outlier_rule_at_its_boundaries() -> None:
    def flagged(history: list[int], x: int) -> bool:
        return judge_increment(history, x, LIMITS).flagged

    every_other_day = [0, 12, 0, 12, 0, 12, 6]  # mean 6, median 6, MAD 6
    assert not flagged(every_other_day, 36) and flagged(every_other_day, 37)  # 6x the mean
    assert judge_increment(every_other_day, 36, LIMITS).z == Fraction(6745, 2000)  # < 3.5
    m, mad = 2000, 1349
    spread = [m - mad, m + mad] * 3 + [m]
    assert judge_increment(spread, m + 7000, LIMITS).z == Fraction(7, 2)
    assert not flagged(spread, m + 7000) and flagged(spread, m + 7001)
    stalled = [1] * 7
    assert not flagged(stalled, 10) and flagged(stalled, 11)  # only above the minimum volume
    frozen = [0] * 7
    assert flagged(frozen, 50) and not flagged(frozen, 10)  # more than 6x a mean of 0
    assert not flagged([1] * 6, 1000)  # too little history for a verdict


def test_increments_spread_a_missing_export_evenly() -> None:
    assert daily_increments([100, 999, 130, 140], [True, False, True, True]) == [None, 15, 15, 10]
    assert daily_increments([100, 0, 0, 131], [True, False, False, True]) == [
        None,
        Fraction(31, 3),
        Fraction(31, 3),
        Fraction(31, 3),
    ]


def test_a_unit_is_missing_only_once_its_deadline_has_passed() -> None:
    day = date(2020, 8, 3)
    deadline = datetime.combine(day, time(16, 0))

    def status(now: datetime | None, *arrivals: datetime) -> str:
        sent = [
            Submission("x", day, at, at, f"f{n}", 1, None, None, None)
            for n, at in enumerate(arrivals)
        ]
        return unit_day_state("x", "02", day, deadline, sent, now).status

    assert status(deadline - timedelta(minutes=1)) == "not_due"
    assert status(deadline) == "missing"
    assert status(deadline, deadline) == "on_time"
    assert status(None, deadline + timedelta(minutes=1)) == "late"
    later = deadline + timedelta(hours=12)
    assert status(deadline + timedelta(hours=10), later) == "missing"  # not arrived yet


def test_a_unit_day_with_only_rejected_deliveries_is_rejected_not_missing() -> None:
    """DESIGN §4: deliveries came but none was accepted: rejected, whatever the time, and
    flagged report_rejected, never missing_report; a correction decides on time or late."""
    day = date(2020, 8, 3)
    deadline = datetime.combine(day, time(16, 0))
    bad_at, fixed_at = deadline - timedelta(hours=2), deadline + timedelta(minutes=30)
    refused = [Rejection("x", day, bad_at, "reports/bad.csv", "unparseable installs value")]
    fixed = [Submission("x", day, fixed_at, fixed_at, "reports/fix.csv", 1, None, None, None)]

    def state(now: datetime | None, submissions: list[Submission]) -> UnitDayState:
        return unit_day_state("x", "02", day, deadline, submissions, now, refused)

    assert state(bad_at - timedelta(minutes=1), []).status == "not_due"
    assert state(bad_at, []).status == "rejected"  # before the deadline too
    assert state(None, []).status == "rejected"
    assert state(deadline, fixed).status == "rejected"  # the correction not yet in
    assert state(None, fixed).status == "late"
    checks = [e.check for e in report_expectations(state(None, []), None, True, LIMITS)]
    assert checks == ["report_rejected"]
    flag = report_expectations(state(None, []), None, True, LIMITS)[0]
    assert (flag.unit_code, flag.day, flag.file) == ("x", day, "reports/bad.csv")
    assert [e.check for e in report_expectations(state(None, fixed), None, True, LIMITS)] == [
        "late_report"
    ]
    assert status_at_deadline(fixed, refused, deadline) == "rejected"
    assert status_at_deadline(fixed, [], deadline) == "missing"
    assert status_at_deadline([], [], deadline) == "missing"
    on_time = [Submission("x", day, bad_at, bad_at, "reports/ok.csv", 1, None, None, None)]
    assert status_at_deadline(on_time, refused, deadline) == "on_time"


def test_an_export_is_stale_only_once_it_is_due() -> None:
    days = [date(2020, 8, d) for d in range(1, 4)]
    arrived = [True, False, False]
    due = [True, True, False]
    assert [e.day for e in stale_expectations(days, arrived, days[-1], due)] == [days[1]]


# the boundary probes and the ground truth ------------------------------------------------------


def test_every_threshold_gets_a_probe_on_each_side(probed: Campaign) -> None:
    placed = {(p.check, p.side) for p in probed.probes}
    assert placed == {(check, side) for check in BOUNDARIES for side in ("at", "over")}
    outliers = {
        (p.what.split(":")[0], p.side) for p in probed.probes if p.check == "outlier_increment"
    }
    assert outliers == {
        ("ratio", "at"),
        ("ratio", "over"),
        ("z-score", "at"),
        ("z-score", "over"),
        ("minimum volume", "at"),
        ("minimum volume", "over"),
        ("previous mean 0", "over"),
    }
    others = [p for p in probed.probes if p.check != "coverage_over_100"]
    assert [p.flagged for p in others] == [p.side == "over" for p in others]


def test_the_definitions_flag_exactly_the_probes_their_placement_says(probed: Campaign) -> None:
    expected = {(e.check, e.unit_code, e.day) for e in Oracle(probed).expected(None)}
    verdicts = {(p.check, p.side, p.unit_code, p.day): p.flagged for p in probed.probes}
    found = {
        (p.check, p.side, p.unit_code, p.day): (p.check, p.unit_code, p.day) in expected
        for p in probed.probes
    }
    assert found == verdicts


def test_every_injected_fault_is_one_the_definitions_call_for(probed: Campaign) -> None:
    expected = {(e.check, e.unit_code, e.day) for e in Oracle(probed).expected(None)}
    injected = {f.key for f in probed.faults if f.kind in EXPORT_CHECKS}
    injected |= {
        f.key
        for day in probed.files_by_day
        for report in day
        for row in report.rows
        for f in row.faults + report.faults
        if f.kind
        in {
            "conflicting_resubmission",
            "report_export_mismatch",
            "staff_installed_exceeds_total",
            "report_rejected",
            "late_report",
        }
    }
    assert {k[0] for k in injected} >= EXPORT_CHECKS
    assert injected - expected == set()


def test_a_daily_run_sees_a_redelivered_exports_first_file(probed: Campaign) -> None:
    day = next(d for d in probed.plan if len(d.deliveries) > 1)
    oracle = Oracle(probed)
    before = datetime.combine(day.day + timedelta(days=1), time(2, 0))
    assert day.deliveries[0].arrival <= before < day.final.arrival
    at_run = oracle.views(before, day.day)
    final = oracle.views(None, day.day)
    t = day.index
    for view, done, series in zip(at_run, final, probed.exports, strict=True):
        draft = probed.drafts[(series.province.code, t)]
        assert (view.installs[:, t] == draft.installs[:, t]).all()
        assert (done.installs[:, t] == series.installs[:, t]).all()
    assert any(
        (v.installs[:, t] != d.installs[:, t]).any() for v, d in zip(at_run, final, strict=True)
    )


def test_a_rejected_report_is_rejected_until_a_correction_arrives(probed: Campaign) -> None:
    """report_rejected leaves one unit-day rejected for good and corrects one after its
    deadline: both are rejected at the deadline (never missing), and once everything has
    arrived the first is still rejected, the second late."""
    oracle = Oracle(probed)
    rejected = [
        u for days in probed.unit_days.values() for u in days if u.fault == "report_rejected"
    ]
    assert {u.corrected_late for u in rejected} == {False, True}
    final = {(e.check, e.unit_code, e.day) for e in oracle.expected(None)}
    for unit_day in rejected:
        code, day = unit_day.unit.code, unit_day.day
        deadline = unit_day.unit.deadline_on(day)
        at_deadline = {(e.check, e.unit_code, e.day) for e in oracle.expected(deadline, day)}
        assert ("report_rejected", code, day) in at_deadline
        assert ("missing_report", code, day) not in at_deadline | final
        assert (("report_rejected", code, day) in final) == (not unit_day.corrected_late)
        assert (("late_report", code, day) in final) == unit_day.corrected_late


def test_faults_csv_and_boundary_probes_csv_agree(ten_by_ten: Path) -> None:
    faults = read_truth(ten_by_ten, "faults.csv")
    probes = read_truth(ten_by_ten, "boundary_probes.csv")
    assert len(probes) > 0 and set(probes["side"]) == {"at", "over"}
    rows = {f.fault_id: f for f in faults.itertuples()}
    keys = {(f.kind, f.unit_code, f.day) for f in faults.itertuples()}
    for probe in probes.itertuples():
        key = (probe.check, probe.unit_code, probe.day)
        if probe.flagged == "yes":
            fault = rows[probe.fault_id]
            assert (fault.kind, fault.unit_code, fault.day) == key
        else:
            assert probe.fault_id == "" and key not in keys, probe
    assert set(faults["origin"]) == {"injected", "boundary", "natural"}


def test_the_simulator_uses_no_part_of_the_warehouse_that_implements_checks() -> None:
    """Its truth comes from DESIGN's definitions, not from the warehouse's checks: it reads
    the reference data, names, the unit sets' declaration (DESIGN §9), the registry and its
    rules (who owes a report, when the deadline falls) and the check catalogue (ids,
    thresholds), nothing else."""
    allowed = {
        "bluezone_warehouse.config",
        "bluezone_warehouse.names",
        "bluezone_warehouse.checks",
        "bluezone_warehouse.registry",
        "bluezone_warehouse.units",
    }
    imported = set()
    for path in Path(simulate_package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "bluezone_warehouse"
            ):
                imported.add(node.module)
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("bluezone_warehouse")}
    assert imported and imported <= allowed
