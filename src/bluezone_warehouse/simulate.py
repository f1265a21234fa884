"""Simulate an install campaign: the landing zone the warehouse ingests, and its ground truth.

``simulate_campaign(out, ...)`` writes three folders under ``out/``:

``installs/``
    the ministry's national export, one file per snapshot day (DESIGN §3.2): columns
    ``snapshot_date,level,unit_code,installs,installs_with_phone``, a ``province`` row
    (the official total) per simulated province and a ``district`` row per district.
    Mostly ``installs_YYYYMMDD.csv``, some ``.csv.gz`` and ``.parquet``, some CSVs with a
    BOM; a corrected re-delivery is ``installs_YYYYMMDD_v2.<ext>``. The export for day D
    arrives early on D+1 (local time) and the file's mtime says when.
``reports/``
    every reporting unit's daily report (DESIGN §3.3): one file per district committee
    and day (``YYYYMMDD_<province>_<district slug>.<csv|xlsx|json>``), the provincial
    agencies consolidated per province and day (``YYYYMMDD_<province>_so-nganh.<xlsx|csv>``,
    a late agency in ``..._so-nganh_<agency>.<ext>``), a resubmission in ``..._lan2.<ext>``;
    headers in Vietnamese or English, several date, time and number styles. Every file's
    mtime is its arrival time.
``_simulation/``
    the ground truth, never read by ingestion: ``simulation.json`` (the parameters),
    ``truth_installs.csv`` (true cumulative figures), ``truth_exported.csv`` (what the
    final exports say), ``truth_reports.csv`` (each registry unit's final reporting state
    per day) and ``faults.csv`` (every injected fault and natural late/missing report,
    named by the check ids of DESIGN §5).

The adoption model is a logistic curve of cumulative installs per district (urban districts
faster and higher, provinces heterogeneous, weekend dips), calibrated on the 2020 Bluezone
campaign (about 20 million installs by 20/8/2020). Faults are injected so that each trips
exactly its own check: every export fault is verified against a reference implementation
of the export checks (``export_flags``) before it is kept.

Deterministic: the same arguments give byte-identical files with identical mtimes. Every
random draw comes from a stream keyed by (seed, purpose, province or unit), so simulating a
subset of the provinces gives those provinces the same figures as the full run. Nothing
reads the wall clock.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import shutil
import struct
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR
from bluezone_warehouse.names import ascii_fold, slug

# --------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------


def _option(default: float, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class FaultRates:
    """How often the simulator injects each kind of fault (and two benign irregularities).

    Each field's ``metadata["help"]`` is its one-line description (for ``--help``). Rates
    are shares of the opportunities named in the help text; every rate above zero places
    at least one fault of its kind when the campaign has room for one, so a short campaign
    still exercises every check. Fault kinds are the check ids of DESIGN §5.
    """

    late_report: float = _option(
        0.06,
        "Share of expected unit-days whose report arrives after the unit's deadline "
        "(1 minute to 6 hours late, some after midnight).",
    )
    missing_report: float = _option(
        0.03, "Share of expected unit-days for which the unit never sends a report."
    )
    conflicting_resubmission: float = _option(
        0.01,
        "Share of on-time unit-days the unit reports twice before its deadline with "
        "different figures (the later submission wins).",
    )
    unknown_unit: float = _option(
        0.003,
        "Share of report rows accompanied by a row from a sender that is not in the "
        "registry (its code and name match no unit).",
    )
    malformed_file: float = _option(
        0.003,
        "Share of report files that are broken (truncated, empty, a required column "
        "missing, or an unparseable number); the sender resends a good file before its "
        "deadline.",
    )
    out_of_range_date: float = _option(
        0.002,
        "Share of report rows accompanied by a row whose report date is after the day it "
        "was sent or before the campaign.",
    )
    decreasing_cumulative: float = _option(
        0.001,
        "Share of exported district-days whose cumulative installs fall below the previous day's.",
    )
    district_sum_exceeds_province: float = _option(
        0.005,
        "Share of exported province-days whose district figures add up to more than the "
        "official provincial total.",
    )
    unattributed_share: float = _option(
        0.01,
        "Share of exported province-days whose unattributed installs (province total "
        "minus its districts) exceed 5%% of the total.",
    )
    report_export_mismatch: float = _option(
        0.01,
        "Share of district reports whose installs differ from the export's district "
        "figure by 15-40%%.",
    )
    outlier_increment: float = _option(
        0.002,
        "Share of exported district-days whose daily increment spikes to 8-12x the "
        "previous 7-day mean.",
    )
    coverage_over_100: int = _option(
        2,
        "Number of the smallest simulated districts whose exported installs grow past "
        "their population.",
    )
    staff_installed_exceeds_total: float = _option(
        0.005, "Share of agency reports with more staff installed than staff in total."
    )
    stale_export: float = _option(
        0.04,
        "Share of snapshot days whose install export never arrives (never the first or "
        "the last day).",
    )
    redelivery: float = _option(
        0.08,
        "Share of snapshot days whose export is delivered twice: a first file with some "
        "district figures wrong, then a corrected _v2 file a few hours later.",
    )
    benign_resubmission: float = _option(
        0.02,
        "Share of on-time unit-days the unit reports twice before its deadline with the "
        "same figures (not a fault).",
    )
    blank_unit_code: float = _option(
        0.08,
        "Share of report rows that leave the unit code blank and give a variant of the "
        "unit's name instead (not a fault).",
    )

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if option.name == "coverage_over_100":
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"coverage_over_100 must be a count >= 0, got {value!r}")
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"{option.name} must be a share in [0, 1], got {value!r}")

    @classmethod
    def none(cls) -> FaultRates:
        """No faults and no irregularities: the clean campaign of exact end-to-end tests."""
        return cls(**{option.name: 0 for option in fields(cls)})

    def as_dict(self) -> dict[str, float | int]:
        return {option.name: getattr(self, option.name) for option in fields(self)}


DEFAULT_FAULTS = FaultRates()


@dataclass
class SimulationResult:
    """Where a simulated campaign was written and what it holds."""

    landing_dir: Path
    truth_dir: Path
    files_written: int
    faults: int
    days: list[date]


# --------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------

COMMITTEE = "district_committee"
AGENCY = "provincial_agency"


@dataclass(frozen=True)
class District:
    code: str
    province_code: str
    name_full: str
    base_name: str
    alt_base_name: str
    kind: str
    population: int
    urban_share: float
    adults_share: float


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    province_code: str
    district_code: str
    deadline: time
    active_from: date | None
    active_to: date | None
    name_is_unique: bool = True

    def active_on(self, day: date) -> bool:
        after_start = self.active_from is None or day >= self.active_from
        return after_start and (self.active_to is None or day <= self.active_to)

    def deadline_on(self, day: date) -> datetime:
        return datetime.combine(day, self.deadline)

    @property
    def short_code(self) -> str:
        return self.code.split("-", 1)[-1].lower()


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    population: int
    propensity: float
    districts: tuple[District, ...]
    units: tuple[Unit, ...]

    @property
    def committees(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == COMMITTEE)

    @property
    def agencies(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == AGENCY)


def _read_seed(name: str, seeds_dir: Path) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / name, dtype=str, keep_default_na=False)


def _strip_type(name: str, kind: str) -> str:
    prefix = kind.casefold() + " "
    return name[len(prefix) :] if name.casefold().startswith(prefix) else name


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _district_from_row(row: pd.Series) -> District:
    population = int(float(row["population_total"]))
    return District(
        code=row["district_code"],
        province_code=row["province_code"],
        name_full=row["district_name_full"],
        base_name=_strip_type(row["district_name_full"], row["district_type"]),
        alt_base_name=_strip_type(row["district_name"], row["district_type"]),
        kind=row["district_type"],
        population=population,
        urban_share=float(row["population_urban"] or 0) / population,
        adults_share=float(row["population_15plus"] or population * 0.75) / population,
    )


def _name_key(name: str) -> str:
    """A unit name folded for comparison: no diacritics, case or ``UBND`` prefix."""
    return " ".join(ascii_fold(name).casefold().split()).removeprefix("ubnd ")


def _unit_from_row(row: pd.Series, shared_names: set[str]) -> Unit:
    return Unit(
        code=row["unit_code"],
        name=row["unit_name"],
        kind=row["unit_kind"],
        province_code=row["province_code"],
        district_code=row["district_code"],
        deadline=time.fromisoformat(row["deadline_local"]),
        active_from=_optional_date(row["reports_from"]),
        active_to=_optional_date(row["reports_to"]),
        name_is_unique=_name_key(row["unit_name"]) not in shared_names,
    )


def load_provinces(
    codes: Sequence[str] | None = None, seeds_dir: Path = SEEDS_DIR
) -> list[Province]:
    """The provinces to simulate (all when ``codes`` is None), with districts and units.

    Districts without a census population (Hoàng Sa) are left out: they have no installs
    and no registry unit. Units whose folded name is shared with another unit anywhere in
    the registry (ten ``Huyện Châu Thành``...) are marked: they always write their code.
    """
    provinces = _read_seed("ref_provinces.csv", seeds_dir)
    owners = _read_seed("ref_smartphone_owners.csv", seeds_dir).set_index("province_code")
    districts = _read_seed("ref_districts.csv", seeds_dir)
    districts = districts[pd.to_numeric(districts["population_total"], errors="coerce") > 0]
    units = _read_seed("reporting_units.csv", seeds_dir)
    keys = units["unit_name"].map(_name_key)
    shared_names = set(keys[keys.duplicated(keep=False)])
    wanted = sorted(provinces["province_code"]) if codes is None else _normalise_codes(codes)
    unknown = sorted(set(wanted) - set(provinces["province_code"]))
    if unknown:
        raise ValueError(f"unknown province codes {unknown}; expected 2-digit GSO codes")
    by_code = provinces.set_index("province_code")
    return [
        Province(
            code=code,
            name=by_code.at[code, "province_name"],
            population=int(by_code.at[code, "population_total"]),
            propensity=float(owners.at[code, "propensity"]),
            districts=tuple(
                _district_from_row(row)
                for _, row in districts[districts["province_code"] == code]
                .sort_values("district_code")
                .iterrows()
            ),
            units=tuple(
                _unit_from_row(row, shared_names)
                for _, row in units[units["province_code"] == code]
                .sort_values("unit_code")
                .iterrows()
            ),
        )
        for code in wanted
    ]


def _normalise_codes(codes: Sequence[str]) -> list[str]:
    return sorted({str(code).strip().zfill(2) for code in codes})


# --------------------------------------------------------------------------------------
# Randomness
# --------------------------------------------------------------------------------------


def _stream(seed: int, *keys: object) -> np.random.Generator:
    """An independent random stream for (seed, keys), stable across runs and platforms."""
    digest = hashlib.sha256("/".join(str(key) for key in keys).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, *struct.unpack("<4I", digest[:16])]))


def _pick(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float]) -> Any:
    cumulative = np.cumsum(weights) / sum(weights)
    return options[int(np.searchsorted(cumulative, rng.random(), side="right"))]


# --------------------------------------------------------------------------------------
# Adoption model (the true figures)
# --------------------------------------------------------------------------------------

WEEKEND_FACTOR = 0.7
INCREMENT_NOISE = 0.15
GAIN_BASE, GAIN_URBAN = 0.11, 0.30
MIDPOINT_BASE, MIDPOINT_URBAN, MIDPOINT_MAX = 3.0, 1.5, 7.0
RATE_BASE, RATE_URBAN = 0.15, 0.06
BASELINE_HORIZON_DAYS = 60.0


@dataclass
class ProvinceCurves:
    """True cumulative installs of one province: districts × days, and the province total."""

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


def _district_curve(
    district: District,
    seed: int,
    factor: float,
    shift: float,
    weekdays: np.ndarray,
) -> tuple[np.ndarray, float]:
    """One district's true cumulative installs per day, and its with-phone ratio."""
    rng = _stream(seed, "district", district.code)
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
    """The true cumulative installs of a province's districts, and its official total.

    The official total adds installs that cannot be attributed to a district: a fixed
    share of the total between 1.2 % and 3.8 % per province.
    """
    rng = _stream(seed, "province", province.code)
    factor = float(np.clip(math.exp(rng.normal(0.0, 0.28)), 0.45, 2.0))
    shift = rng.normal(0.0, 1.0)
    unattributed = rng.uniform(0.012, 0.038)
    unattributed_phone = rng.uniform(0.6, 0.85)
    weekdays = _weekday_factors(days)
    curves = [_district_curve(d, seed, factor, shift, weekdays) for d in province.districts]
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


