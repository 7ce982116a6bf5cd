"""What `eltkit jobs` (and the TUI) show about each job: triggers, next fire, last result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eltkit.jobs.config import JobConfig
from eltkit.jobs.intervals import fires_after
from eltkit.project import Project
from eltkit.state import jobs as records
from eltkit.state.store import HistoryStore


def next_fire(job: JobConfig, state: records.JobState, now: datetime) -> datetime | None:
    """The next cron fire; a paused or behind job's next fire is its oldest missed one."""
    if not job.schedule:
        return None
    cursor = datetime.fromtimestamp(state.cursor, UTC) if state.cursor else now
    return next(fires_after(job.schedule, job.zone, min(cursor, now) if state.cursor else now))


def job_overview(project: Project, store: HistoryStore, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for name, job in sorted(project.config.jobs.items()):
        state = records.job_state(store, name)
        upcoming = next_fire(job, state, now)
        latest = records.job_runs(store, job=name, limit=1)
        running = records.job_runs(store, job=name, statuses=("running",), limit=100)
        queued = records.job_runs(store, job=name, statuses=("queued",), limit=100)
        rows.append({
            "name": name,
            "triggers": job.triggers,
            "steps": [step.describe() for step in job.steps],
            "next_fire": upcoming.astimezone(job.zone).isoformat() if upcoming else None,
            "paused": state.paused,
            "paused_reason": state.paused_reason,
            "consecutive_failures": state.consecutive_failures,
            "running": len(running),
            "queued": len(queued),
            "last": latest[0].to_json() if latest else None,
        })
    return rows
