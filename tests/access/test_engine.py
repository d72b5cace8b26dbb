"""Tests of linli.access.engine: the node-level bounded Dijkstra and its sparse result.

The compiled searches are checked against minutes worked out by hand on a tiny graph, against
networkx on the real Yuzhong walking network (directed: uphill and downhill differ), and
against scipy's csgraph.dijkstra on small random graphs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from scipy import sparse
from scipy.sparse import csgraph

from linli._errors import InputError
from linli.access import _kernel, engine
from linli.access.engine import WalkMatrix, minutes_within, nearest_node_labels
from linli.network.graph import Graph

# --- a graph small enough to work out by hand ------------------------------------------------
#
#   9 -> 0 <-> 1 -> 2 <-> 3 =(5 and 2)=> 4 -0-> 5 ---- 6
#        ^                  <----4----   <-1-   | \    |
#        |                                      |  1.5 |      10 (isolated)
#        +------------------10---------------- 8 ---- 7
#
# 0<->1: 2 min both ways; 1->2: 3 (one-way); 2<->3: 1; 3->4: two parallel edges, 5 and 2;
# 4->3: 4; 4->5: 0 (zero minutes) and 5->4: 1; square 5-6-7-8 with sides of 1 both ways and
# the diagonal 5<->7 of 1.5; 8->0: 10 (one-way); 9->0: 1 (nothing leads to 9); node 10 has
# no edge at all.  All weights are dyadic, so every sum is exact in floating point.
HAND_EDGES = [
    (0, 1, 2.0), (1, 0, 2.0), (1, 2, 3.0), (2, 3, 1.0), (3, 2, 1.0),
    (3, 4, 5.0), (3, 4, 2.0), (4, 3, 4.0), (4, 5, 0.0), (5, 4, 1.0),
    (5, 6, 1.0), (6, 5, 1.0), (6, 7, 1.0), (7, 6, 1.0), (7, 8, 1.0), (8, 7, 1.0),
    (8, 5, 1.0), (5, 8, 1.0), (5, 7, 1.5), (7, 5, 1.5), (8, 0, 10.0), (9, 0, 1.0),
]  # fmt: skip
HAND_N = 11

# Minutes from a source to every node it reaches, worked out by hand.
HAND_MINUTES: dict[int, dict[int, float]] = {
    0: {0: 0, 1: 2, 2: 5, 3: 6, 4: 8, 5: 8, 6: 9, 8: 9, 7: 9.5},
    2: {2: 0, 3: 1, 4: 3, 5: 3, 6: 4, 8: 4, 7: 4.5, 0: 14, 1: 16},
    4: {4: 0, 5: 0, 6: 1, 8: 1, 7: 1.5, 3: 4, 2: 5, 0: 11, 1: 13},
    5: {5: 0, 4: 1, 6: 1, 8: 1, 7: 1.5, 3: 5, 2: 6, 0: 11, 1: 13},
    7: {7: 0, 6: 1, 8: 1, 5: 1.5, 4: 2.5, 3: 6.5, 2: 7.5, 0: 11, 1: 13},
    9: {9: 0, 0: 1, 1: 3, 2: 6, 3: 7, 4: 9, 5: 9, 6: 10, 8: 10, 7: 10.5},
    10: {10: 0},
}


def hand_graph() -> Graph:
    u, v, w = zip(*HAND_EDGES, strict=True)
    return Graph.from_edges(u, v, w, n_nodes=HAND_N)


def within(minutes: dict[int, float], cutoff: float) -> dict[int, float]:
    return {node: float(m) for node, m in minutes.items() if m <= cutoff}


def row(m: WalkMatrix, i: int) -> dict[Any, float]:
    """Row ``i`` as {destination label: minutes}."""
    lo, hi = m.indptr[i], m.indptr[i + 1]
    labels = m.destination_labels.take(m.indices[lo:hi]).tolist()
    return dict(zip(labels, m.walk_min[lo:hi].tolist(), strict=True))


def pairs(m: WalkMatrix) -> dict[tuple[int, int], float]:
    """All stored pairs as {(row position, column position): minutes}."""
    return dict(
        zip(
            zip(m.origin_positions().tolist(), m.indices.tolist(), strict=True),
            m.walk_min.tolist(),
            strict=True,
        )
    )


def reference_digraph(u: Iterable[int], v: Iterable[int], w: Iterable[float], n: int) -> nx.DiGraph:
    """A networkx DiGraph keeping the shortest of parallel edges."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, c in zip(u, v, w, strict=True):
        if not g.has_edge(a, b) or g[a][b]["weight"] > c:
            g.add_edge(a, b, weight=c)
    return g


