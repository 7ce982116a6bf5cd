"""How statuses, times and durations look on screen.

Every status has a glyph as well as a colour, so the screens stay readable
with NO_COLOR (Textual then renders in monochrome) and for colour-blind users.
Times go through a :class:`Clock` so tests and snapshots can freeze them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from rich.text import Text

from eltkit.durations import duration as duration  # the screens import it from here

#: status -> (glyph, style). Single-cell glyphs only: they must line up in any terminal.
NODE_STYLES: dict[str, tuple[str, str]] = {
    "pending": ("·", "dim"),
    "queued": ("·", "dim"),
    "running": ("▶", "bold cyan"),
    "success": ("✓", "green"),
    "warn": ("!", "yellow"),
    "error": ("✗", "bold red"),
    "timed_out": ("✗", "bold red"),
    "skipped": ("-", "dim"),
    "cancelled": ("⊘", "magenta"),
    "interrupted": ("↯", "magenta"),
}
RUN_STYLES: dict[str, tuple[str, str]] = {
    "running": ("▶", "bold cyan"),
    "success": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "cancelled": ("⊘", "magenta"),
    "interrupted": ("↯", "magenta"),
}
#: A job run's status, in the same glyph language as a run's.
JOB_RUN_STYLES: dict[str, tuple[str, str]] = {
    "queued": ("·", "dim"),
    "running": ("▶", "bold cyan"),
    "success": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "cancelled": ("⊘", "magenta"),
    "interrupted": ("↯", "magenta"),
    "skipped": ("-", "dim"),
}
FAILED_NODE_STATUSES = frozenset({"error", "timed_out", "interrupted"})
DONE_NODE_STATUSES = frozenset({"success", "warn", "error", "timed_out", "skipped",
                                "cancelled", "interrupted"})
#: Order of the counts in a run's summary line.
COUNT_ORDER = ("success", "warn", "error", "timed_out", "skipped", "cancelled", "interrupted",
               "running", "queued", "pending")


def node_status(status: str) -> Text:
    glyph, style = NODE_STYLES.get(status, ("?", ""))
    return Text(f"{glyph} {status}", style=style)


def run_status(status: str) -> Text:
    glyph, style = RUN_STYLES.get(status, ("?", ""))
    return Text(f"{glyph} {status}", style=style)


def job_run_status(status: str) -> Text:
    glyph, style = JOB_RUN_STYLES.get(status, ("?", ""))
    return Text(f"{glyph} {status}", style=style)


def counts_text(counts: dict[str, int]) -> Text:
    """``✓ 5 success  ✗ 1 error  - 2 skipped``, in a fixed order."""
    text = Text()
    for status in (*COUNT_ORDER, *sorted(set(counts) - set(COUNT_ORDER))):
        if counts.get(status):
            glyph, style = NODE_STYLES.get(status, ("?", ""))
            if text:
                text.append("  ")
            text.append(f"{glyph} {counts[status]} {status}", style=style)
    return text


def progress(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    done = sum(n for status, n in counts.items() if status in DONE_NODE_STATUSES)
    return f"{done}/{total}"


@dataclass
class Clock:
    """The time the screens show: the real one, or a frozen one in tests."""

    now: Callable[[], float] = time.time
    tz: tzinfo | None = field(default=None)

    def moment(self, timestamp: float) -> datetime:
        return datetime.fromtimestamp(timestamp, tz=self.tz)

    def started(self, timestamp: float | None) -> str:
        """Time of day for today, the date too for older moments."""
        if timestamp is None:
            return ""
        moment = self.moment(timestamp)
        if moment.date() == self.moment(self.now()).date():
            return moment.strftime("%H:%M:%S")
        return moment.strftime("%m-%d %H:%M")

    def stamp(self, timestamp: float | None) -> str:
        if timestamp is None:
            return ""
        return self.moment(timestamp).strftime("%Y-%m-%d %H:%M:%S")

    def elapsed(self, started_at: float, finished_at: float | None) -> float:
        end = finished_at if finished_at is not None else self.now()
        return max(0.0, end - started_at)


def span(seconds: float) -> str:
    """A wait or an age as people say it: ``45s``, ``30m``, ``4m05s``, ``2h05m``, ``3d04h``."""
    total = int(max(0.0, seconds))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60),
                                      ("m", 60, "s", 1)):
        if total >= size:
            whole, rest = divmod(total, size)
            part = rest // sub_size
            return f"{whole}{unit}" + (f"{part:02d}{sub}" if part else "")
    return f"{total}s"


def one_line(message: str | None, width: int = 80) -> str:
    if not message:
        return ""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def describe_selection(selection: dict[str, object]) -> str:
    """``--select marts --exclude x``, as the user typed it; ``everything`` when empty."""
    parts = []
    for key, flag in (("select", "--select"), ("exclude", "--exclude")):
        value = selection.get(key)
        if isinstance(value, list) and value:
            parts.append(f"{flag} {' '.join(str(v) for v in value)}")
    if selection.get("selector"):
        parts.append(f"--selector {selection['selector']}")
    if selection.get("retry_of"):
        parts.append(f"retry of {selection['retry_of']}")
    return " ".join(parts) or "everything"
