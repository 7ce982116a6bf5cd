"""What the jobs screens show: every job of eltkit.yml, its state, and its job runs.

The jobs come from the project's config (``jobs:`` in eltkit.yml), their state
(paused, failures, cursors) and job runs from the history, through the same
:func:`eltkit.jobs.overview.job_overview` that `eltkit jobs` prints. A job's
steps are ordinary runs linked by ``runs.job_run_id``. Called from thread
workers; returns plain dataclasses, no Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltkit.project import Project
    from eltkit.state.jobs import JobRun
    from eltkit.state.store import HistoryStore, RunRecord

#: How many job runs the job runs screen lists, newest first.
JOB_RUNS_SHOWN = 100
NO_JOBS = ("no jobs declared: add them under `jobs:` in eltkit.yml (steps, and a schedule, "
           "after or on_file trigger); see docs/jobs.md")
NO_PROJECT = "no project: jobs are declared in eltkit.yml (eltkit tui --project DIR)"


@dataclass(frozen=True)
class JobRow:
    """One job: how it starts, what it does, where it stands."""

    name: str
    triggers: list[str]
    steps: list[str]
    timezone: str
    next_fire: float | None
    paused: bool
    paused_reason: str | None
    consecutive_failures: int
    running: int
    queued: int
    last: JobRun | None


@dataclass(frozen=True)
class JobsData:
    jobs: list[JobRow]
    #: the running scheduler (pid, host, started_at, heartbeat_at), None when none runs
    scheduler: dict[str, Any] | None = None
    error: str | None = None
    history_missing: bool = False


def read_jobs(store: HistoryStore | None, project: Project | None, now: datetime) -> JobsData:
    """Every job of eltkit.yml joined with its state and latest job run."""
    if project is None:
        return JobsData([], error=NO_PROJECT)
    if not project.config.jobs:
        return JobsData([])
    if store is None:  # no history yet: the jobs, none of them ran
        return JobsData(_unrun_jobs(project, now), history_missing=True)
    from eltkit.jobs.overview import job_overview
    from eltkit.state.jobs import job_run, scheduler_holder

    jobs = []
    for row in job_overview(project, store, now):
        job = project.config.jobs[row["name"]]
        last = job_run(store, row["last"]["id"]) if row["last"] else None
        jobs.append(JobRow(
            row["name"], list(row["triggers"]), list(row["steps"]), job.timezone,
            _timestamp(row["next_fire"]), bool(row["paused"]), row["paused_reason"],
            int(row["consecutive_failures"]), int(row["running"]), int(row["queued"]), last))
    return JobsData(jobs, scheduler_holder(store))


def _unrun_jobs(project: Project, now: datetime) -> list[JobRow]:
    from eltkit.jobs.overview import next_fire
    from eltkit.state.jobs import JobState

    rows = []
    for name, job in sorted(project.config.jobs.items()):
        upcoming = next_fire(job, JobState(name), now)
        rows.append(JobRow(name, job.triggers, [step.describe() for step in job.steps],
                           job.timezone, upcoming.timestamp() if upcoming else None,
                           False, None, 0, 0, 0, None))
    return rows


def _timestamp(iso: str | None) -> float | None:
    return None if not iso else datetime.fromisoformat(iso).timestamp()


# -- one job's job runs -------------------------------------------------------------------


@dataclass(frozen=True)
class JobRunsData:
    job: str
    job_runs: list[JobRun]  # newest first
    declared: bool  # False: the job is no longer in eltkit.yml (its runs are history)


def read_job_runs(store: HistoryStore | None, project: Project | None, job: str,
                  limit: int = JOB_RUNS_SHOWN) -> JobRunsData:
    from eltkit.state.jobs import job_runs

    declared = project is not None and job in project.config.jobs
    if store is None:
        return JobRunsData(job, [], declared)
    return JobRunsData(job, job_runs(store, job=job, limit=limit), declared)


def read_steps(store: HistoryStore | None, job_run_id: str) -> list[RunRecord]:
    """The runs recorded for a job run's steps, oldest first (a freshness step is no run)."""
    if store is None:
        return []
    from eltkit.state.jobs import steps_of

    return [store.run(step["id"]) for step in steps_of(store, job_run_id)]


def step_to_open(steps: list[RunRecord]) -> RunRecord | None:
    """The step run Enter on a job run opens: the one that failed, else the last one."""
    for step in steps:
        if step.status not in ("success", "running"):
            return step
    running = [step for step in steps if step.status == "running"]
    if running:
        return running[0]
    return steps[-1] if steps else None
