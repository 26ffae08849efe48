"""Loading a spec: YAML positions, interpolation into typed values, collected problems."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from enterprise_data_engineering.errors import ConfigError, Position, SpecError
from enterprise_data_engineering.spec import (
    NoSecretResolver,
    PipelineSpec,
    SourceSpec,
    load_spec,
    parse_param_overrides,
)
from enterprise_data_engineering.spec.loader import format_validation_error
from enterprise_data_engineering.spec.yaml_loader import load_yaml_file, load_yaml_text

NESTED = """\
name: orders_daily
steps:
  - name: orders_clean
    transforms:
      - clean_column_names
      - filter: "amount > 0"
sinks:
  orders_clean:
    partition_by: [region, day]
"""


def write(folder: Path, text: str, name: str = "pipeline.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- YAML with positions -----------------------------------------------------------------------


def test_yaml_gives_plain_data() -> None:
    data, _ = load_yaml_text(NESTED, "f.yaml")

    assert data == {
        "name": "orders_daily",
        "steps": [
            {"name": "orders_clean", "transforms": ["clean_column_names", {"filter": "amount > 0"}]}
        ],
        "sinks": {"orders_clean": {"partition_by": ["region", "day"]}},
    }
    assert type(data["steps"][0]["name"]) is str  # not ruamel's scalar subclasses


@pytest.mark.parametrize(
    ("loc", "key", "expected"),
    [
        (("name",), False, (1, 7)),
        (("name",), True, (1, 1)),
        (("steps", 0, "name"), False, (3, 11)),
        (("steps", 0, "name"), True, (3, 5)),
        (("steps", 0, "transforms", 0), False, (5, 9)),
        (("steps", 0, "transforms", 1, "filter"), False, (6, 17)),
        (("steps", 0, "transforms", 1, "filter"), True, (6, 9)),
        (("sinks", "orders_clean"), True, (8, 3)),
        (("sinks", "orders_clean", "partition_by", 1), False, (9, 28)),
        # not in the document: the nearest recorded ancestor
        (("steps", 0, "input"), False, (3, 5)),
        (("nothing", "here"), False, (1, 1)),
    ],
)
def test_positions_of_nested_nodes(loc: tuple[Any, ...], key: bool, expected: Any) -> None:
    _, positions = load_yaml_text(NESTED, "f.yaml")

    assert positions.of(loc, key=key) == Position("f.yaml", *expected)


def test_yaml_syntax_error_has_a_position() -> None:
    with pytest.raises(SpecError) as info:
        load_yaml_text("name: x\nsteps: [a, b\n", "f.yaml")

    (problem,) = info.value.problems
    assert problem.position is not None and problem.position.file == "f.yaml"
    assert problem.message.startswith("invalid YAML")
    assert info.value.exit_code == 1


def test_duplicate_key_names_the_key() -> None:
    with pytest.raises(SpecError) as info:
        load_yaml_text("name: x\nparams:\n  a: 1\n  a: 2\n", "f.yaml")

    assert str(info.value) == "f.yaml:4:3: invalid YAML: duplicate key `a`"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_yaml_file(tmp_path / "nope.yaml")

    assert info.value.exit_code == 1


# --- load_spec -----------------------------------------------------------------------------------


def test_load_spec_builds_the_models(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        name: orders_daily
        sources:
          orders:
            format: csv
            path: data/orders.csv
            schema: {order_id: bigint}
        steps:
          - {name: orders_clean, input: orders, transforms: [clean_column_names]}
        checks:
          - {table: orders_clean, check: row_count, min: 1, severity: warn}
        sinks:
          orders_clean: {path: out/orders_clean}
        """,
    )

    loaded = load_spec(spec)

    assert loaded.problems == []
    assert isinstance(loaded.spec, PipelineSpec)
    assert loaded.spec.sources["orders"].columns == {"order_id": "bigint"}
    assert loaded.spec.steps[0].transforms == ["clean_column_names"]
    assert loaded.spec.checks[0].args == {"min": 1}
    assert loaded.spec.checks[0].severity == "warn"
    assert loaded.spec.sinks["orders_clean"].format == "parquet"  # the default
    assert loaded.file == spec.resolve()
    assert loaded.base_dir == tmp_path.resolve()


