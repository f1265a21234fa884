"""Ingestion of a corpus of malformed and awkward landing files (``tests/fixtures/ingest``).

Each committed fixture is landed alone (with its companions, if any) in a fresh landing zone
at a fixed arrival instant, ingested, and its outcome asserted exactly: the manifest row, the
loaded values, and every rejected row with its column, check id and reason (DESIGN §3.2, §3.3,
§5). Then the whole corpus is ingested together, three times, and must give the same outcome
per file and identical raw tables after each run.

Outcomes the design requires but the ingestion code does not deliver yet are strict xfails,
each with the reason; ``EXPECTED.md`` lists every fixture in words.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse.config import LOCAL_TZ, Settings, load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.names import safe_file_name
from tests.conftest import environment_for

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
ARRIVED = datetime(2020, 8, 5, 8, 30, tzinfo=UTC)  # 15:30 local on 2020-08-05
LOADED_AT = datetime(2020, 8, 5, 17, 0, tzinfo=UTC)
MAX_FILE_BYTES = 32_768
MAX_XLSX_UNCOMPRESSED_BYTES = 50_000
RAW_TABLES = ("raw.install_exports", "raw.unit_reports", "raw.rejected_rows", "raw.landing_files")
D4, D5 = date(2020, 8, 4), date(2020, 8, 5)


class Prefix(str):
    """An expected reason given by its beginning."""


Reason = str | Prefix | re.Pattern | None


def reason_matches(expected: Reason, actual: str | None) -> bool:
    if isinstance(expected, re.Pattern):
        return actual is not None and expected.search(actual) is not None
    if isinstance(expected, Prefix):
        return actual is not None and actual.startswith(expected)
    return expected == actual


SAME = object()


def vn(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """A local (Asia/Ho_Chi_Minh) time in August 2020."""
    return datetime(2020, 8, day, hour, minute, second, tzinfo=LOCAL_TZ)


def report(
    row: int,
    code: str,
    day: date,
    installs: int | None = None,
    *,
    staff_total: int | None = None,
    staff_installed: int | None = None,
    households: int | None = None,
    sent: datetime | None = None,
    match: str = "code",
    note: str | None = None,
    code_raw: str | None | object = SAME,
    name_raw: str | None = None,
) -> tuple:
    """One expected ``raw.unit_reports`` row (``sent=None``: the file's arrival time).

    ``code_raw`` defaults to the matched code for a code match, and to None otherwise.
    """
    if code_raw is SAME:
        code_raw = code if match == "code" else None
    return (
        row,
        code,
        day,
        installs,
        staff_total,
        staff_installed,
        households,
        sent or ARRIVED,
        "arrival" if sent is None else "column",
        match,
        note,
        code_raw,
        name_raw,
    )


@dataclass(frozen=True)
class Expect:
    status: str  # loaded | partial | quarantined | duplicate | refused
    reason: Reason = None  # the manifest's reason
    exports: tuple[tuple, ...] = ()  # (row_number, level, unit_code, installs, with_phone)
    reports: tuple[tuple, ...] = ()  # see report()
    rejected: tuple[tuple, ...] = ()  # (row_number, column_name, raw_value, check_id, reason)
    snapshot_date: date | None = None
    xfail: str | None = None  # why the code does not meet the design yet (strict)
    crashes: bool = False  # today the whole ingestion run raises on this file
    landing_name: str | None = None  # landed under this path instead of the fixture's
    companions: tuple[str, ...] = ()  # fixtures landed with it (not asserted here)
    rows_flagged: bool = False  # quarantined after every row was rejected with its reason

    @property
    def flags_file(self) -> bool:
        """Whether the file itself has a malformed_file row (row_number NULL)."""
        return self.status in ("quarantined", "refused") and not self.rows_flagged


def export_ok(*rows: tuple) -> Expect:
    return Expect("loaded", exports=rows, snapshot_date=D4)


def bad_installs(row: int, value: str | None) -> tuple:
    shown = "nothing" if value is None else value
    return (
        row,
        "installs",
        value,
        "malformed_file",
        f"installs must be a whole non-negative number, got {shown}",
    )


def bad_phone(row: int, value: str) -> tuple:
    return (
        row,
        "installs_with_phone",
        value,
        "malformed_file",
        f"installs_with_phone must be a whole non-negative number or empty, got {value}",
    )


def unknown_code(row: int, code: str, level: str) -> tuple:
    return (row, "unit_code", code, "unknown_unit", f"unit_code {code} is not a known {level} code")


def duplicate(row: int, level: str, code: str) -> tuple:
    reason = f"duplicate row for {level} {code} in this file (the first one was kept)"
    return (row, "unit_code", code, "malformed_file", reason)


INSTALLS_COL = "Số lượng cài đặt"
TWO_ROW_INSTALLS = "Số người đã cài đặt / Tổng số"  # a group header over its sub-header
SENT_COL = "Thời gian gửi"
DATE_COL = "Ngày báo cáo"
NO_HEADER = (
    "no header row found in the first 15 rows of this CSV file (expected report_date/Ngày báo "
    "cáo and unit_code/Mã đơn vị or unit_name/Tên đơn vị)"
)
SAVE_AS = "open it in Excel and save it as Excel Workbook (.xlsx) or CSV UTF-8, then send it again"
DAMAGED_XLSX = f"the workbook is damaged (its zip container cannot be opened): {SAVE_AS}"
UNSUPPORTED = "unsupported file type: reports are .csv, .xlsx or .json"
NO_ROWS = "the file has a header but no data rows"
CHAU_THANH = (
    "unit name 'Huyện Châu Thành' is ambiguous: 708 UBND Huyện Châu Thành, 808 UBND Huyện "
    "Châu Thành, 821 UBND Huyện Châu Thành, 831 UBND Huyện Châu Thành, 847 UBND Huyện Châu "
    "Thành"
)
CHO_MOI = "unit name 'Huyện Chợ Mới' is ambiguous: 065 UBND Huyện Chợ Mới, 893 UBND Huyện Chợ Mới"


def count_rejected(row: int, raw: str | None, message: str, column: str = INSTALLS_COL) -> tuple:
    return (row, column, raw, "malformed_file", f"{column}: {message}")


def _zip_expanded_size(relative: str) -> int:
    with zipfile.ZipFile(CORPUS / relative) as archive:
        return sum(info.file_size for info in archive.infolist())


EXPECTED: dict[str, Expect] = {
    # --- install exports ------------------------------------------------------------------
    "installs/installs_20200804.csv": export_ok(
        (2, "province", "30", 120000, 90000),
        (3, "district", "288", 50000, 41000),
        (4, "district", "290", 20000, None),
    ),
    "installs/installs_20200804_bom.csv": export_ok(
        (2, "province", "89", 65000, 52000), (3, "district", "883", 21000, 17000)
    ),
    "installs/installs_20200804_gz.csv.gz": export_ok(
        (2, "province", "58", 31000, 25000), (3, "district", "582", 14000, 11000)
    ),
    "installs/installs_20200804_typed.parquet": export_ok(
        (1, "province", "08", 40000, 30000), (2, "district", "070", 9000, None)
    ),
    "installs/installs_20200804_float_phone.parquet": Expect(
        "loaded",
        exports=((1, "province", "30", 120000, 90000), (2, "district", "288", 50000, None)),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_nozeros.csv": export_ok(
        (2, "province", "01", 900000, 700000),
        (3, "district", "001", 80000, 60000),
        (4, "province", "08", 40000, None),
        (5, "district", "070", 9000, None),
    ),
    "installs/installs_20200804_thousands.csv": export_ok(
        (2, "province", "01", 1234567, 1000000),
        (3, "district", "001", 50000, 41000),
        (4, "district", "002", 7, None),
    ),
    "installs/installs_20200804_empty_installs.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(bad_installs(3, None),),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_bad_numbers.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(
            bad_installs(3, "-5"),
            bad_installs(4, "1.5"),
            bad_installs(5, "12,5"),
            bad_installs(6, "1e3"),
            bad_phone(7, "-1"),
            bad_phone(8, "2.5"),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_ambiguous_numbers.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(bad_installs(3, "0.500"), bad_installs(4, "1.234,567"), bad_phone(5, "0,750")),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_unknown_units.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(
            unknown_code(3, "999", "district"),
            unknown_code(4, "99", "province"),
            unknown_code(5, "abc", "district"),
            unknown_code(6, "288", "province"),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_long_codes.csv": Expect(
        "partial",
        exports=((2, "district", "290", 20000, None),),
        rejected=(unknown_code(3, "300", "province"), unknown_code(4, "2880", "district")),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_levels.csv": Expect(
        "partial",
        exports=(
            (2, "province", "30", 120000, 90000),
            (3, "district", "288", 50000, None),
            (4, "commune", "10507", 100, None),
        ),
        rejected=(
            unknown_code(5, "99999", "commune"),
            (
                6,
                "level",
                "nation",
                "malformed_file",
                "level must be province, district or commune, got nation",
            ),
            (
                7,
                "level",
                None,
                "malformed_file",
                "level must be province, district or commune, got nothing",
            ),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_other_day.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(
            (
                3,
                "snapshot_date",
                "2020-08-03",
                "out_of_range_date",
                "snapshot_date 2020-08-03 differs from the day in the file name 2020-08-04",
            ),
            (
                4,
                "snapshot_date",
                "04/08/2020",
                "malformed_file",
                "snapshot_date is not a date (expected YYYY-MM-DD), got 04/08/2020",
            ),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_duplicates.csv": Expect(
        "partial",
        exports=(
            (2, "province", "30", 120000, 90000),
            (3, "district", "288", 50000, None),
            (6, "province", "01", 900000, None),
        ),
        rejected=(
            duplicate(4, "province", "30"),
            duplicate(5, "district", "288"),
            (
                7,
                "unit_code",
                "01",
                "malformed_file",
                "duplicate row for province 01 in this file (the first one was kept)",
            ),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_duplicate_after_bad.csv": Expect(
        "partial",
        exports=((3, "district", "288", 50000, 41000), (4, "province", "30", 120000, 90000)),
        rejected=(bad_installs(2, "n/a"),),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_all_bad.csv": Expect(
        "quarantined",
        Prefix("no usable row"),
        rejected=(unknown_code(2, "999", "district"), bad_installs(3, "-1")),
        snapshot_date=D4,
        rows_flagged=True,
    ),
    "installs/installs_20200804_missing_column.csv": Expect(
        "quarantined",
        Prefix(
            "missing required column(s) installs; "
            "found snapshot_date, level, unit_code, installs_with_phone"
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_header_only.csv": Expect(
        "quarantined",
        NO_ROWS,
        snapshot_date=D4,
    ),
    "installs/installs_20200804_empty.csv": Expect(
        "quarantined",
        Prefix("missing required column(s) snapshot_date, level, unit_code, installs; found "),
        snapshot_date=D4,
    ),
    "installs/installs_2020-08-04.csv": Expect(
        "quarantined",
        "install export names must be installs_YYYYMMDD[_anything].csv, .csv.gz or .parquet",
    ),
    "installs/installs_20200231.csv": Expect(
        "quarantined", "'20200231' in the file name is not a calendar day"
    ),
    "installs/installs_20200804_corrupt.csv.gz": Expect(
        "quarantined",
        Prefix("file cannot be read: "),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_not_parquet.parquet": Expect(
        "quarantined",
        Prefix("file cannot be read: "),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_headers.csv": export_ok(
        (2, "province", "30", 120000, 90000), (3, "district", "291", 8500, None)
    ),
    "installs/installs_20200804_row_number_column.csv": Expect(
        "loaded",
        exports=((2, "province", "30", 120000, 90000), (3, "district", "288", 50000, None)),
        snapshot_date=D4,
    ),
    "installs/2020/08/installs_20200804_subfolder.csv": export_ok(
        (2, "district", "292", 30000, 20000)
    ),
    # --- unit reports ---------------------------------------------------------------------
    "reports/report_utf8.csv": Expect(
        "loaded",
        reports=(
            report(2, "288", D4, 70264, households=1200, sent=vn(4, 15, 10)),
            report(
                3,
                "30-SYT",
                D4,
                staff_total=250,
                staff_installed=180,
                sent=vn(4, 15, 45, 30),
                name_raw="Sở Y tế Hải Dương",
            ),
            report(
                4,
                "30-STTTT",
                D4,
                staff_total=80,
                staff_installed=85,
                sent=vn(4, 16, 20),
                note="tự khai",
            ),
        ),
    ),
    "reports/resent/report_utf8 - Copy.csv": Expect(
        "duplicate",
        "same content as reports/report_utf8.csv",
        companions=("reports/report_utf8.csv",),
    ),
    "reports/bao_cao_bom.csv": Expect(
        "loaded",
        reports=(
            report(
                2, "291", D4, 12345, households=300, sent=vn(4, 15, 5), name_raw="Huyện Nam Sách"
            ),
            report(
                3, "292", D4, 23456, sent=vn(4, 16, 30), note="gửi muộn", name_raw="Thị xã Kinh Môn"
            ),
        ),
    ),
    "reports/bao_cao_unicode_text.csv": Expect(
        "loaded",
        reports=(
            report(
                2, "293", D4, 70264, sent=vn(4, 14, 0), note="đầy đủ", name_raw="Huyện Kim Thành"
            ),
            report(3, "294", D4, 5000, sent=vn(4, 14, 30), name_raw="Huyện Thanh Hà"),
        ),
    ),
    "reports/bao_cao_unicode_text.txt": Expect("quarantined", UNSUPPORTED),
    "reports/bao_cao_semicolon.csv": Expect(
        "loaded",
        reports=(
            report(4, "295", D4, 70264, sent=vn(4, 15, 0), name_raw="Huyện Cẩm Giàng"),
            report(5, "296", D4, 1000000, sent=vn(4, 15, 1), name_raw="Huyện Bình Giang"),
        ),
    ),
    "reports/headers_odd_case.csv": Expect(
        "loaded",
        reports=(
            report(2, "297", D4, 4321, sent=vn(4, 10, 0), note="ok"),
            report(3, "298", D4, 1234, sent=vn(4, 10, 5), match="name", name_raw="Huyen Tu Ky"),
        ),
    ),
    "reports/template_hai_duong_30.xlsx": Expect(
        "loaded",
        reports=(
            report(6, "288", D4, 70264, name_raw="Thành phố Hải Dương"),
            report(7, "291", D4, 12345, match="name", note="đã rà soát", name_raw="Huyện Nam Sách"),
            report(8, "290", D4, 1002, name_raw="TP. Chí Linh"),
        ),
    ),
    "reports/template_totals_in_stt_30.xlsx": Expect(
        "loaded",
        reports=(
            report(6, "288", D4, 70264, name_raw="Thành phố Hải Dương"),
            report(7, "291", D4, 12345, match="name", note="đã rà soát", name_raw="Huyện Nam Sách"),
            report(8, "290", D4, 1002, name_raw="TP. Chí Linh"),
        ),
    ),
    "reports/typed_cells.xlsx": Expect(
        "loaded",
        reports=(
            report(2, "298", D4, 70264, sent=vn(4, 15, 10)),
            report(3, "299", D4, 5000, sent=vn(4, 9, 0, 30)),
            report(4, "30-SNV", D5, staff_total=120, staff_installed=118, sent=vn(5, 8, 0)),
        ),
    ),
    "reports/fractional_cells.xlsx": Expect(
        "partial",
        reports=(report(2, "300", D4, 4000, sent=vn(4, 15, 0)),),
        rejected=(
            count_rejected(3, "1234.5", "a count is a whole number, got 1234.5"),
            count_rejected(4, "0.0895", "a count is a whole number, got 0.0895"),
        ),
    ),
    "reports/list.json": Expect(
        "loaded",
        reports=(
            report(1, "288", D4, 70264),
            report(2, "290", D4, 70264),
            report(
                3,
                "30-SYT",
                D4,
                staff_total=250,
                staff_installed=200,
                sent=vn(4, 15, 0),
                note="float staff_installed",
            ),
        ),
    ),
    "reports/rows_object.json": Expect(
        "loaded", reports=(report(1, "291", D4, 12000), report(2, "291", D5, 12500))
    ),
    "reports/unit_object.json": Expect(
        "loaded",
        reports=(
            report(1, "290", D4, 1000, sent=vn(4, 15, 59), name_raw="Thành phố Chí Linh"),
            report(
                2,
                "290",
                D4,
                staff_total=40,
                staff_installed=38,
                note="khối văn phòng",
                name_raw="Thành phố Chí Linh",
            ),
        ),
    ),
    "reports/unit_object_override.json": Expect(
        "loaded",
        reports=(
            report(1, "290", D4, 1000, name_raw="Thành phố Chí Linh"),
            report(2, "290", D5, 1100, note="cập nhật", name_raw="Thành phố Chí Linh"),
        ),
    ),
    "reports/unit_name_object.json": Expect(
        "loaded", reports=(report(1, "291", D5, 12345, match="name", name_raw="H. Nam Sách"),)
    ),
    "reports/numbers_hai_duong_30.csv": Expect(
        "partial",
        reports=(
            report(2, "288", D4, 70264, sent=vn(4, 15, 0)),
            report(3, "290", D4, 70264, sent=vn(4, 15, 0)),
            report(4, "291", D4, 70264, sent=vn(4, 15, 0)),
            report(5, "292", D4, 70264, sent=vn(4, 15, 0)),
            report(9, "296", D4, 1234567, sent=vn(4, 15, 0), note="=SUM(A1:A2)"),
        ),
        rejected=(
            count_rejected(6, "8,95%", "a percentage where a count was expected: '8,95%'"),
            count_rejected(
                7,
                "1.5",
                "a count is a whole number; '1.5' has a decimal part "
                "(thousands separators must group exactly three digits)",
            ),
            count_rejected(
                8, "=SUM(A1:A2)", "a formula or expression, not a number: '=SUM(A1:A2)'"
            ),
            count_rejected(10, "1,234.567", "not a number: '1,234.567'"),
            count_rejected(11, "-12", "a count cannot be negative: '-12'"),
            (
                12,
                INSTALLS_COL,
                None,
                "malformed_file",
                "no figure: installs_reported or staff_installed is required",
            ),
        ),
    ),
    "reports/numbers_ambiguous_30.csv": Expect(
        "partial",
        reports=(report(2, "288", D4, 70264, sent=vn(4, 15, 0)),),
        rejected=(
            (3, INSTALLS_COL, "0,895", "malformed_file", Prefix(f"{INSTALLS_COL}: ")),
            (4, INSTALLS_COL, "0.264", "malformed_file", Prefix(f"{INSTALLS_COL}: ")),
            (5, INSTALLS_COL, "70 26", "malformed_file", Prefix(f"{INSTALLS_COL}: ")),
        ),
    ),
    "reports/sql_injection_30.csv": Expect(
        "partial",
        reports=(
            report(3, "291", D4, 200, note="'); drop table raw.rejected_rows; --"),
            report(4, "292", D4, 300, name_raw='Robert"); DROP TABLE raw.landing_files;--'),
        ),
        rejected=(
            (
                2,
                "unit_name",
                "'); drop table raw.unit_reports; --",
                "unknown_unit",
                'unit name "\'); drop table raw.unit_reports; --" matches no registry unit',
            ),
            (
                5,
                "unit_code",
                "288'; --",
                "unknown_unit",
                'unit code "288\'; --" is not in the registry',
            ),
        ),
    ),
    "reports/names_no_codes_30.csv": Expect(
        "loaded",
        reports=tuple(
            report(row, code, D4, 1000 + row - 2, match="name", name_raw=name)
            for row, code, name in (
                (2, "291", "Huyen Nam Sach"),
                (3, "288", "TP. Hai Duong"),
                (4, "292", "TX. Kinh Mon"),
                (5, "294", "H. Thanh Ha"),
                (6, "001", "Q. Ba Dinh"),
                (7, "295", "UBND huyện Cẩm Giàng"),
                (8, "297", "Ủy ban nhân dân huyện Gia Lộc"),
                (9, "290", "THÀNH PHỐ CHÍ LINH"),
                (10, "298", unicodedata.normalize("NFD", "Huyện Tứ Kỳ")),
            )
        )
        + (
            report(
                11,
                "30-SYT",
                D4,
                staff_total=250,
                staff_installed=200,
                match="name",
                name_raw="So Y te Hai Duong",
            ),
        ),
    ),
    "reports/chau_thanh_ambiguous.csv": Expect(
        "quarantined",
        f"no usable row: 2 unknown_unit; first: {CHAU_THANH}",
        rejected=(
            (2, "unit_name", "Huyện Châu Thành", "unknown_unit", CHAU_THANH),
            (3, "unit_name", "Huyện Chợ Mới", "unknown_unit", CHO_MOI),
        ),
        rows_flagged=True,
    ),
    "reports/bao_cao_an_giang_89.csv": Expect(
        "loaded",
        reports=(
            report(
                2, "892", D4, 5000, sent=vn(4, 14, 0), match="name", name_raw="Huyện Châu Thành"
            ),
            report(3, "892", D5, 5100, sent=vn(5, 14, 0), match="name", name_raw="Chau Thanh"),
            report(4, "893", D4, 6000, sent=vn(4, 14, 10), match="name", name_raw="Huyện Chợ Mới"),
            report(5, "883", D4, 7000, sent=vn(4, 14, 20), match="name", name_raw="TP Long Xuyen"),
        ),
    ),
    "reports/bao_cao_ngay_06_08_2020.csv": Expect(
        "partial",
        reports=(
            report(3, "883", D5, 7100, sent=vn(5, 14, 0), match="name", name_raw="TP. Long Xuyên"),
        ),
        rejected=((2, "unit_name", "Huyện Chợ Mới", "unknown_unit", CHO_MOI),),
    ),
    "reports/typo_30.csv": Expect(
        "partial",
        reports=(
            report(2, "291", D4, 111, match="fuzzy", name_raw="Huyện Nam Sácch"),
            report(3, "299", D4, 222, match="fuzzy", name_raw="Huyen Ninh Gang"),
        ),
        rejected=(
            (
                4,
                "unit_name",
                "Huyện Không Có",
                "unknown_unit",
                "unit name 'Huyện Không Có' matches no registry unit; closest: 630 UBND Huyện "
                "Kông Chro; 664 UBND Huyện Krông Nô; 471 UBND Huyện Cồn Cỏ",
            ),
        ),
    ),
    "reports/dates_30.csv": Expect(
        "partial",
        reports=(report(2, "288", D5, 100),),
        rejected=(
            (
                3,
                DATE_COL,
                "2020-08-06",
                "out_of_range_date",
                "report date 2020-08-06 is after the day it was sent (2020-08-05)",
            ),
            (
                4,
                DATE_COL,
                "2020-08-06",
                "out_of_range_date",
                "report date 2020-08-06 is after the day it was sent (2020-08-05)",
            ),
            (
                5,
                DATE_COL,
                "2020-07-31",
                "out_of_range_date",
                "report date 2020-07-31 is outside the campaign (2020-08-01 to 2020-12-31)",
            ),
            (
                6,
                DATE_COL,
                "2020-04-08",
                "out_of_range_date",
                "report date 2020-04-08 is outside the campaign (2020-08-01 to 2020-12-31)",
            ),
            count_rejected(
                7,
                "31/02/2020",
                "not a calendar date: '31/02/2020' (day is out of range for month)",
                DATE_COL,
            ),
            count_rejected(
                8,
                "4-Aug-2020",
                "expected a date as YYYY-MM-DD or DD/MM/YYYY, got '4-Aug-2020'",
                DATE_COL,
            ),
            (
                9,
                DATE_COL,
                None,
                "malformed_file",
                "report_date is empty: every row needs the day it reports on",
            ),
        ),
    ),
    "reports/submitted_after_arrival_30.csv": Expect(
        "partial",
        reports=(report(2, "288", D5, 100, sent=vn(5, 15, 0)),),
        rejected=(
            (
                3,
                DATE_COL,
                "2020-08-06",
                "out_of_range_date",
                "report date 2020-08-06 is after the day it was sent (2020-08-05)",
            ),
        ),
    ),
    "reports/submitted_at_formats_30.csv": Expect(
        "partial",
        reports=(
            report(2, "288", D4, 100, sent=vn(4, 15, 10)),
            report(3, "290", D4, 100, sent=vn(4, 15, 10)),
            report(4, "291", D4, 100, sent=vn(4, 15, 10)),
            report(5, "292", D4, 100, sent=vn(4, 9, 5)),
            # DESIGN §3.3: 15h10, 3:10 PM mean local times; an explicit Z is UTC.
            report(6, "293", D4, 100, sent=vn(4, 15, 10)),
            report(7, "294", D4, 100, sent=vn(4, 15, 10)),
            report(8, "295", D4, 100, sent=vn(4, 15, 10)),
        ),
        rejected=(
            (
                9,
                SENT_COL,
                "04/08/2020 25:10",
                "malformed_file",
                f"{SENT_COL}: not a valid time of day: '04/08/2020 25:10' (hour must be in 0..23)",
            ),
        ),
    ),
    "reports/multiline_note_30.csv": Expect(
        "loaded",
        reports=(
            report(2, "288", D4, 100, note='dòng 1\ndòng 2, "trích dẫn"'),
            report(3, "290", D4, 200),
        ),
    ),
    "reports/code_vs_name_30.csv": Expect(
        "partial",
        reports=(
            report(3, "001", D4, 200, code_raw="1", name_raw="Quận Ba Đình"),
            report(4, "290", D4, 300),
        ),
        # DESIGN §3.3: a code and a name that point to different units are rejected with
        # both candidates, never resolved silently.
        rejected=(
            (
                2,
                "unit_code",
                "288",
                "code_name_mismatch",
                "the code '288' is 288 UBND Thành phố Hải Dương but the name 'Huyện Nam Sách' "
                "is 291 UBND Huyện Nam Sách: correct the code or the name so that both point "
                "to the unit this row is for",
            ),
        ),
    ),
    "reports/agency_staff_30.csv": Expect(
        "partial",
        reports=(
            report(
                2,
                "30-STC",
                D4,
                staff_total=95,
                staff_installed=90,
                name_raw="Sở Tài chính Hải Dương",
            ),
        ),
        rejected=(
            count_rejected(
                3,
                "1.05",
                "a count is a whole number; '1.05' has a decimal part "
                "(thousands separators must group exactly three digits)",
                "Số CBCCVC đã cài đặt",
            ),
        ),
    ),
    "reports/formula_injection_30.csv": Expect(
        "partial",
        reports=(report(5, "288", D4, 4, note='=HYPERLINK("http://evil.example/y")'),),
        rejected=(
            (
                2,
                "unit_name",
                '=HYPERLINK("http://evil.example/x","Huyện Nam Sách")',
                "unknown_unit",
                'unit name \'=HYPERLINK("http://evil.example/x","Huyện Nam Sách")\' '
                "matches no registry unit",
            ),
            (
                3,
                "unit_name",
                "@SUM(1+1)*cmd|' /C calc'!A0",
                "unknown_unit",
                "unit name \"@SUM(1+1)*cmd|' /C calc'!A0\" matches no registry unit",
            ),
            (
                4,
                "unit_name",
                "+cmd|' /C calc'!A0",
                "unknown_unit",
                "unit name \"+cmd|' /C calc'!A0\" matches no registry unit",
            ),
        ),
    ),
    "reports/header_only.csv": Expect("quarantined", NO_ROWS),
    "reports/missing_column.csv": Expect(
        "quarantined",
        "missing required column installs_reported (Số lượng cài đặt) or staff_installed "
        "(Số CBCCVC đã cài đặt); recognised columns: Ngày báo cáo, Mã đơn vị, Tên đơn vị, "
        "Ghi chú",
    ),
    "reports/empty.csv": Expect("quarantined", NO_HEADER),
    "reports/windows_1258.csv": Expect(
        "quarantined", "not UTF-8 text (byte 2): save the file as CSV UTF-8 or XLSX"
    ),
    "reports/truncated.xlsx": Expect("quarantined", DAMAGED_XLSX),
    "reports/~$template_30.xlsx": Expect(
        "quarantined",
        "this is Excel's lock file (~$...), left beside an open workbook, not a report: "
        "send the workbook itself",
    ),
    "reports/invalid.json": Expect(
        "quarantined", "invalid JSON at line 3 column 1: Expecting value"
    ),
    "reports/not_a_list.json": Expect(
        "quarantined",
        "JSON must be a list of report objects or an object with a 'rows' list",
    ),
    "reports/deeply_nested.json": Expect(
        "quarantined",
        re.compile("JSON"),
    ),
    "reports/bao_cao.pdf": Expect("quarantined", UNSUPPORTED),
    "reports/bao cao (1).csv": Expect(
        "loaded", reports=(report(2, "300", D4, 3000, sent=vn(4, 11, 0)),)
    ),
    "reports/báo-cáo-ngày-5.csv": Expect(
        "loaded", reports=(report(2, "300", D5, 3100, sent=vn(5, 11, 0)),)
    ),
    "reports/..bad..name;rm -rf.csv": Expect("quarantined", NO_HEADER),
    "reports/2020-08-04/hai_duong/bao_cao.csv": Expect(
        "loaded", reports=(report(2, "299", D4, 8888, sent=vn(4, 15, 55)),)
    ),
    "reports/backslash_name.csv": Expect(
        "loaded",
        reports=(report(2, "298", D4, 7777, sent=vn(4, 15, 50)),),
        landing_name="reports/bao\\cao.csv",
    ),
    "reports/zip_bomb.xlsx": Expect(
        "quarantined",
        f"XLSX expands to {_zip_expanded_size('reports/zip_bomb.xlsx')} bytes, "
        f"over the limit of {MAX_XLSX_UNCOMPRESSED_BYTES}",
    ),
    "reports/too_big.csv": Expect(
        "refused",
        f"file is {(CORPUS / 'reports/too_big.csv').stat().st_size} bytes, "
        f"over the limit of {MAX_FILE_BYTES}",
    ),
    # --- the senders' messages (SAID, FILE_SAID below) ------------------------------------
    "installs/installs_20200804_empty_cells.csv": Expect(
        "partial",
        exports=((2, "province", "30", 120000, 90000),),
        rejected=(
            (
                3,
                "snapshot_date",
                None,
                "malformed_file",
                "snapshot_date is not a date (expected YYYY-MM-DD), got nothing",
            ),
            (
                4,
                "unit_code",
                None,
                "unknown_unit",
                "unit_code nothing is not a known district code",
            ),
        ),
        snapshot_date=D4,
    ),
    "installs/installs_20200804_bad_row.parquet": Expect(
        "partial",
        exports=((1, "province", "30", 120000, 90000), (3, "district", "290", 20000, None)),
        rejected=(bad_installs(2, "-3"),),
        snapshot_date=D4,
    ),
    "reports/bao-cao-hai-duong.xlsx": Expect(
        "partial",
        reports=(report(6, "288", D4, 70264, sent=vn(4, 15, 0), name_raw="Thành phố Hải Dương"),),
        rejected=(
            (
                7,
                SENT_COL,
                "16 giờ kém 15",
                "malformed_file",
                f"{SENT_COL}: expected a local time such as 16:00, 16h00 or 4:00 PM, alone or "
                "with a date (DD/MM/YYYY), got '16 giờ kém 15'",
            ),
            (
                8,
                TWO_ROW_INSTALLS,
                "True",
                "malformed_file",
                f"{TWO_ROW_INSTALLS}: expected a whole number, got the boolean True",
            ),
            (
                9,
                SENT_COL,
                "04/08/2020",
                "malformed_file",
                f"{SENT_COL}: '04/08/2020' has a date but no time of day (write e.g. "
                "05/08/2020 16:00)",
            ),
            (
                10,
                SENT_COL,
                "32/08/2020 16:00",
                "malformed_file",
                f"{SENT_COL}: not a valid date and time: '32/08/2020 16:00' (day is out of "
                "range for month)",
            ),
            (
                11,
                "unit_name",
                None,
                "unknown_unit",
                "neither a unit code nor a unit name is given",
            ),
            (
                12,
                DATE_COL,
                "2020-08-06",
                "out_of_range_date",
                "report date 2020-08-06 is after the day it was sent (2020-08-04)",
            ),
            (
                13,
                TWO_ROW_INSTALLS,
                "70.264 người",
                "malformed_file",
                f"{TWO_ROW_INSTALLS}: not a number: '70.264 người'",
            ),
        ),
    ),
    "reports/wrong_dimension.xlsx": Expect(
        "partial",
        reports=(
            report(2, "288", D4, 100, sent=vn(4, 15, 0)),
            report(3, "290", D4, 200, sent=vn(4, 15, 0)),
            report(4, "291", D4, 300, sent=vn(4, 15, 0)),
        ),
        rejected=(count_rejected(5, "n/a", "not a number: 'n/a'"),),
    ),
    "reports/table_on_second_sheet.xlsx": Expect(
        "loaded",
        reports=(
            report(2, "288", D4, 100, sent=vn(4, 15, 0)),
            report(3, "290", D4, 200, sent=vn(4, 15, 5)),
        ),
    ),
    "reports/data_on_other_sheet.xlsx": Expect(
        "quarantined",
        "sheet 'Báo cáo' has the header row but no data rows; the data is on sheet 'Sheet2', "
        "which has no header row",
    ),
    "reports/header_only_sheet.xlsx": Expect("quarantined", NO_ROWS),
    "reports/empty_sheet.xlsx": Expect(
        "quarantined",
        "no sheet holds the report table: 'Sheet1' (empty) (expected a header row with Ngày "
        "báo cáo and Mã đơn vị or Tên đơn vị)",
    ),
    "reports/empty_sheets.xlsx": Expect(
        "quarantined",
        "no sheet holds the report table: 'Báo cáo' (empty), 'Sheet2' (empty) (expected a "
        "header row with Ngày báo cáo and Mã đơn vị or Tên đơn vị)",
    ),
    "reports/notes_only.xlsx": Expect(
        "quarantined",
        "no sheet holds the report table: 'Ghi chú' (no header row in its first 15 rows) "
        "(expected a header row with Ngày báo cáo and Mã đơn vị or Tên đơn vị)",
    ),
    "reports/legacy_97_2003.xls": Expect(
        "quarantined", f"this is an old Excel 97-2003 workbook (.xls): {SAVE_AS}"
    ),
    "reports/password_protected.xlsx": Expect(
        "quarantined",
        "the workbook is protected with a password, so it cannot be read: remove the password "
        "(File > Info > Protect Workbook) and send it again",
    ),
    "reports/web_page.xls": Expect(
        "quarantined", f"this is a web page (HTML) saved with a spreadsheet name: {SAVE_AS}"
    ),
    "reports/bad_record.json": Expect(
        "partial",
        reports=(report(1, "288", D4, 70264),),
        rejected=(count_rejected(2, "8,95%", "a percentage where a count was expected: '8,95%'"),),
    ),
}

CRASHERS = sorted(name for name, expect in EXPECTED.items() if expect.crashes)


# --- what the sender reads (DESIGN §6 "Receipts") --------------------------------------------
#
# Every rejection names the file, the sheet, the row as a spreadsheet shows it, the header as
# the sender wrote it, the value and what to write instead, in Vietnamese unless English is
# asked for. check_outcome checks the file, sheet, row and header of every rejected row;
# SAID gives the whole message, by hand, of at least one row of each kind of rejection:
# (row_number, sheet, header as written, message). FILE_SAID gives the message of a file
# that is rejected whole.

COUNT_VI = "hãy ghi số nguyên không âm, ví dụ 70264 hoặc 70.264"
DECIMAL_VI = (
    "có phần thập phân, hoặc dấu ngăn cách hàng nghìn đặt sai chỗ; số lượng là số nguyên: ghi "
    "70264 hoặc 70.264 (dấu chấm ngăn đúng từng nhóm 3 chữ số)."
)
DATE_VI = "hãy ghi ngày dạng ngày/tháng/năm, ví dụ 04/08/2020 (hoặc 2020-08-04)."
TIME_VI = "hãy ghi giờ dạng 16:00 hoặc 16h00, có thể kèm ngày: 04/08/2020 16:00."
AFTER_SENT_VI = "hãy ghi ngày mà số liệu thuộc về; ngày đó không thể sau ngày gửi."
CAMPAIGN_VI = "hãy kiểm tra lại ngày, ghi dạng ngày/tháng/năm, ví dụ 04/08/2020."
NAME_VI = "hãy ghi tên đơn vị như trong danh mục, hoặc ghi mã đơn vị."
AMBIGUOUS_VI = "hãy ghi mã đơn vị vào cột Mã đơn vị để chỉ rõ là đơn vị nào."
EXPORT_COUNT_VI = "hãy ghi số nguyên không âm, ví dụ 120000."
PHONE_VI = "hãy ghi số nguyên không âm, hoặc để trống nếu không có."
GSO_VI = "hãy ghi mã GSO đúng cấp: 2 chữ số cho tỉnh, 3 cho huyện, 5 cho xã."
DUPLICATE_VI = "mỗi đơn vị chỉ ghi một dòng; dòng đầu tiên đã được nhận, dòng này bị bỏ qua."
SAVE_AS_VI = (
    'hãy mở tệp bằng Excel, chọn File > Save As > "Excel Workbook (.xlsx)" (hoặc "CSV UTF-8") '
    "rồi gửi lại."
)
TEMPLATE_VI = (
    'hãy dùng mẫu báo cáo: dòng tiêu đề có cột "Ngày báo cáo" và "Mã đơn vị" hoặc "Tên đơn vị".'
)
NO_ROWS_VI = (
    "có dòng tiêu đề nhưng không có dòng số liệu nào; hãy điền số liệu vào ngay dưới dòng "
    "tiêu đề rồi gửi lại."
)
EXPORT_COLUMNS_VI = (
    'tệp cần các cột "snapshot_date", "level", "unit_code", "installs", "installs_with_phone".'
)
CHAU_THANH_UNITS = (
    "708 UBND Huyện Châu Thành, Tây Ninh; 808 UBND Huyện Châu Thành, Long An; 821 UBND Huyện "
    "Châu Thành, Tiền Giang; 831 UBND Huyện Châu Thành, Bến Tre; 847 UBND Huyện Châu Thành, Trà "
    "Vinh; 877 UBND Huyện Châu Thành, Đồng Tháp; 892 UBND Huyện Châu Thành, An Giang; 905 UBND "
    "Huyện Châu Thành, Kiên Giang; 933 UBND Huyện Châu Thành, Hậu Giang; 942 UBND Huyện Châu "
    "Thành, Sóc Trăng"
)
CHO_MOI_UNITS = "065 UBND Huyện Chợ Mới, Bắc Kạn; 893 UBND Huyện Chợ Mới, An Giang"


def _numbers(row: int, what: str) -> tuple:
    return (
        row,
        None,
        INSTALLS_COL,
        f'Tệp "numbers_hai_duong_30.csv", dòng {row}, cột E "Số lượng cài đặt": {what}',
    )


def _dates(row: int, what: str) -> tuple:
    return (row, None, DATE_COL, f'Tệp "dates_30.csv", dòng {row}, cột A "Ngày báo cáo": {what}')


def _sheet(row: int, header: str, what: str, column: str) -> tuple:
    return (
        row,
        "Báo cáo",
        header,
        f'Tệp "bao-cao-hai-duong.xlsx", trang "Báo cáo", dòng {row}, cột {column} "{header}": '
        + what,
    )


def _export(name: str, row: int, header: str, what: str) -> tuple:
    return (row, None, header, f'Tệp "{name}", dòng {row}, cột "{header}": {what}')


SAID: dict[str, tuple[tuple, ...]] = {
    "reports/numbers_hai_duong_30.csv": (
        _numbers(
            6,
            'giá trị "8,95%" là tỉ lệ phần trăm, không phải số lượng; hãy ghi số người (số '
            "nguyên), ví dụ 70264 hoặc 70.264, không ghi tỉ lệ.",
        ),
        _numbers(7, f'giá trị "1.5" {DECIMAL_VI}'),
        _numbers(
            8,
            'ô chứa công thức "=SUM(A1:A2)", không phải con số; hãy ghi chính con số (dán dạng '
            "giá trị: Paste Special > Values), ví dụ 70264.",
        ),
        _numbers(
            10,
            'giá trị "1,234.567" không phải con số; hãy ghi số nguyên, ví dụ 70264 hoặc 70.264, '
            "không kèm chữ hay đơn vị.",
        ),
        _numbers(11, f'giá trị "-12" là số âm; số lượng không thể âm; {COUNT_VI}.'),
        _numbers(
            12,
            "dòng này không có số liệu (ô số lượng cài đặt để trống); hãy ghi số người đã cài "
            "đặt (cơ quan, đơn vị: số CBCCVC đã cài đặt).",
        ),
    ),
    "reports/numbers_ambiguous_30.csv": (
        (
            3,
            None,
            INSTALLS_COL,
            'Tệp "numbers_ambiguous_30.csv", dòng 3, cột E "Số lượng cài đặt": giá trị "0,895" '
            + DECIMAL_VI,
        ),
        (
            4,
            None,
            INSTALLS_COL,
            'Tệp "numbers_ambiguous_30.csv", dòng 4, cột E "Số lượng cài đặt": giá trị "0.264" '
            + DECIMAL_VI,
        ),
        (
            5,
            None,
            INSTALLS_COL,
            'Tệp "numbers_ambiguous_30.csv", dòng 5, cột E "Số lượng cài đặt": giá trị "70 26" '
            f"có khoảng trắng không ngăn đúng nhóm 3 chữ số; {COUNT_VI}.",
        ),
    ),
    "reports/fractional_cells.xlsx": (
        (
            3,
            "Sheet",
            INSTALLS_COL,
            'Tệp "fractional_cells.xlsx", trang "Sheet", dòng 3, cột E "Số lượng cài đặt": giá '
            f'trị "1234.5" không phải số nguyên; {COUNT_VI}.',
        ),
        (
            4,
            "Sheet",
            INSTALLS_COL,
            'Tệp "fractional_cells.xlsx", trang "Sheet", dòng 4, cột E "Số lượng cài đặt": giá '
            f'trị "0.0895" không phải số nguyên; {COUNT_VI}.',
        ),
    ),
    "reports/agency_staff_30.csv": (
        (
            3,
            None,
            "Số CBCCVC đã cài đặt",
            'Tệp "agency_staff_30.csv", dòng 3, cột E "Số CBCCVC đã cài đặt": giá trị "1.05" '
            + DECIMAL_VI,
        ),
    ),
    "reports/dates_30.csv": (
        _dates(3, f'ngày báo cáo "2020-08-06" ở sau ngày gửi (05/08/2020); {AFTER_SENT_VI}'),
        _dates(4, f'ngày báo cáo "2020-08-06" ở sau ngày gửi (05/08/2020); {AFTER_SENT_VI}'),
        _dates(
            5,
            'ngày báo cáo "2020-07-31" nằm ngoài thời gian chiến dịch (từ 01/08/2020 đến '
            f"31/12/2020); {CAMPAIGN_VI}",
        ),
        _dates(
            6,
            'ngày báo cáo "08/04/2020" nằm ngoài thời gian chiến dịch (từ 01/08/2020 đến '
            f"31/12/2020); {CAMPAIGN_VI}",
        ),
        _dates(7, f'ngày "31/02/2020" không có trên lịch; {DATE_VI}'),
        _dates(8, f'giá trị "4-Aug-2020" không đọc được là ngày; {DATE_VI}'),
        _dates(
            9,
            "ô ngày báo cáo để trống; hãy ghi ngày mà số liệu báo cáo, ví dụ 04/08/2020.",
        ),
    ),
    "reports/submitted_at_formats_30.csv": (
        (
            9,
            None,
            SENT_COL,
            'Tệp "submitted_at_formats_30.csv", dòng 9, cột D "Thời gian gửi": "04/08/2020 '
            '25:10" không phải giờ có thật trong ngày; giờ từ 0 đến 23 (hoặc 1 đến 12 khi ghi '
            "AM/PM, sáng/chiều), phút từ 0 đến 59, ví dụ 16:00 hoặc 4:00 PM.",
        ),
    ),
    "reports/bao-cao-hai-duong.xlsx": (
        _sheet(7, SENT_COL, f'giá trị "16 giờ kém 15" không đọc được là giờ; {TIME_VI}', "E"),
        _sheet(
            8,
            TWO_ROW_INSTALLS,
            f'ô chứa giá trị đúng/sai "TRUE", không phải con số; {COUNT_VI}.',
            "F",
        ),
        _sheet(
            9,
            SENT_COL,
            'giá trị "04/08/2020" có ngày nhưng thiếu giờ; hãy ghi cả giờ gửi, ví dụ '
            "04/08/2020 16:00.",
            "E",
        ),
        _sheet(10, SENT_COL, f'ngày trong "32/08/2020 16:00" không có trên lịch; {TIME_VI}', "E"),
        _sheet(
            11,
            "Tên đơn vị",
            "dòng này không có mã đơn vị lẫn tên đơn vị; hãy ghi mã đơn vị hoặc tên đơn vị.",
            "C",
        ),
        _sheet(
            12,
            DATE_COL,
            f'ngày báo cáo "06/08/2020" ở sau ngày gửi (04/08/2020); {AFTER_SENT_VI}',
            "D",
        ),
        _sheet(
            13,
            TWO_ROW_INSTALLS,
            'giá trị "70.264 người" không phải con số; hãy ghi số nguyên, ví dụ 70264 hoặc '
            "70.264, không kèm chữ hay đơn vị.",
            "F",
        ),
    ),
    "reports/wrong_dimension.xlsx": (
        (
            5,
            "Sheet",
            INSTALLS_COL,
            'Tệp "wrong_dimension.xlsx", trang "Sheet", dòng 5, cột E "Số lượng cài đặt": giá '
            'trị "n/a" không phải con số; hãy ghi số nguyên, ví dụ 70264 hoặc 70.264, không kèm '
            "chữ hay đơn vị.",
        ),
    ),
    "reports/bad_record.json": (
        (
            2,
            None,
            INSTALLS_COL,
            'Tệp "bad_record.json", bản ghi thứ 2, cột "Số lượng cài đặt": giá trị "8,95%" là '
            "tỉ lệ phần trăm, không phải số lượng; hãy ghi số người (số nguyên), ví dụ 70264 "
            "hoặc 70.264, không ghi tỉ lệ.",
        ),
    ),
    "reports/sql_injection_30.csv": (
        (
            2,
            None,
            "Tên đơn vị",
            'Tệp "sql_injection_30.csv", dòng 2, cột C "Tên đơn vị": tên đơn vị "\'); drop '
            'table raw.unit_reports; --" không khớp với đơn vị nào trong danh mục; ' + NAME_VI,
        ),
        (
            5,
            None,
            "Mã đơn vị",
            'Tệp "sql_injection_30.csv", dòng 5, cột B "Mã đơn vị": mã đơn vị "288\'; --" không '
            "có trong danh mục đơn vị báo cáo; hãy ghi đúng mã đơn vị được giao, hoặc để trống "
            "mã và ghi đúng tên đơn vị.",
        ),
    ),
    "reports/typo_30.csv": (
        (
            4,
            None,
            "Tên đơn vị",
            'Tệp "typo_30.csv", dòng 4, cột C "Tên đơn vị": tên đơn vị "Huyện Không Có" không '
            "khớp với đơn vị nào trong danh mục (gần giống nhất: 630 UBND Huyện Kông Chro, Gia "
            "Lai; 664 UBND Huyện Krông Nô, Đắk Nông; 471 UBND Huyện Cồn Cỏ, Quảng Trị); " + NAME_VI,
        ),
    ),
    "reports/chau_thanh_ambiguous.csv": (
        (
            2,
            None,
            "Tên đơn vị",
            'Tệp "chau_thanh_ambiguous.csv", dòng 2, cột C "Tên đơn vị": tên đơn vị "Huyện Châu '
            f'Thành" trùng với nhiều đơn vị: {CHAU_THANH_UNITS}; {AMBIGUOUS_VI}',
        ),
        (
            3,
            None,
            "Tên đơn vị",
            'Tệp "chau_thanh_ambiguous.csv", dòng 3, cột C "Tên đơn vị": tên đơn vị "Huyện Chợ '
            f'Mới" trùng với nhiều đơn vị: {CHO_MOI_UNITS}; {AMBIGUOUS_VI}',
        ),
    ),
    "reports/code_vs_name_30.csv": (
        (
            2,
            None,
            "Mã đơn vị",
            'Tệp "code_vs_name_30.csv", dòng 2, cột B "Mã đơn vị": mã "288" là 288 UBND Thành '
            'phố Hải Dương, Hải Dương nhưng tên "Huyện Nam Sách" là 291 UBND Huyện Nam Sách, Hải '
            "Dương; hãy sửa mã hoặc tên để cả hai cùng chỉ đơn vị của dòng này.",
        ),
    ),
    "installs/installs_20200804_bad_numbers.csv": tuple(
        _export(
            "installs_20200804_bad_numbers.csv",
            row,
            "installs",
            f'giá trị "{value}" không phải số nguyên không âm; {EXPORT_COUNT_VI}',
        )
        for row, value in ((3, "-5"), (4, "1.5"), (5, "12,5"), (6, "1e3"))
    )
    + tuple(
        _export(
            "installs_20200804_bad_numbers.csv",
            row,
            "installs_with_phone",
            f'giá trị "{value}" không phải số nguyên không âm; {PHONE_VI}',
        )
        for row, value in ((7, "-1"), (8, "2.5"))
    ),
    "installs/installs_20200804_empty_installs.csv": (
        _export(
            "installs_20200804_empty_installs.csv",
            3,
            "installs",
            "ô số lượt cài đặt để trống; hãy ghi số lượt cài đặt, ví dụ 120000.",
        ),
    ),
    "installs/installs_20200804_levels.csv": (
        _export(
            "installs_20200804_levels.csv",
            5,
            "unit_code",
            f'mã "99999" không phải mã xã nào đã biết; {GSO_VI}',
        ),
        _export(
            "installs_20200804_levels.csv",
            6,
            "level",
            'cấp "nation" không hợp lệ; hãy ghi province, district hoặc commune.',
        ),
        _export(
            "installs_20200804_levels.csv",
            7,
            "level",
            "ô cấp đơn vị để trống; hãy ghi province, district hoặc commune.",
        ),
    ),
    "installs/installs_20200804_unknown_units.csv": tuple(
        _export(
            "installs_20200804_unknown_units.csv",
            row,
            "unit_code",
            f'mã "{code}" không phải mã {level} nào đã biết; {GSO_VI}',
        )
        for row, code, level in ((3, "999", "huyện"), (4, "99", "tỉnh"), (5, "abc", "huyện"))
    )
    + (
        _export(
            "installs_20200804_unknown_units.csv",
            6,
            "unit_code",
            f'mã "288" không phải mã tỉnh nào đã biết; {GSO_VI}',
        ),
    ),
    "installs/installs_20200804_other_day.csv": (
        _export(
            "installs_20200804_other_day.csv",
            3,
            "snapshot_date",
            'ngày "2020-08-03" khác ngày ghi trong tên tệp (04/08/2020); mỗi tệp chỉ chứa số '
            "liệu của ngày ghi trong tên tệp; số liệu ngày khác hãy gửi trong tệp mang tên ngày "
            "đó.",
        ),
        _export(
            "installs_20200804_other_day.csv",
            4,
            "snapshot_date",
            'giá trị "04/08/2020" không phải ngày dạng YYYY-MM-DD; hãy ghi ngày dạng YYYY-MM-DD, '
            "ví dụ 2020-08-04.",
        ),
    ),
    "installs/installs_20200804_duplicates.csv": (
        _export(
            "installs_20200804_duplicates.csv",
            4,
            "unit_code",
            f"tỉnh 30 đã có ở một dòng trước trong tệp; {DUPLICATE_VI}",
        ),
        _export(
            "installs_20200804_duplicates.csv",
            5,
            "unit_code",
            f"huyện 288 đã có ở một dòng trước trong tệp; {DUPLICATE_VI}",
        ),
        _export(
            "installs_20200804_duplicates.csv",
            7,
            "unit_code",
            f"tỉnh 01 đã có ở một dòng trước trong tệp; {DUPLICATE_VI}",
        ),
    ),
    "installs/installs_20200804_empty_cells.csv": (
        _export(
            "installs_20200804_empty_cells.csv",
            3,
            "snapshot_date",
            "ô ngày để trống; hãy ghi ngày của số liệu, ví dụ 2020-08-04.",
        ),
        _export(
            "installs_20200804_empty_cells.csv", 4, "unit_code", f"ô mã đơn vị để trống; {GSO_VI}"
        ),
    ),
    "installs/installs_20200804_bad_row.parquet": (
        (
            2,
            None,
            "installs",
            'Tệp "installs_20200804_bad_row.parquet", dòng dữ liệu thứ 2, cột "installs": giá '
            f'trị "-3" không phải số nguyên không âm; {EXPORT_COUNT_VI}',
        ),
    ),
}

FILE_SAID: dict[str, Reason] = {
    "installs/installs_2020-08-04.csv": (
        'Tệp "installs_2020-08-04.csv": tên tệp không theo quy định installs_YYYYMMDD; hãy đặt '
        "tên installs_YYYYMMDD theo ngày của số liệu, ví dụ installs_20200804.csv (hoặc .csv.gz, "
        ".parquet)."
    ),
    "installs/installs_20200231.csv": (
        'Tệp "installs_20200231.csv": "20200231" trong tên tệp không phải ngày có thật; hãy ghi '
        "trong tên tệp một ngày có thật, dạng YYYYMMDD, ví dụ 20200804."
    ),
    "installs/installs_20200804_corrupt.csv.gz": re.compile(
        r'^Tệp "installs_20200804_corrupt\.csv\.gz": không đọc được tệp \(.+\); hãy kiểm tra '
        r"tệp không bị hỏng và đúng định dạng theo đuôi tên \(CSV, CSV\.GZ hoặc Parquet\) rồi "
        r"gửi lại\.$"
    ),
    "installs/installs_20200804_not_parquet.parquet": re.compile(
        r'^Tệp "installs_20200804_not_parquet\.parquet": không đọc được tệp \((?!.*/tmp).+\); '
    ),
    "installs/installs_20200804_missing_column.csv": (
        'Tệp "installs_20200804_missing_column.csv": thiếu cột "installs" (các cột có: '
        '"snapshot_date", "level", "unit_code", "installs_with_phone"); ' + EXPORT_COLUMNS_VI
    ),
    "installs/installs_20200804_header_only.csv": (
        f'Tệp "installs_20200804_header_only.csv": {NO_ROWS_VI}'
    ),
    "reports/header_only.csv": f'Tệp "header_only.csv": {NO_ROWS_VI}',
    "reports/header_only_sheet.xlsx": (
        f'Tệp "header_only_sheet.xlsx", trang "Báo cáo": {NO_ROWS_VI}'
    ),
    "reports/empty.csv": (
        'Tệp "empty.csv": tệp trống, không có nội dung; hãy điền báo cáo vào mẫu, lưu lại rồi gửi.'
    ),
    "reports/..bad..name;rm -rf.csv": (
        'Tệp "..bad..name;rm -rf.csv": không tìm thấy dòng tiêu đề của bảng báo cáo trong 15 '
        f"dòng đầu; {TEMPLATE_VI}"
    ),
    "reports/missing_column.csv": (
        'Tệp "missing_column.csv": thiếu cột "Số lượng cài đặt" hoặc "Số CBCCVC đã cài đặt" '
        '(các cột đọc được: "Ngày báo cáo", "Mã đơn vị", "Tên đơn vị", "Ghi chú"); hãy dùng mẫu '
        'báo cáo, có cột "Số lượng cài đặt" hoặc "Số CBCCVC đã cài đặt".'
    ),
    "reports/windows_1258.csv": (
        'Tệp "windows_1258.csv": tệp CSV không lưu theo bảng mã UTF-8 (chữ lỗi đầu tiên ở dòng '
        '1), nên chữ tiếng Việt sẽ bị sai; trong Excel chọn File > Save As > "CSV UTF-8 (Comma '
        'delimited)" hoặc "Excel Workbook (.xlsx)" rồi gửi lại.'
    ),
    "reports/bao_cao_unicode_text.txt": (
        'Tệp "bao_cao_unicode_text.txt": không nhận loại tệp ".txt"; hãy gửi báo cáo dạng Excel '
        "(.xlsx), CSV (.csv) hoặc JSON (.json)."
    ),
    "reports/bao_cao.pdf": (
        'Tệp "bao_cao.pdf": không nhận loại tệp ".pdf"; hãy gửi báo cáo dạng Excel (.xlsx), CSV '
        "(.csv) hoặc JSON (.json)."
    ),
    "reports/~$template_30.xlsx": (
        'Tệp "~$template_30.xlsx": đây là tệp khóa tạm Excel tạo ra khi đang mở bảng tính '
        "(~$...), không phải báo cáo; hãy gửi chính tệp báo cáo (tên không bắt đầu bằng ~$)."
    ),
    "reports/invalid.json": (
        'Tệp "invalid.json": tệp JSON sai cú pháp ở dòng 3, ký tự thứ 1; hãy xuất lại tệp JSON '
        "từ phần mềm, hoặc gửi báo cáo dạng Excel (.xlsx)."
    ),
    "reports/not_a_list.json": (
        'Tệp "not_a_list.json": tệp JSON không chứa danh sách bản ghi báo cáo; dạng đúng: một '
        'danh sách các bản ghi, hoặc một đối tượng có khóa "rows" là danh sách.'
    ),
    "reports/deeply_nested.json": (
        'Tệp "deeply_nested.json": tệp JSON lồng nhau quá sâu, không phải một báo cáo; hãy gửi '
        "báo cáo dạng danh sách các bản ghi, hoặc dạng Excel (.xlsx)."
    ),
    "reports/truncated.xlsx": (
        'Tệp "truncated.xlsx": tệp Excel bị hỏng hoặc chưa được gửi trọn vẹn; ' + SAVE_AS_VI
    ),
    "reports/zip_bomb.xlsx": re.compile(
        r'^Tệp "zip_bomb\.xlsx": khi giải nén, tệp Excel lớn \d{1,3}(\.\d{3})+ byte, vượt giới '
        r"hạn 50\.000 byte; hãy xóa các trang, hình ảnh và định dạng thừa, chỉ giữ bảng báo "
        r"cáo, rồi gửi lại\.$"
    ),
    "reports/too_big.csv": re.compile(
        r'^Tệp "too_big\.csv": tệp nặng \d{2}\.\d{3} byte, vượt giới hạn 32\.768 byte nên không '
        r"được đọc; hãy gửi tệp chỉ gồm bảng báo cáo, hoặc chia thành nhiều tệp nhỏ hơn\.$"
    ),
    "reports/legacy_97_2003.xls": (
        f'Tệp "legacy_97_2003.xls": đây là tệp Excel 97-2003 (.xls) kiểu cũ; {SAVE_AS_VI}'
    ),
    "reports/password_protected.xlsx": (
        'Tệp "password_protected.xlsx": bảng tính được đặt mật khẩu nên không đọc được; hãy gỡ '
        "mật khẩu (File > Info > Protect Workbook > Encrypt with Password, xóa mật khẩu, lưu) "
        "rồi gửi lại."
    ),
    "reports/web_page.xls": (
        'Tệp "web_page.xls": đây là trang web (HTML) được lưu với đuôi tên của bảng tính, không '
        f"phải tệp Excel; {SAVE_AS_VI}"
    ),
    "reports/empty_sheet.xlsx": (
        'Tệp "empty_sheet.xlsx", trang "Sheet1": trang này trống, không có số liệu; hãy điền '
        "báo cáo vào trang này, lưu lại rồi gửi."
    ),
    "reports/empty_sheets.xlsx": (
        'Tệp "empty_sheets.xlsx": không trang nào có số liệu: các trang "Báo cáo", "Sheet2" đều '
        "trống; hãy điền báo cáo vào mẫu, lưu lại rồi gửi."
    ),
    "reports/notes_only.xlsx": (
        'Tệp "notes_only.xlsx": không trang nào có bảng báo cáo: "Ghi chú" (không có dòng tiêu '
        f"đề trong 15 dòng đầu); {TEMPLATE_VI}"
    ),
    "reports/data_on_other_sheet.xlsx": (
        'Tệp "data_on_other_sheet.xlsx": trang "Báo cáo" có dòng tiêu đề nhưng không có số '
        'liệu; số liệu lại nằm ở trang "Sheet2", nơi không có dòng tiêu đề; hãy chép số liệu '
        'vào ngay dưới dòng tiêu đề ở trang "Báo cáo" rồi gửi lại.'
    ),
}


# --- helpers --------------------------------------------------------------------------------


def corpus_files() -> list[str]:
    return sorted(
        path.relative_to(CORPUS).as_posix()
        for source in ("installs", "reports")
        for path in (CORPUS / source).rglob("*")
        if path.is_file()
    )


def landing_path(name: str) -> str:
    return EXPECTED[name].landing_name or name


def corpus_settings(root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    env = environment_for(root) | {
        "BLUEZONE_MAX_FILE_BYTES": str(MAX_FILE_BYTES),
        "BLUEZONE_MAX_XLSX_UNCOMPRESSED_BYTES": str(MAX_XLSX_UNCOMPRESSED_BYTES),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


def land(settings: Settings, names: list[str], arrived: datetime = ARRIVED) -> None:
    for name in names:
        target = Path(settings.landing_url) / landing_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / name, target)
        os.utime(target, (arrived.timestamp(), arrived.timestamp()))


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    return {table: query(settings, f"select * from {table} order by all") for table in RAW_TABLES}


def _with_reasons(expected: tuple, actual: list[tuple]) -> list[tuple]:
    """``actual`` with each reason replaced by the expected matcher when it matches."""
    shown = []
    for index, row in enumerate(actual):
        if index < len(expected) and reason_matches(expected[index][-1], row[-1]):
            row = (*row[:-1], expected[index][-1])
        shown.append(row)
    return shown


def check_outcome(settings: Settings, name: str, run_id: str = "corpus") -> None:
    """Assert everything the warehouse recorded about one fixture."""
    expect = EXPECTED[name]
    path = landing_path(name)
    data = (CORPUS / name).read_bytes()
    checksum = hashlib.sha256(data).hexdigest()
    source = path.split("/", 1)[0]

    manifest = query(
        settings,
        "select source, path, file_name, size_bytes, checksum, arrived_at, run_id, status, "
        "rows_loaded, rows_rejected, reason, snapshot_date, quarantined_to "
        "from raw.landing_files where path = ?",
        [path],
    )
    assert len(manifest) == 1, manifest
    (
        m_source,
        m_path,
        file_name,
        size,
        m_checksum,
        arrived,
        m_run,
        status,
        loaded,
        rejected_count,
        reason,
        snapshot_day,
        quarantined_to,
    ) = manifest[0]
    assert (m_source, m_path, file_name, size, m_checksum, arrived, m_run) == (
        source,
        path,
        path.rsplit("/", 1)[-1],
        len(data),
        checksum,
        ARRIVED,
        run_id,
    )
    assert (status, snapshot_day) == (expect.status, expect.snapshot_date), reason
    assert reason_matches(expect.reason, reason), reason

    exports = query(
        settings,
        "select row_number, level, unit_code, installs, installs_with_phone, snapshot_date "
        "from raw.install_exports where source_file = ? order by row_number",
        [path],
    )
    assert [row[:5] for row in exports] == list(expect.exports)
    assert {row[5] for row in exports} <= {expect.snapshot_date}

    reports = query(
        settings,
        "select row_number, unit_code, report_date, installs_reported, staff_total, "
        "staff_installed, households_visited, submitted_at, submitted_at_source, match_method, "
        "note, unit_code_raw, unit_name_raw "
        "from raw.unit_reports where source_file = ? order by row_number",
        [path],
    )
    assert reports == list(expect.reports)

    row_rejections = query(
        settings,
        "select row_number, column_name, raw_value, check_id, reason from raw.rejected_rows "
        "where source_file = ? and row_number is not null order by row_number",
        [path],
    )
    assert _with_reasons(expect.rejected, row_rejections) == list(expect.rejected)

    told = query(
        settings,
        "select row_number, sheet, header, message from raw.rejected_rows "
        "where source_file = ? and row_number is not null order by row_number",
        [path],
    )
    check_rows_said(name, path.rsplit("/", 1)[-1], expect, told)

    file_flags = query(
        settings,
        "select column_name, raw_value, check_id, reason from raw.rejected_rows "
        "where source_file = ? and row_number is null",
        [path],
    )
    assert file_flags == ([(None, None, "malformed_file", reason)] if expect.flags_file else [])
    file_told = query(
        settings,
        "select header, message from raw.rejected_rows "
        "where source_file = ? and row_number is null",
        [path],
    )
    if expect.flags_file:
        ((header, message),) = file_told
        assert header is None
        assert message is not None and message.startswith(f'Tệp "{file_name}"'), message
        if name in FILE_SAID:
            assert reason_matches(FILE_SAID[name], message), message
    assert query(
        settings,
        "select distinct source, detected_at from raw.rejected_rows where source_file = ?",
        [path],
    ) == ([(source, LOADED_AT)] if row_rejections or file_flags else [])

    if status in ("loaded", "partial"):
        assert (loaded, rejected_count) == (
            len(expect.exports) + len(expect.reports),
            len(expect.rejected),
        )
    else:
        assert loaded == 0
    if status == "quarantined":
        quarantine_root = Path(settings.quarantine_url).resolve()
        copy = Path(quarantined_to).resolve()
        assert copy.is_relative_to(quarantine_root / source), quarantined_to
        assert copy.name == f"{checksum[:16]}_{safe_file_name(file_name)}"
        assert copy.read_bytes() == data
    else:
        assert quarantined_to is None


def _row_words(file_name: str) -> str:
    """How a message counts rows: as a spreadsheet shows them, a JSON record, a Parquet row."""
    if file_name.lower().endswith(".json"):
        return "bản ghi thứ"
    if file_name.lower().endswith(".parquet"):
        return "dòng dữ liệu thứ"
    return "dòng"


def check_rows_said(name: str, file_name: str, expect: Expect, told: list[tuple]) -> None:
    """Every rejected row's message names the file, the sheet (a workbook's), the row and
    the header as written; SAID's are asserted whole."""
    assert [row for row, *_ in told] == [row for row, *_ in expect.rejected]
    workbook = file_name.lower().endswith((".xlsx", ".xls"))
    for row, sheet, header, message in told:
        assert message is not None and message.startswith(f'Tệp "{file_name}"'), message
        assert (sheet is not None) == workbook, sheet
        if sheet is not None:
            assert f'Tệp "{file_name}", trang "{sheet}", ' in message, message
        assert f"{_row_words(file_name)} {row}, cột" in message, message
        assert header and f' "{header}": ' in message, message
    if name in SAID:
        assert len(told) == len(SAID[name])
        shown = [
            (*row[:3], expected[3] if reason_matches(expected[3], row[3]) else row[3])
            for row, expected in zip(told, SAID[name], strict=True)
        ]
        assert shown == list(SAID[name])


