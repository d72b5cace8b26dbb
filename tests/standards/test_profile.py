"""Tests of linli.standards: loading and validating standards profiles."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path

import pytest

from conftest import write_profile
from linli import LinliError, StandardError
from linli.standards import (
    DEFAULT_PROFILE,
    Profile,
    WalkingProfile,
    available_profiles,
    load_profile,
)


def shipped_walking_table() -> dict[str, object]:
    """The ``[walking]`` table of the shipped default profile, parsed independently."""
    path = load_profile().path
    return dict(tomllib.loads(path.read_text(encoding="utf-8"))["walking"])


# ---------------------------------------------------------------------------------------------
# The shipped profile
# ---------------------------------------------------------------------------------------------


def test_default_profile_is_shipped_and_loads() -> None:
    assert DEFAULT_PROFILE in available_profiles()
    profile = load_profile()
    assert isinstance(profile, Profile)
    assert profile.id == DEFAULT_PROFILE
    assert profile.path.name == f"{DEFAULT_PROFILE}.toml"
    assert profile.title  # the Chinese title of the policy


def test_walking_values_are_those_of_the_file() -> None:
    table = shipped_walking_table()
    walking = load_profile().walking
    assert set(table) == {f.name for f in dataclasses.fields(WalkingProfile)}
    for name, value in table.items():
        assert getattr(walking, name) == value, name
    # Numbers are floats even when the TOML writes an int.
    assert all(
        isinstance(getattr(walking, f.name), float)
        for f in dataclasses.fields(WalkingProfile)
        if f.name != "slope_model"
    )


def test_shipped_walking_speeds_are_plausible() -> None:
    w = load_profile().walking
    # Adults walk 3-6 km/h on the flat; stairs are slower than the flat, up slower than down.
    assert 50.0 <= w.speed_m_per_min <= 100.0
    assert w.steps_up_m_per_min < w.steps_down_m_per_min < w.speed_m_per_min
    assert 0.0 < w.tobler_b < w.max_grade <= 1.0


def test_profile_by_name_and_by_path_agree(tmp_path: Path) -> None:
    by_name = load_profile(DEFAULT_PROFILE)
    by_path = load_profile(by_name.path)
    by_str_path = load_profile(str(by_name.path))
    assert by_path.walking == by_name.walking == by_str_path.walking
    assert by_path.data == by_name.data

    copy = write_profile(tmp_path / "copy.toml")
    assert load_profile(copy).walking == by_name.walking


def test_profile_data_keeps_the_other_tables() -> None:
    data = load_profile().data
    tiers = data["tiers"]
    assert {t["id"] for t in tiers} == {"street_centre", "community_home"}
    assert all(t["walk_min"] > 0 for t in tiers)


# ---------------------------------------------------------------------------------------------
# Changed values reach the walking profile
# ---------------------------------------------------------------------------------------------


def test_custom_values_are_read(tmp_path: Path) -> None:
    path = write_profile(
        tmp_path / "slow.toml",
        speed_m_per_min=60,
        steps_up_m_per_min=20.5,
        slope_model="none",
    )
    w = load_profile(path).walking
    assert w.speed_m_per_min == 60.0
    assert isinstance(w.speed_m_per_min, float)
    assert w.steps_up_m_per_min == 20.5
    assert w.slope_model == "none"
    assert w.steps_down_m_per_min == shipped_walking_table()["steps_down_m_per_min"]


# ---------------------------------------------------------------------------------------------
# Errors a user can make
# ---------------------------------------------------------------------------------------------


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(StandardError, match=r"'chongqing-2030'.*expected one of .*chongqing-2019"):
        load_profile("chongqing-2030")


def test_missing_profile_file() -> None:
    with pytest.raises(
        StandardError, match=r"nowhere\.toml: expected a standards profile file; found no such file"
    ):
        load_profile("nowhere.toml")


def test_standard_error_is_a_value_error_and_a_linli_error() -> None:
    with pytest.raises(ValueError, match="no such file") as info:
        load_profile("nowhere.toml")
    assert isinstance(info.value, LinliError)


@pytest.mark.parametrize(
    "speed",
    [-80.0, 0, "fast", True, math.nan, math.inf],
    ids=["negative", "zero", "string", "bool", "nan", "inf"],
)
def test_bad_walking_speed_names_the_key(tmp_path: Path, speed: object) -> None:
    path = write_profile(tmp_path / "bad.toml", speed_m_per_min=speed)
    with pytest.raises(
        StandardError, match=r"\[walking\] speed_m_per_min: expected [^;]*number > 0"
    ) as info:
        load_profile(path)
    # The message names the file too.
    assert str(path) in str(info.value)


def test_missing_walking_key(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "short.toml", steps_down_m_per_min=None)
    with pytest.raises(
        StandardError, match=r"\[walking\] steps_down_m_per_min: expected a value; found nothing"
    ):
        load_profile(path)


def test_unknown_walking_key(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "extra.toml", speed_km_per_h=4.8)
    with pytest.raises(
        StandardError, match=r"\[walking\]: expected only known keys; found speed_km_per_h"
    ):
        load_profile(path)


def test_unknown_slope_model(tmp_path: Path) -> None:
    path = write_profile(tmp_path / "naismith.toml", slope_model="naismith")
    with pytest.raises(
        StandardError, match=r"\[walking\] slope_model: expected one of .*tobler.*'naismith'"
    ):
        load_profile(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write_profile(
        tmp_path / "many.toml", speed_m_per_min=-1, max_grade="steep", tobler_a=None
    )
    with pytest.raises(StandardError) as info:
        load_profile(path)
    message = str(info.value)
    for key in ("speed_m_per_min", "max_grade", "tobler_a"):
        assert f"[walking] {key}" in message


def test_missing_walking_table(tmp_path: Path) -> None:
    path = tmp_path / "no_walking.toml"
    path.write_text('[profile]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(
        StandardError, match=r"\[walking\]: expected a \[walking\] table; found None"
    ):
        load_profile(path)


def test_missing_profile_id(tmp_path: Path) -> None:
    text = write_profile(tmp_path / "tmp.toml").read_text(encoding="utf-8")
    path = tmp_path / "no_id.toml"
    path.write_text(
        text.replace('id = "chongqing-2019"', 'name = "chongqing-2019"', 1), encoding="utf-8"
    )
    with pytest.raises(
        StandardError, match=r"\[profile\]: expected a \[profile\] table with a string 'id'"
    ):
        load_profile(path)


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[walking\nspeed_m_per_min = 80\n", encoding="utf-8")
    with pytest.raises(
        StandardError, match=r"broken\.toml: expected a valid TOML file; found a syntax error"
    ):
        load_profile(path)


def test_profile_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(bytes(range(128, 256)))
    with pytest.raises(StandardError, match=r"binary\.toml"):
        load_profile(path)
