"""The engine matrix: every test here runs once per engine, and compares with DuckDB.

- ``engine_name`` is parametrised over ``EDE_ENGINES`` (default ``duckdb,spark``); a new
  engine registered under a name gets the whole suite by adding it there. Spark cases carry
  the ``spark`` mark and are skipped, with the reason, when pyspark or Java is missing.
- ``spark_session``: ONE SparkSession for the whole test session (``local[2]``, two shuffle
  partitions, no UI); every Spark engine the tests create reuses it (``newSession()``).
- ``engine``: an engine instance of ``engine_name`` (closed after the test).
- ``parity``: runs a pipeline spec on an engine and reads back everything it published, as
  normalised tables (types by family, row order ignored) that compare equal across engines
  (see ``engine_parity.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_parity import Parity

from enterprise_data_engineering.engines.base import Engine
from enterprise_data_engineering.engines.registry import create_engine

ENGINES = [e.strip() for e in os.environ.get("EDE_ENGINES", "duckdb,spark").split(",") if e.strip()]


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return 'pyspark is not installed (pip install -e ".[spark]")'
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "Java is not installed (Spark needs Java 17+; .ci/run installs it)"
    return None


def _engine_param(name: str) -> Any:
    if name == "spark":
        return pytest.param(name, marks=[pytest.mark.spark], id=name)
    return pytest.param(name, id=name)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """The one SparkSession of the test session (skips when Spark cannot run here)."""
    reason = _spark_missing()
    if reason:
        pytest.skip(reason)
    from enterprise_data_engineering.engines.spark import SESSION_SQL_CONF
    from enterprise_data_engineering.spark.session import SparkConfig, create_spark_session

    conf = {
        **SESSION_SQL_CONF,
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.sql.warehouse.dir": str(Path(os.environ.get("TMPDIR", "/tmp")) / "ede-warehouse"),
    }
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = create_spark_session(
        SparkConfig(app_name="ede-tests", master="local[2]", conf=conf, ui=False)
    )
    yield session
    session.stop()


@pytest.fixture(params=[_engine_param(name) for name in ENGINES])
def engine_name(request: pytest.FixtureRequest) -> str:
    """The engine under test; Spark ones share the session-wide SparkSession."""
    name = str(request.param)
    if name == "spark":
        request.getfixturevalue("spark_session")
    return name


@pytest.fixture
def engine(engine_name: str) -> Iterator[Engine]:
    """A fresh engine of ``engine_name``."""
    eng = create_engine(engine_name)
    yield eng
    eng.close()


@pytest.fixture
def parity(tmp_path: Path) -> Parity:
    """Run specs on engines and compare what they publish (see :class:`Parity`)."""
    return Parity(tmp_path)