def scipy_matrix(u: Iterable[int], v: Iterable[int], w: Iterable[float], n: int) -> Any:
    """A csr_array of the shortest of parallel edges (explicit zeros are edges for csgraph)."""
    best: dict[tuple[int, int], float] = {}
    for a, b, c in zip(u, v, w, strict=True):
        best[a, b] = min(c, best.get((a, b), np.inf))
    rows = [a for a, _ in best]
    cols = [b for _, b in best]
    return sparse.csr_array((list(best.values()), (rows, cols)), shape=(n, n))


# --- exact minutes on the hand graph ---------------------------------------------------------


@pytest.mark.parametrize("source", sorted(HAND_MINUTES))
@pytest.mark.parametrize("cutoff", [0.0, 1.0, 1.5, 4.5, 8.0, 9.0, 9.5, 11.0, 100.0])
def test_minutes_from_one_source_match_the_hand_worked_values(source: int, cutoff: float) -> None:
    m = minutes_within(hand_graph(), [source], cutoff_min=cutoff)

    assert row(m, 0) == within(HAND_MINUTES[source], cutoff)
    assert m.cutoff_min == cutoff
    assert m.n_origins == 1
    assert m.n_destinations == HAND_N


def test_cutoff_is_inclusive() -> None:
    g = hand_graph()

    at = minutes_within(g, [0], cutoff_min=9.5)
    below = minutes_within(g, [0], cutoff_min=np.nextafter(9.5, 0.0))

    assert row(at, 0)[7] == 9.5
    assert 7 not in row(below, 0)


def test_many_sources_with_repeats_keep_their_order() -> None:
    sources = [5, 0, 9, 0, 10, 5]

    m = minutes_within(hand_graph(), sources, cutoff_min=9.0)

    assert m.origin_labels.tolist() == sources
    assert m.n_origins == len(sources)
    for i, s in enumerate(sources):
        assert row(m, i) == within(HAND_MINUTES[s], 9.0)


def test_destinations_are_columns_in_the_order_given() -> None:
    destinations = [7, 0, 3, 10, 7]

    m = minutes_within(hand_graph(), [9, 2, 10], cutoff_min=10.5, destinations=destinations)

    assert m.n_destinations == 5
    assert m.destination_labels.tolist() == destinations
    expected = {
        (i, j): float(HAND_MINUTES[s][d])
        for i, s in enumerate([9, 2, 10])
        for j, d in enumerate(destinations)
        if HAND_MINUTES[s].get(d, np.inf) <= 10.5
    }
    assert pairs(m) == expected
    # 9 reaches 7 (10.5), 0 (1), 3 (7); 2 reaches 7 (4.5), 3 (1) but not 0 (14); 10 only itself.
    assert sorted(expected) == [(0, 0), (0, 1), (0, 2), (0, 4), (1, 0), (1, 2), (1, 4), (2, 3)]


def test_destinations_give_the_same_minutes_as_all_nodes() -> None:
    g = hand_graph()
    sources = list(range(HAND_N))
    destinations = list(reversed(range(HAND_N)))

    every = minutes_within(g, sources, cutoff_min=20.0)
    chosen = minutes_within(g, sources, cutoff_min=20.0, destinations=destinations)

    assert {(i, destinations[j]): w for (i, j), w in pairs(chosen).items()} == pairs(every)


@pytest.mark.parametrize("empty", [[], np.array([], dtype=np.int64)], ids=["list", "int-array"])
def test_no_sources_give_an_empty_matrix(empty: Any) -> None:
    m = minutes_within(hand_graph(), empty, cutoff_min=5.0)

    assert (m.n_origins, m.n_pairs, m.n_destinations) == (0, 0, HAND_N)
    assert m.indptr.tolist() == [0]
    assert m.to_frame().empty
    assert list(m.to_frame().columns) == ["origin", "destination", "walk_min"]
    assert m.to_scipy().shape == (0, HAND_N)
    assert m.nearest().empty


def test_no_destinations_give_empty_rows() -> None:
    m = minutes_within(hand_graph(), [0, 5], cutoff_min=5.0, destinations=[])

    assert (m.n_origins, m.n_pairs, m.n_destinations) == (2, 0, 0)
    assert m.to_scipy().shape == (2, 0)
    assert m.nearest()["walk_min"].isna().all()


