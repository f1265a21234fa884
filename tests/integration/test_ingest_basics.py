"""Ingestion on small hand-made landing zones: exact loaded values, rejections with file,
row, column and reason, quarantine, duplicates, and reruns that change nothing."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl

from bluezone_warehouse.config import Settings
from bluezone_warehouse.ingest import ingest_landing
from tests.conftest import land as land_at
from tests.conftest import query

ARRIVED = datetime(2020, 8, 5, 8, 30, tzinfo=UTC)  # 15:30 local


def land(settings: Settings, relative: str, content: bytes, arrived: datetime = ARRIVED) -> Path:
    return land_at(settings, relative, content, arrived)


EXPORT = (
    b"snapshot_date,level,unit_code,installs,installs_with_phone\n"
    b"2020-08-04,province,30,120000,90000\n"
    b"2020-08-04,district,288,50.000,\n"
    b"2020-08-04,district,999,10,5\n"
    b"2020-08-04,district,290,1.5,1\n"
)

REPORT_VI = (
    "\ufeffNgày báo cáo,Mã đơn vị,Tên đơn vị,Thời gian gửi,Số lượng cài đặt,Ghi chú\n"
    '04/08/2020,288,,04/08/2020 15:10,70.264,=HYPERLINK("x")\n'
    '04/08/2020,,TP. Hải Dương,04/08/2020 15:20,"70,265",\n'
    "04/08/2020,,Huyện Không Có,04/08/2020 15:20,10,\n"
    '04/08/2020,290,,04/08/2020 15:30,"8,95%",\n'
    "06/08/2020,291,,04/08/2020 15:30,100,\n"
).encode()


def test_export_rows_load_with_lineage_and_bad_rows_are_rejected(settings: Settings) -> None:
    land(settings, "installs/installs_20200804.csv", EXPORT)
    summary = ingest_landing(settings, run_id="r1")
    assert summary.statuses == {"partial": 1}
    assert query(
        settings,
        "select level, unit_code, installs, installs_with_phone, row_number "
        "from raw.install_exports order by row_number",
    ) == [
        ("province", "30", 120000, 90000, 2),
        ("district", "288", 50000, None, 3),
    ]
    assert query(
        settings,
        "select source_file, row_number, column_name, check_id, reason "
        "from raw.rejected_rows order by row_number",
    ) == [
        (
            "installs/installs_20200804.csv",
            4,
            "unit_code",
            "unknown_unit",
            "unit_code 999 is not a known district code",
        ),
        (
            "installs/installs_20200804.csv",
            5,
            "installs",
            "malformed_file",
            "installs must be a whole non-negative number, got 1.5",
        ),
    ]


def test_report_rows_parse_vietnamese_numbers_names_and_reject_with_reasons(
    settings: Settings,
) -> None:
    land(settings, "reports/bao_cao_hai_duong_30.csv", REPORT_VI)
    ingest_landing(settings, run_id="r1")
    assert query(
        settings,
        "select unit_code, report_date, installs_reported, match_method, "
        "note, submitted_at_source, row_number "
        "from raw.unit_reports order by row_number",
    ) == [
        ("288", date(2020, 8, 4), 70264, "code", '=HYPERLINK("x")', "column", 2),
        ("288", date(2020, 8, 4), 70265, "name", None, "column", 3),
    ]
    rejected = query(
        settings,
        "select row_number, column_name, raw_value, check_id, reason "
        "from raw.rejected_rows order by row_number",
    )
    assert [row[:4] for row in rejected] == [
        (4, "unit_name", "Huyện Không Có", "unknown_unit"),
        (5, "Số lượng cài đặt", "8,95%", "malformed_file"),
        (6, "Ngày báo cáo", "2020-08-06", "out_of_range_date"),
    ]
    assert "percentage" in rejected[1][4]
    assert rejected[2][4] == "report date 2020-08-06 is after the day it was sent (2020-08-04)"


def test_rerun_changes_nothing_and_same_bytes_elsewhere_is_a_duplicate(settings: Settings) -> None:
    land(settings, "installs/installs_20200804.csv", EXPORT)
    land(settings, "reports/a.csv", REPORT_VI)
    ingest_landing(settings, run_id="r1")
    tables = ["raw.install_exports", "raw.unit_reports", "raw.rejected_rows", "raw.landing_files"]
    before = {t: query(settings, f"select * from {t} order by all") for t in tables}
    again = ingest_landing(settings, run_id="r2")
    assert again.statuses == {}
    assert {t: query(settings, f"select * from {t} order by all") for t in tables} == before
    land(settings, "reports/copy-of-a.csv", REPORT_VI)
    third = ingest_landing(settings, run_id="r3")
    assert third.statuses == {"duplicate": 1}
    assert query(settings, "select count(*) from raw.unit_reports") == [(2,)]
    assert query(settings, "select reason from raw.landing_files where status = 'duplicate'") == [
        ("same content as reports/a.csv",)
    ]


def test_unreadable_files_are_quarantined_untouched_and_good_files_still_load(
    settings: Settings,
) -> None:
    land(settings, "reports/broken.xlsx", b"PK\x03\x04 not really a workbook")
    land(settings, "reports/no_header.csv", b"a,b,c\n1,2,3\n")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["BÁO CÁO KẾT QUẢ CÀI ĐẶT BLUEZONE"])
    sheet.append(["(Kèm theo công văn số 123/UBND)"])
    sheet.append(["STT", "Ngày báo cáo", "Mã đơn vị", "Tên đơn vị", "Số lượng cài đặt"])
    sheet.append([1, "04/08/2020", "288", "TP Hải Dương", "12.345"])
    sheet.append([None, None, None, "Tổng cộng", "12.345"])
    xlsx = Path(settings.landing_url) / "tmp.xlsx"
    xlsx.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(xlsx)
    land(settings, "reports/template.xlsx", xlsx.read_bytes())
    xlsx.unlink()
    summary = ingest_landing(settings, run_id="r1")
    assert summary.statuses == {"quarantined": 2, "loaded": 1}
    assert query(
        settings,
        "select unit_code, installs_reported, submitted_at, row_number from raw.unit_reports",
    ) == [("288", 12345, ARRIVED, 4)]
    quarantined = query(
        settings,
        "select path, reason, quarantined_to from raw.landing_files "
        "where status = 'quarantined' order by path",
    )
    assert [row[0] for row in quarantined] == ["reports/broken.xlsx", "reports/no_header.csv"]
    assert quarantined[0][1] == (
        "the workbook is damaged (its zip container cannot be opened): open it in Excel and "
        "save it as Excel Workbook (.xlsx) or CSV UTF-8, then send it again"
    )
    assert quarantined[1][1].startswith("no header row found")
    for path, _, target in quarantined:
        assert Path(target).read_bytes() == (Path(settings.landing_url) / path).read_bytes()
    assert query(
        settings,
        "select source_file, check_id from raw.rejected_rows where row_number is null order by 1",
    ) == [
        ("reports/broken.xlsx", "malformed_file"),
        ("reports/no_header.csv", "malformed_file"),
    ]


def two_row_header_workbook() -> bytes:
    """The common government layout: title rows, then a header band of two rows where
    "Số người đã cài đặt" is merged over "Tổng số | Trong đó có SĐT" and the other headers
    are merged down both rows; a totals row and a signature below the data."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "UBND TỈNH HẢI DƯƠNG"
    sheet["A2"] = "BÁO CÁO SỐ LƯỢNG CÀI ĐẶT BLUEZONE"
    sheet.merge_cells("A2:G2")
    for column, header in zip(
        "ABCD", ("STT", "Mã đơn vị", "Tên đơn vị", "Ngày báo cáo"), strict=True
    ):
        sheet[f"{column}4"] = header
        sheet.merge_cells(f"{column}4:{column}5")
    sheet["E4"] = "Số người đã cài đặt"
    sheet.merge_cells("E4:F4")
    sheet["E5"], sheet["F5"] = "Tổng số", "Trong đó có SĐT"
    sheet["G4"] = "Ghi chú"
    sheet.merge_cells("G4:G5")
    sheet.append([1, "288", "TP. Hải Dương", "04/08/2020", 70264, 51000, None])
    sheet.append([2, None, "Huyện Nam Sách", "04/08/2020", "31.500", 20000, "đủ"])
    sheet.append([None, None, "Tổng cộng", None, 101764, 71000, None])
    sheet.append([None, None, "Người lập biểu", None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_two_row_merged_header_band_loads(settings: Settings) -> None:
    land(settings, "reports/hai_duong_two_row_header.xlsx", two_row_header_workbook())
    csv_twin = (
        "STT,Mã đơn vị,Tên đơn vị,Ngày báo cáo,Số người đã cài đặt,,Ghi chú\n"
        ",,,,Tổng số,Trong đó có SĐT,\n"
        "1,290,,04/08/2020,1.200,900,\n"
        "Tổng cộng,,,,1.200,900,\n"
    ).encode()
    land(settings, "reports/two_row_header.csv", csv_twin)
    summary = ingest_landing(settings, run_id="r1")
    assert summary.statuses == {"loaded": 2}
    assert query(
        settings,
        "select source_file, row_number, unit_code, installs_reported, note "
        "from raw.unit_reports order by source_file, row_number",
    ) == [
        ("reports/hai_duong_two_row_header.xlsx", 6, "288", 70264, None),
        ("reports/hai_duong_two_row_header.xlsx", 7, "291", 31500, "đủ"),
        ("reports/two_row_header.csv", 3, "290", 1200, None),
    ]
    assert query(settings, "select count(*) from raw.rejected_rows") == [(0,)]


def test_a_row_of_numbers_under_the_header_is_data_not_a_second_header(
    settings: Settings,
) -> None:
    content = (
        "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt\n04/08/2020,288,100\n04/08/2020,290,200\n"
    ).encode()
    land(settings, "reports/plain.csv", content)
    ingest_landing(settings, run_id="r1")
    assert query(
        settings,
        "select row_number, unit_code, installs_reported from raw.unit_reports order by row_number",
    ) == [(2, "288", 100), (3, "290", 200)]


def ole2_file(streams: list[str]) -> bytes:
    """A minimal OLE2 compound file header followed by directory names (UTF-16), the shape
    of a legacy .xls or of a password-protected workbook (an "EncryptedPackage" stream)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    return header + b"".join(name.encode("utf-16-le") + b"\x00\x00" for name in streams)


def workbook_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


REPORT_ROWS = [["Ngày báo cáo", "Mã đơn vị", "Số lượng cài đặt"], ["04/08/2020", "288", 10]]
SAVE_AS = "open it in Excel and save it as Excel Workbook (.xlsx) or CSV UTF-8, then send it again"


def test_files_that_are_not_workbooks_say_what_they_are(settings: Settings) -> None:
    land(settings, "reports/legacy.xlsx", ole2_file(["Root Entry", "Workbook"]))
    land(settings, "reports/legacy.xls", ole2_file(["Root Entry", "Workbook"]))
    land(settings, "reports/locked.xlsx", ole2_file(["Root Entry", "EncryptedPackage"]))
    land(settings, "reports/page.xls", b"<html><body><table><tr><td>1</td></tr></table>")
    land(settings, "reports/text.xlsx", "Ngày báo cáo,Mã đơn vị\n".encode())
    land(settings, "reports/renamed.xls", workbook_bytes({"Sheet1": REPORT_ROWS}))
    summary = ingest_landing(settings, run_id="r1")
    assert summary.statuses == {"quarantined": 5, "loaded": 1}
    assert dict(
        query(settings, "select file_name, reason from raw.landing_files where reason is not null")
    ) == {
        "legacy.xlsx": f"this is an old Excel 97-2003 workbook (.xls): {SAVE_AS}",
        "legacy.xls": f"this is an old Excel 97-2003 workbook (.xls): {SAVE_AS}",
        "locked.xlsx": "the workbook is protected with a password, so it cannot be read: remove "
        "the password (File > Info > Protect Workbook) and send it again",
        "page.xls": f"this is a web page (HTML) saved with a spreadsheet name: {SAVE_AS}",
        "text.xlsx": f"this is not an Excel workbook (the file's content is not .xlsx): {SAVE_AS}",
    }
    assert query(settings, "select source_file, unit_code from raw.unit_reports") == [
        ("reports/renamed.xls", "288")
    ]


def test_the_first_sheet_with_the_table_is_read_and_a_workbook_without_one_says_why(
    settings: Settings,
) -> None:
    land(
        settings,
        "reports/second_sheet.xlsx",
        workbook_bytes({"Hướng dẫn": [["Điền số liệu vào sheet Báo cáo"]], "Báo cáo": REPORT_ROWS}),
    )
    land(settings, "reports/no_table.xlsx", workbook_bytes({"Trống": [], "Ghi chú": [["x"]]}))
    summary = ingest_landing(settings, run_id="r1")
    assert summary.statuses == {"loaded": 1, "quarantined": 1}
    assert query(settings, "select source_file, row_number from raw.unit_reports") == [
        ("reports/second_sheet.xlsx", 2)
    ]
    assert query(settings, "select reason from raw.landing_files where status = 'quarantined'") == [
        (
            "no sheet holds the report table: 'Trống' (empty), 'Ghi chú' (no header row in its "
            "first 15 rows) (expected a header row with Ngày báo cáo and Mã đơn vị or Tên đơn vị)",
        )
    ]


def test_a_csv_row_is_named_as_a_spreadsheet_shows_it(settings: Settings) -> None:
    """A quoted note over two lines is one row, a blank line is a row: the message names the
    row the clerk sees on opening the file, not the line of the text."""
    content = (
        "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt,Ghi chú\n"
        '04/08/2020,288,100,"dòng 1\ndòng 2"\n'
        "\n"
        '04/08/2020,290,"8,95%",\n'
    ).encode()
    land(settings, "reports/hang.csv", content)
    ingest_landing(settings, run_id="r1")
    assert query(settings, "select row_number, unit_code from raw.unit_reports") == [(2, "288")]
    assert query(
        settings, "select row_number, sheet, header, raw_value, message from raw.rejected_rows"
    ) == [
        (
            4,
            None,
            "Số lượng cài đặt",
            "8,95%",
            'Tệp "hang.csv", dòng 4, cột C "Số lượng cài đặt": giá trị "8,95%" là tỉ lệ phần '
            "trăm, không phải số lượng; hãy ghi số người (số nguyên), ví dụ 70264 hoặc 70.264, "
            "không ghi tỉ lệ.",
        )
    ]


def test_a_failure_of_the_landing_zone_names_the_file_it_was_on(
    settings: Settings, monkeypatch
) -> None:
    """A file's content never stops the run; a landing zone that fails under it does, and
    the error (which the failure alert carries) names the file, and nothing is half-written."""
    from bluezone_warehouse.ingest import _Ingestor

    land(settings, "installs/installs_20200804.csv", EXPORT)
    land(settings, "reports/hai-duong.csv", REPORT_VI)
    checksum = _Ingestor._stream_checksum

    def failing(self, landed):
        if landed.path == "reports/hai-duong.csv":
            raise OSError("Input/output error")
        return checksum(self, landed)

    monkeypatch.setattr(_Ingestor, "_stream_checksum", failing)
    try:
        ingest_landing(settings, run_id="r1")
    except OSError as err:
        assert str(err) == "Input/output error"
        assert err.__notes__ == [
            f"while ingesting reports/hai-duong.csv ({len(REPORT_VI)} bytes, "
            "arrived 2020-08-05 08:30:00 UTC)"
        ]
    else:
        raise AssertionError("the failure was swallowed")
    assert query(settings, "select count(*) from raw.landing_files") == [(0,)]
    monkeypatch.setattr(_Ingestor, "_stream_checksum", checksum)
    assert ingest_landing(settings, run_id="r2").statuses == {"partial": 2}
