"""Tests of linli.population: which buildings are homes, floor area, spreading a population,
zones."""

from __future__ import annotations

import csv
import dataclasses
import math
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from conftest import require_shared
from linli import InputError, StandardError
from linli.inputs.osm import read_osm_features
from linli.network import walk_network_from_osm
from linli.population import (
    DEFAULTS,
    NON_RESIDENTIAL_KEYS,
    EstimateDefaults,
    classify_buildings,
    estimate_population,
    persons_per_household,
    population_by_zone,
    read_osm_streets,
    residential_buildings,
    zones_from_points,
)
from linli.standards import load_profile
from osm_fixtures import ORIGIN_M, UTM48N, nodes_at, write_osm

X0, Y0 = ORIGIN_M
PPH = 2.45

YUZHONG = "chongqing/yuzhong/yuzhong.osm.pbf"
YUZHONG_BOUNDARY = "chongqing/yuzhong/derived_geojson/yuzhong_district_boundary_osm.geojson"
CENSUS = "chongqing/admin/chongqing_census_reference.csv"


def box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A rectangle ``w`` x ``h`` metres whose south-west corner is (x, y) metres from the
    origin (UTM 48N)."""
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    """Buildings or landuse in UTM 48N metres: each row a dict of tags plus ``geometry``."""
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=UTM48N)


def reason_of(out: gpd.GeoDataFrame, label: object) -> str:
    return str(out.loc[label, "home_reason"])


# ---------------------------------------------------------------------------------------------
# Which buildings are homes
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def landuse() -> gpd.GeoDataFrame:
    """A residential block from (0, 0) to (300, 300) and a retail block east of it."""
    return frame(
        [
            {"landuse": "residential", "geometry": box(0, 0, 300, 300)},
            {"landuse": "retail", "geometry": box(400, 0, 200, 300)},
        ]
    )


def test_building_yes_inside_residential_landuse_is_a_home(landuse: gpd.GeoDataFrame) -> None:
    b = frame([{"building": "yes", "geometry": box(10, 10, 20, 20)}])
    out = classify_buildings(b, landuse=landuse)
    assert bool(out.loc[0, "is_home"])
    assert reason_of(out, 0) == "yes_in_residential_landuse"
    assert out.loc[0, "home_certainty"] == "landuse"


def test_building_yes_with_a_shop_is_not_a_home(landuse: gpd.GeoDataFrame) -> None:
    b = frame(
        [
            {"building": "yes", "shop": "convenience", "geometry": box(10, 10, 20, 20)},
            {"building": "yes", "amenity": "bank", "geometry": box(50, 10, 20, 20)},
            {"building": "yes", "amenity": "no", "geometry": box(90, 10, 20, 20)},
        ]
    )
    out = classify_buildings(b, landuse=landuse)
    assert out["is_home"].tolist() == [False, False, True]
    assert reason_of(out, 0) == "non_residential_tag"
    assert out.loc[0, "home_detail"] == "shop=convenience"
    assert out.loc[1, "home_detail"] == "amenity=bank"


def test_a_tiny_shed_is_not_a_home(landuse: gpd.GeoDataFrame) -> None:
    b = frame(
        [
            {"building": "yes", "geometry": box(10, 10, 5, 5)},  # 25 m²
            {"building": "yes", "geometry": box(50, 10, 8, 5)},  # 40 m²: the minimum counts
        ]
    )
    out = classify_buildings(b, landuse=landuse)
    assert reason_of(out, 0) == "too_small"
    assert "25 m² < 40 m²" in str(out.loc[0, "home_detail"])
    assert bool(out.loc[1, "is_home"])
    smaller = classify_buildings(b, landuse=landuse, min_home_footprint_m2=20.0)
    assert smaller["is_home"].tolist() == [True, True]


def test_school_is_never_a_home(landuse: gpd.GeoDataFrame) -> None:
    b = frame(
        [
            {"building": "school", "geometry": box(10, 10, 40, 40)},
            {"building": "school", "building:levels": "4", "geometry": box(60, 10, 40, 40)},
        ]
    )
    for land in (landuse, None):
        out = classify_buildings(b, landuse=land)
        assert not out["is_home"].any()
        assert set(out["home_reason"]) == {"non_residential_building"}
        assert out.loc[0, "home_detail"] == "building=school"


def test_residential_tags_count_whatever_else_the_building_carries(
    landuse: gpd.GeoDataFrame,
) -> None:
    b = frame(
        [
            # flats above shops (底商), in retail land, tiny: still homes
            {"building": "apartments", "shop": "mall", "geometry": box(410, 10, 40, 40)},
            {"building": "house", "geometry": box(10, 10, 5, 5)},
            {"building": "yes", "building:use": "residential", "geometry": box(500, 10, 20, 20)},
            {"building": "dormitory", "geometry": box(700, 10, 20, 20)},  # outside all landuse
        ]
    )
    out = classify_buildings(b, landuse=landuse)
    assert out["is_home"].all()
    assert set(out["home_reason"]) == {"tagged"}
    assert set(out["home_certainty"]) == {"tagged"}
    assert out["home_detail"].tolist() == [
        "building=apartments",
        "building=house",
        "building:use=residential",
        "building=dormitory",
    ]


def test_building_yes_and_landuse(landuse: gpd.GeoDataFrame) -> None:
    b = frame(
        [
            {"building": "yes", "geometry": box(410, 10, 20, 20)},  # in landuse=retail
            {"building": "yes", "geometry": box(700, 10, 20, 20)},  # in no landuse
            {"building": "yes", "building:use": "commercial", "geometry": box(10, 10, 20, 20)},
        ]
    )
    out = classify_buildings(b, landuse=landuse)
    assert out["home_reason"].tolist() == [
        "in_non_residential_landuse",
        "outside_residential_landuse",
        "non_residential_tag",
    ]
    assert out.loc[0, "home_detail"] == "landuse=retail"


def test_without_residential_landuse_building_yes_is_an_uncertain_home(
    landuse: gpd.GeoDataFrame,
) -> None:
    b = frame(
        [
            {"building": "yes", "geometry": box(10, 10, 20, 20)},
            {"building": "yes", "geometry": box(410, 10, 20, 20)},
        ]
    )
    out = classify_buildings(b)
    assert out["home_reason"].tolist() == ["yes_without_landuse"] * 2
    assert out["home_certainty"].tolist() == ["uncertain"] * 2
    # A landuse layer without residential polygons still rules out the retail block.
    only_retail = landuse[landuse["landuse"] == "retail"]
    out = classify_buildings(b, landuse=only_retail)
    assert out["home_reason"].tolist() == ["yes_without_landuse", "in_non_residential_landuse"]


def test_campus_polygons_are_non_residential_land() -> None:
    land = frame([{"landuse": None, "amenity": "school", "geometry": box(0, 0, 200, 200)}])
    b = frame([{"building": "yes", "geometry": box(10, 10, 20, 20)}])
    out = classify_buildings(b, landuse=land)
    assert reason_of(out, 0) == "in_non_residential_landuse"
    assert out.loc[0, "home_detail"] == "amenity=school area"


def test_points_and_buildings_outside_the_area_are_not_homes() -> None:
    b = frame(
        [
            {"building": "apartments", "geometry": shapely.Point(X0 + 5, Y0 + 5)},
            {"building": "apartments", "geometry": box(10, 10, 20, 20)},
            {"building": "apartments", "geometry": box(510, 10, 20, 20)},
        ]
    )
    area = gpd.GeoSeries([box(0, 0, 300, 300)], crs=UTM48N)
    out = classify_buildings(b, area=area)
    assert out["home_reason"].tolist() == ["no_footprint", "tagged", "outside_study_area"]
    homes = residential_buildings(b, area=area)
    assert list(homes.index) == [1]
    assert homes.crs == b.crs


def test_classification_keeps_index_crs_and_columns() -> None:
    b = frame(
        [
            {"building": "yes", "geometry": box(10, 10, 20, 20)},
            {"building": "school", "geometry": box(50, 10, 20, 20)},
        ]
    )
    b.index = ["w1", "w2"]
    b84 = b.to_crs("EPSG:4326")
    out = classify_buildings(b84)
    assert list(out.index) == ["w1", "w2"]
    assert out.crs == b84.crs
    for column in (
        "is_home",
        "home_reason",
        "home_detail",
        "home_certainty",
        "footprint_m2",
        "levels",
        "levels_source",
        "floor_area_m2",
    ):
        assert column in out.columns
    # Footprints in the local UTM zone: WGS-84 input gives the same square metres.
    assert out["footprint_m2"].tolist() == pytest.approx([400.0, 400.0], rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Levels and floor area
# ---------------------------------------------------------------------------------------------


def test_levels_from_tag_height_or_default() -> None:
    b = frame(
        [
            {"building": "apartments", "building:levels": "12", "geometry": box(0, 0, 20, 10)},
            {"building": "apartments", "building:levels": "3;5", "geometry": box(30, 0, 20, 10)},
            {"building": "apartments", "height": "30 m", "geometry": box(60, 0, 20, 10)},
            {"building": "apartments", "height": "100 ft", "geometry": box(90, 0, 20, 10)},
            {"building": "apartments", "height": "31", "geometry": box(120, 0, 20, 10)},
            {
                "building": "apartments",
                "building:levels": "many",
                "height": "45",
                "geometry": box(150, 0, 20, 10),
            },
            {"building": "apartments", "building:levels": "-1", "geometry": box(180, 0, 20, 10)},
            {"building": "apartments", "geometry": box(210, 0, 20, 10)},
        ]
    )
    out = classify_buildings(b, default_levels=7.0)
    assert out["levels_source"].tolist() == [
        "tag",
        "tag",
        "height",
        "height",
        "height",
        "height",
        "default",
        "default",
    ]
    # 30 m / 3 = 10; 100 ft = 30.48 m -> 10; 31 m -> 10; 45 m -> 15
    assert out["levels"].tolist() == [12.0, 5.0, 10.0, 10.0, 10.0, 15.0, 7.0, 7.0]
    assert out["footprint_m2"].tolist() == pytest.approx([200.0] * 8, abs=1e-6)
    assert out["floor_area_m2"].tolist() == pytest.approx(
        [2400.0, 1000.0, 2000.0, 2000.0, 2000.0, 3000.0, 1400.0, 1400.0], abs=1e-6
    )
    taller = classify_buildings(b, metres_per_level=2.5)
    assert taller["levels"].tolist()[2:6] == [12.0, 12.0, 12.0, 18.0]  # 31 / 2.5 = 12.4
    assert taller["levels"].tolist()[7] == DEFAULTS.default_levels


def test_bad_inputs_are_reported_together() -> None:
    b = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(0, 0, 10, 10)])  # no CRS, no building
    with pytest.raises(InputError, match=r"buildings: expected a CRS on the layer"):
        classify_buildings(b)
    b = b.set_crs(UTM48N)
    with pytest.raises(InputError, match=r"expected a 'building' column"):
        classify_buildings(b)
    good = frame([{"building": "yes", "geometry": box(0, 0, 10, 10)}])
    with pytest.raises(InputError) as err:
        classify_buildings(good, default_levels=0, metres_per_level=float("nan"))
    assert "default_levels: expected a finite number > 0; found 0" in str(err.value)
    assert "metres_per_level: expected a finite number > 0; found nan" in str(err.value)
    with pytest.raises(InputError, match=r"landuse: expected a 'landuse' column"):
        classify_buildings(good, landuse=frame([{"name": "x", "geometry": box(0, 0, 5, 5)}]))


# ---------------------------------------------------------------------------------------------
# Persons per household and defaults from the profile
# ---------------------------------------------------------------------------------------------


def profile_with(tmp_path: Path, **population: object) -> Path:
    """A copy of the shipped profile with keys of ``[population]`` set (or removed: None)."""
    text = load_profile().path.read_text(encoding="utf-8")
    head, sep, table = text.partition("[population]\n")
    assert sep, "the shipped profile has a [population] table"
    body, nxt, rest = table.partition("\n[")
    for key, value in population.items():
        body = re.sub(rf"^{re.escape(key)}\s*=.*\n?", "", body, flags=re.MULTILINE)
        if value is not None:
            body = f"{key} = {value!r}\n" + body
    path = tmp_path / "profile.toml"
    path.write_text(head + sep + body + nxt + rest, encoding="utf-8")
    return path


def test_persons_per_household_comes_from_the_profile(tmp_path: Path) -> None:
    shipped = tomllib.loads(load_profile().path.read_text(encoding="utf-8"))
    assert persons_per_household() == shipped["population"]["persons_per_household"] == PPH
    assert persons_per_household(profile_with(tmp_path, persons_per_household=3.1)) == 3.1
    with pytest.raises(StandardError, match=r"\[population\] persons_per_household: expected a"):
        persons_per_household(profile_with(tmp_path, persons_per_household=None))
    with pytest.raises(StandardError, match=r"expected a finite number > 0; found -2"):
        persons_per_household(profile_with(tmp_path, persons_per_household=-2))


def test_documented_defaults_agree_with_the_shipped_profile() -> None:
    table = tomllib.loads(load_profile().path.read_text(encoding="utf-8"))["population"]
    shared = [f.name for f in dataclasses.fields(EstimateDefaults) if f.name in table]
    assert {"default_levels", "min_home_footprint_m2"} <= set(shared)
    for name in shared:
        if name != "floor_area_m2_per_person":  # a check figure, off unless asked for
            assert getattr(DEFAULTS, name) == table[name], name
    from_profile = EstimateDefaults.from_profile()
    assert from_profile.floor_area_m2_per_person == table["floor_area_m2_per_person"]
    assert from_profile.cell_m == DEFAULTS.cell_m  # absent keys keep the documented default


def test_defaults_can_be_set_in_the_profile(tmp_path: Path) -> None:
    path = profile_with(tmp_path, min_home_footprint_m2=25.0, default_levels=8)
    d = EstimateDefaults.from_profile(path)
    assert d.min_home_footprint_m2 == 25.0
    assert d.default_levels == 8.0
    # Keys the profile validator does not know yet are read from the parsed table as well.
    shipped = load_profile()
    data = {**shipped.data, "population": {**shipped.data["population"], "min_buildings": 5}}
    assert EstimateDefaults.from_profile(dataclasses.replace(shipped, data=data)).min_buildings == 5
    for key, value, message in (
        ("min_mapped_share", 2.0, r"min_mapped_share: expected a share in \(0, 1\]; found 2.0"),
        ("min_buildings", 2.5, r"min_buildings: expected a whole number > 0; found 2.5"),
        ("cell_m", "100", r"cell_m: expected a finite number > 0; found '100'"),
    ):
        bad = {**shipped.data, "population": {**shipped.data["population"], key: value}}
        with pytest.raises(StandardError, match=message):
            EstimateDefaults.from_profile(dataclasses.replace(shipped, data=bad))


# ---------------------------------------------------------------------------------------------
# Spreading a total over homes
# ---------------------------------------------------------------------------------------------


def three_homes() -> gpd.GeoDataFrame:
    return frame(
        [
            {"building": "apartments", "building:levels": "6", "geometry": box(0, 0, 20, 10)},
            {"building": "residential", "building:levels": "3", "geometry": box(40, 0, 20, 10)},
            {"building": "house", "building:levels": "2", "geometry": box(80, 0, 10, 10)},
            {"building": "school", "building:levels": "4", "geometry": box(0, 40, 50, 50)},
        ]
    )


def test_population_is_split_by_floor_area() -> None:
    demand, report = estimate_population(
        three_homes(), total_population=1000, persons_per_household=PPH, method="buildings"
    )
    # floor areas 1200, 600 and 200 m² of 2000
    assert demand["floor_area_m2"].tolist() == pytest.approx([1200.0, 600.0, 200.0], abs=1e-6)
    assert demand["population"].tolist() == pytest.approx([600.0, 300.0, 100.0], abs=1e-9)
    assert math.fsum(demand["population"]) == 1000.0
    np.testing.assert_allclose(demand["households"], demand["population"] / PPH, rtol=0, atol=0)
    assert demand["method"].tolist() == ["building"] * 3
    assert demand["source_index"].tolist() == [0, 1, 2]
    assert demand.crs.to_epsg() == 4326
    assert demand.geom_type.eq("Point").all()
    # Each demand point lies on its building.
    fp = three_homes().to_crs(4326).geometry
    assert all(fp.iloc[i].contains(demand.geometry.iloc[i]) for i in range(3))
    assert report.method == "buildings"
    assert report.population_by_method["building"] == pytest.approx(1000.0)
    assert report.share("building") == pytest.approx(1.0)
    assert report.homes_by_reason == {"tagged": 3}
    assert report.not_homes_by_reason == {"non_residential_building": 1}
    assert report.levels_source == {"tag": 3}
    assert report.home_floor_area_m2 == pytest.approx(2000.0)
    assert any(line.startswith("method: buildings") for line in report.lines())


def test_population_sums_exactly_to_an_awkward_total() -> None:
    rng = np.random.default_rng(7)
    n = 500
    w = rng.uniform(5, 40, n)
    h = rng.uniform(5, 40, n)
    levels = rng.integers(1, 34, n)
    b = frame(
        [
            {
                "building": "residential",
                "building:levels": str(int(levels[i])),
                "geometry": box(100.0 * (i % 25), 100.0 * (i // 25), w[i], h[i]),
            }
            for i in range(n)
        ]
    )
    total = 588_717.3
    demand, _ = estimate_population(
        b, total_population=total, persons_per_household=PPH, method="buildings"
    )
    assert len(demand) == n
    assert abs(math.fsum(demand["population"]) - total) <= 1e-6
    assert abs(float(demand["population"].sum()) - total) <= 1e-6
    assert (demand["population"] > 0).all()
    expected = total * w * h * levels / np.sum(w * h * levels)
    np.testing.assert_allclose(demand["population"], expected, rtol=1e-9)


def test_report_warns_of_doubtful_homes() -> None:
    b = frame(
        [
            {"building": "yes", "building:levels": "1", "geometry": box(0, 0, 20, 20)},
            {"building": "yes", "height": "250", "geometry": box(40, 0, 20, 20)},  # 83 levels
            {"building": "apartments", "building:levels": "50", "geometry": box(80, 0, 20, 20)},
        ]
    )
    _, report = estimate_population(
        b,
        total_population=10_000,
        persons_per_household=PPH,
        method="buildings",
        floor_area_m2_per_person=36.52,
    )
    text = "\n".join(report.warnings)
    assert "1 of 3 homes are tagged building:levels=1" in text
    assert "3 building=yes counted as homes without residential landuse data" not in text
    assert "2 building=yes counted as homes without residential landuse data" in text
    # The 83-level building=yes is flagged; the tagged 50-level apartments are not.
    assert "1 building=yes of 40 or more levels counted as homes take 6,194 residents" in text
    # 400 x (1 + 83 + 50) = 53,600 m² for 10,000 residents: 5.4 m² each, under 36.52 / 4
    assert "only 5.4 m² of floor area per resident, against a reference of 36.52 m²" in text
    assert report.single_level_tags == 1
    assert report.levels_source == {"tag": 2, "height": 1}


def test_estimate_rejects_bad_arguments() -> None:
    with pytest.raises(InputError) as err:
        estimate_population(
            three_homes(),
            total_population=-5,
            persons_per_household=0,
            method="census",  # type: ignore[arg-type]
        )
    message = str(err.value)
    assert "total_population: expected a finite number > 0; found -5" in message
    assert "persons_per_household: expected a finite number > 0; found 0" in message
    assert "method: expected one of auto, buildings, streets, mixed; found 'census'" in message
    schools = frame([{"building": "school", "geometry": box(0, 0, 50, 50)}])
    with pytest.raises(
        InputError, match=r"expected at least one home .*non_residential_building 1"
    ):
        estimate_population(schools, total_population=10, persons_per_household=PPH)
    with pytest.raises(InputError, match=r"streets for method='streets'; found none given"):
        estimate_population(
            three_homes(), total_population=10, persons_per_household=PPH, method="streets"
        )


# ---------------------------------------------------------------------------------------------
# Streets where buildings are thin or missing
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def street_osm(tmp_path: Path) -> Path:
    """A 200 m and a 100 m residential street, a 400 m primary road, and two homes.

    ::

        6 ............. 7   primary 3 - 6 - 7, y = 300
        :
        3               B   (homes at the top right, 20 x 20 m)
        |  residential 100 m (x = 0, y 100..200)
        1 ---- 2 ---- 4     residential 200 m (y = 100)
    """
    nodes = nodes_at(
        {
            1: (0.0, 100.0),
            2: (100.0, 100.0),
            4: (200.0, 100.0),
            3: (0.0, 200.0),
            6: (0.0, 300.0),
            7: (300.0, 300.0),
            # homes
            11: (250.0, 200.0),
            12: (270.0, 200.0),
            13: (270.0, 220.0),
            14: (250.0, 220.0),
            21: (250.0, 240.0),
            22: (270.0, 240.0),
            23: (270.0, 260.0),
            24: (250.0, 260.0),
        }
    )
    ways = [
        (100, [1, 2, 4], {"highway": "residential"}),
        (101, [1, 3], {"highway": "residential"}),
        (102, [3, 6, 7], {"highway": "primary"}),
        (200, [11, 12, 13, 14, 11], {"building": "apartments", "building:levels": "10"}),
        (201, [21, 22, 23, 24, 21], {"building": "yes"}),
    ]
    return write_osm(tmp_path / "streets.osm", nodes, ways)


def test_thin_buildings_fall_back_to_residential_streets(street_osm: Path) -> None:
    buildings = read_osm_features(street_osm, keys=("building",), columns=("building:levels",))
    streets = read_osm_streets(street_osm)
    assert sorted(streets["highway"]) == ["primary", "residential", "residential"]
    demand, report = estimate_population(
        buildings, total_population=600, persons_per_household=PPH, streets=streets
    )
    # 2 homes < min_buildings: all 600 residents on the 300 m of residential street, one
    # point every 50 m (4 + 2 points), 100 residents each; the primary road takes none.
    assert report.method == "streets"
    assert report.points_by_method == {"building": 0, "street": 6}
    assert report.population_by_method["street"] == pytest.approx(600.0)
    assert any("too thin" in w and "min_buildings=20" in w for w in report.warnings)
    assert demand["method"].tolist() == ["street"] * 6
    # (coordinates in the file are rounded to 1e-7 degree, about 1 cm)
    assert demand["population"].tolist() == pytest.approx([100.0] * 6, rel=1e-4)
    assert demand["street_length_m"].tolist() == pytest.approx([50.0] * 6, rel=1e-4)
    assert math.fsum(demand["population"]) == pytest.approx(600.0, abs=1e-9)
    np.testing.assert_allclose(demand["households"], demand["population"] / PPH)
    assert set(demand["osm_id"]) == {100, 101}
    pts = demand.to_crs(UTM48N)
    assert (pts.geometry.y < Y0 + 250).all()  # nothing on the primary road at y = 300
    assert "method: streets" in report.lines()[1]
    # A coarser spacing puts fewer, heavier points (the 100 m street: 1 point).
    coarse, _ = estimate_population(
        buildings,
        total_population=600,
        persons_per_household=PPH,
        streets=streets,
        street_spacing_m=100.0,
    )
    assert coarse["population"].tolist() == pytest.approx([200.0] * 3, rel=1e-4)


def test_streets_from_a_walking_network_use_all_links(street_osm: Path) -> None:
    net = walk_network_from_osm(street_osm)
    demand, report = estimate_population(
        None, total_population=600, persons_per_household=PPH, streets=net, method="streets"
    )
    # No highway types on links: all 700 m of way, 14 points of 50 m, 600 / 14 residents each.
    assert report.method == "streets"
    assert len(demand) == 14
    assert demand["population"].tolist() == pytest.approx([600.0 / 14] * 14, rel=1e-4)
    assert any("no 'highway' column" in w for w in report.warnings)


def test_streets_outside_residential_landuse_take_no_one(street_osm: Path) -> None:
    streets = read_osm_streets(street_osm)
    land = gpd.GeoDataFrame(
        {"landuse": ["residential"]}, geometry=[box(-10, 80, 120, 40)], crs=UTM48N
    )
    demand, _ = estimate_population(
        None,
        total_population=300,
        persons_per_household=PPH,
        streets=streets,
        landuse=land,
        method="streets",
    )
    # Inside the polygon: the 200 m street's first two points (x = 25, 75).
    assert len(demand) == 2
    assert demand["population"].tolist() == pytest.approx([150.0, 150.0])
    assert (demand.to_crs(UTM48N).geometry.x < X0 + 120).all()


def mixed_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Four homes mapped in the cell (0..100, 0..100); a street in the cell (200..300, 0..100)
    with no building; a street in the mapped cell too."""
    homes = frame(
        [
            {"building": "residential", "building:levels": "5", "geometry": box(x, y, 20, 20)}
            for x, y in ((10, 10), (60, 10), (10, 40), (60, 40))
        ]
    )
    streets = gpd.GeoDataFrame(
        {"highway": ["residential", "footway", "primary"]},
        geometry=[
            shapely.LineString([(X0 + 210, Y0 + 80), (X0 + 290, Y0 + 80)]),  # 80 m, no homes
            shapely.LineString([(X0 + 10, Y0 + 90), (X0 + 90, Y0 + 90)]),  # in the mapped cell
            shapely.LineString([(X0 + 410, Y0 + 80), (X0 + 490, Y0 + 80)]),  # not residential
        ],
        crs=UTM48N,
    )
    return homes, streets


