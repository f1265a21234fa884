"""The alerting DAGs under a real `airflow dags test`: the deadline run writes one digest per
province to the outbox, and a daily task that fails for good sends a pipeline-failure alert."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bluezone_warehouse.cli import airflow_dags_test
from tests.conftest import environment_for

pytestmark = pytest.mark.airflow


def test_the_deadline_run_sends_one_digest_per_province(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    reports = Path(env["BLUEZONE_LANDING_URL"]) / "reports"
    reports.mkdir(parents=True)
    (reports / "hai-duong.csv").write_text(
        "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt\n05/08/2020,288,05/08/2020 14:00,1\n"
    )
    os.utime(reports / "hai-duong.csv", (1596610800, 1596610800))  # 14:00 local
    completed = airflow_dags_test(
        "bluezone_report_deadlines",
        "2020-08-05T16:00:00+07:00",
        quiet=True,
        conf={"send": True},
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    outbox = Path(env["BLUEZONE_OUTBOX_DIR"])
    digests = sorted(p.name for p in (outbox / "2020-08-05").iterdir())
    assert len(digests) == 62 and "89_deadline.md" not in digests
    hai_duong = (outbox / "2020-08-05" / "30_deadline.md").read_text(encoding="utf-8")
    assert hai_duong.startswith("# [Bluezone] Hải Dương: 21 đơn vị chưa báo cáo ngày 05/08/2020")
    assert "| 288 |" not in hai_duong


def test_a_failing_daily_task_sends_a_failure_alert(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the warehouse cannot live under a file")
    env["BLUEZONE_WAREHOUSE_PATH"] = str(blocker / "bluezone.duckdb")
    env["BLUEZONE_TASK_RETRY_DELAY_SECONDS"] = "1"
    completed = airflow_dags_test(
        "bluezone_daily", "2020-08-06T02:00:00+07:00", quiet=True, env={**os.environ, **env}
    )
    assert completed.returncode != 0
    lines = (Path(env["BLUEZONE_OUTBOX_DIR"]) / "alerts.jsonl").read_text().splitlines()
    (alert,) = [json.loads(line) for line in lines]
    assert alert["kind"] == "pipeline_failure:bluezone_daily.ingest"
    assert alert["subject"] == "[Bluezone] bluezone_daily.ingest failed for 05/08/2020"
    assert "File exists" in alert["payload"]["error"]
