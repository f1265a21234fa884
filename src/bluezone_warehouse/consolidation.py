"""The provincial consolidation (DESIGN §3.5): the table a provincial Department of
Information and Communications sends up every day, rendered from the rows of the mart
``marts.fct_province_consolidation`` for one province and report day.

It follows the appendix the Departments assemble by hand ("PHỤ LỤC — Số lượng cài đặt
Bluezone trên địa bàn tỉnh …"): title rows, one row per reporting unit, a totals row
(``Tổng cộng``), the as-of time and the province's reporting and on-time rates. Two files
carry it: a print-ready XLSX with real numeric and date cells (Excel shows them with the
reader's locale: ``70.264``, ``8,95%``, ``05/08/2020 15:42`` on a Vietnamese system) and a
self-contained HTML page that reads on a phone and prints on A4.

``write_consolidation`` puts them at ``<out_dir>/<YYYY-MM-DD>/<province_code>.xlsx`` and
``.html``. A later run for the same day and province replaces them; the version it
replaces is kept first under ``<out_dir>/<YYYY-MM-DD>/versions/`` with its as-of time in
its name. Every file is written to a temporary name and moved into place, so a reader
sees a whole file, old or new, never half of one.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import ascii_fold, safe_file_name
from bluezone_warehouse.names import number as format_number
from bluezone_warehouse.names import percent as format_percent

STATUS_LABELS: dict[str, str] = {
    "on_time": "đúng hạn",
    "late": "muộn",
    "missing": "chưa báo cáo",
    "rejected": "bị từ chối",
}
"""The Vietnamese label of each final status of a unit-day (DESIGN §4): the one mapping."""

# Province names (without "Tỉnh"/"Thành phố") of the centrally-run cities, folded to
# ASCII lowercase: 2020's five, and Huế, a centrally-run city since 2025 (DESIGN §9).
CENTRALLY_RUN_CITIES = frozenset(
    {"ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue"}
)

_PROVINCE_PREFIXES = re.compile(r"^\s*(tinh|thanh pho|tp\.?)\s*", re.IGNORECASE)

XLSX_INT_FORMAT = "#,##0"
XLSX_PERCENT_FORMAT = "0.00%"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_FONT = "Times New Roman"

HEADER_ROW = 6
"""The sheet's header row: four title rows and a blank one above it."""

_AS_OF_META = "as-of-local"


@dataclass(frozen=True)
class ConsolidationRow:
    """One reporting unit: the columns of ``marts.fct_province_consolidation``."""

    unit_code: str
    unit_name: str
    installs_reported: int | None
    """The unit's latest accepted figure; None when it has none."""
    installs_export: int | None
    """The ministry's figure for the unit from the latest export."""
    export_day: date | None
    """The day of that export."""
    coverage_population: float | None
    """A fraction: 0.0895 means 8,95 %."""
    sent_at_local: datetime | None
    """Naive local time (Asia/Ho_Chi_Minh) the report was sent."""
    status: str
    """on_time | late | missing | rejected."""
    reason: str | None = None
    """For a rejected report: why, as a clerk can read it."""

    def __post_init__(self) -> None:
        if self.status not in STATUS_LABELS:
            raise ValueError(
                f"unit {self.unit_code}: status {self.status!r} is not one of "
                f"{', '.join(STATUS_LABELS)}"
            )


@dataclass(frozen=True)
class Consolidation:
    """One province's consolidation for one report day, as of one moment."""

    province_code: str
    province_name: str
    """As in the seeds ("Hải Dương", "Hà Nội"); a "Tỉnh"/"Thành phố" prefix is allowed."""
    report_date: date
    as_of_local: datetime
    """Naive local time the figures are as of."""
    deadline_local: str
    """The province's deadline, "HH:MM"."""
    rows: tuple[ConsolidationRow, ...]
    reporting_rate: float | None
    """A fraction, as ``marts.agg_reporting_rates``."""
    on_time_rate: float | None
    """A fraction, as ``marts.agg_reporting_rates``."""
    app_name: str = "Bluezone"
    """The campaign's app, named in the title."""


