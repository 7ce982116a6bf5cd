"""The unified DAG of dbt nodes and Python tasks."""

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import Node

__all__ = ["Graph", "Node"]
