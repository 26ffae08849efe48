"""The pipeline spec: pydantic models, a YAML loader that keeps positions, interpolation."""

from __future__ import annotations

from enterprise_data_engineering.spec.interpolation import (
    NoSecretResolver,
    Redactor,
    SecretResolver,
)
from enterprise_data_engineering.spec.loader import LoadedSpec, load_spec, parse_param_overrides
from enterprise_data_engineering.spec.models import (
    CheckSpec,
    DuckDBSettings,
    PipelineSpec,
    QuarantineSpec,
    SinkSpec,
    SourceSpec,
    SparkSettings,
    StepSpec,
)
from enterprise_data_engineering.spec.yaml_loader import Positions

__all__ = [
    "CheckSpec",
    "DuckDBSettings",
    "LoadedSpec",
    "NoSecretResolver",
    "PipelineSpec",
    "Positions",
    "QuarantineSpec",
    "Redactor",
    "SecretResolver",
    "SinkSpec",
    "SourceSpec",
    "SparkSettings",
    "StepSpec",
    "load_spec",
    "parse_param_overrides",
]
