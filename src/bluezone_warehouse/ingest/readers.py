"""Reading unit-report files (CSV, XLSX, JSON) into rows keyed by canonical column.

A reader finds the header (which may sit below a title and subtitle in a government
template), maps each header to its canonical column (DESIGN §3.3), and yields the data rows
with their row number in the file as a person would count it (1-based, header included), so
that every rejection can name the file, row and column. Cells are returned as read; the
values module decides what they mean. Unreadable files raise :class:`FileRejected`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from bluezone_warehouse.ingest.source import InputRejected
from bluezone_warehouse.ingest.values import (
    IGNORED_HEADERS,
    VIETNAMESE_HEADERS,
    canonical_column,
    normalise_header,
)

_MAX_HEADER_SEARCH = 15
_TOTAL_MARKERS = ("tong cong", "tong so", "cong", "total", "tong")


class FileRejected(InputRejected):
    """A report file that cannot be loaded; the message says why."""


@dataclass
class ParsedFile:
    columns: dict[str, str]  # canonical column -> header as written
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)


def _map_header(cells: Iterable[object]) -> tuple[dict[int, str], list[str]]:
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        if cell is None or str(cell).strip() == "":
            continue
        column = canonical_column(cell)
        if column is not None and column not in mapping.values():
            mapping[index] = column
        elif normalise_header(cell) not in IGNORED_HEADERS:
            unknown.append(str(cell).strip())
    return mapping, unknown


def _is_header(mapping: dict[int, str]) -> bool:
    found = set(mapping.values())
    return len(found) >= 2 and bool(found & {"report_date", "unit_code", "unit_name"})


def _is_total_row(cells: list[object]) -> bool:
    """A totals row: its first text cell, in whatever column, says "Tổng cộng" or "Total"."""
    for cell in cells:
        if cell is None or str(cell).strip() == "":
            continue
        folded = normalise_header(cell)
        if folded.isdigit():
            continue  # an STT number before the label
        return folded in _TOTAL_MARKERS or folded.startswith(("tong cong", "total"))
    return False


_SUBTOTAL_HEADERS = {"tong so", "tong", "total", "so luong", "tong cong"}
_IDENTIFYING = {"report_date", "unit_code", "unit_name"}


def _blank(cell: object) -> bool:
    return cell is None or str(cell).strip() == ""


def _is_sub_header(cells: list[object], mapping: dict[int, str]) -> bool:
    """The second row of a two-row header band: text under a merged group header (e.g.
    "Tổng số | Trong đó có SĐT" under "Số người đã cài đặt"), nothing in the columns that
    identify a report, and no number anywhere."""
    filled = [cell for cell in cells if not _blank(cell)]
    if not filled or any(isinstance(cell, int | float) for cell in filled):
        return False
    if any(
        not _blank(cells[i]) for i, col in mapping.items() if col in _IDENTIFYING and i < len(cells)
    ):
        return False
    return all(not normalise_header(cell).replace(" ", "").isdigit() for cell in filled)


def _two_row_header(
    top: list[object], sub: list[object]
) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Column mapping, headers as written ("group / sub") and unknown headers of a header
    band of two rows, the group header spanning the sub-headers to its right."""
    width = max(len(top), len(sub))
    mapping: dict[int, str] = {}
    written: dict[str, str] = {}
    unknown: list[str] = []
    group: object = None
    for index in range(width):
        upper = top[index] if index < len(top) else None
        lower = sub[index] if index < len(sub) else None
        if not _blank(upper):
            group = upper
        elif _blank(lower):
            group = None  # a gap ends the group
        if _blank(lower):
            label, column = upper, canonical_column(upper) if not _blank(upper) else None
        else:
            label = f"{str(group).strip()} / {str(lower).strip()}" if group is not None else lower
            column = (
                canonical_column(group)
                if group is not None and normalise_header(lower) in _SUBTOTAL_HEADERS
                else canonical_column(lower)
                or (canonical_column(f"{group} {lower}") if group is not None else None)
            )
        if _blank(label):
            continue
        if column is not None and column not in mapping.values():
            mapping[index] = column
            written[column] = str(label).strip()
        elif normalise_header(label) not in IGNORED_HEADERS and column is None:
            unknown.append(str(label).strip())
    return mapping, written, unknown