# --------------------------------------------------------------------------------------
# The export: what the ministry's files say, and the checks that read them
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Faults: the manifest
# --------------------------------------------------------------------------------------

FAULT_KINDS = (
    "missing_report",
    "late_report",
    "conflicting_resubmission",
    "unknown_unit",
    "malformed_file",
    "out_of_range_date",
    "decreasing_cumulative",
    "district_sum_exceeds_province",
    "unattributed_share",
    "report_export_mismatch",
    "outlier_increment",
    "coverage_over_100",
    "staff_installed_exceeds_total",
    "stale_export",
    "redelivery",
)


@dataclass(eq=False)
class Fault:
    """One row of ``faults.csv``; ``cause`` is the fault whose injection implies this one."""

    kind: str
    day: date
    unit_code: str = ""
    province_code: str = ""
    file: str = ""
    detail: str = ""
    cause: Fault | None = None
    fault_id: str = ""


# --------------------------------------------------------------------------------------
# Export days: which arrive, when, in which format
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Export fault injection
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Report templates: how each unit fills in its spreadsheet
# --------------------------------------------------------------------------------------

LABELS = {
    "vi": {
        "stt": "STT",
        "report_date": "Ngày báo cáo",
        "unit_code": "Mã đơn vị",
        "unit_name": ("Tên đơn vị", "Đơn vị"),
        "submitted_at": "Thời gian gửi",
        "installs_reported": ("Số lượng cài đặt", "Số người đã cài đặt"),
        "staff_total": "Tổng số CBCCVC",
        "staff_installed": "Số CBCCVC đã cài đặt",
        "households_visited": "Số hộ đã tuyên truyền",
        "note": "Ghi chú",
        "rate": "Tỷ lệ (%)",
    },
    "en": {
        "stt": "no",
        "report_date": "report_date",
        "unit_code": "unit_code",
        "unit_name": ("unit_name",),
        "submitted_at": "submitted_at",
        "installs_reported": ("installs_reported",),
        "staff_total": "staff_total",
        "staff_installed": "staff_installed",
        "households_visited": "households_visited",
        "note": "note",
        "rate": "rate",
    },
}
COUNT_FIELDS = ("installs_reported", "staff_total", "staff_installed", "households_visited")


@dataclass(frozen=True)
class Template:
    """A unit's spreadsheet habits: language, columns, date/time/number styles, layout."""

    kind: str
    lang: str
    fmt: str
    date_style: str
    time_style: str | None
    number_style: str
    header_case: str
    header_spacing: str
    label_variant: int
    column_order: int
    households: bool
    note: bool
    rate: bool
    gov: bool
    numbers_as_text: bool
    date_cells: bool
    json_shape: str
    json_indent: int | None
    bom: bool
    sheet_title: str


def _number_style(rng: np.random.Generator, lang: str) -> str:
    if lang == "vi":
        return _pick(rng, ("vi", "plain", "en"), (0.55, 0.35, 0.10))
    return _pick(rng, ("en", "plain"), (0.5, 0.5))


def _template(rng: np.random.Generator, kind: str) -> Template:
    lang = _pick(rng, ("vi", "en"), (0.7, 0.3))
    if kind == COMMITTEE:
        fmt = _pick(rng, ("csv", "xlsx", "json"), (0.65, 0.20, 0.15))
        time_style = _pick(rng, ("dmy_hm", "iso_hms", None), (0.45, 0.35, 0.20))
    else:
        fmt = _pick(rng, ("xlsx", "csv"), (0.8, 0.2))
        time_style = _pick(rng, ("dmy_hm", "iso_hms"), (0.55, 0.45))
    header_case = _pick(rng, ("as_is", "upper", "lower_or_title"), (0.7, 0.15, 0.15))
    gov = lang == "vi" and fmt == "xlsx" and rng.random() < 0.28
    return Template(
        kind=kind,
        lang=lang,
        fmt=fmt,
        date_style=_pick(rng, ("iso", "dmy"), (0.5, 0.5)),
        time_style=time_style,
        number_style=_number_style(rng, lang),
        header_case=header_case,
        header_spacing=_pick(rng, ("none", "trailing", "double"), (0.8, 0.1, 0.1)),
        label_variant=int(rng.integers(0, 2)),
        column_order=int(rng.integers(0, 2)),
        households=kind == COMMITTEE and rng.random() < 0.3,
        note=rng.random() < 0.5,
        rate=kind == COMMITTEE and lang == "vi" and rng.random() < 0.15,
        gov=gov,
        numbers_as_text=gov and rng.random() < 0.5,
        date_cells=fmt == "xlsx" and rng.random() < 0.4,
        json_shape=_pick(rng, ("list", "wrapped"), (0.6, 0.4)),
        json_indent=_pick(rng, (None, 2), (0.5, 0.5)),
        bom=rng.random() < 0.3,
        sheet_title=_pick(rng, ("Sheet1", "Báo cáo", "BC"), (0.5, 0.3, 0.2)),
    )


