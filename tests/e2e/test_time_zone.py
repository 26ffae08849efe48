"""Runs compute in UTC whatever the host's time zone (the scheduler host's ``TZ``)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Any

import pytest

SPEC = """\
name: tz
sources:
  src: {format: csv, path: data/in.csv, options: {all_varchar: true}}
steps:
  - name: parsed
    input: src
    transforms:
      - standardize_dates: {columns: [s], format: "%Y-%m-%d %H:%M:%S%z"}
  - name: masked
    sql: SELECT CAST(s AS TIMESTAMPTZ) AS t FROM src
    transforms:
      - mask: {columns: [t], method: sha256}
sinks:
  parsed: {format: csv, path: out/parsed}
  masked: {format: csv, path: out/masked}
"""


def _rows(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for file in sorted(folder.glob("*.csv")):
        with file.open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_the_same_input_gives_the_same_output_in_every_host_zone(
    ede: Any, write_spec: Any, tmp_path: Path, zone: str
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.csv").write_text("s\n2024-01-31 10:00:00+0200\n", encoding="utf-8")
    spec = write_spec(tmp_path, SPEC)

    result = ede("run", spec, "--output-format", "json", env={"TZ": zone})

    assert result.code == 0, result.stderr
    assert _rows(tmp_path / "out" / "parsed") == [{"s": "2024-01-31 08:00:00"}]
    # the text a TIMESTAMPTZ masks to is its UTC rendering, so equal instants hash equally
    expected = hashlib.sha256(b"2024-01-31 08:00:00+00").hexdigest()
    assert _rows(tmp_path / "out" / "masked") == [{"t": expected}]
