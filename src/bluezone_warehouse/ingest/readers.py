"""Reading unit-report files (CSV, XLSX, JSON) into rows keyed by canonical column.

A reader finds the header (which may sit below a title and subtitle in a government
template), maps each header to its canonical column (DESIGN §3.3), and yields the data rows
with their row number as a spreadsheet program shows it (1-based, title and header rows
included; in a CSV one record is one row, even when a quoted cell holds a line break; in
JSON the record's position), so that every rejection can name the file, sheet, row, column
letter and header as written. Cells are returned as read; the values module decides what
they mean. Unreadable files raise :class:`FileRejected`, with the problem the sender's
message is made of (``ingest.messages``).
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from bluezone_warehouse.ingest.messages import Words, quoted
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


class Rows:
    """A file's data rows, read lazily: ``(row number, values by canonical column)``.

    The first rows are kept (``head``) so that a reader can look at them (the file's
    province context, whether there is any row at all) without holding the whole file."""

    def __init__(self, rows: Iterable[tuple[int, dict[str, object]]], keep: int = 1000) -> None:
        self._rest = iter(rows)
        self.head: list[tuple[int, dict[str, object]]] = []
        for row in self._rest:
            self.head.append(row)
            if len(self.head) >= keep:
                break
        self._consumed = False

    def __bool__(self) -> bool:
        return bool(self.head)

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        if self._consumed:
            raise RuntimeError("a file's rows are read once")
        self._consumed = True
        yield from self.head
        yield from self._rest


@dataclass
class ParsedFile:
    columns: dict[str, str]  # canonical column -> header as written
    rows: Rows = field(default_factory=lambda: Rows(()))
    unknown_headers: list[str] = field(default_factory=list)
    letters: dict[str, str] = field(default_factory=dict)  # canonical column -> "A", "B"...
    sheet: str | None = None  # the workbook sheet read; None for CSV and JSON
    row_kind: str = "row"  # what a row number counts: a spreadsheet "row", a JSON "record"


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


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


def _no_header_reason(kind: str) -> str:
    return (
        f"no header row found in the first {_MAX_HEADER_SEARCH} rows of this {kind} file "
        "(expected report_date/Ngày báo cáo and unit_code/Mã đơn vị or unit_name/Tên đơn vị)"
    )


def _rows_from_grid(grid: Iterable[list[object]], kind: str) -> ParsedFile:
    """Find the header among the first rows of ``grid`` (any iterable of rows, read once)
    and read the data rows below it lazily, up to the totals row."""
    rows = iter(grid)
    top = list(islice(rows, _MAX_HEADER_SEARCH + 1))
    for index, cells in enumerate(top[:_MAX_HEADER_SEARCH]):
        mapping, unknown = _map_header(cells)
        if _is_header(mapping):
            header_index = index
            break
    else:
        raise FileRejected(
            _no_header_reason(kind),
            problem="no_header",
            details={"rows": _MAX_HEADER_SEARCH},
        )
    columns = {column: str(top[header_index][i]).strip() for i, column in mapping.items()}
    first_data = header_index + 1
    if first_data < len(top) and _is_sub_header(top[first_data], mapping):
        mapping, columns, unknown = _two_row_header(top[header_index], top[first_data])
        first_data += 1

    def data_rows() -> Iterator[tuple[int, dict[str, object]]]:
        for offset, cells in enumerate(chain(top[first_data:], rows), start=first_data + 1):
            if _is_total_row(cells):
                return  # the table ends with its totals; below come signatures and notes
            values = {column: cells[i] if i < len(cells) else None for i, column in mapping.items()}
            if all(v is None or str(v).strip() == "" for v in values.values()):
                continue
            yield offset, values

    letters = {column: column_letter(i) for i, column in mapping.items()}
    return ParsedFile(
        columns=columns, rows=Rows(data_rows()), unknown_headers=unknown, letters=letters
    )


_CHUNK = 1 << 20


def _text_encoding(path: Path) -> str:
    """The encoding of a text file (a BOM decides; else UTF-8), after checking that the
    whole file decodes, in bounded memory; raises FileRejected naming the first bad byte."""
    with path.open("rb") as handle:
        start = handle.read(4)
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding, skip = "utf-16", 0
        elif start.startswith(codecs.BOM_UTF8):
            encoding, skip = "utf-8-sig", len(codecs.BOM_UTF8)
        else:
            encoding, skip = "utf-8", 0
        handle.seek(skip)
        decoder = codecs.getincrementaldecoder("utf-16" if encoding == "utf-16" else "utf-8")()
        offset, lines = 0, 0
        while True:
            chunk = handle.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                position = offset + err.start
                # The sender finds the line, not the byte: the line as a text editor counts.
                line = lines + err.object[: err.start].count(b"\n") + 1
                raise FileRejected(
                    f"not UTF-8 text (byte {position}): save the file as CSV UTF-8 or XLSX",
                    problem="not_utf8",
                    details={"line": line},
                ) from None
            if not chunk:
                return encoding
            offset += len(chunk)
            lines += chunk.count(b"\n")


def read_csv(path: Path) -> ParsedFile:
    encoding = _text_encoding(path)
    with path.open(encoding=encoding) as handle:
        if handle.read(4096).strip() == "" and handle.read(1) == "":
            raise FileRejected(_no_header_reason("CSV"), problem="empty_file")
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    delimiter = max((",", ";", "\t"), key=first_line.count)
    # A cell may be as long as the file (a pasted note): no field-size limit below that.
    csv.field_size_limit(max(csv.field_size_limit(), path.stat().st_size + 1))

    def grid() -> Iterator[list[object]]:
        with path.open(encoding=encoding, newline="") as handle:
            yield from csv.reader(handle, delimiter=delimiter)

    return _rows_from_grid(grid(), "CSV")


_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
SAVE_AS = "open it in Excel and save it as Excel Workbook (.xlsx) or CSV UTF-8, then send it again"


def _not_a_workbook(data: bytes) -> FileRejected | None:
    """Why ``data`` is not an XLSX workbook, in words the sender can act on, or None."""
    if data.startswith(_OLE2_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            return FileRejected(
                "the workbook is protected with a password, so it cannot be read: remove the "
                "password (File > Info > Protect Workbook) and send it again",
                problem="encrypted_workbook",
            )
        return FileRejected(
            f"this is an old Excel 97-2003 workbook (.xls): {SAVE_AS}", problem="legacy_xls"
        )
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and (b"<html" in head or b"<table" in head or b"<!doctype" in head):
        return FileRejected(
            f"this is a web page (HTML) saved with a spreadsheet name: {SAVE_AS}",
            problem="html_as_spreadsheet",
        )
    if not data.startswith(b"PK"):
        return FileRejected(
            f"this is not an Excel workbook (the file's content is not .xlsx): {SAVE_AS}",
            problem="not_a_workbook",
        )
    return None


_EMPTY, _NO_HEADER, _NO_ROWS = "empty", "no header row", "header but no rows"


def _looks_like_data(top: list[list[object]]) -> bool:
    """Whether rows without a header look like a table's figures (several filled cells in a
    row), not a note or instructions (text in one cell per row)."""
    return any(sum(not _blank(cell) for cell in row) >= 3 for row in top)


def read_xlsx(path: Path, max_uncompressed_bytes: int) -> ParsedFile:
    """The first sheet holding the report table (a header row and rows below it); sheets
    before it that are empty, hold no table, or only the header are skipped. A workbook with
    no such sheet says what each sheet held: all empty, the header on one sheet and the
    figures on another, only a header, or no header anywhere. Rows are read lazily
    (openpyxl's read-only mode); the workbook closes once they are read."""
    with path.open("rb") as handle:
        head = handle.read(2048)
    if not head.startswith(b"PK"):
        raise _not_a_workbook(path.read_bytes()) or FileRejected(
            "not an XLSX workbook", problem="not_a_workbook"
        )
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRejected(
            f"the workbook is damaged (its zip container cannot be opened): {SAVE_AS}",
            problem="damaged_workbook",
        ) from None
    with archive:
        total = sum(info.file_size for info in archive.infolist())
    if total > max_uncompressed_bytes:
        raise FileRejected(
            f"XLSX expands to {total} bytes, over the limit of {max_uncompressed_bytes}",
            problem="workbook_too_large",
            details={"size": total, "limit": max_uncompressed_bytes},
        )
    import openpyxl  # imported here: only XLSX files need it

    handle = path.open("rb")  # a file object: openpyxl judges a path by its extension
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for broken files
        handle.close()
        raise FileRejected(
            f"XLSX file cannot be read: {type(err).__name__}: {err}", problem="workbook_unreadable"
        ) from None
    seen: list[tuple[str, str]] = []  # (sheet, what it held)
    header_only: ParsedFile | None = None
    data_sheet: str | None = None
    for sheet in workbook.worksheets:
        # The size a workbook declares can be wrong (some programs write A1): read every row.
        sheet.reset_dimensions()
        rows = (list(row) for row in sheet.iter_rows(values_only=True))
        top = list(islice(rows, _MAX_HEADER_SEARCH + 1))
        blank_top = not any(not _blank(cell) for row in top for cell in row)
        if blank_top and next(rows, None) is None:
            seen.append((sheet.title, _EMPTY))
            continue
        try:
            parsed = _rows_from_grid(chain(top, rows), "XLSX")
        except FileRejected:
            seen.append((sheet.title, _NO_HEADER))
            if data_sheet is None and _looks_like_data(top):
                data_sheet = sheet.title
            continue
        parsed.sheet = sheet.title
        if not parsed.rows:
            seen.append((sheet.title, _NO_ROWS))
            header_only = header_only or parsed
            continue
        parsed.rows = Rows(_closing(parsed.rows, workbook, handle))
        return parsed
    workbook.close()
    handle.close()
    if header_only is not None and data_sheet is not None:
        raise FileRejected(
            f"sheet '{header_only.sheet}' has the header row but no data rows; the data is on "
            f"sheet '{data_sheet}', which has no header row",
            problem="data_on_other_sheet",
            details={"header_sheet": header_only.sheet, "data_sheet": data_sheet},
        )
    if header_only is not None:
        return header_only  # the caller says: a header but no data rows, on this sheet
    raise _no_table(seen)


def _no_table(seen: list[tuple[str, str]]) -> FileRejected:
    """A workbook where no sheet holds a header row: empty, or holding something else."""
    described = {
        _EMPTY: ("'{}' (empty)", '"{}" (trống)', '"{}" (empty)'),
        _NO_HEADER: (
            f"'{{}}' (no header row in its first {_MAX_HEADER_SEARCH} rows)",
            f'"{{}}" (không có dòng tiêu đề trong {_MAX_HEADER_SEARCH} dòng đầu)',
            f'"{{}}" (no header row in its first {_MAX_HEADER_SEARCH} rows)',
        ),
    }
    reason = (
        "no sheet holds the report table: "
        + (
            ", ".join(described[kind][0].format(title) for title, kind in seen)
            or "the workbook has no sheet"
        )
        + " (expected a header row with Ngày báo cáo and Mã đơn vị or Tên đơn vị)"
    )
    titles = [title for title, _ in seen]
    if seen and all(kind == _EMPTY for _, kind in seen):
        if len(seen) == 1:
            return FileRejected(reason, problem="empty_sheet", sheet=titles[0])
        return FileRejected(reason, problem="empty_sheets", details={"sheets": quoted(titles)})
    sheets = Words(
        vi=", ".join(described[kind][1].format(title) for title, kind in seen)
        or "bảng tính không có trang nào",
        en=", ".join(described[kind][2].format(title) for title, kind in seen)
        or "the workbook has no sheet",
    )
    return FileRejected(reason, problem="no_table_in_workbook", details={"sheets": sheets})


def _closing(
    rows: Rows, workbook: object, handle: object
) -> Iterator[tuple[int, dict[str, object]]]:
    try:
        yield from rows
    finally:
        workbook.close()
        handle.close()


def read_json(path: Path) -> ParsedFile:
    encoding = _text_encoding(path)
    try:
        document = json.loads(path.read_text(encoding=encoding))
    except RecursionError:
        raise FileRejected(
            "JSON nested too deeply to be a report", problem="json_too_deep"
        ) from None
    except json.JSONDecodeError as err:
        raise FileRejected(
            f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}",
            problem="json_invalid",
            details={"line": err.lineno, "char": err.colno},
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
        raise FileRejected(
            "JSON must be a list of report objects or an object with a 'rows' list",
            problem="json_not_list",
        )
    headers = list(dict.fromkeys(key for record in records for key in record))
    mapping, unknown = _map_header(headers)
    columns = {column: headers[i] for i, column in mapping.items()}
    for column in defaults:
        columns.setdefault(column, column)
    if not _is_header({i: c for i, c in enumerate(columns)}):
        raise FileRejected(
            "JSON records lack report_date and unit_code/unit_name keys "
            f"(found: {', '.join(headers[:10]) or 'none'})",
            problem="json_no_keys",
            details={"found": quoted(headers[:10]) or Words(vi="không có", en="none")},
        )

    def data_rows() -> Iterator[tuple[int, dict[str, object]]]:
        for number, record in enumerate(records, start=1):
            values = dict(defaults)
            values.update({mapping[i]: record[headers[i]] for i in mapping if headers[i] in record})
            yield number, values

    return ParsedFile(
        columns=columns, rows=Rows(data_rows()), unknown_headers=unknown, row_kind="record"
    )


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
            raise FileRejected(
                f"missing required column {names}; recognised columns: {found}",
                problem="missing_column",
                sheet=parsed.sheet,
                details={
                    "missing": Words(
                        vi=" hoặc ".join(
                            f'"{VIETNAMESE_HEADERS[column]}"' for column in alternatives
                        ),
                        en=" or ".join(
                            f'"{VIETNAMESE_HEADERS[column]}" ({column})' for column in alternatives
                        ),
                    ),
                    "found": quoted(parsed.columns.values()) or Words(vi="không có", en="none"),
                },
            )


def read_report(file_name: str, path: Path, max_xlsx_uncompressed_bytes: int) -> ParsedFile:
    """Parse a report file on disk and check it has the required columns; rows are read
    lazily, in bounded memory. Raises FileRejected."""
    lower = file_name.lower()
    if lower.startswith("~$"):
        raise FileRejected(
            "this is Excel's lock file (~$...), left beside an open workbook, not a report: "
            "send the workbook itself",
            problem="lock_file",
        )
    if lower.endswith(".csv"):
        parsed = read_csv(path)
    elif lower.endswith((".xlsx", ".xls", ".xlsm")):
        # People rename: an .xls that is really .xlsx is read; anything else says what it is.
        parsed = read_xlsx(path, max_xlsx_uncompressed_bytes)
    elif lower.endswith(".json"):
        parsed = read_json(path)
    else:
        extension = lower.rsplit(".", 1)[1] if "." in lower.lstrip(".") else lower
        raise FileRejected(
            "unsupported file type: reports are .csv, .xlsx or .json",
            problem="unsupported_type",
            details={"extension": f".{extension}" if "." in lower.lstrip(".") else file_name},
        )
    _check_required_columns(parsed)
    return parsed
