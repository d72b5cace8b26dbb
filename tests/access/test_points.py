"""Tests of linli.access.points: walking minutes between points attached to a walking network.

The reference is a plain networkx graph at segment level in which every point is a node of
its own: the segment a point's foot lies on is split at the foot, and the point joins the
foot by an access edge walked at the flat speed both ways.  The compiled engine works on the
junction graph instead (a point enters at both ends of its link, and points on one link also
walk directly), so agreeing with this reference checks the whole construction: access legs,
partial segments, one-way links, stairs, rings, and pairs on the same link or segment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable
from itertools import pairwise
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from conftest import require_shared
from linli._errors import InputError
from linli.access.engine import WalkMatrix
from linli.access.points import nearest_destination, walk_minutes_within
from linli.network.build import WalkNetwork, walk_network_from_osm
from linli.network.snap import Attachment, attach_points
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, UTM48N, nodes_at, write_osm

WALKING = load_profile("chongqing-2019").walking
FLAT = WALKING.speed_m_per_min
UP = WALKING.steps_up_m_per_min
DOWN = WALKING.steps_down_m_per_min
DIAG = 100.0 * math.sqrt(2.0)

# OSM stores coordinates to 1e-7 degrees (about 1 cm), so the tiny network's nodes sit up to
# a centimetre from the round metres they were laid out at; hand-worked minutes hold to this.
HAND_TOL_MIN = 2e-3

# --- a tiny network laid out by hand, in metres east/north of ORIGIN_M ----------------------
#
#                                  n11 (300,150) ---- n10 (350,150)
#                                   |                   |        ring H, back to n8
#   n6 (0,100) --D-- n5 (100,100) <=C= n4 (200,100) --G-- n8 (300,100) -- n9 (350,100)
#   |             /   stairs, up westwards  ^
#   D          E (diagonal)                 B: one-way north (oneway:foot=yes)
#   |       /                               |
#   n1 (0,0) --A-- n2 (100,0) --A-- n3 (200,0) --F-- n7 (300,0)
TINY_NODES = {
    1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (200, 100), 5: (100, 100), 6: (0, 100),
    7: (300, 0), 8: (300, 100), 9: (350, 100), 10: (350, 150), 11: (300, 150),
}  # fmt: skip
FOOTWAY = {"highway": "footway"}
TINY_WAYS = [
    (101, [1, 2, 3], FOOTWAY),  # A: one link of two segments (n2 has degree two)
    (102, [3, 4], {"highway": "footway", "oneway:foot": "yes"}),  # B
    (103, [4, 5], {"highway": "steps", "incline": "up"}),  # C: climbs from n4 to n5
    (104, [5, 6, 1], FOOTWAY),  # D: parallel to E between n5 and n1
    (105, [1, 5], FOOTWAY),  # E
    (106, [3, 7], FOOTWAY),  # F: dead end
    (107, [4, 8], FOOTWAY),  # G
    (108, [8, 9, 10, 11, 8], FOOTWAY),  # H: a ring starting and ending at n8
]

# Points (metres east/north of ORIGIN_M) and where they lie.
TINY_POINTS = {
    "a1": (30, 10),  # A, segment n1-n2, 10 m off, 30 m from n1
    "a2": (70, -5),  # same segment, 5 m off
    "a3": (150, 8),  # A, the other segment
    "a_on": (50, 0),  # on A itself
    "b1": (195, 30),  # one-way B, 30 m from n3
    "b2": (206, 80),  # one-way B, 80 m from n3
    "c1": (150, 104),  # stairs C, halfway
    "c2": (120, 97),  # stairs C, 20 m from n5 (the top)
    "e1": (50, 56),  # diagonal E
    "f1": (260, -12),  # dead end F
    "g1": (290, 103),  # G, 10 m from n8
    "r1": (352, 120),  # ring, segment n9-n10
    "r2": (320, 153),  # ring, segment n10-n11
    "r3": (310, 98),  # ring, segment n8-n9
}

# Minutes worked out by hand (access legs at the flat speed; stairs up or down).
HAND_MINUTES = {
    ("a1", "a2"): (10 + 40 + 5) / FLAT,  # same segment
    ("a2", "a1"): (5 + 40 + 10) / FLAT,
    ("a1", "a3"): (10 + 120 + 8) / FLAT,  # same link, next segment
    ("b1", "b2"): (5 + 50 + 6) / FLAT,  # along the one-way link
    # against it: on to n4, up the stairs, the diagonal, A to n3, up B to b1's foot
    ("b2", "b1"): (6 + 20) / FLAT + 100 / UP + (DIAG + 200 + 30 + 5) / FLAT,
    ("c1", "c2"): 4 / FLAT + 30 / UP + 3 / FLAT,  # same stairs, going up
    ("c2", "c1"): 3 / FLAT + 30 / DOWN + 4 / FLAT,  # going down
    ("a1", "c2"): (10 + 30 + DIAG) / FLAT + 20 / DOWN + 3 / FLAT,
    ("c2", "a1"): 3 / FLAT + 20 / UP + (DIAG + 30 + 10) / FLAT,
    ("f1", "g1"): (12 + 60 + 100 + 90 + 3) / FLAT,
    ("g1", "f1"): (3 + 90) / FLAT + 100 / UP + (DIAG + 200 + 60 + 12) / FLAT,
    ("r1", "r2"): (2 + 30 + 30 + 3) / FLAT,  # along the ring, not through n8
    ("r3", "r2"): (2 + 10 + 50 + 20 + 3) / FLAT,  # along the ring through n8
}


def tiny_points(names: list[str] | None = None) -> gpd.GeoDataFrame:
    names = list(TINY_POINTS) if names is None else names
    x = [ORIGIN_M[0] + TINY_POINTS[n][0] for n in names]
    y = [ORIGIN_M[1] + TINY_POINTS[n][1] for n in names]
    return gpd.GeoDataFrame(index=pd.Index(names), geometry=gpd.points_from_xy(x, y), crs=UTM48N)


@pytest.fixture(scope="module")
def tiny_net(tmp_path_factory: pytest.TempPathFactory) -> WalkNetwork:
    path = write_osm(tmp_path_factory.mktemp("osm") / "tiny.osm", nodes_at(TINY_NODES), TINY_WAYS)
    net = walk_network_from_osm(path)
    assert net.crs.to_epsg() == 32648
    assert net.n_links == 8
    return net


# --- the reference: every point a node of its own ---------------------------------------------


def point_xy(network: WalkNetwork, points: gpd.GeoDataFrame) -> np.ndarray:
    """The points (a point on the surface of polygons) in the network's CRS."""
    rep = shapely.point_on_surface(points.geometry.to_crs(network.crs).to_numpy())
    return np.column_stack([shapely.get_x(rep), shapely.get_y(rep)])


