"""Check every SLA of a project, record the result, and escalate when one slips.

The scheduler calls :func:`check_slas` with ``notify=True`` on each tick;
``eltkit sla`` calls it with ``notify=False`` to show the states without
telling anyone. Both record each evaluation, so the history shows how an SLA
moved from pending to at risk to missed.

Escalation: step ``i`` of an SLA's ladder fires once ``after`` has passed since
the due instance slipped, i.e. since the first evaluation that found it at
risk or missed (for a miss, at the latest the due moment itself, so a
scheduler that was down does not delay the page). Each step fires at most
once per due instance: the ``sla_escalations`` primary key is claimed before
the notification is sent. A met or pending SLA fires nothing, and once an
instance is met the next instance starts a fresh ladder, so meeting the SLA
stops the ladder.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from eltkit.notify.event import Event
from eltkit.notify.send import deliver
from eltkit.project import Project
from eltkit.sla.config import SlaConfig
from eltkit.sla.evaluate import MISSED, SLIPPED, SlaStatus, evaluate_sla
from eltkit.sla.nodes import sla_nodes
from eltkit.state.slas import claim_escalation, first_slip, record_evaluation
from eltkit.state.store import HistoryStore

_EVENT_KINDS = {"at risk": "sla_at_risk", "missed": "sla_missed"}


def check_slas(project: Project, store: HistoryStore, now: datetime, *, notify: bool,
               sleep: Callable[[float], None] = time.sleep) -> list[SlaStatus]:
    """Evaluate, record and (when ``notify``) escalate every SLA in eltkit.yml.

    Every SLA's selection is resolved first, so a config error (an SLA that
    selects nothing) is raised before anything is recorded or sent.
    """
    slas = project.config.slas
    nodes = {name: sla_nodes(project, name, sla) for name, sla in slas.items()}
    statuses = []
    for name, sla in slas.items():
        status = evaluate_sla(name, sla, project.graph, store, nodes[name], now)
        record_evaluation(
            store, sla=name, evaluated_at=now.timestamp(),
            due_at=status.due_ts, state=status.state,
            reason=status.reason,
            predicted_finish=None if status.predicted_finish is None
            else status.predicted_finish.timestamp())
        if notify:
            escalate(project, store, sla, status, sleep=sleep)
        statuses.append(status)
    return statuses


def escalate(project: Project, store: HistoryStore, sla: SlaConfig, status: SlaStatus, *,
             sleep: Callable[[float], None] = time.sleep) -> list[int]:
    """Fire the ladder steps that are due for ``status``; return the steps fired now."""
    if status.state not in SLIPPED or not sla.escalation:
        return []
    now = status.evaluated_at.timestamp()
    slipped_at = first_slip(store, status.name, status.due_ts, SLIPPED)
    if slipped_at is None:
        slipped_at = now  # the evaluation was not recorded (a read-only caller)
    if status.state == MISSED and status.due_at is not None:
        slipped_at = min(slipped_at, status.due_key)
    fired = []
    for index, step in enumerate(sla.escalation):
        if now - slipped_at < step.after:
            continue
        if not claim_escalation(store, sla=status.name, due_at=status.due_key, step=index,
                                fired_at=now):
            continue
        deliver([step.notify], _event(status, index, len(sla.escalation)), store=store,
                cwd=project.root, sleep=sleep)
        fired.append(index)
    return fired


def _event(status: SlaStatus, step: int, steps: int) -> Event:
    """The notification for one escalation step; its summary stands alone in a chat."""
    due = "" if status.due_at is None else \
        f" (due {status.due_at.strftime('%Y-%m-%d %H:%M %Z')})"
    summary = f"SLA {status.name} {status.state}{due}: {status.reason}"
    return Event(
        source="sla", name=status.name, kind=_EVENT_KINDS[status.state], summary=summary,
        details={**status.to_json(), "escalation_step": step + 1, "escalation_steps": steps},
        at=status.evaluated_at)