def outcome_params(names: list[str]) -> list:
    params = []
    for name in names:
        expect = EXPECTED[name]
        marks = [pytest.mark.xfail(strict=True, reason=expect.xfail)] if expect.xfail else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


# --- the corpus itself ----------------------------------------------------------------------


def test_every_committed_fixture_has_an_expectation_and_a_line_in_expected_md() -> None:
    files = corpus_files()
    assert len(files) >= 35
    assert sorted(EXPECTED) == files
    listed = re.findall(r"^\| `([^`]+)` \|", (CORPUS / "EXPECTED.md").read_text(), re.M)
    assert sorted(name.replace("\\|", "|") for name in listed) == files
    for name, expect in EXPECTED.items():
        assert not expect.xfail or "STRICT XFAIL" in _expected_line(name), name


def _expected_line(name: str) -> str:
    text = (CORPUS / "EXPECTED.md").read_text()
    return next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))


def test_fixtures_are_distinct_except_the_deliberate_copies() -> None:
    by_checksum: dict[str, list[str]] = {}
    for name in corpus_files():
        digest = hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
        by_checksum.setdefault(digest, []).append(name)
    shared = sorted(names for names in by_checksum.values() if len(names) > 1)
    assert shared == [
        ["installs/installs_20200804_empty.csv", "reports/empty.csv"],
        ["reports/report_utf8.csv", "reports/resent/report_utf8 - Copy.csv"],
    ]


