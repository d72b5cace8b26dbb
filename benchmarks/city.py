"""A seeded mountain-river city of millions of residents, for the main-city-scale plan.

No walking network and no building-level population of Chongqing's whole main city (主城区)
is at hand, so the city-scale scenario runs on a generated one.  :func:`mountain_river_city`
makes a city shaped like Chongqing's main city in the ways that matter to walking circles
and to the number of centres a plan needs.  Every choice, with the reason for it:

Extent and scale
    The 5-million city spans 32 x 26 km (832 km² gross); rivers, ridges and unbuilt land
    leave about 430 km² of built-up area, several hundred km² like Chongqing's main urban
    area.  A smaller city (``residents`` below 5 million) is the same map shrunk by
    ``sqrt(residents / 5 million)`` in both directions, so densities, blocks and rivers
    stay the same and the built-up area shrinks in proportion to the residents (the
    scaling runs compare like with like).

Rivers
    Two rivers shaped after the Yangtze (from the south-west to the north-east, 600 m wide)
    and the Jialing (from the north-west, 400 m wide), meeting at a peninsula like
    Yuzhong's.  No street runs in a river: junctions within it are removed, which cuts
    every street across it (a river is at least 400 m wide, blocks are at most 120 m
    long).  Only a few bridges join the banks: 5 over the Yangtze and 4 over the Jialing,
    each a straight walkway from the junction nearest one end to the junction nearest the
    other, its length the distance between them (fewer than the city has, on purpose: the
    rivers should cut the walking circles as they do where bridges are far apart).

Terrain and stairs
    Elevation is a plain at 250 m, two long ridges shaped after Zhongliang Shan (west) and
    Tongluo Shan / Nanshan (east) rising 350 m, and 60 seeded hills of 20-90 m (300-900 m
    across) over the whole map, as the city stands on hills everywhere.  A street's minutes
    come from :func:`linli.network.speed.segment_minutes` with the profile's walking
    speeds: Tobler's slope function on the street's grade, uphill and downhill apart, and
    a street steeper than 15 % is a stairway (梯道) walked at the profile's stair speeds.
    Land more than 150 m above the plain is unbuilt (forest parks on the ridges).

Streets and blocks
    A lattice with its own spacing per street row and column, 80-120 m (as
    ``grids.street_grid``), junctions jittered by 8 m and 4 % of links removed at random.
    Where the city is sparse (fewer than 15,000 residents per km²) or steep (terrain
    grade above 8 %), only every other street is kept, so blocks there are 160-240 m: the
    blocks run from 80 to about 200 m, small in the cores and large at the edges and on
    hills.  Junctions outside the built-up area are removed, and only the largest
    connected component is kept (a few outlying pieces are dropped with their residents).

Residents
    Density is a sum of nine cores shaped after Jiefangbei, Guanyinqiao, Yangjiaping,
    Shapingba, Nanping, Lijia, Dadukou, Chayuan and Xiyong (peaks of 25,000-50,000
    residents per km², 1-2.4 km wide) over a 4,000 per km² suburban floor that fades
    beyond 13 km from the centre; lower on hills.  Land is built where the density is at
    least 2,500 per km².  Each block (lattice cell) holds the residents its area and
    density give, in 1-4 residential buildings (one per 350 residents, at most 4) at
    seeded places in the block: these are the demand points, tens of thousands of them.
    Each building is attached to its nearest junction; the walk from the door to that
    junction (straight, at the flat speed) is added to every walk from that building.
    Residents are rounded to whole people and scaled to the total asked for exactly.

Candidate sites
    One junction per ``site_spacing_m`` x ``site_spacing_m`` cell (300 m by default, the
    junction nearest the cell's centre), the rule of
    :func:`linli.planning.candidates.sites_along_network` on junctions only: every street
    has a candidate within about 300 m, and the count grows with the area.  A building
    left with no candidate within the community homes' circle in its own district (a
    handful, behind a district line or a river) gets its own junction as a candidate, as
    a planner would add a parcel there.

Districts
    Nine districts (区), as Chongqing's main city has nine: the banks (the pieces the
    network falls into without its bridges) are split between district seats, each
    junction going to the nearest seat on its bank (a district does not cross a river).
    Street centres (街道) are subdivisions of a district, so a district plans its own.

Walking minutes
    :func:`linli.access.minutes_within` on a :class:`linli.access.Graph` of the streets, from
    the buildings' junctions to the sites' junctions within the street centres' circle,
    plus each building's walk to its junction; pairs beyond the circle are dropped.

Coordinates are metres in a local projected plane, origin at the south-west corner.

Example
-------
>>> city = mountain_river_city(residents=100_000, seed=0)
>>> int(city.residents.sum())
100000
>>> city.minutes.shape == (city.n_demand, city.n_sites)
True
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from linli.access import Graph, minutes_within
from linli.network.speed import segment_minutes
from linli.standards import Profile, load_profile

__all__ = ["City", "mountain_river_city"]

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]

FULL_RESIDENTS = 5_000_000
"""Residents of the full city; the map below is drawn for it (km, origin south-west)."""
WIDTH_KM, HEIGHT_KM = 32.0, 26.0

YANGTZE_KM = ((0, 5), (8, 7), (13, 9), (16, 12), (19, 13.5), (23, 12), (27, 14), (32, 17))
JIALING_KM = ((4, 26), (9, 21), (12, 18), (15, 16), (19, 13.5))
YANGTZE_WIDTH_M, JIALING_WIDTH_M = 600.0, 400.0
YANGTZE_BRIDGES = (0.12, 0.3, 0.45, 0.62, 0.85)
"""Where the bridges cross, as fractions of the river's length from its upstream end."""
JIALING_BRIDGES = (0.2, 0.45, 0.7, 0.9)

