"""Places a plan reads — homes with residents, candidate parcels, existing centres — from a
layer or a table, checked row by row.

A planning bureau's list of residential compounds comes as an Excel sheet or a GBK-encoded
CSV with Amap (GCJ-02) or Baidu (BD-09) coordinates as often as a GeoPackage.
:func:`read_places` takes any of them: tables through :func:`~linli.inputs.tables.read_table`
(encodings, header row, Excel row numbers) with their ``lon``/``lat`` columns in the declared
``crs``, layers through :func:`~linli.inputs.tables.read_layer` (``crs`` overrides the
file's own); points or polygons, returned in WGS-84.  Every problem — a missing column, a
cell that is not a number, a coordinate that cannot be right — is named by file, row and
field, all at once, and nothing is returned half-read.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from linli.inputs.crs import CRSLike
from linli.inputs.tables import (
    ProblemList,
    is_table,
    layer_to_wgs84,
    numbers,
    points_from_lonlat,
    read_table_or_layer,
)

__all__ = ["read_places"]


def read_places(
    path: str | PathLike[str],
    *,
    what: str,
    crs: CRSLike | None = None,
    required: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    layer: str | int | None = None,
) -> Any:
    """Read points or polygons from a layer or a table with coordinates, in WGS-84.

    Parameters
    ----------
    path : str or path-like
        A layer (``.gpkg``, ``.shp``, ``.geojson``, …) of points or polygons, or a table
        (``.csv``, ``.txt``, ``.xlsx``, …) with longitude and latitude columns (经度/纬度,
        lng/lat, x/y).
    what : str
        What the places are, for messages (e.g. ``"demand points"``).
    crs : str, pyproj.CRS or OffsetCRS, optional
        The coordinates' system (``"GCJ02"`` for Amap/Tencent, ``"BD09"`` for Baidu,
        ``"WGS84"``, ``"CGCS2000"``, an EPSG code): required for tables; for layers it
        overrides the file's own CRS (GCJ-02 data often calls itself EPSG:4326).
    required : mapping of str to str, optional
        Canonical number columns that must be present and filled, with what each must hold
        (e.g. ``{"population": "a number of residents ≥ 0"}``); parsed to float64.
    columns : mapping of str to str, optional
        More header → canonical name mappings (see :func:`~linli.inputs.tables.read_table`).
    sheet, layer : str or int, optional
        Which sheet of a workbook, or layer of a file; default the first.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326, indexed like the input (``row``: Excel's row number; ``feature``: from
        1), the columns with canonical names, the ``required`` ones as numbers.

    Raises
    ------
    InputError
        Listing every problem: no rows; a required column missing or a cell in it empty or
        not a number ≥ 0; a table without coordinate columns; missing, empty or non-point /
        polygon geometries; and the reading problems of the table and layer readers.
    CRSError
        (an InputError) No ``crs`` for a table, an unknown one, or coordinates that cannot be
        right for it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "小区.csv"
    >>> _ = path.write_text(
    ...     "小区,人口,经度,纬度\\n大坪小区,\\"3,200\\",106.5200,29.5400\\n", encoding="gbk")
    >>> homes = read_places(path, what="homes", crs="GCJ02",
    ...                     required={"population": "residents ≥ 0"})
    >>> float(homes.loc[2, "population"]), round(homes.geometry[2].x, 3)  # row 2, WGS-84
    (3200.0, 106.516)
    """
    import geopandas as gpd

    path = Path(path)
    source = str(path)
    table = is_table(path)
    frame = read_table_or_layer(path, sheet=sheet, layer=layer, columns=columns)
    problems = ProblemList(source)
    headers: Mapping[str, str] = frame.attrs.get("headers", {})
    where = (
        f"header row {frame.attrs['header_row']}"
        if "header_row" in frame.attrs
        else ("attribute table")
    )
    have = ", ".join(repr(h) for h in headers.values()) or "none"
    if len(frame) == 0:
        problems.add("the whole file", expected=f"at least one row of {what}", found="none")
    parsed: dict[str, pd.Series[float]] = {}
    for column, expected in (required or {}).items():
        if column not in frame.columns:
            problems.add(
                where, expected=f"a '{column}' column: {expected}", found=f"columns {have}"
            )
            continue
        parsed[column] = numbers(frame, column, problems=problems, expected=expected, required=True)
    if not table:
        geometry = layer_to_wgs84(frame, crs=crs, problems=problems, warnings=[])
    elif "lon" in frame.columns and "lat" in frame.columns:
        geometry = points_from_lonlat(frame, crs=crs, problems=problems)
    else:
        problems.add(
            where,
            expected="longitude and latitude columns (经度/纬度, lng/lat, x/y)",
            found=f"columns {have}",
        )
        geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs="EPSG:4326")
    problems.raise_if_any(what)
    data = frame.drop(columns=[c for c in ("geometry", "lon", "lat") if c in frame.columns])
    for column, values in parsed.items():
        data[column] = values
    out = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")
    out.attrs = {"source": source}
    return out
