"""The daily report: one self-contained HTML file (works offline, no CDN) a campaign lead can
open and understand at a glance, built from the published snapshot (read-only).

Charts (plotly, its JavaScript inlined once): a map of the provinces coloured by coverage
(the Hoàng Sa and Trường Sa archipelagos labelled, as every Vietnamese official map does),
national coverage against the target line, provinces ranked with the target and the gap,
the below-10 % watch list, each province's districts (communes, for a campaign on the 2025
units), reporting compliance as a units x days heatmap, and open data-quality issues by
check and severity. The map draws the provinces of the snapshot's unit set: the 63 of 2020,
or the 34 of 2025 (dissolved from the 2020 boundaries, ``boundaries.py``); a 2020 campaign
is also shown on the 2025 provinces.

Beside it, one light page per province (``provinces.py``: its units today, its trend
against its target, its rank, its data-quality flags), linked from the national page's
province list and linking back. Numbers are written as Vietnamese readers write them:
``1.262.743`` lượt cài, ``42,8 %``.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.consolidation import STATUS_LABELS, vi_int
from bluezone_warehouse.names import ascii_fold, percent
from bluezone_warehouse.report.boundaries import polygons, provinces_2020, provinces_2025
from bluezone_warehouse.report.provinces import ProvincePages, write_province_pages
from bluezone_warehouse.units import UnitSet, unit_set_with_levels


@dataclass(frozen=True)
class Archipelago:
    """An offshore archipelago the map names: its label's anchor (longitude, latitude).
    The islands drawn are the map's polygons within ``ISLAND_RADIUS`` degrees of it, and
    the label names the province they belong to."""

    name: str
    lon: float
    lat: float


ARCHIPELAGOS = (
    Archipelago("Quần đảo Hoàng Sa", 112.0, 16.5),  # huyện Hoàng Sa, thành phố Đà Nẵng
    Archipelago("Quần đảo Trường Sa", 114.5, 10.0),  # huyện Trường Sa, tỉnh Khánh Hòa
)
ISLAND_RADIUS = 1.5
NO_DATA_COLOUR = "#e6e6e6"
# How the report names the units below a province: in a table's heading, in its title.
AREA_LABELS = {
    "district": ("Huyện", "Các huyện của từng tỉnh"),
    "commune": ("Xã, phường", "Các xã, phường, đặc khu của từng tỉnh"),
}


@dataclass(frozen=True)
class Section:
    title: str
    body: str  # HTML
    anchor: str | None = None


def _pct(value: float | None) -> str:
    return percent(value, "vi")


def _anchor(anchor: str | None) -> str:
    return f' id="{html.escape(anchor)}"' if anchor else ""


def _completeness(included: int | None, expected: int | None) -> str:
    """A nation figure that leaves provinces out says so (DESIGN §4)."""
    if included is None or expected is None or included == expected:
        return ""
    return (
        f'<br><span class="incomplete">chỉ gồm {included}/{expected} tỉnh, thành phố '
        "có trong số liệu ngày này</span>"
    )


def _figure_html(figure, div_id: str) -> str:
    figure.update_layout(
        margin={"l": 40, "r": 20, "t": 40, "b": 40},
        font={"family": "DejaVu Sans, Arial, sans-serif"},
        template="plotly_white",
        separators=",.",  # decimal comma, dot for thousands, as Vietnamese readers write
    )
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


class Markup(str):
    """A table cell that is already HTML (a link), not text to escape."""


def _cell(cell: object) -> str:
    return cell if isinstance(cell, Markup) else html.escape(str(cell))


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _link(href: str | None, text: str) -> Markup:
    if href is None:
        return Markup(html.escape(text))
    return Markup(f'<a href="{html.escape(href)}">{html.escape(text)}</a>')


def _centre(ring: list) -> tuple[float, float]:
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def _archipelagos(features: list[dict]) -> list[tuple[Archipelago, str, list[tuple]]]:
    """Each archipelago with the province its islands belong to and the islands' centres."""
    found = []
    for archipelago in ARCHIPELAGOS:
        owner, islands = "", []
        for feature in features:
            for polygon in polygons(feature["geometry"]):
                lon, lat = _centre(polygon[0])
                if math.dist((lon, lat), (archipelago.lon, archipelago.lat)) <= ISLAND_RADIUS:
                    owner = feature["properties"]["province_name"]
                    islands.append((lon, lat))
        found.append((archipelago, owner, islands))
    return found


