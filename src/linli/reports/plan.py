"""Writing a layout plan's results: ``plan.gpkg``, ``plan.xlsx`` and ``report.html``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._io import atomic_dir
from linli.reports import (
    OSM_SOURCE,
    ColourBy,
    Figure,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    Section,
    Table,
    Text,
    write_report,
    write_workbook,
)
from linli.standards import Profile

__all__ = ["PlanTables", "plan_tables", "write_plan"]

HEADERS_ZH = {
    "site": "站点",
    "tier": "层级",
    "tier_name": "层级名称",
    "kind": "来源",
    "residents": "服务人口",
    "households": "服务户数",
    "only_reach": "唯一可达人口",
    "floor_area_required_m2": "应配面积（m²）",
    "why": "选址理由",
    "walk_min": "步行时间（分钟）",
    "community_site": "社区家园站点",
    "street_site": "街道中心站点",
    "community_walk_min": "至社区家园（分钟）",
    "street_walk_min": "至街道中心（分钟）",
    "population": "人口",
    "mean_walk_min": "平均步行时间（分钟）",
}


@dataclass
class PlanTables:
    """The plan as frames: chosen sites, demand with assignments, service areas."""

    sites: Any
    demand: Any
    service_areas: Any


def _tier_rows(
    tier: Any,
    site_positions: np.ndarray,
    assignment: np.ndarray,
    minutes: np.ndarray,
    *,
    demand: Any,
    sites: Any,
    profile: Profile,
    reach: Any,
) -> pd.DataFrame:
    weights = demand["population"].to_numpy(dtype=float)
    pph = profile.population.persons_per_household if profile.population else 1.0
    rows = []
    # Who can reach which chosen site within the circle (for "only reach").
    in_circle = reach[reach["walk_min"] <= tier.walk_min]
    chosen = {int(s) for s in site_positions}
    in_circle = in_circle[in_circle["destination"].isin(chosen)]
    options = in_circle.groupby("origin").size()
    for s in site_positions:
        s = int(s)
        served = assignment == s
        residents = float(weights[served].sum())
        reachers = in_circle[in_circle["destination"] == s]["origin"]
        only = float(weights[[o for o in reachers if options.get(o, 0) == 1]].sum())
        kind = sites["kind"].iloc[s] if "kind" in sites else "candidate"
        if kind == "existing":
            why = "现有中心，保留 (existing centre, kept)"
        else:
            why = (
                f"服务 {residents:,.0f} 人（{tier.walk_min:g} 分钟内），其中 {only:,.0f} 人"
                f"没有其他可达站点 (serves {residents:,.0f}; {only:,.0f} have no other site "
                f"within {tier.walk_min:g} min)"
            )
        rows.append(
            {
                "site": s,
                "tier": tier.id,
                "tier_name": tier.name,
                "kind": kind,
                "residents": residents,
                "households": residents / pph,
                "only_reach": only,
                "floor_area_required_m2": float(tier.min_floor_area_m2 or np.nan),
                "why": why,
                "mean_walk_min": float(np.nanmean(minutes[served])) if served.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def plan_tables(
    result: Any, *, network: Any, demand: Any, sites: Any, profile: Profile, tier: str
) -> PlanTables:
    """Chosen sites (with why), demand with assignments and minutes, service areas."""
    import geopandas as gpd

    from linli.access import walk_minutes_within
    from linli.access.isochrones import isochrones

    tiers = {t.id: t for t in profile.tiers}
    largest = max(t.walk_min for t in profile.tiers)
    reach = walk_minutes_within(network, demand, sites, cutoff_min=float(largest)).to_frame()
    out_demand = demand.copy()
    frames = []
    if tier == "both":
        d = result.details
        street_sites = np.asarray(d["street_sites"], dtype=np.int64)
        community_sites = np.asarray(d["community_sites"], dtype=np.int64)
        s_assign = np.asarray(d["street_assignment"], dtype=np.int64)
        c_assign = np.asarray(result.assignment, dtype=np.int64)
        out_demand["community_site"] = c_assign
        out_demand["street_site"] = s_assign
        out_demand["community_walk_min"] = np.asarray(d["community_walk_min"], dtype=float)
        out_demand["street_walk_min"] = np.asarray(d["street_walk_min"], dtype=float)
        street_min = out_demand["street_walk_min"].to_numpy()
        parts = [
            (tiers["street_centre"], street_sites, s_assign, street_min),
            (tiers["community_home"], community_sites, c_assign,
             out_demand["community_walk_min"].to_numpy()),
        ]  # fmt: skip
    else:
        t = tiers["street_centre" if tier == "street" else "community_home"]
        assign = np.asarray(result.assignment, dtype=np.int64)
        pairs = reach.set_index(["origin", "destination"])["walk_min"]
        minutes = np.array(
            [pairs.get((i, a), np.nan) if a >= 0 else np.nan for i, a in enumerate(assign)]
        )
        out_demand["site"] = assign
        out_demand["walk_min"] = minutes
        parts = [(t, np.asarray(result.sites, dtype=np.int64), assign, minutes)]
    areas = []
    for t, positions, assign, minutes in parts:
        rows = _tier_rows(
            t, positions, assign, minutes, demand=demand, sites=sites, profile=profile, reach=reach
        )
        geoms = sites.geometry.iloc[positions].to_numpy() if len(positions) else []
        frames.append(gpd.GeoDataFrame(rows, geometry=list(geoms), crs=sites.crs))
        if len(positions):
            iso = isochrones(network, sites.iloc[positions], cutoffs_min=(float(t.walk_min),))
            iso["tier"] = t.id
            areas.append(iso.to_crs("EPSG:4326"))
    chosen = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=sites.crs)
    service = (
        gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs="EPSG:4326") if areas else None
    )
    return PlanTables(sites=chosen.to_crs("EPSG:4326"), demand=out_demand, service_areas=service)


def write_plan(
    tables: PlanTables,
    out: str | Path,
    *,
    profile: Profile,
    network: Any,
    result: Any,
    title: str,
    method_notes: Sequence[str] = (),
    lang: str = "zh",
) -> Path:
    """Write ``plan.gpkg`` (sites, service_areas, demand), ``plan.xlsx`` and ``report.html``."""
    from linli.reports.audit import _plain

    out_dir = Path(out)
    sites = tables.sites
    counts = sites.groupby("tier_name").size().to_dict()
    with atomic_dir(out_dir) as tmp:
        gpkg = tmp / "plan.gpkg"
        sites.to_file(gpkg, layer="sites", driver="GPKG")
        if tables.service_areas is not None:
            tables.service_areas.to_file(gpkg, layer="service_areas", driver="GPKG")
        tables.demand.to_file(gpkg, layer="demand", driver="GPKG")
        write_workbook(
            tmp / "plan.xlsx",
            {"站点 sites": _plain(sites), "居民点 demand": _plain(tables.demand)},
            headers_zh=HEADERS_ZH,
            notes=[
                f"status {result.status}; objective {result.objective:g}; bound {result.bound:g}; "
                f"gap {result.gap:.4%}; {result.seconds:.1f} s",
                *method_notes,
            ],
        )
        roads = LineLayer(
            data=network.links_frame().to_crs("EPSG:4326")[["geometry"]], name="步行网络",
            legend=False,
        )  # fmt: skip
        layers: list[Any] = []
        if tables.service_areas is not None:
            layers.append(
                PolygonLayer(
                    data=tables.service_areas,
                    name="服务范围",
                    fill=ColourBy(column="tier", categorical=True,
                                  labels={t.id: t.name for t in profile.tiers}, title="服务范围"),
                    fill_opacity=0.18,
                    stroke=None,
                )
            )  # fmt: skip
        layers += [
            roads,
            PointLayer(
                data=sites,
                name="规划站点",
                fill=ColourBy(column="tier_name", categorical=True, title="站点层级"),
                radius_px=5,
                tooltip="why",
            ),
        ]
        figures = [
            Figure(label=name, value=n, unit="处", fmt="{:,.0f}") for name, n in counts.items()
        ]
        figures += [
            Figure(label="服务人口", value=float(tables.demand["population"].sum()), unit="人",
                   fmt="{:,.0f}"),
            Figure(label="最优性差距", value=result.gap, fmt="{:.2%}",
                   note=f"{result.status}, {result.seconds:.1f} s",
                   tone="good" if result.gap <= 0.01 else "warning"),
        ]  # fmt: skip
        write_report(
            tmp / "report.html",
            title=title,
            subtitle=profile.title,
            figures=figures,
            sections=[
                Section(
                    title="规划站点与服务范围",
                    blocks=[
                        Text(
                            text=(
                                "每个站点都写明选址理由：服务的人口，以及其中没有其他可达站点的"
                                "人口。Every site says why it was chosen."
                            ),
                            kind="note",
                        ),
                        MapSpec(title="规划站点", layers=layers),
                        Table(
                            data=_plain(sites),
                            caption="规划站点",
                            headers=HEADERS_ZH,
                            formats={
                                "residents": "{:,.0f}",
                                "households": "{:,.0f}",
                                "only_reach": "{:,.0f}",
                            },
                        ),
                    ],
                )
            ],
            sources=[OSM_SOURCE],
            method_notes=[
                f"求解 solver: HiGHS; status {result.status}; objective {result.objective:g}; "
                f"proven bound {result.bound:g}; gap {result.gap:.4%}; {result.seconds:.1f} s.",
                *method_notes,
            ],
            lang="en" if lang == "en" else "zh",
        )
    return out_dir
