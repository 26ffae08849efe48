"""The built-in checks of CONTRACT §4, each written once as SQLGlot expressions.

Row-level checks give a predicate that is TRUE exactly for a violating row (never NULL):
``not_null``, ``accepted_values``, ``range``, ``regex`` and ``expression``. Table-level
checks give their own aggregate query: ``unique`` and ``row_count``.

Null values pass ``accepted_values``, ``range`` and ``regex`` (use ``not_null`` for nulls).
An ``expression`` check fails a row whenever its predicate is not TRUE, so a predicate that
evaluates to NULL (``amount > 0`` with a null ``amount``) fails the row, as a SQL ``CHECK``
constraint would not but as "a predicate every row must satisfy" should.

A spec uses them like this:

.. code-block:: yaml

    checks:
      - {table: orders, check: not_null, columns: [order_id, amount]}
      - {table: orders, check: unique, columns: [order_id]}
      - {table: orders, check: accepted_values, column: status, values: [new, paid]}
      - {table: orders, check: range, column: amount, min: 0}
      - {table: orders, check: regex, column: email, pattern: "^[^@]+@[^@]+$"}
      - {table: orders, check: expression, expr: "shipped_at >= ordered_at"}
      - {table: orders, check: row_count, min: 1}
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from sqlglot import exp

from enterprise_data_engineering.checks.base import Check, CheckArgs
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.transforms.sql import column, literal, parse_expression

#: a column name (non-empty)
ColumnName = Annotated[str, Field(min_length=1)]
#: a literal a check compares values with (YAML scalars, including dates)
Scalar = bool | int | float | Decimal | str | dt.datetime | dt.date
#: a bound of ``range`` (numbers, or strings/dates compared as the column's type)
Bound = int | float | Decimal | str | dt.datetime | dt.date

_TEXT = exp.DataType.build("text")


def _find(columns: tuple[Column, ...], name: str) -> Column | None:
    """The column called ``name`` (exact, else case-insensitive like both engines)."""
    for col in columns:
        if col.name == name:
            return col
    lowered = name.lower()
    for col in columns:
        if col.name.lower() == lowered:
            return col
    return None


def _is_text(columns: tuple[Column, ...], name: str) -> bool:
    col = _find(columns, name)
    return col is not None and col.type.is_type(*exp.DataType.TEXT_TYPES)


def _value_literal(value: Any, as_text: bool) -> exp.Expr:
    """A literal for ``value``; as text when compared with a text column.

    YAML reads ``values: [1, 2]`` as numbers; comparing a text column with numbers would make
    the engine cast every value of the column to a number (and fail on the first ``"abc"``).
    """
    if as_text and not isinstance(value, str):
        if isinstance(value, bool):
            return exp.Literal.string(str(value).lower())
        if isinstance(value, dt.date):
            return exp.Literal.string(value.isoformat())
        return exp.Literal.string(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    return literal(value)


def _never_null(predicate: exp.Expr) -> exp.Expr:
    """``COALESCE(predicate, FALSE)``: a NULL comparison means "not violated"."""
    return exp.Coalesce(this=predicate, expressions=[exp.false()])


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, a string or a date, not a boolean")
    return value


def _scalar_or_none(value: Any, what: str, kinds: str) -> Any:
    """``value`` if it is a YAML scalar or null; else one clear error (not one per type)."""
    if value is None or isinstance(value, bool | int | float | Decimal | str | dt.date):
        return value
    raise ValueError(f"invalid value `{value}` in `{what}`: give {kinds}")


# Argument models -----------------------------------------------------------------------------


class ColumnsArgs(CheckArgs):
    """``{columns: [...]}``: one or more columns."""

    columns: list[ColumnName] = Field(min_length=1)


class AcceptedValuesArgs(CheckArgs):
    """``{column, values: [...]}``: the values a column may hold (nulls pass).

    A ``null`` among ``values`` is allowed and changes nothing: null values pass anyway.
    """

    column: ColumnName
    values: list[Scalar | None] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _scalars(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                _scalar_or_none(item, "values", "numbers, strings, booleans, dates or null")
        return value


class RangeArgs(CheckArgs):
    """``{column, min, max}``: inclusive bounds; either may be omitted, not both."""

    column: ColumnName
    min: Bound | None = None
    max: Bound | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _no_bool(cls, value: Any, info: ValidationInfo) -> Any:
        return _scalar_or_none(
            _reject_bool(value), str(info.field_name), "a number, a string or a date"
        )

    @model_validator(mode="after")
    def _one_bound(self) -> RangeArgs:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if _comparable(self.min, self.max) and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"`min` ({self.min}) is greater than `max` ({self.max})")
        return self


def _comparable(low: Any, high: Any) -> bool:
    if low is None or high is None:
        return False
    numbers = (int, float, Decimal)
    if isinstance(low, numbers) and isinstance(high, numbers):
        return True
    return type(low) is type(high)


#: Python's Unicode meaning of the shorthand classes, in the syntax RE2 (DuckDB) and Java
#: (Spark) share; both engines otherwise give ``\w``, ``\d`` and ``\s`` their ASCII meaning
_CLASS_BODIES = {
    "w": r"\p{L}\p{N}_",
    "d": r"\p{Nd}",
    "s": r"\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}",
}
#: POSIX bracket classes (``[[:alpha:]]``) as ASCII ranges: RE2 knows them, Java does not
_POSIX_CLASSES = {
    "[:alnum:]": "0-9A-Za-z",
    "[:alpha:]": "A-Za-z",
    "[:ascii:]": r"\x00-\x7f",
    "[:blank:]": r"\t ",
    "[:cntrl:]": r"\x00-\x1f\x7f",
    "[:digit:]": "0-9",
    "[:graph:]": "!-~",
    "[:lower:]": "a-z",
    "[:print:]": " -~",
    "[:punct:]": r"!-/:-@\[-`{-~",
    "[:space:]": r"\t\n\x0b\f\r ",
    "[:upper:]": "A-Z",
    "[:word:]": "0-9A-Za-z_",
    "[:xdigit:]": "0-9A-Fa-f",
}
#: group openings RE2 (DuckDB) lacks: look-ahead, look-behind, named back-references
_UNSUPPORTED_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?P=")


def _scan(pattern: str) -> list[tuple[str, bool]]:
    """Split ``pattern`` into tokens, each flagged True if it lies inside a ``[...]`` class.

    A token is an escape (a backslash and one character), a POSIX class (``[:alpha:]``) or
    a single character.
    """
    tokens: list[tuple[str, bool]] = []
    in_class = False
    class_start = -1
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            tokens.append((pattern[i : i + 2], in_class))
            i += 2
            continue
        if not in_class and char == "[":
            in_class, class_start = True, len(tokens)
        elif in_class and char == "[" and pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            if end != -1:  # a POSIX class such as [:alpha:]
                tokens.append((pattern[i : end + 2], True))
                i = end + 2
                continue
        elif in_class and char == "]":
            opened = "".join(t for t, _ in tokens[class_start:])
            if opened not in ("[", "[^"):  # `[]...]` and `[^]...]` hold a literal `]`
                tokens.append((char, True))
                in_class = False
                i += 1
                continue
        tokens.append((char, in_class))
        i += 1
    return tokens


def engine_pattern(pattern: str) -> str:
    r"""``pattern`` with ``\w``, ``\d`` and ``\s`` (and ``\W``, ``\D``, ``\S``) meaning
    what they mean in Python: any Unicode letter, digit or space, not only ASCII.

    RE2 (DuckDB) and Java (Spark) read the shorthand classes as ASCII-only, so ``^\w+$``
    would reject ``café``; spelled with Unicode properties the pattern matches the same
    values on every engine, and the same values as Python's ``re.search``.

    >>> print(engine_pattern(r"^\w+$"))
    ^[\p{L}\p{N}_]+$
    >>> print(engine_pattern(r"[\d.]+"))
    [\p{Nd}.]+

    POSIX bracket classes, which RE2 knows and Java does not, become their ASCII ranges:

    >>> print(engine_pattern(r"^[[:upper:][:digit:]]+$"))
    ^[A-Z0-9]+$
    """
    out: list[str] = []
    for token, in_class in _scan(pattern):
        if in_class and token in _POSIX_CLASSES:
            out.append(_POSIX_CLASSES[token])
            continue
        if len(token) == 2 and token[0] == "\\" and token[1].lower() in _CLASS_BODIES:
            body = _CLASS_BODIES[token[1].lower()]
            if token[1].islower():
                out.append(body if in_class else f"[{body}]")
                continue
            if not in_class:
                out.append(f"[^{body}]")
                continue
        out.append(token)
    return "".join(out)


def _check_pattern(value: str) -> None:
    """Raise `ValueError` unless ``value`` is a pattern every engine runs alike."""
    tokens = _scan(value)
    for i, (token, in_class) in enumerate(tokens):
        if in_class:
            continue
        ahead = "".join(t for t, _ in tokens[i : i + 4])
        group = next((g for g in _UNSUPPORTED_GROUPS if ahead.startswith(g)), None)
        backref = len(token) == 2 and token[0] == "\\" and token[1] in "123456789gk"
        if group is not None or backref:
            raise ValueError(
                f"invalid regular expression `{value}`: `{group or token}` (look-around or a "
                "back-reference) is not supported by the engines (RE2 in DuckDB)"
            )
    # Python's `re` has no \p{...} (RE2 and Java have): stand a letter in for it to check
    # the rest of the syntax; silence its warnings about RE2's [[:alpha:]] classes.
    checkable = re.sub(r"\\[pP](\{[A-Za-z_]+\}|[A-Za-z])", "a", value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(checkable)
    except re.error as exc:
        raise ValueError(f"invalid regular expression `{value}`: {exc}") from exc


class RegexArgs(CheckArgs):
    """``{column, pattern}``: the value's text must contain a match of ``pattern``."""

    column: ColumnName
    pattern: str = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _check_pattern(value)
        return value


