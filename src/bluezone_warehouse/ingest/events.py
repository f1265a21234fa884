"""Loading the event-level national export, ``install_events_YYYYMMDD.parquet`` (DESIGN §3.2).

At national scale the ministry may send raw events instead of daily figures: one row per
install or uninstall (``event_time`` UTC, hashed ``device_id``, ``event``, ``district_code``,
``has_phone``). DuckDB checks and aggregates them in one pass into daily net counts per
district (``raw.install_event_counts``); staging turns those into the same cumulative daily
figures as the ordinary export. Bad events are counted per reason and district, not stored
one by one: a 20-million-row file must not produce millions of rejection rows; each such
rejection names the first bad rows (their position in the file, from 1) and their values,
and counts them all. The file is read in the export checker's private connection, never in
the warehouse's transaction.

Events name 2020 districts (the contract's ``district_code``): on a campaign on the 2025
units, which have no districts, the export checker refuses the whole file with a reason
(``ExportChecker.check_events``), never attributing an event to a 2025 unit that happens to
share a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from bluezone_warehouse.config import LOCAL_TZ_NAME
from bluezone_warehouse.ingest import messages
from bluezone_warehouse.ingest.messages import Words, quoted, shown
from bluezone_warehouse.ingest.source import InputRejected

EVENTS_NAME = re.compile(r"^install_events_(\d{8})(?:_[^/]*)?\.parquet$", re.IGNORECASE)
REQUIRED_COLUMNS = ("event_time", "device_id", "event", "district_code", "has_phone")


class EventsRejected(InputRejected):
    """An event export that cannot be loaded at all."""


@dataclass(frozen=True)
class EventsLoad:
    events_loaded: int
    events_rejected: int


def events_day(file_name: str) -> date | None:
    """The local day an event export's name declares, or None if it is not one."""
    match = EVENTS_NAME.match(file_name)
    if not match:
        return None
    try:
        return datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        raise EventsRejected(
            f"{match[1]!r} in the file name is not a calendar day",
            problem="file_name_day",
            details={"value": match[1]},
        ) from None


_FIRST_ROWS = 5  # rows a message names for each kind of bad event (and district)


def _classified(with_rows: bool) -> str:
    """SQL: every event typed and given its problem (NULL for a good event); with its row in
    the file (counted from 1) and its cells as written when ``with_rows``."""
    as_written = (
        "file_row_number + 1 as row_number, event_time as event_time_written, "
        "device_id as device_id_written, event as event_written, "
        "district_code as district_code_written,"
        if with_rows
        else ""
    )
    rows = ", file_row_number = true" if with_rows else ""
    return f"""
with typed as (
    select
        {as_written}
        try_cast(event_time as timestamptz) as event_time,
        lower(trim(cast(event as varchar))) as event,
        case
            when regexp_full_match(trim(cast(district_code as varchar)), '[0-9]{{1,3}}')
                then lpad(trim(cast(district_code as varchar)), 3, '0')
            else nullif(trim(cast(district_code as varchar)), '')
        end as district_code,
        try_cast(has_phone as boolean) as has_phone,
        device_id is null or cast(device_id as varchar) = '' as device_missing,
    from read_parquet($path{rows})
),
classified as (
    select
        *,
        case
            when event_time is null then 'event_time'
            when device_missing then 'device_id'
            when event not in ('install', 'uninstall') or event is null then 'event'
            when cast(timezone('{LOCAL_TZ_NAME}', event_time) as date) <> $day then 'day'
            when district_code is not null
                and district_code not in (
                    select code from known_units where level = 'district'
                ) then 'district_code'
        end as problem,
    from typed
)
"""


_AGGREGATE = f"""
create or replace temp table events_checked as
{_classified(with_rows=False)}
select
    problem,
    district_code,
    count(*) filter (event = 'install') as installs,
    count(*) filter (event = 'uninstall') as uninstalls,
    count(*) filter (event = 'install' and has_phone) as installs_with_phone,
    count(*) filter (event = 'uninstall' and has_phone) as uninstalls_with_phone,
    count(*) as events,
from classified
group by all
"""

# Read again only when some events are bad (a clean file pays nothing for it): the first bad
# rows of each kind and district, and the value each has in the column at fault.
_FIRST_BAD = f"""
{_classified(with_rows=True)}
select
    problem,
    district_code,
    min(row_number, {_FIRST_ROWS}) as first_rows,
    arg_min(
        case problem
            when 'event_time' then cast(event_time_written as varchar)
            when 'device_id' then cast(device_id_written as varchar)
            when 'event' then cast(event_written as varchar)
            when 'day' then strftime(timezone('UTC', event_time), '%Y-%m-%dT%H:%M:%SZ')
            else cast(district_code_written as varchar)
        end,
        row_number,
        {_FIRST_ROWS}
    ) as first_values,
from classified
where problem is not null
group by all
"""

