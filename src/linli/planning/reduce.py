r"""Exact problem reduction: shrink a location model before solving without changing its optimum.

The allowed (demand, site) pairs of a model are held as :class:`Pairs`, compressed sparse
rows in which a stored cost of 0 is a real pair (an origin standing on its site), unlike a
scipy matrix that may drop zeros.  A :class:`Reduction` records the smaller problem and how
to map its solution back.

Rules
-----
Every rule keeps at least one optimal plan of the original problem, so the reduced optimum
*is* the original optimum.

*All models*
    Forbidden sites are removed.  Demand points that no usable site can serve are set apart
    (for covering they can never be covered; for ``SetCover`` and ``PMedian`` they make the
    problem infeasible and the caller reports them).

*Uncapacitated covering (``SetCover``, ``MaxCover``)* — :func:`reduce_covering`
    1. **Already covered**: demand within reach of a required site is covered whatever else
       is chosen; its rows are removed (``MaxCover`` counts their weight as a constant).
    2. **Forced sites** (``SetCover`` only): a demand point only one usable site can cover
       forces that site open; it becomes required and rule 1 applies again.
    3. **Identical demand**: demand points covered by exactly the same sites are merged into
       one row whose weight is the sum of theirs.
    4. **Dominated sites**: site ``j`` is dropped if another site ``k`` covers every demand
       point ``j`` covers, at no greater cost (``f_k <= f_j``; costs are ignored when only
       the number of sites counts).  Ties between sites with equal coverage and cost are
       broken by position, keeping the first, so that every dropped site is dominated by a
       kept one.  Required sites are never dropped; a site that covers nothing left is.
       Swapping ``j`` for ``k`` in any plan keeps it feasible and no worse.
    5. **Dominated demand** (``SetCover`` only): demand point ``i`` is dropped if another
       point ``k`` can only be covered by sites that also cover ``i``
       (:math:`N_k \subseteq N_i`): every plan that covers ``k`` covers ``i``, so the row
       :math:`\sum_{j \in N_i} y_j \ge 1` is implied by :math:`\sum_{j \in N_k} y_j \ge 1`
       and the feasible plans are the same.  After rule 3 no two rows are equal, so the
       subsets are strict and every dropped row keeps a minimal row below it.  Not valid
       for ``MaxCover``, where ``i`` and ``k`` count separately when neither is covered.
       On the benchmark's street grids it drops 55-70 % of the rows left at 10 minutes
       and 30-40 % at 20 minutes (:func:`dominated_rows`).

    Rules 1-5 repeat until nothing changes.

*Capacitated models*
    Only pairs whose demand exceeds the site's capacity are removed (such a point can never
    be assigned there).  Merging demand points would force them onto one site, and a site
    whose coverage is contained in another's may still be needed beside it when capacity
    binds, so neither rule is valid; none is applied.

*Uncapacitated p-median* — :func:`reduce_median`
    Demand points with the same allowed sites at the same costs are merged (weights
    summed): each goes to its nearest open site, so they are served alike in every plan.
    No site is dropped: with exactly ``p`` sites and sparse pairs, even a site that serves
    nothing well can be needed to reach ``p``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy import sparse

__all__ = [
    "Pairs",
    "Reduction",
    "dominated_rows",
    "dominated_sites",
    "merge_identical_rows",
    "reduce_covering",
    "reduce_median",
    "restrict",
]

log = logging.getLogger(__name__)

I8 = NDArray[np.int64]
F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]

_BLOCK_SITES = 2048  # sites compared at once in the dominance test (bounds memory)


@dataclass(frozen=True)
class Pairs:
    """Allowed (demand, site) pairs in compressed sparse rows, with their costs.

    Demand ``i`` may be served by sites ``indices[indptr[i]:indptr[i+1]]`` (ascending) at
    ``cost[indptr[i]:indptr[i+1]]``.

    Attributes
    ----------
    indptr : int64 array, length ``n_rows + 1``
    indices : int64 array
        Site positions ``0..n_sites-1``, ascending within a row, no duplicates.
    cost : float64 array
        Cost of each pair (e.g. walking minutes); zeros are real pairs.
    n_sites : int
    """

    indptr: I8
    indices: I8
    cost: F8
    n_sites: int

    @property
    def n_rows(self) -> int:
        """Number of demand points (rows)."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_pairs(self) -> int:
        """Number of allowed pairs."""
        return int(self.indices.shape[0])

    def row_of_pair(self) -> I8:
        """The row (demand point) of each pair."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))

    def row_counts(self) -> I8:
        """Number of allowed sites per row."""
        return np.diff(self.indptr)

    def keep(self, pair_mask: B1) -> Pairs:
        """The pairs where ``pair_mask`` is true (rows and sites unchanged)."""
        counts = np.bincount(self.row_of_pair()[pair_mask], minlength=self.n_rows)
        indptr = np.zeros(self.n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return Pairs(indptr, self.indices[pair_mask], self.cost[pair_mask], self.n_sites)

    def take_rows(self, rows: I8) -> Pairs:
        """The given rows, in that order."""
        counts = self.row_counts()[rows]
        indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        starts = np.repeat(self.indptr[rows] - indptr[:-1], counts)
        src = starts + np.arange(indptr[-1], dtype=np.int64)
        return Pairs(indptr, self.indices[src], self.cost[src], self.n_sites)

    def take_sites(self, sites: I8) -> Pairs:
        """Only the pairs to ``sites`` (ascending), renumbered ``0..len(sites)-1``."""
        new = np.full(self.n_sites, -1, dtype=np.int64)
        new[sites] = np.arange(sites.shape[0], dtype=np.int64)
        mask = new[self.indices] >= 0
        kept = self.keep(mask)
        return Pairs(kept.indptr, new[kept.indices], kept.cost, int(sites.shape[0]))

    def coverage(self) -> sparse.csr_array:
        """The pattern as a ``rows x sites`` sparse matrix of ones (int32)."""
        return sparse.csr_array(
            (np.ones(self.n_pairs, dtype=np.int32), self.indices, self.indptr),
            shape=(self.n_rows, self.n_sites),
        )


@dataclass(frozen=True)
class Reduction:
    """A reduced problem and the map back to the original.

    Attributes
    ----------
    pairs : Pairs
        The reduced problem's pairs: reduced rows x reduced sites.
    weights : float array
        Weight of each reduced row (the sum over the demand points merged into it).
    required : bool array
        Per reduced site: fixed open (required by the user, or forced by a reduction rule).
    sites : int array
        Original position of each reduced site, ascending.
    row_of : int array
        Per original demand point, its reduced row, or -1 if set apart (already covered by a
        required site, covered whenever another row is, or unreachable).
    covered_weight : float
        Weight of the demand set apart as already covered by required sites.
    unreachable : int array
        Original demand points no usable site can serve.
    removed : dict
        How many rows, sites or pairs each rule removed.
    """

    pairs: Pairs
    weights: F8
    required: B1
    sites: I8
    row_of: I8
    covered_weight: float = 0.0
    unreachable: I8 = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Rows of the reduced problem."""
        return self.pairs.n_rows

    @property
    def n_sites(self) -> int:
        """Sites of the reduced problem."""
        return self.pairs.n_sites

    def expand_sites(self, chosen: I8) -> I8:
        """Original positions of reduced sites ``chosen``, ascending."""
        return np.sort(self.sites[np.asarray(chosen, dtype=np.int64)])

    def expand_rows(self, values: I8, *, fill: int = -1) -> I8:
        """Per original demand point, the value of its reduced row (``fill`` if set apart)."""
        out = np.full(self.row_of.shape[0], fill, dtype=np.int64)
        kept = self.row_of >= 0
        out[kept] = np.asarray(values, dtype=np.int64)[self.row_of[kept]]
        return out


