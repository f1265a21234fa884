"""Benchmark: the daily DAG under Airflow vs the same steps run directly in one process.

    .venv/bin/python bench/orchestration.py [--days 25] [--repeat 2]

Simulates the default national campaign once, then, alternating and each in a fresh process
with its own warehouse, runs business day D (the campaign's last day) (a) directly with
``run_daily`` (ingest, dbt build, Great Expectations, publish, report) and (b) as a real
Airflow run (``airflow dags test bluezone_daily``, which also sends the data-quality digest).
Each is timed over its process's whole life, from its start to its exit. Reports in
bench/RESULTS.md the median ratio b/a (DESIGN §8 target: <= 1.3), the DAG run's (first task
started to last task ended) against ``run_daily``'s own, and each task's seconds (from
Airflow's metadata database) beside the step of ``run_daily`` that does the same.
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
                print(f"  {name:7} run {attempt + 1}: {runs[-1].process_seconds:6.1f}s")
        body = report(args.days, made.result, end, direct, airflow)
        write_section("orchestration", body)
        print(body)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# The rows of the per-step table: a step of ``run_daily`` (its seconds, summed when several)
# and the task of ``bluezone_daily`` that does it.
STEPS = (
    ("ingest", ("ingest",), "ingest"),
    ("changes", ("changes",), "changes"),
    ("build, with its lineage", ("build", "lineage"), "build"),
    ("publish", ("publish",), "publish"),
    ("check", ("check",), "check"),
    ("data-quality digest", (), "alert_data_quality"),
    ("report", ("report",), "report"),
    ("record", (), "record"),
)


def report(days: int, files: int, day: date, direct: list, airflow: list) -> str:
    """RESULTS.md's section: both ratios, and where the difference goes, step by step
    (medians of the runs; Airflow's from its metadata database)."""

    def span(run, name: str) -> float:
        start, end = run.result["tasks"][name]
        return end - start

    def first_start(run) -> float:
        return min(start for start, _ in run.result["tasks"].values())

    def last_end(run) -> float:
        return max(end for _, end in run.result["tasks"].values())

    def dag_run(run) -> float:  # its first task's start to its last task's end
        return last_end(run) - first_start(run)

    pairs = list(zip(airflow, direct, strict=True))
    whole = median([a.process_seconds / d.process_seconds for a, d in pairs])
    # the DAG run alone against run_daily alone (without its process's start and exit)
    tasks = median([dag_run(a) / d.seconds for a, d in pairs])
    rows = [
        (
            "Airflow's start, until the first task starts",
            "-",
            median([first_start(a) for a in airflow]),
        )
    ]
    for label, steps, name in STEPS:
        one = median([sum(d.result["steps"].get(step, 0.0) for step in steps) for d in direct])
        rows.append(
            (label, f"{one:.1f}" if steps else "-", median([span(a, name) for a in airflow]))
        )
    rows += [
        (
            "run_daily itself / the DAG run, its first task's start to its last task's end",
            f"{median([d.seconds for d in direct]):.1f}",
            median([dag_run(a) for a in airflow]),
        ),
        (
            "after the last task, until the command ends",
            "-",
            median([a.result["ended"] - last_end(a) for a in airflow]),
        ),
        (
            "the whole process, from its start to its exit",
            f"{median([d.process_seconds for d in direct]):.1f}",
            median([a.process_seconds for a in airflow]),
        ),
    ]
    table = "\n".join(f"| {label} | {one} | {af:.1f} |" for label, one, af in rows)
    return f"""## Orchestration overhead (`bench/orchestration.py`)

{machine_line()}; the default national campaign ({days} days, {files:,} landing files),
business day {day} on a fresh warehouse, each run in a fresh process; medians of
{len(direct)} alternating runs: every step in one process (`run_daily`) and a real Airflow
run (`airflow dags test bluezone_daily`, whose tasks' times come from Airflow's metadata
database).

| step | one process | under Airflow |
|---|---|---|
{table}

**Ratio Airflow / one process: {whole:.2f}** for the whole process of each, from its start
to its exit, {whole / 1.3:.2f} x the 1.3 target; **{tasks:.2f}** for the DAG run alone against
`run_daily` alone, which leaves out each process's own start and exit. `dags test` runs every
task in its one process, one after another: the first task also waits for Airflow's
in-process execution API to start, and what a task imports stays for the next (`ingest`
leaves dbt imported and the project parsed, as `run_daily` does; Great Expectations is
imported by `check` itself, which `run_daily` does in a process of its own while dbt builds).
"""


if __name__ == "__main__":
    main()