# --- Vietnamese display -------------------------------------------------------------------


def vi_int(value: int | None) -> str:
    """``70264`` → ``"70.264"`` (``names.number``); ``""`` for None."""
    return format_number(value, "vi")


def vi_percent(value: float | None, digits: int = 2) -> str:
    """``0.0895`` → ``"8,95 %"`` (``names.percent``); ``""`` for None."""
    return format_percent(value, "vi", digits=digits, missing="")


def vi_date(value: date | None) -> str:
    """``05/08/2020``; ``""`` for None."""
    return "" if value is None else f"{value:%d/%m/%Y}"


def vi_datetime(value: datetime | None) -> str:
    """``05/08/2020 15:42``, as the sheet's ``dd/mm/yyyy hh:mm`` shows it; ``""`` for None."""
    return "" if value is None else f"{value:%d/%m/%Y %H:%M}"


def province_display(name: str) -> str:
    """The province as a sentence names it: ``"tỉnh Hải Dương"``, ``"thành phố Hà Nội"``.

    Accepts the bare name or one already prefixed ("Tỉnh Hải Dương", "TP. Hồ Chí Minh");
    centrally-run cities are "thành phố", every other province "tỉnh".
    """
    bare = name.strip()
    match = _PROVINCE_PREFIXES.match(ascii_fold(bare))
    if match:
        bare = bare[match.end() :].strip()
    kind = "thành phố" if ascii_fold(bare).lower() in CENTRALLY_RUN_CITIES else "tỉnh"
    return f"{kind} {bare}"


# --- the content both files share ---------------------------------------------------------


def title(consolidation: Consolidation) -> str:
    """``Số lượng cài đặt Bluezone trên địa bàn tỉnh Hải Dương``."""
    where = province_display(consolidation.province_name)
    return f"Số lượng cài đặt {consolidation.app_name} trên địa bàn {where}"


def day_line(consolidation: Consolidation) -> str:
    """``Ngày báo cáo: 05/08/2020 — hạn gửi báo cáo: 16:00``."""
    day = vi_date(consolidation.report_date)
    return f"Ngày báo cáo: {day} — hạn gửi báo cáo: {consolidation.deadline_local}"


def as_of_line(consolidation: Consolidation) -> str:
    """``Số liệu tính đến 16:05 ngày 05/08/2020``."""
    moment = consolidation.as_of_local
    return f"Số liệu tính đến {moment:%H:%M} ngày {moment:%d/%m/%Y}"


def export_header(rows: tuple[ConsolidationRow, ...]) -> str:
    """The ministry column's header names the export's day when all rows share one."""
    days = {row.export_day for row in rows if row.export_day is not None}
    if len(days) == 1:
        return f"Số liệu của Bộ (theo xuất dữ liệu ngày {vi_date(days.pop())})"
    return "Số liệu của Bộ (theo xuất dữ liệu mới nhất)"


def headers(consolidation: Consolidation) -> list[str]:
    return [
        "STT",
        "Mã đơn vị",
        "Đơn vị",
        "Số lượng cài đặt (báo cáo)",
        export_header(consolidation.rows),
        "Ngày số liệu Bộ",
        "Tỷ lệ bao phủ dân số",
        "Thời gian gửi",
        "Tình trạng",
        "Lý do",
    ]


def _total(values: list[int | None]) -> int | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def totals(consolidation: Consolidation) -> tuple[int | None, int | None]:
    """Σ reported installs and Σ the ministry's figures over the units that have one
    (None when no unit has one: an empty cell, never a 0 nobody reported)."""
    rows = consolidation.rows
    return (
        _total([row.installs_reported for row in rows]),
        _total([row.installs_export for row in rows]),
    )


