"""The lineage graph names the checks of sources and each quarantine table's own folder."""

from __future__ import annotations

from pathlib import Path

from enterprise_data_engineering.planning.graph import lineage, to_dot
from enterprise_data_engineering.planning.plan import build_plan
from enterprise_data_engineering.spec.loader import load_spec

SPEC = """\
name: qgraph
quarantine: {path: q, format: parquet}
sources:
  src: {format: csv, path: in.csv}
steps:
  - {name: t, input: src}
checks:
  - {table: src, check: not_null, columns: [grp], on_fail: quarantine}
  - {table: src, check: row_count, min: 1, name: src_rows}
sinks:
  t: {format: csv, path: out/t}
"""


def test_source_checks_and_quarantine_folder_in_the_graph(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    plan = build_plan(load_spec(spec))
    nodes, edges = lineage(plan)
    details = {n.id: n.detail for n in nodes}
    assert details["source:src"] == "csv: in.csv | checks: src.not_null.grp, src_rows"
    assert details["quarantine:src"] == f"{plan.quarantine_path.rstrip('/')}/src"
    assert details["quarantine:src"].endswith("/q/src")
    assert ("source:src", "quarantine:src") in edges
    assert "src_rows" in to_dot(plan)


def test_dot_keeps_unicode_as_text(tmp_path: Path) -> None:
    """DOT has no ``\\uXXXX`` escapes: a path such as ``café.csv`` is written as it is."""
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC.replace("in.csv", "données/café.csv"), encoding="utf-8")
    dot = to_dot(build_plan(load_spec(spec)))
    assert 'tooltip="csv: données/café.csv' in dot
    assert "\\u00e9" not in dot
