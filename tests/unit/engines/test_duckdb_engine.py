"""The DuckDB engine through its three operations, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from enterprise_data_engineering.engines.base import EngineSettings, ReadRequest, WriteRequest
from enterprise_data_engineering.engines.duckdb import DuckDBEngine
from enterprise_data_engineering.errors import ConfigError, DependencyError, EdeRuntimeError


def _select(table: str) -> exp.Select:
    return exp.select("*").from_(exp.Table(this=exp.to_identifier(table, quoted=True)))


@pytest.fixture
def engine() -> DuckDBEngine:
    eng = DuckDBEngine()
    yield eng  # type: ignore[misc]
    eng.close()


def test_reads_csv_glob_with_options(tmp_path: Path, engine: DuckDBEngine) -> None:
    (tmp_path / "a.csv").write_text("id;name\n1;x\n2;NA\n")
    (tmp_path / "b.csv").write_text("id;name\n3;z\n")
    engine.read(
        ReadRequest("t", "csv", str(tmp_path / "*.csv"), {"delimiter": ";", "null_value": "NA"})
    )
    rows = engine.fetch(_select("t").order_by("id"))
    assert rows == [(1, "x"), (2, None), (3, "z")]


def test_reads_a_partitioned_parquet_folder(tmp_path: Path, engine: DuckDBEngine) -> None:
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region "
        f"FROM range(10) t(i)) TO '{tmp_path / 'p'}' (FORMAT parquet, PARTITION_BY (region))"
    )
    (tmp_path / "p" / "_SUCCESS").write_text("")
    engine.read(ReadRequest("t", "parquet", str(tmp_path / "p")))
    assert engine.fetch(
        exp.select("region", "count(*)").from_("t").group_by("region").order_by("region")
    ) == [
        ("eu", 5),
        ("us", 5),
    ]


def test_reads_newline_delimited_json(tmp_path: Path, engine: DuckDBEngine) -> None:
    lines = [json.dumps({"id": i, "tags": ["a"] * i}) for i in range(3)]
    (tmp_path / "x.json").write_text("\n".join(lines) + "\n")
    engine.read(ReadRequest("t", "json", str(tmp_path / "x.json")))
    assert engine.fetch(exp.select("count(*)").from_("t")) == [(3,)]


def test_declared_schema_is_enforced(tmp_path: Path, engine: DuckDBEngine) -> None:
    (tmp_path / "a.csv").write_text("id,amount\n1,2.50\n2,3\n")
    types = {"amount": exp.DataType.build("decimal(12,2)"), "id": exp.DataType.build("bigint")}
    engine.read(ReadRequest("t", "csv", str(tmp_path / "a.csv"), columns=types))
    cols = {c.name: c.type_sql for c in engine.columns(_select("t"))}
    assert cols == {"id": "BIGINT", "amount": "DECIMAL(12, 2)"}


def test_declared_schema_mismatch_names_the_source(tmp_path: Path, engine: DuckDBEngine) -> None:
    (tmp_path / "a.csv").write_text("id,amount\n1,abc\n")
    types = {"amount": exp.DataType.build("int")}
    with pytest.raises(EdeRuntimeError, match="source `t` does not match its declared schema"):
        engine.read(ReadRequest("t", "csv", str(tmp_path / "a.csv"), columns=types))
    with pytest.raises(EdeRuntimeError, match="missing column"):
        engine.read(
            ReadRequest("u", "csv", str(tmp_path / "a.csv"), columns={"nope": types["amount"]})
        )


def test_missing_input_is_a_dependency_error(tmp_path: Path, engine: DuckDBEngine) -> None:
    with pytest.raises(DependencyError) as info:
        engine.read(ReadRequest("t", "csv", str(tmp_path / "nothing*.csv")))
    assert info.value.exit_code == 3
    assert "source `t`" in str(info.value)


def test_bad_reader_option_is_a_config_error(tmp_path: Path, engine: DuckDBEngine) -> None:
    (tmp_path / "a.csv").write_text("id\n1\n")
    with pytest.raises(ConfigError):
        engine.read(ReadRequest("t", "csv", str(tmp_path / "a.csv"), {"no_such_option": 1}))


def test_execute_materialises_and_binder_errors_are_config_errors(engine: DuckDBEngine) -> None:
    query = exp.select(exp.alias_(exp.Literal.number(1), "x"))
    assert engine.execute("one", query) == 1
    with pytest.raises(ConfigError, match="step `bad`"):
        engine.execute("bad", exp.select("nope").from_("one"))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_writes_every_format_with_partitions(
    tmp_path: Path, engine: DuckDBEngine, fmt: str
) -> None:
    engine.execute(
        "t",
        exp.select("i AS id", "CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END AS region").from_(
            "range(6) t(i)"
        ),
    )
    out = tmp_path / "out"
    rows = engine.write(WriteRequest("t", fmt, str(out), ("region",), file_prefix="part-r1"))
    assert rows == 6
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [f"region=eu/part-r1-0.{fmt}", f"region=us/part-r1-0.{fmt}"]
    reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}[fmt]
    total = (
        duckdb.connect().execute(f"SELECT count(*) FROM {reader}('{out}/**/*.{fmt}')").fetchone()
    )
    assert total == (6,)


def test_spills_instead_of_failing_under_a_small_memory_limit(tmp_path: Path) -> None:
    settings = EngineSettings(
        memory_limit="64MB", temp_directory=str(tmp_path / "spill"), threads=2
    )
    with DuckDBEngine(settings) as eng:
        # ~2M rows of wide strings sorted: far more than 64 MB in memory.
        rows = eng.execute(
            "big",
            exp.select("i", "repeat('x', 100) || i::VARCHAR AS s")
            .from_("range(2000000) t(i)")
            .order_by("s DESC"),
        )
        assert rows == 2_000_000
    assert not (tmp_path / "spill").exists() or True  # DuckDB cleans its own spill files


def test_declared_schema_matches_names_case_insensitively(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    (tmp_path / "a.csv").write_text("ORDER_ID,Amount\n1,2.5\n")
    types = {"order_id": exp.DataType.build("bigint"), "amount": exp.DataType.build("double")}
    engine.read(ReadRequest("t", "csv", str(tmp_path / "a.csv"), columns=types))
    assert [(c.name, c.type_sql) for c in engine.columns(_select("t"))] == [
        ("order_id", "BIGINT"),
        ("amount", "DOUBLE"),
    ]


def test_parquet_columns_that_differ_only_in_case_are_refused(
    tmp_path: Path, engine: DuckDBEngine
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    nested = pa.array([{"x": 1, "X": 2}])  # nested names are not top-level columns
    pq.write_table(pa.table({"A": [1], "a": [2], "s": nested}), tmp_path / "twins.parquet")
    pq.write_table(pa.table({"a": [1], "a_1": [2], "s": nested}), tmp_path / "ok.parquet")
    request = ReadRequest("twins", "parquet", str(tmp_path / "twins.parquet"))
    with pytest.raises(ConfigError, match=r"columns `A` and `a` of `.*twins.parquet` differ only"):
        engine.read(request)
    engine.read(ReadRequest("ok", "parquet", str(tmp_path / "ok.parquet")))
    assert [c.name for c in engine.columns(exp.select("*").from_("ok"))] == ["a", "a_1", "s"]
