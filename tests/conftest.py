"""Shared test helpers.

Real data for tests lives outside the repository, in ``../shared/data`` (see its MANIFEST.md).
Tests that need it call :func:`require_shared`, which skips them when the data is absent on a
developer's machine but fails them in CI (environment variable ``CI`` set), where it must be there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
"""The shared data folder, ``../shared/data`` next to the repository."""


def require_shared(relative: str) -> Path:
    """Return ``SHARED_DATA / relative``; skip the calling test if it is absent (fail in CI)."""
    path = SHARED_DATA / relative
    if not path.exists():
        if "CI" in os.environ:
            pytest.fail(f"shared data file {path} is missing; CI must provide ../shared/data")
        pytest.skip(f"shared data file {path} is absent")
    return path


def write_profile(path: Path, **walking: object) -> Path:
    """Write a copy of the shipped ``chongqing-2019`` profile with ``[walking]`` values changed.

    ``key=value`` replaces (or adds) a key of the ``[walking]`` table; ``key=None`` removes it.
    Values are written as TOML: floats (``inf`` and ``nan`` too), ints, bools, strings.
    """
    import math
    import re

    from linli.standards import load_profile

    text = load_profile().path.read_text(encoding="utf-8")
    for key, value in walking.items():
        line = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
        if value is None:
            text = line.sub("", text)
            continue
        if isinstance(value, bool):
            toml = "true" if value else "false"
        elif isinstance(value, float) and not math.isfinite(value):
            toml = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        elif isinstance(value, int | float):
            toml = repr(value)
        else:
            toml = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        if line.search(text):
            text = line.sub(f"{key} = {toml}", text, count=1)
        else:
            text = text.replace("[walking]\n", f"[walking]\n{key} = {toml}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


YUZHONG_PBF = "chongqing/yuzhong/yuzhong.osm.pbf"
YUZHONG_DEM = "chongqing/yuzhong/terrain/chongqingZ_elevation_utm.tif"


@pytest.fixture(scope="session")
def yuzhong_walk_network():  # type: ignore[no-untyped-def]
    """The Yuzhong walking network with DEM slope (DEM gaps walked flat), built once per session.

    Slope makes most links directed: uphill and downhill minutes differ.
    """
    from linli.network.build import walk_network_from_osm

    pbf = require_shared(YUZHONG_PBF)
    dem = require_shared(YUZHONG_DEM)
    return walk_network_from_osm(pbf, dem=dem, dem_gaps="flat")
