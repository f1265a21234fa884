"""Turning a parsed unit-report file into ``raw.unit_reports`` rows and rejections.

Every row is checked cell by cell; a row with any unreadable cell is rejected with the
column and reason (``malformed_file``), a row whose unit cannot be matched is an
``unknown_unit`` and a row about a day after it was sent, or outside the campaign, is an
``out_of_range_date``. Good rows of a partly bad file are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.ingest.readers import ParsedFile
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.ingest.values import (
    ValueRejected,
    parse_count,
    parse_date,
    parse_local_timestamp,
    text_cell,
)

COUNT_COLUMNS = ("installs_reported", "staff_total", "staff_installed", "households_visited")
_PROVINCE_TOKEN = re.compile(r"(?<![0-9])([0-9]{2})(?![0-9])")
# Dates written in file names (06_08_2020, 2020-08-06, 20200806) are not province codes.
_DATE_IN_NAME = re.compile(
    r"(?<![0-9])(?:[0-9]{1,2}[-_. ][0-9]{1,2}[-_. ][0-9]{4}|[0-9]{4}[-_. ][0-9]{1,2}[-_. ]"
    r"[0-9]{1,2}|[0-9]{8})(?![0-9])"
)


@dataclass(frozen=True)
class Rejection:
    row_number: int | None
    column_name: str | None
    raw_value: str | None
    check_id: str
    reason: str
    unit_code: str | None = None
    province_code: str | None = None
    day: date | None = None


def _raw(value: object) -> str | None:
    return None if value is None else str(value)[:200]


def _province_context(parsed: ParsedFile, registry: UnitMatcher, file_name: str) -> set[str]:
    """Provinces the file is evidently about: from rows with codes, else from its name."""
    provinces = {
        registry.by_code[str(values["unit_code"]).strip()].province_code
        for _, values in parsed.rows.head
        if values.get("unit_code") and str(values["unit_code"]).strip() in registry.by_code
    }
    if provinces:
        return provinces
    known = {unit.province_code for unit in registry.units}
    tokens = {t for t in _PROVINCE_TOKEN.findall(_DATE_IN_NAME.sub(" ", file_name)) if t in known}
    return tokens if len(tokens) == 1 else set()  # several candidates: no context at all


def check_report_rows(
    parsed: ParsedFile,
    registry: UnitMatcher,
    *,
    file_name: str,
    arrived_at: datetime,
    campaign: tuple[date, date],
) -> Iterator[dict[str, object] | Rejection]:
    """Validate every row of a parsed report file, lazily: each row becomes a good record
    (a dict) or a Rejection."""
    context = _province_context(parsed, registry, file_name)
    arrival_day = arrived_at.astimezone(LOCAL_TZ).date()
    for row_number, values in parsed.rows:
        record: dict[str, object] = {"row_number": row_number}
        problem: Rejection | None = None
        parsers = {
            "report_date": parse_date,
            # A time of day alone was written on the day the file arrived.
            "submitted_at": partial(parse_local_timestamp, default_day=arrival_day),
            **{column: parse_count for column in COUNT_COLUMNS},
        }
        for column, parse in parsers.items():
            try:
                record[column] = parse(values.get(column))
            except ValueRejected as err:
                problem = Rejection(
                    row_number,
                    parsed.columns.get(column, column),
                    _raw(values.get(column)),
                    "malformed_file",
                    f"{parsed.columns.get(column, column)}: {err}",
                )
                break
        code = text_cell(values.get("unit_code"))
        name = text_cell(values.get("unit_name"))
        record.update(unit_code_raw=code, unit_name_raw=name, note=text_cell(values.get("note")))
        if problem is None and record["report_date"] is None:
            problem = Rejection(
                row_number,
                parsed.columns.get("report_date", "report_date"),
                None,
                "malformed_file",
                "report_date is empty: every row needs the day it reports on",
            )
        if problem is None and all(
            record[c] is None for c in ("installs_reported", "staff_installed")
        ):
            problem = Rejection(
                row_number,
                parsed.columns.get("installs_reported", "installs_reported"),
                None,
                "malformed_file",
                "no figure: installs_reported or staff_installed is required",
            )
        if problem is None:
            match = registry.match(code, name, context)
            if match.unit is None:
                provinces = {unit.province_code for unit in match.candidates}
                problem = Rejection(
                    row_number,
                    "unit_code" if code else "unit_name",
                    code or name,
                    match.check_id,
                    match.reason,
                    province_code=provinces.pop() if len(provinces) == 1 else None,
                    day=record["report_date"],
                )
            else:
                record.update(
                    unit_code=match.unit.unit_code,
                    province_code=match.unit.province_code,
                    match_method=match.method,
                )
        if problem is None:
            problem = _check_dates(record, arrived_at, campaign, row_number, parsed)
        if problem is not None:
            yield problem
            continue
        if record["submitted_at"] is None:
            record["submitted_at"] = arrived_at
            record["submitted_at_source"] = "arrival"
        else:
            record["submitted_at_source"] = "column"
        yield record


def _check_dates(
    record: dict[str, object],
    arrived_at: datetime,
    campaign: tuple[date, date],
    row_number: int,
    parsed: ParsedFile,
) -> Rejection | None:
    report_date = record["report_date"]
    assert isinstance(report_date, date)
    claimed = record["submitted_at"]
    # A report cannot have been sent after it arrived: the earlier of the two is the send time.
    sent = min(claimed, arrived_at) if isinstance(claimed, datetime) else arrived_at
    sent_day = sent.astimezone(LOCAL_TZ).date()
    column = parsed.columns.get("report_date", "report_date")
    unit = {"unit_code": record["unit_code"], "province_code": record["province_code"]}
    if report_date > sent_day:
        return Rejection(
            row_number,
            column,
            report_date.isoformat(),
            "out_of_range_date",
            f"report date {report_date.isoformat()} is after the day it was sent "
            f"({sent_day.isoformat()})",
            day=report_date,
            **unit,
        )
    if not campaign[0] <= report_date <= campaign[1]:
        return Rejection(
            row_number,
            column,
            report_date.isoformat(),
            "out_of_range_date",
            f"report date {report_date.isoformat()} is outside the campaign "
            f"({campaign[0].isoformat()} to {campaign[1].isoformat()})",
            # The issue belongs to the day it was sent: a mistyped date in July must not
            # place it before the campaign (nor make the marts rebuild from there).
            day=sent_day,
            **unit,
        )
    return None
