"""Run one Python task: attempts, delays between them, and a timeout.

A task runs in its own thread of the run process, because it must share the
run's DuckDB instance (DuckDB has one writer process). A task over its
timeout has its warehouse queries interrupted and an exception raised in its
thread; pure Python code stops at once, and a task stuck in a C call that
ignores both is abandoned and reported as timed out all the same.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from eltkit.run.events import (
    CANCELLED,
    ERROR,
    SUCCESS,
    TIMED_OUT,
    Event,
    NodeFinished,
    NodeLog,
    NodeStarted,
)
from eltkit.run.policies import RetryPolicy
from eltkit.tasks import TaskContext, TaskSpec


class TaskTimeout(BaseException):
    """Raised inside a task's thread when it runs past its timeout."""


class _Queued(logging.Handler):
    """Sends a task's log records to the coordinator, to be stored with the run."""

    def __init__(self, unique_id: str, emit: Callable[[Event], None]) -> None:
        super().__init__(logging.DEBUG)
        self.unique_id = unique_id
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit(NodeLog(self.unique_id, record.levelname.lower(), self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never break the task
            self.handleError(record)


def run_task(
    spec: TaskSpec,
    policy: RetryPolicy,
    make_context: Callable[[int, logging.Logger], TaskContext],
    emit: Callable[[Event], None],
    cancelled: threading.Event,
    run_id: str,
) -> None:
    """Attempt ``spec`` until it succeeds or runs out of attempts; report each step."""
    uid = spec.unique_id
    logger = logging.getLogger(f"eltkit.run.{run_id}.{spec.name}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = _Queued(uid, emit)
    logger.addHandler(handler)
    try:
        for attempt in range(1, policy.attempts + 1):
            wait = policy.delay_before(attempt)
            if wait and cancelled.wait(wait):
                emit(NodeFinished(uid, CANCELLED, "cancelled while waiting to retry",
                                  attempt=attempt - 1))
                return
            if cancelled.is_set():
                emit(NodeFinished(uid, CANCELLED, "cancelled", attempt=attempt - 1))
                return
            emit(NodeStarted(uid, attempt))
            started = time.monotonic()
            context = make_context(attempt, logger)
            status, message, rows = _attempt(spec, context, cancelled)
            duration = time.monotonic() - started
            last = attempt == policy.attempts
            if status in (SUCCESS, CANCELLED) or last:
                emit(NodeFinished(uid, status, message, duration, rows, attempt))
                return
            emit(NodeLog(uid, "warning",
                         f"attempt {attempt} of {policy.attempts} {status}: {message}; "
                         f"retrying in {policy.delay_before(attempt + 1):g}s"))
    finally:
        logger.removeHandler(handler)


def _attempt(
    spec: TaskSpec, context: TaskContext, cancelled: threading.Event
) -> tuple[str, str | None, int | None]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            value = spec.function(context)
            outcome["rows"] = value if isinstance(value, int) and not isinstance(value, bool) \
                else None
        except TaskTimeout:
            outcome["timeout"] = True
        except BaseException as exc:  # noqa: BLE001 - a task's failure is data, not a crash
            outcome["error"] = exc
            outcome["trace"] = traceback.format_exc()
        finally:
            # A transaction left open by a failed task must not keep the others waiting.
            release = getattr(context._warehouse, "release_turns", None)
            if release is not None:
                release()

    worker = threading.Thread(target=target, name=f"eltkit-task-{spec.name}", daemon=True)
    worker.start()
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    while worker.is_alive():
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        worker.join(0.1 if remaining is None else min(0.1, remaining))
        if not worker.is_alive():
            break
        if cancelled.is_set():
            _stop(worker, context)
            return CANCELLED, "cancelled while running", None
        if deadline is not None and time.monotonic() >= deadline:
            _stop(worker, context)
            return TIMED_OUT, f"timed out after {spec.timeout:g}s", None
    if "error" in outcome:
        exc = outcome["error"]
        context.log.error(outcome["trace"].rstrip())
        return ERROR, f"{type(exc).__name__}: {exc}", None
    if outcome.get("timeout"):
        return TIMED_OUT, f"timed out after {spec.timeout:g}s", None
    return SUCCESS, None, outcome.get("rows")


def _stop(worker: threading.Thread, context: TaskContext) -> None:
    """Interrupt the task's queries and raise TaskTimeout in its thread."""
    connection = context._warehouse
    if connection is not None:
        # Best effort: the connection may already be closed.
        with contextlib.suppress(Exception):
            connection.interrupt()
    if worker.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(TaskTimeout))
    worker.join(2.0)
