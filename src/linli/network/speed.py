"""Walking minutes of a street segment: flat speed, Tobler's slope function and stairs.

All speeds come from the standards profile (:class:`linli.standards.WalkingProfile`).
Grades are rise / run (metres per metre of horizontal length), uphill positive in the
direction of travel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from linli.standards import WalkingProfile

__all__ = ["segment_minutes", "slope_speed_factor"]


def slope_speed_factor(grade: NDArray[np.float64], profile: WalkingProfile) -> NDArray[np.float64]:
    """Speed relative to the flat when walking up a ``grade`` (negative: downhill).

    Tobler's hiking function, ``exp(-a |grade + b|) / exp(-a b)``, is 1 on the flat, peaks
    at ``exp(a b)`` (1.19 with Tobler's a=3.5, b=0.05) at a gentle descent of ``-b`` and falls
    off on either side; so uphill and downhill differ.  Grades are clipped to
    ``±profile.max_grade``.  With ``slope_model = "none"`` the factor is 1.

    Examples
    --------
    >>> from linli.standards import load_profile
    >>> w = load_profile().walking
    >>> slope_speed_factor(np.array([0.0, 0.1, -0.1]), w).round(3).tolist()
    [1.0, 0.705, 1.0]
    """
    g = np.clip(np.asarray(grade, dtype=np.float64), -profile.max_grade, profile.max_grade)
    if profile.slope_model == "none":
        return np.ones_like(g)
    a, b = profile.tobler_a, profile.tobler_b
    return np.asarray(np.exp(-a * (np.abs(g + b) - b)), dtype=np.float64)


def segment_minutes(
    length_m: NDArray[np.float64],
    rise_m: NDArray[np.float64] | None,
    *,
    is_steps: NDArray[np.bool_],
    incline: NDArray[np.int8],
    oneway: NDArray[np.int8],
    profile: WalkingProfile,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Minutes to walk each segment forwards (in its way's direction) and backwards.

    Parameters
    ----------
    length_m : array of float
        Horizontal length of each segment, metres (> 0).
    rise_m : array of float or None
        Height gained walking the segment forwards, metres; None without a DEM, NaN where
        the DEM has no data (taken as flat).
    is_steps : array of bool
        Stairs (``highway=steps``): horizontal speed ``steps_up_m_per_min`` going up and
        ``steps_down_m_per_min`` going down; the grade's size is not used (stairs are built
        at a steady pitch).  Which way is up comes from ``incline`` or else the sign of
        ``rise_m``; when neither tells, both directions take the mean of the two times.
    incline : array of int8
        +1 if OSM says the way climbs in its direction, -1 if it descends, 0 if untagged.
    oneway : array of int8
        +1 (``oneway:foot=yes``): the backward time is ``inf``; -1 (``oneway:foot=-1``): the
        forward time is ``inf``; 0: both ways.
    profile : WalkingProfile

    Returns
    -------
    forward_min, backward_min : arrays of float
    """
    length = np.asarray(length_m, dtype=np.float64)
    flat = profile.speed_m_per_min
    if rise_m is None:
        fwd = length / flat
        back = fwd.copy()
        up_sign = incline.astype(np.float64)
    else:
        rise = np.asarray(rise_m, dtype=np.float64)
        known = np.isfinite(rise)
        grade = np.where(known, rise, 0.0) / length
        fwd = length / (flat * slope_speed_factor(grade, profile))
        back = length / (flat * slope_speed_factor(-grade, profile))
        up_sign = np.where(incline != 0, incline, np.sign(np.where(known, rise, 0.0)))
        up_sign = up_sign.astype(np.float64)
    up = length / profile.steps_up_m_per_min
    down = length / profile.steps_down_m_per_min
    mean = (up + down) / 2.0
    steps_fwd = np.where(up_sign > 0, up, np.where(up_sign < 0, down, mean))
    steps_back = np.where(up_sign > 0, down, np.where(up_sign < 0, up, mean))
    fwd = np.where(is_steps, steps_fwd, fwd)
    back = np.where(is_steps, steps_back, back)
    back = np.where(oneway > 0, np.inf, back)
    fwd = np.where(oneway < 0, np.inf, fwd)
    return fwd, back
