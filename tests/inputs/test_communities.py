"""Reading communities: layers, tables with coordinates, tables joined to boundaries; bad input.

Community, street and district names are real (National Bureau of Statistics 2023 codes, from
../shared/data); every household and population number and every boundary here is made up.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from conftest import require_shared
from linli._errors import CRSError, InputError
from linli.inputs.communities import community_key, read_communities
from linli.inputs.crs import gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02

COMMUNITIES_NBS = "chongqing/admin/chongqing_main_urban_communities_villages_nbs2023.csv"
SQUARE_DEG = 0.004
"""Side of the made-up square 'boundaries', degrees (~400 m)."""


def nbs_communities() -> pd.DataFrame:
    """All main-urban communities and villages: code, name, street, district (real names)."""
    return pd.read_csv(require_shared(COMMUNITIES_NBS), dtype=str)


def yuzhong(seed: int = 2019) -> pd.DataFrame:
    """The 80 Yuzhong communities with MADE-UP households and population, and made-up points.

    Names as people write them in tables: "华一坡社区" for "华一坡社区居民委员会".
    """
    nbs = nbs_communities()
    nbs = nbs[nbs["district_name"] == "渝中区"].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    households = rng.integers(800, 6000, size=len(nbs))
    lon, lat = _grid(len(nbs))
    return pd.DataFrame(
        {
            "社区名称": nbs["community_name"].str.removesuffix("居民委员会"),
            "街道": nbs["street_name"],
            "区县": nbs["district_name"],
            "总户数": households,
            "常住人口": np.round(households * 2.45).astype(int),
            "lon": lon + SQUARE_DEG / 2,
            "lat": lat + SQUARE_DEG / 2,
        }
    )


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(n)
    return 106.53 + (i % 10) * SQUARE_DEG, 29.53 + (i // 10) * SQUARE_DEG


def boundaries(names: pd.DataFrame) -> gpd.GeoDataFrame:
    """MADE-UP square boundaries on a grid, named with the full NBS names (…居民委员会)."""
    lon, lat = _grid(len(names))
    return gpd.GeoDataFrame(
        {
            "社区": names["community_name"].to_numpy(),
            "街道名称": names["street_name"].to_numpy(),
            "行政区": names["district_name"].to_numpy(),
        },
        geometry=shapely.box(lon, lat, lon + SQUARE_DEG, lat + SQUARE_DEG),
        crs="EPSG:4326",
    )


def yuzhong_boundaries() -> gpd.GeoDataFrame:
    nbs = nbs_communities()
    return boundaries(nbs[nbs["district_name"] == "渝中区"].reset_index(drop=True))


def write_xlsx(frame: pd.DataFrame, path: Path, *, title: str | None = None) -> Path:
    """Write like a planning office does: a merged title row above the header."""
    book = openpyxl.Workbook()
    sheet = book.active
    if title is not None:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=frame.shape[1])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([v.item() if isinstance(v, np.generic) else v for v in row])
    book.save(path)
    return path


# --------------------------------------------------------------------------------------------
# Good input
# --------------------------------------------------------------------------------------------


def test_yuzhong_xlsx_joined_by_name_to_boundaries(tmp_path: Path) -> None:
    table = yuzhong().drop(columns=["lon", "lat"])
    path = write_xlsx(table, tmp_path / "渝中区社区.xlsx", title="渝中区社区户数（虚构数据）")
    gpkg = tmp_path / "boundaries.gpkg"
    yuzhong_boundaries().to_file(gpkg)

    out = read_communities(path, boundaries=gpkg)

    assert len(out) == 80
    assert out.crs.to_epsg() == 4326
    assert out.columns[:6].tolist() == [
        "name", "street", "district", "households", "population", "geometry_kind"
    ]  # fmt: skip
    assert out.index.name == "row"
    assert out.index.tolist() == list(range(3, 83))  # title row 1, header row 2
    assert out["households"].tolist() == table["总户数"].astype(float).tolist()
    assert (out["geometry_kind"] == "polygon").all()
    assert out.attrs["warnings"] == []
    # Every row got the square named after it (华一坡社区 → 华一坡社区居民委员会); table and
    # squares are in the same order.
    squares = yuzhong_boundaries()
    for k, (got, name) in enumerate(zip(out.geometry, out["name"], strict=True)):
        assert got.equals(squares.geometry.iloc[k]), (name, squares["社区"].iloc[k])


def test_csv_points_in_gcj02_are_converted(tmp_path: Path) -> None:
    table = yuzhong()
    wgs_lon, wgs_lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    table["经度"], table["纬度"] = wgs84_to_gcj02(wgs_lon, wgs_lat)
    path = tmp_path / "points.csv"
    table.drop(columns=["lon", "lat"]).to_csv(path, index=False, encoding="gbk")

    out = read_communities(path, crs="GCJ02")

    expect_lon, expect_lat = gcj02_to_wgs84(table["经度"], table["纬度"])
    np.testing.assert_allclose(out.geometry.x, expect_lon, atol=1e-12)
    np.testing.assert_allclose(out.geometry.y, expect_lat, atol=1e-12)
    np.testing.assert_allclose(out.geometry.x, wgs_lon, atol=1e-9)  # round trip
    assert (out["geometry_kind"] == "point").all()
    assert out["street"].iloc[0] == "七星岗街道"


def test_csv_points_in_bd09_are_converted(tmp_path: Path) -> None:
    table = yuzhong().head(5)
    table["lon"], table["lat"] = wgs84_to_bd09(table["lon"], table["lat"])
    path = tmp_path / "baidu.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    out = read_communities(path, crs="baidu")
    np.testing.assert_allclose(out.geometry.x, yuzhong().head(5)["lon"], atol=1e-9)


def test_layer_formats_and_crs_override(tmp_path: Path) -> None:
    squares = yuzhong_boundaries().head(6)
    squares["户数"] = [1200, 1300, 1400, 1500, 1600, 1700]  # made up
    # GCJ-02 data that the file calls EPSG:4326, as web-map exports do.
    gcj = squares.copy()
    gcj.geometry = shapely.transform(
        squares.geometry.to_numpy(), lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    )
    gcj = gcj[["社区", "户数", "geometry"]]  # Shapefile field names: 10 bytes at most
    for name in ("c.gpkg", "c.geojson", "c.shp"):
        path = tmp_path / name
        gcj.to_file(path)
        out = read_communities(path, crs="GCJ02")
        assert out.index.name == "feature"
        assert out.index.tolist() == [1, 2, 3, 4, 5, 6]
        assert out["households"].tolist() == [1200.0, 1300.0, 1400.0, 1500.0, 1600.0, 1700.0]
        for got, want in zip(out.geometry, squares.geometry, strict=True):
            assert shapely.equals_exact(got.normalize(), want.normalize(), tolerance=1e-9)
    # Without crs= the file's own CRS holds: the GCJ-02 offset (~500 m) stays.
    as_is = read_communities(tmp_path / "c.gpkg")
    assert as_is.geometry.iloc[0].equals(gcj.geometry.iloc[0])


def test_projected_layer_points(tmp_path: Path) -> None:
    table = yuzhong().head(3)
    points = gpd.GeoDataFrame(
        {"name": table["社区名称"], "population": [5000, 6000, 7000]},
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    ).to_crs("EPSG:32648")
    path = tmp_path / "utm.geojson"
    points.to_file(path)
    out = read_communities(path)
    np.testing.assert_allclose(out.geometry.x, table["lon"], atol=1e-9)
    assert (out["geometry_kind"] == "point").all()
    assert out["households"].isna().all()


def test_same_name_in_two_districts_is_told_apart_by_district(tmp_path: Path) -> None:
    nbs = nbs_communities()
    twice = nbs[nbs["community_name"] == "光明社区居民委员会"]
    assert twice["district_name"].nunique() >= 2
    squares = boundaries(twice.reset_index(drop=True))
    gpkg = tmp_path / "b.gpkg"
    squares.to_file(gpkg)
    table = pd.DataFrame(
        {
            "社区": "光明社区",
            "街道": twice["street_name"].to_numpy()[::-1],
            "区": twice["district_name"].to_numpy()[::-1],
            "户数": np.arange(len(twice)) + 1000,
        }
    )
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    out = read_communities(path, boundaries=gpkg)
    for label in out.index:
        district = out.at[label, "district"]
        assert out.geometry[label].equals(squares.geometry[squares["行政区"] == district].iloc[0])


def test_boundaries_without_a_table_row_are_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = yuzhong().drop(columns=["lon", "lat"]).head(78)
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    with caplog.at_level(logging.WARNING):
        out = read_communities(path, boundaries=yuzhong_boundaries())
    assert len(out) == 78
    assert "2 of 80 boundaries have no row in" in out.attrs["warnings"][0]
    assert "2 of 80 boundaries have no row" in caplog.text


def test_invalid_polygon_is_repaired_with_a_warning(tmp_path: Path) -> None:
    bow_tie = shapely.Polygon([(106.50, 29.50), (106.51, 29.51), (106.51, 29.50), (106.50, 29.51)])
    layer = gpd.GeoDataFrame(
        {"name": ["甲社区", "乙社区"], "households": [1, 2]},
        geometry=[shapely.box(106.52, 29.50, 106.53, 29.51), bow_tie],
        crs="EPSG:4326",
    )
    path = tmp_path / "bow.gpkg"
    layer.to_file(path)
    out = read_communities(path)
    assert out.geometry[2].is_valid
    assert out.geometry[2].geom_type == "MultiPolygon"
    assert re.search(
        r"bow\.gpkg, feature 2: invalid geometry \(Self-intersection", out.attrs["warnings"][0]
    )


def test_require_counts_false_and_name_column(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("居民委员会名称,经度,纬度\n华一坡社区,106.57,29.55\n", encoding="utf-8")
    out = read_communities(path, crs="WGS84", name_column="居民委员会名称", require_counts=False)
    assert out.loc[2, "name"] == "华一坡社区"
    assert pd.isna(out.loc[2, "households"])


def test_community_key() -> None:
    assert community_key("华一坡社区居民委员会") == community_key("华一坡") == "华一坡"
    assert community_key("石桥村村民委员会") == "石桥村"
    assert community_key("社区") == "社区"


# --------------------------------------------------------------------------------------------
# Bad input: one error naming file, row, field, expected and found; nothing returned
# --------------------------------------------------------------------------------------------


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("名字,备注\n华一坡社区,x\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_communities(path, crs="WGS84")
    message = str(info.value)
    assert re.search(r"cols\.csv, header row 1: expected a column of community names.*found "
                     r"columns '名字', '备注'", message)  # fmt: skip
    assert "expected a households column" in message
    assert "expected longitude and latitude columns" in message
    assert len(info.value.problems) == 3


def test_bad_households_are_reported_with_excel_rows(tmp_path: Path) -> None:
    table = yuzhong().drop(columns=["lon", "lat"]).head(6).astype(object)
    table.loc[1, "总户数"] = -120
    table.loc[3, "总户数"] = "约1200"
    table.loc[4, "常住人口"] = "n/a"
    path = write_xlsx(table, tmp_path / "户数.xlsx", title="渝中区社区户数（虚构数据）")
    with pytest.raises(InputError, match=r"户数\.xlsx: cannot read the communities") as info:
        read_communities(path, boundaries=yuzhong_boundaries())
    message = str(info.value)
    # Title on row 1, header on row 2: the second community is on Excel row 4.
    assert "户数.xlsx, row 4, field '总户数' (households): expected a number of " in message
    assert "found -120" in message
    assert "row 6, field '总户数' (households): expected a number of households ≥ 0; " \
        "found '约1200'" in message  # fmt: skip
    assert "row 7, field '常住人口' (population): expected a population ≥ 0; found 'n/a'" in message
    assert len(info.value.problems) == 3


def test_duplicate_names_within_a_street(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "社区,街道,户数,经度,纬度\n"
        "华一坡社区,七星岗街道,100,106.57,29.55\n"
        "华一坡,七星岗街道,200,106.57,29.55\n"  # the same community, written shorter
        "华一坡社区,解放碑街道,300,106.57,29.55\n",  # another street: fine
        encoding="utf-8",
    )
    with pytest.raises(
        InputError,
        match=r"dup\.csv, rows 2, 3, field '社区' \(name\): expected each community once per "
        r"street.*found 2 rows for '华一坡社区' and '华一坡' in street '七星岗街道'",
    ):
        read_communities(path, crs="WGS84")


def test_blank_name(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("社区,户数,经度,纬度\n,100,106.57,29.55\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blank\.csv, row 2, field '社区' \(name\): expected a "
                       r"community name; found an empty cell"):  # fmt: skip
        read_communities(path, crs="WGS84")


def test_table_coordinates_need_a_crs(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.csv"
    yuzhong().head(2).to_csv(path, index=False)
    with pytest.raises(CRSError, match=r"nocrs\.csv: expected a declared coordinate system: "
                       r"crs='GCJ02' for Amap.*found no crs="):  # fmt: skip
        read_communities(path)


def test_gcj02_outside_china_is_refused(tmp_path: Path) -> None:
    table = yuzhong().head(4)
    table.loc[2, "lon"] = 24.94  # Helsinki: cannot be GCJ-02
    table.loc[2, "lat"] = 60.17
    table.loc[3, "lon"] = None
    path = tmp_path / "gcj.csv"
    table.to_csv(path, index=False)
    with pytest.raises(CRSError) as info:
        read_communities(path, crs="GCJ02")
    message = str(info.value)
    assert re.search(r"gcj\.csv, row 4: expected GCJ-02 coordinates inside China .*found "
                     r"\(lon, lat\) = \(24\.94, 60\.17\)", message)  # fmt: skip
    assert (
        "gcj.csv, row 5, field 'lon': expected a coordinate (number); found an empty cell"
        in message
    )


def test_degrees_beyond_the_globe_are_refused(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"name": ["甲"], "households": [1]},
        geometry=[shapely.Point(651000.0, 3270000.0)],  # UTM metres declared as degrees
        crs="EPSG:4326",
    )
    path = tmp_path / "metres.geojson"
    layer.to_file(path)
    expected = (
        r"metres\.geojson, feature 1: expected longitude within ±180.*EPSG:32648.*"
        r"found \(lon, lat\) = \(651000, 3\.27e\+06\)"
    )
    with pytest.raises(CRSError, match=expected):
        read_communities(path)


def test_empty_and_wrong_geometries(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "households": [1, 2, 3, 4]},
        geometry=[
            shapely.Point(106.57, 29.55),
            shapely.Polygon(),
            None,
            shapely.LineString([(106.5, 29.5), (106.6, 29.6)]),
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "geoms.gpkg"
    layer.to_file(path)
    with pytest.raises(InputError) as info:
        read_communities(path)
    message = str(info.value)
    assert "geoms.gpkg, feature 2: expected a point or polygon geometry; found " in message
    assert "feature 3: expected a point or polygon geometry; found no geometry" in message
    assert "feature 4: expected a point or polygon geometry; found LineString" in message


def test_unmatched_names_list_the_closest_boundaries(tmp_path: Path) -> None:
    table = yuzhong().drop(columns=["lon", "lat"]).head(5)
    table.loc[1, "社区名称"] = "临华街社区"  # a typo of 临华路社区
    table.loc[3, "社区名称"] = "不存在社区"
    path = tmp_path / "names.csv"
    table.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(InputError) as info:
        read_communities(path, boundaries=yuzhong_boundaries())
    message = str(info.value)
    assert re.search(r"names\.csv, row 3, field '社区名称' \(name\): expected a community name "
                     r"found in boundaries; found '临华街社区', which matches no boundary; closest "
                     r"boundary names: '临华路社区居民委员会'", message)  # fmt: skip
    assert "row 5, field '社区名称' (name)" in message
    assert len(info.value.problems) == 2


def test_street_that_contradicts_the_boundaries(tmp_path: Path) -> None:
    table = yuzhong().drop(columns=["lon", "lat"]).head(2)
    table.loc[0, "街道"] = "解放碑街道"
    path = tmp_path / "street.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"street\.csv, row 2, .*found '华一坡社区' in district "
                       r"'渝中区', street '解放碑街道', but the boundaries have it in district "
                       r"'渝中区', street '七星岗街道'"):  # fmt: skip
        read_communities(path, boundaries=yuzhong_boundaries())


def test_ambiguous_name_without_street(tmp_path: Path) -> None:
    nbs = nbs_communities()
    twice = nbs[nbs["community_name"] == "光明社区居民委员会"].reset_index(drop=True)
    path = tmp_path / "amb.csv"
    path.write_text("社区,户数\n光明社区,100\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"amb\.csv, row 2, .*found '光明社区', which matches "
                       rf"{len(twice)} boundaries: feature 1 in district"):  # fmt: skip
        read_communities(path, boundaries=boundaries(twice))


def test_boundaries_need_names_and_a_crs(tmp_path: Path) -> None:
    squares = yuzhong_boundaries().head(2).rename(columns={"社区": "编号"})
    squares = squares.set_crs(None, allow_override=True)
    path = tmp_path / "t.csv"
    yuzhong().head(2).to_csv(path, index=False)
    with pytest.raises(CRSError) as info:
        read_communities(path, boundaries=squares)
    message = str(info.value)
    assert "boundaries, attribute table: expected a column of community names" in message
    assert "boundaries: expected a declared coordinate system" in message
