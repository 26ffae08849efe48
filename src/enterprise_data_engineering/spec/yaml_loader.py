"""Load YAML into plain Python data while keeping the line and column of every node.

ruamel.yaml's round-trip loader records positions on mappings and sequences; we walk the
loaded tree once, convert it to plain ``dict``/``list``/scalars (what pydantic wants) and
remember, for every path from the root (a tuple of keys and indexes), where its key and its
value start. Lookups of a path that was not recorded (e.g. a pydantic error about a
missing field) fall back to the nearest recorded ancestor.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from enterprise_data_engineering.errors import ConfigError, Position, SpecError, display_path

Loc = tuple[Hashable, ...]

_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value')


@dataclass
class Positions:
    """Where each node of a YAML document starts (1-based line and column)."""

    file: str
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def of(self, loc: Iterable[Hashable], *, key: bool = False) -> Position:
        """The position of the node at ``loc`` (of its key if ``key``), else of its ancestor."""
        path = tuple(loc)
        while True:
            table = self.keys if key and path in self.keys else self.values
            if path in table:
                line, col = table[path]
                return Position(self.file, line, col)
            if not path:
                return Position(self.file, 1, 1)
            path = path[:-1]


def _to_plain(node: Any, loc: Loc, positions: Positions) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for k, v in node.items():
            child = (*loc, k)
            kline, kcol = node.lc.key(k)
            positions.keys[child] = (kline + 1, kcol + 1)
            vline, vcol = node.lc.value(k)
            positions.values[child] = (vline + 1, vcol + 1)
            out[k] = _to_plain(v, child, positions)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for i, v in enumerate(node):
            child = (*loc, i)
            line, col = node.lc.item(i)
            positions.values[child] = (line + 1, col + 1)
            positions.keys[child] = (line + 1, col + 1)
            items.append(_to_plain(v, child, positions))
        return items
    if isinstance(node, str):
        return str(node)  # drop ruamel's scalar subclasses
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def load_yaml_text(text: str, file: str) -> tuple[Any, Positions]:
    """Parse YAML text; return plain data and the positions of its nodes.

    Raises:
        SpecError: on a YAML syntax error or a duplicate key, with its position.
    """
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p).strip()
        if isinstance(exc, DuplicateKeyError):
            # ruamel's text repeats both values in full; the key and its place are enough
            m = _DUPLICATE.search(str(exc.problem))
            problem = f"duplicate key `{m.group(1)}`" if m else "duplicate key"
        raise SpecError.single(f"invalid YAML: {problem or exc}", pos) from exc
    positions = Positions(file)
    if isinstance(data, CommentedMap):
        positions.values[()] = (data.lc.line + 1, data.lc.col + 1)
    return _to_plain(data, (), positions), positions


def load_yaml_file(path: str | Path) -> tuple[Any, Positions]:
    """Read and parse a YAML file (see :func:`load_yaml_text`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"spec file `{display_path(p)}` does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read spec file `{display_path(p)}`: {exc}") from exc
    return load_yaml_text(text, str(path))
