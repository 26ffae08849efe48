"""Glue Data Catalog registration against moto's Glue: tables, types, partitions, updates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from enterprise_data_engineering.aws.glue import glue_type, register_sink, sink_location
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.errors import ConfigError

pytestmark = pytest.mark.aws


def col(name: str, sql_type: str) -> Column:
    return Column(name, exp.DataType.build(sql_type, dialect="duckdb"))


@pytest.mark.parametrize(
    ("duckdb_type", "glue"),
    [
        ("BIGINT", "bigint"),
        ("INTEGER", "int"),
        ("SMALLINT", "smallint"),
        ("UINTEGER", "bigint"),
        ("HUGEINT", "decimal(38,0)"),
        ("DECIMAL(12,2)", "decimal(12,2)"),
        ("DOUBLE", "double"),
        ("REAL", "float"),
        ("VARCHAR", "string"),
        ("BOOLEAN", "boolean"),
        ("DATE", "date"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp"),
        ("TIMESTAMP_NS", "timestamp"),
        ("BLOB", "binary"),
        ("TIME", "string"),
        ("UUID", "string"),
        ("INTEGER[]", "array<int>"),
        ("MAP(VARCHAR, DOUBLE)", "map<string,double>"),
        ("STRUCT(a INTEGER, b VARCHAR[])", "struct<a:int,b:array<string>>"),
    ],
)
def test_glue_types(duckdb_type: str, glue: str) -> None:
    assert glue_type(exp.DataType.build(duckdb_type, dialect="duckdb")) == glue


def test_sink_locations(tmp_path: Path) -> None:
    assert sink_location("s3://lake/curated/x") == "s3://lake/curated/x/"
    assert sink_location(str(tmp_path / "x")) == (tmp_path / "x").as_uri() + "/"


def test_register_creates_then_updates_table_and_partitions(
    glue: Any, s3: Any, bucket: str
) -> None:
    database = f"db_{bucket.replace('-', '_')}"
    path = f"s3://{bucket}/curated/sales"
    for key in (
        "region=eu/day=1/p.parquet",
        "region=us/day=1/p.parquet",
        "region=us/day=2/p.parquet",
    ):
        s3.put_object(Bucket=bucket, Key=f"curated/sales/{key}", Body=b"x")
    columns = [
        col("id", "BIGINT"),
        col("amount", "DECIMAL(12,2)"),
        col("region", "VARCHAR"),
        col("day", "INTEGER"),
    ]
    register_sink(
        database=database,
        table="sales",
        path=path,
        format="parquet",
        columns=columns,
        partition_by=["region", "day"],
    )
    table = glue.get_table(DatabaseName=database, Name="sales")["Table"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    assert table["PartitionKeys"] == [
        {"Name": "region", "Type": "string"},
        {"Name": "day", "Type": "int"},
    ]
    parts = glue.get_partitions(DatabaseName=database, TableName="sales")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in parts) == [("eu", "1"), ("us", "1"), ("us", "2")]
    assert {p["StorageDescriptor"]["Location"] for p in parts} >= {f"{path}/region=us/day=2/"}

    # An overwrite that drops a partition and adds a column: the catalog follows.
    s3.delete_object(Bucket=bucket, Key="curated/sales/region=us/day=2/p.parquet")
    register_sink(
        database=database,
        table="sales",
        path=path,
        format="parquet",
        columns=[*columns, col("note", "VARCHAR")],
        partition_by=["region", "day"],
        description="updated",
    )
    table = glue.get_table(DatabaseName=database, Name="sales")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "amount", "note"]
    assert table["Description"] == "updated"
    parts = glue.get_partitions(DatabaseName=database, TableName="sales")["Partitions"]
    assert sorted(tuple(p["Values"]) for p in parts) == [("eu", "1"), ("us", "1")]
    assert all(len(p["StorageDescriptor"]["Columns"]) == 3 for p in parts)


def test_register_csv_sink_of_a_local_folder(glue: Any, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    register_sink(
        database="local_db",
        table="t",
        path=str(folder),
        format="csv",
        columns=[col("a", "VARCHAR")],
        options={"delimiter": ";"},
    )
    table = glue.get_table(DatabaseName="local_db", Name="t")["Table"]
    sd = table["StorageDescriptor"]
    assert sd["Location"] == folder.as_uri() + "/"
    assert sd["SerdeInfo"]["Parameters"]["field.delim"] == ";"
    assert table["Parameters"]["skip.header.line.count"] == "1"


def test_partition_column_must_exist() -> None:
    with pytest.raises(ConfigError, match="region"):
        register_sink(
            database="d",
            table="t",
            path="s3://b/x",
            format="parquet",
            columns=[col("a", "INTEGER")],
            partition_by=["region"],
        )
