"""Local sinks: staging beside the sink, atomic publish by renaming folders, crash recovery.

Layout, for a sink folder ``<parent>/<sink>``::

    <parent>/
        <sink>/                       the published sink
        .ede-staging/                 exists only while a run stages or publishes here
            <run_id>.run.lock         flock-ed by the live run for as long as <run_id>/ exists
            <run_id>/                 the run folder
                <sink>/               the staged sink the engine writes into
                .ede-old-<sink>/      (fallback publish only) the replaced sink, until deleted
                .ede-journal-<sink>   (fallback publish only) a journal being written
            <sink>.sink.lock          flock-ed around every publish and recovery of <sink>
            <sink>.journal            (fallback publish only) a publish of <sink> in progress

Staging lives on the sink's own filesystem, so every publish is a ``rename``. A symbolic
link to a sink folder is resolved first: the sink is published beside its target.

**Who may touch what.** A run folder ``<run_id>/`` is created, written or removed only by a
holder of the ``fcntl.flock`` on ``<run_id>.run.lock``. The live run takes that lock before
it creates its folder and keeps it until it has removed the folder, so a run folder whose
lock can be taken belongs to a dead run (killed, crashed, or a machine that rebooted: locks
die with their process). Lock files are unlinked only by their holder; whoever acquires a
lock then checks that its path still names the locked file, and retries otherwise (the lock
was released and unlinked while it waited). Lock order is run lock, then sink lock.

**Publish**:

1. ``fsync`` every staged file and folder, so a published sink is durable (before taking
   the sink lock: it can take a while). Then, holding the sink lock:
2. ``append`` only: hard-link every file of the published sink into the staged folder at
   the same relative path (hive partitions such as ``region=eu/`` merge), copying where
   hard links are impossible; a name present in both is an error and nothing changes.
   New files are named by the engine with the run id, so names do not clash in practice.
3. Swap, atomically: ``renameat2(staged, sink, RENAME_EXCHANGE)`` (Linux >= 3.15, through
   ``ctypes``) exchanges the two folders in one step; when the sink does not exist yet a
   plain ``rename`` (``RENAME_NOREPLACE`` where available) is already atomic. ``fsync`` the
   parent folder.
4. After releasing the lock, delete the old content (now in the run folder), and, once the
   run has no other staged sink there, the run folder, its lock and an empty
   ``.ede-staging/``; `discard` also removes the empty parent folders `stage` created.

**Fallback** where ``renameat2`` is missing or the filesystem refuses ``RENAME_EXCHANGE``:
write the journal ``<sink>.journal`` (the run id; written in the run folder, fsync-ed, then
renamed into place), rename the sink to ``<run_id>/.ede-old-<sink>``, rename the staged
folder to the sink, delete the journal. Between the two renames the sink path is missing:
that window exists only on this fallback. Recovery of a journal (under the sink lock): if
the sink is missing, the old content is renamed back (the publish is rolled back);
otherwise the sink is whole (old or new) and the journal is dropped.

**Recovery** (`LocalStorage.recover`, also run by `LocalStorage.stage`): for each run folder
or run lock in ``.ede-staging/`` whose lock can be taken (a dead run), resolve the journals
of that run, then delete its folder and lock; then resolve any remaining journal and remove
unused sink locks; finally remove ``.ede-staging/`` if empty. A killed run therefore leaves
each sink entirely old or entirely new, and the next run needs no manual clean-up. (A
journal that cannot be resolved, because someone deleted the saved old content, stops only
its own sink, with a message saying what to restore.)

A publish that raises leaves the sink unchanged and the sink still staged: the caller
discards it (the runner discards every staged sink of a failed run).

Concurrent runs publishing the same sink are serialised by the sink lock; a run waits at
most ``lock_timeout`` seconds for it (then `EdeTimeoutError`, exit 6).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from enterprise_data_engineering.errors import (
    ConfigError,
    EdeError,
    EdeRuntimeError,
    EdeTimeoutError,
    display_path,
)
from enterprise_data_engineering.storage.base import PublishMode, StagedSink, Storage
from enterprise_data_engineering.storage.paths import list_files, local_path, os_error

#: the folder beside the sinks that holds staged sinks, locks and journals
STAGING_DIR = ".ede-staging"
_RUN_LOCK = ".run.lock"
_SINK_LOCK = ".sink.lock"
_JOURNAL = ".journal"
_OLD_PREFIX = ".ede-old-"
_JOURNAL_TMP_PREFIX = ".ede-journal-"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
# errno values meaning "this kernel or filesystem cannot do that"
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}
# errno values after which a hard link is replaced by a copy
_NO_HARD_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOTSUP}

_Renameat2 = Callable[[int, bytes, int, bytes, int], int]


def _load_renameat2() -> _Renameat2 | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc < 2.28, some libcs
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    result: _Renameat2 = fn
    return result


_renameat2 = _load_renameat2()


def _rename2(fn: _Renameat2, src: Path, dst: Path, flags: int) -> None:
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(src), None, str(dst))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a folder
        if exc.errno not in _UNSUPPORTED and exc.errno != errno.EBADF:
            raise
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raise(exc: OSError) -> None:
    raise exc


def _fsync_tree(top: Path, *, files: bool = True) -> None:
    """Flush every file (unless ``files`` is false), then every folder, deepest first."""
    for root, _dirs, names in os.walk(top, topdown=False, onerror=_raise):
        for name in names if files else ():
            path = Path(root, name)
            if not path.is_symlink():
                _fsync_file(path)
        _fsync_dir(Path(root))


def _rmtree(path: Path) -> None:
    """Delete a file or folder tree; a missing one is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _makedirs(path: Path) -> list[Path]:
    """Create ``path`` and its missing parents; return those it created, deepest first."""
    missing = [p for p in (path, *path.parents) if not p.is_dir()]
    path.mkdir(parents=True, exist_ok=True)
    return missing


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``.ede-staging/``; none if it is gone.

    Another run removes the folder once it is empty (`_remove_if_empty`), possibly between
    a recovery's check that it exists and its listing: an empty folder had nothing to recover.
    """
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
            raise


@dataclass
class _RunFolder:
    """A run's folder in one ``.ede-staging/``, and the lock proving the run is alive."""

    root: Path
    run_id: str
    fd: int
    staged: set[Path] = field(default_factory=set)
    created: list[Path] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.root / self.run_id

    @property
    def lock_path(self) -> Path:
        return self.root / (self.run_id + _RUN_LOCK)


