"""`ede run` against S3 (moto server): sources, sinks, write-audit-publish, secrets, Glue.

Each test runs the real CLI in a subprocess (``python -m enterprise_data_engineering run``)
with only the standard AWS variables pointing it at the server, and checks the objects in the
bucket with boto3 against results computed here independently (plain Python).
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto_helpers import etags, keys

RunCli = Any  # the `ede` fixture of tests/conftest.py

pytestmark = pytest.mark.aws

ORDERS_JAN = """\
Order ID,Customer ID,Amount,Status
1,10,10.50,paid
2,11,20.00,new
3,10,-5.00,paid
"""
ORDERS_FEB = """\
Order ID,Customer ID,Amount,Status
4,12,7.25,shipped
5,11,2.75,paid
6,13,100.00,new
"""
CUSTOMERS = {"customer_id": [10, 11, 12, 13], "region": ["eu", "us", "eu", "apac"]}
SECRET_VALUE = "pa55-W0rd-zq81-kq"

SPEC = """\
name: s3_orders
params: {{min_amount: 0}}
sources:
  orders:
    format: csv
    path: s3://{bucket}/raw/orders/*.csv
  customers:
    format: parquet
    path: s3://{bucket}/raw/customers.parquet
steps:
  - name: orders_clean
    input: orders
    transforms:
      - clean_column_names
      - cast: {{amount: "decimal(12,2)"}}
      - filter: "amount > ${{params.min_amount}} and status <> '${{secret:{secret}#password}}'"
  - name: revenue_by_region
    sql: |
      SELECT c.region, sum(o.amount) AS revenue, count(*) AS orders
      FROM orders_clean o JOIN customers c USING (customer_id)
      GROUP BY c.region
checks:
  - {{table: orders_clean, check: unique, columns: [order_id]}}
  - {{table: revenue_by_region, check: row_count, min: {min_rows}}}
sinks:
  revenue_by_region:
    format: parquet
    path: s3://{bucket}/curated/revenue_by_region
    partition_by: [region]
    catalog: {{database: {database}, table: revenue_by_region, description: Revenue per region}}
  orders_clean:
    format: csv
    path: s3://{bucket}/curated/orders_clean