def _map_html(
    provinces: list[tuple],
    day: date,
    *,
    features: list[dict] | None = None,
    div_id: str = "map",
    title: str = "Tỷ lệ cài đặt / dân số",
) -> str:
    """The provinces as filled polygons in longitude/latitude, coloured by coverage of
    population (``provinces``: code, name, installs, coverage, …). Plain SVG shapes: plotly's
    geo maps fetch a base map from a CDN, which a report that must work offline cannot do.
    ``features``: the provinces' boundaries (GeoJSON features), the 2020 ones by default."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    coverage = {p[0]: (p[1], p[3]) for p in provinces}
    values = [c for _, c in coverage.values() if c is not None] or [0.0]
    low, high = min(values), max(values)
    figure = go.Figure()
    if features is None:
        features = provinces_2020()
    for feature in features:
        code = feature["properties"]["province_code"]
        if code in coverage and coverage[code][1] is not None:
            name, value = coverage[code]
            colour = sample_colorscale("Blues", [(value - low) / ((high - low) or 1)])[0]
            text = f"{name}: {_pct(value)}"
        else:  # drawn all the same: the country's outline is never partial
            name, colour = feature["properties"]["province_name"], NO_DATA_COLOUR
            text = f"{name}: chưa có số liệu"
        lons: list[float | None] = []
        lats: list[float | None] = []
        for polygon in polygons(feature["geometry"]):
            ring = polygon[0]
            lons += [point[0] for point in ring] + [None]
            lats += [point[1] for point in ring] + [None]
        figure.add_scatter(
            x=lons,
            y=lats,
            fill="toself",
            fillcolor=colour,
            mode="lines",
            line={"color": "#555", "width": 0.5},
            name=name,
            showlegend=False,
            hoveron="fills",
            text=text,
            hoverinfo="text",
        )
    for archipelago, owner, islands in _archipelagos(features):
        figure.add_scatter(
            x=[lon for lon, _ in islands],
            y=[lat for _, lat in islands],
            mode="markers",
            marker={"size": 3, "color": "#555"},
            showlegend=False,
            name=archipelago.name,
            hoverinfo="text",
            text=f"{archipelago.name} ({owner})",
        )
        figure.add_annotation(
            x=archipelago.lon,
            y=max((lat for _, lat in islands), default=archipelago.lat) + 0.15,
            yanchor="bottom",
            text=f"{archipelago.name}<br>({owner})" if owner else archipelago.name,
            showarrow=False,
            font={"size": 11, "color": "#333"},
            name=archipelago.name,
        )
    figure.add_scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker={
            "colorscale": "Blues",
            "cmin": 100 * low,
            "cmax": 100 * high,
            "color": [100 * low],
            "showscale": True,
            "colorbar": {"title": "% dân số"},
        },
    )
    west = min(p[0] for f in features for polygon in polygons(f["geometry"]) for p in polygon[0])
    east = max(p[0] for f in features for polygon in polygons(f["geometry"]) for p in polygon[0])
    figure.update_xaxes(visible=False, range=[west - 0.3, east + 1.5])  # room for the labels
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.05)
    figure.update_layout(height=800, title=f"{title}, {day:%d/%m/%Y}")
    return _figure_html(figure, div_id)


def _province_index(pages: ProvincePages) -> str:
    """Every province page, by name: the way in from the national page."""
    rows = []
    for code, item in sorted(pages.provinces.items(), key=lambda p: ascii_fold(p[1].name)):
        point, rates = item.coverage_on(pages.day), item.rates_on(pages.day)
        ranking = item.ranking
        rows.append(
            [
                code,
                _link(pages.href(code), item.name),
                vi_int(point.installs) if point else "–",
                _pct(point.coverage_population) if point else "–",
                ranking.rank_by_coverage if ranking else "–",
                _pct(rates.reporting_rate) if rates else "–",
                _pct(rates.on_time_rate) if rates else "–",
            ]
        )
    return (
        '<div class="index">'
        + _table(
            ["Mã", "Tỉnh, thành phố", "Lượt cài", "% dân số", "Hạng", "Báo cáo", "Đúng hạn"],
            rows,
        )
        + "</div>"
    )


def _on_units_2025(con: duckdb.DuckDBPyConnection, day: date) -> Section:
    """The day's figures on the provinces (and communes) in force since 1 July 2025."""
    provinces = con.execute(
        """
        select province_code, province_name, province_codes_2020, provinces_2020_included,
            provinces_2020_expected, installs, coverage_population, rank_by_coverage,
            provinces_ranked
        from marts.fct_coverage_2025_provinces where snapshot_date = ?
        order by rank_by_coverage, province_code
        """,
        [day],
    ).fetchall()
    communes = con.execute(
        "select count(*), count(*) filter (is_estimated), count(*) filter (not is_complete) "
        "from marts.fct_installs_2025_communes where snapshot_date = ?",
        [day],
    ).fetchone()
    intro = (
        "<p>Số liệu của chiến dịch trên 34 tỉnh, thành phố từ ngày 01/07/2025: mỗi tỉnh cũ "
        "nằm trọn trong một tỉnh mới, nên số lượt cài và dân số (TĐT 2019) của tỉnh mới là "
        "tổng chính xác của các tỉnh cũ hợp thành "
        "(<code>marts.fct_coverage_2025_provinces</code>).</p>"
    )
    if communes[0]:
        intro += (
            f"<p>Theo {vi_int(communes[0])} xã, phường mới "
            "(<code>marts.fct_installs_2025_communes</code>): "
            f"{vi_int(communes[1])} có phần ước tính (nhận một phần của xã cũ bị chia, "
            f"chia đều), {vi_int(communes[2])} thiếu số liệu của xã cũ hợp thành.</p>"
        )
    rows = [
        [
            p[0],
            p[1],
            p[2].replace(";", ", "),
            f"{p[3]}/{p[4]}",  # included of formed from: fewer when some had no figures
            vi_int(p[5]),
            _pct(p[6]),
            f"{p[7]}/{p[8]}",
        ]
        for p in provinces
    ]
    table = _table(
        ["Mã", "Tỉnh, thành phố (2025)", "Tỉnh cũ", "Số tỉnh cũ", "Lượt cài", "% dân số", "Hạng"],
        rows,
    )
    drawn = [  # a province some of whose 2020 provinces have no figures says so
        (p[0], p[1] if p[3] == p[4] else f"{p[1]} (chỉ gồm {p[3]}/{p[4]} tỉnh cũ)", p[5], p[6])
        for p in provinces
    ]
    figure = _map_html(
        drawn,
        day,
        features=provinces_2025(),
        div_id="map2025",
        title="Tỷ lệ cài đặt / dân số trên 34 tỉnh, thành phố (2025)",
    )
    return Section("Trên bản đồ hành chính 2025", intro + figure + table, "units-2025")


