"""Graph queries on hand-made DAGs: relatives with depth, layers, critical path, cycles."""

from __future__ import annotations

import pytest

from eltkit.errors import GraphError
from eltkit.graph import Graph, Node


def node(uid: str, *parents: str, resource_type: str = "model") -> Node:
    return Node(unique_id=uid, resource_type=resource_type, name=uid, package_name="p",
                fqn=("p", uid), original_file_path=f"models/{uid}.sql", depends_on=parents)


@pytest.fixture
def diamond() -> Graph:
    #   a -> b -> d -> e
    #   a -> c -> d;  t tests d
    return Graph.from_nodes("p", [
        node("a"), node("b", "a"), node("c", "a"), node("d", "b", "c"), node("e", "d"),
        node("t", "d", resource_type="test"),
    ])


def test_relatives_with_depth(diamond: Graph) -> None:
    assert diamond.upstream_of({"d"}) == {"a", "b", "c"}
    assert diamond.upstream_of({"d"}, depth=1) == {"b", "c"}
    assert diamond.downstream_of({"a"}, depth=2) == {"b", "c", "d"}
    assert diamond.downstream_of({"b", "d"}) == {"d", "e", "t"}
    assert diamond.tests_of("d") == ["t"]


def test_layers_respect_every_parent(diamond: Graph) -> None:
    assert diamond.topological_layers() == [["a"], ["b", "c"], ["d"], ["e", "t"]]
    assert diamond.topological_layers({"a", "d", "e"}) == [["a", "d"], ["e"]]


def test_critical_path_follows_the_slowest_chain(diamond: Graph) -> None:
    durations = {"a": 1.0, "b": 5.0, "c": 1.0, "d": 2.0, "e": 1.0, "t": 0.5}
    path, length = diamond.critical_path(durations)
    assert path == ["a", "b", "d", "e"]
    assert length == pytest.approx(9.0)
    path, length = diamond.critical_path({"c": 10.0}, default_duration=1.0)
    assert path == ["a", "c", "d", "e"]
    assert length == pytest.approx(13.0)


def test_cycle_is_spelled_out() -> None:
    with pytest.raises(GraphError) as raised:
        Graph.from_nodes("p", [node("a", "c"), node("b", "a"), node("c", "b"), node("x")])
    message = str(raised.value)
    assert "dependency cycle: a -> b -> c -> a" in message


def test_edge_to_unknown_node_is_an_error() -> None:
    with pytest.raises(GraphError, match="depends on ghost, which is not in the project"):
        Graph.from_nodes("p", [node("a", "ghost")])