def _label(template: Template, name: str) -> str:
    label = LABELS[template.lang][name]
    if isinstance(label, tuple):
        label = label[template.label_variant % len(label)]
    if template.header_case == "upper":
        label = label.upper()
    elif template.header_case == "lower_or_title":
        label = label.lower() if template.lang == "vi" else label.title()
    if template.header_spacing == "trailing":
        label += " "
    elif template.header_spacing == "double":
        label = label.replace("_", " ") if template.lang == "en" else label.replace(" ", "  ", 1)
    return label


def _columns(template: Template) -> list[str]:
    """The logical columns of a template, in its order."""
    timed = ["submitted_at"] if template.time_style else []
    if template.kind == COMMITTEE:
        figures = ["installs_reported"]
        figures += ["households_visited"] if template.households else []
        figures += ["rate"] if template.rate else []
    else:
        figures = ["staff_total", "staff_installed", "installs_reported"]
    identity = ["unit_code", "unit_name"]
    if template.column_order == 0:
        columns = ["report_date", *identity, *timed, *figures]
    else:
        columns = [*identity, "report_date", *figures, *timed]
    columns += ["note"] if template.note else []
    return (["stt"] if template.gov else []) + columns


# --------------------------------------------------------------------------------------
# Reporting units: profiles, daily plans, and the name variants they write
# --------------------------------------------------------------------------------------

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
TYPE_PREFIXES = {
    "Quận": ("Quận ", "Q. ", "Q.", "quận "),
    "Huyện": ("Huyện ", "H. ", "H.", "huyện "),
    "Thị xã": ("Thị xã ", "TX. ", "TX.", "thị xã ", "Thị Xã "),
    "Thành phố": ("Thành phố ", "TP. ", "TP.", "thành phố ", "Thành Phố "),
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
    template = _template(rng, COMMITTEE) if unit.kind == COMMITTEE else agency_template
    lateness = float(np.clip(rng.gamma(2.0, 0.5), 0.1, 4.0))
    absence = float(np.clip(rng.gamma(2.0, 0.5), 0.1, 4.0))
    staff = int(round(math.exp(rng.uniform(math.log(40), math.log(3000)))))
    agency = unit.kind == AGENCY
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


def committee_name_variant(district: District, rng: np.random.Generator) -> str:
    """How a committee may write its own name: ``UBND H. Hoà An``, ``TP.Bac Kan``..."""
    base = district.base_name if rng.random() < 0.6 else district.alt_base_name
    prefix = _pick(rng, TYPE_PREFIXES[district.kind], [1.0] * len(TYPE_PREFIXES[district.kind]))
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
    if profile.unit.kind == AGENCY or draws[5] >= 0.1:
        return usual
    others = [fmt for fmt in ("csv", "xlsx", "json") if fmt != usual]
    return others[int(draws[6] * len(others))]


def plan_unit_days(
    profile: UnitProfile,
    days: Sequence[date],
    export_row: np.ndarray | None,
    plan: Sequence[ExportDay],
    rates: FaultRates,
) -> list[UnitDay]:
    """A unit's status, submission time and figures on each day it is expected to report."""
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
                export_fresh=not plan[t].stale,
                export_installs=None if export_row is None else int(export_row[t]),
            )
        )
    return unit_days


# --------------------------------------------------------------------------------------
# Report fault selection
# --------------------------------------------------------------------------------------

REPORT_FAULT_ORDER = (
    "malformed_file",
    "conflicting_resubmission",
    "benign_resubmission",
    "report_export_mismatch",
    "staff_installed_exceeds_total",
    "out_of_range_date",
)


def _is_report_candidate(kind: str, unit_day: UnitDay) -> bool:
    if unit_day.fault is not None:
        return False
    sent = unit_day.status != "missing"
    committee = unit_day.unit.kind == COMMITTEE
    if kind == "malformed_file":
        return unit_day.status == "on_time" and committee
    if kind in ("conflicting_resubmission", "benign_resubmission"):
        return unit_day.status == "on_time"
    if kind == "report_export_mismatch":
        return sent and committee and unit_day.export_fresh and unit_day.export_installs > 0
    if kind == "staff_installed_exceeds_total":
        return sent and not committee and (unit_day.staff_installed or 0) >= 2
    return sent


def select_report_faults(
    unit_days_by_province: dict[str, list[UnitDay]],
    agency_days: dict[tuple[str, int], list[UnitDay]],
    seed: int,
    rates: FaultRates,
) -> set[tuple[str, int]]:
    """Mark unit-days with their (exclusive) report fault; return malformed agency files.

    Agency files (province, day index) are malformed as a whole; the other kinds mark one
    unit-day each, Bernoulli(rate) per candidate from a per-province stream. Every kind
    with a positive rate gets at least one instance when it has a candidate.
    """
    broken_agency_files: set[tuple[str, int]] = set()
    for kind in REPORT_FAULT_ORDER:
        rate = getattr(rates, kind)
        best: tuple[float, Any, float] | None = None
        placed = 0
        for province, unit_days in unit_days_by_province.items():
            candidates: list[Any] = [u for u in unit_days if _is_report_candidate(kind, u)]
            if kind == "malformed_file":
                candidates += _agency_file_candidates(province, agency_days, broken_agency_files)
            rng = _stream(seed, "report-fault", kind, province)
            draws, params = rng.random(len(candidates)), rng.random(len(candidates))
            for candidate, u, param in zip(candidates, draws, params, strict=True):
                if best is None or u < best[0]:
                    best = (u, candidate, param)
                if u < rate:
                    placed += _mark(candidate, kind, param, broken_agency_files, agency_days)
        if not placed and rate > 0 and best is not None:
            _mark(best[1], kind, best[2], broken_agency_files, agency_days)
    return broken_agency_files


def _agency_file_candidates(
    province: str, agency_days: dict[tuple[str, int], list[UnitDay]], broken: set
) -> list[tuple[str, int]]:
    return [
        key
        for key, unit_days in agency_days.items()
        if key[0] == province
        and key not in broken
        and any(u.status == "on_time" and u.fault is None for u in unit_days)
    ]


def _mark(
    candidate: Any,
    kind: str,
    param: float,
    broken: set[tuple[str, int]],
    agency_days: dict[tuple[str, int], list[UnitDay]],
) -> int:
    """Give a unit-day its fault; a broken agency file claims its on-time agencies."""
    if isinstance(candidate, tuple):
        broken.add(candidate)
        for unit_day in agency_days[candidate]:
            if unit_day.status == "on_time" and unit_day.fault is None:
                unit_day.fault, unit_day.param = kind, param
        return 1
    candidate.fault, candidate.param = kind, param
    return 1


# --------------------------------------------------------------------------------------
# Report files: rows and files, assembled per province and day
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class ReportRow:
    """One row as a unit wrote it; ``counts_for`` is the unit it validly reports for."""

    report_date: date
    unit_code: str
    unit_name: str
    submitted_at: datetime
    installs: int | None = None
    staff_total: int | None = None
    staff_installed: int | None = None
    households: int | None = None
    note: str = ""
    rate: float | None = None
    bad_value: str | None = None
    counts_for: Unit | None = None
    faults: list[Fault] = field(default_factory=list)


@dataclass(eq=False)
class ReportFile:
    name: str
    fmt: str
    template: Template
    rows: list[ReportRow]
    title: str = ""
    subtitle: str = ""
    corruption: str | None = None
    arrival_at: datetime | None = None
    faults: list[Fault] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"reports/{self.name}"

    @property
    def arrival(self) -> datetime:
        return self.arrival_at or max(row.submitted_at for row in self.rows)

    @property
    def valid(self) -> bool:
        return self.corruption is None


