"""What a transform is: a named builder of SQLGlot expressions, with typed arguments.

A transform receives the relation it applies to (something to select from, and its
columns) and returns a ``SELECT`` over it. It never runs SQL itself; if it needs facts
about the data (null fractions, distinct counts), it asks through
:meth:`TransformContext.fetch_one`, which runs exactly one query.

Third-party transforms subclass :class:`Transform` and register through the
``ede.transforms`` entry-point group::

    [project.entry-points."ede.transforms"]
    normalize_whitespace = "my_package.transforms:NormalizeWhitespace"
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, TypeAdapter
from sqlglot import exp

from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.errors import ConfigError


class TransformError(ConfigError):
    """A transform cannot apply to the relation it was given (e.g. an unknown column)."""


@dataclass(frozen=True)
class Relation:
    """A relation a transform applies to: ``source`` goes in ``FROM``; ``columns`` in order."""

    source: exp.Expr
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return [c.name for c in self.columns]

    def require(self, names: list[str] | tuple[str, ...], what: str = "column") -> None:
        """Raise `TransformError` for the first name that is not a column (did-you-mean)."""
        known = self.names
        for name in names:
            if name not in known:
                raise TransformError(
                    f"unknown {what} `{name}`{did_you_mean(name, known)}; "
                    f"columns are: {', '.join(known)}"
                )


class TransformContext(Protocol):
    """What a transform may know about the run."""

    @property
    def run_id(self) -> str:
        """The run's id (``batch_id`` of ``add_audit_columns``)."""
        ...

    @property
    def started_at(self) -> datetime:
        """When the run started (UTC)."""
        ...

    def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
        """Run one query over the data and return its single row."""
        ...


class Transform(ABC):
    """A built-in or plugin transform.

    Attributes:
        name: the name used in specs.
        args_type: the pydantic-validatable type of the arguments (a model, ``list[str]``,
            ``dict[str, str]``, ``str``...), or ``None`` for a transform without arguments.
    """

    name: ClassVar[str]
    args_type: ClassVar[Any] = None
    description: ClassVar[str] = ""

    def parse_args(self, raw: Any) -> Any:
        """Validate raw YAML arguments; raise pydantic's ``ValidationError`` when wrong."""
        if self.args_type is None:
            if raw not in (None, {}, []):
                raise ValueError(f"`{self.name}` takes no arguments")
            return None
        is_model = isinstance(self.args_type, type) and issubclass(self.args_type, BaseModel)
        if raw is None and is_model:
            raw = {}
        return TypeAdapter(self.args_type).validate_python(raw)

    @abstractmethod
    def apply(self, relation: Relation, args: Any, ctx: TransformContext) -> exp.Select:
        """Return a SELECT over ``relation.source`` implementing the transform."""
