"""Sending alerts exactly once: the alert log in the warehouse (``ops.alert_log``) is keyed by
(scope, day, kind, channel); an alert already sent or recorded on a channel is never sent
there again, however often a task is retried or a day rerun. A channel that fails is retried,
then logged as failed, and never stops the other channels; the caller learns which failed.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from bluezone_warehouse.alerts.channels import Channel
from bluezone_warehouse.alerts.model import Alert
from bluezone_warehouse.tables import ALERT_LOG

log = logging.getLogger(__name__)

ALERT_LOG_DDL = ALERT_LOG.ddl()
ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 2.0)


class AlertDeliveryFailed(RuntimeError):
    """Some channel kept failing; every other channel was served."""


@dataclass
class DispatchReport:
    sent: list[tuple] = field(default_factory=list)
    recorded: list[tuple] = field(default_factory=list)
    skipped: list[tuple] = field(default_factory=list)
    failed: list[tuple] = field(default_factory=list)


def _done(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    rows = con.execute(
        "select scope_code, cast(day as varchar), kind, channel from ops.alert_log "
        "where status in ('sent', 'recorded')"
    ).fetchall()
    return set(rows)


def dispatch(
    con: duckdb.DuckDBPyConnection,
    alerts: list[Alert],
    channels: list[Channel],
    *,
    send: bool,
    run_id: str,
) -> DispatchReport:
    """Send (or, for a backfill, only record) every alert on every channel, once."""
    con.execute(ALERT_LOG_DDL)
    done = _done(con)
    report = DispatchReport()
    for alert in alerts:
        for channel in channels:
            if not accepts(channel, alert):
                continue
            key = (*alert.key, channel.name)
            if key in done:
                report.skipped.append(key)
                continue
            status, attempts, error = "recorded", 0, None
            if send:
                status, attempts, error = _deliver(channel, alert)
            con.execute(
                "insert into ops.alert_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    alert.scope_code,
                    alert.day,
                    alert.kind,
                    channel.name,
                    status,
                    attempts,
                    error,
                    alert.subject,
                    alert.message_id,
                    ", ".join(alert.to + alert.cc),
                    run_id,
                    datetime.now(UTC),
                ],
            )
            getattr(report, status).append(key)
            if status != "failed":
                done.add(key)
    if report.failed:
        log.error("alert channels failed: %s", report.failed)
    return report


def deliver_unlogged(alert: Alert, channels: list[Channel]) -> list[tuple[str, str]]:
    """Send one alert on every channel without the alert log, for when the warehouse itself
    is what failed: each channel retried like ``dispatch`` does, none stopping the others.
    Returns the (channel, error) of those that kept failing."""
    failed = []
    for channel in channels:
        if not accepts(channel, alert):
            continue
        status, _, error = _deliver(channel, alert)
        if status == "failed":
            failed.append((channel.name, error or ""))
    if failed:
        log.error("alert channels failed: %s", failed)
    return failed


# A URL's path and query, and the path an HTTP library names after "url:", may carry a
# webhook's token: errors keep only the scheme and host.
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s?#'\"]+)[^\s'\"]*", re.IGNORECASE)
_URL_PATH = re.compile(r"(\burl: )/\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` (an error) without what a URL's path, query or credentials may hold."""
    text = _URL.sub(lambda found: _host_only(found.group(1)) + "/…", text)
    return _URL_PATH.sub(r"\1…", text)


def _host_only(origin: str) -> str:
    scheme, _, rest = origin.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"


def accepts(channel: Channel, alert: Alert) -> bool:
    """Whether ``alert`` goes to ``channel`` at all (an Apprise service tagged for some
    provinces takes only theirs); every channel takes every alert unless it says."""
    return getattr(channel, "accepts", lambda _: True)(alert)


def _deliver(channel: Channel, alert: Alert) -> tuple[str, int, str | None]:
    error = None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            channel.send(alert)
            return "sent", attempt, None
        except Exception as err:  # any channel error: retry, then report
            error = redact(f"{type(err).__name__}: {err}")
            log.warning("channel %s failed (attempt %d): %s", channel.name, attempt, error)
            if attempt < ATTEMPTS:
                time.sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
    return "failed", ATTEMPTS, error
