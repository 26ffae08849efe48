"""Run the checks of a table on any engine, and quarantine violating rows.

Everything here speaks only the :class:`~enterprise_data_engineering.engines.base.Engine`
protocol. Row-level checks of a table are folded into one aggregate query (one pass over the
table, however many checks); each table-level check runs its own query; samples of violating
rows are fetched only for checks that failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlglot import exp

from enterprise_data_engineering.checks.base import BoundCheck, CheckResult
from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.engines.base import Column, Engine
from enterprise_data_engineering.errors import ConfigError, EdeError, EdeRuntimeError
from enterprise_data_engineering.transforms.sql import alias, column
from enterprise_data_engineering.transforms.sql import table as table_ref

#: column of a quarantine table listing the names of the checks a row failed
FAILED_CHECKS_COLUMN = "_ede_failed_checks"
#: column of a quarantine table holding the run id
RUN_ID_COLUMN = "_ede_run_id"


def quarantine_table_name(table: str) -> str:
    """The engine table that :func:`apply_quarantine` fills with ``table``'s violating rows."""
    return f"{table}__ede_quarantine"


def _flagged_table_name(table: str) -> str:
    return f"{table}__ede_flagged"


@dataclass
class QuarantineOutcome:
    """What :func:`apply_quarantine` did to one table.

    Attributes:
        table: the cleaned table (the input's name: its violating rows were removed).
        quarantine_table: the engine table holding the violating rows, or ``None`` if none.
        quarantined_rows: how many rows were moved to quarantine.
        results: one result per quarantine check (``failing_rows`` = rows it flagged).
    """

    table: str
    quarantine_table: str | None
    quarantined_rows: int
    results: list[CheckResult] = field(default_factory=list)


# Helpers -------------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """A value as JSON can hold it: dates, decimals, UUIDs and the like become strings.

    >>> json_safe({"d": __import__("datetime").date(2024, 1, 31), "n": [1, None]})
    {'d': '2024-01-31', 'n': [1, None]}
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def _table_columns(engine: Engine, table: str) -> tuple[Column, ...]:
    return tuple(engine.columns(exp.select(exp.Star()).from_(table_ref(table))))


def _validate_columns(
    table: str, checks: Sequence[BoundCheck], columns: tuple[Column, ...]
) -> None:
    """Raise `ConfigError` if a check reads a column the table does not have."""
    names = [c.name for c in columns]
    # Both engines resolve identifiers case-insensitively, quoted or not.
    lowered = {n.lower() for n in names}
    for bound in checks:
        for name in bound.check.columns_used(bound.args):
            if name.lower() not in lowered:
                raise ConfigError(
                    f"check `{bound.name}`: table `{table}` has no column `{name}`"
                    f"{did_you_mean(name, names)}; its columns are {', '.join(names)}"
                )


def _flag(predicate: exp.Expr) -> exp.Case:
    """``CASE WHEN predicate THEN 1 ELSE 0 END``."""
    return exp.Case(default=exp.Literal.number(0)).when(predicate, exp.Literal.number(1))


def _reraise(exc: EdeError, bound: BoundCheck) -> EdeError:
    """The same kind of error, naming the check that could not run."""
    message = f"check `{bound.name}` could not run on table `{bound.table}`: {exc.message}"
    try:
        return type(exc)(message)
    except TypeError:  # an error class with a different constructor
        return EdeRuntimeError(message)


def _as_dicts(names: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{n: json_safe(v) for n, v in zip(names, row, strict=False)} for row in rows]


def _sample_names(engine: Engine, query: exp.Select) -> list[str]:
    names = list(query.named_selects)
    if not names or "*" in names or any(not n for n in names):
        names = [c.name for c in engine.columns(query)]
    return names


def _result(bound: BoundCheck, failing_rows: int, **kwargs: Any) -> CheckResult:
    return CheckResult(
        name=bound.name,
        table=bound.table,
        check=bound.check.name,
        severity=bound.severity,
        status="failed" if failing_rows > 0 else "passed",
        failing_rows=failing_rows,
        on_fail=bound.on_fail,
        index=bound.index,
        **kwargs,
    )


# Evaluation ----------------------------------------------------------------------------------


