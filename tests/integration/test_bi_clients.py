"""Real BI clients open the published snapshot as the README tells users to: Apache Superset
6.1 (through its REST API and SQL Lab) and Harlequin (in a terminal driven through tmux), each
installed in an environment of its own from the package registry with the README's own
install line, each answering what DuckDB 2.0 answers on the same file."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shlex
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bluezone_warehouse.config import LOCAL_TZ, PROJECT_DIR, Settings, load_settings
from bluezone_warehouse.pipeline import run_daily
from tests.client_envs import client_env, wait_for
from tests.conftest import environment_for, land
from tests.integration.test_landing_s3 import free_port

README = PROJECT_DIR / "README.md"
SNAPSHOT = "current/bluezone_marts.duckdb"


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Connecting BI tools\n", 1)[1]
    return section.split("\n## ", 1)[0]


def readme_spans() -> list[str]:
    """The inline code of the section, each span on one line (the Markdown may wrap one)."""
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", readme_section())]


def readme_span(prefix: str) -> str:
    found = [span for span in readme_spans() if span.startswith(prefix)]
    assert len(found) == 1, f"README's 'Connecting BI tools' has one `{prefix}…`, not {found}"
    return found[0]


def readme_install(package: str) -> list[str]:
    """The requirements of the README's `pip install '<package>…` line."""
    words = shlex.split(readme_span(f"pip install '{package}"))
    return words[2:]


def readme_questions() -> list[str]:
    block = re.search(r"```sql\n(.*?)```", readme_section(), re.S)
    assert block, "README's 'Connecting BI tools' has a ```sql block of questions"
    return [sql.strip() for sql in block.group(1).split(";") if sql.strip()]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One day of a small campaign, run and published: three provinces with installs, two
    Hải Dương districts reporting at 17:30 (after the 16:00 deadline), one of them with a
    formula for a figure, which the data-quality mart flags."""
    root = tmp_path_factory.mktemp("bi")
    settings = load_settings(environment_for(root))
    arrived = datetime(2020, 8, 4, 17, 30, tzinfo=LOCAL_TZ)
    land(
        settings,
        "installs/installs_20200804.csv",
        "snapshot_date,level,unit_code,installs,installs_with_phone\n"
        "2020-08-04,province,30,1000,\n2020-08-04,province,01,5200,\n"
        "2020-08-04,province,89,2400,\n2020-08-04,district,288,400,\n",
        arrived,
    )
    land(
        settings,
        "reports/hai-duong.csv",
        "Ngày báo cáo,Mã đơn vị,Số lượng cài đặt\n04/08/2020,288,=SUM(A1:A2)\n04/08/2020,290,120\n",
        arrived,
    )
    run_daily(settings, date(2020, 8, 4), run_id="bi")
    return settings


def as_json(value: object) -> object:
    """A value as it reaches a client over JSON: dates and times in ISO 8601, decimals as
    numbers (how Superset's SQL Lab API sends them)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def duckdb_answers(snapshot: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` run by the project's DuckDB 2.0 on the snapshot."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        cursor = con.execute(sql)
        columns = [column[0] for column in cursor.description]
        rows = [tuple(as_json(value) for value in row) for row in cursor.fetchall()]
    finally:
        con.close()
    return columns, rows


@dataclass
class Superset:
    url: str
    opener: urllib.request.OpenerDirector
    headers: dict[str, str]

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Referer": self.url, **self.headers},
        )
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, {"refused": refused.read().decode(errors="replace")}


@dataclass
class SupersetInstall:
    home: Path
    bin_dir: Path
    env: dict[str, str]
    password: str


