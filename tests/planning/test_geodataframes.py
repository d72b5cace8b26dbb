"""Tests of the models' ``from_geodataframes`` on a tiny hand-made walking network with answers
worked out from its geometry, and end to end on Yuzhong (real buildings and walking times)."""

from __future__ import annotations

import logging
import time
from itertools import combinations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from conftest import require_shared
from linli._errors import InputError
from linli.access import walk_minutes_within
from linli.network.build import WalkNetwork, walk_network_from_osm
from linli.planning import MaxCover, PMedian, SetCover
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, UTM48N, nodes_at, write_osm

log = logging.getLogger(__name__)

FLAT = load_profile("chongqing-2019").walking.speed_m_per_min
OFFSET_M = 10.0  # every point stands 10 m off the street
TOL_MIN = 2e-3  # OSM stores coordinates to about 1 cm

# --- a straight street, 1 km long, with homes on one side and candidate sites on the other ---
#
#   d0      d200      d400      d600      d800      d1000      (demand, 10 m north)
#   ===========================================================  footway, nodes every 100 m
#        s100                s500      s700      s900            (sites, 10 m south)
DEMAND_X = [0, 200, 400, 600, 800, 1000]
SITE_X = [100, 500, 700, 900]


def expected_minutes(dx_m: float) -> float:
    return (abs(dx_m) + 2 * OFFSET_M) / FLAT


def points(xs: list[int], dy: float, prefix: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        index=pd.Index([f"{prefix}{x}" for x in xs]),
        geometry=gpd.points_from_xy([ORIGIN_M[0] + x for x in xs], [ORIGIN_M[1] + dy] * len(xs)),
        crs=UTM48N,
    )


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> WalkNetwork:
    nodes = {i: (100.0 * i, 0.0) for i in range(11)}
    ways = [(1, list(range(11)), {"highway": "footway"})]
    path = write_osm(tmp_path_factory.mktemp("osm") / "street.osm", nodes_at(nodes), ways)
    return walk_network_from_osm(path)


@pytest.fixture
def demand() -> gpd.GeoDataFrame:
    frame = points(DEMAND_X, OFFSET_M, "d")
    frame["residents"] = 100.0
    return frame


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    frame = points(SITE_X, -OFFSET_M, "s")
    frame["existing"] = [False, True, False, False]
    frame["cap"] = 250.0
    return frame


def test_walking_minutes_are_as_laid_out(street, demand, sites) -> None:  # type: ignore[no-untyped-def]
    m = walk_minutes_within(street, demand, sites, cutoff_min=60).to_scipy().toarray()
    want = np.array([[expected_minutes(d - s) for s in SITE_X] for d in DEMAND_X])
    assert np.abs(m - want).max() < TOL_MIN


def test_set_cover_on_the_street(street, demand, sites) -> None:  # type: ignore[no-untyped-def]
    # 5 minutes = 400 m walked, 20 m of them to and from the street: sites reach 380 m along
    model = SetCover.from_geodataframes(street, demand, sites, cutoff_min=5)
    assert model.site_labels.tolist() == ["s100", "s500", "s700", "s900"]
    assert model.demand_labels.tolist() == demand.index.tolist()
    plan = model.solve()
    # d0 needs s100 (s500 is 500 m away); d1000 needs s700 or s900, and s700 covers more
    assert plan.status == "optimal"
    assert plan.objective == 2
    assert model.site_labels[plan.sites].tolist() == ["s100", "s700"]
    a = plan.assignment.tolist()
    assert a[:2] + a[3:] == [0, 0, 2, 2, 2]
    assert a[2] in (0, 2)  # d400 is 300 m from both (to OSM's centimetre)
    # forbidden and required sites, by column name or position
    plan = SetCover.from_geodataframes(street, demand, sites, cutoff_min=5, forbidden=[2]).solve()
    assert plan.sites.tolist() == [0, 3]
    plan = SetCover.from_geodataframes(
        street, demand, sites, cutoff_min=5, required="existing"
    ).solve()
    assert plan.objective == 3
    assert {0, 1} <= set(plan.sites.tolist())
    # nothing within 1 minute: every home is reported
    plan = SetCover.from_geodataframes(street, demand, sites, cutoff_min=1).solve()
    assert plan.status == "infeasible"
    assert plan.unreachable.tolist() == list(range(6))


