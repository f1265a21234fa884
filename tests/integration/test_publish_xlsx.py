"""The snapshot's Excel workbooks (``xlsx/<mart>.xlsx``) on marts made for the purpose: every
kind of cell keeps its type, text is never a formula, a mart over a sheet's row limit is
split across sheets with its headers repeated, and the workbooks follow the swap without
ever being seen half-written or disagreeing with the CSV of their snapshot."""

from __future__ import annotations

import csv
import fcntl
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from bluezone_warehouse.warehouse import (
    PERSONAL_DATA_COLUMNS,
    PublishRefused,
    publish,
    wait_for_workbooks,
    withdraw,
)
from bluezone_warehouse.workbooks import (
    EXCEL_MAX_ROWS,
    LOCK_FILE,
    sheet_titles,
    sheets_needed,
    write_snapshot_workbooks,
)

LONG = "x" * 40_000
ODD_TEXT = [
    "=SUM(A1:A2)",
    "+84 912",
    "-1",
    "@here",
    "#N/A",
    "\tindented",
    "bell\x07inside",
    "_x0041_ stays literal",
    "Phường Phúc Xá",
    LONG,
    None,
]


def _warehouse(path: Path, sql: str) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(sql)
    finally:
        con.close()
    return path


def _odd_marts(path: Path) -> Path:
    """One mart with a cell of every kind, in a known order."""
    values = []
    for n, text in enumerate(ODD_TEXT):
        literal = "null" if text is None else "'" + text.replace("'", "''") + "'"
        values.append(f"({n}, {literal})")
    return _warehouse(
        path,
        f"""
        create table marts.odd as
        select
            n,
            text,
            case n when 0 then 9007199254740993 when 1 then -5 else n * 1000 end::bigint
                as big,
            (n * 12345678901234567890)::hugeint as huge,
            case n when 0 then 'nan'::double when 1 then 'inf'::double
                when 2 then '-inf'::double when 3 then null else n / 8 end as ratio,
            case when n = 4 then null else date '2020-08-01' + n end as day,
            timestamp '2020-08-04 09:15:30.123456' + to_minutes(n) as at_local,
            timestamptz '2020-08-04 16:00:00+07' + to_minutes(n) as sent_at,
            case when n = 5 then null else n % 2 = 0 end as flag,
            (n * 1.25)::decimal(10, 2) as amount,
            to_minutes(n * 90) as wait,
            [n, n + 1] as pair,
        from (values {", ".join(values)}) as v(n, text)
        order by n
        """,
    )


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _data_rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]


