"""Readers for the OR-Library location instances (J.E. Beasley) with their known optima.

The files live in ``../shared/data/benchmarks/or-library/`` (read in place, never copied here);
its README gives the formats.  Three families:

* ``pmed/pmed1..20``: uncapacitated p-median on a graph.  First line ``n edges p``, then one
  line ``i j cost`` per edge (1-based, undirected).  As OR-Library's ``pmedinfo.txt`` spells
  out, the edge lines are read *in turn* and each sets ``c(i,j) = c(j,i) = cost``, so a repeated
  edge keeps its **last** cost (not the smallest: pmed1 already has two such edges); all-pairs
  shortest paths then give the allocation costs.  Every vertex is a demand point of weight 1 and
  a candidate median.  Optima in ``pmed/pmedopt.txt``.
* ``pmedcap/pmedcap1_1..10``: capacitated p-median of Osman & Christofides (1994).  Header
  ``probnum optimum``, then ``n p Q``, then ``n`` lines ``id x y demand``.  Every point is a
  demand point and a candidate median of capacity ``Q``; each point goes to one median and
  uses ``demand`` of its capacity.  The cost is the Euclidean distance **floored to an
  integer** (the published optima hold only for floored distances) and the objective is the
  plain sum of these costs: demands do not weight it (weighted, the optima come out about 9x
  larger).  The optimum is in each file's header.
* ``scp/scp41..410``: weighted set covering (Beasley's set 4, from Balas & Ho).  ``m n``, the
  ``n`` column costs, then for each of the ``m`` rows the number of columns covering it followed
  by those columns (1-based).  The optima are not in the data files (``scpinfo.txt`` says they
  are "given in the paper"); the folder's README lists them, and they are read from there.

Run ``python benchmarks/orlib.py`` to print every instance with its size and optimum.

Example
-------
>>> from pathlib import Path
>>> folder = DEFAULT_FOLDER
>>> if (folder / "pmed").is_dir():
...     inst = read_pmed(folder / "pmed" / "pmed1.txt")
...     assert (inst.n_demand, inst.p, inst.optimum) == (100, 5, 5819.0)
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array, csr_matrix
from scipy.sparse.csgraph import shortest_path

__all__ = [
    "DEFAULT_FOLDER",
    "PMedianInstance",
    "SetCoverInstance",
    "pmed_instances",
    "pmedcap_instances",
    "read_pmed",
    "read_pmed_optima",
    "read_pmedcap",
    "read_scp",
    "read_scp_optima",
    "scp_instances",
]

DEFAULT_FOLDER = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks" / "or-library"
)
"""Where the instances are on this workplace: ``../shared/data/benchmarks/or-library``."""

PMED_NAMES = tuple(f"pmed{i}" for i in range(1, 21))
PMEDCAP_NAMES = tuple(f"pmedcap{i}" for i in range(1, 11))
SCP_NAMES = tuple(f"scp4{i}" for i in range(1, 11))

FloatArray = NDArray[np.float64]


class OrLibraryFormatError(ValueError):
    """A file does not have the layout its family's README describes."""


