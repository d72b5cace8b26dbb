"""Tests of linli.network.snap: attaching points to the walking network."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import require_shared
from linli import InputError
from linli.network import WalkNetwork, attach_points, walk_network_from_osm
from linli.network.snap import Attachment, same_link_minutes
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, UTM48N, nodes_at, utm, write_osm

WALKING = load_profile().walking
V = WALKING.speed_m_per_min
UP = WALKING.steps_up_m_per_min
DOWN = WALKING.steps_down_m_per_min

# A street from A (west) to B (east): footway A-P, stairs P-Q climbing east, footway Q-B;
# at B a north-south street C-B-D makes B a junction.
A, P, Q, B, C, D = 1, 2, 3, 4, 5, 6
STREET_XY = {A: (0, 0), P: (100, 0), Q: (140, 0), B: (300, 0), C: (300, 200), D: (300, -200)}
STREET_WAYS = [
    (1, [A, P], {"highway": "footway"}),
    (2, [P, Q], {"highway": "steps", "incline": "up"}),
    (3, [Q, B], {"highway": "footway"}),
    (4, [C, B, D], {"highway": "residential"}),
]


class Street:
    """The street network and its nodes' true positions (UTM 48N metres)."""

    def __init__(self, tmp_path: Path) -> None:
        nodes = nodes_at(STREET_XY)
        self.net = walk_network_from_osm(write_osm(tmp_path / "street.osm", nodes, STREET_WAYS))
        x, y = utm([lon for _, lon, _ in nodes], [lat for _, _, lat in nodes])
        self.xy = {n: np.array([a, b]) for (n, _, _), a, b in zip(nodes, x, y, strict=True)}

    def at(self, dx: float, dy: float) -> np.ndarray:
        return np.array([ORIGIN_M[0] + dx, ORIGIN_M[1] + dy])

    def foot(self, point: np.ndarray, a: int, b: int) -> tuple[float, float, np.ndarray]:
        """Distance from ``a`` to the foot of ``point`` on a-b; access distance; the foot."""
        d = self.xy[b] - self.xy[a]
        t = float(np.dot(point - self.xy[a], d) / np.dot(d, d))
        foot = self.xy[a] + t * d
        return t * float(np.linalg.norm(d)), float(np.linalg.norm(point - foot)), foot

    def length(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.xy[b] - self.xy[a]))

    def ends(self, att: Attachment, i: int) -> dict[str, float]:
        """Minutes to and from the west/east (or south/north) ends of point ``i``'s link."""
        net = self.net
        k = att.link[i]
        u_first = net.node_x[net.link_u[k]] < net.node_x[net.link_v[k]] or (
            net.node_x[net.link_u[k]] == net.node_x[net.link_v[k]]
            and net.node_y[net.link_u[k]] < net.node_y[net.link_v[k]]
        )
        to_u, to_v = att.to_u_min[i], att.to_v_min[i]
        from_u, from_v = att.from_u_min[i], att.from_v_min[i]
        if not u_first:
            to_u, to_v, from_u, from_v = to_v, to_u, from_v, from_u
        return {"to_west": to_u, "to_east": to_v, "from_west": from_u, "from_east": from_v}


@pytest.fixture
def street(tmp_path: Path) -> Street:
    return Street(tmp_path)


def frame(points: dict[str, np.ndarray], crs: str | None = UTM48N) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(
            [p[0] for p in points.values()], [p[1] for p in points.values()]
        ),
        index=pd.Index(list(points), name="name"),
        crs=crs,
    )


# ---------------------------------------------------------------------------------------------
# Where points attach
# ---------------------------------------------------------------------------------------------


def test_point_beside_a_segment_attaches_at_its_foot(street: Street) -> None:
    point = street.at(50.0, 30.0)
    att = attach_points(street.net, point[None, :])
    along, access, foot = street.foot(point, A, P)
    assert att.n_points == 1
    assert att.access_m[0] == pytest.approx(access, abs=1e-6)
    assert access == pytest.approx(30.0, abs=0.01)
    assert (att.foot_x[0], att.foot_y[0]) == pytest.approx((foot[0], foot[1]), abs=1e-6)
    assert att.frac[0] == pytest.approx(along / street.length(A, P), abs=1e-9)
    assert att.access_min[0] == pytest.approx(access / V, rel=1e-12)
    seg = att.seg[0]
    assert street.net.seg_link[seg] == att.link[0]
    assert street.net.seg_way_id[seg] == 1


