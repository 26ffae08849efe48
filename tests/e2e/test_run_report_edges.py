"""`ede run` failing before anything runs still gives the full report (CONTRACT §5).

A malformed ``--param`` and a secret that cannot be resolved are reported like any other
failure: one JSON object on stdout, the same object in the status file, a row in the run
history, under the spec's own ``name`` (not the file's), with no secret value anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from enterprise_data_engineering.errors import DependencyError
from enterprise_data_engineering.runtime.history import RunHistory
from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline
from enterprise_data_engineering.spec.interpolation import missing_secret

RunCli = Any  # the `ede` fixture of tests/conftest.py
WriteSpec = Any

SPEC = """\
name: p4
params: {min_amount: 0, password: "${secret:db#pw}"}
steps:
  - name: big
    sql: "SELECT 1 AS id WHERE 1 > ${params.min_amount} OR '${secret:db#pw}' = ''"
"""

SECRET_VALUE = "v3ry-S3cret-value-91"


def _report(out: str, status: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out)  # exactly one JSON object
    assert json.loads(status.read_text()) == report
    return report


def _history(ede: RunCli, pipeline: str) -> list[dict[str, Any]]:
    code, out, err = ede("runs", "list", "--pipeline", pipeline, "-f", "json")
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


@pytest.mark.parametrize("bad", ["min_amount", "=5", " =5"])
def test_malformed_param_is_a_reported_configuration_error(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path, bad: str
) -> None:
    spec = write_spec(tmp_path, SPEC, name="sec.yaml")
    status = tmp_path / "st.json"
    code, out, err = ede(
        "run",
        spec,
        "--param",
        "min_amount=3",
        "--param",
        bad,
        "-f",
        "json",
        "--status-file",
        status,
    )
    assert code == 1
    assert f"Error: invalid --param `{bad}`: expected NAME=VALUE" in err
    assert "Traceback" not in err
    report = _report(out, status)
    assert report["status"] == "failed" and report["exit_code"] == 1
    assert report["error"] == f"invalid --param `{bad}`: expected NAME=VALUE"
    assert report["pipeline"] == "p4"
    assert report["params"] == {"min_amount": 0, "password": "${secret:db#pw}"}
    assert [r["run_id"] for r in _history(ede, "p4")] == [report["run_id"]]


def test_unresolvable_secret_reports_the_spec_name_and_params(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, SPEC, name="sec.yaml")
    status = tmp_path / "st.json"
    code, out, err = ede(
        "run",
        spec,
        "--param",
        "min_amount=5",
        "-f",
        "json",
        "--status-file",
        status,
        env={"EDE_SECRET_BACKEND": "none"},
    )
    assert code == 1, err
    assert "cannot resolve secret `db`" in err
    report = _report(out, status)
    assert report["pipeline"] == "p4"
    assert report["params"] == {"min_amount": 5, "password": "${secret:db#pw}"}
    assert "cannot resolve secret `db`" in report["error"]
    assert [r["run_id"] for r in _history(ede, "p4")] == [report["run_id"]]
    assert _history(ede, "sec") == []


def test_an_invalid_name_falls_back_to_the_file_name(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, SPEC.replace("name: p4", "name: ${env:NAME}"), name="sec.yaml")
    code, out, _ = ede("run", spec, "-f", "json", env={"EDE_SECRET_BACKEND": "none"})
    assert code == 1
    assert json.loads(out)["pipeline"] == "sec"


class _OneSecret:
    """Knows the secret `ok` only, like a Secrets Manager account holding just that one."""

    def resolve(self, name: str, field: str | None) -> str:
        if name == "ok":
            return SECRET_VALUE
        raise missing_secret(name)


def test_a_resolved_secret_never_reaches_a_failed_report(
    write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(
        tmp_path,
        """\
        name: p5
        params: {token: "${secret:ok}", region: eu}
        steps:
          - name: s
            sql: "SELECT '${secret:ok}' AS a, '${secret:missing}' AS b"
        """,
        name="other.yaml",
    )
    history = tmp_path / "history.db"
    options = RunOptions(param_args=["region=us"], secrets=_OneSecret(), history_path=history)
    report = run_pipeline(spec, options)
    assert report["exit_code"] == DependencyError.exit_code
    assert report["pipeline"] == "p5"
    assert report["params"] == {"token": "${secret:ok}", "region": "us"}
    assert "`missing`" in report["error"]
    assert SECRET_VALUE not in json.dumps(report)
    (row,) = RunHistory(history).list(pipeline="p5")
    assert SECRET_VALUE not in json.dumps(RunHistory(history).get(row["run_id"]))


def test_text_mode_warns_when_the_history_cannot_be_written(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, "name: hw\nsteps:\n  - {name: one, sql: SELECT 1 AS id}\n")
    (tmp_path / "afile").write_text("", encoding="utf-8")

    code, _, err = ede("run", spec, env={"EDE_HOME": str(tmp_path / "afile" / "sub")})

    assert code == 0, err  # the run's own result stands
    assert "warning: run history not recorded" in err


@pytest.mark.parametrize("args", [["-f", "xml"], ["-n", "-1"], ["--limit", "0"]])
def test_runs_list_refuses_bad_options(ede: RunCli, args: list[str]) -> None:
    code, out, err = ede("runs", "list", *args)
    assert code == 1
    assert out == "" and "Error" in err


def test_an_unknown_engine_flag_is_blamed_on_the_flag(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, "name: fl\nsteps:\n  - {name: one, sql: SELECT 1 AS id}\n")
    code, out, err = ede("run", spec, "--engine", "spakr", "-f", "json")
    assert code == 1
    assert err.strip() == (
        "Error: unknown engine `spakr` (did you mean `spark`?); available: duckdb, spark"
    )
    assert json.loads(out)["exit_code"] == 1


@pytest.mark.parametrize(("flag", "expected"), [((), "spark"), (("--engine", "duckdb"), "duckdb")])
def test_early_failure_reports_the_engine_that_would_have_run(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path, flag: tuple[str, ...], expected: str
) -> None:
    spec = write_spec(tmp_path, "engine: spark\n" + SPEC, name="sec.yaml")
    status = tmp_path / "st.json"
    code, out, _ = ede("run", spec, *flag, "--param", "=5", "-f", "json", "--status-file", status)
    assert code == 1
    assert _report(out, status)["engine"] == expected


def test_a_bad_output_format_still_writes_the_status_file(
    ede: RunCli, write_spec: WriteSpec, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, SPEC, name="sec.yaml")
    status = tmp_path / "st.json"
    code, _, err = ede("run", spec, "-f", "xml", "--status-file", status)
    assert code == 1
    assert "Error: invalid --output-format `xml`: use text or json" in err
    report = json.loads(status.read_text())
    assert report["exit_code"] == 1 and report["pipeline"] == "p4"
    assert report["error"] == "invalid --output-format `xml`: use text or json"
    assert [r["run_id"] for r in _history(ede, "p4")] == [report["run_id"]]


def test_a_console_that_fails_does_not_fail_a_finished_run(
    tmp_path: Path, write_spec: WriteSpec, capsys: pytest.CaptureFixture[str]
) -> None:
    from enterprise_data_engineering.runtime.console import RunConsole

    class Broken(RunConsole):
        def run_finished(self, report: dict[str, Any]) -> None:
            raise BrokenPipeError("stdout closed")

    spec = write_spec(tmp_path, "name: ok\nsteps:\n  - {name: t, sql: 'SELECT 1 AS x'}\n")
    options = RunOptions(history_path=tmp_path / "h.sqlite")
    report = run_pipeline(spec, options, Broken())
    assert report["exit_code"] == 0 and report["steps"][0]["rows"] == 1
    assert "could not display the run report: stdout closed" in capsys.readouterr().err
