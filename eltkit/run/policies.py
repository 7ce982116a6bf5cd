"""Retry policies: how many attempts, and how long to wait between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra attempts; delays fixed, exponential (capped) or listed.

    A list of delays (``[5, 30, 120]``) is used in order and its last value
    repeats; otherwise ``delay * backoff ** (n - 1)``, at most ``max_delay``.
    """

    retries: int = 0
    delay: float | Sequence[float] = 0.0
    backoff: float = 1.0
    max_delay: float | None = None

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2 is the first retry)."""
        if attempt <= 1:
            return 0.0
        index = attempt - 2
        if not isinstance(self.delay, int | float):
            delays = list(self.delay)
            if not delays:
                return 0.0
            return float(delays[min(index, len(delays) - 1)])
        seconds = float(self.delay) * (self.backoff ** index)
        if self.max_delay is not None:
            seconds = min(seconds, self.max_delay)
        return seconds

    @property
    def attempts(self) -> int:
        return self.retries + 1
