"""Existing facilities (现有设施) given by the user: what they are, where, how big, how usable.

Each facility is a point or polygon with its ``type`` — the standard's Chinese name
(卫生服务站), its id (``health_station``) or an alias the profile lists — and its
``floor_area_m2``; optionally the floor it is on (楼层), whether the building has a lift
(电梯) and whether the rooms are in a basement (地下室). Read from a layer, or from a table
with longitude/latitude columns and an explicit ``crs=`` (see
:mod:`linli.inputs.communities` for why tables need one).

Floors (:func:`parse_floor`)
    Chinese numbering: the ground floor is 1. Integers ('3', '3层', '3楼', '3F', 'F3', '三层');
    basements ('B1', '-1', '负一层', '负1层', '地下一层', '地下室', '半地下' → -1); ranges and
    lists ('1-3', '1~3层', '1至3层', '2、3层', 'B1-2') give the **lowest** floor, the one that
    decides how easily people reach the rooms. '首层'/'底层' are 1. A floor 0 is kept as
    written (some data number the ground floor 0).
Yes/no (:func:`parse_yes_no`)
    是/否, 有/无, 没有, yes/no, y/n, true/false, 1/0, √/×. Blank: not known.
Basement
    The ``basement`` column when given; else whether the floor is below ground (< 0); else
    False. A basement column that contradicts the floor ('否' on floor -1) is an error.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd

from linli._errors import StandardError
from linli.inputs.crs import CRSLike
from linli.inputs.tables import (
    ProblemList,
    field_label,
    is_table,
    layer_to_wgs84,
    numbers,
    points_from_lonlat,
    read_table_or_layer,
    row_label,
    text_key,
)
from linli.standards import Profile, load_profile

__all__ = ["FACILITY_COLUMNS", "parse_floor", "parse_yes_no", "read_facilities"]

log = logging.getLogger(__name__)

FACILITY_COLUMNS = (
    "facility_id",
    "facility_name",
    "tier",
    "floor_area_m2",
    "floor",
    "lift",
    "basement",
    "source",
)
"""The columns :func:`read_facilities` returns first (then the file's others, then geometry)."""

_SPENT = frozenset({*FACILITY_COLUMNS, "type", "lon", "lat", "geometry"})

_YES = frozenset({"是", "有", "yes", "y", "true", "t", "1", "√", "✓", "✔", "是的", "有电梯"})
_NO = frozenset({"否", "无", "没有", "no", "n", "false", "f", "0", "×", "✗", "✘", "无电梯"})

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGITS |= {"八": 8, "九": 9}
_NUMBER = r"\d+|[零一二两三四五六七八九十]+"
_FLOOR = re.compile(
    rf"(?P<below>b|-|负|地下)?f?(?P<number>{_NUMBER})(?:层|楼|f)?",
)
# A separator of a range or list follows a floor; a '-' at the start, or after another
# separator, is a minus sign.
_RANGE = re.compile(r"(?<=[0-9一二两三四五六七八九十层楼f])[-~至到—–、,/]")
_GROUND = frozenset({"首层", "底层", "一楼", "地面层", "g", "gf"})
_BASEMENT_WORDS = frozenset({"地下室", "地下", "半地下", "半地下室", "b"})


def _chinese_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" not in text:
        if len(text) != 1:
            raise ValueError(text)
        return _DIGITS[text]
    tens, _, ones = text.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _one_floor(text: str) -> int:
    if text in _GROUND:
        return 1
    if text in _BASEMENT_WORDS:
        return -1
    match = _FLOOR.fullmatch(text)
    if match is None:
        raise ValueError(text)
    number = _chinese_number(match.group("number"))
    return -number if match.group("below") else number


def parse_floor(value: object) -> int | None:
    """The floor a facility is on, Chinese numbering (ground floor 1, basements negative).

    See the module documentation for the forms read; ranges give the lowest floor.

    Parameters
    ----------
    value : object
        A cell: a number or text.

    Returns
    -------
    int or None
        None for a blank cell.

    Raises
    ------
    ValueError
        For anything else.

    Examples
    --------
    >>> [parse_floor(v) for v in (3, "3层", "B1", "负一层", "-1", "1-3", "B1-2", "十二楼", "")]
    [3, 3, -1, -1, -1, 1, -1, 12, None]
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a floor")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        if not float(value).is_integer():
            raise ValueError(f"{value!r} is not a whole floor")
        return int(value)
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)).casefold())
    if not text:
        return None
    try:
        return _one_floor(text)
    except (ValueError, KeyError):
        pass
    parts = _RANGE.split(text)
    if len(parts) < 2:
        raise ValueError(f"{value!r} is not a floor")
    try:
        floors = [_one_floor(p) for p in parts]
    except (ValueError, KeyError):
        raise ValueError(f"{value!r} is not a floor") from None
    return min(floors)


def parse_yes_no(value: object) -> bool | None:
    """Read a yes/no cell (是/否, 有/无, yes/no, true/false, 1/0, √/×).

    Returns None for a blank cell; raises ValueError for anything else.

    Examples
    --------
    >>> [parse_yes_no(v) for v in ("有", "无", "Yes", 0, True, None)]
    [True, False, True, False, True, None]
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"{value!r} is not yes or no")
    text = text_key(value)
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"{value!r} is not yes or no")


