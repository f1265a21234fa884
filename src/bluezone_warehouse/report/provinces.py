"""A province's own page, beside the national report: what a provincial official needs
for their province on the report's day.

- its reporting units today — the committees of its districts (2020) or communes (2025)
  and its agencies — with their status as
  ``marts.fct_reporting_compliance`` has it (đúng hạn / muộn / chưa báo cáo / bị từ chối),
  the figures they sent, the time they sent them and why a report was rejected; the
  reporting and on-time rates of ``marts.agg_reporting_rates``;
- its coverage trend against its targets (``marts.fct_target_progress``; the nation's
  target as the reference where the province has none of its own);
- its rank among the provinces (``marts.fct_province_ranking``) and the change since the
  day before;
- its data-quality flags of the last days (``marts.fct_data_quality_issues``).

The pages are plain HTML with one inline SVG chart and no script: a few tens of kilobytes
each, readable offline and on a phone (wide tables scroll inside their box). They live at
``<national page's folder>/provinces/<YYYY-MM-DD>/<province_code>.html``, so the links
between them and the national page are relative and hold for ``report_YYYYMMDD.html`` and
for its copy ``report.html`` alike. Every figure is read for all provinces in one query per
mart; rendering every province's page takes milliseconds.
"""

from __future__ import annotations

import html
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from bluezone_warehouse.consolidation import STATUS_LABELS, province_display, vi_int
from bluezone_warehouse.names import percent
from bluezone_warehouse.report.svg import Line, Rule, line_chart

PROVINCES_DIR = "provinces"
"""The folder, beside the national page, that holds the province pages."""

FLAG_DAYS = 7
"""How many days of data-quality flags a province page shows (the report's day included)."""

UNIT_KIND_LABELS = {
    "district_committee": "UBND cấp huyện",
    "commune_committee": "UBND cấp xã",
    "provincial_agency": "Sở, ban, ngành",
}
"""Headings of the units tables, one table per kind; another kind is shown as it is named."""
SEVERITY_LABELS = {"error": "lỗi", "warn": "cảnh báo"}
CHECK_LABELS = {
    "missing_report": "Chưa báo cáo",
    "late_report": "Báo cáo muộn",
    "conflicting_resubmission": "Gửi lại với số liệu khác",
    "unknown_unit": "Đơn vị không có trong danh mục",
    "malformed_file": "Tệp không đọc được",
    "out_of_range_date": "Ngày báo cáo không hợp lệ",
    "decreasing_cumulative": "Số cộng dồn bị giảm",
    "children_exceed_parent": "Tổng các đơn vị cấp dưới vượt số của tỉnh",
    "unattributed_share": "Nhiều lượt cài chưa phân về đơn vị cấp dưới",
    "report_export_mismatch": "Số báo cáo lệch số liệu của Bộ",
    "outlier_increment": "Mức tăng bất thường",
    "coverage_over_100": "Số cài vượt dân số (trên 100 %)",
    "staff_installed_exceeds_total": "CBCCVC đã cài vượt tổng số",
    "stale_export": "Chưa có số liệu của Bộ",
    "code_name_mismatch": "Mã và tên đơn vị không khớp",
    "export_incomplete": "Số liệu của Bộ thiếu đơn vị",
    "installs_with_phone_exceeds_installs": "Số cài có SĐT vượt tổng số cài",
    "report_rejected": "Báo cáo bị từ chối",
}
"""How a province page names each data-quality check (the ids are the catalogue's, in
``dbt_project.yml``; a test keeps this list complete); an unknown id is shown as it is."""
METRIC_LABELS = {
    "share_smartphone_owners": "người dùng điện thoại thông minh",
    "share_population": "dân số",
    "share_adults_15plus": "dân số từ 15 tuổi",
    "share_adults_18plus": "dân số từ 18 tuổi",
    "rank_by_installs": "xếp hạng theo số lượt cài đặt",
    "rank_by_coverage": "xếp hạng theo tỷ lệ cài đặt / dân số",
}
COLOURS = {"smartphone": "#1f5fa8", "population": "#7fb0e0", "nation": "#9a9a9a"}
TARGET_COLOURS = ("#c0392b", "#8e44ad", "#d35400")


