"""Benchmark: what a fresh process pays to import the stack, with and without the bytecode
compiled at install (issue 15).

    .venv/bin/python bench/imports.py [--repeat 5]

Each import runs in a fresh interpreter (``python -c "import X"``), timed from outside, the
interpreter's own start included. "compiled": the environment as ``make venv`` leaves it
(``uv sync --compile-bytecode``, the project's ``src`` and ``dags`` compiled too).
"from source": the same interpreter with ``PYTHONPYCACHEPREFIX`` on an empty directory and
``PYTHONDONTWRITEBYTECODE=1``, so no ``.pyc`` is found or written and every module is
compiled from its source at import: what every process paid before, on machines that set
``PYTHONDONTWRITEBYTECODE`` (this one and the project's image do), since uv does not
compile bytecode unless asked. Runs alternate between the two; medians of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from time import perf_counter

from common import machine_line, median, write_section

# What the pipeline's steps import: Great Expectations (check), dbt (build), Airflow's task
# SDK (every task), the warehouse's own pipeline module, and everything at once.
IMPORTS = {
    "Great Expectations": "import great_expectations",
    "dbt": "import dbt.cli.main",
    "Airflow task SDK": "import airflow.sdk",
    "the pipeline (bluezone_warehouse.pipeline)": "import bluezone_warehouse.pipeline",
    "all of the above": (
        "import great_expectations, dbt.cli.main, airflow.sdk, bluezone_warehouse.pipeline"
    ),
}


def _time(code: str, env: dict[str, str]) -> float:
    started = perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compiled = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as empty:
        from_source = {**compiled, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
        rows = []
        for label, code in IMPORTS.items():
            _time(code, compiled)  # the page cache warm for both
            times: dict[str, list[float]] = {"compiled": [], "source": []}
            for _ in range(args.repeat):
                times["source"].append(_time(code, from_source))
                times["compiled"].append(_time(code, compiled))
            rows.append((label, median(times["source"]), median(times["compiled"])))
            print(f"{label}: {rows[-1][1]:.2f} s from source, {rows[-1][2]:.2f} s compiled")
    write_section("imports", report(rows, args.repeat))


def report(rows: list[tuple[str, float, float]], repeat: int) -> str:
    lines = [
        "## Importing the stack in a fresh process (`bench/imports.py`)",
        "",
        f"{machine_line()}; `.venv/bin/python bench/imports.py --repeat {repeat}`; median "
        f"of {repeat} alternating runs, each a fresh interpreter, its start included.",
        "",
        '"from source": no bytecode found or written (`PYTHONDONTWRITEBYTECODE=1`, an empty '
        "`PYTHONPYCACHEPREFIX`): every process compiles every module it imports, as each "
        "did before the environment was installed with `uv sync --compile-bytecode` "
        '(`make venv`). "compiled": the environment `make venv` builds now.',
        "",
        "| import | from source s | compiled s | compiled / from source |",
        "|---|---|---|---|",
    ]
    for label, source, compiled in rows:
        lines.append(f"| {label} | {source:.2f} | {compiled:.2f} | {compiled / source:.2f} |")
    label, source, compiled = rows[-1]
    lines += [
        "",
        f"**Every import a daily run makes: {compiled:.1f} s compiled against {source:.1f} s "
        f"from source ({compiled / source:.2f}).** A daily run in one process pays it once; "
        "under Airflow every task's process pays its share.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
