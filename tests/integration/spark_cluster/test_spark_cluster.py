"""Pipelines on a real Spark standalone cluster: ``ede run --spark-master`` and ``spark-submit``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from standalone_cluster import Cluster, published_rows, spark_home

pytestmark = [pytest.mark.slow, pytest.mark.spark]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SPARK_BLOCK = """
spark:
  app_name: {app}
  conf:
    spark.executor.memory: 512m
    spark.cores.max: "1"
    spark.driver.host: 127.0.0.1
    spark.driver.bindAddress: 127.0.0.1
    spark.ui.enabled: "false"
    spark.sql.shuffle.partitions: "4"
"""


def _example(name: str, target: Path, rows: int | None = None, app: str = "ede-test") -> Path:
    shutil.copytree(
        EXAMPLES / name, target, ignore=shutil.ignore_patterns("out", "quarantine", ".ede*")
    )
    if rows is not None:
        shutil.rmtree(target / "data", ignore_errors=True)
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
    spec = target / "pipeline.yaml"
    spec.write_text(spec.read_text() + SPARK_BLOCK.format(app=app))
    return spec


def _ede(args: list[str], cluster: Cluster, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**cluster.env, "EDE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "enterprise_data_engineering", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _sinks(report: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {s["name"]: published_rows(Path(s["path"]), s["format"]) for s in report["sinks"]}


def test_ede_run_on_the_cluster_publishes_what_duckdb_does(
    spark_cluster: Cluster, tmp_path: Path
) -> None:
    spark_spec = _example("orders_daily", tmp_path / "spark", rows=400, app="ede-run-test")
    duck_spec = _example("orders_daily", tmp_path / "duckdb", rows=400)
    home = tmp_path / "home"

    ran = _ede(
        [
            "run",
            str(spark_spec),
            "--engine",
            "spark",
            "--spark-master",
            spark_cluster.master_url,
            "--output-format",
            "json",
        ],
        spark_cluster,
        home,
    )
    assert ran.returncode == 0, f"{ran.stderr}\n{spark_cluster.log_tail()}"
    report = json.loads(ran.stdout)
    assert report["engine"] == "spark" and report["status"] == "succeeded"

    reference = _ede(["run", str(duck_spec), "--output-format", "json"], spark_cluster, home)
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)
    assert _sinks(report) == _sinks(expected)
    assert [(c["name"], c["failing_rows"]) for c in report["checks"]] == [
        (c["name"], c["failing_rows"]) for c in expected["checks"]
    ]
    assert (tmp_path / "spark" / "quarantine" / "orders_staged").is_dir()
    # The work ran on the cluster: the master lists the application as completed.
    apps = [app["name"] for app in spark_cluster.state().get("completedapps", [])]
    assert "ede-run-test" in apps


def test_spark_submit_runs_a_pipeline_on_the_cluster(
    spark_cluster: Cluster, tmp_path: Path
) -> None:
    from enterprise_data_engineering.spark import submit

    spec = _example("quickstart", tmp_path / "project", app="ede-submit-test")
    status = tmp_path / "status.json"
    env = {
        **spark_cluster.env,
        "EDE_HOME": str(tmp_path / "home"),
        "PYSPARK_PYTHON": sys.executable,
    }
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    proc = subprocess.run(
        [
            str(spark_home() / "bin" / "spark-submit"),
            "--master", spark_cluster.master_url,
            "--name", "ede-submit-test",
            "--conf", "spark.executor.memory=512m",
            "--conf", "spark.cores.max=1",
            "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.driver.bindAddress=127.0.0.1",
            "--conf", "spark.ui.enabled=false",
            str(Path(submit.__file__).resolve()),
            str(spec),
            "--param", "unused=1",
            "--status-file", str(status),
            "--JOB_NAME", "nightly",  # a scheduler's own argument: ignored
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{spark_cluster.log_tail()}"
    # spark-submit merges the Python driver's stderr into its stdout
    assert "ignoring arguments not for ede: --JOB_NAME nightly" in proc.stdout + proc.stderr
    report = json.loads(status.read_text())
    assert report["engine"] == "spark" and report["exit_code"] == 0
    assert {s["name"]: s["rows"] for s in report["sinks"]} == {
        "people_clean": 10,
        "people_by_country": 4,
    }
    apps = [app["name"] for app in spark_cluster.state().get("completedapps", [])]
    assert "ede-submit-test" in apps
