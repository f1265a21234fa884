"""The consolidation's pieces: Vietnamese numbers and province names, the status labels,
the page's self-containment and escaping, and writes that never leave a half file."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bluezone_warehouse import consolidation as module
from bluezone_warehouse.consolidation import (
    STATUS_LABELS,
    Consolidation,
    ConsolidationRow,
    province_display,
    render_html,
    render_xlsx,
    vi_datetime,
    vi_int,
    vi_percent,
    write_consolidation,
)


def unit(code: str, status: str = "missing", **figures) -> ConsolidationRow:
    values = {
        "installs_reported": None,
        "installs_export": None,
        "export_day": None,
        "coverage_population": None,
        "sent_at_local": None,
        **figures,
    }
    return ConsolidationRow(code, f"Đơn vị {code}", status=status, **values)


def consolidation(*rows: ConsolidationRow, name: str = "An Giang") -> Consolidation:
    return Consolidation(
        province_code="89",
        province_name=name,
        report_date=date(2020, 8, 12),
        as_of_local=datetime(2020, 8, 12, 15, 0),
        deadline_local="15:00",
        rows=rows,
        reporting_rate=None,
        on_time_rate=None,
    )


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert vi_int(70264) == "70.264"
    assert vi_int(1234567) == "1.234.567"
    assert vi_int(0) == "0"
    assert vi_int(None) == ""
    assert vi_percent(0.0895) == "8,95 %"
    assert vi_percent(0.5) == "50,00 %"
    assert vi_percent(12.345678) == "1.234,57 %"  # over 100 % is kept, never capped
    assert vi_percent(None) == ""
    assert vi_datetime(datetime(2020, 8, 5, 9, 5, 59)) == "05/08/2020 09:05"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Hải Dương", "tỉnh Hải Dương"),
        ("Tỉnh Hải Dương", "tỉnh Hải Dương"),
        ("Hà Nội", "thành phố Hà Nội"),
        ("Hồ Chí Minh", "thành phố Hồ Chí Minh"),
        ("Thành phố Hồ Chí Minh", "thành phố Hồ Chí Minh"),
        ("TP. Hồ Chí Minh", "thành phố Hồ Chí Minh"),
        ("Hải Phòng", "thành phố Hải Phòng"),
        ("Đà Nẵng", "thành phố Đà Nẵng"),
        ("Cần Thơ", "thành phố Cần Thơ"),
        ("Ha Noi", "thành phố Ha Noi"),
        ("Thừa Thiên Huế", "tỉnh Thừa Thiên Huế"),
        ("Huế", "thành phố Huế"),  # a centrally-run city in the 2025 unit set
        ("Tuyên Quang", "tỉnh Tuyên Quang"),
    ],
)
def test_province_names_read_as_a_sentence_names_them(name: str, shown: str) -> None:
    assert province_display(name) == shown


def test_one_vietnamese_label_per_status() -> None:
    assert STATUS_LABELS == {
        "on_time": "đúng hạn",
        "late": "muộn",
        "missing": "chưa báo cáo",
        "rejected": "bị từ chối",
    }


def test_an_unknown_status_is_refused_naming_the_unit() -> None:
    with pytest.raises(ValueError, match=r"unit 891: status 'sent' is not one of on_time"):
        unit("891", status="sent")


def test_the_page_is_self_contained_and_escapes_everything() -> None:
    page = render_html(
        consolidation(
            ConsolidationRow(
                "<891>", 'Huyện "A" & <script>alert(1)</script>', None, None, None, None,
                None, "rejected", "<b>sai</b> định dạng",
            ),
            name="Cần Thơ",
        )
    )  # fmt: skip
    assert page.startswith('<!doctype html>\n<html lang="vi">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<meta name="as-of-local" content="2020-08-12T15:00:00">' in page
    assert "<title>Phụ lục — Số lượng cài đặt Bluezone trên địa bàn thành phố Cần Thơ" in page
    assert re.search(r"\b(src|href)=|url\(|@import|https?://", page) is None
    assert "<script" not in page and "<b>sai</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-unit="&lt;891&gt;"' in page
    assert "&lt;b&gt;sai&lt;/b&gt; định dạng" in page
    assert "@media print" in page and "@page{size:A4 landscape" in page


def test_the_ministry_column_names_the_export_day_only_when_there_is_one(tmp_path: Path) -> None:
    one_day = consolidation(
        unit("883", installs_export=10, export_day=date(2020, 8, 11)), unit("884")
    )
    two_days = consolidation(
        unit("883", installs_export=10, export_day=date(2020, 8, 11)),
        unit("884", installs_export=12, export_day=date(2020, 8, 10)),
    )
    assert "Số liệu của Bộ (theo xuất dữ liệu ngày 11/08/2020)" in render_html(one_day)
    assert "Số liệu của Bộ (theo xuất dữ liệu mới nhất)" in render_html(two_days)


def test_totals_stay_empty_when_nobody_reported(tmp_path: Path) -> None:
    path = render_xlsx(consolidation(unit("883"), unit("884")), tmp_path / "89.xlsx")
    sheet = load_workbook(path).active
    totals = [cell.value for cell in sheet[9]]
    assert totals[2:5] == ["Tổng cộng", None, None]
    assert sheet["D11"].value is None and sheet["A11"].value == "Tỷ lệ báo cáo"
    assert sheet["A13"].value == "2 đơn vị: đúng hạn 0, muộn 0, chưa báo cáo 2, bị từ chối 0"
    assert sheet.page_setup.orientation in ("portrait", "landscape")


def test_a_failed_render_leaves_the_files_in_place_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = consolidation(unit("883", "on_time", installs_reported=5))
    xlsx, page = write_consolidation(first, tmp_path)
    before = (xlsx.read_bytes(), page.read_bytes())

    def broken(consolidation: Consolidation, path: Path) -> Path:
        path.write_bytes(b"PK half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(module, "render_xlsx", broken)
    later = replace(
        consolidation(unit("883", "on_time", installs_reported=9)),
        as_of_local=datetime(2020, 8, 12, 16, 0),
    )
    with pytest.raises(OSError, match="disk full"):
        write_consolidation(later, tmp_path)
    assert (xlsx.read_bytes(), page.read_bytes()) == before
    assert sorted(path.name for path in xlsx.parent.iterdir()) == ["89.html", "89.xlsx"]
