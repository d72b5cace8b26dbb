r"""The p-median at scale: a Lagrangian bound, vertex substitution and reduced-cost fixing.

What :class:`linli.planning.PMedian` runs before HiGHS (its ``_warm``), on the reduced
problem of :func:`linli.planning.reduce.reduce_median`: rows ``i`` with weight ``w_i``,
sites ``j``, allowed pairs ``(i, j)`` with cost ``c_ij`` (walking minutes) and
``a_ij = w_i c_ij``, required sites ``R``, exactly ``p`` sites.

Lagrangian bound
----------------
Relaxing the assignment rows :math:`\sum_{j \in N_i} x_{ij} = 1` with free multipliers
``λ_i`` leaves

.. math::

    L(\lambda) = \sum_i \lambda_i + \min_{S \supseteq F,\ |S| = p} \sum_{j \in S} \rho_j,
    \qquad \rho_j = \sum_{i : j \in N_i} \min(0,\ a_{ij} - \lambda_i),

a lower bound on the optimum for every ``λ`` (``F``: the sites every plan opens — the
required ones and the only site of a row with one allowed pair).  The inner minimum opens
``F`` and the ``p - |F|`` other sites of least ``ρ_j``.  ``λ`` follows the subgradient
:math:`g_i = 1 - |\{j \in S : a_{ij} < \lambda_i\}|` with Polyak's step
:math:`t = \theta (U - L(\lambda)) / \lVert g \rVert^2` (``U``: the incumbent), ``θ`` halved
when the bound stalls.  A row with few allowed sites is no special case: while none of its
sites is open ``g_i = 1`` and ``λ_i`` rises until one is.  When every cost ``a_ij`` is an
integer, the bound is rounded up.

Vertex substitution
-------------------
The incumbent comes from the Lagrangian's sites ``S`` improved by swaps (Teitz and Bart's
vertex substitution with the fast interchange of Whitaker 1983 / Resende and Werneck 2007):
per row its nearest and second-nearest open sites ``φ1, φ2`` at ``d1, d2``; per closed site
the gain of opening it, per open site the loss of closing it, and per (open, closed) pair the
correction ``extra``, so that the profit of swapping ``r`` out for ``j`` is
``gain(j) - loss(r) + extra(r, j)``.  After a swap only the rows near ``r`` or ``j`` are
updated.  A row with no open allowed site costs ``U_0``, more than any feasible plan, so
the swaps first make the plan feasible (every row has an open allowed site), then cheaper.

These local optima are weak at scale: at 50,000 x 5,000 with ``p = 500`` the Lagrangian
bound levels off at 31.03 M (9,000 iterations instead of 3,000, with the incumbent or a
level just above the bound as Polyak's target, gain 0.003 %) while plans from the
Lagrangian's sites stop at 31.42-31.66 M.  So when the ascent and fixing leave a gap, an
iterated local search (:func:`iterated_swaps`) improves the incumbent: a few random swaps
near one open site, swaps to a local optimum, kept if cheaper (in 60 s on a quiet machine:
50,000 x 5,000 from a 1.36 % gap to 0.77 %, the 5-million mountain city from 1.17 % to
0.46 %, 10,000 x 1,000 from 0.84 % to 0.53 %).

Reduced-cost fixing
-------------------
With ``L = L(λ)``, ``S`` its sites, ``k`` the free site of ``S`` with the largest ``ρ`` and
``l`` the free site outside ``S`` with the smallest, the bound of the plans that

* open ``j ∉ S``: :math:`L + \rho_j - \rho_k`;
* close ``j ∈ S \setminus F``: :math:`L - \rho_j + \rho_l`;
* assign ``i`` to ``j`` (pair ``(i, j)``): :math:`L + \max(0, a_{ij} - \lambda_i)`
  (:math:`+ \rho_j - \rho_k` when ``j ∉ S``).

When such a bound reaches the incumbent's value ``U``, no plan of that kind is strictly
better than the incumbent: the site is closed (:attr:`Warm.closed`), the site is open in
every better plan, or the pair is closed (:attr:`Warm.closed_pairs`).  A site open in every
better plan also closes, for each row it serves, the pairs that cost more than it (each row
goes to its nearest open site).  The relaxation is then solved again on what is left — its
bound ``L'`` holds for the plans better than ``U``, so ``min(U, L')`` is a bound of the whole
problem — until nothing more is fixed.  A row left with no pair, or fewer than ``p`` sites
left, proves the incumbent optimal.

Branch-and-bound
----------------
When a gap is left, a depth-first Lagrangian branch-and-bound settles the sites still free
(:func:`_branch_and_bound`): a node fixes some of them open or closed, its bound is the
relaxation ascended from its parent's multipliers, its reduced costs fix more sites, and it
branches on the free site most often half-open in the ascent (its share of the ascent's
sites nearest one half).  The tree proves the incumbent optimal or gives up (time, nodes, or
a pace that says it would take over 4x its budget); HiGHS then solves the problem as
before.  On pmed16/17, where the bound stops 0.4-0.9 % below
the optimum (the linear-programming bound), about 100 nodes (1-3 s) settle what HiGHS's
root took 10-20 s for.

Capacities
----------
:func:`capacitated_warm` keeps the capacities in the relaxation: each ``ρ_j`` becomes a
0-1 knapsack (see there), the same ascent (compiled whole, :func:`_cap_ascent`: a node of
the tree is many ascent steps on a small problem), fixing, probing and branch-and-bound
follow.  This bound is the Dantzig-Wolfe (set-partitioning) one: on pmedcap8 it stops at
771 against the optimum 820 however long the ascent runs (a lower bound on each open
site's load, total demand minus what the other ``p - 1`` sites hold, lifts it to 772
only), so there the tree does the work: about 1,200 nodes.

References
----------
Beasley, J.E. (1993). Lagrangean heuristics for location problems. EJOR 65, 383-399.
Resende, M.G.C. & Werneck, R.F. (2007). A fast swap-based local search procedure for
location problems. Annals of OR 150, 205-230.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy import sparse

from linli.planning._highs import Mip, solve_mip
from linli.planning.reduce import Pairs
from linli.planning.warm import Warm

__all__ = [
    "LagrangianBound",
    "capacitated_warm",
    "iterated_swaps",
    "lagrangian_bound",
    "median_warm",
    "vertex_substitution",
]

log = logging.getLogger(__name__)

I8 = NDArray[np.int64]
F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]

_SWAP_MATRIX_MAX = 60_000_000
"""Largest ``p x sites`` swap matrix (float64: 480 MB) the vertex substitution builds."""

_SWAP_BATCH = 200
"""Swaps per call of the compiled search (the deadline is checked between calls)."""

_KICK_MAX = 5
"""The iterated local search's perturbation: 1 to this many random swaps near one open site
(a first trial in Python, from the 60 s warm start's 31.42 M at 50,000 x 5,000: 31.37 M
after 40 s, 31.31 M after 190 s; not tuned further)."""

_BRANCH_SHARE = 0.5
"""The Lagrangian branch-and-bound after the fixing may use this share of the warm start's
time left (on pmed16/17 it proves the optimum in about 100 nodes, 1-3 s); if it cannot
finish, HiGHS gets the rest."""

_BRANCH_MAX_NODES = 500
"""At most this many branch-and-bound nodes on an uncapacitated problem: pmed16/17 need about
100; where more are needed the gap left is usually one that HiGHS closes at its root after
the fixing (on pmed9, bound 2733 against 2734, 1,200 nodes in 12 s proved nothing, HiGHS then
took no node)."""

_CAP_BRANCH_MAX_NODES = 20_000
"""At most this many on a capacitated one (pmedcap8 needs about 1,200)."""

_NODE_ITERATIONS = 150
"""Subgradient iterations per branch-and-bound node (from its parent's multipliers)."""

_TREE_HEURISTIC_SHARE = 0.1
"""In the branch-and-bound the Lagrangian heuristic runs (once per node) only while it has
taken less than this share of its time: most nodes are there to prove, not to find (on
pmedcap8, at 0.3, it took 30 % of the tree's time and found nothing)."""

_ILS_STALE = 5
""":meth:`_OnPlan.improve` stops after this many rounds per open site in a row without a
cheaper plan: a round perturbs the plan around one open site, so each is a centre about
this often.  At 50,000 x 5,000 (p = 500) the plans still improved after 1,000 such rounds;
on pmed16 (p = 5, every pair allowed: a swap touches most rows) 500 rounds took 3.6 s and
found nothing the Lagrangian heuristic had not."""

_HEURISTIC_SHARE = 0.3
"""After its first run, the Lagrangian heuristic runs only while it has taken less than this
share of the time so far (at 50,000 x 5,000 one swap search takes seconds)."""


# --- compiled kernels -----------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _rho(indptr, indices, a, lam, rho):  # type: ignore[no-untyped-def]
    """``rho_j = Σ_i min(0, a_ij - λ_i)`` (written into ``rho``); each row's pairs in
    ascending cost, so that a row stops at its first pair costing ``λ_i`` or more."""
    rho[:] = 0.0
    for i in range(indptr.shape[0] - 1):
        li = lam[i]
        for k in range(indptr[i], indptr[i + 1]):
            r = a[k] - li
            if r >= 0.0:
                break
            rho[indices[k]] += r


@njit(cache=True, nogil=True)
def _subgradient(indptr, indices, a, lam, is_open, g):  # type: ignore[no-untyped-def]
    """``g_i = 1 - |{j open : a_ij < λ_i}|``; returns ``‖g‖²`` (pairs as for :func:`_rho`)."""
    norm = 0.0
    for i in range(indptr.shape[0] - 1):
        li = lam[i]
        c = 0
        for k in range(indptr[i], indptr[i + 1]):
            if a[k] >= li:
                break
            if is_open[indices[k]]:
                c += 1
        gi = 1.0 - c
        g[i] = gi
        norm += gi * gi
    return norm


@njit(cache=True, nogil=True)
def _plan_cost(indptr, indices, a, is_open):  # type: ignore[no-untyped-def]
    """Σ_i min over open allowed sites of a_ij, and the number of rows with none."""
    total = 0.0
    unserved = 0
    for i in range(indptr.shape[0] - 1):
        best = np.inf
        for k in range(indptr[i], indptr[i + 1]):
            if is_open[indices[k]] and a[k] < best:
                best = a[k]
        if best == np.inf:
            unserved += 1
        else:
            total += best
    return total, unserved


@njit(cache=True, nogil=True)
def _nearest_two(indptr, indices, a, is_open, i, none_cost):  # type: ignore[no-untyped-def]
    """Nearest and second-nearest open sites of row ``i`` (-1: none, at ``none_cost``)."""
    j1, j2 = -1, -1
    d1, d2 = none_cost, none_cost
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        if is_open[j]:
            c = a[k]
            if c < d1:
                j2, d2 = j1, d1
                j1, d1 = j, c
            elif c < d2:
                j2, d2 = j, c
    return j1, d1, j2, d2


@njit(cache=True, nogil=True)
def _add_row(indptr, indices, a, i, sign, phi1, d1, d2, slot, gain, loss, extra):  # type: ignore[no-untyped-def]
    """Add (``sign`` 1) or remove (-1) row ``i``'s share of gain, loss and extra."""
    r = phi1[i]
    b1, b2 = d1[i], d2[i]
    s = slot[r] if r >= 0 else -1
    for k in range(indptr[i], indptr[i + 1]):
        j = indices[k]
        c = a[k]
        if c < b1:
            gain[j] += sign * (b1 - c)
        if s >= 0 and j != r and c < b2:
            extra[s, j] += sign * (b2 - max(c, b1))
    if r >= 0:
        loss[r] += sign * (b2 - b1)


@njit(cache=True, nogil=True)
def _swap_state(indptr, indices, a, is_open, none_cost):  # type: ignore[no-untyped-def]
    """The fast interchange's bookkeeping for the plan ``is_open``: the open sites and their
    slots, per row ``φ1, d1, φ2, d2``, and ``gain``, ``loss``, ``extra`` (module notes)."""
    n = indptr.shape[0] - 1
    m = is_open.shape[0]
    open_sites = np.flatnonzero(is_open)
    p = open_sites.shape[0]
    slot = np.full(m, -1, np.int64)
    for s in range(p):
        slot[open_sites[s]] = s
    phi1 = np.empty(n, np.int64)
    phi2 = np.empty(n, np.int64)
    d1 = np.empty(n)
    d2 = np.empty(n)
    gain = np.zeros(m)
    loss = np.zeros(m)
    extra = np.zeros((p, m))
    for i in range(n):
        j1, c1, j2, c2 = _nearest_two(indptr, indices, a, is_open, i, none_cost)
        phi1[i], d1[i], phi2[i], d2[i] = j1, c1, j2, c2
        _add_row(indptr, indices, a, i, 1.0, phi1, d1, d2, slot, gain, loss, extra)
    return open_sites, slot, phi1, phi2, d1, d2, gain, loss, extra


@njit(cache=True, nogil=True)
def _apply_swap(  # type: ignore[no-untyped-def]
    indptr, indices, a, t_ptr, t_row, t_pair, is_open, none_cost, state, scratch, br, bj
):
    """Close ``br``, open ``bj`` and update ``state`` (of :func:`_swap_state`) for the rows
    near either.  ``scratch``: ``mark`` (all False) and ``affected``, one entry a row, and
    ``dirty_r``, ``dirty_j``, one a site, where the sites whose ``loss`` or ``extra`` row
    (open sites) or ``gain`` or ``extra`` column (closed sites) changed are marked."""
    mark, affected, dirty_r, dirty_j = scratch
    open_sites, slot, phi1, phi2, d1, d2, gain, loss, extra = state
    na = 0
    for q in range(t_ptr[br], t_ptr[br + 1]):
        i = t_row[q]
        if (phi1[i] == br or phi2[i] == br) and not mark[i]:
            mark[i] = True
            affected[na] = i
            na += 1
    for q in range(t_ptr[bj], t_ptr[bj + 1]):
        i = t_row[q]
        if a[t_pair[q]] < d2[i] and not mark[i]:
            mark[i] = True
            affected[na] = i
            na += 1
    for q in range(na):
        i = affected[q]
        if phi1[i] >= 0:
            dirty_r[phi1[i]] = True
        for k in range(indptr[i], indptr[i + 1]):
            dirty_j[indices[k]] = True
        _add_row(indptr, indices, a, i, -1.0, phi1, d1, d2, slot, gain, loss, extra)
    dirty_r[bj] = True
    dirty_j[br] = True
    s = slot[br]
    open_sites[s] = bj
    slot[bj] = s
    slot[br] = -1
    is_open[br] = False
    is_open[bj] = True
    extra[s, :] = 0.0
    loss[br] = 0.0
    gain[bj] = 0.0
    gain[br] = 0.0
    for q in range(na):
        i = affected[q]
        j1, c1, j2, c2 = _nearest_two(indptr, indices, a, is_open, i, none_cost)
        phi1[i], d1[i], phi2[i], d2[i] = j1, c1, j2, c2
        _add_row(indptr, indices, a, i, 1.0, phi1, d1, d2, slot, gain, loss, extra)
        if j1 >= 0:
            dirty_r[j1] = True
        mark[i] = False


@njit(cache=True, nogil=True)
def _descend(  # type: ignore[no-untyped-def]
    indptr, indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open, none_cost, tol,
    max_swaps, state, scratch, full
):  # fmt: skip
    """Best-improvement swaps on ``state`` until none improves by more than ``tol`` or
    ``max_swaps`` are made; returns the swaps made.

    Unless ``full``, ``state`` was a local optimum when ``scratch``'s dirty marks were last
    cleared: only the swaps with a marked site can have become profitable since, so only
    those are scanned: the same swaps as a full scan, and at 50,000 x 5,000 nine times as
    many rounds of :func:`_iterated_swaps` a second.
    """
    open_sites, _, _, _, _, _, gain, loss, extra = state
    dirty_r, dirty_j = scratch[2], scratch[3]
    m = is_open.shape[0]
    p = open_sites.shape[0]
    cand = np.empty(m, np.int64)
    near = np.empty(m, np.int64)
    swaps = 0
    while swaps < max_swaps:
        nc, nn = 0, 0
        for j in range(m):
            if can_open[j] and not is_open[j]:
                cand[nc] = j
                nc += 1
                if dirty_j[j]:
                    near[nn] = j
                    nn += 1
        best, br, bj = tol, -1, -1
        for s in range(p):
            r = open_sites[s]
            if fixed[r]:
                continue
            base = -loss[r]
            js, nj = (cand, nc) if full or dirty_r[r] else (near, nn)
            for q in range(nj):
                j = js[q]
                v = gain[j] + extra[s, j] + base
                if v > best:
                    best, br, bj = v, r, j
        if br < 0:
            break
        _apply_swap(
            indptr, indices, a, t_ptr, t_row, t_pair, is_open, none_cost, state, scratch, br, bj
        )  # fmt: skip
        swaps += 1
    return swaps


@njit(cache=True, nogil=True)
def _swap_search(  # type: ignore[no-untyped-def]
    indptr, indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open, none_cost, tol, max_swaps
):
    """Best-improvement swaps (fast interchange) until none improves by more than ``tol``.

    ``is_open`` (exactly p sites) is updated in place; ``fixed`` sites never close, only
    ``can_open`` sites open.  Returns the number of swaps made.
    """
    state = _swap_state(indptr, indices, a, is_open, none_cost)
    scratch = _swap_scratch(indptr.shape[0] - 1, is_open.shape[0])
    return _descend(
        indptr, indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open, none_cost, tol,
        max_swaps, state, scratch, True
    )  # fmt: skip


@njit(cache=True, nogil=True)
def _swap_scratch(n, m):  # type: ignore[no-untyped-def]
    """The scratch arrays of :func:`_apply_swap` for ``n`` rows and ``m`` sites."""
    return (
        np.zeros(n, np.bool_),
        np.empty(n, np.int64),
        np.zeros(m, np.bool_),
        np.zeros(m, np.bool_),
    )


@njit(cache=True, nogil=True)
def _kick(indptr, indices, t_ptr, t_row, is_open, fixed, can_open, phi1, centre, tries, rng):  # type: ignore[no-untyped-def]
    """A swap near the open site ``centre`` for the perturbation of :func:`_iterated_swaps`:
    the nearest open site of one of its rows out, a closed site of another such row in;
    ``(-1, -1)`` when ``tries`` draws found none."""
    lo, hi = t_ptr[centre], t_ptr[centre + 1]
    if hi == lo:
        return -1, -1
    r, j = -1, -1
    for _ in range(tries):
        cand = phi1[t_row[rng.integers(lo, hi)]]
        if cand >= 0 and is_open[cand] and not fixed[cand]:
            r = cand
            break
    for _ in range(tries):
        i = t_row[rng.integers(lo, hi)]
        cand = indices[rng.integers(indptr[i], indptr[i + 1])]
        if not is_open[cand] and can_open[cand]:
            j = cand
            break
    if r < 0 or j < 0:
        return -1, -1
    return r, j


@njit(cache=True, nogil=True)
def _iterated_swaps(  # type: ignore[no-untyped-def]
    indptr, indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open, none_cost, tol, state,
    best_open, best_cost, rounds, max_kick, rng
):  # fmt: skip
    """``rounds`` rounds of iterated local search from the local optimum ``best_open`` (the
    plan of ``state`` and ``is_open``, at ``best_cost``): a few swaps near one open site,
    best-improvement swaps, and back to ``best_open`` unless the plan got cheaper.

    ``best_open`` and ``is_open`` are updated in place; ``rng`` (a numpy ``Generator``)
    draws the perturbations.  Returns the best cost and the rounds that improved it.
    """
    n = indptr.shape[0] - 1
    m = is_open.shape[0]
    open_sites, _, phi1, _, d1, _, _, _, _ = state
    p = open_sites.shape[0]
    scratch = _swap_scratch(n, m)
    dirty_r, dirty_j = scratch[2], scratch[3]
    gone = np.empty(m, np.int64)
    back = np.empty(m, np.int64)
    improved = 0
    for _ in range(rounds):
        dirty_r[:] = False  # the plan is a local optimum here
        dirty_j[:] = False
        centre = open_sites[rng.integers(0, p)]
        for _ in range(rng.integers(1, max_kick + 1)):
            r, j = _kick(
                indptr, indices, t_ptr, t_row, is_open, fixed, can_open, phi1, centre, 8, rng
            )
            if r >= 0:
                _apply_swap(
                    indptr, indices, a, t_ptr, t_row, t_pair, is_open, none_cost, state, scratch,
                    r, j
                )  # fmt: skip
        _descend(
            indptr, indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open, none_cost, tol,
            1_000_000, state, scratch, False
        )  # fmt: skip
        cost = 0.0
        for i in range(n):
            cost += d1[i]
        if cost < best_cost - tol:
            best_cost = cost
            best_open[:] = is_open
            improved += 1
            continue
        ng, nb = 0, 0
        for j in range(m):
            if is_open[j] and not best_open[j]:
                gone[ng] = j
                ng += 1
            elif best_open[j] and not is_open[j]:
                back[nb] = j
                nb += 1
        for q in range(ng):
            _apply_swap(
                indptr, indices, a, t_ptr, t_row, t_pair, is_open, none_cost, state, scratch,
                gone[q], back[q]
            )  # fmt: skip
    return best_cost, improved


@njit(cache=True, nogil=True)
def _beyond_nearest_fixed(indptr, indices, a, fixed):  # type: ignore[no-untyped-def]
    """Per pair: costlier than the row's cheapest pair to a ``fixed`` site."""
    out = np.zeros(indices.shape[0], np.bool_)
    for i in range(indptr.shape[0] - 1):
        best = np.inf
        for k in range(indptr[i], indptr[i + 1]):
            if fixed[indices[k]] and a[k] < best:
                best = a[k]
        if best < np.inf:
            for k in range(indptr[i], indptr[i + 1]):
                if a[k] > best:
                    out[k] = True
    return out


# --- the pieces -----------------------------------------------------------------------------


def _transpose(pairs: Pairs) -> tuple[I8, I8, I8]:
    """Per site, its rows and pair positions (CSR by site)."""
    order = np.argsort(pairs.indices, kind="stable")
    t_ptr = np.zeros(pairs.n_sites + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs.indices, minlength=pairs.n_sites), out=t_ptr[1:])
    return t_ptr, pairs.row_of_pair()[order], order.astype(np.int64)