CORRUPTIONS = {
    "csv": ("missing_column", "bad_value", "empty"),
    "xlsx": ("truncated", "missing_column", "bad_value"),
    "json": ("truncated", "missing_column", "bad_value"),
}
AGENCY_CORRUPTIONS = {"csv": ("missing_column", "empty"), "xlsx": ("truncated", "missing_column")}
BAD_VALUES = {"vi": ("khoảng 70 nghìn", "7O.264", "#REF!"), "en": ("about 70k", "7O,264", "#REF!")}
CORRUPTION_TEXT = {
    "truncated": "file truncated (unreadable)",
    "missing_column": "required column report_date missing",
    "bad_value": "unparseable installs value",
    "empty": "empty file (0 bytes)",
}


class ReportBuilder:
    """Turns a province-day's unit plans into report files, rows and report faults."""

    def __init__(self, province: Province, day: date, index: int, seed: int, rates: FaultRates):
        self.province, self.day, self.index = province, day, index
        self.seed, self.rates = seed, rates
        self.files: list[ReportFile] = []
        self.districts = {d.code: d for d in province.districts}
        self.stamp = f"{day:%Y%m%d}_{province.code}"

    def rng(self, *keys: object) -> np.random.Generator:
        return _stream(self.seed, "report", self.province.code, self.index, *keys)

    # rows --------------------------------------------------------------------------

    def _identity(self, unit_day: UnitDay) -> tuple[str, str]:
        unit = unit_day.unit
        if unit_day.draws[7] >= self.rates.blank_unit_code or not unit.name_is_unique:
            return unit.code, unit.name
        rng = self.rng("name", unit.code)
        if unit.kind == COMMITTEE:
            return "", committee_name_variant(self.districts[unit.district_code], rng)
        return "", agency_name_variant(unit, rng)

    def _note(self, unit_day: UnitDay, resubmitted: bool) -> str:
        lang = unit_day.profile.template.lang
        if resubmitted:
            return RESUBMISSION_NOTE[lang]
        notes = NOTES[lang]
        draw = unit_day.draws[9]
        return notes[int(draw * 10)] if draw < 0.3 else ""

    def row(self, unit_day: UnitDay, sent: datetime, *, resubmitted: bool = False) -> ReportRow:
        code, name = self._identity(unit_day)
        rate = None
        if unit_day.installs is not None and unit_day.unit.kind == COMMITTEE:
            population = self.districts[unit_day.unit.district_code].population
            rate = 100.0 * unit_day.installs / population
        return ReportRow(
            report_date=self.day,
            unit_code=code,
            unit_name=name,
            submitted_at=sent,
            installs=unit_day.installs,
            staff_total=unit_day.staff_total,
            staff_installed=unit_day.staff_installed,
            households=unit_day.households,
            note=self._note(unit_day, resubmitted),
            rate=rate,
            counts_for=unit_day.unit,
        )

    # files -------------------------------------------------------------------------

    def add_file(
        self, name: str, fmt: str, template: Template, rows: list[ReportRow]
    ) -> ReportFile:
        taken = {f.name for f in self.files}
        stem, n = name, 2
        while f"{name}.{fmt}" in taken:
            name, n = f"{stem}-{n}", n + 1
        report = ReportFile(f"{name}.{fmt}", fmt, template, rows)
        unit_name = rows[0].unit_name if rows else ""
        report.title = "BÁO CÁO KẾT QUẢ CÀI ĐẶT ỨNG DỤNG BLUEZONE"
        report.subtitle = f"Đơn vị: {unit_name} - Số liệu đến ngày {self.day:%d/%m/%Y}"
        self.files.append(report)
        return report

    def committee_files(self, unit_day: UnitDay) -> None:
        """A district committee's own file(s) for the day, with its fault if any."""
        unit = unit_day.unit
        district = self.districts[unit.district_code]
        stem = f"{self.stamp}_{slug(district.name_full)}"
        fault, sent = unit_day.fault, unit_day.submitted_at
        template, fmt = unit_day.profile.template, unit_day.fmt
        if fault == "malformed_file":
            self._malformed_then_fixed(unit_day, stem)
            return
        if fault in ("conflicting_resubmission", "benign_resubmission"):
            self._resubmitted(unit_day, stem, fmt, template)
            return
        row = self.row(unit_day, sent)
        report = self.add_file(stem, fmt, template, [row])
        self._row_faults(unit_day, report, row)

    def _malformed_then_fixed(self, unit_day: UnitDay, stem: str) -> None:
        template, fmt = unit_day.profile.template, unit_day.fmt
        sent = unit_day.submitted_at
        earlier = sent - timedelta(minutes=10 + int(unit_day.param * 50))
        bad_row = self.row(unit_day, earlier)
        bad_row.counts_for = None
        bad = self.add_file(stem, fmt, template, [bad_row])
        variants = CORRUPTIONS[fmt]
        bad.corruption = variants[int(unit_day.param * 1000) % len(variants)]
        if bad.corruption == "bad_value":
            options = BAD_VALUES[template.lang]
            bad_row.bad_value = options[int(unit_day.param * 100) % len(options)]
        bad.faults.append(
            self._fault("malformed_file", unit_day.unit, bad, CORRUPTION_TEXT[bad.corruption])
        )
        self.add_file(f"{stem}_lan2", fmt, template, [self.row(unit_day, sent, resubmitted=True)])

    def _resubmitted(self, unit_day: UnitDay, stem: str, fmt: str, template: Template) -> None:
        sent = unit_day.submitted_at
        earlier = sent - timedelta(minutes=20 + int(unit_day.param * 160))
        first_row = self.row(unit_day, earlier)
        conflicting = unit_day.fault == "conflicting_resubmission"
        if conflicting:
            self._change_figures(first_row, unit_day)
        first = self.add_file(stem, fmt, template, [first_row])
        second = self.add_file(
            f"{stem}_lan2", fmt, template, [self.row(unit_day, sent, resubmitted=True)]
        )
        if conflicting:
            detail = (
                f"first submission {self._figure(first_row)} in {first.path}, resubmitted "
                f"{self._figure(second.rows[0])}"
            )
            second.faults.append(
                self._fault("conflicting_resubmission", unit_day.unit, second, detail)
            )

    @staticmethod
    def _figure(row: ReportRow) -> str:
        if row.counts_for is not None and row.counts_for.kind == AGENCY:
            return f"staff_installed {row.staff_installed}"
        return f"installs {row.installs}"

    def _change_figures(self, row: ReportRow, unit_day: UnitDay) -> None:
        if unit_day.unit.kind == AGENCY:
            installed = row.staff_installed or 0
            row.staff_installed = max(
                0, installed - max(1, int(installed * (0.02 + 0.08 * unit_day.param)))
            )
            row.installs = row.staff_installed if row.installs is not None else None
            return
        exported = unit_day.export_installs or unit_day.installs or 0
        current = row.installs or 0
        lower = current - max(1, int(round(exported * (0.005 + 0.015 * unit_day.param))))
        row.installs = (
            lower if lower >= exported * 0.97 else current + max(1, int(exported * 0.005))
        )

    def _row_faults(self, unit_day: UnitDay, report: ReportFile, row: ReportRow) -> None:
        """Faults carried by a unit's valid row: mismatch, staff, out-of-range extra row."""
        fault = unit_day.fault
        if fault == "report_export_mismatch":
            exported = unit_day.export_installs
            off = (0.15 + 0.25 * unit_day.param) * (1 if unit_day.draws[11] < 0.5 else -1)
            row.installs = int(round(exported * (1 + off)))
            detail = f"reported {row.installs} vs export {exported} ({off:+.0%})"
            row.faults.append(self._fault(fault, unit_day.unit, report, detail))
        elif fault == "staff_installed_exceeds_total":
            installed = row.staff_installed
            row.staff_total = installed - max(
                1, int(round((0.02 + 0.18 * unit_day.param) * installed))
            )
            detail = f"staff_installed {installed} > staff_total {row.staff_total}"
            row.faults.append(self._fault(fault, unit_day.unit, report, detail))
        elif fault == "out_of_range_date":
            report.rows.append(self._out_of_range_row(unit_day, row, report))

    def _out_of_range_row(self, unit_day: UnitDay, row: ReportRow, report: ReportFile) -> ReportRow:
        sent_day = row.submitted_at.date()
        if unit_day.param < 0.5:
            bad_day = sent_day + timedelta(days=1 + int(unit_day.param * 4))
            why = f"report date {bad_day} is after the day it was sent ({sent_day})"
        else:
            bad_day = self.day - timedelta(days=(self.index + 1 + int(unit_day.param * 6)))
            why = f"report date {bad_day} is before the campaign (sent {sent_day})"
        extra = replace(row, report_date=bad_day, counts_for=None, faults=[])
        fault = self._fault("out_of_range_date", unit_day.unit, report, why)
        fault.day = sent_day
        extra.faults.append(fault)
        return extra

    def _fault(self, kind: str, unit: Unit | None, report: ReportFile, detail: str) -> Fault:
        return Fault(
            kind,
            self.day,
            unit.code if unit else "",
            self.province.code,
            report.path,
            detail,
        )

    # agencies ------------------------------------------------------------------------

    def agency_files(self, unit_days: Sequence[UnitDay], template: Template, broken: bool) -> None:
        """The consolidated agency file, plus own files for late agencies and resubmissions."""
        main_rows: list[tuple[UnitDay, ReportRow]] = []
        resubmissions: list[UnitDay] = []
        for unit_day in unit_days:
            if unit_day.status == "missing":
                continue
            if unit_day.status == "late":
                own = f"{self.stamp}_so-nganh_{unit_day.unit.short_code}"
                row = self.row(unit_day, unit_day.submitted_at)
                report = self.add_file(own, template.fmt, template, [row])
                self._row_faults(unit_day, report, row)
                continue
            sent = unit_day.submitted_at
            if unit_day.fault in ("conflicting_resubmission", "benign_resubmission"):
                sent = sent - timedelta(minutes=20 + int(unit_day.param * 160))
                resubmissions.append(unit_day)
            row = self.row(unit_day, sent)
            if unit_day.fault == "conflicting_resubmission":
                self._change_figures(row, unit_day)
            main_rows.append((unit_day, row))
        if main_rows:
            self._main_agency_file(main_rows, template, broken)
        for unit_day in resubmissions:
            self._agency_resubmission(unit_day, template, main_rows)

    def _main_agency_file(
        self, main_rows: list[tuple[UnitDay, ReportRow]], template: Template, broken: bool
    ) -> None:
        rows = [row for _, row in main_rows]
        report = self.add_file(f"{self.stamp}_so-nganh", template.fmt, template, rows)
        report.subtitle = (
            f"Tổng hợp các sở, ban, ngành tỉnh {self.province.name} - ngày {self.day:%d/%m/%Y}"
        )
        if broken:
            self._break_agency_file(report, template)
            return
        for unit_day, row in main_rows:
            self._row_faults(unit_day, report, row)

    def _break_agency_file(self, report: ReportFile, template: Template) -> None:
        rng = self.rng("agency-malformed")
        variants = AGENCY_CORRUPTIONS[template.fmt]
        report.corruption = variants[int(rng.integers(0, len(variants)))]
        fixed_rows = [replace(row, faults=[]) for row in report.rows]
        for row in report.rows:
            row.counts_for = None
        detail = CORRUPTION_TEXT[report.corruption]
        report.faults.append(self._fault("malformed_file", None, report, detail))
        fixed = self.add_file(f"{self.stamp}_so-nganh_lan2", template.fmt, template, fixed_rows)
        fixed.subtitle = report.subtitle
        fixed.arrival_at = report.arrival + timedelta(minutes=10 + int(rng.integers(0, 50)))

    def _agency_resubmission(
        self, unit_day: UnitDay, template: Template, main_rows: list[tuple[UnitDay, ReportRow]]
    ) -> None:
        own = f"{self.stamp}_so-nganh_{unit_day.unit.short_code}_lan2"
        second = self.add_file(
            own,
            template.fmt,
            template,
            [self.row(unit_day, unit_day.submitted_at, resubmitted=True)],
        )
        if unit_day.fault == "conflicting_resubmission":
            first = next(row for ud, row in main_rows if ud is unit_day)
            detail = (
                f"first submission {self._figure(first)} in reports/{self.stamp}_so-nganh."
                f"{template.fmt}, resubmitted {self._figure(second.rows[0])}"
            )
            second.faults.append(
                self._fault("conflicting_resubmission", unit_day.unit, second, detail)
            )

    # unknown senders -------------------------------------------------------------------

    def unknown_row(
        self, registry_codes: set[str], sent: datetime, rng: np.random.Generator
    ) -> ReportRow:
        senders = [
            s for s in UNREGISTERED_SENDERS if f"{self.province.code}-{s[0]}" not in registry_codes
        ]
        abbreviation, name = senders[int(rng.integers(0, len(senders)))]
        staff = int(rng.integers(40, 800))
        installed = int(staff * rng.uniform(0.3, 0.9))
        return ReportRow(
            report_date=self.day,
            unit_code=f"{self.province.code}-{abbreviation}" if rng.random() < 0.5 else "",
            unit_name=f"{name} {self.province.name}",
            submitted_at=sent,
            installs=installed if rng.random() < 0.5 else None,
            staff_total=staff,
            staff_installed=installed,
        )

    def add_unknown(self, count: int, registry_codes: set[str], template: Template) -> None:
        """Rows from senders outside the registry: in the agency file, or a file of their own."""
        for k in range(count):
            rng = self.rng("unknown", k)
            main = next(
                (f for f in self.files if f.name.startswith(f"{self.stamp}_so-nganh.")), None
            )
            if main is not None and main.valid and rng.random() < 0.5:
                times = sorted(row.submitted_at for row in main.rows)
                row = self.unknown_row(registry_codes, times[int(rng.integers(0, len(times)))], rng)
                main.rows.append(row)
                report = main
            else:
                deadline = datetime.combine(self.day, time(16, 0))
                sent = deadline - timedelta(minutes=int(rng.integers(60, 360)))
                row = self.unknown_row(registry_codes, sent, rng)
                report = self.add_file(
                    f"{self.stamp}_{slug(row.unit_name)}", template.fmt, template, [row]
                )
            what = f"code '{row.unit_code}'" if row.unit_code else "blank code"
            detail = f"{what} and name '{row.unit_name}' match no registry unit"
            fault = self._fault("unknown_unit", None, report, detail)
            fault.unit_code = row.unit_code
            row.faults.append(fault)


