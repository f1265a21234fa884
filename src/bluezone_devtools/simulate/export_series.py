"""The campaign simulator: what the ministry's export files say."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bluezone_devtools.simulate.adoption import ProvinceCurves
from bluezone_devtools.simulate.units import Province


@dataclass
class ExportSeries:
    """The figures the export gives a province on every day (stale days included);
    ``absent`` marks the rows (province first, then districts) × days the export leaves out."""

    curves: ProvinceCurves
    installs: np.ndarray
    with_phone: np.ndarray
    total: np.ndarray
    total_with_phone: np.ndarray
    absent: np.ndarray

    @classmethod
    def from_truth(cls, curves: ProvinceCurves) -> ExportSeries:
        n_districts, n_days = curves.installs.shape
        return cls(
            curves,
            curves.installs.copy(),
            curves.with_phone.copy(),
            curves.total.copy(),
            curves.total_with_phone.copy(),
            np.zeros((1 + n_districts, n_days), dtype=bool),
        )

    def copy(self) -> ExportSeries:
        return ExportSeries(
            self.curves,
            self.installs.copy(),
            self.with_phone.copy(),
            self.total.copy(),
            self.total_with_phone.copy(),
            self.absent.copy(),
        )

    @property
    def province(self) -> Province:
        return self.curves.province


def recompute_with_phone(series: ExportSeries, d: int, days: slice = slice(None)) -> None:
    """A district's installs with a phone after its installs changed: its usual share."""
    ratio = series.curves.phone_ratio[d]
    series.with_phone[d, days] = np.floor(series.installs[d, days] * ratio + 0.5)


def shift_district(series: ExportSeries, d: int, new_row: np.ndarray, *, with_total: bool) -> None:
    """Replace district ``d``'s cumulative figures; with ``with_total`` the province total
    moves by the same amount (the installs that cannot be attributed stay as they were)."""
    change = new_row.astype(np.int64) - series.installs[d]
    series.installs[d] = new_row
    recompute_with_phone(series, d)
    if with_total:
        series.total += change
        ratio = series.curves.phone_ratio[d]
        series.total_with_phone += np.floor(change * ratio + 0.5).astype(np.int64)
