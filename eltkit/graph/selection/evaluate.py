"""Evaluate a parsed selection over the unified DAG.

The set algebra is dbt's: every leaf yields nodes selected directly and tests
selected only indirectly; unions and intersections combine both; the final
difference removes ``--exclude``. Tests follow the nodes they test according
to the indirect-selection mode (eager by default, as in dbt).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eltkit.graph.dag import Graph
from eltkit.graph.selection.methods import MethodContext, search
from eltkit.graph.selection.spec import Criteria, IndirectSelection, Spec


@dataclass
class SelectionResult:
    """The selected unique ids and the warnings a person should see."""

    selected: set[str]
    warnings: list[str] = field(default_factory=list)


class Selector:
    """Selects nodes of one graph; reuse it for many expressions."""

    def __init__(self, graph: Graph, context: MethodContext) -> None:
        self.graph = graph
        self.context = context
        self._nodes = list(graph.nodes.values())
        self.tests_of = graph.test_children.__getitem__

    def select(self, spec: Spec) -> SelectionResult:
        warnings: list[str] = []
        direct, _ = self._select(spec, warnings)
        return SelectionResult(direct, warnings)

    def _select(self, spec: Spec, warnings: list[str]) -> tuple[set[str], set[str]]:
        if isinstance(spec, Criteria):
            return self._leaf(spec)
        bundles = [self._select(component, warnings) for component in spec.components]
        directs = [direct for direct, _ in bundles]
        indirects = [direct | indirect for direct, indirect in bundles]
        direct = _combine(spec.kind, directs)
        indirect = _combine(spec.kind, indirects)
        direct = self._incorporate(direct, indirect, spec.indirect_selection)
        if spec.expect_exists and not direct:
            warnings.append(
                f"the selection criterion {spec.raw!r} does not match any enabled nodes"
            )
        return direct, indirect

    def _leaf(self, spec: Criteria) -> tuple[set[str], set[str]]:
        collected = set(search(spec.method, spec.arguments, spec.value, self._nodes, self.context))
        selected = set(collected)
        if spec.childrens_parents:
            descendants = self.graph.downstream_of(collected) | collected
            selected |= self.graph.upstream_of(descendants) | descendants
        if spec.parents:
            selected |= self.graph.upstream_of(collected, spec.parents_depth)
        if spec.children:
            selected |= self.graph.downstream_of(collected, spec.children_depth)
        if spec.indirect_selection == IndirectSelection.EMPTY:
            return selected, set()
        return self._expand(selected, spec.indirect_selection)

    def _expand(
        self, selected: set[str], mode: IndirectSelection
    ) -> tuple[set[str], set[str]]:
        """Bring along tests of selected nodes, per the indirect-selection mode."""
        direct = set(selected)
        indirect: set[str] = set()
        if mode == IndirectSelection.EAGER:  # any selected parent brings a test along
            for uid in selected:
                direct.update(self.tests_of(uid))
            return direct, indirect
        buildable: set[str] = set()
        if mode == IndirectSelection.BUILDABLE:
            sources = {uid for uid, n in self.graph.nodes.items() if n.resource_type == "source"}
            buildable = selected | self.graph.upstream_of(selected) | sources
        nodes = self.graph.nodes
        for uid in selected:
            for child in self.tests_of(uid):
                parents = set(nodes[child].depends_on)
                buildable_now = mode == IndirectSelection.BUILDABLE and parents <= buildable
                if parents <= selected or buildable_now:
                    direct.add(child)
                else:
                    indirect.add(child)
        return direct, indirect

    def _incorporate(
        self, direct: set[str], indirect: set[str], mode: IndirectSelection
    ) -> set[str]:
        if direct == indirect or mode in (IndirectSelection.EAGER, IndirectSelection.EMPTY):
            return direct
        selected = set(direct)
        allowed = selected
        if mode == IndirectSelection.BUILDABLE:
            allowed = selected | self.graph.upstream_of(selected)
        nodes = self.graph.nodes
        for uid in indirect:
            node = nodes[uid]
            if node.resource_type == "test" and set(node.depends_on) <= allowed:
                selected.add(uid)
        return selected


def _combine(kind: str, sets: list[set[str]]) -> set[str]:
    if not sets:
        return set()
    if kind == "union":
        return set().union(*sets)
    if kind == "intersection":
        return set.intersection(*sets)
    return sets[0].difference(*sets[1:])
