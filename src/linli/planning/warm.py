"""What a heuristic and a Lagrangian bound hand to the exact solver: the warm start.

Before HiGHS sees a location model, each model may run a fast heuristic (a good plan, the
*incumbent*) and a Lagrangian relaxation (a *proven bound* and, per site, how much opening it
would cost against that bound).  :class:`Warm` carries the outcome on the **reduced** problem
(:class:`linli.planning.reduce.Reduction`: its rows, sites and pairs), in the terms of the
model's own mixed-integer program (``cost @ x + offset`` of the model's ``_mip``).

How the solve loop uses it (:meth:`linli.planning.models._LocationModel.solve`):

- the incumbent is a feasible plan; the bound is proven, so ``gap = |objective - bound| /
  |objective|`` is a proven gap.  At or below ``mip_gap`` the incumbent is returned as optimal
  without building the MIP;
- ``closed`` sites are fixed closed in the MIP (removed from it).  The rule a producer must
  keep (reduced-cost fixing): **no plan that opens a closed site is strictly better than the
  incumbent**.  The MIP then searches only the plans that might beat the incumbent; the final
  plan is the better of the MIP's and the incumbent, and the final bound is
  ``max(bound, min(incumbent, MIP bound))`` when minimising (mirrored when maximising), still
  proven;
- ``closed_pairs`` (optional) removes demand-site pairs under the same rule: no plan strictly
  better than the incumbent uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["Warm"]

I8 = NDArray[np.int64]
B1 = NDArray[np.bool_]


@dataclass(frozen=True)
class Warm:
    """A heuristic plan, a proven bound and the sites a better plan cannot use.

    Everything is about the reduced problem the model's ``_reduce`` returned.

    Attributes
    ----------
    open : bool array or None
        Per reduced site, whether the incumbent opens it (required sites included); ``None``
        when the heuristic found no feasible plan.
    objective : float
        The incumbent's value in the reduced MIP's terms (``cost @ x + offset``); NaN without
        an incumbent.
    bound : float
        A proven bound on the reduced MIP's optimum: lower when minimising, upper when
        maximising (``-inf`` / ``+inf`` when none is known).
    closed : bool array
        Per reduced site: no plan opening it is strictly better than the incumbent (all
        ``False`` when nothing is known).
    assignment : int array or None
        Per reduced row, the reduced site serving it in the incumbent (-1: not served).
        Needed for capacitated models (the assignment is part of the plan); ``None`` lets
        the solve loop assign every row to its nearest open site.
    closed_pairs : bool array or None
        Per reduced pair: no plan strictly better than the incumbent uses it.
    details : dict
        Facts for :attr:`PlanResult.details` (iterations, seconds, sites fixed, ...).
    """

    open: B1 | None
    objective: float
    bound: float
    closed: B1
    assignment: I8 | None = None
    closed_pairs: B1 | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """Whether there is an incumbent."""
        return self.open is not None

    def gap(self, *, maximize: bool) -> float:
        """The proven relative gap between the incumbent and the bound (inf without a plan)."""
        if self.open is None or not np.isfinite(self.bound):
            return float("inf")
        diff = (self.bound - self.objective) if maximize else (self.objective - self.bound)
        return max(diff, 0.0) / max(abs(self.objective), 1e-9)
