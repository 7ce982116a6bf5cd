"""Load YAML while remembering the line of every key.

pydantic reports errors by location (``("jobs", "nightly", "schedule")``); a
person wants ``eltkit.yml:14``. Composing the YAML node tree once gives both
the plain data and a map from each location to its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Location = tuple[str | int, ...]


@dataclass
class LocatedYaml:
    """YAML data plus the 1-based line of each mapping key and sequence item."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """The line of the deepest known prefix of ``location``."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return None


def load_located_yaml(path: Path) -> LocatedYaml:
    """Parse ``path``; raise ``yaml.YAMLError`` (with its mark) when it is not YAML."""
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=_Loader)
    located = LocatedYaml(path=path, data=None)
    if root is None:
        located.data = {}
        return located
    located.lines[()] = root.start_mark.line + 1
    located.data = _convert(root, (), located.lines)
    return located


def _convert(node: yaml.Node, location: Location, lines: dict[Location, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, location, lines)
            child = (*location, key if isinstance(key, str | int) else str(key))
            lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, child, lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            child = (*location, index)
            lines[child] = item_node.start_mark.line + 1
            items.append(_convert(item_node, child, lines))
        return items
    # Scalars: let the safe constructor resolve ints, bools, nulls, floats.
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_object(node, deep=True)
    finally:
        constructor.dispose()
