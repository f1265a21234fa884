"""The campaign simulator: faults: the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
