"""A Spark standalone cluster on 127.0.0.1, started from the installed pyspark, and stopped.

``standalone_cluster()`` starts one master and one worker (1 core, 1 GiB) on free ports,
with their web UIs on free ports too, each in its own process group; it waits until the
master reports the worker alive, yields a :class:`Cluster`, and stops both (and the
executors the worker started) whatever happens.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package."""
    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


@dataclass
class Cluster:
    """A running standalone cluster."""

    master_url: str
    ui_url: str
    env: dict[str, str]
    logs: Path

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as response:
            return dict(json.load(response))

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)


def _start(
    args: list[str], env: dict[str, str], log: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    with log.open("wb") as out:
        processes.append(
            subprocess.Popen(
                [str(spark_home() / "bin" / "spark-class"), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: the executors it starts go with it
            )
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(processes):  # the worker first, then the master
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in reversed(processes):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@contextlib.contextmanager
def standalone_cluster(root: Path) -> Iterator[Cluster]:
    """Start a master and a worker on 127.0.0.1 (work files under ``root``); stop both."""
    logs = root / "logs"
    logs.mkdir()
    master_port, master_ui, worker_port, worker_ui = (_free_port() for _ in range(4))
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOCAL_DIRS": str(root / "local"),
            "SPARK_WORKER_DIR": str(root / "work"),
            "SPARK_NO_DAEMONIZE": "1",
        }
    )
    master_url = f"spark://127.0.0.1:{master_port}"
    cluster = Cluster(master_url, f"http://127.0.0.1:{master_ui}", env, logs)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        _start(
            [
                "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1",
                "--port", str(master_port),
                "--webui-port", str(master_ui),
            ],
            env,
            logs / "master.log",
            processes,
        )  # fmt: skip
        _start(
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1",
                "--port", str(worker_port),
                "--webui-port", str(worker_ui),
                "--cores", "1",
                "--memory", "1g",
                "--work-dir", str(root / "work"),
                master_url,
            ],
            env,
            logs / "worker.log",
            processes,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            for proc in processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"a Spark daemon exited early:\n{cluster.log_tail()}")
            try:
                state = cluster.state()
                if state.get("status") == "ALIVE" and int(str(state.get("aliveworkers", 0))) >= 1:
                    break
            except (OSError, ValueError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Spark cluster did not start in time:\n{cluster.log_tail()}"
                )
            time.sleep(0.5)
        yield cluster
    finally:
        _stop(processes)


#: columns that differ from run to run (left out when comparing published tables)
RUN_COLUMNS = ("process_timestamp", "batch_id")


def published_rows(folder: Path, fmt: str) -> list[tuple[str, ...]]:
    """The rows of a published folder (run columns left out), read with DuckDB, sorted."""
    import duckdb

    con = duckdb.connect()
    pattern = str(folder / "**" / f"*.{fmt}")
    rel = (
        con.read_parquet(pattern, hive_partitioning=True)
        if fmt == "parquet"
        else con.read_csv(pattern, header=True)
    )
    keep = [c for c in rel.columns if c not in RUN_COLUMNS]
    rows = rel.select(*[duckdb.ColumnExpression(c) for c in keep]).fetchall()
    con.close()
    return sorted(tuple(str(v) for v in row) for row in rows)
