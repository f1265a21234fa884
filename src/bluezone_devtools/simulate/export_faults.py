"""The campaign simulator: export fault injection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.export_plan import ExportDay
from bluezone_devtools.simulate.export_series import (
    OUTLIER_RULE,
    UNATTRIBUTED_LIMIT,
    ExportSeries,
    Flag,
    export_flags,
)
from bluezone_devtools.simulate.faults import Fault
from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _stream

OUTLIER_MIN_MEAN = 60.0
DISTRICT_WINDOW = (8, 2)
PROVINCE_WINDOW = (5, 5)


@dataclass
class ExportState:
    """A province's export while faults are injected, with the flags it raises so far."""

    series: ExportSeries
    exported: np.ndarray
    days: Sequence[date]
    flags: set[Flag]
    expected: set[Flag] = field(default_factory=set)
    claimed_days: dict[str, set[int]] = field(default_factory=dict)

    def free(self, unit: str, t: int, window: tuple[int, int]) -> bool:
        taken = self.claimed_days.get(unit, set())
        return not any(t + k in taken for k in range(-window[0], window[1] + 1))

    def claim(self, unit: str, t: int, window: tuple[int, int]) -> None:
        self.claimed_days.setdefault(unit, set()).update(range(t - window[0], t + window[1] + 1))

    def exported_around(self, t: int, before: int, after: int) -> bool:
        lo, hi = t - before, min(t + after, len(self.days) - 1)
        return lo >= 0 and bool(self.exported[lo : hi + 1].all())

    def accept(self, candidate: ExportSeries, expected: set[Flag]) -> bool:
        """Keep ``candidate`` if it raises exactly the current flags plus ``expected``."""
        flags = export_flags(candidate, self.exported)
        if not expected or flags != self.flags | expected or self.flags & expected:
            return False
        self.series, self.flags = candidate, flags
        self.expected |= expected
        return True


def _recompute_with_phone(series: ExportSeries, d: int, days: slice) -> None:
    ratio = series.curves.phone_ratio[d]
    series.with_phone[d, days] = np.floor(series.installs[d, days] * ratio + 0.5)


def _inject_outlier(state: ExportState, d: int, t: int, u: float) -> Fault | None:
    if t < 8 or not state.exported_around(t, 1, 1):
        return None
    row = state.series.installs[d]
    mean = float(np.diff(row[t - 8 : t]).mean())
    if mean < OUTLIER_MIN_MEAN:
        return None
    factor = 8.0 + 4.0 * u
    spike = int(round(factor * mean))
    shift = spike - int(row[t] - row[t - 1])
    candidate = state.series.copy()
    candidate.installs[d, t:] += shift
    _recompute_with_phone(candidate, d, slice(t, None))
    _cover_with_total(candidate, state.series, shift, t)
    district = state.series.province.districts[d]
    if not state.accept(candidate, {("outlier_increment", district.code, t)}):
        return None
    return Fault(
        "outlier_increment",
        state.days[t],
        district.code,
        district.province_code,
        detail=f"daily increment {spike} vs previous 7-day mean {mean:.0f} ({factor:.1f}x)",
    )


def _cover_with_total(candidate: ExportSeries, before: ExportSeries, shift: int, t: int) -> None:
    """Raise the province total from day ``t`` when unattributed installs cannot absorb a shift."""
    room = int(0.8 * (before.total[t:] - before.installs[:, t:].sum(axis=0)).min())
    excess = max(0, shift - room)
    if excess:
        candidate.total[t:] += excess
        ratio = candidate.curves.unattributed_phone_ratio
        candidate.total_with_phone[t:] += int(round(excess * ratio))


