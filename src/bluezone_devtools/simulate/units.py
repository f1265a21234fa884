"""The campaign simulator: reference data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.names import ascii_fold

COMMITTEE = "district_committee"
AGENCY = "provincial_agency"


@dataclass(frozen=True)
class District:
    code: str
    province_code: str
    name_full: str
    base_name: str
    alt_base_name: str
    kind: str
    population: int
    urban_share: float
    adults_share: float


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    province_code: str
    district_code: str
    deadline: time
    active_from: date | None
    active_to: date | None
    name_is_unique: bool = True

    def active_on(self, day: date) -> bool:
        after_start = self.active_from is None or day >= self.active_from
        return after_start and (self.active_to is None or day <= self.active_to)

    def deadline_on(self, day: date) -> datetime:
        return datetime.combine(day, self.deadline)

    @property
    def short_code(self) -> str:
        return self.code.split("-", 1)[-1].lower()


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    population: int
    propensity: float
    districts: tuple[District, ...]
    units: tuple[Unit, ...]

    @property
    def committees(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == COMMITTEE)

    @property
    def agencies(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == AGENCY)


def _read_seed(name: str, seeds_dir: Path) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / name, dtype=str, keep_default_na=False)


def _strip_type(name: str, kind: str) -> str:
    prefix = kind.casefold() + " "
    return name[len(prefix) :] if name.casefold().startswith(prefix) else name


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _district_from_row(row: pd.Series) -> District:
    population = int(float(row["population_total"]))
    return District(
        code=row["district_code"],
        province_code=row["province_code"],
        name_full=row["district_name_full"],
        base_name=_strip_type(row["district_name_full"], row["district_type"]),
        alt_base_name=_strip_type(row["district_name"], row["district_type"]),
        kind=row["district_type"],
        population=population,
        urban_share=float(row["population_urban"] or 0) / population,
        adults_share=float(row["population_15plus"] or population * 0.75) / population,
    )


def _name_key(name: str) -> str:
    """A unit name folded for comparison: no diacritics, case or ``UBND`` prefix."""
    return " ".join(ascii_fold(name).casefold().split()).removeprefix("ubnd ")


def _unit_from_row(row: pd.Series, shared_names: set[str]) -> Unit:
    return Unit(
        code=row["unit_code"],
        name=row["unit_name"],
        kind=row["unit_kind"],
        province_code=row["province_code"],
        district_code=row["district_code"],
        deadline=time.fromisoformat(row["deadline_local"]),
        active_from=_optional_date(row["reports_from"]),
        active_to=_optional_date(row["reports_to"]),
        name_is_unique=_name_key(row["unit_name"]) not in shared_names,
    )


def load_provinces(
    codes: Sequence[str] | None = None, seeds_dir: Path = SEEDS_DIR
) -> list[Province]:
    """The provinces to simulate (all when ``codes`` is None), with districts and units.

    Districts without a census population (Hoàng Sa) are left out: they have no installs
    and no registry unit. Units whose folded name is shared with another unit anywhere in
    the registry (ten ``Huyện Châu Thành``...) are marked: they always write their code.
    """
    provinces = _read_seed("ref_provinces.csv", seeds_dir)
    owners = _read_seed("ref_smartphone_owners.csv", seeds_dir).set_index("province_code")
    districts = _read_seed("ref_districts.csv", seeds_dir)
    districts = districts[pd.to_numeric(districts["population_total"], errors="coerce") > 0]
    units = _read_seed("reporting_units.csv", seeds_dir)
    keys = units["unit_name"].map(_name_key)
    shared_names = set(keys[keys.duplicated(keep=False)])
    wanted = sorted(provinces["province_code"]) if codes is None else _normalise_codes(codes)
    unknown = sorted(set(wanted) - set(provinces["province_code"]))
    if unknown:
        raise ValueError(f"unknown province codes {unknown}; expected 2-digit GSO codes")
    by_code = provinces.set_index("province_code")
    return [
        Province(
            code=code,
            name=by_code.at[code, "province_name"],
            population=int(by_code.at[code, "population_total"]),
            propensity=float(owners.at[code, "propensity"]),
            districts=tuple(
                _district_from_row(row)
                for _, row in districts[districts["province_code"] == code]
                .sort_values("district_code")
                .iterrows()
            ),
            units=tuple(
                _unit_from_row(row, shared_names)
                for _, row in units[units["province_code"] == code]
                .sort_values("unit_code")
                .iterrows()
            ),
        )
        for code in wanted
    ]


def _normalise_codes(codes: Sequence[str]) -> list[str]:
    return sorted({str(code).strip().zfill(2) for code in codes})
