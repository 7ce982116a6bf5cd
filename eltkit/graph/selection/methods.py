"""Selector methods: which nodes a ``method:value`` matches.

Each method looks at the same kinds of node and compares the same way as its
dbt-core namesake (fnmatch wildcards, fqn prefix matching, ``path:`` globbed
against the project folder), because ``eltkit ls`` must agree with ``dbt ls``.
Python tasks take part wherever a dbt model would: by name, tag, path, file,
package, config, and through ``task:`` and ``resource_type:task``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from fnmatch import fnmatch
from fnmatch import translate as fnmatch_translate
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from eltkit.errors import SelectionError
from eltkit.graph.nodes import (
    EXPOSURE,
    SOURCE,
    TASK,
    TEST,
    UNIT_TEST,
    Node,
)
from eltkit.graph.selection.state import PreviousState

#: Resource types that live in the manifest's ``nodes`` section (plus tasks).
PARSED_TYPES = frozenset(
    {"model", "seed", "snapshot", "test", "analysis", "operation", "sql_operation", "rpc", TASK}
)
#: Every resource type resource_type: accepts (dbt's NodeType values, plus task).
RESOURCE_TYPES = frozenset(
    {
        "model", "analysis", "test", "snapshot", "operation", "seed", "rpc", "sql_operation",
        "doc", "source", "macro", "exposure", "metric", "group", "saved_query",
        "semantic_model", "unit_test", "fixture", "function", TASK,
    }
)
_WILDCARD_CHARS = ("*", "?", "[", "]")


class MethodContext:
    """What a method may need besides the nodes: the project root and old state."""

    def __init__(
        self, project_root: Path, project_name: str, state: PreviousState | None = None
    ) -> None:
        self.project_root = project_root
        self.project_name = project_name
        self.state = state


Method = Callable[[Iterable[Node], str, tuple[str, ...], MethodContext], Iterator[str]]


@lru_cache(maxsize=1024)
def matcher(pattern: str) -> Callable[[str], bool]:
    """fnmatch semantics, but a plain name compares with ``==``: most selectors have
    no wildcard, and fnmatch on every tag of 10,000 nodes costs tens of milliseconds."""
    if any(char in pattern for char in _WILDCARD_CHARS):
        compiled = re.compile(fnmatch_translate(pattern))
        return lambda value: compiled.match(value) is not None
    return pattern.__eq__


def search(
    method: str, arguments: tuple[str, ...], value: str, nodes: Iterable[Node],
    context: MethodContext,
) -> Iterator[str]:
    """Unique ids of ``nodes`` that ``method:value`` selects."""
    return _METHODS[method](nodes, value, arguments, context)


# -- fqn ----------------------------------------------------------------------------


def is_selected_node(fqn: tuple[str, ...], selector: str, is_versioned: bool) -> bool:
    """dbt's fqn match: leaf name, dotted prefix of the fqn, or a wildcard tail."""
    if is_versioned:
        flat_selector = selector.split(".")
        if len(fqn) >= 2 and fqn[-2] == selector:
            return True
        if "_".join(fqn[-2:]) == "_".join(flat_selector[-2:]):
            return True
    elif fqn and fqn[-1] == selector:
        return True
    flat_fqn = [item for segment in fqn for item in segment.split(".")]
    selector_parts = selector.split(".")
    if len(flat_fqn) < len(selector_parts):
        return False
    slurp_from: int | None = None
    for index, part in enumerate(selector_parts):
        if any(char in part for char in _WILDCARD_CHARS):
            slurp_from = index
            break
        if flat_fqn[index] != part:
            return False
    if slurp_from is None:
        return True
    if fnmatch(".".join(flat_fqn[slurp_from:]), ".".join(selector_parts[slurp_from:])):
        return True
    if "." not in selector and fqn:
        leaf = fqn[-2] if is_versioned and len(fqn) >= 2 else fqn[-1]
        return fnmatch(leaf, selector)
    return False


def _fqn(nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext) -> Iterator[str]:
    for node in nodes:
        if node.resource_type == SOURCE:
            continue
        versioned = node.is_versioned
        if is_selected_node(node.fqn, value, versioned) or is_selected_node(
            node.fqn[1:], value, versioned
        ):
            yield node.unique_id


