"""The engine protocol: engines only read, execute and write (ARCHITECTURE §3).

Everything else (planning, transforms, checks, publishing, reports) is engine-neutral and
hands engines SQLGlot expressions, which each engine renders in its own dialect.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlglot import exp

from enterprise_data_engineering.errors import ConfigError, EdeRuntimeError, display_path

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


_BINARY_FLOATS = frozenset({exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE})


def cast_value(value: exp.Expr, source: exp.DataType, target: exp.DataType) -> exp.Expr:
    """``CAST(value AS target)`` for a value of type ``source``, the same on every engine.

    A binary float cast to a decimal goes through its shortest text, so `1.005` (stored as
    1.00499999...) becomes `1.01` as its text says, on DuckDB as on Spark; DuckDB's direct
    cast would round the binary value to `1.00`.

    >>> double, money = exp.DataType.build("double"), exp.DataType.build("decimal(10,2)")
    >>> cast_value(exp.column("x"), double, money).sql("duckdb")
    'CAST(CAST(x AS TEXT) AS DECIMAL(10, 2))'
    """
    if source.this in _BINARY_FLOATS and target.this == exp.DataType.Type.DECIMAL:
        value = exp.Cast(this=value, to=exp.DataType.build("varchar"))
    return exp.Cast(this=value, to=target)


def refuse_case_duplicates(request: ReadRequest, file: str, names: list[str]) -> None:
    """Refuse a source file whose column ``names`` (as written) differ only in case.

    Both engines compare column names case-insensitively, and each silently renames such a
    pair its own way (DuckDB `amount_1`, Spark `Amount0`/`amount1`): that would hide the
    collision `clean_column_names` reports, and read the same file differently per engine.

    Raises:
        ConfigError: two names are equal ignoring case (or equal).
    """
    hint = ", or name every column with the `names` option" if request.format == "csv" else ""
    seen: dict[str, str] = {}
    for name in names:
        first = seen.get(name.casefold())
        if first is None:
            seen[name.casefold()] = name
        else:
            raise ConfigError(
                f"source `{request.name}`: columns `{first}` and `{name}` of "
                f"`{display_path(file)}` differ only in case (or not at all); the engines "
                f"compare column names case-insensitively and cannot keep both: rename "
                f"one in the file{hint}"
            )


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

    def schema_query(self, request: ReadRequest, raw: str) -> exp.Select:
        """The SELECT over table ``raw`` that casts ``request``'s declared columns.

        Shared by every engine so that declared-schema enforcement means the same thing
        everywhere: columns keep their order, declared ones are cast, others pass through.
        In newline-delimited JSON every key is optional, so a declared key that no record
        has is a column of nulls (appended in declared order) rather than an error.

        Raises:
            EdeRuntimeError: a declared column is missing from the data (CSV, Parquet).
        """
        assert request.columns is not None
        raw_table = exp.Table(this=exp.to_identifier(raw, quoted=True))
        found = {c.name: c.type for c in self.columns(exp.select("*").from_(raw_table))}
        actual = list(found)
        # Identifiers are case-insensitive in both engines: `order_id` declares `ORDER_ID`.
        by_lower = {name.lower(): name for name in actual}
        declared = {
            by_lower.get(name.lower(), name): (name, t) for name, t in request.columns.items()
        }
        missing = [name for real, (name, _) in declared.items() if real not in actual]
        absent = missing if request.format == "json" else []
        if missing and not absent:
            raise EdeRuntimeError(
                f"source `{request.name}` does not match its declared schema: missing "
                f"column(s) {', '.join(f'`{m}`' for m in missing)}; found {', '.join(actual)}"
            )

        def ident(name: str) -> exp.Identifier:
            return exp.to_identifier(name, quoted=True)

        return exp.select(
            *(
                exp.alias_(
                    cast_value(exp.column(ident(c)), found[c], declared[c][1]),
                    ident(declared[c][0]),
                )
                if c in declared
                else exp.column(ident(c))
                for c in actual
            ),
            *(
                exp.alias_(exp.Cast(this=exp.null(), to=request.columns[name]), ident(name))
                for name in absent
            ),
        ).from_(raw_table)

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
