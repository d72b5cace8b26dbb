"""``linli audit`` end to end on Yuzhong with the user's own files, and bad input; then
``linli plan --from-audit`` on what it wrote."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from conftest import require_shared
from linli.cli import app
from linli.inputs.crs import wgs84_to_gcj02

runner = CliRunner()
CENSUS_YUZHONG = 588_717


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    base = require_shared("chongqing/yuzhong")
    tmp = tmp_path_factory.mktemp("user")
    boundary = gpd.read_file(base / "derived_geojson" / "yuzhong_district_boundary_osm.geojson")
    minx, miny, maxx, maxy = boundary.total_bounds
    mx = (minx + maxx) / 2
    # Two made-up communities splitting the district west/east (names are real ones).
    district = boundary.union_all()
    polys = [
        district.intersection(shapely.box(minx, miny, mx, maxy)),
        district.intersection(shapely.box(mx, miny, maxx, maxy)),
    ]
    communities = gpd.GeoDataFrame(
        {"社区名称": ["大坪社区", "解放碑社区"], "街道": ["大坪街道", "解放碑街道"],
         "区县": ["渝中区", "渝中区"], "户数": [120_000, 120_288]},
        geometry=polys,
        crs="EPSG:4326",
    )  # fmt: skip
    com_path = tmp / "communities.gpkg"
    communities.to_file(com_path)
    # Facilities as Amap (GCJ-02) coordinates in a GBK CSV, as bureaus export them.
    lon = np.array([106.5700, 106.5750, 106.5300, 106.5120])
    lat = np.array([29.5560, 29.5580, 29.5500, 29.5440])
    glon, glat = wgs84_to_gcj02(lon, lat)
    table = pd.DataFrame(
        {
            "设施类型": ["卫生服务站", "警务室", "菜店", "社区文化活动室"],
            "建筑面积(㎡)": [320, 150, 400, 260],
            "楼层": ["1", "负一层", "2", "5"],
            "电梯": ["否", "否", "是", "否"],
            "经度": glon,
            "纬度": glat,
        }
    )
    fac_path = tmp / "facilities.csv"
    table.to_csv(fac_path, index=False, encoding="gbk")
    return base, com_path, fac_path, tmp


@pytest.fixture(scope="module")
def audited(user_files):
    """The audit of Yuzhong with the user's files, run once: ``(CLI result, out folder)``."""
    base, com_path, fac_path, tmp = user_files
    out = tmp / "out"
    args = [
        "audit", "--osm", str(base / "yuzhong.osm.pbf"), "--communities", str(com_path),
        "--facilities", str(fac_path), "--crs", "GCJ02", "--population", str(CENSUS_YUZHONG),
        "--dem", str(base / "terrain" / "chongqingZ_elevation_utm.tif"), "--dem-gaps", "flat",
        "--out", str(out),
    ]  # fmt: skip
    return runner.invoke(app, args), out


