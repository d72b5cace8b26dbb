"""Tests of linli.inputs.osm: which OSM ways a pedestrian may use, and reading OSM files."""

from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

import numpy as np
import osmium
import pytest

from conftest import require_shared
from linli import InputError
from linli.inputs.osm import WALKABLE_HIGHWAYS, OsmWays, read_walkable_ways
from osm_fixtures import nodes_at, write_osm

YUZHONG = "chongqing/yuzhong/yuzhong.osm.pbf"

# An ordinary footway every test file contains, so that files are never without walkable ways.
ANCHOR_ID = 1
ANCHOR_NODES = {1: (0.0, 0.0), 2: (50.0, 0.0)}
ANCHOR = (ANCHOR_ID, [1, 2], {"highway": "footway"})


def read_one_way(
    tmp_path: Path, tags: dict[str, str], refs: tuple[int, ...] = (11, 12, 13)
) -> OsmWays:
    """Read a file holding the anchor footway and way 100 with ``tags`` through ``refs``."""
    xy = dict(ANCHOR_NODES) | {11: (0.0, 100.0), 12: (40.0, 100.0), 13: (80.0, 130.0)}
    path = write_osm(tmp_path / "one.osm", nodes_at(xy), [ANCHOR, (100, list(refs), tags)])
    return read_walkable_ways(path)


def way_index(ways: OsmWays, way_id: int) -> int:
    (i,) = np.flatnonzero(ways.way_id == way_id)
    return int(i)


# ---------------------------------------------------------------------------------------------
# Which ways are walkable
# ---------------------------------------------------------------------------------------------

KEPT = [
    {"highway": "footway"},
    {"highway": "steps"},
    {"highway": "residential"},
    {"highway": "pedestrian"},
    {"highway": "path"},
    {"highway": "service"},
    {"highway": "primary"},
    {"highway": "living_street"},
    {"highway": "footway", "footway": "sidewalk"},
    {"highway": "footway", "access": "private", "foot": "yes"},
    {"highway": "service", "access": "no", "foot": "designated"},
    {"highway": "residential", "access": "private", "foot": "permissive"},
    {"highway": "residential", "access": "destination"},
    {"highway": "footway", "foot": "yes"},
    {"highway": "residential", "oneway": "yes"},
]
DROPPED = [
    ({"highway": "motorway"}, "highway=motorway"),
    ({"highway": "motorway_link"}, "highway=motorway_link"),
    ({"highway": "construction", "construction": "footway"}, "highway=construction"),
    ({"highway": "proposed"}, "highway=proposed"),
    ({"highway": "raceway"}, "highway=raceway"),
    ({"highway": "bus_guideway"}, "highway=bus_guideway"),
    ({"highway": "footway", "foot": "no"}, "foot=no"),
    ({"highway": "primary", "foot": "no"}, "foot=no"),
    ({"highway": "footway", "access": "private"}, "access=private"),
    ({"highway": "service", "access": "no"}, "access=no"),
    ({"highway": "service", "service": "private"}, "service=private"),
    ({"highway": "footway", "access": "private", "foot": "no"}, "foot=no"),
]


@pytest.mark.parametrize("tags", KEPT, ids=lambda t: ",".join(f"{k}={v}" for k, v in t.items()))
def test_walkable_ways_are_kept(tmp_path: Path, tags: dict[str, str]) -> None:
    ways = read_one_way(tmp_path, tags)
    assert 100 in ways.way_id.tolist()
    assert ways.excluded == {}
    assert ways.n_highway_ways == 2


@pytest.mark.parametrize(
    ("tags", "reason"),
    DROPPED,
    ids=lambda t: ",".join(f"{k}={v}" for k, v in t.items()) if isinstance(t, dict) else "",
)
def test_unwalkable_ways_are_dropped_with_the_reason(
    tmp_path: Path, tags: dict[str, str], reason: str
) -> None:
    ways = read_one_way(tmp_path, tags)
    assert ways.way_id.tolist() == [ANCHOR_ID]
    assert ways.excluded == {reason: 1}
    assert ways.n_highway_ways == 2


def test_ways_without_highway_are_ignored(tmp_path: Path) -> None:
    ways = read_one_way(tmp_path, {"building": "yes"}, refs=(11, 12, 13, 11))
    assert ways.way_id.tolist() == [ANCHOR_ID]
    assert ways.n_highway_ways == 1
    assert ways.excluded == {}