def restrict(
    pairs: Pairs,
    *,
    weights: F8,
    required: B1,
    usable: B1,
    pair_mask: B1 | None = None,
) -> Reduction:
    """Only usable sites (and the pairs in ``pair_mask``); every row kept, none merged.

    The reduction for capacitated models (see the module notes).
    """
    mask = usable[pairs.indices] if pair_mask is None else usable[pairs.indices] & pair_mask
    sites = np.flatnonzero(usable).astype(np.int64)
    reduced = pairs.keep(mask).take_sites(sites)
    counts = reduced.row_counts()
    return Reduction(
        pairs=reduced,
        weights=np.asarray(weights, dtype=np.float64),
        required=required[sites],
        sites=sites,
        row_of=np.arange(pairs.n_rows, dtype=np.int64),
        unreachable=np.flatnonzero(counts == 0).astype(np.int64),
        removed={
            "forbidden sites": int(pairs.n_sites - sites.shape[0]),
            "pairs over capacity": int(pairs.n_pairs - np.count_nonzero(mask)),
        },
    )


def merge_identical_rows(pairs: Pairs, *, with_cost: bool) -> tuple[I8, I8]:
    """Group rows with the same allowed sites (and, if ``with_cost``, the same costs).

    Returns
    -------
    group : int array
        Per row, its group ``0..n_groups-1`` (groups numbered by first appearance).
    first : int array
        Per group, its first row.
    """
    groups: dict[bytes, int] = {}
    group = np.empty(pairs.n_rows, dtype=np.int64)
    first: list[int] = []
    ptr = pairs.indptr.tolist()
    index_bytes = pairs.indices.tobytes()
    cost_bytes = pairs.cost.tobytes() if with_cost else b""
    size = pairs.indices.itemsize
    for i in range(pairs.n_rows):
        a, b = ptr[i] * size, ptr[i + 1] * size
        key = index_bytes[a:b] + b"|" + cost_bytes[a:b] if with_cost else index_bytes[a:b]
        g = groups.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        group[i] = g
    return group, np.asarray(first, dtype=np.int64)


