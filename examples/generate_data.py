"""Generate the sample data of the ``orders_daily`` example pipeline.

The data looks like a real extract from a web shop, warts included, so that every transform
and check of ``examples/orders_daily/pipeline.yaml`` has something to do:

- ``orders/orders_2026-01.csv`` ... ``orders_2026-03.csv``: one file per month, with messy
  headers (``"Order ID"``, ``" Customer-Id "``, ``"Amount (USD)"``...), a column that is
  always empty (``"Legacy Code"``), older versions of the same order (same ``Order ID``,
  earlier ``Updated At``), statuses in mixed case and with stray spaces, missing amounts
  and e-mails, a few malformed e-mails, dates that are not dates, negative amounts, test
  orders under one dollar and statuses outside the accepted set.
- ``customers.parquet``: ``customer_id``, ``name``, ``region``, ``country``.

The output is deterministic: the same ``--seed`` and ``--rows`` give byte-identical files.
Only the standard library and pyarrow are used.

Usage::

    python examples/generate_data.py           # 5,000 rows into examples/orders_daily/data
    python examples/generate_data.py --rows 20000 --out /tmp/orders_data
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "orders_daily" / "data"
MONTHS = ((2026, 1), (2026, 2), (2026, 3))
HEADER = [
    "Order ID",
    " Customer-Id ",
    "Amount (USD)",
    "Order Date",
    "Status",
    "Email",
    "Updated At",
    "Legacy Code",
]
STATUSES = ("new", "paid", "shipped", "delivered", "cancelled")
STATUS_WEIGHTS = (10, 30, 35, 20, 5)
UNKNOWN_STATUSES = ("lost", "On Hold", "refund?")
BAD_DATES = ("2026-02-30", "31/01/2026", "TBD", "2026/03/05", "0000-00-00")
REGIONS = {
    "EMEA": ("DE", "FR", "GB", "NL", "ES"),
    "AMER": ("US", "CA", "BR", "MX"),
    "APAC": ("JP", "AU", "SG", "IN"),
}
FIRST_NAMES = (
    "Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas",
    "Kenji", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Martin", "Smith", "de Vries", "Garcia", "Silva", "Tanaka", "Brown",
    "Singh", "Lee", "Rossi", "Dubois", "Novak", "Kowalski", "Haddad", "Olsen",
)  # fmt: skip


@dataclass
class Order:
    """One version of one order, as it appears in a CSV row."""

    order_id: int
    customer_id: int
    amount: str
    order_date: str
    status: str
    email: str
    updated_at: datetime
    month: int  # index into MONTHS: which file the row goes to


@dataclass
class Summary:
    """What was generated (printed as one line)."""

    rows: int = 0
    orders: int = 0
    older_versions: int = 0
    customers: int = 0
    anomalies: dict[str, int] = field(default_factory=dict)


def _pick(rng: random.Random, population: int, k: int, taken: set[int]) -> list[int]:
    """``k`` distinct indexes of ``range(population)`` not in ``taken`` (then taken)."""
    free = [i for i in range(population) if i not in taken]
    chosen = rng.sample(free, min(k, len(free)))
    taken.update(chosen)
    return chosen


def _messy_status(rng: random.Random, status: str) -> str:
    roll = rng.random()
    if roll < 0.10:
        return status.capitalize()
    if roll < 0.15:
        return f" {status.upper()} "
    return status


def make_customers(rng: random.Random, count: int) -> list[dict[str, object]]:
    """``count`` customers with ids 1..count; a few names carry stray whitespace."""
    customers: list[dict[str, object]] = []
    regions = list(REGIONS)
    for customer_id in range(1, count + 1):
        region = rng.choices(regions, weights=(45, 35, 20))[0]
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if rng.random() < 0.05:
            name = f"  {name.replace(' ', '   ')} "
        customers.append(
            {
                "customer_id": customer_id,
                "name": name,
                "region": region,
                "country": rng.choice(REGIONS[region]),
            }
        )
    return customers


def make_orders(
    rng: random.Random, rows: int, customers: list[dict[str, object]], summary: Summary
) -> list[Order]:
    """``rows`` order rows: final versions of orders plus older versions of some of them."""
    older = round(rows * 0.08)
    unique = rows - older
    orders: list[Order] = []
    for i in range(unique):
        month = rng.randrange(len(MONTHS))
        year, mon = MONTHS[month]
        day = date(year, mon, rng.randint(1, 28))
        # skewed keys: low customer ids order far more often
        customer = customers[int(len(customers) * rng.random() ** 2)]
        updated = datetime(day.year, day.month, day.day) + timedelta(
            hours=rng.randint(1, 96), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
        )
        name = str(customer["name"]).split()
        orders.append(
            Order(
                order_id=100_001 + i,
                customer_id=int(str(customer["customer_id"])),
                amount=f"{min(rng.lognormvariate(3.6, 0.9), 9_999):.2f}",
                order_date=day.isoformat(),
                status=_messy_status(rng, rng.choices(STATUSES, weights=STATUS_WEIGHTS)[0]),
                email=f"{name[0].lower()}.{name[-1].lower()}{customer['customer_id']}@example.com",
                updated_at=updated,
                month=month,
            )
        )

    # Anomalies, each on distinct orders so that their counts are exact.
    taken: set[int] = set()
    few = max(2, unique // 1000)
    anomalies = {
        "negative amounts": _pick(rng, unique, few, taken),
        "bad dates": _pick(rng, unique, few, taken),
        "unknown statuses": _pick(rng, unique, max(1, unique // 1500), taken),
        "missing amounts": _pick(rng, unique, max(1, unique // 100), taken),
        "test orders": _pick(rng, unique, max(1, unique // 200), taken),
        "missing e-mails": _pick(rng, unique, max(1, unique // 40), taken),
        "malformed e-mails": _pick(rng, unique, max(1, unique // 500), taken),
    }
    for i in anomalies["negative amounts"]:
        orders[i].amount = f"-{rng.uniform(1, 200):.2f}"
    for i in anomalies["bad dates"]:
        orders[i].order_date = rng.choice(BAD_DATES)
    for i in anomalies["unknown statuses"]:
        orders[i].status = rng.choice(UNKNOWN_STATUSES)
    for i in anomalies["missing amounts"]:
        orders[i].amount = ""
    for i in anomalies["test orders"]:
        orders[i].amount = f"{rng.uniform(0, 0.99):.2f}"
    for i in anomalies["missing e-mails"]:
        orders[i].email = ""
    for i in anomalies["malformed e-mails"]:
        orders[i].email = orders[i].email.replace("@", " at ")
    summary.anomalies = {k: len(v) for k, v in anomalies.items()}

    # Older versions: the same order id, an earlier update, status "new", sometimes
    # another amount (a price correction came later). Deduplication must drop them.
    versions: list[Order] = []
    for i in rng.sample(range(unique), older):
        final = orders[i]
        gap = timedelta(minutes=rng.randint(1, 600))
        amount = final.amount
        if amount and rng.random() < 0.3:
            amount = f"{abs(float(amount)) * rng.uniform(0.8, 1.2):.2f}"
        versions.append(
            replace(final, amount=amount, status="new", updated_at=final.updated_at - gap)
        )
    summary.rows, summary.orders, summary.older_versions = rows, unique, older
    return orders + versions


def write_orders(out: Path, orders: list[Order], rng: random.Random) -> list[Path]:
    """One CSV file per month; rows shuffled, so versions of an order are not adjacent."""
    folder = out / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("orders_*.csv"):
        stale.unlink()
    files: list[Path] = []
    for month, (year, mon) in enumerate(MONTHS):
        rows = [o for o in orders if o.month == month]
        rng.shuffle(rows)
        path = folder / f"orders_{year:04d}-{mon:02d}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(HEADER)
            for o in rows:
                writer.writerow(
                    [
                        o.order_id,
                        o.customer_id,
                        o.amount,
                        o.order_date,
                        o.status,
                        o.email,
                        o.updated_at.isoformat(sep=" "),
                        "",
                    ]
                )
        files.append(path)
    return files


def write_customers(out: Path, customers: list[dict[str, object]]) -> Path:
    """``customers.parquet`` with explicit types (ids are BIGINT, as the orders' cast)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("name", pa.string()),
            ("region", pa.string()),
            ("country", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(customers, schema=schema)
    path = out / "customers.parquet"
    pq.write_table(table, path)
    return path


def generate(out: Path, rows: int = 5_000, seed: int = 42) -> Summary:
    """Write the example data into ``out``; return what was written.

    Args:
        out: the data folder (``orders/`` and ``customers.parquet`` are written in it).
        rows: the number of order rows over all CSV files (older versions included).
        seed: the random seed; the same seed gives the same files.
    """
    if rows < 100:
        raise ValueError("--rows must be at least 100")
    rng = random.Random(seed)
    summary = Summary()
    out.mkdir(parents=True, exist_ok=True)
    customers = make_customers(rng, max(10, rows // 10))
    summary.customers = len(customers)
    orders = make_orders(rng, rows, customers, summary)
    write_orders(out, orders, rng)
    write_customers(out, customers)
    return summary


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--rows N``, ``--out DIR``, ``--seed S``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000, help="order rows (default 5000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    try:
        summary = generate(args.out, args.rows, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    details = ", ".join(f"{n} {what}" for what, n in summary.anomalies.items())
    print(
        f"wrote {summary.rows:,} order rows ({summary.orders:,} orders, "
        f"{summary.older_versions:,} older versions; {details}) in {len(MONTHS)} CSV files "
        f"and {summary.customers:,} customers to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
