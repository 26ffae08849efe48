"""Sources as a data engineer drops them: globs whose files differ, empty files, mixed JSON.

Every case runs the real `ede` CLI and checks the published rows with pyarrow or plain
Python, never with ede's own code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _run(folder: Path, spec: str) -> subprocess.CompletedProcess[str]:
    (folder / "p.yml").write_text(textwrap.dedent(spec))
    env = {**os.environ, "EDE_HOME": str(folder / ".ede-home")}
    command = [sys.executable, "-m", "enterprise_data_engineering", "run", str(folder / "p.yml")]
    return subprocess.run(
        [*command, "--output-format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _spec(source: str, sink_format: str = "json") -> str:
    return f"""\
        name: t
        sources:
          s: {source}
        steps:
          - name: out
            input: s
        sinks:
          out: {{format: {sink_format}, path: out}}
        """


def _json_rows(folder: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for file in sorted((folder / "out").rglob("*.json"))
        for line in file.read_text().splitlines()
        if line.strip()
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_csv_glob_matches_columns_by_name_not_position(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a.csv", "first,last\nAda,Lovelace\n")
    _write(tmp_path / "data" / "b.csv", "last,first\nHopper,Grace\n")
    _write(tmp_path / "data" / "c.csv", "first,last,born\nAlan,Turing,1912\n")
    done = _run(tmp_path, _spec("{format: csv, path: 'data/*.csv'}"))
    assert done.returncode == 0, done.stderr
    rows = sorted(_json_rows(tmp_path), key=lambda r: str(r["first"]))
    assert rows == [
        {"first": "Ada", "last": "Lovelace", "born": None},
        {"first": "Alan", "last": "Turing", "born": 1912},
        {"first": "Grace", "last": "Hopper", "born": None},
    ]


def test_csv_glob_by_name_combines_types_and_keeps_hive_columns(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "day=1" / "a.csv", "id,v\n1,2\n")
    _write(tmp_path / "data" / "day=2" / "b.csv", "v,id\nx,2\n")
    done = _run(tmp_path, _spec("{format: csv, path: data}", "parquet"))
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.parquet")
    table = pq.read_table(file)
    assert table.schema.field("v").type == pa.string()
    assert sorted(table.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "v": "2", "day": 1},
        {"id": 2, "v": "x", "day": 2},
    ]


def test_empty_csv_files_in_a_glob_hold_no_rows(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a.csv", "id,name\n1,x\n")
    _write(tmp_path / "data" / "b.csv", "")
    _write(tmp_path / "data" / "c.csv", "id,name\n")
    done = _run(tmp_path, _spec("{format: csv, path: 'data/*.csv'}"))
    assert done.returncode == 0, done.stderr
    assert _json_rows(tmp_path) == [{"id": 1, "name": "x"}]


def test_an_empty_csv_source_is_zero_rows_of_its_declared_schema(tmp_path: Path) -> None:
    _write(tmp_path / "in.csv", "")
    spec = _spec("{format: csv, path: in.csv, schema: {id: bigint, day: date}}", "parquet")
    done = _run(tmp_path, spec)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sinks"][0]["rows"] == 0
    (file,) = (tmp_path / "out").glob("*.parquet")
    schema = pq.read_schema(file)
    assert schema.names == ["id", "day"]
    assert [schema.field(n).type for n in schema.names] == [pa.int64(), pa.date32()]


def test_an_empty_csv_source_without_schema_is_one_clear_error(tmp_path: Path) -> None:
    _write(tmp_path / "in.csv", "")
    done = _run(tmp_path, _spec("{format: csv, path: in.csv}"))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "source `s`" in line and "empty" in line and "schema" in line
    assert "Traceback" not in done.stderr


def test_csv_conversion_error_names_column_value_and_file(tmp_path: Path) -> None:
    _write(tmp_path / "in.csv", "id,amount\n1,10.5\n2,x\n")
    spec = _spec('{format: csv, path: in.csv, schema: {amount: "decimal(12,2)"}}')
    done = _run(tmp_path, spec)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "Line: 3" in line and "in.csv" in line and '"amount"' in line and '"x"' in line


def test_parquet_files_with_other_columns_are_read_by_name(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(pa.table({"id": [1], "name": ["x"]}), tmp_path / "data" / "a.parquet")
    pq.write_table(pa.table({"name": ["y"], "id": [2]}), tmp_path / "data" / "b.parquet")
    pq.write_table(
        pa.table({"id": [3], "name": ["z"], "extra": [True]}), tmp_path / "data" / "c.parquet"
    )
    done = _run(tmp_path, _spec("{format: parquet, path: data}"))
    assert done.returncode == 0, done.stderr
    rows = sorted(_json_rows(tmp_path), key=lambda r: int(str(r["id"])))
    assert rows == [
        {"id": 1, "name": "x", "extra": None},
        {"id": 2, "name": "y", "extra": None},
        {"id": 3, "name": "z", "extra": True},
    ]


def test_json_key_of_mixed_types_is_text_without_json_quotes(tmp_path: Path) -> None:
    lines = [{"id": 1, "v": 1}, {"id": 2, "v": "two"}, {"id": 3, "v": None}, {"id": 4, "v": [1]}]
    _write(tmp_path / "in.json", "".join(json.dumps(x) + "\n" for x in lines))
    done = _run(tmp_path, _spec("{format: json, path: in.json}", "csv"))
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.csv")
    assert file.read_text().splitlines() == ["id,v", "1,1", "2,two", "3,", "4,[1]"]


def test_json_file_holding_one_array_gives_one_row_per_element(tmp_path: Path) -> None:
    _write(tmp_path / "in.json", '[{"a": 1, "b": "x"}, {"a": 2, "b": null}]\n')
    done = _run(tmp_path, _spec("{format: json, path: in.json}"))
    assert done.returncode == 0, done.stderr
    assert _json_rows(tmp_path) == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]


def test_json_key_that_is_always_null_is_a_text_column(tmp_path: Path) -> None:
    _write(tmp_path / "in.json", '{"id": 1, "note": null}\n{"id": 2, "note": null}\n')
    done = _run(tmp_path, _spec("{format: json, path: in.json}", "parquet"))
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.parquet")
    table = pq.read_table(file)
    assert table.schema.field("note").type == pa.string()
    assert table.column("note").to_pylist() == [None, None]


def test_a_column_that_is_only_null_is_written_as_text(tmp_path: Path) -> None:
    _write(tmp_path / "in.csv", "a\n1\n")
    spec = """\
        name: t
        sources:
          s: {format: csv, path: in.csv}
        steps:
          - name: out
            input: s
            transforms: [{derive: {note: "NULL"}}]
        sinks:
          out: {format: parquet, path: out}
        """
    done = _run(tmp_path, spec)
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.parquet")
    table = pq.read_table(file)
    assert table.schema.field("note").type == pa.string()
    assert table.to_pylist() == [{"a": 1, "note": None}]


def test_declared_types_read_the_text_in_a_glob_matched_by_name(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a.csv", "zip,amount\n01234,1.005\n")
    _write(tmp_path / "data" / "b.csv", "amount,zip\n2.675,00007\n")
    spec = _spec(
        '{format: csv, path: "data/*.csv", schema: {zip: varchar, amount: "decimal(10,2)"}}',
        "csv",
    )
    done = _run(tmp_path, spec)
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.csv")
    # the text is rounded as a decimal (half away from zero), not through a binary double
    assert sorted(file.read_text().splitlines()) == ["00007,2.68", "01234,1.01", "zip,amount"]


def test_csv_in_latin_1_and_utf_16_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_bytes("name;n\ncafé;1\nNA;2\n".encode("latin-1"))
    (tmp_path / "data" / "b.csv").write_bytes("n;name\n3;naïve\n".encode("latin-1"))
    source = '{format: csv, path: "data/*.csv", options: {encoding: latin-1, null_value: NA}}'
    done = _run(tmp_path, _spec(source))
    assert done.returncode == 0, done.stderr
    assert sorted(_json_rows(tmp_path), key=lambda r: int(str(r["n"]))) == [
        {"name": "café", "n": 1},
        {"name": None, "n": 2},
        {"name": "naïve", "n": 3},
    ]
    (tmp_path / "u").mkdir()
    (tmp_path / "u" / "in.csv").write_bytes("name,n\ncafé,1\n".encode("utf-16"))
    done = _run(tmp_path / "u", _spec("{format: csv, path: in.csv, options: {encoding: utf-16}}"))
    assert done.returncode == 0, done.stderr
    assert _json_rows(tmp_path / "u") == [{"name": "café", "n": 1}]


def test_empty_json_source_and_keys_no_record_has(tmp_path: Path) -> None:
    _write(tmp_path / "in.json", "")
    done = _run(tmp_path, _spec("{format: json, path: in.json}"))
    assert done.returncode == 2
    assert "empty" in done.stderr and "schema" in done.stderr
    source = "{format: json, path: in.json, schema: {id: bigint, name: varchar}}"
    done = _run(tmp_path, _spec(source, "parquet"))
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.parquet")
    assert pq.read_schema(file).names == ["id", "name"]
    # in newline-delimited JSON every key is optional: a declared key no record has is null
    _write(tmp_path / "in.json", '{"id": 1}\n')
    done = _run(tmp_path, _spec(source))
    assert done.returncode == 0, done.stderr
    assert _json_rows(tmp_path) == [{"id": 1, "name": None}]


def test_csv_glob_types_a_column_for_the_values_of_every_file(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "a.csv", "id,amount,day\n1,10,2024-01-01\n")
    _write(tmp_path / "data" / "b.csv", "id,amount,day\n2,10.5,2024-01-02 10:00:00\n")
    _write(tmp_path / "data" / "c.csv", "id,amount,day\nx3,,\n")
    done = _run(tmp_path, _spec("{format: csv, path: 'data/*.csv'}", "parquet"))
    assert done.returncode == 0, done.stderr
    (file,) = (tmp_path / "out").glob("*.parquet")
    table = pq.read_table(file)
    assert [table.schema.field(n).type for n in ("id", "amount", "day")] == [
        pa.string(),
        pa.float64(),
        pa.timestamp("us"),
    ]
    assert sorted(table.column("amount").to_pylist(), key=str) == [10.0, 10.5, None]
