"""Loading standards profiles: shipped ones by name, the user's own by path.

The schema (the dataclasses) is in :mod:`linli.standards.schema`, the checks in
:mod:`linli.standards._validate`; this module finds and reads the file.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from linli._errors import StandardError
from linli.standards._validate import profile_from_data
from linli.standards.schema import (
    BuiltAreaRule,
    ColocationCategory,
    ColocationRule,
    CoverageTarget,
    FacilityType,
    NewHousingRule,
    PopulationDefaults,
    Profile,
    Tier,
    UsableRules,
    WalkingProfile,
)

__all__ = [
    "DEFAULT_PROFILE",
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
    "available_profiles",
    "load_profile",
]

DEFAULT_PROFILE = "chongqing-2019"


def available_profiles() -> list[str]:
    """Names of the profiles shipped with linli, sorted.

    Examples
    --------
    >>> available_profiles()
    ['chongqing-2019', 'gb50180-2018']
    """
    folder = resources.files("linli.standards") / "profiles"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a shipped profile by name, or a profile file by path, and validate it.

    Parameters
    ----------
    name_or_path : str or Path
        ``"chongqing-2019"`` (default) or another name from :func:`available_profiles`, or
        the path of a TOML file (the user's own standard, in the same schema).

    Raises
    ------
    StandardError
        The profile does not exist, is not valid TOML, or has missing or bad values; the
        message lists every problem with the file and the key.

    Examples
    --------
    >>> load_profile().walking.speed_m_per_min
    80.0
    >>> [t.name for t in load_profile("gb50180-2018").tiers]
    ['十五分钟生活圈居住区', '十分钟生活圈居住区', '五分钟生活圈居住区', '居住街坊']
    """
    path = _resolve(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StandardError(
            f"{path}: expected a valid TOML file; found a syntax error: {exc}"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise StandardError(f"{path}: cannot read the profile: {exc}") from exc
    return profile_from_data(data, path)


def _resolve(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise StandardError(
                f"{candidate}: expected a standards profile file; found no such file"
            )
        return candidate
    name = str(name_or_path)
    shipped = available_profiles()
    if name not in shipped:
        raise StandardError(
            f"standards profile {name!r}: expected one of {', '.join(shipped)} or a path to a "
            f".toml file; found neither"
        )
    return Path(str(resources.files("linli.standards") / "profiles" / f"{name}.toml"))