def test_points_beyond_the_end_attach_to_the_end(street: Street) -> None:
    point = street.at(-40.0, 30.0)  # west of A
    att = attach_points(street.net, point[None, :])
    assert att.access_m[0] == pytest.approx(float(np.linalg.norm(point - street.xy[A])), abs=1e-6)
    assert (att.foot_x[0], att.foot_y[0]) == pytest.approx(tuple(street.xy[A]), abs=1e-6)
    ends = street.ends(att, 0)
    assert ends["to_west"] == pytest.approx(att.access_min[0], rel=1e-12)


def test_minutes_to_and_from_the_link_ends(street: Street) -> None:
    on_footway = street.at(50.0, 30.0)
    on_stairs = street.at(120.0, -10.0)
    att = attach_points(street.net, np.vstack([on_footway, on_stairs]))
    l1, ls, l3 = street.length(A, P), street.length(P, Q), street.length(Q, B)

    a, acc, _ = street.foot(on_footway, A, P)
    got = street.ends(att, 0)
    assert got["to_west"] == pytest.approx(acc / V + a / V, rel=1e-9)
    assert got["from_west"] == pytest.approx(acc / V + a / V, rel=1e-9)
    assert got["to_east"] == pytest.approx(acc / V + (l1 - a) / V + ls / UP + l3 / V, rel=1e-9)
    assert got["from_east"] == pytest.approx(acc / V + l3 / V + ls / DOWN + (l1 - a) / V, rel=1e-9)

    a, acc, _ = street.foot(on_stairs, P, Q)
    got = street.ends(att, 1)
    assert got["to_west"] == pytest.approx(acc / V + a / DOWN + l1 / V, rel=1e-9)
    assert got["from_west"] == pytest.approx(acc / V + l1 / V + a / UP, rel=1e-9)
    assert got["to_east"] == pytest.approx(acc / V + (ls - a) / UP + l3 / V, rel=1e-9)
    assert got["from_east"] == pytest.approx(acc / V + l3 / V + (ls - a) / DOWN, rel=1e-9)
    # The foot's distance from the link's start.
    net = street.net
    k = att.link[1]
    west_first = net.node_x[net.link_u[k]] < net.node_x[net.link_v[k]]
    along_west = l1 + a
    expected_along = along_west if west_first else l1 + ls + l3 - along_west
    assert att.along_m[1] == pytest.approx(expected_along, rel=1e-9)


def test_walking_through_a_point_costs_the_link(street: Street) -> None:
    """From u to the point and on to v is the link's time, plus the access leg twice."""
    rng = np.random.default_rng(11)
    pts = np.column_stack(
        [ORIGIN_M[0] + rng.uniform(0, 300, 200), ORIGIN_M[1] + rng.uniform(-200, 200, 200)]
    )
    att = attach_points(street.net, pts)
    net = street.net
    np.testing.assert_allclose(
        att.from_u_min + att.to_v_min - 2 * att.access_min, net.link_min_fwd[att.link], rtol=1e-9
    )
    np.testing.assert_allclose(
        att.from_v_min + att.to_u_min - 2 * att.access_min, net.link_min_back[att.link], rtol=1e-9
    )
    # Nearest: no segment is closer than the one chosen.
    segs = shapely.linestrings(
        np.stack(
            [np.column_stack([net.seg_x0, net.seg_y0]), np.column_stack([net.seg_x1, net.seg_y1])],
            axis=1,
        )
    )
    dist = shapely.distance(shapely.points(pts)[:, None], segs[None, :])
    np.testing.assert_allclose(att.access_m, dist.min(axis=1), atol=1e-6)


