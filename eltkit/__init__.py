"""eltkit: one DAG of dbt nodes and Python tasks, run, scheduled and watched.

``from eltkit import task`` is all a task module needs; ``load_project()``
is the entry point of the library API. Heavy modules load on first use so
that importing a task module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eltkit.errors import EltkitError
from eltkit.tasks import TaskContext, TaskSpec, task

if TYPE_CHECKING:
    from eltkit.project import Project, load_project

__version__ = "0.1.0"
__all__ = ["EltkitError", "Project", "TaskContext", "TaskSpec", "load_project", "task"]


def __getattr__(name: str) -> Any:
    if name in ("load_project", "Project"):
        from eltkit import project

        return getattr(project, name)
    raise AttributeError(f"module 'eltkit' has no attribute {name!r}")
