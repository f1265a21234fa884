"""The provincial consolidation as its readers get it: the XLSX read back with openpyxl
(typed cells, Vietnamese display formats, totals, print setup), the HTML page opened in
headless Chromium (rows, Vietnamese numbers, statuses; a phone-width screenshot), and the
earlier version of the day kept when a later run replaces it."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bluezone_warehouse.consolidation import (
    Consolidation,
    ConsolidationRow,
    write_consolidation,
)
from tests.chromium import open_in_chromium

DAY = date(2020, 8, 5)
EXPORT_DAY = date(2020, 8, 4)
REASON = "Dòng 3, cột \"Số lượng cài đặt\": '12,5' <không phải số nguyên>"
ROWS = (
    ConsolidationRow(
        "288", "Thành phố Hải Dương", 70264, 69815, EXPORT_DAY, 0.2563,
        datetime(2020, 8, 5, 15, 42), "on_time",
    ),
    ConsolidationRow(
        "290", "Thành phố Chí Linh", 41230, 40110, EXPORT_DAY, 0.1804,
        datetime(2020, 8, 5, 16, 37, 12), "late",
    ),
    # the ministry has a figure for the unit, the unit sent nothing
    ConsolidationRow("291", "Huyện Nam Sách", None, 20500, EXPORT_DAY, 0.1234, None, "missing"),
    ConsolidationRow(
        "292", "Thị xã Kinh Môn", None, 30001, EXPORT_DAY, 0.0895,
        datetime(2020, 8, 5, 15, 10), "rejected", REASON,
    ),
    # a provincial agency: no area, so no ministry figure and no coverage
    ConsolidationRow(
        "30-SYT", "Sở Y tế", 1520, None, None, None, datetime(2020, 8, 5, 9, 5), "on_time"
    ),
    ConsolidationRow("293", "Huyện Thanh Hà", None, None, None, None, None, "missing"),
)  # fmt: skip
HEADERS = [
    "STT",
    "Mã đơn vị",
    "Đơn vị",
    "Số lượng cài đặt (báo cáo)",
    "Số liệu của Bộ (theo xuất dữ liệu ngày 04/08/2020)",
    "Ngày số liệu Bộ",
    "Tỷ lệ bao phủ dân số",
    "Thời gian gửi",
    "Tình trạng",
    "Lý do",
]
STATUS_TEXT = {
    "on_time": "đúng hạn",
    "late": "muộn",
    "missing": "chưa báo cáo",
    "rejected": "bị từ chối",
}


def hai_duong(as_of: datetime, rows: tuple[ConsolidationRow, ...] = ROWS) -> Consolidation:
    return Consolidation(
        province_code="30",
        province_name="Hải Dương",
        report_date=DAY,
        as_of_local=as_of,
        deadline_local="16:00",
        rows=rows,
        reporting_rate=4 / 6,
        on_time_rate=2 / 6,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_consolidation(
        hai_duong(datetime(2020, 8, 5, 16, 5)), tmp_path_factory.mktemp("consolidation")
    )


def sheet_rows(xlsx: Path) -> list[list]:
    return [list(row) for row in load_workbook(xlsx).active.iter_rows(values_only=True)]


def dotted(value: int) -> str:
    return f"{value:,}".replace(",", ".")


# --- the workbook --------------------------------------------------------------------------


def test_files_go_under_the_day_named_by_the_province(written: tuple[Path, Path]) -> None:
    xlsx, page = written
    assert xlsx.name == "30.xlsx" and page.name == "30.html"
    assert xlsx.parent.name == page.parent.name == "2020-08-05"
    assert sorted(path.name for path in xlsx.parent.iterdir()) == ["30.html", "30.xlsx"]


def test_the_sheet_has_the_appendix_titles_and_header(written: tuple[Path, Path]) -> None:
    workbook = load_workbook(written[0])
    sheet = workbook.active
    assert workbook.sheetnames == ["05-08-2020"]
    rows = sheet_rows(written[0])
    assert [row[0] for row in rows[:5]] == [
        "PHỤ LỤC",
        "Số lượng cài đặt Bluezone trên địa bàn tỉnh Hải Dương",
        "Ngày báo cáo: 05/08/2020 — hạn gửi báo cáo: 16:00",
        "Số liệu tính đến 16:05 ngày 05/08/2020",
        None,
    ]
    assert rows[5] == HEADERS
    assert {str(merged) for merged in sheet.merged_cells.ranges} >= {
        "A1:J1",
        "A2:J2",
        "A3:J3",
        "A4:J4",
    }


def test_unit_rows_are_typed_cells_with_vietnamese_display_formats(
    written: tuple[Path, Path],
) -> None:
    sheet = load_workbook(written[0]).active
    for number, row in enumerate(ROWS, 1):
        cells = sheet[6 + number]
        assert [cell.value for cell in cells] == [
            number,
            row.unit_code,
            row.unit_name,
            row.installs_reported,
            row.installs_export,
            None
            if row.export_day is None
            else datetime.combine(row.export_day, datetime.min.time()),
            row.coverage_population,
            row.sent_at_local,
            STATUS_TEXT[row.status],
            row.reason,
        ], row.unit_code
    first = sheet[7]
    assert type(first[0].value) is int and type(first[3].value) is int
    assert type(first[4].value) is int and type(first[6].value) is float
    assert isinstance(first[5].value, datetime) and isinstance(first[7].value, datetime)
    assert [cell.number_format for cell in first[3:8]] == [
        "#,##0",
        "#,##0",
        "dd/mm/yyyy",
        "0.00%",
        "dd/mm/yyyy hh:mm",
    ]
    assert first[5].is_date and first[7].is_date
    # units that sent nothing have empty figure cells, never a 0
    nam_sach, thanh_ha = sheet[9], sheet[12]
    assert nam_sach[3].value is None and nam_sach[7].value is None
    assert [cell.value for cell in thanh_ha[3:8]] == [None] * 5
    assert sheet["J10"].value == REASON


def test_totals_and_rates_are_written_as_numbers(written: tuple[Path, Path]) -> None:
    sheet = load_workbook(written[0]).active
    totals = sheet[6 + len(ROWS) + 1]
    assert totals[2].value == "Tổng cộng"
    reported = sum(row.installs_reported for row in ROWS if row.installs_reported is not None)
    export = sum(row.installs_export for row in ROWS if row.installs_export is not None)
    assert (totals[3].value, totals[4].value) == (reported, export) == (113014, 160426)
    assert totals[3].number_format == totals[4].number_format == "#,##0"
    assert [cell.value for cell in totals[5:]] == [None] * 5
    below = sheet_rows(written[0])[6 + len(ROWS) + 1 :]
    assert below == [
        [None] * 10,
        ["Tỷ lệ báo cáo", None, None, 4 / 6, *[None] * 6],
        ["Tỷ lệ báo cáo đúng hạn (hạn gửi 16:00)", None, None, 2 / 6, *[None] * 6],
        ["6 đơn vị: đúng hạn 2, muộn 1, chưa báo cáo 2, bị từ chối 1", *[None] * 9],
    ]
    assert sheet["D15"].number_format == sheet["D16"].number_format == "0.00%"


def test_the_sheet_is_print_ready(written: tuple[Path, Path]) -> None:
    sheet = load_workbook(written[0]).active
    assert sheet.freeze_panes == "A7"  # everything above the first unit stays in view
    assert sheet.print_title_rows == "$6:$6"  # the header row on every printed page
    assert sheet.print_area == "'05-08-2020'!$A$1:$J$17"
    setup = sheet.page_setup
    assert setup.paperSize == 9  # A4 (ECMA-376 paper size code)
    assert setup.orientation == "landscape"
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    margins = sheet.page_margins
    assert (margins.left, margins.right, margins.top, margins.bottom) == (0.5, 0.5, 0.6, 0.6)
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJ"}
    assert widths["C"] >= len("Thành phố Hải Dương")  # the longest unit name fits
    assert widths["H"] >= len("05/08/2020 16:37")
    assert widths["J"] == 45  # the reason column is capped and wraps
    assert sheet["J10"].alignment.wrap_text is True


def test_unit_rows_are_gridded_and_their_status_stands_out(written: tuple[Path, Path]) -> None:
    """Every unit cell has the thin grid; a missing or rejected report's status is bold;
    each status has its own colour."""
    sheet = load_workbook(written[0]).active
    colours = {}
    for number, row in enumerate(ROWS, 1):
        cells = sheet[6 + number]
        for cell in cells:
            sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
            assert all(side.style == "thin" for side in sides), cell.coordinate
            assert cell.alignment.vertical == "center", cell.coordinate
        status = cells[8]
        assert status.font.b is (row.status in ("missing", "rejected")), status.coordinate
        assert status.alignment.horizontal == "center"
        assert cells[2].font.b is False and cells[2].alignment.wrap_text is True
        colours.setdefault(row.status, set()).add(status.font.color.rgb)
    assert {status for status in colours} == {"on_time", "late", "missing", "rejected"}
    assert all(len(found) == 1 for found in colours.values())
    assert len({found.pop() for found in colours.values()}) == 4


# --- versions --------------------------------------------------------------------------------


def test_a_later_run_keeps_the_earlier_version(tmp_path: Path) -> None:
    first = hai_duong(datetime(2020, 8, 5, 16, 5))
    write_consolidation(first, tmp_path)
    nam_sach = replace(
        ROWS[2], installs_reported=19870, sent_at_local=datetime(2020, 8, 5, 16, 48), status="late"
    )
    later = replace(
        hai_duong(datetime(2020, 8, 5, 17, 5), (*ROWS[:2], nam_sach, *ROWS[3:])),
        reporting_rate=5 / 6,
    )
    xlsx, page = write_consolidation(later, tmp_path)

    day = tmp_path / "2020-08-05"
    assert (xlsx, page) == (day / "30.xlsx", day / "30.html")
    assert sorted(path.name for path in (day / "versions").iterdir()) == [
        "30_20200805T1605.html",
        "30_20200805T1605.xlsx",
    ]
    kept = sheet_rows(day / "versions" / "30_20200805T1605.xlsx")
    assert kept[3][0] == "Số liệu tính đến 16:05 ngày 05/08/2020"
    assert kept[8][3] is None and kept[8][8] == "chưa báo cáo"
    assert "Số liệu tính đến 16:05" in (day / "versions" / "30_20200805T1605.html").read_text()
    now = sheet_rows(xlsx)
    assert now[3][0] == "Số liệu tính đến 17:05 ngày 05/08/2020"
    assert now[8][3] == 19870 and now[8][8] == "muộn"
    assert now[6 + len(ROWS)][3] == 113014 + 19870
    assert "Số liệu tính đến 17:05" in page.read_text()

    # a rerun of the same moment replaces in place; a rerun of an earlier run never hides
    # the later figures: it goes beside them
    write_consolidation(later, tmp_path)
    write_consolidation(hai_duong(datetime(2020, 8, 5, 15, 0)), tmp_path)
    assert sorted(path.name for path in (day / "versions").iterdir()) == [
        "30_20200805T1500.html",
        "30_20200805T1500.xlsx",
        "30_20200805T1605.html",
        "30_20200805T1605.xlsx",
    ]
    assert sheet_rows(xlsx)[3][0] == "Số liệu tính đến 17:05 ngày 05/08/2020"
    assert sorted(path.name for path in day.iterdir()) == ["30.html", "30.xlsx", "versions"]


# --- the page in a browser -------------------------------------------------------------------


class _Table(HTMLParser):
    """The text of every cell of every table row, and each row's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str | None], list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append((dict(attrs), []))
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_page_shows_the_rows_in_vietnamese(written: tuple[Path, Path], tmp_path: Path) -> None:
    loaded = open_in_chromium(written[1], tmp_path / "profile", "--dump-dom")
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = loaded.stdout
    table = _Table()
    table.feed(dom)
    header, *units, totals = table.rows
    assert header[1] == HEADERS
    assert [attrs["data-unit"] for attrs, _ in units] == [row.unit_code for row in ROWS]
    assert [attrs["data-status"] for attrs, _ in units] == [row.status for row in ROWS]
    by_code = {attrs["data-unit"]: cells for attrs, cells in units}
    assert by_code["288"] == [
        "1",
        "288",
        "Thành phố Hải Dương",
        "70.264",
        "69.815",
        "04/08/2020",
        "25,63 %",
        "05/08/2020 15:42",
        "đúng hạn",
        "",
    ]
    assert by_code["290"][3] == "41.230" and by_code["290"][8] == "muộn"
    assert by_code["291"][3:9] == ["", "20.500", "04/08/2020", "12,34 %", "", "chưa báo cáo"]
    assert by_code["292"][6:] == ["8,95 %", "05/08/2020 15:10", "bị từ chối", REASON]
    assert by_code["293"][3:9] == ["", "", "", "", "", "chưa báo cáo"]
    reported = sum(row.installs_reported for row in ROWS if row.installs_reported is not None)
    export = sum(row.installs_export for row in ROWS if row.installs_export is not None)
    assert totals[1][2:5] == ["Tổng cộng", dotted(reported), dotted(export)]
    # the status is text first; its colour only repeats it
    assert dom.count('class="status status-missing"') == 2
    assert dom.count('class="status status-rejected"') == 1
    assert "Số liệu tính đến 16:05 ngày 05/08/2020" in dom
    assert "Tỷ lệ báo cáo: <b>66,67 %</b>" in dom
    assert "Tỷ lệ báo cáo đúng hạn (hạn gửi 16:00): <b>33,33 %</b>" in dom
    assert "&lt;không phải số nguyên&gt;" in dom  # escaped, not parsed as a tag
    assert '<html lang="vi">' in dom


def test_a_phone_screenshot_shows_the_page(written: tuple[Path, Path], tmp_path: Path) -> None:
    shot = tmp_path / "phone.png"
    taken = open_in_chromium(
        written[1], tmp_path / "profile", "--window-size=390,844", f"--screenshot={shot}"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (390, 844)
    assert len(png) > 30_000  # a blank page at this size is a few kilobytes
