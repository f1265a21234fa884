"""Loading the event-level national export, ``install_events_YYYYMMDD.parquet`` (DESIGN §3.2).

At national scale the ministry may send raw events instead of daily figures: one row per
install or uninstall (``event_time`` UTC, hashed ``device_id``, ``event``, ``district_code``,
``has_phone``). DuckDB checks and aggregates them in one pass into daily net counts per
district (``raw.install_event_counts``); staging turns those into the same cumulative daily
figures as the ordinary export. Bad events are counted per reason and district, not stored
one by one: a 20-million-row file must not produce millions of rejection rows. The file is
read in the export checker's private connection, never in the warehouse's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from bluezone_warehouse.config import LOCAL_TZ_NAME
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
        raise EventsRejected(f"{match[1]!r} in the file name is not a calendar day") from None


_AGGREGATE = f"""
create or replace temp table events_checked as
with typed as (
    select
        try_cast(event_time as timestamptz) as event_time,
        lower(trim(cast(event as varchar))) as event,
        case
            when regexp_full_match(trim(cast(district_code as varchar)), '[0-9]{{1,3}}')
                then lpad(trim(cast(district_code as varchar)), 3, '0')
            else nullif(trim(cast(district_code as varchar)), '')
        end as district_code,
        try_cast(has_phone as boolean) as has_phone,
        device_id is null or cast(device_id as varchar) = '' as device_missing,
    from read_parquet($path)
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
                and district_code not in (select code from known_districts) then 'district_code'
        end as problem,
    from typed
)
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

_REASONS = {
    "event_time": ("malformed_file", "event_time is not a timestamp"),
    "device_id": ("malformed_file", "device_id is empty"),
    "event": ("malformed_file", "event must be install or uninstall"),
    "day": ("out_of_range_date", "event_time falls outside the file's day (local time)"),
    "district_code": ("unknown_unit", "district_code is not a known district"),
}


@dataclass(frozen=True)
class CheckedEvents:
    counts: list[dict]  # one row per district (or none) with its install/uninstall counts
    rejected: list[dict]  # one row per reason and district, with the number of events
    events_loaded: int
    events_rejected: int


def check_events(con: duckdb.DuckDBPyConnection, local_path: Path, day: date) -> CheckedEvents:
    """Check and aggregate one event export in the checker's own connection."""
    try:
        columns = {
            name.lower()
            for (name, *_) in con.execute(
                "describe select * from read_parquet(?)", [str(local_path)]
            ).fetchall()
        }
    except duckdb.Error as err:
        raise EventsRejected(f"file cannot be read: {str(err).splitlines()[0]}") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise EventsRejected(f"missing required column(s) {', '.join(missing)}")
    try:
        con.execute(_AGGREGATE, {"path": str(local_path), "day": day})
    except duckdb.Error as err:
        raise EventsRejected(f"file cannot be read: {str(err).splitlines()[0]}") from None
    groups = con.execute(
        "select problem, district_code, installs, uninstalls, installs_with_phone, "
        "uninstalls_with_phone, events, (select province_code from known_districts "
        "where code = district_code) from events_checked order by problem nulls first, "
        "district_code nulls first"
    ).fetchall()
    counts, rejected = [], []
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
        check_id, reason = _REASONS[problem]
        rejected.append(
            {
                "row_number": None,
                "column_name": problem,
                "raw_value": district,
                "check_id": check_id,
                "reason": f"{events} event(s): {reason}",
                "unit_code": district if problem != "district_code" else None,
                "province_code": province,
                "day": day,
            }
        )
    loaded = sum(row["events"] for row in counts)
    bad = sum(int(r["reason"].split(" ", 1)[0]) for r in rejected)
    if loaded == 0:
        raise EventsRejected(
            f"no usable event: all {bad} events were rejected" if bad else "no events"
        )
    return CheckedEvents(counts, rejected, loaded, bad)
