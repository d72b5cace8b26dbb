"""Communities (社区): where they are, and how many households and people live in each.

A community comes as a boundary (polygon) or a point, with its name, street (街道) and
district (区), and households (户数) and/or population (人口). Three sources are read:

- a **layer** (GeoPackage, Shapefile, GeoJSON, …) of polygons or points, in the CRS the file
  declares unless ``crs=`` says otherwise (e.g. Amap GCJ-02 data saved as "EPSG:4326");
- a **table** (CSV/TXT/XLSX, see :func:`linli.inputs.tables.read_table`) with longitude and
  latitude columns. A table carries no CRS and Chinese tables hold Amap/Baidu coordinates as
  often as GPS ones, so ``crs=`` **must** be given: a wrong guess would move every point by
  about 500 m without any error;
- a **table without coordinates**, joined by name to a ``boundaries`` layer (see
  :func:`community_key` for how names are compared), using street and district, when both
  sides have them, to tell apart communities of the same name.

Everything is checked before anything is returned, and every problem is reported at once with
the file, the row as Excel shows it (or the feature number in a layer), the field, what was
expected and what was found.
"""

from __future__ import annotations

import difflib
import logging
from collections import defaultdict
from collections.abc import Hashable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from linli.inputs.crs import CRSLike
from linli.inputs.tables import (
    POLYGON,
    ProblemList,
    field_label,
    geometry_kinds,
    is_table,
    layer_frame,
    layer_to_wgs84,
    numbers,
    points_from_lonlat,
    read_layer,
    read_table_or_layer,
    row_label,
    text_key,
)

__all__ = ["COMMUNITY_COLUMNS", "community_key", "read_communities"]

log = logging.getLogger(__name__)

COMMUNITY_COLUMNS = ("name", "street", "district", "households", "population", "geometry_kind")
"""The columns :func:`read_communities` returns first (then the file's others, then geometry)."""

_SPENT = frozenset({*COMMUNITY_COLUMNS, "lon", "lat", "geometry"})
_COMMITTEE = ("居民委员会", "村民委员会", "居委会", "村委会")
_STREET = ("街道办事处", "街道办", "街道")
_SHOWN = 10


def community_key(name: str) -> str:
    """The form in which community names are matched.

    :func:`~linli.inputs.tables.text_key` (full-width, case and spaces ignored), then without
    the committee suffix (居民委员会, 居委会, 村民委员会, 村委会) and a final 社区, so that
    the statistical name 华一坡社区居民委员会 matches 华一坡社区 and 华一坡.

    Examples
    --------
    >>> [community_key(n) for n in ("华一坡社区居民委员会", " 华一坡社区 ", "华一坡")]
    ['华一坡', '华一坡', '华一坡']
    """
    key = text_key(name)
    for suffix in _COMMITTEE:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key.removesuffix(suffix)
            break
    if key.endswith("社区") and len(key) > 2:
        key = key.removesuffix("社区")
    return key


def _street_key(name: object) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    key = text_key(name)
    for suffix in _STREET:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix)
    return key


def _district_key(name: object) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    key = text_key(name)
    return key[:-1] if len(key) > 2 and key[-1] in "区县" else key


