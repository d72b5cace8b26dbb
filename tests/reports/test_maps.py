"""Maps drawn to SVG: features, legends, scale bar, north arrow, labels, tooltips, size."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pytest
import shapely
from report_fixtures import yuzhong

from linli import InputError
from linli.reports.maps import (
    ColourBy,
    LabelLayer,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    SizeBy,
    layer_id,
    render_map,
)
from linli.reports.palettes import NO_DATA, categorical_colours, sequential_colours

SVG = "{http://www.w3.org/2000/svg}"
UTM48 = "EPSG:32648"
X0, Y0 = 650_000.0, 3_270_000.0  # Yuzhong, in UTM zone 48N


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the SVG is well-formed XML


def group(root: ET.Element, map_id: str, index: int) -> ET.Element:
    found = root.find(f".//{SVG}g[@id='{layer_id(map_id, index)}']")
    assert found is not None
    return found


def squares(values: list[float | None]) -> gpd.GeoDataFrame:
    """Side-by-side 500 m squares in UTM 48N, one per value (the second with a hole)."""
    geoms = [
        shapely.box(X0 + 500 * i, Y0, X0 + 500 * (i + 1), Y0 + 500) for i in range(len(values))
    ]
    if len(geoms) > 1:
        geoms[1] = geoms[1].difference(geoms[1].centroid.buffer(100))
    return gpd.GeoDataFrame(
        {"share": values, "name": [f"社区{i + 1}" for i in range(len(values))]},
        geometry=geoms,
        crs=UTM48,
    )


def test_one_path_per_polygon_with_holes_and_multipolygons() -> None:
    zones = squares([0.2, 0.6, 0.9])
    multi = shapely.MultiPolygon(
        [
            shapely.box(X0, Y0 - 800, X0 + 200, Y0 - 600),
            shapely.box(X0 + 300, Y0 - 800, X0 + 500, Y0 - 600),
        ]
    )
    zones = gpd.GeoDataFrame(
        {"share": [*zones["share"], 0.4]}, geometry=[*zones.geometry, multi], crs=UTM48
    ).to_crs(4326)  # any CRS: drawn in the local UTM zone
    root = parse(render_map(MapSpec(layers=[PolygonLayer(data=zones, name="zones")]), map_id="m"))
    paths = group(root, "m", 0).findall(f".//{SVG}path[@class='feature']")
    assert len(paths) == 4
    # the square with a hole has two rings, the multipolygon two parts: each one subpath
    assert [p.get("d", "").count("M") for p in paths] == [1, 2, 1, 2]
    assert root.get("data-crs") == "EPSG:32648"


def test_choropleth_classes_and_legend() -> None:
    zones = squares([0.2, 0.5, 0.95, None])
    spec = MapSpec(
        layers=[
            PolygonLayer(
                data=zones,
                name="覆盖率",
                fill=ColourBy(column="share", breaks=[0.5, 0.8], fmt="{:.0%}", palette="blues"),
            )
        ]
    )
    root = parse(render_map(spec, map_id="m"))
    colours = sequential_colours("blues", 3)
    fills = [p.get("fill") for p in group(root, "m", 0).findall(f".//{SVG}path")]
    # a value on a boundary goes to the class above; a missing one is drawn as "no data"
    assert fills == [colours[0], colours[1], colours[2], NO_DATA]
    items = root.findall(f".//{SVG}g[@class='legend-item']")
    texts = ["".join(i.itertext()) for i in items]
    assert texts == ["< 50%", "50% – 80%", "≥ 80%", "无数据"]
    swatches = [i.find(f"{SVG}rect").get("fill") for i in items]  # type: ignore[union-attr]
    assert swatches == [*colours, NO_DATA]
    assert root.find(f".//{SVG}text[@class='legend-title']").text == "覆盖率"  # type: ignore[union-attr]


def test_quantile_and_equal_schemes() -> None:
    rng = np.random.default_rng(5)
    points = gpd.GeoDataFrame(
        {"v": rng.uniform(0, 100, 200)},
        geometry=shapely.points(X0 + rng.uniform(0, 2000, 200), Y0 + rng.uniform(0, 2000, 200)),
        crs=UTM48,
    )
    for scheme in ("quantiles", "equal"):
        spec = MapSpec(
            layers=[
                PointLayer(data=points, name="p", fill=ColourBy(column="v", scheme=scheme, k=4))
            ]
        )
        root = parse(render_map(spec, map_id="m"))
        fills = [c.get("fill") for c in group(root, "m", 0).findall(f".//{SVG}circle")]
        counts = sorted(fills.count(c) for c in set(fills))
        assert len(counts) == 4
        if scheme == "quantiles":
            assert counts == [50, 50, 50, 50]


def test_categories_have_fixed_colours_and_labels() -> None:
    pts = gpd.GeoDataFrame(
        {"type": ["clinic", "elderly", "clinic", None]},
        geometry=shapely.points([X0, X0 + 100, X0 + 200, X0 + 300], [Y0] * 4),
        crs=UTM48,
    )
    spec = MapSpec(
        layers=[
            PointLayer(
                data=pts,
                name="设施",
                fill=ColourBy(
                    column="type",
                    categorical=True,
                    labels={"clinic": "卫生服务站", "elderly": "养老服务站"},
                ),
            )
        ]
    )
    root = parse(render_map(spec, map_id="m"))
    blue, orange = categorical_colours("okabe_ito", 2)
    fills = sorted(c.get("fill", "") for c in group(root, "m", 0).findall(f".//{SVG}circle"))
    assert fills == sorted([blue, orange, blue, NO_DATA])
    texts = ["".join(i.itertext()) for i in root.findall(f".//{SVG}g[@class='legend-item']")]
    assert texts == ["卫生服务站", "养老服务站", "无数据"]


def test_point_sizes_are_area_proportional() -> None:
    pts = gpd.GeoDataFrame(
        {"floor_area_m2": [100.0, 400.0, 1600.0]},
        geometry=shapely.points([X0, X0 + 500, X0 + 1000], [Y0] * 3),
        crs=UTM48,
    )
    spec = MapSpec(
        layers=[
            PointLayer(data=pts, name="p", size=SizeBy(column="floor_area_m2", max_radius_px=12))
        ]
    )
    root = parse(render_map(spec, map_id="m"))
    radii = sorted(float(c.get("r", 0)) for c in group(root, "m", 0).findall(f".//{SVG}circle"))
    assert radii == pytest.approx([3.0, 6.0, 12.0], abs=0.05)


@pytest.mark.parametrize("crs", [UTM48, "EPSG:4326", "EPSG:3857"])
def test_scale_bar_length_matches_the_map_scale(crs: str) -> None:
    square = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=UTM48)
    spec = MapSpec(
        layers=[PolygonLayer(data=square.to_crs(crs), name="sq")],
        width_px=600,
        legend=False,
    )
    root = parse(render_map(spec))
    bar = root.find(f".//{SVG}g[@class='scale-bar']")
    assert bar is not None
    # 1,000 m fill the map's inner width: 600 px less 2 x 18 px padding
    px_per_m = (600 - 36) / 1000
    length_m = float(bar.get("data-length-m", 0))
    assert length_m == 200  # the round length below a quarter of the width (141 px = 250 m)
    length_px = sum(float(r.get("width", 0)) for r in bar.findall(f"{SVG}rect")[1:])
    assert length_px == pytest.approx(length_m * px_per_m, rel=2e-3)
    assert float(bar.get("data-length-px", 0)) == pytest.approx(length_m * px_per_m, rel=2e-3)
    assert float(root.get("data-m-per-px", 0)) == pytest.approx(1 / px_per_m, rel=2e-3)
    assert "".join(bar.itertext()).endswith("200 m")


def test_scale_bar_in_kilometres_and_in_the_legend_panel() -> None:
    square = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 20_000, Y0 + 10_000)], crs=UTM48)
    svg = render_map(MapSpec(layers=[PolygonLayer(data=square, name="sq")], width_px=960))
    bar = parse(svg).find(f".//{SVG}g[@class='scale-bar']")
    assert bar is not None
    # at most 170 px in the 230 px panel: 4.9 km at 694 px for 20 km, rounded down to 2 km
    assert float(bar.get("data-length-m", 0)) == 2000
    assert "".join(bar.itertext()).endswith("2 km")
    assert float(bar[1].get("x", 0)) > 960 - 230  # beside the map, not on it


def test_north_arrow_points_to_true_north() -> None:
    # Yuzhong lies 1.57 degrees east of zone 48's central meridian (105 E): grid north there
    # is east of true north by about 1.57 * sin(29.55) = 0.78 degrees.
    pt = gpd.GeoDataFrame(geometry=shapely.points([106.57], [29.55]), crs=4326)
    root = parse(render_map(MapSpec(layers=[PointLayer(data=pt, name="p")]), lang="zh"))
    arrow = root.find(f".//{SVG}g[@class='north-arrow']")
    assert arrow is not None
    assert float(arrow.get("data-angle-deg", 0)) == pytest.approx(-0.775, abs=0.01)
    assert "".join(arrow.itertext()) == "北"
    root = parse(render_map(MapSpec(layers=[PointLayer(data=pt, name="p")]), lang="en"))
    assert "".join(root.find(f".//{SVG}g[@class='north-arrow']").itertext()) == "N"  # type: ignore[union-attr]


def test_labels_tooltips_and_escaping() -> None:
    zones = squares([0.3, 0.7])
    zones.loc[0, "name"] = "<b>七星岗</b> & 社区"
    spec = MapSpec(
        layers=[
            PolygonLayer(
                data=zones, name="z", tooltip={"name": "社区", "share": "覆盖率"}, label="name"
            ),
            LabelLayer(data=zones, column="name", name="标注"),
        ]
    )
    svg = render_map(spec, map_id="m")
    root = parse(svg)
    titles = [t.text for t in group(root, "m", 0).findall(f".//{SVG}path/{SVG}title")]
    assert titles == ["社区: <b>七星岗</b> & 社区\n覆盖率: 30%", "社区: 社区2\n覆盖率: 70%"]
    assert "<b>" not in svg  # escaped
    # the label layer repeats the polygon labels at the same places: overlaps are dropped
    assert len(group(root, "m", 0).findall(f".//{SVG}text")) == 2
    assert len(group(root, "m", 1).findall(f".//{SVG}text")) == 0


def test_lines_merge_into_one_path_unless_they_carry_tooltips() -> None:
    lines = gpd.GeoDataFrame(
        {"name": ["解放碑步行街", "较场口"]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 800, Y0 + 300)]),
            shapely.LineString([(X0, Y0 + 500), (X0 + 900, Y0 + 100)]),
        ],
        crs=UTM48,
    )
    merged = parse(render_map(MapSpec(layers=[LineLayer(data=lines, name="l")]), map_id="m"))
    paths = group(merged, "m", 0).findall(f"{SVG}path")
    assert len(paths) == 1
    assert paths[0].get("d", "").count("M") == 2
    assert paths[0].get("fill") == "none"
    split = parse(
        render_map(MapSpec(layers=[LineLayer(data=lines, name="l", tooltip="name")]), map_id="m")
    )
    assert len(group(split, "m", 0).findall(f".//{SVG}path[@class='feature']")) == 2


def test_errors_name_the_layer_and_what_to_do() -> None:
    zones = squares([0.3])
    no_crs = zones.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match=r"map layer 'z'.*set_crs"):
        render_map(MapSpec(layers=[PolygonLayer(data=no_crs, name="z")]))
    with pytest.raises(InputError, match=r"column 'deficit_m2'.*columns share, name, geometry"):
        render_map(
            MapSpec(layers=[PolygonLayer(data=zones, name="z", fill=ColourBy(column="deficit_m2"))])
        )
    with pytest.raises(InputError, match=r"numbers .*categorical=True"):
        render_map(
            MapSpec(layers=[PolygonLayer(data=zones, name="z", fill=ColourBy(column="name"))])
        )
    with pytest.raises(InputError, match="strictly increasing"):
        render_map(
            MapSpec(
                layers=[
                    PolygonLayer(
                        data=zones, name="z", fill=ColourBy(column="share", breaks=[0.5, 0.2])
                    )
                ]
            )
        )
    with pytest.raises(InputError, match="only empty layers"):
        render_map(MapSpec(layers=[PolygonLayer(data=zones.iloc[:0], name="z")]))


def test_yuzhong_map_stays_small() -> None:
    buildings, edges, boundary = yuzhong()
    assert len(buildings) > 2000
    assert len(edges) > 5000
    layers = [
        PolygonLayer(data=boundary, name="渝中区", fill="#f1efe9", stroke="#777"),
        LineLayer(data=edges, name="步行网络"),
        PolygonLayer(data=buildings, name="建筑", stroke=None, tooltip="building"),
    ]
    svg = render_map(MapSpec(layers=layers, extent=boundary))
    full = render_map(MapSpec(layers=layers, extent=boundary, simplify_px=0))
    size_mb = len(svg.encode()) / 1e6
    assert size_mb < 2.0
    assert len(svg) < len(full)  # simplification drops vertices
    root = parse(svg)
    # one path per building, bar footprints smaller than a tenth of a pixel (1 here)
    drawn = len(group(root, "map", 2).findall(f"{SVG}g/{SVG}path"))
    assert len(buildings) - 3 <= drawn <= len(buildings)
    # and at twice the width (finer tolerance, more vertices) it still fits
    wide = render_map(MapSpec(layers=layers, extent=boundary, width_px=1920))
    assert len(wide.encode()) / 1e6 < 2.0
    assert re.search(r'd="M[\d.]+ [\d.]+L', svg)
