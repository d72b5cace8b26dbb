"""Tests of linli.inputs.crs: Chinese web-map coordinate systems and declared CRSs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_shared
from linli._errors import CRSError, InputError
from linli.inputs.crs import (
    CHINA_LAT_MAX,
    CHINA_LAT_MIN,
    CHINA_LON_MAX,
    CHINA_LON_MIN,
    OffsetCRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    local_metric_crs,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")
UTM48N = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)

# Away from the edges of the box, where a point and its GCJ-02 image may straddle the edge.
lons_in_china = st.floats(CHINA_LON_MIN + 0.05, CHINA_LON_MAX - 0.05)
lats_in_china = st.floats(CHINA_LAT_MIN + 0.05, CHINA_LAT_MAX - 0.05)

# A round trip is exact to about 1e-12 degree (1e-7 m); 1e-11 degree is about 1e-6 m.
ROUND_TRIP_TOL_DEG = 1e-11


def _distance_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Plain conversions
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(lon=lons_in_china, lat=lats_in_china)
def test_wgs84_gcj02_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(float(back_lon) - lon) < ROUND_TRIP_TOL_DEG
    assert abs(float(back_lat) - lat) < ROUND_TRIP_TOL_DEG


@settings(max_examples=300, deadline=None)
@given(lon=lons_in_china, lat=lats_in_china)
def test_wgs84_bd09_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert abs(float(back_lon) - lon) < ROUND_TRIP_TOL_DEG
    assert abs(float(back_lat) - lat) < ROUND_TRIP_TOL_DEG


@settings(max_examples=300, deadline=None)
@given(lon=lons_in_china, lat=lats_in_china)
def test_gcj02_bd09_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert abs(float(back_lon) - lon) < ROUND_TRIP_TOL_DEG
    assert abs(float(back_lat) - lat) < ROUND_TRIP_TOL_DEG


def test_round_trips_vectorised_and_shape_preserving() -> None:
    rng = np.random.default_rng(42)
    lon = rng.uniform(CHINA_LON_MIN + 0.05, CHINA_LON_MAX - 0.05, size=(200, 50))
    lat = rng.uniform(CHINA_LAT_MIN + 0.05, CHINA_LAT_MAX - 0.05, size=(200, 50))
    for forward, inverse in [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (wgs84_to_bd09, bd09_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
    ]:
        out_lon, out_lat = forward(lon, lat)
        assert out_lon.shape == lon.shape
        assert out_lon.dtype == np.float64
        back_lon, back_lat = inverse(out_lon, out_lat)
        assert np.abs(back_lon - lon).max() < ROUND_TRIP_TOL_DEG
        assert np.abs(back_lat - lat).max() < ROUND_TRIP_TOL_DEG


def test_round_trip_near_lon_105() -> None:
    # The formula has a sqrt(|lon - 105|) term, whose slope is unbounded at lon 105.
    rng = np.random.default_rng(7)
    lon = 105.0 + rng.normal(0.0, 1e-9, size=1000)
    lon[0] = 105.0
    lat = rng.uniform(20.0, 40.0, size=1000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.abs(back_lon - lon).max() < ROUND_TRIP_TOL_DEG
    assert np.abs(back_lat - lat).max() < ROUND_TRIP_TOL_DEG


def test_reference_values_from_another_implementation() -> None:
    # Values from the test suite of gcoord (github.com/hujiulong/gcoord), given to 8 decimals.
    lon, lat = wgs84_to_gcj02(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx((123.00607541, 45.00197815), abs=2e-8)
    lon, lat = gcj02_to_bd09(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx((123.00636499, 45.00636899), abs=2e-8)
    lon, lat = wgs84_to_bd09(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx((123.0124491, 45.0083293), abs=2e-7)
    # gcoord's inverse stops earlier than ours; it agrees to its stated 5 decimals.
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx((122.99395597, 44.99804071), abs=1e-6)


def test_chongqing_offset_magnitude() -> None:
    # Web maps of Chongqing are shifted by roughly 300-600 m; 480 m at the Jiefangbei area.
    lon, lat = 106.57, 29.55
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    offset_m = float(_distance_m(lon, lat, g_lon, g_lat))
    assert 300.0 < offset_m < 600.0
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    assert float(_distance_m(g_lon, g_lat, b_lon, b_lat)) > 500.0


def test_outside_china_unchanged_by_plain_conversions() -> None:
    lon = np.array([2.35, -74.0, 139.7, 106.57])
    lat = np.array([48.85, 40.7, 35.7, 29.55])
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon[:3], lon[:3])
        np.testing.assert_array_equal(out_lat[:3], lat[:3])
        assert out_lon[3] != lon[3]


def test_non_finite_points_are_returned_unchanged() -> None:
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        lon, lat = convert([np.nan, 106.57, 106.57], [29.55, np.inf, 29.55])
        assert np.isnan(lon[0])
        assert lat[0] == 29.55
        assert lon[1] == 106.57
        assert np.isinf(lat[1])
        assert lon[2] != 106.57
    for convert in (gcj02_to_bd09, bd09_to_gcj02):
        lon, lat = convert([np.nan, 106.57, 106.57], [29.55, np.inf, 29.55])
        assert not np.isfinite(lon[:2]).any()
        assert np.isfinite(lon[2])


# ---------------------------------------------------------------------------------------------
# Against the shared converted district file
# ---------------------------------------------------------------------------------------------


def _yuzhong_vertices(path: Path) -> npt.NDArray[np.float64]:
    collection = json.loads(path.read_text(encoding="utf-8"))
    (feature,) = [f for f in collection["features"] if f["properties"]["name"] == "渝中区"]
    geometry = feature["geometry"]
    assert geometry["type"] == "MultiPolygon"
    return np.array(
        [point for polygon in geometry["coordinates"] for ring in polygon for point in ring],
        dtype=np.float64,
    )


def test_yuzhong_matches_converted_file() -> None:
    gcj = _yuzhong_vertices(
        require_shared("chongqing/admin/chongqing_districts_amap_gcj02.geojson")
    )
    converted = _yuzhong_vertices(
        require_shared("chongqing/admin/chongqing_districts_amap_wgs84_converted.geojson")
    )
    assert gcj.shape == converted.shape
    assert gcj.shape[0] > 100

    lon, lat = to_wgs84(gcj[:, 0], gcj[:, 1], crs="GCJ-02", source="districts_gcj02.geojson")
    ours = np.column_stack(UTM48N.transform(lon, lat))
    theirs = np.column_stack(UTM48N.transform(converted[:, 0], converted[:, 1]))
    gap_m = np.hypot(*(ours - theirs).T)
    # Measured: max 0.141 m, mean 0.078 m. The file's converter stopped at about 1e-6 degree
    # (0.1 m); a single-step inverse would be 1.3-1.9 m off, so 0.25 m tells them apart.
    assert gap_m.max() < 0.25
    assert gap_m.mean() < 0.1
    # ... and the shift itself is the expected ~480 m.
    raw = np.column_stack(UTM48N.transform(gcj[:, 0], gcj[:, 1]))
    shift_m = np.hypot(*(raw - ours).T)
    assert 450.0 < shift_m.min() <= shift_m.max() < 510.0


# ---------------------------------------------------------------------------------------------
# Declared inputs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("GCJ02", OffsetCRS.GCJ02),
        ("GCJ-02", OffsetCRS.GCJ02),
        ("gcj_02", OffsetCRS.GCJ02),
        ("amap", OffsetCRS.GCJ02),
        ("Gaode", OffsetCRS.GCJ02),
        ("tencent", OffsetCRS.GCJ02),
        ("BD09", OffsetCRS.BD09),
        ("bd-09", OffsetCRS.BD09),
        ("baidu", OffsetCRS.BD09),
    ],
)
def test_parse_crs_offset_names(name: str, expected: OffsetCRS) -> None:
    assert parse_crs(name) is expected


@pytest.mark.parametrize(
    ("name", "epsg"),
    [
        ("WGS84", 4326),
        ("wgs-84", 4326),
        ("EPSG:4326", 4326),
        ("CGCS2000", 4490),
        ("epsg:4490", 4490),
    ],
)
def test_parse_crs_standard_names(name: str, epsg: int) -> None:
    parsed = parse_crs(name)
    assert isinstance(parsed, pyproj.CRS)
    assert parsed.to_epsg() == epsg


@pytest.mark.parametrize("crs", ["gcj", "Mars", "EPSG:999999"])
def test_unknown_crs(crs: str) -> None:
    with pytest.raises(CRSError, match=r"sites\.csv: expected a known coordinate system") as info:
        to_wgs84([106.57], [29.55], crs=crs, source="sites.csv")
    message = str(info.value)
    assert repr(crs) in message
    assert "'GCJ02'" in message
    assert "'baidu'" in message


@pytest.mark.parametrize("crs", [None, "", "  "])
def test_missing_crs(crs: str | None) -> None:
    with pytest.raises(
        CRSError, match=r"sites\.csv: expected a declared coordinate system.*found no CRS"
    ):
        to_wgs84([106.57], [29.55], crs=crs, source="sites.csv")


@pytest.mark.parametrize("crs", ["GCJ02", "baidu"])
def test_offset_crs_outside_china(crs: str) -> None:
    lon = np.array([106.57, 2.35, 106.58, np.nan])
    lat = np.array([29.55, 48.85, 29.56, 29.55])
    with pytest.raises(CRSError, match=r"pois\.json: 2 of 4 points") as info:
        to_wgs84(lon, lat, crs=crs, source="pois.json")
    message = str(info.value)
    assert "outside China cannot be right" in message
    assert "row 1" in message
    assert "(2.35, 48.85)" in message
    assert "row 3" in message
    assert "row 0" not in message
    assert "row 2" not in message


def test_offset_crs_error_lists_first_ten_rows() -> None:
    lon = np.full(30, 2.35)
    lat = np.full(30, 48.85)
    with pytest.raises(CRSError, match="30 of 30 points") as info:
        to_wgs84(lon, lat, crs="amap", source="pois.json")
    message = str(info.value)
    assert "The first 10 are listed" in message
    assert "row 9:" in message
    assert "row 10:" not in message
    assert len(info.value.problems) == 10


def test_gcj02_and_bd09_convert() -> None:
    lon = np.array([106.57, 106.5])
    lat = np.array([29.55, 29.6])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    out_lon, out_lat = to_wgs84(g_lon, g_lat, crs="amap")
    np.testing.assert_allclose(out_lon, lon, atol=ROUND_TRIP_TOL_DEG, rtol=0)
    np.testing.assert_allclose(out_lat, lat, atol=ROUND_TRIP_TOL_DEG, rtol=0)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    out_lon, out_lat = to_wgs84(b_lon, b_lat, crs="baidu")
    np.testing.assert_allclose(out_lon, lon, atol=ROUND_TRIP_TOL_DEG, rtol=0)
    np.testing.assert_allclose(out_lat, lat, atol=ROUND_TRIP_TOL_DEG, rtol=0)


@pytest.mark.parametrize("crs", ["WGS84", "EPSG:4326", "CGCS2000", "EPSG:4490"])
def test_wgs84_and_cgcs2000_pass_through(crs: str) -> None:
    lon = np.array([106.57, 106.5, np.nan])
    lat = np.array([29.55, 29.6, 29.5])
    out_lon, out_lat = to_wgs84(lon, lat, crs=crs)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)
    assert out_lon is not lon


def test_geographic_pyproj_crs_takes_lon_first() -> None:
    # EPSG:4326's official axis order is lat, lon; linli always takes lon, lat.
    out_lon, out_lat = to_wgs84([106.57], [29.55], crs=pyproj.CRS.from_epsg(4326))
    assert (float(out_lon[0]), float(out_lat[0])) == (106.57, 29.55)


@pytest.mark.parametrize("crs", ["WGS84", "CGCS2000", "EPSG:4214"])
def test_projected_metres_declared_as_degrees(crs: str) -> None:
    x = np.array([106.57, 651000.0, 652000.0])
    y = np.array([29.55, 3270000.0, 3271000.0])
    with pytest.raises(CRSError, match=r"roads\.geojson: 2 of 3 points .*projected metres") as info:
        to_wgs84(x, y, crs=crs, source="roads.geojson")
    message = str(info.value)
    assert "row 1" in message
    assert "(651000.0, 3270000.0)" in message
    assert "row 0" not in message


def test_projected_crs_transforms() -> None:
    lon = np.array([106.57, 106.50, 106.58])
    lat = np.array([29.55, 29.56, 29.53])
    x, y = UTM48N.transform(lon, lat)
    for crs in ("EPSG:32648", pyproj.CRS.from_epsg(32648)):
        out_lon, out_lat = to_wgs84(x, y, crs=crs)
        assert np.all(_distance_m(out_lon, out_lat, lon, lat) < 1e-6)


def test_projected_crs_untransformable_points() -> None:
    with pytest.raises(CRSError, match=r"pyproj could not transform 1 of 2 points") as info:
        to_wgs84([651000.0, 1e30], [3270000.0, 1e30], crs="EPSG:32648", source="grid.csv")
    assert "row 1" in str(info.value)


def test_bad_coordinate_arrays() -> None:
    with pytest.raises(InputError, match=r"sites\.csv: expected two numeric coordinate arrays"):
        to_wgs84([1.0, 2.0, 3.0], [1.0, 2.0], crs="WGS84", source="sites.csv")
    with pytest.raises(InputError, match=r"sites\.csv: expected two numeric coordinate arrays"):
        to_wgs84(["east"], [1.0], crs="WGS84", source="sites.csv")


# ---------------------------------------------------------------------------------------------
# local_metric_crs
# ---------------------------------------------------------------------------------------------


def test_local_metric_crs_chongqing() -> None:
    assert local_metric_crs([106.57, 106.5, 106.6], [29.55, 29.5, 29.6]).to_epsg() == 32648


def test_local_metric_crs_southern_hemisphere() -> None:
    # Johannesburg, UTM zone 35 south.
    assert local_metric_crs([28.04], [-26.20]).to_epsg() == 32735


def test_local_metric_crs_uses_median_of_finite_points() -> None:
    lon = [106.57, 106.58, 106.56, 2.35, np.nan]
    lat = [29.55, 29.56, 29.55, 48.85, 29.5]
    assert local_metric_crs(lon, lat).to_epsg() == 32648


def test_local_metric_crs_edges() -> None:
    assert local_metric_crs([180.0], [0.0]).to_epsg() == 32660
    assert local_metric_crs([-180.0], [-0.1]).to_epsg() == 32701


def test_local_metric_crs_no_finite_points() -> None:
    with pytest.raises(InputError, match="none finite"):
        local_metric_crs([np.nan, np.inf], [29.5, np.nan])
    with pytest.raises(InputError, match="none finite"):
        local_metric_crs([], [])


def test_local_metric_crs_projected_input() -> None:
    with pytest.raises(InputError, match="projected metres"):
        local_metric_crs([651000.0], [3270000.0])


def test_geometries_to_wgs84_converts_every_vertex_and_keeps_the_index() -> None:
    import geopandas as gpd
    import shapely

    from linli.inputs.crs import geometries_to_wgs84

    square = shapely.Polygon([(106.57, 29.55), (106.58, 29.55), (106.58, 29.56), (106.57, 29.55)])
    layer = gpd.GeoSeries([shapely.Point(106.575, 29.552), square], index=["a", "b"])
    out = geometries_to_wgs84(layer, crs="GCJ-02", source="amap.geojson")
    assert out.index.tolist() == ["a", "b"]
    assert out.crs.to_epsg() == 4326
    coords = shapely.get_coordinates(layer.to_numpy())
    lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(out.to_numpy()), np.column_stack([lon, lat]))
    assert out.iloc[1].geom_type == "Polygon"


def test_geometries_to_wgs84_names_the_layer_for_points_outside_china() -> None:
    import shapely

    from linli.inputs.crs import geometries_to_wgs84

    with pytest.raises(CRSError, match=r"paris\.csv.*outside China"):
        geometries_to_wgs84([shapely.Point(2.35, 48.85)], crs="GCJ02", source="paris.csv")
