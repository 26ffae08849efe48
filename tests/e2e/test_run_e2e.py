"""`ede run` end to end: results, write-audit-publish, reports, history, selection."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

ORDERS = """\
Order ID,Amount,Status,Region,Updated At,Email
1,10.50,new,eu,2026-01-01,a@x.com
1,11.50,paid,eu,2026-01-02,a@x.com
2,-3,paid,us,2026-01-03,
3,7,weird,us,2026-01-04,c@x.com
4,20,shipped,eu,2026-01-05,d@x.com
"""

SPEC = """\
name: orders_daily
params: {min_rows: 1}
sources:
  orders: {format: csv, path: data/orders.csv}
steps:
  - name: orders_clean
    input: orders
    transforms:
      - clean_column_names
      - cast: {amount: "decimal(12,2)"}
      - deduplicate: {keys: [order_id], order_by: "updated_at desc"}
      - mask: {columns: [email], method: sha256}
      - add_audit_columns: {process_name: orders_daily}
  - name: revenue_by_region
    sql: |
      SELECT region, sum(amount) AS revenue, count(*) AS orders
      FROM orders_clean GROUP BY region
checks:
  - {table: orders_clean, check: not_null, columns: [order_id]}
  - {table: orders_clean, check: unique, columns: [order_id]}
  - {table: orders_clean, check: accepted_values, column: status, values: [new, paid, shipped], severity: warn}
  - {table: orders_clean, check: range, column: amount, min: 0, on_fail: quarantine}
  - {table: revenue_by_region, check: row_count, min: "${params.min_rows}"}
sinks:
  revenue_by_region: {format: parquet, path: out/revenue, partition_by: [region]}
  orders_clean: {format: csv, path: out/orders_clean}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text(ORDERS)
    (tmp_path / "pipeline.yaml").write_text(SPEC)
    return tmp_path


