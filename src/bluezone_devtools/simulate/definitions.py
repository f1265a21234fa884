"""The campaign simulator: what DESIGN §5 says must be flagged, from the simulated values.

This is the ground truth of the data-quality checks, written from DESIGN's words over the
simulator's own arrays and report rows, never from the warehouse's SQL. It is computed
after the faults are injected and nothing is kept or dropped because of it: an injected
fault says by construction which flag it must raise, and this computes every flag the
values call for, the ones nobody injected (a province's own series crossing a threshold,
increments spread over a missing export) included.

Arithmetic is exact (integers and fractions): DESIGN's "5 %" is 1/20, its 0.6745 is
6745/10000, so a value set exactly at a threshold is exactly at it here. The thresholds
come from their one home, the dbt vars, through ``bluezone_warehouse.checks``.

Where DESIGN is silent, the reading used (and why) is stated beside the code; where its
words differ from the warehouse's SQL, its words are used:

- ``outlier_increment``: "(only above a minimum volume)": an increment equal to the
  minimum volume is not above it. The modified z-score has no value when the MAD is zero
  (no verdict from it then); an interpolated day (no export) is not an observed increment
  and is never flagged; at least ``outlier_min_history`` trailing increments are needed.
- ``coverage_over_100``: DESIGN §4, "values over 100 % are kept and flagged — for every
  denominator, adults included": installs above any of the unit's denominators (total
  population, 15+, 18+ estimate, estimated smartphone owners) are flagged.
- ``late_report`` / ``missing_report`` / ``report_rejected``: DESIGN §4's statuses: the
  first accepted delivery's ``sent_at`` (the earlier of its claimed time and its arrival)
  after the deadline is late; a unit-day with deliveries received but none accepted is
  rejected (whatever the time: the unit did send something, and its digest must say why
  it was refused); one with nothing received is missing once its deadline has passed.
  A delivery is the unit-day's when an accepted row for the unit and day is in it, or a
  rejected row that names the unit (by a code or name that can be read) and the day: a
  file that cannot be read at all names no one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from functools import cache

import numpy as np

from bluezone_devtools.simulate.faults import children_check
from bluezone_devtools.simulate.units import Province
from bluezone_warehouse.checks import threshold

MAD_FACTOR = Fraction("0.6745")  # DESIGN §5: modified z = 0.6745 × (x − median) / MAD
Number = int | Fraction


def _exact(value: float) -> Fraction:
    """A threshold as the decimal it is written as (0.05 is 1/20, not the nearest double)."""
    return Fraction(repr(value))


@dataclass(frozen=True)
class Limits:
    """DESIGN §5's thresholds, exact, from the dbt vars."""

    unattributed_share_max: Fraction
    report_export_mismatch_max: Fraction
    outlier_z: Fraction
    outlier_ratio: Fraction
    outlier_window: int
    outlier_ratio_window: int
    outlier_min_history: int
    outlier_min_volume: Fraction

    @classmethod
    @cache
    def from_catalogue(cls) -> Limits:
        return cls(
            unattributed_share_max=_exact(threshold("unattributed_share_max")),
            report_export_mismatch_max=_exact(threshold("report_export_mismatch_max")),
            outlier_z=_exact(threshold("outlier_z")),
            outlier_ratio=_exact(threshold("outlier_ratio")),
            outlier_window=int(threshold("outlier_window")),
            outlier_ratio_window=int(threshold("outlier_ratio_window")),
            outlier_min_history=int(threshold("outlier_min_history")),
            outlier_min_volume=_exact(threshold("outlier_min_volume")),
        )

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Expected:
    """A flag DESIGN §5 calls for: the check, where, and the value it judges."""

    check: str
    unit_code: str
    province_code: str
    day: date
    observed: str
    limit: str
    file: str = ""


def fmt(value: Number | float) -> str:
    """A figure as text: integers plainly, fractions to 6 significant digits."""
    if isinstance(value, int) or (isinstance(value, Fraction) and value.denominator == 1):
        return str(int(value))
    return f"{float(value):.6g}"


def exceeds_share(part: int, whole: int, limit: Fraction) -> bool:
    """part / whole > limit, exactly."""
    return whole > 0 and part * limit.denominator > limit.numerator * whole


# -- the export ---------------------------------------------------------------------------


