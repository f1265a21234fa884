"""The campaign simulator: rendering export files."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from bluezone_devtools.simulate.export_plan import Delivery
from bluezone_devtools.simulate.export_series import ExportSeries
from bluezone_devtools.simulate.rng import _stream
from bluezone_devtools.simulate.units import Province, _read_seed
from bluezone_warehouse.config import LOCAL_TZ, SEEDS_DIR


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=LOCAL_TZ).timestamp()


EXPORT_COLUMNS = ("snapshot_date", "level", "unit_code", "installs", "installs_with_phone")


# Commune-level export variant: the share of a district's attributed installs that the
# export also attributes to a commune (the rest has no commune), and how unequal communes are.
COMMUNE_ATTRIBUTED = 0.97
COMMUNE_WEIGHT_SHAPE = 2.0


@dataclass(frozen=True)
class CommuneSplit:
    """How a district's installs split over its communes (fixed for the whole campaign)."""

    codes: tuple[str, ...]
    weights: np.ndarray  # sums to COMMUNE_ATTRIBUTED

    def rows(self, day: date, installs: int, with_phone: int | None) -> list[tuple]:
        # floor() of a fixed share of a cumulative figure: non-decreasing whenever the
        # district's figure is, and the communes never add up to more than the district.
        counts = np.floor(self.weights * installs).astype(np.int64)
        phones = (
            np.floor(self.weights * with_phone).astype(np.int64)
            if with_phone is not None
            else [None] * len(self.codes)
        )
        return [
            (day.isoformat(), "commune", code, int(n), None if p is None else int(p))
            for code, n, p in zip(self.codes, counts, phones, strict=True)
        ]


def commune_splits(
    provinces: Sequence[Province], seed: int, seeds_dir: Path = SEEDS_DIR
) -> dict[str, CommuneSplit]:
    """Each simulated district's communes (from the seeds) and their fixed shares."""
    seed_rows = _read_seed("ref_communes.csv", seeds_dir)
    by_district = seed_rows.groupby("district_code")["commune_code"].agg(list).to_dict()
    splits = {}
    for province in provinces:
        for district in province.areas:
            codes = tuple(sorted(by_district.get(district.code, ())))
            if not codes:
                continue
            raw = _stream(seed, "commune", district.code).gamma(
                COMMUNE_WEIGHT_SHAPE, size=len(codes)
            )
            splits[district.code] = CommuneSplit(codes, raw / raw.sum() * COMMUNE_ATTRIBUTED)
    return splits


def export_rows(
    series: Sequence[ExportSeries],
    masks: Sequence[np.ndarray],
    t: int,
    day: date,
    communes: dict[str, CommuneSplit] | None = None,
) -> list[tuple[str, str, str, int, int | None]]:
    """One day's export rows: every province row, then every area row (level ``district`` in
    2020, ``commune`` on the 2025 units), by code, then (the 2020 commune-level variant)
    every commune row; rows the export leaves out are not there."""
    provinces, districts, commune_rows = [], [], []
    for s, mask in zip(series, masks, strict=True):
        phone = None if mask[0, t] else int(s.total_with_phone[t])
        if not s.absent[0, t]:
            row = (day.isoformat(), "province", s.province.code, int(s.total[t]), phone)
            provinces.append(row)
        level = s.province.area_level
        for d, district in enumerate(s.province.areas):
            if s.absent[d + 1, t]:
                continue
            phone = None if mask[d + 1, t] else int(s.with_phone[d, t])
            installs = int(s.installs[d, t])
            districts.append((day.isoformat(), level, district.code, installs, phone))
            if communes and district.code in communes:
                commune_rows.extend(communes[district.code].rows(day, installs, phone))
    return provinces + districts + commune_rows


def render_export(rows: Sequence[tuple], delivery: Delivery) -> bytes:
    if delivery.fmt == "parquet":
        return _export_parquet(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    data = (("\ufeff" if delivery.bom else "") + buffer.getvalue()).encode("utf-8")
    if delivery.fmt == "csv.gz":
        return gzip.compress(data, mtime=int(_epoch(delivery.arrival)))
    return data


def _export_parquet(rows: Sequence[tuple]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in EXPORT_COLUMNS]
    table = pa.table(
        {
            "snapshot_date": pa.array([date.fromisoformat(v) for v in columns[0]], pa.date32()),
            "level": pa.array(columns[1], pa.string()),
            "unit_code": pa.array(columns[2], pa.string()),
            "installs": pa.array(columns[3], pa.int64()),
            "installs_with_phone": pa.array(columns[4], pa.int64()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()
