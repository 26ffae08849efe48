"""A short secret value is hidden in the report's data, never garbling its own fields."""

from __future__ import annotations

import json
from pathlib import Path

from enterprise_data_engineering.runtime.history import RunHistory
from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline

SPEC = """\
name: etl_orders
params:
  who: "${secret:warehouse#user}"
sources:
  customers: {format: csv, path: data/c.csv}
steps:
  - name: s1
    input: customers
    transforms:
      - derive: {loaded_by: "'${secret:warehouse#user}'"}
checks:
  - {table: s1, check: not_null, columns: [id]}
sinks:
  s1: {format: csv, path: out/s1}
"""


class ShortSecret:
    """Resolves every secret to a value that also occurs inside ede's own words."""

    def __init__(self, value: str) -> None:
        self.value = value

    def resolve(self, name: str, field: str | None) -> str:
        return self.value


def test_short_secrets_do_not_garble_structural_fields(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.csv").write_text("id\n1\n", encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(SPEC, encoding="utf-8")
    history = tmp_path / "history.sqlite"
    for value in ("etl", "ee", "c"):
        report = run_pipeline(
            tmp_path / "pipeline.yaml",
            RunOptions(secrets=ShortSecret(value), history_path=history),
        )
        assert report["exit_code"] == 0, report["error"]
        assert (report["pipeline"], report["status"], report["engine"]) == (
            "etl_orders",
            "succeeded",
            "duckdb",
        )
        assert report["checks"][0]["status"] == "passed"
        assert report["checks"][0]["check"] == "not_null"
        assert report["params"] == {"who": "***"}  # the data is still redacted
    # the history keeps the pipeline's name, so it can be filtered on
    runs = RunHistory(history).list(pipeline="etl_orders")
    assert len(runs) == 3, json.dumps(runs)[:500]
