"""Loading the national install export (DESIGN §3.2) into ``raw.install_exports``.

DuckDB reads the file (CSV, CSV.GZ or Parquet) as text, every row is checked in SQL, good
rows are inserted with their lineage and bad rows go to ``raw.rejected_rows`` with the column
and reason. The caller owns the transaction, so a file's rows go in together or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

EXPORT_NAME = re.compile(r"^installs_(\d{8})(?:_[^/]*)?\.(csv|csv\.gz|parquet)$", re.IGNORECASE)
EXPORT_COLUMNS = ("snapshot_date", "level", "unit_code", "installs", "installs_with_phone")
REQUIRED_COLUMNS = ("snapshot_date", "level", "unit_code", "installs")


class ExportRejected(ValueError):
    """An export file that cannot be loaded at all."""


@dataclass(frozen=True)
class ExportLoad:
    rows_loaded: int
    rows_rejected: int


def export_day(file_name: str) -> date:
    """The snapshot day an export file's name declares."""
    match = EXPORT_NAME.match(file_name)
    if not match:
        raise ExportRejected(
            "install export names must be installs_YYYYMMDD[_anything].csv, .csv.gz or .parquet"
        )
    try:
        return datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        raise ExportRejected(f"{match[1]!r} in the file name is not a calendar day") from None


def _stage(con: duckdb.DuckDBPyConnection, local_path: Path) -> None:
    reader = (
        "read_parquet(?)"
        if local_path.name.lower().endswith(".parquet")
        else ("read_csv(?, all_varchar = true, header = true, auto_detect = true)")
    )
    try:
        con.execute(
            "create or replace temp table export_stage as "
            f"select *, (row_number() over ())::integer + 1 as row_number from {reader}",
            [str(local_path)],
        )
    except duckdb.Error as err:
        raise ExportRejected(f"file cannot be read: {str(err).splitlines()[0]}") from None
    columns = [row[0] for row in con.execute("describe export_stage").fetchall()]
    normalised = {column.strip().lstrip("\ufeff").lower(): column for column in columns}
    missing = [column for column in REQUIRED_COLUMNS if column not in normalised]
    if missing:
        raise ExportRejected(
            f"missing required column(s) {', '.join(missing)}; found {', '.join(columns[:10])}"
        )
    select = ", ".join(
        f'trim(cast("{normalised[column]}" as varchar)) as {column}'
        if column in normalised
        else f"null::varchar as {column}"
        for column in EXPORT_COLUMNS
    )
    con.execute(
        f"create or replace temp table export_rows as select {select}, row_number from export_stage"
    )


_CHECKED = """
create or replace temp table export_checked as
with typed as (
    select
        *,
        try_cast(snapshot_date as date) as snapshot_date_typed,
        lower(level) as level_typed,
        case
            when regexp_full_match(unit_code, '[0-9]+') and lower(level) = 'province'
                then lpad(unit_code, 2, '0')
            when regexp_full_match(unit_code, '[0-9]+') and lower(level) = 'district'
                then lpad(unit_code, 3, '0')
            else unit_code
        end as unit_code_typed,
        replace(replace(installs, '.', ''), ',', '') as installs_digits,
        replace(replace(installs_with_phone, '.', ''), ',', '') as phone_digits,
    from export_rows
),
flagged as (
    select
        *,
        case level_typed
            when 'province' then unit_code_typed in (select code from known_provinces)
            when 'district' then unit_code_typed in (select code from known_districts)
            else false
        end as is_known_unit,
        row_number() over (
            partition by level_typed, unit_code_typed order by row_number
        ) > 1 as is_duplicate,
        regexp_full_match(installs, '[0-9]{1,3}([.,][0-9]{3})*|[0-9]+') as installs_ok,
        coalesce(installs_with_phone, '') = ''
            or regexp_full_match(installs_with_phone, '[0-9]{1,3}([.,][0-9]{3})*|[0-9]+')
            as phone_ok,
    from typed
),
checked as (
    select
        *,
        case
            when snapshot_date_typed is null
                then ['snapshot_date', 'malformed_file',
                      'snapshot_date is not a date (expected YYYY-MM-DD), got '
                      || coalesce(snapshot_date, 'nothing')]
            when snapshot_date_typed <> $day
                then ['snapshot_date', 'out_of_range_date',
                      'snapshot_date ' || snapshot_date || ' differs from the day in the file name '
                      || strftime($day, '%Y-%m-%d')]
            when level_typed is null or level_typed not in ('province', 'district')
                then ['level', 'malformed_file',
                      'level must be province or district, got ' || coalesce(level, 'nothing')]
            when not is_known_unit
                then ['unit_code', 'unknown_unit',
                      'unit_code ' || coalesce(unit_code, 'nothing') || ' is not a known '
                      || level_typed || ' code']
            when not coalesce(installs_ok, false)
                then ['installs', 'malformed_file',
                      'installs must be a whole non-negative number, got '
                      || coalesce(installs, 'nothing')]
            when not phone_ok
                then ['installs_with_phone', 'malformed_file',
                      'installs_with_phone must be a whole non-negative number or empty, got '
                      || installs_with_phone]
            when is_duplicate
                then ['unit_code', 'malformed_file',
                      'duplicate row for ' || level_typed || ' ' || unit_code_typed
                      || ' in this file (the first one was kept)']
        end as problem,
    from flagged
)
select
    * exclude (problem),
    problem[1] as bad_column,
    problem[2] as check_id,
    problem[3] as reason,
from checked
"""


