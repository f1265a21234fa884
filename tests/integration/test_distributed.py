"""The distributed topology for real: PostgreSQL metadata, Redis, the CeleryExecutor and two
workers, driven through the scheduler. One business day's deadline runs and daily run are
triggered together; every run succeeds, both workers take tasks, the one-slot writer pool
never lets two warehouse writers run at once, the marts and alerts equal the same day run in
one process, and every process started is gone afterwards."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from bluezone_devtools.distributed import WORKERS, Topology, drive_day
from bluezone_devtools.simulate import simulate_campaign
from bluezone_warehouse.config import load_settings
from bluezone_warehouse.pipeline import (
    run_daily,
    send_data_quality_alerts,
    send_deadline_alerts,
)
from bluezone_warehouse.schedule import alert_moment, alert_times
from tests.conftest import table_rows

pytestmark = pytest.mark.distributed

DAY = date(2020, 8, 5)
RUN_DEPENDENT = {"detected_at"}  # when an issue was first seen: wall-clock time of the run


def alerts(outbox: Path) -> tuple[list[tuple], dict[str, str]]:
    lines = [json.loads(line) for line in (outbox / "alerts.jsonl").read_text().splitlines()]
    sent = sorted((a["scope_code"], a["day"], a["kind"], a["subject"], *a["to"]) for a in lines)
    digests = {p.name: p.read_text(encoding="utf-8") for p in (outbox / str(DAY)).iterdir()}
    return sent, digests


def alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_day_runs_on_celery_workers_through_the_scheduler(tmp_path: Path) -> None:
    distributed_env = {"BLUEZONE_DATA_DIR": str(tmp_path / "distributed")}
    settings = load_settings(distributed_env)
    simulate_campaign(Path(settings.landing_url), end=DAY, provinces=["30", "58", "89"], seed=8)
    # The same landed files, with their arrival times, for the in-process reference.
    reference = load_settings({"BLUEZONE_DATA_DIR": str(tmp_path / "reference")})
    shutil.copytree(settings.landing_url, reference.landing_url)

    with Topology(tmp_path / "topology", distributed_env) as topology:
        result = drive_day(topology, DAY, alert_times(settings))
    started = topology.started_pids

    assert {key: run["state"] for key, run in result.runs.items()} == {
        key: "success" for key in result.runs
    }
    assert len(result.runs) == len(alert_times(settings)) + 1
    states = {(ti["dag_run_id"], ti["task_id"]): ti["state"] for ti in result.task_instances}
    assert set(states.values()) == {"success"}, states
    # No task needed a retry: none failed on the DuckDB lock.
    assert {ti["try_number"] for ti in result.task_instances} == {1}
    # the daily run's eight tasks, and each deadline run's refresh and alert
    assert (
        len(result.pool_tasks) == len(result.task_instances) == 8 + 2 * len(alert_times(settings))
    )
    assert result.max_concurrent_in_pool() == 1
    assert {ti["hostname"] for ti in result.task_instances} == set(WORKERS)
    assert len(started) == 2 + len(WORKERS) + 4  # postgres, redis, 4 components, 2 workers
    assert [pid for pid in started if alive(pid)] == []

    for hhmm in alert_times(settings):
        send_deadline_alerts(reference, alert_moment(DAY, hhmm), f"reference-{hhmm}", send=True)
    run_daily(reference, DAY, "reference-daily")
    send_data_quality_alerts(reference, DAY, "reference-daily", send=True)

    assert table_rows(settings.warehouse_path, exclude=RUN_DEPENDENT) == table_rows(
        reference.warehouse_path, exclude=RUN_DEPENDENT
    )
    current = (settings.publish_dir / "current").resolve()
    assert current.name == "20200805-distributed__2020-08-05"
    assert table_rows(current / "bluezone_marts.duckdb", exclude=RUN_DEPENDENT) == table_rows(
        reference.warehouse_path, exclude=RUN_DEPENDENT
    )
    assert (current / "report.html").is_file() or (settings.publish_dir / "report.html").is_file()
    distributed_alerts, reference_alerts = alerts(settings.outbox_dir), alerts(reference.outbox_dir)
    assert len(distributed_alerts[0]) > 63
    assert distributed_alerts == reference_alerts
