"""How a run is shown: Rich progress and a summary table, or nothing (JSON mode).

The runtime never prints; it calls a :class:`RunConsole`, so the same run renders as Rich
text, as JSON on stdout (the CLI prints the report), or not at all (library use, tests).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from enterprise_data_engineering.data_pipelines.core import (
    PipelineStage,
    PipelineStatus,
    StageObserver,
    StageResult,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


class RunConsole(StageObserver):
    """Silent console: the base of every console, used by the library and in JSON mode."""

    def run_started(self, pipeline: str, run_id: str, engine: str, stages: int) -> None:
        """The run is about to execute ``stages`` stages."""

    def run_finished(self, report: dict[str, Any]) -> None:
        """The run has ended; ``report`` is the CONTRACT §5 object."""


class RichRunConsole(RunConsole):
    """Progress per stage while running; a summary of steps, checks and sinks at the end."""

    def __init__(self, console: Console | None = None, err_console: Console | None = None) -> None:
        from rich.console import Console

        # Not a terminal (CI logs, pipes): wide enough that tables are not cut.
        self.console = console or Console(width=None if sys.stdout.isatty() else 160)
        self.err = err_console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def run_started(self, pipeline: str, run_id: str, engine: str, stages: int) -> None:
        """Start the progress bar."""
        from rich.markup import escape
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console.print(
            f"[bold]{escape(pipeline)}[/] run [cyan]{escape(run_id)}[/] "
            f"on [magenta]{escape(engine)}[/]"
        )
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("starting", total=stages)

    def stage_started(self, stage: PipelineStage) -> None:
        """Show which stage runs."""
        from rich.markup import escape

        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, description=f"{escape(stage.kind)} [bold]{escape(stage.name)}[/]"
            )

    def stage_finished(self, stage: PipelineStage, result: StageResult) -> None:
        """Log the finished stage (above the bar, when `run_started` started one)."""
        console = self.console
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
            console = self._progress.console
        mark = "[green]✓[/]" if result.status == PipelineStatus.SUCCEEDED else "[red]✗[/]"
        rows = f"{result.rows:,} rows" if isinstance(result.rows, int) else ""
        from rich.markup import escape

        # pad before escaping: the escape backslashes are not shown
        kind, name = escape(f"{stage.kind:<8}"), escape(f"{stage.name:<32}")
        console.print(f" {mark} {kind} {name} {rows:>16} {result.duration_s:8.2f}s")

    def run_finished(self, report: dict[str, Any]) -> None:
        """Stop the bar and print the summary tables.

        Everything that comes from the spec or the data (check names, paths, sample values)
        is escaped: a value such as ``[/]`` is shown as it is, not read as Rich markup.
        """
        from rich.markup import escape
        from rich.table import Table

        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if report.get("checks"):
            table = Table(title="checks", title_justify="left")
            for col in ("check", "table", "severity", "status", "failing rows"):
                table.add_column(col, justify="right" if col == "failing rows" else "left")
            for chk in report["checks"]:
                style = (
                    "green"
                    if chk["status"] == "passed"
                    else (
                        "yellow"
                        if chk["severity"] == "warn" or chk.get("on_fail") == "quarantine"
                        else "red"
                    )
                )
                table.add_row(
                    escape(str(chk.get("name", chk["check"]))),
                    escape(str(chk["table"])),
                    escape(str(chk["severity"]))
                    + (" (quarantine)" if chk.get("on_fail") == "quarantine" else ""),
                    f"[{style}]{escape(str(chk['status']))}[/]",
                    f"{chk['failing_rows']:,}",
                )
            self.console.print(table)
            for chk in report["checks"]:
                if chk["status"] == "failed" and chk.get("sample"):
                    self.console.print(
                        f"[bold]{escape(str(chk.get('name')))}[/] sample of failing rows:"
                    )
                    sample = Table(show_header=True)
                    cols = list(chk["sample"][0].keys())
                    for c in cols:
                        sample.add_column(escape(str(c)))
                    for row in chk["sample"]:
                        sample.add_row(
                            *("∅" if row.get(c) is None else escape(str(row[c])) for c in cols)
                        )
                    self.console.print(sample)
        # what was published: the sinks, then the quarantined rows
        for title, key, outputs in (
            ("sinks", "name", report.get("sinks")),
            ("quarantine", "table", report.get("quarantine")),
        ):
            if not outputs:
                continue
            table = Table(title=title, title_justify="left")
            for col in ("sink" if key == "name" else key, "rows", "path"):
                table.add_column(col, justify="right" if col == "rows" else "left")
            for out in outputs:
                table.add_row(escape(str(out[key])), f"{out['rows']:,}", escape(str(out["path"])))
            self.console.print(table)
        for warning in report.get("warnings", ()):
            # e.g. the run history could not be written: the run's own result stands
            self.err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        status = report["status"]
        color = "green" if status == "succeeded" else "red"
        self.console.print(
            f"[{color} bold]{status}[/] in {report['duration_s']:.2f}s "
            f"(exit {report['exit_code']}, run {report['run_id']})"
        )
