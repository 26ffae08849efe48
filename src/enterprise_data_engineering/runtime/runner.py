"""Run a pipeline: read → compute (quarantine) → write to staging → audit → publish.

Write-audit-publish (CONTRACT §4): every sink is written to a staging folder, then every
check runs on the computed tables, and only if no error-severity check failed are the
sinks published, each atomically. Whatever fails, staging is discarded and the sinks are
left as they were. Every run gets a report (CONTRACT §5) and a row in the run history.

Each unit of work is a :class:`~enterprise_data_engineering.data_pipelines.PipelineStage`
of one :class:`~enterprise_data_engineering.data_pipelines.Pipeline`: reading a source,
computing a step, staging sinks, auditing, publishing.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from sqlglot import exp

from enterprise_data_engineering.checks.base import BoundCheck, CheckResult
from enterprise_data_engineering.checks.evaluate import apply_quarantine, evaluate_checks
from enterprise_data_engineering.data_pipelines.core import (
    Pipeline,
    PipelineContext,
    PipelineStage,
    PipelineStatus,
    new_run_id,
)
from enterprise_data_engineering.engines.base import Engine, EngineSettings, WriteRequest
from enterprise_data_engineering.engines.registry import create_engine
from enterprise_data_engineering.errors import (
    ConfigError,
    DataQualityError,
    EdeError,
    EdeRuntimeError,
    RetryableError,
    SpecError,
)
from enterprise_data_engineering.planning.plan import Plan, SinkNode, StepNode, build_plan
from enterprise_data_engineering.runtime.console import RunConsole
from enterprise_data_engineering.runtime.secrets import default_secret_resolver
from enterprise_data_engineering.spec.interpolation import (
    Redactor,
    SecretResolver,
)
from enterprise_data_engineering.spec.loader import load_spec, parse_param_overrides, read_spec
from enterprise_data_engineering.storage.base import PublishMode, StagedSink, storage_for
from enterprise_data_engineering.transforms.base import Relation, TransformError


@dataclass
class RunOptions:
    """Options of one run (the ``ede run`` flags)."""

    engine: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    select: Sequence[str] = ()
    secrets: SecretResolver | None = None
    record_history: bool = True
    history_path: Path | None = None
    #: Spark master URL; else ``EDE_SPARK_MASTER``, else the spec's ``spark.master``
    spark_master: str | None = None
    #: ``--param NAME=VALUE`` options as given, applied after `params`; parsed by the run so
    #: that a malformed one is reported (JSON, status file, history) like any other error
    param_args: Sequence[str] = ()
    #: a command-line error found before the run (e.g. a bad ``--output-format``): the run
    #: fails with it (exit 1) but still reports, writes the status file and records history
    usage_error: str | None = None


@dataclass
class _StepContext:
    """The :class:`TransformContext` handed to transforms."""

    run_id: str
    started_at: datetime
    engine: Engine

    def fetch_one(self, query: exp.Select) -> tuple[Any, ...]:
        rows = self.engine.fetch(query)
        return rows[0] if rows else ()


@dataclass
class _Output:
    """A staged output waiting to be published."""

    name: str
    staged: StagedSink
    mode: PublishMode
    path: str
    rows: int
    format: str
    quarantine: bool = False


_log = logging.getLogger("ede.runtime")

_INTERRUPTED = "the run was interrupted ({}); nothing was published"


@dataclass
class _Interruption:
    """Whether the run was interrupted, and the engine to stop when it is."""

    reason: str | None = None
    engine: Engine | None = None
    #: while the sinks are being published a signal is only recorded: publishing runs to
    #: the end, so that every sink of the run is published, not some of them
    defer: bool = False


@contextmanager
def _interruptible(state: _Interruption) -> Iterator[None]:
    """Turn SIGTERM and SIGINT (Ctrl-C) into an interruption: the query stops, staging goes.

    A query running inside an engine may swallow the exception a signal handler raises, so
    the handler also records the signal and asks the engine to stop; the runner then reports
    exit 7 (safe to rerun) whatever error the engine raised. While the sinks are published
    the signal is only recorded (see `_Interruption.defer`), for both signals alike. SIGKILL
    cannot be caught: the next run's recovery removes what a killed run left.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        reason = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
        state.reason = reason
        if state.defer:
            return
        if state.engine is not None:
            state.engine.interrupt()
        raise RetryableError(_INTERRUPTED.format(reason))

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    except ValueError:  # not in the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


