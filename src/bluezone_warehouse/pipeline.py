"""The daily pipeline's steps as plain functions, so Airflow tasks, the CLI and benchmarks
all run exactly the same code (DESIGN §2): ingest → build → publish → check → report. The
snapshot is published once dbt's tests pass; Great Expectations then validates it, and a
failed structural expectation on a mart withdraws it again.

The business day a run is for comes from the Airflow data interval (``schedule.run_date_for``)
and is the only date any step uses; nothing reads the wall clock for business logic.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from time import perf_counter, sleep

import duckdb

from bluezone_warehouse.config import (
    DBT_PROJECT_DIR,
    EXPECTATIONS_DIR,
    LOCAL_TZ,
    SEEDS_DIR,
    Settings,
)
from bluezone_warehouse.names import safe_file_name
from bluezone_warehouse.transform import files_digest, prepare
from bluezone_warehouse.worker import Worker

log = logging.getLogger(__name__)


def ingest(settings: Settings, run_id: str) -> dict[str, object]:
    from bluezone_warehouse.ingest import ingest_landing

    return ingest_landing(settings, run_id=run_id).as_dict()


def build(
    settings: Settings, run_date: date, run_id: str, *, lineage: bool = True
) -> dict[str, int]:
    """dbt build for the run's day; its OpenLineage events (one run per model and seed,
    failed ones too) are emitted after it, successful or not. ``lineage=False`` leaves
    them to the caller (``build_lineage``), once the snapshot is out."""
    from bluezone_warehouse import transform

    try:
        return transform.build(settings, run_date, run_id).counts
    finally:
        if lineage:
            build_lineage(settings, run_id)


def build_lineage(settings: Settings, run_id: str) -> None:
    """The OpenLineage events of the run's dbt build, if dbt got as far as running it."""
    from bluezone_warehouse import lineage, transform

    target = transform.dbt_artifacts_dir(settings, run_id) / "target"
    if (target / "run_results.json").exists():
        lineage.emit_dbt_lineage(settings, target)


def check(
    settings: Settings, run_date: date, run_id: str, validator: Worker | None = None
) -> dict[str, object]:
    """Great Expectations on raw and marts; results stored as rows in ``ops.gx_results``.

    Runs after the run's snapshot is published. A failed structural expectation on a mart
    withdraws that snapshot (BI goes back to the one it replaced) and raises, naming each
    failure; so does a validation that cannot run at all, since the snapshot is then not
    validated. Data expectations and the raw layer are recorded and logged, and the run
    goes on (DESIGN §5). ``validator``: a worker process for ``VALIDATE``, started earlier
    and importing Great Expectations meanwhile, validates instead of this one; it may
    have begun already (``Worker.start`` with ``validation_arguments``), while the snapshot
    was published from the same warehouse, both reading it.
    """
    from bluezone_warehouse.quality.expectations import store_results, validate_warehouse
    from bluezone_warehouse.warehouse import withdraw, writer

    validate = validator.call if validator is not None else validate_warehouse
    try:
        summary = validate(**validation_arguments(settings, run_date, run_id))
        with writer(settings.warehouse_path) as con:
            store_results(con, summary)
        for failure in summary.failed_raw:
            log.warning("raw-layer expectation failed: %s", failure.describe())
        for warning in summary.data_warnings:
            log.warning(
                "data expectation failed (published with a warning): %s", warning.describe()
            )
        summary.raise_for_failed_marts()
    except Exception as failed:
        snapshot = snapshot_id_for(run_date, run_id)
        back_on = withdraw(settings.publish_dir, snapshot)
        failed.add_note(
            f"snapshot {snapshot} withdrawn: BI is back on "
            + (f"snapshot {back_on}" if back_on else "no snapshot (there was none before)")
        )
        raise
    return {
        "expectations": len(summary.results),
        "failed_raw": len(summary.failed_raw),
        "data_warnings": len(summary.data_warnings),
        "data_docs": str(summary.data_docs_index),
    }


def validation_arguments(settings: Settings, run_date: date, run_id: str) -> dict[str, object]:
    """What the run's validation (``validate_warehouse``) is asked."""
    return {
        "warehouse_path": settings.warehouse_path,
        "run_id": run_id,
        "run_date": run_date,
        "docs_dir": settings.run_artifacts_dir / safe_file_name(run_id) / "gx_docs",
        "units": settings.units,
    }


