"""Tests of linli.planning.models against a textbook MIP on small random instances.

Every instance is solved twice by the library (with and without exact reduction) and once by
the plain dense formulation in ``reference_mip`` (scipy.optimize.milp); the optima must agree,
and every plan returned must respect coverage, capacity, required and forbidden sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import reference_mip as ref
from numpy.typing import NDArray
from scipy import sparse

from linli._errors import InputError
from linli.access.engine import WalkMatrix
from linli.planning import MaxCover, PlanResult, PMedian, SetCover, models

F8 = NDArray[np.float64]
B1 = NDArray[np.bool_]

SEEDS = range(12)
EXACT = {"mip_gap": 0.0, "time_limit_s": 30.0}


@dataclass
class Instance:
    minutes: F8  # dense, inf where not allowed
    allowed: B1
    weights: F8
    capacity: F8
    site_cost: F8
    required: B1
    forbidden: B1


def instance(seed: int, *, m: int = 18, n: int = 8, cutoff: float = 40.0) -> Instance:
    """Demand and sites in a 100 x 100 square; integer minutes (distance); some pairs cut."""
    rng = np.random.default_rng(seed)
    # demand in clusters, so some rows share their coverage and some sites dominate others
    centres = rng.uniform(0, 100, (4, 2))
    demand = centres[rng.integers(0, 4, m)] + rng.normal(0, 8, (m, 2))
    sites = rng.uniform(0, 100, (n, 2))
    minutes = np.rint(np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)))
    allowed = minutes <= cutoff
    weights = rng.integers(1, 10, m).astype(float)
    capacity = rng.integers(15, 40, n).astype(float)
    site_cost = rng.integers(1, 6, n).astype(float)
    required = np.zeros(n, dtype=bool)
    forbidden = np.zeros(n, dtype=bool)
    picks = rng.permutation(n)
    required[picks[: rng.integers(0, 3)]] = True
    forbidden[picks[3 : 3 + rng.integers(0, 3)]] = True
    return Instance(
        np.where(allowed, minutes, np.inf),
        allowed,
        weights,
        capacity,
        site_cost,
        required,
        forbidden,
    )


def unreachable(inst: Instance, *, capacity: bool) -> list[int]:
    ok = inst.allowed & ~inst.forbidden[None, :]
    if capacity:
        ok &= inst.weights[:, None] <= inst.capacity[None, :]
    return np.flatnonzero(~ok.any(axis=1)).tolist()


def check_plan(
    plan: PlanResult,
    inst: Instance,
    *,
    capacity: bool,
    every_row: bool,
    p: int | None = None,
    exactly_p: bool = False,
    budget: float | None = None,
) -> None:
    """The plan respects the instance: assignment to open allowed sites, capacity, sets."""
    m, n = inst.allowed.shape
    sites = plan.sites
    assert np.all(np.diff(sites) > 0), "sites ascending, no repeats"
    is_open = np.zeros(n, dtype=bool)
    is_open[sites] = True
    assert is_open[inst.required].all(), "required sites open"
    assert not is_open[inst.forbidden].any(), "forbidden sites closed"
    a = plan.assignment
    assert a.shape == (m,)
    served = a >= 0
    if every_row:
        assert served.all()
    assert is_open[a[served]].all(), "assigned to open sites"
    assert inst.allowed[np.flatnonzero(served), a[served]].all(), "assigned within the cutoff"
    if capacity:
        load = np.bincount(a[served], weights=inst.weights[served], minlength=n)
        assert np.all(load <= inst.capacity + 1e-9), "capacity respected"
    if p is not None:
        assert (sites.size == p) if exactly_p else (sites.size <= p)
    if budget is not None:
        assert inst.site_cost[sites].sum() <= budget + 1e-9


def same(a: float, b: float) -> bool:
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-6))


@pytest.fixture(params=["uncapacitated", "capacity, all links", "capacity, thinned links"])
def capacity(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Without capacity, and both formulations of capacitated models: every ``x_ij <= y_j``,
    or (as above 5,000 pairs) links only to sites without a capacity row, plus reach rows."""
    if request.param == "capacity, thinned links":
        monkeypatch.setattr(models, "_ALL_LINKS_MAX_PAIRS", 0)
    return request.param != "uncapacitated"


# --- SetCover -------------------------------------------------------------------------------


