"""dbt's node selection grammar, implemented over the unified DAG."""

from eltkit.graph.selection.evaluate import SelectionResult, Selector
from eltkit.graph.selection.methods import MethodContext
from eltkit.graph.selection.selectors_file import SelectorsFile
from eltkit.graph.selection.spec import IndirectSelection, parse_selection
from eltkit.graph.selection.state import PreviousState

__all__ = [
    "IndirectSelection",
    "MethodContext",
    "PreviousState",
    "SelectionResult",
    "Selector",
    "SelectorsFile",
    "parse_selection",
]
