"""Small helpers about names: identifiers, snake_case, did-you-mean suggestions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def is_identifier(name: object) -> bool:
    """True if ``name`` matches ``[a-z][a-z0-9_]*`` (pipeline, source, step names)."""
    return isinstance(name, str) and IDENTIFIER.fullmatch(name) is not None


def snake_case(name: str) -> str:
    """Lowercase; each run of characters outside ``[a-z0-9]`` becomes one ``_``; trim ``_``.

    >>> snake_case("  Order ID# (USD) ")
    'order_id_usd'
    """
    return _NON_ALNUM.sub("_", name.lower()).strip("_")


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean `x`?)"`` for the closest candidate, or ``""``.

    >>> did_you_mean("ordrs", ["orders", "customers"])
    ' (did you mean `orders`?)'
    """
    matches = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean `{matches[0]}`?)" if matches else ""
