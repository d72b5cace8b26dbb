"""``linli plan`` end to end on Yuzhong, and its bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from typer.testing import CliRunner

from conftest import require_shared
from linli.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    base = require_shared("chongqing/yuzhong/derived_geojson")
    tmp = tmp_path_factory.mktemp("plan")
    b = gpd.read_file(base / "buildings_osm.geojson")
    b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])].sample(300, random_state=0)
    b["population"] = np.random.default_rng(0).uniform(100, 600, len(b)).round()
    path = tmp / "homes.gpkg"
    b[["population", "geometry"]].to_file(path)
    return path, tmp


def test_plan_community_homes_for_given_demand(homes):
    path, tmp = homes
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    out = tmp / "out"
    args = [
        "plan", "--osm", str(osm), "--demand", str(path), "--tier", "community",
        "--spacing-m", "400", "--time-limit", "60", "--out", str(out),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"sites", "service_areas", "demand"} <= layers
    sites = gpd.read_file(out / "plan.gpkg", layer="sites")
    demand = gpd.read_file(out / "plan.gpkg", layer="demand")
    # Every home is assigned to a chosen site within the 10-minute circle, within capacity.
    assert (demand["site"] >= 0).all()
    # ... so every home is serviceable: within 10 minutes of a walkable way.
    assert set(demand["status"]) == {"served"}
    assert demand["access_walk_min"].max() <= 10.0
    # Without existing centres, every site is new, and every resident is served by one.
    assert set(sites["kind"]) == {"new"}
    assert set(demand["served_by"]) == {"new"}
    assert demand["walk_min"].max() <= 10.0 + 1e-9
    assert set(demand["site"]) <= set(sites["site"])
    assert (sites["residents"] <= 12_000 + 1e-6).all()
    assert sites["residents"].sum() == pytest.approx(demand["population"].sum())
    assert sites["why"].str.len().gt(0).all()
    # Each site's reason holds by its own figures (the flow itself: test_explain.py).
    reason = sites.set_index("site")
    assert set(reason["needed_for"]) <= {"reach", "capacity", "review"}
    assert (reason.loc[reason["needed_for"] == "reach", "only_reach"] >= 0.5).all()
    capacity = reason[reason["needed_for"] == "capacity"]
    assert (capacity["only_reach"] < 0.5).all()
    assert (capacity["closing_shortfall"] >= 0.5).all()
    assert (reason.loc[reason["needed_for"] == "review", "closing_shortfall"] < 0.5).all()
    assert (out / "report.html").is_file()
    assert (out / "plan.xlsx").is_file()
    # The count, with its proven bound, said on the console and in the report.
    said = f"社区家园 {len(sites)} 处："
    assert said in result.output
    assert "下界" in result.output
    assert "少建的代价" in result.output  # fewer centres, residents still served
    assert said in (out / "report.html").read_text(encoding="utf-8")


def test_plan_refuses_an_unknown_tier(homes):
    path, tmp = homes
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    out = tmp / "bad"
    result = runner.invoke(
        app, ["plan", "--osm", str(osm), "--demand", str(path), "--tier", "city", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "--tier" in result.output
    assert not out.exists()


def test_plan_offers_public_buildings_as_candidates(homes):
    from linli.planning.candidates import public_buildings
    from linli.workflow import PlanRequest, run_plan_workflow

    path, tmp = homes
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    request = PlanRequest(
        osm=osm, demand=path, tier="community", spacing_m=400.0, public_buildings=True,
        time_limit_s=60.0, out=tmp / "public",
    )  # fmt: skip
    outcome = run_plan_workflow(request)
    n_public = len(public_buildings(osm))
    assert n_public > 0
    assert any(f"{n_public} public buildings" in note for note in outcome.notes)
    sources = set(outcome.sites["source"])
    generated = {"generated junction", "generated along_link", "at a home's nearest way"}
    assert sources <= generated | {"OSM public building"}
    chosen_public = outcome.sites[outcome.sites["source"] == "OSM public building"]
    assert chosen_public["source_ref"].str.contains(r"^(?:node|way|relation)/\d+").all()
