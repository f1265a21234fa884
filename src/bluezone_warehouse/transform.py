"""Running dbt: one ``dbt build`` per pipeline run (and a selection for today's refresh),
its results kept.

dbt runs in this process with the run's business day as ``run_date`` (never the wall clock),
reusing the project's parse from the previous command or run. Its artifacts are kept per run
under the work directory, and one row per node goes into ``ops.dbt_results`` in the
warehouse, so "what did the last build do" is a query.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from bluezone_warehouse import tables
from bluezone_warehouse.config import DBT_PROJECT_DIR, LOCAL_TZ, SEEDS_DIR, Settings
from bluezone_warehouse.names import safe_file_name
from bluezone_warehouse.schedule import logical_date_for
from bluezone_warehouse.tables import ddl
from bluezone_warehouse.units import unit_set
from bluezone_warehouse.warehouse import writer

log = logging.getLogger(__name__)

# Days before the earliest affected day that are rebuilt too: a late file for day d changes
# the interpolation back to the previous known day and the 7-day means after it.
LOOKBACK_DAYS = 14

# dbt's saved parse of the project, reused by the next run (DESIGN §8: no fixed costs).
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def saved_parse(settings: Settings) -> Path:
    """Where dbt's parse of the project is saved between processes (the work directory)."""
    return settings.work_dir / "dbt_state" / PARTIAL_PARSE_FILE


# dbt's own output under the project, not part of it
NOT_PROJECT_FILES = {"target", "logs", "__pycache__", "dbt_packages"}

RESULTS_DDL = ddl(tables.BUILDS, tables.FILES_BUILT, tables.DBT_RESULTS)


class DbtBuildFailed(RuntimeError):
    """dbt build ended with errors; the message lists the failing nodes."""


@dataclass(frozen=True)
class BuildResult:
    run_id: str
    artifacts_dir: Path
    counts: dict[str, int]
    failures: list[str]


@dataclass(frozen=True)
class DbtOutcome:
    """How one dbt command ended: 0 when it succeeded, 1 when a node failed, 2 when dbt
    itself could not run; ``output`` is what its console would have shown."""

    returncode: int
    output: str


