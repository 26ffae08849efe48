"""The ``spark_cluster`` fixture: a real standalone cluster on 127.0.0.1 for this module."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator

import pytest
from standalone_cluster import Cluster, standalone_cluster


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A master and a worker on 127.0.0.1 (skips when pyspark or Java is missing)."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip('pyspark is not installed (pip install -e ".[spark]")')
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Java is not installed (Spark needs Java 17+; .ci/run installs it)")
    with standalone_cluster(tmp_path_factory.mktemp("spark_cluster")) as cluster:
        yield cluster
