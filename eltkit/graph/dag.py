"""Graph queries over the unified DAG: relatives, layers, critical path.

Parents and children are kept as adjacency lists keyed by unique id. The
traversals mirror dbt's own (``select_parents``/``select_children`` walk layer
by layer with an optional depth), because selection must give the same sets
as ``dbt ls``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from eltkit.errors import GraphError
from eltkit.graph.nodes import Node


@dataclass
class Graph:
    """Nodes by unique id with their parent and child edges."""

    project_name: str
    nodes: dict[str, Node]
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_nodes(cls, project_name: str, nodes: Iterable[Node]) -> Graph:
        """Link nodes by their ``depends_on``; an edge to an unknown node is an error."""
        by_id = {node.unique_id: node for node in nodes}
        parents: dict[str, list[str]] = {uid: [] for uid in by_id}
        children: dict[str, list[str]] = {uid: [] for uid in by_id}
        for uid, node in by_id.items():
            for parent in node.depends_on:
                if parent not in by_id:
                    raise GraphError(
                        f"{node.original_file_path or uid}: {uid} depends on {parent}, "
                        "which is not in the project (disabled or misspelled?)"
                    )
                parents[uid].append(parent)
                children[parent].append(uid)
        graph = cls(project_name, by_id, parents, children)
        graph.raise_on_cycle()
        return graph

    def __contains__(self, unique_id: object) -> bool:
        return unique_id in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, unique_id: str) -> Node:
        return self.nodes[unique_id]

    def parents_of(self, unique_id: str) -> list[str]:
        return self.parents[unique_id]

    def children_of(self, unique_id: str) -> list[str]:
        return self.children[unique_id]

    def upstream_of(self, selected: Iterable[str], depth: int | None = None) -> set[str]:
        """Ancestors of ``selected`` up to ``depth`` edges away (all when None)."""
        return self._walk(selected, self.parents, depth)

    def downstream_of(self, selected: Iterable[str], depth: int | None = None) -> set[str]:
        """Descendants of ``selected`` up to ``depth`` edges away (all when None)."""
        return self._walk(selected, self.children, depth)

    @staticmethod
    def _walk(
        selected: Iterable[str], edges: Mapping[str, list[str]], depth: int | None
    ) -> set[str]:
        found: set[str] = set()
        frontier = set(selected)
        level = 0
        while frontier and (depth is None or level < depth):
            next_frontier: set[str] = set()
            for uid in frontier:
                for other in edges[uid]:
                    if other not in found:
                        next_frontier.add(other)
            found.update(next_frontier)
            frontier = next_frontier
            level += 1
        return found

    def tests_of(self, unique_id: str) -> list[str]:
        """Data tests and unit tests that test this node."""
        return self.test_children[unique_id]

    @cached_property
    def test_children(self) -> dict[str, list[str]]:
        """Every node's tests, indexed once: selection asks for them on every node."""
        return {
            uid: [child for child in children if self.nodes[child].is_test]
            for uid, children in self.children.items()
        }

    def topological_layers(self, subset: Iterable[str] | None = None) -> list[list[str]]:
        """Nodes grouped so every node comes after all its parents in ``subset``."""
        members = set(self.nodes) if subset is None else set(subset)
        remaining = {
            uid: sum(1 for parent in self.parents[uid] if parent in members) for uid in members
        }
        layer = sorted(uid for uid, count in remaining.items() if count == 0)
        layers: list[list[str]] = []
        while layer:
            layers.append(layer)
            next_layer = []
            for uid in layer:
                for child in self.children[uid]:
                    if child in remaining:
                        remaining[child] -= 1
                        if remaining[child] == 0:
                            next_layer.append(child)
            layer = sorted(next_layer)
        return layers

    def critical_path(
        self, durations: Mapping[str, float], subset: Iterable[str] | None = None,
        default_duration: float = 1.0,
    ) -> tuple[list[str], float]:
        """The longest chain by duration through ``subset``, and its length in seconds.

        Nodes without a known duration count ``default_duration``: a new model
        is assumed to cost about as much as a typical one rather than nothing.
        """
        members = set(self.nodes) if subset is None else set(subset)
        finish: dict[str, float] = {}
        best_parent: dict[str, str | None] = {}
        for layer in self.topological_layers(members):
            for uid in layer:
                parent_finish = [(finish[p], p) for p in self.parents[uid] if p in members]
                start, parent = max(parent_finish, default=(0.0, None))
                finish[uid] = start + durations.get(uid, default_duration)
                best_parent[uid] = parent
        if not finish:
            return [], 0.0
        end = max(finish, key=lambda uid: finish[uid])
        path = [end]
        while (previous := best_parent[path[-1]]) is not None:
            path.append(previous)
        path.reverse()
        return path, finish[end]

    def raise_on_cycle(self) -> None:
        """Fail with the cycle spelled out, the way a person would trace it."""
        layered = sum(len(layer) for layer in self.topological_layers())
        if layered == len(self.nodes):
            return
        cycle = self._find_cycle()
        pretty = " -> ".join(cycle)
        first = self.nodes[cycle[0]]
        where = first.original_file_path or first.unique_id
        raise GraphError(
            f"{where}: dependency cycle: {pretty}; remove one of these dependencies "
            "(a task must not depend on a node that reads what the task produces)"
        )

    def _find_cycle(self) -> list[str]:
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self.nodes, white)
        for start in sorted(self.nodes):
            if colour[start] != white:
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = []
            while stack:
                uid, index = stack.pop()
                if index == 0:
                    colour[uid] = grey
                    path.append(uid)
                kids = self.children[uid]
                if index < len(kids):
                    stack.append((uid, index + 1))
                    child = kids[index]
                    if colour[child] == grey:
                        return [*path[path.index(child):], child]
                    if colour[child] == white:
                        stack.append((child, 0))
                else:
                    colour[uid] = black
                    path.pop()
        return []  # pragma: no cover - only called when a cycle exists