@pytest.mark.parametrize("costs", [False, True])
def test_set_cover_matches_reference(capacity: bool, costs: bool) -> None:
    solved = infeasible = 0
    for seed in SEEDS:
        inst = instance(seed)
        kw = {
            "weights": inst.weights,
            "capacity": inst.capacity if capacity else None,
            "site_cost": inst.site_cost if costs else None,
            "required": inst.required,
            "forbidden": np.flatnonzero(inst.forbidden),
        }
        model = SetCover.from_cost_matrix(inst.minutes, **kw)
        expected = ref.set_cover(
            inst.allowed,
            site_cost=inst.site_cost if costs else np.ones(inst.allowed.shape[1]),
            required=inst.required,
            forbidden=inst.forbidden,
            weights=inst.weights,
            capacity=inst.capacity if capacity else None,
        )
        for reduce in (True, False):
            plan = model.solve(reduce=reduce, **EXACT)
            assert plan.unreachable.tolist() == unreachable(inst, capacity=capacity)
            if expected is None:
                assert plan.status == "infeasible", (seed, reduce)
                assert np.isnan(plan.objective)
                assert (plan.assignment == -1).all()
                continue
            assert plan.status == "optimal", (seed, reduce)
            assert same(plan.objective, expected), (seed, reduce, plan.objective, expected)
            assert plan.gap <= 1e-9
            assert plan.bound <= plan.objective + 1e-6
            check_plan(plan, inst, capacity=capacity, every_row=True)
            cost = inst.site_cost if costs else np.ones(inst.allowed.shape[1])
            assert same(cost[plan.sites].sum(), plan.objective)
        solved += expected is not None
        infeasible += expected is None
    assert solved >= 4, "the instances should mostly be feasible"
    if capacity:
        assert infeasible >= 1, "some instances should be infeasible"


def test_set_cover_without_costs_counts_sites() -> None:
    inst = instance(1)
    plan = SetCover.from_cost_matrix(inst.minutes).solve()
    assert plan.status == "optimal"
    assert plan.objective == plan.n_sites == 3


def test_set_cover_reports_the_unreachable_rows() -> None:
    minutes = np.array(
        [
            [1.0, np.inf, np.inf],
            [np.inf, np.inf, 2.0],  # only the forbidden site
            [np.inf, np.inf, np.inf],  # nothing
            [np.inf, 3.0, np.inf],
        ]
    )
    plan = SetCover.from_cost_matrix(minutes, forbidden=[2]).solve()
    assert plan.status == "infeasible"
    assert plan.unreachable.tolist() == [1, 2]
    assert plan.sites.size == 0
    assert "2 demand point(s)" in str(plan.details["message"])


def test_capacity_infeasibility_with_everyone_reachable() -> None:
    minutes = np.zeros((3, 2))
    plan = SetCover.from_cost_matrix(minutes, weights=[5, 5, 5], capacity=[6, 6]).solve()
    assert plan.status == "infeasible"
    assert plan.unreachable.size == 0
    assert "capacit" in str(plan.details["message"])
    # a point heavier than every capacity is unreachable
    plan = SetCover.from_cost_matrix(minutes, weights=[5, 7, 5], capacity=[6, 6]).solve()
    assert plan.unreachable.tolist() == [1]


# --- MaxCover -------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["p", "budget", "both"])
def test_max_cover_matches_reference(capacity: bool, limit: str) -> None:
    for seed in SEEDS:
        inst = instance(100 + seed, cutoff=30.0)
        n_req = int(inst.required.sum())
        p = n_req + 2 if limit in ("p", "both") else None
        budget = float(inst.site_cost[inst.required].sum()) + 6.0 if limit != "p" else None
        model = MaxCover.from_cost_matrix(
            inst.minutes,
            p=p,
            budget=budget,
            weights=inst.weights,
            capacity=inst.capacity if capacity else None,
            site_cost=inst.site_cost,
            required=inst.required,
            forbidden=inst.forbidden,
        )
        expected = ref.max_cover(
            inst.allowed,
            weights=inst.weights,
            required=inst.required,
            forbidden=inst.forbidden,
            p=p,
            budget=budget,
            site_cost=inst.site_cost,
            capacity=inst.capacity if capacity else None,
        )
        assert expected is not None
        for reduce in (True, False):
            plan = model.solve(reduce=reduce, **EXACT)
            assert plan.status == "optimal"
            assert same(plan.objective, expected), (seed, reduce, plan.objective, expected)
            assert plan.bound >= plan.objective - 1e-6
            check_plan(plan, inst, capacity=capacity, every_row=False, p=p, budget=budget)
            assert same(inst.weights[plan.assignment >= 0].sum(), plan.objective)
            assert plan.unreachable.tolist() == unreachable(inst, capacity=capacity)
            if not capacity:  # every covered point is counted
                is_open = np.isin(np.arange(inst.allowed.shape[1]), plan.sites)
                covered = (inst.allowed & is_open[None, :]).any(axis=1)
                assert ((plan.assignment >= 0) == covered).all()


