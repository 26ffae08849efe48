"""The distributed engine: Apache Spark (PySpark 4) on any master.

The same plan runs here as on DuckDB: sources are read with Spark's readers (the spec's
options mapped to Spark's names), every statement is a SQLGlot expression rendered in
Spark's dialect, and sinks are written into the run's staging folder with the same file
names and hive folders as DuckDB writes. Where the two dialects mean different things,
the rendering is rewritten first (:func:`rewrite_for_spark`), and what has no Spark
equivalent is reported by :meth:`SparkEngine.unsupported` when the spec is validated.

Sessions: an engine reuses the SparkSession already active in the process (``spark-submit``,
a notebook, a test fixture) through ``newSession()`` - its own SQL settings and temporary
views, the same SparkContext - and never stops a session it did not create. Otherwise it
creates one from the run's settings (master ``local[*]`` unless told otherwise) and stops
it on :meth:`SparkEngine.close`.

Spark semantics are aligned with DuckDB's: the session computes in UTC, ``TIMESTAMP`` is
timezone-naive (``spark.sql.timestampType=TIMESTAMP_NTZ``, as DuckDB's ``TIMESTAMP``), and
ANSI mode stays on (Spark 4's default: a value that does not cast fails, as in DuckDB).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError
from sqlglot.expressions import DType

from enterprise_data_engineering.engines.base import (
    Column,
    Engine,
    EngineSettings,
    ReadRequest,
    WriteRequest,
    refuse_case_duplicates,
)
from enterprise_data_engineering.engines.strftime import (
    SPARK_PATTERNS,
    split_strftime,
    strftime_to_spark,
)
from enterprise_data_engineering.errors import (
    ConfigError,
    DependencyError,
    EdeError,
    EdeRuntimeError,
    NetworkError,
    PermissionDeniedError,
    RetryableError,
)
from enterprise_data_engineering.storage.paths import (
    is_hidden,
    is_url,
    list_files,
    local_path,
    scheme,
)

log = logging.getLogger(__name__)

#: the master used when neither the run, ``EDE_SPARK_MASTER`` nor the spec names one
DEFAULT_MASTER = "local[*]"

#: SQL settings of every engine session: DuckDB's time semantics (see the module docstring)
SESSION_SQL_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # Steps are kept (cached) once computed; without this, adaptive execution may not
    # merge a kept table's partitions and every step of a small table runs 200 tasks.
    "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
}

# -- the spec's source options, in Spark's words --------------------------------------------------

#: spec option name → Spark CSV reader option (engine-neutral names first, then DuckDB's)
_CSV_OPTIONS = {
    "header": "header",
    "delimiter": "sep",
    "sep": "sep",
    "quote": "quote",
    "quotechar": "quote",
    "escape": "escape",
    "escapechar": "escape",
    "null_value": "nullValue",
    "nullstr": "nullValue",
    "na_values": "nullValue",
    "encoding": "encoding",
    "date_format": "dateFormat",
    "dateformat": "dateFormat",
    "timestamp_format": "timestampFormat",
    "timestampformat": "timestampFormat",
}
#: DuckDB options that only tell DuckDB how to decompress or sniff; Spark decides itself
_IGNORED_READ_OPTIONS = frozenset({"compression", "auto_detect", "sample_size"})
#: options the Spark readers have no equivalent for
_UNSUPPORTED_READ_OPTIONS = {
    "skip_rows": "Spark's CSV reader cannot skip leading lines",
    "skip": "Spark's CSV reader cannot skip leading lines",
}
_EXTENSIONS = {
    "csv": (".csv", ".csv.gz", ".tsv", ".txt"),
    "parquet": (".parquet",),
    "json": (".json", ".jsonl", ".ndjson", ".json.gz"),
}
_FORMATS = {"csv": "csv", "parquet": "parquet", "json": "json"}
#: a sink's options (``SINK_OPTIONS``) → Spark writer options, by format
_WRITER_OPTIONS: dict[str, dict[str, str]] = {
    "csv": {
        "delimiter": "sep",
        "header": "header",
        "quote": "quote",
        "escape": "escape",
        "null_value": "nullValue",
        "date_format": "dateFormat",
        "timestamp_format": "timestampFormat",
        "compression": "compression",
    },
    "parquet": {"compression": "compression"},
    "json": {"compression": "compression"},
}
_PYSPARK_ERROR_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")

# -- dates: strftime formats as Spark datetime patterns (engines/strftime.py) -----------------


def rewrite_for_spark(expression: exp.Expr) -> exp.Expr:
    r"""Rewrite date parsing so Spark renders it like DuckDB runs it; apply before rendering.

    SQLGlot renders a safe ``StrToTime`` (``standardize_dates``, ``try_strptime``) as
    Spark's ``TO_TIMESTAMP``, which fails on a bad value when ANSI mode is on (Spark 4's
    default), and copies literal letters of the format into the pattern unquoted. This
    returns a copy where each ``StrToTime`` with a literal format becomes
    ``TRY_TO_TIMESTAMP`` (safe) or ``TO_TIMESTAMP`` with the pattern of
    :func:`strftime_to_spark`; DuckDB's ``try_strptime(text, format)``, which SQLGlot does
    not know, is treated as the safe ``StrToTime`` it is. Any other node, and a format with
    a directive Spark cannot parse, is left as it is.

    >>> node = exp.StrToTime(this=exp.column("d"), format=exp.Literal.string("%dT%H"), safe=True)
    >>> print(rewrite_for_spark(node).sql("spark"))
    TRY_TO_TIMESTAMP(d, 'd\'T\'H')
    """

    def rewrite(node: exp.Expr) -> exp.Expr:
        safe = bool(node.args.get("safe"))
        if (
            isinstance(node, exp.Anonymous)
            and str(node.name).lower() == "try_strptime"
            and len(node.expressions) == 2
        ):
            value, fmt = node.expressions
            safe = True
        elif isinstance(node, exp.StrToTime) and not node.args.get("target_type"):
            value, fmt = node.this, node.args.get("format")
        else:
            return node
        if not isinstance(fmt, exp.Literal) or not fmt.is_string:
            return node
        try:
            pattern = strftime_to_spark(fmt.this)
        except ValueError:
            return node
        name = "TRY_TO_TIMESTAMP" if safe else "TO_TIMESTAMP"
        return exp.Anonymous(this=name, expressions=[value.copy(), exp.Literal.string(pattern)])

    return expression.transform(rewrite)


def render_spark(expression: exp.Expr) -> str:
    """Spark SQL text of a DuckDB-meaning expression: :func:`rewrite_for_spark`, identifiers quoted.

    >>> render_spark(exp.select(exp.column("a")).from_("t"))
    'SELECT `a` FROM `t`'
    """
    return rewrite_for_spark(expression).sql(dialect="spark", identify=True)


def spark_columns(schema: Any) -> list[Column]:
    """The columns of a Spark ``StructType`` as engine columns (SQLGlot types)."""
    return [Column(f.name, _data_type(f.dataType.simpleString())) for f in schema.fields]


# -- what Spark cannot run -------------------------------------------------------------------------

#: DuckDB types SQLGlot renders for Spark as something Spark lacks or that means another thing
_NO_SPARK_TYPE: dict[DType, str] = {
    exp.DataType.Type.UBIGINT: "unsigned integers",
    exp.DataType.Type.UINT: "unsigned integers",
    exp.DataType.Type.USMALLINT: "unsigned integers",
    exp.DataType.Type.INT128: "128-bit integers",
    exp.DataType.Type.UINT128: "128-bit integers",
    exp.DataType.Type.INT256: "256-bit integers",
    exp.DataType.Type.UINT256: "256-bit integers",
    exp.DataType.Type.TIME: "a time-of-day type (SQLGlot would render TIMESTAMP)",
    exp.DataType.Type.TIMETZ: "a time-of-day type",
    exp.DataType.Type.ENUM: "enums",
    exp.DataType.Type.UNION: "union types",
    exp.DataType.Type.JSON: "a JSON type (use STRING or VARIANT)",
    exp.DataType.Type.BIT: "bit strings (SQLGlot would render BOOLEAN)",
    exp.DataType.Type.TIMESTAMP_S: "second-precision timestamps",
    exp.DataType.Type.TIMESTAMP_MS: "millisecond-precision timestamps",
    exp.DataType.Type.TIMESTAMP_NS: "nanosecond-precision timestamps",
}
#: SQL that both engines accept but that gives different results
_DIFFERENT_RESULTS: dict[str, str] = {
    "hash": "DuckDB and Spark hash with different algorithms, so values differ",
}
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")

#: the names of Spark 4's built-in SQL functions (``SHOW FUNCTIONS``, operators left out)
SPARK_FUNCTIONS = frozenset(
    """
    abs acos acosh add_months aes_decrypt aes_encrypt aggregate and any any_value
    approx_count_distinct approx_percentile approx_top_k approx_top_k_accumulate
    approx_top_k_combine approx_top_k_estimate array array_agg array_append array_compact
    array_contains array_distinct array_except array_insert array_intersect array_join array_max
    array_min array_position array_prepend array_remove array_repeat array_size array_sort
    array_union arrays_overlap arrays_zip ascii asin asinh assert_true atan atan2 atanh avg
    base64 between bigint bin binary bit_and bit_count bit_get bit_length bit_or bit_xor
    bitmap_and_agg bitmap_bit_position bitmap_bucket_number bitmap_construct_agg bitmap_count
    bitmap_or_agg bool_and bool_or boolean bround btrim cardinality case cast cbrt ceil ceiling
    char char_length character_length chr coalesce collate collation collations collect_list
    collect_set collect_union concat concat_ws contains conv convert_timezone corr cos cosh cot
    count count_if count_min_sketch counter_diff covar_pop covar_samp crc32 csc cume_dist
    curdate current_catalog current_database current_date current_path current_schema
    current_time current_timestamp current_timezone current_user date date_add date_diff
    date_format date_from_unix_date date_part date_sub date_trunc dateadd datediff datepart day
    dayname dayofmonth dayofweek dayofyear decimal decode degrees dense_rank div double e
    element_at elt encode endswith equal_null every exists exp explode explode_outer expm1
    extract factorial filter find_in_set first first_value flatten float floor forall
    format_number format_string from_avro from_base32 from_csv from_json from_protobuf
    from_unixtime from_utc_timestamp from_xml get get_json_object getbit greatest grouping
    grouping_id hash hex histogram_numeric hll_sketch_agg hll_sketch_estimate hll_union
    hll_union_agg hmac hour hypot if ifnull ilike in initcap inline inline_outer
    input_file_block_length input_file_block_start input_file_name instr int is_valid_utf8
    is_valid_variant is_variant_null isnan isnotnull isnull jaro_winkler_similarity java_method
    json_array_length json_object_keys json_tuple kll_merge_agg_bigint kll_merge_agg_double
    kll_merge_agg_float kll_sketch_agg_bigint kll_sketch_agg_double kll_sketch_agg_float
    kll_sketch_get_n_bigint kll_sketch_get_n_double kll_sketch_get_n_float
    kll_sketch_get_quantile_bigint kll_sketch_get_quantile_double kll_sketch_get_quantile_float
    kll_sketch_get_rank_bigint kll_sketch_get_rank_double kll_sketch_get_rank_float
    kll_sketch_merge_bigint kll_sketch_merge_double kll_sketch_merge_float
    kll_sketch_to_string_bigint kll_sketch_to_string_double kll_sketch_to_string_float kurtosis
    lag last last_day last_value lcase lead least left len length levenshtein like listagg ln
    localtime localtimestamp locate log log10 log1p log2 lower lpad ltrim luhn_check make_date
    make_dt_interval make_interval make_time make_timestamp make_timestamp_ltz
    make_timestamp_ntz make_valid_utf8 make_ym_interval map map_concat map_contains_key
    map_entries map_filter map_from_arrays map_from_entries map_keys map_values map_zip_with
    mask max max_by md5 mean measure median min min_by minute mod mode
    monotonically_increasing_id month monthname months_between named_struct nanvl negative
    next_day not now nth_value ntile nullif nullifzero nvl nvl2 octet_length or overlay
    parse_json parse_url percent_rank percentile percentile_approx percentile_cont
    percentile_disc pi pmod posexplode posexplode_outer position positive pow power printf
    python_worker_logs quarter quote radians raise_error rand randn random randstr range rank
    reduce reflect regexp regexp_count regexp_extract regexp_extract_all regexp_instr
    regexp_like regexp_replace regexp_substr regr_avgx regr_avgy regr_count regr_intercept
    regr_r2 regr_slope regr_sxx regr_sxy regr_syy repeat replace reverse right rint rlike round
    row_number rpad rtrim schema_of_avro schema_of_csv schema_of_json schema_of_variant
    schema_of_variant_agg schema_of_xml sec second sentences sequence session_user
    session_window sha sha1 sha2 shiftleft shiftright shiftrightunsigned shuffle sign signum sin
    sinh size skewness slice smallint some sort_array soundex space spark_partition_id split
    split_part sql_keywords sqrt st_asbinary st_geogfromwkb st_geomfromwkb st_setsrid st_srid
    stack startswith std stddev stddev_pop stddev_samp str_to_map string string_agg struct
    substr substring substring_index sum tan tanh theta_difference theta_intersection
    theta_intersection_agg theta_sketch_agg theta_sketch_estimate theta_union theta_union_agg
    time time_bucket time_diff time_from_micros time_from_millis time_from_seconds
    time_to_micros time_to_millis time_to_seconds time_trunc timestamp timestamp_micros
    timestamp_millis timestamp_nanos timestamp_seconds tinyint to_avro to_base32 to_binary
    to_char to_csv to_date to_json to_number to_protobuf to_time to_timestamp to_timestamp_ltz
    to_timestamp_ntz to_unix_timestamp to_utc_timestamp to_varchar to_variant_object to_xml
    transform transform_keys transform_values translate trim trunc try_add try_aes_decrypt
    try_avg try_divide try_element_at try_make_interval try_make_timestamp
    try_make_timestamp_ltz try_make_timestamp_ntz try_mod try_multiply try_parse_json
    try_parse_url try_reflect try_subtract try_sum try_to_binary try_to_date try_to_number
    try_to_time try_to_timestamp try_url_decode try_validate_utf8 try_variant_array_append
    try_variant_get try_variant_insert try_variant_set tuple_difference_double
    tuple_difference_integer tuple_difference_theta_double tuple_difference_theta_integer
    tuple_intersection_agg_double tuple_intersection_agg_integer tuple_intersection_double
    tuple_intersection_integer tuple_intersection_theta_double tuple_intersection_theta_integer
    tuple_sketch_agg_double tuple_sketch_agg_integer tuple_sketch_estimate_double
    tuple_sketch_estimate_integer tuple_sketch_summary_double tuple_sketch_summary_integer
    tuple_sketch_theta_double tuple_sketch_theta_integer tuple_union_agg_double
    tuple_union_agg_integer tuple_union_double tuple_union_integer tuple_union_theta_double
    tuple_union_theta_integer typeof ucase unbase64 unhex uniform unix_date unix_micros
    unix_millis unix_nanos unix_seconds unix_timestamp upper url_decode url_encode user uuid
    validate_utf8 var_pop var_samp variance variant_array_append variant_delete variant_explode
    variant_explode_outer variant_get variant_insert variant_set variant_strip_nulls vector_avg
    vector_cosine_similarity vector_inner_product vector_l2_distance vector_norm
    vector_normalize vector_sum version weekday weekofyear when width_bucket window window_time
    xpath xpath_boolean xpath_double xpath_float xpath_int xpath_long xpath_number xpath_short
    xpath_string xxhash64 year zeroifnull zip_with
    """.split()  # noqa: SIM905 - a word list reads better than 568 quoted strings
)


def _spark_sql(node: exp.Expr) -> str:
    return rewrite_for_spark(node).sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)


def _unsupported_node(node: exp.Expr) -> str | None:
    """Why ``node`` itself (not its children) cannot run on Spark as it does on DuckDB."""
    if isinstance(node, exp.DataType):
        reason = _NO_SPARK_TYPE.get(node.this) if isinstance(node.this, DType) else None
        if reason:
            return f"type `{node.sql('duckdb')}`: Spark has no {reason}"
        return None
    if isinstance(node, exp.SimilarTo):
        return "`SIMILAR TO` has no Spark equivalent (use `regexp_matches`)"
    if isinstance(node, exp.ArrayAgg | exp.GroupConcat) and node.find(exp.Order):
        return (
            "an ordered aggregate: Spark's collect_list/listagg here would not keep the "
            "ORDER BY (sort the array afterwards, e.g. with array_sort)"
        )
    if not isinstance(node, exp.Func):
        return None
    try:
        rendered = _spark_sql(node)
    except UnsupportedError as exc:
        return f"`{node.sql('duckdb')}` cannot be rendered for Spark: {exc}"
    except ValueError:  # e.g. a node SQLGlot cannot render at all
        return None
    match = _CALL.match(rendered)
    if match is None:
        return None
    name = match.group(1).lower()
    original = node.name.lower() if isinstance(node, exp.Anonymous) else name
    if name not in SPARK_FUNCTIONS:
        shown = node.name if isinstance(node, exp.Anonymous) else node.sql("duckdb").split("(")[0]
        return f"function `{shown.lower()}` has no Spark equivalent"
    if original in _DIFFERENT_RESULTS:
        return f"function `{original}`: {_DIFFERENT_RESULTS[original]}"
    return None


# -- errors ----------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def translate_spark_error(exc: Exception, what: str) -> EdeError:
    """Map a PySpark, Py4J or Spark Connect exception to the most specific `EdeError`.

    Args:
        exc: what Spark raised.
        what: the object concerned, e.g. ``"step `orders_clean`"``.
    """
    text = str(exc)
    condition = ""
    get_condition = getattr(exc, "getCondition", None)
    if callable(get_condition):
        with contextlib.suppress(Exception):
            condition = str(get_condition() or "")
    first = _first_line(exc)
    kind = type(exc).__name__
    if "PATH_NOT_FOUND" in condition or "Path does not exist" in text:
        return DependencyError(f"{what}: input missing: {first}")
    if "Permission denied" in text or "AccessDenied" in text or "403 Forbidden" in text:
        return PermissionDeniedError(f"{what}: permission denied: {first}")
    if kind in ("SparkConnectGrpcException", "Py4JNetworkError") and (
        "UNAVAILABLE" in text or "Connection refused" in text or "Py4JNetworkError" in kind
    ):
        return NetworkError(f"{what}: Spark is unreachable: {first}")
    if kind in ("AnalysisException", "ParseException"):
        return ConfigError(f"{what}: {first}")
    return EdeRuntimeError(f"{what}: {first}")


# -- paths -----------------------------------------------------------------------------------------


def _uri(path: str) -> str:
    """A path as Spark should read it: local paths become ``file://`` URIs (not HDFS's)."""
    if is_url(path):
        return path
    return f"file://{Path(path).absolute()}"


