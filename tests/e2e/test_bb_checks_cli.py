"""Black-box probes of the built-in checks through the real `ede` CLI (CONTRACT §4, §5).

Expected counts are computed here in plain Python (``re``, lists), never with ede's code.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

RunCli = Any  # the `ede` fixture of tests/conftest.py
WriteSpec = Any

STATUS = ["new", "paid", None, "bogus", "shipped"]
NAMES = ["café", "Zoë", "bob smith", "a_1", "٣٤", "x\u00a0y"]


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def _run_json(ede: RunCli, spec: Path) -> tuple[int, dict[str, Any], str]:
    code, out, err = ede("run", spec, "--output-format", "json")
    report: dict[str, Any] = json.loads(out)
    return code, report, err


def _failing(report: dict[str, Any]) -> dict[str, int]:
    return {c["name"]: c["failing_rows"] for c in report["checks"]}


def test_accepted_values_may_list_null(ede: RunCli, write_spec: WriteSpec, tmp_path: Path) -> None:
    """``values: [..., null]`` is a valid spec (nulls pass anyway); ``[null]`` accepts only nulls."""
    _write_csv(tmp_path / "in.csv", ["id", "status"], [[i, s] for i, s in enumerate(STATUS)])
    spec = write_spec(
        tmp_path,
        """\
        name: av_null
        sources:
          src: {format: csv, path: in.csv, schema: {id: bigint, status: varchar}}
        checks:
          - {table: src, check: accepted_values, column: status, values: [new, paid, null], severity: warn, name: with_null}
          - {table: src, check: accepted_values, column: status, values: [~], severity: warn, name: only_null}
        """,
    )
    code, report, err = _run_json(ede, spec)
    assert code == 0, err
    non_null = [s for s in STATUS if s is not None]
    assert _failing(report) == {
        "with_null": sum(1 for s in non_null if s not in ("new", "paid")),
        "only_null": len(non_null),
    }


def test_check_argument_of_the_wrong_shape_is_one_error(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    """A mapping among `values` gives one FILE:LINE:COL line, not one per accepted type."""
    spec = write_spec(
        tmp_path,
        """\
        name: av_bad
        sources:
          src: {format: csv, path: in.csv}
        checks:
          - {table: src, check: accepted_values, column: status, values: [new, {a: 1}]}
          - {table: src, check: range, column: id, min: [1]}
        """,
    )
    code, _out, err = ede("validate", spec)
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 3, err  # two problems and the "2 problems" summary
    assert re.match(r"^.*pipeline\.yaml:5:\d+: .*`values`", lines[0]), err
    assert re.match(
        r"^.*pipeline\.yaml:6:\d+: .*`min`: give a number, a string or a date", lines[1]
    )


def test_regex_shorthand_classes_are_unicode_like_python(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    r"""``\w``, ``\d``, ``\s`` (and their negations) mean what Python's ``re`` means."""
    _write_csv(tmp_path / "names.csv", ["name"], [[n] for n in NAMES] + [[None]])
    patterns = {
        "w": r"^\w+$",
        "s": r"\s",
        "not_s": r"^\S+$",
        "d": r"\d",
        "cls": r"^[\w ]+$",
        "not_w": r"\W",
    }
    checks = "\n".join(
        f"  - {{table: src, check: regex, column: name, pattern: '{p}', severity: warn, name: {n}}}"
        for n, p in patterns.items()
    )
    spec = write_spec(
        tmp_path,
        "name: uni\nsources:\n  src: {format: csv, path: names.csv, schema: {name: varchar}}\n"
        f"checks:\n{checks}\n",
    )
    code, report, err = _run_json(ede, spec)
    assert code == 0, err
    expected = {n: sum(1 for v in NAMES if not re.search(p, v)) for n, p in patterns.items()}
    assert _failing(report) == expected


