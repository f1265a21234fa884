"""A small line chart as inline SVG, for pages that must stay light: a province's page
carries its coverage trend in a few kilobytes instead of plotly's 4.8 MB of JavaScript.

Days run along x, shares (0.0895 = 8,9 %) up y. The chart scales to its box (``viewBox``
and ``width: 100%``), so it reads on a phone; the legend is left to the page, as HTML.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date

WIDTH = 480
HEIGHT = 250
MARGIN_LEFT = 44
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 28
_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0)
"""Candidate distances between y grid lines, as shares."""


@dataclass(frozen=True)
class Line:
    """One series: a value per day (days may be missing)."""

    label: str
    points: tuple[tuple[date, float], ...]
    colour: str
    width: float = 2.0
    dashed: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal reference line across the chart (a target)."""

    value: float
    label: str
    colour: str


def _share_label(value: float) -> str:
    """Grid labels: ``40 %``, ``2,5 %`` (decimal comma), as Vietnamese readers write them."""
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')} %"


def y_grid(top_value: float) -> tuple[float, list[float]]:
    """The y axis's top and its grid values: at most six steps of a round size, the top at
    or above ``top_value``."""
    top_value = max(top_value, 0.01)
    step = next((s for s in _STEPS if top_value / s <= 6), _STEPS[-1])
    top = step * math.ceil(top_value / step - 1e-9)
    return top, [step * i for i in range(round(top / step) + 1)]


def x_ticks(first: date, last: date, most: int = 6) -> list[date]:
    """Days to label: the first, the last, and evenly spaced days between."""
    span = (last - first).days
    if span <= 0:
        return [first]
    every = max(1, math.ceil(span / (most - 1)))
    ticks = [date.fromordinal(first.toordinal() + i) for i in range(0, span + 1, every)]
    if (last - ticks[-1]).days * 2 < every:  # too close to the last day to label both
        ticks[-1] = last
    elif ticks[-1] != last:
        ticks.append(last)
    return ticks


def line_chart(
    lines: list[Line],
    *,
    first: date,
    last: date,
    title: str,
    rules: list[Rule] | None = None,
    marker: tuple[date, str] | None = None,
) -> str:
    """An ``<svg>`` of ``lines`` from ``first`` to ``last``, with dashed ``rules`` and a
    vertical ``marker`` (a due date) when it falls in the range."""
    rules = rules or []
    values = [value for line in lines for _, value in line.points] + [r.value for r in rules]
    top, grid = y_grid(1.08 * max(values, default=0.0))
    span = max(1, (last - first).days)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def x(day: date) -> float:
        return MARGIN_LEFT + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{html.escape(title)}</title>'
    ]
    for value in grid:
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="#e3e3e3"/>'
            f'<text x="{MARGIN_LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{_share_label(value)}</text>"
        )
    for day in x_ticks(first, last):
        parts.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{day:%d/%m}</text>'
        )
    if marker and first <= marker[0] <= last:
        at = x(marker[0])
        parts.append(
            f'<line class="due" x1="{at:.1f}" x2="{at:.1f}" y1="{MARGIN_TOP}" '
            f'y2="{MARGIN_TOP + plot_h}" stroke="#999" stroke-dasharray="2 3"/>'
            f'<text x="{at - 3:.1f}" y="{MARGIN_TOP + 10}" text-anchor="end">'
            f"{html.escape(marker[1])}</text>"
        )
    for rule in rules:
        parts.append(
            f'<line class="rule" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" '
            f'y1="{y(rule.value):.1f}" y2="{y(rule.value):.1f}" stroke="{rule.colour}" '
            f'stroke-width="1.5" stroke-dasharray="6 4"><title>{html.escape(rule.label)}'
            "</title></line>"
        )
    for line in lines:
        points = sorted(line.points)
        if not points:
            continue
        dash = ' stroke-dasharray="4 3"' if line.dashed else ""
        path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in points)
        parts.append(
            f'<polyline fill="none" stroke="{line.colour}" stroke-width="{line.width}"{dash} '
            f'points="{path}"><title>{html.escape(line.label)}</title></polyline>'
        )
        if len(points) <= 40:
            parts.extend(
                f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="2.2" fill="{line.colour}">'
                f"<title>{day:%d/%m}: {_share_label(value)}</title></circle>"
                for day, value in points
            )
    parts.append("</svg>")
    return "".join(parts)
