"""Location models: linli against the published optima and against spopt, side by side.

Two parts, both written to ``benchmarks/results/planning.md`` with the machine's facts:

1. **Published instances** (OR-Library, read by ``orlib.py`` from
   ``../shared/data/benchmarks/or-library``): p-median pmed1-20, capacitated p-median
   pmedcap1-10 (Osman & Christofides) and weighted set covering scp41-410.  linli's objective
   against the known optimum, its time, status and gap.  Target: the optimum on every
   instance, each in under 10 s; the report says plainly where it is missed.
2. **linli vs spopt** (PuLP with CBC, and with HiGHS through highspy) on set covering (LSCP),
   maximal covering (MCLP) and p-median at 1,000 x 100, 10,000 x 1,000 and 50,000 x 5,000
   demand points x candidate sites, on generated walking data: a street grid from
   ``grids.py``, demand at its junctions with seeded weights, sites a seeded subset, walking
   minutes within 10 / 20 min from ``linli.access.minutes_within``; on Yuzhong's real data;
   and on Yuzhong-like data at the two larger sizes, the generated mountain-river cities of
   1 and 5 million residents of ``city.py`` (buildings x candidate sites).  linli gets the
   sparse pairs; spopt needs dense matrices and gets one (pairs beyond the cutoff at
   ``FORBIDDEN_MIN``).  For set covering the report also gives the LP relaxation: how far
   below a plan any bound without branching stays.

Every solve runs in its own subprocess with a time-out and a memory cap, so that its memory can
be measured alone and a peer that runs out of time or memory shows as such instead of stopping
the run.  spopt 0.8 needs Python >= 3.12, so ``setup.sh`` puts it in its own venv
(``.venv-bench-spopt``) and the spopt workers run there.  See ``benchmarks/README.md`` for the
columns and the choices behind them.

Run ``bash benchmarks/setup.sh`` first, then::

    .venv-bench/bin/python benchmarks/bench_planning.py --quick    # a few minutes
    .venv-bench/bin/python benchmarks/bench_planning.py            # everything (about 1.5 hours)
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import importlib.metadata
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))  # grids.py and orlib.py beside this file

import orlib  # noqa: E402
from grids import street_grid  # noqa: E402

SPEED_M_PER_MIN = 80.0
"""Walking speed turning metres into minutes (10 min = 800 m, 20 min = 1,600 m)."""

FORBIDDEN_MIN = 1000.0
"""spopt's dense matrices hold this many minutes for pairs beyond the cutoff.  Covering models
only compare entries with the radius; for p-median it makes such a pair cost 50 times the
20-minute cutoff, so an optimal plan never uses one when the cutoff problem is feasible (the
check column would show it)."""

PEERS = ("linli", "spopt-cbc", "spopt-highs")
SIZES = {
    "yuzhong": (0, 0),  # real data: the counts come from the data (see make_yuzhong)
    "1k": (1_000, 100),
    "10k": (10_000, 1_000),
    "50k": (50_000, 5_000),
    # Generated mountain-river cities (city.py): Yuzhong-like walking data at the two larger
    # sizes; the counts come from the city (about 10k x 1.2k and 52k x 5.8k).
    "city1m": (0, 0),
    "city5m": (0, 0),
}
MOUNTAIN_CITY_RESIDENTS = {"city1m": 1_000_000, "city5m": 5_000_000}
SHARED = REPO.parent / "shared" / "data" / "chongqing"
YUZHONG_OSM = SHARED / "yuzhong" / "yuzhong.osm.pbf"
YUZHONG_DEM = SHARED / "yuzhong" / "terrain" / "chongqingZ_elevation_utm.tif"
YUZHONG_CENSUS = SHARED / "admin" / "chongqing_census_reference.csv"
YUZHONG_AREA = SHARED / "yuzhong" / "derived_geojson" / "yuzhong_district_boundary_osm.geojson"
YUZHONG_SPACING_M = 100.0
"""Candidate sites along Yuzhong's walking network: one per 100 m x 100 m cell."""
FAMILIES = ("pmed", "pmedcap", "scp")
QUICK_PUBLISHED = ("pmed1", "pmed2", "pmed3", "pmed4", "pmed5", "scp41", "scp42", "scp43")
SPOPT_VENV = REPO / ".venv-bench-spopt"
SAMPLE_INTERVAL_S = 0.02
START_GRACE_S = 180.0
"""A worker gets this long for imports and its warm-up solve before its task's clock starts."""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CaseSpec:
    """A model on generated data: which model, within which cutoff, how many sites."""

    key: str
    model: str  # "lscp", "mclp" or "pmedian"
    cutoff_min: float
    p_share: float | None = None  # p = ceil(p_share * n_sites) for MCLP and p-median

    def p(self, n_sites: int) -> int | None:
        return None if self.p_share is None else max(1, math.ceil(self.p_share * n_sites))

    def title(self, n_sites: int) -> str:
        name = {"lscp": "LSCP", "mclp": "MCLP", "pmedian": "p-median"}[self.model]
        p = self.p(n_sites)
        return f"{name} {self.cutoff_min:g} min" + (f", p = {p:,}" if p else "")


CASES = {
    # Community homes' circle and street centres' circle: fewest sites covering everyone.
    "lscp10": CaseSpec("lscp10", "lscp", 10.0),
    "lscp20": CaseSpec("lscp20", "lscp", 20.0),
    # A budget of 5 % of the sites at the strict circle: most residents covered.
    "mclp10": CaseSpec("mclp10", "mclp", 10.0, 0.05),
    # 10 % of the sites, everyone assigned within 20 min: least resident-minutes.
    "pmedian20": CaseSpec("pmedian20", "pmedian", 20.0, 0.10),
}


