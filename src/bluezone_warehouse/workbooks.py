"""Excel workbooks of the published marts: ``xlsx/<mart>.xlsx`` in each snapshot.

Officials open Excel before anything else, so every mart of a snapshot is also a workbook
beside its CSV, read from the snapshot's own DuckDB file (so it can never disagree with the
snapshot's CSV or Parquet):

- real cells: numbers as numbers, dates and timestamps as Excel dates (timestamps with a
  time zone in UTC, as their ``_at`` names say), booleans as booleans, NULL as an empty
  cell; text always as text, never evaluated: a value starting with ``=`` is stored as a
  string, not a formula, and text starting like a formula (``= + - @``) carries Excel's
  quote prefix so that editing the cell keeps it text;
- two header rows: the column names exactly as in the CSV, then their Vietnamese labels;
  both frozen, with an autofilter and column widths fitted to the values;
- a ``README`` sheet: what the mart is (its dbt description), its grain, the snapshot id
  and day, each sheet's rows, and each column's label, type and meaning;
- a mart with more rows than a worksheet holds (1,048,576 rows, header rows included) is
  split across sheets ``<mart>``, ``<mart> (2)``, … each with both header rows.

The English descriptions and the Vietnamese labels come from one place, the marts' dbt
properties (``dbt_project/models/marts/*.yml``): a column's ``description`` and its
``config.meta.label_vi``, a model's ``description`` and ``config.meta.label_vi``, and the
grain from the model's uniqueness test. They are documented where the columns are, show in
dbt docs, and a new column gets its label where it gets its description.

Writing is streaming (openpyxl's write-only mode) but costs about 10 µs a cell, seconds to
minutes for a national campaign, so :func:`bluezone_warehouse.warehouse.publish` swaps the
snapshot in first and the workbooks follow in a process of their own (``python -m
bluezone_warehouse.workbooks <snapshot folder>``). Each is written under a hidden temporary
name in the snapshot's ``xlsx/`` folder, read-only from its creation, and renamed into place
when whole: a reader sees no workbook or a whole one. Only the current snapshot gets them:
a writer whose snapshot is superseded or withdrawn stops, and writers of one publish folder
take turns (a lock), so a burst of publishes never piles up.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bluezone_warehouse.config import PROJECT_DIR
from bluezone_warehouse.warehouse import (
    FORMULA_START_CHARACTERS,
    SNAPSHOT_FILE,
    XLSX_DIR,
    mart_tables,
    publish_order,
    quoted,
    replaced_snapshot,
)

README_SHEET = "README"
# A worksheet holds 1,048,576 rows (Excel's limit, header rows included).
EXCEL_MAX_ROWS = 1_048_576
HEADER_ROWS = 2
MAX_SHEET_TITLE = 31  # Excel's limit on a sheet name
MAX_CELL_TEXT = 32_767  # Excel's limit on the characters of one cell
# Integers beyond 2**53 are not exact as an Excel number: they are written as text.
MAX_EXACT_INTEGER = 2**53
MARTS_PROPERTIES = PROJECT_DIR / "dbt_project" / "models" / "marts"
LOCK_FILE = ".workbooks.lock"
LOG_FILE = ".workbooks.log"
CHUNK_ROWS = 20_000
MIN_WIDTH, MAX_WIDTH = 8, 60

# Text that Excel would run if typed into a cell (the CSV neutralises the same set).
# Characters XML 1.0 cannot carry, and text that already looks like the OOXML escape of one.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile(r"_x[0-9A-Fa-f]{4}_")
INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
    + ("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")
)
_ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


class SnapshotSuperseded(RuntimeError):
    """The snapshot is no longer the current one: its remaining workbooks are not written."""


@dataclass(frozen=True)
class ColumnDoc:
    label_vi: str
    description: str


@dataclass(frozen=True)
class MartDoc:
    label_vi: str
    description: str
    grain: tuple[str, ...]
    columns: dict[str, ColumnDoc]


def sheet_titles(mart: str, sheets: int) -> list[str]:
    """``<mart>``, ``<mart> (2)``, …, each within Excel's 31 characters."""
    titles = []
    for number in range(1, sheets + 1):
        suffix = "" if number == 1 else f" ({number})"
        titles.append(mart[: MAX_SHEET_TITLE - len(suffix)] + suffix)
    return titles


def sheets_needed(rows: int, max_rows: int = EXCEL_MAX_ROWS) -> int:
    """Sheets for ``rows`` data rows when a sheet holds ``max_rows`` rows, headers included
    (one sheet, with its headers, for an empty mart)."""
    per_sheet = max_rows - HEADER_ROWS
    return max(1, math.ceil(rows / per_sheet))


