"""The daily report: one self-contained HTML file (works offline, no CDN) a campaign lead can
open and understand at a glance, built from the published snapshot (read-only).

Charts (plotly, its JavaScript inlined once): a map of the provinces coloured by coverage,
national coverage against the target line, provinces ranked with the target and the gap,
the below-10 % watch list, each province's districts, reporting compliance as a units x days
heatmap, and open data-quality issues by check and severity.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from bluezone_warehouse.names import ascii_fold, percent

GEOJSON = Path(__file__).with_name("vn_provinces_2020.geojson")


@dataclass(frozen=True)
class Section:
    title: str
    body: str  # HTML


def _pct(value: float | None) -> str:
    return percent(value, "vi")


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
    )
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _map_html(provinces: list[tuple], day: date) -> str:
    """The provinces as filled polygons in longitude/latitude, coloured by coverage of
    population. Plain SVG shapes: plotly's geo maps fetch a base map from a CDN, which a
    report that must work offline cannot do."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    coverage = {p[0]: (p[1], p[3]) for p in provinces}
    values = [c for _, c in coverage.values()]
    low, high = min(values), max(values)
    figure = go.Figure()
    for feature in json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]:
        code = feature["properties"]["province_code"]
        if code not in coverage:
            continue
        name, value = coverage[code]
        colour = sample_colorscale("Blues", [(value - low) / ((high - low) or 1)])[0]
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        lons: list[float | None] = []
        lats: list[float | None] = []
        for polygon in polygons:
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
            text=f"{name}: {_pct(value)}",
            hoverinfo="text",
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
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.05)
    figure.update_layout(height=800, title=f"Tỷ lệ cài đặt / dân số, {day:%d/%m/%Y}")
    return _figure_html(figure, "map")


def _sections(con: duckdb.DuckDBPyConnection, day: date) -> list[Section]:
    import plotly.graph_objects as go

    sections = []
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
    sections.append(Section("Bản đồ độ phủ theo tỉnh", _map_html(provinces, day)))

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
            hovertemplate="%{y}: %{x:.1f} % — thiếu %{customdata:,} lượt cài<extra></extra>",
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
                [[p[0], p[1], f"{p[2]:,}", _pct(p[3])] for p in sorted(below, key=lambda p: p[3])],
            ),
        )
    )

    districts = con.execute(
        """
        select u.province_code, c.unit_code, u.name, c.installs, c.coverage_population
        from marts.fct_coverage_daily c
        join marts.dim_admin_units u on u.unit_code = c.unit_code and u.level = 'district'
        where c.level = 'district' and c.snapshot_date = ?
        order by u.province_code, c.coverage_population desc
        """,
        [day],
    ).fetchall()
    blocks = []
    for code, name, *_ in sorted(provinces, key=lambda p: ascii_fold(p[1])):  # Đ with D
        rows = [[d[1], d[2], f"{d[3]:,}", _pct(d[4])] for d in districts if d[0] == code]
        blocks.append(
            f"<details><summary>{html.escape(name)} ({len(rows)})</summary>"
            + _table(["Mã", "Huyện", "Lượt cài", "% dân số"], rows)
            + "</details>"
        )
    sections.append(Section("Các huyện của từng tỉnh", "".join(blocks)))

    compliance = con.execute(
        "select unit_code, report_date, status from marts.fct_reporting_compliance "
        "order by province_code, unit_code, report_date"
    ).fetchall()
    units = list(dict.fromkeys(row[0] for row in compliance))
    days = sorted({row[1] for row in compliance})
    value = {"missing": 0, "late": 1, "on_time": 2}
    grid = {(u, d): value[s] for u, d, s in compliance}
    figure = go.Figure(
        go.Heatmap(
            z=[[grid.get((u, d)) for d in days] for u in units],
            x=days,
            y=units,
            colorscale=[[0, "#d73027"], [0.5, "#fee08b"], [1, "#1a9850"]],
            zmin=0,
            zmax=2,
            colorbar={"tickvals": [0, 1, 2], "ticktext": ["thiếu", "muộn", "đúng hạn"]},
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
) -> Path:
    """Write the report for the snapshot's latest day to ``out_file``; returns its path.
    ``warnings``: the run's failed data expectations, shown in their own section."""
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
        sections = _sections(con, day)
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
        for label, href in (links or {}).items()
    )
    body = "".join(f"<section><h2>{html.escape(s.title)}</h2>{s.body}</section>" for s in sections)
    page = f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bluezone — báo cáo ngày {day:%d/%m/%Y}</title>
<script>{get_plotlyjs()}</script>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; }}
h1 {{ margin-bottom: .2rem; }} nav a {{ margin-right: 1rem; }}
.kpi {{ display: flex; gap: 2rem; margin: 1rem 0; }}
.kpi div {{ background: #f1f5fb; padding: .8rem 1.2rem; border-radius: 6px; }}
.kpi b {{ display: block; font-size: 1.6rem; }}
.incomplete {{ color: #b35806; font-size: .9rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .2rem .6rem; text-align: left; }}
</style></head><body>
<h1>Bluezone — độ phủ ngày {day:%d/%m/%Y}</h1>
<nav>{nav}</nav>
<div class="kpi">
<div><b>{nation[0]:,}</b>lượt cài đặt toàn quốc{_completeness(nation[3], nation[4])}</div>
<div><b>{_pct(nation[1])}</b>dân số (điều tra 2019)</div>
<div><b>{_pct(nation[2])}</b>người dùng điện thoại thông minh (ước tính)</div>
</div>
{body}
</body></html>
"""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(page, encoding="utf-8")
    return out_file