def test_dropped_ways_are_counted_by_reason(tmp_path: Path) -> None:
    xy = {i: (10.0 * i, 0.0) for i in range(1, 11)}
    ways = [
        (1, [1, 2], {"highway": "footway"}),
        (2, [2, 3], {"highway": "motorway"}),
        (3, [3, 4], {"highway": "motorway"}),
        (4, [4, 5], {"highway": "footway", "foot": "no"}),
        (5, [5, 6], {"highway": "service", "access": "private"}),
        (6, [6, 7], {"highway": "steps"}),
        (7, [7, 8], {"building": "yes"}),
    ]
    read = read_walkable_ways(write_osm(tmp_path / "mix.osm", nodes_at(xy), ways))
    assert read.way_id.tolist() == [1, 6]
    assert read.n_ways == 2
    assert read.n_highway_ways == 6
    assert read.excluded == {"highway=motorway": 2, "foot=no": 1, "access=private": 1}


def test_walkable_highways_exclude_motorways_and_construction() -> None:
    assert {"footway", "steps", "residential", "pedestrian"} <= WALKABLE_HIGHWAYS
    assert not {"motorway", "motorway_link", "construction", "proposed"} & WALKABLE_HIGHWAYS


# ---------------------------------------------------------------------------------------------
# Tags kept for the network: steps, one-way, incline, bridges and tunnels
# ---------------------------------------------------------------------------------------------


def test_steps_are_flagged(tmp_path: Path) -> None:
    steps = read_one_way(tmp_path, {"highway": "steps"})
    assert steps.is_steps[way_index(steps, 100)]
    assert not steps.is_steps[way_index(steps, ANCHOR_ID)]


@pytest.mark.parametrize(
    ("tags", "oneway"),
    [
        ({"highway": "footway", "oneway:foot": "yes"}, True),
        ({"highway": "residential", "oneway": "yes"}, False),  # for vehicles only
        ({"highway": "footway", "oneway:foot": "no"}, False),
        ({"highway": "footway"}, False),
    ],
)
def test_oneway_for_pedestrians(tmp_path: Path, tags: dict[str, str], oneway: bool) -> None:
    ways = read_one_way(tmp_path, tags)
    assert bool(ways.oneway_foot[way_index(ways, 100)]) is oneway


@pytest.mark.parametrize(
    ("value", "sign"),
    [
        ("up", 1),
        ("down", -1),
        ("Up", 1),
        ("-10%", -1),
        ("10%", 1),
        ("+5%", 1),
        ("-10 %", -1),
        ("12°", 1),
        ("-3.5°", -1),
        ("0%", 0),
        ("yes", 0),
        ("steep", 0),
    ],
)
def test_incline_is_parsed(tmp_path: Path, value: str, sign: int) -> None:
    ways = read_one_way(tmp_path, {"highway": "steps", "incline": value})
    assert int(ways.incline[way_index(ways, 100)]) == sign
    assert int(ways.incline[way_index(ways, ANCHOR_ID)]) == 0


@pytest.mark.parametrize(
    ("tags", "structure"),
    [
        ({"bridge": "yes"}, True),
        ({"bridge": "viaduct"}, True),
        ({"tunnel": "yes"}, True),
        ({"tunnel": "building_passage"}, False),
        ({"bridge": "no"}, False),
        ({"layer": "1"}, False),
        ({}, False),
    ],
)
def test_bridges_and_tunnels_are_flagged(
    tmp_path: Path, tags: dict[str, str], structure: bool
) -> None:
    ways = read_one_way(tmp_path, {"highway": "footway", **tags})
    assert bool(ways.on_structure[way_index(ways, 100)]) is structure


def test_nodes_and_coordinates_follow_the_way(tmp_path: Path) -> None:
    nodes = nodes_at(dict(ANCHOR_NODES) | {11: (0.0, 100.0), 12: (40.0, 100.0), 13: (80.0, 130.0)})
    path = write_osm(
        tmp_path / "order.osm", nodes, [ANCHOR, (100, [13, 11, 12], {"highway": "footway"})]
    )
    ways = read_walkable_ways(path)
    i = way_index(ways, 100)
    lo, hi = ways.way_ptr[i], ways.way_ptr[i + 1]
    assert ways.node_id[lo:hi].tolist() == [13, 11, 12]
    where = {n: (lon, lat) for n, lon, lat in nodes}
    np.testing.assert_allclose(
        ways.lon[lo:hi], [where[n][0] for n in (13, 11, 12)], rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        ways.lat[lo:hi], [where[n][1] for n in (13, 11, 12)], rtol=0, atol=1e-9
    )
    assert ways.way_ptr[0] == 0
    assert ways.way_ptr[-1] == ways.node_id.shape[0] == ways.lon.shape[0]


