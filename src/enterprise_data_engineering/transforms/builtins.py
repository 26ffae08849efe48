"""The built-in transforms of CONTRACT §4, each written once as a SQLGlot builder.

They live in one module per family: :mod:`.columns` (names, types, which columns),
:mod:`.rows` (which rows) and :mod:`.values` (what the values are). The registry loads
:data:`BUILTIN_TRANSFORMS`; a plugin of the same name replaces a built-in only if it is
registered explicitly.
"""

from __future__ import annotations

from enterprise_data_engineering.transforms.base import Transform
from enterprise_data_engineering.transforms.columns import (
    AddAuditColumns,
    CastColumns,
    CleanColumnNames,
    DeriveColumns,
    DropColumns,
    EnforceSchema,
    RemoveEmptyColumns,
    RenameColumns,
    SelectColumns,
)
from enterprise_data_engineering.transforms.rows import DeduplicateRows, FilterRows
from enterprise_data_engineering.transforms.values import Mask, StandardizeDates

#: every built-in transform class, in the order of CONTRACT §4
BUILTIN_TRANSFORMS: list[type[Transform]] = [
    CleanColumnNames,
    RenameColumns,
    SelectColumns,
    DropColumns,
    CastColumns,
    FilterRows,
    DeriveColumns,
    DeduplicateRows,
    RemoveEmptyColumns,
    StandardizeDates,
    EnforceSchema,
    AddAuditColumns,
    Mask,
]

__all__ = [
    "BUILTIN_TRANSFORMS",
    "AddAuditColumns",
    "CastColumns",
    "CleanColumnNames",
    "DeduplicateRows",
    "DeriveColumns",
    "DropColumns",
    "EnforceSchema",
    "FilterRows",
    "Mask",
    "RemoveEmptyColumns",
    "RenameColumns",
    "SelectColumns",
    "StandardizeDates",
]
