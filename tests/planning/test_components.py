"""SetCover solves the independent components of its reduced problem one at a time.

Instances here are made of disjoint blocks (each a small random instance of ``test_models``;
no demand point of one block can reach a site of another), so the optimum is the sum of the
blocks' optima.  Every plan is checked against the textbook MIP of ``reference_mip`` on the
whole matrix and against the same model solved whole (``decompose=False``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import reference_mip as ref
from numpy.typing import NDArray
from test_models import Instance, check_plan, same, unreachable

from linli.planning import MaxCover, PMedian, SetCover, models
from linli.planning.reduce import Reduction
from linli.planning.warm import Warm

F8 = NDArray[np.float64]
EXACT = {"mip_gap": 0.0, "time_limit_s": 30.0}


def block(seed: int, *, m: int, n: int, reach: int) -> Instance:
    """A random block: each demand point reaches ``reach`` of the ``n`` sites (1-20 minutes);
    weights, capacities, costs and a few required and forbidden sites as in ``test_models``."""
    rng = np.random.default_rng(seed)
    minutes = np.full((m, n), np.inf)
    for i in range(m):
        minutes[i, rng.choice(n, reach, replace=False)] = rng.integers(1, 21, reach)
    required = np.zeros(n, dtype=bool)
    forbidden = np.zeros(n, dtype=bool)
    picks = rng.permutation(n)
    required[picks[: rng.integers(0, 2)]] = True
    forbidden[picks[2 : 2 + rng.integers(0, 3)]] = True
    return Instance(
        minutes,
        np.isfinite(minutes),
        rng.integers(1, 10, m).astype(float),
        rng.integers(15, 40, n).astype(float),
        rng.integers(1, 6, n).astype(float),
        required,
        forbidden,
    )


def blocks(seeds: list[int], *, m: int = 16, n: int = 10, reach: int = 3) -> Instance:
    """The blocks of ``seeds`` side by side: a block-diagonal matrix, inf between blocks."""
    parts = [block(seed, m=m, n=n, reach=reach) for seed in seeds]
    minutes = np.full((len(seeds) * m, len(seeds) * n), np.inf)
    for k, part in enumerate(parts):
        minutes[k * m : (k + 1) * m, k * n : (k + 1) * n] = part.minutes
    return Instance(
        minutes,
        np.isfinite(minutes),
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in ("weights", "capacity", "site_cost", "required", "forbidden")
        ),
    )


def set_cover(inst: Instance, *, capacity: bool, costs: bool) -> SetCover:
    return SetCover.from_cost_matrix(
        inst.minutes,
        weights=inst.weights,
        capacity=inst.capacity if capacity else None,
        site_cost=inst.site_cost if costs else None,
        required=inst.required,
        forbidden=inst.forbidden,
    )


@pytest.fixture
def every_component_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Solve each component on its own, however small (by default tiny ones are batched)."""
    monkeypatch.setattr(models, "_PART_MIN_PAIRS", 0)


