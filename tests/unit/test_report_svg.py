"""The province pages' inline SVG chart and labels, without a warehouse: the chart is
well-formed SVG whose points land where their day and value say, and every data-quality
check of the catalogue has a Vietnamese name on the page."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from bluezone_warehouse.checks import catalogue
from bluezone_warehouse.report import svg
from bluezone_warehouse.report.provinces import CHECK_LABELS

SVG = "{http://www.w3.org/2000/svg}"


def test_every_check_of_the_catalogue_has_a_vietnamese_label() -> None:
    assert set(CHECK_LABELS) == set(catalogue())


@pytest.mark.parametrize(
    ("top_value", "top", "steps"),
    [(0.43, 0.5, 5), (0.648, 0.8, 4), (0.05, 0.05, 5), (0.0, 0.01, 1), (1.3, 1.5, 6)],
)
def test_the_y_grid_is_round_and_covers_the_values(top_value: float, top: float, steps: int):
    got_top, grid = svg.y_grid(top_value)
    assert got_top == pytest.approx(top)
    assert len(grid) - 1 == steps
    assert grid[0] == 0 and grid[-1] == pytest.approx(top) and got_top >= top_value


def test_x_ticks_label_the_first_and_last_day() -> None:
    assert svg.x_ticks(date(2020, 8, 1), date(2020, 8, 1)) == [date(2020, 8, 1)]
    ticks = svg.x_ticks(date(2020, 8, 1), date(2020, 8, 20))
    assert ticks[0] == date(2020, 8, 1) and ticks[-1] == date(2020, 8, 20)
    assert len(ticks) <= 6 and ticks == sorted(set(ticks))


def test_points_land_at_their_day_and_value() -> None:
    first, last = date(2020, 8, 1), date(2020, 8, 11)
    chart = svg.line_chart(
        [svg.Line("a", ((first, 0.0), (date(2020, 8, 6), 0.25), (last, 0.5)), "#123456")],
        first=first,
        last=last,
        title="Tỉnh <A> & B",
        rules=[svg.Rule(0.5, "Mục tiêu", "#c00")],
        marker=(date(2020, 8, 20), "hạn 20/08"),  # outside the range: not drawn
    )
    root = ET.fromstring(chart)  # well-formed, the title escaped
    assert root.find(f"{SVG}title").text == "Tỉnh <A> & B"
    left = svg.MARGIN_LEFT
    right = svg.WIDTH - svg.MARGIN_RIGHT
    bottom = svg.HEIGHT - svg.MARGIN_BOTTOM
    top_value, _ = svg.y_grid(1.08 * 0.5)
    plot_h = bottom - svg.MARGIN_TOP
    points = [
        tuple(map(float, pair.split(",")))
        for pair in root.find(f"{SVG}polyline").get("points").split()
    ]
    assert points[0] == pytest.approx((left, bottom), abs=0.06)
    assert points[1] == pytest.approx(
        ((left + right) / 2, bottom - plot_h * 0.25 / top_value), abs=0.06
    )
    assert points[2] == pytest.approx((right, bottom - plot_h * 0.5 / top_value), abs=0.06)
    (rule,) = [line for line in root.iter(f"{SVG}line") if line.get("class") == "rule"]
    assert float(rule.get("y1")) == pytest.approx(bottom - plot_h * 0.5 / top_value, abs=0.06)
    assert not [line for line in root.iter(f"{SVG}line") if line.get("class") == "due"]
    labels = [text.text for text in root.iter(f"{SVG}text")]
    assert "01/08" in labels and "11/08" in labels and "50 %" in labels