# -- simple attribute methods ----------------------------------------------------------


def _tag(nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext) -> Iterator[str]:
    if not any(char in value for char in _WILDCARD_CHARS):
        for node in nodes:
            if value in node.tags:
                yield node.unique_id
        return
    match = matcher(value)
    for node in nodes:
        if any(match(tag) for tag in node.tags):
            yield node.unique_id


def _group(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    for node in nodes:
        if node.resource_type in PARSED_TYPES or node.resource_type == "metric":
            group = node.config.get("group")
            if group and fnmatch(group, value):
                yield node.unique_id


def _access(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    for node in nodes:
        if node.resource_type == "model" and node.access == value:
            yield node.unique_id


def _package(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], context: MethodContext
) -> Iterator[str]:
    if value == "this" and context.project_name:
        value = context.project_name
    match = matcher(value)
    for node in nodes:
        if match(node.package_name):
            yield node.unique_id


def _resource_type(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    if value not in RESOURCE_TYPES:
        raise SelectionError(
            f"invalid resource_type selector {value!r}; resource types are: "
            f"{', '.join(sorted(RESOURCE_TYPES))}"
        )
    for node in nodes:
        if node.resource_type == value:
            yield node.unique_id


def _task(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    for node in nodes:
        if node.resource_type == TASK and matcher(value)(node.name):
            yield node.unique_id


# -- named resources: source, exposure, metric, ... ----------------------------------------


def _source(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    parts = value.split(".")
    package = "*"
    if len(parts) == 1:
        source, table = parts[0], "*"
    elif len(parts) == 2:
        source, table = parts
    elif len(parts) == 3:
        package, source, table = parts
    else:
        raise SelectionError(
            f"invalid source selector value {value!r}; write source:SOURCE, "
            "source:SOURCE.TABLE or source:PACKAGE.SOURCE.TABLE"
        )
    package_match, source_match, table_match = matcher(package), matcher(source), matcher(table)
    for node in nodes:
        if (
            node.resource_type == SOURCE
            and package_match(node.package_name)
            and source_match(node.source_name or "")
            and table_match(node.name)
        ):
            yield node.unique_id


def _named(resource_type: str) -> Method:
    def search_named(
        nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
    ) -> Iterator[str]:
        parts = value.split(".")
        if len(parts) == 1:
            package, name = "*", parts[0]
        elif len(parts) == 2:
            package, name = parts
        else:
            raise SelectionError(
                f"invalid {resource_type} selector value {value!r}; write "
                f"{resource_type}:NAME or {resource_type}:PACKAGE.NAME"
            )
        for node in nodes:
            if (
                node.resource_type == resource_type
                and fnmatch(node.package_name, package)
                and fnmatch(node.name, name)
            ):
                yield node.unique_id

    return search_named


# -- files ---------------------------------------------------------------------------


def _path(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], context: MethodContext
) -> Iterator[str]:
    root = context.project_root
    try:
        paths = {PurePosixPath(p.relative_to(root).as_posix()) for p in root.glob(value)}
    except (ValueError, NotImplementedError) as exc:
        raise SelectionError(f"invalid path selector {value!r}: {exc}") from exc
    if not paths:
        return
    wanted = {str(path) for path in paths}
    for node in nodes:
        file_path = node.original_file_path
        if not file_path:
            continue
        patch = node.patch_path.split("://", 1)[-1] if node.patch_path else None
        if file_path in wanted or (patch is not None and patch in wanted) or any(
            parent in wanted for parent in _parents(file_path)
        ):
            yield node.unique_id


def _parents(path: str) -> Iterator[str]:
    """``a/b/c.sql`` -> ``a/b``, ``a``, ``.``: PurePosixPath.parents without the objects."""
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path
    yield "."


def _file(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    match = matcher(value)
    for node in nodes:
        name = node.original_file_path.rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
        if match(name) or match(stem):
            yield node.unique_id


# -- config and tests --------------------------------------------------------------------


def _config(
    nodes: Iterable[Node], value: str, arguments: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    case_insensitive = arguments == ("severity",)
    wanted_true = value.upper() == "TRUE"
    wanted_false = value.upper() == "FALSE"

    def equal(candidate: Any) -> bool:
        if isinstance(candidate, str):
            return candidate.upper() == value.upper() if case_insensitive else candidate == value
        return (wanted_true and candidate is True) or (wanted_false and candidate is False)

    for node in nodes:
        if node.resource_type not in PARSED_TYPES and node.resource_type != SOURCE:
            continue
        found, current = _descend(node.config, arguments)
        if not found:
            continue
        if isinstance(current, list):
            if any(equal(item) for item in current):
                yield node.unique_id
        elif equal(current):
            yield node.unique_id


def _descend(config: dict[str, Any], keys: tuple[str, ...]) -> tuple[bool, Any]:
    current: Any = config
    for key in keys:
        if isinstance(current, dict) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return False, None
    return True, current


def _test_name(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    for node in nodes:
        if node.resource_type == TEST and node.test_name is not None:
            if fnmatch(node.test_name, value):
                yield node.unique_id
        elif node.resource_type == UNIT_TEST and fnmatch(node.name, value):
            yield node.unique_id


_TEST_KINDS = {
    "generic": {"generic"},
    "schema": {"generic"},
    "data": {"generic", "singular"},
    "singular": {"singular"},
    "unit": {"unit"},
}


def _test_type(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    kinds = _TEST_KINDS.get(value)
    if kinds is None:
        raise SelectionError(
            f'invalid test_type selector {value!r}: expected "generic", "singular", '
            '"unit", or "data"'
        )
    for node in nodes:
        if node.test_kind in kinds:
            yield node.unique_id


def _version(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    if value not in ("latest", "prerelease", "old", "none"):
        raise SelectionError(
            f"invalid version selector {value!r}: expected latest, prerelease, old or none"
        )
    for node in nodes:
        if node.resource_type != "model":
            continue
        version, latest = node.version, node.latest_version
        if value == "none":
            matched = version is None
        elif version is None:
            matched = False
        elif value == "latest":
            matched = latest is None or version == latest
        elif latest is None:
            matched = False
        else:
            ordered = _version_key(version), _version_key(latest)
            matched = ordered[0] > ordered[1] if value == "prerelease" else ordered[0] < ordered[1]
        if matched:
            yield node.unique_id


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in version.split("."))


# -- state and results ------------------------------------------------------------------


def _state(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], context: MethodContext
) -> Iterator[str]:
    if context.state is None:
        raise SelectionError(
            f"state:{value} needs a comparison manifest; pass --state PATH "
            "(a folder holding manifest.json from an earlier run)"
        )
    check = context.state.checker(value)
    for node in nodes:
        if check(node):
            yield node.unique_id


def _result(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], context: MethodContext
) -> Iterator[str]:
    if context.state is None:
        raise SelectionError(
            f"result:{value} needs earlier results; pass --state PATH "
            "(a folder holding run_results.json)"
        )
    matches = context.state.results_with_status(value)
    for node in nodes:
        if node.unique_id in matches:
            yield node.unique_id


def _source_status(
    nodes: Iterable[Node], value: str, _: tuple[str, ...], __: MethodContext
) -> Iterator[str]:
    raise SelectionError(
        f"source_status:{value} is not supported by eltkit yet; use "
        "`eltkit freshness` or dbt for source_status selection"
    )


_METHODS: dict[str, Method] = {
    "fqn": _fqn,
    "tag": _tag,
    "group": _group,
    "access": _access,
    "source": _source,
    "path": _path,
    "file": _file,
    "package": _package,
    "config": _config,
    "test_name": _test_name,
    "test_type": _test_type,
    "resource_type": _resource_type,
    "state": _state,
    "exposure": _named(EXPOSURE),
    "metric": _named("metric"),
    "semantic_model": _named("semantic_model"),
    "saved_query": _named("saved_query"),
    "unit_test": _named(UNIT_TEST),
    "result": _result,
    "source_status": _source_status,
    "version": _version,
    "task": _task,
}