# Cores: (x km, y km, peak residents / km², width sigma km).
CORES = (
    (18.0, 13.4, 50_000, 1.0),  # Jiefangbei (the peninsula)
    (20.5, 16.5, 45_000, 1.4),  # Guanyinqiao
    (12.0, 11.5, 40_000, 1.6),  # Yangjiaping
    (9.5, 18.0, 40_000, 1.6),  # Shapingba
    (20.5, 10.0, 38_000, 1.4),  # Nanping
    (22.0, 21.5, 30_000, 2.4),  # Lijia / Yubei
    (8.0, 5.0, 25_000, 1.5),  # Dadukou
    (24.0, 7.5, 25_000, 1.5),  # Chayuan
    (5.5, 13.0, 25_000, 1.4),  # Xiyong
)
SUBURB_PER_KM2, SUBURB_RADIUS_KM = 4_000.0, 13.0
BUILT_PER_KM2 = 2_500.0
"""Land is built where at least this many residents per km² would live."""
DENSE_PER_KM2 = 15_000.0
"""Below this density (and on steep land) only every other street is kept."""
STEEP_GRADE = 0.08
STAIRS_GRADE = 0.15
PLAIN_M, UNBUILT_ABOVE_M = 250.0, 150.0
# Ridges: (x km at y = 0, x km at y = HEIGHT_KM, height m, sigma km).
RIDGES = ((2.0, 3.0, 350.0, 0.9), (25.5, 30.5, 350.0, 0.8))
N_HILLS = 120
"""Hills on the full map; a smaller city has as many per km²."""
SPACING_M, SPREAD, JITTER_M, REMOVED_SHARE = 100.0, 0.2, 8.0, 0.04
RESIDENTS_PER_BUILDING, MAX_BUILDINGS = 350.0, 4
N_DISTRICTS = 9
"""Districts (区), as Chongqing's main city has nine."""
KMEANS_ROUNDS = 25