# --------------------------------------------------------------------------------------
# Rendering report files
# --------------------------------------------------------------------------------------


def format_count(value: int, style: str) -> str:
    """``70264`` as written by a unit: plain, Vietnamese ``70.264`` or English ``70,264``."""
    text = f"{value:,}"
    if style == "vi":
        return text.replace(",", ".")
    return text if style == "en" else str(value)


def _date_text(day: date, style: str) -> str:
    return day.isoformat() if style == "iso" else f"{day:%d/%m/%Y}"


def _time_text(moment: datetime, style: str) -> str:
    return f"{moment:%d/%m/%Y %H:%M}" if style == "dmy_hm" else f"{moment:%Y-%m-%d %H:%M:%S}"


def _cell(row: ReportRow, name: str, template: Template, target: str, number: int) -> Any:
    """A row's value for one column, typed for ``target`` (csv, xlsx, json)."""
    if name == "stt":
        return number if target != "csv" else str(number)
    if name == "report_date":
        if target == "xlsx" and template.date_cells:
            return row.report_date
        return _date_text(row.report_date, template.date_style)
    if name == "submitted_at":
        if target == "xlsx" and template.date_cells:
            return row.submitted_at
        return _time_text(row.submitted_at, template.time_style or "iso_hms")
    if name in ("unit_code", "unit_name", "note"):
        return getattr(row, name)
    if name == "rate":
        return "" if row.rate is None else f"{row.rate:.2f}".replace(".", ",") + "%"
    if name == "installs_reported" and row.bad_value is not None:
        return row.bad_value
    value = getattr(
        row, {"installs_reported": "installs", "households_visited": "households"}.get(name, name)
    )
    return _count_cell(value, template, target)


def _count_cell(value: int | None, template: Template, target: str) -> Any:
    if value is None:
        return None if target != "csv" else ""
    if target == "xlsx" and not template.numbers_as_text:
        return value
    if target == "json" and template.number_style == "plain":
        return value
    return format_count(value, template.number_style)


def _render_columns(report: ReportFile) -> list[str]:
    columns = _columns(report.template)
    if report.corruption == "missing_column":
        columns.remove("report_date")
    return columns


def render_csv(report: ReportFile) -> bytes:
    columns = _render_columns(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_label(report.template, c) for c in columns])
    for n, row in enumerate(report.rows, 1):
        writer.writerow([_cell(row, c, report.template, "csv", n) for c in columns])
    text = ("\ufeff" if report.template.bom else "") + buffer.getvalue()
    return text.encode("utf-8")


