"""Reading existing facilities: types matched to the standard, floors, lift, basement; bad input.

All facilities here are made up (hypothetical sites near Yuzhong, Chongqing).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from linli._errors import CRSError, InputError
from linli.inputs.crs import gcj02_to_wgs84
from linli.inputs.facilities import parse_floor, parse_yes_no, read_facilities
from linli.standards import load_profile

PROFILE = load_profile("chongqing-2019")

# Made-up facilities. Types as people write them: the standard's name, an id, an alias.
FACILITIES_CSV = (
    "名称,设施类型,建筑面积（㎡）,所在楼层,有无电梯,是否地下,经度,纬度\n"
    "华一坡社区卫生服务站,卫生服务站,320,1,无,,106.5737,29.5571\n"
    '七星岗街道便民服务中心,便民服务中心,"1,250",2-3,有,,106.5700,29.5560\n'
    "临华路日间照料中心,day_care_centre,450,B1,无,是,106.5690,29.5540\n"
    "七星岗派出所,派出所,２１００,负一层,,,106.5720,29.5580\n"
    "解放碑社区卫生站,卫生站,280,三层,yes,否,106.5800,29.5590\n"
)


def _csv(tmp_path: Path, text: str = FACILITIES_CSV, *, name: str = "设施.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("gbk"))
    return path


def test_table_in_gcj02(tmp_path: Path) -> None:
    out = read_facilities(_csv(tmp_path), profile=PROFILE, crs="GCJ02")
    assert out.columns.tolist() == [
        "facility_id", "facility_name", "tier", "floor_area_m2", "floor", "lift", "basement",
        "source", "name", "geometry",
    ]  # fmt: skip
    assert out.index.tolist() == [2, 3, 4, 5, 6]
    assert out["facility_id"].tolist() == [
        "health_station", "convenience_service_centre", "day_care_centre", "police_station",
        "health_station",
    ]  # fmt: skip
    assert out["facility_name"].tolist() == ["卫生服务站", "便民服务中心", "日间照料中心", "派出所",
                                             "卫生服务站"]  # fmt: skip
    assert out["tier"].tolist() == ["community_home"] * 3 + ["street_centre", "community_home"]
    assert out["floor_area_m2"].tolist() == [320.0, 1250.0, 450.0, 2100.0, 280.0]
    assert out["floor"].tolist() == [1, 2, -1, -1, 3]
    assert str(out["floor"].dtype) == "Int64"
    assert out["lift"].tolist() == [False, True, False, pd.NA, True]
    assert str(out["lift"].dtype) == "boolean"
    # Given, given, from the floor (负一层), given.
    assert out["basement"].tolist() == [False, False, True, True, False]
    assert out["basement"].dtype == bool
    assert (out["source"] == "user").all()
    assert out.crs.to_epsg() == 4326
    lon, lat = gcj02_to_wgs84([106.5737], [29.5571])
    assert out.geometry[2].x == pytest.approx(lon[0], abs=1e-12)
    assert out.geometry[2].y == pytest.approx(lat[0], abs=1e-12)


def test_profile_by_name_and_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["渝中区现有设施（虚构示例）"])
    sheet.merge_cells("A1:D1")
    sheet.append(["类型", "面积", "lng", "lat"])
    sheet.append(["警务室", 60, 106.57, 29.55])
    sheet.append(["Vegetable Shop", "1,000", 106.58, 29.56])
    path = tmp_path / "设施.xlsx"
    book.save(path)
    out = read_facilities(path, profile="chongqing-2019", crs="WGS84")
    assert out["facility_id"].tolist() == ["police_office", "vegetable_shop"]
    assert out.index.tolist() == [3, 4]
    assert out["floor"].isna().all()
    assert out["lift"].isna().all()
    assert not out["basement"].any()


def test_polygon_layer(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"type": ["sports_court", "社区文化活动室"], "floor_area_m2": [800.0, 300.0],
         "floor": ["1", "4楼"], "lift": ["0", "1"]},
        geometry=[shapely.box(106.57, 29.55, 106.571, 29.551), shapely.Point(106.58, 29.56)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32648")  # fmt: skip
    path = tmp_path / "facilities.gpkg"
    layer.to_file(path)
    out = read_facilities(path, profile=PROFILE)
    assert out.index.tolist() == [1, 2]
    assert out.geometry[1].geom_type == "Polygon"
    assert out.geometry[2].x == pytest.approx(106.58, abs=1e-9)
    assert out["floor"].tolist() == [1, 4]
    assert out["lift"].tolist() == [False, True]


@pytest.mark.parametrize(
    ("cell", "floor"),
    [(3, 3), (3.0, 3), ("3", 3), ("3层", 3), ("3楼", 3), ("3F", 3), ("f3", 3), ("三层", 3),
     ("十二层", 12), ("二十一楼", 21), ("首层", 1), ("底层", 1), ("B1", -1), ("b2", -2),
     ("-1", -1), ("-1层", -1), ("负一层", -1), ("负1层", -1), ("地下一层", -1), ("地下室", -1),
     ("半地下", -1), ("1-3", 1), ("1~3层", 1), ("1至3层", 1), ("2、3层", 2), ("B1-2", -1),
     ("-2--1", -2), ("地下一层至三层", -1), ("１－３", 1), (" 3 层 ", 3), ("", None), (None, None),
     (float("nan"), None), (0, 0)],
)  # fmt: skip
def test_parse_floor(cell: object, floor: int | None) -> None:
    assert parse_floor(cell) == floor


@pytest.mark.parametrize("cell", ["高层", "3.5", 2.5, "a-b", "1-", True, "顶层"])
def test_parse_floor_refuses(cell: object) -> None:
    with pytest.raises(ValueError, match="floor"):
        parse_floor(cell)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("是", True), ("否", False), ("有", True), ("无", False), ("没有", False), ("YES", True),
     ("no", False), ("1", True), ("0", False), (1, True), (0.0, False), ("true", True),
     ("False", False), ("√", True), ("×", False), (True, True), ("", None), (None, None)],
)  # fmt: skip
def test_parse_yes_no(cell: object, value: bool | None) -> None:
    assert parse_yes_no(cell) is value


@pytest.mark.parametrize("cell", ["也许", 2, "有时"])
def test_parse_yes_no_refuses(cell: object) -> None:
    with pytest.raises(ValueError, match="yes or no"):
        parse_yes_no(cell)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_unknown_types_list_each_row_with_the_closest_names(tmp_path: Path) -> None:
    text = FACILITIES_CSV.replace(",卫生服务站,", ",卫生服务点,").replace(",派出所,", ",网吧,")
    path = _csv(tmp_path, text, name="types.csv")
    with pytest.raises(InputError, match=r"types\.csv: cannot read the facilities") as info:
        read_facilities(path, profile=PROFILE, crs="GCJ02")
    message = str(info.value)
    assert re.search(
        r"types\.csv, row 2, field '设施类型' \(type\): expected a facility type of the "
        r"standard chongqing-2019 .*; found '卫生服务点'; closest: 卫生服务站 \(health_station\)",
        message,
    )
    assert re.search(r"row 5, field '设施类型' \(type\): .*found '网吧'; ", message)
    assert len(info.value.problems) == 2


def test_bad_areas_floors_and_flags(tmp_path: Path) -> None:
    text = (
        FACILITIES_CSV.replace(",320,1,无,", ",-320,1,无,")
        .replace(',"1,250",2-3,有,', ",约1250,2-3,偶尔,")
        .replace(",450,B1,无,是,", ",,高层,无,否,")
        .replace(",２１００,负一层,,,", ",２１００,负一层,,否,")
    )
    path = _csv(tmp_path, text, name="bad.csv")
    with pytest.raises(InputError) as info:
        read_facilities(path, profile=PROFILE, crs="GCJ02")
    message = str(info.value)
    area = "field '建筑面积（㎡）' (floor_area_m2): expected a floor area in m² ≥ 0"
    assert f"bad.csv, row 2, {area}; found '-320'" in message
    assert f"bad.csv, row 3, {area}; found '约1250'" in message
    assert f"bad.csv, row 4, {area}; found an empty cell" in message
    assert (
        "row 3, field '有无电梯' (lift): expected yes or no (是/否, 有/无); found '偶尔'" in message
    )
    assert "row 4, field '所在楼层' (floor): expected a floor such as 3" in message
    assert "found '高层'" in message
    assert re.search(r"row 5, field '是否地下' \(basement\): expected agreement with field "
                     r"'所在楼层' \(floor\) '负一层'; found '否'", message)  # fmt: skip
    assert len(info.value.problems) == 6


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("名称,楼层\n甲,1\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_facilities(path, profile=PROFILE, crs="WGS84")
    message = str(info.value)
    assert "cols.csv, header row 1: expected a facility type column" in message
    assert "expected a floor area column in m²" in message
    assert "expected a longitude column" in message
    assert "found columns '名称', '楼层'" in message


def test_bd09_outside_china(tmp_path: Path) -> None:
    text = FACILITIES_CSV.replace("106.5690,29.5540", "-73.98,40.75")  # New York
    with pytest.raises(CRSError, match=r"row 4: expected BD-09 coordinates inside China"):
        read_facilities(_csv(tmp_path, text), profile=PROFILE, crs="BD09")


def test_table_needs_crs(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match=r"设施\.csv: expected a declared coordinate system"):
        read_facilities(_csv(tmp_path), profile=PROFILE)


def test_layer_point_types(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"type": ["菜店"], "floor_area_m2": [100.0]},
        geometry=[shapely.LineString([(106.57, 29.55), (106.58, 29.55)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "line.geojson"
    layer.to_file(path)
    with pytest.raises(InputError, match=r"line\.geojson, feature 1: expected a point or polygon "
                       r"geometry; found LineString"):  # fmt: skip
        read_facilities(path, profile=PROFILE)


def test_floor_area_is_float_m2(tmp_path: Path) -> None:
    out = read_facilities(_csv(tmp_path), profile=PROFILE, crs="GCJ02")
    assert out["floor_area_m2"].dtype == np.float64