@dataclass(frozen=True)
class City:
    """A generated city: walking network, residential buildings, candidate sites, minutes.

    Attributes
    ----------
    node_x, node_y : float array
        Junctions, metres.
    edge_u, edge_v : int array
        Directed edges (both directions of every street).
    edge_length_m, edge_walk_min : float array
        Horizontal length, metres; walking minutes in the edge's direction.
    edge_is_steps : bool array
        The edge is a stairway.
    n_bridges : int
    demand_x, demand_y : float array
        Residential buildings (the demand points), metres.
    residents : int array
        Residents per building; sums to the total asked for.
    demand_node : int array
        The junction each building is attached to; ``access_min`` the walk to it.
    access_min : float array
    site_node : int array
        Candidate sites (junctions).
    demand_district, site_district : int array
        District code (index into ``district_names``) of each building and site.
    district_names : tuple of str
    minutes : scipy.sparse.csr_array
        Walking minutes from each building to each site within ``cutoff_min`` (explicit
        zeros kept).
    cutoff_min : float
    built_km2 : float
        Built-up area: lattice cells holding residents, km².
    seconds : dict of str to float
        Build times: ``network``, ``demand``, ``minutes``.
    """

    node_x: F8
    node_y: F8
    edge_u: I8
    edge_v: I8
    edge_length_m: F8
    edge_walk_min: F8
    edge_is_steps: NDArray[np.bool_]
    n_bridges: int
    demand_x: F8
    demand_y: F8
    residents: I8
    demand_node: I8
    access_min: F8
    site_node: I8
    demand_district: I8
    site_district: I8
    district_names: tuple[str, ...]
    minutes: Any
    cutoff_min: float
    built_km2: float
    seconds: dict[str, float]

    @property
    def n_nodes(self) -> int:
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @property
    def n_demand(self) -> int:
        return int(self.residents.shape[0])

    @property
    def n_sites(self) -> int:
        return int(self.site_node.shape[0])

    @property
    def street_km(self) -> float:
        """Length of the streets (each counted once), km."""
        return float(self.edge_length_m.sum() / 2 / 1000)


def mountain_river_city(
    *,
    residents: int = FULL_RESIDENTS,
    seed: int = 0,
    site_spacing_m: float = 300.0,
    cutoff_min: float | None = None,
    profile: Profile | None = None,
    threads: int | None = None,
) -> City:
    """Generate the city (see the module notes for every choice).

    Parameters
    ----------
    residents : int
        Residents in all; the map is drawn for 5 million and shrinks with fewer.
    seed : int
        Seed of every random choice.
    site_spacing_m : float
        One candidate site per cell of this size, metres.
    cutoff_min : float, optional
        Walking minutes kept; default the profile's largest tier circle (20).
    profile : Profile, optional
        Standards profile for walking speeds and circles; default ``chongqing-2019``.
    threads : int, optional
        Threads for the walking searches.

    Returns
    -------
    City
    """
    prof = profile or load_profile("chongqing-2019")
    cut = float(cutoff_min if cutoff_min is not None else max(t.walk_min for t in prof.tiers))
    rng = np.random.default_rng(seed)
    scale = math.sqrt(residents / FULL_RESIDENTS)
    t0 = time.perf_counter()
    land = _Land(rng, scale)
    net = _streets(land, rng, scale, prof)
    t1 = time.perf_counter()
    demand = _buildings(land, net, rng, residents, prof)
    sites = _sites(net, site_spacing_m)
    districts = _districts(net, demand, rng)
    t2 = time.perf_counter()
    graph = Graph.from_edges(net["u"], net["v"], net["walk_min"], n_nodes=net["x"].shape[0])
    nodes, row_of = np.unique(demand["node"], return_inverse=True)
    walk = minutes_within(graph, nodes, cutoff_min=cut, destinations=sites, threads=threads)
    minutes = _per_building(walk, row_of, demand["access_min"], cut, sites.shape[0])
    # A building with no candidate within the smallest circle in its own district gets
    # its own junction as a candidate (as a planner would add a parcel there).
    smallest = float(min(t.walk_min for t in prof.tiers))
    near = minutes.tocoo()
    ok = (near.data <= smallest) & (
        districts[demand["node"]][near.row] == districts[sites][near.col]
    )
    served = np.zeros(demand["node"].shape[0], dtype=bool)
    served[near.row[ok]] = True
    if not served.all():
        sites = np.union1d(sites, demand["node"][~served]).astype(np.int64)
        walk = minutes_within(graph, nodes, cutoff_min=cut, destinations=sites, threads=threads)
        minutes = _per_building(walk, row_of, demand["access_min"], cut, sites.shape[0])
    t3 = time.perf_counter()
    return City(
        node_x=net["x"],
        node_y=net["y"],
        edge_u=net["u"],
        edge_v=net["v"],
        edge_length_m=net["length_m"],
        edge_walk_min=net["walk_min"],
        edge_is_steps=net["steps"],
        n_bridges=int(net["n_bridges"]),
        demand_x=demand["x"],
        demand_y=demand["y"],
        residents=demand["residents"],
        demand_node=demand["node"],
        access_min=demand["access_min"],
        site_node=sites,
        demand_district=districts[demand["node"]],
        site_district=districts[sites],
        district_names=tuple(f"district {k + 1}" for k in range(N_DISTRICTS)),
        minutes=minutes,
        cutoff_min=cut,
        built_km2=float(demand["built_km2"]),
        seconds={"network": t1 - t0, "demand": t2 - t1, "minutes": t3 - t2},
    )


