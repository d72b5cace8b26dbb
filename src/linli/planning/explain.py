"""Why each site of a plan is needed: checked on the plan, not guessed from it.

A planner reading a plan asks of every new centre "why here, and why at all?".  The answer
that holds up in a meeting is a check anyone can repeat: close that one centre, keep every
other, and see whether everyone it serves can still be served within the walking circle
and the capacities.  :func:`closing_shortfall` does that check for each site, exactly, as a
maximum flow (residents may be split between centres in the check; the plan itself gives
each home one centre, so a site the check could close may still be needed to keep homes
whole):

- residents with no other open site within the circle make the site necessary by *reach*
  (counted by :func:`only_reach`);
- otherwise, if the residents it serves cannot all be re-served by the other open sites,
  however everyone is moved round, it is necessary by *capacity*: the flow's shortfall is
  the residents who would be left without a centre with room;
- otherwise the others could absorb its residents (split): a site worth reviewing.

The flow is first tried on the site's neighbourhood (the residents it serves, those of the
open sites they reach, and so on outwards, everyone outside staying put): a re-service found
there is a re-service of the whole plan.  Only when the neighbourhood cannot absorb them is
the whole connected part of the plan solved, so the shortfall is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["closing_shortfall", "only_reach", "served_without"]

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]
B1 = NDArray[np.bool_]

_SCALE = 100.0
"""Residents are counted in hundredths in the flows (integer capacities)."""
_HOPS = 3
"""Rings of neighbourhood tried before the whole connected part of the plan."""


def only_reach(demand: I8, site: I8, weights: F8, open_sites: I8, n_sites: int) -> F8:
    """Per open site, the residents within its circle who have no other open site there.

    Parameters
    ----------
    demand, site : int arrays
        The pairs (demand position, site position) within the circle.
    weights : float array
        Residents per demand point.
    open_sites : int array
        Positions of the plan's sites of this tier.
    n_sites : int
        Number of candidate sites (positions run ``0 .. n_sites - 1``).

    Returns
    -------
    float array
        One value per entry of ``open_sites``.

    Examples
    --------
    >>> import numpy as np
    >>> demand, site = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1])
    >>> only_reach(demand, site, np.array([10.0, 20.0, 30.0]), np.array([0, 1]), 2).tolist()
    [10.0, 30.0]
    """
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[open_sites] = True
    k = is_open[site]
    d, s = demand[k], site[k]
    options = np.bincount(d, minlength=weights.shape[0])
    alone = options[d] == 1
    per_site = np.bincount(s[alone], weights=weights[d[alone]], minlength=n_sites)
    return np.asarray(per_site[open_sites], dtype=np.float64)


def closing_shortfall(
    demand: I8,
    site: I8,
    weights: F8,
    assignment: I8,
    capacity: F8,
    check: I8,
    *,
    movable: B1 | None = None,
) -> F8:
    """Per site to check: residents left without a centre with room if it alone closed.

    Every other open site stays, with its capacity; every resident within reach may move to
    any open site within its circle, and may be split between sites.  The value is the
    least number of residents who would be left unserved: 0 when the other sites can
    absorb the closed site's residents, more when capacity makes the site necessary.

    Parameters
    ----------
    demand, site : int arrays
        The pairs (demand position, site position) within the tier's circle.
    weights : float array
        Residents per demand point.
    assignment : int array
        Per demand point, the open site serving it (-1: none; such points are ignored).
        The open sites are those of the assignment and of ``check``.
    capacity : float array
        Residents each site serves at most (per site position).
    check : int array
        Positions of the sites to check.
    movable : bool array, optional
        Per demand point, whether it may move (default all); the others stay at their site
        (e.g. residents already held by an existing centre).

    Returns
    -------
    float array
        One value per entry of ``check`` (residents, to the hundredth).

    Examples
    --------
    Two homes of 8 residents, each within reach of two sites for 10 and of a third for 5:

    >>> import numpy as np
    >>> demand, site = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 2, 0, 1, 2])
    >>> closing_shortfall(
    ...     demand, site, np.array([8.0, 8.0]), np.array([0, 1]), np.array([10.0, 10.0, 5.0]),
    ...     np.array([0, 1])).tolist()  # site 2 is not in the plan: 16 residents, room for 10
    [6.0, 6.0]
    >>> closing_shortfall(
    ...     demand, site, np.array([8.0, 8.0]), np.array([0, 1]), np.array([10.0, 10.0, 5.0]),
    ...     np.array([0, 1, 2])).tolist()  # with site 2 open: room for 15, and 0 to close it
    [1.0, 1.0, 0.0]
    """
    n_demand = int(weights.shape[0])
    n_sites = int(capacity.shape[0])
    served = assignment >= 0
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[assignment[served]] = True
    is_open[check] = True
    stays = np.zeros(n_demand, dtype=bool) if movable is None else ~np.asarray(movable, bool)
    stays &= served
    live = served & ~stays
    keep = is_open[site] & live[demand]
    d, s = demand[keep], site[keep]
    hundredths = np.round(np.asarray(weights, np.float64) * _SCALE).astype(np.int64)
    w = np.where(live, hundredths, 0)
    cap = np.floor(capacity * _SCALE).astype(np.int64)
    fixed_load = np.bincount(
        assignment[stays], weights=hundredths[stays].astype(np.float64), minlength=n_sites
    ).astype(np.int64)
    load = np.bincount(
        assignment[live], weights=w[live].astype(np.float64), minlength=n_sites
    ).astype(np.int64)
    room = np.maximum(cap - fixed_load, 0)
    d_ptr, d_sites = _sites_of(d, s, n_demand)
    by_site = np.argsort(assignment, kind="stable")
    first = np.searchsorted(assignment[by_site], np.arange(n_sites + 1))
    holders = by_site  # demand points grouped by their site: holders[first[j]:first[j + 1]]

    def residents_of(sites: I8) -> I8:
        parts = [holders[first[j] : first[j + 1]] for j in sites]
        out = np.concatenate(parts) if parts else np.empty(0, np.int64)
        return np.asarray(out[live[out]], dtype=np.int64)

    def reached(points: I8) -> I8:
        if points.size == 0:
            return np.empty(0, dtype=np.int64)
        spans = [d_sites[d_ptr[i] : d_ptr[i + 1]] for i in points]
        return np.unique(np.concatenate(spans))

    out = np.zeros(check.shape[0])
    for n, j in enumerate(check):
        j = int(j)
        points = residents_of(np.array([j]))
        if points.size == 0:
            continue
        for _ in range(_HOPS):
            sites = reached(points)
            sites = sites[sites != j]
            # Everyone now at those sites joins the flow; the rest stay where they are.
            points = np.union1d(points, residents_of(sites))
            sites = reached(points)
            sites = sites[sites != j]
            outside = load[sites] - _load_of(points, assignment, w, sites)
            if _flow_shortfall(points, sites, room[sites] - outside, d_ptr, d_sites, w) == 0:
                break  # re-served in the neighbourhood: so in the whole plan
        else:
            # The whole connected part of the plan: exact.
            points, sites = _component(points, j, residents_of, reached)
            out[n] = _flow_shortfall(points, sites, room[sites], d_ptr, d_sites, w) / _SCALE
    return out


def _sites_of(demand: I8, site: I8, n_demand: int) -> tuple[I8, I8]:
    """The pairs grouped by demand point: ``d_sites[d_ptr[i]:d_ptr[i + 1]]`` are ``i``'s sites."""
    order = np.argsort(demand, kind="stable")
    d_ptr = np.zeros(n_demand + 1, dtype=np.int64)
    np.cumsum(np.bincount(demand, minlength=n_demand), out=d_ptr[1:])
    return d_ptr, np.asarray(site, np.int64)[order]


