"""Sinks' ``partition_by``: a column the table lacks is a spec error before anything is staged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = """\
name: pb
sources:
  src: {format: csv, path: data/d.csv}
steps:
  - {name: t, input: src}
sinks:
  t:
    format: csv
    path: out/t
    partition_by: [a, nope]
"""


def test_an_unknown_partition_column_is_a_spec_error(ede: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(SPEC, encoding="utf-8")

    result = ede("run", "pipeline.yaml", "--output-format", "json")

    assert result.code == 1
    assert "pipeline.yaml:10:23: sink `t`: partition column `nope` is not a column of `t`" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1 and report["sinks"] == []
    assert not (tmp_path / "out").exists()


def test_partitioning_by_every_column_is_a_spec_error(ede: Any, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(SPEC.replace("[a, nope]", "[B, a]"), "utf-8")

    result = ede("run", "pipeline.yaml", "--output-format", "json")

    assert result.code == 1, result.stderr
    assert "pipeline.yaml:10:19: sink `t`: `partition_by` names every column of `t`" in (
        result.stderr
    )
    assert not (tmp_path / "out").exists()


def test_a_repeated_partition_column_is_found_by_validate(ede: Any, tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text(SPEC.replace("[a, nope]", "[a, A]"), "utf-8")
    result = ede("validate", "pipeline.yaml")
    assert result.code == 1
    assert "pipeline.yaml:10:23: partition column `A` repeated" in result.stderr


WRITE = """\
name: writer
sources:
  src: {format: csv, path: data/d.csv}
steps:
  - {name: t, sql: "SELECT a, b AS _p FROM src"}
sinks:
  t: {format: parquet, path: out/t, partition_by: [_p]}
"""

READ = """\
name: reader
sources:
  t: {format: parquet, path: out/t}
steps:
  - {name: back, sql: "SELECT a, _p FROM t ORDER BY a"}
sinks:
  back: {format: csv, path: out/back}
"""


def test_a_sink_partitioned_by_an_underscore_column_reads_back(ede: Any, tmp_path: Path) -> None:
    # `_p=2/` is a hive partition folder, not a hidden one (`_SUCCESS`, `.crc` stay hidden)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    (tmp_path / "writer.yaml").write_text(WRITE, encoding="utf-8")
    (tmp_path / "reader.yaml").write_text(READ, encoding="utf-8")
    assert ede("run", "writer.yaml").code == 0
    assert sorted(p.name for p in (tmp_path / "out" / "t").iterdir()) == ["_p=2", "_p=4"]
    (tmp_path / "out" / "t" / "_SUCCESS").write_text("", encoding="utf-8")

    result = ede("run", "reader.yaml")

    assert result.code == 0, result.stderr
    lines = next((tmp_path / "out" / "back").glob("*.csv")).read_text(encoding="utf-8")
    assert lines.split() == ["a,_p", "1,2", "3,4"]