# --- what a page shows ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitToday:
    """One reporting unit on the report's day: a row of ``fct_reporting_compliance``, with
    the ministry's figure for its area (a district in 2020, a commune in 2025) from the
    day's export."""

    code: str
    name: str
    kind: str | None
    area_code: str | None  # the unit whose figures a committee reports; None for agencies
    deadline_local: str | None
    status: str
    sent_at_local: datetime | None
    minutes_late: int | None
    installs_reported: int | None
    staff_total: int | None
    staff_installed: int | None
    rejection_reason: str | None
    export_installs: int | None = None
    export_coverage: float | None = None


@dataclass(frozen=True)
class Rates:
    """A row of ``agg_reporting_rates``."""

    day: date
    expected: int
    actual: int
    on_time: int
    reporting_rate: float | None
    on_time_rate: float | None
    reporting_rate_at_deadline: float | None


@dataclass(frozen=True)
class CoveragePoint:
    day: date
    installs: int | None
    coverage_population: float | None
    coverage_smartphone_owners: float | None
    new_installs_7d_avg: float | None


@dataclass(frozen=True)
class Ranking:
    """A row of ``fct_province_ranking``."""

    rank_by_coverage: int
    rank_by_installs: int
    rank_change: int | None
    rank_by_installs_change: int | None
    provinces_ranked: int | None
    is_below_10pct: bool


@dataclass(frozen=True)
class Target:
    """A row of ``fct_target_progress``."""

    target_id: str
    scope_code: str
    metric: str
    threshold: float
    due_date: date
    any_of_group: str | None
    current_value: float | None
    gap_installs: float | None
    days_left: int | None
    needed_per_day: float | None
    pace_7d_avg: float | None
    projected_date: date | None
    is_met: bool | None
    is_on_track: bool | None
    is_group_met: bool | None


@dataclass(frozen=True)
class Flag:
    """A row of ``fct_data_quality_issues``."""

    day: date
    check_id: str
    severity: str
    unit_code: str | None
    message: str


@dataclass
class Province:
    code: str
    name: str
    units: list[UnitToday] = field(default_factory=list)
    rates: list[Rates] = field(default_factory=list)  # by day, the report's day last
    coverage: list[CoveragePoint] = field(default_factory=list)  # by day
    ranking: Ranking | None = None
    targets: list[Target] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def rates_on(self, day: date) -> Rates | None:
        return next((rates for rates in self.rates if rates.day == day), None)

    def coverage_on(self, day: date) -> CoveragePoint | None:
        return next((point for point in self.coverage if point.day == day), None)


@dataclass(frozen=True)
class ProvincePages:
    """What ``write_province_pages`` wrote: each province's page, by code."""

    day: date
    pages: dict[str, Path]
    provinces: dict[str, Province]

    def href(self, code: str) -> str:
        """The page's address relative to the national page's folder."""
        return page_href(self.day, code)


def pages_dir(national_page: Path, day: date) -> Path:
    return national_page.parent / PROVINCES_DIR / day.isoformat()


def page_href(day: date, code: str) -> str:
    return f"{PROVINCES_DIR}/{day.isoformat()}/{code}.html"


# --- reading the snapshot ---------------------------------------------------------------


def _select(columns: dict[str, set[str]], table: str, wanted: list[str]) -> str:
    """``wanted`` as a select list, ``null`` for a column an older snapshot lacks (the
    marts only ever gain columns, DESIGN §4.1); ``columns``: each mart's columns."""
    present = columns.get(table, set())
    return ", ".join(name if name in present else f"null as {name}" for name in wanted)


def _int(value: object) -> int | None:
    return None if value is None else int(value)


