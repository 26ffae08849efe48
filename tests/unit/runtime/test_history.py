"""The run history store: record, list newest first, get by id or unique prefix."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from enterprise_data_engineering.errors import ConfigError, EdeRuntimeError
from enterprise_data_engineering.runtime.history import (
    SCHEMA_VERSION,
    RunHistory,
    default_history_path,
)


def report(run_id: str, pipeline: str = "orders_daily", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "pipeline": pipeline,
        "run_id": run_id,
        "engine": "duckdb",
        "status": "succeeded",
        "exit_code": 0,
        "started_at": "2024-06-01T10:00:00+00:00",
        "finished_at": "2024-06-01T10:00:01+00:00",
        "duration_s": 1.25,
        "params": {"min_amount": 0},
        "steps": [{"name": "orders_clean", "rows": 1000, "duration_s": 0.1}],
        "checks": [],
        "sinks": [{"name": "revenue_by_region", "path": "/out/revenue", "rows": 4}],
        "error": None,
    }
    base.update(extra)
    return base


def test_default_location_follows_ede_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EDE_HOME", str(tmp_path / "home"))
    assert default_history_path() == tmp_path / "home" / "history.sqlite3"
    assert RunHistory().path == tmp_path / "home" / "history.sqlite3"
    monkeypatch.delenv("EDE_HOME")
    assert default_history_path().name == "history.sqlite3"
    assert "ede" in default_history_path().parent.parts[-1]


def test_record_then_get_the_full_report(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "nested" / "folder" / "history.sqlite3")
    assert history.list() == []
    assert history.get("anything") is None
    assert not history.path.exists()  # reading creates nothing
    full = report("20240601T100000-abc123")
    history.record(full)
    assert history.get("20240601T100000-abc123") == full
    assert history.get("20240601T100000") == full  # a unique prefix
    assert history.get("zzz") is None
    assert history.get("") is None


def test_list_is_newest_first_filtered_and_limited(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.sqlite3")
    history.record(report("r1", started_at="2024-06-01T10:00:00+00:00"))
    history.record(report("r3", started_at="2024-06-03T10:00:00+00:00", status="failed"))
    history.record(report("r2", started_at="2024-06-02T10:00:00+00:00"))
    # a later time in another zone: 2024-06-03T12:00 UTC
    history.record(report("r4", "other", started_at="2024-06-03T14:00:00+02:00"))
    runs = history.list()
    assert [r["run_id"] for r in runs] == ["r4", "r3", "r2", "r1"]
    assert runs[1] == {
        "run_id": "r3",
        "pipeline": "orders_daily",
        "status": "failed",
        "exit_code": 0,
        "started_at": "2024-06-03T10:00:00+00:00",
        "finished_at": "2024-06-01T10:00:01+00:00",
        "duration_s": 1.25,
        "engine": "duckdb",
    }
    assert [r["run_id"] for r in history.list(limit=2)] == ["r4", "r3"]
    assert [r["run_id"] for r in history.list(pipeline="orders_daily")] == ["r3", "r2", "r1"]
    assert history.list(pipeline="nope") == []


def test_recording_again_replaces_the_run(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.sqlite3")
    history.record(report("r1", status="failed", exit_code=8))
    history.record(report("r1", status="succeeded", exit_code=0))
    assert [(r["status"], r["exit_code"]) for r in history.list()] == [("succeeded", 0)]


def test_ambiguous_prefix_is_a_config_error(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.sqlite3")
    history.record(report("abc-1"))
    history.record(report("abc-2"))
    with pytest.raises(ConfigError, match="ambiguous") as info:
        history.get("abc")
    assert info.value.exit_code == 1
    assert "`abc-1`" in str(info.value) and "`abc-2`" in str(info.value)


def test_schema_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    RunHistory(path).record(report("r1"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(EdeRuntimeError, match="newer"):
        RunHistory(path).list()


def test_errors_name_the_history_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    history = RunHistory(blocker / "history.sqlite3")
    with pytest.raises(EdeRuntimeError, match="history") as info:
        history.record(report("r1"))
    assert str(blocker) in str(info.value)
    with pytest.raises(EdeRuntimeError, match="run_id"):
        RunHistory(tmp_path / "h.sqlite3").record({"pipeline": "p"})
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(EdeRuntimeError, match=r"garbage\.sqlite3"):
        RunHistory(garbage).record(report("r1"))


def test_concurrent_runs_can_all_record(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    errors: list[BaseException] = []

    def record(n: int) -> None:
        try:
            for k in range(10):
                RunHistory(path).record(report(f"run-{n}-{k}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(RunHistory(path).list(limit=1000)) == 60


def test_reports_with_non_json_values_are_stored_as_text(tmp_path: Path) -> None:
    history = RunHistory(tmp_path / "history.sqlite3")
    history.record(report("r1", params={"path": Path("/data")}))
    stored = history.get("r1")
    assert stored is not None and stored["params"] == {"path": "/data"}
