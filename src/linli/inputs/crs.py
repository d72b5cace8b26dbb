"""Coordinate systems of Chinese map data, and conversion to WGS-84.

Chinese web maps do not publish WGS-84 coordinates. Amap (高德, 'Gaode') and Tencent use
**GCJ-02** ('Mars coordinates'), WGS-84 shifted by a deliberately obfuscated, smoothly varying
offset of a few hundred metres (about 300-600 m in Chongqing). Baidu uses **BD-09**, a further
shift and rotation of GCJ-02. Official surveying data use **CGCS2000** (EPSG:4490), which is
WGS-84 for our purposes. Anything else (e.g. UTM, Web Mercator, Gauss-Kruger zones of
CGCS2000) is left to pyproj.

Accuracy
--------
- The GCJ-02 forward formula (:func:`wgs84_to_gcj02`) is the public, reverse-engineered one used
  by every open-source converter (e.g. eviltransform, coordTransform). Its error against the
  official, unpublished offset is not known; reports put it around 1 m or better, below the
  accuracy of the web-map geometry it is applied to.
- The inverse (:func:`gcj02_to_wgs84`) solves the forward formula iteratively until the
  forward image of the result is within 1e-12 degree of the input, so a round trip
  WGS-84 → GCJ-02 → WGS-84 is exact to well under 1e-6 m. The single-step inverse many tools
  use instead (subtracting the offset computed at the GCJ-02 point) is off by 1-2 m in
  Chongqing and up to about 7 m elsewhere in China.
- BD-09 is defined from GCJ-02 by a closed formula (:func:`gcj02_to_bd09`); its inverse is
  solved iteratively the same way, and BD-09 ↔ WGS-84 goes through GCJ-02.
- CGCS2000 and WGS-84 (G1762) differ by a few centimetres at city scale, far below the accuracy
  of the data linli plans with, so CGCS2000 coordinates are passed through unchanged (pyproj
  does the same: its CGCS2000 → WGS-84 transformation is a no-op "ballpark" one).

Outside China's bounding box (lon 72.004-137.8347, lat 0.8293-55.8271, the test every converter
uses) GCJ-02 is WGS-84, so the plain conversion functions leave such points unchanged;
:func:`to_wgs84`, which reads declared inputs, refuses them instead, because a coordinate declared
GCJ-02 or BD-09 that lies outside China cannot be right. Near the edges of the box, a point and its
GCJ-02 image may fall on different sides of it, and a round trip is then off by the offset; no
Chinese city is near the edge.
"""

from __future__ import annotations

import enum
import logging
import math
import re
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
import pyproj.exceptions

from linli._errors import CRSError, InputError, Problem

