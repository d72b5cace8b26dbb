"""The p-median's Lagrangian bound, vertex substitution and fixing against the textbook MIP."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from reference_mip import p_median as reference_p_median
from test_or_library import read_pmed

from conftest import require_shared
from linli.planning import PMedian
from linli.planning.median import lagrangian_bound, median_warm, vertex_substitution
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


def _reference(cost: F8, weights: F8, p: int, required: B1 | None = None) -> float | None:
    m = cost.shape[1]
    req = np.zeros(m, dtype=bool) if required is None else required
    return reference_p_median(
        np.where(np.isfinite(cost), cost, 0.0),
        np.isfinite(cost),
        weights=weights,
        p=p,
        required=req,
        forbidden=np.zeros(m, dtype=bool),
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
