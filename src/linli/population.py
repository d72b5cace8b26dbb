"""Households and population: which buildings are homes, and how many people live where.

The audit needs *demand points*: places where residents live, each with a population and a
number of households.  Official tables rarely say more than a district's or a community's total,
so linli spreads a total the user gives over the homes OpenStreetMap shows, in proportion to
their floor area, and over residential streets where the buildings are not mapped.

Which buildings are homes (:func:`classify_buildings`)
-----------------------------------------------------
The rules are applied in this order; the first that applies decides, and ``home_reason`` says
which one it was.

1. A building without a footprint (an OSM node, or a polygon of zero area) is not a home:
   ``no_footprint``; nor is one outside the study area, when one is given:
   ``outside_study_area``.
2. ``building`` = one of :data:`RESIDENTIAL_BUILDINGS` (``residential``, ``apartments``,
   ``house``, ``detached``, ``semidetached_house``, ``terrace``, ``dormitory``, ``bungalow``,
   ``farm``), or ``building=yes`` with ``building:use=residential``, is a home: ``tagged``.
   Other tags do not remove it (flats above ground-floor shops, 底商, are the norm in Chinese
   cities), nor does its size or the landuse around it.
3. Any other ``building`` value than ``yes`` (``school``, ``hospital``, ``commercial``,
   ``retail``, ``office``, ``industrial``, ``hotel``, ``roof``, ``construction`` …) is not a
   home: ``non_residential_building``.
4. ``building=yes`` carrying any of :data:`NON_RESIDENTIAL_KEYS` (``amenity``, ``shop``,
   ``office``, ``tourism``, ``leisure``, ``craft``, ``healthcare`` …, any value but ``no``),
   or a ``building:use`` other than residential, is not a home: ``non_residential_tag``.
5. ``building=yes`` with a footprint below ``min_home_footprint_m2`` (40 m²) is a kiosk, shed,
   toilet block or substation, not a home: ``too_small``.
6. ``building=yes`` standing in non-residential land (:data:`NON_RESIDENTIAL_LANDUSE`:
   ``landuse=commercial|retail|industrial|education|…``, or a campus polygon with
   ``amenity=school|university|hospital|…``) is not a home: ``in_non_residential_landuse``.
7. With residential landuse polygons (``landuse=residential``), a ``building=yes`` inside one
   is a home (``yes_in_residential_landuse``) and one outside all of them is not
   (``outside_residential_landuse``).
8. Without residential landuse polygons (none given, or none in the layer: most of OSM China),
   a ``building=yes`` that passed rules 4-6 is a home, flagged uncertain:
   ``yes_without_landuse``.

"Standing in" a polygon means the building's representative point (a point on its surface)
lies in it.  ``home_certainty`` is ``tagged`` (rule 2), ``landuse`` (rule 7) or ``uncertain``
(rule 8).

Floor area
----------
Footprints are measured in the local UTM zone (:func:`linli.inputs.crs.local_metric_crs`).
Floor area = footprint × levels, with levels from ``building:levels`` (the largest number if
several are given), else ``height`` / ``metres_per_level`` rounded (at least 1), else
``default_levels``; ``levels_source`` says which (``tag``, ``height``, ``default``).

Spreading the total (:func:`estimate_population`)
-------------------------------------------------
Residents are spread in proportion to floor area, so every resident gets the same floor area.
Populations are floats (a building's share of a district is an estimate; rounding it to whole
persons would add nothing but noise); the largest one absorbs the last rounding error so that
the sum equals the given total to well under 1e-6.  ``households`` = population /
persons-per-household.

OSM rarely maps every building.  To put residents where buildings are missing, the study area
is cut into square cells of ``cell_m`` (100 m).  A cell's *residential land* is its part of
the study area (when one is given) less non-residential landuse, and, when residential landuse
polygons are given, only its part of them; only cells with a home or a residential street
count.  A cell is *mapped* when OSM buildings of any kind cover at least ``min_mapped_cover``
(10 %) of its land.  Mapped cells give the *home density* d = home floor area / land (m² of
floor per m² of land).  A cell that is not mapped but has residential streets receives the floor
area it would have at that density, less what its own homes give, max(0, d × land − homes),
spread along its streets: one point every ``street_spacing_m`` (50 m) of residential street
(:data:`RESIDENTIAL_STREETS`), each weighted by the length it stands for.  So residents live in
the mapped homes where buildings are mapped, and along the streets where they are not, at the
density seen where they are.

``method`` chooses:

- ``"auto"`` (default): ``"mixed"``, unless buildings are too thin to estimate a density —
  fewer than ``min_buildings`` homes, or mapped cells holding less than ``min_mapped_share``
  (5 %) of the residential land — when it is ``"streets"``; without streets, ``"buildings"``.
- ``"buildings"``: homes only.
- ``"streets"``: residential streets only, population ∝ street length (in residential
  landuse when given).
- ``"mixed"``: as above.

The :class:`PopulationReport` says which method was used, how many residents each kind of point
took, the homes by reason and by source of levels, and warnings.

Defaults
--------
Numbers that are not policy but method assumptions are gathered in
:class:`EstimateDefaults` (one place, each documented); a profile's ``[population]`` table
may override them by the same names (:meth:`EstimateDefaults.from_profile`).  The policy's
persons per household comes from the profile only (:func:`persons_per_household`).

Zones
-----
:func:`population_by_zone` sums demand per community polygon (point in polygon) and reports what
falls outside every zone.  :func:`zones_from_points` derives zones when only community points
are known: Voronoi polygons of the points clipped to the study area, or, given a walking
network, "walking Voronoi" zones (each network junction goes to the community nearest by
walking time); the zones are marked ``derived``.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from linli._errors import InputError, Problem, StandardError
from linli.inputs.crs import local_metric_crs
from linli.inputs.osm import read_osm_streets
from linli.network.build import WalkNetwork
from linli.standards import DEFAULT_PROFILE, Profile, load_profile

__all__ = [
    "DEFAULTS",
    "NON_RESIDENTIAL_KEYS",
    "NON_RESIDENTIAL_LANDUSE",
    "RESIDENTIAL_BUILDINGS",
    "RESIDENTIAL_STREETS",
    "EstimateDefaults",
    "PopulationReport",
    "ZoneReport",
    "classify_buildings",
    "estimate_population",
    "persons_per_household",
    "population_by_zone",
    "read_osm_streets",
    "residential_buildings",
    "zones_from_points",
]

log = logging.getLogger(__name__)

F8 = NDArray[np.float64]
I8 = NDArray[np.int64]
B1 = NDArray[np.bool_]

WGS84 = "EPSG:4326"

# --- OSM tagging conventions (facts about the data format, not policy numbers) ---------------

RESIDENTIAL_BUILDINGS = frozenset(
    {
        "residential", "apartments", "house", "detached", "semidetached_house", "terrace",
        "dormitory", "bungalow", "farm",
    }
)  # fmt: skip
"""``building`` values that are homes whatever else the building carries (``farm`` is the
farmhouse, per the OSM wiki)."""

NON_RESIDENTIAL_KEYS = (
    "amenity", "shop", "office", "tourism", "leisure", "craft", "healthcare", "sport",
    "public_transport", "railway", "aeroway", "military", "man_made", "industrial", "emergency",
)  # fmt: skip
"""Keys that make a ``building=yes`` something other than a home (any value but ``no``)."""

NON_RESIDENTIAL_LANDUSE = frozenset(
    {
        "commercial", "retail", "industrial", "railway", "military", "education", "religious",
        "cemetery", "garages", "port", "depot", "institutional", "construction", "brownfield",
        "landfill", "quarry", "recreation_ground",
    }
)  # fmt: skip
"""``landuse`` values where a ``building=yes`` is not a home and no street carries residents."""

CAMPUS_AMENITIES = frozenset(
    {"school", "university", "college", "kindergarten", "hospital", "clinic", "prison"}
)
"""``amenity`` values of polygons treated as non-residential land when a landuse layer has an
``amenity`` column (Chinese campuses are often mapped this way, without ``landuse``)."""

RESIDENTIAL_STREETS = (
    "residential", "living_street", "service", "footway", "steps", "pedestrian",
)  # fmt: skip
"""``highway`` types along which residents are spread where buildings are missing.  Steps and
pedestrian streets are included because in Chongqing's hillside neighbourhoods many homes are
reached only by them (an assumption)."""

HOME_REASONS: tuple[str, ...] = ("tagged", "yes_in_residential_landuse", "yes_without_landuse")
"""``home_reason`` values of buildings counted as homes."""

_CERTAINTY = {
    "tagged": "tagged",
    "yes_in_residential_landuse": "landuse",
    "yes_without_landuse": "uncertain",
}

Method = Literal["auto", "buildings", "streets", "mixed"]
_METHODS = ("auto", "buildings", "streets", "mixed")

_SUSPECT_SINGLE_LEVEL_SHARE = 0.25
"""Above this share of homes tagged ``building:levels=1`` the report warns of placeholders."""
_TALL_UNTAGGED_LEVELS = 40.0
"""Homes inferred from ``building=yes`` with this many levels or more are named in a warning:
supertall towers are often offices or hotels (Yuzhong's 228-350 m towers are ``building=yes``)
but some are flats, so they are counted and flagged rather than guessed."""
_LOW_FLOOR_AREA_SHARE = 0.25
"""The report warns that homes are missing when they give residents less than this share of the
reference floor area per person (``floor_area_m2_per_person``)."""
_MAX_LEVELS = 200.0  # taller than any building: a typo, not a level count
_MAX_HEIGHT_M = 1000.0
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_HEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|metres|meters|ft|feet|')?\s*$")


# --- Defaults: one place --------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateDefaults:
    """Method defaults for estimating population: assumptions, not policy.

    Every keyword of :func:`classify_buildings` and :func:`estimate_population` with a number
    defaults to the field of the same name of :data:`DEFAULTS`.  A standards profile's
    ``[population]`` table may set any of them (:meth:`from_profile`); the shipped
    ``chongqing-2019`` sets ``default_levels``, ``min_home_footprint_m2`` and
    ``floor_area_m2_per_person``, and the values here agree with it.

    Attributes
    ----------
    min_home_footprint_m2 : float
        A ``building=yes`` with a smaller footprint is not a home (40 m²).  Assumption: below
        this OSM's untagged buildings in Chinese cities are kiosks, sheds, toilet blocks, guard
        booths and substations; in Yuzhong 15 of 1,537 ``building=yes`` are below it.
    default_levels : float
        Levels of a building with neither ``building:levels`` nor ``height`` (6, as in the
        profile: walk-up housing, below the 7 storeys from which GB 50096-2011 requires a
        lift).  Assumption, and probably low for central Chongqing: more than 60 % of urban
        households in Chongqing live in homes with a lift (2020 census long form, as reported
        from the China Population Census Yearbook 2020; a secondary source), and in Yuzhong's
        OSM data the ``building=yes`` tagged with more than one level have a median of 12
        (132 buildings, leaning tall).  Since the total is scaled afterwards, this only moves
        residents between untagged and tagged buildings.
    metres_per_level : float
        Storey height used to turn ``height`` into levels (3 m; GB 50096-2011 recommends
        2.8 m for dwellings, plus floors and roof).
    min_buildings : int
        With fewer homes, ``method="auto"`` spreads the population along streets only (20).
    street_spacing_m : float
        Distance between demand points along residential streets, metres (50 m, about
        40 s of walking: below the resolution of the 10- and 20-minute circles).
    cell_m : float
        Side of the square cells that decide where buildings are mapped, metres (100 m, about
        one city block).
    min_mapped_cover : float
        A cell is *mapped* when building footprints cover at least this share of its
        residential land (0.10; built-up residential land in Chinese cities is typically
        covered 20-35 %, so a cell below 10 % has most of its buildings missing).
    min_mapped_share : float
        With mapped cells holding less than this share of all residential land, the density
        seen in them is not trusted and ``method="auto"`` uses streets only (0.05).
    floor_area_m2_per_person : float or None
        A sourced floor area per resident, m² (the profile's: 36.52, urban China, 2020
        census), only to check the result: the report warns when the homes found give less
        than a quarter of it.  None: no check.
    """

    min_home_footprint_m2: float = 40.0
    default_levels: float = 6.0
    metres_per_level: float = 3.0
    min_buildings: int = 20
    street_spacing_m: float = 50.0
    cell_m: float = 100.0
    min_mapped_cover: float = 0.10
    min_mapped_share: float = 0.05
    floor_area_m2_per_person: float | None = None

    @classmethod
    def from_profile(cls, profile: Profile | str | Path | None = None) -> EstimateDefaults:
        """The defaults, with those a profile's ``[population]`` table sets taken from it.

        Keys of the table with the names of the attributes above override them; the table
        may also hold other keys (e.g. ``persons_per_household``).  Pass the result on with
        ``estimate_population(..., **dataclasses.asdict(defaults))``.

        Raises
        ------
        StandardError
            A value is not a finite number > 0 (a share must also be ≤ 1, a count an
            integer); the message names the profile and the key.

        Examples
        --------
        >>> EstimateDefaults.from_profile("chongqing-2019").floor_area_m2_per_person
        36.52
        """
        prof = _profile(profile)
        table = _population_table(prof)
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for f in fields(cls):
            if f.name not in table:
                continue
            value = table[f.name]
            where = f"[population] {f.name}"
            ok = (
                not isinstance(value, bool)
                and isinstance(value, int | float)
                and math.isfinite(value)
                and value > 0
            )
            if ok and f.name.startswith("min_mapped") and value > 1:
                ok = False
            if ok and f.name == "min_buildings" and not float(value).is_integer():
                ok = False
            if not ok:
                expected = (
                    "a share in (0, 1]"
                    if f.name.startswith("min_mapped")
                    else "a whole number > 0"
                    if f.name == "min_buildings"
                    else "a finite number > 0"
                )
                problems.append(Problem(str(prof.path), expected, repr(value), where))
                continue
            values[f.name] = int(value) if f.name == "min_buildings" else float(value)
        if problems:
            raise StandardError(
                f"standards profile {prof.path} is not valid:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        return cls(**values)


DEFAULTS = EstimateDefaults()
"""The documented defaults (see :class:`EstimateDefaults`)."""


def persons_per_household(profile: Profile | str | Path | None = None) -> float:
    """Persons per household from a standards profile's ``[population]`` table.

    Parameters
    ----------
    profile : Profile, name or path, optional
        Default ``chongqing-2019``.

    Raises
    ------
    StandardError
        The profile has no ``[population]`` table, no ``persons_per_household``, or a value
        that is not a finite number > 0.

    Examples
    --------
    >>> persons_per_household("chongqing-2019")
    2.45
    """
    prof = _profile(profile)
    table = _population_table(prof)
    where = "[population] persons_per_household"
    if "persons_per_household" not in table:
        raise StandardError(str(Problem(str(prof.path), "a value", "nothing", where)))
    value = table["persons_per_household"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise StandardError(str(Problem(str(prof.path), "a finite number > 0", repr(value), where)))
    return float(value)


def _profile(profile: Profile | str | Path | None) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile or DEFAULT_PROFILE)


def _population_table(prof: Profile) -> dict[str, Any]:
    table = prof.data.get("population")
    if not isinstance(table, dict):
        raise StandardError(
            str(Problem(str(prof.path), "a [population] table", repr(table), "[population]"))
        )
    return table


# --- Which buildings are homes --------------------------------------------------------------


@dataclass(frozen=True)
class _Classified:
    frame: Any  # GeoDataFrame, indexed like the input, with the new columns
    crs: pyproj.CRS  # the metric CRS used
    rep_x: F8
    rep_y: F8
    residential_land: Any  # shapely geometry in crs, or None
    non_residential_land: Any  # shapely geometry in crs, or None
    area: Any  # the study area in crs, or None


def classify_buildings(
    buildings: Any,
    *,
    landuse: Any | None = None,
    area: Any | None = None,
    min_home_footprint_m2: float = DEFAULTS.min_home_footprint_m2,
    default_levels: float = DEFAULTS.default_levels,
    metres_per_level: float = DEFAULTS.metres_per_level,
) -> Any:
    """Decide which OSM buildings are homes, and measure their floor area.

    The rules are listed in the module's documentation (:mod:`linli.population`).

    Parameters
    ----------
    buildings : GeoDataFrame
        OSM buildings with a CRS and a ``building`` column; the tags ``building:levels``,
        ``height``, ``building:use`` and :data:`NON_RESIDENTIAL_KEYS` are used when present,
        e.g. ``read_osm_features(path, keys=("building",), columns=(...))``.
    landuse : GeoDataFrame, optional
        Landuse polygons with a CRS and a ``landuse`` column (and optionally ``amenity``), e.g.
        ``read_osm_features(path, keys=("landuse",))``.
    area : shapely polygon (WGS-84), GeoDataFrame or GeoSeries, optional
        The study area (e.g. the district boundary): buildings outside it are not homes.
    min_home_footprint_m2 : float
        Smallest footprint of a ``building=yes`` home, m².
    default_levels : float
        Levels of a building without ``building:levels`` or ``height``.
    metres_per_level : float
        Storey height turning ``height`` into levels, metres.

    Returns
    -------
    GeoDataFrame
        The buildings, indexed and projected like the input, with ``is_home``,
        ``home_reason``, ``home_detail`` (the tag or figure that decided),
        ``home_certainty`` (``tagged``/``landuse``/``uncertain``, empty for non-homes),
        ``footprint_m2``, ``levels``, ``levels_source`` (``tag``/``height``/``default``) and
        ``floor_area_m2`` (footprint × levels).

    Raises
    ------
    InputError
        No CRS, no ``building`` column, a bad keyword value; every problem at once.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 648_000, 3_270_000  # metres, UTM 48N (Yuzhong)
    >>> b = gpd.GeoDataFrame(
    ...     {"building": ["apartments", "yes"], "building:levels": ["10", None]},
    ...     geometry=[shapely.box(x, y, x + 20, y + 10), shapely.box(x + 50, y, x + 53, y + 3)],
    ...     crs="EPSG:32648")
    >>> out = classify_buildings(b)
    >>> out[["is_home", "home_reason", "floor_area_m2"]].values.tolist()
    [[True, 'tagged', 2000.0], [False, 'too_small', 54.0]]
    """
    problems = _check_numbers(
        min_home_footprint_m2=min_home_footprint_m2,
        default_levels=default_levels,
        metres_per_level=metres_per_level,
    )
    return _classify(
        buildings,
        landuse,
        area=area,
        min_home_footprint_m2=min_home_footprint_m2,
        default_levels=default_levels,
        metres_per_level=metres_per_level,
        problems=problems,
    ).frame


def residential_buildings(
    buildings: Any,
    *,
    landuse: Any | None = None,
    area: Any | None = None,
    min_home_footprint_m2: float = DEFAULTS.min_home_footprint_m2,
    default_levels: float = DEFAULTS.default_levels,
    metres_per_level: float = DEFAULTS.metres_per_level,
) -> Any:
    """The buildings that are homes, with why each counts and its floor area.

    :func:`classify_buildings` keeping only the homes (``is_home``); see there for the
    parameters and columns, and the module's documentation for the rules.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 648_000, 3_270_000  # metres, UTM 48N (Yuzhong)
    >>> b = gpd.GeoDataFrame(
    ...     {"building": ["house", "school"]},
    ...     geometry=[shapely.box(x, y, x + 10, y + 10), shapely.box(x + 50, y, x + 90, y + 40)],
    ...     crs="EPSG:32648")
    >>> residential_buildings(b, default_levels=3)[["home_reason", "floor_area_m2"]].values.tolist()
    [['tagged', 300.0]]
    """
    frame = classify_buildings(
        buildings,
        landuse=landuse,
        area=area,
        min_home_footprint_m2=min_home_footprint_m2,
        default_levels=default_levels,
        metres_per_level=metres_per_level,
    )
    return frame[frame["is_home"].to_numpy(dtype=bool)]


def _check_numbers(**values: float | None) -> list[Problem]:
    """Problems with keyword values that must be finite numbers > 0 (None: not given)."""
    problems = []
    for name, value in values.items():
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            problems.append(Problem(name, "a finite number > 0", repr(value)))
    return problems


def _check_frame(frame: Any, what: str, problems: list[Problem]) -> bool:
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        problems.append(Problem(what, "a GeoDataFrame", type(frame).__name__))
        return False
    if frame.crs is None:
        problems.append(Problem(what, "a CRS on the layer", "none (set the true one with set_crs)"))
        return False
    return True


def _tags(frame: Any, column: str) -> list[str | None]:
    """A tag column as Python strings (``None`` where missing or not a non-empty string)."""
    if column not in frame.columns:
        return [None] * len(frame)
    return [v.strip() if isinstance(v, str) and v.strip() else None for v in frame[column]]


def _classify(
    buildings: Any,
    landuse: Any | None,
    *,
    area: Any | None,
    min_home_footprint_m2: float,
    default_levels: float,
    metres_per_level: float,
    problems: list[Problem],
    crs: pyproj.CRS | None = None,
) -> _Classified:
    if _check_frame(buildings, "buildings", problems) and "building" not in buildings.columns:
        problems.append(
            Problem(
                "buildings",
                "a 'building' column (OSM building=* tag)",
                f"columns {list(buildings.columns)}",
            )
        )
    if landuse is not None and (
        _check_frame(landuse, "landuse", problems) and "landuse" not in landuse.columns
    ):
        problems.append(
            Problem("landuse", "a 'landuse' column", f"columns {list(landuse.columns)}")
        )
    area84 = None if area is None else _area_wgs84(area, problems)
    if problems:
        raise InputError(problems=problems)

    geoms = buildings.geometry.to_numpy()
    if crs is None:
        crs = _metric_crs_for(buildings)
    geoms_m = np.asarray(buildings.to_crs(crs).geometry.to_numpy())
    is_area = np.isin(shapely.get_type_id(geoms_m), (3, 6)) & ~shapely.is_missing(geoms_m)
    footprint = np.where(is_area, shapely.area(geoms_m), 0.0)
    rep = shapely.point_on_surface(geoms_m)
    rep_x = shapely.get_x(rep)
    rep_y = shapely.get_y(rep)
    res_land, nonres_land = _landuse_geometries(landuse, crs)
    area_m = None if area84 is None else _to_metric(area84, crs)
    in_area = (
        np.ones(len(geoms), dtype=bool)
        if area_m is None
        else np.asarray(shapely.contains_xy(area_m, rep_x, rep_y), dtype=bool)
    )
    in_res = (
        np.asarray(shapely.contains_xy(res_land, rep_x, rep_y), dtype=bool)
        if res_land is not None
        else np.zeros(len(geoms), dtype=bool)
    )
    in_nonres, nonres_value = _in_non_residential(landuse, crs, rep_x, rep_y)

    levels, levels_source = _levels(
        _tags(buildings, "building:levels"),
        _tags(buildings, "height"),
        default_levels=default_levels,
        metres_per_level=metres_per_level,
    )

    building = _tags(buildings, "building")
    use = _tags(buildings, "building:use")
    other = {k: _tags(buildings, k) for k in NON_RESIDENTIAL_KEYS}
    reason: list[str] = []
    detail: list[str] = []
    for i in range(len(geoms)):
        b = (building[i] or "").lower()
        u = (use[i] or "").lower()
        if footprint[i] <= 0.0:
            reason.append("no_footprint")
            detail.append("a point or empty geometry" if not is_area[i] else "zero area")
        elif not in_area[i]:
            reason.append("outside_study_area")
            detail.append("outside the study area")
        elif b in RESIDENTIAL_BUILDINGS:
            reason.append("tagged")
            detail.append(f"building={b}")
        elif b == "yes" and u in RESIDENTIAL_BUILDINGS:
            reason.append("tagged")
            detail.append(f"building:use={u}")
        elif b != "yes":
            reason.append("non_residential_building")
            detail.append(f"building={b}" if b else "no building tag")
        elif u or any(other[k][i] not in (None, "no") for k in NON_RESIDENTIAL_KEYS):
            tag = (
                f"building:use={u}"
                if u
                else next(f"{k}={other[k][i]}" for k in NON_RESIDENTIAL_KEYS if other[k][i])
            )
            reason.append("non_residential_tag")
            detail.append(tag)
        elif footprint[i] < min_home_footprint_m2:
            reason.append("too_small")
            detail.append(f"footprint {footprint[i]:.0f} m² < {min_home_footprint_m2:g} m²")
        elif in_nonres[i]:
            reason.append("in_non_residential_landuse")
            detail.append(nonres_value[i])
        elif res_land is not None:
            if in_res[i]:
                reason.append("yes_in_residential_landuse")
                detail.append("landuse=residential")
            else:
                reason.append("outside_residential_landuse")
                detail.append("in no landuse=residential polygon")
        else:
            reason.append("yes_without_landuse")
            detail.append("building=yes, no residential landuse data")

    is_home = np.isin(np.asarray(reason, dtype=object), HOME_REASONS)
    out = buildings.copy()
    out["is_home"] = is_home
    out["home_reason"] = reason
    out["home_detail"] = detail
    out["home_certainty"] = [_CERTAINTY.get(r) for r in reason]
    out["footprint_m2"] = footprint
    out["levels"] = levels
    out["levels_source"] = levels_source
    out["floor_area_m2"] = footprint * levels
    return _Classified(out, crs, rep_x, rep_y, res_land, nonres_land, area_m)


def _to_metric(geom84: Any, crs: pyproj.CRS) -> Any:
    """A WGS-84 geometry in ``crs``, valid and prepared for point queries."""
    to_m = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    out = shapely.make_valid(shapely.transform(geom84, lambda c: _transform(to_m, c)))
    shapely.prepare(out)
    return out


def _metric_crs_for(frame: Any) -> pyproj.CRS:
    """The local UTM zone of a layer (from its bounds' centre in WGS-84)."""
    if isinstance(frame, WalkNetwork):
        return frame.crs
    bounds = frame.to_crs(WGS84).total_bounds if len(frame) else np.full(4, np.nan)
    lon = (bounds[0] + bounds[2]) / 2.0
    lat = (bounds[1] + bounds[3]) / 2.0
    return local_metric_crs([lon], [lat])


def _levels(
    levels_tag: list[str | None],
    height_tag: list[str | None],
    *,
    default_levels: float,
    metres_per_level: float,
) -> tuple[F8, list[str]]:
    levels = np.empty(len(levels_tag))
    source: list[str] = []
    for i, (lv, h) in enumerate(zip(levels_tag, height_tag, strict=True)):
        from_tag = _parse_levels(lv)
        if from_tag is not None:
            levels[i] = from_tag
            source.append("tag")
            continue
        height = _parse_height_m(h)
        if height is not None:
            levels[i] = max(1.0, float(round(height / metres_per_level)))
            source.append("height")
            continue
        levels[i] = default_levels
        source.append("default")
    return levels, source


def _parse_levels(value: str | None) -> float | None:
    """``building:levels`` as a number of levels (the largest of a list), or None if unusable."""
    if value is None or value.lstrip().startswith("-"):
        return None
    numbers = [float(n) for n in _NUMBER.findall(value)]
    if not numbers:
        return None
    top = max(numbers)
    return top if 0.0 < top <= _MAX_LEVELS else None


def _parse_height_m(value: str | None) -> float | None:
    """``height`` in metres (``30``, ``30 m``, ``100 ft``), or None if unusable."""
    if value is None:
        return None
    m = _HEIGHT.match(value.lower())
    if m is None:
        return None
    height = float(m.group(1)) * (0.3048 if m.group(2) in ("ft", "feet", "'") else 1.0)
    return height if 0.0 < height <= _MAX_HEIGHT_M else None


def _landuse_geometries(landuse: Any | None, crs: pyproj.CRS) -> tuple[Any, Any]:
    """Residential and non-residential land as single geometries in ``crs`` (or None)."""
    if landuse is None or len(landuse) == 0:
        return None, None
    frame = landuse.to_crs(crs)
    geoms = np.asarray(frame.geometry.to_numpy())
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    value = np.asarray([(v or "").lower() for v in _tags(frame, "landuse")], dtype=object)
    amenity = np.asarray([(v or "").lower() for v in _tags(frame, "amenity")], dtype=object)
    res = polygonal & (value == "residential")
    nonres = polygonal & (
        np.isin(value, list(NON_RESIDENTIAL_LANDUSE)) | np.isin(amenity, list(CAMPUS_AMENITIES))
    )
    res_geom = shapely.union_all(shapely.make_valid(geoms[res])) if res.any() else None
    nonres_geom = shapely.union_all(shapely.make_valid(geoms[nonres])) if nonres.any() else None
    for g in (res_geom, nonres_geom):
        if g is not None:
            shapely.prepare(g)
    return res_geom, nonres_geom


def _in_non_residential(landuse: Any | None, crs: pyproj.CRS, x: F8, y: F8) -> tuple[B1, list[str]]:
    """Which points lie in non-residential land, and the tag of the polygon they lie in."""
    n = x.shape[0]
    inside = np.zeros(n, dtype=bool)
    what = [""] * n
    if landuse is None or len(landuse) == 0 or n == 0:
        return inside, what
    frame = landuse.to_crs(crs)
    values = [(v or "").lower() for v in _tags(frame, "landuse")]
    amenities = [(v or "").lower() for v in _tags(frame, "amenity")]
    geoms = np.asarray(frame.geometry.to_numpy())
    points = shapely.points(x, y)
    tree = shapely.STRtree(geoms)
    pts, polys = tree.query(points, predicate="within")
    for p, g in zip(pts.tolist(), polys.tolist(), strict=True):
        if inside[p]:
            continue
        if values[g] in NON_RESIDENTIAL_LANDUSE:
            inside[p] = True
            what[p] = f"landuse={values[g]}"
        elif amenities[g] in CAMPUS_AMENITIES:
            inside[p] = True
            what[p] = f"amenity={amenities[g]} area"
    return inside, what


# --- Streets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StreetPoints:
    x: F8
    y: F8
    length_m: F8
    label: list[Any]  # label of the source row in the streets frame
    osm_id: list[Any]
    highway: list[Any]
    typed: bool  # whether the streets carried a highway column


def _street_points(
    streets: Any,
    crs: pyproj.CRS,
    *,
    street_types: tuple[str, ...],
    spacing_m: float,
) -> _StreetPoints:
    """Points every ``spacing_m`` along the residential streets, each with the length it
    stands for: the middles of equal pieces of each line, at most ``spacing_m`` long."""
    frame = streets.links_frame() if isinstance(streets, WalkNetwork) else streets
    frame = frame.to_crs(crs)
    typed = "highway" in frame.columns
    if typed:
        keep = np.isin(np.asarray([v or "" for v in _tags(frame, "highway")]), street_types)
        frame = frame[keep]
    frame = frame.explode(index_parts=False)
    geoms = np.asarray(frame.geometry.to_numpy())
    is_line = np.isin(shapely.get_type_id(geoms), (1, 2))
    frame = frame[is_line]
    geoms = geoms[is_line]
    length = shapely.length(geoms)
    # Pieces may be 1 % longer than the spacing rather than adding a point for centimetres
    # of rounding in the coordinates.
    pieces = np.maximum(1, np.ceil(length / spacing_m - 0.01)).astype(np.int64)
    pieces[length <= 0] = 0
    row = np.repeat(np.arange(geoms.shape[0]), pieces)
    start = np.cumsum(pieces) - pieces
    k = np.arange(row.shape[0]) - start[row]
    piece_len = np.where(pieces > 0, length / np.maximum(pieces, 1), 0.0)
    pts = shapely.line_interpolate_point(geoms[row], (k + 0.5) * piece_len[row])
    labels = list(frame.index)
    osm_ids = list(frame["osm_id"]) if "osm_id" in frame.columns else [None] * len(frame)
    kinds = list(frame["highway"]) if typed else [None] * len(frame)
    rows = row.tolist()
    return _StreetPoints(
        x=shapely.get_x(pts),
        y=shapely.get_y(pts),
        length_m=piece_len[row],
        label=[labels[r] for r in rows],
        osm_id=[osm_ids[r] for r in rows],
        highway=[kinds[r] for r in rows],
        typed=typed,
    )


# --- The estimate ----------------------------------------------------------------------------


@dataclass
class PopulationReport:
    """How population was spread over demand points, and what to check.

    Attributes
    ----------
    total_population : float
        The total spread (the sum of ``population``).
    persons_per_household : float
    method : str
        ``"buildings"``, ``"streets"`` or ``"mixed"``: what was actually used (``"mixed"`` only
        when both kinds of point took residents).
    population_by_method, points_by_method : dict
        Residents and demand points per kind of point, ``"building"`` and ``"street"``.
    homes_by_reason : dict
        Homes counted, by ``home_reason``.
    not_homes_by_reason : dict
        Buildings not counted, by ``home_reason``.
    levels_source : dict
        Homes by where their levels came from (``tag``, ``height``, ``default``).
    single_level_tags : int
        Homes tagged ``building:levels=1`` (a bulk of them is often a mapper's placeholder).
    home_floor_area_m2 : float
        Floor area of the homes found, m².
    street_floor_area_m2 : float
        Floor area assumed along streets where buildings are missing (``mixed``), m².
    floor_area_per_person_m2 : float
        Floor area (found + assumed) per resident, m²; NaN for ``streets``.
    density_m2_per_m2 : float
        Home floor area per m² of residential land in mapped cells (NaN if not computed).
    mapped_land_share : float
        Share of the residential land in mapped cells (NaN if not computed).
    cells : dict
        Cells of residential land: ``mapped``, ``unmapped_with_streets``,
        ``unmapped_without_streets``.
    street_spacing_m, cell_m : float
    warnings : list of str
    """

    total_population: float
    persons_per_household: float
    method: str
    population_by_method: dict[str, float]
    points_by_method: dict[str, int]
    homes_by_reason: dict[str, int]
    not_homes_by_reason: dict[str, int]
    levels_source: dict[str, int]
    single_level_tags: int
    home_floor_area_m2: float
    street_floor_area_m2: float
    floor_area_per_person_m2: float
    density_m2_per_m2: float
    mapped_land_share: float
    cells: dict[str, int]
    street_spacing_m: float
    cell_m: float
    warnings: list[str] = field(default_factory=list)

    def share(self, kind: str) -> float:
        """Share of the total living at points of ``kind`` (``"building"`` or ``"street"``)."""
        return self.population_by_method.get(kind, 0.0) / self.total_population

    def lines(self) -> list[str]:
        """The report as short lines of text (for the CLI and the report's method notes)."""
        homes = sum(self.homes_by_reason.values())
        out = [
            f"population: {self.total_population:,.0f} residents, "
            f"{self.total_population / self.persons_per_household:,.0f} households "
            f"({self.persons_per_household:g} persons per household)",
            f"method: {self.method}",
        ]
        for kind in ("building", "street"):
            if self.points_by_method.get(kind):
                label = (
                    "homes"
                    if kind == "building"
                    else f"street points ({self.street_spacing_m:g} m apart)"
                )
                out.append(
                    f"  {kind}: {self.population_by_method.get(kind, 0.0):,.0f} residents "
                    f"({self.share(kind):.1%}) at {self.points_by_method[kind]:,} {label}"
                )
        out.append(f"homes: {homes:,} ({_fmt_counts(self.homes_by_reason)})")
        if self.not_homes_by_reason:
            out.append(f"not homes: {_fmt_counts(self.not_homes_by_reason)}")
        out.append(
            f"levels of homes: {_fmt_counts(self.levels_source)}"
            + (
                f"; {self.single_level_tags:,} tagged building:levels=1"
                if self.single_level_tags
                else ""
            )
        )
        out.append(
            f"floor area: {self.home_floor_area_m2:,.0f} m² in homes"
            + (
                f" + {self.street_floor_area_m2:,.0f} m² assumed along streets"
                if self.street_floor_area_m2
                else ""
            )
            + (
                f"; {self.floor_area_per_person_m2:.1f} m² per resident"
                if math.isfinite(self.floor_area_per_person_m2)
                else ""
            )
        )
        if self.cells:
            out.append(
                f"cells of {self.cell_m:g} m: {_fmt_counts(self.cells)}"
                + (
                    f"; mapped cells hold {self.mapped_land_share:.1%} of the residential land"
                    if math.isfinite(self.mapped_land_share)
                    else ""
                )
                + (
                    f", {self.density_m2_per_m2:.2f} m² of home floor per m² of land"
                    if math.isfinite(self.density_m2_per_m2)
                    else ""
                )
            )
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def estimate_population(
    buildings: Any,
    *,
    total_population: float,
    persons_per_household: float,
    landuse: Any | None = None,
    streets: Any | None = None,
    area: Any | None = None,
    method: Method = "auto",
    min_buildings: int = DEFAULTS.min_buildings,
    min_home_footprint_m2: float = DEFAULTS.min_home_footprint_m2,
    default_levels: float = DEFAULTS.default_levels,
    metres_per_level: float = DEFAULTS.metres_per_level,
    street_spacing_m: float = DEFAULTS.street_spacing_m,
    cell_m: float = DEFAULTS.cell_m,
    min_mapped_cover: float = DEFAULTS.min_mapped_cover,
    min_mapped_share: float = DEFAULTS.min_mapped_share,
    floor_area_m2_per_person: float | None = DEFAULTS.floor_area_m2_per_person,
    street_types: tuple[str, ...] = RESIDENTIAL_STREETS,
) -> tuple[Any, PopulationReport]:
    """Spread a total population over homes, and over residential streets where homes are
    missing.

    The method (homes by floor area; cells of residential land; streets where buildings are
    not mapped) is described in the module's documentation (:mod:`linli.population`).

    Parameters
    ----------
    buildings : GeoDataFrame
        OSM buildings (see :func:`classify_buildings`); may be empty with ``method="streets"``.
    total_population : float
        Residents to spread (e.g. a census figure); the populations sum to it.
    persons_per_household : float
        From the standards profile (:func:`persons_per_household`).
    landuse : GeoDataFrame, optional
        Landuse polygons (column ``landuse``, optionally ``amenity``).
    streets : GeoDataFrame or WalkNetwork, optional
        Lines to spread residents along: e.g. :func:`linli.inputs.osm.read_osm_streets` (its
        ``highway`` column restricts them to ``street_types``), or a walking network, whose
        links carry no type and are all used.
    area : shapely polygon (WGS-84), GeoDataFrame or GeoSeries, optional
        The study area the total belongs to (e.g. the district boundary): homes and streets
        outside it get no one.  Give it whenever the data reach beyond the area of the total
        (Yuzhong's extract holds streets across both rivers: without the boundary a third of
        the district's residents would be put on them).
    method : {"auto", "buildings", "streets", "mixed"}
        See the module's documentation.
    min_buildings, min_home_footprint_m2, default_levels, metres_per_level, street_spacing_m,
    cell_m, min_mapped_cover, min_mapped_share, floor_area_m2_per_person
        See :class:`EstimateDefaults` (units: m², levels, metres, shares).
    street_types : tuple of str
        ``highway`` values residents live along (:data:`RESIDENTIAL_STREETS`).

    Returns
    -------
    demand : GeoDataFrame
        One row per demand point (Points in WGS-84, EPSG:4326; a point on each home's
        surface, or a point on a street): ``method`` (``building``/``street``),
        ``source_index`` (the row's label in ``buildings`` or ``streets``), ``osm_id``,
        ``home_reason``, ``levels``, ``levels_source``, ``footprint_m2``, ``floor_area_m2``
        (found, or assumed for street points of ``mixed``; NaN for ``streets``),
        ``street_length_m`` (street points), ``population``, ``households``.
    report : PopulationReport

    Raises
    ------
    InputError
        Bad inputs or keywords (every problem at once); no home for ``"buildings"``; no
        street for ``"streets"``; nowhere to put anyone.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 648_000, 3_270_000  # metres, UTM 48N (Yuzhong)
    >>> b = gpd.GeoDataFrame(
    ...     {"building": ["apartments", "residential"], "building:levels": ["6", "2"]},
    ...     geometry=[shapely.box(x, y, x + 20, y + 10), shapely.box(x + 50, y, x + 70, y + 10)],
    ...     crs="EPSG:32648")
    >>> demand, report = estimate_population(
    ...     b, total_population=40, persons_per_household=2.5, method="buildings")
    >>> demand["population"].tolist(), demand["households"].tolist()
    ([30.0, 10.0], [12.0, 4.0])
    >>> report.method
    'buildings'
    """
    problems = _check_numbers(
        total_population=total_population,
        persons_per_household=persons_per_household,
        min_home_footprint_m2=min_home_footprint_m2,
        default_levels=default_levels,
        metres_per_level=metres_per_level,
        street_spacing_m=street_spacing_m,
        cell_m=cell_m,
        min_mapped_cover=min_mapped_cover,
        min_mapped_share=min_mapped_share,
        floor_area_m2_per_person=floor_area_m2_per_person,
    )
    if isinstance(min_buildings, bool) or not isinstance(min_buildings, int) or min_buildings < 0:
        problems.append(Problem("min_buildings", "a whole number ≥ 0", repr(min_buildings)))
    if method not in _METHODS:
        problems.append(Problem("method", f"one of {', '.join(_METHODS)}", repr(method)))
    if streets is not None and not isinstance(streets, WalkNetwork):
        _check_frame(streets, "streets", problems)
    if method == "streets" and streets is None:
        problems.append(Problem("streets", "streets for method='streets'", "none given"))
    if buildings is None:  # no building data at all: streets only
        import geopandas as gpd

        buildings = gpd.GeoDataFrame({"building": []}, geometry=[], crs=WGS84)
    crs = None
    if not problems and len(buildings) == 0:
        if streets is None:
            raise InputError(
                "population: expected buildings or streets to put residents in; found neither"
            )
        crs = _metric_crs_for(streets)
    cls = _classify(
        buildings,
        landuse,
        area=area,
        min_home_footprint_m2=min_home_footprint_m2,
        default_levels=default_levels,
        metres_per_level=metres_per_level,
        problems=problems,
        crs=crs,
    )
    frame = cls.frame
    home = frame["is_home"].to_numpy(dtype=bool)
    floor_area = frame["floor_area_m2"].to_numpy(dtype=np.float64)
    footprint = frame["footprint_m2"].to_numpy(dtype=np.float64)
    reasons = frame["home_reason"].tolist()
    levels_source = np.asarray(frame["levels_source"].tolist(), dtype=object)
    single_level = home & (levels_source == "tag") & (frame["levels"].to_numpy() == 1.0)
    n_homes = int(home.sum())
    homes_by_reason = dict(Counter(r for r, h in zip(reasons, home, strict=True) if h))
    warnings: list[str] = []
    if n_homes and single_level.sum() > _SUSPECT_SINGLE_LEVEL_SHARE * n_homes:
        warnings.append(
            f"{int(single_level.sum()):,} of {n_homes:,} homes are tagged building:levels=1: "
            "in a city of mid- and high-rise housing this is probably a mapper's placeholder; "
            "check the OSM data (these homes take few residents)"
        )
    if "yes_without_landuse" in homes_by_reason:
        warnings.append(
            f"{homes_by_reason['yes_without_landuse']:,} building=yes counted as homes without "
            "residential landuse data (uncertain); pass landuse=residential polygons to confirm"
        )

    pts: _StreetPoints | None = None
    if streets is not None:
        pts = _street_points(
            streets, cls.crs, street_types=street_types, spacing_m=street_spacing_m
        )
        if not pts.typed:
            warnings.append(
                "streets carry no 'highway' column: all their lines are taken as residential "
                "streets (read them with read_osm_streets to use their types)"
            )
        pts = _subset(pts, _on_residential_land(cls, pts.x, pts.y))
    n_pts = 0 if pts is None else pts.x.shape[0]

    # Cells: where buildings are mapped, and the density of homes there.
    in_land = _on_residential_land(cls, cls.rep_x, cls.rep_y)
    cells = _cells(
        cls,
        footprint=np.where(in_land, footprint, 0.0),
        home_floor=np.where(in_land & home, floor_area, 0.0),
        has_home=in_land & home,
        pts=pts,
        cell_m=cell_m,
        min_mapped_cover=min_mapped_cover,
    )
    thin = _thin_reason(n_homes, cells.mapped_share, min_buildings, min_mapped_share)
    used = _choose_method(method, thin, n_pts, streets is not None, warnings)
    if used == "buildings" and n_homes == 0:
        raise InputError(
            "buildings: expected at least one home to put residents in; found none of "
            f"{len(frame)} buildings"
            + (f" ({_fmt_counts(_count(reasons, ~home))})" if len(frame) else "")
        )
    if used == "streets" and n_pts == 0:
        raise InputError(
            f"streets: expected residential streets ({', '.join(street_types)}) on residential "
            "land to spread residents along; found none"
        )

    # Weights: home floor area and the floor area assumed along streets (mixed), or street
    # length alone (streets).
    home_weight = np.where(home, floor_area, 0.0) if used != "streets" else np.zeros(len(frame))
    street_floor = np.full(n_pts, np.nan)
    street_weight = np.zeros(n_pts)
    if pts is not None and used == "streets":
        street_weight = pts.length_m
    elif pts is not None and used == "mixed":
        street_floor = cells.street_floor
        street_weight = street_floor
        if cells.unmapped_without_streets_m2 > 0:
            warnings.append(
                f"{cells.counts['unmapped_without_streets']:,} cells "
                f"({cells.unmapped_without_streets_m2 / 1e4:,.1f} ha) with few mapped buildings "
                "have no residential street: only their mapped homes get residents"
            )
    is_home_point = home_weight > 0
    is_street = street_weight > 0
    weights = np.concatenate([home_weight[is_home_point], street_weight[is_street]])
    if weights.shape[0] == 0:
        raise InputError(
            "population: expected homes with floor area or residential streets to put "
            f"{total_population:,.0f} residents in; found none"
        )
    population = _shares(weights, float(total_population))
    n_b = int(is_home_point.sum())
    demand = _demand_frame(
        frame=frame,
        cls=cls,
        is_home_point=is_home_point,
        pts=pts,
        is_street=is_street,
        street_floor=street_floor,
        population=population,
        persons_per_household=float(persons_per_household),
        n_buildings=n_b,
    )

    home_floor_m2 = math.fsum(floor_area[home])
    street_floor_m2 = math.fsum(street_weight) if used == "mixed" else 0.0
    per_person = (
        (home_floor_m2 + street_floor_m2) / float(total_population)
        if used != "streets"
        else math.nan
    )
    if (
        floor_area_m2_per_person is not None
        and per_person < _LOW_FLOOR_AREA_SHARE * floor_area_m2_per_person
    ):
        warnings.append(
            f"only {per_person:.1f} m² of floor area per resident, against a reference of "
            f"{floor_area_m2_per_person:g} m²: many homes are probably missing from the "
            "building data"
        )
    tall = home & (frame["home_certainty"].to_numpy() != "tagged")
    tall &= frame["levels"].to_numpy(dtype=np.float64) >= _TALL_UNTAGGED_LEVELS
    if tall.any() and used != "streets":
        tall_pop = math.fsum(population[:n_b][tall[is_home_point]])
        labels = ", ".join(map(str, list(frame.index[tall])[:10]))
        warnings.append(
            f"{int(tall.sum())} building=yes of {_TALL_UNTAGGED_LEVELS:g} or more levels counted "
            f"as homes take {tall_pop:,.0f} residents; supertall towers are often offices or "
            f"hotels: check them (rows {labels})"
        )
    n_s = int(is_street.sum())
    report = PopulationReport(
        total_population=float(total_population),
        persons_per_household=float(persons_per_household),
        method="mixed" if n_b and n_s else "buildings" if n_b else "streets",
        population_by_method={
            "building": math.fsum(population[:n_b]),
            "street": math.fsum(population[n_b:]),
        },
        points_by_method={"building": n_b, "street": n_s},
        homes_by_reason=homes_by_reason,
        not_homes_by_reason=_count(reasons, ~home),
        levels_source=_count(levels_source.tolist(), home),
        single_level_tags=int(single_level.sum()),
        home_floor_area_m2=home_floor_m2,
        street_floor_area_m2=street_floor_m2,
        floor_area_per_person_m2=per_person,
        density_m2_per_m2=cells.density,
        mapped_land_share=cells.mapped_share,
        cells=cells.counts,
        street_spacing_m=float(street_spacing_m),
        cell_m=float(cell_m),
        warnings=warnings,
    )
    for w in warnings:
        log.warning("population: %s", w)
    return demand, report


def _count(values: list[Any], mask: B1) -> dict[str, int]:
    return dict(Counter(v for v, m in zip(values, mask.tolist(), strict=True) if m))


def _on_residential_land(cls: _Classified, x: F8, y: F8) -> B1:
    """Which points lie on residential land: in the study area, in residential landuse when
    there is some, and never in non-residential landuse."""
    ok = np.ones(x.shape[0], dtype=bool)
    if cls.area is not None:
        ok &= np.asarray(shapely.contains_xy(cls.area, x, y), dtype=bool)
    if cls.residential_land is not None:
        ok &= np.asarray(shapely.contains_xy(cls.residential_land, x, y), dtype=bool)
    if cls.non_residential_land is not None:
        ok &= ~np.asarray(shapely.contains_xy(cls.non_residential_land, x, y), dtype=bool)
    return ok


def _thin_reason(
    n_homes: int, mapped_share: float, min_buildings: int, min_mapped_share: float
) -> str:
    """Why building data are too thin to estimate a density ("" if they are not)."""
    if n_homes < min_buildings:
        return f"{n_homes} homes found, fewer than min_buildings={min_buildings}"
    share = mapped_share if math.isfinite(mapped_share) else 0.0
    if share < min_mapped_share:
        return (
            f"cells with mapped buildings hold {share:.1%} of the residential land, less than "
            f"min_mapped_share={min_mapped_share:g}"
        )
    return ""


def _choose_method(
    method: str, thin: str, n_points: int, have_streets: bool, warnings: list[str]
) -> str:
    """The method used for ``method`` (see the module's documentation)."""
    if method == "auto":
        if not have_streets:
            if thin:
                warnings.append(
                    f"building data look thin ({thin}) but no streets were given to spread "
                    "residents along: all of them live in the homes found"
                )
            return "buildings"
        if thin and n_points:
            warnings.append(f"building data too thin ({thin}): residents spread along streets")
            return "streets"
        return "mixed"
    if method == "mixed":
        if not have_streets:
            warnings.append("method='mixed' without streets: homes only")
            return "buildings"
        if thin:
            warnings.append(f"building data look thin ({thin}); method='mixed' as asked")
    return method


def _subset(pts: _StreetPoints, keep: B1) -> _StreetPoints:
    idx = np.flatnonzero(keep).tolist()
    return _StreetPoints(
        x=pts.x[keep],
        y=pts.y[keep],
        length_m=pts.length_m[keep],
        label=[pts.label[i] for i in idx],
        osm_id=[pts.osm_id[i] for i in idx],
        highway=[pts.highway[i] for i in idx],
        typed=pts.typed,
    )


@dataclass(frozen=True)
class _Cells:
    density: float
    mapped_share: float
    street_floor: F8  # assumed floor area per street point (mixed)
    counts: dict[str, int]
    unmapped_without_streets_m2: float


def _cells(
    cls: _Classified,
    *,
    footprint: F8,
    home_floor: F8,
    has_home: B1,
    pts: _StreetPoints | None,
    cell_m: float,
    min_mapped_cover: float,
) -> _Cells:
    """Residential land per cell, which cells are mapped, and the floor area each street point
    stands for where they are not (see the module's documentation)."""
    n_pts = 0 if pts is None else pts.x.shape[0]
    px = np.empty(0) if pts is None else pts.x
    py = np.empty(0) if pts is None else pts.y
    built = footprint > 0
    xs = np.concatenate([cls.rep_x[built], px])
    ys = np.concatenate([cls.rep_y[built], py])
    empty = _Cells(math.nan, math.nan, np.zeros(n_pts), {}, 0.0)
    if xs.shape[0] == 0:
        return empty
    x0 = math.floor(float(xs.min()) / cell_m) * cell_m
    y0 = math.floor(float(ys.min()) / cell_m) * cell_m

    def cell_of(x: F8, y: F8) -> tuple[I8, I8]:
        return (
            np.floor((x - x0) / cell_m).astype(np.int64),
            np.floor((y - y0) / cell_m).astype(np.int64),
        )

    bx, by = cell_of(cls.rep_x[built], cls.rep_y[built])
    sx, sy = cell_of(px, py)
    # Residential land: cells with a home or a residential street.
    hx, hy = cell_of(cls.rep_x[has_home], cls.rep_y[has_home])
    keys_b = bx * 1_000_003 + by
    keys_s = sx * 1_000_003 + sy
    keys_h = hx * 1_000_003 + hy
    land_keys = np.unique(np.concatenate([keys_h, keys_s]))
    if land_keys.shape[0] == 0:
        return empty
    cx = land_keys // 1_000_003
    cy = land_keys % 1_000_003
    boxes = shapely.box(
        x0 + cx * cell_m, y0 + cy * cell_m, x0 + (cx + 1) * cell_m, y0 + (cy + 1) * cell_m
    )
    land_geom = boxes
    if cls.area is not None:
        land_geom = shapely.intersection(land_geom, cls.area)
    if cls.residential_land is not None:
        land_geom = shapely.intersection(land_geom, cls.residential_land)
    if cls.non_residential_land is not None:
        land_geom = shapely.difference(land_geom, cls.non_residential_land)
    land = shapely.area(land_geom)
    n_cells = land_keys.shape[0]

    def per_cell(keys: I8, values: F8) -> F8:
        pos = np.searchsorted(land_keys, keys)
        pos = np.clip(pos, 0, n_cells - 1)
        hit = land_keys[pos] == keys
        return np.bincount(pos[hit], weights=values[hit], minlength=n_cells).astype(np.float64)

    built_c = per_cell(keys_b, footprint[built])
    floor_c = per_cell(keys_b, home_floor[built])
    street_len_c = per_cell(keys_s, np.ones(n_pts) if pts is None else pts.length_m)
    has_land = land > 0
    mapped = has_land & (built_c >= min_mapped_cover * land)
    land_total = float(land[has_land].sum())
    mapped_land = float(land[mapped].sum())
    mapped_share = mapped_land / land_total if land_total > 0 else math.nan
    density = float(floor_c[mapped].sum()) / mapped_land if mapped_land > 0 else math.nan
    unmapped = has_land & ~mapped
    with_streets = unmapped & (street_len_c > 0)
    d = density if math.isfinite(density) else 0.0
    supplement = np.where(with_streets, np.maximum(0.0, d * land - floor_c), 0.0)
    street_floor = np.zeros(n_pts)
    if pts is not None and n_pts:
        pos = np.searchsorted(land_keys, keys_s)
        share = pts.length_m / np.where(street_len_c[pos] > 0, street_len_c[pos], 1.0)
        street_floor = supplement[pos] * share
    return _Cells(
        density=density,
        mapped_share=mapped_share,
        street_floor=street_floor,
        counts={
            "mapped": int(mapped.sum()),
            "unmapped_with_streets": int(with_streets.sum()),
            "unmapped_without_streets": int((unmapped & ~with_streets).sum()),
        },
        unmapped_without_streets_m2=float(land[unmapped & ~with_streets].sum()),
    )


def _shares(weights: F8, total: float) -> F8:
    """``total`` split in proportion to ``weights`` (all > 0), summing to ``total`` exactly
    up to floating point: the largest share absorbs the rounding left over."""
    out = total * (weights / math.fsum(weights))
    out[int(np.argmax(out))] += total - math.fsum(out)
    return out


def _demand_frame(
    *,
    frame: Any,
    cls: _Classified,
    is_home_point: B1,
    pts: _StreetPoints | None,
    is_street: B1,
    street_floor: F8,
    population: F8,
    persons_per_household: float,
    n_buildings: int,
) -> Any:
    import geopandas as gpd

    homes = frame[is_home_point]
    n_s = int(is_street.sum())
    idx = np.flatnonzero(is_street).tolist()
    nan_s = np.full(n_s, np.nan)
    osm_b = list(homes["osm_id"]) if "osm_id" in homes.columns else [None] * len(homes)
    data = {
        "method": ["building"] * n_buildings + ["street"] * n_s,
        "source_index": list(homes.index) + ([pts.label[i] for i in idx] if pts else []),
        "osm_id": osm_b + ([pts.osm_id[i] for i in idx] if pts else []),
        "home_reason": list(homes["home_reason"]) + [None] * n_s,
        "levels": np.concatenate([homes["levels"].to_numpy(dtype=np.float64), nan_s]),
        "levels_source": list(homes["levels_source"]) + [None] * n_s,
        "footprint_m2": np.concatenate([homes["footprint_m2"].to_numpy(dtype=np.float64), nan_s]),
        "floor_area_m2": np.concatenate(
            [homes["floor_area_m2"].to_numpy(dtype=np.float64), street_floor[is_street]]
        ),
        "street_length_m": np.concatenate(
            [np.full(n_buildings, np.nan), pts.length_m[is_street] if pts else nan_s]
        ),
        "population": population,
        "households": population / persons_per_household,
    }
    x = np.concatenate([cls.rep_x[is_home_point], pts.x[is_street] if pts else nan_s])
    y = np.concatenate([cls.rep_y[is_home_point], pts.y[is_street] if pts else nan_s])
    out = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(x, y), crs=cls.crs)
    out.index.name = "demand_id"
    return out.to_crs(WGS84)


# --- Zones -----------------------------------------------------------------------------------


@dataclass
class ZoneReport:
    """What :func:`population_by_zone` assigned, and what fell outside every zone.

    Attributes
    ----------
    total_population, total_households : float
        Over all demand points.
    assigned_population, assigned_households : float
        In the zones (their sums).
    unassigned_population, unassigned_households : float
        At demand points outside every zone.
    unassigned_points : int
    points_in_several_zones : int
        Demand points inside overlapping zones (each counted once, in the first zone).
    """

    total_population: float
    total_households: float
    assigned_population: float
    assigned_households: float
    unassigned_population: float
    unassigned_households: float
    unassigned_points: int
    points_in_several_zones: int

    def lines(self) -> list[str]:
        """The report as short lines of text."""
        out = [
            f"zones: {self.assigned_population:,.0f} of {self.total_population:,.0f} residents "
            f"({self.assigned_households:,.0f} households) assigned"
        ]
        if self.unassigned_points:
            out.append(
                f"warning: {self.unassigned_points:,} demand points with "
                f"{self.unassigned_population:,.0f} residents lie outside every zone"
            )
        if self.points_in_several_zones:
            out.append(
                f"warning: {self.points_in_several_zones:,} demand points lie in overlapping "
                "zones (each counted in the first)"
            )
        return out


def population_by_zone(demand: Any, zones: Any, *, key: str) -> tuple[Any, ZoneReport]:
    """Residents and households per zone (community polygon), by point in polygon.

    Parameters
    ----------
    demand : GeoDataFrame
        Demand points with ``population`` and ``households`` (see :func:`estimate_population`).
    zones : GeoDataFrame
        Polygons with a CRS and a ``key`` column naming each zone uniquely.
    key : str
        The column naming the zones.

    Returns
    -------
    zones : GeoDataFrame
        The zones, indexed and projected like the input, with ``population``, ``households``
        and ``demand_points``.  A point on a shared boundary or in overlapping zones counts in
        the first zone (in the order of ``zones``).
    report : ZoneReport
        Totals, and what fell outside every zone.

    Raises
    ------
    InputError
        Missing CRS or columns, duplicate keys, non-polygon zones; every problem at once.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> d = gpd.GeoDataFrame({"population": [3.0, 2.0], "households": [1.5, 1.0]},
    ...     geometry=[shapely.Point(1, 1), shapely.Point(9, 9)], crs="EPSG:32648")
    >>> z = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 5, 5)],
    ...     crs="EPSG:32648")
    >>> out, rep = population_by_zone(d, z, key="name")
    >>> out["population"].tolist(), rep.unassigned_population
    ([3.0], 2.0)
    """
    problems: list[Problem] = []
    if _check_frame(demand, "demand", problems):
        missing = [c for c in ("population", "households") if c not in demand.columns]
        if missing:
            problems.append(
                Problem("demand", "columns population and households", f"{missing} missing")
            )
    if _check_frame(zones, "zones", problems):
        if key not in zones.columns:
            problems.append(
                Problem("zones", f"a {key!r} column naming the zones", f"{list(zones.columns)}")
            )
        else:
            dup = zones[key][zones[key].duplicated(keep=False)]
            if len(dup):
                problems.append(
                    Problem(
                        "zones",
                        f"one polygon per {key}",
                        f"duplicates {sorted(set(map(str, dup)))[:10]}",
                        f"field {key!r}",
                    )
                )
        geoms = np.asarray(zones.geometry.to_numpy())
        bad = ~np.isin(shapely.get_type_id(geoms), (3, 6)) | shapely.is_missing(geoms)
        problems.extend(
            Problem("zones", "a polygon", "another or no geometry", f"feature {label!r}")
            for label in list(zones.index[bad])[:20]
        )
    if problems:
        raise InputError(problems=problems)

    pts = demand.to_crs(zones.crs)
    zone_geoms = shapely.make_valid(np.asarray(zones.geometry.to_numpy()))
    tree = shapely.STRtree(zone_geoms)
    p_idx, z_idx = tree.query(np.asarray(pts.geometry.to_numpy()), predicate="intersects")
    n = len(pts)
    first = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((z_idx, p_idx))
    p_sorted, z_sorted = p_idx[order], z_idx[order]
    starts = np.ones(p_sorted.shape[0], dtype=bool)
    starts[1:] = p_sorted[1:] != p_sorted[:-1]
    first[p_sorted[starts]] = z_sorted[starts]
    several = int(np.sum(np.bincount(p_idx, minlength=n) > 1))
    population = demand["population"].to_numpy(dtype=np.float64)
    households = demand["households"].to_numpy(dtype=np.float64)
    assigned = first >= 0
    n_z = len(zones)
    out = zones.copy()
    out["population"] = np.bincount(first[assigned], weights=population[assigned], minlength=n_z)
    out["households"] = np.bincount(first[assigned], weights=households[assigned], minlength=n_z)
    out["demand_points"] = np.bincount(first[assigned], minlength=n_z)
    report = ZoneReport(
        total_population=math.fsum(population),
        total_households=math.fsum(households),
        assigned_population=math.fsum(population[assigned]),
        assigned_households=math.fsum(households[assigned]),
        unassigned_population=math.fsum(population[~assigned]),
        unassigned_households=math.fsum(households[~assigned]),
        unassigned_points=int((~assigned).sum()),
        points_in_several_zones=several,
    )
    for line in report.lines()[1:]:
        log.warning("%s", line.removeprefix("warning: "))
    return out, report


def zones_from_points(points: Any, *, area: Any, network: WalkNetwork | None = None) -> Any:
    """Zones for communities known only as points: Voronoi polygons clipped to the study area.

    Without ``network``, each zone is the part of ``area`` nearer (straight line, in the local
    UTM zone) to its point than to any other (``shapely.voronoi_polygons``).  With a walking
    network, each zone is where the network's junctions are nearer to its point *by walking
    time* (so a river or a cliff without a crossing separates zones): the Voronoi cells of the
    junctions (and of the points themselves), each taking the community nearest by walking,
    merged per community and clipped to ``area``.  Either way the zones cover the area without
    overlapping, and are marked derived: outputs should say so.

    Parameters
    ----------
    points : GeoDataFrame
        Community points (any CRS; polygons are reduced to a point on their surface).
    area : shapely geometry (WGS-84), GeoDataFrame or GeoSeries
        The study area (e.g. the district boundary).
    network : WalkNetwork, optional
        For walking-time zones.

    Returns
    -------
    GeoDataFrame
        Indexed like ``points``, with their columns, ``zone_method`` (``voronoi`` or
        ``walking_voronoi``), ``derived`` (True) and the zone polygons in WGS-84 (EPSG:4326).

    Raises
    ------
    InputError
        No CRS, no points, points at the same place, an area that is not a polygon.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"name": ["A", "B"]},
    ...     geometry=[shapely.Point(106.55, 29.55), shapely.Point(106.57, 29.55)],
    ...     crs="EPSG:4326")
    >>> z = zones_from_points(p, area=shapely.box(106.54, 29.54, 106.58, 29.56))
    >>> z["zone_method"].tolist(), bool(z.geometry.iloc[0].contains(p.geometry.iloc[0]))
    (['voronoi', 'voronoi'], True)
    """
    import geopandas as gpd

    problems: list[Problem] = []
    area_geom = _area_wgs84(area, problems)
    if _check_frame(points, "community points", problems) and len(points) == 0:
        problems.append(Problem("community points", "at least one point", "none"))
    if problems:
        raise InputError(problems=problems)

    pts84 = points.to_crs(WGS84)
    rep84 = shapely.point_on_surface(np.asarray(pts84.geometry.to_numpy()))
    crs = (
        network.crs
        if network is not None
        else local_metric_crs(shapely.get_x(rep84), shapely.get_y(rep84))
    )
    to_m = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    px, py = (np.asarray(a, dtype=np.float64) for a in to_m.transform(
        shapely.get_x(rep84), shapely.get_y(rep84)
    ))  # fmt: skip
    area_m = _to_metric(area_geom, crs)
    _check_distinct(points.index, px, py, problems)
    if problems:
        raise InputError(problems=problems)
    outside = ~np.asarray(shapely.contains_xy(area_m, px, py), dtype=bool)
    if outside.any():
        labels = list(points.index[outside])[:10]
        log.warning(
            "%d community points lie outside the study area (%s): their zones are what of "
            "their Voronoi cells falls inside it",
            int(outside.sum()),
            ", ".join(map(str, labels)),
        )

    n = px.shape[0]
    if network is None:
        gx, gy, glabel = px, py, np.arange(n)
        method = "voronoi"
    else:
        gx, gy, glabel = _walking_generators(network, points, px, py)
        method = "walking_voronoi"
    if n == 1:
        zones = [area_m]
    else:
        cells = _voronoi_cells(gx, gy, area_m)
        zones = [
            shapely.intersection(shapely.union_all(cells[glabel == k]), area_m) for k in range(n)
        ]
    out = points.copy()
    out["zone_method"] = method
    out["derived"] = True
    geoms = gpd.GeoSeries(zones, index=points.index, crs=crs).to_crs(WGS84)
    return out.set_geometry(geoms.to_numpy(), crs=WGS84)


def _transform(tr: pyproj.Transformer, coords: F8) -> F8:
    x, y = tr.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def _area_wgs84(area: Any, problems: list[Problem]) -> Any:
    import geopandas as gpd

    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            problems.append(
                Problem("study area", "a CRS on the layer", "none (set one with set_crs)")
            )
            return None
        geom = shapely.union_all(shapely.make_valid(np.asarray(area.to_crs(WGS84).geometry)))
    elif isinstance(area, shapely.Geometry):
        geom = area
    else:
        problems.append(
            Problem("study area", "a polygon, GeoDataFrame or GeoSeries", type(area).__name__)
        )
        return None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append(Problem("study area", "a polygon", geom.geom_type))
        return None
    return geom


def _check_distinct(labels: pd.Index, x: F8, y: F8, problems: list[Problem]) -> None:
    """Two communities at the same place (within 1 cm) cannot both have a zone."""
    keys = np.round(np.column_stack([x, y]), 2)
    _, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
    for i in first[counts > 1][:10]:
        same = [labels[int(j)] for j in np.flatnonzero((keys == keys[i]).all(axis=1))]
        problems.append(
            Problem(
                "community points",
                "each community at its own place",
                f"{', '.join(map(repr, same))} at the same point",
            )
        )
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        problems.append(Problem("community points", "finite coordinates", "empty geometries"))


def _voronoi_cells(x: F8, y: F8, area_m: Any) -> NDArray[np.object_]:
    """The Voronoi cell of each generator (in input order), covering the area's envelope."""
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(np.column_stack([x, y])), extend_to=area_m
    )
    polys = np.asarray(shapely.get_parts(diagram))
    # Each cell contains exactly its generator: match them (the diagram's order is not the input's).
    tree = shapely.STRtree(polys)
    g_idx, c_idx = tree.query(shapely.points(x, y), predicate="intersects")
    cells = np.empty(x.shape[0], dtype=object)
    for g, c in zip(g_idx.tolist(), c_idx.tolist(), strict=True):
        if cells[g] is None or shapely.contains_xy(polys[c], x[g], y[g]):
            cells[g] = polys[c]
    return cells


def _walking_generators(network: WalkNetwork, points: Any, px: F8, py: F8) -> tuple[F8, F8, I8]:
    """Junctions labelled with the community nearest by walking, plus the communities."""
    import geopandas as gpd

    from linli.access import nearest_destination

    n = px.shape[0]
    dests = gpd.GeoDataFrame(
        {"k": np.arange(n)}, geometry=gpd.points_from_xy(px, py), crs=network.crs
    )
    nodes = network.nodes_frame()
    near = nearest_destination(network, nodes, dests)
    label = near["destination"].to_numpy()
    ok = pd.notna(label)
    nx_, ny_ = network.node_x[ok], network.node_y[ok]
    lab = np.asarray(label[ok], dtype=np.int64)
    gx = np.concatenate([px, nx_])
    gy = np.concatenate([py, ny_])
    glabel = np.concatenate([np.arange(n), lab])
    # Generators at the same place (a junction on a community's point, or two junctions of
    # an overpass) would share a Voronoi cell: keep the first, communities coming first.
    _, first = np.unique(np.round(np.column_stack([gx, gy]), 2), axis=0, return_index=True)
    keep = np.sort(first)
    return gx[keep], gy[keep], glabel[keep]
