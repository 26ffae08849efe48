"""Evaluating checks in one pass, samples, column validation and quarantine (real DuckDB)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import pytest
import sqlglot
from sqlglot import exp

from enterprise_data_engineering.checks.base import BoundCheck, Check
from enterprise_data_engineering.checks.builtins import BUILTIN_CHECKS
from enterprise_data_engineering.checks.evaluate import (
    FAILED_CHECKS_COLUMN,
    RUN_ID_COLUMN,
    apply_quarantine,
    evaluate_checks,
    json_safe,
    quarantine_table_name,
)
from enterprise_data_engineering.engines.duckdb import DuckDBEngine
from enterprise_data_engineering.errors import ConfigError, EdeError

BY_NAME: dict[str, type[Check]] = {cls.name: cls for cls in BUILTIN_CHECKS}


class CountingEngine(DuckDBEngine):
    """DuckDB, remembering every query it fetched or executed."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[exp.Query] = []
        self.executed: list[exp.Query] = []

    def execute(self, name: str, query: exp.Query) -> int:
        self.executed.append(query)
        return super().execute(name, query)

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        self.fetched.append(query)
        return super().fetch(query)


@pytest.fixture
def engine() -> Iterator[CountingEngine]:
    eng = CountingEngine()
    eng.connection.execute(
        """
        CREATE TABLE orders AS SELECT * FROM (VALUES
            (1, 'new',  10.50::DECIMAL(12,2), DATE '2024-01-01', 'a@x.io'),
            (2, 'paid', NULL,                 DATE '2024-06-30', 'bad'),
            (3, NULL,   -1.00,                NULL,              NULL),
            (3, 'gone', 99.00,                DATE '2025-01-01', 'b@y.io')
        ) v(order_id, status, amount, day, email)
        """
    )
    yield eng
    eng.close()


def bind(
    check: str,
    table: str = "orders",
    *,
    name: str | None = None,
    severity: Literal["error", "warn"] = "error",
    on_fail: Literal["fail", "quarantine"] = "fail",
    **raw: Any,
) -> BoundCheck:
    impl = BY_NAME[check]()
    args = impl.parse_args(raw)
    suffix = impl.column_suffix(args)
    default = f"{table}.{check}" + (f".{suffix}" if suffix else "")
    return BoundCheck(
        name=name or default,
        table=table,
        check=impl,
        args=args,
        severity=severity,
        on_fail=on_fail,
    )


def tables(engine: DuckDBEngine) -> set[str]:
    return {
        r[0] for r in engine.connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }


# one pass ------------------------------------------------------------------------------------


def test_row_level_checks_run_in_one_aggregate_query(engine: CountingEngine) -> None:
    checks = [
        bind("not_null", columns=["order_id"]),
        bind("accepted_values", column="status", values=["new", "paid", "gone"]),
        bind("range", column="amount", min=-1, max=100),
        bind("regex", column="order_id", pattern="^[0-9]+$"),
        bind("expression", expr="order_id > 0"),
    ]
    results = evaluate_checks(engine, "orders", checks)
    assert [r.status for r in results] == ["passed"] * 5
    assert [r.failing_rows for r in results] == [0] * 5
    assert len(engine.fetched) == 1  # one pass over the table, however many checks
    assert all(r.sample == [] and r.message is None for r in results)


def test_failed_checks_fetch_samples_only_for_themselves(engine: CountingEngine) -> None:
    checks = [
        bind("not_null", columns=["status"]),
        bind("not_null", columns=["order_id"]),
        bind("expression", expr="amount >= 0", severity="warn"),
    ]
    results = evaluate_checks(engine, "orders", checks)
    assert [(r.status, r.failing_rows) for r in results] == [
        ("failed", 1),
        ("passed", 0),
        ("failed", 2),  # -1.00 and NULL: a NULL predicate fails the row
    ]
    assert len(engine.fetched) == 1 + 2  # the aggregate, then one sample per failed check
    assert results[2].severity == "warn"
    assert results[0].message == "1 of 4 rows failed"
    assert results[0].sample == [
        {
            "order_id": 3,
            "status": None,
            "amount": "-1.00",
            "day": None,
            "email": None,
        }
    ]
    assert {row["order_id"] for row in results[2].sample} == {2, 3}
    json.dumps([r.to_report() for r in results])  # samples are JSON-safe


def test_samples_are_limited_and_optional(engine: CountingEngine) -> None:
    failing = [bind("expression", expr="order_id > 100")]
    (result,) = evaluate_checks(engine, "orders", failing, sample_size=2)
    assert result.failing_rows == 4
    assert len(result.sample) == 2
    assert result.sample[0]["day"] == "2024-01-01"
    engine.fetched.clear()
    (result,) = evaluate_checks(engine, "orders", failing, sample_size=0)
    assert result.sample == [] and len(engine.fetched) == 1


