"""Validation of a parsed profile: every problem is collected, then raised once.

Each problem names the file, the key (``[walking] speed_m_per_min``,
``[[tiers]][1].facilities[3].id`` — entries counted from 1, as a reader counts them in the
file), what was expected and what was found.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from linli._errors import Problem, StandardError
from linli.standards.schema import (
    BuiltAreaRule,
    ColocationCategory,
    ColocationRule,
    CoverageTarget,
    FacilityType,
    NewHousingRule,
    OsmTags,
    PopulationDefaults,
    Profile,
    Tier,
    UsableRules,
    WalkingProfile,
    normalise_name,
)

_SLOPE_MODELS = ("tobler", "none")
_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_PROFILE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
_OSM_KEY = re.compile(r"[A-Za-z0-9_:.-]+\Z")
_MISSING: Any = object()
_DOC = ("assumed", "source", "note")
"""Keys every part may carry: which of its values are assumptions, the source, a remark."""

_TABLES = (
    "profile",
    "walking",
    "tiers",
    "population",
    "usable",
    "built_area",
    "new_housing",
    "coverage",
    "colocation",
)


def _found(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    """Reads typed values out of TOML tables, recording a :class:`Problem` for each fault.

    Every reader returns ``None`` on a fault (or when an optional key is absent and has no
    default); callers build objects only when no problem was recorded.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, where: str, expected: str, found: str) -> None:
        self.problems.append(Problem(self.source, expected, found, where))

    def table(self, value: Any, where: str, expected: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.add(where, expected, _found(value))
            return None
        return value

    def known_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        extra = sorted(set(table) - set(allowed))
        if extra:
            found = []
            for key in extra:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                found.append(f"{key} (did you mean {close[0]}?)" if close else key)
            self.add(where, "only known keys", ", ".join(found))

    def _get(self, table: dict[str, Any], key: str, prefix: str, required: bool) -> Any:
        if key in table:
            return table[key]
        if required:
            self.add(prefix + key, "a value", "nothing")
        return _MISSING

    def text(
        self, table: dict[str, Any], key: str, prefix: str, *, required: bool = True
    ) -> str | None:
        value = self._get(table, key, prefix, required)
        if value is _MISSING:
            return None if required else ""
        if not isinstance(value, str) or not value.strip():
            self.add(prefix + key, "a non-empty string", _found(value))
            return None
        return value.strip()

    def ident(self, table: dict[str, Any], key: str, prefix: str) -> str | None:
        value = self._get(table, key, prefix, True)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not _ID.match(value):
            self.add(
                prefix + key,
                "an id of lower-case letters, digits and '_', starting with a letter",
                _found(value),
            )
            return None
        return value

    def number(
        self,
        table: dict[str, Any],
        key: str,
        prefix: str,
        *,
        required: bool = True,
        share: bool = False,
    ) -> float | None:
        value = self._get(table, key, prefix, required)
        if value is _MISSING:
            return None
        ok = (
            not isinstance(value, bool)
            and isinstance(value, int | float)
            and math.isfinite(value)
            and value > 0
            and (not share or value <= 1)
        )
        if not ok:
            expected = "a number in (0, 1]" if share else "a finite number > 0"
            self.add(prefix + key, expected, _found(value))
            return None
        return float(value)

    def whole(
        self,
        table: dict[str, Any],
        key: str,
        prefix: str,
        *,
        required: bool = True,
        minimum: int = 1,
    ) -> int | None:
        value = self._get(table, key, prefix, required)
        if value is _MISSING:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.add(prefix + key, f"a whole number >= {minimum}", _found(value))
            return None
        return value

    def flag(self, table: dict[str, Any], key: str, prefix: str) -> bool | None:
        value = self._get(table, key, prefix, True)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.add(prefix + key, "true or false", _found(value))
            return None
        return value

    def texts(self, table: dict[str, Any], key: str, prefix: str) -> tuple[str, ...] | None:
        value = self._get(table, key, prefix, False)
        if value is _MISSING:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(prefix + key, "a list of non-empty strings", _found(value))
            return None
        items = [v.strip() for v in value]
        repeated = sorted({v for v in items if items.count(v) > 1})
        if repeated:
            self.add(prefix + key, "each entry once", "repeated " + ", ".join(repeated))
            return None
        return tuple(items)

    def span(
        self,
        table: dict[str, Any],
        key: str,
        prefix: str,
        *,
        required: bool,
        whole: bool,
    ) -> tuple[float, float] | None:
        """A number, or ``[min, max]`` with ``0 < min <= max``; returned as ``(min, max)``."""
        value = self._get(table, key, prefix, required)
        if value is _MISSING:
            return None
        items = value if isinstance(value, list) else [value]
        ok = len(items) == (2 if isinstance(value, list) else 1) and all(
            not isinstance(v, bool)
            and isinstance(v, int | float)
            and math.isfinite(v)
            and v > 0
            and (not whole or float(v).is_integer())
            for v in items
        )
        if not ok or items[0] > items[-1]:
            kind = "whole numbers" if whole else "numbers"
            self.add(
                prefix + key,
                f"a number > 0 or a range [min, max] of {kind} with 0 < min <= max",
                _found(value),
            )
            return None
        return float(items[0]), float(items[-1])

    def osm(
        self, table: dict[str, Any], key: str, prefix: str, *, required: bool = False
    ) -> OsmTags | None:
        value = self._get(table, key, prefix, required)
        if value is _MISSING:
            return None if required else ()
        pairs: list[tuple[str, str]] = []
        bad: list[Any] = []
        for item in value if isinstance(value, list) else [value]:
            k, sep, v = item.partition("=") if isinstance(item, str) else ("", "", "")
            if sep and _OSM_KEY.match(k.strip()) and v.strip():
                pairs.append((k.strip(), v.strip()))
            else:
                bad.append(item)
        if not isinstance(value, list) or bad or (required and not pairs):
            self.add(
                prefix + key,
                'a list of OSM tags written "key=value" (value "*" for any)',
                _found(bad[0] if bad and isinstance(value, list) else value),
            )
            return None
        return tuple(pairs)

    def doc(self, table: dict[str, Any], prefix: str) -> tuple[str, str]:
        """The optional ``source`` and ``note`` of a part."""
        source = self.text(table, "source", prefix, required=False)
        note = self.text(table, "note", prefix, required=False)
        return source or "", note or ""

    def assumed(
        self, table: dict[str, Any], prefix: str, allowed: tuple[str, ...]
    ) -> tuple[str, ...] | None:
        keys = self.texts(table, "assumed", prefix)
        if keys is None:
            return None
        valid = set(allowed) - set(_DOC)
        unknown = [k for k in keys if k not in valid]
        if unknown:
            self.add(prefix + "assumed", "keys of this table", ", ".join(unknown))
            return None
        return keys


# ---------------------------------------------------------------------------------------------
# The parts of a profile
# ---------------------------------------------------------------------------------------------


def _walking(c: _Checker, value: Any) -> WalkingProfile | None:
    table = c.table(value, "[walking]", "a [walking] table")
    if table is None:
        return None
    before = len(c.problems)
    values: dict[str, Any] = {}
    for f in fields(WalkingProfile):
        where = f"[walking] {f.name}"
        if f.name not in table:
            c.add(where, "a value", "nothing")
            continue
        item = table[f.name]
        if f.name == "slope_model":
            if item not in _SLOPE_MODELS:
                c.add(where, f"one of {_SLOPE_MODELS}", repr(item))
            values[f.name] = item
            continue
        values[f.name] = c.number(table, f.name, "[walking] ")
    c.known_keys(table, tuple(f.name for f in fields(WalkingProfile)), "[walking]")
    if len(c.problems) > before:
        return None
    return WalkingProfile(**values)


def _meta(c: _Checker, value: Any) -> tuple[str, str, str, str] | None:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        c.add("[profile]", "a [profile] table with a string 'id'", _found(value))
        return None
    allowed = ("id", "title", "title_en", "source")
    c.known_keys(value, allowed, "[profile]")
    if not _PROFILE_ID.match(value["id"]):
        c.add(
            "[profile] id",
            "an id of lower-case letters, digits, '-', '_' and '.'",
            _found(value["id"]),
        )
    title = c.text(value, "title", "[profile] ", required=False) or value["id"]
    title_en = c.text(value, "title_en", "[profile] ", required=False)
    source = c.text(value, "source", "[profile] ", required=False)
    return value["id"], title, title_en or "", source or ""


_FACILITY_KEYS = (
    "id",
    "name",
    "name_en",
    "aliases",
    "osm",
    "min_floor_area_m2",
    "required",
    "replaces",
    "note",
)


def _facility(c: _Checker, value: Any, prefix: str) -> FacilityType | None:
    where = prefix.rstrip(".")
    table = c.table(value, where, "a facility table {id, name, name_en, …}")
    if table is None:
        return None
    before = len(c.problems)
    c.known_keys(table, _FACILITY_KEYS, where)
    fid = c.ident(table, "id", prefix)
    name = c.text(table, "name", prefix)
    name_en = c.text(table, "name_en", prefix)
    aliases = c.texts(table, "aliases", prefix)
    osm = c.osm(table, "osm", prefix)
    area = c.number(table, "min_floor_area_m2", prefix, required=False)
    required = True
    if "required" in table:
        required = bool(c.flag(table, "required", prefix))
    replaces = c.texts(table, "replaces", prefix)
    note = c.text(table, "note", prefix, required=False)
    if (
        len(c.problems) > before
        or fid is None
        or name is None
        or name_en is None
        or aliases is None
        or osm is None
        or replaces is None
    ):
        return None
    return FacilityType(
        fid,
        name,
        name_en,
        aliases=aliases,
        osm=osm,
        min_floor_area_m2=area,
        required=required,
        replaces=replaces,
        note=note or "",
    )


_TIER_KEYS = (
    "id",
    "name",
    "name_en",
    "aliases",
    "population_served",
    "dwellings_served",
    "min_floor_area_m2",
    "walk_min",
    "walk_distance_m",
    "replaces_lower",
    "planned_new_count",
    "facilities",
    *_DOC,
)


def _tier(c: _Checker, value: Any, prefix: str) -> Tier | None:
    where = prefix.rstrip(".")
    table = c.table(value, where, "a [[tiers]] table")
    if table is None:
        return None
    before = len(c.problems)
    c.known_keys(table, _TIER_KEYS, where)
    tid = c.ident(table, "id", prefix)
    name = c.text(table, "name", prefix)
    name_en = c.text(table, "name_en", prefix)
    aliases = c.texts(table, "aliases", prefix)
    population = c.span(table, "population_served", prefix, required=True, whole=True)
    dwellings = c.span(table, "dwellings_served", prefix, required=False, whole=True)
    area = c.number(table, "min_floor_area_m2", prefix, required=False)
    walk_min = c.number(table, "walk_min", prefix)
    distance = c.span(table, "walk_distance_m", prefix, required=False, whole=False)
    replaces_lower = c.flag(table, "replaces_lower", prefix)
    planned = c.whole(table, "planned_new_count", prefix, required=False)
    assumed = c.assumed(table, prefix, _TIER_KEYS)
    source, note = c.doc(table, prefix)
    raw = table.get("facilities", _MISSING)
    facilities: list[FacilityType | None] = []
    if not isinstance(raw, list) or not raw:
        c.add(
            prefix + "facilities",
            "a non-empty list of facility tables {id, name, name_en, …}",
            _found(raw),
        )
    else:
        facilities = [
            _facility(c, item, f"{prefix}facilities[{i}].") for i, item in enumerate(raw, 1)
        ]
    if (
        len(c.problems) > before
        or tid is None
        or name is None
        or name_en is None
        or aliases is None
        or population is None
        or walk_min is None
        or replaces_lower is None
        or assumed is None
    ):
        return None
    return Tier(
        tid,
        name,
        name_en,
        (int(population[0]), int(population[1])),
        area,
        walk_min,
        distance,
        tuple(f for f in facilities if f is not None),
        replaces_lower,
        aliases=aliases,
        dwellings_served=(int(dwellings[0]), int(dwellings[1])) if dwellings else None,
        planned_new_count=planned,
        assumed=assumed,
        source=source,
        note=note,
    )


def _tiers(c: _Checker, value: Any) -> tuple[Tier, ...] | None:
    if not isinstance(value, list) or not value:
        c.add(
            "[[tiers]]",
            "one or more [[tiers]] tables (the levels, highest first)",
            _found(value),
        )
        return None
    parsed = [_tier(c, item, f"[[tiers]][{i}].") for i, item in enumerate(value, 1)]
    _check_tiers(c, parsed)
    if any(t is None for t in parsed):
        return None
    return tuple(t for t in parsed if t is not None)


def _check_tiers(c: _Checker, tiers: list[Tier | None]) -> None:
    """Cross-checks: unique ids and names, order from the highest level, valid replaces."""
    tier_ids: dict[str, int] = {}
    facility_at: dict[str, str] = {}
    names: dict[str, str] = {}
    for i, tier in enumerate(tiers, 1):
        if tier is None:
            continue
        if tier.id in tier_ids:
            c.add(
                f"[[tiers]][{i}].id",
                "a tier id used once",
                f"{tier.id!r} (also [[tiers]][{tier_ids[tier.id]}])",
            )
        tier_ids.setdefault(tier.id, i)
        for j, facility in enumerate(tier.facilities, 1):
            where = f"[[tiers]][{i}].facilities[{j}]"
            if facility.id in facility_at:
                c.add(
                    f"{where}.id",
                    "a facility id used once in the profile (across all tiers)",
                    f"{facility.id!r} (also {facility_at[facility.id]})",
                )
                continue
            facility_at[facility.id] = where
            for name in dict.fromkeys(normalise_name(n) for n in facility.names()):
                owner = names.setdefault(name, facility.id)
                if owner != facility.id:
                    c.add(
                        where,
                        "names and aliases that no other facility type uses",
                        f"{name!r} also names {owner!r}",
                    )
    _check_order(c, tiers)
    _check_replaces(c, tiers)


def _check_order(c: _Checker, tiers: list[Tier | None]) -> None:
    for i in range(1, len(tiers)):
        upper, lower = tiers[i - 1], tiers[i]
        if upper is None or lower is None:
            continue
        if lower.walk_min >= upper.walk_min:
            c.add(
                f"[[tiers]][{i + 1}].walk_min",
                f"tiers from the highest level down: fewer minutes than {upper.id!r} "
                f"({upper.walk_min:g})",
                f"{lower.walk_min:g}",
            )
        if lower.population_served[1] > upper.population_served[1]:
            c.add(
                f"[[tiers]][{i + 1}].population_served",
                f"tiers from the highest level down: at most {upper.id!r}'s "
                f"{upper.population_served[1]:,}",
                f"{lower.population_served[1]:,}",
            )


def _check_replaces(c: _Checker, tiers: list[Tier | None]) -> None:
    for i, tier in enumerate(tiers, 1):
        if tier is None:
            continue
        # A broken lower tier has its own problems reported; do not guess at its ids.
        lower_known = all(t is not None for t in tiers[i:])
        below = {f.id for t in tiers[i:] if t is not None for f in t.facilities}
        for j, facility in enumerate(tier.facilities, 1):
            where = f"[[tiers]][{i}].facilities[{j}].replaces"
            if facility.replaces and not tier.replaces_lower:
                c.add(
                    where,
                    "no 'replaces' in a tier with replaces_lower = false",
                    _found(list(facility.replaces)),
                )
                continue
            unknown = [r for r in facility.replaces if r not in below]
            if unknown and lower_known:
                c.add(where, "ids of facility types in lower tiers", ", ".join(unknown))


_POPULATION_KEYS = (
    "persons_per_household",
    "default_levels",
    "min_home_footprint_m2",
    "floor_area_m2_per_person",
    "metres_per_level",
    # Tuning of linli.population's estimate (read by EstimateDefaults.from_profile).
    "min_buildings",
    "street_spacing_m",
    "cell_m",
    "min_mapped_cover",
    "min_mapped_share",
    *_DOC,
)


def _population(c: _Checker, value: Any) -> PopulationDefaults | None:
    table = c.table(value, "[population]", "a [population] table")
    if table is None:
        return None
    p = "[population] "
    before = len(c.problems)
    c.known_keys(table, _POPULATION_KEYS, "[population]")
    persons = c.number(table, "persons_per_household", p)
    levels = c.whole(table, "default_levels", p)
    footprint = c.number(table, "min_home_footprint_m2", p)
    per_person = c.number(table, "floor_area_m2_per_person", p, required=False)
    per_level = c.number(table, "metres_per_level", p, required=False)
    assumed = c.assumed(table, p, _POPULATION_KEYS)
    source, note = c.doc(table, p)
    if len(c.problems) > before or persons is None or levels is None or footprint is None:
        return None
    return PopulationDefaults(
        persons,
        levels,
        footprint,
        floor_area_m2_per_person=per_person,
        metres_per_level=per_level,
        assumed=assumed or (),
        source=source,
        note=note,
    )


_USABLE_KEYS = ("basement_usable", "max_floor_without_lift", *_DOC)


def _usable(c: _Checker, value: Any) -> UsableRules | None:
    table = c.table(value, "[usable]", "a [usable] table")
    if table is None:
        return None
    p = "[usable] "
    before = len(c.problems)
    c.known_keys(table, _USABLE_KEYS, "[usable]")
    basement = c.flag(table, "basement_usable", p)
    max_floor = c.whole(table, "max_floor_without_lift", p)
    assumed = c.assumed(table, p, _USABLE_KEYS)
    source, note = c.doc(table, p)
    if len(c.problems) > before or basement is None or max_floor is None:
        return None
    return UsableRules(basement, max_floor, assumed=assumed or (), source=source, note=note)


_BUILT_KEYS = ("service_floor_area_m2_per_100_households", "applies_to_tier", *_DOC)
_NEW_KEYS = ("handover_floor_area_m2_per_100_households", *_DOC)
_COVERAGE_KEYS = ("target_share", "target_year", "applies_to_tier", *_DOC)


def _built_area(c: _Checker, value: Any) -> BuiltAreaRule | None:
    table = c.table(value, "[built_area]", "a [built_area] table")
    if table is None:
        return None
    p = "[built_area] "
    before = len(c.problems)
    c.known_keys(table, _BUILT_KEYS, "[built_area]")
    rate = c.number(table, "service_floor_area_m2_per_100_households", p)
    tier = c.ident(table, "applies_to_tier", p) if "applies_to_tier" in table else None
    assumed = c.assumed(table, p, _BUILT_KEYS)
    source, note = c.doc(table, p)
    if len(c.problems) > before or rate is None:
        return None
    return BuiltAreaRule(
        rate, applies_to_tier=tier, assumed=assumed or (), source=source, note=note
    )


def _new_housing(c: _Checker, value: Any) -> NewHousingRule | None:
    table = c.table(value, "[new_housing]", "a [new_housing] table")
    if table is None:
        return None
    p = "[new_housing] "
    before = len(c.problems)
    c.known_keys(table, _NEW_KEYS, "[new_housing]")
    rate = c.number(table, "handover_floor_area_m2_per_100_households", p)
    assumed = c.assumed(table, p, _NEW_KEYS)
    source, note = c.doc(table, p)
    if len(c.problems) > before or rate is None:
        return None
    return NewHousingRule(rate, assumed=assumed or (), source=source, note=note)


def _coverage(c: _Checker, value: Any) -> CoverageTarget | None:
    table = c.table(value, "[coverage]", "a [coverage] table")
    if table is None:
        return None
    p = "[coverage] "
    before = len(c.problems)
    c.known_keys(table, _COVERAGE_KEYS, "[coverage]")
    share = c.number(table, "target_share", p, share=True)
    year = c.whole(table, "target_year", p, required=False, minimum=1900)
    tier = c.ident(table, "applies_to_tier", p) if "applies_to_tier" in table else None
    assumed = c.assumed(table, p, _COVERAGE_KEYS)
    source, note = c.doc(table, p)
    if len(c.problems) > before or share is None:
        return None
    return CoverageTarget(
        share,
        target_year=year,
        applies_to_tier=tier,
        assumed=assumed or (),
        source=source,
        note=note,
    )


_COLOCATION_KEYS = ("walk_min", "categories", *_DOC)
_CATEGORY_KEYS = ("id", "name", "name_en", "osm")


def _colocation(c: _Checker, value: Any) -> ColocationRule | None:
    table = c.table(value, "[colocation]", "a [colocation] table")
    if table is None:
        return None
    p = "[colocation] "
    before = len(c.problems)
    c.known_keys(table, _COLOCATION_KEYS, "[colocation]")
    walk_min = c.number(table, "walk_min", p)
    assumed = c.assumed(table, p, _COLOCATION_KEYS)
    source, note = c.doc(table, p)
    raw = table.get("categories", _MISSING)
    categories: list[ColocationCategory] = []
    if not isinstance(raw, list) or not raw:
        c.add(
            "[[colocation.categories]]",
            "one or more category tables {id, name, name_en, osm}",
            _found(raw),
        )
    else:
        seen: dict[str, int] = {}
        for i, item in enumerate(raw, 1):
            cp = f"[[colocation.categories]][{i}]."
            cat = c.table(item, cp.rstrip("."), "a category table {id, name, name_en, osm}")
            if cat is None:
                continue
            c.known_keys(cat, _CATEGORY_KEYS, cp.rstrip("."))
            cid = c.ident(cat, "id", cp)
            name, name_en = c.text(cat, "name", cp), c.text(cat, "name_en", cp)
            osm = c.osm(cat, "osm", cp, required=True)
            if cid is not None and cid in seen:
                c.add(cp + "id", "a category id used once", f"{cid!r} (also [{seen[cid]}])")
            if cid is not None:
                seen.setdefault(cid, i)
            if cid and name and name_en and osm:
                categories.append(ColocationCategory(cid, name, name_en, osm))
    if len(c.problems) > before or walk_min is None:
        return None
    return ColocationRule(
        walk_min,
        tuple(categories),
        assumed=assumed or (),
        source=source,
        note=note,
    )


def _check_tier_refs(c: _Checker, tiers: tuple[Tier, ...] | None, refs: dict[str, Any]) -> None:
    if tiers is None:
        return
    ids = [t.id for t in tiers]
    for where, part in refs.items():
        tier = getattr(part, "applies_to_tier", None)
        if tier is not None and tier not in ids:
            c.add(where, f"one of the tier ids {', '.join(ids)}", repr(tier))


def profile_from_data(data: dict[str, Any], path: Path) -> Profile:
    """Check a parsed profile and build the :class:`Profile`; raise once with every problem.

    Raises
    ------
    StandardError
        One message listing every problem: the file, the key, what was expected and found.
    """
    c = _Checker(str(path))
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        c.add("top level", f"only the tables {', '.join(_TABLES)}", ", ".join(unknown))
    walking = _walking(c, data.get("walking"))
    meta = _meta(c, data.get("profile"))
    tiers = _tiers(c, data.get("tiers", _MISSING))
    population = _population(c, data.get("population"))
    usable = _usable(c, data.get("usable"))
    built = _built_area(c, data["built_area"]) if "built_area" in data else None
    new_housing = _new_housing(c, data["new_housing"]) if "new_housing" in data else None
    coverage = _coverage(c, data["coverage"]) if "coverage" in data else None
    colocation = _colocation(c, data["colocation"]) if "colocation" in data else None
    _check_tier_refs(
        c,
        tiers,
        {"[built_area] applies_to_tier": built, "[coverage] applies_to_tier": coverage},
    )
    if (
        c.problems
        or walking is None
        or meta is None
        or tiers is None
        or population is None
        or usable is None
    ):
        raise StandardError(
            f"standards profile {path} is not valid ({len(c.problems)} problem(s); entries "
            "counted from 1):\n" + "\n".join(f"  - {p}" for p in c.problems)
        )
    profile_id, title, title_en, source = meta
    return Profile(
        profile_id,
        title,
        path,
        walking,
        data,
        tiers=tiers,
        population=population,
        usable=usable,
        built_area=built,
        new_housing=new_housing,
        coverage=coverage,
        colocation=colocation,
        title_en=title_en,
        source=source,
    )