def _data_type(text: str) -> exp.DataType:
    """A Spark type (``simpleString``) as a SQLGlot type; what cannot be parsed stays named."""
    try:
        return exp.DataType.build(text, dialect="spark", udt=True)
    except Exception:  # e.g. a struct with exotic field names: keep the name
        return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=text)


def _csv_header_groups(files: list[str], options: dict[str, Any]) -> list[list[str]]:
    """Local CSV ``files`` grouped by their header row, in the order of first appearance.

    Spark reads a list of CSV files with the first file's header and every other file by
    position, so files listing the same columns in another order would silently swap
    values. Files are grouped by header (each group read on its own, then matched by name,
    as DuckDB reads them); one group when every header is the same, or there is no header,
    or the files are not local (their headers cannot be read cheaply here).
    """
    if len(files) < 2 or str(options.get("header")).lower() != "true":
        return [files]
    if any(is_url(f) and scheme(f) != "file" for f in files):
        return [files]
    groups: dict[tuple[str, ...], list[str]] = {}
    for file in files:
        groups.setdefault(_csv_header(file, options), []).append(file)
    return list(groups.values())


def _csv_header(file: str, options: dict[str, Any]) -> tuple[str, ...]:
    """The header row of the local CSV ``file`` (plain, .gz, .bz2 or .xz), as parsed."""
    import bz2
    import csv
    import gzip
    import lzma

    opener: Any = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
        Path(file).suffix.lower(), open
    )
    encoding = str(options.get("encoding") or "utf-8")
    quote = str(options.get("quote") or '"')
    with opener(local_path(file), "rt", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=str(options.get("sep") or ","), quotechar=quote)
        row = next(reader, [])
    if row and row[0].startswith("\ufeff"):
        row[0] = row[0][1:]
    return tuple(row)


