"""Built-in transforms that rewrite the values of columns: ``standardize_dates`` and ``mask``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from sqlglot import exp

# One definition of strftime -> Spark patterns, shared with the engine that needs it.
from enterprise_data_engineering.engines.strftime import SPARK_PATTERNS, strftime_to_spark
from enterprise_data_engineering.engines.strftime import split_strftime as _split_format
from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import (
    Relation,
    Transform,
    TransformContext,
    TransformError,
)
from enterprise_data_engineering.transforms.common import ColumnList, TransformArgs, select_from

#: the strftime directives a date format may use (``%Y``, ``%-d``...), without ``%``
DATE_DIRECTIVES = frozenset(SPARK_PATTERNS)

_TEXT = exp.DataType.TEXT_TYPES
#: types that already hold a date and a time of day, or a date (cast to TIMESTAMP as is)
_DATE_LIKE = exp.DataType.TEMPORAL_TYPES - {exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}


def check_date_format(fmt: str) -> str:
    """Validate a strftime format for parsing dates (e.g. ``%Y-%m-%d %H:%M:%S``).

    >>> check_date_format("%d/%m/%Y")
    '%d/%m/%Y'

    Raises:
        ValueError: the format has no directive, or uses one not in :data:`DATE_DIRECTIVES`.
    """
    if not any(is_directive for is_directive, _ in _split_format(fmt)):
        raise ValueError(f"date format `{fmt}` has no directive such as %Y, %m or %d")
    return fmt


DateFormat = Annotated[str, AfterValidator(check_date_format)]


class StandardizeDatesArgs(TransformArgs):
    """Arguments of ``standardize_dates``."""

    columns: ColumnList
    format: DateFormat | Annotated[list[DateFormat], Field(min_length=1)] = "%Y-%m-%d"

    @property
    def formats(self) -> list[str]:
        """The formats to try, in order."""
        return [self.format] if isinstance(self.format, str) else list(self.format)


def parse_timestamp(value: exp.Expr, formats: list[str]) -> exp.Expr:
    """The first of ``formats`` (strftime) that parses text ``value``, as a TIMESTAMP; else NULL.

    >>> parse_timestamp(sql.column("d"), ["%Y-%m-%d"]).sql("duckdb")
    'CAST(TRY_STRPTIME("d", \\'%Y-%m-%d\\') AS TIMESTAMP)'
    """
    # DuckDB's strftime is SQLGlot's canonical time format, so it goes in unchanged.
    parsed: list[exp.Expr] = [
        exp.StrToTime(this=value.copy(), format=exp.Literal.string(fmt), safe=True)
        for fmt in formats
    ]
    if len(parsed) == 1:
        return parsed[0]
    return exp.Coalesce(this=parsed[0], expressions=parsed[1:])


class StandardizeDates(Transform):
    """Parse date strings into TIMESTAMP columns.

    ``format`` is a strftime format (``%Y-%m-%d``, the default) or a list of formats tried
    in order (the first that parses wins). A value no format parses becomes null instead of
    failing the run. A column that already holds dates or timestamps is cast to
    TIMESTAMP; a column of another type (e.g. integers such as ``20240131``) is parsed
    from its text.

    ```yaml
    transforms:
      - standardize_dates:
          columns: [order_date, shipped_at]
          format: ["%Y-%m-%d", "%d/%m/%Y"]
    ```
    """

    name = "standardize_dates"
    args_type = StandardizeDatesArgs
    description = "parse date strings to timestamps (strftime formats)"

    def apply(
        self, relation: Relation, args: StandardizeDatesArgs, ctx: TransformContext
    ) -> exp.Select:
        """Replace each listed column, in place, by its TIMESTAMP value."""
        relation.require(args.columns)
        types = {col.name: col.type for col in relation.columns}
        timestamp = exp.DataType.build("timestamp")
        converted: dict[str, exp.Expr] = {}
        for name in args.columns:
            dtype = types[name]
            value: exp.Expr = sql.column(name)
            if dtype.is_type(*_DATE_LIKE):
                converted[name] = exp.cast(value, timestamp)
                continue
            if dtype.this in (exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ):
                raise TransformError(
                    f"`standardize_dates`: column `{name}` is a time of day "
                    f"({dtype.sql('duckdb')}), not a date"
                )
            if not dtype.is_type(*_TEXT):
                value = exp.cast(value, exp.DataType.build("varchar"))
            converted[name] = parse_timestamp(value, args.formats)
        return select_from(
            relation,
            (
                sql.alias(converted[name], name) if name in converted else sql.column(name)
                for name in relation.names
            ),
        )


class MaskArgs(TransformArgs):
    """Arguments of ``mask``."""

    columns: ColumnList
    method: Literal["sha256", "redact"] = "sha256"


#: what ``redact`` puts in place of a value
REDACTED = "[REDACTED]"


def mask_value(value: exp.Expr, dtype: exp.DataType, method: str) -> exp.Expr:
    """The masked ``value``: lowercase hex SHA-256 of its text, or ``[REDACTED]``; null stays null.

    The text of a non-string value is ``CAST(value AS VARCHAR)``.
    """
    if method == "redact":
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.Not(this=exp.Is(this=value, expression=exp.Null())),
                    true=exp.Literal.string(REDACTED),
                )
            ]
        )
    text = value if dtype.is_type(*_TEXT) else exp.cast(value, exp.DataType.build("varchar"))
    # SHA2 of NULL is NULL on both engines; DuckDB's SHA256 and Spark's SHA2 give lowercase hex.
    return exp.SHA2(this=text, length=exp.Literal.number(256))


class Mask(Transform):
    """Irreversibly mask PII columns; null values stay null; the columns become strings.

    ``sha256`` (the default) gives the lowercase hex SHA-256 of the value's UTF-8 text (so
    equal values still join and group together); ``redact`` gives the string
    ``[REDACTED]``.

    ```yaml
    transforms:
      - mask: {columns: [email, phone], method: sha256}
    ```
    """

    name = "mask"
    args_type = MaskArgs
    description = "mask PII columns: sha256 (hex digest) or redact"

    def apply(self, relation: Relation, args: MaskArgs, ctx: TransformContext) -> exp.Select:
        """Replace each listed column, in place, by its masked value."""
        relation.require(args.columns)
        masked = set(args.columns)
        return select_from(
            relation,
            (
                sql.alias(mask_value(sql.column(col.name), col.type, args.method), col.name)
                if col.name in masked
                else sql.column(col.name)
                for col in relation.columns
            ),
        )


__all__ = [
    "DATE_DIRECTIVES",
    "REDACTED",
    "SPARK_PATTERNS",
    "Mask",
    "MaskArgs",
    "StandardizeDates",
    "StandardizeDatesArgs",
    "check_date_format",
    "mask_value",
    "parse_timestamp",
    "strftime_to_spark",
]
