"""Seeded street-grid networks for scale benchmarks.

No real walking network of city scale (10^5-10^6 junctions) is available here, so the scale
benchmarks run on generated ones.  :func:`street_grid` makes a network that looks like the street
plan of a gridded city district rather than a textbook lattice:

* blocks are irregular: every street column and every street row gets its own spacing, drawn
  uniformly from ``spacing_m * (1 ± block_spread)`` (80-120 m with the defaults), so blocks are
  rectangles of different sizes, as in a real grid city;
* junctions are jittered: each node moves by up to ``jitter_m`` in x and y (streets are not ruler
  straight, junctions are not exactly aligned);
* the grid is made irregular by removing a share of the street links at random
  (``removed_link_share``, 4 % by default: dead ends, superblocks, missing crossings);
* only the largest connected component is kept, so every node can reach every other one;
* edge lengths are the Euclidean distances between the (jittered) end nodes, in metres;
* every street link becomes two directed edges, one each way (walking is two-way).

Coordinates are metres in a local projected plane with the origin at the south-west corner
(no CRS: treat it as any metric projected CRS).  Interior junctions have degree 4 minus removed
links, so the mean degree is about 3.8, higher than real walking networks (about 2.5-3, with many
degree-2 nodes); per node, range queries on the grid therefore do a little more work than on an
OSM network with the same number of nodes.

The generator is fully vectorised (numpy + scipy.sparse.csgraph): one million nodes take about
a second.  Run ``python benchmarks/grids.py 1000000`` to see the statistics of a grid.

Example
-------
>>> grid = street_grid(10_000, seed=0)
>>> grid.n_nodes >= 10_000
True
>>> bool((grid.edge_length_m > 0).all())
True
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["StreetGrid", "street_grid"]


@dataclass(frozen=True)
class StreetGrid:
    """A directed street network with node positions in metres.

    Attributes
    ----------
    node_x, node_y : ndarray of float64, shape (n_nodes,)
        Junction positions in metres (local projected plane, origin at the south-west corner).
    edge_u, edge_v : ndarray of int64, shape (n_edges,)
        Directed edges as node indices 0..n_nodes-1; every street link appears once each way.
    edge_length_m : ndarray of float64, shape (n_edges,)
        Euclidean length of each edge in metres.
    """

    node_x: NDArray[np.float64]
    node_y: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]

    @property
    def n_nodes(self) -> int:
        """Number of junctions."""
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges (twice the number of street links)."""
        return int(self.edge_u.shape[0])

    def edge_walk_min(self, *, speed_m_per_min: float = 80.0) -> NDArray[np.float64]:
        """Walking minutes of each edge at ``speed_m_per_min`` metres per minute."""
        return self.edge_length_m / speed_m_per_min


def street_grid(
    n_nodes: int,
    *,
    spacing_m: float = 100.0,
    block_spread: float = 0.2,
    jitter_m: float | None = None,
    removed_link_share: float = 0.04,
    seed: int = 0,
) -> StreetGrid:
    """Generate a seeded, irregular street grid with at least ``n_nodes`` junctions.

    Parameters
    ----------
    n_nodes : int
        Minimum number of junctions wanted.  The lattice is sized so that its largest connected
        component has at least this many nodes (it has at most a few per mille more).
    spacing_m : float, default 100.0
        Mean block length in metres (distance between neighbouring junctions).
    block_spread : float, default 0.2
        Each street column and row spacing is drawn uniformly from
        ``spacing_m * [1 - block_spread, 1 + block_spread]``; 0.2 gives blocks of 80-120 m.
    jitter_m : float, optional
        Each junction moves by a uniform offset in ``[-jitter_m, jitter_m]`` in x and in y.
        Defaults to ``0.08 * spacing_m`` (8 m).
    removed_link_share : float, default 0.04
        Share of street links removed at random before the largest component is taken.
    seed : int, default 0
        Seed of the random generator; the same arguments always give the same network.

    Returns
    -------
    StreetGrid
        Node positions in metres and directed edges (both directions) with lengths in metres.

    Examples
    --------
    >>> grid = street_grid(1_000, spacing_m=100.0, seed=1)
    >>> grid.n_edges % 2
    0
    """
    if n_nodes < 4:
        raise ValueError(f"n_nodes must be at least 4; got {n_nodes}")
    if not 0.0 <= block_spread < 1.0:
        raise ValueError(f"block_spread must be in [0, 1); got {block_spread}")
    if not 0.0 <= removed_link_share < 0.5:
        raise ValueError(f"removed_link_share must be in [0, 0.5); got {removed_link_share}")
    jitter = 0.08 * spacing_m if jitter_m is None else jitter_m
    if not 0.0 <= jitter < spacing_m * (1.0 - block_spread) / 2.0:
        raise ValueError(f"jitter_m must be below half the shortest block; got {jitter}")

    # A few per mille of slack covers the nodes lost outside the largest component (a node is
    # lost only when all its links are removed: ~p^4 inside, ~p^2 at the four corners).
    target = math.ceil(n_nodes * (1.0 + 2.0 * removed_link_share**2) + 8)
    cols = math.ceil(math.sqrt(target))
    rows = math.ceil(target / cols)
    while True:
        grid = _lattice(rows, cols, spacing_m, block_spread, jitter, removed_link_share, seed)
        if grid.n_nodes >= n_nodes:
            return grid
        rows += 1  # deterministic retry: one more street row


