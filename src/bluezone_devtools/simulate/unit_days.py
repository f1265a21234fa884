"""The campaign simulator: reporting units' profiles, daily plans and name variants."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from bluezone_devtools.simulate.adoption import _logistic
from bluezone_devtools.simulate.export_plan import ExportDay
from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _pick, _stream
from bluezone_devtools.simulate.templates import Template, _template
from bluezone_devtools.simulate.units import COMMITTEE, Area, Unit
from bluezone_warehouse.names import ascii_fold

N_DAY_DRAWS = 12
UNREGISTERED_SENDERS = (
    ("STP", "Sở Tư pháp"),
    ("SXD", "Sở Xây dựng"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn"),
    ("STNMT", "Sở Tài nguyên và Môi trường"),
    ("SKHCN", "Sở Khoa học và Công nghệ"),
    ("TTR", "Thanh tra tỉnh"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp"),
)
# How a committee may write its area's type, by the type as the seed has it: the 2020
# districts' (Quận...) and the 2025 communes' (phường, xã, đặc khu).
TYPE_PREFIXES = {
    "Quận": ("Quận ", "Q. ", "Q.", "quận "),
    "Huyện": ("Huyện ", "H. ", "H.", "huyện "),
    "Thị xã": ("Thị xã ", "TX. ", "TX.", "thị xã ", "Thị Xã "),
    "Thành phố": ("Thành phố ", "TP. ", "TP.", "thành phố ", "Thành Phố "),
    "phường": ("Phường ", "P. ", "P.", "phường "),
    "xã": ("Xã ", "xã ", "X. "),
    "đặc khu": ("Đặc khu ", "đặc khu ", "Đặc Khu "),
}
NOTES = {
    "vi": ("Số liệu đến 14h", "Theo số liệu hệ thống Bluezone", "Đã tuyên truyền tại tổ dân phố"),
    "en": ("figures as of 2pm", "from the Bluezone dashboard", "door-to-door campaign ongoing"),
}
RESUBMISSION_NOTE = {"vi": "Báo cáo lại", "en": "resubmitted"}


@dataclass(frozen=True)
class UnitProfile:
    """A unit's lasting traits and its per-day random draws."""

    unit: Unit
    template: Template
    lateness: float
    absence: float
    staff_total: int
    staff_installed: np.ndarray | None
    reports_staff_installs: bool
    households: np.ndarray | None
    draws: np.ndarray


def _staff_curve(rng: np.random.Generator, staff: int, n_days: int) -> np.ndarray:
    final, first = rng.uniform(0.6, 1.0), rng.uniform(0.05, 0.25)
    rate, midpoint = rng.uniform(0.2, 0.4), rng.uniform(4.0, 12.0)
    t = np.arange(n_days, dtype=float)
    floor = _logistic(-rate * midpoint)
    share = first + (final - first) * (_logistic(rate * (t - midpoint)) - floor) / (1 - floor)
    return np.floor(staff * share + 0.5).astype(np.int64)


def _households_curve(rng: np.random.Generator, population: int, n_days: int) -> np.ndarray:
    households = population / 3.8 * rng.uniform(0.3, 0.8)
    t = np.arange(n_days, dtype=float)
    return np.floor(households * np.minimum(1.0, 0.1 + 0.04 * t)).astype(np.int64)


def unit_profile(
    unit: Unit, n_days: int, seed: int, population: int, agency_template: Template
) -> UnitProfile:
    rng = _stream(seed, "unit", unit.code)
    template = _template(rng, COMMITTEE) if unit.is_committee else agency_template
    lateness = float(np.clip(rng.gamma(2.0, 0.5), 0.1, 4.0))
    absence = float(np.clip(rng.gamma(2.0, 0.5), 0.1, 4.0))
    staff = int(round(math.exp(rng.uniform(math.log(40), math.log(3000)))))
    agency = not unit.is_committee
    return UnitProfile(
        unit=unit,
        template=template,
        lateness=lateness,
        absence=absence,
        staff_total=staff,
        staff_installed=_staff_curve(rng, staff, n_days) if agency else None,
        reports_staff_installs=agency and rng.random() < 0.6,
        households=None if agency else _households_curve(rng, population, n_days),
        draws=rng.random((n_days, N_DAY_DRAWS)),
    )


def committee_name_variant(area: Area, rng: np.random.Generator) -> str:
    """How a committee may write its own name: ``UBND H. Hoà An``, ``TP.Bac Kan``,
    ``P. Ba Đình``..."""
    base = area.base_name if rng.random() < 0.6 else area.alt_base_name
    prefix = _pick(rng, TYPE_PREFIXES[area.kind], [1.0] * len(TYPE_PREFIXES[area.kind]))
    name = ("UBND " if rng.random() < 0.5 else "") + prefix + base
    return ascii_fold(name) if rng.random() < 0.35 else name


