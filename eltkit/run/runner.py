"""Start a run: select, plan, lock the warehouse, execute, record, summarise.

This is the one entry point for every kind of run (CLI, retry, scheduler,
dev mode, TUI actions), so each is recorded the same way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eltkit.errors import EltkitError
from eltkit.model_columns import record_built_columns
from eltkit.project import Project
from eltkit.run.events import Event
from eltkit.run.executor import Executor, NodeState, RunOptions, validate_pools
from eltkit.run.plan import Plan, make_plan
from eltkit.schedule.gate_config import gate_level
from eltkit.state.store import HistoryStore, NodeRecord, RunRecord
from eltkit.stop_signals import on_stop_signals
from eltkit.warehouse import TakingTurns, lock_for, open_duckdb, resolve_target

TRIGGERS = ("cli", "schedule", "backfill", "dev", "retry", "tui", "pytest")
RETRYABLE = frozenset({"error", "timed_out", "skipped", "cancelled", "pending", "running",
                       "queued", "interrupted"})


@dataclass
class RunOutcome:
    run: RunRecord
    nodes: list[NodeRecord]

    @property
    def ok(self) -> bool:
        return self.run.status == "success"


def history_path(project: Project) -> Path:
    if project.config.history is not None:
        return (project.root / project.config.history).resolve()
    return project.root / ".eltkit" / "history.db"


def open_history(project: Project, *, readonly: bool = False) -> HistoryStore:
    store = HistoryStore(history_path(project), readonly=readonly)
    if not readonly:
        store.mark_interrupted_runs()
    return store


@contextlib.contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    """dbt resolves relative paths (the DuckDB file) from the working folder."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _cancel_then_interrupt(cancel: Callable[[], None]) -> Callable[[], None]:
    """What SIGINT/SIGTERM do to a run: flag the cancel (so the run stops even if the
    KeyboardInterrupt lands in code that swallows it), then raise KeyboardInterrupt, the
    one way to make dbt cancel its in-flight queries."""

    def stop() -> None:
        cancel()
        raise KeyboardInterrupt

    return stop


def execute_plan(
    project: Project, plan: Plan, *, selection: dict[str, Any], trigger: str,
    options: RunOptions, wait: bool = False, retry_of: str | None = None,
    job: str | None = None, job_run_id: str | None = None,
    reporter: Callable[[Plan, HistoryStore, str], Callable[[Event, dict[str, NodeState]], None]]
    | None = None,
) -> RunOutcome:
    """Run ``plan`` and record it; returns the recorded run and its nodes."""
    if trigger not in TRIGGERS:
        raise EltkitError(f"unknown trigger {trigger!r}")
    validate_pools(plan, {spec.name: spec for spec in project.tasks}, options.pools)
    if options.data_interval_end is None:
        # One "now" for the whole run: every task of it sees the same interval.
        options.data_interval_end = datetime.now(UTC)
    store = open_history(project)
    target = resolve_target(project.dbt_project_dir, str(project.dbt_project.get("profile")),
                            project.profiles_dir, project.target)
    try:
        gate = _freshness_gate(project, plan, options, trigger, target)
    except EltkitError:
        store.close()
        raise
    lock = lock_for(target, project.dbt_project_dir, history_path(project).parent)
    nodes = [(uid, plan.node(uid).name, plan.node(uid).resource_type) for uid in plan.nodes]
    run_id = store.create_run(
        command=plan.command, selection=selection, trigger=trigger,
        project_dir=project.root, target=target.name, threads=options.threads,
        vars=options.vars, nodes=nodes, job=job, retry_of=retry_of, job_run_id=job_run_id,
    )
    try:
        lock.acquire(wait=wait, run_id=run_id)
    except EltkitError as exc:
        store.finish_run(run_id, "cancelled", f"not started: {exc.message}")
        store.close()
        raise
    connection: Any = None
    try:
        with _in_folder(project.dbt_project_dir):
            if target.is_duckdb_file and (gate is not None
                                          or any(plan.is_task(uid) for uid in plan.nodes)):
                connection = open_duckdb(target)
            shared, turns = connection, threading.RLock()
            warehouse = ((lambda: TakingTurns(shared.cursor(), turns))
                         if shared is not None else None)
            on_event = reporter(plan, store, run_id) if reporter else (lambda e, s: None)
            tasks = {spec.name: spec for spec in project.tasks}
            executor = Executor(plan, tasks, store, run_id, project.parse_inputs, options,
                                warehouse, on_event,
                                gate.bind(warehouse, store, run_id, options.data_interval_end)
                                if gate else None)
            with on_stop_signals(_cancel_then_interrupt(executor.cancel)):
                states = executor.execute()
            if not executor.cancelled.is_set():
                record_built_columns(plan, states, store, run_id, target, connection)
        status = _run_status(states, executor.cancelled.is_set())
        store.finish_run(run_id, status, _run_message(states))
    except BaseException as exc:
        store.finish_run(run_id, "failed", f"eltkit error: {exc}")
        raise
    finally:
        if connection is not None:
            connection.close()
        lock.release()
    outcome = RunOutcome(store.run(run_id), store.nodes(run_id))
    store.close()
    return outcome


def _freshness_gate(project: Project, plan: Plan, options: RunOptions, trigger: str,
                    target: Any) -> Any:
    """The run's freshness gate (eltkit/schedule/gate.py), or None when it is off;
    the gate's module (and sqlglot) is only imported for a gated run."""
    level = gate_level(project.config.freshness.gate, options.freshness_gate, trigger)
    if level == "off":
        return None
    from eltkit.schedule.gate import gate_for_run

    return gate_for_run(project, plan, level, target)


def _run_status(states: dict[str, NodeState], cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    if all(state.status in ("success", "warn") for state in states.values()):
        return "success"
    return "failed"


def _run_message(states: dict[str, NodeState]) -> str | None:
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state.status] = counts.get(state.status, 0) + 1
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or None


def plan_for_retry(project: Project, store: HistoryStore, run_id: str | None) -> tuple[
        RunRecord, Plan]:
    """What `eltkit retry` reruns: nodes that failed or never finished, and their downstream."""
    previous = store.run(run_id) if run_id else store.latest_run()
    if previous is None:
        raise EltkitError(f"{store.path}: no runs to retry yet; start one with `eltkit run`")
    if previous.status == "running":
        raise EltkitError(
            f"run {previous.id} is still running (pid {previous.pid}); wait for it or cancel it"
        )
    records = store.nodes(previous.id)
    graph = project.graph
    planned = {record.unique_id for record in records if record.unique_id in graph.nodes}
    base = make_plan(graph, previous.command, planned)
    failed = {r.unique_id for r in records if r.status in RETRYABLE and r.unique_id in planned}
    again = failed | base.descendants(failed)
    return previous, make_plan(graph, previous.command, again)
