r"""Lagrangian bounds, heuristic plans and reduced-cost fixing for uncapacitated covering.

What :class:`~linli.planning.SetCover` and :class:`~linli.planning.MaxCover` hand to the exact
solver before HiGHS starts (a :class:`~linli.planning.warm.Warm`, about the reduced problem).

Set covering (Beasley 1990)
---------------------------
For :math:`\min \sum_j c_j y_j` s.t. :math:`\sum_{j \in N_i} y_j \ge 1` for every row ``i``,
relax the cover rows with multipliers :math:`u \ge 0`:

.. math::

    L(u) = \sum_i u_i + \sum_j \min(0,\; c_j - \sum_{i \in I_j} u_i)
    \;\le\; \text{optimum}

(``I_j``: the rows site ``j`` covers; :math:`\bar c_j = c_j - \sum_{i \in I_j} u_i` is its
Lagrangian cost).  ``u`` is improved by subgradient steps
:math:`u \leftarrow \max(0,\; u + t g)` with :math:`g_i = 1 - \sum_{j \in N_i} x_j(u)`
(:math:`x_j(u) = [\bar c_j < 0]`) and the Held-Karp step
:math:`t = \lambda (Z_{UB} - L(u)) / \lVert g \rVert^2`; ``λ`` starts at 2 and is halved
after 40 steps without a better bound.  When ``λ`` has shrunk below 0.002 the steps start
again from the best multipliers with ``λ = 0.5`` and twice the patience, until a round
raises the bound by less than a relative :math:`10^{-4}`.  With integer costs the bound is
:math:`\lceil L(u) - 10^{-6} \rceil`.

Plans come from two sources.  A greedy on the Lagrangian costs (Caprara, Fischetti & Toth
1999) runs on the multipliers every 25 steps: among the sites covering some row still
uncovered, pick the least :math:`\gamma_j / \mu_j` (:math:`\gamma_j \ge 0`) or
:math:`\gamma_j \mu_j` (:math:`\gamma_j < 0`), where :math:`\mu_j` counts the uncovered rows
``j`` covers and :math:`\gamma_j = c_j - \sum` of their multipliers; then redundant sites
are dropped (the dearest first).  A row-weighting local search (Gao, Weise & Li 2015,
"RWLS", with costs) improves the best plan: every row has a weight :math:`w_i` (1 at
first); a closed site scores the weight of the uncovered rows it would cover, an open one
minus the weight of the rows only it covers.  Whenever the open sites cover every row the
plan is kept if it is the cheapest yet and the least costly sites to lose (highest
:math:`\text{score}_j / c_j`) are closed until the plan is cheaper than the best; each step
then closes one more such site (not the one just opened), opens the best-scoring site for
a random uncovered row (sites whose neighbourhood changed since they were closed first,
then the longest unchanged) and adds 1 to the weight of every row still uncovered.  The
weights push the search towards the rows that are hard to cover.  The subgradient and the
search take turns, half the time each, until the subgradient has settled; the search then
runs alone until it has gone 200,000 steps (and twice as many as it took to find its best)
without a better plan (on fewer than 4,000 pairs, 50 steps per pair, at least 10,000).

**Reduced-cost fixing.**  Any plan opening site ``j`` costs at least
:math:`L(u) + \max(0, \bar c_j)`.  When that is at least the incumbent's :math:`Z_{UB}`
(with integer costs: above :math:`Z_{UB} - 1`), no plan opening ``j`` is strictly better
than the incumbent and ``j`` is closed (the rule of :class:`~linli.planning.warm.Warm`).
Closed sites then leave the relaxation too: its bound holds for the plans that could still
beat the incumbent, so :math:`\min(Z_{UB}, L)` is proven, and a row left without any open
site proves the incumbent optimal.

Maximal covering
----------------
For :math:`\max \sum_i w_i z_i` s.t. :math:`z_i \le \sum_{j \in N_i} y_j`,
:math:`\sum_j y_j \le p`, relax the linking rows with :math:`\lambda \ge 0`:

.. math::

    L(\lambda) = \sum_i \max(0,\; w_i - \lambda_i)
      + \max_{|S| \le p} \sum_{j \in S} \sum_{i \in I_j} \lambda_i
    \;\ge\; \text{optimum}

(the ``p`` largest positive site sums).  Subgradient steps minimise it:
:math:`\lambda \leftarrow \min(w, \max(0,\; \lambda + t d))` along the running average
:math:`d \leftarrow (g + d) / 2` of the subgradients
:math:`g_i = z_i - \sum_{j \in N_i} y_j` (as the volume algorithm of Barahona & Anbil 2000
does; it damps the zig-zag of plain steps), with the Held-Karp step towards the incumbent, its
factor halved after 100 steps without a better bound.  On the planning benchmark's Yuzhong
and 10,000-point cities this comes within 0.03 % of the linear relaxation in 3,000 to
5,000 steps, where plain steps halved after 40 stopped 0.1 to 0.3 % above it.  Plans come
from the greedy (most uncovered weight first, also on the multipliers) and a swap tabu
search (:class:`_SwapTabu`: the best swap of an open site for a closed one at every step,
evaluated incrementally); the subgradient and the search take turns, about half the time
each, until the subgradient has settled; the search then runs alone.  The turns go by the
work done, not by the clock (a chunk of Lagrangian steps counts the pairs, rows and sites it
goes through, the search the sites and pairs it goes through, :data:`_MC_STEP_WORK` relating
the two), so the same input gives the same plan whatever the machine's speed or load, the
deadline only cutting the path short.  When the search has gone 20,000 steps (at most
``p (m - p)``, the number of swaps, and at least twice as many as it took to find its best)
without a better plan, it starts again, in turn from the relaxation's plan (the ``p``
largest site sums at the best multipliers) with a fifth of its sites closed at random and
from its best plan with a tenth closed.  Without HiGHS to follow this goes on until the
deadline, or until the bound proves the plan (without a deadline: until 100 restarts in a
row found nothing better).  When HiGHS follows (``hand_over``) the warm start ends after
three restarts in a row without a better plan, or at a stall with the plan within 0.2 % of
the bound (and without waiting twice as long): HiGHS closes such gaps at its root faster
than the search, while further from the bound HiGHS was seen to stall at its root and the
search's plans are worth the time.  Fixing is mirrored:
forcing site ``j`` open raises the bound to at most
:math:`L(\lambda) - s_{(p)} + s_j` (:math:`s_{(p)}`: the ``p``-th largest positive site sum,
``j`` not among the largest); when that is at most the incumbent (with integer weights:
below it plus 1), ``j`` is closed.

Capacitated models and budgets are not handled here (the models return no warm start).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from linli.planning.reduce import Pairs
from linli.planning.warm import Warm

__all__ = ["max_cover_warm", "set_cover_warm"]

log = logging.getLogger(__name__)

I8 = NDArray[np.int64]
F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]

_CHUNK = 25
"""Subgradient steps between two heuristic runs."""
_STALL = 40
"""Steps without a better bound before the step size is halved."""
_MIN_STEP = 0.002
"""The subgradient stops when its step size falls below this (it has converged)."""
_RESTART_STEP = 0.5
"""Set covering: the step size when the subgradient starts again from its best multipliers."""
_CYCLE_GAIN = 1e-4
"""Set covering: the subgradient has settled when a restart raised the bound by less than
this share."""
_SLICE_S = 0.05
"""Seconds of local search between two deadline checks."""
_PATIENCE = 200_000
"""Local search steps without a better plan (and at least twice the steps it took to find
the last one) before it counts as stalled; fewer on small problems
(:data:`_PATIENCE_PER_PAIR`)."""
_PATIENCE_PER_PAIR = 50
_MIN_PATIENCE = 10_000
"""Set covering: below 4,000 pairs the search's patience is 50 steps per pair (at least
10,000), and no slice of it is longer.  A set cover split into its components
(:meth:`linli.planning.SetCover.solve`) may have hundreds of small ones: with 200,000 steps
(one or two 0.05 s slices) the warm stage took 0.1-0.2 s on a component of 80 pairs, where
HiGHS proves the optimum in 0.01 s."""
_MC_STALL = 100
"""Maximal covering: subgradient steps without a better bound before the step size is halved
(its multipliers, one per row, need longer than set covering's to settle)."""
_MC_DEFLECT = 0.5
"""Maximal covering: the step goes along ``d <- a g + (1 - a) d`` (``g`` the subgradient), an
average that damps the zig-zag of plain subgradient steps (as the volume algorithm does)."""
_MC_HAND_OVER_GAP = 0.002
"""Maximal covering with HiGHS to follow: the warm start hands over when its search stalls
with the plan this close to the bound (relative); HiGHS then closes such gaps faster.  Further
from it the search goes on, restarted, until its share of the time is spent or three restarts
in a row found nothing better."""
_MC_RESTARTS = 3
"""Maximal covering with HiGHS to follow: restarts in a row without a better plan before the
search ends."""
_MC_RESTARTS_ALONE = 100
"""Maximal covering without HiGHS to follow: restarts in a row without a better plan before
the search ends.  It ends a search without a deadline; with one, the deadline comes first on
the problems HiGHS is left out of (a restart takes 4 to 8 s on the 5-million city)."""
_MC_KICK = 0.1
"""Maximal covering: share of the open sites closed at random when the search restarts from
its best plan."""
_MC_KICK_RELAXED = 0.2
"""Maximal covering: share of the sites closed at random when the search restarts from the
relaxation's plan (the ``p`` largest site sums at the best multipliers), a start far from
the best plan.  On the 5-million mountain city (52,314 x 5,804, ``p = 291``) some 25
restarts from the best plan closing 5 to 100 % of its sites all came back to it (4,147,058);
from the linear relaxation's largest sites with a fifth closed, 1 of 11 found a better one
(4,162,324), with half closed none of 3."""
_MC_STEP_WORK = 3
"""Maximal covering: pairs, rows and sites a Lagrangian step goes through in the time the
tabu search does one unit of its work (:attr:`_SwapTabu.work`).  Measured on the planning
benchmark's 10,000 to 52,000-point problems: 120 to 195 million a second against 42 to 66
million units of the search."""
_MC_SLICE_WORK = 2_500_000
"""Maximal covering: the tabu search's work between two deadline checks (0.04 to 0.06 s at
the rates of :data:`_MC_STEP_WORK`)."""
_MC_PATIENCE = 20_000
"""Maximal covering: tabu steps without a better plan (and at least twice the steps it took
to find the last one) before the search counts as stalled; fewer when there are fewer
swaps (``p (m - p)``)."""
_INTEGRAL_TOL = 1e-6
"""Slack when a bound is rounded up (integer costs) or compared with the incumbent."""


@dataclass(frozen=True)
class _Columns:
    """The pairs by site (compressed sparse columns) beside the pairs by row."""

    row_ptr: I8
    row_sites: I8
    col_ptr: I8
    col_rows: I8

    @classmethod
    def of(cls, pairs: Pairs) -> _Columns:
        order = np.argsort(pairs.indices, kind="stable")
        col_ptr = np.zeros(pairs.n_sites + 1, dtype=np.int64)
        np.cumsum(np.bincount(pairs.indices, minlength=pairs.n_sites), out=col_ptr[1:])
        return cls(pairs.indptr, pairs.indices, col_ptr, pairs.row_of_pair()[order])


def _integral(values: F8) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) <= 1e-9))


