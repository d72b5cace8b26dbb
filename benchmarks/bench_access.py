"""Walking minutes within a cutoff: linli against pandana, scipy and networkx, side by side.

Every peer answers the same question on the same directed graph: for each source node, which
nodes lie within ``cutoff`` walking minutes, and how many minutes away.  Edge weights are
``length_m / 80`` minutes (80 m/min) for every peer.  Each peer runs in its own subprocess (one
per network) so that its memory can be measured alone; see ``benchmarks/README.md`` for what each
column means and how the numbers are taken.

Run ``bash benchmarks/setup.sh`` first, then::

    .venv-bench/bin/python benchmarks/bench_access.py --quick     # a few minutes
    .venv-bench/bin/python benchmarks/bench_access.py             # full: Yuzhong + 1M grid
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import importlib.metadata
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))  # grids.py beside this file, also when run from elsewhere

from grids import street_grid  # noqa: E402

SPEED_M_PER_MIN = 80.0
"""Walking speed used to turn metres into minutes, for every peer (10 min = 800 m)."""

PEERS = ("linli", "pandana", "scipy", "networkx")
NETWORKS = ("yuzhong", "grid100k", "grid1m")
GRID_NODES = {"grid100k": 100_000, "grid1m": 1_000_000}
DEFAULT_OSM = REPO.parent / "shared" / "data" / "chongqing" / "yuzhong" / "yuzhong.osm.pbf"
RSS_SAMPLE_INTERVAL_S = 0.005
REPEAT_BELOW_S = 1.0
"""Queries faster than this are repeated (``--repeat`` times in all) and the fastest is kept."""
REPEAT_BUDGET_S = 3.0
"""... but repeats stop once they have taken this long in all (every peer alike)."""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Networks (built once in the parent, handed to the workers as .npz files)
# --------------------------------------------------------------------------------------------


@dataclass
class NetworkData:
    """A simple directed graph with weights in minutes, as every peer receives it."""

    name: str
    description: str
    node_x: FloatArray
    node_y: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_walk_min: FloatArray

    @property
    def n_nodes(self) -> int:
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])


def simple_directed(
    u: IntArray, v: IntArray, walk_min: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Drop self-loops and keep the shortest of parallel edges.

    scipy's ``csr_matrix`` would add parallel edges up and networkx's ``DiGraph`` would keep the
    last one, so every peer gets the same simple graph instead.
    """
    keep = u != v
    u, v, walk_min = u[keep], v[keep], walk_min[keep]
    order = np.lexsort((walk_min, v, u))
    u, v, walk_min = u[order], v[order], walk_min[order]
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return u[first], v[first], walk_min[first]


def load_yuzhong(osm_path: Path) -> NetworkData:
    """Yuzhong's walking network as linli builds it (lengths only: weights are metres / 80)."""
    from linli.network import walk_network_from_osm

    net = walk_network_from_osm(str(osm_path))
    x, y = np.asarray(net.node_x, float), np.asarray(net.node_y, float)
    u, v = np.asarray(net.edge_u, np.int64), np.asarray(net.edge_v, np.int64)
    length_m = np.asarray(net.edge_length_m, float)
    u, v, walk_min = simple_directed(u, v, length_m / SPEED_M_PER_MIN)
    return NetworkData(
        "yuzhong",
        f"Yuzhong walking network ({osm_path.name}, linli.network.walk_network_from_osm; "
        "edge weights from its edge_length_m, not its slope- and stairs-aware edge_walk_min)",
        x,
        y,
        u,
        v,
        walk_min,
    )


def make_network(name: str, *, osm_path: Path, seed: int) -> NetworkData:
    if name == "yuzhong":
        return load_yuzhong(osm_path)
    grid = street_grid(GRID_NODES[name], seed=seed)
    u, v, walk_min = simple_directed(
        grid.edge_u, grid.edge_v, grid.edge_walk_min(speed_m_per_min=SPEED_M_PER_MIN)
    )
    return NetworkData(
        name,
        f"generated street grid (benchmarks/grids.py, street_grid({GRID_NODES[name]:_}, "
        f"seed={seed}): blocks 80-120 m, 4 % links removed, largest component)",
        grid.node_x,
        grid.node_y,
        u,
        v,
        walk_min,
    )