def test_mixed_homes_where_mapped_streets_where_not() -> None:
    homes, streets = mixed_case()
    demand, report = estimate_population(
        homes, total_population=1600, persons_per_household=PPH, streets=streets, min_buildings=1
    )
    # Mapped cell: 1,600 m² of footprint on 10,000 m² (16 % >= 10 %), 8,000 m² of floor:
    # density 0.8.  The street's cell has no building: 0.8 x 10,000 = 8,000 m² assumed, on
    # two points of 40 m.  Homes 8,000 + streets 8,000: 800 residents each side.
    assert report.method == "mixed"
    assert report.density_m2_per_m2 == pytest.approx(0.8)
    assert report.cells == {"mapped": 1, "unmapped_with_streets": 1, "unmapped_without_streets": 0}
    assert report.mapped_land_share == pytest.approx(0.5)
    assert report.street_floor_area_m2 == pytest.approx(8000.0)
    assert report.population_by_method["building"] == pytest.approx(800.0)
    assert report.population_by_method["street"] == pytest.approx(800.0)
    assert report.share("street") == pytest.approx(0.5)
    b = demand[demand["method"] == "building"]
    s = demand[demand["method"] == "street"]
    assert b["population"].tolist() == pytest.approx([200.0] * 4)
    assert s["population"].tolist() == pytest.approx([400.0, 400.0])
    assert s["floor_area_m2"].tolist() == pytest.approx([4000.0, 4000.0])
    assert s["street_length_m"].tolist() == pytest.approx([40.0, 40.0])
    assert s["source_index"].tolist() == [0, 0]
    assert math.fsum(demand["population"]) == pytest.approx(1600.0, abs=1e-9)
    assert (demand["population"] > 0).all()
    text = "\n".join(report.lines())
    assert "building: 800 residents (50.0%) at 4 homes" in text
    assert "street: 800 residents (50.0%) at 2 street points" in text