def dominated_sites(pairs: Pairs, *, site_cost: F8, required: B1) -> B1:
    """Sites dominated by another: it covers every row they cover, at no greater cost.

    Site ``j`` is dominated by ``k`` when ``cover(j) ⊆ cover(k)``, ``f_j >= f_k`` and
    ``(|cover(j)|, -f_j, -j) < (|cover(k)|, -f_k, -k)`` — a strict order, so every dominated
    site has an undominated dominator.  Required sites are never reported; sites covering no
    row are.

    Parameters
    ----------
    pairs : Pairs
    site_cost : float array
        Per site; pass zeros when only the number of sites counts.
    required : bool array
        Per site.

    Returns
    -------
    bool array
        Per site, whether it may be dropped.
    """
    a = pairs.coverage()
    at = a.T.tocsr()
    size = np.asarray(np.diff(at.indptr), dtype=np.int64)
    out: B1 = size == 0
    for lo in range(0, pairs.n_sites, _BLOCK_SITES):
        hi = min(lo + _BLOCK_SITES, pairs.n_sites)
        overlap = (at[lo:hi] @ a).tocoo()  # |cover(j) ∩ cover(k)| for j in the block
        j = overlap.row.astype(np.int64) + lo
        k = overlap.col.astype(np.int64)
        subset = (overlap.data == size[j]) & (j != k)
        j, k = j[subset], k[subset]
        fj, fk = site_cost[j], site_cost[k]
        worse = (fj >= fk) & ((size[j] < size[k]) | (fj > fk) | (j > k))
        out[j[worse]] = True
    out &= ~required
    return out


@njit(cache=True, nogil=True)
def _dominated_rows_kernel(indptr, indices, n_sites):  # type: ignore[no-untyped-def]
    """Rows ``i`` with another row ``k`` such that ``N_k ⊆ N_i`` (ties: the later row).

    A row ``k`` can only be a subset of rows that contain its *rarest* site (the one in the
    fewest rows), so rows are bucketed by their rarest site; each row ``i`` marks its sites
    and tests, with an early exit, only the rows in the buckets of its own sites.
    """
    n = indptr.shape[0] - 1
    col_count = np.zeros(n_sites, np.int64)
    for p in range(indices.shape[0]):
        col_count[indices[p]] += 1
    rare = np.empty(n, np.int64)
    bucket_ptr = np.zeros(n_sites + 1, np.int64)
    for i in range(n):
        best = indices[indptr[i]]
        for p in range(indptr[i] + 1, indptr[i + 1]):
            if col_count[indices[p]] < col_count[best]:
                best = indices[p]
        rare[i] = best
        bucket_ptr[best + 1] += 1
    for s in range(n_sites):
        bucket_ptr[s + 1] += bucket_ptr[s]
    fill = bucket_ptr[:-1].copy()
    bucket = np.empty(n, np.int64)
    for i in range(n):
        bucket[fill[rare[i]]] = i
        fill[rare[i]] += 1
    mark = np.zeros(n_sites, np.bool_)
    out = np.zeros(n, np.bool_)
    for i in range(n):
        size_i = indptr[i + 1] - indptr[i]
        for p in range(indptr[i], indptr[i + 1]):
            mark[indices[p]] = True
        found = False
        for p in range(indptr[i], indptr[i + 1]):
            s = indices[p]
            for q in range(bucket_ptr[s], bucket_ptr[s + 1]):
                k = bucket[q]
                size_k = indptr[k + 1] - indptr[k]
                if k == i or size_k > size_i or (size_k == size_i and k > i):
                    continue
                found = True
                for r in range(indptr[k], indptr[k + 1]):
                    if not mark[indices[r]]:
                        found = False
                        break
                if found:
                    break
            if found:
                break
        for p in range(indptr[i], indptr[i + 1]):
            mark[indices[p]] = False
        out[i] = found
    return out