# --------------------------------------------------------------------------------------------
# Peers (run inside the worker subprocess)
# --------------------------------------------------------------------------------------------


@dataclass
class Pairs:
    """(source row, destination node, minutes) triples: a common form for comparing peers."""

    row: IntArray
    dest: IntArray
    minutes: FloatArray


class Peer:
    """How one library answers the question, as a fair user of that library would ask it."""

    name = ""
    threads = "1"

    def build(self, net: dict[str, Any]) -> None:
        """Everything needed before any query that does not depend on the cutoff."""

    def prepare(self, cutoff: float) -> None:
        """Everything that depends on the cutoff but not on the sources (counted as build)."""

    def query(self, sources: IntArray, cutoff: float) -> Any:
        raise NotImplementedError

    def count(self, result: Any) -> int:
        raise NotImplementedError

    def pairs(self, result: Any, sources: IntArray) -> Pairs:
        raise NotImplementedError


class LinliPeer(Peer):
    name = "linli"

    def __init__(self, threads: int | None) -> None:
        from linli.access import Graph, minutes_within

        self._graph_cls, self._minutes_within = Graph, minutes_within
        self._threads = threads
        try:
            from linli.access.engine import default_threads

            self.threads = str(threads or default_threads())
        except ImportError:
            self.threads = str(threads or os.cpu_count())
        self.first_call_s: float | None = None

    def build(self, net: dict[str, Any]) -> None:
        self.graph = self._graph_cls.from_edges(
            net["edge_u"], net["edge_v"], net["edge_walk_min"], n_nodes=int(net["n_nodes"])
        )

    def warm_up(self, source: IntArray, cutoff: float) -> None:
        """The first call compiles numba code (or loads it from the cache): timed apart."""
        start = time.perf_counter()
        self._minutes_within(self.graph, source, cutoff_min=cutoff, threads=self._threads)
        self.first_call_s = time.perf_counter() - start

    def query(self, sources: IntArray, cutoff: float) -> Any:
        return self._minutes_within(self.graph, sources, cutoff_min=cutoff, threads=self._threads)

    def count(self, result: Any) -> int:
        return int(result.n_pairs)

    def pairs(self, result: Any, sources: IntArray) -> Pairs:
        indptr = np.asarray(result.indptr, np.int64)
        row = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr))
        return Pairs(row, np.asarray(result.indices, np.int64), np.asarray(result.walk_min, float))


class PandanaPeer(Peer):
    name = "pandana"

    def __init__(self, threads: int | None) -> None:
        import pandana
        import pandas as pd

        self._pandana, self._pd = pandana, pd
        # pandana parallelises with OpenMP; OMP_NUM_THREADS is set by the parent when --threads.
        self.threads = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))

    def build(self, net: dict[str, Any]) -> None:
        pd = self._pd
        # Node ids are 0..n-1 (the x/y index); edges are given in both directions already,
        # so twoway=False hands pandana exactly the graph the other peers get.
        self.network = self._pandana.Network(
            pd.Series(net["node_x"]),
            pd.Series(net["node_y"]),
            pd.Series(net["edge_u"]),
            pd.Series(net["edge_v"]),
            pd.DataFrame({"walk_min": net["edge_walk_min"]}),
            twoway=False,
        )

    def prepare(self, cutoff: float) -> None:
        self.network.precompute(cutoff)

    def query(self, sources: IntArray, cutoff: float) -> Any:
        return self.network.nodes_in_range(sources, cutoff)

    def count(self, result: Any) -> int:
        return len(result)

    def pairs(self, result: Any, sources: IntArray) -> Pairs:
        row = self._pd.Index(sources).get_indexer(result["source"].to_numpy())
        return Pairs(
            row.astype(np.int64),
            result["destination"].to_numpy(np.int64),
            result["walk_min"].to_numpy(float),
        )


