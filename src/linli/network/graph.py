"""A directed graph in compressed sparse row form, weighted in walking minutes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from linli._errors import InputError

__all__ = ["Graph"]


@dataclass(frozen=True)
class Graph:
    """A directed graph with nodes ``0..n_nodes-1`` and edge weights in walking minutes.

    Edges leaving node ``u`` are ``adj[indptr[u]:indptr[u+1]]`` with weights
    ``walk_min[indptr[u]:indptr[u+1]]``.  Build one with :meth:`from_edges`.
    """

    indptr: NDArray[np.int64]
    adj: NDArray[np.int32]
    walk_min: NDArray[np.float64]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.indptr.shape[0] - 1)

    @cached_property
    def bucket_width_min(self) -> float:
        """A quarter of the median edge minutes: the bucket width of the searches.

        Any positive width gives exact minutes.  Narrower buckets mean fewer nodes expanded
        twice (an edge shorter than the width can improve a node of the bucket being emptied)
        but more buckets to scan; a quarter of the median measured fastest on Yuzhong and on
        street grids (~25 % faster than the median on a 100,000-node grid).
        """
        positive = self.walk_min[self.walk_min > 0]
        return float(np.median(positive)) / 4 if positive.size else 1.0

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.adj.shape[0])

    @classmethod
    def from_edges(
        cls, u: ArrayLike, v: ArrayLike, walk_min: ArrayLike, *, n_nodes: int | None = None
    ) -> Graph:
        """Build a graph from directed edges ``u[i] -> v[i]`` taking ``walk_min[i]`` minutes.

        Give both directions of a two-way street explicitly (their minutes may differ, e.g.
        uphill and downhill).  Parallel edges are allowed; the search takes the shortest.

        Parameters
        ----------
        u, v : array of int
            Tail and head node of each edge, in ``0..n_nodes-1``.
        walk_min : array of float
            Walking minutes of each edge; finite and ``>= 0``.
        n_nodes : int, optional
            Number of nodes; default ``max(u, v) + 1``.

        Examples
        --------
        >>> g = Graph.from_edges([0, 1], [1, 2], [1.5, 2.0])
        >>> g.n_nodes, g.n_edges
        (3, 2)
        """
        u_arr = _indices(u, "u")
        v_arr = _indices(v, "v")
        w_arr = np.asarray(walk_min, dtype=np.float64).ravel()
        if not (u_arr.shape == v_arr.shape == w_arr.shape):
            raise InputError(
                f"graph edges: u, v and walk_min must have the same length; "
                f"found {u_arr.size}, {v_arr.size} and {w_arr.size}"
            )
        if n_nodes is None:
            n_nodes = int(max(u_arr.max(initial=-1), v_arr.max(initial=-1)) + 1)
        if u_arr.size and (
            min(u_arr.min(), v_arr.min()) < 0 or max(u_arr.max(), v_arr.max()) >= n_nodes
        ):
            raise InputError(
                f"graph edges: node indices must lie in 0..{n_nodes - 1}; found "
                f"{min(u_arr.min(), v_arr.min())}..{max(u_arr.max(), v_arr.max())}"
            )
        bad = ~np.isfinite(w_arr) | (w_arr < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                "graph edges: walk_min must be finite and >= 0; "
                f"found {float(w_arr[i])} at edge {i} "
                f"({int(bad.sum())} such edges)"
            )
        order = np.argsort(u_arr, kind="stable")
        counts = np.bincount(u_arr, minlength=n_nodes)
        indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(
            indptr=indptr,
            adj=v_arr[order].astype(np.int32),
            walk_min=w_arr[order],
        )

    def reversed(self) -> Graph:
        """The same graph with every edge turned around (for searches towards destinations)."""
        tails = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        return Graph.from_edges(self.adj, tails, self.walk_min, n_nodes=self.n_nodes)

    def edges(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """The edges as ``(u, v, walk_min)`` arrays."""
        tails = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        return tails, self.adj.astype(np.int64), self.walk_min.copy()


def _indices(values: ArrayLike, name: str) -> NDArray[np.int64]:
    """Node indices as int64, refusing fractions, NaN and non-numbers with a clear message."""
    arr = np.asarray(values).ravel()
    if arr.size == 0:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if not bad.any():
            return arr.astype(np.int64)
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"graph edges: {name} must hold integer node indices; "
            f"found {float(arr[i])} at edge {i} "
            f"({int(bad.sum())} such edges)"
        )
    raise InputError(f"graph edges: {name} must hold integer node indices; found dtype {arr.dtype}")
