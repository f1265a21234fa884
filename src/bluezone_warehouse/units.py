"""The administrative unit sets a campaign can report on (DESIGN §9), read from their one
home: the ``unit_sets`` var of ``dbt_project/dbt_project.yml``.

A set names its levels from the top down (``nation, region, province, district`` for 2020;
``nation, province, commune`` for 2025), the digits of a code at each level and the seeds
that hold its units, its reporting-unit registry, its provinces' recipients and its
targets. The models read the same declaration (macros ``unit_set``, ``unit_levels``,
``area_level``); a campaign picks its set with ``BLUEZONE_UNITS`` (``Settings.units``).
Nothing else in the code names a level or a count of units as a fixed fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from bluezone_warehouse.config import DBT_PROJECT_DIR, dbt_vars

PROVINCE = "province"


@dataclass(frozen=True)
class UnitSet:
    name: str
    description: str
    levels: tuple[str, ...]
    # the campaign's first and last days (the settings' defaults)
    campaign_start: date
    campaign_end: date
    code_digits: dict[str, int]
    # the levels an install export may carry, each with the seed of its codes
    export_levels: dict[str, str]
    regions_seed: str | None
    provinces_seed: str
    areas_seed: str
    registry_seed: str
    province_reporting_seed: str
    targets_seed: str
    boundaries: str
    # the registry's unit_kind of a People's Committee at the area level
    committee_kind: str
    # the set whose census denominators reach these units through the crosswalks (None
    # for the 2020 set itself)
    carried_from: str | None = None

    @property
    def area_level(self) -> str:
        """The level below the province: the units whose figures add up to a province's
        (``district`` in 2020, ``commune`` in 2025), the level reporting committees sit at."""
        return self.levels[self.levels.index(PROVINCE) + 1]

    def parent_level(self, level: str) -> str | None:
        """The level above ``level`` in this set (None for the top)."""
        index = self.levels.index(level)
        return self.levels[index - 1] if index else None

    def digits(self, level: str) -> int:
        return self.code_digits[level]

    def seed_file(self, seed: str) -> str:
        return f"{seed}.csv"


@cache
def unit_sets(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, UnitSet]:
    """Every declared unit set by name."""
    return {
        str(name): UnitSet(
            name=str(name),
            description=entry["description"],
            levels=tuple(entry["levels"]),
            campaign_start=date.fromisoformat(entry["campaign"]["start"]),
            campaign_end=date.fromisoformat(entry["campaign"]["end"]),
            code_digits=dict(entry["code_digits"]),
            export_levels=dict(entry["export_levels"]),
            regions_seed=entry.get("regions"),
            provinces_seed=entry["provinces"],
            areas_seed=entry["areas"],
            registry_seed=entry["registry"],
            province_reporting_seed=entry["province_reporting"],
            targets_seed=entry["targets"],
            boundaries=str(entry["boundaries"]),
            committee_kind=entry["committee_kind"],
            carried_from=entry.get("carried_from"),
        )
        for name, entry in dbt_vars(project_dir)["unit_sets"].items()
    }


def default_unit_set(project_dir: Path = DBT_PROJECT_DIR) -> str:
    return str(dbt_vars(project_dir)["unit_set"])


def unit_set(name: str | None = None, project_dir: Path = DBT_PROJECT_DIR) -> UnitSet:
    """The unit set ``name`` (the project's default when None); a clear error for a name
    that is not declared."""
    sets = unit_sets(project_dir)
    name = default_unit_set(project_dir) if name is None else str(name).strip()
    if name not in sets:
        raise ValueError(
            f"unknown unit set {name!r}: declared sets are {', '.join(sets)} "
            "(dbt_project.yml, vars.unit_sets)"
        )
    return sets[name]


def unit_set_with_levels(levels: Iterable[str], project_dir: Path = DBT_PROJECT_DIR) -> UnitSet:
    """The declared unit set whose levels are ``levels`` (as a snapshot's
    ``dim_admin_units`` holds them): what a reader of published marts was built on."""
    found = set(levels)
    for declared in unit_sets(project_dir).values():
        if set(declared.levels) == found:
            return declared
    raise ValueError(
        f"no declared unit set has the levels {', '.join(sorted(found))} "
        "(dbt_project.yml, vars.unit_sets)"
    )
