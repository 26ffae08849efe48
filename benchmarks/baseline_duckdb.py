"""Baseline (b): the benchmark workload as a hand-written DuckDB Python script.

Exactly the work of the generated ``ede`` spec (see ``run.py``), written the way a data
engineer would write it by hand: read the CSV as text, clean names and cast, filter,
deduplicate, check, write ``orders_clean``; join customers and aggregate, check, write
``revenue_by_region_month``. It is the limit ``ede`` on DuckDB is compared with.

Usage::

    python benchmarks/baseline_duckdb.py --data DATASET_DIR --out OUT_DIR [--threads N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

ACCEPTED = ("new", "paid", "shipped", "delivered", "cancelled")


def run(data: Path, out: Path, min_amount: float = 0, threads: int | None = None) -> None:
    """Run the workload; raise ``SystemExit(8)`` if an error-severity check fails."""
    config = {"threads": threads} if threads else {}
    con = duckdb.connect(":memory:", config=config)
    con.execute(
        """
        CREATE TABLE orders_clean AS
        SELECT * FROM (
            SELECT CAST("Order ID" AS BIGINT)                   AS order_id,
                   CAST("Customer-Id" AS BIGINT)                AS customer_id,
                   CAST("Amount (USD)" AS DECIMAL(12, 2))       AS amount,
                   CAST(try_strptime("Order Date", '%Y-%m-%d') AS TIMESTAMP) AS order_date,
                   "Status"                                     AS status,
                   "Email"                                      AS email,
                   CAST("Updated At" AS TIMESTAMP)              AS updated_at,
                   "Channel"                                    AS channel
            FROM read_csv($path, header = true, all_varchar = true)
        )
        WHERE amount > $min_amount AND order_date IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC) = 1
        """,
        {"path": str(data / "orders.csv"), "min_amount": min_amount},
    )
    con.execute(
        """
        CREATE TABLE revenue_by_region_month AS
        SELECT c.region, strftime(o.order_date, '%Y-%m') AS month,
               count(*) AS orders, sum(o.amount) AS revenue
        FROM orders_clean AS o JOIN read_parquet($customers) AS c USING (customer_id)
        GROUP BY c.region, strftime(o.order_date, '%Y-%m')
        """,
        {"customers": str(data / "customers.parquet")},
    )

    # Checks before anything is written: row-level checks in one pass, then the others.
    nulls, negative, unknown = con.execute(
        """
        SELECT count(*) FILTER (WHERE order_id IS NULL OR customer_id IS NULL OR amount IS NULL),
               count(*) FILTER (WHERE amount < 0),
               count(*) FILTER (WHERE status NOT IN $accepted)
        FROM orders_clean
        """,
        {"accepted": list(ACCEPTED)},
    ).fetchall()[0]
    (duplicates,) = con.execute(
        """SELECT count(*) FROM (SELECT order_id FROM orders_clean
                                 GROUP BY order_id HAVING count(*) > 1)"""
    ).fetchall()[0]
    (revenue_rows,) = con.execute("SELECT count(*) FROM revenue_by_region_month").fetchall()[0]
    if unknown:
        print(f"warning: {unknown} rows with an unknown status", file=sys.stderr)
    if nulls or negative or duplicates or revenue_rows < 1:
        print("error: a check failed; nothing written", file=sys.stderr)
        raise SystemExit(8)

    for table in ("orders_clean", "revenue_by_region_month"):
        folder = out / table
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY {table} TO $file (FORMAT parquet)", {"file": str(folder / "part-0.parquet")}
        )
    con.close()


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-amount", type=float, default=0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    run(args.data, args.out, args.min_amount, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
