"""Unambiguous parsing of the values units type into their report templates (DESIGN §3.3).

Each parser returns the value or raises :class:`ValueRejected` with a reason a person can act
on. Nothing is guessed: a count is a whole non-negative number, so ``70.264`` and ``70,264``
(thousands separators) are both 70264, while ``1.5`` or ``8,95%`` in a count column are
rejected rather than misread.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from bluezone_warehouse.config import LOCAL_TZ
from bluezone_warehouse.names import ascii_fold


class ValueRejected(ValueError):
    """A cell that cannot be read unambiguously; the message says why (in English, for the
    data team), ``problem`` which problem it is (a key of ``ingest.messages.CATALOGUE``, for
    the sender's message)."""

    def __init__(self, reason: str, problem: str) -> None:
        super().__init__(reason)
        self.problem = problem


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
_DIGITS_AND_SEPARATORS = re.compile(r"^[0-9., ]+$")
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
        raise ValueRejected(f"expected a whole number, got the boolean {value}", "count_boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueRejected(f"a count cannot be negative: {value}", "count_negative")
        return value
    if isinstance(value, float):
        if value != value:  # NaN from a spreadsheet cell
            return None
        if not value.is_integer():
            raise ValueRejected(f"a count is a whole number, got {value}", "count_fraction")
        if value < 0:
            raise ValueRejected(f"a count cannot be negative: {value:g}", "count_negative")
        return int(value)
    text = normalise_count_text(str(value))
    if text == "":
        return None
    if text.startswith(_FORMULA_START):
        raise ValueRejected(
            f"a formula or expression, not a number: {str(value)[:40]!r}", "count_formula"
        )
    if text.startswith("-"):
        raise ValueRejected(f"a count cannot be negative: {value!r}", "count_negative")
    if _COUNT.match(text):
        return int(re.sub(r"[., ]", "", text))
    if text.endswith("%"):
        raise ValueRejected(f"a percentage where a count was expected: {value!r}", "count_percent")
    if " " in text and _DIGITS_AND_SEPARATORS.match(text):
        raise ValueRejected(f"spaces must group exactly three digits: {value!r}", "count_spaces")
    if _DECIMAL.match(text):
        raise ValueRejected(
            f"a count is a whole number; {value!r} has a decimal part "
            "(thousands separators must group exactly three digits)",
            "count_decimal",
        )
    raise ValueRejected(f"not a number: {str(value)[:40]!r}", "count_not_number")


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
        raise ValueRejected(f"not a calendar date: {text!r} ({err})", "date_impossible") from None
    raise ValueRejected(
        f"expected a date as YYYY-MM-DD or DD/MM/YYYY, got {text[:40]!r}", "date_format"
    )


# A date inside a timestamp: YYYY-MM-DD or DD/MM/YYYY (also with "-" or ".").
_DATE_IN_TS = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
# A time of day as people write it, after folding diacritics and case (DESIGN §3.3):
# 16:00, 16:00:59, 16h00, 16h, 16g00, 16 gio 00 (giờ), 16 gio 00 phut, 4:00 pm, 4 pm,
# 4:00 ch (chiều) / sa (sáng), 8h sang, 4h chieu, 8h toi.
_TIME_OF_DAY = re.compile(
    r"^(?P<h>\d{1,2})\s*"
    r"(?:(?::\s*(?P<m1>\d{2})(?:\s*:\s*(?P<s>\d{2}))?)"
    r"|(?:(?:h|g|gio)\s*(?P<m2>\d{2})?\s*(?:phut|p)?)"
    r"|(?=\s*(?:am|pm|sa|ch|sang|chieu|toi)\b))"
    r"\s*(?P<half>am|pm|sa|ch|sang|chieu|toi)?$"
)
_UTC_OFFSET = re.compile(r"(?<=\d)\s*(?:z|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))$")
_AFTERNOON = {"pm", "ch", "chieu", "toi"}
_CONNECTORS = re.compile(r"(?:^|\s)(?:ngay|luc|vao|at|on)(?=\s|$)|[,;]")


def parse_time_of_day(text: str, *, written: str | None = None) -> time:
    """A local time of day in any of the forms of DESIGN §3.3; raises ValueRejected.
    ``written`` is the whole cell, for the message, when ``text`` is part of it."""
    written = text if written is None else written
    folded = re.sub(r"\s+", " ", ascii_fold(text).lower()).strip()
    match = _TIME_OF_DAY.match(folded)
    if not match:
        raise ValueRejected(
            f"expected a local time such as 16:00, 16h00 or 4:00 PM, alone or with a date "
            f"(DD/MM/YYYY), got {written[:40]!r}",
            "time_format",
        )
    hour = int(match["h"])
    minute = int(match["m1"] or match["m2"] or 0)
    second = int(match["s"] or 0)
    if half := match["half"]:
        if not 1 <= hour <= 12:
            raise ValueRejected(
                f"not a valid time of day: {written!r} (with {half.upper()} the hour is 1 to 12)",
                "time_invalid",
            )
        hour = hour % 12 + (12 if half in _AFTERNOON else 0)
    for value, unit, top in ((hour, "hour", 23), (minute, "minute", 59), (second, "second", 59)):
        if value > top:
            raise ValueRejected(
                f"not a valid time of day: {written!r} ({unit} must be in 0..{top})",
                "time_invalid",
            )
    return time(hour, minute, second)


def parse_local_timestamp(value: object, *, default_day: date | None = None) -> datetime | None:
    """A local (Asia/Ho_Chi_Minh) moment, returned as an aware datetime: a date and a time of
    day in either order ("05/08/2020 16:00", "16h00 ngày 05/08/2020", "2020-08-05T16:00"),
    or a time of day alone, which is on ``default_day`` (the day the file arrived)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    if isinstance(value, time):
        if default_day is None:
            raise ValueRejected(f"a time of day without a date: {value}", "time_format")
        return datetime.combine(default_day, value, tzinfo=LOCAL_TZ)
    text = str(value).strip()
    if text == "":
        return None
    found = _DATE_IN_TS.search(text)
    if found:
        y, mo, d = (found[1], found[2], found[3]) if found[1] else (found[6], found[5], found[4])
        try:
            day = date(int(y), int(mo), int(d))
        except ValueError as err:
            raise ValueRejected(
                f"not a valid date and time: {text!r} ({err})", "timestamp_bad_date"
            ) from None
        rest = (text[: found.start()] + " " + text[found.end() :]).strip()
        rest = re.sub(r"^[tT](?=\d)", "", rest)  # ISO's "T" separator
        rest = _CONNECTORS.sub(" ", ascii_fold(rest).lower()).strip()
        if not rest:
            raise ValueRejected(
                f"{text[:40]!r} has a date but no time of day (write e.g. 05/08/2020 16:00)",
                "timestamp_no_time",
            )
    elif default_day is not None:
        day, rest = default_day, text
    else:
        raise ValueRejected(
            f"expected a local time as DD/MM/YYYY HH:MM or YYYY-MM-DD HH:MM, got {text[:40]!r}",
            "time_format",
        )
    offset = _UTC_OFFSET.search(rest) if found else None
    if offset:  # an explicit offset ("...T08:10:00Z", "+07:00"): an instant, not local time
        rest = rest[: offset.start()].strip()
    moment = parse_time_of_day(rest, written=text)
    if offset:
        sign, hours, minutes = offset["sign"], offset["hours"], offset["minutes"]
        zone = UTC
        if sign:
            delta = timedelta(hours=int(hours), minutes=int(minutes))
            zone = timezone(delta if sign == "+" else -delta)
        return datetime.combine(day, moment, tzinfo=zone).astimezone(LOCAL_TZ)
    return datetime.combine(day, moment, tzinfo=LOCAL_TZ)


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
    "staff_total": (
        "staff_total",
        "staff total",
        "tong so cbccvc",
        "tong so can bo",
        # the sub-header "Tổng số" under a group header "Số CBCCVC"
        "so cbccvc tong so",
        "cbccvc tong so",
    ),
    "staff_installed": (
        "staff_installed",
        "staff installed",
        "so cbccvc da cai dat",
        "so can bo da cai dat",
        "cbccvc da cai dat",
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