def read_communities(
    path: str | PathLike[str],
    *,
    crs: CRSLike | None = None,
    boundaries: str | PathLike[str] | Any | None = None,
    boundaries_crs: CRSLike | None = None,
    name_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    layer: str | int | None = None,
    boundaries_layer: str | int | None = None,
    require_counts: bool = True,
) -> Any:
    """Read communities from a layer or a table, check them, and return them in WGS-84.

    Parameters
    ----------
    path : str or path-like
        A layer (``.gpkg``, ``.shp``, ``.geojson``, …) of polygons or points, or a table
        (``.csv``, ``.txt``, ``.xlsx``, …) with ``lon``/``lat`` columns (经度/纬度) or with
        names to join to ``boundaries``. Columns are recognised by the aliases of
        :data:`linli.inputs.tables.COLUMN_ALIASES` (社区名称, 街道, 总户数, 常住人口, …).
    crs : str, pyproj.CRS or OffsetCRS, optional, keyword-only
        What the coordinates of ``path`` are (see :func:`linli.inputs.crs.parse_crs`):
        ``"GCJ02"`` for Amap/Tencent, ``"BD09"`` for Baidu, ``"WGS84"``, an EPSG code…
        Layers: overrides the file's own CRS. Tables with coordinates: required.
    boundaries : str, path-like or GeoDataFrame, optional, keyword-only
        Community polygons to join a table's names to. When given, a table's own lon/lat
        columns are not used. Needs a name column; street and district columns, if present on
        both sides, tell apart communities of the same name.
    boundaries_crs : optional, keyword-only
        Overrides the CRS of ``boundaries`` (e.g. ``"GCJ02"``).
    name_column : str, optional, keyword-only
        The header of the community names, if no alias recognises it.
    columns : mapping of str to str, optional, keyword-only
        More header → canonical name mappings, e.g. ``{"居民户数(户)": "households"}``.
    sheet, layer, boundaries_layer : str or int, optional, keyword-only
        Which sheet of a workbook, or layer of ``path`` / ``boundaries``; default the first.
    require_counts : bool, default True, keyword-only
        Require a households or a population column. Blank cells are allowed in either (NaN:
        the audit estimates them).

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326; columns ``name``, ``street``, ``district`` (text or None),
        ``households``, ``population`` (float64, NaN where not given), ``geometry_kind``
        (``"polygon"`` or ``"point"``), the file's other columns, ``geometry``. Indexed like
        the input: ``row`` (Excel's row number) for tables, ``feature`` (from 1) for layers.
        ``attrs["warnings"]`` lists what was repaired or left unmatched (also logged).

    Raises
    ------
    InputError
        Listing every problem: missing columns; blank names; households or population that
        are not numbers ≥ 0; a name twice in one street; missing, empty, unrepairable or
        non-point/polygon geometries; table names that match no boundary (with the closest
        boundary names) or several; and the encoding problems of
        :func:`~linli.inputs.tables.read_table`.
    CRSError
        (an InputError) The CRS is missing or unknown, or coordinates cannot be right for it
        (outside China for GCJ-02/BD-09; beyond ±180/±90 for degrees).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "communities.csv"
    >>> _ = path.write_text(
    ...     "社区名称,街道,户数,经度,纬度\\n华一坡社区,七星岗街道,\\"2,150\\",106.5737,29.5571\\n",
    ...     encoding="utf-8-sig",
    ... )
    >>> out = read_communities(path, crs="GCJ02")
    >>> row = out.loc[2]  # Excel's row 2
    >>> row["name"], float(row["households"]), row["geometry_kind"]
    ('华一坡社区', 2150.0, 'point')
    >>> round(out.geometry[2].x, 4)  # GCJ-02 → WGS-84
    106.57
    """
    import geopandas as gpd

    path = Path(path)
    source = str(path)
    mapping = dict(columns or {})
    if name_column is not None:
        mapping[name_column] = "name"
    table = is_table(path)
    frame = read_table_or_layer(path, sheet=sheet, layer=layer, columns=mapping)
    problems = ProblemList(source)
    warnings: list[str] = []
    _check_columns(frame, problems, require_counts=require_counts)
    names = frame["name"] if "name" in frame.columns else pd.Series(None, index=frame.index)
    for label, name in names.items():
        if "name" in frame.columns and not isinstance(name, str):
            problems.add(
                f"{row_label(frame, label)}, {field_label(frame, 'name')}",
                expected="a community name",
                found="an empty cell",
            )
    households = numbers(
        frame, "households", problems=problems, expected="a number of households ≥ 0"
    )
    population = numbers(frame, "population", problems=problems, expected="a population ≥ 0")
    _check_duplicates(frame, problems)

    filled: dict[str, pd.Series[Any]] = {}
    if not table:
        geometry = layer_to_wgs84(frame, crs=crs, problems=problems, warnings=warnings)
    elif boundaries is not None:
        if "lon" in frame.columns or "lat" in frame.columns:
            log.info("%s: joined by name to the boundaries; its lon/lat are not used", source)
        geometry, filled = _join(
            frame,
            boundaries,
            crs=boundaries_crs,
            layer=boundaries_layer,
            problems=problems,
            warnings=warnings,
        )
    elif "lon" in frame.columns and "lat" in frame.columns:
        geometry = points_from_lonlat(frame, crs=crs, problems=problems)
    else:
        have = ", ".join(repr(h) for h in frame.attrs.get("headers", {}).values())
        problems.add(
            f"header row {frame.attrs.get('header_row', 1)}",
            expected="longitude and latitude columns (经度/纬度, lng/lat, x/y), or boundaries= "
            "a layer of community polygons to join the names to",
            found=f"columns {have}" if have else "no columns",
        )
        geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs="EPSG:4326")
    problems.raise_if_any("the communities")

    data: dict[str, Any] = {
        "name": names.astype(object),
        "street": _text_column(frame, "street", filled),
        "district": _text_column(frame, "district", filled),
        "households": households,
        "population": population,
        "geometry_kind": geometry_kinds(geometry),
    }
    for column in frame.columns:
        if column not in _SPENT:
            data[column] = frame[column]
    out = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326", index=frame.index)
    for message in warnings:
        log.warning(message)
    out.attrs = {"source": source, "warnings": warnings}
    return out


