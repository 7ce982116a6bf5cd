"""When will an SLA's unfinished nodes be built? The remaining critical path, timed by history.

What still has to run is the SLA's unfinished nodes plus every ancestor
(model, seed, snapshot, task) that has not succeeded inside the window, or
sits below one that has not: rebuilding a parent means rebuilding what lies
between it and the SLA's nodes. Each node is timed by the median of its last
successful runs (``HistoryStore.typical_durations``). When a run building
those nodes is in progress, what it already finished costs nothing and a
running node costs what is left of its typical duration; otherwise the whole
remaining path is counted from now, as if a run started at this moment.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from statistics import median

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import BUILDABLE_TYPES, TASK, TEST_TYPES
from eltkit.state.slas import latest_successes, run_in_progress, sample_counts
from eltkit.state.store import FINISHED_NODE_STATUSES, HistoryStore

#: How many past runs a typical duration is the median of.
TYPICAL_RUNS = 7
#: Seconds counted for a node that never ran, when no other node has a duration either.
FALLBACK_DURATION_S = 1.0
_BUILT_TYPES = BUILDABLE_TYPES | {TASK}
_TIMED_TYPES = _BUILT_TYPES | TEST_TYPES


@dataclass(frozen=True)
class Prediction:
    """The predicted finish (Unix seconds) and what it rests on, for the reason text.

    ``last_node`` is the node that finishes last, named in the reason; when
    the path ends with the tests of a model still to build, it is that model
    and ``with_tests`` is set ("fct_orders and its tests will finish...").
    ``samples`` is how many past runs its duration is the median of.
    """

    finish: float
    last_node: str | None
    with_tests: bool
    samples: int
    run_id: str | None
    work: frozenset[str]


def work_left(graph: Graph, store: HistoryStore, remaining: Collection[str],
              window_start: float | None, now: float) -> set[str]:
    """``remaining`` plus the ancestors that must be rebuilt before them.

    Sources stay in the set (at no cost) when a task that loads them must
    run, so the chain task -> source -> staging model is timed as one path.
    """
    ancestors = {uid for uid in graph.upstream_of(remaining) if not graph.nodes[uid].is_test}
    built = {uid for uid in ancestors if graph.nodes[uid].resource_type in _BUILT_TYPES}
    done = latest_successes(store, built, until=now, after=window_start)
    must = set(remaining)
    for layer in graph.topological_layers(ancestors):
        for uid in layer:
            if (uid in built and uid not in done) or \
                    any(parent in must for parent in graph.parents_of(uid)):
                must.add(uid)
    return must


def predict_finish(graph: Graph, store: HistoryStore, remaining: Collection[str],
                   window_start: float | None, now: float) -> Prediction:
    """When the last of ``remaining`` should succeed, from ``now`` (Unix seconds)."""
    work = work_left(graph, store, remaining, window_start, now)
    typical = store.typical_durations(work, last=TYPICAL_RUNS)
    default = median(typical.values()) if typical else FALLBACK_DURATION_S
    run = run_in_progress(store, work)
    cost: dict[str, float] = {}
    for uid in work:
        if graph.nodes[uid].resource_type not in _TIMED_TYPES:
            cost[uid] = 0.0  # a source or exposure: nothing runs for it
            continue
        duration = typical.get(uid, default)
        in_run = run.nodes.get(uid) if run is not None else None
        if in_run is not None and in_run.status in FINISHED_NODE_STATUSES:
            duration = 0.0
        elif in_run is not None and in_run.status == "running":
            elapsed = max(0.0, now - (in_run.started_at if in_run.started_at else now))
            duration = max(0.0, duration - elapsed)
        cost[uid] = duration
    path, length = graph.critical_path(cost, subset=work, default_duration=default)
    last = next((uid for uid in reversed(path) if uid in remaining), path[-1] if path else None)
    with_tests = False
    if last is not None and graph.nodes[last].is_test:
        built = next((uid for uid in reversed(path) if not graph.nodes[uid].is_test), None)
        if built is not None and built in remaining:
            last, with_tests = built, True
    samples = sample_counts(store, [last], last=TYPICAL_RUNS).get(last, 0) if last else 0
    return Prediction(now + length, last, with_tests, samples, run.run_id if run else None,
                      frozenset(work))
