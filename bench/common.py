"""Shared helpers for benchmarks: run a step in a fresh process and measure it.

Every measurement runs in its own Python process so that peak memory (ru_maxrss of that
child) belongs to the step alone; ratios are computed from measurements taken in the same
benchmark run, never compared with numbers from another machine or day.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"

_RUNNER = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import importlib
module = importlib.import_module({module!r})
step = getattr(module, {function!r})
args = json.loads({args!r})
started = time.perf_counter()
result = step(**args)
elapsed = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print("RESULT:" + json.dumps({{"seconds": elapsed, "peak_mib": peak_kib / 1024,
                              "children_peak_mib": children_kib / 1024, "result": result}}))
"""


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_mib: float  # this process
    result: object
    children_peak_mib: float = 0.0  # the largest child process (dbt, airflow tasks)
    process_seconds: float = 0.0  # the fresh process's whole life, from its start to its exit

    @property
    def largest_process_mib(self) -> float:
        return max(self.peak_mib, self.children_peak_mib)


def measure(
    module: str, function: str, *, tree: Path | None = None, **kwargs: object
) -> Measurement:
    """Run ``module.function(**kwargs)`` in a fresh interpreter; time it (and the process,
    start to exit) and its peak RSS.
    With ``tree`` (another checkout of the project), its ``bench`` and ``src`` run instead
    of this one's, with this environment's packages."""
    bench, env = BENCH_DIR, None
    if tree is not None:
        bench = tree / "bench"
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    code = _RUNNER.format(
        bench=str(bench), module=module, function=function, args=json.dumps(kwargs)
    )
    began = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    process_seconds = time.perf_counter() - began
    if completed.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed:\n{completed.stderr[-4000:]}")
    line = next(x for x in completed.stdout.splitlines() if x.startswith("RESULT:"))
    data = json.loads(line[len("RESULT:") :])
    return Measurement(
        data["seconds"],
        data["peak_mib"],
        data["result"],
        data.get("children_peak_mib", 0.0),
        process_seconds,
    )


def simulate_national(out: Path, start: date, end: date) -> int:
    """A national campaign with the commune-level export, from ``start`` to ``end``,
    simulated into ``out`` in a fresh process; says how many files and how long."""
    made = measure(
        "steps", "simulate", out=str(out), start=str(start), end=str(end), commune_level=True
    )
    days = (end - start).days + 1
    print(f"simulated {made.result:,} files for {days} days in {made.seconds:.0f} s")
    return made.result


def daily_run(
    root: Path, landing: Path, day: date, tree: Path | None = None, *, discard: bool = False
) -> Measurement:
    """Every step of ``bluezone_daily`` for ``day`` in a fresh process (``steps.direct_daily``,
    of ``tree`` if given), measured; then, untimed, its workbooks: waited for (``settle``),
    or stopped when the run's folder is to be ``discard``-ed (nothing reads them)."""
    run = measure(
        "steps", "direct_daily", tree=tree, root=str(root), landing=str(landing), day=str(day)
    )
    waited = settle(root, stop=discard)
    if discard:
        print(f"  {day}: the workbooks were stopped {waited:.1f} s after")
    else:
        print(f"  {day}: the workbooks followed the run for {waited:.1f} s more")
    return run


def settle(root: Path, *, stop: bool = False) -> float:
    """Wait until no Excel workbook writer works under ``root`` (``stop``: stop them first);
    the seconds waited. A run publishes its snapshot and leaves the workbooks to a process
    of its own (``warehouse.publish``), which outlives the run: left alone, it would run
    beside the next run measured."""
    prefixes = (str(root), str(root.resolve()))
    started = time.perf_counter()
    while writers := [
        pid
        for pid, args in _command_lines()
        if "bluezone_warehouse.workbooks" in args and any(a.startswith(prefixes) for a in args)
    ]:
        if stop:
            for pid in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        time.sleep(0.2)
    return time.perf_counter() - started


def _command_lines() -> Iterator[tuple[int, list[str]]]:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                raw = (proc / "cmdline").read_bytes()
            except OSError:  # ended meanwhile
                continue
            yield int(proc.name), raw.decode(errors="replace").split("\0")


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine_line() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            total_kib = int(handle.readline().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return (
        f"{platform.machine()}, {cores} cores{memory}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )


def write_section(name: str, body: str) -> None:
    """Replace (or add) the ``## name`` section of bench/RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start_marker = f"<!-- {name}:start -->"
    end_marker = f"<!-- {name}:end -->"
    section = f"{start_marker}\n{body.rstrip()}\n{end_marker}"
    if start_marker in text:
        before = text[: text.index(start_marker)]
        after = text[text.index(end_marker) + len(end_marker) :]
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
