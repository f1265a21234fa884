"""Parsing what units type: unambiguous or rejected with a reason (DESIGN §3.3)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.ingest.values import (
    ValueRejected,
    canonical_column,
    parse_count,
    parse_date,
    parse_local_timestamp,
    parse_time_of_day,
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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("16:00", time(16, 0)),
        ("16:00:59", time(16, 0, 59)),
        ("16h00", time(16, 0)),
        ("16h", time(16, 0)),
        ("16H30", time(16, 30)),
        ("16g00", time(16, 0)),
        ("16 giờ 00", time(16, 0)),
        ("16 giờ", time(16, 0)),
        ("16 giờ 05 phút", time(16, 5)),
        ("4:00 PM", time(16, 0)),
        ("4 pm", time(16, 0)),
        ("12:30 AM", time(0, 30)),
        ("12:30 PM", time(12, 30)),
        ("4:00 CH", time(16, 0)),
        ("8h sáng", time(8, 0)),
        ("4h chiều", time(16, 0)),
        ("0h05", time(0, 5)),
    ],
)
def test_times_of_day_as_people_write_them(raw: str, expected: time) -> None:
    assert parse_time_of_day(raw) == expected
    arrival_day = date(2020, 8, 5)
    assert parse_local_timestamp(raw, default_day=arrival_day) == datetime.combine(
        arrival_day, expected, tzinfo=LOCAL_TZ
    )
    for with_date in (f"05/08/2020 {raw}", f"{raw} ngày 05/08/2020", f"2020-08-05, {raw}"):
        assert parse_local_timestamp(with_date) == datetime.combine(
            date(2020, 8, 5), expected, tzinfo=LOCAL_TZ
        )


@pytest.mark.parametrize(
    "raw", ["16", "25:00", "16:60", "13 PM", "0 AM", "16h0", "chiều", "16:00 tomorrow", "4.00"]
)
def test_impossible_times_of_day_are_rejected(raw: str) -> None:
    with pytest.raises(ValueRejected):
        parse_local_timestamp(raw, default_day=date(2020, 8, 5))


def test_a_date_alone_or_a_time_without_a_day_is_rejected_with_what_to_write() -> None:
    with pytest.raises(ValueRejected, match="no time of day"):
        parse_local_timestamp("05/08/2020")
    with pytest.raises(ValueRejected, match="DD/MM/YYYY HH:MM"):
        parse_local_timestamp("16:00")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("8,95%", "count_percent"),
        ("1.5", "count_decimal"),
        ("0,895", "count_decimal"),
        (12.5, "count_fraction"),
        ("-5", "count_negative"),
        (-5, "count_negative"),
        (-5.0, "count_negative"),
        ("=SUM(A1:A3)", "count_formula"),
        ("70 26", "count_spaces"),
        ("70.264 người", "count_not_number"),
        ("abc", "count_not_number"),
        (True, "count_boolean"),
    ],
)
def test_a_rejected_count_says_which_problem_it_is(raw: object, problem: str) -> None:
    """The problem picks the sender's message and its hint (ingest.messages)."""
    with pytest.raises(ValueRejected) as caught:
        parse_count(raw)
    assert caught.value.problem == problem


@pytest.mark.parametrize(
    ("parse", "raw", "problem"),
    [
        (parse_date, "31/02/2020", "date_impossible"),
        (parse_date, "4-Aug-2020", "date_format"),
        (parse_date, "08/2020", "date_format"),
        (parse_local_timestamp, "05/08/2020", "timestamp_no_time"),
        (parse_local_timestamp, "32/08/2020 16:00", "timestamp_bad_date"),
        (parse_local_timestamp, "05/08/2020 25:10", "time_invalid"),
        (parse_local_timestamp, "05/08/2020 13 PM", "time_invalid"),
        (parse_local_timestamp, "05/08/2020 16 giờ kém 15", "time_format"),
        (parse_local_timestamp, "16:00", "time_format"),
    ],
)
def test_a_rejected_date_or_time_says_which_problem_it_is(parse, raw: str, problem: str) -> None:
    with pytest.raises(ValueRejected) as caught:
        parse(raw)
    assert caught.value.problem == problem
