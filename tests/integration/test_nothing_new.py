"""A daily run with nothing new does nothing and says so (DESIGN §8): after ingestion, a
run for the same day on the same landed files, code and settings as the latest completed
run rebuilds, checks and publishes nothing; its snapshot and report stand. A new file, a
different day, an explicit rebuild or a missing output runs every step."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse.config import Settings
from bluezone_warehouse.pipeline import run_daily

DAY = date(2020, 8, 2)
HEADER = "snapshot_date,level,unit_code,installs,installs_with_phone\n"


def land(settings: Settings, relative: str, text: str) -> None:
    path = Path(settings.landing_url) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    arrived = datetime(2020, 8, 2, 9, 0, tzinfo=UTC).timestamp()
    os.utime(path, (arrived, arrived))


def ops(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def current_snapshot(settings: Settings) -> str:
    return (settings.publish_dir / "current").resolve().name


def test_a_run_with_nothing_new_rebuilds_nothing_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    land(settings, "installs/installs_20200801.csv", HEADER + "2020-08-01,province,89,1000,\n")
    land(settings, "installs/installs_20200802.csv", HEADER + "2020-08-02,province,89,1100,\n")
    first = run_daily(settings, DAY, run_id="first")
    assert first.unchanged_since is None and first.built["success"] > 0
    report = Path(first.report).read_bytes()

    with caplog.at_level(logging.INFO, logger="bluezone_warehouse.pipeline"):
        again = run_daily(settings, DAY, run_id="again")
    assert again.unchanged_since == "first"
    published = Path(first.snapshot).resolve()
    assert published.parent.name == "20200802-first"
    assert (again.built, again.checked, again.snapshot, again.report) == (
        {},
        {},
        str(published),
        first.report,
    )
    assert list(again.seconds) == ["ingest", "changes"]
    assert any(
        "nothing new since run first for 2020-08-02" in record.getMessage()
        and "nothing rebuilt, checked or published" in record.getMessage()
        for record in caplog.records
    )
    # no dbt, no Great Expectations, no new snapshot or report
    assert ops(settings, "select distinct run_id from ops.dbt_results order by 1") == [("first",)]
    assert ops(settings, "select distinct run_id from ops.gx_results order by 1") == [("first",)]
    assert current_snapshot(settings) == "20200802-first"
    assert Path(first.report).read_bytes() == report

    # an explicit rebuild runs every step
    forced = run_daily(settings, DAY, run_id="forced", rebuild=True)
    assert forced.unchanged_since is None and forced.built["success"] > 0
    assert current_snapshot(settings) == "20200802-forced"

    # a new file (even a rejected one) is something new
    land(settings, "reports/note.txt", "not a report\n")
    with_file = run_daily(settings, DAY, run_id="with-file")
    assert with_file.unchanged_since is None and with_file.built["success"] > 0
    assert run_daily(settings, DAY, run_id="quiet").unchanged_since == "with-file"

    # outputs that are gone are made again
    Path(with_file.report).unlink()
    remade = run_daily(settings, DAY, run_id="remade")
    assert remade.unchanged_since is None and Path(remade.report).exists()

    # the next day, on the same files, is a run of its own
    next_day = run_daily(settings, date(2020, 8, 3), run_id="next-day")
    assert next_day.unchanged_since is None and next_day.built["success"] > 0
    assert ops(settings, "select run_id, run_date from ops.daily_runs order by finished_at") == [
        ("first", DAY),
        ("forced", DAY),
        ("with-file", DAY),
        ("remade", DAY),
        ("next-day", date(2020, 8, 3)),
    ]
