"""selectors.yml: named selections, parsed as dbt parses them.

A definition is a CLI-style string, a ``{method: value}`` shorthand, a full
``{method, value, parents, children, ...}`` mapping, or a ``union`` /
``intersection`` list that may carry one ``exclude`` entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from eltkit.errors import SelectionError
from eltkit.graph.selection.spec import (
    METHODS,
    Criteria,
    IndirectSelection,
    SetOperation,
    Spec,
    parse_criteria,
    parse_union,
)
from eltkit.yaml_lines import load_located_yaml

_CRITERIA_KEYS = {"method", "value", "parents", "parents_depth", "children", "children_depth",
                  "childrens_parents", "indirect_selection", "description"}


class SelectorsFile:
    """The selectors of a project, by name, with the default one if any."""

    def __init__(self, path: Path, definitions: dict[str, Any], default: str | None) -> None:
        self.path = path
        self._definitions = definitions
        self.default = default
        self._parsed: dict[str, Spec] = {}

    @classmethod
    def load(cls, path: Path) -> SelectorsFile | None:
        if not path.exists():
            return None
        try:
            located = load_located_yaml(path)
        except yaml.YAMLError as exc:
            raise SelectionError(f"{path}: not valid YAML: {exc}") from exc
        data = located.data or {}
        entries = data.get("selectors") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise SelectionError(f"{path}:1: expected a top-level 'selectors:' list")
        definitions: dict[str, Any] = {}
        default = None
        for index, entry in enumerate(entries):
            line = located.line_of(("selectors", index)) or 1
            if not isinstance(entry, dict) or "name" not in entry or "definition" not in entry:
                raise SelectionError(
                    f"{path}:{line}: each selector needs 'name' and 'definition'"
                )
            name = str(entry["name"])
            if name in definitions:
                raise SelectionError(f"{path}:{line}: selector {name!r} is defined twice")
            definitions[name] = entry["definition"]
            if entry.get("default") is True:
                if default is not None:
                    raise SelectionError(
                        f"{path}:{line}: selectors {default!r} and {name!r} are both default; "
                        "only one may be"
                    )
                default = name
        return cls(path, definitions, default)

    @property
    def names(self) -> list[str]:
        return list(self._definitions)

    def spec(self, name: str, _resolving: tuple[str, ...] = ()) -> Spec:
        if name not in self._definitions:
            known = ", ".join(self._definitions) or "none"
            raise SelectionError(
                f"{self.path}: no selector named {name!r}; selectors are: {known}"
            )
        if name in _resolving:
            raise SelectionError(
                f"{self.path}: selector {name!r} refers to itself through "
                f"{' -> '.join((*_resolving, name))}"
            )
        if name not in self._parsed:
            self._parsed[name] = self._parse(self._definitions[name], (*_resolving, name))
        return self._parsed[name]

    def _parse(self, definition: Any, resolving: tuple[str, ...]) -> Spec:
        if isinstance(definition, str):
            return parse_union([definition], expect_exists=False)
        if not isinstance(definition, dict):
            raise SelectionError(
                f"{self.path}: selector {resolving[-1]!r}: a definition must be a string or a "
                f"mapping, not {definition!r}"
            )
        for kind in ("union", "intersection"):
            if kind in definition:
                return self._set_operation(kind, definition[kind], resolving)
        return self._criteria(definition, resolving)

    def _set_operation(self, kind: str, items: Any, resolving: tuple[str, ...]) -> Spec:
        if not isinstance(items, list):
            raise SelectionError(
                f"{self.path}: selector {resolving[-1]!r}: {kind} takes a list"
            )
        includes: list[Spec] = []
        exclusion: Spec | None = None
        for item in items:
            if isinstance(item, dict) and "exclude" in item:
                if exclusion is not None:
                    raise SelectionError(
                        f"{self.path}: selector {resolving[-1]!r}: only one exclude per {kind}"
                    )
                excluded = item["exclude"]
                if not isinstance(excluded, list):
                    raise SelectionError(
                        f"{self.path}: selector {resolving[-1]!r}: exclude takes a list"
                    )
                parts = [self._parse(entry, resolving) for entry in excluded]
                exclusion = parts[0] if len(parts) == 1 else SetOperation("union", tuple(parts))
            else:
                includes.append(self._parse(item, resolving))
        combined: Spec = SetOperation(kind, tuple(includes))
        if exclusion is None:
            return combined
        return SetOperation("difference", (combined, exclusion))

    def _criteria(self, definition: dict[str, Any], resolving: tuple[str, ...]) -> Spec:
        if "method" not in definition:
            if len(definition) != 1:
                raise SelectionError(
                    f"{self.path}: selector {resolving[-1]!r}: expected 'method' and 'value', "
                    f"or a single 'METHOD: VALUE', got keys {sorted(definition)}"
                )
            ((method, value),) = definition.items()
            definition = {"method": method, "value": value}
        unknown = set(definition) - _CRITERIA_KEYS
        if unknown:
            raise SelectionError(
                f"{self.path}: selector {resolving[-1]!r}: unknown keys {sorted(unknown)}"
            )
        method = str(definition["method"])
        value = str(definition.get("value", ""))
        if method == "selector":
            return self.spec(value, resolving)
        base = parse_criteria(f"{method}:{value}")
        if base.method not in METHODS:  # pragma: no cover - parse_criteria checks
            raise SelectionError(f"unknown selector method {method!r}")
        indirect = definition.get("indirect_selection", "eager")
        try:
            mode = IndirectSelection(indirect)
        except ValueError as exc:
            raise SelectionError(
                f"{self.path}: selector {resolving[-1]!r}: indirect_selection must be one of "
                "eager, cautious, buildable, empty"
            ) from exc
        return Criteria(
            raw=f"{method}:{value}",
            method=base.method,
            arguments=base.arguments,
            value=base.value,
            childrens_parents=bool(definition.get("childrens_parents")),
            parents=bool(definition.get("parents")),
            parents_depth=_optional_int(definition.get("parents_depth")),
            children=bool(definition.get("children")),
            children_depth=_optional_int(definition.get("children_depth")),
            indirect_selection=mode,
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