class ExpressionArgs(CheckArgs):
    """``{expr}``: a SQL predicate (DuckDB dialect) every row must satisfy."""

    expr: str

    @field_validator("expr")
    @classmethod
    def _parses(cls, value: str) -> str:
        node = parse_expression(value, "check expression")  # SqlSyntaxError is a ValueError
        for found in node.find_all(exp.AggFunc, exp.Window):
            if found.find_ancestor(exp.Query) is None:
                raise ValueError(
                    f"`{found.sql(dialect='duckdb')}` is an aggregate or window function; an "
                    "expression check judges each row on its own (use a SQL step and a "
                    "`row_count` check for table-wide conditions)"
                )
        return value


class RowCountArgs(CheckArgs):
    """``{min, max}``: bounds of the table's row count; either may be omitted, not both."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @field_validator("min", "max", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        return _reject_bool(value)

    @model_validator(mode="after")
    def _one_bound(self) -> RowCountArgs:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is greater than `max` ({self.max})")
        return self


# Row-level checks ----------------------------------------------------------------------------


class NotNull(Check):
    """A row fails if any of ``columns`` is null."""

    name = "not_null"
    args_model = ColumnsArgs
    row_level = True
    description = "every listed column is non-null"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        assert isinstance(args, ColumnsArgs)
        return exp.or_(*(column(name).is_(exp.null()) for name in args.columns))


class AcceptedValues(Check):
    """A non-null value of ``column`` must be one of ``values``."""

    name = "accepted_values"
    args_model = AcceptedValuesArgs
    row_level = True
    description = "non-null values of the column are among the accepted values"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        assert isinstance(args, AcceptedValuesArgs)
        as_text = _is_text(columns, args.column)
        allowed = [_value_literal(v, as_text) for v in args.values if v is not None]
        if not allowed:  # `values: [null]`: only nulls are accepted
            return column(args.column).is_(exp.null()).not_()
        return _never_null(exp.not_(column(args.column).isin(*allowed)))


class Range(Check):
    """A non-null value of ``column`` must lie within ``[min, max]`` (inclusive)."""

    name = "range"
    args_model = RangeArgs
    row_level = True
    description = "non-null values of the column lie within [min, max]"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        assert isinstance(args, RangeArgs)
        value = column(args.column)
        outside: list[exp.Expr] = []
        if args.min is not None:
            outside.append(exp.LT(this=value.copy(), expression=_value_literal(args.min, False)))
        if args.max is not None:
            outside.append(exp.GT(this=value.copy(), expression=_value_literal(args.max, False)))
        return _never_null(exp.or_(*outside))


class Regex(Check):
    """The text of a non-null value of ``column`` must contain a match of ``pattern``.

    Like dbt's and Great Expectations' ``regexp_matches``, the pattern matches anywhere in
    the value: anchor it (``^...$``) for a full match. Patterns are checked when the spec is
    read and run by the engine (RE2 in DuckDB, Java in Spark), so keep to the common syntax;
    ``\\w``, ``\\d`` and ``\\s`` keep their Unicode meaning (see `engine_pattern`).
    """

    name = "regex"
    args_model = RegexArgs
    row_level = True
    description = "the text of non-null values of the column matches the pattern"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        assert isinstance(args, RegexArgs)
        text = exp.Cast(this=column(args.column), to=_TEXT.copy())
        pattern = exp.Literal.string(engine_pattern(args.pattern))
        matches = exp.RegexpLike(this=text, expression=pattern)
        return _never_null(exp.not_(matches))


class Expression(Check):
    """A row fails when the predicate ``expr`` is not TRUE (FALSE or NULL)."""

    name = "expression"
    args_model = ExpressionArgs
    row_level = True
    description = "a SQL predicate every row must satisfy (NULL counts as a failure)"

    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        assert isinstance(args, ExpressionArgs)
        predicate = parse_expression(args.expr, "check expression")
        return exp.not_(_never_null(predicate))

    def columns_used(self, args: CheckArgs) -> list[str]:
        """Unqualified columns of the predicate outside subqueries and lambdas."""
        assert isinstance(args, ExpressionArgs)
        node = parse_expression(args.expr, "check expression")
        names: list[str] = []
        for col in node.find_all(exp.Column):
            if col.table or col.find_ancestor(exp.Query, exp.Lambda) is not None:
                continue
            if col.name and col.name not in names:
                names.append(col.name)
        return names


# Table-level checks --------------------------------------------------------------------------


def _count_star() -> exp.Count:
    return exp.Count(this=exp.Star())


def _free_name(preferred: str, taken: list[str]) -> str:
    lowered = {name.lower() for name in taken}
    return preferred if preferred.lower() not in lowered else f"_ede_{preferred}"


class Unique(Check):
    """No combination of ``columns`` occurs twice (NULLs group together, as in GROUP BY).

    ``failing_rows`` counts every row whose combination occurs more than once.
    """

    name = "unique"
    args_model = ColumnsArgs
    row_level = False
    description = "the combination of the columns is unique (NULLs compare equal)"

    def _duplicates(self, args: ColumnsArgs, table: exp.Table) -> exp.Select:
        keys = [column(name) for name in args.columns]
        return (
            exp.select(*keys)
            .from_(table.copy())
            .group_by(*(key.copy() for key in keys))
            .having(exp.GT(this=_count_star(), expression=exp.Literal.number(1)))
        )

    def failing_rows_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...]
    ) -> exp.Select:
        assert isinstance(args, ColumnsArgs)
        groups = self._duplicates(args, table)
        groups.set("expressions", [exp.alias_(_count_star(), "_ede_rows", quoted=True)])
        total = exp.Coalesce(
            this=exp.Sum(this=column("_ede_rows")), expressions=[exp.Literal.number(0)]
        )
        return exp.select(exp.alias_(total, "failing_rows", quoted=True)).from_(
            groups.subquery("_ede_duplicates", copy=False)
        )

    def sample_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...], limit: int
    ) -> exp.Select:
        assert isinstance(args, ColumnsArgs)
        count_name = _free_name("duplicate_rows", args.columns)
        return (
            self._duplicates(args, table)
            .select(exp.alias_(_count_star(), count_name, quoted=True))
            .order_by(
                exp.Ordered(this=column(count_name), desc=True),
                *(column(name) for name in args.columns),
            )
            .limit(limit)
        )


class RowCount(Check):
    """The table's row count lies within ``[min, max]``; ``failing_rows`` is 0 or 1."""

    name = "row_count"
    args_model = RowCountArgs
    row_level = False
    description = "the number of rows lies within [min, max]"

    def failing_rows_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...]
    ) -> exp.Select:
        assert isinstance(args, RowCountArgs)
        outside: list[exp.Expr] = []
        if args.min is not None:
            outside.append(exp.LT(this=_count_star(), expression=exp.Literal.number(args.min)))
        if args.max is not None:
            outside.append(exp.GT(this=_count_star(), expression=exp.Literal.number(args.max)))
        failing = exp.Case(default=exp.Literal.number(0)).when(
            exp.or_(*outside), exp.Literal.number(1)
        )
        return exp.select(
            exp.alias_(failing, "failing_rows", quoted=True),
            exp.alias_(_count_star(), "row_count", quoted=True),
        ).from_(table.copy())

    def sample_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...], limit: int
    ) -> exp.Select:
        return exp.select(exp.alias_(_count_star(), "row_count", quoted=True)).from_(table.copy())

    def failure_message(self, args: CheckArgs, row: tuple[Any, ...]) -> str | None:
        """Explain a failure from the row of :meth:`failing_rows_query`."""
        assert isinstance(args, RowCountArgs)
        count = int(row[1])
        if args.min is not None and count < args.min:
            return f"row count {count} is below min {args.min}"
        if args.max is not None and count > args.max:
            return f"row count {count} is above max {args.max}"
        return None


#: every built-in check, registered by name in :mod:`enterprise_data_engineering.checks.registry`
BUILTIN_CHECKS: list[type[Check]] = [
    NotNull,
    Unique,
    AcceptedValues,
    Range,
    Regex,
    RowCount,
    Expression,
]

__all__ = [
    "BUILTIN_CHECKS",
    "AcceptedValues",
    "AcceptedValuesArgs",
    "ColumnsArgs",
    "Expression",
    "ExpressionArgs",
    "NotNull",
    "Range",
    "RangeArgs",
    "Regex",
    "RegexArgs",
    "RowCount",
    "RowCountArgs",
    "Unique",
]
