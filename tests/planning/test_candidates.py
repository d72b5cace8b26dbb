"""Candidate sites: generated along the walking network, and existing public buildings."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_shared
from linli._errors import InputError
from linli.network import walk_network_from_osm
from linli.planning.candidates import public_buildings, sites_along_network
from osm_fixtures import nodes_at, write_osm


@pytest.fixture
def line_network(tmp_path):
    # A 1,000 m straight footway with junctions only at its ends.
    xy = {1: (0.0, 0.0), 2: (1000.0, 0.0)}
    path = write_osm(tmp_path / "line.osm", nodes_at(xy), [(1, [1, 2], {"highway": "footway"})])
    return walk_network_from_osm(path)


def test_one_candidate_per_cell_along_a_line(line_network):
    sites = sites_along_network(line_network, spacing_m=100.0)
    metric = sites.to_crs(line_network.crs)
    x = np.sort(metric.geometry.x.to_numpy())
    gaps = np.diff(x)
    # Junctions at both ends plus points in between: no gap wider than two cells.
    assert x[-1] - x[0] == pytest.approx(1000.0, abs=0.5)
    assert gaps.max() <= 200.0 + 1e-6
    cells = np.floor(x / 100.0)
    assert len(np.unique(cells)) == len(cells)
    assert set(sites["kind"]) == {"junction", "along_link"}


def test_wider_spacing_gives_fewer_candidates(line_network):
    few = sites_along_network(line_network, spacing_m=400.0)
    many = sites_along_network(line_network, spacing_m=100.0)
    assert len(few) < len(many)


@pytest.mark.parametrize("spacing", [0.0, -5.0, float("nan")])
def test_bad_spacing_is_refused(line_network, spacing):
    with pytest.raises(InputError, match="spacing_m"):
        sites_along_network(line_network, spacing_m=spacing)


def _square(first_id: int, x0: float, y0: float, side: float) -> dict[int, tuple[float, float]]:
    return {
        first_id: (x0, y0),
        first_id + 1: (x0 + side, y0),
        first_id + 2: (x0 + side, y0 + side),
        first_id + 3: (x0, y0 + side),
    }


def test_public_buildings_are_taken_by_their_tags(tmp_path):
    xy = {
        **_square(1, 0.0, 0.0, 40.0),  # a government building, 1,600 m2
        **_square(5, 100.0, 0.0, 20.0),  # homes: not a candidate
        **_square(9, 200.0, 0.0, 30.0),  # a community centre by its amenity tag
        50: (20.0, 20.0),  # a town hall point inside the government building
        60: (300.0, 300.0),  # a police point on its own
    }
    ways = [
        (100, [1, 2, 3, 4, 1], {"building": "government", "name": "区政府"}),
        (101, [5, 6, 7, 8, 5], {"building": "residential"}),
        (102, [9, 10, 11, 12, 9], {"building": "yes", "amenity": "community_centre"}),
    ]
    tags = {50: {"amenity": "townhall", "name": "街道办"}, 60: {"amenity": "police"}}
    path = write_osm(tmp_path / "public.osm", nodes_at(xy), ways, node_tags=tags)
    sites = public_buildings(path).sort_values("osm_id").reset_index(drop=True)

    assert sites["osm_id"].tolist() == [60, 100, 102]
    assert set(sites["kind"]) == {"public_building"}
    government = sites.iloc[1]
    assert government["name"] == "区政府"
    assert "government building" in government["reason"]
    assert "town hall" in government["reason"]  # the point inside was folded in
    assert government["footprint_m2"] == pytest.approx(1600.0, rel=0.01)
    assert sites.iloc[0]["footprint_m2"] == 0.0
    assert "police" in sites.iloc[0]["reason"]
    assert (sites.geom_type == "Point").all()


def test_an_extract_without_public_buildings_gives_an_empty_frame(tmp_path):
    xy = _square(1, 0.0, 0.0, 20.0)
    path = write_osm(
        tmp_path / "homes.osm", nodes_at(xy), [(100, [1, 2, 3, 4, 1], {"building": "house"})]
    )
    sites = public_buildings(path)
    assert len(sites) == 0
    assert "reason" in sites.columns
    assert sites.crs == "EPSG:4326"


def test_public_buildings_in_yuzhong():
    sites = public_buildings(require_shared("chongqing/yuzhong/yuzhong.osm.pbf"))
    assert len(sites) >= 5
    assert sites["reason"].str.len().min() > 0
    assert sites["osm_id"].is_unique
