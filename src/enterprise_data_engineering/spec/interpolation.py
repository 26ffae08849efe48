"""``${...}`` interpolation in spec string values.

Three forms (CONTRACT §4):

- ``${params.NAME}``: a pipeline parameter (``params:`` overridden by ``--param``);
- ``${env:NAME}``: an environment variable;
- ``${secret:NAME}`` / ``${secret:NAME#field}``: a secret, resolved by a
  :class:`SecretResolver` (AWS Secrets Manager with the ``[aws]`` extra).

A string that is exactly one ``${params.NAME}`` takes the parameter's value with its type
(``min: ${params.min_amount}`` stays a number); anywhere else the value is inserted as text.
``$${`` escapes a literal ``${``. Every resolved secret value is recorded in a
:class:`Redactor` so that reports, logs and error messages can hide it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from enterprise_data_engineering.errors import ConfigError, DependencyError, Problem
from enterprise_data_engineering.spec.yaml_loader import Loc, Positions

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_PARAM = re.compile(r"params\.([A-Za-z_][A-Za-z0-9_]*)")
_ENV = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")
_SECRET = re.compile(r"secret:([^#\s]+)(?:#([^\s]+))?")

REDACTED = "***"


class SecretResolver(Protocol):
    """Looks up a secret by name; returns its value, or its JSON field ``field`` if given."""

    def resolve(self, name: str, field: str | None) -> str:
        """Return the secret's value; raise an `EdeError` naming the secret on failure."""
        ...


class NoSecretResolver:
    """The resolver used when no secret backend is configured: every lookup is an error."""

    def resolve(self, name: str, field: str | None) -> str:
        """Always fail, naming the secret (never a value)."""
        raise ConfigError(
            f"cannot resolve secret `{name}`: no secret backend is configured "
            '(install "enterprise-data-engineering[aws]" for AWS Secrets Manager)'
        )


@dataclass
class Redactor:
    """Remembers secret values and hides them in any text or JSON-like value."""

    secrets: set[str] = field(default_factory=set)

    def add(self, value: str) -> None:
        """Remember a secret value (values shorter than 4 characters are still hidden)."""
        if value:
            self.secrets.add(value)

    def text(self, text: str) -> str:
        """Return ``text`` with every known secret value replaced by ``***``."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any, keep: frozenset[str] = frozenset()) -> Any:
        """Redact recursively inside dicts, lists and strings.

        ``keep``: keys (at any depth) whose values are left as they are: fields the program
        itself fills in (a status, a run id, an identifier validated in the spec), which a
        short secret value could otherwise garble (``succ***ded``).
        """
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: v if k in keep else self.value(v, keep) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v, keep) for v in value]
        return value


@dataclass
class Interpolator:
    """Resolves references inside the plain data of a loaded spec."""

    params: Mapping[str, Any]
    positions: Positions
    secrets: SecretResolver | None = None
    redactor: Redactor = field(default_factory=Redactor)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    problems: list[Problem] = field(default_factory=list)
    #: locations of the strings whose references could not be resolved
    failed: set[Loc] = field(default_factory=set)
    _cache: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def walk(self, data: Any, loc: Loc = (), skip: Callable[[Loc], bool] | None = None) -> Any:
        """Return ``data`` with every reference resolved; problems are collected, not raised."""
        if skip is not None and skip(loc):
            return data
        if isinstance(data, dict):
            return {k: self.walk(v, (*loc, k), skip) for k, v in data.items()}
        if isinstance(data, list):
            return [self.walk(v, (*loc, i), skip) for i, v in enumerate(data)]
        if isinstance(data, str):
            return self.string(data, loc)
        return data

    def string(self, text: str, loc: Loc) -> Any:
        """Resolve the references in one string value found at ``loc``."""
        if "${" not in text:
            return text
        whole = _REF.fullmatch(text)
        if whole and whole.group(1) is not None:
            m = _PARAM.fullmatch(whole.group(1).strip())
            if m:
                return self._param(m.group(1), loc, text)

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            value = self._reference(match.group(1).strip(), loc)
            return "" if value is None else str(value)

        return _REF.sub(replace, text)

    def _reference(self, ref: str, loc: Loc) -> Any:
        if m := _PARAM.fullmatch(ref):
            return self._param(m.group(1), loc, f"${{{ref}}}")
        if m := _ENV.fullmatch(ref):
            name = m.group(1)
            if name not in self.environ:
                self._problem(loc, f"environment variable `{name}` is not set")
                return ""
            return self.environ[name]
        if m := _SECRET.fullmatch(ref):
            return self._secret(m.group(1), m.group(2))
        self._problem(
            loc,
            f"unknown reference `${{{ref}}}`: use ${{params.NAME}}, ${{env:NAME}}, "
            "${secret:NAME} or ${secret:NAME#field}",
        )
        return ""

    def _param(self, name: str, loc: Loc, text: str) -> Any:
        if name not in self.params:
            from enterprise_data_engineering.common_utils.naming import did_you_mean

            hint = did_you_mean(name, self.params)
            self._problem(loc, f"unknown parameter `{name}` in `{text}`{hint}")
            return ""
        return self.params[name]

    def _secret(self, name: str, field_name: str | None) -> str:
        key = (name, field_name)
        if key not in self._cache:
            if self.secrets is None:
                # Validation does not read secrets: a stand-in keeps the rest checkable.
                return f"<secret:{name}>"
            value = self.secrets.resolve(name, field_name)
            self.redactor.add(value)
            self._cache[key] = value
        return self._cache[key]

    def _problem(self, loc: Loc, message: str) -> None:
        self.failed.add(loc)
        self.problems.append(Problem(self.positions.of(loc), message))


def iter_references(text: str) -> Iterator[str]:
    """Yield the inside of each ``${...}`` reference in ``text``."""
    for m in _REF.finditer(text):
        if m.group(1) is not None:
            yield m.group(1).strip()


def missing_secret(name: str) -> DependencyError:
    """The error for a secret that does not exist (exit 3), naming it without any value."""
    return DependencyError(f"secret `{name}` does not exist")


_ = Hashable