# --- one fixture at a time ------------------------------------------------------------------


@pytest.mark.parametrize("name", outcome_params(sorted(EXPECTED)))
def test_fixture_outcome(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = corpus_settings(tmp_path, monkeypatch)
    expect = EXPECTED[name]
    land(settings, [*expect.companions, name])
    ingest_landing(settings, run_id="corpus", loaded_at=LOADED_AT)
    check_outcome(settings, name)
    landed = {landing_path(n) for n in (*expect.companions, name)}
    assert {path for (path,) in query(settings, "select path from raw.landing_files")} == landed


# --- the whole corpus -----------------------------------------------------------------------


def _ingest_corpus(settings: Settings, names: list[str]) -> list[dict[str, list[tuple]]]:
    land(settings, names)
    snapshots = []
    for run in (1, 2, 3):
        summary = ingest_landing(settings, run_id=f"corpus-{run}", loaded_at=LOADED_AT)
        if run > 1:
            assert summary.statuses == {}, summary.as_dict()
        snapshots.append(snapshot(settings))
    return snapshots


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[dict]]:
    """Every fixture that does not crash the run today, landed together and ingested thrice."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = corpus_settings(tmp_path_factory.mktemp("corpus"), monkeypatch)
        names = [name for name in sorted(EXPECTED) if name not in CRASHERS]
        return settings, _ingest_corpus(settings, names)


def test_corpus_three_runs_leave_identical_raw_tables(corpus_run) -> None:
    settings, (first, second, third) = corpus_run
    assert first == second == third
    assert len(first["raw.landing_files"]) == len(EXPECTED) - len(CRASHERS)
    assert {row[0] for row in query(settings, "select distinct run_id from raw.landing_files")} == {
        "corpus-1"
    }


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in sorted(EXPECTED)
        if not EXPECTED[name].xfail and not EXPECTED[name].landing_name
    ],
)
def test_corpus_outcome_matches_the_file_alone(corpus_run, name: str) -> None:
    """Landed among all the others, each file has exactly the outcome it has alone."""
    settings, _ = corpus_run
    check_outcome(settings, name, run_id="corpus-1")


def test_nothing_in_the_corpus_was_executed_as_sql(corpus_run) -> None:
    settings, _ = corpus_run
    tables = query(
        settings,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema = 'raw' order by 1",
    )
    assert set(RAW_TABLES) <= {name for (name,) in tables}
    manifest = dict(
        query(
            settings,
            "select source, sum(rows_loaded) from raw.landing_files group by source",
        )
    )
    assert query(settings, "select count(*) from raw.unit_reports") == [(manifest["reports"],)]
    assert query(settings, "select count(*) from raw.install_exports") == [(manifest["installs"],)]
    sql_file = "reports/sql_injection_30.csv"
    assert query(
        settings, "select count(*) from raw.unit_reports where source_file = ?", [sql_file]
    ) == [(2,)]
    assert query(
        settings, "select count(*) from raw.rejected_rows where source_file = ?", [sql_file]
    ) == [(2,)]
    texts = query(
        settings,
        "select note from raw.unit_reports where note like '%drop table%' "
        "union all select unit_name_raw from raw.unit_reports where unit_name_raw like '%DROP%' "
        "union all select raw_value from raw.rejected_rows where raw_value like '%drop table%' "
        "order by 1",
    )
    assert texts == [
        ("'); drop table raw.rejected_rows; --",),
        ("'); drop table raw.unit_reports; --",),
        ('Robert"); DROP TABLE raw.landing_files;--',),
    ]
    assert query(settings, "select count(*) from raw.landing_files") == [
        (len(EXPECTED) - len(CRASHERS),)
    ]


def test_whole_corpus_including_hostile_files_is_ingested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = corpus_settings(tmp_path, monkeypatch)
    first, second, third = _ingest_corpus(settings, sorted(EXPECTED))
    assert first == second == third
    assert sorted(path for (path,) in query(settings, "select path from raw.landing_files")) == (
        sorted(landing_path(name) for name in EXPECTED)
    )


def test_same_bytes_landing_again_later_are_a_new_delivery_storing_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-upload of identical bytes is a new delivery (DESIGN §3.3): it is recorded with
    its own arrival; accepted content is stored once (the delivery names the first one and
    loads nothing), while content that was rejected is read, and rejected, again."""
    settings = corpus_settings(tmp_path, monkeypatch)
    names = [n for n in sorted(EXPECTED) if n not in CRASHERS and EXPECTED[n].status != "refused"]
    land(settings, names)
    ingest_landing(settings, run_id="r1", loaded_at=LOADED_AT)
    before = snapshot(settings)
    land(settings, names, arrived=ARRIVED + timedelta(hours=1))
    summary = ingest_landing(settings, run_id="r2", loaded_at=LOADED_AT + timedelta(days=1))
    accepted = [n for n in names if EXPECTED[n].status in ("loaded", "partial", "duplicate")]
    assert dict(summary.statuses) == {
        "duplicate": len(accepted),
        "quarantined": len(names) - len(accepted),
    }
    after = snapshot(settings)
    for table in ("raw.install_exports", "raw.unit_reports"):
        assert after[table] == before[table], table
    assert len(after["raw.landing_files"]) == 2 * len(names)
    # each repeated delivery names the first accepted delivery of the same bytes
    repeats = query(
        settings,
        "select again.path, first.path, first.status from raw.landing_files as again "
        "inner join raw.landing_files as first on again.content_file_id = first.file_id "
        "where again.run_id = 'r2' order by all",
    )
    assert len(repeats) == len(accepted)
    assert {status for *_, status in repeats} <= {"loaded", "partial"}


