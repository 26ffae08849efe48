"""Register published sinks as tables of the AWS Glue Data Catalog (for Athena, Spark, EMR).

A sink may declare ``catalog: {database, table, description}``; after every sink of the run
is published, the runner calls `register_sink`, which:

1. creates the **database** if it does not exist (so a new pipeline needs no manual step;
   this one call needs ``glue:CreateDatabase``, every later run only ``glue:GetDatabase``);
2. creates the **table**, or updates it in place (``UpdateTable`` keeps its grants, its
   version history and whatever was not set by `ede`, such as Lake Formation settings): an
   ``EXTERNAL_TABLE`` whose ``StorageDescriptor`` has the sink's columns in Glue/Hive types
   (`glue_type`), its location (``s3://...`` with a trailing ``/``; a local sink gets a
   ``file://`` location, useful with a local Hive metastore or moto only), and the SerDe,
   input and output formats of its format (`FORMATS`); ``partition_by`` columns become
   ``PartitionKeys``, in order;
3. for a partitioned sink, makes the table's **partitions** exactly those present under the
   sink (found by listing it: ``region=eu/`` folders), created with ``BatchCreatePartition``,
   updated when the columns changed, and deleted when gone (an ``overwrite`` run that no
   longer writes a partition removes it from the catalog too). Explicit partitions, rather
   than partition projection, keep the table correct for any partition value without a
   projection template to maintain; a run adds at most the partitions it wrote.

>>> glue_type(exp.DataType.build("decimal(12,2)"))
'decimal(12,2)'
>>> glue_type(exp.DataType.build("STRUCT(a INT, b VARCHAR[])", dialect="duckdb"))
'struct<a:int,b:array<string>>'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlglot import exp

from enterprise_data_engineering.aws.session import client, translate_client_error
from enterprise_data_engineering.engines.base import Column
from enterprise_data_engineering.errors import ConfigError, DependencyError, EdeError
from enterprise_data_engineering.storage.paths import is_url, local_path, scheme

T = exp.DataType.Type

_SIMPLE: dict[Any, str] = {
    T.BOOLEAN: "boolean",
    T.TINYINT: "tinyint",
    T.UTINYINT: "smallint",
    T.SMALLINT: "smallint",
    T.USMALLINT: "int",
    T.INT: "int",
    T.UINT: "bigint",
    T.BIGINT: "bigint",
    T.UBIGINT: "decimal(20,0)",
    T.INT128: "decimal(38,0)",
    T.UINT128: "decimal(38,0)",
    T.FLOAT: "float",
    T.DOUBLE: "double",
    T.DATE: "date",
    T.DATE32: "date",
    T.TIMESTAMP: "timestamp",
    T.TIMESTAMPNTZ: "timestamp",
    T.TIMESTAMPTZ: "timestamp",
    T.TIMESTAMPLTZ: "timestamp",
    T.TIMESTAMP_S: "timestamp",
    T.TIMESTAMP_MS: "timestamp",
    T.TIMESTAMP_NS: "timestamp",
    T.DATETIME: "timestamp",
    T.VARBINARY: "binary",
    T.BINARY: "binary",
    T.BLOB: "binary",
}

#: SerDe, input and output formats and table parameters of each sink format
FORMATS: dict[str, dict[str, Any]] = {
    "parquet": {
        "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "serde_parameters": {"serialization.format": "1"},
        "input": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "parameters": {"classification": "parquet"},
    },
    "csv": {
        # The sink's CSV files have a header line and use `,` unless `delimiter` says else.
        "serde": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "serde_parameters": {"field.delim": ",", "serialization.format": ","},
        "input": "org.apache.hadoop.mapred.TextInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "parameters": {"classification": "csv", "skip.header.line.count": "1"},
    },
    "json": {
        "serde": "org.openx.data.jsonserde.JsonSerDe",
        "serde_parameters": {"paths": ""},
        "input": "org.apache.hadoop.mapred.TextInputFormat",
        "output": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "parameters": {"classification": "json"},
    },
}

_PARTITION_BATCH = 100  # BatchCreatePartition / BatchUpdatePartition take at most 100
_PARTITION_DELETE_BATCH = 25  # BatchDeletePartition takes at most 25


def glue_type(dtype: exp.DataType) -> str:
    """The Glue (Hive DDL) spelling of a SQL type, as Athena and Spark read it.

    Unsigned integers widen to the next signed type, ``hugeint`` to ``decimal(38,0)``, every
    timestamp flavour to ``timestamp``; types Hive lacks (``time``, ``uuid``, ``json``,
    ``interval``, enums) become ``string``.
    """
    kind = dtype.this
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == T.DECIMAL:
        params = [p.name for p in dtype.expressions]
        precision = params[0] if params else "18"
        scale = params[1] if len(params) > 1 else "3" if not params else "0"
        return f"decimal({precision},{scale})"
    if kind in (T.ARRAY, T.LIST):
        inner = dtype.expressions[0] if dtype.expressions else None
        return f"array<{glue_type(inner) if isinstance(inner, exp.DataType) else 'string'}>"
    if kind == T.MAP:
        kv = [e for e in dtype.expressions if isinstance(e, exp.DataType)]
        if len(kv) == 2:
            return f"map<{glue_type(kv[0])},{glue_type(kv[1])}>"
        return "map<string,string>"
    if kind == T.STRUCT:
        fields = []
        for i, member in enumerate(dtype.expressions):
            if isinstance(member, exp.ColumnDef) and isinstance(
                member.args.get("kind"), exp.DataType
            ):
                fields.append(f"{member.name}:{glue_type(member.args['kind'])}")
            elif isinstance(member, exp.DataType):
                fields.append(f"f{i}:{glue_type(member)}")
        return f"struct<{','.join(fields)}>" if fields else "string"
    return "string"


def sink_location(path: str) -> str:
    """The table location of a sink: its ``s3://`` URL, or ``file://`` for a local folder."""
    if is_url(path) and scheme(path) != "file":
        return path.rstrip("/") + "/"
    folder = Path(local_path(path)).absolute()
    return folder.as_uri().rstrip("/") + "/"


