"""Helpers for the tests of jobs on tests/projects/jobs."""

from __future__ import annotations

from pathlib import Path

import duckdb


def set_jobs(project_dir: Path, jobs: str) -> None:
    """Replace the jobs: section of the test project's eltkit.yml."""
    path = project_dir / "eltkit.yml"
    head = path.read_text().split("jobs:")[0]
    path.write_text(head + "jobs:\n" + jobs)


def warehouse_rows(project_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project_dir / "target" / "jobs.duckdb"), read_only=True) as db:
        return db.execute(sql).fetchall()