# --- documentation: dbt properties of the marts -------------------------------------------


def mart_docs(properties_dir: Path = MARTS_PROPERTIES) -> dict[str, MartDoc]:
    """Descriptions, Vietnamese labels and grain of every mart, from its dbt properties."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: dict[str, MartDoc] = {}
    for path in sorted(properties_dir.glob("*.yml")):
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
        for model in content.get("models") or []:
            columns = {}
            grain: tuple[str, ...] = ()
            for test in model.get("data_tests") or []:
                if isinstance(test, dict) and "unique_combination" in test:
                    spec = test["unique_combination"] or {}
                    grain = tuple((spec.get("arguments") or spec).get("columns") or ())
            for column in model.get("columns") or []:
                meta = (column.get("config") or {}).get("meta") or column.get("meta") or {}
                columns[column["name"]] = ColumnDoc(
                    label_vi=str(meta.get("label_vi") or ""),
                    description=" ".join(str(column.get("description") or "").split()),
                )
                tests = column.get("data_tests") or []
                if not grain and "unique" in tests:
                    grain = (column["name"],)
            meta = (model.get("config") or {}).get("meta") or model.get("meta") or {}
            docs[model["name"]] = MartDoc(
                label_vi=str(meta.get("label_vi") or ""),
                description=" ".join(str(model.get("description") or "").split()),
                grain=grain,
                columns=columns,
            )
    return docs


# --- cells ---------------------------------------------------------------------------------


def excel_text(value: str) -> str:
    """Text as an Excel cell holds it: characters XML cannot carry in OOXML's ``_xHHHH_``
    escape (and a literal ``_xHHHH_`` escaped as such, so Excel shows it unchanged), cut at
    Excel's 32,767 characters with a note saying so."""
    if _NOT_IN_XML.search(value) or _LOOKS_ESCAPED.search(value):
        value = _LOOKS_ESCAPED.sub(lambda match: "_x005F" + match.group(0), value)
        value = _NOT_IN_XML.sub(lambda match: f"_x{ord(match.group(0)):04X}_", value)
    if len(value) > MAX_CELL_TEXT:
        note = f" … [cut: {len(value):,} characters in the CSV]"
        value = value[: MAX_CELL_TEXT - len(note)] + note
    return value


@dataclass(frozen=True)
class _Column:
    name: str
    data_type: str
    select: str  # the SQL expression read for the cell


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[_Column]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [table],
    ).fetchall()
    columns = []
    for name, data_type in rows:
        column = quoted(name)
        if data_type == "TIMESTAMP WITH TIME ZONE":
            select = f"timezone('UTC', {column})"  # the same instant, as UTC wall time
        elif data_type.startswith(("TIMESTAMP", "DATE", "BOOLEAN", "VARCHAR", "DOUBLE")):
            select = column
        elif data_type.startswith(("DECIMAL", "FLOAT", "REAL")):
            select = f"cast({column} as double)"
        elif data_type in INTEGER_TYPES:
            select = column
        else:  # anything else (time, interval, lists, ...) as DuckDB writes it in the CSV
            select = f"cast({column} as varchar)"
        columns.append(_Column(name, data_type, select))
    return columns


