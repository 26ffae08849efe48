"""What ``ede info`` shows: versions and what engines this machine can run."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil
import subprocess
import sys

from enterprise_data_engineering.__about__ import __version__


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def java_version() -> str | None:
    """The first line of ``java -version``, or ``None`` when Java is missing."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stderr or out.stdout).strip().splitlines()
    return lines[0] if lines else None


def environment_info() -> dict[str, str]:
    """Versions of ede, Python, the engines' libraries and Java; never imports them."""
    from enterprise_data_engineering.runtime.history import default_history_path

    duck = _dist_version("duckdb")
    spark = _dist_version("pyspark") if importlib.util.find_spec("pyspark") else None
    boto = _dist_version("boto3")
    java = java_version()
    return {
        "ede": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "engine duckdb": f"available (duckdb {duck})" if duck else "missing",
        "engine spark": (
            f"pyspark {spark} installed" + ("" if java else "; Java missing")
            if spark
            else 'not installed (pip install "enterprise-data-engineering[spark]")'
        ),
        "java": java or "not found",
        "aws": f"boto3 {boto}" if boto else 'not installed ("enterprise-data-engineering[aws]")',
        "sqlglot": _dist_version("sqlglot") or "?",
        "run history": str(default_history_path()),
    }
