"""Messages from the workers (task threads, the dbt segment) to the coordinator."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: Node statuses a finished node can have.
SUCCESS = "success"
WARN = "warn"
ERROR = "error"
SKIPPED = "skipped"
TIMED_OUT = "timed_out"
CANCELLED = "cancelled"
PASSED = frozenset({SUCCESS, WARN})
FAILED = frozenset({ERROR, TIMED_OUT})


@dataclass(frozen=True)
class NodeStarted:
    unique_id: str
    attempt: int = 1
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class NodeFinished:
    unique_id: str
    status: str
    message: str | None = None
    duration_s: float | None = None
    rows_affected: int | None = None
    attempt: int = 1
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class NodeLog:
    unique_id: str | None
    level: str
    message: str


@dataclass(frozen=True)
class SegmentDone:
    """The dbt segment returned; anything it did not report is settled here."""

    unique_ids: frozenset[str]
    error: str | None = None
    interrupted: bool = False


Event = NodeStarted | NodeFinished | NodeLog | SegmentDone
