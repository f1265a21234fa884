"""The reporting-unit registry as alerts need it: units with deadlines and contacts, and
provinces with their recipients. Read from the seeds with the csv module only, so a DAG file
can learn the deadline times at parse time without importing anything heavy."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time

from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR


@dataclass(frozen=True)
class Unit:
    unit_code: str
    unit_name: str
    province_code: str
    deadline_local: str
    reports_from: date
    reports_to: date | None
    contact_email: str
    contact_phone: str
    escalation_email: str

    def active_on(self, day: date) -> bool:
        return self.reports_from <= day and (self.reports_to is None or day <= self.reports_to)

    def deadline_on(self, day: date) -> datetime:
        hour, minute = (int(part) for part in self.deadline_local.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


@dataclass(frozen=True)
class Province:
    province_code: str
    name: str
    deadline_local: str
    digest_email: str
    escalation_email: str


def _read(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_registry() -> tuple[dict[str, Province], list[Unit]]:
    names = {row["province_code"]: row["province_name"] for row in _read("ref_provinces.csv")}
    provinces = {
        row["province_code"]: Province(
            row["province_code"],
            names[row["province_code"]],
            row["deadline_local"],
            row["digest_email"],
            row["escalation_email"],
        )
        for row in _read("province_reporting.csv")
    }
    units = [
        Unit(
            row["unit_code"],
            row["unit_name"],
            row["province_code"],
            row["deadline_local"],
            date.fromisoformat(row["reports_from"]),
            date.fromisoformat(row["reports_to"]) if row["reports_to"] else None,
            row["contact_email"],
            row["contact_phone"],
            row["escalation_email"],
        )
        for row in _read("reporting_units.csv")
    ]
    return provinces, units


def deadline_times(units: list[Unit] | None = None) -> list[str]:
    """Every distinct deadline (HH:MM) in the registry."""
    units = units if units is not None else load_registry()[1]
    return sorted({unit.deadline_local for unit in units})
