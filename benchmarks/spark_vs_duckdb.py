"""The same pipeline on DuckDB and on Spark ``local[N]``: time ratio, Spark start-up apart.

The workload is ``benchmarks/run.py``'s (CSV → clean names → cast → standardize dates →
filter → deduplicate → join + aggregate, five checks, two Parquet sinks published with
write-audit-publish), on the seeded data set of ``benchmarks/generate.py``.

Each measurement is a fresh Python process that runs the pipeline through
``run_pipeline`` and reports, as JSON:

- ``startup_s``: for Spark, creating the SparkSession (JVM launch included), which a
  cluster pays once per application; for DuckDB, creating the engine (≈0);
- ``pipeline_s``: the run itself, from reading the sources to publishing the sinks;
- ``process_s`` (measured outside): the whole process, imports and interpreter included.

Engines alternate in every round (the order rotates), best and median of ``--repeat``
rounds; every run's outputs are checksummed (row counts and sums) and Spark's must equal
DuckDB's. Results go to ``benchmarks/results/spark-vs-duckdb-<time>.json``; the summary is
printed as a Markdown table.

Usage::

    python benchmarks/spark_vs_duckdb.py                          # 1M and 5M rows, 3 rounds
    python benchmarks/spark_vs_duckdb.py --rows 1000000 --repeat 5 --spark-master "local[2]"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DATA_ROOT, ensure_dataset  # noqa: E402
from run import SPEC, checksum, cpu_model, same  # noqa: E402

RESULTS = HERE / "results"
ENGINES = ("duckdb", "spark")
SPARK_BLOCK = """
spark:
  app_name: ede-bench
  conf:
    spark.driver.memory: "{memory}"
    spark.ui.enabled: "false"
"""

#: the child: start the engine's session, run the pipeline, print timings as JSON
CHILD = r"""
import json, sys, time
engine, spec, master = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if engine == "spark":
    from enterprise_data_engineering.engines.spark import SESSION_SQL_CONF
    from enterprise_data_engineering.spark.session import SparkConfig, create_spark_session
    from enterprise_data_engineering.spec.loader import load_spec
    conf = {**SESSION_SQL_CONF, **load_spec(spec).spec.spark.conf}
    session = create_spark_session(SparkConfig(app_name="ede-bench", master=master, conf=conf))
startup = time.perf_counter() - t0
from enterprise_data_engineering.runtime.runner import RunOptions, run_pipeline
t1 = time.perf_counter()
report = run_pipeline(spec, RunOptions(engine=engine, record_history=False))
pipeline = time.perf_counter() - t1
if engine == "spark":
    session.stop()
print(json.dumps({"startup_s": startup, "pipeline_s": pipeline, "exit_code": report["exit_code"],
                  "error": report["error"]}))
"""


def run_once(engine: str, spec: Path, out: Path, master: str) -> dict[str, Any]:
    """One fresh-process run of ``engine``; its timings and output checksum."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "EDE_HOME": str(out.parent / ".ede-home"), "SPARK_LOCAL_IP": "127.0.0.1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(spec), master],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    process_s = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"engine": engine, "exit_code": proc.returncode or 1, "error": proc.stderr[-2000:]}
    result: dict[str, Any] = json.loads(lines[-1])
    result.update(engine=engine, process_s=process_s, checksum=checksum(out))
    return result


def summarise(rows: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Best and median per engine, and Spark's ratios to DuckDB."""
    by_engine: dict[str, dict[str, Any]] = {}
    for engine in ENGINES:
        mine = [r for r in runs if r["engine"] == engine and r.get("exit_code") == 0]
        if not mine:
            continue
        by_engine[engine] = {
            key: {
                "best": min(r[key] for r in mine),
                "median": statistics.median(r[key] for r in mine),
            }
            for key in ("startup_s", "pipeline_s", "process_s")
        }
    summary: dict[str, Any] = {"rows": rows, "engines": by_engine}
    if len(by_engine) == 2:
        duck, spark = by_engine["duckdb"], by_engine["spark"]
        summary["ratio_pipeline"] = spark["pipeline_s"]["best"] / duck["pipeline_s"]["best"]
        summary["ratio_process"] = spark["process_s"]["best"] / duck["process_s"]["best"]
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The same pipeline on DuckDB and on Spark.")
    parser.add_argument("--rows", default="1000000,5000000", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per size (>= 1)")
    parser.add_argument("--spark-master", default="local[2]", help="Spark master URL")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory")
    args = parser.parse_args(argv)

    sizes = [int(r) for r in args.rows.split(",") if r.strip()]
    work = DATA_ROOT / "work" / "spark-vs-duckdb"
    summaries: list[dict[str, Any]] = []
    all_runs: list[dict[str, Any]] = []
    ok = True
    for rows in sizes:
        data, _meta = ensure_dataset(rows)
        spec = work / f"pipeline-{rows}.yaml"
        spec.parent.mkdir(parents=True, exist_ok=True)
        runs: list[dict[str, Any]] = []
        for round_ in range(args.repeat):
            order = ENGINES if round_ % 2 == 0 else tuple(reversed(ENGINES))
            for engine in order:
                out = work / f"out-{engine}"
                text = SPEC.format(
                    orders=data / "orders.csv", customers=data / "customers.parquet", out=out
                )
                spec.write_text(text + SPARK_BLOCK.format(memory=args.driver_memory))
                result = run_once(engine, spec, out, args.spark_master)
                result.update(rows=rows, round=round_)
                runs.append(result)
                status = "ok" if result.get("exit_code") == 0 else f"FAILED: {result.get('error')}"
                print(
                    f"{rows:>9,} rows  round {round_}  {engine:<6}  "
                    f"start-up {result.get('startup_s', 0):6.2f}s  "
                    f"pipeline {result.get('pipeline_s', 0):7.2f}s  "
                    f"process {result.get('process_s', 0):7.2f}s  {status}",
                    flush=True,
                )
                ok = ok and result.get("exit_code") == 0
        reference = next(
            (r["checksum"] for r in runs if r["engine"] == "duckdb" and "checksum" in r), None
        )
        for r in runs:
            r["matches_duckdb"] = bool(reference) and same(
                reference, r.get("checksum", {}), exact=True
            )
            ok = ok and r["matches_duckdb"]
        summaries.append(summarise(rows, runs))
        all_runs += runs

    print()
    print(
        "| rows | DuckDB pipeline (s) | Spark pipeline (s) | ratio Spark / DuckDB "
        "| Spark start-up (s) | whole process DuckDB / Spark (s) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for s in summaries:
        if "ratio_pipeline" not in s:
            continue
        d, k = s["engines"]["duckdb"], s["engines"]["spark"]
        print(
            f"| {s['rows']:,} | {d['pipeline_s']['best']:.2f} ({d['pipeline_s']['median']:.2f}) "
            f"| {k['pipeline_s']['best']:.2f} ({k['pipeline_s']['median']:.2f}) "
            f"| **{s['ratio_pipeline']:.1f}** "
            f"| {k['startup_s']['best']:.1f} ({k['startup_s']['median']:.1f}) "
            f"| {d['process_s']['best']:.1f} / {k['process_s']['best']:.1f} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = RESULTS / f"spark-vs-duckdb-{stamp}.json"
    target.write_text(
        json.dumps(
            {
                "command": sys.argv,
                "machine": {
                    "cpu": cpu_model(),
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                },
                "spark_master": args.spark_master,
                "summaries": summaries,
                "runs": all_runs,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nresults: {target}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