def _text_column(
    frame: pd.DataFrame, column: str, filled: Mapping[str, pd.Series[Any]]
) -> pd.Series[Any]:
    own = (
        frame[column].astype(object)
        if column in frame.columns
        else pd.Series(None, index=frame.index, dtype=object)
    )
    if column in filled:
        own = own.where(own.notna(), filled[column])
    return own


def _check_columns(frame: pd.DataFrame, problems: ProblemList, *, require_counts: bool) -> None:
    headers: Mapping[str, str] = frame.attrs.get("headers", {})
    where = (
        f"header row {frame.attrs['header_row']}"
        if "header_row" in frame.attrs
        else "attribute table"
    )
    have = ", ".join(repr(h) for h in headers.values()) or "none"
    if "name" not in frame.columns:
        problems.add(
            where,
            expected="a column of community names (社区, 社区名称, 名称, name; or name_column=)",
            found=f"columns {have}",
        )
    if require_counts and not {"households", "population"} & set(frame.columns):
        problems.add(
            where,
            expected="a households column (户数, 住户数, 总户数, households) or a population "
            "column (人口, 常住人口, 人数, population)",
            found=f"columns {have}",
        )


def _check_duplicates(frame: pd.DataFrame, problems: ProblemList) -> None:
    if "name" not in frame.columns:
        return
    groups: dict[tuple[str | None, str | None, str], list[Any]] = defaultdict(list)
    for label, row in frame.iterrows():
        name = row["name"]
        if not isinstance(name, str):
            continue
        street = _street_key(row["street"]) if "street" in frame.columns else None
        district = _district_key(row["district"]) if "district" in frame.columns else None
        groups[(district, street, community_key(name))].append(label)
    unit = frame.index.name or "row"
    for labels in groups.values():
        if len(labels) < 2:
            continue
        written_street = frame.at[labels[0], "street"] if "street" in frame.columns else None
        within = (
            f"in street {written_street!r}"
            if isinstance(written_street, str)
            else "(no street given)"
        )
        written = " and ".join(repr(n) for n in dict.fromkeys(frame.loc[labels, "name"]))
        problems.add(
            f"{unit}s {', '.join(str(x) for x in labels)}, {field_label(frame, 'name')}",
            expected="each community once per street (add a street column to tell apart "
            "communities of the same name)",
            found=f"{len(labels)} rows for {written} {within}",
        )


