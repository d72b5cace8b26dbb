"""Walking minutes between points (buildings, facilities, sites) on a walking network.

Points are attached to their nearest walkable segment (:func:`linli.network.attach_points`);
a search starts from both ends of an origin's link and reaches a destination through either
end of its link, or directly when both share a link.  The minutes are exact for the network:
checked against networkx on a graph in which every point is a node of its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli._errors import InputError
from linli._progress import ProgressCallback
from linli.access.engine import (
    Direct,
    Scratch,
    Seeds,
    Targets,
    WalkMatrix,
    _check_cutoff,
    nearest_node_labels,
    run_blocks,
)
from linli.network.build import WalkNetwork
from linli.network.snap import Attachment, attach_points, same_link_minutes

__all__ = ["nearest_destination", "walk_minutes_within"]

PointsLike = Any  # GeoDataFrame / GeoSeries with a CRS, or an Attachment


def _attach(network: WalkNetwork, points: PointsLike, source: str) -> Attachment:
    return (
        points if isinstance(points, Attachment) else attach_points(network, points, source=source)
    )


def _seeds(network: WalkNetwork, att: Attachment) -> Seeds:
    """Each origin enters the graph at both ends of its link."""
    u = network.link_u[att.link]
    v = network.link_v[att.link]
    node = np.column_stack([u, v]).ravel()
    cost = np.column_stack([att.to_u_min, att.to_v_min]).ravel()
    return Seeds(
        ptr=np.arange(0, 2 * att.n_points + 1, 2, dtype=np.int64),
        node=node.astype(np.int32),
        cost=cost,
    )


def _targets(network: WalkNetwork, att: Attachment) -> Targets:
    """Each destination is reached from both ends of its link."""
    n = att.n_points
    node = np.concatenate([network.link_u[att.link], network.link_v[att.link]])
    cost = np.concatenate([att.from_u_min, att.from_v_min])
    dest = np.concatenate([np.arange(n), np.arange(n)]).astype(np.int64)
    keep = np.isfinite(cost)
    return Targets.from_attachments(
        node[keep], cost[keep], dest[keep], n_nodes=network.n_nodes, n_dest=n
    )


def _direct(network: WalkNetwork, origins: Attachment, destinations: Attachment) -> Direct:
    oi, di, minutes = same_link_minutes(network, origins, destinations)
    order = np.argsort(oi, kind="stable")
    ptr = np.zeros(origins.n_points + 1, dtype=np.int64)
    np.cumsum(np.bincount(oi, minlength=origins.n_points), out=ptr[1:])
    return Direct(ptr=ptr, dest=di[order], cost=minutes[order])


def walk_minutes_within(
    network: WalkNetwork,
    origins: PointsLike,
    destinations: PointsLike,
    *,
    cutoff_min: float,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> WalkMatrix:
    """Walking minutes from every origin to every destination within ``cutoff_min``.

    Parameters
    ----------
    network : WalkNetwork
    origins, destinations : GeoDataFrame, GeoSeries or Attachment
        Points (or polygons, attached by a point on their surface) with a CRS; or points
        already attached with :func:`linli.network.attach_points` (reuse one attachment for
        many queries).
    cutoff_min : float
        Largest walking time kept, minutes (inclusive), access legs included.
    threads : int, optional
        Worker threads; default every core.
    progress : callable, optional
        ``progress(done, total)`` in origins.

    Returns
    -------
    WalkMatrix
        Sparse: only pairs within the cutoff; rows and columns labelled by the inputs' index.

    Examples
    --------
    >>> m = walk_minutes_within(net, homes, clinics, cutoff_min=10)  # doctest: +SKIP
    >>> m.to_frame().head()  # doctest: +SKIP
    """
    cutoff = _check_cutoff(cutoff_min)
    o = _attach(network, origins, "origins")
    d = _attach(network, destinations, "destinations")
    seeds = _seeds(network, o)
    targets = _targets(network, d)
    direct = _direct(network, o, d)
    graph = network.graph

    def kernel(lo: int, hi: int, tmp: Scratch) -> Any:
        return tmp.run_seeded(graph, seeds, targets, direct, cutoff, lo, hi)

    indptr, indices, minutes = run_blocks(
        kernel,
        o.n_points,
        scratch=lambda: Scratch.cached(graph, n_dest=d.n_points, cutoff=cutoff),
        threads=threads,
        progress=progress,
    )
    return WalkMatrix(
        indptr=indptr,
        indices=indices,
        walk_min=minutes,
        cutoff_min=cutoff,
        n_destinations=d.n_points,
        origin_labels=o.labels,
        destination_labels=d.labels,
    )


def nearest_destination(
    network: WalkNetwork,
    origins: PointsLike,
    destinations: PointsLike,
    *,
    cutoff_min: float = np.inf,
) -> pd.DataFrame:
    """For every origin, the nearest destination by walking time, and its minutes.

    One Dijkstra search from all destinations at once on the reversed network, so the cost
    does not grow with the number of origins: suited to "minutes from every home to the
    nearest clinic".

    Parameters
    ----------
    network : WalkNetwork
    origins, destinations : GeoDataFrame, GeoSeries or Attachment
    cutoff_min : float, optional
        Origins farther than this from every destination get ``NaN`` minutes and no label.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``destination`` (label, ``<NA>`` if none within the
        cutoff) and ``walk_min``.
    """
    cutoff = float(cutoff_min)
    if np.isnan(cutoff) or cutoff < 0:
        raise InputError(f"cutoff_min: expected minutes >= 0 (inf for none); found {cutoff_min!r}")
    o = _attach(network, origins, "origins")
    d = _attach(network, destinations, "destinations")
    if d.n_points == 0:
        return _nearest_frame(o, d, np.full(o.n_points, -1), np.full(o.n_points, np.inf), cutoff)
    seed_node = np.concatenate([network.link_u[d.link], network.link_v[d.link]])
    seed_cost = np.concatenate([d.from_u_min, d.from_v_min])
    seed_label = np.concatenate([np.arange(d.n_points), np.arange(d.n_points)])
    ok = np.isfinite(seed_cost)
    dist, label = nearest_node_labels(
        network.graph, seed_node[ok], seed_cost[ok], seed_label[ok], cutoff_min=cutoff
    )
    u = network.link_u[o.link]
    v = network.link_v[o.link]
    via_u = o.to_u_min + dist[u]
    via_v = o.to_v_min + dist[v]
    best = np.where(via_u <= via_v, via_u, via_v)
    best_label = np.where(via_u <= via_v, label[u], label[v])
    oi, di, minutes = same_link_minutes(network, o, d)
    if oi.size:
        order = np.lexsort((minutes, oi))
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = oi[order][1:] != oi[order][:-1]
        pick = order[first]
        better = minutes[pick] < best[oi[pick]]
        best[oi[pick][better]] = minutes[pick][better]
        best_label[oi[pick][better]] = di[pick][better]
    return _nearest_frame(o, d, best_label, best, cutoff)


def _nearest_frame(
    o: Attachment,
    d: Attachment,
    label: NDArray[np.int64],
    minutes: NDArray[np.float64],
    cutoff: float,
) -> pd.DataFrame:
    found = np.isfinite(minutes) & (minutes <= cutoff) & (label >= 0)
    dest = pd.Series(pd.NA, index=o.labels, dtype="object")
    if found.any():
        dest.iloc[np.flatnonzero(found)] = np.asarray(d.labels.take(label[found]), dtype=object)
    return pd.DataFrame(
        {"destination": dest.to_numpy(), "walk_min": np.where(found, minutes, np.nan)},
        index=o.labels.copy(),
    )
