"""bluezone_report_deadlines: at each deadline, who has not reported, one digest per province.

Wiring only; the logic is in ``bluezone_warehouse.pipeline`` and ``bluezone_warehouse.alerts``.
"""

from __future__ import annotations

from datetime import datetime, time

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import MultipleCronTriggerTimetable

from bluezone_warehouse.config import LOCAL_TZ_NAME, load_settings
from bluezone_warehouse.schedule import WRITER_POOL, alert_times, cron_at

DOC_MD = """
### bluezone_report_deadlines

Runs at every distinct reporting deadline in the registry (15:00 and 16:00 Asia/Ho_Chi_Minh
today), at each escalation time (deadline + `BLUEZONE_ESCALATION_AFTER_MINUTES`, 2 h by
default) and, if `BLUEZONE_REMINDER_BEFORE_MINUTES` is set, before each deadline. A new
deadline in `seeds/reporting_units.csv` needs no code change.

**alert** ingests every file that has arrived (the same ingestion as `bluezone_daily`), then,
for each province whose deadline (escalation, reminder) it is, finds the registry
   units with no report for today as of that time, with contacts, days missing in a row and
   the province's on-time rate; one digest per province per channel, never twice
   (`ops.alert_log`). Scheduled runs send; manual runs and backfills only record, unless
   triggered with conf `{"send": true}`.
"""


SETTINGS = load_settings()


@dag(
    dag_id="bluezone_report_deadlines",
    schedule=MultipleCronTriggerTimetable(
        *(cron_at(time.fromisoformat(t)) for t in alert_times(SETTINGS)),
        timezone=LOCAL_TZ_NAME,
    ),
    start_date=pendulum.datetime(2020, 8, 1, tz=LOCAL_TZ_NAME),
    # No deadline runs after the campaign's last day.
    end_date=pendulum.instance(
        datetime.combine(SETTINGS.campaign_end, time(23, 59)), tz=LOCAL_TZ_NAME
    ),
    catchup=False,
    max_active_runs=1,
    tags=["bluezone", "alerts"],
    default_args={
        "owner": "data-engineering",
        "retries": SETTINGS.task_retries + 1,
        "retry_delay": pendulum.duration(seconds=SETTINGS.task_retry_delay_seconds // 2),
    },
    doc_md=DOC_MD,
)
def bluezone_report_deadlines() -> None:
    @task(pool=WRITER_POOL)
    def alert() -> dict:
        """Ingest what has arrived and send the digests due now."""
        from bluezone_warehouse import pipeline

        context = get_current_context()
        dag_run = context["dag_run"]
        send = str(dag_run.run_type).endswith("scheduled") or bool((dag_run.conf or {}).get("send"))
        return pipeline.send_deadline_alerts(
            load_settings(), context["logical_date"], context["run_id"], send=send
        )

    alert()


bluezone_report_deadlines()
