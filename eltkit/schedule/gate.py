"""The freshness gate of a run: skip what would be built from stale sources.

Which sources a run checks are the sources upstream of its planned nodes that
declare freshness. *When* each is checked matters: a source that a Python task
of the same run loads is checked right after that task succeeds (checking it
before would judge yesterday's data the run is about to replace); a source no
planned task loads is checked before anything starts. Every planned node
downstream of a source whose status is at or past the gate level is then
skipped, with a reason naming the source and its age. Checks are recorded in the
history with the run's id, as ``eltkit freshness`` records its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eltkit.errors import ConfigError
from eltkit.graph.nodes import SOURCE, TASK
from eltkit.project import Project
from eltkit.run.plan import Plan
from eltkit.schedule.freshness import (
    ERROR,
    RUNTIME_ERROR,
    WARN,
    FreshnessResult,
    FreshnessRule,
    check,
    describe_age,
    rules,
)
from eltkit.state.store import HistoryStore
from eltkit.warehouse import Target


def fails_gate(status: str, level: str) -> bool:
    """Whether a source with ``status`` stops its downstream at ``level``.

    A failed check (``runtime error``) fails any gate: a source that cannot be
    read cannot be shown to be fresh.
    """
    if level == "off":
        return False
    if status in (ERROR, RUNTIME_ERROR):
        return True
    return level == "warn" and status == WARN


def stale_reason(result: FreshnessResult) -> str:
    """``source jaffle.raw_orders is error-stale: age 30h12m > 24h``."""
    label = result.rule.label
    if result.status == RUNTIME_ERROR:
        # The first line of the database's message (DuckDB appends the query after it).
        lines = [line.strip() for line in (result.message or "").splitlines() if line.strip()]
        detail = lines[0] if lines else "no detail"
        if len(detail) > 160:
            detail = detail[:159] + "…"
        return f"source {label} freshness check failed (runtime error): {detail}"
    limit = result.rule.error_after_s if result.status == ERROR else result.rule.warn_after_s
    return (f"source {label} is {result.status}-stale: age {describe_age(result.age_s)} > "
            f"{describe_age(limit)}")


@dataclass(frozen=True)
class GatePlan:
    """What a gated run checks: each source's rule, the planned tasks that load it,
    and the planned nodes downstream of it."""

    level: str
    rules: dict[str, FreshnessRule]
    producers: dict[str, frozenset[str]]
    downstream: dict[str, tuple[str, ...]]

    def bind(self, warehouse: Callable[[], Any] | None, store: HistoryStore,
             run_id: str, as_of: datetime | None = None) -> RunGate:
        """The gate for the executor of run ``run_id``, reading the run's own warehouse
        connection (the run holds the DuckDB file; a second connection could not open it).
        ``as_of`` is the end of the run's data interval (see :class:`RunGate`)."""
        if warehouse is None:
            raise ConfigError("the freshness gate needs the run's DuckDB connection")

        def record(results: list[FreshnessResult]) -> None:
            store.record_freshness(results, run_id=run_id)

        def log(message: str) -> None:
            store.log(run_id, None, "warning", message)

        return RunGate(self, warehouse, record, log, as_of)


def plan_gate(plan: Plan, level: str) -> GatePlan | None:
    """The gate of ``plan`` at ``level``; None when off or no upstream source declares
    freshness (then the run needs no warehouse query at all)."""
    if level == "off":
        return None
    graph = plan.graph
    planned = set(plan.nodes)
    sources = [uid for uid in graph.upstream_of(planned)
               if graph.nodes[uid].resource_type == SOURCE]
    found = {rule.unique_id: rule for rule in rules(graph, sources)}
    if not found:
        return None
    producers = {
        uid: frozenset(parent for parent in graph.parents[uid]
                       if parent in planned and graph.nodes[parent].resource_type == TASK)
        for uid in found}
    downstream = {uid: tuple(sorted(graph.downstream_of([uid]) & planned)) for uid in found}
    return GatePlan(level, found, producers, downstream)


