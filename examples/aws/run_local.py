"""Run examples/aws/pipeline.yaml against a local AWS emulator (moto's server), end to end.

    pip install "enterprise-data-engineering[aws]" "moto[server]"
    python examples/aws/run_local.py

Starts moto on 127.0.0.1, creates the bucket, uploads seeded sample orders and customers,
stores the secret, runs ``ede run`` with nothing but the standard AWS variables pointing at
the emulator, and prints the report, the bucket listing and the Glue table. Exits with the
run's exit code.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from moto.server import ThreadedMotoServer

HERE = Path(__file__).resolve().parent
BUCKET = "ede-example-lake"
REGIONS = ["eu", "us", "apac"]


def sample_orders(seed: int = 7, months: int = 3, per_month: int = 200) -> dict[str, bytes]:
    """Monthly CSV extracts, with re-sent orders and the monitoring user's test orders."""
    rng = random.Random(seed)
    files: dict[str, bytes] = {}
    order_id = 0
    for month in range(1, months + 1):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Order ID", "Customer ID", "Amount", "Created By", "Updated At"])
        for _ in range(per_month):
            order_id += 1
            who = "monitor-bot" if rng.random() < 0.05 else "web"
            amount = f"{rng.uniform(5, 500):.2f}"
            writer.writerow([order_id, rng.randint(1, 50), amount, who, f"2026-{month:02d}-01"])
            if rng.random() < 0.1:  # re-sent later with a corrected amount
                writer.writerow([order_id, rng.randint(1, 50), amount, who, f"2026-{month:02d}-02"])
        files[f"raw/orders/2026-{month:02d}.csv"] = out.getvalue().encode()
    return files


def sample_customers() -> bytes:
    table = pa.table(
        {"customer_id": list(range(1, 51)), "region": [REGIONS[i % 3] for i in range(50)]}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    try:
        session = boto3.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        s3.create_bucket(Bucket=BUCKET)
        for key, body in sample_orders().items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        s3.put_object(Bucket=BUCKET, Key="raw/customers.parquet", Body=sample_customers())
        session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"]).create_secret(
            Name="ede-example/shop", SecretString=json.dumps({"monitoring_user": "monitor-bot"})
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "enterprise_data_engineering",
                "run",
                str(HERE / "pipeline.yaml"),
                "--param",
                f"bucket={BUCKET}",
                "--output-format",
                "json",
                "--no-history",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stderr.write(proc.stderr)
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
        print(
            json.dumps(
                {k: report.get(k) for k in ("status", "exit_code", "steps", "sinks")}, indent=2
            )
        )
        print(f"\nobjects under s3://{BUCKET}/curated/:")
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="curated/").get("Contents", [])
        for obj in listing:
            print(f"  {obj['Key']}  ({obj['Size']} bytes)")
        if proc.returncode == 0:
            glue = session.client("glue", endpoint_url=env["AWS_ENDPOINT_URL"])
            table = glue.get_table(DatabaseName="ede_example", Name="revenue_by_region")["Table"]
            columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
            print(
                f"\nGlue table ede_example.revenue_by_region at "
                f"{table['StorageDescriptor']['Location']}: {columns}, "
                f"partitioned by {[k['Name'] for k in table['PartitionKeys']]}"
            )
        return proc.returncode
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
