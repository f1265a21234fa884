"""Benchmark: recall and precision of every data-quality check on a simulated campaign.

    .venv/bin/python bench/dq_quality.py [--provinces all] [--days 20] [--seed 2020]

Simulates the campaign with faults injected at the simulator's default rates, runs the
daily pipeline's steps (ingest, dbt build) for its last day, and compares
marts.fct_data_quality_issues with the ground-truth manifest (DESIGN §5 checks; target
>= 0.95 recall and precision for every fault kind). Writes the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
from common import machine_line, write_section

from bluezone_devtools.measure import misses, score, table
from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import load_settings
from bluezone_warehouse.ingest import ingest_landing
from bluezone_warehouse.transform import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provinces", default="all", help="comma-separated codes, or all")
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    provinces = None if args.provinces == "all" else args.provinces.split(",")
    start = date(2020, 8, 1)
    end = start + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="bench-dq-"))
    try:
        started = time.perf_counter()
        result = simulate_campaign(
            root / "landing",
            start=start,
            end=end,
            provinces=provinces,
            seed=args.seed,
            faults=FaultRates(),
        )
        settings = load_settings(
            {"BLUEZONE_DATA_DIR": str(root), "BLUEZONE_LANDING_URL": str(root / "landing")}
        )
        ingest_landing(settings, run_id="bench-dq")
        build(settings, end, "bench-dq")
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
        scores = score(con, result.truth_dir / "faults.csv")
        for low in scores:
            if low.expected and (low.recall < 0.95 or low.precision < 0.95):
                missed, extra = misses(con, result.truth_dir / "faults.csv", low.check_id)
                print(f"{low.check_id}: missed {sorted(missed)[:10]}, extra {sorted(extra)[:10]}")
        con.close()
        elapsed = time.perf_counter() - started
        scope = "all 63 provinces" if provinces is None else f"provinces {args.provinces}"
        body = f"""## Data-quality checks against the ground truth (`bench/dq_quality.py`)

{machine_line()}; {scope}, {start} to {end}, seed {args.seed}, faults at the simulator's
default rates; {elapsed:.0f} s end to end. Target: recall and precision >= 0.95 for every
check.

{table(scores)}
"""
        write_section("dq_quality", body)
        print(body)
        low = [s.check_id for s in scores if s.expected and (s.recall < 0.95 or s.precision < 0.95)]
        if low:
            raise SystemExit(f"below target: {', '.join(low)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
