"""``remove_empty_columns`` on a wide table: one query vs one query per column, on Spark.

A 200-column table (integers, each column with its own fraction of nulls: a third of the
columns are at least 90% null) is generated once with pyarrow and read from Parquet. Two
ways to find the columns to drop, in the same SparkSession, alternating, each measured
with a Spark job group:

- ``ede``: :func:`enterprise_data_engineering.spark.remove_empty_columns`, which asks for
  ``COUNT(*)`` and every ``COUNT(column)`` in one aggregate query;
- ``per_column``: the common hand-written loop, one ``df.filter(col.isNull()).count()``
  per column (plus one ``df.count()``).

Reported: Spark jobs launched, best and median seconds, and the time ratio. Both must keep
the same columns. Results go to ``benchmarks/results/remove-empty-columns-<time>.json``.

Usage::

    python benchmarks/remove_empty_columns_spark.py                  # 200 columns, 500k rows
    python benchmarks/remove_empty_columns_spark.py --columns 200 --rows 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_ROOT = HERE / ".data"
RESULTS = HERE / "results"
THRESHOLD = 0.9


def ensure_table(rows: int, columns: int, seed: int = 7) -> Path:
    """A Parquet file of ``rows`` x ``columns`` integers with per-column null fractions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA_ROOT / f"wide-{rows}x{columns}-s{seed}.parquet"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for i in range(columns):
        # a third nearly empty (>= 90% null), the others between 0% and 60% null
        null_fraction = 0.9 + 0.1 * rng.random() if i % 3 == 0 else 0.6 * rng.random()
        values = rng.integers(0, 1_000_000, rows)
        mask = rng.random(rows) < null_fraction
        arrays[f"c{i:03d}"] = pa.array(values, mask=mask)
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.table(arrays), tmp)
    tmp.replace(path)
    return path


def per_column(df: Any, threshold: float) -> list[str]:
    """The hand-written approach: one count for the table, one per column."""
    from pyspark.sql import functions as F

    total = df.count()
    keep = []
    for name in df.columns:
        nulls = df.filter(F.col(name).isNull()).count()
        if total == 0 or nulls / total < threshold:
            keep.append(name)
    return keep


def measure(
    spark: Any, group: str, action: Callable[[], list[str]]
) -> tuple[float, int, list[str]]:
    """Seconds, Spark jobs launched and the result of ``action``, in its own job group."""
    context = spark.sparkContext
    context.setJobGroup(group, group)
    try:
        started = time.perf_counter()
        kept = action()
        seconds = time.perf_counter() - started
        jobs = len(context.statusTracker().getJobIdsForGroup(group))
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return seconds, jobs, kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="remove_empty_columns: one query vs per column")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--columns", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spark-master", default="local[2]")
    args = parser.parse_args(argv)

    from enterprise_data_engineering.engines.spark import SESSION_SQL_CONF
    from enterprise_data_engineering.spark import (
        SparkConfig,
        create_spark_session,
        remove_empty_columns,
    )

    path = ensure_table(args.rows, args.columns)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = {**SESSION_SQL_CONF, "spark.driver.memory": "4g"}
    spark = create_spark_session(
        SparkConfig(
            app_name="ede-bench-remove-empty", master=args.spark_master, conf=conf, ui=False
        )
    )
    df = spark.read.parquet(path.as_uri())

    def ede() -> list[str]:
        return list(remove_empty_columns(df, threshold=THRESHOLD).columns)

    def loop() -> list[str]:
        return per_column(df, THRESHOLD)

    # Warm-up (JIT, file listing), not measured.
    ede()
    runs: list[dict[str, Any]] = []
    for round_ in range(args.repeat):
        order = [("ede", ede), ("per_column", loop)]
        if round_ % 2:
            order.reverse()
        for name, action in order:
            seconds, jobs, kept = measure(spark, f"{name}-{round_}", action)
            runs.append({"approach": name, "round": round_, "seconds": seconds, "jobs": jobs,
                         "kept": len(kept), "columns": kept})  # fmt: skip
            print(f"round {round_}  {name:<10}  {seconds:7.2f}s  {jobs:4d} Spark jobs  "
                  f"{len(kept)} of {args.columns} columns kept", flush=True)  # fmt: skip
    spark.stop()

    same = len({tuple(r["columns"]) for r in runs}) == 1
    best = {a: min(r["seconds"] for r in runs if r["approach"] == a) for a in ("ede", "per_column")}
    median = {
        a: statistics.median(r["seconds"] for r in runs if r["approach"] == a)
        for a in ("ede", "per_column")
    }
    jobs = {a: max(r["jobs"] for r in runs if r["approach"] == a) for a in ("ede", "per_column")}
    print()
    print("| approach | Spark jobs | best (s) | median (s) | time vs ede |")
    print("| --- | --- | --- | --- | --- |")
    for a, label in (
        ("ede", "`remove_empty_columns` (one query)"),
        ("per_column", "one count per column"),
    ):
        print(f"| {label} | {jobs[a]} | {best[a]:.2f} | {median[a]:.2f} | "
              f"{best[a] / best['ede']:.1f}x |")  # fmt: skip
    print(f"\nsame columns kept by both: {same}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = RESULTS / f"remove-empty-columns-{stamp}.json"
    for r in runs:
        r.pop("columns")
    target.write_text(json.dumps({"command": sys.argv, "rows": args.rows, "columns": args.columns,
                                  "best": best, "median": median, "jobs": jobs, "same": same,
                                  "runs": runs}, indent=2))  # fmt: skip
    print(f"results: {target}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
