"""From a loaded spec to a validated plan: the DAG, bound transforms and checks, sinks.

Every problem found is recorded with its YAML position and all are raised together as one
`SpecError` (one ``FILE:LINE:COL: message`` line each), so a user fixes a spec in one pass.
Nothing here reads data or touches the disk beyond the spec file itself.
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlglot import exp

from enterprise_data_engineering.checks.base import BoundCheck, Check
from enterprise_data_engineering.checks.registry import CHECKS, get_check
from enterprise_data_engineering.common_utils.naming import did_you_mean, is_identifier
from enterprise_data_engineering.engines.base import SINK_OPTIONS, ReadRequest
from enterprise_data_engineering.engines.registry import ENGINES, engine_class
from enterprise_data_engineering.errors import ConfigError, Position, Problem
from enterprise_data_engineering.spec.loader import LoadedSpec, format_validation_error
from enterprise_data_engineering.spec.models import SinkSpec, SourceSpec, StepSpec
from enterprise_data_engineering.spec.yaml_loader import Loc
from enterprise_data_engineering.storage.paths import folder_key
from enterprise_data_engineering.transforms.base import Transform
from enterprise_data_engineering.transforms.registry import TRANSFORMS, get_transform
from enterprise_data_engineering.transforms.sql import (
    SqlSyntaxError,
    parse_expression,
    parse_query,
    parse_type,
)


@dataclass(frozen=True)
class TransformCall:
    """One transform of a step, bound to its implementation and parsed arguments."""

    name: str
    transform: Transform
    args: Any
    loc: Loc


@dataclass(frozen=True)
class SourceNode:
    """A source table and how to read it."""

    name: str
    spec: SourceSpec
    request: ReadRequest


@dataclass(frozen=True)
class StepNode:
    """A step: the tables it reads, its parsed SQL (if any) and its transforms."""

    name: str
    spec: StepSpec
    inputs: tuple[str, ...]
    query: exp.Query | None
    transforms: tuple[TransformCall, ...]
    loc: Loc


@dataclass(frozen=True)
class SinkNode:
    """A table published to a folder (``path`` is absolute or a URL)."""

    name: str
    spec: SinkSpec
    path: str


@dataclass
class Plan:
    """A validated pipeline, in execution order."""

    loaded: LoadedSpec
    sources: dict[str, SourceNode]
    steps: list[StepNode]
    checks: list[BoundCheck]
    sinks: list[SinkNode]
    quarantine_path: str
    selected: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return self.loaded.spec.name

    def position(self, loc: Loc) -> Position:
        """Position of a node of the spec."""
        return self.loaded.positions.of(loc)

    def inputs_of(self, table: str) -> tuple[str, ...]:
        """The tables ``table`` reads directly (empty for a source)."""
        for step in self.steps:
            if step.name == table:
                return step.inputs
        return ()

    def order(self) -> list[str]:
        """Every table (sources first, then steps) in execution order."""
        return [*self.sources, *(s.name for s in self.steps)]

    def select(self, names: Iterable[str]) -> Plan:
        """The sub-plan that computes ``names`` and everything they need.

        Checks and sinks are kept only for the tables that are computed.

        Raises:
            ConfigError: a name is not a step or source.
        """
        wanted = list(names)
        known = set(self.order())
        for name in wanted:
            if name not in known:
                hint = did_you_mean(name, known)
                raise ConfigError(f"--select `{name}` is not a step or source{hint}")
        needed: set[str] = set()
        stack = list(wanted)
        while stack:
            table = stack.pop()
            if table not in needed:
                needed.add(table)
                stack.extend(self.inputs_of(table))
        return replace(
            self,
            sources={k: v for k, v in self.sources.items() if k in needed},
            steps=[s for s in self.steps if s.name in needed],
            checks=[c for c in self.checks if c.table in needed],
            sinks=[s for s in self.sinks if s.name in needed],
            selected=tuple(wanted),
        )


def _position_in_value(
    loaded: LoadedSpec, loc: Loc, value: str, start: int, token: str
) -> Position:
    """Position in the spec file of ``token``, found at offset ``start`` of the string ``value``.

    ``value`` is the string at ``loc`` as loaded: YAML may have folded its lines, removed
    block indentation or quotes, so offsets inside it are not offsets in the file. Instead,
    if ``token`` is the k-th occurrence of that text in ``value``, it is the k-th occurrence
    in the file from where the value starts (whatever the scalar style: plain, quoted,
    literal ``|`` or folded ``>``). Falls back to the value's own position.
    """
    base = loaded.positions.of(loc)
    token = token.strip()
    if not token or start < 0:
        return base
    before = r"(?<![A-Za-z0-9_])" if token[0].isalnum() or token[0] == "_" else ""
    after = r"(?![A-Za-z0-9_])" if token[-1].isalnum() or token[-1] == "_" else ""
    pattern = re.compile(before + re.escape(token) + after)
    k = len(pattern.findall(value[:start]))
    try:
        lines = loaded.file.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return base
    if base.line > len(lines):
        return base
    offset = sum(len(line) for line in lines[: base.line - 1]) + base.column - 1
    text = "".join(lines)
    for i, match in enumerate(pattern.finditer(text, offset)):
        if i == k:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line = text.count("\n", 0, match.start()) + 1
            return Position(base.file, line, match.start() - line_start + 1)
    return base


def _table_position(loaded: LoadedSpec, loc: Loc, sql: str, table: exp.Table) -> Position:
    """Position of a table reference of a SQL step (from SQLGlot's token offsets)."""
    start = table.this.meta.get("start")
    if not isinstance(start, int):
        return loaded.positions.of(loc)
    if start < len(sql) and sql[start] in '"`':
        start += 1  # a quoted identifier: point at its name
    return _position_in_value(loaded, loc, sql, start, table.name)


def _syntax_error_position(loaded: LoadedSpec, loc: Loc, sql: str, exc: SqlSyntaxError) -> Position:
    """Position of a SQL syntax error inside the step's ``sql`` (SQLGlot's line and column)."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not errors:
        return loaded.positions.of(loc)
    first = errors[0]
    line, col = first.get("line"), first.get("col")
    highlight = str(first.get("highlight") or "")
    if not isinstance(line, int) or not isinstance(col, int) or not highlight.strip():
        return loaded.positions.of(loc)
    sql_lines = sql.split("\n")
    start = sum(len(text) + 1 for text in sql_lines[: line - 1]) + col - len(highlight)
    return _position_in_value(loaded, loc, sql, start, highlight)


def _bind_transforms(loaded: LoadedSpec, step: StepSpec, step_loc: Loc) -> list[TransformCall]:
    calls: list[TransformCall] = []
    for j, item in enumerate(step.transforms):
        loc = (*step_loc, "transforms", j)
        if isinstance(item, str):
            name, raw, arg_loc = item, None, loc
        elif isinstance(item, dict) and len(item) == 1:
            name, raw = next(iter(item.items()))
            arg_loc = (*loc, name)
        else:
            loaded.problem(
                loc, "a transform is a name or a mapping with one key: `{name: arguments}`"
            )
            continue
        transform = get_transform(str(name))
        if transform is None:
            hint = did_you_mean(str(name), TRANSFORMS.names())
            loaded.problem(
                loc if isinstance(item, str) else arg_loc,
                f"unknown transform `{name}`{hint}",
                key=True,
            )
            continue
        if loaded.is_unresolved(arg_loc):
            continue  # the unresolved reference is the problem to report
        args_type = transform.args_type
        model = (
            args_type if isinstance(args_type, type) and issubclass(args_type, BaseModel) else None
        )
        try:
            args = transform.parse_args(raw)
        except ValidationError as exc:
            for err in exc.errors():
                where = (*arg_loc, *err["loc"])
                key = err["type"] == "extra_forbidden"
                message = f"transform `{name}`: {format_validation_error(err, model)}"
                loaded.problem(where, message, key=key)
            continue
        except ValueError as exc:
            loaded.problem(arg_loc, f"transform `{name}`: {exc}")
            continue
        calls.append(TransformCall(str(name), transform, args, loc))
    return calls


def _bind_check(loaded: LoadedSpec, i: int, table_names: set[str]) -> BoundCheck | None:
    spec = loaded.spec.checks[i]
    loc: Loc = ("checks", loaded.check_index[i])
    ok = True
    if spec.table not in table_names and spec.table not in loaded.broken_names:
        hint = did_you_mean(spec.table, table_names)
        loaded.problem((*loc, "table"), f"check on unknown table `{spec.table}`{hint}")
        ok = False
    check: Check | None = get_check(spec.check)
    if check is None:
        hint = did_you_mean(spec.check, CHECKS.names())
        loaded.problem((*loc, "check"), f"unknown check `{spec.check}`{hint}")
        return None
    if loaded.is_unresolved(loc):
        return None  # the unresolved reference is the problem to report
    try:
        args = check.parse_args(spec.args)
    except ValidationError as exc:
        for err in exc.errors():
            key = err["type"] == "extra_forbidden"
            message = f"check `{spec.check}`: {format_validation_error(err, check.args_model)}"
            loaded.problem((*loc, *err["loc"]), message, key=key)
        return None
    except ValueError as exc:
        loaded.problem(loc, f"check `{spec.check}`: {exc}")
        return None
    if spec.on_fail == "quarantine" and not check.row_level:
        loaded.problem(
            (*loc, "on_fail"),
            f"check `{spec.check}` is not row-level: only not_null, accepted_values, range, "
            "regex, expression (and row-level plugins) can quarantine rows",
        )
        ok = False
    if not ok:
        return None
    suffix = check.column_suffix(args)
    name = spec.name or ".".join([spec.table, spec.check, *([suffix] if suffix else [])])
    return BoundCheck(
        name=name,
        table=spec.table,
        check=check,
        args=args,
        severity=spec.severity,
        on_fail=spec.on_fail,
        index=loaded.check_index[i],
    )


def _check_engine_support(
    loaded: LoadedSpec, engine: str, steps: list[StepNode], checks: list[BoundCheck]
) -> None:
    """Record, at its position, each part of the user's SQL that ``engine`` cannot run.

    DuckDB runs the user dialect itself; another engine says what it lacks through
    `Engine.unsupported` (``ede validate --engine spark``). Looked at: SQL steps, ``filter``
    and ``derive`` expressions, ``cast`` types and ``expression`` checks.
    """
    if not engine or engine == "duckdb" or engine not in ENGINES:
        return
    unsupported = engine_class(engine).unsupported
    where: list[tuple[Loc, str, exp.Expr, str]] = []  # (loc, text, parsed, what)
    for step in steps:
        what = f"step `{step.name}`"
        if step.query is not None and step.spec.sql is not None:
            where.append(((*step.loc, "sql"), step.spec.sql, step.query, what))
        for call in step.transforms:
            items = call.args.items() if isinstance(call.args, dict) else [(None, call.args)]
            for key, text in items:
                loc = (*call.loc, call.name, *([key] if key is not None else []))
                try:
                    if call.name in ("filter", "derive") and isinstance(text, str):
                        where.append((loc, text, parse_expression(text), what))
                    elif call.name == "cast" and isinstance(text, str):
                        where.append((loc, text, parse_type(text), what))
                except SqlSyntaxError:
                    continue  # already reported by the transform's own validation
    for bound in checks:
        expr = getattr(bound.args, "expr", None)
        if bound.check.name == "expression" and isinstance(expr, str):
            loc = ("checks", bound.index, "expr")
            where.append((loc, expr, parse_expression(expr), f"check `{bound.name}`"))
    for loc, text, parsed, what in where:
        for node, reason in unsupported(parsed):
            # Functions and identifiers know their offsets; an operator points at its operand.
            located = next(
                (n for n in node.walk(bfs=False) if isinstance(n.meta.get("start"), int)), node
            )
            start, end = located.meta.get("start"), located.meta.get("end")
            if isinstance(start, int) and isinstance(end, int):
                pos = _position_in_value(loaded, loc, text, start, text[start : end + 1])
            else:
                pos = loaded.positions.of(loc)
            loaded.problems.append(Problem(pos, f"{what}: not supported on {engine}: {reason}"))


@dataclass(frozen=True)
class _Folder:
    """A folder the run publishes to: a sink's, or the quarantine folder of one table."""

    key: tuple[str, ...]  # `folder_key`
    shown: str  # the folder as the spec writes it
    loc: Loc | None  # its path in the spec (None: the default quarantine folder)
    sink: str | None = None  # the sink's name; None for a quarantine folder
    table: str = ""  # the quarantined table

    @property
    def label(self) -> str:
        """The folder, named for a message."""
        if self.sink is not None:
            return f"the folder `{self.shown}` of sink `{self.sink}`"
        return f"the quarantine folder `{self.shown}` of table `{self.table}`"


def _overlap_message(inner: _Folder, outer: _Folder) -> str:
    """Why ``inner`` (the same folder as ``outer`` or inside it) and ``outer`` cannot coexist."""
    same = inner.key == outer.key
    if inner.sink is not None and outer.sink is not None:
        if same:
            return f"sinks `{outer.sink}` and `{inner.sink}` write the same folder `{inner.shown}`"
        head = (
            f"sinks `{outer.sink}` and `{inner.sink}` write nested folders: "
            f"`{inner.shown}` is inside `{outer.shown}`"
        )
    else:
        head = f"{inner.label} {'is also' if same else 'is inside'} {outer.label}"
    return f"{head}; publishing one would replace or mix with the other's files"


def _check_folders(
    loaded: LoadedSpec, sinks: list[SinkNode], checks: list[BoundCheck], quarantine_path: str
) -> None:
    """Record each pair of published folders that are the same or nest (one inside the other).

    Publishing a sink swaps its whole folder, so no other sink's folder and no quarantine
    folder (``<quarantine path>/<table>/``, for each table with an ``on_fail: quarantine``
    check) may be it, contain it or lie inside it. Paths are compared normalized
    (`folder_key`: relative to the spec's folder, ``./``, ``..``, trailing slashes, ``file://``
    URLs). A pair is reported at the path of the inner folder: of the later sink when two
    sinks write the same folder, of the quarantine when a quarantine folder is a sink's; at
    the sink's path when the inner folder is the default (unwritten) quarantine folder.
    """
    folders: list[_Folder] = []
    for sink in sinks:
        loc: Loc = ("sinks", sink.name, "path")
        if not loaded.is_unresolved(loc):
            folders.append(_Folder(folder_key(sink.path), sink.spec.path, loc, sink.name))
    qloc: Loc = ("quarantine", "path")
    if not loaded.is_unresolved(qloc):
        written = qloc if qloc in loaded.positions.values else None
        qpath = loaded.spec.quarantine.path
        prefix = qpath if qpath.endswith("/") else f"{qpath}/"
        qkey = folder_key(quarantine_path)
        for table in dict.fromkeys(c.table for c in checks if c.quarantines):
            shown = f"{prefix}{table}"
            folders.append(_Folder((*qkey, table), shown, written, None, table))
    for i, later in enumerate(folders):
        for earlier in folders[:i]:
            if later.key[: len(earlier.key)] == earlier.key:
                inner, outer = later, earlier
            elif earlier.key[: len(later.key)] == later.key:
                inner, outer = earlier, later
            else:
                continue
            if inner.key == outer.key and inner.sink is not None and outer.sink is None:
                inner, outer = outer, inner  # the same folder: blame the quarantine path
            where = inner.loc or outer.loc
            if where is not None:  # two quarantine folders never overlap: their tables differ
                loaded.problem(where, _overlap_message(inner, outer))


def build_plan(loaded: LoadedSpec) -> Plan:
    """Validate a loaded spec and return its plan.

    Raises:
        SpecError: every problem of the spec (including the loader's), one per line.
    """
    spec = loaded.spec
    if spec.engine and spec.engine not in ENGINES:
        hint = did_you_mean(spec.engine, ENGINES.names())
        loaded.problem(
            ("engine",),
            f"unknown engine `{spec.engine}`{hint}; available: {', '.join(ENGINES.names())}",
        )

    # Names -------------------------------------------------------------------------------------
    owners: dict[str, Loc] = {}
    sources: dict[str, SourceNode] = {}
    for name, src in spec.sources.items():
        loc: Loc = ("sources", name)
        if not is_identifier(name):
            loaded.problem(
                loc, f"invalid source name `{name}`: must match [a-z][a-z0-9_]*", key=True
            )
        owners[name] = loc
        columns = None
        if src.columns is not None:
            columns = {}
            for col, type_text in src.columns.items():
                try:
                    columns[col] = parse_type(str(type_text))
                except SqlSyntaxError as exc:
                    loaded.problem((*loc, "schema", col), f"source `{name}`: {exc}")
        request = ReadRequest(
            name, src.format, loaded.resolve_path(src.path), dict(src.options), columns
        )
        sources[name] = SourceNode(name, src, request)

    step_locs: dict[str, Loc] = {}
    unique_steps: list[StepSpec] = []
    for step, yaml_index in zip(spec.steps, loaded.step_index, strict=True):
        loc = ("steps", yaml_index)
        if not is_identifier(step.name):
            message = f"invalid step name `{step.name}`: must match [a-z][a-z0-9_]*"
            loaded.problem((*loc, "name"), message)
        if step.name in owners:
            owner = owners[step.name]
            first = loaded.positions.of(owner, key=owner[0] == "sources")
            message = f"duplicate name `{step.name}` (first defined at {first})"
            loaded.problem((*loc, "name"), message)
            continue
        owners[step.name] = (*loc, "name")
        step_locs[step.name] = loc
        unique_steps.append(step)

    table_names = set(owners) | loaded.broken_names

    # Steps -------------------------------------------------------------------------------------
    steps: dict[str, StepNode] = {}
    for step in unique_steps:
        loc = step_locs[step.name]
        inputs: list[str] = []
        query: exp.Query | None = None
        if step.input is not None:
            if step.input not in table_names:
                hint = did_you_mean(step.input, table_names - {step.name})
                loaded.problem(
                    (*loc, "input"), f"step `{step.name}` reads unknown table `{step.input}`{hint}"
                )
            elif step.input == step.name:
                loaded.problem((*loc, "input"), f"step `{step.name}` reads itself")
            else:
                inputs.append(step.input)
        if step.sql is not None and not loaded.is_unresolved((*loc, "sql")):
            try:
                query = parse_query(step.sql)
            except SqlSyntaxError as exc:
                pos = _syntax_error_position(loaded, (*loc, "sql"), step.sql, exc)
                loaded.problems.append(Problem(pos, f"step `{step.name}`: {exc}"))
            else:
                ctes = {c.alias_or_name for c in query.find_all(exp.CTE)}
                for tbl in query.find_all(exp.Table):
                    if not tbl.name or tbl.name in ctes or tbl.args.get("db"):
                        continue
                    if isinstance(tbl.this, exp.Anonymous | exp.Func) or not isinstance(
                        tbl.this, exp.Identifier
                    ):
                        continue  # table functions such as read_csv(...)
                    if tbl.name not in table_names:
                        hint = did_you_mean(tbl.name, table_names - {step.name})
                        pos = _table_position(loaded, (*loc, "sql"), step.sql, tbl)
                        message = f"step `{step.name}` reads unknown table `{tbl.name}`{hint}"
                        loaded.problems.append(Problem(pos, message))
                    elif tbl.name == step.name:
                        loaded.problem((*loc, "sql"), f"step `{step.name}` reads itself")
                    elif tbl.name not in inputs:
                        inputs.append(tbl.name)
        calls = _bind_transforms(loaded, step, loc)
        steps[step.name] = StepNode(step.name, step, tuple(inputs), query, tuple(calls), loc)

    # Order (cycles) -----------------------------------------------------------------------------
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, node in steps.items():
        sorter.add(name, *[i for i in node.inputs if i in steps])
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1]) if len(exc.args) > 1 else []
        head = cycle[0] if cycle else next(iter(steps))
        loaded.problem(
            (*step_locs[head], "name"),
            "cycle between steps: " + " -> ".join(f"`{c}`" for c in cycle),
        )
        order = list(steps)

    # Checks ------------------------------------------------------------------------------------
    checks: list[BoundCheck] = []
    # A `name:` identifies one check; default names may repeat (two `expression` checks of
    # one table are both `<table>.expression`): the report lists each, in spec order.
    explicit: dict[str, bool] = {}
    for i in range(len(spec.checks)):
        bound = _bind_check(loaded, i, table_names)
        if bound is None:
            continue
        named = spec.checks[i].name is not None
        if bound.name in explicit and (named or explicit[bound.name]):
            loaded.problem(
                ("checks", bound.index, "name") if named else ("checks", bound.index),
                f"duplicate check name `{bound.name}`; a `name:` must be unique",
            )
            continue
        explicit[bound.name] = named or explicit.get(bound.name, False)
        checks.append(bound)

    # Sinks -------------------------------------------------------------------------------------
    sinks: list[SinkNode] = []
    for name, sink in spec.sinks.items():
        loc = ("sinks", name)
        if name not in table_names:
            hint = did_you_mean(name, table_names)
            loaded.problem(loc, f"sink for unknown table `{name}`{hint}", key=True)
            continue
        path = loaded.resolve_path(sink.path)
        allowed = SINK_OPTIONS.get(sink.format, frozenset())
        for option in sink.options:
            if option not in allowed:
                hint = did_you_mean(str(option), allowed)
                loaded.problem(
                    (*loc, "options", option),
                    f"unsupported option `{option}` for a {sink.format} sink{hint}; "
                    f"supported: {', '.join(sorted(allowed))}",
                    key=True,
                )
        seen_partitions: set[str] = set()
        for j, col in enumerate(sink.partition_by):
            if not col:
                loaded.problem((*loc, "partition_by", j), "empty partition column name")
            elif col.casefold() in seen_partitions:
                loaded.problem((*loc, "partition_by", j), f"partition column `{col}` repeated")
            seen_partitions.add(col.casefold())
        sinks.append(SinkNode(name, sink, path))
    quarantine_path = loaded.resolve_path(spec.quarantine.path)
    _check_folders(loaded, sinks, checks, quarantine_path)

    _check_engine_support(loaded, spec.engine, list(steps.values()), checks)
    loaded.raise_if_problems()
    return Plan(
        loaded=loaded,
        sources=sources,
        steps=[steps[n] for n in order if n in steps],
        checks=checks,
        sinks=sinks,
        quarantine_path=quarantine_path,
    )