@pytest.fixture(params=[False, True], ids=["uncapacitated", "capacitated"])
def capacity(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.mark.usefixtures("every_component_apart")
@pytest.mark.parametrize("costs", [False, True], ids=["count", "site costs"])
def test_blocks_solved_apart_match_the_reference(capacity: bool, costs: bool) -> None:
    split = infeasible = 0
    for seed in range(8):
        inst = blocks([10 * seed, 10 * seed + 1, 10 * seed + 2])
        model = set_cover(inst, capacity=capacity, costs=costs)
        expected = ref.set_cover(
            inst.allowed,
            site_cost=inst.site_cost if costs else np.ones(inst.allowed.shape[1]),
            required=inst.required,
            forbidden=inst.forbidden,
            weights=inst.weights,
            capacity=inst.capacity if capacity else None,
        )
        # With capacity and unit costs "auto" runs on the two-tier machinery (its own
        # parts); "exact" keeps SetCover's parts, the subject here.
        method = "exact" if capacity and not costs else "auto"
        plan = model.solve(method=method, **EXACT)
        whole = model.solve(decompose=False, method=method, **EXACT)
        assert "components" not in whole.details
        assert plan.unreachable.tolist() == unreachable(inst, capacity=capacity)
        if expected is None:
            assert plan.status == whole.status == "infeasible", seed
            assert np.isnan(plan.objective)
            assert (plan.assignment == -1).all()
            infeasible += 1
            continue
        assert plan.status == "optimal", seed
        assert same(plan.objective, expected), (seed, plan.objective, expected)
        assert same(whole.objective, expected)
        assert plan.bound <= expected + 1e-6
        assert plan.gap <= 1e-9
        check_plan(plan, inst, capacity=capacity, every_row=True)
        cost = inst.site_cost if costs else np.ones(inst.allowed.shape[1])
        assert same(cost[plan.sites].sum(), plan.objective)
        if "components" in plan.details:
            split += 1
            parts: Any = plan.details["parts"]
            assert len(parts) == plan.details["components"] >= 2
            assert all(part["status"] == "optimal" for part in parts)
            assert sum(part["objective"] for part in parts) <= plan.objective + 1e-6
            assert sum(part["bound"] for part in parts) <= plan.bound + 1e-6
    assert split >= 4, "most block instances should be solved apart"
    assert infeasible < 8


def test_a_block_nobody_can_reach_is_reported() -> None:
    inst = blocks([1, 2, 3])
    inst.minutes[16:32, 10:20] = np.inf  # the second block's demand reaches no site
    inst.allowed[16:32, 10:20] = False
    expected = unreachable(inst, capacity=False)
    assert set(range(16, 32)) <= set(expected)
    plan = set_cover(inst, capacity=False, costs=False).solve()
    assert plan.status == "infeasible"
    assert plan.unreachable.tolist() == expected
    assert plan.sites.size == 0
    assert f"{len(expected)} demand point(s)" in str(plan.details["message"])


@pytest.mark.usefixtures("every_component_apart")
def test_a_block_over_capacity_makes_the_plan_infeasible() -> None:
    inst = blocks([4, 5], m=14, n=7, reach=7)  # two blocks, every pair allowed within each
    weights = np.r_[np.ones(14), np.full(14, 10.0)]
    capacity = np.r_[np.full(7, 1e6), np.full(7, 10.0)]  # block 2: one point per site, 7 sites
    model = SetCover.from_cost_matrix(inst.minutes, weights=weights, capacity=capacity)
    plan = model.solve(method="exact")
    assert plan.status == "infeasible"
    assert plan.unreachable.size == 0  # everyone is reachable, capacity is short
    assert "of 2 (14 demand rows, 7 sites)" in str(plan.details["message"])
    assert "capacity" in str(plan.details["message"])
    assert model.solve(decompose=False, method="exact").status == "infeasible"
    assert model.solve().status == "infeasible"  # on the two-tier machinery too


def test_one_component_is_solved_as_before() -> None:
    inst = block(7, m=40, n=12, reach=4)
    model = set_cover(inst, capacity=False, costs=True)
    red = model._reduce()
    assert len(models._parts(red)) == 1
    assert red.n_rows >= 10
    plan = model.solve()
    whole = model.solve(decompose=False)
    assert "components" not in plan.details
    assert "parts" not in plan.details
    assert plan.details.keys() == whole.details.keys()
    assert (plan.objective, plan.bound, plan.status) == (whole.objective, whole.bound, whole.status)


def test_tiny_components_are_batched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_PART_MIN_PAIRS", 20)
    inst = blocks(list(range(300, 324)), m=8, n=6, reach=3)  # 24 blocks of a few pairs each
    model = set_cover(inst, capacity=False, costs=True)
    red = model._reduce()
    parts = models._parts(red)
    components = sum(n for _, _, n in parts)
    assert components >= 5
    assert 2 <= len(parts) < components
    sizes = [red.pairs.take_rows(rows).n_pairs for rows, _, _ in parts]
    assert sum(size < 20 for size in sizes) <= 1  # only the last batch may stay short
    # every reduced row in exactly one part; no site in two; sites without rows in none
    rows = np.concatenate([r for r, _, _ in parts])
    sites = np.concatenate([s for _, s, _ in parts])
    assert np.array_equal(np.sort(rows), np.arange(red.n_rows))
    assert np.unique(sites).size == sites.size
    unreached = np.flatnonzero(np.bincount(red.pairs.indices, minlength=red.n_sites) == 0)
    assert not np.isin(unreached, sites).any()
    plan = model.solve(**EXACT)
    whole = model.solve(decompose=False, **EXACT)
    assert plan.details["components"] == components
    assert plan.status == whole.status == "optimal"
    assert same(plan.objective, whole.objective)
    check_plan(plan, inst, capacity=False, every_row=True)


class _WeakBound(SetCover):
    """A set cover whose warm start is the whole-problem greedy plan with a bound of 1."""

    def _warm(self, red: Reduction, *, deadline: float) -> Warm | None:
        cover = red.pairs.coverage().toarray().astype(bool)
        open_ = red.required.copy()
        left = ~cover[:, open_].any(axis=1)
        while left.any():
            best = int(np.argmax(cover[left].sum(axis=0)))
            open_[best] = True
            left &= ~cover[:, best]
        cost = self.site_cost[red.sites]
        return Warm(
            open=open_,
            objective=float(cost[open_].sum()),
            bound=1.0,
            closed=np.zeros(red.n_sites, dtype=bool),
        )


@pytest.mark.usefixtures("every_component_apart")
def test_the_bound_is_the_sum_of_the_parts_bounds() -> None:
    inst = blocks([21, 22, 23])
    inst.required[:] = False
    inst.forbidden[:] = False
    model = _WeakBound.from_cost_matrix(inst.minutes)
    plan = model.solve(method="heuristic")
    parts: Any = plan.details["parts"]
    assert len(parts) == plan.details["components"] == 3
    assert plan.bound == 3.0  # 1 per part
    assert plan.status == "heuristic"  # no part proven optimal
    assert plan.gap == pytest.approx((plan.objective - 3.0) / plan.objective)
    assert plan.objective == sum(part["objective"] for part in parts)
    optimum = model.solve(decompose=False, **EXACT).objective
    assert plan.bound <= optimum <= plan.objective


@pytest.mark.usefixtures("every_component_apart")
def test_sites_reached_by_no_one_stay_closed() -> None:
    inst = blocks([33, 34])
    inst.required[:] = False
    inst.forbidden[:] = False
    minutes = np.hstack([inst.minutes, np.full((32, 3), np.inf)])  # three sites out of reach
    plan = SetCover.from_cost_matrix(minutes, site_cost=np.r_[np.ones(20), np.zeros(3)]).solve()
    assert plan.status == "optimal"
    assert plan.details["components"] == 2
    assert not np.isin([20, 21, 22], plan.sites).any()


@pytest.mark.parametrize("cls", [MaxCover, PMedian])
def test_max_cover_and_p_median_are_solved_whole(cls: type[MaxCover] | type[PMedian]) -> None:
    inst = blocks([41, 42])
    model = cls.from_cost_matrix(inst.minutes, p=8, weights=inst.weights)
    plan = model.solve(**EXACT)
    assert plan.status == "optimal"
    assert "components" not in plan.details
    assert "parts" not in plan.details
