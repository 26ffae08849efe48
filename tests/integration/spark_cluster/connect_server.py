"""A Spark Connect server on 127.0.0.1, started from the installed pyspark, and stopped.

``connect_server()`` runs ``spark-submit --class …SparkConnectServer`` (the server jar
ships in ``pyspark/jars``) with a ``local[2]`` master in its own process group, waits until
its gRPC port accepts connections, yields a :class:`ConnectServer` and kills the group
whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from standalone_cluster import _free_port, _stop, spark_home

STARTUP_TIMEOUT_S = 120
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass
class ConnectServer:
    """A running Spark Connect server."""

    url: str
    env: dict[str, str]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def server_command(port: int) -> list[str]:
    """The ``spark-submit`` command line of a Connect server on ``127.0.0.1:port``."""
    return [
        str(spark_home() / "bin" / "spark-submit"),
        "--class", SERVER_CLASS,
        "--master", "local[2]",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=4",
        "spark-internal",
    ]  # fmt: skip


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def connect_server(root: Path) -> Iterator[ConnectServer]:
    """Start a Spark Connect server on 127.0.0.1 (files under ``root``); stop it."""
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOCAL_DIRS": str(root / "local"),
        }
    )
    server = ConnectServer(f"sc://127.0.0.1:{port}", env, root / "connect-server.log")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with server.log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    server_command(port),
                    env=env,
                    cwd=root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own group: killed as one
                )
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _accepts(port):
            if processes[0].poll() is not None:
                raise RuntimeError(f"the Connect server exited early:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Connect server did not start in time:\n{server.log_tail()}"
                )
            time.sleep(0.5)
        yield server
    finally:
        _stop(processes)
