"""The daily report opened as a person would: in headless Chromium, offline, with no console
errors, every chart drawn and Vietnamese names intact; dbt docs and Data Docs linked; the
map names the Hoàng Sa and Trường Sa archipelagos.

Beside it, one page per province (issue 14, item 6), checked against the published marts
row for row: its units with the statuses of ``fct_reporting_compliance``, its rates from
``agg_reporting_rates``, its rank from ``fct_province_ranking``, its data-quality flags
from ``fct_data_quality_issues``; linked both ways; read on a 390-px-wide phone screen.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from bluezone_devtools.simulate import FaultRates, simulate_campaign
from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR, load_settings
from bluezone_warehouse.pipeline import run_daily
from bluezone_warehouse.warehouse import CURRENT_LINK, SNAPSHOT_FILE
from tests.chromium import open_in_chromium
from tests.conftest import environment_for

CHART_IDS = ("map", "national", "rank", "compliance", "quality", "map2025")
DAY = date(2020, 8, 8)
PHONE_WIDTH = 390

# Hà Nội (01) is not in the simulated campaign; two of its units send reports by hand on
# the report's day (deadline 16:00): one on time, one late; the others are missing.
with (SEEDS_DIR / "reporting_units.csv").open(encoding="utf-8") as _handle:
    HANOI = [r["unit_code"] for r in csv.DictReader(_handle) if r["province_code"] == "01"]
HANOI_ON_TIME, HANOI_LATE = HANOI[:2]
HEADER = "Ngày báo cáo,Mã đơn vị,Thời gian gửi,Số lượng cài đặt"
HAND_DELIVERIES = [  # (file, arrival (local), unit, claimed send time, installs)
    ("01_on_time.csv", time(10, 0), HANOI_ON_TIME, "08/08/2020 09:45", "12.345"),
    ("01_late.csv", time(17, 10), HANOI_LATE, "", "2345"),
]

STATUS_VI = {
    "on_time": "đúng hạn",
    "late": "muộn",
    "missing": "chưa báo cáo",
    "rejected": "bị từ chối",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    env = environment_for(root)
    landing = Path(env["BLUEZONE_LANDING_URL"])
    simulate_campaign(
        landing,
        start=date(2020, 8, 1),
        end=DAY,
        provinces=["30", "89"],
        seed=4,
        faults=FaultRates(),
    )
    for name, arrives, unit, claimed, installs in HAND_DELIVERIES:
        path = landing / "reports" / name
        path.write_text(f"{HEADER}\n08/08/2020,{unit},{claimed},{installs}\n", encoding="utf-8")
        stamp = datetime.combine(DAY, arrives, tzinfo=LOCAL_TZ).timestamp()
        os.utime(path, (stamp, stamp))
    run = run_daily(load_settings(env), DAY, run_id="report")
    return Path(run.report)


@pytest.fixture(scope="module")
def marts(report: Path) -> duckdb.DuckDBPyConnection:
    """The published snapshot the report was built from."""
    con = duckdb.connect(str(report.parent / CURRENT_LINK / SNAPSHOT_FILE), read_only=True)
    yield con
    con.close()


def test_the_report_loads_offline_without_console_errors(report: Path, tmp_path: Path) -> None:
    loaded = open_in_chromium(report, tmp_path / "profile", "--dump-dom")
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    console = [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = loaded.stdout
    for chart in CHART_IDS:
        block = dom[dom.index(f'id="{chart}"') :][:200_000]
        assert 'class="main-svg"' in block, chart  # plotly drew the chart
    assert len(re.findall(r'class="js-fill"', dom)) >= 2  # the two provinces on the map
    assert "Hải Dương" in dom and "An Giang" in dom
    # two of the 63 provinces simulated: the national figure says it leaves the rest out
    assert "chỉ gồm 2/63 tỉnh, thành phố có trong số liệu ngày này" in dom
    assert "<script src=" not in dom.split("<body")[0]  # nothing fetched: plotly is inlined
    links = set(re.findall(r"<nav>(.*?)</nav>", dom, re.S)[0].split('"'))
    assert {"docs/dbt.html", "docs/gx/index.html"} <= links
    publish = report.parent
    assert (publish / "docs" / "dbt.html").stat().st_size > 100_000
    assert (publish / "docs" / "gx" / "index.html").exists()
    assert (publish / "report.html").read_bytes() == report.read_bytes()
    # the map, as drawn: both archipelagos named on it
    drawn = dom[dom.index('id="map"') :][:2_000_000]
    annotations = re.findall(r'class="annotation-text[^"]*"[^>]*>(.*?)</text>', drawn, re.S)
    labels = " ".join(re.sub(r"<[^>]+>", " ", text) for text in annotations)
    assert "Quần đảo Hoàng Sa" in labels and "Quần đảo Trường Sa" in labels


def plotly_figure(page: str, div_id: str) -> tuple[list, dict]:
    """The data and layout plotly was given for the chart ``div_id``."""
    start = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page).end()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, start)
    layout, _ = decoder.raw_decode(page, page.index("{", end))
    return data, layout


@pytest.mark.parametrize("chart", ["map", "map2025"])
def test_the_map_labels_both_archipelagos_at_their_islands(report: Path, chart: str) -> None:
    """Each label sits at its islands: the polygons of Đà Nẵng (Hoàng Sa) and Khánh Hòa
    (Trường Sa) that lie offshore, east of 110°E, in the map's own boundaries (2020's, or
    2025's derived from them: Đà Nẵng with Quảng Nam, Khánh Hòa with Ninh Thuận)."""
    from bluezone_warehouse.report.boundaries import GEOJSON_2020, provinces_2025

    islands: dict[str, list[tuple[float, float]]] = defaultdict(list)
    features = (
        json.loads(GEOJSON_2020.read_text(encoding="utf-8"))["features"]
        if chart == "map"
        else provinces_2025()
    )
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for polygon in polygons:
            points = polygon[0]
            if min(p[0] for p in points) > 110:
                islands[feature["properties"]["province_code"]] += [tuple(p) for p in points]
    assert set(islands) == {"48", "56"}  # only Đà Nẵng and Khánh Hòa have such islands
    _, layout = plotly_figure(report.read_text(encoding="utf-8"), chart)
    by_text = {a["text"].split("<br>")[0]: a for a in layout["annotations"]}
    for name, province, owner in (
        ("Quần đảo Hoàng Sa", "48", "Đà Nẵng"),
        ("Quần đảo Trường Sa", "56", "Khánh Hòa"),
    ):
        label = by_text[name]
        assert owner in label["text"]
        lons = [p[0] for p in islands[province]]
        lats = [p[1] for p in islands[province]]
        assert min(lons) - 0.5 <= label["x"] <= max(lons) + 0.5, name
        assert min(lats) <= label["y"] <= max(lats) + 1.0, name
    west, east = layout["xaxis"]["range"]
    assert west < 102.2 and east > max(p[0] for p in islands["56"])  # the islands fit


