"""The daily report opened as a person would: in headless Chromium, offline, with no console
errors, every chart drawn and Vietnamese names intact; dbt docs and Data Docs linked."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import load_settings
from bluezone_warehouse.pipeline import run_daily
from tests.conftest import environment_for

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
CHART_IDS = ("map", "national", "rank", "compliance", "quality")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is needed for this test: `make test` installs it (make chromium)"
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    env = environment_for(root)
    simulate_campaign(
        Path(env["BLUEZONE_LANDING_URL"]),
        start=date(2020, 8, 1),
        end=date(2020, 8, 8),
        provinces=["30", "89"],
        seed=4,
        faults=FaultRates(),
    )
    run = run_daily(load_settings(env), date(2020, 8, 8), run_id="report")
    return Path(run.report)


def open_in_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_report_loads_offline_without_console_errors(report: Path, tmp_path: Path) -> None:
    loaded = open_in_chromium(report, tmp_path / "profile", "--dump-dom")
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    console = [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = loaded.stdout
    for chart in CHART_IDS:
        block = dom[dom.index(f'id="{chart}"') :][:200_000]
        assert 'class="main-svg"' in block, chart  # plotly drew the chart
    assert len(re.findall(r'class="js-fill"', dom)) >= 2  # the two provinces on the map
    assert "Hải Dương" in dom and "An Giang" in dom
    # two of the 63 provinces simulated: the national figure says it leaves the rest out
    assert "chỉ gồm 2/63 tỉnh, thành phố có trong số liệu ngày này" in dom
    assert "<script src=" not in dom.split("<body")[0]  # nothing fetched: plotly is inlined
    links = set(re.findall(r"<nav>(.*?)</nav>", dom, re.S)[0].split('"'))
    assert {"docs/dbt.html", "docs/gx/index.html"} <= links
    publish = report.parent
    assert (publish / "docs" / "dbt.html").stat().st_size > 100_000
    assert (publish / "docs" / "gx" / "index.html").exists()
    assert (publish / "report.html").read_bytes() == report.read_bytes()


def test_a_screenshot_shows_the_charts(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    taken = open_in_chromium(
        report, tmp_path / "profile", "--window-size=1300,2400", f"--screenshot={shot}"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 60_000  # a blank or text-only page compresses to far less
