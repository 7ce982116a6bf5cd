"""What a person sees while a run goes: one line a finished node, counts, elapsed, ETA.

The ETA comes from each node's median duration over its last successful
runs: the longest chain of unfinished work still ahead (the critical path),
so parallel branches are not summed as if they ran one after another.
"""

from __future__ import annotations

import time
from typing import IO

from eltkit.durations import duration
from eltkit.run.events import Event, NodeFinished, NodeStarted
from eltkit.run.executor import TERMINAL, NodeState
from eltkit.run.plan import Plan

_STYLE = {
    "success": ("OK", "green"), "warn": ("WARN", "yellow"), "error": ("ERROR", "red"),
    "timed_out": ("TIMEOUT", "red"), "skipped": ("SKIP", "bright_black"),
    "cancelled": ("CANCEL", "magenta"),
}


class ProgressPrinter:
    """Prints node results as they finish; quiet when ``stream`` is None."""

    def __init__(self, plan: Plan, durations: dict[str, float], stream: IO[str] | None,
                 color: bool) -> None:
        self.plan = plan
        self.durations = durations
        self.stream = stream
        self.color = color
        self.started = time.monotonic()
        self.total = len(plan.nodes)
        self.done = 0
        self._width = len(str(self.total))
        self._fallback = _median(list(durations.values())) or 1.0
        self._eta_at: tuple[float, float] | None = None
        self._counted: set[str] = set()

    def header(self, run_id: str, description: str) -> None:
        self._write(f"eltkit {self.plan.command} {run_id}: {description}, "
                    f"{self.total} node{'s' if self.total != 1 else ''}")

    def __call__(self, event: Event, states: dict[str, NodeState]) -> None:
        if self.stream is None:
            return
        if isinstance(event, NodeStarted) and self.plan.is_task(event.unique_id) \
                and event.attempt > 1:
            node = self.plan.node(event.unique_id)
            self._write(f"{'':>{2 * self._width + 3}} RETRY   task {node.name} "
                        f"(attempt {event.attempt})")
        if not isinstance(event, NodeFinished):
            return
        state = states[event.unique_id]
        if state.status not in TERMINAL:
            return  # a dbt retry put it back to pending
        self._counted.add(event.unique_id)
        self.done = len(self._counted)
        node = self.plan.node(event.unique_id)
        label, style = _STYLE.get(state.status, (state.status.upper(), "white"))
        kind = node.resource_type if node.resource_type != "model" else (node.materialized
                                                                          or "model")
        took = f" [{event.duration_s:.2f}s]" if event.duration_s is not None else ""
        elapsed = time.monotonic() - self.started
        eta = self.eta(states) if self.done < self.total else 0.0
        timing = f"  {duration(elapsed)} elapsed" + (f", ~{duration(eta)} left" if eta else "")
        status = self._paint(f"{label:<7}", style)
        line = (f"[{self.done:>{self._width}}/{self.total}] {status} {kind} "
                f"{node.search_name}{took}{timing}")
        if state.status not in ("success",) and state.message:
            line += f"\n{'':>{2 * self._width + 4}}{self._paint(state.message, style)}"
        self._write(line)

    def eta(self, states: dict[str, NodeState]) -> float:
        """Seconds of critical path left among unfinished nodes.

        Recomputed at most once a second (minus the time since): it walks the
        whole plan, and doing that on every finished node would make a large
        run's bookkeeping quadratic and steal the GIL from dbt's threads.
        """
        now = time.monotonic()
        if self._eta_at is not None and now - self._eta_at[0] < 1.0:
            return max(0.0, self._eta_at[1] - (now - self._eta_at[0]))
        value = self._critical_path_left(states)
        self._eta_at = (now, value)
        return value

    def _critical_path_left(self, states: dict[str, NodeState]) -> float:
        remaining: dict[str, float] = {}
        for uid in reversed(self.plan.order):
            if states[uid].status in TERMINAL:
                remaining[uid] = 0.0
                continue
            below = max((remaining[c] for c in self.plan.children[uid]), default=0.0)
            remaining[uid] = self.durations.get(uid, self._fallback) + below
        return max(remaining.values(), default=0.0)

    def _paint(self, text: str, style: str) -> str:
        if not self.color:
            return text
        codes = {"green": "32", "yellow": "33", "red": "31", "bright_black": "90",
                 "magenta": "35", "white": "37"}
        return f"\x1b[{codes.get(style, '0')}m{text}\x1b[0m"

    def _write(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text + "\n")
            self.stream.flush()


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[len(ordered) // 2]

