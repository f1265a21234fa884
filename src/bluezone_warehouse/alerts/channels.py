"""Where alerts go: the local outbox (default), SMTP, a Slack incoming webhook, a generic
HTTP webhook. Secrets come only from Airflow connections (``bluezone_smtp``,
``bluezone_slack``, ``bluezone_webhook``), never from the repository."""

from __future__ import annotations

import email.policy
import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from bluezone_warehouse.alerts.model import Alert
from bluezone_warehouse.config import Settings, connection_uri
from bluezone_warehouse.names import safe_file_name

SENDER = "bluezone-warehouse@example.org"
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)
ATTACHMENT_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".html": ("text", "html"),
}


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class ChannelNotConfigured(RuntimeError):
    """A channel was asked for but its Airflow connection is missing."""


@dataclass(frozen=True)
class ConnectionInfo:
    host: str
    port: int | None
    login: str | None
    password: str | None
    schema: str | None
    extra: dict

    @property
    def url(self) -> str:
        if self.extra.get("url"):
            return self.extra["url"]
        scheme = self.extra.get("scheme", "http")
        port = f":{self.port}" if self.port else ""
        path = f"/{self.schema}" if self.schema else ""
        return f"{scheme}://{self.host}{port}{path}"


def get_connection(conn_id: str) -> ConnectionInfo:
    """An Airflow connection: through Airflow inside a task, else from AIRFLOW_CONN_<ID>."""
    connection = None
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
    except Exception:  # outside a task Airflow's connection lookup is not available
        uri = connection_uri(conn_id)
        if uri:
            from airflow.models.connection import Connection

            connection = Connection(conn_id=conn_id, uri=uri)
    if connection is None:
        raise ChannelNotConfigured(
            f"no Airflow connection {conn_id!r}: add it (airflow connections add) or set "
            f"AIRFLOW_CONN_{conn_id.upper()}"
        )
    return ConnectionInfo(
        connection.host or "",
        connection.port,
        connection.login,
        connection.password,
        connection.schema,
        connection.extra_dejson or {},
    )


class OutboxChannel:
    """One JSON line per alert in ``alerts.jsonl`` plus a readable Markdown file."""

    name = "outbox"

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def path_for(self, alert: Alert) -> Path:
        scope, day, kind = alert.key
        return self.outbox_dir / day / safe_file_name(f"{scope}_{kind}.md")

    def send(self, alert: Alert) -> None:
        readable = self.path_for(alert)
        readable.parent.mkdir(parents=True, exist_ok=True)
        readable.write_text(f"# {alert.subject}\n\n{alert.text}", encoding="utf-8")
        line = {
            "scope_code": alert.scope_code,
            "day": alert.day.isoformat(),
            "kind": alert.kind,
            "subject": alert.subject,
            "to": alert.to,
            "cc": alert.cc,
            "message_id": alert.message_id,
            "file": str(readable),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "payload": alert.payload,
        }
        with (self.outbox_dir / "alerts.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


class SmtpChannel:
    name = "smtp"

    def __init__(self, conn_id: str = "bluezone_smtp") -> None:
        self.connection = get_connection(conn_id)

    def send(self, alert: Alert) -> None:
        info = self.connection
        # Unfolded headers: folding Vietnamese subjects into several encoded words loses the
        # spaces between them in many readers (and in Python's own parser).
        message = EmailMessage(policy=SMTP_POLICY)
        message["Subject"] = alert.subject
        message["From"] = info.extra.get("from", SENDER)
        message["To"] = ", ".join(alert.to)
        if alert.cc:
            message["Cc"] = ", ".join(alert.cc)
        message["Message-ID"] = alert.message_id
        message.set_content(alert.text, charset="utf-8")
        message.add_alternative(alert.html, subtype="html", charset="utf-8")
        for attachment in alert.attachments:
            maintype, subtype = ATTACHMENT_TYPES.get(
                attachment.suffix, ("application", "octet-stream")
            )
            message.add_attachment(
                attachment.read_bytes(),
                maintype=maintype,
                subtype=subtype,
                # "tong-hop_2020-08-05_30.xlsx": the day's folder and the province
                filename=f"tong-hop_{attachment.parent.name}_{attachment.name}",
            )
        with smtplib.SMTP(info.host, info.port or 25, timeout=30) as smtp:
            if str(info.extra.get("starttls", "")).lower() in ("1", "true", "yes"):
                smtp.starttls()
            if info.login:
                smtp.login(info.login, info.password or "")
            smtp.send_message(message)


def _post_json(url: str, body: dict) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (configured URL)
        if response.status >= 300:
            raise RuntimeError(f"webhook answered {response.status}")


class SlackWebhookChannel:
    """A Slack incoming webhook: the subject in bold and the plain-text digest."""

    name = "slack"

    def __init__(self, conn_id: str = "bluezone_slack") -> None:
        self.connection = get_connection(conn_id)

    def send(self, alert: Alert) -> None:
        _post_json(self.connection.url, {"text": f"*{alert.subject}*\n{alert.text}"})


class HttpWebhookChannel:
    """A generic HTTP webhook: the whole alert as JSON."""

    name = "webhook"

    def __init__(self, conn_id: str = "bluezone_webhook") -> None:
        self.connection = get_connection(conn_id)

    def send(self, alert: Alert) -> None:
        _post_json(
            self.connection.url,
            {
                "subject": alert.subject,
                "scope_code": alert.scope_code,
                "day": alert.day.isoformat(),
                "kind": alert.kind,
                "message_id": alert.message_id,
                "to": alert.to,
                "cc": alert.cc,
                "text": alert.text,
                "payload": alert.payload,
            },
        )


def configured_channels(settings: Settings) -> list[Channel]:
    factories = {
        "outbox": lambda: OutboxChannel(settings.outbox_dir),
        "smtp": SmtpChannel,
        "slack": SlackWebhookChannel,
        "webhook": HttpWebhookChannel,
    }
    unknown = [name for name in settings.alert_channels if name not in factories]
    if unknown:
        raise ValueError(
            f"unknown alert channel(s) {', '.join(unknown)}; choose from {', '.join(factories)}"
        )
    return [factories[name]() for name in settings.alert_channels]
