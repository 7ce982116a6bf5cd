"""Run freshness checks against the project's warehouse and record them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eltkit.errors import EltkitError
from eltkit.project import Project
from eltkit.run.runner import _in_folder, history_path, open_history
from eltkit.schedule.freshness import FreshnessResult, check, rules
from eltkit.warehouse import lock_for, open_duckdb, resolve_target


def check_sources(project: Project, selected: Iterable[str], *, wait: bool = True,
                  run_id: str | None = None) -> list[FreshnessResult]:
    """Check every selected source that declares freshness; record the results.

    The check reads the warehouse, so it takes the warehouse lock like a run
    (waiting by default: a check is short, and DuckDB has one writer process).
    """
    found = rules(project.graph, selected)
    target = resolve_target(project.dbt_project_dir, str(project.dbt_project.get("profile")),
                            project.profiles_dir, project.target)
    if not target.is_duckdb_file:
        raise EltkitError(
            f"eltkit freshness checks DuckDB warehouses; target {target.name} is "
            f"{target.type or 'unknown'}: use `dbt source freshness` for it")
    if not found:
        return []
    lock = lock_for(target, project.dbt_project_dir, history_path(project).parent)
    lock.acquire(wait=wait, run_id="freshness check")
    try:
        with _in_folder(project.dbt_project_dir):
            connection = open_duckdb(target)
            try:
                def query(sql: str) -> tuple[Any, Any]:
                    row = connection.execute(sql).fetchone()
                    return (row[0], row[1]) if row else (None, None)

                results = [check(rule, query) for rule in found]
            finally:
                connection.close()
    finally:
        lock.release()
    store = open_history(project)
    try:
        store.record_freshness(results, run_id=run_id)
    finally:
        store.close()
    return results