# ---------------------------------------------------------------------- the land
class _Land:
    """Rivers, elevation and density of the (scaled) map; positions in metres."""

    def __init__(self, rng: np.random.Generator, scale: float) -> None:
        k = 1000.0 * scale
        self.scale = scale
        self.width_m, self.height_m = WIDTH_KM * k, HEIGHT_KM * k
        self.rivers = [
            (shapely.LineString(np.asarray(YANGTZE_KM) * k), YANGTZE_WIDTH_M, YANGTZE_BRIDGES),
            (shapely.LineString(np.asarray(JIALING_KM) * k), JIALING_WIDTH_M, JIALING_BRIDGES),
        ]
        self.cores = [(x * k, y * k, peak, s * k) for x, y, peak, s in CORES]
        self.ridges = [(a * k, b * k, h, s * k) for a, b, h, s in RIDGES]
        hills = max(1, round(N_HILLS * scale**2))
        self.hills = np.column_stack(
            [
                rng.uniform(0, self.width_m, hills),
                rng.uniform(0, self.height_m, hills),
                rng.uniform(30.0, 120.0, hills),
                rng.uniform(120.0, 350.0, hills),  # sigma: 250-700 m across
            ]
        )

    def in_river(self, x: F8, y: F8) -> NDArray[np.bool_]:
        pts = shapely.points(x, y)
        wet = np.zeros(x.shape[0], dtype=bool)
        for line, width, _ in self.rivers:
            wet |= shapely.distance(pts, line) <= width / 2
        return wet

    def elevation_m(self, x: F8, y: F8) -> F8:
        z = np.full(x.shape[0], PLAIN_M)
        for x0, x1, h, s in self.ridges:
            axis = x0 + (x1 - x0) * y / self.height_m
            z += h * np.exp(-0.5 * ((x - axis) / s) ** 2)
        for hx, hy, h, s in self.hills:
            z += h * np.exp(-0.5 * ((x - hx) ** 2 + (y - hy) ** 2) / s**2)
        return z

    def density_per_km2(self, x: F8, y: F8) -> F8:
        d = np.zeros(x.shape[0])
        for cx, cy, peak, s in self.cores:
            d += peak * np.exp(-0.5 * ((x - cx) ** 2 + (y - cy) ** 2) / s**2)
        centre = np.hypot(x - self.width_m * 0.55, y - self.height_m * 0.5)
        d += SUBURB_PER_KM2 * np.exp(-0.5 * (centre / (SUBURB_RADIUS_KM * 1000 * self.scale)) ** 4)
        relief = self.elevation_m(x, y) - PLAIN_M
        d *= np.clip(1.0 - relief / UNBUILT_ABOVE_M, 0.0, 1.0) ** 0.5  # fewer on hills
        d[self.in_river(x, y)] = 0.0
        return d