def _json_key_order(files: list[str]) -> list[str]:
    """The keys of the first record of a local JSON-lines file, in order (else empty)."""
    if not files or is_url(files[0]) or files[0].endswith(".gz"):
        return []
    try:
        with Path(files[0]).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    return list(record) if isinstance(record, dict) else []
    except (OSError, ValueError):
        return []
    return []


def _output_extension(name: str, fmt: str) -> str:
    """``.csv.gz`` of ``part-0-….c000.csv.gz``: a compressed file says so in its name."""
    at = name.find(f".{fmt}")
    return name[at:] if at >= 0 else f".{fmt}"


class SparkEngine(Engine):
    """Apache Spark through PySpark 4, on any master; see the module docstring.

    Args:
        settings: ``master`` (``local[*]`` by default, ``spark://…``, ``yarn``,
            ``k8s://…``, ``sc://…``), ``app_name`` and ``conf`` (extra Spark
            configuration) are used.
    """

    name: ClassVar[str] = "spark"
    dialect: ClassVar[str] = "spark"
    spills_to_disk: ClassVar[bool] = True
    distributed: ClassVar[bool] = True

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self._interrupted = threading.Event()
        from enterprise_data_engineering.spark.session import (
            SparkConfig,
            active_session,
            create_spark_session,
            import_pyspark,
            is_connect_session,
            master_of,
        )

        self.settings = settings or EngineSettings()
        import_pyspark()
        # PySpark also logs every SQL error it raises, as JSON on stderr; the engine raises
        # it as one clear `EdeError`, so that copy is noise.
        with contextlib.suppress(ImportError):
            from pyspark.logger import PySparkLogger

            for name in _PYSPARK_ERROR_LOGGERS:
                PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
        self._tables: dict[str, Any] = {}
        self._persisted: dict[str, Any] = {}
        self._ordered: set[str] = set()
        active = active_session()
        wanted = self.settings.master
        if active is not None:
            self._owns_session = False
            if wanted and wanted != master_of(active):
                log.warning(
                    "a Spark session (master %s) is already active in this process; "
                    "using it instead of master %s",
                    master_of(active),
                    wanted,
                )
            session = active
            if not is_connect_session(active):
                # Own SQL settings and temporary views, the same SparkContext and executors.
                session = active.newSession()
            for key, value in {**self.settings.conf, **SESSION_SQL_CONF}.items():
                try:
                    session.conf.set(key, value)
                except Exception:  # a static setting: fixed when the context started
                    log.warning("Spark setting %s cannot change in a running session", key)
        else:
            config = SparkConfig(
                app_name=self.settings.app_name or "ede",
                master=wanted or DEFAULT_MASTER,
                conf={**SESSION_SQL_CONF, **self.settings.conf},
            )
            session = create_spark_session(config)
            self._owns_session = True
        self.session: Any = session
        self._connect = is_connect_session(session)

    # -- helpers ---------------------------------------------------------------------------
    def render(self, expression: exp.Expr) -> str:
        """Render ``expression`` for Spark, after :func:`rewrite_for_spark`."""
        return render_spark(expression)

    def _sql(self, expression: exp.Expr, what: str) -> Any:
        """A DataFrame of ``expression`` (analysed now: unknown names fail here)."""
        text = self.render(expression)
        try:
            return self.session.sql(text)
        except Exception as exc:
            raise translate_spark_error(exc, what) from exc

    def _register(self, name: str, df: Any, *, persisted: bool) -> None:
        """Make ``df`` table ``name`` (a temporary view), forgetting any previous one."""
        old = self._persisted.pop(name, None)
        df.createOrReplaceTempView(name)
        self._tables[name] = df
        if persisted:
            self._persisted[name] = df
        if old is not None and old is not df:
            with contextlib.suppress(Exception):
                old.unpersist()

    def _materialise(self, df: Any, what: str) -> tuple[Any, int]:
        """Compute ``df`` once, keep it (memory, then disk) and return it with its row count.

        Later statements read the kept rows, so each step runs once however often it is
        read, and a table stays valid when the tables it was computed from are dropped.
        """
        from pyspark import StorageLevel

        kept = df
        try:
            # Persisting already optimises the plan, which may evaluate constants.
            kept = df.persist(StorageLevel.MEMORY_AND_DISK)
            rows = int(kept.count())
        except Exception as exc:
            with contextlib.suppress(Exception):
                kept.unpersist()
            raise translate_spark_error(exc, what) from exc
        return kept, rows

    # -- read ------------------------------------------------------------------------------
    def _files(self, request: ReadRequest) -> list[str]:
        """The files of a local source; a URL is given to Spark as it is."""
        path = request.path
        if is_url(path) and scheme(path) != "file":
            return [path]
        try:
            found = list_files(path)
        except DependencyError as exc:
            raise DependencyError(f"source `{request.name}`: {exc}") from exc
        if Path(local_path(path)).is_dir():
            exts = _EXTENSIONS.get(request.format, ())
            found = [f for f in found if f.lower().endswith(exts)] or found
        return found

    def _base_path(self, request: ReadRequest, files: list[str]) -> str | None:
        """The folder above hive ``key=value`` folders, so Spark adds their columns."""
        if is_url(request.path) and scheme(request.path) != "file":
            return None
        parents = [Path(f).parent for f in files]
        if not any("=" in p.name for p in parents):
            return None
        base = Path(local_path(request.path))
        while not base.is_dir() or any(ch in str(base) for ch in "*?["):
            base = base.parent
        while "=" in base.name:
            base = base.parent
        return _uri(str(base))

    def _reader_options(self, request: ReadRequest) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for key, value in request.options.items():
            if key in _UNSUPPORTED_READ_OPTIONS:
                raise ConfigError(
                    f"source `{request.name}`: option `{key}` is not supported on Spark: "
                    f"{_UNSUPPORTED_READ_OPTIONS[key]}"
                )
            if key in _IGNORED_READ_OPTIONS or key == "hive_partitioning":
                continue
            if request.format == "csv" and key == "all_varchar":
                options["inferSchema"] = not bool(value)
                continue
            if request.format == "json" and key == "format":
                options["multiLine"] = str(value).lower() == "array"
                continue
            name = _CSV_OPTIONS.get(key, key) if request.format == "csv" else key
            if name == "nullValue" and isinstance(value, list | tuple):
                if len(value) != 1:
                    raise ConfigError(
                        f"source `{request.name}`: Spark accepts one null value, got {value}"
                    )
                value = value[0]
            if name in ("dateFormat", "timestampFormat") and "%" in str(value):
                try:
                    value = strftime_to_spark(str(value))
                except ValueError as exc:
                    raise ConfigError(f"source `{request.name}`: {exc}") from exc
            options[name] = value
        if request.format == "csv":
            options.setdefault("header", True)
            options.setdefault("inferSchema", True)
            # A quote inside a quoted field is doubled (RFC 4180), as DuckDB reads it;
            # Spark's own default is a backslash.
            options.setdefault("escape", options.get("quote", '"'))
        return options

    def read(self, request: ReadRequest) -> None:
        """Create view ``request.name`` over the source files, casting declared columns."""
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            raise ConfigError(f"source `{request.name}`: unknown format `{request.format}`")
        files = self._files(request)
        options = self._reader_options(request)
        hive = request.options.get("hive_partitioning", True)
        base = self._base_path(request, files) if hive else None
        if base:
            options["basePath"] = base
        what = f"source `{request.name}`"
        try:
            reader = self.session.read.format(fmt).options(**options)
            groups = _csv_header_groups(files, options) if fmt == "csv" else [files]
            df = reader.load([_uri(f) for f in groups[0]])
            for group in groups[1:]:  # headers differ: read each kind, match columns by name
                df = df.unionByName(reader.load([_uri(f) for f in group]), True)
            if fmt == "csv" and str(options.get("header")).lower() == "true":
                self._refuse_renamed_header(request, files[0], options, list(df.columns))
            if fmt == "json":
                order = _json_key_order(files)
                if order:
                    names = list(df.columns)
                    ordered = [n for n in order if n in names]
                    df = df.select(*ordered, *[n for n in names if n not in ordered])
        except EdeError:
            raise
        except Exception as exc:
            raise translate_spark_error(exc, what) from exc
        if not request.columns:
            self._register(request.name, df, persisted=False)
            return
        raw = f"{request.name}__ede_raw"
        self._register(raw, df, persisted=False)
        try:
            self._enforce(request, raw)
        finally:
            self.drop(raw)

    def _refuse_renamed_header(
        self, request: ReadRequest, file: str, options: dict[str, Any], names: list[str]
    ) -> None:
        """Refuse a CSV header whose names differ only in case (`refuse_case_duplicates`).

        Spark renames such columns to name + position (``Amount0``, ``amount1``); only when
        the names look like that is the header row read as written, with the same dialect.
        """
        stems = [
            m[1].casefold()
            for i, name in enumerate(names)
            if (m := re.fullmatch(rf"(.+){i}", name)) is not None
        ]
        if len(stems) == len(set(stems)):
            return
        header = {**options, "header": False, "inferSchema": False}
        rows = self.session.read.format("csv").options(**header).load(_uri(file)).limit(1).collect()
        if rows:
            refuse_case_duplicates(request, file, [str(v) for v in rows[0]])

    def _enforce(self, request: ReadRequest, raw: str) -> None:
        """Cast the declared columns; a missing column or a value that does not cast fails."""
        what = f"source `{request.name}` does not match its declared schema"
        df = self._sql(self.schema_query(request, raw), what)
        # Materialised now, so a value that does not cast fails here, naming the source.
        kept, _ = self._materialise(df, what)
        self._register(request.name, kept, persisted=True)

    # -- execute / inspect ---------------------------------------------------------------------
    def execute(self, name: str, query: exp.Query) -> int:
        """Materialise ``query`` as table ``name`` and return its row count."""
        what = f"step `{name}`"
        df, rows = self._materialise(self._sql(query, what), what)
        self._register(name, df, persisted=True)
        if query.args.get("order"):
            self._ordered.add(name)
        else:
            self._ordered.discard(name)
        return rows

    def columns(self, query: exp.Query) -> list[Column]:
        """Columns of ``query`` (Spark analyses it without reading data)."""
        df = self._sql(query, "query")
        try:
            return spark_columns(df.schema)
        except Exception as exc:
            raise translate_spark_error(exc, "query") from exc

    def fetch(self, query: exp.Query) -> list[tuple[Any, ...]]:
        """Run ``query`` and return all its rows."""
        df = self._sql(query, "query")
        try:
            rows = [tuple(row) for row in df.collect()]
        except Exception as exc:
            raise translate_spark_error(exc, "query") from exc
        self._raise_if_interrupted("query")
        return rows

    def _raise_if_interrupted(self, what: str) -> None:
        """A query that finished although it was interrupted still counts as interrupted."""
        if self._interrupted.is_set():
            raise RetryableError(f"{what}: interrupted")

    def drop(self, name: str) -> None:
        """Forget table ``name``: its view and its kept rows."""
        self._tables.pop(name, None)
        self._ordered.discard(name)
        df = self._persisted.pop(name, None)
        with contextlib.suppress(Exception):
            self.session.catalog.dropTempView(name)
        if df is not None:
            with contextlib.suppress(Exception):
                df.unpersist()

    # -- write -----------------------------------------------------------------------------
    def _for_text_format(self, df: Any, fmt: str, timestamp_pattern: str | None) -> Any:
        """Columns as DuckDB writes them to CSV/JSON: timestamps (and CSV nested values) as text.

        Spark would write timestamps with a ``T`` and a zone offset; DuckDB writes
        ``2024-01-31 10:00:00[.fraction]``, which is Spark's own text of a timestamp.
        """
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        temporal = (T.TimestampType, T.TimestampNTZType)
        nested = (T.ArrayType, T.MapType, T.StructType)
        columns = []
        changed = False
        for field in df.schema.fields:
            col = F.col(f"`{field.name}`")
            if isinstance(field.dataType, temporal):
                text = F.date_format(col, timestamp_pattern) if timestamp_pattern else col
                col = text.cast("string").alias(field.name)
                changed = True
            elif fmt == "csv" and isinstance(field.dataType, nested):
                col = col.cast("string").alias(field.name)
                changed = True
            columns.append(col)
        return df.select(*columns) if changed else df

    def _writer_options(self, request: WriteRequest) -> tuple[dict[str, Any], str | None]:
        """Spark writer options of a sink's options, and the pattern for timestamps (if any)."""
        what = f"sink `{request.table}`"
        options: dict[str, Any] = {}
        timestamp_pattern = None
        given = dict(request.options)
        if request.format == "csv":
            given.setdefault("header", True)
            # Quotes inside values are doubled (RFC 4180), as DuckDB writes them.
            options["escape"] = str(given.get("quote", '"'))
        if request.format == "json":
            options["ignoreNullFields"] = False  # DuckDB writes `"key": null`
        for key, value in given.items():
            name = _WRITER_OPTIONS.get(request.format, {}).get(key)
            if name is None:
                raise ConfigError(f"{what}: unsupported option `{key}`")
            if key in ("date_format", "timestamp_format"):
                try:
                    pattern = strftime_to_spark(str(value), lenient=False)
                except ValueError as exc:
                    raise ConfigError(f"{what}: {exc}") from exc
                if key == "timestamp_format":
                    timestamp_pattern = pattern
                    continue
                value = pattern
            options[name] = value
        return options, timestamp_pattern

    def write(self, request: WriteRequest) -> int:
        """Write table ``request.table`` into the (empty) staging folder ``request.path``.

        Spark writes its part files into a scratch folder inside the staging folder; they
        are then moved up and renamed ``{file_prefix}-{i}{ext}`` (hive ``col=value/``
        folders kept; ``_SUCCESS`` and checksum files dropped), as DuckDB names its files.
        """
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            raise ConfigError(f"sink `{request.table}`: unknown format `{request.format}`")
        what = f"sink `{request.table}`"
        df = self._tables.get(request.table)
        if df is None:
            try:
                df = self.session.table(f"`{request.table}`")
            except Exception as exc:
                raise translate_spark_error(exc, what) from exc
        options, timestamp_pattern = self._writer_options(request)
        out = df if fmt == "parquet" else self._for_text_format(df, fmt, timestamp_pattern)
        if request.table not in self._ordered:
            # Files of a sensible size rather than one per task: with adaptive execution
            # (Spark's default), a rebalance merges small partitions and splits large ones,
            # and with partition_by it groups each partition folder's rows together. A
            # table computed with ORDER BY keeps its order instead (files in sequence).
            out = out.hint("rebalance", *request.partition_by)
        scratch = _join(request.path, f"_ede_spark_{uuid.uuid4().hex[:12]}")
        try:
            writer = out.write.format(fmt).mode("overwrite").options(**options)
            if request.partition_by:
                writer = writer.partitionBy(*request.partition_by)
            writer.save(_uri(scratch))
            rows = int(df.count())
        except Exception as exc:
            self._files_of(request.path).remove_tree(scratch)
            raise translate_spark_error(exc, what) from exc
        files = self._files_of(request.path)
        try:
            counters: dict[str, int] = {}
            for relative_dir, name in files.list_data_files(scratch):
                i = counters.get(relative_dir, 0)
                counters[relative_dir] = i + 1
                target_dir = _join(request.path, relative_dir) if relative_dir else request.path
                ext = _output_extension(name, fmt)
                target = _join(target_dir, f"{request.file_prefix}-{i}{ext}")
                source_dir = _join(scratch, relative_dir) if relative_dir else scratch
                files.move(_join(source_dir, name), target)
        except OSError as exc:
            raise EdeRuntimeError(f"{what}: cannot arrange the staged files: {exc}") from exc
        finally:
            files.remove_tree(scratch)
        return rows

    def _files_of(self, path: str) -> _Files:
        if not is_url(path) or scheme(path) == "file":
            return _LocalFiles()
        if self._connect:
            return _ArrowFiles(path)
        return _HadoopFiles(self.session)

    def interrupt(self) -> None:
        """Cancel this engine's running Spark jobs (its session's only; safe from a signal)."""

        self._interrupted.set()

        def cancel() -> None:
            # Repeated for a few seconds: a query's next job may start just after a cancel.
            for _ in range(20):
                with contextlib.suppress(Exception):
                    self.session.interruptAll()
                time.sleep(0.25)

        # A signal handler runs while the main thread may be inside a Py4J call: talk to
        # Spark from another thread rather than from the handler.
        threading.Thread(target=cancel, name="ede-spark-interrupt", daemon=True).start()

    def close(self) -> None:
        """Release kept rows and views; stop the session only if this engine started it."""
        for name in list(self._tables):
            self.drop(name)
        if self._owns_session:
            with contextlib.suppress(Exception):
                self.session.stop()

    @classmethod
    def unsupported(cls, expression: exp.Expr) -> list[tuple[exp.Expr, str]]:
        """Parts of a DuckDB-dialect expression that Spark cannot run as DuckDB does.

        Reports functions Spark does not have (whether SQLGlot knows them or passes them
        through), functions whose results differ, DuckDB types Spark lacks, and constructs
        SQLGlot cannot render for Spark. Only the innermost offending node is reported.

        >>> from enterprise_data_engineering.transforms.sql import parse_expression
        >>> [r for _, r in SparkEngine.unsupported(parse_expression("regexp_full_match(a, 'x')"))]
        ['function `regexp_full_match` has no Spark equivalent']
        """
        found: list[tuple[exp.Expr, str]] = []
        flagged: list[exp.Expr] = []
        nodes = list(expression.walk())
        for node in reversed(nodes):  # children before parents
            if any(_is_ancestor(node, f) for f in flagged):
                continue
            reason = _unsupported_node(node)
            if reason:
                flagged.append(node)
                found.append((node, reason))
        found.reverse()
        return found


