"""SQL steps (DuckDB's dialect) give the same tables on every engine; so do all the readers."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from engine_parity import REFERENCE, Parity

ORDERS = """\
order_id,customer_id,amount,status,ordered_at
1,10,10.5,paid,2024-01-03 10:00:00
2,10,20.0,paid,2024-01-20 11:30:00
3,11,5.25,new,2024-02-01 09:00:00
4,12,100.0,shipped,2024-02-11 16:45:00
5,13,7.5,cancelled,2024-03-05 08:15:00
6,11,42.0,paid,2024-03-09 12:00:00
7,99,1.0,paid,2024-03-10 13:00:00
"""


def _customers(path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
               (10, 'Ann', 'EMEA', 'DE'), (11, 'Bob', 'AMER', 'US'),
               (12, 'Cy', 'APAC', 'JP'), (13, 'Dee', 'EMEA', NULL))
               AS t(customer_id, name, region, country))
            TO '{path}' (FORMAT parquet, PARTITION_BY (region))"""
    )
    con.close()


def _events(path: Path) -> None:
    events = [
        {"event_id": 1, "customer_id": 10, "kind": "view", "score": 1.5},
        {"event_id": 2, "customer_id": 11, "kind": "click", "score": None},
        {"event_id": 3, "customer_id": 10, "kind": "click", "score": 2.0},
        {"event_id": 4, "customer_id": 12, "kind": "view", "score": 0.5},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")


FILES = {"data/orders.csv": ORDERS, "data/customers": _customers, "data/events.jsonl": _events}

SPEC = """\
name: sql_steps
sources:
  orders: {format: csv, path: data/orders.csv}
  customers: {format: parquet, path: data/customers}
  events: {format: json, path: data/events.jsonl}
steps:
  - name: revenue_by_region
    sql: |
      SELECT c.region, count(*) AS orders, count(DISTINCT o.customer_id) AS customers,
             sum(o.amount) AS revenue, avg(o.amount) AS average, min(o.ordered_at) AS first,
             max(o.amount) AS biggest
      FROM orders o JOIN customers c USING (customer_id)
      WHERE o.status <> 'cancelled'
      GROUP BY c.region
      HAVING sum(o.amount) > 1
  - name: orders_enriched
    sql: |
      WITH ranked AS (
        SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY ordered_at) AS nth,
               lag(amount) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS previous,
               sum(amount) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS running
        FROM orders
      )
      SELECT r.order_id, r.nth, r.previous, r.running, coalesce(c.name, 'unknown') AS name,
             upper(r.status) AS status, strftime(r.ordered_at, '%Y-%m') AS month,
             CAST(r.ordered_at AS DATE) AS day, year(r.ordered_at) AS year,
             date_trunc('month', r.ordered_at) AS month_start,
             CASE WHEN r.amount >= 50 THEN 'large' WHEN r.amount >= 10 THEN 'medium'
                  ELSE 'small' END AS band,
             r.amount / 2 AS half, round(CAST(r.amount AS DECIMAL(10, 2)) * 1.19, 2) AS gross,
             concat(c.country, '-', r.order_id) AS ref, replace(r.status, 'a', 'A') AS s2,
             substr(r.status, 1, 3) AS s3, length(coalesce(c.name, '')) AS name_len
      FROM ranked r LEFT JOIN customers c ON r.customer_id = c.customer_id
  - name: engaged_customers
    sql: |
      SELECT customer_id, name FROM customers
      WHERE customer_id IN (SELECT customer_id FROM events WHERE kind = 'click')
      UNION ALL
      SELECT customer_id, name FROM customers WHERE country IS NULL
  - name: event_scores
    sql: |
      SELECT kind, count(*) AS n, count(score) AS scored, sum(score) AS total,
             max(event_id) AS last_event
      FROM events GROUP BY kind
  - name: top_orders
    sql: |
      SELECT order_id, amount FROM orders ORDER BY amount DESC, order_id LIMIT 3
sinks:
  revenue_by_region: {format: parquet, path: out/revenue, partition_by: [region]}
  orders_enriched: {format: parquet, path: out/enriched}
  engaged_customers: {format: csv, path: out/engaged}
  event_scores: {format: json, path: out/scores}
  top_orders: {format: csv, path: out/top}
"""


def test_sql_steps_give_the_same_tables(engine_name: str, parity: Parity) -> None:
    actual, _ = parity.compare(engine_name, SPEC, FILES)
    assert actual.exit_code == 0, actual.report["error"]
    assert actual.step_rows() == {
        "revenue_by_region": 3,
        "orders_enriched": 7,
        "engaged_customers": 3,
        "event_scores": 2,
        "top_orders": 3,
    }
    enriched = actual.sinks["orders_enriched"]
    assert dict(zip(enriched.column("order_id"), enriched.column("nth"), strict=True))[6] == 2


def test_readers_give_the_same_tables(engine_name: str, parity: Parity) -> None:
    spec = """\
    name: readers
    sources:
      orders: {format: csv, path: data/orders.csv}
      customers: {format: parquet, path: data/customers}
      events: {format: json, path: data/events.jsonl}
    steps:
      - {name: o, input: orders}
      - {name: c, input: customers}
      - {name: e, input: events}
    sinks:
      o: {format: parquet, path: out/o}
      c: {format: parquet, path: out/c}
      e: {format: parquet, path: out/e}
    """
    actual, _ = parity.compare(engine_name, spec, FILES)
    # Hive folders become a column; JSON keeps the keys' order; CSV types are inferred.
    assert actual.sinks["c"].names == ["customer_id", "name", "country", "region"]
    assert actual.sinks["e"].names == ["event_id", "customer_id", "kind", "score"]
    assert dict(actual.sinks["o"].columns)["ordered_at"] == "timestamp"


def test_csv_options_and_declared_schema(engine_name: str, parity: Parity) -> None:
    spec = """\
    name: options
    sources:
      raw:
        format: csv
        path: data/raw
        options: {delimiter: ";", null_value: "NA", quote: "'"}
        schema: {id: bigint, amount: "decimal(10,2)", seen: date}
    steps:
      - {name: t, input: raw}
    sinks:
      t: {format: csv, path: out/t, options: {delimiter: "|"}}
    """
    files = {
        "data/raw/a.csv": "id;name;amount;seen\n1;'Ann; Jr';1.50;2024-01-31\n2;NA;NA;2024-02-01\n",
        "data/raw/b.csv": "id;name;amount;seen\n3;Cy;20;NA\n",
        "data/raw/README.md": "not data\n",
    }
    actual, _ = parity.compare(engine_name, spec, files)
    assert actual.exit_code == 0, actual.report["error"]
    names = actual.sinks["t"].column("name")
    assert sorted(names, key=str) == ["Ann; Jr", "Cy", None]


def test_a_value_that_does_not_match_the_declared_schema_fails(
    engine_name: str, parity: Parity
) -> None:
    spec = """\
    name: schema_mismatch
    sources:
      raw: {format: csv, path: data/raw.csv, options: {all_varchar: true}, schema: {id: integer}}
    steps:
      - {name: t, input: raw}
    sinks:
      t: {format: parquet, path: out/t}
    """
    actual, _ = parity.compare(engine_name, spec, {"data/raw.csv": "id\n1\nabc\n"})
    assert actual.exit_code == 2
    assert "source `raw` does not match its declared schema" in actual.report["error"]


def test_header_names_that_differ_only_in_case_are_refused(
    engine_name: str, parity: Parity
) -> None:
    # Each engine would rename one of them its own way (amount_1 / Amount0, amount1),
    # hiding the collision clean_column_names reports: both refuse the file instead.
    spec = """\
    name: case_twins
    sources:
      raw: {format: csv, path: data/raw.csv}
    steps:
      - {name: t, input: raw, transforms: [clean_column_names]}
    sinks:
      t: {format: parquet, path: out/t}
    """
    files = {"data/raw.csv": "Amount,amount,amount_2\n1,2,3\n"}
    actual, _ = parity.compare(engine_name, spec, files)
    assert actual.exit_code == 1
    assert "columns `Amount` and `amount` of `" in actual.report["error"]
    assert "differ only in case" in actual.report["error"]
    # names that only look renamed are read as they are
    actual, _ = parity.compare(engine_name, spec, {"data/raw.csv": "a,a_1,b0,B1\n1,2,3,4\n"})
    assert actual.exit_code == 0, actual.report["error"]
    assert actual.sinks["t"].names == ["a", "a_1", "b0", "b1"]


def test_csv_files_with_other_headers_are_matched_by_name(engine_name: str, parity: Parity) -> None:
    # Both engines read a list of files with the first one's header and the others by
    # position: values would be swapped silently. Files are matched by column name instead.
    spec = """\
    name: headers
    sources:
      raw: {format: csv, path: data/raw}
    steps:
      - {name: t, input: raw}
    sinks:
      t: {format: parquet, path: out/t}
    """
    files = {
        "data/raw/a.csv": "first,last,n\nA,B,1\n",
        "data/raw/b.csv": "last,first,n\nD,C,2.5\n",
        "data/raw/c.csv": "first,last\nE,F\n",
    }
    actual, _ = parity.compare(engine_name, spec, files)
    assert actual.exit_code == 0, actual.report["error"]
    t = actual.sinks["t"]
    rows = sorted(zip(t.column("first"), t.column("last"), t.column("n"), strict=True))
    assert rows == [("A", "B", 1.0), ("C", "D", 2.5), ("E", "F", None)]


def _text_lines(folder: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted(folder.rglob("*.csv")):
        content = path.read_text(encoding="utf-8").splitlines()
        lines += content[1:]  # each file repeats the header
        header = content[0]
    return [header, *sorted(lines)]


def test_sink_options_write_the_same_text(engine_name: str, parity: Parity) -> None:
    spec = """\
    name: sink_options
    sources:
      orders: {format: csv, path: data/orders.csv}
    steps:
      - name: t
        sql: |
          SELECT order_id, CAST(ordered_at AS DATE) AS day, ordered_at,
                 CASE WHEN status = 'new' THEN NULL ELSE status END AS status,
                 'say "hi", ' || status AS note, amount
          FROM orders
    sinks:
      t:
        format: csv
        path: out/t
        options:
          delimiter: ";"
          null_value: "NA"
          date_format: "%d.%m.%Y"
          timestamp_format: "%Y/%m/%d %H:%M"
    """
    expected = parity.run(REFERENCE, spec, FILES)
    folder = parity.project(spec, FILES)
    actual = parity.run_in(folder, engine_name)
    assert actual.exit_code == 0, actual.report["error"]
    reference = Path(expected.report["sinks"][0]["path"])
    lines = _text_lines(folder / "out" / "t")
    assert lines == _text_lines(reference)
    assert lines[0] == "order_id;day;ordered_at;status;note;amount"
    assert '1;03.01.2024;2024/01/03 10:00;paid;"say ""hi"", paid";10.5' in lines
    assert any(";NA;" in line for line in lines)