def data_warnings(settings: Settings, run_id: str) -> list[str]:
    """The run's failed data expectations on the marts (``ops.gx_results``), one line each."""
    from bluezone_warehouse.warehouse import connect_reader

    con = connect_reader(settings.warehouse_path)
    try:
        rows = con.execute(
            "select relation, column_name, expectation, observed_value from ops.gx_results "
            "where run_id = ? and not success and kind = 'data' and relation like 'marts.%' "
            "order by all",
            [run_id],
        ).fetchall()
    except duckdb.CatalogException:  # no validation has run in this warehouse
        return []
    finally:
        con.close()
    return [
        f"{relation}{'.' + column if column else ''}: {expectation}"
        + (f", observed {observed}" if observed else "")
        for relation, column, expectation, observed in rows
    ]


def snapshot_id_for(run_date: date, run_id: str) -> str:
    """The name of a run's snapshot: its day first, so that a backfill is recognised."""
    return f"{run_date:%Y%m%d}-{safe_file_name(run_id)}"


def publish(settings: Settings, run_date: date, run_id: str) -> str:
    from bluezone_warehouse.warehouse import publish as publish_snapshot

    return str(
        publish_snapshot(
            settings.warehouse_path,
            settings.publish_dir,
            snapshot_id_for(run_date, run_id),
            workbooks=settings.workbooks,
        )
    )


# --- a run with nothing new does nothing ---------------------------------------------------


@cache
def code_fingerprint() -> str:
    """What the outputs depend on besides the data: the dbt project, the seeds, the
    expectation suites and this package's code."""
    roots = (DBT_PROJECT_DIR, SEEDS_DIR, EXPECTATIONS_DIR, Path(__file__).parent)
    return files_digest(*roots).hexdigest()


@dataclass(frozen=True)
class Changes:
    """What a daily run has to do, decided once its files are ingested."""

    inputs: str  # fingerprint of everything the run's outputs depend on
    unchanged_since: str | None  # the earlier run whose outputs stand, if nothing changed
    snapshot: str | None = None
    report: str | None = None

    def message(self, run_date: date) -> str:
        if self.unchanged_since is None:
            return f"new files or changes since the last run for {run_date}: rebuilding"
        return (
            f"nothing new since run {self.unchanged_since} for {run_date} (same landed files, "
            f"code and settings): nothing rebuilt, checked or published; its snapshot "
            f"{self.snapshot} and report {self.report} stand"
        )


def changes(settings: Settings, run_date: date, *, rebuild: bool = False) -> Changes:
    """Whether this run for ``run_date`` has anything to do. Nothing, when the latest
    completed daily run was for the same day, on the same landed files (every delivery in
    the manifest, accepted or not), code and settings, and its snapshot and report are
    still there: its outputs are exactly what this run would produce. ``rebuild`` asks for
    every step regardless."""
    from bluezone_warehouse import tables
    from bluezone_warehouse.warehouse import writer

    with writer(settings.warehouse_path) as con:
        con.execute(tables.ddl(tables.LANDING_FILES, tables.BUILDS, tables.DAILY_RUNS))
        digest = hashlib.sha256(
            f"{run_date.isoformat()}\0{settings!r}\0{code_fingerprint()}".encode()
        )
        for (file_id,) in con.execute(
            "select file_id from raw.landing_files order by file_id"
        ).fetchall():
            digest.update(f"\0{file_id}".encode())
        inputs = digest.hexdigest()
        latest = con.execute(
            "select run_id, run_date, inputs, snapshot, report from ops.daily_runs "
            "order by finished_at desc limit 1"
        ).fetchone()
        (last_built,) = con.execute(
            "select run_id from ops.builds order by finished_at desc limit 1"
        ).fetchone() or (None,)
    if latest is not None and not rebuild:
        run_id, day, previous_inputs, snapshot, report = latest
        if (
            (day, previous_inputs, last_built) == (run_date, inputs, run_id)
            and Path(snapshot).exists()
            and Path(report).exists()
        ):
            return Changes(inputs, run_id, snapshot, report)
    return Changes(inputs, None)


