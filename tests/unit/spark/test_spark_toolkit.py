"""The Spark toolkit: sessions and the DataFrame functions (same semantics as the transforms)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.errors import ConfigError
from enterprise_data_engineering.spark import (
    SparkConfig,
    add_audit_columns,
    apply_schema_enforcement,
    apply_transform,
    clean_column_names,
    create_spark_session,
    get_default_session,
    remove_empty_columns,
    standardize_date_columns,
)
from enterprise_data_engineering.spark.dataframe import looks_like_date
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import Relation
from enterprise_data_engineering.transforms.registry import get_transform

pytestmark = pytest.mark.spark


def _rows(df: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in df.collect()), key=lambda r: tuple(str(v) for v in r))


def _types(df: Any) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in df.schema.fields}


# -- sessions --------------------------------------------------------------------------------


def test_config_settings_default_to_utc_quiet_and_let_conf_win() -> None:
    config = SparkConfig(master="local[2]", conf={"spark.sql.session.timeZone": "Europe/Paris"})
    settings = config.settings()
    assert settings["spark.sql.session.timeZone"] == "Europe/Paris"
    assert settings["spark.ui.showConsoleProgress"] == "false"
    assert "log4j2.configurationFile=file:" in settings["spark.driver.extraJavaOptions"]
    mine = SparkConfig(conf={"spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile=x"})
    assert mine.settings()["spark.driver.extraJavaOptions"] == "-Dlog4j2.configurationFile=x"
    assert SparkConfig(master="sc://h:15002").is_connect
    assert "spark.ui.enabled" not in SparkConfig(master="sc://h:15002").settings()


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDE_SPARK_MASTER", "spark://10.0.0.1:7077")
    assert SparkConfig.from_env("orders").master == "spark://10.0.0.1:7077"
    monkeypatch.delenv("EDE_SPARK_MASTER")
    assert SparkConfig.from_env().master is None


def test_default_session_is_the_active_one(spark: Any) -> None:
    assert get_default_session("anything") is spark
    # Joining the running context: the session's runtime settings apply, nothing restarts.
    assert create_spark_session(SparkConfig(master="local[2]")).sparkContext is spark.sparkContext
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_missing_java_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match="Spark needs Java 17"):
        create_spark_session(SparkConfig(master="local[1]"))


# -- clean_column_names ------------------------------------------------------------------------


def test_clean_column_names(spark: Any) -> None:
    df = spark.createDataFrame([(1, 2.5, "x")], ["Order ID", " Customer-Id ", "Amount (USD)"])
    out = clean_column_names(df)
    assert out.columns == ["order_id", "customer_id", "amount_usd"]
    assert _rows(out) == [(1, 2.5, "x")]


def test_clean_column_names_refuses_collisions(spark: Any) -> None:
    df = spark.createDataFrame([(1, 2)], ["Order ID", "order_id"])
    with pytest.raises(ConfigError, match="would both become `order_id`"):
        clean_column_names(df)


# -- remove_empty_columns ----------------------------------------------------------------------


def test_remove_empty_columns_drops_mostly_null_columns(spark: Any) -> None:
    df = spark.createDataFrame(
        [(1, None, None), (2, None, "a"), (3, None, None), (4, None, "b")],
        "id int, empty int, half string",
    )
    assert remove_empty_columns(df).columns == ["id", "half"]
    assert remove_empty_columns(df, threshold=0.5).columns == ["id"]
    assert remove_empty_columns(df.limit(0)).columns == ["id", "empty", "half"]
    with pytest.raises(ConfigError, match="threshold"):
        remove_empty_columns(df, threshold=0)
    with pytest.raises(ConfigError, match="none would remain"):
        remove_empty_columns(df.select("empty"))


def _jobs_of(spark: Any, group: str, action: Any) -> tuple[Any, int]:
    context = spark.sparkContext
    context.setJobGroup(group, group)
    try:
        result = action()
        return result, len(context.statusTracker().getJobIdsForGroup(group))
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)


def test_remove_empty_columns_reads_a_wide_table_in_one_query(spark: Any) -> None:
    columns = [f"c{i}" for i in range(200)]
    rows = [tuple(i if j % 3 else None for j in range(200)) for i in range(50)]
    df = spark.createDataFrame(rows, ", ".join(f"{c} int" for c in columns))
    out, jobs = _jobs_of(spark, "ede-remove-empty-200", lambda: remove_empty_columns(df))
    assert out.columns == [c for j, c in enumerate(columns) if j % 3]
    _, jobs_for_one = _jobs_of(
        spark, "ede-remove-empty-1", lambda: remove_empty_columns(df.select("c1"))
    )
    # One aggregate query, whatever the width: one job (adaptive execution runs the
    # shuffle's map stage as a job of its own), not one per column.
    assert jobs == jobs_for_one <= 2


# -- add_audit_columns ------------------------------------------------------------------------


def test_add_audit_columns(spark: Any) -> None:
    df = spark.createDataFrame([(1, "old")], ["id", "process_name"])
    moment = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    out = add_audit_columns(
        df, "orders", source_system="shop", batch_id="b-1", process_timestamp=moment
    )
    assert out.columns == ["id", "process_name", "process_timestamp", "source_system", "batch_id"]
    assert _rows(out) == [(1, "orders", moment.replace(tzinfo=None), "shop", "b-1")]
    assert _types(out)["process_timestamp"] == "timestamp_ntz"


def test_add_audit_columns_without_source_system_has_a_fresh_batch_id(spark: Any) -> None:
    out = add_audit_columns(spark.createDataFrame([(1,)], ["id"]), "orders")
    assert out.columns == ["id", "process_timestamp", "process_name", "batch_id"]
    (row,) = out.collect()
    assert row["batch_id"][:8].isdigit() and len(row["batch_id"]) > 16


# -- apply_schema_enforcement -----------------------------------------------------------------


def test_schema_enforcement_permissive(spark: Any) -> None:
    df = spark.createDataFrame([("1", "2.50", "x")], ["ID", "amount", "extra"])
    out = apply_schema_enforcement(df, {"id": "bigint", "amount": "decimal(10,2)", "seen": "date"})
    assert out.columns == ["id", "amount", "seen"]
    assert _types(out) == {"id": "bigint", "amount": "decimal(10,2)", "seen": "date"}
    assert _rows(out) == [(1, decimal.Decimal("2.50"), None)]


def test_schema_enforcement_strict_lists_the_mismatch(spark: Any) -> None:
    df = spark.createDataFrame([(1, "x")], ["id", "extra"])
    with pytest.raises(ConfigError, match="missing `amount`; unexpected `extra`"):
        apply_schema_enforcement(df, {"id": "bigint", "amount": "double"}, mode="strict")
    with pytest.raises(ConfigError, match="mode"):
        apply_schema_enforcement(df, {"id": "bigint"}, mode="lenient")
    # any mismatch is an error, types and order too; a matching frame passes unchanged
    typed = spark.sql("SELECT 1L AS id, 'x' AS name, TIMESTAMP'2024-01-01 10:00:00' AS at")
    same = {"id": "bigint", "name": "varchar", "at": "timestamp"}
    assert _rows(apply_schema_enforcement(typed, same, mode="strict")) == _rows(typed)
    with pytest.raises(ConfigError, match=r"wrong type: `id` is BIGINT, not INT$"):
        apply_schema_enforcement(typed, {**same, "id": "int"}, mode="strict")
    with pytest.raises(ConfigError, match="another order"):
        apply_schema_enforcement(
            typed, {"name": "string", "id": "bigint", "at": "timestamp"}, mode="strict"
        )


def test_schema_enforcement_takes_a_struct_type(spark: Any) -> None:
    from pyspark.sql import types as T

    schema = T.StructType(
        [
            T.StructField("amount", T.DoubleType()),
            T.StructField("tags", T.ArrayType(T.StringType())),
        ]
    )
    df = spark.createDataFrame([(3, ["a"])], "amount int, tags array<string>")
    out = apply_schema_enforcement(df, schema)
    assert _types(out) == {"amount": "double", "tags": "array<string>"}


# -- standardize_date_columns -----------------------------------------------------------------


def test_standardize_date_columns_with_formats(spark: Any) -> None:
    df = spark.createDataFrame(
        [("2024-01-31", "a"), ("31/01/2024", "b"), ("2024-2-5", "c"), ("nope", "d"), (None, "e")],
        ["day", "label"],
    )
    out = standardize_date_columns(df, ["%Y-%m-%d", "%d/%m/%Y"], ["day"])
    assert _types(out) == {"day": "timestamp_ntz", "label": "string"} or _types(out) == {
        "day": "timestamp",
        "label": "string",
    }
    assert [r[0] for r in _rows(out)] == [
        dt.datetime(2024, 1, 31),
        dt.datetime(2024, 1, 31),
        dt.datetime(2024, 2, 5),
        None,
        None,
    ]


def test_standardize_date_columns_finds_date_columns_by_name_and_type(spark: Any) -> None:
    df = spark.createDataFrame(
        [("2024-01-31", "2024-02-01", "x", dt.date(2024, 3, 1), "2024-01-01")],
        "order_date string, created_at string, note string, shipped date, datestamp string",
    )
    out = standardize_date_columns(df)
    types = _types(out)
    assert types["note"] == types["datestamp"] == "string"
    assert {types["order_date"], types["created_at"], types["shipped"]} <= {
        "timestamp",
        "timestamp_ntz",
    }
    unchanged = spark.createDataFrame([("x",)], ["note"])
    assert standardize_date_columns(unchanged) is unchanged


def test_looks_like_date() -> None:
    assert [looks_like_date(n) for n in ["order_date", "createdAt", "updated_at", "amount"]] == [
        True,
        False,
        True,
        False,
    ]
    assert looks_like_date("Ship Date") and looks_like_date("event_ts") and not looks_like_date("")


# -- one logic, two places: the toolkit gives what the transform gives on DuckDB ---------------


@pytest.mark.parametrize(
    ("transform", "args"),
    [
        ("standardize_dates", {"columns": ["d"], "format": ["%Y-%m-%d", "%d/%m/%Y %H:%M"]}),
        ("mask", {"columns": ["d", "n"], "method": "sha256"}),
        ("deduplicate", {"keys": ["k"], "order_by": "n desc"}),
        ("remove_empty_columns", {"threshold": 0.5}),
        ("enforce_schema", {"schema": {"n": "double", "k": "varchar", "z": "integer"}}),
    ],
)
def test_the_toolkit_gives_what_the_transform_gives_on_duckdb(
    spark: Any, transform: str, args: dict[str, Any]
) -> None:
    rows = [("2024-01-31", 1, "a", None), ("31/01/2024 10:15", 2, "a", None), ("x", 3, "b", 1)]
    df = spark.createDataFrame(rows, "d string, n int, k string, e int")
    impl = get_transform(transform)
    assert impl is not None
    on_spark = apply_transform(df, impl, args)

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES ('2024-01-31', 1, 'a', NULL::INT), "
        "('31/01/2024 10:15', 2, 'a', NULL), ('x', 3, 'b', 1)) AS v(d, n, k, e)"
    )
    described = con.execute('DESCRIBE SELECT * FROM "t"').fetchall()
    relation = Relation(
        sql.table("t"),
        tuple(Column(r[0], exp.DataType.build(r[1], dialect="duckdb")) for r in described),
    )

    class Context:
        run_id = "r"
        started_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

        def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
            return tuple(con.execute(query.sql("duckdb", identify=True)).fetchone() or ())

    query = impl.apply(relation, impl.parse_args(args), Context())
    result = con.execute(query.sql("duckdb", identify=True))
    names = [d[0] for d in result.description]
    on_duckdb = sorted(result.fetchall(), key=lambda r: tuple(str(v) for v in r))
    assert on_spark.columns == names
    assert _rows(on_spark) == on_duckdb
