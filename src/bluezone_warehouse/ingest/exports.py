"""Checking the national install export (DESIGN §3.2) before it is loaded.

Export files (CSV, CSV.GZ or Parquet) are read and checked by DuckDB in a private in-memory
connection, never in the warehouse's transaction: a file that cannot be read (a corrupt
gzip, a CSV named .parquet) fails there alone. Every row is checked in SQL. The good rows
come back as plain rows for the caller to insert, with their lineage, in its transaction;
the rejected rows (with column, check and reason), however many, as one Parquet file that
DuckDB inserts there (``source.RowsFile``). A rejected row names its row as a spreadsheet
program shows a CSV (the header is row 1) or its position in a Parquet file, and carries
the sender's message (``ingest.messages``) beside the data team's reason.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from bluezone_warehouse.ingest import messages
from bluezone_warehouse.ingest.events import CheckedEvents, check_events
from bluezone_warehouse.ingest.messages import Words, one_of, quoted
from bluezone_warehouse.ingest.source import InputRejected, RowsFile
from bluezone_warehouse.ingest.values import COUNT_PATTERN, count_text_sql, parse_count
from bluezone_warehouse.units import UnitSet

EXPORT_NAME = re.compile(r"^installs_(\d{8})(?:_[^/]*)?\.(csv|csv\.gz|parquet)$", re.IGNORECASE)
EXPORT_COLUMNS = ("snapshot_date", "level", "unit_code", "installs", "installs_with_phone")
REQUIRED_COLUMNS = ("snapshot_date", "level", "unit_code", "installs")
ROW = "bz_source_row"  # lineage column of the staging tables; never a name an input has


CHECKER_MEMORY = "256MB"
# Where a rejected row's number goes in its kind's message (``_rejected_file``).
_ROW_MARK = "\x00row\x00"
# What makes two rejected rows the same kind of rejection, with the same message but for
# the row's number.
_KIND_COLUMNS = ("problem", "bad_column", "raw_value", "level_typed", "unit_code_typed")


class ExportRejected(InputRejected):
    """An export file that cannot be loaded at all."""


@dataclass
class CheckedExport:
    """One export file checked. The rows are read once, lazily, and the rejected rows'
    file is overwritten, by the checker's next check."""

    rows: Iterator[dict] = field(default_factory=lambda: iter(()))
    rejected: RowsFile | None = None  # every rejected row (tables.REJECTED_ROWS' columns)
    first_reason: str | None = None  # the first rejected row's reason
    good: int = 0
    bad: int = 0


def export_day(file_name: str) -> date:
    """The snapshot day an export file's name declares."""
    match = EXPORT_NAME.match(file_name)
    if not match:
        raise ExportRejected(
            "install export names must be installs_YYYYMMDD[_anything].csv, .csv.gz or .parquet",
            problem="export_name",
        )
    try:
        return datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        raise ExportRejected(
            f"{match[1]!r} in the file name is not a calendar day",
            problem="file_name_day",
            details={"value": match[1]},
        ) from None


def _as_text(column: str, column_type: str) -> str:
    """SQL turning an input column into trimmed text; whole floats lose their '.0'."""
    quoted = '"' + column.replace('"', '""') + '"'
    if column_type.upper().startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
        return (
            f"case when {quoted} = trunc({quoted}) "
            f"then cast(cast({quoted} as hugeint) as varchar) "
            f"else cast({quoted} as varchar) end"
        )
    return f"trim(cast({quoted} as varchar))"


