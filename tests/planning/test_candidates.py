"""Candidate sites generated along the walking network."""

from __future__ import annotations

import numpy as np
import pytest
from tests.osm_fixtures import nodes_at, write_osm

from linli._errors import InputError
from linli.network import walk_network_from_osm
from linli.planning.candidates import sites_along_network


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