@pytest.mark.parametrize("threads", [1, 2])
def test_progress_reports_every_source_done(threads: int) -> None:
    # With a callback the calling thread's kernel pauses every 1 % of the sources (here every
    # source) to report; with two threads the helper may take them all, and the calling thread
    # reports only the start and the end.
    calls: list[tuple[int, int]] = []

    m = minutes_within(
        hand_graph(),
        list(range(HAND_N)) * 10,
        cutoff_min=5.0,
        threads=threads,
        progress=lambda d, t: calls.append((d, t)),
    )

    assert calls[0] == (0, 110)
    assert calls[-1] == (110, 110)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert threads > 1 or len(calls) > 10
    quiet = minutes_within(hand_graph(), list(range(HAND_N)) * 10, cutoff_min=5.0, threads=1)
    np.testing.assert_array_equal(m.indptr, quiet.indptr)
    assert pairs(m) == pairs(quiet)


# --- WalkMatrix views ------------------------------------------------------------------------


def test_to_frame_holds_labels_and_minutes() -> None:
    m = minutes_within(hand_graph(), [4, 10], cutoff_min=1.0, destinations=[5, 4, 6, 10])

    frame = m.to_frame()

    assert list(frame.columns) == ["origin", "destination", "walk_min"]
    got = sorted(zip(frame["origin"], frame["destination"], frame["walk_min"], strict=True))
    assert got == [(4, 4, 0.0), (4, 5, 0.0), (4, 6, 1.0), (10, 10, 0.0)]


def test_to_scipy_keeps_zero_minute_pairs_as_explicit_entries() -> None:
    m = minutes_within(hand_graph(), [4, 10, 1], cutoff_min=1.0, destinations=[5, 4, 6, 10, 0])

    a = m.to_scipy()

    assert a.shape == (3, 5)
    assert a.nnz == m.n_pairs == 4
    dense = np.full((3, 5), np.nan)
    coo = a.tocoo()
    dense[coo.row, coo.col] = coo.data
    # 4 -> 5 and 4 -> 4 at 0 minutes are stored; 1 -> 0 takes 2 minutes: beyond the cutoff.
    expected = np.array(
        [
            [0.0, 0.0, 1.0, np.nan, np.nan],
            [np.nan, np.nan, np.nan, 0.0, np.nan],
            [np.nan, np.nan, np.nan, np.nan, np.nan],
        ]
    )
    np.testing.assert_array_equal(dense, expected)
    assert m.indptr.tolist() == [0, 3, 4, 4]


def test_nearest_picks_the_closest_destination_per_origin() -> None:
    m = minutes_within(hand_graph(), [0, 9, 10, 5, 0], cutoff_min=9.5, destinations=[7, 3])

    near = m.nearest()

    assert near.index.tolist() == [0, 9, 10, 5, 0]
    assert near["destination"].tolist()[:2] == [3, 3]
    assert pd.isna(near["destination"].iloc[2])
    assert near["destination"].tolist()[3:] == [7, 3]
    np.testing.assert_array_equal(near["walk_min"].to_numpy(), [6.0, 7.0, np.nan, 1.5, 6.0])


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cutoff", "found"),
    [(-1.0, r"-1\.0"), (float("nan"), "nan"), (float("inf"), "inf")],
)
def test_minutes_within_refuses_a_bad_cutoff(cutoff: float, found: str) -> None:
    with pytest.raises(
        InputError, match=rf"cutoff_min: expected a finite number of minutes >= 0; found {found}"
    ):
        minutes_within(hand_graph(), [0], cutoff_min=cutoff)


@pytest.mark.parametrize(
    ("which", "values", "found"),
    [
        ("sources", [0, 11], r"found \[11\] \(1 out of range\)"),
        ("sources", [-1, 3, -2], r"found \[-1, -2\] \(2 out of range\)"),
        ("destinations", [0, 40], r"found \[40\] \(1 out of range\)"),
    ],
)
def test_minutes_within_refuses_node_indices_out_of_range(
    which: str, values: list[int], found: str
) -> None:
    kwargs: dict[str, Any] = {"sources": [0], which: values}
    with pytest.raises(InputError, match=rf"{which}: expected node indices in 0\.\.10; {found}"):
        minutes_within(hand_graph(), cutoff_min=5.0, **kwargs)