def test_every_kind_of_cell_keeps_its_type_and_text_is_never_a_formula(tmp_path: Path) -> None:
    warehouse = _odd_marts(tmp_path / "warehouse.duckdb")
    snapshot = publish(warehouse, tmp_path / "publish", "20200804-odd", workbooks="inline").parent
    book = load_workbook(snapshot / "xlsx" / "odd.xlsx")
    assert book.sheetnames == ["odd", "README"]
    sheet = book["odd"]
    header = [cell.value for cell in sheet[1]]
    assert header == _csv_rows(snapshot / "csv" / "odd.csv")[0]
    assert header == [
        "n", "text", "big", "huge", "ratio", "day", "at_local", "sent_at", "flag", "amount",
        "wait", "pair",
    ]  # fmt: skip
    # No Vietnamese label in the dbt properties for this mart: the name stands in.
    assert [cell.value for cell in sheet[2]] == header
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:L{2 + len(ODD_TEXT)}"

    rows = list(sheet.iter_rows(min_row=3))
    # the published order: by day, the row without one last (then by every column)
    order = [n for n in range(len(ODD_TEXT)) if n != 4] + [4]
    assert [row[0].value for row in rows] == order
    cut_note = " … [cut: 40,000 characters in the CSV]"
    expected_text = [
        "=SUM(A1:A2)",
        "+84 912",
        "-1",
        "@here",
        "#N/A",
        "\tindented",
        "bell_x0007_inside",  # OOXML's escape for a character XML cannot carry
        "_x005F_x0041_ stays literal",  # so that Excel shows "_x0041_", not "A"
        "Phường Phúc Xá",
        "x" * (32_767 - len(cut_note)) + cut_note,
        None,
    ]
    for n, row in zip(order, rows, strict=True):
        cells = {name: cell for name, cell in zip(header, row, strict=True)}
        assert cells["n"].value == n and cells["n"].data_type == "n"
        assert cells["text"].value == expected_text[n]
        if expected_text[n] is not None:
            assert cells["text"].data_type == "s", n  # never "f" (formula) or "e" (error)
        assert cells["text"].quotePrefix == (n <= 5), n  # text that starts like a formula
        # beyond 2**53 an Excel number is not exact: the digits as text
        big = {0: "9007199254740993", 1: -5}.get(n, n * 1000)
        assert cells["big"].value == big
        huge = n * 12345678901234567890
        assert cells["huge"].value == (huge if huge <= 2**53 else str(huge))
        ratio = {0: "nan", 1: "inf", 2: "-inf", 3: None}.get(n, n / 8)
        assert cells["ratio"].value == ratio, n
        assert cells["day"].value == (None if n == 4 else datetime(2020, 8, 1 + n)), n
        assert cells["day"].is_date or n == 4
        # Excel holds times to the millisecond
        assert cells["at_local"].value == datetime(2020, 8, 4, 9, 15 + n, 30, 123000)
        assert cells["sent_at"].value == datetime(2020, 8, 4, 9, n, 0)  # 16:00+07 is 09:00 UTC
        assert cells["flag"].value == (None if n == 5 else n % 2 == 0), n
        assert cells["flag"].data_type == ("n" if n == 5 else "b")
        assert cells["amount"].value == n * 1.25
        # types Excel has no cell for: the text DuckDB gives them (as in the CSV)
        assert cells["wait"].value == f"{n * 90 // 60:02d}:{n * 90 % 60:02d}:00"
        assert cells["pair"].value == f"[{n}, {n + 1}]"

    # In the file itself: no formula element anywhere, and the "=" text is an inline string.
    with zipfile.ZipFile(snapshot / "xlsx" / "odd.xlsx") as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    assert "<is><t>=SUM(A1:A2)</t></is>" in xml

    # The CSV of the same snapshot says the same: the text (neutralised there with an
    # apostrophe when it starts like a formula), the numbers, the days, the instants.
    csv_rows = _csv_rows(snapshot / "csv" / "odd.csv")[1:]
    for n, row, line in zip(order, rows, csv_rows, strict=True):
        apostrophe = "'" if n in {0, 1, 2, 3, 5} else ""
        assert line[1] == ("" if ODD_TEXT[n] is None else apostrophe + ODD_TEXT[n])
        assert line[2] == str(row[2].value)
        assert line[5] == ("" if n == 4 else f"2020-08-{1 + n:02d}")
        instant = datetime.fromisoformat(line[7]).astimezone(UTC).replace(tzinfo=None)
        assert instant == row[7].value
        assert line[4] == ("" if n == 3 else ["nan", "inf", "-inf"][n] if n <= 2 else line[4])
        if n > 3:
            assert float(line[4]) == row[4].value
        assert line[10:] == [row[10].value, row[11].value]

    readme = [[cell.value for cell in row] for row in book["README"].iter_rows()]
    assert readme[3][:2] == ["Viết cho bản công bố / Written for snapshot", "20200804-odd"]
    assert readme[4][:2] == ["Ngày của bản đó / Its day", "2020-08-04"]
    assert readme[5][1] == f"{len(ODD_TEXT)} in 'odd' ({len(ODD_TEXT)})"
    columns = {row[0]: row for row in readme[9:]}
    assert columns["sent_at"][2] == "TIMESTAMP WITH TIME ZONE"
    assert set(columns) == set(header)