def _checked_sql(digits: dict[str, int]) -> str:
    """The SQL that types and checks every row of ``export_rows``: ``digits`` is each level
    an export may carry with the digits of its codes (a shorter code is left-padded)."""
    padded = "\n".join(
        f"            when regexp_full_match(unit_code, '[0-9]+') and lower(level) = '{level}'\n"
        f"                and length(unit_code) < {n} then lpad(unit_code, {n}, '0')"
        for level, n in digits.items()
    )
    levels = ", ".join(f"'{level}'" for level in digits)
    named = one_of(list(digits), "or")
    return f"""
create or replace temp table export_checked as
with typed as (
    select
        *,
        try_cast(snapshot_date as date) as snapshot_date_typed,
        lower(level) as level_typed,
        case
{padded}
            else unit_code
        end as unit_code_typed,
        regexp_full_match({count_text_sql("installs")}, '{COUNT_PATTERN}') as installs_ok,
        coalesce(installs_with_phone, '') = ''
            or regexp_full_match({count_text_sql("installs_with_phone")}, '{COUNT_PATTERN}')
            as phone_ok,
    from export_rows
),
flagged as (
    select
        *,
        -- An empty code is no known unit (not NULL, which no check would catch).
        exists (
            select 1 from known_units
            where known_units.level = typed.level_typed and known_units.code = typed.unit_code_typed
        ) as is_known_unit,
    from typed
),
first_problem as (
    select
        *,
        case
            when snapshot_date_typed is null
                then ['snapshot_date', 'malformed_file',
                      'snapshot_date is not a date (expected YYYY-MM-DD), got '
                      || coalesce(snapshot_date, 'nothing'),
                      case when coalesce(snapshot_date, '') = '' then 'export_date_empty'
                          else 'export_date_format' end]
            when snapshot_date_typed <> $day
                then ['snapshot_date', 'out_of_range_date',
                      'snapshot_date ' || snapshot_date || ' differs from the day in the file name '
                      || strftime($day, '%Y-%m-%d'), 'export_other_day']
            when level_typed is null or level_typed not in ({levels})
                then ['level', 'malformed_file',
                      'level must be {named}, got '
                      || coalesce(level, 'nothing'),
                      case when coalesce(level, '') = '' then 'export_level_empty'
                          else 'export_level' end]
            when not is_known_unit
                then ['unit_code', 'unknown_unit',
                      'unit_code ' || coalesce(unit_code, 'nothing') || ' is not a known '
                      || level_typed || ' code',
                      case when coalesce(unit_code, '') = '' then 'export_unit_empty'
                          else 'export_unit_unknown' end]
            when not coalesce(installs_ok, false)
                then ['installs', 'malformed_file',
                      'installs must be a whole non-negative number, got '
                      || coalesce(installs, 'nothing'),
                      case when coalesce(installs, '') = '' then 'export_installs_empty'
                          else 'export_installs' end]
            when not phone_ok
                then ['installs_with_phone', 'malformed_file',
                      'installs_with_phone must be a whole non-negative number or empty, got '
                      || installs_with_phone, 'export_phone']
        end as problem,
    from flagged
),
checked as (
    select
        * exclude (problem),
        coalesce(
            problem,
            case
                when row_number() over (
                    partition by level_typed, unit_code_typed, problem is null order by {ROW}
                ) > 1
                    then ['unit_code', 'malformed_file',
                          'duplicate row for ' || level_typed || ' ' || unit_code_typed
                          || ' in this file (the first one was kept)', 'export_duplicate']
            end
        ) as problem,
    from first_problem
)
select
    * exclude (problem),
    problem[1] as bad_column,
    problem[2] as check_id,
    problem[3] as reason,
    problem[4] as problem,
from checked
"""


