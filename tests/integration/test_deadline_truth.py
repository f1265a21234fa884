"""One truth about who reported at the deadline (DESIGN §4, §6): a day of arrivals, landed
hour by hour, goes through real ``bluezone_report_deadlines`` runs under ``airflow dags
test``; every digest lists exactly the units whose ``status_at_deadline`` (or, for the
escalation, ``status_at_escalation``) in the published compliance mart is missing or
rejected, unit for unit, and the mart's statuses, counts and figures are the ones worked out
by hand below from the arrival times."""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse.cli import airflow_dags_test
from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR
from bluezone_warehouse.warehouse import CURRENT_LINK, SNAPSHOT_FILE
from tests.conftest import environment_for

pytestmark = pytest.mark.airflow

DAY = date(2020, 8, 5)
HEADER = "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt"


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(DAY, time(hh, mm, ss), tzinfo=LOCAL_TZ)


def units_of(province: str) -> list[str]:
    with (SEEDS_DIR / "reporting_units.csv").open(encoding="utf-8") as handle:
        return [r["unit_code"] for r in csv.DictReader(handle) if r["province_code"] == province]


with (SEEDS_DIR / "province_reporting.csv").open(encoding="utf-8") as _handle:
    DEADLINES = {r["province_code"]: r["deadline_local"] for r in csv.DictReader(_handle)}
with (SEEDS_DIR / "reporting_units.csv").open(encoding="utf-8") as _handle:
    CONTACTS = {r["unit_code"]: r["contact_email"] for r in csv.DictReader(_handle)}


@dataclass(frozen=True)
class Delivery:
    name: str
    arrives: datetime
    body: str


def report(unit: str, claimed: str, installs: str) -> str:
    return f"{HEADER}\n05/08/2020,{unit},{claimed},{installs}\n"


# Hải Dương (30) has a 16:00 deadline, An Giang (89) 15:00; escalations two hours later.
HD = units_of("30")
AG = units_of("89")
CLAIMS_EARLY, CLAIMS_LATE, A_B_A, REJECTED, CORRECTED, NOTHING = HD[:6]
JUST_IN, JUST_OUT = HD[6:8]
AG_LATE_ARRIVAL = AG[0]

DELIVERIES = [
    # everyone else reports at 10:00
    Delivery(
        "30_on_time.csv",
        at(10, 0),
        HEADER + "\n" + "".join(f"05/08/2020,{u},05/08/2020 10:00,500\n" for u in HD[8:]),
    ),
    Delivery(
        "89_on_time.csv",
        at(10, 0),
        HEADER + "\n" + "".join(f"05/08/2020,{u},05/08/2020 10:00,500\n" for u in AG[1:]),
    ),
    # claims 14:50, arrives 16:30: on time, but not in by the deadline
    Delivery("claims_early.csv", at(16, 30), report(CLAIMS_EARLY, "05/08/2020 14:50", "110")),
    # claims 17:00, arrives 15:30: sent when it arrived, so on time
    Delivery("claims_late.csv", at(15, 30), report(CLAIMS_LATE, "05/08/2020 17:00", "120")),
    # A, then B, then A's exact bytes again under another name: A's figures, 3 submissions
    Delivery("a.csv", at(10, 0), report(A_B_A, "05/08/2020 10:00", "130")),
    Delivery("b.csv", at(11, 0), report(A_B_A, "05/08/2020 11:00", "131")),
    Delivery("a_again.csv", at(12, 0), report(A_B_A, "05/08/2020 10:00", "130")),
    # a figure nobody can read: rejected, and the digest says so
    Delivery("rejected.csv", at(14, 0), report(REJECTED, "05/08/2020 14:00", "mười")),
    # rejected before the deadline, corrected after it
    Delivery("corrected_1.csv", at(15, 0), report(CORRECTED, "05/08/2020 15:00", "1O0")),
    Delivery("corrected_2.csv", at(16, 20), report(CORRECTED, "05/08/2020 16:20", "100")),
    # the boundary: a second before and after the deadline
    Delivery("just_in.csv", at(15, 59, 59), report(JUST_IN, "", "140")),
    Delivery("just_out.csv", at(16, 0, 1), report(JUST_OUT, "", "150")),
    # An Giang: claims 14:00, arrives 15:10, after its 15:00 deadline
    Delivery("ag_late.csv", at(15, 10), report(AG_LATE_ARRIVAL, "05/08/2020 14:00", "160")),
]