def reference_graph(
    network: WalkNetwork, groups: dict[str, tuple[Attachment, np.ndarray]]
) -> nx.DiGraph:
    """A segment-level DiGraph with node ``("point", group, i)`` for every point.

    The segment a point's foot lies on (``Attachment.seg`` / ``frac``) is split at the foot;
    its minutes split in proportion to length.  The point joins its foot both ways in
    ``access_m / speed`` minutes, the access distance measured here from the point itself.
    """
    net = network
    g = nx.DiGraph()

    def add(a: Hashable, b: Hashable, minutes: float) -> None:
        if math.isfinite(minutes) and (not g.has_edge(a, b) or g[a][b]["weight"] > minutes):
            g.add_edge(a, b, weight=minutes)

    feet: dict[int, list[tuple[float, Hashable]]] = defaultdict(list)
    for group, (att, xy) in groups.items():
        for i in range(att.n_points):
            s, f = int(att.seg[i]), float(att.frac[i])
            fx = net.seg_x0[s] + f * (net.seg_x1[s] - net.seg_x0[s])
            fy = net.seg_y0[s] + f * (net.seg_y1[s] - net.seg_y0[s])
            access = math.hypot(xy[i, 0] - fx, xy[i, 1] - fy) / net.profile.speed_m_per_min
            foot = ("foot", group, i)
            feet[s].append((f, foot))
            add(("point", group, i), foot, access)
            add(foot, ("point", group, i), access)
    ptr = net.link_seg_ptr
    for k in range(net.n_links):
        first, last = int(ptr[k]), int(ptr[k + 1]) - 1
        for s in range(first, last + 1):
            start = ("junction", int(net.link_u[k])) if s == first else ("vertex", s)
            end = ("junction", int(net.link_v[k])) if s == last else ("vertex", s + 1)
            chain = [(0.0, start), *sorted(feet[s], key=lambda t: t[0]), (1.0, end)]
            for (fa, a), (fb, b) in pairwise(chain):
                # Two feet at one place are one place, whichever way the street may be walked.
                add(a, b, 0.0 if fb == fa else (fb - fa) * float(net.seg_min_fwd[s]))
                add(b, a, 0.0 if fb == fa else (fb - fa) * float(net.seg_min_back[s]))
    return g