def evaluate_checks(
    engine: Engine, table: str, checks: Sequence[BoundCheck], *, sample_size: int = 5
) -> list[CheckResult]:
    """Run the checks of one table and return one result per check, in the given order.

    Row-level checks share one aggregate query over the table; each table-level check runs
    its own query. For every failed check up to ``sample_size`` violating rows (row-level)
    or rows showing the failure (table-level) are fetched into ``CheckResult.sample``.

    Args:
        engine: the engine holding ``table``.
        table: the table the checks are about.
        checks: the bound checks of ``table``.
        sample_size: the most sample rows per failed check (0: no samples).

    Raises:
        ConfigError: a check reads a column the table does not have.
        EdeError: a check's query failed (the message names the check).

    >>> # results = evaluate_checks(engine, "orders", bound_checks)
    >>> # [r.to_report() for r in results]
    """
    if not checks:
        return []
    columns = _table_columns(engine, table)
    _validate_columns(table, checks, columns)
    source = table_ref(table)
    results: dict[int, CheckResult] = {}

    row_level = [(i, b) for i, b in enumerate(checks) if b.check.row_level]
    if row_level:
        predicates = {i: b.check.violation(b.args, columns) for i, b in row_level}
        total, counts = _count_violations(engine, source, row_level, predicates)
        for i, bound in row_level:
            failing = counts[i]
            sample: list[dict[str, Any]] = []
            message = None
            if failing:
                message = f"{failing} of {total} rows failed"
                if sample_size > 0:
                    query = (
                        exp.select(*(column(c.name) for c in columns))
                        .from_(source.copy())
                        .where(predicates[i].copy())
                        .limit(sample_size)
                    )
                    sample = _as_dicts([c.name for c in columns], _fetch(engine, query, bound))
            results[i] = _result(bound, failing, sample=sample, message=message)

    for i, bound in enumerate(checks):
        if bound.check.row_level:
            continue
        results[i] = _evaluate_table_check(engine, source, bound, columns, sample_size)
    return [results[i] for i in range(len(checks))]


def _fetch(engine: Engine, query: exp.Select, bound: BoundCheck) -> list[tuple[Any, ...]]:
    try:
        return engine.fetch(query)
    except EdeError as exc:
        raise _reraise(exc, bound) from exc


def _count_violations(
    engine: Engine,
    source: exp.Table,
    checks: list[tuple[int, BoundCheck]],
    predicates: dict[int, exp.Expr],
) -> tuple[int, dict[int, int]]:
    """One pass: ``SELECT COUNT(*), SUM(CASE WHEN v1 THEN 1 ELSE 0 END), ... FROM table``."""
    sums = [
        alias(exp.Sum(this=_flag(predicates[i].copy())), f"_ede_check_{n}")
        for n, (i, _) in enumerate(checks)
    ]
    query = exp.select(alias(exp.Count(this=exp.Star()), "_ede_rows"), *sums).from_(source.copy())
    try:
        (row,) = engine.fetch(query)
    except EdeError as exc:
        if len(checks) == 1:
            raise _reraise(exc, checks[0][1]) from exc
        # Find the check whose predicate the engine rejects, to name it.
        for i, bound in checks:
            alone = exp.select(exp.Sum(this=_flag(predicates[i].copy()))).from_(source.copy())
            _fetch(engine, alone, bound)
        raise
    counts = {i: int(row[n + 1] or 0) for n, (i, _) in enumerate(checks)}
    return int(row[0] or 0), counts


def _evaluate_table_check(
    engine: Engine,
    source: exp.Table,
    bound: BoundCheck,
    columns: tuple[Column, ...],
    sample_size: int,
) -> CheckResult:
    check, args = bound.check, bound.args
    rows = _fetch(engine, check.failing_rows_query(args, source.copy(), columns), bound)
    first = rows[0] if rows else (0,)
    failing = int(first[0] or 0)
    if not failing:
        return _result(bound, 0)
    describe = getattr(check, "failure_message", None)
    message = describe(args, first) if callable(describe) else None
    sample: list[dict[str, Any]] = []
    if sample_size > 0:
        query = check.sample_query(args, source.copy(), columns, sample_size)
        sample = _as_dicts(_sample_names(engine, query), _fetch(engine, query, bound))
    return _result(bound, failing, sample=sample, message=message)


# Quarantine ----------------------------------------------------------------------------------