def _none_cost(pairs: Pairs, a: F8) -> float:
    """The cost of a row without an open site: above any feasible plan's total."""
    if a.size == 0:
        return 1.0
    row_max = np.maximum.reduceat(a, pairs.indptr[:-1][pairs.row_counts() > 0])
    return float(row_max.sum()) + 1.0 + float(np.abs(a).max())


def vertex_substitution(
    pairs: Pairs,
    weights: F8,
    *,
    start: B1,
    fixed: B1 | None = None,
    can_open: B1 | None = None,
    max_swaps: int = 1_000_000,
    deadline: float = np.inf,
) -> tuple[B1, float, int]:
    r"""Improve a plan of exactly ``p`` sites by swaps until no swap lowers its cost.

    The cost of a plan is :math:`\sum_i w_i \min_{j \in S \cap N_i} c_{ij}`, a row with no
    open allowed site counting more than any feasible plan (see the module notes).

    Parameters
    ----------
    pairs : Pairs
        Allowed pairs with their costs ``c_ij``.
    weights : float array
        Per row, ``w_i >= 0``.
    start : bool array
        Per site, open in the starting plan (its count is ``p``).
    fixed : bool array, optional
        Sites that stay open (required).
    can_open : bool array, optional
        Sites that may be opened (default all).
    max_swaps : int
        At most this many swaps.
    deadline : float
        A :func:`time.perf_counter` value after which no new batch of swaps starts.

    Returns
    -------
    open : bool array
        The improved plan.
    cost : float
        Its cost; ``inf`` when some row has no open allowed site.
    swaps : int
        Swaps made.

    Examples
    --------
    >>> import numpy as np
    >>> pairs = Pairs(np.array([0, 2, 4]), np.array([0, 1, 0, 1]),
    ...               np.array([1.0, 5.0, 4.0, 1.0]), 2)
    >>> vertex_substitution(pairs, np.ones(2), start=np.array([False, True]))
    (array([ True, False]), 5.0, 1)
    """
    m = pairs.n_sites
    a, is_open, fixed, can_open = _swap_inputs(pairs, weights, start, fixed, can_open)
    swaps = 0
    if int(is_open.sum()) * m <= _SWAP_MATRIX_MAX and pairs.n_rows:
        t_ptr, t_row, t_pair = _transpose(pairs)
        none = _none_cost(pairs, a)
        tol = 1e-11 * none
        while swaps < max_swaps:  # in batches, to stop by the deadline
            batch = min(_SWAP_BATCH, max_swaps - swaps)
            done = int(
                _swap_search(
                    pairs.indptr, pairs.indices, a, t_ptr, t_row, t_pair,
                    is_open, fixed, can_open, none, tol, batch,
                )
            )  # fmt: skip
            swaps += done
            if done < batch or time.perf_counter() > deadline:
                break
    total, unserved = _plan_cost(pairs.indptr, pairs.indices, a, is_open)
    return is_open, (float(total) if unserved == 0 else float("inf")), swaps


