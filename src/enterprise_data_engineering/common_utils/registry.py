"""Name → implementation registries extended by Python entry points.

Built-ins register in code; third-party packages declare entry points in a group such as
``ede.transforms`` and are loaded the first time a registry is asked for a name that is
not a built-in, or for all its names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from enterprise_data_engineering.errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

T = TypeVar("T")


@functools.cache
def _all_entry_points() -> dict[str, tuple[EntryPoint, ...]]:
    """Every installed entry point by group, read once per process.

    Reading them means opening the metadata of every installed distribution (≈20 ms with
    the Spark and AWS extras); the CLI and each registry share this one read.
    """
    from importlib.metadata import entry_points

    found: Any = entry_points()
    # Python 3.11 answers a dict of group → entry points (whose own `.values()` warns that the
    # dict interface is deprecated: read it through `dict`'s); 3.12+ a flat collection.
    flat = [ep for eps in dict.values(found) for ep in eps] if isinstance(found, dict) else found
    groups: dict[str, list[EntryPoint]] = {}
    for ep in flat:
        groups.setdefault(ep.group, []).append(ep)
    return {group: tuple(eps) for group, eps in groups.items()}


def entry_points(group: str) -> tuple[EntryPoint, ...]:
    """The installed entry points of ``group`` (see `_all_entry_points`)."""
    return _all_entry_points().get(group, ())


class Registry(Generic[T]):
    """A registry of ``T`` by name, filled by built-ins and by one entry-point group."""

    def __init__(self, group: str, kind: str, loader: Callable[[], None] | None = None) -> None:
        self.group = group
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loader = loader
        self._loaded = False
        self._builtins_loaded = False

    def register(self, name: str, item: T) -> T:
        """Register ``item`` under ``name`` (a later registration replaces an earlier one)."""
        self._items[name] = item
        return item

    def _load_builtins(self) -> None:
        if self._loader is not None and not self._builtins_loaded:
            self._loader()
            self._builtins_loaded = True

    def _load(self) -> None:
        if self._loaded:
            return
        if self._loader is not None:
            self._loader()
            self._builtins_loaded = True
        for ep in entry_points(group=self.group):
            try:
                item = ep.load()
            except Exception as exc:  # a broken plugin must say which one it is
                raise ConfigError(
                    f"cannot load {self.kind} `{ep.name}` from entry point `{ep.value}`: {exc}"
                ) from exc
            self._items.setdefault(ep.name, item)
        # Only now: a broken plugin fails every later lookup, never silently disappears.
        self._loaded = True

    def get(self, name: str) -> T | None:
        """The item registered as ``name``, or ``None``.

        A built-in name is answered without reading the plugins (built-ins win over a
        plugin of the same name anyway); any other name loads every plugin of the group.
        """
        self._load_builtins()
        item = self._items.get(name)
        if item is not None:
            return item
        self._load()
        return self._items.get(name)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