def dominated_rows(pairs: Pairs) -> B1:
    r"""Rows whose allowed sites include all of another row's: covered whenever that one is.

    Row ``i`` is reported when some row ``k != i`` has :math:`N_k \subseteq N_i` and
    ``(|N_k|, k) < (|N_i|, i)`` — a strict order, so every reported row has an unreported
    row below it (rule 5 of the module notes).  Rows without any pair are never reported.
    About 0.3 s for 50,000 rows x 5,000 sites with 2.4 million pairs.

    Parameters
    ----------
    pairs : Pairs

    Returns
    -------
    bool array
        Per row, whether it may be dropped from a cover-all problem.

    Examples
    --------
    >>> import numpy as np
    >>> p = Pairs(np.array([0, 2, 3, 5]), np.array([0, 1, 1, 1, 2]), np.zeros(5), 3)
    >>> dominated_rows(p).tolist()  # N_1 = {1} is inside N_0 = {0, 1} and N_2 = {1, 2}
    [True, False, True]
    """
    counts = pairs.row_counts()
    out = np.zeros(pairs.n_rows, dtype=bool)
    live = np.flatnonzero(counts > 0)
    if live.size < 2:
        return out
    sub = pairs.take_rows(live)
    out[live] = _dominated_rows_kernel(sub.indptr, sub.indices, sub.n_sites)
    return out


def _cover_rows(pairs: Pairs, sites: B1) -> B1:
    """Rows with at least one pair to a site in ``sites``."""
    hits: NDArray[np.int64] = np.asarray(pairs.coverage() @ sites.astype(np.int32))
    return hits > 0


def _renumber(row_of: I8, new_of_current: I8) -> I8:
    """Compose ``original -> current`` with ``current -> new`` (-1 stays -1)."""
    return np.where(row_of >= 0, new_of_current[np.maximum(row_of, 0)], -1)


def _kept(keep: I8, n_current: int) -> I8:
    """``current -> new`` when only rows ``keep`` are kept."""
    new = np.full(n_current, -1, dtype=np.int64)
    new[keep] = np.arange(keep.shape[0], dtype=np.int64)
    return new