def install_superset(home: Path) -> SupersetInstall:
    """Superset 6.1 installed with the README's line, configured with a random SECRET_KEY
    and its metadata in SQLite under ``home`` (no example data), migrated, with an admin."""
    bin_dir = client_env(home / "env", readme_install("apache-superset"))
    config = home / "superset_config.py"
    metadata = home / "superset.db"
    config.write_text(
        f"SECRET_KEY = {secrets.token_urlsafe(42)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{metadata}?check_same_thread=false'\n"
    )
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "SUPERSET_HOME": str(home),
        "SUPERSET_CONFIG_PATH": str(config),
    }
    password = secrets.token_urlsafe(16)
    for command in (
        ["db", "upgrade"],
        ["fab", "create-admin", "--username", "admin", "--firstname", "Bluezone"]
        + ["--lastname", "Admin", "--email", "admin@example.org", "--password", password],
        ["init"],
    ):
        done = subprocess.run(
            [str(bin_dir / "superset"), *command],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"superset {command[0]}: {done.stderr[-3000:]}"
    return SupersetInstall(home, bin_dir, env, password)


@pytest.fixture(scope="module")
def superset_install(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Future[SupersetInstall]]:
    """Superset's installation, started in the background: it runs (in processes of its
    own) while the campaign is published."""
    home = tmp_path_factory.mktemp("superset")
    with ThreadPoolExecutor(max_workers=1) as background:
        yield background.submit(install_superset, home)


@pytest.fixture(scope="module")
def superset(superset_install: Future[SupersetInstall]) -> Iterator[Superset]:
    """Superset's web server on a free localhost port, logged in as the admin through the
    REST API; stopped by its PID afterwards."""
    install = superset_install.result()
    home, bin_dir, env = install.home, install.bin_dir, install.env
    port = free_port()
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(bin_dir / "superset"), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        env=env,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool | None:
        assert server.poll() is None, (home / "server.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(url + "/health", timeout=10) as response:
                return response.status == 200
        except OSError:
            return None

    try:
        wait_for(healthy, f"Superset to answer on {url}/health")
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        client = Superset(url, opener, {})
        status, tokens = client.call(
            "POST",
            "/api/v1/security/login",
            {"username": "admin", "password": install.password, "provider": "db", "refresh": False},
        )
        assert status == 200, tokens
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        status, csrf = client.call("GET", "/api/v1/security/csrf_token/")
        assert status == 200, csrf
        client.headers["X-CSRFToken"] = csrf["result"]
        yield client
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.mark.bi
@pytest.mark.usefixtures("superset_install")  # first: Superset installs while the campaign runs
def test_superset_answers_the_readme_questions_as_duckdb_does(
    published: Settings, superset: Superset
) -> None:
    """Superset registers the snapshot with exactly the README's URI, and SQL Lab answers each
    of the README's questions with the rows (in the order) DuckDB 2.0 gives on the file."""
    uri = readme_span("duckdb:///")
    placeholder = "/path/to/data/publish/"
    assert uri == f"duckdb:///{placeholder}{SNAPSHOT}?access_mode=read_only", uri
    status, database = superset.call(
        "POST",
        "/api/v1/database/",
        {
            "database_name": "bluezone",
            "sqlalchemy_uri": uri.replace(placeholder, f"{published.publish_dir}/"),
            "expose_in_sqllab": True,
        },
    )
    assert status == 201, database
    questions = readme_questions()
    assert len(questions) == 4
    for sql in questions:
        columns, rows = duckdb_answers(published.publish_dir / SNAPSHOT, sql)
        assert rows, f"the campaign leaves no answer to check for:\n{sql}"
        status, result = superset.call(
            "POST",
            "/api/v1/sqllab/execute/",
            # SQL Lab's default row limit, as its editor sends it (Superset 6.1 puts it in
            # place of a query's own LIMIT: apache/superset#40070)
            {"database_id": database["id"], "sql": sql, "runAsync": False, "queryLimit": 1000},
        )
        assert status == 200 and result.get("status") == "success", (sql, result)
        assert [column["column_name"] for column in result["columns"]] == columns, sql
        answered = [tuple(record[name] for name in columns) for record in result["data"]]
        if re.search(r"\border\s+by\b", sql, re.I):
            assert answered == rows, sql
        else:
            assert Counter(answered) == Counter(rows), sql


def tmux(socket: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["tmux", "-S", str(socket), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.bi
def test_harlequin_opens_the_snapshot_read_only(published: Settings, tmp_path: Path) -> None:
    """Harlequin, installed with the README's line and started with the README's command in a
    terminal, runs a query typed into its editor on DuckDB 1.x and shows what DuckDB 2.0
    computes on the same file."""
    assert subprocess.run(["tmux", "-V"], capture_output=True, check=False).returncode == 0, (
        "tmux is needed to drive Harlequin's terminal: `make system-packages` installs it"
    )
    bin_dir = client_env(tmp_path / "env", readme_install("harlequin"))
    reader = subprocess.run(
        [str(bin_dir / "python"), "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert reader.startswith("1."), f"Harlequin's environment holds DuckDB {reader}, not a 1.x"
    command = shlex.split(readme_span("harlequin --read-only"))
    assert command[-1] == f"data/publish/{SNAPSHOT}", command
    command = [
        str(bin_dir / "harlequin"),
        *command[1:-1],
        str(published.publish_dir / SNAPSHOT),
    ]
    con = duckdb.connect(str(published.publish_dir / SNAPSHOT), read_only=True)
    try:
        rows, installs = con.execute(
            "select count(*), sum(installs) from marts.fct_coverage_daily"
        ).fetchone()
    finally:
        con.close()
    expected = f"bz|v{reader}|{rows}|{installs}"
    query = (
        "select 'bz|' || version() || '|' || count(*) || '|' || sum(installs) as answer "
        "from marts.fct_coverage_daily"
    )

    socket = tmp_path / "tmux.sock"
    home = tmp_path / "home"
    home.mkdir()
    variables = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    started = tmux(
        socket,
        "new-session",
        "-d",
        "-s",
        "harlequin",
        "-x",
        "160",
        "-y",
        "48",
        *[word for name, value in variables.items() for word in ("-e", f"{name}={value}")],
        shlex.join(command),
    )
    assert started.returncode == 0, started.stderr

    def pane() -> str:
        return tmux(socket, "capture-pane", "-p", "-t", "harlequin").stdout

    try:
        wait_for(
            lambda: "Query Editor" in pane() and "bluezone_marts" in pane(),
            lambda: f"Harlequin to open the snapshot; the terminal shows:\n{pane()}",
        )
        tmux(socket, "send-keys", "-t", "harlequin", "-l", query)
        wait_for(lambda: "marts.fct_coverage_daily" in pane(), "the query to be typed")
        tmux(socket, "send-keys", "-t", "harlequin", "C-j")
        wait_for(
            lambda: expected in pane(),
            lambda: f"{expected!r} in Harlequin's results; the terminal shows:\n{pane()}",
        )
        assert "Query Results (1 Records)" in pane()
        tmux(socket, "send-keys", "-t", "harlequin", "C-q")
        wait_for(
            lambda: tmux(socket, "has-session", "-t", "harlequin").returncode != 0,
            "Harlequin to quit on ctrl+q",
        )
    finally:
        tmux(socket, "kill-server")
