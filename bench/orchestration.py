"""Benchmark: the daily DAG under Airflow vs the same steps run directly in one process.

    .venv/bin/python bench/orchestration.py [--days 25] [--repeat 2]

Simulates the default national campaign once, then, alternating and each in a fresh process
with its own warehouse, runs business day D (the campaign's last day) (a) directly with
``run_daily`` (ingest, dbt build, Great Expectations, publish, report) and (b) as a real
Airflow run (``airflow dags test bluezone_daily``, which also sends the data-quality digest).
Reports the median ratio b/a (DESIGN §8 target: <= 1.3) in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from common import machine_line, measure, median, settle, write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    start = date(2020, 8, 1)
    end = start + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    try:
        landing = root / "landing"
        made = measure("steps", "simulate", out=str(landing), start=str(start), end=str(end))
        print(f"simulated {made.result:,} files in {made.seconds:.0f}s")
        direct, airflow = [], []
        for attempt in range(args.repeat):
            for name, runs, step in (
                ("direct", direct, "direct_daily"),
                ("airflow", airflow, "airflow_daily"),
            ):
                workdir = root / f"{name}-{attempt}"
                workdir.mkdir()
                runs.append(
                    measure("steps", step, root=str(workdir), landing=str(landing), day=str(end))
                )
                settle(workdir, stop=True)  # its workbooks: not beside the next run measured
                shutil.rmtree(workdir)
                print(f"  {name:7} run {attempt + 1}: {runs[-1].seconds:6.1f}s")
        ratio = median([a.seconds / d.seconds for a, d in zip(airflow, direct, strict=True)])
        body = f"""## Orchestration overhead (`bench/orchestration.py`)

{machine_line()}; the default national campaign ({args.days} days, {made.result:,} landing
files), business day {end} on a fresh warehouse; median of {args.repeat} alternating runs.

| how | seconds |
|---|---|
| every step in one process (`run_daily`) | {median([m.seconds for m in direct]):.1f} |
| a real Airflow run (`airflow dags test bluezone_daily`) | \
{median([m.seconds for m in airflow]):.1f} |

**Ratio Airflow / one process: {ratio:.2f}** (target <= 1.3). The difference is Airflow's own
start-up and DAG parsing (~10 s per `dags test`), each task's fresh interpreter and imports,
and the data-quality digest task, which the direct run does not have.
"""
        write_section("orchestration", body)
        print(body)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
