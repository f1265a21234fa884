"""The campaign simulator: ground truth."""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.faults import FAULT_KINDS, Fault
from bluezone_devtools.simulate.render_reports import render_report
from bluezone_devtools.simulate.report_files import ReportFile, ReportRow
from bluezone_devtools.simulate.units import Unit

TRUTH_REPORT_COLUMNS = (
    "report_date",
    "unit_code",
    "province_code",
    "deadline_local",
    "status",
    "submitted_at_local",
    "minutes_late",
    "submissions_count",
    "installs_reported",
    "staff_total",
    "staff_installed",
    "source_file",
)
FAULT_COLUMNS = (
    "fault_id",
    "kind",
    "unit_code",
    "province_code",
    "day",
    "file",
    "detail",
    "caused_by",
)


@dataclass
class Submission:
    row: ReportRow
    file: ReportFile


def valid_submissions(files: Iterable[ReportFile]) -> dict[tuple[str, date], list[Submission]]:
    """Every valid submission, by (unit code, report date), oldest first.

    A file whose bytes repeat an earlier file of the same unit and day is the same report
    delivered twice, not a second submission, so it is left out.
    """
    found: dict[tuple[str, date], list[Submission]] = {}
    for report in files:
        if not report.valid:
            continue
        for row in report.rows:
            if row.counts_for is not None:
                found.setdefault((row.counts_for.code, row.report_date), []).append(
                    Submission(row, report)
                )
    for key, submissions in found.items():
        submissions.sort(key=lambda s: (_submitted_at(s), s.file.arrival, s.file.path))
        if len(submissions) > 1:
            found[key] = _distinct_deliveries(submissions)
    return found


def _distinct_deliveries(submissions: list[Submission]) -> list[Submission]:
    seen: set[bytes] = set()
    distinct = []
    for submission in submissions:
        digest = hashlib.sha256(render_report(submission.file)).digest()
        if digest not in seen:
            seen.add(digest)
            distinct.append(submission)
    return distinct


def _submitted_at(submission: Submission) -> datetime:
    if submission.file.template.time_style is None:
        return submission.file.arrival
    return submission.row.submitted_at


def truth_report_row(unit: Unit, day: date, submissions: list[Submission]) -> dict[str, Any]:
    """A unit's final reporting state for a day.

    The first valid submission decides on time or late (a unit that reported on time and
    corrected later did report on time); minutes late are whole minutes rounded up; the
    figures are the latest submission's.
    """
    row: dict[str, Any] = dict.fromkeys(TRUTH_REPORT_COLUMNS, "")
    row.update(
        report_date=day.isoformat(),
        unit_code=unit.code,
        province_code=unit.province_code,
        deadline_local=f"{unit.deadline:%H:%M}",
        status="missing",
        submissions_count=len(submissions),
    )
    if submissions:
        first, latest = submissions[0], submissions[-1]
        sent = _submitted_at(first)
        late_by = (sent - unit.deadline_on(day)).total_seconds()
        row.update(
            status="late" if late_by > 0 else "on_time",
            submitted_at_local=f"{sent:%Y-%m-%d %H:%M:%S}",
            minutes_late=math.ceil(late_by / 60) if late_by > 0 else 0,
            installs_reported=_blank(latest.row.installs),
            staff_total=_blank(latest.row.staff_total),
            staff_installed=_blank(latest.row.staff_installed),
            source_file=latest.file.path,
        )
    return row


def _blank(value: int | None) -> Any:
    return "" if value is None else value


def status_faults(truth: dict[str, Any], unit: Unit, day: date) -> list[Fault]:
    """The natural late_report / missing_report manifest row for a unit-day, if any."""
    if truth["status"] == "late":
        after_midnight = truth["submitted_at_local"][:10] != day.isoformat()
        detail = (
            f"submitted {truth['submitted_at_local']}, {truth['minutes_late']} min after "
            f"the {truth['deadline_local']} deadline"
            + (" (after midnight)" if after_midnight else "")
        )
        return [
            Fault("late_report", day, unit.code, unit.province_code, truth["source_file"], detail)
        ]
    if truth["status"] == "missing":
        detail = f"no valid report for {day.isoformat()}"
        return [Fault("missing_report", day, unit.code, unit.province_code, "", detail)]
    return []


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any] | dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[c] for c in columns] if isinstance(row, dict) else row)


def truth_installs_rows(curves: Sequence[ProvinceCurves], days: Sequence[date]) -> Iterable[tuple]:
    for t, day in enumerate(days):
        for c in curves:
            yield (
                day.isoformat(),
                "province",
                c.province.code,
                int(c.total[t]),
                int(c.total_with_phone[t]),
            )
        for c in curves:
            for d, district in enumerate(c.province.districts):
                yield (
                    day.isoformat(),
                    "district",
                    district.code,
                    int(c.installs[d, t]),
                    int(c.with_phone[d, t]),
                )


def assign_fault_ids(faults: list[Fault]) -> list[Fault]:
    """Sort the manifest (day, province, kind, unit, file) and number it F00001..."""
    ordered = sorted(
        faults,
        key=lambda f: (
            f.day,
            f.province_code,
            FAULT_KINDS.index(f.kind),
            f.unit_code,
            f.file,
            f.detail,
        ),
    )
    for n, fault in enumerate(ordered, 1):
        fault.fault_id = f"F{n:05d}"
    return ordered


def fault_rows(faults: Sequence[Fault]) -> Iterable[tuple]:
    for f in faults:
        cause = f.cause.fault_id if f.cause else ""
        yield (
            f.fault_id,
            f.kind,
            f.unit_code,
            f.province_code,
            f.day.isoformat(),
            f.file,
            f.detail,
            cause,
        )
