"""The solve loop's use of a warm start (heuristic plan, proven bound, closed sites).

The warm starts here are computed plainly in the test (a greedy cover, a bound from a
textbook MIP's optimum) so that each rule of :mod:`linli.planning.warm` can be exercised on
its own: a closed gap skips HiGHS, closed sites leave the MIP without losing the optimum, a
restricted problem with nothing better proves the incumbent, ``method`` chooses the stages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pytest
from numpy.typing import NDArray
from reference_mip import set_cover as reference_set_cover

from linli._errors import InputError
from linli.planning import SetCover
from linli.planning.reduce import Reduction
from linli.planning.warm import Warm

B1 = NDArray[np.bool_]

CUTOFF = 9.0
"""Minutes: every seeded instance below is feasible at this cutoff, and needs several sites."""


def _instance(seed: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 30.0, size=(60, 25))


def _greedy(red: Reduction) -> B1:
    """Open the site covering most uncovered rows until every row is covered."""
    cover = red.pairs.coverage().toarray().astype(bool)
    open_ = red.required.copy()
    left = ~cover[:, open_].any(axis=1)
    while left.any():
        best = int(np.argmax(cover[left].sum(axis=0)))
        open_[best] = True
        left &= ~cover[:, best]
    return open_


class _GreedyCover(SetCover):
    """A set cover whose warm start is a greedy plan, with a bound and closures set by the test."""

    bound_value = -np.inf
    close: ClassVar[list[Callable[[Reduction], B1]]] = []  # the rule closing sites, if any
    calls = 0

    def _warm(self, red: Reduction, *, deadline: float) -> Warm | None:
        type(self).calls += 1
        open_ = _greedy(red)
        closed = self.close[0](red) if self.close else np.zeros(red.n_sites, dtype=bool)
        return Warm(
            open=open_,
            objective=float(open_.sum()),
            bound=self.bound_value,
            closed=closed,
        )


def _model(cls: type[SetCover], minutes: NDArray[np.float64], cutoff: float) -> SetCover:
    return cls.from_cost_matrix(minutes, cutoff=cutoff)


@pytest.mark.parametrize("seed", range(4))
def test_a_warm_start_without_a_bound_still_reaches_the_optimum(seed: int) -> None:
    minutes = _instance(seed)
    optimum = reference_set_cover(
        minutes <= CUTOFF,
        site_cost=np.ones(25),
        required=np.zeros(25, dtype=bool),
        forbidden=np.zeros(25, dtype=bool),
    )
    assert optimum is not None
    plan = _model(_GreedyCover, minutes, CUTOFF).solve()
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(optimum)
    assert plan.details["solver"] == "HiGHS"
    assert "warm" in plan.details
    assert plan.details["warm"]["objective"] >= optimum  # type: ignore[index]


def test_a_closed_gap_returns_the_warm_plan_without_highs() -> None:
    minutes = _instance(1)
    model = _model(_GreedyCover, minutes, CUTOFF)
    exact = model.solve(method="exact")
    type(model).bound_value = float(exact.objective)
    try:
        greedy = model.solve()
    finally:
        type(model).bound_value = -np.inf
    warm_objective = greedy.details["warm"]["objective"]  # type: ignore[index]
    if warm_objective == exact.objective:
        assert greedy.details["solver"] == "heuristic"
        assert greedy.status == "optimal"
    else:  # greedy was not optimal: HiGHS must close the gap
        assert greedy.details["solver"] == "HiGHS"
    assert greedy.objective == exact.objective
    assert greedy.gap == 0.0


def test_heuristic_method_reports_its_proven_gap() -> None:
    minutes = _instance(2)
    model = _model(_GreedyCover, minutes, CUTOFF)
    type(model).bound_value = 1.0
    try:
        plan = model.solve(method="heuristic")
    finally:
        type(model).bound_value = -np.inf
    assert plan.details["solver"] == "heuristic"
    assert plan.bound == 1.0
    expected = "optimal" if plan.objective == 1.0 else "heuristic"
    assert plan.status == expected
    assert plan.gap == pytest.approx((plan.objective - 1.0) / plan.objective)
    # the plan covers every demand point
    assert np.all(plan.assignment >= 0)
    assert np.all(minutes[np.arange(60), plan.assignment] <= CUTOFF)


def test_closed_sites_leave_the_mip_and_the_optimum_stays() -> None:
    minutes = _instance(3)
    exact = SetCover.from_cost_matrix(minutes, cutoff=CUTOFF).solve(method="exact")
    chosen = set(exact.sites.tolist())

    def close_unused(red: Reduction) -> B1:
        # sites of the exact optimum stay; every other one but a few is closed
        used = np.isin(red.sites, list(chosen))
        closed = ~used
        closed[np.flatnonzero(~used)[:2]] = False
        return closed

    _GreedyCover.close = [close_unused]
    try:
        plan = _model(_GreedyCover, minutes, CUTOFF).solve()
    finally:
        _GreedyCover.close = []
    assert plan.objective == exact.objective
    assert plan.details["mip_sites"] < plan.details["reduced_sites"]  # type: ignore[operator]


def test_closing_every_site_proves_the_incumbent() -> None:
    """Closed sites leave a point uncoverable: no plan beats the incumbent (rule of Warm)."""
    minutes = _instance(0)
    _GreedyCover.close = [lambda red: np.ones(red.n_sites, dtype=bool)]
    try:
        plan = _model(_GreedyCover, minutes, CUTOFF).solve()
    finally:
        _GreedyCover.close = []
    assert plan.details["solver"] == "heuristic"
    assert plan.status == "optimal"
    assert plan.bound == plan.objective
    assert plan.objective == plan.details["warm"]["objective"]  # type: ignore[index]


def test_exact_method_skips_the_warm_start() -> None:
    minutes = _instance(0)
    before = _GreedyCover.calls
    plan = _model(_GreedyCover, minutes, CUTOFF).solve(method="exact")
    assert _GreedyCover.calls == before
    assert "warm" not in plan.details


def test_unknown_method_is_an_error() -> None:
    with pytest.raises(InputError, match="method must be 'auto', 'exact' or 'heuristic'"):
        SetCover.from_cost_matrix(_instance(0), cutoff=CUTOFF).solve(method="fast")  # type: ignore[arg-type]


def test_a_large_problem_is_left_to_the_heuristic(monkeypatch: pytest.MonkeyPatch) -> None:
    from linli.planning import models

    minutes = _instance(1)
    monkeypatch.setattr(models, "_MIP_MAX_PAIRS", 10)
    _GreedyCover.bound_value = 1.0
    try:
        plan = _model(_GreedyCover, minutes, CUTOFF).solve()
        exact = _model(_GreedyCover, minutes, CUTOFF).solve(method="exact")
    finally:
        _GreedyCover.bound_value = -np.inf
    assert plan.details["solver"] == "heuristic"
    assert "HiGHS left out" in str(plan.details["message"])
    assert plan.status in ("heuristic", "optimal")
    assert plan.bound == 1.0
    # method="exact" still goes to HiGHS whatever the size
    assert exact.details["solver"] == "HiGHS"
    assert exact.status == "optimal"
