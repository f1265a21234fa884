"""Alert e-mails through the SMTP provider's ``SmtpHook``.

The hook owns the transport: the connection ``bluezone_smtp`` (host, port, SSL or STARTTLS,
login or OAuth2, timeout, retries) and the sending itself (``send_email_smtp``). Its own
message has an HTML part only; an alert e-mail also needs the plain-text part (what most
readers on a phone show, and what the outbox keeps), typed attachments and one Message-ID
for every delivery of an alert. ``AlertSmtpHook`` therefore builds that message in the
place the hook builds its own, ``_build_mime_message``, and leaves everything else to it.
"""

from __future__ import annotations

import email.policy
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from airflow.providers.smtp.hooks.smtp import SmtpHook

# 7-bit output: the hook sends ``message.as_string()``, which smtplib encodes as ASCII, so
# every non-ASCII part must be transfer-encoded (quoted-printable or base64). Unfolded
# headers: folding a Vietnamese subject into several encoded words loses the spaces between
# them in many readers (and in Python's own parser).
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")
ATTACHMENT_TYPES = {
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".html": ("text", "html"),
}

if not callable(getattr(SmtpHook, "_build_mime_message", None)):
    raise ImportError(
        "this SMTP provider's SmtpHook has no _build_mime_message: alert e-mails would lose "
        "their plain-text part; pin apache-airflow-providers-smtp to the locked version"
    )


def attachment_name(path: Path) -> str:
    """``<publish>/consolidation/2020-08-05/30.xlsx`` → ``tong-hop_2020-08-05_30.xlsx``: the
    day's folder and the province, so a reader's downloads never overwrite each other."""
    return f"tong-hop_{path.parent.name}_{path.name}"


def alert_message(
    *,
    sender: str,
    to: list[str],
    cc: list[str],
    subject: str,
    text: str,
    html: str,
    files: Iterable[Path],
    headers: dict[str, Any] | None = None,
) -> EmailMessage:
    """multipart/mixed: (plain text | HTML) as alternatives, then each file as an attachment."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=True)
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    for path in files:
        maintype, subtype = ATTACHMENT_TYPES.get(path.suffix, ("application", "octet-stream"))
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=attachment_name(path)
        )
    return message


class AlertSmtpHook(SmtpHook):
    """``SmtpHook`` whose messages carry ``text`` as their plain-text alternative."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = text

    @property
    def smtp_retry_limit(self) -> int:
        """No retries inside the hook: the dispatch retries each channel itself (a resend on
        the same connection after a timeout once the server took the message would deliver
        it twice, and nested retries hold up every other alert)."""
        return 0

    def _build_mime_message(  # the hook's own signature
        self,
        mail_from: str | None,
        to: str | Iterable[str],
        subject: str,
        html_content: str,
        files: list[str] | None = None,
        cc: str | Iterable[str] | None = None,
        bcc: str | Iterable[str] | None = None,
        mime_subtype: str = "mixed",
        mime_charset: str = "utf-8",
        custom_headers: dict[str, Any] | None = None,
    ) -> tuple[EmailMessage, list[str]]:
        to_list = self._get_email_address_list(to)
        cc_list = self._get_email_address_list(cc) if cc else []
        bcc_list = self._get_email_address_list(bcc) if bcc else []
        message = alert_message(
            sender=mail_from or "",
            to=to_list,
            cc=cc_list,
            subject=subject,
            text=self.text,
            html=html_content,
            files=[Path(f) for f in files or []],
            headers=custom_headers,
        )
        return message, [*to_list, *cc_list, *bcc_list]
