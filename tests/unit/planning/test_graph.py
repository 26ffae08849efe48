"""The lineage graph: nodes and edges, and its Mermaid, DOT and HTML renderings."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from enterprise_data_engineering.planning.graph import (
    RENDERERS,
    lineage,
    to_dot,
    to_html,
    to_mermaid,
)
from enterprise_data_engineering.planning.plan import Plan, build_plan
from enterprise_data_engineering.spec import load_spec

SPEC = """\
name: orders_daily
description: Orders <b>&</b> "revenue"
sources:
  orders: {format: csv, path: data/orders.csv}
  customers: {format: parquet, path: data/customers.parquet}
steps:
  - name: orders_clean
    input: orders
    transforms: [clean_column_names]
  - name: revenue_by_region
    sql: SELECT region, sum(amount) AS r FROM orders_clean JOIN customers USING (id) GROUP BY 1
checks:
  - {table: orders_clean, check: not_null, columns: [order_id], on_fail: quarantine}
  - {table: revenue_by_region, check: row_count, min: 1}
sinks:
  revenue_by_region: {format: parquet, path: out/revenue}
  orders: {format: csv, path: out/raw_orders}
"""


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(textwrap.dedent(SPEC), encoding="utf-8")
    return build_plan(load_spec(spec))


def test_lineage_nodes_and_edges(plan: Plan) -> None:
    nodes, edges = lineage(plan)

    assert [(n.id, n.kind) for n in nodes] == [
        ("source:orders", "source"),
        ("source:customers", "source"),
        ("step:orders_clean", "step"),
        ("step:revenue_by_region", "step"),
        ("sink:revenue_by_region", "sink"),
        ("sink:orders", "sink"),
        ("quarantine:orders_clean", "quarantine"),
    ]
    assert set(edges) == {
        ("source:orders", "step:orders_clean"),
        ("step:orders_clean", "step:revenue_by_region"),
        ("source:customers", "step:revenue_by_region"),
        ("step:revenue_by_region", "sink:revenue_by_region"),
        ("source:orders", "sink:orders"),
        ("step:orders_clean", "quarantine:orders_clean"),
    }
    details = {n.id: n.detail for n in nodes}
    assert details["step:orders_clean"] == (
        "clean_column_names | checks: orders_clean.not_null.order_id"
    )
    assert details["step:revenue_by_region"].startswith("sql")
    assert details["sink:revenue_by_region"] == "out/revenue"


def test_mermaid(plan: Plan) -> None:
    text = to_mermaid(plan)
    lines = text.splitlines()

    assert lines[0] == "flowchart LR"
    assert '    n_source_orders[("orders")]' in lines
    assert '    n_step_orders_clean["orders_clean"]' in lines
    assert '    n_sink_revenue_by_region[/"revenue_by_region (parquet)"/]' in lines
    assert "    n_source_orders --> n_step_orders_clean" in lines
    assert "    n_step_orders_clean --> n_quarantine_orders_clean" in lines
    # every node id used in an edge is declared
    declared = {m.group(1) for m in re.finditer(r"^    (n_\w+)[\[({]", text, re.MULTILINE)}
    used = set(re.findall(r"(n_\w+) --> (n_\w+)", text)[0])
    assert used <= declared


def test_dot(plan: Plan) -> None:
    text = to_dot(plan)

    assert text.startswith('digraph "orders_daily" {\n')
    assert text.rstrip().endswith("}")
    assert '"source:orders" -> "step:orders_clean";' in text
    assert '"step:revenue_by_region" -> "sink:revenue_by_region";' in text
    assert re.search(r'"source:orders" \[label="orders", .*shape=cylinder', text)
    node_lines = [line for line in text.splitlines() if "[label=" in line]
    assert len(node_lines) == 7


def test_html_is_self_contained_and_escaped(plan: Plan) -> None:
    page = to_html(plan)

    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"http://www.w3.org/2000/svg"}
    # the description is text, not markup
    assert "<b>" not in page
    assert "Orders &lt;b&gt;&amp;&lt;/b&gt; &quot;revenue&quot;" in page
    for name in ("orders", "customers", "orders_clean", "revenue_by_region"):
        assert f">{name}</text>" in page
    assert page.count('class="edge"') == 6
    assert page.count("<g class=") == 7


def test_html_layers_follow_the_dag(plan: Plan) -> None:
    page = to_html(plan)

    def x_of(label: str) -> float:
        match = re.search(rf'<rect x="([\d.]+)"[^>]*/><text [^>]*>{re.escape(label)}</text>', page)
        assert match, label
        return float(match.group(1))

    assert x_of("orders") < x_of("orders_clean") < x_of("revenue_by_region")
    assert x_of("orders") == x_of("customers")


def test_renderers_by_format(plan: Plan) -> None:
    assert set(RENDERERS) == {"mermaid", "dot", "html"}
    assert RENDERERS["mermaid"](plan) == to_mermaid(plan)


def test_graph_of_an_empty_pipeline(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text("name: empty\n", encoding="utf-8")
    plan = build_plan(load_spec(spec))

    assert lineage(plan) == ([], [])
    assert to_mermaid(plan).startswith("flowchart LR\n")
    assert to_dot(plan).startswith('digraph "empty" {')
    assert "<svg" in to_html(plan)