def load_provinces(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, Province]:
    """Every province with data on ``day`` — coverage figures, or reporting units expected
    to report — with what its page shows, in one query per mart."""
    names = dict(
        con.execute(
            "select unit_code, name from marts.dim_admin_units where level = 'province'"
        ).fetchall()
    )
    nation = con.execute(
        "select unit_code from marts.dim_admin_units where level = 'nation' limit 1"
    ).fetchone()
    columns: dict[str, set[str]] = defaultdict(set)
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts'"
    ).fetchall():
        columns[table].add(column)
    provinces: dict[str, Province] = {}

    def province(code: str) -> Province:
        if code not in provinces:
            provinces[code] = Province(code, names[code])
        return provinces[code]

    wanted = [
        "unit_code", "unit_name", "unit_kind", "province_code", "district_code", "area_code",
        "deadline_local", "status", "submitted_at_local", "minutes_late",
        "installs_reported", "staff_total", "staff_installed", "rejection_reason",
    ]  # fmt: skip
    areas = {  # the units below the provinces (districts in 2020, communes in 2025)
        code: (installs, coverage)
        for code, installs, coverage in con.execute(
            "select unit_code, installs, coverage_population from marts.fct_coverage_daily "
            "where level not in ('nation', 'region', 'province') and snapshot_date = ?",
            [day],
        ).fetchall()
    }
    for row in con.execute(
        f"select {_select(columns, 'fct_reporting_compliance', wanted)} "
        "from marts.fct_reporting_compliance where report_date = ? "
        "order by province_code, unit_kind, unit_code",
        [day],
    ).fetchall():
        record = dict(zip(wanted, row, strict=True))
        if record["province_code"] not in names:
            continue
        # a snapshot from before area_code names a committee's district only
        area = record["area_code"] or record["district_code"]
        export = areas.get(area, (None, None))
        province(record["province_code"]).units.append(
            UnitToday(
                code=record["unit_code"],
                name=record["unit_name"],
                kind=record["unit_kind"],
                area_code=area,
                deadline_local=record["deadline_local"],
                status=record["status"],
                sent_at_local=record["submitted_at_local"],
                minutes_late=_int(record["minutes_late"]),
                installs_reported=_int(record["installs_reported"]),
                staff_total=_int(record["staff_total"]),
                staff_installed=_int(record["staff_installed"]),
                rejection_reason=record["rejection_reason"],
                export_installs=_int(export[0]),
                export_coverage=export[1],
            )
        )

    history: dict[str, list[CoveragePoint]] = defaultdict(list)
    for code, *values in con.execute(
        "select unit_code, snapshot_date, installs, coverage_population, "
        "coverage_smartphone_owners, new_installs_7d_avg from marts.fct_coverage_daily "
        "where level = 'province' and snapshot_date <= ? order by snapshot_date",
        [day],
    ).fetchall():
        history[code].append(CoveragePoint(*values))
        if values[0] == day and code in names:
            province(code)
    # Pages for provinces with coverage on the day or units expected to report that day;
    # everything else is attached to those only.
    for code, item in provinces.items():
        item.coverage = history.get(code, [])
    wanted = [
        "report_date", "scope_code", "expected_reports", "actual_reports", "on_time_reports",
        "reporting_rate", "on_time_rate", "reporting_rate_at_deadline",
    ]  # fmt: skip
    for row in con.execute(
        f"select {_select(columns, 'agg_reporting_rates', wanted)} from marts.agg_reporting_rates "
        "where report_date between ? and ? order by report_date",
        [day - timedelta(days=FLAG_DAYS - 1), day],
    ).fetchall():
        if row[1] in provinces:
            provinces[row[1]].rates.append(
                Rates(row[0], int(row[2]), int(row[3]), int(row[4]), row[5], row[6], row[7])
            )

    wanted = [
        "province_code", "rank_by_coverage", "rank_by_installs", "rank_change",
        "rank_by_installs_change", "provinces_ranked", "is_below_10pct",
    ]  # fmt: skip
    for code, *values in con.execute(
        f"select {_select(columns, 'fct_province_ranking', wanted)} "
        "from marts.fct_province_ranking where snapshot_date = ?",
        [day],
    ).fetchall():
        if code in provinces:
            provinces[code].ranking = Ranking(*values)

    wanted = [
        "target_id", "scope_code", "metric", "threshold", "due_date", "any_of_group",
        "current_value", "gap_installs", "days_left", "needed_per_day", "pace_7d_avg",
        "projected_date", "is_met", "is_on_track", "is_group_met",
    ]  # fmt: skip
    targets = [
        Target(*row)
        for row in con.execute(
            f"select {_select(columns, 'fct_target_progress', wanted)} "
            "from marts.fct_target_progress where snapshot_date = ? order by target_id",
            [day],
        ).fetchall()
    ]
    national_targets = [t for t in targets if nation and t.scope_code == nation[0]]
    for code, item in provinces.items():
        item.targets = [t for t in targets if t.scope_code == code] or national_targets

    for code, *values in con.execute(
        "select province_code, day, check_id, severity, unit_code, message "
        "from marts.fct_data_quality_issues where day between ? and ? "
        "order by day desc, severity, check_id, unit_code, issue_id",
        [day - timedelta(days=FLAG_DAYS - 1), day],
    ).fetchall():
        if code in provinces:
            provinces[code].flags.append(Flag(*values))
    return dict(sorted(provinces.items()))


