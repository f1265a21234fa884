"""How well the data-quality checks find what was wrong: precision and recall per check
against a simulated campaign's ground-truth manifest of injected faults (``faults.csv``).

A flag matches a fault of the same check on the same file (for the checks raised at
ingestion: malformed_file, unknown_unit, out_of_range_date), on the same day (stale_export),
or on the same unit and day (every other check). Faults the manifest marks as implied by
another (``caused_by``) are real flags too and count as expected.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bluezone_warehouse.checks import check_ids

CHECKS = check_ids()
BY_FILE = {"malformed_file", "unknown_unit", "out_of_range_date"}


@dataclass(frozen=True)
class CheckScore:
    check_id: str
    expected: int
    flagged: int
    matched: int

    @property
    def recall(self) -> float | None:
        return self.matched / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.matched / self.flagged if self.flagged else None


def _key(check: str, unit: str | None, day: str | None, source_file: str | None) -> tuple:
    if check in BY_FILE:
        return (check, source_file or "")
    if check == "stale_export":
        return (check, day or "")
    return (check, unit or "", day or "")


def truth_keys(faults_csv: Path) -> dict[str, set[tuple]]:
    keys: dict[str, set[tuple]] = defaultdict(set)
    with faults_csv.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"] in CHECKS:
                keys[row["kind"]].add(_key(row["kind"], row["unit_code"], row["day"], row["file"]))
    return keys


def simulated_provinces(faults_csv: Path) -> list[str]:
    """The provinces the campaign simulated (from simulation.json beside the manifest)."""
    return json.loads((faults_csv.parent / "simulation.json").read_text())["provinces"]


def flag_keys(con: duckdb.DuckDBPyConnection, provinces: list[str]) -> dict[str, set[tuple]]:
    """Flags in the simulated provinces (and nation-wide ones): units of the registry in
    provinces the simulation left out are rightly flagged missing, but are no test of it."""
    keys: dict[str, set[tuple]] = defaultdict(set)
    rows = con.execute(
        "select check_id, unit_code, cast(day as varchar), source_file "
        "from marts.fct_data_quality_issues "
        "where province_code is null or list_contains(?, province_code)",
        [provinces],
    ).fetchall()
    for check, unit, day, source_file in rows:
        keys[check].add(_key(check, unit, day, source_file))
    return keys


def score(con: duckdb.DuckDBPyConnection, faults_csv: Path) -> list[CheckScore]:
    truth = truth_keys(faults_csv)
    flags = flag_keys(con, simulated_provinces(faults_csv))
    return [
        CheckScore(check, len(truth[check]), len(flags[check]), len(truth[check] & flags[check]))
        for check in CHECKS
    ]


def misses(con: duckdb.DuckDBPyConnection, faults_csv: Path, check: str) -> tuple[set, set]:
    """(faults not flagged, flags with no fault) for one check: where to look when it is off."""
    truth = truth_keys(faults_csv)[check]
    flags = flag_keys(con, simulated_provinces(faults_csv))[check]
    return truth - flags, flags - truth


def table(scores: list[CheckScore]) -> str:
    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [
        "| check | injected | flagged | matched | recall | precision |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.check_id} | {s.expected} | {s.flagged} | {s.matched} | {fmt(s.recall)} | "
        f"{fmt(s.precision)} |"
        for s in scores
    ]
    return "\n".join(lines)
