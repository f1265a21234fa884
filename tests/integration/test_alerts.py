"""Deadline alerts end to end, through a real local SMTP server (aiosmtpd) and a real local
HTTP server, sent by the Airflow providers' hooks (SMTP, Slack webhook, HTTP, Apprise) with
their connections given as AIRFLOW_CONN_<ID>: exactly the missing units per province, the
deadline boundary to the second, nothing sent twice, escalation after a late arrival,
backfills recorded but not sent, and a failing channel (server down, HTTP 500) that is
retried and reported without blocking the others."""

from __future__ import annotations

import base64
import csv
import email
import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bluezone_warehouse.alerts.channels import ChannelNotConfigured, configured_channels
from bluezone_warehouse.alerts.dispatch import AlertDeliveryFailed
from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR, load_settings
from bluezone_warehouse.pipeline import run_daily, send_data_quality_alerts, send_deadline_alerts
from tests.conftest import environment_for, query
from tests.integration.test_landing_s3 import free_port

DAY = date(2020, 8, 5)
PROVINCE = "30"  # Hải Dương, deadline 16:00; An Giang (89) is at 15:00


def local(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=LOCAL_TZ)


def units_of(province: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / "reporting_units.csv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["province_code"] == province]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO) of each
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def envelope_of(self, message: email.message.EmailMessage) -> tuple[str, list[str]]:
        return self.envelopes[self.messages.index(message)]


class Webhook(BaseHTTPRequestHandler):
    """Keeps each JSON body it accepts and the path it was posted to; answers 500 while
    ``fail`` is set."""

    received: list[dict] = []
    paths: list[str] = []
    fail = False
    port = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Webhook.fail:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        Webhook.received.append(json.loads(body))
        Webhook.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


SENDER = "bcd-bluezone@sotttt.example.org"


def smtp_uri(port: int) -> str:
    """The SMTP provider's connection to a plain local server: no SSL, no STARTTLS."""
    return (
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&retry_limit=0"
        f"&from_email={SENDER}"
    )


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, type[Webhook]]]:
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    Webhook.received, Webhook.paths, Webhook.fail = [], [], False
    http_port = http.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_SMTP", smtp_uri(smtp_port))
    # the HTTP provider's connection with the whole URL in its host, in URI form
    monkeypatch.setenv(
        "AIRFLOW_CONN_BLUEZONE_WEBHOOK", f"http://http%3A%2F%2F127.0.0.1%3A{http_port}%2Falerts"
    )
    mailbox.port, Webhook.port = smtp_port, http_port
    try:
        yield mailbox, Webhook
    finally:
        smtp.stop()
        http.shutdown()


def land_report(landing: Path, name: str, rows: list[tuple[str, date, datetime]]) -> None:
    """A report file with rows (unit_code, report_date, sent); it arrives with its last row."""
    path = landing / "reports" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt,Số CBCCVC đã cài đặt"]
    for code, day, sent in rows:
        lines.append(f"{day:%d/%m/%Y},{code},{sent:%d/%m/%Y %H:%M:%S},100,100")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arrival = max(sent for *_, sent in rows).timestamp()
    os.utime(path, (arrival, arrival))


@pytest.fixture
def campaign(tmp_path: Path, servers) -> dict:
    """Every unit of Hải Dương reports 01-04/08 at 10:00 except one on the 4th; on 05/08,
    one sends at 15:59:59, one at 16:00:01, one at 16:30 and two never."""
    units = [u["unit_code"] for u in units_of(PROVINCE)]
    on_time, boundary_late, late, gone = units[:-4], units[-4], units[-3], units[-2:]
    landing = tmp_path / "landing"
    for offset in range(4):
        day = date(2020, 8, 1) + timedelta(days=offset)
        rows = [(u, day, local(day, 10, 0)) for u in units if not (offset == 3 and u == gone[0])]
        land_report(landing, f"{day:%Y%m%d}_30.csv", rows)
    land_report(landing, "20200805_30_a.csv", [(u, DAY, local(DAY, 15, 59, 59)) for u in on_time])
    land_report(landing, "20200805_30_b.csv", [(boundary_late, DAY, local(DAY, 16, 0, 1))])
    land_report(landing, "20200805_30_c.csv", [(late, DAY, local(DAY, 16, 30))])
    env = {
        **environment_for(tmp_path),
        "BLUEZONE_LANDING_URL": str(landing),
        "BLUEZONE_ALERT_CHANNELS": "outbox,smtp,webhook",
    }
    return {
        "settings": load_settings(env),
        "boundary_late": boundary_late,
        "late": late,
        "gone": gone,
        "on_time_last": on_time[-1],
    }


