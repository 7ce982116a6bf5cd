"""What a command runs, and in which order.

``run`` runs tasks and models, ``build`` adds seeds, snapshots and tests (each
test after what it tests, and before what depends on that), ``test`` runs tests
only. The plan keeps dependency edges between planned nodes even through
nodes that are not planned (a model reading a source that a task produces
waits for the task), as dbt's subset graph does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from eltkit.errors import EltkitError
from eltkit.graph.dag import Graph
from eltkit.graph.nodes import TASK, TEST_TYPES, Node

COMMAND_TYPES: dict[str, frozenset[str]] = {
    "run": frozenset({TASK, "model"}),
    "build": frozenset({TASK, "model", "seed", "snapshot", "test", "unit_test"}),
    "test": frozenset({"test", "unit_test"}),
    "seed": frozenset({"seed"}),
    "snapshot": frozenset({"snapshot"}),
}


@dataclass
class Plan:
    """Planned nodes and, for each, the planned nodes it waits for."""

    command: str
    graph: Graph
    nodes: list[str]
    parents: dict[str, set[str]] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)

    def node(self, unique_id: str) -> Node:
        return self.graph.nodes[unique_id]

    def is_task(self, unique_id: str) -> bool:
        return self.graph.nodes[unique_id].resource_type == TASK

    @cached_property
    def order(self) -> list[str]:
        """Planned nodes, every node after all the planned nodes it waits for."""
        waiting = {uid: len(ups) for uid, ups in self.parents.items()}
        ready = sorted(uid for uid, count in waiting.items() if count == 0)
        order: list[str] = []
        while ready:
            uid = ready.pop()
            order.append(uid)
            for child in sorted(self.children[uid], reverse=True):
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return order

    def descendants(self, unique_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        stack = list(unique_ids)
        while stack:
            for child in self.children[stack.pop()]:
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


def make_plan(graph: Graph, command: str, selected: Iterable[str]) -> Plan:
    if command not in COMMAND_TYPES:
        raise EltkitError(f"unknown command {command!r}")
    kinds = COMMAND_TYPES[command]
    planned = sorted(
        uid for uid in selected
        if graph.nodes[uid].resource_type in kinds and _executable(graph.nodes[uid])
    )
    members = set(planned)
    parents = {uid: _nearest_planned_ancestors(graph, uid, members) for uid in planned}
    if command == "build":
        _tests_before_dependents(graph, members, parents)
    children: dict[str, set[str]] = {uid: set() for uid in planned}
    for uid, ups in parents.items():
        for parent in ups:
            children[parent].add(uid)
    return Plan(command, graph, planned, parents, children)


def _executable(node: Node) -> bool:
    """Ephemeral models are compiled into their children, never run on their own."""
    return node.materialized != "ephemeral"


def _nearest_planned_ancestors(graph: Graph, uid: str, members: set[str]) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(graph.parents[uid])
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent in members:
            found.add(parent)
        else:
            stack.extend(graph.parents[parent])
    return found


def _tests_before_dependents(
    graph: Graph, members: set[str], parents: dict[str, set[str]]
) -> None:
    """Make each node wait for the tests of what it reads, as ``dbt build`` does.

    A test with several parents (relationships) gates a node only if the node
    is downstream of all of them, so a test never waits on its own subject.
    """
    upstream_cache: dict[str, set[str]] = {}

    def upstream(uid: str) -> set[str]:
        if uid not in upstream_cache:
            upstream_cache[uid] = graph.upstream_of({uid})
        return upstream_cache[uid]

    for uid in list(parents):
        node = graph.nodes[uid]
        if node.resource_type in TEST_TYPES:
            continue
        for parent in list(parents[uid]):
            for test_id in graph.tests_of(parent):
                if test_id not in members or test_id == uid:
                    continue
                test = graph.nodes[test_id]
                if len(test.depends_on) == 1 or set(test.depends_on) <= upstream(uid):
                    parents[uid].add(test_id)
