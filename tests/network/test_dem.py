"""Tests of linli.network.dem: bilinear elevation sampling from DEM rasters."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyproj
import pytest
import rasterio
import rasterio.errors
from scipy.interpolate import RegularGridInterpolator

from conftest import require_shared
from linli._errors import CoverageError, CRSError, InputError
from linli.inputs.crs import wgs84_to_gcj02
from linli.network.dem import sample_elevation_m

FloatArray = npt.NDArray[np.float64]

# A synthetic DEM in UTM zone 48N over central Chongqing: 40 x 30 cells of 30 m.
X0_M, Y0_M = 640_000.0, 3_275_000.0
CELL_M = 30.0
WIDTH, HEIGHT = 40, 30
SLOPE_X, SLOPE_Y, BASE_M = 0.05, -0.03, 200.0

TO_LONLAT = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
SHARED_DEM = "chongqing/yuzhong/terrain/chongqingZ_elevation_utm.tif"


def plane_m(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """z = a x + b y + c, with x, y measured from the DEM's corner to keep heights plausible."""
    return np.asarray(
        SLOPE_X * (np.asarray(x) - X0_M) + SLOPE_Y * (np.asarray(y) - Y0_M) + BASE_M,
        dtype=np.float64,
    )


def cell_centres() -> tuple[FloatArray, FloatArray]:
    cols, rows = np.meshgrid(np.arange(WIDTH), np.arange(HEIGHT))
    return X0_M + (cols + 0.5) * CELL_M, Y0_M - (rows + 0.5) * CELL_M


def write_dem(
    path: Path,
    data: npt.NDArray[np.generic],
    *,
    crs: str | None = "EPSG:32648",
    nodata: float | None = None,
    unit: str | None = None,
    scale: float | None = None,
    offset: float | None = None,
    transform: rasterio.Affine | None = None,
) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=data.shape[1],
            height=data.shape[0],
            count=1,
            dtype=data.dtype,
            crs=crs,
            transform=transform or rasterio.Affine(CELL_M, 0.0, X0_M, 0.0, -CELL_M, Y0_M),
            nodata=nodata,
        ) as dst:
            dst.write(data, 1)
            if unit is not None:
                dst.set_band_unit(1, unit)
            if scale is not None or offset is not None:
                dst.scales = (scale or 1.0,)
                dst.offsets = (offset or 0.0,)
    return path


@pytest.fixture
def plane_dem(tmp_path: Path) -> Path:
    return write_dem(tmp_path / "plane.tif", plane_m(*cell_centres()))