def test_relative_paths_resolve_against_the_spec_folder(tmp_path: Path) -> None:
    spec = write(tmp_path, "name: x\n")

    loaded = load_spec(spec)

    assert loaded.resolve_path("data/a.csv") == str(tmp_path.resolve() / "data" / "a.csv")
    assert loaded.resolve_path("/abs/a.csv") == "/abs/a.csv"
    assert loaded.resolve_path("s3://bucket/prefix/") == "s3://bucket/prefix/"


def test_problems_are_collected_not_raised(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        name: Bad-Name
        sources:
          orders: {format: xlsx, path: a.xlsx}
          customers: {format: csv, path: c.csv}
        steps:
          - {name: a, input: orders, sql: SELECT 1}
          - {name: b, input: customers}
        """,
    )

    loaded = load_spec(spec)

    lines = sorted((p.position.line, p.position.column) for p in loaded.problems if p.position)
    assert lines == [(1, 7), (3, 20), (6, 5)]
    # the valid entries are kept; the broken ones are known by name (not "unknown")
    assert list(loaded.spec.sources) == ["customers"]
    assert [s.name for s in loaded.spec.steps] == ["b"]
    assert loaded.step_index == [1]
    assert loaded.broken_names == {"orders", "a"}
    with pytest.raises(SpecError) as info:
        loaded.raise_if_problems()
    assert len(info.value.problems) == 3


# --- interpolation through load_spec -------------------------------------------------------------

TYPED = """\
name: orders_daily
params:
  min_rows: 5
  ratio: 0.5
  strict: true
  region: eu
sources:
  orders: {format: csv, path: "data/${params.region}/orders.csv"}
steps:
  - name: orders_clean
    input: orders
    transforms:
      - filter: "amount > ${params.min_rows}"
      - remove_empty_columns: {threshold: "${params.ratio}"}
checks:
  - {table: orders_clean, check: row_count, min: "${params.min_rows}"}
"""


def test_a_whole_param_reference_keeps_its_type(tmp_path: Path) -> None:
    loaded = load_spec(write(tmp_path, TYPED))

    assert loaded.problems == []
    assert loaded.spec.checks[0].args == {"min": 5}
    assert type(loaded.spec.checks[0].args["min"]) is int
    transforms = loaded.spec.steps[0].transforms
    assert transforms[0] == {"filter": "amount > 5"}  # inside text: inserted as text
    assert transforms[1] == {"remove_empty_columns": {"threshold": 0.5}}
    assert loaded.spec.sources["orders"].path == "data/eu/orders.csv"
    assert loaded.spec.params == {"min_rows": 5, "ratio": 0.5, "strict": True, "region": "eu"}


def test_param_overrides_win_and_keep_their_type(tmp_path: Path) -> None:
    overrides = parse_param_overrides(["min_rows=7", "region=us"])

    loaded = load_spec(write(tmp_path, TYPED), params=overrides)

    assert loaded.spec.checks[0].args == {"min": 7}
    assert loaded.spec.sources["orders"].path == "data/us/orders.csv"
    assert loaded.spec.params["min_rows"] == 7


def test_dollar_dollar_escapes_a_reference(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        name: x
        params: {a: 1}
        description: "costs $${USD} and $${params.a}, not ${params.a}"
        """,
    )

    loaded = load_spec(spec)

    assert loaded.problems == []
    assert loaded.spec.description == "costs ${USD} and ${params.a}, not 1"


def test_env_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDE_TEST_DATA_ROOT", "/mnt/lake")
    spec = write(
        tmp_path,
        """\
        name: x
        sources:
          orders: {format: csv, path: "${env:EDE_TEST_DATA_ROOT}/orders.csv"}
        """,
    )

    loaded = load_spec(spec)

    assert loaded.spec.sources["orders"].path == "/mnt/lake/orders.csv"


