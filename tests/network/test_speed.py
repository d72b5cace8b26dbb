"""Tests of linli.network.speed: Tobler's slope factor, stairs and one-way segments."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write_profile
from linli.network.build import walk_network_from_osm
from linli.network.speed import segment_minutes, slope_speed_factor
from linli.standards import WalkingProfile, load_profile
from osm_fixtures import nodes_at, write_osm

WALKING = load_profile().walking
A, B, MAX_GRADE = WALKING.tobler_a, WALKING.tobler_b, WALKING.max_grade


def tobler(grade: float, a: float = A, b: float = B, max_grade: float = MAX_GRADE) -> float:
    """Tobler's hiking function relative to the flat (the reference implementation)."""
    g = min(max(grade, -max_grade), max_grade)
    return math.exp(-a * abs(g + b)) / math.exp(-a * abs(b))


def factor(grade: float, profile: WalkingProfile = WALKING) -> float:
    return float(slope_speed_factor(np.array([grade]), profile)[0])


def minutes(
    length_m: list[float],
    rise_m: list[float] | None,
    *,
    steps: list[bool] | None = None,
    incline: list[int] | None = None,
    oneway: list[bool] | None = None,
    profile: WalkingProfile = WALKING,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(length_m)
    return segment_minutes(
        np.asarray(length_m, dtype=np.float64),
        None if rise_m is None else np.asarray(rise_m, dtype=np.float64),
        is_steps=np.asarray(steps if steps is not None else [False] * n, dtype=bool),
        incline=np.asarray(incline if incline is not None else [0] * n, dtype=np.int8),
        oneway=np.asarray(oneway if oneway is not None else [False] * n, dtype=bool),
        profile=profile,
    )


grades = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# slope_speed_factor
# ---------------------------------------------------------------------------------------------


def test_factor_is_one_on_the_flat() -> None:
    assert factor(0.0) == pytest.approx(1.0, abs=1e-15)


def test_factor_is_toblers_function() -> None:
    g = np.linspace(-MAX_GRADE, MAX_GRADE, 101)
    expected = [tobler(x) for x in g]
    np.testing.assert_allclose(slope_speed_factor(g, WALKING), expected, rtol=1e-12)
    # Two values worked by hand: 10 % up is exp(-a * 0.1) of the flat; 10 % down is as fast
    # as the flat (Tobler's function is symmetric about -b = -0.05).
    assert factor(0.1) == pytest.approx(math.exp(-A * 0.1), rel=1e-12)
    assert factor(-0.1) == pytest.approx(1.0, rel=1e-12)


def test_factor_peaks_at_a_gentle_descent() -> None:
    assert factor(-B) == pytest.approx(math.exp(A * B), rel=1e-12)
    assert factor(-B) > factor(-B + 1e-3)
    assert factor(-B) > factor(-B - 1e-3)


@settings(max_examples=200, deadline=None)
@given(offset=st.floats(min_value=0.0, max_value=MAX_GRADE - B, allow_nan=False))
def test_factor_is_symmetric_about_minus_b(offset: float) -> None:
    assert factor(-B + offset) == pytest.approx(factor(-B - offset), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(grade=grades)
def test_factor_is_largest_at_minus_b(grade: float) -> None:
    assert factor(grade) <= factor(-B) * (1 + 1e-12)
    assert factor(grade) > 0.0


@settings(max_examples=200, deadline=None)
@given(g1=grades, g2=grades)
def test_factor_falls_away_from_minus_b(g1: float, g2: float) -> None:
    lo, hi = sorted((g1, g2))
    if lo >= -B:  # both at or above the peak: steeper up is slower
        assert factor(hi) <= factor(lo) * (1 + 1e-12)
    if hi <= -B:  # both at or below the peak: steeper down is slower
        assert factor(lo) <= factor(hi) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(grade=st.floats(min_value=1e-6, max_value=1.0, allow_nan=False))
def test_uphill_is_slower_than_the_same_downhill(grade: float) -> None:
    assert factor(grade) < factor(-grade)


@pytest.mark.parametrize("steep", [MAX_GRADE + 1e-6, 0.8, 3.0, 100.0])
def test_grades_are_clipped_to_max_grade(steep: float) -> None:
    assert factor(steep) == pytest.approx(factor(MAX_GRADE), rel=1e-12)
    assert factor(-steep) == pytest.approx(factor(-MAX_GRADE), rel=1e-12)


def test_factor_follows_the_profiles_coefficients() -> None:
    custom = dataclasses.replace(WALKING, tobler_a=2.0, tobler_b=0.1, max_grade=0.3)
    g = np.linspace(-0.3, 0.3, 61)
    expected = [tobler(x, 2.0, 0.1, 0.3) for x in g]
    np.testing.assert_allclose(slope_speed_factor(g, custom), expected, rtol=1e-12)
    assert factor(-0.1, custom) == pytest.approx(math.exp(2.0 * 0.1), rel=1e-12)


def test_no_slope_model_ignores_grade() -> None:
    flat = dataclasses.replace(WALKING, slope_model="none")
    np.testing.assert_array_equal(slope_speed_factor(np.array([-0.4, 0.0, 0.2, 2.0]), flat), 1.0)


# ---------------------------------------------------------------------------------------------
# segment_minutes: slope
# ---------------------------------------------------------------------------------------------


def test_flat_minutes_without_dem() -> None:
    length = [10.0, 80.0, 123.4]
    fwd, back = minutes(length, None)
    np.testing.assert_allclose(fwd, np.asarray(length) / WALKING.speed_m_per_min, rtol=1e-12)
    np.testing.assert_array_equal(fwd, back)


@settings(max_examples=200, deadline=None)
@given(
    length=st.floats(min_value=1.0, max_value=500.0),
    grade=st.floats(min_value=-0.8, max_value=0.8, allow_nan=False),
)
def test_minutes_follow_tobler_both_ways(length: float, grade: float) -> None:
    fwd, back = minutes([length], [grade * length])
    v = WALKING.speed_m_per_min
    assert fwd[0] == pytest.approx(length / (v * tobler(grade)), rel=1e-9)
    assert back[0] == pytest.approx(length / (v * tobler(-grade)), rel=1e-9)
    if grade > 1e-9:
        assert fwd[0] > back[0]
    elif grade < -1e-9:
        assert fwd[0] < back[0]


def test_missing_elevation_is_walked_flat() -> None:
    fwd, back = minutes([50.0, 50.0], [math.nan, 0.0])
    np.testing.assert_allclose(fwd, 50.0 / WALKING.speed_m_per_min, rtol=1e-12)
    np.testing.assert_allclose(back, fwd, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# segment_minutes: stairs and one-way
# ---------------------------------------------------------------------------------------------

UP = "up"
DOWN = "down"
MEAN = "mean"


@pytest.mark.parametrize(
    ("incline", "rise_m", "forward", "backward"),
    [
        (1, None, UP, DOWN),
        (-1, None, DOWN, UP),
        (0, None, MEAN, MEAN),
        (0, 4.0, UP, DOWN),
        (0, -4.0, DOWN, UP),
        (0, 0.0, MEAN, MEAN),
        (0, math.nan, MEAN, MEAN),
        (1, -4.0, UP, DOWN),  # the OSM tag wins over the DEM
        (-1, 4.0, DOWN, UP),
    ],
)
def test_stairs_take_up_speed_one_way_and_down_speed_the_other(
    incline: int, rise_m: float | None, forward: str, backward: str
) -> None:
    length = 12.0
    up = length / WALKING.steps_up_m_per_min
    down = length / WALKING.steps_down_m_per_min
    expected = {UP: up, DOWN: down, MEAN: (up + down) / 2}
    fwd, back = minutes(
        [length], None if rise_m is None else [rise_m], steps=[True], incline=[incline]
    )
    assert fwd[0] == pytest.approx(expected[forward], rel=1e-12)
    assert back[0] == pytest.approx(expected[backward], rel=1e-12)


def test_stairs_ignore_the_size_of_the_grade() -> None:
    fwd, back = minutes([10.0, 10.0], [1.0, 9.0], steps=[True, True])
    assert fwd[0] == pytest.approx(fwd[1], rel=1e-12)
    assert back[0] == pytest.approx(back[1], rel=1e-12)


def test_stairs_are_slower_than_the_flat_either_way() -> None:
    fwd, back = minutes([20.0, 20.0, 20.0], None, steps=[True] * 3, incline=[1, -1, 0])
    flat = 20.0 / WALKING.speed_m_per_min
    assert (fwd > flat).all()
    assert (back > flat).all()


def test_oneway_forbids_walking_backwards() -> None:
    fwd, back = minutes(
        [30.0, 30.0, 30.0], [3.0, -3.0, 0.0], steps=[False, True, False], oneway=[True, True, False]
    )
    assert np.isfinite(fwd).all()
    assert np.isinf(back[:2]).all()
    assert np.isfinite(back[2])


# ---------------------------------------------------------------------------------------------
# Speeds come from the profile
# ---------------------------------------------------------------------------------------------


def test_times_scale_with_the_profiles_speeds(tmp_path: Path) -> None:
    half = load_profile(
        write_profile(
            tmp_path / "half.toml",
            speed_m_per_min=WALKING.speed_m_per_min / 2,
            steps_up_m_per_min=WALKING.steps_up_m_per_min / 2,
            steps_down_m_per_min=WALKING.steps_down_m_per_min / 2,
        )
    ).walking
    rng = np.random.default_rng(7)
    n = 200
    length = rng.uniform(1.0, 200.0, n)
    rise = rng.uniform(-0.4, 0.4, n) * length
    steps = rng.random(n) < 0.3
    incline = rng.integers(-1, 2, n).astype(np.int8)
    kw = {"is_steps": steps, "incline": incline, "oneway": np.zeros(n, bool)}
    f1, b1 = segment_minutes(length, rise, profile=WALKING, **kw)
    f2, b2 = segment_minutes(length, rise, profile=half, **kw)
    np.testing.assert_allclose(f2, 2 * f1, rtol=1e-12)
    np.testing.assert_allclose(b2, 2 * b1, rtol=1e-12)


def test_only_stairs_change_with_stair_speeds(tmp_path: Path) -> None:
    slow_stairs = load_profile(
        write_profile(tmp_path / "stairs.toml", steps_up_m_per_min=8.0)
    ).walking
    fwd, back = minutes([16.0, 16.0], [2.0, 2.0], steps=[True, False], profile=slow_stairs)
    ref_fwd, ref_back = minutes([16.0, 16.0], [2.0, 2.0], steps=[True, False])
    assert fwd[0] == pytest.approx(16.0 / 8.0)
    assert back[0] == pytest.approx(ref_back[0])  # down unchanged
    assert fwd[1] == pytest.approx(ref_fwd[1])
    assert back[1] == pytest.approx(ref_back[1])


def test_network_built_with_a_custom_profile_scales(tmp_path: Path) -> None:
    nodes = nodes_at({1: (0, 0), 2: (60, 0), 3: (120, 0), 4: (120, 40), 5: (60, 40)})
    ways = [
        (10, [1, 2, 3], {"highway": "footway"}),
        (11, [3, 4], {"highway": "steps", "incline": "up"}),
        (12, [4, 5, 2], {"highway": "residential"}),
    ]
    osm = write_osm(tmp_path / "small.osm", nodes, ways)
    slow = write_profile(
        tmp_path / "slow.toml",
        speed_m_per_min=WALKING.speed_m_per_min / 4,
        steps_up_m_per_min=WALKING.steps_up_m_per_min / 4,
        steps_down_m_per_min=WALKING.steps_down_m_per_min / 4,
    )
    base = walk_network_from_osm(osm)
    for profile in (slow, str(slow), load_profile(slow)):
        net = walk_network_from_osm(osm, profile=profile)
        assert net.profile.speed_m_per_min == WALKING.speed_m_per_min / 4
        np.testing.assert_array_equal(net.link_u, base.link_u)
        np.testing.assert_allclose(net.link_min_fwd, 4 * base.link_min_fwd, rtol=1e-12)
        np.testing.assert_allclose(net.link_min_back, 4 * base.link_min_back, rtol=1e-12)
    # And the default really is the shipped profile, by name.
    by_name = walk_network_from_osm(osm, profile="chongqing-2019")
    np.testing.assert_array_equal(by_name.link_min_fwd, base.link_min_fwd)