def snapshot_unit_set(con: duckdb.DuckDBPyConnection) -> UnitSet:
    """The unit set the snapshot's marts were built on (its levels in dim_admin_units)."""
    rows = con.execute("select distinct level from marts.dim_admin_units").fetchall()
    levels = [row[0] for row in rows]
    return unit_set_with_levels(levels)


def _sections(
    con: duckdb.DuckDBPyConnection, day: date, pages: ProvincePages, units: UnitSet
) -> list[Section]:
    import plotly.graph_objects as go

    hrefs = {code: pages.href(code) for code in pages.pages}
    sections = [
        Section(
            f"Trang của từng tỉnh, thành phố ({len(hrefs)})", _province_index(pages), "provinces"
        )
    ]
    provinces = con.execute(
        """
        select c.unit_code, u.name, c.installs, c.coverage_population,
            c.coverage_smartphone_owners, u.smartphone_owners_est
        from marts.fct_coverage_daily c
        join marts.dim_admin_units u on u.unit_code = c.unit_code and u.level = 'province'
        where c.level = 'province' and c.snapshot_date = ?
        order by c.coverage_population desc
        """,
        [day],
    ).fetchall()
    features = provinces_2025() if units.boundaries == "2025" else provinces_2020()
    sections.append(
        Section(
            "Bản đồ độ phủ theo tỉnh",
            _map_html(
                provinces,
                day,
                features=features,
                title=f"Tỷ lệ cài đặt / dân số ({len(features)} tỉnh, thành phố)",
            ),
        )
    )

    national = con.execute(
        "select snapshot_date, coverage_smartphone_owners, coverage_population "
        "from marts.fct_coverage_daily where level = 'nation' order by snapshot_date"
    ).fetchall()
    target = con.execute(
        "select threshold, due_date from marts.fct_target_progress "
        "where scope_code = 'VN' and metric = 'share_smartphone_owners' limit 1"
    ).fetchone()
    figure = go.Figure()
    figure.add_scatter(
        x=[r[0] for r in national],
        y=[100 * r[1] for r in national],
        name="% người dùng điện thoại thông minh",
        mode="lines+markers",
    )
    figure.add_scatter(
        x=[r[0] for r in national],
        y=[100 * r[2] for r in national],
        name="% dân số",
        mode="lines+markers",
    )
    if target:
        figure.add_hline(
            y=100 * target[0],
            line_dash="dash",
            annotation_text=f"Mục tiêu {100 * target[0]:.0f} % trước {target[1]:%d/%m}",
        )
    figure.update_layout(height=420, title="Toàn quốc: độ phủ so với mục tiêu", yaxis_title="%")
    sections.append(Section("Toàn quốc so với mục tiêu", _figure_html(figure, "national")))

    threshold = target[0] if target else 0.6
    ranked = sorted(provinces, key=lambda p: p[4] or 0)
    figure = go.Figure(
        go.Bar(
            x=[100 * (p[4] or 0) for p in ranked],
            y=[p[1] for p in ranked],
            orientation="h",
            customdata=[max(0, round(threshold * p[5] - p[2])) for p in ranked],
            hovertemplate="%{y}: %{x:.1f} % — thiếu %{customdata:,.0f} lượt cài<extra></extra>",
        )
    )
    figure.add_vline(x=100 * threshold, line_dash="dash", annotation_text="Mục tiêu")
    figure.update_layout(height=1400, title="Xếp hạng tỉnh theo % người dùng điện thoại thông minh")
    sections.append(Section("Xếp hạng tỉnh, mục tiêu và khoảng cách", _figure_html(figure, "rank")))

    below = [p for p in provinces if p[3] < 0.10]
    sections.append(
        Section(
            f"Các tỉnh dưới 10 % dân số ({len(below)})",
            _table(
                ["Mã", "Tỉnh", "Lượt cài", "% dân số"],
                [
                    [p[0], _link(hrefs.get(p[0]), p[1]), vi_int(p[2]), _pct(p[3])]
                    for p in sorted(below, key=lambda p: p[3])
                ],
            ),
        )
    )

    areas = con.execute(
        """
        select u.province_code, c.unit_code, u.name, c.installs, c.coverage_population
        from marts.fct_coverage_daily c
        join marts.dim_admin_units u on u.unit_code = c.unit_code and u.level = ?
        where c.level = ? and c.snapshot_date = ?
        order by u.province_code, c.coverage_population desc
        """,
        [units.area_level, units.area_level, day],
    ).fetchall()
    heading, title = AREA_LABELS[units.area_level]
    blocks = []
    for code, name, *_ in sorted(provinces, key=lambda p: ascii_fold(p[1])):  # Đ with D
        rows = [[a[1], a[2], vi_int(a[3]), _pct(a[4])] for a in areas if a[0] == code]
        blocks.append(
            f"<details><summary>{_link(hrefs.get(code), name)} ({len(rows)})</summary>"
            + _table(["Mã", heading, "Lượt cài", "% dân số"], rows)
            + "</details>"
        )
    sections.append(Section(title, "".join(blocks)))
    if units.carried_from is None:  # a campaign on the 2020 units, shown on today's map
        sections.append(_on_units_2025(con, day))

    compliance = con.execute(
        "select unit_code, report_date, status from marts.fct_reporting_compliance "
        "order by province_code, unit_code, report_date"
    ).fetchall()
    units = list(dict.fromkeys(row[0] for row in compliance))
    days = sorted({row[1] for row in compliance})
    # one colour per status, worst first; a status this page does not know is left blank
    statuses = ("rejected", "missing", "late", "on_time")
    colours = ("#762a83", "#d73027", "#fee08b", "#1a9850")
    value = {status: number for number, status in enumerate(statuses)}
    grid = {(u, d): value.get(s) for u, d, s in compliance}
    steps = len(statuses)
    figure = go.Figure(
        go.Heatmap(
            z=[[grid.get((u, d)) for d in days] for u in units],
            x=days,
            y=units,
            colorscale=[
                [edge / steps, colour]
                for number, colour in enumerate(colours)
                for edge in (number, number + 1)
            ],
            zmin=-0.5,
            zmax=steps - 0.5,
            colorbar={
                "tickvals": list(range(steps)),
                "ticktext": [STATUS_LABELS[status] for status in statuses],
            },
        )
    )
    figure.update_layout(
        height=900, title="Báo cáo của các đơn vị theo ngày", yaxis={"showticklabels": False}
    )
    sections.append(Section("Tuân thủ báo cáo (đơn vị × ngày)", _figure_html(figure, "compliance")))

    issues = con.execute(
        "select check_id, severity, count(*) from marts.fct_data_quality_issues "
        "group by all order by 3 desc"
    ).fetchall()
    figure = go.Figure()
    for severity, colour in (("error", "#d73027"), ("warn", "#fc8d59")):
        chosen = [i for i in issues if i[1] == severity]
        figure.add_bar(
            x=[i[0] for i in chosen], y=[i[2] for i in chosen], name=severity, marker_color=colour
        )
    figure.update_layout(height=420, barmode="stack", title="Vấn đề chất lượng dữ liệu")
    sections.append(Section("Chất lượng dữ liệu", _figure_html(figure, "quality")))
    return sections


