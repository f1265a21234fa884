"""docker-compose.yml is the topology `make distributed` runs for real: the same Airflow
components and commands, the same Airflow variables, one shared volume for the warehouse,
S3-compatible storage for the landing zone, an init step for migrations, the writer pool
and the alert connections, and only settings the code reads."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml

from bluezone_devtools.distributed import COMPONENTS, INIT_COMMANDS, celery_environment
from bluezone_warehouse import config
from bluezone_warehouse.alerts import channels
from bluezone_warehouse.config import PROJECT_DIR, load_settings

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = {f"airflow-{name}" for name in COMPONENTS}
# Values of the form ${NAME...} (docker compose substitutes them from .env).
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)")


def env_of(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES[service]["environment"].items()}


def mounts(service: str) -> dict[str, str]:
    """Container path -> named volume."""
    out = {}
    for volume in SERVICES[service].get("volumes", []):
        name, _, target = volume.partition(":")
        out[target] = name
    return out


def test_services_are_the_distributed_topology() -> None:
    assert set(SERVICES) == {"postgres", "redis", "minio", "airflow-init"} | AIRFLOW_SERVICES
    for name, args in COMPONENTS.items():
        assert SERVICES[f"airflow-{name}"]["command"] == ["airflow", *args]
    workers = [s for s in AIRFLOW_SERVICES if "celery" in SERVICES[s]["command"]]
    assert len(workers) == 2
    assert len({SERVICES[w]["hostname"] for w in workers}) == 2


def test_init_step_migrates_creates_the_pool_and_the_connections() -> None:
    script = "\n".join(SERVICES["airflow-init"]["command"])
    for args in INIT_COMMANDS:
        line = "airflow " + " ".join(a if " " not in a else f'"{a}"' for a in args)
        assert line in script
    conn_ids = {
        inspect.signature(cls).parameters["conn_id"].default
        for cls in (
            channels.SmtpChannel,
            channels.SlackWebhookChannel,
            channels.HttpWebhookChannel,
            channels.AppriseChannel,
        )
    }
    assert conn_ids == {"bluezone_smtp", "bluezone_slack", "bluezone_webhook", "bluezone_apprise"}
    for conn_id in conn_ids:
        assert f"{conn_id}:BLUEZONE_{conn_id.split('_')[1].upper()}_URI" in script
    for service in AIRFLOW_SERVICES:
        condition = SERVICES[service]["depends_on"]["airflow-init"]["condition"]
        assert condition == "service_completed_successfully"


@pytest.mark.parametrize("service", sorted(AIRFLOW_SERVICES | {"airflow-init"}))
def test_every_airflow_service_shares_image_variables_and_warehouse_volume(service: str) -> None:
    assert SERVICES[service]["image"] == SERVICES["airflow-apiserver"]["image"]
    env = env_of(service)
    expected = celery_environment(
        sql_alchemy_conn="-", broker_url="-", result_backend="-", api_base_url="-", jwt_secret="-"
    )
    assert set(expected) <= set(env)
    fixed = {k for k, v in expected.items() if "-" not in v}
    assert {k: env[k] for k in fixed} == {k: expected[k] for k in fixed}
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0")
    api = "http://airflow-apiserver:8080"
    assert env["AIRFLOW__API__BASE_URL"] == api
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"{api}/execution/"
    # The warehouse, snapshot and outbox sit on the one volume every component mounts.
    settings = load_settings(env)
    (target,) = [t for t, name in mounts(service).items() if name == "warehouse"]
    for path in (settings.warehouse_path, settings.publish_dir, settings.outbox_dir):
        assert Path(target) in path.parents
    assert settings.work_dir.is_relative_to(target)


def test_landing_zone_is_the_s3_service() -> None:
    env = env_of("airflow-scheduler")
    settings = load_settings(env)
    assert settings.landing_url == "s3://bluezone-landing"
    assert settings.quarantine_url == "s3://bluezone-landing-quarantine"
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert "landing" in {name for name in mounts("minio").values()}
    script = "\n".join(SERVICES["airflow-init"]["command"])
    assert "'bluezone-landing', 'bluezone-landing-quarantine'" in script


def test_only_settings_the_code_reads() -> None:
    read = set(re.findall(r'"(BLUEZONE_[A-Z_]+)"', inspect.getsource(config)))
    for service in SERVICES:
        if not service.startswith("airflow-"):
            continue
        names = {k for k in env_of(service) if k.startswith("BLUEZONE_")}
        init_only = {
            "BLUEZONE_SMTP_URI",
            "BLUEZONE_SLACK_URI",
            "BLUEZONE_WEBHOOK_URI",
            "BLUEZONE_APPRISE_URI",
        }
        assert names - init_only <= read, names - read
        if service == "airflow-init":
            assert init_only <= names


def test_every_substituted_variable_is_in_env_example_and_nothing_secret_is_inline() -> None:
    text = (PROJECT_DIR / "docker-compose.yml").read_text()
    referenced = set(REFERENCE.findall(text))
    example = {
        line.split("=", 1)[0]
        for line in (PROJECT_DIR / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert referenced == example
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert f"${{{name}:?" in text  # required, never defaulted


def test_images_are_pinned_and_the_dockerfile_ships_what_the_code_reads() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest") or "build" in service, name
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    uv_version = re.search(r"^UV_VERSION := (\S+)", (PROJECT_DIR / "Makefile").read_text(), re.M)
    assert f"uv=={uv_version.group(1)}" in dockerfile
    assert "uv sync --frozen" in dockerfile
    for folder in ("src", "dags", "dbt_project", "seeds", "expectations"):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "BLUEZONE_PROJECT_DIR=/opt/bluezone" in dockerfile
    dags = env_of("airflow-scheduler")["AIRFLOW__CORE__DAGS_FOLDER"]
    assert dags == "/opt/bluezone/dags"
