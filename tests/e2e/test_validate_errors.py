"""`ede validate` on broken specs: exit 1, one ``FILE:LINE:COL: message`` line per problem.

The table runs through the CLI's ``main()`` in-process (argument parsing, exit code,
stderr) to stay fast, and a sample of it, plus the other tests here, through a real
``python -m enterprise_data_engineering`` subprocess. Expected positions are counted by hand
from the YAML text of each case (lines and columns count from 1).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

SPEC = "pipeline.yaml"
UNSET_VAR = "EDE_TEST_SURELY_UNSET_VARIABLE"

# (line, column, fragments of the message that must all appear on that line)
Expected = tuple[int, int, tuple[str, ...]]


def case(id: str, yaml: str, *problems: Expected, args: tuple[str, ...] = ()) -> Any:
    return pytest.param(yaml, list(problems), args, id=id)


CASES = [
    # --- YAML itself -------------------------------------------------------------------------
    case(
        "yaml_syntax_error",
        """\
        name: orders_daily
        description: a: b
        """,
        (2, 15, ("invalid YAML", "mapping values are not allowed")),
    ),
    case(
        "yaml_bad_indentation",
        """\
        name: orders_daily
        sources:
          orders:
            format: csv
           path: data/orders.csv
        """,
        (5, 4, ("invalid YAML",)),
    ),
    case(
        "yaml_duplicate_key",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/a.csv}
          orders: {format: csv, path: data/b.csv}
        """,
        (4, 3, ("duplicate key `orders`",)),
    ),
    case(
        "top_level_not_a_mapping",
        """\
        - name: orders_daily
        - steps: []
        """,
        (1, 1, ("must be a YAML mapping",)),
    ),
    case("empty_file", "", (1, 1, ("must be a YAML mapping",))),
    # --- top level ---------------------------------------------------------------------------
    case(
        "missing_name",
        """\
        description: no name here
        sources:
          orders: {format: csv, path: data/orders.csv}
        """,
        (1, 1, ("missing required field `name`",)),
    ),
    case(
        "invalid_pipeline_name",
        """\
        name: Orders-Daily
        """,
        (1, 7, ("invalid name `Orders-Daily`", "[a-z][a-z0-9_]*")),
    ),
    case(
        "unknown_top_level_field",
        """\
        name: orders_daily
        soruces:
          orders: {format: csv, path: data/orders.csv}
        """,
        (2, 1, ("unknown field `soruces`", "(did you mean `sources`?)")),
    ),
    case(
        "unknown_engine",
        """\
        name: orders_daily
        engine: duckbd
        """,
        (2, 9, ("unknown engine `duckbd`", "(did you mean `duckdb`?)")),
    ),
    case(
        "steps_not_a_list",
        """\
        name: orders_daily
        steps:
          orders_clean: {input: orders}
        """,
        (3, 3, ("`steps` must be a list",)),
    ),
    # --- sources -----------------------------------------------------------------------------
    case(
        "unknown_source_field",
        """\
        name: orders_daily
        sources:
          orders:
            format: csv
            path: data/orders.csv
            optoins: {header: true}
        """,
        (6, 5, ("unknown field `optoins`", "(did you mean `options`?)")),
    ),
    case(
        "bad_source_format",
        """\
        name: orders_daily
        sources:
          orders:
            format: xlsx
            path: data/orders.xlsx
        """,
        (4, 13, ("invalid value `xlsx` for `format`", "'csv', 'parquet' or 'json'")),
    ),
    case(
        "source_missing_path",
        """\
        name: orders_daily
        sources:
          orders:
            format: csv
        """,
        (4, 5, ("missing required field `path`",)),
    ),
    case(
        "unknown_schema_type",
        """\
        name: orders_daily
        sources:
          orders:
            format: csv
            path: data/orders.csv
            schema:
              order_id: bigint
              amount: dollars
        """,
        (8, 15, ("source `orders`", "unknown SQL type `dollars`")),
    ),
    # --- steps -------------------------------------------------------------------------------
    case(
        "unknown_step_field",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transfroms: [clean_column_names]
        """,
        (7, 5, ("unknown field `transfroms`", "(did you mean `transforms`?)")),
    ),
    case(
        "step_with_input_and_sql",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            sql: SELECT * FROM orders
        """,
        (5, 5, ("exactly one of `input` or `sql`",)),
    ),
    case(
        "step_without_input_or_sql",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            transforms: [clean_column_names]
        """,
        (5, 5, ("exactly one of `input` or `sql`",)),
    ),
    case(
        "step_input_unknown",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: ordres
        """,
        (6, 12, ("step `orders_clean` reads unknown table `ordres`", "(did you mean `orders`?)")),
    ),
    case(
        "sql_unknown_table_in_block",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
          customers: {format: parquet, path: data/customers.parquet}
        steps:
          - name: revenue_by_region
            sql: |
              SELECT c.region, sum(o.amount) AS revenue
              FROM orders o
              JOIN custmers c USING (customer_id)
              GROUP BY c.region
        """,
        (10, 12, ("reads unknown table `custmers`", "(did you mean `customers`?)")),
    ),
    case(
        "sql_unknown_table_in_folded_block",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
          customers: {format: parquet, path: data/customers.parquet}
        steps:
          - name: revenue_by_region
            sql: >
              SELECT c.region, sum(o.amount) AS revenue
              FROM orders o JOIN custmers c USING (customer_id)
              GROUP BY c.region
        """,
        (9, 26, ("reads unknown table `custmers`", "(did you mean `customers`?)")),
    ),
    case(
        "sql_unknown_table_inline",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_copy
            sql: "SELECT * FROM ordrs"
        """,
        (6, 25, ("reads unknown table `ordrs`", "(did you mean `orders`?)")),
    ),
    case(
        "sql_syntax_error",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: big_orders
            sql: |
              SELECT order_id
              FROM orders
              WHERE (amount > 100
        """,
        (9, 23, ("step `big_orders`", "invalid SQL")),
    ),
    case(
        "sql_not_a_select",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: gone
            sql: DELETE FROM orders
        """,
        (6, 10, ("must be a SELECT",)),
    ),
    case(
        "cycle_between_steps",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: enriched
            sql: SELECT * FROM scored
          - name: scored
            input: enriched
        """,
        (5, 11, ("cycle between steps", "`enriched`", "`scored`")),
    ),
    case(
        "duplicate_step_name",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
          - name: orders_clean
            input: orders
        """,
        (7, 11, ("duplicate name `orders_clean`", f"first defined at {SPEC}:5:11")),
    ),
    case(
        "step_named_like_a_source",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
          customers: {format: csv, path: data/customers.csv}
        steps:
          - name: orders
            input: customers
        """,
        (6, 11, ("duplicate name `orders`", f"first defined at {SPEC}:3:3")),
    ),
    case(
        "invalid_step_identifier",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: Orders-Clean
            input: orders
        """,
        (5, 11, ("invalid step name `Orders-Clean`",)),
    ),
    # --- transforms --------------------------------------------------------------------------
    case(
        "unknown_transform",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - clean_colum_names
        """,
        (8, 9, ("unknown transform `clean_colum_names`", "(did you mean `clean_column_names`?)")),
    ),
    case(
        "transform_not_a_name_or_mapping",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - [select, order_id]
        """,
        (8, 9, ("a transform is a name or a mapping with one key",)),
    ),
    case(
        "select_not_a_list",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - select: order_id
        """,
        (8, 17, ("transform `select`", "valid list")),
    ),
    case(
        "cast_not_a_mapping",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - cast: [amount]
        """,
        (8, 15, ("transform `cast`", "valid dictionary")),
    ),
    case(
        "deduplicate_missing_keys",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - deduplicate: {order_by: updated_at desc}
        """,
        (8, 22, ("transform `deduplicate`", "missing required field `keys`")),
    ),
    case(
        "deduplicate_unknown_argument",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - deduplicate:
                  keys: [order_id]
                  order: updated_at desc
        """,
        (10, 11, ("transform `deduplicate`", "unknown field `order`", "did you mean `order_by`")),
    ),
    case(
        "remove_empty_columns_threshold_above_one",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - remove_empty_columns: {threshold: 2}
        """,
        (8, 43, ("transform `remove_empty_columns`", "threshold")),
    ),
    case(
        "filter_sql_syntax_error",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - filter: "amount >"
        """,
        (8, 17, ("transform `filter`", "invalid SQL", "`amount >`")),
    ),
    case(
        "derive_sql_syntax_error",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - derive: {x: "1 +"}
        """,
        (8, 21, ("transform `derive`", "invalid SQL", "`1 +`")),
    ),
    case(
        "cast_unknown_type",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - cast: {amount: money_please}
        """,
        (8, 24, ("transform `cast`", "unknown SQL type `money_please`")),
    ),
    case(
        "transform_without_arguments_given_some",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - clean_column_names: {style: snake}
        """,
        (8, 29, ("takes no arguments",)),
    ),
    # --- checks ------------------------------------------------------------------------------
    case(
        "unknown_check",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: not_nul, columns: [order_id]}
        """,
        (5, 28, ("unknown check `not_nul`", "(did you mean `not_null`?)")),
    ),
    case(
        "check_on_unknown_table",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: ordrs, check: not_null, columns: [order_id]}
        """,
        (5, 13, ("check on unknown table `ordrs`", "(did you mean `orders`?)")),
    ),
    case(
        "not_null_without_columns",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: not_null}
        """,
        (5, 5, ("check `not_null`", "missing required field `columns`")),
    ),
    case(
        "accepted_values_without_values",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: accepted_values, column: status}
        """,
        (5, 5, ("check `accepted_values`", "missing required field `values`")),
    ),
    case(
        "unknown_check_argument",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - table: orders
            check: not_null
            columns: [order_id]
            colums: [amount]
        """,
        (8, 5, ("check `not_null`", "unknown field `colums`", "(did you mean `columns`?)")),
    ),
    case(
        "check_bad_severity",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - table: orders
            check: row_count
            min: 1
            severity: fatal
        """,
        (8, 15, ("invalid value `fatal` for `severity`",)),
    ),
    case(
        "quarantine_on_table_level_check",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - table: orders
            check: unique
            columns: [order_id]
            on_fail: quarantine
        """,
        (8, 14, ("check `unique` is not row-level",)),
    ),
    # --- sinks -------------------------------------------------------------------------------
    case(
        "sink_for_unknown_table",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        sinks:
          ordrs: {format: parquet, path: out/orders}
        """,
        (5, 3, ("sink for unknown table `ordrs`", "(did you mean `orders`?)")),
    ),
    case(
        "unknown_sink_field",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        sinks:
          orders:
            path: out/orders
            partiton_by: [region]
        """,
        (7, 5, ("unknown field `partiton_by`", "(did you mean `partition_by`?)")),
    ),
    case(
        "two_sinks_same_path",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - {name: orders_clean, input: orders}
        sinks:
          orders: {path: out/orders}
          orders_clean: {path: out/orders/}
        """,
        (8, 24, ("`orders` and `orders_clean` write the same folder",)),
    ),
    case(
        "sink_inside_a_later_sink",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - {name: orders_clean, input: orders}
        sinks:
          orders_clean: {format: csv, path: out/x/y}
          orders: {format: csv, path: out/x}
        """,
        (7, 37, ("sinks `orders` and `orders_clean` write nested folders", "`out/x/y` is inside")),
    ),
    case(
        "sink_inside_an_earlier_sink",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - {name: orders_clean, input: orders}
        sinks:
          orders: {path: ./out/x/}
          orders_clean: {path: out/elsewhere/../x/y/}
        """,
        (8, 24, ("sinks `orders` and `orders_clean` write nested folders",)),
    ),
    case(
        "s3_sinks_nest",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - {name: orders_clean, input: orders}
          - {name: totals, input: orders}
        sinks:
          orders: {path: "s3://lake/out/orders/"}
          orders_clean: {path: "s3://lake/out//orders/./clean"}
          totals: {path: "s3://lake/out/orders_totals"}
        """,
        (9, 24, ("sinks `orders` and `orders_clean` write nested folders",)),
    ),
    case(
        "quarantine_folder_is_a_sink_folder",
        """\
        name: orders_daily
        quarantine: {path: out/orders}
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          orders: {format: csv, path: out/orders/orders}
        """,
        (2, 20, ("quarantine folder `out/orders/orders` of table `orders` is also the folder",)),
    ),
    case(
        "default_quarantine_folder_inside_a_sink",
        """\
        name: orders_daily
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          orders: {path: quarantine}
        """,
        (7, 18, ("quarantine folder `quarantine/orders` of table `orders` is inside",)),
    ),
    # --- interpolation -----------------------------------------------------------------------
    case(
        "unknown_param",
        """\
        name: orders_daily
        params:
          min_amount: 0
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: orders_clean
            input: orders
            transforms:
              - filter: "amount > ${params.min_amout}"
        """,
        (10, 17, ("unknown parameter `min_amout`", "(did you mean `min_amount`?)")),
    ),
    case(
        "unknown_param_in_sql",
        """\
        name: orders_daily
        params:
          region: eu
        sources:
          orders: {format: csv, path: data/orders.csv}
        steps:
          - name: regional
            sql: |
              SELECT * FROM orders WHERE region = '${params.regoin}'
        """,
        (8, 10, ("unknown parameter `regoin`", "(did you mean `region`?)")),
    ),
    case(
        "unset_env_var",
        f"""\
        name: orders_daily
        sources:
          orders: {{format: csv, path: "${{env:{UNSET_VAR}}}/orders.csv"}}
        """,
        (3, 31, (f"environment variable `{UNSET_VAR}` is not set",)),
    ),
    case(
        "unknown_reference_form",
        """\
        name: orders_daily
        description: "made by ${user}"
        """,
        (2, 14, ("unknown reference `${user}`",)),
    ),
    case(
        "param_override_breaks_a_check",
        """\
        name: orders_daily
        params:
          min_rows: 1
        sources:
          orders: {format: csv, path: data/orders.csv}
        checks:
          - {table: orders, check: row_count, min: "${params.min_rows}", max: 0}
        """,
        (7, 5, ("check `row_count`",)),
        args=("--param", "min_rows=5"),
    ),
]


def _problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(rf"{re.escape(SPEC)}:\d+:\d+: ", line)]


def _assert_reported(
    code: int, stdout: str, stderr: str, expected: list[Expected], work: Path, home: Path
) -> None:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    lines = _problem_lines(stderr)
    assert len(lines) == len(expected), stderr
    for line, (row, col, fragments) in zip(lines, sorted(expected), strict=True):
        assert line.startswith(f"{SPEC}:{row}:{col}: "), stderr
        for fragment in fragments:
            assert fragment in line, line
    if len(expected) > 1:
        assert f"Error: {len(expected)} problems in the spec" in stderr
    # validation never touches data: the folder holds the spec only, the history is empty
    assert sorted(p.name for p in work.iterdir()) == [SPEC]
    assert list(home.iterdir()) == []


def _write_case(tmp_path: Path, yaml: str) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / SPEC).write_text(textwrap.dedent(yaml), encoding="utf-8")
    return work


@pytest.mark.parametrize(("yaml", "expected", "args"), CASES)
def test_validate_reports_the_problem_at_its_position(
    tmp_path: Path,
    ede_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    yaml: str,
    expected: list[Expected],
    args: tuple[str, ...],
) -> None:
    """The whole table through the CLI's ``main()`` in-process (fast), exit code included."""
    from enterprise_data_engineering.cli.app import main

    work = _write_case(tmp_path, yaml)
    monkeypatch.chdir(work)
    monkeypatch.delenv(UNSET_VAR, raising=False)
    monkeypatch.delenv("EDE_DEBUG", raising=False)

    with pytest.raises(SystemExit) as info:
        main(["validate", SPEC, *args])

    out, err = capsys.readouterr()
    _assert_reported(int(info.value.code or 0), out, err, expected, work, ede_home)


SUBPROCESS_SAMPLE = {
    "yaml_syntax_error",
    "unknown_top_level_field",
    "sql_unknown_table_in_block",
    "unknown_transform",
    "unknown_param",
    "param_override_breaks_a_check",
}


@pytest.mark.parametrize(
    ("yaml", "expected", "args"), [c for c in CASES if c.id in SUBPROCESS_SAMPLE]
)
def test_validate_in_a_real_process(
    ede: Any,
    tmp_path: Path,
    ede_home: Path,
    yaml: str,
    expected: list[Expected],
    args: tuple[str, ...],
) -> None:
    """A sample of the table through ``python -m enterprise_data_engineering``."""
    work = _write_case(tmp_path, yaml)

    code, stdout, stderr = ede("validate", SPEC, *args, cwd=work, env={UNSET_VAR: None})

    _assert_reported(code, stdout, stderr, expected, work, ede_home)


MANY_PROBLEMS = """\
    name: orders_daily
    sources:
      orders: {format: csv, path: data/orders.csv}
      customers: {format: parquet, path: data/customers.parquet}
    steps:
      - name: orders_clean
        input: ordres
        transforms:
          - clean_colum_names
      - name: revenue
        sql: |
          SELECT region, sum(amount) AS revenue
          FROM orders_clean JOIN custmers USING (customer_id)
          GROUP BY region
    checks:
      - {table: revenue, check: not_nul, columns: [region]}
    sinks:
      revenu: {format: parquet, path: out/revenue}
    """


def test_every_problem_is_reported_in_one_run_sorted_by_line(
    ede: Any, tmp_path: Path, write_spec: Any
) -> None:
    write_spec(tmp_path / "project", MANY_PROBLEMS)

    # FILE is the spec path exactly as given on the command line
    code, _, stderr = ede("validate", "project/pipeline.yaml", cwd=tmp_path)

    assert code == 1
    assert "Traceback" not in stderr
    problems = [line for line in stderr.splitlines() if line.startswith("project/pipeline.yaml:")]
    assert problems == [
        "project/pipeline.yaml:7:12: step `orders_clean` reads unknown table `ordres` "
        "(did you mean `orders`?)",
        "project/pipeline.yaml:9:9: unknown transform `clean_colum_names` "
        "(did you mean `clean_column_names`?)",
        "project/pipeline.yaml:13:30: step `revenue` reads unknown table `custmers` "
        "(did you mean `customers`?)",
        "project/pipeline.yaml:16:29: unknown check `not_nul` (did you mean `not_null`?)",
        "project/pipeline.yaml:18:3: sink for unknown table `revenu` (did you mean `revenue`?)",
    ]
    assert "Error: 5 problems in the spec" in stderr


def test_absolute_spec_path_is_echoed_as_given(ede: Any, tmp_path: Path, write_spec: Any) -> None:
    spec = write_spec(tmp_path / "project", "name: Orders\n")

    code, _, stderr = ede("validate", spec.resolve(), cwd=tmp_path / "project")

    assert code == 1
    assert stderr.startswith(f"{spec.resolve()}:1:7: invalid name `Orders`")


@pytest.mark.parametrize("bad", ["min_amount", "=5", "--"], ids=["no_equals", "no_name", "dashes"])
def test_bad_param_syntax_is_a_configuration_error(
    ede: Any, tmp_path: Path, write_spec: Any, bad: str
) -> None:
    write_spec(tmp_path, "name: orders_daily\nparams: {min_amount: 0}\n")

    code, _, stderr = ede("validate", "pipeline.yaml", f"--param={bad}")

    assert code == 1
    assert f"Error: invalid --param `{bad}`: expected NAME=VALUE" in stderr
    assert "Traceback" not in stderr


def test_missing_spec_file(ede: Any, tmp_path: Path) -> None:
    code, _, stderr = ede("validate", "nowhere/pipeline.yaml")

    assert code == 1
    assert stderr.strip() == "Error: spec file `nowhere/pipeline.yaml` does not exist"
    assert list(tmp_path.iterdir()) == []


BROKEN = """\
    name: orders_daily
    sources:
      orders: {format: csv, path: data/orders.csv}
    checks:
      - {table: orders, check: not_nul, columns: [order_id]}
    """


def test_debug_shows_the_traceback(ede: Any, tmp_path: Path, write_spec: Any) -> None:
    write_spec(tmp_path, BROKEN)
    message = "pipeline.yaml:5:28: unknown check `not_nul` (did you mean `not_null`?)"

    normal = ede("validate", "pipeline.yaml")
    debug = ede("--debug", "validate", "pipeline.yaml")
    debug_after = ede("validate", "pipeline.yaml", "--debug")
    debug_env = ede("validate", "pipeline.yaml", env={"EDE_DEBUG": "1"})

    assert normal.code == debug.code == debug_after.code == debug_env.code == 1
    assert normal.stderr.strip() == message
    for result in (debug, debug_after, debug_env):
        assert "Traceback (most recent call last)" in result.stderr
        assert "SpecError" in result.stderr
        assert result.stderr.rstrip().endswith(message)
