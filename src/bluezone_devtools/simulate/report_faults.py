"""The campaign simulator: report fault selection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bluezone_devtools.simulate.definitions import Limits
from bluezone_devtools.simulate.options import FaultRates
from bluezone_devtools.simulate.rng import _stream
from bluezone_devtools.simulate.unit_days import UnitDay

REPORT_FAULT_ORDER = (
    "malformed_file",
    "conflicting_resubmission",
    "benign_resubmission",
    "report_export_mismatch",
    "staff_installed_exceeds_total",
    "out_of_range_date",
    "code_name_mismatch",
    "report_rejected",
)
MINIMUM_INSTANCES = {"report_rejected": 2}  # one stays rejected, one is corrected late


def _is_report_candidate(kind: str, unit_day: UnitDay) -> bool:
    if unit_day.fault is not None:
        return False
    sent = unit_day.status != "missing"
    committee = unit_day.unit.is_committee
    if kind in ("malformed_file", "report_rejected"):
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
    with a positive rate gets at least one instance when it has a candidate (the lowest
    draws), report_rejected two: of the rejected unit-days, the second, fifth, eighth...
    placed are corrected after the deadline, so a campaign with any has both a unit-day
    that stays rejected and one that is late and was rejected at its deadline.
    """
    broken_agency_files: set[tuple[str, int]] = set()
    for kind in REPORT_FAULT_ORDER:
        rate = getattr(rates, kind)
        drawn: list[tuple[float, int, Any, float]] = []
        marked: list[Any] = []
        for province, unit_days in unit_days_by_province.items():
            candidates: list[Any] = [u for u in unit_days if _is_report_candidate(kind, u)]
            if kind == "malformed_file":
                candidates += _agency_file_candidates(province, agency_days, broken_agency_files)
            rng = _stream(seed, "report-fault", kind, province)
            draws, params = rng.random(len(candidates)), rng.random(len(candidates))
            for candidate, u, param in zip(candidates, draws, params, strict=True):
                drawn.append((u, len(drawn), candidate, param))
                if u < rate:
                    _mark(candidate, kind, param, broken_agency_files, agency_days)
                    marked.append(candidate)
        least = MINIMUM_INSTANCES.get(kind, 1) if rate > 0 else 0
        if len(marked) < least:
            placed = set(map(id, marked))
            for _, _, candidate, param in sorted(drawn, key=lambda d: d[:2]):
                if len(marked) >= least:
                    break
                if id(candidate) not in placed:
                    _mark(candidate, kind, param, broken_agency_files, agency_days)
                    marked.append(candidate)
        if kind == "report_rejected":
            for n, unit_day in enumerate(marked):
                unit_day.corrected_late = n % 3 == 1
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
) -> None:
    """Give a unit-day its fault; a broken agency file claims its on-time agencies."""
    if isinstance(candidate, tuple):
        broken.add(candidate)
        for unit_day in agency_days[candidate]:
            if unit_day.status == "on_time" and unit_day.fault is None:
                unit_day.fault, unit_day.param = kind, param
        return
    candidate.fault, candidate.param = kind, param


REPORT_PROBES = (
    ("late_report", "at", 0),
    ("late_report", "over", 0),
    ("report_export_mismatch", "at", 1),
    ("report_export_mismatch", "over", 1),
    ("report_export_mismatch", "at", -1),
    ("report_export_mismatch", "over", -1),
    ("staff_installed_exceeds_total", "at", 0),
    ("staff_installed_exceeds_total", "over", 0),
)


def _probe_candidate(check: str, unit_day: UnitDay, limits: Limits) -> bool:
    """A unit-day that reports once, with nothing else injected, fit for the probe."""
    if unit_day.fault is not None or unit_day.probe is not None or unit_day.status == "missing":
        return False
    committee = unit_day.unit.is_committee
    if check == "late_report":
        return committee and unit_day.status == "on_time"
    if check == "report_export_mismatch":
        exported = unit_day.export_installs or 0
        share = limits.report_export_mismatch_max
        return (
            committee
            and unit_day.export_fresh
            and not unit_day.export_redelivered
            and exported > 0
            and exported * share.numerator % share.denominator == 0
        )
    return not committee and (unit_day.staff_installed or 0) >= 2


def select_report_probes(
    unit_days_by_province: dict[str, list[UnitDay]], seed: int, count: int, limits: Limits
) -> None:
    """Boundary probes in the reports, ``count`` sets: a report sent exactly at the deadline
    and one a minute after; reported installs exactly 10 % above / below the export and one
    install further; staff installed equal to the staff total and one more."""
    everyone = [u for unit_days in unit_days_by_province.values() for u in unit_days]
    for n in range(count):
        for check, side, sign in REPORT_PROBES:
            candidates = [u for u in everyone if _probe_candidate(check, u, limits)]
            if not candidates:
                continue
            order = _stream(seed, "report-probe", check, side, sign, n).permutation(len(candidates))
            unit_day = candidates[int(order[0])]
            unit_day.probe = (check, side, sign)
            if check == "late_report":
                deadline = unit_day.unit.deadline_on(unit_day.day)
                late = side == "over"
                unit_day.submitted_at = deadline + timedelta(minutes=1 if late else 0)
                unit_day.status = "late" if late else "on_time"
