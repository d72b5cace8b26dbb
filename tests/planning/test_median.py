"""The p-median's Lagrangian bound, vertex substitution and fixing against the textbook MIP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray
from reference_mip import p_median as reference_p_median
from test_or_library import read_pmed

from conftest import require_shared
from linli.planning import PMedian
from linli.planning.median import (
    _assignment_mip,
    _branch_and_bound,
    _CapRelaxation,
    _forced_sites,
    _OnPlan,
    _pipeline,
    _Relaxation,
    capacitated_warm,
    iterated_swaps,
    lagrangian_bound,
    median_warm,
    vertex_substitution,
)
from linli.planning.reduce import Pairs

F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]


def _sparse_instance(seed: int, n: int = 30, m: int = 12, density: float = 0.3) -> F8:
    """Dense minutes with ``inf`` where a pair is not allowed; every row keeps a pair to
    one of the first three sites, so any p >= 3 is feasible."""
    rng = np.random.default_rng(seed)
    xy_d, xy_s = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    cost = np.round(np.hypot(*(xy_d[:, None, :] - xy_s[None, :, :]).transpose(2, 0, 1)), 1)
    allowed = rng.random((n, m)) < density
    allowed[np.arange(n), rng.integers(0, 3, n)] = True  # feasible for p >= 3
    return np.where(allowed, cost, np.inf)


def _pairs(cost: F8) -> Pairs:
    rows, cols = np.nonzero(np.isfinite(cost))
    indptr = np.zeros(cost.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=cost.shape[0]), out=indptr[1:])
    return Pairs(indptr, cols.astype(np.int64), cost[rows, cols], cost.shape[1])


def _reference(
    cost: F8, weights: F8, p: int, required: B1 | None = None, capacity: F8 | None = None
) -> float | None:
    m = cost.shape[1]
    req = np.zeros(m, dtype=bool) if required is None else required
    return reference_p_median(
        np.where(np.isfinite(cost), cost, 0.0),
        np.isfinite(cost),
        weights=weights,
        p=p,
        required=req,
        forbidden=np.zeros(m, dtype=bool),
        capacity=capacity,
    )


def _plan_cost(cost: F8, weights: F8, is_open: B1) -> float:
    served = np.where(is_open[None, :], cost, np.inf).min(axis=1)
    return float((weights * served).sum())


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_is_below_the_textbook_optimum(seed: int) -> None:
    cost = _sparse_instance(seed)
    weights = np.random.default_rng(seed + 100).integers(1, 5, cost.shape[0]).astype(float)
    optimum = _reference(cost, weights, p=4)
    assert optimum is not None
    result = lagrangian_bound(_pairs(cost), weights, p=4)
    assert result.bound <= optimum + 1e-6
    assert result.bound >= 0.8 * optimum  # a bound worth having, not just 0
    assert int(result.open.sum()) == 4


@pytest.mark.parametrize("seed", range(6))
def test_vertex_substitution_keeps_every_point_served(seed: int) -> None:
    cost = _sparse_instance(seed, density=0.15)
    weights = np.ones(cost.shape[0])
    start = np.zeros(cost.shape[1], dtype=bool)
    start[:5] = True
    plan, value, _ = vertex_substitution(_pairs(cost), weights, start=start)
    assert int(plan.sum()) == 5
    served = np.isfinite(np.where(plan[None, :], cost, np.inf).min(axis=1))
    assert served.all()
    assert value == pytest.approx(_plan_cost(cost, weights, plan))
    optimum = _reference(cost, weights, p=5)
    assert optimum is not None
    assert value >= optimum - 1e-6


def test_vertex_substitution_finds_the_swap() -> None:
    # Two points, two sites: starting at site 0 costs 1 + 4, site 1 costs 5 + 1.
    pairs = Pairs(np.array([0, 2, 4]), np.array([0, 1, 0, 1]), np.array([1.0, 5, 4, 1]), 2)
    plan, value, swaps = vertex_substitution(
        pairs, np.array([1.0, 3.0]), start=np.array([True, False])
    )
    assert plan.tolist() == [False, True]
    assert value == 8.0
    assert swaps == 1


@pytest.mark.parametrize("seed", range(6))
def test_iterated_swaps_keeps_p_sites_and_never_loses_to_vertex_substitution(seed: int) -> None:
    cost = _sparse_instance(seed, n=40, m=15, density=0.25)
    weights = np.random.default_rng(seed).integers(1, 9, cost.shape[0]).astype(float)
    pairs = _pairs(cost)
    start = np.zeros(cost.shape[1], dtype=bool)
    start[:6] = True
    fixed = np.zeros(cost.shape[1], dtype=bool)
    fixed[1] = True
    can_open = np.ones(cost.shape[1], dtype=bool)
    can_open[-2:] = False
    _, local, _ = vertex_substitution(pairs, weights, start=start, fixed=fixed, can_open=can_open)
    plan, value, rounds = iterated_swaps(
        pairs, weights, start=start, fixed=fixed, can_open=can_open, max_stale=200, seed=seed
    )
    assert int(plan.sum()) == 6
    assert plan[1]
    assert not plan[-2:].any()
    assert rounds >= 200
    assert value == pytest.approx(_plan_cost(cost, weights, plan))
    assert value <= local + 1e-9
    optimum = _reference(cost, weights, p=6, required=fixed)
    assert optimum is not None
    assert value >= optimum - 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_warm_start_is_feasible_bounded_and_fixing_keeps_the_optimum(seed: int) -> None:
    cost = _sparse_instance(seed, n=40, m=15, density=0.35)
    weights = np.random.default_rng(seed).integers(1, 9, cost.shape[0]).astype(float)
    required = np.zeros(cost.shape[1], dtype=bool)
    required[seed % cost.shape[1]] = seed % 2 == 0
    p = 5
    optimum = _reference(cost, weights, p, required)
    assert optimum is not None
    pairs = _pairs(cost)
    warm = median_warm(pairs, weights, p=p, required=required, deadline=np.inf)
    assert warm.open is not None
    assert int(warm.open.sum()) == p
    assert warm.open[required].all()
    assert warm.objective == pytest.approx(_plan_cost(cost, weights, warm.open))
    assert warm.bound <= optimum + 1e-6 <= warm.objective + 2e-6
    # Fixing: the problem without the closed sites and pairs still holds a plan at the
    # optimum, or none better than the incumbent (then the incumbent is the optimum).
    kept = cost.copy()
    kept[:, warm.closed] = np.inf
    assert warm.closed_pairs is not None
    rows = pairs.row_of_pair()[warm.closed_pairs]
    kept[rows, pairs.indices[warm.closed_pairs]] = np.inf
    if np.isfinite(kept).any(axis=1).all() and int((~warm.closed).sum()) >= p:
        restricted = _reference(kept, weights, p, required)
        if restricted is not None and restricted < warm.objective - 1e-6:
            assert restricted == pytest.approx(optimum)
    else:
        assert warm.objective == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(6))
def test_branch_and_bound_proves_the_textbook_optimum(seed: int) -> None:
    # Real-valued costs (no rounding of the bound) and few probing rounds, so that the
    # branch-and-bound has work left.
    cost = _sparse_instance(seed, n=50, m=18, density=0.5) * 1.013
    weights = np.random.default_rng(seed).uniform(1, 9, cost.shape[0])
    p = 5
    optimum = _reference(cost, weights, p)
    assert optimum is not None
    pairs = _pairs(cost)
    required = np.zeros(cost.shape[1], dtype=bool)
    forced = _forced_sites(pairs, required)
    heuristic = _OnPlan(pairs, weights, forced, np.inf)
    relax = _Relaxation(pairs, weights[pairs.row_of_pair()] * pairs.cost, p, forced)
    heuristic(relax.evaluate(relax.lam)[1])
    bound, _ = _pipeline(relax, heuristic, required, np.inf, max_rounds=1)
    assert bound <= optimum + 1e-6
    proven, nodes = _branch_and_bound(relax, heuristic, np.inf, 100_000)
    assert proven
    assert nodes >= 1
    assert heuristic.best == pytest.approx(optimum, rel=1e-9)
    assert heuristic.best_open is not None
    assert _plan_cost(cost, weights, heuristic.best_open) == pytest.approx(optimum, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_solve_with_and_without_fixing_reaches_the_same_optimum(seed: int) -> None:
    cost = _sparse_instance(seed, n=60, m=20, density=0.3)
    weights = np.random.default_rng(seed).integers(1, 20, cost.shape[0]).astype(float)
    model = PMedian.from_cost_matrix(cost, p=6, weights=weights)
    auto = model.solve(method="auto")
    exact = model.solve(method="exact")
    assert auto.status == exact.status == "optimal"
    assert auto.objective == pytest.approx(exact.objective, rel=1e-4)
    assert auto.objective == pytest.approx(_reference(cost, weights, 6), rel=1e-4)
    assert (auto.assignment >= 0).all()


def test_heuristic_method_reports_a_proven_gap() -> None:
    cost = _sparse_instance(3, n=80, m=25, density=0.3)
    weights = np.random.default_rng(3).integers(1, 20, cost.shape[0]).astype(float)
    optimum = _reference(cost, weights, 7)
    assert optimum is not None
    plan = PMedian.from_cost_matrix(cost, p=7, weights=weights).solve(method="heuristic")
    assert plan.status in ("heuristic", "optimal")
    assert plan.n_sites == 7
    assert plan.bound <= optimum + 1e-6 <= plan.objective + 1e-6
    assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective, abs=1e-9)
    assert plan.gap < 0.05


def test_pmed6_is_proven_optimal_through_the_warm_start() -> None:
    cost, p = read_pmed(require_shared("benchmarks/or-library/pmed/pmed6.txt"))
    plan = PMedian.from_cost_matrix(cost, p=p).solve(time_limit_s=60)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(7824)
    warm = plan.details["warm"]
    assert isinstance(warm, dict)
    assert warm["closed_sites"] > 100  # the fixing did the work, not HiGHS alone


# --- capacitated ----------------------------------------------------------------------------


def _capacitated_instance(seed: int, n: int = 18, m: int = 7, p: int = 3) -> tuple[F8, F8, F8]:
    """Integer weights 1-9 and equal capacities with about 25 % slack over the demand."""
    cost = _sparse_instance(seed, n=n, m=m, density=0.7)
    weights = np.random.default_rng(seed + 7).integers(1, 10, n).astype(float)
    capacity = np.full(m, np.ceil(1.25 * weights.sum() / p))
    return cost, weights, capacity


def _brute_knapsack(profit: F8, weight: F8, cap: float, taken: int | None = None) -> float:
    """The largest total profit of a subset within ``cap`` (containing ``taken``)."""
    best = -np.inf
    k = profit.shape[0]
    for mask in range(1 << k):
        chosen = np.array([(mask >> t) & 1 for t in range(k)], dtype=bool)
        if taken is not None and not chosen[taken]:
            continue
        if weight[chosen].sum() <= cap + 1e-9:
            best = max(best, float(profit[chosen].sum()))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_knapsacks_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 9, 3
    cost = rng.integers(0, 20, (n, m)).astype(float)
    weights = rng.integers(1, 8, n).astype(float)
    capacity = rng.integers(8, 20, m).astype(float)
    pairs = _pairs(cost)
    a = weights[pairs.row_of_pair()] * pairs.cost
    lam = rng.uniform(0, 120, n)
    for integer in (True, False):
        w = weights if integer else weights + 1e-7  # not integers: the linear relaxation
        relax = _CapRelaxation(pairs, a, 2, np.zeros(m, dtype=bool), w, capacity)
        assert relax.exact == integer
        relax.lam = lam
        value, _ = relax.evaluate(lam)
        relax.pair_bounds(value, np.ones(m, dtype=bool), 0.0)  # fills forced_cost
        for j in range(m):
            profit = lam - weights * cost[:, j]
            best = _brute_knapsack(profit, w, capacity[j])
            if integer:
                assert relax.rho[j] == pytest.approx(-best)
            else:  # the linear relaxation bounds the 0-1 knapsack
                assert relax.rho[j] <= -best + 1e-6
            for i in range(n):
                k = int(pairs.indptr[i]) + j  # dense: pair (i, j)
                forced = _brute_knapsack(profit, w, capacity[j], taken=i)
                assert relax.forced_cost[k] <= -forced + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_bound_is_below_the_textbook_optimum_and_fixing_keeps_it(seed: int) -> None:
    cost, weights, capacity = _capacitated_instance(seed)
    p, m = 3, cost.shape[1]
    optimum = _reference(cost, weights, p, capacity=capacity)
    assert optimum is not None
    pairs = _pairs(cost)
    required = np.zeros(m, dtype=bool)
    warm = capacitated_warm(
        pairs, weights, capacity=capacity, p=p, required=required, deadline=np.inf
    )
    assert warm is not None
    assert warm.open is not None
    assert warm.assignment is not None
    assert int(warm.open.sum()) == p
    assert warm.bound <= optimum + 1e-6 <= warm.objective + 2e-6
    # The incumbent is a capacitated plan at its stated cost.
    assert warm.open[warm.assignment].all()
    load = np.bincount(warm.assignment, weights=weights, minlength=m)
    assert (load <= capacity + 1e-9).all()
    rows = np.arange(cost.shape[0])
    assert warm.objective == pytest.approx(float((weights * cost[rows, warm.assignment]).sum()))
    # The bound is the capacitated one: no weaker than the uncapacitated Lagrangian's.
    assert warm.bound >= lagrangian_bound(pairs, weights, p=p).bound - 1e-6
    # Fixing: without the closed sites and pairs the optimum is still there, or nothing
    # beats the incumbent (then it is the optimum).
    kept = cost.copy()
    kept[:, warm.closed] = np.inf
    assert warm.closed_pairs is not None
    kept[pairs.row_of_pair()[warm.closed_pairs], pairs.indices[warm.closed_pairs]] = np.inf
    restricted = None
    if np.isfinite(kept).any(axis=1).all() and int((~warm.closed).sum()) >= p:
        restricted = _reference(kept, weights, p, capacity=capacity)
    if restricted is not None and restricted < warm.objective - 1e-6:
        assert restricted == pytest.approx(optimum)
    else:
        assert warm.objective == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(3))
def test_capacitated_solve_reaches_the_textbook_optimum(seed: int) -> None:
    cost, weights, capacity = _capacitated_instance(seed, n=24, m=9, p=4)
    optimum = _reference(cost, weights, 4, capacity=capacity)
    model = PMedian.from_cost_matrix(cost, p=4, weights=weights, capacity=capacity)
    for method in ("auto", "exact"):
        plan = model.solve(method=method)
        assert plan.status == "optimal"
        assert plan.objective == pytest.approx(optimum, rel=1e-4)
        assert plan.bound <= optimum + 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_assignment_at_a_leaf_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 7, 4
    cost = rng.integers(1, 30, (n, m)).astype(float)
    weights = rng.integers(1, 6, n).astype(float)
    capacity = np.full(m, float(np.ceil(weights.sum() / 2)))
    is_open = np.array([True, False, True, False])
    pairs = _pairs(cost)
    a = weights[pairs.row_of_pair()] * pairs.cost
    found = _assignment_mip(
        pairs, a, weights, capacity, is_open, np.ones(pairs.n_pairs, dtype=bool), time_limit_s=10
    )
    assert found is not None
    best = np.inf
    for choice in itertools.product((0, 2), repeat=n):
        to = np.array(choice)
        load = np.bincount(to, weights=weights, minlength=m)
        if (load <= capacity).all():
            best = min(best, float((weights * cost[np.arange(n), to]).sum()))
    value, assignment = found
    assert value == pytest.approx(best)
    if np.isfinite(best):
        assert assignment is not None
        assert float((weights * cost[np.arange(n), assignment]).sum()) == pytest.approx(best)
