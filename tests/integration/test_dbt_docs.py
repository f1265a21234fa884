"""dbt docs generate works, and every model and every column it really has is described;
the project's dbt unit tests (left out of production builds) pass."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from bluezone_warehouse import transform
from bluezone_warehouse.config import DBT_PROJECT_DIR, load_settings
from bluezone_warehouse.pipeline import run_daily
from bluezone_warehouse.transform import generate_docs, run_dbt
from tests.conftest import environment_for


def test_docs_generate_and_describe_every_model_and_column(tmp_path: Path) -> None:
    env = environment_for(tmp_path)
    installs = Path(env["BLUEZONE_LANDING_URL"]) / "installs"
    installs.mkdir(parents=True)
    (installs / "installs_20200804.csv").write_text(
        "snapshot_date,level,unit_code,installs,installs_with_phone\n"
        "2020-08-04,province,89,4321,\n2020-08-04,district,883,1200,900\n"
    )
    settings = load_settings(env)
    run_daily(settings, date(2020, 8, 4), run_id="docs")
    page = generate_docs(settings, date(2020, 8, 4), tmp_path / "docs")
    assert page.stat().st_size > 100_000
    target = page.parent
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "bluezone"
    }
    assert len(models) >= 17
    undocumented = []
    for key, node in models.items():
        if not node["description"].strip():
            undocumented.append(key)
        described = {
            name.lower()
            for name, column in node["columns"].items()
            if column["description"].strip()
        }
        for column in catalog["nodes"][key]["columns"]:
            if column.lower() not in described:
                undocumented.append(f"{key}.{column}")
    assert undocumented == []


def test_the_dbt_unit_tests_pass(tmp_path: Path) -> None:
    """Every unit test in the project's YAML runs and passes (a daily build excludes them:
    they check the SQL, which changes only with the code)."""
    settings = load_settings(environment_for(tmp_path))
    transform.build(settings, date(2020, 8, 4), "unit")  # the models the tests mock exist
    declared = {
        test["name"]
        for path in (DBT_PROJECT_DIR / "models").rglob("*.yml")
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])
    }
    completed = run_dbt(
        settings, ["test", "--select", "test_type:unit"], date(2020, 8, 4), tmp_path / "unit"
    )
    results = json.loads((tmp_path / "unit" / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    assert completed.returncode == 0, completed.output[-3000:]
    assert {uid.rsplit(".", 1)[1] for uid in statuses} == declared
    assert all(uid.startswith("unit_test.") for uid in statuses)
    assert set(statuses.values()) == {"pass"}
    assert len(declared) >= 14
