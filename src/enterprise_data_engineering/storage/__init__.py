"""Storage: paths and URLs, staging, write-audit-publish and recovery of sinks.

See `storage.base` for the protocol and `storage.local` for how local sinks are published
atomically and recovered after a crash.
"""

from __future__ import annotations

from enterprise_data_engineering.storage.base import (
    STORAGES,
    PublishMode,
    StagedSink,
    Storage,
    storage_for,
)
from enterprise_data_engineering.storage.local import STAGING_DIR, LocalStorage
from enterprise_data_engineering.storage.paths import (
    has_glob,
    is_url,
    list_files,
    local_path,
    os_error,
    scheme,
)

__all__ = [
    "STAGING_DIR",
    "STORAGES",
    "LocalStorage",
    "PublishMode",
    "StagedSink",
    "Storage",
    "has_glob",
    "is_url",
    "list_files",
    "local_path",
    "os_error",
    "scheme",
    "storage_for",
]
