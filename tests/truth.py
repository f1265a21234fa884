"""What the marts must say, computed from the simulator's ground truth alone (never from the
warehouse's models): shared by the end-to-end tests of both unit sets."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def exported_figures(truth_dir: Path) -> dict[tuple[str, str, date], dict]:
    """Each exported unit's installs, installs with a phone, new installs and whether the
    day is estimated, by (level, code, day), from the final exports: a day without an export
    between two with one is interpolated linearly (rounded half up) and its increment spread
    evenly over the gap (DESIGN §4)."""
    series: dict[tuple[str, str], dict[date, int]] = defaultdict(dict)
    phones: dict[tuple[str, str, date], int | None] = {}
    for row in read_csv(truth_dir / "truth_exported.csv"):
        day = date.fromisoformat(row["snapshot_date"])
        series[(row["level"], row["unit_code"])][day] = int(row["installs"])
        phones[(row["level"], row["unit_code"], day)] = (
            int(row["installs_with_phone"]) if row["installs_with_phone"] else None
        )
    all_days = sorted({day for values in series.values() for day in values})
    calendar = [
        all_days[0] + timedelta(days=i) for i in range((all_days[-1] - all_days[0]).days + 1)
    ]
    expected = {}
    for (level, code), values in series.items():
        known = sorted(values)
        for day in calendar:
            previous = max((k for k in known if k < day), default=None)
            following = min((k for k in known if k >= day), default=None)
            if day in values:
                installs = values[day]
            elif previous and following:
                share = (day - previous).days / (following - previous).days
                installs = math.floor(
                    values[previous] + (values[following] - values[previous]) * share + 0.5
                )
            else:
                continue
            new = None
            if previous and following:
                new = (values[following] - values[previous]) / (following - previous).days
            expected[(level, code, day)] = {
                "installs": installs,
                "new_installs": new,
                "is_estimated": day not in values,
                "installs_with_phone": phones.get((level, code, day)),
            }
    return expected


def add_sums(
    expected: dict[tuple[str, str, date], dict], parents: dict[str, list[tuple[str, str]]]
) -> None:
    """Add to ``expected`` each province's figures summed into its parents (``parents``:
    province code -> [(level, code)], e.g. its region and the nation); a sum is unknown
    (None) where one of its parts is."""
    for key in [k for k in expected if k[0] == "province"]:
        _, code, day = key
        for level, parent in parents[code]:
            total = expected.setdefault(
                (level, parent, day),
                {
                    "installs": 0,
                    "new_installs": 0.0,
                    "is_estimated": False,
                    "installs_with_phone": 0,
                },
            )
            total["installs"] += expected[key]["installs"]
            total["is_estimated"] |= expected[key]["is_estimated"]
            for column in ("new_installs", "installs_with_phone"):
                if expected[key][column] is None or total[column] is None:
                    total[column] = None
                else:
                    total[column] += expected[key][column]