def record_run(
    settings: Settings, run_date: date, run_id: str, inputs: str, snapshot: str, report: str
) -> None:
    """A daily run completed: its outputs stand for ``inputs`` (see ``changes``). The
    snapshot is recorded as the folder it was published to, not the ``current`` link."""
    from bluezone_warehouse import tables
    from bluezone_warehouse.warehouse import writer

    with writer(settings.warehouse_path) as con:
        con.execute(tables.ddl(tables.DAILY_RUNS))
        con.execute(
            "insert into ops.daily_runs values (?, ?, ?, ?, ?, now())",
            [run_id, run_date, inputs, str(Path(snapshot).resolve()), report],
        )


@dataclass(frozen=True)
class DailyRun:
    run_date: date
    ingested: dict[str, object]
    built: dict[str, int]
    checked: dict[str, object]
    snapshot: str
    report: str
    seconds: dict[str, float]  # wall-clock time of each step, in order
    unchanged_since: str | None = None  # nothing was new: the run whose outputs stand


# What a daily run in one process has done by worker processes (``worker.Worker``).
INGEST = "bluezone_warehouse.pipeline:ingest"
VALIDATE = "bluezone_warehouse.quality.expectations:validate_warehouse"
IMPORT_GX = "bluezone_warehouse.quality.expectations:import_gx"


def ingest_ahead_of_build(settings: Settings, run_id: str) -> dict[str, object]:
    """``ingest``, in a process of its own, while this one imports dbt and parses the project
    for the build that follows (``transform.prepare``). Here the build then starts with both
    done (``run_daily``, and every task of ``airflow dags test``, which share a process);
    a build in another process of the same work directory (a task under an executor) finds
    the parse saved and re-parses only what changed since. Not waited for: when nothing is
    new, no build follows, and the parse ends with the process."""
    with Worker(INGEST) as ingestion:
        threading.Thread(target=prepare, args=(settings,), name="dbt-parse", daemon=True).start()
        return ingestion.call(settings=settings, run_id=run_id)


def run_daily(
    settings: Settings, run_date: date, run_id: str | None = None, *, rebuild: bool = False
) -> DailyRun:
    """Every step of ``bluezone_daily`` in this process, in order (no Airflow); after
    ingestion, nothing more when nothing is new (``changes``) unless ``rebuild``."""
    run_id = run_id or f"direct__{run_date.isoformat()}"
    seconds: dict[str, float] = {}

    def timed(step: str, call, *args):
        started = perf_counter()
        result = call(*args)
        seconds[step] = round(perf_counter() - started, 2)
        return result

    ingested = timed("ingest", ingest_ahead_of_build, settings, run_id)
    todo = timed("changes", lambda: changes(settings, run_date, rebuild=rebuild))
    log.info(todo.message(run_date))
    if todo.unchanged_since is not None:
        return DailyRun(
            run_date, ingested, {}, {}, todo.snapshot, todo.report, seconds, todo.unchanged_since
        )
    # Great Expectations is imported by the process that will validate while dbt builds,
    # at a lower priority than the build; it validates the built warehouse while this
    # process publishes it (both only read it), and check() waits for its answer.
    # The build's lineage is emitted once the snapshot is out (or the build has failed).
    with Worker(VALIDATE, warm_up=IMPORT_GX, nice=10) as validator:
        try:
            built = timed("build", lambda: build(settings, run_date, run_id, lineage=False))
            validator.start(**validation_arguments(settings, run_date, run_id))
            snapshot = timed("publish", publish, settings, run_date, run_id)
        finally:
            timed("lineage", build_lineage, settings, run_id)
        checked = timed("check", check, settings, run_date, run_id, validator)
    page = timed("report", report, settings, run_date, run_id, snapshot)
    record_run(settings, run_date, run_id, todo.inputs, snapshot, page)
    return DailyRun(run_date, ingested, built, checked, snapshot, page, seconds)


