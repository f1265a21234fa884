"""An install export's rejected rows: every row carries its own place and message, also when
many rows are rejected for the same thing (their message is written once per kind)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bluezone_warehouse.config import SEEDS_DIR
from bluezone_warehouse.ingest.exports import ExportChecker
from bluezone_warehouse.units import unit_set
from tests.conftest import rows_of

DAY = date(2020, 8, 4)
NAME = "installs_20200804.csv"


def _duplicate(row: int, code: str) -> str:
    return (
        f'File "{NAME}", row {row}, column "Unit_Code": province {code} already has a row '
        "earlier in the file; write one row per unit; the first one was kept and this one "
        "left out."
    )


def _not_a_number(row: int) -> str:
    return (
        f'File "{NAME}", row {row}, column "installs": the value "n/a" is not a whole '
        "non-negative number; write a whole non-negative number, e.g. 120000."
    )


def _no_level(row: int) -> str:
    return (
        f'File "{NAME}", row {row}, column "level": the level is empty; write province, '
        "district or commune."
    )


@pytest.fixture
def checker():
    checker = ExportChecker(SEEDS_DIR, unit_set("2020"))
    yield checker
    checker.close()
    assert not checker.scratch.exists()  # the rejected rows' file goes with the checker


def test_rows_rejected_alike_each_name_their_own_row(tmp_path: Path, checker) -> None:
    path = tmp_path / NAME
    path.write_text(
        "snapshot_date,level,Unit_Code,installs,installs_with_phone\n"
        "2020-08-04,province,30,120000,\n"  # row 2
        "2020-08-04,province,30,120000,\n"  # 3: a duplicate
        "2020-08-04,province,30,1,\n"  # 4: the same unit again
        "2020-08-04,district,288,n/a,\n"  # 5
        "2020-08-04,district,290,n/a,\n"  # 6: the same value, another unit
        "2020-08-04,,01,5,\n"  # 7
        "2020-08-04,,01,5,\n"  # 8: the same again
        "2020-08-04,province,01,5,\n"  # 9
        "2020-08-04,province,30,7,\n"  # 10: the same unit a third time
        "2020-08-04,district,288,12,\n"  # 11: the first good row of 288
        "2020-08-04,province,1,9,\n",  # 12: 01, padded, again
        encoding="utf-8",
    )
    checked = checker.check(path, DAY, file_name=NAME, language="en")
    assert [(row["row_number"], row["unit_code"]) for row in checked.rows] == [
        (2, "30"),
        (9, "01"),
        (11, "288"),
    ]
    assert (checked.good, checked.bad) == (3, 8)
    assert checked.first_reason == (
        "duplicate row for province 30 in this file (the first one was kept)"
    )
    found = [
        (
            row["row_number"],
            row["column_name"],
            row["header"],
            row["raw_value"],
            row["check_id"],
            row["unit_code"],
            row["province_code"],
            row["day"],
            row["message"],
        )
        for row in rows_of(checked.rejected)
    ]
    dup, bad, empty = "unit_code", "installs", "level"
    assert found == [
        (3, dup, "Unit_Code", "30", "malformed_file", "30", "30", DAY, _duplicate(3, "30")),
        (4, dup, "Unit_Code", "30", "malformed_file", "30", "30", DAY, _duplicate(4, "30")),
        (5, bad, "installs", "n/a", "malformed_file", "288", "30", DAY, _not_a_number(5)),
        (6, bad, "installs", "n/a", "malformed_file", "290", "30", DAY, _not_a_number(6)),
        (7, empty, "level", None, "malformed_file", None, None, DAY, _no_level(7)),
        (8, empty, "level", None, "malformed_file", None, None, DAY, _no_level(8)),
        (10, dup, "Unit_Code", "30", "malformed_file", "30", "30", DAY, _duplicate(10, "30")),
        (12, dup, "Unit_Code", "1", "malformed_file", "01", "01", DAY, _duplicate(12, "01")),
    ]


def test_each_check_writes_its_own_file(tmp_path: Path, checker) -> None:
    """The next file's check replaces the rejected rows of the one before."""
    first, second = tmp_path / "installs_20200804.csv", tmp_path / "installs_20200804_b.csv"
    first.write_text(
        "snapshot_date,level,unit_code,installs\n2020-08-04,province,30,1\n"
        "2020-08-04,province,30,2\n",
        encoding="utf-8",
    )
    second.write_text(
        "snapshot_date,level,unit_code,installs\n2020-08-04,province,01,x\n"
        "2020-08-04,province,30,2\n",
        encoding="utf-8",
    )
    assert [
        r["row_number"]
        for r in rows_of(checker.check(first, DAY, file_name=first.name, language="en").rejected)
    ] == [3]
    again = checker.check(second, DAY, file_name=second.name, language="en")
    assert [(r["row_number"], r["raw_value"]) for r in rows_of(again.rejected)] == [(2, "x")]
    clean = tmp_path / "installs_20200804_c.csv"
    clean.write_text("snapshot_date,level,unit_code,installs\n2020-08-04,province,30,1\n")
    assert checker.check(clean, DAY, file_name=clean.name, language="en").rejected is None
