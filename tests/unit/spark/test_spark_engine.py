"""The Spark engine's own behaviour: sessions, errors, staged files, interruption.

What it computes is compared with DuckDB in ``tests/integration/engines`` (the parity suite).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlglot import exp

from enterprise_data_engineering.engines.base import EngineSettings, ReadRequest, WriteRequest
from enterprise_data_engineering.engines.registry import create_engine
from enterprise_data_engineering.engines.spark import SparkEngine
from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
)
from enterprise_data_engineering.transforms.sql import parse_query

pytestmark = pytest.mark.spark


@pytest.fixture
def engine(spark: Any) -> Any:
    eng = create_engine("spark", EngineSettings(master="local[2]"))
    yield eng
    eng.close()


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reuses_the_active_session_and_leaves_it_running(spark: Any) -> None:
    eng = SparkEngine(EngineSettings(master="spark://elsewhere:7077"))
    assert eng.session is not spark
    assert eng.session.sparkContext is spark.sparkContext
    eng.execute("only_here", parse_query("SELECT 1 AS x"))
    # Its tables are its own: the user's session does not see them.
    assert "only_here" not in [t.name for t in spark.catalog.listTables()]
    assert eng.session.conf.get("spark.sql.timestampType") == "TIMESTAMP_NTZ"
    eng.close()
    assert spark.range(3).count() == 3


def test_columns_are_typed_without_running(engine: Any) -> None:
    query = parse_query(
        "SELECT 1::BIGINT AS a, 2.5::DECIMAL(12, 2) AS b, TIMESTAMP '2024-01-01 00:00:00' AS c,"
        " ['x'] AS d, 'x' AS e"
    )
    assert [(c.name, c.type_sql) for c in engine.columns(query)] == [
        ("a", "BIGINT"),
        ("b", "DECIMAL(12, 2)"),
        ("c", "TIMESTAMP"),
        ("d", "TEXT[]"),
        ("e", "TEXT"),
    ]


def test_errors_are_translated(engine: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"step `s`: .*nope"):
        engine.execute("s", parse_query("SELECT * FROM nope"))
    with pytest.raises(EdeRuntimeError, match=r"step `c`: .*CAST_INVALID_INPUT"):
        engine.execute("c", parse_query("SELECT CAST('abc' AS INTEGER) AS x"))
    with pytest.raises(DependencyError, match="source `missing`"):
        engine.read(ReadRequest("missing", "csv", str(tmp_path / "nothing" / "*.csv")))
    with pytest.raises(ConfigError, match="option `skip_rows` is not supported on Spark"):
        engine.read(ReadRequest("t", "csv", _csv(tmp_path, "a\n1\n"), {"skip_rows": 1}))


def test_declared_schema_is_enforced_on_read(engine: Any, tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,amount\n1,2.50\n2,3\n")
    types = {"amount": exp.DataType.build("decimal(12,2)"), "id": exp.DataType.build("bigint")}
    engine.read(ReadRequest("t", "csv", path, columns=types))
    cols = {c.name: c.type_sql for c in engine.columns(parse_query("SELECT * FROM t"))}
    assert cols == {"id": "BIGINT", "amount": "DECIMAL(12, 2)"}
    with pytest.raises(EdeRuntimeError, match="missing column"):
        engine.read(ReadRequest("u", "csv", path, columns={"nope": types["id"]}))


def test_write_stages_files_named_like_duckdbs(engine: Any, tmp_path: Path) -> None:
    engine.session.range(100).createOrReplaceTempView("numbers")
    engine.execute(
        "t",
        parse_query(
            "SELECT id, CASE WHEN id % 2 = 0 THEN 'eu' ELSE 'us' END AS region FROM numbers"
        ),
    )
    staged = tmp_path / "staged"
    staged.mkdir()
    rows = engine.write(WriteRequest("t", "parquet", str(staged), ("region",), {}, "part-r1"))
    assert rows == 100
    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert files == ["region=eu/part-r1-0.parquet", "region=us/part-r1-0.parquet"]
    assert sorted(p.name for p in staged.iterdir()) == ["region=eu", "region=us"]

    flat = tmp_path / "flat"
    flat.mkdir()
    engine.write(WriteRequest("t", "csv", str(flat), (), {"compression": "gzip"}, "part-r2"))
    assert [p.name for p in flat.iterdir()] == ["part-r2-0.csv.gz"]
    with pytest.raises(ConfigError, match="unsupported option `nope`"):
        engine.write(WriteRequest("t", "json", str(tmp_path / "j"), (), {"nope": 1}, "p"))


def test_interrupt_cancels_the_running_query(engine: Any) -> None:
    raised: list[BaseException] = []
    engine.session.range(200000).createOrReplaceTempView("numbers")
    slow = parse_query(
        "SELECT count(*) FROM numbers AS a CROSS JOIN numbers AS b WHERE (a.id * b.id) % 7 = 3"
    )

    def run() -> None:
        try:
            engine.fetch(slow)
        except BaseException as exc:  # the cancellation, translated
            raised.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    spark_context = engine.session.sparkContext
    tracker = spark_context.statusTracker()
    for _ in range(600):  # until the job is running
        if tracker.getActiveJobsIds():
            break
        worker.join(0.1)
    engine.interrupt()
    worker.join(120)
    assert not worker.is_alive()
    assert raised and isinstance(raised[0], EdeError)