#: report fields ede fills in itself (CONTRACT §5) or that are identifiers validated in the
#: spec: never redacted, so that a short secret value cannot garble them (`succ***ded`)
_STRUCTURAL_FIELDS = frozenset(
    {
        "pipeline", "run_id", "engine", "status", "exit_code", "started_at", "finished_at",
        "duration_s", "name", "table", "check", "severity", "rows", "failing_rows",
        "selected", "kind",
    }
)  # fmt: skip


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _step_query(step: StepNode, engine: Engine, ctx: _StepContext, plan: Plan) -> exp.Query:
    """The SELECT computing ``step``: its SQL or input, then each transform in turn."""
    if step.query is not None:
        query: exp.Query = step.query.copy()
    else:
        assert step.spec.input is not None
        query = exp.select("*").from_(
            exp.Table(this=exp.to_identifier(step.spec.input, quoted=True))
        )
    for i, call in enumerate(step.transforms):
        relation = Relation(
            source=query.subquery(exp.to_identifier(f"_ede_t{i}", quoted=True)),
            columns=tuple(engine.columns(query)),
        )
        try:
            query = call.transform.apply(relation, call.args, ctx)
        except TransformError as exc:
            raise SpecError.single(
                f"step `{step.name}`: transform `{call.name}`: {exc}", plan.position(call.loc)
            ) from exc
    return query


