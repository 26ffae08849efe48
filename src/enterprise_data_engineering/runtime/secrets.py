"""Which secret backend resolves ``${secret:...}`` references in a run.

AWS Secrets Manager when the ``[aws]`` extra is installed; otherwise a resolver that fails
with a clear message naming the secret (exit 1). ``EDE_SECRET_BACKEND=aws|none`` chooses
explicitly (``none``: every secret reference is an error, e.g. in tests or air-gapped CI).
Nothing is imported until a secret is actually looked up, so a spec without secrets never
loads boto3.
"""

from __future__ import annotations

import importlib.util
import os

from enterprise_data_engineering.errors import ConfigError
from enterprise_data_engineering.spec.interpolation import NoSecretResolver, SecretResolver


class _LazyAwsResolver:
    """Creates the AWS Secrets Manager resolver on the first lookup (one cache per run)."""

    def __init__(self) -> None:
        self._resolver: SecretResolver | None = None

    def resolve(self, name: str, field: str | None) -> str:
        """Resolve through AWS Secrets Manager."""
        if self._resolver is None:
            from enterprise_data_engineering.aws.secrets import SecretsManagerResolver

            self._resolver = SecretsManagerResolver()
        return self._resolver.resolve(name, field)


def default_secret_resolver() -> SecretResolver:
    """The resolver of a run: AWS Secrets Manager if boto3 is installed, else none."""
    backend = os.environ.get("EDE_SECRET_BACKEND", "").strip().lower()
    if backend not in ("", "aws", "none"):
        raise ConfigError(f"unknown EDE_SECRET_BACKEND `{backend}`: use aws or none")
    if backend == "aws" or (backend == "" and importlib.util.find_spec("boto3") is not None):
        return _LazyAwsResolver()
    return NoSecretResolver()
