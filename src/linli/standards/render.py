"""Readable views of standards profiles (rich tables), in Chinese with English.

Used by ``linli standards``; reports can reuse them.  Nothing here computes: the numbers
come from the :class:`~linli.standards.schema.Profile`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from linli.standards.schema import ColocationRule, FacilityType, OsmTags, Profile, Tier

__all__ = ["profile_view", "profiles_table"]

_MEANING: dict[str, str] = {
    "speed_m_per_min": "平地步行速度 walking speed on the flat, m/min",
    "slope_model": "坡度模型 how slope changes speed",
    "tobler_a": "Tobler 系数 a",
    "tobler_b": "Tobler 系数 b",
    "max_grade": "坡度上限 grades clipped to ±this (rise/run)",
    "steps_up_m_per_min": "上台阶水平速度 stairs up, horizontal m/min",
    "steps_down_m_per_min": "下台阶水平速度 stairs down, horizontal m/min",
    "max_access_m": "接入距离上限 warn beyond this from a way, m",
    "isochrone_buffer_m": "等时圈缓冲 isochrone half-width, m",
    "service_floor_area_m2_per_100_households": (
        "已建成区每百户综合服务设施面积 service floor area per 100 households (built areas)"
    ),
    "applies_to_tier": "适用层级 applied to each unit of this tier",
    "handover_floor_area_m2_per_100_households": (
        "新建小区每百户无偿提供用房 rooms developers hand over per 100 households"
    ),
    "target_share": "覆盖率目标 target share of units covered",
    "target_year": "目标年份 target year",
    "persons_per_household": "户均人口 persons per household",
    "default_levels": "缺层数住宅的默认层数 storeys of a home without building:levels",
    "min_home_footprint_m2": "最小住宅基底面积 smallest footprint counted as a home",
    "floor_area_m2_per_person": "人均住房建筑面积 housing floor area per person",
    "metres_per_level": "层高 storey height, m",
    "basement_usable": "地下室面积是否计入 basement rooms count",
    "max_floor_without_lift": "无电梯时计入的最高楼层 highest floor counted without a lift",
    "walk_min": "相邻布局步行时间 minutes that count as 'beside'",
}


def profiles_table(profiles: Sequence[Profile], *, default: str | None = None) -> Table:
    """One row per profile: its name, title and tiers.

    Examples
    --------
    >>> from linli.standards import available_profiles, load_profile
    >>> profiles_table([load_profile(n) for n in available_profiles()]).row_count
    2
    """
    table = Table(title="标准 Standards profiles", title_justify="left")
    table.add_column("profile", no_wrap=True)
    table.add_column("标准 title")
    table.add_column("层级 tiers (walk)")
    for p in profiles:
        name = p.id + (" (default)" if p.id == default else "")
        title = Text(p.title)
        if p.title_en:
            title.append("\n" + p.title_en, style="dim")
        tiers = "\n".join(f"{t.name} {t.walk_min:g} min" for t in p.tiers)
        table.add_row(name, title, tiers)
    return table


def profile_view(profile: Profile) -> RenderableType:
    """The whole profile as readable tables: tiers and facilities, then the numbers.

    Values the profile marks as assumptions carry a ``*``.
    """
    parts: list[RenderableType] = [_header(profile)]
    parts += [_tier_table(i, t) for i, t in enumerate(profile.tiers, 1)]
    parts.append(_numbers(profile))
    if profile.colocation is not None:
        parts.append(_colocation(profile.colocation))
    parts.append(Text("* assumption — not in the policy text (see the profile's comments)"))
    return Group(*parts)


def _header(p: Profile) -> Text:
    text = Text(p.title, style="bold")
    if p.title_en:
        text.append("\n" + p.title_en)
    text.append(f"\nprofile {p.id}", style="dim")
    if p.source:
        text.append(f" · 来源 source: {p.source}", style="dim")
    text.append(f"\n{p.path}", style="dim")
    return text


def _span(values: tuple[float, float], unit: str) -> str:
    low, high = values
    return f"{low:,.0f}{unit}" if low == high else f"{low:,.0f}–{high:,.0f}{unit}"


def _tier_table(index: int, tier: Tier) -> Table:
    mark = "*" if "walk_min" in tier.assumed else ""
    facts = [
        f"服务人口 residents {_span(tier.population_served, '')}",
        f"步行 walk {tier.walk_min:g} min{mark}",
    ]
    if tier.walk_distance_m is not None:
        facts.append(_span(tier.walk_distance_m, " m"))
    if tier.min_floor_area_m2 is not None:
        facts.append(f"建筑面积 floor area ≥ {tier.min_floor_area_m2:,.0f} m²")
    if tier.planned_new_count is not None:
        facts.append(f"规划新建 planned new {tier.planned_new_count}")
    replaces = "yes" if tier.replaces_lower else "no"
    if "replaces_lower" in tier.assumed:
        replaces += "*"
    table = Table(
        title=f"{index}. {tier.name} {tier.name_en} — " + " · ".join(facts),
        title_justify="left",
        caption=(
            f"{len(tier.facilities)} facility types; △ = recommended (宜配), others required; "
            f"stands in for lower tiers' facilities: {replaces}"
        ),
        caption_justify="left",
    )
    table.add_column("设施 facility", overflow="fold")
    table.add_column("别名 aliases", overflow="fold")
    table.add_column("OSM", overflow="fold")
    for f in tier.facilities:
        table.add_row(_facility_cell(f), Text("、 ".join(f.aliases)), _osm(f.osm))
    return table


def _facility_cell(f: FacilityType) -> Text:
    text = Text(f.name + ("" if f.required else " △"), style="bold")
    text.append(f"\n{f.name_en}")
    text.append(f"\n{f.id}", style="dim")
    if f.min_floor_area_m2 is not None:
        text.append(f"\n≥ {f.min_floor_area_m2:,.0f} m²")
    if f.replaces:
        text.append("\n→ also " + ", ".join(f.replaces), style="dim")
    return text


def _osm(tags: OsmTags) -> Text:
    return Text("\n".join(f"{k}={v}" for k, v in tags) or "—")


def _numbers(p: Profile) -> Table:
    table = Table(title="指标 Numbers", title_justify="left")
    table.add_column("key", no_wrap=True)
    table.add_column("value", justify="right", overflow="fold")
    table.add_column("说明 meaning", overflow="fold")
    parts: list[tuple[str, object, tuple[str, ...]]] = [("walking", p.walking, ())]
    for name in ("built_area", "new_housing", "coverage", "population", "usable"):
        part = getattr(p, name)
        if part is not None:
            parts.append((name, part, part.assumed))
    if p.colocation is not None:
        parts.append(("colocation", p.colocation, p.colocation.assumed))
    for name, part, assumed in parts:
        table.add_row(Text(f"[{name}]", style="bold"), "", "")
        for key, meaning in _MEANING.items():
            if not hasattr(part, key):
                continue
            value = getattr(part, key)
            shown = "—" if value is None else f"{value:g}" if isinstance(value, float) else value
            mark = "*" if key in assumed else ""
            table.add_row(Text(f"  {key}"), Text(f"{shown}{mark}"), Text(meaning))
        source = getattr(part, "source", "")
        if source:
            table.add_row("  source", "", Text(source, style="dim"))
    return table


def _colocation(rule: ColocationRule) -> Table:
    mark = "*" if "walk_min" in rule.assumed else ""
    table = Table(
        title=f"相邻布局 Co-location: within {rule.walk_min:g} min{mark} of a centre",
        title_justify="left",
    )
    table.add_column("类别 category", overflow="fold")
    table.add_column("OSM", overflow="fold")
    for cat in rule.categories:
        cell = Text(f"{cat.name} {cat.name_en}")
        cell.append(f"\n{cat.id}", style="dim")
        table.add_row(cell, _osm(cat.osm))
    return table