def ede(project: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDE_HOME": str(project / ".ede"), **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "enterprise_data_engineering", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_run_publishes_expected_tables_and_report(project: Path) -> None:
    result = ede(project, "run", "pipeline.yaml", "--output-format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert report["status"] == "succeeded" and report["exit_code"] == 0 and report["error"] is None
    assert report["pipeline"] == "orders_daily" and report["engine"] == "duckdb"
    assert set(report) >= {
        "pipeline",
        "run_id",
        "engine",
        "status",
        "exit_code",
        "started_at",
        "finished_at",
        "duration_s",
        "params",
        "steps",
        "checks",
        "sinks",
        "error",
    }
    assert [(s["name"], s["rows"]) for s in report["steps"]] == [
        ("orders_clean", 3),  # 4 distinct orders, order 2 (amount -3) quarantined
        ("revenue_by_region", 2),
    ]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["orders_clean.accepted_values.status"]["status"] == "failed"
    assert checks["orders_clean.accepted_values.status"]["failing_rows"] == 1
    assert checks["orders_clean.range.amount"]["failing_rows"] == 1
    assert all(
        c["status"] == "passed"
        for c in report["checks"]
        if c["severity"] == "error" and c.get("on_fail") != "quarantine"
    )
    assert {s["name"]: s["rows"] for s in report["sinks"]} == {
        "revenue_by_region": 2,
        "orders_clean": 3,
    }
    con = duckdb.connect()
    revenue = con.execute(
        f"SELECT region, revenue FROM read_parquet('{project}/out/revenue/**/*.parquet', "
        "hive_partitioning=true) ORDER BY region"
    ).fetchall()
    assert [(r, float(v)) for r, v in revenue] == [("eu", 31.5), ("us", 7.0)]
    clean = con.execute(
        f"SELECT order_id, amount, email, batch_id FROM read_csv('{project}/out/orders_clean/*.csv') "
        "ORDER BY order_id"
    ).fetchall()
    assert [r[0] for r in clean] == [1, 3, 4]
    assert float(clean[0][1]) == 11.5  # the latest update of order 1 was kept
    assert clean[0][2] == hashlib.sha256(b"a@x.com").hexdigest()
    assert {r[3] for r in clean} == {report["run_id"]}
    quarantined = con.execute(
        f"SELECT order_id, _ede_failed_checks, _ede_run_id FROM "
        f"read_parquet('{project}/quarantine/orders_clean/*.parquet')"
    ).fetchall()
    assert quarantined == [(2, ["orders_clean.range.amount"], report["run_id"])]
    assert not list((project / "out").glob(".ede-staging*"))


def test_failed_error_check_publishes_nothing(project: Path) -> None:
    assert ede(project, "run", "pipeline.yaml").returncode == 0
    before = tree_digest(project / "out")
    status = project / "status" / "run.json"
    result = ede(
        project,
        "run",
        "pipeline.yaml",
        "--param",
        "min_rows=100",
        "--output-format",
        "json",
        "--status-file",
        str(status),
    )
    assert result.returncode == 8
    assert "revenue_by_region.row_count" in result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and report["exit_code"] == 8
    assert report["sinks"] == []
    assert json.loads(status.read_text()) == report
    assert tree_digest(project / "out") == before
    assert sorted(p.name for p in (project / "out").iterdir()) == ["orders_clean", "revenue"]


def test_missing_input_exits_3_and_changes_nothing(project: Path) -> None:
    assert ede(project, "run", "pipeline.yaml").returncode == 0
    before = tree_digest(project / "out")
    (project / "data" / "orders.csv").unlink()
    status = project / "status.json"
    result = ede(project, "run", "pipeline.yaml", "--status-file", str(status))
    assert result.returncode == 3
    assert result.stderr.startswith("Error: ") and "orders.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(status.read_text())["exit_code"] == 3
    assert tree_digest(project / "out") == before


def test_select_runs_only_the_step_and_what_it_needs(project: Path) -> None:
    result = ede(project, "run", "pipeline.yaml", "--select", "orders_clean", "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [s["name"] for s in report["steps"]] == ["orders_clean"]
    assert [s["name"] for s in report["sinks"]] == ["orders_clean"]
    assert not (project / "out" / "revenue").exists()


def test_append_mode_accumulates(project: Path) -> None:
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace("path: out/orders_clean}", "path: out/orders_clean, mode: append}")
    )
    for _ in range(2):
        assert ede(project, "run", "pipeline.yaml").returncode == 0
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT count(*), count(DISTINCT batch_id) FROM read_csv('{project}/out/orders_clean/*.csv')"
        )
        .fetchone()
    )
    assert rows == (6, 2)


def test_history_lists_and_shows_runs(project: Path) -> None:
    first = json.loads(ede(project, "run", "pipeline.yaml", "-f", "json").stdout)
    ede(project, "run", "pipeline.yaml", "--param", "min_rows=100")
    listed = json.loads(ede(project, "runs", "list", "-f", "json").stdout)
    assert [r["exit_code"] for r in listed] == [8, 0]
    shown = ede(project, "runs", "show", first["run_id"][:24])
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["run_id"] == first["run_id"]
    text = ede(project, "runs", "list")
    assert first["run_id"] in text.stdout
    missing = ede(project, "runs", "show", "nope")
    assert missing.returncode == 3 and "nope" in missing.stderr


def test_text_mode_prints_progress_and_summary(project: Path) -> None:
    result = ede(project, "run", "pipeline.yaml")
    assert result.returncode == 0, result.stderr
    for fragment in ("orders_clean", "revenue_by_region", "checks", "sinks", "succeeded"):
        assert fragment in result.stdout
    assert "weird" in result.stdout  # the sample of the failed warn check


def test_unresolvable_secret_is_a_clear_error(project: Path) -> None:
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "process_name: orders_daily", "process_name: '${secret:prod/db#password}'"
        )
    )
    result = ede(project, "run", "pipeline.yaml", EDE_SECRET_BACKEND="none")
    assert result.returncode == 1
    assert "prod/db" in result.stderr and "Traceback" not in result.stderr
    assert ede(project, "validate", "pipeline.yaml").returncode == 0  # validation reads no secret


