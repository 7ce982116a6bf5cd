"""dbt's node selection grammar, parsed into a tree of set operations.

``a b`` is a union, ``a,b`` an intersection, ``--exclude`` a difference; each
leaf is ``[@][n+]method[.args]:value[+n]``. The grammar and its corner cases
follow dbt-core so an expression selects the same nodes in eltkit as in
``dbt ls``; eltkit is stricter only where dbt would silently select nothing
from a typo (``+a++``, ``tag:``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from eltkit.errors import SelectionError

_LEAF = re.compile(
    r"\A(?P<childrens_parents>@)?"
    r"(?P<parents>(?P<parents_depth>\d*)\+)?"
    r"(?:(?P<method>[\w.]+):)?(?P<value>.*?)"
    r"(?P<children>\+(?P<children_depth>\d*))?\Z"
)

#: Methods dbt knows, plus ``task`` for eltkit's Python tasks.
METHODS = frozenset(
    {
        "fqn", "tag", "group", "access", "source", "path", "file", "package", "config",
        "test_name", "test_type", "resource_type", "state", "exposure", "metric",
        "result", "source_status", "version", "semantic_model", "saved_query",
        "unit_test", "task",
    }
)


class IndirectSelection(StrEnum):
    """How tests come along with the nodes they test (dbt's --indirect-selection)."""

    EAGER = "eager"
    CAUTIOUS = "cautious"
    BUILDABLE = "buildable"
    EMPTY = "empty"


@dataclass(frozen=True)
class Criteria:
    """One leaf: a method, its value and the graph operators around it."""

    raw: str
    method: str
    arguments: tuple[str, ...]
    value: str
    childrens_parents: bool = False
    parents: bool = False
    parents_depth: int | None = None
    children: bool = False
    children_depth: int | None = None
    indirect_selection: IndirectSelection = IndirectSelection.EAGER


@dataclass(frozen=True)
class SetOperation:
    """A union, intersection or difference of sub-selections."""

    kind: str  # union | intersection | difference
    components: tuple[Spec, ...]
    raw: str = ""
    expect_exists: bool = False
    indirect_selection: IndirectSelection = IndirectSelection.EAGER
    warnings: list[str] = field(default_factory=list, compare=False, hash=False)


Spec = Criteria | SetOperation


def parse_criteria(
    raw: str, indirect: IndirectSelection = IndirectSelection.EAGER
) -> Criteria:
    """Parse one leaf such as ``2+tag:nightly+`` or ``@fct_orders``."""
    match = _LEAF.match(raw)
    if match is None:  # pragma: no cover - the pattern matches any string
        raise SelectionError(f"malformed selector {raw!r}")
    groups = match.groupdict()
    value = groups["value"]
    raw_method = groups["method"]
    if raw_method is None:
        method, arguments = _default_method(value), ()
    else:
        method, *rest = raw_method.split(".")
        arguments = tuple(rest)
        if method not in METHODS:
            raise SelectionError(
                f"unknown selector method {method!r} in {raw!r}; "
                f"methods are: {', '.join(sorted(METHODS))}"
            )
        if method == "config" and not arguments:
            raise SelectionError(
                f"malformed selector {raw!r}: config needs a key, as in config.materialized:table"
            )
    if not value:
        raise SelectionError(
            f"malformed selector {raw!r}: nothing to match; write a value after the "
            "method, as in tag:nightly"
        )
    if "+" in value or "@" in value:
        raise SelectionError(
            f"malformed selector {raw!r}: '+' and '@' may only prefix or suffix a "
            "selector once, as in +model, 2+model+3 or @model"
        )
    if groups["childrens_parents"] and groups["children"]:
        raise SelectionError(
            f'malformed selector {raw!r}: "@" prefix and "+" suffix are incompatible'
        )
    return Criteria(
        raw=raw,
        method=method,
        arguments=arguments,
        value=value,
        childrens_parents=bool(groups["childrens_parents"]),
        parents=bool(groups["parents"]),
        parents_depth=_depth(groups["parents_depth"]),
        children=bool(groups["children"]),
        children_depth=_depth(groups["children_depth"]),
        indirect_selection=indirect,
    )


def _default_method(value: str) -> str:
    if "/" in value or "\\" in value:
        return "path"
    if value.lower().endswith((".sql", ".py", ".csv")):
        return "file"
    return "fqn"


def _depth(raw: str | None) -> int | None:
    return int(raw) if raw else None


DEFAULT_INCLUDES = ("fqn:*", "source:*", "exposure:*", "metric:*", "semantic_model:*")


def parse_union(
    expressions: list[str],
    *,
    expect_exists: bool,
    indirect: IndirectSelection = IndirectSelection.EAGER,
) -> SetOperation:
    """``["a b", "c,d"]`` -> union(a, b, intersection(c, d)), as dbt reads --select."""
    components: list[Spec] = []
    for expression in expressions:
        for word in expression.split(" "):
            if not word:
                continue
            parts = word.split(",")
            if any(not part for part in parts):
                raise SelectionError(
                    f"malformed selector {word!r}: an empty part around ','; "
                    "write intersections as tag:a,tag:b"
                )
            components.append(
                SetOperation(
                    kind="intersection",
                    components=tuple(parse_criteria(part, indirect) for part in parts),
                    raw=word,
                    expect_exists=expect_exists,
                    indirect_selection=indirect,
                )
            )
    return SetOperation(
        kind="union", components=tuple(components), raw=" ".join(expressions),
        indirect_selection=indirect,
    )


def parse_selection(
    select: list[str] | None,
    exclude: list[str] | None = None,
    *,
    indirect: IndirectSelection = IndirectSelection.EAGER,
    default: Spec | None = None,
) -> SetOperation:
    """The whole ``--select ... --exclude ...`` of a command."""
    if select:
        included: Spec = parse_union(select, expect_exists=True, indirect=indirect)
    elif default is not None:
        included = default
    else:
        included = parse_union(list(DEFAULT_INCLUDES), expect_exists=False, indirect=indirect)
    excluded = parse_union(exclude or [], expect_exists=True, indirect=indirect)
    return SetOperation(kind="difference", components=(included, excluded), raw="")