def _rows_from_grid(grid: list[list[object]], kind: str) -> ParsedFile:
    for index, cells in enumerate(grid[:_MAX_HEADER_SEARCH]):
        mapping, unknown = _map_header(cells)
        if _is_header(mapping):
            header_index = index
            break
    else:
        raise FileRejected(
            f"no header row found in the first {_MAX_HEADER_SEARCH} rows of this {kind} file "
            "(expected report_date/Ngày báo cáo and unit_code/Mã đơn vị or unit_name/Tên đơn vị)"
        )
    columns = {column: str(grid[header_index][i]).strip() for i, column in mapping.items()}
    first_data = header_index + 1
    if first_data < len(grid) and _is_sub_header(grid[first_data], mapping):
        mapping, columns, unknown = _two_row_header(grid[header_index], grid[first_data])
        first_data += 1
    parsed = ParsedFile(columns=columns, unknown_headers=unknown)
    for offset, cells in enumerate(grid[first_data:], start=first_data + 1):
        if _is_total_row(cells):
            break  # the table ends with its totals; below come signatures and notes
        values = {column: cells[i] if i < len(cells) else None for i, column in mapping.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        parsed.rows.append((offset, values))
    return parsed


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FileRejected(
            f"not UTF-8 text (byte {err.start}): save the file as CSV UTF-8 or XLSX"
        ) from None


def read_csv(data: bytes) -> ParsedFile:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # A cell may be as long as the file (a pasted note): no field-size limit below that.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    grid = [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return _rows_from_grid(grid, "CSV")


def read_xlsx(data: bytes, max_uncompressed_bytes: int) -> ParsedFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FileRejected("not a valid XLSX file (the zip container cannot be opened)") from None
    total = sum(info.file_size for info in archive.infolist())
    if total > max_uncompressed_bytes:
        raise FileRejected(
            f"XLSX expands to {total} bytes, over the limit of {max_uncompressed_bytes}"
        )
    import openpyxl  # imported here: only XLSX files need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for broken files
        raise FileRejected(f"XLSX file cannot be read: {type(err).__name__}: {err}") from None
    try:
        sheet = workbook.worksheets[0]
        grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    return _rows_from_grid(grid, "XLSX")


def read_json(data: bytes) -> ParsedFile:
    try:
        document = json.loads(_decode(data))
    except RecursionError:
        raise FileRejected("JSON nested too deeply to be a report") from None
    except json.JSONDecodeError as err:
        raise FileRejected(
            f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    defaults: dict[str, object] = {}
    if isinstance(document, dict):
        records = next(
            (document[key] for key in ("rows", "data", "reports", "records") if key in document),
            None,
        )
        if records is None:
            records = [document]
        for key, value in document.items():
            if isinstance(value, dict):
                for inner_key, inner in value.items():
                    column = canonical_column(f"{key} {inner_key}") or canonical_column(inner_key)
                    if column and not isinstance(inner, (dict, list)):
                        defaults.setdefault(column, inner)
            column = canonical_column(key)
            if column and not isinstance(value, (dict, list)):
                defaults[column] = value
    else:
        records = document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileRejected("JSON must be a list of report objects or an object with a 'rows' list")
    headers = list(dict.fromkeys(key for record in records for key in record))
    mapping, unknown = _map_header(headers)
    columns = {column: headers[i] for i, column in mapping.items()}
    for column in defaults:
        columns.setdefault(column, column)
    if not _is_header({i: c for i, c in enumerate(columns)}):
        raise FileRejected(
            "JSON records lack report_date and unit_code/unit_name keys "
            f"(found: {', '.join(headers[:10]) or 'none'})"
        )
    parsed = ParsedFile(columns=columns, unknown_headers=unknown)
    for number, record in enumerate(records, start=1):
        values = dict(defaults)
        values.update({mapping[i]: record[headers[i]] for i in mapping if headers[i] in record})
        parsed.rows.append((number, values))
    return parsed


REQUIRED_ANY_OF = (
    ("report_date",),
    ("unit_code", "unit_name"),
    ("installs_reported", "staff_installed"),
)


def _check_required_columns(parsed: ParsedFile) -> None:
    for alternatives in REQUIRED_ANY_OF:
        if not any(column in parsed.columns for column in alternatives):
            names = " or ".join(
                f"{column} ({VIETNAMESE_HEADERS[column]})" for column in alternatives
            )
            found = ", ".join(parsed.columns.values()) or "none"
            raise FileRejected(f"missing required column {names}; recognised columns: {found}")


def read_report(file_name: str, data: bytes, max_xlsx_uncompressed_bytes: int) -> ParsedFile:
    """Parse a report file and check it has the required columns; raises FileRejected."""
    lower = file_name.lower()
    if lower.endswith(".csv"):
        parsed = read_csv(data)
    elif lower.endswith(".xlsx"):
        parsed = read_xlsx(data, max_xlsx_uncompressed_bytes)
    elif lower.endswith(".json"):
        parsed = read_json(data)
    else:
        raise FileRejected("unsupported file type: reports are .csv, .xlsx or .json")
    _check_required_columns(parsed)
    return parsed