def _converter(
    column: _Column,
    text_cell: Callable[[str], Any],
    exact_number: Callable[[float], Any],
) -> Callable[[Any], Any] | None:
    """What a value of ``column`` needs before it is a cell (None: nothing)."""
    kind = column.data_type
    if kind.startswith(("TIMESTAMP", "DATE", "BOOLEAN")):
        return None
    if kind == "DOUBLE" or kind.startswith(("DECIMAL", "FLOAT", "REAL")):

        def number(value: float | None) -> Any:
            if value is None:
                return None
            if not math.isfinite(value):
                # Excel has no NaN or infinity: the text DuckDB writes in the CSV.
                return text_cell("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
            if float(f"{value:.16g}") == value:
                return value
            return exact_number(value)  # openpyxl writes 16 digits; this one needs 17

        return number
    if kind in INTEGER_TYPES:

        def integer(value: int | None) -> Any:
            if value is None or -MAX_EXACT_INTEGER <= value <= MAX_EXACT_INTEGER:
                return value
            return text_cell(str(value))

        return integer

    def text(value: str | None) -> Any:
        if value is None:
            return None
        return text_cell(value)

    return text


# --- one workbook --------------------------------------------------------------------------


def _widths(con: duckdb.DuckDBPyConnection, table: str, columns: list[_Column]) -> list[int]:
    """Characters of each column's longest value, as text (dates and times as Excel shows
    them, doubles at most 12)."""
    lengths = ", ".join(f"max(length(cast({column.select} as varchar)))" for column in columns)
    longest = con.execute(f"select {lengths} from marts.{table}").fetchone()
    widths = []
    for column, values in zip(columns, longest, strict=True):
        kind = column.data_type
        if kind == "DATE":
            values = 10
        elif kind.startswith("TIMESTAMP"):
            values = 19
        elif kind == "DOUBLE":
            values = min(values or 0, 12)
        widths.append(values or 0)
    return widths


def write_workbook(
    con: duckdb.DuckDBPyConnection,
    table: str,
    destination: Any,
    *,
    snapshot_id: str,
    doc: MartDoc | None,
    max_rows: int = EXCEL_MAX_ROWS,
    keep_going: Callable[[], None] = lambda: None,
) -> list[tuple[str, int]]:
    """Write ``marts.<table>`` of ``con`` as a workbook to ``destination`` (a path or a
    binary file). ``max_rows`` is a worksheet's row limit, header rows included.
    ``keep_going`` is called between chunks of rows and may raise to stop. Returns each
    data sheet's title and data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    if max_rows <= HEADER_ROWS:
        raise ValueError(f"a sheet of {max_rows} rows has no room under {HEADER_ROWS} headers")
    doc = doc or MartDoc("", "", (), {})
    columns = _columns(con, table)
    rows = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
    per_sheet = max_rows - HEADER_ROWS
    titles = sheet_titles(table, sheets_needed(rows, max_rows))
    labels = [
        (doc.columns.get(column.name) or ColumnDoc("", "")).label_vi or column.name
        for column in columns
    ]
    widths = [
        max(MIN_WIDTH, min(MAX_WIDTH, max(len(column.name), min(len(label), 30), width) + 2))
        for column, label, width in zip(columns, labels, _widths(con, table, columns), strict=True)
    ]

    workbook = Workbook(write_only=True)

    def text_cell(value: str) -> Any:
        value = excel_text(value)
        if value.startswith(FORMULA_START_CHARACTERS) or value in _ERROR_CODES:
            cell = WriteOnlyCell(sheet)
            cell._value = value
            cell.data_type = "s"  # a string, never a formula or an error value
            cell.quotePrefix = True  # and editing it in Excel keeps it text
            return cell
        return value

    def exact_number(value: float) -> Any:
        cell = WriteOnlyCell(sheet)
        cell._value = repr(value)  # the shortest text that reads back as the same double
        cell.data_type = "n"
        return cell

    converters = [
        (i, _converter(column, text_cell, exact_number)) for i, column in enumerate(columns)
    ]
    converters = [(i, convert) for i, convert in converters if convert is not None]
    name_font = Font(bold=True, color="1F3864")
    label_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    last_column = get_column_letter(max(1, len(columns)))

    def header(values: Sequence[str], font: Font) -> list[Any]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=excel_text(value))
            cell.font, cell.fill, cell.alignment = font, header_fill, wrap
            cells.append(cell)
        return cells

    select = ", ".join(f"{column.select} as c{i}" for i, column in enumerate(columns))
    order = publish_order([(column.name, column.data_type) for column in columns])
    result = con.execute(f"select {select} from marts.{table} order by {order}")  # the CSV's
    written: list[tuple[str, int]] = []
    pending: list[tuple] = []
    for title in titles:
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = f"A{HEADER_ROWS + 1}"
        for number, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(number)].width = width
        sheet.append(header([column.name for column in columns], name_font))
        sheet.append(header(labels, label_font))
        in_sheet = 0
        while in_sheet < per_sheet:
            if not pending:
                keep_going()
                pending = result.fetchmany(min(CHUNK_ROWS, per_sheet))
                pending.reverse()
                if not pending:
                    break
            take = min(per_sheet - in_sheet, len(pending))
            for _ in range(take):
                row = pending.pop()
                if converters:
                    row = list(row)
                    for i, convert in converters:
                        row[i] = convert(row[i])
                sheet.append(row)
            in_sheet += take
        sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last_column}{HEADER_ROWS + max(in_sheet, 1)}"
        written.append((title, in_sheet))
    _readme(workbook, table, snapshot_id, doc, columns, labels, written)
    workbook.save(destination)
    return written


def _readme(
    workbook: Any,
    table: str,
    snapshot_id: str,
    doc: MartDoc,
    columns: list[_Column],
    labels: list[str],
    written: list[tuple[str, int]],
) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    sheet = workbook.create_sheet(README_SHEET)
    for letter, width in zip("ABCD", (34, 44, 26, 100), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def row(*values: Any, font: Font | None = None) -> None:
        cells = []
        for value in values:
            cell = WriteOnlyCell(
                sheet, value=excel_text(value) if isinstance(value, str) else value
            )
            cell.alignment = wrap
            if font is not None:
                cell.font = font
            cells.append(cell)
        sheet.append(cells)

    day = snapshot_id[:8]
    snapshot_day = f"{day[:4]}-{day[4:6]}-{day[6:]}" if day.isdigit() else ""
    row(table, doc.label_vi, font=Font(bold=True, size=14))
    row("Mô tả / What it is", doc.description or "(no description in the dbt properties)")
    row(
        "Mỗi dòng là / One row per",
        " × ".join(doc.grain) if doc.grain else "(no uniqueness test in the dbt properties)",
    )
    row("Viết cho bản công bố / Written for snapshot", snapshot_id)
    row("Ngày của bản đó / Its day", snapshot_day)
    row(
        "Số dòng / Rows",
        f"{sum(rows for _, rows in written):,} in "
        + ", ".join(f"'{title}' ({rows:,})" for title, rows in written),
    )
    row(
        "Cách đọc / How to read",
        "Row 1: column names, exactly as in csv/"
        + table
        + ".csv and the DuckDB and Parquet files of the same snapshot. Row 2: Vietnamese "
        "labels. Shares are fractions (0.0895 = 8.95 %). Columns ending in _at are UTC; "
        "_local columns are Asia/Ho_Chi_Minh wall time. An empty cell is NULL. Excel holds "
        "times to the millisecond and text up to 32,767 characters (longer text is cut, "
        "with a note); NaN and infinity are written as text. A later snapshot in which this "
        "mart's rows are all the same keeps this workbook as it is: the snapshot and day "
        "above are those it was written for, not necessarily the snapshot it is found in.",
    )
    row()
    row("Cột / Column", "Tên tiếng Việt / Label", "Kiểu / Type", "Ý nghĩa / Meaning", font=bold)
    for column, label in zip(columns, labels, strict=True):
        described = doc.columns.get(column.name)
        row(column.name, label, column.data_type, described.description if described else "")


# --- every workbook of a snapshot ----------------------------------------------------------


def _current_id(publish_dir: Path) -> str | None:
    link = publish_dir / "current"
    return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None


def write_snapshot_workbooks(
    snapshot_dir: Path,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    only_while_current: bool = True,
    docs: dict[str, MartDoc] | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Write ``xlsx/<mart>.xlsx`` for every mart of the snapshot in ``snapshot_dir``, each
    renamed into place when whole. With ``only_while_current``, stop (raising
    :class:`SnapshotSuperseded`) as soon as the snapshot is not the publish folder's
    ``current`` one. Returns each workbook's sheets and rows."""
    snapshot_dir = Path(snapshot_dir)
    snapshot_id = snapshot_dir.name
    publish_dir = snapshot_dir.parent.parent
    docs = mart_docs() if docs is None else docs

    def keep_going() -> None:
        if only_while_current and _current_id(publish_dir) != snapshot_id:
            raise SnapshotSuperseded(f"snapshot {snapshot_id} is no longer current")

    keep_going()
    (snapshot_dir / XLSX_DIR).mkdir(exist_ok=True)  # a snapshot published before workbooks
    replaced = replaced_snapshot(publish_dir, snapshot_id)
    previous = snapshot_dir.parent / replaced if replaced else None
    folder = os.open(snapshot_dir / XLSX_DIR, os.O_RDONLY | os.O_DIRECTORY)
    con = duckdb.connect(str(snapshot_dir / SNAPSHOT_FILE), read_only=True)
    written = {}
    try:
        tables = mart_tables(con)
        # Smallest first: a day's compliance marts do not wait behind a campaign's communes.
        sizes = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}
        for table in sorted(tables, key=lambda t: (sizes[t], t)):
            if _exists(f"{table}.xlsx", folder):
                continue  # written by an earlier writer of this snapshot
            keep_going()
            doc = docs.get(table)
            content = content_key(con, table, doc, max_rows)
            temporary = f".{table}.xlsx.part-{os.getpid()}"
            try:
                sheets = _same_workbook(previous, table, content, folder, temporary)
                if sheets is None:
                    # Read-only from its creation: no writable file is ever seen in a snapshot.
                    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                    fd = os.open(temporary, flags, 0o444, dir_fd=folder)
                    with os.fdopen(fd, "wb") as handle:
                        sheets = write_workbook(
                            con,
                            table,
                            handle,
                            snapshot_id=snapshot_id,
                            doc=doc,
                            max_rows=max_rows,
                            keep_going=keep_going,
                        )
                # Relative to the folder the writer opened: if the snapshot was replaced by a
                # republish meanwhile, this fails rather than land in the new one.
                os.rename(temporary, f"{table}.xlsx", src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)
                raise
            written[table] = sheets
            _note_content(snapshot_dir, table, content, sheets)
    finally:
        con.close()
        os.close(folder)
    return written


