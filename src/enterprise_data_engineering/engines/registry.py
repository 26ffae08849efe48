"""The engine registry: built-ins plus the ``ede.engines`` entry-point group.

Engines are registered by import path so that looking one up never imports its driver;
the driver is imported when the engine is created.
"""

from __future__ import annotations

import importlib

from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.common_utils.registry import Registry
from enterprise_data_engineering.engines.base import Engine, EngineSettings
from enterprise_data_engineering.errors import ConfigError


def _load_builtins() -> None:
    ENGINES.register("duckdb", "enterprise_data_engineering.engines.duckdb:DuckDBEngine")
    ENGINES.register("spark", "enterprise_data_engineering.engines.spark:SparkEngine")


#: ``"module:Class"`` of each engine, by name (an entry point may also give the class)
ENGINES: Registry[object] = Registry("ede.engines", "engine", _load_builtins)


def engine_class(name: str) -> type[Engine]:
    """The engine class registered as ``name``.

    Raises:
        ConfigError: no engine of that name (with a did-you-mean).
    """
    target = ENGINES.get(name)
    if target is None:
        raise ConfigError(
            f"unknown engine `{name}`{did_you_mean(name, ENGINES.names())}; "
            f"available: {', '.join(ENGINES.names())}"
        )
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
    assert isinstance(target, type) and issubclass(target, Engine)
    return target


def create_engine(name: str, settings: EngineSettings | None = None) -> Engine:
    """Create the engine registered as ``name`` with ``settings``."""
    return engine_class(name)(settings)  # type: ignore[call-arg]
