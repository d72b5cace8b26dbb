"""Places a plan reads (homes, candidate parcels, existing centres) from layers or tables."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from linli._errors import InputError
from linli.inputs.crs import gcj02_to_wgs84
from linli.inputs.places import read_places

POPULATION = {"population": "residents, a number ≥ 0"}


def test_a_layer_in_amap_coordinates_that_calls_itself_wgs84_is_moved_by_crs(tmp_path):
    # Parcels drawn on an Amap basemap: GCJ-02 numbers, saved as EPSG:4326.
    parcel = shapely.box(106.570, 29.555, 106.572, 29.557)
    path = tmp_path / "地块.gpkg"
    gpd.GeoDataFrame({"名称": ["A"]}, geometry=[parcel], crs="EPSG:4326").to_file(path)
    as_is = read_places(path, what="candidate sites")
    moved = read_places(path, what="candidate sites", crs="GCJ02")
    assert as_is.geometry.iloc[0].equals(parcel)
    x, y = gcj02_to_wgs84(106.570, 29.555)
    corner = shapely.get_coordinates(moved.geometry.iloc[0]).min(axis=0)
    assert corner == pytest.approx([float(x), float(y)], abs=1e-6)
    assert moved.index.name == "feature"
    assert moved.index.tolist() == [1]


def test_a_missing_required_column_names_the_columns_found(tmp_path):
    path = tmp_path / "homes.csv"
    path.write_text("名称,户数,经度,纬度\nA,100,106.5,29.5\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_places(path, what="demand points", crs="WGS84", required=POPULATION)
    message = str(caught.value)
    assert "header row 1: expected a 'population' column: residents" in message
    assert "'户数'" in message


def test_an_empty_table_and_a_table_without_coordinates_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("人口,经度,纬度\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected at least one row of demand points"):
        read_places(empty, what="demand points", crs="WGS84", required=POPULATION)
    flat = tmp_path / "flat.xlsx"
    pd.DataFrame({"人口": [10], "地址": ["解放碑"]}).to_excel(flat, index=False)
    with pytest.raises(InputError, match=r"expected longitude and latitude columns"):
        read_places(flat, what="demand points", crs="WGS84", required=POPULATION)