@pytest.mark.parametrize(
    "values",
    [[0.5], [0.0, 1.0], ["0"], [[0, 1]], [True, False]],
    ids=["fraction", "integral-floats", "strings", "2-d", "booleans"],
)
@pytest.mark.parametrize("which", ["sources", "destinations"])
def test_minutes_within_refuses_non_integer_node_indices(which: str, values: Any) -> None:
    kwargs: dict[str, Any] = {"sources": [0], which: values}
    with pytest.raises(InputError, match=rf"{which}: expected a 1-d array of integer node indices"):
        minutes_within(hand_graph(), cutoff_min=5.0, **kwargs)


# --- threads ---------------------------------------------------------------------------------


def random_graph(seed: int, n: int, m: int) -> Graph:
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    w = rng.uniform(0.0, 3.0, m)
    return Graph.from_edges(u, v, w, n_nodes=n)


@pytest.mark.parametrize("destinations", [None, "half"])
def test_threads_give_identical_results(destinations: str | None) -> None:
    g = random_graph(7, 2_000, 8_000)
    sources = np.random.default_rng(8).integers(0, 2_000, 500)
    dest = None if destinations is None else np.arange(0, 2_000, 2)[::-1]

    one = minutes_within(g, sources, cutoff_min=4.0, destinations=dest, threads=1)
    two = minutes_within(g, sources, cutoff_min=4.0, destinations=dest, threads=2)
    default = minutes_within(g, sources, cutoff_min=4.0, destinations=dest)

    assert one.n_pairs > 10 * len(sources)  # the searches do reach beyond their source
    for other in (two, default):
        np.testing.assert_array_equal(one.indptr, other.indptr)
        np.testing.assert_array_equal(one.indices, other.indices)
        np.testing.assert_array_equal(one.walk_min, other.walk_min)
    assert sorted(pairs(one).items()) == sorted(pairs(two).items())


# --- against networkx and scipy on the real Yuzhong network ----------------------------------


@pytest.fixture(scope="module")
def yuzhong_digraph(yuzhong_walk_network: Any) -> nx.DiGraph:
    net = yuzhong_walk_network
    return reference_digraph(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_walk_min.tolist(), net.n_nodes
    )


def test_yuzhong_network_is_directed_by_slope(yuzhong_walk_network: Any) -> None:
    net = yuzhong_walk_network
    both = np.isfinite(net.link_min_fwd) & np.isfinite(net.link_min_back)
    differ = both & (np.abs(net.link_min_fwd - net.link_min_back) > 1e-6)

    assert differ.sum() > 0.5 * both.sum()
    u, v, w = net.graph.edges()
    assert edge_counts(u, v, w) == edge_counts(net.edge_u, net.edge_v, net.edge_walk_min)


def edge_counts(u: Any, v: Any, w: Any) -> dict[tuple[int, int, float], int]:
    out: dict[tuple[int, int, float], int] = {}
    for key in zip(
        np.asarray(u).tolist(), np.asarray(v).tolist(), np.asarray(w).tolist(), strict=True
    ):
        out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize("cutoff", [10.0, 20.0])
def test_minutes_within_equals_networkx_on_yuzhong(
    yuzhong_walk_network: Any, yuzhong_digraph: nx.DiGraph, cutoff: float
) -> None:
    net = yuzhong_walk_network
    sources = np.random.default_rng(20260427).choice(net.n_nodes, size=200, replace=False)

    m = minutes_within(net.graph, sources, cutoff_min=cutoff, threads=2)

    worst = 0.0
    for i, s in enumerate(sources.tolist()):
        expected = nx.single_source_dijkstra_path_length(yuzhong_digraph, s, cutoff=cutoff)
        got = row(m, i)
        assert got.keys() == expected.keys(), f"source {s}: reached nodes differ"
        worst = max(worst, max(abs(got[k] - expected[k]) for k in expected))
    assert worst < 1e-9
    assert m.n_pairs > 20 * len(sources)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("with_destinations", [False, True], ids=["all-nodes", "destinations"])
