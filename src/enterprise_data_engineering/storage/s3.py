"""S3 sinks and sources: staging beside the sink, journaled publish, lease-based recovery.

S3 has no rename and no atomic multi-object operation, so a sink cannot be swapped in one
step as on a local disk (`storage.local`). This storage gives the guarantees that *can* be
given on S3 and documents exactly what a concurrent reader may see (`atomic_publish` is
false). Every call goes through `aws.session` (standard credential chain, botocore retries,
errors translated into `EdeError`); DuckDB reads and writes through the fsspec filesystem of
`fsspec_filesystem` (s3fs, configured the same way).

Layout, for a sink ``s3://bucket/<parent>/<sink>``::

    s3://bucket/<parent>/
        <sink>/...                          the published objects
        .ede-staging/                       exists only while runs stage or publish here
            <run_id>.lease                  the run's lease, rewritten every ttl/4 while it lives
            <run_id>/<sink>/...             the staged sink the engine writes into
            <sink>.publish.json             the journal of a publish of <sink> in progress

**Leases.** There is no ``flock`` on S3: a run proves it is alive by rewriting its lease
object (a heartbeat thread, every ``lease_ttl / 4`` seconds). A lease whose age, measured on
the S3 server's clock (``Last-Modified`` against the ``Date`` of the same response), exceeds
its ttl belongs to a dead run. The lease is written before the run's first staged object and
deleted after its last, so staged objects without a live lease are leftovers.

**Publish** (``overwrite``; ``append`` deletes nothing at step 6):

1. List the staged objects.
2. Take the sink's lock by creating the journal with ``If-None-Match: *`` (S3 conditional
   write): ``{"state": "copying", "new": []}``. Another live run holding it is waited for
   (at most ``lock_timeout`` seconds, then `EdeTimeoutError`, exit 6); a dead one's journal is
   recovered first.
3. List the sink's current objects: the old keys. A new key equal to an old one is an error
   (new file names carry the run id, so this does not happen in practice): a new object never
   replaces an old one, so a roll-back never loses data. Rewrite the journal with the list of
   new keys (``If-Match`` its ETag).
4. Copy every staged object to its key under the sink (server-side ``CopyObject``, in
   parallel).
5. **Commit**: rewrite the journal (``If-Match`` its ETag, so a run that lost its lock cannot
   commit) as ``{"state": "committed", "delete": [old keys]}``. From here on the publish
   counts as done: a failure after this point is completed by the next run, never undone.
6. Delete the old keys, then the journal, then the staged objects.

A publish that fails before the commit deletes the objects it copied and the journal, and
raises: the sink holds its old objects, as after a failed audit.

**Recovery** (`S3Storage.recover`, also run by `S3Storage.stage`): a journal whose owner is
dead is claimed (rewritten with ``If-Match``, so two recovering runs never both act on it),
then a ``copying`` journal is **rolled back** (the copied new keys are deleted) and a
``committed`` one is **rolled forward** (the old keys are deleted); then the journal goes.
Staged objects and leases of dead runs are deleted. A killed run therefore leaves each sink
with entirely its old or entirely its new objects once the next run (of any pipeline writing
beside it) has recovered, and needs no manual clean-up. A journal whose owner's lease has not
expired yet is waited for (at most ``lease_ttl``): a run started right after a killed one
waits up to that long to publish the same sink.

**What a concurrent reader observes.** Listing ``s3://bucket/<parent>/<sink>/`` (Athena,
Spark, DuckDB, ``aws s3 ls``):

- while the run reads, computes, stages and audits, and whenever the audit fails: the old
  objects only (staged objects live under ``.ede-staging/``, outside the sink prefix, and
  their names start with ``.``, which Hive, Spark, Athena and `ede` skip);
- during step 4 (``overwrite``): the old objects plus a growing subset of the new ones, so a
  query may count rows of both versions; during step 6: every new object plus a shrinking
  subset of the old ones; afterwards: exactly the new objects. With ``append``: the old
  objects plus a growing subset of the new ones, then all of them;
- a reader that listed the sink before step 6 and fetches an old object afterwards gets
  ``NoSuchKey``.

Each object is itself replaced atomically by S3, and S3's strong read-after-write
consistency means a listing after the run finishes shows exactly the new objects. The mixed
windows last as long as the server-side copies and deletes (seconds for typical sinks, as
copies run in parallel and deletes go 1,000 keys per request). Readers that must never see a
mix should start after the run finished (the status file, the run report or the Glue table
update is the signal), or the pipeline should publish to a new folder per run. Concurrent
``ede`` runs publishing the same sink are serialised by the journal; a service without
conditional writes (some S3-compatible stores) leaves them unserialised.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
    EdeTimeoutError,
)
from enterprise_data_engineering.storage.base import PublishMode, StagedSink, Storage
from enterprise_data_engineering.storage.paths import has_glob, is_hidden, scheme

log = logging.getLogger(__name__)

#: the prefix beside the sinks that holds staged sinks, leases and journals
STAGING_DIR = ".ede-staging"
_LEASE = ".lease"
_JOURNAL = ".publish.json"
_TTL_META = "ede-lease-ttl"
#: seconds after its last heartbeat at which a run counts as dead; ``EDE_S3_LEASE_TTL``
DEFAULT_LEASE_TTL = 120.0
LEASE_TTL_ENV = "EDE_S3_LEASE_TTL"
#: CopyObject copies at most 5 GiB; larger objects use a multipart (managed) copy
_MAX_COPY_OBJECT = 5 * 1024**3
_DELETE_BATCH = 1000
#: a conditional write lost (someone else wrote the object first)
_CONFLICT = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_S3_URL = re.compile(r"^(?P<scheme>s3a?)://(?P<bucket>[^/]+)(?:/(?P<key>.*))?$", re.IGNORECASE)


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key/part`` → ``("bucket", "key/part")``.

    >>> split_url("s3://lake/orders/2026/")
    ('lake', 'orders/2026/')

    Raises:
        ConfigError: ``url`` is not an ``s3://`` URL with a bucket.
    """
    match = _S3_URL.match(url)
    if match is None or not match.group("bucket"):
        raise ConfigError(f"`{url}` is not an S3 URL (s3://bucket/prefix/...)")
    return match.group("bucket"), match.group("key") or ""


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob over S3 keys: ``*`` and ``?`` stay within one ``/`` segment, ``**`` does not."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) else i + 1)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


