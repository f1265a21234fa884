"""Lineage: simulate one province for three days, run ``bluezone_daily`` under a real
``airflow dags test`` (its own Airflow home and SQLite metadata under the test's tmp dir),
read the OpenLineage event files it wrote, and follow the graph of datasets they describe
from every landed file to every mart.

The expected datasets, jobs and paths come from outside the lineage code: the files on disk
in the landing zone, the warehouse's own tables and manifest rows, dbt's artifacts of the
run (``manifest.json``, ``run_results.json``) and Airflow's metadata database.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import uuid
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import airflow_environment, load_settings
from bluezone_warehouse.lineage import landed_file_dataset_id
from bluezone_warehouse.schedule import logical_date_for
from tests.conftest import airflow, environment_for

PROVINCE = "89"  # An Giang
START, END = date(2020, 8, 1), date(2020, 8, 3)
# Rejected rows and quarantined files too, so that every raw table gets rows.
FAULTS = dataclasses.replace(
    FaultRates.none(), unknown_unit=0.1, malformed_file=0.1, redelivery=0.3, late_report=0.2
)
# The namespace of the warehouse's jobs (README, "Lineage").
JOB_NAMESPACE = "bluezone"
RUN_STATES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}

pytestmark = pytest.mark.airflow

Node = tuple[str, str]  # (namespace, name) of a dataset


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("lineage")
    env = environment_for(root)
    landing = Path(env["BLUEZONE_LANDING_URL"])
    simulate_campaign(landing, start=START, end=END, provinces=[PROVINCE], seed=5, faults=FAULTS)
    airflow_env = airflow_environment({**os.environ, **env, "AIRFLOW_HOME": str(root / "airflow")})
    airflow(airflow_env, "db", "migrate")
    airflow(airflow_env, "dags", "test", "bluezone_daily", logical_date_for(END).isoformat())

    settings = load_settings(env)
    lineage_dir = Path(env["BLUEZONE_LINEAGE_DIR"])
    files = sorted(lineage_dir.glob("*.json"))
    assert files, f"no OpenLineage event file in {lineage_dir}"
    events = [json.loads(path.read_text()) for path in files]
    (target,) = settings.run_artifacts_dir.glob("*/dbt/target")
    metadata = sqlite3.connect(root / "airflow" / "airflow.db")
    try:
        task_states = dict(
            metadata.execute(
                "select task_id, state from task_instance where dag_id = 'bluezone_daily'"
            ).fetchall()
        )
    finally:
        metadata.close()
    return {
        "settings": settings,
        "landing": landing,
        "events": events,
        "files": files,
        "manifest": json.loads((target / "manifest.json").read_text()),
        "run_results": json.loads((target / "run_results.json").read_text()),
        "task_states": task_states,
    }


def warehouse_rows(run: dict, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(run["settings"].warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def table_node(run: dict, schema: str, table: str) -> Node:
    """How the README says a warehouse table is named in the events."""
    warehouse = run["settings"].warehouse_path
    return f"duckdb://{warehouse}", f"{warehouse.stem}.{schema}.{table}"


def file_node(path: Path) -> Node:
    return "file", str(path)


def landed_files(run: dict) -> set[Path]:
    """Every file the simulation dropped into the landing zone (its ground truth apart)."""
    return {
        path
        for folder in ("installs", "reports")
        for path in (run["landing"] / folder).rglob("*")
        if path.is_file()
    }


def runs_by_job(run: dict) -> dict[str, dict[str, list[dict]]]:
    """job name -> run id -> that run's events, in the order of their times."""
    jobs: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for event in sorted(run["events"], key=lambda e: datetime.fromisoformat(e["eventTime"])):
        jobs[event["job"]["name"]][event["run"]["runId"]].append(event)
    return jobs


def upstream(run: dict) -> dict[Node, set[Node]]:
    """The graph of the events: each output dataset -> the inputs of the runs writing it."""
    edges: dict[Node, set[Node]] = defaultdict(set)
    for event in run["events"]:
        if event["eventType"] == "FAIL":
            continue
        for output in event.get("outputs") or []:
            for source in event.get("inputs") or []:
                edges[(output["namespace"], output["name"])].add(
                    (source["namespace"], source["name"])
                )
    return edges