def test_mixed_gives_nothing_to_streets_when_buildings_are_mapped_everywhere() -> None:
    homes, streets = mixed_case()
    # The street without homes removed: every cell with a residential street is mapped.
    demand, report = estimate_population(
        homes,
        total_population=100,
        persons_per_household=PPH,
        streets=streets.iloc[1:],
        min_buildings=1,
    )
    assert report.method == "buildings"
    assert demand["method"].tolist() == ["building"] * 4
    assert demand["population"].tolist() == pytest.approx([25.0] * 4)


def test_buildings_only_when_no_streets_are_given() -> None:
    homes, _ = mixed_case()
    demand, report = estimate_population(homes, total_population=100, persons_per_household=PPH)
    assert report.method == "buildings"
    assert any("no streets were given" in w for w in report.warnings)  # 4 < min_buildings
    assert math.fsum(demand["population"]) == pytest.approx(100.0)


# ---------------------------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------------------------


def test_population_by_zone_conserves_totals() -> None:
    demand = gpd.GeoDataFrame(
        {"population": [10.0, 20.0, 30.0, 40.0], "households": [4.0, 8.0, 12.0, 16.0]},
        geometry=[
            shapely.Point(X0 + 10, Y0 + 10),
            shapely.Point(X0 + 150, Y0 + 50),
            shapely.Point(X0 + 100, Y0 + 50),  # on the shared edge: counted in the first zone
            shapely.Point(X0 + 500, Y0 + 500),  # outside every zone
        ],
        crs=UTM48N,
    )
    zones = gpd.GeoDataFrame(
        {"name": ["甲社区", "乙社区"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 100, 100)],
        crs=UTM48N,
        index=["a", "b"],
    )
    out, report = population_by_zone(demand, zones, key="name")
    assert list(out.index) == ["a", "b"]
    assert out["population"].tolist() == [40.0, 20.0]
    assert out["households"].tolist() == [16.0, 8.0]
    assert out["demand_points"].tolist() == [2, 1]
    assert report.unassigned_population == 40.0
    assert report.unassigned_households == 16.0
    assert report.unassigned_points == 1
    assert report.points_in_several_zones == 1
    assert report.assigned_population + report.unassigned_population == report.total_population
    assert any("outside every zone" in line for line in report.lines())


