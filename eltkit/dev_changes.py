"""Which nodes a set of saved files affects, and why.

The comparison is between the manifest before and after dbt's partial parse,
not a guess from file names: a model whose SQL changed, a YAML file that adds a
test or changes a config, a seed CSV, a macro (every node that uses it, through
other macros too) all show up as new or modified nodes, with the same checks
dbt's ``state:modified`` makes. A Python task module maps to its tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import BUILDABLE_TYPES, TASK, TEST_TYPES
from eltkit.graph.selection.state import PreviousState

#: Files whose change means "reparse everything and rebuild the whole selection".
PROJECT_FILES = frozenset({"dbt_project.yml", "eltkit.yml", "profiles.yml", "packages.yml",
                           "selectors.yml", "dependencies.yml"})
RUNNABLE_TYPES = BUILDABLE_TYPES | TEST_TYPES | {TASK}


@dataclass
class Affected:
    """Nodes to rebuild, each with the reason a person is shown."""

    reasons: dict[str, str] = field(default_factory=dict)

    def add(self, unique_id: str, reason: str) -> None:
        self.reasons.setdefault(unique_id, reason)

    @property
    def unique_ids(self) -> set[str]:
        return set(self.reasons)


def changed_nodes(
    old_manifest: dict[str, Any], new_manifest: dict[str, Any], new_graph: Graph,
    changed_files: Iterable[str], task_files: dict[str, str],
) -> Affected:
    """Nodes new or modified between the two manifests, and tasks whose module changed."""
    files = {PurePosixPath(path).as_posix() for path in changed_files}
    state = PreviousState(old_manifest, new_manifest)
    is_new, is_modified = state.checker("new"), state.checker("modified")
    macro_users = _macro_users(new_manifest, files)
    affected = Affected()
    for uid, node in new_graph.nodes.items():
        if node.resource_type not in RUNNABLE_TYPES:
            continue
        if node.resource_type == TASK:
            module = task_files.get(node.name)
            if module in files:
                affected.add(uid, f"changed ({module})")
            continue
        if uid in macro_users:
            affected.add(uid, f"uses macro {macro_users[uid]}")
        elif is_new(node):
            affected.add(uid, "new")
        elif is_modified(node):
            path = node.original_file_path
            patch = node.patch_path.split("://", 1)[-1] if node.patch_path else None
            source = path if path in files else patch if patch in files else path
            affected.add(uid, f"changed ({source})")
    return affected


def _macro_users(manifest: dict[str, Any], files: set[str]) -> dict[str, str]:
    """Node -> name of a changed macro it uses, directly or through other macros."""
    macros: dict[str, Any] = manifest.get("macros") or {}
    changed = {uid for uid, macro in macros.items() if macro.get("original_file_path") in files}
    if not changed:
        return {}
    users: dict[str, str] = {}
    resolved: dict[str, str | None] = {}

    def changed_macro_behind(uid: str, seen: set[str]) -> str | None:
        if uid in resolved:
            return resolved[uid]
        if uid in seen:
            return None
        seen.add(uid)
        found = macros[uid]["name"] if uid in changed else None
        for dep in ((macros.get(uid) or {}).get("depends_on") or {}).get("macros") or []:
            if found is None and dep in macros:
                found = changed_macro_behind(dep, seen)
        resolved[uid] = found
        return found

    for section in ("nodes", "unit_tests"):
        for uid, entry in (manifest.get(section) or {}).items():
            for macro in (entry.get("depends_on") or {}).get("macros") or []:
                if macro in macros:
                    name = changed_macro_behind(macro, set())
                    if name is not None:
                        users[uid] = name
                        break
    return users


def with_downstream(affected: Affected, graph: Graph, *, downstream: bool,
                    within: set[str] | None) -> Affected:
    """Add what depends on the changed nodes (unless --no-downstream) and their tests."""
    result = Affected(dict(affected.reasons))
    if downstream:
        for uid in sorted(affected.unique_ids):
            name = graph.nodes[uid].name
            for child in sorted(graph.downstream_of({uid})):
                kind = graph.nodes[child].resource_type
                if kind in RUNNABLE_TYPES and kind not in TEST_TYPES:
                    result.add(child, f"downstream of {name}")
    for uid in sorted(result.unique_ids):
        for test in graph.tests_of(uid):
            result.add(test, f"tests {graph.nodes[uid].name}")
    if within is not None:
        result.reasons = {uid: why for uid, why in result.reasons.items() if uid in within}
    return result
