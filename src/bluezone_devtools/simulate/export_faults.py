"""The campaign simulator: export fault injection.

Each injection changes the export's figures in a way that, by DESIGN §5's definitions
applied to the values it sets, must raise its own flag: a spike 8-12 times the previous
7-day mean, a cumulative figure below the day before, districts adding up to more than
the province, an unattributed share of 5.3-6.8 %, a district growing past its
population. ("District" in this module's names is the unit set's area level: a commune on
the 2025 units.) Nothing here runs a check: what else the figures call for (an injection's
side effects, a province's own series crossing a threshold) is found afterwards by
``definitions`` and written to the ground truth as well. Boundary probes (values exactly
at a threshold and just over it) are placed by ``export_probes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.definitions import Limits
from bluezone_devtools.simulate.export_plan import ExportDay
from bluezone_devtools.simulate.export_probes import ExportProbes
from bluezone_devtools.simulate.export_series import (
    ExportSeries,
    recompute_with_phone,
    shift_district,
)
from bluezone_devtools.simulate.export_state import DISTRICT_WINDOW, PROVINCE_WINDOW, ExportState
from bluezone_devtools.simulate.faults import Fault, Probe, children_check
from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _stream

OUTLIER_MIN_MEAN = 60.0
OUTLIER_FACTOR = (8.0, 12.0)
UNATTRIBUTED_OVER = (0.003, 0.018)  # injected shares: the limit plus 0.3 to 1.8 points


def _inject_outlier(state: ExportState, d: int, t: int, u: float) -> Fault | None:
    """Day ``t``'s increment becomes 8-12 times the mean of the previous 7 (every one of
    them exported, so the mean the definition sees is the true one)."""
    window = state.limits.outlier_ratio_window
    if t <= window or not state.exported_around(t, window + 1, 0):
        return None
    row = state.series.installs[d]
    mean = float(np.diff(row[t - window - 1 : t]).mean())
    if mean < OUTLIER_MIN_MEAN:
        return None
    low, high = OUTLIER_FACTOR
    factor = low + (high - low) * u
    spike = int(round(factor * mean))
    shift = spike - int(row[t] - row[t - 1])
    before = state.series.copy()
    state.series.installs[d, t:] += shift
    recompute_with_phone(state.series, d, slice(t, None))
    _cover_with_total(state.series, before, shift, t)
    district = state.series.province.areas[d]
    return Fault(
        "outlier_increment",
        state.days[t],
        district.code,
        district.province_code,
        detail=f"daily increment {spike} vs previous 7-day mean {mean:.0f} ({factor:.1f}x)",
    )


def _cover_with_total(series: ExportSeries, before: ExportSeries, shift: int, t: int) -> None:
    """Raise the province total from day ``t`` when unattributed installs cannot absorb a shift."""
    room = int(0.8 * (before.total[t:] - before.installs[:, t:].sum(axis=0)).min())
    excess = max(0, shift - room)
    if excess:
        series.total[t:] += excess
        ratio = series.curves.unattributed_phone_ratio
        series.total_with_phone[t:] += int(round(excess * ratio))


def _inject_decrease(state: ExportState, d: int, t: int, u: float) -> Fault | None:
    """Day ``t``'s cumulative figure 10-30 % of a day's increment below day ``t - 1``'s
    (the days before ramp up to make room, so no increment is unusual)."""
    span = min(4, t)
    if span < 1 or not state.exported_around(t, span, 1):
        return None
    row = state.series.installs[d]
    step = int(row[t] - row[t - 1])
    if step < 4:
        return None
    following = int(row[t + 1] - row[t]) if t + 1 < len(row) else step
    drop = max(1, int(round((0.1 + 0.2 * u) * min(step, following))))
    ramp = np.floor(step * np.arange(1, span + 1) / span + 0.5).astype(np.int64)
    row[t - span : t] += ramp
    row[t] -= drop
    recompute_with_phone(state.series, d, slice(t - span, t + 1))
    district = state.series.province.areas[d]
    before, after = row[t - 1], row[t]
    return Fault(
        "decreasing_cumulative",
        state.days[t],
        district.code,
        district.province_code,
        detail=f"cumulative installs {after} after {before} the day before (-{before - after})",
    )


def _inject_sum_excess(state: ExportState, t: int, u: float) -> Fault | None:
    """The province total of day ``t`` 0.1-0.4 % below its districts' sum."""
    if t < 1 or not state.exported_around(t, 1, 1):
        return None
    series = state.series
    attributed = int(series.installs[:, t].sum())
    lowered = attributed - max(1, int(round((0.001 + 0.003 * u) * attributed)))
    if lowered < series.total[t - 1]:
        return None
    series.total[t] = lowered
    capped = min(int(series.total_with_phone[t]), lowered)
    series.total_with_phone[t] = max(capped, min(int(series.total_with_phone[t - 1]), lowered))
    province = series.province
    return Fault(
        children_check(province.area_level),
        state.days[t],
        province.code,
        province.code,
        detail=f"{province.area_level}s add up to {attributed} > province total {lowered}",
    )