def _columns(columns: Sequence[Column], partition_by: Sequence[str]) -> tuple[list[Any], list[Any]]:
    by_name = {c.name: c for c in columns}
    missing = [p for p in partition_by if p not in by_name]
    if missing:
        raise ConfigError(
            f"partition column(s) {', '.join(f'`{m}`' for m in missing)} not in the sink"
        )
    data = [
        {"Name": c.name, "Type": glue_type(c.type)} for c in columns if c.name not in partition_by
    ]
    keys = [{"Name": p, "Type": glue_type(by_name[p].type)} for p in partition_by]
    return data, keys


def _storage_descriptor(
    location: str, fmt: str, data_columns: list[Any], options: dict[str, Any]
) -> dict[str, Any]:
    spec = FORMATS[fmt]
    serde_parameters = dict(spec["serde_parameters"])
    if fmt == "csv" and options.get("delimiter"):
        delim = str(options["delimiter"])
        serde_parameters.update({"field.delim": delim, "serialization.format": delim})
    return {
        "Columns": data_columns,
        "Location": location,
        "InputFormat": spec["input"],
        "OutputFormat": spec["output"],
        "Compressed": False,
        "SerdeInfo": {"SerializationLibrary": spec["serde"], "Parameters": serde_parameters},
        "StoredAsSubDirectories": False,
    }


def _partition_values(path: str, partition_by: Sequence[str]) -> list[tuple[str, ...]]:
    """The partition value tuples found under a sink (``k1=v1/k2=v2/`` folders)."""
    from enterprise_data_engineering.storage.paths import list_files

    try:
        files = list_files(path)
    except DependencyError:
        return []
    base = path.rstrip("/") + "/" if is_url(path) else str(Path(local_path(path))) + os.sep
    found: set[tuple[str, ...]] = set()
    for f in files:
        rel = f[len(base) :] if f.startswith(base) else f
        parts = rel.replace(os.sep, "/").split("/")[: len(partition_by)]
        values = []
        for want, part in zip(partition_by, parts, strict=False):
            key, sep, value = part.partition("=")
            if not sep or key != want:
                break
            values.append(unquote(value))
        if len(values) == len(partition_by):
            found.add(tuple(values))
    return sorted(found)


def _partition_location(location: str, partition_by: Sequence[str], values: tuple[str, ...]) -> str:
    from urllib.parse import quote

    parts = "/".join(f"{k}={quote(v, safe='')}" for k, v in zip(partition_by, values, strict=True))
    return f"{location}{parts}/"


