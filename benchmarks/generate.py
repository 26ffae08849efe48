"""Generate the benchmark data set once, seeded, with a checksum (see benchmarks/README.md).

Writes ``benchmarks/.data/orders-<rows>-s<seed>/``:

- ``orders.csv``: ``rows`` order rows with messy headers (``"Order ID"``,
  ``" Customer-Id "``, ``"Amount (USD)"``...), numbers and dates as text, 24 months of
  dates, older versions of ~8% of the orders (same id, earlier ``Updated At``), missing
  amounts and e-mails, negative amounts, unparseable dates, unknown statuses, and customer
  keys skewed towards low ids;
- ``orders.parquet``: the same rows, every column as text (for Parquet workloads);
- ``customers.parquet``: ``customer_id``, ``region``, ``country``, ``segment``;
- ``manifest.json``: the generator version, parameters, row counts and the SHA-256 of
  every file. A data set is generated once; later runs reuse it after checking the sums.

Usage::

    python benchmarks/generate.py --rows 2000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

#: bump when the data changes for the same rows and seed (old caches are then regenerated)
GENERATOR_VERSION = 1
DATA_ROOT = Path(__file__).resolve().parent / ".data"
HEADER = [
    "Order ID",
    " Customer-Id ",
    "Amount (USD)",
    "Order Date",
    "Status",
    "Email",
    "Updated At",
    "Channel",
]
STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]
STATUS_P = [0.10, 0.30, 0.35, 0.20, 0.05]
CHANNELS = ["web", "app", "store", "phone"]
REGIONS = {
    "EMEA": ["DE", "FR", "GB", "NL", "ES"],
    "AMER": ["US", "CA", "BR", "MX"],
    "APAC": ["JP", "AU", "SG", "IN"],
}
BAD_DATES = ["2025-02-30", "31/01/2025", "TBD", "0000-00-00"]
FIRST_DAY = "2024-01-01"
DAYS = 731  # 2024-01-01 .. 2025-12-31: 24 months


def dataset_dir(rows: int, seed: int, root: Path = DATA_ROOT) -> Path:
    """The folder of the data set of ``rows`` rows generated with ``seed``."""
    return root / f"orders-{rows}-s{seed}"


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _orders(rows: int, seed: int, customers: int) -> Any:
    """The orders as a pyarrow table of strings (nulls where a value is missing)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    older = round(rows * 0.08)
    unique = rows - older

    order_id = np.arange(1_000_001, 1_000_001 + unique, dtype=np.int64)
    # skewed keys: low customer ids order far more often
    customer_id = (customers * rng.random(unique) ** 2).astype(np.int64) + 1
    amount = np.round(np.minimum(rng.lognormal(3.6, 0.9, unique), 9_999.0), 2)
    day = np.datetime64(FIRST_DAY, "D") + rng.integers(0, DAYS, unique)
    updated = day.astype("datetime64[s]") + rng.integers(3_600, 96 * 3_600, unique)
    status = np.array(STATUSES)[rng.choice(len(STATUSES), unique, p=STATUS_P)]
    channel = np.array(CHANNELS)[rng.integers(0, len(CHANNELS), unique)]

    # older versions of some orders: same id, an earlier update, status "new"
    src = rng.choice(unique, older, replace=False)
    v_amount = amount[src].copy()
    corrected = rng.random(older) < 0.3
    v_amount[corrected] = np.round(v_amount[corrected] * rng.uniform(0.8, 1.2, corrected.sum()), 2)
    order_id = np.concatenate([order_id, order_id[src]])
    customer_id = np.concatenate([customer_id, customer_id[src]])
    amount = np.concatenate([amount, v_amount])
    day = np.concatenate([day, day[src]])
    updated = np.concatenate([updated, updated[src] - rng.integers(60, 36_000, older)])
    status = np.concatenate([status, np.full(older, "new")])
    channel = np.concatenate([channel, channel[src]])

    n = rows
    amount_text = np.char.mod("%.2f", amount).astype(object)
    negative = rng.random(n) < 0.001
    amount_text[negative] = np.char.mod("-%.2f", amount[negative])
    amount_null = rng.random(n) < 0.01
    date_text = day.astype(str).astype(object)
    bad = rng.random(n) < 0.0005
    date_text[bad] = np.array(BAD_DATES, dtype=object)[rng.integers(0, len(BAD_DATES), bad.sum())]
    status = status.astype(object)
    unknown = rng.random(n) < 0.0005
    status[unknown] = "lost"
    email = np.char.add(np.char.add("user", customer_id.astype(str)), "@example.com").astype(object)
    email_null = rng.random(n) < 0.025

    order = rng.permutation(n)  # versions of an order are not adjacent
    columns = {
        "Order ID": pa.array(order_id[order].astype(str)),
        " Customer-Id ": pa.array(customer_id[order].astype(str)),
        "Amount (USD)": pa.array(amount_text[order], pa.string(), mask=amount_null[order]),
        "Order Date": pa.array(date_text[order], pa.string()),
        "Status": pa.array(status[order], pa.string()),
        "Email": pa.array(email[order], pa.string(), mask=email_null[order]),
        "Updated At": pa.array(updated[order].astype(str)),
        "Channel": pa.array(channel[order]),
    }
    return pa.table(columns)