def _swap_inputs(
    pairs: Pairs, weights: F8, start: B1, fixed: B1 | None, can_open: B1 | None
) -> tuple[F8, B1, B1, B1]:
    """The swap kernels' inputs: weighted pair costs, a copy of the plan ``start`` (the
    kernels change it), and the ``fixed`` / ``can_open`` masks (none fixed, all may open)."""
    m = pairs.n_sites
    a = np.asarray(weights, dtype=np.float64)[pairs.row_of_pair()] * pairs.cost
    is_open = np.asarray(start, dtype=bool).copy()
    fixed = np.zeros(m, dtype=bool) if fixed is None else np.asarray(fixed, dtype=bool)
    can_open = np.ones(m, dtype=bool) if can_open is None else np.asarray(can_open, dtype=bool)
    return a, is_open, fixed, can_open


def iterated_swaps(
    pairs: Pairs,
    weights: F8,
    *,
    start: B1,
    fixed: B1 | None = None,
    can_open: B1 | None = None,
    max_stale: int = 1000,
    deadline: float = np.inf,
    seed: int = 0,
) -> tuple[B1, float, int]:
    """Iterated local search from a plan: vertex substitution, then rounds of a few random
    swaps near one open site followed by vertex substitution, keeping a round's plan only
    when it is cheaper (and going back to the best plan otherwise).

    Vertex substitution stops at a local optimum far above the best plans: at 50,000 x
    5,000 with ``p = 500``, 31.66 M from the Lagrangian's first sites, 31.42-31.46 M after
    60 s of Lagrangian starts, 31.28 M after 30 s of these rounds from the first (the
    bound is 31.03 M).  A round changes only a few sites, so it keeps the fast
    interchange's bookkeeping (rebuilding it takes about half a second there) and rescans
    only the swaps the round changed (:func:`_descend`): about 160 rounds a second there
    on a busy machine (18 rescanning every swap, 2 rebuilding the bookkeeping each round).

    Parameters are those of :func:`vertex_substitution`, and

    max_stale : int
        Stop after this many rounds in a row without a cheaper plan.
    seed : int
        Seed of the random swaps.

    Returns
    -------
    open : bool array
        The best plan found.
    cost : float
        Its cost (``inf`` when some row has no open allowed site).
    rounds : int
        Rounds made.
    """
    m = pairs.n_sites
    a, is_open, fixed, can_open = _swap_inputs(pairs, weights, start, fixed, can_open)
    rounds = 0
    if int(is_open.sum()) * m <= _SWAP_MATRIX_MAX and pairs.n_rows:
        t_ptr, t_row, t_pair = _transpose(pairs)
        none = _none_cost(pairs, a)
        tol = 1e-11 * none
        state = _swap_state(pairs.indptr, pairs.indices, a, is_open, none)
        kernel = (pairs.indptr, pairs.indices, a, t_ptr, t_row, t_pair, is_open, fixed, can_open)
        _descend(
            *kernel, none, tol, 1_000_000, state, _swap_scratch(pairs.n_rows, m), True
        )  # fmt: skip
        best_open = is_open.copy()
        best_cost = float(state[4].sum())
        rng = np.random.default_rng(seed)
        stale, batch = 0, 1
        while stale < max_stale and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            cost, better = _iterated_swaps(
                *kernel, none, tol, state, best_open, best_cost, batch, _KICK_MAX, rng
            )
            best_cost = float(cost)
            rounds += batch
            stale = 0 if better else stale + batch
            # batches of about 0.1 s, so that the deadline is kept
            per_round = (time.perf_counter() - t0) / batch
            batch = int(max(1, min(max_stale - stale, 0.1 / max(per_round, 1e-6))))
        is_open = best_open
    total, unserved = _plan_cost(pairs.indptr, pairs.indices, a, is_open)
    return is_open, (float(total) if unserved == 0 else float("inf")), rounds


@dataclass(frozen=True)
class LagrangianBound:
    """The outcome of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound : float
        The best ``L(λ)`` found: a proven lower bound on the p-median optimum (rounded up
        when every ``w_i c_ij`` is an integer).
    multipliers : float array
        The ``λ`` that gave it, per row.
    open : bool array
        The Lagrangian's sites ``S`` at those multipliers.
    iterations : int
        Subgradient iterations.
    """

    bound: float
    multipliers: F8
    open: B1
    iterations: int


