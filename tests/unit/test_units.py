"""Matching report rows to the reporting-unit registry by code or by name."""

from __future__ import annotations

import pytest

from bluezone_warehouse.ingest.units import UnitMatcher


@pytest.fixture(scope="module")
def registry() -> UnitMatcher:
    return UnitMatcher.from_registry()


@pytest.mark.parametrize(
    ("code", "name", "provinces", "unit_code", "method"),
    [
        ("001", None, set(), "001", "code"),
        ("1", None, set(), "001", "code"),
        ("89-SYT", None, set(), "89-SYT", "code"),
        (None, "UBND Quận Ba Đình", set(), "001", "name"),
        (None, "Quan Ba Dinh", set(), "001", "name"),
        (None, "Q. Ba Đình", set(), "001", "name"),
        (None, "Ba Đình", set(), "001", "name"),
        (None, "TX. Kỳ Anh", set(), "449", "name"),
        (None, "Huyện Kỳ Anh", set(), "447", "name"),
        (None, "Sở Y tế An Giang", set(), "89-SYT", "name"),
        (None, "So Y te An Giang", set(), "89-SYT", "name"),
        (None, "H. Châu Thành", {"89"}, "892", "name"),
    ],
)
def test_matches(registry: UnitMatcher, code, name, provinces, unit_code, method) -> None:
    match = registry.match(code, name, provinces)
    assert match.unit is not None, match.reason
    assert (match.unit.unit_code, match.method) == (unit_code, method)


def test_ambiguous_name_without_context_is_unknown_with_candidates(registry: UnitMatcher) -> None:
    match = registry.match(None, "Huyện Châu Thành", set())
    assert match.unit is None
    assert "ambiguous" in match.reason and "Châu Thành" in match.reason


def test_unknown_code_and_name(registry: UnitMatcher) -> None:
    assert registry.match("999", None, set()).reason == "unit code '999' is not in the registry"
    unknown = registry.match(None, "Huyện Không Tồn Tại", set())
    assert unknown.unit is None and "matches no registry unit" in unknown.reason


def test_fuzzy_match_only_when_unique_and_close(registry: UnitMatcher) -> None:
    match = registry.match(None, "Quận Hoàn Kiêm", set())  # one diacritic off: folds equal
    assert match.unit is not None and match.unit.unit_code == "002"
    typo = registry.match(None, "Quan Hoan Kiemm", set())
    assert typo.unit is not None and (typo.unit.unit_code, typo.method) == ("002", "fuzzy")


def test_a_unit_not_matched_says_why_and_names_the_units_a_sender_can_choose(
    registry: UnitMatcher,
) -> None:
    ambiguous = registry.match(None, "Huyện Chợ Mới", set())
    assert ambiguous.problem == "unit_name_ambiguous"
    assert [registry.describe(unit) for unit in ambiguous.suggestions] == [
        "065 UBND Huyện Chợ Mới, Bắc Kạn",
        "893 UBND Huyện Chợ Mới, An Giang",
    ]
    assert registry.match("999", None, set()).problem == "unit_code_unknown"
    assert registry.match(None, None, set()).problem == "unit_missing"
    closest = registry.match(None, "Huyện Không Có", set())
    assert closest.problem == "unit_name_unknown_closest"
    assert [unit.unit_code for unit in closest.suggestions] == ["630", "664", "471"]
    assert registry.match(None, "Zzzz Qqqq", set()).problem == "unit_name_unknown"
    mismatch = registry.match("288", "Huyện Nam Sách", set())
    assert mismatch.problem == "code_name_mismatch"
    assert [unit.unit_code for unit in mismatch.candidates] == ["288", "291"]
