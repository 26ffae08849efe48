"""A worked example of the ``ede.cli`` extension point: the ``ede reference`` commands.

Registered in ``pyproject.toml``; the entry point's name becomes the sub-command::

    [project.entry-points."ede.cli"]
    reference = "reference_python_project.cli:app"

Then::

    $ ede reference hello-pipeline orders_daily > orders_daily.yaml
    $ ede validate orders_daily.yaml

Commands stay thin: they parse arguments, call library code and print; a failure is an
`EdeError` subclass, so ``ede`` turns it into a one-line message and the contract's exit code.
"""

from __future__ import annotations

from typing import Annotated

import typer

from enterprise_data_engineering.common_utils.naming import is_identifier
from enterprise_data_engineering.errors import ConfigError

app = typer.Typer(
    help="The reference project's commands: a worked example of an `ede.cli` plugin.",
    no_args_is_help=True,
    add_completion=False,
)

_FORMATS = ("csv", "parquet", "json")


def hello_spec(name: str, source_format: str = "csv") -> str:
    """The YAML text of a minimal, valid pipeline spec called ``name``.

    >>> print(hello_spec("sales").splitlines()[3])
    name: sales

    Raises:
        ConfigError: ``name`` is not an identifier or ``source_format`` is unknown.
    """
    if not is_identifier(name):
        raise ConfigError(
            f"invalid pipeline name `{name}`: use lowercase letters, digits and `_`, "
            "starting with a letter (e.g. `orders_daily`)"
        )
    if source_format not in _FORMATS:
        raise ConfigError(
            f"invalid source format `{source_format}`: use one of {', '.join(_FORMATS)}"
        )
    options = "\n    options: {header: true}" if source_format == "csv" else ""
    # `name` is an identifier and `source_format` one of three words, so the text below
    # is valid YAML whatever they are.
    return f"""\
# A new pipeline. Put input files under data/{name}/, then:
#   ede validate {name}.yaml && ede run {name}.yaml
name: {name}
description: What {name} produces, for whom
params: {{}}
sources:
  raw:
    format: {source_format}
    path: data/{name}/*.{source_format}{options}
steps:
  - name: {name}_clean
    input: raw
    transforms:
      - clean_column_names
      - remove_empty_columns: {{threshold: 0.95}}
      - add_audit_columns: {{process_name: {name}}}
checks:
  - {{table: {name}_clean, check: row_count, min: 1}}
sinks:
  {name}_clean:
    format: parquet
    path: out/{name}_clean
    mode: overwrite
"""


@app.command("hello-pipeline")
def hello_pipeline(
    name: Annotated[str, typer.Argument(help="The pipeline's name: [a-z][a-z0-9_]*.")],
    source_format: Annotated[
        str, typer.Option("--source-format", help="csv, parquet or json.")
    ] = "csv",
) -> None:
    """Print a minimal spec for a new pipeline NAME (redirect it into NAME.yaml)."""
    typer.echo(hello_spec(name, source_format), nl=False)


@app.command("examples")
def examples() -> None:
    """List the example pipelines of the source tree and where their specs are."""
    from reference_python_project.pipelines import example_spec, list_examples

    names = list_examples()
    if not names:
        typer.echo("no example pipelines found (they ship with the source tree)")
        return
    for name in names:
        typer.echo(f"{name}\t{example_spec(name)}")


__all__ = ["app", "hello_pipeline", "hello_spec"]
