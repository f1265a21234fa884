"""The campaign simulator: faults: the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The check that a province's official total is not below the sum of its areas' figures
# (DESIGN §5), at whichever level the unit set has below the province: the one home of its
# id in the simulator. The catalogue (dbt_project.yml, dq_checks) names it
# ``children_exceed_parent`` for every set; an id per level would go in
# CHILDREN_CHECK_BY_LEVEL. (The fault-rate option of ``FaultRates`` and its random stream
# keep the name ``district_sum_exceeds_province``, so a seed gives the same campaign.)
CHILDREN_CHECK_BY_LEVEL: dict[str, str] = {}
CHILDREN_CHECK = "children_exceed_parent"


def children_check(area_level: str) -> str:
    """The check id of areas adding up to more than their province, for ``area_level``."""
    return CHILDREN_CHECK_BY_LEVEL.get(area_level, CHILDREN_CHECK)


# Every kind of faults.csv of a 2020 campaign, in the manifest's order (``fault_kinds`` for
# another area level).
FAULT_KINDS = (
    "missing_report",
    "late_report",
    "conflicting_resubmission",
    "unknown_unit",
    "malformed_file",
    "out_of_range_date",
    "decreasing_cumulative",
    children_check("district"),
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


def fault_kinds(area_level: str = "district") -> tuple[str, ...]:
    """Every kind of faults.csv of a campaign whose areas are at ``area_level``."""
    legacy, own = children_check("district"), children_check(area_level)
    return tuple(own if kind == legacy else kind for kind in FAULT_KINDS)


def kind_rank(kind: str) -> int:
    """A kind's place in the manifest's order (the children check's, whatever its id)."""
    return FAULT_KINDS.index(children_check("district") if kind == CHILDREN_CHECK else kind)


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
