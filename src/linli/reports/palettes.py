"""Stable, colour-blind-safe palettes for maps and charts.

The colours are fixed lists (no randomness, no dependency on a plotting library), so the same
data gets the same colours in every report and across releases:

- ``"viridis"`` (default sequential): perceptually uniform, readable in grey and by the common
  forms of colour blindness (matplotlib's viridis, sampled at 9 points).
- ``"ylorrd"``, ``"blues"``, ``"ylgnbu"`` (sequential) and ``"puor"`` (diverging): ColorBrewer
  schemes marked colour-blind safe (Cynthia Brewer, Penn State; Apache-2.0 licence).
- ``"okabe_ito"`` (categorical): the 8 colours of Okabe & Ito (2008), "Color Universal Design",
  distinguishable by deuteranopes, protanopes and tritanopes.

Sequential palettes are sampled for ``k`` classes by linear interpolation in sRGB between
their anchors, so any ``k`` from 1 to 12 works.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from linli._errors import InputError, Problem

__all__ = [
    "CATEGORICAL",
    "NO_DATA",
    "SEQUENTIAL",
    "categorical_colours",
    "sequential_colours",
]

logger = logging.getLogger(__name__)

SEQUENTIAL: dict[str, tuple[str, ...]] = {
    "viridis": (
        "#440154",
        "#472d7b",
        "#3b528b",
        "#2c728e",
        "#21918c",
        "#28ae80",
        "#5ec962",
        "#addc30",
        "#fde725",
    ),
    "ylorrd": (
        "#ffffcc",
        "#ffeda0",
        "#fed976",
        "#feb24c",
        "#fd8d3c",
        "#fc4e2a",
        "#e31a1c",
        "#bd0026",
        "#800026",
    ),
    "blues": (
        "#f7fbff",
        "#deebf7",
        "#c6dbef",
        "#9ecae1",
        "#6baed6",
        "#4292c6",
        "#2171b5",
        "#08519c",
        "#08306b",
    ),
    "ylgnbu": (
        "#ffffd9",
        "#edf8b1",
        "#c7e9b4",
        "#7fcdbb",
        "#41b6c4",
        "#1d91c0",
        "#225ea8",
        "#253494",
        "#081d58",
    ),
    "puor": (
        "#b35806",
        "#e08214",
        "#fdb863",
        "#fee0b6",
        "#f7f7f7",
        "#d8daeb",
        "#b2abd2",
        "#8073ac",
        "#542788",
    ),
}
"""Sequential (and one diverging) palettes by name: anchors from light/low to dark/high."""

CATEGORICAL: dict[str, tuple[str, ...]] = {
    "okabe_ito": (
        "#0072B2",  # blue
        "#E69F00",  # orange
        "#009E73",  # bluish green
        "#CC79A7",  # reddish purple
        "#56B4E9",  # sky blue
        "#D55E00",  # vermillion
        "#F0E442",  # yellow
        "#000000",  # black
    ),
}
"""Categorical palettes by name. Okabe-Ito is reordered so the first colours contrast most."""

NO_DATA = "#e3e3e3"
"""Fill for features whose value is missing."""


def sequential_colours(palette: str | Sequence[str], k: int, *, reverse: bool = False) -> list[str]:
    """``k`` colours sampled evenly from a sequential palette, low to high.

    Parameters
    ----------
    palette : str or sequence of str
        A name in :data:`SEQUENTIAL`, or explicit ``#rrggbb`` colours: used as they are when
        there are exactly ``k``, otherwise interpolated like a named palette's anchors.
    k : int
        Number of classes, at least 1.
    reverse : bool, keyword-only
        High values get the light end.

    Returns
    -------
    list of str
        ``#rrggbb`` colours.

    Examples
    --------
    >>> sequential_colours("ylorrd", 3)
    ['#ffffcc', '#fd8d3c', '#800026']
    """
    anchors = _resolve(palette, SEQUENTIAL, kind="sequential")
    if k < 1:
        raise InputError(problems=[Problem("palette", expected="at least 1 class", found=f"k={k}")])
    if len(anchors) == k and not isinstance(palette, str):
        out = list(anchors)
    elif k == 1:
        out = [anchors[len(anchors) // 2]]
    else:
        out = [_interpolate(anchors, i / (k - 1)) for i in range(k)]
    return out[::-1] if reverse else out


def categorical_colours(palette: str | Sequence[str], k: int) -> list[str]:
    """The first ``k`` colours of a categorical palette (cycled, with a warning, beyond its size).

    Examples
    --------
    >>> categorical_colours("okabe_ito", 2)
    ['#0072B2', '#E69F00']
    """
    colours = _resolve(palette, CATEGORICAL, kind="categorical")
    if k > len(colours):
        logger.warning(
            "%d categories but the palette has %d distinguishable colours; colours repeat. "
            "Group rare categories together, or pass explicit colours.",
            k,
            len(colours),
        )
    return [colours[i % len(colours)] for i in range(k)]


def _resolve(
    palette: str | Sequence[str], named: dict[str, tuple[str, ...]], *, kind: str
) -> tuple[str, ...]:
    if isinstance(palette, str):
        if palette not in named:
            raise InputError(
                problems=[
                    Problem(
                        "palette",
                        expected=f"a {kind} palette name: {', '.join(sorted(named))}",
                        found=repr(palette),
                    )
                ]
            )
        return named[palette]
    colours = tuple(palette)
    bad = [c for c in colours if not _is_hex(c)]
    if not colours or bad:
        raise InputError(
            problems=[
                Problem(
                    "palette",
                    expected="colours written '#rrggbb'",
                    found=repr(bad) if bad else "an empty list",
                )
            ]
        )
    return colours


def _is_hex(colour: str) -> bool:
    return (
        isinstance(colour, str)
        and len(colour) == 7
        and colour[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in colour[1:])
    )


def _interpolate(anchors: Sequence[str], t: float) -> str:
    if len(anchors) == 1:
        return anchors[0]
    pos = t * (len(anchors) - 1)
    i = min(int(pos), len(anchors) - 2)
    f = pos - i
    a = _rgb(anchors[i])
    b = _rgb(anchors[i + 1])
    mixed = (round(x + (y - x) * f) for x, y in zip(a, b, strict=True))
    return "#" + "".join(f"{v:02x}" for v in mixed)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
