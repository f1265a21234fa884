"""Province boundaries of any unit set, derived from the 2020 map (DESIGN §9).

The 2020 boundaries (``vn_provinces_2020.geojson``) are simplified with shared borders kept
gap-free: two neighbouring provinces draw their common border with the very same points, in
opposite directions. A province formed by merging 2020 provinces wholly (every 2025
province is) is therefore their union: drop every edge that its parts share, and chain
the edges left into rings. No geometry library is needed, and the result has exactly the
parts' area and the parts' outer points.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from itertools import pairwise
from pathlib import Path

from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.registry import read_seed

GEOJSON_2020 = Path(__file__).with_name("vn_provinces_2020.geojson")

Point = tuple[float, float]


def polygons(geometry: dict) -> list:
    """A Polygon's or MultiPolygon's polygons (each a list of rings)."""
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def signed_area(ring: list) -> float:
    """The ring's area (shoelace, in square degrees), positive when it runs
    counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring)) / 2


def _contains(ring: list, point: Point) -> bool:
    """Whether ``point`` lies inside ``ring`` (even-odd rule)."""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in pairwise(ring):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def dissolve(geometries: list[dict]) -> dict:
    """The union of polygons that meet only along shared borders drawn with the same
    points: a MultiPolygon with every exterior ring counter-clockwise and its holes."""
    edges: dict[Point, list[Point]] = defaultdict(list)
    count: dict[tuple[Point, Point], int] = defaultdict(int)
    for geometry in geometries:
        for polygon in polygons(geometry):
            for ring in polygon:
                points = [tuple(p) for p in ring]
                for a, b in pairwise(points):
                    if a != b:
                        count[(a, b)] += 1
    for (a, b), n in count.items():
        kept = n - count.get((b, a), 0)  # an edge drawn both ways is inside the union
        for _ in range(max(kept, 0)):
            edges[a].append(b)
    rings = []
    while edges:
        start = next(iter(edges))
        ring, point = [start], start
        while point in edges:  # a border drawn with other points leaves a ring open
            following = edges[point]
            nxt = following.pop()
            if not following:
                del edges[point]
            ring.append(nxt)
            point = nxt
            if point == start:
                break
        if len(ring) >= 4 and ring[-1] == start:
            rings.append([list(p) for p in ring])
    exteriors = [ring for ring in rings if signed_area(ring) > 0]
    holes = [ring for ring in rings if signed_area(ring) < 0]
    pieces: list[list] = [[ring] for ring in exteriors]
    for hole in holes:
        owner = next(
            (
                polygon
                for polygon in sorted(pieces, key=lambda p: abs(signed_area(p[0])))
                if _contains(polygon[0], tuple(hole[0]))
            ),
            None,
        )
        if owner is not None:
            owner.append(hole)
    return {"type": "MultiPolygon", "coordinates": pieces}


@cache
def provinces_2020() -> list[dict]:
    """The 63 provinces of 2020 as GeoJSON features (``province_code``, ``province_name``)."""
    return json.loads(GEOJSON_2020.read_text(encoding="utf-8"))["features"]


@cache
def provinces_2025() -> list[dict]:
    """The 34 provinces in force since 1 July 2025 as GeoJSON features (properties
    ``province_code`` and ``province_name``, as the 2020 map's), each the union of the 2020
    provinces the crosswalk seed puts in it."""
    crosswalk = read_seed(SEEDS_DIR, "xwalk_provinces_2020_2025.csv")
    into = {r["province_code_2020"]: r["province_code_2025"] for r in crosswalk}
    names = {
        p["province_code"]: p["province_name"]
        for p in read_seed(SEEDS_DIR, "ref_provinces_2025.csv")
    }
    parts: dict[str, list[dict]] = defaultdict(list)
    for feature in provinces_2020():
        parts[into[feature["properties"]["province_code"]]].append(feature["geometry"])
    return [
        {
            "type": "Feature",
            "properties": {"province_code": code, "province_name": names[code]},
            "geometry": dissolve(geometries),
        }
        for code, geometries in sorted(parts.items())
    ]
