"""Every example pipeline publishes the same tables on every engine; WAP behaves the same."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_parity import REFERENCE, Outcome, Parity, assert_same_outcome

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: columns whose values belong to the run (its id and start time), not to the data
RUN_COLUMNS = ("process_timestamp", "batch_id")


def _copy_example(name: str, target: Path, rows: int | None = None) -> Path:
    """A copy of ``examples/NAME`` (spec and committed data), with generated data if asked."""
    source = EXAMPLES / name
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("out", "quarantine", ".ede*", "data")
    )
    if (source / "data").is_dir() and rows is None:
        shutil.copytree(source / "data", target / "data")
    if rows is not None:
        subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "generate_data.py"),
                "--rows",
                str(rows),
                "--out",
                str(target / "data"),
            ],
            check=True,
            capture_output=True,
        )
    return target


@pytest.mark.parametrize(("example", "rows"), [("quickstart", None), ("orders_daily", 600)])
def test_example_gives_the_same_tables(
    engine_name: str, parity: Parity, tmp_path: Path, example: str, rows: int | None
) -> None:
    expected = parity.run_in(_copy_example(example, tmp_path / "reference", rows), REFERENCE)
    actual = parity.run_in(_copy_example(example, tmp_path / engine_name, rows), engine_name)
    assert actual.exit_code == 0, actual.report["error"]
    assert_same_outcome(actual, expected, RUN_COLUMNS)
    assert actual.sinks, "the example publishes nothing"
    if example == "orders_daily":
        # The example's warts reach quarantine and the warnings on both engines alike.
        assert actual.quarantine["orders_staged"].rows
        assert {c["status"] for c in actual.report["checks"]} == {"passed", "failed"}
        partitions = sorted(p.name for p in (tmp_path / engine_name / "out").glob("*/region=*"))
        assert partitions == ["region=AMER", "region=APAC", "region=EMEA"]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


SPEC = """\
name: wap
params: {min_rows: 1}
sources:
  raw: {format: csv, path: data/raw.csv}
steps:
  - name: t
    input: raw
  - name: t_by_kind
    input: t
checks:
  - {table: t, check: row_count, min: "${params.min_rows}"}
sinks:
  t: {format: parquet, path: out/t, mode: MODE}
  t_by_kind: {format: csv, path: out/by_kind, partition_by: [kind]}
"""
RAW = "id,kind\n1,a\n2,b\n3,a\n"


def _run(parity: Parity, folder: Path, engine: str, **params: object) -> Outcome:
    return parity.run_in(folder, engine, **params)


@pytest.mark.parametrize("mode", ["overwrite", "append"])
def test_sinks_are_published_only_when_checks_pass(
    engine_name: str, parity: Parity, mode: str
) -> None:
    folder = parity.project(SPEC.replace("MODE", mode), {"data/raw.csv": RAW})
    first = _run(parity, folder, engine_name)
    assert first.exit_code == 0, first.report["error"]
    published = _files(folder / "out")
    prefix = f"part-{first.report['run_id']}-0"
    assert f"t/{prefix}.parquet" in published
    assert sorted(p for p in published if p.startswith("by_kind")) == [
        f"by_kind/kind=a/{prefix}.csv",
        f"by_kind/kind=b/{prefix}.csv",
    ]
    assert not list((folder / "out").rglob("_SUCCESS")) and not list(
        (folder / "out").rglob("*.crc")
    )

    # An error check fails: exit 8, and every sink holds exactly what it held.
    failed = _run(parity, folder, engine_name, min_rows=100)
    assert failed.exit_code == 8
    assert _files(folder / "out") == published
    assert not list(folder.rglob(".ede-staging/*/*"))

    second = _run(parity, folder, engine_name)
    assert second.exit_code == 0
    rows = len(second.sinks["t"].rows)
    assert rows == (6 if mode == "append" else 3)


@pytest.mark.parametrize(
    ("broken", "exit_code"),
    [
        ("missing_input", 3),
        ("unknown_column", 1),
        ("bad_cast", 2),
    ],
)
def test_failures_exit_with_the_same_code(
    engine_name: str, parity: Parity, broken: str, exit_code: int
) -> None:
    spec = {
        "missing_input": SPEC.replace("data/raw.csv", "data/nope.csv"),
        "unknown_column": SPEC.replace("    input: raw\n", "    sql: SELECT nope FROM raw\n", 1),
        "bad_cast": SPEC.replace(
            "    input: raw\n", "    sql: SELECT CAST(kind AS INTEGER) AS k FROM raw\n", 1
        ),
    }[broken].replace("MODE", "overwrite")
    actual, _expected = parity.compare(engine_name, spec, {"data/raw.csv": RAW})
    assert actual.exit_code == exit_code, actual.report["error"]
    assert actual.report["error"]
