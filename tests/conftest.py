"""Fixtures shared by every test: an isolated ``EDE_HOME``, spec files, the CLI in a subprocess.

- ``EDE_HOME`` points at a fresh temporary folder for every test (autouse), so nothing a test
  runs ever records into the developer's own run history.
- ``write_spec(folder, text, name="pipeline.yaml")`` writes a dedented spec and returns its path.
- ``ede(*args, cwd=..., env=...)`` runs ``python -m enterprise_data_engineering ARGS`` in a
  subprocess (the real CLI: argument parsing, exit codes, stderr) and returns
  ``CliResult(code, stdout, stderr)``, which also unpacks as a tuple.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

import pytest


class CliResult(NamedTuple):
    """What one CLI invocation did."""

    code: int
    stdout: str
    stderr: str


class RunCli(Protocol):
    """The ``ede`` fixture's signature."""

    def __call__(
        self,
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        python_flags: tuple[str, ...] = (),
    ) -> CliResult: ...


WriteSpec = Callable[..., Path]


def write_spec_file(folder: Path, text: str, name: str = "pipeline.yaml") -> Path:
    """Write ``text`` (dedented) to ``folder/name`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def write_spec() -> WriteSpec:
    """``write_spec(folder, text, name="pipeline.yaml") -> Path``."""
    return write_spec_file


@pytest.fixture(autouse=True)
def ede_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``EDE_HOME`` (run history) for every test, separate from ``tmp_path``."""
    home = tmp_path_factory.mktemp("ede_home")
    monkeypatch.setenv("EDE_HOME", str(home))
    return home


@pytest.fixture
def ede(tmp_path: Path, ede_home: Path) -> RunCli:
    """Run the CLI in a subprocess; default working directory ``tmp_path``.

    ``env`` entries are added to the environment (a value of ``None`` removes the variable).
    """

    def run(
        *args: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        python_flags: tuple[str, ...] = (),
    ) -> CliResult:
        full_env = dict(os.environ)
        full_env.update({"EDE_HOME": str(ede_home), "COLUMNS": "250", "NO_COLOR": "1"})
        full_env.pop("EDE_DEBUG", None)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        proc = subprocess.run(
            [sys.executable, *python_flags, "-m", "enterprise_data_engineering", *map(str, args)],
            cwd=cwd if cwd is not None else tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run
