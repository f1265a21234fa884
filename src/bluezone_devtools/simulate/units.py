"""The campaign simulator: reference data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.names import ascii_fold
from bluezone_warehouse.registry import Unit as RegistryUnit
from bluezone_warehouse.registry import load_registry, parse_hhmm

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
    population_15plus: int | None = None
    population_18plus: int | None = None
    smartphone_owners: float | None = None

    @property
    def denominators(self) -> dict[str, float]:
        """Every coverage denominator DESIGN §4 names that the unit has, by kind."""
        return _denominators(self)


@dataclass(frozen=True)
class Unit:
    """A reporting unit as the simulator plays it: the warehouse's registry entry (read by
    ``bluezone_warehouse.registry``, whose rules say when it owes a report and when its
    deadline falls) and whether its name is unique in the registry."""

    registered: RegistryUnit
    name_is_unique: bool = True

    @property
    def code(self) -> str:
        return self.registered.unit_code

    @property
    def name(self) -> str:
        return self.registered.unit_name

    @property
    def kind(self) -> str:
        return self.registered.unit_kind

    @property
    def province_code(self) -> str:
        return self.registered.province_code

    @property
    def district_code(self) -> str:
        return self.registered.district_code

    @property
    def deadline(self) -> time:
        return parse_hhmm(self.registered.deadline_local)

    def active_on(self, day: date) -> bool:
        return self.registered.active_on(day)

    def deadline_on(self, day: date) -> datetime:
        """The deadline as a local wall-clock time (the simulator's clock)."""
        return self.registered.deadline_on(day).replace(tzinfo=None)

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
    population_15plus: int | None = None
    population_18plus: int | None = None
    smartphone_owners: float | None = None

    @property
    def denominators(self) -> dict[str, float]:
        """Every coverage denominator DESIGN §4 names that the unit has, by kind."""
        return _denominators(self)

    @property
    def committees(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == COMMITTEE)

    @property
    def agencies(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.kind == AGENCY)


def _denominators(unit: District | Province) -> dict[str, float]:
    named = {
        "population_total": unit.population,
        "population_15plus": unit.population_15plus,
        "population_18plus": unit.population_18plus,
        "smartphone_owners": unit.smartphone_owners,
    }
    return {kind: value for kind, value in named.items() if value}


def _count(text: str) -> int | None:
    return int(float(text)) if text else None


def _read_seed(name: str, seeds_dir: Path) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / name, dtype=str, keep_default_na=False)


def _strip_type(name: str, kind: str) -> str:
    prefix = kind.casefold() + " "
    return name[len(prefix) :] if name.casefold().startswith(prefix) else name


def _district_from_row(row: pd.Series, smartphone_owners: float | None = None) -> District:
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
        population_15plus=_count(row["population_15plus"]),
        population_18plus=_count(row["population_18plus"]),
        smartphone_owners=smartphone_owners,
    )


def _district_smartphone_owners(districts: pd.DataFrame, owners: pd.Series) -> dict[str, float]:
    """The province's estimated smartphone owners shared among its districts in proportion
    to population × (intercept + slope × urban share): the method of seeds/README.md."""
    population = districts["population_total"].astype(float)
    urban = pd.to_numeric(districts["population_urban"], errors="coerce").fillna(0.0)
    weight = population * (
        float(owners["propensity_intercept"])
        + float(owners["propensity_slope"]) * urban / population
    )
    share = weight / weight.sum()
    return dict(
        zip(districts["district_code"], share * float(owners["smartphone_owners_est"]), strict=True)
    )


def _name_key(name: str) -> str:
    """A unit name folded for comparison: no diacritics, case or ``UBND`` prefix."""
    return " ".join(ascii_fold(name).casefold().split()).removeprefix("ubnd ")


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
    registered = load_registry(seeds_dir).units
    keys = Counter(_name_key(unit.unit_name) for unit in registered)
    units = tuple(
        Unit(unit, name_is_unique=keys[_name_key(unit.unit_name)] == 1)
        for unit in sorted(registered, key=lambda unit: unit.unit_code)
    )
    wanted = sorted(provinces["province_code"]) if codes is None else _normalise_codes(codes)
    unknown = sorted(set(wanted) - set(provinces["province_code"]))
    if unknown:
        raise ValueError(f"unknown province codes {unknown}; expected 2-digit GSO codes")
    by_code = provinces.set_index("province_code")
    result = []
    for code in wanted:
        own = districts[districts["province_code"] == code].sort_values("district_code")
        phones = _district_smartphone_owners(own, owners.loc[code])
        result.append(_province(code, by_code.loc[code], owners.loc[code], own, phones, units))
    return result


def _province(
    code: str,
    seed_row: pd.Series,
    owners: pd.Series,
    districts: pd.DataFrame,
    phones: dict[str, float],
    units: tuple[Unit, ...],
) -> Province:
    return Province(
        code=code,
        name=seed_row["province_name"],
        population=int(seed_row["population_total"]),
        propensity=float(owners["propensity"]),
        districts=tuple(
            _district_from_row(row, phones[row["district_code"]]) for _, row in districts.iterrows()
        ),
        units=tuple(unit for unit in units if unit.province_code == code),
        population_15plus=_count(seed_row["population_15plus"]),
        population_18plus=_count(seed_row["population_18plus"]),
        smartphone_owners=float(owners["smartphone_owners_est"]),
    )


def _normalise_codes(codes: Sequence[str]) -> list[str]:
    return sorted({str(code).strip().zfill(2) for code in codes})