def test_point_on_a_one_way_loop(tmp_path: Path) -> None:
    xy = {1: (0, 0), 2: (100, 0), 3: (50, 80), 4: (50, 160)}
    one = {"highway": "footway", "oneway:foot": "yes"}
    ways = [
        (1, [3, 1], one),
        (2, [1, 2], one),
        (3, [2, 3], one),
        (4, [3, 4], {"highway": "footway"}),
    ]
    nodes = nodes_at(xy)
    net = walk_network_from_osm(write_osm(tmp_path / "loop.osm", nodes, ways))
    x, y = utm([lon for _, lon, _ in nodes], [lat for _, _, lat in nodes])
    m = {n: np.array([a, b]) for (n, _, _), a, b in zip(nodes, x, y, strict=True)}
    point = np.array([ORIGIN_M[0] + 40.0, ORIGIN_M[1] - 5.0])  # beside 1 -> 2
    att = attach_points(net, point[None, :])
    foot = np.array([att.foot_x[0], att.foot_y[0]])
    # The way on is to 2 and round to 3; the way back to 3 is through 1 and must go the other way.
    onward = np.linalg.norm(m[2] - foot) + np.linalg.norm(m[3] - m[2])
    coming = np.linalg.norm(m[1] - m[3]) + np.linalg.norm(foot - m[1])
    to = sorted([att.to_u_min[0], att.to_v_min[0]])
    frm = sorted([att.from_u_min[0], att.from_v_min[0]])
    assert to[0] == pytest.approx(att.access_min[0] + onward / V, rel=1e-9)
    assert frm[0] == pytest.approx(att.access_min[0] + coming / V, rel=1e-9)
    assert math.isinf(to[1])
    assert math.isinf(frm[1])


def test_polygons_attach_by_a_point_on_their_surface(street: Street) -> None:
    # A U-shaped building north of the street whose centroid lies outside it (in the courtyard).
    x0, y0 = ORIGIN_M[0] + 150.0, ORIGIN_M[1] + 40.0
    u_shape = shapely.Polygon(
        [(x0, y0), (x0 + 60, y0), (x0 + 60, y0 + 60), (x0 + 45, y0 + 60), (x0 + 45, y0 + 15),
         (x0 + 15, y0 + 15), (x0 + 15, y0 + 60), (x0, y0 + 60)]
    )  # fmt: skip
    assert not u_shape.contains(u_shape.centroid)
    on_surface = shapely.point_on_surface(u_shape)
    assert u_shape.contains(on_surface)
    polygons = gpd.GeoDataFrame(geometry=[u_shape], index=["school"], crs=UTM48N)
    att = attach_points(street.net, polygons)
    ref = attach_points(street.net, np.array([[on_surface.x, on_surface.y]]))
    assert att.labels.tolist() == ["school"]
    for name in ("seg", "access_m", "foot_x", "foot_y", "to_u_min", "to_v_min", "from_u_min"):
        np.testing.assert_allclose(getattr(att, name), getattr(ref, name), rtol=1e-12, err_msg=name)
    _, access, _ = street.foot(np.array([on_surface.x, on_surface.y]), Q, B)
    assert att.access_m[0] == pytest.approx(access, abs=1e-6)


def test_points_in_another_crs_attach_alike(street: Street) -> None:
    points = {"clinic": street.at(50.0, 30.0), "market": street.at(280.0, 120.0)}
    metric = frame(points)
    att_m = attach_points(street.net, metric)
    att_ll = attach_points(street.net, metric.to_crs("EPSG:4326"))
    att_series = attach_points(street.net, metric.geometry)
    for att in (att_ll, att_series):
        np.testing.assert_array_equal(att.seg, att_m.seg)
        np.testing.assert_allclose(att.access_m, att_m.access_m, atol=1e-5)
        np.testing.assert_allclose(att.to_u_min, att_m.to_u_min, rtol=1e-6)
    assert att_m.labels.tolist() == ["clinic", "market"]
    table = att_m.to_frame()
    assert table.index.tolist() == ["clinic", "market"]
    np.testing.assert_array_equal(table["access_m"].to_numpy(), att_m.access_m)


def test_far_points_attach_with_a_warning_naming_them(
    street: Street, caplog: pytest.LogCaptureFixture
) -> None:
    points = {"near": street.at(50.0, 30.0), "far_clinic": street.at(-150.0, 150.0)}
    with caplog.at_level(logging.WARNING, logger="linli.network.snap"):
        att = attach_points(street.net, frame(points), source="clinics.geojson")
    distance = float(np.linalg.norm(points["far_clinic"] - street.xy[A]))
    assert distance > WALKING.max_access_m
    assert att.access_m[1] == pytest.approx(distance, abs=1e-6)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1
    assert "clinics.geojson: 1 point(s)" in messages[0]
    assert f"'far_clinic' ({distance:.0f} m)" in messages[0]
    assert "'near'" not in messages[0]


