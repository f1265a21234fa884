"""An Airflow notifier that alerts when a task of the daily pipeline fails for good: the DAGs'
``on_failure_callback``, sending on every configured channel (the outbox and the providers'
hooks: SMTP, Slack, HTTP webhook, Apprise) through the alert log, so once per task and day."""

from __future__ import annotations

import logging
from dataclasses import replace

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger(__name__)


class PipelineFailureNotifier(BaseNotifier):
    """Sends one ``pipeline_failure`` alert per failed task and run, on every channel."""

    template_fields = ()

    def notify(self, context: dict) -> None:
        from bluezone_warehouse.alerts.channels import OutboxChannel, configured_channels
        from bluezone_warehouse.alerts.dispatch import deliver_unlogged, dispatch
        from bluezone_warehouse.alerts.model import Alert
        from bluezone_warehouse.config import load_settings
        from bluezone_warehouse.schedule import run_date_for
        from bluezone_warehouse.warehouse import connect_writer

        settings = load_settings()
        task = context["task_instance"]
        day = run_date_for(context["data_interval_start"])
        exception = context.get("exception")
        # the error and what it was doing (ingestion notes the file: "while reading ...")
        error = "\n".join(
            [str(exception or "unknown error"), *getattr(exception, "__notes__", [])]
        )[:2000]
        subject = f"[Bluezone] {task.dag_id}.{task.task_id} failed for {day:%d/%m/%Y}"
        text = (
            f"Task {task.task_id} of {task.dag_id} failed for business day {day} "
            f"(run {context['run_id']}, try {task.try_number}).\n\nError: {error}\n\n"
            "The published snapshot still holds the last good run. Look at the task's log, "
            "fix the cause and clear the task to rerun it.\n"
        )
        alert = Alert(
            "VN",
            day,
            f"pipeline_failure:{task.dag_id}.{task.task_id}",
            subject,
            text,
            f"<pre>{text}</pre>",
            ["data-engineering@example.org"],
            payload={
                "dag_id": task.dag_id,
                "task_id": task.task_id,
                "error": error,
                "run_id": context["run_id"],
            },
        )
        # Every channel that can be set up: one misconfigured channel (a missing connection)
        # does not silence the others; with none, the outbox.
        channels = []
        for name in settings.alert_channels:
            try:
                channels += configured_channels(replace(settings, alert_channels=(name,)))
            except Exception as err:
                log.error("alert channel %s cannot be used: %s", name, err)
        channels = channels or [OutboxChannel(settings.outbox_dir)]
        try:
            con = connect_writer(settings.warehouse_path)
        except Exception as err:  # the warehouse may be the thing that failed: send anyway
            log.warning("alert log unavailable (%s); sending without it", err)
            deliver_unlogged(alert, channels)
            return
        try:
            dispatch(con, [alert], channels, send=True, run_id=context["run_id"])
        except Exception as err:  # not resent unlogged: some channels may have been served
            log.error("the pipeline-failure alert could not all be sent and logged: %s", err)
        finally:
            con.close()