def status_counts_line(consolidation: Consolidation) -> str:
    """``15 đơn vị: đúng hạn 8, muộn 2, chưa báo cáo 3, bị từ chối 1``."""
    counts = Counter(row.status for row in consolidation.rows)
    parts = ", ".join(f"{label} {counts[status]}" for status, label in STATUS_LABELS.items())
    return f"{len(consolidation.rows)} đơn vị: {parts}"


def rate_lines(consolidation: Consolidation) -> list[tuple[str, float | None]]:
    return [
        ("Tỷ lệ báo cáo", consolidation.reporting_rate),
        (
            f"Tỷ lệ báo cáo đúng hạn (hạn gửi {consolidation.deadline_local})",
            consolidation.on_time_rate,
        ),
    ]


# --- XLSX ------------------------------------------------------------------------------------

_COLUMN_FORMATS: dict[int, str] = {
    1: "0",
    4: XLSX_INT_FORMAT,
    5: XLSX_INT_FORMAT,
    6: XLSX_DATE_FORMAT,
    7: XLSX_PERCENT_FORMAT,
    8: XLSX_DATETIME_FORMAT,
}
_MIN_WIDTH = {1: 5, 2: 10, 3: 16, 4: 14, 5: 18, 6: 12, 7: 12, 8: 17, 9: 13, 10: 12}
_MAX_WIDTH = 45
_STATUS_FONT_COLOURS = {
    "on_time": "1E7E34",
    "late": "8A5300",
    "missing": "B3261E",
    "rejected": "6A1B9A",
}


def _row_cells(number: int, row: ConsolidationRow) -> list[Any]:
    return [
        number,
        row.unit_code,
        row.unit_name,
        row.installs_reported,
        row.installs_export,
        row.export_day,
        row.coverage_population,
        row.sent_at_local,
        STATUS_LABELS[row.status],
        row.reason,
    ]


def _row_texts(number: int, row: ConsolidationRow) -> list[str]:
    """What each cell shows, for sizing the columns."""
    return [
        str(number),
        row.unit_code,
        row.unit_name,
        vi_int(row.installs_reported),
        vi_int(row.installs_export),
        vi_date(row.export_day),
        vi_percent(row.coverage_population),
        vi_datetime(row.sent_at_local),
        STATUS_LABELS[row.status],
        row.reason or "",
    ]


def _column_widths(consolidation: Consolidation) -> list[float]:
    texts = [_row_texts(n, row) for n, row in enumerate(consolidation.rows, 1)]
    totals_texts = ["", "", "Tổng cộng", *(vi_int(total) for total in totals(consolidation))]
    widths = []
    for index, header in enumerate(headers(consolidation), 1):
        longest_word = max(len(word) for word in header.split())
        cells = [len(row[index - 1]) for row in texts]
        if index <= len(totals_texts):
            cells.append(len(totals_texts[index - 1]))
        widest = max([longest_word, *cells])
        widths.append(float(min(max(widest + 2, _MIN_WIDTH[index]), _MAX_WIDTH)))
    return widths