class ScipyPeer(Peer):
    """``scipy.sparse.csgraph.dijkstra(indices=..., limit=cutoff, min_only=False)``.

    dijkstra returns a dense (sources x nodes) matrix, so sources go in chunks that keep that
    matrix under ``chunk_mb``; each chunk is turned into pairs (the finite entries) at once.
    """

    name = "scipy"

    def __init__(self, chunk_mb: float) -> None:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        self._csr_matrix, self._dijkstra = csr_matrix, dijkstra
        self._chunk_bytes = chunk_mb * 2**20

    def build(self, net: dict[str, Any]) -> None:
        n = int(net["n_nodes"])
        self.matrix = self._csr_matrix(
            (net["edge_walk_min"], (net["edge_u"], net["edge_v"])), shape=(n, n)
        )

    def query(self, sources: IntArray, cutoff: float) -> Pairs:
        n = self.matrix.shape[0]
        chunk = max(1, int(self._chunk_bytes // (8 * n)))
        rows, dests, minutes = [], [], []
        for start in range(0, sources.shape[0], chunk):
            dist = self._dijkstra(
                self.matrix,
                directed=True,
                indices=sources[start : start + chunk],
                limit=cutoff,
                min_only=False,
            )
            row, dest = np.nonzero(np.isfinite(dist))
            rows.append(row + start)
            dests.append(dest)
            minutes.append(dist[row, dest])
            del dist
        return Pairs(np.concatenate(rows), np.concatenate(dests), np.concatenate(minutes))

    def count(self, result: Pairs) -> int:
        return int(result.row.shape[0])

    def pairs(self, result: Pairs, sources: IntArray) -> Pairs:
        return result


class NetworkxPeer(Peer):
    """``single_source_dijkstra_path_length(G, s, cutoff=cutoff)`` for each source."""

    name = "networkx"

    def __init__(self) -> None:
        import networkx as nx

        self._nx = nx

    def build(self, net: dict[str, Any]) -> None:
        graph = self._nx.DiGraph()
        graph.add_nodes_from(range(int(net["n_nodes"])))
        graph.add_weighted_edges_from(
            zip(
                net["edge_u"].tolist(),
                net["edge_v"].tolist(),
                net["edge_walk_min"].tolist(),
                strict=True,
            ),
            weight="walk_min",
        )
        self.graph = graph

    def query(self, sources: IntArray, cutoff: float) -> list[dict[int, float]]:
        nx, graph = self._nx, self.graph
        return [
            nx.single_source_dijkstra_path_length(graph, s, cutoff=cutoff, weight="walk_min")
            for s in sources.tolist()
        ]

    def count(self, result: list[dict[int, float]]) -> int:
        return sum(len(d) for d in result)

    def pairs(self, result: list[dict[int, float]], sources: IntArray) -> Pairs:
        row = np.repeat(np.arange(len(result), dtype=np.int64), [len(d) for d in result])
        dest = np.fromiter((k for d in result for k in d), np.int64, row.shape[0])
        minutes = np.fromiter((m for d in result for m in d.values()), float, row.shape[0])
        return Pairs(row, dest, minutes)


def make_peer(name: str, spec: dict[str, Any]) -> Peer:
    if name == "linli":
        return LinliPeer(spec["threads"])
    if name == "pandana":
        return PandanaPeer(spec["threads"])
    if name == "scipy":
        return ScipyPeer(spec["scipy_chunk_mb"])
    if name == "networkx":
        return NetworkxPeer()
    raise ValueError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc ``malloc_trim``).

    Without it, memory freed by an earlier query stays resident and a later query can reuse it
    without raising the RSS, so its ΔRSS would read too low.
    """
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def run_worker(spec_path: Path) -> None:
    """Build one peer on one network, run every case, append one JSON line per case."""
    spec = json.loads(spec_path.read_text())
    out = Path(spec["out"])

    def emit(record: dict[str, Any]) -> None:
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")

    try:
        peer = make_peer(spec["peer"], spec)
    except ImportError as error:
        emit({"kind": "unavailable", "message": f"{type(error).__name__}: {error}"})
        return

    with np.load(spec["network"]) as data:
        net = {key: data[key] for key in data.files}
    sources_all = np.asarray(net["sources"], np.int64)
    check = np.asarray(net["check_sources"], np.int64)

    start = time.perf_counter()
    peer.build(net)
    build_s = time.perf_counter() - start
    gc.collect()
    record: dict[str, Any] = {
        "kind": "built",
        "build_s": build_s,
        "threads": peer.threads,
        "maxrss": _maxrss(),
    }
    if isinstance(peer, LinliPeer):
        peer.warm_up(sources_all[:1], min(spec["cutoffs"]))
        record["first_call_s"] = peer.first_call_s
    emit(record)

    for cutoff in spec["cutoffs"]:
        start = time.perf_counter()
        peer.prepare(cutoff)
        prepare_s = time.perf_counter() - start
        gc.collect()
        for n_sources in spec["sources"]:
            sources = sources_all[:n_sources]
            timed = sources
            if spec["peer"] == "networkx" and 0 < spec["nx_max_sources"] < sources.shape[0]:
                timed = sources[: spec["nx_max_sources"]]
            _release_freed_memory()
            rss_before, maxrss_before = _rss(), _maxrss()
            t0 = time.monotonic()
            start = time.perf_counter()
            result = peer.query(timed, cutoff)
            query_s = time.perf_counter() - start
            t1 = time.monotonic()
            rss_after, maxrss_after = _rss(), _maxrss()
            n_pairs = peer.count(result)
            del result
            # Short queries are noisy: repeat them (memory is the first run's) and keep the best.
            runs, spent = 1, query_s
            while query_s < REPEAT_BELOW_S and runs < spec["repeat"] and spent < REPEAT_BUDGET_S:
                _release_freed_memory()
                start = time.perf_counter()
                result = peer.query(timed, cutoff)
                took = time.perf_counter() - start
                query_s, spent = min(query_s, took), spent + took
                del result
                runs += 1
            gc.collect()

            # Correctness: the same call on the first few sources, untimed.
            sample = peer.pairs(peer.query(check, cutoff), check)
            sample_path = out.with_name(f"{out.stem}-{cutoff:g}-{n_sources}.npz")
            np.savez(sample_path, row=sample.row, dest=sample.dest, minutes=sample.minutes)
            emit(
                {
                    "kind": "case",
                    "cutoff": cutoff,
                    "n_sources": int(sources.shape[0]),
                    "n_timed": int(timed.shape[0]),
                    "runs": runs,
                    "prepare_s": prepare_s,
                    "query_s": query_s,
                    "pairs": n_pairs,
                    "t0": t0,
                    "t1": t1,
                    "rss_before": rss_before,
                    "rss_after": rss_after,
                    "maxrss_before": maxrss_before,
                    "maxrss_after": maxrss_after,
                    "sample": str(sample_path),
                }
            )
            del sample
    emit({"kind": "done", "maxrss": _maxrss()})


# --------------------------------------------------------------------------------------------
# Parent: spawn workers, sample their memory, compare, tabulate
# --------------------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's resident set size from outside every ``interval_s`` seconds.

    Sampling from the parent works whatever the worker does with its GIL (scipy's dijkstra and
    pandana's C++ do not release it to a sampling thread inside the worker).
    """

    def __init__(self, pid: int, interval_s: float = RSS_SAMPLE_INTERVAL_S) -> None:
        self.times: list[float] = []
        self.rss: list[int] = []
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self._process.memory_info().rss
            except psutil.Error:
                return
            self.times.append(time.monotonic())
            self.rss.append(rss)
            self._stop.wait(self._interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, t0: float, t1: float) -> int:
        times = np.asarray(self.times)
        window = (times >= t0) & (times <= t1)
        return int(np.asarray(self.rss)[window].max()) if window.any() else 0


@dataclass
class CaseResult:
    network: str
    cutoff: float
    n_sources: int
    peer: str
    status: str = "ok"
    threads: str = ""
    build_s: float = float("nan")
    query_s: float = float("nan")
    query_mb: float = float("nan")
    pairs: float = float("nan")
    n_timed: int = 0
    max_diff_min: float = float("nan")
    missing: int = 0
    extra: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def extrapolated(self) -> bool:
        return 0 < self.n_timed < self.n_sources


@dataclass
class PeerRun:
    network: str
    peer: str
    status: str = "ok"
    message: str = ""
    build_s: float = float("nan")
    first_call_s: float | None = None
    peak_mb: float = float("nan")
    wall_s: float = 0.0
    prepare_s: dict[float, float] = field(default_factory=dict)


def run_peer(
    peer: str,
    network_file: Path,
    workdir: Path,
    args: argparse.Namespace,
    net: NetworkData,
    sources: Sequence[int],
    reference: dict[float, Pairs],
) -> tuple[PeerRun, list[CaseResult]]:
    """Run one peer on one network in a fresh subprocess and turn its records into rows."""
    out = workdir / f"{net.name}-{peer}.jsonl"
    spec = {
        "peer": peer,
        "network": str(network_file),
        "out": str(out),
        "cutoffs": args.cutoffs,
        "sources": list(sources),
        "threads": args.threads,
        "nx_max_sources": args.nx_max_sources,
        "scipy_chunk_mb": args.scipy_chunk_mb,
        "repeat": args.repeat,
    }
    spec_path = workdir / f"{net.name}-{peer}.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ)
    if peer == "linli" and args.cold_numba:
        # An empty cache directory: linli's first call then measures numba's full compile, as
        # on a fresh install, instead of loading the cache a previous run left.
        env["NUMBA_CACHE_DIR"] = str(workdir / f"numba-cache-{net.name}")
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    log_path = workdir / f"{net.name}-{peer}.log"
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        sampler = RssSampler(child.pid)
        try:
            returncode = child.wait(timeout=args.timeout_min * 60 if args.timeout_min else None)
        except subprocess.TimeoutExpired:
            child.kill()
            returncode = child.wait()
            returncode = -999
        finally:
            sampler.stop()
    run = PeerRun(net.name, peer, wall_s=time.perf_counter() - started)

    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    rows: dict[tuple[float, int], CaseResult] = {}
    threads = ""
    for record in records:
        if record["kind"] == "unavailable":
            run.status, run.message = "not available", record["message"]
        elif record["kind"] == "built":
            run.build_s, threads = record["build_s"], record["threads"]
            run.first_call_s = record.get("first_call_s")
        elif record["kind"] == "done":
            run.peak_mb = record["maxrss"] / 2**20
        elif record["kind"] == "case":
            rows[(record["cutoff"], record["n_sources"])] = _case_row(
                net.name, peer, threads, run, record, sampler, reference
            )
    if run.status == "ok" and returncode != 0:
        run.status = "timeout" if returncode == -999 else f"failed (exit {returncode})"
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        run.message = "\n".join(tail)
    if run.peak_mb != run.peak_mb and sampler.rss:  # no "done" record: use the samples
        run.peak_mb = max(sampler.rss) / 2**20

    results = []
    for cutoff in args.cutoffs:
        for n in sources:
            row = rows.get((cutoff, n))
            if row is None:
                row = CaseResult(net.name, cutoff, n, peer, status=run.status)
            results.append(row)
    return run, results


def _case_row(
    network: str,
    peer: str,
    threads: str,
    run: PeerRun,
    record: dict[str, Any],
    sampler: RssSampler,
    reference: dict[float, Pairs],
) -> CaseResult:
    cutoff = record["cutoff"]
    run.prepare_s[cutoff] = record["prepare_s"]
    # Peak RSS during the query: the parent's samples within [t0, t1], the RSS right after the
    # query (result still alive), and getrusage's high-water mark if the query raised it.
    peak = max(sampler.peak(record["t0"], record["t1"]), record["rss_after"])
    if record["maxrss_after"] > record["maxrss_before"]:
        peak = max(peak, record["maxrss_after"])
    row = CaseResult(
        network,
        cutoff,
        record["n_sources"],
        peer,
        threads=threads,
        build_s=run.build_s + record["prepare_s"],
        query_s=record["query_s"],
        query_mb=(peak - record["rss_before"]) / 2**20,
        pairs=record["pairs"],
        n_timed=record["n_timed"],
    )
    if row.extrapolated:
        scale = row.n_sources / row.n_timed
        row.query_s *= scale
        row.pairs *= scale
    with np.load(record["sample"]) as sample:
        got = Pairs(sample["row"], sample["dest"], sample["minutes"])
    row.max_diff_min, row.missing, row.extra = compare(got, reference[cutoff])
    return row


def _skipped_pandana(
    net: NetworkData, args: argparse.Namespace, sources: Sequence[int]
) -> tuple[PeerRun, list[CaseResult]]:
    status = f"skipped (> {args.pandana_max_nodes:,} nodes)"
    message = (
        f"skipped: {net.n_nodes:,} nodes > --pandana-max-nodes {args.pandana_max_nodes:,}. "
        "Its contraction-hierarchy build grows about as n^1.5 on street grids (here: 13 s at "
        "12.5k nodes, 80 s at 50k, 165-200 s at 100k), i.e. roughly 1.5-2 hours at 1M; "
        "pass --pandana-max-nodes 0 to run it anyway"
    )
    run = PeerRun(net.name, "pandana", status=status, message=message)
    rows = [
        CaseResult(net.name, c, n, "pandana", status=status) for c in args.cutoffs for n in sources
    ]
    return run, rows


def reference_pairs(net: NetworkData, check: IntArray, cutoff: float) -> Pairs:
    """scipy's exact distances from the check sources (computed in the parent)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    matrix = csr_matrix(
        (net.edge_walk_min, (net.edge_u, net.edge_v)), shape=(net.n_nodes, net.n_nodes)
    )
    dist = dijkstra(matrix, directed=True, indices=check, limit=cutoff, min_only=False)
    row, dest = np.nonzero(np.isfinite(dist))
    return Pairs(row.astype(np.int64), dest.astype(np.int64), dist[row, dest])


def compare(got: Pairs, want: Pairs) -> tuple[float, int, int]:
    """Largest minutes difference ``got - want`` by magnitude (signed) over common pairs,
    pairs missing from ``got`` and pairs extra in ``got``."""
    n = int(max(got.dest.max(initial=0), want.dest.max(initial=0))) + 1
    got_key = got.row * n + got.dest
    want_key = want.row * n + want.dest
    _, gi, wi = np.intersect1d(got_key, want_key, assume_unique=False, return_indices=True)
    delta = got.minutes[gi] - want.minutes[wi]
    diff = float(delta[np.abs(delta).argmax()]) if delta.shape[0] else 0.0
    missing = int(np.setdiff1d(want_key, got_key).shape[0])
    extra = int(np.setdiff1d(got_key, want_key).shape[0])
    return diff, missing, extra


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _seconds(x: float) -> str:
    if x != x:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _ratio(x: float, base: float) -> str:
    if x != x or base != base or base <= 0:
        return "—"
    return f"{x / base:.2f}×" if x / base < 100 else f"{x / base:,.0f}×"


def _rate(pairs: float, seconds: float) -> str:
    if pairs != pairs or seconds != seconds or seconds <= 0:
        return "—"
    rate = pairs / seconds
    return f"{rate / 1e6:.1f} M" if rate >= 1e5 else f"{rate / 1e3:.1f} k"


def _signed(x: float) -> str:
    if x != x:
        return "—"
    return "0" if x == 0 else f"{x:+.2g}"


COLUMNS = (
    "cutoff min",
    "sources",
    "peer",
    "threads",
    "build s",
    "query s",
    "query ΔRSS MB",
    "pairs",
    "pairs/s",
    "query × linli",
    "total × linli",
    "max \\|Δ\\| min (signed)",
    "pairs ≠ (miss/extra)",
)


def network_table(rows: list[CaseResult]) -> list[str]:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    base = {(r.cutoff, r.n_sources): r for r in rows if r.peer == "linli" and r.status == "ok"}
    for r in rows:
        if r.status != "ok" or r.query_s != r.query_s:
            cells = [f"{r.cutoff:g}", f"{r.n_sources:,}", r.peer, "", r.status or "—"]
            lines.append("| " + " | ".join(cells + [""] * (len(COLUMNS) - len(cells))) + " |")
            continue
        linli = base.get((r.cutoff, r.n_sources))
        query = _seconds(r.query_s)
        pairs = f"{r.pairs:,.0f}"
        memory = f"{r.query_mb:,.0f}"
        if r.extrapolated:
            query += f" (extrapolated from {r.n_timed:,})"
            pairs += " (extrap.)"
            memory += f" (for {r.n_timed:,})"
        cells = [
            f"{r.cutoff:g}",
            f"{r.n_sources:,}",
            r.peer,
            r.threads,
            _seconds(r.build_s),
            query,
            memory,
            pairs,
            _rate(r.pairs, r.query_s),
            _ratio(r.query_s, linli.query_s) if linli else "—",
            _ratio(r.build_s + r.query_s, linli.build_s + linli.query_s) if linli else "—",
            _signed(r.max_diff_min) + (" (ref)" if r.peer == "scipy" else ""),
            f"{r.missing + r.extra} ({r.missing}/{r.extra})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def machine_facts() -> list[str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for package in ("linli", "numpy", "scipy", "pandas", "numba", "pandana", "networkx", "psutil"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {cpu}; {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} usable); "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM; {platform.platform()}",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
        f"- linli commit: {commit or 'none (uncommitted tree)'}",
    ]


def report(
    args: argparse.Namespace,
    networks: list[NetworkData],
    results: list[CaseResult],
    runs: list[PeerRun],
    sources_used: dict[str, list[int]],
    elapsed_s: float,
) -> str:
    lines = ["# Walking minutes within a cutoff: linli vs peers", ""]
    lines += machine_facts()
    lines += [
        f"- command: `{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}` "
        f"({'quick' if args.quick else 'full'} mode, seed {args.seed}, {elapsed_s:.0f} s in all)",
        f"- weights: metres / {SPEED_M_PER_MIN:g} m/min for every peer; cutoffs "
        + ", ".join(f"{c:g} min = {c * SPEED_M_PER_MIN:,.0f} m" for c in args.cutoffs),
        "",
    ]
    for net in networks:
        lines += [
            f"## {net.name}: {net.n_nodes:,} nodes, {net.n_edges:,} directed edges",
            "",
            f"{net.description}. Sources: {', '.join(f'{n:,}' for n in sources_used[net.name])} "
            f"seeded random distinct nodes (each set is the start of the next).",
            "",
        ]
        lines += network_table([r for r in results if r.network == net.name])
        lines.append("")
        for run in (r for r in runs if r.network == net.name):
            note = f"- {run.peer}: "
            if run.status == "not available":
                note += f"not available ({run.message})"
            elif run.status.startswith("skipped"):
                note += run.message
            elif run.status != "ok":
                note += f"{run.status}; last lines of its log:\n\n```\n{run.message}\n```"
            else:
                note += f"build {_seconds(run.build_s)} s"
                if run.prepare_s and run.peer == "pandana":
                    note += " + precompute(cutoff) " + ", ".join(
                        f"{_seconds(s)} s at {c:g} min" for c, s in run.prepare_s.items()
                    )
                if run.first_call_s is not None:
                    what = (
                        "numba compile, empty cache"
                        if args.cold_numba
                        else "numba compile or cache load"
                    )
                    note += f"; first call ({what}) {_seconds(run.first_call_s)} s"
                note += (
                    f"; worker peak RSS {run.peak_mb:,.0f} MB; worker wall time {run.wall_s:.0f} s"
                )
            lines.append(note)
        lines.append("")
    lines += [
        "Columns: see benchmarks/README.md. In short: *build s* is what the peer needs before "
        "querying (pandana: Network + precompute(cutoff)); *query s* is the call that returns "
        f"all pairs for the sources (fastest of up to {args.repeat} runs, or "
        f"{REPEAT_BUDGET_S:g} s of repeats, when under {REPEAT_BELOW_S:g} s); "
        "*query ΔRSS MB* is the worker's peak RSS during the query "
        f"(sampled every {RSS_SAMPLE_INTERVAL_S * 1000:g} ms from outside, plus getrusage's "
        "high-water mark when the query raised it) minus its RSS just before; *× linli* is "
        "the peer's time over linli's (above 1: slower than linli); *max |Δ| min* and "
        f"*pairs ≠* compare the peer with scipy's exact distances on the first "
        f"{args.check_sources} sources.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="Yuzhong + 100k grid, 1,000 sources (a few minutes)"
    )
    parser.add_argument(
        "--with-100k", action="store_true", help="also run the 100k-node grid in the full run"
    )
    parser.add_argument(
        "--networks",
        nargs="+",
        choices=NETWORKS,
        help="networks to run (overrides --quick / --with-100k)",
    )
    parser.add_argument(
        "--cutoffs",
        nargs="+",
        type=float,
        default=[10.0, 20.0],
        help="cutoffs in walking minutes (default: 10 20)",
    )
    parser.add_argument(
        "--sources",
        nargs="+",
        type=int,
        help="numbers of sources (default: 1000 10000; --quick: 1000)",
    )
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument(
        "--skip",
        nargs="+",
        choices=PEERS,
        default=[],
        help="peers to leave out, e.g. --skip pandana",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for linli and pandana (OMP_NUM_THREADS); default all cores",
    )
    parser.add_argument(
        "--pandana-max-nodes",
        type=int,
        default=200_000,
        help="skip pandana on networks with more nodes (its CH build takes hours on a 1M "
        "grid); 0: no limit; default 200000",
    )
    parser.add_argument(
        "--nx-max-sources",
        type=int,
        default=1000,
        help="networkx times at most this many sources and extrapolates "
        "linearly (0: no limit); default 1000",
    )
    parser.add_argument(
        "--check-sources",
        type=int,
        default=20,
        help="sources compared against scipy's exact distances (default 20)",
    )
    parser.add_argument(
        "--scipy-chunk-mb",
        type=float,
        default=256.0,
        help="size cap of scipy's dense distance block per call (default 256)",
    )
    parser.add_argument(
        "--timeout-min",
        type=float,
        default=0.0,
        help="kill a peer's worker after this many minutes (0: never)",
    )
    parser.add_argument(
        "--warm-numba",
        dest="cold_numba",
        action="store_false",
        help="let linli load numba's on-disk cache (default: an empty cache, so "
        "the first call shows the full compile time)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=20,
        help=f"run queries faster than {REPEAT_BELOW_S:g} s up to this many times (and at "
        f"most {REPEAT_BUDGET_S:g} s of repeats) and keep the fastest (default 20)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--osm", type=Path, default=DEFAULT_OSM, help="OSM extract for the 'yuzhong' network"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "access.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.networks is None:
        args.networks = (
            ["yuzhong", "grid100k"]
            if args.quick
            else (["yuzhong", "grid100k", "grid1m"] if args.with_100k else ["yuzhong", "grid1m"])
        )
    if args.sources is None:
        args.sources = [1000] if args.quick else [1000, 10000]
    args.sources = sorted(set(args.sources))
    args.cutoffs = sorted(set(args.cutoffs))
    args.peers = [p for p in PEERS if p in args.peers and p not in args.skip]
    if 0 < args.nx_max_sources < args.check_sources:
        parser.error("--nx-max-sources must be at least --check-sources")
    return args


@contextlib.contextmanager
def _step(message: str) -> Iterator[None]:
    print(f"{message} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f"  done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        try:
            run_worker(args.worker)
        except Exception:
            traceback.print_exc()
            raise
        return

    started = time.perf_counter()
    networks: list[NetworkData] = []
    results: list[CaseResult] = []
    runs: list[PeerRun] = []
    sources_used: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        workdir = Path(tmp)
        for name in args.networks:
            try:
                with _step(f"[{name}] building the network"):
                    net = make_network(name, osm_path=args.osm, seed=args.seed)
            except ImportError as error:
                print(f"  skipped: linli.network is not available ({error})", file=sys.stderr)
                continue
            networks.append(net)
            print(f"  {net.n_nodes:,} nodes, {net.n_edges:,} directed edges", file=sys.stderr)
            rng = np.random.default_rng(args.seed)
            n_max = min(max(args.sources), net.n_nodes)
            sources = rng.choice(net.n_nodes, size=n_max, replace=False).astype(np.int64)
            check = sources[: args.check_sources]
            sources_used[name] = sorted({min(n, net.n_nodes) for n in args.sources})
            network_file = workdir / f"{name}.npz"
            np.savez(
                network_file,
                node_x=net.node_x,
                node_y=net.node_y,
                edge_u=net.edge_u,
                edge_v=net.edge_v,
                edge_walk_min=net.edge_walk_min,
                n_nodes=net.n_nodes,
                sources=sources,
                check_sources=check,
            )
            reference = {c: reference_pairs(net, check, c) for c in args.cutoffs}
            for peer in args.peers:
                if peer == "pandana" and 0 < args.pandana_max_nodes < net.n_nodes:
                    run, rows = _skipped_pandana(net, args, sources_used[name])
                    print(f"[{name}] pandana: {run.message}", file=sys.stderr)
                    runs.append(run)
                    results.extend(rows)
                    continue
                with _step(f"[{name}] {peer}"):
                    run, rows = run_peer(
                        peer, network_file, workdir, args, net, sources_used[name], reference
                    )
                if run.status != "ok":
                    print(f"  {peer}: {run.status} {run.message}", file=sys.stderr)
                runs.append(run)
                results.extend(rows)
    order = {p: i for i, p in enumerate(PEERS)}
    results.sort(
        key=lambda r: (args.networks.index(r.network), r.cutoff, r.n_sources, order[r.peer])
    )
    text = report(args, networks, results, runs, sources_used, time.perf_counter() - started)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
