"""The scheduler's records in the history: job runs, per-job state, the scheduler lock.

A job run is one firing of a job (one interval, one attempt); each of its
steps is an ordinary run in ``runs`` pointing back at it through
``job_run_id``. Keeping these in the same SQLite file as the runs means one
file tells the whole story, and the TUI and `eltkit jobs` read it like the rest.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eltkit.errors import EltkitError
from eltkit.jobs.intervals import Interval
from eltkit.state.store import STALE_AFTER_SECONDS, HistoryStore, _pid_alive

JOB_RUN_STATUSES = ("queued", "running", "success", "failed", "cancelled", "interrupted",
                    "skipped")
FINISHED = ("success", "failed", "cancelled", "interrupted", "skipped")


@dataclass(frozen=True)
class JobRun:
    id: str
    job: str
    reason: str
    interval_start: float | None
    interval_end: float | None
    status: str
    attempt: int
    queued_at: float
    not_before: float | None
    started_at: float | None
    finished_at: float | None
    pid: int | None
    host: str | None
    backfill_id: str | None
    message: str | None

    @property
    def interval(self) -> Interval | None:
        if self.interval_start is None or self.interval_end is None:
            return None
        return Interval(datetime.fromtimestamp(self.interval_start, UTC),
                        datetime.fromtimestamp(self.interval_end, UTC))

    def to_json(self) -> dict[str, Any]:
        def iso(value: float | None) -> str | None:
            return None if value is None else datetime.fromtimestamp(value, UTC).isoformat()

        return {
            "id": self.id, "job": self.job, "reason": self.reason, "status": self.status,
            "attempt": self.attempt, "interval_start": iso(self.interval_start),
            "interval_end": iso(self.interval_end), "queued_at": iso(self.queued_at),
            "started_at": iso(self.started_at), "finished_at": iso(self.finished_at),
            "backfill_id": self.backfill_id, "message": self.message,
        }


@dataclass(frozen=True)
class JobState:
    job: str
    paused: bool = False
    paused_reason: str | None = None
    consecutive_failures: int = 0
    cursor: float | None = None
    after_cursor: float | None = None
    file_cursor: float | None = None


def new_job_run_id(job: str) -> str:
    return f"{job}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def queue_job_run(store: HistoryStore, job: str, reason: str, *, now: float,
                  interval: Interval | None = None, attempt: int = 1,
                  not_before: float | None = None, backfill_id: str | None = None,
                  status: str = "queued", message: str | None = None) -> str:
    """Record a job run waiting to start (or, with ``status``, one that never will)."""
    job_run_id = new_job_run_id(job)
    finished = now if status in FINISHED else None
    store._write(
        "INSERT INTO job_runs (id, job, reason, interval_start, interval_end, status, attempt,"
        " queued_at, not_before, finished_at, backfill_id, message)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (job_run_id, job, reason,
         None if interval is None else interval.start.timestamp(),
         None if interval is None else interval.end.timestamp(),
         status, attempt, now, not_before, finished, backfill_id, message))
    return job_run_id


def mark_launched(store: HistoryStore, job_run_id: str, pid: int) -> None:
    """The scheduler started the job run's process: it is running from now on (and a
    restarted scheduler will neither start it twice nor lose it if the process dies)."""
    store._write("UPDATE job_runs SET status = 'running', started_at = ?, pid = ?, host = ?"
                 " WHERE id = ? AND status = 'queued'",
                 (time.time(), pid, socket.gethostname(), job_run_id))


def start_job_run(store: HistoryStore, job_run_id: str) -> None:
    """Mark a job run as started by this process (its pid tells a crash later)."""
    store._write("UPDATE job_runs SET status = 'running', started_at = ?, pid = ?, host = ?"
                 " WHERE id = ?",
                 (time.time(), os.getpid(), socket.gethostname(), job_run_id))


def finish_job_run(store: HistoryStore, job_run_id: str, status: str,
                   message: str | None) -> None:
    if status not in JOB_RUN_STATUSES:
        raise ValueError(f"unknown job run status {status!r}")
    store._write("UPDATE job_runs SET status = ?, finished_at = ?, message = ? WHERE id = ?",
                 (status, time.time(), message, job_run_id))


def job_run(store: HistoryStore, job_run_id: str) -> JobRun:
    rows = store._read("SELECT * FROM job_runs WHERE id = ?", (job_run_id,))
    if not rows:
        raise EltkitError(f"{store.path}: no job run {job_run_id!r}")
    return JobRun(**dict(rows[0]))


def job_runs(store: HistoryStore, *, job: str | None = None,
             statuses: tuple[str, ...] | None = None, backfill_id: str | None = None,
             limit: int = 100) -> list[JobRun]:
    """Newest first."""
    clauses, params = [], []
    if job is not None:
        clauses.append("job = ?")
        params.append(job)
    if statuses:
        clauses.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    if backfill_id is not None:
        clauses.append("backfill_id = ?")
        params.append(backfill_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store._read(f"SELECT * FROM job_runs {where} ORDER BY queued_at DESC, rowid DESC"
                       " LIMIT ?", (*params, limit))
    return [JobRun(**dict(row)) for row in rows]


def successful_intervals(store: HistoryStore, job: str) -> set[tuple[float, float]]:
    rows = store._read("SELECT interval_start, interval_end FROM job_runs WHERE job = ?"
                       " AND status = 'success' AND interval_start IS NOT NULL", (job,))
    return {(row[0], row[1]) for row in rows}


def latest_success(store: HistoryStore, job: str, *,
                   excluding_reasons: tuple[str, ...] = ("backfill",)) -> JobRun | None:
    marks = ", ".join("?" for _ in excluding_reasons)
    rows = store._read(
        f"SELECT * FROM job_runs WHERE job = ? AND status = 'success' AND reason NOT IN ({marks})"
        " ORDER BY finished_at DESC LIMIT 1", (job, *excluding_reasons))
    return JobRun(**dict(rows[0])) if rows else None


def steps_of(store: HistoryStore, job_run_id: str) -> list[dict[str, Any]]:
    """The runs recorded for a job run's steps, oldest first."""
    rows = store._read("SELECT id, command, status, message FROM runs WHERE job_run_id = ?"
                       " ORDER BY started_at", (job_run_id,))
    return [dict(row) for row in rows]


