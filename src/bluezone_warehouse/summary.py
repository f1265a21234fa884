"""What a campaign lead wants to see first, read from the published snapshot (read-only):
national coverage, the top and bottom provinces, and how many reports arrived on time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.config import Settings
from bluezone_warehouse.names import percent
from bluezone_warehouse.warehouse import CURRENT_LINK, SNAPSHOT_FILE


def snapshot_path(settings: Settings) -> Path:
    return settings.publish_dir / CURRENT_LINK / SNAPSHOT_FILE


def _pct(value: float | None) -> str:
    return percent(value, missing="n/a").rjust(7)


def summary_lines(con: duckdb.DuckDBPyConnection, day: date | None = None) -> list[str]:
    if day is None:
        day = con.execute(
            "select max(snapshot_date) from marts.fct_coverage_daily where level = 'nation'"
        ).fetchone()[0]
    if day is None:
        return ["No install figures in the snapshot yet."]
    nation = con.execute(
        """
        select installs, new_installs, new_installs_7d_avg, coverage_population,
            coverage_adults_15plus, coverage_smartphone_owners
        from marts.fct_coverage_daily
        where level = 'nation' and snapshot_date = ?
        """,
        [day],
    ).fetchone()
    installs, new, avg7, cov_pop, cov_adults, cov_phone = nation
    lines = [
        f"Bluezone coverage on {day:%d/%m/%Y}",
        f"  National installs        {installs:>14,}"
        + (f"   (+{new:,.0f} that day" if new is not None else "   (")
        + (f", 7-day mean {avg7:,.0f}/day)" if avg7 is not None else ")"),
        f"  of population (2019)     {_pct(cov_pop)}",
        f"  of adults 15+            {_pct(cov_adults)}",
        f"  of smartphone owners     {_pct(cov_phone)}   (estimated; see seeds/README.md)",
        "",
    ]
    ranked = con.execute(
        """
        select coverage.unit_code, units.name, coverage.installs, coverage.coverage_population,
            coverage.coverage_smartphone_owners
        from marts.fct_coverage_daily as coverage
        inner join marts.dim_admin_units as units
            on coverage.unit_code = units.unit_code and units.level = 'province'
        where coverage.level = 'province' and coverage.snapshot_date = ?
        order by coverage.coverage_population desc, coverage.unit_code
        """,
        [day],
    ).fetchall()
    header = f"    {'code':4} {'province':22} {'installs':>12} {'of pop.':>8} {'of phones':>9}"

    def rows(selection: list[tuple]) -> list[str]:
        return [
            f"    {code:4} {name[:22]:22} {inst:>12,} {_pct(pop):>8} {_pct(phone):>9}"
            for code, name, inst, pop, phone in selection
        ]

    lines += [f"  Top 5 provinces by coverage of population ({len(ranked)} provinces)", header]
    lines += rows(ranked[:5])
    lines += ["  Bottom 5 provinces", header, *rows(ranked[-5:]), ""]
    reporting = con.execute(
        """
        select expected_reports, actual_reports, on_time_reports, late_reports, missing_reports,
            on_time_rate, reporting_rate
        from marts.agg_reporting_rates
        where scope_level = 'nation' and report_date = ?
        """,
        [day],
    ).fetchone()
    if reporting:
        expected, actual, on_time, late, missing, on_time_rate, rate = reporting
        lines += [
            f"  Unit reports for {day:%d/%m/%Y}: {on_time:,} of {expected:,} on time "
            f"({_pct(on_time_rate).strip()}), {late:,} late, {missing:,} missing "
            f"(reporting rate {_pct(rate).strip()})",
        ]
    return lines


def print_summary(settings: Settings, day: date | None = None) -> None:
    path = snapshot_path(settings)
    if not path.exists():
        raise SystemExit(f"no published snapshot at {path}: run the daily pipeline first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        print("\n".join(summary_lines(con, day)))
    finally:
        con.close()
