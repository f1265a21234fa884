"""Turning a parsed unit-report file into ``raw.unit_reports`` rows and rejections.

Every row is checked cell by cell; a row with any unreadable cell is rejected with the
column and reason (``malformed_file``), a row whose unit cannot be matched is an
``unknown_unit`` and a row about a day after it was sent, or outside the campaign, is an
``out_of_range_date``. Good rows of a partly bad file are kept. Each rejection carries the
data team's reason and the sender's message (``ingest.messages``), which names the file,
sheet, row, column and value and says what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.ingest import messages
from bluezone_warehouse.ingest.readers import ParsedFile
from bluezone_warehouse.ingest.units import UnitMatcher
from bluezone_warehouse.ingest.values import (
    ValueRejected,
    parse_count,
    parse_date,
    parse_local_timestamp,
    text_cell,
)
from bluezone_warehouse.registry import Unit

COUNT_COLUMNS = ("installs_reported", "staff_total", "staff_installed", "households_visited")
_PROVINCE_TOKEN = re.compile(r"(?<![0-9])([0-9]{2})(?![0-9])")
# Dates written in file names (06_08_2020, 2020-08-06, 20200806) are not province codes.
_DATE_IN_NAME = re.compile(
    r"(?<![0-9])(?:[0-9]{1,2}[-_. ][0-9]{1,2}[-_. ][0-9]{4}|[0-9]{4}[-_. ][0-9]{1,2}[-_. ]"
    r"[0-9]{1,2}|[0-9]{8})(?![0-9])"
)


@dataclass(frozen=True)
class Rejection:
    """One rejected row (or, with no row, a whole file): ``reason`` in the data team's
    English, ``message`` for the sender (``ingest.messages``), with the sheet and the header
    as the sender wrote it. ``row_number`` is the row as a spreadsheet program shows it (a
    JSON record's position)."""

    row_number: int | None
    column_name: str | None
    raw_value: str | None
    check_id: str
    reason: str
    unit_code: str | None = None
    province_code: str | None = None
    day: date | None = None
    sheet: str | None = None
    header: str | None = None
    message: str | None = None


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


_CELL = object()  # a rejection's raw_value: the cell's, unless given
_NAMED_UNITS = 10  # units a message lists at most (an ambiguous name, the closest names)


@dataclass(frozen=True)
class _Rejecter:
    """Makes the rejections of one file's rows: the reason for the data team, and the
    sender's message naming the file, sheet, row, column and value."""

    parsed: ParsedFile
    file_name: str
    language: str

    def header(self, column: str) -> str:
        """The header as the sender wrote it (the canonical name if the file has none)."""
        return self.parsed.columns.get(column, column)

    def __call__(
        self,
        row_number: int,
        column: str,
        cell: object,
        check_id: str,
        reason: str,
        problem: str,
        *,
        column_name: str | None = None,
        raw_value: str | None | object = _CELL,
        unit_code: str | None = None,
        province_code: str | None = None,
        day: date | None = None,
        **details: object,
    ) -> Rejection:
        header = self.parsed.columns.get(column)
        message = messages.render(
            problem,
            self.language,
            file=self.file_name,
            sheet=self.parsed.sheet,
            row=row_number,
            row_kind=self.parsed.row_kind,
            column=self.parsed.letters.get(column),
            header=header if header is not None else column,
            value=cell,
            **details,
        )
        return Rejection(
            row_number,
            column_name if column_name is not None else self.header(column),
            _raw(cell) if raw_value is _CELL else raw_value,
            check_id,
            reason,
            unit_code=unit_code,
            province_code=province_code,
            day=day,
            sheet=self.parsed.sheet,
            header=header,
            message=message,
        )


def _units(registry: UnitMatcher, units: tuple[Unit, ...]) -> str:
    named = [registry.describe(unit) for unit in units[:_NAMED_UNITS]]
    return "; ".join(named) + ("; …" if len(units) > _NAMED_UNITS else "")


def check_report_rows(
    parsed: ParsedFile,
    registry: UnitMatcher,
    *,
    file_name: str,
    arrived_at: datetime,
    campaign: tuple[date, date],
    language: str = messages.DEFAULT_LANGUAGE,
) -> Iterator[dict[str, object] | Rejection]:
    """Validate every row of a parsed report file, lazily: each row becomes a good record
    (a dict) or a Rejection, whose message is in ``language``."""
    context = _province_context(parsed, registry, file_name)
    arrival_day = arrived_at.astimezone(LOCAL_TZ).date()
    reject = _Rejecter(parsed, file_name, language)
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
                problem = reject(
                    row_number,
                    column,
                    values.get(column),
                    "malformed_file",
                    f"{reject.header(column)}: {err}",
                    err.problem,
                )
                break
        code = text_cell(values.get("unit_code"))
        name = text_cell(values.get("unit_name"))
        record.update(unit_code_raw=code, unit_name_raw=name, note=text_cell(values.get("note")))
        if problem is None and record["report_date"] is None:
            problem = reject(
                row_number,
                "report_date",
                None,
                "malformed_file",
                "report_date is empty: every row needs the day it reports on",
                "report_date_empty",
            )
        if problem is None and all(
            record[c] is None for c in ("installs_reported", "staff_installed")
        ):
            figure = next(
                (c for c in ("installs_reported", "staff_installed") if c in parsed.columns),
                "installs_reported",
            )
            problem = reject(
                row_number,
                figure,
                None,
                "malformed_file",
                "no figure: installs_reported or staff_installed is required",
                "no_figure",
                column_name=reject.header("installs_reported"),
            )
        if problem is None:
            match = registry.match(code, name, context)
            if match.unit is None:
                provinces = {unit.province_code for unit in match.candidates}
                # The cell at fault: the code, else the name (a row with neither points at
                # the name column when the file has one).
                named = code or (not name and "unit_name" not in parsed.columns)
                column = "unit_code" if named else "unit_name"
                details: dict[str, object] = {}
                if match.problem == "code_name_mismatch":
                    code_unit, name_unit = match.candidates
                    details = {
                        "code": code,
                        "name": name,
                        "code_unit": registry.describe(code_unit),
                        "name_unit": registry.describe(name_unit),
                    }
                elif match.problem == "unit_name_ambiguous":
                    details = {"candidates": _units(registry, match.suggestions)}
                elif match.problem == "unit_name_unknown_closest":
                    details = {"closest": _units(registry, match.suggestions)}
                problem = reject(
                    row_number,
                    column,
                    values.get(column),
                    match.check_id,
                    match.reason,
                    match.problem or "unit_missing",
                    column_name="unit_code" if code else "unit_name",
                    raw_value=code or name,
                    province_code=provinces.pop() if len(provinces) == 1 else None,
                    day=record["report_date"],
                    **details,
                )
            else:
                record.update(
                    unit_code=match.unit.unit_code,
                    province_code=match.unit.province_code,
                    match_method=match.method,
                )
        if problem is None:
            problem = _check_dates(record, arrived_at, campaign, row_number, values, reject)
        if problem is not None:
            yield _attributed(problem, record, registry, code, name, context)
            continue
        if record["submitted_at"] is None:
            record["submitted_at"] = arrived_at
            record["submitted_at_source"] = "arrival"
        else:
            record["submitted_at_source"] = "column"
        yield record


def _attributed(
    problem: Rejection,
    record: dict[str, object],
    registry: UnitMatcher,
    code: str | None,
    name: str | None,
    context: set[str],
) -> Rejection:
    """A rejected row still says which unit sent it, and for which day, when that can be
    read: the unit's delivery was rejected (DESIGN §4, status ``rejected``), it did not
    "send no report"."""
    if problem.unit_code is not None or problem.check_id != "malformed_file":
        return problem
    match = registry.match(code, name, context)
    if match.unit is None:
        return problem
    day = record.get("report_date")
    return replace(
        problem,
        unit_code=match.unit.unit_code,
        province_code=match.unit.province_code,
        day=day if isinstance(day, date) else None,
    )


def _check_dates(
    record: dict[str, object],
    arrived_at: datetime,
    campaign: tuple[date, date],
    row_number: int,
    values: dict[str, object],
    reject: _Rejecter,
) -> Rejection | None:
    report_date = record["report_date"]
    assert isinstance(report_date, date)
    claimed = record["submitted_at"]
    # A report cannot have been sent after it arrived: the earlier of the two is the send time.
    sent = min(claimed, arrived_at) if isinstance(claimed, datetime) else arrived_at
    sent_day = sent.astimezone(LOCAL_TZ).date()
    unit = {"unit_code": record["unit_code"], "province_code": record["province_code"]}
    written = values.get("report_date")
    if report_date > sent_day:
        return reject(
            row_number,
            "report_date",
            written,
            "out_of_range_date",
            f"report date {report_date.isoformat()} is after the day it was sent "
            f"({sent_day.isoformat()})",
            "report_date_after_sent",
            raw_value=report_date.isoformat(),
            day=report_date,
            sent_day=sent_day,
            **unit,
        )
    if not campaign[0] <= report_date <= campaign[1]:
        return reject(
            row_number,
            "report_date",
            written,
            "out_of_range_date",
            f"report date {report_date.isoformat()} is outside the campaign "
            f"({campaign[0].isoformat()} to {campaign[1].isoformat()})",
            "report_date_outside_campaign",
            raw_value=report_date.isoformat(),
            # The issue belongs to the day it was sent: a mistyped date in July must not
            # place it before the campaign (nor make the marts rebuild from there).
            day=sent_day,
            start=campaign[0],
            end=campaign[1],
            **unit,
        )
    return None
