"""Elevation of points from a digital elevation model (DEM), for slope-aware walking times.

The DEM is any raster GDAL reads (usually a GeoTIFF such as SRTM 30 m) in any CRS; the points
may be in any CRS linli understands, including GCJ-02 and BD-09 (see
:func:`linli.inputs.crs.parse_crs`). Heights are in whatever vertical datum the DEM uses (EGM96
for SRTM); walking costs only use differences of height, for which the datum does not matter.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyproj
import rasterio
import rasterio.errors
import rasterio.warp
import rasterio.windows

from linli._errors import CoverageError, CRSError, InputError, Problem
from linli.inputs.crs import CRSLike, OffsetCRS, parse_crs, to_wgs84

__all__ = ["sample_elevation_m"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

_WGS84 = pyproj.CRS.from_epsg(4326)
_POINTS_SHOWN = 10

# Band units GDAL may report, and their length in metres.
_UNIT_M = {
    "": 1.0,
    "m": 1.0,
    "metre": 1.0,
    "meter": 1.0,
    "metres": 1.0,
    "meters": 1.0,
    "ft": 0.3048,
    "foot": 0.3048,
    "feet": 0.3048,
    "international foot": 0.3048,
    "us survey foot": 1200.0 / 3937.0,
    "us-ft": 1200.0 / 3937.0,
    "ftus": 1200.0 / 3937.0,
}
# Heights outside this range (metres) are not on Earth: the DEM is probably in other units.
_PLAUSIBLE_MIN_M = -11_000.0
_PLAUSIBLE_MAX_M = 9_000.0


def sample_elevation_m(
    dem_path: str | os.PathLike[str],
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    crs: CRSLike,
) -> FloatArray:
    """Elevation in metres at points, by bilinear interpolation of a DEM.

    Points are transformed to the DEM's CRS, then interpolated bilinearly between the centres
    of the four nearest cells. Points inside the DEM but within half a cell of its edge, where
    there are not four cell centres around them, use the nearest edge cells (the position is
    clamped to the outermost cell centres). Only the part of the raster around the points is
    read.

    Parameters
    ----------
    dem_path : str or os.PathLike
        A single-band elevation raster GDAL can read, with a CRS (band 1 is used). GDAL scale
        and offset are applied; a band unit of feet is converted to metres.
    x, y : array_like of float
        Point coordinates in ``crs`` (longitude/latitude in degrees for geographic systems);
        broadcast against each other.
    crs : str, pyproj.CRS or OffsetCRS, keyword-only
        The CRS of the points, see :func:`linli.inputs.crs.parse_crs`.

    Returns
    -------
    numpy.ndarray of float64
        Elevation in metres, shaped like the broadcast points.

    Raises
    ------
    InputError
        If the file is missing or not a raster, if points are not finite, if the band unit is
        not a length, or if the values cannot be metres (beyond -11 km .. 9 km).
    CRSError
        If the DEM has no CRS or georeferencing, or the points' CRS is missing, unknown or
        implausible for them (see :func:`linli.inputs.crs.to_wgs84`).
    CoverageError
        If points fall outside the DEM or on nodata (or non-finite) cells; the message gives
        how many, the DEM's and the points' extents in WGS-84 and the first offending points.

    Examples
    --------
    >>> z_m = sample_elevation_m(  # doctest: +SKIP
    ...     "chongqingZ_elevation_utm.tif", [106.57], [29.556], crs="WGS84"
    ... )
    """
    path = Path(dem_path)
    source = str(path)
    points_source = f"points sampled on {path.name}"
    parsed = parse_crs(crs, source=points_source)
    if not path.exists():
        raise InputError(
            problems=[Problem(source, expected="a DEM raster (e.g. GeoTIFF)", found="no such file")]
        )
    try:
        dataset = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(
            problems=[
                Problem(
                    source,
                    expected="a DEM raster GDAL can read (e.g. GeoTIFF)",
                    found=f"an unreadable file: {exc}",
                )
            ]
        ) from exc
    with dataset:
        return _sample(dataset, x, y, parsed, source=source, points_source=points_source)


def _sample(
    dataset: rasterio.DatasetReader,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    crs: pyproj.CRS | OffsetCRS,
    *,
    source: str,
    points_source: str,
) -> FloatArray:
    if dataset.crs is None:
        raise CRSError(
            f"{source}: DEM has no CRS; set one with gdal_edit.py -a_srs EPSG:<code> {source} "
            "(the EPSG code of the CRS the DEM was made in, e.g. EPSG:32648 for UTM zone 48N)"
        )
    if dataset.transform.is_identity:
        raise CRSError(
            f"{source}: DEM has a CRS but no georeferencing (its pixel-to-map transform is the "
            "identity); set one with gdal_edit.py -a_ullr <ulx> <uly> <lrx> <lry>"
        )
    dem_crs = pyproj.CRS.from_user_input(dataset.crs.to_wkt())
    unit_m = _band_unit_m(dataset, source=source)

    if isinstance(crs, pyproj.CRS) and crs == dem_crs:
        # Same CRS: no round trip through WGS-84, so that the points are used exactly.
        x_a, y_a = np.broadcast_arrays(
            np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        )
        shape = x_a.shape
        px = x_a.ravel()
        py = y_a.ravel()
        _check_finite(px, py, source=points_source)
        lon_lat: tuple[FloatArray, FloatArray] | None = None
    else:
        lon, lat = to_wgs84(x, y, crs=crs, source=points_source)
        shape = lon.shape
        lon = lon.ravel()
        lat = lat.ravel()
        _check_finite(lon, lat, source=points_source)
        from_lonlat = pyproj.Transformer.from_crs(_WGS84, dem_crs, always_xy=True)
        px_t, py_t = from_lonlat.transform(lon, lat)
        px = np.asarray(px_t, dtype=np.float64)
        py = np.asarray(py_t, dtype=np.float64)
        lon_lat = (lon, lat)
    n_points = px.size
    if n_points == 0:
        return np.zeros(shape, dtype=np.float64)

    # Fractional pixel coordinates: (0, 0) is the outer corner of the first cell.
    inverse = ~dataset.transform
    col_f = inverse.a * px + inverse.b * py + inverse.c
    row_f = inverse.d * px + inverse.e * py + inverse.f
    width, height = dataset.width, dataset.height
    inside = (col_f >= 0.0) & (col_f <= width) & (row_f >= 0.0) & (row_f <= height)

    # Positions on the grid of cell centres, clamped to the outermost centres.
    u = np.clip(np.where(inside, col_f, 0.0) - 0.5, 0.0, width - 1.0)
    v = np.clip(np.where(inside, row_f, 0.0) - 0.5, 0.0, height - 1.0)
    c0 = np.minimum(np.floor(u).astype(np.int64), max(width - 2, 0))
    r0 = np.minimum(np.floor(v).astype(np.int64), max(height - 2, 0))
    c1 = np.minimum(c0 + 1, width - 1)
    r1 = np.minimum(r0 + 1, height - 1)
    fu = u - c0
    fv = v - r0

    elevation_m = np.full(n_points, np.nan, dtype=np.float64)
    on_nodata = np.zeros(n_points, dtype=bool)
    if inside.any():
        col_off = int(c0[inside].min())
        row_off = int(r0[inside].min())
        window = rasterio.windows.Window(
            col_off,
            row_off,
            int(c1[inside].max()) - col_off + 1,
            int(r1[inside].max()) - row_off + 1,
        )
        logger.debug("reading %s of %s for %d points", window, source, int(inside.sum()))
        block = dataset.read(1, window=window, masked=True)
        values = np.ma.getdata(block).astype(np.float64)
        invalid = np.ma.getmaskarray(block) | ~np.isfinite(values)
        values = np.where(invalid, 0.0, values)

        idx = np.flatnonzero(inside)
        total = np.zeros(idx.size, dtype=np.float64)
        bad = np.zeros(idx.size, dtype=bool)
        for rows, cols, weight in (
            (r0, c0, (1.0 - fu) * (1.0 - fv)),
            (r0, c1, fu * (1.0 - fv)),
            (r1, c0, (1.0 - fu) * fv),
            (r1, c1, fu * fv),
        ):
            r = rows[idx] - row_off
            c = cols[idx] - col_off
            w = weight[idx]
            total += w * values[r, c]
            # A nodata cell only matters if it carries weight.
            bad |= invalid[r, c] & (w > 0.0)
        scale = float(dataset.scales[0]) if dataset.scales else 1.0
        offset = float(dataset.offsets[0]) if dataset.offsets else 0.0
        elevation_m[idx] = (total * scale + offset) * unit_m
        on_nodata[idx] = bad

    outside = ~inside
    if outside.any() or on_nodata.any():
        if lon_lat is None:
            to_lonlat = pyproj.Transformer.from_crs(dem_crs, _WGS84, always_xy=True)
            lon_w, lat_w = to_lonlat.transform(px, py)
            lon_lat = (np.asarray(lon_w, dtype=np.float64), np.asarray(lat_w, dtype=np.float64))
        raise _coverage_error(dataset, source, outside, on_nodata, *lon_lat)

    _check_metres(elevation_m, source=source)
    return elevation_m.reshape(shape)


def _band_unit_m(dataset: rasterio.DatasetReader, *, source: str) -> float:
    """Length of the band's unit in metres (1 when the unit is not set)."""
    unit = (dataset.units[0] if dataset.units else None) or ""
    factor = _UNIT_M.get(unit.strip().lower())
    if factor is None:
        raise InputError(
            problems=[
                Problem(
                    source,
                    where="band 1",
                    expected="elevations in metres or feet (band unit 'm', 'ft' or unset)",
                    found=f"unit {unit!r}",
                )
            ]
        )
    if factor != 1.0:
        logger.info("%s: converting elevations from %r to metres", source, unit)
    return factor


