"""``make demo``: simulate the default campaign, run ``bluezone_daily`` under Airflow for its
last day, and print what a campaign lead wants to see and where every output is.

The demo works in its own folder (``data/demo`` in the project) and starts it afresh, so it
never touches a landing zone or warehouse configured through BLUEZONE_* variables. It runs a
campaign on a unit set (DESIGN §9; ``bluezone demo --units 2025``: a present-day campaign on
the 34 provinces and their communes), whose default dates are the simulator's
(``simulate.options.campaign_window``); its counts come from the seeds.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from bluezone_warehouse.config import (
    PROJECT_DIR,
    SEEDS_DIR,
    Settings,
    environment_under,
    load_settings,
)
from bluezone_warehouse.registry import load_registry, read_seed
from bluezone_warehouse.units import unit_set

DEMO_DIR = PROJECT_DIR / "data" / "demo"


def demo_environment(units: str | None = None) -> dict[str, str]:
    """The environment the demo runs under: every input and output under ``DEMO_DIR``, and
    its campaign: the unit set ``units`` (the project's default when None) and that set's
    campaign window (BLUEZONE_UNITS, BLUEZONE_CAMPAIGN_START, BLUEZONE_CAMPAIGN_END)."""
    from bluezone_devtools.simulate.options import campaign_window

    declared = unit_set(units)
    window = campaign_window(declared.name)
    return {
        **environment_under(DEMO_DIR),
        "BLUEZONE_UNITS": declared.name,
        "BLUEZONE_CAMPAIGN_START": window.start.isoformat(),
        "BLUEZONE_CAMPAIGN_END": window.campaign_end.isoformat(),
    }


def campaign_line(units: str | None, start: date, end: date, seed: int) -> str:
    """What the demo simulates, counted from the unit set's seeds."""
    declared = unit_set(units)
    provinces = len(read_seed(SEEDS_DIR, declared.seed_file(declared.provinces_seed)))
    registered = load_registry(SEEDS_DIR, declared.name).units
    committees = sum(unit.is_committee for unit in registered)
    return (
        f"the campaign {start} .. {end} on the {declared.name} units: all {provinces} "
        f"provinces, {committees:,} {declared.area_level} committees and "
        f"{len(registered) - committees:,} provincial agencies reporting (seed {seed})"
    )


def example_province(units: str | None) -> str | None:
    """The province whose digest the demo points to: the first with a target of its own
    (Hải Dương on the 2020 units)."""
    declared = unit_set(units)
    scopes = [
        row["scope_code"]
        for row in read_seed(SEEDS_DIR, declared.seed_file(declared.targets_seed))
        if row["scope_level"] == "province"
    ]
    return scopes[0] if scopes else None


def ingestion_lines(settings: Settings) -> list[str]:
    """What ingestion did with the landed files, read from the warehouse (read-only)."""
    from bluezone_warehouse.warehouse import connect_reader

    con = connect_reader(settings.warehouse_path)
    try:
        statuses = dict(
            con.execute("select status, count(*) from raw.landing_files group by all").fetchall()
        )
        checks = con.execute(
            "select check_id, count(*) from raw.rejected_rows group by all order by 2 desc"
        ).fetchall()
    finally:
        con.close()
    order = ("loaded", "partial", "duplicate", "quarantined", "refused")
    files = ", ".join(f"{statuses[s]:,} {s}" for s in order if s in statuses)
    flags = ", ".join(f"{count:,} {check}" for check, count in checks) or "none"
    return [
        f"  Landed files: {sum(statuses.values()):,} ({files})",
        f"  Rejected rows and files, by check: {flags}",
        "    (select path, status, reason from raw.landing_files where status <> 'loaded')",
    ]


def alert_lines(settings: Settings, day: date, province: str | None = "30") -> list[str]:
    """How many digests went out, by kind, and an example to open (``province``'s deadline
    digest when there is one)."""
    outbox = settings.outbox_dir / day.isoformat()
    files = sorted(outbox.glob("*.md")) if outbox.exists() else []
    kinds: dict[str, int] = {}
    for path in files:
        # <scope>_<kind>[_<delivery key>]: a receipt is named after its delivery
        kind = re.sub(r"_[0-9a-f]{16,}$", "", path.stem.split("_", 1)[1])
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "none"
    example = next(
        (p for p in files if p.stem == f"{province}_deadline"), files[0] if files else None
    )
    return [
        f"  Alerts for {day:%d/%m/%Y}: {summary} digests in {outbox}",
        *([f"    e.g. {example}"] if example else []),
    ]


def _latest(folder: Path, relative: str) -> Path | str:
    found = sorted(folder.glob(f"*/{relative}"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else "(not produced)"


def run_demo(_: Settings, *, end: date | None, seed: int, units: str | None = None) -> int:
    """Simulate the campaign on the unit set ``units`` up to ``end`` (None: the set's demo
    day, three to four weeks in), run the DAGs for that day, print the results."""
    from bluezone_devtools.simulate import FaultRates, simulate_campaign
    from bluezone_devtools.simulate.options import campaign_window
    from bluezone_warehouse.cli import airflow_dags_test
    from bluezone_warehouse.schedule import logical_date_for
    from bluezone_warehouse.summary import print_summary

    started = time.perf_counter()
    units = unit_set(units).name
    window = campaign_window(units)
    end = window.demo_end if end is None else end
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    os.environ.update(demo_environment(units))
    settings = load_settings()
    print(f"1/4 Simulating {campaign_line(units, window.start, end, seed)}")
    result = simulate_campaign(
        landing := DEMO_DIR / "landing",
        start=window.start,
        end=end,
        seed=seed,
        faults=FaultRates(),
        progress=sys.stderr.isatty(),
        units=units,
    )
    print(f"    {result.files_written:,} files in {landing} ({time.perf_counter() - started:.0f}s)")
    runs = (
        ("bluezone_daily", logical_date_for(end).isoformat(), f"for {end}"),
        ("bluezone_report_deadlines", f"{end.isoformat()}T16:00:00+07:00", f"at 16:00 on {end}"),
    )
    for number, (dag_id, logical_date, when) in enumerate(runs, start=2):
        print(f"{number}/4 Running {dag_id} {when} under Airflow (airflow dags test)")
        step = time.perf_counter()
        completed = airflow_dags_test(dag_id, logical_date, quiet=True, conf={"send": True})
        if completed.returncode != 0:
            print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n")
            print(f"{dag_id} failed: see the output above and the task logs under .airflow/logs")
            return completed.returncode
        print(f"    done ({time.perf_counter() - step:.0f}s)")
    print("4/4 Results\n")
    print_summary(settings, end)
    print("\n".join(ingestion_lines(settings)))
    print("\n".join(alert_lines(settings, end, example_province(units))))
    snapshot = settings.publish_dir / "current"
    print(
        "\nWhere things are:\n"
        f"  landing zone        {settings.landing_url}\n"
        f"  ground truth        {result.truth_dir}\n"
        f"  warehouse (writer)  {settings.warehouse_path}\n"
        f"  daily report        {settings.publish_dir / 'report.html'}\n"
        f"                      (open it in any browser, offline: file://"
        f"{settings.publish_dir / 'report.html'})\n"
        f"  published snapshot  {snapshot / 'bluezone_marts.duckdb'}  (open read-only)\n"
        f"  marts as Parquet    {snapshot / 'parquet'}\n"
        f"  quarantine          {settings.quarantine_url}\n"
        f"  alerts (outbox)     {settings.outbox_dir}  (alerts.jsonl; one .md per digest)\n"
        f"  dbt docs, Data Docs {settings.publish_dir / 'docs'}  (dbt.html, gx/index.html)\n"
        f"  dbt run results     {_latest(settings.run_artifacts_dir, 'dbt/target')}\n"
        f"  Airflow task logs   {PROJECT_DIR / '.airflow' / 'logs'}\n"
        f"\nDemo finished in {time.perf_counter() - started:.0f}s."
    )
    return 0
