"""The result every location model returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["STATUS_RANK", "PlanResult", "Status"]

Status = Literal["optimal", "time_limit", "gap_limit", "infeasible", "heuristic", "error"]
"""``optimal``: proven optimum (within ``mip_gap``); ``time_limit``: stopped by the time limit
with a feasible plan and a proven bound; ``heuristic``: a heuristic plan with a proven bound;
``infeasible``: no plan satisfies the constraints (see ``unreachable``)."""

STATUS_RANK: dict[Status, int] = {
    "optimal": 0,
    "gap_limit": 1,
    "heuristic": 2,
    "time_limit": 3,
    "infeasible": 4,
    "error": 5,
}
"""Best to worst: a plan combined from parts (or levels) has the worst of their statuses."""


@dataclass(frozen=True)
class PlanResult:
    """What a location model found.

    Attributes
    ----------
    objective : float
        The model's own objective: for ``SetCover`` without site costs the number of centres,
        for ``MaxCover`` the demand weight covered, for ``PMedian`` the total weighted cost.
        NaN when infeasible.
    sites : int array
        Positions of the chosen sites (columns of the model's matrix), ascending.
    assignment : int array
        For every demand point (row), the position of the site serving it, or -1 (not
        covered / not assigned).
    bound : float
        A proven bound on the optimum (lower for minimisation, upper for maximisation).
    gap : float
        ``|objective - bound| / max(|objective|, 1e-9)``; 0 at a proven optimum.
    status : Status
    seconds : float
        Wall time of ``solve`` (reduction, model building, solving).
    unreachable : int array
        Demand points no allowed site can serve (reported when infeasible).
    tier : int array, optional
        Per chosen site, its tier (two-tier models); empty otherwise.
    details : dict
        Solver facts: rows/columns before and after reduction, nodes, the solver's message.
    """

    objective: float
    sites: NDArray[np.int64]
    assignment: NDArray[np.int64]
    bound: float
    gap: float
    status: Status
    seconds: float
    unreachable: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    tier: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def infeasible(
        cls,
        *,
        n_demand: int,
        unreachable: NDArray[np.int64],
        seconds: float,
        details: dict[str, object],
    ) -> PlanResult:
        """The result when no plan meets the constraints: NaN objective, no sites, nobody
        assigned, ``unreachable`` the demand points no usable site can serve."""
        return cls(
            objective=float("nan"),
            sites=np.empty(0, dtype=np.int64),
            assignment=np.full(n_demand, -1, dtype=np.int64),
            bound=float("nan"),
            gap=float("nan"),
            status="infeasible",
            seconds=seconds,
            unreachable=unreachable,
            details=details,
        )

    @property
    def n_sites(self) -> int:
        """Number of chosen sites."""
        return int(self.sites.shape[0])