def refresh_today(
    settings: Settings, at: datetime, run_id: str, *, wait: bool = True
) -> dict[str, object]:
    """Today's refresh (DESIGN §6): ingest what has arrived, rebuild only the day's
    deliveries, compliance, rates and consolidation, publish the snapshot, and write every
    province's consolidation files. Once the daily run has built the day, only the files
    are written (from what it built).

    A report that arrived by ``at`` but is still settling (DESIGN §3.3) is waited for; with
    ``wait=False`` the refresh goes ahead without it and says which provinces it concerns
    (``awaited``: province codes, or None for all), so that a deadline run sends every
    other province's digest at once and those after a second refresh."""
    from bluezone_warehouse import consolidation, transform
    from bluezone_warehouse.ingest import provinces_awaited, settle_wait

    day = at.astimezone(LOCAL_TZ).date()
    seconds: dict[str, float] = {}
    started = perf_counter()
    awaited: set[str] | None = set()
    if wait:
        # A report that arrived just before ``at`` is read once it has settled, not skipped.
        pause = settle_wait(settings, at)
        if pause:
            log.info("waiting %.0f s for reports that arrived by %s to settle", pause, at)
            sleep(pause)
    else:
        awaited = provinces_awaited(settings, at)
    seconds["settle"] = round(perf_counter() - started, 2)
    if transform.built_through(settings) >= day:
        # The daily run for the day (or a later one) has built everything that arrived:
        # a deadline run replayed after it rebuilds nothing and republishes nothing.
        log.info("the daily run has already built %s: nothing to refresh", day)
        ingested, built, snapshot = {"statuses": {}}, {}, None
    else:
        started = perf_counter()
        ingested = ingest(settings, run_id)
        seconds["ingest"] = round(perf_counter() - started, 2)
        started = perf_counter()
        built = transform.refresh_today(settings, at, run_id).counts
        seconds["build"] = round(perf_counter() - started, 2)
        started = perf_counter()
        snapshot = publish(settings, day, run_id)
        seconds["publish"] = round(perf_counter() - started, 2)
    started = perf_counter()
    written = consolidation.write_day(
        settings.warehouse_path, day, consolidation_dir(settings), settings.units
    )
    seconds["consolidation"] = round(perf_counter() - started, 2)
    return {
        "day": day.isoformat(),
        "ingested": ingested["statuses"],
        "built": built,
        "snapshot": snapshot,
        "consolidations": len(written),
        "seconds": seconds,
        "awaited": None if awaited is None else sorted(awaited),
    }


def consolidation_dir(settings: Settings) -> Path:
    """Where the provincial consolidations are published (DESIGN §3.5)."""
    return settings.publish_dir / "consolidation"


def send_deadline_alerts(
    settings: Settings,
    at: datetime,
    run_id: str,
    *,
    send: bool,
    refresh: bool = True,
    awaited: Collection[str] | None = (),
) -> dict:
    """The digests due at ``at`` (local time) from the compliance mart, and a receipt for
    each of today's deliveries with rejected rows, each sent once; first today's refresh
    (ingest, rebuild today's compliance, publish), unless the caller ran it.

    ``awaited`` (from a refresh that did not wait, ``refresh_today(wait=False)``): the
    provinces whose digests wait for a report still settling (None: all of them). Every
    other province's digest is sent now; then the refresh runs again once the report has
    settled, and the awaited digests follow."""
    refreshed = refresh_today(settings, at, run_id) if refresh else None
    counts = _send_digests(settings, at, run_id, send=send, holding=awaited)
    if counts.pop("held"):
        log.info("refreshing again for the digests of %s", awaited or "every province")
        refresh_today(settings, at, f"{run_id}-settled")
        later = _send_digests(settings, at, run_id, send=send, holding=())
        later.pop("held")
        counts = {key: counts[key] + later[key] for key in ("sent", "recorded")} | {
            key: later[key] for key in ("alerts", "receipts", "skipped")
        }
    return {"ingested": refreshed["ingested"] if refreshed else None, **counts}


def _send_digests(
    settings: Settings, at: datetime, run_id: str, *, send: bool, holding: Collection[str] | None
) -> dict[str, int]:
    """Dispatch the digests due at ``at`` except those of the provinces in ``holding``
    (None: hold them all), and today's receipts; raise if a channel kept failing. Counts
    what was sent and recorded, and how many due digests were held back."""
    from bluezone_warehouse.alerts.channels import configured_channels
    from bluezone_warehouse.alerts.compose import missing_report_alerts, receipt_alerts
    from bluezone_warehouse.alerts.dispatch import AlertDeliveryFailed, dispatch
    from bluezone_warehouse.warehouse import writer

    with writer(settings.warehouse_path) as con:
        due = missing_report_alerts(
            con,
            at=at,
            language=settings.alert_language,
            escalation_after_minutes=settings.escalation_after_minutes,
            reminder_before_minutes=settings.reminder_before_minutes,
            consolidations=consolidation_dir(settings),
            units=settings.units,
        )
        alerts = [a for a in due if holding is not None and a.scope_code not in holding]
        receipts = receipt_alerts(
            con,
            day=at.astimezone(LOCAL_TZ).date(),
            language=settings.alert_language,
            units=settings.units,
        )
        report = dispatch(
            con, alerts + receipts, configured_channels(settings), send=send, run_id=run_id
        )
    if report.failed:
        raise AlertDeliveryFailed(f"alerts not delivered: {report.failed}")
    return {
        "alerts": len(alerts),
        "held": len(due) - len(alerts),
        "receipts": len(receipts),
        "sent": len(report.sent),
        "recorded": len(report.recorded),
        "skipped": len(report.skipped),
    }