def dbt_env(settings: Settings, artifacts_dir: Path) -> dict[str, str]:
    """The environment dbt runs with: the warehouse, and the run's own artifact and log
    directories, with the log's level."""
    return {
        "BLUEZONE_WAREHOUSE_PATH": str(settings.warehouse_path),
        # read when the project is parsed: which seeds and levels the models use
        "BLUEZONE_UNITS": settings.units,
        "DBT_TARGET_PATH": str(artifacts_dir / "target"),
        "DBT_LOG_PATH": str(artifacts_dir / "logs"),
        "DBT_LOG_LEVEL_FILE": settings.dbt_log_level,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def rebuild_start(con: duckdb.DuckDBPyConnection, run_date: date) -> date:
    """The first day the incremental marts must rebuild for a run of ``run_date``.

    The earliest day touched by any landed file not yet reflected in a successful build, or
    the day after the last day built (a backfill leaves marts that end on its day), or the
    run's day, whichever is earliest, minus the look-back. A duplicate delivery touches the
    days of the content it repeats (its rows are that content's, ``content_file_id``): a
    report sent again weeks later is a delivery of its old day.
    """
    unbuilt = con.execute(
        """
        with unbuilt as (
            select snapshot_date, coalesce(content_file_id, file_id) as content_id
            from raw.landing_files
            where file_id not in (select file_id from ops.files_built)
        )
        select least(
            (select min(snapshot_date) from unbuilt),
            (select min(report_date) from raw.unit_reports
                where file_id in (select content_id from unbuilt)),
            (select min(day) from raw.rejected_rows
                where file_id in (select content_id from unbuilt)),
            (select max(run_date) + 1 from ops.builds
                where finished_at = (select max(finished_at) from ops.builds))
        )
        """
    ).fetchone()[0]
    earliest = min(unbuilt, run_date) if unbuilt is not None else run_date
    return earliest - timedelta(days=LOOKBACK_DAYS)


def built_through(settings: Settings) -> date:
    """The business day of the last successful daily build (``date.min`` before any)."""
    with writer(settings.warehouse_path) as con:
        con.execute(RESULTS_DDL)
        (day,) = con.execute("select max(run_date) from ops.builds").fetchone()
    return day or date.min


def record_build(
    settings: Settings,
    run_id: str,
    run_date: date,
    start: date,
    full_refresh: bool,
    reference_inputs: str | None = None,
) -> None:
    """After a successful build: every landed file so far is reflected in the marts, and
    the reference nodes, if it built them, are those of ``reference_inputs``."""
    with writer(settings.warehouse_path) as con:
        con.execute("begin")
        con.execute(
            "insert into ops.files_built select file_id, ? from raw.landing_files "
            "where file_id not in (select file_id from ops.files_built)",
            [run_id],
        )
        con.execute(
            "insert into ops.builds (run_id, run_date, rebuild_from, full_refresh, finished_at, "
            "reference_inputs) values (?, ?, ?, ?, now(), ?)",
            [run_id, run_date, start, full_refresh, reference_inputs],
        )
        con.execute("commit")


def run_dbt(
    settings: Settings,
    args: list[str],
    run_date: date,
    artifacts_dir: Path,
    rebuild_from: date | None = None,
    run_id: str | None = None,
    as_of: datetime | None = None,
) -> DbtOutcome:
    """Run one dbt command for ``run_date`` with its artifacts in ``artifacts_dir``.

    The run's values (``run_date``, ``rebuild_from``, ``as_of``, ``run_id``,
    ``run_started_at``, ``escalation_after_minutes``) reach the models as environment
    variables ``BLUEZONE_RUN_*``, read by the macro ``run_var`` only when SQL is compiled,
    never as ``--vars``: a var on the command line that changes makes dbt parse the whole
    project again. ``run_started_at`` and ``run_id`` stamp the data-quality flags this run
    is the first to find (``int_dq_issues_first_seen``).

    dbt runs in this process (DESIGN §8: no fixed costs). Its parse of the project is kept
    for the life of the process, so the next command here (today's next refresh, the docs
    page after the build) neither imports dbt nor parses the project again; a change to
    any file of the project or the seeds, or another warehouse, parses again. Between
    processes the saved parse (``partial_parse.msgpack``, under the work directory) means
    dbt re-parses only the files that changed since.
    """
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    run_values = {
        "run_date": run_date.isoformat(),
        "run_started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "escalation_after_minutes": str(settings.escalation_after_minutes),
    }
    if run_id is not None:
        run_values["run_id"] = run_id
    if rebuild_from is not None:
        run_values["rebuild_from"] = rebuild_from.isoformat()
    if as_of is not None:
        run_values["as_of"] = as_of.astimezone(UTC).isoformat()
    env = dbt_env(settings, artifacts_dir)
    env.update({f"BLUEZONE_RUN_{name.upper()}": value for name, value in run_values.items()})
    log.info("running dbt %s with %s", " ".join(args), run_values)
    return _dbt.invoke(settings, args, artifacts_dir, env)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in the process environment while dbt runs, the earlier ones after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _InProcessDbt:
    """dbt's programmatic runner, with the project's parse kept between commands."""

    # The commands that read the parse and can be given it; anything else (``parse``
    # itself, ``--no-partial-parse``) parses as asked.
    GIVEN_THE_PARSE = {("build",), ("run",), ("test",), ("seed",), ("docs", "generate")}

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._manifest = None  # dbt's Manifest, of which every command gets its own copy
        self._parse_lines: list[str] = []  # dbt's console while it made the kept parse
        self._lock = threading.Lock()

    def invoke(
        self, settings: Settings, args: list[str], artifacts_dir: Path, env: dict[str, str]
    ) -> DbtOutcome:
        # One dbt command at a time in a process: dbt's state, and the environment it reads
        # the run's values from, are the process's.
        with self._lock, _environment(env):
            reuse = "--no-partial-parse" not in args and any(
                tuple(args[: len(command)]) == command for command in self.GIVEN_THE_PARSE
            )
            lines: list[str] = []
            if not reuse:
                return self._run(args, None, lines, settings, artifacts_dir)
            parsed = self._parse(settings, artifacts_dir)
            if parsed is not None:
                return parsed
            # the output starts with the parse made for it (here or ahead of it), if any
            lines.extend(self._take_parse_log())
            return self._run(args, self._manifest, lines, settings, artifacts_dir)

    def parsed(self, settings: Settings, artifacts_dir: Path, env: dict[str, str]):
        """The project's parse (dbt's ``Manifest``, not to be changed), parsing first if the
        project changed; None if dbt cannot parse it (the command run next says why)."""
        with self._lock, _environment(env):
            if self._parse(settings, artifacts_dir) is not None:
                return None
            return self._manifest

    def _take_parse_log(self) -> list[str]:
        """What dbt's console showed while it made the kept parse, once: for the first
        command that uses that parse (a later one reuses it without parsing)."""
        lines, self._parse_lines = self._parse_lines, []
        return lines

    def _parse(self, settings: Settings, artifacts_dir: Path) -> DbtOutcome | None:
        """Parse the project unless the kept parse is of the same files; the failed parse's
        outcome, or None when the kept parse is current (its console lines kept for the
        next command, if it was made now)."""
        # Taken before parsing: a file changed while dbt parses is parsed again next time.
        key = _project_key(settings)
        if key != self._key or self._manifest is None:
            lines: list[str] = []
            parsed = self._run(["parse"], None, lines, settings, artifacts_dir)
            self._parse_lines = lines if parsed.returncode == 0 else []
            if parsed.returncode != 0:
                return parsed
            self._key = key
        return None

    def _run(
        self,
        args: list[str],
        manifest: object | None,
        lines: list[str],
        settings: Settings,
        artifacts_dir: Path,
    ) -> DbtOutcome:
        from dbt.cli.main import dbtRunner

        def keep(event) -> None:  # what dbt's console shows, stamped as it stamps it
            if event.info.level in ("info", "warn", "error"):
                lines.append(f"{datetime.now():%H:%M:%S}  {event.info.msg}")

        # dbt reads the saved parse from the run's own target directory and writes it back
        saved = saved_parse(settings)
        run_parse = artifacts_dir / "target" / PARTIAL_PARSE_FILE
        if manifest is None and saved.exists():
            run_parse.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved, run_parse)
        runner = dbtRunner(
            manifest=_working_copy(manifest) if manifest is not None else None, callbacks=[keep]
        )
        try:
            result = runner.invoke([*args, "--project-dir", str(DBT_PROJECT_DIR), "--quiet"])
        finally:
            _close_warehouse()
        if manifest is None and run_parse.exists():
            saved.parent.mkdir(parents=True, exist_ok=True)
            staged = saved.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
            shutil.copyfile(run_parse, staged)
            os.replace(staged, saved)
        if args[:1] == ["parse"] and result.success:
            self._manifest = result.result
        if result.exception is not None and not isinstance(result.exception, Exception):
            # a timeout, a termination or an interrupt of the task dbt ran in: not dbt's
            raise result.exception
        if result.exception is not None:
            lines.append(f"{type(result.exception).__name__}: {result.exception}")
            return DbtOutcome(2, "\n".join(lines))
        return DbtOutcome(0 if result.success else 1, "\n".join(lines))


