"""Candidate sites for new centres when the planner has none: points along the walkable network.

Planners usually bring candidate parcels (planned public-service land); without them linli
proposes sites on the walking network: every junction and points every ``spacing_m`` metres
along the links, thinned to one per ``spacing_m`` x ``spacing_m`` cell (junctions preferred),
so that any street position has a candidate within about ``spacing_m`` (a diagonal of the cell
at most) while the count grows with the area, not with the number of junctions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from linli._errors import InputError
from linli.network.build import WalkNetwork

__all__ = ["sites_along_network"]


def sites_along_network(network: WalkNetwork, *, spacing_m: float, area: Any = None) -> Any:
    """Candidate sites on the network: junctions and points along links, one per cell.

    Parameters
    ----------
    network : WalkNetwork
    spacing_m : float
        Distance between candidates along a link, metres (> 0).
    area : shapely geometry in WGS-84, optional
        Keep only candidates inside it.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in WGS-84 with ``kind`` (``junction`` or ``along_link``) and ``link``.

    Examples
    --------
    >>> sites = sites_along_network(net, spacing_m=200)  # doctest: +SKIP
    """
    import geopandas as gpd
    import shapely

    if not np.isfinite(spacing_m) or spacing_m <= 0:
        raise InputError(f"spacing_m: expected metres > 0; found {spacing_m!r}")
    links = network.links_frame()
    lengths = links.length.to_numpy()
    per_link = np.floor(lengths / spacing_m).astype(np.int64)
    link_idx = np.repeat(np.arange(len(links)), per_link)
    offsets = (
        np.concatenate([np.arange(1, k + 1) for k in per_link]) if per_link.sum() else np.empty(0)
    )
    # Evenly spread inside the link, ends excluded (junctions are added separately).
    along = offsets * (lengths[link_idx] / (per_link[link_idx] + 1))
    mids = shapely.line_interpolate_point(links.geometry.to_numpy()[link_idx], along)
    junctions = shapely.points(network.node_x, network.node_y)
    geoms = np.concatenate([junctions, mids])
    kind = np.array(["junction"] * len(junctions) + ["along_link"] * len(mids))
    link = np.concatenate([np.full(len(junctions), -1), link_idx])
    cell_x = np.floor(shapely.get_x(geoms) / spacing_m).astype(np.int64)
    cell_y = np.floor(shapely.get_y(geoms) / spacing_m).astype(np.int64)
    _, first = np.unique(np.column_stack([cell_x, cell_y]), axis=0, return_index=True)
    keep = np.sort(first)
    frame = gpd.GeoDataFrame(
        {"kind": kind[keep], "link": link[keep]}, geometry=geoms[keep], crs=network.crs
    )
    frame = frame.to_crs("EPSG:4326")
    if area is not None:
        frame = frame[frame.within(area)]
    return frame.reset_index(drop=True)
