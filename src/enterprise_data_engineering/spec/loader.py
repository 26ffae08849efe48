"""Load a spec file: YAML with positions → interpolation → pydantic models.

Problems are collected, not raised one at a time: each source, step, check and sink is
validated on its own, so one broken entry does not hide the errors of the others. The
planner (``planning``) adds its own problems and raises them all together.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from enterprise_data_engineering.common_utils.naming import did_you_mean
from enterprise_data_engineering.errors import ConfigError, Problem, SpecError
from enterprise_data_engineering.spec.interpolation import Interpolator, Redactor, SecretResolver
from enterprise_data_engineering.spec.models import (
    CheckSpec,
    PipelineSpec,
    SinkSpec,
    SourceSpec,
    StepSpec,
)
from enterprise_data_engineering.spec.yaml_loader import Loc, Positions, load_yaml_file

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

#: the folder URL relative paths resolve against, for a spec fetched from remote storage
_BASE_URL: ContextVar[str | None] = ContextVar("ede_spec_base_url", default=None)


@contextmanager
def spec_base_url(url: str | None) -> Iterator[None]:
    """Resolve relative paths of specs loaded in this block against ``url``, not their folder.

    For a spec fetched from remote storage (the AWS Lambda handler downloads
    ``s3://bucket/pipelines/orders.yaml`` and runs the copy): ``data/orders.csv`` then means
    ``s3://bucket/pipelines/data/orders.csv``.

    >>> with spec_base_url("s3://bucket/pipelines/"):  # doctest: +SKIP
    ...     run_pipeline("/tmp/ede-spec/orders.yaml")
    """
    token = _BASE_URL.set(url)
    try:
        yield
    finally:
        _BASE_URL.reset(token)


@dataclass
class LoadedSpec:
    """A spec file loaded and interpolated, with everything needed to point at its lines."""

    spec: PipelineSpec
    file: Path
    positions: Positions
    redactor: Redactor = field(default_factory=Redactor)
    problems: list[Problem] = field(default_factory=list)
    #: names of sources/steps that exist but failed validation (not reported as unknown)
    broken_names: set[str] = field(default_factory=set)
    #: index in the YAML ``steps:`` / ``checks:`` list of each kept step / check
    step_index: list[int] = field(default_factory=list)
    check_index: list[int] = field(default_factory=list)
    #: locations of string values whose ``${...}`` references could not be resolved
    unresolved: set[Loc] = field(default_factory=set)
    #: the problems of those references (kept when other problems at their place are not)
    reference_problems: list[Problem] = field(default_factory=list)
    #: for a spec fetched from remote storage: the folder URL relative paths resolve against
    base_url: str | None = None

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against: the spec file's folder."""
        return self.file.parent

    def pos(self, *loc: Any, key: bool = False) -> Any:
        """Position of a node of the YAML document (see :meth:`Positions.of`)."""
        return self.positions.of(loc, key=key)

    def problem(self, loc: Loc, message: str, *, key: bool = False) -> None:
        """Record a problem at the YAML node ``loc``."""
        self.problems.append(Problem(self.positions.of(loc, key=key), message))

    def is_unresolved(self, loc: Loc) -> bool:
        """True if a reference at or below ``loc`` could not be resolved.

        Such a value holds an empty stand-in; validating it further would only report
        follow-on problems of the one already recorded.
        """
        n = len(loc)
        return any(bad[:n] == loc for bad in self.unresolved)

    def raise_if_problems(self) -> None:
        """Raise one `SpecError` holding every recorded problem, if any.

        A value whose reference could not be resolved reports that problem only, not also
        the problems its empty stand-in causes (an invalid value, a SQL syntax error).
        """
        if not self.problems:
            return
        blamed = {self.positions.of(loc) for loc in self.unresolved}
        kept = [
            p for p in self.problems if p.position not in blamed or p in self.reference_problems
        ]
        raise SpecError(kept)

    def resolve_path(self, path: str) -> str:
        """A URL stays as is; a relative local path is made absolute from the spec's folder.

        With a `base_url` (a spec fetched from ``s3://...``), a relative path is joined to it:
        ``data/x.csv`` → ``s3://bucket/pipelines/data/x.csv`` (``..`` is resolved).
        """
        if _URL.match(path):
            return path
        if self.base_url and not Path(path).is_absolute() and not path.startswith("~"):
            base = self.base_url.rstrip("/")
            head, sep, rest = base.partition("://")
            bucket, _, prefix = rest.partition("/")
            joined = posixpath.normpath(posixpath.join("/", prefix, path)).lstrip("/")
            return f"{head}{sep}{bucket}/{joined}"
        p = Path(path).expanduser()
        return str(p if p.is_absolute() else (self.base_dir / p).resolve())


def parse_param_overrides(pairs: list[str]) -> dict[str, Any]:
    """Parse ``--param k=v`` options; values are read as YAML scalars (``5`` is a number).

    >>> parse_param_overrides(["min_amount=5", "region=eu"])
    {'min_amount': 5, 'region': 'eu'}
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"invalid --param `{pair}`: expected NAME=VALUE")
        try:
            value = YAML(typ="safe").load(raw) if raw.strip() else ""
        except YAMLError:
            value = raw
        out[key] = value if isinstance(value, str | int | float | bool) or value is None else raw
    return out


def format_validation_error(err: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Turn one pydantic error into a data engineer's sentence."""
    loc = err.get("loc", ())
    field_name = str(loc[-1]) if loc else ""
    kind = err.get("type", "")
    if kind == "missing":
        return f"missing required field `{field_name}`"
    if kind == "extra_forbidden":
        hint = ""
        if model is not None and len(loc) == 1:
            names = [f.alias or n for n, f in model.model_fields.items()]
            hint = did_you_mean(field_name, names)
        return f"unknown field `{field_name}`{hint}"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    value = err.get("input")
    if kind == "string_pattern_mismatch" and isinstance(value, str):
        return f"invalid name `{value}`: must match [a-z][a-z0-9_]*"
    if value is not None and not isinstance(value, dict | list) and kind != "value_error":
        where = f" for `{field_name}`" if field_name else ""
        return f"invalid value `{value}`{where}: {msg}"
    return msg


def _validate(loaded: LoadedSpec, model: type[BaseModel], data: Any, loc: Loc) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            err_loc = tuple(err["loc"])
            key = err["type"] == "extra_forbidden"
            loaded.problem((*loc, *err_loc), format_validation_error(err, model), key=key)
        return None


#: a valid spec ``name`` as written (the ``Identifier`` type of the models)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SpecDocument:
    """A spec file read as YAML, before any ``${...}`` reference is resolved.

    What a run can still report about its pipeline (the name, the parameters) when resolving
    the spec fails, e.g. on a secret that cannot be read. Pass it to `load_spec` to go on
    without reading the file twice.

    >>> doc = read_spec("examples/orders_daily/pipeline.yaml")  # doctest: +SKIP
    >>> doc.name, doc.params({"min_amount": 5})  # doctest: +SKIP
    ('orders_daily', {'min_amount': 5})
    """

    file: Path
    data: dict[str, Any]
    positions: Positions

    @property
    def name(self) -> str | None:
        """The spec's ``name`` if it is a valid pipeline name as written, else ``None``."""
        name = self.data.get("name")
        return name if isinstance(name, str) and _NAME.match(name) else None

    @property
    def engine(self) -> str | None:
        """The spec's ``engine`` if it is written as a plain engine name, else ``None``."""
        engine = self.data.get("engine")
        return engine if isinstance(engine, str) and _NAME.match(engine) else None

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The spec's ``params`` as written (references unresolved) with ``overrides`` applied.

        Never holds a secret value: a ``${secret:...}`` reference stays as its text.
        """
        raw = self.data.get("params")
        return {**(raw if isinstance(raw, dict) else {}), **dict(overrides or {})}


def read_spec(path: str | Path) -> SpecDocument:
    """Read the YAML of the spec file ``path`` (no interpolation, no validation).

    Raises:
        ConfigError: the file cannot be read.
        SpecError: it is not YAML, or not a mapping at the top.
    """
    file = Path(path)
    data, positions = load_yaml_file(file)
    if not isinstance(data, dict):
        raise SpecError.single(
            "a spec must be a YAML mapping with `name`, `steps`, ...", positions.of(())
        )
    return SpecDocument(file, data, positions)


def load_spec(
    path: str | Path | SpecDocument,
    params: Mapping[str, Any] | None = None,
    secrets: SecretResolver | None = None,
    base_url: str | None = None,
) -> LoadedSpec:
    """Load ``path`` into a :class:`LoadedSpec`; problems are collected in ``.problems``.

    Args:
        path: the YAML spec file, or the `SpecDocument` `read_spec` read from it.
        params: ``--param`` overrides of the spec's ``params``.
        secrets: resolves ``${secret:...}``; ``None`` (validation) leaves a stand-in.
        base_url: resolve relative paths against this folder URL instead of the file's
            folder (default: the one set by `spec_base_url`, if any).

    Raises:
        ConfigError: the file cannot be read, or is not YAML mapping at the top.
    """
    doc = path if isinstance(path, SpecDocument) else read_spec(path)
    file, data, positions = doc.file, doc.data, doc.positions
    interp = Interpolator(params={}, positions=positions, secrets=secrets)

    raw_params = data.get("params") or {}
    if not isinstance(raw_params, dict):
        raw_params = {}
    merged = {**interp.walk(raw_params, ("params",)), **dict(params or {})}
    interp.params = merged
    resolved = interp.walk(data, (), skip=lambda loc: loc == ("params",))
    resolved["params"] = merged

    loaded = LoadedSpec(
        spec=PipelineSpec.model_construct(name=str(data.get("name", "pipeline"))),
        file=file.resolve(),
        positions=positions,
        redactor=interp.redactor,
        base_url=base_url if base_url is not None else _BASE_URL.get(),
    )
    loaded.problems.extend(interp.problems)
    loaded.unresolved |= interp.failed
    loaded.reference_problems.extend(interp.problems)

    sections: dict[str, Any] = {}
    piecewise = {"sources": dict, "sinks": dict, "steps": list, "checks": list}
    top = {k: v for k, v in resolved.items() if k not in piecewise}
    for key, kind in piecewise.items():
        value = resolved.get(key)
        if value is None:
            sections[key] = kind()
        elif not isinstance(value, kind):
            loaded.problem((key,), f"`{key}` must be a {'mapping' if kind is dict else 'list'}")
            sections[key] = kind()
        else:
            sections[key] = value

    head = _validate(loaded, PipelineSpec, top, ())
    sources: dict[str, SourceSpec] = {}
    for name, raw in sections["sources"].items():
        if (src := _validate(loaded, SourceSpec, raw, ("sources", name))) is not None:
            sources[name] = src  # type: ignore[assignment]
        else:
            loaded.broken_names.add(str(name))
    sinks: dict[str, SinkSpec] = {}
    for name, raw in sections["sinks"].items():
        if (snk := _validate(loaded, SinkSpec, raw, ("sinks", name))) is not None:
            sinks[name] = snk  # type: ignore[assignment]
    steps: list[StepSpec] = []
    for i, raw in enumerate(sections["steps"]):
        step = _validate(loaded, StepSpec, raw, ("steps", i))
        if step is not None:
            steps.append(step)  # type: ignore[arg-type]
            loaded.step_index.append(i)
        elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
            loaded.broken_names.add(raw["name"])
    checks: list[CheckSpec] = []
    for i, raw in enumerate(sections["checks"]):
        chk = _validate(loaded, CheckSpec, raw, ("checks", i))
        if chk is not None:
            checks.append(chk)  # type: ignore[arg-type]
            loaded.check_index.append(i)

    if isinstance(head, PipelineSpec):
        loaded.spec = head
    else:  # keep going with defaults so the rest of the spec is still checked
        name = data.get("name")
        loaded.spec = PipelineSpec.model_construct(name=name if isinstance(name, str) else "")
    loaded.spec.sources = sources
    loaded.spec.sinks = sinks
    loaded.spec.steps = steps
    loaded.spec.checks = checks
    return loaded
