"""The campaign simulator: a province's export while faults and probes are placed in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bluezone_devtools.simulate.definitions import Limits
from bluezone_devtools.simulate.export_series import ExportSeries

# Days kept clear around a fault (before, after), so that faults do not overlap.
DISTRICT_WINDOW = (8, 2)
PROVINCE_WINDOW = (5, 5)


@dataclass
class ExportState:
    """A province's export while faults are injected, and the unit-days already taken."""

    series: ExportSeries
    exported: np.ndarray
    redelivered: np.ndarray
    days: Sequence[date]
    limits: Limits
    blank_phone: np.ndarray  # rows (province first) × days whose installs_with_phone is empty
    claimed_days: dict[str, set[int]] = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        return len(self.days)

    def free(self, unit: str, t: int, window: tuple[int, int]) -> bool:
        taken = self.claimed_days.get(unit, set())
        return not any(t + k in taken for k in range(-window[0], window[1] + 1))

    def claim(self, unit: str, t: int, window: tuple[int, int]) -> None:
        self.claimed_days.setdefault(unit, set()).update(range(t - window[0], t + window[1] + 1))

    def claim_all(self, unit: str) -> None:
        self.claim(unit, 0, (0, self.n_days))

    def untouched(self, unit: str) -> bool:
        return not self.claimed_days.get(unit)

    def exported_around(self, t: int, before: int, after: int) -> bool:
        lo, hi = t - before, min(t + after, self.n_days - 1)
        return lo >= 0 and bool(self.exported[lo : hi + 1].all())
