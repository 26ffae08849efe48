"""Faults against a real S3 API: outages mid-run, refused credentials, throttling and 5xx.

Retries are botocore's (``standard`` mode, exponential backoff with jitter); the tests set
``AWS_MAX_ATTEMPTS=2`` where the outcome is a failure, so they stay fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto_helpers import REGION, FaultProxy, etags, free_port, keys

from conftest import AuthServer, AwsEnv, endpoint_of, start_moto
from enterprise_data_engineering.aws import session
from enterprise_data_engineering.engines.duckdb import DuckDBEngine
from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline
from enterprise_data_engineering.storage.s3 import S3Storage

pytestmark = pytest.mark.aws

RunCli = Any

SPEC = """\
name: faults
sources:
  orders: {{format: csv, path: "{source}"}}
steps:
  - name: by_region
    sql: SELECT region, sum(amount) AS amount, count(*) AS n FROM orders GROUP BY region
sinks:
  by_region: {{format: parquet, path: "s3://{bucket}/out/by_region", partition_by: [region]}}
"""
ORDERS = "order_id,region,amount\n1,eu,10\n2,us,20\n3,eu,5\n"


@pytest.fixture
def pipeline(s3: Any, bucket: str, tmp_path: Path) -> dict[str, Any]:
    """Orders in S3, and a sink that holds the output of an earlier run."""
    s3.put_object(Bucket=bucket, Key="in/orders.csv", Body=ORDERS.encode())
    s3.put_object(Bucket=bucket, Key="out/by_region/region=eu/part-old-0.parquet", Body=b"old")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC.format(source=f"s3://{bucket}/in/*.csv", bucket=bucket))
    return {"bucket": bucket, "spec": spec, "before": etags(s3, bucket, "out/")}


def run(spec: Path) -> dict[str, Any]:
    return run_pipeline(spec, RunOptions(record_history=False))


def assert_clean_rerun(aws_env: AwsEnv, s3: Any, pipeline: dict[str, Any]) -> None:
    """The next run, once the service is back, works without clean-up and leaves no trace."""
    aws_env.use()
    time.sleep(2.2)  # the failed run's lease (EDE_S3_LEASE_TTL=1) expires
    report = run(pipeline["spec"])
    assert report["exit_code"] == 0, report["error"]
    run_id = report["run_id"]
    assert keys(s3, pipeline["bucket"], "out/") == [
        f"out/by_region/region=eu/part-{run_id}-0.parquet",
        f"out/by_region/region=us/part-{run_id}-0.parquet",
    ]


@pytest.mark.parametrize("when", ["compute", "staging", "publish"])
def test_server_stopped_mid_run_is_exit_5_with_nothing_published(
    when: str,
    aws_env: AwsEnv,
    s3: Any,
    pipeline: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_moto()  # shares the session server's buckets; this one goes away
    aws_env.use(endpoint_of(server), AWS_MAX_ATTEMPTS="2", EDE_S3_LEASE_TTL="1")
    stopped: list[bool] = []

    def stop() -> None:
        if not stopped:
            server.stop()
            stopped.append(True)

    if when == "compute":  # sources opened; the step reads them from S3 when it dies
        real_execute = DuckDBEngine.execute

        def execute(self: DuckDBEngine, name: str, query: Any) -> int:
            stop()
            return real_execute(self, name, query)

        monkeypatch.setattr(DuckDBEngine, "execute", execute)
    elif when == "staging":  # tables computed; the engine writes the sink to S3 when it dies
        real_write = DuckDBEngine.write

        def write(self: DuckDBEngine, request: Any) -> int:
            stop()
            return real_write(self, request)

        monkeypatch.setattr(DuckDBEngine, "write", write)
    else:  # staged and audited; the publish's first request meets a dead endpoint
        real_publish = S3Storage.publish

        def publish(self: S3Storage, staged: Any, mode: Any = "overwrite") -> None:
            stop()
            real_publish(self, staged, mode)

        monkeypatch.setattr(S3Storage, "publish", publish)

    report = run(pipeline["spec"])
    assert stopped
    assert report["exit_code"] == 5, report["error"]
    assert "reach" in report["error"]
    assert report["sinks"] == []
    assert etags(s3, pipeline["bucket"], "out/by_region/") == pipeline["before"]
    monkeypatch.undo()
    aws_env.use()
    assert_clean_rerun(aws_env, s3, pipeline)


def test_unreachable_endpoint_is_exit_5(pipeline: dict[str, Any], ede: RunCli) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = ede(
        "run", pipeline["spec"], env={"AWS_ENDPOINT_URL": dead, "AWS_MAX_ATTEMPTS": "2"}
    )
    assert code == 5, err
    assert "Traceback" not in err


@pytest.fixture
def locked(auth_server: AuthServer, tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "orders.csv").write_text(ORDERS)
    spec = tmp_path / "locked.yaml"
    spec.write_text(SPEC.format(source="orders.csv", bucket=auth_server.bucket))
    admin = boto3.Session(
        aws_access_key_id=auth_server.admin_key[0],
        aws_secret_access_key=auth_server.admin_key[1],
        region_name=REGION,
    ).client("s3", endpoint_url=auth_server.endpoint)
    return {"spec": spec, "admin": admin}


@pytest.mark.parametrize("who", ["unknown-key", "no-permission"])
def test_refused_credentials_are_exit_4_with_nothing_published(
    who: str, auth_server: AuthServer, locked: dict[str, Any], ede: RunCli
) -> None:
    key, secret = ("testing", "testing") if who == "unknown-key" else auth_server.denied_key
    code, _, err = ede(
        "run",
        locked["spec"],
        env={
            "AWS_ENDPOINT_URL": auth_server.endpoint,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
        },
    )
    assert code == 4, err
    assert "denied" in err.lower()
    assert keys(locked["admin"], auth_server.bucket) == []  # nothing published, nor staged


def test_denied_secret_is_exit_4_naming_it(
    auth_server: AuthServer, tmp_path: Path, ede: RunCli
) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    spec = tmp_path / "secret.yaml"
    spec.write_text(
        "name: s\nsources:\n  o: {format: csv, path: orders.csv}\nsteps:\n"
        f"  - name: t\n    sql: SELECT * FROM o WHERE region <> '${{secret:{auth_server.secret}"
        "#password}'\nsinks:\n  t: {format: csv, path: out/t}\n"
    )
    key, secret = auth_server.denied_key
    code, out, err = ede(
        "run",
        spec,
        env={
            "AWS_ENDPOINT_URL": auth_server.endpoint,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
        },
    )
    assert code == 4, err
    assert auth_server.secret in err
    assert "n0t-for-you" not in out + err
    assert not (tmp_path / "out").exists()


def test_unreachable_secrets_manager_is_exit_5(tmp_path: Path, ede: RunCli) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    spec = tmp_path / "secret.yaml"
    spec.write_text(
        "name: s\nsources:\n  o: {format: csv, path: orders.csv}\nsteps:\n"
        "  - name: t\n    sql: SELECT * FROM o WHERE region <> '${secret:db#password}'\n"
        "sinks:\n  t: {format: csv, path: out/t}\n"
    )
    dead = f"http://127.0.0.1:{free_port()}"
    code, _, err = ede("run", spec, env={"AWS_ENDPOINT_URL": dead, "AWS_MAX_ATTEMPTS": "2"})
    assert code == 5, err
    assert "secret `db`" in err


def test_throttling_is_retried_with_backoff(
    aws_env: AwsEnv, s3: Any, pipeline: dict[str, Any]
) -> None:
    def rule(method: str, path: str, n: int) -> tuple[int, str] | None:
        return (503, "SlowDown") if n <= 2 else None

    with FaultProxy(aws_env.endpoint, rule) as proxy:
        aws_env.use(proxy.endpoint)
        report = run(pipeline["spec"])
    assert report["exit_code"] == 0, report["error"]
    # The first request failed twice and its third attempt went through: botocore retried.
    (m1, p1, s1), (m2, p2, s2), (m3, p3, s3_) = proxy.seen[:3]
    assert (s1, s2, s3_) == (503, 503, 200)
    assert (m1, p1) == (m2, p2) == (m3, p3)
    aws_env.use()
    assert len(keys(s3, pipeline["bucket"], "out/by_region/")) == 2


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [(503, "SlowDown", 7), (500, "InternalError", 5)],
    ids=["throttled", "server-error"],
)
def test_persistent_errors_during_publish_publish_nothing(
    status: int,
    code: str,
    exit_code: int,
    aws_env: AwsEnv,
    s3: Any,
    pipeline: dict[str, Any],
) -> None:
    """Every copy into the sink fails after the journal is written: roll back, exit 5 or 7."""

    def rule(method: str, path: str, n: int) -> tuple[int, str] | None:
        into_sink = method == "PUT" and "/out/by_region/" in path
        return (status, code) if into_sink else None

    with FaultProxy(aws_env.endpoint, rule) as proxy:
        aws_env.use(proxy.endpoint, AWS_MAX_ATTEMPTS="2")
        report = run(pipeline["spec"])
    assert report["exit_code"] == exit_code, report["error"]
    failed = [s for _, p, s in proxy.seen if s == status]
    assert len(failed) >= 2  # each failing call was attempted twice (AWS_MAX_ATTEMPTS)
    aws_env.use()
    assert etags(s3, pipeline["bucket"], "out/") == pipeline["before"]  # no journal, no staging


def test_clients_use_botocore_retry_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    config = session.client("s3").meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert config.connect_timeout == session.CONNECT_TIMEOUT
    fs = session.s3_filesystem()
    assert fs.config_kwargs["retries"] == {"mode": "standard", "total_max_attempts": 5}
    assert fs.retries == 1  # s3fs's own loop is off: botocore retries
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "9")
    assert session.client("glue").meta.config.retries == {
        "mode": "adaptive",
        "total_max_attempts": 9,
    }


def test_error_translation() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from enterprise_data_engineering.errors import (
        DependencyError,
        NetworkError,
        PermissionDeniedError,
        RetryableError,
    )

    def client_error(code: str, status: int) -> ClientError:
        return ClientError(
            {
                "Error": {"Code": code, "Message": "m"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "Op",
        )

    translate = session.translate_client_error
    assert isinstance(translate(client_error("NoSuchBucket", 404), "x"), DependencyError)
    assert isinstance(translate(client_error("AccessDenied", 403), "x"), PermissionDeniedError)
    assert isinstance(translate(client_error("ExpiredToken", 400), "x"), PermissionDeniedError)
    assert isinstance(translate(client_error("ThrottlingException", 400), "x"), RetryableError)
    assert isinstance(translate(client_error("InternalError", 500), "x"), NetworkError)
    assert isinstance(translate(EndpointConnectionError(endpoint_url="u"), "x"), NetworkError)
    assert isinstance(translate(NoCredentialsError(), "x"), PermissionDeniedError)
    wrapped = PermissionError("denied")
    wrapped.__cause__ = client_error("AccessDenied", 403)
    assert isinstance(translate(wrapped, "x"), PermissionDeniedError)
    assert json.dumps(str(translate(client_error("NoSuchKey", 404), "reading `k`"))).count("k")
