"""Building the walking network from OpenStreetMap.

The steps, each a function of arrays:

1. read the walkable ways (:func:`linli.inputs.osm.read_walkable_ways`);
2. cut them into straight segments between consecutive OSM nodes, projected to a local UTM
   zone chosen from the data (:func:`linli.inputs.crs.local_metric_crs`);
3. time each segment in both directions from the profile's speeds, with stairs and, given a
   DEM, slope (:func:`linli.network.speed.segment_minutes`).  Bridges and tunnels take the
   grade between their two ends rather than the ground beneath them;
4. keep the largest strongly connected component (everyone in it can walk to everyone else)
   and report what was dropped;
5. merge chains of segments through nodes of degree two into *links* between junctions.
   The graph searched is junctions and dead ends only; the segments stay for attaching
   points anywhere along a link and for drawing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyproj
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from linli._errors import InputError
from linli._progress import ProgressCallback, report
from linli.inputs.crs import local_metric_crs
from linli.inputs.osm import OsmWays, read_walkable_ways
from linli.network.graph import Graph
from linli.network.speed import segment_minutes
from linli.standards import Profile, WalkingProfile, load_profile

__all__ = ["NetworkReport", "WalkNetwork", "walk_network_from_osm", "walk_network_from_ways"]

log = logging.getLogger(__name__)

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]


@dataclass
class NetworkReport:
    """What went into a walking network and what was left out."""

    source: str
    crs: str
    highway_ways: int
    walkable_ways: int
    excluded_ways: dict[str, int]
    segments: int
    steps_segments: int
    structure_segments: int
    dem: str | None
    components: int
    dropped_nodes: int
    dropped_length_m: float
    nodes: int
    links: int
    edges: int
    length_m: float
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as short lines of text."""
        return [
            f"source: {self.source}",
            f"ways: {self.walkable_ways} walkable of {self.highway_ways} highway ways"
            + (f" (left out: {_fmt_counts(self.excluded_ways)})" if self.excluded_ways else ""),
            f"segments: {self.segments} ({self.steps_segments} stairs, "
            f"{self.structure_segments} on bridges/tunnels)",
            f"elevation: {self.dem or 'no DEM (slope ignored)'}",
            f"components: {self.components}; kept the largest, dropped {self.dropped_nodes} "
            f"nodes / {self.dropped_length_m:,.0f} m in the others",
            f"graph: {self.nodes} junctions, {self.links} links, {self.edges} directed edges, "
            f"{self.length_m / 1000:,.1f} km of walkable way, CRS {self.crs}",
            *self.warnings,
        ]


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class WalkNetwork:
    """A walking network: junctions, links between them, and the segments of each link.

    Coordinates are metres in ``crs`` (a local UTM zone); times are walking minutes.

    Junction arrays (``node_*``, length ``n_nodes``) are the graph's nodes.  Link ``k``
    runs from ``link_u[k]`` to ``link_v[k]`` through segments
    ``link_seg_ptr[k]:link_seg_ptr[k+1]`` (rows of the ``seg_*`` arrays, in walking order
    from ``link_u``).  ``link_min_fwd`` is the time from u to v, ``link_min_back`` from v to
    u (``inf`` where walking that way is not allowed).  ``edge_*`` arrays are the directed
    edges of :attr:`graph` (one or two per link).

    Per segment: start/end ``seg_x0, seg_y0, seg_x1, seg_y1`` in link direction,
    ``seg_length_m``, ``seg_min_fwd``/``seg_min_back`` (in link direction / against it),
    ``seg_link``, ``seg_way_id`` (OSM), ``seg_is_steps``, ``seg_rise_m`` (NaN without DEM).
    """

    crs: pyproj.CRS
    node_x: F8
    node_y: F8
    node_lon: F8
    node_lat: F8
    node_osmid: I8
    node_elev_m: F8
    link_u: I8
    link_v: I8
    link_length_m: F8
    link_min_fwd: F8
    link_min_back: F8
    link_seg_ptr: I8
    seg_x0: F8
    seg_y0: F8
    seg_x1: F8
    seg_y1: F8
    seg_length_m: F8
    seg_min_fwd: F8
    seg_min_back: F8
    seg_link: I8
    seg_way_id: I8
    seg_is_steps: NDArray[np.bool_]
    seg_rise_m: F8
    edge_u: I8
    edge_v: I8
    edge_walk_min: F8
    edge_link: I8
    edge_forward: NDArray[np.bool_]
    graph: Graph
    profile: WalkingProfile
    report: NetworkReport

    @property
    def n_nodes(self) -> int:
        """Number of junctions (graph nodes)."""
        return int(self.node_x.shape[0])

    @property
    def n_links(self) -> int:
        """Number of links (undirected ways between junctions)."""
        return int(self.link_u.shape[0])

    @property
    def edge_length_m(self) -> F8:
        """Length of each directed edge, metres."""
        return self.link_length_m[self.edge_link]

    def links_frame(self) -> Any:
        """The links as a GeoDataFrame (LineStrings in :attr:`crs`)."""
        import geopandas as gpd
        import shapely

        coords_ptr = self.link_seg_ptr + np.arange(self.n_links + 1)
        xs = np.empty(self.seg_x0.shape[0] + self.n_links)
        ys = np.empty_like(xs)
        seg_rank = np.arange(self.seg_x0.shape[0]) + self.seg_link
        xs[seg_rank] = self.seg_x0
        ys[seg_rank] = self.seg_y0
        last = coords_ptr[1:] - 1
        ends = self.link_seg_ptr[1:] - 1
        xs[last] = self.seg_x1[ends]
        ys[last] = self.seg_y1[ends]
        counts = np.diff(coords_ptr)
        geoms = shapely.linestrings(
            np.column_stack([xs, ys]), indices=np.repeat(np.arange(self.n_links), counts)
        )
        steps_m = np.bincount(
            self.seg_link, weights=self.seg_length_m * self.seg_is_steps, minlength=self.n_links
        )
        return gpd.GeoDataFrame(
            {
                "u": self.link_u,
                "v": self.link_v,
                "length_m": self.link_length_m,
                "walk_min_fwd": self.link_min_fwd,
                "walk_min_back": self.link_min_back,
                "steps_m": steps_m,
            },
            geometry=geoms,
            crs=self.crs,
        )

    def nodes_frame(self) -> Any:
        """The junctions as a GeoDataFrame (Points in :attr:`crs`)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"osmid": self.node_osmid, "elev_m": self.node_elev_m},
            geometry=gpd.points_from_xy(self.node_x, self.node_y),
            crs=self.crs,
        )


DemGaps = Literal["raise", "flat"]
AreaLike = Any  # shapely geometry in WGS-84, a GeoDataFrame/GeoSeries with a CRS, or a file path


def walk_network_from_osm(
    path: str | Path,
    *,
    dem: str | Path | None = None,
    dem_gaps: DemGaps = "raise",
    area: AreaLike | None = None,
    profile: Profile | str | Path | None = None,
    progress: ProgressCallback | None = None,
) -> WalkNetwork:
    """Build the walking network of an OpenStreetMap extract.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` file.
    dem : str or Path, optional
        A DEM raster (GeoTIFF, any CRS) covering the network: walking times then depend on
        slope (uphill and downhill differ) and stairs know which way is up.
    dem_gaps : {"raise", "flat"}
        What to do where the DEM does not cover the network: ``"raise"`` (default) stops
        with a :class:`~linli.CoverageError` naming the points; ``"flat"`` walks those
        segments as flat and says how many in the report.
    area : polygon, GeoDataFrame, GeoSeries or path, optional
        Study area: only ways inside it are kept (a segment needs both ends inside).  A
        shapely geometry is taken as WGS-84; frames and files must carry a CRS.
    profile : Profile, name or path, optional
        Standards profile giving the speeds; default ``chongqing-2019``.
    progress : callable, optional
        ``progress(done, total)`` over the build's steps.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputError
        Unreadable or empty OSM file, no walkable ways; DEM unreadable, without CRS
        (:class:`~linli.CRSError`) or not covering the network (:class:`~linli.CoverageError`).

    Examples
    --------
    >>> net = walk_network_from_osm("yuzhong.osm.pbf", dem="yuzhong_dem.tif")  # doctest: +SKIP
    >>> net.report.lines()[0]  # doctest: +SKIP
    'source: yuzhong.osm.pbf'
    """
    report(progress, 0, 3)
    ways = read_walkable_ways(path)
    report(progress, 1, 3)
    net = walk_network_from_ways(ways, dem=dem, dem_gaps=dem_gaps, area=area, profile=profile)
    report(progress, 3, 3)
    return net


def walk_network_from_ways(
    ways: OsmWays,
    *,
    dem: str | Path | None = None,
    dem_gaps: DemGaps = "raise",
    area: AreaLike | None = None,
    profile: Profile | str | Path | None = None,
) -> WalkNetwork:
    """Build the walking network from ways already read (see :func:`walk_network_from_osm`)."""
    prof = profile if isinstance(profile, Profile) else load_profile(profile or "chongqing-2019")
    walking = prof.walking
    source = str(ways.path)

    node_osmid, first, inverse = np.unique(ways.node_id, return_index=True, return_inverse=True)
    node_lon = ways.lon[first]
    node_lat = ways.lat[first]
    crs = local_metric_crs(node_lon, node_lat)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    node_x, node_y = (
        np.asarray(a, dtype=np.float64) for a in to_metric.transform(node_lon, node_lat)
    )

    # Positions k with k+1 in the same way form a segment.
    way_of_pos = np.repeat(np.arange(ways.n_ways), np.diff(ways.way_ptr))
    same_way = way_of_pos[:-1] == way_of_pos[1:]
    a_all = inverse[:-1]
    b_all = inverse[1:]
    step_len = np.where(
        same_way, np.hypot(node_x[b_all] - node_x[a_all], node_y[b_all] - node_y[a_all]), 0.0
    )

    inside = np.ones(node_osmid.shape[0], dtype=bool)
    if area is not None:
        inside = _inside_area(area, node_lon, node_lat)
        if not inside.any():
            raise InputError(
                f"{source}: expected walkable ways inside the study area; found none of its "
                f"{node_osmid.shape[0]} way nodes inside"
            )
    node_elev = np.full(node_osmid.shape[0], np.nan)
    pos_elev: F8 | None = None
    warnings: list[str] = []
    if dem is not None:
        node_elev[inside] = _sample_dem(dem, node_lon[inside], node_lat[inside], dem_gaps)
        pair_ok = same_way & (a_all != b_all) & (step_len > 0)
        pair_structure = pair_ok & ways.on_structure[way_of_pos[:-1]]
        structure_node = np.zeros(node_osmid.shape[0], dtype=bool)
        structure_node[a_all[pair_structure]] = True
        structure_node[b_all[pair_structure]] = True
        # A bridge or tunnel cut by the study area still needs the ground at its far end.
        extra = structure_node & ~inside
        if extra.any():
            node_elev[extra] = _sample_dem(dem, node_lon[extra], node_lat[extra], "flat")
        ground_node = np.zeros(node_osmid.shape[0], dtype=bool)
        ground_pairs = pair_ok & ~pair_structure
        ground_node[a_all[ground_pairs]] = True
        ground_node[b_all[ground_pairs]] = True
        node_elev = _structure_elevations(
            node_elev,
            a_all[pair_structure],
            b_all[pair_structure],
            step_len[pair_structure],
            ground_node,
        )
        gaps = int((inside & ~np.isfinite(node_elev) & (ground_node | structure_node)).sum())
        if gaps:
            msg = f"DEM {dem} does not cover {gaps} way nodes: their segments are walked as flat"
            log.warning(msg)
            warnings.append(msg)
        pos_elev = node_elev[inverse]

    keep = same_way & (a_all != b_all) & (step_len > 0) & inside[a_all] & inside[b_all]
    pos = np.flatnonzero(keep)
    seg_a = a_all[pos].astype(np.int64)
    seg_b = b_all[pos].astype(np.int64)
    seg_way = way_of_pos[pos]
    seg_len = step_len[pos]
    rise = None if pos_elev is None else pos_elev[pos + 1] - pos_elev[pos]
    fwd, back = segment_minutes(
        seg_len,
        rise,
        is_steps=ways.is_steps[seg_way],
        incline=ways.incline[seg_way],
        oneway=ways.oneway_foot[seg_way],
        profile=walking,
    )

    # Largest strongly connected component over the segments' allowed directions.
    n_all = node_osmid.shape[0]
    ok_f = np.isfinite(fwd)
    ok_b = np.isfinite(back)
    adj = sparse.csr_array(
        (
            np.ones(int(ok_f.sum() + ok_b.sum())),
            (
                np.concatenate([seg_a[ok_f], seg_b[ok_b]]),
                np.concatenate([seg_b[ok_f], seg_a[ok_b]]),
            ),
        ),
        shape=(n_all, n_all),
    )
    used = np.zeros(n_all, dtype=bool)
    used[seg_a] = True
    used[seg_b] = True
    n_comp, comp = csgraph.connected_components(adj, directed=True, connection="strong")
    sizes = np.bincount(comp[used], minlength=n_comp)
    main = int(np.argmax(sizes))
    in_main = comp == main
    seg_in = in_main[seg_a] & in_main[seg_b]
    dropped_nodes = int((used & ~in_main).sum())
    dropped_len = float(seg_len[~seg_in].sum())
    n_components = int((sizes > 0).sum())
    if dropped_nodes:
        log.info(
            "%s: kept the largest of %d connected parts; dropped %d nodes (%.0f m of way)",
            source, n_components, dropped_nodes, dropped_len,
        )  # fmt: skip

    seg_a, seg_b, seg_way, seg_len = seg_a[seg_in], seg_b[seg_in], seg_way[seg_in], seg_len[seg_in]
    fwd, back = fwd[seg_in], back[seg_in]
    rise_kept = np.full(seg_a.shape[0], np.nan) if rise is None else rise[seg_in]

    if seg_a.shape[0] == 0:
        raise InputError(
            f"{source}: expected a walking network in which people can walk between places; "
            f"found {n_components} parts, none with a way walkable in both directions "
            f"(check oneway:foot tags and the extract's coverage)"
        )
    links = _chain_links(seg_a, seg_b, n_all)
    junction = np.zeros(n_all, dtype=bool)
    junction[links.u] = True
    junction[links.v] = True
    # Junctions numbered along a space-filling curve: searches then touch nearby memory.
    kept = np.flatnonzero(junction)
    kept = kept[_morton_order(node_x[kept], node_y[kept])]
    new_id = np.full(n_all, -1, dtype=np.int64)
    new_id[kept] = np.arange(kept.shape[0])
    order = links.segs
    flip = links.flip
    # Segment arrays in walking order along their link, oriented u -> v.
    s_a = np.where(flip, seg_b[order], seg_a[order])
    s_b = np.where(flip, seg_a[order], seg_b[order])
    s_fwd = np.where(flip, back[order], fwd[order])
    s_back = np.where(flip, fwd[order], back[order])
    s_len = seg_len[order]
    s_rise = np.where(flip, -rise_kept[order], rise_kept[order])
    seg_link = np.repeat(np.arange(links.u.shape[0]), np.diff(links.ptr))
    n_links = int(links.u.shape[0])
    link_len = np.bincount(seg_link, weights=s_len, minlength=n_links).astype(np.float64)
    link_fwd = _sum_with_inf(seg_link, s_fwd, n_links)
    link_back = _sum_with_inf(seg_link, s_back, n_links)
    link_u = new_id[links.u]
    link_v = new_id[links.v]

    ef = np.isfinite(link_fwd)
    eb = np.isfinite(link_back)
    edge_u = np.concatenate([link_u[ef], link_v[eb]])
    edge_v = np.concatenate([link_v[ef], link_u[eb]])
    edge_min = np.concatenate([link_fwd[ef], link_back[eb]])
    edge_link = np.concatenate([np.flatnonzero(ef), np.flatnonzero(eb)]).astype(np.int64)
    edge_forward = np.concatenate([np.ones(int(ef.sum()), bool), np.zeros(int(eb.sum()), bool)])
    n_nodes = int(junction.sum())
    graph = Graph.from_edges(edge_u, edge_v, edge_min, n_nodes=n_nodes)

    steps_segments = int(ways.is_steps[seg_way].sum())
    if steps_segments == 0:
        log.info("%s: no stairs (highway=steps) in the walking network", source)
    rep = NetworkReport(
        source=source,
        crs=str(crs.to_string()),
        highway_ways=ways.n_highway_ways,
        walkable_ways=ways.n_ways,
        excluded_ways=dict(ways.excluded),
        segments=int(seg_a.shape[0]),
        steps_segments=steps_segments,
        structure_segments=int(ways.on_structure[seg_way].sum()),
        dem=None if dem is None else str(dem),
        components=n_components,
        dropped_nodes=dropped_nodes,
        dropped_length_m=dropped_len,
        nodes=n_nodes,
        links=n_links,
        edges=int(edge_u.shape[0]),
        length_m=float(link_len.sum()),
        warnings=warnings,
    )
    return WalkNetwork(
        crs=crs,
        node_x=node_x[kept],
        node_y=node_y[kept],
        node_lon=node_lon[kept],
        node_lat=node_lat[kept],
        node_osmid=node_osmid[kept].astype(np.int64),
        node_elev_m=node_elev[kept],
        link_u=link_u,
        link_v=link_v,
        link_length_m=link_len,
        link_min_fwd=link_fwd,
        link_min_back=link_back,
        link_seg_ptr=links.ptr,
        seg_x0=node_x[s_a],
        seg_y0=node_y[s_a],
        seg_x1=node_x[s_b],
        seg_y1=node_y[s_b],
        seg_length_m=s_len,
        seg_min_fwd=s_fwd,
        seg_min_back=s_back,
        seg_link=seg_link.astype(np.int64),
        seg_way_id=ways.way_id[seg_way[order]],
        seg_is_steps=ways.is_steps[seg_way[order]],
        seg_rise_m=s_rise,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_walk_min=edge_min,
        edge_link=edge_link,
        edge_forward=edge_forward,
        graph=graph,
        profile=walking,
        report=rep,
    )


def _sample_dem(dem: str | Path, lon: F8, lat: F8, dem_gaps: DemGaps) -> F8:
    """Elevation at WGS-84 points; NaN where the DEM has no data if ``dem_gaps="flat"``."""
    from linli._errors import CoverageError
    from linli.network.dem import sample_elevation_m

    if dem_gaps not in ("raise", "flat"):
        raise InputError(f"dem_gaps: expected 'raise' or 'flat'; found {dem_gaps!r}")
    try:
        return sample_elevation_m(dem, lon, lat, crs="EPSG:4326")
    except CoverageError:
        if dem_gaps == "raise":
            raise
    # Sample point by point in blocks, keeping the points the DEM covers.
    out = np.full(lon.shape[0], np.nan)
    ok = _dem_covers(dem, lon, lat)
    if ok.any():
        try:
            out[ok] = sample_elevation_m(dem, lon[ok], lat[ok], crs="EPSG:4326")
        except CoverageError:
            for i in np.flatnonzero(ok):
                try:
                    out[i] = sample_elevation_m(
                        dem, lon[i : i + 1], lat[i : i + 1], crs="EPSG:4326"
                    )[0]
                except CoverageError:
                    continue
    return out


def _dem_covers(dem: str | Path, lon: F8, lat: F8) -> NDArray[np.bool_]:
    """Which WGS-84 points lie inside the DEM's bounds (one half cell in from the edge)."""
    import rasterio

    with rasterio.open(dem) as ds:
        to_dem = pyproj.Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
        x, y = to_dem.transform(lon, lat)
        b = ds.bounds
        hx, hy = abs(ds.res[0]) / 2, abs(ds.res[1]) / 2
        covered = (x > b.left + hx) & (x < b.right - hx) & (y > b.bottom + hy) & (y < b.top - hy)
        return np.asarray(covered, dtype=bool)


def _inside_area(area: AreaLike, lon: F8, lat: F8) -> NDArray[np.bool_]:
    """Which WGS-84 points lie inside a study area."""
    import geopandas as gpd
    import shapely

    if isinstance(area, str | Path):
        try:
            frame = gpd.read_file(area)
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputError(
                f"{area}: expected a study-area polygon file; cannot read it: {exc}"
            ) from exc
        area = frame
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise InputError(
                "study area: expected a CRS on the area's layer; found none (set one with set_crs)"
            )
        geom = shapely.union_all(area.to_crs("EPSG:4326").geometry.values)
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        raise InputError(
            "study area: expected a polygon, GeoDataFrame or file path; "
            f"found {type(area).__name__}"
        )
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"study area: expected a polygon; found {geom.geom_type}")
    return np.asarray(shapely.contains_xy(geom, lon, lat), dtype=bool)


def _morton_order(x: F8, y: F8) -> I8:
    """Order of points along a Z-order (Morton) curve on a 65,536 x 65,536 grid."""
    if x.size == 0:
        return np.empty(0, dtype=np.int64)

    def cells(v: F8) -> NDArray[np.uint64]:
        span = max(float(v.max() - v.min()), 1e-9)
        scaled: NDArray[np.uint64] = np.minimum((v - v.min()) / span * 65535.0, 65535.0).astype(
            np.uint64
        )
        return scaled

    def spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    code = spread(cells(x)) | (spread(cells(y)) << np.uint64(1))
    return np.argsort(code, kind="stable").astype(np.int64)


def _sum_with_inf(group: I8, values: F8, n: int) -> F8:
    """Per-group sums where any ``inf`` makes the group's sum ``inf``."""
    finite = np.isfinite(values)
    sums = np.bincount(group, weights=np.where(finite, values, 0.0), minlength=n)
    blocked = np.bincount(group, weights=(~finite).astype(np.float64), minlength=n) > 0
    return np.where(blocked, np.inf, sums)


def _structure_elevations(
    ground: F8, seg_a: I8, seg_b: I8, length_m: F8, on_ground_way: NDArray[np.bool_]
) -> F8:
    """Elevation of nodes, with bridges and tunnels following their decks, not the ground.

    Nodes of bridge/tunnel segments that also belong to a ground way, or end a structure,
    keep the DEM's height (the abutments); the others take the harmonic interpolation of the
    abutments over the structure's segments weighted by 1 / length, which along a chain is
    the straight grade between its ends, whatever the number of OSM ways it is split into.
    So a viaduct over a valley is not walked down and up again.
    """
    elev = ground.copy()
    if seg_a.size == 0:
        return elev
    n = ground.shape[0]
    degree = np.bincount(np.concatenate([seg_a, seg_b]), minlength=n)
    on_structure = degree > 0
    anchor = on_structure & (on_ground_way | (degree == 1)) & np.isfinite(ground)
    free = on_structure & ~anchor
    if not free.any():
        return elev
    w = 1.0 / np.maximum(length_m, 1e-6)
    adj = sparse.coo_array(
        (np.concatenate([w, w]), (np.concatenate([seg_a, seg_b]), np.concatenate([seg_b, seg_a]))),
        shape=(n, n),
    ).tocsr()
    # Only parts of the structure network that reach an abutment can be solved.
    n_comp, comp = csgraph.connected_components(adj, directed=False)
    has_anchor = np.zeros(n_comp, dtype=bool)
    has_anchor[comp[anchor]] = True
    solve = free & has_anchor[comp]
    if not solve.any():
        return elev
    idx = np.flatnonzero(solve)
    fixed = np.flatnonzero(anchor)
    a_ff = adj[idx][:, idx]
    a_fa = adj[idx][:, fixed]
    lap = sparse.diags(np.asarray(adj[idx].sum(axis=1)).ravel()) - a_ff
    rhs = a_fa @ ground[fixed]
    from scipy.sparse.linalg import spsolve

    elev[idx] = spsolve(lap.tocsc(), rhs)
    return elev


@dataclass(frozen=True)
class _Links:
    u: I8
    v: I8
    ptr: I8
    segs: I8
    flip: NDArray[np.bool_]


def _chain_links(seg_a: I8, seg_b: I8, n_nodes: int) -> _Links:
    """Merge segments through nodes of degree two into links between junctions.

    A junction is a node where the number of segment ends is not two (crossings, dead ends)
    or where a closed ring has no such node (one of its nodes is made the junction).
    """
    n_seg = seg_a.shape[0]
    ends = np.concatenate([seg_a, seg_b])
    degree = np.bincount(ends, minlength=n_nodes)
    # Incidence lists: for each node, the segments touching it.
    order = np.argsort(ends, kind="stable")
    inc_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(degree, out=inc_ptr[1:])
    inc_seg = (order % n_seg).astype(np.int64)
    is_junction = degree != 2
    used = np.zeros(n_seg, dtype=bool)
    u_out: list[int] = []
    v_out: list[int] = []
    ptr: list[int] = [0]
    segs: list[int] = []
    flips: list[bool] = []
    a_list = seg_a.tolist()
    b_list = seg_b.tolist()
    inc_ptr_l = inc_ptr.tolist()
    inc_seg_l = inc_seg.tolist()
    junction_l = is_junction.tolist()

    def walk(start: int, first_seg: int) -> None:
        node = start
        s = first_seg
        u_out.append(start)
        while True:
            used[s] = True
            forward = a_list[s] == node
            segs.append(s)
            flips.append(not forward)
            node = b_list[s] if forward else a_list[s]
            if junction_l[node] or node == start:
                break
            lo = inc_ptr_l[node]
            s0, s1 = inc_seg_l[lo], inc_seg_l[lo + 1]
            nxt = s1 if s0 == s else s0
            if used[nxt]:
                break
            s = nxt
        v_out.append(node)
        ptr.append(len(segs))

    for node in np.flatnonzero(is_junction & (degree > 0)).tolist():
        for j in range(inc_ptr_l[node], inc_ptr_l[node + 1]):
            s = inc_seg_l[j]
            if not used[s]:
                walk(node, s)
    # Closed rings of degree-two nodes only.
    for s in np.flatnonzero(~used).tolist():
        if not used[s]:
            start = a_list[s]
            junction_l[start] = True
            walk(start, s)
    if not u_out:
        raise InputError(
            "walking network: expected at least one segment after cleaning; found none"
        )
    return _Links(
        u=np.asarray(u_out, dtype=np.int64),
        v=np.asarray(v_out, dtype=np.int64),
        ptr=np.asarray(ptr, dtype=np.int64),
        segs=np.asarray(segs, dtype=np.int64),
        flip=np.asarray(flips, dtype=bool),
    )
