"""Benchmark: ingest a national event export vs DuckDB's own reader on the same file.

    .venv/bin/python bench/ingest.py [--rows 20000000] [--repeat 3]

Generates ``install_events_20200805.parquet`` with N events (hashed device ids, 706
district codes, 5 % uninstalls, 75 % with a phone number), then, in fresh processes and
alternating, (a) DuckDB's ``create table ... as select * from read_parquet(file)`` into a
new database file, and (b) the warehouse's ``ingest_landing`` into a new warehouse (manifest,
checksum, validation, aggregation, lineage). Reports the median ratio b/a (DESIGN §8 target:
<= 1.0), rows per second and peak memory of each, into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from common import machine_line, measure, median, write_section

DAY = "2020-08-05"


def generate(path: str, rows: int) -> int:
    import csv

    import duckdb

    from bluezone_warehouse.config import SEEDS_DIR

    with open(SEEDS_DIR / "ref_districts.csv", encoding="utf-8") as handle:
        codes = [r["district_code"] for r in csv.DictReader(handle) if r["population_total"]]
    con = duckdb.connect()
    con.execute(
        "create table codes as select unnest(?) as code, generate_subscripts(?, 1) - 1 as idx",
        [codes, codes],
    )
    con.execute(
        f"""
        copy (
            select
                timestamptz '{DAY} 00:00:00+07' + to_seconds(cast(i * 86399 // {rows} as bigint))
                    as event_time,
                substr(md5(cast(i as varchar)), 1, 16) as device_id,
                case when i % 20 = 0 then 'uninstall' else 'install' end as event,
                codes.code as district_code,
                i % 4 <> 0 as has_phone,
            from range({rows}) as r(i)
            join codes on codes.idx = i % {len(codes)}
            order by i
        ) to '{path}' (format parquet)
        """
    )
    return rows


def duckdb_baseline(parquet: str, workdir: str) -> int:
    import duckdb

    con = duckdb.connect(str(Path(workdir) / "baseline.duckdb"))
    con.execute("create table events as select * from read_parquet(?)", [parquet])
    count = con.execute("select count(*) from events").fetchone()[0]
    con.close()
    return count


def warehouse_ingest(landing: str, workdir: str) -> dict:
    from bluezone_warehouse.config import load_settings
    from bluezone_warehouse.ingest import ingest_landing

    settings = load_settings(
        {
            "BLUEZONE_LANDING_URL": landing,
            "BLUEZONE_WAREHOUSE_PATH": str(Path(workdir) / "warehouse.duckdb"),
            "BLUEZONE_DATA_DIR": workdir,
        }
    )
    return ingest_landing(settings, run_id="bench").as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        landing = root / "landing"
        (landing / "installs").mkdir(parents=True)
        parquet = landing / "installs" / "install_events_20200805.parquet"
        made = measure("ingest", "generate", path=str(parquet), rows=args.rows)
        size_mib = parquet.stat().st_size / 1024 / 1024
        print(f"generated {args.rows:,} events ({size_mib:.0f} MiB) in {made.seconds:.1f}s")
        baseline, ours = [], []
        for attempt in range(args.repeat):
            for name, runs, function, kwargs in (
                ("duckdb", baseline, "duckdb_baseline", {"parquet": str(parquet)}),
                ("ingest", ours, "warehouse_ingest", {"landing": str(landing)}),
            ):
                workdir = root / f"{name}-{attempt}"
                workdir.mkdir()
                runs.append(measure("ingest", function, workdir=str(workdir), **kwargs))
                shutil.rmtree(workdir)
                print(
                    f"  {name:7} run {attempt + 1}: {runs[-1].seconds:6.2f}s "
                    f"peak {runs[-1].peak_mib:6.0f} MiB"
                )
        loaded = ours[-1].result["rows_loaded"]
        assert baseline[-1].result == args.rows and loaded == args.rows, (baseline, ours)
        base_s = median([m.seconds for m in baseline])
        ours_s = median([m.seconds for m in ours])
        ratio = median([o.seconds / b.seconds for o, b in zip(ours, baseline, strict=True)])
        base_mib = median([m.peak_mib for m in baseline])
        ours_mib = median([m.peak_mib for m in ours])
        body = f"""## Ingestion of a national event export (`bench/ingest.py`)

{machine_line()}; {args.rows:,} events, {size_mib:.0f} MiB of Parquet; median of {args.repeat}
alternating runs, each in a fresh process.

| step | seconds | events/s | peak memory |
|---|---|---|---|
| DuckDB `create table as select * from read_parquet` | {base_s:.2f} | \
{args.rows / base_s:,.0f} | {base_mib:.0f} MiB |
| `ingest_landing` (checksum, checks, aggregation, lineage, manifest) | {ours_s:.2f} | \
{args.rows / ours_s:,.0f} | {ours_mib:.0f} MiB |

**Ratio ingest / DuckDB: {ratio:.2f}** (target <= 1.0).
"""
        write_section("ingest", body)
        print(body)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
