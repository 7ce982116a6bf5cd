"""The outcome of delivering one notification action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """What happened to one action: ``sent`` or ``failed``, after how many attempts.

    ``detail`` is safe to show and store: it names a webhook's env var, never
    its URL. ``attempts`` is 0 when nothing could be tried (an unset env var,
    a missing executable).
    """

    action: str
    status: str
    attempts: int
    detail: str

    @property
    def sent(self) -> bool:
        return self.status == "sent"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "status": self.status, "attempts": self.attempts,
                "detail": self.detail}
