"""Walking minutes from many sources within a cutoff: the node-level engine.

The result is sparse: only pairs within the cutoff are stored (:class:`WalkMatrix`).  Searches
from different sources are independent, so they run in parallel threads (the compiled
kernels release the GIL).

Where the time goes, measured on Yuzhong (3,757 nodes, 1,000 sources, 20 minutes, one
thread): the searches ~90 %, copying the pairs into the result ~5 %, the rest ~5 %.  A query
of a few milliseconds cannot afford many trips through Python, hence: threads that live
between calls and keep their scratch arrays (:class:`Scratch`); one kernel call per thread,
the threads taking sources from a shared counter inside the compiled code (they finish
together even when the system holds one back); kernels that write straight into output
buffers lent from a pool (memory already mapped) and a single copy, in parallel, into the
result arrays.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    kernel: Callable[[int, int, Any], None],
    n_sources: int,
    *,
    scratch: Callable[[], Any],
    threads: int | None,
    progress: ProgressCallback | None,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """Search sources ``0..n_sources-1`` in threads; assemble the pairs as CSR.

    Every thread (the caller's and ``threads - 1`` pool workers) calls
    ``kernel(0, n_sources, scratch())`` once: a :class:`Scratch` method such as
    :meth:`Scratch.run_nodes`, which takes sources from the query's shared counter until
    none is left.  ``scratch()`` returns the calling thread's working arrays (see
    :meth:`Scratch.cached`): kernels leave them clean, so a query costs only what its searches
    reach.  Kernels write their pairs into output buffers lent for the call (see
    :class:`_OutputPool`); the pairs are copied once, in parallel, into the result arrays.
    """
    n_threads = default_threads() if threads is None else max(1, int(threads))
    n_threads = max(1, min(n_threads, n_sources))
    call = _Call(n_sources, n_threads, progress)

    def work() -> None:
        tmp: Scratch = scratch()
        tmp.lend(call)
        kernel(0, n_sources, tmp)

    report(progress, 0, n_sources)
    pool = None if n_threads == 1 else _executor(n_threads)
    try:
        helpers = [] if pool is None else [pool.submit(work) for _ in range(n_threads - 1)]
        work()
        for fut in helpers:
            # A helper that has not started (its worker busy with another query) is not
            # needed any more: the caller has taken every source.
            if not fut.cancel():
                call.wait(fut)
        indptr = np.zeros(n_sources + 1, dtype=np.int64)
        np.cumsum(call.rows[:, _kernel.ROW_COUNT], out=indptr[1:])
        indices, minutes = _assemble(call, indptr, pool, n_threads)
    finally:
        call.done = True
    report(progress, n_sources, n_sources)
    # Only now is every thread done with its buffers (after an error some may still be
    # writing: those buffers are left to the garbage collector instead).
    _OUTPUTS.give_back(call.outputs)
    return indptr, indices, minutes


def _assemble(
    call: _Call, indptr: NDArray[np.int64], pool: ThreadPoolExecutor | None, n_threads: int
) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """Gather every source's pairs, in source order, into new ``(indices, minutes)`` arrays.

    Large results are copied by all threads at once, each the rows of a contiguous part of
    the output.
    """
    n_sources = indptr.shape[0] - 1
    total = int(indptr[-1])
    indices, minutes = _empty_pairs(total)
    parts = 1 if pool is None or total < _PARALLEL_COPY else n_threads
    cuts = np.searchsorted(indptr, [total * k // parts for k in range(1, parts)])
    bounds = [0, *(min(int(c), n_sources) for c in cuts), n_sources]

    def copy(lo: int, hi: int) -> None:
        for k, out in enumerate(call.outputs):
            _kernel.gather_rows(
                call.rows, indptr, lo, hi, k, out.dest, out.minutes, indices, minutes
            )

    if parts == 1 or pool is None:
        copy(0, n_sources)
    else:
        futures = [pool.submit(copy, bounds[k], bounds[k + 1]) for k in range(1, parts)]
        copy(bounds[0], bounds[1])
        for k, fut in enumerate(futures, start=1):
            if fut.cancel():  # its worker is busy elsewhere: copy that part here
                copy(bounds[k], bounds[k + 1])
            else:
                fut.result()
    return indices, minutes


def _empty_pairs(n_pairs: int) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
    """New ``(int32, float64)`` arrays of ``n_pairs``.

    Plain ``np.empty``: memory the allocator has just taken back from a dropped result is
    handed out again without page faults.  Measured on Yuzhong with the previous result still
    alive (as in a loop of queries), this was 2-3x faster than fresh mappings in transparent
    huge pages for results of 1-4 MB, and faster still for larger ones (numpy asks for huge
    pages itself from 4 MiB on).
    """
    return np.empty(n_pairs, dtype=np.int32), np.empty(n_pairs, dtype=np.float64)


_PARALLEL_COPY = 1 << 18
"""Results with at least this many pairs are copied by all threads (smaller ones take less
than a helper thread needs to wake up: ~0.1 ms for 100,000 pairs)."""


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

        def kernel(lo: int, hi: int, tmp: Scratch) -> None:
            tmp.run_nodes(graph, src, cutoff, lo, hi)

        def scratch() -> Scratch:
            return Scratch.cached(graph, n_dest=None, cutoff=cutoff)

    else:
        dst = _node_indices(destinations, graph.n_nodes, "destinations")
        n_dest = int(dst.shape[0])
        dest_labels = pd.Index(dst)
        seeds = Seeds.at_nodes(src)
        targets = Targets.at_nodes(dst, graph.n_nodes)
        no_direct = Direct.none(int(src.shape[0]))

        def kernel(lo: int, hi: int, tmp: Scratch) -> None:
            tmp.run_seeded(graph, seeds, targets, no_direct, cutoff, lo, hi)

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


class _Output:
    """An output buffer: room for ``size`` pairs, the first ``used`` of them taken."""

    __slots__ = ("dest", "minutes", "used")

    def __init__(self, size: int) -> None:
        dest, self.minutes = _empty_pairs(size)
        self.dest = dest.view(np.uint32)
        self.used = 0

    @property
    def size(self) -> int:
        return int(self.dest.shape[0])


class _Call:
    """One :func:`run_blocks` call: what its threads share.

    The counter of sources claimed so far, the per-source ``rows`` (count, start, buffer id;
    see :mod:`linli.access._kernel`), the output buffers lent to the call (buffer id =
    position in :attr:`outputs`; given back at the end) and the progress callback, which only
    the calling thread invokes.
    """

    def __init__(
        self, n_sources: int, n_threads: int, progress: ProgressCallback | None = None
    ) -> None:
        self.n_sources = n_sources
        self.counter = np.zeros(1, dtype=np.int64)
        self.rows = np.zeros((n_sources, 3), dtype=np.int64)
        self.chunk = max(1, min(_MAX_CHUNK, n_sources // (_CHUNKS_PER_THREAD * n_threads)))
        self.outputs: list[_Output] = []
        self.progress = progress
        self.caller = threading.get_ident()
        self.done = False
        self._lock = threading.Lock()

    def add_output(self, out: _Output) -> int:
        """Lend ``out`` to this call; returns its buffer id."""
        with self._lock:
            self.outputs.append(out)
            return len(self.outputs) - 1

    def report_progress(self) -> None:
        """Report the sources taken so far (the end is reported by :func:`run_blocks`)."""
        taken = min(int(self.counter[0]), self.n_sources - 1)
        report(self.progress, max(taken, 0), self.n_sources)

    def wait(self, helper: Future[None]) -> None:
        """Wait for a helper thread to finish, reporting progress meanwhile if asked to."""
        while True:
            try:
                return helper.result(timeout=None if self.progress is None else _REPORT_EVERY_S)
            except TimeoutError:
                self.report_progress()

    def budget(self) -> int:
        """Sources a kernel call searches before pausing (for progress reports)."""
        if self.progress is None or self.caller != threading.get_ident():
            return self.n_sources
        return max(1, self.n_sources // _PROGRESS_STEPS)


_MAX_CHUNK = 8
"""Most sources a thread claims at a time."""
_CHUNKS_PER_THREAD = 64
"""Sources are claimed in chunks small enough for this many per thread (at least one)."""
_PROGRESS_STEPS = 100
"""With a progress callback, the calling thread reports about this many times."""
_REPORT_EVERY_S = 0.2
"""Seconds between progress reports while the calling thread waits for helpers."""


class _OutputPool:
    """Output buffers kept between calls, so that a query writes into memory already mapped.

    A buffer is lent to one call at a time (a thread keeps writing into the buffer it was
    lent while it serves that call) and comes back when the call has copied its pairs out.
    At most :data:`_KEEP_PAIRS` pairs' worth (12 bytes a pair) are kept; larger results use
    buffers that are freed after the call.
    """

    def __init__(self) -> None:
        self._free: list[_Output] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> _Output:
        """A buffer with room for at least ``size`` pairs, empty."""
        with self._lock:
            for k, out in enumerate(self._free):
                if out.size >= size:
                    del self._free[k]
                    out.used = 0
                    return out
        return _Output(size)

    def give_back(self, outputs: list[_Output]) -> None:
        """Keep the buffers a call has finished with, up to the size limit."""
        with self._lock:
            kept = sorted(self._free + outputs, key=lambda o: o.size, reverse=True)
            self._free = []
            room = _KEEP_PAIRS
            for out in kept:
                if out.size <= room:
                    self._free.append(out)
                    room -= out.size
            self._free.reverse()  # smallest first: take() lends the smallest that fits


_OUTPUTS = _OutputPool()
_KEEP_PAIRS = 2 << 20
"""Output buffers kept between calls hold at most this many pairs (24 MiB)."""
_OUT_SIZE = 1 << 17
"""Pairs of a thread's first output buffer in a call; each next one is twice as large."""