# --- a mart whose rows did not change keeps its workbook ----------------------------------

# What a workbook is written by: this module's code and the marts' dbt properties.
_WRITER = hashlib.sha256(
    Path(__file__).read_bytes()
    + b"".join(path.read_bytes() for path in sorted(MARTS_PROPERTIES.glob("*.yml")))
).hexdigest()


def content_key(
    con: duckdb.DuckDBPyConnection, table: str, doc: MartDoc | None, max_rows: int
) -> str:
    """What a mart's workbook depends on: its columns, its rows (a count and a sum of row
    hashes: their order follows from them, ``publish_order``), its documentation and the
    writer."""
    columns = _columns(con, table)  # names, types and what the writer reads of each
    rows, total = con.execute(
        f"select count(*), sum(hash(*columns(*))) from marts.{table}"
    ).fetchone()
    from openpyxl import __version__ as openpyxl_version

    return hashlib.sha256(
        repr((_WRITER, openpyxl_version, columns, rows, str(total), doc, max_rows)).encode()
    ).hexdigest()


# Beside the workbooks, not among them: what each was written from (a snapshot's own).
CONTENT_NOTES = ".workbooks"


def _note_content(snapshot_dir: Path, table: str, content: str, sheets: list) -> None:
    """Once a workbook is in place: what it was written from, and its sheets."""
    notes = snapshot_dir / CONTENT_NOTES
    notes.mkdir(exist_ok=True)
    temporary = notes / f".{table}.json.part-{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"content": content, "sheets": sheets}, handle)
    os.rename(temporary, notes / f"{table}.json")


