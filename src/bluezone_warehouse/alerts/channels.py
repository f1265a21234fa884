"""Where alerts go: the local outbox (default), and through the Airflow providers' hooks:
e-mail (SMTP provider, ``SmtpHook``), a Slack incoming webhook (Slack provider,
``SlackWebhookHook``), a generic HTTP webhook (HTTP provider, ``HttpHook``) and Apprise
(Apprise provider, ``AppriseHook``: Telegram, Zalo, Microsoft Teams workflows, Discord,
e-mail and Apprise's other services from one connection).

Secrets come only from Airflow connections (``bluezone_smtp``, ``bluezone_slack``,
``bluezone_webhook``, ``bluezone_apprise``): inside a task Airflow resolves them, outside
one they come from ``AIRFLOW_CONN_<ID>``. A channel asked for without its connection fails
at once (``ChannelNotConfigured``) rather than at the first alert. Provider modules are
imported only by the channels that use them, so the outbox alone costs no import.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bluezone_warehouse.alerts.model import Alert
from bluezone_warehouse.config import Settings
from bluezone_warehouse.names import safe_file_name

if TYPE_CHECKING:
    from airflow.sdk import Connection

SENDER = "bluezone-warehouse@example.org"
WEBHOOK_TIMEOUT_SECONDS = 30


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class ChannelNotConfigured(RuntimeError):
    """A channel was asked for but its Airflow connection is missing or unusable."""


class ChannelFailed(RuntimeError):
    """A service answered that it did not take the alert."""


def get_connection(conn_id: str) -> Connection:
    """The Airflow connection ``conn_id`` (from Airflow in a task, else AIRFLOW_CONN_<ID>)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as err:
        raise ChannelNotConfigured(
            f"no Airflow connection {conn_id!r}: add it (airflow connections add) or set "
            f"AIRFLOW_CONN_{conn_id.upper()}"
        ) from err


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
    """One e-mail per alert to its recipients (To, Cc): plain text and HTML alternatives,
    the consolidation attached, sent by the SMTP provider's hook. The sender is the
    connection's ``from_email``, else ``SENDER``."""

    name = "smtp"

    def __init__(self, conn_id: str = "bluezone_smtp") -> None:
        get_connection(conn_id)  # there, or the run fails now; the hook reads it per e-mail
        self.conn_id = conn_id

    def send(self, alert: Alert) -> None:
        from bluezone_warehouse.alerts.mail import AlertSmtpHook

        with AlertSmtpHook(alert.text, smtp_conn_id=self.conn_id) as hook:
            hook.send_email_smtp(
                to=alert.to,
                cc=alert.cc or None,
                subject=alert.subject,
                html_content=alert.html,
                from_email=hook.from_email or SENDER,
                files=[str(path) for path in alert.attachments],
                custom_headers={"Message-ID": alert.message_id},
            )


class SlackWebhookChannel:
    """A Slack incoming webhook (a ``slackwebhook`` connection): the subject in bold and the
    plain-text digest."""

    name = "slack"

    def __init__(self, conn_id: str = "bluezone_slack") -> None:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        get_connection(conn_id)
        self.hook = SlackWebhookHook(slack_webhook_conn_id=conn_id)
        try:
            self.hook.get_conn()  # the webhook URL, built once from the connection
        except AirflowNotFoundException as err:
            raise ChannelNotConfigured(str(err)) from err

    def send(self, alert: Alert) -> None:
        self.hook.send(text=f"*{alert.subject}*\n{alert.text}")


class HttpWebhookChannel:
    """A generic HTTP webhook (an ``http`` connection whose host is the whole URL, or
    scheme, host and port): the whole alert as JSON, POSTed. The connection's extras are
    sent as headers (e.g. a token), as the HTTP provider does."""

    name = "webhook"

    def __init__(self, conn_id: str = "bluezone_webhook") -> None:
        from airflow.providers.http.hooks.http import HttpHook

        connection = get_connection(conn_id)
        host = connection.host or ""
        if "://" not in host and (connection.schema or "http") not in ("http", "https"):
            raise ChannelNotConfigured(
                f"connection {conn_id!r}: the HTTP provider reads its schema as the URL "
                f"scheme, got {connection.schema!r}; put the whole URL in the host, e.g. "
                "http://https%3A%2F%2Fhooks.example.org%2Fbluezone%2Falerts"
            )
        self.extra_options = (
            {} if "timeout" in connection.extra_dejson else {"timeout": WEBHOOK_TIMEOUT_SECONDS}
        )
        self.hook = HttpHook(method="POST", http_conn_id=conn_id)

    def send(self, alert: Alert) -> None:
        body = {
            "subject": alert.subject,
            "scope_code": alert.scope_code,
            "day": alert.day.isoformat(),
            "kind": alert.kind,
            "message_id": alert.message_id,
            "to": alert.to,
            "cc": alert.cc,
            "text": alert.text,
            "payload": alert.payload,
        }
        self.hook.run(
            data=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            extra_options=self.extra_options,
        )


