"""Unambiguous parsing of the values units type into their report templates (DESIGN §3.3).

Each parser returns the value or raises :class:`ValueRejected` with a reason a person can act
on. Nothing is guessed: a count is a whole non-negative number, so ``70.264`` and ``70,264``
(thousands separators) are both 70264, while ``1.5`` or ``8,95%`` in a count column are
rejected rather than misread.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import ascii_fold


class ValueRejected(ValueError):
    """A cell that cannot be read unambiguously; the message says why."""


# Characters that people and spreadsheets put between groups of digits, read as a space.
GROUP_SPACES = "\u00a0\u202f\u2009'"
_SPACES = re.compile(f"[{GROUP_SPACES}]")
# The one grammar of a count, for reports (here) and exports (in SQL, ingest/exports.py), in
# RE2 syntax so DuckDB runs it too: plain digits, or groups of three after a first group that
# does not start with 0, with one separator throughout ("70.264", "70,264", "70 264").
# "0.264" or "0,895" can only be decimals.
COUNT_PATTERN = (
    r"[0-9]+"
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+"
    r"|[1-9][0-9]{0,2}(?:,[0-9]{3})+"
    r"|[1-9][0-9]{0,2}(?: [0-9]{3})+"
)
_COUNT = re.compile(f"^(?:{COUNT_PATTERN})$")
_DECIMAL = re.compile(r"^\d+(?:[.,]\d+)?$")
_FORMULA_START = ("=", "+", "@")


def normalise_count_text(text: str) -> str:
    """Group spaces of any kind as one plain space, no leading or trailing space."""
    return re.sub(r" +", " ", _SPACES.sub(" ", text)).strip()


def count_text_sql(expression: str) -> str:
    """SQL (DuckDB) doing what :func:`normalise_count_text` does to a text ``expression``."""
    spaces = GROUP_SPACES.replace("'", "''")
    spaced = f"regexp_replace({expression}, '[{spaces}]', ' ', 'g')"
    return f"trim(regexp_replace({spaced}, ' +', ' ', 'g'))"


def parse_count(value: object) -> int | None:
    """A whole, non-negative count; ``None`` for an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueRejected(f"expected a whole number, got the boolean {value}")
    if isinstance(value, int):
        if value < 0:
            raise ValueRejected(f"a count cannot be negative: {value}")
        return value
    if isinstance(value, float):
        if value != value:  # NaN from a spreadsheet cell
            return None
        if not value.is_integer():
            raise ValueRejected(f"a count is a whole number, got {value}")
        if value < 0:
            raise ValueRejected(f"a count cannot be negative: {value:g}")
        return int(value)
    text = normalise_count_text(str(value))
    if text == "":
        return None
    if text.startswith(_FORMULA_START):
        raise ValueRejected(f"a formula or expression, not a number: {str(value)[:40]!r}")
    if text.startswith("-"):
        raise ValueRejected(f"a count cannot be negative: {value!r}")
    if _COUNT.match(text):
        return int(re.sub(r"[., ]", "", text))
    if text.endswith("%"):
        raise ValueRejected(f"a percentage where a count was expected: {value!r}")
    if " " in text:
        raise ValueRejected(f"spaces must group exactly three digits: {value!r}")
    if _DECIMAL.match(text):
        raise ValueRejected(
            f"a count is a whole number; {value!r} has a decimal part "
            "(thousands separators must group exactly three digits)"
        )
    raise ValueRejected(f"not a number: {str(value)[:40]!r}")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date(value: object) -> date | None:
    """A calendar day written ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (or a spreadsheet date)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text == "":
        return None
    match = _ISO_DATE.match(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _DMY_DATE.match(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError as err:
        raise ValueRejected(f"not a calendar date: {text!r} ({err})") from None
    raise ValueRejected(f"expected a date as YYYY-MM-DD or DD/MM/YYYY, got {text[:40]!r}")


_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_ISO_TS = re.compile(rf"^(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})[ T]{_TIME}$")
_DMY_TS = re.compile(rf"^(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})[ ,]+{_TIME}$")
_TIME_DMY = re.compile(rf"^{_TIME}[ ,]+(\d{{1,2}})[/.-](\d{{1,2}})[/.-](\d{{4}})$")


def parse_local_timestamp(value: object) -> datetime | None:
    """A local (Asia/Ho_Chi_Minh) date and time of day, returned as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    text = str(value).strip()
    if text == "":
        return None
    try:
        if match := _ISO_TS.match(text):
            y, mo, d, h, mi, s = match.groups()
        elif match := _DMY_TS.match(text):
            d, mo, y, h, mi, s = match.groups()
        elif match := _TIME_DMY.match(text):
            h, mi, s, d, mo, y = match.groups()
        else:
            raise ValueRejected(
                f"expected a local time as DD/MM/YYYY HH:MM or YYYY-MM-DD HH:MM, got {text[:40]!r}"
            )
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=LOCAL_TZ)
    except ValueError as err:
        raise ValueRejected(f"not a valid date and time: {text!r} ({err})") from None


def text_cell(value: object) -> str | None:
    """A free-text cell, kept verbatim (formula-looking text stays text)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    return text or None


# Canonical report columns and every header spelling units use (compared after folding).
REPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "report_date": ("report_date", "report date", "ngay bao cao", "ngay", "date"),
    "unit_code": ("unit_code", "unit code", "ma don vi", "ma dv", "code"),
    "unit_name": ("unit_name", "unit name", "ten don vi", "don vi", "unit", "ten"),
    "submitted_at": (
        "submitted_at",
        "submitted at",
        "thoi gian gui",
        "thoi diem gui",
        "gio gui",
        "sent at",
    ),
    "installs_reported": (
        "installs_reported",
        "installs reported",
        "installs",
        "so luong cai dat",
        "so nguoi da cai dat",
        "so luot cai dat",
    ),
    "staff_total": ("staff_total", "staff total", "tong so cbccvc", "tong so can bo"),
    "staff_installed": (
        "staff_installed",
        "staff installed",
        "so cbccvc da cai dat",
        "so can bo da cai dat",
    ),
    "households_visited": (
        "households_visited",
        "households visited",
        "so ho da tuyen truyen",
    ),
    "note": ("note", "notes", "ghi chu"),
}
# The header each column has in the Vietnamese template, for messages people act on.
VIETNAMESE_HEADERS = {
    "report_date": "Ngày báo cáo",
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "submitted_at": "Thời gian gửi",
    "installs_reported": "Số lượng cài đặt",
    "staff_total": "Tổng số CBCCVC",
    "staff_installed": "Số CBCCVC đã cài đặt",
    "households_visited": "Số hộ đã tuyên truyền",
    "note": "Ghi chú",
}
IGNORED_HEADERS = {"stt", "tt", "no", "#", "so thu tu"}


def normalise_header(text: object) -> str:
    """Fold a header for matching: no diacritics, lower case, single spaces."""
    folded = ascii_fold(str(text or "")).lower()
    folded = re.sub(r"[_\s\u00a0]+", " ", folded)
    folded = re.sub(r"[^a-z0-9# ]", "", folded)
    return folded.strip()


_HEADER_LOOKUP = {
    normalise_header(alias): column
    for column, aliases in REPORT_HEADERS.items()
    for alias in aliases
}


def canonical_column(header: object) -> str | None:
    """The canonical report column a header names, or ``None``."""
    return _HEADER_LOOKUP.get(normalise_header(header))
