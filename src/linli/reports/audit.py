"""Writing an audit's results: ``audit.gpkg``, ``audit.xlsx``, ``report.html``, ``audit.json``.

All are written into a temporary folder first and moved into place together, so a failed run
leaves nothing half-written (:func:`linli._io.atomic_dir`).  ``audit.json`` is the manifest
``linli plan --from-audit`` reads: the inputs the audit used and the layers it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._io import atomic_dir
from linli.audit.run import AuditResult
from linli.reports import (
    OSM_SOURCE,
    BarChart,
    ColourBy,
    Figure,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    Section,
    Source,
    Table,
    Text,
    write_report,
    write_workbook,
)
from linli.standards import Profile

__all__ = ["HEADERS_ZH", "write_audit"]

HEADERS_ZH: dict[str, str] = {
    "name": "社区",
    "community": "社区",
    "street": "街道",
    "district": "区县",
    "households": "户数",
    "population": "人口",
    "required_m2": "应配面积（m²）",
    "existing_m2": "现有面积（m²）",
    "usable_m2": "可用面积（m²）",
    "deficit_m2": "面积缺口（m²）",
    "deficit_usable_m2": "可用面积缺口（m²）",
    "facility_types_met": "达标设施项数",
    "covered": "综合服务设施达标",
    "derived": "派生边界",
    "communities": "社区数",
    "population_served": "标准服务人口",
    "population_over_served": "人口/标准",
    "street_centres_meeting_standard": "达标街道中心数",
    "rank": "序号",
    "what": "补什么",
    "facility_id": "设施代码",
    "facility_name": "设施",
    "floor_area_m2": "面积（m²）",
    "how": "方式",
    "reason": "理由",
    "residents": "涉及人口",
    "lon": "经度",
    "lat": "纬度",
    "tier": "层级",
    "usable": "计入可用面积",
    "usable_assumed": "可用（推定）",
    "centre": "中心编号",
    "source": "来源",
    "floor": "楼层",
    "lift": "电梯",
    "basement": "地下室",
    "facility_types": "设施项数",
    "facility_types_required": "应有设施项数",
    "missing_types": "缺少设施",
    "meets_standard": "达到标准",
    "method": "人口分配方法",
    "coverage_share": "社区覆盖率",
    "colocated": "相邻设施",
    "colocated_count": "相邻类别数",
    "walk_min_education": "至教育设施（分钟）",
    "walk_min_transport": "至交通站点（分钟）",
    "walk_min_commerce": "至商业（分钟）",
    "walk_min_recreation": "至游憩（分钟）",
    "source_index": "来源序号",
}


def _headers(profile: Profile) -> dict[str, str]:
    headers = dict(HEADERS_ZH)
    for f in profile.facility_types():
        headers[f"walk_min_{f.id}"] = f"至{f.name}步行（分钟）"
        headers[f"share_{f.id}"] = f"{f.name}覆盖率"
        headers[f"has_{f.id}"] = f"有{f.name}"
        headers[f"status_{f.id}"] = f"{f.name}状况"
    return headers


def _shown(frame: Any) -> pd.DataFrame:
    """A table for the HTML report: yes/no in words."""
    out = _plain(frame)
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = np.where(out[col], "是", "否")
    return out


def _plain(frame: Any) -> pd.DataFrame:
    """A table without geometry, with pandas' missing markers (NA, NaT) as empty cells."""
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.api.extensions.ExtensionDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def write_audit(
    result: AuditResult,
    out: str | Path,
    *,
    profile: Profile,
    network: Any,
    isochrones: Any,
    title: str,
    subtitle: str = "",
    sources: Sequence[Source] = (OSM_SOURCE,),
    method_notes: Sequence[str] = (),
    warnings: Sequence[str] = (),
    lang: str = "zh",
    study_area: Any = None,
    manifest: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``audit.gpkg``, ``audit.xlsx``, ``report.html`` (and ``audit.json``) atomically.

    Parameters
    ----------
    result : AuditResult
    out : str or Path
        The output folder (created if needed).
    profile : Profile
    network : WalkNetwork
        For the map's walking network.
    isochrones : GeoDataFrame, optional
        The facilities' walking circles (layer ``isochrones``).
    title, subtitle : str
    sources, method_notes, warnings : sequences
        Shown in the report and the workbook's notes.
    lang : {"zh", "en"}
    study_area : shapely geometry in WGS-84, optional
        The area the walking network was cut to; written as layer ``study_area``.
    manifest : mapping, optional
        JSON-serialisable facts about the run (inputs, options, versions); written as
        ``audit.json`` with ``"layers"`` (the layers of ``audit.gpkg``) added.

    Returns
    -------
    Path
        ``out``.

    Notes
    -----
    ``audit.gpkg`` holds the layers ``demand``, ``communities``, ``streets``, ``facilities``,
    ``centres`` (one point per centre: facilities of a tier grouped by proximity; when there
    are any), ``isochrones`` and ``recommendations`` (when there are any) and ``study_area``
    (when given).
    """
    import geopandas as gpd

    headers = _headers(profile)
    out_dir = Path(out)
    recs = result.recommendations
    with atomic_dir(out_dir) as tmp:
        gpkg = tmp / "audit.gpkg"
        layers = ["demand", "communities", "streets", "facilities"]
        result.demand.to_file(gpkg, layer="demand", driver="GPKG")
        result.communities.to_file(gpkg, layer="communities", driver="GPKG")
        result.streets.to_file(gpkg, layer="streets", driver="GPKG")
        result.facilities.to_file(gpkg, layer="facilities", driver="GPKG")
        centres = result.centres
        if len(centres):
            gpd.GeoDataFrame(
                _plain(centres),
                geometry=gpd.points_from_xy(centres["lon"], centres["lat"]),
                crs="EPSG:4326",
            ).to_file(gpkg, layer="centres", driver="GPKG")
            layers.append("centres")
        if isochrones is not None and len(isochrones):
            isochrones.to_crs("EPSG:4326").to_file(gpkg, layer="isochrones", driver="GPKG")
            layers.append("isochrones")
        if len(recs):
            placed = recs[recs["lon"].notna()]
            gpd.GeoDataFrame(
                placed, geometry=gpd.points_from_xy(placed["lon"], placed["lat"]), crs="EPSG:4326"
            ).to_file(gpkg, layer="recommendations", driver="GPKG")
            layers.append("recommendations")
        if study_area is not None:
            gpd.GeoDataFrame(geometry=[study_area], crs="EPSG:4326").to_file(
                gpkg, layer="study_area", driver="GPKG"
            )
            layers.append("study_area")
        write_workbook(
            tmp / "audit.xlsx",
            {
                "社区 communities": _plain(result.communities),
                "街道 streets": _plain(result.streets),
                "建议 recommendations": _plain(recs),
                "中心 centres": _plain(result.centres),
                "设施 facilities": _plain(result.facilities),
                "居民点 demand": _plain(result.demand),
            },
            headers_zh=headers,
            notes=[*method_notes, *warnings, *result.notes],
        )
        write_report(
            tmp / "report.html",
            title=title,
            subtitle=subtitle,
            figures=_figures(result),
            sections=_sections(
                result,
                profile=profile,
                network=network,
                isochrones=isochrones,
                headers=headers,
                warnings=warnings,
            ),
            sources=sources,
            method_notes=[*method_notes, *result.notes],
            lang="en" if lang == "en" else "zh",
        )
        if manifest is not None:
            text = json.dumps({**manifest, "layers": layers}, ensure_ascii=False, indent=2)
            (tmp / "audit.json").write_text(text + "\n", encoding="utf-8")
    return out_dir


def _figures(result: AuditResult) -> list[Figure]:
    s = result.summary
    share = s["coverage_share"]
    return [
        Figure(
            label="社区综合服务设施覆盖率",
            value=share,
            fmt="{:.0%}",
            note=f"目标 {s['coverage_target']:.0%}",
            tone="good" if share >= s["coverage_target"] else "bad",
        ),
        Figure(label="社区", value=s["communities"], unit="个", fmt="{:,.0f}"),
        Figure(label="人口", value=s["population"], unit="人", fmt="{:,.0f}"),
        Figure(label="应配面积", value=s["required_m2"], unit="m²", fmt="{:,.0f}"),
        Figure(
            label="可用面积缺口",
            value=s["deficit_usable_m2"],
            unit="m²",
            fmt="{:,.0f}",
            tone="bad" if s["deficit_usable_m2"] > 0 else "good",
        ),
        Figure(label="补短板建议", value=s["recommendations"], unit="条", fmt="{:,.0f}"),
    ]


def _sections(
    result: AuditResult,
    *,
    profile: Profile,
    network: Any,
    isochrones: Any,
    headers: dict[str, str],
    warnings: Sequence[str],
) -> list[Section]:
    com = result.communities
    streets_lines = network.links_frame().to_crs("EPSG:4326")[["geometry"]]
    roads = LineLayer(data=streets_lines, name="步行网络", legend=False)
    tier = profile.tier("community_home")
    circle = tier.walk_min
    facility_points = PointLayer(
        data=result.facilities,
        name="现有设施",
        fill=ColourBy(
            column="tier",
            categorical=True,
            labels={t.id: t.name for t in profile.tiers},
            title="设施层级",
        ),
        radius_px=3.5,
        tooltip="facility_name",
    )
    blocks_cov: list[Any] = [Text(text=w, kind="warning") for w in warnings]
    blocks_cov += [
        MapSpec(
            title="社区综合服务设施达标情况",
            layers=[
                PolygonLayer(
                    data=com.assign(达标=np.where(com["covered"], "达标", "未达标")),
                    name="社区",
                    fill=ColourBy(
                        column="达标",
                        categorical=True,
                        colours={"达标": "#009E73", "未达标": "#D55E00"},
                        title="可用面积",
                    ),
                    fill_opacity=0.55,
                    tooltip="name",
                    label="name",
                ),
                roads,
                facility_points,
            ],
        ),
    ]
    shares = [
        float(
            (result.demand[f"walk_min_{f.id}"] <= circle).mul(result.demand["population"]).sum()
            / max(result.demand["population"].sum(), 1e-9)
        )
        for f in tier.facilities
    ]
    blocks_cov.append(
        BarChart(
            title=f"{circle:g}分钟步行可达的居民比例",
            categories=[f.name for f in tier.facilities],
            series={"居民比例": shares},
            value_fmt="{:.0%}",
            max_value=1.0,
            target=profile.coverage.target_share if profile.coverage else None,
            target_label="目标",
        )
    )
    deficit_blocks: list[Any] = [
        MapSpec(
            title="可用服务面积缺口（m²）",
            layers=[
                PolygonLayer(
                    data=com,
                    name="社区",
                    fill=ColourBy(
                        column="deficit_usable_m2",
                        scheme="quantiles",
                        k=5,
                        palette="viridis",
                        reverse=True,
                        fmt="{:,.0f}",
                        title="缺口 m²",
                    ),
                    fill_opacity=0.75,
                    tooltip="name",
                ),
                roads,
            ],
        ),
        Table(
            data=_shown(com)[
                [
                    "name",
                    "street",
                    "households",
                    "population",
                    "required_m2",
                    "existing_m2",
                    "usable_m2",
                    "deficit_usable_m2",
                    "facility_types_met",
                    "covered",
                ]
            ],
            caption="社区面积与设施",
            headers=headers,
        ),
    ]
    iso_blocks: list[Any] = []
    if isochrones is not None and len(isochrones):
        iso_blocks.append(
            MapSpec(
                title=f"设施{circle:g}分钟步行范围",
                layers=[
                    PolygonLayer(
                        data=isochrones.to_crs("EPSG:4326"),
                        name="步行范围",
                        fill="#56B4E9",
                        fill_opacity=0.25,
                        stroke="#0072B2",
                    ),
                    roads,
                    facility_points,
                ],
            )
        )
    rec = result.recommendations
    rec_blocks: list[Any] = [
        Table(
            data=rec[
                [
                    "rank",
                    "community",
                    "street",
                    "what",
                    "floor_area_m2",
                    "how",
                    "reason",
                    "residents",
                ]
            ],
            caption="缺什么、补什么（按涉及人口排序）",
            headers=headers,
            max_rows=100,
        )
    ]
    placed = rec[rec["lon"].notna()]
    if len(placed):
        import geopandas as gpd

        rec_blocks.insert(
            0,
            MapSpec(
                title="建议选址",
                layers=[
                    PolygonLayer(data=com, name="社区", fill="#f0f0f0", label="name"),
                    roads,
                    PointLayer(
                        data=gpd.GeoDataFrame(
                            placed,
                            geometry=gpd.points_from_xy(placed["lon"], placed["lat"]),
                            crs="EPSG:4326",
                        ),
                        name="建议新增设施",
                        fill="#CC79A7",
                        radius_px=5,
                        tooltip="what",
                    ),
                ],
            ),
        )
    street_table = Table(data=_shown(result.streets), caption="街道", headers=headers)
    centre_blocks: list[Any] = [street_table]
    if len(result.centres):
        centre_blocks.append(
            Table(
                data=_shown(result.centres),
                caption="中心与相邻布局（教育、交通、商业、游憩）",
                headers=headers,
            )
        )
    return [
        Section(title="覆盖与达标", blocks=blocks_cov),
        Section(title="面积缺口", blocks=deficit_blocks),
        Section(title="步行范围", blocks=iso_blocks or [Text(text="没有可绘制的设施。")]),
        Section(title="补短板建议", blocks=rec_blocks),
        Section(title="街道与中心", blocks=centre_blocks),
    ]
