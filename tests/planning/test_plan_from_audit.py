"""Planning the gaps an audit found (``linli plan --from-audit``) and keeping unserviceable homes,
on a small hand-made town whose answers follow from its layout.

The town: one straight footway 3 km long (west to east, nodes every 100 m); 25 blocks of flats
(20 m squares, 6 storeys) 30 m north of it every 120 m from x = 60 m; one more block 1,200 m
north of the way's middle, 15 walking minutes from any way (beyond the 10-minute circle of a
community home, within the 20-minute circle of a street centre); an existing community centre
(``amenity=community_centre``, a community home's facility) 30 m south of x = 200 m.  With
52,000 residents every block holds about 2,000, so the existing centre (capacity 12,000) can
hold six of the eight blocks within its 10-minute circle.
"""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from linli._errors import InputError
from linli.cli import app
from linli.workflow import (
    AuditRequest,
    PlanRequest,
    read_audit_manifest,
    run_audit_workflow,
    run_plan_workflow,
)
from osm_fixtures import ORIGIN_M, lonlat, nodes_at, write_osm

runner = CliRunner()
RESIDENTS = 52_000.0
FAR_HOME_M = 1_200.0
SPEED_M_PER_MIN = 80.0  # chongqing-2019's flat walking speed
CAPACITY = 12_000.0  # residents one community home serves


def _square(xy: dict[int, tuple[float, float]], first: int, cx: float, cy: float) -> list[int]:
    h = 10.0
    xy.update({first: (cx - h, cy - h), first + 1: (cx + h, cy - h),
               first + 2: (cx + h, cy + h), first + 3: (cx - h, cy + h)})  # fmt: skip
    return [first, first + 1, first + 2, first + 3, first]


