"""A channel's error is kept in ``ops.alert_log`` and the logs without what a URL may hold
(a webhook's token in its path or query, credentials before the host)."""

from __future__ import annotations

import pytest

from bluezone_warehouse.alerts.dispatch import redact


@pytest.mark.parametrize(
    ("error", "kept"),
    [
        (
            "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries "
            "exceeded with url: /bluezone/alerts?sig=SECRET (Caused by NewConnectionError)",
            "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries "
            "exceeded with url: … (Caused by NewConnectionError)",
        ),
        (
            "HTTPError: 500 Server Error for url: https://hooks.example.org/services/T0/B0/SECRET",
            "HTTPError: 500 Server Error for url: https://hooks.example.org/…",
        ),
        (
            "refused by smtp://user:SECRET@smtp.example.org:587/x?token=SECRET today",
            "refused by smtp://smtp.example.org:587/… today",
        ),
        ("SMTPRecipientsRefused: {'a@b.org': (550, b'no')}", None),
    ],
)
def test_errors_keep_the_host_and_lose_the_secrets(error: str, kept: str | None) -> None:
    assert redact(error) == (error if kept is None else kept)
    assert "SECRET" not in redact(error)
