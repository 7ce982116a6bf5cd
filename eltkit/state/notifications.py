"""The record of every notification eltkit tried to deliver, and its outcome.

One row per action per event (a job failure with ``[log, webhook]`` writes two
rows), so ``eltkit history``, the TUI and a person debugging "why did nobody
get paged?" can see what was sent, what failed and why. The ``detail`` column
never holds a webhook URL: callers pass text that names the env var instead.
"""

from __future__ import annotations

import time
from typing import Any

from eltkit.state.store import HistoryStore

NOTIFICATION_STATUSES = ("sent", "failed")


def record_notification(
    store: HistoryStore, *, source: str, name: str, event: str, action: str, status: str,
    attempts: int, detail: str | None,
) -> None:
    """Store one delivery outcome, stamped with the current time.

    ``source`` is ``job`` or ``sla``, ``name`` the job's or SLA's name, ``event``
    what happened (``failure``, ``sla_missed``...), ``action`` the kind of action
    (``log``, ``webhook``, ``command``), ``status`` ``sent`` or ``failed``.
    """
    if status not in NOTIFICATION_STATUSES:
        raise ValueError(f"unknown notification status {status!r}; use sent or failed")
    store._write(
        "INSERT INTO notifications (at, source, name, event, action, status, attempts, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (time.time(), source, name, event, action, status, attempts, detail))


def notifications(
    store: HistoryStore, *, source: str | None = None, name: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The most recent delivery outcomes, newest first, optionally for one job or SLA.

    Each dict has the table's columns: ``id``, ``at`` (Unix seconds), ``source``,
    ``name``, ``event``, ``action``, ``status``, ``attempts``, ``detail``.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if source is not None:
        clauses.append("source = ?")
        params.append(source)
    if name is not None:
        clauses.append("name = ?")
        params.append(name)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = store._read(
        f"SELECT * FROM notifications{where} ORDER BY at DESC, id DESC LIMIT ?",
        (*params, limit))
    return [dict(row) for row in rows]
