"""A real S3 / Secrets Manager / Glue API for the AWS tests: moto's server on 127.0.0.1.

Everything talks HTTP to the server through the standard AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...), exactly as it would talk to AWS; nothing is mocked in-process.

- ``moto_server`` (session): a ``ThreadedMotoServer``; its backends live in this process, so
  a second server started here (``start_moto``) sees the same buckets and secrets.
- ``aws_env`` (autouse): the variables for in-process code (monkeypatched) and, as a dict,
  for ``ede run`` subprocesses; fresh cached clients and a fresh ``S3Storage`` per test.
- ``s3``, ``secrets``, ``glue``: boto3 clients; ``bucket``: a new bucket per test.
- ``auth_server``: a moto server in a subprocess that enforces IAM (credentials refused).
- ``FaultProxy``: an HTTP proxy in front of the server that answers chosen requests with
  throttling or 5xx errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

try:
    import boto3
    import moto.server as moto_server_module
    import s3fs  # noqa: F401
except ImportError:  # the [aws] extra or moto[server] is missing: nothing here can run
    collect_ignore_glob = ["test_*.py"]

from moto_helpers import REGION, free_port, wait_until_serving


def _env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


#: AWS variables of the developer's machine that would leak into the tests
_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_GLUE",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "EDE_S3_LEASE_TTL",
    "EDE_SECRET_BACKEND",
)


def start_moto() -> Any:
    """A new ThreadedMotoServer on a free port of 127.0.0.1 (shares this process's state)."""
    server = moto_server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def endpoint_of(server: Any) -> str:
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server for the whole session."""
    server = start_moto()
    try:
        yield endpoint_of(server)
    finally:
        server.stop()


@dataclass
class AwsEnv:
    """The AWS environment of a test: ``vars`` for subprocesses, ``use()`` to switch."""

    endpoint: str
    vars: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    extra: dict[str, str] = field(default_factory=dict)

    def use(self, endpoint: str | None = None, **overrides: str) -> dict[str, str]:
        """Point in-process code (and the returned subprocess env) at ``endpoint``."""
        env = _env(endpoint or self.endpoint)
        env.update(overrides)
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        self.vars = env
        return env

    def subprocess_env(self, **overrides: str | None) -> dict[str, str | None]:
        """Variables to add to an ``ede`` subprocess (``None`` removes one)."""
        out: dict[str, str | None] = dict.fromkeys(_CLEARED)
        out.update(self.vars)
        out.update(overrides)
        return out


@pytest.fixture(autouse=True)
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    from enterprise_data_engineering.aws import session
    from enterprise_data_engineering.storage import base

    for key in _CLEARED:
        monkeypatch.delenv(key, raising=False)
    env = AwsEnv(moto_server, {}, monkeypatch)
    env.use()
    session.clear_cache()
    # A fresh S3Storage per test: its lease ttl and live runs must not leak between tests.
    monkeypatch.delitem(base._instances, "s3", raising=False)
    yield env
    session.clear_cache()


@pytest.fixture
def s3(aws_env: AwsEnv) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def secrets(aws_env: AwsEnv) -> Any:
    return boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def glue(aws_env: AwsEnv) -> Any:
    return boto3.client("glue", region_name=REGION)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"ede-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@dataclass
class AuthServer:
    """A moto server enforcing IAM: ``testing`` keys are unknown, ``denied`` may do nothing,
    ``admin`` may do anything (to look at what a refused run left)."""

    endpoint: str
    denied_key: tuple[str, str]
    admin_key: tuple[str, str]
    bucket: str
    secret: str


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    """moto in a subprocess with IAM enforcement after the first seven (setup) requests."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "7"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(endpoint)
        setup = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        # Exactly seven requests, all before IAM is enforced.
        iam = setup.client("iam", endpoint_url=endpoint)
        iam.create_user(UserName="nobody")
        denied = iam.create_access_key(UserName="nobody")["AccessKey"]
        iam.create_user(UserName="admin")
        admin = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.put_user_policy(
            UserName="admin",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        setup.client("s3", endpoint_url=endpoint).create_bucket(Bucket="locked-lake")
        setup.client("secretsmanager", endpoint_url=endpoint).create_secret(
            Name="locked/db", SecretString='{"password": "n0t-for-you"}'
        )
        yield AuthServer(
            endpoint,
            (denied["AccessKeyId"], denied["SecretAccessKey"]),
            (admin["AccessKeyId"], admin["SecretAccessKey"]),
            "locked-lake",
            "locked/db",
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
