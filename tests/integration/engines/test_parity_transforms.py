"""Every built-in transform gives the same table on every engine as on DuckDB."""

from __future__ import annotations

import textwrap

import pytest
from engine_parity import Parity

#: messy raw data: headers to clean, duplicates, nulls, bad dates, mixed case, unicode
RAW = """\
Order ID,Customer Name,Amount (USD),Order Date,Status,Email,Updated At,Legacy Code,Score,Shipped
1,Ann,10.50,2024-01-31,new,ann@x.io,2024-02-01 10:00:00,,1.5,2024-02-01T08:30
1,Ann,11.00,2024-01-31,paid,ann@x.io,2024-02-02 09:30:00,,2.5,2024-02-02T09:00
2,Bob,,31/01/2024, Paid ,,2024-02-03 08:00:00,,,
3,Cy,-1.25,not a date,shipped,cy@x.io,2024-02-04 07:15:00,,3.25,2024-02-05T10:15
4,Dee,99.99,2024-3-5,weird,dee@x.io,2024-02-05 06:00:00,x,4.0,nope
5,Éva,0.50,2024-12-01,new,eva@x.io,2024-02-06 05:45:30.5,,,2024-12-02T00:00
6,Finn,250.00,2024-06-15,shipped,,2024-02-06 05:45:30.5,,7.75,2024-06-16T12:00
"""

SPEC = """\
name: parity
sources:
  raw: {{format: csv, path: data/raw.csv, options: {options}}}
steps:
  - name: out
    input: raw
    transforms:
{transforms}
sinks:
  out: {{format: {sink}, path: out/out}}
"""

#: transform name -> the transforms of the step (YAML), each case exercising one transform
CASES: dict[str, str] = {
    "clean_column_names": "- clean_column_names",
    "rename": "- rename: {'Order ID': order_id, 'Amount (USD)': amount, Status: state}",
    "select": "- select: [Status, 'Order ID', Email]",
    "drop": "- drop: ['Legacy Code', Email, Score]",
    "cast": """\
        - clean_column_names
        - cast: {amount_usd: "decimal(12,2)", order_id: integer, score: double, customer_name: varchar}
        """,
    "filter": """\
        - clean_column_names
        - filter: "amount_usd > 0 and status <> 'weird' and customer_name like '%n%'"
        """,
    "derive": """\
        - clean_column_names
        - derive:
            status: "lower(trim(status))"
            amount_eur: "round(amount_usd * 0.92, 2)"
            name_len: "length(customer_name)"
            month: "strftime(updated_at, '%Y-%m')"
            big: "CASE WHEN amount_usd >= 100 THEN 'big' ELSE 'small' END"
            contact: "coalesce(email, 'none')"
            day: "CAST(updated_at AS DATE)"
        """,
    "deduplicate": """\
        - clean_column_names
        - deduplicate: {keys: [order_id], order_by: "updated_at desc"}
        """,
    "deduplicate_ties": """\
        - clean_column_names
        - deduplicate: {keys: [updated_at]}
        """,
    "remove_empty_columns": "- remove_empty_columns: {threshold: 0.5}",
    "standardize_dates": """\
        - clean_column_names
        - standardize_dates: {columns: [order_date], format: ["%Y-%m-%d", "%d/%m/%Y"]}
        """,
    "standardize_dates_literal_letters": """\
        - clean_column_names
        - standardize_dates: {columns: [shipped, updated_at], format: "%Y-%m-%dT%H:%M"}
        """,
    "enforce_schema_permissive": """\
        - clean_column_names
        - enforce_schema:
            schema: {order_id: bigint, amount_usd: "decimal(10,2)", status: varchar, missing: date}
        """,
    "enforce_schema_strict": """\
        - select: [Status, Email]
        - clean_column_names
        - enforce_schema: {mode: strict, schema: {status: varchar, email: string}}
        """,
    "mask_sha256": """\
        - clean_column_names
        - mask: {columns: [email, order_id], method: sha256}
        """,
    "mask_redact": """\
        - clean_column_names
        - mask: {columns: [email], method: redact}
        """,
}


def _spec(transforms: str, *, options: str = "{header: true}", sink: str = "parquet") -> str:
    body = textwrap.indent(textwrap.dedent(transforms).strip(), " " * 6)
    return SPEC.format(options=options, transforms=body, sink=sink)


@pytest.mark.parametrize("case", sorted(CASES))
def test_transform_gives_the_same_table(engine_name: str, parity: Parity, case: str) -> None:
    actual, _ = parity.compare(engine_name, _spec(CASES[case]), {"data/raw.csv": RAW})
    assert actual.exit_code == 0, actual.report["error"]
    assert actual.sinks["out"].rows


def test_add_audit_columns_gives_the_same_table(engine_name: str, parity: Parity) -> None:
    spec = _spec("- add_audit_columns: {process_name: orders, source_system: shop}")
    actual, _expected = parity.compare(
        engine_name, spec, {"data/raw.csv": RAW}, varying=("process_timestamp", "batch_id")
    )
    out = actual.sinks["out"]
    assert out.names[-4:] == ["process_timestamp", "process_name", "source_system", "batch_id"]
    assert set(out.column("batch_id")) == {actual.report["run_id"]}
    (stamp,) = set(out.column("process_timestamp"))
    started = actual.report["started_at"].replace("T", " ").rstrip("Z")
    assert stamp.isoformat(sep=" ", timespec="milliseconds") == started
    assert dict(out.columns)["process_timestamp"] == "timestamp"


def test_typed_reading_gives_the_same_types(engine_name: str, parity: Parity) -> None:
    # No all_varchar: each engine infers the CSV's types; families must agree.
    actual, _ = parity.compare(engine_name, _spec("- clean_column_names"), {"data/raw.csv": RAW})
    types = dict(actual.sinks["out"].columns)
    assert types["order_id"] == "integer"
    assert types["amount_usd"] == "float"
    assert types["updated_at"] == "timestamp"
    assert types["customer_name"] == "string"


def test_all_varchar_reads_text(engine_name: str, parity: Parity) -> None:
    spec = _spec("- clean_column_names", options="{header: true, all_varchar: true}")
    actual, _ = parity.compare(engine_name, spec, {"data/raw.csv": RAW})
    assert set(dict(actual.sinks["out"].columns).values()) == {"string"}
