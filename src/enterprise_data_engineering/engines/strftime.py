"""strftime date formats and their Spark datetime patterns.

One definition shared by the ``standardize_dates`` transform (which validates formats) and
the Spark engine (which renders them); kept apart from `engines.spark` so that the
embedded engine's path never imports the Spark engine.
"""

from __future__ import annotations

#: each strftime directive both engines parse alike -> its Spark datetime pattern
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
#: zero-padded directives that DuckDB also parses without the zero ("2024-1-5" with %m)
_LENIENT = {"m": "M", "d": "d", "H": "H", "I": "h", "M": "m", "S": "s"}
#: characters that are not literal text in a Spark (java.time) pattern
_SPARK_RESERVED = frozenset("[]{}#'")


def split_strftime(fmt: str) -> list[tuple[bool, str]]:
    """``(is_directive, text)`` pieces of a strftime format; directives without ``%``.

    >>> split_strftime("%Y-%m")
    [(True, 'Y'), (False, '-'), (True, 'm')]

    Raises:
        ValueError: a directive is not in :data:`SPARK_PATTERNS`.
    """
    supported = ", ".join(f"%{d}" for d in sorted(SPARK_PATTERNS, key=str.lower))
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
        if len(directive) != width - 1 or directive not in SPARK_PATTERNS:
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


def strftime_to_spark(fmt: str, *, lenient: bool = True) -> str:
    """The Spark datetime pattern that parses what strftime ``fmt`` parses in DuckDB.

    Literal text is quoted (``T`` would otherwise be a pattern letter), and, when
    ``lenient`` (for parsing), a zero-padded field between non-digits accepts one digit
    too, as DuckDB's ``strptime`` does; for formatting give ``lenient=False``.

    >>> strftime_to_spark("%Y-%m-%dT%H:%M:%S")
    "yyyy-M-d'T'H:m:s"
    >>> strftime_to_spark("%Y-%m-%d %H:%M", lenient=False)
    'yyyy-MM-dd HH:mm'
    >>> strftime_to_spark("%Y%m%d")
    'yyyyMMdd'

    Raises:
        ValueError: ``fmt`` uses a directive not in :data:`SPARK_PATTERNS`.
    """
    pieces = split_strftime(fmt)
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
        loose = lenient and delimited and text in _LENIENT
        out.append(_LENIENT[text] if loose else SPARK_PATTERNS[text])
    return "".join(out)


__all__ = ["SPARK_PATTERNS", "split_strftime", "strftime_to_spark"]
