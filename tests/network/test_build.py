"""Tests of linli.network.build: the walking network from OSM, with stairs, slope and links."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import rasterio
import rasterio.errors
import shapely

from conftest import require_shared
from linli import CoverageError, CRSError, InputError
from linli.inputs.osm import read_walkable_ways
from linli.network import WalkNetwork, walk_network_from_osm
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, UTM48N, lonlat, nodes_at, utm, write_osm

WALKING = load_profile().walking
V = WALKING.speed_m_per_min

YUZHONG = "chongqing/yuzhong/yuzhong.osm.pbf"
YUZHONG_DEM = "chongqing/yuzhong/terrain/chongqingZ_elevation_utm.tif"
YUZHONG_BOUNDARY = "chongqing/yuzhong/derived_geojson/yuzhong_district_boundary_osm.geojson"
YUZHONG_OSMNX_EDGES = "chongqing/yuzhong/derived_geojson/walk_network_edges_osmnx.geojson"


def tobler(grade: float) -> float:
    """Tobler's factor relative to the flat (reference implementation, clipped like linli)."""
    g = min(max(grade, -WALKING.max_grade), WALKING.max_grade)
    b = WALKING.tobler_b
    return math.exp(-WALKING.tobler_a * abs(g + b)) / math.exp(-WALKING.tobler_a * b)


def xy_of(nodes: list[tuple[int, float, float]]) -> dict[int, tuple[float, float]]:
    """UTM 48N metres of the nodes as written (independent of the code under test)."""
    ids = [n for n, _, _ in nodes]
    x, y = utm([lon for _, lon, _ in nodes], [lat for _, _, lat in nodes])
    return {i: (float(a), float(b)) for i, a, b in zip(ids, x, y, strict=True)}


def path_length(xy: dict[int, tuple[float, float]], ids: list[int]) -> float:
    return sum(math.dist(xy[a], xy[b]) for a, b in itertools.pairwise(ids))


def write_dem(
    path: Path,
    height: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    x0: float,
    y0: float,
    width: int,
    rows: int,
    cell: float = 10.0,
    crs: str | None = UTM48N,
) -> Path:
    """A GeoTIFF whose cell centres hold ``height(dx, dy)``, offsets in metres from ORIGIN_M.

    ``x0, y0`` is the top-left corner (offsets from ORIGIN_M).  Bilinear interpolation between
    cell centres reproduces ``height`` exactly wherever it is linear.
    """
    cols = x0 + (np.arange(width) + 0.5) * cell
    rws = y0 - (np.arange(rows) + 0.5) * cell
    dx, dy = np.meshgrid(cols, rws)
    data = np.asarray(height(dx, dy), dtype=np.float32)
    transform = rasterio.Affine(cell, 0.0, ORIGIN_M[0] + x0, 0.0, -cell, ORIGIN_M[1] + y0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=width, height=rows, count=1, dtype="float32",
            crs=crs, transform=transform,
        ) as dst:  # fmt: skip
            dst.write(data, 1)
    return path


def segments_of_way(net: WalkNetwork, way_id: int) -> np.ndarray:
    return np.flatnonzero(net.seg_way_id == way_id)


