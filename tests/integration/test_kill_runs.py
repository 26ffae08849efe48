"""SIGKILL real `ede run` processes at random moments; every sink stays entirely old or new.

Each run writes a `version` column taken from `--param version=N`, so the content of a sink
tells which run published it. After every kill, each sink folder must hold the output of
exactly one complete run (one run id in its file names, one version, the full row count),
and the next run must recover on its own.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

ROWS = 300_000

SPEC = textwrap.dedent(
    """\
    name: kill_test
    params: {version: 0}
    sources:
      events: {format: csv, path: data/events.csv}
    steps:
      - name: events_clean
        input: events
        transforms:
          - clean_column_names
          - derive: {version: "${params.version}"}
          - deduplicate: {keys: [event_id], order_by: "ts desc"}
      - name: by_kind
        sql: SELECT kind, version, count(*) AS n FROM events_clean GROUP BY kind, version
    checks:
      - {table: events_clean, check: not_null, columns: [event_id]}
    sinks:
      events_clean: {format: parquet, path: out/events_clean, partition_by: [kind]}
      by_kind: {format: csv, path: out/by_kind}
    """
)


def _make_project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT i AS "Event ID", 'k' || (i % 7) AS "Kind", i * 1.5 AS "Value",
                  TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS "TS"
                  FROM range({ROWS}) t(i))
            TO '{root / "data" / "events.csv"}' (HEADER)"""
    )
    spec = root / "pipeline.yaml"
    spec.write_text(SPEC)
    return spec


def _run(spec: Path, version: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "enterprise_data_engineering",
            "run",
            str(spec),
            "--param",
            f"version={version}",
            "--output-format",
            "json",
            "--no-history",
        ],
        cwd=spec.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _sink_state(folder: Path, fmt: str) -> tuple[str, int, int] | None:
    """(run id, version, rows) of the single complete run a sink holds; None if absent."""
    if not folder.exists():
        return None
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert files, f"{folder} exists but is empty"
    run_ids = {p.name.removeprefix("part-").rsplit("-", 1)[0] for p in files}
    assert len(run_ids) == 1, f"{folder} mixes runs: {sorted(run_ids)}"
    con = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    glob = str(folder / "**" / f"*.{fmt}")
    extra = ", hive_partitioning = true" if fmt == "parquet" else ""
    versions = con.execute(f"SELECT DISTINCT version FROM {reader}('{glob}'{extra})").fetchall()
    assert len(versions) == 1, f"{folder} mixes versions {versions}"
    if fmt == "parquet":
        rows = con.execute(f"SELECT count(*) FROM {reader}('{glob}'{extra})").fetchone()
    else:
        rows = con.execute(f"SELECT sum(n) FROM {reader}('{glob}')").fetchone()
    assert rows is not None
    return run_ids.pop(), int(versions[0][0]), int(rows[0])


def test_killed_runs_leave_each_sink_entirely_old_or_new(tmp_path: Path) -> None:
    spec = _make_project(tmp_path)
    env = {**os.environ, "EDE_HOME": str(tmp_path / ".ede")}
    rng = random.Random(20261128)

    # A complete first run gives the baseline and the duration to aim the kills at.
    start = time.perf_counter()
    first = _run(spec, 1, env)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    duration = time.perf_counter() - start

    published: dict[str, set[int]] = {"events_clean": {1}, "by_kind": {1}}
    kills = 0
    for attempt in range(2, 26):
        proc = _run(spec, attempt, env)
        time.sleep(rng.uniform(0.0, duration * 1.1))
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        code = proc.wait(timeout=300)
        if finished:
            assert code == 0
        for sink, fmt in (("events_clean", "parquet"), ("by_kind", "csv")):
            state = _sink_state(tmp_path / "out" / sink, fmt)
            assert state is not None, f"{sink} disappeared after a kill"
            _run_id, version, rows = state
            assert version in {*published[sink], attempt}, (sink, version)
            assert rows == ROWS
            published[sink].add(version)
    assert kills >= 10

    # The next run recovers by itself and leaves no staging behind.
    last = _run(spec, 99, env)
    assert last.wait(timeout=300) == 0
    assert _sink_state(tmp_path / "out" / "events_clean", "parquet")[1:] == (99, ROWS)  # type: ignore[index]
    assert not list((tmp_path / "out").glob(".ede-staging*"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["by_kind", "events_clean"]


def test_sigterm_stops_the_run_with_exit_7_and_publishes_nothing(tmp_path: Path) -> None:
    spec = _make_project(tmp_path)
    env = {**os.environ, "EDE_HOME": str(tmp_path / ".ede")}
    first = _run(spec, 1, env)
    assert first.wait(timeout=300) == 0
    before = _sink_state(tmp_path / "out" / "events_clean", "parquet")
    start = time.perf_counter()
    probe = _run(spec, 2, env)
    assert probe.wait(timeout=300) == 0
    duration = time.perf_counter() - start
    proc = _run(spec, 3, env)
    time.sleep(duration * 0.5)
    if proc.poll() is not None:
        pytest.skip("the run finished before SIGTERM could be sent")
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=120)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    after = _sink_state(tmp_path / "out" / "events_clean", "parquet")
    assert after is not None and before is not None
    if code == 7:  # stopped before publishing: nothing changed
        assert "interrupted" in stderr
        assert after[1] == 2  # still the last completed run's data
    else:  # SIGTERM arrived while publishing: publishing is finished, never left half done
        assert code == 0, stderr
        assert after[1] == 3
    assert not list((tmp_path / "out").glob(".ede-staging*"))
