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