def test_output_buffers_are_flushed_and_refilled(
    yuzhong_walk_network: Any,
    monkeypatch: pytest.MonkeyPatch,
    with_destinations: bool,
    threads: int,
) -> None:
    # 300 sources that each reach all 3,757 nodes: 1,127,100 pairs.  The first output buffer
    # is shrunk to 1,000 pairs (less than one source), so kernels stop for lack of room again
    # and again, and the next buffers (twice as large each time) take over mid-chunk.
    net = yuzhong_walk_network
    n = net.n_nodes
    monkeypatch.setattr(engine, "_OUT_SIZE", 1000)
    monkeypatch.setattr(engine, "_OUTPUTS", engine._OutputPool())
    sources = np.random.default_rng(3).choice(n, size=300, replace=False)
    dest = np.arange(n)[::-1] if with_destinations else None
    name = "within_block" if with_destinations else "within_block_nodes"
    real = getattr(_kernel, name)
    stops = []

    def counting(*args: Any) -> Any:
        result = real(*args)
        stops.append(result[3] == _kernel.OUT_FULL)
        return result

    monkeypatch.setattr(_kernel, name, counting)
    m = minutes_within(net.graph, sources, cutoff_min=1e6, destinations=dest, threads=threads)

    assert sum(stops) > 5
    assert np.diff(m.indptr).tolist() == [n] * len(sources)
    expected = csgraph.dijkstra(
        scipy_matrix(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_walk_min.tolist(), n),
        indices=sources,
    )
    got = np.full((len(sources), n), np.nan)
    columns = m.indices if dest is None else dest[m.indices]
    got[m.origin_positions(), columns] = m.walk_min
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_output_buffers_are_reused_and_results_stay_independent() -> None:
    # Buffers go back to a pool after each call: a later call must not overwrite the arrays
    # of an earlier result (they are copies), however the calls interleave.
    g = hand_graph()
    sources = np.tile(np.arange(HAND_N), 50)
    first = minutes_within(g, sources, cutoff_min=20.0, threads=2)
    kept = (first.indices.copy(), first.walk_min.copy())
    for cutoff in (0.0, 3.0, 20.0):
        minutes_within(g, sources[::-1], cutoff_min=cutoff, threads=2)
    np.testing.assert_array_equal(first.indices, kept[0])
    np.testing.assert_array_equal(first.walk_min, kept[1])


def test_concurrent_calls_give_the_same_results() -> None:
    # Calls from several user threads share the worker threads and the buffer pool.
    from concurrent.futures import ThreadPoolExecutor

    g = hand_graph()
    sources = np.tile(np.arange(HAND_N), 300)
    want = {c: minutes_within(g, sources, cutoff_min=c, threads=1) for c in (2.0, 6.0, 20.0)}
    with ThreadPoolExecutor(4) as users:
        futures = [
            (c, users.submit(minutes_within, g, sources, cutoff_min=c, threads=2))
            for _ in range(8)
            for c in want
        ]
        for c, fut in futures:
            got = fut.result()
            np.testing.assert_array_equal(got.indptr, want[c].indptr)
            np.testing.assert_array_equal(got.indices, want[c].indices)
            np.testing.assert_array_equal(got.walk_min, want[c].walk_min)


def test_threads_claim_every_source_exactly_once() -> None:
    # The kernels share sources through an atomic counter: two threads hammering it with
    # chunks of 3 must between them take each of 200,001 sources once.
    from concurrent.futures import ThreadPoolExecutor

    n, chunk = 200_001, 3
    counter = np.zeros(1, dtype=np.int64)
    seen = [np.zeros(n, dtype=np.int64) for _ in range(2)]
    _claim_all(np.zeros(1, dtype=np.int64), chunk, 10, np.zeros(10, dtype=np.int64))  # compile
    with ThreadPoolExecutor(2) as pool:
        for fut in [pool.submit(_claim_all, counter, chunk, n, mine) for mine in seen]:
            fut.result()

    np.testing.assert_array_equal(seen[0] + seen[1], np.ones(n, dtype=np.int64))
    assert counter[0] >= n


@njit(nogil=True)  # type: ignore[misc]
def _claim_all(counter: Any, chunk: int, n: int, seen: Any) -> None:
    while True:
        lo = _kernel.claim(counter, chunk)
        if lo >= n:
            return
        for s in range(lo, min(lo + chunk, n)):
            seen[s] += 1


def test_a_query_does_not_wait_for_busy_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both worker threads are held by other work: the calling thread must search (and copy)
    # everything itself instead of waiting for them.
    import threading

    monkeypatch.setattr(engine, "_PARALLEL_COPY", 1)  # the copy is shared out too
    g = random_graph(7, 2_000, 8_000)
    sources = np.random.default_rng(8).integers(0, 2_000, 300)
    want = minutes_within(g, sources, cutoff_min=4.0, threads=1)
    release = threading.Event()
    busy = [engine._executor(2).submit(release.wait, 60) for _ in range(2)]
    got: list[WalkMatrix] = []
    try:
        query = threading.Thread(
            target=lambda: got.append(minutes_within(g, sources, cutoff_min=4.0, threads=2))
        )
        query.start()
        query.join(timeout=30)
        assert not query.is_alive(), "the query waited for the busy workers"
    finally:
        release.set()
        for fut in busy:
            fut.result()
    np.testing.assert_array_equal(got[0].indptr, want.indptr)
    np.testing.assert_array_equal(got[0].indices, want.indices)
    np.testing.assert_array_equal(got[0].walk_min, want.walk_min)