def _unattributed_offsets(
    series: ExportSeries, t: int, target: float, limit: float
) -> np.ndarray | None:
    """Extra province installs giving day ``t`` an unattributed share of ``target`` and
    keeping every other day at least 0.05 points under ``limit``; None if impossible."""
    total = series.total.astype(np.int64)
    attributed = series.installs.sum(axis=0)
    steps = np.diff(total, prepend=total[0])
    cap = np.floor(attributed / (1.0 - limit + 0.0005)).astype(np.int64) - total - 1
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
    """Day ``t``'s unattributed share 0.3-1.8 points over the limit (extra installs in the
    province total, tapering off on the days around it)."""
    if t < 1 or not state.exported_around(t, 1, 1):
        return None
    limit = float(state.limits.unattributed_share_max)
    low, high = UNATTRIBUTED_OVER
    offsets = _unattributed_offsets(state.series, t, limit + low + (high - low) * u, limit)
    if offsets is None:
        return None
    series = state.series
    series.total += offsets
    ratio = series.curves.unattributed_phone_ratio
    series.total_with_phone += np.floor(offsets * ratio + 0.5).astype(np.int64)
    province = series.province
    total = int(series.total[t])
    unattributed = total - int(series.installs[:, t].sum())
    return Fault(
        "unattributed_share",
        state.days[t],
        province.code,
        province.code,
        detail=f"unattributed {unattributed} of {total} installs ({unattributed / total:.2%}) "
        f"> {limit:.0%}",
    )


def _inject_over_coverage(state: ExportState, d: int, u: float) -> list[Fault]:
    """Scale a district's whole series so that it ends 5-30 % above its population; every
    exported day above its smallest denominator is flagged (DESIGN §4: every denominator)."""
    series = state.series
    district = series.province.areas[d]
    row = series.installs[d]
    scale = (1.05 + 0.25 * u) * district.population / max(int(row[-1]), 1)
    if scale <= 1.0:
        return []
    shift_district(series, d, np.floor(row * scale + 0.5).astype(np.int64), with_total=True)
    kind, smallest = min(district.denominators.items(), key=lambda item: item[1])
    over = np.flatnonzero((series.installs[d] > smallest) & state.exported)
    first = None
    faults = []
    for t in over:
        installs = int(series.installs[d, t])
        fault = Fault(
            "coverage_over_100",
            state.days[t],
            district.code,
            district.province_code,
            detail=f"{installs} installs > {kind} {smallest:.0f} "
            f"(population {district.population}: {installs / district.population:.0%})",
            cause=first,
        )
        first = first or fault
        faults.append(fault)
    return faults


def _inject_phone(state: ExportState, d: int, t: int, u: float) -> Fault | None:
    """A district row with 1-5 % more installs with a phone number than installs."""
    series = state.series
    installs = int(series.installs[d, t])
    if state.blank_phone[d + 1, t] or series.absent[d + 1, t] or installs < 20:
        return None
    extra = max(1, int(round((0.01 + 0.04 * u) * installs)))
    series.with_phone[d, t] = installs + extra
    district = series.province.areas[d]
    return Fault(
        "installs_with_phone_exceeds_installs",
        state.days[t],
        district.code,
        district.province_code,
        detail=f"{installs + extra} installs with a phone > {installs} installs",
    )


def _inject_incomplete(state: ExportState, t: int, u: float) -> Fault | None:
    """The day's export leaves out one of the province's districts (one nothing else was
    placed on, so no other fault or probe loses its row)."""
    series = state.series
    code = series.province.code
    if not state.free(code, t, (0, 0)):
        return None
    spare = [d for d, x in enumerate(series.province.areas) if state.untouched(x.code)]
    if not spare:
        return None
    d = spare[int(u * len(spare)) % len(spare)]
    district = series.province.areas[d]
    series.absent[d + 1, t] = True
    state.claim_all(district.code)
    return Fault(
        "export_incomplete",
        state.days[t],
        code,
        code,
        detail=f"the export has no row for {series.province.area_level} {district.code} "
        f"{district.name_full}",
    )


def _district_day_candidates(state: ExportState) -> list[tuple[int, int]]:
    n_districts, n_days = state.series.installs.shape
    return [(d, t) for d in range(n_districts) for t in range(n_days) if state.exported[t]]


def _place_district_faults(
    state: ExportState, kind: str, rate: float, seed: int, limit: int | None = None
) -> list[Fault]:
    """Bernoulli(rate) per district-day; place as many as drawn, trying in draw order."""
    injector = {
        "outlier_increment": _inject_outlier,
        "decreasing_cumulative": _inject_decrease,
        "installs_with_phone_exceeds_installs": _inject_phone,
    }[kind]
    candidates = _district_day_candidates(state)
    rng = _stream(seed, "export-fault", kind, state.series.province.code)
    draws, params = rng.random(len(candidates)), rng.random(len(candidates))
    wanted = int((draws < rate).sum()) if limit is None else limit
    placed: list[Fault] = []
    for i in np.argsort(draws, kind="stable")[: max(wanted * 40, 0)]:
        if len(placed) >= wanted:
            break
        d, t = candidates[i]
        code = state.series.province.areas[d].code
        if state.free(code, t, DISTRICT_WINDOW) and (fault := injector(state, d, t, params[i])):
            state.claim(code, t, DISTRICT_WINDOW)
            placed.append(fault)
    return placed