def write_town(path, *, bus_stop_x=None):  # type: ignore[no-untyped-def]
    """The town; with ``bus_stop_x``, a bus stop 5 m north of the way there."""
    xy = {i + 1: (100.0 * i, 0.0) for i in range(31)}
    ways: list = [(1, list(range(1, 32)), {"highway": "footway"})]
    flats = {"building": "residential", "building:levels": "6"}
    node, way = 1000, 100
    for x in [*range(60, 3000, 120)]:
        ways.append((way, _square(xy, node, float(x), 30.0), flats))
        node, way = node + 10, way + 1
    ways.append((way, _square(xy, node, 1500.0, FAR_HOME_M), flats))
    node, way = node + 10, way + 1
    centre = {"building": "yes", "amenity": "community_centre", "name": "老社区家园"}
    ways.append((way, _square(xy, node, 200.0, -30.0), centre))
    node, way = node + 10, way + 1
    # Residential land under the blocks, so that residents are spread by floor area.
    for x0, y0, x1, y1 in [(0.0, 12.0, 3000.0, 50.0), (1480.0, 1180.0, 1520.0, 1220.0)]:
        xy.update({node: (x0, y0), node + 1: (x1, y0), node + 2: (x1, y1), node + 3: (x0, y1)})
        ways.append((way, [node, node + 1, node + 2, node + 3, node], {"landuse": "residential"}))
        node, way = node + 10, way + 1
    tags = {}
    if bus_stop_x is not None:
        xy[9000] = (float(bus_stop_x), 5.0)
        tags[9000] = {"highway": "bus_stop", "name": "镇中心站"}
    return write_osm(path, nodes_at(xy), ways, node_tags=tags)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The town audited once: ``(folder, osm, area path, tmp)``."""
    tmp = tmp_path_factory.mktemp("town")
    osm = write_town(tmp / "town.osm")
    x0, y0 = ORIGIN_M
    lon, lat = lonlat([x0 - 200, x0 + 3200, x0 + 3200, x0 - 200],
                      [y0 - 300, y0 - 300, y0 + 1400, y0 + 1400])  # fmt: skip
    area = tmp / "area.geojson"
    gpd.GeoDataFrame(
        geometry=[shapely.Polygon(zip(lon, lat, strict=True))], crs="EPSG:4326"
    ).to_file(area)
    out = tmp / "audit"
    run_audit_workflow(AuditRequest(osm=osm, out=out, population=RESIDENTS, area=area))
    return out, osm, area, tmp


def _far_home(demand) -> int:  # type: ignore[no-untyped-def]
    y = demand.geometry.representative_point().to_crs("EPSG:32648").y.to_numpy()
    return int(np.argmax(y))


# --- the audit's manifest -------------------------------------------------------------------


def test_audit_writes_a_manifest_of_its_inputs_and_its_centres(audited):
    out, osm, area, _ = audited
    manifest = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "linli-audit"
    assert manifest["format_version"] == 1
    assert manifest["inputs"]["osm"] == str(osm.resolve())
    assert manifest["inputs"]["area"] == str(area.resolve())
    assert manifest["inputs"]["standard"] == "chongqing-2019"
    assert manifest["population_total"] == pytest.approx(RESIDENTS)
    layers = {name for name, _ in pyogrio.list_layers(out / "audit.gpkg")}
    assert set(manifest["layers"]) == layers
    assert {"centres", "study_area"} <= layers
    centres = gpd.read_file(out / "audit.gpkg", layer="centres")
    assert centres["centre"].tolist() == ["community_home-001"]
    assert read_audit_manifest(out) == manifest


# --- planning the gaps ----------------------------------------------------------------------


def test_plan_from_audit_keeps_the_existing_centre_and_plans_only_the_rest(audited):
    out, _, _, tmp = audited
    plan = run_plan_workflow(
        PlanRequest(from_audit=out, out=tmp / "plan-community", tier="community")
    )
    sites, demand = plan.sites, plan.demand
    existing = sites[sites["kind"] == "existing"]
    assert existing["source_ref"].tolist() == ["community_home-001"]
    assert existing["source"].tolist() == ["audit centre"]
    assert "保留" in existing["why"].iloc[0]
    assert "kept" in existing["why"].iloc[0]
    # The audit says the centre lacks most of the standard's facilities: the plan says so too.
    assert existing["meets_standard"].tolist() == [False]
    assert "尚未达标" in existing["why"].iloc[0]
    assert set(sites["kind"]) == {"existing", "new"}

    # Who is held at the existing centre, worked out from the audit's own minutes: homes
    # within 10 minutes, nearest first, while they fit in its 12,000 residents.
    audit_demand = gpd.read_file(out / "audit.gpkg", layer="demand")
    minutes = audit_demand["walk_min_convenience_service_centre"].to_numpy()
    weights = audit_demand["population"].to_numpy()
    expected, room = set(), CAPACITY
    for i in np.argsort(minutes, kind="stable"):
        if minutes[i] <= 10.0 and weights[i] <= room:
            expected.add(int(i))
            room -= weights[i]
    assert 4 <= len(expected) < int((minutes <= 10.0).sum())  # the centre fills up
    held = set(np.flatnonzero(demand["served_by"].to_numpy() == "existing").tolist())
    assert held == expected
    site_of_existing = int(existing["site"].iloc[0])
    assert set(demand.loc[sorted(held), "site"]) == {site_of_existing}
    # Everyone else who is served goes to a new site, within the circle and its capacity.
    served = demand["status"] == "served"
    new = served & (demand["served_by"] == "new")
    assert (demand.loc[new, "site"] != site_of_existing).all()
    assert (demand.loc[served, "walk_min"] <= 10.0 + 1e-9).all()
    assert (sites["residents"] <= CAPACITY + 1e-6).all()
    assert plan.summary["residents_held"]["community_home"] == pytest.approx(
        weights[sorted(expected)].sum()
    )
    assert plan.summary["sites"]["community_home"]["existing"] == 1


def test_the_far_home_is_kept_unserviceable_and_counted(audited):
    out, _, _, tmp = audited
    folder = tmp / "plan-both"
    seen: list[tuple[int, int]] = []
    plan = run_plan_workflow(
        PlanRequest(from_audit=out, out=folder), progress=lambda d, t: seen.append((d, t))
    )
    # The bar only moves forward, ends full, and one total holds throughout.
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert done[0] == 0
    assert len({t for _, t in seen}) == 1
    assert done[-1] == seen[-1][1]
    demand = gpd.read_file(folder / "plan.gpkg", layer="demand")
    far = _far_home(demand)
    assert demand["status"].iloc[far] == "unserviceable"
    assert (demand["status"].drop(index=far) == "served").all()
    assert demand["access_walk_min"].iloc[far] == pytest.approx(
        FAR_HOME_M / SPEED_M_PER_MIN, abs=0.05
    )
    assert "15.0 min" in demand["status_reason"].iloc[far]
    assert demand["community_site"].iloc[far] == -1
    assert demand["street_site"].iloc[far] == -1
    assert np.isnan(demand["community_walk_min"].iloc[far])
    assert demand["population"].sum() == pytest.approx(RESIDENTS)
    lost = float(demand["population"].iloc[far])
    assert plan.summary["unserviceable_homes"] == 1
    assert plan.summary["unserviceable_residents"] == pytest.approx(lost)
    # Nobody assigned to a site serves the far home's residents.
    sites = gpd.read_file(folder / "plan.gpkg", layer="sites")
    for tier in ("street_centre", "community_home"):
        assert sites.loc[sites["tier"] == tier, "residents"].sum() == pytest.approx(
            RESIDENTS - lost
        )
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "无法服务的居民点" in html
    assert "unserviceable" in html


def test_a_street_centre_reaches_the_far_home(audited):
    # 15 minutes from the way is beyond 10 but within 20: for street centres alone it is served.
    out, _, _, tmp = audited
    plan = run_plan_workflow(PlanRequest(from_audit=out, out=tmp / "plan-street", tier="street"))
    far = _far_home(plan.demand)
    assert (plan.demand["status"] == "served").all()
    assert plan.demand["walk_min"].iloc[far] <= 20.0 + 1e-9
    assert plan.demand["walk_min"].iloc[far] >= FAR_HOME_M / SPEED_M_PER_MIN - 0.05
    # The existing centre is a community home: not a street centre, so not in this plan.
    assert (plan.sites["kind"] == "new").all()


def test_cli_from_audit_can_drop_unserviceable_homes_but_still_counts_them(audited):
    out, _, _, tmp = audited
    folder = tmp / "cli-drop"
    args = ["plan", "--from-audit", str(out), "--tier", "community", "--drop-unserviceable",
            "--out", str(folder)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "unserviceable" in result.output
    demand = gpd.read_file(folder / "plan.gpkg", layer="demand")
    assert (demand["status"] == "served").all()
    assert len(demand) == 25
    sites = gpd.read_file(folder / "plan.gpkg", layer="sites")
    assert sorted(set(sites["kind"])) == ["existing", "new"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "无法服务的居民点" in html


# --- bad audit folders and clashing options -------------------------------------------------


def _copy(audited, name):  # type: ignore[no-untyped-def]
    out, _, _, tmp = audited
    copy = tmp / name
    shutil.copytree(out, copy)
    return copy


def test_cli_refuses_options_the_audit_fixes(audited):
    out, osm, _, tmp = audited
    folder = tmp / "clash"
    args = ["plan", "--from-audit", str(out), "--osm", str(osm), "--population", "5",
            "--out", str(folder)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--osm" in result.output
    assert "--population" in result.output
    assert "--from-audit" in result.output
    assert not folder.exists()


def test_plan_needs_an_osm_file_or_an_audit(tmp_path):
    result = runner.invoke(app, ["plan", "--out", str(tmp_path / "x"), "--population", "100"])
    assert result.exit_code == 2
    assert "--osm FILE or --from-audit DIR" in result.output


def test_missing_audit_folder_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"nowhere: expected an audit folder .* no such folder"):
        run_plan_workflow(PlanRequest(from_audit=tmp_path / "nowhere", out=tmp_path / "o"))


def test_audit_folder_without_manifest_is_incomplete(audited):
    copy = _copy(audited, "no-manifest")
    (copy / "audit.json").unlink()
    with pytest.raises(InputError, match=r"expected audit\.json .* run the audit again"):
        run_plan_workflow(PlanRequest(from_audit=copy, out=copy / "plan"))


def test_audit_folder_of_another_version_is_refused(audited):
    copy = _copy(audited, "future")
    manifest = json.loads((copy / "audit.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 99
    manifest["linli_version"] = "9.0.0"
    (copy / "audit.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match=r"field 'format_version': expected 1 .* found 99, "
                       r"written by linli 9\.0\.0"):  # fmt: skip
        run_plan_workflow(PlanRequest(from_audit=copy, out=copy / "plan"))


def test_audit_whose_osm_file_moved_is_refused(audited):
    copy = _copy(audited, "moved")
    manifest = json.loads((copy / "audit.json").read_text(encoding="utf-8"))
    manifest["inputs"]["osm"] = str(copy / "gone.osm")
    (copy / "audit.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match=r"field 'inputs\.osm': expected the OSM file .*gone\.osm"):
        run_plan_workflow(PlanRequest(from_audit=copy, out=copy / "plan"))


def test_audit_missing_a_listed_layer_is_refused(audited):
    copy = _copy(audited, "no-centres")
    manifest = json.loads((copy / "audit.json").read_text(encoding="utf-8"))
    gpkg = copy / "audit.gpkg"
    keep = gpd.read_file(gpkg, layer="demand")
    gpkg.unlink()
    keep.to_file(gpkg, layer="demand", driver="GPKG")
    assert "centres" in manifest["layers"]
    with pytest.raises(InputError, match=r"audit\.gpkg: expected the layers .* found no 'centres'"):
        run_plan_workflow(PlanRequest(from_audit=copy, out=copy / "plan"))


# --- plans from the user's own files --------------------------------------------------------


def test_plan_from_files_keeps_existing_centres_and_the_far_home(audited, tmp_path):
    _, osm, _, _ = audited
    demand = gpd.read_file(audited[0] / "audit.gpkg", layer="demand")[["population", "geometry"]]
    homes = tmp_path / "homes.gpkg"
    demand.to_file(homes)
    # One existing street centre at the way's east end (a street centre is a community home
    # too), 30 m south of it.
    x0, y0 = ORIGIN_M
    lon, lat = lonlat([x0 + 2900.0], [y0 - 30.0])
    existing = tmp_path / "existing.gpkg"
    gpd.GeoDataFrame(
        {"tier": ["街道中心"], "name": ["东街道中心"]},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    ).to_file(existing)
    folder = tmp_path / "plan"
    args = ["plan", "--osm", str(osm), "--demand", str(homes), "--existing", str(existing),
            "--out", str(folder)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    sites = gpd.read_file(folder / "plan.gpkg", layer="sites")
    kept = sites[sites["kind"] == "existing"]
    assert sorted(kept["tier"]) == ["community_home", "street_centre"]
    assert kept["source_ref"].str.contains("东街道中心").all()
    assert "兼作社区家园" in kept.loc[kept["tier"] == "community_home", "why"].iloc[0]
    # One street centre serves the whole 3 km way within 20 minutes only from the middle: the
    # existing one at the east end is kept, and the far home is unserviceable (15 min > 10).
    out = gpd.read_file(folder / "plan.gpkg", layer="demand")
    far = _far_home(out)
    assert out["status"].iloc[far] == "unserviceable"
    assert out["street_site"].iloc[far] == -1
    east = out["street_served_by"] == "existing"
    assert east.any()
    assert (out.loc[east, "street_walk_min"] <= 20.0 + 1e-9).all()
    assert (out.loc[out["status"] == "served", "street_site"] >= 0).all()


def test_existing_centres_of_an_unknown_tier_are_refused(audited, tmp_path):
    _, osm, _, _ = audited
    existing = tmp_path / "existing.gpkg"
    x0, y0 = ORIGIN_M
    lon, lat = lonlat([x0 + 100.0, x0 + 900.0], [y0 - 30.0, y0 - 30.0])
    gpd.GeoDataFrame(
        {"tier": ["社区家园", "区级中心"]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    ).to_file(existing)
    request = PlanRequest(osm=osm, population=1000.0, existing=existing, out=tmp_path / "o")
    with pytest.raises(InputError, match=r"existing\.gpkg, feature 2, field 'tier': .*'区级中心'"):
        run_plan_workflow(request)
    assert not (tmp_path / "o").exists()


# --- tables: GBK CSV and Excel with Amap (GCJ-02) coordinates ---------------------------------


def _homes_table(audited, path, *, encoding="gbk"):  # type: ignore[no-untyped-def]
    """The town's homes as a table of 小区 / 人口 / 经度 / 纬度 in GCJ-02, as from Amap."""
    from linli.inputs.crs import wgs84_to_gcj02

    demand = gpd.read_file(audited[0] / "audit.gpkg", layer="demand")
    points = demand.geometry.representative_point()
    lon, lat = wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    lines = ["小区,人口,经度,纬度"] + [
        f'小区{i + 1},"{p:,.1f}",{x:.7f},{y:.7f}'
        for i, (p, x, y) in enumerate(zip(demand["population"], lon, lat, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return demand, points


def test_plan_reads_tables_in_amap_coordinates(audited, tmp_path):
    from linli.inputs.crs import wgs84_to_gcj02

    _, osm, _, _ = audited
    homes = tmp_path / "小区.csv"
    demand, points = _homes_table(audited, homes)
    x0, y0 = ORIGIN_M
    lon, lat = lonlat([x0 + 2900.0], [y0 - 30.0])
    glon, glat = wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    existing = tmp_path / "现状中心.xlsx"
    pd.DataFrame(
        {"名称": ["东街道中心"], "层级": ["街道中心"], "经度": glon, "纬度": glat}
    ).to_excel(existing, index=False)
    folder = tmp_path / "plan"
    args = ["plan", "--osm", str(osm), "--demand", str(homes), "--existing", str(existing),
            "--crs", "GCJ02", "--out", str(folder)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = gpd.read_file(folder / "plan.gpkg", layer="demand")
    # GCJ-02 back to WGS-84: every home where the audit had it (the shift is ~500 m).
    metres = out.geometry.to_crs("EPSG:32648").distance(points.to_crs("EPSG:32648"))
    assert metres.max() < 1.0
    assert out["population"].sum() == pytest.approx(demand["population"].round(1).sum())
    sites = gpd.read_file(folder / "plan.gpkg", layer="sites")
    kept = sites[sites["kind"] == "existing"]
    assert sorted(kept["tier"]) == ["community_home", "street_centre"]
    assert kept["source_ref"].str.contains("row 2").all()
    assert out["status"].iloc[_far_home(out)] == "unserviceable"


def test_a_table_without_its_coordinate_system_is_refused(audited, tmp_path):
    _, osm, _, _ = audited
    homes = tmp_path / "homes.csv"
    _homes_table(audited, homes, encoding="utf-8")
    request = PlanRequest(osm=osm, demand=homes, out=tmp_path / "o")
    with pytest.raises(InputError, match=r"homes\.csv.*crs='GCJ02' for Amap"):
        run_plan_workflow(request)
    assert not (tmp_path / "o").exists()


def test_bad_population_cells_are_named_by_row_and_field(audited, tmp_path):
    _, osm, _, _ = audited
    homes = tmp_path / "homes.csv"
    _homes_table(audited, homes)
    lines = homes.read_text(encoding="gbk").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",", 1)[1].split('"')[1], "约两千")
    lines[5] = ",".join(["小区5", "", *lines[5].rsplit(",", 2)[1:]])
    homes.write_text("\n".join(lines) + "\n", encoding="gbk")
    request = PlanRequest(osm=osm, demand=homes, crs="GCJ02", out=tmp_path / "o")
    with pytest.raises(InputError) as caught:
        run_plan_workflow(request)
    message = str(caught.value)
    assert "row 4, field '人口' (population)" in message
    assert "'约两千'" in message
    assert "row 6, field '人口' (population)" in message
    assert "an empty cell" in message
    assert not (tmp_path / "o").exists()


def test_planned_sites_say_which_transport_and_shops_are_beside_them(tmp_path):
    # chongqing-2019: "beside" = within a 5-minute walk (400 m at 80 m/min).
    osm = write_town(tmp_path / "town.osm", bus_stop_x=1500.0)
    outcome = run_plan_workflow(
        PlanRequest(osm=osm, population=RESIDENTS, tier="community", out=tmp_path / "o")
    )
    sites = outcome.sites
    assert {"walk_min_transport", "walk_min_education", "colocated"} <= set(sites.columns)
    x = sites.geometry.to_crs("EPSG:32648").x.to_numpy() - ORIGIN_M[0]
    near = np.abs(x - 1500.0) < 300.0  # within 5 minutes along the way, with the access legs
    far = np.abs(x - 1500.0) > 450.0
    assert near.any()
    assert far.any()
    assert sites.loc[near, "walk_min_transport"].le(5.0).all()
    assert sites.loc[far, "walk_min_transport"].isna().all()
    assert sites.loc[near, "why"].str.contains("5 分钟步行内有交通设施").all()
    assert sites.loc[far, "why"].str.contains("5 分钟步行内没有").all()
    assert sites["walk_min_education"].isna().all()  # the town has no school
    report = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "相邻设施" in report
