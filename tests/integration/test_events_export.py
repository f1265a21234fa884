"""The event-level export: events are checked and aggregated at load time, and the marts
show the same cumulative daily figures a file export would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.pipeline import run_daily
from tests.conftest import environment_for

# (event_time UTC, device, event, district, has_phone); local day = UTC + 7 h.
DAY_4 = [
    ("2020-08-03T17:00:00Z", "a1", "install", "883", True),  # 00:00 local on the 4th
    ("2020-08-04T03:00:00Z", "a2", "install", "883", False),
    ("2020-08-04T05:00:00Z", "a3", "install", "886", True),
    ("2020-08-04T16:59:59Z", "a4", "install", "886", True),  # 23:59:59 local
    ("2020-08-04T17:00:00Z", "a5", "install", "886", True),  # the 5th locally: rejected
    ("2020-08-04T06:00:00Z", "a6", "reinstall", "886", True),  # unknown event: rejected
    ("2020-08-04T06:00:00Z", "a7", "install", "999", True),  # unknown district: rejected
    ("2020-08-04T07:00:00Z", "a8", "install", None, False),  # no district: nation only
]
DAY_5 = [
    ("2020-08-05T02:00:00Z", "b1", "install", "883", True),
    ("2020-08-05T03:00:00Z", "a2", "uninstall", "883", False),
    ("2020-08-05T04:00:00Z", "b2", "install", "883", True),
]


def write_events(path: Path, events: list[tuple]) -> None:
    times, devices, kinds, districts, phones = zip(*events, strict=True)
    table = pa.table(
        {
            "event_time": pa.array(
                [pa.scalar(t.replace("Z", "+00:00")).as_py() for t in times]
            ).cast(pa.timestamp("us", tz="UTC")),
            "device_id": list(devices),
            "event": list(kinds),
            "district_code": list(districts),
            "has_phone": list(phones),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def test_events_become_daily_cumulative_figures(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    installs = Path(env["BLUEZONE_LANDING_URL"]) / "installs"
    write_events(installs / "install_events_20200804.parquet", DAY_4)
    write_events(installs / "install_events_20200805.parquet", DAY_5)
    settings = load_settings(env)
    run = run_daily(settings, date(2020, 8, 5), run_id="events")
    assert run.ingested["statuses"] == {"partial": 1, "loaded": 1}
    warehouse = duckdb.connect(str(settings.warehouse_path), read_only=True)
    # One rejection per kind of bad event and district: its first row (counted from 1) and
    # value, the number of events, and the sender's message naming them.
    assert warehouse.execute(
        "select check_id, column_name, row_number, raw_value, header, reason, message "
        "from raw.rejected_rows order by 2"
    ).fetchall() == [
        (
            "out_of_range_date",
            "day",
            5,
            "2020-08-04T17:00:00Z",
            "event_time",
            "1 event(s): event_time falls outside the file's day (local time)",
            'Tệp "install_events_20200804.parquet", cột "event_time": 1 sự kiện có event_time '
            "không thuộc ngày 04/08/2020 theo giờ Việt Nam (dòng, đếm từ 1: 5 "
            '"2020-08-04T17:00:00Z"); mỗi tệp chỉ chứa sự kiện của ngày ghi trong tên tệp, tính '
            "theo giờ Việt Nam.",
        ),
        (
            "unknown_unit",
            "district_code",
            7,
            "999",
            "district_code",
            "1 event(s): district_code is not a known district",
            'Tệp "install_events_20200804.parquet", cột "district_code": 1 sự kiện có '
            'district_code không phải mã huyện đã biết (dòng, đếm từ 1: 7 "999"); hãy ghi mã '
            "huyện GSO 3 chữ số, hoặc để trống.",
        ),
        (
            "malformed_file",
            "event",
            6,
            "reinstall",
            "event",
            "1 event(s): event must be install or uninstall",
            'Tệp "install_events_20200804.parquet", cột "event": 1 sự kiện có event không phải '
            'install hay uninstall (dòng, đếm từ 1: 6 "reinstall"); hãy ghi install hoặc '
            "uninstall.",
        ),
    ]
    warehouse.close()
    snapshot = duckdb.connect(run.snapshot, read_only=True)
    figures = snapshot.execute(
        "select snapshot_date, level, unit_code, installs, installs_with_phone, new_installs "
        "from marts.fct_coverage_daily where level in ('district', 'province') order by all"
    ).fetchall()
    snapshot.close()
    assert figures == [
        (date(2020, 8, 4), "district", "883", 2, 1, None),
        (date(2020, 8, 4), "district", "886", 2, 2, None),
        (date(2020, 8, 4), "province", "89", 4, 3, None),
        (date(2020, 8, 5), "district", "883", 3, 3, 1.0),
        (date(2020, 8, 5), "district", "886", 2, 2, 0.0),
        (date(2020, 8, 5), "province", "89", 5, 5, 1.0),
    ]


def test_event_rejections_name_the_first_rows_and_count_them_all(tmp_path: Path) -> None:
    """Bad events are not stored one by one: each kind (per district) names its first five
    rows, counted from 1, with their values, and the number of them all; in English when
    asked."""
    env = environment_for(tmp_path) | {"BLUEZONE_ALERT_LANGUAGE": "en"}
    good = ("2020-08-04T03:00:00Z", "g", "install", "883", True)
    events = [good]  # row 1
    events += [("2020-08-04T03:00:00Z", f"k{n}", f"re-{n}", "886", True) for n in range(7)]
    events += [("2020-08-04T03:00:00Z", "", "install", "883", False)] * 2  # rows 9, 10
    landing = Path(env["BLUEZONE_LANDING_URL"])
    write_events(landing / "installs/install_events_20200804.parquet", events)
    settings = load_settings(env)
    summary = ingest_landing(settings, run_id="events")
    assert summary.statuses == {"partial": 1}
    assert (summary.rows_loaded, summary.rows_rejected) == (1, 9)
    warehouse = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rejected = warehouse.execute(
            "select column_name, row_number, raw_value, reason, message from raw.rejected_rows "
            "order by 1"
        ).fetchall()
    finally:
        warehouse.close()
    assert rejected == [
        (
            "device_id",
            9,
            "",
            "2 event(s): device_id is empty",
            'File "install_events_20200804.parquet", column "device_id": 2 event(s) with an '
            "empty device_id (rows, counting from 1: 9, 10); every event needs a device_id.",
        ),
        (
            "event",
            2,
            "re-0",
            "7 event(s): event must be install or uninstall",
            'File "install_events_20200804.parquet", column "event": 7 event(s) whose event is '
            'neither install nor uninstall (rows, counting from 1: 2 "re-0", 3 "re-1", 4 '
            '"re-2", 5 "re-3", 6 "re-4", …); write install or uninstall.',
        ),
    ]