@dataclass
class ExportView:
    """A province's export as the warehouse holds it at some moment: the figures of each
    day's newest delivery received by then (``arrived`` marks the days that have one).

    Rows are the province first, then its areas (districts in 2020, communes in 2025);
    ``with_phone`` holds installs with a
    phone (-1 where the cell is empty) and ``absent`` the rows a delivery leaves out.
    """

    province: Province
    days: Sequence[date]
    installs: np.ndarray  # areas × days
    total: np.ndarray
    arrived: np.ndarray
    with_phone: np.ndarray | None = None  # units × days
    absent: np.ndarray | None = None  # units × days

    @property
    def codes(self) -> list[str]:
        return [self.province.code, *(d.code for d in self.province.areas)]

    @property
    def values(self) -> np.ndarray:
        """Province row first, then the areas: units × days."""
        return np.vstack([self.total, self.installs])

    @property
    def present(self) -> np.ndarray:
        """Units × days: the export has the unit's row that day."""
        shown = np.repeat(self.arrived[None, :], len(self.codes), axis=0)
        return shown if self.absent is None else shown & ~self.absent

    @property
    def denominators(self) -> list[dict[str, float]]:
        return [self.province.denominators, *(d.denominators for d in self.province.areas)]


def export_expectations(view: ExportView, limits: Limits) -> list[Expected]:
    """Every flag DESIGN §5's export checks call for on one province's export."""
    found: list[Expected] = []
    found += _decreasing(view)
    found += _area_sums(view, limits)
    found += _coverage(view)
    found += _outliers(view, limits)
    found += _incomplete(view)
    found += _phones(view)
    return found


def _decreasing(view: ExportView) -> list[Expected]:
    """decreasing_cumulative: a unit's cumulative falls from one exported day to the next."""
    found = []
    values = view.values
    present = view.present
    for unit, code in enumerate(view.codes):
        days = np.flatnonzero(present[unit])
        for before, after in zip(days[:-1], days[1:], strict=True):
            previous, current = int(values[unit, before]), int(values[unit, after])
            if current < previous:
                found.append(
                    Expected(
                        "decreasing_cumulative",
                        code,
                        view.province.code,
                        view.days[after],
                        str(current),
                        f">= {previous} ({view.days[before].isoformat()})",
                    )
                )
    return found


def _area_sums(view: ExportView, limits: Limits) -> list[Expected]:
    """The children check (``faults.children_check``: district_sum_exceeds_province in
    2020, children_exceed_parent for communes) and unattributed_share on each exported day
    with a province row: the areas the export has, against the province total."""
    found = []
    code = view.province.code
    present = view.present
    for t in np.flatnonzero(present[0]):
        total = int(view.total[t])
        attributed = int(view.installs[present[1:, t], t].sum())
        if attributed > total:
            found.append(
                Expected(
                    children_check(view.province.area_level),
                    code,
                    code,
                    view.days[t],
                    str(attributed),
                    f"<= {total}",
                )
            )
        if exceeds_share(total - attributed, total, limits.unattributed_share_max):
            share = Fraction(total - attributed, total)
            found.append(
                Expected(
                    "unattributed_share",
                    code,
                    code,
                    view.days[t],
                    f"{fmt(share)} ({total - attributed} of {total})",
                    f"<= {fmt(limits.unattributed_share_max)}",
                )
            )
    return found


def _coverage(view: ExportView) -> list[Expected]:
    """coverage_over_100: installs above any of the unit's denominators (DESIGN §4)."""
    found = []
    values = view.values
    present = view.present
    for unit, (code, denominators) in enumerate(zip(view.codes, view.denominators, strict=True)):
        if not denominators:
            continue
        kind, smallest = min(denominators.items(), key=lambda item: item[1])
        for t in np.flatnonzero(present[unit]):
            installs = int(values[unit, t])
            if installs > smallest:
                over = [k for k, v in denominators.items() if installs > v]
                found.append(
                    Expected(
                        "coverage_over_100",
                        code,
                        view.province.code,
                        view.days[t],
                        str(installs),
                        f"<= {fmt(smallest)} ({kind}); exceeds {', '.join(over)}",
                    )
                )
    return found


def daily_increments(values: Sequence[int], arrived: Sequence[bool]) -> list[Number | None]:
    """New installs per day as DESIGN §4 defines them: the difference of cumulative figures
    on consecutive days, a gap (days with no export) spread evenly over its days. None
    before the first export's next day and after the last export."""
    days = [t for t, ok in enumerate(arrived) if ok]
    increments: list[Number | None] = [None] * len(values)
    for before, after in zip(days[:-1], days[1:], strict=True):
        step = int(values[after]) - int(values[before])
        gap = after - before
        spread: Number = step if gap == 1 else Fraction(step, gap)
        for t in range(before + 1, after + 1):
            increments[t] = spread
    return increments


def median(values: Sequence[Number]) -> Number:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return Fraction(ordered[middle - 1] + ordered[middle], 2)