def test_searches_that_outgrow_the_entry_pool_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bucket queue is label-correcting inside a bucket.  Here everything lies in the first
    # bucket (a quarter of the median edge, the bucket width, is 250 minutes) and the star's
    # arms are popped worst first, so each arm improves node t again and t's chain is queued
    # again: about k * L entries, far more than the pool of 2 * edges + 16 first allocated.
    k, chain = 60, 60
    t = k + 1
    arms = [(0, i, i / 64) for i in range(1, k + 1)] + [(i, t, 1 / 256) for i in range(1, k + 1)]
    links = [(t + j, t + j + 1, 1 / 1024) for j in range(chain)]
    base = t + chain + 1
    heavy = [(base + 2 * h, base + 2 * h + 1, 1000.0) for h in range(200)]
    u, v, w = zip(*(arms + links + heavy), strict=True)
    g = Graph.from_edges(u, v, w)
    expected = {0: 0.0, **{i: i / 64 for i in range(1, k + 1)}}
    expected.update({t + j: 1 / 64 + 1 / 256 + j / 1024 for j in range(chain + 1)})
    calls = []
    for name in ("within_block_nodes", "within_block"):
        real = getattr(_kernel, name)

        def counting(*args: Any, _real: Any = real) -> Any:
            calls.append(1)
            return _real(*args)

        monkeypatch.setattr(_kernel, name, counting)

    every = minutes_within(g, [0], cutoff_min=50.0, threads=1)
    retries_nodes = len(calls) - 1
    calls.clear()
    chosen = minutes_within(g, [0], cutoff_min=50.0, destinations=np.arange(g.n_nodes), threads=1)

    assert retries_nodes >= 1
    assert len(calls) >= 2
    assert row(every, 0) == expected
    assert row(chosen, 0) == expected


# --- properties on small random graphs -------------------------------------------------------

DYADIC = st.integers(0, 40).map(lambda k: k / 4)  # quarter minutes: every sum is exact
CUTOFFS = st.integers(0, 80).map(lambda k: k / 4)
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)

Edges = tuple[int, list[int], list[int], list[float]]


@st.composite
def edge_lists(draw: st.DrawFn, *, symmetric: bool = False, weights: Any = DYADIC) -> Edges:
    n = draw(st.integers(1, 9))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node, weights), max_size=4 * n))
    if symmetric:
        edges = edges + [(b, a, w) for a, b, w in edges]
    u = [a for a, _, _ in edges]
    v = [b for _, b, _ in edges]
    w = [c for _, _, c in edges]
    return n, u, v, w


def all_pairs(e: Edges, cutoff: float) -> dict[tuple[int, int], float]:
    n, u, v, w = e
    return pairs(
        minutes_within(
            Graph.from_edges(u, v, w, n_nodes=n), np.arange(n), cutoff_min=cutoff, threads=1
        )
    )


@PROPERTY
@given(edge_lists(), CUTOFFS)
def test_equals_scipy_dijkstra_with_limit(e: Edges, cutoff: float) -> None:
    n, u, v, w = e
    expected = csgraph.dijkstra(scipy_matrix(u, v, w, n), limit=cutoff)

    got = all_pairs(e, cutoff)

    reach = np.argwhere(np.isfinite(expected))
    assert got == {(int(a), int(b)): float(expected[a, b]) for a, b in reach}


@PROPERTY
@given(edge_lists(weights=st.floats(0.0, 10.0, allow_nan=False)), st.floats(0.0, 30.0))
def test_equals_scipy_dijkstra_with_arbitrary_minutes(e: Edges, cutoff: float) -> None:
    n, u, v, w = e
    expected = csgraph.dijkstra(scipy_matrix(u, v, w, n), limit=cutoff)

    got = all_pairs(e, cutoff)

    reach = {(int(a), int(b)) for a, b in np.argwhere(np.isfinite(expected))}
    assert got.keys() == reach
    for (a, b), minutes in got.items():
        assert minutes == pytest.approx(expected[a, b], rel=1e-12, abs=1e-12)


