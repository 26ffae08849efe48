"""The run history: every run's report, in an embedded SQLite database.

Where it lives: ``$EDE_HOME/history.sqlite3`` when the ``EDE_HOME`` environment variable is
set, else ``history.sqlite3`` in the user data folder of ``ede`` (``platformdirs``:
``~/.local/share/ede`` on Linux, ``~/Library/Application Support/ede`` on macOS,
``%LOCALAPPDATA%\\ede\\ede`` on Windows). The folder is created when first written.

The database runs in WAL mode with a busy timeout, so runs that finish at the same time can
all record. Its schema version is ``PRAGMA user_version``; a database written by a newer
``ede`` is refused rather than changed.

Recording must never fail a run: `RunHistory.record` raises `EdeRuntimeError` (naming the
database) on any problem, and the runner catches it and warns.

>>> history = RunHistory(tmp_path / "history.sqlite3")  # doctest: +SKIP
>>> history.record(report)  # doctest: +SKIP
>>> [run["status"] for run in history.list(limit=5, pipeline="orders_daily")]  # doctest: +SKIP
['succeeded', 'failed']
>>> history.get(report["run_id"][:8])["sinks"]  # doctest: +SKIP
[{'name': 'revenue_by_region', 'path': '...', 'rows': 4}]
"""

from __future__ import annotations

import builtins
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from enterprise_data_engineering.errors import ConfigError, EdeRuntimeError

#: the environment variable that moves ``ede``'s own files (the history among them)
EDE_HOME_ENV = "EDE_HOME"
#: the version of the schema below; bump it and add a step to ``_MIGRATIONS`` to change it
SCHEMA_VERSION = 1
#: seconds a writer waits for another one before giving up
BUSY_TIMEOUT_S = 30.0

# _MIGRATIONS[n] brings a database from user_version n to n + 1.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS runs (
            run_id        TEXT PRIMARY KEY,
            pipeline      TEXT NOT NULL,
            status        TEXT NOT NULL,
            exit_code     INTEGER,
            started_at    TEXT,
            finished_at   TEXT,
            duration_s    REAL,
            engine        TEXT,
            started_epoch REAL,
            report        TEXT NOT NULL
        )
        """,
        "CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_epoch, started_at)",
        "CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, started_epoch)",
    ),
)

#: the columns `RunHistory.list` returns, in order
SUMMARY_FIELDS = (
    "run_id",
    "pipeline",
    "status",
    "exit_code",
    "started_at",
    "finished_at",
    "duration_s",
    "engine",
)


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (nested too) replaced by its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def report_json(report: Any, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """A run report as strict JSON: NaN and infinities (``--param x=.nan``) become strings.

    ``json.dumps`` alone writes the bare tokens ``NaN``/``Infinity``, which JSON parsers
    (``jq``, JavaScript, Go) refuse; anything else JSON cannot hold is written as its text.

    >>> report_json({"params": {"x": float("nan"), "n": 1}})
    '{"params": {"x": "nan", "n": 1}}'
    """
    return json.dumps(
        _finite(report), indent=indent, ensure_ascii=ensure_ascii, default=str, allow_nan=False
    )


def default_history_path() -> Path:
    """``$EDE_HOME/history.sqlite3`` if ``EDE_HOME`` is set, else in the user data folder."""
    home = os.environ.get(EDE_HOME_ENV)
    if home:
        return Path(home).expanduser() / "history.sqlite3"
    return Path(platformdirs.user_data_dir("ede")) / "history.sqlite3"


def _epoch(value: Any) -> float | None:
    """Seconds since the epoch of an ISO-8601 timestamp (naive means UTC), for ordering."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return (moment - datetime(1970, 1, 1)).total_seconds()
    return moment.timestamp()