# (status, status_at_deadline, status_at_escalation, submissions, deliveries, installs)
EXPECTED = {
    CLAIMS_EARLY: ("on_time", "missing", "on_time", 1, 1, 110),
    CLAIMS_LATE: ("on_time", "on_time", "on_time", 1, 1, 120),
    A_B_A: ("on_time", "on_time", "on_time", 3, 3, 130),
    REJECTED: ("rejected", "rejected", "rejected", 0, 1, None),
    CORRECTED: ("late", "rejected", "late", 1, 2, 100),
    NOTHING: ("missing", "missing", "missing", 0, 0, None),
    JUST_IN: ("on_time", "on_time", "on_time", 1, 1, 140),
    JUST_OUT: ("late", "missing", "late", 1, 1, 150),
    AG_LATE_ARRIVAL: ("on_time", "missing", "on_time", 1, 1, 160),
}

# The runs of the day, in order: (local time, the digest kind it sends per province).
RUNS = [
    (at(15, 0), "deadline"),
    (at(16, 0), "deadline"),
    (at(17, 0), "escalation"),
    (at(18, 0), "escalation"),
]


def land(landing: Path, delivery: Delivery) -> None:
    path = landing / "reports" / delivery.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(delivery.body, encoding="utf-8")
    os.utime(path, (delivery.arrives.timestamp(), delivery.arrives.timestamp()))


@pytest.fixture(scope="module")
def day_replayed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("deadline-truth")
    env = environment_for(root)
    landing = Path(env["BLUEZONE_LANDING_URL"])
    published: dict[datetime, dict[str, tuple]] = {}
    for moment, _ in RUNS:
        for delivery in DELIVERIES:  # what has arrived by this run, hour by hour
            if delivery.arrives <= moment and not (landing / "reports" / delivery.name).exists():
                land(landing, delivery)
        completed = airflow_dags_test(
            "bluezone_report_deadlines",
            moment.isoformat(),
            quiet=True,
            conf={"send": True},
            env={**os.environ, **env},
        )
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        snapshot = Path(env["BLUEZONE_PUBLISH_DIR"]) / CURRENT_LINK / SNAPSHOT_FILE
        con = duckdb.connect(str(snapshot), read_only=True)
        try:
            published[moment] = {
                row[0]: row[1:]
                for row in con.execute(
                    "select unit_code, province_code, status, status_at_deadline, "
                    "status_at_escalation, submissions_count, deliveries_count, installs_reported"
                    " from marts.fct_reporting_compliance where report_date = ?",
                    [DAY],
                ).fetchall()
            }
        finally:
            con.close()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        consolidation = con.execute(
            "select unit_code, installs_reported, installs_export, export_day, "
            "coverage_population, sent_at_local, status, as_of_local "
            "from marts.fct_province_consolidation where report_date = ? and province_code = ?"
            " order by unit_kind, unit_code",
            [DAY, "30"],
        ).fetchall()
    finally:
        con.close()
    digests = [
        json.loads(line)
        for line in (Path(env["BLUEZONE_OUTBOX_DIR"]) / "alerts.jsonl").read_text().splitlines()
    ]
    return {
        "published": published,
        "digests": digests,
        "consolidation": consolidation,
        "publish_dir": Path(env["BLUEZONE_PUBLISH_DIR"]),
    }


def test_every_digest_equals_the_marts_status_unit_for_unit(day_replayed: dict) -> None:
    column = {"deadline": 2, "escalation": 3}
    sent = defaultdict(dict)
    for digest in day_replayed["digests"]:
        payload = digest["payload"]
        if payload["kind"] not in column:
            continue
        sent[payload["kind"]][payload["province_code"]] = {
            m["unit_code"]: m["status"] for m in payload["missing"]
        }
    checked = 0
    for moment, kind in RUNS:
        mart = day_replayed["published"][moment]
        due = {
            province
            for _, (province, *_) in mart.items()
            if _deadline_of(province, kind) == moment.strftime("%H:%M")
        }
        assert due, moment
        for province in due:
            expected = {
                unit: row[column[kind]]
                for unit, row in mart.items()
                if row[0] == province and row[column[kind]] in ("missing", "rejected")
            }
            assert sent[kind].get(province, {}) == expected, (moment, kind, province)
            checked += 1
    assert checked == 63 * 2  # every province's deadline digest and escalation


def _deadline_of(province: str, kind: str) -> str:
    deadline = DEADLINES[province]
    if kind == "escalation":  # two hours later (the default escalation delay)
        return f"{int(deadline[:2]) + 2:02d}{deadline[2:]}"
    return deadline


def test_the_mart_holds_the_hand_worked_statuses_and_figures(day_replayed: dict) -> None:
    final = day_replayed["published"][RUNS[-1][0]]
    for unit, want in EXPECTED.items():
        assert final[unit][1:] == want, unit
    assert {final[u][1] for u in HD[8:] + AG[1:]} == {"on_time"}


