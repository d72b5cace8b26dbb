"""Validation on load: each mistake a user can make in a profile, and its message.

Each case changes a copy of chongqing-2019 and expects the message to name the key (entries
counted from 1), what was expected and what was found.  All problems come in one error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from profile_files import MINIMAL_PROFILE, shipped_data, write_data

from linli import StandardError
from linli.standards import load_profile

Data = dict[str, Any]


def _facility(data: Data, tier: int, index: int) -> Data:
    """The facility table ``[[tiers]][tier].facilities[index]`` (counted from 1)."""
    facility: Data = data["tiers"][tier - 1]["facilities"][index - 1]
    return facility


def _set(path: tuple[Any, ...], value: Any) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _swap_tiers(data: Data) -> None:
    data["tiers"].reverse()


def _alias_clash(data: Data) -> None:
    _facility(data, 2, 5)["aliases"].append("派出所")


CASES: list[tuple[str, Callable[[Data], None], str]] = [
    # Missing keys
    (
        "missing tier key",
        _drop(("tiers", 0, "walk_min")),
        r"\[\[tiers\]\]\[1\]\.walk_min: expected a value; found nothing",
    ),
    (
        "missing facility id",
        _drop(("tiers", 0, "facilities", 2, "id")),
        r"\[\[tiers\]\]\[1\]\.facilities\[3\]\.id: expected a value; found nothing",
    ),
    (
        "missing facility English name",
        _drop(("tiers", 1, "facilities", 6, "name_en")),
        r"\[\[tiers\]\]\[2\]\.facilities\[7\]\.name_en: expected a value; found nothing",
    ),
    (
        "missing built-area rate",
        _drop(("built_area", "service_floor_area_m2_per_100_households")),
        r"\[built_area\] service_floor_area_m2_per_100_households: expected a value; "
        r"found nothing",
    ),
    (
        "missing population table",
        _drop(("population",)),
        r"\[population\]: expected a \[population\] table; found None",
    ),
    (
        "missing usable table",
        _drop(("usable",)),
        r"\[usable\]: expected a \[usable\] table; found None",
    ),
    ("no tiers", _drop(("tiers",)), r"\[\[tiers\]\]: expected one or more \[\[tiers\]\] tables"),
    # Wrong types
    (
        "minutes as text",
        _set(("tiers", 0, "walk_min"), "twenty"),
        r"\[\[tiers\]\]\[1\]\.walk_min: expected a finite number > 0; found 'twenty'",
    ),
    (
        "minutes as a boolean",
        _set(("tiers", 1, "walk_min"), True),
        r"\[\[tiers\]\]\[2\]\.walk_min: expected a finite number > 0; found True",
    ),
    (
        "minutes not a number",
        _set(("tiers", 1, "walk_min"), math.nan),
        r"\[\[tiers\]\]\[2\]\.walk_min: expected a finite number > 0; found nan",
    ),
    (
        "replaces_lower as text",
        _set(("tiers", 0, "replaces_lower"), "yes"),
        r"\[\[tiers\]\]\[1\]\.replaces_lower: expected true or false; found 'yes'",
    ),
    (
        "aliases as one string",
        _set(("tiers", 1, "facilities", 1, "aliases"), "警务站"),
        r"\[\[tiers\]\]\[2\]\.facilities\[2\]\.aliases: expected a list of non-empty strings; "
        r"found '警务站'",
    ),
    (
        "tiers not tables",
        _set(("tiers",), ["street_centre"]),
        r"\[\[tiers\]\]\[1\]: expected a \[\[tiers\]\] table; found 'street_centre'",
    ),
    (
        "a facility that is not a table",
        _set(("tiers", 0, "facilities", 0), "公共服务中心"),
        r"\[\[tiers\]\]\[1\]\.facilities\[1\]: expected a facility table",
    ),
    (
        "usable flag as text",
        _set(("usable", "basement_usable"), "no"),
        r"\[usable\] basement_usable: expected true or false; found 'no'",
    ),
    (
        "levels not whole",
        _set(("population", "default_levels"), 2.5),
        r"\[population\] default_levels: expected a whole number >= 1; found 2\.5",
    ),
    (
        "bad facility id",
        _set(("tiers", 0, "facilities", 2, "id"), "Police Station"),
        r"\[\[tiers\]\]\[1\]\.facilities\[3\]\.id: expected an id of lower-case letters",
    ),
    (
        "OSM tag without '='",
        _set(("tiers", 1, "facilities", 4, "osm"), ["amenity:clinic"]),
        r"\[\[tiers\]\]\[2\]\.facilities\[5\]\.osm: expected a list of OSM tags written "
        r"\"key=value\".*found 'amenity:clinic'",
    ),
    # Non-positive and out-of-range numbers
    (
        "negative floor area",
        _set(("tiers", 1, "min_floor_area_m2"), -2700),
        r"\[\[tiers\]\]\[2\]\.min_floor_area_m2: expected a finite number > 0; found -2700",
    ),
    (
        "zero population",
        _set(("tiers", 0, "population_served"), 0),
        r"\[\[tiers\]\]\[1\]\.population_served: expected a number > 0 or a range \[min, max\]",
    ),
    (
        "population range upside down",
        _set(("tiers", 0, "population_served"), [100000, 50000]),
        r"\[\[tiers\]\]\[1\]\.population_served: expected .*0 < min <= max; "
        r"found \[100000, 50000\]",
    ),
    (
        "zero persons per household",
        _set(("population", "persons_per_household"), 0),
        r"\[population\] persons_per_household: expected a finite number > 0; found 0",
    ),
    (
        "coverage above 100 %",
        _set(("coverage", "target_share"), 1.5),
        r"\[coverage\] target_share: expected a number in \(0, 1\]; found 1\.5",
    ),
    (
        "negative new-housing rate",
        _set(("new_housing", "handover_floor_area_m2_per_100_households"), -15),
        r"\[new_housing\] handover_floor_area_m2_per_100_households: expected a finite number",
    ),
    # Duplicates and clashes
    (
        "facility id used in two tiers",
        _set(("tiers", 1, "facilities", 0, "id"), "police_station"),
        r"\[\[tiers\]\]\[2\]\.facilities\[1\]\.id: expected a facility id used once in the "
        r"profile \(across all tiers\); found 'police_station' \(also "
        r"\[\[tiers\]\]\[1\]\.facilities\[3\]\)",
    ),
    (
        "tier id used twice",
        _set(("tiers", 1, "id"), "street_centre"),
        r"\[\[tiers\]\]\[2\]\.id: expected a tier id used once; found 'street_centre'",
    ),
    (
        "alias naming another type",
        _alias_clash,
        r"\[\[tiers\]\]\[2\]\.facilities\[5\]: expected names and aliases that no other "
        r"facility type uses; found '派出所' also names 'police_station'",
    ),
    (
        "alias listed twice",
        _set(("tiers", 1, "facilities", 4, "aliases"), ["卫生站", "卫生站"]),
        r"facilities\[5\]\.aliases: expected each entry once; found repeated 卫生站",
    ),
    # Unknown keys and tables
    (
        "unknown facility key",
        _set(("tiers", 0, "facilities", 0, "nmae"), "x"),
        r"\[\[tiers\]\]\[1\]\.facilities\[1\]: expected only known keys; found nmae "
        r"\(did you mean name\?\)",
    ),
    (
        "unknown tier key",
        _set(("tiers", 1, "walk_minutes"), 10),
        r"\[\[tiers\]\]\[2\]: expected only known keys; found walk_minutes",
    ),
    (
        "unknown table",
        _set(("built_areas",), {"x": 1}),
        r"top level: expected only the tables profile, walking, tiers, .*; found built_areas",
    ),
    (
        "unknown key in [usable]",
        _set(("usable", "max_floors"), 3),
        r"\[usable\]: expected only known keys; found max_floors",
    ),
    (
        "assumption naming no key",
        _set(("population", "assumed"), ["households"]),
        r"\[population\] assumed: expected keys of this table; found households",
    ),
    # Empty lists and references
    (
        "empty facility list",
        _set(("tiers", 1, "facilities"), []),
        r"\[\[tiers\]\]\[2\]\.facilities: expected a non-empty list of facility tables",
    ),
    (
        "colocation category without tags",
        _set(("colocation", "categories", 0, "osm"), []),
        r"\[\[colocation\.categories\]\]\[1\]\.osm: expected a list of OSM tags",
    ),
    (
        "rule applied to a tier that does not exist",
        _set(("built_area", "applies_to_tier"), "community"),
        r"\[built_area\] applies_to_tier: expected one of the tier ids street_centre, "
        r"community_home; found 'community'",
    ),
    (
        "replaces a type that is not in a lower tier",
        _set(("tiers", 0, "facilities", 2, "replaces"), ["nowhere"]),
        r"\[\[tiers\]\]\[1\]\.facilities\[3\]\.replaces: expected ids of facility types in "
        r"lower tiers; found nowhere",
    ),
    (
        "replaces in a tier that replaces nothing",
        _set(("tiers", 0, "replaces_lower"), False),
        r"\[\[tiers\]\]\[1\]\.facilities\[1\]\.replaces: expected no 'replaces' in a tier with "
        r"replaces_lower = false",
    ),
    (
        "tiers out of order",
        _swap_tiers,
        r"\[\[tiers\]\]\[2\]\.walk_min: expected tiers from the highest level down: fewer "
        r"minutes than 'community_home' \(10\); found 20",
    ),
]


@pytest.mark.parametrize(("change", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_names_the_key(
    tmp_path: Path, change: Callable[[Data], None], message: str
) -> None:
    data = shipped_data()
    change(data)
    path = write_data(tmp_path / "mine.toml", data)
    with pytest.raises(StandardError, match=message) as info:
        load_profile(path)
    text = str(info.value)
    assert str(path) in text  # the file is named
    assert "entries counted from 1" in text


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = shipped_data()
    del data["tiers"][0]["walk_min"]
    data["tiers"][1]["facilities"][3]["id"] = "Sports Court"
    data["population"]["persons_per_household"] = -2.45
    data["usable"]["max_floor_without_lift"] = 0
    data["walking"]["speed_m_per_min"] = 0
    path = write_data(tmp_path / "many.toml", data)
    with pytest.raises(StandardError) as info:
        load_profile(path)
    message = str(info.value)
    assert "5 problem(s)" in message
    for where in (
        "[[tiers]][1].walk_min",
        "[[tiers]][2].facilities[4].id",
        "[population] persons_per_household",
        "[usable] max_floor_without_lift",
        "[walking] speed_m_per_min",
    ):
        assert where in message, where


def test_optional_parts_may_be_left_out(tmp_path: Path) -> None:
    data = shipped_data()
    for part in ("built_area", "new_housing", "coverage", "colocation"):
        del data[part]
    profile = load_profile(write_data(tmp_path / "lean.toml", data))
    assert profile.built_area is None
    assert profile.new_housing is None
    assert profile.coverage is None
    assert profile.colocation is None
    assert [t.id for t in profile.tiers] == ["street_centre", "community_home"]


def test_a_written_copy_loads_equal_to_the_shipped_one(tmp_path: Path) -> None:
    shipped = load_profile()
    copy = load_profile(write_data(tmp_path / "copy.toml", shipped_data()))
    assert copy.tiers == shipped.tiers
    assert copy.population == shipped.population
    assert copy.usable == shipped.usable
    assert copy.colocation == shipped.colocation


def test_a_user_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "my-town.toml"
    path.write_text(MINIMAL_PROFILE, encoding="utf-8")
    profile = load_profile(path)
    assert profile.id == "my-town"
    assert profile.title == "某镇社区服务标准"
    assert profile.path == path
    (tier,) = profile.tiers
    assert tier.population_served == (8000, 10000)
    assert tier.walk_min == 8
    assert tier.min_floor_area_m2 is None
    assert tier.walk_distance_m is None
    clinic = profile.facility("诊所")
    assert clinic.id == "clinic"
    assert clinic.osm == (("amenity", "clinic"),)
    library = profile.facility("library")
    assert library.min_floor_area_m2 == 60
    assert not library.required
    assert library.osm == ()
    assert profile.usable.is_usable(floor=-1, lift=False) is True
    assert profile.walking.speed_m_per_min == 70
    assert profile.built_area is None
    assert profile.assumptions() == ()
