"""What the SLA screen shows: every SLA's state now, and its escalation ladder.

SLAs are evaluated live, as `eltkit sla` does it: ``check_slas(..., notify=False)``
reads the run history, records the evaluation (so the history shows how an SLA
moved) and tells nobody; only the scheduler escalates. A deadline passes
without anything being written, so the screen evaluates again on a timer as
well as when the history changes. Called from a thread worker; returns plain
dataclasses, no Textual here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eltkit.errors import EltkitError

if TYPE_CHECKING:
    from eltkit.project import Project
    from eltkit.sla.config import SlaConfig
    from eltkit.sla.evaluate import SlaStatus
    from eltkit.state.store import HistoryStore
    from eltkit.tui.data import Catalog

MET, PENDING, AT_RISK, MISSED = "met", "pending", "at risk", "missed"
#: Most urgent first: the order of the list and of the summary's counts.
STATE_ORDER = (MISSED, AT_RISK, PENDING, MET)
SLIPPED = (AT_RISK, MISSED)
NO_SLAS = ("no SLAs declared: add `slas:` to eltkit.yml (a selection, a deadline and/or "
           "max_staleness, an escalation ladder); see docs/freshness-and-slas.md")
NO_HISTORY = ("no run history yet: SLAs are judged by the runs that built their models; "
              "start one with `eltkit run` (or s on the runs screen)")


@dataclass(frozen=True)
class Rung:
    """One escalation step for the current due instance."""

    index: int  # 0-based, shown 1-based
    after_s: float
    action: str  # "log", "webhook $ELTKIT_ALERT_WEBHOOK", "command ./page-oncall.sh"
    fired: bool
    #: when the scheduler fires it (slip + after) while the SLA stays slipped; None: not slipped
    due_at: float | None


@dataclass(frozen=True)
class SlaRow:
    name: str
    state: str  # met | pending | at risk | missed
    reason: str
    promise: str  # deadline | max_staleness
    due_at: float | None
    predicted_finish: float | None
    finished_at: float | None
    nodes: int
    remaining: int
    ladder: list[Rung]
    slipped_at: float | None
    deadline: str | None = None
    timezone: str = "UTC"

    @property
    def fired(self) -> int:
        return sum(1 for rung in self.ladder if rung.fired)


@dataclass(frozen=True)
class SlaData:
    slas: list[SlaRow]
    evaluated_at: float | None = None
    error: str | None = None
    #: the rows are the last evaluations recorded in the history, not live ones (see error)
    recorded: bool = False
    #: the history is read-only (or busy) here: evaluated live but not recorded
    unrecorded: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sla in self.slas:
            counts[sla.state] = counts.get(sla.state, 0) + 1
        return counts


def read_slas(store: HistoryStore | None, catalog: Catalog, now: float) -> SlaData:
    """Evaluate every SLA at ``now``; an error becomes one line (and the last recorded states)."""
    project = catalog.project
    if project is None:
        return SlaData([], error="no project: SLAs are declared in eltkit.yml "
                                 "(eltkit tui --project DIR)")
    if not project.config.slas:
        return SlaData([])
    if catalog.graph() is None:
        return SlaData([], error=catalog.error)
    if store is None:
        return SlaData([], error=NO_HISTORY)
    moment = datetime.fromtimestamp(now, UTC)
    unrecorded = False
    try:
        statuses = _evaluate(project, store, moment)
    except EltkitError as exc:  # an SLA that selects nothing, say: one line, no crash
        return SlaData(_recorded_rows(project, store), now, exc.message, recorded=True)
    except sqlite3.OperationalError as exc:
        # A history we may only read, or one a run holds locked for longer than the TUI
        # waits: the evaluation stands without being recorded.
        if "readonly" not in str(exc) and "locked" not in str(exc):
            raise
        statuses = _evaluate(project, store, moment, record=False)
        unrecorded = True
    rows = [_row(status, project.config.slas[status.name], store, now)
            for status in statuses]
    return SlaData(_ordered(rows), now, unrecorded=unrecorded)


def _evaluate(project: Project, store: HistoryStore, now: datetime, *,
              record: bool = True) -> list[SlaStatus]:
    """``check_slas`` without notifying; without recording for a read-only history."""
    if record:
        from eltkit.sla.monitor import check_slas

        return check_slas(project, store, now, notify=False)
    from eltkit.sla.evaluate import evaluate_sla
    from eltkit.sla.nodes import sla_nodes

    slas = project.config.slas
    nodes = {name: sla_nodes(project, name, sla) for name, sla in slas.items()}
    return [evaluate_sla(name, sla, project.graph, store, nodes[name], now)
            for name, sla in slas.items()]


def _row(status: SlaStatus, sla: SlaConfig, store: HistoryStore, now: float) -> SlaRow:
    from eltkit.state.slas import first_slip

    slipped_at = None
    if status.state in SLIPPED:
        # As the scheduler's escalate() reckons it: the first evaluation that found this
        # due instance slipped; for a miss, at the latest the due moment itself.
        slipped_at = first_slip(store, status.name, status.due_ts, SLIPPED) or now
        if status.state == MISSED and status.due_at is not None:
            slipped_at = min(slipped_at, status.due_key)
    return SlaRow(
        status.name, status.state, status.reason, status.promise, status.due_ts,
        _ts(status.predicted_finish), _ts(status.finished_at), len(status.nodes),
        len(status.remaining), _ladder(store, status.name, sla, status.due_key, slipped_at),
        slipped_at, sla.deadline, sla.timezone)


def _ladder(store: HistoryStore, name: str, sla: SlaConfig, due_key: float,
            slipped_at: float | None) -> list[Rung]:
    from eltkit.state.slas import fired_steps

    fired = set(fired_steps(store, name, due_key)) if sla.escalation else set()
    return [Rung(index, step.after, describe_action(step.notify), index in fired,
                 None if slipped_at is None else slipped_at + step.after)
            for index, step in enumerate(sla.escalation)]


def _recorded_rows(project: Project, store: HistoryStore) -> list[SlaRow]:
    """The last evaluation the history holds of each declared SLA (the scheduler's, say)."""
    from eltkit.state.slas import latest_evaluations

    rows = []
    for record in latest_evaluations(store):
        sla = project.config.slas.get(record["sla"])
        if sla is None:
            continue
        due = record["due_at"]
        rows.append(SlaRow(
            record["sla"], record["state"], record["reason"],
            "deadline" if sla.deadline else "max_staleness", due, record["predicted_finish"],
            None, 0, 0, _ladder(store, record["sla"], sla, due or 0.0, None), None,
            sla.deadline, sla.timezone))
    return _ordered(rows)


def _ordered(rows: list[SlaRow]) -> list[SlaRow]:
    rank = {state: index for index, state in enumerate(STATE_ORDER)}
    return sorted(rows, key=lambda row: (rank.get(row.state, len(rank)), row.name))


def describe_action(action: Any) -> str:
    """An escalation step's action in a few words; a webhook by its variable, never its URL."""
    kind = getattr(action, "kind", "?")
    if kind == "webhook":
        return f"webhook ${action.webhook.url_env}"
    if kind == "command":
        return f"command {action.command}"
    return str(kind)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