@PROPERTY
@given(edge_lists(), CUTOFFS, CUTOFFS)
def test_a_larger_cutoff_never_loses_a_pair(e: Edges, c1: float, c2: float) -> None:
    small, large = sorted((c1, c2))

    few = all_pairs(e, small)
    many = all_pairs(e, large)

    assert few.items() <= many.items()
    assert {k: m for k, m in many.items() if m <= small} == few


@PROPERTY
@given(edge_lists(), CUTOFFS)
def test_minutes_lie_between_zero_and_the_cutoff(e: Edges, cutoff: float) -> None:
    got = all_pairs(e, cutoff)

    assert all(0.0 <= m <= cutoff for m in got.values())
    assert all(got[i, i] == 0.0 for i in range(e[0]))


@PROPERTY
@given(edge_lists(symmetric=True), CUTOFFS)
def test_symmetric_streets_give_symmetric_minutes(e: Edges, cutoff: float) -> None:
    got = all_pairs(e, cutoff)

    assert all(got.get((b, a)) == m for (a, b), m in got.items())


@PROPERTY
@given(edge_lists(), CUTOFFS)
def test_triangle_inequality(e: Edges, cutoff: float) -> None:
    got = all_pairs(e, cutoff)
    n = e[0]

    for a in range(n):
        for b in range(n):
            if (a, b) not in got:
                continue
            for c in range(n):
                if (b, c) not in got:
                    continue
                via_b = got[a, b] + got[b, c]
                if via_b <= cutoff:
                    assert (a, c) in got
                if (a, c) in got:
                    assert got[a, c] <= via_b


@PROPERTY
@given(edge_lists(), CUTOFFS, st.data())
def test_destination_columns_equal_the_all_nodes_search(e: Edges, cutoff: float, data: Any) -> None:
    n, u, v, w = e
    dest = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    g = Graph.from_edges(u, v, w, n_nodes=n)

    chosen = minutes_within(
        g, np.arange(n), cutoff_min=cutoff, destinations=np.asarray(dest, dtype=np.int64), threads=1
    )

    every = all_pairs(e, cutoff)
    expected = {
        (a, j): every[a, d] for a in range(n) for j, d in enumerate(dest) if (a, d) in every
    }
    assert pairs(chosen) == expected


# --- nearest_node_labels ---------------------------------------------------------------------


def brute_force_nearest(
    g: nx.DiGraph, seed_node: list[int], seed_cost: list[float], seed_label: list[int]
) -> tuple[dict[int, float], dict[int, set[int]]]:
    """Per node, the minutes to its nearest seed and every label that attains them."""
    best: dict[int, float] = {}
    labels: dict[int, set[int]] = {}
    rev = g.reverse(copy=True)
    for node, cost, label in zip(seed_node, seed_cost, seed_label, strict=True):
        for x, d in nx.single_source_dijkstra_path_length(rev, node).items():
            total = d + cost
            if total < best.get(x, np.inf):
                best[x] = total
                labels[x] = {label}
            elif total == best[x]:
                labels[x].add(label)
    return best, labels


def check_nearest(
    g: Graph, seed_node: list[int], seed_cost: list[float], seed_label: list[int], cutoff: float
) -> None:
    u, v, w = g.edges()
    ref = reference_digraph(u.tolist(), v.tolist(), w.tolist(), g.n_nodes)
    best, labels = brute_force_nearest(ref, seed_node, seed_cost, seed_label)

    dist, label = nearest_node_labels(g, seed_node, seed_cost, seed_label, cutoff_min=cutoff)

    assert dist.shape == label.shape == (g.n_nodes,)
    for x in range(g.n_nodes):
        if x in best and best[x] <= cutoff:
            assert dist[x] == best[x], f"node {x}"
            assert label[x] in labels[x], f"node {x}"
        else:
            assert dist[x] == np.inf, f"node {x}"
            assert label[x] == -1, f"node {x}"


@pytest.mark.parametrize("cutoff", [np.inf, 6.0, 1.0, 0.0])
def test_nearest_node_labels_on_the_hand_graph(cutoff: float) -> None:
    # Seeds at 3 (label 30, 0 min), 7 (70, 0.5 min), 7 again (71, 2 min) and 0 (0, 1 min).
    check_nearest(hand_graph(), [3, 7, 7, 0], [0.0, 0.5, 2.0, 1.0], [30, 70, 71, 0], cutoff)