@dataclass
class _Run:
    """A live run of this process staging beside one parent prefix."""

    bucket: str
    root: str  # "<parent>/.ede-staging/"
    run_id: str
    staged: set[str] = field(default_factory=set)

    @property
    def lease_key(self) -> str:
        return f"{self.root}{self.run_id}{_LEASE}"


@dataclass
class _Journal:
    key: str
    etag: str
    body: dict[str, Any]
    age_s: float


class S3Storage(Storage):
    """Sinks under ``s3://`` prefixes, published with a journal and recovered after a crash.

    Args:
        lease_ttl: seconds after its last heartbeat at which a run counts as dead (default:
            ``EDE_S3_LEASE_TTL`` from the environment, else 120).
        lock_timeout: seconds to wait for another live run publishing the same sink.
        poll_interval: seconds between two looks at a sink locked by another run.
        max_workers: parallel copies and deletes.
    """

    schemes: ClassVar[tuple[str, ...]] = ("s3",)
    atomic_publish: ClassVar[bool] = False

    def __init__(
        self,
        *,
        lease_ttl: float | None = None,
        lock_timeout: float = 600.0,
        poll_interval: float = 1.0,
        max_workers: int = 16,
    ) -> None:
        if lease_ttl is None:
            raw = os.environ.get(LEASE_TTL_ENV, "")
            try:
                lease_ttl = float(raw) if raw else DEFAULT_LEASE_TTL
            except ValueError:
                raise ConfigError(f"invalid {LEASE_TTL_ENV} `{raw}`: expected seconds") from None
        if lease_ttl <= 0:
            raise ConfigError(f"the S3 lease ttl must be positive, not {lease_ttl}")
        self.lease_ttl = lease_ttl
        self.lock_timeout = lock_timeout
        self.poll_interval = poll_interval
        self.max_workers = max_workers
        self._runs: dict[tuple[str, str, str], _Run] = {}
        self._mutex = threading.RLock()
        self._lease_lock = threading.Lock()  # orders heartbeat writes and lease deletions
        self._heartbeat: threading.Thread | None = None
        self._wake = threading.Event()
        self._conditional_writes = True

    # ------------------------------------------------------------------ clients

    @staticmethod
    def _s3() -> Any:
        from enterprise_data_engineering.aws.session import client

        return client("s3")

    @staticmethod
    def _error(exc: BaseException, what: str) -> EdeError:
        from enterprise_data_engineering.aws.session import translate_client_error

        return translate_client_error(exc, what)

    @staticmethod
    def _code(exc: BaseException) -> str:
        response = getattr(exc, "response", None) or {}
        code = str((response.get("Error") or {}).get("Code") or "")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return code or str(status or "")

    def fsspec_filesystem(self) -> Any:
        """The fsspec filesystem through which engines (DuckDB) read and write ``s3://``.

        A new s3fs instance each call, configured like every other AWS client of `ede`
        (see `aws.session.s3_filesystem`).
        """
        from enterprise_data_engineering.aws.session import s3_filesystem

        return s3_filesystem()

    @staticmethod
    def engine_error(filesystem: Any, message: str, what: str) -> EdeError | None:
        """The `EdeError` behind an engine failure ``message`` that passed through ``filesystem``.

        DuckDB keeps only the text of an exception raised inside an fsspec filesystem; the
        filesystem of `fsspec_filesystem` remembers the exception itself. It is used when its
        type appears in ``message`` (so an unrelated, handled error is never blamed).
        """
        from enterprise_data_engineering.aws.session import translate_client_error

        exc = getattr(filesystem, "ede_last_error", None)
        if not isinstance(exc, BaseException) or type(exc).__name__ not in message:
            return None
        return translate_client_error(exc, what)

    # ------------------------------------------------------------------ sources

    def list_files(self, path_or_glob: str) -> list[str]:
        """The objects a source URL names, sorted, as ``s3://`` URLs.

        An object names itself; a prefix names every object below it, skipping names that
        start with ``.`` or ``_`` (``_SUCCESS``, ``.ede-staging/``); a glob (``*``, ``?``,
        ``[...]`` within one ``/`` segment, ``**`` across segments) names the objects it
        matches and the objects below the prefixes it matches.

        Raises:
            DependencyError: nothing matches, or the bucket does not exist.
            PermissionDeniedError: listing is refused.
            NetworkError: S3 cannot be reached after retries.
        """
        bucket, key = split_url(path_or_glob)
        what = f"listing `{path_or_glob}`"
        if has_glob(key):
            first = min(key.find(c) for c in "*?[" if c in key)
            literal = key[:first]
            regex = _glob_regex(key)
            found = [
                k
                for k in self._keys(bucket, literal, what)
                if not k.endswith("/") and self._glob_hit(k, key, regex)
            ]
        else:
            folder = key if key.endswith("/") or not key else key + "/"
            found = [
                k
                for k in self._keys(bucket, key.rstrip("/"), what)
                if k == key or self._below(k, folder)
            ]
        if not found:
            raise DependencyError(f"no files match `{path_or_glob}`")
        prefix = scheme(path_or_glob)
        return sorted(f"{prefix}://{bucket}/{k}" for k in set(found))

    @staticmethod
    def _below(key: str, folder: str) -> bool:
        """``key`` is a data object below ``folder`` (no hidden name on the way)."""
        if not key.startswith(folder) or key.endswith("/"):
            return False
        return not any(is_hidden(s) for s in key[len(folder) :].split("/"))

    @staticmethod
    def _glob_hit(key: str, pattern: str, regex: re.Pattern[str]) -> bool:
        parts = key.split("/")
        literal_parts = set(pattern.split("/"))
        for i in range(1, len(parts) + 1):
            head = "/".join(parts[:i])
            if regex.fullmatch(head):
                matched = parts[:i]
                below = parts[i:]
                # Wildcards do not match hidden names (as glob.glob), nor hide below a match.
                if any(s.startswith(".") and s not in literal_parts for s in matched):
                    return False
                return not any(is_hidden(s) for s in below)
        return False

    def _keys(self, bucket: str, prefix: str, what: str) -> Iterator[str]:
        for obj in self._objects(bucket, prefix, what):
            yield str(obj["Key"])

    def _objects(self, bucket: str, prefix: str, what: str) -> Iterator[dict[str, Any]]:
        try:
            pages = (
                self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            )
            for page in pages:
                yield from page.get("Contents", ())
        except Exception as exc:
            raise self._error(exc, what) from exc

    # ------------------------------------------------------------------ the protocol

    def stage(self, sink_path: str, run_id: str, name: str) -> StagedSink:
        """Recover the sink, take (or extend) this run's lease, return an empty staging prefix."""
        bucket, sink_key = self._sink(sink_path, name)
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", run_id):
            raise ConfigError(f"invalid run id `{run_id}`")
        self.recover(sink_path)
        root = self._root(sink_key)
        base = sink_key.rsplit("/", 1)[-1]
        run = self._open_run(bucket, root, run_id)
        staged_key = f"{root}{run_id}/{base}"
        leftovers = list(self._keys(bucket, staged_key + "/", f"staging sink `{name}`"))
        self._delete_keys(bucket, leftovers, f"staging sink `{name}`")
        with self._mutex:
            run.staged.add(staged_key)
        return StagedSink(
            name=name,
            sink_path=f"s3://{bucket}/{sink_key}",
            path=f"s3://{bucket}/{staged_key}",
            run_id=run_id,
        )

    def publish(self, staged: StagedSink, mode: PublishMode = "overwrite") -> None:
        """Copy the staged objects into the sink and delete the replaced ones (see module doc).

        Raises:
            EdeTimeoutError: another live run kept the sink locked for ``lock_timeout``.
            EdeRuntimeError: ``append`` found an object of the same name in the sink.
            PermissionDeniedError, NetworkError, RetryableError: S3 refused or failed; the
                sink is unchanged unless the failure came after the commit.
        """
        bucket, sink_key = split_url(staged.sink_path)
        _, staged_key = split_url(staged.path)
        root = self._root(sink_key)
        base = sink_key.rsplit("/", 1)[-1]
        what = f"publishing sink `{staged.name}` (`{staged.sink_path}`)"
        staged_objs = list(self._objects(bucket, staged_key + "/", what))
        copies = [
            (str(o["Key"]), f"{sink_key}/{str(o['Key'])[len(staged_key) + 1 :]}", int(o["Size"]))
            for o in staged_objs
        ]
        journal_key = f"{root}{base}{_JOURNAL}"
        body: dict[str, Any] = {
            "version": 1,
            "run_id": staged.run_id,
            "sink": staged.sink_path,
            "mode": mode,
            "state": "copying",
            "new": [],
        }
        etag = self._lock_sink(bucket, journal_key, body, staged, what)
        committed = False
        try:
            old = list(self._keys(bucket, sink_key + "/", what))
            clash = sorted(set(old) & {dst for _, dst, _ in copies})
            if clash:
                verb = "append to" if mode == "append" else "overwrite"
                raise EdeRuntimeError(
                    f"cannot {verb} sink `{staged.name}`: `{clash[0][len(sink_key) + 1 :]}` is "
                    f"both in `{staged.sink_path}` and in the new data; nothing was published"
                )
            # Only now the journal lists the new keys: a roll-back never deletes an old one.
            body["new"] = [dst for _, dst, _ in copies]
            etag = self._put_json(bucket, journal_key, body, what, if_match=etag)
            self._copy_all(bucket, copies, what)
            body.update(state="committed", delete=old if mode == "overwrite" else [])
            etag = self._put_json(bucket, journal_key, body, what, if_match=etag)
            committed = True
        except BaseException as exc:
            # A conditional write refused: a recovering run took the journal over (this run's
            # lease had expired); that journal, or its successor, is no longer ours to delete.
            lost = self._code(exc) in _CONFLICT
            if not committed:
                self._roll_back(bucket, None if lost else journal_key, body["new"], what)
            if lost:
                raise EdeRuntimeError(
                    f"{what}: another run took over the sink's publish lock (this run's lease "
                    "had expired); nothing was published"
                ) from exc
            if isinstance(exc, Exception) and not isinstance(exc, EdeError):
                raise self._error(exc, what) from exc
            raise
        # Committed: whatever fails from here on is finished by the next run's recovery.
        try:
            self._delete_keys(bucket, body["delete"], what)
            self._delete_keys(bucket, [journal_key], what)
            self._delete_keys(bucket, [src for src, _, _ in copies], what)
        except EdeError as exc:
            log.warning("%s: committed, clean-up left for the next run: %s", what, exc)
        self._forget(bucket, root, staged.run_id, staged_key)

    def discard(self, staged: StagedSink) -> None:
        """Delete the staged objects (and the lease with the run's last staged sink here)."""
        bucket, sink_key = split_url(staged.sink_path)
        _, staged_key = split_url(staged.path)
        what = f"discarding staged sink `{staged.name}`"
        try:
            keys = list(self._keys(bucket, staged_key + "/", what))
            self._delete_keys(bucket, keys, what)
        finally:
            self._forget(bucket, self._root(sink_key), staged.run_id, staged_key)

    def recover(self, sink_path: str) -> None:
        """Resolve journals of dead runs beside ``sink_path``; delete their staging and leases.

        Raises:
            DependencyError: the bucket does not exist.
            PermissionDeniedError, NetworkError: S3 refused or cannot be reached.
        """
        bucket, sink_key = self._sink(sink_path, sink_path)
        root = self._root(sink_key)
        what = f"recovering sink `{sink_path}`"
        run_ids: set[str] = set()
        journals: list[str] = []
        for key in self._keys(bucket, root, what):
            rest = key[len(root) :]
            if "/" in rest:
                run_ids.add(rest.split("/", 1)[0])
            elif rest.endswith(_JOURNAL):
                journals.append(key)
            elif rest.endswith(_LEASE):
                run_ids.add(rest[: -len(_LEASE)])
        for key in journals:
            journal = self._read_journal(bucket, key, what)
            if journal is not None and not self._journal_alive(bucket, root, journal, what):
                self._resolve(bucket, journal, what)
        for run_id in sorted(run_ids):
            if self._alive(bucket, root, run_id, what):
                continue
            keys = list(self._keys(bucket, f"{root}{run_id}/", what))
            self._delete_keys(bucket, [*keys, f"{root}{run_id}{_LEASE}"], what)

    # ------------------------------------------------------------------ paths

    @staticmethod
    def _sink(sink_path: str, name: str) -> tuple[str, str]:
        bucket, key = split_url(sink_path)
        key = key.rstrip("/")
        if has_glob(key):
            raise ConfigError(f"sink `{name}`: `{sink_path}` cannot hold glob characters")
        if not key:
            raise ConfigError(
                f"sink `{name}`: `{sink_path}` is a whole bucket; a sink is a folder inside one"
            )
        base = key.rsplit("/", 1)[-1]
        if base in (".", "..") or base.startswith(".ede-") or base == STAGING_DIR:
            raise ConfigError(f"sink `{name}`: folder names starting with `.ede-` are reserved")
        return bucket, key

    @staticmethod
    def _root(sink_key: str) -> str:
        parent = sink_key.rsplit("/", 1)[0] + "/" if "/" in sink_key else ""
        return f"{parent}{STAGING_DIR}/"

    # ------------------------------------------------------------------ objects

    def _put_json(
        self,
        bucket: str,
        key: str,
        body: dict[str, Any],
        what: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": json.dumps(body).encode(),
            "ContentType": "application/json",
        }
        if metadata:
            kwargs["Metadata"] = metadata
        if self._conditional_writes:
            if if_match is not None:
                kwargs["IfMatch"] = if_match
            if if_none_match:
                kwargs["IfNoneMatch"] = "*"
        try:
            response = self._s3().put_object(**kwargs)
        except Exception as exc:
            if self._code(exc) in ("NotImplemented", "501") and self._conditional_writes:
                # An S3-compatible store without conditional writes: unserialised publishes.
                log.warning("%s: conditional writes unsupported; publishes not serialised", what)
                self._conditional_writes = False
                return self._put_json(bucket, key, body, what, metadata=metadata)
            raise
        return str(response.get("ETag", ""))

    def _delete_keys(self, bucket: str, keys: Iterable[str], what: str) -> None:
        batch = sorted(set(keys))
        if not batch:
            return
        chunks = [batch[i : i + _DELETE_BATCH] for i in range(0, len(batch), _DELETE_BATCH)]

        def delete(chunk: list[str]) -> None:
            response = self._s3().delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            )
            errors = response.get("Errors") or []
            if errors:
                from botocore.exceptions import ClientError

                first = errors[0]
                code = str(first.get("Code", ""))
                error = ClientError(
                    {
                        "Error": {"Code": code, "Message": str(first.get("Message", ""))},
                        "ResponseMetadata": {"HTTPStatusCode": 403 if "Denied" in code else 0},
                    },
                    "DeleteObjects",
                )
                raise self._error(error, f"{what}: deleting `s3://{bucket}/{first.get('Key')}`")

        self._parallel(delete, chunks, what)

    def _copy_all(self, bucket: str, copies: list[tuple[str, str, int]], what: str) -> None:
        def copy(item: tuple[str, str, int]) -> None:
            src, dst, size = item
            source = {"Bucket": bucket, "Key": src}
            if size > _MAX_COPY_OBJECT:
                self._s3().copy(source, bucket, dst)
            else:
                self._s3().copy_object(Bucket=bucket, Key=dst, CopySource=source)

        self._parallel(copy, copies, what)

    def _parallel(self, fn: Any, items: list[Any], what: str) -> None:
        if not items:
            return
        try:
            if len(items) == 1:
                fn(items[0])
                return
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
                futures = [pool.submit(fn, item) for item in items]
                try:
                    for future in futures:
                        future.result()
                finally:
                    for future in futures:
                        future.cancel()
        except EdeError:
            raise
        except Exception as exc:
            raise self._error(exc, what) from exc

    # ------------------------------------------------------------------ leases

    def _open_run(self, bucket: str, root: str, run_id: str) -> _Run:
        with self._mutex:
            run = self._runs.get((bucket, root, run_id))
            if run is not None:
                return run
            run = _Run(bucket, root, run_id)
            self._write_lease(run)
            self._runs[(bucket, root, run_id)] = run
            self._start_heartbeat()
            return run

    def _write_lease(self, run: _Run) -> None:
        body = {
            "run_id": run.run_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "ttl_s": self.lease_ttl,
            "written_at": datetime.now(UTC).isoformat(),
        }
        what = f"writing the lease of run `{run.run_id}`"
        try:
            self._put_json(
                run.bucket, run.lease_key, body, what, metadata={_TTL_META: str(self.lease_ttl)}
            )
        except EdeError:
            raise
        except Exception as exc:
            raise self._error(exc, what) from exc

    def _forget(self, bucket: str, root: str, run_id: str, staged_key: str) -> None:
        """Drop a staged sink; with the run's last one beside this parent, drop its lease."""
        with self._mutex:
            run = self._runs.get((bucket, root, run_id))
            if run is None:
                return
            run.staged.discard(staged_key)
            if run.staged:
                return
            del self._runs[(bucket, root, run_id)]
        # Best effort: a lease left behind expires and the next recovery removes it. Under
        # the lease lock, so that a heartbeat in flight cannot write the lease back after.
        with self._lease_lock, contextlib.suppress(EdeError):
            self._delete_keys(bucket, [run.lease_key], f"releasing run `{run_id}`")

    def _start_heartbeat(self) -> None:
        if self._heartbeat is not None and self._heartbeat.is_alive():
            return
        self._heartbeat = threading.Thread(
            target=self._beat, name="ede-s3-lease-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def _beat(self) -> None:
        while True:
            self._wake.wait(max(self.lease_ttl / 4, 0.05))
            self._wake.clear()
            with self._mutex:
                runs = list(self._runs.values())
                if not runs:
                    self._heartbeat = None
                    return
            for run in runs:
                with self._lease_lock:
                    with self._mutex:
                        if (run.bucket, run.root, run.run_id) not in self._runs:
                            continue  # released meanwhile: its lease is gone for good
                    try:
                        self._write_lease(run)
                    except Exception as exc:  # the run fails on the same outage, if lasting
                        log.debug("lease heartbeat of run `%s` failed: %s", run.run_id, exc)

    def _server_age(self, response: dict[str, Any]) -> float:
        """Seconds since ``Last-Modified``, on the server's clock (no skew with ours)."""
        modified = response.get("LastModified")
        date = ((response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}).get("date")
        if not isinstance(modified, datetime):
            return float("inf")
        now = parsedate_to_datetime(date) if date else datetime.now(UTC)
        return (now - modified).total_seconds()

    def _alive(self, bucket: str, root: str, run_id: str, what: str) -> bool:
        with self._mutex:
            if (bucket, root, run_id) in self._runs:
                return True
        try:
            head = self._s3().head_object(Bucket=bucket, Key=f"{root}{run_id}{_LEASE}")
        except Exception as exc:
            if self._code(exc) in _NOT_FOUND:
                return False
            raise self._error(exc, what) from exc
        try:
            ttl = float((head.get("Metadata") or {}).get(_TTL_META, self.lease_ttl))
        except ValueError:
            ttl = self.lease_ttl
        # Within a second of precision of Last-Modified, a fresh lease is always alive.
        return self._server_age(head) < ttl + 1.0

    # ------------------------------------------------------------------ journals

    def _read_journal(self, bucket: str, key: str, what: str) -> _Journal | None:
        try:
            response = self._s3().get_object(Bucket=bucket, Key=key)
            raw = response["Body"].read()
        except Exception as exc:
            if self._code(exc) in _NOT_FOUND:
                return None
            raise self._error(exc, what) from exc
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise EdeRuntimeError(
                f"{what}: the publish journal `s3://{bucket}/{key}` is corrupt ({exc}); check "
                "the sink's objects, then delete the journal"
            ) from exc
        return _Journal(key, str(response.get("ETag", "")), body, self._server_age(response))

    def _journal_alive(self, bucket: str, root: str, journal: _Journal, what: str) -> bool:
        if journal.body.get("claimed_by"):  # a recovery in progress: the journal is its lease
            return journal.age_s < float(journal.body.get("ttl_s", self.lease_ttl)) + 1.0
        run_id = str(journal.body.get("run_id", ""))
        return bool(run_id) and self._alive(bucket, root, run_id, what)

    def _resolve(self, bucket: str, journal: _Journal, what: str) -> None:
        """Roll back a ``copying`` journal, roll forward a ``committed`` one (owner dead)."""
        body = dict(journal.body)
        body.update(claimed_by=f"{socket.gethostname()}:{os.getpid()}", ttl_s=self.lease_ttl)
        try:
            self._put_json(bucket, journal.key, body, what, if_match=journal.etag)
        except Exception as exc:
            if self._code(exc) in _CONFLICT:
                return  # another run claimed it first, or it is gone
            raise self._error(exc, what) from exc
        state = body.get("state")
        if state == "committed":
            keys = [str(k) for k in body.get("delete", [])]
            log.info("%s: completing the interrupted publish of run `%s`", what, body["run_id"])
        else:
            keys = [str(k) for k in body.get("new", [])]
            log.info("%s: rolling back the interrupted publish of run `%s`", what, body["run_id"])
        self._delete_keys(bucket, [*keys, journal.key], what)

    def _lock_sink(
        self, bucket: str, key: str, body: dict[str, Any], staged: StagedSink, what: str
    ) -> str:
        """Create the journal (the sink's lock), waiting for or recovering its holder."""
        root = key.rsplit("/", 1)[0] + "/"
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                return self._put_json(bucket, key, body, what, if_none_match=True)
            except Exception as exc:
                if self._code(exc) not in _CONFLICT:
                    raise self._error(exc, what) from exc
            journal = self._read_journal(bucket, key, what)
            if journal is None:
                continue
            if journal.body.get("run_id") == staged.run_id and not journal.body.get("claimed_by"):
                raise EdeRuntimeError(f"{what}: this run is already publishing the sink")
            if not self._journal_alive(bucket, root, journal, what):
                self._resolve(bucket, journal, what)
                continue
            if time.monotonic() >= deadline:
                raise EdeTimeoutError(
                    f"{what}: run `{journal.body.get('run_id')}` kept the sink locked for more "
                    f"than {self.lock_timeout:g}s; nothing was published"
                )
            time.sleep(self.poll_interval)

    def _roll_back(self, bucket: str, journal_key: str | None, new: list[str], what: str) -> None:
        """Undo an uncommitted publish; what cannot be undone now, the next recovery undoes."""
        try:
            self._delete_keys(bucket, [*new, *([journal_key] if journal_key else [])], what)
        except EdeError as exc:
            log.warning("%s: roll-back left for the next run: %s", what, exc)


__all__ = ["DEFAULT_LEASE_TTL", "LEASE_TTL_ENV", "STAGING_DIR", "S3Storage", "split_url"]
