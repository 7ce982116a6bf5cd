"""Run one job run: its steps in order, each recorded as an ordinary run.

The scheduler starts this in a separate process per job run (a crash or a
memory leak in one job cannot take the scheduler down, and SIGTERM reaches a
job run the same way it reaches `eltkit run`); `eltkit trigger` and
`eltkit backfill` call it in their own process.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from eltkit.errors import EltkitError
from eltkit.jobs.config import JobConfig, Step
from eltkit.jobs.intervals import Interval
from eltkit.project import Project
from eltkit.run.options import run_options_for
from eltkit.run.plan import make_plan
from eltkit.run.runner import RunOutcome, execute_plan, open_history
from eltkit.state.jobs import finish_job_run, job_run, start_job_run

log = logging.getLogger("eltkit.jobs")

Reporter = Callable[..., Any]


@dataclasses.dataclass
class StepResult:
    step: Step
    status: str  # success | failed | cancelled
    message: str
    run_id: str | None = None


def job_of(project: Project, name: str) -> JobConfig:
    """The job called ``name``; a clear error lists the declared jobs otherwise."""
    jobs = project.config.jobs
    if name not in jobs:
        known = ", ".join(sorted(jobs)) or "none (declare them under jobs: in eltkit.yml)"
        where = project.config_path or project.root
        raise EltkitError(f"{where}: no job {name!r}; jobs: {known}")
    return jobs[name]


def project_for_interval(project: Project, job: JobConfig,
                         interval: Interval | None) -> Project:
    """The project as a job run sees it: the job's vars and the interval's as dbt vars."""
    extra = dict(job.vars)
    if interval is not None:
        extra.update(interval.vars(job.zone))
    if not extra:
        return project
    return dataclasses.replace(project, vars={**project.vars, **extra})


def check_job_steps(project: Project, name: str, job: JobConfig) -> None:
    """Checks that need the project loaded: a task step names a real task."""
    tasks = {spec.name for spec in project.tasks}
    for index, step in enumerate(job.steps):
        if step.kind == "task" and step.task not in tasks:
            known = ", ".join(sorted(tasks)) or "none"
            raise EltkitError(
                f"{project.config_path}: jobs.{name}.steps.{index}.task: unknown task "
                f"{step.task!r}; tasks: {known}")


def execute_job_run(project: Project, job_run_id: str, *, trigger: str,
                    reporter: Reporter | None = None, wait: bool = True,
                    echo: Callable[[str], None] = lambda line: None) -> str:
    """Run every step of the job run ``job_run_id`` in order; return its final status.

    A failed step stops the job (later steps read what it should have built).
    """
    store = open_history(project)
    try:
        record = job_run(store, job_run_id)
        start_job_run(store, job_run_id)
    finally:
        store.close()
    job = job_of(project, record.job)
    interval = record.interval
    scoped = project_for_interval(project, job, interval)
    status, message = "success", None
    try:
        for index, step in enumerate(job.steps, start=1):
            result = _run_step(scoped, record.job, job, step, job_run_id, interval,
                               trigger=trigger, reporter=reporter, wait=wait, echo=echo)
            if result.status != "success":
                status = result.status
                message = f"step {index} ({step.describe()}) {result.message}"
                break
        else:
            message = f"{len(job.steps)} step{'s' if len(job.steps) > 1 else ''} succeeded"
    except KeyboardInterrupt:
        status, message = "cancelled", "cancelled by a signal"
        raise
    except BaseException as exc:
        status, message = "failed", f"eltkit error: {exc}"
        raise
    finally:
        store = open_history(project)
        try:
            finish_job_run(store, job_run_id, status, message)
        finally:
            store.close()
    return status


def _run_step(project: Project, job_name: str, job: JobConfig, step: Step, job_run_id: str,
              interval: Interval | None, *, trigger: str, reporter: Reporter | None,
              wait: bool, echo: Callable[[str], None]) -> StepResult:
    if step.kind == "freshness":
        return _freshness_step(project, step, job_run_id, echo)
    if step.kind == "task":
        selected = {f"task.{step.task}"} if f"task.{step.task}" in project.graph.nodes else set()
        if not selected:
            raise EltkitError(f"{project.config_path}: jobs.{job_name}: unknown task "
                              f"{step.task!r}")
        command = "run"
    else:
        selection = step.selection
        result = project.select(
            [selection.select] if selection.select else None,
            [selection.exclude] if selection.exclude else None,
            selector=selection.selector)
        for warning in result.warnings:
            log.warning("%s", warning)
        selected, command = set(result.selected), step.kind
    plan = make_plan(project.graph, command, selected)
    if not plan.nodes:
        log.warning("job %s: step %s selects nothing to run", job_name, step.describe())
        return StepResult(step, "success", "selected nothing")
    options = run_options_for(
        project, job.threads,
        data_interval=None if interval is None else (interval.start, interval.end))
    outcome: RunOutcome = execute_plan(
        project, plan, selection=_selection_record(step), trigger=trigger, options=options,
        wait=wait, job=job_name, job_run_id=job_run_id, reporter=reporter)
    if outcome.ok:
        return StepResult(step, "success", "succeeded", outcome.run.id)
    if outcome.run.status == "cancelled":
        return StepResult(step, "cancelled", "cancelled", outcome.run.id)
    return StepResult(step, "failed", f"failed: {outcome.run.message} (run {outcome.run.id})",
                      outcome.run.id)


def _selection_record(step: Step) -> dict[str, Any]:
    if step.kind == "task":
        return {"select": [f"task:{step.task}"], "exclude": [], "selector": None}
    selection = step.selection
    return {"select": [selection.select] if selection.select else [],
            "exclude": [selection.exclude] if selection.exclude else [],
            "selector": selection.selector}


def _freshness_step(project: Project, step: Step, job_run_id: str,
                    echo: Callable[[str], None]) -> StepResult:
    """Checks are recorded in the history's freshness checks, linked by the job run id."""
    from eltkit.freshness_run import check_sources
    from eltkit.schedule.freshness import describe_age

    selection = step.selection
    result = project.select([selection.select] if selection.select else None,
                            [selection.exclude] if selection.exclude else None,
                            selector=selection.selector)
    results = check_sources(project, result.selected, run_id=job_run_id)
    failing = [r for r in results if r.status in ("error", "runtime error")]
    echo(f"freshness {step.selection.select or 'every source'}:")
    for item in results:
        echo(f"  {item.status.upper():<13} {item.rule.label}  age {describe_age(item.age_s)}")
    if failing:
        names = ", ".join(f"{r.rule.label} ({r.status})" for r in failing)
        return StepResult(step, "failed", f"failed: stale sources: {names}")
    return StepResult(step, "success", f"{len(results)} sources fresh enough")
