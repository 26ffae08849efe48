"""The ``ede`` command line: thin Typer commands over the library (no business logic here).

Exit codes come from the exception tree in :mod:`enterprise_data_engineering.errors`;
``--debug`` (anywhere on the command line, or ``EDE_DEBUG=1``) shows tracebacks.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from enterprise_data_engineering.__about__ import __version__
from enterprise_data_engineering.errors import ConfigError, EdeError, SpecError

app = typer.Typer(
    name="ede",
    help="Enterprise data engineering: declarative pipelines on DuckDB or Spark, with checks "
    "and write-audit-publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

SpecArg = Annotated[
    Path, typer.Argument(help="The pipeline spec (YAML).", metavar="SPEC", show_default=False)
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="Override a spec parameter: NAME=VALUE (repeatable)."),
]


class OutputFormat(StrEnum):
    """How a command reports."""

    text = "text"
    json = "json"


class GraphFormat(StrEnum):
    """Formats of ``ede graph``."""

    mermaid = "mermaid"
    dot = "dot"
    html = "html"


def _stdout() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True, width=max(100, int(os.environ.get("COLUMNS", "0") or 0)))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ede {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of errors (also EDE_DEBUG=1).")
    ] = False,
) -> None:
    """ede: write a pipeline once; validate, plan, graph and run it."""


def _load_plan(spec: Path, params: list[str] | None, engine: str | None = None) -> Any:
    from enterprise_data_engineering.planning.plan import build_plan
    from enterprise_data_engineering.spec.loader import load_spec, parse_param_overrides

    loaded = load_spec(spec, params=parse_param_overrides(params or []))
    if engine:
        loaded.spec.engine = engine
    return build_plan(loaded)


@app.command()
def validate(
    spec: SpecArg,
    param: ParamOpt = None,
    engine: Annotated[str | None, typer.Option(help="Validate for this engine.")] = None,
) -> None:
    """Parse and check a spec without touching any data (exit 1 with FILE:LINE:COL errors)."""
    plan = _load_plan(spec, param, engine)
    typer.echo(
        f"{spec}: ok — pipeline `{plan.name}`: {len(plan.sources)} source(s), "
        f"{len(plan.steps)} step(s), {len(plan.checks)} check(s), {len(plan.sinks)} sink(s)"
    )


@app.command()
def plan(
    spec: SpecArg,
    param: ParamOpt = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="Only this step and what it needs.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--output-format", "-f", help="text or json.")
    ] = OutputFormat.text,
) -> None:
    """Print the DAG in execution order: each node, its inputs, and what it will write."""
    from enterprise_data_engineering.planning.describe import describe_plan

    the_plan = _load_plan(spec, param)
    if select:
        the_plan = the_plan.select(select)
    nodes = describe_plan(the_plan)
    if output_format == OutputFormat.json:
        typer.echo(json.dumps({"pipeline": the_plan.name, "nodes": nodes}, indent=2))
        return
    # Plain lines rather than a table: names never wrap, so the plan greps and diffs well.
    from rich.markup import escape

    out = _stdout()
    out.print(f"plan of [bold]{escape(the_plan.name)}[/] — {len(nodes)} node(s) in execution order")
    for i, node in enumerate(nodes, 1):
        inputs = f"  ← {', '.join(node['inputs'])}" if node["inputs"] else ""
        out.print(f"{i:>3}. [bold]{escape(node['name'])}[/] ({node['kind']}){escape(inputs)}")
        out.print(f"       does:   {escape(node['does'])}")
        for chk in node["checks"]:
            out.print(f"       check:  {escape(chk)}")
        for write in node["writes"]:
            out.print(f"       writes: {escape(write)}")


@app.command()
def graph(
    spec: SpecArg,
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid, dot or html.")
    ] = GraphFormat.mermaid,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    param: ParamOpt = None,
) -> None:
    """The pipeline's lineage graph (html: one self-contained page, no network needed)."""
    from enterprise_data_engineering.planning.graph import RENDERERS

    text = RENDERERS[format.value](_load_plan(spec, param))
    if output is None:
        typer.echo(text, nl=False)
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write `{output}`: {exc.strerror}") from exc
        typer.echo(f"wrote {output}", err=True)


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of the spec (point your editor's YAML plugin at it)."""
    from enterprise_data_engineering.planning.schema import full_spec_schema

    text = json.dumps(full_spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@app.command()
def info() -> None:
    """Show the environment: versions, engines available, Java, Spark, history location."""
    from rich.table import Table

    from enterprise_data_engineering.runtime.environment import environment_info

    table = Table(title="ede environment", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    from rich.markup import escape

    for key, value in environment_info().items():
        table.add_row(key, escape(value))
    _stdout().print(table)


from enterprise_data_engineering.cli import runs as _runs  # noqa: E402

app.command(name="run")(_runs.run)
app.add_typer(_runs.runs_app, name="runs")


_plugins_added = False


def _add_plugin_commands() -> None:
    global _plugins_added
    if _plugins_added:
        return
    _plugins_added = True
    from enterprise_data_engineering.common_utils.registry import entry_points

    for ep in entry_points(group="ede.cli"):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the CLI
            print(f"warning: cannot load CLI plugin `{ep.name}`: {exc}", file=sys.stderr)
            continue
        if isinstance(obj, typer.Typer):
            app.add_typer(obj, name=ep.name)
        elif callable(obj):
            app.command(name=ep.name)(obj)


def _builtin_commands() -> set[str]:
    """Names of the commands and command groups ``ede`` itself defines."""
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name or "" for g in app.registered_groups}
    return names - {""}


def _print_error(exc: EdeError, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        if len(exc.problems) > 1:
            print(f"Error: {len(exc.problems)} problems in the spec", file=sys.stderr)
    else:
        print(f"Error: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ede`` console script (``argv``: arguments, for in-process use)."""
    try:
        _main(argv)
    finally:
        if argv is None:
            # The console script's process is about to exit, and every engine, file and
            # database was closed explicitly. Freezing the heap spares the interpreter's
            # final garbage collection over everything SQLGlot, pydantic and DuckDB
            # allocated (~60 ms per run: docs/performance.md); the memory goes back to the
            # OS with the process anyway. An in-process caller (argv given) keeps its GC.
            gc.freeze()


def _main(argv: list[str] | None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("EDE_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    if not args or args[0] not in _builtin_commands():
        # Plugins are read only when the command may be theirs (or for the full --help):
        # reading every installed package's entry points costs ~20 ms on each run.
        _add_plugin_commands()
    try:
        code = app(args=args, prog_name="ede", standalone_mode=False)
    except EdeError as exc:
        _print_error(exc, debug)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        sys.exit(7)
    except Exception as exc:
        # Click's exceptions (Typer may vendor its own copy of Click, so match by shape).
        kind = type(exc).__name__
        if kind == "Exit":
            sys.exit(int(getattr(exc, "exit_code", 0)))
        if kind == "Abort":
            print("Aborted.", file=sys.stderr)
            sys.exit(7)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            # Usage errors are configuration errors (CONTRACT §3: bad option → exit 1).
            exc.show(file=sys.stderr)
            sys.exit(1)
        if debug:
            raise
        print(f"Error: unexpected {kind}: {exc} (rerun with --debug)", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