class AppriseChannel:
    """Apprise's services from one ``apprise`` connection (``bluezone_apprise``), read by the
    Apprise provider's hook: its ``config`` extra is one ``{"path": "<apprise url(s)>",
    "tag": "<tags>"}`` or a list of them. An entry without a tag gets every alert; an entry
    with tags gets only the alerts whose scope is among them (a province code such as
    ``30``, a unit code for its receipts, ``VN`` for pipeline-wide alerts). The title is the
    subject, the body the plain
    text, and the consolidation goes along where the service takes files.

    Each service is a channel of its own (:class:`AppriseService`, named in the alert log
    ``apprise:<service>:<id>``), so every service gets an alert exactly once however often
    the task is retried, and one that fails is retried alone.
    """

    name = "apprise"

    def __init__(self, conn_id: str = "bluezone_apprise") -> None:
        import apprise
        from airflow.providers.apprise.hooks.apprise import AppriseHook

        self.hook = AppriseHook(apprise_conn_id=conn_id)
        self.connection = get_connection(conn_id)
        try:
            config = self.hook.get_config_from_conn(conn=self.connection)
            entries = config if isinstance(config, list) else [config]
            paths = [entry["path"] for entry in entries]
        except (KeyError, TypeError, ValueError) as err:
            raise ChannelNotConfigured(
                f"connection {conn_id!r}: its extra needs config = "
                '{"path": "<apprise url>", "tag": "<optional tags>"} or a list of them '
                f"({type(err).__name__}: {err})"
            ) from err
        if not paths:
            raise ChannelNotConfigured(f"connection {conn_id!r}: its config lists no service")
        # the URLs hold secrets: name a bad entry by its place only
        bad = [number for number, path in enumerate(paths, 1) if not apprise.Apprise().add(path)]
        if bad:
            raise ChannelNotConfigured(
                f"connection {conn_id!r}: config entry {', '.join(map(str, bad))} is not a "
                "valid Apprise URL (see https://appriseit.com/services/)"
            )

    def services(self) -> list[AppriseService]:
        """One channel per service of the connection, in its order."""
        import apprise

        everything = apprise.Apprise()
        self.hook.set_config_from_conn(conn=self.connection, apprise_obj=everything)
        return [AppriseService(service) for service in everything]


class AppriseService:
    """One Apprise service (a Telegram chat, a Zalo bot, an e-mail address...) as a channel:
    named by its kind and a digest of its URL (never the URL, which holds its token), it
    takes the alerts its tags select. The hook's ``notify`` discards Apprise's answer, so
    the service is notified directly and its answer checked."""

    def __init__(self, service: Any) -> None:
        import hashlib

        self.service = service
        digest = hashlib.sha256(service.url(privacy=False).encode()).hexdigest()[:10]
        kind = str(getattr(service, "service_name", "") or "service").casefold()
        self.name = f"apprise:{re.sub(r'[^a-z0-9]+', '-', kind).strip('-')}:{digest}"
        self.tags = {str(tag).casefold() for tag in service.tags}  # Apprise lowercases tags

    def accepts(self, alert: Alert) -> bool:
        return not self.tags or alert.scope_code.casefold() in self.tags

    def send(self, alert: Alert) -> None:
        import apprise
        from apprise.attachment.file import AttachFile

        from bluezone_warehouse.alerts.mail import attachment_name

        one = apprise.Apprise()
        one.add(self.service)
        attachments = apprise.AppriseAttachment(
            [AttachFile(str(path), name=attachment_name(path)) for path in alert.attachments]
        )
        with one.notify(
            body=alert.text,
            title=alert.subject,
            notify_type=_notify_type(alert.kind),
            body_format=apprise.NotifyFormat.TEXT,
            attach=attachments if alert.attachments else None,
        ) as result:
            if result:
                return
            errors = [
                entry.message
                for outcome in result
                for entry in outcome.logs()
                if entry.level in ("ERROR", "WARNING")
            ]
            raise ChannelFailed(
                f"{self.service.url(privacy=True)} ({result.status.name}"
                + (f": {errors[-1]}" if errors else "")
                + ")"
            )


def _notify_type(kind: str) -> Any:
    from apprise import NotifyType

    if kind.startswith("pipeline_failure"):
        return NotifyType.FAILURE
    if kind in ("deadline", "escalation", "dq_errors"):
        return NotifyType.WARNING
    return NotifyType.INFO


def configured_channels(settings: Settings) -> list[Channel]:
    factories = {
        "outbox": lambda: OutboxChannel(settings.outbox_dir),
        "smtp": SmtpChannel,
        "slack": SlackWebhookChannel,
        "webhook": HttpWebhookChannel,
        "apprise": AppriseChannel,
    }
    unknown = [name for name in settings.alert_channels if name not in factories]
    if unknown:
        raise ValueError(
            f"unknown alert channel(s) {', '.join(unknown)}; choose from {', '.join(factories)}"
        )
    channels: list[Channel] = []
    for name in settings.alert_channels:
        made = factories[name]()
        channels += made.services() if isinstance(made, AppriseChannel) else [made]
    return channels