def test_a_mart_over_the_row_limit_is_split_across_sheets(tmp_path: Path) -> None:
    warehouse = _warehouse(
        tmp_path / "warehouse.duckdb",
        "create table marts.long as select i as n, 'r' || i as label, "
        "date '2020-08-01' + i::int as day from range(23) t(i) order by i;"
        "create table marts.exact as select i as n from range(16) t(i) order by i;"
        "create table marts.empty as select 1 as n where false",
    )
    snapshot = publish(warehouse, tmp_path / "publish", "20200804-split", workbooks="none").parent
    assert sorted(os.listdir(snapshot / "xlsx")) == []  # none asked for
    written = write_snapshot_workbooks(snapshot, max_rows=10)  # 2 header rows + 8 data rows

    assert written == {
        "empty": [("empty", 0)],
        "exact": [("exact", 8), ("exact (2)", 8)],
        "long": [("long", 8), ("long (2)", 8), ("long (3)", 7)],
    }
    csv_rows = _csv_rows(snapshot / "csv" / "long.csv")
    book = load_workbook(snapshot / "xlsx" / "long.xlsx")
    assert book.sheetnames == ["long", "long (2)", "long (3)", "README"]
    rows = []
    for title, last in (("long", 10), ("long (2)", 10), ("long (3)", 9)):
        sheet = book[title]
        assert [cell.value for cell in sheet[1]] == csv_rows[0] == ["n", "label", "day"]
        assert [cell.value for cell in sheet[2]] == ["n", "label", "day"]
        assert sheet.freeze_panes == "A3"
        assert sheet.auto_filter.ref == f"A2:C{last}"
        assert sheet.max_row == last
        rows += _data_rows(sheet)
    assert rows == [[i, f"r{i}", datetime(2020, 8, 1 + i)] for i in range(23)]
    assert [[str(n), label, f"{day:%Y-%m-%d}"] for n, label, day in rows] == csv_rows[1:]
    empty = load_workbook(snapshot / "xlsx" / "empty.xlsx")["empty"]
    assert [[cell.value for cell in row] for row in empty.iter_rows()] == [["n"], ["n"]]


def test_the_real_row_limit_arithmetic() -> None:
    assert EXCEL_MAX_ROWS == 2**20  # Excel 2007 and later: 1,048,576 rows a worksheet
    per_sheet = 2**20 - 2  # under the two header rows
    assert sheets_needed(0) == 1
    assert sheets_needed(per_sheet) == 1
    assert sheets_needed(per_sheet + 1) == 2
    assert sheets_needed(2 * per_sheet) == 2
    assert sheets_needed(2 * per_sheet + 1) == 3
    assert sheets_needed(10_614 * 100) == 2  # a national commune mart on campaign day 100
    titles = sheet_titles("fct_commune_installs_daily_more", 12)
    assert titles[0] == "fct_commune_installs_daily_more"
    assert titles[1] == "fct_commune_installs_daily_ (2)"
    assert titles[11] == "fct_commune_installs_daily (12)"
    assert all(len(title) <= 31 for title in titles) and len(set(titles)) == 12


def test_publishing_refuses_personal_data_before_any_workbook(tmp_path: Path) -> None:
    for column in PERSONAL_DATA_COLUMNS:
        warehouse = _warehouse(
            tmp_path / f"{column}.duckdb",
            f"create table marts.units as select '001' as unit_code, 'a@example.org' as {column}",
        )
        with pytest.raises(PublishRefused, match=column):
            publish(warehouse, tmp_path / column, "20200804-leak", workbooks="inline")
        assert not (tmp_path / column / "current").exists()
        assert list((tmp_path / column).rglob("*.xlsx")) == []