# problem -> (check id, reason for the data team, the sender's problem, the column it is in)
_REASONS = {
    "event_time": (
        "malformed_file",
        "event_time is not a timestamp",
        "event_time_invalid",
        "event_time",
    ),
    "device_id": ("malformed_file", "device_id is empty", "device_id_empty", "device_id"),
    "event": ("malformed_file", "event must be install or uninstall", "event_kind", "event"),
    "day": (
        "out_of_range_date",
        "event_time falls outside the file's day (local time)",
        "event_other_day",
        "event_time",
    ),
    "district_code": (
        "unknown_unit",
        "district_code is not a known district",
        "event_district_unknown",
        "district_code",
    ),
}


@dataclass(frozen=True)
class CheckedEvents:
    counts: list[dict]  # one row per district (or none) with its install/uninstall counts
    rejected: list[dict]  # one row per reason and district, with the number of events
    events_loaded: int
    events_rejected: int


def _first_rows(rows: list[int], values: list[str | None], count: int) -> Words:
    """The first bad rows of a kind, with their values, as a message lists them."""
    listed = ", ".join(
        f"{row}" + (f' "{shown(value)}"' if shown(value) is not None else "")
        for row, value in zip(rows, values, strict=True)
    ) + (", …" if count > len(rows) else "")
    return Words(vi=f"dòng, đếm từ 1: {listed}", en=f"rows, counting from 1: {listed}")


def check_events(
    con: duckdb.DuckDBPyConnection,
    local_path: Path,
    day: date,
    *,
    file_name: str,
    language: str,
) -> CheckedEvents:
    """Check and aggregate one event export in the checker's own connection; each kind of
    bad event (per district) is one rejection, which names its first rows and values and
    counts them all, with the sender's message in ``language``."""
    try:
        columns = {
            name.lower(): name
            for (name, *_) in con.execute(
                "describe select * from read_parquet(?)", [str(local_path)]
            ).fetchall()
        }
    except duckdb.Error as err:
        raise _unreadable(err, local_path) from None
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise EventsRejected(
            f"missing required column(s) {', '.join(missing)}",
            problem="export_missing_columns",
            details={
                "missing": quoted(missing),
                "found": quoted(list(columns.values())[:10]) or Words(vi="không có", en="none"),
                "required": quoted(REQUIRED_COLUMNS),
            },
        )
    try:
        con.execute(_AGGREGATE, {"path": str(local_path), "day": day})
    except duckdb.Error as err:
        raise _unreadable(err, local_path) from None
    groups = con.execute(
        "select problem, district_code, installs, uninstalls, installs_with_phone, "
        "uninstalls_with_phone, events, (select province_code from known_units "
        "where level = 'district' and code = district_code) from events_checked "
        "order by problem nulls first, district_code nulls first"
    ).fetchall()
    first: dict[tuple[str, str | None], tuple[list[int], list[str | None]]] = {}
    if any(problem is not None for problem, *_ in groups):
        try:
            found = con.execute(_FIRST_BAD, {"path": str(local_path), "day": day}).fetchall()
        except duckdb.Error as err:
            raise _unreadable(err, local_path) from None
        first = {(problem, district): (rows, values) for problem, district, rows, values in found}
    counts, rejected, bad = [], [], 0
    for problem, district, installs, uninstalls, phone_in, phone_out, events, province in groups:
        if problem is None:
            counts.append(
                {
                    "event_date": day,
                    "district_code": district,
                    "installs": installs,
                    "uninstalls": uninstalls,
                    "installs_with_phone": phone_in,
                    "uninstalls_with_phone": phone_out,
                    "events": events,
                }
            )
            continue
        check_id, reason, sender_problem, column = _REASONS[problem]
        first_rows, first_values = first[problem, district]
        bad += events
        header = columns[column]
        rejected.append(
            {
                "row_number": first_rows[0],
                "column_name": problem,
                "raw_value": first_values[0],
                "check_id": check_id,
                "reason": f"{events} event(s): {reason}",
                "unit_code": district if problem != "district_code" else None,
                "province_code": province,
                "day": day,
                "header": header,
                "message": messages.render(
                    sender_problem,
                    language,
                    file=file_name,
                    header=header,
                    count=events,
                    rows=_first_rows(first_rows, first_values, events),
                    day=day,
                ),
            }
        )
    loaded = sum(row["events"] for row in counts)
    if loaded == 0:
        if bad:
            raise EventsRejected(
                f"no usable event: all {bad} events were rejected",
                problem="no_usable_event",
                details={"count": bad},
            )
        raise EventsRejected("no events", problem="no_events")
    return CheckedEvents(counts, rejected, loaded, bad)


def _unreadable(err: duckdb.Error, local_path: Path) -> EventsRejected:
    first_line = str(err).splitlines()[0]
    return EventsRejected(
        f"file cannot be read: {first_line}",
        problem="export_unreadable",
        # The sender knows the file by its name, not by where this machine copied it.
        details={"detail": first_line.replace(str(local_path), local_path.name)[:200]},
    )