class ExportChecker:
    """Reads and checks export files in its own in-memory DuckDB connection."""

    def __init__(self, seeds_dir: Path, units: UnitSet) -> None:
        self.units = units
        self._checked = _checked_sql({level: units.digits(level) for level in units.export_levels})
        self._level_words = _level_words(units)
        self.con = duckdb.connect()
        # The rejected rows' file, and where DuckDB spills.
        self.scratch = Path(tempfile.mkdtemp(prefix="bluezone-export-"))
        # A large export spills to disk rather than growing the process (DESIGN §8: ≤ 1 GB).
        self.con.execute(f"set memory_limit = '{CHECKER_MEMORY}'")
        self.con.execute(f"set temp_directory = '{self.scratch / 'spill'}'")
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set threads = 1")  # row numbers follow the file's order
        self.con.execute("set enable_progress_bar = false")
        # The codes an export may name, at each level of the unit set, with their province.
        known = " union all ".join(
            f"select '{level}' as level, {level}_code as code, province_code "
            "from read_csv(?, all_varchar = true, header = true)"
            for level in units.export_levels
        )
        self.con.execute(
            f"create table known_units as {known}",
            [str(seeds_dir / units.seed_file(seed)) for seed in units.export_levels.values()],
        )

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def check_events(
        self, local_path: Path, day: date, *, file_name: str, language: str
    ) -> CheckedEvents:
        """Check and aggregate an event export, with every thread (order does not matter).
        Events name 2020 districts: on a unit set without districts (2025) the whole file is
        refused with a reason, never attributed to a unit that happens to share a code."""
        if "district" not in self.units.export_levels:
            raise ExportRejected(
                f"event-level exports name 2020 districts (district_code), and this campaign "
                f"reports on the {self.units.name} units, which have none",
                problem="events_unit_set",
                details={"units": self.units.name, "levels": self._level_words["levels"]},
            )
        self.con.execute("reset threads")
        try:
            return check_events(self.con, local_path, day, file_name=file_name, language=language)
        finally:
            self.con.execute("set threads = 1")

    def _stage(self, local_path: Path) -> dict[str, str]:
        """Stage the file's rows; returns each export column's header as written."""
        if local_path.name.lower().endswith(".parquet"):
            reader = "read_parquet(?, file_row_number = true)"
            row = f"(file_row_number + 1)::integer as {ROW}"
            drop = "exclude (file_row_number)"
        else:
            reader = "read_csv(?, all_varchar = true, header = true, auto_detect = true)"
            row = f"(row_number() over ())::integer + 1 as {ROW}"
            drop = ""
        try:
            self.con.execute(
                f"create or replace temp table export_stage as select * {drop}, {row} "
                f"from {reader}",
                [str(local_path)],
            )
        except duckdb.Error as err:
            raise _unreadable(err, local_path) from None
        described = self.con.execute("describe export_stage").fetchall()
        types = {name: kind for name, kind, *_ in described if name != ROW}
        normalised = {name.strip().lstrip("\ufeff").lower(): name for name in types}
        missing = [column for column in REQUIRED_COLUMNS if column not in normalised]
        if missing:
            found = ", ".join(list(types)[:10]) or "no columns"
            raise ExportRejected(
                f"missing required column(s) {', '.join(missing)}; found {found}",
                problem="export_missing_columns",
                details={
                    "missing": quoted(missing),
                    "found": quoted(list(types)[:10]) or Words(vi="không có", en="none"),
                    "required": quoted(EXPORT_COLUMNS),
                },
            )
        select = ", ".join(
            f"{_as_text(normalised[c], types[normalised[c]])} as {c}"
            if c in normalised
            else f"null::varchar as {c}"
            for c in EXPORT_COLUMNS
        )
        self.con.execute(
            f"create or replace temp table export_rows as select {select}, {ROW} from export_stage"
        )
        return {c: normalised[c].strip().lstrip("\ufeff").strip() for c in normalised}

    def _good_rows(self) -> Iterator[dict]:
        """The checked rows, fetched in chunks (an export can hold millions)."""
        cursor = self.con.execute(
            f"select snapshot_date_typed, level_typed, unit_code_typed, installs, "
            f"installs_with_phone, {ROW} from export_checked where bad_column is null "
            f"order by {ROW}"
        )
        while chunk := cursor.fetchmany(10_000):
            for snapshot_date, level, code, installs, phone, row in chunk:
                yield {
                    "snapshot_date": snapshot_date,
                    "level": level,
                    "unit_code": code,
                    "installs": parse_count(installs),
                    "installs_with_phone": parse_count(phone),
                    "row_number": row,
                }

    def _rejected_file(self, day: date, place: _Place, count: int) -> RowsFile:
        """Write the rejected rows, with file, row, column, value, reason and the sender's
        message, to a Parquet file for the warehouse to insert. Each kind of rejection (its
        problem, column, value and unit) has its message written once, around a mark for
        the row: DuckDB puts each row's number in, so a file of millions of duplicate rows
        costs a few messages, not millions."""
        self.con.execute(
            """
            create or replace temp view export_rejected as
            select
                *,
                case bad_column
                    when 'snapshot_date' then snapshot_date when 'level' then level
                    when 'unit_code' then unit_code when 'installs' then installs
                    else installs_with_phone
                end as raw_value,
            from export_checked
            where bad_column is not null
            """
        )
        kinds = self.con.execute(
            "select distinct problem, bad_column, raw_value, level_typed, unit_code_typed "
            "from export_rejected"
        ).fetchall()
        rendered = []
        for kind in kinds:
            problem, column, raw, level, typed = kind
            message = place.render(
                problem,
                row=_ROW_MARK,
                column=column,
                value=raw,
                day=day,
                level=_LEVELS.get(level, level),
                code=typed,
            )
            before, _, after = message.partition(_ROW_MARK)
            rendered.append((*kind, place.headers.get(column), before, after))
        named = (*_KIND_COLUMNS, "header", "before_row", "after_row")
        self.con.execute(
            "create or replace temp table export_rejection_words as select "
            + ", ".join(f"unnest(${n}::varchar[]) as {name}" for n, name in enumerate(named, 1)),
            [list(values) for values in zip(*rendered, strict=True)],
        )
        matched = " and ".join(f"w.{name} is not distinct from r.{name}" for name in _KIND_COLUMNS)
        path = self.scratch / "rejected_rows.parquet"
        self.con.execute(
            f"""
            copy (
                select
                    r.{ROW} as row_number,
                    r.bad_column as column_name,
                    r.raw_value,
                    r.check_id,
                    r.reason,
                    case when r.is_known_unit then r.unit_code_typed end as unit_code,
                    case when r.is_known_unit then (
                        select province_code from known_units
                        where level = r.level_typed and code = r.unit_code_typed
                    ) end as province_code,
                    coalesce(r.snapshot_date_typed, $day) as day,
                    w.header,
                    w.before_row || r.{ROW} || w.after_row as message,
                from export_rejected r
                join export_rejection_words w on {matched}
                order by r.{ROW}
            ) to '{path}' (format parquet)
            """,
            {"day": day},
        )
        return RowsFile(path, count)

    def check(self, local_path: Path, day: date, *, file_name: str, language: str) -> CheckedExport:
        """Good and rejected rows of one export file; raises ExportRejected for a bad file."""
        headers = self._stage(local_path)
        self.con.execute(self._checked, {"day": day})
        self.con.execute("drop table export_stage; drop table export_rows")  # checked holds all
        result = CheckedExport()
        good = self.con.execute(
            "select count(*) from export_checked where bad_column is null"
        ).fetchone()[0]
        result.rows = self._good_rows() if good else iter(())
        bad = self.con.execute(
            "select count(*) from export_checked where bad_column is not null"
        ).fetchone()[0]
        if not good and not bad:
            raise ExportRejected("the file has a header but no data rows", problem="no_data_rows")
        result.good, result.bad = good, bad
        parquet = local_path.name.lower().endswith(".parquet")
        place = _Place(
            file_name, language, headers, "data_row" if parquet else "row", self._level_words
        )
        if bad:
            result.rejected = self._rejected_file(day, place, bad)
            result.first_reason = self.con.execute(
                f"select reason from export_rejected order by {ROW} limit 1"
            ).fetchone()[0]
        return result