class Runner:
    """Runs one plan on one engine and produces its report."""

    def __init__(
        self,
        plan: Plan,
        engine_name: str,
        console: RunConsole,
        redactor: Redactor,
        run_id: str,
        started_at: datetime,
        interruption: _Interruption | None = None,
    ) -> None:
        self.plan = plan
        self.engine_name = engine_name
        self.console = console
        self.redactor = redactor
        self.run_id = run_id
        self.started_at = started_at
        self.engine: Engine | None = None
        self.interruption = interruption or _Interruption()
        self.warnings: list[str] = []
        self.published = False
        self.outputs: list[_Output] = []
        self.check_results: list[CheckResult] = []
        self.step_stats: dict[str, dict[str, Any]] = {}

    # -- stages ---------------------------------------------------------------------------
    def _engine(self) -> Engine:
        assert self.engine is not None
        return self.engine

    def _read_stage(self, name: str, _ctx: PipelineContext) -> None:
        self._read(name)

    def _compute_stage(self, step: StepNode, _ctx: PipelineContext) -> int:
        return self._compute(step)

    def _read(self, name: str) -> None:
        self._engine().read(self.plan.sources[name].request)
        quarantine = [c for c in self.plan.checks if c.table == name and c.quarantines]
        if quarantine:
            self._quarantine(name, quarantine, 0)

    def _compute(self, step: StepNode) -> int:
        engine = self._engine()
        ctx = _StepContext(self.run_id, self.started_at, engine)
        try:
            query = _step_query(step, engine, ctx, self.plan)
            rows = engine.execute(step.name, query)
        except SpecError:
            raise
        except ConfigError as exc:  # e.g. a binder error in user SQL: point at the step
            raise SpecError.single(str(exc), self.plan.position((*step.loc, "name"))) from exc
        quarantine = [c for c in self.plan.checks if c.table == step.name and c.quarantines]
        if quarantine:
            rows = self._quarantine(step.name, quarantine, rows)
        self.step_stats[step.name] = {"rows": rows}
        return rows

    def _check_error(self, exc: ConfigError, checks: list[BoundCheck]) -> SpecError:
        """A check that cannot run (e.g. an unknown column), pointed at in the spec."""
        culprit = next((c for c in checks if f"`{c.name}`" in str(exc)), checks[0])
        return SpecError.single(str(exc), self.plan.position(("checks", culprit.index)))

    def _quarantine(self, table: str, checks: list[BoundCheck], rows: int) -> int:
        try:
            outcome = apply_quarantine(self._engine(), table, checks, self.run_id)
        except ConfigError as exc:
            raise self._check_error(exc, checks) from exc
        self.check_results.extend(outcome.results)
        if outcome.quarantine_table is not None and outcome.quarantined_rows > 0:
            qspec = self.plan.loaded.spec.quarantine
            target = (
                str(Path(self.plan.quarantine_path) / table)
                if "://" not in self.plan.quarantine_path
                else f"{self.plan.quarantine_path.rstrip('/')}/{table}"
            )
            self._stage(
                f"quarantine/{table}",
                outcome.quarantine_table,
                target,
                qspec.format,
                "append",
                (),
                {},
                quarantine=True,
            )
        return rows - outcome.quarantined_rows

    def _stage(
        self,
        name: str,
        table: str,
        path: str,
        fmt: str,
        mode: PublishMode,
        partition_by: Sequence[str],
        options: Mapping[str, Any],
        *,
        quarantine: bool = False,
    ) -> int:
        storage = storage_for(path)
        staged = storage.stage(path, self.run_id, name.replace("/", "__"))
        out = _Output(name, staged, mode, path, 0, fmt, quarantine)
        self.outputs.append(out)
        out.rows = self._engine().write(
            WriteRequest(
                table,
                fmt,
                staged.path,
                tuple(partition_by),
                dict(options),
                file_prefix=f"part-{self.run_id}",
            )
        )
        return out.rows

    def _check_partition_columns(self) -> None:
        """Every ``partition_by`` column is a column of its table, and not all of them are
        (else a spec error)."""
        for sink in self.plan.sinks:
            if not sink.spec.partition_by:
                continue
            table = exp.Table(this=exp.to_identifier(sink.name, quoted=True))
            columns = [c.name for c in self._engine().columns(exp.select("*").from_(table))]
            known = {name.casefold() for name in columns}
            for i, name in enumerate(sink.spec.partition_by):
                if name.casefold() not in known:
                    raise SpecError.single(
                        f"sink `{sink.name}`: partition column `{name}` is not a column of "
                        f"`{sink.name}` (columns: {', '.join(f'`{c}`' for c in columns)})",
                        self.plan.position(("sinks", sink.name, "partition_by", i)),
                    )
            if known <= {name.casefold() for name in sink.spec.partition_by}:
                raise SpecError.single(
                    f"sink `{sink.name}`: `partition_by` names every column of `{sink.name}`; "
                    "the files would hold no column (leave at least one out)",
                    self.plan.position(("sinks", sink.name, "partition_by")),
                )

    def _write_sinks(self, ctx: PipelineContext) -> None:
        self._check_partition_columns()  # before anything is staged
        total = 0
        for sink in self.plan.sinks:
            total += self._stage(
                sink.name,
                sink.name,
                sink.path,
                sink.spec.format,
                sink.spec.mode,
                sink.spec.partition_by,
                sink.spec.options,
            )
        ctx.record("stage sinks", rows_written=total)

    def _audit(self, _ctx: PipelineContext) -> None:
        engine = self._engine()
        by_table: dict[str, list[BoundCheck]] = {}
        for chk in self.plan.checks:
            if not chk.quarantines:
                by_table.setdefault(chk.table, []).append(chk)
        for table, checks in by_table.items():
            try:
                self.check_results.extend(evaluate_checks(engine, table, checks))
            except ConfigError as exc:
                raise self._check_error(exc, checks) from exc
        failed = [
            r
            for r in self.check_results
            if r.status == "failed" and r.severity == "error" and r.on_fail != "quarantine"
        ]
        if failed:
            names = ", ".join(f"`{r.name}` ({r.failing_rows:,} failing rows)" for r in failed)
            raise DataQualityError(
                f"{len(failed)} error check(s) failed: {names}; nothing was published"
            )

    def _publish(self, _ctx: PipelineContext) -> None:
        if self.interruption.reason is not None:  # interrupted before publishing began
            raise RetryableError(_INTERRUPTED.format(self.interruption.reason))
        self.interruption.defer = True
        try:
            for out in self.outputs:
                storage_for(out.path).publish(out.staged, out.mode)
            self.published = True
        finally:
            self.interruption.defer = False
        if self.interruption.reason is not None:
            self.warnings.append(
                f"{self.interruption.reason} arrived while publishing: publishing was completed"
            )

    def _catalog(self, _ctx: PipelineContext) -> None:
        for sink in self.plan.sinks:
            if sink.spec.catalog is not None:
                try:
                    self._register_in_catalog(sink)
                except EdeError as exc:
                    exc.message = (
                        f"the sinks were published, but catalog table "
                        f"`{sink.spec.catalog.database}.{sink.spec.catalog.table}` "
                        f"was not updated: {exc.message}"
                    )
                    exc.args = (exc.message,)
                    raise

    def _register_in_catalog(self, sink: SinkNode) -> None:
        """Create or update the sink's Glue table (schema, location, format, partitions)."""
        from enterprise_data_engineering.aws.glue import register_sink

        assert sink.spec.catalog is not None
        table = exp.Table(this=exp.to_identifier(sink.name, quoted=True))
        columns = self._engine().columns(exp.select("*").from_(table))
        register_sink(
            database=sink.spec.catalog.database,
            table=sink.spec.catalog.table,
            path=sink.path,
            format=sink.spec.format,
            columns=columns,
            partition_by=list(sink.spec.partition_by),
            description=sink.spec.catalog.description,
            options=dict(sink.spec.options),
        )

    def _discard(self) -> None:
        for out in self.outputs:
            # Whatever cannot be removed now is removed by the next run's recovery.
            with contextlib.suppress(EdeError):
                storage_for(out.path).discard(out.staged)

    # -- the run --------------------------------------------------------------------------
    def stages(self) -> list[PipelineStage]:
        """The stages of this run, in order."""
        stages = [
            PipelineStage(name, functools.partial(self._read_stage, name), "source")
            for name in self.plan.sources
        ]
        stages += [
            PipelineStage(step.name, functools.partial(self._compute_stage, step), "step")
            for step in self.plan.steps
        ]
        stages.append(PipelineStage("stage sinks", self._write_sinks, "write"))
        stages.append(PipelineStage("audit", self._audit, "audit"))
        stages.append(PipelineStage("publish", self._publish, "publish"))
        if any(s.spec.catalog is not None for s in self.plan.sinks):
            stages.append(PipelineStage("catalog", self._catalog, "catalog"))
        return stages

    def run(
        self, settings: EngineSettings
    ) -> tuple[PipelineStatus, EdeError | None, dict[str, float]]:
        """Recover leftovers, run every stage, publish or discard; return status and error."""
        for path in [s.path for s in self.plan.sinks]:
            storage_for(path).recover(path)
        durations: dict[str, float] = {}
        pipeline = Pipeline(self.plan.name, self.stages())
        stages = pipeline.stages
        self.console.run_started(self.plan.name, self.run_id, self.engine_name, len(stages))
        ctx = PipelineContext(
            execution_id=self.run_id,
            parameters=dict(self.plan.loaded.spec.params),
            started_at=self.started_at,
        )
        result = None
        error: EdeError | None = None
        try:
            self.engine = create_engine(self.engine_name, settings)
            self.interruption.engine = self.engine
            try:
                result = pipeline.run(ctx, observer=self.console)
                error = result.error
            except KeyboardInterrupt:
                self.interruption.reason = "Ctrl-C"
        except EdeError as exc:
            error = exc
        finally:
            if self.interruption.reason is not None and not self.published:
                error = RetryableError(_INTERRUPTED.format(self.interruption.reason))
            if error is not None and not self.published:
                self._discard()
            if self.engine is not None:
                self.engine.close()
        if result is not None:
            for stage in result.stages:
                durations[stage.name] = stage.duration_s
                if stage.kind == "step" and stage.name in self.step_stats:
                    self.step_stats[stage.name]["duration_s"] = round(stage.duration_s, 3)
        status = PipelineStatus.FAILED if error is not None else PipelineStatus.SUCCEEDED
        return status, error, durations


