"""Alerts (DESIGN §6): deadline digests, escalations and reminders about missing unit
reports, data-quality digests and pipeline-failure alerts, sent through channels (outbox,
SMTP, Slack, HTTP webhook) and recorded in an alert log so nothing is sent twice."""
