"""Built-in transforms that rewrite the values of columns: ``standardize_dates`` and ``mask``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from sqlglot import exp

from enterprise_data_engineering.transforms import sql
from enterprise_data_engineering.transforms.base import (
    Relation,
    Transform,
    TransformContext,
    TransformError,
)
from enterprise_data_engineering.transforms.common import ColumnList, TransformArgs, select_from

#: each strftime directive both engines parse alike -> its Spark datetime pattern; a
#: directive of DuckDB's not listed here has no Spark equivalent for parsing (e.g. ``%a``:
#: Spark refuses day-of-week letters in parsing patterns)
SPARK_PATTERNS: dict[str, str] = {
    "Y": "yyyy",
    "y": "yy",
    "m": "MM",
    "-m": "M",
    "d": "dd",
    "-d": "d",
    "H": "HH",
    "-H": "H",
    "I": "hh",
    "-I": "h",
    "M": "mm",
    "-M": "m",
    "S": "ss",
    "-S": "s",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "B": "MMMM",
    "j": "DDD",
    "-j": "D",
    "z": "Z",
    "Z": "z",
}
#: the strftime directives a date format may use (``%Y``, ``%-d``...), without ``%``
DATE_DIRECTIVES = frozenset(SPARK_PATTERNS)
#: zero-padded directives that DuckDB also parses without the zero ("2024-1-5" with %m)
_LENIENT = {"m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s"}
#: characters that are not literal text in a Spark (java.time) pattern
_SPARK_RESERVED = frozenset("[]{}#'")

_TEXT = exp.DataType.TEXT_TYPES
#: types that already hold a date and a time of day, or a date (cast to TIMESTAMP as is)
_DATE_LIKE = exp.DataType.TEMPORAL_TYPES - {exp.DataType.Type.TIME, exp.DataType.Type.TIMETZ}


def _split_format(fmt: str) -> list[tuple[bool, str]]:
    """``(is_directive, text)`` pieces of a strftime format; directives without ``%``."""
    supported = ", ".join(f"%{d}" for d in sorted(DATE_DIRECTIVES, key=str.lower))
    pieces: list[tuple[bool, str]] = []
    literal = ""
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            literal += fmt[i]
            i += 1
            continue
        width = 3 if fmt[i + 1 : i + 2] == "-" else 2
        directive = fmt[i + 1 : i + width]
        if len(directive) != width - 1 or directive not in DATE_DIRECTIVES:
            raise ValueError(
                f"unsupported directive `{fmt[i : i + width]}` in date format `{fmt}`; "
                f"supported: {supported}"
            )
        if literal:
            pieces.append((False, literal))
            literal = ""
        pieces.append((True, directive))
        i += width
    if literal:
        pieces.append((False, literal))
    return pieces


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


def strftime_to_spark(fmt: str) -> str:
    """The Spark datetime pattern that parses what strftime ``fmt`` parses in DuckDB.

    Literal text is quoted (``T`` would otherwise be a pattern letter), and a zero-padded
    field between non-digits accepts one digit too, as DuckDB's ``strptime`` does.

    >>> strftime_to_spark("%Y-%m-%dT%H:%M:%S")
    "yyyy-M-d'T'H:m:s"
    >>> strftime_to_spark("%Y%m%d")
    'yyyyMMdd'

    Raises:
        ValueError: ``fmt`` uses a directive not in :data:`DATE_DIRECTIVES`.
    """
    pieces = _split_format(fmt)
    out: list[str] = []
    for i, (is_directive, text) in enumerate(pieces):
        if not is_directive:
            needs_quotes = any(c.isalpha() or c in _SPARK_RESERVED for c in text)
            out.append("'" + text.replace("'", "''") + "'" if needs_quotes else text)
            continue
        before = pieces[i - 1] if i > 0 else (False, "")
        after = pieces[i + 1] if i + 1 < len(pieces) else (False, "")
        delimited = not before[0] and not after[0]
        delimited = delimited and not before[1][-1:].isdigit() and not after[1][:1].isdigit()
        out.append(_LENIENT[text] if text in _LENIENT and delimited else SPARK_PATTERNS[text])
    return "".join(out)


def rewrite_for_spark(expression: exp.Expr) -> exp.Expr:
    r"""Rewrite date parsing so Spark renders it like DuckDB runs it; give it before rendering.

    SQLGlot renders a safe ``StrToTime`` (``standardize_dates``) as Spark's ``TO_TIMESTAMP``,
    which fails on a bad value when ANSI mode is on (the default since Spark 4), and copies
    literal letters of the format into the pattern unquoted. This returns a copy where
    each ``StrToTime`` with a literal format becomes ``TRY_TO_TIMESTAMP`` (safe) or
    ``TO_TIMESTAMP`` with the pattern of :func:`strftime_to_spark`; any other node, and
    a format with a directive Spark cannot parse, is left as it is.

    >>> node = parse_timestamp(sql.column("d"), ["%Y-%m-%dT%H"])
    >>> print(rewrite_for_spark(node).sql("spark"))
    TRY_TO_TIMESTAMP(`d`, 'yyyy-M-d\'T\'H')
    """

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.StrToTime) or node.args.get("target_type"):
            return node
        fmt = node.args.get("format")
        if not isinstance(fmt, exp.Literal) or not fmt.is_string:
            return node
        try:
            pattern = strftime_to_spark(fmt.this)
        except ValueError:
            return node
        name = "TRY_TO_TIMESTAMP" if node.args.get("safe") else "TO_TIMESTAMP"
        return exp.Anonymous(this=name, expressions=[node.this.copy(), exp.Literal.string(pattern)])

    return expression.transform(rewrite)


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
    "rewrite_for_spark",
    "strftime_to_spark",
]