def test_nodes_missing_from_the_extract_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    xy = dict(ANCHOR_NODES) | {11: (0.0, 100.0), 12: (40.0, 100.0)}
    ways = [
        ANCHOR,
        (100, [11, 12, 99], {"highway": "footway"}),  # node 99 is not in the file
        (101, [12, 98], {"highway": "footway"}),  # one node left: not a way any more
    ]
    path = write_osm(tmp_path / "clipped.osm", nodes_at(xy), ways)
    with caplog.at_level(logging.WARNING, logger="linli.inputs.osm"):
        read = read_walkable_ways(path)
    assert read.way_id.tolist() == [ANCHOR_ID, 100]
    i = way_index(read, 100)
    assert read.node_id[read.way_ptr[i] : read.way_ptr[i + 1]].tolist() == [11, 12]
    assert read.excluded == {"fewer than 2 nodes in the extract": 1}
    assert any("2 way nodes have no location" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------
# File formats
# ---------------------------------------------------------------------------------------------


def test_compressed_xml_is_read(tmp_path: Path) -> None:
    xml = write_osm(tmp_path / "plain.osm", nodes_at(ANCHOR_NODES), [ANCHOR])
    gz = tmp_path / "plain.osm.gz"
    gz.write_bytes(gzip.compress(xml.read_bytes()))
    a, b = read_walkable_ways(xml), read_walkable_ways(gz)
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_array_equal(a.lon, b.lon)


def test_yuzhong_pbf_is_read() -> None:
    ways = read_walkable_ways(require_shared(YUZHONG))
    assert ways.n_ways > 1000
    assert ways.n_highway_ways == ways.n_ways + sum(ways.excluded.values())
    assert ways.is_steps.sum() > 50  # a mountain city
    assert (ways.incline != 0).any()
    assert ways.on_structure.any()
    assert np.all(np.diff(ways.way_ptr) >= 2)
    # Yuzhong lies between the Yangtze and the Jialing, around 106.5 E, 29.55 N.
    assert ways.lon.min() > 106.4
    assert ways.lon.max() < 106.7
    assert ways.lat.min() > 29.45
    assert ways.lat.max() < 29.65


def test_pbf_and_xml_of_the_same_data_read_the_same(tmp_path: Path) -> None:
    pbf = require_shared(YUZHONG)
    xml = tmp_path / "yuzhong.osm"
    writer = osmium.SimpleWriter(str(xml))
    try:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    finally:
        writer.close()
    a, b = read_walkable_ways(pbf), read_walkable_ways(xml)
    for name in (
        "way_id",
        "way_ptr",
        "node_id",
        "lon",
        "lat",
        "is_steps",
        "incline",
        "on_structure",
        "oneway_foot",
    ):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.excluded == b.excluded
    assert a.n_highway_ways == b.n_highway_ways


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"nothere\.osm\.pbf: expected an OpenStreetMap file .*found no such file"
    ):
        read_walkable_ways(tmp_path / "nothere.osm.pbf")


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="found no such file"):
        read_walkable_ways(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm.pbf"
    empty.touch()
    with pytest.raises(
        InputError, match=r"empty\.osm\.pbf: expected an OpenStreetMap file .*found an empty file"
    ):
        read_walkable_ways(empty)


@pytest.mark.parametrize("name", ["noise.osm.pbf", "noise.osm"])
def test_random_bytes_are_not_osm(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(3).bytes(4096))
    with pytest.raises(
        InputError, match=re.escape(name) + ": expected OpenStreetMap data .*cannot be read"
    ):
        read_walkable_ways(path)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("notes.txt", "Yuzhong walking notes\n"),
        ("notes.osm", "Yuzhong walking notes\n"),
        ("roads.geojson", '{"type": "FeatureCollection", "features": []}'),
    ],
)
def test_text_files_are_not_osm(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"expected OpenStreetMap data .*the file cannot be read"):
        read_walkable_ways(path)


def test_only_a_motorway(tmp_path: Path) -> None:
    path = write_osm(
        tmp_path / "motorway.osm", nodes_at(ANCHOR_NODES), [(5, [1, 2], {"highway": "motorway"})]
    )
    with pytest.raises(
        InputError,
        match=r"motorway\.osm: expected walkable ways .*found 1 highway ways, "
        r"none walkable \(highway=motorway: 1\)",
    ):
        read_walkable_ways(path)


def test_only_buildings(tmp_path: Path) -> None:
    xy = {1: (0, 0), 2: (20, 0), 3: (20, 20), 4: (0, 20)}
    path = write_osm(
        tmp_path / "houses.osm", nodes_at(xy), [(5, [1, 2, 3, 4, 1], {"building": "yes"})]
    )
    with pytest.raises(
        InputError, match=r"houses\.osm: expected walkable ways .*found no ways tagged highway"
    ):
        read_walkable_ways(path)


def test_osm_file_without_ways(tmp_path: Path) -> None:
    path = write_osm(tmp_path / "nodes.osm", nodes_at(ANCHOR_NODES), [])
    with pytest.raises(InputError, match="found no ways tagged highway"):
        read_walkable_ways(path)


def test_input_error_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        read_walkable_ways(tmp_path / "missing.osm")