class Scratch:
    """One thread's working arrays for the search kernels, allocated once and kept clean.

    Holds the minutes per node, the buckets (``cutoff / delta + 2`` of them, ``delta`` being
    :attr:`Graph.bucket_width_min`), the pool of queue entries (grown and retried if a search
    ever needs more) and, while it serves a :func:`run_blocks` call, the output
    buffer lent to that call.
    """

    def __init__(self, graph: Graph, *, n_dest: int | None, cutoff: float) -> None:
        n = graph.n_nodes
        self.dist = np.full(n, np.inf)
        delta = max(graph.bucket_width_min, cutoff / _MAX_BUCKETS, 1e-9)
        self.inv_delta = 1.0 / delta
        self.head = np.full(int(cutoff * self.inv_delta) + 2, -1, dtype=np.int64)
        self._grow_pool(2 * graph.n_edges + 16)
        # Per-destination scratch only for the seeded kernel (node queries write nodes).
        per_dest = 1 if n_dest is None else max(n_dest, 1)
        self.best = np.full(per_dest, np.inf)
        self.dtouched = np.empty(per_dest, dtype=np.int32)
        self._call: _Call | None = None
        self._out = _Output(0)
        self._buffer = -1

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

    def lend(self, call: _Call) -> None:
        """Serve ``call``: kernels take its sources and write into an output buffer lent to it."""
        if self._call is not call:
            self._call = call
            self._next_output(_OUT_SIZE)

    def _next_output(self, size: int) -> None:
        self._out = _OUTPUTS.take(size)
        self._buffer = self._call.add_output(self._out) if self._call is not None else -1

    def _grow_pool(self, size: int) -> None:
        self.nxt = np.empty(size, dtype=np.int64)
        self.enode = np.empty(size, dtype=np.uint32)

    def run(self, call: Callable[..., tuple[int, int, int, int]], n_end: int) -> None:
        """Call a kernel until the shared counter of the call being served passes ``n_end``.

        ``call(counter, chunk, lo, hi, budget, buffer, rows, out_dest, out_min, n_out)`` runs
        the kernel; it stops early when the entry pool or the output buffer is full, or after
        ``budget`` sources, and goes on after the pool is grown, the next buffer (twice as
        large) is lent, or progress is reported.
        """
        job = self._call
        if job is None or job.done:
            raise RuntimeError("Scratch kernels run inside run_blocks (lend the scratch first)")
        budget = job.budget()
        lo = hi = 0
        while True:
            out = self._out
            lo, hi, n_out, status = call(
                job.counter, job.chunk, lo, hi, budget, self._buffer,
                job.rows, out.dest, out.minutes, out.used,
            )  # fmt: skip
            lo, hi, n_out = int(lo), int(hi), int(n_out)
            out.used = n_out
            if status == _kernel.POOL_FULL:
                self._grow_pool(2 * self.enode.shape[0])
            elif status == _kernel.OUT_FULL:
                self._next_output(2 * max(out.size, _OUT_SIZE // 2))
            elif status == _kernel.PAUSED:
                job.report_progress()
            else:
                return

    def run_nodes(
        self, graph: Graph, sources: NDArray[np.int64], cutoff: float, lo: int, hi: int
    ) -> None:
        """Run the node kernel (every node a destination) on the call's sources below ``hi``.

        ``lo`` is ignored: the sources ``0..hi-1`` are shared through the call's counter.
        """
        indptr, adj = _unsigned(graph)
        self.run(
            lambda counter, chunk, a, b, budget, buffer, rows, out_dest, out_min, n_out: (
                _kernel.within_block_nodes(
                    indptr, adj, graph.walk_min, sources, cutoff, self.inv_delta,
                    counter, chunk, hi, a, b, budget, buffer,
                    self.dist, self.head, self.nxt, self.enode,
                    rows, out_dest, out_min, n_out,
                )
            ),
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
    ) -> None:
        """Run the seeded kernel (sources and destinations attached anywhere) like the node one."""
        indptr, adj = _unsigned(graph)
        self.run(
            lambda counter, chunk, a, b, budget, buffer, rows, out_dest, out_min, n_out: (
                _kernel.within_block(
                    indptr, adj, graph.walk_min,
                    seeds.ptr, seeds.node.view(np.uint32), seeds.cost,
                    targets.ptr, targets.dest, targets.cost,
                    direct.ptr, direct.dest, direct.cost,
                    cutoff, self.inv_delta,
                    counter, chunk, hi, a, b, budget, buffer,
                    self.dist, self.best, self.dtouched,
                    self.head, self.nxt, self.enode,
                    rows, out_dest, out_min, n_out,
                )
            ),
            hi,
        )  # fmt: skip


_MAX_BUCKETS = 1 << 16
"""Bucket width is at least cutoff / this, bounding the buckets a search scans."""


def _unsigned(graph: Graph) -> tuple[NDArray[np.uint64], NDArray[np.uint32]]:
    """The graph's index arrays viewed as unsigned (no copy): the kernels index with them."""
    return graph.indptr.view(np.uint64), graph.adj.view(np.uint32)


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