def test_unknown_param_is_one_problem_not_a_cascade(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        name: x
        params: {fmt: csv}
        sources:
          orders: {format: "${params.fromat}", path: a.csv}
        """,
    )

    loaded = load_spec(spec)

    with pytest.raises(SpecError) as info:
        loaded.raise_if_problems()
    (problem,) = info.value.problems  # not also "invalid value `` for `format`"
    assert "unknown parameter `fromat`" in problem.message
    assert problem.position == Position(str(spec), 4, 20)


SECRET = """\
name: x
sources:
  orders:
    format: csv
    path: "s3://bucket/${secret:lake_bucket#prefix}/orders.csv"
"""


def test_secrets_are_not_read_when_validating(tmp_path: Path) -> None:
    loaded = load_spec(write(tmp_path, SECRET))

    assert loaded.problems == []
    assert "lake_bucket" in loaded.spec.sources["orders"].path  # a stand-in, no value


def test_secret_without_a_backend_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_spec(write(tmp_path, SECRET), secrets=NoSecretResolver())

    assert info.value.exit_code == 1
    assert "`lake_bucket`" in str(info.value)


def test_secret_values_are_resolved_and_remembered_for_redaction(tmp_path: Path) -> None:
    calls: list[tuple[str, str | None]] = []

    class Resolver:
        def resolve(self, name: str, field: str | None) -> str:
            calls.append((name, field))
            return "p4ssw0rd-prefix"

    loaded = load_spec(write(tmp_path, SECRET), secrets=Resolver())

    assert loaded.spec.sources["orders"].path == "s3://bucket/p4ssw0rd-prefix/orders.csv"
    assert calls == [("lake_bucket", "prefix")]
    assert (
        loaded.redactor.text("path is s3://bucket/p4ssw0rd-prefix/") == "path is s3://bucket/***/"
    )


# --- parameters and messages ---------------------------------------------------------------------


def test_parse_param_overrides_reads_yaml_scalars() -> None:
    assert parse_param_overrides(
        ["n=5", "x=0.25", "flag=true", "s=eu", "empty=", "text=a=b", "list=[1, 2]"]
    ) == {"n": 5, "x": 0.25, "flag": True, "s": "eu", "empty": "", "text": "a=b", "list": "[1, 2]"}


@pytest.mark.parametrize("bad", ["novalue", "=5", "  =x"])
def test_parse_param_overrides_rejects_bad_syntax(bad: str) -> None:
    with pytest.raises(ConfigError, match="expected NAME=VALUE"):
        parse_param_overrides([bad])


def test_format_validation_error_messages() -> None:
    assert format_validation_error({"type": "missing", "loc": ("path",)}, None) == (
        "missing required field `path`"
    )
    assert format_validation_error({"type": "extra_forbidden", "loc": ("pth",)}, SourceSpec) == (
        "unknown field `pth` (did you mean `path`?)"
    )
    message = format_validation_error(
        {"type": "list_type", "loc": (), "msg": "Input should be a valid list", "input": "a"}, None
    )
    assert message == "invalid value `a`: Input should be a valid list"


def test_keywords_are_read_case_insensitively(tmp_path: Path) -> None:
    spec = load_spec(
        write(
            tmp_path,
            """\
            name: p
            sources: {s: {format: CSV, path: in.csv}}
            steps: [{name: t, input: s}]
            checks:
              - {table: t, check: not_null, columns: [a], severity: WARN, on_fail: Quarantine}
            sinks: {t: {format: Parquet, path: out, mode: APPEND}}
            """,
        )
    ).spec
    assert spec.sources["s"].format == "csv"
    assert (spec.checks[0].severity, spec.checks[0].on_fail) == ("warn", "quarantine")
    assert (spec.sinks["t"].format, spec.sinks["t"].mode) == ("parquet", "append")
