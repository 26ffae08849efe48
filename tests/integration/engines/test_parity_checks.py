"""Every built-in check gives the same result on every engine; quarantine moves the same rows."""

from __future__ import annotations

import pytest
from engine_parity import Parity

DATA = """\
id,name,status,amount,email,code
1,Ann,new,10.5,ann@x.io,A-1
2,Bob,paid,-3,bob@x,B-2
2,Bob,paid,-3,bob@x,B-2
3,,lost,250,,c3
4,Dee,,0,dee@x.io,D-4
5,Eve,shipped,99.99,eve@x.io,
"""

SPEC = """\
name: checks
sources:
  raw: {{format: csv, path: data/raw.csv}}
steps:
  - name: t
    input: raw
    transforms: [clean_column_names]
checks:
{checks}
sinks:
  t: {{format: parquet, path: out/t}}
"""

#: check name -> its spec entry (warn severity: the run succeeds and reports the counts)
CHECKS: dict[str, str] = {
    "not_null": "{table: t, check: not_null, columns: [name, status], severity: warn}",
    "unique": "{table: t, check: unique, columns: [id], severity: warn}",
    "unique_combination": "{table: t, check: unique, columns: [id, name], severity: warn}",
    "accepted_values": (
        "{table: t, check: accepted_values, column: status, values: [new, paid, shipped],"
        " severity: warn}"
    ),
    "range": "{table: t, check: range, column: amount, min: 0, max: 100, severity: warn}",
    "range_min_only": "{table: t, check: range, column: amount, min: 0, severity: warn}",
    "regex": (
        r"{table: t, check: regex, column: email, pattern: '^[^@\s]+@[^@\s]+\.[a-z]{2,}$',"
        " severity: warn}"
    ),
    "row_count": "{table: t, check: row_count, min: 10, severity: warn}",
    "row_count_passes": "{table: t, check: row_count, min: 1, max: 6}",
    "expression": (
        '{table: t, check: expression, expr: "amount >= 0 and length(code) = 3", severity: warn}'
    ),
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_check_gives_the_same_result(engine_name: str, parity: Parity, check: str) -> None:
    spec = SPEC.format(checks=f"  - {CHECKS[check]}")
    actual, _ = parity.compare(engine_name, spec, {"data/raw.csv": DATA})
    assert actual.exit_code == 0, actual.report["error"]
    (result,) = actual.report["checks"]
    assert result["status"] == ("passed" if check == "row_count_passes" else "failed")


def test_every_check_at_once_gives_the_same_results(engine_name: str, parity: Parity) -> None:
    checks = "\n".join(f"  - {{name: {n}, {c.strip('{}')}}}" for n, c in CHECKS.items())
    actual, _ = parity.compare(engine_name, SPEC.format(checks=checks), {"data/raw.csv": DATA})
    assert len(actual.report["checks"]) == len(CHECKS)
    assert actual.checks()["unique"] == ("failed", 2)
    assert actual.checks()["not_null"] == ("failed", 2)


def test_quarantine_moves_the_same_rows(engine_name: str, parity: Parity) -> None:
    checks = """\
  - {table: t, check: range, column: amount, min: 0, on_fail: quarantine}
  - {table: t, check: not_null, columns: [name], on_fail: quarantine}
  - {table: t, check: accepted_values, column: status, values: [new, paid, shipped], on_fail: quarantine}
  - {table: t, check: regex, column: code, pattern: '^[A-Z]-[0-9]$', on_fail: quarantine}
  - {table: t, check: unique, columns: [id]}"""
    actual, _ = parity.compare(engine_name, SPEC.format(checks=checks), {"data/raw.csv": DATA})
    assert actual.exit_code == 0, actual.report["error"]
    assert actual.step_rows() == {"t": 3}
    quarantined = actual.quarantine["t"]
    assert quarantined.names[-2:] == ["_ede_failed_checks", "_ede_run_id"]
    assert len(quarantined.rows) == 3
    assert set(quarantined.column("_ede_run_id")) == {actual.report["run_id"]}
    failed = dict(
        zip(quarantined.column("id"), quarantined.column("_ede_failed_checks"), strict=True)
    )
    assert failed[3] == ("t.not_null.name", "t.accepted_values.status", "t.regex.code")


def test_an_error_check_fails_the_run_with_exit_8(engine_name: str, parity: Parity) -> None:
    checks = "  - {table: t, check: unique, columns: [id]}"
    actual, _ = parity.compare(engine_name, SPEC.format(checks=checks), {"data/raw.csv": DATA})
    assert actual.exit_code == 8
    assert actual.sinks == {}
