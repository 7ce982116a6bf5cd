"""The graph of jobs formed by ``after:``: unknown names and cycles are config errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eltkit.jobs.config import JobConfig


def job_dependency_problem(
    jobs: Mapping[str, JobConfig],
) -> tuple[tuple[Any, ...], str] | None:
    """The first problem as (location in eltkit.yml, message), or None when all is well."""
    for name, job in jobs.items():
        for index, upstream in enumerate(job.after):
            if upstream not in jobs:
                known = ", ".join(sorted(jobs)) or "none"
                return (("jobs", name, "after", index),
                        f"unknown job {upstream!r}; jobs declared: {known}")
            if upstream == name:
                return (("jobs", name, "after", index), "a job cannot run after itself")
    cycle = _find_cycle({name: list(job.after) for name, job in jobs.items()})
    if cycle:
        return (("jobs", cycle[0], "after"),
                "jobs wait for each other in a cycle: " + " -> ".join([*cycle, cycle[0]]))
    return None


def _find_cycle(after: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for upstream in after.get(name, []):
            if state.get(upstream) == 1:
                return path[path.index(upstream):]
            if upstream not in state:
                found = visit(upstream)
                if found:
                    return found
        path.pop()
        state[name] = 2
        return None

    for name in sorted(after):
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def downstream_jobs(jobs: Mapping[str, JobConfig], upstream: str) -> list[str]:
    """Jobs that list ``upstream`` in their ``after:``."""
    return sorted(name for name, job in jobs.items() if upstream in job.after)
