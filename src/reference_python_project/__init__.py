"""The reference implementation on top of the ``ede`` toolkit.

``reference_python_project`` shows how a team builds on :mod:`enterprise_data_engineering`
without changing it: example pipelines (``examples/`` in the source tree, located by
:mod:`reference_python_project.pipelines`) and a worked example of every extension point,
each registered through a Python entry point in this distribution's ``pyproject.toml``:

- ``ede.transforms``: :class:`~reference_python_project.extensions.NormalizeWhitespace`
  (``normalize_whitespace``), a transform built as SQLGlot expressions;
- ``ede.checks``: :class:`~reference_python_project.extensions.NonNegative`
  (``non_negative``), a row-level check that can quarantine rows;
- ``ede.cli``: :data:`reference_python_project.cli.app`, the ``ede reference`` command
  group (``ede reference hello-pipeline NAME`` prints a minimal spec).

Importing this package imports neither DuckDB nor any other engine.
"""

from __future__ import annotations

__all__: list[str] = []
