"""The campaign simulator: report templates: how each unit fills in its spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bluezone_devtools.simulate.rng import _pick
from bluezone_devtools.simulate.units import COMMITTEE

LABELS = {
    "vi": {
        "stt": "STT",
        "report_date": "Ngày báo cáo",
        "unit_code": "Mã đơn vị",
        "unit_name": ("Tên đơn vị", "Đơn vị"),
        "submitted_at": "Thời gian gửi",
        "installs_reported": ("Số lượng cài đặt", "Số người đã cài đặt"),
        "staff_total": "Tổng số CBCCVC",
        "staff_installed": "Số CBCCVC đã cài đặt",
        "households_visited": "Số hộ đã tuyên truyền",
        "note": "Ghi chú",
        "rate": "Tỷ lệ (%)",
    },
    "en": {
        "stt": "no",
        "report_date": "report_date",
        "unit_code": "unit_code",
        "unit_name": ("unit_name",),
        "submitted_at": "submitted_at",
        "installs_reported": ("installs_reported",),
        "staff_total": "staff_total",
        "staff_installed": "staff_installed",
        "households_visited": "households_visited",
        "note": "note",
        "rate": "rate",
    },
}
COUNT_FIELDS = ("installs_reported", "staff_total", "staff_installed", "households_visited")


@dataclass(frozen=True)
class Template:
    """A unit's spreadsheet habits: language, columns, date/time/number styles, layout."""

    kind: str
    lang: str
    fmt: str
    date_style: str
    time_style: str | None
    number_style: str
    header_case: str
    header_spacing: str
    label_variant: int
    column_order: int
    households: bool
    note: bool
    rate: bool
    gov: bool
    numbers_as_text: bool
    date_cells: bool
    json_shape: str
    json_indent: int | None
    bom: bool
    sheet_title: str


def _number_style(rng: np.random.Generator, lang: str) -> str:
    if lang == "vi":
        return _pick(rng, ("vi", "plain", "en"), (0.55, 0.35, 0.10))
    return _pick(rng, ("en", "plain"), (0.5, 0.5))


def _template(rng: np.random.Generator, kind: str) -> Template:
    lang = _pick(rng, ("vi", "en"), (0.7, 0.3))
    if kind == COMMITTEE:
        fmt = _pick(rng, ("csv", "xlsx", "json"), (0.65, 0.20, 0.15))
        time_style = _pick(rng, ("dmy_hm", "iso_hms", None), (0.45, 0.35, 0.20))
    else:
        fmt = _pick(rng, ("xlsx", "csv"), (0.8, 0.2))
        time_style = _pick(rng, ("dmy_hm", "iso_hms"), (0.55, 0.45))
    header_case = _pick(rng, ("as_is", "upper", "lower_or_title"), (0.7, 0.15, 0.15))
    gov = lang == "vi" and fmt == "xlsx" and rng.random() < 0.28
    return Template(
        kind=kind,
        lang=lang,
        fmt=fmt,
        date_style=_pick(rng, ("iso", "dmy"), (0.5, 0.5)),
        time_style=time_style,
        number_style=_number_style(rng, lang),
        header_case=header_case,
        header_spacing=_pick(rng, ("none", "trailing", "double"), (0.8, 0.1, 0.1)),
        label_variant=int(rng.integers(0, 2)),
        column_order=int(rng.integers(0, 2)),
        households=kind == COMMITTEE and rng.random() < 0.3,
        note=rng.random() < 0.5,
        rate=kind == COMMITTEE and lang == "vi" and rng.random() < 0.15,
        gov=gov,
        numbers_as_text=gov and rng.random() < 0.5,
        date_cells=fmt == "xlsx" and rng.random() < 0.4,
        json_shape=_pick(rng, ("list", "wrapped"), (0.6, 0.4)),
        json_indent=_pick(rng, (None, 2), (0.5, 0.5)),
        bom=rng.random() < 0.3,
        sheet_title=_pick(rng, ("Sheet1", "Báo cáo", "BC"), (0.5, 0.3, 0.2)),
    )


def _label(template: Template, name: str) -> str:
    label = LABELS[template.lang][name]
    if isinstance(label, tuple):
        label = label[template.label_variant % len(label)]
    if template.header_case == "upper":
        label = label.upper()
    elif template.header_case == "lower_or_title":
        label = label.lower() if template.lang == "vi" else label.title()
    if template.header_spacing == "trailing":
        label += " "
    elif template.header_spacing == "double":
        label = label.replace("_", " ") if template.lang == "en" else label.replace(" ", "  ", 1)
    return label


def _columns(template: Template) -> list[str]:
    """The logical columns of a template, in its order."""
    timed = ["submitted_at"] if template.time_style else []
    if template.kind == COMMITTEE:
        figures = ["installs_reported"]
        figures += ["households_visited"] if template.households else []
        figures += ["rate"] if template.rate else []
    else:
        figures = ["staff_total", "staff_installed", "installs_reported"]
    identity = ["unit_code", "unit_name"]
    if template.column_order == 0:
        columns = ["report_date", *identity, *timed, *figures]
    else:
        columns = [*identity, "report_date", *figures, *timed]
    columns += ["note"] if template.note else []
    return (["stt"] if template.gov else []) + columns
