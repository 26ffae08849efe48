"""The built-in checks: their arguments, their SQL, and their semantics on real DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from enterprise_data_engineering.checks.base import Check, CheckArgs
from enterprise_data_engineering.checks.builtins import BUILTIN_CHECKS
from enterprise_data_engineering.checks.registry import CHECKS, get_check
from enterprise_data_engineering.common_utils import registry as registry_module
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.engines.duckdb import DuckDBEngine
from enterprise_data_engineering.transforms.sql import table as table_ref


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine()
    eng.connection.execute(
        """
        CREATE TABLE t AS SELECT * FROM (VALUES
            (1, 'new',  10.5, DATE '2024-01-01', 'a@x.io', 5),
            (2, 'paid', NULL, DATE '2024-06-30', 'bad',    NULL),
            (3, NULL,   -1.0, NULL,              NULL,     7),
            (3, 'gone', 99.0, DATE '2025-01-01', 'b@y.io', 1)
        ) v(id, status, amount, day, email, qty)
        """
    )
    yield eng
    eng.close()


BY_NAME: dict[str, type[Check]] = {cls.name: cls for cls in BUILTIN_CHECKS}


def check(name: str) -> Check:
    return BY_NAME[name]()


def parse(name: str, **raw: Any) -> CheckArgs:
    return check(name).parse_args(raw)


def cols(engine: DuckDBEngine, table: str = "t") -> tuple[Column, ...]:
    return tuple(engine.columns(exp.select("*").from_(table_ref(table))))


def violating_ids(engine: DuckDBEngine, name: str, **raw: Any) -> list[Any]:
    """The ids of the rows the check's predicate flags (sorted; NULL flags are an error)."""
    impl = check(name)
    predicate = impl.violation(impl.parse_args(raw), cols(engine))
    flags = engine.fetch(exp.select("id", predicate.as_("v")).from_("t"))
    assert all(v is not None for _, v in flags), "a violation predicate must never be NULL"
    return sorted(i for i, v in flags if v)


def test_every_builtin_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # only the built-ins: plugins of the environment are not this test's business
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])
    monkeypatch.setattr(CHECKS, "_items", {})
    monkeypatch.setattr(CHECKS, "_loaded", False)
    names = {cls.name for cls in BUILTIN_CHECKS}
    assert names == {
        "not_null",
        "unique",
        "accepted_values",
        "range",
        "regex",
        "row_count",
        "expression",
    }
    for name in names:
        assert CHECKS.get(name) is BY_NAME[name]
        assert isinstance(get_check(name), BY_NAME[name])
    assert {c.name for c in BUILTIN_CHECKS if not c.row_level} == {"unique", "row_count"}


# not_null ------------------------------------------------------------------------------------


def test_not_null_passes_and_fails(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "not_null", columns=["id"]) == []
    assert violating_ids(engine, "not_null", columns=["status"]) == [3]
    # a row fails when any listed column is null
    assert violating_ids(engine, "not_null", columns=["status", "amount"]) == [2, 3]


# accepted_values -----------------------------------------------------------------------------


def test_accepted_values_nulls_pass(engine: DuckDBEngine) -> None:
    # both rows have id 3: the null status passes, 'gone' fails
    assert violating_ids(engine, "accepted_values", column="status", values=["new", "paid"]) == [3]
    assert (
        violating_ids(engine, "accepted_values", column="status", values=["new", "paid", "gone"])
        == []
    )


def test_accepted_values_numbers_on_a_text_column(engine: DuckDBEngine) -> None:
    engine.connection.execute(
        "CREATE TABLE codes AS SELECT * FROM (VALUES (1, '01'), (2, '7'), (3, 'x')) v(id, code)"
    )
    impl = check("accepted_values")
    predicate = impl.violation(
        impl.parse_args({"column": "code", "values": [7, "01"]}), cols(engine, "codes")
    )
    rows = engine.fetch(exp.select("id").from_("codes").where(predicate).order_by("id"))
    assert rows == [(3,)]


def test_accepted_values_numbers(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "accepted_values", column="qty", values=[1, 5]) == [3]


# range ---------------------------------------------------------------------------------------


def test_range_inclusive_and_nulls_pass(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "range", column="amount", min=-1, max=99) == []
    assert violating_ids(engine, "range", column="amount", min=0) == [3]
    assert violating_ids(engine, "range", column="amount", max=10.5) == [3]  # 99.0
    assert violating_ids(engine, "range", column="amount", min=0, max=50) == [3, 3]


