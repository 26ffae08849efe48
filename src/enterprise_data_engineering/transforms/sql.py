"""SQLGlot helpers shared by transforms, checks and the runner.

User-written SQL (predicates, expressions, SQL steps) is DuckDB's dialect and is always
parsed here; identifiers are always quoted. Nothing builds SQL by pasting strings.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

#: the dialect user SQL is written in (CONTRACT §4)
USER_DIALECT = "duckdb"


class SqlSyntaxError(ValueError):
    """A user SQL text does not parse; the message says where and why."""


def _describe(exc: Exception) -> str:
    if isinstance(exc, ParseError) and exc.errors:
        first = exc.errors[0]
        desc = str(first.get("description", "")).strip()
        if desc.startswith("Required keyword:"):  # SQLGlot's wording names its own classes
            desc = "incomplete expression"
        hl = str(first.get("highlight", "") or "").strip()
        return f"{desc} near `{hl}`" if hl else desc
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def parse_expression(text: str, what: str = "expression") -> exp.Expr:
    """Parse one SQL expression (a predicate, a value) in DuckDB's dialect.

    Raises:
        SqlSyntaxError: the text is empty, not one expression, or not valid SQL.
    """
    if not isinstance(text, str) or not text.strip():
        raise SqlSyntaxError(f"empty SQL {what}")
    try:
        parsed = sqlglot.parse(text, read=USER_DIALECT)
    except (ParseError, TokenError) as exc:
        raise SqlSyntaxError(f"invalid SQL {what} `{text}`: {_describe(exc)}") from exc
    if len(parsed) != 1 or parsed[0] is None:
        raise SqlSyntaxError(f"invalid SQL {what} `{text}`: expected one expression")
    node = parsed[0]
    if isinstance(node, exp.Query | exp.Command | exp.DDL | exp.DML):
        raise SqlSyntaxError(
            f"invalid SQL {what} `{text}`: expected an expression, not a statement"
        )
    return node


def parse_query(text: str) -> exp.Query:
    """Parse a SQL step: exactly one SELECT (or set operation / WITH ... SELECT)."""
    if not isinstance(text, str) or not text.strip():
        raise SqlSyntaxError("empty SQL query")
    try:
        parsed = [p for p in sqlglot.parse(text, read=USER_DIALECT) if p is not None]
    except (ParseError, TokenError) as exc:
        raise SqlSyntaxError(f"invalid SQL: {_describe(exc)}") from exc
    if len(parsed) != 1:
        raise SqlSyntaxError(f"a SQL step must be exactly one SELECT statement, got {len(parsed)}")
    node = parsed[0]
    if not isinstance(node, exp.Query):
        raise SqlSyntaxError(f"a SQL step must be a SELECT query, not `{node.key.upper()}`")
    return node


def parse_type(text: str) -> exp.DataType:
    """Parse a SQL type name such as ``bigint`` or ``decimal(12,2)``.

    Raises:
        SqlSyntaxError: the text is not a SQL type.
    """
    try:
        dtype = exp.DataType.build(text, dialect=USER_DIALECT, udt=False)
    except (ParseError, TokenError, ValueError) as exc:
        raise SqlSyntaxError(f"unknown SQL type `{text}`") from exc
    if dtype.this == exp.DataType.Type.USERDEFINED:
        raise SqlSyntaxError(f"unknown SQL type `{text}`")
    return dtype


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference."""
    qualifier = exp.to_identifier(table, quoted=True) if table else None
    return exp.column(exp.to_identifier(name, quoted=True), table=qualifier)


def table(name: str) -> exp.Table:
    """A quoted table reference."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def alias(expression: exp.Expr, name: str) -> exp.Expr:
    """``expression AS "name"``."""
    return exp.alias_(expression, exp.to_identifier(name, quoted=True))


def literal(value: Any) -> exp.Expr:
    """A SQL literal for a Python value (str, int, float, bool, None)."""
    return exp.convert(value)


def referenced_tables(query: exp.Expr) -> set[str]:
    """Names of the tables a query reads, excluding its own CTEs."""
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    names: set[str] = set()
    for tbl in query.find_all(exp.Table):
        if tbl.name and tbl.name not in ctes and not tbl.args.get("db"):
            names.add(tbl.name)
    return names
