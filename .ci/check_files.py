"""Small file checks for the offline pre-commit hooks (see .pre-commit-config.yaml).

Usage: python .ci/check_files.py yaml|toml|size FILE...   (exit 1 if any file fails)
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

MAX_BYTES = 500 * 1024


def check_yaml(path: Path) -> str | None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        with path.open(encoding="utf-8") as f:
            for _ in YAML(typ="safe").load_all(f):
                pass
    except YAMLError as exc:
        return " ".join(str(exc).split())
    return None


def check_toml(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        return str(exc)
    return None


def check_size(path: Path) -> str | None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        return f"{size} bytes is over the {MAX_BYTES // 1024} kB limit (generate it instead)"
    return None


CHECKS = {"yaml": check_yaml, "toml": check_toml, "size": check_size}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in CHECKS:
        print(__doc__, file=sys.stderr)
        return 2
    check = CHECKS[argv[0]]
    failed = 0
    for name in argv[1:]:
        problem = check(Path(name))
        if problem:
            print(f"{name}: {problem}")
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
