"""The seed's programmatic framework: Python stages share a context and get exit codes."""

from __future__ import annotations

import pytest

from enterprise_data_engineering.data_pipelines import (
    Pipeline,
    PipelineContext,
    PipelineStage,
    PipelineStatus,
)
from enterprise_data_engineering.errors import DataQualityError, EdeError


def test_stages_share_context_metrics_and_artifacts() -> None:
    def extract(ctx: PipelineContext) -> int:
        ctx.artifacts["rows"] = [1, 2, 3, -1]
        return 4

    def clean(ctx: PipelineContext) -> int:
        ctx.artifacts["rows"] = [r for r in ctx.artifacts["rows"] if r >= ctx.parameters["min"]]
        return len(ctx.artifacts["rows"])

    pipeline = Pipeline("py", [PipelineStage("extract", extract), PipelineStage("clean", clean)])
    result = pipeline.run(parameters={"min": 0})
    assert result.status == PipelineStatus.SUCCEEDED and result.exit_code == 0
    assert result.metrics["extract"]["rows"] == 4 and result.metrics["clean"]["rows"] == 3
    report = result.to_report()
    assert report["status"] == "succeeded" and report["params"] == {"min": 0}
    assert [s["name"] for s in report["steps"]] == ["extract", "clean"]
    assert report["run_id"] == result.context.run_id


def test_a_failing_stage_keeps_its_exit_code_and_skips_the_rest() -> None:
    def check(ctx: PipelineContext) -> None:
        raise DataQualityError("amount < 0 in 1 row")

    calls: list[str] = []
    pipeline = Pipeline(
        "py", [PipelineStage("check", check), PipelineStage("load", lambda c: calls.append("x"))]
    )
    result = pipeline.run()
    assert result.status == PipelineStatus.FAILED and result.exit_code == 8
    assert [s.status for s in result.stages] == [PipelineStatus.FAILED, PipelineStatus.SKIPPED]
    assert calls == []
    assert result.to_report()["error"] == "amount < 0 in 1 row"
    with pytest.raises(DataQualityError):
        pipeline.run(raise_errors=True)


def test_unexpected_exceptions_become_runtime_errors() -> None:
    result = Pipeline("py", [PipelineStage("boom", lambda c: 1 / 0)]).run()
    assert result.exit_code == 2
    assert isinstance(result.error, EdeError) and "boom" in str(result.error)


def test_only_a_real_int_is_a_row_count_and_the_cli_console_observes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from enterprise_data_engineering.runtime.console import RichRunConsole

    stages = [
        PipelineStage("flag", lambda ctx: True, kind="step"),
        PipelineStage("count", lambda ctx: 4, kind="step"),
    ]
    result = Pipeline("p", stages).run(observer=RichRunConsole())
    assert [s.rows for s in result.stages] == [None, 4]
    assert [s["rows"] for s in result.to_report()["steps"]] == [None, 4]
    out = capsys.readouterr().out
    assert "flag" in out and "4 rows" in out  # usable as an observer on its own


def test_parameters_override_those_of_a_given_context() -> None:
    seen: dict[str, object] = {}
    ctx = PipelineContext(parameters={"min": 0, "region": "eu"})
    stage = PipelineStage("look", lambda c: seen.update(c.parameters))
    result = Pipeline("py", [stage]).run(ctx, parameters={"min": 5})
    assert seen == {"min": 5, "region": "eu"}
    assert result.to_report()["params"] == {"min": 5, "region": "eu"}