# --- set covering kernels -------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _sc_steps(  # type: ignore[no-untyped-def]
    col_ptr, col_rows, row_ptr, row_sites, cost, usable, u, target, ctl, n_steps
):
    """Run ``n_steps`` subgradient steps from ``u`` (updated in place).

    ``ctl`` (updated in place) holds ``[best bound, λ, steps without a better bound,
    patience]``: ``λ`` is halved after ``patience`` steps without a better bound.  Returns
    ``(multipliers of the best bound, or an empty array when no step improved it,
    whether the bound reached the target or the subgradient vanished)``.
    """
    n = u.shape[0]
    m = cost.shape[0]
    x = np.zeros(m, np.bool_)
    g = np.empty(n)
    best_u = np.empty(0)
    for _ in range(n_steps):
        bound = 0.0
        for i in range(n):
            bound += u[i]
        for j in range(m):
            x[j] = False
            if not usable[j]:
                continue
            rc = cost[j]
            for q in range(col_ptr[j], col_ptr[j + 1]):
                rc -= u[col_rows[q]]
            if rc < 0.0:
                x[j] = True
                bound += rc
        if bound > ctl[0] + 1e-9:
            ctl[0] = bound
            ctl[2] = 0.0
            best_u = u.copy()
        else:
            ctl[2] += 1.0
            if ctl[2] >= ctl[3]:
                ctl[1] *= 0.5
                ctl[2] = 0.0
        norm = 0.0
        for i in range(n):
            gi = 1.0
            for q in range(row_ptr[i], row_ptr[i + 1]):
                if x[row_sites[q]]:
                    gi -= 1.0
            if gi < 0.0 and u[i] <= 0.0:
                gi = 0.0
            g[i] = gi
            norm += gi * gi
        if norm == 0.0 or target <= bound:
            return best_u, True
        if ctl[1] < _MIN_STEP:
            return best_u, False
        t = ctl[1] * (target - bound) / norm
        for i in range(n):
            v = u[i] + t * g[i]
            u[i] = v if v > 0.0 else 0.0
    return best_u, False


@njit(cache=True, nogil=True)
def _sc_reduced_costs(col_ptr, col_rows, cost, u):  # type: ignore[no-untyped-def]
    m = cost.shape[0]
    rc = np.empty(m)
    for j in range(m):
        v = cost[j]
        for q in range(col_ptr[j], col_ptr[j + 1]):
            v -= u[col_rows[q]]
        rc[j] = v
    return rc


@njit(cache=True, nogil=True)
def _sc_open(j, col_ptr, col_rows, row_ptr, row_sites, u, cnt, mu, gamma):  # type: ignore[no-untyped-def]
    """Open site ``j``: count its rows covered once more; returns how many it newly covers."""
    newly = 0
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        if cnt[i] == 0:
            newly += 1
            for r in range(row_ptr[i], row_ptr[i + 1]):
                k = row_sites[r]
                mu[k] -= 1
                gamma[k] += u[i]
        cnt[i] += 1
    return newly


@njit(cache=True, nogil=True)
def _sc_greedy(col_ptr, col_rows, row_ptr, row_sites, cost, usable, u, order_key):  # type: ignore[no-untyped-def]
    """A cover by the Lagrangian greedy, then without redundant sites; empty if none exists.

    ``order_key`` ranks sites for the redundancy pass (largest first).
    """
    n = row_ptr.shape[0] - 1
    m = cost.shape[0]
    cnt = np.zeros(n, np.int64)
    mu = np.zeros(m, np.int64)
    gamma = cost.copy()
    for j in range(m):
        if usable[j]:
            mu[j] = col_ptr[j + 1] - col_ptr[j]
            for q in range(col_ptr[j], col_ptr[j + 1]):
                gamma[j] -= u[col_rows[q]]
    is_open = np.zeros(m, np.bool_)
    left = n
    while left > 0:
        pick = -1
        score = np.inf
        for j in range(m):
            if is_open[j] or not usable[j] or mu[j] <= 0:
                continue
            s = gamma[j] / mu[j] if gamma[j] >= 0.0 else gamma[j] * mu[j]
            if s < score:
                score = s
                pick = j
        if pick < 0:
            return np.zeros(0, np.bool_)
        is_open[pick] = True
        left -= _sc_open(pick, col_ptr, col_rows, row_ptr, row_sites, u, cnt, mu, gamma)
    _sc_drop_redundant(is_open, cnt, col_ptr, col_rows, order_key)
    return is_open


