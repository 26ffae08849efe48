"""Registries: built-ins answer without reading plugins; plugins load on first other name."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from enterprise_data_engineering.common_utils import registry as registry_module
from enterprise_data_engineering.common_utils.registry import Registry, entry_points
from enterprise_data_engineering.errors import ConfigError


def _registry(
    monkeypatch: pytest.MonkeyPatch, plugins: list[EntryPoint]
) -> tuple[Registry[object], list[str]]:
    reads: list[str] = []

    def fake_entry_points(group: str) -> list[EntryPoint]:
        reads.append(group)
        return plugins

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    reg: Registry[object] = Registry("ede.test", "thing", lambda: reg.register("builtin", "B"))
    return reg, reads


def test_a_builtin_name_does_not_read_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    reg, reads = _registry(monkeypatch, [EntryPoint("json_dumps", "json:dumps", "ede.test")])
    assert reg.get("builtin") == "B"
    assert reads == []
    import json

    assert reg.get("json_dumps") is json.dumps  # another name: plugins are read, once
    assert reg.get("missing") is None
    assert reads == ["ede.test"]
    assert reg.names() == ["builtin", "json_dumps"]


def test_a_plugin_never_replaces_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    reg, _ = _registry(monkeypatch, [EntryPoint("builtin", "json:dumps", "ede.test")])
    assert reg.names() == ["builtin"]
    assert reg.get("builtin") == "B"


def test_a_broken_plugin_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    reg, _ = _registry(monkeypatch, [EntryPoint("bad", "no_such_module_xyz:thing", "ede.test")])
    assert reg.get("builtin") == "B"  # a pipeline that does not need it still runs
    with pytest.raises(ConfigError, match=r"cannot load thing `bad`.*no_such_module_xyz"):
        reg.get("bad")
    with pytest.raises(ConfigError, match="cannot load thing `bad`"):
        reg.names()


def test_installed_entry_points_are_read_once() -> None:
    transforms = entry_points("ede.transforms")
    assert "normalize_whitespace" in {ep.name for ep in transforms}
    assert entry_points("ede.transforms") is transforms
    assert entry_points("ede.no_such_group") == ()