def _join(
    table: pd.DataFrame,
    boundaries: Any,
    *,
    crs: CRSLike | None,
    layer: str | int | None,
    problems: ProblemList,
    warnings: list[str],
) -> tuple[Any, dict[str, pd.Series[Any]]]:
    """Boundary geometry for each table row, matched by name (then street, district)."""
    import geopandas as gpd

    empty = gpd.GeoSeries([None] * len(table), index=table.index, crs="EPSG:4326")
    if isinstance(boundaries, str | PathLike):
        layer_in = read_layer(boundaries, layer=layer)
    else:
        layer_in = layer_frame(boundaries, source="boundaries")
    found = ProblemList(str(layer_in.attrs["source"]))
    if "name" not in layer_in.columns:
        have = ", ".join(repr(h) for h in layer_in.attrs.get("headers", {}).values()) or "none"
        found.add(
            "attribute table",
            expected="a column of community names (社区, 社区名称, 名称, name)",
            found=f"columns {have}",
        )
    shapes = layer_to_wgs84(layer_in, crs=crs, problems=found, warnings=warnings, kinds=(POLYGON,))
    problems.extend(found.items, crs=found.crs)
    if "name" not in layer_in.columns or "name" not in table.columns:
        return empty, {}

    by_name: dict[str, list[Hashable]] = defaultdict(list)
    for label, name in layer_in["name"].items():
        if isinstance(name, str):
            by_name[community_key(name)].append(label)
    shown_name = {key: str(layer_in.at[labels[0], "name"]) for key, labels in by_name.items()}
    matched: dict[Hashable, Hashable] = {}
    for label, row in table.iterrows():
        name = row["name"]
        if not isinstance(name, str):
            continue
        where = f"{row_label(table, label)}, {field_label(table, 'name')}"
        candidates = by_name.get(community_key(name), [])
        narrowed = candidates
        for column, key in (("street", _street_key), ("district", _district_key)):
            narrowed = _narrow(narrowed, row, layer_in, table, column, key)
        if len(narrowed) == 1:
            matched[label] = narrowed[0]
            continue
        if not candidates:
            close = difflib.get_close_matches(community_key(name), list(by_name), n=3, cutoff=0.5)
            hint = (
                "closest boundary names: " + ", ".join(repr(shown_name[k]) for k in close)
                if close
                else "no boundary name is close"
            )
            problems.add(
                where,
                expected=f"a community name found in {found.source}",
                found=f"{name!r}, which matches no boundary; {hint}",
            )
        elif not narrowed:
            places = "; ".join(_place(layer_in, b) for b in candidates)
            problems.add(
                where,
                expected=f"a community found in {found.source} in the same street/district",
                found=f"{name!r} {_place(table, label)}, but the boundaries have it {places}",
            )
        else:
            places = "; ".join(f"{row_label(layer_in, b)} {_place(layer_in, b)}" for b in narrowed)
            problems.add(
                where,
                expected="a name that identifies one boundary (add street and district columns "
                "to both)",
                found=f"{name!r}, which matches {len(narrowed)} boundaries: {places}",
            )

    used: dict[Hashable, list[Hashable]] = defaultdict(list)
    for label, boundary in matched.items():
        used[boundary].append(label)
    unit = table.index.name or "row"
    for boundary, labels in used.items():
        if len(labels) > 1:
            problems.add(
                f"{unit}s {', '.join(str(x) for x in labels)}, {field_label(table, 'name')}",
                expected="one table row per boundary",
                found=f"{len(labels)} rows matching {row_label(layer_in, boundary)} "
                f"({layer_in.at[boundary, 'name']!r})",
            )
    unused = [b for b in layer_in.index if b not in used]
    if unused:
        listed = ", ".join(repr(layer_in.at[b, "name"]) for b in unused[:_SHOWN])
        more = f" and {len(unused) - _SHOWN} more" if len(unused) > _SHOWN else ""
        warnings.append(
            f"{found.source}: {len(unused)} of {len(layer_in)} boundaries have no row in "
            f"{problems.source}: {listed}{more}"
        )

    geometry = empty.copy()
    rows: list[Any] = list(matched)
    targets = [matched[r] for r in rows]
    if rows:
        geometry.loc[rows] = shapes.loc[targets].to_numpy()
    filled: dict[str, pd.Series[Any]] = {}
    for column in ("street", "district"):
        if column in layer_in.columns and rows:
            values = pd.Series(None, index=table.index, dtype=object)
            values.loc[rows] = layer_in.loc[targets, column].to_numpy()
            filled[column] = values
    return geometry, filled


def _narrow(
    candidates: list[Hashable],
    row: pd.Series[Any],
    layer: pd.DataFrame,
    table: pd.DataFrame,
    column: str,
    key: Any,
) -> list[Hashable]:
    if column not in table.columns or column not in layer.columns:
        return candidates
    wanted = key(row[column])
    if wanted is None:
        return candidates
    return [b for b in candidates if key(layer.at[b, column]) in (wanted, None)]


def _place(frame: pd.DataFrame, label: Hashable) -> str:
    parts = [
        f"{column} {frame.at[label, column]!r}"
        for column in ("district", "street")
        if column in frame.columns and isinstance(frame.at[label, column], str)
    ]
    return "in " + ", ".join(parts) if parts else "(no street or district given)"
