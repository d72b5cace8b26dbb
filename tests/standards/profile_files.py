"""Helpers for the standards tests: read a shipped profile as data, change it, write it back.

Python ships a TOML reader but no writer; :func:`dump_toml` writes the subset profiles use
(tables, arrays of tables, strings, numbers, booleans, lists) — enough to round-trip them.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from linli.standards import load_profile


def shipped_data(name: str = "chongqing-2019") -> dict[str, Any]:
    """A shipped profile, parsed independently of linli's loader (a fresh copy each call)."""
    text = load_profile(name).path.read_text(encoding="utf-8")
    return copy.deepcopy(tomllib.loads(text))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit(table: dict[str, Any], prefix: str, lines: list[str]) -> None:
    for key, value in table.items():
        if not isinstance(value, dict) and not _is_tables(value):
            lines.append(f"{key} = {_value(value)}")
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            lines += ["", f"[{name}]"]
            _emit(value, name, lines)
        elif _is_tables(value):
            for item in value:
                lines += ["", f"[[{name}]]"]
                _emit(item, name, lines)


def dump_toml(data: dict[str, Any]) -> str:
    """``data`` as TOML text that :func:`tomllib.loads` reads back to an equal dict."""
    lines: list[str] = []
    _emit(data, "", lines)
    return "\n".join(lines) + "\n"


def write_data(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as a TOML profile at ``path`` and return the path."""
    path.write_text(dump_toml(data), encoding="utf-8")
    return path


MINIMAL_PROFILE = """\
# A user's own standard: one tier, two facility types, the required tables only.
[profile]
id = "my-town"
title = "某镇社区服务标准"

[walking]
speed_m_per_min = 70.0
slope_model = "none"
tobler_a = 3.5
tobler_b = 0.05
max_grade = 0.5
steps_up_m_per_min = 30.0
steps_down_m_per_min = 40.0
max_access_m = 150.0
isochrone_buffer_m = 30.0

[[tiers]]
id = "neighbourhood"
name = "邻里中心"
name_en = "neighbourhood centre"
population_served = [8000, 10000]
walk_min = 8
replaces_lower = false

[[tiers.facilities]]
id = "clinic"
name = "社区诊所"
name_en = "clinic"
aliases = ["诊所"]
osm = ["amenity=clinic"]

[[tiers.facilities]]
id = "library"
name = "社区图书室"
name_en = "reading room"
min_floor_area_m2 = 60
required = false

[population]
persons_per_household = 2.8
default_levels = 4
min_home_footprint_m2 = 30

[usable]
basement_usable = true
max_floor_without_lift = 3
"""
