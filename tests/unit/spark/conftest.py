"""The Spark session of the toolkit tests: the test session's one SparkSession.

``create_spark_session`` joins a running SparkContext, so this fixture and the engine
suite's (``tests/integration/engines``) share one JVM whichever runs first.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A ``local[2]`` SparkSession (skips, with the reason, when Spark cannot run here)."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip('pyspark is not installed (pip install -e ".[spark]")')
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Java is not installed (Spark needs Java 17+; .ci/run installs it)")
    from enterprise_data_engineering.engines.spark import SESSION_SQL_CONF
    from enterprise_data_engineering.spark.session import SparkConfig, create_spark_session

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = {
        **SESSION_SQL_CONF,
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }
    session = create_spark_session(
        SparkConfig(app_name="ede-tests", master="local[2]", conf=conf, ui=False)
    )
    yield session
    session.stop()