def test_transform_error_at_run_points_at_the_spec(project: Path) -> None:
    spec = project / "pipeline.yaml"
    spec.write_text(spec.read_text().replace("keys: [order_id]", "keys: [order_idd]"))
    result = ede(project, "run", "pipeline.yaml")
    assert result.returncode == 1
    line = (
        textwrap.dedent(SPEC)
        .splitlines()
        .index('      - deduplicate: {keys: [order_id], order_by: "updated_at desc"}')
        + 1
    )
    assert f"pipeline.yaml:{line}:" in result.stderr
    assert "order_idd" in result.stderr and "did you mean `order_id`" in result.stderr


def test_quarantine_on_a_source_removes_rows_before_steps(project: Path) -> None:
    spec = project / "pipeline.yaml"
    spec.write_text(
        spec.read_text().replace(
            "checks:\n",
            "checks:\n  - {table: orders, check: accepted_values, column: Status, "
            "values: [new, paid, shipped], on_fail: quarantine}\n",
        )
    )
    result = ede(project, "run", "pipeline.yaml", "-f", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    source_check = next(c for c in report["checks"] if c["table"] == "orders")
    assert source_check["failing_rows"] == 1
    # order 3 ("weird") never reaches the step
    assert [s["rows"] for s in report["steps"] if s["name"] == "orders_clean"] == [2]
    rows = (
        duckdb.connect()
        .execute(f"SELECT \"Order ID\" FROM read_parquet('{project}/quarantine/orders/*.parquet')")
        .fetchall()
    )
    assert rows == [(3,)]


def test_sink_options_are_validated_and_applied(project: Path) -> None:
    spec = project / "pipeline.yaml"
    text = spec.read_text()
    spec.write_text(
        text.replace(
            "path: out/orders_clean}", "path: out/orders_clean, options: {delimtier: ';'}}"
        )
    )
    bad = ede(project, "validate", "pipeline.yaml")
    assert bad.returncode == 1
    assert (
        "unsupported option `delimtier`" in bad.stderr and "did you mean `delimiter`" in bad.stderr
    )
    spec.write_text(
        text.replace(
            "path: out/orders_clean}", "path: out/orders_clean, options: {delimiter: ';'}}"
        )
    )
    assert ede(project, "run", "pipeline.yaml").returncode == 0
    (csv_file,) = (project / "out" / "orders_clean").glob("*.csv")
    assert csv_file.read_text().splitlines()[0].startswith("order_id;amount;")


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_while_publishing_finishes_the_publish(
    project: Path, monkeypatch: pytest.MonkeyPatch, signame: str
) -> None:
    import signal

    from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline
    from enterprise_data_engineering.storage.local import LocalStorage

    original = LocalStorage.publish
    sent: list[int] = []

    def publish(self: LocalStorage, staged: object, mode: str = "overwrite") -> None:
        if not sent:  # the signal arrives between the first and the second sink
            sent.append(1)
            os.kill(os.getpid(), getattr(signal, signame))
        original(self, staged, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalStorage, "publish", publish)
    report = run_pipeline(project / "pipeline.yaml", RunOptions(record_history=False))
    assert report["exit_code"] == 0, report["error"]
    assert any("while publishing" in w for w in report["warnings"])
    assert {s["name"] for s in report["sinks"]} == {"revenue_by_region", "orders_clean"}
    assert (project / "out" / "revenue").exists() and (project / "out" / "orders_clean").exists()


@pytest.mark.parametrize(("signame", "reason"), [("SIGTERM", "SIGTERM"), ("SIGINT", "Ctrl-C")])
def test_a_signal_before_publishing_publishes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, signame: str, reason: str
) -> None:
    import signal

    from enterprise_data_engineering.checks import evaluate
    from enterprise_data_engineering.runtime import runner as runner_module
    from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline

    original = evaluate.evaluate_checks

    def evaluate_checks(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), getattr(signal, signame))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module, "evaluate_checks", evaluate_checks)
    report = run_pipeline(project / "pipeline.yaml", RunOptions(record_history=False))
    assert report["exit_code"] == 7 and reason in report["error"]
    assert report["sinks"] == []
    assert not (project / "out").exists() or not any((project / "out").iterdir())