def _streets(land: _Land, rng: np.random.Generator, scale: float, prof: Profile) -> dict[str, Any]:
    """The street lattice, thinned where sparse or steep, cut by rivers, joined by bridges."""
    low, high = SPACING_M * (1 - SPREAD), SPACING_M * (1 + SPREAD)
    cols = int(land.width_m / SPACING_M) + 2
    rows = int(land.height_m / SPACING_M) + 2
    col_x = np.concatenate(([0.0], np.cumsum(rng.uniform(low, high, cols - 1))))
    row_y = np.concatenate(([0.0], np.cumsum(rng.uniform(low, high, rows - 1))))
    n = rows * cols
    r_of = np.repeat(np.arange(rows), cols)
    c_of = np.tile(np.arange(cols), rows)
    x = col_x[c_of] + rng.uniform(-JITTER_M, JITTER_M, n)
    y = row_y[r_of] + rng.uniform(-JITTER_M, JITTER_M, n)
    z = land.elevation_m(x, y)
    density = land.density_per_km2(x, y)
    built = (density >= BUILT_PER_KM2) & (z - PLAIN_M <= UNBUILT_ABOVE_M)
    # Terrain grade at each junction, from the elevation a block away.
    dzdx = (land.elevation_m(x + 50, y) - land.elevation_m(x - 50, y)) / 100
    dzdy = (land.elevation_m(x, y + 50) - land.elevation_m(x, y - 50)) / 100
    sparse_here = (density < DENSE_PER_KM2) | (np.hypot(dzdx, dzdy) > STEEP_GRADE)

    node = np.arange(n).reshape(rows, cols)
    a = np.concatenate((node[:, :-1].ravel(), node[:-1, :].ravel()))
    b = np.concatenate((node[:, 1:].ravel(), node[1:, :].ravel()))
    # An east-west link lies on street row r, a north-south one on street column c: where
    # the land is sparse or steep, only even rows and columns keep their streets.
    horizontal = np.arange(a.shape[0]) < rows * (cols - 1)
    on_street = np.where(horizontal, r_of[a] % 2 == 0, c_of[a] % 2 == 0)
    thin = sparse_here[a] & sparse_here[b]
    keep = built[a] & built[b] & (on_street | ~thin)
    keep &= rng.random(a.shape[0]) >= REMOVED_SHARE
    a, b = a[keep], b[keep]

    # Bridges: a walkway between the junctions nearest each end.
    tree_nodes = np.flatnonzero(built)
    tree = cKDTree(np.column_stack([x[tree_nodes], y[tree_nodes]]))
    bridge_a: list[int] = []
    bridge_b: list[int] = []
    for line, width, where in land.rivers:
        for t in where:
            p = line.interpolate(t, normalized=True)
            q = line.interpolate(min(t + 0.01, 1.0), normalized=True)
            dx, dy = q.x - p.x, q.y - p.y
            nx, ny = -dy / math.hypot(dx, dy), dx / math.hypot(dx, dy)
            ends = [
                (p.x + s * nx * (width / 2 + 60), p.y + s * ny * (width / 2 + 60)) for s in (1, -1)
            ]
            _, idx = tree.query(ends)
            if idx[0] != idx[1]:  # a small city may have lost the bank here
                bridge_a.append(int(tree_nodes[idx[0]]))
                bridge_b.append(int(tree_nodes[idx[1]]))
    a = np.concatenate([a, bridge_a])
    b = np.concatenate([b, bridge_b])
    is_bridge = np.zeros(a.shape[0], dtype=bool)
    is_bridge[a.shape[0] - len(bridge_a) :] = True

    adjacency = sparse.coo_array((np.ones(a.shape[0]), (a, b)), shape=(n, n))
    _, label = connected_components(adjacency, directed=False)
    sizes = np.bincount(label)
    sizes[label[~np.isin(np.arange(n), np.concatenate([a, b]))]] = 0  # lone junctions
    largest = label == int(np.argmax(sizes))
    new_id = np.cumsum(largest) - 1
    ok = largest[a]
    a, b, is_bridge = new_id[a[ok]], new_id[b[ok]], is_bridge[ok]
    x, y, z = x[largest], y[largest], z[largest]

    length = np.hypot(x[b] - x[a], y[b] - y[a])
    rise = np.where(is_bridge, 0.0, z[b] - z[a])  # bridges are level
    steps = ~is_bridge & (np.abs(rise) / np.maximum(length, 1.0) > STAIRS_GRADE)
    fwd, back = segment_minutes(
        length,
        rise,
        is_steps=steps,
        incline=np.zeros(a.shape[0], dtype=np.int8),
        oneway=np.zeros(a.shape[0], dtype=np.int8),
        profile=prof.walking,
    )
    bank = sparse.coo_array(
        (np.ones(int((~is_bridge).sum())), (a[~is_bridge], b[~is_bridge])),
        shape=(x.shape[0], x.shape[0]),
    )
    _, bank_label = connected_components(bank, directed=False)
    return {
        "x": x,
        "y": y,
        "u": np.concatenate([a, b]).astype(np.int64),
        "v": np.concatenate([b, a]).astype(np.int64),
        "length_m": np.concatenate([length, length]),
        "walk_min": np.concatenate([fwd, back]),
        "steps": np.concatenate([steps, steps]),
        "n_bridges": int(is_bridge.sum()),
        "bank": bank_label,
        "density": density[largest],
        "lattice": (col_x, row_y),
        "land": land,
    }


