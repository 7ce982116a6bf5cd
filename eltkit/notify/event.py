"""What a notification is about: one event of a job or an SLA.

The scheduler and the SLA checker build an :class:`Event`; every action
(log line, webhook body, command stdin) is derived from it, so the three
agree on what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

EVENT_KINDS = ("failure", "success", "circuit_open", "overdue", "sla_at_risk", "sla_missed",
               "escalation")
"""The events eltkit notifies about today (others may follow; none is enforced)."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """One thing that happened to a job or an SLA, worth telling someone about.

    ``summary`` is the one line a person reads first, written to stand alone,
    e.g. ``job daily_marts failed: model fct_orders errored (attempt 3 of 3)``.
    ``details`` holds the machine-readable rest (run id, due time...) and must
    be JSON-serialisable; it must never hold a secret.
    """

    source: str
    name: str
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=_now)

    def to_json(self) -> dict[str, Any]:
        """The JSON payload sent to webhooks and commands.

        ``text`` repeats ``summary`` because chat webhooks (Slack, Mattermost)
        display that key, so such a URL works without a relay in between.
        """
        return {
            "source": self.source,
            "name": self.name,
            "kind": self.kind,
            "summary": self.summary,
            "text": self.summary,
            "details": self.details,
            "at": self.at.isoformat(timespec="seconds"),
        }