def gate_for_run(project: Project, plan: Plan, level: str, target: Target) -> GatePlan | None:
    """The gate a run at ``level`` needs, checked against the target before the run starts."""
    gate = plan_gate(plan, level)
    if gate is not None:
        require_checkable(gate, target, str(project.config_path or project.root))
    return gate


def require_checkable(gate: GatePlan, target: Target, where: str) -> None:
    """eltkit reads freshness from DuckDB files only; a gate elsewhere is a config error,
    not a silent no-op (a gate the user asked for must never quietly let stale data by)."""
    if not target.is_duckdb_file:
        raise ConfigError(
            f"{where}: freshness.gate is {gate.level}, but eltkit checks freshness on DuckDB "
            f"targets only and target {target.name} is {target.type or 'unknown'}; set "
            "freshness: {gate: off} or pass --freshness-gate off")


class RunGate:
    """One run's gate, called by the executor's coordinator.

    ``gate(None)`` before anything starts checks the sources no planned task
    loads; ``gate(task_id)`` after a task succeeds checks the sources it loads
    (once every planned task loading them has succeeded). Each call returns the
    planned nodes to skip, with their reasons.

    Ages are measured at the end of the run's data interval (``as_of``) when
    that is earlier than the warehouse's clock: a run processes data "as of" its
    interval, so a backfill of last Tuesday asks whether the sources were fresh
    on Tuesday, not whether Tuesday's reload is a week old. For a run started by
    hand the interval ends when the run starts.
    """

    def __init__(self, gate: GatePlan, query: Callable[[], Any],
                 record: Callable[[list[FreshnessResult]], None],
                 log: Callable[[str], None], as_of: datetime | None = None) -> None:
        """``query`` opens a cursor on the run's warehouse (a context manager with
        ``execute``); ``record`` stores results; ``log`` writes a run log line."""
        self.gate = gate
        self._cursor = query
        self._record = record
        self._log = log
        self._as_of = as_of
        self._waiting = {uid: set(tasks) for uid, tasks in gate.producers.items()}

    def __call__(self, finished_task: str | None) -> dict[str, str]:
        due = []
        for uid, tasks in list(self._waiting.items()):
            if finished_task is not None:
                if finished_task not in tasks:
                    continue
                tasks.discard(finished_task)
            if not tasks:
                due.append(uid)
                del self._waiting[uid]
        if not due:
            return {}
        results = self._check(sorted(due))
        self._record(results)
        return self._skips(results)

    def _check(self, due: list[str]) -> list[FreshnessResult]:
        with self._cursor() as cursor:
            def query(sql: str) -> tuple[Any, Any]:
                row = cursor.execute(sql).fetchone()
                newest, now = (row[0], row[1]) if row else (None, None)
                return newest, _earlier(now, self._as_of)

            return [check(self.gate.rules[uid], query) for uid in due]

    def _skips(self, results: list[FreshnessResult]) -> dict[str, str]:
        skips: dict[str, str] = {}
        for result in results:
            if not fails_gate(result.status, self.gate.level):
                continue
            reason = stale_reason(result)
            nodes = self.gate.downstream[result.rule.unique_id]
            self._log(f"freshness gate ({self.gate.level}): {reason}; skipping "
                      f"{len(nodes)} downstream node{'s' if len(nodes) != 1 else ''}")
            for uid in nodes:
                skips.setdefault(uid, f"skipped: {reason} (freshness gate: {self.gate.level})")
        return skips


def _earlier(now: Any, as_of: datetime | None) -> Any:
    """The warehouse's ``now``, or ``as_of`` when that is earlier (both compared in UTC)."""
    if as_of is None or not isinstance(now, datetime):
        return now
    now_utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    as_of_utc = as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)
    return as_of_utc if as_of_utc < now_utc else now