def reference_minutes(
    g: nx.DiGraph, n_origins: int, n_destinations: int, cutoff: float
) -> dict[tuple[int, int], float]:
    """{(origin, destination): minutes} for pairs within ``cutoff`` (positions)."""
    out: dict[tuple[int, int], float] = {}
    for i in range(n_origins):
        reached = nx.single_source_dijkstra_path_length(g, ("point", "o", i), cutoff=cutoff)
        for j in range(n_destinations):
            minutes = reached.get(("point", "d", j))
            if minutes is not None:
                out[i, j] = minutes
    return out


def pairs(m: WalkMatrix) -> dict[tuple[int, int], float]:
    return dict(
        zip(
            zip(m.origin_positions().tolist(), m.indices.tolist(), strict=True),
            m.walk_min.tolist(),
            strict=True,
        )
    )


def assert_matches_reference(
    got: dict[tuple[int, int], float], ref: dict[tuple[int, int], float], cutoff: float
) -> None:
    """Same pairs and minutes (1e-9), tolerating only pairs within 1e-9 of the cutoff."""
    for key, minutes in got.items():
        assert minutes <= cutoff
        assert key in ref, f"pair {key} at {minutes} min is not in the reference"
        assert abs(minutes - ref[key]) < 1e-9, f"pair {key}: {minutes} != {ref[key]}"
    missing = {k: m for k, m in ref.items() if m <= cutoff - 1e-9 and k not in got}
    assert not missing, (
        f"{len(missing)} pairs within the cutoff are missing: {list(missing.items())[:5]}"
    )


def reference_for(
    network: WalkNetwork, origins: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame
) -> tuple[nx.DiGraph, Attachment, Attachment]:
    o = attach_points(network, origins)
    d = attach_points(network, destinations)
    g = reference_graph(
        network,
        {"o": (o, point_xy(network, origins)), "d": (d, point_xy(network, destinations))},
    )
    return g, o, d


# --- the tiny network: minutes worked out by hand ---------------------------------------------


@pytest.mark.parametrize(("pair", "expected"), list(HAND_MINUTES.items()), ids=lambda p: str(p))
def test_tiny_network_minutes_match_the_hand_worked_values(
    tiny_net: WalkNetwork, pair: tuple[str, str], expected: float
) -> None:
    origin, destination = pair

    m = walk_minutes_within(
        tiny_net, tiny_points([origin]), tiny_points([destination]), cutoff_min=60.0
    )

    frame = m.to_frame()
    assert frame["origin"].tolist() == [origin]
    assert frame["destination"].tolist() == [destination]
    assert frame["walk_min"].iloc[0] == pytest.approx(expected, abs=HAND_TOL_MIN)


def test_tiny_network_points_attach_where_they_were_laid_out(tiny_net: WalkNetwork) -> None:
    att = attach_points(tiny_net, tiny_points())
    link = dict(zip(att.labels, att.link.tolist(), strict=True))
    seg = dict(zip(att.labels, att.seg.tolist(), strict=True))

    assert link["a1"] == link["a2"] == link["a3"] == link["a_on"]
    assert seg["a1"] == seg["a2"] != seg["a3"]
    assert link["b1"] == link["b2"]
    assert seg["c1"] == seg["c2"]
    assert link["r1"] == link["r2"] == link["r3"]
    assert len({seg["r1"], seg["r2"], seg["r3"]}) == 3
    ring = link["r1"]
    assert tiny_net.link_u[ring] == tiny_net.link_v[ring]


