"""OpenLineage events for the warehouse: where they go, how its datasets are named, and the
events of an ingestion run and of a dbt build.

Every Airflow task of the warehouse emits START and COMPLETE events through Airflow's
OpenLineage provider (configured by ``config.airflow_environment``); the ingestion task adds
the landed files it read and the raw tables it wrote (``report_ingest_lineage``), and the
build adds one run per dbt model and seed, its inputs the tables it reads and its output its
table (``emit_dbt_lineage``). By default every event is one JSON file in
``Settings.lineage_dir`` (``BLUEZONE_LINEAGE_DIR``), written by OpenLineage's file transport.

Dataset names follow OpenLineage's naming conventions, so the events of different producers
join up into one graph:

- a table of the warehouse: namespace ``duckdb://<absolute path of the warehouse file>``,
  name ``<catalog>.<schema>.<table>`` (the catalog is the file's name without extension,
  as DuckDB and dbt-duckdb call it; the namespace is the one OpenLineage's dbt integration
  gives a DuckDB profile);
- a landed file or a seed file on disk: namespace ``file``, name its absolute path;
- a landed file in S3: namespace ``s3://<bucket>``, name its key.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from openlineage.client.transport.file import FileConfig, FileTransport
from openlineage.client.transport.transport import Config

from bluezone_warehouse import tables
from bluezone_warehouse.config import LINEAGE_NAMESPACE, Settings, load_settings

if TYPE_CHECKING:
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent
    from openlineage.common.provider.dbt.facets import ParentRunMetadata

log = logging.getLogger(__name__)

# The prefix of every event file: <lineage_dir>/openlineage-<pid>-<time>.json
EVENT_FILE_PREFIX = "openlineage"

# The raw tables whose rows name the delivery they came from; the manifest,
# raw.landing_files, gets a row for every file read.
_RAW_TABLES_BY_FILE = tuple(
    table.name
    for table in tables.RAW_TABLES
    if table is not tables.LANDING_FILES and "file_id" in table.column_names
)


# --- where events go -------------------------------------------------------------------------


@dataclass
class LineageDirConfig(Config):
    """``directory``: where the event files go; by default ``Settings.lineage_dir`` of the
    process creating the transport."""

    directory: str | None = None

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> LineageDirConfig:
        return cls(directory=params.get("directory"))


class LineageDirTransport(FileTransport):
    """OpenLineage's file transport, one JSON file per event, into the warehouse's lineage
    directory.

    Airflow's transport setting names this class rather than a path, so that each process
    (the scheduler, a worker, ``airflow dags test``) writes into the directory of its own
    settings, as it reads and writes every other path of the pipeline; the directory is
    created when missing. Each file name carries the process id, so that processes writing
    at the same moment never write the same file.
    """

    config_class = LineageDirConfig

    def __init__(self, config: LineageDirConfig) -> None:
        directory = Path(config.directory) if config.directory else load_settings().lineage_dir
        directory.mkdir(parents=True, exist_ok=True)
        prefix = directory / f"{EVENT_FILE_PREFIX}-{os.getpid()}"
        super().__init__(FileConfig(log_file_path=str(prefix), append=False))


# --- how datasets are named -----------------------------------------------------------------


def warehouse_namespace(settings: Settings) -> str:
    return f"duckdb://{settings.warehouse_path}"


def warehouse_table_name(settings: Settings, schema: str, table: str) -> str:
    return f"{settings.warehouse_path.stem}.{schema}.{table}"


def landed_file_dataset_id(settings: Settings, relative_path: str) -> tuple[str, str]:
    """(namespace, name) of a file of the landing zone, from its path relative to the
    landing root as the manifest (``raw.landing_files.path``) records it."""
    from openlineage.client.naming.dataset import S3, LocalFileSystem

    if settings.landing_is_local:
        path = str(Path(settings.landing_url) / relative_path)
        naming = LocalFileSystem(path=path)
        return naming.get_namespace(), naming.get_name()
    url = urlparse(settings.landing_url)
    key = "/".join(part for part in (url.path.strip("/"), relative_path) if part)
    if url.scheme == "s3":
        naming = S3(bucket_name=url.netloc, object_key=key)
        return naming.get_namespace(), naming.get_name()
    return f"{url.scheme}://{url.netloc}", key


# --- the ingestion task ---------------------------------------------------------------------


def ingest_datasets(
    settings: Settings, run_id: str
) -> tuple[list[InputDataset], list[OutputDataset]]:
    """The landed files ingestion run ``run_id`` read (inputs) and the raw tables it wrote
    rows to (outputs), from the warehouse's manifest; none when it read no file."""
    import duckdb
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        files = con.execute(
            "select path from raw.landing_files where run_id = ? order by path", [run_id]
        ).fetchall()
        if not files:
            return [], []
        written = ["landing_files"]
        for table in _RAW_TABLES_BY_FILE:
            (has_rows,) = con.execute(
                f"select exists (select 1 from raw.{table} where file_id in "
                "(select file_id from raw.landing_files where run_id = ?))",
                [run_id],
            ).fetchone()
            if has_rows:
                written.append(table)
    finally:
        con.close()
    inputs = [
        InputDataset(namespace=namespace, name=name)
        for namespace, name in dict.fromkeys(
            landed_file_dataset_id(settings, path) for (path,) in files
        )
    ]
    namespace = warehouse_namespace(settings)
    outputs = [
        OutputDataset(namespace=namespace, name=warehouse_table_name(settings, "raw", table))
        for table in written
    ]
    return inputs, outputs


