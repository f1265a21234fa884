"""The reporting-unit registry (DESIGN §3.4) and its rules, in one place.

Read from the seeds with the csv module only (no heavy import), so DAG files, ingestion,
the alerts and the test bench share one structure: a ``Unit`` per registry row and a
``Province`` per province with its recipients. The rules that are about the registry itself
live here and nowhere else in Python: a unit is *expected* on a day when it is active on it
(``active_on``), and its deadline on a day is its local deadline time on that day
(``deadline_on``). The SQL side has the same rules in one model each
(``int_reports_expected``).

Contacts are personal data: they feed alerts only, never the marts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache, cached_property
from pathlib import Path

from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR
from bluezone_warehouse.units import unit_set

AGENCY = "provincial_agency"


@dataclass(frozen=True)
class Unit:
    """One reporting unit: a registry row."""

    unit_code: str
    unit_name: str
    unit_kind: str  # <area level>_committee (district_ or commune_committee) | provincial_agency
    province_code: str
    district_code: str  # the 2020 district; empty for provincial agencies and in 2025
    deadline_local: str  # HH:MM
    reports_from: date
    reports_to: date | None
    contact_email: str
    contact_phone: str
    escalation_email: str
    # The administrative unit whose figures a committee reports (a district in 2020, a
    # commune in 2025: the unit set's area level); empty for provincial agencies.
    area_code: str = ""

    @property
    def is_committee(self) -> bool:
        """A People's Committee of an area, as against a provincial agency."""
        return self.unit_kind != AGENCY

    def active_on(self, day: date) -> bool:
        """Whether the unit must report for ``day`` (an expected report)."""
        return self.reports_from <= day and (self.reports_to is None or day <= self.reports_to)

    def deadline_on(self, day: date) -> datetime:
        """The moment (local time) the report for ``day`` is due."""
        return datetime.combine(day, parse_hhmm(self.deadline_local), tzinfo=LOCAL_TZ)


@dataclass(frozen=True)
class Province:
    """A province as the alerts address it: its deadline and its recipients."""

    province_code: str
    name: str
    deadline_local: str
    digest_email: str
    escalation_email: str


@dataclass(frozen=True)
class UnitRegistry:
    provinces: dict[str, Province]
    units: tuple[Unit, ...]

    @cached_property
    def by_code(self) -> dict[str, Unit]:
        """Each unit by its registry code."""
        return {unit.unit_code: unit for unit in self.units}

    def deadline_times(self) -> list[str]:
        """Every distinct deadline (HH:MM) in the registry, in order."""
        return sorted({unit.deadline_local for unit in self.units})


def parse_hhmm(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(hour, minute)


def read_seed(seeds_dir: Path, name: str) -> list[dict[str, str]]:
    """The rows of the seed file ``name`` (a CSV under ``seeds_dir``), as text."""
    with (seeds_dir / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _unit(row: dict[str, str]) -> Unit:
    return Unit(
        unit_code=row["unit_code"],
        unit_name=row["unit_name"],
        unit_kind=row["unit_kind"],
        province_code=row["province_code"],
        district_code=row["district_code"],
        deadline_local=row["deadline_local"],
        reports_from=date.fromisoformat(row["reports_from"]),
        reports_to=date.fromisoformat(row["reports_to"]) if row["reports_to"] else None,
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        escalation_email=row["escalation_email"],
        area_code=row["area_code"],
    )


@cache
def load_registry(seeds_dir: Path = SEEDS_DIR, units: str | None = None) -> UnitRegistry:
    """The registry and the provinces' recipients of the unit set ``units`` (the project's
    default set when None) from the seeds."""
    declared = unit_set(units)
    names = {
        row["province_code"]: row["province_name"]
        for row in read_seed(seeds_dir, declared.seed_file(declared.provinces_seed))
    }
    provinces = {
        row["province_code"]: Province(
            row["province_code"],
            names[row["province_code"]],
            row["deadline_local"],
            row["digest_email"],
            row["escalation_email"],
        )
        for row in read_seed(seeds_dir, declared.seed_file(declared.province_reporting_seed))
    }
    registered = tuple(
        _unit(row) for row in read_seed(seeds_dir, declared.seed_file(declared.registry_seed))
    )
    return UnitRegistry(provinces, registered)
