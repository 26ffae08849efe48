"""The built-in transforms: arguments, SQL in both dialects, and exact results on DuckDB."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pytest
import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.engines.spark import rewrite_for_spark
from enterprise_data_engineering.errors import ConfigError
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import Relation, Transform, TransformError
from enterprise_data_engineering.transforms.builtins import BUILTIN_TRANSFORMS
from enterprise_data_engineering.transforms.common import parse_order_by
from enterprise_data_engineering.transforms.sql import SqlSyntaxError
from enterprise_data_engineering.transforms.values import (
    DATE_DIRECTIVES,
    check_date_format,
    strftime_to_spark,
)

BY_NAME: dict[str, type[Transform]] = {cls.name: cls for cls in BUILTIN_TRANSFORMS}
STARTED = dt.datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@dataclass
class FakeContext:
    """A TransformContext whose queries run on a real DuckDB connection."""

    con: duckdb.DuckDBPyConnection
    run_id: str = "20240501T123015-abc123"
    started_at: dt.datetime = STARTED
    queries: list[str] = field(default_factory=list)

    def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
        text = query.sql(dialect="duckdb", identify=True)
        self.queries.append(text)
        row = self.con.execute(text).fetchone()
        assert row is not None
        return tuple(row)


@dataclass
class Result:
    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


@pytest.fixture
def ctx(con: duckdb.DuckDBPyConnection) -> FakeContext:
    return FakeContext(con)


def make_table(con: duckdb.DuckDBPyConnection, ddl_select: str, name: str = "t") -> Relation:
    """Create table ``name`` from a SELECT and describe it as a Relation."""
    con.execute(f'CREATE TABLE "{name}" AS {ddl_select}')
    described = con.execute(f'DESCRIBE SELECT * FROM "{name}"').fetchall()
    columns = tuple(Column(r[0], exp.DataType.build(r[1], dialect="duckdb")) for r in described)
    return Relation(sql.table(name), columns)


def transform(name: str) -> Transform:
    return BY_NAME[name]()


def build(name: str, relation: Relation, raw: Any, ctx: FakeContext) -> exp.Select:
    impl = transform(name)
    expr = impl.apply(relation, impl.parse_args(raw), ctx)
    assert isinstance(expr, exp.Select)
    assert_renders_in_spark(expr)
    return expr


def assert_renders_in_spark(expr: exp.Expr) -> None:
    for candidate in (expr, rewrite_for_spark(expr)):
        text = candidate.sql(dialect="spark", identify=True)
        assert sqlglot.parse_one(text, read="spark") is not None


def run(con: duckdb.DuckDBPyConnection, expr: exp.Select, order: bool = True) -> Result:
    text = expr.sql(dialect="duckdb", identify=True)
    described = con.execute(f"DESCRIBE {text}").fetchall()
    rows = con.execute(text).fetchall()
    if order:
        rows.sort(key=lambda r: tuple((v is None, str(v)) for v in r))
    return Result([(r[0], r[1]) for r in described], rows)


def apply(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext, name: str, raw: Any, relation: Relation
) -> Result:
    return run(con, build(name, relation, raw, ctx))


PEOPLE = """
    SELECT * FROM (VALUES
        (1, 'Ann',  'ann@x.io', 10.5, '2024-01-31'),
        (2, 'Bob',  NULL,       NULL, '31/01/2024'),
        (3, 'Cy',   'cy@x.io',  -1.0, 'not a date')
    ) v(id, name, email, score, day)