def test_capacitated_set_cover_on_the_street(street, demand, sites) -> None:  # type: ignore[no-untyped-def]
    # 250 residents per site: at most two homes each, so three sites for six homes
    model = SetCover.from_geodataframes(
        street, demand, sites, cutoff_min=5, weight_column="residents", capacity="cap"
    )
    plan = model.solve()
    assert plan.status == "optimal"
    assert plan.objective == 3
    load = np.bincount(plan.assignment, minlength=4) * 100
    assert load.max() <= 250
    assert plan.assignment[0] == 0  # only s100 reaches d0


def test_max_cover_and_p_median_on_the_street(street, demand, sites) -> None:  # type: ignore[no-untyped-def]
    demand["residents"] = [1, 1, 1, 1, 1, 5]
    plan = MaxCover.from_geodataframes(
        street, demand, sites, cutoff_min=5, p=1, weight_column="residents"
    ).solve()
    assert plan.sites.tolist() == [2]  # s700 reaches d400-d1000: 1 + 1 + 1 + 5
    assert plan.objective == 8
    assert plan.assignment.tolist() == [-1, -1, 2, 2, 2, 2]

    model = PMedian.from_geodataframes(
        street, demand, sites, cutoff_min=15, p=2, weight_column="residents"
    )
    plan = model.solve(mip_gap=0.0)
    w = demand["residents"].to_numpy(float)
    best = min(
        sum(
            wi * min(expected_minutes(d - SITE_X[j]) for j in pair)
            for d, wi in zip(DEMAND_X, w, strict=True)
        )
        for pair in combinations(range(4), 2)
    )
    assert plan.objective == pytest.approx(best, abs=TOL_MIN * w.sum())
    assert plan.sites.tolist() == [0, 3]  # s100 and s900


def test_missing_columns_are_named(street, demand, sites) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="a column 'people' with the weights"):
        SetCover.from_geodataframes(street, demand, sites, cutoff_min=5, weight_column="people")
    with pytest.raises(InputError, match="a column 'open' for required"):
        SetCover.from_geodataframes(street, demand, sites, cutoff_min=5, required="open")


# --- Yuzhong, end to end -------------------------------------------------------------------


def test_yuzhong_set_cover(yuzhong_walk_network, record_property) -> None:  # type: ignore[no-untyped-def]
    """Buildings as demand (made-up residents), 300 of them as candidate sites, 10 minutes."""
    buildings = gpd.read_file(
        require_shared("chongqing/yuzhong/derived_geojson/buildings_osm.geojson")
    )
    rng = np.random.default_rng(7)
    buildings["residents"] = rng.integers(20, 400, len(buildings))
    sites = buildings.iloc[np.sort(rng.choice(len(buildings), 300, replace=False))]
    net = yuzhong_walk_network

    model = SetCover.from_geodataframes(
        net, buildings, sites, cutoff_min=10, weight_column="residents"
    )
    plan = model.solve()
    # some buildings have none of the 300 sites within 10 minutes: reported, not solved
    reach = walk_minutes_within(net, buildings, sites, cutoff_min=10)
    no_site = np.flatnonzero(np.diff(reach.indptr) == 0)
    assert plan.status == "infeasible"
    assert plan.unreachable.tolist() == no_site.tolist()
    assert 0 < no_site.size < len(buildings) // 10

    served = buildings.drop(buildings.index[no_site])
    start = time.perf_counter()
    model = SetCover.from_geodataframes(
        net, served, sites, cutoff_min=10, weight_column="residents"
    )
    plan = model.solve(time_limit_s=30)
    seconds = time.perf_counter() - start
    assert plan.status == "optimal"
    assert plan.gap == 0.0
    minutes = walk_minutes_within(net, served, sites.iloc[plan.sites], cutoff_min=10)
    assert (np.diff(minutes.indptr) > 0).all(), "every building within 10 minutes of a centre"
    assert (plan.assignment >= 0).all()
    assert set(np.unique(plan.assignment)) <= set(plan.sites.tolist())
    record_property("centres", plan.n_sites)
    record_property("solve_seconds", plan.seconds)
    log.info(
        "Yuzhong 10-minute set cover: %d buildings, 300 candidates -> %d centres "
        "(reduced to %s x %s), %.2f s with walking times, %.2f s solve",
        len(served),
        plan.n_sites,
        plan.details["reduced_demand"],
        plan.details["reduced_sites"],
        seconds,
        plan.seconds,
    )
    assert plan.n_sites == 80  # measured; the reduction and HiGHS agree (see test_reduce)