def test_max_cover_counts_demand_covered_by_required_sites() -> None:
    minutes = np.array([[1.0, np.inf, np.inf], [1.0, np.inf, np.inf], [np.inf, 1.0, 2.0]])
    plan = MaxCover.from_cost_matrix(minutes, p=2, weights=[4, 5, 6], required=[0]).solve()
    assert plan.objective == 15.0
    assert plan.sites.tolist() == [0, 1]
    assert plan.assignment.tolist() == [0, 0, 1]
    assert plan.details["reduction"]["rows covered by required sites"] == 2  # type: ignore[index]


# --- PMedian --------------------------------------------------------------------------------


@pytest.mark.parametrize("sparse_pairs", [False, True])
def test_p_median_matches_reference(capacity: bool, sparse_pairs: bool) -> None:
    feasible = 0
    for seed in SEEDS:
        inst = instance(200 + seed, cutoff=45.0 if sparse_pairs else 1e9)
        n_req = int(inst.required.sum())
        p = n_req + 2
        cost = sparse.csr_array(np.where(inst.allowed, inst.minutes, 0)) if sparse_pairs else None
        if cost is not None:  # the sparse matrix's entries are the allowed pairs
            rows, cols = np.nonzero(inst.allowed)
            cost = sparse.csr_array(
                (inst.minutes[rows, cols], (rows, cols)), shape=inst.allowed.shape
            )
        model = PMedian.from_cost_matrix(
            inst.minutes if cost is None else cost,
            p=p,
            weights=inst.weights,
            capacity=inst.capacity * 2 if capacity else None,
            required=inst.required,
            forbidden=inst.forbidden,
        )
        expected = ref.p_median(
            np.where(inst.allowed, inst.minutes, 0),
            inst.allowed,
            weights=inst.weights,
            p=p,
            required=inst.required,
            forbidden=inst.forbidden,
            capacity=inst.capacity * 2 if capacity else None,
        )
        for reduce in (True, False):
            plan = model.solve(reduce=reduce, **EXACT)
            if expected is None:
                assert plan.status == "infeasible", (seed, reduce)
                continue
            assert plan.status == "optimal", (seed, reduce)
            assert same(plan.objective, expected), (seed, reduce, plan.objective, expected)
            inst_cap = Instance(**{**inst.__dict__, "capacity": inst.capacity * 2})
            check_plan(plan, inst_cap, capacity=capacity, every_row=True, p=p, exactly_p=True)
            rows = np.arange(inst.allowed.shape[0])
            total = (inst.weights * inst.minutes[rows, plan.assignment]).sum()
            assert same(total, plan.objective)
        feasible += expected is not None
    assert feasible >= 6


def test_p_median_keeps_explicit_zero_costs() -> None:
    # row 0 stands on site 1 (an explicit zero); scipy would drop it on eliminate_zeros
    cost = sparse.csr_array(
        (np.array([0.0, 3.0, 4.0]), np.array([1, 0, 1]), np.array([0, 1, 3])), shape=(2, 2)
    )
    assert cost.nnz == 3
    plan = PMedian.from_cost_matrix(cost, p=1).solve()
    assert plan.sites.tolist() == [1]
    assert plan.objective == 4.0


