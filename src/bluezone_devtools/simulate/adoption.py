"""The campaign simulator: adoption model (the true figures)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from bluezone_devtools.simulate.rng import _stream
from bluezone_devtools.simulate.units import Area, Province

WEEKEND_FACTOR = 0.7
INCREMENT_NOISE = 0.15
GAIN_BASE, GAIN_URBAN = 0.11, 0.30
MIDPOINT_BASE, MIDPOINT_URBAN, MIDPOINT_MAX = 3.0, 1.5, 7.0
RATE_BASE, RATE_URBAN = 0.15, 0.06
BASELINE_HORIZON_DAYS = 60.0


@dataclass
class ProvinceCurves:
    """True cumulative installs of one province: areas (districts, communes) × days, and the
    province total."""

    province: Province
    installs: np.ndarray
    with_phone: np.ndarray
    total: np.ndarray
    total_with_phone: np.ndarray
    phone_ratio: np.ndarray
    unattributed_phone_ratio: float


def _logistic(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _weekday_factors(days: Sequence[date]) -> np.ndarray:
    return np.array([WEEKEND_FACTOR if day.weekday() >= 5 else 1.0 for day in days])


def _area_curve(
    district: Area,
    seed: int,
    factor: float,
    shift: float,
    weekdays: np.ndarray,
    level: str = "district",
) -> tuple[np.ndarray, float]:
    """One area's (district's, commune's) true cumulative installs per day, and its
    with-phone ratio."""
    rng = _stream(seed, level, district.code)
    n_days = len(weekdays)
    urban = district.urban_share
    start = rng.uniform(0.01, 0.03)
    gain = factor * (GAIN_BASE + GAIN_URBAN * urban) * math.exp(rng.normal(0.0, 0.12))
    baseline = rng.uniform(0.0002, 0.0005) * BASELINE_HORIZON_DAYS
    ceiling = min(0.58, 0.75 * district.adults_share, 0.8 * (0.5439 + 0.3092 * urban))
    gain = max(0.0, min(gain, ceiling - start - baseline))
    midpoint = MIDPOINT_BASE - MIDPOINT_URBAN * urban + shift + rng.normal(0.0, 0.8)
    midpoint = float(np.clip(midpoint, 0.5, MIDPOINT_MAX))
    rate = max(0.1, RATE_BASE + RATE_URBAN * urban + rng.normal(0.0, 0.015))
    phone_ratio = rng.uniform(0.6, 0.85)
    noise = 1.0 + rng.uniform(-INCREMENT_NOISE, INCREMENT_NOISE, n_days)
    t = np.arange(n_days, dtype=float)
    floor = _logistic(-rate * midpoint)
    share = (
        start
        + gain * (_logistic(rate * (t - midpoint)) - floor) / (1.0 - floor)
        + baseline * (1.0 - np.exp(-t / BASELINE_HORIZON_DAYS))
    )
    increments = np.diff(share) * weekdays[1:] * noise[1:] * district.population
    cumulative = district.population * start + np.concatenate([[0.0], np.cumsum(increments)])
    return np.floor(cumulative + 0.5).astype(np.int64), phone_ratio


def simulate_adoption(province: Province, days: Sequence[date], seed: int) -> ProvinceCurves:
    """The true cumulative installs of a province's areas (districts, communes), and its
    official total.

    The official total adds installs that cannot be attributed to an area: a fixed share of
    the total between 1.2 % and 3.8 % per province.
    """
    rng = _stream(seed, "province", province.code)
    factor = float(np.clip(math.exp(rng.normal(0.0, 0.28)), 0.45, 2.0))
    shift = rng.normal(0.0, 1.0)
    unattributed = rng.uniform(0.012, 0.038)
    unattributed_phone = rng.uniform(0.6, 0.85)
    weekdays = _weekday_factors(days)
    level = province.area_level
    curves = [_area_curve(d, seed, factor, shift, weekdays, level) for d in province.areas]
    installs = np.vstack([installs for installs, _ in curves])
    phone_ratio = np.array([ratio for _, ratio in curves])
    with_phone = np.floor(installs * phone_ratio[:, None] + 0.5).astype(np.int64)
    attributed = installs.sum(axis=0)
    total = np.floor(attributed / (1.0 - unattributed) + 0.5).astype(np.int64)
    unattributed_phone_installs = np.floor((total - attributed) * unattributed_phone + 0.5)
    total_with_phone = np.minimum(
        np.maximum.accumulate(
            with_phone.sum(axis=0) + unattributed_phone_installs.astype(np.int64)
        ),
        total,
    )
    return ProvinceCurves(
        province=province,
        installs=installs,
        with_phone=with_phone,
        total=total,
        total_with_phone=total_with_phone,
        phone_ratio=phone_ratio,
        unattributed_phone_ratio=unattributed_phone,
    )
