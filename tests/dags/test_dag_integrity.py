"""Every DAG imports cleanly, has no cycles, runs its writers in the single-slot pool, sets
catchup explicitly, has owners and tags, and imports nothing heavy at parse time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bluezone_warehouse.config import PROJECT_DIR, airflow_environment

DAGS_DIR = PROJECT_DIR / "dags"
EXPECTED_DAGS = {"bluezone_daily", "bluezone_report_deadlines"}
HEAVY_MODULES = ("great_expectations", "dbt", "duckdb", "pandas", "openpyxl", "plotly")

_PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "tags": sorted(dag.tags),
        "doc_md": bool(dag.doc_md),
        "tasks": {t.task_id: {"pool": t.pool, "owner": t.owner} for t in dag.tasks},
        "timezone": str(dag.timezone),
        "fileloc": dag.fileloc,
    }
print("JSON:" + json.dumps(out))
"""

_IMPORT_PROBE = """
import importlib.util, json, sys
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("JSON:" + json.dumps(sorted(set(sys.modules) - before)))
"""


def _run_probe(script: str, argument: str) -> object:
    completed = subprocess.run(
        [sys.executable, "-c", script, argument],
        env=airflow_environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("JSON:"))
    return json.loads(line[len("JSON:") :])


@pytest.fixture(scope="module")
def dagbag() -> dict:
    return _run_probe(_PROBE, str(DAGS_DIR))


def test_every_dag_imports_without_errors_or_cycles(dagbag: dict) -> None:
    assert dagbag["import_errors"] == {}
    assert set(dagbag["dags"]) >= EXPECTED_DAGS


def test_dags_are_explicit_about_catchup_concurrency_and_docs(dagbag: dict) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert dag["catchup"] is False, dag_id
        assert dag["max_active_runs"] == 1, dag_id
        assert dag["doc_md"], dag_id
        assert "bluezone" in dag["tags"], dag_id
        assert dag["timezone"] == "Asia/Ho_Chi_Minh", dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "data-engineering", f"{dag_id}.{task_id}"


def test_every_warehouse_writer_runs_in_the_single_slot_pool(dagbag: dict) -> None:
    tasks = dagbag["dags"]["bluezone_daily"]["tasks"]
    assert set(tasks) == {
        "ingest",
        "changes",
        "build",
        "check",
        "publish",
        "report",
        "alert_data_quality",
        "record",
    }
    assert {task["pool"] for task in tasks.values()} == {"warehouse_writer"}


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS_DIR.glob("*.py")))
def test_no_heavy_imports_at_parse_time(dag_file: str) -> None:
    imported = _run_probe(_IMPORT_PROBE, str(DAGS_DIR / dag_file))
    heavy = sorted({name.split(".")[0] for name in imported} & set(HEAVY_MODULES))
    assert heavy == []
    assert not any(name.startswith("bluezone_warehouse.ingest") for name in imported)


def test_the_pool_exists_with_one_slot() -> None:
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("airflow")),
            "pools",
            "get",
            "warehouse_writer",
            "--output",
            "json",
        ],
        env=airflow_environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    pools = json.loads(completed.stdout)
    assert [(p["pool"], int(p["slots"])) for p in pools] == [("warehouse_writer", 1)]


def test_the_deadline_dag_runs_at_every_deadline_and_escalation(dagbag: dict) -> None:
    tasks = dagbag["dags"]["bluezone_report_deadlines"]["tasks"]
    assert {task["pool"] for task in tasks.values()} == {"warehouse_writer"}
    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.schedule import alert_times

    assert alert_times(load_settings({})) == ["15:00", "16:00", "17:00", "18:00"]
    assert alert_times(load_settings({"BLUEZONE_REMINDER_BEFORE_MINUTES": "60"})) == [
        "14:00",
        "15:00",
        "16:00",
        "17:00",
        "18:00",
    ]