def _hold_the_writers_turn(publish_dir: Path) -> int:
    publish_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(publish_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_the_workbooks_follow_the_swap_and_appear_whole(tmp_path: Path) -> None:
    """The snapshot is current before its workbooks exist; only the current snapshot gets
    them, each whole, and they say what the snapshot's own CSV says even when the same
    snapshot id is published again with other figures meanwhile."""
    warehouse = tmp_path / "warehouse.duckdb"
    publish_dir = tmp_path / "publish"

    def figures(value: int) -> None:
        _warehouse(
            warehouse,
            "create or replace table marts.figures as "
            f"select i as n, i * {value} as installs from range(50) t(i) order by i;"
            f"create or replace table marts.other as select {value} as v",
        )

    held = _hold_the_writers_turn(publish_dir)
    try:
        figures(1)
        first = publish(warehouse, publish_dir, "20200804-a").parent
        figures(2)
        second = publish(warehouse, publish_dir, "20200804-b").parent
        figures(3)
        again = publish(warehouse, publish_dir, "20200804-b").parent  # the same id again
        backfill = publish(warehouse, publish_dir, "20200803-old").parent
        # Swapped in while no workbook could be written yet.
        assert (publish_dir / "current").resolve() == again.resolve() == second.resolve()
        assert (again / "csv" / "figures.csv").is_file()
        assert os.listdir(again / "xlsx") == []
    finally:
        os.close(held)
    assert wait_for_workbooks() == [0, 0, 0]  # a, b, b again; the backfill starts none

    assert os.listdir(first / "xlsx") == []  # superseded before its turn came
    assert os.listdir(backfill / "xlsx") == []  # never current
    assert sorted(os.listdir(again / "xlsx")) == ["figures.xlsx", "other.xlsx"]
    for name in ("figures", "other"):
        path = again / "xlsx" / f"{name}.xlsx"
        assert not path.stat().st_mode & 0o222  # read-only, as every file of a snapshot
        csv_rows = _csv_rows(again / "csv" / f"{name}.csv")
        sheet = load_workbook(path)[name]
        assert [cell.value for cell in sheet[1]] == csv_rows[0]
        assert [[str(value) for value in row] for row in _data_rows(sheet)] == csv_rows[1:]
    assert _csv_rows(again / "csv" / "other.csv")[1:] == [["3"]]
    log = (publish_dir / ".workbooks.log").read_text().splitlines()
    assert sorted(line.split(" ", 1)[1] for line in log) == [
        "20200804-a: stopped, snapshot 20200804-a is no longer current",
        "20200804-b: wrote 0 workbooks",  # the other writer of "b" had written them
        "20200804-b: wrote 2 workbooks",
    ]


def test_double_values_are_exact(tmp_path: Path) -> None:
    """Excel numbers are IEEE doubles: a DOUBLE mart value comes back bit for bit."""
    warehouse = _warehouse(
        tmp_path / "warehouse.duckdb",
        "create table marts.shares as select i, i / 7 as share, "
        "1 / (i + 3) * 1e-9 as tiny from range(40) t(i) order by i",
    )
    snapshot = publish(warehouse, tmp_path / "p", "20200804-d", workbooks="inline").parent
    rows = _data_rows(load_workbook(snapshot / "xlsx" / "shares.xlsx")["shares"])
    assert rows == [[i, i / 7, 1 / (i + 3) * 1e-9] for i in range(40)]
    csv_rows = _csv_rows(snapshot / "csv" / "shares.csv")[1:]
    assert [[int(a), float(b), float(c)] for a, b, c in csv_rows] == rows


def test_a_withdrawal_finishes_the_workbooks_of_the_snapshot_bi_goes_back_to(
    tmp_path: Path,
) -> None:
    warehouse = _warehouse(
        tmp_path / "warehouse.duckdb",
        "create table marts.one as select 1 as n; create table marts.two as select 2 as n",
    )
    publish_dir = tmp_path / "publish"
    held = _hold_the_writers_turn(publish_dir)
    try:
        good = publish(warehouse, publish_dir, "20200804-good").parent
        publish(warehouse, publish_dir, "20200805-bad")  # supersedes "good" before its turn
        assert withdraw(publish_dir, "20200805-bad") == "20200804-good"
    finally:
        os.close(held)
    assert wait_for_workbooks() == [0, 0, 0]
    assert sorted(os.listdir(good / "xlsx")) == ["one.xlsx", "two.xlsx"]
    assert os.listdir(publish_dir / "snapshots" / ".withdrawn-20200805-bad" / "xlsx") == []
    log = (publish_dir / ".workbooks.log").read_text().splitlines()
    assert sorted(line.split(" ", 1)[1] for line in log) == [
        "20200804-good: wrote 0 workbooks",  # its two writers: one wrote them, one found them
        "20200804-good: wrote 2 workbooks",
        "20200805-bad: stopped, snapshot 20200805-bad is no longer current",
    ]


def test_a_mart_whose_rows_did_not_change_keeps_its_workbook(tmp_path: Path) -> None:
    """The next snapshot links in the workbook of every mart whose rows are the same as in
    the snapshot it replaced (today's refreshes change only the day's compliance), and
    writes the others anew, each still equal to its own CSV."""
    warehouse = _warehouse(
        tmp_path / "warehouse.duckdb",
        "create table marts.history as select range as n, range * 2 as twice from range(500);"
        "create table marts.today as select 1 as unit, 'missing' as status",
    )
    publish_dir = tmp_path / "publish"
    first = publish(warehouse, publish_dir, "20200805-0700", workbooks="inline").parent
    _warehouse(warehouse, "update marts.today set status = 'on_time'")
    second = publish(warehouse, publish_dir, "20200805-0800", workbooks="inline").parent

    def inode(snapshot: Path, mart: str) -> int:
        return (snapshot / "xlsx" / f"{mart}.xlsx").stat().st_ino

    assert inode(second, "history") == inode(first, "history")  # the same file, linked
    assert inode(second, "today") != inode(first, "today")
    for snapshot, status in ((first, "missing"), (second, "on_time")):
        book = load_workbook(snapshot / "xlsx" / "today.xlsx")
        assert _data_rows(book["today"]) == [[1, status]]
        assert _csv_rows(snapshot / "csv" / "today.csv")[1] == ["1", status]
    history = load_workbook(second / "xlsx" / "history.xlsx")["history"]
    assert _data_rows(history) == [[n, n * 2] for n in range(500)]

    # The same rows stored in another order are the same mart: it is published in its own
    # order (by every column), so its files and workbook stay as they were, linked.
    _warehouse(
        warehouse,
        "create or replace table marts.history as "
        "select range as n, range * 2 as twice from range(500) order by n desc",
    )
    third = publish(warehouse, publish_dir, "20200805-0900", workbooks="inline").parent
    assert inode(third, "history") == inode(second, "history")
    assert (third / "csv" / "history.csv").samefile(second / "csv" / "history.csv")
    history = load_workbook(third / "xlsx" / "history.xlsx")["history"]
    assert _data_rows(history) == [[n, n * 2] for n in range(500)]
    # one value changed: that mart is written again, still in its order
    _warehouse(warehouse, "update marts.history set twice = -1 where n = 7")
    fourth = publish(warehouse, publish_dir, "20200805-1000", workbooks="inline").parent
    assert inode(fourth, "history") != inode(third, "history")
    assert inode(fourth, "today") == inode(third, "today")
    changed = load_workbook(fourth / "xlsx" / "history.xlsx")["history"]
    assert _data_rows(changed) == [[n, -1 if n == 7 else n * 2] for n in range(500)]
    assert _csv_rows(fourth / "csv" / "history.csv")[1:] == [
        [str(n), str(-1 if n == 7 else n * 2)] for n in range(500)
    ]
