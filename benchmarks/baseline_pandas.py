"""Baseline (c): the benchmark workload in idiomatic pandas.

The same work as the generated ``ede`` spec and ``baseline_duckdb.py``: clean names, types,
filter, keep the latest version of each order, check, write ``orders_clean``; join customers,
aggregate by region and month, check, write ``revenue_by_region_month``. Amounts are
float64 (pandas has no fast decimal type); the harness compares sums to the cent.

Usage::

    python benchmarks/baseline_pandas.py --data DATASET_DIR --out OUT_DIR
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

ACCEPTED = ["new", "paid", "shipped", "delivered", "cancelled"]


def snake_case(name: str) -> str:
    """The name rule of ``clean_column_names``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def run(data: Path, out: Path, min_amount: float = 0) -> None:
    """Run the workload; raise ``SystemExit(8)`` if an error-severity check fails."""
    # pandas infers the types of the numeric columns while reading (ids int64, amount float64)
    orders = pd.read_csv(data / "orders.csv")
    orders.columns = [snake_case(c) for c in orders.columns]
    orders = orders.rename(columns={"amount_usd": "amount"})
    orders["amount"] = orders["amount"].round(2)
    orders["order_date"] = pd.to_datetime(orders["order_date"], format="%Y-%m-%d", errors="coerce")
    orders["updated_at"] = pd.to_datetime(orders["updated_at"], format="%Y-%m-%dT%H:%M:%S")

    orders = orders[(orders["amount"] > min_amount) & orders["order_date"].notna()]
    orders_clean = orders.sort_values("updated_at", ascending=False).drop_duplicates(
        "order_id", keep="first"
    )

    customers = pd.read_parquet(data / "customers.parquet")
    joined = orders_clean.merge(customers, on="customer_id", how="inner")
    joined["month"] = joined["order_date"].dt.strftime("%Y-%m")
    revenue = joined.groupby(["region", "month"], as_index=False).agg(
        orders=("order_id", "size"), revenue=("amount", "sum")
    )

    # Checks before anything is written.
    failed = (
        orders_clean[["order_id", "customer_id", "amount"]].isna().any(axis=None)
        or orders_clean["order_id"].duplicated().any()
        or (orders_clean["amount"] < 0).any()
        or len(revenue) < 1
    )
    unknown = (~orders_clean["status"].isin(ACCEPTED) & orders_clean["status"].notna()).sum()
    if unknown:
        print(f"warning: {unknown} rows with an unknown status", file=sys.stderr)
    if failed:
        print("error: a check failed; nothing written", file=sys.stderr)
        raise SystemExit(8)

    for name, frame in (("orders_clean", orders_clean), ("revenue_by_region_month", revenue)):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder / "part-0.parquet", index=False)


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-amount", type=float, default=0)
    args = parser.parse_args()
    run(args.data, args.out, args.min_amount)
    return 0


if __name__ == "__main__":
    sys.exit(main())
