"""The alerting DAGs under a real `airflow dags test`: the deadline run writes one digest per
province to the outbox, and a daily task that fails for good sends a pipeline-failure alert
through its on_failure_callback notifier, on the outbox and, with connections resolved by
Airflow inside the task, through the SMTP and Apprise providers' hooks to real local
servers."""

from __future__ import annotations

import json
import os
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bluezone_warehouse.cli import airflow_dags_test
from bluezone_warehouse.config import airflow_environment
from tests.conftest import airflow, environment_for
from tests.integration.test_alerts import SENDER, Mailbox, Webhook, smtp_uri
from tests.integration.test_landing_s3 import free_port

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Airflow home of these tests' own, its SQLite metadata migrated once."""
    home = str(tmp_path_factory.mktemp("airflow"))
    airflow(airflow_environment({**os.environ, "AIRFLOW_HOME": home}), "db", "migrate")
    return home


def test_the_deadline_run_sends_one_digest_per_province(tmp_path: Path, airflow_home: str) -> None:
    env = {**environment_for(tmp_path), "AIRFLOW_HOME": airflow_home}
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


def test_a_failing_daily_task_sends_a_failure_alert(tmp_path: Path, airflow_home: str) -> None:
    env = {**environment_for(tmp_path), "AIRFLOW_HOME": airflow_home}
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the warehouse cannot live under a file")
    env["BLUEZONE_WAREHOUSE_PATH"] = str(blocker / "bluezone.duckdb")
    env["BLUEZONE_TASK_RETRY_DELAY_SECONDS"] = "1"
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    Webhook.received, Webhook.paths, Webhook.fail = [], [], False
    apprise = {
        "conn_type": "apprise",
        "extra": {
            "config": {
                "path": f"json://127.0.0.1:{http.server_address[1]}/failures",
                "tag": "VN",  # pipeline-wide alerts only
            }
        },
    }
    env["BLUEZONE_ALERT_CHANNELS"] = "outbox,smtp,apprise"
    env["AIRFLOW_CONN_BLUEZONE_SMTP"] = smtp_uri(smtp.port)
    env["AIRFLOW_CONN_BLUEZONE_APPRISE"] = json.dumps(apprise)
    try:
        completed = airflow_dags_test(
            "bluezone_daily", "2020-08-06T02:00:00+07:00", quiet=True, env={**os.environ, **env}
        )
    finally:
        smtp.stop()
        http.shutdown()
    assert completed.returncode != 0
    lines = (Path(env["BLUEZONE_OUTBOX_DIR"]) / "alerts.jsonl").read_text().splitlines()
    (alert,) = [json.loads(line) for line in lines]
    assert alert["kind"] == "pipeline_failure:bluezone_daily.ingest"
    subject = "[Bluezone] bluezone_daily.ingest failed for 05/08/2020"
    assert alert["subject"] == subject
    assert "File exists" in alert["payload"]["error"]
    # the same alert through the providers' hooks, once each
    (message,) = mailbox.messages
    assert message["Subject"] == subject and message["From"] == SENDER
    assert mailbox.envelope_of(message)[1] == ["data-engineering@example.org"]
    assert "File exists" in message.get_body(("plain",)).get_content()
    (posted,) = Webhook.received
    assert (posted["title"], posted["type"], Webhook.paths) == (subject, "failure", ["/failures"])
