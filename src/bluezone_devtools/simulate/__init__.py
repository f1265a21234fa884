"""Simulate an install campaign: the landing zone the warehouse ingests, and its ground truth.

``simulate_campaign(out, ...)`` writes three folders under ``out/``:

``installs/``
    the ministry's national export, one file per snapshot day (DESIGN §3.2): columns
    ``snapshot_date,level,unit_code,installs,installs_with_phone``, a ``province`` row
    (the official total) per simulated province and a row per area of the unit set's level
    below it: a ``district`` row (3-digit code) per district on the 2020 units, a
    ``commune`` row (5-digit code) per commune on the 2025 units (``units="2025"``).
    Mostly ``installs_YYYYMMDD.csv``, some ``.csv.gz`` and ``.parquet``, some CSVs with a
    BOM; a corrected re-delivery is ``installs_YYYYMMDD_v2.<ext>``. The export for day D
    arrives early on D+1 (local time) and the file's mtime says when.
``reports/``
    every reporting unit's daily report (DESIGN §3.3): one file per area's committee
    (district or commune) and day (``YYYYMMDD_<province>_<area slug>.<csv|xlsx|json>``,
    e.g. ``20260901_01_phuong-ba-dinh.csv``), the provincial
    agencies consolidated per province and day (``YYYYMMDD_<province>_so-nganh.<xlsx|csv>``,
    a late agency in ``..._so-nganh_<agency>.<ext>``), a resubmission in ``..._lan2.<ext>``;
    headers in Vietnamese or English, several date, time and number styles. Every file's
    mtime is its arrival time.
``_simulation/``
    the ground truth, never read by ingestion: ``simulation.json`` (the parameters),
    ``truth_installs.csv`` (true cumulative figures), ``truth_exported.csv`` (what the
    final exports say), ``truth_reports.csv`` (each registry unit's final reporting state
    per day, on_time, late, rejected or missing, and its state at the deadline),
    ``faults.csv`` (every flag DESIGN §5 calls for: injected faults, boundary
    probes' flagged side and what the figures and the units do by themselves, named by the
    check ids of DESIGN §5, with the value judged and where it comes from) and
    ``boundary_probes.csv`` (values placed exactly at a threshold and just over it, and
    whether DESIGN's definition flags them).

The adoption model is a logistic curve of cumulative installs per area (urban districts or
phường faster and higher, provinces heterogeneous, weekend dips), calibrated on the 2020
Bluezone campaign (about 20 million installs by 20/8/2020). A campaign reports on a unit set
(DESIGN §9): the 2020 units (63 provinces, their districts; the default) or the 2025 units
(34 provinces, their communes; by default a present-day campaign from 2026-09-01,
``options.campaign_window``); the ground truth has the same files and columns on both, with the
commune wherever the 2020 truth has the district, and the check of areas adding up to more
than their province named by ``faults.children_check``. Faults are injected from the simulator's
own figures, never checked against any implementation of the checks: each says by
construction which flag DESIGN §5 calls for on the values it set, and boundary probes put
values on both sides of every threshold. The ground truth is then computed from the
simulated values with DESIGN's definitions (``definitions``, exact arithmetic), so flags
nobody injected are in it too; ``Oracle`` gives it for any moment of the campaign.

Deterministic: the same arguments give byte-identical files with identical mtimes. Every
random draw comes from a stream keyed by (seed, purpose, province or unit), so simulating a
subset of the provinces gives those provinces the same figures as the full run. Nothing
reads the wall clock.

The modules follow the simulator's own sections: ``options`` (fault rates), ``units``
(reference data), ``rng``, ``adoption`` (true figures), ``export_series``, ``faults``,
``export_plan``, ``export_state``, ``export_faults`` and ``export_probes`` (the ministry's
files), ``templates``, ``unit_days``, ``report_faults`` and ``report_files`` (the units'
reports), ``render_reports`` and ``render_exports`` (bytes on disk), ``definitions``
(DESIGN §5's checks as ground truth), ``truth`` (the ground truth files and the
``Oracle``) and ``campaign`` (putting it together). Nothing here is imported by the
warehouse package.
"""

from bluezone_devtools.simulate.adoption import ProvinceCurves, simulate_adoption
from bluezone_devtools.simulate.campaign import (
    Campaign,
    campaign_days,
    deliver_until,
    simulate_campaign,
    simulate_in_memory,
)
from bluezone_devtools.simulate.definitions import Expected, ExportView, Limits
from bluezone_devtools.simulate.export_series import ExportSeries
from bluezone_devtools.simulate.faults import FAULT_KINDS, Fault, Probe
from bluezone_devtools.simulate.options import (
    DEFAULT_FAULTS,
    FaultRates,
    SimulationResult,
    campaign_window,
)
from bluezone_devtools.simulate.render_exports import EXPORT_COLUMNS
from bluezone_devtools.simulate.render_reports import format_count
from bluezone_devtools.simulate.truth import Oracle
from bluezone_devtools.simulate.units import load_provinces

__all__ = [
    "DEFAULT_FAULTS",
    "EXPORT_COLUMNS",
    "FAULT_KINDS",
    "Campaign",
    "Expected",
    "ExportSeries",
    "ExportView",
    "Fault",
    "FaultRates",
    "Limits",
    "Oracle",
    "Probe",
    "ProvinceCurves",
    "SimulationResult",
    "campaign_days",
    "campaign_window",
    "deliver_until",
    "format_count",
    "load_provinces",
    "simulate_adoption",
    "simulate_campaign",
    "simulate_in_memory",
]
