"""The spec's JSON Schema including every registered transform and check."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from enterprise_data_engineering.checks.registry import CHECKS
from enterprise_data_engineering.spec.json_schema import spec_json_schema
from enterprise_data_engineering.transforms.registry import TRANSFORMS


def full_spec_schema() -> dict[str, Any]:
    """JSON Schema of the spec with each transform's argument schema and all check names."""
    transforms: dict[str, Any] = {}
    for name in TRANSFORMS.names():
        cls = TRANSFORMS.get(name)
        args_type = getattr(cls, "args_type", None)
        transforms[name] = None if args_type is None else TypeAdapter(args_type).json_schema()
    checks: dict[str, Any] = {}
    for name in CHECKS.names():
        check_cls = CHECKS.get(name)
        model = getattr(check_cls, "args_model", None)
        checks[name] = model.model_json_schema() if model is not None else {}
    return spec_json_schema(transforms, checks)
