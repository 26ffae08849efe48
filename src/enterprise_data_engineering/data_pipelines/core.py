"""Pipelines of stages sharing one context (see the package docstring)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from enterprise_data_engineering.errors import EdeError, EdeRuntimeError


class PipelineStatus(StrEnum):
    """Status of a stage or of a whole pipeline."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id such as ``20261128T101500Z-3f2a9c1b``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


@dataclass
class PipelineContext:
    """What every stage of one run shares.

    Attributes:
        execution_id: the run id (also ``batch_id`` of audit columns).
        parameters: the run's parameters (spec ``params`` with ``--param`` overrides).
        metrics: per-stage metrics, ``{stage: {"rows": ..., "duration_s": ...}}``.
        artifacts: anything stages hand to later stages (tables, paths, results).
        started_at: when the run started (UTC).
    """

    execution_id: str = field(default_factory=new_run_id)
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def run_id(self) -> str:
        """Alias of ``execution_id``."""
        return self.execution_id

    def record(self, stage: str, **values: Any) -> None:
        """Add metrics for ``stage`` (merged with what it already has)."""
        self.metrics.setdefault(stage, {}).update(values)


StageFunction = Callable[[PipelineContext], Any]


@dataclass
class PipelineStage:
    """One unit of work. ``run`` returns the number of rows it produced, or ``None``.

    Args:
        name: unique within the pipeline.
        run: a callable taking the shared :class:`PipelineContext`.
        kind: free-form label (``source``, ``step``, ``write``, ``audit``, ``publish``...).
    """

    name: str
    run: StageFunction
    kind: str = "stage"


@dataclass
class StageResult:
    """The outcome of one stage."""

    name: str
    kind: str
    status: PipelineStatus
    duration_s: float
    rows: int | None = None
    error: str | None = None


@dataclass
class PipelineResult:
    """The outcome of a pipeline: status, exit code, stage results and the context."""

    name: str
    status: PipelineStatus
    exit_code: int
    stages: list[StageResult]
    context: PipelineContext
    error: EdeError | None = None

    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """The context's metrics."""
        return self.context.metrics

    def to_report(self, engine: str = "python") -> dict[str, Any]:
        """The run report of CONTRACT §5 for a pipeline of Python stages."""
        started = self.context.started_at
        return {
            "pipeline": self.name,
            "run_id": self.context.execution_id,
            "engine": engine,
            "status": "succeeded" if self.status == PipelineStatus.SUCCEEDED else "failed",
            "exit_code": self.exit_code,
            "started_at": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "finished_at": self.finished_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "duration_s": round((self.finished_at - started).total_seconds(), 3),
            "params": dict(self.context.parameters),
            "steps": [
                {"name": r.name, "rows": r.rows, "duration_s": round(r.duration_s, 3)}
                for r in self.stages
                if r.status != PipelineStatus.SKIPPED
            ],
            "checks": list(self.context.artifacts.get("checks", [])),
            "sinks": list(self.context.artifacts.get("sinks", [])),
            "error": str(self.error) if self.error else None,
        }


class StageObserver:
    """Hooks called around each stage (the runtime's console implements them)."""

    def stage_started(self, stage: PipelineStage) -> None:
        """A stage is about to run."""

    def stage_finished(self, stage: PipelineStage, result: StageResult) -> None:
        """A stage has finished (successfully or not)."""


@dataclass
class Pipeline:
    """An ordered list of stages run with one shared context.

    A stage that raises stops the pipeline; an :class:`EdeError` keeps its exit code, any
    other exception becomes :class:`EdeRuntimeError` (exit 2) naming the stage.
    """

    name: str
    stages: Sequence[PipelineStage] = field(default_factory=list)

    def run(
        self,
        context: PipelineContext | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        observer: StageObserver | None = None,
        raise_errors: bool = False,
    ) -> PipelineResult:
        """Run every stage in order and return the result (or raise if ``raise_errors``).

        ``parameters`` are set on the context: a new one when ``context`` is None, else they
        override the given context's parameters of the same name (as ``--param`` overrides a
        spec's ``params``).
        """
        ctx = context or PipelineContext()
        ctx.parameters.update(parameters or {})
        obs = observer or StageObserver()
        results: list[StageResult] = []
        error: EdeError | None = None
        for stage in self.stages:
            if error is not None:
                results.append(StageResult(stage.name, stage.kind, PipelineStatus.SKIPPED, 0.0))
                continue
            obs.stage_started(stage)
            start = time.perf_counter()
            try:
                out = stage.run(ctx)
            except EdeError as exc:
                error = exc
            except Exception as exc:
                error = EdeRuntimeError(f"stage `{stage.name}` failed: {exc}")
                error.__cause__ = exc
            duration = time.perf_counter() - start
            rows = (
                out
                if error is None and isinstance(out, int) and not isinstance(out, bool)
                else None
            )
            status = PipelineStatus.FAILED if error is not None else PipelineStatus.SUCCEEDED
            result = StageResult(
                stage.name, stage.kind, status, duration, rows, str(error) if error else None
            )
            ctx.record(
                stage.name, duration_s=duration, **({"rows": rows} if rows is not None else {})
            )
            results.append(result)
            obs.stage_finished(stage, result)
        status = PipelineStatus.FAILED if error else PipelineStatus.SUCCEEDED
        outcome = PipelineResult(
            self.name, status, error.exit_code if error else 0, results, ctx, error
        )
        if error is not None and raise_errors:
            raise error
        return outcome