def test_refused_file_landing_again_later_is_refused_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = corpus_settings(tmp_path, monkeypatch)
    land(settings, ["reports/too_big.csv"])
    ingest_landing(settings, run_id="r1", loaded_at=LOADED_AT)
    land(settings, ["reports/too_big.csv"], arrived=ARRIVED + timedelta(hours=1))
    ingest_landing(settings, run_id="r2", loaded_at=LOADED_AT + timedelta(days=1))
    assert query(settings, "select run_id, status from raw.landing_files order by run_id") == [
        ("r1", "refused"),
        ("r2", "refused"),
    ]
    assert query(settings, "select count(*) from raw.unit_reports") == [(0,)]


def test_quarantined_file_counts_its_rejected_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = corpus_settings(tmp_path, monkeypatch)
    land(settings, ["reports/chau_thanh_ambiguous.csv"])
    ingest_landing(settings, run_id="r1", loaded_at=LOADED_AT)
    assert query(settings, "select status, rows_loaded, rows_rejected from raw.landing_files") == [
        ("quarantined", 0, 2)
    ]


# --- the senders' messages in English ---------------------------------------------------------

COUNT_EN = "write a whole non-negative number, e.g. 70264 or 70.264."
TIME_EN = "write the time as 16:00 or 16h00, with the date if you like: 04/08/2020 16:00."
SAVE_AS_EN = (
    'open it in Excel, choose File > Save As > "Excel Workbook (.xlsx)" (or "CSV UTF-8") and '
    "send it again."
)