def ancestors(edges: dict[Node, set[Node]], node: Node) -> set[Node]:
    seen: set[Node] = set()
    todo = [node]
    while todo:
        for parent in edges.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def dbt_ancestors(manifest: dict, unique_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        for parent in manifest["parent_map"].get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_every_event_is_a_well_formed_openlineage_run_event(run: dict) -> None:
    assert len(run["events"]) == len(run["files"])
    for path, event in zip(run["files"], run["events"], strict=True):
        assert event["eventType"] in RUN_STATES, path
        assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None, path
        assert uuid.UUID(event["run"]["runId"]).version == 7, path
        assert event["job"]["namespace"] == JOB_NAMESPACE, path
        assert event["job"]["name"], path
        assert event["producer"].startswith("https://"), path
        assert event["schemaURL"].startswith("https://openlineage.io/spec/"), path
        assert event["schemaURL"].endswith("#/$defs/RunEvent"), path
        for dataset in (event.get("inputs") or []) + (event.get("outputs") or []):
            assert dataset["namespace"] and dataset["name"], path
    # Every run that started completed, under one job name, and nothing failed.
    for job, runs in runs_by_job(run).items():
        for run_id, events in runs.items():
            states = [event["eventType"] for event in events]
            assert "FAIL" not in states, (job, run_id)
            if "START" in states:
                assert "COMPLETE" in states, (job, run_id, states)


def test_each_task_of_the_dag_run_has_its_openlineage_run(run: dict) -> None:
    states = run["task_states"]
    assert set(states.values()) == {"success"}, states
    jobs = runs_by_job(run)
    run_ids = set()
    for task_id in states:
        runs = jobs[f"bluezone_daily.{task_id}"]
        assert len(runs) == 1, (task_id, runs.keys())
        ((run_id, events),) = runs.items()
        kinds = [event["eventType"] for event in events]
        assert kinds[0] == "START" and kinds[-1] == "COMPLETE", (task_id, kinds)
        run_ids.add(run_id)
    assert len(run_ids) == len(states)
    assert any(e["eventType"] == "COMPLETE" for r in jobs["bluezone_daily"].values() for e in r)


def test_ingest_reads_every_landed_file_and_writes_the_raw_tables(run: dict) -> None:
    runs = runs_by_job(run)["bluezone_daily.ingest"]
    assert len(runs) == 1, runs.keys()
    ((events),) = runs.values()
    inputs = {(d["namespace"], d["name"]) for e in events for d in e.get("inputs") or []}
    outputs = {(d["namespace"], d["name"]) for e in events for d in e.get("outputs") or []}
    assert inputs == {file_node(path) for path in landed_files(run)}
    tables = {
        table
        for (table,) in warehouse_rows(
            run, "select table_name from information_schema.tables where table_schema = 'raw'"
        )
        if warehouse_rows(run, f"select count(*) from raw.{table}")[0][0]
    }
    assert {"landing_files", "install_exports", "unit_reports", "rejected_rows"} <= tables
    assert outputs == {table_node(run, "raw", table) for table in tables}


def test_each_dbt_model_and_seed_has_its_run_from_its_inputs_to_its_table(run: dict) -> None:
    manifest, jobs = run["manifest"], runs_by_job(run)
    (build_run,) = jobs["bluezone_daily.build"]
    nodes = {**manifest["nodes"], **manifest["sources"]}

    def node_of(unique_id: str) -> Node:
        node = nodes[unique_id]
        table = node["name"] if unique_id.startswith("source.") else node["alias"]
        return table_node(run, node["schema"], table)

    ran = [
        r
        for r in run["run_results"]["results"]
        if r["unique_id"].split(".")[0] in ("model", "seed")
    ]
    assert len(ran) > 20 and {r["status"] for r in ran} == {"success"}
    for result in ran:
        unique_id = result["unique_id"]
        kind, package_and_name = unique_id.split(".", 1)
        node = manifest["nodes"][unique_id]
        suffix = "build.run" if kind == "model" else "build.seed"
        job = f"{node['database']}.{node['schema']}.{package_and_name}.{suffix}"
        assert len(jobs[job]) == 1, f"{job}: {len(jobs[job])} runs, expected one"
        ((events),) = jobs[job].values()
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"], job
        complete = events[-1]
        assert {(d["namespace"], d["name"]) for d in complete["outputs"]} == {node_of(unique_id)}
        inputs = {(d["namespace"], d["name"]) for d in complete["inputs"]}
        if kind == "seed":
            csv = Path(node["root_path"], node["original_file_path"]).resolve()
            assert inputs == {file_node(csv)}, job
        else:
            parents = manifest["parent_map"][unique_id]
            assert inputs == {node_of(parent) for parent in parents}, job
        parent = complete["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == build_run, job
        assert parent["job"] == {"namespace": JOB_NAMESPACE, "name": "bluezone_daily.build"}


def test_a_path_leads_from_the_landed_files_to_every_mart(run: dict) -> None:
    """Every landed file that put rows into a raw table a mart is built from is upstream of
    the mart in the events; a mart built from reference data alone is downstream of its
    seed files."""
    manifest, edges = run["manifest"], upstream(run)
    marts = {
        table
        for (table,) in warehouse_rows(
            run, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert {"fct_coverage_daily", "fct_reporting_compliance", "dim_admin_units"} <= marts
    landed = {file_node(path) for path in landed_files(run)}
    fed_by_files, built_from_sources = set(), set()
    for mart in sorted(marts):
        upstream_of_mart = ancestors(edges, table_node(run, "marts", mart))
        (model,) = [
            uid
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] == "model"
            and node["schema"] == "marts"
            and node["alias"] == mart
        ]
        dbt_upstream = dbt_ancestors(manifest, model)
        for source in (uid for uid in dbt_upstream if uid.startswith("source.")):
            table = manifest["sources"][source]["name"]
            assert table_node(run, "raw", table) in upstream_of_mart, (mart, table)
            files = {
                file_node(run["landing"] / path)
                for (path,) in warehouse_rows(
                    run,
                    "select path from raw.landing_files where file_id in "
                    f"(select file_id from raw.{table})"
                    if table != "landing_files"
                    else "select path from raw.landing_files",
                )
            }
            assert files <= upstream_of_mart, (mart, table, sorted(files - upstream_of_mart)[:5])
        for seed in (uid for uid in dbt_upstream if uid.startswith("seed.")):
            node = manifest["nodes"][seed]
            csv = Path(node["root_path"], node["original_file_path"]).resolve()
            assert file_node(csv) in upstream_of_mart, (mart, seed)
        if upstream_of_mart & landed:
            fed_by_files.add(mart)
        if any(uid.startswith("source.") for uid in dbt_upstream):
            built_from_sources.add(mart)
    # Only the marts of reference data alone (the units and their populations) have no
    # landed file upstream.
    assert fed_by_files == built_from_sources
    assert {"fct_coverage_daily", "fct_reporting_compliance"} <= fed_by_files


def test_a_file_landed_in_s3_is_named_by_its_bucket_and_key() -> None:
    """OpenLineage's naming for S3 (the distributed setup's landing zone): namespace
    ``s3://<bucket>``, name the object's key."""
    settings = load_settings({"BLUEZONE_LANDING_URL": "s3://bluezone-landing/campaign-2020"})
    assert landed_file_dataset_id(settings, "reports/20200801_89_a.xlsx") == (
        "s3://bluezone-landing",
        "campaign-2020/reports/20200801_89_a.xlsx",
    )
    settings = load_settings({"BLUEZONE_LANDING_URL": "s3://bluezone-landing"})
    assert landed_file_dataset_id(settings, "installs/installs_20200801.csv") == (
        "s3://bluezone-landing",
        "installs/installs_20200801.csv",
    )
