"""What Spark cannot run as DuckDB does is found at validation time, with its position.

No Spark needed: this is SQLGlot work (the engine module never imports pyspark at import).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlglot

from enterprise_data_engineering.engines.spark import (
    SparkEngine,
    render_spark,
    rewrite_for_spark,
    strftime_to_spark,
)
from enterprise_data_engineering.transforms import values
from enterprise_data_engineering.transforms.sql import parse_expression, parse_query


def _reasons(text: str) -> list[str]:
    return [reason for _, reason in SparkEngine.unsupported(parse_expression(text))]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("regexp_full_match(a, 'x')", "function `regexp_full_match` has no Spark equivalent"),
        ("list_aggregate(l, 'sum') > 1", "function `list_aggregate` has no Spark equivalent"),
        ("my_udf(a) + 1", "function `my_udf` has no Spark equivalent"),
        ("hash(a)", "function `hash`: DuckDB and Spark hash with different algorithms"),
        ("a SIMILAR TO 'x.*'", "`SIMILAR TO` has no Spark equivalent"),
        ("CAST(a AS HUGEINT)", "Spark has no 128-bit integers"),
        ("CAST(a AS UBIGINT)", "Spark has no unsigned integers"),
        ("CAST(a AS TIME)", "Spark has no a time-of-day type"),
        ("array_agg(a ORDER BY b)", "an ordered aggregate"),
    ],
)
def test_what_spark_cannot_run_is_named(text: str, reason: str) -> None:
    (found,) = _reasons(text)
    assert reason in found


@pytest.mark.parametrize(
    "text",
    [
        "lower(trim(status)) = 'paid' AND amount > 0",
        "strftime(updated_at, '%Y-%m')",
        "try_strptime(d, '%d/%m/%Y') IS NOT NULL",
        "CASE WHEN a IS NULL THEN 'x' ELSE concat(b, '-', c) END",
        "regexp_matches(email, '^[a-z]+@')",
        "coalesce(a, b, 0) + length(s) * round(x, 2)",
        "CAST(a AS DECIMAL(12, 2)) / 2",
        "date_trunc('month', ts) < current_date",
        "list_contains(tags, 'x')",
        "sha256(email)",
    ],
)
def test_what_spark_runs_is_not_reported(text: str) -> None:
    assert _reasons(text) == []


def test_only_the_innermost_node_is_reported() -> None:
    query = parse_query("SELECT upper(regexp_full_match(a, 'x')::VARCHAR) AS b FROM t")
    found = SparkEngine.unsupported(query)
    assert [r for _, r in found] == ["function `regexp_full_match` has no Spark equivalent"]
    node, _ = found[0]
    assert node.meta["start"] == 13


def test_spark_date_patterns_are_the_transforms_patterns() -> None:
    # One definition (engines/strftime.py) serves the engine and transforms.values.
    assert values.strftime_to_spark is strftime_to_spark
    for fmt in ["%Y-%m-%d", "%d/%m/%Y %H:%M:%S", "%Y%m%d", "%Y-%m-%dT%H:%M", "%b %-d, %Y %I%p"]:
        node = values.parse_timestamp(parse_expression("d"), [fmt])
        rendered = rewrite_for_spark(node).sql("spark")
        assert (
            strftime_to_spark(fmt).replace("'", "\\'") in rendered
            or strftime_to_spark(fmt) in rendered
        ), rendered


def test_formatting_patterns_keep_zero_padding() -> None:
    assert strftime_to_spark("%d.%m.%Y %H:%M", lenient=False) == "dd.MM.yyyy HH:mm"
    assert strftime_to_spark("%d.%m.%Y %H:%M") == "d.M.yyyy H:m"


def test_rendering_for_spark_quotes_identifiers_and_parses_safely() -> None:
    node = values.parse_timestamp(parse_expression('"Order Date"'), ["%Y-%m-%dT%H"])
    text = render_spark(node)
    assert text == "TRY_TO_TIMESTAMP(`Order Date`, 'yyyy-M-d\\'T\\'H')"
    assert sqlglot.parse_one(text, read="spark") is not None


def test_importing_the_engine_does_not_import_pyspark() -> None:
    import subprocess

    code = (
        "import sys; import enterprise_data_engineering.engines.spark; "
        "import enterprise_data_engineering.spark; "
        "sys.exit(1 if 'pyspark' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


SPEC = """\
name: v
sources:
  raw: {format: csv, path: data/raw.csv}
steps:
  - name: t
    input: raw
    transforms:
      - filter: "id > 0 and regexp_full_match(name, 'a.*')"
      - derive:
          ok: "upper(name)"
          h: "hash(name)"
      - cast: {id: hugeint}
  - name: s
    sql: |
      SELECT id,
             list_aggregate(l, 'sum') AS x
      FROM t
checks:
  - {table: t, check: expression, expr: "id > 0 and my_udf(id)"}
"""


def test_validate_for_spark_reports_each_difference_at_its_position(
    tmp_path: Path, write_spec: object, ede: object
) -> None:
    spec = write_spec(tmp_path, SPEC)  # type: ignore[operator]
    code, _out, err = ede("validate", spec.name, "--engine", "spark", cwd=tmp_path)  # type: ignore[operator]
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[:6] == [
        "pipeline.yaml:8:29: step `t`: not supported on spark: function `regexp_full_match` "
        "has no Spark equivalent",
        "pipeline.yaml:11:15: step `t`: not supported on spark: function `hash`: DuckDB and "
        "Spark hash with different algorithms, so values differ",
        "pipeline.yaml:12:20: step `t`: not supported on spark: type `INT128`: Spark has no "
        "128-bit integers",
        "pipeline.yaml:16:14: step `s`: not supported on spark: function `list_aggregate` has "
        "no Spark equivalent",
        "pipeline.yaml:19:53: check `t.expression`: not supported on spark: function `my_udf` "
        "has no Spark equivalent",
        "Error: 5 problems in the spec",
    ]


def test_validate_for_duckdb_accepts_the_same_spec(
    tmp_path: Path, write_spec: object, ede: object
) -> None:
    spec = write_spec(tmp_path, SPEC)  # type: ignore[operator]
    code, _out, err = ede("validate", spec)  # type: ignore[operator]
    assert code == 0, err