def _same_workbook(
    previous: Path | None, table: str, content: str, folder: int, temporary: str
) -> list[tuple[str, int]] | None:
    """When the snapshot this one replaced (``previous``, its folder) has the mart's
    workbook written from the same content, link it in as ``temporary`` (the same file:
    its README sheet names the snapshot it was written for) and return its sheets; else
    None."""
    if previous is None:
        return None
    try:
        noted = json.loads((previous / CONTENT_NOTES / f"{table}.json").read_text("utf-8"))
        if noted.get("content") != content:
            return None
        os.link(previous / XLSX_DIR / f"{table}.xlsx", temporary, dst_dir_fd=folder)
    except (OSError, ValueError):
        return None  # none there (pruned, not written yet, superseded): write it
    return [tuple(sheet) for sheet in noted["sheets"]]


def _exists(name: str, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def _turn(publish_dir: Path) -> Iterator[None]:
    """One writer at a time per publish folder."""
    fd = os.open(publish_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bluezone_warehouse.workbooks <snapshot folder>``: what publish starts
    once the snapshot is current. Waits for its turn, writes the workbooks at low priority,
    logs to ``<publish folder>/.workbooks.log``; exit 0 when written or superseded."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(main.__doc__, file=sys.stderr)
        return 2
    snapshot_dir = Path(args[0])
    publish_dir = snapshot_dir.parent.parent
    with contextlib.suppress(OSError):
        os.nice(10)  # the pipeline's own work comes first
    signal.signal(signal.SIGTERM, _terminated)  # stopped: remove the workbook half-written
    with (publish_dir / LOG_FILE).open("a", encoding="utf-8") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with _turn(publish_dir):
                written = write_snapshot_workbooks(snapshot_dir)
        except (SnapshotSuperseded, FileNotFoundError) as stopped:
            log.write(f"{stamp} {snapshot_dir.name}: stopped, {stopped}\n")
            return 0
        except SystemExit:
            log.write(f"{stamp} {snapshot_dir.name}: terminated\n")
            raise
        except BaseException:
            log.write(f"{stamp} {snapshot_dir.name}: failed\n{traceback.format_exc()}\n")
            return 1
        done = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"{done} {snapshot_dir.name}: wrote {len(written)} workbooks\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