def _level_words(units: UnitSet) -> dict[str, Words]:
    """The levels an export of ``units`` may carry and their codes' digits, as a sender's
    message names them (``province, district or commune``; ``2 digits for a province, 3
    for a district, 5 for a commune``)."""
    levels = list(units.export_levels)
    digits = [units.digits(level) for level in levels]
    return {
        "levels": Words(vi=one_of(levels, "hoặc"), en=one_of(levels, "or")),
        "codes": Words(
            vi=", ".join(
                f"{n}{' chữ số' if i == 0 else ''} cho {_LEVELS[level].vi}"
                for i, (level, n) in enumerate(zip(levels, digits, strict=True))
            ),
            en=", ".join(
                f"{n}{' digits' if i == 0 else ''} for a {_LEVELS[level].en}"
                for i, (level, n) in enumerate(zip(levels, digits, strict=True))
            ),
        ),
    }


# A level as a message names it.
_LEVELS = {
    "province": Words(vi="tỉnh", en="province"),
    "district": Words(vi="huyện", en="district"),
    "commune": Words(vi="xã", en="commune"),
}


@dataclass(frozen=True)
class _Place:
    """Where an export's rejected rows are, for the sender's messages."""

    file_name: str
    language: str
    headers: dict[str, str]  # export column -> header as written
    row_kind: str  # "row" (a CSV as a spreadsheet shows it) or "data_row" (Parquet)
    levels: dict[str, Words]  # the unit set's export levels, as messages name them

    def render(self, problem: str, *, row: int, column: str, **details: object) -> str:
        return messages.render(
            problem,
            self.language,
            file=self.file_name,
            row=row,
            row_kind=self.row_kind,
            header=self.headers.get(column, column),
            **self.levels,
            **details,
        )


def _unreadable(err: duckdb.Error, local_path: Path) -> ExportRejected:
    first_line = str(err).splitlines()[0]
    return ExportRejected(
        f"file cannot be read: {first_line}",
        problem="export_unreadable",
        # The sender knows the file by its name, not by where this machine copied it.
        details={"detail": first_line.replace(str(local_path), local_path.name)[:200]},
    )