def test_models_accept_a_walk_matrix() -> None:
    wm = WalkMatrix(
        indptr=np.array([0, 2, 3, 4], dtype=np.int64),
        indices=np.array([1, 0, 0, 1], dtype=np.int32),  # unsorted within row 0
        walk_min=np.array([5.0, 0.0, 7.0, 2.0]),
        cutoff_min=10.0,
        n_destinations=2,
        origin_labels=pd.Index(["a", "b", "c"]),
        destination_labels=pd.Index(["s", "t"]),
    )
    model = PMedian.from_cost_matrix(wm, p=1, weights=[1, 1, 1])
    assert model.demand_labels.tolist() == ["a", "b", "c"]
    assert model.site_labels.tolist() == ["s", "t"]
    assert model.solve().status == "infeasible"  # c only reaches t, b only s
    plan = PMedian.from_cost_matrix(wm, p=2).solve()
    assert plan.objective == 0.0 + 7.0 + 2.0
    assert plan.assignment.tolist() == [0, 0, 1]
    plan = SetCover.from_cost_matrix(wm, cutoff=6.0).solve()
    assert plan.status == "infeasible"
    assert plan.unreachable.tolist() == [1]  # b's only pair is 7 minutes


def test_from_coverage_and_dataframe_labels() -> None:
    coverage = sparse.csr_array(np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=bool))
    plan = SetCover.from_coverage(coverage).solve()
    assert plan.n_sites == 2
    plan = MaxCover.from_coverage(coverage.toarray(), p=1, weights=[1, 2, 4]).solve()
    assert plan.objective == 6.0
    assert plan.sites.tolist() == [1]
    frame = pd.DataFrame([[1.0, 9.0]], index=["home"], columns=["s1", "s2"])
    model = SetCover.from_cost_matrix(frame, cutoff=5)
    assert model.site_labels.tolist() == ["s1", "s2"]


def test_required_sites_beyond_what_is_needed_are_kept() -> None:
    minutes = np.zeros((2, 3))
    plan = SetCover.from_cost_matrix(minutes, required=[1, 2]).solve()
    assert plan.sites.tolist() == [1, 2]
    assert plan.objective == 2.0
    plan = PMedian.from_cost_matrix(minutes, p=3, forbidden=[]).solve()
    assert plan.sites.tolist() == [0, 1, 2]


# --- arguments ------------------------------------------------------------------------------


def test_bad_arguments_are_reported_together() -> None:
    minutes = np.ones((2, 3))
    with pytest.raises(InputError, match=r"3 problem\(s\) found") as info:
        SetCover.from_cost_matrix(
            minutes, weights=[1, -1], required=[0, 1], forbidden=[1], site_cost=[1, 1]
        )
    text = str(info.value)
    assert "argument 'weights'" in text
    assert "argument 'site_cost'" in text
    assert "sites [1] in both" in text


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda m: MaxCover.from_cost_matrix(m), "p / budget"),
        (lambda m: MaxCover.from_cost_matrix(m, p=1, required=[0, 1]), ">= the 2 required"),
        (
            lambda m: MaxCover.from_cost_matrix(
                m, budget=1.5, site_cost=[1, 1, 1], required=[0, 1]
            ),
            "required sites' cost 2",
        ),
        (lambda m: PMedian.from_cost_matrix(m, p=0), "an integer >= 1"),
        (lambda m: PMedian.from_cost_matrix(m, p=3, forbidden=[0]), "<= the 2 sites"),
        (lambda m: SetCover.from_cost_matrix(m, required=[5]), r"site positions in 0\.\.2"),
        (lambda m: SetCover.from_cost_matrix(m, capacity=[1, 0, 1]), "numbers > 0"),
        (lambda m: SetCover.from_cost_matrix(-m), "costs >= 0"),
        (lambda m: SetCover.from_cost_matrix(m, cutoff=-1), "cutoff"),
        (lambda m: SetCover.from_cost_matrix(m[0]), "a 2-d matrix"),
        (lambda m: SetCover.from_cost_matrix("m"), "a numpy array"),
    ],
)
def test_argument_errors(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message):
        build(np.ones((2, 3)))


def test_repeated_sparse_pairs_are_an_error() -> None:
    coo = sparse.coo_array((np.array([1.0, 2.0]), (np.array([0, 0]), np.array([1, 1]))))
    with pytest.raises(InputError, match="repeated pair"):
        PMedian.from_cost_matrix(coo, p=1)


def test_nan_minutes_are_an_error() -> None:
    with pytest.raises(InputError, match=r"nan at row 0, column 1"):
        SetCover.from_cost_matrix(np.array([[1.0, np.nan]]))