def east_oriented(
    net: WalkNetwork, segs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x0, rise, minutes eastwards and westwards of segments, whatever their link's direction."""
    east = net.seg_x1[segs] > net.seg_x0[segs]
    x0 = np.where(east, net.seg_x0[segs], net.seg_x1[segs])
    rise = np.where(east, net.seg_rise_m[segs], -net.seg_rise_m[segs])
    to_east = np.where(east, net.seg_min_fwd[segs], net.seg_min_back[segs])
    to_west = np.where(east, net.seg_min_back[segs], net.seg_min_fwd[segs])
    order = np.argsort(x0)
    return x0[order], rise[order], to_east[order], to_west[order]


# ---------------------------------------------------------------------------------------------
# A tiny network: a cross with long arms, a ring at the end of one arm, and an island
# ---------------------------------------------------------------------------------------------

CROSS_XY = {
    1: (0.0, 0.0),
    **{10 + k: (0.0, 50.0 * (k + 1)) for k in range(4)},  # north arm: 10..13
    **{20 + k: (50.0 * (k + 1), 0.0) for k in range(4)},  # east arm: 20..23
    **{30 + k: (0.0, -50.0 * (k + 1)) for k in range(4)},  # south arm: 30..33
    **{40 + k: (-50.0 * (k + 1), 0.0) for k in range(4)},  # west arm: 40..43
    # A ring through the north tip (node 13).
    50: (30.0, 200.0), 51: (60.0, 200.0), 52: (60.0, 230.0), 53: (60.0, 260.0),
    54: (30.0, 260.0), 55: (0.0, 260.0), 56: (0.0, 230.0),
    # An island footway 80 m long, far to the east.
    90: (600.0, 0.0), 91: (680.0, 0.0),
}  # fmt: skip
RING = [13, 50, 51, 52, 53, 54, 55, 56, 13]
CROSS_WAYS = [
    (100, [1, 10, 11, 12, 13], {"highway": "footway"}),
    (101, [1, 20, 21], {"highway": "residential"}),  # the east arm is two ways
    (102, [21, 22, 23], {"highway": "residential"}),
    (103, [1, 30, 31, 32, 33], {"highway": "pedestrian"}),
    (104, [43, 42, 41, 40, 1], {"highway": "footway"}),  # drawn towards the centre
    (105, RING, {"highway": "footway"}),
    (106, [90, 91], {"highway": "footway"}),
    (107, [23, 91], {"highway": "motorway"}),  # does not join the island
]
# The routes of the links between junctions, as OSM node ids.
CROSS_LINKS = [
    [1, 10, 11, 12, 13],
    [1, 20, 21, 22, 23],
    [1, 30, 31, 32, 33],
    [1, 40, 41, 42, 43],
    RING,
]


@pytest.fixture
def cross(tmp_path: Path) -> tuple[Path, dict[int, tuple[float, float]]]:
    nodes = nodes_at(CROSS_XY)
    return write_osm(tmp_path / "cross.osm", nodes, CROSS_WAYS), xy_of(nodes)


def link_routes(net: WalkNetwork) -> dict[tuple[int, int], int]:
    """Links by their (sorted) end OSM ids."""
    return {
        tuple(sorted((int(net.node_osmid[u]), int(net.node_osmid[v])))): k
        for k, (u, v) in enumerate(zip(net.link_u, net.link_v, strict=True))
    }


def test_degree_two_nodes_are_merged_into_links(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    net = walk_network_from_osm(path)
    assert sorted(net.node_osmid.tolist()) == [1, 13, 23, 33, 43]
    assert net.n_nodes == 5
    assert sorted(link_routes(net)) == [(1, 13), (1, 23), (1, 33), (1, 43), (13, 13)]
    assert net.n_links == 5
    assert net.seg_x0.shape[0] == sum(len(r) - 1 for r in CROSS_LINKS)
    # Every link is two-way: ten directed edges in the graph.
    assert net.edge_u.shape[0] == net.graph.n_edges == 10


def test_link_lengths_are_sums_of_segment_lengths(cross: tuple[Path, dict]) -> None:
    path, xy = cross
    net = walk_network_from_osm(path)
    links = link_routes(net)
    for route in CROSS_LINKS:
        k = links[tuple(sorted((route[0], route[-1])))]
        expected = path_length(xy, route)
        assert net.link_length_m[k] == pytest.approx(expected, rel=1e-9)
        segs = slice(net.link_seg_ptr[k], net.link_seg_ptr[k + 1])
        assert net.seg_length_m[segs].sum() == pytest.approx(expected, rel=1e-9)
        assert (net.seg_link[segs] == k).all()
        assert net.link_min_fwd[k] == pytest.approx(expected / V, rel=1e-9)
        assert net.link_min_back[k] == pytest.approx(expected / V, rel=1e-9)


def test_segments_of_a_link_run_end_to_end_from_u_to_v(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    net = walk_network_from_osm(path)
    for k in range(net.n_links):
        lo, hi = net.link_seg_ptr[k], net.link_seg_ptr[k + 1]
        u, v = net.link_u[k], net.link_v[k]
        assert (net.seg_x0[lo], net.seg_y0[lo]) == (net.node_x[u], net.node_y[u])
        assert (net.seg_x1[hi - 1], net.seg_y1[hi - 1]) == (net.node_x[v], net.node_y[v])
        np.testing.assert_array_equal(net.seg_x1[lo : hi - 1], net.seg_x0[lo + 1 : hi])
        np.testing.assert_array_equal(net.seg_y1[lo : hi - 1], net.seg_y0[lo + 1 : hi])
        seg_len = np.hypot(
            net.seg_x1[lo:hi] - net.seg_x0[lo:hi], net.seg_y1[lo:hi] - net.seg_y0[lo:hi]
        )
        np.testing.assert_allclose(net.seg_length_m[lo:hi], seg_len, rtol=1e-12)


def test_ring_survives_as_a_loop(cross: tuple[Path, dict]) -> None:
    path, xy = cross
    net = walk_network_from_osm(path)
    k = link_routes(net)[(13, 13)]
    assert net.link_u[k] == net.link_v[k]
    assert net.link_length_m[k] == pytest.approx(path_length(xy, RING), rel=1e-9)
    assert net.link_seg_ptr[k + 1] - net.link_seg_ptr[k] == len(RING) - 1


def test_a_network_that_is_only_a_ring(tmp_path: Path) -> None:
    square = {1: (0, 0), 2: (40, 0), 3: (80, 0), 4: (80, 40), 5: (40, 40), 6: (0, 40)}
    nodes = nodes_at(square)
    ring = [1, 2, 3, 4, 5, 6, 1]
    net = walk_network_from_osm(
        write_osm(tmp_path / "ring.osm", nodes, [(1, ring, {"highway": "footway"})])
    )
    assert net.n_nodes == 1
    assert net.n_links == 1
    assert net.link_u[0] == net.link_v[0] == 0
    assert net.link_length_m[0] == pytest.approx(path_length(xy_of(nodes), ring), rel=1e-9)
    assert net.report.length_m == pytest.approx(240.0, abs=0.01)


def test_total_length_is_the_sum_of_kept_segments(cross: tuple[Path, dict]) -> None:
    path, xy = cross
    net = walk_network_from_osm(path)
    expected = sum(path_length(xy, r) for r in CROSS_LINKS)
    assert net.report.length_m == pytest.approx(expected, rel=1e-9)
    assert net.link_length_m.sum() == pytest.approx(expected, rel=1e-9)
    assert net.seg_length_m.sum() == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(net.edge_length_m, net.link_length_m[net.edge_link], rtol=0)


def test_smaller_components_are_dropped_and_reported(cross: tuple[Path, dict]) -> None:
    path, xy = cross
    net = walk_network_from_osm(path)
    assert 90 not in net.node_osmid
    assert 91 not in net.node_osmid
    rep = net.report
    assert rep.components == 2
    assert rep.dropped_nodes == 2
    assert rep.dropped_length_m == pytest.approx(math.dist(xy[90], xy[91]), rel=1e-9)
    assert rep.highway_ways == 8
    assert rep.walkable_ways == 7
    assert rep.excluded_ways == {"highway=motorway": 1}
    assert rep.segments == net.seg_x0.shape[0]
    assert (rep.nodes, rep.links, rep.edges) == (net.n_nodes, net.n_links, net.edge_u.shape[0])
    assert rep.steps_segments == 0
    assert rep.dem is None
    assert rep.crs == UTM48N
    text = "\n".join(rep.lines())
    assert f"dropped {rep.dropped_nodes} nodes" in text
    assert "no DEM" in text


def test_edges_match_links_and_graph(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    net = walk_network_from_osm(path)
    fwd = net.edge_forward
    k = net.edge_link
    np.testing.assert_array_equal(net.edge_u[fwd], net.link_u[k[fwd]])
    np.testing.assert_array_equal(net.edge_v[fwd], net.link_v[k[fwd]])
    np.testing.assert_array_equal(net.edge_u[~fwd], net.link_v[k[~fwd]])
    np.testing.assert_array_equal(net.edge_walk_min[fwd], net.link_min_fwd[k[fwd]])
    np.testing.assert_array_equal(net.edge_walk_min[~fwd], net.link_min_back[k[~fwd]])
    g = net.graph
    pairs = {
        (u, int(g.adj[j])): float(g.walk_min[j])
        for u in range(g.n_nodes)
        for j in range(g.indptr[u], g.indptr[u + 1])
    }
    assert pairs == {
        (int(u), int(v)): float(w)
        for u, v, w in zip(net.edge_u, net.edge_v, net.edge_walk_min, strict=True)
    }


def test_links_and_nodes_frames(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    net = walk_network_from_osm(path)
    links = net.links_frame()
    assert links.crs == net.crs
    assert len(links) == net.n_links
    np.testing.assert_allclose(links.length.to_numpy(), net.link_length_m, rtol=1e-9)
    starts = shapely.get_point(links.geometry.values, 0)
    ends = shapely.get_point(links.geometry.values, -1)
    np.testing.assert_array_equal(shapely.get_x(starts), net.node_x[net.link_u])
    np.testing.assert_array_equal(shapely.get_y(ends), net.node_y[net.link_v])
    assert (links["steps_m"] == 0).all()
    nodes = net.nodes_frame()
    assert nodes.crs == net.crs
    assert nodes["osmid"].tolist() == net.node_osmid.tolist()
    # Junction positions agree with their longitude/latitude.
    x, y = utm(net.node_lon, net.node_lat)
    np.testing.assert_allclose(net.node_x, x, atol=1e-6)
    np.testing.assert_allclose(net.node_y, y, atol=1e-6)


def test_progress_reaches_the_end(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    calls: list[tuple[int, int]] = []
    walk_network_from_osm(path, progress=lambda done, total: calls.append((done, total)))
    assert calls
    assert calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# ---------------------------------------------------------------------------------------------
# One-way ways and strong connectivity
# ---------------------------------------------------------------------------------------------


def test_oneway_ways_keep_strongly_connected_parts_only(tmp_path: Path) -> None:
    xy = {1: (0, 0), 2: (100, 0), 3: (50, 80), 4: (50, 160), 5: (50, 240)}
    nodes = nodes_at(xy)
    one = {"highway": "footway", "oneway:foot": "yes"}
    ways = [
        (1, [3, 1], one),  # a one-way triangle 3 -> 1 -> 2 -> 3
        (2, [1, 2], one),
        (3, [2, 3], one),
        (4, [3, 4], {"highway": "footway"}),  # a two-way spur
        (5, [4, 5], one),  # a one-way spur: from 5 there is no way back
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "oneway.osm", nodes, ways))
    m = xy_of(nodes)
    assert sorted(net.node_osmid.tolist()) == [3, 4]
    assert net.report.dropped_nodes == 1
    assert net.report.dropped_length_m == pytest.approx(math.dist(m[4], m[5]), rel=1e-9)
    assert net.report.components == 2
    (loop,) = np.flatnonzero(net.link_u == net.link_v)
    fwd, back = net.link_min_fwd[loop], net.link_min_back[loop]
    assert np.isfinite([fwd, back]).sum() == 1
    perimeter = path_length(m, [3, 1, 2, 3])
    assert min(fwd, back) == pytest.approx(perimeter / V, rel=1e-9)
    # Walking the loop the allowed way, the first node after junction 3 is node 1.
    lo, hi = net.link_seg_ptr[loop], net.link_seg_ptr[loop + 1]
    first_x = net.seg_x1[lo] if np.isfinite(fwd) else net.seg_x0[hi - 1]
    assert first_x == pytest.approx(m[1][0], abs=1e-6)
    assert net.edge_u.shape[0] == 3  # the loop one way, the spur both ways


def test_only_one_way_ways_without_a_way_back(tmp_path: Path) -> None:
    nodes = nodes_at({1: (0, 0), 2: (100, 0), 3: (200, 0)})
    one = {"highway": "footway", "oneway:foot": "yes"}
    path = write_osm(tmp_path / "one_way.osm", nodes, [(1, [1, 2], one), (2, [2, 3], one)])
    with pytest.raises(
        InputError,
        match=r"one_way\.osm: expected a walking network .*found 3 parts, none with a way",
    ):
        walk_network_from_osm(path)


# ---------------------------------------------------------------------------------------------
# The study area
# ---------------------------------------------------------------------------------------------


def area_box() -> shapely.Polygon:
    lon, lat = lonlat(
        ORIGIN_M[0] + np.array([-10.0, 210.0]), ORIGIN_M[1] + np.array([-10.0, 110.0])
    )
    return shapely.box(lon[0], lat[0], lon[1], lat[1])


def test_area_keeps_segments_with_both_ends_inside(cross: tuple[Path, dict]) -> None:
    path, xy = cross
    net = walk_network_from_osm(path, area=area_box())
    # Left: the east arm and the first 100 m of the north arm, which now meet at node 1 only.
    assert sorted(net.node_osmid.tolist()) == [11, 23]
    assert net.n_links == 1
    assert net.report.length_m == pytest.approx(
        path_length(xy, [11, 10, 1, 20, 21, 22, 23]), rel=1e-9
    )


def test_area_as_frame_or_file_gives_the_same_network(
    cross: tuple[Path, dict], tmp_path: Path
) -> None:
    path, _ = cross
    reference = walk_network_from_osm(path, area=area_box())
    frame = gpd.GeoDataFrame(geometry=[area_box()], crs="EPSG:4326")
    file = tmp_path / "area.geojson"
    frame.to_file(file, driver="GeoJSON")
    for area in (frame, frame.to_crs(UTM48N), frame.geometry, file, str(file)):
        net = walk_network_from_osm(path, area=area)
        np.testing.assert_array_equal(net.node_osmid, reference.node_osmid)
        assert net.report.length_m == pytest.approx(reference.report.length_m, rel=1e-12)


def test_area_without_crs(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    frame = gpd.GeoDataFrame(geometry=[area_box()])
    with pytest.raises(
        InputError, match="study area: expected a CRS on the area's layer; found none"
    ):
        walk_network_from_osm(path, area=frame)


def test_area_that_is_not_a_polygon(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    with pytest.raises(InputError, match="study area: expected a polygon; found LineString"):
        walk_network_from_osm(path, area=shapely.LineString([(106.5, 29.5), (106.6, 29.6)]))
    with pytest.raises(
        InputError, match="study area: expected a polygon, GeoDataFrame or file path; found list"
    ):
        walk_network_from_osm(path, area=[106.5, 29.5, 106.6, 29.6])


def test_area_away_from_the_ways(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    helsinki = shapely.box(24.9, 60.1, 25.0, 60.2)
    with pytest.raises(
        InputError, match=r"cross\.osm: expected walkable ways inside the study area; found none"
    ):
        walk_network_from_osm(path, area=helsinki)


def test_area_file_unreadable(cross: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = cross
    bad = tmp_path / "area.geojson"
    bad.write_text("not geojson", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"area\.geojson: expected a study-area polygon file; cannot read it"
    ):
        walk_network_from_osm(path, area=bad)


# ---------------------------------------------------------------------------------------------
# Stairs
# ---------------------------------------------------------------------------------------------


def test_stairs_are_slower_than_flat_walking_of_the_same_length(tmp_path: Path) -> None:
    xy = {1: (0, 0), 2: (40, 0), 3: (80, 0), 4: (120, 0)}
    nodes = nodes_at(xy)
    ways = [
        (1, [1, 2], {"highway": "footway"}),
        (2, [2, 3], {"highway": "steps"}),
        (3, [3, 4], {"highway": "steps", "incline": "up"}),
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "stairs.osm", nodes, ways))
    assert net.report.steps_segments == 2
    flat = segments_of_way(net, 1)
    untagged = segments_of_way(net, 2)
    tagged = segments_of_way(net, 3)
    length = net.seg_length_m
    np.testing.assert_allclose(length[flat], length[untagged], atol=0.01)
    assert net.seg_is_steps[untagged].all()
    assert not net.seg_is_steps[flat].any()
    # Untagged stairs without a DEM: the mean of up and down both ways.
    mean = (1 / WALKING.steps_up_m_per_min + 1 / WALKING.steps_down_m_per_min) / 2
    np.testing.assert_allclose(net.seg_min_fwd[untagged], length[untagged] * mean, rtol=1e-12)
    np.testing.assert_allclose(net.seg_min_back[untagged], length[untagged] * mean, rtol=1e-12)
    assert (net.seg_min_fwd[untagged] > net.seg_min_fwd[flat]).all()
    # Tagged up (eastwards): up-speed going east, down-speed going west.
    _, _, to_east, to_west = east_oriented(net, tagged)
    np.testing.assert_allclose(to_east, length[tagged] / WALKING.steps_up_m_per_min, rtol=1e-12)
    np.testing.assert_allclose(to_west, length[tagged] / WALKING.steps_down_m_per_min, rtol=1e-12)
    assert (to_west > net.seg_min_fwd[flat]).all()
    assert "2 stairs" in "\n".join(net.report.lines())
    steps_m = net.links_frame()["steps_m"].sum()
    assert steps_m == pytest.approx(length[untagged].sum() + length[tagged].sum(), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Slope from a DEM, bridges and tunnels
# ---------------------------------------------------------------------------------------------


def plane(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return 200.0 + 0.1 * dx + 0.0 * dy


@pytest.fixture
def slope_dem(tmp_path: Path) -> Path:
    """A plane rising 10 % eastwards over dx -100..700 m, dy -300..300 m."""
    return write_dem(tmp_path / "slope.tif", plane, x0=-100.0, y0=300.0, width=80, rows=60)


def test_uphill_is_slower_than_downhill_by_toblers_function(
    tmp_path: Path, slope_dem: Path
) -> None:
    xy = {1: (0, 0), 2: (50, 0), 3: (100, 0), 4: (100, 60), 5: (0, 60)}
    nodes = nodes_at(xy)
    ways = [
        (1, [1, 2, 3], {"highway": "footway"}),  # up the slope
        (2, [3, 4], {"highway": "footway"}),  # level (along the contour)
        (3, [4, 5, 1], {"highway": "footway"}),
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "hill.osm", nodes, ways), dem=slope_dem)
    assert net.report.dem == str(slope_dem)
    _, rise, to_east, to_west = east_oriented(net, segments_of_way(net, 1))
    length = np.full(2, 50.0)
    np.testing.assert_allclose(rise, 5.0, atol=0.01)
    np.testing.assert_allclose(to_east, length / (V * tobler(0.1)), rtol=1e-3)
    np.testing.assert_allclose(to_west, length / (V * tobler(-0.1)), rtol=1e-3)
    assert (to_east > to_west).all()
    level = segments_of_way(net, 2)
    np.testing.assert_allclose(net.seg_rise_m[level], 0.0, atol=0.01)
    np.testing.assert_allclose(net.seg_min_fwd[level], net.seg_min_back[level], rtol=1e-3)
    # Junction elevations are the plane's.
    m = xy_of(nodes)
    for i, osmid in enumerate(net.node_osmid):
        dx = m[int(osmid)][0] - ORIGIN_M[0]
        assert net.node_elev_m[i] == pytest.approx(200.0 + 0.1 * dx, abs=0.01)


def test_stairs_take_their_direction_from_the_dem_unless_tagged(
    tmp_path: Path, slope_dem: Path
) -> None:
    xy = {1: (0, 0), 2: (30, 0), 3: (60, 0), 4: (90, 0)}
    nodes = nodes_at(xy)
    ways = [
        (1, [1, 2], {"highway": "footway"}),
        (2, [2, 3], {"highway": "steps"}),  # climbs eastwards on the DEM
        (
            3,
            [4, 3],
            {"highway": "steps", "incline": "up"},
        ),  # drawn westwards, tagged up: the tag wins
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "steps.osm", nodes, ways), dem=slope_dem)
    up, down = WALKING.steps_up_m_per_min, WALKING.steps_down_m_per_min
    for way, east_speed, west_speed in ((2, up, down), (3, down, up)):
        segs = segments_of_way(net, way)
        _, _, to_east, to_west = east_oriented(net, segs)
        np.testing.assert_allclose(to_east, net.seg_length_m[segs] / east_speed, rtol=1e-12)
        np.testing.assert_allclose(to_west, net.seg_length_m[segs] / west_speed, rtol=1e-12)


def valley(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """A valley whose floor (at dx = 300) is 150 m below its west rim and 180 m below the east."""
    return 300.0 + 0.5 * np.abs(dx - 300.0) + 0.05 * dx + 0.0 * dy


def hill(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    return 600.0 - 0.5 * np.abs(dx - 300.0) + 0.05 * dx + 0.0 * dy


ACROSS = list(range(1, 14))  # nodes every 50 m from dx = 0 to dx = 600


@pytest.mark.parametrize(("tag", "height"), [("bridge", valley), ("tunnel", hill)])
def test_bridges_and_tunnels_take_the_grade_between_their_ends(
    tmp_path: Path, tag: str, height: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> None:
    dem = write_dem(tmp_path / f"{tag}.tif", height, x0=-105.0, y0=300.0, width=81, rows=60)
    # The ground way runs beneath the structure through nodes of its own (as OSM maps a
    # street under a viaduct), meeting it only at the two ends.
    below = [1, *(100 + i for i in ACROSS[1:-1]), ACROSS[-1]]
    nodes = nodes_at(
        {
            **{i: (50.0 * (i - 1), 0.0) for i in ACROSS},
            **{100 + i: (50.0 * (i - 1), 0.0) for i in ACROSS[1:-1]},
        }
    )
    ways = [
        (1, ACROSS, {"highway": "footway", tag: "yes"}),
        (2, below, {"highway": "footway"}),
    ]
    net = walk_network_from_osm(write_osm(tmp_path / f"{tag}.osm", nodes, ways), dem=dem)
    assert net.report.structure_segments == len(ACROSS) - 1
    end_grade = (height(np.array(600.0), 0.0) - height(np.array(0.0), 0.0)) / 600.0  # 0.05
    structure = segments_of_way(net, 1)
    _, rise, to_east, to_west = east_oriented(net, structure)
    grade = rise / net.seg_length_m[structure]
    np.testing.assert_allclose(grade, end_grade, atol=1e-4)
    np.testing.assert_allclose(to_east, 50.0 / (V * tobler(end_grade)), rtol=1e-3)
    np.testing.assert_allclose(to_west, 50.0 / (V * tobler(-end_grade)), rtol=1e-3)
    # The ground way goes down into the valley (or up the hill) and out again.
    ground = segments_of_way(net, 2)
    x0, g_rise, _, _ = east_oriented(net, ground)
    g_grade = g_rise / net.seg_length_m[ground]
    west, east = (-0.45, 0.55) if tag == "bridge" else (0.55, -0.45)
    expected = np.where(x0 - ORIGIN_M[0] < 300.0 - 1.0, west, east)
    np.testing.assert_allclose(g_grade, expected, atol=1e-3)
    assert np.ptp(g_grade) > 0.9


def test_a_bridge_mapped_as_two_ways_is_not_walked_down_into_the_valley(tmp_path: Path) -> None:
    """OSM splits long bridges into several ways (at ramps, or where tags change).

    The builder's promise — a viaduct over a valley is not walked down and up again — should
    hold for the bridge as a whole, not only for each of its pieces.
    """
    dem = write_dem(tmp_path / "valley.tif", valley, x0=-105.0, y0=300.0, width=81, rows=60)
    nodes = nodes_at({i: (50.0 * (i - 1), 0.0) for i in ACROSS})
    middle = 7  # at dx = 300, above the valley floor
    ways = [
        (1, ACROSS[:middle], {"highway": "footway", "bridge": "yes"}),
        (2, ACROSS[middle - 1 :], {"highway": "footway", "bridge": "yes"}),
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "bridge2.osm", nodes, ways), dem=dem)
    bridge = np.concatenate([segments_of_way(net, 1), segments_of_way(net, 2)])
    _, rise, _, _ = east_oriented(net, bridge)
    grade = rise / net.seg_length_m[bridge]
    # Across the valley from rim to rim: 30 m over 600 m.
    np.testing.assert_allclose(grade, 0.05, atol=1e-3)


def test_a_bridge_cut_by_the_area_keeps_its_grade(tmp_path: Path) -> None:
    """The bridge's far end lies outside the study area, but on the DEM: its grade is known."""
    dem = write_dem(tmp_path / "valley.tif", valley, x0=-105.0, y0=300.0, width=81, rows=60)
    nodes = nodes_at({i: (50.0 * (i - 1), 0.0) for i in ACROSS} | {20: (0.0, -100.0)})
    ways = [
        (1, ACROSS, {"highway": "footway", "bridge": "yes"}),
        (2, [20, 1], {"highway": "footway"}),
    ]
    lon, lat = lonlat(
        ORIGIN_M[0] + np.array([-20.0, 420.0]), ORIGIN_M[1] + np.array([-120.0, 20.0])
    )
    area = shapely.box(lon[0], lat[0], lon[1], lat[1])  # the bridge from dx = 0 to 400
    net = walk_network_from_osm(write_osm(tmp_path / "cut.osm", nodes, ways), dem=dem, area=area)
    bridge = segments_of_way(net, 1)
    assert bridge.size == 8
    _, rise, _, _ = east_oriented(net, bridge)
    np.testing.assert_allclose(rise / net.seg_length_m[bridge], 0.05, atol=1e-3)


def test_no_dem_means_no_slope(cross: tuple[Path, dict]) -> None:
    path, _ = cross
    net = walk_network_from_osm(path)
    assert np.isnan(net.seg_rise_m).all()
    assert np.isnan(net.node_elev_m).all()
    np.testing.assert_array_equal(net.seg_min_fwd, net.seg_min_back)


# ---------------------------------------------------------------------------------------------
# DEM errors and gaps
# ---------------------------------------------------------------------------------------------


def test_dem_that_does_not_cover_the_network(cross: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = cross
    far = write_dem(tmp_path / "far_away.tif", plane, x0=5000.0, y0=300.0, width=20, rows=20)
    with pytest.raises(
        CoverageError, match=r"far_away\.tif: the DEM does not cover \d+ of \d+ points"
    ) as info:
        walk_network_from_osm(path, dem=far)
    assert isinstance(info.value, InputError)


def test_dem_gaps_flat_walks_uncovered_segments_flat(
    cross: tuple[Path, dict], tmp_path: Path
) -> None:
    path, xy = cross
    # Covers dx -100..100 m, dy -300..300: the north and south arms and the centre, not the
    # tips of the east and west arms nor the ring.
    dem = write_dem(tmp_path / "half.tif", plane, x0=-100.0, y0=300.0, width=20, rows=60)
    net = walk_network_from_osm(path, dem=dem, dem_gaps="flat")
    # The island (nodes 90, 91) counts too: it is dropped only after the DEM is sampled.
    uncovered = [
        n
        for n, (x, y) in xy.items()
        if not (-95 < x - ORIGIN_M[0] < 95 and -295 < y - ORIGIN_M[1] < 295)
    ]
    assert len(uncovered) == 8
    assert any(str(len(uncovered)) + " way nodes" in w for w in net.report.warnings)
    assert any("half.tif" in w for w in net.report.warnings)
    # Segments with an uncovered end: no rise, the same time both ways.
    gap = np.isnan(net.seg_rise_m)
    assert gap.any()
    assert (~gap).any()
    np.testing.assert_array_equal(net.seg_min_fwd[gap], net.seg_min_back[gap])
    east_west = np.abs(net.seg_x1 - net.seg_x0) > 1.0
    assert (net.seg_min_fwd[~gap & east_west] != net.seg_min_back[~gap & east_west]).all()


def test_dem_gaps_flat_with_a_dem_elsewhere(cross: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = cross
    far = write_dem(tmp_path / "elsewhere.tif", plane, x0=5000.0, y0=300.0, width=20, rows=20)
    net = walk_network_from_osm(path, dem=far, dem_gaps="flat")
    assert np.isnan(net.seg_rise_m).all()
    np.testing.assert_array_equal(net.seg_min_fwd, net.seg_min_back)
    assert net.report.warnings


def test_bad_dem_gaps_value(cross: tuple[Path, dict], slope_dem: Path) -> None:
    path, _ = cross
    with pytest.raises(InputError, match=r"dem_gaps: expected 'raise' or 'flat'; found 'ignore'"):
        walk_network_from_osm(path, dem=slope_dem, dem_gaps="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize("dem_gaps", ["raise", "flat"])
def test_dem_that_is_not_a_raster(cross: tuple[Path, dict], tmp_path: Path, dem_gaps: str) -> None:
    path, _ = cross
    dem = tmp_path / "dem.tif"
    dem.write_text("elevation: high\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dem\.tif: expected a DEM raster GDAL can read"):
        walk_network_from_osm(path, dem=dem, dem_gaps=dem_gaps)  # type: ignore[arg-type]


def test_dem_that_does_not_exist(cross: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = cross
    with pytest.raises(
        InputError, match=r"missing\.tif: expected a DEM raster .*found no such file"
    ):
        walk_network_from_osm(path, dem=tmp_path / "missing.tif")


def test_dem_without_crs(cross: tuple[Path, dict], tmp_path: Path) -> None:
    path, _ = cross
    dem = write_dem(tmp_path / "nocrs.tif", plane, x0=-100.0, y0=300.0, width=80, rows=60, crs=None)
    with pytest.raises(CRSError, match=r"nocrs\.tif: DEM has no CRS"):
        walk_network_from_osm(path, dem=dem)


def test_osm_errors_pass_through(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent\.osm\.pbf: expected an OpenStreetMap file"):
        walk_network_from_osm(tmp_path / "absent.osm.pbf")


def test_a_way_is_not_walked_straight_across_nodes_missing_from_the_extract(tmp_path: Path) -> None:
    """A way leaving a clipped extract and coming back must not get a shortcut across the gap.

    Here a U-shaped street goes north from 1 to 2, out of the extract (node 99), and back in
    at 3 before coming south to 4.  Walking from 2 to 3 in a straight line is not possible.
    """
    xy = {1: (0, 0), 2: (0, 100), 3: (100, 100), 4: (100, 0)}
    nodes = nodes_at(xy)
    ways = [
        (1, [1, 2, 99, 3, 4], {"highway": "residential"}),  # node 99 is not in the file
        (2, [1, 4], {"highway": "footway"}),
    ]
    net = walk_network_from_osm(write_osm(tmp_path / "gap.osm", nodes, ways))
    m = xy_of(nodes)
    ends = {
        frozenset({(round(a, 3), round(b, 3)), (round(c, 3), round(d, 3))})
        for a, b, c, d in zip(net.seg_x0, net.seg_y0, net.seg_x1, net.seg_y1, strict=True)
    }
    shortcut = frozenset({tuple(round(v, 3) for v in m[2]), tuple(round(v, 3) for v in m[3])})
    assert shortcut not in ends, "a straight segment joins nodes 2 and 3 across the missing node 99"


# ---------------------------------------------------------------------------------------------
# Yuzhong, the real thing
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yuzhong() -> WalkNetwork:
    return walk_network_from_osm(require_shared(YUZHONG))


@pytest.fixture(scope="module")
def yuzhong_dem() -> WalkNetwork:
    """The whole extract with the DEM; the DEM covers the centre only, the rest is flat."""
    return walk_network_from_osm(
        require_shared(YUZHONG), dem=require_shared(YUZHONG_DEM), dem_gaps="flat"
    )


def dem_footprint(inset_m: float) -> gpd.GeoDataFrame:
    with rasterio.open(require_shared(YUZHONG_DEM)) as ds:
        b = ds.bounds
        crs = ds.crs.to_string()
    box = shapely.box(b.left, b.bottom, b.right, b.top).buffer(-inset_m, join_style="mitre")
    return gpd.GeoDataFrame(geometry=[box], crs=crs)


def test_yuzhong_builds_with_a_plausible_report(yuzhong: WalkNetwork) -> None:
    net, rep = yuzhong, yuzhong.report
    assert rep.crs == UTM48N
    assert rep.highway_ways == rep.walkable_ways + sum(rep.excluded_ways.values())
    assert rep.excluded_ways  # motorways, foot=no …
    assert rep.steps_segments > 100  # a mountain city
    assert rep.steps_segments == int(net.seg_is_steps.sum())
    assert rep.structure_segments > 0
    assert rep.components > 1
    assert rep.dropped_nodes > 0
    assert 0 < rep.dropped_length_m < 0.1 * rep.length_m
    assert rep.segments == net.seg_x0.shape[0]
    assert (rep.nodes, rep.links, rep.edges) == (net.n_nodes, net.n_links, net.graph.n_edges)
    assert rep.length_m == pytest.approx(net.seg_length_m.sum(), rel=1e-9)
    assert rep.length_m == pytest.approx(net.link_length_m.sum(), rel=1e-9)
    assert 1000 < rep.nodes < rep.segments
    # Segments are short (OSM nodes every few metres to a few hundred metres).
    assert np.median(net.seg_length_m) < 50.0
    assert net.seg_length_m.min() > 0.0
    assert "stairs" in "\n".join(rep.lines())


def segment_digraph(
    net: WalkNetwork, *, decimals: int = 3
) -> tuple[nx.DiGraph, list[tuple[float, float]]]:
    """The unsimplified network: segment ends as nodes (rounded coordinates), minutes as weights."""
    g = nx.DiGraph()
    p0 = list(
        zip(
            np.round(net.seg_x0, decimals).tolist(),
            np.round(net.seg_y0, decimals).tolist(),
            strict=True,
        )
    )
    p1 = list(
        zip(
            np.round(net.seg_x1, decimals).tolist(),
            np.round(net.seg_y1, decimals).tolist(),
            strict=True,
        )
    )

    def add(a: tuple[float, float], b: tuple[float, float], w: float) -> None:
        if np.isfinite(w) and (not g.has_edge(a, b) or g[a][b]["weight"] > w):
            g.add_edge(a, b, weight=w)

    for a, b, f, r in zip(p0, p1, net.seg_min_fwd.tolist(), net.seg_min_back.tolist(), strict=True):
        add(a, b, f)
        add(b, a, r)
    junctions = list(
        zip(
            np.round(net.node_x, decimals).tolist(),
            np.round(net.node_y, decimals).tolist(),
            strict=True,
        )
    )
    return g, junctions


def test_yuzhong_kept_network_is_strongly_connected(yuzhong_dem: WalkNetwork) -> None:
    g, junctions = segment_digraph(yuzhong_dem)
    assert nx.is_strongly_connected(g)
    assert set(junctions) <= set(g.nodes)
    assert len(set(junctions)) == yuzhong_dem.n_nodes


def test_yuzhong_links_give_the_same_shortest_walks_as_segments(yuzhong_dem: WalkNetwork) -> None:
    net = yuzhong_dem
    seg_graph, junctions = segment_digraph(net)
    link_graph = nx.DiGraph()
    for u, v, w in zip(
        net.edge_u.tolist(), net.edge_v.tolist(), net.edge_walk_min.tolist(), strict=True
    ):
        if u != v and (not link_graph.has_edge(u, v) or link_graph[u][v]["weight"] > w):
            link_graph.add_edge(u, v, weight=w)
    rng = np.random.default_rng(2024)
    sources = rng.choice(net.n_nodes, size=5, replace=False)
    compared = 0
    for s in sources.tolist():
        by_links = nx.single_source_dijkstra_path_length(link_graph, s)
        by_segments = nx.single_source_dijkstra_path_length(seg_graph, junctions[s])
        targets = rng.choice(net.n_nodes, size=10, replace=False)
        for t in targets.tolist():
            assert by_links[t] == pytest.approx(by_segments[junctions[t]], rel=1e-9, abs=1e-9)
            compared += 1
        # And every other junction too.
        got = np.array([by_links[t] for t in range(net.n_nodes)])
        want = np.array([by_segments[junctions[t]] for t in range(net.n_nodes)])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert compared == 50


def test_yuzhong_stairs_are_slower_than_flat_walking(yuzhong: WalkNetwork) -> None:
    net = yuzhong
    steps = net.seg_is_steps
    flat_min = net.seg_length_m / V
    assert (np.minimum(net.seg_min_fwd, net.seg_min_back)[steps] > flat_min[steps]).all()
    walk = ~steps & np.isfinite(net.seg_min_fwd)
    np.testing.assert_allclose(net.seg_min_fwd[walk], flat_min[walk], rtol=1e-12)


def test_yuzhong_slope_makes_uphill_slower(yuzhong_dem: WalkNetwork) -> None:
    net = yuzhong_dem
    steps = net.seg_is_steps
    known = np.isfinite(net.seg_rise_m)
    two_way = np.isfinite(net.seg_min_fwd) & np.isfinite(net.seg_min_back)
    walk = ~steps & known & two_way
    differ = walk & (net.seg_min_fwd != net.seg_min_back)
    assert differ.sum() > 1000
    grade = net.seg_rise_m / net.seg_length_m
    steep_up = walk & (grade > WALKING.tobler_b)
    steep_down = walk & (grade < -WALKING.tobler_b)
    assert steep_up.sum() > 100
    assert steep_down.sum() > 100
    assert (net.seg_min_fwd[steep_up] > net.seg_min_back[steep_up]).all()
    assert (net.seg_min_fwd[steep_down] < net.seg_min_back[steep_down]).all()
    # The minutes are Tobler's, both ways.
    expected_fwd = net.seg_length_m[walk] / (V * np.array([tobler(g) for g in grade[walk]]))
    expected_back = net.seg_length_m[walk] / (V * np.array([tobler(-g) for g in grade[walk]]))
    np.testing.assert_allclose(net.seg_min_fwd[walk], expected_fwd, rtol=1e-9)
    np.testing.assert_allclose(net.seg_min_back[walk], expected_back, rtol=1e-9)
    # Outside the DEM the extract is walked flat.
    assert (~known).any()
    gap = ~known & ~steps & two_way
    np.testing.assert_allclose(net.seg_min_fwd[gap], net.seg_min_back[gap], rtol=1e-12)


def test_yuzhong_stairs_take_up_and_down_speeds(yuzhong_dem: WalkNetwork) -> None:
    net = yuzhong_dem
    ways = read_walkable_ways(require_shared(YUZHONG))
    incline = dict(zip(ways.way_id.tolist(), ways.incline.tolist(), strict=True))
    tagged = np.array([incline[w] != 0 for w in net.seg_way_id.tolist()])
    steps = net.seg_is_steps & np.isfinite(net.seg_min_fwd) & np.isfinite(net.seg_min_back)
    rise = np.nan_to_num(net.seg_rise_m)
    directed = steps & (tagged | (rise != 0))
    assert directed.sum() > 100
    up = net.seg_length_m / WALKING.steps_up_m_per_min
    down = net.seg_length_m / WALKING.steps_down_m_per_min
    slow = np.maximum(net.seg_min_fwd, net.seg_min_back)
    fast = np.minimum(net.seg_min_fwd, net.seg_min_back)
    np.testing.assert_allclose(slow[directed], up[directed], rtol=1e-12)
    np.testing.assert_allclose(fast[directed], down[directed], rtol=1e-12)
    # Untagged stairs climb where the DEM rises.
    by_dem = steps & ~tagged & (rise > 0)
    assert by_dem.any()
    np.testing.assert_allclose(net.seg_min_fwd[by_dem], up[by_dem], rtol=1e-12)
    # Stairs that neither a tag nor the DEM orients take the mean both ways.
    unknown = steps & ~tagged & (rise == 0)
    np.testing.assert_allclose(
        net.seg_min_fwd[unknown], (up[unknown] + down[unknown]) / 2, rtol=1e-12
    )


def test_yuzhong_dem_does_not_cover_the_whole_extract() -> None:
    dem = require_shared(YUZHONG_DEM)
    with pytest.raises(
        CoverageError, match=r"chongqingZ_elevation_utm\.tif: the DEM does not cover"
    ):
        walk_network_from_osm(require_shared(YUZHONG), dem=dem)


def test_yuzhong_dem_does_not_cover_the_district_boundary() -> None:
    """The SRTM tile stops a little short of the district's south-western edge."""
    dem = require_shared(YUZHONG_DEM)
    boundary = require_shared(YUZHONG_BOUNDARY)
    with pytest.raises(
        CoverageError, match=r"chongqingZ_elevation_utm\.tif: the DEM does not cover"
    ):
        walk_network_from_osm(require_shared(YUZHONG), dem=dem, area=boundary)


def test_yuzhong_inside_the_dem_needs_no_gaps() -> None:
    boundary = gpd.read_file(require_shared(YUZHONG_BOUNDARY))
    footprint = dem_footprint(inset_m=60.0).to_crs(boundary.crs)
    area = gpd.overlay(boundary, footprint, how="intersection")
    net = walk_network_from_osm(require_shared(YUZHONG), dem=require_shared(YUZHONG_DEM), area=area)
    assert net.report.warnings == []
    assert np.isfinite(net.node_elev_m).all()
    assert np.isfinite(net.seg_rise_m[~structure_segments(net)]).all()
    # SRTM heights of Yuzhong: the rivers at about 160 m, the ridge above 350 m.
    assert 130.0 < net.node_elev_m.min() < 200.0
    assert 300.0 < net.node_elev_m.max() < 420.0


def structure_segments(net: WalkNetwork) -> np.ndarray:
    ways = read_walkable_ways(require_shared(YUZHONG))
    on = dict(zip(ways.way_id.tolist(), ways.on_structure.tolist(), strict=True))
    return np.array([on[w] for w in net.seg_way_id.tolist()])


def test_yuzhong_bridges_cut_by_the_area_keep_their_slope() -> None:
    """Inside a study area the DEM covers, every segment has a rise, bridges included.

    (Bridges and tunnels that cross the area's edge take their grade from their end nodes;
    those outside the area are not sampled, and the structure is walked flat, silently.)
    """
    boundary = gpd.read_file(require_shared(YUZHONG_BOUNDARY))
    footprint = dem_footprint(inset_m=60.0).to_crs(boundary.crs)
    area = gpd.overlay(boundary, footprint, how="intersection")
    net = walk_network_from_osm(require_shared(YUZHONG), dem=require_shared(YUZHONG_DEM), area=area)
    structure = structure_segments(net)
    assert structure.sum() > 100
    assert net.report.warnings == []
    assert np.isfinite(net.seg_rise_m[structure]).all()


def test_yuzhong_network_compares_with_osmnx() -> None:
    """Our walking network clipped to the district vs osmnx's walk edges of the same data.

    osmnx (network_type="walk") keeps much the same ways; its edge file has every street
    both ways (6,866 directed edges).  Lengths are compared undirected, within 10 %.
    """
    edges = gpd.read_file(require_shared(YUZHONG_OSMNX_EDGES), columns=["highway"])
    osmnx_m = edges.to_crs(UTM48N).length.sum() / 2.0
    osmnx_steps = edges["highway"].astype(str).str.contains("steps")
    net = walk_network_from_osm(require_shared(YUZHONG), area=require_shared(YUZHONG_BOUNDARY))
    assert net.report.length_m == pytest.approx(osmnx_m, rel=0.10)
    assert net.report.edges == pytest.approx(len(edges), rel=0.10)
    # osmnx merges stairs with the footways they continue into one edge, so its stairs lie
    # between the edges that are stairs only and the edges that include some.
    steps_m = net.seg_length_m[net.seg_is_steps].sum()
    highway = edges["highway"].astype(str)
    only_steps_m = edges.loc[highway == "['steps']"].to_crs(UTM48N).length.sum() / 2.0
    some_steps_m = edges.loc[osmnx_steps].to_crs(UTM48N).length.sum() / 2.0
    assert only_steps_m < steps_m < some_steps_m


# ---------------------------------------------------------------------------------------------
# Other cities (no DEM)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        "osm-samples/Helsinki.osm.pbf",
        "osm-samples/porto.osm.pbf",
        "osm-samples/sao_paulo_spo_osm.pbf",
    ],
)
def test_other_cities_build(relative: str) -> None:
    path = require_shared(relative)
    net = walk_network_from_osm(path)
    lon = float(np.median(net.node_lon))
    lat = float(np.median(net.node_lat))
    zone = math.floor((lon + 180.0) / 6.0) + 1
    assert net.report.crs == f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"
    assert net.n_nodes > 500
    assert net.report.length_m > 50_000
    assert net.report.dem is None
    assert net.graph.n_edges == net.edge_u.shape[0]


def test_helsinki_with_a_chongqing_dem() -> None:
    with pytest.raises(
        CoverageError, match=r"chongqingZ_elevation_utm\.tif: the DEM does not cover"
    ):
        walk_network_from_osm(
            require_shared("osm-samples/Helsinki.osm.pbf"), dem=require_shared(YUZHONG_DEM)
        )