def register_sink(
    *,
    database: str,
    table: str,
    path: str,
    format: str,
    columns: Sequence[Column],
    partition_by: Sequence[str] = (),
    description: str | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Create or update the Glue table of a published sink, and its partitions.

    Args:
        database: the Glue database (created if missing).
        table: the table name (Glue stores names in lower case).
        path: the sink folder (``s3://...``, or local).
        format: ``parquet``, ``csv`` or ``json``.
        columns: the sink's columns, partition columns included.
        partition_by: the hive partition columns, in folder order.
        description: the table's description.
        options: the sink's writer options (``delimiter`` of a CSV sink).

    Raises:
        ConfigError: unknown format, or a partition column missing from ``columns``.
        PermissionDeniedError: Glue refused (exit 4).
        NetworkError: Glue cannot be reached after retries (exit 5).
    """
    if format not in FORMATS:
        raise ConfigError(f"Glue table `{database}.{table}`: unsupported format `{format}`")
    what = f"registering sink `{path}` as Glue table `{database}.{table}`"
    glue = client("glue")
    location = sink_location(path)
    data_columns, keys = _columns(columns, partition_by)
    descriptor = _storage_descriptor(location, format, data_columns, options or {})
    table_input: dict[str, Any] = {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": descriptor,
        "PartitionKeys": keys,
        "Parameters": {
            **FORMATS[format]["parameters"],
            "EXTERNAL": "TRUE",
            "ede.managed": "true",
        },
    }
    if description:
        table_input["Description"] = description
    try:
        _ensure_database(glue, database)
        try:
            glue.get_table(DatabaseName=database, Name=table)
        except Exception as exc:
            if _code(exc) != "EntityNotFoundException":
                raise
            glue.create_table(DatabaseName=database, TableInput=table_input)
        else:
            glue.update_table(DatabaseName=database, TableInput=table_input)
        if partition_by:
            _sync_partitions(glue, database, table, path, location, format, descriptor, keys)
    except EdeError:
        raise
    except Exception as exc:
        raise translate_client_error(exc, what) from exc


def _code(exc: BaseException) -> str:
    return str(((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code") or "")


def _ensure_database(glue: Any, database: str) -> None:
    try:
        glue.get_database(Name=database)
    except Exception as exc:
        if _code(exc) != "EntityNotFoundException":
            raise
        try:
            glue.create_database(DatabaseInput={"Name": database, "Description": "created by ede"})
        except Exception as create_exc:  # created meanwhile by a concurrent run
            if _code(create_exc) != "AlreadyExistsException":
                raise


def _sync_partitions(
    glue: Any,
    database: str,
    table: str,
    path: str,
    location: str,
    fmt: str,
    descriptor: dict[str, Any],
    keys: list[Any],
) -> None:
    partition_by = [k["Name"] for k in keys]
    wanted = _partition_values(path, partition_by)
    existing: dict[tuple[str, ...], Any] = {}
    for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=table
    ):
        for part in page.get("Partitions", ()):
            existing[tuple(part["Values"])] = part

    def partition_input(values: tuple[str, ...]) -> dict[str, Any]:
        sd = dict(descriptor)
        sd["Location"] = _partition_location(location, partition_by, values)
        return {"Values": list(values), "StorageDescriptor": sd, "Parameters": {}}

    create = [partition_input(v) for v in wanted if v not in existing]
    update = [
        {"PartitionValueList": list(v), "PartitionInput": partition_input(v)}
        for v in wanted
        if v in existing and _stale(existing[v], descriptor, location, partition_by)
    ]
    delete = [{"Values": list(v)} for v in existing if v not in set(wanted)]
    for i in range(0, len(create), _PARTITION_BATCH):
        response = glue.batch_create_partition(
            DatabaseName=database, TableName=table, PartitionInputList=create[i : i + 100]
        )
        _raise_batch_errors(response, "Errors", database, table)
    for i in range(0, len(update), _PARTITION_BATCH):
        response = glue.batch_update_partition(
            DatabaseName=database, TableName=table, Entries=update[i : i + 100]
        )
        _raise_batch_errors(response, "Errors", database, table)
    for i in range(0, len(delete), _PARTITION_DELETE_BATCH):
        response = glue.batch_delete_partition(
            DatabaseName=database, TableName=table, PartitionsToDelete=delete[i : i + 25]
        )
        _raise_batch_errors(response, "Errors", database, table)


def _stale(
    partition: dict[str, Any], descriptor: dict[str, Any], location: str, partition_by: list[str]
) -> bool:
    sd = partition.get("StorageDescriptor") or {}
    want = _partition_location(location, partition_by, tuple(partition["Values"]))
    return bool(
        sd.get("Columns") != descriptor["Columns"]
        or sd.get("Location") != want
        or sd.get("InputFormat") != descriptor["InputFormat"]
    )


def _raise_batch_errors(response: dict[str, Any], key: str, database: str, table: str) -> None:
    for err in response.get(key) or ():
        detail = err.get("ErrorDetail") or {}
        code = str(detail.get("ErrorCode", ""))
        if code == "AlreadyExistsException":  # added by a concurrent run: fine
            continue
        from botocore.exceptions import ClientError

        raise translate_client_error(
            ClientError(
                {"Error": {"Code": code, "Message": str(detail.get("ErrorMessage", ""))}},
                "BatchPartition",
            ),
            f"updating the partitions of Glue table `{database}.{table}`",
        )


__all__ = ["FORMATS", "glue_type", "register_sink", "sink_location"]