def test_tiny_network_cutoff_is_inclusive_of_the_access_legs(tiny_net: WalkNetwork) -> None:
    expected = HAND_MINUTES["b2", "b1"]

    below = walk_minutes_within(
        tiny_net, tiny_points(["b2"]), tiny_points(["b1"]), cutoff_min=expected - 0.01
    )
    above = walk_minutes_within(
        tiny_net, tiny_points(["b2"]), tiny_points(["b1"]), cutoff_min=expected + 0.01
    )

    assert below.n_pairs == 0
    assert above.n_pairs == 1


@pytest.mark.parametrize("cutoff", [0.5, 1.0, 3.0, 6.0, 60.0])
def test_tiny_network_equals_the_split_segment_reference(
    tiny_net: WalkNetwork, cutoff: float
) -> None:
    points = tiny_points()
    g, _, _ = reference_for(tiny_net, points, points)

    m = walk_minutes_within(tiny_net, points, points, cutoff_min=cutoff)

    assert m.origin_labels.tolist() == m.destination_labels.tolist() == list(TINY_POINTS)
    ref = reference_minutes(g, len(points), len(points), cutoff + 1e-6)
    assert_matches_reference(pairs(m), ref, cutoff)
    if cutoff == 60.0:
        assert m.n_pairs == len(points) ** 2  # the network is strongly connected


def test_tiny_network_one_way_pairs_differ_by_direction(tiny_net: WalkNetwork) -> None:
    points = tiny_points(["b1", "b2"])

    m = walk_minutes_within(tiny_net, points, points, cutoff_min=60.0)

    got = {(o, d): w for o, d, w in m.to_frame().itertuples(index=False)}
    assert got["b2", "b1"] - got["b1", "b2"] > 5.0


def test_tiny_network_nearest_destination(tiny_net: WalkNetwork) -> None:
    origins = tiny_points()
    destinations = tiny_points(["a2", "b1", "c1", "r2", "f1"])
    g, _, _ = reference_for(tiny_net, origins, destinations)
    ref = reference_minutes(g, len(origins), len(destinations), np.inf)

    for cutoff in (0.5, 1.5, 3.0, np.inf):
        near = nearest_destination(tiny_net, origins, destinations, cutoff_min=cutoff)

        assert near.index.tolist() == list(TINY_POINTS)
        for i, name in enumerate(TINY_POINTS):
            best = min(ref[i, j] for j in range(len(destinations)))
            if best <= cutoff - 1e-9:
                assert near["walk_min"].iloc[i] == pytest.approx(best, abs=1e-9), name
                j = destinations.index.get_loc(near["destination"].iloc[i])
                assert ref[i, j] == pytest.approx(best, abs=1e-9), name
            elif best > cutoff + 1e-9:
                assert np.isnan(near["walk_min"].iloc[i]), name
                assert pd.isna(near["destination"].iloc[i]), name


def test_attachment_input_gives_the_same_matrix(tiny_net: WalkNetwork) -> None:
    points = tiny_points()
    att = attach_points(tiny_net, points)

    from_frames = walk_minutes_within(tiny_net, points, points, cutoff_min=6.0)
    from_attachment = walk_minutes_within(tiny_net, att, att, cutoff_min=6.0)

    assert pairs(from_frames) == pairs(from_attachment)
    assert from_attachment.origin_labels.tolist() == list(TINY_POINTS)


def test_threads_give_identical_point_matrices(tiny_net: WalkNetwork) -> None:
    points = tiny_points()
    many = pd.concat([points] * 20, ignore_index=True)

    one = walk_minutes_within(tiny_net, many, points, cutoff_min=6.0, threads=1)
    two = walk_minutes_within(tiny_net, many, points, cutoff_min=6.0, threads=2)

    np.testing.assert_array_equal(one.indptr, two.indptr)
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.walk_min, two.walk_min)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cutoff", "found"), [(-1.0, r"-1\.0"), (float("nan"), "nan")], ids=["negative", "nan"]
)
def test_walk_minutes_within_refuses_a_bad_cutoff(
    tiny_net: WalkNetwork, cutoff: float, found: str
) -> None:
    points = tiny_points(["a1"])
    with pytest.raises(
        InputError, match=rf"cutoff_min: expected a finite number of minutes >= 0; found {found}"
    ):
        walk_minutes_within(tiny_net, points, points, cutoff_min=cutoff)


