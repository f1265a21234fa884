"""What an alert is: a message about one province (or the pipeline), one day, one kind."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class MissingUnit:
    unit_code: str
    unit_name: str
    contact_email: str
    contact_phone: str
    escalation_email: str
    deadline_local: str
    days_missing_in_a_row: int
    status: str = "missing"  # missing (sent nothing) | rejected (sent, nothing accepted)
    rejection_reason: str | None = None


@dataclass
class Alert:
    """One message; ``key`` (scope, day, kind) with the channel is what is never sent twice."""

    scope_code: str  # a province code, or VN for pipeline-wide alerts
    day: date
    kind: str  # deadline | escalation | reminder | dq_errors | pipeline_failure
    subject: str
    text: str  # plain text (also the Markdown body)
    html: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    payload: dict = field(default_factory=dict)
    attachments: list[Path] = field(default_factory=list)  # files the e-mail carries

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scope_code, self.day.isoformat(), self.kind)

    @property
    def message_id(self) -> str:
        """The same for every delivery of this alert, so a receiver can deduplicate too."""
        digest = hashlib.sha256("|".join(self.key).encode()).hexdigest()[:24]
        return f"<{digest}.{self.kind}@bluezone-warehouse.example.org>"
