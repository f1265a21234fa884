"""The distributed topology (DESIGN §7) on one machine, without Docker.

PostgreSQL (Airflow metadata and the Celery result backend) and Redis (the Celery broker)
from Debian's packages, and Airflow's components as separate processes: API server,
scheduler, DAG processor, triggerer and two Celery workers. The same components, commands
and Airflow variables as ``docker-compose.yml`` (``COMPONENTS``, ``INIT_COMMANDS`` and
``celery_environment`` are the single source; a test holds the compose file to them).

The landing zone, warehouse, snapshot and outbox live in one local folder that every
worker sees, as the shared volume does under compose. (Compose puts the landing zone in
S3-compatible storage, where a file's arrival time is its upload time; a simulated
campaign replayed here keeps its simulated arrival times as file modification times.)

``Topology`` starts everything in its own folder, records every PID it started, and stops
exactly those processes (and their process groups) on exit. ``drive_day`` triggers the
deadline runs and the daily run of one business day through the REST API, all at once, so
that the two workers compete for the one-slot pool ``warehouse_writer``, and waits for the
scheduler to finish them.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bluezone_warehouse.config import LOCAL_TZ, airflow_environment
from bluezone_warehouse.schedule import WRITER_POOL, WRITER_POOL_DESCRIPTION, WRITER_POOL_SLOTS

WORKERS = ("worker-1", "worker-2")
WORKER_CONCURRENCY = 2

# Each Airflow component: its name (the compose service is "airflow-<name>") and arguments.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "apiserver": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
    **{w: ("celery", "worker", "--concurrency", str(WORKER_CONCURRENCY)) for w in WORKERS},
}

# The init step: migrations, the writer pool (connections come from AIRFLOW_CONN_* variables).
INIT_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("db", "migrate"),
    ("pools", "set", WRITER_POOL, str(WRITER_POOL_SLOTS), WRITER_POOL_DESCRIPTION),
)

DEBIAN_PACKAGES = {"postgresql": "initdb", "redis-server": "redis-server"}


class TopologyError(RuntimeError):
    """A component did not start, or a run did not finish; the message says which and why."""


def celery_environment(
    *,
    sql_alchemy_conn: str,
    broker_url: str,
    result_backend: str,
    api_base_url: str,
    jwt_secret: str,
) -> dict[str, str]:
    """The Airflow variables every component of the distributed topology shares."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(len(WORKERS) * WORKER_CONCURRENCY),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_base_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "bluezone:admin",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        # Longer than any task: the broker must never hand a running task to a second worker.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
        "AIRFLOW__API__BASE_URL": api_base_url,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_packages() -> None:
    """Refuse to start without PostgreSQL and Redis (``make system-packages`` installs them)."""
    missing = [pkg for pkg, binary in DEBIAN_PACKAGES.items() if not _find_binary(binary)]
    if missing:
        raise TopologyError(
            f"missing Debian packages: {' '.join(missing)}; run `make system-packages` "
            "(apt-get, as root) first"
        )


def _find_binary(name: str) -> str | None:
    if name == "initdb":
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_pg_version)
        return found[-1] if found else shutil.which("initdb")
    return shutil.which(name)


