"""The schema of a standards profile: typed, frozen dataclasses.

A profile file (TOML) holds a policy's numbers; :func:`linli.standards.load_profile` checks it
and returns a :class:`Profile` built from these classes.  Units are in the names
(``walk_min``, ``min_floor_area_m2``, ``floor_area_m2_per_person``).  Values that a profile
marks as assumptions (not in the policy text) are listed in each part's ``assumed``.

Tiers and their reading by the audit
------------------------------------
``Profile.tiers`` runs from the highest level down (Chongqing: street centre, community home;
GB 50180-2018: 15-, 10-, 5-minute life circles, residential block).  A tier requires every
facility type it lists within ``walk_min`` walking minutes of the homes it serves.

``Tier.replaces_lower`` says how levels combine:

* ``True``: a facility of this tier that names a lower tier's type in
  :attr:`FacilityType.replaces` also satisfies that lower need for homes within the *lower*
  tier's ``walk_min`` (e.g. a street centre's 卫生服务中心 serves as the 卫生服务站 of the
  community around it).
* ``False`` (GB 50180-2018: the levels are "non-inclusive"): each tier's list is checked on
  its own; an area that reaches a level needs that level's facilities *and* every lower
  level's, and a higher-level facility never stands in for a lower one.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from linli._errors import StandardError

__all__ = [
    "BuiltAreaRule",
    "ColocationCategory",
    "ColocationRule",
    "CoverageTarget",
    "FacilityType",
    "NewHousingRule",
    "PopulationDefaults",
    "Profile",
    "Tier",
    "UsableRules",
    "WalkingProfile",
    "normalise_name",
]

OsmTags = tuple[tuple[str, str], ...]
"""OSM tag pairs ``(key, value)``; any one identifies a feature.  Value ``"*"``: any value."""

_SEPARATORS = frozenset(" _-·・")


def normalise_name(text: str) -> str:
    """The form in which names are compared: full-width folded, case-folded, no spaces.

    Full-width letters, digits, brackets and spaces become half-width (Unicode NFKC), so
    ``"卫生服务中心（社区医院）"`` and ``"卫生服务中心(社区医院)"`` compare equal; spaces,
    underscores, hyphens and middle dots are dropped, so ``"health_station"`` matches
    ``"Health Station"``.

    Examples
    --------
    >>> normalise_name("卫生服务中心（社区医院）") == normalise_name("卫生服务中心 (社区医院)")
    True
    >>> normalise_name("Health_Station")
    'healthstation'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch not in _SEPARATORS and not ch.isspace())


def _osm_match(pairs: OsmTags, tags: Mapping[str, Any]) -> bool:
    return any(key in tags and (value in ("*", str(tags[key]))) for key, value in pairs)


@dataclass(frozen=True)
class WalkingProfile:
    """How fast people walk, from a profile's ``[walking]`` table.

    Attributes
    ----------
    speed_m_per_min : float
        Walking speed on the flat, metres per minute.
    slope_model : {"tobler", "none"}
        How grade changes speed (needs a DEM; ``"none"`` ignores grade).
    tobler_a, tobler_b : float
        Coefficients of Tobler's function ``exp(-a |s + b|)``, normalised to 1 on the flat.
    max_grade : float
        DEM grades (rise / run) are clipped to ``±max_grade``.
    steps_up_m_per_min, steps_down_m_per_min : float
        Horizontal speed on stairs (``highway=steps``) going up and down.
    max_access_m : float
        Points farther than this from a walkable way are attached with a warning.
    isochrone_buffer_m : float
        Half-width of the reachable streets drawn as isochrone polygons.
    """

    speed_m_per_min: float
    slope_model: str
    tobler_a: float
    tobler_b: float
    max_grade: float
    steps_up_m_per_min: float
    steps_down_m_per_min: float
    max_access_m: float
    isochrone_buffer_m: float