def _inject_decrease(state: ExportState, d: int, t: int, u: float) -> Fault | None:
    span = min(4, t)
    if span < 1 or not state.exported_around(t, span, 1):
        return None
    row = state.series.installs[d]
    step = int(row[t] - row[t - 1])
    if step < 4:
        return None
    following = int(row[t + 1] - row[t]) if t + 1 < len(row) else step
    drop = max(1, int(round((0.1 + 0.2 * u) * min(step, following))))
    candidate = state.series.copy()
    ramp = np.floor(step * np.arange(1, span + 1) / span + 0.5).astype(np.int64)
    candidate.installs[d, t - span : t] += ramp
    candidate.installs[d, t] = row[t] - drop
    _recompute_with_phone(candidate, d, slice(t - span, t + 1))
    district = state.series.province.districts[d]
    if not state.accept(candidate, {("decreasing_cumulative", district.code, t)}):
        return None
    before, after = candidate.installs[d, t - 1], candidate.installs[d, t]
    return Fault(
        "decreasing_cumulative",
        state.days[t],
        district.code,
        district.province_code,
        detail=f"cumulative installs {after} after {before} the day before (-{before - after})",
    )


def _inject_sum_excess(state: ExportState, t: int, u: float) -> Fault | None:
    if t < 1 or not state.exported_around(t, 1, 1):
        return None
    series = state.series
    attributed = int(series.installs[:, t].sum())
    lowered = attributed - max(1, int(round((0.001 + 0.003 * u) * attributed)))
    if lowered < series.total[t - 1]:
        return None
    candidate = series.copy()
    candidate.total[t] = lowered
    capped = min(int(candidate.total_with_phone[t]), lowered)
    candidate.total_with_phone[t] = max(
        capped, min(int(candidate.total_with_phone[t - 1]), lowered)
    )
    province = series.province
    if not state.accept(candidate, {("district_sum_exceeds_province", province.code, t)}):
        return None
    return Fault(
        "district_sum_exceeds_province",
        state.days[t],
        province.code,
        province.code,
        detail=f"districts add up to {attributed} > province total {lowered}",
    )


