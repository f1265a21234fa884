"""The daily pipeline's steps as plain functions, so Airflow tasks, the CLI and benchmarks
all run exactly the same code (DESIGN §2): ingest → build → publish.

The business day a run is for comes from the Airflow data interval (see :func:`run_date_for`)
and is the only date any step uses; nothing reads the wall clock for business logic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bluezone_warehouse.config import LOCAL_TZ, Settings, safe_run_id

log = logging.getLogger(__name__)

# The daily run for day D starts at this local time on D+1, once D's export can have arrived.
DAILY_RUN_LOCAL_TIME = time(2, 0)


def run_date_for(data_interval_start: datetime) -> date:
    """The business day of a ``bluezone_daily`` run: the local day its interval starts on."""
    return data_interval_start.astimezone(LOCAL_TZ).date()


def logical_date_for(run_date: date) -> datetime:
    """The logical date to give ``airflow dags test`` so that the run is for ``run_date``."""
    return datetime.combine(run_date + timedelta(days=1), DAILY_RUN_LOCAL_TIME, tzinfo=LOCAL_TZ)


def ingest(settings: Settings, run_id: str) -> dict[str, object]:
    from bluezone_warehouse.ingest import ingest_landing

    return ingest_landing(settings, run_id=run_id).as_dict()


def build(settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    from bluezone_warehouse import transform

    return transform.build(settings, run_date, run_id).counts


def publish(settings: Settings, run_date: date, run_id: str) -> str:
    from bluezone_warehouse.warehouse import publish as publish_snapshot

    snapshot_id = f"{run_date:%Y%m%d}-{safe_run_id(run_id)}"
    return str(publish_snapshot(settings.warehouse_path, settings.publish_dir, snapshot_id))


@dataclass(frozen=True)
class DailyRun:
    run_date: date
    ingested: dict[str, object]
    built: dict[str, int]
    snapshot: str


def run_daily(settings: Settings, run_date: date, run_id: str | None = None) -> DailyRun:
    """Every step of ``bluezone_daily`` in this process, in order (no Airflow)."""
    run_id = run_id or f"direct__{run_date.isoformat()}"
    ingested = ingest(settings, run_id)
    built = build(settings, run_date, run_id)
    snapshot = publish(settings, run_date, run_id)
    return DailyRun(run_date, ingested, built, snapshot)
