"""The campaign simulator: ground truth.

``faults.csv`` lists every flag DESIGN §5 calls for on the campaign once everything has
arrived: the injected faults (each raising its flag by construction), the boundary probes'
flagged side, and what the figures and the units' behaviour call for by themselves, as
``definitions`` computes it from the simulated values. ``Oracle`` gives the same for any
moment of the campaign (what had arrived by then), for a day-by-day replay.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.definitions import (
    Expected,
    ExportView,
    Rejection,
    export_expectations,
    report_expectations,
    stale_expectations,
    status_at_deadline,
    unit_day_state,
)
from bluezone_devtools.simulate.definitions import (
    Submission as DesignSubmission,
)
from bluezone_devtools.simulate.faults import Fault, Probe, kind_rank
from bluezone_devtools.simulate.render_reports import render_report
from bluezone_devtools.simulate.report_files import CORRUPTION_TEXT, ReportFile, ReportRow
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
    "status_at_deadline",
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
    "observed",
    "limit",
    "origin",
)
PROBE_COLUMNS = (
    "probe_id",
    "check",
    "side",
    "unit_code",
    "province_code",
    "day",
    "observed",
    "limit",
    "flagged",
    "fault_id",
    "what",
)
CHECKED_AT_INGESTION = ("malformed_file", "unknown_unit", "out_of_range_date", "code_name_mismatch")


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


def rejected_deliveries(files: Iterable[ReportFile]) -> dict[tuple[str, date], list[Rejection]]:
    """Every rejected delivery, by (unit code, report date), in arrival order: a file with a
    row that names the unit and the day readably but was rejected, and no accepted row for
    that unit and day (DESIGN §4). A file that cannot be read at all names no unit."""
    found: dict[tuple[str, date], list[Rejection]] = {}
    for report in files:
        accepted = (
            {(row.counts_for.code, row.report_date) for row in report.rows if row.counts_for}
            if report.valid
            else set()
        )
        reason = CORRUPTION_TEXT.get(report.corruption or "", "")
        for row in report.rows:
            if row.rejected_for is None:
                continue
            key = (row.rejected_for.code, row.report_date)
            if key not in accepted:
                found.setdefault(key, []).append(
                    Rejection(*key, report.arrival, report.path, reason)
                )
    for rejections in found.values():
        rejections.sort(key=lambda r: (r.received_at, r.file))
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


def _as_design(code: str, day: date, submission: Submission) -> DesignSubmission:
    """A submission as DESIGN §4 reads it: its times and figures."""
    row = submission.row
    return DesignSubmission(
        code,
        day,
        _submitted_at(submission),
        submission.file.arrival,
        submission.file.path,
        row.installs,
        row.staff_total,
        row.staff_installed,
        row.households,
    )


def _submitted_at(submission: Submission) -> datetime:
    """DESIGN §4's sent_at: the earlier of the claimed time (if any) and the arrival."""
    if submission.file.template.time_style is None:
        return submission.file.arrival
    return min(submission.row.submitted_at, submission.file.arrival)


def truth_report_row(
    unit: Unit,
    day: date,
    submissions: list[Submission],
    rejections: Sequence[Rejection] = (),
) -> dict[str, Any]:
    """A unit's final reporting state for a day.

    The first valid submission decides on time or late (a unit that reported on time and
    corrected later did report on time); with none, a rejected delivery makes the day
    rejected, nothing at all missing. Minutes late are whole minutes rounded up; the
    figures are the latest submission's; the status at the deadline is what had arrived
    by then (DESIGN §4).
    """
    deadline = unit.deadline_on(day)
    arrived = [_as_design(unit.code, day, s) for s in submissions]
    row: dict[str, Any] = dict.fromkeys(TRUTH_REPORT_COLUMNS, "")
    row.update(
        report_date=day.isoformat(),
        unit_code=unit.code,
        province_code=unit.province_code,
        deadline_local=f"{unit.deadline:%H:%M}",
        status="rejected" if rejections else "missing",
        submissions_count=len(submissions),
        status_at_deadline=status_at_deadline(arrived, rejections, deadline),
    )
    if submissions:
        first, latest = submissions[0], submissions[-1]
        sent = _submitted_at(first)
        late_by = (sent - deadline).total_seconds()
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
            for d, area in enumerate(c.province.areas):
                yield (
                    day.isoformat(),
                    c.province.area_level,
                    area.code,
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
            kind_rank(f.kind),
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
            f.observed,
            f.limit,
            f.origin,
        )


