"""Publishing the change, not the history: a snapshot starts as a copy of the current one and
only the days whose rows changed are written again. Whatever was reused, every snapshot
holds exactly the warehouse's marts, in DuckDB, Parquet and CSV, the same as a snapshot
written whole from the same warehouse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb

from bluezone_warehouse.warehouse import publish
from tests.integration.test_publish_xlsx import _warehouse

DAYS = 20


def _history(path: Path) -> Path:
    """Three marts: one by day with 20 days (text that looks like a formula, a line break,
    nulls, a row without a day), one without a date column, one that never changes. (Written
    whole, a mart whose text has no line break is cut into its days' parts by row counts;
    the other is written a day at a time: both ways are here.)"""
    return _warehouse(
        path,
        f"""
        create table marts.by_day as
        select date '2020-08-01' + d::int as snapshot_date, lpad(u::varchar, 3, '0') as unit,
               d * 100 + u as installs, (d * 100 + u) / 7 as share,
               case when u = 2 then '=1+' || d when u = 3 then null
                    when u = 4 and d = 6 then 'two' || chr(10) || 'lines' else 'ok' end as note,
               timestamptz '2020-08-01 10:00:00+07' + to_hours(d) as sent_at
        from range({DAYS}) a(d), range(5) b(u)
        union all select null, '999', -1, null, 'no day', null;
        create table marts.units as
        select lpad(u::varchar, 3, '0') as unit, 'Unit ' || u as name from range(5) t(u);
        create table marts.constant as
        select date '2020-08-01' + d::int as day, d as n from range({DAYS}) t(d);
        """,
    )


def _sorted_lines(path: Path) -> tuple[str, list[str]]:
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    return header, sorted(rows)


def _same_as_warehouse(snapshot: Path, warehouse: Path) -> None:
    """The snapshot's table and Parquet file hold exactly the warehouse's rows (as many
    times each), and its CSV has the rows in day order."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as w (read_only)", [str(warehouse)])
        con.execute("attach ? as s (read_only)", [str(snapshot / "bluezone_marts.duckdb")])
        for table in ("by_day", "units", "constant"):
            parquet = f"read_parquet('{snapshot / 'parquet' / table}.parquet')"
            for copy in (f"s.marts.{table}", parquet):
                for a, b in ((f"w.marts.{table}", copy), (copy, f"w.marts.{table}")):
                    extra = con.execute(f"select * from {a} except all select * from {b}")
                    assert extra.fetchall() == [], (table, a, b)
            rows = con.execute(f"select count(*) from w.marts.{table}").fetchone()[0]
            with (snapshot / "csv" / f"{table}.csv").open(encoding="utf-8", newline="") as f:
                lines = list(csv.reader(f))
            assert len(lines) == rows + 1, table
            if table == "by_day":
                days = [line[0] for line in lines[1:]]
                assert days == sorted(d for d in days if d) + [""]  # no day: last
    finally:
        con.close()


