"""Building blocks shared by the built-in transforms: argument types and SELECT helpers.

Argument types validate user text when the spec is validated, so that an unknown SQL type
or a SQL syntax error is reported at its ``FILE:LINE:COL`` before any data is read: each
validator raises :class:`~enterprise_data_engineering.transforms.sql.SqlSyntaxError` (a
``ValueError``), which pydantic turns into a ``ValidationError`` located in the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

import sqlglot
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import Relation, TransformError

# Argument types ---------------------------------------------------------------------------


def _valid_type(text: str) -> str:
    sql.parse_type(text)
    return text


def _valid_expression(text: str) -> str:
    parse_value(text, "expression")
    return text


def _valid_predicate(text: str) -> str:
    parse_value(text, "predicate")
    return text


def _valid_order_by(text: str) -> str:
    parse_order_by(text)
    return text


#: a column name (any non-empty text; identifiers are always quoted)
ColumnName = Annotated[str, StringConstraints(min_length=1)]
#: a non-empty list of column names
ColumnList = Annotated[list[ColumnName], Field(min_length=1)]
#: a SQL type name such as ``bigint`` or ``decimal(12,2)`` (DuckDB spelling)
SqlTypeName = Annotated[str, AfterValidator(_valid_type)]


#: one SQL expression in DuckDB's dialect
def _scalar_as_sql(value: object) -> object:
    """YAML gives ``1``, ``2.5`` or ``true`` for a bare value (or a typed ``${params.x}``)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return value


SqlExpressionText = Annotated[
    str, BeforeValidator(_scalar_as_sql), AfterValidator(_valid_expression)
]
#: one SQL predicate in DuckDB's dialect
SqlPredicateText = Annotated[str, BeforeValidator(_scalar_as_sql), AfterValidator(_valid_predicate)]
#: the items of an ``ORDER BY`` clause: ``expr [asc|desc] [nulls first|last], ...``
OrderByText = Annotated[str, AfterValidator(_valid_order_by)]


class TransformArgs(BaseModel):
    """Base of transform argument models: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Parsing ----------------------------------------------------------------------------------


def parse_value(text: str, what: str = "expression") -> exp.Expr:
    """Parse one SQL expression or predicate (DuckDB dialect) that must not name itself.

    ``amount eur`` parses as ``amount AS eur``; in a transform argument that is a typo,
    not an alias (``derive`` names its columns by their keys).

    Raises:
        SqlSyntaxError: the text is not exactly one SQL expression.
    """
    node = sql.parse_expression(text, what)
    if isinstance(node, exp.Alias):
        raise sql.SqlSyntaxError(
            f"invalid SQL {what} `{text}`: unexpected alias `{node.alias}` "
            "(a missing operator or comma?)"
        )
    return node


def parse_order_by(text: str) -> list[exp.Ordered]:
    """Parse the items of an ``ORDER BY`` clause written in DuckDB's dialect.

    Without a direction an item sorts ascending; nulls sort last (DuckDB's default), and
    the rendered SQL says so explicitly where another engine's default differs.

    >>> [o.sql("duckdb") for o in parse_order_by("updated_at desc, id")]
    ['updated_at DESC', 'id']

    Raises:
        SqlSyntaxError: the text is empty or not a list of ordering items.
    """
    if not isinstance(text, str) or not text.strip():
        raise sql.SqlSyntaxError("empty SQL order")
    invalid = f"invalid SQL order `{text}`: expected `expression [asc|desc], ...`"
    # The user's text is only parsed here, never executed: the result must be exactly a
    # SELECT of a constant with an ORDER BY, else the text smuggled in another clause.
    try:
        parsed = sqlglot.parse(f"SELECT 1 ORDER BY {text}", read=sql.USER_DIALECT)
    except (ParseError, TokenError) as exc:
        raise sql.SqlSyntaxError(invalid) from exc
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        raise sql.SqlSyntaxError(invalid)
    node = parsed[0]
    used = {key for key, value in node.args.items() if value}
    order = node.args.get("order")
    if used != {"expressions", "order"} or not isinstance(order, exp.Order):
        raise sql.SqlSyntaxError(invalid)
    items = [item for item in order.expressions if isinstance(item, exp.Ordered)]
    if len(items) != len(order.expressions) or any(
        isinstance(item.this, exp.Literal) for item in items
    ):
        # `ORDER BY 2` means "the second column" and would be meaningless here
        raise sql.SqlSyntaxError(f"{invalid}, not a position")
    return items


def check_references(expression: exp.Expr, relation: Relation, what: str) -> None:
    """Raise `TransformError` if ``expression`` names a column the relation lacks.

    Only unqualified column references are checked (``s.field`` may be a struct field);
    names compare case-insensitively, as they do in DuckDB and Spark.
    """
    known = relation.names
    folded = {name.casefold() for name in known}
    params = {
        param.name.casefold()
        for lam in expression.find_all(exp.Lambda)
        for param in lam.expressions
    }
    for col in expression.find_all(exp.Column):
        name = col.name
        if col.table or not name or name.casefold() in folded | params:
            continue
        raise TransformError(
            f"unknown column `{name}` in {what}{did_you_mean(name, known)}; "
            f"columns are: {', '.join(known)}"
        )


# Building SELECTs -------------------------------------------------------------------------


def project(expression: exp.Expr, name: str) -> exp.Expr:
    """``expression AS "name"``, or the bare column when it already is that column."""
    if isinstance(expression, exp.Column) and not expression.table and expression.name == name:
        return sql.column(name)
    return sql.alias(expression, name)


def select_from(relation: Relation, projections: Iterable[exp.Expr]) -> exp.Select:
    """``SELECT projections FROM relation.source``."""
    return exp.select(*projections).from_(relation.source.copy())


def check_output_names(names: Sequence[str], transform: str) -> None:
    """Raise `TransformError` if two output columns would have the same name.

    DuckDB and Spark compare column names case-insensitively, so ``a`` and ``A`` clash.
    """
    seen: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key in seen:
            same = f"`{name}` twice" if seen[key] == name else f"`{seen[key]}` and `{name}`"
            raise TransformError(
                f"`{transform}` would give two columns of the same name: {same} "
                "(column names are case-insensitive)"
            )
        seen[key] = name


def is_orderable(dtype: exp.DataType) -> bool:
    """True if both engines can sort by values of ``dtype`` (maps and variants cannot)."""
    unorderable = {exp.DataType.Type.MAP, exp.DataType.Type.VARIANT, exp.DataType.Type.OBJECT}
    return not any(t.this in unorderable for t in dtype.find_all(exp.DataType))