def _is_ancestor(node: exp.Expr, other: exp.Expr) -> bool:
    parent = other.parent
    while parent is not None:
        if parent is node:
            return True
        parent = parent.parent
    return False


def _join(base: str, name: str) -> str:
    """``base/name`` for a local path or a URL."""
    if is_url(base):
        return f"{base.rstrip('/')}/{name}"
    return str(Path(base) / name)


class _Files(ABC):
    """The few file operations that arranging Spark's output needs."""

    @abstractmethod
    def list_data_files(self, folder: str) -> Iterator[tuple[str, str]]:
        """``(relative folder, file name)`` of each data file below ``folder``, sorted."""

    @abstractmethod
    def move(self, source: str, target: str) -> None:
        """Move a file, creating the target's folder."""

    @abstractmethod
    def remove_tree(self, folder: str) -> None:
        """Remove ``folder`` and everything below it, if it exists."""


def _is_data_file(name: str) -> bool:
    # Hadoop's convention (`storage.paths.is_hidden`): `_SUCCESS`, `.part-….crc` are not data.
    return not is_hidden(name)


class _LocalFiles(_Files):
    def list_data_files(self, folder: str) -> Iterator[tuple[str, str]]:
        root = Path(local_path(folder))
        found: list[tuple[str, str]] = []
        for path in root.rglob("*"):
            parts = path.relative_to(root).parts
            if path.is_file() and all(_is_data_file(p) for p in parts):
                found.append(("/".join(parts[:-1]), parts[-1]))
        yield from sorted(found)

    def move(self, source: str, target: str) -> None:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(source).replace(target)

    def remove_tree(self, folder: str) -> None:
        shutil.rmtree(local_path(folder), ignore_errors=True)


