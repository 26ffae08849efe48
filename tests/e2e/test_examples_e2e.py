"""The example pipelines, end to end: generate data, `ede run` in a fresh process, compare.

Expected values are computed independently, with plain DuckDB SQL over the generated CSV
files (not through `ede`), and compared with what `ede run` reports and writes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
ROWS = 3_000
MIN_AMOUNT = "1.00"  # `params.min_amount` of examples/orders_daily/pipeline.yaml
RAW_COLUMNS = [
    "order_id",
    "customer_id",
    "amount",
    "order_date",
    "status",
    "email",
    "updated_at",
    "legacy_code",
]
ACCEPTED = ("new", "paid", "shipped", "delivered", "cancelled")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


def _ede(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDE_HOME": str(home)}
    env.pop("EDE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "enterprise_data_engineering", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def _report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.stdout.strip(), f"no report on stdout; stderr:\n{proc.stderr}"
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def _parquet_rows(folder: Path) -> int:
    files = sorted(str(p) for p in folder.rglob("*.parquet"))
    assert files, f"no parquet files under {folder}"
    (count,) = duckdb.sql(f"SELECT count(*) FROM read_parquet({files!r})").fetchall()[0]
    return int(count)


def _expected(data: Path) -> dict[str, Any]:
    """What the example must produce, computed from the raw CSV files with DuckDB SQL."""
    con = duckdb.connect()
    files = sorted(str(p) for p in (data / "orders").glob("*.csv"))
    con.execute(
        f"""
        CREATE TABLE staged AS
        WITH raw AS (
            SELECT * FROM read_csv({files!r}, header = true, all_varchar = true,
                                   names = {RAW_COLUMNS!r})
        ), latest AS (
            SELECT * FROM raw
            QUALIFY row_number() OVER (
                PARTITION BY CAST(order_id AS BIGINT)
                ORDER BY CAST(updated_at AS TIMESTAMP) DESC) = 1
        )
        SELECT CAST(order_id AS BIGINT) AS order_id,
               CAST(customer_id AS BIGINT) AS customer_id,
               CAST(amount AS DECIMAL(12, 2)) AS amount,
               coalesce(try_strptime(order_date, '%Y-%m-%d'),
                        try_strptime(order_date, '%d/%m/%Y')) AS order_date,
               lower(trim(status)) AS status,
               email
        FROM latest
        """
    )
    con.execute(
        f"""
        CREATE TABLE clean AS
        SELECT * FROM staged
        WHERE amount >= 0 AND order_date IS NOT NULL AND amount >= {MIN_AMOUNT}
        """
    )
    customers = str(data / "customers.parquet")

    def one(sql: str) -> Any:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0]

    return {
        "orders": one("SELECT count(*) FROM staged"),
        "negative_ids": sorted(
            r[0] for r in con.execute("SELECT order_id FROM staged WHERE amount < 0").fetchall()
        ),
        "bad_date_ids": sorted(
            r[0]
            for r in con.execute("SELECT order_id FROM staged WHERE order_date IS NULL").fetchall()
        ),
        "clean_rows": one("SELECT count(*) FROM clean"),
        "clean_amount": one("SELECT sum(amount) FROM clean"),
        "revenue_rows": one(
            f"""SELECT count(*) FROM (
                SELECT DISTINCT c.region, strftime(o.order_date, '%Y-%m')
                FROM clean o JOIN read_parquet('{customers}') c USING (customer_id))"""
        ),
        "regions": sorted(
            r[0]
            for r in con.execute(
                f"""SELECT DISTINCT c.region FROM clean o
                    JOIN read_parquet('{customers}') c USING (customer_id)"""
            ).fetchall()
        ),
        "statuses": one("SELECT count(DISTINCT status) FROM clean"),
        "unknown_status_rows": one(f"SELECT count(*) FROM clean WHERE status NOT IN {ACCEPTED!r}"),
        "bad_email_rows": one(
            f"""SELECT count(*) FROM staged
                WHERE amount >= 0 AND order_date IS NOT NULL
                  AND NOT regexp_matches(email, '{EMAIL_PATTERN}')"""
        ),
    }


@pytest.fixture(scope="module")
def orders_daily(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The orders_daily example copied into a temporary folder, its data generated, run."""
    root = tmp_path_factory.mktemp("orders_daily")
    spec = root / "pipeline.yaml"
    shutil.copy(EXAMPLES / "orders_daily" / "pipeline.yaml", spec)
    gen = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "generate_data.py"),
            "--rows",
            str(ROWS),
            "--out",
            str(root / "data"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    home = root / "ede_home"
    proc = _ede("run", str(spec), "--output-format", "json", home=home)
    return {
        "root": root,
        "spec": spec,
        "home": home,
        "generator_output": gen.stdout,
        "proc": proc,
        "expected": _expected(root / "data"),
    }


def test_generator_is_deterministic(tmp_path: Path) -> None:
    for out in ("a", "b"):
        subprocess.run(
            [sys.executable, str(EXAMPLES / "generate_data.py"), "--rows", "500", "--out", out],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert [str(f) for f in files] == [
        "customers.parquet",
        "orders/orders_2026-01.csv",
        "orders/orders_2026-02.csv",
        "orders/orders_2026-03.csv",
    ]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_orders_daily_succeeds(orders_daily: dict[str, Any]) -> None:
    proc = orders_daily["proc"]
    assert proc.returncode == 0, proc.stderr
    report = _report(proc)
    assert report["pipeline"] == "orders_daily"
    assert (report["status"], report["exit_code"], report["error"]) == ("succeeded", 0, None)
    assert report["params"] == {"min_amount": 1.0}
    assert "wrote 3,000 order rows" in orders_daily["generator_output"]


def test_orders_daily_steps(orders_daily: dict[str, Any]) -> None:
    report, exp = _report(orders_daily["proc"]), orders_daily["expected"]
    rows = {s["name"]: s["rows"] for s in report["steps"]}
    assert set(rows) == {
        "orders_staged",
        "customers_dim",
        "orders_clean",
        "revenue_by_region_month",
        "status_summary",
    }
    # the step's rows are counted after quarantine took its rows out
    quarantined = set(exp["negative_ids"]) | set(exp["bad_date_ids"])
    assert rows["orders_staged"] == exp["orders"] - len(quarantined)
    assert rows["orders_clean"] == exp["clean_rows"]
    assert rows["revenue_by_region_month"] == exp["revenue_rows"]
    assert rows["status_summary"] == exp["statuses"]
    assert rows["customers_dim"] == ROWS // 10


def test_orders_daily_checks(orders_daily: dict[str, Any]) -> None:
    report, exp = _report(orders_daily["proc"]), orders_daily["expected"]
    checks = {c["name"]: c for c in report["checks"]}
    assert len(checks) == 11
    negative = checks["orders_staged.range.amount"]
    assert (negative["on_fail"], negative["status"]) == ("quarantine", "failed")
    assert negative["failing_rows"] == len(exp["negative_ids"]) > 0
    bad_dates = checks["orders_staged.not_null.order_date"]
    assert bad_dates["failing_rows"] == len(exp["bad_date_ids"]) > 0
    status = checks["orders_clean.accepted_values.status"]
    assert (status["severity"], status["status"]) == ("warn", "failed")
    assert status["failing_rows"] == exp["unknown_status_rows"] > 0
    email = checks["orders_staged.regex.email"]
    assert (email["severity"], email["status"]) == ("warn", "failed")
    assert email["failing_rows"] == exp["bad_email_rows"] > 0
    errors = [c for c in report["checks"] if c["severity"] == "error" and c["on_fail"] == "fail"]
    assert len(errors) == 7
    assert all(c["status"] == "passed" and c["failing_rows"] == 0 for c in errors)


def test_orders_daily_sinks(orders_daily: dict[str, Any]) -> None:
    root, exp = orders_daily["root"], orders_daily["expected"]
    report = _report(orders_daily["proc"])
    sinks = {s["name"]: s for s in report["sinks"]}
    assert set(sinks) == {"orders_clean", "revenue_by_region_month", "status_summary"}
    assert Path(sinks["orders_clean"]["path"]) == root / "out" / "orders_clean"
    assert sinks["orders_clean"]["rows"] == exp["clean_rows"]

    # what is on disk, read back independently
    assert _parquet_rows(root / "out" / "orders_clean") == exp["clean_rows"]
    files = [str(p) for p in (root / "out" / "orders_clean").rglob("*.parquet")]
    total, masked = duckdb.sql(
        f"""SELECT sum(amount), bool_and(email IS NULL OR regexp_matches(email, '^[0-9a-f]{{64}}$'))
            FROM read_parquet({files!r})"""
    ).fetchall()[0]
    assert Decimal(total) == exp["clean_amount"]
    assert masked is True

    revenue = root / "out" / "revenue_by_region_month"
    assert sorted(p.name for p in revenue.iterdir() if p.is_dir()) == [
        f"region={r}" for r in exp["regions"]
    ]
    assert _parquet_rows(revenue) == exp["revenue_rows"] == sinks["revenue_by_region_month"]["rows"]
    rev_files = [str(p) for p in revenue.rglob("*.parquet")]
    (rev_total,) = duckdb.sql(
        f"SELECT sum(revenue) FROM read_parquet({rev_files!r}, hive_partitioning = true)"
    ).fetchall()[0]
    assert Decimal(rev_total) == exp["clean_amount"]

    csv_files = list((root / "out" / "status_summary").glob("*.csv"))
    assert len(csv_files) == 1
    lines = csv_files[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "status,orders,revenue"
    assert len(lines) - 1 == exp["statuses"]


def test_orders_daily_quarantine_holds_the_rejected_rows(orders_daily: dict[str, Any]) -> None:
    root, exp = orders_daily["root"], orders_daily["expected"]
    run_id = _report(orders_daily["proc"])["run_id"]
    files = [str(p) for p in (root / "quarantine" / "orders_staged").rglob("*.parquet")]
    assert files
    rows = duckdb.sql(
        f"""SELECT order_id, amount, _ede_failed_checks, _ede_run_id
            FROM read_parquet({files!r}) ORDER BY order_id"""
    ).fetchall()
    negative = sorted(r[0] for r in rows if "orders_staged.range.amount" in r[2])
    assert negative == exp["negative_ids"]
    assert all(r[1] < 0 for r in rows if "orders_staged.range.amount" in r[2])
    bad_dates = sorted(r[0] for r in rows if "orders_staged.not_null.order_date" in r[2])
    assert bad_dates == exp["bad_date_ids"]
    assert {r[3] for r in rows} == {run_id}
    assert len(rows) == len(set(exp["negative_ids"]) | set(exp["bad_date_ids"]))


@pytest.mark.slow
def test_orders_daily_rerun_is_idempotent(orders_daily: dict[str, Any]) -> None:
    """A second run overwrites the sinks: same row counts, no leftovers of the first run."""
    root, exp = orders_daily["root"], orders_daily["expected"]
    proc = _ede("run", str(orders_daily["spec"]), "--output-format", "json", home=root / "h2")
    assert proc.returncode == 0, proc.stderr
    assert _parquet_rows(root / "out" / "orders_clean") == exp["clean_rows"]
    assert _parquet_rows(root / "out" / "revenue_by_region_month") == exp["revenue_rows"]


def test_quickstart_runs_on_its_committed_data(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart", ignore=_no_outputs)
    spec = tmp_path / "quickstart" / "pipeline.yaml"
    proc = _ede("run", str(spec), "--output-format", "json", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    report = _report(proc)
    rows = {s["name"]: s["rows"] for s in report["steps"]}
    # 11 data rows, one of them a duplicate of person 3
    assert rows == {"people_clean": 10, "people_by_country": 4}
    assert all(c["status"] == "passed" for c in report["checks"])
    assert _parquet_rows(tmp_path / "quickstart" / "out" / "people_clean") == 10


def _no_outputs(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("out", "quarantine")]


PLUGIN_SPEC = """\
name: plugin_demo
sources:
  customers: {format: csv, path: customers.csv}
steps:
  - name: customers_clean
    input: customers
    transforms:
      - clean_column_names
      - normalize_whitespace: {columns: [full_name, city]}
checks:
  - {table: customers_clean, check: non_negative, column: balance, on_fail: quarantine}
  - {table: customers_clean, check: non_negative, column: credit, severity: warn}
sinks:
  customers_clean: {format: parquet, path: out/customers_clean}
"""

PLUGIN_DATA = """\
Customer ID,Full Name,City,Balance,Credit
1,"  Anna   Schmidt ",Berlin,10.5,-1
2,Ben Martin,"  New    York",-3.25,5
3,"Chloe	 Smith",Paris,,0
4,,Tokyo,0,-2
"""


def test_a_spec_using_the_plugin_transform_and_check_runs(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(PLUGIN_SPEC, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(PLUGIN_DATA, encoding="utf-8")
    home = tmp_path / "home"

    validated = _ede("validate", str(spec), home=home)
    assert validated.returncode == 0, validated.stderr

    proc = _ede("run", str(spec), "--output-format", "json", home=home)
    assert proc.returncode == 0, proc.stderr
    report = _report(proc)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["customers_clean.non_negative.balance"]["failing_rows"] == 1
    credit = checks["customers_clean.non_negative.credit"]
    assert (credit["status"], credit["failing_rows"]) == ("failed", 2)  # warn: rows 1 and 4

    out = [str(p) for p in (tmp_path / "out" / "customers_clean").rglob("*.parquet")]
    rows = duckdb.sql(
        f"SELECT customer_id, full_name, city FROM read_parquet({out!r}) ORDER BY 1"
    ).fetchall()
    assert rows == [(1, "Anna Schmidt", "Berlin"), (3, "Chloe Smith", "Paris"), (4, None, "Tokyo")]
    quarantined = [str(p) for p in (tmp_path / "quarantine").rglob("*.parquet")]
    q_rows = duckdb.sql(
        f"SELECT customer_id, city, _ede_failed_checks FROM read_parquet({quarantined!r})"
    ).fetchall()
    assert q_rows == [(2, "New York", ["customers_clean.non_negative.balance"])]


def test_a_plugin_argument_error_is_located(tmp_path: Path) -> None:
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(
        PLUGIN_SPEC.replace("{columns: [full_name, city]}", "{cols: [full_name]}"),
        encoding="utf-8",
    )
    proc = _ede("validate", str(spec), home=tmp_path / "home")
    assert proc.returncode == 1
    assert f"{spec}:" in proc.stderr
    assert "normalize_whitespace" in proc.stderr or "cols" in proc.stderr
    assert "Traceback" not in proc.stderr
