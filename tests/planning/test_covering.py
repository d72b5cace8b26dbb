"""Tests of linli.planning.covering: the Lagrangian bounds, the heuristic plans and the
reduced-cost fixing of set cover and maximal cover, against the textbook MIPs of
``reference_mip`` on seeded random instances."""

from __future__ import annotations

import numpy as np
import pytest
import reference_mip as ref
from numpy.typing import NDArray

from linli.planning import MaxCover, SetCover
from linli.planning.covering import (
    _MC_RESTARTS,
    _MC_RESTARTS_ALONE,
    _Columns,
    _mc_top,
    _RowWeighting,
    _SwapTabu,
    max_cover_warm,
    set_cover_warm,
)
from linli.planning.reduce import Pairs

B1 = NDArray[np.bool_]
F8 = NDArray[np.float64]

SEEDS = range(10)
NO_DEADLINE = float("inf")


def random_coverage(seed: int, m: int = 45, n: int = 22) -> tuple[B1, F8, B1, B1]:
    """Points and sites on a grid, a site covering the points within a radius (the shape of
    walking catchments), plus one required and two forbidden sites."""
    rng = np.random.default_rng(seed)
    points = rng.random((m, 2))
    sites = rng.random((n, 2))
    allowed = np.hypot(*(points[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) < 0.3
    required = np.zeros(n, dtype=bool)
    required[rng.integers(0, n)] = True
    forbidden = np.zeros(n, dtype=bool)
    forbidden[rng.choice(np.flatnonzero(~required), 2, replace=False)] = True
    for i in np.flatnonzero(~allowed[:, ~forbidden].any(axis=1)):  # every point coverable
        allowed[i, rng.choice(np.flatnonzero(~forbidden))] = True
    return allowed, rng.integers(10, 200, m).astype(float), required, forbidden


def pairs_of(allowed: B1) -> Pairs:
    rows, cols = np.nonzero(allowed)
    indptr = np.zeros(allowed.shape[0] + 1, dtype=np.int64)
    np.cumsum(allowed.sum(axis=1), out=indptr[1:])
    return Pairs(indptr, cols.astype(np.int64), np.zeros(rows.shape[0]), allowed.shape[1])


def covers_all(allowed: B1, sites: NDArray[np.int64]) -> bool:
    return bool(allowed[:, sites].any(axis=1).all())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit", [True, False])
def test_set_cover_bound_plan_and_fixing(seed: int, unit: bool) -> None:
    allowed, _, required, forbidden = random_coverage(seed)
    n = allowed.shape[1]
    rng = np.random.default_rng(100 + seed)
    cost = np.ones(n) if unit else rng.integers(1, 6, n) + rng.random(n).round(2)
    optimum = ref.set_cover(allowed, site_cost=cost, required=required, forbidden=forbidden)
    assert optimum is not None
    model = SetCover.from_coverage(allowed, site_cost=cost, required=required, forbidden=forbidden)
    for red in (model._reduce(), model._restricted()):
        warm = set_cover_warm(
            red.pairs, site_cost=cost[red.sites], required=red.required, deadline=NO_DEADLINE
        )
        assert warm.open is not None
        assert warm.bound <= optimum + 1e-9 <= warm.objective + 2e-9
        sites = red.expand_sites(np.flatnonzero(warm.open))
        assert covers_all(allowed, sites)
        assert warm.objective == pytest.approx(cost[sites].sum())
        assert not (warm.closed & (warm.open | red.required)).any()
        # fixing never removes every optimum: solving without the closed sites cannot be
        # worse than the optimum unless the incumbent already is one
        without = forbidden.copy()
        without[red.sites[warm.closed]] = True
        rest = ref.set_cover(allowed, site_cost=cost, required=required, forbidden=without)
        best = warm.objective if rest is None else min(rest, warm.objective)
        assert best == pytest.approx(optimum)


@pytest.mark.parametrize("seed", SEEDS)
def test_max_cover_bound_plan_and_fixing(seed: int) -> None:
    allowed, w, required, forbidden = random_coverage(seed, m=60, n=25)
    p = 4
    optimum = ref.max_cover(allowed, weights=w, required=required, forbidden=forbidden, p=p)
    assert optimum is not None
    model = MaxCover.from_coverage(allowed, p=p, weights=w, required=required, forbidden=forbidden)
    for red in (model._reduce(), model._restricted()):
        warm = max_cover_warm(
            red.pairs,
            weights=red.weights,
            p=p,
            required=red.required,
            offset=red.covered_weight,
            deadline=NO_DEADLINE,
        )
        assert warm.open is not None
        assert warm.objective - 1e-9 <= optimum <= warm.bound + 1e-9
        sites = red.expand_sites(np.flatnonzero(warm.open))
        assert sites.size <= p
        assert set(np.flatnonzero(required)) <= set(sites.tolist())
        assert warm.objective == pytest.approx(w[allowed[:, sites].any(axis=1)].sum())
        assert not (warm.closed & (warm.open | red.required)).any()
        without = forbidden.copy()
        without[red.sites[warm.closed]] = True
        rest = ref.max_cover(allowed, weights=w, required=required, forbidden=without, p=p)
        best = warm.objective if rest is None else max(rest, warm.objective)
        assert best == pytest.approx(optimum)


def test_fixing_closes_sites_and_proves_a_small_optimum() -> None:
    # two clusters, each covered by one big site or by several small ones: the bound is tight
    allowed = np.zeros((8, 6), dtype=bool)
    allowed[:4, 0] = allowed[4:, 1] = True
    for k in range(4):
        allowed[k, 2 + k % 2] = allowed[4 + k, 4 + k % 2] = True
    warm = set_cover_warm(
        pairs_of(allowed), site_cost=np.ones(6), required=np.zeros(6, bool), deadline=NO_DEADLINE
    )
    assert warm.objective == warm.bound == 2.0
    assert np.flatnonzero(warm.open).tolist() == [0, 1]


@pytest.mark.parametrize("seed", range(4))
def test_methods_agree_on_the_optimum(seed: int) -> None:
    allowed, w, required, forbidden = random_coverage(seed, m=80, n=30)
    sc = SetCover.from_coverage(allowed, required=required, forbidden=forbidden)
    mc = MaxCover.from_coverage(allowed, p=5, weights=w, required=required, forbidden=forbidden)
    for model in (sc, mc):
        exact = model.solve(method="exact", mip_gap=0.0)
        auto = model.solve(method="auto", mip_gap=0.0)
        assert auto.status == exact.status == "optimal"
        assert auto.objective == pytest.approx(exact.objective)
        # unreduced, so that the reduction cannot solve the problem before the heuristic
        heuristic = model.solve(method="heuristic", mip_gap=0.0, reduce=False)
        assert heuristic.status in ("optimal", "heuristic")
        assert "warm" in heuristic.details
        lo, hi = sorted((heuristic.objective, heuristic.bound))
        assert lo - 1e-9 <= exact.objective <= hi + 1e-9
        assert heuristic.gap == pytest.approx(
            abs(heuristic.objective - heuristic.bound) / heuristic.objective
        )
    assert covers_all(allowed, sc.solve(method="heuristic", reduce=False).sites)


def test_no_warm_start_with_capacity_or_budget() -> None:
    allowed, w, _, _ = random_coverage(0)
    sc = SetCover.from_coverage(allowed, weights=w, capacity=500.0)
    mc = MaxCover.from_coverage(allowed, budget=3.0, weights=w)
    for model in (sc, mc):
        plan = model.solve(mip_gap=0.0)
        assert plan.status == "optimal"
        assert "warm" not in plan.details


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("unit", [True, False])
def test_row_weighting_search_keeps_covers_and_never_worsens(seed: int, unit: bool) -> None:
    allowed, _, _, _ = random_coverage(seed, m=80, n=30)
    n = allowed.shape[1]
    rng = np.random.default_rng(200 + seed)
    cost = np.ones(n) if unit else rng.integers(1, 6, n) + rng.random(n).round(2)
    none = np.zeros(n, dtype=bool)
    optimum = ref.set_cover(allowed, site_cost=cost, required=none, forbidden=none)
    assert optimum is not None
    cols = _Columns.of(pairs_of(allowed))
    start = np.ones(n, dtype=bool)  # every site: the worst cover
    search = _RowWeighting(cols, cost, np.ones(n, dtype=bool), start, seed=seed)
    assert search.best_cost == pytest.approx(cost.sum())
    previous = search.best_cost
    for _ in range(20):
        search.run(50)
        assert search.best_cost <= previous + 1e-9  # never worse than its start
        previous = search.best_cost
        assert covers_all(allowed, np.flatnonzero(search.best))
        assert search.best_cost == pytest.approx(cost[search.best].sum())
        # the incremental state stays exact
        cnt = allowed[:, search.is_open].sum(axis=1)
        assert np.array_equal(search.cnt, cnt)
        assert int(search.st[0]) == int((cnt == 0).sum())
    if unit:
        assert search.best_cost <= optimum * 1.2 + 1e-9
    # forbidden sites are closed and never opened again
    forbid = np.zeros(n, dtype=bool)
    forbid[np.flatnonzero(search.is_open)[:2]] = True
    search.forbid(forbid)
    search.run(500)
    assert not (search.is_open & forbid).any()


@pytest.mark.parametrize("seed", range(4))
def test_set_cover_warm_reaches_the_optimum_on_a_grid(seed: int) -> None:
    # unit costs on a catchment geometry: the row-weighting search finds the optimum and
    # the Lagrangian bound stays below it
    allowed, _, _, _ = random_coverage(seed, m=150, n=60)
    none = np.zeros(60, dtype=bool)
    optimum = ref.set_cover(allowed, site_cost=np.ones(60), required=none, forbidden=none)
    assert optimum is not None
    # no deadline: the search ends on its own (a wall-clock one would count numba's
    # first compile against it on a fresh machine)
    warm = set_cover_warm(
        pairs_of(allowed), site_cost=np.ones(60), required=none, deadline=NO_DEADLINE
    )
    assert warm.open is not None
    assert covers_all(allowed, np.flatnonzero(warm.open))
    assert warm.bound <= optimum + 1e-9
    assert warm.objective == pytest.approx(optimum)


@pytest.mark.parametrize("seed", range(3))
def test_set_cover_warm_on_a_small_problem_stalls_sooner(seed: int) -> None:
    # 30 rows each within reach of 3 of 15 sites: the Lagrangian bound (5) stays below the
    # optimum (6), so only the search's patience ends the warm start; on 90 pairs that is
    # 10,000 steps without a better plan, not 200,000 (hundreds of such components are
    # solved apart when a set cover splits)
    rng = np.random.default_rng(seed)
    allowed = np.zeros((30, 15), dtype=bool)
    for i in range(30):
        allowed[i, rng.choice(15, 3, replace=False)] = True
    none = np.zeros(15, dtype=bool)
    optimum = ref.set_cover(allowed, site_cost=np.ones(15), required=none, forbidden=none)
    warm = set_cover_warm(
        pairs_of(allowed), site_cost=np.ones(15), required=none, deadline=NO_DEADLINE
    )
    assert warm.open is not None
    assert covers_all(allowed, np.flatnonzero(warm.open))
    assert warm.objective == pytest.approx(optimum)
    assert warm.bound < warm.objective
    assert 10_000 <= warm.details["local_search_steps"] < 100_000  # type: ignore[operator]


def recomputed_scores(allowed: B1, w: F8, is_open: B1) -> F8:
    """Per site: the weight it would add (closed) or lose (open), from scratch."""
    cnt = allowed[:, is_open].sum(axis=1)
    gain = (w * (cnt == 0)) @ allowed
    loss = (w * (cnt == 1)) @ allowed
    scores: F8 = np.where(is_open, loss, gain)
    return scores


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_tabu_keeps_plans_feasible_and_never_worsens(seed: int) -> None:
    allowed, w, _, _ = random_coverage(seed, m=80, n=30)
    n, p = allowed.shape[1], 4
    none = np.zeros(n, dtype=bool)
    optimum = ref.max_cover(allowed, weights=w, required=none, forbidden=none, p=p)
    assert optimum is not None
    cols = _Columns.of(pairs_of(allowed))
    start = np.zeros(n, dtype=bool)
    start[np.argsort(allowed.sum(axis=0))[:p]] = True  # the smallest sites: a poor start
    search = _SwapTabu(cols, w, np.ones(n, dtype=bool), p, start, seed=seed)
    covered = float(w[allowed[:, start].any(axis=1)].sum())
    assert search.best_value == pytest.approx(covered)
    previous = search.best_value
    for _ in range(20):
        search.run(25)
        assert search.best_value >= previous - 1e-9  # never worse than its start
        previous = search.best_value
        assert search.best.sum() <= p
        assert search.is_open.sum() <= p
        assert search.best_value == pytest.approx(w[allowed[:, search.best].any(axis=1)].sum())
        # the incremental state stays exact
        assert np.array_equal(search.cnt, allowed[:, search.is_open].sum(axis=1))
        assert np.allclose(search.score, recomputed_scores(allowed, w, search.is_open))
    assert search.best_value <= optimum + 1e-9
    assert search.best_value >= 0.97 * optimum
    # forbidden sites close and never open again
    forbid = np.zeros(n, dtype=bool)
    forbid[np.flatnonzero(search.is_open)[:2]] = True
    search.forbid(forbid)
    search.run(200)
    assert not (search.is_open & forbid).any()
    assert np.allclose(search.score, recomputed_scores(allowed, w, search.is_open))


def expected_partners(search: _SwapTabu, allowed: B1, w: F8, a: int) -> tuple[float, float]:
    """Open site ``a``'s best ``score_c + extra(a, c)`` over the closed sites sharing a row
    only ``a`` covers: among those whose tenure has run out, and among all (from scratch)."""
    alone = allowed[:, a] & (search.cnt == 1)
    allowed_now = search.tabu < search.st[0]  # expiries of the next step not yet seen
    best_ok = best_any = -np.inf
    for c in np.flatnonzero(search.usable & ~search.is_open):
        shared = allowed[:, c] & alone
        if shared.any():
            value = search.score[c] + float(w[shared].sum())
            best_any = max(best_any, value)
            if allowed_now[c]:
                best_ok = max(best_ok, value)
    return best_ok, best_any


@pytest.mark.parametrize("seed", SEEDS)
def test_swap_tabu_cached_partners_stay_exact(seed: int) -> None:
    # only the open sites near a swap compute their best partner again: every other
    # cached value must still be what a full computation gives
    rng = np.random.default_rng(seed)  # a city of many catchments: swaps stay local
    points, sites = 3.0 * rng.random((600, 2)), 3.0 * rng.random((150, 2))
    allowed = np.hypot(*(points[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) < 0.3
    w = rng.integers(10, 200, 600).astype(float)
    n, p = allowed.shape[1], 15
    usable = np.ones(n, dtype=bool)
    usable[seed] = False
    search = _SwapTabu(_Columns.of(pairs_of(allowed)), w, usable, p, np.zeros(n, bool), seed=seed)
    checked = 0
    for k in range(40):
        search.run(7)
        if k == 20:  # a forbidden site resets the caches
            search.forbid(np.flatnonzero(search.is_open)[:1] == np.arange(n))
        for a in np.flatnonzero(search.is_open & ~search.dirty):
            best_ok, best_any = expected_partners(search, allowed, w, int(a))
            assert search.cache[a, 0] == pytest.approx(best_ok)
            assert search.cache[a, 2] == pytest.approx(best_any)
            checked += 1
        assert np.array_equal(search.cnt, allowed[:, search.is_open].sum(axis=1))
        sole = search.cnt == 1
        owners = np.argmax(allowed[sole][:, search.is_open], axis=1)
        assert np.array_equal(search.owner[sole], np.flatnonzero(search.is_open)[owners])
    assert checked > 100
    best, value = search.best.copy(), search.best_value
    search.restart(3)  # back to the best plan, three of its sites closed
    assert search.is_open.sum() == best.sum() - 3
    assert not (search.is_open & ~best).any()
    assert search.best_value == value
    assert np.array_equal(search.cnt, allowed[:, search.is_open].sum(axis=1))
    assert np.allclose(search.score, recomputed_scores(allowed, w, search.is_open))
    search.run(50)
    assert search.best_value >= value
    assert search.is_open.sum() == p
    # from another plan: its sites but two, and the best plan kept
    start = np.zeros(n, dtype=bool)
    start[np.flatnonzero(usable & ~search.best)[:p]] = True
    value = search.best_value
    search.restart(2, start)
    assert search.is_open.sum() == p - 2
    assert not (search.is_open & ~start).any()
    assert search.best_value == value
    assert np.array_equal(search.cnt, allowed[:, search.is_open].sum(axis=1))
    assert np.allclose(search.score, recomputed_scores(allowed, w, search.is_open))


def test_mc_top_takes_the_p_largest_positive_sums() -> None:
    s = np.array([3.0, -1.0, 5.0, 3.0, 0.0, 3.0, 1.0])
    y = np.zeros(s.shape[0], dtype=bool)
    assert _mc_top(s, 3, y) == 11.0  # 5 and two of the three 3s
    assert y.sum() == 3
    assert y[2]
    assert not y[6]
    assert _mc_top(s, 6, y) == 15.0  # never the non-positive ones
    assert np.array_equal(y, s > 0)
    assert _mc_top(s, 0, y) == 0.0
    assert not y.any()
    assert _mc_top(np.array([-2.0, 0.0]), 1, y[:2]) == 0.0


def test_max_cover_warm_restarts_until_the_deadline_without_highs() -> None:
    # an instance whose relaxation does not prove the optimum: with HiGHS to follow, the
    # search ends after a few restarts without a better plan (or at a stall close to the
    # bound); without, it goes on restarting until the deadline (here none: until many
    # restarts in a row found nothing); bound and plan stay valid either way
    allowed, w, _, _ = random_coverage(3, m=200, n=80)
    none = np.zeros(80, dtype=bool)
    optimum = ref.max_cover(allowed, weights=w, required=none, forbidden=none, p=4)
    assert optimum is not None
    for hand_over in (False, True):
        warm = max_cover_warm(
            pairs_of(allowed),
            weights=w,
            p=4,
            required=none,
            deadline=NO_DEADLINE,
            hand_over=hand_over,
        )
        assert warm.open is not None
        assert warm.open.sum() <= 4
        assert warm.objective - 1e-9 <= optimum <= warm.bound + 1e-9
        assert warm.objective == pytest.approx(w[allowed[:, warm.open].any(axis=1)].sum())
        assert warm.gap(maximize=True) > 0.0
        restarts = warm.details["tabu_restarts"]
        assert isinstance(restarts, int)
        assert restarts <= _MC_RESTARTS if hand_over else restarts >= _MC_RESTARTS_ALONE


@pytest.mark.parametrize(("seed", "m", "n", "p"), [(0, 300, 120, 12), (3, 200, 80, 4)])
def test_max_cover_warm_gives_the_same_plan_twice(seed: int, m: int, n: int, p: int) -> None:
    # the Lagrangian steps and the search take turns by the work done, not by the time: the
    # same input gives the same plan, bound and steps whatever the machine's load (the
    # second instance is not proven: the search restarts until many in a row found nothing)
    allowed, w, _, _ = random_coverage(seed, m=m, n=n)
    none = np.zeros(n, dtype=bool)
    runs = [
        max_cover_warm(pairs_of(allowed), weights=w, p=p, required=none, deadline=NO_DEADLINE)
        for _ in range(2)
    ]
    first, second = runs
    assert first.open is not None
    assert second.open is not None
    assert np.array_equal(first.open, second.open)
    assert (first.objective, first.bound) == (second.objective, second.bound)
    for key in ("lagrangian_steps", "tabu_steps", "tabu_restarts", "tabu_work"):
        assert first.details[key] == second.details[key]


def test_max_cover_warm_past_its_deadline_still_gives_a_plan_and_a_bound() -> None:
    # no Lagrangian step before the deadline: the greedy plan and the total weight as bound
    allowed, w, _, _ = random_coverage(0, m=300, n=120)
    none = np.zeros(120, dtype=bool)
    warm = max_cover_warm(pairs_of(allowed), weights=w, p=12, required=none, deadline=0.0)
    assert warm.open is not None
    assert warm.details["lagrangian_steps"] == 0
    assert warm.objective == pytest.approx(w[allowed[:, warm.open].any(axis=1)].sum())
    assert warm.bound == w.sum()


@pytest.mark.parametrize("seed", range(4))
def test_max_cover_warm_reaches_the_optimum_on_a_grid(seed: int) -> None:
    # a catchment geometry with more sites than the seeded instances: the tabu search finds
    # the optimum and the Lagrangian bound stays above it
    allowed, w, _, _ = random_coverage(seed, m=150, n=60)
    none = np.zeros(60, dtype=bool)
    optimum = ref.max_cover(allowed, weights=w, required=none, forbidden=none, p=6)
    assert optimum is not None
    warm = max_cover_warm(pairs_of(allowed), weights=w, p=6, required=none, deadline=NO_DEADLINE)
    assert warm.open is not None
    assert warm.open.sum() <= 6
    assert warm.bound >= optimum - 1e-9
    assert warm.objective == pytest.approx(optimum)