def test_audit_with_user_files_writes_every_output(user_files, audited):
    base = user_files[0]
    result, out = audited
    assert result.exit_code == 0, result.output
    layers = {name for name, _ in pyogrio.list_layers(out / "audit.gpkg")}
    assert {"demand", "communities", "streets", "facilities", "isochrones"} <= layers
    # The manifest a plan reads: what went in, and the layers written.
    manifest = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["osm"] == str((base / "yuzhong.osm.pbf").resolve())
    assert manifest["inputs"]["dem_gaps"] == "flat"
    assert manifest["inputs"]["crs"] == "GCJ02"
    assert manifest["inputs"]["population"] == CENSUS_YUZHONG
    assert set(manifest["layers"]) == layers
    # The communities' union is the study area the network was cut to.
    assert {"centres", "study_area"} <= layers
    demand = gpd.read_file(out / "audit.gpkg", layer="demand")
    assert demand["population"].sum() == pytest.approx(CENSUS_YUZHONG, rel=1e-9)
    communities = gpd.read_file(out / "audit.gpkg", layer="communities")
    np.testing.assert_allclose(
        communities["deficit_m2"],
        (communities["required_m2"] - communities["existing_m2"]).clip(lower=0),
    )
    np.testing.assert_allclose(communities["required_m2"], communities["households"] * 30 / 100)
    everything = gpd.read_file(out / "audit.gpkg", layer="facilities")
    # OSM adds the standard's facilities it knows, marked as such and without floor area.
    from_osm = everything[everything["source"] == "osm"]
    assert from_osm["floor_area_m2"].isna().all()
    facilities = everything[everything["source"] == "user"]
    # The basement police room and the 5th-floor room without a lift do not count.
    usable = dict(zip(facilities["facility_id"], facilities["usable"], strict=True))
    assert usable["police_office"] == 0
    assert usable["community_culture_room"] == 0
    assert usable["health_station"] == 1
    # GCJ-02 was converted: the health station lies within metres of its WGS-84 position.
    hs = facilities[facilities.facility_id == "health_station"].geometry.iloc[0]
    assert abs(hs.x - 106.5700) < 1e-5
    assert abs(hs.y - 29.5560) < 1e-5
    xlsx = pd.ExcelFile(out / "audit.xlsx")
    assert any("社区" in name for name in xlsx.sheet_names)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "大坪社区" in html
    assert "© OpenStreetMap contributors" in html


def test_audit_refuses_an_unknown_facility_type_and_writes_nothing(user_files):
    base, com_path, _, tmp = user_files
    bad = tmp / "bad.csv"
    pd.DataFrame(
        {"设施类型": ["卫生服务站", "图书馆X"], "建筑面积": [100, 200], "经度": [106.57, 106.58],
         "纬度": [29.556, 29.557]}
    ).to_csv(bad, index=False, encoding="utf-8")  # fmt: skip
    out = tmp / "bad-out"
    args = [
        "audit", "--osm", str(base / "yuzhong.osm.pbf"), "--communities", str(com_path),
        "--facilities", str(bad), "--crs", "WGS84", "--population", "1000", "--out", str(out),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "bad.csv" in result.output
    assert "图书馆X" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_plan_from_the_audit_keeps_its_centres_and_plans_the_gaps(user_files, audited):
    _, _, _, tmp = user_files
    result, out = audited
    assert result.exit_code == 0, result.output
    plan_out = tmp / "plan"
    args = ["plan", "--from-audit", str(out), "--tier", "community", "--spacing-m", "400",
            "--time-limit", "60", "--out", str(plan_out)]  # fmt: skip
    planned = runner.invoke(app, args)
    assert planned.exit_code == 0, planned.output
    centres = gpd.read_file(out / "audit.gpkg", layer="centres")
    sites = gpd.read_file(plan_out / "plan.gpkg", layer="sites")
    demand = gpd.read_file(plan_out / "plan.gpkg", layer="demand")
    # Every centre the audit found is kept (community homes, and street centres as homes too).
    kept = sites[sites["kind"] == "existing"]
    assert sorted(kept["source_ref"]) == sorted(centres["centre"])
    assert (sites["kind"] == "new").any()
    # The audit's residents, all of them, each either served or unserviceable (with a reason).
    assert demand["population"].sum() == pytest.approx(CENSUS_YUZHONG, rel=1e-9)
    served = demand["status"] == "served"
    assert (demand.loc[served, "site"] >= 0).all()
    assert (demand.loc[served, "walk_min"] <= 10.0 + 1e-9).all()
    assert (demand.loc[~served, "site"] == -1).all()
    assert (demand.loc[~served, "access_walk_min"] > 10.0).all()
    # Residents held at an existing centre are those it serves; none over capacity.
    existing_sites = set(kept["site"])
    by_existing = demand["served_by"] == "existing"
    assert by_existing.any()
    assert set(demand.loc[by_existing, "site"]) <= existing_sites
    assert (sites["residents"] <= 12_000 + 1e-6).all()
    html = (plan_out / "report.html").read_text(encoding="utf-8")
    assert "现有" in html
    assert "新建" in html
