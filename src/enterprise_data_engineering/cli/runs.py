"""``ede run`` and ``ede runs list|show``."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from enterprise_data_engineering.errors import ConfigError, DependencyError

runs_app = typer.Typer(help="The run history (an embedded SQLite database).", no_args_is_help=True)

_POSITION = re.compile(r"^.+:\d+:\d+: ")


def _json(report: Any, indent: int | None = None) -> str:
    """Strict JSON (a NaN ``--param`` is written as a string, never as a bare ``NaN``)."""
    from enterprise_data_engineering.runtime.history import report_json

    return report_json(report, indent=indent)


def _write_status_file(path: Path, report: dict[str, Any]) -> None:
    """Write the report atomically (a scheduler never reads half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    Path(tmp).chmod(0o666 & ~umask)  # readable like any file the user writes (mkstemp: 0600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_json(report, indent=2))
        fh.write("\n")
    Path(tmp).replace(path)


def run(
    spec: Annotated[Path, typer.Argument(help="The pipeline spec (YAML).", metavar="SPEC")],
    engine: Annotated[
        str | None, typer.Option(help="duckdb or spark (overrides the spec's `engine`).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Override a spec parameter: NAME=VALUE (repeatable)."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Run only this step and what it needs (repeatable)."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--output-format", "-f", help="text or json (one object on stdout).")
    ] = "text",
    status_file: Annotated[
        Path | None, typer.Option(help="Also write the JSON report to FILE (also on failure).")
    ] = None,
    history: Annotated[bool, typer.Option(help="Record the run in the run history.")] = True,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL (local[*], spark://…, yarn, k8s://…, sc://…); "
            "else EDE_SPARK_MASTER, else the spec's spark.master.",
        ),
    ] = None,
) -> None:
    """Run a pipeline: read, transform, check, then publish every sink atomically."""
    from enterprise_data_engineering.runtime.console import RichRunConsole, RunConsole
    from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline

    usage_error = None
    if output_format not in ("text", "json"):
        # still a full (text) report, status file and history row, like any failed run
        usage_error = f"invalid --output-format `{output_format}`: use text or json"
        output_format = "text"
    options = RunOptions(
        usage_error=usage_error,
        engine=engine,
        param_args=list(param or []),  # parsed by the run: a bad one still gets a report
        select=list(select or []),
        record_history=history,
        spark_master=spark_master,
    )
    console: RunConsole = RichRunConsole() if output_format == "text" else RunConsole()
    report = run_pipeline(spec, options, console)
    if status_file is not None:
        try:
            _write_status_file(status_file, report)
        except OSError as exc:
            print(f"Error: cannot write status file `{status_file}`: {exc}", file=sys.stderr)
    if output_format == "json":
        typer.echo(_json(report))
    if report["error"]:
        message = str(report["error"])
        prefix = "" if _POSITION.match(message) else "Error: "
        print(prefix + message, file=sys.stderr)
    raise typer.Exit(int(report["exit_code"]))


@runs_app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 20,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    output_format: Annotated[
        str, typer.Option("--output-format", "-f", help="text or json.")
    ] = "text",
) -> None:
    """List recent runs, newest first."""
    if output_format not in ("text", "json"):
        raise ConfigError(f"invalid --output-format `{output_format}`: use text or json")
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from enterprise_data_engineering.runtime.history import RunHistory

    rows = RunHistory().list(limit=limit, pipeline=pipeline)
    if output_format == "json":
        typer.echo(_json(rows, indent=2))
        return
    table = Table(title="runs", title_justify="left")
    for col in ("run id", "pipeline", "status", "exit", "engine", "started", "duration"):
        table.add_column(col)
    for r in rows:
        color = "green" if r["status"] == "succeeded" else "red"
        # a pipeline or engine named on the command line (a spec that could not be read, a
        # bad --engine) is recorded as given: show it as text, never as Rich markup
        table.add_row(
            escape(str(r["run_id"])),
            escape(str(r["pipeline"])),
            f"[{color}]{escape(str(r['status']))}[/]",
            str(r["exit_code"]),
            escape(str(r["engine"])),
            escape(str(r["started_at"])),
            f"{r['duration_s']:.2f}s" if isinstance(r["duration_s"], int | float) else "",
        )
    Console(width=140).print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")],
) -> None:
    """Show one run's full report (JSON)."""
    from enterprise_data_engineering.runtime.history import RunHistory

    report = RunHistory().get(run_id)
    if report is None:
        raise DependencyError(f"no run `{run_id}` in the history")
    typer.echo(_json(report, indent=2))
