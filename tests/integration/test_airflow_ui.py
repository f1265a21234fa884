"""The embedded Airflow for operators, for real: ``bluezone up`` (what ``make up`` runs)
starts the scheduler, the API server with the UI, the DAG processor and the triggerer on
localhost for an Airflow home in the test's folder; one business day of ``bluezone_daily``
is triggered through the REST API and run by the scheduler; headless Chromium logs in
through the UI's login form, finds both DAGs and sees every task of the run green in the
grid and the graph; ``bluezone down`` (what ``make down`` runs) stops every process that
was started. A second start in the same home, with the password set by
``BLUEZONE_UI_PASSWORD``, finds the run again."""

from __future__ import annotations

import csv
import json
import os
import secrets
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import psutil
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from tests.chromium import CHROMIUM_FLAGS, chromium
from tests.conftest import environment_for
from tests.integration.test_landing_s3 import free_port

pytestmark = pytest.mark.airflow

PROVINCE = "89"  # An Giang
START, END = date(2020, 8, 1), date(2020, 8, 3)
DAG_IDS = {"bluezone_daily", "bluezone_report_deadlines"}
COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer"}
RUN_ID = f"ui_check__{END}"
# The run for business day D covers [D 02:00, D+1 02:00) Asia/Ho_Chi_Minh, and carries the
# logical date a scheduled or backfill run for D has: the start of that interval.
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
INTERVAL = (
    datetime.combine(END, clock(2, 0), tzinfo=LOCAL),
    datetime.combine(END + timedelta(days=1), clock(2, 0), tzinfo=LOCAL),
)
# Flags of tests/chromium.py that only make sense for a one-shot command-line run.
ONE_SHOT_FLAGS = ("--headless", "--enable-logging", "--v=", "--virtual-time-budget")


def bluezone(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The ``bluezone`` console script, as the Makefile's ``up`` and ``down`` run it."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("bluezone")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def http(url: str, method: str = "GET", body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise AssertionError(
            f"{method} {url}: HTTP {exc.code}: {exc.read().decode('utf-8', 'replace')[:2000]}"
        ) from exc


def token_for(base: str, password: str) -> str:
    """A JWT from the REST API's ``POST /auth/token`` (Airflow 3, SimpleAuthManager)."""
    return http(f"{base}/auth/token", "POST", {"username": "admin", "password": password})[
        "access_token"
    ]


def pid_files(home: Path) -> dict[str, int]:
    return {path.stem: int(path.read_text().split()[0]) for path in (home / "stack").glob("*.pid")}