class _HadoopFiles(_Files):
    """Through the Hadoop FileSystem of the Spark driver: the one Spark wrote with."""

    def __init__(self, session: Any) -> None:
        context = session.sparkContext
        self._jvm = context._jvm
        self._conf = context._jsc.hadoopConfiguration()

    def _path(self, url: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(url)

    def _fs(self, url: str) -> Any:
        return self._path(url).getFileSystem(self._conf)

    def list_data_files(self, folder: str) -> Iterator[tuple[str, str]]:
        root = self._path(folder)
        fs = self._fs(folder)
        if not fs.exists(root):
            return
        prefix = fs.makeQualified(root).toString().rstrip("/") + "/"
        found: list[tuple[str, str]] = []
        files = fs.listFiles(root, True)
        while files.hasNext():
            status = files.next()
            full = status.getPath().toString()
            relative = full[len(prefix) :] if full.startswith(prefix) else full.split("/")[-1]
            parts = relative.split("/")
            if _is_data_file(parts[-1]) and all(_is_data_file(p) for p in parts[:-1]):
                found.append(("/".join(parts[:-1]), parts[-1]))
        yield from sorted(found)

    def move(self, source: str, target: str) -> None:
        fs = self._fs(target)
        fs.mkdirs(self._path(target).getParent())
        if not fs.rename(self._path(source), self._path(target)):
            raise OSError(f"cannot move `{source}` to `{target}`")

    def remove_tree(self, folder: str) -> None:
        with contextlib.suppress(Exception):
            self._fs(folder).delete(self._path(folder), True)


class _ArrowFiles(_Files):
    """Through pyarrow's filesystems (Spark Connect: no driver JVM on this side)."""

    def __init__(self, url: str) -> None:
        from pyarrow import fs

        self._fs, _ = fs.FileSystem.from_uri(url)
        self._pafs = fs

    @staticmethod
    def _strip(url: str) -> str:
        return url.split("://", 1)[1] if "://" in url else url

    def list_data_files(self, folder: str) -> Iterator[tuple[str, str]]:
        root = self._strip(folder).rstrip("/")
        selector = self._pafs.FileSelector(root, recursive=True, allow_not_found=True)
        found: list[tuple[str, str]] = []
        for info in self._fs.get_file_info(selector):
            if info.type != self._pafs.FileType.File:
                continue
            parts = info.path[len(root) + 1 :].split("/")
            if all(_is_data_file(p) for p in parts):
                found.append(("/".join(parts[:-1]), parts[-1]))
        yield from sorted(found)

    def move(self, source: str, target: str) -> None:
        self._fs.move(self._strip(source), self._strip(target))

    def remove_tree(self, folder: str) -> None:
        with contextlib.suppress(Exception):
            self._fs.delete_dir(self._strip(folder))


__all__ = [
    "DEFAULT_MASTER",
    "SESSION_SQL_CONF",
    "SPARK_FUNCTIONS",
    "SPARK_PATTERNS",
    "SparkEngine",
    "render_spark",
    "rewrite_for_spark",
    "spark_columns",
    "split_strftime",
    "strftime_to_spark",
    "translate_spark_error",
]
