"""The incremental marts equal a full refresh: a campaign is delivered day by day (each
run sees only the files that had arrived by its start), then the same warehouse is rebuilt
with --full-refresh and every mart compared row for row."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb

from bluezone_devtools.simulate import FaultRates, deliver_until, simulate_campaign
from bluezone_warehouse import transform
from bluezone_warehouse.config import LOCAL_TZ, load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.pipeline import run_daily
from tests.conftest import environment_for, table_rows

START, END = date(2020, 8, 1), date(2020, 8, 8)


def test_daily_incremental_runs_equal_a_full_refresh(tmp_path: Path) -> None:
    simulated = tmp_path / "simulated"
    simulate_campaign(
        simulated, start=START, end=END, provinces=["30", "89"], seed=3, faults=FaultRates()
    )
    env = environment_for(tmp_path / "warehouse")
    settings = load_settings(env)
    landing = Path(settings.landing_url)
    day = START
    while day <= END:
        cutoff = datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=LOCAL_TZ)
        assert deliver_until(simulated, landing, cutoff) > 0
        ingest_landing(settings, run_id=f"daily-{day}")
        transform.build(settings, day, f"daily-{day}")
        day += timedelta(days=1)
    incremental = table_rows(settings.warehouse_path)
    assert len(incremental["fct_coverage_daily"]) > 0
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    starts = [row[0] for row in con.execute("select rebuild_from from ops.builds").fetchall()]
    con.close()
    assert starts[-1] == END - timedelta(days=transform.LOOKBACK_DAYS)
    transform.build(settings, END, "full-refresh", full_refresh=True)
    assert table_rows(settings.warehouse_path) == incremental


def test_a_late_file_for_an_old_day_is_rebuilt(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    settings = load_settings(env)
    installs = Path(settings.landing_url) / "installs"
    installs.mkdir(parents=True)
    header = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
    for day, value in ((1, 100), (2, 120), (3, 150)):
        (installs / f"installs_2020080{day}.csv").write_text(
            header + f"2020-08-0{day},province,89,{value},\n"
        )
    first = installs / "installs_20200802.csv"
    moved = tmp_path / "held-back.csv"
    first.rename(moved)  # day 2's export is late: days 1 and 3 only
    run_daily(settings, date(2020, 8, 3), run_id="day-3")
    moved.rename(first)  # it arrives later; the next run must rebuild day 2
    run_daily(settings, date(2020, 8, 4), run_id="day-4")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    province = con.execute(
        "select snapshot_date, installs, is_estimated from marts.fct_coverage_daily "
        "where level = 'province' order by snapshot_date"
    ).fetchall()
    con.close()
    assert province == [
        (date(2020, 8, 1), 100, False),
        (date(2020, 8, 2), 120, False),
        (date(2020, 8, 3), 150, False),
    ]


def test_a_report_sent_again_weeks_later_rebuilds_its_old_day(tmp_path: Path) -> None:
    """The same bytes as a report for the campaign's first day, landed again under another
    name on day 20: a delivery of that first day (duplicate content), far outside the
    look-back of day 20's run, and the marts still equal a full refresh."""
    simulated = tmp_path / "simulated"
    simulate_campaign(simulated, start=START, end=START, provinces=["89"], seed=5)
    settings = load_settings(environment_for(tmp_path / "warehouse"))
    landing = Path(settings.landing_url)
    assert deliver_until(simulated, landing, datetime(2020, 8, 2, 2, 0, tzinfo=LOCAL_TZ)) > 0
    day_19, day_20 = START + timedelta(days=18), START + timedelta(days=19)
    ingest_landing(settings, run_id="first")
    transform.build(settings, day_19, "day-19")
    sent = sorted((landing / "reports").rglob("*.csv"))[0]
    again = landing / "reports" / "sent-again.csv"
    again.write_bytes(sent.read_bytes())
    arrived = datetime(2020, 8, 20, 9, 0, tzinfo=LOCAL_TZ).timestamp()
    os.utime(again, (arrived, arrived))
    assert ingest_landing(settings, run_id="again").statuses == {"duplicate": 1}
    transform.build(settings, day_20, "day-20")
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    (start,) = con.execute("select rebuild_from from ops.builds where run_id = 'day-20'").fetchone()
    resent = con.execute(
        "select unit_code, deliveries_count from marts.fct_reporting_compliance "
        "where report_date = ? and deliveries_count > 1",
        [START],
    ).fetchall()
    con.close()
    incremental = table_rows(settings.warehouse_path)
    transform.build(settings, day_20, "full-refresh", full_refresh=True)
    assert table_rows(settings.warehouse_path) == incremental
    assert len(resent) >= 1  # the day's compliance counts the delivery sent again
    assert start == START - timedelta(days=transform.LOOKBACK_DAYS)
