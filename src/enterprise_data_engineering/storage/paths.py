"""Paths and URLs: which storage a path belongs to, and expanding source globs.

A path is either a local path (``data/orders.csv``, ``/srv/lake/orders``), a ``file://`` URL,
or a URL of another scheme (``s3://bucket/prefix``) handled by another storage. The scheme of
a local path is ``file``.

>>> scheme("s3://bucket/orders/")
's3'
>>> scheme("data/orders/*.csv")
'file'
>>> local_path("file:///srv/lake/orders")
'/srv/lake/orders'
"""

from __future__ import annotations

import errno
import glob
import os
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
    PermissionDeniedError,
    display_path,
)

# Two or more characters before "://" so that a Windows drive ("C:\\data") is not a URL.
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+)://")
_GLOB_CHARS = re.compile(r"[*?\[]")


def is_url(path: str) -> bool:
    """Whether ``path`` is a URL (``scheme://...``), including ``file://`` URLs."""
    return _URL.match(path) is not None


def scheme(path: str) -> str:
    """The storage scheme of ``path``, lower-case: ``file`` for local paths."""
    match = _URL.match(path)
    return match.group("scheme").lower() if match else "file"


def local_path(path: str) -> str:
    """The local filesystem path of a local path or ``file://`` URL.

    Raises:
        ConfigError: ``path`` is a URL of another scheme.
    """
    if not is_url(path):
        return path
    if scheme(path) != "file":
        raise ConfigError(f"`{path}` is not a local path")
    parsed = urlparse(path)
    if parsed.netloc not in ("", "localhost"):
        raise ConfigError(f"`{path}` names a remote host; only local `file://` URLs are supported")
    return unquote(parsed.path)


def folder_key(path: str) -> tuple[str, ...]:
    """``path`` as a folder that compares with other folders: where it lives, then its names.

    A local path or a local ``file://`` URL becomes its real absolute path (relative to the
    working directory; ``.``, ``..``, repeated and trailing slashes and symbolic links
    resolved), so ``out/x/``, ``./out/x`` and ``file:///abs/out/x`` give the same key. Another
    URL keeps its lower-case scheme (``s3a`` counts as ``s3``) and host, and its path is
    normalized the same way without asking the storage. One folder is inside another when
    the other's key is a prefix of its key.

    >>> folder_key("s3://lake/out/./x/../y/")
    ('s3://lake', 'out', 'y')
    >>> folder_key("S3A://lake/out/y") == folder_key("s3://lake/out//y/")
    True
    """
    if is_url(path):
        parsed = urlparse(path)
        name = scheme(path)
        if name != "file" or parsed.netloc not in ("", "localhost"):
            name = "s3" if name == "s3a" else name
            normalized = posixpath.normpath("/" + parsed.path)
            return (f"{name}://{parsed.netloc}", *(p for p in normalized.split("/") if p))
        path = unquote(parsed.path)
    real = Path(path).expanduser().resolve()
    return (f"file://{real.anchor}", *real.parts[1:])


def has_glob(path: str) -> bool:
    """Whether ``path`` contains glob characters (``*``, ``?``, ``[``)."""
    return _GLOB_CHARS.search(path) is not None


def os_error(exc: OSError, action: str, path: str, *, is_input: bool = False) -> EdeError:
    """Translate an ``OSError`` raised while ``action`` on ``path`` into the closest `EdeError`.

    ``EACCES``/``EPERM``/``EROFS`` become `PermissionDeniedError` (exit 4); a missing input
    (``ENOENT`` with ``is_input``) becomes `DependencyError` (exit 3); anything else becomes
    `EdeRuntimeError` (exit 2). The message names the path; the caller raises it ``from exc``.

    Args:
        exc: the error the operating system raised.
        action: what was being done, e.g. ``"publishing sink"``.
        path: the path involved (rendered relative to the working directory when below it).
        is_input: the path is something the run reads.
    """
    shown = display_path(path)
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return PermissionDeniedError(f"permission denied {action} `{shown}`: {reason}")
    if exc.errno == errno.ENOENT and is_input:
        return DependencyError(f"`{shown}` does not exist ({action})")
    return EdeRuntimeError(f"error {action} `{shown}`: {reason}")


def is_hidden(name: str) -> bool:
    """Whether a file or folder name is not data, by the Hadoop/Spark convention.

    ``_SUCCESS``, ``.part-0.crc`` and ``_committed_…`` are not data; a hive partition folder
    such as ``_p=1`` (a sink partitioned by a column named ``_p``) is, as in Spark.
    """
    return name.startswith(".") or (name.startswith("_") and "=" not in name)


def _walk_files(folder: str) -> list[str]:
    found: list[str] = []

    def on_error(exc: OSError) -> None:
        raise exc

    for root, dirs, files in os.walk(folder, onerror=on_error, followlinks=True):
        dirs[:] = [d for d in dirs if not is_hidden(d)]
        found.extend(str(Path(root, f)) for f in files if not is_hidden(f))
    return found


def list_files(path_or_glob: str) -> list[str]:
    """The data files a source path names, sorted.

    A file names itself; a folder names every file below it (recursively, so hive partitions
    such as ``region=eu/`` are included), skipping names that start with ``.`` or ``_``
    (``_SUCCESS``, ``.crc`` files); a glob (``*``, ``?``, ``[...]``, ``**``) names the files it
    matches, and the files below the folders it matches. A ``file://`` URL is accepted; other
    schemes are listed by their storage (see `storage_for`).

    >>> list_files("data/orders/*.csv")  # doctest: +SKIP
    ['data/orders/2024-01.csv', 'data/orders/2024-02.csv']

    Raises:
        DependencyError: nothing matches.
        PermissionDeniedError: a folder cannot be read.
    """
    if is_url(path_or_glob) and scheme(path_or_glob) != "file":
        from enterprise_data_engineering.storage.base import storage_for

        return storage_for(path_or_glob).list_files(path_or_glob)
    path = local_path(path_or_glob)
    candidates = sorted(glob.glob(path, recursive=True)) if has_glob(path) else [path]
    found: list[str] = []
    try:
        for candidate in candidates:
            if Path(candidate).is_dir():
                found.extend(_walk_files(candidate))
            elif Path(candidate).is_file():
                found.append(candidate)
    except OSError as exc:
        raise os_error(exc, "listing", exc.filename or path, is_input=True) from exc
    if not found:
        raise DependencyError(f"no files match `{display_path(path)}`")
    return sorted(set(found))


__all__ = [
    "folder_key",
    "has_glob",
    "is_hidden",
    "is_url",
    "list_files",
    "local_path",
    "os_error",
    "scheme",
]