_dbt = _InProcessDbt()


def _close_warehouse() -> None:
    """Close dbt's connection to the warehouse. dbt-duckdb keeps its database open after a
    command, for the next one; in this process the pipeline opens the file next (ingest,
    publish), and DuckDB lets a process attach a file only once."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


def _working_copy(manifest):
    """A copy of the parse for one command: the nodes, which a command compiles into, and
    what compiling records (the env_var() reads), copied; the rest (macros, docs), which it
    only reads, shared. (dbt's own copy,
    through ``Manifest.__reduce_ex__``, drops a field and shifts the rest in 1.11.)"""
    values = {
        field.name: getattr(manifest, field.name)
        for field in fields(manifest)
        if field.init and not field.name.startswith("_")
    }
    values["nodes"] = copy.deepcopy(manifest.nodes)
    values["flat_graph"] = {}
    # Compiling records each env_var() it reads in the manifest and in the node's file:
    # each command gets its own, so the kept parse neither grows nor keeps a run's values.
    values["env_vars"] = dict(manifest.env_vars)
    values["files"] = {
        file_id: copy.copy(source_file) for file_id, source_file in manifest.files.items()
    }
    for source_file in values["files"].values():
        if isinstance(getattr(source_file, "env_vars", None), list):
            source_file.env_vars = list(source_file.env_vars)
    return type(manifest)(**values)


def files_digest(*roots: Path) -> hashlib._Hash:
    """sha256 of the names and contents of the project's files under ``roots``."""
    digest = hashlib.sha256()
    for root, path in project_files(*roots):
        digest.update(f"{root.name}/{path.relative_to(root)}\0".encode())
        digest.update(path.read_bytes())
    return digest


