"""Build the unified DAG from a dbt manifest and the project's Python tasks.

The manifest is read as plain JSON (never through dbt's classes), so listing
and selecting never import dbt. A task that produces a source becomes that
source's parent, and so the ancestor of every node that reads the source.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eltkit.dbt.manifest import no_gc
from eltkit.errors import GraphError
from eltkit.graph.dag import Graph
from eltkit.graph.nodes import SOURCE, TASK, TEST, UNIT_TEST, Node
from eltkit.tasks import TaskSpec

#: Manifest sections that hold graph members, as dbt's linker reads them.
MANIFEST_SECTIONS = (
    "nodes",
    "sources",
    "exposures",
    "metrics",
    "semantic_models",
    "saved_queries",
    "unit_tests",
    "functions",
)
_NAMED_TYPES = ("model", "seed", "snapshot", TASK)


def build_graph(
    manifest: dict[str, Any],
    tasks: Iterable[TaskSpec] = (),
    *,
    project_root: Path | None = None,
    task_files: dict[str, str] | None = None,
) -> Graph:
    """Join the manifest's resources and the tasks into one checked DAG."""
    project_name = manifest.get("metadata", {}).get("project_name") or ""
    with no_gc():
        nodes = [node for section in MANIFEST_SECTIONS
                 for node in _section_nodes(manifest, section)]
    task_list = list(tasks)
    if task_list:
        nodes = _with_tasks(nodes, task_list, project_name, project_root, task_files or {})
    return Graph.from_nodes(project_name, nodes)


def _section_nodes(manifest: dict[str, Any], section: str) -> list[Node]:
    entries = manifest.get(section) or {}
    return [_node_from_manifest(entry) for entry in entries.values()]


def _node_from_manifest(entry: dict[str, Any]) -> Node:
    resource_type = entry["resource_type"]
    config = entry.get("config") or {}
    test_name = None
    test_kind = None
    if resource_type == TEST:
        metadata = entry.get("test_metadata")
        if metadata:
            test_name = metadata.get("name")
            test_kind = "generic"
        else:
            test_kind = "singular"
    elif resource_type == UNIT_TEST:
        test_kind = "unit"
    version = entry.get("version")
    latest = entry.get("latest_version")
    return Node(
        unique_id=entry["unique_id"],
        resource_type=resource_type,
        name=entry["name"],
        package_name=entry.get("package_name", ""),
        fqn=tuple(entry.get("fqn") or ()),
        original_file_path=entry.get("original_file_path") or "",
        depends_on=tuple((entry.get("depends_on") or {}).get("nodes") or ()),
        tags=tuple(entry.get("tags") or ()),
        config=config,
        patch_path=entry.get("patch_path"),
        source_name=entry.get("source_name"),
        test_name=test_name,
        test_kind=test_kind,
        version=None if version is None else str(version),
        latest_version=None if latest is None else str(latest),
        access=entry.get("access"),
        raw=entry,
    )


def _with_tasks(
    nodes: list[Node],
    tasks: list[TaskSpec],
    project_name: str,
    project_root: Path | None,
    task_files: dict[str, str],
) -> list[Node]:
    by_id = {node.unique_id: node for node in nodes}
    resolver = _Resolver(nodes, tasks)
    task_nodes = []
    for spec in tasks:
        where = task_files.get(spec.name, "")
        depends = tuple(resolver.resolve(ref, spec, where) for ref in spec.depends_on)
        path = _relative(where, project_root)
        module_parts = tuple(Path(path).with_suffix("").parts) if path else ("tasks",)
        task_nodes.append(
            Node(
                unique_id=spec.unique_id,
                resource_type=TASK,
                name=spec.name,
                package_name=project_name,
                fqn=(project_name, *module_parts, spec.name),
                original_file_path=path,
                depends_on=depends,
                tags=spec.tags,
                config={
                    "enabled": True,
                    "materialized": "task",
                    "tags": list(spec.tags),
                    "retries": spec.retries,
                    "timeout": spec.timeout,
                    "pool": spec.pool,
                    "priority": spec.priority,
                },
            )
        )
        for produced in spec.produces:
            source_id = resolver.resolve_source(produced, spec, where)
            source = by_id[source_id]
            source.depends_on = (*source.depends_on, spec.unique_id)
    return [*nodes, *task_nodes]


def _relative(path: str, root: Path | None) -> str:
    if not path:
        return ""
    if root is None:
        return path
    try:
        return Path(os.path.relpath(path, root)).as_posix()
    except ValueError:  # another drive on Windows
        return path


class _Resolver:
    """Turns the names a task author writes into unique ids of the graph."""

    def __init__(self, nodes: list[Node], tasks: list[TaskSpec]) -> None:
        self.ids = {node.unique_id for node in nodes} | {t.unique_id for t in tasks}
        self.sources: dict[tuple[str, str], str] = {}
        self.by_name: dict[str, list[str]] = {}
        for node in nodes:
            if node.resource_type == SOURCE and node.source_name is not None:
                self.sources[(node.source_name, node.name)] = node.unique_id
            elif node.resource_type in _NAMED_TYPES:
                self.by_name.setdefault(node.name, []).append(node.unique_id)
        for spec in tasks:
            self.by_name.setdefault(spec.name, []).append(spec.unique_id)

    def resolve_source(self, ref: str, spec: TaskSpec, where: str) -> str:
        name = ref.removeprefix("source:")
        parts = name.split(".")
        if len(parts) == 3:  # package.source.table
            parts = parts[1:]
        if len(parts) != 2:
            raise GraphError(
                f"{where or spec.name}: task {spec.name}: produces {ref!r}: write sources "
                "as 'source:SOURCE_NAME.TABLE_NAME'"
            )
        source_id = self.sources.get((parts[0], parts[1]))
        if source_id is None:
            raise GraphError(
                f"{where or spec.name}: task {spec.name} produces {ref!r}, but no dbt YAML "
                f"declares source {parts[0]!r} with table {parts[1]!r}; add it under "
                "sources: in a models/*.yml file or fix the name"
            )
        return source_id

    def resolve(self, ref: str, spec: TaskSpec, where: str) -> str:
        if ref in self.ids:
            return ref
        if ref.startswith("source:"):
            return self.resolve_source(ref, spec, where)
        name = ref.removeprefix("task:").removeprefix("ref:")
        if ref.startswith("task:"):
            candidates = [uid for uid in self.by_name.get(name, []) if uid.startswith("task.")]
        else:
            candidates = self.by_name.get(name, [])
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise GraphError(
                f"{where or spec.name}: task {spec.name} depends on {ref!r}, which names no "
                "model, seed, snapshot or task; use a node name, a unique id, "
                "'source:SRC.TABLE' or 'task:NAME'"
            )
        raise GraphError(
            f"{where or spec.name}: task {spec.name} depends on {ref!r}, which is ambiguous "
            f"({', '.join(sorted(candidates))}); use the unique id"
        )
