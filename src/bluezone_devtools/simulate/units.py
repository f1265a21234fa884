"""The campaign simulator: reference data.

A campaign reports on a unit set (DESIGN §9, declared in ``dbt_project.yml`` and read through
``bluezone_warehouse.units``): its provinces, the areas at its level below them (the units
whose figures add up to a province's: districts in 2020, communes in 2025) and its registry.
Each area level has its loader here, since the seeds of each level carry different facts:
the 2020 districts their census figures and urban population, the 2025 communes only an
estimated census population (their 15+, 18+ and smartphone owners are derived here from
their province, as stated in ``_commune_provinces``).
"""

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
from bluezone_warehouse.units import UnitSet, unit_set

# The simulator's two roles of a reporting unit: the People's Committee of an area (whatever
# the set's area level; the registry's ``unit_kind`` says which) and a provincial agency.
COMMITTEE = "committee"
AGENCY = "provincial_agency"

# The 2025 communes have no urban share: a phường is urban, a xã rural, a đặc khu (an island
# district made one unit) in between. The adoption model reads it as the 2020 districts'.
COMMUNE_URBAN_SHARE = {"phường": 1.0, "đặc khu": 0.5, "xã": 0.0}


@dataclass(frozen=True)
class Area:
    """A unit of the set's area level (a 2020 district, a 2025 commune): its figures are part
    of its province's, and its People's Committee reports them. ``kind`` is its type as the
    seed writes it (``Huyện``, ``phường``...)."""

    code: str
    province_code: str
    name_full: str
    base_name: str
    alt_base_name: str
    kind: str
    population: int
    urban_share: float
    adults_share: float
    # the census's for a 2020 district (whole numbers); for a 2025 commune its province's
    # in proportion to population (unrounded)
    population_15plus: float | None = None
    population_18plus: float | None = None
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
        """The registry's ``unit_kind`` (``district_committee``, ``commune_committee``,
        ``provincial_agency``)."""
        return self.registered.unit_kind

    @property
    def is_committee(self) -> bool:
        return self.registered.is_committee

    @property
    def province_code(self) -> str:
        return self.registered.province_code

    @property
    def area_code(self) -> str:
        """The area whose figures a committee reports (empty for an agency)."""
        return self.registered.area_code

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
    """A province and its areas (``areas``, at ``area_level``: the export's rows below the
    province, by code) and its registry units."""

    code: str
    name: str
    population: int
    propensity: float
    areas: tuple[Area, ...]
    units: tuple[Unit, ...]
    population_15plus: int | None = None
    population_18plus: int | None = None
    smartphone_owners: float | None = None
    area_level: str = "district"

    @property
    def districts(self) -> tuple[Area, ...]:
        """The areas (the 2020 name: there they are districts)."""
        return self.areas

    @property
    def denominators(self) -> dict[str, float]:
        """Every coverage denominator DESIGN §4 names that the unit has, by kind."""
        return _denominators(self)

    @property
    def committees(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if unit.is_committee)

    @property
    def agencies(self) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if not unit.is_committee)


def _denominators(unit: Area | Province) -> dict[str, float]:
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


def _district_from_row(row: pd.Series, smartphone_owners: float | None = None) -> Area:
    population = int(float(row["population_total"]))
    return Area(
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
    codes: Sequence[str] | None = None, seeds_dir: Path = SEEDS_DIR, units: str | None = None
) -> list[Province]:
    """The provinces to simulate (all when ``codes`` is None), with areas and units, of the
    unit set ``units`` (the project's default set when None).

    Areas without a census population (Hoàng Sa) are left out: they have no installs and no
    registry unit. Units whose folded name is shared with another unit anywhere in the
    registry (ten ``Huyện Châu Thành``...) are marked: they always write their code.
    """
    declared = unit_set(units)
    provinces = _read_seed(declared.seed_file(declared.provinces_seed), seeds_dir)
    registered = load_registry(seeds_dir, declared.name).units
    keys = Counter(_name_key(unit.unit_name) for unit in registered)
    playing = tuple(
        Unit(unit, name_is_unique=keys[_name_key(unit.unit_name)] == 1)
        for unit in sorted(registered, key=lambda unit: unit.unit_code)
    )
    digits = declared.digits("province")
    wanted = (
        sorted(provinces["province_code"]) if codes is None else _normalise_codes(codes, digits)
    )
    unknown = sorted(set(wanted) - set(provinces["province_code"]))
    if unknown:
        raise ValueError(
            f"unknown province codes {unknown}; expected {digits}-digit GSO codes"
            + ("" if declared.name == "2020" else f" of the {declared.name} units")
        )
    loader = AREA_LOADERS.get(declared.area_level)
    if loader is None:
        raise ValueError(f"the simulator has no {declared.area_level} level to simulate")
    return loader(wanted, provinces.set_index("province_code"), playing, declared, seeds_dir)