def test_population_by_zone_bad_zones() -> None:
    demand = gpd.GeoDataFrame(
        {"population": [1.0], "households": [0.5]},
        geometry=[shapely.Point(X0 + 10, Y0 + 10)],
        crs=UTM48N,
    )
    zones = gpd.GeoDataFrame(
        {"name": ["甲", "甲"]}, geometry=[box(0, 0, 50, 50), box(50, 0, 50, 50)], crs=UTM48N
    )
    with pytest.raises(InputError, match=r"zones, field 'name': expected one polygon per name"):
        population_by_zone(demand, zones, key="name")
    with pytest.raises(InputError, match=r"zones: expected a 'code' column"):
        population_by_zone(demand, zones, key="code")
    with pytest.raises(InputError, match=r"demand: expected columns population and households"):
        population_by_zone(demand.drop(columns="households"), zones.iloc[:1], key="name")


def assert_partition(zones: gpd.GeoDataFrame, area: shapely.Geometry, crs: str) -> None:
    """The zones cover the area, without gaps or overlaps (to floating point)."""
    z = zones.to_crs(crs)
    total = float(z.area.sum())
    union = shapely.union_all(z.geometry.to_numpy())
    assert total == pytest.approx(area.area, rel=1e-7)  # no overlap
    assert union.symmetric_difference(area).area <= 1e-6 * area.area  # no gap, nothing outside


