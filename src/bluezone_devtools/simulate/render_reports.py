"""The campaign simulator: rendering report files."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bluezone_devtools.simulate.report_files import ReportFile, ReportRow
from bluezone_devtools.simulate.templates import COUNT_FIELDS, Template, _columns, _label


def format_count(value: int, style: str) -> str:
    """``70264`` as written by a unit: plain, Vietnamese ``70.264`` or English ``70,264``."""
    text = f"{value:,}"
    if style == "vi":
        return text.replace(",", ".")
    return text if style == "en" else str(value)


def _date_text(day: date, style: str) -> str:
    return day.isoformat() if style == "iso" else f"{day:%d/%m/%Y}"


def _time_text(moment: datetime, style: str) -> str:
    return f"{moment:%d/%m/%Y %H:%M}" if style == "dmy_hm" else f"{moment:%Y-%m-%d %H:%M:%S}"


def _cell(row: ReportRow, name: str, template: Template, target: str, number: int) -> Any:
    """A row's value for one column, typed for ``target`` (csv, xlsx, json)."""
    if name == "stt":
        return number if target != "csv" else str(number)
    if name == "report_date":
        if target == "xlsx" and template.date_cells:
            return row.report_date
        return _date_text(row.report_date, template.date_style)
    if name == "submitted_at":
        if row.bad_time is not None:
            return row.bad_time
        if target == "xlsx" and template.date_cells:
            return row.submitted_at
        return _time_text(row.submitted_at, template.time_style or "iso_hms")
    if name in ("unit_code", "unit_name", "note"):
        return getattr(row, name)
    if name == "rate":
        return "" if row.rate is None else f"{row.rate:.2f}".replace(".", ",") + "%"
    if name == "installs_reported" and row.bad_value is not None:
        return row.bad_value
    value = getattr(
        row, {"installs_reported": "installs", "households_visited": "households"}.get(name, name)
    )
    return _count_cell(value, template, target)


def _count_cell(value: int | None, template: Template, target: str) -> Any:
    if value is None:
        return None if target != "csv" else ""
    if target == "xlsx" and not template.numbers_as_text:
        return value
    if target == "json" and template.number_style == "plain":
        return value
    return format_count(value, template.number_style)


def _render_columns(report: ReportFile) -> list[str]:
    columns = _columns(report.template)
    if report.corruption == "missing_column":
        columns.remove("report_date")
    return columns


def render_csv(report: ReportFile) -> bytes:
    columns = _render_columns(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_label(report.template, c) for c in columns])
    for n, row in enumerate(report.rows, 1):
        writer.writerow([_cell(row, c, report.template, "csv", n) for c in columns])
    text = ("\ufeff" if report.template.bom else "") + buffer.getvalue()
    return text.encode("utf-8")


def render_json(report: ReportFile) -> bytes:
    columns = [c for c in _render_columns(report) if c != "stt"]
    records = [
        {_label(report.template, c): _cell(row, c, report.template, "json", n) for c in columns}
        for n, row in enumerate(report.rows, 1)
    ]
    document: Any = records
    if report.template.json_shape == "wrapped":
        document = {"unit": report.rows[0].unit_name, "rows": records}
    text = json.dumps(document, ensure_ascii=False, indent=report.template.json_indent, default=str)
    return text.encode("utf-8")


class _FixedTimeZip(zipfile.ZipFile):
    """A zip writer that stamps every member with one given time (reproducible xlsx)."""

    def __init__(self, file: io.BytesIO, stamp: datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self._stamp = stamp.timetuple()[:6]

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        self.writestr(arcname or os.path.basename(filename), Path(filename).read_bytes())


def _totals_row(report: ReportFile, columns: list[str]) -> list[Any]:
    values: list[Any] = []
    for name in columns:
        if name == "unit_name":
            values.append("Tổng cộng")
        elif name in COUNT_FIELDS:
            attribute = {"installs_reported": "installs", "households_visited": "households"}.get(
                name, name
            )
            figures = [
                getattr(row, attribute)
                for row in report.rows
                if getattr(row, attribute) is not None
            ]
            values.append(_count_cell(sum(figures), report.template, "xlsx") if figures else None)
        else:
            values.append(None)
    return values


def render_xlsx(report: ReportFile) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    columns = _render_columns(report)
    workbook = Workbook(write_only=True)
    stamp = report.arrival - timedelta(hours=7)
    workbook.properties.created = workbook.properties.modified = stamp
    workbook.properties.creator = "Microsoft Excel"
    sheet = workbook.create_sheet(report.template.sheet_title)
    if report.template.gov:
        sheet.append([report.title])
        sheet.append([report.subtitle])
    sheet.append([_label(report.template, c) for c in columns])
    for n, row in enumerate(report.rows, 1):
        sheet.append([_cell(row, c, report.template, "xlsx", n) for c in columns])
    if report.template.gov:
        sheet.append(_totals_row(report, columns))
    buffer = io.BytesIO()
    ExcelWriter(workbook, _FixedTimeZip(buffer, report.arrival)).save()
    return buffer.getvalue()


RENDERERS = {"csv": render_csv, "json": render_json, "xlsx": render_xlsx}


def render_report(report: ReportFile) -> bytes:
    """The bytes of a report file, broken as its ``corruption`` says."""
    if report.corruption == "empty":
        return b""
    data = RENDERERS[report.fmt](report)
    if report.corruption == "truncated":
        return data[: len(data) * 11 // 20]
    return data