def render_xlsx(consolidation: Consolidation, path: Path) -> Path:
    """Write the consolidation as one print-ready sheet at ``path``; returns ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    column_headers = headers(consolidation)
    last_column = len(column_headers)
    last_letter = get_column_letter(last_column)
    thin = Side(style="thin", color="000000")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    plain = Font(name=XLSX_FONT, size=11)
    bold = Font(name=XLSX_FONT, size=11, bold=True)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{consolidation.report_date:%d-%m-%Y}"
    properties = workbook.properties
    properties.title = f"PHỤ LỤC — {title(consolidation)} — {vi_date(consolidation.report_date)}"
    properties.creator = "bluezone_warehouse"
    properties.language = "vi-VN"
    properties.identifier = f"{_AS_OF_META}={consolidation.as_of_local.isoformat()}"
    as_of_utc = consolidation.as_of_local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
    properties.created = as_of_utc.replace(tzinfo=None)  # openpyxl stamps "modified" itself

    title_rows = [
        ("PHỤ LỤC", Font(name=XLSX_FONT, size=13, bold=True)),
        (title(consolidation), Font(name=XLSX_FONT, size=13, bold=True)),
        (day_line(consolidation), Font(name=XLSX_FONT, size=11, italic=True)),
        (as_of_line(consolidation), Font(name=XLSX_FONT, size=11, italic=True)),
    ]
    for number, (text, font) in enumerate(title_rows, 1):
        cell = sheet.cell(row=number, column=1, value=text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=last_column)

    header_fill = PatternFill("solid", fgColor="D9E2F3")
    for column, text in enumerate(column_headers, 1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=text)
        cell.font = bold
        cell.fill = header_fill
        cell.border = grid
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[HEADER_ROW].height = 48

    # One named style per column (and per status in the status column), made once per
    # workbook: setting font, border and alignment cell by cell costs openpyxl a lookup of
    # each in the workbook's style tables, most of a province's consolidation time.
    body_styles: dict[tuple[int, str | None], str] = {}

    def body_style(column: int, status: str) -> str:
        key = (column, status if column == 9 else None)
        if key not in body_styles:
            font = plain
            if column == 9:
                font = Font(
                    name=XLSX_FONT,
                    size=11,
                    bold=status in ("missing", "rejected"),
                    color=_STATUS_FONT_COLOURS[status],
                )
            style = NamedStyle(
                name=f"Bluezone {column}" + (f" {status}" if column == 9 else ""),
                font=font,
                border=grid,
                number_format=_COLUMN_FORMATS.get(column, "General"),
                alignment=Alignment(
                    vertical="center",
                    wrap_text=column in (3, 10),
                    horizontal="center" if column in (1, 2, 6, 8, 9) else None,
                ),
            )
            workbook.add_named_style(style)
            body_styles[key] = style.name
        return body_styles[key]

    row_number = HEADER_ROW
    for number, row in enumerate(consolidation.rows, 1):
        row_number = HEADER_ROW + number
        for column, value in enumerate(_row_cells(number, row), 1):
            cell = sheet.cell(row=row_number, column=column, value=value)
            cell.style = body_style(column, row.status)

    totals_row = row_number + 1
    reported_total, export_total = totals(consolidation)
    totals_values: list[Any] = [None, None, "Tổng cộng", reported_total, export_total]
    totals_values += [None] * (last_column - len(totals_values))
    for column, value in enumerate(totals_values, 1):
        cell = sheet.cell(row=totals_row, column=column, value=value)
        cell.font = bold
        cell.border = grid
        if column in (4, 5):
            cell.number_format = XLSX_INT_FORMAT
    sheet.cell(row=totals_row, column=3).alignment = Alignment(horizontal="center")

    summary_row = totals_row + 2
    for offset, (label, rate) in enumerate(rate_lines(consolidation)):
        label_cell = sheet.cell(row=summary_row + offset, column=1, value=label)
        label_cell.font = bold
        sheet.merge_cells(
            start_row=summary_row + offset,
            start_column=1,
            end_row=summary_row + offset,
            end_column=3,
        )
        rate_cell = sheet.cell(row=summary_row + offset, column=4, value=rate)
        rate_cell.font = bold
        rate_cell.number_format = XLSX_PERCENT_FORMAT
    counts_row = summary_row + len(rate_lines(consolidation))
    sheet.cell(row=counts_row, column=1, value=status_counts_line(consolidation)).font = plain
    sheet.merge_cells(
        start_row=counts_row, start_column=1, end_row=counts_row, end_column=last_column
    )

    widths = _column_widths(consolidation)
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width

    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A1:{last_letter}{counts_row}"
    setup = sheet.page_setup
    setup.paperSize = sheet.PAPERSIZE_A4
    # about 95 character widths fit across portrait A4 at a readable scale
    setup.orientation = (
        sheet.ORIENTATION_LANDSCAPE if sum(widths) > 95 else sheet.ORIENTATION_PORTRAIT
    )
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(
        left=0.5, right=0.5, top=0.6, bottom=0.6, header=0.3, footer=0.3
    )
    sheet.oddFooter.center.text = "Trang &P/&N"
    sheet.oddFooter.center.font = XLSX_FONT

    workbook.save(path)
    return path


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{margin:0;padding:16px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,
sans-serif;color:#1b1b1b;background:#fff}
header{text-align:center;margin-bottom:12px}
.kicker{margin:0;font-weight:700;letter-spacing:.05em}
h1{font-size:1.2rem;margin:.2rem 0 .4rem}
header p{margin:.1rem 0}
.as-of{font-style:italic}
.summary{display:flex;flex-wrap:wrap;gap:8px 24px;justify-content:center;margin:12px 0;
padding:10px 12px;border:1px solid #c9d3e6;border-radius:6px;background:#f3f6fb}
.summary b{font-size:1.1rem}
.counts{width:100%;text-align:center;color:#444}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #999;padding:4px 6px;vertical-align:middle}
th{background:#d9e2f3;font-weight:700;text-align:center}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.center{text-align:center;white-space:nowrap}
tfoot td{font-weight:700;white-space:nowrap}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;
white-space:nowrap;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.status-on_time{color:#1e7e34;background:#e6f4ea}
.status-late{color:#8a5300;background:#fff4e5}
.status-missing{color:#b3261e;background:#fdecea}
.status-rejected{color:#6a1b9a;background:#f3e8fd}
@media screen and (max-width:640px){
body{padding:10px;font-size:15px}
table,thead,tbody,tfoot,tr,td{display:block;width:100%}
thead{display:none}
tr{border:1px solid #bbb;border-radius:6px;margin:0 0 10px;padding:6px 10px}
td{border:0;padding:2px 0;display:grid;grid-template-columns:minmax(0,10.5em) minmax(0,1fr);
gap:10px;text-align:right;white-space:normal;overflow-wrap:anywhere}
td.num,td.center{text-align:right;white-space:normal}
td:empty{display:none}
td::before{content:attr(data-label);font-weight:600;color:#555;text-align:left}
td.unit{font-weight:700}
td>.status{justify-self:end}
tfoot tr{background:#f3f6fb}
}
@media print{
@page{size:A4 landscape;margin:12mm}
body{padding:0;font-size:10pt}
thead{display:table-header-group}
tr{break-inside:avoid}
.summary{border-color:#999;background:none}
}
"""


