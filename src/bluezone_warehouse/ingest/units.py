"""Matching what a report says about its unit to the reporting-unit registry (DESIGN §3.4).

A row names its unit by registry code, or by name when the code is blank. Names come with or
without diacritics and with the usual prefixes ("UBND", "TP."/"Thành phố", "TX."/"Thị xã",
"H."/"Huyện", "Q."/"Quận", and for communes "P."/"Phường", "X."/"Xã", "Đặc khu", "TT."/"Thị
trấn"). A name is matched on its folded form; when several provinces have
a unit of that name, the province the file is about decides; a fuzzy match is accepted only
when it is unique and close. Anything else is an ``unknown_unit`` with the best candidates.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bluezone_warehouse.names import ascii_fold
from bluezone_warehouse.registry import Unit, UnitRegistry, load_registry

_TYPE_PREFIXES = (
    ("thanh pho", "thanh pho"),
    ("tp", "thanh pho"),
    ("thi xa", "thi xa"),
    ("tx", "thi xa"),
    ("huyen", "huyen"),
    ("h", "huyen"),
    ("quan", "quan"),
    ("q", "quan"),
    # the commune level (the 2025 units: phường, xã, đặc khu; 2020: thị trấn)
    ("phuong", "phuong"),
    ("p", "phuong"),
    ("xa", "xa"),
    ("x", "xa"),
    ("dac khu", "dac khu"),
    ("dk", "dac khu"),
    ("thi tran", "thi tran"),
    ("tt", "thi tran"),
)
_FUZZY_CUTOFF = 0.9


@dataclass(frozen=True)
class UnitMatch:
    unit: Unit | None
    method: str  # code | name | fuzzy | unknown | mismatch
    reason: str = ""
    check_id: str = "unknown_unit"  # the flag when no unit is matched
    candidates: tuple[Unit, ...] = ()  # for a mismatch: the code's unit, then the name's
    # The sender's message (a key of ingest.messages.CATALOGUE) when no unit is matched, and
    # the units it names: every unit of an ambiguous name, the closest to an unknown one.
    problem: str = ""
    suggestions: tuple[Unit, ...] = ()


def _fold(text: str) -> str:
    folded = ascii_fold(text).lower()
    folded = re.sub(r"[.\-_,()]+", " ", folded)
    return re.sub(r"\s+", " ", folded).strip()


def name_key(text: str) -> tuple[str | None, str]:
    """(unit type or None, base name) of a folded unit name, without "UBND" and prefixes."""
    folded = _fold(text)
    folded = re.sub(r"^(ubnd|uy ban nhan dan)\s+", "", folded)
    for prefix, kind in _TYPE_PREFIXES:
        if folded.startswith(prefix + " "):
            return kind, folded[len(prefix) + 1 :].strip()
    return None, folded


class UnitMatcher:
    """The reporting-unit registry, indexed for matching report rows."""

    def __init__(self, units: list[Unit], province_names: dict[str, str] | None = None) -> None:
        self.units = units
        self.province_names = province_names or {}
        self.by_code = {unit.unit_code: unit for unit in units}
        # a numeric code written without its leading zeros is padded to these lengths (3
        # for a 2020 district, 5 for a 2025 commune)
        self._code_lengths = sorted(
            {len(unit.unit_code) for unit in units if unit.unit_code.isdigit()}
        )
        self._by_base: dict[str, list[tuple[str | None, Unit]]] = {}
        for unit in units:
            kind, base = name_key(unit.unit_name)
            self._by_base.setdefault(base, []).append((kind, unit))

    @classmethod
    def from_registry(cls, registry: UnitRegistry | None = None) -> UnitMatcher:
        """A matcher over ``registry`` (the default unit set's in the seeds when None)."""
        registry = registry or load_registry()
        names = {code: province.name for code, province in registry.provinces.items()}
        return cls(list(registry.units), names)

    def describe(self, unit: Unit) -> str:
        """A unit as a message names it: code, name and province (``892 UBND Huyện Châu
        Thành, An Giang``), so that a sender can tell units of the same name apart."""
        province = self.province_names.get(unit.province_code)
        return f"{unit.unit_code} {unit.unit_name}" + (f", {province}" if province else "")

    def match(self, code: str | None, name: str | None, provinces: set[str]) -> UnitMatch:
        """Match a row's code (preferred) or name; ``provinces`` is the file's context."""
        if code:
            written = code.strip()
            unit = self.by_code.get(written)
            if unit is None and written.isdigit():
                padded = (written.zfill(n) for n in self._code_lengths if n > len(written))
                unit = next((self.by_code[c] for c in padded if c in self.by_code), None)
            if unit is None:
                return UnitMatch(
                    None,
                    "unknown",
                    f"unit code {code!r} is not in the registry",
                    problem="unit_code_unknown",
                )
            by_name = self._match_name(name, {unit.province_code}) if name else None
            if by_name is not None and by_name.method == "name" and by_name.unit != unit:
                other = by_name.unit
                return UnitMatch(
                    None,
                    "mismatch",
                    f"the code {code.strip()!r} is {unit.unit_code} {unit.unit_name} but the "
                    f"name {name!r} is {other.unit_code} {other.unit_name}: correct the code or "
                    "the name so that both point to the unit this row is for",
                    check_id="code_name_mismatch",
                    candidates=(unit, other),
                    problem="code_name_mismatch",
                )
            return UnitMatch(unit, "code")
        if not name:
            return UnitMatch(
                None,
                "unknown",
                "neither a unit code nor a unit name is given",
                problem="unit_missing",
            )
        return self._match_name(name, provinces)

    def _match_name(self, name: str, provinces: set[str]) -> UnitMatch:
        """Match a unit name (folded, prefixes and diacritics aside) within ``provinces``."""
        if not name:
            return UnitMatch(
                None,
                "unknown",
                "neither a unit code nor a unit name is given",
                problem="unit_missing",
            )
        kind, base = name_key(name)
        candidates = [
            unit for unit_kind, unit in self._by_base.get(base, []) if kind in (None, unit_kind)
        ]
        chosen = self._narrow(candidates, provinces)
        if chosen is not None:
            return UnitMatch(chosen, "name")
        if len(candidates) > 1:
            names = ", ".join(f"{u.unit_code} {u.unit_name}" for u in candidates[:5])
            return UnitMatch(
                None,
                "unknown",
                f"unit name {name!r} is ambiguous: {names}",
                problem="unit_name_ambiguous",
                suggestions=tuple(candidates),
            )
        close = difflib.get_close_matches(base, self._by_base, n=3, cutoff=_FUZZY_CUTOFF)
        fuzzy = [
            unit
            for match in close[:1]
            for unit_kind, unit in self._by_base[match]
            if kind in (None, unit_kind)
        ]
        chosen = self._narrow(fuzzy, provinces)
        if chosen is not None and len(close) == 1:
            return UnitMatch(chosen, "fuzzy")
        hints = difflib.get_close_matches(base, self._by_base, n=3, cutoff=0.6)
        closest = tuple(unit for hint in hints for _, unit in self._by_base[hint][:1])
        best = "; ".join(f"{unit.unit_code} {unit.unit_name}" for unit in closest)
        return UnitMatch(
            None,
            "unknown",
            f"unit name {name!r} matches no registry unit" + (f"; closest: {best}" if best else ""),
            problem="unit_name_unknown_closest" if closest else "unit_name_unknown",
            suggestions=closest,
        )

    @staticmethod
    def _narrow(candidates: list[Unit], provinces: set[str]) -> Unit | None:
        if len(candidates) == 1:
            return candidates[0]
        in_context = [unit for unit in candidates if unit.province_code in provinces]
        return in_context[0] if len(in_context) == 1 else None
