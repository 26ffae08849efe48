"""Check names (CONTRACT §4): default names may repeat, a `name:` must be unique."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RunCli = Any  # the `ede` fixture of tests/conftest.py
WriteSpec = Any

SPEC = """\
name: names
sources: {s: {format: csv, path: in.csv}}
steps:
  - {name: t, input: s}
checks:
  - {table: t, check: expression, expr: "id > 1"}
  - {table: t, check: expression, expr: "id < 100", severity: warn}
  - {table: t, check: expression, expr: "id <> 2", on_fail: quarantine}
  - {table: t, check: expression, expr: "id <> 3", on_fail: quarantine}
  - {table: t, check: row_count, min: 1}
  - {table: t, check: row_count, max: 2, severity: warn}
sinks:
  t: {format: csv, path: out/t}
"""


def test_two_checks_of_a_kind_on_one_table_both_run(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    (tmp_path / "in.csv").write_text("id\n1\n2\n3\n4\n5\n")
    spec = write_spec(tmp_path, SPEC)
    code, out, err = ede("run", spec, "-f", "json")
    report = json.loads(out)
    # id=2 and id=3 are quarantined first; then `id > 1` fails on id=1 (error): exit 8
    assert code == 8, err
    got = [(c["name"], c["severity"], c["failing_rows"]) for c in report["checks"]]
    assert got == [
        ("t.expression", "error", 1),
        ("t.expression", "warn", 0),
        ("t.expression", "error", 1),
        ("t.expression", "error", 1),
        ("t.row_count", "error", 0),
        ("t.row_count", "warn", 1),
    ]
    assert not (tmp_path / "out").exists()


def test_an_explicit_name_must_be_unique(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    (tmp_path / "in.csv").write_text("id\n1\n")
    text = SPEC.replace(
        "  - {table: t, check: row_count, min: 1}\n",
        "  - {table: t, check: row_count, min: 1, name: t.expression}\n",
    )
    spec = write_spec(tmp_path, text)
    code, _, err = ede("validate", spec)
    assert code == 1
    assert ":10:48: duplicate check name `t.expression`; a `name:` must be unique" in err
