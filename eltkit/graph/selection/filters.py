"""``--resource-type`` / ``--exclude-resource-type``, applied after selection."""

from __future__ import annotations

from collections.abc import Sequence

from eltkit.errors import SelectionError
from eltkit.graph.dag import Graph
from eltkit.graph.selection.methods import RESOURCE_TYPES

#: What ``dbt ls`` lists when no --resource-type is given (plus eltkit's tasks).
DEFAULT_RESOURCE_TYPES = frozenset(
    {"model", "snapshot", "seed", "test", "source", "exposure", "metric", "saved_query",
     "semantic_model", "unit_test", "function", "task"}
)
ALL_RESOURCE_TYPES = DEFAULT_RESOURCE_TYPES | {"analysis"}


def filter_resource_types(
    graph: Graph,
    selected: set[str],
    resource_types: Sequence[str] | None,
    exclude_resource_types: Sequence[str] | None,
) -> set[str]:
    wanted = resolve_resource_types(resource_types, exclude_resource_types)
    return {uid for uid in selected if graph.nodes[uid].resource_type in wanted}


def resolve_resource_types(
    resource_types: Sequence[str] | None, exclude_resource_types: Sequence[str] | None
) -> set[str]:
    if not resource_types:
        wanted = set(DEFAULT_RESOURCE_TYPES)
    else:
        wanted = set()
        for name in resource_types:
            if name == "all":
                wanted |= ALL_RESOURCE_TYPES
            elif name == "default":
                wanted |= DEFAULT_RESOURCE_TYPES
            else:
                wanted.add(_checked(name))
    for name in exclude_resource_types or ():
        wanted.discard(_checked(name))
    return wanted


def _checked(name: str) -> str:
    if name not in RESOURCE_TYPES:
        raise SelectionError(
            f"unknown resource type {name!r}; choose from: {', '.join(sorted(RESOURCE_TYPES))}"
        )
    return name
