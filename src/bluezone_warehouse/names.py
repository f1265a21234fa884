"""Small helpers for Vietnamese text: folding diacritics away and making file-name slugs.

Shared by the simulator (file names, name variants) and ingestion (matching unit names
written with or without diacritics). Kept dependency-free and deliberately small.
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
