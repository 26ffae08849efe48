"""The seed's programmatic framework: compose a pipeline from Python stages.

``Pipeline``, ``PipelineStage``, ``PipelineContext`` and ``PipelineStatus`` are the runtime's
vocabulary: ``ede run`` executes every YAML step as a stage of a :class:`Pipeline`, and a
user may compose Python stages and get the same context, metrics, report and exit codes.

Example:
    >>> from enterprise_data_engineering.data_pipelines import Pipeline, PipelineStage
    >>> def extract(ctx):
    ...     ctx.artifacts["rows"] = [1, 2, 3]
    ...     return len(ctx.artifacts["rows"])
    >>> pipeline = Pipeline("demo", [PipelineStage("extract", extract)])
    >>> result = pipeline.run()
    >>> result.status.value, result.metrics["extract"]["rows"]
    ('succeeded', 3)
"""

from __future__ import annotations

from enterprise_data_engineering.data_pipelines.core import (
    Pipeline,
    PipelineContext,
    PipelineResult,
    PipelineStage,
    PipelineStatus,
    StageResult,
)

__all__ = [
    "Pipeline",
    "PipelineContext",
    "PipelineResult",
    "PipelineStage",
    "PipelineStatus",
    "StageResult",
]