def test_only_the_changed_days_are_written_again(tmp_path: Path) -> None:
    warehouse = _history(tmp_path / "warehouse.duckdb")
    publish_dir = tmp_path / "publish"
    first = publish(warehouse, publish_dir, "20200820-first", workbooks="none").parent
    _same_as_warehouse(first, warehouse)

    # A correction for two days, a day withdrawn, a new day, and a unit renamed.
    _warehouse(
        warehouse,
        """
        update marts.by_day set installs = installs + 1
            where snapshot_date in (date '2020-08-05', date '2020-08-19');
        delete from marts.by_day where snapshot_date = date '2020-08-10';
        insert into marts.by_day select date '2020-08-21', '000', 2100, 300.0, '@new', null;
        update marts.units set name = '+Unit 1' where unit = '001';
        """,
    )
    second = publish(warehouse, publish_dir, "20200821-second", workbooks="none").parent
    _same_as_warehouse(second, warehouse)

    parts, before = second / ".parts" / "by_day", first / ".parts" / "by_day"
    written = {
        p.name
        for p in parts.iterdir()
        if not (before / p.name).exists() or not p.samefile(before / p.name)
    }
    assert written == {"2020-08-05.csv", "2020-08-19.csv", "2020-08-21.csv"}
    assert not (parts / "2020-08-10.csv").exists()
    assert len(list(parts.iterdir())) == DAYS + 1  # 20 days - 1 + 1, and the row without one
    assert (parts / "no-day.csv").samefile(before / "no-day.csv")
    record = json.loads((second / ".parts" / "by_day.json").read_text())
    assert list(record["groups"])[-1] == "no-day"
    assert record["groups"]["2020-08-21"][0] == 1
    # the unchanged mart keeps every file of the snapshot it replaced, linked
    for kind, suffix in (("csv", "csv"), ("parquet", "parquet")):
        assert (second / kind / f"constant.{suffix}").samefile(first / kind / f"constant.{suffix}")
        assert not (second / kind / f"by_day.{suffix}").samefile(first / kind / f"by_day.{suffix}")
    # text that starts like a formula, in the rewritten parts too
    units = (second / "csv" / "units.csv").read_text(encoding="utf-8")
    assert "001,'+Unit 1\n" in units
    new_day = (parts / "2020-08-21.csv").read_text(encoding="utf-8")
    assert new_day == "2020-08-21,000,2100,300.0,'@new,\n"

    # The same warehouse written whole, with nothing to reuse: the very same files.
    whole = publish(warehouse, tmp_path / "whole", "20200821-whole", workbooks="none").parent
    for table in ("by_day", "units", "constant"):
        csv_file = f"csv/{table}.csv"
        assert (second / csv_file).read_bytes() == (whole / csv_file).read_bytes(), table
    assert (second / ".parts" / "by_day.json").read_text() == (
        whole / ".parts" / "by_day.json"
    ).read_text()


def test_a_changed_column_or_a_damaged_base_writes_the_mart_whole(tmp_path: Path) -> None:
    warehouse = _history(tmp_path / "warehouse.duckdb")
    publish_dir = tmp_path / "publish"
    first = publish(warehouse, publish_dir, "20200820-first", workbooks="none").parent
    # a new column in one mart; a part of another lost from the current snapshot
    _warehouse(warehouse, "alter table marts.units add column district varchar default '00'")
    lost = first / ".parts" / "constant" / "2020-08-03.csv"
    lost.unlink()
    second = publish(warehouse, publish_dir, "20200821-second", workbooks="none").parent
    _same_as_warehouse(second, warehouse)
    header, _ = _sorted_lines(second / "csv" / "units.csv")
    assert header == "unit,name,district"
    constant = second / ".parts" / "constant"
    old = first / ".parts" / "constant"
    assert not any(p.samefile(old / p.name) for p in constant.iterdir() if (old / p.name).exists())
    assert len(list(constant.iterdir())) == DAYS
    rows = list(csv.reader(io.StringIO((second / "csv" / "constant.csv").read_text())))
    assert rows[1:] == [[f"2020-08-{1 + d:02d}", str(d)] for d in range(DAYS)]


def test_a_copy_on_write_snapshot_is_as_small_as_a_whole_one_after_many_runs(
    tmp_path: Path,
) -> None:
    """Deleting and inserting days in a copy of the last snapshot, run after run, does not
    make the file grow without bound."""
    warehouse = _history(tmp_path / "warehouse.duckdb")
    _warehouse(
        warehouse,
        "insert into marts.by_day select date '2020-08-01' + (i % 20)::int, "
        "lpad(i::varchar, 6, '0'), i, i / 3, 'bulk', null from range(200000) t(i)",
    )
    publish_dir = tmp_path / "publish"
    for run in range(8):
        _warehouse(
            warehouse,
            f"update marts.by_day set installs = installs + 1 "
            f"where snapshot_date >= date '2020-08-{10 + run:02d}'",
        )
        last = publish(warehouse, publish_dir, f"2020082{run}-run", workbooks="none").parent
    _same_as_warehouse(last, warehouse)
    whole = publish(warehouse, tmp_path / "whole", "20200829-whole", workbooks="none").parent
    grown = (last / "bluezone_marts.duckdb").stat().st_size
    assert grown <= 2 * (whole / "bluezone_marts.duckdb").stat().st_size