@dataclass(frozen=True)
class FacilityType:
    """One type of facility a tier requires, e.g. 卫生服务站 (health station).

    Attributes
    ----------
    id : str
        Lower-case identifier (``[a-z][a-z0-9_]*``), unique in the profile; used in column
        names such as ``walk_min_<id>``.
    name, name_en : str
        The name in the standard's own words, and in English.
    aliases : tuple of str
        Other names people use in their tables (社区卫生服务站, 卫生站 …); matched like
        ``name`` by :meth:`Profile.facility`.
    osm : tuple of (key, value)
        OpenStreetMap tags that identify the type, any one sufficing (``"*"``: any value);
        empty where OSM has no tag for it.  Features found this way are hints, not records.
    min_floor_area_m2 : float or None
        Minimum floor area of one such facility, where the standard gives one.
    required : bool
        ``True``: must be provided (GB 50180 "▲ 应配"); ``False``: recommended ("△ 宜配").
    replaces : tuple of str
        Ids of lower-tier facility types this one also satisfies when its tier has
        ``replaces_lower = true`` (see the module notes).
    note : str
        A remark shown with the type (what it includes, how OSM tags fall short …).
    """

    id: str
    name: str
    name_en: str
    _: KW_ONLY
    aliases: tuple[str, ...] = ()
    osm: OsmTags = ()
    min_floor_area_m2: float | None = None
    required: bool = True
    replaces: tuple[str, ...] = ()
    note: str = ""

    def names(self) -> tuple[str, ...]:
        """Every name the type answers to: id, Chinese and English names, aliases."""
        return (self.id, self.name, self.name_en, *self.aliases)

    def matches_osm(self, tags: Mapping[str, Any]) -> bool:
        """Whether an OSM feature with these tags is of this type.

        Examples
        --------
        >>> from linli.standards import load_profile
        >>> load_profile().facility("police_office").matches_osm({"amenity": "police"})
        True
        """
        return _osm_match(self.osm, tags)


@dataclass(frozen=True)
class Tier:
    """One level of the standard (街道中心, 十五分钟生活圈居住区, …).

    Attributes
    ----------
    id, name, name_en : str
        Identifier, the standard's name, English name.
    population_served : (int, int)
        Residents one unit of this level serves, as ``(min, max)``; a single figure in the
        policy (Chongqing: 100,000) is ``(100000, 100000)``.
    min_floor_area_m2 : float or None
        Minimum total floor area of the tier's centre; ``None`` where the standard gives none.
    walk_min : float
        The walking circle, minutes: each listed facility within this of the homes served.
    walk_distance_m : (float, float) or None
        The standard's walking distance for the circle, ``(min, max)`` metres, where given.
        The audit measures minutes on the network; this is the standard's own reference.
    facilities : tuple of FacilityType
        The facility types the tier requires (or recommends, ``required = False``).
    replaces_lower : bool
        Whether this tier's facilities stand in for lower tiers' (see the module notes).
    aliases : tuple of str
        Other names of the level.
    dwellings_served : (int, int) or None
        Dwellings (套) one unit serves, where the standard gives them.
    planned_new_count : int or None
        Units of this tier a plan sets out to build, where the policy says.
    assumed : tuple of str
        Keys of this tier whose values are assumptions, not the policy's text.
    source, note : str
        Where the numbers come from; a remark.
    """

    id: str
    name: str
    name_en: str
    population_served: tuple[int, int]
    min_floor_area_m2: float | None
    walk_min: float
    walk_distance_m: tuple[float, float] | None
    facilities: tuple[FacilityType, ...]
    replaces_lower: bool
    _: KW_ONLY
    aliases: tuple[str, ...] = ()
    dwellings_served: tuple[int, int] | None = None
    planned_new_count: int | None = None
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""

    @property
    def population_min(self) -> int:
        """The smallest population of one unit of this level (``population_served[0]``)."""
        return self.population_served[0]

    @property
    def population_max(self) -> int:
        """The most residents one unit serves (``population_served[1]``), e.g. 100,000."""
        return self.population_served[1]

    def facility_ids(self) -> tuple[str, ...]:
        """Ids of the tier's facility types, in the profile's order."""
        return tuple(f.id for f in self.facilities)


@dataclass(frozen=True)
class BuiltAreaRule:
    """Service floor area required in built-up areas, per 100 households (``[built_area]``).

    Attributes
    ----------
    service_floor_area_m2_per_100_households : float
        Chongqing: 30 m² per 100 households (每百户不低于30平方米).
    applies_to_tier : str or None
        The tier whose unit the rule is applied to (Chongqing: each community, 社区家园).
    """

    service_floor_area_m2_per_100_households: float
    _: KW_ONLY
    applies_to_tier: str | None = None
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""

    def required_floor_area_m2(self, households: float) -> float:
        """Floor area required for ``households`` households, m².

        Examples
        --------
        >>> from linli.standards import load_profile
        >>> load_profile().built_area.required_floor_area_m2(4000)
        1200.0
        """
        return float(households) * self.service_floor_area_m2_per_100_households / 100.0