def report_ingest_lineage(settings: Settings, run_id: str, *, raise_on_error: bool = False) -> int:
    """Inside the ingestion task: attach the files it read and the raw tables it wrote to
    the task's OpenLineage run, with the provider's ``emit_dataset_lineage`` (a RUNNING
    event with the task's run id, between its START and COMPLETE). Returns the number of
    files reported: none when OpenLineage is off or the run read no file. A failure is
    logged, never raised (lineage never fails a run), unless ``raise_on_error``."""
    from airflow.providers.openlineage.api import emit_dataset_lineage, is_openlineage_active

    if not is_openlineage_active():
        return 0
    try:
        inputs, outputs = ingest_datasets(settings, run_id)
        if inputs:
            emit_dataset_lineage(inputs=inputs, outputs=outputs, raise_on_error=True)
        return len(inputs)
    except Exception:
        if raise_on_error:
            raise
        log.warning("the lineage of ingestion run %s could not be reported", run_id, exc_info=True)
        return 0


# --- a dbt build ----------------------------------------------------------------------------


def emit_dbt_lineage(settings: Settings, target_dir: Path, *, raise_on_error: bool = False) -> int:
    """Emit the OpenLineage events of the dbt command whose artifacts are in ``target_dir``
    (its ``manifest.json`` and ``run_results.json``); returns how many were emitted.

    One run per model and seed that ran (START, then COMPLETE or FAIL), named as
    OpenLineage's dbt integration names them (``<catalog>.<schema>.<package>.<model>
    .build.run``): a model's inputs are the sources, seeds and models it selects from, its
    output is its table; a seed's input is its CSV file. dbt's tests add one run per tested
    model with their assertions. Inside an Airflow task the runs name the task's run as
    their parent and go wherever the task's own events go; elsewhere (``bluezone run``)
    they go to ``Settings.lineage_dir``. A failure is logged, never raised (lineage never
    fails a build), unless ``raise_on_error``.
    """
    started = perf_counter()
    try:
        events = dbt_events(settings, target_dir, parent=_airflow_task_parent())
        emit = _airflow_emit() or _file_emit(settings)
        for event in events:
            emit(event)
    except Exception:
        if raise_on_error:
            raise
        log.warning(
            "the lineage of dbt's run in %s could not be emitted", target_dir, exc_info=True
        )
        return 0
    log.info(
        "%d OpenLineage events for dbt's run in %s (%.2f s)",
        len(events),
        target_dir,
        perf_counter() - started,
    )
    return len(events)


def dbt_events(
    settings: Settings, target_dir: Path, parent: ParentRunMetadata | None = None
) -> list[RunEvent]:
    """The events of ``emit_dbt_lineage``, built from the artifacts by OpenLineage's dbt
    processor, with the seeds added (the processor leaves them out)."""
    import attr
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset
    from openlineage.client.facet_v2 import job_type_job
    from openlineage.common.provider.dbt.facets import DbtNodeJobFacet

    processor = _processor_class()(target_dir, settings)
    if parent is not None:
        processor.dbt_run_metadata = parent
    events = processor.parse().events()
    manifest = processor.manifest
    namespace = warehouse_namespace(settings)

    def seed_table(seed_id: str) -> tuple[str, str]:
        node = manifest["nodes"][seed_id]
        return namespace, ".".join((node["database"], node["schema"], node["alias"]))

    # A model's seeds are inputs too (the processor takes only its models and sources).
    models = []
    for event in events:
        node = event.job.facets.get("dbt_node")
        seeds = [
            parent_id
            for parent_id in manifest["parent_map"].get(getattr(node, "unique_id", None), [])
            if parent_id.startswith("seed.")
        ]
        if seeds and event.job.facets["jobType"].jobType == "MODEL":
            tables = (InputDataset(namespace=ns, name=name) for ns, name in map(seed_table, seeds))
            event = attr.evolve(event, inputs=[*event.inputs, *tables])
        models.append(event)

    # One run per seed loaded: its CSV file into its table.
    seeds = []
    for result in processor.run_results["results"]:
        seed_id = result["unique_id"]
        if not seed_id.startswith("seed.") or result["status"] == "skipped":
            continue
        node = manifest["nodes"][seed_id]
        csv = os.path.normpath(Path(node["root_path"]) / node["original_file_path"])
        name = ".".join((node["database"], node["schema"], seed_id.removeprefix("seed.")))
        job = Job(
            namespace=processor.job_namespace,
            name=f"{name}.build.seed",
            facets={
                "jobType": job_type_job.JobTypeJobFacet(
                    jobType="SEED",
                    integration="DBT",
                    processingType="BATCH",
                    producer=processor.producer,
                ),
                "dbt_node": DbtNodeJobFacet(
                    original_file_path=node.get("original_file_path"),
                    database=node.get("database"),
                    schema=node.get("schema"),
                    alias=node.get("alias"),
                    unique_id=seed_id,
                ),
            },
        )
        started_at, completed_at = processor.get_timings(result["timing"])
        pair = processor.to_openlineage_events(
            "success" if result["status"] == "success" else "error",
            started_at,
            completed_at,
            processor.get_run(run_id=_new_run_id()),
            job,
            [InputDataset(namespace="file", name=csv)],
            OutputDataset(*seed_table(seed_id)),
        )
        seeds += [pair.start, pair.complete or pair.fail]
    return seeds + models


