"""The AWS region comes from ``AWS_REGION`` too, which botocore alone ignores (CONTRACT §4).

The AWS CLI v2 and SDK order is ``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the
profile's ``region``. Each test points the shared config files at nothing, so a region in the
developer's own ``~/.aws/config`` cannot make a test pass.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from moto_helpers import REGION

from conftest import AwsEnv
from enterprise_data_engineering.aws import session

RunCli = Any  # the `ede` fixture of tests/conftest.py

pytestmark = pytest.mark.aws

#: a region where the test's secret does not exist (moto keeps secrets per region)
OTHER_REGION = "eu-west-3"
SECRET_VALUE = "r3gion-Only-pw-77"

SPEC = """\
name: region_chain
sources:
  orders: {{format: csv, path: "s3://{bucket}/raw/orders.csv"}}
steps:
  - name: checked
    sql: "SELECT order_id, '${{secret:{secret}#pw}}' = '{value}' AS secret_ok FROM orders"
sinks:
  checked: {{format: csv, path: out/checked}}
"""


@pytest.fixture
def no_shared_config(aws_env: AwsEnv, tmp_path: Path) -> dict[str, str]:
    """No config or credentials file: the region can come from the environment only."""
    files = {
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for key, value in files.items():
        aws_env.monkeypatch.setenv(key, value)
    session.clear_cache()
    return files


@pytest.fixture
def project(tmp_path: Path, s3: Any, bucket: str, secrets: Any) -> Path:
    """A spec reading a CSV from S3 and a secret from Secrets Manager (both in `REGION`)."""
    s3.put_object(Bucket=bucket, Key="raw/orders.csv", Body=b"order_id\n1\n2\n")
    name = f"ede/region/{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=name, SecretString=json.dumps({"pw": SECRET_VALUE}))
    folder = tmp_path / "project"
    folder.mkdir()
    spec = SPEC.format(bucket=bucket, secret=name, value=SECRET_VALUE)
    (folder / "pipeline.yaml").write_text(spec)
    return folder


def _run(ede: RunCli, project: Path, env: dict[str, str | None]) -> dict[str, Any]:
    code, out, err = ede("run", "pipeline.yaml", "-f", "json", cwd=project, env=env)
    assert SECRET_VALUE not in out + err
    report: dict[str, Any] = json.loads(out)
    assert code == 0, report["error"]
    return report


def test_aws_region_alone_reads_s3_and_secrets(
    ede: RunCli, project: Path, no_shared_config: dict[str, str]
) -> None:
    env: dict[str, str | None] = {
        **no_shared_config,
        "AWS_DEFAULT_REGION": None,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    report = _run(ede, project, env)
    assert report["sinks"][0]["rows"] == 2
    (part,) = (project / "out" / "checked").glob("*.csv")
    assert part.read_text().splitlines()[1:] == ["1,true", "2,true"]


def test_aws_region_wins_over_aws_default_region(
    ede: RunCli, project: Path, no_shared_config: dict[str, str]
) -> None:
    """The secret exists in `REGION` only: read from `OTHER_REGION` it would be exit 3."""
    env: dict[str, str | None] = {
        **no_shared_config,
        "AWS_DEFAULT_REGION": OTHER_REGION,
        "AWS_REGION": REGION,
    }
    assert _run(ede, project, env)["status"] == "succeeded"


def test_every_client_gets_the_same_region(
    aws_env: AwsEnv, no_shared_config: dict[str, str]
) -> None:
    aws_env.monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws_env.monkeypatch.setenv("AWS_REGION", OTHER_REGION)
    assert session.region_name() == OTHER_REGION
    assert session.client("secretsmanager").meta.region_name == OTHER_REGION
    assert session.client("s3").meta.region_name == OTHER_REGION
    assert session.s3_filesystem().client_kwargs == {"region_name": OTHER_REGION}
    # Without AWS_REGION, botocore's own chain decides, as before.
    aws_env.monkeypatch.delenv("AWS_REGION")
    aws_env.monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    assert session.region_name() is None
    assert session.client("secretsmanager").meta.region_name == REGION
    assert session.s3_filesystem().client_kwargs == {}


def test_a_profile_region_still_counts(
    aws_env: AwsEnv, no_shared_config: dict[str, str], tmp_path: Path
) -> None:
    Path(no_shared_config["AWS_CONFIG_FILE"]).write_text(f"[default]\nregion = {OTHER_REGION}\n")
    aws_env.monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws_env.monkeypatch.delenv("AWS_REGION")
    assert session.client("secretsmanager").meta.region_name == OTHER_REGION
