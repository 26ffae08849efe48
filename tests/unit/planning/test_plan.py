"""From a loaded spec to a plan: execution order, inputs from SQL, bound checks, selection."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlglot import exp

from enterprise_data_engineering.errors import ConfigError, SpecError
from enterprise_data_engineering.planning.describe import describe_plan
from enterprise_data_engineering.planning.plan import Plan, build_plan
from enterprise_data_engineering.spec import load_spec

SPEC = """\
name: orders_daily
sources:
  orders: {format: csv, path: data/orders.csv, schema: {order_id: bigint, amount: "decimal(12,2)"}}
  customers: {format: parquet, path: data/customers.parquet}
  fx: {format: json, path: s3://bucket/fx/}
steps:
  # declared out of order: each reads one declared after it
  - name: report
    sql: |
      WITH top AS (SELECT * FROM revenue ORDER BY revenue DESC LIMIT 3)
      SELECT * FROM top
  - name: revenue
    sql: |
      SELECT c.region, sum(o.amount) AS revenue
      FROM orders_clean o
      JOIN customers c USING (customer_id)
      JOIN read_parquet('extra/*.parquet') x ON true
      GROUP BY c.region
  - name: orders_clean
    input: orders
    transforms:
      - clean_column_names
      - filter: amount > 0
      - deduplicate: {keys: [order_id], order_by: updated_at desc}
  - name: fx_clean
    input: fx
checks:
  - {table: orders_clean, check: not_null, columns: [order_id]}
  - {table: orders_clean, check: not_null, columns: [order_id, amount], name: all_present}
  - {table: orders_clean, check: range, column: amount, min: 0, on_fail: quarantine}
  - {table: revenue, check: row_count, min: 1, severity: warn}
  - {table: fx_clean, check: unique, columns: [day, currency]}
sinks:
  report: {format: csv, path: out/report}
  revenue: {path: out/revenue, partition_by: [region]}
  fx_clean: {path: s3://bucket/out/fx}
"""


def plan_of(folder: Path, text: str = SPEC) -> Plan:
    spec = folder / "pipeline.yaml"
    spec.write_text(textwrap.dedent(text), encoding="utf-8")
    return build_plan(load_spec(spec))


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return plan_of(tmp_path)


def test_steps_run_in_dependency_order(plan: Plan) -> None:
    order = [s.name for s in plan.steps]

    assert set(order) == {"report", "revenue", "orders_clean", "fx_clean"}
    assert order.index("orders_clean") < order.index("revenue") < order.index("report")
    assert plan.order()[:3] == ["orders", "customers", "fx"]
    assert plan.name == "orders_daily"


def test_inputs_come_from_input_and_from_sql(plan: Plan) -> None:
    assert plan.inputs_of("orders_clean") == ("orders",)
    assert set(plan.inputs_of("revenue")) == {"orders_clean", "customers"}  # no table function
    assert plan.inputs_of("report") == ("revenue",)  # not the CTE `top`
    assert plan.inputs_of("orders") == ()
    revenue = next(s for s in plan.steps if s.name == "revenue")
    assert isinstance(revenue.query, exp.Query)
    assert revenue.transforms == ()


def test_transforms_are_bound_with_parsed_arguments(plan: Plan) -> None:
    step = next(s for s in plan.steps if s.name == "orders_clean")

    assert [t.name for t in step.transforms] == ["clean_column_names", "filter", "deduplicate"]
    assert step.transforms[0].args is None
    assert step.transforms[2].loc == ("steps", 2, "transforms", 2)
    assert step.query is None


def test_sources_become_read_requests(plan: Plan, tmp_path: Path) -> None:
    orders = plan.sources["orders"].request

    assert orders.path == str(tmp_path.resolve() / "data" / "orders.csv")
    assert orders.format == "csv"
    assert orders.columns is not None
    assert orders.columns["amount"].sql(dialect="duckdb") == "DECIMAL(12, 2)"
    assert plan.sources["fx"].request.path == "s3://bucket/fx/"


def test_checks_are_named_and_bound(plan: Plan) -> None:
    names = [(c.name, c.severity, c.on_fail) for c in plan.checks]

    assert names == [
        ("orders_clean.not_null.order_id", "error", "fail"),
        ("all_present", "error", "fail"),
        ("orders_clean.range.amount", "error", "quarantine"),
        ("revenue.row_count", "warn", "fail"),
        ("fx_clean.unique", "error", "fail"),
    ]
    assert [c.index for c in plan.checks] == [0, 1, 2, 3, 4]
    assert plan.checks[2].quarantines


def test_sinks_and_quarantine_paths(plan: Plan, tmp_path: Path) -> None:
    base = tmp_path.resolve()
    sinks = {s.name: s.path for s in plan.sinks}

    assert sinks == {
        "report": str(base / "out" / "report"),
        "revenue": str(base / "out" / "revenue"),
        "fx_clean": "s3://bucket/out/fx",
    }
    assert plan.quarantine_path == str(base / "quarantine")


def test_select_keeps_the_step_and_its_ancestors_only(plan: Plan) -> None:
    sub = plan.select(["revenue"])

    assert set(sub.sources) == {"orders", "customers"}
    assert [s.name for s in sub.steps] == ["orders_clean", "revenue"]
    assert {c.table for c in sub.checks} == {"orders_clean", "revenue"}
    assert [s.name for s in sub.sinks] == ["revenue"]
    assert sub.selected == ("revenue",)
    assert len(plan.steps) == 4  # the original plan is unchanged


def test_select_several_and_a_source(plan: Plan) -> None:
    sub = plan.select(["fx_clean", "customers"])

    assert set(sub.sources) == {"fx", "customers"}
    assert [s.name for s in sub.steps] == ["fx_clean"]
    assert [s.name for s in sub.sinks] == ["fx_clean"]


def test_select_unknown_name(plan: Plan) -> None:
    with pytest.raises(
        ConfigError, match=r"`revenu` is not a step or source \(did you mean `revenue`\?\)"
    ):
        plan.select(["revenu"])


def test_describe_plan_lists_nodes_in_order(plan: Plan, tmp_path: Path) -> None:
    nodes = describe_plan(plan)

    assert [n["name"] for n in nodes][:3] == ["orders", "customers", "fx"]
    by_name = {n["name"]: n for n in nodes}
    assert by_name["orders_clean"]["does"] == "clean_column_names → filter → deduplicate"
    assert by_name["revenue"]["does"] == "sql"
    assert by_name["revenue"]["writes"] == [
        f"parquet overwrite → {tmp_path.resolve() / 'out' / 'revenue'} by region"
    ]
    assert "orders_clean.range.amount [quarantine]" in by_name["orders_clean"]["checks"]
    assert by_name["orders_clean"]["writes"] == [
        f"quarantine → {tmp_path.resolve() / 'quarantine'}/orders_clean"
    ]
    assert by_name["revenue"]["checks"] == ["revenue.row_count [warn]"]


def test_all_problems_raised_together(tmp_path: Path) -> None:
    text = """\
        name: x
        sources:
          orders: {format: csv, path: a.csv}
        steps:
          - {name: b, sql: SELECT * FROM c}
          - {name: c, sql: SELECT * FROM b}
          - {name: d, input: nope}
        checks:
          - {table: orders, check: not_null, columns: [a]}
          - {table: orders, check: not_null, columns: [a]}
        sinks:
          orders: {path: out}
          d: {path: out}
        """

    with pytest.raises(SpecError) as info:
        plan_of(tmp_path, text)

    messages = [(p.position.line if p.position else 0, p.message) for p in info.value.problems]
    assert [line for line, _ in messages] == sorted(line for line, _ in messages)
    joined = "\n".join(m for _, m in messages)
    assert "cycle between steps" in joined
    assert "step `d` reads unknown table `nope`" in joined
    assert "duplicate check name" not in joined  # default names may repeat
    # `d` is broken but known: its sink is not "unknown"; the shared folder is reported
    assert "write the same folder" in joined
    assert "sink for unknown table" not in joined


def test_broken_entries_are_not_reported_again_as_unknown(tmp_path: Path) -> None:
    text = """\
        name: x
        sources:
          orders: {format: xlsx, path: a.csv}
        steps:
          - {name: clean, input: orders}
        checks:
          - {table: orders, check: row_count, min: 1}
        """

    with pytest.raises(SpecError) as info:
        plan_of(tmp_path, text)

    (problem,) = info.value.problems
    assert "xlsx" in problem.message


def test_an_unknown_param_in_sql_is_reported_once(tmp_path: Path) -> None:
    text = """\
        name: x
        params: {day: "2024-01-01"}
        sources:
          orders: {format: csv, path: a.csv}
        steps:
          - name: daily
            sql: SELECT * FROM orders WHERE day = ${params.dya}
        """

    with pytest.raises(SpecError) as info:
        plan_of(tmp_path, text)

    assert [p.message for p in info.value.problems] == [
        "unknown parameter `dya` in `${params.dya}` (did you mean `day`?)"
    ]


def test_sql_positions_point_inside_the_sql_text(tmp_path: Path) -> None:
    text = """\
        name: x
        sources:
          orders: {format: csv, path: a.csv}
        steps:
          - name: a
            sql: |
              SELECT * FROM orders o
              JOIN orders p ON true
              JOIN "ordres" q ON true
          - name: b
            sql: 'SELECT 1 FROM orders JOIN ordres ON true JOIN ordres ON true'
        """

    with pytest.raises(SpecError) as info:
        plan_of(tmp_path, text)

    positions = [(p.position.line, p.position.column) for p in info.value.problems if p.position]
    assert positions == [(9, 13), (11, 37), (11, 57)]