def project_files(*roots: Path) -> Iterator[tuple[Path, Path]]:
    """Every file under ``roots`` that is part of the project, as (root, path), in a stable
    order; dbt's outputs under them (``NOT_PROJECT_FILES``) left out."""
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not NOT_PROJECT_FILES.intersection(path.relative_to(root).parts) and path.is_file():
                yield root, path


def _project_key(settings: Settings) -> tuple:
    """What dbt's parse depends on: every file of the project and the seeds (name, size,
    modification time), the warehouse (the database the nodes are named in) and the unit
    set (which seeds the models read)."""
    files = []
    for root, path in project_files(DBT_PROJECT_DIR, SEEDS_DIR):
        stat = path.stat()
        files.append((root.name, str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return (str(settings.warehouse_path), settings.units, tuple(files))


def build(
    settings: Settings,
    run_date: date,
    run_id: str,
    *,
    full_refresh: bool = False,
) -> BuildResult:
    """``dbt build`` the project for ``run_date``; raise if any node failed.

    Every node, unless the reference nodes (``References``) stand as the last build
    that built them left them, from the same seeds and project: then only the data models
    but the views reading no run values, and the tests of every data model."""
    with writer(settings.warehouse_path) as con:  # creates the raw layer if missing
        con.execute(RESULTS_DDL)
        start = rebuild_start(con, run_date)
    args = ["build", "--fail-fast"] if not full_refresh else ["build", "--full-refresh"]
    # Unit tests check the SQL, not the data: `make test` runs them, a production run not.
    args += ["--exclude", "test_type:unit"]
    reference = References.of(settings, run_id)
    if reference.standing and not full_refresh:
        args += ["--select", *reference.selection()]
    result = _build(settings, run_date, run_id, args, start, as_of=logical_date_for(run_date))
    built_reference = full_refresh or not reference.standing
    record_build(
        settings,
        run_id,
        run_date,
        start,
        full_refresh,
        reference.inputs if built_reference else None,
    )
    log.info(
        "dbt build for %s (rebuilt from %s; %s): %s",
        run_date,
        start,
        "reference nodes built"
        if built_reference
        else "reference nodes unchanged, left as they are",
        result.counts,
    )
    return result


# --- reference nodes: what the seeds and the project alone decide ---------------------------

# The macro through which SQL reads the run's values (the day, the window, the moment).
RUN_VALUES_MACRO = "macro.bluezone.run_var"


def run_value_macros(manifest) -> set[str]:
    """The macros that read the run's values: ``run_var`` and those reaching it at any
    depth."""
    run_values = {RUN_VALUES_MACRO}
    grown = True
    while grown:
        before = len(run_values)
        run_values |= {
            uid
            for uid, macro in manifest.macros.items()
            if run_values.intersection(macro.depends_on.macros)
        }
        grown = len(run_values) > before
    return run_values


def data_models(manifest) -> set[str]:
    """The models whose rows can differ between two runs of the same project and seeds:
    those reading a source (the landed data), the run's values (the macro ``run_var``,
    directly, through other macros or a hook) or another such model. Every other model and
    every seed is a *reference node*: built from the seeds and the project alone."""
    run_values = run_value_macros(manifest)
    models = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model"}
    data: set[str] = set()
    grown = True
    while grown:
        before = len(data)
        data |= {
            uid
            for uid, node in models.items()
            if run_values.intersection(node.depends_on.macros)
            or any(
                parent.startswith("source.") or parent in data for parent in node.depends_on.nodes
            )
        }
        grown = len(data) > before
    return data


def fixed_views(manifest, data: Collection[str]) -> set[str]:
    """The data models built as views that read none of the run's values themselves: a
    view holds its query, not rows, so its definition comes from the project alone; the
    rows it shows follow what it reads. Built with the reference nodes, left as they are
    while those stand; their tests still run on every build that reads them."""
    run_values = run_value_macros(manifest)
    return {
        uid
        for uid in data
        if manifest.nodes[uid].config.materialized == "view"
        and not run_values.intersection(manifest.nodes[uid].depends_on.macros)
    }


def prepare(settings: Settings) -> None:
    """Import dbt and parse the project now, kept for this process's next dbt command (in a
    thread while ingestion runs elsewhere: the build then starts with both done). Never
    raises: a project dbt cannot parse fails the build, which says why."""
    artifacts_dir = settings.work_dir / "dbt_state" / "prepared"
    try:
        _dbt.parsed(settings, artifacts_dir, dbt_env(settings, artifacts_dir))
    except Exception:
        log.warning("dbt could not parse the project ahead of the build", exc_info=True)


def reference_inputs(settings: Settings) -> str:
    """Fingerprint of what the reference nodes are built from: every file of the dbt project
    and the seeds (content), the unit set, and dbt's and the adapter's versions."""
    from importlib.metadata import version

    digest = files_digest(DBT_PROJECT_DIR, SEEDS_DIR)
    digest.update(f"\0{settings.units}\0{version('dbt-core')}\0{version('dbt-duckdb')}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class References:
    """Whether a build may leave the reference nodes, and the data views that read no run
    values (``fixed_views``), as they are: the last build that built them did so from the
    same inputs (``ops.builds.reference_inputs``), and each one's relation is still in the
    warehouse."""

    inputs: str
    standing: bool
    manifest: object | None
    data: frozenset[str] = frozenset()  # the data models (``data_models``), by unique id
    fixed: frozenset[str] = frozenset()  # of those, the views left standing (``fixed_views``)

    @classmethod
    def of(cls, settings: Settings, run_id: str) -> References:
        """For the build of ``run_id``, whose artifacts (an earlier attempt's removed) start
        with the project's parse."""
        inputs = reference_inputs(settings)
        artifacts_dir = dbt_artifacts_dir(settings, run_id)
        if artifacts_dir.exists():
            shutil.rmtree(artifacts_dir)
        manifest = _dbt.parsed(settings, artifacts_dir, dbt_env(settings, artifacts_dir))
        if manifest is None:  # dbt cannot parse the project: the build says why
            return cls(inputs, False, None)
        with writer(settings.warehouse_path) as con:
            con.execute(RESULTS_DDL)
            last = con.execute(
                "select reference_inputs from ops.builds where reference_inputs is not null "
                "order by finished_at desc limit 1"
            ).fetchone()
            present = {
                (schema.lower(), name.lower())
                for schema, name in con.execute(
                    "select table_schema, table_name from information_schema.tables "
                    "where table_catalog = current_database()"
                ).fetchall()
            }
        data = frozenset(data_models(manifest))
        fixed = frozenset(fixed_views(manifest, data))
        wanted = {  # the relations left standing: the seeds, the other models, fixed views
            (node.schema.lower(), (node.alias or node.name).lower())
            for uid, node in manifest.nodes.items()
            if (
                node.resource_type == "seed"
                or node.resource_type == "model"
                and (uid not in data or uid in fixed)
            )
            and node.config.materialized != "ephemeral"
        }
        standing = last is not None and last[0] == inputs and wanted <= present
        return cls(inputs, standing, manifest, data, fixed)

    def selection(self, upstream_of: Collection[str] | None = None) -> list[str]:
        """What a build on standing reference nodes selects, by name: the data models but
        the fixed views, and the tests of every data model, those views' included (dbt
        would leave out the tests of a model not selected). With ``upstream_of``, only those
        models (by name) and the data models they read, at any depth, and the tests that
        read nothing else (dbt's cautious selection)."""
        nodes = self.manifest.nodes
        data = self.data
        if upstream_of is not None:
            wanted = {uid for uid in data if nodes[uid].name in upstream_of}
            frontier = set(wanted)
            while frontier:
                frontier = {
                    parent
                    for uid in frontier
                    for parent in nodes[uid].depends_on.nodes
                    if parent in data and parent not in wanted
                }
                wanted |= frontier
            data = frozenset(wanted)
        every_parent = upstream_of is not None
        tests = {
            uid
            for uid, node in nodes.items()
            if node.resource_type == "test"
            and node.depends_on.nodes
            and (all if every_parent else any)(parent in data for parent in node.depends_on.nodes)
        }
        return sorted(nodes[uid].name for uid in (data - self.fixed) | tests)


# Today's refresh (DESIGN §6): the deliveries, the compliance, the rates and the
# consolidation, with the views they read; nothing about coverage or data-quality flags.
TODAY_MARTS = ("fct_deliveries", "agg_reporting_rates", "fct_province_consolidation")


def today_selection(con: duckdb.DuckDBPyConnection, units: str) -> list[str]:
    """The refresh's dbt selection: the registry seeds of the unit set ``units`` are
    reloaded at every refresh (a unit added today counts today); the reference seeds only
    on a warehouse that has never been built."""
    built = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'seeds'"
    ).fetchone()[0]
    if not built:
        return [f"+{mart}" for mart in TODAY_MARTS]
    declared = unit_set(units)
    return [f"+{mart},resource_type:model" for mart in TODAY_MARTS] + [
        declared.registry_seed,
        declared.province_reporting_seed,
    ]


def refresh_today(settings: Settings, at: datetime, run_id: str) -> BuildResult:
    """Rebuild only the compliance rows of ``at``'s day (a dbt selection on the day's
    partition), as of ``at``.

    The daily build's bookkeeping is left alone: the files read here still count as new
    for the next daily run, which rebuilds every day they touch."""
    day = at.astimezone(LOCAL_TZ).date()
    reference = References.of(settings, run_id)
    if reference.standing:  # nothing of the seeds' to reload: the day's data models only
        selection = reference.selection(upstream_of=TODAY_MARTS)
    else:
        with writer(settings.warehouse_path) as con:
            selection = today_selection(con, settings.units)
    args = [
        "build",
        "--fail-fast",
        "--select",
        *selection,
        "--exclude",
        "test_type:unit",
        # only the tests of what is rebuilt (not a relationship to a model left alone)
        "--indirect-selection",
        "cautious",
    ]
    result = _build(settings, day, run_id, args, day, as_of=at)
    log.info("refreshed %s's compliance: %s", day, result.counts)
    return result


def dbt_artifacts_dir(settings: Settings, run_id: str) -> Path:
    """Where a run's dbt build keeps its artifacts (``target/``: manifest.json,
    run_results.json, the compiled SQL) and its log."""
    return settings.run_artifacts_dir / safe_file_name(run_id) / "dbt"


def _build(
    settings: Settings,
    run_date: date,
    run_id: str,
    args: list[str],
    rebuild_from: date,
    *,
    as_of: datetime,
) -> BuildResult:
    artifacts_dir = dbt_artifacts_dir(settings, run_id)
    outcome = run_dbt(
        settings,
        args,
        run_date,
        artifacts_dir,
        rebuild_from=rebuild_from,
        run_id=run_id,
        as_of=as_of,
    )
    (artifacts_dir / "dbt_build.log").write_text(outcome.output)
    results_path = artifacts_dir / "target" / "run_results.json"
    if not results_path.exists():
        raise DbtBuildFailed(
            f"dbt build produced no results (exit {outcome.returncode}):\n"
            + "\n".join(outcome.output.splitlines()[-30:])
        )
    results = json.loads(results_path.read_text())
    store_results(settings, results, run_id, run_date)
    counts: dict[str, int] = {}
    failures = []
    for result in results["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        if result["status"] in ("error", "fail", "runtime error"):
            failures.append(f"{result['unique_id']}: {result.get('message')}")
    if failures or outcome.returncode != 0:
        raise DbtBuildFailed(
            f"dbt build failed for {run_date}: {len(failures)} node(s) failed\n"
            + "\n".join(failures[:20])
            + ("" if failures else "\n" + "\n".join(outcome.output.splitlines()[-20:]))
        )
    return BuildResult(run_id, artifacts_dir, counts, failures)


def store_results(settings: Settings, results: dict, run_id: str, run_date: date) -> None:
    rows = [
        (
            run_id,
            run_date,
            result["unique_id"],
            result["unique_id"].split(".", 1)[0],
            result["status"],
            result.get("failures"),
            (result.get("message") or "")[:2000],
            result.get("execution_time"),
            results["metadata"]["invocation_id"],
            results["metadata"].get("generated_at"),
        )
        for result in results["results"]
    ]
    with writer(settings.warehouse_path) as con:
        con.execute(RESULTS_DDL)
        con.execute("begin")
        con.execute("delete from ops.dbt_results where run_id = ?", [run_id])
        if rows:
            con.executemany(
                f"insert into ops.dbt_results ({', '.join(tables.DBT_RESULTS.column_names)}) "
                f"values ({', '.join('?' * len(tables.DBT_RESULTS.column_names))})",
                rows,
            )
        con.execute("commit")


def generate_docs(settings: Settings, run_date: date, out_dir: Path) -> Path:
    """``dbt docs generate --static`` against the warehouse; returns the static page.

    ``out_dir`` receives manifest.json, catalog.json and static_index.html (one file that
    works offline). (``--no-compile`` would leave the page without its manifest.)
    """
    outcome = run_dbt(settings, ["docs", "generate", "--static"], run_date, out_dir)
    page = out_dir / "target" / "static_index.html"
    if outcome.returncode != 0 or not page.exists():
        raise DbtBuildFailed(
            "dbt docs generate failed:\n" + "\n".join(outcome.output.splitlines()[-30:])
        )
    return page
