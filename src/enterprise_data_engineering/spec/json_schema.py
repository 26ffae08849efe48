"""The JSON Schema of the spec (``ede schema``), for editors that autocomplete YAML.

Transform entries list every registered transform (built-ins and plugins) with the JSON
schema of its arguments, so an editor can complete ``- cast: {...}`` as well as names.
"""

from __future__ import annotations

from typing import Any

from enterprise_data_engineering.spec.models import PipelineSpec


def spec_json_schema(
    transforms: dict[str, Any] | None = None, checks: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The spec's JSON Schema; ``transforms``/``checks`` map names to argument schemas."""
    schema = PipelineSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ede pipeline spec"
    defs = schema.get("$defs", {})
    if transforms:
        items: list[dict[str, Any]] = []
        for name, args in sorted(transforms.items()):
            if args is None:
                items.append({"const": name})
            else:
                items.append(
                    {
                        "type": "object",
                        "properties": {name: args},
                        "required": [name],
                        "additionalProperties": False,
                    }
                )
                if args.get("type") == "object" and not args.get("required"):
                    items.append({"const": name})
        step = defs.get("StepSpec", {})
        step.setdefault("properties", {})["transforms"] = {
            "type": "array",
            "description": "Transforms applied in order",
            "items": {"anyOf": items},
        }
    if checks:
        chk = defs.get("CheckSpec", {})
        chk.setdefault("properties", {})["check"] = {"enum": sorted(checks), "type": "string"}
    return schema