def _district_provinces(
    wanted: Sequence[str],
    by_code: pd.DataFrame,
    units: tuple[Unit, ...],
    declared: UnitSet,
    seeds_dir: Path,
) -> list[Province]:
    """The 2020 provinces and their districts (census figures, urban population, the
    smartphone owners of ``ref_smartphone_owners.csv`` shared by urban share)."""
    owners = _read_seed("ref_smartphone_owners.csv", seeds_dir).set_index("province_code")
    districts = _read_seed(declared.seed_file(declared.areas_seed), seeds_dir)
    districts = districts[pd.to_numeric(districts["population_total"], errors="coerce") > 0]
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
        areas=tuple(
            _district_from_row(row, phones[row["district_code"]]) for _, row in districts.iterrows()
        ),
        units=tuple(unit for unit in units if unit.province_code == code),
        population_15plus=_count(seed_row["population_15plus"]),
        population_18plus=_count(seed_row["population_18plus"]),
        smartphone_owners=float(owners["smartphone_owners_est"]),
    )


def _commune_provinces(
    wanted: Sequence[str],
    by_code: pd.DataFrame,
    units: tuple[Unit, ...],
    declared: UnitSet,
    seeds_dir: Path,
) -> list[Province]:
    """The 2025 provinces and their communes, with the denominators of the 2025 units:

    - a province's population, 15+ and 18+ are its seed's (sums of its 2020 provinces');
      its smartphone owners the sum of its 2020 provinces' ``smartphone_owners_est``;
    - a commune's population is its ``population_total_est``; its 15+, 18+ and smartphone
      owners are its province's in proportion to population (unrounded: commune population
      × province figure / province population).
    """
    owners_2020 = _read_seed("ref_smartphone_owners.csv", seeds_dir).set_index("province_code")
    crosswalk = _read_seed("xwalk_provinces_2020_2025.csv", seeds_dir)
    communes = _read_seed(declared.seed_file(declared.areas_seed), seeds_dir)
    populated = pd.to_numeric(communes["population_total_est"], errors="coerce") > 0
    communes = communes[populated].sort_values("commune_code")
    result = []
    for code in wanted:
        seed_row = by_code.loc[code]
        olds = crosswalk.loc[crosswalk["province_code_2025"] == code, "province_code_2020"]
        owners = sum(int(owners_2020.loc[old, "smartphone_owners_est"]) for old in olds)
        population = int(seed_row["population_total"])
        adults = {
            "15plus": int(seed_row["population_15plus"]),
            "18plus": int(seed_row["population_18plus"]),
        }
        areas = []
        for row in communes[communes["province_code"] == code].itertuples(index=False):
            people = int(row.population_total_est)
            areas.append(
                Area(
                    code=row.commune_code,
                    province_code=code,
                    name_full=row.commune_name_full,
                    base_name=_strip_type(row.commune_name_full, row.commune_type),
                    alt_base_name=_strip_type(row.commune_name, row.commune_type),
                    kind=row.commune_type,
                    population=people,
                    urban_share=COMMUNE_URBAN_SHARE[row.commune_type],
                    adults_share=adults["15plus"] / population,
                    population_15plus=people * adults["15plus"] / population,
                    population_18plus=people * adults["18plus"] / population,
                    smartphone_owners=owners * people / population,
                )
            )
        result.append(
            Province(
                code=code,
                name=seed_row["province_name"],
                population=population,
                propensity=owners / population,
                areas=tuple(areas),
                units=tuple(unit for unit in units if unit.province_code == code),
                population_15plus=adults["15plus"],
                population_18plus=adults["18plus"],
                smartphone_owners=float(owners),
                area_level=declared.area_level,
            )
        )
    return result


# How each area level's provinces are read (the seeds of each level carry different facts).
AREA_LOADERS = {"district": _district_provinces, "commune": _commune_provinces}


def _normalise_codes(codes: Sequence[str], digits: int = 2) -> list[str]:
    return sorted({str(code).strip().zfill(digits) for code in codes})