def test_zones_from_points_voronoi() -> None:
    area = box(0, 0, 100, 100)
    points = gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[shapely.Point(X0 + 25, Y0 + 50), shapely.Point(X0 + 75, Y0 + 50)],
        crs=UTM48N,
    )
    zones = zones_from_points(points, area=gpd.GeoSeries([area], crs=UTM48N))
    assert zones.crs.to_epsg() == 4326
    assert zones["name"].tolist() == ["west", "east"]
    assert zones["zone_method"].tolist() == ["voronoi", "voronoi"]
    assert zones["derived"].tolist() == [True, True]
    z = zones.to_crs(UTM48N)
    assert z.area.tolist() == pytest.approx([5000.0, 5000.0], rel=1e-6)
    assert z.geometry.iloc[0].contains(points.geometry.iloc[0])
    assert_partition(zones, area, UTM48N)
    one = zones_from_points(points.iloc[:1], area=gpd.GeoSeries([area], crs=UTM48N))
    assert one.to_crs(UTM48N).area.iloc[0] == pytest.approx(10_000.0, rel=1e-6)


def test_zones_from_points_rejects_points_at_the_same_place() -> None:
    points = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.Point(X0 + 25, Y0 + 50), shapely.Point(X0 + 25, Y0 + 50)],
        crs=UTM48N,
        index=["a", "b"],
    )
    with pytest.raises(InputError, match=r"'a', 'b' at the same point"):
        zones_from_points(points, area=gpd.GeoSeries([box(0, 0, 100, 100)], crs=UTM48N))
    with pytest.raises(InputError, match=r"study area: expected a polygon"):
        zones_from_points(points.iloc[:1], area=shapely.Point(106.5, 29.5))