def _pg_version(path: str) -> int:
    return int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Topology:
    """Everything the distributed run needs, started under ``root`` and stopped by PID."""

    root: Path
    project_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    started_pids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg_port, self.redis_port, self.api_port, self.trigger_log_port = (
            free_port() for _ in range(4)
        )
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.jwt_secret = secrets.token_urlsafe(32)
        self._pg_dir: Path | None = None
        self._token: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Topology:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        ensure_packages()
        self._start_postgres()
        self._start_redis()
        env = self.airflow_env()
        for args in INIT_COMMANDS:
            self.airflow(*args, env=env)
        for name, args in COMPONENTS.items():
            # Two workers on one host need their own Celery node names.
            node = ["--celery-hostname", f"{name}@%h"] if name in WORKERS else []
            self._spawn(name, [_airflow_bin(), *args, *node], env=self._component_env(name, env))
        self._wait_ready()

    def stop(self, timeout: float = 60.0) -> list[int]:
        """Stop every process this topology started (its whole process group), newest first.

        Returns the PIDs stopped; the PostgreSQL folder is removed afterwards.
        """
        stopped = []
        for proc in reversed(self.processes):
            if proc.popen.poll() is None:
                _signal_group(proc.pid, proc.stop_signal)
            stopped.append(proc.pid)
        deadline = time.monotonic() + timeout
        for proc in reversed(self.processes):
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.popen.wait(10)
            # Children left in the group (forked workers, gunicorn) go too.
            _signal_group(proc.pid, signal.SIGKILL)
        self.processes.clear()
        if self._pg_dir is not None:
            shutil.rmtree(self._pg_dir, ignore_errors=True)
            self._pg_dir = None
        return stopped

    # -- services --------------------------------------------------------------------------

    def _spawn(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Process:
        log = self.logs / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
            cwd=self.root,
        )
        handle.close()
        proc = Process(name, popen, log, stop_signal)
        self.processes.append(proc)
        self.started_pids.append(popen.pid)
        (self.root / "pids").mkdir(exist_ok=True)
        (self.root / "pids" / f"{name}.pid").write_text(f"{popen.pid}\n")
        return proc

    def _start_postgres(self) -> None:
        initdb = _find_binary("initdb")
        if initdb is None:
            raise TopologyError("PostgreSQL's initdb not found")
        bindir = Path(initdb).parent
        # PostgreSQL refuses to run as root: as root, it runs as the `postgres` user in a
        # folder that user can reach (pytest's temp folders are private to root).
        user = "postgres" if os.geteuid() == 0 else None
        self._pg_dir = Path(tempfile.mkdtemp(prefix="bluezone-pg-"))
        self._pg_dir.chmod(0o755)
        data = self._pg_dir / "data"
        data.mkdir(mode=0o700)
        if user:
            shutil.chown(self._pg_dir, user)
            shutil.chown(data, user)
        subprocess.run(
            [str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            + ["--no-sync", "--no-instructions"],
            check=True,
            capture_output=True,
            user=user,
            cwd=self._pg_dir,
        )
        self._spawn(
            "postgres",
            [str(bindir / "postgres"), "-D", str(data), "-p", str(self.pg_port)]
            + ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self._pg_dir}"]
            + ["-c", "fsync=off", "-c", "max_connections=200"],
            user=user,
            stop_signal=signal.SIGINT,  # fast shutdown
        )
        _wait_for(lambda: _port_open(self.pg_port), 60, "PostgreSQL", self.logs / "postgres.log")
        import psycopg2

        def created() -> bool:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres")
            except psycopg2.OperationalError:
                return False
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("create database airflow")
            conn.close()
            return True

        _wait_for(created, 60, "PostgreSQL database airflow", self.logs / "postgres.log")

    def _start_redis(self) -> None:
        self._spawn(
            "redis",
            [_find_binary("redis-server") or "redis-server", "--port", str(self.redis_port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.root)],
        )
        _wait_for(_redis_ping(self.redis_port), 30, "Redis", self.logs / "redis.log")

    # -- Airflow ---------------------------------------------------------------------------

    @property
    def passwords_file(self) -> Path:
        """Where the API server writes the generated password of the user ``bluezone``."""
        return self.root / "airflow" / "passwords.json"

    def airflow_env(self) -> dict[str, str]:
        pg = f"postgres@127.0.0.1:{self.pg_port}/airflow"
        env = {
            **os.environ,
            **self.project_env,
            "AIRFLOW_HOME": str(self.root / "airflow"),
            **celery_environment(
                sql_alchemy_conn=f"postgresql+psycopg2://{pg}",
                broker_url=f"redis://127.0.0.1:{self.redis_port}/0",
                result_backend=f"db+postgresql+psycopg2://{pg}",
                api_base_url=self.api_url,
                jwt_secret=self.jwt_secret,
            ),
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "1200",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
        }
        return airflow_environment(env)

    def _component_env(self, name: str, env: dict[str, str]) -> dict[str, str]:
        if name not in WORKERS:
            return env
        return {
            **env,
            # Two workers on one host: their own Celery name, log-server port and the
            # hostname they report to Airflow (task_instance.hostname).
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "bluezone_warehouse.config.worker_hostname",
            "BLUEZONE_WORKER_NAME": name,
            "AIRFLOW__LOGGING__CELERY_LOGGING_LEVEL": "INFO",
        }

    def airflow(self, *args: str, env: dict[str, str] | None = None) -> str:
        completed = subprocess.run(
            [_airflow_bin(), *args],
            env=env or self.airflow_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise TopologyError(
                f"airflow {' '.join(args)} failed ({completed.returncode}):\n"
                f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
            )
        return completed.stdout

    def _wait_ready(self, timeout: float = 300) -> None:
        def healthy() -> bool:
            self._check_alive()
            try:
                health = self.api("GET", "/api/v2/monitor/health", auth=False)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False
            return all(
                (health.get(part) or {}).get("status") == "healthy"
                for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            )

        _wait_for(healthy, timeout, "Airflow components", self.logs / "apiserver.log")

        def workers_ready() -> bool:
            self._check_alive()
            return set(self.celery_workers()) >= {f"{w}@{socket.gethostname()}" for w in WORKERS}

        _wait_for(workers_ready, timeout, "Celery workers", self.logs / "worker-1.log")

        def dags_parsed() -> bool:
            self._check_alive()
            dags = self.api("GET", "/api/v2/dags")["dags"]
            return {"bluezone_daily", "bluezone_report_deadlines"} <= {d["dag_id"] for d in dags}

        _wait_for(dags_parsed, timeout, "DAG parsing", self.logs / "dag-processor.log")

    def celery_workers(self) -> list[str]:
        """The Celery nodes answering a ping on the broker."""
        from celery import Celery

        app = Celery(broker=f"redis://127.0.0.1:{self.redis_port}/0")
        try:
            return sorted(name for reply in app.control.ping(timeout=2) for name in reply)
        finally:
            app.close()

    def _check_alive(self) -> None:
        for proc in self.processes:
            if proc.popen.poll() is not None:
                tail = proc.log.read_text("utf-8", "replace")[-3000:]
                raise TopologyError(
                    f"{proc.name} (pid {proc.pid}) exited with {proc.popen.returncode}; "
                    f"log {proc.log}:\n{tail}"
                )

    # -- REST API --------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict | None = None, *, auth: bool = True):
        """Call the REST API (as the user ``bluezone`` unless ``auth`` is False)."""
        headers = {"Authorization": f"Bearer {self._access_token()}"} if auth else {}
        return self._http(method, path, body, headers)

    def _http(self, method: str, path: str, body: dict | None, headers: dict[str, str]):
        from bluezone_warehouse.stack import api_request

        return api_request(self.api_url, method, path, body, headers, TopologyError)

    def _access_token(self) -> str:
        if self._token is None:
            passwords = json.loads(self.passwords_file.read_text())
            credentials = {"username": "bluezone", "password": passwords["bluezone"]}
            self._token = self._http("POST", "/auth/token", credentials, {})["access_token"]
        return self._token

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime, conf: dict) -> None:
        self.api(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            {"dag_run_id": run_id, "logical_date": logical_date.isoformat(), "conf": conf},
        )

    def wait_for_runs(
        self, runs: Iterable[tuple[str, str]], timeout: float = 1800
    ) -> dict[tuple[str, str], dict]:
        pending = set(runs)
        finished: dict[tuple[str, str], dict] = {}
        deadline = time.monotonic() + timeout
        while pending:
            self._check_alive()
            for dag_id, run_id in sorted(pending):
                run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
                if run["state"] in ("success", "failed"):
                    finished[(dag_id, run_id)] = run
                    pending.discard((dag_id, run_id))
            if pending and time.monotonic() > deadline:
                raise TopologyError(f"runs still not finished after {timeout:.0f}s: {pending}")
            if pending:
                time.sleep(3)
        return finished

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")[
            "task_instances"
        ]


