"""The compiled capacitated ascent, its knapsacks and the branch-and-bound on them, against
plain references (brute force, the Python ascent, the textbook MIP)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray
from reference_mip import p_median as reference_p_median

from linli.planning.median import (
    _apply_swap,
    _branch_and_bound,
    _CapOnPlan,
    _CapRelaxation,
    _descend,
    _forced_sites,
    _pipeline,
    _Relaxation,
    _swap_scratch,
    _swap_state,
    _transpose,
)
from linli.planning.reduce import Pairs

F8 = NDArray[np.float64]


def _dense_pairs(cost: F8) -> Pairs:
    rows, cols = np.nonzero(np.isfinite(cost))
    indptr = np.zeros(cost.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=cost.shape[0]), out=indptr[1:])
    return Pairs(indptr, cols.astype(np.int64), cost[rows, cols], cost.shape[1])


def _instance(seed: int, n: int, m: int, p: int, slack: float) -> tuple[F8, F8, F8]:
    """Rounded Euclidean costs, integer weights 1-9, equal capacities ``slack`` x demand / p."""
    rng = np.random.default_rng(seed)
    xy_d, xy_s = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    cost = np.round(np.hypot(*(xy_d[:, None, :] - xy_s[None, :, :]).transpose(2, 0, 1)), 1)
    weights = rng.integers(1, 10, n).astype(float)
    capacity = np.full(m, np.ceil(slack * weights.sum() / p))
    return cost, weights, capacity


def _relaxation(cost: F8, weights: F8, capacity: F8, p: int) -> _CapRelaxation:
    pairs = _dense_pairs(cost)
    a = weights[pairs.row_of_pair()] * pairs.cost
    forced = _forced_sites(pairs, np.zeros(cost.shape[1], dtype=bool))
    return _CapRelaxation(pairs, a, p, forced, weights, capacity)


@pytest.mark.parametrize("seed", range(5))
def test_recorded_knapsack_choices_are_optimal_and_fit(seed: int) -> None:
    # The choices are read back only from the capacities the dynamic programme updated.
    cost, weights, capacity = _instance(seed, n=14, m=4, p=2, slack=0.6)
    relax = _relaxation(cost, weights, capacity, 2)
    lam = np.random.default_rng(seed).uniform(0, 150, cost.shape[0])
    relax.site_values(lam)
    values = relax.rho.copy()
    is_open = np.ones(cost.shape[1], dtype=bool)
    relax.subgradient(lam, is_open)  # solves the knapsacks of the open sites with choices
    pr = relax.pairs
    rows, sites = pr.row_of_pair(), pr.indices
    for j in range(cost.shape[1]):
        at = sites == j
        chosen = rows[at][relax.x[at] > 0.5]
        assert weights[chosen].sum() <= capacity[j] + 1e-9
        profit = lam[chosen] - weights[chosen] * cost[chosen, j]
        assert -profit.sum() == pytest.approx(values[j])
        best = 0.0  # brute force over the rows
        for mask in itertools.product((False, True), repeat=cost.shape[0]):
            take = np.flatnonzero(mask)
            if weights[take].sum() <= capacity[j]:
                best = max(best, float((lam[take] - weights[take] * cost[take, j]).sum()))
        assert values[j] == pytest.approx(-best)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_ascent_returns_the_bound_of_its_multipliers(seed: int) -> None:
    cost, weights, capacity = _instance(seed, n=20, m=8, p=3, slack=1.15)
    relax = _relaxation(cost, weights, capacity, 3)
    upper = 1e9
    best, iterations = relax.ascend(
        upper, np.inf, theta=2.0, max_iter=200, on_plan=lambda _s: upper
    )
    assert 1 <= iterations <= 200
    value, _ = relax.evaluate(relax.lam)  # the Python evaluation at the kept multipliers
    assert value == pytest.approx(best, rel=1e-12, abs=1e-9)
    assert relax.visits.sum() == pytest.approx(3 * iterations)  # p sites per iteration
    # The same ascent in Python reaches a bound of the same quality.
    python = _relaxation(cost, weights, capacity, 3)
    reference, _ = _Relaxation.ascend(
        python, upper, np.inf, theta=2.0, max_iter=200, on_plan=lambda _s: upper
    )
    assert best == pytest.approx(reference, rel=0.02)


@pytest.mark.parametrize("seed", range(5))
def test_capacitated_branch_and_bound_proves_the_textbook_optimum(seed: int) -> None:
    # Tight capacities, so that the capacitated bound leaves a gap for the tree.
    n, m, p = 22, 9, 3
    cost, weights, capacity = _instance(seed, n=n, m=m, p=p, slack=1.05)
    optimum = reference_p_median(
        cost,
        np.ones_like(cost, dtype=bool),
        weights=weights,
        p=p,
        required=np.zeros(m, dtype=bool),
        forbidden=np.zeros(m, dtype=bool),
        capacity=capacity,
    )
    if optimum is None:
        pytest.skip("no capacitated plan")
    relax = _relaxation(cost, weights, capacity, p)
    pairs = relax.full
    a = weights[pairs.row_of_pair()] * pairs.cost
    heuristic = _CapOnPlan(pairs, a, weights, capacity, relax.forced, np.inf)
    heuristic(relax.evaluate(relax.lam)[1])
    required = np.zeros(m, dtype=bool)
    bound, _ = _pipeline(relax, heuristic, required, np.inf, max_rounds=1)
    assert bound <= optimum + 1e-6
    heuristic.alive = relax.alive
    proven, nodes = _branch_and_bound(relax, heuristic, np.inf, 100_000, node_iterations=40)
    assert proven
    assert nodes >= 1
    assert heuristic.best == pytest.approx(optimum, rel=1e-9)
    assert heuristic.best_assignment is not None
    load = np.bincount(heuristic.best_assignment, weights=weights, minlength=m)
    assert (load <= capacity + 1e-9).all()


@pytest.mark.parametrize("seed", range(8))
def test_descent_over_the_marked_swaps_matches_the_full_descent(seed: int) -> None:
    # From a local optimum, a few swaps mark what they change; the descent that scans only
    # the swaps with a marked site must make the same swaps as the one that scans them all.
    cost, weights, _ = _instance(seed, n=60, m=20, p=6, slack=1.0)
    cost = np.where(cost <= 4.0, cost, np.inf)
    cost[:, 0] = np.where(np.isfinite(cost[:, 0]), cost[:, 0], 20.0)  # every row served
    pairs = _dense_pairs(cost)
    a = weights[pairs.row_of_pair()] * pairs.cost
    t_ptr, t_row, t_pair = _transpose(pairs)
    none, tol = 1e9, 1e-6
    m = cost.shape[1]
    fixed, can_open = np.zeros(m, dtype=bool), np.ones(m, dtype=bool)
    is_open = np.zeros(m, dtype=bool)
    is_open[:6] = True
    args = (pairs.indptr, pairs.indices, a, t_ptr, t_row, t_pair)
    state = _swap_state(pairs.indptr, pairs.indices, a, is_open, none)
    scratch = _swap_scratch(pairs.n_rows, m)
    _descend(*args, is_open, fixed, can_open, none, tol, 10_000, state, scratch, True)
    scratch[2][:] = False
    scratch[3][:] = False
    rng = np.random.default_rng(seed)
    for _ in range(2):
        r = int(rng.choice(np.flatnonzero(is_open)))
        j = int(rng.choice(np.flatnonzero(~is_open)))
        _apply_swap(*args, is_open, none, state, scratch, r, j)
    plans = []
    for full in (True, False):
        plan = is_open.copy()
        copy = tuple(x.copy() for x in state)
        marks = tuple(x.copy() for x in scratch)
        swaps = _descend(*args, plan, fixed, can_open, none, tol, 10_000, copy, marks, full)
        plans.append((plan.tolist(), swaps, float(copy[4].sum())))
    assert plans[0][0] == plans[1][0]
    assert plans[0][1] == plans[1][1]
    assert plans[0][2] == pytest.approx(plans[1][2])