def _lattice(
    rows: int,
    cols: int,
    spacing_m: float,
    block_spread: float,
    jitter_m: float,
    removed_link_share: float,
    seed: int,
) -> StreetGrid:
    rng = np.random.default_rng(seed)
    low, high = spacing_m * (1.0 - block_spread), spacing_m * (1.0 + block_spread)
    col_x = np.concatenate(([0.0], np.cumsum(rng.uniform(low, high, cols - 1))))
    row_y = np.concatenate(([0.0], np.cumsum(rng.uniform(low, high, rows - 1))))

    n = rows * cols
    node_id = np.arange(n, dtype=np.int64).reshape(rows, cols)
    x = np.broadcast_to(col_x, (rows, cols)).ravel() + rng.uniform(-jitter_m, jitter_m, n)
    y = np.broadcast_to(row_y[:, None], (rows, cols)).ravel() + rng.uniform(-jitter_m, jitter_m, n)

    # Street links: east-west between neighbouring columns, north-south between rows.
    a = np.concatenate((node_id[:, :-1].ravel(), node_id[:-1, :].ravel()))
    b = np.concatenate((node_id[:, 1:].ravel(), node_id[1:, :].ravel()))
    keep = rng.random(a.shape[0]) >= removed_link_share
    a, b = a[keep], b[keep]

    adjacency = coo_matrix((np.ones(a.shape[0], dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(adjacency, directed=False)
    largest = np.bincount(labels).argmax()
    in_largest = labels == largest
    new_id = np.cumsum(in_largest, dtype=np.int64) - 1
    link_kept = in_largest[a]  # both ends share a component
    a, b = new_id[a[link_kept]], new_id[b[link_kept]]
    x, y = x[in_largest], y[in_largest]

    length_m = np.hypot(x[b] - x[a], y[b] - y[a])
    return StreetGrid(
        node_x=np.ascontiguousarray(x),
        node_y=np.ascontiguousarray(y),
        edge_u=np.concatenate((a, b)),
        edge_v=np.concatenate((b, a)),
        edge_length_m=np.concatenate((length_m, length_m)),
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description="Print the statistics of a generated grid.")
    parser.add_argument("n_nodes", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    grid = street_grid(args.n_nodes, seed=args.seed)
    elapsed = time.perf_counter() - start
    degree = np.bincount(grid.edge_u, minlength=grid.n_nodes)
    print(f"{grid.n_nodes:,} nodes, {grid.n_edges:,} directed edges in {elapsed:.2f} s")
    print(
        f"extent {grid.node_x.max() / 1000:.1f} x {grid.node_y.max() / 1000:.1f} km; "
        f"edge length m: min {grid.edge_length_m.min():.1f}, "
        f"mean {grid.edge_length_m.mean():.1f}, max {grid.edge_length_m.max():.1f}"
    )
    print("degree counts:", {int(k): int(v) for k, v in enumerate(np.bincount(degree)) if v})


if __name__ == "__main__":
    _main()
