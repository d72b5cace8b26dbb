"""Tests of linli.planning.reduce: each rule on hand-made cases, and that reduction never changes
the optimum (reduced vs unreduced solve, and the textbook MIP) on random covering instances
built to have many identical demand points and nested site coverages."""

from __future__ import annotations

import numpy as np
import pytest
import reference_mip as ref
from numpy.typing import NDArray

from linli.planning import MaxCover, PMedian, SetCover
from linli.planning.reduce import (
    Pairs,
    dominated_rows,
    dominated_sites,
    merge_identical_rows,
    reduce_covering,
    reduce_median,
)

B1 = NDArray[np.bool_]


def pairs_of(allowed: B1, cost: NDArray[np.float64] | None = None) -> Pairs:
    rows, cols = np.nonzero(allowed)
    values = np.zeros(rows.shape[0]) if cost is None else cost[rows, cols]
    indptr = np.zeros(allowed.shape[0] + 1, dtype=np.int64)
    np.cumsum(allowed.sum(axis=1), out=indptr[1:])
    return Pairs(indptr, cols.astype(np.int64), values.astype(float), allowed.shape[1])


def test_pairs_take_rows_and_sites() -> None:
    allowed = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=bool)
    cost = np.arange(9, dtype=float).reshape(3, 3)
    p = pairs_of(allowed, cost)
    rows = p.take_rows(np.array([2, 0]))
    assert rows.indices.tolist() == [0, 1, 0, 2]
    assert rows.cost.tolist() == [6.0, 7.0, 0.0, 2.0]
    sites = p.take_sites(np.array([1, 2]))
    assert sites.n_sites == 2
    assert sites.indptr.tolist() == [0, 1, 3, 4]
    assert sites.indices.tolist() == [1, 0, 1, 0]
    assert sites.cost.tolist() == [2.0, 4.0, 5.0, 7.0]


def test_merge_identical_rows() -> None:
    allowed = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0]], dtype=bool)
    cost = np.array([[1, 0, 2], [0, 3, 0], [1, 0, 5], [0, 0, 0], [0, 0, 0]], dtype=float)
    group, first = merge_identical_rows(pairs_of(allowed, cost), with_cost=False)
    assert group.tolist() == [0, 1, 0, 2, 2]
    assert first.tolist() == [0, 1, 3]
    group, first = merge_identical_rows(pairs_of(allowed, cost), with_cost=True)
    assert group.tolist() == [0, 1, 2, 3, 3]  # same sites, other costs: not merged


def test_dominated_sites() -> None:
    # site 0 ⊂ site 1; sites 2 and 3 identical; site 4 covers nothing; site 5 ⊂ 1 but required
    allowed = np.array(
        [[1, 1, 0, 0, 0, 1], [0, 1, 1, 1, 0, 0], [0, 1, 0, 0, 0, 1], [0, 0, 1, 1, 0, 0]],
        dtype=bool,
    )
    p = pairs_of(allowed)
    required = np.array([0, 0, 0, 0, 0, 1], dtype=bool)
    drop = dominated_sites(p, site_cost=np.zeros(6), required=required)
    assert drop.tolist() == [True, False, False, True, True, False]
    # a dominated site that is cheaper stays; of identical sites, the cheaper one stays
    cost = np.array([0.5, 1.0, 2.0, 1.0, 0.0, 1.0])
    drop = dominated_sites(p, site_cost=cost, required=required)
    assert drop.tolist() == [False, False, True, False, True, False]


def test_reduce_covering_rules_and_map_back() -> None:
    allowed = np.array(
        [
            [1, 0, 0, 0],  # only site 0: forces it (set cover)
            [1, 1, 0, 0],  # covered by the forced site
            [0, 1, 1, 0],
            [0, 1, 1, 0],  # same as row 2
            [0, 0, 1, 1],
            [0, 0, 0, 0],  # unreachable
        ],
        dtype=bool,
    )
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    red = reduce_covering(
        pairs_of(allowed),
        weights=w,
        site_cost=np.ones(4),
        required=np.zeros(4, dtype=bool),
        usable=np.ones(4, dtype=bool),
        cover_all=True,
    )
    assert red.unreachable.tolist() == [5]
    # site 0 is forced, covering rows 0 and 1; rows 2 and 3 merge; sites 1 and 3 are then
    # dominated by site 2, which row 4 forces in the next round
    assert red.removed["forced sites"] == 2
    assert red.removed["merged rows"] == 1
    assert red.removed["dominated sites"] == 2
    assert red.covered_weight == 15.0
    assert red.sites.tolist() == [0, 2]
    assert red.required.tolist() == [True, True]
    assert red.n_rows == 0
    assert red.row_of.tolist() == [-1] * 6
    # MaxCover: nothing forced, rows 2 and 3 merged, weights summed
    red = reduce_covering(
        pairs_of(allowed),
        weights=w,
        site_cost=np.zeros(4),
        required=np.zeros(4, dtype=bool),
        usable=np.ones(4, dtype=bool),
        cover_all=False,
    )
    assert red.row_of[2] == red.row_of[3] >= 0
    assert red.weights[red.row_of[2]] == 7.0
    assert red.row_of[5] == -1
    assert red.expand_rows(np.arange(red.n_rows)).tolist() == red.row_of.tolist()


def test_reduce_median_merges_only_equal_costs() -> None:
    allowed = np.ones((4, 2), dtype=bool)
    cost = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 3.0], [0.0, 0.0]])
    red = reduce_median(
        pairs_of(allowed, cost),
        weights=np.array([1.0, 2.0, 3.0, 4.0]),
        required=np.zeros(2, dtype=bool),
        usable=np.ones(2, dtype=bool),
    )
    assert red.row_of.tolist() == [0, 0, 1, 2]
    assert red.weights.tolist() == [3.0, 3.0, 4.0]
    assert red.sites.tolist() == [0, 1]  # nothing dropped


