"""Durations as people read them in a terminal: ``0.42s``, ``12.3s``, ``4m05s``, ``2h10m``."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """Short and width-stable: two decimals under 10 s, then minutes, then hours."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
