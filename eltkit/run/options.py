"""How a run is configured: the command line, then eltkit.yml, then the dbt profile."""

from __future__ import annotations

from datetime import datetime

from eltkit.project import Project
from eltkit.run.executor import RunOptions
from eltkit.warehouse import resolve_target


def run_options_for(project: Project, threads: int | None = None, *, fail_fast: bool = False,
                    data_interval: tuple[datetime, datetime] | None = None) -> RunOptions:
    """One place that decides a run's settings, so every caller (CLI, scheduler,
    pytest plugin) runs a selection the same way."""
    target = resolve_target(project.dbt_project_dir, str(project.dbt_project.get("profile")),
                            project.profiles_dir, project.target)
    options = RunOptions(
        threads=threads or project.threads or target.threads or 4,
        fail_fast=fail_fast, vars=project.vars,
        default_retries=project.config.run.default_retries,
        default_retry_delay=project.config.run.default_retry_delay,
        dbt_retries=project.config.run.dbt_retries,
        pools=project.config.run.pools,
    )
    if data_interval is not None:
        options.data_interval_start, options.data_interval_end = data_interval
    return options
