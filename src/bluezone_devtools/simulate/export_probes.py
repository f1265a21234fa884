"""The campaign simulator: boundary probes in the export.

For every threshold of DESIGN §5 that the export is judged by, a value placed exactly at it
(DESIGN's definition does not flag it) and one just over it (it does), each on its own
unit and day, in figures that stay plausible for the campaign:

- ``unattributed_share``: a province whose unattributed installs are exactly the limit
  (5 %) of its total on every day, and 5.01 % on one day;
- ``district_sum_exceeds_province`` (``children_exceed_parent`` on communes): a province
  total equal to its districts' sum on one day, one below it on another;
- ``decreasing_cumulative``: a district's figure that stays equal to the day before, and
  one that falls by 1 (the installs it missed are caught up over the next days);
- ``coverage_over_100``: a district that saturates exactly at its smallest denominator
  (and stays there), one that saturates one install above it, and the same at its total
  population (which is above its adults: DESIGN §4 flags every denominator);
- ``installs_with_phone_exceeds_installs``: a district row whose installs with a phone
  equal its installs, and one with one more;
- ``outlier_increment``: a daily increment exactly ``outlier_ratio`` times the mean of the
  previous days (with a modified z-score under its limit) and one install more; one at a
  modified z-score exactly at ``outlier_z`` (MAD 1349, increment 7000 above the median)
  and one install more; an increment equal to the minimum volume and one install more
  after a stalled week; an increment after a week without any (a previous mean of 0).

"District" in this module's names is the unit set's area level (a commune on the 2025
units). The probe writes what it placed; the flag it must raise is decided by DESIGN's words
(``Probe.flagged``), and ``definitions`` finds the same from the final figures (a unit test
holds the two together). Nothing here runs a check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from bluezone_devtools.simulate.definitions import (
    MAD_FACTOR,
    Limits,
    fmt,
    judge_increment,
)
from bluezone_devtools.simulate.export_series import shift_district
from bluezone_devtools.simulate.export_state import PROVINCE_WINDOW, ExportState
from bluezone_devtools.simulate.faults import Probe, children_check
from bluezone_devtools.simulate.rng import _stream

# The random streams of the children-check probes (fixed: the check's id may change).
SUM_PROBE_STREAM = "district_sum_exceeds_province"
OVER_SHARE = Fraction(1, 10_000)  # the "5.01 %" probe: one hundredth of a point over
Z_PROBE_MAX_MAD = 10_000  # larger: the exact z-score probe is not practical
ZERO_MEAN_VOLUME_FACTOR = 5


class ExportProbes:
    """Places ``count`` sets of probes over the provinces' export states."""

    def __init__(self, states: Sequence[ExportState], seed: int, count: int):
        self.states = list(states)
        self.seed = seed
        self.count = count if states else 0
        self.limits: Limits | None = states[0].limits if states else None
        self.placed: list[Probe] = []
        self.reserved: list[ExportState] = []

    # choosing where -------------------------------------------------------------------

    def _order(self, *keys: object) -> list[ExportState]:
        return sorted(
            self.states,
            key=lambda s: _stream(self.seed, "probe", *keys, s.series.province.code).random(),
        )

    def _districts(self, *keys: object) -> list[tuple[ExportState, int]]:
        pairs = [(s, d) for s in self.states for d in range(s.series.installs.shape[0])]
        return sorted(
            pairs,
            key=lambda p: _stream(
                self.seed, "probe", *keys, p[0].series.province.areas[p[1]].code
            ).random(),
        )

    def _clean_day(self, state: ExportState, t: int, before: int, after: int = 0) -> bool:
        """Day ``t`` and the days around it all exported, ``t`` delivered once."""
        if t + after >= state.n_days:
            return False
        return state.exported_around(t, before, after) and not state.redelivered[t]

    def _probe(
        self, state: ExportState, check: str, side: str, unit: str, t: int, **values
    ) -> Probe:
        probe = Probe(check, side, unit, state.series.province.code, state.days[t], **values)
        self.placed.append(probe)
        return probe

    # the order of placement ------------------------------------------------------------

    def reserve(self) -> None:
        """Before any fault: the provinces whose unattributed share sits at the limit."""
        if self.count <= 0:
            return
        for state in self._order("unattributed_share")[: self.count]:
            state.claim_all(state.series.province.code)
            self.reserved.append(state)

    def place_district_probes(self) -> None:
        for n in range(self.count):
            for side in ("at", "over"):
                self._coverage(n, side, smallest=True)
                self._coverage(n, side, smallest=False)
                self._decreasing(n, side)
                self._ratio(n, side)
                self._z_score(n, side)
                self._volume(n, side)
            self._zero_mean(n)

    def place_province_probes(self) -> None:
        for n in range(self.count):
            for side in ("at", "over"):
                self._district_sum(n, side)
        for state in self.reserved:
            self._unattributed(state)

    def place_phone_probes(self) -> None:
        """Last, so that nothing recomputes the cells: installs with a phone equal to the
        installs of the row, and one more."""
        for n in range(self.count):
            for side in ("at", "over"):
                self._phone(n, side)

    def _phone(self, n: int, side: str) -> None:
        check = "installs_with_phone_exceeds_installs"
        for state, d in self._districts(check, side, n):
            district = state.series.province.areas[d]
            for t in self._days(state, check, side, n, district.code):
                installs = int(state.series.installs[d, t])
                if (
                    installs <= 0
                    or state.blank_phone[d + 1, t]
                    or not self._clean_day(state, t, 0)
                    or not state.free(district.code, t, (0, 0))
                ):
                    continue
                phones = installs + (1 if side == "over" else 0)
                state.series.with_phone[d, t] = phones
                state.claim(district.code, t, (0, 0))
                self._probe(
                    state,
                    check,
                    side,
                    district.code,
                    t,
                    observed=str(phones),
                    limit=f"<= installs {installs}",
                    flagged=side == "over",
                    what=f"{phones} installs with a phone of {installs} installs",
                )
                return

    # coverage_over_100 -----------------------------------------------------------------

    def _coverage(self, n: int, side: str, *, smallest: bool) -> None:
        """A district saturating at a denominator (``at``) or one install above it."""
        target_kind = "smallest" if smallest else "population_total"
        for state, d in self._districts("coverage_over_100", target_kind, side, n):
            district = state.series.province.areas[d]
            denominators = district.denominators
            kind, cap = min(denominators.items(), key=lambda item: item[1])
            if not smallest:
                kind, cap = "population_total", district.population
            elif kind == "smartphone_owners" or sorted(denominators.values())[1] <= cap + 1:
                # the probe needs a denominator of the seeds' (or, on the 2025 communes, their
                # province's in proportion: unrounded, the last whole number under it is
                # "at"), alone at the bottom
                continue
            if not state.untouched(district.code):
                continue
            t = self._saturation_day(state)
            row = state.series.installs[d]
            if t is None or row[t] <= 0:
                continue
            target = int(cap) + (1 if side == "over" else 0)
            scaled = np.floor(row * (target / int(row[t])) + 0.5).astype(np.int64)
            scaled = np.minimum(scaled, target)
            scaled[t:] = target
            shift_district(state.series, d, scaled, with_total=True)
            state.claim_all(district.code)
            # DESIGN §4 flags every denominator: the total population is above the adults.
            flagged = side == "over" or not smallest
            if cap == int(cap):
                bound = f"{kind} {int(cap)}"
                what = f"saturates at {bound}" + (" + 1" if side == "over" else "")
            else:
                bound = f"{kind} {fmt(cap)}"
                what = f"saturates at {target}, the whole number " + (
                    "over " if side == "over" else "under "
                )
                what += bound
            for j in range(t, state.n_days):
                if state.exported[j]:
                    self._probe(
                        state,
                        "coverage_over_100",
                        side,
                        district.code,
                        j,
                        observed=str(target),
                        limit=f"<= {bound}",
                        flagged=flagged,
                        what=f"{what} from {state.days[t].isoformat()}",
                    )
            return

    def _saturation_day(self, state: ExportState) -> int | None:
        for t in range(max(1, state.n_days // 3), state.n_days):
            if self._clean_day(state, t, 1):
                return t
        return None

    # decreasing_cumulative -------------------------------------------------------------

    def _decreasing(self, n: int, side: str) -> None:
        """Day t's figure equal to day t-1's (``at``) or one below it; what the district
        missed is caught up over the next three days."""
        fall = 1 if side == "over" else 0
        for state, d in self._districts("decreasing_cumulative", side, n):
            district = state.series.province.areas[d]
            row = state.series.installs[d]
            for t in self._days(state, "decreasing_cumulative", side, n, district.code):
                if not (self._clean_day(state, t, 1) and state.free(district.code, t, (1, 4))):
                    continue
                missed = int(row[t] - row[t - 1]) + fall
                new = row.copy()
                new[t] = row[t - 1] - fall
                for k in range(1, 4):
                    if t + k < state.n_days:
                        new[t + k] -= int(round(missed * (4 - k) / 4))
                if (np.diff(new[t:]) < 0).any():
                    continue
                shift_district(state.series, d, new, with_total=False)
                state.claim(district.code, t, (1, 4))
                self._probe(
                    state,
                    "decreasing_cumulative",
                    side,
                    district.code,
                    t,
                    observed=str(int(new[t])),
                    limit=f">= {int(new[t - 1])}",
                    flagged=fall > 0,
                    what=f"cumulative {int(new[t])} after {int(new[t - 1])} the day before",
                )
                return

    def _days(self, state: ExportState, *keys: object) -> list[int]:
        order = _stream(self.seed, "probe-day", *keys).permutation(state.n_days)
        return [int(t) for t in order if t >= 1]

    # outlier_increment -----------------------------------------------------------------

    def _history_length(self, t: int) -> int:
        return min(self.limits.outlier_window, t - 1)

    def _rewrite(
        self,
        state: ExportState,
        d: int,
        t: int,
        history: list[int],
        x: int,
        after: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """District ``d``'s increments: ``history`` on the days before ``t``, ``x`` on ``t``,
        then its own (or ``after``'s); the province total moves with it."""
        row = state.series.installs[d]
        start = t - len(history)
        new = row.copy()
        new[start : t + 1] = row[start - 1] + np.cumsum([*history, x])
        if after is None:
            new[t + 1 :] = row[t + 1 :] - row[t] + new[t]
        else:
            new[t + 1 :] = new[t] + np.cumsum(after(row[t + 1 :]))
        return new

    def _window_probe(
        self,
        n: int,
        side: str,
        kind: str,
        build: Callable[[ExportState, int, int], tuple[list[int], int, Callable | None] | None],
        what: str,
        until_end: bool = False,
        flagged: bool | None = None,
    ) -> None:
        """Place one increment probe: ``build(state, d, t)`` gives the history, the
        increment and what follows, or None where it does not fit."""
        flagged = side == "over" if flagged is None else flagged
        min_t = self.limits.outlier_min_history + 1
        for state, d in self._districts("outlier_increment", kind, side, n):
            district = state.series.province.areas[d]
            for t in range(min_t, state.n_days):
                span = self._history_length(t) + 1
                end = state.n_days - 1 - t if until_end else 1
                gaps = self._gaps(state, t, span)
                if gaps is None or not state.free(district.code, t, (span, end)):
                    continue
                built = build(state, d, t)
                if built is None:
                    continue
                history, x, after = built
                rng = _stream(self.seed, "probe-arrange", district.code, t)
                history = _arrange(history, self.limits.outlier_ratio_window, gaps, rng)
                if history is None:
                    continue
                new = self._rewrite(state, d, t, history, x, after)
                if (np.diff(new) < 0).any() or not self._room(state, d, new):
                    continue
                shift_district(state.series, d, new, with_total=True)
                state.claim(district.code, t, (span, end))
                verdict = judge_increment(history, x, self.limits)
                self._probe(
                    state,
                    "outlier_increment",
                    side,
                    district.code,
                    t,
                    observed=verdict.describe(),
                    limit=what,
                    flagged=flagged,
                    what=f"{kind}: increment {x} after {len(history)} days of "
                    f"{', '.join(map(str, history))}",
                )
                return

    def _gaps(self, state: ExportState, t: int, span: int) -> list[int] | None:
        """Where the history of day ``t`` has a day without export, as positions in it
        (an increment spread over two days: those two must be equal); None when the probe
        cannot sit on ``t`` (``t``, the day before it or the history's base day missing, two
        missing days in a row, or ``t`` delivered twice)."""
        start = t - span
        if start < 0 or state.redelivered[t]:
            return None
        if not (state.exported[t] and state.exported[t - 1] and state.exported[start]):
            return None
        missing = [j for j in range(start + 1, t) if not state.exported[j]]
        if any(b - a == 1 for a, b in zip(missing[:-1], missing[1:], strict=True)):
            return None
        return [j - (start + 1) for j in missing]

    def _room(self, state: ExportState, d: int, new: np.ndarray) -> bool:
        """The probe's district stays under 90 % of its smallest denominator."""
        smallest = min(state.series.province.areas[d].denominators.values())
        return int(new.max()) <= 0.9 * smallest and int(new.min()) >= 0

    def _natural_mean(self, state: ExportState, d: int, t: int, span: int) -> float:
        row = state.series.installs[d]
        return float(row[t] - row[t - span]) / span

    def _ratio(self, n: int, side: str) -> None:
        """An increment exactly ``outlier_ratio`` times the previous mean, ``s``: the
        figures move every other day (0, 2s, 0, 2s, ..., s), so the MAD is ``s`` and the
        modified z-score of 6s stays under its limit."""
        ratio = self.limits.outlier_ratio
        if ratio.denominator != 1:
            return
        extra = 1 if side == "over" else 0

        def build(state: ExportState, d: int, t: int):
            span = self._history_length(t)
            s = max(
                6, int(round(self._natural_mean(state, d, t, span + 1) * (span + 1) / (span + 6)))
            )
            history = _alternating(span, s, self.limits.outlier_ratio_window)
            return history, int(ratio) * s + extra, None

        self._window_probe(
            n,
            side,
            "ratio",
            build,
            f"<= {fmt(ratio)}x the previous {self.limits.outlier_ratio_window}-day mean",
        )

    def _z_score(self, n: int, side: str) -> None:
        """An increment whose modified z-score is exactly ``outlier_z``: history m ± MAD,
        increment m + MAD × outlier_z / 0.6745 (7000 over a MAD of 1349), or one more."""
        step = self.limits.outlier_z / MAD_FACTOR  # = jump / MAD
        mad, jump = step.denominator, step.numerator
        if mad > Z_PROBE_MAX_MAD:
            return
        extra = 1 if side == "over" else 0
        window = self.limits.outlier_ratio_window
        ratio = self.limits.outlier_ratio

        def build(state: ExportState, d: int, t: int):
            span = self._history_length(t)
            m = max(mad + 1, int(self._natural_mean(state, d, t, span + 1)))
            while True:
                history = _symmetric(span, m, mad)
                x = m + jump + extra
                recent = Fraction(sum(history[-window:]), len(history[-window:]))
                if ratio * recent >= x + 100:
                    return history, x, None
                m += 50

        self._window_probe(
            n, side, "z-score", build, f"modified z-score <= {fmt(self.limits.outlier_z)}"
        )

    def _volume(self, n: int, side: str) -> None:
        """After a stalled week (1 install a day, to the end of the campaign), an increment
        equal to the minimum volume (not above it: no flag) or one more."""
        volume = self.limits.outlier_min_volume
        if volume.denominator != 1 or volume <= self.limits.outlier_ratio:
            return
        x = int(volume) + (1 if side == "over" else 0)

        def build(state: ExportState, d: int, t: int):
            return [1] * self._history_length(t), x, lambda rest: np.ones(len(rest), dtype=np.int64)

        self._window_probe(
            n, side, "minimum volume", build, f"increment > {fmt(volume)}", until_end=True
        )

    def _zero_mean(self, n: int) -> None:
        """After a week with no new installs at all (to the end of the campaign, bar this
        day), an increment of 5 × the minimum volume: more than 6 × a mean of 0."""
        x = int(math.ceil(self.limits.outlier_min_volume)) * ZERO_MEAN_VOLUME_FACTOR

        def build(state: ExportState, d: int, t: int):
            return (
                [0] * self._history_length(t),
                x,
                lambda rest: np.zeros(len(rest), dtype=np.int64),
            )

        self._window_probe(
            n,
            "over",
            "previous mean 0",
            build,
            f"<= {fmt(self.limits.outlier_ratio)}x a previous mean of 0",
            until_end=True,
            flagged=True,
        )

    # province totals -------------------------------------------------------------------

    def _district_sum(self, n: int, side: str) -> None:
        """A province total equal to its districts' sum (``at``) or one below it."""
        below = 1 if side == "over" else 0
        for state in self._order(SUM_PROBE_STREAM, side, n):
            if state in self.reserved:
                continue
            code = state.series.province.code
            for t in self._days(state, SUM_PROBE_STREAM, side, n, code):
                if not (self._clean_day(state, t, 1, 1) and state.free(code, t, PROVINCE_WINDOW)):
                    continue
                attributed = int(state.series.installs[:, t].sum())
                total = attributed - below
                if total < state.series.total[t - 1] or total > state.series.total[t]:
                    continue
                state.series.total[t] = total
                state.claim(code, t, PROVINCE_WINDOW)
                level = state.series.province.area_level
                self._probe(
                    state,
                    children_check(level),
                    side,
                    code,
                    t,
                    observed=str(attributed),
                    limit=f"<= {total}",
                    flagged=below > 0,
                    what=f"province total {total}, {level}s {attributed}",
                )
                return

    def _unattributed(self, state: ExportState) -> None:
        """Unattributed installs exactly the limit of the total on every day (one district
        takes the few installs that make it a whole number), and 5.01 % on one day."""
        limit = self.limits.unattributed_share_max
        attributed_share = 1 - limit
        multiple = attributed_share.numerator  # S = total × (1 - limit): S a multiple of this
        series = state.series
        code = series.province.code
        sums = series.installs.sum(axis=0)
        rounded = np.maximum.accumulate(-(-sums // multiple) * multiple)
        adjust = rounded - sums
        for d in self._absorbers(state, adjust):
            row = series.installs[d] + adjust
            shift_district(series, d, row, with_total=False)
            break
        else:
            return
        attributed = series.installs.sum(axis=0)
        series.total = (attributed // multiple) * attributed_share.denominator
        over_share = limit + OVER_SHARE
        over_day = None
        for t in self._days(state, "unattributed_share", code):
            if not self._clean_day(state, t, 1, 1):
                continue
            total = math.ceil(Fraction(int(attributed[t])) / (1 - over_share))
            if series.total[t - 1] <= total <= series.total[t + 1]:
                series.total[t] = total
                over_day = t
                break
        unattributed = series.total - attributed
        ratio = series.curves.unattributed_phone_ratio
        series.total_with_phone = series.with_phone.sum(axis=0) + np.floor(
            unattributed * ratio + 0.5
        ).astype(np.int64)
        for t in np.flatnonzero(state.exported):
            total, part = int(series.total[t]), int(unattributed[t])
            side = "over" if t == over_day else "at"
            share = Fraction(part, total)
            self._probe(
                state,
                "unattributed_share",
                side,
                code,
                int(t),
                observed=f"{fmt(share)} ({part} of {total})",
                limit=f"<= {fmt(limit)}",
                flagged=side == "over",
                what=f"unattributed share {fmt(share)}",
            )

    def _absorbers(self, state: ExportState, adjust: np.ndarray) -> list[int]:
        """Districts that can take ``adjust`` without a falling figure, busiest first."""
        series = state.series
        fits = []
        for d, district in enumerate(series.province.areas):
            row = series.installs[d] + adjust
            if state.untouched(district.code) and not (np.diff(row) < 0).any():
                fits.append((-int(np.diff(series.installs[d]).min(initial=0)), d))
        return [d for _, d in sorted(fits)]


def _alternating(span: int, s: int, recent: int) -> list[int]:
    """``span`` increments whose last ``recent`` average exactly ``s`` and whose median and
    MAD are both ``s``: 0 and 2s alternating, with s where a pair is incomplete."""
    tail = [0, 2 * s] * (recent // 2) + ([s] if recent % 2 else [])
    older = span - len(tail)
    head = [2 * s, 0] * (older // 2) + ([s] if older % 2 else [])
    return (head + tail)[-span:] if older >= 0 else tail[-span:]


def _arrange(
    history: list[int], recent: int, gaps: Sequence[int], rng: np.random.Generator
) -> list[int] | None:
    """An order of ``history`` (the last ``recent`` values kept among the last) in which
    each day without export and the day after it get equal increments, so the increment
    spread evenly over them is the one placed; None if there is none."""
    if not gaps:
        return history
    older, tail = history[:-recent], history[-recent:]
    for _ in range(500):
        candidate = [*rng.permutation(older).tolist(), *rng.permutation(tail).tolist()]
        if all(candidate[g] == candidate[g + 1] for g in gaps):
            return [int(v) for v in candidate]
    return None


def _symmetric(span: int, m: int, mad: int) -> list[int]:
    """``span`` increments with median ``m`` and MAD ``mad``: m - mad and m + mad
    alternating, with m in the middle of an odd count."""
    values = [m - mad if k % 2 == 0 else m + mad for k in range(span - span % 2)]
    if span % 2:
        values.insert(len(values) // 2, m)
    return values