@dataclass(frozen=True)
class _Type:
    id: str
    name: str
    tier: str


def _facility_types(profile: Profile) -> dict[str, _Type]:
    """Every name a facility type answers to (id, Chinese name, aliases) → the type."""
    if callable(getattr(profile, "facility_types", None)):
        found: dict[str, _Type] = {}
        tiers: Any = getattr(profile, "tiers", ())
        for tier in tiers:
            for f in tier.facilities:
                entry = _Type(str(f.id), str(f.name), str(tier.id))
                for name in f.names():
                    found.setdefault(text_key(name), entry)
        return found
    # Profiles before FacilityType: the raw [[tiers]] tables.
    found = {}
    for tier in profile.data.get("tiers", []):
        for f in tier.get("facilities", []):
            entry = _Type(str(f["id"]), str(f["name"]), str(tier["id"]))
            for name in (f["id"], f["name"], f.get("name_en", ""), *f.get("aliases", ())):
                if name:
                    found.setdefault(text_key(name), entry)
    return found


def _lookup(profile: Profile, types: Mapping[str, _Type], value: str) -> _Type | None:
    """The facility type named by ``value``: the profile's own lookup where it has one."""
    facility = getattr(profile, "facility", None)
    if callable(facility):
        try:
            return types[text_key(facility(value).id)]
        except StandardError:
            return None
    return types.get(text_key(value))


def _suggest(types: Mapping[str, _Type], value: str) -> str:
    key = text_key(value)
    contained = [t for k, t in types.items() if len(k) > 1 and (k in key or key in k)]
    close = [types[k] for k in difflib.get_close_matches(key, list(types), n=6, cutoff=0.4)]
    shown = list(dict.fromkeys(f"{t.name} ({t.id})" for t in [*contained, *close]))[:3]
    if shown:
        return "closest: " + ", ".join(shown)
    return "the profile's types: " + ", ".join(
        dict.fromkeys(f"{t.name} ({t.id})" for t in types.values())
    )


