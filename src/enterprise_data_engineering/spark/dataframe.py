"""DataFrame functions with the semantics of the built-in transforms of the same meaning.

Each function runs the built-in transform itself: the DataFrame becomes a temporary view,
the transform builds its SQLGlot ``SELECT`` over it, and the query is rendered for Spark
exactly as the Spark engine renders a pipeline step. So ``clean_column_names(df)`` in a
notebook and ``- clean_column_names`` in a spec give the same columns, on the same rules,
from the same code. Functions that need facts about the data ask for them in one query:
:func:`remove_empty_columns` computes every column's null fraction in a single Spark job.

>>> from enterprise_data_engineering.spark import clean_column_names, remove_empty_columns
>>> tidy = remove_empty_columns(clean_column_names(raw_df), threshold=0.95)  # doctest: +SKIP
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlglot import exp

from enterprise_data_engineering.data_pipelines.core import new_run_id
from enterprise_data_engineering.engines.spark import render_spark, spark_columns
from enterprise_data_engineering.errors import ConfigError
from enterprise_data_engineering.spark.session import is_connect_session
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import Relation, Transform
from enterprise_data_engineering.transforms.columns import (
    AddAuditColumns,
    CleanColumnNames,
    EnforceSchema,
    RemoveEmptyColumns,
)
from enterprise_data_engineering.transforms.values import StandardizeDates

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: the format :func:`standardize_date_columns` tries when given none (the transform's default)
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d",)
#: words of a column name that mark it as a date when ``date_columns`` is not given
_DATE_WORDS = frozenset({"date", "dt", "day", "time", "timestamp", "ts", "datetime"})
_DATE_SUFFIXES = frozenset({"at", "on"})


@dataclass
class _DataFrameContext:
    """The `TransformContext` of a DataFrame function: queries run in the DataFrame's session."""

    session: Any
    run_id: str = field(default_factory=new_run_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    queries: list[str] = field(default_factory=list)

    def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
        text = render_spark(query)
        self.queries.append(text)
        rows = self.session.sql(text).collect()  # one query: one Spark job
        return tuple(rows[0]) if rows else ()


def _parse_args(transform: Transform, raw: Any) -> Any:
    try:
        return transform.parse_args(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"`{transform.name}`: {problems}") from exc
    except ValueError as exc:
        raise ConfigError(f"`{transform.name}`: {exc}") from exc


def apply_transform(
    df: DataFrame,
    transform: Transform,
    raw_args: Any = None,
    *,
    context: _DataFrameContext | None = None,
) -> DataFrame:
    """Apply a transform (built-in or plugin) to a DataFrame, as a pipeline step would.

    Args:
        df: the input DataFrame.
        transform: the transform, e.g. ``get_transform("deduplicate")``.
        raw_args: its arguments as a spec would give them (validated here).
        context: run id and start time for transforms that use them (a fresh one if None).

    Raises:
        ConfigError: the arguments are invalid, or the transform cannot apply to ``df``
            (e.g. an unknown column).

    >>> from enterprise_data_engineering.transforms.registry import get_transform
    >>> out = apply_transform(df, get_transform("rename"), {"amt": "amount"})  # doctest: +SKIP
    """
    session = df.sparkSession
    ctx = context or _DataFrameContext(session)
    args = _parse_args(transform, raw_args)
    view = f"_ede_df_{uuid.uuid4().hex}"
    df.createOrReplaceTempView(view)
    try:
        relation = Relation(source=sql.table(view), columns=tuple(spark_columns(df.schema)))
        query = transform.apply(relation, args, ctx)
        result: DataFrame = session.sql(render_spark(query))
    finally:
        # Classic Spark has resolved the view into the result's plan: it can go. A Spark
        # Connect DataFrame is resolved again on each action, so there the view stays.
        if not is_connect_session(session):
            session.catalog.dropTempView(view)
    return result


def clean_column_names(df: DataFrame) -> DataFrame:
    """Snake-case every column name, as the ``clean_column_names`` transform does.

    Lowercase; each run of characters outside ``[a-z0-9]`` becomes one ``_``; leading and
    trailing ``_`` are stripped. Two columns that would get the same name, or a name that
    would become empty, raise `ConfigError` instead of silently renaming.

    >>> clean_column_names(spark.createDataFrame([(1,)], ["Order ID"])).columns  # doctest: +SKIP
    ['order_id']
    """
    return apply_transform(df, CleanColumnNames())


def remove_empty_columns(df: DataFrame, threshold: float = 0.9) -> DataFrame:
    """Drop columns whose fraction of nulls is at least ``threshold`` (0 < threshold <= 1).

    Every column's null count comes from one aggregate query, so the data is read once in
    a single Spark job however many columns there are. An empty DataFrame keeps all its
    columns; if every column would go, `ConfigError` is raised.
    """
    return apply_transform(df, RemoveEmptyColumns(), {"threshold": threshold})


def add_audit_columns(
    df: DataFrame,
    process_name: str,
    source_system: str | None = None,
    *,
    batch_id: str | None = None,
    process_timestamp: datetime | None = None,
) -> DataFrame:
    """Add ``process_timestamp``, ``process_name``, ``source_system`` (if given), ``batch_id``.

    As the ``add_audit_columns`` transform: ``process_timestamp`` is one TIMESTAMP (UTC) for
    every row, ``batch_id`` a run id such as ``20261128T101500Z-3f2a9c1b``; existing
    columns of these names are replaced in place, the others appended.

    Args:
        df: the input DataFrame.
        process_name: the name of the process writing the rows.
        source_system: the system the rows come from (column omitted when ``None``).
        batch_id: the batch id to record (a new run id when ``None``).
        process_timestamp: the moment to record (now, in UTC, when ``None``).
    """
    ctx = _DataFrameContext(df.sparkSession)
    if batch_id is not None:
        ctx.run_id = batch_id
    if process_timestamp is not None:
        ctx.started_at = process_timestamp
    args: dict[str, Any] = {"process_name": process_name}
    if source_system is not None:
        args["source_system"] = source_system
    return apply_transform(df, AddAuditColumns(), args, context=ctx)


def _schema_mapping(schema: Mapping[str, str] | Any) -> dict[str, str]:
    """``{column: type}`` from a mapping of type names or a Spark ``StructType``."""
    if isinstance(schema, Mapping):
        return {str(k): str(v) for k, v in schema.items()}
    fields = getattr(schema, "fields", None)
    if fields is None:
        raise ConfigError("schema must be a {column: type} mapping or a pyspark StructType")
    # Spark's type names, spelled the way specs spell them (DuckDB's names).
    return {
        f.name: exp.DataType.build(f.dataType.simpleString(), dialect="spark").sql("duckdb")
        for f in fields
    }


def apply_schema_enforcement(
    df: DataFrame, schema: Mapping[str, str] | Any, mode: str = "permissive"
) -> DataFrame:
    """Give ``df`` exactly the columns and types of ``schema``, as ``enforce_schema`` does.

    ``permissive``: extra columns are dropped, missing ones added as typed nulls, every
    column cast and ordered as in ``schema``. ``strict``: any missing or extra column
    raises `ConfigError`. A value that does not cast fails when the DataFrame is computed
    (ANSI mode), in both modes.

    Args:
        df: the input DataFrame.
        schema: ``{column: type}`` with SQL type names (``bigint``, ``decimal(12,2)``...)
            or a pyspark ``StructType``.
        mode: ``permissive`` or ``strict``.
    """
    return apply_transform(df, EnforceSchema(), {"schema": _schema_mapping(schema), "mode": mode})


def looks_like_date(name: str) -> bool:
    """Whether a column name says it holds a date: a word such as ``date``, ``ts`` or ``time``,
    or a last word ``at``/``on`` (``created_at``, ``shipped_on``).

    >>> [looks_like_date(n) for n in ["order_date", "createdAt", "updated_at", "amount"]]
    [True, False, True, False]
    """
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    if not words:
        return False
    return any(w in _DATE_WORDS for w in words) or words[-1] in _DATE_SUFFIXES


def standardize_date_columns(
    df: DataFrame,
    date_formats: str | Sequence[str] | None = None,
    date_columns: Sequence[str] | None = None,
) -> DataFrame:
    """Parse date strings into TIMESTAMP columns, as the ``standardize_dates`` transform does.

    Each value is parsed with the first of ``date_formats`` (strftime, e.g. ``%d/%m/%Y``)
    that matches; a value no format parses becomes null. Columns that already hold dates
    or timestamps are cast to TIMESTAMP.

    Args:
        df: the input DataFrame.
        date_formats: one format or a list tried in order; ``%Y-%m-%d`` when ``None``.
        date_columns: the columns to convert; when ``None``, every column that already
            holds a date or a timestamp, or holds text and whose name looks like a date
            (see :func:`looks_like_date`). No such column: ``df`` is returned as is.
    """
    formats = [date_formats] if isinstance(date_formats, str) else list(date_formats or [])
    formats = formats or list(DEFAULT_DATE_FORMATS)
    if date_columns is None:
        from pyspark.sql import types as T

        temporal = (T.DateType, T.TimestampType, T.TimestampNTZType)
        date_columns = [
            f.name
            for f in df.schema.fields
            if isinstance(f.dataType, temporal)
            or (isinstance(f.dataType, T.StringType) and looks_like_date(f.name))
        ]
        if not date_columns:
            return df
    return apply_transform(
        df, StandardizeDates(), {"columns": list(date_columns), "format": formats}
    )


__all__ = [
    "DEFAULT_DATE_FORMATS",
    "add_audit_columns",
    "apply_schema_enforcement",
    "apply_transform",
    "clean_column_names",
    "looks_like_date",
    "remove_empty_columns",
    "standardize_date_columns",
]