__all__ = [
    "CHINA_LAT_MAX",
    "CHINA_LAT_MIN",
    "CHINA_LON_MAX",
    "CHINA_LON_MIN",
    "CRSLike",
    "OffsetCRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometries_to_wgs84",
    "local_metric_crs",
    "parse_crs",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

# Parameters of the GCJ-02 formula: Krasovsky 1940 ellipsoid.
_GCJ_A_M = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09 constant: pi * 3000 / 180.
_BD_X_PI = math.pi * 3000.0 / 180.0

# China's bounding box as used by the GCJ-02 formula (degrees).
CHINA_LON_MIN, CHINA_LON_MAX = 72.004, 137.8347
CHINA_LAT_MIN, CHINA_LAT_MAX = 0.8293, 55.8271

_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 50
_ROWS_SHOWN = 10

_WGS84 = pyproj.CRS.from_epsg(4326)
_CGCS2000 = pyproj.CRS.from_epsg(4490)


class OffsetCRS(enum.Enum):
    """The obfuscated Chinese web-map coordinate systems, which pyproj does not know."""

    GCJ02 = "GCJ-02"
    """Amap (高德), Tencent, Google Maps in mainland China."""
    BD09 = "BD-09"
    """Baidu (百度)."""


CRSLike = str | pyproj.CRS | OffsetCRS
"""What a caller may declare: a name (see :func:`parse_crs`), a pyproj CRS or an OffsetCRS."""


# Names are matched after upper-casing and removing spaces, '-' and '_'.
_NAMES: dict[str, pyproj.CRS | OffsetCRS] = {
    "WGS84": _WGS84,
    "EPSG:4326": _WGS84,
    "CGCS2000": _CGCS2000,
    "EPSG:4490": _CGCS2000,
    "GCJ02": OffsetCRS.GCJ02,
    "AMAP": OffsetCRS.GCJ02,
    "GAODE": OffsetCRS.GCJ02,
    "TENCENT": OffsetCRS.GCJ02,
    "BD09": OffsetCRS.BD09,
    "BAIDU": OffsetCRS.BD09,
}
_ACCEPTED = (
    "'WGS84' or 'EPSG:4326'; 'CGCS2000' or 'EPSG:4490'; 'GCJ02' ('GCJ-02', 'amap', 'gaode', "
    "'tencent'); 'BD09' ('BD-09', 'baidu'); or any CRS pyproj understands, e.g. 'EPSG:32648'"
)


# --------------------------------------------------------------------------------------------
# Plain conversions
# --------------------------------------------------------------------------------------------


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_a.copy(), lat_a.copy()


def _in_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    inside: npt.NDArray[np.bool_] = (
        (lon >= CHINA_LON_MIN)
        & (lon <= CHINA_LON_MAX)
        & (lat >= CHINA_LAT_MIN)
        & (lat <= CHINA_LAT_MAX)
    )
    return inside


def _gcj_offset_deg(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (no bounding-box test)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    wave_x = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * 2.0 / 3.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + wave_x
        + (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + wave_x
        + (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    )
    lat_rad = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(lat_rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_GCJ_A_M * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = d_lon * 180.0 / (_GCJ_A_M / sqrt_magic * np.cos(lat_rad) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to GCJ-02 (Amap, Tencent).

    Points outside China's bounding box are returned unchanged (GCJ-02 is WGS-84 there).

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        GCJ-02 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(106.57, 29.55)
    >>> round(float(lon), 4), round(float(lat), 4)
    (106.5737, 29.5471)
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    inside = _in_china(lon_a, lat_a)
    d_lon, d_lat = _gcj_offset_deg(lon_a[inside], lat_a[inside])
    lon_a[inside] += d_lon
    lat_a[inside] += d_lat
    return lon_a, lat_a


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude (Amap, Tencent) to WGS-84.

    The forward formula has no closed-form inverse; this solves it by fixed-point iteration
    until the GCJ-02 image of the result is within 1e-12 degree of the input (three or four
    iterations). Points outside China's bounding box, or with a non-finite coordinate, are
    returned unchanged.

    Parameters
    ----------
    lon, lat : array_like of float
        GCJ-02 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        WGS-84 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(106.57, 29.55))
    >>> abs(float(lon) - 106.57) < 1e-11 and abs(float(lat) - 29.55) < 1e-11
    True
    """
    g_lon, g_lat = _as_float_arrays(lon, lat)
    active = _in_china(g_lon, g_lat)
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()
    residual = math.inf
    for _ in range(_INVERSE_MAX_ITER):
        d_lon, d_lat = _gcj_offset_deg(w_lon[active], w_lat[active])
        r_lon = w_lon[active] + d_lon - g_lon[active]
        r_lat = w_lat[active] + d_lat - g_lat[active]
        w_lon[active] -= r_lon
        w_lat[active] -= r_lat
        residual = _max_abs(r_lon, r_lat)
        if residual < _INVERSE_TOL_DEG:
            break
    else:
        # Only reachable within ~1e-12 degree of lon 105, where the formula's sqrt(|x|) term
        # is not a contraction; the result is still far more precise than the formula itself.
        logger.debug("GCJ-02 inverse stopped at a residual of %.3g degree", residual)
    return w_lon, w_lat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array_like of float
        GCJ-02 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        BD-09 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(106.5737, 29.5471)
    >>> round(float(lon), 4), round(float(lat), 4)
    (106.5802, 29.5533)
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    return _gcj_to_bd(lon_a, lat_a)


def _gcj_to_bd(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    with np.errstate(invalid="ignore"):  # infinite input gives NaN output
        z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
        theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    # np.asarray: arithmetic on 0-d arrays gives numpy scalars.
    return np.asarray(z * np.cos(theta) + 0.0065), np.asarray(z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude (Baidu) to GCJ-02.

    Starts from the usual approximate inverse and refines it by fixed-point iteration until
    the BD-09 image of the result is within 1e-12 degree of the input.

    Parameters
    ----------
    lon, lat : array_like of float
        BD-09 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        GCJ-02 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(*gcj02_to_bd09(106.5737, 29.5471))
    >>> abs(float(lon) - 106.5737) < 1e-11 and abs(float(lat) - 29.5471) < 1e-11
    True
    """
    b_lon, b_lat = _as_float_arrays(lon, lat)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    with np.errstate(invalid="ignore"):  # infinite input gives NaN output
        z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
        g_lon = np.asarray(z * np.cos(theta))
        g_lat = np.asarray(z * np.sin(theta))
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = _gcj_to_bd(g_lon, g_lat)
        with np.errstate(invalid="ignore"):
            r_lon = f_lon - b_lon
            r_lat = f_lat - b_lat
        g_lon -= r_lon
        g_lat -= r_lat
        if _max_abs(r_lon, r_lat) < _INVERSE_TOL_DEG:
            break
    return g_lon, g_lat


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to BD-09 (Baidu), through GCJ-02.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        BD-09 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(106.57, 29.55)
    >>> round(float(lon), 4), round(float(lat), 4)
    (106.5801, 29.5534)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 longitude/latitude (Baidu) to WGS-84, through GCJ-02.

    Parameters
    ----------
    lon, lat : array_like of float
        BD-09 longitude and latitude in degrees; broadcast against each other.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        WGS-84 longitude and latitude in degrees.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(106.57, 29.55))
    >>> abs(float(lon) - 106.57) < 1e-11 and abs(float(lat) - 29.55) < 1e-11
    True
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _max_abs(a: FloatArray, b: FloatArray) -> float:
    """Largest finite absolute value in ``a`` and ``b`` (0 if there is none)."""
    both = np.abs(np.concatenate([a.ravel(), b.ravel()]))
    both = both[np.isfinite(both)]
    return float(both.max()) if both.size else 0.0


# --------------------------------------------------------------------------------------------
# Declared inputs
# --------------------------------------------------------------------------------------------


def parse_crs(crs: CRSLike | None, *, source: str = "coordinates") -> pyproj.CRS | OffsetCRS:
    """Resolve a declared coordinate system.

    Parameters
    ----------
    crs : str, pyproj.CRS or OffsetCRS
        One of the names 'WGS84'/'EPSG:4326', 'CGCS2000'/'EPSG:4490', 'GCJ02' ('GCJ-02',
        'amap', 'gaode', 'tencent'), 'BD09' ('BD-09', 'baidu') -- case, spaces, '-' and '_'
        do not matter -- or anything :meth:`pyproj.CRS.from_user_input` accepts.
    source : str, keyword-only
        The file or layer the CRS belongs to, for error messages.

    Returns
    -------
    pyproj.CRS or OffsetCRS
        A pyproj CRS, or :class:`OffsetCRS` for the Chinese web-map systems pyproj does not know.

    Raises
    ------
    CRSError
        If ``crs`` is missing or unknown.

    Examples
    --------
    >>> parse_crs("amap")
    <OffsetCRS.GCJ02: 'GCJ-02'>
    >>> parse_crs("epsg:32648").to_epsg()
    32648
    """
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        raise CRSError(
            problems=[
                Problem(
                    source,
                    expected=f"a declared coordinate system: {_ACCEPTED}",
                    found="no CRS",
                )
            ]
        )
    if isinstance(crs, pyproj.CRS | OffsetCRS):
        return crs
    if isinstance(crs, str):
        known = _NAMES.get(re.sub(r"[\s_\-]", "", crs).upper())
        if known is not None:
            return known
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            problems=[
                Problem(
                    source,
                    expected=f"a known coordinate system: {_ACCEPTED}",
                    found=f"{crs!r} ({exc})",
                )
            ]
        ) from exc


def to_wgs84(
    lon_or_x: npt.ArrayLike,
    lat_or_y: npt.ArrayLike,
    *,
    crs: CRSLike | None,
    source: str = "coordinates",
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in a declared CRS to WGS-84 longitude/latitude, checking them.

    Parameters
    ----------
    lon_or_x, lat_or_y : array_like of float
        Coordinates in ``crs``: longitude/latitude in degrees for geographic systems
        (whatever the CRS's official axis order), easting/northing for projected ones.
        Broadcast against each other; "row" in messages is the position in the flattened
        arrays.
    crs : str, pyproj.CRS or OffsetCRS, keyword-only
        The declared system, see :func:`parse_crs`. CGCS2000 is passed through as WGS-84
        (they differ by centimetres).
    source : str, keyword-only
        The file or layer the coordinates come from, for error messages.

    Returns
    -------
    lon, lat : numpy.ndarray of float64
        WGS-84 longitude and latitude in degrees, shaped like the broadcast input. Non-finite
        input in a standard CRS stays non-finite.

    Raises
    ------
    CRSError
        If ``crs`` is missing or unknown; if GCJ-02 or BD-09 coordinates are non-finite or
        outside China's bounding box; if geographic coordinates are beyond +-180 / +-90 degrees
        (often projected metres declared as degrees); if pyproj cannot transform finite points.
    InputError
        If the coordinates are not numbers or cannot be broadcast together.

    Examples
    --------
    >>> lon, lat = to_wgs84([106.5737], [29.5471], crs="gaode", source="sites.csv")
    >>> round(float(lon[0]), 3), round(float(lat[0]), 3)
    (106.57, 29.55)
    >>> lon, lat = to_wgs84([651000.0], [3270000.0], crs="EPSG:32648")
    >>> round(float(lon[0]), 3), round(float(lat[0]), 3)
    (106.559, 29.551)
    """
    parsed = parse_crs(crs, source=source)
    x, y = _checked_arrays(lon_or_x, lat_or_y, source=source)
    if isinstance(parsed, OffsetCRS):
        bad = ~(np.isfinite(x) & np.isfinite(y) & _in_china(x, y))
        if bad.any():
            raise _rows_error(
                source,
                bad,
                x,
                y,
                head=(
                    f"{source}: {int(bad.sum())} of {bad.size} points declared {parsed.value} "
                    "are not finite or outside China's bounding box; a "
                    f"{parsed.value} coordinate outside China cannot be right. Is the CRS "
                    f"really {parsed.value}?"
                ),
                expected=(
                    f"a {parsed.value} coordinate inside China (lon {CHINA_LON_MIN} to "
                    f"{CHINA_LON_MAX}, lat {CHINA_LAT_MIN} to {CHINA_LAT_MAX})"
                ),
            )
        if parsed is OffsetCRS.GCJ02:
            return gcj02_to_wgs84(x, y)
        return bd09_to_wgs84(x, y)

    if parsed.is_geographic:
        bad = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
        if bad.any():
            raise _rows_error(
                source,
                bad,
                x,
                y,
                head=(
                    f"{source}: {int(bad.sum())} of {bad.size} points are beyond 180 degrees "
                    f"of longitude or 90 degrees of latitude, but the CRS {parsed.name!r} is "
                    "geographic (degrees). The data may be projected metres: declare their "
                    "projected CRS (e.g. 'EPSG:32648')."
                ),
                expected="longitude in [-180, 180] and latitude in [-90, 90] degrees",
            )
        if parsed.to_epsg() in (4326, 4490):
            return x, y

    transformer = pyproj.Transformer.from_crs(parsed, _WGS84, always_xy=True)
    lon, lat = transformer.transform(x, y)
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    failed = np.isfinite(x) & np.isfinite(y) & ~(np.isfinite(lon) & np.isfinite(lat))
    if failed.any():
        raise _rows_error(
            source,
            failed,
            x,
            y,
            head=(
                f"{source}: pyproj could not transform {int(failed.sum())} of {failed.size} "
                f"points from {parsed.name!r} to WGS-84; they are outside the area where that "
                "CRS is defined. Is the declared CRS right?"
            ),
            expected=f"coordinates valid in {parsed.name!r}",
            axes="x, y",
        )
    return lon, lat


def _checked_arrays(
    x: npt.ArrayLike, y: npt.ArrayLike, *, source: str
) -> tuple[FloatArray, FloatArray]:
    try:
        return _as_float_arrays(x, y)
    except (TypeError, ValueError) as exc:
        raise InputError(
            problems=[
                Problem(
                    source,
                    expected="two numeric coordinate arrays of the same length",
                    found=str(exc),
                )
            ]
        ) from exc


def _rows_error(
    source: str,
    bad: npt.NDArray[np.bool_],
    x: FloatArray,
    y: FloatArray,
    *,
    head: str,
    expected: str,
    axes: str = "lon, lat",
) -> CRSError:
    rows = np.flatnonzero(bad)
    x_flat = x.ravel()
    y_flat = y.ravel()
    shown = rows[:_ROWS_SHOWN]
    if rows.size > shown.size:
        head += f" The first {shown.size} are listed."
    problems = [
        Problem(
            source,
            expected=expected,
            found=f"({axes}) = ({float(x_flat[i])!r}, {float(y_flat[i])!r})",
            where=f"row {i}",
        )
        for i in shown.tolist()
    ]
    return CRSError(head, problems=problems)


def local_metric_crs(lon: npt.ArrayLike, lat: npt.ArrayLike) -> pyproj.CRS:
    """The WGS-84 UTM zone of a set of points, for measuring in metres.

    The zone is that of the component-wise median of the finite points (robust to a few
    stray points). The Norway/Svalbard exceptions to the zone grid are not applied, and a
    set straddling the antimeridian gets the wrong zone; neither matters for Chinese cities.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326zz (northern hemisphere) or EPSG:327zz (southern).

    Raises
    ------
    InputError
        If no point is finite, or the median is not a valid longitude/latitude.

    Examples
    --------
    >>> local_metric_crs([106.57], [29.55]).to_epsg()
    32648
    """
    lon_a, lat_a = _checked_arrays(lon, lat, source="local_metric_crs")
    finite = np.isfinite(lon_a) & np.isfinite(lat_a)
    if not finite.any():
        raise InputError(
            problems=[
                Problem(
                    "local_metric_crs",
                    expected="at least one point with finite longitude and latitude",
                    found=f"{lon_a.size} points, none finite",
                )
            ]
        )
    lon_mid = float(np.median(lon_a[finite]))
    lat_mid = float(np.median(lat_a[finite]))
    if not (-180.0 <= lon_mid <= 180.0 and -90.0 <= lat_mid <= 90.0):
        raise InputError(
            problems=[
                Problem(
                    "local_metric_crs",
                    expected="WGS-84 longitude/latitude in degrees",
                    found=f"median point ({lon_mid!r}, {lat_mid!r}): projected metres?",
                )
            ]
        )
    zone = min(math.floor((lon_mid + 180.0) / 6.0) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat_mid >= 0.0 else 32700) + zone)


def geometries_to_wgs84(geometries: Any, *, crs: CRSLike | None, source: str = "layer") -> Any:
    """Convert geometries (points, lines, polygons) declared in ``crs`` to a WGS-84 GeoSeries.

    The bridge between layers whose coordinates are Amap/Tencent GCJ-02 or Baidu BD-09 (which
    no file format can declare) and the rest of linli: every vertex goes through
    :func:`to_wgs84`, with the same checks (coordinates outside China are an error naming the
    feature).

    Parameters
    ----------
    geometries : GeoSeries, GeoDataFrame or array of shapely geometries
    crs : str, pyproj.CRS or OffsetCRS
        What the coordinates really are (e.g. ``"GCJ02"``), whatever the layer says.
    source : str
        The file or layer, for messages.

    Returns
    -------
    geopandas.GeoSeries
        Indexed like the input, CRS EPSG:4326.

    Examples
    --------
    >>> import shapely
    >>> out = geometries_to_wgs84([shapely.Point(106.5700, 29.5500)], crs="GCJ02")
    >>> round(out.iloc[0].x, 4), round(out.iloc[0].y, 4)
    (106.5663, 29.5529)
    """
    import geopandas as gpd
    import shapely

    if isinstance(geometries, gpd.GeoDataFrame):
        series = geometries.geometry
    elif isinstance(geometries, gpd.GeoSeries):
        series = geometries
    else:
        series = gpd.GeoSeries(list(geometries))
    values = series.to_numpy()
    coords = shapely.get_coordinates(values)
    lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs=crs, source=source)
    converted = shapely.set_coordinates(values.copy(), np.column_stack([lon, lat]))
    return gpd.GeoSeries(converted, index=series.index, crs="EPSG:4326")
