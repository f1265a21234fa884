"""Tests of the campaign simulator: determinism, figures, landing-zone formats, fault manifest.

Small campaigns (2 provinces × 5 days, 10 provinces × 10 days) keep them to a few seconds.
A reference reader at the bottom parses every report file the way DESIGN §3.3 describes and
checks that the files say what ``truth_reports.csv`` and ``faults.csv`` claim.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from bluezone_devtools.simulate import (
    EXPORT_COLUMNS,
    FAULT_KINDS,
    ExportSeries,
    FaultRates,
    export_flags,
    format_count,
    load_provinces,
    simulate_adoption,
    simulate_campaign,
)
from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import ascii_fold, slug

SMALL = {"provinces": ["02", "04"], "start": date(2020, 8, 1), "end": date(2020, 8, 5)}
TEN = ["01", "02", "04", "06", "08", "10", "11", "12", "14", "15"]
DSC_KINDS = set(FAULT_KINDS) - {"redelivery"}
EXPORT_CHECKS = {
    "decreasing_cumulative",
    "district_sum_exceeds_province",
    "unattributed_share",
    "outlier_increment",
    "coverage_over_100",
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


def test_a_clean_export_raises_no_check() -> None:
    days = [date(2020, 8, d) for d in range(1, 26)]
    exported = np.ones(len(days), dtype=bool)
    for province in load_provinces(TEN):
        series = ExportSeries.from_truth(simulate_adoption(province, days, 2020))
        assert export_flags(series, exported) == set(), province.code


# the clean campaign -----------------------------------------------------------------------


def test_the_clean_campaign_has_no_fault_and_every_report_on_time(clean: Path) -> None:
    assert (clean / "_simulation" / "faults.csv").read_text().strip().count("\n") == 0
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


def test_export_faults_are_exactly_what_the_checks_flag(ten_by_ten: Path) -> None:
    exported = read_truth(ten_by_ten, "truth_exported.csv")
    simulation = json.loads((ten_by_ten / "_simulation" / "simulation.json").read_text())
    start, end = date.fromisoformat(simulation["start"]), date.fromisoformat(simulation["end"])
    days = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    wide = exported.pivot(index="unit_code", columns="snapshot_date", values="installs")
    wide = wide.reindex(columns=[d.isoformat() for d in days]).fillna(0).astype(np.int64)
    arrived = np.array([d.isoformat() in set(exported["snapshot_date"]) for d in days])
    flags = set()
    for province in load_provinces(TEN):
        series = ExportSeries.from_truth(simulate_adoption(province, days, simulation["seed"]))
        series.installs = wide.loc[[d.code for d in province.districts]].to_numpy()
        series.total = wide.loc[province.code].to_numpy()
        flags |= {
            (kind, unit, days[t].isoformat()) for kind, unit, t in export_flags(series, arrived)
        }
    faults = read_truth(ten_by_ten, "faults.csv")
    manifest = {
        (f.kind, f.unit_code, f.day) for f in faults.itertuples() if f.kind in EXPORT_CHECKS
    }
    assert flags == manifest


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
    for status, kind in (("late", "late_report"), ("missing", "missing_report")):
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
    return datetime.strptime(text, "%d/%m/%Y %H:%M" if "/" in text else "%Y-%m-%d %H:%M:%S")


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
    """Rows of a report file, with the header found and the totals row dropped."""
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
        records.append(
            {
                "report_date": parse_day(record["report_date"]),
                "unit_code": str(record.get("unit_code") or ""),
                "unit_name": str(record.get("unit_name") or ""),
                "submitted_at": parse_moment(record.get("submitted_at"), arrival),
                **{
                    k: parse_count(record.get(k))
                    for k in ("installs_reported", "staff_total", "staff_installed")
                },
            }
        )
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
    for path in sorted((ten_by_ten / "reports").iterdir()):
        file = f"reports/{path.name}"
        try:
            records = read_report(path)
        except Unreadable:
            quarantined.add(("malformed_file", file))
            continue
        for record in records:
            unit = units.get(record["unit_code"]) or by_name.get(name_key(record["unit_name"]))
            day = record["report_date"]
            if unit is None:
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
    faults = read_truth(ten_by_ten, "faults.csv")
    kinds = {"malformed_file", "unknown_unit", "out_of_range_date"}
    assert quarantined == {(f.kind, f.file) for f in faults.itertuples() if f.kind in kinds}
    truth = read_truth(ten_by_ten, "truth_reports.csv")
    for row in truth.itertuples():
        key = (row.unit_code, row.report_date)
        if row.status == "missing":
            assert key not in latest
            continue
        _, record, file = latest[key]
        # The first submission decides timeliness; identical bytes are one delivery.
        assert f"{earliest[key]:%Y-%m-%d %H:%M:%S}" == row.submitted_at_local
        assert (file, str(len(contents[key]))) == (row.source_file, row.submissions_count)
        for column in ("installs_reported", "staff_total", "staff_installed"):
            assert ("" if record[column] is None else str(record[column])) == getattr(row, column)


def test_format_count_writes_the_three_styles() -> None:
    assert [format_count(70264, s) for s in ("plain", "vi", "en")] == ["70264", "70.264", "70,264"]
