"""The campaign simulator: export days: which arrive, when, in which format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _stream

# When a day's export is due: early the next day, by the daily run (DESIGN §7: "once D's
# export can have arrived (early on D+1, local time)"; the daily run starts at 02:00).
EXPORT_DUE_AFTER = timedelta(days=1, hours=2)


@dataclass(frozen=True)
class Delivery:
    """One export file: its name, format and arrival time (local)."""

    name: str
    fmt: str
    bom: bool
    arrival: datetime

    @property
    def path(self) -> str:
        return f"installs/{self.name}"


@dataclass(frozen=True)
class ExportDay:
    index: int
    day: date
    deliveries: tuple[Delivery, ...]

    @property
    def stale(self) -> bool:
        return not self.deliveries

    @property
    def final(self) -> Delivery:
        return self.deliveries[-1]

    @property
    def due(self) -> datetime:
        """When the export is expected to have arrived (the day's daily run)."""
        return datetime.combine(self.day, time()) + EXPORT_DUE_AFTER

    def newest_by(self, moment: datetime | None) -> Delivery | None:
        """The newest delivery that had arrived by ``moment`` (None: all of them)."""
        arrived = [d for d in self.deliveries if moment is None or d.arrival <= moment]
        return max(arrived, key=lambda d: (d.arrival, d.name)) if arrived else None


def _bernoulli_with_minimum(draws: np.ndarray, candidates: Sequence[int], rate: float) -> set[int]:
    """Candidates whose draw is below ``rate``; at least the lowest one when ``rate`` > 0."""
    chosen = {c for c in candidates if draws[c] < rate}
    if not chosen and rate > 0 and candidates:
        chosen = {min(candidates, key=lambda c: draws[c])}
    return chosen


def _delivery(day: date, suffix: str, rng_row: np.ndarray, arrival: datetime) -> Delivery:
    fmt = "parquet" if rng_row[0] < 0.10 else "csv.gz" if rng_row[0] < 0.30 else "csv"
    name = f"installs_{day:%Y%m%d}{suffix}.{fmt}"
    return Delivery(name=name, fmt=fmt, bom=fmt != "parquet" and rng_row[1] < 0.3, arrival=arrival)


def plan_export_days(days: Sequence[date], seed: int, rates: FaultRates) -> list[ExportDay]:
    """Which snapshot days are stale or re-delivered, and every delivery's name and time."""
    draws = _stream(seed, "export-days").random((len(days), 8))
    inner = list(range(1, len(days) - 1))
    stale = _bernoulli_with_minimum(draws[:, 0], inner, rates.stale_export)
    fresh = [i for i in range(len(days)) if i not in stale]
    redelivered = _bernoulli_with_minimum(draws[:, 1], fresh, rates.redelivery)
    plan = []
    for i, day in enumerate(days):
        deliveries: tuple[Delivery, ...] = ()
        if i not in stale:
            arrival = datetime.combine(day + timedelta(days=1), time(0, 20)) + timedelta(
                seconds=int(draws[i, 2] * 80 * 60)
            )
            deliveries = (_delivery(day, "", draws[i, 3:5], arrival),)
            if i in redelivered:
                later = arrival + timedelta(seconds=int(2 * 3600 + draws[i, 5] * 4 * 3600))
                deliveries += (_delivery(day, "_v2", draws[i, 6:8], later),)
        plan.append(ExportDay(index=i, day=day, deliveries=deliveries))
    return plan
