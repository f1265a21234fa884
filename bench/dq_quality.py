"""Benchmark: recall and precision of every data-quality check against the simulator's
ground truth, on a campaign replayed as its files arrived.

    .venv/bin/python bench/dq_quality.py [--provinces all] [--days 20] [--seed 2020]
        [--deadline-runs all|none|N] [--listing discrepancies.csv] [--strict]

Simulates the campaign (faults at the simulator's default rates, one set of boundary
probes: values exactly at each threshold of DESIGN §5 and just over it), then replays it
into a fresh landing zone: for every day, a refresh at each distinct registry deadline
(15:00, 16:00) and the daily run at 02:00 the next day, each after copying what had
arrived by then (``deliver_until``) and running ``ingest_landing`` and ``build`` for the
day; last, a run once every file has arrived. After every run the flags in
``marts.fct_data_quality_issues`` are compared with the truth at that moment (DESIGN's
definitions over what had arrived, ``Oracle``). ``--deadline-runs N`` refreshes at the
deadlines on the first N days only (each run is a dbt build, ~20-30 s here).

Writes the data-quality section of bench/RESULTS.md: recall and precision per check at the
end and over all runs, every miss and false positive (unit, day, observed value; the first
rows of each kind, ``--listing`` writes them all), and the boundary probes. Exits 0 even
when checks depart from DESIGN (the tests hold them); ``--strict`` exits 1 then.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
from common import machine_line, write_section

from bluezone_devtools.measure import (
    BY_FILE,
    both_tables,
    daily_runs,
    deadline_runs,
    discrepancies,
    discrepancy_table,
    final_run,
    pooled,
    probe_table,
    replay,
    warehouse_flags,
)
from bluezone_devtools.simulate import (
    FaultRates,
    Oracle,
    simulate_campaign,
    simulate_in_memory,
)
from bluezone_warehouse.config import PROJECT_DIR, environment_under, load_settings

ROWS_PER_KIND = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", default="all", help="comma-separated codes, or all")
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument(
        "--deadline-runs", default="all", help="refresh at the deadlines on all days, none, or N"
    )
    parser.add_argument("--listing", type=Path, help="write every miss and false positive here")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any discrepancy")
    args = parser.parse_args()
    provinces = None if args.provinces == "all" else args.provinces.split(",")
    start = date(2020, 8, 1)
    end = start + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-dq-"))
    try:
        started = time.perf_counter()
        source = root / "simulated"
        result = simulate_campaign(
            source, start=start, end=end, provinces=provinces, seed=args.seed, faults=FaultRates()
        )
        campaign = simulate_in_memory(start, end, provinces, args.seed, FaultRates())
        codes = [p.code for p in campaign.provinces]
        oracle = Oracle(campaign)
        deadlines = sorted({u.deadline for p in campaign.provinces for u in p.units})
        refresh_days = {"all": campaign.days, "none": []}.get(args.deadline_runs)
        if refresh_days is None:
            refresh_days = campaign.days[: int(args.deadline_runs)]
        runs = [
            *deadline_runs(refresh_days, deadlines),
            *daily_runs(campaign.days),
            final_run(source, end),
        ]
        settings = load_settings(environment_under(root / "warehouse"))
        replayed = []
        for done in replay(source, oracle, settings, runs, codes):
            wrong = {
                check: (len(r.misses), len(r.false_positives))
                for check, r in done.results.items()
                if not r.exact
            }
            print(f"{done.run.label:>12}  {done.seconds:5.1f} s  {wrong or 'exact'}", flush=True)
            replayed.append(done)
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        try:
            final_flags = warehouse_flags(con, codes)
        finally:
            con.close()
        elapsed = time.perf_counter() - started
        found = discrepancies(replayed)
        if args.listing:
            _write_listing(args.listing, found)
        scope = "all 63 provinces" if provinces is None else f"provinces {args.provinces}"
        body = _section(
            scope, start, end, args.seed, replayed, found, result.truth_dir, final_flags, elapsed
        )
        write_section("dq_quality", body)
        print(body)
        if args.strict and found:
            raise SystemExit(f"{len(found)} discrepancies with DESIGN")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _section(scope, start, end, seed, replayed, found, truth_dir, final_flags, elapsed) -> str:
    final = replayed[-1].results
    kinds = defaultdict(int)
    for run in replayed:
        kinds[run.run.kind] += 1
    listed = _first_of_each_kind(found)
    summary = _summary(found)
    return f"""## Data-quality checks against the ground truth (`bench/dq_quality.py`)

{machine_line()}; {scope}, {start} to {end}, seed {seed}, faults at the simulator's default
rates and one set of boundary probes; warehouse at {_version()}; {elapsed / 60:.0f} min end to
end.

The truth is DESIGN §5's definitions applied to the simulated values (exact arithmetic, the
thresholds of `dbt_project.yml`), not an implementation of the checks: injected faults,
boundary probes and whatever the figures and the units' behaviour call for by themselves.
The campaign is replayed as its files arrived: {kinds["deadline"]} refreshes at the registry's
deadlines, {kinds["daily"]} daily runs (02:00 the next day) and one run once everything had
arrived, each `ingest_landing` + `build` on what had arrived by its time; after each run the
flags in `marts.fct_data_quality_issues` are compared with the truth at that time. Target:
recall and precision 1.000 for every check, in every run.

"final": the state once everything has arrived (`_simulation/faults.csv`); "runs": every
run's (flag, run) pairs added up.

{both_tables(final, pooled(replayed))}

### Where the warehouse departs from the truth

{summary}

The first {ROWS_PER_KIND} of each check and kind (unit, day, the value DESIGN judges, the
runs it was seen in; `--listing` writes them all):

{discrepancy_table(listed, len(replayed))}

### Boundary probes (once everything has arrived)

{probe_table(truth_dir / "boundary_probes.csv", final_flags)}
"""


def _version() -> str:
    """The commit of the warehouse measured (``-dirty``: with uncommitted changes)."""
    done = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return f"commit {done.stdout.strip()}" if done.returncode == 0 else "an unknown commit"


def _first_of_each_kind(found):
    counts: dict[tuple, int] = defaultdict(int)
    kept = []
    for item in found:
        key = (item.flag.check, item.kind)
        counts[key] += 1
        if counts[key] <= ROWS_PER_KIND:
            kept.append(item)
    return kept


def _summary(found) -> str:
    if not found:
        return "Nowhere: every run's flags are exactly the truth at that run."
    counts: dict[tuple, int] = defaultdict(int)
    for item in found:
        counts[(item.flag.check, item.kind)] += 1
    lines = ["| check | missed | false positives |", "|---|---|---|"]
    for check in sorted({c for c, _ in counts}):
        lines.append(
            f"| {check} | {counts[(check, 'missed')]} | {counts[(check, 'false positive')]} |"
        )
    return "Distinct flags (check, unit, day) wrong in at least one run:\n\n" + "\n".join(lines)


def _write_listing(path: Path, found) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["check", "kind", "unit_code", "day", "file", "observed", "limit", "runs"])
        for item in found:
            f = item.flag
            unit = "" if f.check in BY_FILE else f.unit_code
            writer.writerow(
                [f.check, item.kind, unit, f.day, f.file, f.observed, f.limit, "; ".join(item.runs)]
            )


if __name__ == "__main__":
    sys.exit(main())
