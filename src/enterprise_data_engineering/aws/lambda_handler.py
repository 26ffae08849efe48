"""Run a pipeline on AWS Lambda: the spec in S3, parameters from the event, the report returned.

The function's handler is ``enterprise_data_engineering.aws.lambda_handler.handler``. An
event (from EventBridge Scheduler, Step Functions, an S3 notification rule, ``aws lambda
invoke``)::

    {
      "spec": "s3://my-pipelines/orders_daily/pipeline.yaml",
      "params": {"run_date": "2026-11-28"},
      "engine": "duckdb",
      "select": [],
      "report_url": "s3://my-pipelines/reports/orders_daily/latest.json",
      "raise_on_failure": false
    }

Only ``spec`` is required. The spec file is downloaded alone; its relative paths (sources,
sinks, quarantine) resolve against the spec's S3 folder, so ``path: data/orders/*.csv`` in
``s3://my-pipelines/orders_daily/pipeline.yaml`` reads
``s3://my-pipelines/orders_daily/data/orders/*.csv`` (absolute ``s3://`` paths work as
everywhere). A ``spec`` that is not an ``s3://`` URL is a path inside the function's image.

The handler returns the run report (CONTRACT §5, secrets redacted) with ``spec`` set to the
URL. A failed run is a *returned* report with ``status: failed`` and its ``exit_code``, so
that a Step Functions ``Choice`` can branch on it; with ``"raise_on_failure": true`` it
raises `PipelineFailed` instead (Lambda then reports a function error and may retry).
``report_url`` also writes the report there. Run history is not kept (a Lambda's disk does
not outlive it) unless ``"record_history": true`` (then under ``/tmp/ede``, or ``EDE_HOME``).

The function needs the ``[aws]`` extra, ``/tmp`` space for DuckDB's spill files, and the IAM
permissions listed in ``docs/aws.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from enterprise_data_engineering.errors import ConfigError, EdeError

#: a run report, as `run_pipeline` returns it
Report = dict[str, Any]


class PipelineFailed(Exception):
    """Raised by `handler` for a failed run when the event says ``raise_on_failure``."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"exit {report.get('exit_code')}: {report.get('error')}")
        self.report = report


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failed_report(event: Mapping[str, Any], error: EdeError, started: datetime) -> Report:
    """The report of a run that failed before the pipeline could start."""
    from enterprise_data_engineering.data_pipelines.core import new_run_id

    spec = str(event.get("spec") or "")
    params = event.get("params")
    finished = datetime.now(UTC)
    return {
        "pipeline": PurePosixPath(spec).stem or "pipeline",
        "run_id": new_run_id(started),
        "engine": str(event.get("engine") or "duckdb"),
        "status": "failed",
        "exit_code": error.exit_code,
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "duration_s": round((finished - started).total_seconds(), 3),
        "params": dict(params) if isinstance(params, Mapping) else {},
        "steps": [],
        "checks": [],
        "sinks": [],
        "error": str(error),
        "spec": spec,
    }


def _check_event(event: Any) -> None:
    if not isinstance(event, Mapping):
        raise ConfigError("the Lambda event must be a JSON object with a `spec` field")
    if not isinstance(event.get("spec"), str) or not event["spec"]:
        raise ConfigError('the Lambda event needs `spec`: "s3://bucket/path/pipeline.yaml"')
    for key, kind in (("params", Mapping), ("select", list)):
        if event.get(key) is not None and not isinstance(event[key], kind):
            raise ConfigError(f"the Lambda event's `{key}` must be a JSON {kind.__name__.lower()}")
    if event.get("engine") is not None and not isinstance(event["engine"], str):
        raise ConfigError("the Lambda event's `engine` must be a string")


def fetch_spec(url: str, folder: Path) -> tuple[Path, str]:
    """Download the spec at ``url`` into ``folder``; return the local file and the base URL.

    Raises:
        DependencyError: the object or bucket does not exist (exit 3).
        PermissionDeniedError: reading it is refused (exit 4).
        NetworkError: S3 cannot be reached after retries (exit 5).
    """
    from enterprise_data_engineering.aws.session import client, translate_client_error
    from enterprise_data_engineering.storage.s3 import split_url

    bucket, key = split_url(url)
    if not key or key.endswith("/"):
        raise ConfigError(f"`{url}` names a folder; `spec` must name the spec file")
    name = PurePosixPath(key).name
    local = folder / name
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise translate_client_error(exc, f"reading spec `{url}`") from exc
    local.write_bytes(body)
    parent = str(PurePosixPath(key).parent)
    base = f"s3://{bucket}/" + ("" if parent in (".", "") else parent + "/")
    return local, base


def _upload_report(url: str, report: Report) -> None:
    from enterprise_data_engineering.aws.session import client, translate_client_error
    from enterprise_data_engineering.storage.s3 import split_url

    bucket, key = split_url(url)
    try:
        client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(report, indent=2).encode(),
            ContentType="application/json",
        )
    except Exception as exc:
        raise translate_client_error(exc, f"writing the report to `{url}`") from exc


def run_event(event: Mapping[str, Any]) -> Report:
    """Run the pipeline an event names and return its report (never raises for a failure)."""
    from enterprise_data_engineering.runtime.console import RunConsole
    from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline
    from enterprise_data_engineering.spec.loader import spec_base_url

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        _check_event(event)
        spec = str(event["spec"])
        record = bool(event.get("record_history", False))
        history = None
        if record and not os.environ.get("EDE_HOME"):
            history = Path(tempfile.gettempdir()) / "ede" / "history.sqlite3"
            history.parent.mkdir(parents=True, exist_ok=True)
        options = RunOptions(
            engine=event.get("engine"),
            params=dict(event.get("params") or {}),
            select=list(event.get("select") or []),
            record_history=record,
            history_path=history,
        )
        with tempfile.TemporaryDirectory(prefix="ede-spec-") as tmp:
            if spec.startswith(("s3://", "s3a://")):
                local, base = fetch_spec(spec, Path(tmp))
            else:
                local, base = Path(spec), None
            with spec_base_url(base):
                report = run_pipeline(local, options, RunConsole())
        report["spec"] = spec
    except EdeError as exc:
        report = _failed_report(event if isinstance(event, Mapping) else {}, exc, started)
        report["duration_s"] = round(time.perf_counter() - t0, 3)
    url = event.get("report_url") if isinstance(event, Mapping) else None
    if isinstance(url, str) and url:
        try:
            _upload_report(url, report)
        except EdeError as exc:
            report.setdefault("warnings", []).append(str(exc))
    return report


def handler(event: Mapping[str, Any], context: Any = None) -> Report:
    """The AWS Lambda entry point: run the event's pipeline, return its report.

    Raises:
        PipelineFailed: the run failed and the event says ``"raise_on_failure": true``.
    """
    report = run_event(event)
    failed = report.get("status") != "succeeded"
    if failed and isinstance(event, Mapping) and event.get("raise_on_failure"):
        raise PipelineFailed(report)
    return report


__all__ = ["PipelineFailed", "Report", "fetch_spec", "handler", "run_event"]
