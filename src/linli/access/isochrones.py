"""Isochrones: the area within a walking time of a point, as polygons for maps.

A source's isochrone for ``c`` minutes is drawn from the walkable ways it reaches: every link
whose ends are reached contributes the part walkable in the time left (a prefix from the end
reached first, a suffix from the other, or the whole link), the source's own link the part
around its foot; the pieces are buffered by the profile's ``isochrone_buffer_m`` and merged.
This follows the streets (a river or a cliff without stairs stays outside), unlike a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli._errors import InputError
from linli._progress import ProgressCallback, report
from linli.access.engine import Direct, Scratch, Targets, run_blocks
from linli.access.points import PointsLike, _attach, _seeds
from linli.network.build import WalkNetwork

__all__ = ["isochrones"]

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]
_BLOCKED = 1e6  # minutes standing in for inf so that cumulative sums stay searchable


def isochrones(
    network: WalkNetwork,
    sources: PointsLike,
    *,
    cutoffs_min: Sequence[float] = (10.0, 20.0),
    buffer_m: float | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> Any:
    """Polygons of the area within each cutoff's walking minutes of each source.

    Parameters
    ----------
    network : WalkNetwork
    sources : GeoDataFrame, GeoSeries or Attachment
        Facilities or sites, with a CRS.
    cutoffs_min : sequence of float
        Walking minutes, e.g. ``(10, 20)`` for the two circles of the Chongqing standard.
    buffer_m : float, optional
        Half-width of the reached streets; default the profile's ``isochrone_buffer_m``.
    threads : int, optional
    progress : callable, optional
        ``progress(done, total)`` over sources.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source and cutoff: ``source`` (label), ``cutoff_min``, ``reached_m``
        (metres of walkable way reached) and the polygon, in the network's CRS.
    """
    import geopandas as gpd
    import shapely
    from shapely import ops

    att = _attach(network, sources, "sources")
    cutoffs = sorted({float(c) for c in cutoffs_min})
    if not cutoffs or cutoffs[0] < 0:
        raise InputError(f"cutoffs_min: expected minutes >= 0; found {list(cutoffs_min)!r}")
    half_width = network.profile.isochrone_buffer_m if buffer_m is None else float(buffer_m)
    top = cutoffs[-1]
    n = network.n_nodes
    graph = network.graph
    seeds = _seeds(network, att)
    targets = Targets.at_nodes(np.arange(n, dtype=np.int64), n)
    direct = Direct.none(att.n_points)
    indptr, node_idx, node_min = run_blocks(
        lambda lo, hi, tmp: tmp.run_seeded(graph, seeds, targets, direct, top, lo, hi),
        att.n_points,
        scratch=lambda: Scratch.cached(graph, n_dest=n, cutoff=top),
        threads=threads,
        progress=None,
    )

    lines = _link_lines(network)
    cum = _Cumulative(network)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for i in range(att.n_points):
        dist = np.full(n, np.inf)
        dist[node_idx[indptr[i] : indptr[i + 1]]] = node_min[indptr[i] : indptr[i + 1]]
        du = dist[network.link_u]
        dv = dist[network.link_v]
        for c in cutoffs:
            pieces: list[Any] = []
            links = np.flatnonzero((du <= c) | (dv <= c))
            pre = cum.forward_reach(links, c - du[links])
            suf = cum.backward_reach(links, c - dv[links])
            length = network.link_length_m[links]
            spans: dict[int, list[tuple[float, float]]] = {}
            for k, a, b, total in zip(
                links.tolist(), pre.tolist(), suf.tolist(), length.tolist(), strict=True
            ):
                spans[k] = [(0.0, min(a, total)), (max(total - b, 0.0), total)]
            # The source's own link, from its foot both ways.
            left = c - float(att.access_min[i])
            if left >= 0:
                k = int(att.link[i])
                ahead, behind = cum.around(int(att.seg[i]), float(att.frac[i]), left)
                at = float(att.along_m[i])
                total = float(network.link_length_m[k])
                spans.setdefault(k, []).append((max(at - behind, 0.0), min(at + ahead, total)))
                pieces.append(
                    shapely.LineString(
                        [(att.foot_x[i], att.foot_y[i]), (att.point_x[i], att.point_y[i])]
                    )
                )
            reached_m = 0.0
            for k, intervals in spans.items():
                line = lines[k]
                for lo, hi in _merge(intervals):
                    reached_m += hi - lo
                    whole = lo <= 0.0 and hi >= line.length - 1e-9
                    pieces.append(line if whole else ops.substring(line, lo, hi))
            geom = (
                shapely.union_all(shapely.buffer(np.asarray(pieces, dtype=object), half_width))
                if pieces
                else shapely.Polygon()
            )
            rows.append({"source": att.labels[i], "cutoff_min": c, "reached_m": reached_m})
            geoms.append(geom)
        report(progress, i + 1, att.n_points)
    frame = pd.DataFrame(rows, columns=["source", "cutoff_min", "reached_m"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=network.crs)


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of intervals ``(lo, hi)``, dropping empty ones."""
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(iv for iv in intervals if iv[1] > iv[0]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _link_lines(network: WalkNetwork) -> list[Any]:
    frame = network.links_frame()
    return list(frame.geometry.to_numpy())


class _Cumulative:
    """Cumulative minutes along links, to find how far one walks in a given time."""

    def __init__(self, network: WalkNetwork) -> None:
        self.net = network
        tf = np.where(np.isfinite(network.seg_min_fwd), network.seg_min_fwd, _BLOCKED)
        tb = np.where(np.isfinite(network.seg_min_back), network.seg_min_back, _BLOCKED)
        self.tf, self.tb = tf, tb
        self.cf = np.cumsum(tf)  # forward minutes to the end of each segment
        self.cb = np.cumsum(tb)
        self.len = network.seg_length_m
        self.len_start = np.concatenate([[0.0], np.cumsum(self.len)])[:-1]
        self.first = network.link_seg_ptr[:-1]
        self.last = network.link_seg_ptr[1:] - 1

    def _forward_position(self, target: F8, first: I8, last: I8) -> F8:
        """Metres from the links' start where the forward cumulative minutes reach ``target``."""
        k = np.clip(np.searchsorted(self.cf, target, side="left"), first, last)
        frac = np.clip((target - (self.cf[k] - self.tf[k])) / self.tf[k], 0.0, 1.0)
        out: F8 = self.len_start[k] - self.len_start[first] + frac * self.len[k]
        return out

    def _backward_position(self, target: F8, first: I8, last: I8) -> F8:
        """Metres from the links' start where the backward cumulative minutes equal ``target``.

        Backward minutes are accumulated in the link's forward order, so walking backwards
        from a position lowers them; ``target`` is the value at the place walked to.
        """
        k = np.clip(np.searchsorted(self.cb, target, side="right"), first, last)
        frac = np.clip((target - (self.cb[k] - self.tb[k])) / self.tb[k], 0.0, 1.0)
        out: F8 = self.len_start[k] - self.len_start[first] + frac * self.len[k]
        return out

    def forward_reach(self, links: NDArray[np.int64], minutes: F8) -> F8:
        """Metres walkable from each link's start in ``minutes`` (``<= 0`` or NaN: 0)."""
        out = np.zeros(links.shape[0])
        ok = np.isfinite(minutes) & (minutes > 0)
        if ok.any():
            first, last = self.first[links[ok]], self.last[links[ok]]
            target = self.cf[first] - self.tf[first] + minutes[ok]
            out[ok] = self._forward_position(target, first, last)
        return out

    def backward_reach(self, links: NDArray[np.int64], minutes: F8) -> F8:
        """Metres walkable from each link's end towards its start in ``minutes``."""
        out = np.zeros(links.shape[0])
        ok = np.isfinite(minutes) & (minutes > 0)
        if ok.any():
            first, last = self.first[links[ok]], self.last[links[ok]]
            target = self.cb[last] - minutes[ok]
            length = self.len_start[last] + self.len[last] - self.len_start[first]
            out[ok] = length - self._backward_position(target, first, last)
        return out

    def around(self, seg: int, frac: float, minutes: float) -> tuple[float, float]:
        """Metres walkable ahead of and behind a foot at ``frac`` along segment ``seg``."""
        link = int(self.net.seg_link[seg])
        first = np.array([self.first[link]])
        last = np.array([self.last[link]])
        foot_m = self.len_start[seg] - self.len_start[first[0]] + frac * self.len[seg]
        t_f = self.cf[seg] - (1.0 - frac) * self.tf[seg]
        t_b = self.cb[seg] - (1.0 - frac) * self.tb[seg]
        ahead = self._forward_position(np.array([t_f + minutes]), first, last)[0] - foot_m
        behind = foot_m - self._backward_position(np.array([t_b - minutes]), first, last)[0]
        return max(float(ahead), 0.0), max(float(behind), 0.0)
