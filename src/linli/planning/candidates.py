"""Candidate sites for new centres: along the walkable network, or existing public buildings.

Planners usually bring candidate parcels (planned public-service land).  Without them linli
offers two sources:

- :func:`sites_along_network`: every junction and points every ``spacing_m`` metres along the
  links, thinned to one per ``spacing_m`` x ``spacing_m`` cell (junctions preferred), so that
  any street position has a candidate within about ``spacing_m`` (a diagonal of the cell at
  most) while the count grows with the area, not with the number of junctions;
- :func:`public_buildings`: buildings and premises of the public sector mapped in
  OpenStreetMap (:data:`PUBLIC_TAGS`) — in a built-up area the rooms a centre can move
  into ("盘活存量": existing state-owned space first).  OSM cannot tell whether rooms are
  free: these are places to look at, and each row says which tag made it a candidate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from linli._errors import InputError
from linli.network.build import WalkNetwork

__all__ = ["PUBLIC_TAGS", "public_buildings", "sites_along_network"]

PUBLIC_TAGS: dict[str, dict[str, str]] = {
    "building": {
        "public": "public building (公共建筑)",
        "government": "government building (政府建筑)",
        "civic": "civic building (市政建筑)",
        "community_centre": "community centre (社区中心)",
    },
    "amenity": {
        "townhall": "town hall / sub-district office (街道办事处)",
        "community_centre": "community centre (社区活动中心)",
        "social_centre": "social centre (社区服务)",
        "social_facility": "social facility (养老/社会福利)",
        "public_building": "public building (公共建筑)",
        "library": "library (图书馆/文化室)",
        "arts_centre": "arts centre (文化中心)",
        "police": "police station (派出所/警务室)",
        "clinic": "clinic (卫生服务站)",
    },
    "office": {"government": "government office (政府机关)"},
}
"""OSM tags (key -> value -> why) that make a building or premises a public candidate site."""


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


def public_buildings(path: str | Path, *, area: Any = None) -> Any:
    """Existing public buildings and premises in an OSM extract, as candidate sites.

    A feature is taken when any of its tags is in :data:`PUBLIC_TAGS`; a point inside a
    public building's outline is merged into that building (one site per building, its
    reasons joined).  Each site stands at a point inside its building
    (``representative_point``), to be attached to the walking network like any other site.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` file.
    area : shapely geometry in WGS-84, optional
        Keep only sites inside it.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in WGS-84 with ``kind`` (``public_building``), ``osm_type``, ``osm_id``,
        ``name``, ``reason`` (what the tags say, e.g. ``"town hall / sub-district office
        (街道办事处)"``), ``footprint_m2`` (0 for premises mapped as points) and ``levels``
        (``building:levels`` when mapped, else NaN).

    Raises
    ------
    InputError
        The file is missing, empty or unreadable.

    Examples
    --------
    >>> sites = public_buildings("yuzhong.osm.pbf")  # doctest: +SKIP
    >>> sites[["name", "reason"]].head()  # doctest: +SKIP
    """
    import geopandas as gpd
    import pandas as pd

    from linli.inputs.crs import local_metric_crs
    from linli.inputs.osm import read_osm_features

    keys = tuple(PUBLIC_TAGS)
    features = read_osm_features(path, keys=keys, columns=("name", "building:levels"))
    reasons = pd.Series("", index=features.index, dtype=object)
    for key, values in PUBLIC_TAGS.items():
        if key not in features:
            continue
        why = features[key].map(values)
        hit = why.notna()
        reasons[hit] = reasons[hit].where(reasons[hit] == "", reasons[hit] + "; ") + why[hit]
    public = features[reasons != ""].copy()
    public["reason"] = reasons[reasons != ""]
    columns = ["kind", "osm_type", "osm_id", "name", "reason", "footprint_m2", "levels"]
    if public.empty:
        return gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns}, geometry=[], crs="EPSG:4326"
        )
    centre = public.geometry.representative_point()
    metric = public.to_crs(local_metric_crs(centre.x.to_numpy(), centre.y.to_numpy()))
    is_area = metric.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    public["footprint_m2"] = np.where(is_area, metric.area.to_numpy(), 0.0)
    public["levels"] = pd.to_numeric(public.get("building:levels"), errors="coerce")

    # A point inside a mapped public building describes that building: fold it in.
    areas, points = public[is_area], public[~is_area]
    if len(areas) and len(points):
        inside = gpd.sjoin(points, areas[["geometry"]], predicate="within", how="inner")
        for point_id, building_id in inside["index_right"].items():
            extra = public.at[point_id, "reason"]
            if extra not in public.at[building_id, "reason"]:
                public.at[building_id, "reason"] += "; " + extra
            if not public.at[building_id, "name"] and public.at[point_id, "name"]:
                public.at[building_id, "name"] = public.at[point_id, "name"]
        public = public.drop(index=inside.index.unique())
    public["kind"] = "public_building"
    public["geometry"] = public.geometry.representative_point()
    frame = gpd.GeoDataFrame(public[columns], geometry=public.geometry, crs="EPSG:4326")
    if area is not None:
        frame = frame[frame.within(area)]
    return frame.reset_index(drop=True)