def clustered_coverage(seed: int, m: int = 40, n: int = 20) -> tuple[B1, np.ndarray]:
    """Coverage with repeated rows (households in one block) and nested sites."""
    rng = np.random.default_rng(seed)
    base = rng.random((m // 3, n)) < 0.25
    allowed = base[rng.integers(0, base.shape[0], m)]
    for j in rng.choice(n, n // 3, replace=False):  # some sites cover a subset of another's
        k = rng.integers(0, n)
        allowed[:, j] = allowed[:, k] & (rng.random(m) < 0.6)
    allowed[rng.random((m, n)) < 0.03] = True
    for i in np.flatnonzero(allowed.sum(axis=1) < 2):  # most rows can be covered
        allowed[i, rng.choice(n, 2, replace=False)] = True
    return allowed, rng.integers(1, 9, m).astype(float)


@pytest.mark.parametrize("seed", range(15))
def test_reduction_never_changes_the_optimum(seed: int) -> None:
    allowed, w = clustered_coverage(seed)
    n = allowed.shape[1]
    rng = np.random.default_rng(1000 + seed)
    cost = rng.integers(1, 4, n).astype(float)
    required = np.zeros(n, dtype=bool)
    required[rng.integers(0, n)] = True
    forbidden = np.zeros(n, dtype=bool)
    forbidden[rng.choice(np.flatnonzero(~required), 2, replace=False)] = True
    sc = SetCover.from_coverage(allowed, site_cost=cost, required=required, forbidden=forbidden)
    mc = MaxCover.from_coverage(
        allowed, p=3, budget=6.0, weights=w, site_cost=cost, required=required, forbidden=forbidden
    )
    for model in (sc, mc):
        reduced = model.solve(mip_gap=0.0)
        full = model.solve(mip_gap=0.0, reduce=False)
        assert reduced.status == full.status
        assert reduced.unreachable.tolist() == full.unreachable.tolist()
        if reduced.status == "optimal":
            assert reduced.objective == pytest.approx(full.objective)
            removed = sum(reduced.details["reduction"].values())  # type: ignore[attr-defined]
            assert removed > 0
    expected_sc = ref.set_cover(allowed, site_cost=cost, required=required, forbidden=forbidden)
    plan = sc.solve(mip_gap=0.0)
    if expected_sc is None:
        assert plan.status == "infeasible"
    else:
        assert plan.objective == pytest.approx(expected_sc)
        is_open = np.isin(np.arange(n), plan.sites)
        assert (allowed & is_open).any(axis=1).all()
    expected_mc = ref.max_cover(
        allowed,
        weights=w,
        required=required,
        forbidden=forbidden,
        p=3,
        budget=6.0,
        site_cost=cost,
    )
    assert mc.solve(mip_gap=0.0).objective == pytest.approx(expected_mc)


@pytest.mark.parametrize("seed", range(6))
def test_p_median_reduction_never_changes_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 6, (30, 2)).astype(float)  # many points share a grid cell
    sites = rng.integers(0, 6, (8, 2)).astype(float)
    minutes = np.abs(points[:, None, :] - sites[None, :, :]).sum(axis=2)
    model = PMedian.from_cost_matrix(minutes, p=3, cutoff=6, weights=rng.integers(1, 5, 30))
    reduced, full = model.solve(mip_gap=0.0), model.solve(mip_gap=0.0, reduce=False)
    assert reduced.status == full.status
    if reduced.status == "optimal":
        assert reduced.objective == pytest.approx(full.objective)
        assert reduced.details["reduced_demand"] < 30


def test_dominated_rows() -> None:
    # N_0 = {0, 1} ⊃ N_2 = {1}; N_1 = {1, 2} ⊃ N_2; N_3 = {3} alone; rows 4 and 5 are equal
    # (the later one goes); row 6 has no site
    allowed = np.array(
        [
            [1, 1, 0, 0],
            [0, 1, 1, 0],
            [0, 1, 0, 0],
            [0, 0, 0, 1],
            [1, 0, 1, 0],
            [1, 0, 1, 0],
            [0, 0, 0, 0],
        ],
        dtype=bool,
    )
    assert dominated_rows(pairs_of(allowed)).tolist() == [
        True,
        True,
        False,
        False,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize("seed", range(12))
def test_row_dominance_keeps_the_set_cover_optimum(seed: int) -> None:
    # points covered by nested catchments: many rows are supersets of others
    rng = np.random.default_rng(seed)
    points, sites = rng.random((60, 2)), rng.random((25, 2))
    dist = np.hypot(*(points[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    allowed = dist < rng.uniform(0.2, 0.35, 25)[None, :]
    allowed[np.flatnonzero(~allowed.any(axis=1)), 0] = True
    cost = rng.integers(1, 4, 25).astype(float)
    model = SetCover.from_coverage(allowed, site_cost=cost)
    red = model._reduce()
    assert red.removed["dominated rows"] > 0
    assert red.n_rows < allowed.shape[0]
    reduced, full = (
        model.solve(mip_gap=0.0, method="exact"),
        model.solve(mip_gap=0.0, method="exact", reduce=False),
    )
    expected = ref.set_cover(
        allowed, site_cost=cost, required=np.zeros(25, bool), forbidden=np.zeros(25, bool)
    )
    assert reduced.objective == pytest.approx(full.objective) == pytest.approx(expected)
    assert allowed[:, reduced.sites].any(axis=1).all()