def test_far_points_with_numeric_labels_are_named_as_plain_numbers(
    street: Street, caplog: pytest.LogCaptureFixture
) -> None:
    points = frame({"near": street.at(50.0, 30.0), "far": street.at(-150.0, 150.0)})
    points.index = pd.Index(np.array([7, 2221], dtype=np.int64))  # as read from a table
    with caplog.at_level(logging.WARNING, logger="linli.network.snap"):
        attach_points(street.net, points, source="homes")
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "homes: 1 point(s)" in message
    assert ": 2221 (" in message
    assert "np.int64" not in message


def test_max_access_can_be_set(street: Street, caplog: pytest.LogCaptureFixture) -> None:
    points = {"a": street.at(50.0, 30.0), "b": street.at(50.0, 60.0)}
    with caplog.at_level(logging.WARNING, logger="linli.network.snap"):
        attach_points(street.net, frame(points), max_access_m=45.0)
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "more than 45 m" in message
    assert "'b'" in message
    assert "'a'" not in message


# ---------------------------------------------------------------------------------------------
# Bad points
# ---------------------------------------------------------------------------------------------


def test_points_without_crs(street: Street) -> None:
    with pytest.raises(InputError, match=r"sites\.csv: expected a CRS on the points; found none"):
        attach_points(street.net, frame({"x": street.at(0, 0)}, crs=None), source="sites.csv")


def test_points_outside_the_network_are_named(street: Street) -> None:
    points = {
        "ok": street.at(50.0, 30.0),
        "lost": street.at(5000.0, 0.0),
        "gone": street.at(0.0, -9000.0),
    }
    with pytest.raises(
        InputError, match=r"2 of 3 point\(s\) lie outside the walking network's area"
    ) as info:
        attach_points(street.net, frame(points), source="sites.geojson")
    message = str(info.value)
    assert "feature 'lost'" in message
    assert "feature 'gone'" in message
    assert "'ok'" not in message
    assert "sites.geojson" in message


def test_longitude_latitude_declared_as_metres_are_outside(street: Street) -> None:
    lonlat_as_metres = frame({"mixed_up": np.array([106.57, 29.55])})
    with pytest.raises(InputError, match="feature 'mixed_up'"):
        attach_points(street.net, lonlat_as_metres)


def test_empty_and_missing_geometries_are_named(street: Street) -> None:
    points = gpd.GeoDataFrame(
        geometry=[shapely.Point(street.at(10, 10)), shapely.Point(), None],
        index=["fine", "empty", "missing"],
        crs=UTM48N,
    )
    with pytest.raises(InputError, match=r"2 problem\(s\) found") as info:
        attach_points(street.net, points, source="homes.gpkg")
    message = str(info.value)
    assert "homes.gpkg, feature 'empty': expected a geometry" in message
    assert "homes.gpkg, feature 'missing': expected a geometry" in message
    assert "'fine'" not in message


def test_non_finite_coordinates(street: Street) -> None:
    with pytest.raises(InputError, match=r"feature 1: expected finite coordinates; found \(nan, "):
        attach_points(street.net, np.array([street.at(10, 10), [np.nan, ORIGIN_M[1]]]))


def test_no_points(street: Street) -> None:
    for empty in (np.empty((0, 2)), gpd.GeoDataFrame(geometry=[], crs=UTM48N)):
        att = attach_points(street.net, empty)
        assert att.n_points == 0
        assert att.to_u_min.shape == (0,)


def test_array_of_the_wrong_shape(street: Street) -> None:
    with pytest.raises(InputError, match=r"expected an \(n, 2\) array of x, y; found shape \(3,\)"):
        attach_points(street.net, np.array([1.0, 2.0, 3.0]))


# ---------------------------------------------------------------------------------------------
# Walks between points on the same link
# ---------------------------------------------------------------------------------------------