def _unattributed_offsets(series: ExportSeries, t: int, target: float) -> np.ndarray | None:
    """Extra province installs making day ``t`` exceed the limit and no other day."""
    total = series.total.astype(np.int64)
    attributed = series.installs.sum(axis=0)
    steps = np.diff(total, prepend=total[0])
    cap = np.floor(attributed / (1.0 - UNATTRIBUTED_LIMIT + 0.0005)).astype(np.int64) - total - 1
    offsets = np.zeros_like(total)
    offsets[t] = int(math.ceil(attributed[t] / (1.0 - target))) - total[t]
    if offsets[t] <= 0:
        return None
    for j in range(t - 1, -1, -1):
        offsets[j] = max(0, offsets[j + 1] - steps[j + 1] // 2)
        if offsets[j] > cap[j]:
            return None
    for j in range(t + 1, len(total)):
        offsets[j] = max(0, offsets[j - 1] - steps[j] // 2)
        if offsets[j] > cap[j]:
            return None
    return offsets


def _inject_unattributed(state: ExportState, t: int, u: float) -> Fault | None:
    if t < 1 or not state.exported_around(t, 1, 1):
        return None
    target = 0.053 + 0.015 * u
    offsets = _unattributed_offsets(state.series, t, target)
    if offsets is None:
        return None
    candidate = state.series.copy()
    candidate.total += offsets
    ratio = candidate.curves.unattributed_phone_ratio
    candidate.total_with_phone += np.floor(offsets * ratio + 0.5).astype(np.int64)
    province = state.series.province
    if not state.accept(candidate, {("unattributed_share", province.code, t)}):
        return None
    total = int(candidate.total[t])
    unattributed = total - int(candidate.installs[:, t].sum())
    return Fault(
        "unattributed_share",
        state.days[t],
        province.code,
        province.code,
        detail=f"unattributed {unattributed} of {total} installs ({unattributed / total:.1%}) > 5%",
    )


def _inject_over_coverage(state: ExportState, d: int, u: float) -> list[Fault]:
    """Scale a district's whole series so that it ends 5-30 % above its population."""
    series = state.series
    district = series.province.districts[d]
    row = series.installs[d]
    scale = (1.05 + 0.25 * u) * district.population / max(int(row[-1]), 1)
    if scale <= 1.0:
        return []
    candidate = series.copy()
    candidate.installs[d] = np.floor(row * scale + 0.5).astype(np.int64)
    _recompute_with_phone(candidate, d, slice(None))
    candidate.total += candidate.installs[d] - row
    candidate.total_with_phone += candidate.with_phone[d] - series.with_phone[d]
    over = np.flatnonzero((candidate.installs[d] > district.population) & state.exported)
    expected = {("coverage_over_100", district.code, int(t)) for t in over}
    if not state.accept(candidate, expected):
        return []
    first = None
    faults = []
    for t in over:
        installs = int(candidate.installs[d, t])
        fault = Fault(
            "coverage_over_100",
            state.days[t],
            district.code,
            district.province_code,
            detail=f"{installs} installs > population {district.population} "
            f"({installs / district.population:.0%})",
            cause=first,
        )
        first = first or fault
        faults.append(fault)
    return faults


def _district_day_candidates(state: ExportState) -> list[tuple[int, int]]:
    n_districts, n_days = state.series.installs.shape
    return [(d, t) for d in range(n_districts) for t in range(n_days) if state.exported[t]]


def _place_district_faults(
    state: ExportState, kind: str, rate: float, seed: int, limit: int | None = None
) -> list[Fault]:
    """Bernoulli(rate) per district-day; place as many as drawn, trying in draw order."""
    injector = _inject_outlier if kind == "outlier_increment" else _inject_decrease
    candidates = _district_day_candidates(state)
    rng = _stream(seed, "export-fault", kind, state.series.province.code)
    draws, params = rng.random(len(candidates)), rng.random(len(candidates))
    wanted = int((draws < rate).sum()) if limit is None else limit
    placed: list[Fault] = []
    for i in np.argsort(draws, kind="stable")[: max(wanted * 40, 0)]:
        if len(placed) >= wanted:
            break
        d, t = candidates[i]
        code = state.series.province.districts[d].code
        if state.free(code, t, DISTRICT_WINDOW) and (fault := injector(state, d, t, params[i])):
            state.claim(code, t, DISTRICT_WINDOW)
            placed.append(fault)
    return placed


def _place_province_faults(
    state: ExportState, kind: str, rate: float, seed: int, limit: int | None = None
) -> list[Fault]:
    """Bernoulli(rate) per province-day; place as many as drawn, trying in draw order."""
    injector = (
        _inject_sum_excess if kind == "district_sum_exceeds_province" else _inject_unattributed
    )
    n_days = len(state.days)
    rng = _stream(seed, "export-fault", kind, state.series.province.code)
    draws, params = rng.random(n_days), rng.random(n_days)
    wanted = int((draws < rate).sum()) if limit is None else limit
    placed: list[Fault] = []
    code = state.series.province.code
    for t in np.argsort(draws, kind="stable"):
        if len(placed) >= wanted:
            break
        if state.exported[t] and state.free(code, int(t), PROVINCE_WINDOW):
            fault = injector(state, int(t), params[t])
            if fault:
                state.claim(code, int(t), PROVINCE_WINDOW)
                placed.append(fault)
    return placed


def _place_over_coverage(states: Sequence[ExportState], count: int, seed: int) -> list[Fault]:
    """The ``count`` smallest districts (that can take it) grow past their population."""
    if count <= 0:
        return []
    ranked = sorted(
        (district.population, district.code, state, d)
        for state in states
        for d, district in enumerate(state.series.province.districts)
    )
    faults: list[Fault] = []
    placed = 0
    for _, code, state, d in ranked:
        if placed >= count:
            break
        u = _stream(seed, "export-fault", "coverage_over_100", code).random()
        if state.free(code, 0, (0, len(state.days))):
            new = _inject_over_coverage(state, d, u)
            if new:
                state.claim(code, 0, (0, len(state.days)))
                faults.extend(new)
                placed += 1
    return faults


EXPORT_FAULT_ORDER = (
    "outlier_increment",
    "decreasing_cumulative",
    "district_sum_exceeds_province",
    "unattributed_share",
)
DISTRICT_KINDS = {"outlier_increment", "decreasing_cumulative"}


def _place_export_kind(state: ExportState, kind: str, rate: float, seed: int, limit=None):
    place = _place_district_faults if kind in DISTRICT_KINDS else _place_province_faults
    return place(state, kind, rate, seed, limit)


def delivery_faults(plan: Sequence[ExportDay]) -> list[Fault]:
    """The manifest rows of the delivery plan: stale exports and re-deliveries."""
    rows = []
    for day in plan:
        if day.stale:
            name = f"installs_{day.day:%Y%m%d}.csv"
            detail = f"no install export for {day.day.isoformat()} (expected {name} early next day)"
            rows.append(Fault("stale_export", day.day, detail=detail))
        elif len(day.deliveries) > 1:
            first, final = day.deliveries[0].path, day.final.path
            detail = f"{first} had some district figures still at the previous day's; "
            detail += f"corrected in {final}"
            rows.append(Fault("redelivery", day.day, file=final, detail=detail))
    return rows


def _implied_faults(state: ExportState, stale: dict[date, Fault]) -> list[Fault]:
    """Flags nobody injected: increments spread evenly over a stale day can look like an
    outlier to the modified z-score (equal spread values shrink the MAD)."""
    implied = []
    for kind, unit, t in sorted(state.flags - state.expected):
        causes = [stale[d] for d in state.days[max(0, t - OUTLIER_RULE.window) : t] if d in stale]
        detail = "implied by the missing export of " + ", ".join(c.day.isoformat() for c in causes)
        implied.append(
            Fault(
                kind,
                state.days[t],
                unit,
                state.series.province.code,
                detail=detail if causes else "arises from the adoption model",
                cause=causes[-1] if causes else None,
            )
        )
    return implied


def inject_export_faults(
    curves: Sequence[ProvinceCurves],
    plan: Sequence[ExportDay],
    seed: int,
    rates: FaultRates,
    stale: dict[date, Fault],
) -> tuple[list[ExportSeries], list[Fault]]:
    """The final export series of every province, and the export faults placed in them.

    Flags that the final export raises without an injection of their own (see
    ``_implied_faults``) are listed too, with ``cause`` set to the stale export behind them.
    """
    exported = np.array([not day.stale for day in plan])
    days = [day.day for day in plan]
    states = [ExportState(ExportSeries.from_truth(c), exported, days, set()) for c in curves]
    for state in states:
        state.flags = export_flags(state.series, exported)
    faults = _place_over_coverage(states, rates.coverage_over_100, seed)
    for kind in EXPORT_FAULT_ORDER:
        rate = getattr(rates, kind)
        placed = [f for state in states for f in _place_export_kind(state, kind, rate, seed)]
        if not placed and rate > 0:
            placed = _place_one_anywhere(states, kind, seed)
        faults.extend(placed)
    faults += [f for state in states for f in _implied_faults(state, stale)]
    for fault in faults:
        fault.file = plan[days.index(fault.day)].final.path
    return [state.series for state in states], faults


def _place_one_anywhere(states: Sequence[ExportState], kind: str, seed: int) -> list[Fault]:
    """Guarantee one fault of ``kind``: try the provinces in a seed-determined order."""
    order = sorted(
        states,
        key=lambda s: _stream(seed, "export-fault-top-up", kind, s.series.province.code).random(),
    )
    for state in order:
        placed = _place_export_kind(state, kind, 1.0, seed, limit=1)
        if placed:
            return placed
    return []


def first_delivery(series: ExportSeries, t: int, seed: int) -> ExportSeries:
    """A re-delivered day's first file: 5-15 % of the district figures still yesterday's."""
    rng = _stream(seed, "redelivery", series.province.code, t)
    n_districts = series.installs.shape[0]
    count = max(1, int(round(rng.uniform(0.05, 0.15) * n_districts)))
    wrong = rng.choice(n_districts, size=min(count, n_districts), replace=False)
    draft = series.copy()
    for d in wrong:
        lagged = series.installs[d, t - 1] if t > 0 else int(series.installs[d, t] * 0.9)
        draft.installs[d, t] = lagged
        _recompute_with_phone(draft, int(d), slice(t, t + 1))
    return draft


def blank_phone_mask(series: ExportSeries, n_days: int, seed: int) -> np.ndarray:
    """Rows (province first, then districts) × days whose installs_with_phone is empty."""
    rng = _stream(seed, "phone-blank", series.province.code)
    return rng.random((1 + series.installs.shape[0], n_days)) < 0.01
