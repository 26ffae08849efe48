"""AWS clients for `ede`: the standard configuration chain, botocore retries, error translation.

Every AWS call of `ede` (S3 storage, Secrets Manager, Glue, the Lambda handler) gets its client
here, so that all of them:

- find credentials, region and endpoints through the **standard AWS chain** only (environment
  variables such as ``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``,
  ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, the
  shared config and credentials files, container and instance roles); a spec never holds an
  AWS setting (CONTRACT §4). The region is ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else
  the profile's ``region`` (the AWS CLI v2 and SDK order; botocore itself only reads
  ``AWS_DEFAULT_REGION``, see `region_name`);
- retry throttling, 5xx responses and connection errors with **botocore's retry modes**
  (``standard`` by default, exponential backoff with jitter; ``AWS_RETRY_MODE=adaptive`` adds
  client-side rate limiting), ``max_attempts`` from ``AWS_MAX_ATTEMPTS`` or the profile, else
  `DEFAULT_MAX_ATTEMPTS`;
- raise the most specific `EdeError` when a call still fails (`translate_client_error`).

>>> c = client("s3")  # doctest: +SKIP
>>> c.meta.config.retries  # doctest: +SKIP
{'mode': 'standard', 'total_max_attempts': 5}

boto3 and botocore are imported inside functions: importing this module costs nothing.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from typing import Any

from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
    MissingExtraError,
    NetworkError,
    PermissionDeniedError,
    RetryableError,
)

#: attempts per call (the first one included) when neither the environment nor the profile
#: says otherwise; botocore's own default (3) gives up too early for long batch runs
DEFAULT_MAX_ATTEMPTS = 5
#: botocore retry mode when neither ``AWS_RETRY_MODE`` nor the profile says otherwise
DEFAULT_RETRY_MODE = "standard"
#: seconds to open a connection / to wait for a response, per attempt
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0

#: error codes meaning "the thing asked for does not exist" (exit 3)
_NOT_FOUND = frozenset(
    {
        "NoSuchBucket",
        "NoSuchKey",
        "NotFound",
        "404",
        "ResourceNotFoundException",
        "EntityNotFoundException",
        "NoSuchEntity",
        "ResourceNotFound",
    }
)
#: error codes meaning "who you are, or what you may do, was refused" (exit 4)
_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "AccountProblem",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "TokenRefreshRequired",
        "UnrecognizedClientException",
        "UnauthorizedOperation",
        "AuthFailure",
        "MissingAuthenticationToken",
        "InvalidToken",
        "NotAuthorized",
        "KMSAccessDeniedException",
        "DecryptionFailure",
        "403",
    }
)
#: error codes of throttling, still refused after every retry (exit 7: rerun later)
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "429",
    }
)


def require_boto3() -> None:
    """Fail with the exact ``pip install`` to run when the ``[aws]`` extra is missing.

    Raises:
        MissingExtraError: boto3 is not installed (exit 1).
    """
    if importlib.util.find_spec("boto3") is None:
        raise MissingExtraError("boto3", "aws")


@dataclass(frozen=True)
class RetrySettings:
    """How botocore retries a failed call (see the module docstring for the defaults)."""

    mode: str = DEFAULT_RETRY_MODE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    def config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``botocore.config.Config`` (also taken by aiobotocore)."""
        return {
            "retries": {"mode": self.mode, "total_max_attempts": self.max_attempts},
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
        }


# Clients are thread-safe, sessions are not: one session and one client per service for each
# state of the AWS_* environment (tests and Lambda containers change it between runs).
_lock = threading.Lock()
_sessions: dict[tuple[tuple[str, str], ...], Any] = {}
_clients: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


def _environment_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def region_name() -> str | None:
    """The region ``AWS_REGION`` sets, or ``None`` to let botocore find one.

    The AWS CLI v2 and the AWS SDKs read ``AWS_REGION`` first, then ``AWS_DEFAULT_REGION``,
    then the profile's ``region``; botocore reads only the last two, so `ede` passes
    ``AWS_REGION`` explicitly when it is set (AWS Lambda sets both to the same region).

    >>> region_name()  # with AWS_REGION=eu-west-1  # doctest: +SKIP
    'eu-west-1'
    """
    return os.environ.get("AWS_REGION", "").strip() or None


