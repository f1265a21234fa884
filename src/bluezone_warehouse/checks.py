"""The data-quality check catalogue (DESIGN §5), read from its one home: the dbt vars.

``dbt_project/dbt_project.yml`` holds every check id with its severity (``dq_checks``) and
every threshold (``dq_*``). The flag models read them there; this module gives Python the
same values (the alerts, the report, the simulator and the measurement), so no copy of an
id, a severity or a threshold exists outside that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bluezone_warehouse.config import DBT_PROJECT_DIR, dbt_vars


@dataclass(frozen=True)
class Check:
    id: str
    severity: str  # warn | error
    what: str


__all__ = ["Check", "catalogue", "check_ids", "dbt_vars", "threshold"]


def catalogue(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, Check]:
    """Every check, by id, in the catalogue's order."""
    return {
        check_id: Check(check_id, entry["severity"], entry["what"])
        for check_id, entry in dbt_vars(project_dir)["dq_checks"].items()
    }


def check_ids(project_dir: Path = DBT_PROJECT_DIR) -> tuple[str, ...]:
    return tuple(catalogue(project_dir))


def threshold(name: str, project_dir: Path = DBT_PROJECT_DIR) -> float:
    """A data-quality threshold by its dbt var name without the ``dq_`` prefix
    (``unattributed_share_max``, ``outlier_z``, ...)."""
    value = dbt_vars(project_dir)[f"dq_{name}"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"dq_{name} is not a number: {value!r}")
    return float(value)
