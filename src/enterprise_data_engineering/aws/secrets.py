"""AWS Secrets Manager: the resolver of ``${secret:...}`` references, and secret management.

**In a spec** (CONTRACT §4), ``${secret:NAME}`` is the secret's string and
``${secret:NAME#field}`` one field of a JSON secret::

    sources:
      orders:
        format: csv
        path: s3://lake/raw/orders/*.csv
    steps:
      - name: orders_clean
        input: orders
        transforms:
          - filter: "api_key <> '${secret:shop/api#key}'"

A run resolves each reference once (`SecretsManagerResolver` caches per run) and records every
value in the run's ``Redactor``, which hides it in logs, reports, status files, error messages
and the run history. A reference that cannot be resolved is one error naming the secret (never
a value): exit 3 when it does not exist (or has no such field), 4 when access is denied,
5 when Secrets Manager cannot be reached after retries.

**As a library**, for scripts, CI jobs and rotation functions::

    from enterprise_data_engineering.aws import secrets

    secrets.create_secret("warehouse/db", {"user": "etl", "password": "s3cr3t!"})
    secrets.get_secret("warehouse/db", "password")
    secrets.update_secret("warehouse/db", {"user": "etl", "password": "n3w!"})
    secrets.list_secrets(prefix="warehouse/")
    secrets.set_up_rotation("warehouse/db", lambda_arn, every_days=30)
    secrets.rotate_secret_now("warehouse/db")
    secrets.delete_secret("warehouse/db", recovery_days=7)

`rotation_lambda` is an example rotation function for the four-step protocol.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enterprise_data_engineering.aws.session import client, translate_client_error
from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
)

_MISSING = frozenset({"ResourceNotFoundException"})


def _secrets_client() -> Any:
    return client("secretsmanager")


def _error(exc: BaseException, name: str, action: str = "reading") -> EdeError:
    """Translate a Secrets Manager failure; the message names the secret, never a value."""
    code = str(((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code") or "")
    if code in _MISSING:
        return DependencyError(f"secret `{name}` does not exist")
    if code == "InvalidRequestException" and action == "reading":
        # e.g. a secret scheduled for deletion
        return DependencyError(f"secret `{name}` cannot be read: it is marked for deletion")
    return translate_client_error(exc, f"{action} secret `{name}`")


def _secret_text(response: Mapping[str, Any], name: str) -> str:
    if response.get("SecretString") is not None:
        return str(response["SecretString"])
    binary = response.get("SecretBinary")
    if binary is None:
        raise DependencyError(f"secret `{name}` has no value")
    try:
        return bytes(binary).decode("utf-8")
    except UnicodeDecodeError:
        raise DependencyError(f"secret `{name}` is binary, not text") from None


def _field(text: str, name: str, field: str) -> str:
    """One field of a JSON secret, as text (numbers and booleans in their JSON spelling)."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # The message must not quote the value, not even the part json complained about.
        raise DependencyError(
            f"secret `{name}` is not a JSON object, so it has no field `{field}`"
        ) from None
    if field not in data:
        raise DependencyError(f"secret `{name}` has no field `{field}`")
    value = data[field]
    if value is None:
        raise DependencyError(f"field `{field}` of secret `{name}` is null")
    return value if isinstance(value, str) else json.dumps(value)


def get_secret(
    name: str,
    field: str | None = None,
    *,
    version_stage: str | None = None,
    version_id: str | None = None,
) -> str:
    """The value of secret ``name`` (ARN or name), or of its JSON field ``field``.

    Args:
        name: the secret's name or ARN.
        field: a top-level key of a JSON secret.
        version_stage: e.g. ``AWSPENDING`` (default: ``AWSCURRENT``).
        version_id: a specific version.

    Raises:
        DependencyError: the secret, or the field, does not exist (exit 3).
        PermissionDeniedError: access is denied (exit 4).
        NetworkError: Secrets Manager cannot be reached after retries (exit 5).
    """
    kwargs: dict[str, Any] = {"SecretId": name}
    if version_id:
        kwargs["VersionId"] = version_id
    if version_stage or not version_id:  # explicit AWSCURRENT: the same on AWS, exact on emulators
        kwargs["VersionStage"] = version_stage or "AWSCURRENT"
    try:
        response = _secrets_client().get_secret_value(**kwargs)
    except Exception as exc:
        raise _error(exc, name) from exc
    text = _secret_text(response, name)
    return text if field is None else _field(text, name, field)


class SecretsManagerResolver:
    """Resolves ``${secret:NAME}`` / ``${secret:NAME#field}`` from AWS Secrets Manager.

    One instance per run: each secret is fetched once and cached for the run (a JSON secret
    serves all its fields from one call).
    """

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def resolve(self, name: str, field: str | None) -> str:
        """The secret's value, or its JSON field ``field``.

        Raises:
            DependencyError: the secret or the field does not exist (exit 3).
            PermissionDeniedError: access is denied (exit 4).
            NetworkError: Secrets Manager cannot be reached after retries (exit 5).
            ConfigError: no AWS region is configured (exit 1).
        """
        if not name:
            raise ConfigError("a secret reference needs a name: ${secret:NAME}")
        if name not in self._values:
            self._values[name] = get_secret(name)
        text = self._values[name]
        return text if field is None else _field(text, name, field)


def _as_text(value: str | Mapping[str, Any]) -> str:
    return value if isinstance(value, str) else json.dumps(dict(value))


