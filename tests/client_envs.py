"""Environments of their own for the clients that read the published snapshot (BI tools that
bundle DuckDB 1.x and SQLAlchemy 1.4, which the project's own environment cannot hold), built
with uv from the package registry, and the small waits the tests that drive them share."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from bluezone_warehouse.config import PROJECT_DIR

# Packages as the registry had them on this day: a release published later does not change
# what a test installs. Move it forward deliberately, with the README's install lines.
REGISTRY_AS_OF = "2026-11-28T00:00:00Z"

T = TypeVar("T")


def uv() -> str:
    found = shutil.which("uv") or PROJECT_DIR / ".tools" / "bin" / "uv"
    assert Path(found).exists(), "uv builds client environments: `make venv` installs it"
    return str(found)


def client_env(where: Path, requirements: Sequence[str]) -> Path:
    """A new virtualenv at ``where`` (the project's Python) with ``requirements`` installed
    from the package registry; returns its ``bin`` directory."""
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(where)], check=True)
    installed = subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "--quiet",
            "--exclude-newer",
            REGISTRY_AS_OF,
            "--python",
            str(where / "bin" / "python"),
            *requirements,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, (
        f"installing {list(requirements)} from the package registry failed (the registry "
        f"must be reachable):\n{installed.stderr[-3000:]}"
    )
    return where / "bin"


def wait_for(
    probe: Callable[[], T | None], what: str | Callable[[], str], attempts: int = 600
) -> T:
    """Call ``probe`` every half second until it returns something other than None (or
    False); after ``attempts`` calls, fail naming ``what`` (or what it returns then)."""
    for _ in range(attempts):
        found = probe()
        if found is not None and found is not False:
            return found
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what if isinstance(what, str) else what()}")