def build_report(
    snapshot: Path,
    out_file: Path,
    *,
    links: dict[str, str] | None = None,
    warnings: list[str] | None = None,
    consolidations: Path | None = None,
) -> Path:
    """Write the report for the snapshot's latest day to ``out_file``, and each province's
    page beside it (``provinces/<YYYY-MM-DD>/<province_code>.html``, linked both ways with
    relative links, so a copy of ``out_file`` in the same folder links as well); returns
    ``out_file``. ``warnings``: the run's failed data expectations, shown in their own
    section. ``consolidations``: the folder of the provincial consolidations, which the
    province pages link to when the day's exists."""
    from plotly.offline import get_plotlyjs

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        day = con.execute(
            "select max(snapshot_date) from marts.fct_coverage_daily where level = 'nation'"
        ).fetchone()[0]
        if day is None:
            raise ValueError(f"no coverage figures in {snapshot}: nothing to report")
        nation = con.execute(
            "select installs, coverage_population, coverage_smartphone_owners, "
            "parts_included, parts_expected "
            "from marts.fct_coverage_daily where level = 'nation' and snapshot_date = ?",
            [day],
        ).fetchone()
        pages = write_province_pages(con, day, out_file, consolidations=consolidations)
        sections = _sections(con, day, pages, snapshot_unit_set(con))
    finally:
        con.close()
    if warnings:
        items = "".join(f"<li>{html.escape(text)}</li>" for text in warnings)
        sections.append(
            Section(
                "Cảnh báo về dữ liệu đầu vào",
                "<p>Các kiểm tra dữ liệu sau không đạt; số liệu vẫn được công bố, kèm cảnh "
                f"báo này (Great Expectations):</p><ul>{items}</ul>",
            )
        )
    nav = "".join(
        f'<a href="{html.escape(href)}">{html.escape(label)}</a>'
        for label, href in {"Trang của từng tỉnh": "#provinces", **(links or {})}.items()
    )
    body = "".join(
        f"<section{_anchor(s.anchor)}><h2>{html.escape(s.title)}</h2>{s.body}</section>"
        for s in sections
    )
    page = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bluezone — báo cáo ngày {day:%d/%m/%Y}</title>
