"""``ede run --engine spark --spark-master sc://…`` against a real Spark Connect server."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connect_server import ConnectServer, connect_server
from standalone_cluster import published_rows

pytestmark = [pytest.mark.slow, pytest.mark.spark]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: what pyspark's Connect client imports (the ``pyspark[connect]`` extra)
CONNECT_MODULES = ("grpc", "grpc_status", "google.rpc", "zstandard", "pandas", "pyarrow")


@pytest.fixture(scope="module")
def connect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectServer]:
    """A Spark Connect server on 127.0.0.1 (skips when pyspark, its client or Java is missing)."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip('pyspark is not installed (pip install -e ".[spark]")')
    missing = [m for m in CONNECT_MODULES if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"the Spark Connect client needs {', '.join(missing)} (pyspark[connect])")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Java is not installed (Spark needs Java 17+; .ci/run installs it)")
    with connect_server(tmp_path_factory.mktemp("spark_connect")) as server:
        yield server


def _example(name: str, target: Path) -> Path:
    shutil.copytree(
        EXAMPLES / name, target, ignore=shutil.ignore_patterns("out", "quarantine", ".ede*")
    )
    return target / "pipeline.yaml"


def _ede(args: list[str], server: ConnectServer, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "EDE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("EDE_SPARK_MASTER", None)
    return subprocess.run(
        [sys.executable, "-m", "enterprise_data_engineering", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _sinks(report: dict[str, Any]) -> dict[str, tuple[int, list[tuple[str, ...]]]]:
    return {
        s["name"]: (s["rows"], published_rows(Path(s["path"]), s["format"]))
        for s in report["sinks"]
    }


def test_ede_run_on_spark_connect_publishes_what_duckdb_does(
    connect: ConnectServer, tmp_path: Path
) -> None:
    spark_spec = _example("quickstart", tmp_path / "spark")
    duck_spec = _example("quickstart", tmp_path / "duckdb")
    home = tmp_path / "home"

    ran = _ede(
        [
            "run",
            str(spark_spec),
            "--engine",
            "spark",
            "--spark-master",
            connect.url,
            "--output-format",
            "json",
        ],
        connect,
        home,
    )
    assert ran.returncode == 0, f"{ran.stderr}\n{connect.log_tail()}"
    report = json.loads(ran.stdout)
    assert report["engine"] == "spark" and report["status"] == "succeeded"
    # Nothing the client set was refused by the server (driver settings are fixed there).
    assert "CANNOT_MODIFY_CONFIG" not in ran.stderr

    reference = _ede(["run", str(duck_spec), "--output-format", "json"], connect, home)
    assert reference.returncode == 0, reference.stderr
    expected = json.loads(reference.stdout)
    assert expected["engine"] == "duckdb"

    published = _sinks(report)
    assert published == _sinks(expected)
    assert {name: rows for name, (rows, _) in published.items()} == {
        "people_clean": 10,
        "people_by_country": 4,
    }
    assert [(s["name"], s["rows"]) for s in report["steps"]] == [
        (s["name"], s["rows"]) for s in expected["steps"]
    ]
    assert [(c["name"], c["status"], c["failing_rows"]) for c in report["checks"]] == [
        (c["name"], c["status"], c["failing_rows"]) for c in expected["checks"]
    ]
    # The work ran on the Connect server: its driver ran jobs for a Connect session.
    assert "Spark Connect - session_id" in connect.log_text()