"""


def _parquet_bytes(table: dict[str, list[Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(table), sink)
    return sink.getvalue()


def expected_results() -> tuple[dict[int, Decimal], dict[str, tuple[Decimal, int]]]:
    """orders_clean (order id → amount) and revenue per region, computed in plain Python."""
    region = dict(zip(CUSTOMERS["customer_id"], CUSTOMERS["region"], strict=True))
    clean: dict[int, Decimal] = {}
    revenue: dict[str, list[Decimal]] = defaultdict(list)
    for text in (ORDERS_JAN, ORDERS_FEB):
        for row in csv.DictReader(io.StringIO(text)):
            amount = Decimal(row["Amount"])
            if amount > 0:
                clean[int(row["Order ID"])] = amount
                revenue[region[int(row["Customer ID"])]].append(amount)
    return clean, {r: (sum(v, Decimal(0)), len(v)) for r, v in revenue.items()}


@pytest.fixture
def lake(s3: Any, secrets: Any, bucket: str, tmp_path: Path) -> dict[str, Any]:
    """Raw data in S3, a secret, and a spec (in a local folder) reading and writing S3."""
    s3.put_object(Bucket=bucket, Key="raw/orders/2026-01.csv", Body=ORDERS_JAN.encode())
    s3.put_object(Bucket=bucket, Key="raw/orders/2026-02.csv", Body=ORDERS_FEB.encode())
    s3.put_object(Bucket=bucket, Key="raw/orders/_SUCCESS", Body=b"")  # never read
    s3.put_object(Bucket=bucket, Key="raw/customers.parquet", Body=_parquet_bytes(CUSTOMERS))
    secret = f"{bucket}/db"
    secrets.create_secret(
        Name=secret, SecretString=json.dumps({"user": "etl", "password": SECRET_VALUE})
    )
    database = bucket.replace("-", "_")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC.format(bucket=bucket, secret=secret, database=database, min_rows=1))
    return {"bucket": bucket, "spec": spec, "secret": secret, "database": database}


def read_revenue(s3: Any, bucket: str) -> dict[str, tuple[Decimal, int]]:
    out: dict[str, tuple[Decimal, int]] = {}
    for key in keys(s3, bucket, "curated/revenue_by_region/"):
        region = key.split("/")[2].removeprefix("region=")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for row in pq.read_table(io.BytesIO(body)).to_pylist():
            assert region not in out
            out[region] = (Decimal(row["revenue"]), int(row["orders"]))
    return out


def read_orders(s3: Any, bucket: str) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for key in keys(s3, bucket, "curated/orders_clean/"):
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        for row in csv.DictReader(io.StringIO(text)):
            out[int(row["order_id"])] = Decimal(row["amount"])
    return out


def test_s3_pipeline_end_to_end(
    lake: dict[str, Any], s3: Any, glue: Any, ede: RunCli, tmp_path: Path, ede_home: Path
) -> None:
    bucket = lake["bucket"]
    status = tmp_path / "status.json"
    code, out, err = ede("run", lake["spec"], "--output-format", "json", "--status-file", status)
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "succeeded"
    clean, revenue = expected_results()
    assert read_orders(s3, bucket) == clean
    assert read_revenue(s3, bucket) == revenue

    run_id = report["run_id"]
    listing = keys(s3, bucket, "curated/")
    expected = sorted(
        [f"curated/revenue_by_region/region={r}/part-{run_id}-0.parquet" for r in revenue]
        + [f"curated/orders_clean/part-{run_id}-0.csv"]
    )
    assert listing == expected  # exactly the new objects: no staging, lease or journal left

    # A second run replaces every object (overwrite) and still leaves nothing else.
    code, out, err = ede("run", lake["spec"], "--output-format", "json")
    assert code == 0, err
    second = json.loads(out)["run_id"]
    assert keys(s3, bucket, "curated/") == [k.replace(run_id, second) for k in expected]
    assert read_revenue(s3, bucket) == revenue

    # The secret's value is nowhere: stdout, stderr, status file, history, outputs.
    history = b"".join(p.read_bytes() for p in ede_home.rglob("*") if p.is_file())
    outputs = b"".join(
        s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys(s3, bucket, "curated/")
    )
    for blob in (out.encode(), err.encode(), status.read_bytes(), history, outputs):
        assert SECRET_VALUE.encode() not in blob

    # Glue: the table, its columns, location, format and partitions.
    table = glue.get_table(DatabaseName=lake["database"], Name="revenue_by_region")["Table"]
    sd = table["StorageDescriptor"]
    assert sd["Location"] == f"s3://{bucket}/curated/revenue_by_region/"
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == [
        ("revenue", "decimal(38,2)"),
        ("orders", "bigint"),
    ]
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [("region", "string")]
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert table["Description"] == "Revenue per region"
    parts = glue.get_partitions(DatabaseName=lake["database"], TableName="revenue_by_region")
    assert sorted(
        (p["Values"][0], p["StorageDescriptor"]["Location"]) for p in parts["Partitions"]
    ) == sorted((r, f"s3://{bucket}/curated/revenue_by_region/region={r}/") for r in revenue)


def test_failed_audit_leaves_the_sinks_untouched(
    lake: dict[str, Any], s3: Any, ede: RunCli
) -> None:
    bucket = lake["bucket"]
    assert ede("run", lake["spec"]).code == 0
    before = etags(s3, bucket)
    failing = lake["spec"].parent / "failing.yaml"
    failing.write_text(
        SPEC.format(bucket=bucket, secret=lake["secret"], database=lake["database"], min_rows=1000)
    )
    code, out, err = ede("run", failing, "--output-format", "json")
    assert code == 8, err
    assert json.loads(out)["sinks"] == []
    assert etags(s3, bucket) == before  # same keys, same ETags; no staging left either


def test_missing_secret_is_exit_3_naming_it(lake: dict[str, Any], ede: RunCli) -> None:
    spec = lake["spec"]
    spec.write_text(spec.read_text().replace(lake["secret"], "no/such/secret"))
    code, _, err = ede("run", spec)
    assert code == 3
    assert "no/such/secret" in err
    assert "Traceback" not in err


def test_missing_field_is_exit_3_without_the_value(lake: dict[str, Any], ede: RunCli) -> None:
    spec = lake["spec"]
    spec.write_text(spec.read_text().replace("#password", "#passwd"))
    code, out, err = ede("run", spec, "--output-format", "json")
    assert code == 3
    assert "passwd" in err and lake["secret"] in err
    assert SECRET_VALUE not in err + out


def test_error_messages_are_redacted(lake: dict[str, Any], ede: RunCli, tmp_path: Path) -> None:
    """A secret inside SQL that fails: DuckDB's message quotes the value; no output may."""
    spec = lake["spec"]
    spec.write_text(
        spec.read_text()
        .replace("status <> '${secret:", "cast(amount as varchar) = cast('${secret:")
        .replace("#password}'\"", "#password}' as integer)\"")
    )
    assert "as integer)" in spec.read_text()
    status = tmp_path / "status.json"
    for fmt in ("json", "text"):
        code, out, err = ede("run", spec, "--output-format", fmt, "--status-file", status)
        assert code == 2, err
        assert "Could not convert" in err  # the engine's message, value redacted
        for text in (out, err, status.read_text()):
            assert SECRET_VALUE not in text


def test_missing_source_bucket_is_exit_3(lake: dict[str, Any], ede: RunCli) -> None:
    spec = lake["spec"]
    spec.write_text(
        spec.read_text().replace(f"s3://{lake['bucket']}/raw/orders", "s3://no-such-bucket-x/o")
    )
    code, _, err = ede("run", spec)
    assert code == 3, err
    assert "no-such-bucket-x" in err


def test_next_run_completes_a_killed_publish(lake: dict[str, Any], s3: Any, ede: RunCli) -> None:
    """A run killed after its commit (journal ``committed``, old objects not yet deleted)."""
    bucket = lake["bucket"]
    assert ede("run", lake["spec"]).code == 0
    old = keys(s3, bucket, "curated/orders_clean/")
    # What a SIGKILL between steps 5 and 6 of the publish leaves: both versions, a
    # committed journal, staged objects, no live lease (the dead run's lease expired).
    new_key = "curated/orders_clean/part-dead-run-0.csv"
    s3.put_object(Bucket=bucket, Key=new_key, Body=b"order_id,amount\n")
    s3.put_object(Bucket=bucket, Key="curated/.ede-staging/dead-run/orders_clean/x.csv", Body=b"")
    journal = {
        "version": 1,
        "run_id": "dead-run",
        "sink": f"s3://{bucket}/curated/orders_clean",
        "mode": "overwrite",
        "state": "committed",
        "new": [new_key],
        "delete": old,
    }
    s3.put_object(
        Bucket=bucket,
        Key="curated/.ede-staging/orders_clean.publish.json",
        Body=json.dumps(journal).encode(),
    )
    # The next run recovers (rolls forward), then publishes its own data over it.
    code, out, err = ede("run", lake["spec"], "--output-format", "json")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    assert keys(s3, bucket, "curated/orders_clean/") == [
        f"curated/orders_clean/part-{run_id}-0.csv"
    ]
    assert not keys(s3, bucket, "curated/.ede-staging/")