@dataclass(frozen=True)
class PMedianInstance:
    """A p-median instance: every demand point may be served by every candidate site.

    Attributes
    ----------
    name : str
        ``pmed1``..``pmed20`` or ``pmedcap1``..``pmedcap10``.
    cost : float64 array, shape (n_demand, n_sites)
        Allocation cost of serving demand point ``i`` from site ``j`` (graph distance for
        pmed, floored Euclidean distance for pmedcap).  Here demand points and sites are the
        same vertices, so the matrix is square with a zero diagonal.
    weights : float64 array, shape (n_demand,)
        Weight of each point in the objective ``sum_i weights[i] * cost[i, site(i)]``: 1 in
        both families.  (In Osman & Christofides' instances the demands count only against
        the capacities, not in the objective: with demand-weighted costs the optima differ.)
    p : int
        Number of medians to open.
    capacity : float or None
        Capacity of every site (pmedcap), ``None`` when uncapacitated.
    demand : float64 array or None
        What each point uses of its median's capacity (pmedcap), ``None`` when uncapacitated.
    optimum : float
        The published optimal objective.
    source : Path
        The file read.
    """

    name: str
    cost: FloatArray
    weights: FloatArray
    p: int
    capacity: float | None
    demand: FloatArray | None
    optimum: float
    source: Path

    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return int(self.cost.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (columns)."""
        return int(self.cost.shape[1])


@dataclass(frozen=True)
class SetCoverInstance:
    """A weighted set covering instance: choose columns of least total cost covering every row.

    Attributes
    ----------
    name : str
        ``scp41``..``scp410``.
    coverage : scipy.sparse.csr_array of bool, shape (n_rows, n_columns)
        ``coverage[i, j]`` is true when column ``j`` covers row ``i``.
    costs : float64 array, shape (n_columns,)
        Cost of each column.
    optimum : float
        The published optimal total cost.
    source : Path
        The file read.
    """

    name: str
    coverage: csr_array
    costs: FloatArray
    optimum: float
    source: Path

    @property
    def n_rows(self) -> int:
        """Number of rows to cover (demand points)."""
        return int(self.coverage.shape[0])

    @property
    def n_columns(self) -> int:
        """Number of columns (candidate sites)."""
        return int(self.coverage.shape[1])


def _numbers(path: Path) -> list[str]:
    return path.read_text().split()


def read_pmed_optima(path: Path) -> dict[str, float]:
    """The optima in ``pmedopt.txt``: ``{"pmed1": 5819.0, ...}`` (its header line is skipped)."""
    optima: dict[str, float] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed") and re.fullmatch(r"\d+", parts[1]):
            optima[parts[0]] = float(parts[1])
    if not optima:
        raise OrLibraryFormatError(f"{path}: no 'pmedN value' lines found")
    return optima


def read_pmed(path: Path, *, optima: dict[str, float] | None = None) -> PMedianInstance:
    """Read one ``pmedN.txt``: the graph, all-pairs shortest paths, ``p`` and the optimum.

    A repeated edge keeps the cost of its last line, whichever way round it is written
    (OR-Library's rule, see the module docstring).  ``optima`` defaults to the
    ``pmedopt.txt`` beside ``path``.
    """
    tokens = _numbers(path)
    if len(tokens) < 3:
        raise OrLibraryFormatError(f"{path}: expected 'n edges p' on the first line")
    n, n_edges, p = (int(t) for t in tokens[:3])
    body = tokens[3:]
    if len(body) != 3 * n_edges:
        raise OrLibraryFormatError(
            f"{path}: the header announces {n_edges} edges (3 numbers each) but "
            f"{len(body)} numbers follow"
        )
    edges = np.asarray(body, dtype=np.int64).reshape(n_edges, 3)
    i, j, cost = edges[:, 0] - 1, edges[:, 1] - 1, edges[:, 2].astype(np.float64)
    if i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n:
        raise OrLibraryFormatError(f"{path}: vertex numbers outside 1..{n}")
    # Last line wins for each unordered pair: find each pair's last occurrence.
    low, high = np.minimum(i, j), np.maximum(i, j)
    key = low * n + high
    _, last_from_end = np.unique(key[::-1], return_index=True)
    last = n_edges - 1 - last_from_end
    low, high, cost = low[last], high[last], cost[last]
    keep = low != high  # a self-loop cannot shorten anything (costs are positive)
    low, high, cost = low[keep], high[keep], cost[keep]
    graph = csr_matrix(
        (np.concatenate((cost, cost)), (np.concatenate((low, high)), np.concatenate((high, low)))),
        shape=(n, n),
    )
    dist = shortest_path(graph, method="D", directed=True)
    if not np.isfinite(dist).all():
        raise OrLibraryFormatError(f"{path}: the graph is not connected")
    if optima is None:
        optima = read_pmed_optima(path.parent / "pmedopt.txt")
    name = path.stem
    if name not in optima:
        raise OrLibraryFormatError(f"no optimum for {name} in pmedopt.txt")
    return PMedianInstance(name, dist, np.ones(n), p, None, None, optima[name], path)


def read_pmedcap(path: Path) -> PMedianInstance:
    """Read one Osman & Christofides file ``pmedcap1_K.txt`` (floored Euclidean costs).

    The objective is the plain sum of (floored) distances, point to median; each point's
    demand counts against its median's capacity only.
    """
    tokens = _numbers(path)
    if len(tokens) < 5:
        raise OrLibraryFormatError(f"{path}: expected 'probnum optimum' and 'n p Q' first")
    number, optimum = int(tokens[0]), float(tokens[1])
    n, p, capacity = int(tokens[2]), int(tokens[3]), float(tokens[4])
    body = tokens[5:]
    if len(body) != 4 * n:
        raise OrLibraryFormatError(
            f"{path}: expected {n} lines 'id x y demand' ({4 * n} numbers), found {len(body)}"
        )
    rows = np.asarray(body, dtype=np.float64).reshape(n, 4)
    if not np.array_equal(rows[:, 0], np.arange(1, n + 1)):
        raise OrLibraryFormatError(f"{path}: point ids are not 1..{n} in order")
    x, y, demand = rows[:, 1], rows[:, 2], rows[:, 3]
    cost = np.floor(np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]))
    return PMedianInstance(f"pmedcap{number}", cost, np.ones(n), p, capacity, demand, optimum, path)


def read_scp(path: Path, *, optimum: float) -> SetCoverInstance:
    """Read one ``scpNN.txt``; the optimum comes from :func:`read_scp_optima`."""
    tokens = np.asarray(_numbers(path), dtype=np.int64)
    m, n = int(tokens[0]), int(tokens[1])
    costs = tokens[2 : 2 + n].astype(np.float64)
    pos = 2 + n
    indptr = np.zeros(m + 1, dtype=np.int64)
    columns = []
    for row in range(m):
        if pos >= tokens.shape[0]:
            raise OrLibraryFormatError(f"{path}: the file ends at row {row + 1} of {m}")
        k = int(tokens[pos])
        columns.append(tokens[pos + 1 : pos + 1 + k] - 1)
        indptr[row + 1] = indptr[row] + k
        pos += 1 + k
    if pos != tokens.shape[0]:
        raise OrLibraryFormatError(f"{path}: {tokens.shape[0] - pos} numbers after the last row")
    indices = np.concatenate(columns)
    if indices.min() < 0 or indices.max() >= n:
        raise OrLibraryFormatError(f"{path}: column numbers outside 1..{n}")
    coverage = csr_array((np.ones(indices.shape[0], dtype=bool), indices, indptr), shape=(m, n))
    coverage.sum_duplicates()
    return SetCoverInstance(path.stem, coverage, costs, optimum, path)


def read_scp_optima(readme: Path) -> dict[str, float]:
    """The scp optima as the folder's README lists them (``41:429 42:512 ...``)."""
    text = readme.read_text()
    section = text.split("## scp/", 1)[-1]
    optima = {f"scp{a}": float(b) for a, b in re.findall(r"\b(4\d{1,2}):(\d+)\b", section)}
    if not optima:
        raise OrLibraryFormatError(f"{readme}: no 'NN:optimum' list found in the scp section")
    return optima


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(
            f"OR-Library folder not found: {folder}; pass the folder that holds pmed/, "
            "pmedcap/ and scp/ (on this workplace ../shared/data/benchmarks/or-library)"
        )


def pmed_instances(
    folder: Path = DEFAULT_FOLDER, names: tuple[str, ...] = PMED_NAMES
) -> list[PMedianInstance]:
    """pmed instances by name (default pmed1..pmed20)."""
    _check_folder(folder)
    optima = read_pmed_optima(folder / "pmed" / "pmedopt.txt")
    return [read_pmed(folder / "pmed" / f"{name}.txt", optima=optima) for name in names]


def pmedcap_instances(
    folder: Path = DEFAULT_FOLDER, names: tuple[str, ...] = PMEDCAP_NAMES
) -> list[PMedianInstance]:
    """Osman & Christofides instances by name (default pmedcap1..pmedcap10)."""
    _check_folder(folder)
    out = []
    for name in names:
        number = int(name.removeprefix("pmedcap"))
        out.append(read_pmedcap(folder / "pmedcap" / f"pmedcap1_{number}.txt"))
    return out


def scp_instances(
    folder: Path = DEFAULT_FOLDER, names: tuple[str, ...] = SCP_NAMES
) -> list[SetCoverInstance]:
    """Beasley's set 4 by name (default scp41..scp410)."""
    _check_folder(folder)
    optima = read_scp_optima(folder / "README.md")
    missing = [name for name in names if name not in optima]
    if missing:
        raise OrLibraryFormatError(f"no optimum in {folder / 'README.md'} for {missing}")
    return [read_scp(folder / "scp" / f"{name}.txt", optimum=optima[name]) for name in names]


def _main() -> None:
    parser = argparse.ArgumentParser(description="List the OR-Library instances and optima.")
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()
    print("| instance | demand points | sites | p | capacity | optimum |")
    print("|---|---|---|---|---|---|")
    for inst in pmed_instances(args.folder) + pmedcap_instances(args.folder):
        capacity = "—" if inst.capacity is None else f"{inst.capacity:g}"
        print(
            f"| {inst.name} | {inst.n_demand} | {inst.n_sites} | {inst.p} | {capacity} "
            f"| {inst.optimum:g} |"
        )
    for scp in scp_instances(args.folder):
        density = scp.coverage.nnz / (scp.n_rows * scp.n_columns)
        print(
            f"| {scp.name} | {scp.n_rows} rows | {scp.n_columns} columns "
            f"(density {density:.1%}, costs {scp.costs.min():g}-{scp.costs.max():g}) | — | — "
            f"| {scp.optimum:g} |"
        )


if __name__ == "__main__":
    _main()
