"""The computations of the built-area audit, as functions of frames and arrays.

Each function answers one question of the audit and takes its policy numbers as arguments;
:func:`linli.audit.run_audit` reads them from the standards profile and strings the steps
together.  Walking minutes come from :mod:`linli.access`; nothing here walks the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli.access import nearest_destination, walk_minutes_within
from linli.network import Attachment, WalkNetwork

__all__ = [
    "assign_zones",
    "best_site",
    "facility_minutes",
    "group_centres",
    "share_within",
    "usable_mask",
]


def facility_minutes(
    network: WalkNetwork,
    demand: Attachment,
    facilities: Attachment,
    facility_type: Sequence[str] | NDArray[Any],
    *,
    types: Sequence[str],
    cutoff_min: float,
    also_serves: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Walking minutes from every demand point to the nearest facility of each type.

    Parameters
    ----------
    network : WalkNetwork
    demand : Attachment
        Demand points (homes) attached to the network.
    facilities : Attachment
        Facilities attached to the network, in the order of ``facility_type``.
    facility_type : sequence of str
        The type id of each facility.
    types : sequence of str
        Type ids to report (one column each, even when no facility has that type).
    cutoff_min : float
        Minutes beyond which "none within reach" is reported (NaN), e.g. the largest circle.
    also_serves : mapping, optional
        Type id -> other type ids whose facilities also count for it (a street centre's
        health centre serving as the community's health station, where the profile says a
        tier replaces the lower one's facilities).

    Returns
    -------
    pandas.DataFrame
        Indexed like the demand points, columns ``walk_min_<type>``.
    """
    kinds = np.asarray(facility_type, dtype=object)
    extra = also_serves or {}
    columns: dict[str, NDArray[np.float64]] = {}
    for t in types:
        mask = np.isin(kinds, [t, *extra.get(t, ())])
        if not mask.any():
            columns[f"walk_min_{t}"] = np.full(demand.n_points, np.nan)
            continue
        near = nearest_destination(network, demand, facilities.take(mask), cutoff_min=cutoff_min)
        columns[f"walk_min_{t}"] = near["walk_min"].to_numpy(dtype=np.float64)
    return pd.DataFrame(columns, index=demand.labels)


def assign_zones(points: Any, zones: Any, *, key: str) -> pd.Series:
    """The zone (value of ``zones[key]``) each point lies in; ``<NA>`` outside every zone.

    Points on a shared border go to the first zone in ``zones``' order.  Both frames need a
    CRS; points are compared in the zones' CRS.
    """
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=points.geometry.representative_point(), crs=points.crs)
    pts = pts.to_crs(zones.crs)
    joined = gpd.sjoin(
        pts, zones[[key, "geometry"]].reset_index(drop=True), how="left", predicate="within"
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    return pd.Series(joined[key].reindex(points.index).to_numpy(), index=points.index, name=key)


def usable_mask(
    floor: pd.Series,
    lift: pd.Series,
    basement: pd.Series,
    *,
    max_floor_without_lift: int,
    basement_usable: bool,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which facility rooms count as usable under the profile's rules, and which by assumption.

    Floors are numbered as in China: 1 is the ground floor (首层), -1 the first basement.  A
    room in a basement does not count unless ``basement_usable``; a room above
    ``max_floor_without_lift`` counts only with a lift.  Where the table does not say (no
    floor, or a high floor with the lift unknown) the room counts, and the second array marks
    it, so the audit can say how much of the usable area rests on that assumption.

    Returns
    -------
    usable, assumed : arrays of bool
    """
    fl = pd.to_numeric(floor, errors="coerce").to_numpy(dtype=np.float64)
    lift_known = lift.notna().to_numpy(dtype=bool)
    has_lift = lift.astype("boolean").fillna(False).to_numpy(dtype=bool)
    in_basement = basement.astype("boolean").fillna(False).to_numpy(dtype=bool) | (fl < 0)
    high = np.where(np.isnan(fl), False, fl > max_floor_without_lift)
    too_high = high & lift_known & ~has_lift
    ok = ~too_high
    if not basement_usable:
        ok &= ~in_basement
    assumed = ok & (np.isnan(fl) & ~in_basement | (high & ~lift_known))
    return np.asarray(ok, dtype=bool), np.asarray(assumed, dtype=bool)


def group_centres(
    x_m: NDArray[np.float64], y_m: NDArray[np.float64], *, within_m: float
) -> NDArray[np.int64]:
    """Group facilities standing within ``within_m`` of one another into centres.

    Single linkage: two facilities closer than ``within_m`` (metres, straight line) are in
    the same centre, and so is everything linked to them.  Returns a centre number per
    facility, 0..k-1 in order of first appearance.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = x_m.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    pairs = cKDTree(np.column_stack([x_m, y_m])).query_pairs(within_m, output_type="ndarray")
    adj = coo_array((np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    _, labels = connected_components(adj, directed=False)
    # Renumber in order of first appearance so that results do not depend on scipy's order.
    _, first = np.unique(labels, return_index=True)
    rank = np.argsort(np.argsort(first)).astype(np.int64)
    out: NDArray[np.int64] = rank[labels]
    return out


def share_within(
    minutes: pd.Series, weight: pd.Series, group: pd.Series, *, cutoff_min: float
) -> pd.Series:
    """Per group, the weighted share of points with ``minutes <= cutoff_min`` (NaN: not)."""
    reached = (minutes.to_numpy(dtype=np.float64) <= cutoff_min).astype(np.float64)
    w = weight.to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"g": group.to_numpy(), "hit": reached * w, "w": w})
    sums = frame.groupby("g", dropna=True)[["hit", "w"]].sum()
    return (sums["hit"] / sums["w"].where(sums["w"] > 0)).rename("share")


def best_site(
    network: WalkNetwork,
    candidates: Attachment,
    uncovered: Attachment,
    weight: NDArray[np.float64],
    *,
    cutoff_min: float,
) -> tuple[int, float]:
    """The candidate that brings the most uncovered weight within ``cutoff_min``.

    Returns ``(candidate position, weight reached)``; ``(-1, 0.0)`` without candidates.
    """
    if candidates.n_points == 0 or uncovered.n_points == 0:
        return -1, 0.0
    m = walk_minutes_within(network, candidates, uncovered, cutoff_min=cutoff_min, threads=1)
    reached = np.bincount(m.origin_positions(), weights=weight[m.indices], minlength=m.n_origins)
    best = int(np.argmax(reached))
    return best, float(reached[best])
