"""Benchmark: what a daily run costs when the data needs nothing, and dbt's fixed cost.

    .venv/bin/python bench/rerun.py [--days 3]

A national campaign (63 provinces, 1,336 reporting units, commune-level exports) of N
days is delivered up to the daily run of its last day. Then, each in a fresh process:

1. the daily run of the last day, the first on this warehouse (dbt has no saved parse);
2. the same day again with no new files: DESIGN §8 says it does no rebuild work;
3. the same day with ``rebuild`` (every step), dbt reusing the saved parse;
4. the same again with the saved parse removed first: dbt parses the whole project, as
   every run did before the parse was kept between runs.

Per-step seconds; dbt's parse time from its log. Writes the rerun section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from common import machine_line, measure, simulate_national, write_section
from incremental import cutoff

from bluezone_devtools.simulate import deliver_until

STEPS = ("ingest", "changes", "build", "publish", "check", "report")
# DESIGN §8: the snapshot published <= 10 s after a daily run starts, the whole run <= 25 s.
TARGET_SNAPSHOT_SECONDS = 10.0
TARGET_RUN_SECONDS = 25.0


def run(root: str, landing: str, day: str, run_id: str, rebuild: bool, fresh_parse: bool) -> dict:
    """One daily run in this process, with dbt's parse time and kind from its log."""
    from freshness import _dbt_phase
    from steps import environment

    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.pipeline import run_daily
    from bluezone_warehouse.transform import PARTIAL_PARSE_FILE

    settings = load_settings({**environment(root, landing), "BLUEZONE_SETTLE_SECONDS": "0"})
    if fresh_parse:
        (settings.work_dir / "dbt_state" / PARTIAL_PARSE_FILE).unlink(missing_ok=True)
    result = run_daily(settings, date.fromisoformat(day), run_id, rebuild=rebuild)
    dbt = _dbt_phase(settings, run_id) if result.unchanged_since is None else None
    return {
        "steps": result.seconds,
        "unchanged_since": result.unchanged_since,
        "new_files": result.ingested["files_new"],
        "dbt": dbt,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    start = date(2020, 8, 1)
    last = start + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-rerun-"))
    try:
        simulated = root / "simulated"
        simulate_national(simulated, start, last)
        landing = root / "landing"
        delivered = deliver_until(simulated, landing, cutoff(last))
        cases = [
            ("first run of the day (no saved parse)", "first", False, False),
            ("same day, no new files", "again", False, False),
            ("same day, rebuild, saved parse", "rebuild", True, False),
            ("same day, rebuild, whole project parsed", "full-parse", True, True),
        ]
        rows = []
        for label, run_id, rebuild, fresh in cases:
            measured = measure(
                "rerun",
                "run",
                root=str(root / "warehouse"),
                landing=str(landing),
                day=str(last),
                run_id=run_id,
                rebuild=rebuild,
                fresh_parse=fresh,
            )
            rows.append((label, measured))
            print(f"{label}: {measured.seconds:.1f} s {measured.result['steps']}", flush=True)
        write_section("rerun", report(rows, args.days, delivered))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(rows: list, days: int, delivered: int) -> str:
    by_label = {label: m for label, m in rows}
    lines = [
        "## A run with nothing new, and dbt's fixed cost (`bench/rerun.py`)",
        "",
        f"{machine_line()}; `.venv/bin/python bench/rerun.py --days {days}`.",
        "",
        f"National campaign, commune-level exports, {days} days ({delivered:,} landing files "
        "delivered up to the last day's daily run). Each run of the last day in a fresh "
        "process (`pipeline.run_daily`, timed from its call: the interpreter's start is not "
        'counted); steps in the order they run. "snapshot": seconds from the start of '
        "the run until its snapshot is published (ingest, changes, build, publish), and "
        f'its ratio to the {TARGET_SNAPSHOT_SECONDS:.0f} s target; "run": the whole run '
        f"against {TARGET_RUN_SECONDS:.0f} s. dbt parse: from dbt's log, +-1 s.",
        "",
        "| run | run s | / 25 s | "
        + " | ".join(STEPS)
        + " | snapshot s | / 10 s | dbt parse | dbt parsed |",
        "|---|---|---|" + "---|" * len(STEPS) + "---|---|---|---|",
    ]
    for label, measured in rows:
        result = measured.result
        steps = result["steps"]
        dbt = result["dbt"]
        parsed = "—" if dbt is None else ("whole project" if dbt["full_parse"] else "changes only")
        parse = "—" if dbt is None or dbt["parse"] is None else f"{dbt['parse']:.0f} s"
        published = (
            sum(steps[s] for s in ("ingest", "changes", "build", "publish"))
            if "publish" in steps
            else None
        )
        snapshot = (
            "—"
            if published is None
            else f"{published:.1f} | {published / TARGET_SNAPSHOT_SECONDS:.2f}"
        )
        lines.append(
            f"| {label} | {measured.seconds:.1f} | {measured.seconds / TARGET_RUN_SECONDS:.2f} | "
            + " | ".join(f"{steps[s]:.2f}" if s in steps else "—" for s in STEPS)
            + f" | {snapshot if published is not None else '— | —'} | {parse} | {parsed} |"
        )
    first = by_label["first run of the day (no saved parse)"]
    again = by_label["same day, no new files"]
    saved = by_label["same day, rebuild, saved parse"]
    full = by_label["same day, rebuild, whole project parsed"]
    build_saved = saved.result["steps"]["build"]
    build_full = full.result["steps"]["build"]
    lines += [
        "",
        f"**No new files: {again.seconds:.1f} s = {again.seconds / first.seconds:.2f} x the "
        f"first run ({first.seconds:.1f} s)**; it ran ingestion and the check for changes "
        f"only ({again.result['steps']}), said so, and left the snapshot and report of run "
        f"`{again.result['unchanged_since']}` in place.",
        "",
        f"**dbt build with the saved parse: {build_saved:.1f} s = {build_saved / build_full:.2f} "
        f"x the build that parses the whole project ({build_full:.1f} s)** "
        f"(whole run {saved.seconds:.1f} s vs {full.seconds:.1f} s).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