def run_pipeline(
    spec_path: str | Path,
    options: RunOptions | None = None,
    console: RunConsole | None = None,
) -> dict[str, Any]:
    """Run the pipeline in ``spec_path`` and return its report (CONTRACT §5).

    Never raises for a failed run: the report's ``status``, ``exit_code`` and ``error`` say
    what happened, and the run is recorded in the history.

    Example:
        >>> report = run_pipeline("examples/orders_daily/pipeline.yaml")  # doctest: +SKIP
        >>> report["status"], report["exit_code"]  # doctest: +SKIP
        ('succeeded', 0)
    """
    opts = options or RunOptions()
    con = console or RunConsole()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    run_id = new_run_id(started)
    redactor = Redactor()
    pipeline_name = Path(spec_path).stem
    engine_name = opts.engine or "duckdb"
    params: dict[str, Any] = dict(opts.params)
    report: dict[str, Any] = {}
    plan: Plan | None = None
    runner: Runner | None = None
    error: EdeError | None = None
    interruption = _Interruption()
    with _interruptible(interruption):
        try:
            doc = read_spec(spec_path)
            # Until the spec is resolved (which may fail, e.g. on a secret), the report gives
            # its name, engine and params as written, with the overrides known so far.
            pipeline_name = doc.name or pipeline_name
            engine_name = opts.engine or doc.engine or engine_name
            params = doc.params(opts.params)
            overrides = {**opts.params, **parse_param_overrides(list(opts.param_args))}
            params = doc.params(overrides)
            if opts.usage_error:
                raise ConfigError(opts.usage_error)
            loaded = load_spec(
                doc, params=overrides, secrets=opts.secrets or default_secret_resolver()
            )
            redactor = loaded.redactor
            pipeline_name = loaded.spec.name or pipeline_name
            params = dict(loaded.spec.params)
            if opts.engine:  # a bad --engine is the command line's error, not the spec's
                from enterprise_data_engineering.engines.registry import engine_class

                engine_class(opts.engine)
            engine_name = opts.engine or loaded.spec.engine or "duckdb"
            loaded.spec.engine = engine_name  # validate for the engine that will run it
            plan = build_plan(loaded)
            if opts.select:
                plan = plan.select(opts.select)
            duck = loaded.spec.duckdb
            settings = EngineSettings(
                memory_limit=duck.memory_limit,
                temp_directory=loaded.resolve_path(duck.temp_directory)
                if duck.temp_directory
                else None,
                threads=duck.threads,
                master=opts.spark_master
                or os.environ.get("EDE_SPARK_MASTER")
                or loaded.spec.spark.master,
                app_name=loaded.spec.spark.app_name or f"ede-{pipeline_name}",
                conf=dict(loaded.spec.spark.conf),
            )
            runner = Runner(plan, engine_name, con, redactor, run_id, started, interruption)
            _status, error, _ = runner.run(settings)
        except EdeError as exc:
            published = runner is not None and runner.published
            error = (
                RetryableError(_INTERRUPTED.format(interruption.reason))
                if interruption.reason and not published
                else exc
            )
        except KeyboardInterrupt:
            error = RetryableError(_INTERRUPTED.format("Ctrl-C"))
        except Exception as exc:  # a bug or an unexpected library error: still report it
            _log.debug("unexpected error", exc_info=True)
            error = EdeRuntimeError(f"unexpected {type(exc).__name__}: {exc}")
            error.__cause__ = exc
    finished = datetime.now(UTC)
    steps: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    sinks: list[dict[str, Any]] = []
    if plan is not None and runner is not None:
        for step in plan.steps:
            if step.name in runner.step_stats:
                steps.append({"name": step.name, **runner.step_stats[step.name]})
        results = sorted(runner.check_results, key=lambda r: r.index)
        checks = [r.to_report() for r in results]
        if runner.published:  # published even if a later stage (the catalog) failed
            sinks = [
                {"name": o.name, "path": o.path, "rows": o.rows, "format": o.format, "mode": o.mode}
                for o in runner.outputs
                if not o.quarantine
            ]
            quarantined = [
                {"table": o.name.removeprefix("quarantine/"), "path": o.path, "rows": o.rows}
                for o in runner.outputs
                if o.quarantine
            ]
            if quarantined:
                report["quarantine"] = quarantined
    report = {
        "pipeline": pipeline_name,
        "run_id": run_id,
        "engine": engine_name,
        "status": "failed" if error else "succeeded",
        "exit_code": error.exit_code if error else 0,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_s": round(time.perf_counter() - t0, 3),
        "params": params,
        "steps": steps,
        "checks": checks,
        "sinks": sinks,
        "error": str(error) if error else None,
        **({"quarantine": report["quarantine"]} if "quarantine" in report else {}),
        "spec": str(Path(spec_path).resolve()),
        "selected": list(opts.select),
    }
    if runner is not None and runner.warnings:
        report["warnings"] = list(runner.warnings)
    report = redactor.value(report, _STRUCTURAL_FIELDS)
    if opts.record_history:
        from enterprise_data_engineering.runtime.history import RunHistory

        try:
            RunHistory(opts.history_path).record(report)
        except EdeError as exc:
            report.setdefault("warnings", []).append(
                redactor.text(f"run history not recorded: {exc}")
            )
    try:
        con.run_finished(report)
    except Exception as exc:  # showing the report must not turn a finished run into a failure
        _log.debug("console failed", exc_info=True)
        print(f"warning: could not display the run report: {exc}", file=sys.stderr)
    return report
