"""The reference project's plugins: the transform and check on real DuckDB, and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from pydantic import ValidationError
from sqlglot import exp
from typer.testing import CliRunner

from enterprise_data_engineering.checks.base import BoundCheck
from enterprise_data_engineering.checks.evaluate import apply_quarantine, evaluate_checks
from enterprise_data_engineering.checks.registry import get_check
from enterprise_data_engineering.engines.duckdb import DuckDBEngine
from enterprise_data_engineering.errors import ConfigError
from enterprise_data_engineering.planning.plan import build_plan
from enterprise_data_engineering.spec.loader import load_spec
from enterprise_data_engineering.transforms.base import Relation, TransformError
from enterprise_data_engineering.transforms.registry import get_transform
from reference_python_project import cli as reference_cli
from reference_python_project.extensions import (
    NonNegative,
    NonNegativeArgs,
    NormalizeWhitespace,
    NormalizeWhitespaceArgs,
    normalize_whitespace,
)
from reference_python_project.pipelines import example_spec, list_examples


class _Context:
    """The TransformContext a step gives its transforms."""

    run_id = "test-run"
    started_at = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine = engine

    def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
        return self.engine.fetch(query)[0]


@pytest.fixture
def engine() -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine()
    eng.connection.execute(
        """
        CREATE TABLE people AS SELECT * FROM (VALUES
            (1, '  Anna   Schmidt ', E'Berlin\\t\\tMitte', -5.5),
            (2, 'Ben Martin',        'Paris',              0.0),
            (3, NULL,                E'\\n Tokyo \\n',     NULL),
            (4, E'Chloe\\t Smith',   '',                   12.25),
            (5, '   ',               'Lima',               -0.01)
        ) v(id, name, city, balance)
        """
    )
    yield eng
    eng.close()


def _relation(engine: DuckDBEngine, name: str) -> Relation:
    source = exp.Table(this=exp.to_identifier(name, quoted=True))
    return Relation(source=source, columns=tuple(engine.columns(exp.select("*").from_(source))))


def _run(engine: DuckDBEngine, query: exp.Select) -> list[tuple[Any, ...]]:
    return engine.fetch(query)


# normalize_whitespace -------------------------------------------------------------------------


def test_normalize_whitespace_trims_and_collapses_on_duckdb(engine: DuckDBEngine) -> None:
    transform = NormalizeWhitespace()
    args = transform.parse_args({"columns": ["name", "city"]})
    query = transform.apply(_relation(engine, "people"), args, _Context(engine))
    rows = _run(engine, query.order_by("id"))
    assert [row[:3] for row in rows] == [
        (1, "Anna Schmidt", "Berlin Mitte"),
        (2, "Ben Martin", "Paris"),
        (3, None, "Tokyo"),
        (4, "Chloe Smith", ""),
        (5, "", "Lima"),
    ]
    # the other column is untouched
    assert [str(row[3]) for row in rows] == ["-5.50", "0.00", "None", "12.25", "-0.01"]


def test_normalize_whitespace_keeps_columns_order_and_types(engine: DuckDBEngine) -> None:
    transform = NormalizeWhitespace()
    before = _relation(engine, "people")
    query = transform.apply(before, transform.parse_args({"columns": ["city"]}), _Context(engine))
    after = engine.columns(query)
    assert [(c.name, c.type_sql) for c in after] == [(c.name, c.type_sql) for c in before.columns]


def test_normalize_whitespace_renders_for_duckdb_and_spark() -> None:
    expr = normalize_whitespace(exp.column(exp.to_identifier("name", quoted=True)))
    # DuckDB replaces only the first match unless told 'g'; Spark always replaces all.
    assert expr.sql("duckdb") == "TRIM(REGEXP_REPLACE(\"name\", '\\s+', ' ', 'g'))"
    assert expr.sql("spark") == "TRIM(REGEXP_REPLACE(`name`, '\\\\s+', ' '))"
    # the Spark text parses back to the same expression
    assert sqlglot.parse_one(expr.sql("spark"), read="spark") == expr


def test_normalize_whitespace_rejects_non_string_and_unknown_columns(
    engine: DuckDBEngine,
) -> None:
    transform = NormalizeWhitespace()
    relation = _relation(engine, "people")
    with pytest.raises(TransformError, match=r"`balance` is DECIMAL.*not a string column"):
        transform.apply(relation, transform.parse_args({"columns": ["balance"]}), _Context(engine))
    with pytest.raises(TransformError, match=r"unknown column `nmae`.*did you mean `name`"):
        transform.apply(relation, transform.parse_args({"columns": ["nmae"]}), _Context(engine))


@pytest.mark.parametrize(
    "raw",
    [None, {}, {"columns": []}, {"columns": ["a"], "extra": 1}, {"cols": ["a"]}, ["a"]],
)
def test_normalize_whitespace_arguments_are_validated(raw: Any) -> None:
    with pytest.raises(ValidationError):
        NormalizeWhitespace().parse_args(raw)


# non_negative -------------------------------------------------------------------------------


def _bound(column: str, on_fail: str = "fail") -> BoundCheck:
    check = NonNegative()
    return BoundCheck(
        name=f"people.non_negative.{column}",
        table="people",
        check=check,
        args=check.parse_args({"column": column}),
        on_fail=on_fail,  # type: ignore[arg-type]
    )


def test_non_negative_counts_negative_values_and_nulls_pass(engine: DuckDBEngine) -> None:
    (result,) = evaluate_checks(engine, "people", [_bound("balance")])
    assert (result.status, result.failing_rows) == ("failed", 2)
    assert sorted(row["id"] for row in result.sample) == [1, 5]


def test_non_negative_passes_on_non_negative_data(engine: DuckDBEngine) -> None:
    engine.connection.execute("CREATE TABLE ok AS SELECT * FROM people WHERE id IN (2, 3, 4)")
    check = NonNegative()
    bound = BoundCheck(
        name="ok.non_negative.balance",
        table="ok",
        check=check,
        args=check.parse_args({"column": "balance"}),
    )
    (result,) = evaluate_checks(engine, "ok", [bound])
    assert (result.status, result.failing_rows) == ("passed", 0)


def test_non_negative_quarantines_rows(engine: DuckDBEngine) -> None:
    outcome = apply_quarantine(engine, "people", [_bound("balance", "quarantine")], "run-1")
    assert outcome.quarantined_rows == 2
    assert [
        r[0] for r in engine.connection.execute("SELECT id FROM people ORDER BY id").fetchall()
    ] == [
        2,
        3,
        4,
    ]


def test_non_negative_violation_is_never_null() -> None:
    predicate = NonNegative().violation(NonNegativeArgs(column="x"), ())
    assert predicate.sql("duckdb") == 'COALESCE("x" < 0, FALSE)'
    assert predicate.sql("spark") == "COALESCE(`x` < 0, FALSE)"


def test_non_negative_arguments_are_validated() -> None:
    with pytest.raises(ValidationError):
        NonNegative().parse_args({"column": "x", "min": 0})
    with pytest.raises(ValidationError):
        NonNegative().parse_args({})


# registration ---------------------------------------------------------------------------------


def test_plugins_are_registered_through_entry_points() -> None:
    assert isinstance(get_transform("normalize_whitespace"), NormalizeWhitespace)
    assert isinstance(get_check("non_negative"), NonNegative)
    assert NormalizeWhitespace.args_type is NormalizeWhitespaceArgs


# CLI plugin ---------------------------------------------------------------------------------


def test_hello_pipeline_prints_a_valid_spec(tmp_path: Path) -> None:
    result = CliRunner().invoke(reference_cli.app, ["hello-pipeline", "sales_daily"])
    assert result.exit_code == 0, result.output
    spec_path = tmp_path / "sales_daily.yaml"
    spec_path.write_text(result.stdout, encoding="utf-8")
    plan = build_plan(load_spec(spec_path))  # raises SpecError if the spec is not valid
    assert plan.name == "sales_daily"
    assert [step.name for step in plan.steps] == ["sales_daily_clean"]


def test_hello_pipeline_rejects_a_bad_name() -> None:
    with pytest.raises(ConfigError, match="invalid pipeline name `Bad-Name`"):
        reference_cli.hello_spec("Bad-Name")
    with pytest.raises(ConfigError, match="invalid source format"):
        reference_cli.hello_spec("ok", "xlsx")


def test_example_specs_are_found() -> None:
    assert {"orders_daily", "quickstart"} <= set(list_examples())
    assert example_spec("orders_daily").name == "pipeline.yaml"
    with pytest.raises(ConfigError, match="did you mean `orders_daily`"):
        example_spec("orders_dialy")