def test_zones_from_points_by_walking(tmp_path: Path) -> None:
    """Two streets 100 m apart, joined only at their east end (x = 1000): the south-west
    corner is 10 m from community A across the gap, but 900 m from B on foot."""
    nodes = nodes_at({1: (0.0, 100.0), 2: (1000.0, 100.0), 3: (1000.0, 0.0), 4: (0.0, 0.0)})
    path = write_osm(tmp_path / "u.osm", nodes, [(1, [1, 2, 3, 4], {"highway": "footway"})])
    net = walk_network_from_osm(path)
    points = gpd.GeoDataFrame(
        {"name": ["A", "B"]},
        geometry=[shapely.Point(X0 + 50, Y0 + 100), shapely.Point(X0 + 900, Y0)],
        crs=UTM48N,
    )
    area = box(-100, -50, 1200, 200)
    corner = shapely.Point(X0, Y0 + 10)
    plain = zones_from_points(points, area=gpd.GeoSeries([area], crs=UTM48N)).to_crs(UTM48N)
    walking = zones_from_points(points, area=gpd.GeoSeries([area], crs=UTM48N), network=net)
    assert walking["zone_method"].tolist() == ["walking_voronoi"] * 2
    assert walking["derived"].all()
    assert_partition(walking, area, UTM48N)
    w = walking.to_crs(UTM48N)
    assert plain.geometry.iloc[0].contains(corner)  # A by straight line
    assert w.geometry.iloc[1].contains(corner)  # B on foot
    assert w.geometry.iloc[0].contains(points.geometry.iloc[0])
    assert w.geometry.iloc[1].contains(points.geometry.iloc[1])