@njit(cache=True, nogil=True)
def _sc_drop_redundant(is_open, cnt, col_ptr, col_rows, order_key):  # type: ignore[no-untyped-def]
    """Close open sites whose rows are all covered twice, in decreasing ``order_key``."""
    sites = np.flatnonzero(is_open)
    keys = order_key[sites]
    for k in np.argsort(-keys, kind="mergesort"):
        j = sites[k]
        redundant = True
        for q in range(col_ptr[j], col_ptr[j + 1]):
            if cnt[col_rows[q]] < 2:
                redundant = False
                break
        if redundant:
            is_open[j] = False
            for q in range(col_ptr[j], col_ptr[j + 1]):
                cnt[col_rows[q]] -= 1


# Row-weighting local search.  The state lives in arrays owned by :class:`_RowWeighting` so
# that the search can run in slices between deadline checks:
#   cnt[i]      open sites covering row i          w[i]      row weight (starts at 1)
#   score[j]    closed j: weight of the uncovered rows it covers; open j: minus the weight
#               of the rows only it covers (what closing it uncovers)
#   stamp[j]    step j last changed state          free[j]   configuration checking flag
#   unc, unc_at the uncovered rows (a list and each row's place in it)
#   opn, opn_at the open sites (likewise)
#   st          [uncovered count, open count, tabu site, step, step of the last better plan,
#               random state]
#   val         [cost of the open sites, cost of the best plan]


@njit(cache=True, nogil=True)
def _rw_flip(  # type: ignore[no-untyped-def]
    j,
    opening,
    col_ptr,
    col_rows,
    row_ptr,
    row_sites,
    cost,
    is_open,
    cnt,
    w,
    score,
    stamp,
    free,
    unc,
    unc_at,
    opn,
    opn_at,
    st,
    val,
):
    """Open (``opening``) or close site ``j``, keeping every array of the state exact."""
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        c = cnt[i]
        if opening:
            if c == 0:  # covered now, by j alone
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    score[row_sites[r]] -= w[i]
                last = unc[st[0] - 1]
                unc[unc_at[i]] = last
                unc_at[last] = unc_at[i]
                st[0] -= 1
            elif c == 1:  # its only site no longer is
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    k = row_sites[r]
                    if is_open[k]:
                        score[k] += w[i]
                        break
            cnt[i] = c + 1
        else:
            cnt[i] = c - 1
            if c == 1:  # uncovered now
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    score[row_sites[r]] += w[i]
                unc[st[0]] = i
                unc_at[i] = st[0]
                st[0] += 1
            elif c == 2:  # one site left alone with it
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    k = row_sites[r]
                    if is_open[k] and k != j:
                        score[k] -= w[i]
                        break
        for r in range(row_ptr[i], row_ptr[i + 1]):
            free[row_sites[r]] = True
    # j's own score: the rows it newly covers become its own (and back when closing); the
    # loops above added w[i] to j for every row they touched in the first branch
    own = 0.0
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        if cnt[i] == (1 if opening else 0):
            own += w[i]
    score[j] = -own if opening else own
    is_open[j] = opening
    if opening:
        opn[st[1]] = j
        opn_at[j] = st[1]
        st[1] += 1
        val[0] += cost[j]
    else:
        last = opn[st[1] - 1]
        opn[opn_at[j]] = last
        opn_at[last] = opn_at[j]
        st[1] -= 1
        val[0] -= cost[j]
        free[j] = False
    stamp[j] = st[3]


@njit(cache=True, nogil=True)
def _rw_worst_open(cost, score, stamp, opn, st, tabu):  # type: ignore[no-untyped-def]
    """The open site (not ``tabu``) whose closing uncovers the least weight per cost saved;
    ties to the one unchanged longest."""
    pick = -1
    best = -np.inf
    for k in range(st[1]):
        j = opn[k]
        if j == tabu:
            continue
        s = score[j] / max(cost[j], 1e-12)
        if s > best or (s == best and stamp[j] < stamp[pick]):
            best = s
            pick = j
    return pick


@njit(cache=True, nogil=True)
def _rw_run(  # type: ignore[no-untyped-def]
    col_ptr,
    col_rows,
    row_ptr,
    row_sites,
    cost,
    usable,
    is_open,
    cnt,
    w,
    score,
    stamp,
    free,
    unc,
    unc_at,
    opn,
    opn_at,
    st,
    val,
    best_open,
    n_steps,
):
    """``n_steps`` steps of the row-weighting local search (Gao, Weise & Li 2015, weighted
    by cost); the best cover found is copied to ``best_open`` and its cost to ``val[1]``."""
    for _ in range(n_steps):
        st[3] += 1
        # a cover: keep it if better, then close sites until it is cheaper than the best
        while st[0] == 0 or val[0] >= val[1] - 1e-9:
            if st[0] == 0 and val[0] < val[1] - 1e-9:
                val[1] = val[0]
                best_open[:] = is_open
                st[4] = st[3]
            j = _rw_worst_open(cost, score, stamp, opn, st, -1)
            if j < 0:
                break
            _rw_flip(
                j,
                False,
                col_ptr,
                col_rows,
                row_ptr,
                row_sites,
                cost,
                is_open,
                cnt,
                w,
                score,
                stamp,
                free,
                unc,
                unc_at,
                opn,
                opn_at,
                st,
                val,
            )
        j = _rw_worst_open(cost, score, stamp, opn, st, st[2])
        if j >= 0:
            _rw_flip(
                j,
                False,
                col_ptr,
                col_rows,
                row_ptr,
                row_sites,
                cost,
                is_open,
                cnt,
                w,
                score,
                stamp,
                free,
                unc,
                unc_at,
                opn,
                opn_at,
                st,
                val,
            )
        # cover a random uncovered row by its best site (configuration checking first)
        st[5] = (st[5] * 1103515245 + 12345) % 2147483648  # (an LCG: reproducible)
        i = unc[st[5] % st[0]]
        pick = -1
        pick_free = False
        best = -np.inf
        for r in range(row_ptr[i], row_ptr[i + 1]):
            k = row_sites[r]
            if not usable[k]:
                continue
            s = score[k] / max(cost[k], 1e-12)
            if (
                pick < 0
                or (free[k] and not pick_free)
                or (free[k] == pick_free and (s > best or (s == best and stamp[k] < stamp[pick])))
            ):
                pick, pick_free, best = k, free[k], s
        if pick < 0:  # (not with the usable sites of a cover)
            return
        _rw_flip(
            pick,
            True,
            col_ptr,
            col_rows,
            row_ptr,
            row_sites,
            cost,
            is_open,
            cnt,
            w,
            score,
            stamp,
            free,
            unc,
            unc_at,
            opn,
            opn_at,
            st,
            val,
        )
        st[2] = pick
        # the rows still uncovered weigh more
        for k in range(st[0]):
            i = unc[k]
            w[i] += 1.0
            for r in range(row_ptr[i], row_ptr[i + 1]):
                score[row_sites[r]] += 1.0


