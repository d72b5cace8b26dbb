"""Loading and validating standards profiles."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from linli._errors import Problem, StandardError

__all__ = ["DEFAULT_PROFILE", "Profile", "WalkingProfile", "available_profiles", "load_profile"]

DEFAULT_PROFILE = "chongqing-2019"


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
class Profile:
    """A loaded standards profile.

    ``walking`` is validated here; ``data`` keeps the whole parsed file for the parts that
    later modules (audit, planning) read and validate themselves.
    """

    id: str
    title: str
    path: Path
    walking: WalkingProfile
    data: dict[str, Any]


_SLOPE_MODELS = ("tobler", "none")


def available_profiles() -> list[str]:
    """Names of the profiles shipped with linli."""
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
        the path of a TOML file.

    Raises
    ------
    StandardError
        The profile does not exist, is not valid TOML, or has missing or bad values; the
        message lists every problem with the file and the key.

    Examples
    --------
    >>> load_profile().walking.speed_m_per_min
    80.0
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
    problems: list[Problem] = []
    walking = _walking(data.get("walking"), str(path), problems)
    meta = data.get("profile", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
        problems.append(
            Problem(str(path), "a [profile] table with a string 'id'", repr(meta), "[profile]")
        )
    if problems or walking is None:
        raise StandardError(
            f"standards profile {path} is not valid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return Profile(
        id=meta["id"],
        title=str(meta.get("title", meta["id"])),
        path=path,
        walking=walking,
        data=data,
    )


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


def _walking(table: Any, source: str, problems: list[Problem]) -> WalkingProfile | None:
    if not isinstance(table, dict):
        problems.append(Problem(source, "a [walking] table", repr(table), "[walking]"))
        return None
    values: dict[str, Any] = {}
    for f in fields(WalkingProfile):
        where = f"[walking] {f.name}"
        if f.name not in table:
            problems.append(Problem(source, "a value", "nothing", where))
            continue
        value = table[f.name]
        if f.name == "slope_model":
            if value not in _SLOPE_MODELS:
                problems.append(Problem(source, f"one of {_SLOPE_MODELS}", repr(value), where))
            values[f.name] = value
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            problems.append(Problem(source, "a finite number > 0", repr(value), where))
            continue
        values[f.name] = float(value)
    extra = sorted(set(table) - {f.name for f in fields(WalkingProfile)})
    if extra:
        problems.append(Problem(source, "only known keys", ", ".join(extra), "[walking]"))
    if problems:
        return None
    return WalkingProfile(**values)