class RunHistory:
    """The runs recorded on this machine (or under ``EDE_HOME``), newest first.

    Args:
        path: the SQLite file; default `default_history_path`.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_history_path()

    def _error(self, action: str, exc: BaseException) -> EdeRuntimeError:
        return EdeRuntimeError(f"cannot {action} the run history `{self.path}`: {exc}")

    @contextmanager
    def _connect(self, action: str) -> Iterator[sqlite3.Connection]:
        """A connection with the schema up to date (the database is created if missing)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._error(action, exc) from exc
        with closing(conn):
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                self._setup(conn)
            except sqlite3.Error as exc:
                raise self._error(action, exc) from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._error(action, exc) from exc

    def _setup(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL and migrate the schema.

        Changing the journal mode (and upgrading a lock) can fail with "database is locked"
        *without* waiting for the busy timeout when several processes create the database
        at the same moment; those two steps are retried for up to the busy timeout.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.01
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                self._migrate(conn)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise EdeRuntimeError(
                f"the run history `{self.path}` has schema version {version}, newer than this "
                f"ede understands ({SCHEMA_VERSION}); upgrade ede or set {EDE_HOME_ENV}"
            )
        conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in _MIGRATIONS[version:SCHEMA_VERSION]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def record(self, report: Mapping[str, Any]) -> None:
        """Store a run report (CONTRACT §5); recording the same ``run_id`` again replaces it.

        Raises:
            EdeRuntimeError: the report has no ``run_id`` or ``pipeline``, or the database
                cannot be written; the message names the database.
        """
        run_id, pipeline = report.get("run_id"), report.get("pipeline")
        if not isinstance(run_id, str) or not run_id or not isinstance(pipeline, str):
            raise EdeRuntimeError(
                f"cannot record the run in `{self.path}`: the report has no `run_id` or `pipeline`"
            )
        try:
            # strict JSON (NaN and infinities as strings), so `runs show` prints valid JSON
            document = report_json(report, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise self._error("record a run in", exc) from exc
        row = (
            run_id,
            pipeline,
            str(report.get("status", "")),
            report.get("exit_code"),
            report.get("started_at"),
            report.get("finished_at"),
            report.get("duration_s"),
            report.get("engine"),
            _epoch(report.get("started_at")),
            document,
        )
        with self._connect("record a run in") as conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (run_id, pipeline, status, exit_code, started_at, "
                "finished_at, duration_s, engine, started_epoch, report) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def list(self, limit: int = 20, pipeline: str | None = None) -> builtins.list[dict[str, Any]]:
        """The latest ``limit`` runs (of ``pipeline`` if given), newest first.

        Each run is a dict of ``run_id``, ``pipeline``, ``status``, ``exit_code``,
        ``started_at``, ``finished_at``, ``duration_s`` and ``engine``.
        """
        columns = ", ".join(SUMMARY_FIELDS)
        where, args = ("WHERE pipeline = ?", [pipeline]) if pipeline is not None else ("", [])
        sql = (
            f"SELECT {columns} FROM runs {where} "
            "ORDER BY started_epoch DESC, started_at DESC, rowid DESC LIMIT ?"
        )
        if not self.path.exists():
            return []
        with self._connect("read") as conn:
            rows = conn.execute(sql, [*args, max(int(limit), 0)]).fetchall()
        return [dict(zip(SUMMARY_FIELDS, row, strict=True)) for row in rows]

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The full report of run ``run_id``, or of the one run whose id starts with it.

        Raises:
            ConfigError: the prefix matches more than one run (the message lists them).
        """
        if not run_id or not self.path.exists():
            return None
        with self._connect("read") as conn:
            row = conn.execute("SELECT report FROM runs WHERE run_id = ?", [run_id]).fetchone()
            if row is None:
                rows = conn.execute(
                    "SELECT run_id, report FROM runs WHERE substr(run_id, 1, ?) = ? "
                    "ORDER BY run_id LIMIT 6",
                    [len(run_id), run_id],
                ).fetchall()
                if len(rows) > 1:
                    shown = ", ".join(f"`{r[0]}`" for r in rows[:5])
                    more = ", ..." if len(rows) > 5 else ""
                    raise ConfigError(
                        f"run id `{run_id}` is ambiguous: it matches {shown}{more}; "
                        "give more characters"
                    )
                row = (rows[0][1],) if rows else None
        if row is None:
            return None
        try:
            report: dict[str, Any] = json.loads(row[0])
        except ValueError as exc:
            raise self._error("read", exc) from exc
        return report


__all__ = [
    "EDE_HOME_ENV",
    "SCHEMA_VERSION",
    "SUMMARY_FIELDS",
    "RunHistory",
    "default_history_path",
    "report_json",
]
