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

The modules follow the simulator's own sections: ``options`` (fault rates), ``units``
(reference data), ``rng``, ``adoption`` (true figures), ``export_series``, ``faults``,
``export_plan`` and ``export_faults`` (the ministry's files), ``templates``, ``unit_days``,
``report_faults`` and ``report_files`` (the units' reports), ``render_reports`` and
``render_exports`` (bytes on disk), ``truth`` (the ground truth) and ``campaign`` (putting
it together). Nothing here is imported by the warehouse package.
"""

from bluezone_devtools.simulate.adoption import ProvinceCurves, simulate_adoption
from bluezone_devtools.simulate.campaign import (
    Campaign,
    campaign_days,
    deliver_until,
    simulate_campaign,
    simulate_in_memory,
)
from bluezone_devtools.simulate.export_series import ExportSeries, export_flags
from bluezone_devtools.simulate.faults import FAULT_KINDS, Fault
from bluezone_devtools.simulate.options import DEFAULT_FAULTS, FaultRates, SimulationResult
from bluezone_devtools.simulate.render_exports import EXPORT_COLUMNS
from bluezone_devtools.simulate.render_reports import format_count
from bluezone_devtools.simulate.units import load_provinces

__all__ = [
    "DEFAULT_FAULTS",
    "EXPORT_COLUMNS",
    "FAULT_KINDS",
    "Campaign",
    "ExportSeries",
    "Fault",
    "FaultRates",
    "ProvinceCurves",
    "SimulationResult",
    "campaign_days",
    "deliver_until",
    "export_flags",
    "format_count",
    "load_provinces",
    "simulate_adoption",
    "simulate_campaign",
    "simulate_in_memory",
]
