"""Small text helpers, each the one home of its rule: folding Vietnamese diacritics away,
file-name slugs, names safe as a file or folder, and percentages as people read them.

Shared by ingestion (matching unit names written with or without diacritics), the alerts,
the report, the summary and the test bench. Kept dependency-free and deliberately small.
"""

from __future__ import annotations

import re
import unicodedata

_D_STROKE = str.maketrans({"đ": "d", "Đ": "D"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Strip Vietnamese diacritics: ``"Thành phố Hải Dương"`` → ``"Thanh pho Hai Duong"``.

    Decomposes to NFD and drops the combining marks, then maps ``đ``/``Đ`` (a letter of
    its own, not a base letter plus a mark) to ``d``/``D``. Case, spacing and punctuation
    are kept; characters outside Latin script are left as they are.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_D_STROKE))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def slug(text: str) -> str:
    """A lowercase ASCII slug for file names: ``"Thị xã Kỳ Anh"`` → ``"thi-xa-ky-anh"``."""
    return _NOT_SLUG.sub("-", ascii_fold(text).lower()).strip("-")


def safe_file_name(name: str, *, limit: int = 120) -> str:
    """A name usable as one file or folder name that cannot escape its folder: letters,
    digits, ``.``, ``_`` and ``-`` kept, anything else (``/``, ``:``, ``+``...) as ``_``, no
    leading dots. Airflow run ids and landed file names go through it."""
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return cleaned.lstrip(".")[:limit] or "unnamed"


# Vietnamese writes 70.264 and 8,95: the thousands and decimal separators swapped.
_VI_SEPARATORS = str.maketrans({",": ".", ".": ","})


def number(value: int | None, language: str = "vi", *, missing: str = "") -> str:
    """A count as people read it: ``70.264`` in Vietnamese, ``70,264`` in English;
    ``missing`` when there is no value."""
    if value is None:
        return missing
    text = f"{value:,}"
    return text.translate(_VI_SEPARATORS) if language == "vi" else text


def percent(
    value: float | None, language: str = "en", *, digits: int = 1, missing: str = "–"
) -> str:
    """A share (0.0895) as people read it: ``8.9 %`` in English, ``8,9 %`` in Vietnamese
    (decimal comma; ``digits`` after it); ``missing`` when there is no value."""
    if value is None:
        return missing
    text = f"{100 * value:,.{digits}f} %"
    return text.translate(_VI_SEPARATORS) if language == "vi" else text