class LocalStorage(Storage):
    """Sinks in local folders (paths and ``file://`` URLs), published atomically.

    Args:
        lock_timeout: seconds to wait for another run publishing the same sink.
        durable: ``fsync`` staged files and folders before publishing (turn off only where
            losing a just-published sink to a power cut is acceptable).
        use_exchange: use ``renameat2(RENAME_EXCHANGE)``; ``None`` (default) means where
            available; ``False`` forces the journaled fallback.
    """

    schemes: ClassVar[tuple[str, ...]] = ("file",)
    atomic_publish: ClassVar[bool] = True

    def __init__(
        self,
        *,
        lock_timeout: float = 600.0,
        durable: bool = True,
        use_exchange: bool | None = None,
    ) -> None:
        self.lock_timeout = lock_timeout
        self.durable = durable
        self._exchange = _renameat2 if use_exchange is not False else None
        self._runs: dict[tuple[Path, str], _RunFolder] = {}
        self._mutex = threading.RLock()

    # ------------------------------------------------------------------ public API

    def stage(self, sink_path: str, run_id: str, name: str) -> StagedSink:
        """Recover the sink, then create ``<parent>/.ede-staging/<run_id>/<sink>/``, empty.

        Raises:
            ConfigError: the run id or the sink folder's name cannot be used.
            EdeRuntimeError: the sink path is a file, or another sink of this run is
                staged for the same folder.
            PermissionDeniedError: the parent folder is not writable.
        """
        if not _RUN_ID.match(run_id):
            raise ConfigError(f"run id `{run_id}` must be letters, digits, `.`, `_` and `-`")
        sink = self._resolve(sink_path, name)
        self._check_folder(sink, name)
        root = sink.parent / STAGING_DIR
        try:
            created = _makedirs(sink.parent)
            self.recover(str(sink))
            with self._mutex:
                run = self._runs.get((root, run_id))
                if run is None:
                    run = self._open_run(root, run_id)
                run.created.extend(d for d in created if d not in run.created)
                staged = run.path / sink.name
                if staged in run.staged or os.path.lexists(staged):
                    raise EdeRuntimeError(
                        f"sink `{name}`: another sink of run `{run_id}` is already staged "
                        f"for `{display_path(sink)}`"
                    )
                staged.mkdir()
                run.staged.add(staged)
        except OSError as exc:
            raise os_error(exc, f"staging sink `{name}` in", str(sink.parent)) from exc
        return StagedSink(name=name, sink_path=str(sink), path=str(staged), run_id=run_id)

    def publish(self, staged: StagedSink, mode: PublishMode = "overwrite") -> None:
        """Publish the staged folder atomically (see the module docstring for the steps).

        On error the sink is unchanged and ``staged`` is still staged: `discard` it.

        Raises:
            ConfigError: unknown ``mode``.
            EdeRuntimeError: ``staged`` is not staged, the sink path is a file, or ``append``
                found a file of the same name in the sink and in the new data.
            EdeTimeoutError: another run kept the sink locked longer than ``lock_timeout``.
            PermissionDeniedError: the sink or its parent folder is not writable.
        """
        if mode not in ("overwrite", "append"):
            raise ConfigError(f"sink `{staged.name}`: unknown mode `{mode}`")
        run = self._run_of(staged)
        if run is None:
            raise EdeRuntimeError(
                f"sink `{staged.name}` is not staged (already published or discarded)"
            )
        sink, new = Path(staged.sink_path), Path(staged.path)
        lock_path = self._sink_lock_path(run.root, sink.name)
        try:
            if self.durable:  # the new files, before taking the lock: it can take a while
                _fsync_tree(new)
            lock = self._lock(lock_path, self._sink_what(run.root, sink.name))
            try:
                self._resolve_journal(run.root, sink.name)
                self._check_folder(sink, staged.name)
                if mode == "append" and sink.is_dir():
                    self._link_existing(staged, sink, new)
                    if self.durable:
                        _fsync_tree(new, files=False)
                old = self._swap(new, sink, run.path)
            finally:
                self._release(lock, lock_path)
        except OSError as exc:
            raise os_error(exc, f"publishing sink `{staged.name}` to", str(sink)) from exc
        # Published. The rest is tidying up: it must not fail the publish, and whatever stays
        # behind is removed by the next recovery.
        if old is not None:
            with contextlib.suppress(OSError):
                _rmtree(old)
        self._forget(run, new)

    def discard(self, staged: StagedSink) -> None:
        """Delete the staged folder; the sink is untouched. Discarding twice is harmless."""
        run = self._run_of(staged)
        if run is None:
            return
        try:
            _rmtree(Path(staged.path))
        except OSError as exc:
            raise os_error(exc, f"discarding staged sink `{staged.name}` at", staged.path) from exc
        self._forget(run, Path(staged.path))

    def recover(self, sink_path: str) -> None:
        """Clean ``.ede-staging/`` beside the sink: dead runs, interrupted publishes, locks.

        Raises:
            EdeTimeoutError: another run kept the sink locked longer than ``lock_timeout``.
            EdeRuntimeError: an interrupted publish cannot be resolved (the message says how).
        """
        sink = self._resolve(sink_path, sink_path)
        root = sink.parent / STAGING_DIR
        if not root.is_dir():
            return
        try:
            self._clean_dead_runs(root)
            self._clean_sinks(root, own=sink.name)
            _remove_if_empty(root)
        except OSError as exc:
            raise os_error(exc, "recovering", str(root)) from exc

    def list_files(self, path_or_glob: str) -> list[str]:
        """The data files a local path, folder or glob names, sorted (see `paths.list_files`)."""
        return list_files(path_or_glob)

    # ------------------------------------------------------------------ locks

    def _acquire(self, path: Path, *, blocking: bool, what: str) -> int | None:
        """Take an exclusive flock on ``path`` (created if missing); ``None`` if busy."""
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.005
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except (FileNotFoundError, FileExistsError):
                # .ede-staging/ was removed by another run between the two calls, or while
                # mkdir found it existing and then checked that it is a folder: try again,
                # unless something that is not a folder stands in its place
                if os.path.lexists(path.parent) and not path.parent.is_dir():
                    raise NotADirectoryError(
                        errno.ENOTDIR,
                        f"`{path.parent.name}` is not a folder (ede stages sinks in it): remove it",
                        str(path.parent),
                    ) from None
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if not blocking:
                    return None
                if time.monotonic() >= deadline:
                    raise EdeTimeoutError(
                        f"timed out after {self.lock_timeout:g} s waiting for another run "
                        f"holding {what} (lock `{display_path(path)}`)"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
                continue
            except BaseException:
                os.close(fd)
                raise
            # The holder we waited for may have unlinked the file: then our lock is worthless.
            try:
                same = os.path.samestat(path.stat(), os.fstat(fd))
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)

    def _lock(self, path: Path, what: str) -> int:
        """Take the lock on ``path``, waiting at most ``lock_timeout`` seconds."""
        fd = self._acquire(path, blocking=True, what=what)
        if fd is None:  # pragma: no cover - a blocking acquire returns a lock or raises
            raise EdeRuntimeError(f"cannot lock `{display_path(path)}`")
        return fd

    @staticmethod
    def _release(fd: int, path: Path) -> None:
        """Unlink the lock file we hold, then release it."""
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)

    @staticmethod
    def _sink_lock_path(root: Path, base: str) -> Path:
        return root / (base + _SINK_LOCK)

    @staticmethod
    def _sink_what(root: Path, base: str) -> str:
        return f"sink `{display_path(root.parent / base)}`"

    # ------------------------------------------------------------------ runs

    def _open_run(self, root: Path, run_id: str) -> _RunFolder:
        run = _RunFolder(root=root, run_id=run_id, fd=-1)
        run.fd = self._lock(run.lock_path, f"run `{run_id}`")
        try:
            run.path.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self._release(run.fd, run.lock_path)
            raise
        self._runs[(root, run_id)] = run
        return run

    def _run_of(self, staged: StagedSink) -> _RunFolder | None:
        root = Path(staged.sink_path).parent / STAGING_DIR
        with self._mutex:
            run = self._runs.get((root, staged.run_id))
            return run if run is not None and Path(staged.path) in run.staged else None

    def _forget(self, run: _RunFolder, staged: Path) -> None:
        """Drop a staged sink; with the run's last one here, remove the run folder."""
        with self._mutex:
            run.staged.discard(staged)
            if run.staged:
                return
            del self._runs[(run.root, run.run_id)]
        # Best effort: the next recovery removes whatever stays behind.
        try:
            with contextlib.suppress(OSError):
                _rmtree(run.path)
        finally:
            self._release(run.fd, run.lock_path)
        with contextlib.suppress(OSError):
            _remove_if_empty(run.root)
            for folder in run.created:
                _remove_if_empty(folder)

    # ------------------------------------------------------------------ publish steps

    @staticmethod
    def _resolve(sink_path: str, name: str) -> Path:
        sink = Path(os.path.realpath(Path(local_path(sink_path)).absolute()))
        if sink.name in ("", ".", ".."):
            raise ConfigError(f"sink `{name}`: `{sink_path}` cannot be a sink folder")
        if sink.name.startswith(".ede-"):
            raise ConfigError(f"sink `{name}`: folder names starting with `.ede-` are reserved")
        return sink

    @staticmethod
    def _check_folder(sink: Path, name: str) -> None:
        if os.path.lexists(sink) and not sink.is_dir():
            raise EdeRuntimeError(
                f"sink `{name}`: `{display_path(sink)}` exists and is not a folder"
            )

    def _link_existing(self, staged: StagedSink, sink: Path, new: Path) -> None:
        """Add the sink's current files to the staged folder ``new`` (``append``)."""
        for top, dirs, files in os.walk(sink, onerror=_raise):
            root = Path(top)
            rel = root.relative_to(sink)
            target = new / rel
            if os.path.lexists(target) and not target.is_dir():
                raise self._clash(staged, rel)
            target.mkdir(parents=True, exist_ok=True)
            links = [d for d in dirs if (root / d).is_symlink()]
            for name in [*files, *links]:
                src, dst = root / name, target / name
                if os.path.lexists(dst):
                    raise self._clash(staged, rel / name)
                if src.is_symlink():
                    dst.symlink_to(src.readlink())
                    continue
                try:
                    os.link(src, dst, follow_symlinks=False)
                except OSError as exc:
                    if exc.errno not in _NO_HARD_LINK:
                        raise
                    shutil.copy2(src, dst, follow_symlinks=False)

    @staticmethod
    def _clash(staged: StagedSink, rel: Path) -> EdeError:
        return EdeRuntimeError(
            f"cannot append to sink `{staged.name}`: `{rel.as_posix()}` is both in "
            f"`{display_path(staged.sink_path)}` and in the new data; nothing was published"
        )

    def _swap(self, new: Path, sink: Path, run_path: Path) -> Path | None:
        """Put ``new`` in place of ``sink``; return where the old content now is."""
        if not os.path.lexists(sink):
            self._rename_new(new, sink)
            if self.durable:
                _fsync_dir(sink.parent)
            return None
        if self._exchange is not None:
            try:
                _rename2(self._exchange, new, sink, _RENAME_EXCHANGE)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
            else:
                if self.durable:
                    _fsync_dir(sink.parent)
                    _fsync_dir(run_path)
                return new
        return self._swap_journaled(new, sink, run_path)

    def _rename_new(self, new: Path, sink: Path) -> None:
        if self._exchange is not None:
            try:
                _rename2(self._exchange, new, sink, _RENAME_NOREPLACE)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
            else:
                return
        new.rename(sink)

    def _swap_journaled(self, new: Path, sink: Path, run_path: Path) -> Path:
        """The fallback: journal, sink aside, new in, journal gone (see the module docstring)."""
        root = run_path.parent
        backup = run_path / (_OLD_PREFIX + sink.name)
        self._write_journal(root, sink.name, run_path.name)
        try:
            sink.rename(backup)
            new.rename(sink)
            if self.durable:
                _fsync_dir(sink.parent)
                _fsync_dir(run_path)
        except BaseException:
            self._resolve_journal(root, sink.name)  # roll back whichever step failed
            raise
        self._drop_journal(root, sink.name)
        return backup

    @staticmethod
    def _write_journal(root: Path, base: str, run_id: str) -> None:
        tmp = root / run_id / (_JOURNAL_TMP_PREFIX + base)
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(run_id)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(root / (base + _JOURNAL))
        _fsync_dir(root)

    @staticmethod
    def _drop_journal(root: Path, base: str) -> None:
        try:
            (root / (base + _JOURNAL)).unlink()
        except FileNotFoundError:
            return
        _fsync_dir(root)

    @staticmethod
    def _journal_run(root: Path, base: str) -> str | None:
        try:
            return (root / (base + _JOURNAL)).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None

    def _resolve_journal(self, root: Path, base: str) -> None:
        """Finish or roll back an interrupted fallback publish of ``base`` (sink lock held)."""
        run_id = self._journal_run(root, base)
        if run_id is None:
            return
        sink = root.parent / base
        if not os.path.lexists(sink):
            backup = root / run_id / (_OLD_PREFIX + base)
            if not _RUN_ID.match(run_id) or not os.path.lexists(backup):
                raise EdeRuntimeError(
                    f"an interrupted publish left sink `{display_path(sink)}` missing and its "
                    f"previous content cannot be found; restore the folder, then delete "
                    f"`{display_path(root / (base + _JOURNAL))}`"
                )
            backup.rename(sink)  # roll back: the new content never landed
            _fsync_dir(sink.parent)
        self._drop_journal(root, base)

    # ------------------------------------------------------------------ recovery

    def _clean_dead_runs(self, root: Path) -> None:
        run_ids: set[str] = set()
        for entry in _entries(root):
            if entry.is_dir(follow_symlinks=False):
                run_ids.add(entry.name)
            elif entry.name.endswith(_RUN_LOCK):
                run_ids.add(entry.name[: -len(_RUN_LOCK)])
        for run_id in sorted(run_ids):
            lock_path = root / (run_id + _RUN_LOCK)
            fd = self._acquire(lock_path, blocking=False, what=f"run `{run_id}`")
            if fd is None:  # the run is alive
                continue
            try:
                # The dead run's folder may hold the old content of a sink it was publishing.
                for base in self._journals(root):
                    if self._journal_run(root, base) == run_id:
                        self._with_sink_lock(root, base, blocking=True, strict=False)
                _rmtree(root / run_id)
            finally:
                self._release(fd, lock_path)

    def _clean_sinks(self, root: Path, own: str) -> None:
        bases = {own, *self._journals(root)}
        bases.update(
            e.name[: -len(_SINK_LOCK)] for e in _entries(root) if e.name.endswith(_SINK_LOCK)
        )
        for base in sorted(bases):
            self._with_sink_lock(root, base, blocking=base == own, strict=base == own)

    def _with_sink_lock(self, root: Path, base: str, *, blocking: bool, strict: bool) -> None:
        """Take the sink lock, resolve the sink's journal, release and unlink the lock.

        Not ``strict``: a journal that cannot be resolved is left for its own sink's recovery
        to report, so that it does not block the other sinks of the folder.
        """
        lock_path = self._sink_lock_path(root, base)
        fd = self._acquire(lock_path, blocking=blocking, what=self._sink_what(root, base))
        if fd is None:
            return
        try:
            self._resolve_journal(root, base)
        except EdeRuntimeError:
            if strict:
                raise
        finally:
            self._release(fd, lock_path)

    @staticmethod
    def _journals(root: Path) -> list[str]:
        return sorted(
            e.name[: -len(_JOURNAL)]
            for e in _entries(root)
            if e.name.endswith(_JOURNAL) and e.is_file(follow_symlinks=False)
        )


__all__ = ["STAGING_DIR", "LocalStorage"]
