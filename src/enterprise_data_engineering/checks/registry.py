"""The check registry: built-ins plus the ``ede.checks`` entry-point group."""

from __future__ import annotations

from enterprise_data_engineering.checks.base import Check
from enterprise_data_engineering.common_utils.registry import Registry


def _load_builtins() -> None:
    from enterprise_data_engineering.checks import builtins

    for cls in builtins.BUILTIN_CHECKS:
        CHECKS.register(cls.name, cls)


#: check classes by name
CHECKS: Registry[type[Check]] = Registry("ede.checks", "check", _load_builtins)


def get_check(name: str) -> Check | None:
    """An instance of the check registered as ``name``, or ``None``."""
    cls = CHECKS.get(name)
    return cls() if cls is not None else None