def test_regex_the_engine_cannot_run_is_a_spec_error(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    """Look-around and back-references are refused by `validate` (exit 1), not at run time."""
    for pattern in (r"^(?=A)", r"(a)\1", r"x(?<!y)"):
        spec = write_spec(
            tmp_path,
            "name: lookaround\nsources:\n  src: {format: csv, path: in.csv}\nchecks:\n"
            f"  - {{table: src, check: regex, column: code, pattern: '{pattern}'}}\n",
        )
        code, _out, err = ede("validate", spec)
        assert code == 1, (pattern, err)
        assert "pipeline.yaml:5:" in err and "not supported" in err, err
        assert "Traceback" not in err


def test_regex_posix_and_unicode_property_classes_are_accepted(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    r"""RE2/Java syntax Python's ``re`` lacks (``\p{L}``, ``[[:alpha:]]``) passes `validate`."""
    _write_csv(tmp_path / "names.csv", ["name"], [["abc"], ["é1"], ["x y"]])
    spec = write_spec(
        tmp_path,
        """\
        name: props
        sources:
          src: {format: csv, path: names.csv, schema: {name: varchar}}
        checks:
          - {table: src, check: regex, column: name, pattern: '^\\p{L}+$', severity: warn, name: pl}
          - {table: src, check: regex, column: name, pattern: '^[[:alpha:]]+$', severity: warn, name: px}
          - {table: src, check: regex, column: name, pattern: '[[:punct:][:space:]]', severity: warn, name: pp}
        """,
    )
    code, report, err = _run_json(ede, spec)
    assert code == 0, err
    assert err == ""  # no FutureWarning from Python's `re` about nested sets
    assert _failing(report) == {"pl": 2, "px": 2, "pp": 2}


def test_text_summary_shows_values_as_text_not_markup(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    """A sample value or a check name such as ``[/]`` is printed, not read as Rich markup."""
    _write_csv(tmp_path / "mk.csv", ["id", "s"], [[1, "[/]"], [2, "[bold]x"]])
    spec = write_spec(
        tmp_path,
        """\
        name: markup
        sources:
          src: {format: csv, path: mk.csv}
        checks:
          - {table: src, check: accepted_values, column: s, values: [a], severity: warn, name: "chk [/] [red]x"}
        sinks:
          src: {format: csv, path: out/src}
        """,
    )
    code, out, err = ede("run", spec)
    assert code == 0, err
    assert "chk [/] [red]x" in out
    assert "[bold]x" in out and "[/]" in out


def test_text_summary_lists_quarantine(ede: RunCli, write_spec: WriteSpec, tmp_path: Path) -> None:
    """The text summary says where quarantined rows went and how many."""
    _write_csv(tmp_path / "in.csv", ["id", "grp"], [[1, "a"], [2, None], [3, None]])
    spec = write_spec(
        tmp_path,
        """\
        name: qsum
        sources:
          src: {format: csv, path: in.csv}
        steps:
          - {name: t, input: src}
        checks:
          - {table: t, check: not_null, columns: [grp], on_fail: quarantine}
        sinks:
          t: {format: csv, path: out/t}
        """,
    )
    code, out, err = ede("run", spec)
    assert code == 0, err
    summary = out[re.search(r"^quarantine\s*$", out, re.MULTILINE).start() :]  # type: ignore[union-attr]
    assert re.search(r"│ t\s+│\s+2 │ .*quarantine/t", summary), out


def test_runs_list_shows_names_as_text(ede: RunCli, tmp_path: Path) -> None:
    """A run of a spec file named like Rich markup is listed, not a crash."""
    code, _out, _err = ede("run", tmp_path / "x[red]bad.yaml", "-f", "json")
    assert code == 1
    code, out, err = ede("runs", "list")
    assert code == 0, err
    assert "x[red]bad" in out


def test_report_is_strict_json_with_a_nan_param(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    """``--param x=.nan`` gives valid JSON everywhere: stdout, status file, ``runs show``."""
    spec = write_spec(
        tmp_path, "name: nanp\nparams: {x: 1}\nsteps:\n  - {name: t, sql: SELECT 1 AS a}\n"
    )

    def strict(text: str) -> dict[str, Any]:
        def refuse(token: str) -> None:
            raise AssertionError(f"not JSON: {token}")

        loaded: dict[str, Any] = json.loads(text, parse_constant=refuse)
        return loaded

    status = tmp_path / "st.json"
    code, out, err = ede(
        "run", spec, "-f", "json", "-p", "x=.nan", "-p", "y=-.inf", "--status-file", status
    )
    assert code == 0, err
    report = strict(out)
    assert report["params"] == {"x": "nan", "y": "-inf"}
    assert strict(status.read_text()) == report
    code, shown, err = ede("runs", "show", report["run_id"])
    assert code == 0, err
    assert strict(shown)["params"] == report["params"]