def test_results_keep_the_order_and_identity_of_the_checks(engine: CountingEngine) -> None:
    checks = [
        bind("row_count", min=1, name="enough_rows"),
        bind("not_null", columns=["order_id"], severity="warn"),
        bind("unique", columns=["order_id"]),
    ]
    results = evaluate_checks(engine, "orders", checks)
    assert [r.name for r in results] == [
        "enough_rows",
        "orders.not_null.order_id",
        "orders.unique.order_id",
    ]
    assert [r.check for r in results] == ["row_count", "not_null", "unique"]
    assert [r.severity for r in results] == ["error", "warn", "error"]
    assert [r.table for r in results] == ["orders"] * 3
    assert [r.on_fail for r in results] == ["fail"] * 3


def test_empty_table_passes_row_level_checks(engine: CountingEngine) -> None:
    engine.connection.execute("CREATE TABLE empty AS SELECT * FROM orders WHERE false")
    results = evaluate_checks(
        engine,
        "empty",
        [bind("not_null", "empty", columns=["status"]), bind("row_count", "empty", min=1)],
    )
    assert [(r.status, r.failing_rows) for r in results] == [("passed", 0), ("failed", 1)]
    assert results[1].message == "row count 0 is below min 1"
    assert results[1].sample == [{"row_count": 0}]


def test_no_checks_no_queries(engine: CountingEngine) -> None:
    assert evaluate_checks(engine, "orders", []) == []
    assert engine.fetched == []


# table-level ---------------------------------------------------------------------------------


def test_unique_failure_and_sample(engine: CountingEngine) -> None:
    (result,) = evaluate_checks(engine, "orders", [bind("unique", columns=["order_id"])])
    assert (result.status, result.failing_rows) == ("failed", 2)
    assert result.sample == [{"order_id": 3, "duplicate_rows": 2}]
    (result,) = evaluate_checks(engine, "orders", [bind("unique", columns=["order_id", "status"])])
    assert (result.status, result.failing_rows, result.sample) == ("passed", 0, [])


def test_row_count_failure_message(engine: CountingEngine) -> None:
    (result,) = evaluate_checks(engine, "orders", [bind("row_count", max=3)])
    assert (result.status, result.failing_rows) == ("failed", 1)
    assert result.message == "row count 4 is above max 3"
    assert result.sample == [{"row_count": 4}]
    assert result.to_report()["message"] == "row count 4 is above max 3"


# errors --------------------------------------------------------------------------------------


def test_unknown_column_is_a_config_error(engine: CountingEngine) -> None:
    with pytest.raises(ConfigError) as info:
        evaluate_checks(engine, "orders", [bind("not_null", columns=["order_idd"])])
    message = str(info.value)
    assert "`orders.not_null.order_idd`" in message
    assert "no column `order_idd`" in message
    assert "did you mean `order_id`?" in message
    assert engine.fetched == []  # validated before any query runs


def test_unknown_column_in_an_expression(engine: CountingEngine) -> None:
    with pytest.raises(ConfigError, match="did you mean `amount`"):
        evaluate_checks(engine, "orders", [bind("expression", expr="amout > 0", name="positive")])


def test_column_names_are_case_insensitive(engine: CountingEngine) -> None:
    (result,) = evaluate_checks(engine, "orders", [bind("not_null", columns=["Order_ID"])])
    assert result.status == "passed"


def test_a_check_that_cannot_run_is_named(engine: CountingEngine) -> None:
    checks = [
        bind("not_null", columns=["order_id"]),
        bind("expression", expr="cast(status as integer) > 0", name="status_is_number"),
    ]
    with pytest.raises(EdeError, match="check `status_is_number` could not run"):
        evaluate_checks(engine, "orders", checks)


# quarantine ----------------------------------------------------------------------------------


def test_quarantine_splits_rows(engine: CountingEngine) -> None:
    checks = [
        bind("not_null", columns=["status"], on_fail="quarantine"),
        bind("range", column="amount", min=0, on_fail="quarantine"),
        bind("accepted_values", column="status", values=["new", "paid"], on_fail="quarantine"),
        bind("row_count", min=100),  # not a quarantine check: ignored
    ]
    outcome = apply_quarantine(engine, "orders", checks, run_id="run-42")
    target = quarantine_table_name("orders")
    assert outcome.table == "orders"
    assert outcome.quarantine_table == target == "orders__ede_quarantine"
    assert outcome.quarantined_rows == 2
    assert [(r.name, r.status, r.failing_rows, r.on_fail) for r in outcome.results] == [
        ("orders.not_null.status", "failed", 1, "quarantine"),
        ("orders.range.amount", "failed", 1, "quarantine"),
        ("orders.accepted_values.status", "failed", 1, "quarantine"),
    ]

    clean = engine.connection.execute('SELECT * FROM "orders" ORDER BY order_id').fetchall()
    assert [r[0] for r in clean] == [1, 2]
    assert [c.name for c in engine.columns(exp.select("*").from_("orders"))] == [
        "order_id",
        "status",
        "amount",
        "day",
        "email",
    ]

    quarantined = engine.columns(exp.select("*").from_(target))
    assert [c.name for c in quarantined] == [
        "order_id",
        "status",
        "amount",
        "day",
        "email",
        FAILED_CHECKS_COLUMN,
        RUN_ID_COLUMN,
    ]
    assert quarantined[-2].type.is_type(exp.DataType.Type.ARRAY, exp.DataType.Type.LIST)
    rows = engine.connection.execute(
        f'SELECT status, "{FAILED_CHECKS_COLUMN}", "{RUN_ID_COLUMN}" '
        f'FROM "{target}" ORDER BY status'
    ).fetchall()
    assert rows == [
        ("gone", ["orders.accepted_values.status"], "run-42"),
        (None, ["orders.not_null.status", "orders.range.amount"], "run-42"),  # both names
    ]
    assert "orders__ede_flagged" not in tables(engine)


