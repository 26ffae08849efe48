"""Running pipelines on engines and reading back what they published, for comparison.

:class:`Parity` runs a spec on an engine in a fresh project folder and reads back every
folder the run published (sinks and quarantine) with DuckDB, as normalised tables: column
types by family (``INTEGER`` and ``BIGINT`` are both integers), numbers to nine significant
digits, rows sorted. Two engines agree when their normalised tables are equal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline

#: the engine every other engine is compared with
REFERENCE = "duckdb"


# -- normalised tables -------------------------------------------------------------------------


def type_family(duckdb_type: str) -> str:
    """A type as families compare across engines: ``INTEGER`` and ``BIGINT`` are both integers."""
    t = duckdb_type.upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT") or t.startswith("UINT"):
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL"):
        return "float"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t in ("VARCHAR", "TEXT", "STRING"):
        return "string"
    if t.endswith("[]"):
        return f"list<{type_family(t[:-2])}>"
    return t.lower()


def normalise_value(value: Any) -> Any:
    """A value as it compares across engines (numbers to 9 significant digits)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, decimal.Decimal | float):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        return float(f"{number:.9g}")
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return tuple(normalise_value(v) for v in value)
    return value


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, str(v)) for v in row)


@dataclass
class Table:
    """A published table: column names, type families and rows (sorted)."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.columns]

    def without(self, *names: str) -> Table:
        """The table without the given columns (values that differ by run, e.g. run ids)."""
        keep = [i for i, (n, _) in enumerate(self.columns) if n not in names]
        rows = sorted((tuple(r[i] for i in keep) for r in self.rows), key=_sort_key)
        return Table([self.columns[i] for i in keep], rows)

    def column(self, name: str) -> list[Any]:
        i = self.names.index(name)
        return [r[i] for r in self.rows]


def read_table(folder: Path, fmt: str) -> Table:
    """Read a published folder (any engine's files) with DuckDB, independently of the run."""
    pattern = str(folder / "**" / f"*.{fmt}")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if fmt == "parquet":
            rel = con.read_parquet(pattern, hive_partitioning=True)
        elif fmt == "csv":
            rel = con.read_csv(pattern, hive_partitioning=True, header=True)
        else:
            rel = con.read_json(pattern, format="newline_delimited")
        columns = [(n, type_family(str(t))) for n, t in zip(rel.columns, rel.types, strict=True)]
        rows = [tuple(normalise_value(v) for v in row) for row in rel.fetchall()]
    finally:
        con.close()
    return Table(columns, sorted(rows, key=_sort_key))


@dataclass
class Outcome:
    """What one run did: its report, and every folder it published, read back."""

    report: dict[str, Any]
    sinks: dict[str, Table] = field(default_factory=dict)
    quarantine: dict[str, Table] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return int(self.report["exit_code"])

    def checks(self) -> dict[str, tuple[str, int]]:
        """``{check name: (status, failing rows)}``."""
        return {c["name"]: (c["status"], c["failing_rows"]) for c in self.report["checks"]}

    def step_rows(self) -> dict[str, int]:
        """``{step: rows}``."""
        return {s["name"]: s["rows"] for s in self.report["steps"]}


class Parity:
    """Runs specs on engines in fresh project folders and reads back what they published."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._n = 0

    def project(self, spec: str, files: dict[str, str | bytes | Callable[[Path], None]]) -> Path:
        """A fresh folder holding ``pipeline.yaml`` and ``files`` (text, bytes or a writer)."""
        self._n += 1
        folder = self.root / f"project{self._n}"
        folder.mkdir(parents=True)
        for name, content in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        (folder / "pipeline.yaml").write_text(textwrap.dedent(spec), encoding="utf-8")
        return folder

    def run_in(self, folder: Path, engine: str, **params: Any) -> Outcome:
        """Run ``folder/pipeline.yaml`` on ``engine`` and read back its sinks and quarantine."""
        report = run_pipeline(
            folder / "pipeline.yaml",
            RunOptions(engine=engine, params=params, record_history=False),
        )
        outcome = Outcome(report)
        for sink in report.get("sinks", []):
            path = Path(sink["path"])
            if path.exists():
                outcome.sinks[sink["name"]] = read_table(path, sink.get("format", "parquet"))
        for item in report.get("quarantine", []):
            outcome.quarantine[item["table"]] = read_table(Path(item["path"]), "parquet")
        return outcome

    def run(
        self,
        engine: str,
        spec: str,
        files: dict[str, str | bytes | Callable[[Path], None]],
        **params: Any,
    ) -> Outcome:
        """Run ``spec`` with ``files`` on ``engine`` in a fresh folder."""
        return self.run_in(self.project(spec, files), engine, **params)

    def compare(
        self,
        engine: str,
        spec: str,
        files: dict[str, str | bytes | Callable[[Path], None]],
        *,
        varying: tuple[str, ...] = (),
        **params: Any,
    ) -> tuple[Outcome, Outcome]:
        """Run on ``engine`` and on the reference; assert both publish the same tables.

        Columns in ``varying`` (run ids, run timestamps) are left out of the comparison;
        check results (status and failing rows) and the exit code must match too.
        """
        expected = self.run(REFERENCE, spec, files, **params)
        actual = self.run(engine, spec, files, **params)
        assert_same_outcome(actual, expected, varying)
        return actual, expected


def assert_same_outcome(actual: Outcome, expected: Outcome, varying: tuple[str, ...] = ()) -> None:
    """The same exit code, check results, sinks and quarantined rows."""
    assert actual.exit_code == expected.exit_code, (
        actual.report["error"],
        expected.report["error"],
    )
    assert actual.checks() == expected.checks()
    assert actual.step_rows() == expected.step_rows()
    assert sorted(actual.sinks) == sorted(expected.sinks)
    for name, table in expected.sinks.items():
        got = actual.sinks[name].without(*varying)
        want = table.without(*varying)
        assert got.columns == want.columns, f"sink `{name}`: columns differ"
        assert got.rows == want.rows, f"sink `{name}`: rows differ"
    assert sorted(actual.quarantine) == sorted(expected.quarantine)
    for name, table in expected.quarantine.items():
        got = actual.quarantine[name].without("_ede_run_id", *varying)
        want = table.without("_ede_run_id", *varying)
        assert got.columns == want.columns, f"quarantine `{name}`: columns differ"
        assert got.rows == want.rows, f"quarantine `{name}`: rows differ"
