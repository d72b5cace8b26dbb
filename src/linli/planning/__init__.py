"""Layout planning (布点规划): where to build centres, by exact location optimisation.

Models built from arrays or from GeoDataFrames and the walking engine, solved with HiGHS:
:class:`SetCover` (fewest centres serving everyone within the walking circle),
:class:`MaxCover` (most residents served with ``p`` centres or a budget) and
:class:`PMedian` (least residents x walking minutes with ``p`` centres), each optionally
capacitated, with required (existing) and forbidden sites; and :class:`TwoTierPlan` (street
centres and community homes chosen together, lexicographically: fewest centres, then least
walking).  Every ``solve`` returns a :class:`PlanResult`.
"""

from linli.planning.models import MaxCover, PMedian, SetCover
from linli.planning.result import PlanResult, Status
from linli.planning.two_tier import TwoTierPlan

__all__ = ["MaxCover", "PMedian", "PlanResult", "SetCover", "Status", "TwoTierPlan"]
