"""Steps the benchmarks time, each run in a fresh process by ``common.measure``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path


def environment(root: str, landing: str) -> dict[str, str]:
    from bluezone_warehouse.config import environment_under

    return environment_under(Path(root), landing)


def simulate(out: str, start: str, end: str, commune_level: bool = False) -> int:
    from bluezone_devtools.simulate import FaultRates, simulate_campaign

    result = simulate_campaign(
        Path(out),
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        faults=FaultRates(),
        commune_level=commune_level,
    )
    return result.files_written


def direct_daily(root: str, landing: str, day: str) -> dict:
    """Every step of bluezone_daily in this one process (run_daily)."""
    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.pipeline import run_daily

    run = run_daily(
        load_settings(environment(root, landing)), date.fromisoformat(day), run_id=f"bench-{day}"
    )
    return {
        "ingested": run.ingested["files_new"],
        "built": run.built,
        "steps": run.seconds,
    }


def airflow_daily(root: str, landing: str, day: str) -> dict:
    """The same day as a real Airflow run (airflow dags test), and its timeline from
    Airflow's metadata database: seconds after the command started at which each task
    started and ended, and when the command ended."""
    import sqlite3
    import time

    from bluezone_warehouse.config import airflow_environment
    from bluezone_warehouse.schedule import logical_date_for

    airflow = str(Path(sys.executable).with_name("airflow"))
    env = airflow_environment({**os.environ, **environment(root, landing)})
    started = time.time()
    completed = subprocess.run(
        [
            airflow,
            "dags",
            "test",
            "bluezone_daily",
            logical_date_for(date.fromisoformat(day)).isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ended = time.time()
    if completed.returncode != 0:
        raise RuntimeError(completed.stdout[-3000:] + completed.stderr[-3000:])
    con = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    try:
        rows = con.execute(
            """
            select task_id, start_date, end_date from task_instance
            where dag_id = 'bluezone_daily' and run_id = (
                select run_id from dag_run where dag_id = 'bluezone_daily' order by id desc limit 1
            ) and start_date is not null
            """
        ).fetchall()
    finally:
        con.close()

    def after(stamp: str) -> float:  # Airflow stores UTC without a zone
        at = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
        return round(at - started, 2)

    tasks = {task: [after(start), after(end)] for task, start, end in rows}
    return {"tasks": tasks, "ended": round(ended - started, 2)}


def ingest_only(root: str, landing: str) -> dict:
    """One ingestion of everything landed (no build), for memory per landed file."""
    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.ingest import ingest_landing

    env = {**environment(root, landing), "BLUEZONE_SETTLE_SECONDS": "0"}
    summary = ingest_landing(load_settings(env), run_id="bench-ingest")
    return summary.as_dict()
