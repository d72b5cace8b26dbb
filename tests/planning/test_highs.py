"""Tests of linli.planning._highs: a MIP handed to HiGHS from sparse arrays, statuses mapped,
nothing printed, failures raised as SolverError."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest
from scipy import sparse

from linli._errors import SolverError
from linli.planning._highs import Mip, solve_mip


def knapsack(maximize: bool = True) -> Mip:
    """max 5a + 4b + 3c s.t. 2a + 3b + c <= 5, 4a + b + 2c <= 11 (optimum 15 at c=5 alone)."""
    return Mip(
        cost=np.array([5.0, 4.0, 3.0]),
        matrix=sparse.csr_array(np.array([[2.0, 3.0, 1.0], [4.0, 1.0, 2.0]])),
        row_lower=np.full(2, -np.inf),
        row_upper=np.array([5.0, 11.0]),
        col_lower=np.zeros(3),
        col_upper=np.full(3, 10.0),
        integer=np.array([True, True, True]),
        maximize=maximize,
        offset=1.0,
    )


def hard_set_cover() -> Mip:
    """A random set cover HiGHS cannot close in a fraction of a second."""
    m, n = 2000, 300
    a = sparse.random(m, n, density=0.03, random_state=1, format="csr")
    a.data[:] = 1.0
    return Mip(
        np.ones(n), a, np.ones(m), np.full(m, np.inf), np.zeros(n), np.ones(n), np.ones(n, bool)
    )


def test_solves_a_small_mip_silently(capfd: pytest.CaptureFixture[str]) -> None:
    sol = solve_mip(knapsack(), time_limit_s=10, mip_gap=0.0)
    assert sol.status == "optimal"
    assert sol.message == "Optimal"
    assert sol.objective == pytest.approx(16.0)  # 15 + offset
    assert sol.bound == pytest.approx(16.0)
    assert sol.x == pytest.approx([0.0, 0.0, 5.0])
    out = capfd.readouterr()
    assert out.out == ""
    assert out.err == ""


def test_minimising_and_the_log_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    mip = knapsack(maximize=False)
    with caplog.at_level(logging.DEBUG, logger="linli.planning._highs"):
        sol = solve_mip(mip, time_limit_s=10, mip_gap=0.0)
    assert sol.objective == pytest.approx(1.0)
    assert any("HiGHS:" in r.getMessage() for r in caplog.records)


def test_infeasible() -> None:
    mip = knapsack()
    mip = Mip(
        **{
            **mip.__dict__,
            "row_lower": np.array([6.0, -np.inf]),
            "row_upper": np.array([5.0, 11.0]),
        }
    )
    sol = solve_mip(mip, time_limit_s=10, mip_gap=0.0)
    assert sol.status == "infeasible"
    assert np.isnan(sol.objective)
    assert sol.x.size == 0


def test_time_limit_keeps_the_plan_and_the_bound() -> None:
    sol = solve_mip(hard_set_cover(), time_limit_s=0.3, mip_gap=1e-4)
    assert sol.status == "time_limit"
    assert sol.message == "Time limit reached"
    assert sol.bound < sol.objective
    assert sol.x.shape == (300,)
    assert sol.seconds < 2.0


def test_thread_counts_can_change_between_solves() -> None:
    for threads in (1, 2, 1):
        assert solve_mip(knapsack(), time_limit_s=10, mip_gap=0.0, threads=threads).status == (
            "optimal"
        )


def test_wrong_array_lengths_never_reach_highs() -> None:
    mip = Mip(**{**knapsack().__dict__, "cost": np.ones(2)})
    with pytest.raises(ValueError, match=r"\['cost'\]"):
        solve_mip(mip, time_limit_s=1, mip_gap=0.0)


def test_missing_highspy_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "highspy", None)
    with pytest.raises(SolverError, match="pip install highspy"):
        solve_mip(knapsack(), time_limit_s=1, mip_gap=0.0)
