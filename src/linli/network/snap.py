"""Attaching points (buildings, facilities, candidate sites) to the walking network.

A point is attached to the nearest walkable *segment* (not the nearest junction): it walks
straight to its foot on that segment (the access leg, at the flat walking speed), then along
the link to either end.  The minutes from the point to both ends of its link, and from both
ends to the point, are kept, so origins and destinations anywhere along a street are timed
exactly; two points on the same link also get the direct walk between them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from linli._errors import InputError, Problem
from linli.network.build import WalkNetwork

__all__ = ["Attachment", "attach_points"]

log = logging.getLogger(__name__)

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]

_AREA_MARGIN_M = 2000.0
"""Points farther than this (or 10 x max_access_m) beyond the network's bounding box are an
error: they come from a wrong CRS or another city, not from a gap in the OSM data."""


@dataclass(frozen=True)
class Attachment:
    """Where points join the walking network, and the minutes to and from their link's ends.

    Attributes
    ----------
    labels : pandas.Index
        The points' labels (index of the input frame).
    link, seg : int arrays
        Link and segment (row of the network's ``seg_*`` arrays) each point is attached to.
    frac : float array
        Position of the foot along the segment, 0 at its start, 1 at its end.
    access_m, access_min : float arrays
        Straight distance from the point to its foot, metres, and its walking minutes.
    point_x, point_y : float arrays
        The points themselves (polygons: a point on their surface), in the network's CRS.
    foot_x, foot_y : float arrays
        The foot, in the network's CRS.
    to_u_min, to_v_min : float arrays
        Minutes from the point to the link's start / end junction (``inf`` if not allowed).
    from_u_min, from_v_min : float arrays
        Minutes from the link's start / end junction to the point.
    along_m : float array
        Distance of the foot from the link's start, metres.
    """

    labels: pd.Index
    link: I8
    seg: I8
    frac: F8
    access_m: F8
    access_min: F8
    point_x: F8
    point_y: F8
    foot_x: F8
    foot_y: F8
    to_u_min: F8
    to_v_min: F8
    from_u_min: F8
    from_v_min: F8
    along_m: F8

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(self.link.shape[0])

    def take(self, positions: NDArray[np.int64] | NDArray[np.bool_]) -> Attachment:
        """The attachment of a subset of the points (by position or boolean mask)."""
        idx = np.flatnonzero(positions) if np.asarray(positions).dtype == bool else positions
        idx = np.asarray(idx, dtype=np.int64)
        return Attachment(
            labels=self.labels.take(idx),
            **{f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "labels"},
        )

    def to_frame(self) -> pd.DataFrame:
        """A table of the attachment, indexed by the points' labels."""
        return pd.DataFrame(
            {
                "link": self.link,
                "access_m": self.access_m,
                "access_min": self.access_min,
                "foot_x": self.foot_x,
                "foot_y": self.foot_y,
            },
            index=self.labels,
        )


def _part(frac: F8, minutes: F8) -> F8:
    """``frac * minutes`` with ``0 * inf = 0`` (standing at the start costs nothing)."""
    return np.where(frac == 0.0, 0.0, frac * np.where(frac == 0.0, 0.0, minutes))


def _cumulative(values: F8, seg_link: I8, link_ptr: I8) -> tuple[F8, F8]:
    """Per segment, the sum of ``values`` before it and after it within its link (inf-safe)."""
    finite = np.isfinite(values)
    v = np.where(finite, values, 0.0)
    c = np.concatenate([[0.0], np.cumsum(v)])
    blocked = np.concatenate([[0], np.cumsum(~finite)])
    idx = np.arange(values.shape[0])
    start = link_ptr[seg_link]
    end = link_ptr[seg_link + 1]
    before = c[idx] - c[start]
    after = c[end] - c[idx + 1]
    before = np.where(blocked[idx] - blocked[start] > 0, np.inf, before)
    after = np.where(blocked[end] - blocked[idx + 1] > 0, np.inf, after)
    return before, after


def attach_points(
    network: WalkNetwork,
    points: Any,
    *,
    source: str = "points",
    max_access_m: float | None = None,
) -> Attachment:
    """Attach points to their nearest walkable segment.

    Parameters
    ----------
    network : WalkNetwork
    points : GeoDataFrame or GeoSeries (with a CRS), or an (n, 2) array of x, y in the
        network's CRS
        Polygons (building footprints) are attached by a point on their surface.
    source : str
        Name used in messages (e.g. the file the points came from).
    max_access_m : float, optional
        Points farther than this from a walkable way are attached anyway but named in a
        warning; default: the profile's ``max_access_m``.

    Returns
    -------
    Attachment

    Raises
    ------
    InputError
        Points with empty or missing geometry, non-finite coordinates, no CRS, or lying
        outside the network's area (farther than 2 km, or 10 x ``max_access_m``, beyond its
        bounding box: a wrong CRS or another city): the message names them.
    """
    labels, x, y = _coordinates(network, points, source)
    limit = network.profile.max_access_m if max_access_m is None else float(max_access_m)
    _check_area(network, labels, x, y, max(10.0 * limit, _AREA_MARGIN_M), source)

    seg_lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([network.seg_x0, network.seg_y0]),
                np.column_stack([network.seg_x1, network.seg_y1]),
            ],
            axis=1,
        )
    )
    tree = shapely.STRtree(seg_lines)
    pts = shapely.points(x, y)
    (pt_idx, seg_idx), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    seg = np.empty(x.shape[0], dtype=np.int64)
    access_m = np.empty(x.shape[0])
    seg[pt_idx] = seg_idx
    access_m[pt_idx] = dist

    x0, y0 = network.seg_x0[seg], network.seg_y0[seg]
    dx, dy = network.seg_x1[seg] - x0, network.seg_y1[seg] - y0
    length2 = dx * dx + dy * dy
    frac = np.clip(((x - x0) * dx + (y - y0) * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    foot_x = x0 + frac * dx
    foot_y = y0 + frac * dy
    access_m = np.hypot(x - foot_x, y - foot_y)

    far = access_m > limit
    if far.any():
        names = ", ".join(
            f"{_label(labels[i])!r} ({access_m[i]:.0f} m)" for i in np.flatnonzero(far)[:10]
        )
        more = f" and {int(far.sum()) - 10} more" if far.sum() > 10 else ""
        log.warning(
            "%s: %d point(s) lie more than %.0f m from any walkable way: %s%s. They are "
            "attached to the nearest way anyway; check their coordinates or the OSM extract.",
            source, int(far.sum()), limit, names, more,
        )  # fmt: skip

    net = network
    link = net.seg_link[seg]
    f_before, f_after = _cumulative(net.seg_min_fwd, net.seg_link, net.link_seg_ptr)
    b_before, b_after = _cumulative(net.seg_min_back, net.seg_link, net.link_seg_ptr)
    t_f = net.seg_min_fwd[seg]
    t_b = net.seg_min_back[seg]
    access_min = access_m / net.profile.speed_m_per_min
    len_before = np.concatenate([[0.0], np.cumsum(net.seg_length_m)])
    along_m = len_before[seg] - len_before[net.link_seg_ptr[link]] + frac * net.seg_length_m[seg]
    return Attachment(
        labels=labels,
        link=link,
        seg=seg,
        frac=frac,
        access_m=access_m,
        access_min=access_min,
        point_x=x,
        point_y=y,
        foot_x=foot_x,
        foot_y=foot_y,
        to_u_min=access_min + _part(frac, t_b) + b_before[seg],
        to_v_min=access_min + _part(1.0 - frac, t_f) + f_after[seg],
        from_u_min=access_min + f_before[seg] + _part(frac, t_f),
        from_v_min=access_min + b_after[seg] + _part(1.0 - frac, t_b),
        along_m=along_m,
    )


def same_link_minutes(
    network: WalkNetwork, origins: Attachment, destinations: Attachment
) -> tuple[I8, I8, F8]:
    """Direct walks between origins and destinations attached to the same link.

    Returns ``(origin, destination, minutes)`` arrays (positions), only for finite minutes.
    The walk goes along the link between the two feet, plus both access legs.
    """
    net = network
    o_order = np.argsort(origins.link, kind="stable")
    d_order = np.argsort(destinations.link, kind="stable")
    o_links = origins.link[o_order]
    d_links = destinations.link[d_order]
    common = np.intersect1d(o_links, d_links)
    if common.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    o_lo = np.searchsorted(o_links, common, "left")
    o_hi = np.searchsorted(o_links, common, "right")
    d_lo = np.searchsorted(d_links, common, "left")
    d_hi = np.searchsorted(d_links, common, "right")
    n_o = o_hi - o_lo
    n_d = d_hi - d_lo
    pairs = n_o * n_d
    group = np.repeat(np.arange(common.size), pairs)
    k = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    oi = o_order[o_lo[group] + k // n_d[group]]
    di = d_order[d_lo[group] + k % n_d[group]]

    so, sd = origins.seg[oi], destinations.seg[di]
    fo, fd = origins.frac[oi], destinations.frac[di]
    tf, tb = net.seg_min_fwd, net.seg_min_back
    along_o, along_d = origins.along_m[oi], destinations.along_m[di]
    forward = along_o < along_d
    backward = along_o > along_d
    same_seg = so == sd
    # Forward (o before d): rest of o's segment, the segments between, start of d's.
    lo_f, hi_f = np.where(forward, so, sd), np.where(forward, sd, so)
    fwd_span = np.where(
        same_seg,
        _part(np.abs(fd - fo), tf[so]),
        _part(1.0 - fo, tf[so]) + _range_sum(tf, lo_f + 1, hi_f) + _part(fd, tf[sd]),
    )
    back_span = np.where(
        same_seg,
        _part(np.abs(fo - fd), tb[so]),
        _part(fo, tb[so]) + _range_sum(tb, lo_f + 1, hi_f) + _part(1.0 - fd, tb[sd]),
    )
    span = np.where(forward, fwd_span, np.where(backward, back_span, 0.0))
    with np.errstate(invalid="ignore"):
        minutes = origins.access_min[oi] + span + destinations.access_min[di]
    ok = np.isfinite(minutes)
    return oi[ok].astype(np.int64), di[ok].astype(np.int64), minutes[ok]


def _range_sum(values: F8, lo: I8, hi: I8) -> F8:
    """Sum of ``values[lo:hi]`` per pair (empty ranges give 0); ``inf`` if any is ``inf``."""
    finite = np.isfinite(values)
    c = np.concatenate([[0.0], np.cumsum(np.where(finite, values, 0.0))])
    blocked = np.concatenate([[0], np.cumsum(~finite)])
    hi = np.maximum(hi, lo)
    out = c[hi] - c[lo]
    return np.where(blocked[hi] - blocked[lo] > 0, np.inf, out)


def _label(value: Any) -> Any:
    """A point's label as Python shows it to people: ``2221``, not ``np.int64(2221)``."""
    return value.item() if isinstance(value, np.generic) else value


def _coordinates(network: WalkNetwork, points: Any, source: str) -> tuple[pd.Index, F8, F8]:
    import geopandas as gpd

    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        if geoms.crs is None:
            raise InputError(
                f"{source}: expected a CRS on the points; found none "
                f"(set one with .set_crs(), e.g. 'EPSG:4326' for longitude/latitude)"
            )
        bad = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
        if bad.any():
            raise InputError(
                problems=[
                    Problem(
                        source, "a geometry", "an empty or missing geometry", f"feature {lab!r}"
                    )
                    for lab in geoms.index[bad][:20]
                ]
            )
        geoms = geoms.to_crs(network.crs)
        rep = shapely.point_on_surface(geoms.to_numpy())
        x = shapely.get_x(rep).astype(np.float64)
        y = shapely.get_y(rep).astype(np.float64)
        labels = pd.Index(points.index)
    else:
        arr = np.asarray(points, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise InputError(f"{source}: expected an (n, 2) array of x, y; found shape {arr.shape}")
        x, y = arr[:, 0].copy(), arr[:, 1].copy()
        labels = pd.RangeIndex(arr.shape[0])
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise InputError(
            problems=[
                Problem(
                    source,
                    "finite coordinates",
                    f"({x[i]}, {y[i]})",
                    f"feature {_label(labels[i])!r}",
                )
                for i in np.flatnonzero(bad)[:20]
            ]
        )
    return labels, x, y


def _check_area(
    network: WalkNetwork, labels: pd.Index, x: F8, y: F8, limit: float, source: str
) -> None:
    xmin = min(network.seg_x0.min(), network.seg_x1.min()) - limit
    xmax = max(network.seg_x0.max(), network.seg_x1.max()) + limit
    ymin = min(network.seg_y0.min(), network.seg_y1.min()) - limit
    ymax = max(network.seg_y0.max(), network.seg_y1.max()) + limit
    outside = (x < xmin) | (x > xmax) | (y < ymin) | (y > ymax)
    if outside.any():
        raise InputError(
            f"{source}: {int(outside.sum())} of {x.shape[0]} point(s) lie outside the walking "
            f"network's area (its bounding box plus {limit:.0f} m, in {network.crs.to_string()}); "
            f"check the points' CRS (GCJ-02/BD-09 coordinates must be declared as such) or use an "
            f"OSM extract that covers them",
            problems=[
                Problem(
                    source,
                    f"a point within x {xmin:.0f}..{xmax:.0f}, y {ymin:.0f}..{ymax:.0f}",
                    f"({x[i]:.0f}, {y[i]:.0f})",
                    f"feature {_label(labels[i])!r}",
                )
                for i in np.flatnonzero(outside)[:20]
            ],
        )
