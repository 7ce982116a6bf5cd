"""What the lineage screen shows: a node's relatives across tasks and dbt, and its columns.

Node lineage is a walk of the unified DAG (Python tasks and dbt resources
alike); column lineage comes from :mod:`eltkit.lineage` (sqlglot over dbt's
compiled SQL). Both are called from thread workers and return plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eltkit.errors import EltkitError

if TYPE_CHECKING:
    from eltkit.graph.dag import Graph
    from eltkit.lineage import ModelLineage, TraceStep
    from eltkit.state.store import HistoryStore, RunRecord
    from eltkit.tui.data import Catalog


@dataclass(frozen=True)
class LineageRow:
    """A node upstream (distance < 0), the node itself (0) or downstream (> 0)."""

    unique_id: str
    name: str
    resource_type: str
    distance: int
    status: str | None  # in the run the screen was opened from; None: not in it


@dataclass(frozen=True)
class NodeLineageData:
    unique_id: str
    name: str
    resource_type: str
    run: RunRecord | None
    rows: list[LineageRow]
    dag_error: str | None = None

    @property
    def upstream(self) -> list[LineageRow]:
        return [row for row in self.rows if row.distance < 0]

    @property
    def downstream(self) -> list[LineageRow]:
        return [row for row in self.rows if row.distance > 0]


def distances(graph: Graph, unique_id: str) -> dict[str, int]:
    """Every ancestor (negative) and descendant (positive) by its shortest distance.

    Tests are left out: they check a node, nothing derives from them.
    """
    found = {unique_id: 0}
    for edges, sign in ((graph.parents, -1), (graph.children, 1)):
        frontier = [unique_id]
        step = 0
        while frontier:
            step += 1
            next_frontier = []
            for uid in frontier:
                for other in edges[uid]:
                    if other not in found and not graph.nodes[other].is_test:
                        found[other] = sign * step
                        next_frontier.append(other)
            frontier = next_frontier
    return found


def read_node_lineage(store: HistoryStore | None, catalog: Catalog, run_id: str | None,
                      unique_id: str) -> NodeLineageData:
    run = None
    statuses: dict[str, str] = {}
    if store is not None and run_id is not None:
        run = store.run(run_id)
        statuses = {row[1]: row[4] for row in store.node_tuples(run.id)}
    graph = catalog.graph()
    if graph is None or unique_id not in graph.nodes:
        name = unique_id.rsplit(".", 1)[-1]
        return NodeLineageData(unique_id, name, unique_id.split(".", 1)[0], run, [],
                               catalog.error or f"{unique_id} is no longer in the project's DAG")
    rows = []
    for uid, distance in distances(graph, unique_id).items():
        node = graph.nodes[uid]
        rows.append(LineageRow(uid, node.search_name, node.resource_type, distance,
                               statuses.get(uid)))
    # Upstream from the farthest, the node, then downstream: the order data flows in.
    rows.sort(key=lambda r: (r.distance, r.resource_type, r.name))
    node = graph.nodes[unique_id]
    return NodeLineageData(unique_id, node.search_name, node.resource_type, run, rows)


@dataclass(frozen=True)
class ColumnsData:
    """A model's columns, each traced upstream; or why there is no column lineage."""

    lineage: ModelLineage
    traces: dict[str, tuple[TraceStep, ...]] = field(default_factory=dict)
    #: unique id -> the name to show (``stg_orders``, ``jaffle.raw_orders``)
    names: dict[str, str] = field(default_factory=dict)
    dialect: str | None = None


def read_columns(catalog: Catalog, unique_id: str) -> ColumnsData:
    from eltkit.lineage import ModelLineage

    index = catalog.column_lineage()
    if index is None:
        return ColumnsData(ModelLineage(unique_id, reason=catalog.error or
                                        "no project: column lineage is not available"))
    try:
        lineage = index.model(unique_id)
        traces = {column.name: index.trace(unique_id, column.name)
                  for column in lineage.columns}
    except EltkitError as exc:
        return ColumnsData(ModelLineage(unique_id, reason=exc.message))
    names: dict[str, str] = {}
    stack = [step for steps in traces.values() for step in steps]
    refs = [ref for column in lineage.columns for ref in column.sources]
    seen: set[int] = set()
    while stack:  # steps are shared between columns: visit each once
        step = stack.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        refs.append(step.ref)
        stack.extend(step.upstream)
    for ref in refs:
        if ref.unique_id is not None and ref.unique_id in index.graph.nodes:
            names[ref.unique_id] = index.graph.nodes[ref.unique_id].search_name
    return ColumnsData(lineage, traces, names, index.dialect)
