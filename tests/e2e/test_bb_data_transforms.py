"""Built-in transforms (CONTRACT §4) on awkward values, through the real `ede` CLI.

Expected values are computed here with plain Python (hashlib, decimal), never with ede.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _run(folder: Path, source: str, transforms: str, sink: str = "csv") -> Path:
    spec = f"""\
        name: t
        sources:
          s: {source}
        steps:
          - name: out
            input: s
            transforms: {transforms}
        sinks:
          out: {{format: {sink}, path: out}}
        """
    (folder / "p.yml").write_text(textwrap.dedent(spec))
    env = {**os.environ, "EDE_HOME": str(folder / ".ede-home")}
    command = [sys.executable, "-m", "enterprise_data_engineering", "run", str(folder / "p.yml")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    (file,) = (folder / "out").glob(f"*.{sink}")
    return file


def _csv_rows(file: Path) -> list[dict[str, str]]:
    with file.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _half_up(text: str) -> str:
    value = decimal.Decimal(text).quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)
    return str(value)


def test_cast_of_a_float_to_decimal_rounds_its_text(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a,b\n1.005,-1.005\n2.675,0.125\n")
    file = _run(
        tmp_path,
        "{format: csv, path: in.csv}",
        '[{cast: {a: "decimal(10,2)"}}, {enforce_schema: {schema: {a: "decimal(10,2)", '
        'b: "decimal(10,2)"}}}]',
    )
    assert _csv_rows(file) == [
        {"a": _half_up("1.005"), "b": _half_up("-1.005")},
        {"a": _half_up("2.675"), "b": _half_up("0.125")},
    ]


def test_declared_decimal_of_a_parquet_double_rounds_its_text(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1, 2, 3], "a": [1.005, -1.005, None]}), tmp_path / "in.parquet")
    file = _run(tmp_path, '{format: parquet, path: in.parquet, schema: {a: "decimal(10,2)"}}', "[]")
    assert [r["a"] for r in _csv_rows(file)] == [_half_up("1.005"), _half_up("-1.005"), ""]


def test_mask_sha256_hashes_the_text_of_typed_values_and_keeps_nulls(tmp_path: Path) -> None:
    table = pa.table(
        {
            "i": pa.array([1, None, -42], pa.int64()),
            "dec": pa.array(
                [decimal.Decimal("12.30"), None, decimal.Decimal("-0.05")], pa.decimal128(12, 2)
            ),
            "day": pa.array([dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)]),
            "flag": pa.array([True, None, False]),
            "s": pa.array(["héllo", None, ""]),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    file = _run(
        tmp_path,
        "{format: parquet, path: in.parquet}",
        "[{mask: {columns: [i, dec, day, flag, s]}}]",
        "parquet",
    )
    texts = {
        "i": ["1", None, "-42"],
        "dec": ["12.30", None, "-0.05"],
        "day": ["2024-02-29", None, "1970-01-01"],
        "flag": ["true", None, "false"],
        "s": ["héllo", None, ""],
    }
    got = pq.read_table(file)
    for name, values in texts.items():
        expected = [
            None if v is None else hashlib.sha256(v.encode("utf-8")).hexdigest() for v in values
        ]
        assert got.column(name).to_pylist() == expected, name
        assert got.schema.field(name).type == pa.string()


def test_deduplicate_with_null_keys_null_orders_and_ties(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(
        "k,ts,v\n1,2024-01-01,a\n1,2024-01-03,b\n1,,c\n,2024-01-01,d\n,2024-01-05,e\n2,,f\n2,,g\n"
    )
    file = _run(
        tmp_path,
        "{format: csv, path: in.csv}",
        '[{deduplicate: {keys: [k], order_by: "ts desc, v desc"}}]',
    )
    rows = sorted(_csv_rows(file), key=lambda r: r["k"])
    # nulls sort last; rows whose key is null form one group
    assert rows == [
        {"k": "", "ts": "2024-01-05", "v": "e"},
        {"k": "1", "ts": "2024-01-03", "v": "b"},
        {"k": "2", "ts": "", "v": "g"},
    ]


def test_remove_empty_columns_drops_at_exactly_the_threshold(tmp_path: Path) -> None:
    lines = ["x,y,z,w"] + [f"{'' if i < 7 else 1},{'' if i < 6 else 2},,{i}" for i in range(10)]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    file = _run(
        tmp_path, "{format: csv, path: in.csv}", "[{remove_empty_columns: {threshold: 0.7}}]"
    )
    # x is 7/10 null (>= 0.7: dropped), y 6/10 (kept), z all null (dropped)
    assert list(_csv_rows(file)[0]) == ["y", "w"]
