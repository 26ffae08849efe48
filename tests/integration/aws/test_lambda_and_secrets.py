"""The Lambda handler end to end (spec and data in S3), secret helpers, the rotation Lambda."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from moto_helpers import keys

from enterprise_data_engineering.aws import rotation_lambda
from enterprise_data_engineering.aws import secrets as ede_secrets
from enterprise_data_engineering.aws.lambda_handler import PipelineFailed, handler
from enterprise_data_engineering.errors import ConfigError, DependencyError

pytestmark = pytest.mark.aws

SPEC = """\
name: lambda_orders
params: {min_amount: 0}
sources:
  orders: {format: csv, path: data/orders/*.csv}
steps:
  - name: big_orders
    input: orders
    transforms:
      - filter: "amount > ${params.min_amount}"
checks:
  - {table: big_orders, check: row_count, min: 1}
sinks:
  big_orders: {format: csv, path: ../out/big_orders}
"""


@pytest.fixture
def hosted(s3: Any, bucket: str) -> str:
    """A spec in S3 whose relative paths point beside it."""
    s3.put_object(Bucket=bucket, Key="pipelines/orders/pipeline.yaml", Body=SPEC.encode())
    s3.put_object(
        Bucket=bucket,
        Key="pipelines/orders/data/orders/a.csv",
        Body=b"order_id,amount\n1,5\n2,50\n3,500\n",
    )
    return f"s3://{bucket}/pipelines/orders/pipeline.yaml"


def test_lambda_runs_a_spec_stored_in_s3(s3: Any, bucket: str, hosted: str) -> None:
    report = handler(
        {"spec": hosted, "params": {"min_amount": 10}, "report_url": f"s3://{bucket}/r.json"},
        None,
    )
    assert report["status"] == "succeeded", report["error"]
    assert report["spec"] == hosted
    assert report["params"] == {"min_amount": 10}
    assert report["sinks"][0]["path"] == f"s3://{bucket}/pipelines/out/big_orders"
    assert report["sinks"][0]["rows"] == 2
    out = keys(s3, bucket, "pipelines/out/")
    assert len(out) == 1
    body = s3.get_object(Bucket=bucket, Key=out[0])["Body"].read().decode()
    assert body.splitlines()[1:] == ["2,50", "3,500"]
    assert keys(s3, bucket, "pipelines/.ede-staging/") == []
    uploaded = json.loads(s3.get_object(Bucket=bucket, Key="r.json")["Body"].read())
    assert uploaded["run_id"] == report["run_id"]


def test_lambda_failures_are_reports(bucket: str, hosted: str) -> None:
    missing = handler({"spec": f"s3://{bucket}/nope.yaml"})
    assert (missing["status"], missing["exit_code"]) == ("failed", 3)
    assert "nope.yaml" in missing["error"]
    assert handler({"params": {}})["exit_code"] == 1
    failed = handler({"spec": hosted, "params": {"min_amount": 10_000}})
    assert failed["exit_code"] == 8
    with pytest.raises(PipelineFailed) as info:
        handler({"spec": hosted, "params": {"min_amount": 10_000}, "raise_on_failure": True})
    assert info.value.report["exit_code"] == 8


def test_secret_helpers() -> None:
    name = f"ede/{uuid.uuid4().hex[:8]}"
    arn = ede_secrets.create_secret(name, {"user": "etl", "password": "p1", "port": 5432})
    assert arn.startswith("arn:aws:secretsmanager")
    assert ede_secrets.get_secret(name, "password") == "p1"
    assert ede_secrets.get_secret(name, "port") == "5432"
    ede_secrets.update_secret(name, {"user": "etl", "password": "p2"})
    assert ede_secrets.get_secret(name, "password") == "p2"
    assert ede_secrets.get_secret(name, "password", version_stage="AWSPREVIOUS") == "p1"
    listed = ede_secrets.list_secrets(prefix="ede/")
    assert name in [s.name for s in listed]
    assert "p2" not in repr(listed)
    with pytest.raises(DependencyError, match="no field `nope`"):
        ede_secrets.get_secret(name, "nope")
    with pytest.raises(ConfigError):
        ede_secrets.delete_secret(name, recovery_days=3)
    ede_secrets.delete_secret(name, force=True)
    with pytest.raises(DependencyError, match=f"secret `{name}` does not exist"):
        ede_secrets.get_secret(name)


def test_resolver_caches_per_run() -> None:
    name = f"ede/{uuid.uuid4().hex[:8]}"
    ede_secrets.create_secret(name, {"password": "first"})
    resolver = ede_secrets.SecretsManagerResolver()
    assert resolver.resolve(name, "password") == "first"
    ede_secrets.update_secret(name, {"password": "second"})
    assert resolver.resolve(name, "password") == "first"  # one run sees one value
    assert ede_secrets.SecretsManagerResolver().resolve(name, "password") == "second"
    ede_secrets.create_secret(f"{name}-plain", "just text")
    with pytest.raises(DependencyError, match="is not a JSON object") as info:
        ede_secrets.SecretsManagerResolver().resolve(f"{name}-plain", "password")
    assert "just text" not in str(info.value)


def test_rotation_lambda_four_steps(secrets: Any) -> None:
    name = f"ede/rotated-{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=name, SecretString=json.dumps({"user": "etl", "password": "old"}))
    # Enable rotation the way Secrets Manager records it (moto cannot invoke a Lambda here).
    secrets.rotate_secret(
        SecretId=name, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False
    )
    token = str(uuid.uuid4())
    for step in rotation_lambda.STEPS:
        rotation_lambda.lambda_handler(
            {"Step": step, "SecretId": name, "ClientRequestToken": token}, None
        )
        if step == "createSecret":  # idempotent: a retried step changes nothing
            pending = secrets.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
            rotation_lambda.lambda_handler(
                {"Step": step, "SecretId": name, "ClientRequestToken": token}, None
            )
            again = secrets.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
            assert again["SecretString"] == pending["SecretString"]
    current = json.loads(
        secrets.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
    )
    assert current == json.loads(ede_secrets.get_secret(name))
    assert current["user"] == "etl"
    assert current["password"] != "old" and len(current["password"]) == 32
    previous = secrets.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert json.loads(previous["SecretString"])["password"] == "old"
