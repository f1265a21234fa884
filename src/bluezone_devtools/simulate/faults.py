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
    "code_name_mismatch",
    "export_incomplete",
    "installs_with_phone_exceeds_installs",
    "redelivery",
    "report_rejected",
)


ORIGINS = ("injected", "boundary", "natural")


@dataclass(eq=False)
class Fault:
    """One row of ``faults.csv``: a flag DESIGN §5 calls for (or, ``redelivery``, a benign
    irregularity); ``cause`` is the fault whose injection implies this one.

    ``origin`` says where it comes from: ``injected`` (a fault placed beyond its threshold),
    ``boundary`` (a value placed just over a threshold, see ``Probe``) or ``natural`` (the
    simulated figures or the units' behaviour crossed the threshold by themselves).
    ``observed`` is the value DESIGN's definition judges and ``limit`` what it is judged
    against.
    """

    kind: str
    day: date
    unit_code: str = ""
    province_code: str = ""
    file: str = ""
    detail: str = ""
    cause: Fault | None = None
    fault_id: str = ""
    observed: str = ""
    limit: str = ""
    origin: str = "injected"

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.kind, self.unit_code, self.day)


@dataclass(eq=False)
class Probe:
    """A value placed exactly at a threshold of DESIGN §5 (``side`` "at") or just over it
    ("over"), and whether DESIGN's definition flags it; ``fault`` is the manifest row of a
    flagged one. One row of ``boundary_probes.csv``."""

    check: str
    side: str
    unit_code: str
    province_code: str
    day: date
    observed: str
    limit: str
    flagged: bool
    what: str = ""
    fault: Fault | None = None