def probe_rows(probes: Sequence[Probe]) -> Iterable[tuple]:
    ordered = sorted(probes, key=lambda p: (p.check, p.day, p.province_code, p.unit_code, p.side))
    for n, p in enumerate(ordered, 1):
        yield (
            f"P{n:04d}",
            p.check,
            p.side,
            p.unit_code,
            p.province_code,
            p.day.isoformat(),
            p.observed,
            p.limit,
            "yes" if p.flagged else "no",
            p.fault.fault_id if p.fault else "",
            p.what,
        )


# -- what DESIGN §5 calls for at a moment of the campaign -----------------------------------


class Oracle:
    """The flags DESIGN §5 calls for on what had arrived by a moment of the campaign.

    ``expected(None, last_day)`` is the final state (everything arrived); a daily run for
    day D at 02:00 on D+1 is ``expected(D+1 02:00, D)``, a deadline refresh on D at 16:00
    ``expected(D 16:00, D)``. Times are local, naive (as the simulator keeps them).
    """

    def __init__(self, campaign: Any):  # a simulate.campaign.Campaign (which imports this)
        self.campaign = campaign
        self.limits = campaign.limits
        files = [f for day in campaign.files_by_day for f in day]
        self.submissions: dict[tuple[str, date], list[DesignSubmission]] = {
            (code, day): [_as_design(code, day, s) for s in found]
            for (code, day), found in valid_submissions(files).items()
        }
        self.rejections = rejected_deliveries(files)
        self.ingestion = [
            (report.arrival, fault)
            for report in files
            for fault in [*report.faults, *(f for row in report.rows for f in row.faults)]
            if fault.kind in CHECKED_AT_INGESTION
        ]

    def views(self, moment: datetime | None, run_date: date) -> list[ExportView]:
        """Each province's export as the warehouse has it at ``moment``, up to ``run_date``."""
        campaign = self.campaign
        n = sum(day <= run_date for day in campaign.days)
        newest = [day.newest_by(moment) for day in campaign.plan[:n]]
        views = []
        for series, blank in zip(campaign.exports, campaign.phone_masks, strict=True):
            code = series.province.code
            installs, total = series.installs[:, :n].copy(), series.total[:n].copy()
            phones = np.vstack([series.total_with_phone, series.with_phone])[:, :n].copy()
            for t, delivery in enumerate(newest):
                if delivery is not None and delivery is not campaign.plan[t].final:
                    draft = campaign.drafts[(code, t)]
                    installs[:, t], total[t] = draft.installs[:, t], draft.total[t]
                    phones[:, t] = np.concatenate(
                        [[draft.total_with_phone[t]], draft.with_phone[:, t]]
                    )
            phones[blank[:, :n]] = -1
            arrived = np.array([d is not None for d in newest], dtype=bool)
            views.append(
                ExportView(
                    series.province,
                    campaign.days[:n],
                    installs,
                    total,
                    arrived,
                    with_phone=phones,
                    absent=series.absent[:, :n].copy(),
                )
            )
        return views

    def expected(self, moment: datetime | None, run_date: date | None = None) -> list[Expected]:
        campaign = self.campaign
        run_date = run_date or campaign.days[-1]
        views = self.views(moment, run_date)
        found: list[Expected] = []
        n = len(views[0].days) if views else 0
        files = [d.newest_by(moment) for d in campaign.plan[:n]]
        for view in views:
            for e in export_expectations(view, self.limits):
                t = campaign.days.index(e.day)
                found.append(_with_file(e, files[t].path if files[t] else ""))
        if views:
            due = [moment is None or day.due <= moment for day in campaign.plan[:n]]
            found += stale_expectations(views[0].days, views[0].arrived, run_date, due)
        found += self._reports(views, moment, run_date)
        found += [
            Expected(f.kind, f.unit_code, f.province_code, f.day, "", "", f.file)
            for arrival, f in self.ingestion
            if moment is None or arrival <= moment
        ]
        return found

    def _reports(
        self, views: list[ExportView], moment: datetime | None, run_date: date
    ) -> list[Expected]:
        found = []
        for province, view in zip(self.campaign.provinces, views, strict=True):
            area_index = {d.code: k for k, d in enumerate(province.areas)}
            present = view.present
            for unit in province.units:
                for t, day in enumerate(view.days):
                    if not unit.active_on(day) or day > run_date:
                        continue
                    state = unit_day_state(
                        unit.code,
                        province.code,
                        day,
                        unit.deadline_on(day),
                        self.submissions.get((unit.code, day), []),
                        moment,
                        self.rejections.get((unit.code, day), []),
                    )
                    committee = unit.is_committee
                    exported = None
                    d = area_index.get(unit.area_code)
                    if committee and present[d + 1, t]:
                        exported = int(view.installs[d, t])
                    found += report_expectations(state, exported, committee, self.limits)
        return found


