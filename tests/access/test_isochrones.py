"""Isochrone polygons: exact reach on hand-made lines, consistency with minutes on Yuzhong."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import require_shared
from linli.access import walk_minutes_within
from linli.access.isochrones import isochrones
from linli.network import attach_points, walk_network_from_osm
from osm_fixtures import ORIGIN_M, nodes_at, write_osm

SPEED = 80.0  # chongqing-2019 flat walking speed, m/min


def _line_network(tmp_path, tags):
    # A straight 2,000 m way east-west through 21 nodes, 100 m apart.
    xy = {i + 1: (100.0 * i, 0.0) for i in range(21)}
    path = write_osm(tmp_path / "line.osm", nodes_at(xy), [(1, list(xy), tags)])
    return walk_network_from_osm(path)


def _source_at(dx_m, dy_m=0.0):
    return gpd.GeoDataFrame(
        {"name": ["s"]},
        geometry=[shapely.Point(ORIGIN_M[0] + dx_m, ORIGIN_M[1] + dy_m)],
        crs="EPSG:32648",
    )


def test_reach_along_a_straight_way_is_speed_times_minutes(tmp_path):
    net = _line_network(tmp_path, {"highway": "footway"})
    iso = isochrones(net, _source_at(1000.0), cutoffs_min=(5.0, 10.0), buffer_m=10.0)
    by_cut = iso.set_index("cutoff_min")
    # 5 min at 80 m/min: 400 m each way; 10 min: 800 m each way.
    assert by_cut.loc[5.0, "reached_m"] == pytest.approx(800.0, abs=0.05)
    assert by_cut.loc[10.0, "reached_m"] == pytest.approx(1600.0, abs=0.05)
    minx, _, maxx, _ = by_cut.loc[10.0, "geometry"].bounds
    assert maxx - minx == pytest.approx(1600.0 + 2 * 10.0, abs=0.5)


def test_a_source_off_the_way_spends_its_access_leg_first(tmp_path):
    net = _line_network(tmp_path, {"highway": "footway"})
    # 80 m north of the way: one minute of the ten is spent reaching it.
    iso = isochrones(net, _source_at(1000.0, 80.0), cutoffs_min=(10.0,), buffer_m=5.0)
    assert iso["reached_m"].iloc[0] == pytest.approx(2 * 9 * SPEED, abs=0.05)


def test_reach_is_clipped_at_the_network_end(tmp_path):
    net = _line_network(tmp_path, {"highway": "footway"})
    iso = isochrones(net, _source_at(100.0), cutoffs_min=(10.0,), buffer_m=5.0)
    # 100 m to the west end, 800 m east.
    assert iso["reached_m"].iloc[0] == pytest.approx(900.0, abs=0.05)


def test_one_way_for_pedestrians_reaches_one_side_only(tmp_path):
    # A 400 m x 400 m square walked one way only (east along the bottom, then north, ...).
    corners = {1: (0.0, 0.0), 2: (400.0, 0.0), 3: (400.0, 400.0), 4: (0.0, 400.0)}
    mids = {10 + i: (100.0 * i, 0.0) for i in range(1, 4)}
    ways = [
        (1, [1, 11, 12, 13, 2], {"highway": "footway", "oneway:foot": "yes"}),
        (2, [2, 3], {"highway": "footway", "oneway:foot": "yes"}),
        (3, [3, 4], {"highway": "footway", "oneway:foot": "yes"}),
        (4, [4, 1], {"highway": "footway", "oneway:foot": "yes"}),
    ]
    path = write_osm(tmp_path / "square.osm", nodes_at({**corners, **mids}), ways)
    net = walk_network_from_osm(path)
    iso = isochrones(net, _source_at(200.0), cutoffs_min=(5.0,), buffer_m=5.0)
    # 5 min = 400 m, all of it ahead (east then north): 200 m to the corner, 200 m up.
    assert iso["reached_m"].iloc[0] == pytest.approx(400.0, abs=0.05)
    west = shapely.Point(ORIGIN_M[0] + 50.0, ORIGIN_M[1])
    north = shapely.Point(ORIGIN_M[0] + 400.0, ORIGIN_M[1] + 150.0)
    assert not iso.geometry.iloc[0].contains(west)
    assert iso.geometry.iloc[0].contains(north)


def test_stairs_shrink_the_reach(tmp_path):
    flat = _line_network(tmp_path, {"highway": "footway"})
    stairs = _line_network(tmp_path, {"highway": "steps"})
    src = _source_at(1000.0)
    a = isochrones(flat, src, cutoffs_min=(10.0,))["reached_m"].iloc[0]
    b = isochrones(stairs, src, cutoffs_min=(10.0,))["reached_m"].iloc[0]
    assert b < a


def test_negative_cutoff_is_refused(tmp_path):
    net = _line_network(tmp_path, {"highway": "footway"})
    with pytest.raises(ValueError, match="cutoffs_min"):
        isochrones(net, _source_at(1000.0), cutoffs_min=(-1.0,))


@pytest.fixture(scope="module")
def yuzhong():
    base = require_shared("chongqing/yuzhong")
    net = walk_network_from_osm(
        base / "yuzhong.osm.pbf",
        dem=base / "terrain" / "chongqingZ_elevation_utm.tif",
        dem_gaps="flat",
    )
    pois = gpd.read_file(base / "derived_geojson" / "commercial_pois.geojson")
    return net, pois


def test_yuzhong_isochrones_contain_every_junction_reached(yuzhong):
    net, pois = yuzhong
    sources = pois.iloc[:5]
    iso = isochrones(net, sources, cutoffs_min=(10.0, 20.0))
    junctions = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.node_x, net.node_y), crs=net.crs)
    reach = walk_minutes_within(net, sources, junctions, cutoff_min=20.0).to_frame()
    for (source, cutoff), row in iso.set_index(["source", "cutoff_min"]).iterrows():
        inside = reach[(reach.origin == source) & (reach.walk_min <= cutoff)].destination
        pts = shapely.points(net.node_x[inside.to_numpy()], net.node_y[inside.to_numpy()])
        assert len(pts) > 0
        assert shapely.covers(row.geometry, pts).all()


def test_yuzhong_ten_minutes_lie_within_twenty(yuzhong):
    net, pois = yuzhong
    iso = isochrones(net, pois.iloc[:3], cutoffs_min=(10.0, 20.0))
    for _, grp in iso.groupby("source"):
        small = grp[grp.cutoff_min == 10.0].geometry.iloc[0]
        large = grp[grp.cutoff_min == 20.0].geometry.iloc[0]
        assert small.difference(large).area < 1e-6 * small.area
        assert large.area > small.area


def test_reused_attachment_gives_the_same_polygons(yuzhong):
    net, pois = yuzhong
    att = attach_points(net, pois.iloc[:2])
    a = isochrones(net, att, cutoffs_min=(10.0,))
    b = isochrones(net, pois.iloc[:2], cutoffs_min=(10.0,))
    assert np.allclose(a["reached_m"], b["reached_m"])
