"""Where the example pipelines of the reference project live.

The examples are part of the source tree (``examples/<name>/pipeline.yaml`` beside
``src/``), not of the installed wheel: these helpers find them in a checkout or an
editable install.

>>> sorted(list_examples())  # doctest: +SKIP
['orders_daily', 'quickstart']
"""

from __future__ import annotations

from pathlib import Path

from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.errors import ConfigError, DependencyError

#: the ``examples/`` folder of the source tree (may not exist in a wheel install)
EXAMPLES_DIR: Path = Path(__file__).resolve().parents[2] / "examples"

#: the file name of every example's spec
SPEC_FILE = "pipeline.yaml"


def list_examples() -> list[str]:
    """Names of the example pipelines (folders of :data:`EXAMPLES_DIR` with a spec), sorted."""
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(p.parent.name for p in EXAMPLES_DIR.glob(f"*/{SPEC_FILE}"))


def example_spec(name: str) -> Path:
    """The spec file of the example pipeline ``name``.

    Args:
        name: an example's folder name, such as ``orders_daily``.

    Raises:
        DependencyError: the examples are not available (a wheel install, not a checkout).
        ConfigError: there is no example called ``name``.
    """
    if not EXAMPLES_DIR.is_dir():
        raise DependencyError(
            f"the example pipelines are not installed (no folder `{EXAMPLES_DIR}`); they "
            "ship with the source tree: clone the repository and `pip install -e .`"
        )
    spec = EXAMPLES_DIR / name / SPEC_FILE
    if not spec.is_file():
        known = list_examples()
        raise ConfigError(
            f"unknown example `{name}`{did_you_mean(name, known)}; "
            f"examples are: {', '.join(known) or 'none'}"
        )
    return spec


__all__ = ["EXAMPLES_DIR", "SPEC_FILE", "example_spec", "list_examples"]