class _RowWeighting:
    """The row-weighting local search on a set covering problem, resumable in slices.

    Each step closes the open site whose loss of covered row weight per cost is least
    (never the site just opened), then opens, for a random uncovered row, the site covering
    it with the most uncovered weight per cost (sites whose neighbourhood changed since they
    were last closed first, then the longest unchanged), and adds one to the weight of every
    row still uncovered.  Whenever the open sites cover every row the plan is kept if it is
    the cheapest yet, and sites are closed until the plan is cheaper than the best.  The row
    weights steer the search away from the rows that are hard to cover.
    """

    def __init__(self, cols: _Columns, cost: F8, usable: B1, start: B1, *, seed: int) -> None:
        n, m = cols.row_ptr.shape[0] - 1, cost.shape[0]
        self.graph = (cols.col_ptr, cols.col_rows, cols.row_ptr, cols.row_sites)
        self.cost = cost
        self.usable = usable.copy()
        self.is_open = np.zeros(m, dtype=bool)
        self.cnt = np.zeros(n, dtype=np.int64)
        self.w = np.ones(n)
        self.score = np.zeros(m)
        np.add.at(self.score, cols.row_sites, 1.0)  # nothing open: every row uncovered
        self.stamp = np.zeros(m, dtype=np.int64)
        self.free = np.ones(m, dtype=bool)
        self.unc = np.arange(n, dtype=np.int64)
        self.unc_at = np.arange(n, dtype=np.int64)
        self.opn = np.zeros(m, dtype=np.int64)
        self.opn_at = np.zeros(m, dtype=np.int64)
        self.st = np.array([n, 0, -1, 0, 0, seed], dtype=np.int64)
        self.val = np.array([0.0, float(cost[start].sum()) + 1.0])
        self.best = start.copy()
        self._state = (self.is_open, self.cnt, self.w, self.score, self.stamp, self.free)
        self._lists = (self.unc, self.unc_at, self.opn, self.opn_at, self.st, self.val)
        for j in np.flatnonzero(start):
            self._flip(int(j), opening=True)
        self.val[1] = float(self.val[0])

    def _flip(self, j: int, *, opening: bool) -> None:
        _rw_flip(j, opening, *self.graph, self.cost, *self._state, *self._lists)

    @property
    def best_cost(self) -> float:
        """The cost of the best cover found (or given)."""
        return float(self.val[1])

    @property
    def steps(self) -> int:
        """Steps run so far."""
        return int(self.st[3])

    @property
    def stalled_steps(self) -> int:
        """Steps since the last better cover."""
        return int(self.st[3] - self.st[4])

    def run(self, n_steps: int) -> None:
        """Run ``n_steps`` steps."""
        _rw_run(*self.graph, self.cost, self.usable, *self._state, *self._lists, self.best, n_steps)

    def offer(self, plan: B1, value: float) -> None:
        """A cover found elsewhere: the search now looks for plans cheaper than ``value``."""
        if value < self.val[1] - 1e-9:
            self.val[1] = value
            self.best = plan.copy()

    def forbid(self, sites: B1) -> None:
        """Never open ``sites`` again (closing those open now)."""
        for j in np.flatnonzero(sites & self.is_open):
            self._flip(int(j), opening=False)
        self.usable &= ~sites


# --- set covering ---------------------------------------------------------------------------