def test_the_hai_duong_digest_names_the_rejection_and_its_reason(day_replayed: dict) -> None:
    (digest,) = [
        d
        for d in day_replayed["digests"]
        if d["payload"]["kind"] == "deadline" and d["payload"]["province_code"] == "30"
    ]
    by_unit = {m["unit_code"]: m for m in digest["payload"]["missing"]}
    assert sorted(by_unit) == sorted([CLAIMS_EARLY, REJECTED, CORRECTED, NOTHING, JUST_OUT])
    assert by_unit[NOTHING]["status"] == "missing"
    assert by_unit[REJECTED]["status"] == "rejected"
    assert "mười" in by_unit[REJECTED]["rejection_reason"]
    text = Path(digest["file"]).read_text(encoding="utf-8")
    assert f"| {REJECTED} |" in text and "đã gửi nhưng bị từ chối: " in text
    assert f"| {NOTHING} |" in text and "| chưa gửi |" in text


def test_each_rejected_delivery_gets_one_receipt_in_vietnamese(day_replayed: dict) -> None:
    receipts = [d for d in day_replayed["digests"] if d["payload"]["kind"] == "receipt"]
    by_file = {r["payload"]["file"]: r for r in receipts}
    # four runs saw them; one receipt each, to the unit's own contact
    assert sorted(r["payload"]["file"] for r in receipts) == [
        "reports/corrected_1.csv",
        "reports/rejected.csv",
    ]
    rejected = by_file["reports/rejected.csv"]
    assert rejected["payload"]["unit_code"] == REJECTED
    assert rejected["to"] == [CONTACTS[REJECTED]]
    assert rejected["subject"].endswith('báo cáo trong tệp "rejected.csv" chưa được chấp nhận')
    (problem,) = rejected["payload"]["problems"]
    assert "rejected.csv" in problem and "mười" in problem and "Số lượng cài đặt" in problem
    text = Path(rejected["file"]).read_text(encoding="utf-8")
    assert "chưa được tính cho đến khi đơn vị gửi lại bản đã sửa" in text
    corrected = by_file["reports/corrected_1.csv"]
    assert corrected["payload"]["unit_code"] == CORRECTED
    assert "1O0" in corrected["payload"]["problems"][0]


STATUS_VI = {
    "on_time": "đúng hạn",
    "late": "muộn",
    "missing": "chưa báo cáo",
    "rejected": "bị từ chối",
}


def test_the_consolidation_file_equals_the_mart(day_replayed: dict) -> None:
    from openpyxl import load_workbook

    folder = day_replayed["publish_dir"] / "consolidation" / DAY.isoformat()
    sheet = load_workbook(folder / "30.xlsx").active
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "STT")
    mart = day_replayed["consolidation"]
    assert len(mart) == len(HD)
    for offset, (unit, reported, exported, export_day, coverage, sent, status, _) in enumerate(
        mart, 1
    ):
        cells = [sheet.cell(header + offset, column).value for column in range(1, 10)]
        assert cells[0] == offset and cells[1] == unit, offset
        assert cells[3] == reported and cells[4] == exported, unit
        assert (cells[5].date() if cells[5] else None) == export_day, unit
        assert cells[6] == (pytest.approx(coverage) if coverage is not None else None), unit
        assert cells[7] == sent.replace(microsecond=0) if sent else cells[7] is None, unit
        assert cells[8] == STATUS_VI[status], unit
        assert sheet.cell(header + offset, 4).number_format == "#,##0"
    totals_row = header + len(mart) + 1
    assert sheet.cell(totals_row, 3).value == "Tổng cộng"
    assert sheet.cell(totals_row, 4).value == sum(r[1] for r in mart if r[1] is not None)
    # every run of the day rewrote it; the earlier ones are kept with their as-of time
    assert mart[0][7] == datetime(2020, 8, 5, 18, 0)
    kept = sorted(p.name for p in (folder / "versions").glob("30_*.xlsx"))
    assert kept == ["30_20200805T1500.xlsx", "30_20200805T1600.xlsx", "30_20200805T1700.xlsx"]
    assert (folder / "30.html").exists()


def test_the_digest_attaches_and_links_the_consolidation(day_replayed: dict) -> None:
    (digest,) = [
        d
        for d in day_replayed["digests"]
        if d["payload"]["kind"] == "deadline" and d["payload"]["province_code"] == "30"
    ]
    folder = day_replayed["publish_dir"] / "consolidation" / DAY.isoformat()
    assert digest["payload"]["consolidation"] == [
        str(folder / "30.xlsx"),
        str(folder / "30.html"),
    ]