def agency_name_variant(unit: Unit, rng: np.random.Generator) -> str:
    """How an agency may write its name: as registered, without diacritics, upper case."""
    options = (unit.name, ascii_fold(unit.name), unit.name.upper(), unit.name.replace(" ", "  ", 1))
    return _pick(rng, options, (0.3, 0.4, 0.15, 0.15))


@dataclass(eq=False)
class UnitDay:
    """What one unit does about one report day, before files are assembled."""

    profile: UnitProfile
    day: date
    index: int
    status: str
    submitted_at: datetime | None
    installs: int | None
    staff_total: int | None
    staff_installed: int | None
    households: int | None
    fmt: str
    export_fresh: bool
    fault: str | None = None
    param: float = 0.0
    export_installs: int | None = None
    export_redelivered: bool = False
    probe: tuple[str, str, int] | None = None  # (check, "at" | "over", sign)
    corrected_late: bool = False  # report_rejected: a correction follows after the deadline

    @property
    def unit(self) -> Unit:
        return self.profile.unit

    @property
    def draws(self) -> np.ndarray:
        return self.profile.draws[self.index]


def _status(profile: UnitProfile, draw: float, rates: FaultRates) -> str:
    missing = min(0.5, rates.missing_report * profile.absence)
    late = min(0.6, rates.late_report * profile.lateness)
    return "missing" if draw < missing else "late" if draw < missing + late else "on_time"


def submission_time(deadline: datetime, status: str, draws: np.ndarray, seconds: bool) -> datetime:
    """When a unit sends its report: mostly 1-6 h before the deadline, late up to next morning."""
    bucket, offset, second = draws[1], draws[2], int(draws[3] * 60) if seconds else 0
    if status == "on_time":
        if bucket < 0.03:
            return deadline
        minutes = 1 + int(offset * 59) if bucket < 0.15 else 60 + int(offset * 300)
        return deadline - timedelta(minutes=minutes) + timedelta(seconds=second)
    if bucket < 0.70:
        minutes = 1 + int(offset * 59)
    elif bucket < 0.88:
        minutes = 61 + int(offset * 299)
    else:
        to_midnight = 24 * 60 - (deadline.hour * 60 + deadline.minute)
        minutes = to_midnight + 1 + int(offset * 539)
    return deadline + timedelta(minutes=minutes, seconds=second)


def _day_format(profile: UnitProfile, draws: np.ndarray) -> str:
    usual = profile.template.fmt
    if not profile.unit.is_committee or draws[5] >= 0.1:
        return usual
    others = [fmt for fmt in ("csv", "xlsx", "json") if fmt != usual]
    return others[int(draws[6] * len(others))]


def plan_unit_days(
    profile: UnitProfile,
    days: Sequence[date],
    export_row: np.ndarray | None,
    plan: Sequence[ExportDay],
    rates: FaultRates,
    absent: np.ndarray | None = None,
) -> list[UnitDay]:
    """A unit's status, submission time and figures on each day it is expected to report;
    ``absent`` marks the days the export leaves out the unit's area."""
    unit, template = profile.unit, profile.template
    seconds = template.time_style != "dmy_hm"
    reported = 0
    unit_days = []
    for t, day in enumerate(days):
        draws = profile.draws[t]
        installs = staff_installed = households = None
        if export_row is not None:
            noisy = int(round(export_row[t] * (1 + 0.03 * (2 * draws[4] - 1))))
            reported = max(reported, noisy)
            installs = reported
            households = None if draws[10] < 0.1 else int(profile.households[t])
        else:
            staff_installed = int(profile.staff_installed[t])
            installs = staff_installed if profile.reports_staff_installs else None
        if not unit.active_on(day):
            continue
        status = _status(profile, draws[0], rates)
        sent = None
        if status != "missing":
            sent = submission_time(unit.deadline_on(day), status, draws, seconds)
        unit_days.append(
            UnitDay(
                profile=profile,
                day=day,
                index=t,
                status=status,
                submitted_at=sent,
                installs=installs,
                staff_total=None if export_row is not None else profile.staff_total,
                staff_installed=staff_installed,
                households=households,
                fmt=_day_format(profile, draws),
                export_fresh=not plan[t].stale and not (absent is not None and absent[t]),
                export_installs=None if export_row is None else int(export_row[t]),
                export_redelivered=len(plan[t].deliveries) > 1,
            )
        )
    return unit_days
