"""Walking minutes from many sources within a cutoff: the node-level engine.

The result is sparse: only pairs within the cutoff are stored (:class:`WalkMatrix`).  Searches
from different sources are independent, so blocks of sources run in parallel threads (the
compiled kernels release the GIL).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from linli._errors import InputError
from linli._progress import ProgressCallback, report
from linli.access import _kernel
from linli.network.graph import Graph

__all__ = ["WalkMatrix", "default_threads", "minutes_within", "nearest_node_labels"]

BlockResult = tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]


def default_threads() -> int:
    """Threads used by default: every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WalkMatrix:
    """Walking minutes from origins to destinations, only for pairs within ``cutoff_min``.

    Compressed sparse rows: origin ``i`` reaches destinations
    ``indices[indptr[i]:indptr[i+1]]`` in ``walk_min[indptr[i]:indptr[i+1]]`` minutes (in
    no particular order within a row).  A pair at 0 minutes (an
    origin standing on its destination) is stored like any other.

    Attributes
    ----------
    indptr : int64 array, length ``n_origins + 1``
    indices : int32 array
        Destination positions ``0..n_destinations-1``.
    walk_min : float64 array
        Walking minutes of each stored pair, ``<= cutoff_min``.
    cutoff_min : float
    n_destinations : int
    origin_labels, destination_labels : pandas.Index
        Labels of the rows and columns (e.g. the index of the origin GeoDataFrame).
    """

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    walk_min: NDArray[np.float64]
    cutoff_min: float
    n_destinations: int
    origin_labels: pd.Index
    destination_labels: pd.Index

    @property
    def n_origins(self) -> int:
        """Number of origins (rows)."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_pairs(self) -> int:
        """Number of stored (origin, destination) pairs."""
        return int(self.indices.shape[0])

    def origin_positions(self) -> NDArray[np.int64]:
        """Row position of each stored pair."""
        return np.repeat(np.arange(self.n_origins, dtype=np.int64), np.diff(self.indptr))

    def to_frame(self) -> pd.DataFrame:
        """The pairs as a DataFrame with columns ``origin``, ``destination``, ``walk_min``.

        ``origin`` and ``destination`` hold the labels, not positions.
        """
        return pd.DataFrame(
            {
                "origin": self.origin_labels.take(self.origin_positions()),
                "destination": self.destination_labels.take(self.indices),
                "walk_min": self.walk_min,
            }
        )

    def to_scipy(self) -> Any:
        """A ``scipy.sparse.csr_array`` (origins x destinations) of minutes.

        Pairs at 0 minutes are kept as explicit zeros: use the sparsity structure, not the
        values, to tell "reachable" from "not reachable".
        """
        from scipy import sparse

        return sparse.csr_array(
            (self.walk_min, self.indices, self.indptr),
            shape=(self.n_origins, self.n_destinations),
        )

    def nearest(self) -> pd.DataFrame:
        """Per origin, the nearest destination within the cutoff and its minutes.

        Origins with no destination within the cutoff get ``<NA>`` / ``NaN``.
        """
        rows = self.origin_positions()
        order = np.lexsort((self.walk_min, rows))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        pick = order[first]
        dest = np.full(self.n_origins, pd.NA, dtype=object)
        minutes = np.full(self.n_origins, np.nan)
        minutes[rows[pick]] = self.walk_min[pick]
        dest[rows[pick]] = np.asarray(self.destination_labels.take(self.indices[pick]))
        return pd.DataFrame(
            {"destination": dest, "walk_min": minutes}, index=self.origin_labels.copy()
        )


def _check_cutoff(cutoff_min: float) -> float:
    cutoff = float(cutoff_min)
    if not np.isfinite(cutoff) or cutoff < 0:
        raise InputError(
            f"cutoff_min: expected a finite number of minutes >= 0; found {cutoff_min!r}"
        )
    return cutoff


def _node_indices(values: ArrayLike, n_nodes: int, what: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InputError(
            f"{what}: expected a 1-d array of integer node indices; found {arr.dtype} {arr.shape}"
        )
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= n_nodes)
    if bad.any():
        raise InputError(
            f"{what}: expected node indices in 0..{n_nodes - 1}; found {arr[bad][:5].tolist()} "
            f"({int(bad.sum())} out of range)"
        )
    return arr


def run_blocks(
    kernel: Callable[[int, int, Any], BlockResult],
    n_sources: int,
    *,
    scratch: Callable[[], Any],
    threads: int | None,
    progress: ProgressCallback | None,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Run ``kernel(lo, hi, scratch)`` over blocks of sources in threads; stitch the CSR.

    ``scratch()`` returns the calling thread's working arrays (see :meth:`Scratch.cached`):
    kernels leave them clean, so a block costs only what its searches reach.
    """

    def work(lo: int, hi: int) -> BlockResult:
        return kernel(lo, hi, scratch())

    n_threads = default_threads() if threads is None else max(1, int(threads))
    # A few blocks per thread balance uneven searches and let progress move; not many more,
    # since each block costs a kernel call (~30 µs of argument checking).
    n_blocks = max(1, min(n_sources, n_threads * 8, max(n_threads, n_sources // 128)))
    bounds = np.linspace(0, n_sources, n_blocks + 1).astype(np.int64)
    spans = [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
    results: list[BlockResult] = []
    report(progress, 0, n_sources)
    if n_threads == 1 or len(spans) == 1:
        for lo, hi in spans:
            results.append(work(lo, hi))
            report(progress, hi, n_sources)
    else:
        pool = _executor(n_threads)
        futures = [pool.submit(work, lo, hi) for lo, hi in spans]
        for (_, hi), fut in zip(spans, futures, strict=True):
            results.append(fut.result())
            report(progress, hi, n_sources)
    indptr = np.zeros(n_sources + 1, dtype=np.int64)
    if results:
        np.cumsum(np.concatenate([r[0] for r in results]), out=indptr[1:])
        indices = np.concatenate([r[1] for r in results])
        minutes = np.concatenate([r[2] for r in results])
    else:
        indices = np.empty(0, dtype=np.int32)
        minutes = np.empty(0, dtype=np.float64)
    return indptr, indices, minutes


def minutes_within(
    graph: Graph,
    sources: ArrayLike,
    *,
    cutoff_min: float,
    destinations: ArrayLike | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> WalkMatrix:
    """Walking minutes from each source node to every destination node within a cutoff.

    Each source runs an exact shortest-path search (a bucket queue, see
    :mod:`linli.access._kernel`) that stops at ``cutoff_min``: the work grows with the nodes
    reached, not with the size of the graph.  Sources run in parallel threads.

    Parameters
    ----------
    graph : Graph
        Directed graph weighted in minutes.
    sources : array of int
        Source node indices (rows of the result, in this order; repeats allowed).
    cutoff_min : float
        Largest walking time kept, in minutes (inclusive).
    destinations : array of int, optional
        Destination node indices (columns, in this order).  Default: every node, column ``j``
        being node ``j``.
    threads : int, optional
        Worker threads; default: every available core.
    progress : callable, optional
        ``progress(done, total)`` in sources.

    Returns
    -------
    WalkMatrix
        Rows labelled by source node, columns by destination node.

    Examples
    --------
    >>> g = Graph.from_edges([0, 1, 1, 2], [1, 0, 2, 1], [2.0, 2.0, 3.0, 3.0])
    >>> m = minutes_within(g, [0], cutoff_min=4.0)
    >>> sorted(zip(m.indices.tolist(), m.walk_min.tolist()))
    [(0, 0.0), (1, 2.0)]
    """
    cutoff = _check_cutoff(cutoff_min)
    src = _node_indices(sources, graph.n_nodes, "sources")
    if destinations is None:
        n_dest = graph.n_nodes
        dest_labels: pd.Index = pd.RangeIndex(graph.n_nodes)

        def kernel(lo: int, hi: int, tmp: Scratch) -> BlockResult:
            return tmp.run_nodes(graph, src, cutoff, lo, hi)

        def scratch() -> Scratch:
            return Scratch.cached(graph, n_dest=None, cutoff=cutoff)

    else:
        dst = _node_indices(destinations, graph.n_nodes, "destinations")
        n_dest = int(dst.shape[0])
        dest_labels = pd.Index(dst)
        seeds = Seeds.at_nodes(src)
        targets = Targets.at_nodes(dst, graph.n_nodes)
        no_direct = Direct.none(int(src.shape[0]))

        def kernel(lo: int, hi: int, tmp: Scratch) -> BlockResult:
            return tmp.run_seeded(graph, seeds, targets, no_direct, cutoff, lo, hi)

        def scratch() -> Scratch:
            return Scratch.cached(graph, n_dest=n_dest, cutoff=cutoff)

    indptr, indices, minutes = run_blocks(
        kernel, int(src.shape[0]), scratch=scratch, threads=threads, progress=progress
    )
    return WalkMatrix(
        indptr=indptr,
        indices=indices,
        walk_min=minutes,
        cutoff_min=cutoff,
        n_destinations=n_dest,
        origin_labels=pd.Index(src),
        destination_labels=dest_labels,
    )


@dataclass(frozen=True)
class Seeds:
    """Where each source enters the graph: CSR by source of ``(node, minutes)``."""

    ptr: NDArray[np.int64]
    node: NDArray[np.int32]
    cost: NDArray[np.float64]

    @classmethod
    def at_nodes(cls, nodes: NDArray[np.int64]) -> Seeds:
        """One seed per source, at its node, at 0 minutes."""
        return cls(
            ptr=np.arange(nodes.shape[0] + 1, dtype=np.int64),
            node=nodes.astype(np.int32),
            cost=np.zeros(nodes.shape[0]),
        )

    @property
    def max_per_source(self) -> int:
        """Largest number of seeds of one source."""
        return int(np.diff(self.ptr).max(initial=0))


@dataclass(frozen=True)
class Targets:
    """Where each destination hangs off the graph: CSR by node of ``(destination, minutes)``."""

    ptr: NDArray[np.int64]
    dest: NDArray[np.int64]
    cost: NDArray[np.float64]
    n_dest: int

    @classmethod
    def from_attachments(
        cls,
        node: NDArray[np.int64],
        cost: NDArray[np.float64],
        dest: NDArray[np.int64],
        *,
        n_nodes: int,
        n_dest: int,
    ) -> Targets:
        """Group attachments ``dest`` reached from ``node`` after ``cost`` minutes by node."""
        order = np.argsort(node, kind="stable")
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=n_nodes), out=ptr[1:])
        return cls(ptr=ptr, dest=dest[order].astype(np.int64), cost=cost[order], n_dest=n_dest)

    @classmethod
    def at_nodes(cls, nodes: NDArray[np.int64], n_nodes: int) -> Targets:
        """Destination ``j`` is node ``nodes[j]`` itself."""
        n = int(nodes.shape[0])
        return cls.from_attachments(
            nodes, np.zeros(n), np.arange(n, dtype=np.int64), n_nodes=n_nodes, n_dest=n
        )


@dataclass(frozen=True)
class Direct:
    """Destinations a source reaches without entering the graph: CSR by source."""

    ptr: NDArray[np.int64]
    dest: NDArray[np.int64]
    cost: NDArray[np.float64]

    @classmethod
    def none(cls, n_sources: int) -> Direct:
        """No direct pairs."""
        return cls(
            ptr=np.zeros(n_sources + 1, dtype=np.int64),
            dest=np.empty(0, dtype=np.int64),
            cost=np.empty(0, dtype=np.float64),
        )


_EXECUTORS: dict[int, ThreadPoolExecutor] = {}
_EXECUTORS_LOCK = threading.Lock()
_LOCAL = threading.local()


def _executor(n_threads: int) -> ThreadPoolExecutor:
    """A long-lived pool of ``n_threads`` workers (their scratch arrays survive between calls)."""
    with _EXECUTORS_LOCK:
        pool = _EXECUTORS.get(n_threads)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="linli-search")
            _EXECUTORS[n_threads] = pool
        return pool


class Scratch:
    """One thread's working arrays for the search kernels, allocated once and kept clean.

    Holds the minutes per node, the touched-node list, the buckets (``cutoff / delta + 2``
    of them, ``delta`` being the graph's median edge minutes), the pool of queue entries
    (grown and retried if a search ever needs more) and output buffers holding at least
    two sources' worth of pairs, flushed whenever the kernel stops for lack of room.
    """

    def __init__(self, graph: Graph, *, n_dest: int | None, cutoff: float) -> None:
        n = graph.n_nodes
        self.dist = np.full(n, np.inf)
        self.touched = np.empty(n, dtype=np.uint32)
        delta = max(graph.bucket_width_min, cutoff / _MAX_BUCKETS, 1e-9)
        self.inv_delta = 1.0 / delta
        self.head = np.full(int(cutoff * self.inv_delta) + 2, -1, dtype=np.int64)
        self._grow_pool(2 * graph.n_edges + 16)
        bound = n if n_dest is None else max(n_dest, 1)
        # Per-destination scratch only for the seeded kernel (node queries write nodes).
        per_dest = 1 if n_dest is None else bound
        self.best = np.full(per_dest, np.inf)
        self.dtouched = np.empty(per_dest, dtype=np.int32)
        size = max(2 * bound, 1 << 18)
        self.out_dest = np.empty(size, dtype=np.uint32)
        self.out_min = np.empty(size, dtype=np.float64)

    @classmethod
    def cached(cls, graph: Graph, *, n_dest: int | None, cutoff: float) -> Scratch:
        """This thread's scratch for searches of this shape, made once and then reused.

        Scratch arrays depend only on sizes (nodes, edges, destinations, buckets), never on
        which graph they served, and every kernel leaves them clean; one set per thread is
        kept (the last shape used), so repeated queries skip allocation and page faults.
        """
        key = (graph.n_nodes, graph.n_edges, n_dest, float(cutoff), graph.bucket_width_min)
        held = getattr(_LOCAL, "scratch", None)
        if held is None or held[0] != key:
            held = (key, cls(graph, n_dest=n_dest, cutoff=cutoff))
            _LOCAL.scratch = held
        scratch: Scratch = held[1]
        return scratch

    def _grow_pool(self, size: int) -> None:
        self.nxt = np.empty(size, dtype=np.int64)
        self.enode = np.empty(size, dtype=np.uint32)

    def run(
        self,
        call: Callable[[int, int, NDArray[np.int64]], tuple[int, int, int]],
        lo: int,
        hi: int,
    ) -> BlockResult:
        """Call a kernel over ``lo..hi`` until every source is done, flushing the output."""
        counts = np.zeros(hi - lo, dtype=np.int64)
        dests: list[NDArray[np.int32]] = []
        mins: list[NDArray[np.float64]] = []
        s = lo
        while s < hi:
            s_next, n_out, status = call(s, hi, counts[s - lo :])
            dests.append(self.out_dest[:n_out].view(np.int32).copy())
            mins.append(self.out_min[:n_out].copy())
            if status == 1:
                self._grow_pool(2 * self.enode.shape[0])
            s = int(s_next)
        return counts, _concat(dests, np.int32), _concat(mins, np.float64)

    def run_nodes(
        self, graph: Graph, sources: NDArray[np.int64], cutoff: float, lo: int, hi: int
    ) -> BlockResult:
        """Run the node kernel (every node a destination) on sources ``lo..hi``."""
        return self.run(
            lambda a, b, counts: _kernel.within_block_nodes(
                *_unsigned(graph), graph.walk_min, sources, cutoff, self.inv_delta, a, b,
                self.dist, self.touched, self.head, self.nxt, self.enode,
                counts, self.out_dest, self.out_min,
            ),
            lo,
            hi,
        )  # fmt: skip

    def run_seeded(
        self,
        graph: Graph,
        seeds: Seeds,
        targets: Targets,
        direct: Direct,
        cutoff: float,
        lo: int,
        hi: int,
    ) -> BlockResult:
        """Run the seeded kernel (sources and destinations attached anywhere) on ``lo..hi``."""
        return self.run(
            lambda a, b, counts: _kernel.within_block(
                *_unsigned(graph), graph.walk_min,
                seeds.ptr, seeds.node.view(np.uint32), seeds.cost,
                targets.ptr, targets.dest, targets.cost,
                direct.ptr, direct.dest, direct.cost,
                cutoff, self.inv_delta, a, b,
                self.dist, self.touched, self.best, self.dtouched,
                self.head, self.nxt, self.enode,
                counts, self.out_dest, self.out_min,
            ),
            lo,
            hi,
        )  # fmt: skip


_MAX_BUCKETS = 1 << 16
"""Bucket width is at least cutoff / this, bounding the buckets a search scans."""


def _unsigned(graph: Graph) -> tuple[NDArray[np.uint64], NDArray[np.uint32]]:
    """The graph's index arrays viewed as unsigned (no copy): the kernels index with them."""
    return graph.indptr.view(np.uint64), graph.adj.view(np.uint32)


def _concat(parts: list[Any], dtype: Any) -> Any:
    if not parts:
        return np.empty(0, dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def nearest_node_labels(
    graph: Graph,
    seed_node: Sequence[int] | NDArray[np.int64],
    seed_cost: ArrayLike,
    seed_label: ArrayLike,
    *,
    cutoff_min: float = np.inf,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Minutes from every node to its nearest seed, and that seed's label, in one search.

    Seeds are destinations attached to nodes at a cost; the search runs on the reversed
    graph, so the minutes are *from* each node *to* the seed.  Nodes farther than
    ``cutoff_min`` get ``inf`` and label ``-1``.
    """
    cutoff = float(cutoff_min)
    if np.isnan(cutoff) or cutoff < 0:
        raise InputError(f"cutoff_min: expected minutes >= 0 (inf for none); found {cutoff_min!r}")
    nodes = _node_indices(np.asarray(seed_node).ravel(), graph.n_nodes, "seed_node")
    cost = np.asarray(seed_cost, dtype=np.float64).ravel()
    labels = np.asarray(seed_label).ravel()
    if not (nodes.shape == cost.shape == labels.shape):
        raise InputError(
            f"seeds: seed_node, seed_cost and seed_label must have the same length; found "
            f"{nodes.size}, {cost.size} and {labels.size}"
        )
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"seed_cost: expected finite minutes >= 0; found {float(cost[i])} at seed {i} "
            f"({int(bad.sum())} such seeds)"
        )
    rev = graph.reversed()
    dist, label = _kernel.labelled_multi_source(
        rev.indptr,
        rev.adj,
        rev.walk_min,
        nodes.astype(np.int32),
        cost,
        labels.astype(np.int64),
        cutoff,
    )
    return dist, label
