"""Table specs: the DDL DuckDB runs and the Arrow schema batches use come from one spec."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa
import pytest

from bluezone_warehouse import tables


@pytest.mark.parametrize("table", [*tables.RAW_TABLES, *tables.OPS_TABLES])
def test_ddl_and_arrow_schema_describe_the_same_columns(table: tables.Table) -> None:
    con = duckdb.connect()
    con.execute(table.ddl())
    described = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [table.schema, table.name],
    ).fetchall()
    schema = table.arrow_schema()
    assert [name for name, _, _ in described] == schema.names == table.column_names
    duck_types = {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    }
    for (name, data_type, nullable), field in zip(described, schema, strict=True):
        assert duck_types[data_type] == field.type, name
        assert (nullable == "YES") == field.nullable, name


def test_a_batch_in_the_arrow_schema_loads_by_name() -> None:
    con = duckdb.connect()
    con.execute(tables.REJECTED_ROWS.ddl())
    moment = datetime(2020, 8, 5, 9, 0, tzinfo=UTC)
    batch = pa.Table.from_pylist(
        [
            {
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
                "detected_at": moment,
            }
        ],
        schema=tables.REJECTED_ROWS.arrow_schema(),
    )
    con.register("batch", batch)
    con.execute("insert into raw.rejected_rows by name select * from batch")
    assert con.execute("select raw_value, day, detected_at from raw.rejected_rows").fetchall() == [
        ("7O.264", date(2020, 8, 5), moment)
    ]


def test_a_key_is_never_null_and_types_are_known() -> None:
    assert tables.col("k", "varchar", key=True).ddl() == "k varchar primary key"
    assert tables.col("n", "bigint", null=False).ddl() == "n bigint not null"
    with pytest.raises(ValueError, match="unknown type"):
        tables.col("x", "text")
