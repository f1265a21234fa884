"""Parsing what units type: unambiguous or rejected with a reason (DESIGN §3.3)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.ingest.values import (
    ValueRejected,
    canonical_column,
    parse_count,
    parse_date,
    parse_local_timestamp,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("70264", 70264),
        ("70.264", 70264),
        ("70,264", 70264),
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        (" 70 264 ", 70264),
        ("1.234", 1234),
        (70264, 70264),
        (70264.0, 70264),
        ("0", 0),
        ("", None),
        (None, None),
        ("  ", None),
    ],
)
def test_counts_read_unambiguously(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("8,95%", "percentage"),
        ("1.5", "whole number"),
        ("12,5", "whole number"),
        ("1.234,5", "not a number"),
        ("1,234.5", "not a number"),
        ("70.26", "whole number"),
        ("-5", "negative"),
        (-5, "negative"),
        (12.5, "whole number"),
        ("=SUM(A1:A3)", "formula"),
        ("abc", "not a number"),
        ("1.23.456", "not a number"),
        (True, "boolean"),
    ],
)
def test_ambiguous_counts_are_rejected_with_a_reason(raw: object, reason: str) -> None:
    with pytest.raises(ValueRejected, match=reason):
        parse_count(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-08-05", date(2020, 8, 5)),
        ("05/08/2020", date(2020, 8, 5)),
        ("5/8/2020", date(2020, 8, 5)),
        (datetime(2020, 8, 5, 0, 0), date(2020, 8, 5)),
        ("", None),
    ],
)
def test_dates(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["08/2020", "2020/08/05", "31/02/2020", "tomorrow"])
def test_bad_dates_are_rejected(raw: str) -> None:
    with pytest.raises(ValueRejected):
        parse_date(raw)


@pytest.mark.parametrize(
    "raw",
    ["05/08/2020 15:59", "2020-08-05 15:59:00", "2020-08-05T15:59", "15:59 05/08/2020"],
)
def test_local_timestamps(raw: str) -> None:
    assert parse_local_timestamp(raw) == datetime(2020, 8, 5, 15, 59, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Ngày báo cáo", "report_date"),
        ("NGAY BAO CAO", "report_date"),
        ("  Mã  đơn vị ", "unit_code"),
        ("Tên đơn vị", "unit_name"),
        ("Đơn vị", "unit_name"),
        ("Số lượng cài đặt", "installs_reported"),
        ("Số người đã cài đặt", "installs_reported"),
        ("Tổng số CBCCVC", "staff_total"),
        ("Số CBCCVC đã cài đặt", "staff_installed"),
        ("Thời gian gửi", "submitted_at"),
        ("Ghi chú", "note"),
        ("installs_reported", "installs_reported"),
        ("Installs Reported", "installs_reported"),
        ("STT", None),
        ("Something else", None),
    ],
)
def test_headers_in_vietnamese_or_english(header: str, column: str | None) -> None:
    assert canonical_column(header) == column


@pytest.mark.parametrize(
    "text",
    [
        "70264",
        "70.264",
        "70,264",
        "70 264",
        "70\u00a0264",
        " 1\u202f234\u2009567 ",
        "0",
        "007",
        "70.26",
        "0.264",
        "1.234,5",
        "70 26",
        "70  264",
        "7O.264",
        "1.234.56",
        "",
        "-5",
        "12'345",
    ],
)
def test_reports_and_exports_share_one_count_grammar(text: str) -> None:
    """The SQL the export check runs in DuckDB accepts exactly what parse_count accepts."""
    import duckdb

    from bluezone_warehouse.ingest.values import COUNT_PATTERN, count_text_sql

    sql_accepts = (
        duckdb.connect()
        .execute(
            f"select regexp_full_match({count_text_sql('$text')}, '{COUNT_PATTERN}')",
            {"text": text},
        )
        .fetchone()[0]
    )
    try:
        python_value = parse_count(text)
    except ValueRejected:
        python_value = None
    assert sql_accepts == (python_value is not None)
