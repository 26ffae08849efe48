"""Every error `ede` raises, each carrying the exit code of CONTRACT §3.

The tree::

    EdeError (2)
    ├── ConfigError (1)             invalid spec, unknown reference, bad option
    │   └── SpecError (1)           one or more ``FILE:LINE:COL: message`` problems
    ├── EdeRuntimeError (2)         anything that failed while running
    ├── DependencyError (3)         an input is missing (file, table, bucket, secret)
    ├── PermissionDeniedError (4)   access refused
    ├── NetworkError (5)            a service could not be reached (after retries)
    ├── EdeTimeoutError (6)         an operation took too long
    ├── RetryableError (7)          transient; safe to rerun
    └── DataQualityError (8)        an error-severity check failed; nothing was published

The CLI prints ``Error: <message>`` on stderr and exits with ``exit_code``; ``--debug`` adds
the traceback. Library users catch :class:`EdeError` (or a subclass) and read ``exit_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class EdeError(Exception):
    """Root of every error raised by `ede`."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(EdeError):
    """The spec, a parameter or a command-line option is invalid (exit 1)."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class Position:
    """A place in a spec file; ``line`` and ``column`` count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, at one position."""

    position: Position | None
    message: str

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.position}: {self.message}"


class SpecError(ConfigError):
    """One or more problems in a spec file, each rendered as ``FILE:LINE:COL: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            problems, key=lambda p: (p.position or Position("", 0, 0), p.message)
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, message: str, position: Position | None = None) -> SpecError:
        """Build a `SpecError` holding one problem."""
        return cls([Problem(position, message)])


class EdeRuntimeError(EdeError):
    """The run failed for a reason that is not one of the more specific classes (exit 2)."""

    exit_code = 2


class DependencyError(EdeError):
    """Something the run needs does not exist: an input file, a table, a bucket (exit 3)."""

    exit_code = 3


class PermissionDeniedError(EdeError):
    """Access to an input, an output or a secret was refused (exit 4)."""

    exit_code = 4


class NetworkError(EdeError):
    """A remote service could not be reached, after retries (exit 5)."""

    exit_code = 5


class EdeTimeoutError(EdeError):
    """An operation did not finish in time (exit 6)."""

    exit_code = 6


class RetryableError(EdeError):
    """A transient failure: the run changed nothing and is safe to rerun (exit 7)."""

    exit_code = 7


class DataQualityError(EdeError):
    """An error-severity check failed; nothing was published (exit 8)."""

    exit_code = 8


class MissingExtraError(ConfigError):
    """An optional dependency is not installed; the message says what to ``pip install``."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"`{module}` is not installed; install it with "
            f'pip install "enterprise-data-engineering[{extra}]"'
        )


def display_path(path: str | Path) -> str:
    """Render a file path for messages: relative to the working directory when below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


__all__ = [
    "ConfigError",
    "DataQualityError",
    "DependencyError",
    "EdeError",
    "EdeRuntimeError",
    "EdeTimeoutError",
    "MissingExtraError",
    "NetworkError",
    "PermissionDeniedError",
    "Position",
    "Problem",
    "RetryableError",
    "SpecError",
    "display_path",
]