class _Relaxation:
    """The Lagrangian relaxation over the pairs still allowed, with its fixing."""

    sorted_rows = True
    """Whether :meth:`_compact` keeps each row's pairs sorted by cost (for the kernels)."""

    def __init__(self, pairs: Pairs, a: F8, p: int, forced: B1, *, nearest: bool = True) -> None:
        self.full = pairs
        self.nearest = nearest
        self.p = p
        self.alive = np.ones(pairs.n_pairs, dtype=bool)  # pairs still allowed
        self.closed = np.zeros(pairs.n_sites, dtype=bool)
        self.forced = forced.copy()
        # Integral up to rounding: costs given as d_ij / w_i come back as w_i c_ij = d_ij ± ulp.
        near = np.abs(a - np.round(a)) <= 1e-9 * np.maximum(1.0, np.abs(a))
        self.integral = bool(np.all(near)) and bool(np.all(np.abs(a) < 2**52))
        self.a_full = a
        self._compact()
        self.lam = self._initial_multipliers()
        self.rho = np.zeros(pairs.n_sites)
        self.g = np.zeros(pairs.n_rows)

    def _compact(self) -> None:
        self.pos = np.flatnonzero(self.alive)
        self.pairs = self.full.keep(self.alive)
        self.a = self.a_full[self.pos]
        if self.sorted_rows:  # for _rho and _subgradient: each row's pairs by cost
            order = np.lexsort((self.a, self.pairs.row_of_pair()))
            # int32 sites: 12 bytes a pair beside the pairs themselves (29 MB at 2.45 M)
            self.by_cost = (self.pairs.indices[order].astype(np.int32), self.a[order])

    def _initial_multipliers(self) -> F8:
        """The second-least cost of each row (the least if it has one pair)."""
        pr, a = self.pairs, self.a
        lam = np.zeros(pr.n_rows)
        counts = pr.row_counts()
        rows = pr.row_of_pair()
        order = np.lexsort((a, rows))
        second = pr.indptr[:-1] + np.minimum(counts - 1, 1)
        has = counts > 0
        lam[has] = a[order[second[has]]]
        return lam

    def infeasible(self) -> bool:
        """No plan is left: a row with no pair, or too few sites for ``p``."""
        if np.any(self.pairs.row_counts() == 0):
            return True
        return int(self.forced.sum()) > self.p or int((~self.closed).sum()) < self.p

    def site_values(self, lam: F8) -> None:
        """``rho_j`` at ``λ`` (into ``self.rho``)."""
        _rho(self.pairs.indptr, *self.by_cost, lam, self.rho)

    def subgradient(self, lam: F8, is_open: B1) -> float:
        """The subgradient at ``λ`` with sites ``is_open`` (into ``self.g``); returns ``‖g‖²``."""
        return float(_subgradient(self.pairs.indptr, *self.by_cost, lam, is_open, self.g))

    def pair_bounds(self, value: float, is_open: B1, k_rho: float) -> F8:
        """Per pair still allowed, a bound of the plans that use it (module notes)."""
        rows = self.pairs.row_of_pair()
        j = self.pairs.indices
        plus = np.maximum(self.a - self.lam[rows], 0.0)
        out: F8 = value + plus + np.where(is_open[j], 0.0, self.rho[j] - k_rho)
        return out

    def evaluate(self, lam: F8) -> tuple[float, B1]:
        """``L(λ)`` and its sites (``rho`` is left for the fixing)."""
        self.site_values(lam)
        is_open = self.forced.copy()
        k = self.p - int(self.forced.sum())
        if k > 0:
            free = np.flatnonzero(~self.forced & ~self.closed)
            pick = free[np.argpartition(self.rho[free], k - 1)[:k]] if k < free.size else free
            is_open[pick] = True
        return float(lam.sum() + self.rho[is_open].sum()), is_open

    def rounded(self, value: float) -> float:
        if self.integral:
            return float(np.ceil(value - 1e-6))
        return value

    def ascend(
        self,
        upper: float,
        deadline: float,
        *,
        theta: float,
        max_iter: int,
        on_plan: Callable[[B1], float],
    ) -> tuple[float, int]:
        """Subgradient ascent from ``self.lam``; keeps the best multipliers in ``self.lam``.

        Returns the best bound (unrounded) and the iterations made.  ``on_plan`` is called
        now and then with the Lagrangian's sites and returns the (possibly improved)
        incumbent value.  ``self.visits`` counts, per site, the iterations whose sites held
        it: divided by the iterations, a fractional plan (the ascent's ergodic average, an
        estimate of the linear programme's ``y``) to branch on.
        """
        lam = self.lam.copy()
        best, best_lam = -np.inf, lam.copy()
        stall, patience = 0, max(10, min(50, self.full.n_rows // 20))
        self.visits = np.zeros(self.full.n_sites)
        it = 0
        for it in range(1, max_iter + 1):
            value, is_open = self.evaluate(lam)
            self.visits += is_open
            if it == 1 or value > best + 1e-12 * max(1.0, abs(best)):
                best, best_lam, stall = value, lam.copy(), 0
            else:
                stall += 1
                if stall >= patience:
                    theta *= 0.5
                    stall = 0
                    lam = best_lam.copy()
            if self.rounded(best) >= upper - 1e-9 * max(1.0, abs(upper)):
                break
            norm = self.subgradient(lam, is_open)
            if norm == 0.0:  # λ is optimal: S with its assignment is a plan at L(λ)
                upper = on_plan(is_open)
                break
            if it % 10 == 1:
                upper = on_plan(is_open)
            if theta < 2e-4 or time.perf_counter() > deadline:
                break
            step = theta * max(upper - value, 1e-6 * max(1.0, abs(upper))) / norm
            lam += step * self.g
        self.lam = best_lam
        return best, it

    def fix(self, upper: float) -> int:
        """Reduced-cost fixing at ``self.lam`` against the incumbent value ``upper``;
        returns how many sites and pairs were newly fixed."""
        value, is_open = self.evaluate(self.lam)
        rho, forced, closed = self.rho, self.forced, self.closed
        free = ~forced & ~closed
        inside = np.flatnonzero(free & is_open)
        outside = np.flatnonzero(free & ~is_open)
        k_rho = float(rho[inside].max()) if inside.size else np.inf
        l_rho = float(rho[outside].min()) if outside.size else np.inf

        def beaten(lb: F8) -> B1:
            if self.integral:
                out: B1 = lb > upper - 1.0 + 1e-6
                return out
            return lb >= upper - 1e-9 * max(1.0, abs(upper))

        n_before = int(closed.sum()) + int(forced.sum()) + int((~self.alive).sum())
        if inside.size:  # opening j outside S
            closed[outside[beaten(value + rho[outside] - k_rho)]] = True
        else:  # the forced sites are all p: nothing else can open
            closed[outside] = True
        if outside.size:  # closing j inside S
            must = inside[beaten(value - rho[inside] + l_rho)]
            forced[must] = True
        elif inside.size:  # nothing else left to open: every free site of S stays
            forced[inside] = True
        pr, a = self.pairs, self.a
        bounds = self.pair_bounds(value, is_open, k_rho if inside.size else 0.0)
        drop = beaten(bounds) | closed[pr.indices]
        if self.nearest:  # each row goes to its nearest open site
            drop |= _beyond_nearest_fixed(pr.indptr, pr.indices, a, forced)
        self.alive[self.pos[drop]] = False
        self._compact()
        sole = self.pairs.row_counts() == 1  # its last pair: every better plan uses it
        forced[self.pairs.indices[self.pairs.indptr[:-1][sole]]] = True
        return int(closed.sum()) + int(forced.sum()) + int((~self.alive).sum()) - n_before

    def estimates(self) -> tuple[float, B1, F8]:
        """At ``self.lam``: ``L``, its sites and, per site, the reduced-cost bound of flipping
        it (opening it when outside ``S``, closing it when inside; ``inf`` when fixed)."""
        value, is_open = self.evaluate(self.lam)
        rho = self.rho
        free = ~self.forced & ~self.closed
        inside = np.flatnonzero(free & is_open)
        outside = np.flatnonzero(free & ~is_open)
        est = np.full(rho.shape[0], np.inf)
        if inside.size and outside.size:
            est[outside] = value + rho[outside] - rho[inside].max()
            est[inside] = value - rho[inside] + rho[outside].min()
        return value, is_open, est

    def probe(
        self,
        j: int,
        *,
        open_it: bool,
        upper: float,
        deadline: float,
        on_plan: Callable[[B1], float] | None = None,
    ) -> bool:
        """Whether no plan that opens (``open_it``) or closes site ``j`` beats ``upper``: the
        relaxation with ``j`` so fixed, ascended again from the current multipliers.

        ``on_plan`` (as for :meth:`ascend`) may improve the incumbent from the probe's sites,
        each a plan of the whole problem; the answer is still about ``upper``.
        """
        mask = self.forced if open_it else self.closed
        lam = self.lam
        mask[j] = True
        try:
            best, _ = self.ascend(
                upper,
                deadline,
                theta=0.5,
                max_iter=100,
                on_plan=(lambda _s: upper) if on_plan is None else on_plan,
            )
        finally:
            mask[j] = False
            self.lam = lam
        return self.rounded(best) >= upper - 1e-9 * max(1.0, abs(upper))


def _branch_and_bound(
    relax: _Relaxation,
    heuristic: _Heuristic,
    deadline: float,
    max_nodes: int,
    *,
    node_iterations: int = _NODE_ITERATIONS,
    pace_after: float = 0.25,
) -> tuple[bool, int]:
    """Depth-first Lagrangian branch-and-bound on the sites left free by the fixing.

    A node fixes some free sites open or closed; its bound is the relaxation ascended from
    its parent's multipliers (:meth:`_Relaxation.ascend`, whose plans also improve the
    incumbent).  A node is pruned when its bound reaches the incumbent, when it holds no
    plan, or when its sites are all decided (``heuristic.offer`` solves that plan, exactly
    or not: then the tree proves nothing, but the search goes on); otherwise the
    reduced-cost estimates fix more of its sites, and it branches on the free site whose
    share of the ascent's plans (``relax.visits``, the fractional ``y`` of the ascent) is
    nearest one half: first the side that share leans to, then the other (on pmedcap8 this
    took 1,000 nodes where the site of the least reduced-cost estimate took 1,400).  Each
    node ascends at most ``node_iterations`` times; after ``pace_after`` of its time the
    tree gives up when its pace says it would take over 4x that.  Returns whether the tree
    was exhausted
    — then no plan beats the incumbent, which is optimal — and the nodes searched.
    ``relax`` is left as it came.
    """
    base = (relax.forced, relax.closed, relax.lam)
    pr = relax.pairs
    starts = pr.indptr[:-1]
    can_open = ~relax.closed
    fresh = [True]  # the heuristic runs once per node (in the tree it is a luxury)

    def on_plan(is_open: B1) -> float:
        if fresh[0] and int(is_open.sum()) == relax.p:
            fresh[0] = False
            return heuristic(is_open, can_open=can_open)
        return heuristic.best

    def beaten(value: F8 | float) -> NDArray[np.bool_] | bool:
        upper = heuristic.best
        if relax.integral:
            return value > upper - 1.0 + 1e-6  # type: ignore[no-any-return]
        return value >= upper - 1e-9 * max(1.0, abs(upper))  # type: ignore[no-any-return]

    stack = [(relax.forced.copy(), relax.closed.copy(), relax.lam.copy(), 0)]
    nodes = 0
    exact = True
    t0 = time.perf_counter()
    done = 0.0  # share of the tree settled: a node at depth d is 2^-d of it
    share, heuristic.share = heuristic.share, _TREE_HEURISTIC_SHARE
    try:
        while stack:
            now = time.perf_counter()
            if nodes >= max_nodes or now > deadline:
                return False, nodes
            if now - t0 > pace_after * (deadline - t0) and now - t0 > 4.0 * done * (deadline - t0):
                return False, nodes  # at this pace the tree would take over 4x the budget
            forced, closed, lam, depth = stack.pop()
            nodes += 1
            fresh[0] = True
            relax.forced, relax.closed, relax.lam = forced, closed, lam
            done += 0.5**depth  # unless it branches (taken back below)
            if relax.infeasible() or np.any(np.add.reduceat(~closed[pr.indices], starts) == 0):
                continue  # too few or too many sites, or a row without a site
            value, its = relax.ascend(
                heuristic.best, deadline, theta=0.5, max_iter=node_iterations, on_plan=on_plan
            )
            if beaten(relax.rounded(value)):
                continue
            _, is_open, est = relax.estimates()
            decided = np.isfinite(est) & np.asarray(beaten(est))
            forced |= decided & is_open
            closed |= decided & ~is_open
            free = ~forced & ~closed
            k = relax.p - int(forced.sum())
            if k <= 0 or int(free.sum()) <= k:  # one plan left (or none)
                plan = forced | free if k > 0 else forced
                if int(plan.sum()) == relax.p:
                    exact &= heuristic.offer(plan, deadline=deadline)
                continue
            if relax.infeasible():
                continue
            j = int(np.argmin(np.where(free, np.abs(relax.visits / its - 0.5), np.inf)))
            flip_f, flip_c = forced.copy(), closed.copy()
            keep_f, keep_c = forced.copy(), closed.copy()
            if relax.visits[j] >= 0.5 * its:
                flip_c[j], keep_f[j] = True, True
            else:
                flip_f[j], keep_c[j] = True, True
            done -= 0.5**depth
            stack.append((flip_f, flip_c, relax.lam.copy(), depth + 1))
            stack.append((keep_f, keep_c, relax.lam.copy(), depth + 1))
        return exact, nodes
    finally:
        relax.forced, relax.closed, relax.lam = base
        heuristic.share = share


def _branch(
    relax: _Relaxation,
    heuristic: _Heuristic,
    bound: float,
    deadline: float,
    details: dict[str, object],
    *,
    share: float,
    node_iterations: int = _NODE_ITERATIONS,
    max_nodes: int = _BRANCH_MAX_NODES,
    pace_after: float = 0.25,
) -> float:
    """:func:`_branch_and_bound` after the fixing, on ``share`` of the time left, when a
    gap is left; returns the bound (the incumbent's value when proven)."""
    now = time.perf_counter()
    if bound >= heuristic.best or now >= deadline or relax.infeasible():
        return bound
    stop = now + share * (deadline - now)
    proven, nodes = _branch_and_bound(
        relax, heuristic, stop, max_nodes, node_iterations=node_iterations, pace_after=pace_after
    )
    details.update(
        branch_nodes=nodes, branch_proven=proven, branch_seconds=round(time.perf_counter() - now, 3)
    )
    return heuristic.best if proven else bound


class _Throttled:
    """What both Lagrangian heuristics share: the best plan so far, and when to run again.

    A heuristic runs from a set of sites only once, never past ``deadline``, and (after its
    first run) only while it has taken at most ``share`` (``_HEURISTIC_SHARE``; less in the
    branch-and-bound) of the time since it was made.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.best_open: B1 | None = None
        self.best = np.inf
        self.tried: set[bytes] = set()
        self.calls = 0
        self.seconds = 0.0
        self.t0 = time.perf_counter()
        self.share = _HEURISTIC_SHARE

    def _should_run(self, is_open: B1) -> bool:
        now = time.perf_counter()
        if self.calls and self.seconds > self.share * (now - self.t0):
            return False
        key = np.packbits(is_open).tobytes()
        if key in self.tried or now > self.deadline:
            return False
        self.tried.add(key)
        return True


class _OnPlan(_Throttled):
    """The Lagrangian heuristic: swaps from the Lagrangian's sites, keeping the best plan."""

    def __init__(self, pairs: Pairs, weights: F8, fixed: B1, deadline: float) -> None:
        super().__init__(deadline)
        self.pairs, self.weights, self.fixed = pairs, weights, fixed
        self.ils_runs, self.ils_rounds, self.ils_seconds = 0, 0, 0.0

    def __call__(self, is_open: B1, *, can_open: B1 | None = None) -> float:
        if not self._should_run(is_open):
            return self.best
        t0 = time.perf_counter()
        plan, cost, _ = vertex_substitution(
            self.pairs,
            self.weights,
            start=is_open,
            fixed=self.fixed,
            can_open=can_open,
            deadline=self.deadline,
        )
        self.calls += 1
        self.seconds += time.perf_counter() - t0
        if cost < self.best:
            self.best, self.best_open = cost, plan
        return self.best

    def improve(self, deadline: float, *, can_open: B1 | None = None) -> float:
        """:func:`iterated_swaps` from the incumbent until ``deadline`` or
        :data:`_ILS_STALE` rounds without a cheaper plan; returns the incumbent value."""
        t0 = time.perf_counter()
        if self.best_open is None or t0 >= deadline:
            return self.best
        plan, cost, rounds = iterated_swaps(
            self.pairs,
            self.weights,
            start=self.best_open,
            fixed=self.fixed,
            can_open=can_open,
            max_stale=_ILS_STALE * int(self.best_open.sum()),
            deadline=deadline,
            seed=self.ils_runs,
        )
        self.ils_runs += 1
        self.ils_rounds += rounds
        self.ils_seconds += time.perf_counter() - t0
        if cost < self.best:
            self.best, self.best_open = cost, plan
        return self.best

    def offer(self, is_open: B1, *, deadline: float) -> bool:
        """Take the plan ``is_open`` (each row to its nearest open site) if it beats the
        incumbent; always exact."""
        a = self.weights[self.pairs.row_of_pair()] * self.pairs.cost
        total, unserved = _plan_cost(self.pairs.indptr, self.pairs.indices, a, is_open)
        if unserved == 0 and total < self.best:
            self.best, self.best_open = float(total), is_open.copy()
        return True


def _forced_sites(pairs: Pairs, required: B1) -> B1:
    """Required sites and the only site of each row with one allowed pair."""
    forced = np.asarray(required, dtype=bool).copy()
    sole = pairs.row_counts() == 1
    forced[pairs.indices[pairs.indptr[:-1][sole]]] = True
    return forced


def lagrangian_bound(
    pairs: Pairs,
    weights: F8,
    *,
    p: int,
    required: B1 | None = None,
    upper: float | None = None,
    max_iter: int = 3000,
    time_limit_s: float = 60.0,
) -> LagrangianBound:
    r"""A proven lower bound on the uncapacitated p-median by Lagrangian relaxation.

    Maximises :math:`L(\lambda)` (module notes) by subgradient ascent; every ``L(λ)`` is a
    lower bound, so the best one is returned.

    Parameters
    ----------
    pairs : Pairs
        Allowed pairs and their costs ``c_ij``.
    weights : float array
        Per row, ``w_i >= 0``.
    p : int
        Exactly this many sites.
    required : bool array, optional
        Sites fixed open.
    upper : float, optional
        The value of a known plan, for the step size; default: found by vertex
        substitution from the first Lagrangian sites.
    max_iter : int
        At most this many subgradient iterations.
    time_limit_s : float
        Wall-clock limit, seconds.

    Returns
    -------
    LagrangianBound

    Examples
    --------
    >>> import numpy as np
    >>> pairs = Pairs(np.array([0, 2, 4, 6]), np.array([0, 1, 0, 1, 0, 1]),
    ...               np.array([0.0, 3.0, 2.0, 2.0, 3.0, 0.0]), 2)
    >>> lagrangian_bound(pairs, np.ones(3), p=1).bound
    5.0
    """
    deadline = time.perf_counter() + time_limit_s
    w = np.asarray(weights, dtype=np.float64)
    a = w[pairs.row_of_pair()] * pairs.cost
    req = np.zeros(pairs.n_sites, bool) if required is None else np.asarray(required, bool)
    forced = _forced_sites(pairs, req)
    relax = _Relaxation(pairs, a, p, forced)
    heuristic = _OnPlan(pairs, w, forced, deadline)
    if upper is None:
        _, start = relax.evaluate(relax.lam)
        upper = heuristic(start)
    if not np.isfinite(upper):
        upper = _none_cost(pairs, a)
    fixed_upper = float(upper)
    best, iterations = relax.ascend(
        fixed_upper, deadline, theta=2.0, max_iter=max_iter, on_plan=lambda _s: fixed_upper
    )
    _, is_open = relax.evaluate(relax.lam)
    return LagrangianBound(relax.rounded(best), relax.lam.copy(), is_open, iterations)


def median_warm(
    pairs: Pairs, weights: F8, *, p: int, required: B1, deadline: float, max_rounds: int = 8
) -> Warm:
    """Incumbent, proven bound and reduced-cost fixing for an uncapacitated p-median.

    The pipeline of the module notes: Lagrangian sites improved by vertex substitution
    (the incumbent, improved again during the ascent), subgradient ascent, fixing, and
    ascent again on what is left, until nothing more is fixed or the bound meets the
    incumbent; then probing (the relaxation ascended again with one site opened or closed)
    while time is left.

    Parameters
    ----------
    pairs : Pairs
        The reduced problem's allowed pairs and costs.
    weights : float array
        Per row.
    p : int
        Exactly this many sites.
    required : bool array
        Per site, fixed open.
    deadline : float
        A :func:`time.perf_counter` value to stop by.
    max_rounds : int
        Rounds of ascent and fixing before probing.

    Returns
    -------
    Warm
        About ``pairs`` (its rows, sites and pairs), in the terms of the MIP
        ``Σ w_i c_ij x_ij``.
    """
    m = pairs.n_sites
    none = Warm(None, float("nan"), -np.inf, np.zeros(m, dtype=bool))
    w = np.asarray(weights, dtype=np.float64)
    req = np.asarray(required, dtype=bool)
    forced = _forced_sites(pairs, req)
    if int(forced.sum()) > p:  # no plan at all; let the exact stage say so
        return none
    heuristic = _OnPlan(pairs, w, forced, deadline)
    relax = _Relaxation(pairs, w[pairs.row_of_pair()] * pairs.cost, p, forced)
    _, start = relax.evaluate(relax.lam)
    heuristic(start)
    if heuristic.best_open is None:  # the swaps found no feasible plan
        return none

    def improve(stop: float) -> float:
        return heuristic.improve(stop, can_open=~relax.closed)

    bound, details = _pipeline(relax, heuristic, req, deadline, max_rounds, improve)
    bound = _branch(relax, heuristic, bound, deadline, details, share=_BRANCH_SHARE)
    if bound < heuristic.best:  # what the tree left of the time
        improve(deadline)
    details.update(
        ils_runs=heuristic.ils_runs,
        ils_rounds=heuristic.ils_rounds,
        ils_seconds=round(heuristic.ils_seconds, 3),
    )
    return Warm(
        open=heuristic.best_open,
        objective=float(heuristic.best),
        bound=float(bound),
        closed=relax.closed.copy(),
        closed_pairs=~relax.alive,
        details=details,
    )


class _Heuristic(Protocol):
    """What :func:`_pipeline` needs of a Lagrangian heuristic."""

    best: float
    calls: int
    seconds: float
    share: float

    def __call__(self, is_open: B1, *, can_open: B1 | None = None) -> float: ...

    def offer(self, is_open: B1, *, deadline: float) -> bool:
        """Solve the plan opening exactly ``is_open``, keep it if it beats the incumbent;
        returns whether it was solved exactly."""


def _pipeline(
    relax: _Relaxation,
    heuristic: _Heuristic,
    required: B1,
    deadline: float,
    max_rounds: int,
    improve: Callable[[float], float] | None = None,
) -> tuple[float, dict[str, object]]:
    """Ascent, fixing and probing on ``relax`` against ``heuristic``'s incumbent (which the
    ascent improves now and then); returns the proven bound and the details.  ``improve``,
    given a time to stop by, improves the incumbent between the fixing and the probing."""
    t0 = time.perf_counter()

    def on_plan(is_open: B1) -> float:
        if int(is_open.sum()) != relax.p:  # a probe forcing one site too many: no plan
            return heuristic.best
        return heuristic(is_open, can_open=~relax.closed)

    def met(bound: float) -> bool:
        return bound >= heuristic.best - 1e-9 * max(1.0, abs(heuristic.best))

    bound = -np.inf
    iterations, rounds, probes = 0, 0, 0
    theta = 2.0
    proven = False
    for rounds in range(1, max_rounds + 1):  # noqa: B007
        value, its = relax.ascend(
            heuristic.best, deadline, theta=theta, max_iter=3000, on_plan=on_plan
        )
        iterations += its
        bound = max(bound, min(heuristic.best, relax.rounded(value)))
        if met(bound):
            break
        fixed = relax.fix(heuristic.best)  # even past the deadline: it shrinks the exact stage
        if relax.infeasible():  # nothing better than the incumbent is left
            proven = True
            break
        if fixed == 0 or time.perf_counter() > deadline:
            break
        theta = 1.0
    if improve is not None and not proven and not met(bound):
        # Before probing, until it stalls: on 50,000 x 5,000 probing fixed nothing while the
        # plan was 1.4 % above the bound; the search took it to 0.8 % in 20 s.
        improve(deadline)
    while not proven and not met(bound) and time.perf_counter() < deadline:
        value, is_open, est = relax.estimates()
        order = np.argsort(-est)
        changed = 0
        for j in order[np.isfinite(est[order])]:
            if time.perf_counter() > deadline:
                break
            inside = bool(is_open[j])
            probes += 1
            # The probes' sites are starts for the heuristic too (on 10,000 x 1,000 with
            # p = 100 the ascent converges in 15 s; its sites alone gave a 0.3 % worse plan).
            if relax.probe(
                int(j),
                open_it=not inside,
                upper=heuristic.best,
                deadline=deadline,
                on_plan=on_plan,
            ):
                (relax.forced if inside else relax.closed)[j] = True
                changed += 1
        if changed == 0:
            break
        relax.fix(heuristic.best)
        if relax.infeasible():
            proven = True
            break
        value, its = relax.ascend(
            heuristic.best, deadline, theta=1.0, max_iter=3000, on_plan=on_plan
        )
        iterations += its
        bound = max(bound, min(heuristic.best, relax.rounded(value)))
    if proven or met(bound):
        bound = heuristic.best
    details: dict[str, object] = {
        "lagrangian_iterations": iterations,
        "fixing_rounds": rounds,
        "probes": probes,
        "swap_searches": heuristic.calls,
        "swap_seconds": round(heuristic.seconds, 3),
        "sites_open_in_better_plans": int((relax.forced & ~np.asarray(required, bool)).sum()),
        "pairs_closed": int((~relax.alive).sum()),
        "pairs": relax.full.n_pairs,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    log.debug("p-median warm start: %s", details)
    return float(bound), details


# --- capacitated ----------------------------------------------------------------------------

_KNAPSACK_DP_MAX = 20_000_000
"""Largest ``Σ_j (pairs of j) x (Q_j + 1)`` for which the knapsacks are solved exactly by
dynamic programming at each subgradient step; above, by their linear relaxation."""

_EXCHANGE_MAX_ROWS = 5_000
"""Up to this many rows the capacitated assignment also tries exchanging two rows' sites
(a pass is quadratic in the rows)."""

_CAP_MIN_S = 1.0
"""Seconds the capacitated ascent, fixing and probing may always take (on a 50-point Osman
and Christofides instance they need 0.2-1 s)."""

_CAP_SHARE = 0.05
"""Beyond :data:`_CAP_MIN_S`, at most this share of the time the solve loop grants for the
ascent, fixing and probing."""

_CAP_NODE_ITERATIONS = 80
"""Subgradient iterations per capacitated branch-and-bound node: each costs a knapsack per
site, and on pmedcap8 80 of them took 1,150 nodes and less time than 150 (1,000 nodes)."""

_CAP_BRANCH_SHARE = 0.35
"""Then at most this share for the branch-and-bound, which gives up early when its pace
says the tree would take over 4x that (where the capacitated bound stalls far below the
incumbent, HiGHS needs the time more).  On pmedcap8 (bound 771, optimum 820) the tree
proves the optimum in about 1,200 nodes, 5-7 s on a busy 2-core machine."""


@njit(cache=True, nogil=True)
def _knapsacks(  # type: ignore[no-untyped-def]
    t_ptr, t_row, t_pair, a, w, w_int, cap, q_int, lam, skip, exact, keep, dp, rho, x, want, forced,
    record
):  # fmt: skip
    r"""Per site ``j`` the knapsack :math:`\rho_j = \min \sum_i (a_{ij} - \lambda_i) x_{ij}`
    s.t. :math:`\sum_i w_i x_{ij} \le Q_j`.

    Only rows with :math:`\lambda_i > a_{ij}` (profit :math:`\pi_{ij} = \lambda_i - a_{ij}`)
    can lower it.  ``q_int[j] < 0``: every row fits, all of them are taken.  ``exact``: 0-1
    by dynamic programming over the integer capacity ``q_int[j]`` and weights ``w_int``
    (``dp[c]``: the best profit within ``c``; ``keep`` the choices, for the solution ``x``);
    otherwise the linear relaxation (Dantzig: by profit per weight, the last row split).
    With ``want``, per pair ``(i, j)`` a lower bound of ``ρ_j`` when ``x_ij = 1``:
    :math:`-(\pi_{ij} + P_j(Q_j - w_i))`, ``P_j(c)`` the best profit (of all rows, i
    included: an over-estimate) within ``c``.  Sites ``skip`` (closed) are left at 0.  The
    dynamic programme keeps its choices (for ``x``) only at sites ``record``; elsewhere its
    ``x`` is left 0.
    """
    m = t_ptr.shape[0] - 1
    width = 0
    for j in range(m):
        width = max(width, t_ptr[j + 1] - t_ptr[j])
    item = np.empty(width, np.int64)
    prof = np.empty(width)
    ratio = np.empty(width)
    cw = np.zeros(width + 1)
    cp = np.zeros(width + 1)
    for j in range(m):
        lo, hi = t_ptr[j], t_ptr[j + 1]
        nit = 0
        for q in range(lo, hi):
            x[t_pair[q]] = 0.0
        if skip[j]:
            rho[j] = 0.0
            continue
        for q in range(lo, hi):
            k = t_pair[q]
            r = lam[t_row[q]] - a[k]
            if r > 0.0:
                item[nit] = q
                prof[nit] = r
                nit += 1
        if q_int[j] < 0:
            total = 0.0
            for t in range(nit):
                x[t_pair[item[t]]] = 1.0
                total += prof[t]
            rho[j] = -total
            if want:
                for q in range(lo, hi):
                    k = t_pair[q]
                    forced[k] = -total - min(lam[t_row[q]] - a[k], 0.0)
        elif exact:
            qj = q_int[j]
            rest = 0  # the weight of the items after t
            for t in range(nit):
                rest += w_int[t_row[item[t]]]
            if rest <= qj and not want:  # every profitable row fits
                total = 0.0
                for t in range(nit):
                    x[t_pair[item[t]]] = 1.0
                    total += prof[t]
                rho[j] = -total
                continue
            dp[: qj + 1] = 0.0
            # Without ``want`` only dp[qj] is read at the end: item t need only update the
            # capacities from which the items after it can still reach qj.
            for t in range(nit):
                wt = w_int[t_row[item[t]]]
                pt = prof[t]
                rest -= wt
                low = wt if want else max(wt, qj - rest)
                if record[j]:  # with the choices, for the solution x
                    for c in range(qj, low - 1, -1):
                        v = dp[c - wt] + pt
                        if v > dp[c]:
                            dp[c] = v
                            keep[t, c] = True
                        else:
                            keep[t, c] = False
                else:
                    for c in range(qj, low - 1, -1):
                        v = dp[c - wt] + pt
                        if v > dp[c]:
                            dp[c] = v
            if record[j]:  # back from qj, within the capacities updated
                c = qj
                for t in range(nit - 1, -1, -1):
                    wt = w_int[t_row[item[t]]]
                    if c >= wt and keep[t, c]:
                        x[t_pair[item[t]]] = 1.0
                        c -= wt
            rho[j] = -dp[qj]
            if want:
                for q in range(lo, hi):
                    k = t_pair[q]
                    i = t_row[q]
                    rest = qj - w_int[i]
                    forced[k] = -(lam[i] - a[k] + dp[rest]) if rest >= 0 else np.inf
        else:
            for t in range(nit):
                wt = w[t_row[item[t]]]
                ratio[t] = prof[t] / wt if wt > 0.0 else np.inf
            order = np.argsort(-ratio[:nit])
            for s in range(nit):
                t = order[s]
                cw[s + 1] = cw[s] + w[t_row[item[t]]]
                cp[s + 1] = cp[s] + prof[t]
            full = np.searchsorted(cw[: nit + 1], cap[j], side="right") - 1
            value = cp[full]
            for s in range(full):
                x[t_pair[item[order[s]]]] = 1.0
            if full < nit:
                t = order[full]
                share = (cap[j] - cw[full]) / w[t_row[item[t]]]
                x[t_pair[item[t]]] = share
                value += share * prof[t]
            rho[j] = -value
            if want:
                for q in range(lo, hi):
                    k = t_pair[q]
                    i = t_row[q]
                    rest = cap[j] - w[i]
                    if rest < 0.0:
                        forced[k] = np.inf
                        continue
                    f = np.searchsorted(cw[: nit + 1], rest, side="right") - 1
                    v = cp[f]
                    if f < nit:
                        v += (rest - cw[f]) * ratio[order[f]]
                    forced[k] = -(lam[i] - a[k] + v)


@njit(cache=True, nogil=True)
def _cap_subgradient(indptr, indices, x, is_open, g):  # type: ignore[no-untyped-def]
    """``g_i = 1 - Σ_{j open} x_ij``; returns ``‖g‖²``."""
    norm = 0.0
    for i in range(indptr.shape[0] - 1):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if is_open[indices[k]]:
                s += x[k]
        gi = 1.0 - s
        g[i] = gi
        norm += gi * gi
    return norm


@njit(cache=True, nogil=True)
def _cap_ascent(  # type: ignore[no-untyped-def]
    t_ptr, t_row, t_pair, a, w, w_int, cap, q_int, exact, keep, dp, x, spare, indptr, indices,
    forced, closed, p, lam, best_lam, rho, scratch, g, is_open, visits, state, upper, max_iter,
    patience, integral, steps
):  # fmt: skip
    """Up to ``steps`` iterations of :meth:`_Relaxation.ascend` on the capacitated relaxation.

    ``state`` holds ``[best, theta, stall, iterations]`` between calls; ``lam`` and
    ``best_lam`` are updated in place, ``is_open`` holds the last iteration's sites.
    Returns 0 when the steps are done, 1 when the bound met ``upper``, 2 when the
    subgradient vanished (``λ`` optimal), 3 when ``θ`` or the iterations ran out.
    """
    m = forced.shape[0]
    no_record = np.zeros(m, np.bool_)
    skip = np.empty(m, np.bool_)
    free = np.empty(m, np.int64)
    k = p
    for j in range(m):
        if forced[j]:
            k -= 1
    best, theta, stall, it = state[0], state[1], int(state[2]), int(state[3])
    tol = 1e-9 * max(1.0, abs(upper))
    code = 0
    nf = 0
    for j in range(m):
        if not forced[j] and not closed[j]:
            free[nf] = j
            nf += 1
    for _ in range(steps):
        it += 1
        _knapsacks(
            t_ptr, t_row, t_pair, a, w, w_int, cap, q_int, lam, closed, exact, keep, dp, rho,
            x, False, spare, no_record,
        )  # fmt: skip
        value = 0.0
        for j in range(m):
            is_open[j] = forced[j]
            if forced[j]:
                value += rho[j]
        if k > 0:
            if k < nf:
                order = np.argsort(rho[free[:nf]])
                for q in range(k):
                    is_open[free[order[q]]] = True
                    value += rho[free[order[q]]]
            else:
                for q in range(nf):
                    is_open[free[q]] = True
                    value += rho[free[q]]
        for i in range(lam.shape[0]):
            value += lam[i]
        for j in range(m):
            if is_open[j]:
                visits[j] += 1.0
        if it == 1 or value > best + 1e-12 * max(1.0, abs(best)):
            best, stall = value, 0
            best_lam[:] = lam
        else:
            stall += 1
            if stall >= patience:
                theta *= 0.5
                stall = 0
                lam[:] = best_lam
        rounded = np.ceil(best - 1e-6) if integral else best
        if rounded >= upper - tol:
            code = 1
            break
        for j in range(m):
            skip[j] = closed[j] or not is_open[j]
        _knapsacks(
            t_ptr, t_row, t_pair, a, w, w_int, cap, q_int, lam, skip, exact, keep, dp, scratch,
            x, False, spare, is_open,
        )  # fmt: skip
        norm = _cap_subgradient(indptr, indices, x, is_open, g)
        if norm == 0.0:
            code = 2
            break
        if theta < 2e-4 or it >= max_iter:
            code = 3
            break
        step = theta * max(upper - value, 1e-6 * max(1.0, abs(upper))) / norm
        for i in range(lam.shape[0]):
            lam[i] += step * g[i]
    state[0], state[1], state[2], state[3] = best, theta, stall, it
    return code


class _CapRelaxation(_Relaxation):
    r"""The Lagrangian relaxation of the assignment rows that keeps the capacities.

    The same :math:`L(\lambda) = \sum_i \lambda_i + \min_S \sum_{j \in S} \rho_j`, but each
    :math:`\rho_j` is a 0-1 knapsack (see :func:`capacitated_warm`); a pair ``(i, j)``
    is bounded by :math:`L - \rho_j + \rho_j^{(i)}` (``j ∈ S``) or
    :math:`L + \rho_j^{(i)} - \rho_k` (``j ∉ S``), ``ρ_j^{(i)}`` the knapsack with ``i``
    taken.
    """

    sorted_rows = False  # its knapsacks go by site

    def __init__(self, pairs: Pairs, a: F8, p: int, forced: B1, weights: F8, capacity: F8):
        self.w = weights
        self.cap = capacity
        w_int = np.round(weights)
        self.w_int = w_int.astype(np.int64)
        self.integer_weights = bool(np.all(weights == w_int)) and bool(np.all(weights >= 0))
        super().__init__(pairs, a, p, forced, nearest=False)

    def _compact(self) -> None:
        super()._compact()
        pr = self.pairs
        self.t_ptr, self.t_row, self.t_pair = _transpose(pr)
        load = np.bincount(pr.indices, weights=self.w[pr.row_of_pair()], minlength=pr.n_sites)
        fits = load <= self.cap
        self.q_int = np.where(fits, -1, np.floor(np.where(fits, 0.0, self.cap) + 1e-9))
        self.q_int = self.q_int.astype(np.int64)
        counts = np.diff(self.t_ptr)
        work = float((counts[~fits] * (self.q_int[~fits] + 1.0)).sum())
        width = int(counts.max()) if counts.size else 0
        q_max = int(self.q_int.max()) if counts.size else 0
        self.exact = (
            self.integer_weights
            and work <= _KNAPSACK_DP_MAX
            and width * (q_max + 1) <= _KNAPSACK_DP_MAX
        )
        shape = (width, q_max + 1) if self.exact else (0, 0)
        self.keep = np.zeros(shape, dtype=bool)
        self.dp = np.zeros(max(q_max + 1, 1))
        self.x = np.zeros(pr.n_pairs)
        self.forced_cost = np.zeros(pr.n_pairs)
        self._no_record = np.zeros(pr.n_sites, dtype=bool)
        self._scratch = np.zeros(pr.n_sites)

    def _knapsacks(
        self, lam: F8, *, want: bool, skip: B1 | None = None, rho: F8 | None = None
    ) -> None:
        skip = self.closed if skip is None else skip
        _knapsacks(
            self.t_ptr, self.t_row, self.t_pair, self.a, self.w, self.w_int, self.cap,
            self.q_int, lam, skip, self.exact, self.keep, self.dp,
            self.rho if rho is None else rho, self.x, want, self.forced_cost, ~skip,
        )  # fmt: skip

    def site_values(self, lam: F8) -> None:
        # Only the values: the choices (``x``) are needed at the p sites of S alone, and
        # :meth:`subgradient` solves those knapsacks again with them.
        _knapsacks(
            self.t_ptr, self.t_row, self.t_pair, self.a, self.w, self.w_int, self.cap,
            self.q_int, lam, self.closed, self.exact, self.keep, self.dp, self.rho, self.x,
            False, self.forced_cost, self._no_record,
        )  # fmt: skip

    def ascend(
        self,
        upper: float,
        deadline: float,
        *,
        theta: float,
        max_iter: int,
        on_plan: Callable[[B1], float],
    ) -> tuple[float, int]:
        """:meth:`_Relaxation.ascend`, compiled: :func:`_cap_ascent` in steps of ten
        iterations, ``on_plan`` and the deadline between them."""
        pr = self.pairs
        lam = self.lam.copy()
        best_lam = lam.copy()
        is_open = np.zeros(pr.n_sites, dtype=bool)
        self.visits = np.zeros(self.full.n_sites)
        state = np.array([-np.inf, theta, 0.0, 0.0])
        patience = max(10, min(50, self.full.n_rows // 20))
        while True:
            # Scalars of fixed types: each new combination would compile the kernel again.
            code = _cap_ascent(
                self.t_ptr, self.t_row, self.t_pair, self.a, self.w, self.w_int, self.cap,
                self.q_int, bool(self.exact), self.keep, self.dp, self.x, self.forced_cost,
                pr.indptr, pr.indices, self.forced, self.closed, int(self.p), lam, best_lam,
                self.rho, self._scratch, self.g, is_open, self.visits, state, float(upper),
                int(max_iter), int(patience), bool(self.integral), 10,
            )  # fmt: skip
            if code == 1:
                break
            upper = on_plan(is_open)  # λ optimal (code 2): S with its assignment is a plan
            if code != 0 or time.perf_counter() > deadline:
                break
        self.lam = best_lam
        return float(state[0]), int(state[3])

    def subgradient(self, lam: F8, is_open: B1) -> float:
        self._knapsacks(lam, want=False, skip=~is_open | self.closed, rho=self._scratch)
        return float(
            _cap_subgradient(self.pairs.indptr, self.pairs.indices, self.x, is_open, self.g)
        )

    def pair_bounds(self, value: float, is_open: B1, k_rho: float) -> F8:
        self._knapsacks(self.lam, want=True)
        j = self.pairs.indices
        out: F8 = value + self.forced_cost - np.where(is_open[j], self.rho[j], k_rho)
        return out


@njit(cache=True, nogil=True)
def _cap_assign(indptr, indices, a, w, cap, is_open, assignment):  # type: ignore[no-untyped-def]
    """Single-sourcing assignment to the open sites by regret, then cheaper moves.

    Rows go, largest regret first (second-cheapest minus cheapest open site), to their
    cheapest open site with room; then any row moves to a cheaper open site with room
    while one exists.  Returns the cost (``inf`` when some row found no room).
    """
    n = indptr.shape[0] - 1
    regret = np.empty(n)
    for i in range(n):
        b1, b2 = np.inf, np.inf
        for k in range(indptr[i], indptr[i + 1]):
            if is_open[indices[k]]:
                c = a[k]
                if c < b1:
                    b2, b1 = b1, c
                elif c < b2:
                    b2 = c
        regret[i] = (b2 - b1) if b2 < np.inf else np.inf
    order = np.argsort(-regret)
    load = np.zeros(cap.shape[0])
    chosen = np.full(n, -1, np.int64)  # pair position
    for q in range(n):
        i = order[q]
        best, bk = np.inf, -1
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if is_open[j] and a[k] < best and load[j] + w[i] <= cap[j] + 1e-9:
                best, bk = a[k], k
        if bk < 0:
            return np.inf
        chosen[i] = bk
        load[indices[bk]] += w[i]
    improved = True
    while improved:
        improved = False
        for i in range(n):
            ck = chosen[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if is_open[j] and a[k] < a[ck] - 1e-12 and load[j] + w[i] <= cap[j] + 1e-9:
                    load[indices[ck]] -= w[i]
                    load[j] += w[i]
                    chosen[i] = k
                    ck = k
                    improved = True
        if not improved and n <= _EXCHANGE_MAX_ROWS:
            improved = _exchange(indptr, indices, a, w, cap, is_open, chosen, load)
    total = 0.0
    for i in range(n):
        total += a[chosen[i]]
        assignment[i] = indices[chosen[i]]
    return total


@njit(cache=True, nogil=True)
def _exchange(indptr, indices, a, w, cap, is_open, chosen, load):  # type: ignore[no-untyped-def]
    """One pass of exchanges: two rows at different open sites trade sites when both fit
    and the cost falls; returns whether any was made."""
    n = indptr.shape[0] - 1
    m = is_open.shape[0]
    slot = np.full(m, -1, np.int64)
    sites = np.flatnonzero(is_open)
    for s in range(sites.shape[0]):
        slot[sites[s]] = s
    at = np.full((n, sites.shape[0]), -1, np.int64)  # pair position of (row, open site)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            if slot[indices[k]] >= 0:
                at[i, slot[indices[k]]] = k
    made = False
    for i1 in range(n):
        for i2 in range(i1 + 1, n):
            k1, k2 = chosen[i1], chosen[i2]
            j1, j2 = indices[k1], indices[k2]
            if j1 == j2:
                continue
            n1, n2 = at[i1, slot[j2]], at[i2, slot[j1]]
            if n1 < 0 or n2 < 0 or a[n1] + a[n2] >= a[k1] + a[k2] - 1e-9:
                continue
            d = w[i2] - w[i1]  # load change of j1
            if load[j1] + d <= cap[j1] + 1e-9 and load[j2] - d <= cap[j2] + 1e-9:
                load[j1] += d
                load[j2] -= d
                chosen[i1], chosen[i2] = n1, n2
                made = True
    return made


def _capacitated_swaps(
    pairs: Pairs,
    a: F8,
    w: F8,
    cap: F8,
    start: B1,
    fixed: B1,
    can_open: B1,
    deadline: float,
) -> tuple[B1, float, I8]:
    """Site swaps (first improvement) evaluated by :func:`_cap_assign`."""
    is_open = start.copy()
    assignment = np.full(pairs.n_rows, -1, dtype=np.int64)
    best = float(_cap_assign(pairs.indptr, pairs.indices, a, w, cap, is_open, assignment))
    best_assignment = assignment.copy()
    trial = np.empty_like(assignment)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for r in np.flatnonzero(is_open & ~fixed):
            for j in np.flatnonzero(~is_open & can_open):
                is_open[r], is_open[j] = False, True
                value = float(_cap_assign(pairs.indptr, pairs.indices, a, w, cap, is_open, trial))
                if value < best - 1e-9 * max(1.0, abs(best)):
                    best, best_assignment = value, trial.copy()
                    improved = True
                    break
                is_open[r], is_open[j] = True, False
            if time.perf_counter() > deadline:
                break
    return is_open, best, best_assignment


class _CapOnPlan(_Throttled):
    """The capacitated Lagrangian heuristic: the Lagrangian's sites, assigned by regret and
    improved by site swaps, keeping the best plan with its assignment."""

    def __init__(self, pairs: Pairs, a: F8, w: F8, cap: F8, fixed: B1, deadline: float):
        super().__init__(deadline)
        self.pairs, self.a, self.w, self.cap, self.fixed = pairs, a, w, cap, fixed
        self.best_assignment: I8 | None = None
        self.alive = np.ones(pairs.n_pairs, dtype=bool)  # pairs a better plan may use

    def __call__(self, is_open: B1, *, can_open: B1 | None = None) -> float:
        if not self._should_run(is_open):
            return self.best
        now = time.perf_counter()
        can = np.ones(is_open.shape[0], dtype=bool) if can_open is None else can_open
        plan, value, assignment = _capacitated_swaps(
            self.pairs, self.a, self.w, self.cap, is_open, self.fixed, can, self.deadline
        )
        self.calls += 1
        self.seconds += time.perf_counter() - now
        if value < self.best:
            self.best, self.best_open, self.best_assignment = value, plan, assignment
        return self.best

    def offer(self, is_open: B1, *, deadline: float) -> bool:
        """The best assignment to the sites ``is_open`` over the pairs still allowed
        (``self.alive``), a generalised assignment problem solved by HiGHS; kept if it
        beats the incumbent.  Returns whether HiGHS proved its answer."""
        left = deadline - time.perf_counter()
        if left <= 0.0:
            return False
        found = _assignment_mip(
            self.pairs, self.a, self.w, self.cap, is_open, self.alive, time_limit_s=left
        )
        if found is None:
            return False
        value, assignment = found
        if assignment is not None and value < self.best:
            self.best, self.best_open, self.best_assignment = value, is_open.copy(), assignment
        return True


def _assignment_mip(
    pairs: Pairs, a: F8, w: F8, cap: F8, is_open: B1, alive: B1, *, time_limit_s: float
) -> tuple[float, I8 | None] | None:
    r"""The cheapest single-sourcing assignment to the open sites within capacity.

    :math:`\min \sum a_{ij} x_{ij}` s.t. :math:`\sum_j x_{ij} = 1`,
    :math:`\sum_i w_i x_{ij} \le Q_j`, ``x`` binary, over the ``alive`` pairs to open
    sites (a generalised assignment problem, small at a branch-and-bound leaf), by HiGHS.
    Returns ``(value, assignment)``; ``(inf, None)`` when there is none; ``None`` when
    HiGHS stopped before proving its answer.
    """
    use = alive & is_open[pairs.indices]
    rows = pairs.row_of_pair()[use]
    sites = pairs.indices[use]
    if np.bincount(rows, minlength=pairs.n_rows).min(initial=1) == 0:
        return float("inf"), None
    k = rows.shape[0]
    cols = np.arange(k)
    matrix = sparse.csr_array(
        (
            np.concatenate([np.ones(k), w[rows]]),
            (np.concatenate([rows, pairs.n_rows + sites]), np.concatenate([cols, cols])),
        ),
        shape=(pairs.n_rows + pairs.n_sites, k),
    )
    mip = Mip(
        cost=a[use],
        matrix=matrix,
        row_lower=np.concatenate([np.ones(pairs.n_rows), np.full(pairs.n_sites, -np.inf)]),
        row_upper=np.concatenate([np.ones(pairs.n_rows), cap]),
        col_lower=np.zeros(k),
        col_upper=np.ones(k),
        integer=np.ones(k, dtype=bool),
    )
    sol = solve_mip(mip, time_limit_s=time_limit_s, mip_gap=1e-9, need_solution=False)
    if sol.status == "infeasible":
        return float("inf"), None
    if sol.status != "optimal":
        return None
    chosen = np.flatnonzero(sol.x > 0.5)
    assignment = np.full(pairs.n_rows, -1, dtype=np.int64)
    assignment[rows[chosen]] = sites[chosen]
    return float(a[use][chosen].sum()), assignment


def capacitated_warm(
    pairs: Pairs,
    weights: F8,
    *,
    capacity: F8,
    p: int,
    required: B1,
    deadline: float,
    max_rounds: int = 8,
) -> Warm | None:
    r"""Incumbent, capacitated Lagrangian bound and fixing for a capacitated p-median.

    Relaxing only the assignment rows :math:`\sum_j x_{ij} = 1` (multipliers ``λ_i``) keeps
    the capacities :math:`\sum_i w_i x_{ij} \le Q_j`, so each site's value is a 0-1 knapsack

    .. math::

        \rho_j = \min \Big\{ \sum_i (a_{ij} - \lambda_i) x_{ij} :
        \sum_i w_i x_{ij} \le Q_j,\ x_{ij} \in \{0, 1\} \Big\},

    and :math:`L(\lambda) = \sum_i \lambda_i + \min_{S \supseteq F, |S| = p}
    \sum_{j \in S} \rho_j` bounds the optimum from below.  The knapsacks are solved exactly by
    dynamic programming when the weights are integers (capacities floored) and the tables
    small enough (:data:`_KNAPSACK_DP_MAX`), otherwise by their linear relaxation (a weaker
    bound, still valid).  Much stronger than dropping the capacities: on Osman and
    Christofides' instances the uncapacitated bound lies 2-6 % below the optimum.
    Subgradient :math:`g_i = 1 - \sum_{j \in S} x_{ij}`; reduced-cost fixing of sites and
    probing as in the module notes; a pair ``(i, j)`` is closed when the knapsack of ``j``
    with ``i`` taken, :math:`\rho_j^{(i)} \ge -(\pi_{ij} + P_j(Q_j - w_i))`, lifts the
    bound to the incumbent.  Nothing is concluded from the nearest open site: with
    capacity a point may have to go further.

    The incumbent: the uncapacitated vertex substitution's sites and, during the ascent, the
    Lagrangian's sites, each assigned by regret within the capacities
    (:func:`_cap_assign`, with moves and exchanges of rows) and improved by site swaps.
    When a gap is left, a Lagrangian branch-and-bound on the free sites
    (:func:`_branch_and_bound`) follows; at its leaves (all sites decided) the assignment is
    a small generalised assignment problem, solved by HiGHS (:func:`_assignment_mip`).
    On pmedcap7 and pmedcap10 it proves the optimum in 40-200 nodes, on pmedcap8 in about
    1,200 (5-7 s on a busy 2-core machine, where HiGHS took 1,300-2,300 nodes and 40 s).

    Parameters
    ----------
    pairs : Pairs
        Allowed pairs (within capacity) and costs.
    weights : float array
        Per row: its weight in the objective and its load on a site.
    capacity : float array
        Per site.
    p : int
        Exactly this many sites.
    required : bool array
        Per site, fixed open.
    deadline : float
        A :func:`time.perf_counter` value to stop by; the stage stops earlier: the first
        plans, then the ascent, fixing and probing, each after
        ``max(_CAP_MIN_S, _CAP_SHARE x the time granted)``, the branch-and-bound after
        another ``_CAP_BRANCH_SHARE x`` it.
    max_rounds : int
        Rounds of ascent and fixing before probing.

    Returns
    -------
    Warm or None
        ``None`` when no capacitated plan was found.
    """
    t0 = time.perf_counter()
    limit = deadline
    granted = max(limit - t0, 0.0)
    stage = max(_CAP_MIN_S, _CAP_SHARE * granted)
    deadline = min(limit, t0 + stage + _CAP_BRANCH_SHARE * granted)  # for the first plans
    w = np.asarray(weights, dtype=np.float64)
    a = w[pairs.row_of_pair()] * pairs.cost
    cap = np.asarray(capacity, dtype=np.float64)
    req = np.asarray(required, dtype=bool)
    forced = _forced_sites(pairs, req)
    if int(forced.sum()) > p:
        return None
    relax = _CapRelaxation(pairs, a, p, forced, w, cap)
    heuristic = _CapOnPlan(pairs, a, w, cap, forced, deadline)
    uncapacitated = _OnPlan(pairs, w, forced, deadline)
    _, start = relax.evaluate(relax.lam)
    uncapacitated(start)
    if uncapacitated.best_open is not None:
        heuristic(uncapacitated.best_open)
    heuristic(start)
    if heuristic.best_open is None or heuristic.best_assignment is None:
        return None
    # The first plans may take a while (swaps from a poor start on a busy machine): the
    # ascent's share is counted from here, else the bound and the tree start from nothing.
    pipeline_end = min(limit, time.perf_counter() + stage)
    deadline = heuristic.deadline = min(limit, pipeline_end + _CAP_BRANCH_SHARE * granted)
    bound, details = _pipeline(relax, heuristic, req, pipeline_end, max_rounds)
    details["knapsacks"] = "dynamic programming" if relax.exact else "linear relaxation"
    heuristic.alive = relax.alive
    bound = _branch(
        relax,
        heuristic,
        bound,
        deadline,
        details,
        share=1.0,
        node_iterations=_CAP_NODE_ITERATIONS,
        max_nodes=_CAP_BRANCH_MAX_NODES,
        pace_after=0.5,  # pmedcap8's tree is deep on the left: its pace says little early
    )
    return Warm(
        open=heuristic.best_open,
        objective=float(heuristic.best),
        bound=min(bound, float(heuristic.best)),
        closed=relax.closed.copy(),
        assignment=heuristic.best_assignment,
        closed_pairs=~relax.alive,
        details=details,
    )