def interior_points(n: int, seed: int) -> tuple[FloatArray, FloatArray]:
    """Random points between the outermost cell centres, where bilinear needs no clamping."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(X0_M + CELL_M / 2, X0_M + (WIDTH - 0.5) * CELL_M, n)
    y = rng.uniform(Y0_M - (HEIGHT - 0.5) * CELL_M, Y0_M - CELL_M / 2, n)
    return x, y


# ---------------------------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------------------------


def test_plane_is_reproduced_exactly(plane_dem: Path) -> None:
    x, y = interior_points(500, seed=1)
    # Include cell centres and the outermost centres themselves.
    cx, cy = cell_centres()
    x = np.concatenate([x, cx.ravel()])
    y = np.concatenate([y, cy.ravel()])
    z = sample_elevation_m(plane_dem, x, y, crs="EPSG:32648")
    assert z.dtype == np.float64
    np.testing.assert_allclose(z, plane_m(x, y), rtol=0, atol=1e-9)


def test_plane_from_wgs84_points(plane_dem: Path) -> None:
    x, y = interior_points(500, seed=2)
    lon, lat = TO_LONLAT.transform(x, y)
    z = sample_elevation_m(plane_dem, lon, lat, crs="WGS84")
    np.testing.assert_allclose(z, plane_m(x, y), rtol=0, atol=1e-6)
    z = sample_elevation_m(plane_dem, lon, lat, crs=pyproj.CRS.from_epsg(4326))
    np.testing.assert_allclose(z, plane_m(x, y), rtol=0, atol=1e-6)


def test_plane_from_gcj02_points(plane_dem: Path) -> None:
    x, y = interior_points(200, seed=3)
    g_lon, g_lat = wgs84_to_gcj02(*TO_LONLAT.transform(x, y))
    z = sample_elevation_m(plane_dem, g_lon, g_lat, crs="amap")
    np.testing.assert_allclose(z, plane_m(x, y), rtol=0, atol=1e-6)


def test_points_within_half_a_cell_of_the_edge_are_clamped(plane_dem: Path) -> None:
    east_m = X0_M + WIDTH * CELL_M
    south_m = Y0_M - HEIGHT * CELL_M
    mid_y = Y0_M - 10.3 * CELL_M
    mid_x = X0_M + 7.6 * CELL_M
    x = np.array([X0_M + 5.0, east_m - 1.0, mid_x, mid_x, X0_M, east_m])
    y = np.array([mid_y, mid_y, Y0_M - 0.1, south_m + 14.9, Y0_M, south_m])
    # Expected: the plane at the position clamped to the outermost cell centres.
    x_clamped = np.clip(x, X0_M + CELL_M / 2, east_m - CELL_M / 2)
    y_clamped = np.clip(y, south_m + CELL_M / 2, Y0_M - CELL_M / 2)
    z = sample_elevation_m(plane_dem, x, y, crs="EPSG:32648")
    np.testing.assert_allclose(z, plane_m(x_clamped, y_clamped), rtol=0, atol=1e-9)


def test_matches_reference_interpolator(tmp_path: Path) -> None:
    # A rough surface, where bilinear interpolation is not trivially exact.
    rng = np.random.default_rng(4)
    data = rng.uniform(150.0, 400.0, size=(HEIGHT, WIDTH))
    dem = write_dem(tmp_path / "rough.tif", data.astype(np.float32))
    cx, cy = cell_centres()
    reference = RegularGridInterpolator(
        (cy[::-1, 0], cx[0, :]), data.astype(np.float32).astype(np.float64)[::-1, :]
    )
    x, y = interior_points(1000, seed=5)
    z = sample_elevation_m(dem, x, y, crs="EPSG:32648")
    # Not 1e-9: pixel positions of 6-7 digit coordinates carry ~1e-11 cell of rounding.
    np.testing.assert_allclose(z, reference(np.column_stack([y, x])), rtol=0, atol=1e-7)


def test_shape_is_preserved_and_empty_input(plane_dem: Path) -> None:
    x, y = interior_points(12, seed=6)
    z = sample_elevation_m(plane_dem, x.reshape(3, 4), y.reshape(3, 4), crs="EPSG:32648")
    assert z.shape == (3, 4)
    z = sample_elevation_m(plane_dem, [], [], crs="EPSG:32648")
    assert z.shape == (0,)
    assert z.dtype == np.float64


def test_scale_offset_and_feet(tmp_path: Path) -> None:
    z_dm = np.full((HEIGHT, WIDTH), 2500, dtype=np.int16)
    dem = write_dem(tmp_path / "decimetres.tif", z_dm, scale=0.1, offset=5.0)
    x, y = interior_points(5, seed=7)
    np.testing.assert_allclose(sample_elevation_m(dem, x, y, crs="EPSG:32648"), 255.0)
    dem = write_dem(tmp_path / "feet.tif", np.full((HEIGHT, WIDTH), 1000.0), unit="ft")
    np.testing.assert_allclose(sample_elevation_m(dem, x, y, crs="EPSG:32648"), 304.8)


def test_nodata_cell_without_weight_is_harmless(tmp_path: Path) -> None:
    data = plane_m(*cell_centres())
    data[5, 5] = -9999.0
    dem = write_dem(tmp_path / "hole.tif", data, nodata=-9999.0)
    cx, cy = cell_centres()
    # The four cells around each of these points include (5, 5), but with zero weight: at the
    # centre of cell (4, 4), and on the lines between the centres of row 4 and of column 4.
    x = np.array([cx[4, 4], cx[4, 4] + 0.4 * CELL_M, cx[4, 4]])
    y = np.array([cy[4, 4], cy[4, 4], cy[4, 4] - 0.7 * CELL_M])
    z = sample_elevation_m(dem, x, y, crs="EPSG:32648")
    np.testing.assert_allclose(z, plane_m(x, y), rtol=0, atol=1e-9)
    # Between the four centres, (5, 5) carries weight.
    with pytest.raises(CoverageError, match="1 on nodata cells"):
        sample_elevation_m(dem, [cx[4, 4] + 1.0], [cy[4, 4] - 1.0], crs="EPSG:32648")


# ---------------------------------------------------------------------------------------------
# The shared SRTM DEM of Yuzhong
# ---------------------------------------------------------------------------------------------


def test_shared_dem_yuzhong() -> None:
    dem = require_shared(SHARED_DEM)
    rng = np.random.default_rng(8)
    lon = rng.uniform(106.55, 106.585, 200)
    lat = rng.uniform(29.545, 29.565, 200)
    lon[0], lat[0] = 106.57, 29.556
    z = sample_elevation_m(dem, lon, lat, crs="WGS84")
    assert np.all((z >= 136.0) & (z <= 416.0))
    # Yuzhong is a hilly peninsula: elevations vary by well over 100 m.
    assert z.max() - z.min() > 100.0


def test_shared_dem_cell_centres_give_cell_values() -> None:
    dem = require_shared(SHARED_DEM)
    with rasterio.open(dem) as src:
        assert src.crs.to_epsg() == 32648
        assert (src.width, src.height) == (343, 145)
        data = src.read(1)
        rows = np.array([0, 10, 72, 100, 144])
        cols = np.array([0, 200, 171, 300, 342])
        x, y = src.xy(rows, cols)
    z = sample_elevation_m(dem, x, y, crs="EPSG:32648")
    np.testing.assert_array_equal(z, data[rows, cols].astype(np.float64))


def test_shared_dem_outside() -> None:
    dem = require_shared(SHARED_DEM)
    with pytest.raises(
        CoverageError,
        match=re.escape("does not cover 1 of 2 points (1 outside it, 0 on nodata cells)"),
    ) as info:
        sample_elevation_m(dem, [106.57, 106.7], [29.556, 29.556], crs="WGS84")
    message = str(info.value)
    assert "The DEM covers lon 106.48150 to 106.58827, lat 29.53155 to 29.57202" in message
    assert "the points span lon 106.57000 to 106.70000, lat 29.55600 to 29.55600" in message


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.tif"
    with pytest.raises(InputError, match=re.escape(f"{path}: expected a DEM raster")) as info:
        sample_elevation_m(path, [X0_M], [Y0_M], crs="EPSG:32648")
    assert "no such file" in str(info.value)


def test_not_a_raster(tmp_path: Path) -> None:
    path = tmp_path / "dem.tif"
    path.write_text("elevation,x,y\n200,1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{path}: expected a DEM raster GDAL can read")):
        sample_elevation_m(path, [X0_M], [Y0_M], crs="EPSG:32648")


def test_dem_without_crs(tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "nocrs.tif", plane_m(*cell_centres()), crs=None)
    with pytest.raises(
        CRSError, match=r"nocrs\.tif: DEM has no CRS; set one with gdal_edit\.py -a_srs"
    ):
        sample_elevation_m(dem, [X0_M + 100], [Y0_M - 100], crs="EPSG:32648")


def test_dem_without_georeferencing(tmp_path: Path) -> None:
    dem = write_dem(
        tmp_path / "pixels.tif",
        plane_m(*cell_centres()),
        transform=rasterio.Affine.identity(),
    )
    with pytest.raises(CRSError, match="no georeferencing"):
        sample_elevation_m(dem, [1.0], [1.0], crs="EPSG:32648")


def test_points_outside(plane_dem: Path) -> None:
    x, y = interior_points(30, seed=9)
    x[[3, 17]] = X0_M - 1.0
    y[25] = Y0_M + 500.0
    with pytest.raises(CoverageError) as info:
        sample_elevation_m(plane_dem, x, y, crs="EPSG:32648")
    message = str(info.value)
    assert (
        f"{plane_dem}: the DEM does not cover 3 of 30 points (3 outside it, 0 on nodata" in message
    )
    assert "The DEM covers lon 106.4" in message
    assert "(WGS-84); the points span lon" in message
    assert "First offending points: 3, 17, 25." in message
    assert (
        "point 3: expected a point on the DEM with data around it; found outside the DEM" in message
    )


def test_many_points_outside_lists_the_first_ten(plane_dem: Path) -> None:
    x = np.full(25, X0_M - 1000.0)
    y = np.full(25, Y0_M)
    with pytest.raises(CoverageError, match="does not cover 25 of 25 points") as info:
        sample_elevation_m(plane_dem, x, y, crs="EPSG:32648")
    assert "First offending points: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ..." in str(info.value)
    assert len(info.value.problems) == 10


def test_points_on_nodata(tmp_path: Path) -> None:
    data = plane_m(*cell_centres())
    data[10:12, 10:12] = -9999.0
    dem = write_dem(tmp_path / "holes.tif", data, nodata=-9999.0)
    cx, cy = cell_centres()
    x = np.array([cx[0, 0], cx[10, 10] + 3.0, cx[20, 20], cx[11, 11]])
    y = np.array([cy[0, 0], cy[10, 10], cy[20, 20], cy[11, 11]])
    with pytest.raises(
        CoverageError, match=r"2 of 4 points \(0 outside it, 2 on nodata cells\)"
    ) as info:
        sample_elevation_m(dem, x, y, crs="EPSG:32648")
    message = str(info.value)
    assert "First offending points: 1, 3." in message
    assert (
        "point 1: expected a point on the DEM with data around it; found a nodata cell" in message
    )


def test_non_finite_cells_count_as_nodata(tmp_path: Path) -> None:
    data = plane_m(*cell_centres())
    data[3, 3] = np.nan
    dem = write_dem(tmp_path / "nan.tif", data)
    cx, cy = cell_centres()
    with pytest.raises(CoverageError, match="1 on nodata cells"):
        sample_elevation_m(dem, [cx[3, 3]], [cy[3, 3]], crs="EPSG:32648")


def test_values_not_in_metres(tmp_path: Path) -> None:
    # Centimetres: Chongqing's 136-416 m stored as 13,600-41,600.
    dem = write_dem(tmp_path / "cm.tif", np.full((HEIGHT, WIDTH), 25_000, dtype=np.int32))
    x, y = interior_points(3, seed=10)
    with pytest.raises(InputError, match=r"cm\.tif: 3 of 3 sampled elevations are not plausible"):
        sample_elevation_m(dem, x, y, crs="EPSG:32648")


def test_unknown_band_unit(tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "unit.tif", plane_m(*cell_centres()), unit="degC")
    x, y = interior_points(3, seed=11)
    with pytest.raises(
        InputError, match=r"unit\.tif, band 1: expected elevations in metres.*'degC'"
    ):
        sample_elevation_m(dem, x, y, crs="EPSG:32648")


def test_non_finite_points(plane_dem: Path) -> None:
    x, y = interior_points(5, seed=12)
    x[2] = np.nan
    with pytest.raises(InputError, match=r"plane\.tif: 1 of 5 points have non-finite") as info:
        sample_elevation_m(plane_dem, x, y, crs="EPSG:32648")
    assert "point 2" in str(info.value)


def test_points_crs_errors(plane_dem: Path) -> None:
    with pytest.raises(CRSError, match="expected a known coordinate system"):
        sample_elevation_m(plane_dem, [X0_M], [Y0_M], crs="mars")
    with pytest.raises(CRSError, match="projected metres"):
        sample_elevation_m(plane_dem, [X0_M + 100], [Y0_M - 100], crs="WGS84")