def _customers(count: int, seed: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed + 1)
    names = list(REGIONS)
    region_idx = rng.choice(len(names), count, p=[0.45, 0.35, 0.20])
    regions = np.array(names)[region_idx]
    countries = np.array(
        [REGIONS[names[r]][k % len(REGIONS[names[r]])] for r, k in
         zip(region_idx, rng.integers(0, 60, count), strict=True)]
    )  # fmt: skip
    segments = np.array(["consumer", "business", "public"])[rng.integers(0, 3, count)]
    return pa.table(
        {
            "customer_id": pa.array(np.arange(1, count + 1, dtype=np.int64)),
            "region": pa.array(regions),
            "country": pa.array(countries),
            "segment": pa.array(segments),
        }
    )


def _valid(folder: Path, rows: int, seed: int) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except ValueError:
        return False
    if (meta.get("generator_version"), meta.get("rows"), meta.get("seed")) != (
        GENERATOR_VERSION,
        rows,
        seed,
    ):
        return False
    for name, digest in meta.get("files", {}).items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != digest:
            return False
    return True


def ensure_dataset(rows: int, seed: int = 7, root: Path = DATA_ROOT) -> tuple[Path, dict[str, Any]]:
    """The data set's folder and manifest, generating it unless a valid copy exists."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder = dataset_dir(rows, seed, root)
    if _valid(folder, rows, seed):
        meta: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        meta["reused"] = True
        return folder, meta

    started = time.perf_counter()
    if folder.exists():
        shutil.rmtree(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    customers = max(1_000, rows // 20)
    orders = _orders(rows, seed, customers)
    pacsv.write_csv(
        orders, tmp / "orders.csv", write_options=pacsv.WriteOptions(quoting_style="none")
    )
    pq.write_table(orders, tmp / "orders.parquet")
    pq.write_table(_customers(customers, seed), tmp / "customers.parquet")
    files = ["orders.csv", "orders.parquet", "customers.parquet"]
    meta = {
        "generator_version": GENERATOR_VERSION,
        "rows": rows,
        "seed": seed,
        "customers": customers,
        "files": {name: sha256_file(tmp / name) for name in files},
        "bytes": {name: (tmp / name).stat().st_size for name in files},
        "generated_in_s": round(time.perf_counter() - started, 2),
    }
    (tmp / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    tmp.rename(folder)  # a half-written data set is never mistaken for a complete one
    meta["reused"] = False
    return folder, meta


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--rows N``, ``--seed S``, ``--root DIR``."""
    parser = argparse.ArgumentParser(description="Generate the benchmark data set once.")
    parser.add_argument("--rows", type=int, default=2_000_000, help="order rows (2,000,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--root", type=Path, default=DATA_ROOT, help="cache folder")
    args = parser.parse_args(argv)
    if args.rows < 1_000:
        parser.error("--rows must be at least 1000")
    folder, meta = ensure_dataset(args.rows, args.seed, args.root)
    how = "reused" if meta["reused"] else f"generated in {meta['generated_in_s']} s"
    size = meta["bytes"]["orders.csv"] / 1e6
    print(f"{folder}: {args.rows:,} rows, orders.csv {size:,.1f} MB ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