def send_data_quality_alerts(
    settings: Settings, run_date: date, run_id: str, *, send: bool
) -> dict:
    """One digest per province of the data-quality errors this run's build first found."""
    from bluezone_warehouse.alerts.channels import configured_channels
    from bluezone_warehouse.alerts.compose import data_quality_alerts
    from bluezone_warehouse.alerts.dispatch import AlertDeliveryFailed, dispatch
    from bluezone_warehouse.warehouse import writer

    channels = configured_channels(settings)
    with writer(settings.warehouse_path) as con:
        alerts = data_quality_alerts(
            con,
            run_id=run_id,
            day=run_date,
            language=settings.alert_language,
            units=settings.units,
        )
        report = dispatch(con, alerts, channels, send=send, run_id=run_id)
    if report.failed:
        raise AlertDeliveryFailed(f"alerts not delivered: {report.failed}")
    return {"alerts": len(alerts), "sent": len(report.sent), "recorded": len(report.recorded)}


def dbt_docs(settings: Settings, run_date: date, out_dir: Path) -> Path:
    """The dbt docs page. It describes the project and the warehouse's tables and columns,
    not their rows, so it is generated again (into ``out_dir``) only when the code or a
    table's columns have changed since the last page; otherwise that page stands (its
    compiled SQL shows the day of the run that generated it)."""
    import shutil

    from bluezone_warehouse.transform import generate_docs
    from bluezone_warehouse.warehouse import connect_reader

    con = connect_reader(settings.warehouse_path)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by all"
        ).fetchall()
    finally:
        con.close()
    key = hashlib.sha256(f"{code_fingerprint()}\0{columns!r}".encode()).hexdigest()[:16]
    pages = settings.work_dir / "dbt_docs_pages"
    page = pages / f"{key}.html"
    if page.exists():
        log.info("dbt docs unchanged (same code and columns): %s", page)
        return page
    generated = generate_docs(settings, run_date, out_dir)
    pages.mkdir(parents=True, exist_ok=True)
    staged = pages / f".{key}.html.partial"
    shutil.copyfile(generated, staged)
    staged.replace(page)
    for older in pages.glob("*.html"):
        if older != page:
            older.unlink()
    return page


def report(settings: Settings, run_date: date, run_id: str, snapshot: str) -> str:
    """The day's HTML report from the run's snapshot, with the dbt docs and the Great
    Expectations Data Docs published beside it and linked from it; returns its path."""
    import shutil

    from bluezone_warehouse.report import build_report
    from bluezone_warehouse.warehouse import CURRENT_LINK

    docs = settings.publish_dir / "docs"
    artifacts = settings.run_artifacts_dir / safe_file_name(run_id)
    dbt_page = dbt_docs(settings, run_date, artifacts / "dbt_docs")
    docs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dbt_page, docs / "dbt.html")
    gx_docs = artifacts / "gx_docs"
    if gx_docs.exists():
        shutil.rmtree(docs / "gx", ignore_errors=True)
        shutil.copytree(gx_docs, docs / "gx")
    links = {
        "Tài liệu dữ liệu (dbt)": "docs/dbt.html",
        "Kiểm tra dữ liệu (GX)": "docs/gx/index.html",
    }
    page = build_report(
        Path(snapshot),
        settings.publish_dir / f"report_{run_date:%Y%m%d}.html",
        links=links,
        warnings=data_warnings(settings, run_id),
        consolidations=consolidation_dir(settings),
    )
    current = (settings.publish_dir / CURRENT_LINK).resolve()
    if Path(snapshot).resolve().parent == current:  # not a backfill of an older day
        shutil.copyfile(page, settings.publish_dir / "report.html")
    return str(page)
