"""Shared fixtures: isolated settings per test (every path under the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluezone_warehouse.config import Settings, load_settings


def environment_for(root: Path) -> dict[str, str]:
    """BLUEZONE_* variables that put every input and output of the pipeline under ``root``."""
    return {
        "BLUEZONE_DATA_DIR": str(root),
        "BLUEZONE_LANDING_URL": str(root / "landing"),
        "BLUEZONE_WAREHOUSE_PATH": str(root / "warehouse" / "bluezone.duckdb"),
        "BLUEZONE_PUBLISH_DIR": str(root / "publish"),
        "BLUEZONE_OUTBOX_DIR": str(root / "outbox"),
    }


@pytest.fixture
def bluezone_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = environment_for(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def settings(bluezone_env: dict[str, str]) -> Settings:
    return load_settings(bluezone_env)
