"""An example rotation function for AWS Secrets Manager (the four-step rotation protocol).

Deploy it as a Lambda function (handler
``enterprise_data_engineering.aws.rotation_lambda.lambda_handler``; it needs only boto3, which
the Lambda runtime has), allow ``secretsmanager.amazonaws.com`` to invoke it, and attach it to
a secret with `secrets.set_up_rotation`. It rotates a JSON secret such as
``{"username": "etl", "password": "...", "host": "..."}`` by giving it a new random
``password`` and keeping every other field.

Secrets Manager calls the function four times per rotation, with the same
``ClientRequestToken`` (the id of the new version):

1. ``createSecret``: store the new value as version ``token`` with the ``AWSPENDING`` label
   (nothing happens if that version has a value already: each step is idempotent, as
   Secrets Manager may retry it);
2. ``setSecret``: make the system that checks the password accept the pending one
   (`set_password`; this example changes nothing: replace it with, e.g., an
   ``ALTER USER ... PASSWORD`` on your database);
3. ``testSecret``: check the pending value works (`test_password`);
4. ``finishSecret``: move ``AWSCURRENT`` to the new version (the old one becomes
   ``AWSPREVIOUS``). Readers such as ``ede`` runs get the new value from the next run on.

Environment variables: ``PASSWORD_LENGTH`` (default 32), ``EXCLUDE_CHARACTERS`` (default
``/@"'\\`` and space, which break connection strings).
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(Exception):
    """The rotation cannot go on; Secrets Manager marks it failed and keeps AWSCURRENT."""


def _client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


def lambda_handler(event: dict[str, Any], context: Any = None) -> None:
    """Run one step of a rotation.

    Args:
        event: ``{"Step": ..., "SecretId": ..., "ClientRequestToken": ...}`` from Secrets
            Manager.
        context: the Lambda context (unused).

    Raises:
        RotationError: the secret is not set up for rotation, or the version is not pending.
    """
    step = event.get("Step")
    secret_id = event.get("SecretId")
    token = event.get("ClientRequestToken")
    if step not in STEPS or not secret_id or not token:
        raise RotationError(f"invalid rotation event: step `{step}`")
    sm = _client()
    metadata = sm.describe_secret(SecretId=secret_id)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"secret `{secret_id}` is not enabled for rotation")
    versions: dict[str, list[str]] = metadata.get("VersionIdsToStages") or {}
    stages = versions.get(token)
    if stages is None and step != "createSecret":
        raise RotationError(f"secret `{secret_id}`: version `{token}` is not being rotated")
    if stages is not None and "AWSCURRENT" in stages:
        log.info("secret `%s`: version `%s` is already current", secret_id, token)
        return
    if stages is not None and "AWSPENDING" not in stages:
        raise RotationError(f"secret `{secret_id}`: version `{token}` is not AWSPENDING")
    if step == "createSecret":
        create_secret(sm, secret_id, token)
    elif step == "setSecret":
        set_password(
            _value(sm, secret_id, "AWSCURRENT"), _value(sm, secret_id, "AWSPENDING", token)
        )
    elif step == "testSecret":
        test_password(_value(sm, secret_id, "AWSPENDING", token))
    else:
        finish_secret(sm, secret_id, token, versions)


handler = lambda_handler


def _value(sm: Any, secret_id: str, stage: str, token: str | None = None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    text = sm.get_secret_value(**kwargs)["SecretString"]
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise RotationError(f"secret `{secret_id}` ({stage}) is not a JSON object")
    return value


def create_secret(sm: Any, secret_id: str, token: str) -> None:
    """Step 1: store a new random password as the pending version (idempotent)."""
    current = _value(sm, secret_id, "AWSCURRENT")
    try:
        sm.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        log.info("secret `%s`: pending version exists already", secret_id)
        return
    except sm.exceptions.ResourceNotFoundException:
        pass
    password = sm.get_random_password(
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "32")),
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", "/@\"'\\ "),
    )["RandomPassword"]
    pending = {**current, "password": password}
    sm.put_secret_value(
        SecretId=secret_id,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )
    log.info("secret `%s`: created pending version `%s`", secret_id, token)


def set_password(current: dict[str, Any], pending: dict[str, Any]) -> None:
    """Step 2: make the target system accept ``pending["password"]``.

    This example has no target system. For a database, connect with ``current`` (or an
    administrator secret) and run ``ALTER USER <username> PASSWORD '<pending password>'``.
    """
    log.info("setSecret: no target system to update in this example")


def test_password(pending: dict[str, Any]) -> None:
    """Step 3: check the pending value (here: that it holds a usable password).

    For a database, connect with ``pending`` and run ``SELECT 1``.
    """
    password = pending.get("password")
    if not isinstance(password, str) or len(password) < 8:
        raise RotationError("the pending secret has no usable `password`")


def finish_secret(sm: Any, secret_id: str, token: str, versions: dict[str, list[str]]) -> None:
    """Step 4: move ``AWSCURRENT`` to the new version."""
    current = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    if current == token:
        return
    kwargs: dict[str, Any] = {
        "SecretId": secret_id,
        "VersionStage": "AWSCURRENT",
        "MoveToVersionId": token,
    }
    if current is not None:
        kwargs["RemoveFromVersionId"] = current
    sm.update_secret_version_stage(**kwargs)
    log.info("secret `%s`: version `%s` is now AWSCURRENT", secret_id, token)


__all__ = [
    "STEPS",
    "RotationError",
    "create_secret",
    "finish_secret",
    "handler",
    "lambda_handler",
    "set_password",
    "test_password",
]
