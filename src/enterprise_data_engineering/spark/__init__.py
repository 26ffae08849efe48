"""The Spark toolkit: sessions, and DataFrame functions that share the transforms' logic.

Needs the ``[spark]`` extra (``pip install "enterprise-data-engineering[spark]"``) and
Java 17 or later. Importing this package does not import pyspark; the functions do.

>>> from enterprise_data_engineering.spark import (  # doctest: +SKIP
...     SparkConfig, create_spark_session, clean_column_names, add_audit_columns)
>>> spark = create_spark_session(SparkConfig(app_name="orders"))  # doctest: +SKIP
>>> raw = spark.read.parquet("raw/")  # doctest: +SKIP
>>> df = add_audit_columns(clean_column_names(raw), "orders")  # doctest: +SKIP

Run a whole pipeline as a Spark application with :mod:`enterprise_data_engineering.spark.submit`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from enterprise_data_engineering.spark.dataframe import (
        add_audit_columns,
        apply_schema_enforcement,
        apply_transform,
        clean_column_names,
        remove_empty_columns,
        standardize_date_columns,
    )
    from enterprise_data_engineering.spark.session import (
        SparkConfig,
        create_spark_session,
        get_default_session,
    )

_EXPORTS = {
    "SparkConfig": "session",
    "create_spark_session": "session",
    "get_default_session": "session",
    "add_audit_columns": "dataframe",
    "apply_schema_enforcement": "dataframe",
    "apply_transform": "dataframe",
    "clean_column_names": "dataframe",
    "remove_empty_columns": "dataframe",
    "standardize_date_columns": "dataframe",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "SparkConfig",
    "add_audit_columns",
    "apply_schema_enforcement",
    "apply_transform",
    "clean_column_names",
    "create_spark_session",
    "get_default_session",
    "remove_empty_columns",
    "standardize_date_columns",
]