def _buildings(
    land: _Land, net: dict[str, Any], rng: np.random.Generator, residents: int, prof: Profile
) -> dict[str, Any]:
    """Residential buildings per block, attached to their nearest junction."""
    col_x, row_y = net["lattice"]
    cx = (col_x[:-1] + col_x[1:]) / 2
    cy = (row_y[:-1] + row_y[1:]) / 2
    w = np.diff(col_x)
    h = np.diff(row_y)
    bx = np.tile(cx, cy.shape[0])
    by = np.repeat(cy, cx.shape[0])
    area_km2 = np.tile(w, cy.shape[0]) * np.repeat(h, cx.shape[0]) / 1e6
    dens = land.density_per_km2(bx, by)
    relief = land.elevation_m(bx, by) - PLAIN_M
    block = (dens >= BUILT_PER_KM2) & (relief <= UNBUILT_ABOVE_M)
    pop = dens * area_km2 * block
    k = np.clip(np.ceil(pop / RESIDENTS_PER_BUILDING), 0, MAX_BUILDINGS).astype(np.int64)
    owner = np.repeat(np.arange(pop.shape[0]), k)
    half_w = np.tile(w, cy.shape[0])[owner] / 2 - 10
    half_h = np.repeat(h, cx.shape[0])[owner] / 2 - 10
    x = bx[owner] + rng.uniform(-1, 1, owner.shape[0]) * half_w
    y = by[owner] + rng.uniform(-1, 1, owner.shape[0]) * half_h
    share = pop[owner] / k[owner]
    tree = cKDTree(np.column_stack([net["x"], net["y"]]))
    dist, node = tree.query(np.column_stack([x, y]))
    near = dist <= 200.0  # beyond: an outlying piece whose streets were dropped
    x, y, share, dist, node = x[near], y[near], share[near], dist[near], node[near]
    # Whole residents, summing to the total exactly (largest remainders).
    exact = share * residents / share.sum()
    whole = np.floor(exact).astype(np.int64)
    short = residents - int(whole.sum())
    whole[np.argsort(whole - exact)[:short]] += 1
    keep = whole > 0
    built_km2 = float(area_km2[np.unique(owner[near])].sum())
    return {
        "x": x[keep],
        "y": y[keep],
        "residents": whole[keep],
        "node": node[keep].astype(np.int64),
        "access_min": dist[keep] / prof.walking.speed_m_per_min,
        "built_km2": built_km2,
    }


def _sites(net: dict[str, Any], spacing_m: float) -> I8:
    """One junction per ``spacing_m`` cell: the one nearest the cell's centre."""
    x, y = net["x"], net["y"]
    cell_x = np.floor(x / spacing_m)
    cell_y = np.floor(y / spacing_m)
    off = np.hypot(x - (cell_x + 0.5) * spacing_m, y - (cell_y + 0.5) * spacing_m)
    order = np.lexsort((off, cell_y, cell_x))
    key = np.column_stack([cell_x[order], cell_y[order]])
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = (key[1:] != key[:-1]).any(axis=1)
    return np.sort(order[first]).astype(np.int64)