def _sheet_en(row: int, header: str, column: str, what: str) -> tuple:
    return (
        row,
        "Báo cáo",
        header,
        f'File "bao-cao-hai-duong.xlsx", sheet "Báo cáo", row {row}, column {column} "{header}": '
        + what,
    )


# fixture -> (rows: (row_number, sheet, header, message), the file's message)
SAID_EN: dict[str, tuple[tuple[tuple, ...], Reason]] = {
    "reports/bao-cao-hai-duong.xlsx": (
        (
            _sheet_en(
                7,
                SENT_COL,
                "E",
                f'the value "16 giờ kém 15" cannot be read as a time of day; {TIME_EN}',
            ),
            _sheet_en(
                8,
                TWO_ROW_INSTALLS,
                "F",
                f'the cell holds the true/false value "TRUE", not a number; {COUNT_EN}',
            ),
            _sheet_en(
                9,
                SENT_COL,
                "E",
                'the value "04/08/2020" has a date but no time of day; write the time it was '
                "sent too, e.g. 04/08/2020 16:00.",
            ),
            _sheet_en(
                10,
                SENT_COL,
                "E",
                f'the date in "32/08/2020 16:00" is not a day of the calendar; {TIME_EN}',
            ),
            _sheet_en(
                11,
                "Tên đơn vị",
                "C",
                "the row has neither a unit code nor a unit name; write the unit code or the "
                "unit name.",
            ),
            _sheet_en(
                12,
                DATE_COL,
                "D",
                'the report date "06/08/2020" is after the day it was sent (2020-08-04); write '
                "the day the figures are for; it cannot be after the day you send them.",
            ),
            _sheet_en(
                13,
                TWO_ROW_INSTALLS,
                "F",
                'the value "70.264 người" is not a number; write a whole number, e.g. 70264 or '
                "70.264, without words or units.",
            ),
        ),
        None,
    ),
    "reports/dates_30.csv": (
        (
            (
                3,
                None,
                DATE_COL,
                'File "dates_30.csv", row 3, column A "Ngày báo cáo": the report date '
                '"2020-08-06" is after the day it was sent (2020-08-05); write the day the '
                "figures are for; it cannot be after the day you send them.",
            ),
            (4, None, DATE_COL, Prefix('File "dates_30.csv", row 4, column A "Ngày báo cáo": ')),
            (
                5,
                None,
                DATE_COL,
                'File "dates_30.csv", row 5, column A "Ngày báo cáo": the report date '
                '"2020-07-31" is outside the campaign (2020-08-01 to 2020-12-31); check the '
                "date, written as day/month/year, e.g. 04/08/2020.",
            ),
            (6, None, DATE_COL, Prefix('File "dates_30.csv", row 6, column A "Ngày báo cáo": ')),
            (7, None, DATE_COL, Prefix('File "dates_30.csv", row 7, column A "Ngày báo cáo": ')),
            (8, None, DATE_COL, Prefix('File "dates_30.csv", row 8, column A "Ngày báo cáo": ')),
            (
                9,
                None,
                DATE_COL,
                'File "dates_30.csv", row 9, column A "Ngày báo cáo": the report date is empty; '
                "write the day the figures are for, e.g. 04/08/2020.",
            ),
        ),
        None,
    ),
    "reports/bad_record.json": (
        (
            (
                2,
                None,
                INSTALLS_COL,
                'File "bad_record.json", record 2, column "Số lượng cài đặt": the value "8,95%" '
                "is a percentage, not a count; write the number of people as a whole number, "
                "e.g. 70264 or 70.264, not a share.",
            ),
        ),
        None,
    ),
    "installs/installs_20200804_bad_row.parquet": (
        (
            (
                2,
                None,
                "installs",
                'File "installs_20200804_bad_row.parquet", data row 2, column "installs": the '
                'value "-3" is not a whole non-negative number; write a whole non-negative '
                "number, e.g. 120000.",
            ),
        ),
        None,
    ),
    "installs/installs_20200804_duplicates.csv": (
        (
            (
                4,
                None,
                "unit_code",
                'File "installs_20200804_duplicates.csv", row 4, column "unit_code": province 30 '
                "already has a row earlier in the file; write one row per unit; the first one "
                "was kept and this one left out.",
            ),
            (5, None, "unit_code", Prefix('File "installs_20200804_duplicates.csv", row 5, ')),
            (7, None, "unit_code", Prefix('File "installs_20200804_duplicates.csv", row 7, ')),
        ),
        None,
    ),
    "reports/legacy_97_2003.xls": (
        (),
        f'File "legacy_97_2003.xls": this is an old Excel 97-2003 workbook (.xls); {SAVE_AS_EN}',
    ),
    "reports/password_protected.xlsx": (
        (),
        'File "password_protected.xlsx": the workbook is protected with a password, so it '
        "cannot be read; remove the password (File > Info > Protect Workbook > Encrypt with "
        "Password, clear it, save) and send it again.",
    ),
    "reports/web_page.xls": (
        (),
        'File "web_page.xls": this is a web page (HTML) saved with a spreadsheet\'s name, not '
        f"an Excel file; {SAVE_AS_EN}",
    ),
    "reports/data_on_other_sheet.xlsx": (
        (),
        'File "data_on_other_sheet.xlsx": sheet "Báo cáo" has the header row but no figures; '
        'the figures are on sheet "Sheet2", which has no header row; copy the figures right '
        'under the header row on sheet "Báo cáo" and send it again.',
    ),
    "reports/empty_sheet.xlsx": (
        (),
        'File "empty_sheet.xlsx", sheet "Sheet1": the sheet is empty: it holds no figures; fill '
        "in the report on this sheet, save it and send it.",
    ),
    "reports/too_big.csv": (
        (),
        re.compile(
            r'^File "too_big\.csv": the file is \d{2},\d{3} bytes, over the limit of 32,768, so '
            r"it was not read; send a file holding only the report table, or split it into "
            r"smaller files\.$"
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(SAID_EN))
def test_messages_in_english_when_asked(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BLUEZONE_ALERT_LANGUAGE=en: the same places, values and hints, in English."""
    monkeypatch.setenv("BLUEZONE_ALERT_LANGUAGE", "en")
    settings = corpus_settings(tmp_path, monkeypatch)
    assert settings.alert_language == "en"
    land(settings, [name])
    ingest_landing(settings, run_id="corpus", loaded_at=LOADED_AT)
    rows_said, file_said = SAID_EN[name]
    told = query(
        settings,
        "select row_number, sheet, header, message from raw.rejected_rows "
        "where row_number is not null order by row_number",
    )
    assert len(told) == len(rows_said)
    shown = [
        (*row[:3], expected[3] if reason_matches(expected[3], row[3]) else row[3])
        for row, expected in zip(told, rows_said, strict=True)
    ]
    assert shown == list(rows_said)
    file_told = query(settings, "select message from raw.rejected_rows where row_number is null")
    assert [reason_matches(file_said, message) for (message,) in file_told] == (
        [True] if file_said is not None else []
    ), file_told
