"""Benchmark: publishing the change, not the history (issue 15), against the day of the campaign.

    .venv/bin/python bench/publish.py [--days 1,30,60,90] [--before <commit>] [--repeat 3]

The marts of a national campaign on day N, with the shape of the real ones: every one of
the 10,614 communes, 707 districts, 63 provinces, the regions and the nation each day, the
1,336 reporting units' compliance and rates (unit lists from ``seeds/``; the figures are
made up, they do not matter to the cost of copying them). Yesterday's snapshot is published
first; then the daily run's change lands: the new day, and the 14-day rebuild window
recomputed, in which a correction changed three earlier days. Timed, in this process, on
the same warehouse and base:

- "change": ``warehouse.publish`` now (copy of the current snapshot, changed days only);
- "whole": the same with nothing to reuse (a first publish, or a mart whose columns changed);
- "before": ``publish`` as it was at ``--before`` (every mart copied whole into DuckDB,
  Parquet and CSV), loaded from git.

The ratios: change on day N / change on day 1 (DESIGN §8's growth target, 1.1, is for the
whole run; this is the step that grew) and change / before on the same day.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

import duckdb
from common import machine_line, median, write_section

from bluezone_warehouse.config import PROJECT_DIR, SEEDS_DIR
from bluezone_warehouse.warehouse import publish

WINDOW_DAYS = 14  # transform.LOOKBACK_DAYS: the days a daily run rebuilds
CORRECTED = (3, 7, 11)  # days back from the new one that a correction changed


def _marts(path: Path, days: int, version: int) -> None:
    """The marts for campaign days 1..``days``; ``version`` changes the figures of the
    corrected days in the window (a new version = the run's correction)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        communes = SEEDS_DIR / "ref_communes.csv"
        districts = SEEDS_DIR / "ref_districts.csv"
        units = SEEDS_DIR / "reporting_units.csv"
        corrected = ", ".join(str(days - back) for back in CORRECTED)
        bump = f"(case when d in ({corrected}) then {version} else 0 end)"
        day = "(date '2020-08-01' + (d - 1)::int)"
        con.execute(
            f"""
            create or replace table marts.fct_commune_installs_daily as
            select {day} as snapshot_date, c.commune_code,
                   c.commune_name_full as commune_name, c.commune_type, c.district_code,
                   c.province_code, (hash(c.commune_code) % 5000 + d * 40 + {bump})::bigint
                   as installs, null::bigint as installs_with_phone,
                   40::bigint as new_installs, (hash(c.commune_code) % 1000) / 1000.0
                   as share_of_district_installs, 'installs_' || strftime({day}, '%Y%m%d')
                   || '.csv' as source_file
            from read_csv('{communes}', all_varchar = true) c, range(1, {days} + 1) t(d)
            """
        )
        con.execute(
            f"""
            create or replace table marts.fct_coverage_daily as
            with units as (
                select district_code as unit_code, 'district' as level
                from read_csv('{districts}', all_varchar = true)
                union all select distinct province_code, 'province'
                from read_csv('{districts}', all_varchar = true)
                union all select 'VN', 'nation'
            )
            select {day} as snapshot_date, unit_code, level,
                   (hash(unit_code) % 90000 + d * 900 + {bump})::bigint as installs,
                   null::bigint as installs_with_phone, 900::bigint as new_installs,
                   900.0 as new_installs_7d_avg, d / 1000.0 as coverage_population,
                   d / 900.0 as coverage_adults_15plus, d / 800.0 as coverage_smartphone_owners,
                   false as is_over_100
            from units, range(1, {days} + 1) t(d)
            """
        )
        con.execute(
            f"""
            create or replace table marts.fct_reporting_compliance as
            select {day} as report_date, u.unit_code, u.unit_name, u.province_code,
                   timestamptz '2020-08-01 16:00:00+07' + to_days((d - 1)::int) as deadline_at,
                   case when hash(u.unit_code, d) % 10 = 0 then 'missing' else 'on_time' end
                   as status, (hash(u.unit_code) % 3000 + {bump})::bigint as installs_reported
            from read_csv('{units}', all_varchar = true) u, range(1, {days} + 1) t(d)
            """
        )
        con.execute(
            """
            create or replace table marts.agg_reporting_rates as
            select report_date, province_code as scope_code, count(*) as expected_reports,
                   count(*) filter (status = 'on_time') as on_time_reports
            from marts.fct_reporting_compliance group by all
            """
        )
        con.execute(
            f"""
            create or replace table marts.dim_admin_units as
            select district_code as unit_code, 'district' as level, province_code
            from read_csv('{districts}', all_varchar = true)
            """
        )
    finally:
        con.close()


def _previous_publish(commit: str):
    """``publish`` as it was at ``commit``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:src/bluezone_warehouse/warehouse.py"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-publish-before-")) / "warehouse_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("warehouse_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.publish


def _timed(call, *args, **kwargs) -> float:
    started = perf_counter()
    call(*args, **kwargs)
    return perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="1,30,60,90")
    parser.add_argument("--before", default="a67e155", help="the commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    days = [int(n) for n in args.days.split(",")]
    before = _previous_publish(args.before)
    root = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    rows, change_by_day = [], {}
    try:
        for day in days:
            times: dict[str, list[float]] = {"change": [], "whole": [], "before": []}
            sizes = {}
            for attempt in range(args.repeat):
                work = root / f"day{day}-{attempt}"
                work.mkdir()
                warehouse = work / "warehouse.duckdb"
                _marts(warehouse, day - 1, version=0)  # yesterday's (none on day 1)
                base = publish(warehouse, work / "publish", f"{day:08d}-a", workbooks="none")
                _marts(warehouse, day, version=1 + attempt)  # today's run
                times["change"].append(
                    _timed(publish, warehouse, work / "publish", f"{day:08d}-b", workbooks="none")
                )
                times["whole"].append(
                    _timed(publish, warehouse, work / "whole", f"{day:08d}-w", workbooks="none")
                )
                times["before"].append(
                    _timed(before, warehouse, work / "before", f"{day:08d}-o", workbooks="none")
                )
                con = duckdb.connect(str(warehouse), read_only=True)
                sizes["rows"] = sum(
                    con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                    for (t,) in con.execute(
                        "select table_name from duckdb_tables() where schema_name = 'marts'"
                    ).fetchall()
                )
                con.close()
                changed = work / "publish" / "snapshots" / f"{day:08d}-b" / ".parts"
                sizes["written"] = sum(
                    1
                    for part in changed.glob("*/*.csv")
                    if not (base.parent / ".parts" / part.parent.name / part.name).exists()
                    or not part.samefile(base.parent / ".parts" / part.parent.name / part.name)
                )
                shutil.rmtree(work)
            medians = {kind: median(values) for kind, values in times.items()}
            change_by_day[day] = medians["change"]
            rows.append((day, sizes, medians))
            print(day, sizes, {k: round(v, 2) for k, v in medians.items()}, flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    first = change_by_day[days[0]]
    table = [
        "| day | mart rows | day parts written | change s | whole s | before s "
        f"| change / before | change / day {days[0]} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for day, sizes, m in rows:
        table.append(
            f"| {day} | {sizes['rows']:,} | {sizes['written']} | {m['change']:.2f} "
            f"| {m['whole']:.2f} | {m['before']:.2f} | {m['change'] / m['before']:.2f} "
            f"| {m['change'] / first:.2f} |"
        )
    last_day, _, last = rows[-1]
    ratio, growth = last["change"] / last["before"], last["change"] / first
    growth_before = last["before"] / rows[0][2]["before"]
    body = f"""## Publishing the change, not the history (`bench/publish.py`)

{machine_line()}; `.venv/bin/python bench/publish.py --days {args.days} --before {args.before}`;
median of {args.repeat}, each on its own warehouse.

The marts of a national campaign on day N with the shape of the real ones (10,614 communes,
707 districts, 63 provinces and the nation a day; 1,336 reporting units); yesterday's
snapshot published, then the daily run's change: the new day, the 14-day window rebuilt, a
correction changing three earlier days. "change": `publish` now (a copy of the current
snapshot, the changed days written again); "whole": the same with nothing to reuse (a
first publish, a mart whose columns changed, another DuckDB version: one ordered CSV copy,
cut into the days' parts for the next snapshot); "before":
`publish` at commit {args.before} (every mart copied whole into DuckDB, Parquet and CSV).

{chr(10).join(table)}

**Day {last_day}: change {last["change"]:.2f} s = {ratio:.2f} x before ({last["before"]:.2f} s);
day {last_day} / day {days[0]} = {growth:.2f}** (before: {growth_before:.2f}).
What still grows with the history: the Parquet file of each changed mart is written whole
(a Parquet file cannot be appended to), the CSV is its header and the day parts
concatenated (a byte copy), and the snapshot's DuckDB file is copied before the changed
days are replaced.
"""
    write_section("publish", body)


if __name__ == "__main__":
    sys.exit(main())
