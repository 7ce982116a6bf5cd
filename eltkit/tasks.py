"""Python tasks: the ``@task`` decorator and the context a task runs with.

A task is a plain function that takes a :class:`TaskContext`. The decorator
only attaches a :class:`TaskSpec` to the function and returns the function
unchanged, so tasks stay callable (and testable) as ordinary Python, and a
module can be re-imported by dev mode without a global registry going stale.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    import duckdb

TASK_ATTRIBUTE = "__eltkit_task__"

TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Any])
RetryDelay = float | Sequence[float]


@dataclass(frozen=True)
class TaskSpec:
    """What the decorator declared about a task; the graph loader reads it."""

    name: str
    function: Callable[..., Any]
    produces: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    retries: int | None = None
    retry_delay: RetryDelay | None = None
    retry_backoff: float = 1.0
    retry_max_delay: float | None = None
    timeout: float | None = None
    pool: str | None = None
    priority: int = 0
    description: str = ""

    @property
    def unique_id(self) -> str:
        return f"task.{self.name}"


@overload
def task(function: TaskFunction) -> TaskFunction: ...


@overload
def task(
    *,
    name: str | None = None,
    produces: Sequence[str] = (),
    depends_on: Sequence[str] = (),
    tags: Sequence[str] = (),
    retries: int | None = None,
    retry_delay: RetryDelay | None = None,
    retry_backoff: float = 1.0,
    retry_max_delay: float | None = None,
    timeout: float | None = None,
    pool: str | None = None,
    priority: int = 0,
) -> Callable[[TaskFunction], TaskFunction]: ...


def task(
    function: TaskFunction | None = None,
    *,
    name: str | None = None,
    produces: Sequence[str] = (),
    depends_on: Sequence[str] = (),
    tags: Sequence[str] = (),
    retries: int | None = None,
    retry_delay: RetryDelay | None = None,
    retry_backoff: float = 1.0,
    retry_max_delay: float | None = None,
    timeout: float | None = None,
    pool: str | None = None,
    priority: int = 0,
) -> Any:
    """Declare a Python task of the pipeline.

    ``produces`` names the dbt sources the task loads (``"source:jaffle.raw_orders"``);
    every dbt node reading one of them then runs after the task. ``depends_on``
    names dbt nodes or other tasks (``"fct_orders"``, ``"model.jaffle.fct_orders"``,
    ``"task:extract_orders"``) that must succeed first. Usable bare (``@task``)
    or with arguments (``@task(tags=["extract"])``).
    """

    def decorate(fn: TaskFunction) -> TaskFunction:
        if isinstance(produces, str) or isinstance(depends_on, str) or isinstance(tags, str):
            raise TypeError(
                f"@task on {fn.__name__}: produces, depends_on and tags take a list of "
                "strings, not a single string"
            )
        spec = TaskSpec(
            name=name or fn.__name__,
            function=fn,
            produces=tuple(produces),
            depends_on=tuple(depends_on),
            tags=tuple(tags),
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_max_delay=retry_max_delay,
            timeout=timeout,
            pool=pool,
            priority=priority,
            description=(fn.__doc__ or "").strip(),
        )
        setattr(fn, TASK_ATTRIBUTE, spec)
        return fn

    if function is not None:
        return decorate(function)
    return decorate


@dataclass
class TaskContext:
    """What a running task is given: who it is, which data, where to write.

    ``warehouse`` is the run's own DuckDB connection (DuckDB allows one writer
    process, so a task never opens the warehouse file itself).
    """

    task_name: str
    run_id: str
    log: logging.Logger
    data_interval_start: datetime | None
    data_interval_end: datetime
    vars: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    _warehouse_factory: Callable[[], duckdb.DuckDBPyConnection] | None = None
    _warehouse: duckdb.DuckDBPyConnection | None = None

    @property
    def warehouse(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the run's warehouse connection, opened on first use."""
        if self._warehouse is None:
            if self._warehouse_factory is None:
                raise RuntimeError(
                    f"task {self.task_name}: no warehouse connection is available "
                    "(the dbt target is not DuckDB)"
                )
            self._warehouse = self._warehouse_factory()
        return self._warehouse
