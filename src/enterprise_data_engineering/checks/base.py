"""What a check is: a named builder of SQLGlot queries that find violating rows.

Row-level checks (``row_level = True``) give a predicate that is TRUE for a violating row;
the evaluator folds every row-level predicate of a table into one aggregate query (one
pass over the table, however many checks) and can quarantine violating rows. Table-level
checks (``unique``, ``row_count``) give their own aggregate query.

Third-party checks subclass :class:`Check` and register through the ``ede.checks``
entry-point group.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict
from sqlglot import exp

from enterprise_data_engineering.engines.base import Column


class CheckArgs(BaseModel):
    """Base of check argument models: unknown arguments are errors."""

    model_config = ConfigDict(extra="forbid")


class Check(ABC):
    """A built-in or plugin check.

    Attributes:
        name: the name used in specs (``check: not_null``).
        args_model: pydantic model of the check's own arguments.
        row_level: True if the check judges each row on its own (can quarantine).
    """

    name: ClassVar[str]
    args_model: ClassVar[type[CheckArgs]] = CheckArgs
    row_level: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def parse_args(self, raw: dict[str, Any]) -> CheckArgs:
        """Validate the check's arguments; raise pydantic's ``ValidationError`` when wrong."""
        return self.args_model.model_validate(raw)

    def column_suffix(self, args: CheckArgs) -> str | None:
        """The column named in the default check name ``<table>.<check>[.<column>]``."""
        col = getattr(args, "column", None)
        if isinstance(col, str):
            return col
        cols = getattr(args, "columns", None)
        if isinstance(cols, list) and len(cols) == 1:
            return str(cols[0])
        return None

    def columns_used(self, args: CheckArgs) -> list[str]:
        """Columns the check reads (validated against the table before running)."""
        col = getattr(args, "column", None)
        cols = getattr(args, "columns", None)
        out = [col] if isinstance(col, str) else []
        return out + (list(cols) if isinstance(cols, list) else [])

    # Row-level checks -------------------------------------------------------------------
    def violation(self, args: CheckArgs, columns: tuple[Column, ...]) -> exp.Expr:
        """A predicate TRUE exactly for violating rows (never NULL: wrap in COALESCE)."""
        raise TypeError(f"check `{self.name}` is not row-level")

    def failure_message(self, args: CheckArgs, row: tuple[Any, ...]) -> str | None:
        """An explanation of a failure from the check's query row (``None``: the default)."""
        return None

    # Table-level checks -----------------------------------------------------------------
    def failing_rows_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...]
    ) -> exp.Select:
        """A query returning one row whose first value is the number of failing rows."""
        raise TypeError(f"check `{self.name}` is row-level")

    def sample_query(
        self, args: CheckArgs, table: exp.Table, columns: tuple[Column, ...], limit: int
    ) -> exp.Select:
        """A query returning up to ``limit`` rows that show the failure (table-level)."""
        raise TypeError(f"check `{self.name}` is row-level")


@dataclass(frozen=True)
class BoundCheck:
    """A check of the spec, resolved: implementation, parsed arguments and its name."""

    name: str
    table: str
    check: Check
    args: CheckArgs
    severity: Literal["error", "warn"] = "error"
    on_fail: Literal["fail", "quarantine"] = "fail"
    index: int = 0

    @property
    def quarantines(self) -> bool:
        """True if violating rows are moved to quarantine instead of failing the run."""
        return self.on_fail == "quarantine"


@dataclass
class CheckResult:
    """The outcome of one check (an entry of the run report's ``checks``)."""

    name: str
    table: str
    check: str
    severity: str
    status: Literal["passed", "failed"]
    failing_rows: int
    on_fail: str = "fail"
    sample: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    index: int = 0
    """The check's position in the spec's ``checks`` (names may repeat); not reported."""

    def to_report(self) -> dict[str, Any]:
        """The JSON object of CONTRACT §5 (plus ``name``, ``on_fail`` and ``sample``)."""
        return {
            "table": self.table,
            "check": self.check,
            "severity": self.severity,
            "status": self.status,
            "failing_rows": self.failing_rows,
            "name": self.name,
            "on_fail": self.on_fail,
            "sample": self.sample,
            **({"message": self.message} if self.message else {}),
        }