def _check_finite(x: FloatArray, y: FloatArray, *, source: str) -> None:
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        raise InputError(
            f"{source}: {bad.size} of {x.size} points have non-finite coordinates.",
            problems=[
                Problem(
                    source,
                    where=f"point {i}",
                    expected="finite coordinates",
                    found=f"({float(x[i])!r}, {float(y[i])!r})",
                )
                for i in bad[:_POINTS_SHOWN].tolist()
            ],
        )


def _coverage_error(
    dataset: rasterio.DatasetReader,
    source: str,
    outside: npt.NDArray[np.bool_],
    on_nodata: npt.NDArray[np.bool_],
    lon: FloatArray,
    lat: FloatArray,
) -> CoverageError:
    west, south, east, north = rasterio.warp.transform_bounds(
        dataset.crs, "EPSG:4326", *dataset.bounds, densify_pts=21
    )
    finite = np.isfinite(lon) & np.isfinite(lat)
    if finite.any():
        points_extent = (
            f"lon {lon[finite].min():.5f} to {lon[finite].max():.5f}, "
            f"lat {lat[finite].min():.5f} to {lat[finite].max():.5f}"
        )
    else:
        points_extent = "an unknown extent (no point could be transformed to WGS-84)"
    offending = np.flatnonzero(outside | on_nodata)
    shown = offending[:_POINTS_SHOWN]
    head = (
        f"{source}: the DEM does not cover {offending.size} of {outside.size} points "
        f"({int(outside.sum())} outside it, {int(on_nodata.sum())} on nodata cells). "
        f"The DEM covers lon {west:.5f} to {east:.5f}, lat {south:.5f} to {north:.5f} "
        f"(WGS-84); the points span {points_extent}. "
        f"First offending points: {', '.join(str(i) for i in shown.tolist())}"
        f"{', ...' if offending.size > shown.size else ''}. "
        "Use a DEM that covers the whole study area, with a margin."
    )
    problems = [
        Problem(
            source,
            where=f"point {i}",
            expected="a point on the DEM with data around it",
            found=(
                f"{'outside the DEM' if outside[i] else 'a nodata cell'} at "
                f"(lon, lat) = ({_fmt(lon[i])}, {_fmt(lat[i])})"
            ),
        )
        for i in shown.tolist()
    ]
    return CoverageError(head, problems=problems)


def _fmt(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else repr(float(value))


def _check_metres(elevation_m: FloatArray, *, source: str) -> None:
    implausible = np.flatnonzero(
        ~np.isfinite(elevation_m)
        | (elevation_m < _PLAUSIBLE_MIN_M)
        | (elevation_m > _PLAUSIBLE_MAX_M)
    )
    if implausible.size:
        i = int(implausible[0])
        raise InputError(
            f"{source}: {implausible.size} of {elevation_m.size} sampled elevations are not "
            "plausible heights in metres.",
            problems=[
                Problem(
                    source,
                    where=f"point {i}",
                    expected=(
                        f"elevations in metres, between {_PLAUSIBLE_MIN_M:g} and "
                        f"{_PLAUSIBLE_MAX_M:g}: is the DEM in centimetres or decimetres "
                        "without a GDAL scale set?"
                    ),
                    found=f"{float(elevation_m[i])!r}",
                )
            ],
        )