# ---------------------------------------------------------------------------------------------
# Yuzhong (real data)
# ---------------------------------------------------------------------------------------------


def yuzhong_census_2020() -> float:
    with require_shared(CENSUS).open(encoding="utf-8", newline="") as f:
        rows = {r["district_name"]: r for r in csv.DictReader(f)}
    return float(rows["渝中区"]["census_2020_resident_pop"])


@pytest.fixture(scope="module")
def yuzhong() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    pbf = require_shared(YUZHONG)
    buildings = read_osm_features(
        pbf,
        keys=("building",),
        columns=("building:levels", "height", "building:use", *NON_RESIDENTIAL_KEYS),
    )
    landuse = read_osm_features(pbf, keys=("landuse",), columns=("amenity",))
    streets = read_osm_streets(pbf)
    boundary = gpd.read_file(require_shared(YUZHONG_BOUNDARY))
    return buildings, landuse, streets, boundary


def test_yuzhong_population_sums_to_the_census(
    yuzhong: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    buildings, landuse, streets, boundary = yuzhong
    total = yuzhong_census_2020()
    assert total == 588_717
    demand, report = estimate_population(
        buildings,
        total_population=total,
        persons_per_household=persons_per_household(),
        landuse=landuse,
        streets=streets,
        area=boundary,
    )
    assert abs(math.fsum(demand["population"]) - total) <= 1e-6
    assert (demand["population"] > 0).all()
    np.testing.assert_allclose(demand["households"], demand["population"] / PPH)
    homes = demand[demand["method"] == "building"]
    # The manifest's 382 residential/apartments/house buildings are all tagged homes.
    assert report.homes_by_reason["tagged"] == 382
    assert report.homes_by_reason["yes_without_landuse"] > 1000  # OSM China: building=yes
    assert len(homes) == sum(report.homes_by_reason.values())
    assert report.not_homes_by_reason["non_residential_building"] >= 38 + 14  # hospitals, schools
    # OSM maps a fraction of Yuzhong's buildings: residents also live along streets.
    assert report.method == "mixed"
    assert 0.2 < report.share("building") < 0.8
    assert report.share("building") + report.share("street") == pytest.approx(1.0)
    assert report.points_by_method["street"] > 1000
    # Every demand point lies in the district.
    district = shapely.union_all(boundary.to_crs(4326).geometry.to_numpy())
    assert shapely.contains(district, demand.geometry.to_numpy()).all()
    text = "\n".join(report.lines())
    assert "method: mixed" in text
    assert "building: " in text
    assert "street: " in text
    assert any("building:levels=1" in w for w in report.warnings)


def test_yuzhong_zones_conserve_population(
    yuzhong: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    buildings, landuse, streets, boundary = yuzhong
    total = yuzhong_census_2020()
    demand, _ = estimate_population(
        buildings,
        total_population=total,
        persons_per_household=PPH,
        landuse=landuse,
        streets=streets,
        area=boundary,
    )
    # 11 "community" points (Yuzhong has 11 streets, 街道) drawn from the demand points.
    points = demand.sample(11, random_state=3)[["geometry"]].reset_index(drop=True)
    points["name"] = [f"社区{i}" for i in range(11)]
    zones = zones_from_points(points, area=boundary)
    district_m = shapely.union_all(boundary.to_crs(UTM48N).geometry.to_numpy())
    assert_partition(zones, district_m, UTM48N)
    out, report = population_by_zone(demand, zones, key="name")
    assert report.unassigned_points == 0
    assert math.fsum(out["population"]) == pytest.approx(total, abs=1e-6)
    assert math.fsum(out["households"]) == pytest.approx(total / PPH, abs=1e-6)
    assert (out["population"] > 0).all()
