"""The command line: each command runs end to end; errors exit 2 with a message, writing nothing."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from conftest import require_shared
from linli.cli import app

runner = CliRunner()


def test_standards_lists_the_shipped_profile():
    result = runner.invoke(app, ["standards"])
    assert result.exit_code == 0, result.output
    assert "chongqing-2019" in result.output
    shown = runner.invoke(app, ["standards", "chongqing-2019"])
    assert "speed_m_per_min" in shown.output


def test_unknown_standard_is_an_error():
    result = runner.invoke(app, ["standards", "nowhere-1999"])
    assert result.exit_code == 2
    assert "nowhere-1999" in result.output


def test_network_writes_links_and_junctions(tmp_path):
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    out = tmp_path / "net.gpkg"
    result = runner.invoke(app, ["network", str(osm), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "stairs" in result.output
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"links", "junctions"}
    links = gpd.read_file(out, layer="links")
    assert (links["steps_m"] > 0).any()


def test_missing_osm_file_exits_2_and_names_it(tmp_path):
    result = runner.invoke(app, ["network", str(tmp_path / "nope.osm.pbf")])
    assert result.exit_code == 2
    assert "nope.osm.pbf" in result.output


@pytest.fixture
def yuzhong_points(tmp_path):
    base = require_shared("chongqing/yuzhong/derived_geojson")
    homes = gpd.read_file(base / "buildings_osm.geojson").iloc[:200]
    shops = gpd.read_file(base / "commercial_pois.geojson").iloc[:30]
    homes_path = tmp_path / "homes.gpkg"
    shops_path = tmp_path / "shops.geojson"
    homes[["geometry"]].to_file(homes_path)
    shops[["geometry"]].to_file(shops_path)
    return homes_path, shops_path


def test_access_writes_pairs_within_the_cutoff(tmp_path, yuzhong_points):
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    homes, shops = yuzhong_points
    out = tmp_path / "pairs.csv"
    args = ["access", "--osm", str(osm), "--origins", str(homes), "--destinations", str(shops)]
    result = runner.invoke(app, [*args, "--cutoff", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pairs = pd.read_csv(out)
    assert list(pairs.columns) == ["origin", "destination", "walk_min"]
    assert len(pairs) > 0
    assert pairs.walk_min.between(0, 10).all()


def test_access_with_a_bad_layer_writes_nothing(tmp_path, yuzhong_points):
    osm = require_shared("chongqing/yuzhong/yuzhong.osm.pbf")
    homes, _ = yuzhong_points
    no_crs = tmp_path / "no_crs.csv"
    no_crs.write_text("x,y\n1,2\n", encoding="utf-8")
    out = tmp_path / "pairs.csv"
    args = ["access", "--osm", str(osm), "--origins", str(homes), "--destinations", str(no_crs)]
    result = runner.invoke(app, [*args, "--cutoff", "10", "--out", str(out)])
    assert result.exit_code == 2
    assert "no_crs.csv" in result.output
    assert not out.exists()
    assert list(tmp_path.glob(".pairs*")) == []


def test_demo_audits_the_shipped_helsinki_extract(tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    layers = {name for name, _ in pyogrio.list_layers(out / "audit.gpkg")}
    assert {"demand", "communities", "streets", "facilities", "isochrones"} <= layers
    demand = gpd.read_file(out / "audit.gpkg", layer="demand")
    assert "walk_min_health_station" in demand.columns
    minutes = demand["walk_min_health_station"].dropna()
    assert (minutes >= 0).all()
    assert (minutes <= 20).all()
    communities = gpd.read_file(out / "audit.gpkg", layer="communities")
    assert communities["derived"].all()  # no boundaries given: derived zones, and said so
    assert communities["population"].sum() == pytest.approx(demand["population"].sum())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "假设" in html  # hypothetical facilities are labelled
    assert (out / "audit.xlsx").is_file()
    assert not list(out.glob(".linli-*"))
    # ... then the same area planned from scratch: both tiers, everyone served in reach.
    sites = gpd.read_file(out / "plan" / "plan.gpkg", layer="sites")
    assert set(sites["tier"]) == {"street_centre", "community_home"}
    assert set(sites["kind"]) == {"new"}
    planned = gpd.read_file(out / "plan" / "plan.gpkg", layer="demand")
    served = planned[planned["status"] == "served"]
    assert served["population"].sum() == pytest.approx(demand["population"].sum(), rel=1e-6)
    assert (served["community_walk_min"] <= 10 + 1e-9).all()
    assert (served["street_walk_min"] <= 20 + 1e-9).all()
    assert "社区家园" in result.output
    assert (out / "plan" / "report.html").is_file()