def apply_quarantine(
    engine: Engine, table: str, checks: Sequence[BoundCheck], run_id: str
) -> QuarantineOutcome:
    """Move the rows of ``table`` that fail a quarantine check into a quarantine table.

    Only the checks with ``on_fail: quarantine`` among ``checks`` are applied (they must be
    row-level). In one pass over ``table`` every row is flagged with the names of the
    checks it fails; then ``<table>__ede_quarantine`` receives the flagged rows (the table's
    columns, ``_ede_failed_checks`` - a list of check names - and ``_ede_run_id``) and
    ``table`` is replaced by the rows no check flagged (same columns, same order).

    A quarantine check never fails the run: its result says ``failed`` when it flagged
    rows, and the runner decides what that means.

    Args:
        engine: the engine holding ``table``.
        table: the table just computed.
        checks: checks of ``table``; those without ``on_fail: quarantine`` are ignored.
        run_id: written to ``_ede_run_id`` of every quarantined row.

    Raises:
        ConfigError: a quarantine check is not row-level, reads an unknown column, or the
            table already has a column named ``_ede_failed_checks`` or ``_ede_run_id``.
    """
    quarantine = [b for b in checks if b.quarantines]
    if not quarantine:
        return QuarantineOutcome(table=table, quarantine_table=None, quarantined_rows=0)
    for bound in quarantine:
        if not bound.check.row_level:
            raise ConfigError(
                f"check `{bound.name}`: `on_fail: quarantine` needs a row-level check; "
                f"`{bound.check.name}` judges the whole table"
            )
    columns = _table_columns(engine, table)
    _validate_columns(table, quarantine, columns)
    for reserved in (FAILED_CHECKS_COLUMN, RUN_ID_COLUMN):
        if any(c.name.lower() == reserved for c in columns):
            raise ConfigError(
                f"table `{table}` has a column `{reserved}`, a name quarantine reserves; "
                "rename it before quarantining rows"
            )

    originals = [column(c.name) for c in columns]
    taken = [c.name for c in columns]
    # one 0/1 flag column per check, by position: counts stay right even if names repeat
    flags = [_free_flag(f"_ede_flag_{n}", taken) for n in range(len(quarantine))]
    flagged = _flagged_table_name(table)
    target = quarantine_table_name(table)
    try:
        engine.execute(
            flagged,
            exp.select(
                *(c.copy() for c in originals),
                *(
                    alias(_flag(b.check.violation(b.args, columns)), flag)
                    for b, flag in zip(quarantine, flags, strict=True)
                ),
            ).from_(table_ref(table)),
        )
        any_flag = exp.or_(
            *(exp.EQ(this=column(flag), expression=exp.Literal.number(1)) for flag in flags)
        )
        quarantined = engine.execute(
            target,
            exp.select(
                *(c.copy() for c in originals),
                alias(_failed_checks(quarantine, flags), FAILED_CHECKS_COLUMN),
                alias(exp.Literal.string(run_id), RUN_ID_COLUMN),
            )
            .from_(table_ref(flagged))
            .where(any_flag.copy()),
        )
        if quarantined == 0:
            engine.drop(target)
            results = [_result(b, 0) for b in quarantine]
            return QuarantineOutcome(
                table=table, quarantine_table=None, quarantined_rows=0, results=results
            )
        counts = _count_flags(engine, flagged, flags)
        # `table` may be a view; the flagged copy is materialised, so dropping it is safe.
        engine.drop(table)
        engine.execute(
            table,
            exp.select(*(c.copy() for c in originals))
            .from_(table_ref(flagged))
            .where(exp.not_(any_flag)),
        )
    finally:
        engine.drop(flagged)

    results = [
        _result(
            b,
            n,
            message=f"{n} rows moved to quarantine" if n else None,
        )
        for b, n in zip(quarantine, counts, strict=True)
    ]
    return QuarantineOutcome(
        table=table, quarantine_table=target, quarantined_rows=quarantined, results=results
    )


def _free_flag(preferred: str, taken: list[str]) -> str:
    """``preferred``, or a variant of it that is not a column of the table."""
    lowered = {name.lower() for name in taken}
    name = preferred
    while name.lower() in lowered:
        name = f"_{name}"
    return name


def _failed_checks(checks: Sequence[BoundCheck], flags: Sequence[str]) -> exp.Expr:
    """The names of the checks a row fails (from its flag columns), as an array of strings."""
    names = exp.Array(
        expressions=[
            exp.Case().when(
                exp.EQ(this=column(flag), expression=exp.Literal.number(1)),
                exp.Literal.string(b.name),
            )
            for b, flag in zip(checks, flags, strict=True)
        ]
    )
    item = exp.to_identifier("_ede_name", quoted=True)
    keep = exp.Lambda(this=exp.column(item.copy()).is_(exp.null()).not_(), expressions=[item])
    return exp.ArrayFilter(this=names, expression=keep)


def _count_flags(engine: Engine, flagged: str, flags: Sequence[str]) -> list[int]:
    """Per check (by position), how many rows of the flagged table it flagged."""
    query = exp.select(
        *(alias(exp.Sum(this=column(flag)), f"_ede_check_{n}") for n, flag in enumerate(flags))
    ).from_(table_ref(flagged))
    (row,) = engine.fetch(query)
    return [int(v or 0) for v in row]


__all__ = [
    "FAILED_CHECKS_COLUMN",
    "RUN_ID_COLUMN",
    "QuarantineOutcome",
    "apply_quarantine",
    "evaluate_checks",
    "json_safe",
    "quarantine_table_name",
]
