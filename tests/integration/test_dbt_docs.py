"""dbt docs generate works, and every model and every column it really has is described."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.pipeline import run_daily
from bluezone_warehouse.transform import generate_docs
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
