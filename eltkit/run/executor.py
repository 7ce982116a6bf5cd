"""The executor: a ready queue over the plan, Python tasks in threads, dbt in segments.

Three kinds of thread cooperate:

* the **main thread** runs dbt segments. dbt cancels its in-flight queries only
  on KeyboardInterrupt, which Python delivers to the main thread, so SIGINT
  and SIGTERM stop dbt for real;
* the **coordinator** owns all run state: it starts what is ready, forms the
  next dbt segment, settles failures (downstream skipped), and records every
  change in the history store;
* **task threads** run Python tasks, sharing the run's DuckDB instance.

Everything reaches the coordinator as an event on one queue, so state has a
single writer and no locks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eltkit.dbt.manifest import ParseInputs
from eltkit.errors import ConfigError
from eltkit.run.events import (
    CANCELLED,
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    Event,
    NodeFinished,
    NodeLog,
    NodeStarted,
    SegmentDone,
)
from eltkit.run.plan import Plan
from eltkit.run.policies import RetryPolicy
from eltkit.run.python_task import run_task
from eltkit.state.store import HEARTBEAT_SECONDS, HistoryStore
from eltkit.tasks import TaskContext, TaskSpec

FAIL_FAST_MESSAGE = "skipped: --fail-fast"
#: How often the coordinator looks for a cancel request between events.
POLL_SECONDS = 0.2
TERMINAL = frozenset({"success", "warn", "error", "skipped", "timed_out", "cancelled"})


@dataclass
class RunOptions:
    threads: int = 4
    fail_fast: bool = False
    vars: dict[str, Any] = field(default_factory=dict)
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    default_retries: int = 0
    default_retry_delay: float = 0.0
    dbt_retries: int = 0
    pools: dict[str, int] = field(default_factory=dict)
    #: A parsed dbt Manifest that matches the project on disk (dev mode keeps one
    #: warm); dbt then skips its own parse.
    dbt_manifest: Any = None
    #: Let dbt write manifest.json and run_results.json after each segment, as plain
    #: dbt does. Dev mode turns it off: at 1,000 models the writing alone costs
    #: about 3.5 s of every rebuild, and its parse has just written the manifest.
    write_dbt_artifacts: bool = True
    #: ``off`` / ``warn`` / ``error`` overrides eltkit.yml's ``freshness: gate:``
    #: (None: use eltkit.yml's; see eltkit/schedule/gate.py).
    freshness_gate: str | None = None


@dataclass
class NodeState:
    status: str = "pending"
    attempts: int = 0
    message: str | None = None
    duration_s: float | None = None


class Executor:
    """Runs one plan to completion (or cancellation) and records it."""

    def __init__(
        self, plan: Plan, tasks: dict[str, TaskSpec], store: HistoryStore, run_id: str,
        parse_inputs: ParseInputs, options: RunOptions,
        warehouse: Callable[[], Any] | None,
        on_event: Callable[[Event, dict[str, NodeState]], None],
        gate: Callable[[str | None], dict[str, str]] | None = None,
    ) -> None:
        """``gate``, when given, is asked before anything starts (with None) and after
        each Python task succeeds (with its id) which pending nodes to skip, and why
        (the freshness gate, eltkit/schedule/gate.py)."""
        self.plan = plan
        self.tasks = tasks
        self.store = store
        self.run_id = run_id
        self.parse_inputs = parse_inputs
        self.options = options
        self.warehouse = warehouse
        self.on_event = on_event
        self.states = {uid: NodeState() for uid in plan.nodes}
        self.events: queue.Queue[Event] = queue.Queue()
        self.cancelled = threading.Event()
        self._dbt_jobs: queue.Queue[list[str] | None] = queue.Queue()
        self._dbt_busy = False
        self._stop_starting = False
        self._cancel_handled = False
        self._pool_usage: dict[str, int] = {}
        self._running_tasks = 0
        self._dbt_attempts: dict[str, int] = {}
        self.gate = gate
        self._gated: set[str] = set()  # skipped by the gate: never un-skipped by a retry
        validate_pools(plan, tasks, options.pools)
        self._priority = self._critical_path_priority()
        self._task_ids = [uid for uid in plan.order if plan.is_task(uid)]

    # -- public ---------------------------------------------------------------------------

    def execute(self) -> dict[str, NodeState]:
        """Run everything; returns the final state of each planned node."""
        heartbeat_stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(heartbeat_stop,),
                                     name="eltkit-heartbeat", daemon=True)
        heartbeat.start()
        workers = ThreadPoolExecutor(max_workers=max(1, self.options.threads),
                                     thread_name_prefix="eltkit-task")
        coordinator = threading.Thread(target=self._coordinate, args=(workers,),
                                       name="eltkit-coordinator", daemon=True)
        coordinator.start()
        segment: list[str] | None = None
        while True:
            try:
                segment = None
                segment = self._dbt_jobs.get()
                if segment is None:
                    break
                self._run_segment(segment)
            except KeyboardInterrupt:
                # Ctrl-C or SIGTERM while the main thread was not inside dbt.
                self.cancel()
                if segment is not None:
                    self.events.put(SegmentDone(frozenset(segment), interrupted=True))
        while coordinator.is_alive():
            try:
                coordinator.join(0.2)
            except KeyboardInterrupt:
                self.cancel()
        workers.shutdown(wait=False, cancel_futures=True)
        heartbeat_stop.set()
        return self.states

    def cancel(self) -> None:
        """Stop the run. Safe to call from a signal handler: it only sets a flag,
        which the coordinator notices within a poll interval."""
        self.cancelled.set()

    # -- the main thread: dbt ---------------------------------------------------------------

    def _run_segment(self, unique_ids: list[str]) -> None:
        from eltkit.dbt.invoke import run_segment

        nodes = [self.plan.node(uid) for uid in unique_ids]
        try:
            run_segment(
                self.parse_inputs, self._dbt_command(), nodes,
                select_all=self._segment_is_whole_project(unique_ids),
                threads=self.options.threads, fail_fast=self.options.fail_fast,
                emit=self.events.put, manifest=self.options.dbt_manifest,
                write_json=self.options.write_dbt_artifacts,
            )
        except KeyboardInterrupt:
            self.cancel()
            self.events.put(SegmentDone(frozenset(unique_ids), interrupted=True))
        except Exception as exc:  # noqa: BLE001 - dbt crashing must not lose the run
            self.events.put(SegmentDone(frozenset(unique_ids),
                                        error=f"dbt failed: {type(exc).__name__}: {exc}"))

    def _dbt_command(self) -> str:
        return "build" if self.plan.command == "build" else self.plan.command

    def _segment_is_whole_project(self, unique_ids: list[str]) -> bool:
        """A segment that is every runnable dbt node needs no --select (dbt's fast path)."""
        from eltkit.run.plan import COMMAND_TYPES

        kinds = COMMAND_TYPES[self.plan.command] - {"task"}
        everything = {
            uid for uid, node in self.plan.graph.nodes.items()
            if node.resource_type in kinds and node.materialized != "ephemeral"
        }
        return set(unique_ids) == everything and not any(
            self._dbt_attempts.get(uid, 0) > 1 for uid in unique_ids)

    # -- the coordinator ----------------------------------------------------------------------

    def _coordinate(self, workers: ThreadPoolExecutor) -> None:
        try:
            self._apply_gate(None)
            self._schedule(workers)
            while not self._all_done():
                try:
                    event = self.events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    event = None
                if self.cancelled.is_set() and not self._cancel_handled:
                    self._cancel_handled = True
                    self.store.log(self.run_id, None, "warning", "run cancelled")
                    self._on_cancel()
                if event is not None:
                    self._handle(event)
                self._schedule(workers)
        except BaseException as exc:
            logging.getLogger("eltkit").exception("coordinator failed")
            self.store.log(self.run_id, None, "error", f"coordinator failed: {exc!r}")
            for uid, state in self.states.items():
                if state.status not in TERMINAL:
                    self._finish(uid, ERROR, f"eltkit internal error: {exc!r}")
        finally:
            self._dbt_jobs.put(None)

    def _all_done(self) -> bool:
        # The cheap checks first: while dbt or a task runs, no O(nodes) scan per event.
        return (not self._dbt_busy and self._running_tasks == 0
                and all(state.status in TERMINAL for state in self.states.values()))

    def _handle(self, event: Event) -> None:
        if isinstance(event, NodeStarted):
            state = self.states[event.unique_id]
            if self.plan.is_task(event.unique_id):
                state.attempts = event.attempt
            else:
                self._dbt_attempts[event.unique_id] = self._dbt_attempts.get(event.unique_id, 0)
                state.attempts = max(1, self._dbt_attempts[event.unique_id])
            state.status = "running"
            self.store.node_started(self.run_id, event.unique_id, state.attempts, event.at)
        elif isinstance(event, NodeFinished):
            self._on_finished(event)
        elif isinstance(event, NodeLog):
            self.store.log(self.run_id, event.unique_id, event.level, event.message)
        elif isinstance(event, SegmentDone):
            self._dbt_busy = False
            for uid in event.unique_ids:
                state = self.states[uid]
                if state.status not in TERMINAL and state.status != "pending":
                    self._finish(uid, CANCELLED if event.interrupted else ERROR,
                                 event.error or "dbt did not report this node")
            if event.interrupted:
                self.cancel()
        if not isinstance(event, NodeFinished):  # finished nodes are announced by _finish
            self.on_event(event, self.states)

    def _on_finished(self, event: NodeFinished) -> None:
        uid = event.unique_id
        state = self.states[uid]
        is_task = self.plan.is_task(uid)
        if is_task:
            self._running_tasks -= 1
            pool = self.tasks[self.plan.node(uid).name].pool
            if pool:
                self._pool_usage[pool] -= 1
        elif event.status in FAILED and self._dbt_attempts.get(uid, 1) <= self.options.dbt_retries \
                and not self.cancelled.is_set():
            # Retry only this failed dbt node (and whatever dbt skipped because of it).
            self._dbt_attempts[uid] = self._dbt_attempts.get(uid, 1) + 1
            self.store.log(self.run_id, uid, "warning",
                           f"attempt failed: {event.message}; retrying")
            state.status = "pending"
            for child in self.plan.descendants([uid]):
                if self.states[child].status == SKIPPED and child not in self._gated:
                    self.states[child].status = "pending"
            return
        state.attempts = event.attempt if is_task else max(1, self._dbt_attempts.get(uid, 1))
        self._finish(uid, event.status, event.message, event.duration_s, event.rows_affected)
        if is_task and event.status in PASSED:
            self._apply_gate(uid)
        if event.status in FAILED or event.status == CANCELLED:
            self._skip_downstream(uid, event.status)
            if self.options.fail_fast and event.status in FAILED:
                self._stop_for_fail_fast(uid)

    def _stop_for_fail_fast(self, uid: str) -> None:
        """Start nothing more and skip everything still pending.

        A dbt segment already running stops by dbt's own --fail-fast when one of
        its nodes fails; when a Python task fails, the segment's running nodes
        finish (interrupting the main thread from another thread is not safe
        while dbt is importing or parsing), and nothing new starts.
        """
        self._stop_starting = True
        for other, other_state in self.states.items():
            if other_state.status == "pending":
                self._finish(other, SKIPPED, f"{FAIL_FAST_MESSAGE} ({uid} failed)")

    def _finish(self, uid: str, status: str, message: str | None = None,
                duration: float | None = None, rows: int | None = None, *,
                announce: bool = True) -> None:
        """Record a node's end; ``announce`` tells the reporter of ends no worker
        reported (skips, cancels), so every node gets its line."""
        state = self.states[uid]
        state.status = status
        state.message = message
        state.duration_s = duration
        self.store.node_finished(self.run_id, uid, status, message=message, duration_s=duration,
                                 rows_affected=rows, attempts=state.attempts)
        if announce:
            self.on_event(NodeFinished(uid, status, message, duration, rows, state.attempts),
                          self.states)

    def _apply_gate(self, finished_task: str | None) -> None:
        if self.gate is None:
            return
        for uid, reason in self.gate(finished_task).items():
            if self.states[uid].status == "pending":
                self._gated.add(uid)
                self._finish(uid, SKIPPED, reason)

    def _skip_downstream(self, uid: str, status: str) -> None:
        name = self.plan.node(uid).name
        reason = "cancelled" if status == CANCELLED else f"skipped: upstream {name} {status}"
        for child in sorted(self.plan.descendants([uid])):
            if self.states[child].status == "pending":
                self._finish(child, CANCELLED if status == CANCELLED else SKIPPED, reason)

    def _on_cancel(self) -> None:
        self._stop_starting = True
        for uid, state in self.states.items():
            if state.status == "pending":
                self._finish(uid, CANCELLED, "cancelled before it started")

    # -- starting work ------------------------------------------------------------------------

    def _ready(self, uid: str) -> bool:
        return all(self.states[p].status in PASSED for p in self.plan.parents[uid])

    def _schedule(self, workers: ThreadPoolExecutor) -> None:
        if self._stop_starting or self.cancelled.is_set():
            return
        ready_tasks = sorted(
            (uid for uid in self._task_ids
             if self.states[uid].status == "pending" and self._ready(uid)),
            key=lambda uid: self._priority[uid], reverse=True)
        for uid in ready_tasks:
            if self._running_tasks >= self.options.threads:
                break
            spec = self.tasks[self.plan.node(uid).name]
            if spec.pool:
                if self._pool_usage.get(spec.pool, 0) >= self.options.pools[spec.pool]:
                    continue
                self._pool_usage[spec.pool] = self._pool_usage.get(spec.pool, 0) + 1
            self.states[uid].status = "queued"
            self._running_tasks += 1
            workers.submit(self._run_task, spec)
        if not self._dbt_busy:
            pending = [uid for uid, s in self.states.items() if s.status == "pending"]
            segment = self._next_segment(pending)
            if segment:
                self._dbt_busy = True
                for uid in segment:
                    self.states[uid].status = "queued"
                    self._dbt_attempts.setdefault(uid, 1)
                self._dbt_jobs.put(segment)

    def _next_segment(self, pending: list[str]) -> list[str]:
        """Every pending dbt node that no unfinished task stands before."""
        chosen: set[str] = set()
        candidates = {uid for uid in pending if not self.plan.is_task(uid)}
        for uid in self.plan.order:
            if uid in candidates and all(
                self.states[p].status in PASSED or p in chosen for p in self.plan.parents[uid]
            ):
                chosen.add(uid)
        return sorted(chosen)

    def _run_task(self, spec: TaskSpec) -> None:
        run_task(spec, self._policy(spec), self._context_factory(spec), self.events.put,
                 self.cancelled, self.run_id)

    def _policy(self, spec: TaskSpec) -> RetryPolicy:
        retries = spec.retries if spec.retries is not None else self.options.default_retries
        delay = (spec.retry_delay if spec.retry_delay is not None
                 else self.options.default_retry_delay)
        return RetryPolicy(retries, delay, spec.retry_backoff, spec.retry_max_delay)

    def _context_factory(self, spec: TaskSpec) -> Callable[[int, logging.Logger], TaskContext]:
        end = self.options.data_interval_end or datetime.now(UTC)

        def make(attempt: int, logger: logging.Logger) -> TaskContext:
            return TaskContext(
                task_name=spec.name, run_id=self.run_id, log=logger,
                data_interval_start=self.options.data_interval_start, data_interval_end=end,
                vars=dict(self.options.vars), attempt=attempt,
                _warehouse_factory=self.warehouse,
            )

        return make

    # -- helpers ------------------------------------------------------------------------------

    def _critical_path_priority(self) -> dict[str, float]:
        """Longest remaining chain below each node: start the critical path first."""
        durations = self.store.typical_durations(self.plan.nodes)
        remaining: dict[str, float] = {}
        for uid in reversed(self.plan.order):
            below = max((remaining[c] for c in self.plan.children[uid]), default=0.0)
            remaining[uid] = durations.get(uid, 1.0) + below
        for uid in self.plan.nodes:
            if self.plan.is_task(uid):
                remaining[uid] += 1e6 * self.tasks[self.plan.node(uid).name].priority
        return remaining

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                self.store.heartbeat(self.run_id)
            except Exception:
                logging.getLogger("eltkit").warning("heartbeat failed", exc_info=True)


def validate_pools(plan: Plan, tasks: dict[str, TaskSpec], pools: dict[str, int]) -> None:
    """Every pool a planned task names must be declared (checked before a run starts)."""
    for uid in plan.nodes:
        if not plan.is_task(uid):
            continue
        spec = tasks[plan.node(uid).name]
        if spec.pool and spec.pool not in pools:
            raise ConfigError(
                f"task {spec.name} uses pool {spec.pool!r}, which eltkit.yml does not "
                f"declare; add it under run: pools: {{{spec.pool}: N}}"
            )