def for_province(messages: list, address: str) -> list[email.message.EmailMessage]:
    return [m for m in messages if m["To"] == address]


def listed_units(message: email.message.EmailMessage) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return sorted(
        line.split("|")[1].strip()
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| Mã")
    )


def test_deadline_digest_lists_exactly_the_missing_units_once(campaign, servers) -> None:
    mailbox, webhook = servers
    settings = campaign["settings"]
    result = send_deadline_alerts(settings, local(DAY, 16, 0), "deadline-1", send=True)
    # every province with a 16:00 deadline (the registry is national); not An Giang (15:00)
    assert result["alerts"] == 62 and len(mailbox.messages) == 62
    assert for_province(mailbox.messages, "sotttt.p89@example.org") == []
    (message,) = for_province(mailbox.messages, "sotttt.p30@example.org")
    expected = sorted([campaign["boundary_late"], campaign["late"], *campaign["gone"]])
    assert listed_units(message) == expected  # 15:59:59 is on time; 16:00:01 is not
    assert message["Subject"] == (
        "[Bluezone] Hải Dương: 4 đơn vị chưa báo cáo ngày 05/08/2020 (hạn 16:00)"
    )
    assert message["To"] == "sotttt.p30@example.org"
    text = message.get_body(("plain",)).get_content()
    gone_first = next(line for line in text.splitlines() if f"| {campaign['gone'][0]} |" in line)
    assert gone_first.endswith("| 2 |")  # missing on the 4th and the 5th
    assert "Tỷ lệ báo cáo đúng hạn của tỉnh từ đầu chiến dịch: 98,9 %" in text  # 87 / 88
    # the province's consolidation travels with the e-mail, as a real workbook
    (workbook,) = [a for a in message.iter_attachments() if a.get_filename().endswith(".xlsx")]
    assert workbook.get_filename() == "tong-hop_2020-08-05_30.xlsx"
    assert workbook.get_content_type() == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert workbook.get_content().startswith(b"PK")
    # the HTML alternative lists the same units; sender and envelope as configured
    html_body = message.get_body(("html",)).get_content()
    assert sorted(re.findall(r"<tr><td>([^<]*)</td>", html_body)) == expected
    assert message["From"] == SENDER
    assert mailbox.envelope_of(message) == (SENDER, ["sotttt.p30@example.org"])
    (payload,) = [p for p in webhook.received if p["scope_code"] == PROVINCE]
    assert sorted(m["unit_code"] for m in payload["payload"]["missing"]) == expected
    assert payload["message_id"] == message["Message-ID"]  # one id on every channel
    assert set(webhook.paths) == {"/alerts"}
    outbox = settings.outbox_dir
    lines = (outbox / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 62 and {json.loads(line)["kind"] for line in lines} == {"deadline"}
    assert (
        (outbox / "2020-08-05" / "30_deadline.md")
        .read_text(encoding="utf-8")
        .startswith("# [Bluezone] Hải Dương")
    )
    again = send_deadline_alerts(settings, local(DAY, 16, 0), "deadline-2", send=True)
    assert (again["sent"], again["skipped"]) == (0, 62 * 3)
    assert len(mailbox.messages) == 62 and len(webhook.received) == 62


def test_escalation_drops_units_that_reported_in_between(campaign, servers) -> None:
    mailbox, _ = servers
    settings = campaign["settings"]
    send_deadline_alerts(settings, local(DAY, 16, 0), "deadline", send=True)
    send_deadline_alerts(settings, local(DAY, 18, 0), "escalation", send=True)
    (escalation,) = for_province(mailbox.messages, "bcd.p30@example.org")
    assert listed_units(escalation) == sorted(campaign["gone"])
    assert escalation["Subject"] == (
        "[Bluezone] Hải Dương: 2 đơn vị vẫn chưa báo cáo ngày 05/08/2020 (quá hạn 16:00 2 giờ)"
    )
    assert escalation["To"] == "bcd.p30@example.org"
    copies = escalation["Cc"].split(", ") if escalation["Cc"] else []
    assert sorted(mailbox.envelope_of(escalation)[1]) == sorted(["bcd.p30@example.org", *copies])
    assert (
        sorted(escalation["Cc"].split(", "))
        == sorted(
            f"chutich.d{code}@example.org" if code.isdigit() else "" for code in campaign["gone"]
        )
        or escalation["Cc"]
    )


def test_a_backfill_records_without_sending(campaign, servers) -> None:
    mailbox, webhook = servers
    settings = campaign["settings"]
    result = send_deadline_alerts(settings, local(DAY, 16, 0), "backfill", send=False)
    assert (result["sent"], result["recorded"]) == (0, 62 * 3)
    assert mailbox.messages == [] and webhook.received == []
    statuses = query(
        settings, "select channel, status from ops.alert_log where scope_code = '30' order by 1"
    )
    assert statuses == [("outbox", "recorded"), ("smtp", "recorded"), ("webhook", "recorded")]


def test_a_failing_channel_is_retried_reported_and_does_not_block_others(
    campaign, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, webhook = servers
    monkeypatch.setattr("bluezone_warehouse.alerts.dispatch.BACKOFF_SECONDS", (0.0,))
    webhook.fail = True
    settings = campaign["settings"]
    with pytest.raises(AlertDeliveryFailed, match="webhook"):
        send_deadline_alerts(settings, local(DAY, 16, 0), "try-1", send=True)
    assert len(mailbox.messages) == 62
    webhook.fail = False
    send_deadline_alerts(settings, local(DAY, 16, 0), "try-2", send=True)  # the task's retry
    assert len(mailbox.messages) == 62 and len(webhook.received) == 62
    log = query(
        settings,
        "select channel, status, attempts, error from ops.alert_log where scope_code = '30' "
        "order by logged_at, channel",
    )
    assert [(c, s, a) for c, s, a, _ in log] == [
        ("outbox", "sent", 1),
        ("smtp", "sent", 1),
        ("webhook", "failed", 3),
        ("webhook", "sent", 1),
    ]
    assert log[2][3].endswith("500:Internal Server Error")  # the HTTP provider's error


def test_an_smtp_server_that_is_down_fails_only_the_smtp_channel(
    campaign, servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, webhook = servers
    monkeypatch.setattr("bluezone_warehouse.alerts.dispatch.BACKOFF_SECONDS", (0.0,))
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_SMTP", smtp_uri(free_port()))  # nobody listens
    with pytest.raises(AlertDeliveryFailed, match="smtp"):
        send_deadline_alerts(campaign["settings"], local(DAY, 16, 0), "down", send=True)
    assert mailbox.messages == [] and len(webhook.received) == 62
    log = query(
        campaign["settings"],
        "select channel, status, attempts, error from ops.alert_log where scope_code = '30' "
        "order by channel",
    )
    assert [(c, s, a) for c, s, a, _ in log] == [
        ("outbox", "sent", 1),
        ("smtp", "failed", 3),
        ("webhook", "sent", 1),
    ]
    assert log[1][3].startswith("ConnectionRefusedError")


def test_english_digests(campaign, servers, tmp_path: Path) -> None:
    mailbox, _ = servers
    settings = load_settings(
        {
            **environment_for(tmp_path),
            "BLUEZONE_LANDING_URL": campaign["settings"].landing_url,
            "BLUEZONE_ALERT_CHANNELS": "smtp",
            "BLUEZONE_ALERT_LANGUAGE": "en",
        }
    )
    send_deadline_alerts(settings, local(DAY, 16, 0), "english", send=True)
    (message,) = for_province(mailbox.messages, "sotttt.p30@example.org")
    assert message["Subject"] == (
        "[Bluezone] Hải Dương: 4 units have not reported for 05/08/2020 (deadline 16:00)"
    )
    assert "The province's on-time rate so far this campaign: 98.9 %" in (
        message.get_body(("plain",)).get_content()
    )


def test_slack_channel_posts_the_digest(campaign, servers, monkeypatch, tmp_path: Path) -> None:
    _, webhook = servers
    # a `slackwebhook` connection: endpoint in the host, webhook token in the password
    slack = {
        "conn_type": "slackwebhook",
        "schema": "http",
        "host": f"127.0.0.1:{webhook.port}/services",
        "password": "T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    }
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_SLACK", json.dumps(slack))
    settings = load_settings(
        {
            **environment_for(tmp_path),
            "BLUEZONE_LANDING_URL": campaign["settings"].landing_url,
            "BLUEZONE_ALERT_CHANNELS": "slack",
        }
    )
    send_deadline_alerts(settings, local(DAY, 16, 0), "slack", send=True)
    texts = [body["text"] for body in webhook.received]
    (hai_duong,) = [t for t in texts if t.startswith("*[Bluezone] Hải Dương:")]
    assert hai_duong.splitlines()[0] == (
        "*[Bluezone] Hải Dương: 4 đơn vị chưa báo cáo ngày 05/08/2020 (hạn 16:00)*"
    )
    assert [set(body) for body in webhook.received] == [{"text"}] * 62  # Slack's payload
    assert webhook.paths == ["/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"] * 62


def apprise_settings(campaign: dict, tmp_path: Path, config: list[dict], monkeypatch) -> object:
    """Settings with the Apprise channel only, its connection holding ``config``."""
    connection = {"conn_type": "apprise", "extra": {"config": config}}
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_APPRISE", json.dumps(connection))
    return load_settings(
        {
            **environment_for(tmp_path),
            "BLUEZONE_LANDING_URL": campaign["settings"].landing_url,
            "BLUEZONE_ALERT_CHANNELS": "apprise",
        }
    )


def test_apprise_reaches_every_service_of_its_connection(
    campaign, servers, monkeypatch, tmp_path: Path
) -> None:
    """One connection, three Apprise services: a JSON webhook that takes every alert, e-mail
    tagged with Hải Dương's code that takes only Hải Dương's digest, and a JSON webhook
    tagged for pipeline-wide alerts that takes none of the provinces' digests."""
    mailbox, webhook = servers
    to = "bcd-telegram-bridge.p30@example.org"
    config = [
        {"path": f"json://127.0.0.1:{webhook.port}/apprise"},
        {
            "path": f"mailto://127.0.0.1:{mailbox.port}?to={to}&from={SENDER}",
            "tag": PROVINCE,
        },
        {"path": f"json://127.0.0.1:{webhook.port}/pipeline", "tag": "VN"},
    ]
    settings = apprise_settings(campaign, tmp_path, config, monkeypatch)
    result = send_deadline_alerts(settings, local(DAY, 16, 0), "apprise", send=True)
    # each service a channel of its own: 62 digests to the webhook, Hải Dương's by e-mail
    assert (result["alerts"], result["sent"]) == (62, 63)
    assert len(webhook.received) == 62 and set(webhook.paths) == {"/apprise"}
    (posted,) = [p for p in webhook.received if p["title"].startswith("[Bluezone] Hải Dương:")]
    assert posted["title"] == (
        "[Bluezone] Hải Dương: 4 đơn vị chưa báo cáo ngày 05/08/2020 (hạn 16:00)"
    )
    assert posted["type"] == "warning"
    expected = sorted([campaign["boundary_late"], campaign["late"], *campaign["gone"]])
    listed = sorted(
        line.split("|")[1].strip()
        for line in posted["message"].splitlines()
        if line.startswith("| ") and not line.startswith("| Mã")
    )
    assert listed == expected
    workbooks = [a for a in posted["attachments"] if a["filename"].endswith(".xlsx")]
    assert [a["filename"] for a in workbooks] == ["tong-hop_2020-08-05_30.xlsx"]
    assert base64.b64decode(workbooks[0]["base64"]).startswith(b"PK")
    (mail,) = mailbox.messages  # the tagged service: Hải Dương only
    assert mail["Subject"] == posted["title"]
    assert mailbox.envelope_of(mail)[1] == [to]
    names = [a.get_filename() for a in mail.iter_attachments()]
    assert "tong-hop_2020-08-05_30.xlsx" in names
    again = send_deadline_alerts(settings, local(DAY, 16, 0), "apprise-2", send=True)
    assert (again["sent"], again["skipped"]) == (0, 63)
    assert len(webhook.received) == 62 and len(mailbox.messages) == 1


def test_a_failing_apprise_service_is_retried_without_resending_to_the_others(
    campaign, servers, monkeypatch, tmp_path: Path
) -> None:
    mailbox, webhook = servers
    monkeypatch.setattr("bluezone_warehouse.alerts.dispatch.BACKOFF_SECONDS", (0.0,))
    webhook.fail = True
    config = [
        {"path": f"mailto://127.0.0.1:{mailbox.port}?to=ops@example.org&from={SENDER}"},
        {"path": f"json://127.0.0.1:{webhook.port}/apprise"},
    ]
    settings = apprise_settings(campaign, tmp_path, config, monkeypatch)
    with pytest.raises(AlertDeliveryFailed, match="apprise"):
        send_deadline_alerts(settings, local(DAY, 16, 0), "try-1", send=True)
    # e-mail took each digest once, though the channel was tried three times per alert
    assert len(mailbox.messages) == 62 and webhook.received == []
    (failed, sent) = query(
        settings,
        "select channel, status, attempts, error from ops.alert_log where scope_code = '30' "
        "order by status",
    )
    assert failed[0].startswith("apprise:json:") and sent[0].startswith("apprise:e-mail:")
    assert failed[1:3] == ("failed", 3) and sent[1:3] == ("sent", 1)
    # the service named by its host only (a URL's path and query may hold its token)
    assert f"json://127.0.0.1:{webhook.port}/… (FAILURE" in failed[3]
    assert "/apprise" not in failed[3]
    assert "mailto" not in failed[3]
    webhook.fail = False
    send_deadline_alerts(settings, local(DAY, 16, 0), "try-2", send=True)  # the task's retry
    assert len(webhook.received) == 62
    # the alert log knows which service took each digest: the retry sends only to the other
    assert len(mailbox.messages) == 62


def test_data_quality_errors_are_digested_once_per_province(tmp_path: Path) -> None:
    settings = load_settings(environment_for(tmp_path))
    installs = Path(settings.landing_url) / "installs"
    installs.mkdir(parents=True)
    header = "snapshot_date,level,unit_code,installs,installs_with_phone\n"
    (installs / "installs_20200801.csv").write_text(header + "2020-08-01,province,89,1000,\n")
    (installs / "installs_20200802.csv").write_text(header + "2020-08-02,province,89,900,\n")
    run_daily(settings, date(2020, 8, 2), run_id="daily")
    first = send_data_quality_alerts(settings, date(2020, 8, 2), "daily", send=True)
    assert first == {"alerts": 1, "sent": 1, "recorded": 0}
    digest = (settings.outbox_dir / "2020-08-02" / "89_dq_errors.md").read_text(encoding="utf-8")
    assert digest.splitlines()[0] == (
        "# [Bluezone] An Giang: 1 lỗi chất lượng dữ liệu ngày 02/08/2020"
    )
    assert "An Giang: cumulative installs fell from 1000 on 01/08/2020 to 900" in digest
    again = send_data_quality_alerts(settings, date(2020, 8, 2), "daily", send=True)
    assert again == {"alerts": 1, "sent": 0, "recorded": 0}
    run_daily(settings, date(2020, 8, 2), run_id="rerun", rebuild=True)  # nothing new first found
    assert send_data_quality_alerts(settings, date(2020, 8, 2), "rerun", send=True)["alerts"] == 0


def test_a_channel_without_a_usable_connection_says_which(monkeypatch, tmp_path: Path) -> None:
    def channels(names: str) -> list:
        env = {**environment_for(tmp_path), "BLUEZONE_ALERT_CHANNELS": names}
        return configured_channels(load_settings(env))

    for conn_id in ("SMTP", "SLACK", "WEBHOOK", "APPRISE"):
        monkeypatch.delenv(f"AIRFLOW_CONN_BLUEZONE_{conn_id}", raising=False)
    with pytest.raises(ChannelNotConfigured, match="AIRFLOW_CONN_BLUEZONE_APPRISE"):
        channels("outbox,apprise")
    config = [{"path": "json://127.0.0.1:1/ok"}, {"path": "nosuchservice://x"}]
    apprise = {"conn_type": "apprise", "extra": {"config": config}}
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_APPRISE", json.dumps(apprise))
    with pytest.raises(ChannelNotConfigured, match="config entry 2 is not a valid Apprise URL"):
        channels("apprise")
    # a webhook URI whose path would become the HTTP provider's URL scheme
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_WEBHOOK", "http://127.0.0.1:8080/alerts")
    with pytest.raises(ChannelNotConfigured, match="put the whole URL in the host"):
        channels("webhook")
    monkeypatch.setenv("AIRFLOW_CONN_BLUEZONE_SLACK", '{"conn_type": "slackwebhook"}')
    with pytest.raises(ChannelNotConfigured, match="does not contain password"):
        channels("slack")
    assert [c.name for c in channels("outbox")] == ["outbox"]
