"""Headless Chromium for the tests that open the pages the warehouse writes (the report,
the province pages, the consolidation): one set of flags, one way to run it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=20000",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is needed for this test: `make test` installs it (make chromium)"
    return found


def open_in_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Open ``page`` headless with a fresh profile; ``extra`` flags (--dump-dom,
    --screenshot=..., --window-size=...) say what to do with it."""
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
