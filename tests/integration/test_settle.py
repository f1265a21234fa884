"""A file is never read half-way (DESIGN §3.3): a file changed within the settle time is read
only when its format proves it whole (an XLSX's zip directory, a JSON document, Parquet's
footer, gzip's trailer); a CSV, which cannot, waits until it has settled. The deadline wait
(``settled_at``) waits only for what is still settling."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bluezone_warehouse.ingest as ingest_module
from bluezone_warehouse import pipeline
from bluezone_warehouse.config import LOCAL_TZ, Settings
from bluezone_warehouse.ingest import ingest_landing, provinces_awaited, settled_at
from bluezone_warehouse.landing import LandingZone
from tests.conftest import land, query

HEADER = ["Ngày báo cáo", "Mã đơn vị", "Thời gian gửi", "Số lượng cài đặt"]


def workbook(code: str, installs: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["04/08/2020", code, "04/08/2020 15:10", installs])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_report(code: str, installs: int) -> bytes:
    return (",".join(HEADER) + f"\n04/08/2020,{code},04/08/2020 15:10,{installs}\n").encode()


def json_report(code: str, installs: int) -> bytes:
    record = dict(zip(HEADER, ["04/08/2020", code, "04/08/2020 15:10", installs], strict=True))
    return json.dumps([record], ensure_ascii=False).encode()


def read_reports(settings: Settings) -> dict[str, int]:
    rows = query(
        settings,
        "select f.path, r.installs_reported from raw.unit_reports r "
        "join raw.landing_files f using (file_id)",
    )
    return {path.removeprefix("reports/"): installs for path, installs in rows}


@pytest.fixture
def settling(settings: Settings) -> Settings:
    return dataclasses.replace(settings, settle_seconds=60)


def test_only_whole_files_are_read_before_they_settle(settling: Settings) -> None:
    now = datetime.now(UTC)
    xlsx = workbook("288", 101)
    land(settling, "reports/whole.xlsx", xlsx, now)
    land(settling, "reports/half.xlsx", workbook("294", 102)[:1500], now)
    land(settling, "reports/whole.json", json_report("290", 103), now)
    land(settling, "reports/half.json", json_report("291", 104)[:-3], now)
    land(settling, "reports/young.csv", csv_report("292", 105), now)
    land(settling, "reports/old.csv", csv_report("293", 106), now - timedelta(seconds=61))

    summary = ingest_landing(settling, run_id="r1")

    assert summary.files_listed == 6
    assert read_reports(settling) == {"whole.xlsx": 101, "whole.json": 103, "old.csv": 106}

    # The writer finishes: the same files, now whole, are read by the next run; the CSV
    # only once it has not changed for the settle time.
    later = now + timedelta(seconds=2)
    land(settling, "reports/half.xlsx", workbook("294", 102), later)
    land(settling, "reports/half.json", json_report("291", 104), later)
    ingest_landing(settling, run_id="r2")
    assert read_reports(settling) == {
        "whole.xlsx": 101,
        "whole.json": 103,
        "old.csv": 106,
        "half.xlsx": 102,
        "half.json": 104,
    }

    csv = Path(settling.landing_url) / "reports/young.csv"
    settled = now - timedelta(seconds=61)
    os.utime(csv, (settled.timestamp(), settled.timestamp()))
    ingest_landing(settling, run_id="r3")
    assert read_reports(settling)["young.csv"] == 105


def test_the_deadline_waits_only_for_what_is_still_settling(settling: Settings) -> None:
    deadline = datetime.now(UTC).replace(microsecond=0)
    land(settling, "reports/a.xlsx", workbook("288", 1), deadline - timedelta(seconds=1))
    land(settling, "reports/b.json", json_report("290", 2), deadline - timedelta(seconds=2))
    # arrived after the deadline: not waited for
    land(settling, "reports/after.csv", csv_report("293", 4), deadline + timedelta(seconds=5))
    assert settled_at(settling, deadline) is None

    assert provinces_awaited(settling, deadline) == set()

    land(settling, "reports/c.csv", csv_report("292", 3), deadline - timedelta(seconds=20))
    assert settled_at(settling, deadline) == deadline + timedelta(seconds=40)
    assert provinces_awaited(settling, deadline) == {"30"}  # its line names Hải Dương's unit
    # a half-written workbook names nobody yet: every province waits
    land(settling, "reports/d.xlsx", workbook("291", 5)[:900], deadline - timedelta(seconds=10))
    assert settled_at(settling, deadline) == deadline + timedelta(seconds=50)
    assert provinces_awaited(settling, deadline) is None


def test_exports_prove_themselves_whole_by_their_trailers(settling: Settings) -> None:
    zone = LandingZone(settling.landing_url)
    now = datetime.now(UTC)
    table = pa.table({"snapshot_date": ["2020-08-04"], "installs": [1]})
    out = io.BytesIO()
    pq.write_table(table, out)
    parquet = out.getvalue()
    packed = gzip.compress(b"snapshot_date,level,unit_code,installs\n" * 2000)
    land(settling, "installs/installs_20200804.parquet", parquet, now)
    land(settling, "installs/installs_20200805.parquet", parquet[:-10], now)
    land(settling, "installs/installs_20200806.csv.gz", packed, now)
    land(settling, "installs/installs_20200807.csv.gz", packed[: len(packed) // 2], now)
    land(settling, "installs/installs_20200808.csv", b"snapshot_date\n", now)
    # two members: cut at the first member's end it would read cleanly, so it cannot prove
    land(settling, "installs/installs_20200809.csv.gz", packed + packed, now)
    whole = {landed.name: zone.whole(landed) for landed in zone.list("installs")}
    assert whole == {
        "installs_20200804.parquet": True,
        "installs_20200805.parquet": False,
        "installs_20200806.csv.gz": True,
        "installs_20200807.csv.gz": False,
        "installs_20200808.csv": False,
        "installs_20200809.csv.gz": False,
    }
    # a hostile file is simply not whole, it never stops ingestion
    land(settling, "reports/deep.json", b"[" * 200_000, now)
    (deep,) = zone.list("reports")
    assert zone.whole(deep) is False
    # changed since it was listed: no longer the file that was proven whole
    listed = {landed.name: landed for landed in zone.list("installs")}
    land(settling, "installs/installs_20200804.parquet", parquet, now + timedelta(seconds=3))
    assert zone.whole(listed["installs_20200804.parquet"]) is False


DEADLINE = datetime(2020, 8, 5, 16, 0, tzinfo=LOCAL_TZ)


def report(kind: str, code: str, installs: int) -> bytes:
    row = ["05/08/2020", code, "05/08/2020 15:59", installs]
    if kind == "csv":
        return (",".join(HEADER) + "\n" + ",".join(map(str, row)) + "\n").encode()
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_deadline_holds_only_the_digest_a_settling_report_concerns(
    settling: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 16:00:05 a CSV from Hải Dương (30) that arrived at 15:59:50 is still settling: the
    other 61 provinces due at 16:00 get their digests at once, Hải Dương's waits until the
    CSV is read, and then says what the mart says: the unit reported on time."""
    clock = [DEADLINE + timedelta(seconds=5)]
    monkeypatch.setattr(ingest_module, "_now", lambda: clock[0])

    def sleep(seconds: float) -> None:  # the settle wait passes on the test's clock
        clock[0] += timedelta(seconds=seconds)

    monkeypatch.setattr(pipeline, "sleep", sleep)
    second = timedelta(seconds=1)
    land(settling, "reports/ha-noi.xlsx", report("xlsx", "001", 5000), DEADLINE - 5 * second)
    land(settling, "reports/hai-duong.csv", report("csv", "288", 7000), DEADLINE - 10 * second)

    refreshed = pipeline.refresh_today(settling, DEADLINE, "deadline", wait=False)
    assert refreshed["awaited"] == ["30"]
    assert read_reports(settling) == {"ha-noi.xlsx": 5000}  # the CSV is not read yet

    sent = pipeline.send_deadline_alerts(
        settling, DEADLINE, "deadline", send=True, refresh=False, awaited=refreshed["awaited"]
    )

    assert clock[0] == DEADLINE + timedelta(seconds=50)  # waited for the CSV to settle
    assert read_reports(settling) == {"ha-noi.xlsx": 5000, "hai-duong.csv": 7000}
    con = duckdb.connect(str(settling.warehouse_path), read_only=True)
    try:
        order = [
            code
            for (code,) in con.execute(
                "select scope_code from ops.alert_log where kind = 'deadline' order by logged_at"
            ).fetchall()
        ]
        missing_in_30 = {
            code
            for (code,) in con.execute(
                "select unit_code from marts.fct_reporting_compliance where report_date = "
                "'2020-08-05' and province_code = '30' and status_at_deadline = 'missing'"
            ).fetchall()
        }
        status_288 = con.execute(
            "select status_at_deadline from marts.fct_reporting_compliance "
            "where report_date = '2020-08-05' and unit_code = '288'"
        ).fetchone()
    finally:
        con.close()
    assert len(order) == 62 and order[-1] == "30" and "30" not in order[:-1]
    assert sent["sent"] == 62
    assert status_288 == ("on_time",)
    lines = (settling.outbox_dir / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    (digest,) = [
        entry
        for entry in map(json.loads, lines)
        if (entry["scope_code"], entry["kind"]) == ("30", "deadline")
    ]
    listed = {unit["unit_code"] for unit in digest["payload"]["missing"]}
    assert "288" not in missing_in_30 and listed == missing_in_30 and listed