@dataclass(frozen=True)
class DayResult:
    """What the distributed run of one business day did."""

    day: date
    runs: dict[tuple[str, str], dict]
    task_instances: list[dict]

    @property
    def pool_tasks(self) -> list[dict]:
        return [ti for ti in self.task_instances if ti["pool"] == WRITER_POOL]

    def max_concurrent_in_pool(self) -> int:
        """The most writer-pool tasks ever running at the same moment (1 if the pool held)."""
        events = []
        for ti in self.pool_tasks:
            events.append((_ts(ti["start_date"]), 1))
            events.append((_ts(ti["end_date"]), -1))
        running = peak = 0
        for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
            running += delta
            peak = max(peak, running)
        return peak

    def lines(self) -> list[str]:
        out = [f"Distributed run of {self.day} (CeleryExecutor, {len(WORKERS)} workers):"]
        for (dag_id, run_id), run in sorted(self.runs.items()):
            out.append(f"  {dag_id:<27} {run_id:<36} {run['state']}")
        out.append("  task                              worker      start     seconds")
        for ti in sorted(self.task_instances, key=lambda t: t["start_date"]):
            start = _ts(ti["start_date"]).astimezone(LOCAL_TZ).strftime("%H:%M:%S")
            seconds = _ts(ti["end_date"]) - _ts(ti["start_date"])
            run = ti["dag_run_id"].rsplit("T", 1)[-1] if "T" in ti["dag_run_id"] else "daily"
            label = f"{run}.{ti['task_id']}"
            out.append(
                f"  {label:<33} {ti['hostname']:<11} {start}  {seconds.total_seconds():7.1f}"
            )
        workers = sorted({ti["hostname"] for ti in self.task_instances})
        out.append(
            f"  pool {WRITER_POOL}: {len(self.pool_tasks)} tasks on {', '.join(workers)}; "
            f"at most {self.max_concurrent_in_pool()} running at once"
        )
        return out


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def drive_day(topology: Topology, day: date, alert_times: Iterable[str]) -> DayResult:
    """Trigger the deadline runs of ``day`` and its daily run together, and wait for them.

    Deadline runs are triggered with ``{"send": true}``, as the scheduled runs would send.
    """
    from bluezone_warehouse.schedule import alert_moment, logical_date_for

    for dag_id in ("bluezone_report_deadlines", "bluezone_daily"):
        topology.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    runs = []
    for hhmm in alert_times:
        run_id = f"distributed__{day}T{hhmm.replace(':', '')}"
        topology.trigger(
            "bluezone_report_deadlines", run_id, alert_moment(day, hhmm), {"send": True}
        )
        runs.append(("bluezone_report_deadlines", run_id))
    daily_id = f"distributed__{day}"
    topology.trigger("bluezone_daily", daily_id, logical_date_for(day), {"send": True})
    runs.append(("bluezone_daily", daily_id))
    finished = topology.wait_for_runs(runs)
    instances = [ti for key in runs for ti in topology.task_instances(*key)]
    return DayResult(day, finished, instances)


