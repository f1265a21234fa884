"""The campaign simulator: report files: rows and files, assembled per province and day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import numpy as np

from bluezone_devtools.simulate.definitions import Limits, fmt
from bluezone_devtools.simulate.faults import Fault, Probe
from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _stream
from bluezone_devtools.simulate.templates import Template
from bluezone_devtools.simulate.unit_days import (
    NOTES,
    RESUBMISSION_NOTE,
    UNREGISTERED_SENDERS,
    UnitDay,
    agency_name_variant,
    committee_name_variant,
)
from bluezone_devtools.simulate.units import Province, Unit
from bluezone_warehouse.names import slug


@dataclass(eq=False)
class ReportRow:
    """One row as a unit wrote it; ``counts_for`` is the unit it validly reports for, and
    ``rejected_for`` the unit a rejected row still names readably, with its report date
    (an unreadable figure or time): its file is a rejected delivery for that unit-day."""

    report_date: date
    unit_code: str
    unit_name: str
    submitted_at: datetime
    installs: int | None = None
    staff_total: int | None = None
    staff_installed: int | None = None
    households: int | None = None
    note: str = ""
    rate: float | None = None
    bad_value: str | None = None
    bad_time: str | None = None
    counts_for: Unit | None = None
    rejected_for: Unit | None = None
    faults: list[Fault] = field(default_factory=list)


@dataclass(eq=False)
class ReportFile:
    name: str
    fmt: str
    template: Template
    rows: list[ReportRow]
    title: str = ""
    subtitle: str = ""
    corruption: str | None = None
    arrival_at: datetime | None = None
    faults: list[Fault] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"reports/{self.name}"

    @property
    def arrival(self) -> datetime:
        return self.arrival_at or max(row.submitted_at for row in self.rows)

    @property
    def valid(self) -> bool:
        return self.corruption is None


CORRUPTIONS = {
    "csv": ("missing_column", "bad_value", "empty"),
    "xlsx": ("truncated", "missing_column", "bad_value"),
    "json": ("truncated", "missing_column", "bad_value"),
}
AGENCY_CORRUPTIONS = {"csv": ("missing_column", "empty"), "xlsx": ("truncated", "missing_column")}
BAD_VALUES = {"vi": ("khoảng 70 nghìn", "7O.264", "#REF!"), "en": ("about 70k", "7O,264", "#REF!")}
BAD_TIMES = {"vi": ("chiều nay", "trước 16h", "#VALUE!"), "en": ("this afternoon", "before 4pm")}
CORRUPTION_TEXT = {
    "truncated": "file truncated (unreadable)",
    "missing_column": "required column report_date missing",
    "bad_value": "unparseable installs value",
    "bad_time": "unparseable time sent",
    "empty": "empty file (0 bytes)",
}


class ReportBuilder:
    """Turns a province-day's unit plans into report files, rows and report faults."""

    def __init__(self, province: Province, day: date, index: int, seed: int, rates: FaultRates):
        self.province, self.day, self.index = province, day, index
        self.seed, self.rates = seed, rates
        self.files: list[ReportFile] = []
        self.probes: list[Probe] = []
        self.areas = {d.code: d for d in province.areas}
        self.stamp = f"{day:%Y%m%d}_{province.code}"

    def rng(self, *keys: object) -> np.random.Generator:
        return _stream(self.seed, "report", self.province.code, self.index, *keys)

    # rows --------------------------------------------------------------------------

    def _identity(self, unit_day: UnitDay) -> tuple[str, str]:
        unit = unit_day.unit
        if unit_day.draws[7] >= self.rates.blank_unit_code or not unit.name_is_unique:
            return unit.code, unit.name
        rng = self.rng("name", unit.code)
        if unit.is_committee:
            return "", committee_name_variant(self.areas[unit.area_code], rng)
        return "", agency_name_variant(unit, rng)

    def _note(self, unit_day: UnitDay, resubmitted: bool) -> str:
        lang = unit_day.profile.template.lang
        if resubmitted:
            return RESUBMISSION_NOTE[lang]
        notes = NOTES[lang]
        draw = unit_day.draws[9]
        return notes[int(draw * 10)] if draw < 0.3 else ""

    def row(self, unit_day: UnitDay, sent: datetime, *, resubmitted: bool = False) -> ReportRow:
        code, name = self._identity(unit_day)
        rate = None
        if unit_day.installs is not None and unit_day.unit.is_committee:
            population = self.areas[unit_day.unit.area_code].population
            rate = 100.0 * unit_day.installs / population
        return ReportRow(
            report_date=self.day,
            unit_code=code,
            unit_name=name,
            submitted_at=sent,
            installs=unit_day.installs,
            staff_total=unit_day.staff_total,
            staff_installed=unit_day.staff_installed,
            households=unit_day.households,
            note=self._note(unit_day, resubmitted),
            rate=rate,
            counts_for=unit_day.unit,
        )

    # files -------------------------------------------------------------------------

    def add_file(
        self, name: str, fmt: str, template: Template, rows: list[ReportRow]
    ) -> ReportFile:
        taken = {f.name for f in self.files}
        stem, n = name, 2
        while f"{name}.{fmt}" in taken:
            name, n = f"{stem}-{n}", n + 1
        report = ReportFile(f"{name}.{fmt}", fmt, template, rows)
        unit_name = rows[0].unit_name if rows else ""
        report.title = "BÁO CÁO KẾT QUẢ CÀI ĐẶT ỨNG DỤNG BLUEZONE"
        report.subtitle = f"Đơn vị: {unit_name} - Số liệu đến ngày {self.day:%d/%m/%Y}"
        self.files.append(report)
        return report

    def committee_files(self, unit_day: UnitDay) -> None:
        """An area's committee's own file(s) for the day, with its fault if any."""
        unit = unit_day.unit
        area = self.areas[unit.area_code]
        stem = f"{self.stamp}_{slug(area.name_full)}"
        fault, sent = unit_day.fault, unit_day.submitted_at
        template, fmt = unit_day.profile.template, unit_day.fmt
        if fault == "malformed_file":
            self._malformed_then_fixed(unit_day, stem)
            return
        if fault == "report_rejected":
            self._rejected(unit_day, stem)
            return
        if fault in ("conflicting_resubmission", "benign_resubmission"):
            self._resubmitted(unit_day, stem, fmt, template)
            return
        row = self.row(unit_day, sent)
        report = self.add_file(stem, fmt, template, [row])
        self._row_faults(unit_day, report, row)

    def _malformed_then_fixed(self, unit_day: UnitDay, stem: str) -> None:
        template, fmt = unit_day.profile.template, unit_day.fmt
        sent = unit_day.submitted_at
        earlier = sent - timedelta(minutes=10 + int(unit_day.param * 50))
        bad_row = self.row(unit_day, earlier)
        bad_row.counts_for = None
        bad = self.add_file(stem, fmt, template, [bad_row])
        variants = CORRUPTIONS[fmt]
        bad.corruption = variants[int(unit_day.param * 1000) % len(variants)]
        if bad.corruption == "bad_value":
            options = BAD_VALUES[template.lang]
            bad_row.bad_value = options[int(unit_day.param * 100) % len(options)]
            bad_row.rejected_for = unit_day.unit  # its code or name and its date can be read
        bad.faults.append(
            self._fault("malformed_file", unit_day.unit, bad, CORRUPTION_TEXT[bad.corruption])
        )
        self.add_file(f"{stem}_lan2", fmt, template, [self.row(unit_day, sent, resubmitted=True)])

    def _rejected(self, unit_day: UnitDay, stem: str) -> None:
        """One file whose row names the unit and the day readably but whose figure (or time
        sent) cannot be read: the row is rejected (malformed_file) and the unit-day with
        it (report_rejected), unless the unit corrects it after its deadline (late, and
        rejected at the deadline)."""
        template, fmt, unit = unit_day.profile.template, unit_day.fmt, unit_day.unit
        bad_row = self.row(unit_day, unit_day.submitted_at)
        bad_row.counts_for, bad_row.rejected_for = None, unit
        bad = self.add_file(stem, fmt, template, [bad_row])
        param = unit_day.param
        if template.time_style is not None and int(param * 1000) % 2:
            bad.corruption, options = "bad_time", BAD_TIMES[template.lang]
            bad_row.bad_time = options[int(param * 100) % len(options)]
        else:
            bad.corruption, options = "bad_value", BAD_VALUES[template.lang]
            bad_row.bad_value = options[int(param * 100) % len(options)]
        what = CORRUPTION_TEXT[bad.corruption]
        bad.faults.append(self._fault("malformed_file", unit, bad, what))
        deadline = unit.deadline_on(self.day)
        if not unit_day.corrected_late:
            detail = f"{what} in the only report sent, at {bad_row.submitted_at:%H:%M}"
            bad.faults.append(self._fault("report_rejected", unit, bad, detail))
            return
        sent = deadline + timedelta(minutes=20 + int(param * 160))
        fixed = self.add_file(
            f"{stem}_lan2", fmt, template, [self.row(unit_day, sent, resubmitted=True)]
        )
        detail = (
            f"{what} in {bad.path} (sent {bad_row.submitted_at:%H:%M}, rejected at the "
            f"{deadline:%H:%M} deadline), corrected at {sent:%H:%M}"
        )
        fixed.faults.append(self._fault("late_report", unit, fixed, detail))

    def _resubmitted(self, unit_day: UnitDay, stem: str, fmt: str, template: Template) -> None:
        sent = unit_day.submitted_at
        earlier = sent - timedelta(minutes=20 + int(unit_day.param * 160))
        first_row = self.row(unit_day, earlier)
        conflicting = unit_day.fault == "conflicting_resubmission"
        if conflicting:
            self._change_figures(first_row, unit_day)
        first = self.add_file(stem, fmt, template, [first_row])
        second = self.add_file(
            f"{stem}_lan2", fmt, template, [self.row(unit_day, sent, resubmitted=True)]
        )
        if conflicting:
            detail = (
                f"first submission {self._figure(first_row)} in {first.path}, resubmitted "
                f"{self._figure(second.rows[0])}"
            )
            second.faults.append(
                self._fault("conflicting_resubmission", unit_day.unit, second, detail)
            )

    @staticmethod
    def _figure(row: ReportRow) -> str:
        if row.counts_for is not None and not row.counts_for.is_committee:
            return f"staff_installed {row.staff_installed}"
        return f"installs {row.installs}"

    def _change_figures(self, row: ReportRow, unit_day: UnitDay) -> None:
        if not unit_day.unit.is_committee:
            installed = row.staff_installed or 0
            row.staff_installed = max(
                0, installed - max(1, int(installed * (0.02 + 0.08 * unit_day.param)))
            )
            row.installs = row.staff_installed if row.installs is not None else None
            return
        exported = unit_day.export_installs or unit_day.installs or 0
        current = row.installs or 0
        lower = current - max(1, int(round(exported * (0.005 + 0.015 * unit_day.param))))
        row.installs = (
            lower if lower >= exported * 0.97 else current + max(1, int(exported * 0.005))
        )

    def _row_faults(self, unit_day: UnitDay, report: ReportFile, row: ReportRow) -> None:
        """Faults carried by a unit's valid row: mismatch, staff, out-of-range extra row;
        and the row's boundary probe, if it has one."""
        if unit_day.probe is not None:
            self._probe(unit_day, report, row)
        fault = unit_day.fault
        if fault == "report_export_mismatch":
            exported = unit_day.export_installs
            off = (0.15 + 0.25 * unit_day.param) * (1 if unit_day.draws[11] < 0.5 else -1)
            row.installs = int(round(exported * (1 + off)))
            detail = f"reported {row.installs} vs export {exported} ({off:+.0%})"
            row.faults.append(self._fault(fault, unit_day.unit, report, detail))
        elif fault == "staff_installed_exceeds_total":
            installed = row.staff_installed
            row.staff_total = installed - max(
                1, int(round((0.02 + 0.18 * unit_day.param) * installed))
            )
            detail = f"staff_installed {installed} > staff_total {row.staff_total}"
            row.faults.append(self._fault(fault, unit_day.unit, report, detail))
        elif fault == "out_of_range_date":
            report.rows.append(self._out_of_range_row(unit_day, row, report))
        elif fault == "code_name_mismatch" and (
            extra := self._mismatched_row(unit_day, row, report)
        ):
            report.rows.append(extra)

    def _probe(self, unit_day: UnitDay, report: ReportFile, row: ReportRow) -> None:
        """Set the row's figures exactly at a threshold ("at") or just over it ("over")."""
        check, side, sign = unit_day.probe
        over = 1 if side == "over" else 0
        unit = unit_day.unit
        if check == "report_export_mismatch":
            exported = unit_day.export_installs
            limit = Limits.from_catalogue().report_export_mismatch_max
            row.installs = int(exported + sign * (exported * limit + over))
            observed = f"{row.installs} vs export {exported}"
            bound = f"|difference| <= {fmt(limit)} of the export"
        elif check == "staff_installed_exceeds_total":
            row.staff_total = row.staff_installed - over
            observed, bound = str(row.staff_installed), f"<= staff_total {row.staff_total}"
        else:
            observed = f"sent {row.submitted_at:%Y-%m-%d %H:%M:%S}"
            bound = f"<= deadline {unit.deadline_on(self.day):%Y-%m-%d %H:%M}"
        self.probes.append(
            Probe(
                check,
                side,
                unit.code,
                self.province.code,
                self.day,
                observed,
                bound,
                flagged=side == "over",
                what=f"{observed} ({report.path})",
            )
        )

    def _out_of_range_row(self, unit_day: UnitDay, row: ReportRow, report: ReportFile) -> ReportRow:
        sent_day = row.submitted_at.date()
        if unit_day.param < 0.5:
            bad_day = sent_day + timedelta(days=1 + int(unit_day.param * 4))
            why = f"report date {bad_day} is after the day it was sent ({sent_day})"
        else:
            bad_day = self.day - timedelta(days=(self.index + 1 + int(unit_day.param * 6)))
            why = f"report date {bad_day} is before the campaign (sent {sent_day})"
        extra = replace(row, report_date=bad_day, counts_for=None, faults=[])
        fault = self._fault("out_of_range_date", unit_day.unit, report, why)
        fault.day = sent_day
        extra.faults.append(fault)
        return extra

    def _mismatched_row(
        self, unit_day: UnitDay, row: ReportRow, report: ReportFile
    ) -> ReportRow | None:
        """A copy of the unit's row with its code kept and another unit's name written in."""
        unit = unit_day.unit
        others = [
            u
            for u in self.province.units
            if u.code != unit.code and u.kind == unit.kind and u.name_is_unique
        ]
        if not others:
            return None
        other = others[int(unit_day.param * len(others)) % len(others)]
        extra = replace(row, unit_code=unit.code, unit_name=other.name, counts_for=None, faults=[])
        detail = f"code {unit.code} is {unit.name}, name '{other.name}' is {other.code}"
        extra.faults.append(self._fault("code_name_mismatch", unit, report, detail))
        return extra

    def _fault(self, kind: str, unit: Unit | None, report: ReportFile, detail: str) -> Fault:
        return Fault(
            kind,
            self.day,
            unit.code if unit else "",
            self.province.code,
            report.path,
            detail,
        )

    # agencies ------------------------------------------------------------------------

    def agency_files(self, unit_days: Sequence[UnitDay], template: Template, broken: bool) -> None:
        """The consolidated agency file, plus own files for late agencies and resubmissions."""
        main_rows: list[tuple[UnitDay, ReportRow]] = []
        resubmissions: list[UnitDay] = []
        for unit_day in unit_days:
            if unit_day.status == "missing":
                continue
            if unit_day.status == "late":
                own = f"{self.stamp}_so-nganh_{unit_day.unit.short_code}"
                row = self.row(unit_day, unit_day.submitted_at)
                report = self.add_file(own, template.fmt, template, [row])
                self._row_faults(unit_day, report, row)
                continue
            sent = unit_day.submitted_at
            if unit_day.fault in ("conflicting_resubmission", "benign_resubmission"):
                sent = sent - timedelta(minutes=20 + int(unit_day.param * 160))
                resubmissions.append(unit_day)
            row = self.row(unit_day, sent)
            if unit_day.fault == "conflicting_resubmission":
                self._change_figures(row, unit_day)
            main_rows.append((unit_day, row))
        if main_rows:
            self._main_agency_file(main_rows, template, broken)
        for unit_day in resubmissions:
            self._agency_resubmission(unit_day, template, main_rows)

    def _main_agency_file(
        self, main_rows: list[tuple[UnitDay, ReportRow]], template: Template, broken: bool
    ) -> None:
        rows = [row for _, row in main_rows]
        report = self.add_file(f"{self.stamp}_so-nganh", template.fmt, template, rows)
        report.subtitle = (
            f"Tổng hợp các sở, ban, ngành tỉnh {self.province.name} - ngày {self.day:%d/%m/%Y}"
        )
        if broken:
            self._break_agency_file(report, template)
            return
        for unit_day, row in main_rows:
            self._row_faults(unit_day, report, row)

    def _break_agency_file(self, report: ReportFile, template: Template) -> None:
        rng = self.rng("agency-malformed")
        variants = AGENCY_CORRUPTIONS[template.fmt]
        report.corruption = variants[int(rng.integers(0, len(variants)))]
        fixed_rows = [replace(row, faults=[]) for row in report.rows]
        for row in report.rows:
            row.counts_for = None
        detail = CORRUPTION_TEXT[report.corruption]
        report.faults.append(self._fault("malformed_file", None, report, detail))
        fixed = self.add_file(f"{self.stamp}_so-nganh_lan2", template.fmt, template, fixed_rows)
        fixed.subtitle = report.subtitle
        fixed.arrival_at = report.arrival + timedelta(minutes=10 + int(rng.integers(0, 50)))

    def _agency_resubmission(
        self, unit_day: UnitDay, template: Template, main_rows: list[tuple[UnitDay, ReportRow]]
    ) -> None:
        own = f"{self.stamp}_so-nganh_{unit_day.unit.short_code}_lan2"
        second = self.add_file(
            own,
            template.fmt,
            template,
            [self.row(unit_day, unit_day.submitted_at, resubmitted=True)],
        )
        if unit_day.fault == "conflicting_resubmission":
            first = next(row for ud, row in main_rows if ud is unit_day)
            detail = (
                f"first submission {self._figure(first)} in reports/{self.stamp}_so-nganh."
                f"{template.fmt}, resubmitted {self._figure(second.rows[0])}"
            )
            second.faults.append(
                self._fault("conflicting_resubmission", unit_day.unit, second, detail)
            )

    # unknown senders -------------------------------------------------------------------

    def unknown_row(
        self, registry_codes: set[str], sent: datetime, rng: np.random.Generator
    ) -> ReportRow:
        senders = [
            s for s in UNREGISTERED_SENDERS if f"{self.province.code}-{s[0]}" not in registry_codes
        ]
        abbreviation, name = senders[int(rng.integers(0, len(senders)))]
        staff = int(rng.integers(40, 800))
        installed = int(staff * rng.uniform(0.3, 0.9))
        return ReportRow(
            report_date=self.day,
            unit_code=f"{self.province.code}-{abbreviation}" if rng.random() < 0.5 else "",
            unit_name=f"{name} {self.province.name}",
            submitted_at=sent,
            installs=installed if rng.random() < 0.5 else None,
            staff_total=staff,
            staff_installed=installed,
        )

    def add_unknown(self, count: int, registry_codes: set[str], template: Template) -> None:
        """Rows from senders outside the registry: in the agency file, or a file of their own."""
        for k in range(count):
            rng = self.rng("unknown", k)
            main = next(
                (f for f in self.files if f.name.startswith(f"{self.stamp}_so-nganh.")), None
            )
            if main is not None and main.valid and rng.random() < 0.5:
                times = sorted(row.submitted_at for row in main.rows)
                row = self.unknown_row(registry_codes, times[int(rng.integers(0, len(times)))], rng)
                main.rows.append(row)
                report = main
            else:
                deadline = datetime.combine(self.day, time(16, 0))
                sent = deadline - timedelta(minutes=int(rng.integers(60, 360)))
                row = self.unknown_row(registry_codes, sent, rng)
                report = self.add_file(
                    f"{self.stamp}_{slug(row.unit_name)}", template.fmt, template, [row]
                )
            what = f"code '{row.unit_code}'" if row.unit_code else "blank code"
            detail = f"{what} and name '{row.unit_name}' match no registry unit"
            fault = self._fault("unknown_unit", None, report, detail)
            fault.unit_code = row.unit_code
            row.faults.append(fault)