@pytest.mark.parametrize("cutoff", [-1.0, float("nan")], ids=["negative", "nan"])
def test_nearest_destination_refuses_a_bad_cutoff(tiny_net: WalkNetwork, cutoff: float) -> None:
    # Like walk_minutes_within: a negative or NaN cutoff is a mistake, not "nothing in reach".
    points = tiny_points(["a1"])
    with pytest.raises(InputError, match=r"cutoff_min"):
        nearest_destination(tiny_net, points, points, cutoff_min=cutoff)


# --- the real Yuzhong network: ~100 buildings to ~50 shops ----------------------------------

BUILDINGS = "chongqing/yuzhong/derived_geojson/buildings_osm.geojson"
POIS = "chongqing/yuzhong/derived_geojson/commercial_pois.geojson"


def points_beside(network: WalkNetwork, seg: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Points 1.5 m to the left of segments ``seg`` at ``frac`` along them (network CRS)."""
    dx = network.seg_x1[seg] - network.seg_x0[seg]
    dy = network.seg_y1[seg] - network.seg_y0[seg]
    norm = np.hypot(dx, dy)
    x = network.seg_x0[seg] + frac * dx - 1.5 * dy / norm
    y = network.seg_y0[seg] + frac * dy + 1.5 * dx / norm
    return np.column_stack([x, y])


def neighbour_segments(network: WalkNetwork, seg: np.ndarray) -> np.ndarray:
    """The next segment of the same link, else the previous one, else -1 (single-segment link)."""
    n = network.seg_link.shape[0]
    link = network.seg_link[seg]
    after = np.minimum(seg + 1, n - 1)
    before = np.maximum(seg - 1, 0)
    return np.where(
        (seg + 1 < n) & (network.seg_link[after] == link),
        seg + 1,
        np.where((seg > 0) & (network.seg_link[before] == link), seg - 1, -1),
    )


@pytest.fixture(scope="module")
def yuzhong_case(yuzhong_walk_network: WalkNetwork) -> dict[str, Any]:
    net = yuzhong_walk_network
    rng = np.random.default_rng(20260427)
    buildings = gpd.read_file(require_shared(BUILDINGS))
    pois = gpd.read_file(require_shared(POIS))
    origins = buildings.iloc[np.sort(rng.choice(len(buildings), 100, replace=False))]
    shops = pois.iloc[np.sort(rng.choice(len(pois), 50, replace=False))]
    # Destinations beside 20 of the buildings' own segments and beside a neighbouring segment
    # of their link, so that pairs on one segment and on one link are certain to occur.
    o_att = attach_points(net, origins)
    own = o_att.seg[np.arange(0, 100, 5)]
    other = neighbour_segments(net, o_att.seg)
    other = other[other >= 0][:20]
    beside = np.vstack(
        [
            points_beside(net, own, (o_att.frac[np.arange(0, 100, 5)] + 0.5) % 1.0),
            points_beside(net, other, np.full(other.shape[0], 0.5)),
        ]
    )
    extra = gpd.GeoDataFrame(
        index=pd.RangeIndex(100_000, 100_000 + len(beside)),
        geometry=gpd.points_from_xy(beside[:, 0], beside[:, 1]),
        crs=net.crs,
    ).to_crs(shops.crs)
    destinations = pd.concat([shops[["geometry"]], extra])
    g, o, d = reference_for(net, origins, destinations)
    ref = reference_minutes(g, len(origins), len(destinations), 20.0 + 1e-6)
    return {
        "origins": origins,
        "destinations": destinations,
        "o": o,
        "d": d,
        "ref": ref,
        "graph": g,
    }


def test_yuzhong_case_has_pairs_on_one_link_and_one_segment(yuzhong_case: dict[str, Any]) -> None:
    o, d = yuzhong_case["o"], yuzhong_case["d"]
    same_link = o.link[:, None] == d.link[None, :]
    same_seg = o.seg[:, None] == d.seg[None, :]

    assert same_seg.sum() >= 10
    assert (same_link & ~same_seg).sum() >= 10


@pytest.mark.parametrize("cutoff", [10.0, 20.0])
def test_yuzhong_buildings_to_shops_equal_the_split_segment_reference(
    yuzhong_walk_network: WalkNetwork, yuzhong_case: dict[str, Any], cutoff: float
) -> None:
    case = yuzhong_case

    m = walk_minutes_within(
        yuzhong_walk_network, case["origins"], case["destinations"], cutoff_min=cutoff
    )

    assert m.origin_labels.equals(case["origins"].index)
    assert m.destination_labels.equals(case["destinations"].index)
    got = pairs(m)
    assert_matches_reference(got, case["ref"], cutoff)
    o, d = case["o"], case["d"]
    on_one_link = [k for k in got if o.link[k[0]] == d.link[k[1]]]
    assert len(on_one_link) >= 10
    assert len(got) > 100


def test_yuzhong_threads_give_identical_point_matrices(
    yuzhong_walk_network: WalkNetwork, yuzhong_case: dict[str, Any]
) -> None:
    o, d = yuzhong_case["o"], yuzhong_case["d"]

    one = walk_minutes_within(yuzhong_walk_network, o, d, cutoff_min=20.0, threads=1)
    two = walk_minutes_within(yuzhong_walk_network, o, d, cutoff_min=20.0, threads=2)

    assert sorted(pairs(one).items()) == sorted(pairs(two).items())
    np.testing.assert_array_equal(one.walk_min, two.walk_min)


@pytest.mark.parametrize("cutoff", [10.0, 20.0])
def test_yuzhong_nearest_destination_equals_the_matrix_and_the_reference(
    yuzhong_walk_network: WalkNetwork, yuzhong_case: dict[str, Any], cutoff: float
) -> None:
    net = yuzhong_walk_network
    o, d, ref = yuzhong_case["o"], yuzhong_case["d"], yuzhong_case["ref"]
    m = walk_minutes_within(net, o, d, cutoff_min=cutoff)
    got = pairs(m)

    near = nearest_destination(net, o, d, cutoff_min=cutoff)

    assert near.index.equals(o.labels)
    reached = 0
    for i in range(o.n_points):
        row = {j: w for (a, j), w in got.items() if a == i}
        ref_best = min((w for (a, _), w in ref.items() if a == i), default=np.inf)
        minutes = near["walk_min"].iloc[i]
        if not row:
            assert np.isnan(minutes) or minutes > cutoff - 1e-9
            assert ref_best > cutoff - 1e-9
            continue
        reached += 1
        assert minutes == pytest.approx(min(row.values()), abs=1e-9)
        assert minutes == pytest.approx(ref_best, abs=1e-9)
        j = d.labels.get_loc(near["destination"].iloc[i])
        assert row[j] == pytest.approx(minutes, abs=1e-9)
    assert reached > 50


def test_yuzhong_nearest_destination_without_cutoff_equals_the_reference(
    yuzhong_walk_network: WalkNetwork, yuzhong_case: dict[str, Any]
) -> None:
    net = yuzhong_walk_network
    o, d, g = yuzhong_case["o"], yuzhong_case["d"], yuzhong_case["graph"]
    towards = nx.multi_source_dijkstra_path_length(
        g.reverse(copy=False), {("point", "d", j) for j in range(d.n_points)}
    )

    near = nearest_destination(net, o, d)
    full = pairs(walk_minutes_within(net, o, d, cutoff_min=1e6))

    expected = np.array([towards[("point", "o", i)] for i in range(o.n_points)])
    np.testing.assert_allclose(near["walk_min"].to_numpy(), expected, rtol=0, atol=1e-9)
    for i in range(o.n_points):
        j = d.labels.get_loc(near["destination"].iloc[i])
        assert full[i, j] == pytest.approx(expected[i], abs=1e-9)