def _td(value: str, label: str, css_class: str = "") -> str:
    attributes = f' class="{css_class}"' if css_class else ""
    return f'<td{attributes} data-label="{html.escape(label)}">{html.escape(value)}</td>'


def _status_html(status: str) -> str:
    return f'<span class="status status-{status}">{html.escape(STATUS_LABELS[status])}</span>'


def _row_html(number: int, row: ConsolidationRow, labels: list[str]) -> str:
    cells = [
        _td(str(number), labels[0], "center"),
        _td(row.unit_code, labels[1], "center"),
        _td(row.unit_name, labels[2], "unit"),
        _td(vi_int(row.installs_reported), labels[3], "num"),
        _td(vi_int(row.installs_export), labels[4], "num"),
        _td(vi_date(row.export_day), labels[5], "center"),
        _td(vi_percent(row.coverage_population), labels[6], "num"),
        _td(vi_datetime(row.sent_at_local), labels[7], "center"),
        f'<td data-label="{html.escape(labels[8])}">{_status_html(row.status)}</td>',
        _td(row.reason or "", labels[9], "reason"),
    ]
    return (
        f'<tr data-unit="{html.escape(row.unit_code)}" data-status="{html.escape(row.status)}">'
        + "".join(cells)
        + "</tr>"
    )


