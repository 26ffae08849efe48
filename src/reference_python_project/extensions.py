"""Worked examples of the ``ede.transforms`` and ``ede.checks`` extension points.

Both are written against exactly the interfaces the built-ins use, and registered in this
distribution's ``pyproject.toml``::

    [project.entry-points."ede.transforms"]
    normalize_whitespace = "reference_python_project.extensions:NormalizeWhitespace"

    [project.entry-points."ede.checks"]
    non_negative = "reference_python_project.extensions:NonNegative"

Once installed, a spec uses them like built-ins:

.. code-block:: yaml

    steps:
      - name: customers_clean
        input: customers
        transforms:
          - normalize_whitespace: {columns: [name]}
    checks:
      - {table: orders_clean, check: non_negative, column: amount, on_fail: quarantine}

Each one only builds SQLGlot expressions; the engine renders them in its own dialect, so
the same plugin runs on DuckDB and on Spark.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlglot import exp

from enterprise_data_engineering.checks.base import Check, CheckArgs
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.transforms.base import (
    Relation,
    Transform,
    TransformContext,
    TransformError,
)

#: a column name (identifiers are always quoted, so any non-empty text is valid)
ColumnName = Annotated[str, StringConstraints(min_length=1)]

#: any run of whitespace (RE2 in DuckDB and Java regular expressions in Spark agree on ``\s``)
_WHITESPACE_RUN = r"\s+"


def _column(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


class NormalizeWhitespaceArgs(BaseModel):
    """Arguments of ``normalize_whitespace``: ``{columns: [...]}`` (string columns)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[ColumnName] = Field(min_length=1)


def normalize_whitespace(value: exp.Expr) -> exp.Expr:
    r"""``TRIM(REGEXP_REPLACE(value, '\s+', ' '))`` as a SQLGlot expression.

    Every run of whitespace becomes one space, then leading and trailing spaces go. NULL
    stays NULL (both functions return NULL for NULL). SQLGlot renders the replacement of
    *every* match in each dialect (DuckDB needs the ``'g'`` option, Spark does it anyway):

    >>> expr = normalize_whitespace(exp.column("name"))
    >>> expr.sql("duckdb")
    "TRIM(REGEXP_REPLACE(name, '\\s+', ' ', 'g'))"
    >>> expr.sql("spark")
    "TRIM(REGEXP_REPLACE(name, '\\\\s+', ' '))"
    """
    return exp.Trim(
        this=exp.RegexpReplace(
            this=value,
            expression=exp.Literal.string(_WHITESPACE_RUN),
            replacement=exp.Literal.string(" "),
        )
    )


class NormalizeWhitespace(Transform):
    """Trim string columns and collapse each run of whitespace to one space.

    ``"  Anna \t  Schmidt "`` becomes ``"Anna Schmidt"``; nulls stay null; the other columns
    and the column order are unchanged. Naming a column that is not a string column is an
    error (say ``cast`` first if a number should be treated as text).

    ```yaml
    transforms:
      - normalize_whitespace: {columns: [name, city]}
    ```
    """

    name = "normalize_whitespace"
    args_type = NormalizeWhitespaceArgs
    description = "trim string columns and collapse runs of whitespace to one space"

    def apply(
        self, relation: Relation, args: NormalizeWhitespaceArgs, ctx: TransformContext
    ) -> exp.Select:
        """``SELECT`` every column, the listed ones normalized in place."""
        relation.require(args.columns)
        wanted = set(args.columns)
        for col in relation.columns:
            if col.name in wanted and not col.type.is_type(*exp.DataType.TEXT_TYPES):
                raise TransformError(
                    f"`normalize_whitespace`: column `{col.name}` is {col.type_sql}, not a "
                    "string column; `cast` it to varchar first"
                )
        projections: list[exp.Expr] = [
            exp.alias_(
                normalize_whitespace(_column(col.name)),
                exp.to_identifier(col.name, quoted=True),
            )
            if col.name in wanted
            else _column(col.name)
            for col in relation.columns
        ]
        return exp.select(*projections).from_(relation.source.copy())


class NonNegativeArgs(CheckArgs):
    """Arguments of ``non_negative``: ``{column}``."""

    column: ColumnName


class NonNegative(Check):
    """A non-null value of ``column`` must be zero or more (nulls pass: use ``not_null``).

    Row-level, so it shares the one pass over the table with the other row-level checks
    and may say ``on_fail: quarantine``.

    ```yaml
    checks:
      - {table: orders_clean, check: non_negative, column: amount, severity: warn}
    ```
    """

    name = "non_negative"
    args_model = NonNegativeArgs
    row_level = True
    description = "non-null values of the column are >= 0"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        """``COALESCE(column < 0, FALSE)``: TRUE exactly for a negative value."""
        assert isinstance(args, NonNegativeArgs)
        negative = exp.LT(this=_column(args.column), expression=exp.Literal.number(0))
        return exp.Coalesce(this=negative, expressions=[exp.false()])


__all__ = [
    "NonNegative",
    "NonNegativeArgs",
    "NormalizeWhitespace",
    "NormalizeWhitespaceArgs",
    "normalize_whitespace",
]
