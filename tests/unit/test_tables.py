"""Table specs: the DDL DuckDB runs and the insert of a batch come from one spec."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pytest

from bluezone_warehouse import tables


@pytest.mark.parametrize("table", [*tables.RAW_TABLES, *tables.OPS_TABLES])
def test_the_ddl_describes_the_spec(table: tables.Table) -> None:
    con = duckdb.connect()
    con.execute(table.ddl())
    described = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [table.schema, table.name],
    ).fetchall()
    duck_types = {
        "VARCHAR": "varchar",
        "BIGINT": "bigint",
        "INTEGER": "integer",
        "DOUBLE": "double",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
    }
    assert [(name, duck_types[kind], nullable == "YES") for name, kind, nullable in described] == [
        (column.name, column.type, column.nullable) for column in table.columns
    ]


@pytest.mark.parametrize("table", [*tables.RAW_TABLES, *tables.OPS_TABLES])
def test_every_column_of_every_table_takes_a_batch(table: tables.Table) -> None:
    """A value of its type in every column, and nulls where a column may be null."""
    sample = {
        "varchar": "Hà Giang",
        "bigint": 3_000_000_000,
        "integer": -7,
        "double": 0.25,
        "boolean": True,
        "date": date(2020, 8, 5),
        "timestamptz": datetime(2020, 8, 5, 9, 0, tzinfo=UTC),
    }
    con = duckdb.connect()
    con.execute(table.ddl())
    full = {column.name: sample[column.type] for column in table.columns}
    sparse = {column.name: sample[column.type] for column in table.columns if not column.nullable}
    for column in table.columns:  # a key is another value in the second row
        if column.primary_key:
            sparse[column.name] = "another key"
    table.insert(con, [full, sparse])
    rows = con.execute(f"select * from {table.qualified}").fetchall()
    assert rows == [
        tuple(full.values()),
        tuple(sparse.get(column.name) for column in table.columns),
    ]


def test_a_batch_loads_by_name_in_order_without_pandas() -> None:
    con = duckdb.connect()
    con.execute(tables.REJECTED_ROWS.ddl())
    moment = datetime(2020, 8, 5, 9, 0, tzinfo=UTC)
    row = {
        "detected_at": moment,
        "file_id": "f1",
        "source": "reports",
        "source_file": "reports/a.csv",
        "row_number": 3,
        "column_name": "installs_reported",
        "raw_value": "7O.264",
        "check_id": "malformed_file",
        "reason": "not a number",
        "unit_code": None,
        "province_code": "30",
        "day": date(2020, 8, 5),
        "not_a_column": "left out",
    }
    hanoi = timezone(timedelta(hours=7))
    rows = [
        row,
        # a time without a zone is UTC; one with a zone is the same instant in UTC
        {**row, "row_number": 4, "detected_at": datetime(2020, 8, 5, 9, 0)},
        {**row, "row_number": 5, "detected_at": datetime(2020, 8, 5, 16, 0, tzinfo=hanoi)},
        {**row, "row_number": 6, "raw_value": None, "day": None},
    ]
    tables.REJECTED_ROWS.insert(con, rows)
    assert con.execute(
        "select row_number, raw_value, day, detected_at from raw.rejected_rows order by row_number"
    ).fetchall() == [
        (3, "7O.264", date(2020, 8, 5), moment),
        (4, "7O.264", date(2020, 8, 5), moment),
        (5, "7O.264", date(2020, 8, 5), moment),
        (6, None, None, moment),
    ]
    tables.REJECTED_ROWS.insert(con, [])
    assert con.execute("select count(*) from raw.rejected_rows").fetchone() == (4,)


def test_a_file_of_rows_loads_by_name_with_its_lineage(tmp_path) -> None:
    """A Parquet file of rows (columns in another order, one column missing, one the table
    lacks) goes in by name, cast to the table's types, every row with the same lineage."""
    con = duckdb.connect()
    con.execute(tables.REJECTED_ROWS.ddl())
    path = tmp_path / "rows.parquet"
    con.execute(
        f"copy (select * from (values "
        f"('bad', 'reports', 3, date '2020-08-05', 'x', 'left out'), "
        f"('bad', 'reports', 4, null, null, 'left out')"
        f") t(reason, check_id, row_number, day, raw_value, not_a_column)) to '{path}'"
    )
    tables.REJECTED_ROWS.insert_file(
        con,
        path,
        {
            "file_id": "f1",
            "source": "installs",
            "source_file": "installs/installs_20200805.csv",
            "detected_at": datetime(2020, 8, 5, 9, 0),  # no zone: UTC
        },
    )
    assert con.execute(
        "select file_id, source, source_file, row_number, raw_value, check_id, reason, day, "
        "detected_at, unit_code from raw.rejected_rows order by row_number"
    ).fetchall() == [
        (
            "f1",
            "installs",
            "installs/installs_20200805.csv",
            3,
            "x",
            "reports",
            "bad",
            date(2020, 8, 5),
            datetime(2020, 8, 5, 9, 0, tzinfo=UTC),
            None,
        ),
        (
            "f1",
            "installs",
            "installs/installs_20200805.csv",
            4,
            None,
            "reports",
            "bad",
            None,
            datetime(2020, 8, 5, 9, 0, tzinfo=UTC),
            None,
        ),
    ]


def test_inserting_imports_no_pandas() -> None:
    code = (
        "import sys, duckdb\n"
        "from bluezone_warehouse import tables\n"
        "con = duckdb.connect()\n"
        "con.execute(tables.REJECTED_ROWS.ddl())\n"
        "row = dict(file_id='f', source='reports', source_file='r.csv', check_id='c',\n"
        "           reason='r', detected_at=__import__('datetime').datetime(2020, 8, 5))\n"
        "tables.REJECTED_ROWS.insert(con, [row])\n"
        "print('pandas' in sys.modules)\n"
    )
    import subprocess

    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "False"


def test_a_key_is_never_null_and_types_are_known() -> None:
    assert tables.col("k", "varchar", key=True).ddl() == "k varchar primary key"
    assert tables.col("n", "bigint", null=False).ddl() == "n bigint not null"
    with pytest.raises(ValueError, match="unknown type"):
        tables.col("x", "text")