def render_json(report: ReportFile) -> bytes:
    columns = [c for c in _render_columns(report) if c != "stt"]
    records = [
        {_label(report.template, c): _cell(row, c, report.template, "json", n) for c in columns}
        for n, row in enumerate(report.rows, 1)
    ]
    document: Any = records
    if report.template.json_shape == "wrapped":
        document = {"unit": report.rows[0].unit_name, "rows": records}
    text = json.dumps(document, ensure_ascii=False, indent=report.template.json_indent, default=str)
    return text.encode("utf-8")


class _FixedTimeZip(zipfile.ZipFile):
    """A zip writer that stamps every member with one given time (reproducible xlsx)."""

    def __init__(self, file: io.BytesIO, stamp: datetime):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self._stamp = stamp.timetuple()[:6]

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        self.writestr(arcname or os.path.basename(filename), Path(filename).read_bytes())


def _totals_row(report: ReportFile, columns: list[str]) -> list[Any]:
    values: list[Any] = []
    for name in columns:
        if name == "unit_name":
            values.append("Tổng cộng")
        elif name in COUNT_FIELDS:
            attribute = {"installs_reported": "installs", "households_visited": "households"}.get(
                name, name
            )
            figures = [
                getattr(row, attribute)
                for row in report.rows
                if getattr(row, attribute) is not None
            ]
            values.append(_count_cell(sum(figures), report.template, "xlsx") if figures else None)
        else:
            values.append(None)
    return values


def render_xlsx(report: ReportFile) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    columns = _render_columns(report)
    workbook = Workbook(write_only=True)
    stamp = report.arrival - timedelta(hours=7)
    workbook.properties.created = workbook.properties.modified = stamp
    workbook.properties.creator = "Microsoft Excel"
    sheet = workbook.create_sheet(report.template.sheet_title)
    if report.template.gov:
        sheet.append([report.title])
        sheet.append([report.subtitle])
    sheet.append([_label(report.template, c) for c in columns])
    for n, row in enumerate(report.rows, 1):
        sheet.append([_cell(row, c, report.template, "xlsx", n) for c in columns])
    if report.template.gov:
        sheet.append(_totals_row(report, columns))
    buffer = io.BytesIO()
    ExcelWriter(workbook, _FixedTimeZip(buffer, report.arrival)).save()
    return buffer.getvalue()


RENDERERS = {"csv": render_csv, "json": render_json, "xlsx": render_xlsx}