def render_html(consolidation: Consolidation) -> str:
    """The consolidation as one self-contained page (no external resources): readable on
    a phone, printable on A4; every value escaped."""
    labels = headers(consolidation)
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    body = "\n".join(
        _row_html(number, row, labels) for number, row in enumerate(consolidation.rows, 1)
    )
    reported_total, export_total = totals(consolidation)
    foot = (
        '<tr class="totals"><td></td><td></td>'
        + _td("Tổng cộng", labels[2], "unit")
        + _td(vi_int(reported_total), labels[3], "num")
        + _td(vi_int(export_total), labels[4], "num")
        + "<td></td>" * (len(labels) - 5)
        + "</tr>"
    )
    rates = "".join(
        f"<div>{html.escape(label)}: <b>{html.escape(vi_percent(rate) or '–')}</b></div>"
        for label, rate in rate_lines(consolidation)
    )
    counts = html.escape(status_counts_line(consolidation))
    page_title = f"Phụ lục — {title(consolidation)} — {vi_date(consolidation.report_date)}"
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="{_AS_OF_META}" content="{html.escape(consolidation.as_of_local.isoformat())}">
<title>{html.escape(page_title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<p class="kicker">PHỤ LỤC</p>
<h1>{html.escape(title(consolidation))}</h1>
<p class="day">{html.escape(day_line(consolidation))}</p>
<p class="as-of">{html.escape(as_of_line(consolidation))}</p>
</header>
<section class="summary">{rates}<div class="counts">{counts}</div></section>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
<tfoot>{foot}</tfoot>
</table>
</body>
</html>
"""


# --- writing ---------------------------------------------------------------------------------


@contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """A temporary path in ``target``'s folder (so ``os.replace`` is atomic), removed if
    it is still there when the block ends."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        with suppress(FileNotFoundError):
            temporary.unlink()


def _write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    with _temporary_beside(target) as temporary:
        write(temporary)
        os.replace(temporary, target)


def _copy_atomically(source: Path, target: Path) -> None:
    _write_atomically(target, lambda temporary: shutil.copyfile(source, temporary))


def _recorded_as_of(xlsx: Path, page: Path) -> datetime | None:
    """The as-of time a written consolidation carries (the page's meta, else the
    workbook's identifier property); None when neither can be read."""
    if page.exists():
        found = re.search(
            rf'<meta name="{_AS_OF_META}" content="([^"]+)">', page.read_text("utf-8")
        )
        if found:
            with suppress(ValueError):
                return datetime.fromisoformat(html.unescape(found.group(1)))
    if xlsx.exists():
        with suppress(OSError, KeyError, zipfile.BadZipFile):
            with zipfile.ZipFile(xlsx) as archive:
                core = archive.read("docProps/core.xml").decode("utf-8")
            found = re.search(rf"{_AS_OF_META}=([0-9T:.\-]+)", core)
            if found:
                with suppress(ValueError):
                    return datetime.fromisoformat(found.group(1))
    return None


def _version_name(province: str, as_of: datetime, suffix: str) -> str:
    return f"{province}_{as_of:%Y%m%dT%H%M}{suffix}"


def current_files(out_dir: Path, day: date, province_code: str) -> tuple[Path, Path]:
    """Where the day's latest consolidation of a province is: (xlsx, html)."""
    day_dir = Path(out_dir) / day.isoformat()
    province = safe_file_name(province_code)
    return day_dir / f"{province}.xlsx", day_dir / f"{province}.html"


def write_consolidation(consolidation: Consolidation, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<out_dir>/<YYYY-MM-DD>/<province_code>.xlsx`` and ``.html``; returns (xlsx,
    html), the paths this consolidation was written to.

    The version these replace, when it has another as-of time, is kept first as
    ``<out_dir>/<YYYY-MM-DD>/versions/<province_code>_<YYYYMMDDTHHMM>.xlsx`` (and
    ``.html``), named by its own as-of time. A rerun with the same as-of time replaces the
    files in place. A consolidation older than the one in place (a rerun of an earlier
    deadline run) does not replace it: it goes under ``versions/`` only, so the files in
    place are always the latest figures of the day. Every file is written under a
    temporary name and moved into place with ``os.replace``.
    """
    current = current_files(out_dir, consolidation.report_date, consolidation.province_code)
    day_dir = current[0].parent
    versions = day_dir / "versions"
    province = safe_file_name(consolidation.province_code)
    day_dir.mkdir(parents=True, exist_ok=True)
    as_of = consolidation.as_of_local

    in_place = _recorded_as_of(*current)
    if in_place is not None and in_place > as_of:
        versions.mkdir(exist_ok=True)
        targets = (
            versions / _version_name(province, as_of, ".xlsx"),
            versions / _version_name(province, as_of, ".html"),
        )
    else:
        targets = current

    page = render_html(consolidation)
    with (
        _temporary_beside(targets[0]) as xlsx_temporary,
        _temporary_beside(targets[1]) as html_temporary,
    ):
        render_xlsx(consolidation, xlsx_temporary)
        html_temporary.write_text(page, encoding="utf-8")
        if targets == current:
            _keep_version(current, versions, province, in_place, as_of)
        os.replace(xlsx_temporary, targets[0])
        os.replace(html_temporary, targets[1])
    return targets


def _keep_version(
    current: tuple[Path, Path],
    versions: Path,
    province: str,
    in_place: datetime | None,
    as_of: datetime,
) -> None:
    """Copy the files in place into ``versions/`` under their as-of time before they are
    replaced (copied, not moved: a reader never finds the current file missing)."""
    existing = [path for path in current if path.exists()]
    if not existing or in_place == as_of:
        return
    if in_place is None:  # unreadable: fall back on when the file was written
        in_place = datetime.fromtimestamp(existing[0].stat().st_mtime, tz=LOCAL_TZ).replace(
            tzinfo=None
        )
    versions.mkdir(exist_ok=True)
    for path in existing:
        _copy_atomically(path, versions / _version_name(province, in_place, path.suffix))


# --- From the mart ------------------------------------------------------------------------


def consolidations_for(con: Any, day: date, units: str | None = None) -> list[Consolidation]:
    """Every province's consolidation for ``day`` from ``marts.fct_province_consolidation``
    and the day's rates in ``marts.agg_reporting_rates``; the committees (of districts in
    2020, of communes in 2025) first, then provincial agencies, each by code. Province
    names and deadlines come from the registry of the unit set ``units``."""
    from bluezone_warehouse.registry import load_registry

    rows = con.execute(
        """
        select province_code, unit_code, unit_name, installs_reported, installs_export,
            export_day, coverage_population, sent_at_local, status, rejection_reason,
            as_of_local
        from marts.fct_province_consolidation
        where report_date = ?
        order by province_code, unit_kind, unit_code
        """,
        [day],
    ).fetchall()
    rates = {
        scope: (reporting, on_time)
        for scope, reporting, on_time in con.execute(
            "select scope_code, reporting_rate, on_time_rate from marts.agg_reporting_rates "
            "where report_date = ? and scope_level = 'province'",
            [day],
        ).fetchall()
    }
    by_province: dict[str, list[tuple]] = {}
    for row in rows:
        by_province.setdefault(row[0], []).append(row)
    provinces = load_registry(units=units).provinces
    consolidations = []
    for code, members in sorted(by_province.items()):
        province = provinces[code]
        reporting, on_time = rates.get(code, (None, None))
        consolidations.append(
            Consolidation(
                province_code=code,
                province_name=province.name,
                report_date=day,
                as_of_local=members[0][10],
                deadline_local=province.deadline_local,
                rows=tuple(ConsolidationRow(*member[1:10]) for member in members),
                reporting_rate=reporting,
                on_time_rate=on_time,
            )
        )
    return consolidations


def write_day(
    warehouse_path: Path, day: date, out_dir: Path, units: str | None = None
) -> dict[str, tuple[Path, Path]]:
    """Write every province's consolidation for ``day`` from the warehouse (read-only), on
    the unit set ``units``; returns {province_code: (xlsx, html)}."""
    from bluezone_warehouse.warehouse import connect_reader

    con = connect_reader(warehouse_path)
    try:
        consolidations = consolidations_for(con, day, units)
    finally:
        con.close()
    return {c.province_code: write_consolidation(c, out_dir) for c in consolidations}
