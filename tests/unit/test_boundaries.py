"""The 2025 provinces' boundaries, derived by dissolving the 2020 provinces along the
crosswalk (DESIGN §9): the same ground, the inner borders gone."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.report.boundaries import GEOJSON_2020, dissolve, provinces_2025


def _area(ring: list) -> float:
    """Shoelace, counter-clockwise positive (the test's own)."""
    return (
        sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))
        / 2
    )


def _square(x: float, y: float, size: float = 1.0) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _polygon(ring: list) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def test_two_squares_sharing_a_side_become_one_rectangle() -> None:
    union = dissolve([_polygon(_square(0, 0)), _polygon(_square(1, 0))])
    assert len(union["coordinates"]) == 1
    (ring,) = union["coordinates"][0]
    assert ring[0] == ring[-1] and _area(ring) == 2.0
    assert {tuple(p) for p in ring} == {(0, 0), (1, 0), (2, 0), (2, 1), (1, 1), (0, 1)}


def test_eight_squares_around_a_gap_keep_it_as_a_hole_and_an_island_stays_apart() -> None:
    ring_of_eight = [
        _polygon(_square(x, y)) for x in range(3) for y in range(3) if (x, y) != (1, 1)
    ]
    union = dissolve([*ring_of_eight, _polygon(_square(10, 10))])
    polygons = sorted(union["coordinates"], key=lambda p: -abs(_area(p[0])))
    assert len(polygons) == 2
    outer, hole = polygons[0]
    assert _area(outer) == 9.0 and _area(hole) == -1.0  # counter-clockwise, then clockwise
    (island,) = polygons[1]
    assert {tuple(p) for p in island} == {(10, 10), (11, 10), (11, 11), (10, 11)}
    assert _area(island) == 1.0


def test_each_2025_province_covers_exactly_its_2020_provinces() -> None:
    with (SEEDS_DIR / "xwalk_provinces_2020_2025.csv").open(encoding="utf-8") as handle:
        into = {r["province_code_2020"]: r["province_code_2025"] for r in csv.DictReader(handle)}
    area, pieces = defaultdict(float), Counter()
    for feature in json.loads(GEOJSON_2020.read_text(encoding="utf-8"))["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        new = into[feature["properties"]["province_code"]]
        area[new] += sum(_area(ring) for polygon in polygons for ring in polygon)
        pieces[new] += len(polygons)
    features = provinces_2025()
    assert [f["properties"]["province_code"] for f in features] == sorted(set(into.values()))
    assert len(features) == 34
    merged = Counter(into.values())
    for feature in features:
        code = feature["properties"]["province_code"]
        polygons = feature["geometry"]["coordinates"]
        for polygon in polygons:
            assert all(ring[0] == ring[-1] for ring in polygon)
            assert _area(polygon[0]) > 0 and all(_area(hole) < 0 for hole in polygon[1:])
        total = sum(_area(ring) for polygon in polygons for ring in polygon)
        assert abs(total - area[code]) <= 1e-9 * area[code], code
        # the parts' shared borders are gone: fewer pieces than the parts had
        if merged[code] > 1:
            assert len(polygons) < pieces[code], code
        else:
            assert len(polygons) == pieces[code], code
    names = {f["properties"]["province_code"]: f["properties"]["province_name"] for f in features}
    assert names["48"] == "Đà Nẵng" and names["56"] == "Khánh Hòa"
