"""The campaign simulator: the campaign."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from bluezone_devtools.simulate.adoption import WEEKEND_FACTOR, ProvinceCurves, simulate_adoption
from bluezone_devtools.simulate.definitions import Limits
from bluezone_devtools.simulate.export_faults import (
    blank_phone_mask,
    delivery_faults,
    first_delivery,
    inject_export_faults,
)
from bluezone_devtools.simulate.export_plan import ExportDay, plan_export_days
from bluezone_devtools.simulate.export_series import ExportSeries
from bluezone_devtools.simulate.faults import Fault, Probe
from bluezone_devtools.simulate.options import (
    DEFAULT_FAULTS,
    FaultRates,
    SimulationResult,
    campaign_window,
)
from bluezone_devtools.simulate.render_exports import (
    EXPORT_COLUMNS,
    CommuneSplit,
    _epoch,
    commune_splits,
    export_rows,
    render_export,
)
from bluezone_devtools.simulate.render_reports import render_report
from bluezone_devtools.simulate.report_faults import select_report_faults, select_report_probes
from bluezone_devtools.simulate.report_files import ReportBuilder, ReportFile
from bluezone_devtools.simulate.rng import _stream
from bluezone_devtools.simulate.templates import Template, _template
from bluezone_devtools.simulate.truth import (
    FAULT_COLUMNS,
    PROBE_COLUMNS,
    TRUTH_REPORT_COLUMNS,
    Oracle,
    _write_csv,
    fault_rows,
    manifest,
    probe_rows,
    rejected_deliveries,
    truth_installs_rows,
    truth_report_row,
    valid_submissions,
)
from bluezone_devtools.simulate.unit_days import UnitDay, plan_unit_days, unit_profile
from bluezone_devtools.simulate.units import AGENCY, Province, load_provinces
from bluezone_warehouse.units import unit_set


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
    probes: list[Probe]
    limits: Limits
    units: str = "2020"  # the unit set (DESIGN §9)


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
        rows = {d.code: series.installs[i] for i, d in enumerate(province.areas)}
        absent = {d.code: series.absent[i + 1] for i, d in enumerate(province.areas)}
        populations = {d.code: d.population for d in province.areas}
        planned = []
        for unit in province.units:
            committee = unit.is_committee
            population = populations.get(unit.area_code, 0)
            profile = unit_profile(
                unit, len(days), seed, population, agency_templates[province.code]
            )
            export_row = rows[unit.area_code] if committee else None
            missing = absent[unit.area_code] if committee else None
            planned.extend(plan_unit_days(profile, days, export_row, plan, rates, missing))
        unit_days[province.code] = planned
    return unit_days, agency_templates


def _build_report_files(
    provinces: Sequence[Province],
    days: Sequence[date],
    unit_days: dict[str, list[UnitDay]],
    agency_templates: dict[str, Template],
    seed: int,
    rates: FaultRates,
    limits: Limits,
) -> tuple[list[list[ReportFile]], list[Probe]]:
    agency_days: dict[tuple[str, int], list[UnitDay]] = {}
    committee_days: dict[tuple[str, int], list[UnitDay]] = {}
    for code, planned in unit_days.items():
        for unit_day in planned:
            target = committee_days if unit_day.unit.is_committee else agency_days
            target.setdefault((code, unit_day.index), []).append(unit_day)
    broken = select_report_faults(unit_days, agency_days, seed, rates)
    select_report_probes(unit_days, seed, rates.boundary_probes, limits)
    files_by_day: list[list[ReportFile]] = [[] for _ in days]
    probes: list[Probe] = []
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
            probes.extend(builder.probes)
    _ensure_unknown(files_by_day, provinces, days, agency_templates, seed, rates)
    return files_by_day, probes


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
    start: date,
    end: date,
    provinces: Sequence[str] | None,
    seed: int,
    rates: FaultRates,
    units: str | None = None,
) -> Campaign:
    """The whole campaign, figures, files and faults, without writing anything, on the unit
    set ``units`` (the project's default set when None)."""
    days = campaign_days(start, end)
    limits = Limits.from_catalogue()
    declared = unit_set(units)
    geography = load_provinces(provinces, units=declared.name)
    plan = plan_export_days(days, seed, rates)
    curves = [simulate_adoption(p, days, seed) for p in geography]
    faults = delivery_faults(plan, declared.area_level)
    masks = [blank_phone_mask(c, len(days), seed) for c in curves]
    exports, export_faults, probes = inject_export_faults(curves, plan, seed, rates, limits, masks)
    faults += export_faults
    drafts = {
        (s.province.code, day.index): first_delivery(s, day.index, seed)
        for day in plan
        if len(day.deliveries) > 1
        for s in exports
    }
    unit_days, templates = _plan_reports(geography, days, exports, plan, seed, rates)
    files_by_day, report_probes = _build_report_files(
        geography, days, unit_days, templates, seed, rates, limits
    )
    return Campaign(
        geography,
        days,
        plan,
        curves,
        exports,
        drafts,
        masks,
        unit_days,
        files_by_day,
        faults,
        probes + report_probes,
        limits,
        declared.name,
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
    submissions, rejections = valid_submissions(files), rejected_deliveries(files)
    report_rows = [
        truth_report_row(
            unit, day, submissions.get((unit.code, day), []), rejections.get((unit.code, day), [])
        )
        for province in campaign.provinces
        for unit in province.units
        for day in campaign.days
        if unit.active_on(day)
    ]
    injected = list(campaign.faults)
    injected.extend(f for report in files for f in report.faults)
    injected.extend(f for report in files for row in report.rows for f in row.faults)
    expected = Oracle(campaign).expected(None, campaign.days[-1])
    ordered = manifest(expected, injected, campaign.probes)
    _write_csv(
        truth_dir / "truth_installs.csv",
        EXPORT_COLUMNS,
        truth_installs_rows(campaign.curves, campaign.days),
    )
    _write_csv(truth_dir / "truth_exported.csv", EXPORT_COLUMNS, exported_rows)
    _write_csv(truth_dir / "truth_reports.csv", TRUTH_REPORT_COLUMNS, report_rows)
    _write_csv(truth_dir / "faults.csv", FAULT_COLUMNS, fault_rows(ordered))
    _write_csv(truth_dir / "boundary_probes.csv", PROBE_COLUMNS, probe_rows(campaign.probes))
    parameters = {
        "start": campaign.days[0].isoformat(),
        "end": campaign.days[-1].isoformat(),
        "provinces": [p.code for p in campaign.provinces],
        "seed": seed,
        "faults": rates.as_dict(),
        "thresholds": campaign.limits.as_dict(),
        "weekend_factor": WEEKEND_FACTOR,
    }
    if campaign.units != "2020":  # a 2020 campaign's parameters predate the unit sets
        parameters["units"] = campaign.units
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
    start: date | None = None,
    end: date | None = None,
    provinces: Sequence[str] | None = None,
    seed: int = 2020,
    faults: FaultRates = DEFAULT_FAULTS,
    progress: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    commune_level: bool = False,
    units: str | None = None,
) -> SimulationResult:
    """Simulate a campaign and write its landing zone and ground truth under ``out``.

    Args:
        out: the landing root; ``installs/``, ``reports/`` and ``_simulation/`` go under it.
        start: the first snapshot and report day (None: the unit set's default campaign's,
            ``options.campaign_window``: 2020-08-01 on the 2020 units, 2026-09-01 on the 2025 ones).
        end: the last snapshot and report day, inclusive (None: the default campaign's,
            2020-08-25 or 2026-12-31).
        provinces: 2-digit GSO codes of the provinces to simulate, codes of the unit set's;
            None for all of them.
        seed: the random seed; the same arguments always give the same files and mtimes.
        faults: how often each fault is injected (``FaultRates.none()`` for a clean run).
        progress: show a progress bar over the days while writing.
        overwrite: replace ``installs/``, ``reports/`` and ``_simulation/`` if they already
            hold files (otherwise refuse with FileExistsError).
        workers: processes that render the xlsx files (the slow part); None for the CPU
            count (at most 4), 1 for none. The files do not depend on it.
        commune_level: the commune-level export variant of the 2020 units: every export
            also carries a row per commune (10,614 nationally), 97 % of each district's
            installs split over its communes in fixed shares.
        units: the unit set (DESIGN §9) the campaign reports on, "2020" or "2025" (None:
            the project's default set). On the 2025 units the export's rows below the
            provinces are communes (level ``commune``, 5-digit codes) and their People's
            Committees report; the ground truth has the same files and columns.
    """
    from tqdm import tqdm

    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if provinces is not None and not provinces:
        raise ValueError("provinces is empty; pass None for all of them")
    window = campaign_window(units)
    if commune_level and unit_set(units).area_level == "commune":
        raise ValueError(
            "the commune-level variant is for the 2020 units: on the 2025 units "
            "the export's rows below the provinces are communes already"
        )
    out = Path(out)
    start = window.start if start is None else start
    end = window.end if end is None else end
    campaign = simulate_in_memory(start, end, provinces, seed, faults, units)
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
    ordered = _write_truth(campaign, truth_dir, exported_rows, faults, seed)
    return SimulationResult(out, truth_dir, written, len(ordered), campaign.days)


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
