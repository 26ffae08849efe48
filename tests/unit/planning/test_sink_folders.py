"""Published folders may not coincide or nest: sinks with sinks, and with quarantine folders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from enterprise_data_engineering.errors import SpecError
from enterprise_data_engineering.planning.plan import Plan, build_plan
from enterprise_data_engineering.spec import load_spec
from enterprise_data_engineering.storage.paths import folder_key

HEAD = """\
name: orders_daily
sources:
  orders: {format: csv, path: data/orders.csv}
steps:
  - {name: clean, input: orders}
"""


def plan_of(folder: Path, tail: str) -> Plan:
    spec = folder / "pipeline.yaml"
    spec.write_text(HEAD + textwrap.dedent(tail), encoding="utf-8")
    return build_plan(load_spec(spec))


def problems_of(folder: Path, tail: str) -> list[tuple[int, int, str]]:
    with pytest.raises(SpecError) as info:
        plan_of(folder, tail)
    return [
        (p.position.line, p.position.column, p.message) if p.position else (0, 0, p.message)
        for p in info.value.problems
    ]


@pytest.mark.parametrize(
    ("path", "same"),
    [
        ("out/clean", "./out/clean/"),
        ("out/clean", "out//x/../clean"),
        ("out/clean", "{abs}/out/clean"),
        ("out/clean", "file://{abs}/out/clean/"),
        ("file://{abs}/out/./clean", "file://localhost{abs}/out/clean"),
        ("s3://lake/out/clean/", "s3a://lake/out//clean"),
    ],
)
def test_spellings_of_one_folder_are_the_same_folder(tmp_path: Path, path: str, same: str) -> None:
    tail = f"""\
        sinks:
          orders: {{path: "{path.format(abs=tmp_path)}"}}
          clean: {{path: "{same.format(abs=tmp_path)}"}}
        """

    problems = problems_of(tmp_path, tail)

    assert [(line, col) for line, col, _ in problems] == [(8, 17)]
    assert "sinks `orders` and `clean` write the same folder" in problems[0][2]


@pytest.mark.parametrize(
    ("outer", "inner"),
    [
        ("out", "out/clean"),
        ("out/x/", "./out/x/y/z"),
        ("{abs}/out", "file://{abs}/out/clean"),
        ("file://{abs}/out/", "out/a/../clean"),
        ("s3://lake/out", "S3://lake/out/clean/"),
    ],
)
@pytest.mark.parametrize("inner_first", [True, False], ids=["inner_first", "outer_first"])
def test_nested_sink_folders_are_reported_at_the_inner_sink(
    tmp_path: Path, outer: str, inner: str, inner_first: bool
) -> None:
    lines = [
        f'  orders: {{path: "{outer.format(abs=tmp_path)}"}}',
        f'  clean: {{path: "{inner.format(abs=tmp_path)}"}}',
    ]
    if inner_first:
        lines.reverse()
    tail = "sinks:\n" + "\n".join(lines) + "\n"

    problems = problems_of(tmp_path, tail)

    assert [(line, col) for line, col, _ in problems] == [(7 if inner_first else 8, 17)]
    message = problems[0][2]
    assert "sinks `orders` and `clean` write nested folders" in message
    assert f"`{inner.format(abs=tmp_path)}` is inside `{outer.format(abs=tmp_path)}`" in message


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("out/x", "out/xy"),
        ("out/x", "out2/x"),
        ("s3://lake/out/x", "s3://lake/out/x_y"),
        ("s3://lake/out", "s3://other/out/x"),
        ("s3://lake/out", "out/x"),
    ],
)
def test_folders_side_by_side_are_fine(tmp_path: Path, a: str, b: str) -> None:
    plan = plan_of(tmp_path, f"sinks:\n  orders: {{path: '{a}'}}\n  clean: {{path: '{b}'}}\n")

    assert [s.name for s in plan.sinks] == ["orders", "clean"]


def test_a_written_quarantine_path_that_is_a_sink_folder_is_reported_there(
    tmp_path: Path,
) -> None:
    tail = """\
        quarantine: {path: out/clean}
        checks:
          - {table: clean, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          clean: {path: out/clean/clean}
        """

    problems = problems_of(tmp_path, tail)

    assert problems == [
        (
            6,
            20,
            "the quarantine folder `out/clean/clean` of table `clean` is also the folder "
            "`out/clean/clean` of sink `clean`; publishing one would replace or mix with the "
            "other's files",
        )
    ]


def test_a_sink_inside_a_quarantine_folder_is_reported_at_the_sink(tmp_path: Path) -> None:
    tail = """\
        quarantine: {path: "s3://lake/q/"}
        checks:
          - {table: orders, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          clean: {path: "s3://lake/q/orders/clean"}
        """

    problems = problems_of(tmp_path, tail)

    assert [(line, col) for line, col, _ in problems] == [(10, 17)]
    assert problems[0][2].startswith(
        "the folder `s3://lake/q/orders/clean` of sink `clean` is inside the quarantine folder "
        "`s3://lake/q/orders` of table `orders`"
    )


def test_the_default_quarantine_inside_a_sink_is_reported_at_the_sink(tmp_path: Path) -> None:
    tail = """\
        checks:
          - {table: clean, check: not_null, columns: [id], on_fail: quarantine}
          - {table: clean, check: range, column: amount, min: 0, on_fail: quarantine}
          - {table: orders, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          clean: {path: .}
        """

    problems = problems_of(tmp_path, tail)

    # one problem per quarantined table, not per check
    assert [(line, col) for line, col, _ in problems] == [(11, 17), (11, 17)]
    assert "quarantine folder `quarantine/clean` of table `clean` is inside" in problems[0][2]
    assert "quarantine folder `quarantine/orders` of table `orders` is inside" in problems[1][2]


def test_only_tables_with_a_quarantine_check_have_a_quarantine_folder(tmp_path: Path) -> None:
    tail = """\
        checks:
          - {table: clean, check: not_null, columns: [id]}
          - {table: orders, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          clean: {path: quarantine/clean}
        """

    plan = plan_of(tmp_path, tail)

    assert [s.name for s in plan.sinks] == ["clean"]
    assert plan.quarantine_path == str(tmp_path / "quarantine")


def test_an_unresolved_path_is_not_compared(tmp_path: Path) -> None:
    tail = """\
        quarantine: {path: "${params.nope}"}
        checks:
          - {table: clean, check: not_null, columns: [id], on_fail: quarantine}
        sinks:
          orders: {path: "${params.missing}"}
          clean: {path: out/clean}
        """

    problems = problems_of(tmp_path, tail)

    assert [message for _, _, message in problems] == [
        "unknown parameter `nope` in `${params.nope}`",
        "unknown parameter `missing` in `${params.missing}`",
    ]


def test_folder_key(tmp_path: Path) -> None:
    assert folder_key("s3://lake/out/./x/../y/") == ("s3://lake", "out", "y")
    assert folder_key("s3a://lake/out") == folder_key("S3://lake/out/")
    assert folder_key("gs://lake/a") != folder_key("s3://lake/a")
    assert folder_key(f"file://{tmp_path}/a/") == folder_key(f"{tmp_path}/b/../a")
    assert folder_key(f"file://{tmp_path}/a%20b") == folder_key(f"{tmp_path}/a b")
    assert folder_key("file://host/a") == ("file://host", "a")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert folder_key(str(tmp_path / "link" / "x")) == folder_key(str(tmp_path / "real" / "x"))