@dataclass(frozen=True)
class NewHousingRule:
    """Rooms developers hand over in new housing, per 100 households (``[new_housing]``)."""

    handover_floor_area_m2_per_100_households: float
    _: KW_ONLY
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""

    def handover_floor_area_m2(self, households: float) -> float:
        """Floor area a development of ``households`` households hands over, m²."""
        return float(households) * self.handover_floor_area_m2_per_100_households / 100.0


@dataclass(frozen=True)
class CoverageTarget:
    """The headline target: share of units with a facility meeting the standard.

    Attributes
    ----------
    target_share : float
        In (0, 1]; Chongqing: 1.0 (覆盖率达到100%).
    target_year : int or None
        The year the target is set for.
    applies_to_tier : str or None
        The tier whose units are counted (Chongqing: communities).
    """

    target_share: float
    _: KW_ONLY
    target_year: int | None = None
    applies_to_tier: str | None = None
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class PopulationDefaults:
    """Household size and the defaults the population estimator needs (``[population]``).

    Attributes
    ----------
    persons_per_household : float
        Residents per household, to turn households into people and back.
    default_levels : int
        Storeys assumed for a home without ``building:levels``.
    min_home_footprint_m2 : float
        Buildings with a smaller footprint are not counted as homes (sheds, kiosks …).
    floor_area_m2_per_person : float or None
        Residential floor area per resident, m², where a sourced figure exists.
    metres_per_level : float or None
        Storey height used to turn a building's ``height`` into levels, where the profile
        sets one (otherwise the population estimator's own default applies).
    """

    persons_per_household: float
    default_levels: int
    min_home_footprint_m2: float
    _: KW_ONLY
    floor_area_m2_per_person: float | None = None
    metres_per_level: float | None = None
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class UsableRules:
    """What floor area counts as usable (``[usable]``).

    Planners find areas meeting the total on paper while the rooms sit in basements or on
    high floors without a lift; the audit reports both figures under these rules.

    Attributes
    ----------
    basement_usable : bool
        Whether rooms in a basement or half-basement (地下室、半地下室) count.
    max_floor_without_lift : int
        Highest floor whose rooms count without a lift.  Floors are numbered as in China:
        1 = ground floor (首层), -1 = first basement (地下一层).
    """

    basement_usable: bool
    max_floor_without_lift: int
    _: KW_ONLY
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""

    def is_usable(
        self, *, floor: int | None, lift: bool | None, basement: bool | None = None
    ) -> bool | None:
        """Whether a room counts; ``None`` when the data cannot tell.

        A floor below 1, or ``basement=True``, is a basement.  A room above
        ``max_floor_without_lift`` counts only with a lift; with the lift unknown the answer
        is ``None`` (the audit decides how to report such rows).

        Examples
        --------
        >>> from linli.standards import load_profile
        >>> rules = load_profile().usable
        >>> rules.is_usable(floor=1, lift=False), rules.is_usable(floor=3, lift=False)
        (True, False)
        >>> rules.is_usable(floor=-1, lift=True), rules.is_usable(floor=3, lift=None)
        (False, None)
        """
        in_basement = bool(basement) or (floor is not None and floor < 1)
        if in_basement:
            return self.basement_usable
        if floor is None:
            return None
        if floor <= self.max_floor_without_lift:
            return True
        return None if lift is None else bool(lift)


@dataclass(frozen=True)
class ColocationCategory:
    """A kind of place the policy wants beside the centres (education, transport, …)."""

    id: str
    name: str
    name_en: str
    osm: OsmTags

    def matches_osm(self, tags: Mapping[str, Any]) -> bool:
        """Whether an OSM feature with these tags belongs to the category."""
        return _osm_match(self.osm, tags)


