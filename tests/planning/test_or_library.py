"""The OR-Library p-median instance pmed1 (Beasley 1985) solves to its published optimum.

The reader lives here, not in the library (readers for benchmark formats belong to the
benchmarks); the format is described in ../shared/data/benchmarks/or-library/README.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.sparse.csgraph import shortest_path

from conftest import require_shared
from linli.planning import PMedian


def read_pmed(path: Path) -> tuple[NDArray[np.float64], int]:
    """All-pairs shortest-path costs and p of an OR-Library ``pmed`` file.

    First line ``n edges p``, then ``i j cost`` (1-based, undirected); edges are set in file
    order, so a repeated edge keeps its last cost.
    """
    tokens = path.read_text().split()
    n, n_edges, p = (int(t) for t in tokens[:3])
    edges = np.array(tokens[3 : 3 + 3 * n_edges], dtype=np.int64).reshape(n_edges, 3)
    graph = np.full((n, n), np.inf)
    for i, j, cost in edges:  # in order: the last of repeated edges wins
        graph[i - 1, j - 1] = graph[j - 1, i - 1] = cost
    np.fill_diagonal(graph, 0.0)
    return shortest_path(graph, method="D", directed=False), p


def test_pmed1_reaches_the_published_optimum() -> None:
    cost, p = read_pmed(require_shared("benchmarks/or-library/pmed/pmed1.txt"))
    assert cost.shape == (100, 100)
    assert p == 5
    plan = PMedian.from_cost_matrix(cost, p=p).solve(time_limit_s=30)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(5819)
    assert plan.n_sites == 5
    assert plan.objective == pytest.approx(cost[np.arange(100), plan.assignment].sum())
