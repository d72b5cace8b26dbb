"""Existing centres in a plan: who they already serve (nearest first, to capacity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from linli.access.engine import WalkMatrix
from linli.planning import SetCover
from linli.planning.existing import held_matrix, hold_served


def matrix(dense: list[list[float]]) -> WalkMatrix:
    """A WalkMatrix of the finite entries of ``dense`` (rows: demand, columns: sites)."""
    m = np.asarray(dense, dtype=float)
    rows, cols = np.nonzero(np.isfinite(m))
    csr = sparse.csr_array((m[rows, cols], (rows, cols)), shape=m.shape)
    csr.sort_indices()
    return WalkMatrix(
        indptr=csr.indptr.astype(np.int64),
        indices=csr.indices.astype(np.int32),
        walk_min=csr.data.astype(np.float64),
        cutoff_min=float(np.nanmax(np.where(np.isfinite(m), m, np.nan))),
        n_destinations=m.shape[1],
        origin_labels=pd.RangeIndex(m.shape[0]),
        destination_labels=pd.RangeIndex(m.shape[1]),
    )


INF = np.inf
#            site 0 (existing)  site 1 (existing)  site 2 (candidate)
MINUTES = [
    [2.0, 9.0, 3.0],  # home 0
    [4.0, 8.0, 4.0],  # home 1
    [6.0, INF, 1.0],  # home 2
    [12.0, 5.0, 2.0],  # home 3: beyond site 0's 10-minute circle
    [INF, INF, 1.0],  # home 4: no existing centre in reach
]


def test_residents_go_to_the_nearest_existing_centre_with_room():
    w = np.array([500.0, 500.0, 500.0, 500.0, 500.0])
    held = hold_served(matrix(MINUTES), w, existing=[0, 1], walk_min=10.0, capacity=1000.0)
    # Site 0 fills with its two nearest homes (2 and 4 minutes); home 2 (6 min) finds it full
    # and site 1 out of reach; home 3 goes to site 1 (5 min); home 4 reaches none.
    assert held.tolist() == [0, 0, -1, 1, -1]


def test_a_home_too_heavy_for_the_room_left_does_not_block_lighter_ones():
    w = np.array([600.0, 600.0, 300.0, 500.0, 500.0])
    held = hold_served(matrix(MINUTES), w, existing=[0], walk_min=10.0, capacity=1000.0)
    assert held.tolist() == [0, -1, 0, -1, -1]


def test_homes_only_an_existing_centre_reaches_are_held_first():
    #            site 0 (existing)  site 1 (candidate)
    minutes = [
        [1.0, 2.0],  # home 0: near site 0, but site 1 reaches it too
        [2.0, 3.0],  # home 1: the same
        [9.0, INF],  # home 2: farther, and only site 0 reaches it
    ]
    held = hold_served(matrix(minutes), np.ones(3), existing=[0], walk_min=10.0, capacity=2.0)
    # Nearest first alone would fill site 0 with homes 0 and 1 and leave home 2 with no site.
    assert held.tolist() == [0, -1, 0]
    plan = SetCover.from_cost_matrix(
        held_matrix(matrix(minutes), held), cutoff=10.0, weights=np.ones(3), capacity=2.0,
        required=[0],
    ).solve()  # fmt: skip
    assert plan.status == "optimal"
    assert plan.assignment.tolist() == [0, 1, 0]


def test_the_circle_is_inclusive_and_nothing_is_held_without_existing_centres():
    w = np.ones(5)
    assert hold_served(matrix(MINUTES), w, existing=[1], walk_min=5.0, capacity=10.0).tolist() == [
        -1, -1, -1, 1, -1,
    ]  # fmt: skip
    assert (hold_served(matrix(MINUTES), w, existing=[], walk_min=10, capacity=10) == -1).all()


def test_held_rows_keep_only_their_centre_and_the_model_keeps_them_there():
    m = matrix(MINUTES)
    held = np.array([0, 0, -1, 1, -1])
    cut = held_matrix(m, held).to_scipy().toarray()
    full = m.to_scipy().toarray()
    assert np.count_nonzero(cut[0]) == 1
    assert cut[0, 0] == 2.0
    assert np.count_nonzero(cut[3]) == 1
    assert cut[3, 1] == 5.0
    np.testing.assert_array_equal(cut[[2, 4]], full[[2, 4]])
    # Site 2 is as near or nearer for homes 0, 1 and 3, but held they stay where they are.
    plan = SetCover.from_cost_matrix(
        held_matrix(m, held), cutoff=10.0, weights=np.ones(5), capacity=10.0,
        required=[0, 1],
    ).solve()  # fmt: skip
    assert plan.status == "optimal"
    assert plan.assignment[[0, 1, 3]].tolist() == [0, 0, 1]
    assert plan.assignment[4] == 2


def test_weights_and_rows_must_agree():
    with pytest.raises(IndexError):
        hold_served(matrix(MINUTES), np.ones(2), existing=[0], walk_min=10.0, capacity=5.0)
