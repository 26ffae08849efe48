"""The transform registry: built-ins plus the ``ede.transforms`` entry-point group."""

from __future__ import annotations

from enterprise_data_engineering.common_utils.registry import Registry
from enterprise_data_engineering.transforms.base import Transform


def _load_builtins() -> None:
    from enterprise_data_engineering.transforms import builtins

    for cls in builtins.BUILTIN_TRANSFORMS:
        TRANSFORMS.register(cls.name, cls)


#: transform classes by name
TRANSFORMS: Registry[type[Transform]] = Registry("ede.transforms", "transform", _load_builtins)


def get_transform(name: str) -> Transform | None:
    """An instance of the transform registered as ``name``, or ``None``."""
    cls = TRANSFORMS.get(name)
    return cls() if cls is not None else None