# --------------------------------------------------------------------------------------------
# Problems (built in the parent, handed to the workers as .npz files)
# --------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One model instance as every peer receives it, and what the parent needs to check it.

    ``model`` is ``pmedian`` (dense or sparse cost, optional capacity), ``lscp`` (cover every
    row within ``cutoff``, unit site costs), ``scp`` (cover every row of a coverage matrix at
    least total site cost) or ``mclp`` (most weight covered within ``cutoff`` with ``p`` sites).
    Sparse costs are compressed rows (``indptr``, ``indices``, ``minutes``): the stored pairs
    are the allowed ones.
    """

    section: str
    name: str
    model: str
    n_demand: int
    n_sites: int
    weights: FloatArray
    p: int | None = None
    cutoff: float | None = None
    capacity: float | None = None
    demand: FloatArray | None = None
    optimum: float | None = None
    dense_cost: FloatArray | None = None
    indptr: IntArray | None = None
    indices: IntArray | None = None
    minutes: FloatArray | None = None
    site_costs: FloatArray | None = None
    title: str = ""
    notes: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def sense(self) -> str:
        return "max" if self.model == "mclp" else "min"

    @property
    def n_pairs(self) -> int:
        if self.indices is not None:
            return int(self.indices.shape[0])
        return self.n_demand * self.n_sites

    def save(self, folder: Path) -> None:
        arrays: dict[str, Any] = {"weights": self.weights}
        for key in ("demand", "dense_cost", "indptr", "indices", "minutes", "site_costs"):
            value = getattr(self, key)
            if value is not None:
                arrays[key] = value
        self.path = folder / f"{self.section}-{self.name}.npz"
        np.savez(self.path, **arrays)

    def task(self) -> dict[str, Any]:
        """What a worker needs to know besides the arrays."""
        return {
            "section": self.section,
            "name": self.name,
            "model": self.model,
            "data": str(self.path),
            "n_demand": self.n_demand,
            "n_sites": self.n_sites,
            "p": self.p,
            "cutoff": self.cutoff,
            "capacity": self.capacity,
        }


def published_problems(names: Sequence[str], folder: Path) -> list[Problem]:
    problems = []
    by_family: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for name in names:
        family = next(f for f in ("pmedcap", "pmed", "scp") if name.startswith(f))
        by_family[family].append(name)
    instances: list[orlib.PMedianInstance] = []
    if by_family["pmed"]:
        instances += orlib.pmed_instances(folder, tuple(by_family["pmed"]))
    if by_family["pmedcap"]:
        instances += orlib.pmedcap_instances(folder, tuple(by_family["pmedcap"]))
    for inst in instances:
        family = "pmedcap" if inst.capacity is not None else "pmed"
        problems.append(
            Problem(
                family,
                inst.name,
                "pmedian",
                inst.n_demand,
                inst.n_sites,
                inst.weights,
                p=inst.p,
                capacity=inst.capacity,
                demand=inst.demand,
                optimum=inst.optimum,
                dense_cost=inst.cost,
            )
        )
    if by_family["scp"]:
        for scp in orlib.scp_instances(folder, tuple(by_family["scp"])):
            coverage = scp.coverage
            problems.append(
                Problem(
                    "scp",
                    scp.name,
                    "scp",
                    scp.n_rows,
                    scp.n_columns,
                    np.ones(scp.n_rows),
                    optimum=scp.optimum,
                    indptr=np.asarray(coverage.indptr, np.int64),
                    indices=np.asarray(coverage.indices, np.int64),
                    minutes=np.ones(coverage.nnz),  # stored entries: the coverage
                    site_costs=scp.costs,
                )
            )
    order = {name: i for i, name in enumerate(names)}
    problems.sort(key=lambda pr: order[pr.name])
    return problems


@dataclass
class City:
    """Generated walking data for one size: demand x sites minutes within the largest cutoff."""

    key: str
    n_demand: int
    n_sites: int
    n_nodes: int
    n_edges: int
    weights: FloatArray
    indptr: IntArray
    indices: IntArray
    minutes: FloatArray
    minutes_s: float
    cutoff_min: float
    description: str = ""


def make_city(key: str, *, seed: int, cutoff_min: float) -> City:
    """A street grid, demand at seeded junctions with seeded weights, seeded candidate sites.

    Walking minutes from each demand point to each site within ``cutoff_min`` come from
    ``linli.access.minutes_within`` (metres / 80 m/min on the grid's edges).
    """
    from linli.access import Graph, minutes_within

    if key == "yuzhong":
        return make_yuzhong(cutoff_min=cutoff_min)
    if key in MOUNTAIN_CITY_RESIDENTS:
        return make_mountain_city(key, seed=seed, cutoff_min=cutoff_min)
    n_demand, n_sites = SIZES[key]
    grid = street_grid(n_demand, seed=seed)
    rng = np.random.default_rng(seed)
    demand_nodes = np.sort(rng.choice(grid.n_nodes, size=n_demand, replace=False))
    site_nodes = np.sort(rng.choice(grid.n_nodes, size=n_sites, replace=False))
    weights = rng.integers(10, 201, size=n_demand).astype(np.float64)
    graph = Graph.from_edges(
        grid.edge_u,
        grid.edge_v,
        grid.edge_walk_min(speed_m_per_min=SPEED_M_PER_MIN),
        n_nodes=grid.n_nodes,
    )
    start = time.perf_counter()
    walk = minutes_within(graph, demand_nodes, cutoff_min=cutoff_min, destinations=site_nodes)
    minutes_s = time.perf_counter() - start
    return City(
        key,
        n_demand,
        n_sites,
        grid.n_nodes,
        grid.n_edges,
        weights,
        np.asarray(walk.indptr, np.int64),
        np.asarray(walk.indices, np.int64),
        np.asarray(walk.walk_min, np.float64),
        minutes_s,
        cutoff_min,
        f"Street grid `street_grid({n_demand:_}, seed={seed})`: {grid.n_nodes:,} junctions, "
        f"{grid.n_edges:,} directed edges, {SPEED_M_PER_MIN:g} m/min. Demand: {n_demand:,} "
        f"seeded junctions with seeded weights (10–200 residents, {weights.sum():,.0f} in "
        f"all); sites: {n_sites:,} seeded junctions.",
    )


def make_yuzhong(*, cutoff_min: float) -> City:
    """Real data: Yuzhong's walking network, its homes and candidate sites, as `linli plan`
    builds them.

    The network from the OSM extract with the SRTM DEM (stairs and slopes, directed); homes
    and residents from linli's population estimate scaled to the 2020 census; candidate
    sites along the network, one per 100 m cell; minutes by ``walk_minutes_within``
    (access legs included).
    """
    import geopandas as gpd
    import pandas as pd

    from linli.access import walk_minutes_within
    from linli.audit.prepare import demand_from_osm
    from linli.network import walk_network_from_osm
    from linli.planning.candidates import sites_along_network
    from linli.standards import load_profile

    for path in (YUZHONG_OSM, YUZHONG_DEM, YUZHONG_CENSUS, YUZHONG_AREA):
        if not path.exists():
            raise SystemExit(f"{path} is missing: the 'yuzhong' size needs ../shared/data")
    census = pd.read_csv(YUZHONG_CENSUS)
    residents = float(
        census.loc[census["district_name"] == "渝中区", "census_2020_resident_pop"].iloc[0]
    )
    profile = load_profile("chongqing-2019")
    area = gpd.read_file(YUZHONG_AREA).to_crs("EPSG:4326").union_all()
    # As `linli demo --city yuzhong`: the SRTM tile stops short of the extract's northern and
    # western edges; links off it are taken as flat.
    network = walk_network_from_osm(
        YUZHONG_OSM, dem=YUZHONG_DEM, dem_gaps="flat", area=area, profile=profile
    )
    demand, _ = demand_from_osm(
        YUZHONG_OSM, total_population=residents, profile=profile, network=network, area=area
    )
    sites = sites_along_network(network, spacing_m=YUZHONG_SPACING_M, area=area)
    start = time.perf_counter()
    walk = walk_minutes_within(network, demand, sites, cutoff_min=cutoff_min)
    minutes_s = time.perf_counter() - start
    weights = demand["population"].to_numpy(dtype=np.float64)
    return City(
        "yuzhong",
        int(weights.shape[0]),
        len(sites),
        network.n_nodes,
        int(network.graph.n_edges),
        weights,
        np.asarray(walk.indptr, np.int64),
        np.asarray(walk.indices, np.int64),
        np.asarray(walk.walk_min, np.float64),
        minutes_s,
        cutoff_min,
        f"Yuzhong, real data (`{YUZHONG_OSM.name}` inside the district boundary, with the SRTM "
        f"DEM (flat where it stops): stairs and slopes, directed): {network.n_nodes:,} "
        f"junctions, {network.graph.n_edges:,} directed edges. "
        f"Demand: {weights.shape[0]:,} homes from linli's population estimate, "
        f"{weights.sum():,.0f} residents (2020 census); sites: {len(sites):,} candidates "
        f"along the network, one per {YUZHONG_SPACING_M:g} m cell.",
    )


def make_mountain_city(key: str, *, seed: int, cutoff_min: float) -> City:
    """Yuzhong-like walking data at scale: the generated mountain-river city of ``city.py``
    (stairs, slopes, rivers with few bridges, clustered buildings), its residential
    buildings as demand and its candidate sites (one per 300 m cell), districts ignored."""
    from city import describe, mountain_river_city

    city = mountain_river_city(
        residents=MOUNTAIN_CITY_RESIDENTS[key], seed=seed, cutoff_min=cutoff_min
    )
    minutes = city.minutes.tocsr()
    minutes.sort_indices()
    facts = describe(city)
    return City(
        key,
        city.n_demand,
        city.n_sites,
        city.n_nodes,
        city.n_edges,
        city.residents.astype(np.float64),
        np.asarray(minutes.indptr, np.int64),
        np.asarray(minutes.indices, np.int64),
        np.asarray(minutes.data, np.float64),
        city.seconds["minutes"],
        cutoff_min,
        f"Mountain-river city `mountain_river_city(residents={MOUNTAIN_CITY_RESIDENTS[key]:_}, "
        f"seed={seed})` (benchmarks/city.py; districts ignored): {facts[0]}; {facts[1]}; "
        f"{facts[2]}. Demand: the residential buildings with their residents; sites: the "
        "candidates.",
    )


def city_problem(city: City, spec: CaseSpec) -> Problem:
    """The pairs within the case's cutoff; for LSCP and p-median only the demand points some
    site reaches (the others would make every peer's model infeasible)."""
    n_rows = city.indptr.shape[0] - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(city.indptr))
    keep_pair = city.minutes <= spec.cutoff_min
    rows, cols, minutes = rows[keep_pair], city.indices[keep_pair], city.minutes[keep_pair]
    counts = np.bincount(rows, minlength=n_rows)
    notes = []
    if spec.model in ("lscp", "pmedian"):
        reachable = counts > 0
        dropped = int((~reachable).sum())
        if dropped:
            notes.append(
                f"{dropped:,} demand point{'s' if dropped > 1 else ''} with no site within "
                f"{spec.cutoff_min:g} min left out"
            )
        new_row = np.cumsum(reachable) - 1
        rows = new_row[rows]
        counts = counts[reachable]
        weights = city.weights[reachable]
    else:
        weights = city.weights
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return Problem(
        city.key,
        spec.key,
        spec.model,
        int(counts.shape[0]),
        city.n_sites,
        weights,
        p=spec.p(city.n_sites),
        cutoff=spec.cutoff_min,
        indptr=indptr,
        indices=cols,
        minutes=minutes,
        title=spec.title(city.n_sites),
        notes=notes,
    )


def lp_relaxation_note(problem: Problem, time_limit_s: float) -> str:
    """The LP relaxation of a set cover (every row covered, unit site costs), as a note.

    It is the bound no relaxation without branching beats: where a plan sits well above it,
    no peer can prove a small gap in a short time limit, however good its plan.
    """
    import highspy

    assert problem.indptr is not None
    assert problem.indices is not None
    n_rows, n_cols = problem.n_demand, problem.n_sites
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", time_limit_s)
    h.setOptionValue("solver", "ipm")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.ones(n_cols)
    lp.col_lower_, lp.col_upper_ = np.zeros(n_cols), np.ones(n_cols)
    lp.row_lower_, lp.row_upper_ = np.ones(n_rows), np.full(n_rows, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = problem.indptr
    lp.a_matrix_.index_ = problem.indices
    lp.a_matrix_.value_ = np.ones(problem.indices.shape[0])
    h.passModel(lp)
    start = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - start
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return f"LP relaxation not solved in {time_limit_s:g} s ({h.getModelStatus()})"
    value = float(h.getInfo().objective_function_value)
    return (
        f"LP relaxation {value:,.2f} (HiGHS interior point, {seconds:.1f} s): every plan "
        f"needs at least {math.ceil(value - 1e-6):,} sites, and a bound above that needs "
        "branching"
    )


# --------------------------------------------------------------------------------------------
# Peers (run inside the worker subprocess)
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a peer's solve returned, in a common form."""

    status: str
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    sites: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    assignment: IntArray | None = None
    message: str = ""


class UnsupportedError(Exception):
    """The peer has no model for this problem."""


def _csr(data: dict[str, Any], task: dict[str, Any]) -> Any:
    from scipy.sparse import csr_array

    # Built from (data, indices, indptr): pairs at 0 minutes stay stored (they are allowed).
    return csr_array(
        (data["minutes"], data["indices"], data["indptr"]),
        shape=(task["n_demand"], task["n_sites"]),
    )


class LinliPeer:
    """linli's models, built from the sparse pairs (or the dense matrix for pmed/pmedcap)."""

    name = "linli"

    def __init__(self) -> None:
        from linli.planning import MaxCover, PMedian, SetCover

        self._set_cover, self._max_cover, self._p_median = SetCover, MaxCover, PMedian

    def versions(self) -> dict[str, str]:
        return _versions(("linli", "highspy", "numpy", "scipy"))

    def build(self, task: dict[str, Any], data: dict[str, Any]) -> Any:
        model, weights = task["model"], data["weights"]
        if model == "pmedian":
            if "dense_cost" not in data:
                return self._p_median.from_cost_matrix(
                    _csr(data, task), p=task["p"], cutoff=task["cutoff"], weights=weights
                )
            if task["capacity"] is None:
                return self._p_median.from_cost_matrix(
                    data["dense_cost"], p=task["p"], weights=weights
                )
            # linli's weights count both in the objective and against the capacity; in
            # Osman & Christofides' instances the demands count only against the capacity.
            # Dividing each row of the costs by its demand gives the published objective.
            demand = np.asarray(data["demand"], np.float64)
            return self._p_median.from_cost_matrix(
                data["dense_cost"] / demand[:, None],
                p=task["p"],
                weights=demand,
                capacity=float(task["capacity"]),
            )
        if model == "lscp":
            return self._set_cover.from_cost_matrix(
                _csr(data, task), cutoff=task["cutoff"], weights=weights
            )
        if model == "mclp":
            return self._max_cover.from_cost_matrix(
                _csr(data, task), p=task["p"], cutoff=task["cutoff"], weights=weights
            )
        if model == "scp":
            return self._set_cover.from_coverage(
                _csr(data, task).astype(bool), site_cost=data["site_costs"]
            )
        raise ValueError(f"unknown model {model!r}")

    def solve(self, model: Any, time_limit_s: float, mip_gap: float) -> Outcome:
        result = model.solve(time_limit_s=time_limit_s, mip_gap=mip_gap)
        return Outcome(
            str(result.status),
            float(result.objective),
            float(result.bound),
            float(result.gap),
            np.asarray(result.sites, np.int64),
            np.asarray(result.assignment, np.int64),
            str(result.details.get("message", "")) if result.details else "",
        )


class SpoptPeer:
    """spopt's ``from_cost_matrix`` on a dense matrix, solved through PuLP."""

    def __init__(self, solver: str) -> None:
        import pulp
        from spopt.locate import LSCP, MCLP, PMedian

        self.name = f"spopt-{solver}"
        self._solver = solver
        self._pulp = pulp
        self._lscp, self._mclp, self._p_median = LSCP, MCLP, PMedian

    def versions(self) -> dict[str, str]:
        return _versions(("spopt", "pulp", "highspy", "numpy", "scipy"))

    def dense(self, task: dict[str, Any], data: dict[str, Any]) -> FloatArray:
        """The dense matrix spopt needs (pairs beyond the cutoff at FORBIDDEN_MIN)."""
        if "dense_cost" in data:
            return np.asarray(data["dense_cost"], np.float64)
        n, m = task["n_demand"], task["n_sites"]
        dense = np.full((n, m), FORBIDDEN_MIN)
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(data["indptr"]))
        dense[rows, data["indices"]] = data["minutes"]
        return dense

    def build(self, task: dict[str, Any], dense: FloatArray, data: dict[str, Any]) -> Any:
        model, weights = task["model"], data["weights"]
        if model == "scp":
            raise UnsupportedError("spopt's LSCP has no site costs (weighted set covering)")
        if model == "lscp":
            return self._lscp.from_cost_matrix(dense, service_radius=task["cutoff"])
        if model == "mclp":
            return self._mclp.from_cost_matrix(
                dense, weights, service_radius=task["cutoff"], p_facilities=task["p"]
            )
        if task["capacity"] is not None:
            # Osman & Christofides: the objective is the plain sum of distances and the
            # demands count only against the capacities, but spopt's PMedian uses the same
            # weights for both.  Dividing each row of the costs by its demand gives the
            # published objective.
            demand = np.asarray(data["demand"], np.float64)
            return self._p_median.from_cost_matrix(
                dense / demand[:, None],
                demand,
                p_facilities=task["p"],
                facility_capacities=np.full(task["n_sites"], float(task["capacity"])),
            )
        return self._p_median.from_cost_matrix(dense, weights, p_facilities=task["p"])

    def solve(self, model: Any, time_limit_s: float, mip_gap: float) -> Outcome:
        pulp = self._pulp
        if self._solver == "cbc":
            solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=mip_gap)
        else:
            solver = pulp.HiGHS(msg=False, timeLimit=time_limit_s, gapRel=mip_gap)
        message = ""
        try:
            # results=False: spopt's result tables (fac2cli, cli2fac) are Python loops over
            # every demand x site pair; they are not needed to read the plan.
            model.solve(solver, results=False)
        except RuntimeError as error:  # spopt raises when PuLP's status is not "Optimal"
            message = str(error)
        problem = model.problem
        sol = problem.sol_status
        status = {
            pulp.LpSolutionOptimal: "optimal",
            pulp.LpSolutionIntegerFeasible: "time_limit",
            pulp.LpSolutionNoSolutionFound: "no_solution",
            pulp.LpSolutionInfeasible: "infeasible",
            pulp.LpSolutionUnbounded: "unbounded",
        }.get(sol, f"pulp status {problem.status}/{sol}")
        sites = np.asarray(
            [j for j, y in enumerate(model.fac_vars) if (y.value() or 0.0) > 0.5], np.int64
        )
        objective = pulp.value(problem.objective)
        outcome = Outcome(
            status,
            float("nan") if objective is None else float(objective),
            sites=sites,
            message=message,
        )
        with contextlib.suppress(Exception):  # HiGHS through highspy: its bound and gap
            info = problem.solverModel.getInfo()
            outcome.bound, outcome.gap = float(info.mip_dual_bound), float(info.mip_gap)
        if model.__class__.__name__ == "PMedian" and model.aij.shape[0] <= 2_000:
            # Read the assignment (needed to check a capacitated plan); skipped on large
            # models where reading n x m variables would dominate.
            z = model.cli_assgn_vars
            assignment = np.full(z.shape[0], -1, np.int64)
            for i in range(z.shape[0]):
                for j in sites.tolist():
                    if (z[i, j].value() or 0.0) > 0.5:
                        assignment[i] = j
            outcome.assignment = assignment
        return outcome


