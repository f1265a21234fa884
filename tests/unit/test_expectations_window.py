"""Suites with a window column validate only the run's rebuild window, read one relation at
a time; derived (per-day count) suites and suites without one see every row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.quality.expectations import (
    _read_frame,
    load_suite_definitions,
    rebuild_window_start,
)


def test_window_columns_are_declared_and_limit_the_rows(tmp_path: Path) -> None:
    definitions = {d.name: d for d in load_suite_definitions()}
    assert definitions["marts_fct_coverage_daily"].window_column == "snapshot_date"
    assert definitions["raw_unit_reports"].window_column == "report_date"
    assert definitions["marts_dim_admin_units"].window_column is None
    assert definitions["marts_fct_coverage_daily_daily_counts"].window_column is None

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts; create schema ops")
    con.execute(
        "create table marts.fct_coverage_daily as select d::date as snapshot_date, 1 as x "
        "from range(date '2020-08-01', date '2020-08-11', interval 1 day) t(d)"
    )
    assert rebuild_window_start(con, "r2") is None  # no ops.builds yet
    con.execute(
        "create table ops.builds (run_id varchar, run_date date, rebuild_from date, "
        "full_refresh boolean, finished_at timestamptz)"
    )
    con.execute(
        "insert into ops.builds values "
        "('r1', '2020-08-09', '2020-08-01', true, '2020-08-10 02:00+07'), "
        "('r2', '2020-08-10', '2020-08-05', false, '2020-08-11 02:00+07'), "
        "('r2', '2020-08-10', '2020-08-07', false, '2020-08-11 03:00+07')"
    )
    start = rebuild_window_start(con, "r2")
    assert start == date(2020, 8, 7)  # the run's latest build
    coverage = definitions["marts_fct_coverage_daily"]
    frame = _read_frame(con, coverage, start)
    assert sorted(frame["snapshot_date"]) == [date(2020, 8, d) for d in (7, 8, 9, 10)]
    assert len(_read_frame(con, coverage, None)) == 10
    con.close()
