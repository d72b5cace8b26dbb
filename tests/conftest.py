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