def _new_run_id() -> str:
    from openlineage.client.uuid import generate_new_uuid

    return str(generate_new_uuid())


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (expected a dbt target directory's artifact)")
    return json.loads(path.read_text())


@cache
def _processor_class() -> type:
    """OpenLineage's dbt processor on one run's artifacts, with the warehouse as its
    profile, so every table is named in ``warehouse_namespace``. (Built on first use: the
    processor's imports take most of a second, and Airflow imports this module in every
    process for the transport.)"""
    from openlineage.common.provider.dbt.facets import DbtRunRunFacet
    from openlineage.common.provider.dbt.processor import DbtArtifactProcessor
    from openlineage.common.provider.dbt.utils import PRODUCER

    class BuildArtifacts(DbtArtifactProcessor):
        should_raise_on_unsupported_command = True

        def __init__(self, target_dir: Path, settings: Settings) -> None:
            super().__init__(producer=PRODUCER, job_namespace=LINEAGE_NAMESPACE)
            self.target_dir = target_dir
            self.profile = {"type": "duckdb", "path": str(settings.warehouse_path)}
            self.run_results: dict = {}

        def get_dbt_metadata(self) -> tuple[dict, dict, dict, None]:
            manifest = _read_json(self.target_dir / "manifest.json")
            self.run_results = _read_json(self.target_dir / "run_results.json")
            return manifest, self.run_results, self.profile, None

        def dbt_run_run_facet(self) -> dict[str, DbtRunRunFacet]:
            invocation_id = self.run_metadata.get("invocation_id")
            if not invocation_id:
                return {}
            return {
                "dbt_run": DbtRunRunFacet(
                    invocation_id=invocation_id,
                    project_name=self.manifest.get("metadata", {}).get("project_name"),
                    dbt_runtime="core",
                    full_refresh=self.full_refresh,
                )
            }

    return BuildArtifacts


# --- emitting -------------------------------------------------------------------------------


def _airflow_task_instance():
    """The running Airflow task instance, when this process runs one (Airflow is then
    already imported; nothing here imports it otherwise)."""
    if "airflow.sdk" not in sys.modules:
        return None
    try:
        from airflow.sdk import get_current_context

        return get_current_context()["ti"]
    except Exception:  # Airflow imported, but no task running here
        return None


def _airflow_task_parent() -> ParentRunMetadata | None:
    """The running Airflow task's OpenLineage run, as the parent of the dbt runs (the
    provider's macros, which give the ids its own events carry)."""
    task_instance = _airflow_task_instance()
    if task_instance is None:
        return None
    from airflow.providers.openlineage.plugins import macros
    from openlineage.common.provider.dbt.facets import ParentRunMetadata

    return ParentRunMetadata(
        run_id=macros.lineage_run_id(task_instance),
        job_name=macros.lineage_job_name(task_instance),
        job_namespace=macros.lineage_job_namespace(),
        root_parent_run_id=macros.lineage_root_run_id(task_instance),
        root_parent_job_name=macros.lineage_root_job_name(task_instance),
        root_parent_job_namespace=macros.lineage_root_job_namespace(task_instance),
    )


def _airflow_emit():
    """The provider's ``emit`` (the task's own transport) inside an Airflow task with
    OpenLineage on; None otherwise."""
    if _airflow_task_instance() is None:
        return None
    from airflow.providers.openlineage.api import emit, is_openlineage_active

    return emit if is_openlineage_active() else None


def _file_emit(settings: Settings):
    from openlineage.client import OpenLineageClient

    transport = LineageDirTransport(LineageDirConfig(directory=str(settings.lineage_dir)))
    return OpenLineageClient(transport=transport).emit
