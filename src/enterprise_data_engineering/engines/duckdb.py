"""The embedded engine: DuckDB in-process.

DuckDB runs with a memory limit and a temporary directory of its own, so inputs larger than
memory spill to disk instead of failing. Sources are read through DuckDB's Python readers
(no SQL text is assembled); every other statement is a SQLGlot expression rendered in
DuckDB's dialect. Driver errors are translated into the most specific `EdeError`.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlglot import exp

from enterprise_data_engineering.engines.base import (
    Column,
    Engine,
    EngineSettings,
    ReadRequest,
    WriteRequest,
    refuse_case_duplicates,
)
from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
    PermissionDeniedError,
    display_path,
)
from enterprise_data_engineering.storage.base import Storage, storage_for
from enterprise_data_engineering.storage.paths import (
    has_glob,
    is_url,
    list_files,
    local_path,
    scheme,
)

if TYPE_CHECKING:
    import duckdb

#: spec option name → DuckDB ``read_csv`` keyword (engine-neutral names first)
_CSV_OPTIONS = {
    "header": "header",
    "delimiter": "sep",
    "sep": "sep",
    "quote": "quotechar",
    "escape": "escapechar",
    "null_value": "na_values",
    "nullstr": "na_values",
    "encoding": "encoding",
    "skip_rows": "skiprows",
    "date_format": "date_format",
    "timestamp_format": "timestamp_format",
    "all_varchar": "all_varchar",
    "compression": "compression",
}
#: ``read_csv`` keyword → the ``sniff_csv`` argument it is given as (`DuckDBEngine._sniff_csv`)
_SNIFF_OPTIONS = {
    "header": "header",
    "sep": "delim",
    "quotechar": "quote",
    "escapechar": "escape",
    "na_values": "nullstr",
    "encoding": "encoding",
    "skiprows": "skip",
    "date_format": "dateformat",
    "timestamp_format": "timestampformat",
    "all_varchar": "all_varchar",
    "compression": "compression",
}
#: ``sniff_csv`` result column → the ``read_csv`` keyword that freezes it
_SNIFFED_DIALECT = (
    ("Delimiter", "sep"),
    ("Quote", "quotechar"),
    ("Escape", "escapechar"),
    ("Comment", "comment"),
    ("SkipRows", "skiprows"),
    ("HasHeader", "header"),
    ("DateFormat", "date_format"),
    ("TimestampFormat", "timestamp_format"),
)
_EXTENSIONS = {
    "csv": (".csv", ".csv.gz", ".tsv", ".txt"),
    "parquet": (".parquet",),
    "json": (".json", ".jsonl", ".ndjson", ".json.gz"),
}


_CSV_ERROR = re.compile(r"CSV Error on Line: \d+")
_CSV_ERROR_FILE = re.compile(r"^\s*file = (.+)$", re.MULTILINE)


def duckdb_message(exc: Exception) -> str:
    """DuckDB's error as one line: its first line, and for a CSV error what and where.

    DuckDB's CSV errors say ``CSV Error on Line: 3`` first and only then which column,
    which value and which file; those are what a user needs to fix the data.

    >>> duckdb_message(ValueError('Conversion Error: CSV Error on Line: 3\\nOriginal Line: '
    ...     'x,4\\nError when converting column "a". Could not convert string "x"\\n\\n'
    ...     '  file = in.csv'))
    'Conversion Error: CSV Error on Line: 3 of `in.csv`: Error when converting column "a". \
Could not convert string "x"'
    """
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    lines = text.splitlines()
    first = lines[0].strip()
    if not _CSV_ERROR.search(first):
        return first
    file = _CSV_ERROR_FILE.search(text)
    if file:
        first += f" of `{display_path(file[1].strip())}`"
    detail = next(
        (
            line.strip()
            for line in lines[1:]
            if line.strip() and not line.startswith("Original Line")
        ),
        None,
    )
    return f"{first}: {detail}" if detail else first


def translate_duckdb_error(exc: Exception, what: str) -> EdeError:
    """Map a DuckDB exception to the most specific `EdeError`; ``what`` names the object."""
    import duckdb

    first = duckdb_message(exc)
    if isinstance(exc, duckdb.PermissionException) or "Permission denied" in str(exc):
        return PermissionDeniedError(f"{what}: permission denied: {first}")
    if isinstance(exc, duckdb.IOException) and (
        "No files found" in str(exc) or "No such file" in str(exc) or "does not exist" in str(exc)
    ):
        return DependencyError(f"{what}: input missing: {first}")
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException | duckdb.ParserException):
        return ConfigError(f"{what}: {first}")
    if isinstance(exc, duckdb.InvalidInputException) and "read_csv" in str(exc):
        return ConfigError(f"{what}: {first}")
    return EdeRuntimeError(f"{what}: {first}")


#: sink option (SINK_OPTIONS in engines/base.py) → DuckDB COPY option
_COPY_OPTIONS = {
    "delimiter": "DELIMITER",
    "header": "HEADER",
    "quote": "QUOTE",
    "escape": "ESCAPE",
    "null_value": "NULLSTR",
    "date_format": "DATEFORMAT",
    "timestamp_format": "TIMESTAMPFORMAT",
    "compression": "COMPRESSION",
}


def _data_type(text: str) -> exp.DataType:
    """A DuckDB type name as a SQLGlot type; what SQLGlot cannot parse stays user-defined."""
    try:
        return exp.DataType.build(text, dialect="duckdb", udt=True)
    except Exception:  # e.g. exotic nested types: keep the name, the engine knows it
        return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=text)


_RENAMED = re.compile(r"(.+)_\d+")


def _looks_renamed(names: list[str]) -> bool:
    """Whether DuckDB may have renamed a duplicate column (``amount`` beside ``amount_1``)."""
    folded = {name.casefold() for name in names}
    return any(
        (m := _RENAMED.fullmatch(name)) is not None and m[1].casefold() in folded for name in names
    )


def _top_level_names(rows: list[tuple[Any, Any]]) -> list[str]:
    """Top-level column names from ``parquet_schema`` rows ``(name, num_children)`` of a file.

    The first row is the schema's root; nested fields follow their parent depth-first.
    """
    names: list[str] = []
    pending = [int(rows[0][1] or 0)] if rows else []  # children left, per open level
    for name, children in rows[1:]:
        while pending and pending[-1] == 0:
            pending.pop()
        if not pending:
            break
        pending[-1] -= 1
        if len(pending) == 1:
            names.append(str(name))
        if children:
            pending.append(int(children))
    return names


def _without_empty_files(files: list[str]) -> list[str]:
    """``files`` without the local ones of zero bytes (a day that produced nothing).

    DuckDB cannot sniff an empty CSV file and fails the whole read, and reads an empty JSON
    file as a made-up `json` column; such a file holds no rows, so it is left out. Remote
    files are kept (listing gives no sizes here).
    """
    kept: list[str] = []
    for file in files:
        if not (is_url(file) and scheme(file) != "file"):
            with contextlib.suppress(OSError):
                if Path(local_path(file)).stat().st_size == 0:
                    continue
        kept.append(file)
    return kept


def _raw_name(request: ReadRequest) -> str:
    return f"{request.name}__ede_raw"


class DuckDBEngine(Engine):
    """DuckDB, in-process; the default engine.

    Args:
        settings: memory limit, temporary (spill) directory and threads. Without a
            temporary directory a private one is created and removed on :meth:`close`.
    """

    name: ClassVar[str] = "duckdb"
    dialect: ClassVar[str] = "duckdb"
    spills_to_disk: ClassVar[bool] = True

    def __init__(self, settings: EngineSettings | None = None) -> None:
        import duckdb

        self.settings = settings or EngineSettings()
        self._own_temp: str | None = None
        temp = self.settings.temp_directory
        if temp is None:
            temp = self._own_temp = tempfile.mkdtemp(prefix="ede-duckdb-")
        config: dict[str, Any] = {"temp_directory": temp}
        if self.settings.memory_limit:
            config["memory_limit"] = self.settings.memory_limit
        if self.settings.threads:
            config["threads"] = self.settings.threads
        try:
            self.connection: duckdb.DuckDBPyConnection = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            if self._own_temp:
                shutil.rmtree(self._own_temp, ignore_errors=True)
            raise ConfigError(f"invalid DuckDB settings {config}: {exc}") from exc
        # Compute in UTC, like the Spark engine (spark.sql.session.timeZone): otherwise DuckDB
        # takes the host's zone, and parsing `10:00+0200` or casting a TIMESTAMPTZ gives other
        # wall-clock values (and other `mask` hashes) on another scheduler host. Set after
        # connecting: the ICU extension that owns the setting is loaded by then. A build
        # without ICU has no time zones but UTC, so a refusal there changes nothing.
        utc = exp.Set(
            expressions=[
                exp.SetItem(
                    this=exp.EQ(this=exp.var("TimeZone"), expression=exp.Literal.string("UTC"))
                )
            ]
        )
        with contextlib.suppress(duckdb.Error):
            self.connection.execute(self.render(utc))
        #: (storage, fsspec filesystem) registered with DuckDB, by URL scheme (`_use_remote`)
        self._remote: dict[str, tuple[Storage, Any] | None] = {}

    # -- remote storage (s3://, ...) -------------------------------------------------------------
    # DuckDB's own httpfs extension is not required: a storage that offers an fsspec filesystem
    # (``fsspec_filesystem()``, e.g. `storage.s3.S3Storage`) is registered with the connection,
    # and DuckDB reads and writes its URLs through it. Local paths never go through here.
    def _use_remote(self, path: str) -> None:
        """Register the fsspec filesystem of ``path``'s storage (once per scheme)."""
        name = scheme(path)
        if name == "file" or name in self._remote:
            return
        storage = storage_for(path)
        filesystem = storage.fsspec_filesystem()
        if filesystem is None:  # left to DuckDB's own extensions
            self._remote[name] = None
            return
        self.connection.register_filesystem(filesystem)
        self._remote[name] = (storage, filesystem)

    def _remote_error(self, exc: Exception, what: str) -> EdeError | None:
        """The storage's own error (unreachable, access denied...) behind a DuckDB failure.

        Views over remote files are read lazily, so any statement may fail there.
        """
        for entry in self._remote.values():
            if entry is not None:
                storage, filesystem = entry
                found = storage.engine_error(filesystem, str(exc), what)
                if found is not None:
                    return found
        return None

    # -- read -------------------------------------------------------------------------------
    def _files(self, request: ReadRequest) -> list[str]:
        """The files of a local source (a file, a folder or a glob); URLs go to DuckDB."""
        path = request.path
        if is_url(path) and scheme(path) != "file":
            return self._remote_files(request)
        try:
            found = list_files(path)
        except DependencyError as exc:
            raise DependencyError(f"source `{request.name}`: {exc}") from exc
        if Path(local_path(path)).is_dir():
            # A folder may hold other files (a README, a manifest): keep the format's own.
            exts = _EXTENSIONS.get(request.format, ())
            found = [f for f in found if f.lower().endswith(exts)] or found
        return found

    def _remote_files(self, request: ReadRequest) -> list[str]:
        """The objects of a remote source, listed by its storage, readable by DuckDB."""
        storage = storage_for(request.path)
        if type(storage).list_files is Storage.list_files:  # cannot list: DuckDB's extensions may
            return [request.path]
        try:
            found = storage.list_files(request.path)
        except DependencyError as exc:
            raise DependencyError(f"source `{request.name}`: {exc}") from exc
        self._use_remote(request.path)
        if not has_glob(request.path) and found != [request.path]:  # a folder
            exts = _EXTENSIONS.get(request.format, ())
            found = [f for f in found if f.lower().endswith(exts)] or found
        return found

    def read(self, request: ReadRequest) -> None:
        """Create view ``request.name`` over the source files, casting declared columns."""
        import duckdb

        files = self._files(request)
        con = self.connection
        opts = dict(request.options)
        hive = bool(opts.pop("hive_partitioning", any("=" in Path(f).parent.name for f in files)))
        target = _raw_name(request) if request.columns else request.name
        try:
            if request.format == "csv":
                kwargs = {_CSV_OPTIONS.get(k, k): v for k, v in opts.items()}
                if isinstance(kwargs.get("na_values"), str):
                    kwargs["na_values"] = [kwargs["na_values"]]
                kwargs.setdefault("header", True)
                files = _without_empty_files(files)
                if not files:  # every file is empty: zero rows of the declared columns
                    rel, frozen = self._empty_source(request), None
                else:
                    rel, frozen = self._read_csv(files, hive, kwargs, target, request.columns)
                if _looks_renamed(rel.columns) and frozen is not None and frozen.get("header"):
                    refuse_case_duplicates(request, files[0], self._csv_header(files[0], frozen))
            elif request.format == "parquet":
                by_name = len(files) > 1 and self._parquet_schemas_differ(files)
                opts.setdefault("union_by_name", by_name)
                rel = con.read_parquet(files, hive_partitioning=hive, **opts)
                if _looks_renamed(rel.columns):
                    refuse_case_duplicates(request, files[0], self._parquet_names(files[0]))
            elif request.format == "json":
                # `auto`: newline-delimited records, or a file that is one array of records
                # (as Spark reads a line holding an array: one row per element)
                opts.setdefault("format", "auto")
                files = _without_empty_files(files)
                if not files:  # every file is empty: zero rows of the declared columns
                    rel = self._empty_source(request)
                else:
                    rel = self._json_as_text(con.read_json(files, **opts), target)
            else:
                raise ConfigError(f"source `{request.name}`: unknown format `{request.format}`")
            rel.create_view(target, replace=True)
        except TypeError as exc:
            raise ConfigError(f"source `{request.name}`: invalid option: {exc}") from exc
        except duckdb.Error as exc:
            what = f"source `{request.name}`"
            raise self._remote_error(exc, what) or translate_duckdb_error(exc, what) from exc
        if request.columns:
            self._enforce(request)

    def _read_csv(
        self,
        files: list[str],
        hive: bool,
        kwargs: dict[str, Any],
        view: str,
        declared: dict[str, exp.DataType] | None = None,
    ) -> tuple[Any, dict[str, Any] | None]:
        """A CSV relation whose dialect and column types are sniffed once, here.

        Left to itself, DuckDB's ``read_csv`` relation sniffs a file several times while it
        pins the schema (about three sniffs, ~120 ms on a 170 MB file), and for a list of
        files it sniffs again at every bind of the view (once per transform). So the first
        file is sniffed once with ``sniff_csv`` and the dialect and column types it reports
        are passed to the reader explicitly with ``auto_detect=False``. Options the sniffer
        cannot be given (see `_SNIFF_OPTIONS`), hive partitions and anything the explicit form
        cannot express fall back to DuckDB's own detection. Returns the relation and the
        frozen keywords (``None`` when DuckDB detected on its own).

        Several files with a header row are read by `_read_csv_files` (each one sniffed).
        ``view`` names the source's view; ``declared`` columns are read as their declared
        types there.
        """
        target = files if len(files) > 1 else files[0]
        sniffed = self._sniff_csv(files[0], kwargs)
        if sniffed is not None and sniffed.get("header") and len(files) > 1:
            return self._read_csv_files(files, hive, kwargs, sniffed, view, declared), sniffed
        if hive:
            sniffed = None
        if sniffed is None:
            return self._csv_relation(target, hive_partitioning=hive, **kwargs), None
        frozen = {**sniffed, **{k: v for k, v in kwargs.items() if k != "all_varchar"}}
        try:
            return self._csv_relation(target, **frozen), frozen
        except Exception:  # an unusual dialect the explicit form cannot express
            return self._csv_relation(target, **kwargs), None

    def _csv_relation(self, files: str | list[str], **kwargs: Any) -> Any:
        """DuckDB's CSV relation over ``files`` with ``read_csv`` keywords ``kwargs``.

        The Python ``read_csv`` refuses any ``encoding`` but UTF-8 (it goes through COPY),
        while the SQL table function decodes latin-1 or UTF-16: with an ``encoding``, the
        relation is that table function's, with the same arguments under their SQL names.
        """
        if "encoding" not in kwargs:
            return self.connection.read_csv(files, **kwargs)
        paths: exp.Expr = (
            exp.Literal.string(files)
            if isinstance(files, str)
            else exp.Array(expressions=[exp.Literal.string(f) for f in files])
        )
        args: list[exp.Expr] = [paths]
        for key, value in kwargs.items():
            literal: exp.Expr
            if isinstance(value, dict):
                literal = exp.Struct(
                    expressions=[
                        exp.PropertyEQ(this=exp.Literal.string(k), expression=exp.convert(v))
                        for k, v in value.items()
                    ]
                )
            else:
                literal = exp.convert(value)
            name = _SNIFF_OPTIONS.get(key, key)
            args.append(exp.PropertyEQ(this=exp.var(name), expression=literal))
        query = exp.select("*").from_(exp.Anonymous(this="read_csv", expressions=args))
        return self.connection.sql(self.render(query))

    def _read_csv_files(
        self,
        files: list[str],
        hive: bool,
        kwargs: dict[str, Any],
        sniffed: dict[str, Any],
        view: str,
        declared: dict[str, exp.DataType] | None = None,
    ) -> Any:
        """Several CSV files with header rows, as one relation matching columns by name.

        Every file is sniffed with the first file's dialect, as Spark infers a schema from
        all files: a column is typed to hold the values of every file (`10` in one file and
        `10.5` in another make a DOUBLE, as `UNION` combines types), where DuckDB alone
        types the columns from the first files only and fails on a later one. Files whose
        headers differ (another column order, added or missing columns) are matched by
        column name, as a data engineer expects of a glob of daily files; DuckDB alone
        would read them by position, silently swapping same-typed columns. Files with the
        same header are read together, and the parts combined with ``UNION ALL BY NAME``:
        columns in order of first appearance, a column a file lacks is null. A ``declared``
        column is read from the text as its declared type (as DuckDB does when it pushes
        the declared cast into a single reader), not through a sniffed type.
        """
        wanted = {name.lower(): t.sql("duckdb") for name, t in (declared or {}).items()}
        con = self.connection
        dialect = {
            k: v for k, v in sniffed.items() if k in ("sep", "quotechar", "escapechar", "skiprows")
        }
        ask = {**kwargs, **dialect, "header": True}
        groups: dict[tuple[str, ...], list[str]] = {}
        found_types: dict[str, dict[str, str]] = {}  # column -> file -> sniffed type
        for file in files:
            found = sniffed if file == files[0] else self._sniff_csv(file, ask)
            if found is None:  # the sniffer cannot be asked: DuckDB's own (slower) matching
                return self._csv_relation(
                    files, hive_partitioning=hive, union_by_name=True, **kwargs
                )
            groups.setdefault(tuple(found["columns"]), []).append(file)
            for name, dtype in found["columns"].items():
                found_types.setdefault(name.lower(), {})[file] = dtype
        frozen = {
            **{k: v for k, v in sniffed.items() if k not in ("columns", "header")},
            **{k: v for k, v in kwargs.items() if k != "all_varchar"},
            "header": True,
        }
        types: dict[str, str] = {}
        for name, by_file in found_types.items():
            if name in wanted:
                types[name] = wanted[name]
                continue
            if len(set(by_file.values())) > 1:
                # a column with no value in a file is sniffed VARCHAR there: that file's
                # nulls fit any type, so it does not make the column text
                by_file = {
                    file: dtype
                    for file, dtype in by_file.items()
                    if dtype != "VARCHAR" or self._csv_has_values(file, name, frozen)
                }
            types[name] = self._common_type(list(by_file.values()) or ["VARCHAR"])
        parts: list[exp.Select] = []
        for i, (header, group) in enumerate(groups.items()):
            columns = {name: types[name.lower()] for name in header}
            rel = self._csv_relation(
                group if len(group) > 1 else group[0],
                hive_partitioning=hive,
                **{**frozen, "columns": columns},
            )
            if len(groups) == 1:
                return rel
            part = f"{view}__ede_part{i}"
            rel.create_view(part, replace=True)
            table = exp.Table(this=exp.to_identifier(part, quoted=True))
            parts.append(exp.select("*").from_(table))
        union: exp.Query = parts[0]
        for part_query in parts[1:]:
            union = exp.Union(this=union, expression=part_query, distinct=False, by_name=True)
        return con.sql(self.render(union))

    def _csv_has_values(self, file: str, column: str, frozen: dict[str, Any]) -> bool:
        """Whether ``column`` (lowercase) of CSV ``file`` holds any value (read as text)."""
        keep = {k: v for k, v in frozen.items() if k not in ("columns", "date_format")}
        keep.pop("timestamp_format", None)
        rel = self._csv_relation(file, **{**keep, "all_varchar": True, "auto_detect": True})
        names = [name for name in rel.columns if name.lower() == column]
        if not names:
            return True
        probe = "__ede_probe"
        rel.create_view(probe, replace=True)
        try:
            query = (
                exp.select(exp.Literal.number(1))
                .from_(exp.Table(this=exp.to_identifier(probe, quoted=True)))
                .where(exp.column(exp.to_identifier(names[0], quoted=True)).is_(exp.null()).not_())
                .limit(1)
            )
            return bool(self.connection.execute(self.render(query)).fetchall())
        finally:
            self.drop(probe)

    def _common_type(self, types: list[str]) -> str:
        """The type DuckDB's ``UNION`` gives values of ``types`` (VARCHAR if none fits)."""
        distinct = list(dict.fromkeys(types))
        if len(distinct) == 1:
            return distinct[0]
        union: exp.Query | None = None
        for dtype in distinct:
            select = exp.select(
                exp.alias_(exp.Cast(this=exp.null(), to=_data_type(dtype)), "c", quoted=True)
            )
            union = select if union is None else exp.union(union, select, distinct=False)
        assert union is not None
        try:
            return str(self.connection.sql(self.render(union)).types[0])
        except Exception:  # types no UNION combines: the text holds them all
            return "VARCHAR"

    def _empty_source(self, request: ReadRequest) -> Any:
        """A source whose CSV or JSON files are all empty (not even a header row): zero rows
        of its declared columns; without a declared schema there are no columns to give.

        Raises:
            EdeRuntimeError: the source declares no ``schema``.
        """
        if not request.columns:
            raise EdeRuntimeError(
                f"source `{request.name}`: every file of `{display_path(request.path)}` is "
                "empty (no header row, no record); declare the source's `schema:` to read "
                "it as zero rows"
            )
        query = exp.select(
            *(
                exp.alias_(exp.Cast(this=exp.null(), to=t), exp.to_identifier(name, quoted=True))
                for name, t in request.columns.items()
            )
        ).limit(0)
        return self.connection.sql(self.render(query))

    def _json_as_text(self, rel: Any, view: str) -> Any:
        """``rel`` with its top-level JSON- and NULL-typed columns as text, as Spark reads them.

        DuckDB types a key whose values mix types (``1`` and ``"two"``) as JSON, which
        writes ``"two"`` with its quotes to every sink; Spark reads such a key as a string
        (``1``, ``two``). A JSON string becomes its text, another value its JSON text. A key
        that is always null is typed NULL, which Parquet sinks cannot type: it becomes text.
        """
        types = {name: str(dtype) for name, dtype in zip(rel.columns, rel.types, strict=True)}
        json_columns = {name for name, dtype in types.items() if dtype == "JSON"}
        null_columns = {name for name, dtype in types.items() if dtype == '"NULL"'}
        if not json_columns and not null_columns:
            return rel
        raw = f"{view}__ede_json"
        rel.create_view(raw, replace=True)

        def ident(name: str) -> exp.Identifier:
            return exp.to_identifier(name, quoted=True)

        query = exp.select(
            *(
                exp.alias_(
                    exp.Anonymous(
                        this="json_extract_string",
                        expressions=[exp.column(ident(name)), exp.Literal.string("$")],
                    ),
                    ident(name),
                )
                if name in json_columns
                else exp.alias_(
                    exp.Cast(this=exp.column(ident(name)), to=exp.DataType.build("varchar")),
                    ident(name),
                )
                if name in null_columns
                else exp.column(ident(name))
                for name in rel.columns
            )
        ).from_(exp.Table(this=ident(raw)))
        return self.connection.sql(self.render(query))

    def _parquet_schemas_differ(self, files: list[str]) -> bool:
        """Whether the Parquet ``files`` name other top-level columns, or in another order.

        DuckDB reads a list of files with the first file's columns, by position; files that
        differ are then read by name (``union_by_name``), a column a file lacks being null.
        """
        fn = exp.Anonymous(
            this="parquet_schema",
            expressions=[exp.Array(expressions=[exp.Literal.string(f) for f in files])],
        )
        query = exp.select(
            exp.column("file_name"), exp.column("name"), exp.column("num_children")
        ).from_(fn)
        by_file: dict[str, list[tuple[Any, Any]]] = {}
        # the connection's own errors reach `read`, which names the source
        for file, name, children in self.connection.execute(self.render(query)).fetchall():
            by_file.setdefault(str(file), []).append((name, children))
        names = {tuple(_top_level_names(rows)) for rows in by_file.values()}
        return len(names) > 1

    # -- column names that differ only in case (see `refuse_case_duplicates`) --------------
    # DuckDB reads a file with `Amount` and `amount` as `Amount`, `amount_1`; the file's own
    # names are read only when the bound names look renamed.
    def _csv_header(self, file: str, frozen: dict[str, Any]) -> list[str]:
        """The header row of ``file`` as written, with the frozen dialect."""
        keep = ("sep", "quotechar", "escapechar", "skiprows", "encoding", "compression")
        options = {k: v for k, v in frozen.items() if k in keep}
        columns = {f"c{i}": "VARCHAR" for i in range(len(frozen["columns"]))}
        rel = self._csv_relation(file, header=False, auto_detect=False, columns=columns, **options)
        rows = rel.limit(1).fetchall()
        return [str(v) for v in rows[0]] if rows else []

    def _parquet_names(self, file: str) -> list[str]:
        """The top-level column names of a Parquet file as written."""
        fn = exp.Anonymous(this="parquet_schema", expressions=[exp.Literal.string(file)])
        query = exp.select(exp.column("name"), exp.column("num_children")).from_(fn)
        return _top_level_names(self.fetch(query))

    def _sniff_csv(self, file: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """``read_csv`` keywords freezing what DuckDB's sniffer finds in ``file``.

        ``None`` when the sniffer cannot be asked (an option it does not take) or fails;
        the reader then detects, and reports any error, itself.
        """
        if any(key not in _SNIFF_OPTIONS for key in kwargs) or kwargs.get("auto_detect") is False:
            return None
        args: list[exp.Expr] = [exp.Literal.string(file)]
        for key, value in kwargs.items():
            if isinstance(value, str) and key == "na_values":
                value = [value]
            args.append(
                exp.PropertyEQ(this=exp.var(_SNIFF_OPTIONS[key]), expression=exp.convert(value))
            )
        fields = [*(field for field, _ in _SNIFFED_DIALECT), "Columns"]
        query = exp.select(*(exp.column(exp.to_identifier(f, quoted=True)) for f in fields)).from_(
            exp.Anonymous(this="sniff_csv", expressions=args)
        )
        try:
            rows = self.connection.execute(self.render(query)).fetchall()
        except Exception:
            return None
        if not rows:
            return None
        *dialect, columns = rows[0]
        frozen: dict[str, Any] = {}
        for (field, keyword), value in zip(_SNIFFED_DIALECT, dialect, strict=True):
            if value is None or (field in {"Comment"} and value in ("", "(empty)")):
                continue
            if field == "DateFormat" and value == "%Y-%m-%d":
                # sniff_csv reports the lenient ISO 8601 date cast as this format; pinning it
                # would refuse values such as `2024-01-03 00:00:00` the sniffed read accepts
                continue
            frozen[keyword] = "" if value == "(empty)" else value
        frozen["columns"] = {str(c["name"]): str(c["type"]) for c in columns}
        frozen["auto_detect"] = False
        return frozen

    def _enforce(self, request: ReadRequest) -> None:
        """Cast the declared columns; a missing column or a value that does not cast fails."""
        self.drop(request.name)
        import duckdb

        view = exp.Table(this=exp.to_identifier(request.name, quoted=True))
        query = self.schema_query(request, _raw_name(request))
        # Materialised, so every value is cast now (with the source named in any error)
        # rather than lazily inside a later step; DuckDB spills if it does not fit.
        create = exp.Create(this=view, kind="TABLE", replace=True, expression=query)
        try:
            self.connection.execute(self.render(create))
        except duckdb.Error as exc:
            raise EdeRuntimeError(
                f"source `{request.name}` does not match its declared schema: {duckdb_message(exc)}"
            ) from exc

    # -- execute / inspect ---------------------------------------------------------------------
    def execute(self, name: str, query: exp.Query) -> int:
        """Materialise ``query`` as table ``name`` and return its row count."""
        import duckdb

        target = exp.Table(this=exp.to_identifier(name, quoted=True))
        create = exp.Create(this=target, kind="TABLE", replace=True, expression=query)
        try:
            # DuckDB answers CREATE TABLE AS with the number of rows it inserted.
            row = next(iter(self.connection.execute(self.render(create)).fetchall()), None)
        except duckdb.Error as exc:
            what = f"step `{name}`"
            raise self._remote_error(exc, what) or translate_duckdb_error(exc, what) from exc
        return int(row[0]) if row else 0

    def columns(self, query: exp.Query) -> list[Column]:
        """Columns of ``query`` (DuckDB binds it without reading data)."""
        import duckdb

        try:
            rel = self.connection.sql(self.render(query))
        except duckdb.Error as exc:
            raise self._remote_error(exc, "query") or translate_duckdb_error(exc, "query") from exc
        return [
            Column(name, _data_type(str(dtype)))
            for name, dtype in zip(rel.columns, rel.types, strict=True)
        ]

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        """Run ``query`` and return all its rows."""
        import duckdb

        try:
            return self.connection.execute(self.render(query)).fetchall()
        except duckdb.Error as exc:
            raise self._remote_error(exc, "query") or translate_duckdb_error(exc, "query") from exc

    def drop(self, name: str) -> None:
        """Drop table or view ``name`` if it exists."""
        ident = exp.Table(this=exp.to_identifier(name, quoted=True))
        for kind in ("TABLE", "VIEW"):
            # DROP TABLE on a view (or the reverse) is an error: try both kinds.
            with contextlib.suppress(Exception):
                self.connection.execute(
                    self.render(exp.Drop(tables=[ident], kind=kind, exists=True))
                )

    # -- write -----------------------------------------------------------------------------
    def write(self, request: WriteRequest) -> int:
        """Write table ``request.table`` into the (empty) staging folder ``request.path``."""
        import duckdb

        try:
            source = self._writable(request.table)
        except duckdb.Error as exc:
            what = f"sink `{request.table}`"
            raise self._remote_error(exc, what) or translate_duckdb_error(exc, what) from exc
        ext = {"parquet": "parquet", "csv": "csv", "json": "json"}[request.format]
        params: list[exp.Expression] = [
            exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(ext.upper()))
        ]
        options = dict(request.options)
        if request.format == "csv":
            options.setdefault("header", True)
        for key, value in options.items():
            name = _COPY_OPTIONS.get(key)
            if name is None:  # validation rejects these; a library caller gets an error too
                raise ConfigError(f"sink `{request.table}`: unsupported option `{key}`")
            literal: exp.Expr = (
                exp.Boolean(this=value)
                if isinstance(value, bool)
                else exp.Literal.number(value)
                if isinstance(value, int | float)
                else exp.Literal.string(str(value))
            )
            params.append(exp.CopyParameter(this=exp.var(name), expression=literal))
        remote = is_url(request.path) and scheme(request.path) != "file"
        if remote:
            self._use_remote(request.path)
        else:
            Path(request.path).mkdir(parents=True, exist_ok=True)
        if request.partition_by:
            target = request.path
            params.append(
                exp.CopyParameter(
                    this=exp.var("PARTITION_BY"),
                    expression=exp.Tuple(
                        expressions=[
                            exp.column(exp.to_identifier(c, quoted=True))
                            for c in request.partition_by
                        ]
                    ),
                )
            )
            params.append(
                exp.CopyParameter(
                    this=exp.var("FILENAME_PATTERN"),
                    expression=exp.Literal.string(f"{request.file_prefix}-{{i}}"),
                )
            )
            params.append(
                exp.CopyParameter(this=exp.var("OVERWRITE_OR_IGNORE"), expression=exp.true())
            )
        elif remote:
            target = f"{request.path.rstrip('/')}/{request.file_prefix}-0.{ext}"
        else:
            target = str(Path(request.path) / f"{request.file_prefix}-0.{ext}")
        copy = exp.Copy(
            this=source.subquery(), kind=False, files=[exp.Literal.string(target)], params=params
        )
        try:
            # COPY answers with the number of rows it wrote.
            row = next(iter(self.connection.execute(self.render(copy)).fetchall()), None)
        except duckdb.Error as exc:
            what = f"sink `{request.table}`"
            raise self._remote_error(exc, what) or translate_duckdb_error(exc, what) from exc
        return int(row[0]) if row else 0

    def _writable(self, table: str) -> exp.Select:
        """``SELECT *`` of ``table``, with columns of DuckDB's NULL type as VARCHAR.

        A column that is only ever null (``derive: {note: "NULL"}``) has the NULL type,
        which Parquet writes as its rarely supported `null` logical type (Spark cannot
        write it at all): it is written as a text column of nulls instead.
        """
        source = exp.Table(this=exp.to_identifier(table, quoted=True))
        rel = self.connection.sql(self.render(exp.select("*").from_(source)))
        types = [str(dtype) for dtype in rel.types]
        if '"NULL"' not in types:
            return exp.select("*").from_(source)

        def ident(name: str) -> exp.Identifier:
            return exp.to_identifier(name, quoted=True)

        return exp.select(
            *(
                exp.alias_(
                    exp.Cast(this=exp.column(ident(name)), to=exp.DataType.build("varchar")),
                    ident(name),
                )
                if dtype == '"NULL"'
                else exp.column(ident(name))
                for name, dtype in zip(rel.columns, types, strict=True)
            )
        ).from_(source)

    def interrupt(self) -> None:
        """Stop the query DuckDB is running."""
        self.connection.interrupt()

    def close(self) -> None:
        """Close the connection and remove the private spill directory."""
        try:
            self.connection.close()
        finally:
            if self._own_temp:
                shutil.rmtree(self._own_temp, ignore_errors=True)