# -- per-job state ----------------------------------------------------------------------

def job_state(store: HistoryStore, job: str) -> JobState:
    return job_states_where(store, "WHERE job = ?", (job,)).get(job) or JobState(job)


def job_states(store: HistoryStore) -> dict[str, JobState]:
    """Every job's state in one read (the scheduler needs them all on each tick)."""
    return job_states_where(store, "", ())


def job_states_where(store: HistoryStore, where: str,
                     params: tuple[Any, ...]) -> dict[str, JobState]:
    rows = store._read("SELECT job, paused, paused_reason, consecutive_failures, cursor,"
                       f" after_cursor, file_cursor FROM job_state {where}", params)
    return {row["job"]: JobState(**{**dict(row), "paused": bool(row["paused"])})
            for row in rows}


def update_job_state(store: HistoryStore, job: str, **changes: Any) -> JobState:
    """Set some fields of a job's state, creating the row on first use."""
    allowed = {"paused", "paused_reason", "consecutive_failures", "cursor", "after_cursor",
               "file_cursor"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown job state fields {sorted(unknown)}")
    store._write("INSERT OR IGNORE INTO job_state (job, updated_at) VALUES (?, ?)",
                 (job, time.time()))
    if changes:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        store._write(f"UPDATE job_state SET {assignments}, updated_at = ? WHERE job = ?",
                     (*changes.values(), time.time(), job))
    return job_state(store, job)


# -- crash detection --------------------------------------------------------------------

def mark_interrupted_job_runs(store: HistoryStore) -> list[JobRun]:
    """Job runs left ``running`` by a process that died, now marked ``interrupted``."""
    host = socket.gethostname()
    dead = []
    for row in store._read("SELECT * FROM job_runs WHERE status = 'running'"):
        record = JobRun(**dict(row))
        if record.host == host and record.pid is not None and not _pid_alive(record.pid):
            dead.append(record)
    for record in dead:
        store._write("UPDATE job_runs SET status = 'interrupted', finished_at = ?, message = ?"
                     " WHERE id = ? AND status = 'running'",
                     (time.time(), "the job run's process stopped without finishing",
                      record.id))
    return dead


# -- the scheduler lock ----------------------------------------------------------------

def acquire_scheduler_lock(store: HistoryStore) -> None:
    """Make this process the project's one scheduler, or say who already is."""
    now, host, pid = time.time(), socket.gethostname(), os.getpid()
    with store._lock:
        connection = store._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute("SELECT pid, host, started_at, heartbeat_at FROM"
                                     " scheduler_lock WHERE id = 1").fetchone()
            if row is not None and (row["pid"], row["host"]) != (pid, host):
                alive = (_pid_alive(row["pid"]) if row["host"] == host
                         else now - row["heartbeat_at"] < STALE_AFTER_SECONDS)
                if alive:
                    since = datetime.fromtimestamp(row["started_at"]).strftime("%Y-%m-%d %H:%M")
                    raise EltkitError(
                        f"{store.path}: another scheduler is running (pid {row['pid']} on "
                        f"{row['host']} since {since}); stop it first, one scheduler runs "
                        "a project"
                    )
            connection.execute(
                "INSERT OR REPLACE INTO scheduler_lock (id, pid, host, started_at,"
                " heartbeat_at) VALUES (1, ?, ?, ?, ?)", (pid, host, now, now))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def heartbeat_scheduler(store: HistoryStore) -> None:
    store._write("UPDATE scheduler_lock SET heartbeat_at = ? WHERE id = 1 AND pid = ?",
                 (time.time(), os.getpid()))


def release_scheduler_lock(store: HistoryStore) -> None:
    store._write("DELETE FROM scheduler_lock WHERE id = 1 AND pid = ? AND host = ?",
                 (os.getpid(), socket.gethostname()))


def scheduler_holder(store: HistoryStore) -> dict[str, Any] | None:
    rows = store._read("SELECT pid, host, started_at, heartbeat_at FROM scheduler_lock")
    return dict(rows[0]) if rows else None
