"""History queries for SLAs: node successes, runs in progress, evaluations, escalations.

Evaluating an SLA needs three facts from the history: when each node last
succeeded (inside a window, or at all), which run is building the nodes right
now, and what was already decided (the first time an instance slipped, the
escalation steps already fired). The ``sla_escalations`` primary key (SLA,
due instance, step) is what makes a step fire once, even when two schedulers
race: the insert that wins claims the step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eltkit.state.store import FINISHED_NODE_STATUSES, HistoryStore

_SUCCESS = tuple(sorted(FINISHED_NODE_STATUSES))
#: SQLite's default limit on ``?`` parameters is 999 in older builds; stay under it.
_CHUNK = 900


def _chunks(values: Iterable[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[start:start + _CHUNK] for start in range(0, len(items), _CHUNK)]


def latest_successes(store: HistoryStore, unique_ids: Iterable[str], *, until: float,
                     after: float | None = None) -> dict[str, float]:
    """The newest successful finish of each node in ``(after, until]`` (Unix seconds).

    ``until`` is the evaluation's "now", so a history written later than a
    fixed clock (tests, what-if checks) does not count as already done.
    Nodes without such a success are absent from the result.
    """
    found: dict[str, float] = {}
    lower = float("-inf") if after is None else after
    for chunk in _chunks(unique_ids):
        marks = ",".join("?" * len(chunk))
        rows = store._read(
            f"SELECT unique_id, max(finished_at) AS finished FROM node_results"
            f" WHERE unique_id IN ({marks}) AND status IN ({','.join('?' * len(_SUCCESS))})"
            " AND finished_at IS NOT NULL AND finished_at > ? AND finished_at <= ?"
            " GROUP BY unique_id",
            (*chunk, *_SUCCESS, lower, until))
        found.update({row["unique_id"]: row["finished"] for row in rows})
    return found


def sample_counts(store: HistoryStore, unique_ids: Iterable[str], last: int = 7) -> dict[str, int]:
    """How many past successes (up to ``last``) each node's typical duration rests on.

    Pairs with :meth:`HistoryStore.typical_durations` so a prediction can say
    "by its last 3 runs" rather than claim seven that do not exist.
    """
    counts: dict[str, int] = {}
    for chunk in _chunks(unique_ids):
        marks = ",".join("?" * len(chunk))
        rows = store._read(
            f"SELECT unique_id, count(*) AS n FROM node_results WHERE unique_id IN ({marks})"
            f" AND status IN ({','.join('?' * len(_SUCCESS))}) AND duration_s IS NOT NULL"
            " GROUP BY unique_id", (*chunk, *_SUCCESS))
        counts.update({row["unique_id"]: min(int(row["n"]), last) for row in rows})
    return counts


@dataclass(frozen=True)
class RunningNode:
    """One node of a run in progress: its status there and when it started."""

    status: str
    started_at: float | None


@dataclass(frozen=True)
class RunInProgress:
    """The newest running run that includes some of the nodes asked about."""

    run_id: str
    started_at: float
    nodes: dict[str, RunningNode]


def run_in_progress(store: HistoryStore, unique_ids: Iterable[str]) -> RunInProgress | None:
    """The newest run still ``running`` that plans any of ``unique_ids``, with their states."""
    wanted = set(unique_ids)
    if not wanted:
        return None
    for run in store._read(
            "SELECT id, started_at FROM runs WHERE status = 'running'"
            " ORDER BY started_at DESC, id DESC"):
        rows = store._read(
            "SELECT unique_id, status, started_at FROM node_results WHERE run_id = ?",
            (run["id"],))
        nodes = {row["unique_id"]: RunningNode(row["status"], row["started_at"])
                 for row in rows if row["unique_id"] in wanted}
        if nodes:
            return RunInProgress(run["id"], run["started_at"], nodes)
    return None


UNCHANGED_EVALUATION_EVERY_S = 300.0


def record_evaluation(store: HistoryStore, *, sla: str, evaluated_at: float,
                      due_at: float | None, state: str, reason: str,
                      predicted_finish: float | None) -> None:
    """Keep one evaluation, so the TUI and a post-mortem see how the SLA moved.

    An evaluation that repeats the previous one (same due instance, same state)
    within ``UNCHANGED_EVALUATION_EVERY_S`` is not written again: the scheduler
    evaluates every few seconds, and 17,000 identical rows a day tell no more
    than one every few minutes. Every change of state is always written.
    """
    latest = store._read(
        "SELECT evaluated_at, due_at, state FROM sla_evaluations WHERE sla = ?"
        " ORDER BY evaluated_at DESC LIMIT 1", (sla,))
    if latest and latest[0]["due_at"] == due_at and latest[0]["state"] == state and \
            0 <= evaluated_at - latest[0]["evaluated_at"] < UNCHANGED_EVALUATION_EVERY_S:
        return
    store._write(
        "INSERT INTO sla_evaluations (sla, evaluated_at, due_at, state, reason,"
        " predicted_finish) VALUES (?, ?, ?, ?, ?, ?)",
        (sla, evaluated_at, due_at, state, reason, predicted_finish))


def first_slip(store: HistoryStore, sla: str, due_at: float | None,
               states: tuple[str, ...]) -> float | None:
    """When an evaluation of this due instance first found it in one of ``states``.

    ``due_at`` None is the instance of a staleness SLA whose nodes never built.
    """
    rows = store._read(
        f"SELECT min(evaluated_at) AS first FROM sla_evaluations WHERE sla = ? AND due_at IS ?"
        f" AND state IN ({','.join('?' * len(states))})", (sla, due_at, *states))
    first = rows[0]["first"] if rows else None
    return None if first is None else float(first)


def claim_escalation(store: HistoryStore, *, sla: str, due_at: float, step: int,
                     fired_at: float) -> bool:
    """Claim an escalation step for a due instance; False when it was already fired.

    The primary key does the deciding, so the claim is atomic across
    processes: whoever inserts first sends the notification, nobody else.
    """
    try:
        store._write(
            "INSERT INTO sla_escalations (sla, due_at, step, fired_at) VALUES (?, ?, ?, ?)",
            (sla, due_at, step, fired_at))
    except sqlite3.IntegrityError:
        return False
    return True


def fired_steps(store: HistoryStore, sla: str, due_at: float) -> list[int]:
    """The escalation steps (0-based) already fired for one due instance."""
    rows = store._read(
        "SELECT step FROM sla_escalations WHERE sla = ? AND due_at = ? ORDER BY step",
        (sla, due_at))
    return [int(row["step"]) for row in rows]


def latest_evaluations(store: HistoryStore) -> list[dict[str, Any]]:
    """The most recent evaluation of every SLA, for readers such as the TUI."""
    rows = store._read(
        "SELECT e.* FROM sla_evaluations e JOIN (SELECT sla, max(id) AS id FROM"
        " sla_evaluations GROUP BY sla) latest ON e.id = latest.id ORDER BY e.sla")
    return [dict(row) for row in rows]