"""


# The registry's view -----------------------------------------------------------------------


def test_every_contract_transform_is_built_in() -> None:
    assert list(BY_NAME) == [
        "clean_column_names",
        "rename",
        "select",
        "drop",
        "cast",
        "filter",
        "derive",
        "deduplicate",
        "remove_empty_columns",
        "standardize_dates",
        "enforce_schema",
        "add_audit_columns",
        "mask",
    ]
    for cls in BUILTIN_TRANSFORMS:
        assert cls.description
        assert cls.__doc__


# clean_column_names --------------------------------------------------------------------------


def test_clean_column_names(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, """SELECT 1 AS "Order ID", 2 AS "  Amount (USD) ", 3 AS ok_name""")
    res = apply(con, ctx, "clean_column_names", None, rel)
    assert res.names == ["order_id", "amount_usd", "ok_name"]
    assert res.rows == [(1, 2, 3)]


def test_clean_column_names_refuses_collisions_and_empty_names(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, """SELECT 1 AS "Order ID", 2 AS order_id""")
    with pytest.raises(TransformError, match=r"`Order ID` and `order_id` would both become"):
        build("clean_column_names", rel, None, ctx)
    rel = make_table(con, """SELECT 1 AS "#", 2 AS a""", name="u")
    with pytest.raises(TransformError, match=r"column `#` has no letter or digit"):
        build("clean_column_names", rel, None, ctx)


def test_clean_column_names_takes_no_arguments() -> None:
    with pytest.raises(ValueError, match="takes no arguments"):
        transform("clean_column_names").parse_args({"x": 1})


# rename / select / drop ------------------------------------------------------------------------


def test_rename_keeps_order_and_swaps(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "rename", {"name": "full_name", "id": "person_id"}, rel)
    assert res.names == ["person_id", "full_name", "email", "score", "day"]
    assert res.rows[0][:2] == (1, "Ann")
    res = apply(con, ctx, "rename", {"name": "email", "email": "name"}, rel)
    assert res.names == ["id", "email", "name", "score", "day"]
    assert res.rows[0][1:3] == ("Ann", "ann@x.io")


def test_rename_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    with pytest.raises(TransformError, match=r"unknown column `nme` \(did you mean `name`\?\)"):
        build("rename", rel, {"nme": "x"}, ctx)
    with pytest.raises(TransformError, match=r"`Email` and `email`"):
        build("rename", rel, {"name": "Email"}, ctx)


def test_select_keeps_given_order(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "select", ["score", "id"], rel)
    assert res.columns == [("score", "DECIMAL(3,1)"), ("id", "INTEGER")]
    assert res.rows == [(decimal.Decimal("-1.0"), 3), (decimal.Decimal("10.5"), 1), (None, 2)]
    with pytest.raises(TransformError, match="unknown column `ids`"):
        build("select", rel, ["ids"], ctx)
    with pytest.raises(TransformError, match="`id` twice"):
        build("select", rel, ["id", "id"], ctx)


def test_drop(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "drop", ["email", "day"], rel)
    assert res.names == ["id", "name", "score"]
    assert len(res.rows) == 3
    with pytest.raises(TransformError, match="every column"):
        build("drop", rel, ["id", "name", "email", "score", "day"], ctx)


# cast ------------------------------------------------------------------------------------------


def test_cast(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, "SELECT * FROM (VALUES ('1', '2.50', 3), (NULL, '0', 4)) v(a, b, c)")
    res = apply(con, ctx, "cast", {"b": "decimal(12,2)", "a": "bigint"}, rel)
    assert res.columns == [("a", "BIGINT"), ("b", "DECIMAL(12,2)"), ("c", "INTEGER")]
    assert res.rows == [(1, decimal.Decimal("2.50"), 3), (None, decimal.Decimal("0.00"), 4)]


def test_cast_rejects_unknown_types_when_parsing_arguments() -> None:
    with pytest.raises(ValidationError) as info:
        transform("cast").parse_args({"a": "bigint", "b": "notatype"})
    (error,) = info.value.errors()
    assert error["loc"] == ("b",)
    assert "unknown SQL type `notatype`" in error["msg"]


# filter ----------------------------------------------------------------------------------------


def test_filter(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "filter", "score > 0 or email IS NULL", rel)
    assert res.names == ["id", "name", "email", "score", "day"]
    assert [r[0] for r in res.rows] == [1, 2]
    # a NULL predicate drops the row, as WHERE does
    assert [r[0] for r in apply(con, ctx, "filter", "score < 100", rel).rows] == [1, 3]


def test_filter_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    with pytest.raises(ValidationError) as info:
        transform("filter").parse_args("amount = = 1")
    assert "invalid SQL predicate" in info.value.errors()[0]["msg"]
    with pytest.raises(ValidationError):
        transform("filter").parse_args("")
    with pytest.raises(ValidationError):
        transform("filter").parse_args("1; DROP TABLE t")
    with pytest.raises(ValidationError, match="unexpected alias `b`"):
        transform("filter").parse_args("a b")
    rel = make_table(con, PEOPLE)
    with pytest.raises(TransformError, match=r"unknown column `scor` in `filter` \(did you mean"):
        build("filter", rel, "scor > 1", ctx)
    # names compare case-insensitively, like the engines do
    assert len(apply(con, ctx, "filter", "SCORE > 0", rel).rows) == 1


# derive ----------------------------------------------------------------------------------------


def test_derive_replaces_in_place_and_appends(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, PEOPLE)
    raw = {"name": "upper(name)", "double": "score * 2", "tag": "'x' || id"}
    res = apply(con, ctx, "derive", raw, rel)
    assert res.names == ["id", "name", "email", "score", "day", "double", "tag"]
    assert res.rows[0] == (
        1,
        "ANN",
        "ann@x.io",
        decimal.Decimal("10.5"),
        "2024-01-31",
        decimal.Decimal("21.0"),
        "x1",
    )
    assert res.rows[1][5:] == (None, "x2")


def test_derive_entries_see_only_input_columns(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT 1 AS a")
    with pytest.raises(TransformError, match="unknown column `b` in `derive` of `c`"):
        build("derive", rel, {"b": "a + 1", "c": "b + 1"}, ctx)
    # and a replaced column is read with its input value
    res = apply(con, ctx, "derive", {"a": "a + 1", "b": "a * 10"}, rel)
    assert res.rows == [(2, 10)]


def test_derive_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    with pytest.raises(ValidationError) as info:
        transform("derive").parse_args({"ok": "a + 1", "bad": "a +"})
    (error,) = info.value.errors()
    assert error["loc"] == ("bad",)
    assert "invalid SQL expression" in error["msg"]
    rel = make_table(con, "SELECT 1 AS amount, 2 AS b")
    with pytest.raises(TransformError, match="`Amount` and `amount`"):
        build("derive", rel, {"Amount": "1", "amount": "2"}, ctx)
    # engines compare names case-insensitively: `Amount` replaces `amount`, in place
    res = apply(con, ctx, "derive", {"Amount": "amount + 10"}, rel)
    assert res.names == ["Amount", "b"]
    assert res.rows == [(11, 2)]


def test_derive_allows_lambdas_and_windows(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT * FROM (VALUES (1, [1, 2, 3]), (2, [4])) v(id, xs)")
    raw = {"big": "list_filter(xs, x -> x > 1)", "rn": "row_number() over (order by id desc)"}
    res = apply(con, ctx, "derive", raw, rel)
    assert res.rows == [(1, [1, 2, 3], [2, 3], 2), (2, [4], [4], 1)]


# deduplicate -----------------------------------------------------------------------------------

EVENTS = """
    SELECT * FROM (VALUES
        (1, 'a', TIMESTAMP '2024-01-01 10:00', 5),
        (1, 'b', TIMESTAMP '2024-01-03 10:00', 6),
        (1, 'c', NULL,                         7),
        (2, 'd', TIMESTAMP '2024-01-02 10:00', 1),
        (2, 'e', TIMESTAMP '2024-01-02 10:00', 0),
        (NULL, 'f', NULL,                      2),
        (NULL, 'g', NULL,                      3)
    ) v(order_id, status, updated_at, qty)