@dataclass(frozen=True)
class IncrementVerdict:
    """The outlier rule's figures for one increment."""

    increment: Number
    history: int
    median: Number
    mad: Number
    z: Fraction | None
    recent_mean: Fraction | None
    flagged: bool

    def describe(self) -> str:
        z = "n/a (MAD 0)" if self.z is None else fmt(self.z)
        mean = "n/a" if self.recent_mean is None else fmt(self.recent_mean)
        return f"{fmt(self.increment)} (z {z}, previous mean {mean}, {self.history} days)"


def judge_increment(history: Sequence[Number], x: Number, limits: Limits) -> IncrementVerdict:
    """DESIGN §5's outlier rule for increment ``x`` after ``history`` (oldest first)."""
    med = median(history)
    mad = median([abs(h - med) for h in history])
    z = MAD_FACTOR * (x - med) / mad if mad > 0 else None
    recent = history[-limits.outlier_ratio_window :]
    mean = Fraction(sum(recent), len(recent)) if recent else None
    spike = mean is not None and x > limits.outlier_ratio * mean
    flagged = (
        len(history) >= limits.outlier_min_history
        and x > limits.outlier_min_volume
        and ((z is not None and z > limits.outlier_z) or spike)
    )
    return IncrementVerdict(x, len(history), med, mad, z, mean, flagged)


def increment_verdicts(
    values: Sequence[int], arrived: Sequence[bool], limits: Limits
) -> dict[int, IncrementVerdict]:
    """The outlier rule on every exported day that has enough history, by day index."""
    increments = daily_increments(values, arrived)
    verdicts = {}
    for t, x in enumerate(increments):
        if x is None or not arrived[t]:
            continue
        window = increments[max(0, t - limits.outlier_window) : t]
        history = [h for h in window if h is not None]
        if len(history) >= limits.outlier_min_history:
            verdicts[t] = judge_increment(history, x, limits)
    return verdicts


def _outliers(view: ExportView, limits: Limits) -> list[Expected]:
    """outlier_increment on the province and each of its areas."""
    found = []
    values = view.values
    present = view.present
    for unit, code in enumerate(view.codes):
        row = [int(v) for v in values[unit]]
        for t, verdict in increment_verdicts(row, present[unit].tolist(), limits).items():
            if verdict.flagged:
                found.append(
                    Expected(
                        "outlier_increment",
                        code,
                        view.province.code,
                        view.days[t],
                        verdict.describe(),
                        f"z <= {fmt(limits.outlier_z)} and <= {fmt(limits.outlier_ratio)}x "
                        f"previous mean, or <= {fmt(limits.outlier_min_volume)}",
                    )
                )
    return found


def _incomplete(view: ExportView) -> list[Expected]:
    """export_incomplete: a day's export without the province's row or one of its
    areas' (the simulated units are the units in force)."""
    found = []
    present = view.present
    for t in np.flatnonzero(view.arrived):
        missing = [code for code, shown in zip(view.codes, present[:, t], strict=True) if not shown]
        if missing:
            found.append(
                Expected(
                    "export_incomplete",
                    view.province.code,
                    view.province.code,
                    view.days[t],
                    f"no row for {', '.join(missing)}",
                    f"{len(view.codes)} rows (the province and its {view.province.area_level}s)",
                )
            )
    return found


def _phones(view: ExportView) -> list[Expected]:
    """installs_with_phone_exceeds_installs: a row with more installs with a phone number
    than installs (an empty cell says nothing)."""
    if view.with_phone is None:
        return []
    found = []
    values = view.values
    present = view.present
    for unit, t in np.argwhere(present & (view.with_phone > values)):
        found.append(
            Expected(
                "installs_with_phone_exceeds_installs",
                view.codes[unit],
                view.province.code,
                view.days[t],
                str(int(view.with_phone[unit, t])),
                f"<= {int(values[unit, t])}",
            )
        )
    return found


def stale_expectations(
    days: Sequence[date], arrived: Sequence[bool], run_date: date, due: Sequence[bool]
) -> list[Expected]:
    """stale_export: each day from the first export on whose export is due and absent."""
    first = next((t for t, ok in enumerate(arrived) if ok), None)
    if first is None:
        return []
    return [
        Expected("stale_export", "VN", "", day, "no export", "an export for the day")
        for t, day in enumerate(days)
        if t > first and day <= run_date and due[t] and not arrived[t]
    ]


# -- the unit reports ----------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """One valid row for a unit and day, as DESIGN §4 reads it."""

    unit_code: str
    day: date
    sent_at: datetime  # the earlier of the claimed time and the arrival
    received_at: datetime
    file: str
    installs: int | None
    staff_total: int | None
    staff_installed: int | None
    households: int | None

    @property
    def figures(self) -> tuple[int | None, ...]:
        return (self.installs, self.staff_total, self.staff_installed, self.households)