def session() -> Any:
    """The ``boto3.Session`` of the current AWS environment (standard chain, cached).

    Raises:
        MissingExtraError: the ``[aws]`` extra is not installed.
    """
    require_boto3()
    import boto3

    key = _environment_key()
    with _lock:
        found = _sessions.get(key)
        if found is None:
            found = _sessions[key] = boto3.Session(region_name=region_name())
        return found


def retry_settings() -> RetrySettings:
    """Retry mode and attempts: ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` or the profile's.

    Raises:
        ConfigError: ``AWS_MAX_ATTEMPTS`` (or ``max_attempts`` in the profile) is not a
            positive integer.
    """
    # Only an explicit choice counts: botocore's own default mode is `legacy`.
    try:
        profile = session()._session.get_scoped_config()
    except Exception as exc:  # e.g. AWS_PROFILE names a profile that does not exist
        raise ConfigError(f"invalid AWS configuration: {exc}") from exc
    mode = os.environ.get("AWS_RETRY_MODE") or profile.get("retry_mode") or DEFAULT_RETRY_MODE
    raw = os.environ.get("AWS_MAX_ATTEMPTS") or profile.get("max_attempts")
    try:
        attempts = int(raw) if raw not in (None, "") else DEFAULT_MAX_ATTEMPTS
    except (TypeError, ValueError):
        attempts = 0
    if attempts < 1:
        raise ConfigError(f"invalid AWS max_attempts `{raw}`: expected a positive integer")
    if mode not in ("standard", "adaptive", "legacy"):
        raise ConfigError(f"invalid AWS retry mode `{mode}`: use standard or adaptive")
    return RetrySettings(mode=str(mode), max_attempts=attempts)


def botocore_config(settings: RetrySettings | None = None) -> Any:
    """A ``botocore.config.Config`` with `ede`'s retries and timeouts."""
    require_boto3()
    from botocore.config import Config

    return Config(**(settings or retry_settings()).config_kwargs())


def client(service: str) -> Any:
    """A boto3 client for ``service`` (``s3``, ``secretsmanager``, ``glue``, ...), cached.

    Region, credentials and endpoint come from the standard AWS chain; retries and timeouts
    from `botocore_config`.

    Raises:
        MissingExtraError: the ``[aws]`` extra is not installed.
        ConfigError: no region is configured for a regional service.
    """
    key = (service, _environment_key())
    with _lock:
        found = _clients.get(key)
    if found is not None:
        return found
    sess = session()
    try:
        made = sess.client(service, config=botocore_config())
    except Exception as exc:
        raise translate_client_error(exc, f"creating the AWS `{service}` client") from exc
    with _lock:
        return _clients.setdefault(key, made)


def s3_filesystem() -> Any:
    """An fsspec ``s3fs.S3FileSystem`` configured like `client` (chain, retries, timeouts).

    s3fs's own retry loop is turned off (``retries = 1``): botocore's retry mode does the
    retrying, with the same settings as every other AWS call of `ede`. The instance records the
    last exception of each S3 call in ``ede_last_error`` so that an engine reading through it
    (DuckDB) can report the real cause (see `translate_client_error`).

    Raises:
        MissingExtraError: s3fs is not installed.
    """
    require_boto3()
    if importlib.util.find_spec("s3fs") is None:
        raise MissingExtraError("s3fs", "aws")
    cls = _tracking_s3fs_class()
    region = region_name()  # s3fs's aiobotocore session, like botocore, ignores AWS_REGION
    fs = cls(
        config_kwargs=retry_settings().config_kwargs(),
        client_kwargs={"region_name": region} if region else None,
        skip_instance_cache=True,  # the endpoint comes from the environment, which may change
    )
    fs.retries = 1
    return fs


_s3fs_class: Any = None


def _tracking_s3fs_class() -> Any:
    global _s3fs_class
    if _s3fs_class is None:
        import s3fs  # type: ignore[import-untyped, unused-ignore]

        class _TrackingS3FileSystem(s3fs.S3FileSystem):  # type: ignore[misc]
            """s3fs that remembers the last failed S3 call (DuckDB only keeps its text)."""

            ede_last_error: BaseException | None = None

            async def _call_s3(self, method: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await super()._call_s3(method, *args, **kwargs)
                except Exception as exc:
                    self.ede_last_error = exc
                    raise

        _s3fs_class = _TrackingS3FileSystem
    return _s3fs_class


def _client_error_parts(exc: BaseException) -> tuple[str, int | None, str]:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or "")
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return code, status if isinstance(status, int) else None, message


