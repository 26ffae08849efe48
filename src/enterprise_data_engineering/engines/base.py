"""The engine protocol: engines only read, execute and write (ARCHITECTURE §3).

Everything else (planning, transforms, checks, publishing, reports) is engine-neutral and
hands engines SQLGlot expressions, which each engine renders in its own dialect.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlglot import exp

#: the writer options a sink may give, by format (every engine supports them)
SINK_OPTIONS: dict[str, frozenset[str]] = {
    "csv": frozenset(
        {
            "delimiter",
            "header",
            "quote",
            "escape",
            "null_value",
            "date_format",
            "timestamp_format",
            "compression",
        }
    ),
    "parquet": frozenset({"compression"}),
    "json": frozenset({"compression"}),
}


@dataclass(frozen=True)
class Column:
    """A column of a relation: its name and SQL type (as SQLGlot parses it)."""

    name: str
    type: exp.DataType

    @property
    def type_sql(self) -> str:
        """The type in DuckDB's spelling, for messages and reports."""
        return self.type.sql("duckdb")


@dataclass(frozen=True)
class ReadRequest:
    """A source to read: ``path`` is absolute or a URL; ``columns`` declared types, if any."""

    name: str
    format: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, exp.DataType] | None = None


@dataclass(frozen=True)
class WriteRequest:
    """A table to write into an empty staging folder ``path``.

    ``file_prefix`` makes file names unique per run, so that ``append`` never overwrites.
    """

    table: str
    format: str
    path: str
    partition_by: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    file_prefix: str = "part"


@dataclass(frozen=True)
class EngineSettings:
    """What a run tells an engine at start-up (engine-specific keys in ``options``)."""

    memory_limit: str | None = None
    temp_directory: str | None = None
    threads: int | None = None
    #: Spark: master URL (``local[*]``, ``spark://…``, ``yarn``, ``k8s://…``, ``sc://…``)
    master: str | None = None
    #: Spark: application name
    app_name: str | None = None
    #: engine configuration passed through (e.g. Spark ``conf``)
    conf: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


class Engine(ABC):
    """A compute engine. Capabilities are class flags, not ``isinstance`` checks."""

    #: registry name (``--engine NAME``)
    name: ClassVar[str]
    #: SQLGlot dialect the engine's SQL is rendered in
    dialect: ClassVar[str]
    #: can process inputs larger than memory by spilling to disk
    spills_to_disk: ClassVar[bool] = False
    #: executes on a cluster of machines
    distributed: ClassVar[bool] = False

    @classmethod
    def unsupported(cls, expression: exp.Expr) -> list[tuple[exp.Expr, str]]:
        """Parts of a user expression this engine cannot run, each with a reason.

        Called by ``ede validate --engine NAME`` on user SQL (steps, filters, derives), so a
        difference between engines is reported with its position before anything runs.
        """
        return []

    def render(self, expression: exp.Expr) -> str:
        """Render a SQLGlot expression in the engine's dialect (identifiers quoted)."""
        return expression.sql(dialect=self.dialect, identify=True)

    @abstractmethod
    def read(self, request: ReadRequest) -> None:
        """Make the source available as table ``request.name`` (declared schema enforced)."""

    @abstractmethod
    def execute(self, name: str, query: exp.Query) -> int:
        """Materialise ``query`` as table ``name``; return its row count."""

    @abstractmethod
    def write(self, request: WriteRequest) -> int:
        """Write table ``request.table`` into the staging folder; return rows written."""

    @abstractmethod
    def columns(self, query: exp.Query) -> list[Column]:
        """The columns ``query`` would produce, without running it over the data."""

    @abstractmethod
    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        """Run a (small) query and return its rows, e.g. facts or check results."""

    def interrupt(self) -> None:  # noqa: B027 - optional
        """Ask a running query to stop as soon as it can (called from a signal handler)."""

    def drop(self, name: str) -> None:  # noqa: B027 - optional: engines may keep tables
        """Forget table ``name`` (frees memory); optional."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