@dataclass(frozen=True)
class Rejection:
    """A delivery for a unit and day of which nothing was accepted: a row in it names the
    unit and the day readably, but a value of the row cannot be read (DESIGN §3.3, §4)."""

    unit_code: str
    day: date
    received_at: datetime
    file: str
    reason: str = ""


@dataclass(frozen=True)
class UnitDayState:
    """What DESIGN §4 says of one registry unit on one report day at some moment."""

    unit_code: str
    province_code: str
    day: date
    deadline: datetime
    status: str  # on_time | late | rejected | missing | not_due
    submissions: tuple[Submission, ...]
    rejections: tuple[Rejection, ...] = ()

    @property
    def latest(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None


def unit_day_state(
    unit_code: str,
    province_code: str,
    day: date,
    deadline: datetime,
    submissions: Iterable[Submission],
    now: datetime | None,
    rejections: Iterable[Rejection] = (),
) -> UnitDayState:
    """Status from the deliveries received by ``now`` (None: all of them), oldest first:
    accepted ones (``submissions``) decide on time or late; rejected ones alone, rejected;
    none, missing once the deadline has passed (not due before)."""
    ordered = tuple(
        sorted(
            (s for s in submissions if now is None or s.received_at <= now),
            key=lambda s: (s.sent_at, s.received_at, s.file),
        )
    )
    refused = tuple(
        sorted(
            (r for r in rejections if now is None or r.received_at <= now),
            key=lambda r: (r.received_at, r.file),
        )
    )
    if ordered:
        status = "late" if ordered[0].sent_at > deadline else "on_time"
    elif refused:
        status = "rejected"
    elif now is not None and now < deadline:
        status = "not_due"
    else:
        status = "missing"
    return UnitDayState(unit_code, province_code, day, deadline, status, ordered, refused)


def status_at_deadline(
    submissions: Iterable[Submission], rejections: Iterable[Rejection], deadline: datetime
) -> str:
    """DESIGN §4's ``status_at_deadline``: on_time when an accepted delivery had arrived by
    the deadline, rejected when deliveries had arrived by then but none was accepted,
    otherwise missing."""
    if any(s.received_at <= deadline for s in submissions):
        return "on_time"
    if any(r.received_at <= deadline for r in rejections):
        return "rejected"
    return "missing"


def report_expectations(
    state: UnitDayState,
    area_export: int | None,
    is_committee: bool,
    limits: Limits,
) -> list[Expected]:
    """missing_report, report_rejected, late_report, conflicting_resubmission,
    staff_installed_exceeds_total and report_export_mismatch for one unit-day;
    ``area_export`` is the export's figure for a committee's area on that day, if an
    export for the day was received. A rejected unit-day did send: report_rejected, never
    missing_report."""
    where = (state.unit_code, state.province_code, state.day)
    found = []
    if state.status == "missing":
        found.append(Expected("missing_report", *where, "no report", f"by {state.deadline:%H:%M}"))
    if state.status == "rejected":
        latest = state.rejections[-1]
        observed = f"{len(state.rejections)} deliveries, none accepted"
        if latest.reason:
            observed += f" (latest: {latest.reason})"
        found.append(
            Expected(
                "report_rejected",
                *where,
                observed,
                f"an accepted report by {state.deadline:%H:%M}",
                latest.file,
            )
        )
    if state.status == "late":
        first = state.submissions[0]
        found.append(
            Expected(
                "late_report",
                *where,
                f"sent {first.sent_at:%Y-%m-%d %H:%M:%S}",
                f"<= {state.deadline:%Y-%m-%d %H:%M}",
                first.file,
            )
        )
    figures = {s.figures for s in state.submissions}
    if len(figures) > 1:
        found.append(
            Expected(
                "conflicting_resubmission",
                *where,
                f"{len(state.submissions)} submissions, {len(figures)} sets of figures",
                "one set of figures",
                state.latest.file,
            )
        )
    over = [
        s
        for s in state.submissions
        if s.staff_installed is not None
        and s.staff_total is not None
        and s.staff_installed > s.staff_total
    ]
    if over:
        found.append(
            Expected(
                "staff_installed_exceeds_total",
                *where,
                str(over[0].staff_installed),
                f"<= {over[0].staff_total}",
                over[0].file,
            )
        )
    latest = state.latest
    if is_committee and latest is not None and latest.installs is not None and area_export:
        gap = abs(latest.installs - area_export)
        if exceeds_share(gap, area_export, limits.report_export_mismatch_max):
            off = Fraction(latest.installs - area_export, area_export)
            found.append(
                Expected(
                    "report_export_mismatch",
                    *where,
                    f"{latest.installs} ({fmt(off)})",
                    f"export {area_export} ± {fmt(limits.report_export_mismatch_max)}",
                    latest.file,
                )
            )
    return found
