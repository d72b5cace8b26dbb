"""Street centres and community homes chosen together: the two-tier plan (布点规划).

Chongqing's layout plan sets two tiers of 邻里中心: street centres (街道中心, a 20-minute
circle, 100,000 residents each) and community homes (社区家园, a 10-minute circle, 12,000
residents each), a street centre standing with a community home.  :class:`TwoTierPlan` sites
both tiers in one mixed-integer programme solved with HiGHS; its docstring gives the
formulation.  The walking minutes come from :mod:`linli.access`; the circles and capacities
from the standards profile (:mod:`linli.standards`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from linli._errors import InputError, Problem, SolverError
from linli._progress import ProgressCallback
from linli.access.engine import WalkMatrix
from linli.planning.result import STATUS_RANK, PlanResult, Status
from linli.standards import DEFAULT_PROFILE, Profile, load_profile

if TYPE_CHECKING:  # pragma: no cover
    import highspy

    from linli.network.build import WalkNetwork

__all__ = ["COMMUNITY", "STREET", "STREET_FIRST", "TIER_IDS", "TOTAL_CENTRES", "TwoTierPlan"]

log = logging.getLogger(__name__)

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]
B1 = NDArray[np.bool_]

STREET = 0
"""Tier code of a street centre (街道中心) in :attr:`PlanResult.tier` (the profile's first tier)."""
COMMUNITY = 1
"""Tier code of a community home (社区家园) in :attr:`PlanResult.tier`."""
TIER_IDS = ("street_centre", "community_home")
"""The profile tier ids of :data:`STREET` and :data:`COMMUNITY`, in that order."""

CountObjective = tuple[float, float]
"""Weights ``(street, community)`` of one level of the count objective."""
STREET_FIRST: tuple[CountObjective, ...] = ((1.0, 0.0), (0.0, 1.0))
"""Fewest street centres, then fewest community homes (the default)."""
TOTAL_CENTRES: tuple[CountObjective, ...] = ((1.0, 1.0),)
"""Fewest centres of both tiers together."""


@dataclass(frozen=True)
class _Pairs:
    """(demand, site, minutes) of the pairs within one tier's circle, sorted by demand, site."""

    demand: I8
    site: I8
    walk_min: F8

    @property
    def n(self) -> int:
        return int(self.demand.shape[0])

    def subset(self, keep: B1) -> _Pairs:
        return _Pairs(self.demand[keep], self.site[keep], self.walk_min[keep])


@dataclass(frozen=True, kw_only=True)
class TwoTierPlan:
    r"""Street centres and community homes sited together, fewest centres then least walking.

    Build it with :meth:`from_cost_matrices` (arrays) or :meth:`from_geodataframes` (a
    walking network, homes and candidate sites), then call :meth:`solve`.

    Formulation
    -----------
    **Sets**

    - :math:`I`: demand points (rows), with weights :math:`w_i \ge 0` (residents).
    - :math:`J`: candidate sites (columns); :math:`E^S, E^C \subseteq J` the sites of existing
      street centres and community homes; :math:`F \subseteq J` forbidden sites.
    - :math:`N^t_i = \{ j \in J \setminus F : d^t_{ij} \le T^t,\ w_i \le Q^t_j \}` for a tier
      :math:`t \in \{S, C\}`: the sites that can serve :math:`i` in tier :math:`t`;
      :math:`P^t = \{(i, j) : j \in N^t_i\}`.  Only these pairs get a variable, so the model
      grows with the pairs within the circles, not with :math:`|I| \times |J|`.

    **Parameters**

    - :math:`d^S_{ij}, d^C_{ij}`: walking minutes (for the pairs stored in the matrices).
    - :math:`T^S, T^C`: the walking circles, minutes (Chongqing: 20 and 10).
    - :math:`Q^S_j, Q^C_j`: residents one centre serves (Chongqing: 100,000 and 12,000).
    - :math:`(a^S_k, a^C_k)`, :math:`k = 1..K`: the count weights of the lexicographic levels
      (``count_objectives``; default ``((1, 0), (0, 1))``, street centres first).

    **Variables**

    - :math:`y^S_j, y^C_j \in \{0, 1\}`: a street centre / a community home opens at site
      :math:`j`.
    - :math:`x^S_{ij} \in \{0,1\},\ (i,j) \in P^S` and :math:`x^C_{ij} \in \{0,1\},\ (i,j)
      \in P^C`: demand point :math:`i` is served by the centre at :math:`j` (each resident
      belongs to one centre of each tier, as households belong to one community).

    **Objective** (lexicographic: one stage after the other)

    .. math::

        \text{count level } k = 1..K:\quad & \min\ f_k = \sum_j a^S_k y^S_j + a^C_k y^C_j
            \quad \text{s.t. (1)-(5)},\ f_l \le f_l^*\ (l < k) \\
        \text{walking:}\quad & \min\ g = \sum_{(i,j) \in P^S} w_i d^S_{ij} x^S_{ij}
            + \sum_{(i,j) \in P^C} w_i d^C_{ij} x^C_{ij}
            \quad \text{s.t. (1)-(5)},\ f_l \le f_l^*\ (l \le K)

    where :math:`f_l^*` is the value level :math:`l` reached.  The order of the tiers is the
    planner's: a street centre needs 15,000 m² and a community home 2,700 m², so by
    default the fewest street centres come first and the fewest community homes second
    (:data:`STREET_FIRST`); :data:`TOTAL_CENTRES` counts both alike, and weights such as
    ``((15000, 2700),)`` minimise floor area.  Folding the levels into one objective with a
    large factor would let the solver's relative gap swallow the lower level, so they are
    solved one after the other.  A level's result is kept as :math:`f_l \le f_l^*`: at a
    proven optimum that is :math:`f_l = f_l^*` (no plan has fewer), and when a level
    stopped early it lets the later stages still improve.

    **Constraints**

    .. math::

        \sum_{j \in N^S_i} x^S_{ij} = 1,\quad \sum_{j \in N^C_i} x^C_{ij} = 1
            && \forall i \in I && (1) \\
        \sum_i w_i x^S_{ij} \le Q^S_j y^S_j,\quad \sum_i w_i x^C_{ij} \le Q^C_j y^C_j
            && \forall j \in J && (2) \\
        \sum_{j \in N^S_i} y^S_j \ge 1,\quad \sum_{j \in N^C_i} y^C_j \ge 1
            && \forall i \in I && (3) \\
        y^S_j \le y^C_j && \forall j \in J && (4) \\
        y^S_j = 1\ (j \in E^S),\quad y^C_j = 1\ (j \in E^C),\quad y^S_j = y^C_j = 0\
            (j \in F) && && (5)

    (1) every resident gets one street centre within the 20-minute circle and one community
    home within the 10-minute circle (the pairs outside have no variable); (2) no centre
    serves more residents than the standard, and none serves anyone while closed; (3) each
    resident has an open centre of each tier within the circle: implied by (1) and (2), it
    gives the LP relaxation the strength of a set cover, which (2) alone lacks (a site can
    open by the fraction ``load / capacity``); (4) co-location: a street centre opens only
    where a community home opens (so an existing street centre brings a community home);
    (5) existing centres are kept, forbidden sites stay closed.  Where :math:`w_i = 0`, (2)
    does not keep :math:`x_{ij}` at zero at a closed site, so those pairs get the link
    :math:`x_{ij} \le y_j`.  The textbook strong formulation writes that link for every
    pair; on Yuzhong (1,900 homes x 185 sites, 80,000 pairs) its LP relaxation alone did
    not solve in a minute, so the other links are left to HiGHS's cut separation.

    **How it is solved**

    Count levels, on the sites alone.  A *master* MIP has only :math:`y`, rows (3)-(5),
    the earlier levels and the cuts found so far; it is a relaxation, so its optimum bounds
    the level from below.  Its plan is checked per tier: a maximum flow tells whether the
    residents fit in the open sites within reach when split; if not, a minimum cut yields
    groups :math:`D` of demand points with too little capacity within reach and the cut
    :math:`\sum_{j \in N(D)} \min(Q_j, w(D))\, y_j \ge w(D)` (valid: :math:`D` can only be
    served by the sites it reaches, :math:`N(D) = \cup_{i \in D} N_i`).  If the residents
    fit, each demand point is assigned to one open site (a generalised assignment:
    transportation LP, the split points then by a small MIP, then the whole MIP in a time
    slice).  A proven impossible assignment cuts off the open set (no subset of it can
    serve either); one not found in time (packing residents whole into nearly full sites
    is hard) gets a heuristic cut asking the fullest groups to keep a margin of free
    capacity, and the level reports the bound proven before it (status ``heuristic`` if
    the plan is above it).  The first plan that is served at the master's proven optimum
    is optimal for the level.  A tier that no level has counted yet opens at every allowed
    site while it costs nothing.  Plans are improved by a local search that closes the
    counted tier's sites one at a time, least loaded first, while the residents still fit
    (each closure checked by a maximum flow and an assignment, so the plan stays feasible;
    passes repeat while one closes a site, the loads having moved): on the greedy start, and
    on the level's plan when the clock stops the master above its bound.  A level counting
    community homes alone after a level counted street centres also starts from a plan whose
    street centres (as many as before) stand where few community homes reach everyone
    (``_other_tier_first``: set covers, capacity checked as above).  On parts with more than
    :data:`_FREE_SITES` sites a later level keeps the earlier level's sites of the tier it
    does not count; its bound is then that of its tier alone (a relaxation), cut like the
    master (capacity and packing cuts on the relaxation's sites) and solved again until its
    sites fit or its time is up.  Such a level, when not closed, then lets those sites free
    (``_recoupled``): its plan can be no better than the best for them, and the bound of its
    tier alone ignores co-location.  The master is solved on both tiers again with every cut
    found so far (its optimum bounds the level: a street centre standing where no community
    home is needed counts); where its plan's residents do not fit, capacity and packing cuts;
    and for its placement of the tier not counted, the counted tier is planned exactly by
    the master with that placement fixed (``_for_kept``).  On Yuzhong (558 sites) the street
    centres the first level left needed 121 community homes (proven), the tier alone 118;
    the first master on both tiers placed them for 119 and proved 119.  When the clock stops
    a level above its bound, the LP relaxation of each counted tier alone, with every link
    :math:`x_{ij} \le y_j`, bounds it too (``_lp_bound``; demand points reaching the same
    sites merged, solved by the interior-point method in the last :data:`_LP_SHARE` of the
    level's time): where the circles overlap and the capacities bind it is far above
    residents / capacity and above the cover alone.  What the level's time has left after
    that goes to a search for a smaller plan (``_searched``: a large-neighbourhood search;
    the residents of a region of neighbouring open sites re-planned by a small MIP on one
    site fewer, every site reaching them free, the rest of the plan fixed; the region grows
    while proven tight and shrinks when its MIP runs out of time), so the level ends at its
    deadline unless its plan meets the bound.  The last level takes
    :data:`_LAST_LEVEL_SHARE` of the time left, all of it when the walking stage will not run
    (:data:`_WALKING_MIP_PAIRS`).

    Walking stage: the full MIP (1)-(5) with every valid cut and the levels' rows, solved
    by HiGHS from the last level's plan (its assignment already the least walking for its
    sites) in the time left.

    A demand point with no site in :math:`N^t_i` makes the model infeasible: :meth:`solve`
    reports such points (none within the circle, or heavier than every reachable site's
    capacity) without solving.  After the last stage, a centre that serves no one, is not
    existing and holds no street centre is closed.

    Attributes
    ----------
    weights : float array
        Residents at each demand point.
    street_pairs, community_pairs
        The pairs within each tier's circle (demand, site, minutes), sorted.
    street_capacity, community_capacity : float array
        Residents one centre at each site serves.
    existing_street, existing_community, forbidden : bool array
        Per site.
    street_walk_min, community_walk_min : float or None
        The circles applied to the matrices, minutes (``None``: every stored pair).
    count_objectives : tuple of (float, float)
        The levels of the count objective, ``(street weight, community weight)`` each.
    demand_index, site_index : pandas.Index
        Labels of the rows and columns (positions when built from bare arrays).

    Examples
    --------
    >>> import numpy as np
    >>> minutes = np.array([[2.0, 9.5, 15.0], [9.0, 3.0, 8.0], [15.0, 8.0, 1.0]])
    >>> plan = TwoTierPlan.from_cost_matrices(
    ...     minutes, minutes, weights=[5000, 5000, 5000], street_capacity=100_000,
    ...     community_capacity=12_000, street_walk_min=20, community_walk_min=10)
    >>> r = plan.solve()
    >>> r.status, r.details["street_sites"].tolist(), r.details["community_sites"].tolist()
    ('optimal', [1], [0, 1])
    >>> r.sites.tolist(), r.tier.tolist(), r.assignment.tolist()  # tier 0: street centre too
    ([0, 1], [1, 0], [0, 1, 1])
    """

    weights: F8
    street_pairs: _Pairs
    community_pairs: _Pairs
    street_capacity: F8
    community_capacity: F8
    existing_street: B1
    existing_community: B1
    forbidden: B1
    street_walk_min: float | None
    community_walk_min: float | None
    count_objectives: tuple[CountObjective, ...]
    demand_index: pd.Index = field(repr=False)
    site_index: pd.Index = field(repr=False)

    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return int(self.weights.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (columns)."""
        return int(self.street_capacity.shape[0])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_cost_matrices(
        cls,
        street_minutes: Any,
        community_minutes: Any,
        *,
        weights: ArrayLike,
        street_capacity: ArrayLike,
        community_capacity: ArrayLike,
        street_walk_min: float | None = None,
        community_walk_min: float | None = None,
        existing_street: ArrayLike = (),
        existing_community: ArrayLike = (),
        forbidden: ArrayLike = (),
        count_objectives: Sequence[CountObjective] = STREET_FIRST,
        demand_district: ArrayLike | None = None,
        site_district: ArrayLike | None = None,
    ) -> TwoTierPlan:
        """The plan of walking-minute matrices (demand points x candidate sites).

        Parameters
        ----------
        street_minutes, community_minutes : array, scipy.sparse array or WalkMatrix
            Walking minutes from each demand point (row) to each site (column).  Dense:
            ``inf`` or ``NaN`` where a site cannot be reached.  Sparse (scipy or
            :class:`~linli.access.WalkMatrix`): the stored pairs are the reachable ones
            (explicit zeros included).  The same matrix may be passed for both tiers.
        weights : array of float
            Residents at each demand point, ``>= 0``.
        street_capacity, community_capacity : float or array of float
            Residents one centre serves, per site or for all (e.g. 100,000 and 12,000).
        street_walk_min, community_walk_min : float, optional
            The circles, minutes (inclusive): pairs farther are dropped.  Default: every
            stored (dense: finite) pair counts.
        existing_street, existing_community : array of int
            Positions of sites holding a centre of that tier already: kept open.
        forbidden : array of int
            Positions of sites that may not be used.
        count_objectives : sequence of (float, float)
            Levels of the count objective, each ``(street weight, community weight)``,
            minimised in order (see the class notes).  Default :data:`STREET_FIRST`.
        demand_district, site_district : array of labels, optional
            The district (区) of each demand point and of each site, given together:
            planning district by district, a resident is served only by centres of their
            own district (a street, 街道, is part of one district), so the pairs across
            districts are dropped.  The districts then fall apart into independent plans
            that :meth:`solve` solves one after the other.

        Returns
        -------
        TwoTierPlan

        Raises
        ------
        InputError
            Shapes, weights, capacities, minutes or site positions unusable; every problem
            is listed.
        """
        problems: list[Problem] = []
        source = "TwoTierPlan.from_cost_matrices"
        s_cut = _cutoff(street_walk_min, "street_walk_min", source, problems)
        c_cut = _cutoff(community_walk_min, "community_walk_min", source, problems)
        s = _read_matrix(street_minutes, "street_minutes", s_cut, source, problems)
        c = _read_matrix(community_minutes, "community_minutes", c_cut, source, problems)
        if s is not None and c is not None and s.shape != c.shape:
            problems.append(
                Problem(
                    source,
                    f"community_minutes of the street matrix's shape {s.shape}",
                    f"{c.shape}",
                    "community_minutes",
                )
            )
        shape = s.shape if s is not None else c.shape if c is not None else None
        w = _weights(weights, shape[0] if shape else None, source, problems)
        n_sites = shape[1] if shape else 0
        s_cap = _capacity(street_capacity, n_sites, "street_capacity", source, problems)
        c_cap = _capacity(community_capacity, n_sites, "community_capacity", source, problems)
        ex_s = _site_mask(existing_street, n_sites, "existing_street", source, problems)
        ex_c = _site_mask(existing_community, n_sites, "existing_community", source, problems)
        forb = _site_mask(forbidden, n_sites, "forbidden", source, problems)
        for name, mask in (("existing_street", ex_s), ("existing_community", ex_c)):
            both = np.flatnonzero(mask & forb)
            if both.size:
                problems.append(
                    Problem(
                        source,
                        f"sites in {name} not also forbidden",
                        f"sites {_head(both)} in both",
                        name,
                    )
                )
        levels = _levels(count_objectives, source, problems)
        same = _same_district(demand_district, site_district, shape, source, problems)
        if problems or s is None or c is None or w is None or shape is None:
            raise InputError(problems=problems)
        if same is not None:
            s = replace(s, pairs=s.pairs.subset(same(s.pairs)))
            c = replace(c, pairs=c.pairs.subset(same(c.pairs)))
        return cls(
            weights=w,
            street_pairs=s.pairs,
            community_pairs=c.pairs,
            street_capacity=s_cap,
            community_capacity=c_cap,
            existing_street=ex_s,
            existing_community=ex_c,
            forbidden=forb,
            street_walk_min=s_cut,
            community_walk_min=c_cut,
            count_objectives=levels,
            demand_index=s.rows if s.rows is not None else pd.RangeIndex(shape[0]),
            site_index=s.cols if s.cols is not None else pd.RangeIndex(shape[1]),
        )

    @classmethod
    def from_geodataframes(
        cls,
        network: WalkNetwork,
        demand: Any,
        sites: Any,
        *,
        profile: Profile | str | Path | None = None,
        weight_column: str = "population",
        street_tier: str = TIER_IDS[0],
        community_tier: str = TIER_IDS[1],
        existing_street: Sequence[Any] = (),
        existing_community: Sequence[Any] = (),
        forbidden: Sequence[Any] = (),
        count_objectives: Sequence[CountObjective] = STREET_FIRST,
        threads: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> TwoTierPlan:
        """The plan of homes and candidate sites on a walking network.

        Asks :func:`linli.access.walk_minutes_within` once for the minutes within the larger
        circle (20 minutes) and takes the community pairs (within 10) from the same
        matrix.  Circles and capacities come from the profile's tiers.

        Parameters
        ----------
        network : WalkNetwork
        demand : GeoDataFrame
            Demand points (homes; polygons are attached by a point on their surface), with
            a CRS and a column of residents.
        sites : GeoDataFrame
            Candidate sites, with a CRS.
        profile : Profile, name or path, optional
            Standards profile; default ``chongqing-2019``.
        weight_column : str
            Column of ``demand`` holding residents.
        street_tier, community_tier : str
            Tiers of the profile (id or name) giving each tier's ``walk_min`` (the circle)
            and ``population_max`` (the capacity).
        existing_street, existing_community, forbidden : sequence of labels
            Labels of ``sites``' index: centres already there (kept), sites not to use.
        count_objectives : sequence of (float, float)
            See :meth:`from_cost_matrices`.
        threads : int, optional
            Threads for the walking searches; default every core.
        progress : callable, optional
            ``progress(done, total)`` over the demand points' searches.

        Returns
        -------
        TwoTierPlan
            With ``demand_index`` and ``site_index`` the frames' indexes.

        Examples
        --------
        >>> plan = TwoTierPlan.from_geodataframes(net, homes, parcels)  # doctest: +SKIP
        >>> result = plan.solve(time_limit_s=60)  # doctest: +SKIP
        """
        from linli.access.points import walk_minutes_within

        prof = profile if isinstance(profile, Profile) else load_profile(profile or DEFAULT_PROFILE)
        street = prof.tier(street_tier)
        community = prof.tier(community_tier)
        source = "demand"
        problems: list[Problem] = []
        if weight_column not in getattr(demand, "columns", ()):
            problems.append(
                Problem(
                    source,
                    f"a column {weight_column!r} of residents",
                    f"columns {list(getattr(demand, 'columns', []))}",
                    f"field {weight_column!r}",
                )
            )
        site_labels = pd.Index(getattr(sites, "index", []))
        positions = {
            name: _label_positions(labels, site_labels, name, problems)
            for name, labels in (
                ("existing_street", existing_street),
                ("existing_community", existing_community),
                ("forbidden", forbidden),
            )
        }
        if problems:
            raise InputError(problems=problems)
        weights = pd.to_numeric(demand[weight_column], errors="coerce").to_numpy(np.float64)
        minutes = walk_minutes_within(
            network,
            demand,
            sites,
            cutoff_min=max(street.walk_min, community.walk_min),
            threads=threads,
            progress=progress,
        )
        return cls.from_cost_matrices(
            minutes,
            minutes,
            weights=weights,
            street_capacity=float(street.population_max),
            community_capacity=float(community.population_max),
            street_walk_min=street.walk_min,
            community_walk_min=community.walk_min,
            existing_street=positions["existing_street"],
            existing_community=positions["existing_community"],
            forbidden=positions["forbidden"],
            count_objectives=count_objectives,
        )

    # ------------------------------------------------------------------ solving
    def solve(
        self,
        *,
        time_limit_s: float = 120.0,
        mip_gap: float = 1e-4,
        threads: int | None = None,
        decompose: bool = True,
    ) -> PlanResult:
        """Solve the count levels, then the walking stage, with HiGHS.

        Demand points and sites that share no pair (directly or through others) make
        independent plans: each level's optimum is the sum of theirs, so they are solved
        one after the other (small ones together), each with a share of the time in
        proportion to its pairs, and combined; the bounds add up too.  Districts
        (``demand_district``) make such parts, as do rivers with few bridges.

        Parameters
        ----------
        time_limit_s : float
            Wall-clock limit for all stages together, seconds; each stage gets what the
            earlier ones left.
        mip_gap : float
            Relative gap at which a stage counts as solved.
        threads : int, optional
            HiGHS threads; default HiGHS's choice.  HiGHS keeps one scheduler per process,
            reset here to this number: do not run solves with different ``threads`` in
            parallel threads of one process.
        decompose : bool
            Solve independent parts apart (default); False solves them as one model.

        Returns
        -------
        PlanResult
            ``objective``, ``bound`` and ``gap``: the first count level (by default the
            number of street centres) for the returned plan.  ``sites``: every chosen site
            (each holds a community home); ``tier``: :data:`STREET` where the site also
            holds a street centre, else :data:`COMMUNITY`.  ``assignment``: the community
            home of each demand point.  ``status``: the worst of the stages' (a count
            level is ``heuristic`` when a heuristic cut was needed and its plan is above
            the proven bound, ``time_limit`` when the clock stopped it; a stage the clock
            left no time for keeps the plan before it).
            ``details`` holds ``street_sites``, ``community_sites``,
            ``street_assignment``, ``street_walk_min`` and ``community_walk_min`` (per
            demand point), ``street_load`` and ``community_load`` (residents per site, like
            ``street_sites`` / ``community_sites``), ``count_objectives`` (each level's
            value for the plan), ``walking_objective``, ``walking_bound``, ``walking_gap``,
            ``stages`` (per stage: kind, weights, objective, bound, gap, status,
            seconds, nodes), ``rows``, ``cols``, ``nonzeros`` and ``message``.  When
            infeasible, ``unreachable`` lists the demand points with no usable site and
            ``details`` says which tier (``unreachable_street``/``_community``: no allowed
            site within the circle; ``over_capacity_street``/``_community``: heavier than
            every reachable site's capacity).  A plan of several parts adds ``parts``
            (per part: demand points, sites, pairs, each level's count and bound, status,
            seconds).

        Raises
        ------
        InputError
            ``time_limit_s`` or ``mip_gap`` out of range.
        SolverError
            highspy is missing or HiGHS fails.
        """
        start = time.perf_counter()
        problems: list[Problem] = []
        if not (np.isfinite(time_limit_s) and time_limit_s > 0):
            problems.append(
                Problem("TwoTierPlan.solve", "seconds > 0", repr(time_limit_s), "time_limit_s")
            )
        if not (np.isfinite(mip_gap) and 0 <= mip_gap < 1):
            problems.append(Problem("TwoTierPlan.solve", "0 <= gap < 1", repr(mip_gap), "mip_gap"))
        if threads is not None and int(threads) < 1:
            problems.append(Problem("TwoTierPlan.solve", "threads >= 1", repr(threads), "threads"))
        if problems:
            raise InputError(problems=problems)

        s_pairs = self._usable(self.street_pairs, self.street_capacity)
        c_pairs = self._usable(self.community_pairs, self.community_capacity)
        unservable = self._unservable(s_pairs, c_pairs)
        if unservable is not None:
            unreachable, facts = unservable
            return PlanResult.infeasible(
                n_demand=self.n_demand,
                unreachable=unreachable,
                seconds=time.perf_counter() - start,
                details=facts,
            )

        if decompose:
            parts = self._parts(s_pairs, c_pairs)
            if len(parts) > 1:
                return self._solve_parts(parts, start, float(time_limit_s), mip_gap, threads)
        highs = _highs_module()
        if threads is not None:
            # HiGHS keeps one global scheduler; another thread count needs a fresh one.
            highs.Highs.resetGlobalScheduler(True)
        deadline = start + float(time_limit_s)
        opts = _Options(highs=highs, threads=threads, mip_gap=float(mip_gap), deadline=deadline)
        master = _Master(self, s_pairs, c_pairs, opts)
        mip = _Mip.build(self, s_pairs, c_pairs)
        stages: list[_Stage] = []
        best: _Incumbent | None = None
        too_big = mip.street.n + mip.community.n > _WALKING_MIP_PAIRS
        last = len(self.count_objectives) - 1
        for level, weights in enumerate(self.count_objectives):
            # A share of the time left, so that a hard level leaves time to the later ones
            # (what it does not use flows on); the last level takes all of it when the
            # walking stage will not run.
            share = _LEVEL_SHARE if level < last else 1.0 if too_big else _LAST_LEVEL_SHARE
            left = deadline - time.perf_counter()
            level_opts = replace(opts, deadline=time.perf_counter() + share * max(left, 0.0))
            stage, best = self._count_level(level, weights, master, mip, best, level_opts)
            stages.append(stage)
            log.info("two-tier %s", stage)
            if best is None:
                return self._no_plan(stage, stages, master, time.perf_counter() - start)
            # f_l <= f_l*: the level's count holds in every later stage.
            value = best.count(weights)
            master.add_row(
                _Row.of(
                    np.arange(2 * self.n_sites),
                    np.repeat(np.asarray(weights, dtype=np.float64), self.n_sites),
                    upper=value + 1e-6 * max(1.0, abs(value)),
                    level=True,
                )
            )
        assert best is not None  # every count level left a plan
        cost = mip.walking_cost(self.weights)
        start_from = best.vector()
        if time.perf_counter() < deadline and not too_big:
            h = _new_highs(opts)
            mip.pass_to(h, highs, master.rows)
            stage = _run_stage(h, cost, start_from, deadline)
            if stage.solution is None:
                # The start is a feasible plan: HiGHS cannot lose it unless in trouble.
                raise SolverError(f"HiGHS failed on the walking stage: {stage.model_status}")
        else:
            why = "model too large" if too_big else "time limit reached"
            stage = _Stage.skipped(float(cost @ start_from), why)
        stage = stage.labelled("walking", len(self.count_objectives), None)
        stages.append(stage)
        log.info("two-tier %s", stage)
        solution = stage.solution if stage.solution is not None else start_from
        return self._result(mip, solution, stages, time.perf_counter() - start)

    def _count_level(
        self,
        level: int,
        weights: CountObjective,
        master: _Master,
        mip: _Mip,
        best: _Incumbent | None,
        opts: _Options,
    ) -> tuple[_Stage, _Incumbent | None]:
        """Minimise one count level: the master on the sites, cut until its plan can be served.

        Each round solves the master, then checks each tier's open sites:

        1. A maximum flow tells whether the residents fit in the open sites within reach
           even when split; if not, a minimum cut gives groups of demand points whose
           reachable capacity must grow: valid capacity cuts (:func:`_short_groups`,
           :func:`_capacity_cut`), and packing cuts where the members cannot be held
           whole (:func:`_packing_cut`).
        2. Otherwise each demand point is assigned to one open site (:func:`_assign`).
           If that is proven impossible, the open set is cut off (no subset of it can
           serve either); if it is not found in its time slice (single sourcing into
           nearly full sites is a hard packing problem), the groups that are nearly full
           must keep a margin of free capacity: a heuristic cut, after which the level's
           bound is the last one proven without such cuts, and the level is ``heuristic``
           unless its plan meets that bound.

        The master is a relaxation, so its bound holds for the level; the first plan that
        can be served at the master's proven optimum is optimal.  A cut-off open set only
        excludes that set and its subsets, so after :data:`_NOGOOD_LIMIT` of them (a small
        model whose sites hardly pack) the level is handed to the full MIP (1)-(5) with the
        valid cuts, started from the best plan so far.

        The greedy start and, when the clock stops the master above its bound, the level's
        plan are thinned by :meth:`_improved` (a local search that keeps them feasible).
        On large parts (more than :data:`_FREE_SITES` sites) a later level keeps the
        earlier level's sites, and bounds its tier alone (:meth:`_Master.relaxed_bound`).
        A level counting community homes alone first re-places the street centres
        (:meth:`_other_tier_first`); a level not closed by its end gets the LP bound of
        :meth:`_lp_bound` in the time kept for it, and the time the bound leaves goes to
        :meth:`_searched` for a smaller plan.  Before the LP, a level that kept the
        earlier level's sites lets them free (:meth:`_recoupled`, the master on both
        tiers) in what the level's own time has left.
        """
        t0 = time.perf_counter()
        n = self.n_sites
        a_s, a_c = weights
        levels = self.count_objectives[: level + 1]
        # The end of the level is kept for the LP bound, used when the level is not closed.
        level_opts, opts = opts, opts if mip.small else _share(opts, 1.0 - _LP_SHARE)
        free_street = all(w[0] == 0 for w in levels)
        free_community = all(w[1] == 0 for w in levels)
        allowed = ~self.forbidden
        tiers = (
            (master.street, self.street_capacity, 0),
            (master.community, self.community_capacity, n),
        )
        proven = -np.inf  # the master's bound before any heuristic cut
        heuristic = False
        direct = mip.small
        rounds = cuts = nodes = nogoods = 0
        status: Status = "error"
        model_status = "last: not run, time limit reached" if not direct else "small model"
        start_note = ""
        if not direct:
            greedy = self._greedy_plan(weights, best, opts)
            if greedy is not None:
                greedy = self._improved(weights, greedy, _share(opts, _LOCAL_SHARE))
            if greedy is not None and (best is None or greedy.count(weights) < best.count(weights)):
                best = greedy
            log.debug(
                "level %d: greedy start %s at %.1f s",
                level, greedy.count(weights) if greedy else None, time.perf_counter() - t0,
            )  # fmt: skip
            if best is not None and a_s == 0 and a_c > 0 and any(w[0] > 0 for w in levels):
                other = self._other_tier_first(weights, best, master, _share(opts, _OTHER_SHARE))
                if other is not None and other.count(weights) < best.count(weights) - 1e-9:
                    start_note = (
                        f"street centres re-placed: start {best.count(weights):g} -> "
                        f"{other.count(weights):g}; "
                    )
                    best = other
                log.debug(
                    "level %d: street centres re-placed: %s at %.1f s",
                    level, other.count(weights) if other else None, time.perf_counter() - t0,
                )  # fmt: skip
        # On large models a later level keeps the sites of a tier it does not count (as
        # the earlier level left them): re-choosing them with the count held makes the
        # master far harder.  Its bound then holds only for those sites, so the level's
        # bound comes from a relaxation (this level's tier alone) afterwards.
        fixed = None
        if not direct and best is not None and level > 0 and self.n_sites > _FREE_SITES:
            earlier = self.count_objectives[:level]
            if a_s == 0 and any(w[0] > 0 for w in earlier):
                fixed = (0, best.y_street)
            elif a_c == 0 and any(w[1] > 0 for w in earlier):
                fixed = (n, best.y_community)
        # The clock may stop the master above its bound: keep time to improve its plan.
        loop_opts = _share(opts, 1.0 - _LOCAL_SHARE)
        if fixed is not None:
            master.fix(*fixed)
            loop_opts = _share(opts, _FIXED_SHARE * (1.0 - _LOCAL_SHARE))
        while not direct and time.perf_counter() < loop_opts.deadline:
            rounds += 1
            start = np.concatenate([best.y_street, best.y_community]) if best else None
            t_round = time.perf_counter()
            found = master.solve(np.repeat([a_s, a_c], n), loop_opts, start)
            model_status = f"last: {found.model_status}"
            log.debug(
                "level %d: master round %d: %s, value %s, bound %.6g, %d nodes, %.2f s",
                level, rounds, found.model_status,
                None if found.y is None else float(np.repeat([a_s, a_c], n) @ found.y),
                found.bound, found.nodes, time.perf_counter() - t_round,
            )  # fmt: skip
            nodes += found.nodes
            if found.status == "infeasible":
                status = "infeasible" if best is None and not heuristic else "heuristic"
                break
            if not heuristic and fixed is None:
                proven = max(proven, found.bound)
            if found.y is None:
                status = "time_limit"
                break
            y_s, y_c = found.y[:n], found.y[n:]
            # A tier no level has counted yet opens wherever it may (it costs nothing here).
            if free_community:
                y_c = allowed.copy()
            if free_street:
                y_s = y_c.copy()
            opened = (y_s, y_c)
            new = self._cuts(tiers, opened)
            if not new:
                done = [
                    _assign(pairs, self.weights, cap, y, opts)
                    for (pairs, cap, _), y in zip(tiers, opened, strict=True)
                ]
                if done[0].x is not None and done[1].x is not None:
                    plan = _Incumbent(y_s, y_c, done[0].x, done[1].x)
                    if best is None or plan.count(weights) < best.count(weights) - 1e-9:
                        best = plan
                    status = "heuristic" if heuristic else found.status
                    break
                for (pairs, cap, off), y, got in zip(tiers, opened, done, strict=True):
                    if got.x is not None:
                        continue
                    margin, groups = _margin_groups(pairs, self.weights, cap, y)
                    packs = [_packing_cut(g, self.weights, cap, y, off) for g in groups]
                    if any(row is not None for row in packs):
                        new += [row for row in packs if row is not None]
                    elif got.proven_infeasible:
                        # No subset of these sites can serve this tier either.
                        new.append(_Row.of(off + np.flatnonzero(allowed & ~y), None, lower=1.0))
                        nogoods += 1
                    else:
                        slack = cap * (1 - margin)
                        new += [
                            _capacity_cut(g, self.weights, slack, off, valid=False) for g in groups
                        ]
                heuristic = heuristic or any(not row.valid for row in new)
                if not new:
                    status = "time_limit"
                    break
            log.debug(
                "level %d: round %d cuts: %d street, %d community, %d heuristic, %d no-good",
                level, rounds, sum(bool((r.cols < n).all()) for r in new),
                sum(bool((r.cols >= n).all()) for r in new), sum(not r.valid for r in new),
                nogoods,
            )  # fmt: skip
            if not heuristic:
                # Repair the master's plan into one that serves (opening sites where the
                # residents do not fit): often near the bound, and a start for the next round.
                repaired = self._repaired(weights, y_s, y_c, opts)
                if repaired is not None and (
                    best is None or repaired.count(weights) < best.count(weights) - 1e-9
                ):
                    best = repaired
                    log.debug("level %d: repaired plan %g", level, repaired.count(weights))
                    if fixed is None and repaired.count(weights) <= np.ceil(proven - 1e-6) + 1e-9:
                        status = "optimal"
                        break
            for row in new:
                master.add_row(row)
            cuts += len(new)
            if nogoods >= _NOGOOD_LIMIT:
                direct = True
                break
        else:
            status = "time_limit" if not direct else status
        if heuristic:
            master.drop_heuristic_rows()
        if best is not None and not direct and status != "optimal":
            improved = self._improved(
                weights,
                best,
                _share(opts, _LOCAL_SHARE / (1 - _FIXED_SHARE) if fixed is not None else 1.0),
            )
            log.debug(
                "level %d: local search %g -> %g at %.1f s",
                level, best.count(weights), improved.count(weights), time.perf_counter() - t0,
            )  # fmt: skip
            if improved.count(weights) < best.count(weights) - 1e-9:
                model_status += (
                    f"; local search {best.count(weights):g} -> {improved.count(weights):g}"
                )
                best = improved
        if fixed is not None:
            # The bound of this level's tier alone (a relaxation), with the cuts found on
            # its sites while the other tier was kept.
            master.fix(fixed[0], None)
            keep = n if fixed[0] == 0 else 0
            pairs, cap, _ = tiers[keep // n]
            cost = np.repeat([a_s, a_c], n).astype(np.float64)
            bound_rounds = 0
            while best is not None and time.perf_counter() < opts.deadline:
                now = np.concatenate([best.y_street, best.y_community])
                t_round = time.perf_counter()
                value, sites = master.relaxed_bound(cost, keep, now, opts)
                proven = max(proven, value)
                log.debug(
                    "level %d: relaxed bound round %d: %.6g (%s), %.2f s",
                    level, bound_rounds + 1, value, "solved" if sites is not None else "open",
                    time.perf_counter() - t_round,
                )  # fmt: skip
                bound_rounds += 1
                if sites is None:
                    break
                y = sites[keep : keep + n]
                # The relaxation's sites where the residents do not fit: cut them off (valid
                # cuts) and solve it again, so the bound climbs towards the tier's optimum.
                new = []
                for group in _short_groups(pairs, self.weights, cap, y):
                    new.append(_capacity_cut(group, self.weights, cap, keep))
                    packing = _packing_cut(group, self.weights, cap, y, keep)
                    new += [packing] if packing is not None else []
                if not new:
                    break
                for row in new:
                    master.add_row(row)
                cuts += len(new)
            if bound_rounds:
                model_status += f"; bound of the counted tier alone ({bound_rounds} round(s))"
        if direct and time.perf_counter() < opts.deadline:
            h = _new_highs(opts)
            mip.pass_to(h, opts.highs, master.rows)
            start = best.vector() if best is not None else None
            whole = _run_stage(h, mip.count_cost(a_s, a_c), start, opts.deadline)
            nodes += whole.nodes
            model_status = f"{model_status}; full MIP: {whole.model_status}"
            if whole.status == "infeasible":
                status = "infeasible"
            else:
                proven = max(proven, whole.bound)
                status = whole.status
            if whole.solution is not None:
                plan = _Incumbent.of(whole.solution, mip)
                if best is None or plan.count(weights) < best.count(weights) - 1e-9:
                    best = plan
        if (
            fixed is not None
            and best is not None
            and best.count(weights) > np.ceil(proven - 1e-6) + 1e-9
            and time.perf_counter() < level_opts.deadline
        ):
            # The kept tier's sites made the plan, and its bound ignores them: free them,
            # the master on both tiers leading, in what the level's own time has left (the
            # LP bound keeps the time kept for it: on large parts it is the stronger bound).
            t_re = time.perf_counter()
            before = best.count(weights)
            best, proven, re_rounds = self._recoupled(weights, master, fixed[0], best, proven, opts)
            log.debug(
                "level %d: recoupled %d round(s): %g -> %g, bound %.6g, at %.1f s, in %.1f s",
                level, re_rounds, before, best.count(weights), proven, t_re - t0,
                time.perf_counter() - t_re,
            )  # fmt: skip
            if re_rounds:
                model_status += (
                    f"; both tiers free {before:g} -> {best.count(weights):g} "
                    f"({re_rounds} round(s))"
                )
        if (
            best is not None
            and not mip.small
            and best.count(weights) > np.ceil(proven - 1e-6) + 1e-9
            and time.perf_counter() < level_opts.deadline
        ):
            counts = (float(best.y_street.sum()), float(best.y_community.sum()))
            t_lp = time.perf_counter()
            lp = self._lp_bound(weights, master, level_opts, counts)
            log.debug(
                "level %d: LP bound %.6g (proven %.6g) at %.1f s, in %.1f s; %.1f s left",
                level, lp, proven, t_lp - t0, time.perf_counter() - t_lp,
                level_opts.deadline - time.perf_counter(),
            )  # fmt: skip
            if lp > proven:
                model_status += f"; LP / Lagrangian bound {lp:.6g}"
                proven = lp
            target = float(np.ceil(proven - 1e-6)) if _integral(a_s, a_c) else proven
            # The time left: a search for a smaller plan, down to the bound.
            searched, tries = self._searched(weights, best, target, level_opts)
            if tries:
                model_status += (
                    f"; search {best.count(weights):g} -> {searched.count(weights):g} "
                    f"({tries} tries)"
                )
                best = searched
        objective = best.count(weights) if best is not None else float("nan")
        if _integral(a_s, a_c) and np.isfinite(proven):
            proven = float(np.ceil(proven - 1e-6))  # a count of whole centres
        bound = min(proven, objective) if np.isfinite(objective) else proven
        if best is not None:
            if objective <= bound + 1e-6:
                status = "optimal"  # the plan meets a proven bound
            elif heuristic:
                status = "heuristic"
            elif status in ("optimal", "infeasible", "error"):
                status = "time_limit"
        stage = _Stage(
            objective=objective,
            bound=bound,
            status=status,
            model_status=f"sites: {rounds} round(s), {cuts} cut(s)"
            + (", some heuristic" if heuristic else "")
            + f"; {start_note}{model_status}",
            seconds=time.perf_counter() - t0,
            nodes=nodes,
            solution=None,
        ).labelled("count", level, weights)
        return stage, best

    def _parts(self, s_pairs: _Pairs, c_pairs: _Pairs) -> list[tuple[I8, I8]]:
        """Independent parts (demand positions, site positions): components of the pairs.

        Components with fewer than :data:`_PART_MIN_PAIRS` pairs are batched, smallest
        first; sites reached by no one go with the largest part.
        """
        from scipy import sparse
        from scipy.sparse.csgraph import connected_components

        m, n = self.n_demand, self.n_sites
        d = np.concatenate([s_pairs.demand, c_pairs.demand])
        j = np.concatenate([s_pairs.site, c_pairs.site])
        graph = sparse.coo_array((np.ones(d.shape[0]), (d, m + j)), shape=(m + n, m + n))
        n_comp, label = connected_components(graph, directed=False)
        if n_comp == 1:
            return [(np.arange(m, dtype=np.int64), np.arange(n, dtype=np.int64))]
        size = np.bincount(label[d], minlength=n_comp)
        has_demand = np.bincount(label[:m], minlength=n_comp) > 0
        comps = [int(k) for k in np.argsort(size, kind="stable") if has_demand[k]]
        batches: list[list[int]] = []
        pairs = 0
        for k in comps:
            if not batches or pairs >= _PART_MIN_PAIRS:
                batches.append([])
                pairs = 0
            batches[-1].append(k)
            pairs += int(size[k])
        part_of = np.full(n_comp, -1)
        for b, members in enumerate(batches):
            part_of[members] = b
        site_part = part_of[label[m:]]
        site_part[site_part < 0] = len(batches) - 1  # reached by no one: the largest part
        demand_part = part_of[label[:m]]
        return [
            (
                np.flatnonzero(demand_part == b).astype(np.int64),
                np.flatnonzero(site_part == b).astype(np.int64),
            )
            for b in range(len(batches))
        ]

    def _part(self, rows: I8, cols: I8) -> TwoTierPlan:
        """The plan of some demand points and sites (every pair between them kept)."""
        row_at = np.full(self.n_demand, -1, dtype=np.int64)
        row_at[rows] = np.arange(rows.shape[0])
        col_at = np.full(self.n_sites, -1, dtype=np.int64)
        col_at[cols] = np.arange(cols.shape[0])

        def sub(p: _Pairs) -> _Pairs:
            k = (row_at[p.demand] >= 0) & (col_at[p.site] >= 0)
            return _Pairs(row_at[p.demand[k]], col_at[p.site[k]], p.walk_min[k])

        return replace(
            self,
            weights=self.weights[rows],
            street_pairs=sub(self.street_pairs),
            community_pairs=sub(self.community_pairs),
            street_capacity=self.street_capacity[cols],
            community_capacity=self.community_capacity[cols],
            existing_street=self.existing_street[cols],
            existing_community=self.existing_community[cols],
            forbidden=self.forbidden[cols],
            demand_index=self.demand_index[rows],
            site_index=self.site_index[cols],
        )

    def _solve_parts(
        self,
        parts: list[tuple[I8, I8]],
        start: float,
        time_limit_s: float,
        mip_gap: float,
        threads: int | None,
    ) -> PlanResult:
        """Solve the independent parts one after the other and combine their plans."""
        plans = [self._part(rows, cols) for rows, cols in parts]
        sizes = np.array([p.street_pairs.n + p.community_pairs.n for p in plans], dtype=float)
        deadline = start + time_limit_s
        results: list[PlanResult] = []
        for k, (part, (rows, cols)) in enumerate(zip(plans, parts, strict=True)):
            left = deadline - time.perf_counter()
            share = max(left * sizes[k] / sizes[k:].sum(), 1e-3)
            r = part.solve(time_limit_s=share, mip_gap=mip_gap, threads=threads, decompose=False)
            log.info(
                "two-tier part %d/%d (%d demand points, %d sites): %s",
                k + 1, len(parts), rows.shape[0], cols.shape[0], r.status,
            )  # fmt: skip
            if r.status in ("infeasible", "error"):
                details = dict(r.details)
                details["message"] = f"part {k + 1} of {len(parts)}: {details.get('message', '')}"
                return replace(
                    r,
                    assignment=np.full(self.n_demand, -1, dtype=np.int64),
                    unreachable=rows[r.unreachable],
                    seconds=time.perf_counter() - start,
                    details=details,
                )
            results.append(r)
        return self._combined(parts, plans, results, time.perf_counter() - start)

    def _combined(
        self,
        parts: list[tuple[I8, I8]],
        plans: list[TwoTierPlan],
        results: list[PlanResult],
        seconds: float,
    ) -> PlanResult:
        m = self.n_demand
        street: list[I8] = []
        community: list[I8] = []
        s_assign = np.full(m, -1, dtype=np.int64)
        c_assign = np.full(m, -1, dtype=np.int64)
        s_min = np.full(m, np.nan)
        c_min = np.full(m, np.nan)
        summary: list[dict[str, object]] = []
        for (rows, cols), plan, r in zip(parts, plans, results, strict=True):
            d = r.details
            street.append(cols[np.asarray(d["street_sites"], dtype=np.int64)])
            community.append(cols[np.asarray(d["community_sites"], dtype=np.int64)])
            s_assign[rows] = cols[np.asarray(d["street_assignment"], dtype=np.int64)]
            c_assign[rows] = cols[r.assignment]
            s_min[rows] = np.asarray(d["street_walk_min"], dtype=np.float64)
            c_min[rows] = np.asarray(d["community_walk_min"], dtype=np.float64)
            part_stages: list[dict[str, Any]] = list(d["stages"])  # type: ignore[call-overload]
            summary.append(
                {
                    "demand": int(rows.shape[0]),
                    "sites": int(cols.shape[0]),
                    "pairs": plan.street_pairs.n + plan.community_pairs.n,
                    "counts": [st["objective"] for st in part_stages[:-1]],
                    "bounds": [st["bound"] for st in part_stages[:-1]],
                    "status": r.status,
                    "seconds": r.seconds,
                }
            )
        s_sites = np.sort(np.concatenate(street)).astype(np.int64)
        c_sites = np.sort(np.concatenate(community)).astype(np.int64)
        stages_all = [r.details["stages"] for r in results]
        stages: list[dict[str, object]] = []
        for k in range(len(self.count_objectives) + 1):
            level = [st[k] for st in stages_all]  # type: ignore[index]
            objective = float(sum(st["objective"] for st in level))
            bound = float(sum(st["bound"] for st in level))
            stages.append(
                {
                    **{key: level[0][key] for key in ("kind", "level", "weights")},
                    "objective": objective,
                    "bound": bound,
                    "gap": _gap(objective, bound),
                    "status": max((st["status"] for st in level), key=STATUS_RANK.__getitem__),
                    "model_status": f"{len(level)} parts",
                    "seconds": float(sum(st["seconds"] for st in level)),
                    "nodes": int(sum(st["nodes"] for st in level)),
                }
            )
        walk_value = sum(_number(r.details["walking_objective"]) for r in results)
        walk_bound = sum(_number(r.details["walking_bound"]) for r in results)
        a_s, a_c = self.count_objectives[0]
        objective = a_s * s_sites.size + a_c * c_sites.size
        bound = min(float(sum(r.bound for r in results)), objective)
        street_set = np.zeros(self.n_sites, dtype=bool)
        street_set[s_sites] = True
        details: dict[str, object] = {
            "street_sites": s_sites,
            "community_sites": c_sites,
            "street_assignment": s_assign,
            "street_walk_min": s_min,
            "community_walk_min": c_min,
            "street_load": _load(self.weights, s_assign, s_sites),
            "community_load": _load(self.weights, c_assign, c_sites),
            "count_objectives": [
                a * s_sites.size + b * c_sites.size for a, b in self.count_objectives
            ],
            "walking_objective": walk_value,
            "walking_bound": walk_bound,
            "walking_gap": _gap(walk_value, walk_bound),
            "stages": stages,
            "parts": summary,
            "message": f"{len(parts)} independent parts",
            **{
                key: int(sum(int(r.details[key]) for r in results))  # type: ignore[call-overload]
                for key in ("rows", "cols", "nonzeros")
            },
        }
        status = max((r.status for r in results), key=STATUS_RANK.__getitem__)
        log.info(
            "two-tier plan of %d parts: %d street centres, %d community homes, %s",
            len(parts), s_sites.size, c_sites.size, status,
        )  # fmt: skip
        return PlanResult(
            objective=float(objective),
            sites=c_sites,
            assignment=c_assign,
            bound=bound,
            gap=_gap(objective, bound),
            status=status,
            seconds=seconds,
            tier=np.where(street_set[c_sites], STREET, COMMUNITY).astype(np.int64),
            details=details,
        )

    def _greedy_plan(
        self, weights: CountObjective, best: _Incumbent | None, opts: _Options
    ) -> _Incumbent | None:
        """A feasible plan opening few centres of the tiers this level counts, or None.

        A start for the level (the master begins from it, and it stands when the clock
        stops the master): each counted tier is opened greedily (:func:`_greedy_sites`),
        keeping the sites an earlier level's plan opened in the tiers not counted here.
        Proves nothing.
        """
        a_s, a_c = weights
        allowed = ~self.forbidden
        y_s = (
            best.y_street.copy()
            if best is not None and a_s == 0
            else self.existing_street.copy()
            if a_s > 0
            else allowed.copy()
        )
        keep_c = best.y_community if best is not None and a_c == 0 else None
        base_c = self.existing_community | y_s
        s_pairs, c_pairs = self._usable_pairs()
        deadline = time.perf_counter() + _GREEDY_SHARE * max(opts.deadline - time.perf_counter(), 0)
        g_opts = replace(opts, deadline=deadline)
        if a_s > 0:
            got_s = _greedy_sites(s_pairs, self.weights, self.street_capacity, y_s, allowed, g_opts)
            if got_s is None:
                return None
            y_s, x_s = got_s
            base_c = base_c | y_s
        else:
            x_s = None
        y_c = keep_c | base_c if keep_c is not None else base_c.copy()
        got_c = _greedy_sites(
            c_pairs, self.weights, self.community_capacity, y_c, allowed, g_opts,
            grow=keep_c is None,
        )  # fmt: skip
        if got_c is None:
            return None
        y_c, x_c = got_c
        if x_s is None:
            done = _assign(s_pairs, self.weights, self.street_capacity, y_s, g_opts)
            if done.x is None:
                return None
            x_s = done.x
        return _Incumbent(y_s, y_c, x_s, x_c)

    def _other_tier_first(
        self, weights: CountObjective, best: _Incumbent, master: _Master, opts: _Options
    ) -> _Incumbent | None:
        """A plan for a level counting community homes alone, the street centres re-placed.

        An earlier level fixed how many street centres there are, not where: each stands
        with a community home, so street centres outside a small set of community homes
        cost one each.  (a) The fewest community homes that reach everyone (a set cover,
        with the valid cuts found so far on their sites); (b) as many street centres as
        ``best`` has, reaching everyone, as few as possible outside (a); if their residents
        fit, (c) the fewest community homes with those street centres, grown where the
        residents do not fit (:func:`_greedy_sites`) and thinned by the local search.  A
        heuristic on time slices of ``opts``: proves nothing; None if no plan came of it.
        """
        n = self.n_sites
        allowed = ~self.forbidden
        s_pairs, c_pairs = master.street, master.community
        s_rows = [r for r in master.rows if r.valid and not r.level and (r.cols < n).all()]
        c_rows = [
            replace(r, cols=r.cols - n)
            for r in master.rows
            if r.valid and not r.level and (r.cols >= n).all()
        ]
        base_c = self.existing_community | self.existing_street
        slice_opts = _share(opts, 1 / 3)
        cover = _cover_sites(
            c_pairs, self.n_demand, np.ones(n), base_c, allowed, c_rows, slice_opts
        )
        if cover is None:
            return None
        # The street centres: re-solved with the capacity cuts their plans call for.
        s_rows.append(_Row.of(np.arange(n), None, upper=float(best.y_street.sum())))
        got_s = None
        for _ in range(_OTHER_ROUNDS):
            street = _cover_sites(
                s_pairs, self.n_demand, (~cover).astype(np.float64), self.existing_street,
                allowed, s_rows, _share(opts, 1 / 2),
            )  # fmt: skip
            if street is None:
                return None
            short = _short_groups(s_pairs, self.weights, self.street_capacity, street)
            if not short:
                got_s = _greedy_sites(
                    s_pairs, self.weights, self.street_capacity, street, allowed, opts, grow=False
                )
                break
            for group in short:
                s_rows.append(_capacity_cut(group, self.weights, self.street_capacity, 0))
                packing = _packing_cut(group, self.weights, self.street_capacity, street, 0)
                s_rows += [packing] if packing is not None else []
        if got_s is None:
            return None
        street = got_s[0]
        homes = _cover_sites(
            c_pairs,
            self.n_demand,
            np.ones(n),
            base_c | street,
            allowed,
            c_rows,
            _share(opts, 1 / 2),
        )
        if homes is None:
            return None
        got_c = _greedy_sites(c_pairs, self.weights, self.community_capacity, homes, allowed, opts)
        if got_c is None:
            return None
        plan = _Incumbent(got_s[0], got_c[0], got_s[1], got_c[1])
        return self._improved(weights, plan, opts)

    def _lp_bound(
        self,
        weights: CountObjective,
        master: _Master,
        opts: _Options,
        plan_count: tuple[float, float] | None = None,
    ) -> float:
        r"""A bound on a count level: each counted tier's capacitated cover, relaxed to an LP.

        Per tier with weight :math:`a > 0`: :math:`\min a \sum_j y_j` over (1), (2) and
        every link :math:`x_{ij} \le y_j`, with the valid cuts found on its sites; the
        links make it far stronger than residents / capacity or the cover alone where
        circles overlap.  Dropping co-location and the earlier levels' rows only relaxes,
        so the sum bounds the level.  Solved by the interior-point method, after a
        Lagrangian bound (:func:`_tier_lagrangian`, valid whenever the clock stops it) in
        :data:`_LAGRANGE_SHARE` of a tier's time; the LP is skipped when that already
        meets the tier's count in ``plan_count`` (street centres, community homes).
        ``-inf`` when the clock left no time for either.
        """
        n = self.n_sites
        lower, upper = _site_bounds(self)
        total = 0.0
        counted = int(weights[0] > 0) + int(weights[1] > 0)
        for a, pairs, cap, off in (
            (weights[0], master.street, self.street_capacity, 0),
            (weights[1], master.community, self.community_capacity, n),
        ):
            if a <= 0:
                continue
            cols = slice(off, off + n)
            rows = [
                replace(r, cols=r.cols - off)
                for r in master.rows
                if r.valid and not r.level and ((r.cols >= off) & (r.cols < off + n)).all()
            ]
            counted -= 1
            tier_opts = _share(opts, 1.0 / (counted + 1))
            # Multipliers first (a bound at any time), then the LP (stronger, if in time).
            left = max(tier_opts.deadline - time.perf_counter(), 0.0)
            target = float(plan_count[off // n] if plan_count is not None else upper[cols].sum())
            value = _tier_lagrangian(
                pairs, self.weights, cap, lower[cols], upper[cols], target,
                time.perf_counter() + _LAGRANGE_SHARE * left,
            )  # fmt: skip
            log.debug("tier %d: Lagrangian bound %.6g (plan %g)", off // n, value, target)
            if np.ceil(value - 1e-6) < target:
                lp = _tier_lp(pairs, self.weights, cap, lower[cols], upper[cols], rows, tier_opts)
                log.debug("tier %d: LP bound %.6g with %d cut(s)", off // n, lp, len(rows))
                value = max(value, lp)
            if not np.isfinite(value):
                return value
            total += a * value
        return total

    def _cuts(self, tiers: Sequence[tuple[_Pairs, F8, int]], opened: Sequence[B1]) -> list[_Row]:
        """Capacity and packing cuts for the groups of residents the open sites of each tier
        cannot hold (``tiers``: pairs, capacity, column offset per tier); empty if they fit
        when split."""
        new: list[_Row] = []
        for (pairs, cap, off), y in zip(tiers, opened, strict=True):
            for group in _short_groups(pairs, self.weights, cap, y):
                new.append(_capacity_cut(group, self.weights, cap, off))
                packing = _packing_cut(group, self.weights, cap, y, off)
                new += [packing] if packing is not None else []
        return new

    def _recoupled(
        self,
        weights: CountObjective,
        master: _Master,
        kept_offset: int,
        plan: _Incumbent,
        proven: float,
        opts: _Options,
    ) -> tuple[_Incumbent, float, int]:
        """A later level whose kept tier is let free again: the master on both tiers.

        On large parts a later level keeps the sites of the tier it does not count (columns
        from ``kept_offset``) where the earlier level left them, and its plan is at best the
        best for those sites.  Here the master chooses both tiers again (the earlier levels'
        rows and every valid cut so far hold): its bound holds for the level; where its
        plan's residents do not fit, valid capacity and packing cuts; and its placement of
        the kept tier is planned exactly (:meth:`_for_kept`), a new plan where it is
        smaller.  Each master solve may take half of the time left, at most
        :data:`_RECOUPLED_MASTER_S`; the rounds stop when the plan meets the bound, when the
        master finds no plan in its time, when its plan serves as it is (or no valid cut
        removes it), or at ``opts.deadline``.  Returns (plan, bound, rounds).
        """
        n = self.n_sites
        cost = np.repeat(np.asarray(weights, dtype=np.float64), n)
        integral = _integral(*weights)
        tiers = (
            (master.street, self.street_capacity, 0),
            (master.community, self.community_capacity, n),
        )
        best = plan
        tried: set[bytes] = set()
        rounds = 0
        while time.perf_counter() < opts.deadline:
            target = float(np.ceil(proven - 1e-6)) if integral else proven
            if best.count(weights) <= target + 1e-9:
                break
            rounds += 1
            start = np.concatenate([best.y_street, best.y_community])
            slice_opts = _share(opts, 0.5)
            slice_opts = replace(
                slice_opts,
                deadline=min(slice_opts.deadline, time.perf_counter() + _RECOUPLED_MASTER_S),
            )
            found = master.solve(cost, slice_opts, start)
            if found.status != "infeasible":
                proven = max(proven, found.bound)
            if found.y is None:
                break
            y_s, y_c = found.y[:n], found.y[n:]
            new = self._cuts(tiers, (y_s, y_c))
            if not new:
                done = [
                    _assign(pairs, self.weights, cap, y, opts)
                    for (pairs, cap, _), y in zip(tiers, (y_s, y_c), strict=True)
                ]
                if done[0].x is not None and done[1].x is not None:
                    served = _Incumbent(y_s, y_c, done[0].x, done[1].x)
                    if served.count(weights) < best.count(weights) - 1e-9:
                        best = served
                    break
                for (pairs, cap, off), y, got in zip(tiers, (y_s, y_c), done, strict=True):
                    if got.x is None:
                        _, groups = _margin_groups(pairs, self.weights, cap, y)
                        packs = [_packing_cut(g, self.weights, cap, y, off) for g in groups]
                        new += [row for row in packs if row is not None]
                if not new:
                    break  # no valid cut: the master would return these sites again
            for row in new:
                master.add_row(row)
            kept = y_s if kept_offset == 0 else y_c
            key = np.packbits(kept).tobytes()
            if key in tried:
                continue
            tried.add(key)
            planned = self._for_kept(weights, master, kept_offset, kept, opts)
            log.debug(
                "recoupled round %d: master %g (bound %.6g), %d cut(s); kept tier planned: %s",
                rounds, float(cost @ found.y), found.bound, len(new),
                planned.count(weights) if planned is not None else None,
            )  # fmt: skip
            if planned is not None and planned.count(weights) < best.count(weights) - 1e-9:
                best = planned
        return best, proven, rounds

    def _for_kept(
        self,
        weights: CountObjective,
        master: _Master,
        kept_offset: int,
        kept: B1,
        opts: _Options,
    ) -> _Incumbent | None:
        """The level's best plan with one tier's sites ``kept`` (columns from ``kept_offset``).

        The master with those columns fixed, cut (valid capacity and packing cuts, which
        stay in the master) until its plan of the other tier can be served; None if the
        kept sites do not serve their own tier, or no plan was found by ``opts.deadline``.
        A heuristic for the level (its bound holds for these sites only).
        """
        n = self.n_sites
        cost = np.repeat(np.asarray(weights, dtype=np.float64), n)
        street = kept_offset == 0
        k_pairs, k_cap = (
            (master.street, self.street_capacity)
            if street
            else (master.community, self.community_capacity)
        )
        pairs, cap, off = (
            (master.community, self.community_capacity, n)
            if street
            else (master.street, self.street_capacity, 0)
        )
        if _short_groups(k_pairs, self.weights, k_cap, kept):
            return None
        kept_x = _assign(k_pairs, self.weights, k_cap, kept, opts).x
        if kept_x is None:
            return None
        master.fix(kept_offset, kept)
        try:
            while time.perf_counter() < opts.deadline:
                found = master.solve(cost, opts)
                if found.y is None:
                    return None
                y = found.y[off : off + n]
                new: list[_Row] = []
                for group in _short_groups(pairs, self.weights, cap, y):
                    new.append(_capacity_cut(group, self.weights, cap, off))
                    packing = _packing_cut(group, self.weights, cap, y, off)
                    new += [packing] if packing is not None else []
                if not new:
                    got = _assign(pairs, self.weights, cap, y, opts)
                    if got.x is not None:
                        if street:
                            return _Incumbent(kept, y, kept_x, got.x)
                        return _Incumbent(y, kept, got.x, kept_x)
                    _, groups = _margin_groups(pairs, self.weights, cap, y)
                    packs = [_packing_cut(g, self.weights, cap, y, off) for g in groups]
                    new = [row for row in packs if row is not None]
                    if not new:
                        return None
                for row in new:
                    master.add_row(row)
            return None
        finally:
            master.fix(kept_offset, None)

    def _repaired(
        self, weights: CountObjective, y_s: B1, y_c: B1, opts: _Options
    ) -> _Incumbent | None:
        """The master's plan with sites added where residents do not fit, or None."""
        allowed = ~self.forbidden
        s_pairs, c_pairs = self._usable_pairs()
        deadline = time.perf_counter() + _GREEDY_SHARE * max(opts.deadline - time.perf_counter(), 0)
        g_opts = replace(opts, deadline=deadline)
        got_s = _greedy_sites(s_pairs, self.weights, self.street_capacity, y_s, allowed, g_opts)
        if got_s is None:
            return None
        got_c = _greedy_sites(
            c_pairs, self.weights, self.community_capacity, y_c | got_s[0], allowed, g_opts
        )
        if got_c is None:
            return None
        return _Incumbent(got_s[0], got_c[0], got_s[1], got_c[1])

    def _improved(self, weights: CountObjective, plan: _Incumbent, opts: _Options) -> _Incumbent:
        """``plan`` with sites of the tiers this level counts closed where the rest serve.

        A local search (:func:`_drop_sites`): street centres first (existing ones stay),
        then community homes (existing ones and those holding a street centre stay).  The
        plan stays feasible after every step.
        """
        a_s, a_c = weights
        s_pairs, c_pairs = self._usable_pairs()
        y_s, x_s = plan.y_street, plan.x_street
        if a_s > 0:
            y_s, x_s = _drop_sites(
                s_pairs, self.weights, self.street_capacity, y_s, x_s, self.existing_street, opts
            )
        y_c, x_c = plan.y_community, plan.x_community
        if a_c > 0:
            keep = self.existing_community | self.existing_street | y_s
            y_c, x_c = _drop_sites(
                c_pairs, self.weights, self.community_capacity, y_c, x_c, keep, opts
            )
        return _Incumbent(y_s, y_c, x_s, x_c)

    def _searched(
        self, weights: CountObjective, plan: _Incumbent, target: float, opts: _Options
    ) -> tuple[_Incumbent, int]:
        """``plan`` improved region by region by a small MIP until the deadline; (plan, tries).

        A large-neighbourhood search on the tier this level counts (community homes when
        both are counted): a random open site and the open sites sharing most demand
        points with it (added one by one) form a region; :func:`_region_mip` re-plans the
        demand points they serve on fewer sites, the rest of the plan staying.  The region
        grows by one site after HiGHS proves it has no smaller plan and shrinks by one when
        it runs out of time (an adaptive neighbourhood: on Porto's 23 community homes,
        regions of 6 or 10 sites were all proven tight in under a second, 20 sites ran
        out of 3 s, 16 found 22).  It stops at ``target`` (a proven bound) or at
        ``opts.deadline``.  Every plan it keeps is feasible (capacities, circles,
        co-location, existing sites); it proves nothing.
        """
        community = weights[1] > 0
        s_pairs, c_pairs = self._usable_pairs()
        pairs = c_pairs if community else s_pairs
        capacity = self.community_capacity if community else self.street_capacity
        by_site = _by_site(pairs, self.n_demand, self.n_sites)
        rng = np.random.default_rng(0)
        best = plan
        size = _REGION_SITES
        tries = 0
        while time.perf_counter() < opts.deadline and best.count(weights) > target + 1e-9:
            y_s, y_c = best.y_street, best.y_community
            if community:
                y, x = y_c, best.x_community
                kept = self.existing_community | self.existing_street | y_s
            else:
                y, x, kept = y_s, best.x_street, self.existing_street
            free = np.flatnonzero(y & ~kept)
            if free.size == 0:
                break
            tries += 1
            region = np.zeros(self.n_sites, dtype=bool)
            region[int(rng.choice(free))] = True
            for _ in range(size - 1):
                shared = by_site.T @ (by_site[:, region].sum(axis=1) > 0).astype(np.float64)
                shared[~y | region] = 0.0
                if shared.max(initial=0.0) <= 0:
                    break
                region[int(np.argmax(shared))] = True
            t_try = time.perf_counter()
            got, proven = _region_mip(pairs, self.weights, capacity, y, x, region, kept, opts)
            log.debug(
                "search try %d: %d sites, %s, %.2f s",
                tries, int(region.sum()),
                "fewer" if got is not None else "tight" if proven else "no plan",
                time.perf_counter() - t_try,
            )  # fmt: skip
            size = max(size + 1, 2) if proven else max(size - 1, 2)
            if got is None:
                continue
            if community:
                best = _Incumbent(y_s, got[0], best.x_street, got[1])
            else:
                # A new street centre brings a community home (co-location); its residents
                # keep their community homes.
                best = _Incumbent(got[0], y_c | got[0], got[1], best.x_community)
        return best, tries

    def _usable_pairs(self) -> tuple[_Pairs, _Pairs]:
        return (
            self._usable(self.street_pairs, self.street_capacity),
            self._usable(self.community_pairs, self.community_capacity),
        )

    # ------------------------------------------------------------------ internals
    def _usable(self, pairs: _Pairs, capacity: F8) -> _Pairs:
        """Pairs at allowed sites whose demand fits the site's capacity."""
        keep = ~self.forbidden[pairs.site] & (self.weights[pairs.demand] <= capacity[pairs.site])
        return pairs.subset(keep)

    def _unservable(self, s_pairs: _Pairs, c_pairs: _Pairs) -> tuple[I8, dict[str, object]] | None:
        """The demand points with no usable site in some tier, and why; None if there are none."""
        facts: dict[str, object] = {}
        lines: list[str] = []
        bad: list[I8] = []
        for tier, raw, usable, cut in (
            ("street", self.street_pairs, s_pairs, self.street_walk_min),
            ("community", self.community_pairs, c_pairs, self.community_walk_min),
        ):
            allowed = raw.subset(~self.forbidden[raw.site])
            in_circle = np.zeros(self.n_demand, dtype=bool)
            in_circle[allowed.demand] = True
            served = np.zeros(self.n_demand, dtype=bool)
            served[usable.demand] = True
            far = np.flatnonzero(~in_circle).astype(np.int64)
            heavy = np.flatnonzero(in_circle & ~served).astype(np.int64)
            facts[f"unreachable_{tier}"] = far
            facts[f"over_capacity_{tier}"] = heavy
            name = "street-centre" if tier == "street" else "community-home"
            circle = f"within {cut:g} min" if cut is not None else "that reaches them"
            if far.size:
                lines.append(
                    f"{far.size} demand point(s) have no allowed {name} site {circle}: {_head(far)}"
                )
            if heavy.size:
                lines.append(
                    f"{heavy.size} demand point(s) weigh more than every {name} site "
                    f"{circle} can serve: {_head(heavy)} (split them, or raise the capacity)"
                )
            bad += [far, heavy]
        if not lines:
            return None
        unreachable = np.unique(np.concatenate(bad)).astype(np.int64)
        message = "; ".join(lines)
        log.info("two-tier plan infeasible: %s", message)
        facts["message"] = message
        return unreachable, facts

    def _no_plan(
        self, stage: _Stage, stages: list[_Stage], master: _Master, seconds: float
    ) -> PlanResult:
        if stage.status == "infeasible":
            status: Status = "infeasible"
            message = (
                "no plan meets the capacities: every demand point can reach a site, but the "
                "sites within reach cannot hold them all (add candidate sites, or check the "
                "capacities and the weights)"
            )
        else:
            status = "error"
            message = f"no plan found ({stage.model_status}); raise time_limit_s"
        log.info("two-tier plan: %s", message)
        return PlanResult(
            objective=float("nan"),
            sites=np.empty(0, dtype=np.int64),
            assignment=np.full(self.n_demand, -1, dtype=np.int64),
            bound=float("nan"),
            gap=float("nan"),
            status=status,
            seconds=seconds,
            details={
                "stages": [st.public() for st in stages],
                "message": message,
                "cuts": len(master.rows),
            },
        )

    def _result(self, mip: _Mip, solution: F8, stages: list[_Stage], seconds: float) -> PlanResult:
        plan = mip.decode(solution, self)
        first = stages[0]
        a_s, a_c = self.count_objectives[0]
        objective = a_s * plan.street.size + a_c * plan.community.size
        bound = min(first.bound, objective)
        walking = stages[-1]
        walk_value = float(
            np.dot(self.weights, np.nan_to_num(plan.street_min))
            + np.dot(self.weights, np.nan_to_num(plan.community_min))
        )
        # Each resident walks at least to the nearest site of each tier it may use.
        nearest = sum(
            float(np.dot(self.weights, _nearest_min(p, self.n_demand)))
            for p in self._usable_pairs()
        )
        walk_bound = min(max(walking.bound, nearest), walk_value)
        status = max((st.status for st in stages), key=STATUS_RANK.__getitem__)
        street_set = np.zeros(self.n_sites, dtype=bool)
        street_set[plan.street] = True
        sites = plan.community  # every street centre stands with a community home
        tier = np.where(street_set[sites], STREET, COMMUNITY).astype(np.int64)
        details: dict[str, object] = {
            "street_sites": plan.street,
            "community_sites": plan.community,
            "street_assignment": plan.street_assignment,
            "street_walk_min": plan.street_min,
            "community_walk_min": plan.community_min,
            "street_load": _load(self.weights, plan.street_assignment, plan.street),
            "community_load": _load(self.weights, plan.community_assignment, plan.community),
            "count_objectives": [
                a * plan.street.size + b * plan.community.size for a, b in self.count_objectives
            ],
            "walking_objective": walk_value,
            "walking_bound": walk_bound,
            "walking_gap": _gap(walk_value, walk_bound),
            "stages": [st.public() for st in stages],
            "message": "; ".join(f"{st.kind} {st.level}: {st.model_status}" for st in stages),
            **mip.size(),
        }
        log.info(
            "two-tier plan: %d street centres, %d community homes, %.6g resident-minutes, %s",
            plan.street.size,
            plan.community.size,
            walk_value,
            status,
        )
        return PlanResult(
            objective=float(objective),
            sites=sites,
            assignment=plan.community_assignment,
            bound=bound,
            gap=_gap(objective, bound),
            status=status,
            seconds=seconds,
            tier=tier,
            details=details,
        )


# ---------------------------------------------------------------------- the models
@dataclass(frozen=True)
class _Options:
    highs: Any
    threads: int | None
    mip_gap: float
    deadline: float

    def seconds_left(self) -> float:
        return max(self.deadline - time.perf_counter(), 1e-3)


@dataclass(frozen=True)
class _Row:
    """A constraint on the site variables ``y^S`` (columns ``0..n-1``), ``y^C`` (``n..2n-1``)."""

    cols: I8
    vals: F8
    lower: float
    upper: float
    valid: bool = True
    """False for a heuristic cut, which may cut off optimal plans."""
    level: bool = False
    """A count level's result (``f_l <= f_l*``), not a cut."""

    @classmethod
    def of(
        cls,
        cols: ArrayLike,
        vals: ArrayLike | None,
        *,
        lower: float = -np.inf,
        upper: float = np.inf,
        valid: bool = True,
        level: bool = False,
    ) -> _Row:
        c = np.asarray(cols, dtype=np.int64)
        v = np.ones(c.shape[0]) if vals is None else np.asarray(vals, dtype=np.float64)
        keep = v != 0
        return cls(c[keep], v[keep], float(lower), float(upper), valid, level)


@dataclass(frozen=True)
class _Incumbent:
    """A plan: open sites per tier and the chosen pairs (masks over the usable pairs)."""

    y_street: B1
    y_community: B1
    x_street: B1
    x_community: B1

    def count(self, weights: CountObjective) -> float:
        return float(weights[0] * self.y_street.sum() + weights[1] * self.y_community.sum())

    def vector(self) -> F8:
        """The plan as the full MIP's columns (:class:`_Mip`)."""
        return np.concatenate(
            [self.y_street, self.y_community, self.x_street, self.x_community]
        ).astype(np.float64)

    @classmethod
    def of(cls, solution: F8, mip: _Mip) -> _Incumbent:
        """The plan of the full MIP's columns."""
        on = solution > 0.5
        n, xc = mip.n_sites, 2 * mip.n_sites + mip.street.n
        return cls(on[:n], on[n : 2 * n], on[2 * n : xc], on[xc:])


@dataclass(frozen=True)
class _Found:
    y: B1 | None
    bound: float
    status: Status
    model_status: str
    nodes: int


class _Master:
    """The site variables alone, with the covering rows: a relaxation of the plan.

    Columns ``y^S`` then ``y^C``; rows: each demand point has an open site of each tier
    within its circle (the assignment rows summed over a point's pairs), co-location, and
    the rows added later (capacity cuts, count levels).  Every valid row holds for the full
    model, so with only those the master's optimum bounds each count level from below.
    """

    def __init__(self, plan: TwoTierPlan, street: _Pairs, community: _Pairs, opts: _Options):
        from scipy import sparse

        self.street = street
        self.community = community
        self.opts = opts
        self.rows: list[_Row] = []
        n, m = plan.n_sites, plan.n_demand
        site = np.arange(n, dtype=np.int64)
        # Demand points reaching the same sites give the same covering row: one is enough.
        street = street.subset(_first_of_equal_rows(street, m, n)[street.demand])
        community = community.subset(_first_of_equal_rows(community, m, n)[community.demand])
        rows = np.concatenate([street.demand, m + community.demand, 2 * m + site, 2 * m + site])
        cols = np.concatenate([street.site, n + community.site, site, n + site])
        vals = np.concatenate([np.ones(street.n + community.n), np.ones(n), -np.ones(n)])
        self.a = sparse.csc_array((vals, (rows, cols)), shape=(2 * m + n, 2 * n))
        self.a.sort_indices()
        covers = np.zeros(2 * m)
        covers[street.demand] = 1.0
        covers[m + community.demand] = 1.0
        self.row_lower = np.concatenate([covers, np.full(n, -np.inf)])
        self.row_upper = np.concatenate([np.full(2 * m, np.inf), np.zeros(n)])
        self.col_lower, self.col_upper = _site_bounds(plan)
        self.n_cols = 2 * n
        self.h = self._load()

    def _load(self) -> highspy.Highs:
        h = _new_highs(self.opts)
        highs = self.opts.highs
        _ok(
            h.passModel(
                self.n_cols,
                int(self.a.shape[0]),
                int(self.a.nnz),
                int(highs.MatrixFormat.kColwise),
                int(highs.ObjSense.kMinimize),
                0.0,
                np.zeros(self.n_cols),
                self.col_lower,
                self.col_upper,
                self.row_lower,
                self.row_upper,
                self.a.indptr.astype(np.int64),
                self.a.indices.astype(np.int64),
                self.a.data.astype(np.float64),
                np.full(self.n_cols, int(highs.HighsVarType.kInteger), dtype=np.int64),
            ),
            "passModel (master)",
        )
        for row in self.rows:
            _add_row(h, row)
        return h

    def add_row(self, row: _Row) -> None:
        self.rows.append(row)
        _add_row(self.h, row)

    def fix(self, offset: int, values: B1 | None) -> None:
        """Fix the site columns ``offset..offset+n-1`` to ``values`` (None: free them again)."""
        n = self.n_cols // 2
        cols = np.arange(offset, offset + n, dtype=np.int64)
        if values is None:
            lower, upper = self.col_lower[cols], self.col_upper[cols]
        else:
            lower = upper = values.astype(np.float64)
        _ok(self.h.changeColsBounds(n, cols, lower, upper), "changeColsBounds (master)")

    def relaxed_bound(
        self, cost: F8, keep_offset: int, start: B1, opts: _Options
    ) -> tuple[float, B1 | None]:
        """A bound on ``cost`` over the kept tier's rows alone: a relaxation of the level.

        The other tier's covering rows, the rows on its columns and the earlier levels'
        rows are left out, so the kept tier's sites are chosen as if the other tier did not
        exist (co-location and existing centres stay).  Easy where the coupled master is
        hard; every plan of the level is feasible here, so its optimum bounds the level.
        """
        n = self.n_cols // 2
        m = (self.a.shape[0] - n) // 2
        lower = self.row_lower.copy()
        other = slice(m, 2 * m) if keep_offset == 0 else slice(0, m)
        lower[other] = 0.0
        keep_cols = np.zeros(self.n_cols, dtype=bool)
        keep_cols[keep_offset : keep_offset + n] = True
        rows = [r for r in self.rows if r.valid and not r.level and keep_cols[r.cols].all()]
        h = _new_highs(opts)
        highs = opts.highs
        _ok(
            h.passModel(
                self.n_cols,
                int(self.a.shape[0]),
                int(self.a.nnz),
                int(highs.MatrixFormat.kColwise),
                int(highs.ObjSense.kMinimize),
                0.0,
                cost,
                self.col_lower,
                self.col_upper,
                lower,
                self.row_upper,
                self.a.indptr.astype(np.int64),
                self.a.indices.astype(np.int64),
                self.a.data.astype(np.float64),
                np.full(self.n_cols, int(highs.HighsVarType.kInteger), dtype=np.int64),
            ),
            "passModel (relaxed master)",
        )
        for row in rows:
            _add_row(h, row)
        cols = np.arange(self.n_cols, dtype=np.int64)
        _ok(h.setSolution(self.n_cols, cols, start.astype(np.float64)), "setSolution")
        _ok(h.setOptionValue("time_limit", opts.seconds_left()), "time_limit")
        h.run()
        name = getattr(h.getModelStatus(), "name", "")
        if name == "kInfeasible":
            return np.inf, None
        info = h.getInfo()
        bound = float(info.mip_dual_bound)
        sol = h.getSolution()
        y = (
            np.asarray(sol.col_value) > 0.5
            if name == "kOptimal" and sol.value_valid and int(info.primal_solution_status) == 2
            else None
        )
        return (bound if np.isfinite(bound) else -np.inf), y

    def drop_heuristic_rows(self) -> None:
        """Forget the heuristic cuts (they held for one level only)."""
        self.rows = [row for row in self.rows if row.valid]
        self.h = self._load()

    def solve(self, cost: F8, opts: _Options, start: B1 | None = None) -> _Found:
        cols = np.arange(self.n_cols, dtype=np.int64)
        _ok(self.h.changeColsCost(self.n_cols, cols, cost), "changeColsCost (master)")
        if start is not None:
            # A plan that meets every row so far: HiGHS starts from it instead of searching.
            _ok(self.h.setSolution(self.n_cols, cols, start.astype(np.float64)), "setSolution")
        _ok(self.h.setOptionValue("time_limit", opts.seconds_left()), "time_limit")
        self.h.run()
        model_status = self.h.getModelStatus()
        name = getattr(model_status, "name", str(model_status))
        info = self.h.getInfo()
        sol = self.h.getSolution()
        has_plan = bool(sol.value_valid) and int(info.primal_solution_status) == 2
        y = np.asarray(sol.col_value) > 0.5 if has_plan else None
        if start is not None and y is not None and name == "kOptimal":
            value = float(cost @ y)
            claimed = float(info.objective_function_value)
            if value > claimed + 1e-6 * max(1.0, abs(claimed)) + 1e-9:
                # HiGHS 1.16 can report "optimal" with an objective below the plan it returns
                # (the start), and a bound below the true optimum: solve again without it.
                log.debug("master: start returned as optimal (%g < %g); re-solving", claimed, value)
                _ok(self.h.clearSolver(), "clearSolver (master)")
                return self.solve(cost, opts, None)
        status = _status(name, has_plan)
        if status == "error":
            raise SolverError(
                f"HiGHS failed on the site model: {self.h.modelStatusToString(model_status)}"
            )
        return _Found(
            y=y,
            bound=float(info.mip_dual_bound) if status != "infeasible" else np.inf,
            status=status,
            model_status=self.h.modelStatusToString(model_status),
            nodes=int(info.mip_node_count),
        )


def _first_of_equal_rows(pairs: _Pairs, n_demand: int, n_sites: int) -> B1:
    """Per demand point: False if an earlier point reaches exactly the same sites."""
    first, _ = _equal_rows(pairs, n_demand, n_sites)
    keep = np.zeros(n_demand, dtype=bool)
    keep[first] = True
    return keep


def _equal_rows(pairs: _Pairs, n_demand: int, n_sites: int) -> tuple[I8, I8]:
    """Demand points grouped by the sites they reach: each group's first point, each point's group.

    Two random keys per site summed over a point's sites, and the count, identify the set.
    """
    rng = np.random.default_rng(0)
    keys = rng.random((2, n_sites))
    h = np.zeros((n_demand, 3))
    for k in range(2):
        np.add.at(h[:, k], pairs.demand, keys[k][pairs.site])
    h[:, 2] = np.bincount(pairs.demand, minlength=n_demand)
    _, first, group = np.unique(h, axis=0, return_index=True, return_inverse=True)
    return first.astype(np.int64), np.ravel(group).astype(np.int64)


def _cover_sites(
    pairs: _Pairs,
    n_demand: int,
    cost: F8,
    lower: B1,
    upper: B1,
    rows: Sequence[_Row],
    opts: _Options,
) -> B1 | None:
    """The cheapest sites of one tier reaching every demand point (a set cover), or None.

    Sites ``lower`` open, sites outside ``upper`` shut, ``rows`` (on this tier's columns
    ``0..n-1``) kept.  The best plan HiGHS finds by ``opts.deadline``: a heuristic step.
    """
    from scipy import sparse

    n = int(cost.shape[0])
    keep = pairs.subset(_first_of_equal_rows(pairs, n_demand, n)[pairs.demand])
    covered = np.unique(keep.demand)
    row_of = np.full(n_demand, -1, dtype=np.int64)
    row_of[covered] = np.arange(covered.shape[0])
    a = sparse.csc_array(
        (np.ones(keep.n), (row_of[keep.demand], keep.site)), shape=(covered.shape[0], n)
    )
    a.sort_indices()
    highs = opts.highs
    h = _new_highs(opts)
    _ok(
        h.passModel(
            n,
            int(a.shape[0]),
            int(a.nnz),
            int(highs.MatrixFormat.kColwise),
            int(highs.ObjSense.kMinimize),
            0.0,
            cost.astype(np.float64),
            lower.astype(np.float64),
            upper.astype(np.float64),
            np.ones(a.shape[0]),
            np.full(a.shape[0], np.inf),
            a.indptr.astype(np.int64),
            a.indices.astype(np.int64),
            a.data.astype(np.float64),
            np.full(n, int(highs.HighsVarType.kInteger), dtype=np.int64),
        ),
        "passModel (cover)",
    )
    for row in rows:
        _add_row(h, row)
    _ok(h.setOptionValue("time_limit", opts.seconds_left()), "time_limit")
    h.run()
    sol = h.getSolution()
    if not (bool(sol.value_valid) and int(h.getInfo().primal_solution_status) == 2):
        return None
    return np.asarray(sol.col_value) > 0.5


def _tier_lp(
    pairs: _Pairs,
    weights: F8,
    capacity: F8,
    lower: F8,
    upper: F8,
    rows: Sequence[_Row],
    opts: _Options,
) -> float:
    """The LP relaxation of one tier's capacitated cover with every link ``x_ij <= y_j``.

    Columns ``y`` (sites, bounds ``lower``/``upper``) then ``x`` (pairs); rows (1), (2),
    the links and ``rows`` (on the sites).  Returns a value a little below the LP's optimum
    (the interior-point method stops within its tolerance), ``inf`` if the LP is
    infeasible, ``-inf`` if it is not solved in time.
    """
    from scipy import sparse

    pairs, weights = _merged_equal_rows(pairs, weights, int(capacity.shape[0]))
    n, m, k = int(capacity.shape[0]), int(weights.shape[0]), pairs.n
    x = n + np.arange(k, dtype=np.int64)
    link = m + n + np.arange(k, dtype=np.int64)
    a = sparse.csc_array(
        (
            np.concatenate([np.ones(k), weights[pairs.demand], -capacity, np.ones(k), -np.ones(k)]),
            (
                np.concatenate([pairs.demand, m + pairs.site, m + np.arange(n), link, link]),
                np.concatenate([x, x, np.arange(n), x, pairs.site]),
            ),
        ),
        shape=(m + n + k, n + k),
    )
    a.sort_indices()
    highs = opts.highs
    h = _new_highs(opts)
    _ok(
        h.passModel(
            n + k,
            int(a.shape[0]),
            int(a.nnz),
            int(highs.MatrixFormat.kColwise),
            int(highs.ObjSense.kMinimize),
            0.0,
            np.concatenate([np.ones(n), np.zeros(k)]),
            np.concatenate([lower, np.zeros(k)]),
            np.concatenate([upper, np.ones(k)]),
            np.concatenate([np.ones(m), np.full(n + k, -np.inf)]),
            np.concatenate([np.ones(m), np.zeros(n + k)]),
            a.indptr.astype(np.int64),
            a.indices.astype(np.int64),
            a.data.astype(np.float64),
            np.full(n + k, int(highs.HighsVarType.kContinuous), dtype=np.int64),
        ),
        "passModel (tier LP)",
    )
    for row in rows:
        _add_row(h, row)
    _ok(h.setOptionValue("solver", "ipm"), "setOptionValue solver")
    _ok(h.setOptionValue("run_crossover", "off"), "setOptionValue run_crossover")
    _ok(h.setOptionValue("time_limit", opts.seconds_left()), "time_limit")
    h.run()
    name = getattr(h.getModelStatus(), "name", "")
    if name == "kInfeasible":
        return np.inf
    if name != "kOptimal":
        return -np.inf
    value = float(h.getInfo().objective_function_value)
    return value - _LP_SLACK * max(1.0, abs(value))


def _merged_equal_rows(pairs: _Pairs, weights: F8, n_sites: int) -> tuple[_Pairs, F8]:
    """One demand point per set of points reaching the same sites: its pairs, summed weights.

    The tier's LP keeps its value (the merged point's split assignment is its members'),
    with fewer rows and columns.
    """
    m = int(weights.shape[0])
    first, group = _equal_rows(pairs, m, n_sites)
    merged = np.bincount(group, weights=weights, minlength=first.shape[0])
    at = np.full(m, -1, dtype=np.int64)
    at[first] = np.arange(first.shape[0])
    kept = pairs.subset(at[pairs.demand] >= 0)
    return _Pairs(at[kept.demand], kept.site, kept.walk_min), merged.astype(np.float64)


def _tier_lagrangian(
    pairs: _Pairs,
    weights: F8,
    capacity: F8,
    lower: F8,
    upper: F8,
    target: float,
    deadline: float,
) -> float:
    r"""A bound on one tier's count: the assignment rows (1) relaxed with multipliers.

    For multipliers :math:`u \ge 0` on :math:`\sum_j x_{ij} \ge 1` (the count is not
    lowered by serving a point twice), the relaxation falls apart by site: a site opens
    when :math:`1 - K_j(u) < 0` (or is kept), :math:`K_j` being the best fractional
    knapsack of the :math:`u_i` of the points it reaches, weights :math:`w_i`, capacity
    :math:`Q_j`, each taken at most once (the links).  Every :math:`u` gives a valid bound
    :math:`\sum_i u_i + \sum_j \min(0, 1 - K_j)` (at most the LP of :func:`_tier_lp`);
    :math:`u` follows subgradient steps towards ``target`` (a plan's count) until
    ``deadline``, so the bound is good at any time.  Returns the best bound found.
    """
    pairs, w = _merged_equal_rows(pairs, weights, int(capacity.shape[0]))
    n, m = int(capacity.shape[0]), int(w.shape[0])
    if pairs.n == 0 or m == 0:
        return float(lower.sum())
    keep = upper[pairs.site] > 0
    pairs = pairs.subset(keep)
    degree = np.bincount(pairs.demand, minlength=m).astype(np.float64)
    u = 1.0 / np.maximum(degree, 1.0)
    wk = w[pairs.demand]
    qk = capacity[pairs.site]
    best = -np.inf
    step = _LAGRANGE_STEP
    stale = 0
    for _ in range(_LAGRANGE_ROUNDS):
        if time.perf_counter() >= deadline:
            break
        uk = u[pairs.demand]
        ratio = np.where(wk > 0, uk / np.maximum(wk, 1e-300), np.inf)
        order = np.lexsort((-ratio, pairs.site))
        site, uo, wo, qo = pairs.site[order], uk[order], wk[order], qk[order]
        start = np.r_[0, np.flatnonzero(site[1:] != site[:-1]) + 1]
        cw = np.cumsum(wo)
        cw -= np.repeat(cw[start] - wo[start], np.diff(np.r_[start, site.shape[0]]))
        room = qo - (cw - wo)
        x = np.where(wo > 0, np.clip(room / np.maximum(wo, 1e-300), 0.0, 1.0), 1.0)
        x[uo <= 0] = 0.0
        k_value = np.bincount(site, weights=uo * x, minlength=n)
        reduced = 1.0 - k_value
        opened = (lower > 0) | ((reduced < 0) & (upper > 0))
        value = float(u.sum() + reduced[opened].sum())
        if value > best + 1e-9:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= _LAGRANGE_PATIENCE:
                step, stale = step / 2, 0
                if step < 1e-4:
                    break
        served = np.bincount(pairs.demand[order], weights=x * opened[site], minlength=m)
        g = 1.0 - served
        g[(u <= 0) & (g < 0)] = 0.0
        norm = float(g @ g)
        if norm <= 1e-12:
            break  # the relaxed plan meets (1): its bound is the LP's
        u = np.maximum(u + step * max(target - value, 1e-3) / norm * g, 0.0)
    return best - _LP_SLACK * max(1.0, abs(best))


def _site_bounds(plan: TwoTierPlan) -> tuple[F8, F8]:
    """(5): existing centres kept (a street centre brings its community home), forbidden shut."""
    lower = np.concatenate(
        [plan.existing_street, plan.existing_community | plan.existing_street]
    ).astype(np.float64)
    upper = np.concatenate([~plan.forbidden, ~plan.forbidden]).astype(np.float64)
    return lower, upper


def _short_groups(pairs: _Pairs, weights: F8, capacity: F8, open_: B1) -> list[tuple[I8, I8]]:
    """Groups of demand points whose open sites within reach cannot hold them, or none.

    A maximum flow from the demand points (supplying their residents) through their pairs
    at open sites to the sites (holding their capacity) tells whether the residents fit even
    when split; if not, the demand points on the source side of a minimum cut, grouped by
    the open sites joining them, include groups ``D`` with ``w(D) > sum of Q_j`` over the
    open sites they reach.  Returns ``(D, N(D))`` per group, ``N(D)`` being every site
    (open or not) some member reaches.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

    m, n = int(weights.shape[0]), int(capacity.shape[0])
    total = float(weights.sum())
    if total <= 0:
        return []
    live = pairs.subset(open_[pairs.site])
    # scipy's flow works in int32: residents scaled so that all of them fit.
    scale = float(2**30) / total
    w_int = np.ceil(weights * scale).astype(np.int64)
    q_int = np.floor(np.minimum(capacity, total) * scale).astype(np.int64) * open_
    src, snk = m + n, m + n + 1
    big = np.iinfo(np.int32).max
    graph = sparse.csr_array(
        (
            np.concatenate([w_int, np.full(live.n, big), q_int]).astype(np.int32),
            (
                np.concatenate([np.full(m, src), live.demand, m + np.arange(n)]),
                np.concatenate([np.arange(m), m + live.site, np.full(n, snk)]),
            ),
        ),
        shape=(m + n + 2, m + n + 2),
    )
    supply = graph.indptr[src]  # the source's arcs, to the demand points in order
    groups: list[tuple[I8, I8]] = []
    for _ in range(_HALL_FLOWS):
        flow = maximum_flow(graph, src, snk)
        if flow.flow_value >= int(graph.data[supply : supply + m].sum()):
            break
        residual = (graph - flow.flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int8)
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, src, directed=True, return_predecessors=False)
        side = np.zeros(m + n + 2, dtype=bool)
        side[reached] = True
        side[src] = False
        demand = np.flatnonzero(side[:m])
        group_pairs = live.subset(side[live.demand])
        # Groups: demand points joined through open sites they share.
        link = sparse.coo_array(
            (np.ones(group_pairs.n), (group_pairs.demand, m + group_pairs.site)),
            shape=(m + n, m + n),
        )
        _, label = connected_components(link, directed=False)
        found = 0
        for g in np.unique(label[demand]):
            members = demand[label[demand] == g]
            need = float(weights[members].sum())
            mine = np.zeros(m, dtype=bool)
            mine[members] = True
            reach = np.unique(pairs.site[mine[pairs.demand]])
            have = float(capacity[reach[open_[reach]]].sum())
            if need > have * (1 + 1e-9) + 1e-9:
                groups.append((members.astype(np.int64), reach.astype(np.int64)))
                found += 1
        if not found:
            break
        # Look for further groups among the others: these ones supply nothing now.
        graph.data[supply + demand] = 0
    return groups


def _capacity_cut(
    group: tuple[I8, I8], weights: F8, capacity: F8, offset: int, *, valid: bool = True
) -> _Row:
    """``sum_{j in N(D)} min(Q_j, w(D)) y_j >= w(D)``: the group's residents fit within reach.

    Valid for every plan: the members can only be served by the sites they reach.
    """
    members, reach = group
    need = float(weights[members].sum())
    return _Row.of(offset + reach, np.minimum(capacity[reach], need), lower=need, valid=valid)


def _packing_cut(
    group: tuple[I8, I8], weights: F8, capacity: F8, open_: B1, offset: int
) -> _Row | None:
    """``sum_{j in N(D)} y_j >= L``: enough sites to hold the members whole, if this cuts.

    ``L`` is Martello and Toth's lower bound L2 on the bins of size ``max Q_j`` the
    members' residents need when none may be split (:func:`_bins_needed`); valid for every
    plan.  None when the open sites already number ``L``.
    """
    members, reach = group
    need = _bins_needed(weights[members], float(capacity[reach].max()))
    if need <= int(open_[reach].sum()):
        return None
    return _Row.of(offset + reach, None, lower=float(need))


def _bins_needed(sizes: F8, q: float) -> int:
    """Martello and Toth's bound L2 on the bins of size ``q`` that hold items ``sizes`` whole."""
    s = np.asarray(sizes, dtype=np.float64)
    tol = 1e-9 * q
    best = int(np.ceil(s.sum() / q - 1e-9))
    alphas = np.unique(np.concatenate([[0.0], s[s <= q / 2 + tol]]))
    for a in alphas:
        big = s > q - a + tol
        mid = (s > q / 2 + tol) & ~big
        small = (s >= a - tol) & (s <= q / 2 + tol)
        room = mid.sum() * q - s[mid].sum()
        extra = max(0, int(np.ceil((s[small].sum() - room) / q - 1e-9)))
        best = max(best, int(big.sum() + mid.sum()) + extra)
    return best


_HALL_FLOWS = 20
"""Maximum flows per call of :func:`_short_groups` (each finds more groups, fewer rounds)."""


def _margin_groups(
    pairs: _Pairs, weights: F8, capacity: F8, open_: B1
) -> tuple[float, list[tuple[I8, I8]]]:
    """The groups that would overflow at ``1 - margin`` of their capacity, and the margin.

    The fullest groups of open sites when the residents fit split but no single-site
    assignment was found: where to look for a packing cut, or (heuristically) to ask for a
    margin of free capacity.
    """
    for margin in _MARGINS:
        groups = _short_groups(pairs, weights, capacity * (1 - margin), open_)
        if groups:
            return margin, groups
    return 0.0, []


_MARGINS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
"""Free-capacity margins tried, smallest first, by :func:`_margin_groups`."""


@dataclass(frozen=True)
class _Assigned:
    x: B1 | None
    """Mask over the tier's usable pairs: the pair serving each demand point."""
    proven_infeasible: bool


def _assign(pairs: _Pairs, weights: F8, capacity: F8, open_: B1, opts: _Options) -> _Assigned:
    """Each demand point to one open site within its circle, within capacity, walking least.

    A generalised assignment problem on the open sites' pairs.  Its LP relaxation (a
    transportation problem) leaves at most about one demand point per full site split
    between sites; those points, and the points settled at the sites they can reach, are
    then assigned by a small MIP in the capacity the others leave (widening twice if that
    fails).  Only then is the whole assignment solved as a MIP (to
    :data:`_ASSIGN_GAP`: it starts the walking stage, it proves nothing).
    """
    m = int(weights.shape[0])
    live_at = np.flatnonzero(open_[pairs.site])
    live = pairs.subset(open_[pairs.site])
    reached = np.zeros(m, dtype=bool)
    reached[live.demand] = True
    if not reached.all():
        return _Assigned(None, proven_infeasible=True)
    everyone = np.ones(m, dtype=bool)
    lp, lp_infeasible = _solve_assignment(live, weights, capacity, everyone, opts, integer=False)
    if lp is None:
        # An LP stopped by the clock proves nothing; an infeasible one: not even split fits.
        return _Assigned(None, proven_infeasible=lp_infeasible)
    whole = lp > 1 - 1e-6
    settled = np.zeros(m, dtype=bool)
    settled[live.demand[whole]] = True
    split = ~settled
    x = whole & settled[live.demand]
    # Reopen ever more: the split points; also the points at the sites splitting them; also
    # those at every site the split points reach.  Assign them in the capacity left.
    for widen in range(3):
        if settled.all():
            break
        near = np.zeros(capacity.shape[0], dtype=bool)
        if widen == 1:
            near[live.site[split[live.demand] & (lp > 1e-9)]] = True
        elif widen == 2:
            near[live.site[split[live.demand]]] = True
        free = split | ~settled
        free[live.demand[x & near[live.site]]] = True
        keep = x & ~free[live.demand]
        used = np.bincount(
            live.site[keep], weights=weights[live.demand[keep]], minlength=capacity.shape[0]
        )
        rest, _ = _solve_assignment(
            live, weights, capacity - used, free, opts, integer=True, seconds=_REPAIR_S
        )
        if rest is not None:
            x = keep | (rest > 0.5)
            settled[:] = True
    if not settled.all():
        full, infeasible = _solve_assignment(
            live, weights, capacity, everyone, opts, integer=True, seconds=_ASSIGN_S
        )
        if full is None:
            return _Assigned(None, proven_infeasible=infeasible)
        x = full > 0.5
    mask = np.zeros(pairs.n, dtype=bool)
    mask[live_at[x]] = True
    return _Assigned(mask, proven_infeasible=False)


def _solve_assignment(
    live: _Pairs,
    weights: F8,
    capacity: F8,
    todo: B1,
    opts: _Options,
    *,
    integer: bool,
    seconds: float = np.inf,
) -> tuple[F8 | None, bool]:
    """The assignment of the demand points ``todo`` (LP or MIP).

    Returns x per pair (None if no solution was found) and whether HiGHS proved that
    there is none.
    """
    from scipy import sparse

    keep = todo[live.demand]
    k = np.flatnonzero(keep)
    demand = live.demand[k]
    sites, rank = np.unique(live.site[k], return_inverse=True)
    rows, first_row = np.unique(demand, return_inverse=True)
    n_k = int(k.shape[0])
    cols = np.arange(n_k, dtype=np.int64)
    a = sparse.csc_array(
        (
            np.concatenate([np.ones(n_k), weights[demand]]),
            (np.concatenate([first_row, rows.shape[0] + rank]), np.concatenate([cols, cols])),
        ),
        shape=(rows.shape[0] + sites.shape[0], n_k),
    )
    a.sort_indices()
    highs = opts.highs
    h = _new_highs(opts, mip_gap=max(opts.mip_gap, _ASSIGN_GAP))
    kind = highs.HighsVarType.kInteger if integer else highs.HighsVarType.kContinuous
    _ok(
        h.passModel(
            n_k,
            int(a.shape[0]),
            int(a.nnz),
            int(highs.MatrixFormat.kColwise),
            int(highs.ObjSense.kMinimize),
            0.0,
            weights[demand] * live.walk_min[k],
            np.zeros(n_k),
            np.ones(n_k),
            np.concatenate([np.ones(rows.shape[0]), np.full(sites.shape[0], -np.inf)]),
            np.concatenate([np.ones(rows.shape[0]), np.maximum(capacity[sites], 0.0)]),
            a.indptr.astype(np.int64),
            a.indices.astype(np.int64),
            a.data.astype(np.float64),
            np.full(n_k, int(kind), dtype=np.int64),
        ),
        "passModel (assignment)",
    )
    _ok(h.setOptionValue("time_limit", min(opts.seconds_left(), seconds)), "time_limit")
    h.run()
    infeasible = getattr(h.getModelStatus(), "name", "") == "kInfeasible"
    sol = h.getSolution()
    if not (bool(sol.value_valid) and int(h.getInfo().primal_solution_status) == 2):
        return None, infeasible
    x = np.zeros(live.n)
    x[k] = np.asarray(sol.col_value, dtype=np.float64)
    return x, False


def _greedy_sites(
    pairs: _Pairs,
    weights: F8,
    capacity: F8,
    open_: B1,
    allowed: B1,
    opts: _Options,
    *,
    grow: bool = True,
) -> tuple[B1, B1] | None:
    """Open sites greedily until every demand point can be assigned; (open, x) or None.

    Starting from ``open_`` (kept open), the allowed site reaching most residents not yet
    within reach of an open site (at most its capacity) opens, until every demand point
    has one (Chvátal's greedy set cover).  Then, while the residents do not fit (a group of
    :func:`_short_groups`, or the fullest groups when no whole assignment is found), the
    site reaching most of a short group's residents opens in each.  ``grow=False`` only
    checks ``open_``.  A heuristic: it proves nothing.
    """
    m, n = int(weights.shape[0]), int(capacity.shape[0])
    y = open_ & allowed
    by_site = _by_site(pairs, m, n)
    covered = np.zeros(m, dtype=bool)
    covered[pairs.demand[y[pairs.site]]] = True
    if grow:
        tiny = 1e-6 * max(float(weights.max(initial=0.0)), 1.0)  # weightless points count too
        while not covered.all():
            left = np.where(covered, 0.0, weights + tiny)
            score = np.minimum(by_site.T @ left, capacity + tiny)
            score[~allowed | y] = -1.0
            j = int(np.argmax(score))
            if score[j] <= 0:
                return None
            y[j] = True
            covered[by_site.indices[by_site.indptr[j] : by_site.indptr[j + 1]]] = True
    elif not covered.all():
        return None
    for _ in range(_GREEDY_REPAIRS):
        if time.perf_counter() >= opts.deadline:
            return None
        groups = _short_groups(pairs, weights, capacity, y)
        if not groups:
            done = _assign(pairs, weights, capacity, y, opts)
            if done.x is not None:
                return y, done.x
            _, groups = _margin_groups(pairs, weights, capacity, y)
        if not grow or not groups:
            return None
        for members, reach in groups:
            cand = reach[allowed[reach] & ~y[reach]]
            if cand.size == 0:
                return None
            mine = np.zeros(m)
            mine[members] = weights[members] + 1e-9
            got = by_site[:, cand].T @ mine
            y[cand[int(np.argmax(got))]] = True
    return None


def _by_site(pairs: _Pairs, n_demand: int, n_sites: int) -> Any:
    """The pairs as a 0/1 matrix demand points x sites, column-wise (the points per site)."""
    from scipy import sparse

    return sparse.csc_array(
        (np.ones(pairs.n), (pairs.demand, pairs.site)), shape=(n_demand, n_sites)
    )


def _region_mip(
    pairs: _Pairs,
    weights: F8,
    capacity: F8,
    open_: B1,
    x: B1,
    region: B1,
    keep: B1,
    opts: _Options,
) -> tuple[tuple[B1, B1] | None, bool]:
    """The residents of the ``region``'s open sites re-planned on fewer sites.

    Returns ((open, x) or None, whether HiGHS proved that the region has no smaller plan).
    A capacitated set cover on the demand points ``D`` that the region's sites serve
    (under ``x``): each point of ``D`` goes to one site within its circle.  The sites open
    outside the region stay open and lend the capacity their other residents leave; every
    other site reaching ``D`` (the region's, closed ones) may open at its full capacity,
    those in ``keep`` must; at most one site fewer than the region's may open.  The cover
    rows (3) give the relaxation its strength; weightless points get the link
    ``x_ij <= y_j``.  The rest of the plan is untouched, so the plan returned is feasible
    wherever the current one was.  No plan in :data:`_REGION_S` seconds proves nothing.
    """
    from scipy import sparse

    m, n = int(weights.shape[0]), int(capacity.shape[0])
    d = np.zeros(m, dtype=bool)
    d[pairs.demand[x & region[pairs.site]]] = True
    fixed_open = open_ & ~region
    # Capacity the sites open outside the region have left after their other residents.
    other = x & ~d[pairs.demand]
    used = np.bincount(pairs.site[other], weights=weights[pairs.demand[other]], minlength=n)
    live = d[pairs.demand] & (
        ~fixed_open[pairs.site] | (weights[pairs.demand] <= capacity[pairs.site] - used[pairs.site])
    )
    k = np.flatnonzero(live)
    demand, site = pairs.demand[k], pairs.site[k]
    rows, row = np.unique(demand, return_inverse=True)
    sites, rank = np.unique(site, return_inverse=True)
    choose = ~fixed_open[sites]  # a y column per site that may open or close
    y_col = np.cumsum(choose) - 1
    n_x, n_y, n_d, n_s = int(k.shape[0]), int(choose.sum()), int(rows.shape[0]), int(sites.shape[0])
    x_cols = np.arange(n_x, dtype=np.int64)
    linked = choose[rank]
    # As in the full MIP, only weightless points need the link x_ij <= y_j; the others
    # are held by the capacity rows.
    lk = np.flatnonzero(linked & (weights[demand] == 0))
    n_lk = int(lk.shape[0])
    # A point already reaching a site kept open needs no cover row.
    covered = np.zeros(n_d, dtype=bool)
    covered[row[~linked]] = True
    cover_rows = np.flatnonzero(~covered)
    cover_of = np.full(n_d, -1, dtype=np.int64)
    cover_of[cover_rows] = np.arange(cover_rows.shape[0])
    cv = np.flatnonzero(linked & ~covered[row])
    r_cap, r_link = n_d, n_d + n_s
    r_cover = r_link + n_lk
    n_rows = r_cover + int(cover_rows.shape[0])
    y_of = n_x + y_col[rank]
    ent_r = np.concatenate(
        [
            row,  # assignment: each point once
            r_cap + rank,  # capacity: load ...
            r_cap + np.flatnonzero(choose),  # ... minus capacity when open
            r_link + np.arange(n_lk),  # link: x_ij - y_j <= 0
            r_link + np.arange(n_lk),
            r_cover + cover_of[row[cv]],  # cover: sum y_j >= 1
        ]
    )
    ent_c = np.concatenate([x_cols, x_cols, n_x + np.arange(n_y), lk, y_of[lk], y_of[cv]])
    ent_v = np.concatenate(
        [
            np.ones(n_x),
            weights[demand],
            -capacity[sites[choose]],
            np.ones(n_lk),
            -np.ones(n_lk),
            np.ones(cv.shape[0]),
        ]
    )
    a = sparse.coo_array((ent_v, (ent_r, ent_c)), shape=(n_rows, n_x + n_y)).tocsc()
    a.sort_indices()
    upper_cap = np.where(choose, 0.0, capacity[sites] - used[sites])
    lower = np.concatenate(
        [np.ones(n_d), np.full(n_s, -np.inf), np.full(n_lk, -np.inf), np.ones(cover_rows.shape[0])]
    )
    upper = np.concatenate(
        [np.ones(n_d), upper_cap, np.zeros(n_lk), np.full(cover_rows.shape[0], np.inf)]
    )
    lo_y = keep[sites[choose]].astype(np.float64)
    highs = opts.highs
    h = _new_highs(opts)
    _ok(
        h.passModel(
            n_x + n_y,
            n_rows,
            int(a.nnz),
            int(highs.MatrixFormat.kColwise),
            int(highs.ObjSense.kMinimize),
            0.0,
            np.concatenate([np.zeros(n_x), np.ones(n_y)]),
            np.concatenate([np.zeros(n_x), lo_y]),
            np.ones(n_x + n_y),
            lower,
            upper,
            a.indptr.astype(np.int64),
            a.indices.astype(np.int64),
            a.data.astype(np.float64),
            np.full(n_x + n_y, int(highs.HighsVarType.kInteger), dtype=np.int64),
        ),
        "passModel (region)",
    )
    # Only a smaller region plan is of use: asking for one lets HiGHS stop at the root
    # when the relaxation rules it out, and spend its time on finding one otherwise.
    fewer = float(open_[sites[choose]].sum()) - 1.0
    y_cols = n_x + np.arange(n_y, dtype=np.int64)
    _ok(h.addRow(-np.inf, fewer, n_y, y_cols, np.ones(n_y)), "addRow (region)")
    _ok(h.setOptionValue("time_limit", min(opts.seconds_left(), _REGION_S)), "time_limit")
    h.run()
    sol = h.getSolution()
    if not (bool(sol.value_valid) and int(h.getInfo().primal_solution_status) == 2):
        return None, getattr(h.getModelStatus(), "name", "") == "kInfeasible"
    value = np.asarray(sol.col_value, dtype=np.float64) > 0.5
    y = open_.copy()
    y[sites[choose]] = value[n_x:]
    new_x = x & ~d[pairs.demand]
    new_x[k[value[:n_x]]] = True
    return (y, new_x), False


def _drop_sites(
    pairs: _Pairs,
    weights: F8,
    capacity: F8,
    open_: B1,
    x: B1,
    keep: B1,
    opts: _Options,
) -> tuple[B1, B1]:
    """Close open sites while the residents still fit: a local search; (open, x).

    Tries the open sites not in ``keep``, least loaded first: one closes if every demand
    point it serves has another open site within its circle, the residents fit split (a
    maximum flow, :func:`_short_groups`) and whole (:func:`_assign`, walking least).  Passes
    repeat while one closes a site: the new assignment moves the loads, and a site that did
    not close before may close now.  Each closure keeps the plan feasible, so the clock may
    stop it at any point.  Proves nothing.
    """
    y = open_.copy()
    m = int(weights.shape[0])
    reach = np.bincount(pairs.demand, weights=y[pairs.site].astype(np.float64), minlength=m)
    closed = True
    while closed:
        closed = False
        load = np.bincount(pairs.site[x], weights=weights[pairs.demand[x]], minlength=y.shape[0])
        for j in np.flatnonzero(y & ~keep)[np.argsort(load[y & ~keep], kind="stable")]:
            if time.perf_counter() >= opts.deadline:
                return y, x
            served = pairs.demand[pairs.site == j]
            if (reach[served] < 2).any():
                continue  # someone has no other open site within the circle
            y[j] = False
            if not _short_groups(pairs, weights, capacity, y):
                done = _assign(pairs, weights, capacity, y, opts)
                if done.x is not None:
                    x = done.x
                    reach[served] -= 1
                    closed = True
                    continue
            y[j] = True
    return y, x


_GREEDY_REPAIRS = 30
"""Rounds of :func:`_greedy_sites` opening a site in each group that does not fit."""
_LOCAL_SHARE = 0.15
"""Share of a count level's time for the local search (:meth:`TwoTierPlan._improved`)."""
_GREEDY_SHARE = 0.3
"""Share of a count level's time the greedy start may take."""
_LP_SHARE = 0.3
"""Share of a count level's time kept for its LP bound (:meth:`TwoTierPlan._lp_bound`); what
the bound leaves goes to :meth:`TwoTierPlan._searched`."""
_REGION_SITES = 12
"""Open sites in the first region of :meth:`TwoTierPlan._searched` (it adapts): on Porto
(23 community homes) regions of 6 to 13 sites were all proven tight, each in about a
second, before the first plan with 22 came from 15 sites."""
_REGION_S = 3.0
"""Seconds each region's MIP (:func:`_region_mip`) may take."""
_RECOUPLED_MASTER_S = 15.0
"""Seconds each master solve on both tiers in :meth:`TwoTierPlan._recoupled` may take (on
Yuzhong, 558 sites, 1 to 5 s; where it takes longer the search has the time)."""
_LP_SLACK = 1e-5
"""Relative margin taken off the bounds of :func:`_tier_lp` (interior point, tolerance 1e-8)
and :func:`_tier_lagrangian` (rounding in its sums)."""
_LAGRANGE_ROUNDS = 3000
"""Subgradient steps at most in :func:`_tier_lagrangian`."""
_LAGRANGE_STEP = 2.0
"""First step factor of :func:`_tier_lagrangian`, halved after :data:`_LAGRANGE_PATIENCE`
steps without a better bound."""
_LAGRANGE_PATIENCE = 20
"""Steps without a better bound after which :func:`_tier_lagrangian` halves its steps."""
_LAGRANGE_SHARE = 0.3
"""Share of a tier's bound time for :func:`_tier_lagrangian` before the LP."""
_OTHER_ROUNDS = 5
"""Street plans :meth:`TwoTierPlan._other_tier_first` tries, cut where residents do not fit."""
_OTHER_SHARE = 0.3
"""Share of a community level's time for re-placing the street centres
(:meth:`TwoTierPlan._other_tier_first`)."""
_PART_MIN_PAIRS = 20_000
"""Independent components with fewer pairs are solved together (fewer HiGHS set-ups)."""
_FREE_SITES = 300
"""Up to this many sites a later count level re-chooses the tiers an earlier level counted
(the master with the earlier levels' rows, whose bound is the level's): 127 sites took 2 s;
on 845 sites the master's bound was still 4 (of about 120) after 40 s."""
_FIXED_SHARE = 0.6
"""Share of a later level's time for its plan (the rest: its relaxed bound)."""
_LEVEL_SHARE = 0.45
"""Share of the time left that a count level other than the last may take."""
_LAST_LEVEL_SHARE = 0.85
"""Share of the time left that the last count level may take (the rest: the walking stage);
all of it when the walking stage will not run (Porto, 60 s: the community level then had
52 s instead of 43)."""
_REPAIR_S = 2.0
"""Seconds each repair of a split assignment may take (a heuristic step)."""
_ASSIGN_S = 5.0
"""Seconds the whole assignment MIP may take before the round gives up on these sites."""
_NOGOOD_LIMIT = 3
"""Cut-off open sets after which a count level goes to the full MIP."""
_ASSIGN_GAP = 1e-2
"""Relative gap of the assignment that completes a count level's plan (a start, not a proof)."""


# ---------------------------------------------------------------------- the full MIP
@dataclass(frozen=True)
class _Plan:
    street: I8
    community: I8
    street_assignment: I8
    community_assignment: I8
    street_min: F8
    community_min: F8


@dataclass(frozen=True)
class _Mip:
    """The full model, column-wise, and where each kind of variable sits.

    Columns: ``y^S``, ``y^C`` (sites), ``x^S``, ``x^C`` (pairs).  Rows: (1) assignment S
    and C (demand points), (3) covering S and C (demand points; large models only), (2)
    capacity S and C (sites), (4) co-location (sites), links ``x_ij <= y_j`` (small models:
    every pair; large: pairs of demand points of weight 0); the master's rows are added
    when passed to HiGHS.
    """

    n_sites: int
    street: _Pairs
    community: _Pairs
    small: bool
    """At most :data:`_SMALL_PAIRS` pairs: every link written, count levels solved whole."""
    col_lower: F8
    col_upper: F8
    row_lower: F8
    row_upper: F8
    start: I8
    index: I8
    value: F8

    @property
    def n_cols(self) -> int:
        return int(self.col_lower.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    @classmethod
    def build(cls, plan: TwoTierPlan, street: _Pairs, community: _Pairs) -> _Mip:
        from scipy import sparse

        n, m = plan.n_sites, plan.n_demand
        w = plan.weights
        ys, yc, xs, xc = 0, n, 2 * n, 2 * n + street.n
        site = np.arange(n, dtype=np.int64)
        ks = np.arange(street.n, dtype=np.int64)
        kc = np.arange(community.n, dtype=np.int64)
        # Small: every link (then the covering rows are their sums, left out); large: the
        # covering rows, and links only where (2) does not hold x at 0 (w_i = 0).
        link_all = street.n + community.n <= _SMALL_PAIRS
        ls = ks[(w[street.demand] <= 0) | link_all]
        lc = kc[(w[community.demand] <= 0) | link_all]
        cover = 0 if link_all else m
        r_as, r_ac = 0, m  # (1) = 1
        r_vs, r_vc = 2 * m, 2 * m + cover  # (3) >= 1
        r_cs = 2 * m + 2 * cover  # (2) <= 0
        r_cc = r_cs + n
        r_co = r_cc + n  # (4) <= 0
        r_ls = r_co + n  # links <= 0
        r_lc = r_ls + ls.shape[0]
        n_rows = r_lc + lc.shape[0]
        parts = [
            (r_as + street.demand, xs + ks, np.ones(street.n)),
            (r_ac + community.demand, xc + kc, np.ones(community.n)),
            (r_cs + street.site, xs + ks, w[street.demand]),
            (r_cc + community.site, xc + kc, w[community.demand]),
            (r_cs + site, ys + site, -plan.street_capacity),
            (r_cc + site, yc + site, -plan.community_capacity),
            (r_co + site, ys + site, np.ones(n)),
            (r_co + site, yc + site, -np.ones(n)),
            (r_ls + np.arange(ls.shape[0]), xs + ls, np.ones(ls.shape[0])),
            (r_ls + np.arange(ls.shape[0]), ys + street.site[ls], -np.ones(ls.shape[0])),
            (r_lc + np.arange(lc.shape[0]), xc + lc, np.ones(lc.shape[0])),
            (r_lc + np.arange(lc.shape[0]), yc + community.site[lc], -np.ones(lc.shape[0])),
        ]
        if cover:
            parts += [
                (r_vs + street.demand, ys + street.site, np.ones(street.n)),
                (r_vc + community.demand, yc + community.site, np.ones(community.n)),
            ]
        n_cols = 2 * n + street.n + community.n
        a = sparse.csc_array(
            (
                np.concatenate([p[2] for p in parts]).astype(np.float64),
                (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
            ),
            shape=(n_rows, n_cols),
        )
        a.sort_indices()
        n_le = n_rows - r_cs
        row_lower = np.concatenate([np.ones(2 * m + 2 * cover), np.full(n_le, -np.inf)])
        row_upper = np.concatenate([np.ones(2 * m), np.full(2 * cover, np.inf), np.zeros(n_le)])
        y_lower, y_upper = _site_bounds(plan)
        return cls(
            n_sites=n,
            street=street,
            community=community,
            small=link_all,
            col_lower=np.concatenate([y_lower, np.zeros(n_cols - 2 * n)]),
            col_upper=np.concatenate([y_upper, np.ones(n_cols - 2 * n)]),
            row_lower=row_lower,
            row_upper=row_upper,
            start=a.indptr.astype(np.int64),
            index=a.indices.astype(np.int64),
            value=a.data.astype(np.float64),
        )

    def pass_to(self, h: highspy.Highs, highs: Any, rows: Sequence[_Row]) -> None:
        _ok(
            h.passModel(
                self.n_cols,
                self.n_rows,
                int(self.value.shape[0]),
                int(highs.MatrixFormat.kColwise),
                int(highs.ObjSense.kMinimize),
                0.0,
                np.zeros(self.n_cols),
                self.col_lower,
                self.col_upper,
                self.row_lower,
                self.row_upper,
                self.start,
                self.index,
                self.value,
                np.full(self.n_cols, int(highs.HighsVarType.kInteger), dtype=np.int64),
            ),
            "passModel",
        )
        for row in rows:
            _add_row(h, row)

    def count_cost(self, a_street: float, a_community: float) -> F8:
        cost = np.zeros(self.n_cols)
        cost[: self.n_sites] = a_street
        cost[self.n_sites : 2 * self.n_sites] = a_community
        return cost

    def walking_cost(self, weights: F8) -> F8:
        cost = np.zeros(self.n_cols)
        xs = 2 * self.n_sites
        xc = xs + self.street.n
        cost[xs:xc] = weights[self.street.demand] * self.street.walk_min
        cost[xc:] = weights[self.community.demand] * self.community.walk_min
        return cost

    def size(self) -> dict[str, object]:
        return {"rows": self.n_rows, "cols": self.n_cols, "nonzeros": int(self.value.shape[0])}

    def decode(self, solution: F8, plan: TwoTierPlan) -> _Plan:
        n = self.n_sites
        on = solution > 0.5
        xs = 2 * n
        xc = xs + self.street.n
        s_assign, s_min = _assignment(self.street.subset(on[xs:xc]), plan.n_demand)
        c_assign, c_min = _assignment(self.community.subset(on[xc:]), plan.n_demand)
        if (s_assign < 0).any() or (c_assign < 0).any():
            raise SolverError(
                "HiGHS returned a plan that leaves demand points unassigned "
                f"(street: {_head(np.flatnonzero(s_assign < 0))}, community: "
                f"{_head(np.flatnonzero(c_assign < 0))}); the model is numerically troubled"
            )
        # Close centres that serve no one, unless existing or holding a street centre.
        s_used = np.zeros(n, dtype=bool)
        s_used[s_assign] = True
        c_used = np.zeros(n, dtype=bool)
        c_used[c_assign] = True
        street = on[:n] & (s_used | plan.existing_street)
        community = on[n : 2 * n] & (c_used | plan.existing_community | street)
        return _Plan(
            street=np.flatnonzero(street).astype(np.int64),
            community=np.flatnonzero(community).astype(np.int64),
            street_assignment=s_assign,
            community_assignment=c_assign,
            street_min=s_min,
            community_min=c_min,
        )


_WALKING_MIP_PAIRS = 100_000
"""Above this many pairs the walking stage is not run: HiGHS does not finish the full MIP's
root in minutes (and overruns its time limit in presolve); the last count level's plan,
each tier assigned for least walking on its sites, stands, with the nearest-site bound."""
_SMALL_PAIRS = 10_000
"""Up to this many pairs the model is small: every link x_ij <= y_j is written (a strong LP
that HiGHS solves fast at this size) and count levels are solved as the full MIP."""


def _assignment(chosen: _Pairs, n_demand: int) -> tuple[I8, F8]:
    site = np.full(n_demand, -1, dtype=np.int64)
    minutes = np.full(n_demand, np.nan)
    site[chosen.demand] = chosen.site
    minutes[chosen.demand] = chosen.walk_min
    return site, minutes


def _share(opts: _Options, share: float) -> _Options:
    """``opts`` with a deadline at ``share`` of the time left."""
    left = max(opts.deadline - time.perf_counter(), 0.0)
    return replace(opts, deadline=time.perf_counter() + share * left)


def _number(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def _nearest_min(pairs: _Pairs, n_demand: int) -> F8:
    """Per demand point, the minutes to its nearest site among the pairs (0 if none)."""
    best = np.full(n_demand, np.inf)
    np.minimum.at(best, pairs.demand, pairs.walk_min)
    return np.where(np.isfinite(best), best, 0.0)


def _load(weights: F8, assignment: I8, sites: I8) -> F8:
    ok = assignment >= 0
    per_site = np.bincount(
        assignment[ok], weights=weights[ok], minlength=int(sites.max(initial=-1)) + 1
    )
    return per_site[sites].astype(np.float64)


# ---------------------------------------------------------------------- HiGHS
def _highs_module() -> Any:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is installed with linli
        raise SolverError(
            "TwoTierPlan.solve needs HiGHS: install it with `pip install highspy`"
        ) from exc
    return highspy


def _new_highs(opts: _Options, *, mip_gap: float | None = None) -> highspy.Highs:
    # The compiled class: ``highspy.Highs()`` prints HiGHS's banner to stdout in its
    # constructor, before output can be switched off (see ``_highs._new_highs``).
    h: highspy.Highs = (getattr(opts.highs, "_Highs", None) or opts.highs.Highs)()
    _ok(h.setOptionValue("output_flag", False), "setOptionValue output_flag")
    gap = opts.mip_gap if mip_gap is None else mip_gap
    _ok(h.setOptionValue("mip_rel_gap", float(gap)), "setOptionValue mip_rel_gap")
    if opts.threads is not None:
        _ok(h.setOptionValue("threads", int(opts.threads)), "setOptionValue threads")
    return h


def _ok(status: Any, what: str) -> None:
    name = getattr(status, "name", str(status))
    if name == "kError":
        raise SolverError(f"HiGHS {what} failed (status {name})")


def _add_row(h: highspy.Highs, row: _Row) -> None:
    _ok(
        h.addRow(row.lower, row.upper, int(row.cols.shape[0]), row.cols, row.vals),
        "addRow",
    )


def _status(model_status: str, has_plan: bool) -> Status:
    if model_status == "kOptimal":
        return "optimal"
    if model_status == "kInfeasible":
        return "infeasible"
    if model_status in ("kTimeLimit", "kInterrupt", "kHighsInterrupt"):
        return "time_limit"
    return "error"


@dataclass(frozen=True)
class _Stage:
    """What one stage (a count level or the walking stage) reached."""

    objective: float
    bound: float
    status: Status
    model_status: str
    seconds: float
    nodes: int
    solution: F8 | None = field(repr=False)
    kind: str = ""
    level: int = -1
    weights: CountObjective | None = None

    @property
    def gap(self) -> float:
        return _gap(self.objective, self.bound)

    @classmethod
    def skipped(cls, objective: float, why: str = "time limit reached") -> _Stage:
        """Not run (0 bounds a sum of minutes from below)."""
        return cls(objective, 0.0, "time_limit", f"not run: {why}", 0.0, 0, None)

    def labelled(self, kind: str, level: int, weights: CountObjective | None) -> _Stage:
        return replace(self, kind=kind, level=level, weights=weights)

    def public(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "level": self.level,
            "weights": self.weights,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "model_status": self.model_status,
            "seconds": self.seconds,
            "nodes": self.nodes,
        }

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.level} {self.weights or ''}: {self.objective:.6g} (bound "
            f"{self.bound:.6g}, {self.status}, {self.seconds:.2f} s, {self.nodes} nodes)"
        )


def _run_stage(h: highspy.Highs, cost: F8, start_from: F8 | None, deadline: float) -> _Stage:
    """Minimise ``cost`` over the full model in ``h``, from the plan ``start_from`` if any."""
    t0 = time.perf_counter()
    cols = np.arange(cost.shape[0], dtype=np.int64)
    _ok(h.changeColsCost(int(cost.shape[0]), cols, cost), "changeColsCost")
    if start_from is not None:
        _ok(h.setSolution(int(cols.shape[0]), cols, start_from), "setSolution")
    _ok(h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3)), "time_limit")
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    sol = h.getSolution()
    has_plan = bool(sol.value_valid) and int(info.primal_solution_status) == 2
    status = _status(getattr(model_status, "name", str(model_status)), has_plan)
    if status == "error":
        raise SolverError(f"HiGHS failed: {h.modelStatusToString(model_status)}")
    solution = np.asarray(sol.col_value, dtype=np.float64) if has_plan else start_from
    objective = float(cost @ solution) if solution is not None else float("nan")
    bound = float(info.mip_dual_bound) if status != "infeasible" else np.inf
    if solution is not None:
        # Costs are >= 0: 0 bounds them when HiGHS has no bound yet.
        bound = min(bound, objective) if np.isfinite(bound) else 0.0
    return _Stage(
        objective=objective,
        bound=bound,
        status=status,
        model_status=h.modelStatusToString(model_status),
        seconds=time.perf_counter() - t0,
        nodes=int(info.mip_node_count),
        solution=solution,
    )


def _gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf") if np.isfinite(objective) else float("nan")
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _integral(a_s: float, a_c: float) -> bool:
    return float(a_s).is_integer() and float(a_c).is_integer()


# ---------------------------------------------------------------------- validation
@dataclass(frozen=True)
class _Matrix:
    pairs: _Pairs
    shape: tuple[int, int]
    rows: pd.Index | None
    cols: pd.Index | None


def _head(values: ArrayLike, limit: int = 10) -> str:
    arr = np.asarray(values).ravel()
    text = ", ".join(str(v) for v in arr[:limit].tolist())
    return f"[{text}{', …' if arr.size > limit else ''}]"


def _cutoff(value: float | None, name: str, source: str, problems: list[Problem]) -> float | None:
    if value is None:
        return None
    try:
        cut = float(value)
    except (TypeError, ValueError):
        cut = float("nan")
    if not (np.isfinite(cut) and cut >= 0):
        problems.append(Problem(source, "finite minutes >= 0, or None", repr(value), name))
        return None
    return cut


def _read_matrix(
    matrix: Any, name: str, cutoff: float | None, source: str, problems: list[Problem]
) -> _Matrix | None:
    """The pairs of a dense, scipy sparse or WalkMatrix matrix within ``cutoff``."""
    from scipy import sparse

    rows: pd.Index | None = None
    cols: pd.Index | None = None
    if isinstance(matrix, WalkMatrix):
        shape = (matrix.n_origins, matrix.n_destinations)
        i = matrix.origin_positions()
        j = matrix.indices.astype(np.int64)
        d = np.asarray(matrix.walk_min, dtype=np.float64)
        rows, cols = matrix.origin_labels, matrix.destination_labels
    elif sparse.issparse(matrix):
        coo = sparse.coo_array(matrix)
        shape = (int(coo.shape[0]), int(coo.shape[1]))
        i = np.asarray(coo.row, dtype=np.int64)
        j = np.asarray(coo.col, dtype=np.int64)
        d = np.asarray(coo.data, dtype=np.float64)
        keep = ~np.isinf(d) & ~np.isnan(d)
        i, j, d = i[keep], j[keep], d[keep]
    else:
        try:
            dense = np.asarray(matrix, dtype=np.float64)
        except (TypeError, ValueError):
            problems.append(Problem(source, "an array of minutes", type(matrix).__name__, name))
            return None
        if dense.ndim != 2:
            problems.append(
                Problem(source, "a 2-d array (demand x sites)", f"shape {dense.shape}", name)
            )
            return None
        shape = (int(dense.shape[0]), int(dense.shape[1]))
        i, j = np.nonzero(np.isfinite(dense))
        i, j = i.astype(np.int64), j.astype(np.int64)
        d = dense[i, j]
    negative = d < 0
    if negative.any():
        k = int(np.flatnonzero(negative)[0])
        problems.append(
            Problem(
                source,
                "walking minutes >= 0",
                f"{d[k]} at (demand {i[k]}, site {j[k]}); {int(negative.sum())} such pairs",
                name,
            )
        )
    if cutoff is not None:
        keep = d <= cutoff
        i, j, d = i[keep], j[keep], d[keep]
    # Sorted by demand, site; a repeated pair keeps its shortest minutes.
    order = np.lexsort((d, j, i))
    i, j, d = i[order], j[order], d[order]
    first = np.ones(i.shape[0], dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
    return _Matrix(_Pairs(i[first], j[first], d[first]), shape, rows, cols)


def _same_district(
    demand: ArrayLike | None,
    site: ArrayLike | None,
    shape: tuple[int, int] | None,
    source: str,
    problems: list[Problem],
) -> Any:
    """A function telling which pairs join a demand point and a site of one district."""
    if demand is None and site is None:
        return None
    if demand is None or site is None:
        problems.append(
            Problem(
                source,
                "demand_district and site_district together",
                "only one of them",
                "demand_district" if demand is None else "site_district",
            )
        )
        return None
    d = pd.Series(np.asarray(demand).ravel())
    g = pd.Series(np.asarray(site).ravel())
    for name, values, k in (("demand_district", d, 0), ("site_district", g, 1)):
        if shape is not None and values.shape[0] != shape[k]:
            what = "demand point" if k == 0 else "site"
            problems.append(
                Problem(source, f"one label per {what} ({shape[k]})", f"{values.shape[0]}", name)
            )
        if values.isna().any():
            problems.append(
                Problem(
                    source,
                    "a district label for every row",
                    f"missing at {_head(np.flatnonzero(values.isna().to_numpy()))}",
                    name,
                )
            )
    codes, _ = pd.factorize(pd.concat([d, g], ignore_index=True))
    d_code, g_code = codes[: d.shape[0]], codes[d.shape[0] :]

    def same(pairs: _Pairs) -> B1:
        return np.asarray(d_code[pairs.demand] == g_code[pairs.site])

    return same


def _weights(
    values: ArrayLike, n_demand: int | None, source: str, problems: list[Problem]
) -> F8 | None:
    try:
        w = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(Problem(source, "numbers of residents", repr(values)[:60], "weights"))
        return None
    if w.ndim != 1 or (n_demand is not None and w.shape[0] != n_demand):
        problems.append(
            Problem(
                source,
                f"one weight per demand point ({n_demand})",
                f"shape {w.shape}",
                "weights",
            )
        )
        return None
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        problems.append(
            Problem(
                source,
                "finite residents >= 0",
                f"{_head(w[bad], 5)} at demand points {_head(np.flatnonzero(bad))}",
                "weights",
            )
        )
        return None
    return w


def _capacity(
    values: ArrayLike, n_sites: int, name: str, source: str, problems: list[Problem]
) -> F8:
    try:
        cap = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(Problem(source, "residents per centre", repr(values)[:60], name))
        return np.zeros(n_sites)
    if cap.ndim == 0:
        cap = np.full(n_sites, float(cap))
    if cap.shape != (n_sites,):
        problems.append(
            Problem(source, f"one number or one per site ({n_sites})", f"shape {cap.shape}", name)
        )
        return np.zeros(n_sites)
    bad = ~np.isfinite(cap) | (cap <= 0)
    if bad.any():
        problems.append(
            Problem(
                source,
                "residents per centre > 0",
                f"{_head(cap[bad], 5)} at sites {_head(np.flatnonzero(bad))}",
                name,
            )
        )
    return cap


def _site_mask(
    values: ArrayLike, n_sites: int, name: str, source: str, problems: list[Problem]
) -> B1:
    mask = np.zeros(n_sites, dtype=bool)
    arr = np.asarray(values).ravel()
    if arr.size == 0:
        return mask
    if not np.issubdtype(arr.dtype, np.integer):
        problems.append(Problem(source, "site positions (integers)", f"{arr.dtype}", name))
        return mask
    out = (arr < 0) | (arr >= n_sites)
    if out.any():
        problems.append(
            Problem(source, f"site positions in 0..{n_sites - 1}", _head(arr[out]), name)
        )
        return mask
    mask[arr] = True
    return mask


def _label_positions(
    labels: Sequence[Any], index: pd.Index, name: str, problems: list[Problem]
) -> I8:
    wanted = pd.Index(list(labels))
    if wanted.empty:
        return np.empty(0, dtype=np.int64)
    pos = index.get_indexer(wanted)
    missing = wanted[pos < 0]
    if len(missing):
        problems.append(
            Problem("sites", "labels of the sites' index", _head(np.asarray(missing)), name)
        )
    return np.asarray(pos[pos >= 0], dtype=np.int64)


def _levels(
    levels: Sequence[CountObjective], source: str, problems: list[Problem]
) -> tuple[CountObjective, ...]:
    out: list[CountObjective] = []
    for k, level in enumerate(levels):
        try:
            a_s, a_c = (float(v) for v in level)
        except (TypeError, ValueError):
            problems.append(
                Problem(source, "(street weight, community weight)", repr(level), f"level {k}")
            )
            continue
        if not (np.isfinite(a_s) and np.isfinite(a_c) and a_s >= 0 and a_c >= 0 and a_s + a_c > 0):
            problems.append(
                Problem(source, "weights >= 0, not both 0", repr(level), f"count_objectives[{k}]")
            )
            continue
        out.append((a_s, a_c))
    if not problems and not (any(a > 0 for a, _ in out) and any(b > 0 for _, b in out)):
        problems.append(
            Problem(
                source,
                "a count level weighing street centres and one weighing community homes "
                "(a tier without one would open at every site that shortens a walk)",
                repr(tuple(levels)),
                "count_objectives",
            )
        )
    return tuple(out)