def test_quarantine_with_nothing_to_move(engine: CountingEngine) -> None:
    before = engine.connection.execute("SELECT * FROM orders ORDER BY ALL").fetchall()
    outcome = apply_quarantine(
        engine, "orders", [bind("not_null", columns=["order_id"], on_fail="quarantine")], "r1"
    )
    assert outcome.quarantine_table is None
    assert outcome.quarantined_rows == 0
    assert [(r.status, r.failing_rows) for r in outcome.results] == [("passed", 0)]
    assert engine.connection.execute("SELECT * FROM orders ORDER BY ALL").fetchall() == before
    assert tables(engine) == {"orders"}


def test_quarantine_without_quarantine_checks_does_nothing(engine: CountingEngine) -> None:
    outcome = apply_quarantine(engine, "orders", [bind("not_null", columns=["status"])], "r1")
    assert (outcome.quarantine_table, outcome.quarantined_rows, outcome.results) == (None, 0, [])
    assert engine.fetched == []
    assert tables(engine) == {"orders"}


def test_quarantine_of_a_view(engine: CountingEngine) -> None:
    engine.connection.execute("CREATE VIEW orders_v AS SELECT * FROM orders")
    outcome = apply_quarantine(
        engine,
        "orders_v",
        [bind("regex", "orders_v", column="email", pattern="@", on_fail="quarantine")],
        "r",
    )
    assert outcome.quarantined_rows == 1  # 'bad'; the null email passes
    assert engine.connection.execute("SELECT count(*) FROM orders_v").fetchone() == (3,)


def test_quarantine_needs_row_level_checks(engine: CountingEngine) -> None:
    with pytest.raises(ConfigError, match="row-level"):
        apply_quarantine(
            engine, "orders", [bind("unique", columns=["order_id"], on_fail="quarantine")], "r"
        )


def test_quarantine_validates_columns(engine: CountingEngine) -> None:
    with pytest.raises(ConfigError, match="did you mean `status`"):
        apply_quarantine(
            engine, "orders", [bind("not_null", columns=["statu"], on_fail="quarantine")], "r"
        )


def test_quarantine_then_evaluate(engine: CountingEngine) -> None:
    """After quarantine the same checks pass on the cleaned table."""
    checks = [bind("expression", expr="amount >= 0", on_fail="quarantine")]
    outcome = apply_quarantine(engine, "orders", checks, "r")
    assert outcome.quarantined_rows == 2
    (result,) = evaluate_checks(engine, "orders", checks)
    assert result.status == "passed"


def test_every_query_renders_in_spark(engine: CountingEngine) -> None:
    checks = [
        bind("not_null", columns=["status"], on_fail="quarantine"),
        bind("regex", column="email", pattern=r"^\w+@", on_fail="quarantine"),
        bind("expression", expr="amount >= 0"),
        bind("unique", columns=["order_id"]),
        bind("row_count", max=1),
    ]
    evaluate_checks(engine, "orders", checks)
    apply_quarantine(engine, "orders", checks, "r")
    flagged = engine.executed[0].sql("spark", identify=True)
    assert "AS `_ede_flag_0`" in flagged and "AS `_ede_flag_1`" in flagged
    assert "FILTER(ARRAY(CASE WHEN" in engine.executed[1].sql("spark", identify=True)
    queries = engine.fetched + engine.executed
    assert len(queries) >= 8
    for query in queries:
        assert sqlglot.parse_one(query.sql("spark", identify=True), read="spark") is not None


def test_json_safe() -> None:
    import datetime as dt
    import uuid
    from decimal import Decimal

    value = {
        "d": dt.date(2024, 1, 2),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5),
        "n": Decimal("1.50"),
        "f": float("nan"),
        "b": b"\x00\x01",
        "u": uuid.UUID(int=0),
        "l": [dt.time(1, 2), {"k": Decimal(2)}],
    }
    safe = json_safe(value)
    json.dumps(safe, allow_nan=False)
    assert safe["d"] == "2024-01-02"
    assert safe["ts"] == "2024-01-02T03:04:05"
    assert safe["n"] == "1.50"
    assert safe["l"] == ["01:02:00", {"k": "2"}]