def reduce_covering(
    pairs: Pairs,
    *,
    weights: F8,
    site_cost: F8,
    required: B1,
    usable: B1,
    cover_all: bool,
) -> Reduction:
    """Shrink an uncapacitated covering problem exactly (rules 1-5 of the module notes).

    Parameters
    ----------
    pairs : Pairs
        Allowed pairs of the original problem.
    weights : float array
        Per demand point, >= 0.
    site_cost : float array
        Per site, >= 0; zeros when only the number of sites counts (``MaxCover`` with ``p``).
    required, usable : bool array
        Per site: fixed open; not forbidden.
    cover_all : bool
        ``True`` for ``SetCover`` (every demand point must be covered: forced sites and
        dominated rows apply); ``False`` for ``MaxCover``.

    Returns
    -------
    Reduction
    """
    base = restrict(pairs, weights=weights, required=required, usable=usable)
    removed = {"forbidden sites": base.removed["forbidden sites"]}
    req = base.required.copy()
    cost = np.asarray(site_cost, dtype=np.float64)[base.sites]
    site_ids = base.sites
    reachable = np.flatnonzero(base.pairs.row_counts() > 0)
    cur, w = base.pairs.take_rows(reachable), base.weights[reachable]
    row_of = _kept(reachable, pairs.n_rows)  # original row -> current row, or -1
    covered_weight = 0.0

    def count(rule: str, n: int) -> None:
        removed[rule] = removed.get(rule, 0) + int(n)

    # A rule can only fire again after another has changed what it looks at: rows lose sites
    # only when sites are dropped (forced sites, identical and dominated rows), sites lose
    # rows only when rows are dropped (dominated sites), and rule 1 needs new required sites.
    stale = {"forced", "covered", "merge", "rows", "sites"}

    def sites_dropped() -> None:
        stale.update(("forced", "merge", "rows"))

    def rows_dropped() -> None:
        stale.add("sites")

    while stale:
        if cover_all and "forced" in stale:  # 2. a row only one site can cover forces it
            forced = np.zeros(cur.n_sites, dtype=bool)
            forced[cur.indices[cur.indptr[:-1][cur.row_counts() == 1]]] = True
            forced &= ~req
            if forced.any():
                count("forced sites", forced.sum())
                req |= forced
                stale.add("covered")
        stale.discard("forced")
        if "covered" in stale:  # 1. already covered by a required site
            done = _cover_rows(cur, req)
            if done.any():
                count("rows covered by required sites", done.sum())
                covered_weight += float(w[done].sum())
                keep = np.flatnonzero(~done)
                row_of = _renumber(row_of, _kept(keep, cur.n_rows))
                cur, w = cur.take_rows(keep), w[keep]
                rows_dropped()
            stale.discard("covered")
        if "merge" in stale:  # 3. identical rows
            group, first = merge_identical_rows(cur, with_cost=False)
            if first.shape[0] < cur.n_rows:
                count("merged rows", cur.n_rows - first.shape[0])
                row_of = _renumber(row_of, group)
                w = np.bincount(group, weights=w, minlength=first.shape[0]).astype(np.float64)
                cur = cur.take_rows(first)
                rows_dropped()
            stale.discard("merge")
        if cover_all and "rows" in stale:  # 5. rows covered whenever another row is
            implied = dominated_rows(cur)
            if implied.any():
                count("dominated rows", implied.sum())
                keep = np.flatnonzero(~implied)
                row_of = _renumber(row_of, _kept(keep, cur.n_rows))
                cur, w = cur.take_rows(keep), w[keep]
                rows_dropped()
        stale.discard("rows")
        if "sites" in stale:  # 4. dominated sites
            drop = dominated_sites(cur, site_cost=cost, required=req)
            stale.discard("sites")
            if drop.any():
                count("dominated sites", drop.sum())
                keep_sites = np.flatnonzero(~drop)
                cur = cur.take_sites(keep_sites)
                req, cost, site_ids = req[keep_sites], cost[keep_sites], site_ids[keep_sites]
                sites_dropped()

    return Reduction(
        pairs=cur,
        weights=w,
        required=req,
        sites=site_ids,
        row_of=row_of,
        covered_weight=covered_weight,
        unreachable=base.unreachable,
        removed=removed,
    )


def reduce_median(pairs: Pairs, *, weights: F8, required: B1, usable: B1) -> Reduction:
    """Shrink an uncapacitated p-median problem exactly: merge rows with equal sites and costs.

    Parameters
    ----------
    pairs : Pairs
    weights : float array
        Per demand point, >= 0.
    required, usable : bool array
        Per site: fixed open; not forbidden.

    Returns
    -------
    Reduction
        Unreachable rows are listed and left out of the reduced problem.
    """
    base = restrict(pairs, weights=weights, required=required, usable=usable)
    reachable = np.flatnonzero(base.pairs.row_counts() > 0)
    cur = base.pairs.take_rows(reachable)
    group, first = merge_identical_rows(cur, with_cost=True)
    w: F8 = np.bincount(group, weights=base.weights[reachable], minlength=first.shape[0]).astype(
        np.float64
    )
    row_of = np.full(pairs.n_rows, -1, dtype=np.int64)
    row_of[reachable] = group
    return Reduction(
        pairs=cur.take_rows(first),
        weights=w,
        required=base.required,
        sites=base.sites,
        row_of=row_of,
        unreachable=base.unreachable,
        removed={
            "forbidden sites": base.removed["forbidden sites"],
            "merged rows": int(cur.n_rows - first.shape[0]),
        },
    )
