"""Draw a selection of the DAG as text: layers in run order, or a tree.

Rich markup gives each resource type a colour; with NO_COLOR or a pipe the
same text prints plain.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from rich.tree import Tree

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import Node

STYLES = {
    "task": ("◆", "magenta"),
    "source": ("◇", "green"),
    "seed": ("▪", "cyan"),
    "model": ("●", "blue"),
    "snapshot": ("◉", "yellow"),
    "test": ("✓", "bright_black"),
    "unit_test": ("✓", "bright_black"),
    "exposure": ("▶", "red"),
}


def label(node: Node) -> Text:
    glyph, style = STYLES.get(node.resource_type, ("·", "white"))
    text = Text(f"{glyph} ", style=style)
    text.append(node.search_name, style=f"bold {style}")
    kind = node.materialized if node.resource_type == "model" else node.resource_type
    text.append(f"  {kind}", style="dim")
    return text


def layers_view(graph: Graph, selected: Iterable[str]) -> list[Text]:
    """One block a layer; each node lists its parents inside the selection."""
    members = set(selected)
    lines: list[Text] = []
    for index, layer in enumerate(graph.topological_layers(members)):
        lines.append(Text(f"layer {index}", style="bold underline"))
        for uid in layer:
            line = Text("  ") + label(graph.nodes[uid])
            parents = sorted(graph.nodes[p].search_name for p in graph.parents[uid] if p in members)
            if parents:
                line.append(f"  ← {', '.join(parents)}", style="dim")
            lines.append(line)
    return lines


def tree_view(graph: Graph, selected: Iterable[str], title: str) -> Tree:
    """Roots of the selection with their descendants; repeats are marked, not redrawn."""
    members = set(selected)
    tree = Tree(Text(title, style="bold"))
    drawn: set[str] = set()
    roots = sorted(uid for uid in members if not any(p in members for p in graph.parents[uid]))

    def grow(branch: Tree, uid: str) -> None:
        if uid in drawn:
            branch.add(label(graph.nodes[uid]) + Text("  (see above)", style="dim italic"))
            return
        drawn.add(uid)
        child_branch = branch.add(label(graph.nodes[uid]))
        for child in sorted(c for c in graph.children[uid] if c in members):
            grow(child_branch, child)

    for root in roots:
        grow(tree, root)
    return tree