def _with_file(expected: Expected, file: str) -> Expected:
    return Expected(
        expected.check,
        expected.unit_code,
        expected.province_code,
        expected.day,
        expected.observed,
        expected.limit,
        file,
    )


def manifest(
    expected: Sequence[Expected], injected: Sequence[Fault], probes: Sequence[Probe]
) -> list[Fault]:
    """``faults.csv``'s rows: every expected flag, told by the injection or probe that placed
    it, or marked ``natural``; injected faults the definitions do not confirm stay listed
    (a unit test holds that there are none), and so do the re-deliveries."""
    by_key: dict[tuple, Fault] = {}
    for fault in injected:
        if fault.kind not in CHECKED_AT_INGESTION and fault.kind != "redelivery":
            by_key.setdefault(fault.key, fault)
    probe_by_key = {(p.check, p.unit_code, p.day): p for p in probes if p.flagged}
    probe_by_unit = {(p.check, p.unit_code): p for p in probes}
    stale_days = sorted(f.day for f in injected if f.kind == "stale_export")
    rows: list[Fault] = []
    used: set[int] = set()
    for e in expected:
        if e.check in CHECKED_AT_INGESTION:
            continue
        key = (e.check, e.unit_code, e.day)
        fault = by_key.get(key)
        probe = probe_by_key.get(key)
        if fault is None:
            fault = Fault(e.check, e.day, e.unit_code, e.province_code, e.file)
            if probe is not None:
                fault.origin, fault.detail = "boundary", probe.what
            else:
                fault.origin = "natural"
                fault.detail, fault.cause = _natural_detail(e, stale_days, by_key)
                near = probe_by_unit.get((e.check, e.unit_code))
                if near is not None and fault.cause is None:
                    fault.detail = f"on the way to a boundary probe: {near.what}"
        elif probe is not None:
            fault.origin = "boundary"
        fault.observed, fault.limit = e.observed, e.limit
        used.add(id(fault))
        rows.append(fault)
    rows += [f for f in injected if id(f) not in used]
    ordered = assign_fault_ids(rows)
    by_row_key = {f.key: f for f in ordered}
    for probe in probes:
        probe.fault = by_row_key.get((probe.check, probe.unit_code, probe.day))
    return ordered


def _natural_detail(
    expected: Expected, stale_days: Sequence[date], by_key: dict[tuple, Fault]
) -> tuple[str, Fault | None]:
    if expected.check == "late_report":
        return f"{expected.observed}, deadline {expected.limit.removeprefix('<= ')}", None
    if expected.check == "missing_report":
        return f"no valid report for {expected.day.isoformat()}", None
    if expected.check == "report_rejected":
        return f"{expected.observed}, none corrected", None
    if expected.check == "outlier_increment":
        gaps = [d for d in stale_days if 0 <= (expected.day - d).days <= 14]
        if gaps:
            cause = by_key.get(("stale_export", "VN", gaps[-1]))
            days = ", ".join(d.isoformat() for d in gaps)
            return f"increments spread over the missing export of {days}", cause
    return "arises from the simulated figures, not injected", None