def read_facilities(
    path: str | PathLike[str],
    *,
    profile: Profile | str | PathLike[str],
    crs: CRSLike | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    layer: str | int | None = None,
) -> Any:
    """Read existing facilities, match their types to the standard, check them.

    Parameters
    ----------
    path : str or path-like
        A layer of points or polygons, or a table with ``lon``/``lat`` columns (经度/纬度).
        Columns are recognised by :data:`linli.inputs.tables.COLUMN_ALIASES`: ``type``
        (类型, 设施类型, 设施名称), ``floor_area_m2`` (面积, 建筑面积, 建筑面积(㎡)),
        ``floor`` (楼层), ``lift`` (电梯, 有无电梯), ``basement`` (地下室, 是否地下).
    profile : Profile, str or path-like, keyword-only
        The standards profile whose facility types the ``type`` column names (a loaded
        profile, a shipped profile's name such as ``"chongqing-2019"``, or a file).
    crs : str, pyproj.CRS or OffsetCRS, optional, keyword-only
        What the coordinates are (``"GCJ02"``, ``"BD09"``, ``"WGS84"``, an EPSG code…).
        Layers: overrides the file's own CRS. Tables: required.
    columns : mapping of str to str, optional, keyword-only
        More header → canonical name mappings, e.g. ``{"用房面积": "floor_area_m2"}``.
    sheet, layer : str or int, optional, keyword-only
        Which sheet or layer; default the first.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326; columns ``facility_id`` (the profile's id), ``facility_name`` (its
        Chinese name), ``tier`` (the profile's tier id), ``floor_area_m2`` (float, m²),
        ``floor`` (Int64, ground floor 1, basements negative; NA if not given), ``lift``
        (nullable boolean), ``basement`` (bool), ``source`` (``"user"``), the file's other
        columns, ``geometry``. Indexed like the input (``row``: Excel's row number;
        ``feature``: from 1).

    Raises
    ------
    InputError
        Listing every problem: missing columns; types the profile does not know (each row,
        with the closest names); floor areas that are missing, not numbers or negative;
        floors, lift or basement values that cannot be read; basement values that contradict
        the floor; geometry problems as for communities.
    CRSError
        (an InputError) The CRS is missing or unknown, or coordinates cannot be right for it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "设施.csv"
    >>> _ = path.write_text(
    ...     "设施类型,建筑面积(㎡),楼层,有无电梯,经度,纬度\\n卫生站,320,B1,无,106.57,29.55\\n",
    ...     encoding="gbk",
    ... )
    >>> out = read_facilities(path, profile="chongqing-2019", crs="WGS84")
    >>> row = out.loc[2]  # Excel's row 2
    >>> row.facility_id, row.tier, int(row.floor), bool(row.lift), bool(row.basement)
    ('health_station', 'community_home', -1, False, True)
    """
    import geopandas as gpd

    if not isinstance(profile, Profile):
        profile = load_profile(profile if isinstance(profile, str) else Path(profile))
    path = Path(path)
    source = str(path)
    table = is_table(path)
    frame = read_table_or_layer(path, sheet=sheet, layer=layer, columns=columns)
    problems = ProblemList(source)
    warnings: list[str] = []
    _check_columns(frame, problems, table=table)

    types = _facility_types(profile)
    matched: dict[Any, _Type] = {}
    if "type" in frame.columns:
        for label, value in frame["type"].items():
            where = f"{row_label(frame, label)}, {field_label(frame, 'type')}"
            if not isinstance(value, str):
                problems.add(where, expected="a facility type", found="an empty cell")
                continue
            found = _lookup(profile, types, value)
            if found is None:
                problems.add(
                    where,
                    expected=f"a facility type of the standard {profile.id} (its Chinese name, "
                    "id or an alias)",
                    found=f"{value!r}; {_suggest(types, value)}",
                )
                continue
            matched[label] = found
    area = numbers(
        frame,
        "floor_area_m2",
        problems=problems,
        expected="a floor area in m² ≥ 0",
        required="floor_area_m2" in frame.columns,
    )
    floor = _parsed(frame, "floor", parse_floor, problems, "a floor such as 3, '3层', 'B1', '1-3'")
    lift = _parsed(frame, "lift", parse_yes_no, problems, "yes or no (是/否, 有/无)")
    basement_given = _parsed(frame, "basement", parse_yes_no, problems, "yes or no (是/否)")
    basement = pd.Series(False, index=frame.index, dtype=bool)
    for label in frame.index:
        given, level = basement_given[label], floor[label]
        below = None if level is None else level < 0
        if given is not None and below is not None and given != below:
            problems.add(
                f"{row_label(frame, label)}, {field_label(frame, 'basement')}",
                expected=f"agreement with {field_label(frame, 'floor')} "
                f"{frame.at[label, 'floor']!r}",
                found=repr(frame.at[label, "basement"]),
            )
        basement[label] = bool(given if given is not None else below)

    if table:
        if "lon" in frame.columns and "lat" in frame.columns:
            geometry = points_from_lonlat(frame, crs=crs, problems=problems)
        else:
            geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs="EPSG:4326")
    else:
        geometry = layer_to_wgs84(frame, crs=crs, problems=problems, warnings=warnings)
    problems.raise_if_any("the facilities")

    labels = list(frame.index)
    data: dict[str, Any] = {
        "facility_id": [matched[i].id for i in labels],
        "facility_name": [matched[i].name for i in labels],
        "tier": [matched[i].tier for i in labels],
        "floor_area_m2": area,
        "floor": pd.array([floor[i] for i in labels], dtype="Int64"),
        "lift": pd.array([lift[i] for i in labels], dtype="boolean"),
        "basement": basement,
        "source": "user",
    }
    for column in frame.columns:
        if column not in _SPENT:
            data[column] = frame[column]
    out = gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326", index=frame.index)
    for message in warnings:
        log.warning(message)
    out.attrs = {"source": source, "warnings": warnings, "profile": profile.id}
    return out


def _check_columns(frame: pd.DataFrame, problems: ProblemList, *, table: bool) -> None:
    headers: Mapping[str, str] = frame.attrs.get("headers", {})
    where = (
        f"header row {frame.attrs['header_row']}"
        if "header_row" in frame.attrs
        else "attribute table"
    )
    have = ", ".join(repr(h) for h in headers.values()) or "none"
    wanted = {
        "type": "a facility type column (类型, 设施类型, 设施名称, type)",
        "floor_area_m2": "a floor area column in m² (面积, 建筑面积, 建筑面积(㎡), floor_area_m2)",
    }
    if table:
        wanted["lon"] = "a longitude column (经度, lng, lon, x)"
        wanted["lat"] = "a latitude column (纬度, lat, y)"
    for column, expected in wanted.items():
        if column not in frame.columns:
            problems.add(where, expected=expected, found=f"columns {have}")


def _parsed(
    frame: pd.DataFrame,
    column: str,
    parse: Any,
    problems: ProblemList,
    expected: str,
) -> dict[Any, Any]:
    """Parse each cell of an optional column; None where blank, bad or absent."""
    if column not in frame.columns:
        return dict.fromkeys(frame.index)
    out: dict[Any, Any] = {}
    for label, value in frame[column].items():
        try:
            out[label] = parse(value)
        except ValueError:
            problems.add(
                f"{row_label(frame, label)}, {field_label(frame, column)}",
                expected=expected,
                found=repr(value),
            )
            out[label] = None
    return out
