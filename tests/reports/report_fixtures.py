"""Inputs for the report tests: Yuzhong layers from ../shared/data and a made-up audit result.

The report layer only draws what it is given, so the "analysis" here is a stand-in: seeded
random facilities on building sites, straight-line walking minutes with a detour factor, and
a grid of hypothetical communities. The numbers mean nothing; the shapes are real.
"""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from conftest import require_shared
from linli.reports import (
    OSM_SOURCE,
    BarChart,
    ColourBy,
    Figure,
    Figures,
    Histogram,
    LabelLayer,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    Section,
    SizeBy,
    Source,
    Table,
    Text,
)

DERIVED = "chongqing/yuzhong/derived_geojson"
FACILITY_TYPES = {"clinic": "卫生服务站", "elderly": "养老服务站", "culture": "文化活动室"}
HEADERS_ZH = {
    "name": "社区",
    "households": "户数",
    "population": "人口",
    "required_m2": "应配面积（m²）",
    "existing_m2": "现有面积（m²）",
    "deficit_m2": "缺口（m²）",
    "share_10min": "10 分钟覆盖率",
    "walk_min_clinic": "至卫生服务站（分钟）",
}


@functools.lru_cache(maxsize=1)
def yuzhong() -> tuple[Any, Any, Any]:
    """Buildings (2,041), walk edges (6,866) and the district boundary, EPSG:4326."""
    read = functools.partial(gpd.read_file, engine="pyogrio")
    buildings = read(require_shared(f"{DERIVED}/buildings_osm.geojson"), columns=["building"])
    edges = read(require_shared(f"{DERIVED}/walk_network_edges_osmnx.geojson"), columns=["highway"])
    boundary = read(require_shared(f"{DERIVED}/yuzhong_district_boundary_osm.geojson"))
    return buildings, edges, boundary


