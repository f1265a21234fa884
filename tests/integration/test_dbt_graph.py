"""The dbt graph runs forward only (DESIGN §2): staging → intermediate → marts.

Read from the manifest of a real ``dbt parse``: a staging model reads one source or seed and
nothing else (it renames and casts, it never joins); an intermediate model reads staging and
intermediate models, never a mart, a seed or a source; a mart reads staging, intermediate
models and other marts, never a seed or a source directly.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bluezone_warehouse.config import load_settings
from bluezone_warehouse.transform import run_dbt
from tests.conftest import environment_for

# What each layer (its folder under models/) may read.
MAY_READ = {
    "staging": {"source", "seed"},
    "intermediate": {"staging", "intermediate"},
    "marts": {"staging", "intermediate", "marts"},
    # Frames for Great Expectations, read by nothing in the graph.
    "checks": {"staging", "intermediate", "marts"},
}
PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("fct_", "dim_", "agg_"),
    "checks": ("chk_",),
}


def layer_of(node: dict) -> str:
    """A model's layer is its folder under models/; a seed or a source is its own kind."""
    if node["resource_type"] in ("seed", "source"):
        return node["resource_type"]
    parts = Path(node["original_file_path"]).parts
    return parts[1] if len(parts) > 2 and parts[0] == "models" else "(outside the layers)"


def graph_violations(manifest: dict) -> list[str]:
    """Every read against the direction of the graph, one line each."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    violations = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        name, layer = node["name"], layer_of(node)
        if layer not in MAY_READ:
            violations.append(f"{name}: not in models/staging, intermediate, marts or checks")
            continue
        if not name.startswith(PREFIXES[layer]):
            named = " or ".join(f"{prefix}*" for prefix in PREFIXES[layer])
            violations.append(f"{name}: a {layer} model is named {named}")
        parents = node["depends_on"]["nodes"]
        for parent in parents:
            parent_layer = layer_of(nodes[parent])
            if parent_layer not in MAY_READ[layer]:
                violations.append(f"{name} ({layer}) reads {parent} ({parent_layer})")
        if layer == "staging" and len(parents) != 1:
            violations.append(f"{name}: a staging model reads exactly one source or seed")
    return sorted(violations)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dbt_parse")
    settings = load_settings(environment_for(root))
    completed = run_dbt(settings, ["parse", "--no-partial-parse"], date(2020, 8, 25), root)
    assert completed.returncode == 0, completed.output[-3000:]
    return json.loads((root / "target" / "manifest.json").read_text())


def test_every_model_reads_forward_only(manifest: dict) -> None:
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {layer_of(model) for model in models} == set(MAY_READ)
    assert graph_violations(manifest) == []


def test_the_check_names_each_kind_of_backward_read() -> None:
    def model(name: str, folder: str, *parents: str) -> tuple[str, dict]:
        return f"model.bluezone.{name}", {
            "resource_type": "model",
            "name": name,
            "original_file_path": f"models/{folder}/{name}.sql",
            "depends_on": {"nodes": list(parents)},
        }

    seed = ("seed.bluezone.ref_regions", {"resource_type": "seed", "name": "ref_regions"})
    source = ("source.bluezone.raw.unit_reports", {"resource_type": "source"})
    manifest = {
        "nodes": dict(
            [
                seed,
                model("stg_seeds__regions", "staging", seed[0]),
                model("stg_joined", "staging", seed[0], "model.bluezone.stg_seeds__regions"),
                model("int_reads_a_mart", "intermediate", "model.bluezone.dim_units"),
                model("dim_units", "marts", seed[0], source[0]),
                model("fct_fine", "marts", "model.bluezone.stg_seeds__regions"),
                model("wrongly_named", "marts", "model.bluezone.dim_units"),
                model("stray", "elsewhere"),
            ]
        ),
        "sources": dict([source]),
    }
    assert graph_violations(manifest) == [
        "dim_units (marts) reads seed.bluezone.ref_regions (seed)",
        "dim_units (marts) reads source.bluezone.raw.unit_reports (source)",
        "int_reads_a_mart (intermediate) reads model.bluezone.dim_units (marts)",
        "stg_joined (staging) reads model.bluezone.stg_seeds__regions (staging)",
        "stg_joined: a staging model reads exactly one source or seed",
        "stray: not in models/staging, intermediate, marts or checks",
        "wrongly_named: a marts model is named fct_* or dim_* or agg_*",
    ]