def run_distributed(
    day: date, *, provinces: list[str] | None, seed: int, root: Path | None = None
) -> int:
    """``bluezone distributed``: simulate up to ``day``, run it on the topology, report."""
    from bluezone_devtools.simulate import simulate_campaign
    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.schedule import alert_times

    root = Path(root or tempfile.mkdtemp(prefix="bluezone-distributed-"))
    project_env = {"BLUEZONE_DATA_DIR": str(root / "data")}
    settings = load_settings(project_env)
    simulated = simulate_campaign(
        Path(settings.landing_url), end=day, provinces=provinces, seed=seed
    )
    print(f"simulated {simulated.files_written} landing files up to {day}")
    started = time.perf_counter()
    with Topology(root / "topology", project_env) as topology:
        print(f"topology up in {time.perf_counter() - started:.0f}s; logs in {topology.logs}")
        result = drive_day(topology, day, alert_times(settings))
        print("\n".join(result.lines()))
    print(f"stopped {len(topology.started_pids)} processes by PID: {topology.started_pids}")
    print(f"snapshot: {settings.publish_dir / 'current'}; outbox: {settings.outbox_dir}")
    ok = all(run["state"] == "success" for run in result.runs.values())
    return 0 if ok and result.max_concurrent_in_pool() == 1 else 1


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _redis_ping(port: int):
    def ping() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    return ping


def _wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = log.read_text("utf-8", "replace")[-3000:] if log.exists() else ""
            raise TopologyError(f"{what} not ready after {timeout:.0f}s; {log}:\n{tail}")
        time.sleep(1)
