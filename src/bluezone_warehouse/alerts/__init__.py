"""Alerts (DESIGN §6): deadline digests, escalations and reminders about missing unit
reports, receipts, data-quality digests and pipeline-failure alerts, sent through channels
(the outbox, and the Airflow providers' hooks for SMTP, Slack, an HTTP webhook and Apprise)
and recorded in an alert log so nothing is sent twice."""
