"""Benchmark: a national daily run before and after a change, alternately on one machine.

    .venv/bin/python bench/versus.py BASE [--day 90] [--rounds 3] [--keep]

BASE is another revision of the project (a commit, a branch): it is checked out as a git
worktree and runs with this environment's packages. A national campaign with the
commune-level export is simulated once (as in ``bench/national.py``); each tree catches
its own warehouse up to the day before DAY (its own parse of the project, its own dbt
docs page), then both run DAY from a fresh copy of that warehouse, in the folder it was
caught up in, with the same new files, alternately (base first in odd rounds, this tree
first in even ones), each run in a fresh process (the workbooks it leaves are stopped).
The medians per step and their ratios go to bench/RESULTS.md: a change measured on the
same machine in the same minutes, where two benchmark runs on different days can differ
by more than the change. Base's steps are its own: a step one tree has and the other has
not is left blank for the other.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from datetime import date, timedelta
from pathlib import Path

from common import BENCH_DIR, daily_run, machine_line, median, simulate_national, write_section
from incremental import cutoff
from national import STEPS as NATIONAL_STEPS
from national import snapshot_seconds

from bluezone_devtools.simulate import deliver_until

REPO = BENCH_DIR.parent
START = date(2020, 8, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the revision to compare this tree with")
    parser.add_argument("--day", type=int, default=90, help="the campaign day to run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the campaign and warehouses")
    args = parser.parse_args()
    if args.day < 2 or args.rounds < 1:
        parser.error("--day must be 2 or more, --rounds 1 or more")
    base_commit = git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    changed = "+changes" if git("status", "--porcelain") else ""
    this = git("rev-parse", "--short", "HEAD") + changed
    day = START + timedelta(days=args.day - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-versus-"))
    trees = {f"base {base_commit[:7]}": root / "base", f"this {this}": REPO}
    git("worktree", "add", "--detach", str(root / "base"), base_commit)
    try:
        simulated, landing = root / "simulated", root / "landing"
        simulate_national(simulated, START, day)
        deliver_until(simulated, landing, cutoff(day - timedelta(days=1)))
        # Every run, the catch-up too, is in the one folder ``run``: a warehouse elsewhere
        # is another dbt profile, whose saved parse dbt would throw away.
        run_dir, states = root / "run", {}
        for name, tree in trees.items():
            states[name] = root / f"state-{len(states)}"
            caught = daily_run(run_dir, landing, day - timedelta(days=1), tree)
            run_dir.rename(states[name])
            print(f"{name}: caught up to day {args.day - 1} in {caught.seconds:.0f}s")
        arrived = deliver_until(simulated, landing, cutoff(day))
        runs: dict[str, list] = {name: [] for name in trees}
        for n in range(args.rounds):
            order = list(trees) if n % 2 == 0 else list(reversed(trees))
            for name in order:
                shutil.rmtree(run_dir, ignore_errors=True)
                shutil.copytree(states[name], run_dir, symlinks=True)
                run = daily_run(run_dir, landing, day, trees[name], discard=True)
                runs[name].append(run)
                print(f"round {n + 1}, {name}: {run.seconds:.1f}s, steps {run.result['steps']}")
        body = report(args.day, arrived, runs)
        write_section("versus", body)
        print(body)
    finally:
        git("worktree", "remove", "--force", str(root / "base"))
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def report(day: int, arrived: int, runs: dict[str, list]) -> str:
    steps = [
        s for s in NATIONAL_STEPS if any(s in m.result["steps"] for r in runs.values() for m in r)
    ]
    medians = {}
    for name, measured in runs.items():
        row = {"seconds": median([m.seconds for m in measured])}
        row["snapshot"] = median([snapshot_seconds(m.result["steps"]) for m in measured])
        for s in steps:
            values = [m.result["steps"][s] for m in measured if s in m.result["steps"]]
            if values:
                row[s] = median(values)
        row["peak"] = median([m.largest_process_mib for m in measured])
        medians[name] = row
    columns = ["seconds", "snapshot", *steps, "peak"]
    (base, base_row), (_, this_row) = medians.items()
    lines = [
        "## Before and after on one machine (`bench/versus.py`)",
        "",
        f"{machine_line()}; day {day} of a national campaign with the commune-level export "
        f"({arrived:,} new files), run {len(runs[base])} times by each tree, alternately, from "
        "its own warehouse of the day before. Medians in seconds (peak: the largest "
        'process, MiB); "snapshot" is the seconds until the snapshot is published.',
        "",
        "| tree | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, row in medians.items():
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{row[c]:.{0 if c == 'peak' else 1}f}" if c in row else "—" for c in columns
            )
            + " |"
        )
    lines.append(
        "| this / base | "
        + " | ".join(
            f"{this_row[c] / base_row[c]:.2f}" if c in this_row and base_row.get(c) else "—"
            for c in columns
        )
        + " |"
    )
    lines += ["", "Each run, round by round:", ""]
    for name, measured in runs.items():
        lines.append(f"- {name}: " + ", ".join(f"{m.seconds:.1f}" for m in measured) + " s")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