def test_range_with_dates(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "range", column="day", min="2024-01-01", max="2024-12-31") == [3]
    assert violating_ids(engine, "range", column="day", max=dt.date(2024, 3, 1)) == [2, 3]


# regex ---------------------------------------------------------------------------------------


def test_regex_matches_anywhere_and_nulls_pass(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "regex", column="email", pattern="@") == [2]
    assert violating_ids(engine, "regex", column="email", pattern="x") == [
        2,
        3,
    ]  # only 'a@x.io' has an x
    assert violating_ids(engine, "regex", column="email", pattern="^[a-z]+@[a-z]+\\.io$") == [2]


def test_regex_casts_values_to_text(engine: DuckDBEngine) -> None:
    assert violating_ids(engine, "regex", column="id", pattern="^[12]$") == [3, 3]
    assert violating_ids(engine, "regex", column="qty", pattern="\\d") == []


# expression ----------------------------------------------------------------------------------


def test_expression_null_result_fails(engine: DuckDBEngine) -> None:
    # amount is NULL for id 2: the predicate is NULL, which is not TRUE
    assert violating_ids(engine, "expression", expr="amount >= 0") == [2, 3]
    assert violating_ids(engine, "expression", expr="coalesce(amount, 0) >= 0") == [3]
    assert violating_ids(engine, "expression", expr="id > 0") == []


def test_expression_columns_used() -> None:
    impl = check("expression")
    args = impl.parse_args(
        {
            "expr": "amount > 0 and t.x = 1 and id in (select id from other where z) "
            "and list_filter(tags, lambda y: y > 1) is not null"
        }
    )
    assert sorted(impl.columns_used(args)) == ["amount", "id", "tags"]


# table-level ---------------------------------------------------------------------------------


def fetch_one(engine: DuckDBEngine, query: exp.Select) -> tuple[Any, ...]:
    (row,) = engine.fetch(query)
    return row


def test_unique_counts_every_duplicated_row(engine: DuckDBEngine) -> None:
    impl = check("unique")
    c = cols(engine)
    assert (
        fetch_one(
            engine, impl.failing_rows_query(parse("unique", columns=["id"]), table_ref("t"), c)
        )[0]
        == 2
    )
    args = parse("unique", columns=["id", "status"])
    assert fetch_one(engine, impl.failing_rows_query(args, table_ref("t"), c))[0] == 0
    sample = engine.fetch(impl.sample_query(parse("unique", columns=["id"]), table_ref("t"), c, 5))
    assert sample == [(3, 2)]


def test_unique_groups_nulls_together(engine: DuckDBEngine) -> None:
    engine.connection.execute("CREATE TABLE n AS SELECT * FROM (VALUES (NULL), (NULL), (1)) v(k)")
    impl = check("unique")
    args = parse("unique", columns=["k"])
    c = cols(engine, "n")
    assert fetch_one(engine, impl.failing_rows_query(args, table_ref("n"), c))[0] == 2
    q = impl.sample_query(args, table_ref("n"), c, 5)
    assert q.named_selects == ["k", "duplicate_rows"]


def test_unique_sample_count_name_avoids_collision() -> None:
    impl = check("unique")
    q = impl.sample_query(parse("unique", columns=["duplicate_rows"]), table_ref("t"), (), 3)
    assert q.named_selects == ["duplicate_rows", "_ede_duplicate_rows"]


@pytest.mark.parametrize(
    ("bounds", "failing", "message"),
    [
        ({"min": 1}, 0, None),
        ({"min": 5}, 1, "row count 4 is below min 5"),
        ({"max": 3}, 1, "row count 4 is above max 3"),
        ({"min": 4, "max": 4}, 0, None),
    ],
)
def test_row_count(
    engine: DuckDBEngine, bounds: dict[str, int], failing: int, message: str | None
) -> None:
    impl = check("row_count")
    args = parse("row_count", **bounds)
    row = fetch_one(engine, impl.failing_rows_query(args, table_ref("t"), cols(engine)))
    assert row[0] == failing
    assert impl.failure_message(args, row) == message  # type: ignore[attr-defined]
    assert engine.fetch(impl.sample_query(args, table_ref("t"), (), 5)) == [(4,)]


# arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "loc"),
    [
        ("not_null", {"columns": []}, ("columns",)),
        ("not_null", {"columns": "id"}, ("columns",)),
        ("not_null", {"columns": [""]}, ("columns", 0)),
        ("not_null", {"colums": ["id"]}, ("colums",)),
        ("unique", {}, ("columns",)),
        ("accepted_values", {"column": "s", "values": []}, ("values",)),
        ("accepted_values", {"column": "s"}, ("values",)),
        ("range", {"column": "a"}, ()),
        ("range", {"column": "a", "min": 5, "max": 1}, ()),
        ("range", {"column": "a", "min": True}, ("min",)),
        ("regex", {"column": "a", "pattern": "(unclosed"}, ("pattern",)),
        ("expression", {"expr": "amount >"}, ("expr",)),
        ("expression", {"expr": ""}, ("expr",)),
        ("expression", {"expr": "sum(amount) > 0"}, ("expr",)),
        ("expression", {"expr": "select 1"}, ("expr",)),
        ("row_count", {}, ()),
        ("row_count", {"min": -1}, ("min",)),
        ("row_count", {"min": 3, "max": 2}, ()),
    ],
)
def test_invalid_arguments(name: str, raw: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        check(name).parse_args(raw)
    assert loc in [error["loc"] for error in info.value.errors()]


def test_argument_messages() -> None:
    with pytest.raises(ValidationError, match="invalid regular expression"):
        parse("regex", column="a", pattern="[")
    with pytest.raises(ValidationError, match="give `min`, `max` or both"):
        parse("range", column="a")
    with pytest.raises(ValidationError, match="aggregate"):
        parse("expression", expr="max(a) over () > 1")


def test_column_suffix() -> None:
    assert check("not_null").column_suffix(parse("not_null", columns=["a"])) == "a"
    assert check("unique").column_suffix(parse("unique", columns=["a", "b"])) is None
    assert check("range").column_suffix(parse("range", column="a", min=1)) == "a"
    assert check("row_count").column_suffix(parse("row_count", min=1)) is None


# every check renders in Spark's dialect ------------------------------------------------------

SPARK_CASES: list[tuple[str, dict[str, Any]]] = [
    ("not_null", {"columns": ["id", "status"]}),
    ("accepted_values", {"column": "status", "values": ["new", 1, 2.5, True]}),
    ("range", {"column": "day", "min": dt.date(2024, 1, 1), "max": "2024-12-31"}),
    ("range", {"column": "amount", "min": 0}),
    ("regex", {"column": "email", "pattern": r"^\d+'x$"}),
    ("expression", {"expr": "amount >= 0 and status <> 'x'"}),
    ("unique", {"columns": ["id", "status"]}),
    ("row_count", {"min": 1, "max": 10}),
]


@pytest.mark.parametrize(("name", "raw"), SPARK_CASES)
def test_renders_in_spark(engine: DuckDBEngine, name: str, raw: dict[str, Any]) -> None:
    impl = check(name)
    args = impl.parse_args(raw)
    c = cols(engine)
    if impl.row_level:
        queries: list[exp.Expr] = [
            exp.select(exp.Count(this=exp.Star())).from_("t").where(impl.violation(args, c))
        ]
    else:
        queries = [
            impl.failing_rows_query(args, table_ref("t"), c),
            impl.sample_query(args, table_ref("t"), c, 5),
        ]
    for query in queries:
        text = query.sql("spark", identify=True)
        assert sqlglot.parse_one(text, read="spark") is not None
        # and the same expression runs on DuckDB
        engine.connection.execute(query.sql("duckdb", identify=True))


def test_regex_spark_rendering_keeps_the_pattern() -> None:
    impl = check("regex")
    pattern = r"^\d+'x$"
    predicate = impl.violation(impl.parse_args({"column": "a", "pattern": pattern}), ())
    spark = predicate.sql("spark", identify=True)
    assert "RLIKE" in spark
    assert "REGEXP_MATCHES" in predicate.sql("duckdb", identify=True)
    back = sqlglot.parse_one(spark, read="spark")
    assert back.find(exp.RegexpLike) is not None
    # \d is spelled with its Unicode meaning (engine_pattern), the rest kept as written
    expected = r"^[\p{Nd}]+'x$"
    assert back.find(exp.RegexpLike).expression.this == expected  # type: ignore[union-attr]