def _place_province_faults(
    state: ExportState, kind: str, rate: float, seed: int, limit: int | None = None
) -> list[Fault]:
    """Bernoulli(rate) per province-day; place as many as drawn, trying in draw order."""
    injector = {
        "district_sum_exceeds_province": _inject_sum_excess,
        "unattributed_share": _inject_unattributed,
        "export_incomplete": _inject_incomplete,
    }[kind]
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
        for d, district in enumerate(state.series.province.areas)
    )
    faults: list[Fault] = []
    placed = 0
    for _, code, state, d in ranked:
        if placed >= count:
            break
        u = _stream(seed, "export-fault", "coverage_over_100", code).random()
        if state.untouched(code):
            new = _inject_over_coverage(state, d, u)
            if new:
                state.claim_all(code)
                faults.extend(new)
                placed += 1
    return faults


EXPORT_FAULT_ORDER = (
    "outlier_increment",
    "decreasing_cumulative",
    "district_sum_exceeds_province",
    "unattributed_share",
)
# Placed after everything else, so that nothing rewrites their cells afterwards.
LAST_FAULT_ORDER = ("installs_with_phone_exceeds_installs", "export_incomplete")
DISTRICT_KINDS = {
    "outlier_increment",
    "decreasing_cumulative",
    "installs_with_phone_exceeds_installs",
}


def _place_export_kind(state: ExportState, kind: str, rate: float, seed: int, limit=None):
    place = _place_district_faults if kind in DISTRICT_KINDS else _place_province_faults
    return place(state, kind, rate, seed, limit)


def delivery_faults(plan: Sequence[ExportDay], level: str = "district") -> list[Fault]:
    """The manifest rows of the delivery plan: stale exports and re-deliveries (``level``:
    the export's rows below the provinces)."""
    rows = []
    for day in plan:
        if day.stale:
            name = f"installs_{day.day:%Y%m%d}.csv"
            detail = f"no install export for {day.day.isoformat()} (expected {name} early next day)"
            rows.append(Fault("stale_export", day.day, unit_code="VN", detail=detail))
        elif len(day.deliveries) > 1:
            first, final = day.deliveries[0].path, day.final.path
            detail = f"{first} had some {level} figures still at the previous day's; "
            detail += f"corrected in {final}"
            rows.append(Fault("redelivery", day.day, file=final, detail=detail))
    return rows


def inject_export_faults(
    curves: Sequence[ProvinceCurves],
    plan: Sequence[ExportDay],
    seed: int,
    rates: FaultRates,
    limits: Limits,
    blank_phones: Sequence[np.ndarray],
) -> tuple[list[ExportSeries], list[Fault], list[Probe]]:
    """The final export series of every province, the export faults placed in them and
    the boundary probes (values exactly at a threshold and just over it)."""
    exported = np.array([not day.stale for day in plan])
    redelivered = np.array([len(day.deliveries) > 1 for day in plan])
    days = [day.day for day in plan]
    states = [
        ExportState(ExportSeries.from_truth(c), exported, redelivered, days, limits, blank)
        for c, blank in zip(curves, blank_phones, strict=True)
    ]
    probes = ExportProbes(states, seed, rates.boundary_probes)
    probes.reserve()
    faults = _place_over_coverage(states, rates.coverage_over_100, seed)
    probes.place_district_probes()
    faults += _place_kinds(states, EXPORT_FAULT_ORDER, rates, seed)
    probes.place_province_probes()
    probes.place_phone_probes()
    faults += _place_kinds(states, LAST_FAULT_ORDER, rates, seed)
    faults += [probe.fault for probe in probes.placed if probe.fault is not None]
    for fault in faults:
        fault.file = plan[days.index(fault.day)].final.path
    for probe in probes.placed:
        if probe.fault is not None:
            probe.fault.file = plan[days.index(probe.day)].final.path
    for state in states:
        state.series.total_with_phone = np.minimum(
            state.series.total_with_phone, state.series.total
        )
    return [state.series for state in states], faults, probes.placed


def _place_kinds(
    states: Sequence[ExportState], kinds: Sequence[str], rates: FaultRates, seed: int
) -> list[Fault]:
    faults = []
    for kind in kinds:
        rate = getattr(rates, kind)
        placed = [f for state in states for f in _place_export_kind(state, kind, rate, seed)]
        if not placed and rate > 0:
            placed = _place_one_anywhere(states, kind, seed)
        faults.extend(placed)
    return faults


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
        recompute_with_phone(draft, int(d), slice(t, t + 1))
    return draft


def blank_phone_mask(curves: ProvinceCurves, n_days: int, seed: int) -> np.ndarray:
    """Rows (province first, then districts) × days whose installs_with_phone is empty."""
    rng = _stream(seed, "phone-blank", curves.province.code)
    return rng.random((1 + curves.installs.shape[0], n_days)) < 0.01