def started_processes(pids: dict[str, int]) -> list[psutil.Process]:
    """Each started process, every process in its process group and every descendant."""
    found: dict[int, psutil.Process] = {}
    for pid in pids.values():
        process = psutil.Process(pid)
        found[pid] = process
        for child in process.children(recursive=True):
            found[child.pid] = child
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) in pids.values():
                found.setdefault(process.pid, process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return list(found.values())


def still_running(processes: list[psutil.Process]) -> list[str]:
    """Those that still run (a zombie has ended: it only waits for its parent to reap it)."""
    running = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(f"{process.pid} {' '.join(process.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return running


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_run(base: str, token: str, home: Path) -> dict:
    """Poll the run until it ends; on failure, every task's state and its log's last lines."""
    deadline = time.monotonic() + 1200
    path = f"{base}/api/v2/dags/bluezone_daily/dagRuns/{RUN_ID}"
    while True:
        run = http(path, token=token)
        if run["state"] in ("success", "failed") or time.monotonic() > deadline:
            break
        time.sleep(3)
    if run["state"] != "success":
        instances = http(f"{path}/taskInstances", token=token)["task_instances"]
        report = [f"run {RUN_ID} is {run['state']}"]
        for ti in instances:
            report.append(f"{ti['task_id']}: {ti['state']} (try {ti['try_number']})")
        logs = home / "logs" / "dag_id=bluezone_daily" / f"run_id={RUN_ID}"
        for log in sorted(logs.glob("task_id=*/attempt=*.log")):
            report.append(f"--- {log}\n{log.read_text('utf-8', 'replace')[-2500:]}")
        for name in COMPONENTS:
            log = home / "stack" / f"{name}.log"
            report.append(f"--- {log}\n{log.read_text('utf-8', 'replace')[-1500:]}")
        pytest.fail("\n".join(report))
    return run


def export_installs(truth_dir: Path, level: str, code: str, day: date) -> int:
    """Cumulative installs of a unit on a day, from the simulator's ground truth."""
    with (truth_dir / "truth_exported.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["level"], row["unit_code"], row["snapshot_date"]) == (level, code, str(day)):
                return int(row["installs"])
    raise AssertionError(f"no {level} {code} on {day} in the ground truth")


def srgb(locator) -> tuple[int, int, int]:
    """An element's background as sRGB bytes: the browser paints its computed colour (which
    may be in any CSS colour space, e.g. oklch) on a canvas and reads the pixel back."""
    red, green, blue, _ = locator.evaluate(
        """element => {
            const canvas = document.createElement('canvas');
            canvas.width = canvas.height = 1;
            const context = canvas.getContext('2d');
            context.fillStyle = getComputedStyle(element).backgroundColor;
            context.fillRect(0, 0, 1, 1);
            return Array.from(context.getImageData(0, 0, 1, 1).data);
        }"""
    )
    return red, green, blue


def is_green(rgb: tuple[int, int, int]) -> bool:
    red, green, blue = rgb
    return green >= 80 and green > 1.5 * red and green > 1.5 * blue


def settled_colour(page, locator) -> tuple[int, int, int]:
    """The badge's colour once the page has drawn it green, or its last colour after 20
    tries half a second apart (the UI renders the badge, then styles it by state)."""
    locator.wait_for()
    for _ in range(20):
        colour = srgb(locator)
        if is_green(colour):
            break
        page.wait_for_timeout(500)
    return colour


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk (fails on anything else)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path} has no IHDR chunk"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def stack_env(tmp_path: Path):
    env = {
        **os.environ,
        **environment_for(tmp_path / "data"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "BLUEZONE_UI_PORT": str(free_port()),
        # A task that fails once is retried after 10 s rather than 2 minutes.
        "BLUEZONE_TASK_RETRY_DELAY_SECONDS": "10",
    }
    env.pop("BLUEZONE_UI_PASSWORD", None)
    yield env
    # Whatever happened above, nothing started here outlives the test.
    bluezone(env, "down")


@pytest.mark.timeout(1800)  # two starts, one daily run and a browser, on two shared cores
def test_up_runs_a_day_the_ui_shows_green_and_down_stops_everything(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    env = stack_env
    home = Path(env["AIRFLOW_HOME"])
    port = int(env["BLUEZONE_UI_PORT"])
    base = f"http://127.0.0.1:{port}"
    simulated = simulate_campaign(
        Path(env["BLUEZONE_LANDING_URL"]),
        start=START,
        end=END,
        provinces=[PROVINCE],
        seed=7,
        faults=FaultRates.none(),
        workers=1,
    )

    # -- make up ---------------------------------------------------------------------------
    started = bluezone(env, "up")
    assert started.returncode == 0, started.stdout + started.stderr
    password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())[
        "admin"
    ]
    assert f"Airflow UI   {base}" in started.stdout, started.stdout
    assert f"user admin, password {password}" in started.stdout, started.stdout
    pids = pid_files(home)
    assert set(pids) == COMPONENTS
    for name, pid in pids.items():
        assert psutil.Process(pid).is_running(), name
        assert psutil.Process(pid).status() != psutil.STATUS_ZOMBIE, name
        assert os.getpgid(pid) == pid, f"{name} is not the leader of its own process group"
        assert f"{name}.log" in {p.name for p in (home / "stack").iterdir()}
    # Idempotent: a second `make up` finds everything running and starts nothing.
    again = bluezone(env, "up")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already running" in again.stdout, again.stdout
    assert pid_files(home) == pids

    # -- the REST API: pool, DAGs, one business day -----------------------------------------
    token = token_for(base, password)
    pool = http(f"{base}/api/v2/pools/warehouse_writer", token=token)
    assert pool["slots"] == 1
    dags = {d["dag_id"]: d for d in http(f"{base}/api/v2/dags", token=token)["dags"]}
    assert set(dags) >= DAG_IDS
    assert {dag_id: dags[dag_id]["is_paused"] for dag_id in DAG_IDS} == dict.fromkeys(
        DAG_IDS, False
    )
    tasks = {
        t["task_id"] for t in http(f"{base}/api/v2/dags/bluezone_daily/tasks", token=token)["tasks"]
    }
    http(
        f"{base}/api/v2/dags/bluezone_daily/dagRuns",
        "POST",
        {
            "dag_run_id": RUN_ID,
            "logical_date": INTERVAL[0].isoformat(),
            "data_interval_start": INTERVAL[0].isoformat(),
            "data_interval_end": INTERVAL[1].isoformat(),
            "conf": {},
        },
        token=token,
    )
    run = wait_for_run(base, token, home)
    assert [
        datetime.fromisoformat(run[key].replace("Z", "+00:00"))
        for key in ("data_interval_start", "data_interval_end")
    ] == list(INTERVAL)
    instances = http(
        f"{base}/api/v2/dags/bluezone_daily/dagRuns/{RUN_ID}/taskInstances", token=token
    )["task_instances"]
    # A first run on newly landed files skips nothing: every task of the DAG succeeded.
    assert {ti["task_id"]: ti["state"] for ti in instances} == dict.fromkeys(tasks, "success")
    # The scheduler ran the day for real: the published snapshot has the export's figure.
    snapshot = Path(env["BLUEZONE_PUBLISH_DIR"]) / "current" / "bluezone_marts.duckdb"
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        published = con.execute(
            "select installs from marts.fct_coverage_daily "
            "where level = 'province' and unit_code = ? and snapshot_date = ?",
            [PROVINCE, END],
        ).fetchall()
    finally:
        con.close()
    assert published == [(export_installs(simulated.truth_dir, "province", PROVINCE, END),)]
    # ... and it was the run for END: the day's report carries END in its name.
    assert (Path(env["BLUEZONE_PUBLISH_DIR"]) / f"report_{END:%Y%m%d}.html").is_file()

    # -- the UI in headless Chromium ---------------------------------------------------------
    flags = [f for f in CHROMIUM_FLAGS if not f.startswith(ONE_SHOT_FLAGS)]
    screenshot = tmp_path / "bluezone_daily_graph.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium(),
            headless=True,
            args=flags,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{base}/dags")
            # Not logged in: the UI sends the browser to SimpleAuthManager's login form.
            page.wait_for_url("**/auth/login**")
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base}/dags")
            for dag_id in DAG_IDS:
                page.get_by_role("link", name=dag_id, exact=True).first.wait_for()

            page.goto(f"{base}/dags/bluezone_daily/runs/{RUN_ID}")
            for task_id in sorted(tasks):  # the grid: one square per task, in its state colour
                badge = page.get_by_test_id(f"grid-{RUN_ID}-{task_id}").get_by_test_id(
                    "task-state-badge"
                )
                colour = settled_colour(page, badge)
                assert is_green(colour), (task_id, colour)

            page.get_by_role("button", name="Show Graph (Press g)").click()
            for task_id in sorted(tasks):  # the graph: every node says success, in green
                badge = page.get_by_test_id(f"rf__node-{task_id}").get_by_test_id("state-badge")
                colour = settled_colour(page, badge)
                assert badge.inner_text().strip() == "success", task_id
                assert is_green(colour), (task_id, colour)
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    width, height = png_size(screenshot)
    assert (width, height) == (1400, 900)
    assert screenshot.stat().st_size > 20_000

    # -- make down ---------------------------------------------------------------------------
    processes = started_processes(pids)
    assert len(processes) > len(pids)  # the components' own children are included
    stopped = bluezone(env, "down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert still_running(processes) == []
    assert list((home / "stack").glob("*.pid")) == []
    assert not port_open(port)
    nothing = bluezone(env, "down")
    assert nothing.returncode == 0 and "not running" in nothing.stdout, nothing.stdout

    # -- up again in the same home, with the password from the environment --------------------
    chosen = secrets.token_urlsafe(12)
    env_with_password = {**env, "BLUEZONE_UI_PASSWORD": chosen}
    restarted = bluezone(env_with_password, "up")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert f"user admin, password {chosen}" in restarted.stdout, restarted.stdout
    new_pids = pid_files(home)
    assert set(new_pids) == COMPONENTS and not set(new_pids.values()) & set(pids.values())
    token = token_for(base, chosen)
    run = http(f"{base}/api/v2/dags/bluezone_daily/dagRuns/{RUN_ID}", token=token)
    assert run["state"] == "success"
    processes = started_processes(new_pids)
    stopped = bluezone(env_with_password, "down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert still_running(processes) == []
    assert not port_open(port)
