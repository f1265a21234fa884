"""bluezone_daily: ingest the landing zone, build the marts, publish the snapshot.

Wiring only; every step is a function in ``bluezone_warehouse.pipeline``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from bluezone_warehouse.alerts.notifier import PipelineFailureNotifier
from bluezone_warehouse.config import LOCAL_TZ_NAME, load_settings
from bluezone_warehouse.schedule import DAILY_CRON, DAILY_RUN_LOCAL_TIME, WRITER_POOL

SETTINGS = load_settings()
log = logging.getLogger(__name__)

DOC_MD = """
### bluezone_daily

The daily run for business day **D** starts at 02:00 (Asia/Ho_Chi_Minh) on D+1, once D's
national install export can have arrived. Its data interval is [D 02:00, D+1 02:00).

1. **ingest** — every file that has arrived in the landing zone since the last run,
   whatever day it is about, into `raw.*` (manifest, quarantine, lineage), in a process of
   its own while the task's process imports dbt and parses the project for **build**.
   **changes** — when the latest completed run was for D on the same landed files, code
   and settings, says so and skips everything after it (its snapshot and report stand);
   conf `{"rebuild": true}` runs every step regardless.
2. **build** — one `dbt build` for D (staging → intermediate → marts, with tests).
3. **publish** — once dbt's tests pass, an atomic read-only snapshot of the marts (DuckDB +
   Parquet + CSV) for BI.
4. **check** — Great Expectations suites (`expectations/`) on raw and marts, results as rows
   in `ops.gx_results`, Data Docs under the run's artifacts. A failed structural
   expectation on a mart withdraws the snapshot (BI goes back to the one it replaced) and
   stops the run here; data expectations warn and raw-layer failures are recorded.
5. **report** — the day's self-contained HTML report (`report.html` in the publish folder)
   and one page per province (`provinces/<day>/<code>.html`, linked both ways), with the dbt
   docs and the Great Expectations Data Docs published beside it.
6. **alert_data_quality** — one digest per province of the data-quality errors this run
   found first (scheduled runs send; manual runs and backfills record unless conf
   `{"send": true}`). Any task failing for good sends a pipeline-failure alert.
7. **record** — once every step has succeeded, the run is recorded as complete for its
   landed files, code and settings (`ops.daily_runs`), which is what **changes** compares.
   After a withdrawn snapshot, clear the run from **publish** on, not **check** alone.

Every task that writes the warehouse runs in the one-slot pool `warehouse_writer`.
Every task emits OpenLineage events (files in `BLUEZONE_LINEAGE_DIR` by default): **ingest**
names the landed files it read and the raw tables it wrote, **build** one run per dbt model
and seed, from its inputs to its table.
Rerun or backfill any day: given the same landed files it gives the same marts for D.
Run one day by hand: `make run DATE=YYYY-MM-DD`.
"""


def _context() -> tuple[object, str, object]:
    from bluezone_warehouse.schedule import run_date_for

    context = get_current_context()
    run_date = run_date_for(context["data_interval_start"])
    return load_settings(), context["run_id"], run_date


@dag(
    dag_id="bluezone_daily",
    schedule=CronDataIntervalTimetable(DAILY_CRON, timezone=LOCAL_TZ_NAME),
    start_date=pendulum.datetime(2020, 8, 1, tz=LOCAL_TZ_NAME),
    # The last run is for the campaign's last day, early on the day after; none after that.
    end_date=pendulum.instance(
        datetime.combine(SETTINGS.campaign_end + timedelta(days=1), DAILY_RUN_LOCAL_TIME),
        tz=LOCAL_TZ_NAME,
    ),
    catchup=False,
    max_active_runs=1,
    tags=["bluezone", "warehouse"],
    default_args={
        "owner": "data-engineering",
        "retries": SETTINGS.task_retries,
        "retry_delay": pendulum.duration(seconds=SETTINGS.task_retry_delay_seconds),
        "on_failure_callback": PipelineFailureNotifier(),
    },
    doc_md=DOC_MD,
)
def bluezone_daily() -> None:
    @task(pool=WRITER_POOL)
    def ingest() -> dict:
        """Load every newly landed file into the raw layer (while dbt parses the project for
        the build)."""
        from bluezone_warehouse import lineage, pipeline

        settings, run_id, _ = _context()
        ingested = pipeline.ingest_ahead_of_build(settings, run_id)
        lineage.report_ingest_lineage(settings, run_id)  # the files read, the raw tables written
        return ingested

    @task.short_circuit(pool=WRITER_POOL)
    def changes() -> str:
        """Anything new since the last run for the day? If not, skip the rest."""
        from bluezone_warehouse import pipeline

        settings, _, run_date = _context()
        rebuild = bool((get_current_context()["dag_run"].conf or {}).get("rebuild"))
        todo = pipeline.changes(settings, run_date, rebuild=rebuild)
        log.info(todo.message(run_date))
        return "" if todo.unchanged_since else todo.inputs

    @task(pool=WRITER_POOL)
    def build() -> dict:
        """One dbt build of staging, intermediate and marts for the run's day."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        return pipeline.build(settings, run_date, run_id)

    @task(pool=WRITER_POOL, retries=0)
    def check() -> dict:
        """Great Expectations on raw and marts; a failed structural expectation on a mart
        withdraws the snapshot and stops the run."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        return pipeline.check(settings, run_date, run_id)

    @task(pool=WRITER_POOL)
    def publish() -> str:
        """Swap in a read-only snapshot of the marts for BI."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        return pipeline.publish(settings, run_date, run_id)

    @task(pool=WRITER_POOL)
    def alert_data_quality() -> dict:
        """One digest per province of the data-quality errors this run first found."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        dag_run = get_current_context()["dag_run"]
        send = str(dag_run.run_type).endswith("scheduled") or bool((dag_run.conf or {}).get("send"))
        return pipeline.send_data_quality_alerts(settings, run_date, run_id, send=send)

    @task(pool=WRITER_POOL)
    def report(snapshot: str) -> str:
        """The day's HTML report, with dbt docs and Data Docs beside it."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        return pipeline.report(settings, run_date, run_id, snapshot)

    @task(pool=WRITER_POOL)
    def record(snapshot: str, page: str, inputs: str) -> None:
        """Every step succeeded: the run's outputs stand for its inputs (``changes``)."""
        from bluezone_warehouse import pipeline

        settings, run_id, run_date = _context()
        pipeline.record_run(settings, run_date, run_id, inputs, snapshot, page)

    published = publish()
    todo = changes()
    checked = check()
    ingest() >> todo >> build() >> published >> checked
    page = report(published)
    alerted = alert_data_quality()
    checked >> [page, alerted]
    alerted >> record(published, page, todo)


bluezone_daily()