def make_peer(name: str) -> Any:
    if name == "linli":
        return LinliPeer()
    if name in ("spopt-cbc", "spopt-highs"):
        return SpoptPeer(name.removeprefix("spopt-"))
    raise ValueError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")


def _versions(packages: Sequence[str]) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in packages:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc ``malloc_trim``)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _warm_up_task(task: dict[str, Any], folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tiny problem of the same model: the first solve loads code (numba, HiGHS, CBC)."""
    cost = np.array([[1.0, 3.0, 9.0], [4.0, 1.0, 9.0], [9.0, 2.0, 1.0], [2.0, 9.0, 2.0]])
    rows, cols = np.nonzero(cost < 5.0)
    data: dict[str, Any] = {
        "weights": np.array([3.0, 1.0, 2.0, 1.0]),
        "indptr": np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=4)))),
        "indices": cols.astype(np.int64),
        "minutes": cost[rows, cols],
    }
    small = dict(task, n_demand=4, n_sites=3, data=str(folder / "warm-up"), cutoff=5.0, p=2)
    if task["model"] == "pmedian" and "dense" in task.get("cost_kind", ""):
        data["dense_cost"] = cost
    if task["capacity"] is not None:
        data["demand"], small["capacity"] = np.array([1.0, 1.0, 1.0, 1.0]), 3.0
    if task["model"] == "scp":
        data["site_costs"] = np.array([1.0, 2.0, 1.0])
    return small, data


def run_worker(spec_path: Path) -> None:
    """Run one peer on the spec's tasks; append one JSON line per event to ``spec['out']``."""
    spec = json.loads(spec_path.read_text())
    out = Path(spec["out"])

    def emit(record: dict[str, Any]) -> None:
        record["t"] = time.monotonic()
        record["rss"] = _rss()
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")

    try:
        peer = make_peer(spec["peer"])
    except ImportError as error:
        emit({"kind": "unavailable", "message": f"{type(error).__name__}: {error}"})
        return
    emit({"kind": "ready", "versions": peer.versions(), "executable": sys.executable})

    for task in spec["tasks"]:
        with np.load(task["data"]) as npz:
            data = {key: npz[key] for key in npz.files}
        task["cost_kind"] = "dense" if "dense_cost" in data else "sparse"
        try:
            small, small_data = _warm_up_task(task, out.parent)
            start = time.perf_counter()
            if isinstance(peer, SpoptPeer):
                warm = peer.build(small, peer.dense(small, small_data), small_data)
            else:
                warm = peer.build(small, small_data)
            peer.solve(warm, 10.0, spec["mip_gap"])
            emit({"kind": "warm", "task": task["name"], "s": time.perf_counter() - start})
            del warm
        except UnsupportedError:
            pass
        except Exception as error:  # the timed run below reports the real failure
            emit({"kind": "warm", "task": task["name"], "s": float("nan"), "error": str(error)})

        _release_freed_memory()
        emit({"kind": "start", "task": task["name"]})
        try:
            matrix_s = 0.0
            start = time.perf_counter()
            if isinstance(peer, SpoptPeer):
                dense = peer.dense(task, data)
                matrix_s = time.perf_counter() - start
                emit(
                    {
                        "kind": "matrix",
                        "task": task["name"],
                        "s": matrix_s,
                        "mb": dense.nbytes / 2**20,
                    }
                )
                start = time.perf_counter()
                model = peer.build(task, dense, data)
                del dense  # spopt keeps what it needs (its aij); the input can go
            else:
                model = peer.build(task, data)
            build_s = time.perf_counter() - start
            emit({"kind": "built", "task": task["name"], "s": build_s})
            start = time.perf_counter()
            outcome = peer.solve(model, spec["time_limit_s"], spec["mip_gap"])
            solve_s = time.perf_counter() - start
        except UnsupportedError as error:
            emit({"kind": "unsupported", "task": task["name"], "message": str(error)})
            continue
        except MemoryError:
            emit({"kind": "error", "task": task["name"], "message": "MemoryError", "oom": True})
            continue
        except Exception as error:
            emit(
                {
                    "kind": "error",
                    "task": task["name"],
                    "message": f"{type(error).__name__}: {error}",
                    "trace": traceback.format_exc(limit=6),
                }
            )
            continue
        plan = out.with_name(f"{out.stem}-{task['name']}-plan.npz")
        np.savez(
            plan,
            sites=outcome.sites,
            assignment=(
                outcome.assignment if outcome.assignment is not None else np.empty(0, np.int64)
            ),
        )
        emit(
            {
                "kind": "result",
                "task": task["name"],
                "matrix_s": matrix_s,
                "build_s": build_s,
                "solve_s": solve_s,
                "status": outcome.status,
                "objective": outcome.objective,
                "bound": outcome.bound,
                "gap": outcome.gap,
                "message": outcome.message,
                "plan": str(plan),
            }
        )
        del model
        _release_freed_memory()


# --------------------------------------------------------------------------------------------
# Parent: spawn workers, watch time and memory, check plans, tabulate
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One peer on one problem."""

    section: str
    problem: str
    peer: str
    status: str = ""
    sense: str = "min"
    solver_status: str = ""
    matrix_s: float = float("nan")
    build_s: float = float("nan")
    solve_s: float = float("nan")
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    checked: float = float("nan")
    check_note: str = ""
    n_sites: int = 0
    peak_mb: float = float("nan")
    above_start_mb: float = float("nan")
    dense_mb: float = float("nan")
    warm_s: float = float("nan")
    message: str = ""

    @property
    def total_s(self) -> float:
        return self.build_s + self.solve_s

    @property
    def solved(self) -> bool:
        return self.status == "ok" and self.objective == self.objective


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    with contextlib.suppress(psutil.Error):
        total += process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
    return total


def _read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line being written
            records.append(json.loads(line))
    return records


@dataclass
class WorkerRun:
    records: list[dict[str, Any]]
    killed: str  # "", "timeout" or "memory"
    returncode: int
    samples_t: list[float]
    samples_rss: list[int]
    log_tail: str
    versions: dict[str, str]


def run_worker_process(
    peer: str,
    problem: Problem,
    workdir: Path,
    args: argparse.Namespace,
    *,
    time_limit_s: float,
    timeout_s: float,
) -> WorkerRun:
    """Run one peer on one problem in a fresh process group; kill it on time-out or memory."""
    tag = f"{problem.section}-{problem.name}-{peer}"
    out = workdir / f"{tag}.jsonl"
    spec = {
        "peer": peer,
        "out": str(out),
        "tasks": [problem.task()],
        "time_limit_s": time_limit_s,
        "mip_gap": args.mip_gap,
    }
    spec_path = workdir / f"{tag}.json"
    spec_path.write_text(json.dumps(spec))
    python = sys.executable if peer == "linli" else str(args.spopt_python)
    log_path = workdir / f"{tag}.log"
    limit = args.memory_limit_gb * 2**30
    killed = ""
    samples_t: list[float] = []
    samples_rss: list[int] = []
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--worker", str(spec_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: CBC's process dies with it
        )
        process = psutil.Process(child.pid)
        started = time.monotonic()
        task_started: float | None = None
        next_read = started
        while child.poll() is None:
            now = time.monotonic()
            rss = _tree_rss(process)
            samples_t.append(now)
            samples_rss.append(rss)
            if now >= next_read:
                next_read = now + 0.25
                if task_started is None:
                    starts = [r["t"] for r in _read_records(out) if r["kind"] == "start"]
                    task_started = starts[0] if starts else None
            # The task's clock starts at its "start" record (after imports and warm-up).
            elapsed = now - (task_started if task_started is not None else started)
            allowed = timeout_s + (0.0 if task_started is not None else START_GRACE_S)
            if rss > limit:
                killed = "memory"
            elif elapsed > allowed:
                killed = "timeout"
            if killed:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                break
            time.sleep(SAMPLE_INTERVAL_S)
    records = _read_records(out)
    versions = next((r["versions"] for r in records if r["kind"] == "ready"), {})
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-12:])
    return WorkerRun(records, killed, child.returncode, samples_t, samples_rss, tail, versions)


def run_peer(
    peer: str,
    problem: Problem,
    workdir: Path,
    args: argparse.Namespace,
    *,
    time_limit_s: float,
    timeout_s: float,
    versions: dict[str, dict[str, str]],
) -> Row:
    run = run_worker_process(
        peer, problem, workdir, args, time_limit_s=time_limit_s, timeout_s=timeout_s
    )
    if run.versions:
        versions[peer] = run.versions
    row = Row(problem.section, problem.name, peer, sense=problem.sense)
    by_kind = {r["kind"]: r for r in run.records}
    if "unavailable" in by_kind:
        row.status, row.message = "not available", by_kind["unavailable"]["message"]
        return row
    if "unsupported" in by_kind:
        row.status, row.message = "not supported", by_kind["unsupported"]["message"]
        return row
    if "warm" in by_kind:
        row.warm_s = by_kind["warm"]["s"]
    if "matrix" in by_kind:
        row.matrix_s, row.dense_mb = by_kind["matrix"]["s"], by_kind["matrix"]["mb"]
    if "built" in by_kind:
        row.build_s = by_kind["built"]["s"]
    start = by_kind.get("start")
    end = by_kind.get("result", by_kind.get("error"))
    if start is not None:
        t = np.asarray(run.samples_t)
        rss = np.asarray(run.samples_rss, dtype=np.float64)
        window = t >= start["t"]
        if end is not None:
            window &= t <= end["t"]
        peak = float(rss[window].max()) if window.any() else float(start["rss"])
        if end is not None:
            peak = max(peak, float(end["rss"]))
        row.peak_mb = peak / 2**20
        row.above_start_mb = (peak - start["rss"]) / 2**20
    stage = "solve" if "built" in by_kind else ("build" if start is not None else "start-up")
    if "result" in by_kind:
        result = by_kind["result"]
        row.status = "ok"
        row.solver_status = result["status"]
        row.matrix_s, row.build_s = result["matrix_s"], result["build_s"]
        row.solve_s = result["solve_s"]
        row.objective, row.bound, row.gap = result["objective"], result["bound"], result["gap"]
        row.message = result["message"]
        with np.load(result["plan"]) as plan:
            sites, assignment = plan["sites"], plan["assignment"]
        row.n_sites = int(sites.shape[0])
        row.checked, row.check_note = check_plan(problem, sites, assignment)
    elif run.killed == "memory":
        row.status = f"out of memory (> {args.memory_limit_gb:g} GiB, in {stage})"
    elif run.killed == "timeout":
        row.status = f"timeout (> {timeout_s:g} s, in {stage})"
    elif "error" in by_kind:
        error = by_kind["error"]
        row.status = "out of memory (MemoryError)" if error.get("oom") else f"error in {stage}"
        row.message = error["message"] + ("\n" + error["trace"] if "trace" in error else "")
    elif run.returncode == -signal.SIGKILL:
        row.status = f"killed (SIGKILL in {stage}: the kernel's OOM killer?)"
    else:
        row.status = f"failed (exit {run.returncode}, in {stage})"
        row.message = run.log_tail
    return row


def check_plan(problem: Problem, sites: IntArray, assignment: IntArray) -> tuple[float, str]:
    """The objective recomputed from the chosen sites (and the assignment when capacitated).

    Returns the objective and a note: empty when the plan is feasible for the problem as
    linli states it (every pair used within the cutoff, every row covered, capacities kept).
    """
    sites = np.unique(np.asarray(sites, np.int64))
    if sites.shape[0] and (sites.min() < 0 or sites.max() >= problem.n_sites):
        return float("nan"), "site index out of range"
    chosen = np.zeros(problem.n_sites, dtype=bool)
    chosen[sites] = True
    w = problem.weights
    notes = []
    if problem.p is not None and sites.shape[0] > problem.p:
        notes.append(f"{sites.shape[0]} sites > p = {problem.p}")
    if problem.dense_cost is not None:  # published p-median
        cost = problem.dense_cost
        if problem.capacity is not None:
            if assignment.shape[0] != problem.n_demand or (assignment < 0).any():
                return float("nan"), "no assignment to check"
            if not chosen[assignment].all():
                notes.append("assigned to a closed site")
            load = np.bincount(assignment, weights=problem.demand, minlength=problem.n_sites)
            over = int((load > problem.capacity + 1e-6).sum())
            if over:
                notes.append(f"capacity exceeded at {over} sites")
            value = float((w * cost[np.arange(problem.n_demand), assignment]).sum())
        else:
            value = float((w * cost[:, sites].min(axis=1)).sum()) if sites.shape[0] else math.inf
        return value, "; ".join(notes)

    assert problem.indptr is not None
    assert problem.indices is not None
    assert problem.minutes is not None
    rows = np.repeat(np.arange(problem.n_demand, dtype=np.int64), np.diff(problem.indptr))
    used = chosen[problem.indices]
    covered = np.zeros(problem.n_demand, dtype=bool)
    covered[rows[used]] = True
    uncovered = int((~covered).sum())
    if problem.model == "mclp":
        return float(w[covered].sum()), "; ".join(notes)
    if problem.model in ("lscp", "scp"):
        if uncovered:
            notes.append(f"{uncovered:,} rows not covered")
        if problem.site_costs is not None:
            return float(problem.site_costs[sites].sum()), "; ".join(notes)
        return float(sites.shape[0]), "; ".join(notes)
    # p-median within the cutoff: each demand point walks to its nearest chosen site.
    best = np.full(problem.n_demand, math.inf)
    np.minimum.at(best, rows[used], problem.minutes[used])
    if uncovered:
        notes.append(f"{uncovered:,} demand points have no chosen site within the cutoff")
        best[~covered] = FORBIDDEN_MIN
    return float((w * best).sum()), "; ".join(notes)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _seconds(x: float) -> str:
    if x != x:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _number(x: float) -> str:
    if x != x:
        return "—"
    if abs(x - round(x)) <= min(1e-6 * max(1.0, abs(x)), 1e-3):  # HiGHS: 4.0000001 for 4
        return f"{round(x):,}"
    return f"{x:,.2f}" if abs(x) < 1e6 else f"{x:,.0f}"


def _mb(x: float) -> str:
    return "—" if x != x else f"{x:,.0f}"


def _gap(x: float) -> str:
    if x != x:
        return "—"
    return "0" if x < 5e-7 else f"{x:.2%}"


def _ratio(x: float, base: float) -> str:
    if x != x or base != base or base <= 0:
        return "—"
    r = x / base
    return f"{r:.2f}×" if r < 100 else f"{r:,.0f}×"


def _relative(value: float, reference: float, sense: str) -> str:
    """``=`` when equal; otherwise the signed relative difference, worse when positive."""
    if value != value or reference != reference:
        return "—"
    diff = value - reference if sense == "min" else reference - value
    if abs(diff) <= 1e-6 * max(1.0, abs(reference)):
        return "="
    rel = abs(diff) / max(abs(reference), 1e-9)
    text = f"{rel:.3%}" if rel < 0.1 else (f"{rel:.1%}" if rel < 10 else f"{rel:,.0%}")
    return f"{'+' if diff > 0 else '−'}{text}"


def _check_cell(row: Row) -> str:
    if not row.solved:
        return "—"
    if row.check_note:
        return f"✗ {row.check_note}"
    if row.checked != row.checked:
        return "—"
    if abs(row.checked - row.objective) <= 1e-6 * max(1.0, abs(row.objective)):
        return "✓"
    better = row.checked < row.objective if row.sense == "min" else row.checked > row.objective
    if better:
        # A plan stopped by the time limit may not send every point to its nearest site:
        # the chosen sites are worth more than the objective the peer reports.
        return f"✓ sites worth {_number(row.checked)}"
    return f"✗ recomputed {_number(row.checked)}"


def published_table(problems: list[Problem], rows: list[Row], target_s: float) -> list[str]:
    columns = (
        "instance",
        "n",
        "p",
        "optimum",
        "peer",
        "objective",
        "vs optimum",
        "status",
        "gap",
        "seconds",
        "peak MB",
        "check",
        "target",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    by_name = {pr.name: pr for pr in problems}
    for row in rows:
        problem = by_name[row.problem]
        n = (
            f"{problem.n_demand} × {problem.n_sites}"
            if problem.model == "scp"
            else f"{problem.n_demand}"
        )
        p = "—" if problem.p is None else str(problem.p)
        if not row.solved:
            cells = [row.problem, n, p, _number(problem.optimum or math.nan), row.peer, "—", "—"]
            cells += [row.status, "—", "—", _mb(row.peak_mb), "—", "✗"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells = [
            row.problem,
            n,
            p,
            _number(problem.optimum or math.nan),
            row.peer,
            _number(row.objective),
            _relative(row.objective, problem.optimum or math.nan, "min"),
            row.solver_status,
            _gap(row.gap),
            _seconds(row.total_s),
            _mb(row.peak_mb),
            _check_cell(row),
            _target(row, problem, target_s),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _target(row: Row, problem: Problem, target_s: float) -> str:
    if not row.solved:
        return "✗ not solved"
    misses = []
    if problem.optimum is not None and abs(row.objective - problem.optimum) > 1e-6 * max(
        1.0, problem.optimum
    ):
        misses.append("not the optimum")
    elif _check_cell(row).startswith("✗"):
        misses.append("plan fails the check")
    if row.total_s > target_s:
        misses.append(f"over {target_s:g} s")
    return "✓" if not misses else "✗ " + ", ".join(misses)


def published_summary(problems: list[Problem], rows: list[Row], target_s: float) -> list[str]:
    by_name = {pr.name: pr for pr in problems}
    linli = [r for r in rows if r.peer == "linli"]
    if not linli:
        return []
    if all(r.status == "not available" for r in linli):
        return [f"**linli was not available** ({linli[0].message}): no published result."]
    met = [r for r in linli if _target(r, by_name[r.problem], target_s) == "✓"]
    missed = [r for r in linli if r not in met]
    lines = [
        f"**Target (the optimum, in under {target_s:g} s): met on {len(met)} of "
        f"{len(linli)} instances.**"
    ]
    if missed:
        lines.append("Missed on:")
        for r in missed:
            why = _target(r, by_name[r.problem], target_s).removeprefix("✗ ")
            if not r.solved:
                why = r.status
            else:
                if "not the optimum" in why:
                    optimum = by_name[r.problem].optimum or 0.0
                    why += f" ({_number(r.objective)} vs {_number(optimum)})"
                why += f"; {_seconds(r.total_s)} s, {r.solver_status}"
                if r.solver_status != "optimal":
                    why += f", gap {_gap(r.gap)}"
            lines.append(f"- {r.problem}: {why}")
    return lines


def generated_table(problems: list[Problem], rows: list[Row]) -> list[str]:
    columns = (
        "model",
        "peer",
        "status",
        "dense matrix s",
        "build s",
        "solve s",
        "total s",
        "total × linli",
        "objective",
        "vs linli",
        "gap",
        "sites",
        "peak MB",
        "Δ MB",
        "check",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    by_name = {pr.name: pr for pr in problems}
    base = {r.problem: r for r in rows if r.peer == "linli" and r.solved}
    for row in rows:
        problem = by_name[row.problem]
        linli = base.get(row.problem)
        if not row.solved:
            cells = [problem.title, row.peer, row.status, _seconds(row.matrix_s)]
            cells += [_seconds(row.build_s), "—", "—", "—", "—", "—", "—", "—"]
            cells += [_mb(row.peak_mb), _mb(row.above_start_mb), "—"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells = [
            problem.title,
            row.peer,
            row.solver_status,
            _seconds(row.matrix_s) if row.peer != "linli" else "—",
            _seconds(row.build_s),
            _seconds(row.solve_s),
            _seconds(row.total_s),
            _speed_ratio(row, linli),
            _number(row.objective),
            _relative(row.objective, linli.objective, problem.sense) if linli else "—",
            _gap(row.gap),
            f"{row.n_sites:,}",
            _mb(row.peak_mb),
            _mb(row.above_start_mb),
            _check_cell(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _speed_ratio(row: Row, linli: Row | None) -> str:
    """Total time over linli's; ``> r`` when linli proved the optimum and the peer did not
    (it would need longer than it took to match linli)."""
    if linli is None:
        return "—"
    ratio = _ratio(row.total_s, linli.total_s)
    if row.solver_status != "optimal" and linli.solver_status == "optimal" and ratio != "—":
        return f"> {ratio}"
    return ratio


def machine_facts(versions: dict[str, dict[str, str]]) -> list[str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    lines = [
        f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {cpu}; {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} usable); "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM; {platform.platform()}",
        f"- linli commit: {commit or '?'}" + (" (with uncommitted changes)" if dirty else ""),
    ]
    for peer in PEERS:
        if peer in versions:
            v = versions[peer]
            packages = ", ".join(f"{k} {val}" for k, val in v.items() if k != "python")
            lines.append(f"- {peer}: Python {v.get('python', '?')}; {packages}")
    return lines


def report(
    args: argparse.Namespace,
    published: list[Problem],
    published_rows: list[Row],
    cities: list[City],
    generated: dict[str, list[Problem]],
    generated_rows: list[Row],
    versions: dict[str, dict[str, str]],
    elapsed_s: float,
) -> str:
    lines = ["# Location models: linli vs the published optima and vs spopt", ""]
    lines += machine_facts(versions)
    lines += [
        f"- command: `{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}` "
        f"({'quick' if args.quick else 'full'} mode, seed {args.seed}, {elapsed_s:.0f} s in all)",
        f"- every solve in its own process; relative MIP gap {args.mip_gap:g} for every peer; "
        f"memory cap {args.memory_limit_gb:g} GiB per process (its peak RSS, children "
        "included)",
        f"- generated data: solver time limit {args.time_limit_s:g} s for every peer; a run "
        f"still building or solving after {args.timeout_s:g} s is killed (*timeout*); spopt "
        "is not run at a larger size on a model where it timed out or ran out of memory"
        + (" (overridden: --spopt-all-sizes)" if args.spopt_all_sizes else "")
        + (
            f"; spopt run at {', '.join(args.spopt_sizes)} only (--spopt-sizes)"
            if args.spopt_sizes
            else ""
        ),
        "",
    ]
    if published:
        lines += [
            "## Published instances (OR-Library)",
            "",
            f"Solver time limit {args.published_time_limit_s:g} s; *seconds* is build + solve "
            f"(the first solve in each process, a tiny one, is not counted); *target*: the "
            f"optimum in under {args.target_s:g} s.",
            "",
        ]
        lines += published_table(published, published_rows, args.target_s)
        lines.append("")
        lines += published_summary(published, published_rows, args.target_s)
        lines.append("")
        lines += _failure_notes(published_rows)
    for city in cities:
        n_demand, n_sites = city.n_demand, city.n_sites
        problems = generated[city.key]
        rows = [r for r in generated_rows if r.section == city.key]
        dense_gb = n_demand * n_sites * 8 / 2**30
        where = {
            "yuzhong": " — Yuzhong (real data)",
            "city1m": " — mountain-river city of 1 million",
            "city5m": " — mountain-river city of 5 million",
        }.get(city.key, "")
        lines += [
            f"## {n_demand:,} demand points × {n_sites:,} candidate sites{where}",
            "",
            f"{city.description} "
            f"`minutes_within` found {city.indices.shape[0]:,} demand–site pairs within "
            f"{city.cutoff_min:g} min in {_seconds(city.minutes_s)} s. spopt's dense float64 "
            f"matrix: {dense_gb * 1024:,.0f} MB "
            f"({dense_gb:.2f} GiB) per model.",
            "",
        ]
        for problem in problems:
            pairs = f"{problem.n_pairs:,} pairs within {problem.cutoff:g} min"
            extra = f"; {'; '.join(problem.notes)}" if problem.notes else ""
            lines.append(f"- {problem.title}: {problem.n_demand:,} demand points, {pairs}{extra}")
        lines.append("")
        lines += generated_table(problems, rows)
        lines.append("")
        lines += _failure_notes(rows)
    lines += [
        "Columns (see benchmarks/README.md): *dense matrix s* is spopt's input made from the "
        "pairs (not counted in its total); *build s* is `from_cost_matrix` (linli: from the "
        "sparse pairs); *solve s* is `solve`; *total* = build + solve; *× linli* above 1 means "
        "slower than linli; *vs linli* is the objective's relative difference, + when worse; "
        "*gap* is the proven relative gap where the peer reports one (linli; spopt with HiGHS); "
        "*peak MB* is the process's (and its children's) peak RSS during build and solve, "
        "*Δ MB* that minus its RSS just before; *check* recomputes the objective from the "
        "chosen sites (✓: same value and a feasible plan).",
        "",
    ]
    return "\n".join(lines)


def _failure_notes(rows: list[Row]) -> list[str]:
    notes = []
    for row in rows:
        if row.status in ("ok", "not available", "not supported") or not row.message:
            if row.status in ("not available", "not supported"):
                notes.append(f"- {row.problem} / {row.peer}: {row.status}: {row.message}")
            continue
        notes.append(f"- {row.problem} / {row.peer}: {row.status}:\n\n```\n{row.message}\n```")
    unique = list(dict.fromkeys(notes))
    return [*unique, ""] if unique else []


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _default_spopt_python() -> Path:
    candidate = SPOPT_VENV / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def _default_memory_limit_gb() -> float:
    total = psutil.virtual_memory().total / 2**30
    return round(max(1.0, min(0.7 * total, total - 4.0)), 1)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="pmed1-5, scp41-43 and 1,000 x 100 only (a few minutes)",
    )
    parser.add_argument(
        "--published",
        nargs="+",
        help="published instances by name or family (pmed, pmedcap, scp, all, none); "
        "default all (--quick: pmed1-5 scp41-43)",
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        choices=[*SIZES, "none"],
        help="data sizes: yuzhong (real data, needs ../shared) and generated grids "
        "(default yuzhong 1k 10k 50k city1m city5m; --quick: 1k)",
    )
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--skip", nargs="+", choices=PEERS, default=[])
    parser.add_argument(
        "--published-peers",
        nargs="+",
        choices=PEERS,
        default=["linli"],
        help="peers on the published instances (default linli; spopt has no weighted set covering)",
    )
    parser.add_argument(
        "--time-limit-s",
        type=float,
        help="solver time limit on generated data, every peer (default 240; --quick: 60)",
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        help="kill a generated-data run after this many seconds of build + solve "
        "(default: the time limit + 60, i.e. 300; --quick: 120)",
    )
    parser.add_argument(
        "--published-time-limit-s",
        type=float,
        default=60.0,
        help="solver time limit on published instances (default 60; the target is 10)",
    )
    parser.add_argument("--target-s", type=float, default=10.0)
    parser.add_argument("--mip-gap", type=float, default=1e-4, help="relative MIP gap (1e-4)")
    parser.add_argument(
        "--memory-limit-gb",
        type=float,
        default=_default_memory_limit_gb(),
        help="kill a run whose RSS (children included) passes this many GiB "
        "(default: 70 %% of RAM, at most RAM - 4 GiB)",
    )
    parser.add_argument(
        "--spopt-all-sizes",
        action="store_true",
        help="run spopt at a size even when it timed out or ran out of memory on the same "
        "model at a smaller size (default: skip it)",
    )
    parser.add_argument(
        "--spopt-sizes",
        nargs="+",
        choices=list(SIZES),
        help="run spopt at these sizes only (default: every size run); rows at the others "
        "say skipped",
    )
    parser.add_argument(
        "--spopt-python",
        type=Path,
        default=_default_spopt_python(),
        help="Python with spopt and PuLP (default .venv-bench-spopt/bin/python if present)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orlib", type=Path, default=orlib.DEFAULT_FOLDER)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "planning.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    names = args.published or (list(QUICK_PUBLISHED) if args.quick else ["all"])
    expanded: list[str] = []
    for name in names:
        if name == "none":
            continue
        if name == "all":
            expanded += [*orlib.PMED_NAMES, *orlib.PMEDCAP_NAMES, *orlib.SCP_NAMES]
        elif name in FAMILIES:
            expanded += list(
                {"pmed": orlib.PMED_NAMES, "pmedcap": orlib.PMEDCAP_NAMES, "scp": orlib.SCP_NAMES}[
                    name
                ]
            )
        elif name in (*orlib.PMED_NAMES, *orlib.PMEDCAP_NAMES, *orlib.SCP_NAMES):
            expanded.append(name)
        else:
            parser.error(f"unknown published instance {name!r}")
    args.published = list(dict.fromkeys(expanded))
    sizes = args.sizes or (["1k"] if args.quick else list(SIZES))
    args.sizes = [s for s in SIZES if s in sizes]
    args.peers = [p for p in PEERS if p in args.peers and p not in args.skip]
    args.published_peers = [p for p in PEERS if p in args.published_peers and p not in args.skip]
    args.cases = [c for c in CASES if c in args.cases]
    if args.time_limit_s is None:
        args.time_limit_s = 60.0 if args.quick else 240.0
    if args.timeout_s is None:
        args.timeout_s = args.time_limit_s + 60.0
    return args


@contextlib.contextmanager
def _step(message: str) -> Iterator[None]:
    print(f"{message} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    yield
    print(f"  done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def _progress(row: Row) -> None:
    if row.solved:
        what = f"{row.solver_status}, objective {_number(row.objective)}, {_seconds(row.total_s)} s"
    else:
        what = row.status
    print(f"  {row.section} {row.problem} {row.peer}: {what}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        try:
            run_worker(args.worker)
        except Exception:
            traceback.print_exc()
            raise
        return

    started = time.perf_counter()
    versions: dict[str, dict[str, str]] = {}
    published: list[Problem] = []
    published_rows: list[Row] = []
    cities: list[City] = []
    generated: dict[str, list[Problem]] = {}
    generated_rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="linli-bench-planning-") as tmp:
        workdir = Path(tmp)
        if args.published:
            with _step(f"reading {len(args.published)} OR-Library instances"):
                published = published_problems(args.published, args.orlib)
            for problem in published:
                problem.save(workdir)
                for peer in args.published_peers:
                    row = run_peer(
                        peer,
                        problem,
                        workdir,
                        args,
                        time_limit_s=args.published_time_limit_s,
                        timeout_s=args.published_time_limit_s + 60.0,
                        versions=versions,
                    )
                    _progress(row)
                    published_rows.append(row)

        failed_at: dict[tuple[str, str], str] = {}  # (peer, case) -> size where it failed
        cutoff = max(CASES[c].cutoff_min for c in args.cases) if args.cases else 0.0
        for key in args.sizes if args.cases else []:
            with _step(f"[{key}] generating the city and its walking minutes"):
                city = make_city(key, seed=args.seed, cutoff_min=cutoff)
            cities.append(city)
            generated[key] = []
            for case in args.cases:
                problem = city_problem(city, CASES[case])
                if problem.model == "lscp" and "linli" in args.peers:
                    problem.notes.append(lp_relaxation_note(problem, args.time_limit_s))
                problem.save(workdir)
                generated[key].append(problem)
                for peer in args.peers:
                    # Skip a peer only where it already failed on a problem no larger than
                    # this one (the real-data size may be larger than a generated one).
                    failed = failed_at.get((peer, case))
                    at = next((c for c in cities if c.key == failed), None) if failed else None
                    smaller = at is not None and (
                        at.n_demand * at.n_sites <= city.n_demand * city.n_sites
                    )
                    if peer != "linli" and args.spopt_sizes and key not in args.spopt_sizes:
                        row = Row(key, case, peer, status="skipped (--spopt-sizes)")
                    elif at is not None and smaller and not args.spopt_all_sizes:
                        n, m = at.n_demand, at.n_sites
                        row = Row(key, case, peer, status=f"skipped (failed at {n:,} × {m:,})")
                    else:
                        row = run_peer(
                            peer,
                            problem,
                            workdir,
                            args,
                            time_limit_s=args.time_limit_s,
                            timeout_s=args.timeout_s,
                            versions=versions,
                        )
                        failure = ("timeout", "out of memory", "killed")
                        if peer != "linli" and row.status.startswith(failure):
                            failed_at[(peer, case)] = key
                    _progress(row)
                    generated_rows.append(row)

    text = report(
        args,
        published,
        published_rows,
        cities,
        generated,
        generated_rows,
        versions,
        time.perf_counter() - started,
    )
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
