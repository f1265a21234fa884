"""The campaign simulator: what the ministry's export files say, and the checks on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.units import Province


@dataclass
class ExportSeries:
    """The figures the export gives a province on every day (stale days included)."""

    curves: ProvinceCurves
    installs: np.ndarray
    with_phone: np.ndarray
    total: np.ndarray
    total_with_phone: np.ndarray

    @classmethod
    def from_truth(cls, curves: ProvinceCurves) -> ExportSeries:
        return cls(
            curves,
            curves.installs.copy(),
            curves.with_phone.copy(),
            curves.total.copy(),
            curves.total_with_phone.copy(),
        )

    def copy(self) -> ExportSeries:
        return ExportSeries(
            self.curves,
            self.installs.copy(),
            self.with_phone.copy(),
            self.total.copy(),
            self.total_with_phone.copy(),
        )

    @property
    def province(self) -> Province:
        return self.curves.province


@dataclass(frozen=True)
class OutlierRule:
    """The reference outlier rule (DESIGN §5) the simulator checks its export against.

    An increment is an outlier when it is at least ``min_volume`` and either its modified
    z-score over the trailing ``window`` increments exceeds ``z`` (MAD > 0) or it exceeds
    ``ratio`` × the mean of the previous ``ratio_window`` increments; at least
    ``min_history`` trailing increments are needed. Stale days are interpolated linearly
    first (gaps spread evenly). Clean campaigns raise no flag under this rule.
    """

    window: int = 14
    z: float = 3.5
    ratio: float = 6.0
    ratio_window: int = 7
    min_history: int = 7
    min_volume: float = 10.0


OUTLIER_RULE = OutlierRule()
UNATTRIBUTED_LIMIT = 0.05

Flag = tuple[str, str, int]


def export_flags(
    series: ExportSeries, exported: np.ndarray, rule: OutlierRule = OUTLIER_RULE
) -> set[Flag]:
    """The flags the DESIGN §5 export checks raise on one province: (check, unit, day index).

    ``exported`` marks the days whose export arrived. Covers decreasing_cumulative,
    district_sum_exceeds_province, unattributed_share, coverage_over_100 (installs above
    the census population) and outlier_increment (``rule``), for districts and province.
    """
    province = series.province
    codes = [province.code, *(district.code for district in province.districts)]
    values = np.vstack([series.total, series.installs])
    populations = np.array([province.population, *(d.population for d in province.districts)])
    days = np.flatnonzero(exported)
    seen = values[:, days]
    flags: set[Flag] = set()
    for unit, j in np.argwhere(np.diff(seen, axis=1) < 0):
        flags.add(("decreasing_cumulative", codes[unit], int(days[j + 1])))
    for unit, j in np.argwhere(seen > populations[:, None]):
        flags.add(("coverage_over_100", codes[unit], int(days[j])))
    attributed = series.installs[:, days].sum(axis=0)
    totals = series.total[days]
    for j in np.flatnonzero(attributed > totals):
        flags.add(("district_sum_exceeds_province", province.code, int(days[j])))
    unattributed = (totals - attributed) / np.maximum(totals, 1)
    for j in np.flatnonzero(unattributed > UNATTRIBUTED_LIMIT):
        flags.add(("unattributed_share", province.code, int(days[j])))
    return flags | _outlier_flags(values, days, codes, rule)


def _outlier_flags(
    values: np.ndarray, days: np.ndarray, codes: Sequence[str], rule: OutlierRule
) -> set[Flag]:
    n_days = values.shape[1]
    daily = np.vstack([np.interp(np.arange(n_days), days, row[days]) for row in values])
    increments = np.diff(daily, axis=1)
    exported = set(days.tolist())
    flags: set[Flag] = set()
    for j in range(increments.shape[1]):
        if j + 1 not in exported:
            continue
        history = increments[:, max(0, j - rule.window) : j]
        if history.shape[1] < rule.min_history:
            continue
        x = increments[:, j]
        median = np.median(history, axis=1)
        mad = np.median(np.abs(history - median[:, None]), axis=1)
        z = np.divide(0.6745 * (x - median), mad, out=np.zeros_like(x), where=mad > 0)
        mean = history[:, -rule.ratio_window :].mean(axis=1)
        spike = (mean > 0) & (x > rule.ratio * mean)
        for unit in np.flatnonzero((x >= rule.min_volume) & ((z > rule.z) | spike)):
            flags.add(("outlier_increment", codes[unit], j + 1))
    return flags
