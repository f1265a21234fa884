"""One settings object, read from the environment (DESIGN §7).

Only this module reads environment variables. Every default makes the embedded mode work
from a fresh clone: the landing zone, the warehouse, the published snapshot and the alert
outbox and the lineage events all live under ``data/`` in the project.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_DIR = Path(os.environ.get("BLUEZONE_PROJECT_DIR", Path(__file__).resolve().parents[2]))
SEEDS_DIR = PROJECT_DIR / "seeds"
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"

LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)

# The OpenLineage namespace of the warehouse's jobs: the Airflow tasks and the dbt models.
LINEAGE_NAMESPACE = "bluezone"
# Airflow's OpenLineage transport: files in ``Settings.lineage_dir``, resolved by each process
# from its own BLUEZONE_* settings (``bluezone_warehouse.lineage.LineageDirTransport``).
LINEAGE_TRANSPORT = json.dumps({"type": "bluezone_warehouse.lineage.LineageDirTransport"})


@cache
def dbt_vars(project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The ``vars:`` block of ``dbt_project.yml``: the one home of the data-quality check
    catalogue (``bluezone_warehouse.checks``) and of the unit sets a campaign can report on
    (``bluezone_warehouse.units``)."""
    import yaml

    with (project_dir / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["vars"]


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def _url(env: dict[str, str], name: str, default: Path) -> str:
    value = env.get(name)
    if not value:
        return str(default)
    if "://" in value and not value.startswith("file://"):
        return value
    return str(Path(value.removeprefix("file://")).expanduser().resolve())


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes, and the limits it enforces."""

    landing_url: str
    warehouse_path: Path
    publish_dir: Path
    outbox_dir: Path
    quarantine_url: str
    work_dir: Path
    # OpenLineage events of every Airflow task and dbt model run, one JSON file each.
    lineage_dir: Path
    # The administrative unit set the campaign reports on (DESIGN §9): "2020" or "2025",
    # declared in dbt_project.yml (vars.unit_sets; bluezone_warehouse.units), and the
    # campaign's days (report dates outside are out_of_range_date), by default the set's.
    units: str
    campaign_start: date
    campaign_end: date
    max_file_bytes: int = 200 * 1024 * 1024
    max_export_bytes: int = 8 * 1024**3
    max_xlsx_uncompressed_bytes: int = 100 * 1024 * 1024
    ingest_batch_files: int = 500
    # A file is read only once it has not changed for this long (DESIGN §3.3).
    settle_seconds: int = 60
    alert_channels: tuple[str, ...] = ("outbox",)
    alert_language: str = "vi"
    escalation_after_minutes: int = 120
    reminder_before_minutes: int = 0
    task_retries: int = 1
    task_retry_delay_seconds: int = 120
    # When a snapshot's Excel workbooks are written: "after" the swap by a process of their
    # own (default), "inline" before publish returns, or "none".
    workbooks: str = "after"
    # The least severe of dbt's events written to each run's dbt log (``logs/dbt.log``):
    # "info" (default: a line per node, warnings and errors), or "debug" (every SQL
    # statement too, at a cost of about half a second of a national build), "warn",
    # "error", "none".
    dbt_log_level: str = "info"

    @property
    def landing_is_local(self) -> bool:
        return "://" not in self.landing_url

    @property
    def dbt_target_dir(self) -> Path:
        return self.work_dir / "dbt_target"

    @property
    def run_artifacts_dir(self) -> Path:
        return self.work_dir / "runs"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from ``env`` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    data = _path(env, "BLUEZONE_DATA_DIR", PROJECT_DIR / "data")
    landing = _url(env, "BLUEZONE_LANDING_URL", data / "landing")
    warehouse = _path(env, "BLUEZONE_WAREHOUSE_PATH", data / "warehouse" / "bluezone.duckdb")
    units = _unit_set(env)
    return Settings(
        landing_url=landing,
        warehouse_path=warehouse,
        publish_dir=_path(env, "BLUEZONE_PUBLISH_DIR", data / "publish"),
        outbox_dir=_path(env, "BLUEZONE_OUTBOX_DIR", data / "outbox"),
        quarantine_url=_url(env, "BLUEZONE_QUARANTINE_URL", warehouse.parent / "quarantine"),
        work_dir=_path(env, "BLUEZONE_WORK_DIR", warehouse.parent / "work"),
        lineage_dir=_path(env, "BLUEZONE_LINEAGE_DIR", data / "lineage"),
        max_file_bytes=int(env.get("BLUEZONE_MAX_FILE_BYTES", 200 * 1024 * 1024)),
        max_export_bytes=int(env.get("BLUEZONE_MAX_EXPORT_BYTES", 8 * 1024**3)),
        max_xlsx_uncompressed_bytes=int(
            env.get("BLUEZONE_MAX_XLSX_UNCOMPRESSED_BYTES", 100 * 1024 * 1024)
        ),
        ingest_batch_files=int(env.get("BLUEZONE_INGEST_BATCH_FILES", 500)),
        settle_seconds=int(env.get("BLUEZONE_SETTLE_SECONDS", 60)),
        campaign_start=date.fromisoformat(
            env.get("BLUEZONE_CAMPAIGN_START") or _campaign(units)["start"]
        ),
        campaign_end=date.fromisoformat(
            env.get("BLUEZONE_CAMPAIGN_END") or _campaign(units)["end"]
        ),
        alert_channels=tuple(
            c.strip() for c in env.get("BLUEZONE_ALERT_CHANNELS", "outbox").split(",") if c.strip()
        ),
        alert_language=env.get("BLUEZONE_ALERT_LANGUAGE", "vi"),
        escalation_after_minutes=int(env.get("BLUEZONE_ESCALATION_AFTER_MINUTES", 120)),
        reminder_before_minutes=int(env.get("BLUEZONE_REMINDER_BEFORE_MINUTES", 0)),
        task_retries=int(env.get("BLUEZONE_TASK_RETRIES", 1)),
        task_retry_delay_seconds=int(env.get("BLUEZONE_TASK_RETRY_DELAY_SECONDS", 120)),
        workbooks=_choice(env, "BLUEZONE_WORKBOOKS", ("after", "inline", "none")),
        dbt_log_level=_choice(
            env, "BLUEZONE_DBT_LOG_LEVEL", ("info", "debug", "warn", "error", "none")
        ),
        units=units,
    )


def _campaign(units: str) -> dict[str, str]:
    """The campaign window the unit set ``units`` declares (``start``, ``end``)."""
    return dbt_vars()["unit_sets"][units]["campaign"]


def _unit_set(env: dict[str, str]) -> str:
    """BLUEZONE_UNITS, one of the unit sets dbt_project.yml declares (its default when
    unset; bluezone_warehouse.units reads the declarations)."""
    declared = dbt_vars()
    name = (env.get("BLUEZONE_UNITS") or "").strip() or str(declared["unit_set"])
    if name not in declared["unit_sets"]:
        raise ValueError(
            f"BLUEZONE_UNITS must be one of {', '.join(declared['unit_sets'])}, not {name!r}"
        )
    return name


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """The setting ``name``, one of ``choices`` (the first by default)."""
    value = env.get(name, choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def environment_under(root: Path, landing: Path | str | None = None) -> dict[str, str]:
    """BLUEZONE_* variables that put every input and output of the pipeline under ``root``
    (the landing zone at ``landing`` when given). Every path is spelled out, so that these
    win over any BLUEZONE_* variable already set in the environment they are merged into."""
    root = Path(root)
    return {
        "BLUEZONE_DATA_DIR": str(root),
        "BLUEZONE_LANDING_URL": str(landing if landing is not None else root / "landing"),
        "BLUEZONE_WAREHOUSE_PATH": str(root / "warehouse" / "bluezone.duckdb"),
        "BLUEZONE_PUBLISH_DIR": str(root / "publish"),
        "BLUEZONE_OUTBOX_DIR": str(root / "outbox"),
        "BLUEZONE_LINEAGE_DIR": str(root / "lineage"),
    }


def airflow_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the embedded Airflow: its home inside the project, examples off,
    OpenLineage events as files in ``BLUEZONE_LINEAGE_DIR``.

    Values already set in ``env`` win, so the distributed setup can point elsewhere (and
    ``AIRFLOW__OPENLINEAGE__TRANSPORT`` can send the events to a lineage server instead). The
    transport names no path: each Airflow process finds the directory in its own settings.
    """
    env = dict(os.environ if env is None else env)
    defaults = {
        "AIRFLOW_HOME": str(PROJECT_DIR / ".airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": LINEAGE_TRANSPORT,
        "AIRFLOW__OPENLINEAGE__NAMESPACE": LINEAGE_NAMESPACE,
        # A task's events are written from a thread of the task, not a forked copy of it
        # (the provider's default), which can leave a task stranded in ``running``.
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def worker_hostname() -> str:
    """The hostname a task reports to Airflow: ``BLUEZONE_WORKER_NAME`` when set (several
    Celery workers on one host), else the machine's name (``core.hostname_callable``)."""
    import socket

    return os.environ.get("BLUEZONE_WORKER_NAME") or socket.getfqdn()
