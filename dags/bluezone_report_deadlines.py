"""bluezone_report_deadlines: at each deadline, who has not reported, one digest per province.

Wiring only; the logic is in ``bluezone_warehouse.pipeline`` and ``bluezone_warehouse.alerts``.
"""

from __future__ import annotations

from datetime import datetime, time

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import MultipleCronTriggerTimetable

from bluezone_warehouse.config import LOCAL_TZ_NAME, load_settings
from bluezone_warehouse.schedule import WRITER_POOL, crons_for, refresh_times

DOC_MD = """
### bluezone_report_deadlines

Today's refresh and the deadline digests (DESIGN §4, §6). Runs every 15 minutes from 07:00
until the day's last escalation (Asia/Ho_Chi_Minh), and at every distinct reporting
deadline in the registry (15:00 and 16:00 today), at each escalation time (deadline +
`BLUEZONE_ESCALATION_AFTER_MINUTES`, 2 h by default) and, if
`BLUEZONE_REMINDER_BEFORE_MINUTES` is set, before each deadline. A new deadline in the
registry of the campaign's unit set (`seeds/reporting_units.csv`, or
`seeds/reporting_units_2025.csv` when `BLUEZONE_UNITS=2025`) needs no code change.

1. **refresh** ingests every file that has arrived and can be read (the same ingestion
   as `bluezone_daily`; a CSV changed in the last `BLUEZONE_SETTLE_SECONDS` is still
   settling, and the refresh notes which provinces its lines name), rebuilds only today's
   deliveries, compliance, rates and consolidation (a dbt selection on today's partition:
   `fct_deliveries`, `fct_reporting_compliance`, `agg_reporting_rates`,
   `fct_province_consolidation`), publishes the snapshot and every province's
   consolidation, so BI is never more than 15 minutes behind the landing zone on the day
   that matters. The daily run is unaffected: it still rebuilds every day the files touch.
2. **alert**, when it is a province's deadline (escalation, reminder): one digest per
   province of the units whose `status_at_deadline` (`status_at_escalation`) in
   `fct_reporting_compliance` is missing or rejected — the mart and the digest are one
   definition — with contacts, why a delivery was rejected, days in a row and the
   province's on-time rate; never twice (`ops.alert_log`). A province a settling report
   concerns waits: once the report has settled, the refresh runs again in this task and
   its digest follows, so that every digest says what the mart says. Scheduled runs send; manual
   runs and backfills only record, unless triggered with conf `{"send": true}`.
"""


SETTINGS = load_settings()


@dag(
    dag_id="bluezone_report_deadlines",
    schedule=MultipleCronTriggerTimetable(
        *crons_for(refresh_times(SETTINGS)),
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
    def refresh() -> dict:
        """Ingest what has arrived, rebuild today's compliance, publish the snapshot."""
        from bluezone_warehouse import pipeline

        context = get_current_context()
        return pipeline.refresh_today(
            load_settings(), context["logical_date"], context["run_id"], wait=False
        )

    @task(pool=WRITER_POOL)
    def alert(awaited: list[str] | None) -> dict:
        """Send the digests due now, from the compliance mart the refresh just built; those
        of provinces a settling report concerns once it is read."""
        from bluezone_warehouse import pipeline

        context = get_current_context()
        dag_run = context["dag_run"]
        send = str(dag_run.run_type).endswith("scheduled") or bool((dag_run.conf or {}).get("send"))
        return pipeline.send_deadline_alerts(
            load_settings(),
            context["logical_date"],
            context["run_id"],
            send=send,
            refresh=False,
            awaited=awaited,
        )

    refreshed = refresh()
    alert(refreshed["awaited"])


bluezone_report_deadlines()
