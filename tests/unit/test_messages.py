"""The catalogue of the senders' messages (ingest.messages): complete in both languages, one
entry for every problem the ingestion names, and rendered as a clerk reads it."""

from __future__ import annotations

import ast
import re
import string
from datetime import date, datetime, time
from pathlib import Path

import pytest

from bluezone_warehouse.ingest import messages
from bluezone_warehouse.ingest.messages import CATALOGUE, Words, render, shown

INGEST = Path(messages.__file__).parent


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("problem", sorted(CATALOGUE))
def test_every_problem_says_what_is_wrong_and_what_to_write_in_both_languages(
    problem: str,
) -> None:
    entry = CATALOGUE[problem]
    for what, hint in (entry.vi, entry.en):
        assert what.strip() and hint.strip()
        assert not what.endswith((".", ";")) and not hint.endswith((".", ";"))
    assert _placeholders(entry.vi[0]) == _placeholders(entry.en[0])
    assert _placeholders(entry.vi[1]) == _placeholders(entry.en[1])


def _problems_named_in_the_code() -> set[str]:
    """Every problem id the ingestion code raises or records."""
    named: set[str] = set()
    for path in INGEST.glob("*.py"):
        if path.name == "messages.py":
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg == "problem":
                if isinstance(node.value, ast.Constant):
                    named.add(node.value.value)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "ValueRejected"
                and len(node.args) == 2
            ):
                named.add(node.args[1].value)
        # The export checks name their problem in SQL, the event checks in a table.
        named |= set(re.findall(r"'(export_[a-z_]+)'", source))
    from bluezone_warehouse.ingest.events import _REASONS

    named |= {sender for _, _, sender, _ in _REASONS.values()}
    return named


def test_every_problem_the_ingestion_names_has_its_message() -> None:
    named = _problems_named_in_the_code()
    assert len(named) > 40
    assert named - set(CATALOGUE) == set()
    # The run loop's own file problems (ingest/__init__.py) are in the catalogue too.
    assert {"file_too_big", "file_unreadable"} <= set(CATALOGUE)


def test_a_message_names_the_place_then_what_is_wrong_then_what_to_write() -> None:
    assert render(
        "time_format",
        "vi",
        file="bao-cao-hai-duong.xlsx",
        sheet="Sheet1",
        row=7,
        column="D",
        header="Thời gian gửi",
        value="16 gio kem",
    ) == (
        'Tệp "bao-cao-hai-duong.xlsx", trang "Sheet1", dòng 7, cột D "Thời gian gửi": giá trị '
        '"16 gio kem" không đọc được là giờ; hãy ghi giờ dạng 16:00 hoặc 16h00, có thể kèm '
        "ngày: 04/08/2020 16:00."
    )
    assert render(
        "count_percent", "en", file="a.json", row=3, row_kind="record", header="x", value="8%"
    ) == (
        'File "a.json", record 3, column "x": the value "8%" is a percentage, not a count; '
        "write the number of people as a whole number, e.g. 70264 or 70.264, not a share."
    )


def test_vietnamese_unless_english_is_asked_for() -> None:
    for language in ("vi", "fr", "", "VI"):
        assert render("lock_file", language, file="~$a.xlsx").startswith('Tệp "~$a.xlsx": ')
    assert render("lock_file", "en", file="~$a.xlsx").startswith('File "~$a.xlsx": ')


def test_details_as_people_read_them_in_each_language() -> None:
    assert render("file_too_big", "vi", file="a.csv", size=1234567, limit=1000) == (
        'Tệp "a.csv": tệp nặng 1.234.567 byte, vượt giới hạn 1.000 byte nên không được đọc; '
        "hãy gửi tệp chỉ gồm bảng báo cáo, hoặc chia thành nhiều tệp nhỏ hơn."
    )
    assert "1,234,567 bytes, over the limit of 1,000" in render(
        "file_too_big", "en", file="a.csv", size=1234567, limit=1000
    )
    campaign = {"start": date(2020, 8, 1), "end": date(2020, 12, 31)}
    assert "(từ 01/08/2020 đến 31/12/2020)" in render(
        "report_date_outside_campaign", "vi", file="a.csv", value="08/04/2020", **campaign
    )
    assert "(2020-08-01 to 2020-12-31)" in render(
        "report_date_outside_campaign", "en", file="a.csv", value="08/04/2020", **campaign
    )
    sheets = Words(vi='"A" (trống)', en='"A" (empty)')
    assert ': "A" (trống);' in render("no_table_in_workbook", "vi", file="a.xlsx", sheets=sheets)
    assert ': "A" (empty);' in render("no_table_in_workbook", "en", file="a.xlsx", sheets=sheets)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (float("nan"), None),
        ("70.264", "70.264"),
        (70264.0, "70264"),
        (1234.5, "1234.5"),
        (True, "TRUE"),
        (date(2020, 8, 6), "06/08/2020"),
        (datetime(2020, 8, 6), "06/08/2020"),
        (datetime(2020, 8, 6, 16, 5), "06/08/2020 16:05"),
        (datetime(2020, 8, 6, 16, 5, 30), "06/08/2020 16:05:30"),
        (time(16, 0), "16:00"),
        ("dòng 1\ndòng 2", "dòng 1 dòng 2"),
        ("x" * 100, "x" * 79 + "…"),
    ],
)
def test_a_value_is_shown_as_the_sender_sees_it(value: object, expected: str | None) -> None:
    assert shown(value) == expected