@dataclass(frozen=True)
class ColocationRule:
    """Co-location (相邻布局): which kinds of places should lie beside a centre.

    Attributes
    ----------
    walk_min : float
        A place within this many walking minutes of a centre counts as beside it.
    categories : tuple of ColocationCategory
    """

    walk_min: float
    categories: tuple[ColocationCategory, ...]
    _: KW_ONLY
    assumed: tuple[str, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Profile:
    """A loaded, validated standards profile.

    Attributes
    ----------
    id, title : str
        The profile's id (``chongqing-2019``) and the title of the policy.
    path : Path
        The file it was read from.
    walking : WalkingProfile
    data : dict
        The whole parsed file, as read.
    tiers : tuple of Tier
        The levels, from the highest down.
    population : PopulationDefaults
    usable : UsableRules
    built_area, new_housing, coverage, colocation
        Optional parts; ``None`` where the standard has no such rule (GB 50180-2018 sets no
        floor area per 100 households, for example).
    title_en, source : str

    Examples
    --------
    >>> from linli.standards import load_profile
    >>> p = load_profile("chongqing-2019")
    >>> [t.walk_min for t in p.tiers]
    [20.0, 10.0]
    >>> p.facility("社区卫生服务站").id
    'health_station'
    """

    id: str
    title: str
    path: Path
    walking: WalkingProfile
    data: dict[str, Any]
    _: KW_ONLY
    tiers: tuple[Tier, ...]
    population: PopulationDefaults
    usable: UsableRules
    built_area: BuiltAreaRule | None = None
    new_housing: NewHousingRule | None = None
    coverage: CoverageTarget | None = None
    colocation: ColocationRule | None = None
    title_en: str = ""
    source: str = ""
    _facility_index: dict[str, FacilityType] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _tier_index: dict[str, Tier] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for tier in self.tiers:
            for name in (tier.id, tier.name, tier.name_en, *tier.aliases):
                self._tier_index.setdefault(normalise_name(name), tier)
            for facility in tier.facilities:
                for name in facility.names():
                    self._facility_index.setdefault(normalise_name(name), facility)

    def facility_types(self) -> tuple[FacilityType, ...]:
        """Every facility type of every tier, highest tier first."""
        return tuple(f for tier in self.tiers for f in tier.facilities)

    def tier(self, id_or_name: str) -> Tier:
        """The tier with this id or name (full-width and spaces ignored).

        Raises
        ------
        StandardError
            No such tier; the message suggests the closest names.
        """
        found = self._tier_index.get(normalise_name(id_or_name))
        if found is None:
            options = {key: f"{t.name} ({t.id})" for key, t in self._tier_index.items()}
            raise StandardError(self._unknown("tier", id_or_name, options))
        return found

    def facility(self, id_or_name: str) -> FacilityType:
        """The facility type with this id, Chinese or English name, or alias.

        Names are compared after :func:`normalise_name` (full-width/half-width, case, spaces).

        Raises
        ------
        StandardError
            No such type; the message names the closest types (difflib).

        Examples
        --------
        >>> from linli.standards import load_profile
        >>> load_profile().facility("卫生站").name
        '卫生服务站'
        """
        found = self._facility_index.get(normalise_name(id_or_name))
        if found is None:
            options = {key: f"{f.name} ({f.id})" for key, f in self._facility_index.items()}
            raise StandardError(self._unknown("facility type", id_or_name, options))
        return found

    def tier_of(self, facility: str) -> Tier:
        """The tier that lists a facility type (given by id, name or alias)."""
        wanted = self.facility(facility).id
        return next(t for t in self.tiers if wanted in t.facility_ids())

    def assumptions(self) -> tuple[str, ...]:
        """Every value the profile marks as an assumption, as ``"part.key"`` strings.

        Reports list these in their method notes.
        """
        out: list[str] = [f"tiers.{t.id}.{key}" for t in self.tiers for key in t.assumed]
        parts: dict[str, Any] = {
            "population": self.population,
            "usable": self.usable,
            "built_area": self.built_area,
            "new_housing": self.new_housing,
            "coverage": self.coverage,
            "colocation": self.colocation,
        }
        out += [f"{name}.{key}" for name, part in parts.items() if part for key in part.assumed]
        return tuple(out)

    def _unknown(self, what: str, asked: str, options: dict[str, str]) -> str:
        close = difflib.get_close_matches(normalise_name(asked), list(options), n=6, cutoff=0.4)
        suggestions = list(dict.fromkeys(options[key] for key in close))[:3]
        if suggestions:
            hint = "closest: " + ", ".join(suggestions)
        else:
            hint = "known: " + ", ".join(dict.fromkeys(options.values()))
        return (
            f"standards profile {self.id}: expected a {what} of this standard (id, name or "
            f"alias); found {asked!r}, which is none of them; {hint}"
        )