def test_a_screenshot_shows_the_charts(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    taken = open_in_chromium(
        report, tmp_path / "profile", "--window-size=1300,2400", f"--screenshot={shot}"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 60_000  # a blank or text-only page compresses to far less


# --- the province pages --------------------------------------------------------------------


class Page(HTMLParser):
    """What a test reads off a page: links, table rows (attributes and cell texts) and the
    text of elements marked ``data-rate`` / ``data-rank``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str | None]] = []
        self.rows: list[tuple[dict, list[str]]] = []
        self.marked: dict[tuple[str, str], str] = {}
        self._row: tuple[dict, list[str]] | None = None
        self._cell: list[str] | None = None
        self._mark: tuple[tuple[str, str], str, list[str]] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and "href" in attributes:
            self.links.append((attributes["href"], attributes.get("rel")))
        if tag == "tr":
            self._row = (attributes, [])
        if tag == "td" and self._row is not None:
            self._cell = []
        for key in ("data-rate", "data-rank"):
            if key in attributes:
                self._mark = ((key, attributes[key]), tag, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if self._mark and tag == self._mark[1]:
            self.marked[self._mark[0]] = "".join(self._mark[2]).strip()
            self._mark = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._mark:
            self._mark[2].append(data)


def vi_count(value: int | None) -> str:
    return "" if value is None else f"{value:,}".replace(",", ".")


def vi_share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}".replace(".", ",") + " %"


def sent_text(sent: datetime | None) -> str:
    if sent is None:
        return ""
    return f"{sent:%H:%M}" if sent.date() == DAY else f"{sent:%H:%M %d/%m}"


def provinces_with_data(marts: duckdb.DuckDBPyConnection) -> set[str]:
    """Provinces with coverage figures on the day or units expected to report that day."""
    return {
        code
        for (code,) in marts.execute(
            "select unit_code from marts.fct_coverage_daily "
            "where level = 'province' and snapshot_date = $day "
            "union select province_code from marts.fct_reporting_compliance "
            "where report_date = $day",
            {"day": DAY},
        ).fetchall()
    }


def province_pages(report: Path) -> dict[str, Path]:
    folder = report.parent / "provinces" / DAY.isoformat()
    return {page.stem: page for page in folder.glob("*.html")}


def test_one_page_per_province_with_data_linked_both_ways(
    report: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    expected = provinces_with_data(marts)
    assert len(expected) == 63  # every province has units to report, two have figures
    pages = province_pages(report)
    assert set(pages) == expected
    for national in (report, report.parent / "report.html"):  # the dated page and its copy
        links = {
            href
            for href, _ in Page(national.read_text(encoding="utf-8")).links
            if href.startswith("provinces/")
        }
        assert {(national.parent / href).resolve() for href in links} == {
            page.resolve() for page in pages.values()
        }
    for page in pages.values():
        text = page.read_text(encoding="utf-8")
        assert '<html lang="vi">' in text and 'name="viewport"' in text
        assert "<script" not in text  # no JavaScript at all: light and offline
        assert len(text.encode()) < 150_000
        (up,) = [href for href, rel in Page(text).links if rel == "up"]
        assert (page.parent / up).resolve() == report.resolve()


def test_each_page_shows_exactly_its_units_with_the_marts_statuses(
    report: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    rows = marts.execute(
        "select province_code, unit_code, unit_name, status, submitted_at_local, "
        "installs_reported, minutes_late, deadline_local, rejection_reason "
        "from marts.fct_reporting_compliance where report_date = ?",
        [DAY],
    ).fetchall()
    expected: dict[str, dict[str, tuple]] = defaultdict(dict)
    for province, unit, *rest in rows:
        expected[province][unit] = tuple(rest)
    for code, page in province_pages(report).items():
        shown = {
            attributes["data-unit"]: (attributes["data-status"], cells)
            for attributes, cells in Page(page.read_text(encoding="utf-8")).rows
            if "data-unit" in attributes
        }
        assert set(shown) == set(expected[code]), code
        for unit, (name, status, sent, installs, late, deadline, why) in expected[code].items():
            data_status, cells = shown[unit]
            assert data_status == status
            assert cells[:5] == [unit, name, STATUS_VI[status], sent_text(sent), vi_count(installs)]
            if status == "late":
                assert cells[-1] == f"muộn {late} phút (hạn {deadline})"
            elif status == "rejected":
                assert cells[-1] == why
            else:
                assert cells[-1] == ""


def test_the_hand_made_reports_show_each_status(report: Path) -> None:
    """Hà Nội's page, against what was sent by hand (not the marts)."""
    page = Page((report.parent / "provinces" / DAY.isoformat() / "01.html").read_text("utf-8"))
    shown = {a["data-unit"]: cells for a, cells in page.rows if "data-unit" in a}
    assert set(shown) == set(HANOI)
    assert shown[HANOI_ON_TIME][2:5] == ["đúng hạn", "09:45", "12.345"]
    assert shown[HANOI_LATE][2:5] == ["muộn", "17:10", "2.345"]
    assert shown[HANOI_LATE][-1] == "muộn 70 phút (hạn 16:00)"
    missing = set(HANOI) - {HANOI_ON_TIME, HANOI_LATE}
    assert {unit for unit, cells in shown.items() if cells[2] == "chưa báo cáo"} == missing
    assert all(shown[unit][3:5] == ["", ""] for unit in missing)
    assert page.marked[("data-rate", "reporting")] == vi_share(2 / len(HANOI))
    assert page.marked[("data-rate", "on_time")] == vi_share(1 / len(HANOI))


REASON = 'Tệp "01.csv", dòng 2, cột D "Số lượng cài đặt": giá trị "mười" không phải con số'


def test_an_older_snapshot_and_a_rejected_unit(report: Path, tmp_path: Path) -> None:
    """A snapshot from before fct_province_consolidation, fct_deliveries and the
    at-deadline rate still builds; a unit the marts say was rejected shows why."""
    from bluezone_warehouse.report import build_report

    snapshot = tmp_path / "snapshot.duckdb"
    shutil.copyfile(report.parent / CURRENT_LINK / SNAPSHOT_FILE, snapshot)
    rejected = HANOI[-1]
    with duckdb.connect(str(snapshot)) as con:
        con.execute("drop table if exists marts.fct_province_consolidation")
        con.execute("drop table if exists marts.fct_deliveries")
        con.execute("alter table marts.agg_reporting_rates drop reporting_rate_at_deadline")
        con.execute(
            "update marts.fct_reporting_compliance set status = 'rejected', "
            "rejection_reason = ? where unit_code = ? and report_date = ?",
            [REASON, rejected, DAY],
        )
    out = tmp_path / "publish" / "report_20200808.html"
    build_report(snapshot, out)
    page = Page((out.parent / "provinces" / DAY.isoformat() / "01.html").read_text("utf-8"))
    shown = {a["data-unit"]: (a["data-status"], row) for a, row in page.rows if "data-unit" in a}
    assert shown[rejected][0] == "rejected"
    assert shown[rejected][1][2] == "bị từ chối" and shown[rejected][1][-1] == REASON
    assert page.marked[("data-rate", "at_deadline")] == "–"
    # a province page from a rebuild that no longer has the province is removed
    stale = out.parent / "provinces" / DAY.isoformat() / "99.html"
    stale.write_text("old", encoding="utf-8")
    build_report(snapshot, out)
    assert not stale.exists()


def test_rates_and_ranks_equal_the_marts(report: Path, marts: duckdb.DuckDBPyConnection) -> None:
    rates = {
        row[0]: row[1:]
        for row in marts.execute(
            "select scope_code, reporting_rate, on_time_rate, reporting_rate_at_deadline "
            "from marts.agg_reporting_rates where report_date = ?",
            [DAY],
        ).fetchall()
    }
    ranks = {
        row[0]: row[1:]
        for row in marts.execute(
            "select province_code, rank_by_coverage, rank_by_installs, provinces_ranked "
            "from marts.fct_province_ranking where snapshot_date = ?",
            [DAY],
        ).fetchall()
    }
    assert set(ranks) == {"30", "89"}
    for code, page in province_pages(report).items():
        marked = Page(page.read_text(encoding="utf-8")).marked
        reporting, on_time, at_deadline = rates[code]
        assert marked[("data-rate", "reporting")] == vi_share(reporting), code
        assert marked[("data-rate", "on_time")] == vi_share(on_time), code
        assert marked[("data-rate", "at_deadline")] == vi_share(at_deadline), code
        if code in ranks:
            by_coverage, by_installs, ranked = ranks[code]
            assert marked[("data-rank", "coverage")] == f"{by_coverage}/{ranked}"
            assert marked[("data-rank", "installs")] == f"{by_installs}/{ranked}"
        else:
            assert not any(key[0] == "data-rank" for key in marked)


def test_each_page_counts_the_marts_quality_flags_of_the_last_week(
    report: Path, marts: duckdb.DuckDBPyConnection
) -> None:
    days = [DAY - timedelta(days=offset) for offset in range(7)]
    flags = Counter(
        marts.execute(
            "select province_code, check_id, severity, day from marts.fct_data_quality_issues "
            "where day between ? and ? and province_code is not null",
            [days[-1], DAY],
        ).fetchall()
    )
    expected: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(dict)
    for province, check, severity, _ in flags:
        expected[province][(check, severity)] = [
            str(flags[(province, check, severity, day)] or "") for day in days
        ]
    assert sum(len(checks) for checks in expected.values()) > 0
    for code, page in province_pages(report).items():
        shown = {
            (attributes["data-check"], attributes["data-severity"]): cells[1:]
            for attributes, cells in Page(page.read_text(encoding="utf-8")).rows
            if "data-check" in attributes
        }
        assert shown == expected.get(code, {}), code


def test_a_province_page_on_a_phone(report: Path, tmp_path: Path) -> None:
    """An Giang's page in Chromium at 390 px: no console errors, the chart drawn, nothing
    wider than the screen (the wide tables scroll inside their boxes)."""
    page = report.parent / "provinces" / DAY.isoformat() / "89.html"
    loaded = open_in_chromium(page, tmp_path / "profile", "--dump-dom")
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = loaded.stdout
    assert "Tỉnh An Giang" in dom and "đúng hạn" in dom
    chart = dom[dom.index('<svg class="chart"') : dom.index("</svg>")]
    assert chart.count("<polyline") == 3  # smartphone owners, population, the nation
    assert 'class="rule"' in chart  # An Giang's 60 % target

    # the page in a frame as wide as the phone (a headless window is at least 500 px wide)
    probe = page.with_name("phone_probe.html")
    probe.write_text(
        f'<!doctype html><html><body style="margin:0"><iframe id="phone" src="{page.name}" '
        f'width="{PHONE_WIDTH}" height="1600" style="border:0"></iframe><script>'
        "phone.onload = () => { const doc = phone.contentDocument;"
        " document.body.dataset.viewport = phone.contentWindow.innerWidth;"
        " document.body.dataset.pageWidth = doc.documentElement.scrollWidth;"
        " document.body.dataset.widestTable = Math.max("
        "...Array.from(doc.querySelectorAll('table'), table => table.scrollWidth)); };"
        "</script></body></html>",
        encoding="utf-8",
    )
    try:
        measured = open_in_chromium(
            probe, tmp_path / "profile", "--allow-file-access-from-files", "--dump-dom"
        )
    finally:
        probe.unlink()
    size = {
        key: int(value)
        for key, value in re.findall(r'data-([a-z-]+)="(\d+)"', measured.stdout.split("<body")[1])
    }
    assert size["viewport"] == PHONE_WIDTH
    assert size["page-width"] <= PHONE_WIDTH  # no sideways scrolling of the page
    assert size["widest-table"] > PHONE_WIDTH  # a wide table, scrolling inside its box

    shot = tmp_path / "province.png"
    taken = open_in_chromium(
        page, tmp_path / "profile", f"--window-size={PHONE_WIDTH},1600", f"--screenshot={shot}"
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (PHONE_WIDTH, 1600)
    assert len(png) > 40_000  # text, badges and tables, not a blank page


def test_the_day_on_the_2025_provinces(report: Path, marts: duckdb.DuckDBPyConnection) -> None:
    """The report's section on today's map: one row per 2025 province the campaign reaches,
    its installs the sum of its 2020 provinces' (from fct_coverage_daily and the crosswalk
    seed, not from the 2025 mart)."""
    page = report.read_text(encoding="utf-8")
    start = page.index('<section id="units-2025">')
    section = page[start : page.index("</section>", start)]
    rows = {cells[0]: cells for _, cells in Page(section).rows if cells}
    with (SEEDS_DIR / "xwalk_provinces_2020_2025.csv").open(encoding="utf-8") as handle:
        to_2025 = {r["province_code_2020"]: r["province_code_2025"] for r in csv.DictReader(handle)}
    formed_from: dict[str, int] = {}
    for new in to_2025.values():
        formed_from[new] = formed_from.get(new, 0) + 1
    expected: dict[str, list] = {}
    for code, installs in marts.execute(
        "select unit_code, installs from marts.fct_coverage_daily "
        "where level = 'province' and snapshot_date = ?",
        [DAY],
    ).fetchall():
        entry = expected.setdefault(to_2025[code], [0, []])
        entry[0] += installs
        entry[1].append(code)
    assert set(rows) == set(expected) == {"31", "91"}  # Hải Phòng (with Hải Dương), An Giang
    for code, (installs, olds) in expected.items():
        _, _, listed, included, shown, *_ = rows[code]
        assert listed == ", ".join(sorted(olds))
        assert included == f"{len(olds)}/{formed_from[code]}"
        assert shown == vi_count(installs)
