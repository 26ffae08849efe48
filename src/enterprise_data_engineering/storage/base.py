"""The storage protocol: staging, write-audit-publish and recovery, one storage per scheme.

A sink is a folder. A run asks the sink's storage for a staging folder (`Storage.stage`),
has the engine write the sink there, runs the checks, and then either publishes every
staged sink (`Storage.publish`) or discards them (`Storage.discard`). Whatever happens, and
even if the run is killed, each sink folder is afterwards either entirely its old content or
entirely its new content; the next run's `Storage.recover` (which `Storage.stage` also calls)
removes the leftovers of dead runs and completes or rolls back an interrupted publish.

Storages register by URL scheme (``file`` for local paths) in a registry that third-party
packages extend through the ``ede.storage`` entry-point group (an entry point names a
`Storage` subclass, or any callable without arguments returning a `Storage`).

A run uses it like this (the runner does it for every sink)::

    storage = storage_for("out/revenue_by_region")
    staged = storage.stage("out/revenue_by_region", run_id, "revenue_by_region")
    engine.write(WriteRequest(table="revenue_by_region", format="parquet", path=staged.path))
    ...  # run the checks
    storage.publish(staged, "overwrite")  # or storage.discard(staged) when a check failed
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from enterprise_data_engineering.common_utils.registry import Registry
from enterprise_data_engineering.errors import ConfigError, EdeError
from enterprise_data_engineering.storage.paths import scheme

#: how a staged sink replaces the published one
PublishMode = Literal["overwrite", "append"]


@dataclass(frozen=True)
class StagedSink:
    """A sink being written by a run, not yet published.

    Attributes:
        name: the sink's name in the spec (for messages).
        sink_path: where the sink is published, as the storage resolved it.
        path: the empty staging folder the engine writes into (a path or URL of the same
            storage as ``sink_path``).
        run_id: the run that staged it.
    """

    name: str
    sink_path: str
    path: str
    run_id: str


class Storage(ABC):
    """Staging, atomic publish and recovery of sink folders for one family of URLs.

    Capabilities are class flags (ARCHITECTURE §8), not ``isinstance`` checks.
    """

    #: URL schemes this storage handles (``file`` stands for local paths)
    schemes: ClassVar[tuple[str, ...]] = ()
    #: publishing a sink replaces it atomically: readers see old or new content, never a mix
    atomic_publish: ClassVar[bool] = False

    @abstractmethod
    def stage(self, sink_path: str, run_id: str, name: str) -> StagedSink:
        """Recover ``sink_path``, then create a fresh, empty staging folder for it.

        Args:
            sink_path: the sink folder (path or URL).
            run_id: the current run's id (letters, digits, ``.``, ``_``, ``-``).
            name: the sink's name in the spec, for messages.
        """

    @abstractmethod
    def publish(self, staged: StagedSink, mode: PublishMode = "overwrite") -> None:
        """Make the staged folder the sink: ``overwrite`` replaces it, ``append`` adds to it.

        Raises:
            EdeTimeoutError: another run kept the sink locked for too long.
            EdeRuntimeError: ``append`` found a file of the same name in the sink.
        """

    @abstractmethod
    def discard(self, staged: StagedSink) -> None:
        """Throw the staged folder away; the sink is left exactly as it was."""

    @abstractmethod
    def recover(self, sink_path: str) -> None:
        """Remove leftovers of dead runs beside ``sink_path``; finish interrupted publishes."""

    def fsspec_filesystem(self) -> Any:
        """An fsspec filesystem through which engines read and write this storage's URLs.

        ``None`` (the default): engines use their own I/O (local paths, or extensions).
        """
        return None

    @staticmethod
    def engine_error(filesystem: Any, message: str, what: str) -> EdeError | None:
        """The `EdeError` behind an engine failure that passed through ``filesystem``, if any.

        Engines keep only the text of an exception raised inside an fsspec filesystem; a
        storage that remembers the exception translates it here (exit 3, 4, 5...).
        """
        return None

    def list_files(self, path_or_glob: str) -> list[str]:
        """The data files a source path or glob names, sorted (see `paths.list_files`).

        Raises:
            DependencyError: nothing matches.
            ConfigError: this storage cannot list files.
        """
        raise ConfigError(f"{type(self).__name__} cannot list files such as `{path_or_glob}`")


def _s3_storage() -> Storage:
    # imported on first use: a run that never touches S3 does not load the S3 module
    from enterprise_data_engineering.storage.s3 import S3Storage

    return S3Storage()


def _load_builtins() -> None:
    from enterprise_data_engineering.storage.local import LocalStorage

    STORAGES.register("file", LocalStorage)
    STORAGES.register("s3", _s3_storage)


#: storage factories by URL scheme
STORAGES: Registry[Callable[[], Storage]] = Registry("ede.storage", "storage", _load_builtins)

_instances: dict[str, Storage] = {}
_instances_lock = threading.Lock()


def storage_for(path: str) -> Storage:
    """The storage handling ``path`` (one shared instance per scheme).

    >>> type(storage_for("out/orders")).__name__
    'LocalStorage'

    Raises:
        ConfigError: no storage is registered for the path's scheme.
    """
    name = scheme(path)
    with _instances_lock:
        storage = _instances.get(name)
        if storage is None:
            factory = STORAGES.get(name)
            if factory is None:
                known = ", ".join(f"`{s}`" for s in STORAGES.names())
                raise ConfigError(
                    f"no storage handles `{name}://` paths such as `{path}`; known: {known}"
                )
            storage = _instances[name] = factory()
    return storage


__all__ = ["STORAGES", "PublishMode", "StagedSink", "Storage", "storage_for"]
