"""SQLite history of runs, node results and logs.

SQLite in WAL mode lets the TUI and ``eltkit history`` read while a run
writes, which the DuckDB warehouse cannot (one writer process). Every write
is a small transaction committed at once, so a run killed at any point
leaves everything before the kill on disk. A run whose process died is found
by its stale heartbeat or dead pid and marked ``interrupted``.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from eltkit.errors import EltkitError
from eltkit.state.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

HEARTBEAT_SECONDS = 5.0
#: A heartbeat older than this means the run's process is gone.
STALE_AFTER_SECONDS = 60.0
RUN_STATUSES = ("running", "success", "failed", "cancelled", "interrupted")
FINISHED_NODE_STATUSES = frozenset({"success", "warn"})


class HistoryError(EltkitError):
    """The history file cannot be used (foreign, corrupt, newer, locked)."""


@dataclass(frozen=True)
class RunRecord:
    id: str
    command: str
    selection: dict[str, Any]
    trigger: str
    job: str | None
    status: str
    started_at: float
    finished_at: float | None
    heartbeat_at: float
    pid: int
    host: str
    user: str
    project_dir: str
    target: str | None
    threads: int | None
    vars: dict[str, Any]
    retry_of: str | None
    message: str | None
    job_run_id: str | None = None

    @property
    def duration_s(self) -> float:
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "trigger": self.trigger, "job": self.job,
            "job_run_id": self.job_run_id,
            "command": self.command, "selection": self.selection,
            "started_at": _iso(self.started_at), "finished_at": _iso(self.finished_at),
            "duration_s": round(self.duration_s, 3), "pid": self.pid, "host": self.host,
            "user": self.user, "project_dir": self.project_dir, "target": self.target,
            "threads": self.threads, "vars": self.vars, "retry_of": self.retry_of,
            "message": self.message,
        }


@dataclass(frozen=True)
class NodeRecord:
    run_id: str
    unique_id: str
    name: str
    resource_type: str
    status: str
    attempts: int
    started_at: float | None
    finished_at: float | None
    duration_s: float | None
    rows_affected: int | None
    message: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id, "name": self.name,
            "resource_type": self.resource_type, "status": self.status,
            "attempts": self.attempts, "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "rows_affected": self.rows_affected, "message": self.message,
        }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="milliseconds")


class HistoryStore:
    """One history file. Thread-safe: the run's threads share one connection."""

    def __init__(self, path: Path, *, readonly: bool = False,
                 busy_timeout_s: float = 10.0) -> None:
        """``busy_timeout_s``: how long a statement waits for another process's lock
        (a reader that must stay responsive, like the TUI, waits less)."""
        self.path = path
        self._lock = threading.RLock()
        self._busy_timeout_s = busy_timeout_s
        self._connection = self._open(readonly)

    # -- opening ---------------------------------------------------------------------

    def _open(self, readonly: bool) -> sqlite3.Connection:
        if readonly and not self.path.exists():
            raise HistoryError(
                f"{self.path}: no run history yet; run `eltkit run` first"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{self.path}?mode=ro" if readonly else f"file:{self.path}"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=self._busy_timeout_s,
                                         check_same_thread=False,
                                         isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
            self._check_identity(connection)
            if not readonly:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                self._migrate(connection)
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                f"{self.path}: cannot use the run history ({exc}); it is not an eltkit "
                "history file or it is damaged; move it aside (eltkit never overwrites it) "
                "or set history: in eltkit.yml"
            ) from exc
        return connection

    def _check_identity(self, connection: sqlite3.Connection) -> None:
        app_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if app_id == 0 and tables == 0:
            return  # a new, empty file: ours to initialise
        if app_id != APPLICATION_ID:
            raise HistoryError(
                f"{self.path}: this SQLite file is not an eltkit run history; eltkit will not "
                "overwrite it: move it aside or set history: in eltkit.yml"
            )
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: written by a newer eltkit (history schema {version}, this "
                f"eltkit knows {SCHEMA_VERSION}); upgrade eltkit to read it"
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        with self._lock:
            connection.execute("BEGIN IMMEDIATE")  # another process may be migrating too
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                for index in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[index].split(";"):
                        if statement.strip():
                            connection.execute(statement)
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            self._connection.execute(sql, params)

    def _write_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                self._connection.executemany(sql, rows)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._connection.execute(sql, params))

    # -- writing a run -------------------------------------------------------------------

    def create_run(
        self, *, command: str, selection: dict[str, Any], trigger: str, project_dir: Path,
        target: str | None, threads: int | None, vars: dict[str, Any],
        nodes: Iterable[tuple[str, str, str]], job: str | None = None,
        retry_of: str | None = None, job_run_id: str | None = None,
    ) -> str:
        """Record a new running run and its planned nodes (all ``pending``)."""
        run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        now = time.time()
        with self._lock:
            self._connection.execute("BEGIN")
            try:
                self._connection.execute(
                    "INSERT INTO runs (id, command, selection, trigger, job, status, started_at,"
                    " heartbeat_at, pid, host, user, project_dir, target, threads, vars, retry_of,"
                    " job_run_id)"
                    " VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, command, json.dumps(selection), trigger, job, now, now, os.getpid(),
                     socket.gethostname(), _user(), str(project_dir), target, threads,
                     json.dumps(vars, default=str), retry_of, job_run_id),
                )
                self._connection.executemany(
                    "INSERT INTO node_results (run_id, unique_id, name, resource_type, status)"
                    " VALUES (?, ?, ?, ?, 'pending')",
                    ((run_id, uid, name, rtype) for uid, name, rtype in nodes),
                )
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        return run_id

    def heartbeat(self, run_id: str) -> None:
        self._write("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (time.time(), run_id))

    def finish_run(self, run_id: str, status: str, message: str | None = None) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        self._write("UPDATE runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
                    (status, time.time(), message, run_id))

    def node_started(self, run_id: str, unique_id: str, attempt: int,
                     at: float | None = None) -> None:
        self._write(
            "UPDATE node_results SET status = 'running', attempts = ?, started_at = ?,"
            " finished_at = NULL WHERE run_id = ? AND unique_id = ?",
            (attempt, at or time.time(), run_id, unique_id))

    def node_finished(
        self, run_id: str, unique_id: str, status: str, *, message: str | None = None,
        duration_s: float | None = None, rows_affected: int | None = None,
        attempts: int | None = None, started_at: float | None = None,
    ) -> None:
        now = time.time()
        self._write(
            "UPDATE node_results SET status = ?, message = ?, finished_at = ?,"
            " duration_s = COALESCE(?, duration_s), rows_affected = COALESCE(?, rows_affected),"
            " attempts = COALESCE(?, attempts), started_at = COALESCE(started_at, ?)"
            " WHERE run_id = ? AND unique_id = ?",
            (status, message, now, duration_s, rows_affected, attempts, started_at, run_id,
             unique_id))

    def log(self, run_id: str, unique_id: str | None, level: str, message: str) -> None:
        self._write("INSERT INTO logs (run_id, unique_id, at, level, message) VALUES (?,?,?,?,?)",
                    (run_id, unique_id, time.time(), level, message))

    # -- reading -------------------------------------------------------------------------

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._read("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,))
        return [_run(row) for row in rows]

    def run(self, run_id: str) -> RunRecord:
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            rows = self._read("SELECT * FROM runs WHERE id LIKE ? ORDER BY started_at DESC",
                              (run_id + "%",))
            if len(rows) != 1:
                raise HistoryError(
                    f"{self.path}: no run {run_id!r}" if not rows
                    else f"{self.path}: {run_id!r} matches {len(rows)} runs; give more of the id")
        return _run(rows[0])

    def latest_run(self, command: str | None = None) -> RunRecord | None:
        sql = "SELECT * FROM runs"
        params: tuple[Any, ...] = ()
        if command is not None:
            sql += " WHERE command = ?"
            params = (command,)
        rows = self._read(sql + " ORDER BY started_at DESC, id DESC LIMIT 1", params)
        return _run(rows[0]) if rows else None

    def nodes(self, run_id: str) -> list[NodeRecord]:
        rows = self._read(
            "SELECT * FROM node_results WHERE run_id = ?"
            " ORDER BY COALESCE(started_at, 1e18), unique_id", (run_id,))
        return [NodeRecord(**dict(row)) for row in rows]

    def logs(self, run_id: str, unique_id: str | None = None) -> list[sqlite3.Row]:
        if unique_id is None:
            return self._read("SELECT * FROM logs WHERE run_id = ? ORDER BY id", (run_id,))
        return self._read("SELECT * FROM logs WHERE run_id = ? AND unique_id = ? ORDER BY id",
                          (run_id, unique_id))

    def typical_durations(self, unique_ids: Iterable[str], last: int = 7) -> dict[str, float]:
        """Median duration of each node's last successful runs, for ETAs and critical paths."""
        wanted = set(unique_ids)
        found: dict[str, list[float]] = {}
        rows = self._read(
            "SELECT unique_id, duration_s FROM node_results WHERE status IN ('success', 'warn')"
            " AND duration_s IS NOT NULL ORDER BY finished_at DESC LIMIT 50000")
        for row in rows:
            uid = row["unique_id"]
            if uid in wanted:
                samples = found.setdefault(uid, [])
                if len(samples) < last:
                    samples.append(row["duration_s"])
        return {uid: median(samples) for uid, samples in found.items()}

    def node_counts(self, run_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """How many nodes of each run are in each status: ``{run_id: {status: n}}``."""
        wanted = list(run_ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._read(
            f"SELECT run_id, status, count(*) AS n FROM node_results WHERE run_id IN ({marks})"
            " GROUP BY run_id, status", wanted)
        counts: dict[str, dict[str, int]] = {run_id: {} for run_id in wanted}
        for row in rows:
            counts[row["run_id"]][row["status"]] = row["n"]
        return counts

    def node_tuples(self, run_id: str) -> list[tuple[Any, ...]]:
        """A run's node results as plain tuples in :class:`NodeRecord` field order.

        Cheaper than :meth:`nodes` for readers that poll a big run and rebuild
        records only for the rows that changed.
        """
        with self._lock:
            cursor = self._connection.execute(
                "SELECT run_id, unique_id, name, resource_type, status, attempts, started_at,"
                " finished_at, duration_s, rows_affected, message FROM node_results"
                " WHERE run_id = ?", (run_id,))
            cursor.row_factory = None
            return cursor.fetchall()

    def node_history(self, unique_id: str, limit: int = 30) -> list[NodeRecord]:
        """One node's results in its most recent runs, newest first."""
        rows = self._read(
            "SELECT * FROM node_results WHERE unique_id = ?"
            " ORDER BY COALESCE(finished_at, started_at, 0) DESC LIMIT ?", (unique_id, limit))
        return [NodeRecord(**dict(row)) for row in rows]

    def record_freshness(self, results: Iterable[Any], run_id: str | None = None) -> None:
        """Store freshness results (``FreshnessResult`` objects) in one transaction."""
        now = time.time()
        self._write_many(
            "INSERT INTO freshness_checks (checked_at, unique_id, source, status, max_loaded_at,"
            " age_s, warn_after_s, error_after_s, message, run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(now, r.rule.unique_id, r.rule.label, r.status,
              None if r.max_loaded_at is None else r.max_loaded_at.isoformat(), r.age_s,
              r.rule.warn_after_s, r.rule.error_after_s, r.message, run_id) for r in results])

    def latest_freshness(self) -> list[dict[str, Any]]:
        """The most recent check of every source."""
        rows = self._read(
            "SELECT f.* FROM freshness_checks f JOIN (SELECT unique_id, max(id) AS id FROM"
            " freshness_checks GROUP BY unique_id) latest ON f.id = latest.id"
            " ORDER BY f.source")
        return [dict(row) for row in rows]

    def change_counter(self) -> int:
        """Cheap to poll: changes whenever any process commits to the file."""
        with self._lock:
            return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    # -- crash detection -------------------------------------------------------------------

    def mark_interrupted_runs(self) -> list[str]:
        """Runs left ``running`` by a process that died: mark them and their nodes."""
        now = time.time()
        host = socket.gethostname()
        dead = []
        for row in self._read("SELECT id, pid, host, heartbeat_at FROM runs"
                              " WHERE status = 'running'"):
            stale = now - row["heartbeat_at"] > STALE_AFTER_SECONDS
            gone = row["host"] == host and not _pid_alive(row["pid"])
            if stale or gone:
                dead.append(row["id"])
        for run_id in dead:
            with self._lock:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    self._connection.execute(
                        "UPDATE runs SET status = 'interrupted', finished_at = heartbeat_at,"
                        " message = 'the run process stopped without finishing (killed or"
                        " crashed)' WHERE id = ? AND status = 'running'", (run_id,))
                    self._connection.execute(
                        "UPDATE node_results SET status = 'interrupted' WHERE run_id = ?"
                        " AND status = 'running'", (run_id,))
                    self._connection.execute("COMMIT")
                except BaseException:
                    self._connection.execute("ROLLBACK")
                    raise
        return dead


def _run(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    data["selection"] = json.loads(data["selection"] or "{}")
    data["vars"] = json.loads(data["vars"] or "{}")
    return RunRecord(**data)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not worth failing a run
        return "unknown"