def national_coverage(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple[date, float]]:
    """The nation's coverage of smartphone owners by day, the reference line of every
    province's chart."""
    return [
        (snapshot, value)
        for snapshot, value in con.execute(
            "select snapshot_date, coverage_smartphone_owners from marts.fct_coverage_daily "
            "where level = 'nation' and snapshot_date <= ? order by snapshot_date",
            [day],
        ).fetchall()
        if value is not None
    ]


# --- rendering --------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return percent(value, "vi")


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _time_sent(sent: datetime | None, day: date) -> str:
    if sent is None:
        return ""
    return f"{sent:%H:%M}" if sent.date() == day else f"{sent:%H:%M %d/%m}"


def _rank_change(change: int | None) -> str:
    """``lag(rank) - rank``: positive means the province moved up."""
    if change is None:
        return "chưa có hạng hôm trước"
    if change == 0:
        return "không đổi so với hôm trước"
    arrow = "▲ lên" if change > 0 else "▼ xuống"
    return f"{arrow} {abs(change)} bậc so với hôm trước"


def _table(headers: list[str], rows: list[str], css_class: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    attributes = f' class="{css_class}"' if css_class else ""
    return (
        f'<div class="scroll"><table{attributes}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _note(unit: UnitToday) -> str:
    if unit.status == "late" and unit.minutes_late is not None:
        return f"muộn {unit.minutes_late} phút (hạn {unit.deadline_local})"
    if unit.status == "rejected":
        return unit.rejection_reason or ""
    return ""


def _staff(unit: UnitToday) -> str:
    if unit.staff_total is None:
        return ""
    share = unit.staff_installed / unit.staff_total if unit.staff_total else None
    return f"{vi_int(unit.staff_installed)} / {vi_int(unit.staff_total)} ({_pct(share)})"


UNIT_HEADERS = ["Mã", "Đơn vị", "Tình trạng", "Gửi lúc", "Lượt cài (báo cáo)"]
AREA_HEADERS = ["Số liệu của Bộ", "% dân số (Bộ)"]
AGENCY_HEADERS = ["CBCCVC đã cài / tổng"]


def _unit_row(unit: UnitToday, day: date, *, area: bool, agency: bool) -> str:
    """A unit's row: what every unit has, then the ministry's figure for its area
    (``area``) or its staff (``agency``), then why it is late or rejected."""
    cells = [
        f'<td class="code">{_e(unit.code)}</td>',
        f'<td class="name">{_e(unit.name)}</td>',
        f'<td><span class="status status-{_e(unit.status)}">'
        f"{_e(STATUS_LABELS.get(unit.status, unit.status))}</span></td>",
        f'<td class="num">{_e(_time_sent(unit.sent_at_local, day))}</td>',
        f'<td class="num">{_e(vi_int(unit.installs_reported))}</td>',
    ]
    if area:
        has_export = unit.export_installs is not None
        cells.append(f'<td class="num">{_e(vi_int(unit.export_installs))}</td>')
        cells.append(f'<td class="num">{_e(_pct(unit.export_coverage) if has_export else "")}</td>')
    if agency:
        cells.append(f'<td class="num">{_e(_staff(unit))}</td>')
    cells.append(f'<td class="note">{_e(_note(unit))}</td>')
    return (
        f'<tr data-unit="{_e(unit.code)}" data-status="{_e(unit.status)}" '
        f'data-kind="{_e(unit.kind)}">{"".join(cells)}</tr>'
    )


def _units_tables(item: Province, day: date) -> str:
    """One table per kind of unit (committees, then agencies, then any other kind)."""
    order = list(UNIT_KIND_LABELS)
    kinds = sorted(
        {unit.kind or "" for unit in item.units},
        key=lambda kind: (order.index(kind) if kind in order else len(order), kind),
    )
    tables = []
    for kind in kinds:
        units = [unit for unit in item.units if (unit.kind or "") == kind]
        area = any(unit.area_code for unit in units)
        agency = any(unit.staff_total is not None for unit in units) or kind == "provincial_agency"
        headers = (
            UNIT_HEADERS
            + (AREA_HEADERS if area else [])
            + (AGENCY_HEADERS if agency else [])
            + ["Ghi chú"]
        )
        tables.append(
            f"<h3>{html.escape(UNIT_KIND_LABELS.get(kind, kind or 'Đơn vị khác'))} "
            f"({len(units)})</h3>"
            + _table(
                headers,
                [_unit_row(unit, day, area=area, agency=agency) for unit in units],
                "units",
            )
        )
    return "".join(tables)


def _units_section(item: Province, day: date) -> str:
    if not item.units:
        return "<p>Không có đơn vị nào phải báo cáo trong ngày này.</p>"
    counts = Counter(unit.status for unit in item.units)
    summary = ", ".join(
        f'<span class="status status-{status}">{label}</span> {counts[status]}'
        for status, label in STATUS_LABELS.items()
    )
    deadlines = sorted({unit.deadline_local for unit in item.units if unit.deadline_local})
    chase = ""
    for status in ("missing", "rejected"):
        names = [unit.name for unit in item.units if unit.status == status]
        if names:
            chase += (
                f'<p class="chase">{html.escape(STATUS_LABELS[status].capitalize())} '
                f"({len(names)}): {html.escape(', '.join(names))}</p>"
            )
    return (
        f'<p class="counts">{len(item.units)} đơn vị phải báo cáo (hạn '
        f"{html.escape(', '.join(deadlines))}): {summary}</p>{chase}" + _units_tables(item, day)
    )


def _rates_section(item: Province, day: date) -> str:
    today = item.rates_on(day)
    if today is None:
        return "<p>Không có số liệu tuân thủ báo cáo cho ngày này.</p>"
    rows = [
        f'<tr data-day="{rates.day.isoformat()}"><td>{rates.day:%d/%m}</td>'
        f'<td class="num">{rates.actual}/{rates.expected}</td>'
        f'<td class="num">{_pct(rates.reporting_rate)}</td>'
        f'<td class="num">{_pct(rates.on_time_rate)}</td>'
        f'<td class="num">{_pct(rates.reporting_rate_at_deadline)}</td></tr>'
        for rates in reversed(item.rates)
    ]
    return (
        '<div class="kpi rates">'
        f'<div><b data-rate="reporting">{_pct(today.reporting_rate)}</b>tỷ lệ báo cáo '
        f"({today.actual}/{today.expected} đơn vị)</div>"
        f'<div><b data-rate="on_time">{_pct(today.on_time_rate)}</b>báo cáo đúng hạn '
        f"({today.on_time}/{today.expected})</div>"
        f'<div><b data-rate="at_deadline">{_pct(today.reporting_rate_at_deadline)}</b>'
        "đã báo cáo tại thời điểm hạn</div></div>"
        '<p class="hint">Ngưỡng của WHO: đầy đủ ≥ 90 %, đúng hạn ≥ 75 %.</p>'
        + _table(
            ["Ngày", "Đã báo cáo", "Tỷ lệ báo cáo", "Đúng hạn", "Tại thời điểm hạn"],
            rows,
            "rates",
        )
    )


def _metric_value(target: Target, point: CoveragePoint | None) -> float | None:
    if target.metric.startswith("share_") and point is not None:
        return getattr(point, f"coverage_{target.metric.removeprefix('share_')}", None)
    return None


def _target_line(target: Target, own: bool) -> str:
    metric = METRIC_LABELS.get(target.metric, target.metric)
    whose = "" if own else "Mục tiêu toàn quốc (tỉnh chưa có mục tiêu riêng): "
    if target.metric.startswith("rank_"):
        goal = f"trong {target.threshold:.0f} tỉnh dẫn đầu ({metric})"
        now = f"hiện hạng {target.current_value:.0f}" if target.current_value else "chưa xếp hạng"
    else:
        goal = f"{_pct(target.threshold)} {metric}"
        now = f"hiện đạt {_pct(target.current_value)}"
    text = f"{whose}{goal} trước ngày {target.due_date:%d/%m/%Y} — {now}"
    if target.is_met:
        verdict = "đã đạt"
    else:
        details = []
        if target.gap_installs:
            details.append(f"còn thiếu {vi_int(round(target.gap_installs))} lượt cài")
        if target.days_left is not None:
            details.append(f"còn {target.days_left} ngày")
        if target.needed_per_day:
            details.append(f"cần {vi_int(round(target.needed_per_day))} lượt/ngày")
        if target.pace_7d_avg:
            details.append(f"tốc độ 7 ngày qua {vi_int(round(target.pace_7d_avg))} lượt/ngày")
        if target.projected_date:
            details.append(f"dự kiến đạt ngày {target.projected_date:%d/%m/%Y}")
        verdict = "; ".join(details)
        if target.is_on_track is not None:
            verdict += " — " + ("đúng tiến độ" if target.is_on_track else "chậm tiến độ")
    css = "met" if target.is_met else ("on-track" if target.is_on_track else "behind")
    return f'<li class="{css}" data-target="{_e(target.target_id)}">{_e(text)}: {_e(verdict)}</li>'


def _trend_section(item: Province, day: date, nation: list[tuple[date, float]]) -> str:
    own = any(t.scope_code == item.code for t in item.targets)
    targets = "".join(_target_line(t, own) for t in item.targets)
    groups = {t.any_of_group for t in item.targets if t.any_of_group}
    if groups:
        met = any(t.is_group_met for t in item.targets if t.any_of_group)
        targets += (
            "<li>Đạt một trong các mục tiêu trên là đủ: "
            + ("<b>đã đạt</b>" if met else "<b>chưa đạt</b>")
            + "</li>"
        )
    target_list = f'<ul class="targets">{targets}</ul>' if targets else ""
    points = item.coverage
    if not points:
        return target_list + "<p>Chưa có số liệu cài đặt của Bộ cho tỉnh đến ngày này.</p>"
    share_targets = [t for t in item.targets if t.metric.startswith("share_")]
    lines = [
        Line(
            "% người dùng điện thoại thông minh (ước tính)",
            tuple(
                (p.day, p.coverage_smartphone_owners)
                for p in points
                if p.coverage_smartphone_owners is not None
            ),
            COLOURS["smartphone"],
            2.5,
        ),
        Line(
            "% dân số",
            tuple((p.day, p.coverage_population) for p in points if p.coverage_population),
            COLOURS["population"],
        ),
    ]
    first = points[0].day
    lines.append(
        Line(
            "Toàn quốc, % người dùng điện thoại thông minh",
            tuple((d, v) for d, v in nation if d >= first),
            COLOURS["nation"],
            1.5,
            dashed=True,
        )
    )
    rules = [
        Rule(t.threshold, f"Mục tiêu {_pct(t.threshold)}", TARGET_COLOURS[i % 3])
        for i, t in enumerate(share_targets)
    ]
    due = min((t.due_date for t in share_targets), default=None)
    last = day
    if due and day < due <= day + timedelta(days=60):
        last = due  # show how far there is to go
    chart = line_chart(
        lines,
        first=first,
        last=last,
        title=f"{province_display(item.name)}: tỷ lệ cài đặt theo ngày",
        rules=rules,
        marker=(due, f"hạn {due:%d/%m}") if due else None,
    )
    legend = "".join(
        f'<li><i style="background:{line.colour}"></i>{html.escape(line.label)}</li>'
        for line in lines
    ) + "".join(
        f'<li><i class="rule" style="border-color:{rule.colour}"></i>{html.escape(rule.label)}</li>'
        for rule in rules
    )
    rows = [
        f'<tr data-day="{p.day.isoformat()}"><td>{p.day:%d/%m}</td>'
        f'<td class="num">{vi_int(p.installs)}</td>'
        f'<td class="num">{vi_int(None if p.new_installs_7d_avg is None else round(p.new_installs_7d_avg))}</td>'  # noqa: E501
        f'<td class="num">{_pct(p.coverage_population)}</td>'
        f'<td class="num">{_pct(p.coverage_smartphone_owners)}</td></tr>'
        for p in reversed(points)
    ]
    return (
        target_list
        + f'<figure>{chart}<ul class="legend">{legend}</ul></figure>'
        + "<details><summary>Số liệu theo ngày</summary>"
        + _table(
            ["Ngày", "Lượt cài", "Mới/ngày (TB 7 ngày)", "% dân số", "% người dùng ĐTTM"],
            rows,
            "trend",
        )
        + "</details>"
    )


def _rank_section(item: Province) -> str:
    ranking = item.ranking
    if ranking is None:
        return "<p>Chưa được xếp hạng: không có số liệu của Bộ cho tỉnh trong ngày này.</p>"
    among = ranking.provinces_ranked
    of = f"/{among}" if among else ""
    watch = (
        '<p class="watch">Thuộc danh sách theo dõi: dưới 10 % dân số đã cài đặt.</p>'
        if ranking.is_below_10pct
        else ""
    )
    return (
        '<div class="kpi rank">'
        f'<div><b data-rank="coverage">{ranking.rank_by_coverage}{of}</b>theo tỷ lệ cài đặt / '
        f"dân số<br><small>{_rank_change(ranking.rank_change)}</small></div>"
        f'<div><b data-rank="installs">{ranking.rank_by_installs}{of}</b>theo số lượt cài '
        f"đặt<br><small>{_rank_change(ranking.rank_by_installs_change)}</small></div></div>" + watch
    )


def _flags_section(item: Province, day: date) -> str:
    if not item.flags:
        return f"<p>Không có cờ chất lượng dữ liệu nào trong {FLAG_DAYS} ngày gần nhất.</p>"
    days = [day - timedelta(days=offset) for offset in range(FLAG_DAYS)]
    counts = Counter((flag.check_id, flag.severity, flag.day) for flag in item.flags)
    checks = sorted({(flag.check_id, flag.severity) for flag in item.flags})
    matrix_rows = [
        f'<tr data-check="{_e(check)}" data-severity="{_e(severity)}">'
        f'<td class="check sev-{_e(severity)}">{_e(CHECK_LABELS.get(check, check))} '
        f"<small>({_e(SEVERITY_LABELS.get(severity, severity))})</small></td>"
        + "".join(f'<td class="num">{counts[(check, severity, d)] or ""}</td>' for d in days)
        + "</tr>"
        for check, severity in checks
    ]
    by_day: dict[date, list[Flag]] = defaultdict(list)
    for flag in item.flags:
        by_day[flag.day].append(flag)
    details = "".join(
        f"<details{' open' if flag_day == day else ''}><summary>Ngày {flag_day:%d/%m/%Y} "
        f'({len(flags)})</summary><ul class="flags">'
        + "".join(
            f'<li class="sev-{_e(flag.severity)}" data-check="{_e(flag.check_id)}">'
            f"<b>{_e(CHECK_LABELS.get(flag.check_id, flag.check_id))}</b> "
            f"({_e(SEVERITY_LABELS.get(flag.severity, flag.severity))}"
            f"{', ' + _e(flag.unit_code) if flag.unit_code else ''}): {_e(flag.message)}</li>"
            for flag in flags
        )
        + "</ul></details>"
        for flag_day, flags in sorted(by_day.items(), reverse=True)
    )
    return _table(["Kiểm tra"] + [f"{d:%d/%m}" for d in days], matrix_rows, "flag-counts") + details


CSS = """
*{box-sizing:border-box}
body{margin:0 auto;max-width:980px;padding:12px;font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1b1b1b;background:#fff}
h1{font-size:1.35rem;margin:.2rem 0}
h2{font-size:1.1rem;margin:1.4rem 0 .4rem;border-bottom:2px solid #d9e2f3;padding-bottom:2px}
nav{display:flex;flex-wrap:wrap;gap:4px 16px;margin:.2rem 0 .6rem}
.kpi{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:8px;margin:.6rem 0}
.kpi div{background:#f1f5fb;padding:.5rem .7rem;border-radius:6px}
.kpi b{display:block;font-size:1.35rem}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;margin:.4rem 0;font-size:.92rem}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#e8eef8}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.code{white-space:nowrap}
td.name{min-width:8.5em}
td.note{min-width:12em}
td.check{min-width:10em}
h3{font-size:1rem;margin:.8rem 0 .2rem}
.status{display:inline-block;padding:0 7px;border-radius:10px;font-weight:600;white-space:nowrap}
.status-on_time{color:#1e7e34;background:#e6f4ea}
.status-late{color:#8a5300;background:#fff4e5}
.status-missing{color:#b3261e;background:#fdecea}
.status-rejected{color:#6a1b9a;background:#f3e8fd}
.chase{margin:.2rem 0}
.hint{color:#555;font-size:.88rem;margin:.2rem 0}
.watch{color:#b35806;font-weight:600}
.targets li{margin:.2rem 0}
.targets .met{color:#1e7e34}.targets .behind{color:#b3261e}
figure{margin:.4rem 0}
svg.chart{width:100%;height:auto;max-width:640px;display:block;font-size:12px;fill:#444}
.legend{list-style:none;padding:0;margin:.2rem 0;display:flex;flex-wrap:wrap;gap:2px 14px;
font-size:.88rem}
.legend i{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}
.legend i.rule{height:0;border-top:2px dashed}
.flags{padding-left:1.1rem;overflow-wrap:anywhere}
.sev-error{color:#b3261e}.sev-warn{color:#8a5300}
details{margin:.3rem 0}summary{cursor:pointer}
"""


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def render_page(
    item: Province,
    day: date,
    *,
    national_href: str,
    nation: list[tuple[date, float]],
    consolidation_href: str | None = None,
) -> str:
    """The province's page for ``day``, every value escaped; ``national_href`` and
    ``consolidation_href`` are relative to the page."""
    where = province_display(item.name)
    heading = where[0].upper() + where[1:]
    point = item.coverage_on(day)
    rates = item.rates_on(day)
    kpis = [
        (vi_int(point.installs) if point else "–", "lượt cài đặt (số liệu của Bộ)"),
        (_pct(point.coverage_population) if point else "–", "dân số (điều tra 2019)"),
        (
            _pct(point.coverage_smartphone_owners) if point else "–",
            "người dùng điện thoại thông minh (ước tính)",
        ),
        (_pct(rates.reporting_rate) if rates else "–", "đơn vị đã báo cáo hôm nay"),
    ]
    kpi = "".join(f"<div><b>{html.escape(v)}</b>{html.escape(t)}</div>" for v, t in kpis)
    links = [f'<a href="{_e(national_href)}" rel="up">← Báo cáo toàn quốc</a>']
    if consolidation_href:
        links.append(f'<a href="{_e(consolidation_href)}">Phụ lục tổng hợp của tỉnh</a>')
    sections = [
        (f"Các đơn vị báo cáo ngày {day:%d/%m/%Y}", "units", _units_section(item, day)),
        ("Tỷ lệ báo cáo", "rates", _rates_section(item, day)),
        ("Độ phủ so với mục tiêu", "trend", _trend_section(item, day, nation)),
        ("Xếp hạng trong các tỉnh, thành phố", "rank", _rank_section(item)),
        (f"Chất lượng dữ liệu ({FLAG_DAYS} ngày gần nhất)", "quality", _flags_section(item, day)),
    ]
    body = "".join(
        f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{content}</section>'
        for title, anchor, content in sections
    )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="province-code" content="{_e(item.code)}">
<title>{html.escape(heading)} — Bluezone ngày {day:%d/%m/%Y}</title>
<style>{CSS}</style></head><body>
<nav>{"".join(links)}</nav>
<h1>{html.escape(heading)} — ngày {day:%d/%m/%Y}</h1>
<div class="kpi">{kpi}</div>
{body}
</body></html>
"""


def _write(path: Path, text: str) -> None:
    """Write through a temporary name, so a reader sees the old page or the new one."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_province_pages(
    con: duckdb.DuckDBPyConnection,
    day: date,
    national_page: Path,
    *,
    consolidations: Path | None = None,
) -> ProvincePages:
    """Write a page per province with data on ``day`` beside ``national_page``; pages of
    that day left from an earlier build for provinces without data now are removed.
    ``consolidations``: the folder of the provincial consolidations
    (``<folder>/<YYYY-MM-DD>/<code>.html``), linked when the day's exists."""
    provinces = load_provinces(con, day)
    nation = national_coverage(con, day)
    folder = pages_dir(national_page, day)
    folder.mkdir(parents=True, exist_ok=True)
    national_href = _relative(national_page, folder)
    pages = {}
    for code, item in provinces.items():
        consolidation = (
            consolidations / day.isoformat() / f"{code}.html" if consolidations else None
        )
        page = folder / f"{code}.html"
        _write(
            page,
            render_page(
                item,
                day,
                national_href=national_href,
                nation=nation,
                consolidation_href=(
                    _relative(consolidation, folder)
                    if consolidation and consolidation.exists()
                    else None
                ),
            ),
        )
        pages[code] = page
    for stale in folder.glob("*.html"):
        if stale.stem not in pages:
            stale.unlink()
    return ProvincePages(day, pages, provinces)