def _load_of(points: I8, assignment: I8, w: NDArray[np.int64], sites: I8) -> NDArray[np.int64]:
    """Per site of ``sites`` (ascending), the load the demand points ``points`` put on it."""
    at = assignment[points]
    on = np.isin(at, sites)
    pos = np.searchsorted(sites, at[on])
    load = np.bincount(pos, weights=w[points[on]].astype(np.float64), minlength=sites.shape[0])
    return load.astype(np.int64)


def _component(points: I8, closed: int, residents_of, reached) -> tuple[I8, I8]:  # type: ignore[no-untyped-def]
    """The demand points and open sites connected to ``points`` (``closed`` left out)."""
    sites = np.empty(0, dtype=np.int64)
    while True:
        grown = reached(points)
        grown = grown[grown != closed]
        more = np.union1d(points, residents_of(grown))
        if grown.shape[0] == sites.shape[0] and more.shape[0] == points.shape[0]:
            return points, grown
        points, sites = more, grown


def _flow_shortfall(
    points: I8, sites: I8, room: NDArray[np.int64], d_ptr: I8, d_sites: I8, w: NDArray[np.int64]
) -> int:
    """Hundredths of residents of ``points`` that ``sites`` (with ``room``) cannot take."""
    from scipy import sparse
    from scipy.sparse.csgraph import maximum_flow

    need = int(w[points].sum())
    if need == 0:
        return 0
    if sites.size == 0:
        return need
    counts = d_ptr[points + 1] - d_ptr[points]
    tail = np.repeat(np.arange(points.shape[0]), counts)
    heads = np.concatenate([d_sites[d_ptr[i] : d_ptr[i + 1]] for i in points])
    pos = np.searchsorted(sites, heads)
    pos = np.clip(pos, 0, sites.shape[0] - 1)
    ok = sites[pos] == heads
    p, q = points.shape[0], sites.shape[0]
    source, sink = 0, p + q + 1
    rows = np.concatenate([np.zeros(p, np.int64), 1 + tail[ok], 1 + p + np.arange(q)])
    cols = np.concatenate([1 + np.arange(p), 1 + p + pos[ok], np.full(q, sink)])
    caps = np.concatenate([w[points], w[points][tail[ok]], np.maximum(room, 0)])
    if caps.max(initial=0) >= np.iinfo(np.int32).max:
        raise ValueError("closing_shortfall: residents too many for 32-bit flow capacities")
    graph = sparse.csr_array((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    flow = maximum_flow(graph, source, sink, method="dinic").flow_value
    return need - int(flow)


def served_without(
    demand: I8,
    site: I8,
    weights: F8,
    capacity: F8,
    open_sites: I8,
    drop_order: I8,
    counts: Sequence[int],
) -> F8:
    """Residents a plan still serves with its first ``k`` sites of ``drop_order`` closed.

    For each ``k`` of ``counts``: the most residents the remaining open sites can serve
    within the circle and their capacities, everyone free to move and to be split (a
    maximum flow).  With ``drop_order`` the plan's least used new sites first, this is what
    serving the last few residents costs: a lower bound on the coverage any plan with that
    many fewer sites reaches (a plan re-optimised for the smaller count may serve more).

    Parameters
    ----------
    demand, site : int arrays
        The pairs (demand position, site position) within the tier's circle.
    weights : float array
        Residents per demand point.
    capacity : float array
        Residents each site serves at most (per site position).
    open_sites : int array
        The plan's sites of this tier.
    drop_order : int array
        Sites of ``open_sites`` in the order they are closed.
    counts : sequence of int
        How many of ``drop_order`` to close, each in turn (0: the plan as it is).

    Returns
    -------
    float array
        Residents served, one per entry of ``counts`` (to the hundredth).

    Examples
    --------
    >>> import numpy as np
    >>> demand, site = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 2])
    >>> served_without(demand, site, np.array([5.0, 5.0, 1.0]), np.full(3, 10.0),
    ...                np.array([0, 1, 2]), np.array([2, 1, 0]), [0, 1, 2, 3]).tolist()
    [11.0, 10.0, 10.0, 0.0]
    """
    n_demand = int(weights.shape[0])
    n_sites = int(capacity.shape[0])
    d_ptr, d_sites = _sites_of(demand, site, n_demand)
    w = np.round(np.asarray(weights, np.float64) * _SCALE).astype(np.int64)
    room = np.floor(capacity * _SCALE).astype(np.int64)
    points = np.flatnonzero(np.diff(d_ptr) > 0).astype(np.int64)
    total = float(np.sum(weights))
    unreached = int(w.sum() - w[points].sum())
    out = np.zeros(len(counts))
    for n, k in enumerate(counts):
        is_open = np.zeros(n_sites, dtype=bool)
        is_open[open_sites] = True
        is_open[drop_order[:k]] = False
        sites = np.flatnonzero(is_open).astype(np.int64)
        short = _flow_shortfall(points, sites, room[sites], d_ptr, d_sites, w)
        out[n] = min(max(total - (unreached + short) / _SCALE, 0.0), total)
    return out
