"""Built-in transforms that change which columns a table has, their names or their types.

``clean_column_names``, ``rename``, ``select``, ``drop``, ``cast``, ``derive``,
``enforce_schema``, ``remove_empty_columns`` and ``add_audit_columns`` (CONTRACT §4).
Each one only builds a SQLGlot ``SELECT``; the engine renders it in its own dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from sqlglot import exp
from sqlglot.expressions import DType

from enterprise_data_engineering.common_utils.naming import snake_case
from enterprise_data_engineering.engines.base import cast_value
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import (
    Relation,
    Transform,
    TransformContext,
    TransformError,
)
from enterprise_data_engineering.transforms.common import (
    ColumnList,
    ColumnName,
    SqlExpressionText,
    SqlTypeName,
    TransformArgs,
    check_output_names,
    check_references,
    parse_value,
    project,
    select_from,
)

#: ``{column: type}`` with at least one entry
TypeMapping = Annotated[dict[ColumnName, SqlTypeName], Field(min_length=1)]


def clean_names(names: Sequence[str]) -> list[str]:
    """The snake_case of each name (CONTRACT §4), refusing empty names and collisions.

    >>> clean_names(["Order ID", "Amount (USD)"])
    ['order_id', 'amount_usd']

    Raises:
        TransformError: a name has no letter or digit, or two names clean to the same one.
    """
    cleaned: list[str] = []
    origin: dict[str, str] = {}
    for name in names:
        new = snake_case(name)
        if not new:
            raise TransformError(
                f"`clean_column_names`: column `{name}` has no letter or digit, so its "
                "clean name would be empty; rename it first"
            )
        if new in origin:
            raise TransformError(
                f"`clean_column_names`: columns `{origin[new]}` and `{name}` would both "
                f"become `{new}`; rename or drop one of them first"
            )
        origin[new] = name
        cleaned.append(new)
    return cleaned


class CleanColumnNames(Transform):
    """Snake-case every column name.

    Lowercase; each run of characters outside ``[a-z0-9]`` becomes one ``_``; leading and
    trailing ``_`` are stripped. Two columns that would get the same name (``Order ID`` and
    ``order_id``), or a name that would become empty (``#``), are an error rather than a
    silent ``_1`` suffix or a lost column: the spec must say which one it means.

    ```yaml
    transforms:
      - clean_column_names
    ```
    """

    name = "clean_column_names"
    args_type = None
    description = "snake_case every column name"

    def apply(self, relation: Relation, args: None, ctx: TransformContext) -> exp.Select:
        """Alias every column to its clean name; column order is kept."""
        new_names = clean_names(relation.names)
        return select_from(
            relation,
            (
                project(sql.column(old), new)
                for old, new in zip(relation.names, new_names, strict=True)
            ),
        )


class RenameColumns(Transform):
    """Rename columns; the others keep their names, and every column keeps its place.

    ```yaml
    transforms:
      - rename: {cust_id: customer_id, amt: amount}
    ```

    Renames happen at once, so ``{a: b, b: a}`` swaps two columns. A new name that clashes
    with a column that keeps its name is an error.
    """

    name = "rename"
    args_type = Annotated[dict[ColumnName, ColumnName], Field(min_length=1)]
    description = "rename columns: {old: new}"

    def apply(self, relation: Relation, args: dict[str, str], ctx: TransformContext) -> exp.Select:
        """Alias each renamed column to its new name."""
        relation.require(list(args))
        new_names = [args.get(name, name) for name in relation.names]
        check_output_names(new_names, self.name)
        return select_from(
            relation,
            (
                project(sql.column(old), new)
                for old, new in zip(relation.names, new_names, strict=True)
            ),
        )


class SelectColumns(Transform):
    """Keep only the given columns, in the given order.

    ```yaml
    transforms:
      - select: [order_id, customer_id, amount]
    ```
    """

    name = "select"
    args_type = ColumnList
    description = "keep the given columns, in the given order"

    def apply(self, relation: Relation, args: list[str], ctx: TransformContext) -> exp.Select:
        """Project the listed columns."""
        relation.require(args)
        check_output_names(args, self.name)
        return select_from(relation, (sql.column(name) for name in args))


class DropColumns(Transform):
    """Remove the given columns; the others keep their order.

    ```yaml
    transforms:
      - drop: [_loaded_at, raw_payload]
    ```
    """

    name = "drop"
    args_type = ColumnList
    description = "remove the given columns"

    def apply(self, relation: Relation, args: list[str], ctx: TransformContext) -> exp.Select:
        """Project every column that is not listed."""
        relation.require(args)
        dropped = set(args)
        kept = [name for name in relation.names if name not in dropped]
        if not kept:
            raise TransformError("`drop` would remove every column; keep at least one")
        return select_from(relation, (sql.column(name) for name in kept))


class CastColumns(Transform):
    """Cast columns to SQL types (DuckDB type names: ``bigint``, ``decimal(12,2)``...).

    A value that cannot be cast fails the run, as ``CAST`` does in SQL; use ``derive`` with
    ``try_cast(...)`` to get nulls instead. A float cast to a decimal is rounded from its
    shortest text (half away from zero): `1.005` becomes `1.01` on every engine.

    ```yaml
    transforms:
      - cast: {amount: "decimal(12,2)", order_id: bigint}
    ```
    """

    name = "cast"
    args_type = TypeMapping
    description = "cast columns to SQL types: {column: type}"

    def apply(self, relation: Relation, args: dict[str, str], ctx: TransformContext) -> exp.Select:
        """Wrap each listed column in ``CAST``; column order is kept."""
        relation.require(list(args))
        types = {name: sql.parse_type(text) for name, text in args.items()}
        return select_from(
            relation,
            (
                sql.alias(cast_value(sql.column(col.name), col.type, types[col.name]), col.name)
                if col.name in args
                else sql.column(col.name)
                for col in relation.columns
            ),
        )


class DeriveColumns(Transform):
    """Add or replace columns computed by SQL expressions (DuckDB dialect).

    A replaced column keeps its place (names compare case-insensitively, as in the engines:
    ``Amount`` replaces ``amount`` and is named ``Amount``); new columns are appended in the
    order given. Every
    expression sees the columns of the input only, not the other columns of the same
    ``derive`` (as in one SQL ``SELECT``): use two ``derive`` transforms to build on a
    derived column.

    ```yaml
    transforms:
      - derive:
          amount_eur: "amount * 0.92"
          status: "upper(status)"
    ```
    """

    name = "derive"
    args_type = Annotated[dict[ColumnName, SqlExpressionText], Field(min_length=1)]
    description = "add or replace columns: {column: sql expression}"

    def apply(self, relation: Relation, args: dict[str, str], ctx: TransformContext) -> exp.Select:
        """Project the input with replaced columns in place and new ones at the end."""
        derived: dict[str, exp.Expr] = {}
        for name, text in args.items():
            expression = parse_value(text)
            check_references(expression, relation, f"`derive` of `{name}`")
            derived[name] = expression
        return add_or_replace(relation, derived, self.name)


#: types that differ by engine but not in meaning: compared as one (see `_same_type`)
_TYPE_FAMILIES: dict[DType, str] = {
    **dict.fromkeys(exp.DataType.TEXT_TYPES, "text"),
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.TIMESTAMPNTZ: "timestamp",
    exp.DataType.Type.DATETIME: "timestamp",
    # Spark's TIMESTAMP is a session-zone timestamp, which is UTC in every ede session
    exp.DataType.Type.TIMESTAMPLTZ: "timestamp",
    exp.DataType.Type.TIMESTAMPTZ: "timestamp",
}


def _same_type(actual: exp.DataType, wanted: exp.DataType) -> bool:
    """Whether a column of type ``actual`` already has the schema's type ``wanted``.

    Text types compare as one (``VARCHAR``, ``STRING``, ``TEXT``), as do the timestamp
    types the engines report for a ``timestamp`` column; parameters (decimal precision and
    scale, nested field types) must be equal.
    """
    if actual == wanted:
        return True
    family_a = _TYPE_FAMILIES.get(actual.this, actual.this.value)
    family_w = _TYPE_FAMILIES.get(wanted.this, wanted.this.value)
    if family_a != family_w:
        return False
    return family_a in ("text", "timestamp") or actual.expressions == wanted.expressions


def _check_strict(relation: Relation, schema: dict[str, exp.DataType]) -> None:
    """``enforce_schema`` strict: any difference of columns, types or order is an error."""
    existing = {col.name.casefold(): col for col in relation.columns}
    wanted = {name.casefold() for name in schema}
    missing = [name for name in schema if name.casefold() not in existing]
    extra = [col.name for col in relation.columns if col.name.casefold() not in wanted]
    parts: list[str] = []
    if missing:
        parts.append("missing " + ", ".join(f"`{n}`" for n in missing))
    if extra:
        parts.append("unexpected " + ", ".join(f"`{n}`" for n in extra))
    if not parts:
        mistyped = [
            f"`{existing[name.casefold()].name}` is {existing[name.casefold()].type.sql('duckdb')}"
            f", not {dtype.sql('duckdb')}"
            for name, dtype in schema.items()
            if not _same_type(existing[name.casefold()].type, dtype)
        ]
        if mistyped:
            parts.append("wrong type: " + "; ".join(mistyped))
        order = [col.name.casefold() for col in relation.columns]
        if order != [name.casefold() for name in schema]:
            parts.append(
                "columns in another order: "
                + ", ".join(f"`{col.name}`" for col in relation.columns)
                + " where the schema says "
                + ", ".join(f"`{n}`" for n in schema)
            )
    if parts:
        raise TransformError(
            f"`enforce_schema` (strict): the table does not match the schema: {'; '.join(parts)}"
        )


class EnforceSchemaArgs(TransformArgs):
    """Arguments of ``enforce_schema``."""

    schema_: TypeMapping = Field(alias="schema")
    mode: Literal["strict", "permissive"] = "permissive"


class EnforceSchema(Transform):
    """Make a table have exactly the given columns and types, in the given order.

    ``permissive`` (the default): columns not in the schema are dropped, missing ones are
    added as typed nulls, every column is cast, and the columns are ordered as given.
    ``strict``: any mismatch is an error that lists them all: a missing or unexpected
    column, a column of another type (text types compare as one, as do timestamp types),
    or another column order; a matching table passes unchanged. A value that cannot be cast
    fails the run (permissive). Names compare case-insensitively, as in the engines; the
    output uses the schema's spelling.

    ```yaml
    transforms:
      - enforce_schema:
          schema: {order_id: bigint, amount: "decimal(12,2)", status: varchar}
          mode: strict
    ```
    """

    name = "enforce_schema"
    args_type = EnforceSchemaArgs
    description = "conform to {col: type}: permissive (drop/add/cast) or strict"

    def apply(
        self, relation: Relation, args: EnforceSchemaArgs, ctx: TransformContext
    ) -> exp.Select:
        """Project the schema's columns, cast to their types."""
        schema = {name: sql.parse_type(text) for name, text in args.schema_.items()}
        check_output_names(list(schema), self.name)
        existing = {col.name.casefold(): col for col in relation.columns}
        if args.mode == "strict":
            _check_strict(relation, schema)
        projections: list[exp.Expr] = []
        for name, dtype in schema.items():
            col = existing.get(name.casefold())
            if col is None:
                projections.append(sql.alias(exp.cast(exp.null(), dtype), name))
            elif col.type == dtype:
                projections.append(project(sql.column(col.name), name))
            else:
                cast = cast_value(sql.column(col.name), col.type, dtype)
                projections.append(sql.alias(cast, name))
        return select_from(relation, projections)


class RemoveEmptyColumnsArgs(TransformArgs):
    """Arguments of ``remove_empty_columns``."""

    threshold: float = Field(default=0.9, gt=0, le=1)


class RemoveEmptyColumns(Transform):
    """Drop columns whose fraction of nulls is at least ``threshold`` (default 0.9).

    The null fractions of all columns come from one aggregate query (one pass over the
    data). An empty table keeps all its columns. If every column would go, that is an
    error: a table needs at least one column.

    ```yaml
    transforms:
      - remove_empty_columns: {threshold: 0.95}
    ```
    """

    name = "remove_empty_columns"
    args_type = RemoveEmptyColumnsArgs
    description = "drop columns whose fraction of nulls is >= threshold"

    def apply(
        self, relation: Relation, args: RemoveEmptyColumnsArgs, ctx: TransformContext
    ) -> exp.Select:
        """Ask for ``COUNT(*)`` and each ``COUNT(col)`` at once, then keep the full columns."""
        counts = exp.select(
            exp.Count(this=exp.Star()),
            *(exp.Count(this=sql.column(name)) for name in relation.names),
        ).from_(relation.source.copy())
        row = ctx.fetch_one(counts)
        rows = int(row[0] or 0)
        kept = relation.names
        if rows > 0:
            kept = [
                name
                for name, non_null in zip(relation.names, row[1:], strict=True)
                if (rows - int(non_null or 0)) / rows < args.threshold
            ]
        if not kept:
            raise TransformError(
                f"`remove_empty_columns`: every column is at least {args.threshold:.0%} null, "
                "so none would remain; raise the threshold or check the input"
            )
        return select_from(relation, (sql.column(name) for name in kept))


class AddAuditColumnsArgs(TransformArgs):
    """Arguments of ``add_audit_columns``."""

    process_name: Annotated[str, StringConstraints(min_length=1)]
    source_system: Annotated[str, StringConstraints(min_length=1)] | None = None


def _timestamp_literal(moment: datetime) -> exp.Expr:
    """``CAST('YYYY-MM-DD HH:MM:SS.ffffff' AS TIMESTAMP)`` of ``moment`` in UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    text = moment.isoformat(sep=" ", timespec="microseconds")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("timestamp"))


class AddAuditColumns(Transform):
    """Add the columns that say which run wrote each row.

    ``process_timestamp`` (TIMESTAMP, the run's start in UTC: the same value for every row
    of the run), ``process_name``, ``source_system`` (only if given) and ``batch_id`` (the
    run id). A column of one of these names that already exists is replaced in place;
    the others are appended in that order.

    ```yaml
    transforms:
      - add_audit_columns: {process_name: orders_daily, source_system: shop}
    ```
    """

    name = "add_audit_columns"
    args_type = AddAuditColumnsArgs
    description = "add process_timestamp, process_name, source_system, batch_id"

    def apply(
        self, relation: Relation, args: AddAuditColumnsArgs, ctx: TransformContext
    ) -> exp.Select:
        """Project the input plus the audit columns as literals."""
        audit: dict[str, exp.Expr] = {
            "process_timestamp": _timestamp_literal(ctx.started_at),
            "process_name": exp.Literal.string(args.process_name),
        }
        if args.source_system is not None:
            audit["source_system"] = exp.Literal.string(args.source_system)
        audit["batch_id"] = exp.Literal.string(ctx.run_id)
        return add_or_replace(relation, audit, self.name)


def add_or_replace(relation: Relation, columns: dict[str, exp.Expr], transform: str) -> exp.Select:
    """Project ``relation`` with ``columns`` replacing those of the same name, in place.

    Names compare case-insensitively (as in DuckDB and Spark) and a replaced column takes
    its new spelling; columns that replace nothing are appended in order.
    """
    by_key = {name.casefold(): name for name in columns}
    if len(by_key) != len(columns):
        check_output_names(list(columns), transform)
    replaced = {name.casefold() for name in relation.names} & set(by_key)
    projections: list[exp.Expr] = []
    for name in relation.names:
        new = by_key.get(name.casefold())
        projections.append(project(columns[new], new) if new else sql.column(name))
    projections += [
        project(value, name) for name, value in columns.items() if name.casefold() not in replaced
    ]
    return select_from(relation, projections)


__all__ = [
    "AddAuditColumns",
    "AddAuditColumnsArgs",
    "CastColumns",
    "CleanColumnNames",
    "DeriveColumns",
    "DropColumns",
    "EnforceSchema",
    "EnforceSchemaArgs",
    "RemoveEmptyColumns",
    "RemoveEmptyColumnsArgs",
    "RenameColumns",
    "SelectColumns",
    "add_or_replace",
    "clean_names",
]