def test_nearest_node_labels_hand_worked_values() -> None:
    # Towards the seed at 3: nodes 0 (6 min), 1 (4), 2 (1), 9 (7: 9->0->1->2->3); towards
    # the seed at 7 (+0.5): 6 and 8 (1.5), 5 (2), 4 (2: 4->5 takes no time); 10 reaches none.
    dist, label = nearest_node_labels(hand_graph(), [3, 7], [0.0, 0.5], [30, 70])

    assert dist.tolist() == [6.0, 4.0, 1.0, 0.0, 2.0, 2.0, 1.5, 0.5, 1.5, 7.0, np.inf]
    assert label.tolist() == [30, 30, 30, 30, 70, 70, 70, 70, 70, 30, -1]


@PROPERTY
@given(edge_lists(), CUTOFFS, st.data())
def test_nearest_node_labels_equals_a_brute_force_search(
    e: Edges, cutoff: float, data: Any
) -> None:
    n, u, v, w = e
    k = data.draw(st.integers(1, 4))
    seed_node = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    seed_cost = data.draw(st.lists(DYADIC, min_size=k, max_size=k))
    seed_label = list(range(100, 100 + k))

    check_nearest(Graph.from_edges(u, v, w, n_nodes=n), seed_node, seed_cost, seed_label, cutoff)


def test_nearest_node_labels_on_yuzhong(
    yuzhong_walk_network: Any, yuzhong_digraph: nx.DiGraph
) -> None:
    net = yuzhong_walk_network
    rng = np.random.default_rng(11)
    seed_node = rng.choice(net.n_nodes, size=25, replace=False)
    seed_cost = rng.uniform(0.0, 2.0, 25)
    cutoff = 8.0

    dist, label = nearest_node_labels(
        net.graph, seed_node, seed_cost, np.arange(25), cutoff_min=cutoff
    )

    rev = yuzhong_digraph.reverse(copy=True)
    best = np.full(net.n_nodes, np.inf)
    for s, c in zip(seed_node.tolist(), seed_cost.tolist(), strict=True):
        for x, d in nx.single_source_dijkstra_path_length(rev, s, cutoff=cutoff - c).items():
            best[x] = min(best[x], d + c)
    reached = np.isfinite(best) & (best <= cutoff)
    np.testing.assert_array_equal(np.isfinite(dist), reached)
    np.testing.assert_allclose(dist[reached], best[reached], rtol=0, atol=1e-9)
    assert np.all(label[~reached] == -1)
    # The label's own seed gives the minutes found.
    for x in np.flatnonzero(reached)[:300].tolist():
        j = int(label[x])
        d = nx.shortest_path_length(yuzhong_digraph, x, int(seed_node[j]), weight="weight")
        assert d + seed_cost[j] == pytest.approx(dist[x], abs=1e-9)


# --- nearest_node_labels: bad input (a crash must not take the test run down) ---------------


def run_isolated(call: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        from linli._errors import InputError
        from linli.access.engine import nearest_node_labels
        from linli.network.graph import Graph

        g = Graph.from_edges([0, 1], [1, 0], [1.0, 1.0])
        try:
            {call}
        except InputError as exc:
            print("InputError:", exc)
        else:
            print("no error")
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ("nearest_node_labels(g, [5], [0.0], [7])", "seed_node"),
        ("nearest_node_labels(g, [0, 1], [0.0], [7])", "same length"),
    ],
    ids=["node-out-of-range", "lengths-differ"],
)
def test_nearest_node_labels_refuses_bad_seeds_without_crashing(call: str, match: str) -> None:
    proc = run_isolated(call)

    assert proc.returncode == 0, (
        f"the process died (return code {proc.returncode}): {proc.stderr[-800:]}"
    )
    assert proc.stdout.startswith("InputError:"), proc.stdout
    assert match in proc.stdout


@pytest.mark.parametrize(
    ("seed_node", "seed_cost", "match"),
    [([-1], [0.0], "seed_node"), ([0], [-3.0], "seed_cost"), ([0], [np.nan], "seed_cost")],
    ids=["negative-node", "negative-cost", "nan-cost"],
)
def test_nearest_node_labels_refuses_bad_seeds(
    seed_node: list[int], seed_cost: list[float], match: str
) -> None:
    g = Graph.from_edges([0, 1], [1, 0], [1.0, 1.0])

    with pytest.raises(InputError, match=match):
        nearest_node_labels(g, seed_node, seed_cost, [7])
