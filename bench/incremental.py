"""Benchmark: the cost of the daily run on day 90 of a national campaign vs day 1.

    .venv/bin/python bench/incremental.py [--days 90]

Simulates a national campaign of N days. Day 1: a fresh warehouse receives the files that
had arrived by the day-1 run (02:00 on day 2) and runs the daily pipeline. Day N: a
warehouse already holding days 1..N-1 (built by one run for day N-1) receives the files
that arrived since and runs the daily pipeline for day N. Both are timed in fresh processes,
with peak memory (the largest process, dbt included). DESIGN §8: day N <= 1.2 x day 1, and
the national daily run <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

from common import daily_run, machine_line, measure, write_section

from bluezone_devtools.simulate import deliver_until
from bluezone_warehouse.config import LOCAL_TZ


def cutoff(day: date) -> datetime:
    """When the daily run for ``day`` starts: 02:00 local time the next day."""
    return datetime.combine(day + timedelta(days=1), time(2, 0), tzinfo=LOCAL_TZ)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    start = date(2020, 8, 1)
    last = start + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    try:
        simulated = root / "simulated"
        made = measure("steps", "simulate", out=str(simulated), start=str(start), end=str(last))
        print(f"simulated {made.result:,} files for {args.days} days in {made.seconds:.0f}s")

        first = root / "day1"
        deliver_until(simulated, first / "landing", cutoff(start))
        day1 = daily_run(first, first / "landing", start)
        print(f"day 1: {day1.seconds:.1f}s, peak {day1.largest_process_mib:.0f} MiB")

        later = root / "dayN"
        deliver_until(simulated, later / "landing", cutoff(last - timedelta(days=1)))
        history = daily_run(later, later / "landing", last - timedelta(days=1))
        print(f"history up to day {args.days - 1} built in {history.seconds:.0f}s")
        arrived = deliver_until(simulated, later / "landing", cutoff(last))
        dayn = daily_run(later, later / "landing", last)
        print(
            f"day {args.days}: {dayn.seconds:.1f}s ({arrived} new files), "
            f"peak {dayn.largest_process_mib:.0f} MiB"
        )
        ratio = dayn.seconds / day1.seconds
        body = f"""## Incremental cost (`bench/incremental.py`)

{machine_line()}; national campaign of {args.days} days ({made.result:,} landing files); each
daily run in a fresh process, all steps of `bluezone_daily` (ingest, dbt build, Great
Expectations, publish, report).

| run | new files | seconds | peak memory (largest process) |
|---|---|---|---|
| day 1, fresh warehouse | {day1.result["ingested"]:,} | {day1.seconds:.1f} | \
{day1.largest_process_mib:.0f} MiB |
| day {args.days}, warehouse holding days 1-{args.days - 1} | {dayn.result["ingested"]:,} | \
{dayn.seconds:.1f} | {dayn.largest_process_mib:.0f} MiB |

**Ratio day {args.days} / day 1: {ratio:.2f}** (target <= 1.2); peak memory target 1.5 GB.
"""
        write_section("incremental", body)
        print(body)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