def render_report(report: ReportFile) -> bytes:
    """The bytes of a report file, broken as its ``corruption`` says."""
    if report.corruption == "empty":
        return b""
    data = RENDERERS[report.fmt](report)
    if report.corruption == "truncated":
        return data[: len(data) * 11 // 20]
    return data


# --------------------------------------------------------------------------------------
# Rendering export files
# --------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("snapshot_date", "level", "unit_code", "installs", "installs_with_phone")


# Commune-level export variant: the share of a district's attributed installs that the
# export also attributes to a commune (the rest has no commune), and how unequal communes are.
COMMUNE_ATTRIBUTED = 0.97
COMMUNE_WEIGHT_SHAPE = 2.0


@dataclass(frozen=True)
class CommuneSplit:
    """How a district's installs split over its communes (fixed for the whole campaign)."""

    codes: tuple[str, ...]
    weights: np.ndarray  # sums to COMMUNE_ATTRIBUTED

    def rows(self, day: date, installs: int, with_phone: int | None) -> list[tuple]:
        # floor() of a fixed share of a cumulative figure: non-decreasing whenever the
        # district's figure is, and the communes never add up to more than the district.
        counts = np.floor(self.weights * installs).astype(np.int64)
        phones = (
            np.floor(self.weights * with_phone).astype(np.int64)
            if with_phone is not None
            else [None] * len(self.codes)
        )
        return [
            (day.isoformat(), "commune", code, int(n), None if p is None else int(p))
            for code, n, p in zip(self.codes, counts, phones, strict=True)
        ]


def commune_splits(
    provinces: Sequence[Province], seed: int, seeds_dir: Path = SEEDS_DIR
) -> dict[str, CommuneSplit]:
    """Each simulated district's communes (from the seeds) and their fixed shares."""
    seed_rows = _read_seed("ref_communes.csv", seeds_dir)
    by_district = seed_rows.groupby("district_code")["commune_code"].agg(list).to_dict()
    splits = {}
    for province in provinces:
        for district in province.districts:
            codes = tuple(sorted(by_district.get(district.code, ())))
            if not codes:
                continue
            raw = _stream(seed, "commune", district.code).gamma(
                COMMUNE_WEIGHT_SHAPE, size=len(codes)
            )
            splits[district.code] = CommuneSplit(codes, raw / raw.sum() * COMMUNE_ATTRIBUTED)
    return splits


def export_rows(
    series: Sequence[ExportSeries],
    masks: Sequence[np.ndarray],
    t: int,
    day: date,
    communes: dict[str, CommuneSplit] | None = None,
) -> list[tuple[str, str, str, int, int | None]]:
    """One day's export rows: every province row, then every district row, by code, then
    (commune-level variant) every commune row."""
    provinces, districts, commune_rows = [], [], []
    for s, mask in zip(series, masks, strict=True):
        phone = None if mask[0, t] else int(s.total_with_phone[t])
        provinces.append((day.isoformat(), "province", s.province.code, int(s.total[t]), phone))
        for d, district in enumerate(s.province.districts):
            phone = None if mask[d + 1, t] else int(s.with_phone[d, t])
            installs = int(s.installs[d, t])
            districts.append((day.isoformat(), "district", district.code, installs, phone))
            if communes and district.code in communes:
                commune_rows.extend(communes[district.code].rows(day, installs, phone))
    return provinces + districts + commune_rows


def render_export(rows: Sequence[tuple], delivery: Delivery) -> bytes:
    if delivery.fmt == "parquet":
        return _export_parquet(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    data = (("\ufeff" if delivery.bom else "") + buffer.getvalue()).encode("utf-8")
    if delivery.fmt == "csv.gz":
        return gzip.compress(data, mtime=int(_epoch(delivery.arrival)))
    return data


def _export_parquet(rows: Sequence[tuple]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in EXPORT_COLUMNS]
    table = pa.table(
        {
            "snapshot_date": pa.array([date.fromisoformat(v) for v in columns[0]], pa.date32()),
            "level": pa.array(columns[1], pa.string()),
            "unit_code": pa.array(columns[2], pa.string()),
            "installs": pa.array(columns[3], pa.int64()),
            "installs_with_phone": pa.array(columns[4], pa.int64()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# Ground truth
# --------------------------------------------------------------------------------------

TRUTH_REPORT_COLUMNS = (
    "report_date",
    "unit_code",
    "province_code",
    "deadline_local",
    "status",
    "submitted_at_local",
    "minutes_late",
    "submissions_count",
    "installs_reported",
    "staff_total",
    "staff_installed",
    "source_file",
)
FAULT_COLUMNS = (
    "fault_id",
    "kind",
    "unit_code",
    "province_code",
    "day",
    "file",
    "detail",
    "caused_by",
)


@dataclass
class Submission:
    row: ReportRow
    file: ReportFile


def valid_submissions(files: Iterable[ReportFile]) -> dict[tuple[str, date], list[Submission]]:
    """Every valid submission, by (unit code, report date), oldest first.

    A file whose bytes repeat an earlier file of the same unit and day is the same report
    delivered twice, not a second submission, so it is left out.
    """
    found: dict[tuple[str, date], list[Submission]] = {}
    for report in files:
        if not report.valid:
            continue
        for row in report.rows:
            if row.counts_for is not None:
                found.setdefault((row.counts_for.code, row.report_date), []).append(
                    Submission(row, report)
                )
    for key, submissions in found.items():
        submissions.sort(key=lambda s: (_submitted_at(s), s.file.arrival, s.file.path))
        if len(submissions) > 1:
            found[key] = _distinct_deliveries(submissions)
    return found


def _distinct_deliveries(submissions: list[Submission]) -> list[Submission]:
    seen: set[bytes] = set()
    distinct = []
    for submission in submissions:
        digest = hashlib.sha256(render_report(submission.file)).digest()
        if digest not in seen:
            seen.add(digest)
            distinct.append(submission)
    return distinct


def _submitted_at(submission: Submission) -> datetime:
    if submission.file.template.time_style is None:
        return submission.file.arrival
    return submission.row.submitted_at


def truth_report_row(unit: Unit, day: date, submissions: list[Submission]) -> dict[str, Any]:
    """A unit's final reporting state for a day.

    The first valid submission decides on time or late (a unit that reported on time and
    corrected later did report on time); minutes late are whole minutes rounded up; the
    figures are the latest submission's.
    """
    row: dict[str, Any] = dict.fromkeys(TRUTH_REPORT_COLUMNS, "")
    row.update(
        report_date=day.isoformat(),
        unit_code=unit.code,
        province_code=unit.province_code,
        deadline_local=f"{unit.deadline:%H:%M}",
        status="missing",
        submissions_count=len(submissions),
    )
    if submissions:
        first, latest = submissions[0], submissions[-1]
        sent = _submitted_at(first)
        late_by = (sent - unit.deadline_on(day)).total_seconds()
        row.update(
            status="late" if late_by > 0 else "on_time",
            submitted_at_local=f"{sent:%Y-%m-%d %H:%M:%S}",
            minutes_late=math.ceil(late_by / 60) if late_by > 0 else 0,
            installs_reported=_blank(latest.row.installs),
            staff_total=_blank(latest.row.staff_total),
            staff_installed=_blank(latest.row.staff_installed),
            source_file=latest.file.path,
        )
    return row


def _blank(value: int | None) -> Any:
    return "" if value is None else value


def status_faults(truth: dict[str, Any], unit: Unit, day: date) -> list[Fault]:
    """The natural late_report / missing_report manifest row for a unit-day, if any."""
    if truth["status"] == "late":
        after_midnight = truth["submitted_at_local"][:10] != day.isoformat()
        detail = (
            f"submitted {truth['submitted_at_local']}, {truth['minutes_late']} min after "
            f"the {truth['deadline_local']} deadline"
            + (" (after midnight)" if after_midnight else "")
        )
        return [
            Fault("late_report", day, unit.code, unit.province_code, truth["source_file"], detail)
        ]
    if truth["status"] == "missing":
        detail = f"no valid report for {day.isoformat()}"
        return [Fault("missing_report", day, unit.code, unit.province_code, "", detail)]
    return []


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any] | dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[c] for c in columns] if isinstance(row, dict) else row)


def truth_installs_rows(curves: Sequence[ProvinceCurves], days: Sequence[date]) -> Iterable[tuple]:
    for t, day in enumerate(days):
        for c in curves:
            yield (
                day.isoformat(),
                "province",
                c.province.code,
                int(c.total[t]),
                int(c.total_with_phone[t]),
            )
        for c in curves:
            for d, district in enumerate(c.province.districts):
                yield (
                    day.isoformat(),
                    "district",
                    district.code,
                    int(c.installs[d, t]),
                    int(c.with_phone[d, t]),
                )


def assign_fault_ids(faults: list[Fault]) -> list[Fault]:
    """Sort the manifest (day, province, kind, unit, file) and number it F00001..."""
    ordered = sorted(
        faults,
        key=lambda f: (
            f.day,
            f.province_code,
            FAULT_KINDS.index(f.kind),
            f.unit_code,
            f.file,
            f.detail,
        ),
    )
    for n, fault in enumerate(ordered, 1):
        fault.fault_id = f"F{n:05d}"
    return ordered


def fault_rows(faults: Sequence[Fault]) -> Iterable[tuple]:
    for f in faults:
        cause = f.cause.fault_id if f.cause else ""
        yield (
            f.fault_id,
            f.kind,
            f.unit_code,
            f.province_code,
            f.day.isoformat(),
            f.file,
            f.detail,
            cause,
        )


# --------------------------------------------------------------------------------------
# The campaign
# --------------------------------------------------------------------------------------


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=LOCAL_TZ).timestamp()


def _write_landing_file(path: Path, data: bytes, arrival: datetime) -> None:
    path.write_bytes(data)
    stamp = _epoch(arrival)
    os.utime(path, (stamp, stamp))


def campaign_days(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _prepare_out(out: Path, overwrite: bool) -> tuple[Path, Path, Path]:
    folders = out / "installs", out / "reports", out / "_simulation"
    used = [f for f in folders if f.exists() and any(f.iterdir())]
    if used and not overwrite:
        raise FileExistsError(f"{used[0]} is not empty; pass overwrite=True to replace it")
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    return folders


@dataclass
class Campaign:
    """Everything simulated in memory, before it is written."""

    provinces: list[Province]
    days: list[date]
    plan: list[ExportDay]
    curves: list[ProvinceCurves]
    exports: list[ExportSeries]
    drafts: dict[tuple[str, int], ExportSeries]
    phone_masks: list[np.ndarray]
    unit_days: dict[str, list[UnitDay]]
    files_by_day: list[list[ReportFile]]
    faults: list[Fault]


def _plan_reports(
    provinces: Sequence[Province],
    days: Sequence[date],
    exports: Sequence[ExportSeries],
    plan: Sequence[ExportDay],
    seed: int,
    rates: FaultRates,
) -> tuple[dict[str, list[UnitDay]], dict[str, Template]]:
    unit_days: dict[str, list[UnitDay]] = {}
    agency_templates: dict[str, Template] = {}
    for province, series in zip(provinces, exports, strict=True):
        agency_templates[province.code] = _template(
            _stream(seed, "agency-template", province.code), AGENCY
        )
        rows = {d.code: series.installs[i] for i, d in enumerate(province.districts)}
        populations = {d.code: d.population for d in province.districts}
        planned = []
        for unit in province.units:
            committee = unit.kind == COMMITTEE
            population = populations.get(unit.district_code, 0)
            profile = unit_profile(
                unit, len(days), seed, population, agency_templates[province.code]
            )
            export_row = rows[unit.district_code] if committee else None
            planned.extend(plan_unit_days(profile, days, export_row, plan, rates))
        unit_days[province.code] = planned
    return unit_days, agency_templates


def _build_report_files(
    provinces: Sequence[Province],
    days: Sequence[date],
    unit_days: dict[str, list[UnitDay]],
    agency_templates: dict[str, Template],
    seed: int,
    rates: FaultRates,
) -> list[list[ReportFile]]:
    agency_days: dict[tuple[str, int], list[UnitDay]] = {}
    committee_days: dict[tuple[str, int], list[UnitDay]] = {}
    for code, planned in unit_days.items():
        for unit_day in planned:
            target = committee_days if unit_day.unit.kind == COMMITTEE else agency_days
            target.setdefault((code, unit_day.index), []).append(unit_day)
    broken = select_report_faults(unit_days, agency_days, seed, rates)
    files_by_day: list[list[ReportFile]] = [[] for _ in days]
    for province in provinces:
        registry = {unit.code for unit in province.units}
        unknown = _unknown_counts(unit_days[province.code], len(days), seed, province.code, rates)
        for t, day in enumerate(days):
            builder = ReportBuilder(province, day, t, seed, rates)
            for unit_day in committee_days.get((province.code, t), []):
                if unit_day.status != "missing":
                    builder.committee_files(unit_day)
            template = agency_templates[province.code]
            key = (province.code, t)
            builder.agency_files(agency_days.get(key, []), template, key in broken)
            builder.add_unknown(unknown[t], registry, template)
            files_by_day[t].extend(builder.files)
    _ensure_unknown(files_by_day, provinces, days, agency_templates, seed, rates)
    return files_by_day


def _unknown_counts(
    planned: Sequence[UnitDay], n_days: int, seed: int, province: str, rates: FaultRates
) -> np.ndarray:
    """How many unknown-sender rows each day brings: Bernoulli(rate) per report row."""
    sent = np.zeros(n_days, dtype=np.int64)
    for unit_day in planned:
        if unit_day.status != "missing":
            sent[unit_day.index] += 1
    draws = _stream(seed, "unknown-rows", province).random((n_days, int(sent.max(initial=0))))
    return np.array([(draws[t, : sent[t]] < rates.unknown_unit).sum() for t in range(n_days)])


def _ensure_unknown(
    files_by_day: list[list[ReportFile]],
    provinces: Sequence[Province],
    days: Sequence[date],
    agency_templates: dict[str, Template],
    seed: int,
    rates: FaultRates,
) -> None:
    """At least one unknown-sender row when the rate is positive."""
    has_unknown = any(
        f.kind == "unknown_unit"
        for day in files_by_day
        for r in day
        for row in r.rows
        for f in row.faults
    )
    if has_unknown or rates.unknown_unit <= 0 or not provinces:
        return
    rng = _stream(seed, "unknown-top-up")
    province = provinces[int(rng.integers(0, len(provinces)))]
    t = int(rng.integers(0, len(days)))
    builder = ReportBuilder(province, days[t], t, seed, rates)
    builder.files = [f for f in files_by_day[t] if f.name.startswith(builder.stamp)]
    before = set(map(id, builder.files))
    builder.add_unknown(1, {unit.code for unit in province.units}, agency_templates[province.code])
    files_by_day[t].extend(f for f in builder.files if id(f) not in before)


def simulate_in_memory(
    start: date, end: date, provinces: Sequence[str] | None, seed: int, rates: FaultRates
) -> Campaign:
    """The whole campaign, figures, files and faults, without writing anything."""
    days = campaign_days(start, end)
    geography = load_provinces(provinces)
    plan = plan_export_days(days, seed, rates)
    curves = [simulate_adoption(p, days, seed) for p in geography]
    faults = delivery_faults(plan)
    stale = {f.day: f for f in faults if f.kind == "stale_export"}
    exports, export_faults = inject_export_faults(curves, plan, seed, rates, stale)
    faults += export_faults
    drafts = {
        (s.province.code, day.index): first_delivery(s, day.index, seed)
        for day in plan
        if len(day.deliveries) > 1
        for s in exports
    }
    masks = [blank_phone_mask(s, len(days), seed) for s in exports]
    unit_days, templates = _plan_reports(geography, days, exports, plan, seed, rates)
    files_by_day = _build_report_files(geography, days, unit_days, templates, seed, rates)
    return Campaign(
        geography, days, plan, curves, exports, drafts, masks, unit_days, files_by_day, faults
    )


def _write_exports(
    campaign: Campaign,
    day: ExportDay,
    folder: Path,
    communes: dict[str, CommuneSplit] | None = None,
) -> list[tuple]:
    """Write a day's deliveries; return the final delivery's rows (what the warehouse keeps)."""
    final_rows: list[tuple] = []
    for n, delivery in enumerate(day.deliveries):
        draft = n < len(day.deliveries) - 1
        series = [
            campaign.drafts[(s.province.code, day.index)] if draft else s for s in campaign.exports
        ]
        rows = export_rows(series, campaign.phone_masks, day.index, day.day, communes)
        _write_landing_file(folder / delivery.name, render_export(rows, delivery), delivery.arrival)
        final_rows = rows
    return final_rows


def _write_truth(
    campaign: Campaign, truth_dir: Path, exported_rows: list[tuple], rates: FaultRates, seed: int
) -> list[Fault]:
    files = [f for day in campaign.files_by_day for f in day]
    submissions = valid_submissions(files)
    report_rows, faults = [], list(campaign.faults)
    for province in campaign.provinces:
        for unit in province.units:
            for day in campaign.days:
                if unit.active_on(day):
                    row = truth_report_row(unit, day, submissions.get((unit.code, day), []))
                    report_rows.append(row)
                    faults.extend(status_faults(row, unit, day))
    faults.extend(f for report in files for f in report.faults)
    faults.extend(f for report in files for row in report.rows for f in row.faults)
    ordered = assign_fault_ids(faults)
    _write_csv(
        truth_dir / "truth_installs.csv",
        EXPORT_COLUMNS,
        truth_installs_rows(campaign.curves, campaign.days),
    )
    _write_csv(truth_dir / "truth_exported.csv", EXPORT_COLUMNS, exported_rows)
    _write_csv(truth_dir / "truth_reports.csv", TRUTH_REPORT_COLUMNS, report_rows)
    _write_csv(truth_dir / "faults.csv", FAULT_COLUMNS, fault_rows(ordered))
    parameters = {
        "start": campaign.days[0].isoformat(),
        "end": campaign.days[-1].isoformat(),
        "provinces": [p.code for p in campaign.provinces],
        "seed": seed,
        "faults": rates.as_dict(),
        "outlier_rule": asdict(OUTLIER_RULE),
        "unattributed_limit": UNATTRIBUTED_LIMIT,
        "weekend_factor": WEEKEND_FACTOR,
    }
    text = json.dumps(parameters, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (truth_dir / "simulation.json").write_text(text, encoding="utf-8")
    _stamp_truth_files(truth_dir, campaign)
    return ordered


def _stamp_truth_files(truth_dir: Path, campaign: Campaign) -> None:
    """Date the truth files at the campaign's last arrival, so reruns are identical."""
    arrivals = [f.arrival for day in campaign.files_by_day for f in day]
    arrivals += [d.arrival for day in campaign.plan for d in day.deliveries]
    stamp = _epoch(max(arrivals, default=datetime.combine(campaign.days[-1], time())))
    for path in truth_dir.iterdir():
        os.utime(path, (stamp, stamp))


PARALLEL_MIN_XLSX = 400


def write_report_files(folder: Path, files: Sequence[ReportFile]) -> int:
    """Render and write report files, each stamped with its arrival time as mtime."""
    for report in files:
        _write_landing_file(folder / report.name, render_report(report), report.arrival)
    return len(files)


def _worker_count(workers: int | None, xlsx_files: int) -> int:
    """Worker processes for the xlsx files: only with fork (no re-import of ``__main__``)."""
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    can_fork = "fork" in get_all_start_methods()
    return workers if can_fork and workers > 1 and xlsx_files >= PARALLEL_MIN_XLSX else 1


def _submit_xlsx(
    pool: ProcessPoolExecutor | None, folder: Path, files: list[ReportFile], workers: int
) -> list[Future[int]]:
    """Hand a day's xlsx files (the slow ones) to the pool, split in ``workers`` chunks."""
    if pool is None:
        return []
    return [pool.submit(write_report_files, folder, files[k::workers]) for k in range(workers)]


def simulate_campaign(
    out: Path,
    *,
    start: date = date(2020, 8, 1),
    end: date = date(2020, 8, 25),
    provinces: Sequence[str] | None = None,
    seed: int = 2020,
    faults: FaultRates = DEFAULT_FAULTS,
    progress: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    commune_level: bool = False,
) -> SimulationResult:
    """Simulate a campaign and write its landing zone and ground truth under ``out``.

    Args:
        out: the landing root; ``installs/``, ``reports/`` and ``_simulation/`` go under it.
        start: the first snapshot and report day.
        end: the last snapshot and report day (inclusive).
        provinces: 2-digit GSO codes of the provinces to simulate; None for all 63.
        seed: the random seed; the same arguments always give the same files and mtimes.
        faults: how often each fault is injected (``FaultRates.none()`` for a clean run).
        progress: show a progress bar over the days while writing.
        overwrite: replace ``installs/``, ``reports/`` and ``_simulation/`` if they already
            hold files (otherwise refuse with FileExistsError).
        workers: processes that render the xlsx files (the slow part); None for the CPU
            count (at most 4), 1 for none. The files do not depend on it.
        commune_level: the commune-level export variant: every export also carries a row
            per commune (10,614 nationally), 97 % of each district's installs split over its
            communes in fixed shares.
    """
    from tqdm import tqdm

    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if provinces is not None and not provinces:
        raise ValueError("provinces is empty; pass None for all of them")
    out = Path(out)
    campaign = simulate_in_memory(start, end, provinces, seed, faults)
    installs_dir, reports_dir, truth_dir = _prepare_out(out, overwrite)
    by_day = [
        ([f for f in files if f.fmt == "xlsx"], [f for f in files if f.fmt != "xlsx"])
        for files in campaign.files_by_day
    ]
    workers = _worker_count(workers, sum(len(heavy) for heavy, _ in by_day))
    communes = commune_splits(campaign.provinces, seed) if commune_level else None
    written, exported_rows = 0, []
    with _pool(workers) as pool:
        pending = [_submit_xlsx(pool, reports_dir, heavy, workers) for heavy, _ in by_day]
        for day in tqdm(campaign.plan, desc="simulating", unit="day", disable=not progress):
            exported_rows.extend(_write_exports(campaign, day, installs_dir, communes))
            heavy, light = by_day[day.index]
            written += len(day.deliveries) + write_report_files(reports_dir, light)
            if pool is None:
                written += write_report_files(reports_dir, heavy)
            written += sum(future.result() for future in pending[day.index])
    manifest = _write_truth(campaign, truth_dir, exported_rows, faults, seed)
    return SimulationResult(out, truth_dir, written, len(manifest), campaign.days)


def _pool(workers: int) -> AbstractContextManager[ProcessPoolExecutor | None]:
    if workers <= 1:
        return nullcontext()
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"))


def deliver_until(source: Path, landing: Path, cutoff: datetime) -> int:
    """Replay a simulated campaign: copy into ``landing``, keeping their arrival times, the
    landing files of ``source`` that had arrived by ``cutoff``; returns how many were new."""
    copied = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if relative.parts[0] == "_simulation" or path.stat().st_mtime > cutoff.timestamp():
            continue
        target = landing / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    return copied