<script>{get_plotlyjs()}</script>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; }}
h1 {{ margin-bottom: .2rem; }} nav a {{ margin-right: 1rem; }}
.kpi {{ display: flex; flex-wrap: wrap; gap: 1rem 2rem; margin: 1rem 0; }}
.kpi div {{ background: #f1f5fb; padding: .8rem 1.2rem; border-radius: 6px; }}
.kpi b {{ display: block; font-size: 1.6rem; }}
.incomplete {{ color: #b35806; font-size: .9rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .2rem .6rem; text-align: left; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
.index .scroll {{ max-height: 26rem; overflow-y: auto; }}
.index th {{ position: sticky; top: 0; background: #e8eef8; }}
</style></head><body>
<h1>Bluezone — độ phủ ngày {day:%d/%m/%Y}</h1>
<nav>{nav}</nav>
<div class="kpi">
<div><b>{vi_int(nation[0])}</b>lượt cài đặt toàn quốc{_completeness(nation[3], nation[4])}</div>
<div><b>{_pct(nation[1])}</b>dân số (điều tra 2019)</div>
<div><b>{_pct(nation[2])}</b>người dùng điện thoại thông minh (ước tính)</div>
</div>
{body}
</body></html>
"""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_file.with_name(f".{out_file.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, out_file)  # a reader sees the old page or the new one
    return out_file
