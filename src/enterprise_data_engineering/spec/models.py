"""The pipeline spec (CONTRACT §4) as pydantic v2 models.

Every model forbids unknown fields, so a typo such as ``partiton_by`` is an error with its
position rather than a silently ignored key. Transform and check *arguments* are kept raw
here and validated by each transform's or check's own model (see ``planning``), so plugins
get the same ``FILE:LINE:COL`` errors as built-ins.

Example::

    name: orders_daily
    sources:
      orders: {format: csv, path: data/orders.csv}
    steps:
      - name: orders_clean
        input: orders
        transforms: [clean_column_names]
    sinks:
      orders_clean: {format: parquet, path: out/orders_clean}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# Keywords are read case-insensitively (`severity: WARN`, `format: CSV`), as dbt reads them.
Keyword = BeforeValidator(_lower)
FileFormat = Annotated[Literal["csv", "parquet", "json"], Keyword]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class SourceSpec(_Model):
    """Where a source table's data comes from."""

    format: FileFormat = Field(description="csv | parquet | json (newline-delimited)")
    path: str = Field(
        min_length=1,
        description="File, folder or glob; relative to the spec's folder, or an s3:// URL",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Reader options, e.g. {header: true, delimiter: ','} for csv",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        alias="schema",
        description="Declared column types (SQL type names), enforced on read",
    )
    description: str | None = None


class CatalogSpec(_Model):
    """Register a sink as a table of a data catalog (AWS Glue) after it is published."""

    database: str = Field(min_length=1)
    table: str = Field(min_length=1)
    description: str | None = None


class SinkSpec(_Model):
    """Where a table is published (a folder)."""

    format: FileFormat = "parquet"
    path: str = Field(min_length=1, description="A folder; relative to the spec's folder")
    mode: Annotated[Literal["overwrite", "append"], Keyword] = "overwrite"
    partition_by: list[str] = Field(default_factory=list, description="Hive-style partitions")
    options: dict[str, Any] = Field(default_factory=dict, description="Writer options")
    catalog: CatalogSpec | None = Field(
        default=None, description="Glue Data Catalog table to create or update after publish"
    )
    description: str | None = None


class StepSpec(_Model):
    """One step: makes one named table from an ``input`` table or from ``sql``."""

    name: str = Field(description="Table name made by this step: [a-z][a-z0-9_]*")
    description: str | None = None
    input: str | None = Field(default=None, description="A source or an earlier step")
    sql: str | None = Field(default=None, description="A SELECT in DuckDB's SQL dialect")
    # Items are checked by the planner, which knows every transform and says which one is
    # wrong; a typed union here would report each item twice ("not a string", "not a dict").
    transforms: list[Any] = Field(
        default_factory=list,
        description="Transforms applied in order: a name, or {name: arguments}",
        json_schema_extra={"items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
    )

    @model_validator(mode="after")
    def _input_or_sql(self) -> StepSpec:
        if (self.input is None) == (self.sql is None):
            raise ValueError("a step needs exactly one of `input` or `sql`")
        return self


class CheckSpec(BaseModel):
    """A data-quality check on a table; arguments other than the fields below are the check's."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    table: str
    check: str
    name: str | None = None
    severity: Annotated[Literal["error", "warn"], Keyword] = "error"
    on_fail: Annotated[Literal["fail", "quarantine"], Keyword] = "fail"
    description: str | None = None

    @property
    def args(self) -> dict[str, Any]:
        """The check's own arguments (everything not a common field)."""
        return dict(self.model_extra or {})


class QuarantineSpec(_Model):
    """Where rows removed by ``on_fail: quarantine`` checks are published."""

    path: str = "quarantine"
    format: FileFormat = "parquet"


class DuckDBSettings(_Model):
    """Settings of the embedded engine."""

    memory_limit: str | None = Field(default=None, description="e.g. '4GB'; spills beyond it")
    temp_directory: str | None = Field(default=None, description="Where DuckDB spills")
    threads: int | None = Field(default=None, ge=1)


class SparkSettings(_Model):
    """Settings of the Spark engine."""

    master: str | None = Field(default=None, description="local[*], spark://, yarn, k8s://, sc://")
    app_name: str | None = None
    conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark configuration")


class PipelineSpec(_Model):
    """A whole pipeline: sources, steps, checks and sinks."""

    name: Identifier
    description: str | None = None
    engine: str = Field(default="duckdb", description="duckdb (default) | spark")
    params: dict[str, Any] = Field(default_factory=dict)
    sources: dict[str, SourceSpec] = Field(default_factory=dict)
    steps: list[StepSpec] = Field(default_factory=list)
    checks: list[CheckSpec] = Field(default_factory=list)
    sinks: dict[str, SinkSpec] = Field(default_factory=dict)
    quarantine: QuarantineSpec = Field(default_factory=QuarantineSpec)
    duckdb: DuckDBSettings = Field(default_factory=DuckDBSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)