def made_up_audit(buildings: Any, boundary: Any) -> dict[str, Any]:
    """Facilities, per-building minutes and communities, seeded; metric CRS EPSG:32648."""
    rng = np.random.default_rng(20240611)
    b = buildings.to_crs(32648)
    sites = b.iloc[rng.choice(len(b), size=24, replace=False)]
    facilities = gpd.GeoDataFrame(
        {
            "type": rng.choice(list(FACILITY_TYPES), size=len(sites)),
            "floor_area_m2": rng.integers(80, 1600, size=len(sites)).astype(float),
        },
        geometry=sites.geometry.centroid.to_numpy(),
        crs=32648,
    )
    facilities["name"] = [f"{FACILITY_TYPES[t]} {i + 1}" for i, t in enumerate(facilities["type"])]
    centres = shapely.get_coordinates(b.geometry.centroid.to_numpy())
    fac_xy = shapely.get_coordinates(facilities.geometry.to_numpy())
    dist = np.hypot(*(centres[:, None, :] - fac_xy[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    walk_min = dist * 1.3 / 80.0
    walk_min[rng.random(len(walk_min)) < 0.02] = np.nan  # not reached
    homes = gpd.GeoDataFrame(
        {"building": b["building"].to_numpy(), "walk_min_clinic": walk_min}, geometry=b.geometry
    )

    area = boundary.to_crs(32648).geometry.iloc[0]
    minx, miny, maxx, maxy = area.bounds
    cells = [
        shapely.box(x, y, x + 1200, y + 1200)
        for x in np.arange(minx, maxx, 1200)
        for y in np.arange(miny, maxy, 1200)
    ]
    clipped = [c.intersection(area) for c in cells]
    clipped = [c for c in clipped if c.area > 200_000]
    n = len(clipped)
    households = rng.integers(1500, 9000, size=n)
    required = households * 30 / 100
    existing = np.round(required * rng.uniform(0.2, 1.4, size=n), 0)
    communities = gpd.GeoDataFrame(
        {
            "name": [f"示例{i + 1}社区" for i in range(n)],
            "households": households,
            "population": np.round(households * 2.45).astype(int),
            "required_m2": required,
            "existing_m2": existing,
            "deficit_m2": np.maximum(required - existing, 0.0),
            "share_10min": np.round(rng.uniform(0.25, 1.0, size=n), 3),
        },
        geometry=clipped,
        crs=32648,
    )
    communities.loc[communities.index[3], "share_10min"] = np.nan  # no residents found
    return {"facilities": facilities, "homes": homes, "communities": communities}


def sample_report(lang: str = "zh") -> dict[str, Any]:
    """Keyword arguments of ``write_report`` for a two-map audit-like report on Yuzhong."""
    buildings, edges, boundary = yuzhong()
    audit = made_up_audit(buildings, boundary)
    homes, facilities, communities = audit["homes"], audit["facilities"], audit["communities"]
    zh = lang == "zh"
    base = [
        PolygonLayer(
            data=boundary,
            name="渝中区" if zh else "Yuzhong",
            fill="#f1efe9",
            stroke="#7a7a7a",
            stroke_width_px=1.2,
            toggle=False,
        ),
        LineLayer(data=edges, name="步行网络" if zh else "Walk network"),
    ]
    access_map = MapSpec(
        title="居住建筑至卫生服务站的步行时间" if zh else "Walking minutes to a clinic",
        caption="步行时间为示例数据；设施位置为虚构。" if zh else "Made-up data.",
        extent=boundary,
        layers=[
            *base,
            PolygonLayer(
                data=homes,
                name="居住建筑" if zh else "Homes",
                fill=ColourBy(
                    column="walk_min_clinic",
                    breaks=[5, 10, 15, 20],
                    palette="ylorrd",
                    title="步行时间（分钟）" if zh else "Walking minutes",
                ),
                stroke=None,
                tooltip={"walk_min_clinic": "分钟" if zh else "minutes", "building": "类型"},
            ),
            PointLayer(
                data=facilities,
                name="现有设施（示例）" if zh else "Facilities (made up)",
                fill=ColourBy(column="type", categorical=True, labels=FACILITY_TYPES, title="类型"),
                size=SizeBy(column="floor_area_m2", max_radius_px=9, title="建筑面积（m²）"),
                tooltip={"name": "名称", "floor_area_m2": "面积 m²"},
            ),
        ],
    )
    community_map = MapSpec(
        title="各社区 10 分钟覆盖率" if zh else "Share within 10 minutes",
        extent=boundary,
        layers=[
            *base,
            PolygonLayer(
                data=communities,
                name="社区（示例）" if zh else "Communities",
                fill=ColourBy(
                    column="share_10min",
                    breaks=[0.5, 0.7, 0.9],
                    fmt="{:.0%}",
                    palette="blues",
                    title="10 分钟内居民比例",
                ),
                fill_opacity=0.85,
                stroke="#ffffff",
                stroke_width_px=1.0,
                tooltip={"name": "社区", "share_10min": "覆盖率"},
            ),
            LabelLayer(data=communities, column="name", size_px=11),
        ],
    )
    table = communities.drop(columns="geometry").sort_values("deficit_m2", ascending=False)
    per_type = BarChart(
        title="各类设施步行圈覆盖的居民比例" if zh else "Residents within reach",
        categories=list(FACILITY_TYPES.values()),
        series={"10 分钟": [0.62, 0.41, 0.55], "20 分钟": [0.93, 0.78, 0.88]},
        value_fmt="{:.0%}",
        max_value=1.0,
        target=1.0,
    )
    deficits = BarChart(
        title="面积缺口最大的社区（m²）" if zh else "Largest deficits (m²)",
        categories=table["name"].head(8).tolist(),
        series={"缺口": table["deficit_m2"].head(8).tolist()},
        value_fmt="{:,.0f}",
        colours=["#D55E00"],
    )
    minutes = Histogram(
        title="居住建筑至卫生服务站的步行时间" if zh else "Walking minutes",
        values=homes["walk_min_clinic"].to_numpy(),
        bins=list(range(0, 42, 2)),
        x_label="步行时间（分钟）" if zh else "minutes",
        markers={"10 分钟": 10, "20 分钟": 20},
    )
    return {
        "title": "渝中区邻里中心评估（示例）" if zh else "Yuzhong audit (example)",
        "subtitle": "重庆市渝中区 · 标准 chongqing-2019 · 设施为虚构示例",
        "lang": lang,
        "date": "2026-04-30",
        "figures": [
            Figure(label="常住人口", value=int(communities["population"].sum()), unit="人"),
            Figure(label="社区覆盖率", value=0.62, fmt="{:.0%}", note="目标 100%", tone="bad"),
            Figure(
                label="面积缺口",
                value=float(communities["deficit_m2"].sum()),
                unit="m²",
                fmt="{:,.0f}",
                tone="warning",
            ),
            Figure(label="10 分钟内居民", value=0.58, fmt="{:.0%}"),
        ],
        "sections": [
            Section(
                title="步行可达性" if zh else "Access",
                blocks=[
                    Text(
                        text="本节显示每栋居住建筑至最近卫生服务站的步行时间。\n\n颜色越深，步行越远。"
                    ),
                    Text(text="设施位置为虚构示例，仅用于演示报告版式。", kind="warning"),
                    access_map,
                    minutes,
                ],
            ),
            Section(
                title="社区缺口" if zh else "Deficits",
                blocks=[
                    Figures(
                        figures=[
                            Figure(
                                label="缺口社区",
                                value=int((table["deficit_m2"] > 0).sum()),
                                unit="个",
                            )
                        ]
                    ),
                    community_map,
                    per_type,
                    deficits,
                    Table(data=table, caption="各社区服务面积", headers=HEADERS_ZH),
                ],
            ),
        ],
        "method_notes": [
            "步行时间沿真实步行网络计算，台阶与坡度计入（见 README）。",
            "应配面积按每百户 30 m² 计（重庆 2019 标准）。",
        ],
        "sources": [OSM_SOURCE, Source(name="第七次全国人口普查", licence="公开数据")],
    }