def create_secret(
    name: str,
    value: str | Mapping[str, Any],
    *,
    description: str | None = None,
    kms_key_id: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Create secret ``name`` holding ``value`` (text, or a mapping stored as JSON).

    Returns:
        The new secret's ARN.

    Raises:
        EdeRuntimeError: a secret of that name exists already (exit 2).
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    kwargs: dict[str, Any] = {"Name": name, "SecretString": _as_text(value)}
    if description:
        kwargs["Description"] = description
    if kms_key_id:
        kwargs["KmsKeyId"] = kms_key_id
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    try:
        return str(_secrets_client().create_secret(**kwargs)["ARN"])
    except Exception as exc:
        raise _error(exc, name, "creating") from exc


def update_secret(name: str, value: str | Mapping[str, Any]) -> str:
    """Store a new current value of secret ``name``; the previous one becomes AWSPREVIOUS.

    Returns:
        The new version's id.

    Raises:
        DependencyError: the secret does not exist.
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    try:
        response = _secrets_client().put_secret_value(SecretId=name, SecretString=_as_text(value))
    except Exception as exc:
        raise _error(exc, name, "updating") from exc
    return str(response["VersionId"])


@dataclass(frozen=True)
class SecretInfo:
    """What `list_secrets` tells about a secret (never its value)."""

    name: str
    arn: str
    description: str | None
    rotation_enabled: bool
    last_changed: str | None


def list_secrets(prefix: str | None = None) -> list[SecretInfo]:
    """The secrets of the account and region, optionally those whose name starts with ``prefix``.

    Raises:
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    kwargs: dict[str, Any] = {}
    if prefix:
        kwargs["Filters"] = [{"Key": "name", "Values": [prefix]}]
    out: list[SecretInfo] = []
    try:
        for page in _secrets_client().get_paginator("list_secrets").paginate(**kwargs):
            for item in page.get("SecretList", ()):
                if prefix and not str(item["Name"]).startswith(prefix):
                    continue
                changed = item.get("LastChangedDate")
                out.append(
                    SecretInfo(
                        name=str(item["Name"]),
                        arn=str(item["ARN"]),
                        description=item.get("Description"),
                        rotation_enabled=bool(item.get("RotationEnabled", False)),
                        last_changed=changed.isoformat() if changed is not None else None,
                    )
                )
    except Exception as exc:
        raise translate_client_error(exc, "listing secrets") from exc
    return sorted(out, key=lambda s: s.name)


def delete_secret(name: str, *, recovery_days: int = 30, force: bool = False) -> None:
    """Schedule secret ``name`` for deletion after ``recovery_days`` (7-30), or now (``force``).

    Raises:
        ConfigError: ``recovery_days`` is outside 7-30.
        DependencyError: the secret does not exist.
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    kwargs: dict[str, Any] = {"SecretId": name}
    if force:
        kwargs["ForceDeleteWithoutRecovery"] = True
    else:
        if not 7 <= recovery_days <= 30:
            raise ConfigError(f"recovery_days must be between 7 and 30, not {recovery_days}")
        kwargs["RecoveryWindowInDays"] = recovery_days
    try:
        _secrets_client().delete_secret(**kwargs)
    except Exception as exc:
        raise _error(exc, name, "deleting") from exc


def rotate_secret_now(name: str) -> str:
    """Start a rotation of secret ``name`` now, with its configured rotation function.

    Returns:
        The id of the version the rotation creates.

    Raises:
        DependencyError: the secret does not exist.
        EdeRuntimeError: no rotation is set up, or a rotation is already in progress.
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    try:
        response = _secrets_client().rotate_secret(SecretId=name, RotateImmediately=True)
    except Exception as exc:
        raise _error(exc, name, "rotating") from exc
    return str(response.get("VersionId", ""))


def set_up_rotation(
    name: str,
    lambda_arn: str,
    *,
    every_days: int | None = 30,
    schedule: str | None = None,
    rotate_now: bool = False,
) -> None:
    """Rotate secret ``name`` with the rotation function ``lambda_arn`` on a schedule.

    Args:
        name: the secret.
        lambda_arn: the rotation function (see `rotation_lambda` for an example); it needs a
            resource policy allowing ``secretsmanager.amazonaws.com`` to invoke it.
        every_days: rotate every this many days (1-1000).
        schedule: instead, a ``rate(...)`` or ``cron(...)`` expression.
        rotate_now: also rotate immediately (otherwise Secrets Manager only tests the
            function's ``testSecret`` step now).

    Raises:
        ConfigError: neither or both of ``every_days`` and ``schedule``; out of range.
        DependencyError: the secret does not exist.
        PermissionDeniedError, NetworkError: see `get_secret`.
    """
    rules: dict[str, Any] = {}
    if schedule:
        rules["ScheduleExpression"] = schedule
    elif every_days is not None:
        if not 1 <= every_days <= 1000:
            raise ConfigError(f"every_days must be between 1 and 1000, not {every_days}")
        rules["AutomaticallyAfterDays"] = every_days
    else:
        raise ConfigError("set_up_rotation needs every_days or schedule")
    try:
        _secrets_client().rotate_secret(
            SecretId=name,
            RotationLambdaARN=lambda_arn,
            RotationRules=rules,
            RotateImmediately=rotate_now,
        )
    except Exception as exc:
        raise _error(exc, name, "setting up rotation of") from exc


__all__ = [
    "SecretInfo",
    "SecretsManagerResolver",
    "create_secret",
    "delete_secret",
    "get_secret",
    "list_secrets",
    "rotate_secret_now",
    "set_up_rotation",
    "update_secret",
]