def load_export(
    con: duckdb.DuckDBPyConnection,
    local_path: Path,
    *,
    day: date,
    file_id: str,
    source_file: str,
    checksum: str,
    arrived_at: datetime,
    loaded_at: datetime,
) -> ExportLoad:
    """Stage, check and insert one export file; raises ExportRejected for a bad file."""
    _stage(con, local_path)
    con.execute(_CHECKED, {"day": day})
    loaded, rejected = con.execute(
        "select count(*) filter (bad_column is null), count(*) filter (bad_column is not null) "
        "from export_checked"
    ).fetchone()
    if loaded == 0 and rejected > 0:
        raise ExportRejected(f"no usable row: all {rejected} rows were rejected")
    if loaded == 0:
        raise ExportRejected("the file has a header but no data rows")
    lineage = {
        "file_id": file_id,
        "source_file": source_file,
        "checksum": checksum,
        "arrived_at": arrived_at,
        "loaded_at": loaded_at,
    }
    con.execute(
        """
        insert into raw.install_exports
        select
            snapshot_date_typed, level_typed, unit_code_typed,
            cast(installs_digits as bigint), cast(nullif(phone_digits, '') as bigint),
            $file_id, $source_file, $checksum, row_number, $arrived_at, $loaded_at
        from export_checked
        where bad_column is null
        order by row_number
        """,
        lineage,
    )
    con.execute(
        """
        insert into raw.rejected_rows
        select
            $file_id, 'installs', $source_file, row_number, bad_column,
            case bad_column
                when 'snapshot_date' then snapshot_date when 'level' then level
                when 'unit_code' then unit_code when 'installs' then installs
                else installs_with_phone
            end,
            check_id, reason,
            unit_code_typed,
            case when level_typed = 'province' then unit_code_typed
                when level_typed = 'district' then (
                    select province_code from known_districts where code = unit_code_typed
                )
            end,
            coalesce(snapshot_date_typed, $day), $loaded_at
        from export_checked
        where bad_column is not null
        order by row_number
        """,
        {"file_id": file_id, "source_file": source_file, "loaded_at": loaded_at, "day": day},
    )
    return ExportLoad(rows_loaded=loaded, rows_rejected=rejected)


def register_known_units(con: duckdb.DuckDBPyConnection, seeds_dir: Path) -> None:
    """Temp tables of valid province and district codes, from the reference seeds."""
    con.execute(
        "create or replace temp table known_provinces as "
        "select province_code as code from read_csv(?, all_varchar = true, header = true)",
        [str(seeds_dir / "ref_provinces.csv")],
    )
    con.execute(
        "create or replace temp table known_districts as "
        "select district_code as code, province_code "
        "from read_csv(?, all_varchar = true, header = true)",
        [str(seeds_dir / "ref_districts.csv")],
    )