def _root_cause(exc: BaseException) -> BaseException:
    """The botocore error behind an error wrapped by s3fs (an ``OSError`` with a cause)."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith(("botocore", "aiobotocore")):
            return current
        nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    return exc


def translate_client_error(exc: BaseException, what: str) -> EdeError:
    """Map a botocore (or s3fs) error to the most specific `EdeError`.

    ``what`` says what was being done, naming the object (``"reading source `orders`"``); the
    message never holds anything but AWS's error code and message, so no secret value.

    =====================================================  =============================
    error                                                  `EdeError` (exit code)
    =====================================================  =============================
    NoSuchBucket, NoSuchKey, ResourceNotFound, 404         `DependencyError` (3)
    AccessDenied, InvalidAccessKeyId, ExpiredToken, 403    `PermissionDeniedError` (4)
    no credentials found                                   `PermissionDeniedError` (4)
    cannot connect, timeouts, 5xx (after retries)          `NetworkError` (5)
    throttling, 429 (after retries)                        `RetryableError` (7)
    no region, invalid parameter                           `ConfigError` (1)
    anything else                                          `EdeRuntimeError` (2)
    =====================================================  =============================
    """
    if isinstance(exc, EdeError):
        return exc
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - only called where botocore is installed
        return EdeRuntimeError(f"{what}: {exc}")
    cause = _root_cause(exc)
    if isinstance(cause, bx.ClientError):
        code, status, message = _client_error_parts(cause)
        detail = f"{message} ({code})" if message and message != code else code or str(status)
        if code in _THROTTLED or status == 429:
            return RetryableError(f"{what}: throttled by AWS after retries: {detail}; rerun later")
        if code in _NOT_FOUND or status == 404:
            return DependencyError(f"{what}: not found: {detail}")
        if code in _DENIED or status in (401, 403):
            return PermissionDeniedError(f"{what}: access denied: {detail}")
        if status is not None and status >= 500:
            return NetworkError(f"{what}: the AWS service failed after retries: {detail}")
        return EdeRuntimeError(f"{what}: {detail}")
    if isinstance(cause, bx.NoRegionError):
        return ConfigError(f"{what}: no AWS region configured; set AWS_REGION or a profile region")
    if isinstance(cause, bx.NoCredentialsError | bx.PartialCredentialsError):
        return PermissionDeniedError(
            f"{what}: no AWS credentials found (environment, profile or role)"
        )
    if isinstance(cause, bx.CredentialRetrievalError | bx.UnauthorizedSSOTokenError):
        return PermissionDeniedError(f"{what}: AWS credentials refused: {cause}")
    if isinstance(cause, bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return NetworkError(f"{what}: AWS did not answer in time, after retries: {cause}")
    if isinstance(cause, bx.EndpointConnectionError | bx.ConnectionError | bx.HTTPClientError):
        return NetworkError(f"{what}: cannot reach AWS, after retries: {cause}")
    if isinstance(cause, bx.ParamValidationError):
        return ConfigError(f"{what}: {cause}")
    if isinstance(exc, PermissionError):
        return PermissionDeniedError(f"{what}: access denied: {exc}")
    if isinstance(exc, FileNotFoundError):
        return DependencyError(f"{what}: not found: {exc}")
    if isinstance(exc, ConnectionError | TimeoutError):
        return NetworkError(f"{what}: cannot reach AWS: {exc}")
    return EdeRuntimeError(f"{what}: {type(exc).__name__}: {exc}")


def clear_cache() -> None:
    """Forget cached sessions and clients (after credentials were rotated, in tests)."""
    with _lock:
        _sessions.clear()
        _clients.clear()


__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_RETRY_MODE",
    "READ_TIMEOUT",
    "RetrySettings",
    "botocore_config",
    "clear_cache",
    "client",
    "region_name",
    "require_boto3",
    "retry_settings",
    "s3_filesystem",
    "session",
    "translate_client_error",
]