def test_same_link_minutes_by_hand(street: Street) -> None:
    origins = attach_points(street.net, np.vstack([street.at(50.0, 30.0), street.at(120.0, -10.0)]))
    destinations = attach_points(
        street.net, np.vstack([street.at(200.0, 20.0), street.at(310.0, 100.0)])
    )
    o, d, minutes = same_link_minutes(street.net, origins, destinations)
    # Both origins share the A-B link with the first destination only.
    assert sorted(zip(o.tolist(), d.tolist(), strict=True)) == [(0, 0), (1, 0)]
    l1, ls = street.length(A, P), street.length(P, Q)
    a0, acc0, _ = street.foot(street.at(50.0, 30.0), A, P)
    a1, acc1, _ = street.foot(street.at(120.0, -10.0), P, Q)
    a2, acc2, _ = street.foot(street.at(200.0, 20.0), Q, B)
    expected = {
        0: acc0 / V + (l1 - a0) / V + ls / UP + a2 / V + acc2 / V,
        1: acc1 / V + (ls - a1) / UP + a2 / V + acc2 / V,
    }
    for oi, m in zip(o.tolist(), minutes.tolist(), strict=True):
        assert m == pytest.approx(expected[oi], rel=1e-9)
    # The other way: down the stairs.
    d_back, o_back, back = same_link_minutes(street.net, destinations, origins)
    assert sorted(zip(d_back.tolist(), o_back.tolist(), strict=True)) == [(0, 0), (0, 1)]
    expected_back = {
        0: acc2 / V + a2 / V + ls / DOWN + (l1 - a0) / V + acc0 / V,
        1: acc2 / V + a2 / V + (ls - a1) / DOWN + acc1 / V,
    }
    for oi, m in zip(o_back.tolist(), back.tolist(), strict=True):
        assert m == pytest.approx(expected_back[oi], rel=1e-9)


def test_same_link_minutes_on_one_segment(street: Street) -> None:
    o = attach_points(street.net, street.at(20.0, 10.0)[None, :])
    d = attach_points(street.net, street.at(80.0, -25.0)[None, :])
    _, _, minutes = same_link_minutes(street.net, o, d)
    a_o, acc_o, _ = street.foot(street.at(20.0, 10.0), A, P)
    a_d, acc_d, _ = street.foot(street.at(80.0, -25.0), A, P)
    assert minutes.tolist() == pytest.approx([(acc_o + (a_d - a_o) + acc_d) / V], rel=1e-9)


def test_same_link_minutes_without_shared_links(street: Street) -> None:
    o = attach_points(street.net, street.at(50.0, 30.0)[None, :])
    d = attach_points(street.net, street.at(310.0, 100.0)[None, :])
    oi, di, minutes = same_link_minutes(street.net, o, d)
    assert oi.size == di.size == minutes.size == 0


# ---------------------------------------------------------------------------------------------
# Yuzhong buildings
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yuzhong_dem() -> WalkNetwork:
    return walk_network_from_osm(
        require_shared("chongqing/yuzhong/yuzhong.osm.pbf"),
        dem=require_shared("chongqing/yuzhong/terrain/chongqingZ_elevation_utm.tif"),
        dem_gaps="flat",
    )


def test_yuzhong_buildings_attach(yuzhong_dem: WalkNetwork) -> None:
    net = yuzhong_dem
    buildings = gpd.read_file(
        require_shared("chongqing/yuzhong/derived_geojson/buildings_osm.geojson")
    )
    att = attach_points(net, buildings, source="buildings_osm.geojson")
    assert att.n_points == len(buildings)
    assert np.isfinite(att.access_m).all()
    # Most buildings stand within a short walk of a mapped way.
    assert np.median(att.access_m) < 60.0
    assert (att.frac >= 0).all()
    assert (att.frac <= 1).all()
    # Through the point from one end to the other costs the link (slope and stairs included).
    fwd = np.isfinite(net.link_min_fwd[att.link])
    np.testing.assert_allclose(
        (att.from_u_min + att.to_v_min - 2 * att.access_min)[fwd],
        net.link_min_fwd[att.link][fwd],
        rtol=1e-9,
    )
    back = np.isfinite(net.link_min_back[att.link])
    np.testing.assert_allclose(
        (att.from_v_min + att.to_u_min - 2 * att.access_min)[back],
        net.link_min_back[att.link][back],
        rtol=1e-9,
    )
    # The access distance is the distance from a point on each footprint to the nearest link.
    rng = np.random.default_rng(5)
    sample = rng.choice(len(buildings), size=200, replace=False)
    reps = buildings.geometry.iloc[sample].to_crs(net.crs).representative_point()
    links = net.links_frame()
    nearest = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=reps.to_numpy(), crs=net.crs), links, distance_col="distance_m"
    )
    nearest = nearest[~nearest.index.duplicated()]
    np.testing.assert_allclose(att.access_m[sample], nearest["distance_m"].to_numpy(), atol=1e-3)