def set_cover_warm(pairs: Pairs, *, site_cost: F8, required: B1, deadline: float) -> Warm:
    r"""A set cover plan, a Lagrangian lower bound and the sites no better plan opens.

    Parameters
    ----------
    pairs : Pairs
        The (reduced) problem: every row must be covered by one of its sites.
    site_cost : float array
        :math:`c_j \ge 0` per site (ones: the number of sites).
    required : bool array
        Per site: fixed open (its cost counts, its rows are covered).
    deadline : float
        A :func:`time.perf_counter` value to stop by; the search also stops when the
        bound proves the plan optimal, or when the subgradient has settled and the local
        search has long found nothing better.

    Returns
    -------
    Warm
        ``objective`` and ``bound`` are :math:`\sum_j c_j y_j` of the plan (required sites
        included) and a proven lower bound on it; ``closed`` follows the fixing rule of the
        module notes (sites of the plan and required sites are never closed).

    Examples
    --------
    >>> import numpy as np
    >>> p = Pairs(np.array([0, 2, 4, 6]), np.array([0, 1, 1, 2, 0, 2]), np.zeros(6), 3)
    >>> warm = set_cover_warm(
    ...     p, site_cost=np.ones(3), required=np.zeros(3, bool), deadline=float("inf"))
    >>> warm.objective, warm.bound
    (2.0, 2.0)
    """
    started = time.perf_counter()
    m = pairs.n_sites
    cost = np.asarray(site_cost, dtype=np.float64)
    required = np.asarray(required, dtype=bool)
    fixed_cost = float(cost[required].sum())
    done = np.zeros(pairs.n_rows, dtype=bool)
    done[pairs.row_of_pair()[required[pairs.indices]]] = True
    sub = pairs.take_rows(np.flatnonzero(~done))
    closed = np.zeros(m, dtype=bool)
    if sub.n_rows == 0:
        return Warm(required.copy(), fixed_cost, fixed_cost, closed, details={"lagrangian": 0})
    if np.any(sub.row_counts() == 0):
        return Warm(None, float("nan"), -np.inf, closed)
    cols = _Columns.of(sub)
    args = (cols.col_ptr, cols.col_rows, cols.row_ptr, cols.row_sites)
    usable = ~required
    integral = _integral(cost[usable])
    delta = 1.0 - _INTEGRAL_TOL if integral else -_INTEGRAL_TOL * max(1.0, float(cost.sum()))

    # Beasley's start: each row shares the cheapest price per row among its sites
    size = np.maximum(np.diff(cols.col_ptr), 1)
    per_row = np.where(usable, cost / size, np.inf)[sub.indices]
    u = np.minimum.reduceat(per_row, sub.indptr[:-1]).astype(np.float64)

    def greedy(mult: F8, allowed: B1) -> tuple[B1, float] | None:
        rc = _sc_reduced_costs(cols.col_ptr, cols.col_rows, cost, mult)
        plan = _sc_greedy(*args, cost, allowed, mult, cost - 1e-3 * rc)
        return None if plan.size == 0 else (plan, float(cost[plan].sum()))

    first = greedy(u, usable)
    assert first is not None  # every row has a usable site
    plan, upper = first
    search = _RowWeighting(cols, cost, usable, plan, seed=0)
    best_u = u.copy()
    ctl = np.array([-np.inf, 2.0, 0.0, _STALL])  # see _sc_steps
    cycle_from = -np.inf
    steps, runs, slice_steps = 0, 1, 1_000
    lagrangian_s = search_s = 0.0
    settled = stalled = False
    patience = int(np.clip(_PATIENCE_PER_PAIR * sub.n_pairs, _MIN_PATIENCE, _PATIENCE))

    def fix() -> bool:
        """Close the sites no better plan opens; whether the bound proves the plan."""
        nonlocal closed
        allowed = usable & ~closed
        rc = _sc_reduced_costs(cols.col_ptr, cols.col_rows, cost, best_u)
        here = float(best_u.sum() + np.minimum(rc, 0.0)[allowed].sum())
        ctl[0] = max(ctl[0], here)
        newly = allowed & ~plan & (here + np.maximum(rc, 0.0) > upper - delta)
        if newly.any():  # (the plan's sites stay open: every row keeps a site)
            closed |= newly
            search.forbid(newly)
        lower = math.ceil(ctl[0] - _INTEGRAL_TOL) if integral else ctl[0]
        return bool(lower >= upper - _INTEGRAL_TOL)

    proven = fix()
    # Lagrangian steps and local search take turns, half the time each, until the
    # subgradient settles; the search then runs alone until it stalls
    while not proven and not (settled and stalled):
        now = time.perf_counter()
        if now >= deadline:
            break
        if not settled and (stalled or lagrangian_s <= search_s):
            allowed = usable & ~closed
            improved_u, hit = _sc_steps(*args, cost, allowed, u, upper, ctl, _CHUNK)
            steps += _CHUNK
            if improved_u.size:
                best_u = improved_u
            for mult in (u, best_u) if improved_u.size else (u,):
                found = greedy(mult, allowed)
                runs += 1
                if found is not None and found[1] < upper - 1e-9:
                    plan, upper = found
                    search.offer(plan, upper)
            proven = fix()
            if ctl[1] < _MIN_STEP and not hit:
                # converged: again from the best multipliers, with smaller steps for
                # longer, while that still raises the bound
                hit = ctl[0] - cycle_from < _CYCLE_GAIN * max(1.0, abs(ctl[0]))
                cycle_from = ctl[0]
                u[:] = best_u
                ctl[1:] = (_RESTART_STEP, 0.0, 2 * ctl[3])
            settled = hit
            lagrangian_s += time.perf_counter() - now
        else:
            search.run(slice_steps)
            took = time.perf_counter() - now
            search_s += took
            slice_steps = int(np.clip(slice_steps * _SLICE_S / max(took, 1e-6), 100, patience))
            if search.best_cost < upper - 1e-9:
                plan, upper = search.best.copy(), search.best_cost
                proven = fix()
            stalled = search.stalled_steps > max(
                patience, 2 * (search.steps - search.stalled_steps)
            )
    lower = math.ceil(ctl[0] - _INTEGRAL_TOL) if integral else ctl[0]
    bound = upper if proven else min(upper, lower)
    open_ = plan | required
    details: dict[str, object] = {
        "lagrangian_steps": steps,
        "heuristic_runs": runs,
        "lagrangian_seconds": round(lagrangian_s, 3),
        "local_search_steps": search.steps,
        "local_search_seconds": round(search_s, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    log.debug(
        "set cover warm: %d rows x %d sites: plan %.6g, bound %.6g, %d closed, %d steps",
        sub.n_rows,
        m,
        upper + fixed_cost,
        bound + fixed_cost,
        int(closed.sum()),
        steps,
    )
    return Warm(open_, upper + fixed_cost, bound + fixed_cost, closed, details=details)


# --- maximal covering kernels ---------------------------------------------------------------


@njit(cache=True, nogil=True)
def _mc_row_part(col_ptr, col_rows, w, lam, usable, s):  # type: ignore[no-untyped-def]
    """``sum_i max(w_i - λ_i, 0)``, the rows' part of ``L(λ)``; fills the site sums ``s``
    (``sum of λ`` over each usable site's rows, 0 for the others)."""
    bound = 0.0
    for i in range(lam.shape[0]):
        if w[i] > lam[i]:
            bound += w[i] - lam[i]
    for j in range(s.shape[0]):
        v = 0.0
        if usable[j]:
            for q in range(col_ptr[j], col_ptr[j + 1]):
                v += lam[col_rows[q]]
        s[j] = v
    return bound


@njit(cache=True, nogil=True)
def _mc_value(col_ptr, col_rows, w, lam, usable, p, s):  # type: ignore[no-untyped-def]
    """``L(λ)``, the site sums ``s`` (filled in) and the ``p``-th largest positive one."""
    m = s.shape[0]
    bound = _mc_row_part(col_ptr, col_rows, w, lam, usable, s)
    order = np.argsort(-s)
    pth = 0.0
    for k in range(min(p, m)):
        v = s[order[k]]
        if v <= 0.0:
            break
        bound += v
        pth = v
    if p > m or (p > 0 and s[order[min(p, m) - 1]] <= 0.0):
        pth = 0.0
    return bound, order, pth


@njit(cache=True, nogil=True)
def _mc_top(s, p, y):  # type: ignore[no-untyped-def]
    """Mark in ``y`` the (at most) ``p`` largest positive ``s``; return their sum."""
    m = s.shape[0]
    k = min(p, m)
    y[:] = False
    if k <= 0:
        return 0.0
    kth = np.partition(s, m - k)[m - k]  # the k-th largest
    total = 0.0
    left = k
    for j in range(m):  # the larger ones first, then ties with the k-th up to k
        if s[j] > kth and s[j] > 0.0:
            y[j] = True
            total += s[j]
            left -= 1
    if kth > 0.0:
        for j in range(m):
            if left == 0:
                break
            if s[j] == kth:
                y[j] = True
                total += s[j]
                left -= 1
    return total


@njit(cache=True, nogil=True)
def _mc_steps(  # type: ignore[no-untyped-def]
    col_ptr,
    col_rows,
    row_ptr,
    row_sites,
    w,
    usable,
    p,
    lam,
    direction,
    target,
    step,
    n_steps,
    stall,
    best,
    patience,
):
    """Subgradient steps minimising ``L(λ)`` (``lam`` updated in place, kept in ``[0, w]``),
    along ``direction`` (updated in place: the running average of the subgradients).

    Returns ``(best bound, its multipliers, step, stall counter, converged)``.
    """
    n = lam.shape[0]
    m = usable.shape[0]
    s = np.empty(m)
    y = np.zeros(m, np.bool_)
    g = np.empty(n)
    best_lam = np.empty(0)
    for _ in range(n_steps):
        bound = _mc_row_part(col_ptr, col_rows, w, lam, usable, s)
        bound += _mc_top(s, p, y)
        if bound < best - 1e-9:
            best = bound
            best_lam = lam.copy()
            stall = 0
        else:
            stall += 1
            if stall >= patience:
                step *= 0.5
                stall = 0
        for i in range(n):
            g[i] = 1.0 if w[i] > lam[i] else 0.0
        for j in range(m):
            if y[j]:
                for q in range(col_ptr[j], col_ptr[j + 1]):
                    g[col_rows[q]] -= 1.0
        g_norm = norm = 0.0
        for i in range(n):
            gi = g[i]
            di = _MC_DEFLECT * gi + (1.0 - _MC_DEFLECT) * direction[i]
            if (gi < 0.0 and lam[i] <= 0.0) or (gi > 0.0 and lam[i] >= w[i]):
                gi = 0.0
            if (di < 0.0 and lam[i] <= 0.0) or (di > 0.0 and lam[i] >= w[i]):
                di = 0.0
            direction[i] = di
            g_norm += gi * gi
            norm += di * di
        if g_norm == 0.0 or norm == 0.0 or step < _MIN_STEP or bound <= target:
            return best, best_lam, step, stall, True
        t = step * (bound - target) / norm
        for i in range(n):
            v = lam[i] + t * direction[i]
            lam[i] = 0.0 if v < 0.0 else (w[i] if v > w[i] else v)
    return best, best_lam, step, stall, False


@njit(cache=True, nogil=True)
def _mc_greedy(col_ptr, col_rows, row_ptr, row_sites, w, usable, p, prefer):  # type: ignore[no-untyped-def]
    """Up to ``p`` sites, each covering the most weight not yet covered (ties and the
    order of equal gains broken by ``prefer``, larger first)."""
    n = row_ptr.shape[0] - 1
    m = usable.shape[0]
    gain = np.zeros(m)
    for j in range(m):
        if usable[j]:
            for q in range(col_ptr[j], col_ptr[j + 1]):
                gain[j] += w[col_rows[q]]
    covered = np.zeros(n, np.bool_)
    is_open = np.zeros(m, np.bool_)
    for _ in range(p):
        pick = -1
        for j in range(m):
            if is_open[j] or not usable[j] or gain[j] <= 0.0:
                continue
            if pick < 0 or gain[j] + prefer[j] > gain[pick] + prefer[pick]:
                pick = j
        if pick < 0:
            break
        is_open[pick] = True
        for q in range(col_ptr[pick], col_ptr[pick + 1]):
            i = col_rows[q]
            if not covered[i]:
                covered[i] = True
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    gain[row_sites[r]] -= w[i]
    return is_open


@njit(cache=True, nogil=True)
def _mc_covered(is_open, row_ptr, row_sites, w):  # type: ignore[no-untyped-def]
    total = 0.0
    for i in range(row_ptr.shape[0] - 1):
        for q in range(row_ptr[i], row_ptr[i + 1]):
            if is_open[row_sites[q]]:
                total += w[i]
                break
    return total


@njit(cache=True, nogil=True)
def _ts_flip(j, opening, col_ptr, col_rows, row_ptr, row_sites, w, is_open, cnt, owner, score):  # type: ignore[no-untyped-def]
    """Open (``opening``) or close site ``j``, keeping ``cnt``, ``owner`` and ``score``
    exact; returns the change of covered weight."""
    change = 0.0
    if not opening:
        is_open[j] = False
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        c = cnt[i]
        owner[i] += j if opening else -j
        if opening:
            if c == 0:  # covered now, by j alone: no closed site gains it any more
                change += w[i]
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    if row_sites[r] != j:
                        score[row_sites[r]] -= w[i]
            elif c == 1:  # its only open site is no longer alone with it
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    if is_open[row_sites[r]]:
                        score[row_sites[r]] -= w[i]
                        break
            cnt[i] = c + 1
        else:
            cnt[i] = c - 1
            if c == 1:  # uncovered now: every other site would gain it
                change -= w[i]
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    if row_sites[r] != j:
                        score[row_sites[r]] += w[i]
            elif c == 2:  # one open site left alone with it
                for r in range(row_ptr[i], row_ptr[i + 1]):
                    if is_open[row_sites[r]]:
                        score[row_sites[r]] += w[i]
                        break
    own = 0.0
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        if cnt[i] == (1 if opening else 0):
            own += w[i]
    score[j] = own
    if opening:
        is_open[j] = True
    return change


@njit(cache=True, nogil=True)
def _ts_draw(st, k):  # type: ignore[no-untyped-def]
    """A pseudo-random integer in ``[0, k)`` from the state ``st[3]`` (an LCG: reproducible)."""
    st[3] = (st[3] * 1103515245 + 12345) % 2147483648
    return (st[3] >> 8) % k


@njit(cache=True, nogil=True)
def _ts_local(  # type: ignore[no-untyped-def]
    a, col_ptr, col_rows, row_ptr, row_sites, w, usable, cnt, score, tabu, extra, touched, st, cache
):
    """Site ``a``'s best swap partners among the closed sites sharing a row only ``a``
    covers: ``cache[a]`` = (best ``score_c + extra``, its ``c``) over the sites not tabu,
    then over all (-inf, -1 without any).  Returns the pairs it went through (its work)."""
    step = st[0]
    n_t = 0
    work = col_ptr[a + 1] - col_ptr[a]
    for q in range(col_ptr[a], col_ptr[a + 1]):
        i = col_rows[q]
        if cnt[i] == 1:
            work += row_ptr[i + 1] - row_ptr[i]
            for r in range(row_ptr[i], row_ptr[i + 1]):
                k = row_sites[r]
                if k != a and usable[k]:
                    if extra[k] == 0.0:
                        touched[n_t] = k
                        n_t += 1
                    extra[k] += w[i]
    best_ok, c_ok, best_any, c_any = -np.inf, -1, -np.inf, -1
    for e in range(n_t):
        c = touched[e]
        v = score[c] + extra[c]
        extra[c] = 0.0
        if v > best_any:
            best_any, c_any = v, c
        if tabu[c] <= step and v > best_ok:
            best_ok, c_ok = v, c
    cache[a, 0], cache[a, 1], cache[a, 2], cache[a, 3] = best_ok, c_ok, best_any, c_any
    return work


@njit(cache=True, nogil=True)
def _ts_touch(j, col_ptr, col_rows, row_ptr, row_sites, is_open, cnt, owner, dirty, seen, mark):  # type: ignore[no-untyped-def]
    """After site ``j`` flipped: mark the open sites whose cached swaps may have changed
    (the open ones sharing a row with ``j``'s rows' sites, and the sole coverers of the
    rows of the closed ones among those sites, whose scores changed).  Returns the pairs
    it went through (its work)."""
    work = 0
    for q in range(col_ptr[j], col_ptr[j + 1]):
        i = col_rows[q]
        work += row_ptr[i + 1] - row_ptr[i]
        for r in range(row_ptr[i], row_ptr[i + 1]):
            k = row_sites[r]
            if seen[k] == mark:
                continue
            seen[k] = mark
            if is_open[k]:
                dirty[k] = True
            else:
                _ts_owners(k, col_ptr, col_rows, cnt, owner, dirty)
                work += col_ptr[k + 1] - col_ptr[k]
    return work


@njit(cache=True, nogil=True)
def _ts_owners(c, col_ptr, col_rows, cnt, owner, dirty):  # type: ignore[no-untyped-def]
    """Mark the open sites that alone cover a row of closed site ``c`` (``c`` is among
    their swap partners)."""
    for q in range(col_ptr[c], col_ptr[c + 1]):
        i = col_rows[q]
        if cnt[i] == 1:
            dirty[owner[i]] = True


@njit(cache=True, nogil=True)
def _ts_run(  # type: ignore[no-untyped-def]
    col_ptr,
    col_rows,
    row_ptr,
    row_sites,
    w,
    usable,
    p,
    is_open,
    cnt,
    owner,
    score,
    tabu,
    extra,
    cache,
    dirty,
    st,
    val,
    best_open,
    n_steps,
    tol,
):
    """``n_steps`` steps of the swap tabu search for maximal covering (see
    :class:`_SwapTabu`); the state arrays are updated in place.  A plan counts as better
    than the best by more than ``tol`` only (the running value drifts by rounding).  ``st[5]``
    counts the work done (sites scanned and pairs gone through), a measure of time that does
    not depend on the machine or its load."""
    m = usable.shape[0]
    touched = np.empty(m, np.int64)
    seen = np.full(m, -1, np.int64)
    for _ in range(n_steps):
        step = st[0]
        n_open = 0
        # the best closed site to open alone (no row shared with the site that closes)
        top, top_any = -1, -1
        for j in range(m):
            if is_open[j]:
                n_open += 1
                continue
            if not usable[j]:
                continue
            if tabu[j] == step:  # allowed again from now: its partners' caches change
                _ts_owners(j, col_ptr, col_rows, cnt, owner, dirty)
            if top_any < 0 or score[j] > score[top_any]:
                top_any = j
            if tabu[j] <= step and (top < 0 or score[j] > score[top]):
                top = j
        if n_open < p:  # room left: open the best site
            pick = top if top >= 0 else top_any
            if pick < 0:
                break
            val[0] += _ts_flip(
                pick, True, col_ptr, col_rows, row_ptr, row_sites, w, is_open, cnt, owner, score
            )
            tabu[pick] = step + st[1]
            st[5] += _ts_touch(
                pick, col_ptr, col_rows, row_ptr, row_sites, is_open, cnt, owner, dirty, seen, step
            )
        else:
            best_delta = -np.inf
            best_a, best_c, ties = -1, -1, 0
            for a in range(m):
                if not is_open[a]:
                    continue
                if dirty[a]:
                    st[5] += _ts_local(
                        a,
                        col_ptr,
                        col_rows,
                        row_ptr,
                        row_sites,
                        w,
                        usable,
                        cnt,
                        score,
                        tabu,
                        extra,
                        touched,
                        st,
                        cache,
                    )
                    dirty[a] = False
                a_tabu = tabu[a] > step
                for option in range(2):  # 0: the best allowed swap, 1: the best by aspiration
                    if option == 0:
                        if a_tabu:
                            continue
                        v, c = cache[a, 0], int(cache[a, 1])
                        if top >= 0 and score[top] > v:
                            v, c = score[top], top
                    else:
                        v, c = cache[a, 2], int(cache[a, 3])
                        if top_any >= 0 and score[top_any] > v:
                            v, c = score[top_any], top_any
                    if c < 0:
                        continue
                    delta = v - score[a]
                    if option == 1 and val[0] + delta <= val[1] + tol:
                        continue  # tabu, and not a new best (aspiration)
                    if delta > best_delta + 1e-9:
                        best_delta, best_a, best_c, ties = delta, a, c, 1
                    elif delta >= best_delta - 1e-9:
                        ties += 1
                        if _ts_draw(st, ties) == 0:
                            best_a, best_c = a, c
            if best_a < 0:
                break
            val[0] += _ts_flip(
                best_a, False, col_ptr, col_rows, row_ptr, row_sites, w, is_open, cnt, owner, score
            )
            val[0] += _ts_flip(
                best_c, True, col_ptr, col_rows, row_ptr, row_sites, w, is_open, cnt, owner, score
            )
            tabu[best_a] = step + st[1] + _ts_draw(st, st[1] + 1)
            tabu[best_c] = step + st[2] + _ts_draw(st, st[2] + 1)
            for k in (best_a, best_c):
                st[5] += _ts_touch(
                    k, col_ptr, col_rows, row_ptr, row_sites, is_open, cnt, owner, dirty, seen, step
                )
        st[0] += 1
        st[5] += m  # the scans over the sites
        if val[0] > val[1] + tol:
            val[1] = val[0]
            best_open[:] = is_open
            st[4] = st[0]


class _SwapTabu:
    r"""A swap tabu search for maximal covering, resumable in slices.

    Each step makes the best swap (close an open site, open a closed one) by the covered
    weight it adds, even when that is negative, among the swaps whose sites are not tabu (or
    that give a plan better than the best yet); a site that closes may not open again for
    the next ``t..2t`` steps (:math:`t \approx \max(0.7 \sqrt{m - p},\; 0.4 p)`, at least 3
    and at most half the closed sites), a site that opens may not close for half as long (at
    most a third of ``p``).  With many open sites the best swap moves from one part of the
    city to another; the tenure growing with ``p`` keeps the search from undoing its
    last moves elsewhere (at 5,000 sites and ``p = 250`` a tenure of 20 stalled 0.6 % below
    one of 100).  The swap's value is
    evaluated exactly and fast: with ``cnt_i`` the open sites covering row ``i``,
    ``score_j`` is the weight site ``j`` would add (closed: rows with :math:`cnt_i = 0`) or
    lose (open: rows with :math:`cnt_i = 1`), and

    .. math::

        \Delta(a \to c) = score_c - score_a + \sum_{i \in I_a \cap I_c,\; cnt_i = 1} w_i

    where the sum touches only the sites sharing a row that ``a`` alone covers; any other
    ``c`` is best taken as the one with the highest score (Whitaker 1983; Resende & Werneck
    2007).  Both arrays are updated on each flip, over the flipped site's rows only.  Each
    open site keeps its best partner among the sites sharing such a row (``cache``), and
    only the open sites near a swap compute theirs again (``dirty``): those sharing a row
    with the swapped sites' rows, and those alone covering a row of a closed site whose
    score changed or whose tenure ran out (``owner``, the sum of the open sites covering a
    row, names the site when it is alone).
    """

    def __init__(self, cols: _Columns, w: F8, usable: B1, p: int, start: B1, *, seed: int) -> None:
        n, m = cols.row_ptr.shape[0] - 1, usable.shape[0]
        self.graph = (cols.col_ptr, cols.col_rows, cols.row_ptr, cols.row_sites)
        self.w = w
        self.usable = usable.copy()
        self.p = int(p)
        self.is_open = np.zeros(m, dtype=bool)
        self.cnt = np.zeros(n, dtype=np.int64)
        self.owner = np.zeros(n, dtype=np.int64)  # sum of the open sites covering each row
        self.score = np.zeros(m)
        np.add.at(self.score, cols.row_sites, np.repeat(w, np.diff(cols.row_ptr)))
        self.tabu = np.zeros(m, dtype=np.int64)
        self.extra = np.zeros(m)
        # per open site, its best partner's score + extra (not tabu / any) and the partner
        self.cache = np.zeros((m, 4))
        self.dirty = np.ones(m, dtype=bool)
        # a closed site waits ~max(0.7 sqrt(m - p), 0.4 p) steps to reopen, an opened one
        # half as long to close (fewer than a third of the open sites are ever held)
        longest = max(3, (m - p) // 2)
        tenure = int(np.clip(round(max(0.7 * math.sqrt(max(m - p, 1)), 0.4 * p)), 3, longest))
        hold = int(np.clip(min(tenure // 2, p // 3), 1, None))
        # step, tenures, random state, step of the best plan, work done
        self.st = np.array([0, tenure, hold, seed, 0, 0], dtype=np.int64)
        self.val = np.zeros(2)
        self.tol = 1e-9 * max(1.0, float(w.sum()))
        for j in np.flatnonzero(start & self.usable):
            self._flip(int(j), opening=True)
        self.val[1] = self.val[0]
        self.best = self.is_open.copy()

    def _flip(self, j: int, *, opening: bool) -> None:
        self.val[0] += _ts_flip(
            j, opening, *self.graph, self.w, self.is_open, self.cnt, self.owner, self.score
        )
        self.dirty[:] = True

    @property
    def best_value(self) -> float:
        """The covered weight of the best plan found (or given)."""
        return float(self.val[1])

    @property
    def steps(self) -> int:
        """Steps run so far."""
        return int(self.st[0])

    @property
    def stalled_steps(self) -> int:
        """Steps since the last better plan."""
        return int(self.st[0] - self.st[4])

    @property
    def work(self) -> int:
        """Sites scanned and pairs gone through so far (the same on any machine)."""
        return int(self.st[5])

    def run(self, n_steps: int) -> None:
        """Run ``n_steps`` steps."""
        _ts_run(
            *self.graph,
            self.w,
            self.usable,
            self.p,
            self.is_open,
            self.cnt,
            self.owner,
            self.score,
            self.tabu,
            self.extra,
            self.cache,
            self.dirty,
            self.st,
            self.val,
            self.best,
            n_steps,
            self.tol,
        )

    def offer(self, plan: B1, value: float) -> None:
        """A plan found elsewhere: the search goes on from it when it is the best yet."""
        if value <= self.val[1] + self.tol:
            return
        for j in np.flatnonzero(self.is_open & ~plan):
            self._flip(int(j), opening=False)
        for j in np.flatnonzero(plan & ~self.is_open & self.usable):
            self._flip(int(j), opening=True)
        self.val[1] = self.val[0]
        self.best = self.is_open.copy()
        self.st[4] = self.st[0]

    def restart(self, kick: int, start: B1 | None = None) -> None:
        """Go back to the best plan (or to ``start``), forget the tenures and close ``kick``
        of its sites at random (tabu for a tenure; the next steps open the best sites in
        their place)."""
        plan = self.best if start is None else start
        for j in np.flatnonzero(self.is_open & ~plan):
            self._flip(int(j), opening=False)
        for j in np.flatnonzero(plan & ~self.is_open):
            self._flip(int(j), opening=True)
        step = int(self.st[0])
        self.tabu[:] = step
        opened = [int(j) for j in np.flatnonzero(self.is_open)]
        for _ in range(min(kick, len(opened))):
            site = opened.pop(int(_ts_draw(self.st, len(opened))))
            self._flip(site, opening=False)
            self.tabu[site] = step + self.st[1]
        self.st[4] = step

    def forbid(self, sites: B1) -> None:
        """Never open ``sites`` again (open ones close now; the best plan must not use them)."""
        for j in np.flatnonzero(sites & self.is_open):
            self._flip(int(j), opening=False)
        self.usable &= ~sites
        self.dirty[:] = True


# --- maximal covering -----------------------------------------------------------------------


def max_cover_warm(
    pairs: Pairs,
    *,
    weights: F8,
    p: int,
    required: B1,
    offset: float = 0.0,
    deadline: float,
    hand_over: bool = False,
) -> Warm:
    r"""A maximal covering plan, a Lagrangian upper bound and the sites no better plan opens.

    Parameters
    ----------
    pairs : Pairs
        The (reduced) problem: row ``i`` counts ``weights[i]`` when one of its sites is open.
    weights : float array
        :math:`w_i \ge 0` per row (residents).
    p : int
        At most this many sites, required ones included.
    required : bool array
        Per site: fixed open.
    offset : float
        Weight already covered outside ``pairs`` (added to objective and bound).
    deadline : float
        A :func:`time.perf_counter` value to stop by.
    hand_over : bool
        An exact solver takes over after this (``True``): once the subgradient has settled,
        stop when the search stalls with the plan within 0.2 % of the bound, or after three
        restarts in a row without a better plan.  Without (``False``) the search restarts
        whenever it stalls until the deadline (or a proof; without a deadline, until 100
        restarts in a row found nothing better).

    Returns
    -------
    Warm
        ``objective``: covered weight of the plan plus ``offset``; ``bound``: a proven upper
        bound; ``closed``: the fixing rule of the module notes.

    Examples
    --------
    >>> import numpy as np
    >>> p = Pairs(np.array([0, 1, 3, 4]), np.array([0, 0, 1, 1]), np.zeros(4), 2)
    >>> warm = max_cover_warm(p, weights=np.array([5.0, 1.0, 1.0]), p=1,
    ...                       required=np.zeros(2, bool), deadline=float("inf"))
    >>> warm.objective, warm.bound
    (6.0, 6.0)
    """
    started = time.perf_counter()
    m = pairs.n_sites
    w_all = np.asarray(weights, dtype=np.float64)
    required = np.asarray(required, dtype=bool)
    done = np.zeros(pairs.n_rows, dtype=bool)
    done[pairs.row_of_pair()[required[pairs.indices]]] = True
    fixed = float(offset) + float(w_all[done].sum())
    sub = pairs.take_rows(np.flatnonzero(~done))
    w = w_all[~done]
    free_p = int(p) - int(required.sum())
    closed = np.zeros(m, dtype=bool)
    usable = ~required
    if sub.n_rows == 0 or free_p <= 0 or not usable.any():
        return Warm(required.copy(), fixed, fixed, closed, details={"lagrangian_steps": 0})
    cols = _Columns.of(sub)
    args = (cols.col_ptr, cols.col_rows, cols.row_ptr, cols.row_sites)
    integral = _integral(w)
    delta = 1.0 - _INTEGRAL_TOL if integral else -_INTEGRAL_TOL * max(1.0, float(w.sum()))

    def greedy(prefer: F8, allowed: B1) -> tuple[B1, float]:
        plan = _mc_greedy(*args, w, allowed, free_p, prefer)
        return plan, float(_mc_covered(plan, cols.row_ptr, cols.row_sites, w))

    plan, lower = greedy(np.zeros(m), usable)
    search = _SwapTabu(cols, w, usable, free_p, plan, seed=0)
    lam = np.zeros(sub.n_rows)  # at λ = 0 the bound is the total weight
    direction = np.zeros(sub.n_rows)
    best, best_lam = float(w.sum()), lam.copy()
    step, stall, steps, runs, fixed_at, restarts, fruitless = 2.0, 0, 0, 1, 0, 0, 0
    # stalled after 20,000 steps without a better plan, or fewer on a small problem: as
    # many as there are swaps
    patience = min(_MC_PATIENCE, max(1, free_p * (int(usable.sum()) - free_p)))
    s = np.empty(m)
    start = np.zeros(m, dtype=bool)
    slice_steps = 10
    chunk_work = _CHUNK * (sub.n_pairs + sub.n_rows + m) // _MC_STEP_WORK
    lagrangian_work = 0
    lagrangian_s = search_s = 0.0
    proven = settled = stalled = False

    def fix() -> bool:
        """Close the sites no better plan opens; whether the bound proves the plan."""
        nonlocal best, fixed_at
        allowed = usable & ~closed
        here, order, pth = _mc_value(cols.col_ptr, cols.col_rows, w, best_lam, allowed, free_p, s)
        best = min(best, here)
        # forcing j open: at most L - s_(p) + s_j when j is not among the p largest
        top = np.zeros(m, dtype=bool)
        top[order[:free_p]] = True
        forced_bound = np.where(top, here, here - pth + np.maximum(s, 0.0))
        newly = allowed & ~plan & (forced_bound < lower + delta)
        if newly.any():
            closed[newly] = True
            search.forbid(newly)
            fixed_at = steps
        return bool(upper_of(best) <= lower + _INTEGRAL_TOL)

    def upper_of(bound: float) -> float:
        return math.floor(bound + _INTEGRAL_TOL) if integral else bound

    # Lagrangian steps and the tabu search take turns by their work, about half the time
    # each, until the subgradient settles; the search then runs alone, restarted whenever it
    # stalls, until the deadline (with HiGHS to follow: until three restarts in a row found
    # nothing better, or at a stall close to the bound)
    while not proven:
        now = time.perf_counter()
        if now >= deadline:
            break
        if settled and stalled:
            close = upper_of(best) - lower <= _MC_HAND_OVER_GAP * max(lower + fixed, 1e-9)
            if (hand_over and close) or fruitless >= (
                _MC_RESTARTS if hand_over else _MC_RESTARTS_ALONE
            ):
                break
            if fruitless % 2 == 0:  # from the relaxation's plan at the best multipliers
                _mc_row_part(cols.col_ptr, cols.col_rows, w, best_lam, usable & ~closed, s)
                _mc_top(s, free_p, start)
                search.restart(max(1, round(_MC_KICK_RELAXED * free_p)), start)
            else:
                search.restart(max(1, round(_MC_KICK * free_p)))
            restarts += 1
            fruitless += 1
            stalled = False
        if not settled and (stalled or lagrangian_work <= search.work):
            allowed = usable & ~closed
            best, improved, step, stall, converged = _mc_steps(
                *args,
                w,
                allowed,
                free_p,
                lam,
                direction,
                lower,
                step,
                _CHUNK,
                stall,
                best,
                _MC_STALL,
            )
            steps += _CHUNK
            lagrangian_work += chunk_work
            if improved.size:
                best_lam = improved
                _mc_value(cols.col_ptr, cols.col_rows, w, best_lam, allowed, free_p, s)
                found = greedy(1e-6 * s, allowed)
                runs += 1
                if found[1] > lower + search.tol:
                    plan, lower = found
                    search.offer(plan, lower)
            proven = fix()
            if converged and not proven:
                # again from the best multipliers while that still fixes sites
                settled = fixed_at < steps - _CHUNK or step < _MIN_STEP / 4
                lam[:] = best_lam
                direction[:] = 0.0
                step = max(step, 0.25)
            lagrangian_s += time.perf_counter() - now
        else:
            work = search.work
            search.run(slice_steps)
            search_s += time.perf_counter() - now
            work = search.work - work
            # no longer than the patience, so that a stall is seen soon on a small problem
            slice_steps = int(np.clip(slice_steps * _MC_SLICE_WORK / max(work, 1), 1, patience))
            if search.best_value > lower + search.tol:
                plan, lower = search.best.copy(), search.best_value
                proven = fix()
                fruitless = 0
                log.debug(
                    "max cover: tabu step %d, plan %.1f, bound %.1f", search.steps, lower, best
                )
            # with HiGHS to follow, no waiting twice as long as the best plan took
            found_at = 0 if hand_over or restarts else search.steps - search.stalled_steps
            stalled = search.stalled_steps > max(patience, 2 * found_at)
    upper = upper_of(best)
    bound = lower if proven else max(lower, upper)
    details: dict[str, object] = {
        "lagrangian_steps": steps,
        "heuristic_runs": runs,
        "tabu_restarts": restarts,
        "lagrangian_seconds": round(lagrangian_s, 3),
        "tabu_steps": search.steps,
        "tabu_work": search.work,
        "lagrangian_work": lagrangian_work,
        "tabu_seconds": round(search_s, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Warm(plan | required, lower + fixed, bound + fixed, closed, details=details)