"""


def test_deduplicate_keeps_first_in_order(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, EVENTS)
    res = apply(con, ctx, "deduplicate", {"keys": ["order_id"], "order_by": "updated_at desc"}, rel)
    assert res.names == ["order_id", "status", "updated_at", "qty"]  # no helper column
    # order 2 ties on updated_at: the other columns break the tie (status 'd' < 'e');
    # null keys form one group; nulls sort last
    assert [r[:2] for r in res.rows] == [(1, "b"), (2, "d"), (None, "f")]


def test_deduplicate_with_several_order_items(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, EVENTS)
    raw = {"keys": ["order_id"], "order_by": "updated_at asc nulls first, qty desc"}
    res = apply(con, ctx, "deduplicate", raw, rel)
    assert [r[:2] for r in res.rows] == [(1, "c"), (2, "d"), (None, "g")]


def test_deduplicate_without_order_is_deterministic(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, EVENTS)
    res = apply(con, ctx, "deduplicate", {"keys": ["order_id"]}, rel)
    assert [r[:2] for r in res.rows] == [(1, "a"), (2, "d"), (None, "f")]
    res = apply(con, ctx, "deduplicate", {"keys": ["order_id", "updated_at"]}, rel)
    assert len(res.rows) == 5


def test_deduplicate_helper_column_does_not_clash(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT * FROM (VALUES (1, 9), (1, 8)) v(k, _ede_row_number)")
    res = apply(con, ctx, "deduplicate", {"keys": ["k"]}, rel)
    assert res.columns == [("k", "INTEGER"), ("_ede_row_number", "INTEGER")]
    assert res.rows == [(1, 8)]


def test_deduplicate_spark_sql_keeps_duckdb_null_order(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, EVENTS)
    expr = build("deduplicate", rel, {"keys": ["order_id"], "order_by": "updated_at"}, ctx)
    spark = expr.sql(dialect="spark", identify=True)
    assert "ORDER BY `updated_at` NULLS LAST, `status` ASC NULLS LAST" in spark
    assert "PARTITION BY `order_id`" in spark


def test_deduplicate_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    impl = transform("deduplicate")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({})
    assert info.value.errors()[0]["loc"] == ("keys",)
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"keys": ["a"], "order": "b"})
    assert info.value.errors()[0]["loc"] == ("order",)
    for bad in ("updated_at desc desc", "x LIMIT 1", "2", "x; DROP TABLE t", "x) UNION (SELECT 1"):
        with pytest.raises(ValidationError) as info:
            impl.parse_args({"keys": ["a"], "order_by": bad})
        assert info.value.errors()[0]["loc"] == ("order_by",), bad
    rel = make_table(con, EVENTS)
    with pytest.raises(TransformError, match="unknown key column `orderid`"):
        build("deduplicate", rel, {"keys": ["orderid"]}, ctx)
    with pytest.raises(TransformError, match="unknown column `updated` in `deduplicate` order_by"):
        build("deduplicate", rel, {"keys": ["order_id"], "order_by": "updated desc"}, ctx)


def test_parse_order_by() -> None:
    items = parse_order_by("a desc, lower(b) nulls first, c asc")
    assert [i.sql("duckdb") for i in items] == ["a DESC", "LOWER(b) NULLS FIRST", "c ASC"]
    with pytest.raises(SqlSyntaxError):
        parse_order_by("  ")


# remove_empty_columns --------------------------------------------------------------------------


def test_remove_empty_columns_asks_once(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(
        con,
        """SELECT * FROM (VALUES
            (1, NULL, NULL, 'x'), (2, NULL, 1, NULL), (3, NULL, NULL, NULL), (4, 7, NULL, NULL)
        ) v(id, mostly_null, half, quarter)""",
    )
    res = apply(con, ctx, "remove_empty_columns", {"threshold": 0.75}, rel)
    assert len(ctx.queries) == 1
    # mostly_null and half are 75% null (>= 0.75); quarter too (3 of 4): only id stays
    assert res.names == ["id"]
    ctx.queries.clear()
    res = apply(con, ctx, "remove_empty_columns", None, rel)  # default threshold 0.9
    assert len(ctx.queries) == 1
    assert res.names == ["id", "mostly_null", "half", "quarter"]
    assert len(res.rows) == 4


def test_remove_empty_columns_threshold_one_drops_only_all_null(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT * FROM (VALUES (1, NULL::INT, 0.9), (2, NULL, NULL)) v(a, b, c)")
    res = apply(con, ctx, "remove_empty_columns", {"threshold": 1}, rel)
    assert res.names == ["a", "c"]
    assert res.rows == [(1, decimal.Decimal("0.9")), (2, None)]


def test_remove_empty_columns_on_an_empty_table_drops_nothing(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT 1 AS a, NULL::VARCHAR AS b WHERE false")
    res = apply(con, ctx, "remove_empty_columns", {"threshold": 0.1}, rel)
    assert len(ctx.queries) == 1
    assert res.columns == [("a", "INTEGER"), ("b", "VARCHAR")]
    assert res.rows == []


def test_remove_empty_columns_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    for bad in (0, 1.5, -0.1, "x"):
        with pytest.raises(ValidationError) as info:
            transform("remove_empty_columns").parse_args({"threshold": bad})
        assert info.value.errors()[0]["loc"] == ("threshold",)
    rel = make_table(con, "SELECT NULL::INT AS a, NULL::INT AS b")
    with pytest.raises(TransformError, match="none would remain"):
        build("remove_empty_columns", rel, {"threshold": 0.5}, ctx)


# standardize_dates -----------------------------------------------------------------------------


def test_standardize_dates_default_format(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "standardize_dates", {"columns": ["day"]}, rel)
    assert res.columns[4] == ("day", "TIMESTAMP")
    assert [r[4] for r in res.rows] == [dt.datetime(2024, 1, 31), None, None]


def test_standardize_dates_tries_formats_in_order(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(
        con,
        """SELECT * FROM (VALUES
            ('2024-01-31', DATE '2024-02-01', 20240131, '2024-01-31T08:09:10'),
            ('31/01/2024', NULL,              NULL,     '2024-1-5T8:09:10'),
            ('',           DATE '2024-02-03', 99999999, 'nope'),
            (NULL,         NULL,              20240229, NULL)
        ) v(s, d, n, iso)""",
    )
    raw = {
        "columns": ["s", "d", "n", "iso"],
        "format": ["%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S"],
    }
    res = run(con, build("standardize_dates", rel, raw, ctx), order=False)
    assert res.columns == [(c, "TIMESTAMP") for c in ("s", "d", "n", "iso")]
    assert res.rows == [
        (
            dt.datetime(2024, 1, 31),
            dt.datetime(2024, 2, 1),
            dt.datetime(2024, 1, 31),
            dt.datetime(2024, 1, 31, 8, 9, 10),
        ),
        (dt.datetime(2024, 1, 31), None, None, dt.datetime(2024, 1, 5, 8, 9, 10)),
        (None, dt.datetime(2024, 2, 3), None, None),
        (None, None, dt.datetime(2024, 2, 29), None),
    ]


def test_standardize_dates_spark_sql(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    raw = {"columns": ["day"], "format": ["%Y-%m-%d", "%d/%m/%YT%H"]}
    expr = build("standardize_dates", rel, raw, ctx)
    duck = expr.sql(dialect="duckdb", identify=True)
    assert "TRY_STRPTIME(\"day\", '%Y-%m-%d')" in duck
    spark = rewrite_for_spark(expr).sql(dialect="spark", identify=True)
    assert (
        "COALESCE(TRY_TO_TIMESTAMP(`day`, 'yyyy-M-d'), TRY_TO_TIMESTAMP(`day`, 'd/M/yyyy\\'T\\'H'))"
        in spark
    )
    # the rewrite copies: the transform's expression is unchanged
    assert expr.sql(dialect="duckdb", identify=True) == duck


def test_standardize_dates_errors(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    impl = transform("standardize_dates")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"columns": ["d"], "format": "%Y-%q"})
    assert "unsupported directive `%q`" in str(info.value)
    with pytest.raises(ValidationError, match="has no directive"):
        impl.parse_args({"columns": ["d"], "format": "yyyy-MM-dd"})
    with pytest.raises(ValidationError):
        impl.parse_args({"columns": ["d"], "format": []})
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"columns": "d"})
    assert info.value.errors()[0]["loc"] == ("columns",)
    rel = make_table(con, "SELECT TIME '10:00' AS t")
    with pytest.raises(TransformError, match="time of day"):
        build("standardize_dates", rel, {"columns": ["t"]}, ctx)


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("%Y-%m-%d", "yyyy-M-d"),
        ("%Y%m%d", "yyyyMMdd"),
        ("%d/%m/%Y %H:%M:%S.%f", "d/M/yyyy H:m:s.SSSSSS"),
        ("%Y-%m-%dT%H:%M:%S%z", "yyyy-M-d'T'H:m:ssZ"),
        ("%d %b %Y at %I %p", "d MMM yyyy' at 'h a"),
        ("%Y-%-m-%-d", "yyyy-M-d"),
        ("%Y'%j", "yyyy''''DDD"),
    ],
)
def test_strftime_to_spark(fmt: str, pattern: str) -> None:
    check_date_format(fmt)
    assert strftime_to_spark(fmt) == pattern


def test_every_date_directive_maps_to_spark() -> None:
    for directive in DATE_DIRECTIVES:
        assert strftime_to_spark(f"%{directive}")


# enforce_schema --------------------------------------------------------------------------------


def test_enforce_schema_permissive(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(
        con, "SELECT * FROM (VALUES ('1', 2.5, 'x'), ('2', NULL, 'y')) v(id, amount, extra)"
    )
    raw = {"schema": {"amount": "decimal(12,2)", "id": "bigint", "missing": "date"}}
    res = apply(con, ctx, "enforce_schema", raw, rel)
    assert res.columns == [("amount", "DECIMAL(12,2)"), ("id", "BIGINT"), ("missing", "DATE")]
    assert res.rows == [(decimal.Decimal("2.50"), 1, None), (None, 2, None)]


def test_enforce_schema_strict(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, "SELECT '1' AS id, 2 AS amount, 'x' AS extra")
    raw = {"schema": {"id": "bigint", "amount": "double", "missing": "date"}, "mode": "strict"}
    with pytest.raises(TransformError, match=r"missing `missing`; unexpected `extra`"):
        build("enforce_schema", rel, raw, ctx)
    # any mismatch is an error: types (all listed), then order
    raw = {"schema": {"id": "bigint", "amount": "double", "extra": "varchar"}, "mode": "strict"}
    with pytest.raises(
        TransformError, match=r"wrong type: `id` is TEXT, not BIGINT; `amount` is INT, not DOUBLE$"
    ):
        build("enforce_schema", rel, raw, ctx)
    raw = {"schema": {"amount": "int", "id": "string", "extra": "text"}, "mode": "strict"}
    with pytest.raises(
        TransformError,
        match=r"another order: `id`, `amount`, `extra` where the schema says `amount`, `id`, `extra`",
    ):
        build("enforce_schema", rel, raw, ctx)
    # a matching table (text types compare as one) passes unchanged
    raw = {"schema": {"id": "string", "amount": "integer", "extra": "varchar"}, "mode": "strict"}
    res = apply(con, ctx, "enforce_schema", raw, rel)
    assert res.columns == [("id", "VARCHAR"), ("amount", "INTEGER"), ("extra", "VARCHAR")]
    assert res.rows == [("1", 2, "x")]
    assert "CAST(" not in build("enforce_schema", rel, raw, ctx).sql("duckdb", identify=True)
    # names compare case-insensitively; the output takes the schema's spelling
    raw = {"schema": {"ID": "varchar", "Amount": "int", "EXTRA": "varchar"}, "mode": "strict"}
    res = apply(con, ctx, "enforce_schema", raw, rel)
    assert res.columns == [("ID", "VARCHAR"), ("Amount", "INTEGER"), ("EXTRA", "VARCHAR")]
    # decimal precision and scale are part of the type
    rel = make_table(con, "SELECT 1.5::DECIMAL(12, 2) AS amount", name="d")
    with pytest.raises(TransformError, match=r"`amount` is DECIMAL\(12, 2\), not DECIMAL\(10, 2\)"):
        build("enforce_schema", rel, {"schema": {"amount": "decimal(10,2)"}, "mode": "strict"}, ctx)
    apply(
        con, ctx, "enforce_schema", {"schema": {"amount": "numeric(12,2)"}, "mode": "strict"}, rel
    )


def test_enforce_schema_errors() -> None:
    impl = transform("enforce_schema")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"schema": {"a": "int"}, "mode": "lenient"})
    assert info.value.errors()[0]["loc"] == ("mode",)
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"schema": {"a": "integr"}})
    assert info.value.errors()[0]["loc"] == ("schema", "a")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"schema": ["a"]})
    assert info.value.errors()[0]["loc"] == ("schema",)
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"mode": "strict"})
    assert info.value.errors()[0]["loc"] == ("schema",)


# add_audit_columns -----------------------------------------------------------------------------


def test_add_audit_columns(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, "SELECT * FROM (VALUES (1), (2)) v(id)")
    res = apply(
        con,
        ctx,
        "add_audit_columns",
        {"process_name": "orders_daily", "source_system": "shop"},
        rel,
    )
    assert res.columns == [
        ("id", "INTEGER"),
        ("process_timestamp", "TIMESTAMP"),
        ("process_name", "VARCHAR"),
        ("source_system", "VARCHAR"),
        ("batch_id", "VARCHAR"),
    ]
    utc = dt.datetime(2024, 5, 1, 12, 30, 15, 123456)
    assert res.rows == [
        (1, utc, "orders_daily", "shop", ctx.run_id),
        (2, utc, "orders_daily", "shop", ctx.run_id),
    ]


def test_add_audit_columns_replaces_existing_and_skips_source_system(
    con: duckdb.DuckDBPyConnection, ctx: FakeContext
) -> None:
    rel = make_table(con, "SELECT 'old' AS BATCH_ID, 1 AS id, 'old' AS source_system")
    res = apply(con, ctx, "add_audit_columns", {"process_name": "p"}, rel)
    assert res.names == ["batch_id", "id", "source_system", "process_timestamp", "process_name"]
    assert res.rows == [(ctx.run_id, 1, "old", dt.datetime(2024, 5, 1, 12, 30, 15, 123456), "p")]


def test_add_audit_columns_errors() -> None:
    impl = transform("add_audit_columns")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"source_system": "shop"})
    assert info.value.errors()[0]["loc"] == ("process_name",)
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"process_name": "p", "batch": "x"})
    assert info.value.errors()[0]["loc"] == ("batch",)


# mask ------------------------------------------------------------------------------------------


def test_mask_sha256(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    import hashlib

    rel = make_table(con, PEOPLE)
    res = apply(con, ctx, "mask", {"columns": ["email", "score"]}, rel)
    assert res.columns[2:4] == [("email", "VARCHAR"), ("score", "VARCHAR")]
    digest = hashlib.sha256(b"ann@x.io").hexdigest()
    assert res.rows[0][:4] == (1, "Ann", digest, hashlib.sha256(b"10.5").hexdigest())
    assert res.rows[1][2:4] == (None, None)  # nulls stay null
    spark = build("mask", rel, {"columns": ["email", "score"]}, ctx).sql("spark", identify=True)
    assert "SHA2(`email`, 256) AS `email`" in spark
    assert "SHA2(CAST(`score` AS STRING), 256) AS `score`" in spark


def test_mask_sha256_hashes_utf8_text(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    import hashlib

    rel = make_table(con, "SELECT 'Zoë ✓' AS s")
    res = apply(con, ctx, "mask", {"columns": ["s"], "method": "sha256"}, rel)
    assert res.rows == [(hashlib.sha256("Zoë ✓".encode()).hexdigest(),)]


def test_mask_redact(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    rel = make_table(con, PEOPLE)
    expr = build("mask", rel, {"columns": ["email", "id"], "method": "redact"}, ctx)
    res = run(con, expr.order_by(exp.column("name")), order=False)
    assert res.columns[0] == ("id", "VARCHAR")
    assert [(r[0], r[2]) for r in res.rows] == [
        ("[REDACTED]", "[REDACTED]"),
        ("[REDACTED]", None),  # Bob has no email: nulls stay null
        ("[REDACTED]", "[REDACTED]"),
    ]


def test_mask_errors() -> None:
    impl = transform("mask")
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"columns": ["a"], "method": "md5"})
    assert info.value.errors()[0]["loc"] == ("method",)
    with pytest.raises(ValidationError) as info:
        impl.parse_args({"columns": []})
    assert info.value.errors()[0]["loc"] == ("columns",)


# argument shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "loc"),
    [
        ("select", "a", ()),
        ("select", [], ()),
        ("select", ["a", 1], (1,)),
        ("drop", {"a": 1}, ()),
        ("rename", ["a"], ()),
        ("rename", {"a": ""}, ("a",)),
        ("cast", ["a"], ()),
        ("cast", {"a": 1}, ("a",)),
        ("derive", "a + 1", ()),
        ("filter", ["a > 1"], ()),
        ("deduplicate", {}, ("keys",)),
        ("deduplicate", {"keys": "a"}, ("keys",)),
        ("remove_empty_columns", {"threshhold": 0.5}, ("threshhold",)),
        ("mask", {"columns": ["a"], "salt": "x"}, ("salt",)),
    ],
)
def test_wrong_argument_shapes_fail_in_parse_args(
    name: str, raw: Any, loc: tuple[Any, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        transform(name).parse_args(raw)
    assert info.value.errors()[0]["loc"] == loc


def test_sql_errors_are_value_errors_inside_validation() -> None:
    with pytest.raises(ValidationError) as info:
        transform("filter").parse_args("a >")
    (error,) = info.value.errors()
    assert error["type"] == "value_error"
    assert isinstance(error["ctx"]["error"], SqlSyntaxError)


def test_transform_errors_are_config_errors() -> None:
    assert issubclass(TransformError, ConfigError)


# chaining --------------------------------------------------------------------------------------


def test_transforms_chain_over_subqueries(con: duckdb.DuckDBPyConnection, ctx: FakeContext) -> None:
    """Each transform's SELECT is a valid source for the next one (as the runner chains them)."""
    rel = make_table(
        con,
        """SELECT * FROM (VALUES
            ('1', 'A@x.io', '2024-01-01', 5), ('1', 'A@x.io', '2024-01-02', 6), ('2', NULL, 'x', 7)
        ) v("Order ID", "E-Mail", "Updated At", "Qty")""",
    )
    steps: list[tuple[str, Any]] = [
        ("clean_column_names", None),
        ("cast", {"order_id": "bigint"}),
        ("standardize_dates", {"columns": ["updated_at"]}),
        ("deduplicate", {"keys": ["order_id"], "order_by": "updated_at desc"}),
        ("filter", "qty > 0"),
        ("derive", {"qty2": "qty * 2"}),
        ("mask", {"columns": ["e_mail"], "method": "redact"}),
        (
            "enforce_schema",
            {"schema": {"order_id": "bigint", "updated_at": "timestamp", "qty2": "bigint"}},
        ),
        ("add_audit_columns", {"process_name": "p"}),
    ]
    for i, (name, raw) in enumerate(steps):
        expr = build(name, rel, raw, ctx)
        described = con.execute(f"DESCRIBE {expr.sql('duckdb', identify=True)}").fetchall()
        columns = tuple(Column(r[0], exp.DataType.build(r[1], dialect="duckdb")) for r in described)
        rel = Relation(expr.subquery(exp.to_identifier(f"s{i}", quoted=True)), columns)
    res = run(con, exp.select("*").from_(rel.source))
    stamp = dt.datetime(2024, 5, 1, 12, 30, 15, 123456)
    assert res.names == [
        "order_id",
        "updated_at",
        "qty2",
        "process_timestamp",
        "process_name",
        "batch_id",
    ]
    assert res.rows == [
        (1, dt.datetime(2024, 1, 2), 12, stamp, "p", ctx.run_id),
        (2, None, 14, stamp, "p", ctx.run_id),
    ]
    assert_renders_in_spark(rel.source)
