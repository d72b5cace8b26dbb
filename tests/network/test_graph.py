"""Tests of linli.network.graph: the CSR graph the accessibility engine searches."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli._errors import InputError
from linli.network.graph import Graph

# u, v, walk_min of a small graph with a parallel edge (0->1 twice), a self-loop (3->3), a
# zero-minute edge (2->0) and node 4 with no edge at all.
U = [2, 0, 1, 0, 3, 2]
V = [0, 1, 2, 1, 3, 3]
W = [0.0, 1.5, 2.0, 0.5, 7.0, 4.0]


def edge_multiset(u: object, v: object, w: object) -> Counter[tuple[int, int, float]]:
    return Counter(
        zip(
            np.asarray(u).tolist(),
            np.asarray(v).tolist(),
            np.asarray(w, dtype=float).tolist(),
            strict=True,
        )
    )


def out_edges(g: Graph, node: int) -> Counter[tuple[int, float]]:
    lo, hi = g.indptr[node], g.indptr[node + 1]
    return Counter(zip(g.adj[lo:hi].tolist(), g.walk_min[lo:hi].tolist(), strict=True))


def test_from_edges_groups_edges_by_tail_node() -> None:
    g = Graph.from_edges(U, V, W, n_nodes=5)

    assert g.n_nodes == 5
    assert g.n_edges == 6
    assert g.indptr.tolist() == [0, 2, 3, 5, 6, 6]
    assert out_edges(g, 0) == Counter({(1, 1.5): 1, (1, 0.5): 1})
    assert out_edges(g, 1) == Counter({(2, 2.0): 1})
    assert out_edges(g, 2) == Counter({(0, 0.0): 1, (3, 4.0): 1})
    assert out_edges(g, 3) == Counter({(3, 7.0): 1})
    assert out_edges(g, 4) == Counter()
    assert g.indptr.dtype == np.int64
    assert g.adj.dtype == np.int32
    assert g.walk_min.dtype == np.float64


def test_from_edges_counts_nodes_from_the_largest_index_by_default() -> None:
    g = Graph.from_edges(U, V, W)

    assert g.n_nodes == 4
    assert g.indptr.tolist() == [0, 2, 3, 5, 6]


def test_from_edges_with_no_edges() -> None:
    empty = Graph.from_edges([], [], [])
    isolated = Graph.from_edges([], [], [], n_nodes=3)

    assert (empty.n_nodes, empty.n_edges) == (0, 0)
    assert empty.indptr.tolist() == [0]
    assert (isolated.n_nodes, isolated.n_edges) == (3, 0)
    assert isolated.indptr.tolist() == [0, 0, 0, 0]
    assert isolated.reversed().n_nodes == 3


def test_edges_gives_back_the_input_edges() -> None:
    g = Graph.from_edges(U, V, W, n_nodes=5)

    u, v, w = g.edges()

    assert edge_multiset(u, v, w) == edge_multiset(U, V, W)
    assert u.dtype == v.dtype == np.int64


def test_edges_returns_copies() -> None:
    g = Graph.from_edges(U, V, W)

    _, _, w = g.edges()
    w[:] = 99.0

    assert 99.0 not in g.walk_min.tolist()


def test_reversed_turns_every_edge_around_and_keeps_isolated_nodes() -> None:
    g = Graph.from_edges(U, V, W, n_nodes=6)

    r = g.reversed()

    assert r.n_nodes == 6
    assert edge_multiset(*r.edges()) == edge_multiset(V, U, W)
    assert out_edges(r, 1) == Counter({(0, 1.5): 1, (0, 0.5): 1})
    assert out_edges(r, 3) == Counter({(3, 7.0): 1, (2, 4.0): 1})
    assert edge_multiset(*r.reversed().edges()) == edge_multiset(U, V, W)


def test_graph_is_immutable() -> None:
    g = Graph.from_edges(U, V, W)

    with pytest.raises(dataclasses.FrozenInstanceError):
        g.walk_min = np.zeros(6)  # type: ignore[misc]


# --- bad input -------------------------------------------------------------------------------


def test_from_edges_refuses_arrays_of_different_lengths() -> None:
    with pytest.raises(InputError, match=r"same length; found 3, 3 and 2"):
        Graph.from_edges([0, 1, 2], [1, 2, 0], [1.0, 1.0])


@pytest.mark.parametrize(
    ("u", "v", "n_nodes", "found"),
    [
        ([0, 1], [1, 3], 3, r"0\.\.2; found 0\.\.3"),
        ([0, -1], [1, 0], 3, r"0\.\.2; found -1\.\.1"),
        ([0, 5], [1, 0], None, None),  # default n_nodes covers every index: no error
    ],
)
def test_from_edges_checks_node_indices(
    u: list[int], v: list[int], n_nodes: int | None, found: str | None
) -> None:
    if found is None:
        assert Graph.from_edges(u, v, [1.0, 1.0], n_nodes=n_nodes).n_nodes == 6
        return
    with pytest.raises(InputError, match=rf"node indices must lie in {found}"):
        Graph.from_edges(u, v, [1.0, 1.0], n_nodes=n_nodes)


@pytest.mark.parametrize(
    ("weights", "found"),
    [
        ([1.0, -0.5, 2.0], r"found -0\.5 at edge 1 \(1 such edges\)"),
        ([np.nan, 1.0, np.nan], r"found nan at edge 0 \(2 such edges\)"),
        ([1.0, 2.0, np.inf], r"found inf at edge 2 \(1 such edges\)"),
    ],
)
def test_from_edges_refuses_negative_or_non_finite_minutes(
    weights: list[float], found: str
) -> None:
    with pytest.raises(InputError, match=rf"walk_min must be finite and >= 0; {found}"):
        Graph.from_edges([0, 1, 2], [1, 2, 0], weights)


@pytest.mark.parametrize("bad", [1.7, np.nan], ids=["fraction", "nan"])
def test_from_edges_refuses_non_integer_node_indices(bad: float) -> None:
    # A fractional index must not be truncated silently into another node.
    with pytest.raises(InputError, match=r"integer"):
        Graph.from_edges([0, bad], [1, 0], [1.0, 1.0])


def test_from_edges_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="walk_min"):
        Graph.from_edges([0], [1], [-1.0])


# --- properties ------------------------------------------------------------------------------


@st.composite
def edge_lists(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[float]]:
    n = draw(st.integers(1, 12))
    m = draw(st.integers(0, 40))
    node = st.integers(0, n - 1)
    u = draw(st.lists(node, min_size=m, max_size=m))
    v = draw(st.lists(node, min_size=m, max_size=m))
    w = draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=m, max_size=m))
    return n, u, v, w


@settings(max_examples=100, deadline=None, derandomize=True)
@given(edge_lists())
def test_csr_holds_exactly_the_edges_given(
    data: tuple[int, list[int], list[int], list[float]],
) -> None:
    n, u, v, w = data
    g = Graph.from_edges(u, v, w, n_nodes=n)

    assert g.n_nodes == n
    assert g.n_edges == len(u)
    assert g.indptr[0] == 0
    assert np.all(np.diff(g.indptr) >= 0)
    assert np.diff(g.indptr).tolist() == np.bincount(u, minlength=n).tolist()
    assert edge_multiset(*g.edges()) == edge_multiset(u, v, w)
    assert edge_multiset(*g.reversed().edges()) == edge_multiset(v, u, w)