def _districts(net: dict[str, Any], demand: dict[str, Any], rng: np.random.Generator) -> I8:
    """Each junction's district: banks get districts by residents, split by weighted k-means.

    A bank (a piece of the network without its bridges) gets districts in proportion to its
    residents (largest remainders); a bank too small for one joins the district of the
    nearest seat.  Within a bank, seats are the residents' weighted k-means centres
    (Lloyd's rounds from seeded buildings) and each junction goes to the nearest seat.
    """
    x, y, bank = net["x"], net["y"], net["bank"]
    home_bank = bank[demand["node"]]
    pop = np.bincount(home_bank, weights=demand["residents"], minlength=int(bank.max()) + 1)
    quota = pop / pop.sum() * N_DISTRICTS
    count = np.floor(quota).astype(np.int64)
    count[np.argsort(count - quota)[: N_DISTRICTS - int(count.sum())]] += 1
    seats: list[tuple[float, float]] = []
    seat_bank: list[int] = []
    for b in np.flatnonzero(count):
        mine = home_bank == b
        px, py, pw = demand["x"][mine], demand["y"][mine], demand["residents"][mine]
        pick = rng.choice(px.shape[0], size=int(count[b]), replace=False, p=pw / pw.sum())
        cx, cy = px[pick].copy(), py[pick].copy()
        for _ in range(KMEANS_ROUNDS):
            near = np.argmin(np.hypot(px[:, None] - cx, py[:, None] - cy), axis=1)
            w = np.bincount(near, weights=pw, minlength=cx.shape[0])
            got = w > 0
            cx[got] = np.bincount(near, weights=pw * px, minlength=cx.shape[0])[got] / w[got]
            cy[got] = np.bincount(near, weights=pw * py, minlength=cx.shape[0])[got] / w[got]
        seats += list(zip(cx.tolist(), cy.tolist(), strict=True))
        seat_bank += [int(b)] * int(count[b])
    sx, sy = np.asarray(seats).T
    d = np.hypot(x[:, None] - sx[None, :], y[:, None] - sy[None, :])
    d_bank = np.where(bank[:, None] == np.asarray(seat_bank)[None, :], d, np.inf)
    has_seat = np.isfinite(d_bank).any(axis=1)
    return np.where(has_seat, np.argmin(d_bank, axis=1), np.argmin(d, axis=1)).astype(np.int64)


def _per_building(walk: Any, row_of: I8, access_min: F8, cutoff: float, n_sites: int) -> Any:
    """Each building's row of the junctions' minutes, plus its walk to the junction."""
    counts = np.diff(walk.indptr)[row_of]
    starts = walk.indptr[:-1][row_of]
    total = int(counts.sum())
    owner = np.repeat(np.arange(row_of.shape[0]), counts)
    pos = (
        np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    )
    minutes = walk.walk_min[pos] + access_min[owner]
    keep = minutes <= cutoff
    indptr = np.concatenate([[0], np.cumsum(np.bincount(owner[keep], minlength=row_of.shape[0]))])
    return sparse.csr_array(
        (minutes[keep], walk.indices[pos][keep].astype(np.int64), indptr),
        shape=(row_of.shape[0], n_sites),
    )


def describe(city: City) -> list[str]:
    """Lines of facts about a city."""
    steps = float(city.edge_length_m[city.edge_is_steps].sum() / city.edge_length_m.sum())
    per_district = np.bincount(city.demand_district, weights=city.residents)
    return [
        f"{int(city.residents.sum()):,} residents in {city.n_demand:,} buildings; "
        f"built-up {city.built_km2:,.0f} km²; extent "
        f"{city.node_x.max() / 1000:.1f} x {city.node_y.max() / 1000:.1f} km",
        f"{city.n_nodes:,} junctions, {city.n_edges:,} directed edges, "
        f"{city.street_km:,.0f} km of streets ({steps:.1%} stairs), {city.n_bridges} bridges",
        f"{city.n_sites:,} candidate sites; {city.minutes.nnz:,} building-site pairs within "
        f"{city.cutoff_min:g} min",
        "districts: "
        + ", ".join(
            f"{name} {p / 1000:,.0f}k"
            for name, p in zip(city.district_names, per_district, strict=True)
        ),
        "build s: " + ", ".join(f"{k} {v:.1f}" for k, v in city.seconds.items()),
    ]


def _main() -> None:
    parser = argparse.ArgumentParser(description="Print the statistics of a generated city.")
    parser.add_argument("--residents", type=int, default=FULL_RESIDENTS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    city = mountain_river_city(residents=args.residents, seed=args.seed)
    print("\n".join(describe(city)))


if __name__ == "__main__":
    _main()
