"""The audit on hand-made cases with known answers, and end to end on Yuzhong."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import require_shared
from linli.audit import run_audit
from linli.audit.core import group_centres, share_within, usable_mask
from linli.network import walk_network_from_osm
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, nodes_at, write_osm

PROFILE = load_profile()
COMMUNITY_TYPES = [f["id"] for f in PROFILE.data["tiers"][1]["facilities"]]
STREET_TYPES = [f["id"] for f in PROFILE.data["tiers"][0]["facilities"]]


def test_usable_rooms_exclude_basements_and_high_floors_without_lift():
    floor = pd.Series([1, 3, 4, 4, -1, None, 2])
    lift = pd.Series([False, False, False, True, True, None, None])
    basement = pd.Series([False, False, False, False, False, None, True])
    ok, assumed = usable_mask(
        floor, lift, basement, max_floor_without_lift=3, basement_usable=False
    )
    assert ok.tolist() == [True, True, False, True, False, True, False]
    assert assumed.tolist() == [False, False, False, False, False, True, False]
    ok_b, _ = usable_mask(floor, lift, basement, max_floor_without_lift=3, basement_usable=True)
    assert ok_b.tolist() == [True, True, False, True, True, True, True]
    # A high floor whose lift is not known counts, by assumption.
    ok_u, assumed_u = usable_mask(
        pd.Series([5]), pd.Series([None]), pd.Series([False]),
        max_floor_without_lift=1, basement_usable=False,
    )  # fmt: skip
    assert ok_u.tolist() == [True]
    assert assumed_u.tolist() == [True]


def test_facilities_within_the_radius_chain_into_one_centre():
    x = np.array([0.0, 100.0, 190.0, 1000.0, 1050.0])
    y = np.zeros(5)
    centres = group_centres(x, y, within_m=120.0)
    assert centres.tolist() == [0, 0, 0, 1, 1]
    assert group_centres(x, y, within_m=50.0).tolist() == [0, 1, 2, 3, 3]
    # Numbered in order of first appearance, whatever the input order.
    order = np.array([3, 0, 4, 1, 2])
    assert group_centres(x[order], y[order], within_m=120.0).tolist() == [0, 1, 0, 1, 1]


def test_share_within_weights_by_population():
    minutes = pd.Series([5.0, 12.0, np.nan, 9.0])
    weight = pd.Series([100.0, 300.0, 100.0, 0.0])
    group = pd.Series(["a", "a", "a", "b"])
    share = share_within(minutes, weight, group, cutoff_min=10.0)
    assert share["a"] == pytest.approx(100 / 500)
    assert np.isnan(share["b"])


SPEED = PROFILE.walking.speed_m_per_min


@pytest.fixture(scope="module")
def line_town(tmp_path_factory):
    """A 3,000 m street; communities West (0-1,000 m), Middle and East; homes along it."""
    tmp = tmp_path_factory.mktemp("town")
    xy = {i + 1: (100.0 * i, 0.0) for i in range(31)}
    path = write_osm(tmp / "town.osm", nodes_at(xy), [(1, list(xy), {"highway": "footway"})])
    net = walk_network_from_osm(path)
    x0, y0 = ORIGIN_M

    def pt(dx, dy=10.0):
        return shapely.Point(x0 + dx, y0 + dy)

    homes = gpd.GeoDataFrame(
        {"households": [100.0, 200.0, 300.0, 400.0], "population": [245.0, 490.0, 735.0, 980.0]},
        geometry=[pt(200), pt(800), pt(1500), pt(2700)],
        crs="EPSG:32648",
    )
    boxes = [
        shapely.box(x0 + a, y0 - 200, x0 + b, y0 + 200)
        for a, b in ((-50, 1000), (1000, 2000), (2000, 3050))
    ]
    communities = gpd.GeoDataFrame(
        {"name": ["West", "Middle", "East"], "street": ["S", "S", "S"], "district": ["D"] * 3},
        geometry=boxes,
        crs="EPSG:32648",
    )
    # West: a health station at 300 m, 50 m² on floor 1 and 60 m² in the basement.
    # Middle: a police office at 1,500 m, 200 m² on floor 5 without a lift.
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["health_station", "health_station", "police_office"],
            "floor_area_m2": [50.0, 60.0, 200.0],
            "floor": [1, -1, 5],
            "lift": [False, False, False],
        },
        geometry=[pt(300, -10), pt(310, -10), pt(1500, -10)],
        crs="EPSG:32648",
    )
    result = run_audit(
        net, demand=homes, communities=communities, facilities=facilities, profile=PROFILE
    )
    return result


def test_demand_minutes_to_each_type(line_town):
    d = line_town.demand
    # Home at 200 m (10 m off the street) to the station at 300 m (10 m off): 120 m walk.
    assert d.loc[0, "walk_min_health_station"] == pytest.approx(120.0 / SPEED, abs=1e-3)
    # Home at 2,700 m is 2,400 m from the station: beyond the largest (20 min) circle.
    assert np.isnan(d.loc[3, "walk_min_health_station"])
    assert d.loc[2, "walk_min_police_office"] == pytest.approx(20.0 / SPEED, abs=1e-3)
    assert {f"walk_min_{t}" for t in COMMUNITY_TYPES + STREET_TYPES} <= set(d.columns)


def test_floor_area_balance(line_town):
    c = line_town.communities.set_index("name")
    per_100 = PROFILE.data["built_area"]["service_floor_area_m2_per_100_households"]
    np.testing.assert_allclose(c["households"], [300.0, 300.0, 400.0])
    np.testing.assert_allclose(c["required_m2"], c["households"] * per_100 / 100)
    assert c.loc["West", "existing_m2"] == pytest.approx(110.0)
    assert c.loc["West", "usable_m2"] == pytest.approx(50.0)  # the basement room does not count
    assert c.loc["Middle", "usable_m2"] == pytest.approx(0.0)  # floor 5, no lift
    np.testing.assert_allclose(c["deficit_m2"], (c["required_m2"] - c["existing_m2"]).clip(lower=0))
    np.testing.assert_allclose(
        c["deficit_usable_m2"], (c["required_m2"] - c["usable_m2"]).clip(lower=0)
    )


def test_a_community_with_no_facility_within_ten_minutes_is_missing_it(line_town):
    c = line_town.communities.set_index("name")
    # East's homes are 1,200+ m from the police office: nobody within 10 min (800 m).
    assert c.loc["East", "status_police_office"] == "missing"
    assert c.loc["East", "share_police_office"] == 0.0
    # West: both homes within 800 m of the station.
    assert c.loc["West", "status_health_station"] == "met"
    assert c.loc["West", "has_health_station"]
    assert not c.loc["East", "has_health_station"]
    assert not c["covered"].any()
    assert line_town.summary["coverage_share"] == 0.0


def test_recommendations_say_what_where_and_why(line_town):
    rec = line_town.recommendations
    assert rec["rank"].tolist() == list(range(1, len(rec) + 1))
    assert rec["residents"].is_monotonic_decreasing
    west_area = rec[(rec.community == "West") & (rec.facility_id == "")]
    # 90 m² required, 50 usable, 60 in the basement: renovate 40 m².
    assert west_area["floor_area_m2"].sum() == pytest.approx(90.0 - 50.0)
    assert west_area["how"].str.contains("改建").all()
    east_police = rec[(rec.community == "East") & (rec.facility_id == "police_office")]
    assert len(east_police) == 1
    assert east_police["lon"].notna().all()


@pytest.mark.slow
def test_yuzhong_end_to_end_totals():
    base = require_shared("chongqing/yuzhong")
    net = walk_network_from_osm(base / "yuzhong.osm.pbf")
    b = gpd.read_file(base / "derived_geojson" / "buildings_osm.geojson")
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    b["population"] = rng.uniform(50, 500, len(b))
    b["households"] = b["population"] / 2.45
    minx, miny, maxx, maxy = b.total_bounds
    mid = (minx + maxx) / 2
    communities = gpd.GeoDataFrame(
        {"name": ["W", "E"], "street": ["S1", "S2"], "district": ["渝中区", "渝中区"]},
        geometry=[shapely.box(minx, miny, mid, maxy), shapely.box(mid, miny, maxx, maxy)],
        crs="EPSG:4326",
    )
    pts = b.sample(20, random_state=1).geometry.representative_point()
    ids = COMMUNITY_TYPES + STREET_TYPES
    facilities = gpd.GeoDataFrame(
        {"facility_id": [ids[i % len(ids)] for i in range(20)], "floor_area_m2": 300.0},
        geometry=pts.to_numpy(),
        crs="EPSG:4326",
    )
    r = run_audit(net, demand=b, communities=communities, facilities=facilities, profile=PROFILE)
    assert r.communities["population"].sum() == pytest.approx(b["population"].sum(), rel=1e-9)
    assert r.summary["population"] == pytest.approx(b["population"].sum(), rel=1e-9)
    for t in COMMUNITY_TYPES:
        minutes = r.demand[f"walk_min_{t}"].dropna()
        assert (minutes >= 0).all()
        assert (minutes <= 20).all()


def test_a_street_centre_facility_serves_the_community_type_it_replaces(tmp_path):
    # chongqing-2019: a street centre's 卫生服务中心 also counts as the 卫生服务站.
    assert "health_station" in PROFILE.facility("health_centre").replaces
    xy = {i + 1: (100.0 * i, 0.0) for i in range(11)}
    path = write_osm(tmp_path / "t.osm", nodes_at(xy), [(1, list(xy), {"highway": "footway"})])
    net = walk_network_from_osm(path)
    x0, y0 = ORIGIN_M
    homes = gpd.GeoDataFrame(
        {"households": [100.0], "population": [245.0]},
        geometry=[shapely.Point(x0 + 100, y0 + 10)],
        crs="EPSG:32648",
    )
    communities = gpd.GeoDataFrame(
        {"name": ["Only"], "street": ["S"], "district": ["D"]},
        geometry=[shapely.box(x0 - 50, y0 - 100, x0 + 1050, y0 + 100)],
        crs="EPSG:32648",
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["health_centre"], "floor_area_m2": [500.0], "floor": [1]},
        geometry=[shapely.Point(x0 + 500, y0 - 10)],
        crs="EPSG:32648",
    )
    r = run_audit(
        net, demand=homes, communities=communities, facilities=facilities, profile=PROFILE
    )
    c = r.communities.set_index("name")
    assert c.loc["Only", "status_health_station"] == "met"
    assert c.loc["Only", "has_health_station"]
    assert r.demand.loc[0, "walk_min_health_station"] == pytest.approx(420.0 / SPEED, abs=1e-3)
    # The community's own floor area does not include the street centre's rooms.
    assert c.loc["Only", "usable_m2"] == 0.0


def test_colocation_lists_the_categories_within_a_short_walk_of_each_centre(tmp_path):
    rule = PROFILE.colocation
    assert rule is not None
    xy = {i + 1: (100.0 * i, 0.0) for i in range(21)}
    path = write_osm(tmp_path / "t.osm", nodes_at(xy), [(1, list(xy), {"highway": "footway"})])
    net = walk_network_from_osm(path)
    x0, y0 = ORIGIN_M
    homes = gpd.GeoDataFrame(
        {"households": [100.0], "population": [245.0]},
        geometry=[shapely.Point(x0 + 500, y0 + 10)],
        crs="EPSG:32648",
    )
    communities = gpd.GeoDataFrame(
        {"name": ["Only"], "street": ["S"], "district": ["D"]},
        geometry=[shapely.box(x0 - 50, y0 - 100, x0 + 2050, y0 + 100)],
        crs="EPSG:32648",
    )
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["health_station"], "floor_area_m2": [300.0], "floor": [1]},
        geometry=[shapely.Point(x0 + 500, y0)],
        crs="EPSG:32648",
    )
    places = gpd.GeoDataFrame(
        {"category": ["education", "transport"]},
        # A school 100 m along the street; a bus stop 1,000 m away (beyond the short walk).
        geometry=[shapely.Point(x0 + 600, y0), shapely.Point(x0 + 1500, y0)],
        crs="EPSG:32648",
    )
    r = run_audit(
        net, demand=homes, communities=communities, facilities=facilities, profile=PROFILE,
        places=places,
    )  # fmt: skip
    centre = r.centres.iloc[0]
    assert centre["walk_min_education"] == pytest.approx(100.0 / SPEED, abs=0.05)
    assert np.isnan(centre["walk_min_transport"])
    assert centre["colocated"] == "教育"
    assert centre["colocated_count"] == 1
