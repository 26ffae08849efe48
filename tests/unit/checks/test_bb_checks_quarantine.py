"""Quarantine counts per check by position, and flag columns never clash with the table's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlglot import exp

from enterprise_data_engineering.checks.base import BoundCheck
from enterprise_data_engineering.checks.evaluate import apply_quarantine
from enterprise_data_engineering.checks.registry import get_check
from enterprise_data_engineering.engines.base import EngineSettings
from enterprise_data_engineering.engines.duckdb import DuckDBEngine

ROWS = [(1, None, -5), (2, "b", 3), (3, None, 7), (4, "d", -1)]


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine(EngineSettings())
    values = ", ".join(f"({i}, {'NULL' if s is None else repr(s)}, {a})" for i, s, a in ROWS)
    eng.execute(
        "t",
        exp.maybe_parse(
            f"SELECT * FROM (VALUES {values}) v(id, _ede_flag_0, amount)", dialect="duckdb"
        ),  # type: ignore[arg-type]
    )
    yield eng
    eng.close()


def bind(name: str, check: str, **args: Any) -> BoundCheck:
    impl = get_check(check)
    assert impl is not None
    return BoundCheck(name, "t", impl, impl.parse_args(args), on_fail="quarantine")


def test_counts_are_per_check_even_with_equal_names(engine: DuckDBEngine) -> None:
    # `_ede_flag_0` is a column of the table: the flag columns pick other names
    checks = [
        bind("same", "not_null", columns=["_ede_flag_0"]),
        bind("same", "range", column="amount", min=0),
    ]
    outcome = apply_quarantine(engine, "t", checks, "run-1")
    nulls = sum(1 for _, s, _ in ROWS if s is None)
    negative = sum(1 for _, _, a in ROWS if a < 0)
    either = sum(1 for _, s, a in ROWS if s is None or a < 0)
    assert [r.failing_rows for r in outcome.results] == [nulls, negative]
    assert outcome.quarantined_rows == either
    kept = engine.fetch(exp.select("id", "_ede_flag_0", "amount").from_("t").order_by("id"))
    assert kept == [r for r in ROWS if r[1] is not None and r[2] >= 0]
    cols = [c.name for c in engine.columns(exp.select("*").from_("t"))]
    assert cols == ["id", "_ede_flag_0", "amount"]
    assert outcome.quarantine_table is not None
    lists = engine.fetch(
        exp.select("id", "_ede_failed_checks").from_(outcome.quarantine_table).order_by("id")
    )
    assert lists == [(1, ["same", "same"]), (3, ["same"]), (4, ["same"])]
