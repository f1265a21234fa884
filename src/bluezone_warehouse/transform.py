"""Running dbt: one ``dbt build`` per pipeline run, its results kept.

dbt runs in a subprocess with the run's business day as the ``run_date`` var (never the wall
clock). Its artifacts are kept per run under the work directory, and one row per node goes
into ``ops.dbt_results`` in the warehouse, so "what did the last build do" is a query.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bluezone_warehouse.config import DBT_PROJECT_DIR, Settings, safe_run_id
from bluezone_warehouse.warehouse import writer

log = logging.getLogger(__name__)

RESULTS_DDL = """
create schema if not exists ops;
create table if not exists ops.dbt_results (
    run_id varchar not null,
    run_date date not null,
    unique_id varchar not null,
    resource_type varchar,
    status varchar not null,
    failures bigint,
    message varchar,
    execution_seconds double,
    invocation_id varchar not null,
    generated_at timestamptz
);
"""


class DbtBuildFailed(RuntimeError):
    """dbt build ended with errors; the message lists the failing nodes."""


@dataclass(frozen=True)
class BuildResult:
    run_id: str
    artifacts_dir: Path
    counts: dict[str, int]
    failures: list[str]


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings, artifacts_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BLUEZONE_WAREHOUSE_PATH=str(settings.warehouse_path),
        DBT_TARGET_PATH=str(artifacts_dir / "target"),
        DBT_LOG_PATH=str(artifacts_dir / "logs"),
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def run_dbt(
    settings: Settings,
    args: list[str],
    run_date: date,
    artifacts_dir: Path,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command for ``run_date`` with its artifacts in ``artifacts_dir``."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--vars",
        json.dumps({"run_date": run_date.isoformat()}),
    ]
    log.info("running %s", " ".join(command))
    return subprocess.run(
        command,
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(settings, artifacts_dir),
        capture_output=True,
        text=True,
        check=False,
    )


def build(
    settings: Settings,
    run_date: date,
    run_id: str,
    *,
    full_refresh: bool = False,
) -> BuildResult:
    """``dbt build`` the whole project for ``run_date``; raise if any node failed."""
    artifacts_dir = settings.run_artifacts_dir / safe_run_id(run_id) / "dbt"
    if artifacts_dir.exists():
        shutil.rmtree(artifacts_dir)
    args = ["build", "--fail-fast"] if not full_refresh else ["build", "--full-refresh"]
    completed = run_dbt(settings, args, run_date, artifacts_dir)
    (artifacts_dir / "dbt_build.log").write_text(completed.stdout + completed.stderr)
    results_path = artifacts_dir / "target" / "run_results.json"
    if not results_path.exists():
        raise DbtBuildFailed(
            f"dbt build produced no results (exit {completed.returncode}):\n"
            + "\n".join((completed.stdout + completed.stderr).splitlines()[-30:])
        )
    results = json.loads(results_path.read_text())
    store_results(settings, results, run_id, run_date)
    counts: dict[str, int] = {}
    failures = []
    for result in results["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        if result["status"] in ("error", "fail", "runtime error"):
            failures.append(f"{result['unique_id']}: {result.get('message')}")
    if failures or completed.returncode != 0:
        raise DbtBuildFailed(
            f"dbt build failed for {run_date}: {len(failures)} node(s) failed\n"
            + "\n".join(failures[:20])
            + ("" if failures else "\n" + "\n".join(completed.stdout.splitlines()[-20:]))
        )
    log.info("dbt build for %s: %s", run_date, counts)
    return BuildResult(run_id, artifacts_dir, counts, failures)


def store_results(settings: Settings, results: dict, run_id: str, run_date: date) -> None:
    rows = [
        (
            run_id,
            run_date,
            result["unique_id"],
            result["unique_id"].split(".", 1)[0],
            result["status"],
            result.get("failures"),
            (result.get("message") or "")[:2000],
            result.get("execution_time"),
            results["metadata"]["invocation_id"],
            results["metadata"].get("generated_at"),
        )
        for result in results["results"]
    ]
    with writer(settings.warehouse_path) as con:
        con.execute(RESULTS_DDL)
        con.execute("begin")
        con.execute("delete from ops.dbt_results where run_id = ?", [run_id])
        if rows:
            con.executemany(
                "insert into ops.dbt_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        con.execute("commit")
