"""History queries behind ``eltkit health`` and the column records it compares.

Every function takes a :class:`HistoryStore` and uses its small read/write
helpers, so the SQL of the health figures lives in one place and the store
keeps one connection and one lock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eltkit.state.store import HistoryStore

#: Node statuses that count as a successful build of the node.
_SUCCEEDED = "('success', 'warn')"

Columns = list[list[str]]
"""A relation's columns in order, as ``[[name, data_type], ...]``."""


def record_model_columns(store: HistoryStore, run_id: str,
                         columns: Mapping[str, Sequence[Sequence[str]]],
                         at: float | None = None) -> int:
    """Store the columns of each node whose columns differ from its latest record.

    Unchanged columns are not stored again (a 5,000-model project would
    otherwise add megabytes a run); a change is then the difference between
    two consecutive records. Returns how many records were written.
    """
    normalised = {uid: [[str(name), str(kind)] for name, kind in cols]
                  for uid, cols in columns.items()}
    latest = latest_model_columns(store)
    now = time.time() if at is None else at
    rows = [(run_id, uid, now, json.dumps(cols)) for uid, cols in sorted(normalised.items())
            if latest.get(uid) != cols]
    if rows:
        store._write_many(
            "INSERT OR REPLACE INTO model_columns (run_id, unique_id, captured_at, columns)"
            " VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def latest_model_columns(store: HistoryStore) -> dict[str, Columns]:
    """Each node's most recently recorded columns."""
    rows = store._read(
        "SELECT unique_id, columns FROM (SELECT unique_id, columns, ROW_NUMBER() OVER"
        " (PARTITION BY unique_id ORDER BY captured_at DESC, rowid DESC) AS k"
        " FROM model_columns) WHERE k = 1")
    return {row["unique_id"]: json.loads(row["columns"]) for row in rows}


def column_changes_since(store: HistoryStore, since: float) -> list[dict[str, Any]]:
    """Column records made since ``since`` that follow an earlier record of the node.

    Each has ``unique_id``, ``name``, ``run_id``, ``captured_at``, ``columns`` and the
    previous record's ``previous_run_id`` / ``previous_columns``; oldest first.
    """
    rows = store._read(
        "SELECT c.*, (SELECT name FROM node_results n WHERE n.run_id = c.run_id"
        " AND n.unique_id = c.unique_id) AS name"
        " FROM (SELECT unique_id, run_id, captured_at, columns,"
        " LAG(run_id) OVER w AS previous_run_id, LAG(columns) OVER w AS previous_columns"
        " FROM model_columns"
        " WHERE unique_id IN (SELECT unique_id FROM model_columns WHERE captured_at >= ?)"
        " WINDOW w AS (PARTITION BY unique_id ORDER BY captured_at, rowid)) c"
        " WHERE c.captured_at >= ? AND c.previous_columns IS NOT NULL"
        " ORDER BY c.captured_at, c.unique_id", (since, since))
    return [{**dict(row), "columns": json.loads(row["columns"]),
             "previous_columns": json.loads(row["previous_columns"])} for row in rows]


def fill_rows_affected(store: HistoryStore, run_id: str, counts: Mapping[str, int]) -> None:
    """Set ``rows_affected`` of nodes the adapter reported none for (dbt-duckdb reports
    none for table models, whose rows affected are the table's rows)."""
    if counts:
        store._write_many(
            "UPDATE node_results SET rows_affected = ? WHERE run_id = ? AND unique_id = ?"
            " AND rows_affected IS NULL",
            [(count, run_id, uid) for uid, count in sorted(counts.items())])


def run_outcomes(store: HistoryStore, since: float,
                 skip_triggers: Iterable[str] = ()) -> list[sqlite3.Row]:
    """``job``, ``command``, ``status`` of every finished run started since ``since``."""
    skipped = list(skip_triggers)
    marks = ", ".join("?" for _ in skipped)
    where = f" AND trigger NOT IN ({marks})" if skipped else ""
    return store._read(
        "SELECT job, command, status FROM runs WHERE started_at >= ? AND status != 'running'"
        + where, (since, *skipped))


def job_run_outcomes(store: HistoryStore, since: float) -> list[sqlite3.Row]:
    """``job``, ``status`` of every finished job run (the scheduler's) since ``since``."""
    return store._read(
        "SELECT job, status FROM job_runs WHERE finished_at IS NOT NULL AND finished_at >= ?",
        (since,))


def recent_successes(store: HistoryStore, since: float, per_node: int) -> list[sqlite3.Row]:
    """The last ``per_node`` successful results of every node that succeeded since ``since``.

    Rows carry ``unique_id``, ``name``, ``resource_type``, ``run_id``,
    ``duration_s``, ``rows_affected`` and ``finished_at``, newest first per node
    (the trailing results may be older than ``since``: they are the baseline).
    """
    return store._read(
        "SELECT unique_id, name, resource_type, run_id, duration_s, rows_affected, finished_at"
        " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY unique_id ORDER BY finished_at DESC,"
        " run_id DESC) AS k FROM node_results"
        f" WHERE status IN {_SUCCEEDED} AND finished_at IS NOT NULL AND unique_id IN"
        f" (SELECT unique_id FROM node_results WHERE status IN {_SUCCEEDED}"
        " AND finished_at >= ?))"
        " WHERE k <= ? ORDER BY unique_id, finished_at DESC, run_id DESC", (since, per_node))
