"""Writing a layout plan's results: ``plan.gpkg``, ``plan.xlsx`` and ``report.html``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._io import atomic_dir
from linli.reports import (
    OSM_SOURCE,
    ColourBy,
    Figure,
    LineLayer,
    MapSpec,
    PointLayer,
    PolygonLayer,
    Section,
    Table,
    Text,
    write_report,
    write_workbook,
)
from linli.standards import Profile

__all__ = ["PlanTables", "plan_tables", "solve_lines", "write_plan"]

HEADERS_ZH = {
    "site": "站点",
    "tier": "层级",
    "tier_name": "层级名称",
    "kind": "现状/新建",
    "source": "来源",
    "source_ref": "来源编号",
    "residents": "服务人口",
    "households": "服务户数",
    "only_reach": "唯一可达人口",
    "closing_shortfall": "关闭后无处可去人口",
    "needed_for": "必要原因",
    "utilisation": "容量利用率",
    "dropped": "少建站点数",
    "centres": "站点数",
    "served": "仍可服务人口",
    "share": "覆盖率",
    "unserved": "无处可去人口",
    "floor_area_required_m2": "应配面积（m²）",
    "why": "选址理由",
    "walk_min": "步行时间（分钟）",
    "served_by": "服务中心（现状/新建）",
    "community_site": "社区家园站点",
    "street_site": "街道中心站点",
    "community_walk_min": "至社区家园（分钟）",
    "street_walk_min": "至街道中心（分钟）",
    "community_served_by": "社区家园（现状/新建）",
    "street_served_by": "街道中心（现状/新建）",
    "population": "人口",
    "mean_walk_min": "平均步行时间（分钟）",
    "status": "状态",
    "status_reason": "原因",
    "access_walk_min": "至最近步行道（分钟）",
    "meets_standard": "达到标准",
    "missing_types": "缺少设施",
}

KIND_ZH = {"existing": "现状", "new": "新建"}
"""Words for a site's ``kind`` in the report."""


@dataclass
class PlanTables:
    """The plan as frames: chosen sites, demand with assignments, service areas, counts.

    Attributes
    ----------
    sites : GeoDataFrame
        One row per site and tier (WGS-84): ``kind`` existing or new, residents, why.
    demand : GeoDataFrame
        Every demand point, with ``status`` (served / unserviceable), ``status_reason``,
        ``access_walk_min`` and per tier its site, minutes and ``*served_by`` (existing /
        new; empty when not served).
    service_areas : GeoDataFrame or None
        The sites' walking circles.
    summary : dict
        ``sites`` ({tier id: {"existing": n, "new": n}}), ``residents``,
        ``residents_served``, ``residents_held`` ({tier id: residents already served by
        existing centres}), ``unserviceable_homes``, ``unserviceable_residents``.
    trade_off : DataFrame or None
        Per tier, the plan with its least used new sites closed in turn (``dropped``,
        ``centres``, ``served``, ``share``, ``unserved``): what serving the last residents
        costs.
    """

    sites: Any
    demand: Any
    service_areas: Any
    summary: dict[str, Any] = field(default_factory=dict)
    trade_off: Any = None


def _existing_why(
    tier: Any, site: Any, residents: float, *, profile: Profile, names: dict[str, str]
) -> str:
    own = str(site.get("existing_tier") or tier.id)
    what = profile.tier(own)
    head = f"现有{what.name}，保留" + (f"，兼作{tier.name}" if own != tier.id else "")
    text = (
        f"{head}；服务已在 {tier.walk_min:g} 分钟内的 {residents:,.0f} 人（就近、不超过容量） "
        f"(existing {what.name_en}, kept; serves {residents:,.0f} residents already within "
        f"{tier.walk_min:g} min, nearest first, up to capacity)"
    )
    meets = site.get("meets_standard")
    if meets is not None and not pd.isna(meets) and not bool(meets):
        lacking = [names.get(m, m) for m in str(site.get("missing_types") or "").split(",") if m]
        gap = f"缺{'、'.join(lacking)}" if lacking else "面积不足"
        text += f"；尚未达标：{gap} (does not meet the standard yet)"
    return text


SITE_COLOURS = {
    "street_centre": {"existing": "#E69F00", "new": "#D55E00"},
    "community_home": {"existing": "#56B4E9", "new": "#0072B2"},
}
"""Map colours of the sites by tier and kind (Okabe-Ito: orange street centres, blue homes)."""

NEEDED_ZH = {
    "existing": "现状保留",
    "reach": "可达性",
    "capacity": "容量",
    "co-location": "与街道中心合设",
    "review": "可复核",
}
"""Words for a site's ``needed_for`` in the report."""


def _in_words(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites table for the report: kinds and reasons in Chinese words, the tier by its
    name only, what is beside each site in words (the minutes are in the workbook), and no
    empty reference column."""
    minutes = [c for c in sites.columns if str(c).startswith("walk_min_")]
    out = sites.drop(columns=["tier", "colocated_count", *minutes], errors="ignore")
    for column, words in (("kind", KIND_ZH), ("needed_for", NEEDED_ZH)):
        if column in out:
            out[column] = out[column].map(words).fillna(out[column])
    if "source_ref" in out and not out["source_ref"].astype(str).str.strip().any():
        out = out.drop(columns=["source_ref"])
    return out


LOW_UTILISATION = 0.05
"""A new centre serving fewer residents than this share of its capacity is pointed out in the
report: it is there for a few homes no other site reaches (a hillside pocket, a river bank,
a gap in the mapped ways), and the planner may prefer another way to serve them."""


def _site_charts(sites: pd.DataFrame, tier_order: Sequence[str]) -> list[Any]:
    """Why the sites are needed (counts by reason and tier) and how full they are."""
    from linli.reports import BarChart, Histogram

    if sites.empty or "needed_for" not in sites:
        return []
    tiers = [t for t in tier_order if t in set(sites["tier_name"])]
    reasons = [r for r in NEEDED_ZH if r in set(sites["needed_for"])]
    counts = sites.groupby(["needed_for", "tier_name"]).size()
    charts: list[Any] = [
        BarChart(
            categories=[NEEDED_ZH[r] for r in reasons],
            series={t: [float(counts.get((r, t), 0)) for r in reasons] for t in tiers},
            title="站点为何必要（按原因与层级计数）",
            caption="可达性：部分居民没有其他可达站点；容量：关闭后其他站点容纳不下；"
            "可复核：其居民拆分后可由其他站点容纳。",
            value_fmt="{:,.0f}",
        )
    ]
    for tier in tiers:
        share = sites.loc[sites["tier_name"] == tier, "utilisation"].to_numpy(dtype=float)
        charts.append(
            Histogram(
                values=share,
                bins=[i / 10 for i in range(11)],
                title=f"{tier}容量利用率（服务人口 ÷ 容量）",
                caption=f"{len(share)} 处；低于 {LOW_UTILISATION:.0%} 的新建站点见下方说明。",
                x_label="容量利用率",
                y_label="站点数",
                markers={f"{LOW_UTILISATION:.0%}": LOW_UTILISATION},
                value_fmt="{:.0%}",
            )
        )
    return charts


def _trade_off_blocks(trade_off: pd.DataFrame | None) -> list[Any]:
    """The trade-off as one bar chart per tier and a table (none when nothing to show)."""
    from linli.reports import BarChart, Table, Text

    if trade_off is None or trade_off.empty or trade_off["dropped"].max() == 0:
        return []
    blocks: list[Any] = [
        Text(
            text="少建的代价：从本方案中依次去掉服务人数最少的新建站点，其余站点在步行圈与容量内"
            "最多还能服务多少居民（最大流计算，居民可重新分配）。这是减少站点数后覆盖率的下限——"
            "针对更少站点重新优化的方案可能覆盖更多。 What the last residents cost: the plan "
            "with its least used new sites closed in turn, and the most residents the rest can "
            "still serve within the circle and capacities (a maximum flow): a lower bound on "
            "the coverage of a plan with that many fewer sites.",
            kind="note",
        )
    ]
    for name, group in trade_off.groupby("tier_name", sort=False):
        blocks.append(
            BarChart(
                categories=[f"{c:,} 处（少建 {d}）" for c, d in zip(
                    group["centres"], group["dropped"], strict=True)],
                series={"覆盖率": group["share"].tolist()},
                title=f"{name}：少建站点后的覆盖率",
                caption="覆盖率 = 仍可服务人口 ÷ 规划服务的居民。",
                value_fmt="{:.1%}",
                max_value=1.0,
            )
        )  # fmt: skip
    blocks.append(
        Table(
            data=trade_off.drop(columns=["tier"]),
            caption="少建的代价（按层级）",
            headers=HEADERS_ZH,
            formats={"served": "{:,.0f}", "unserved": "{:,.0f}", "share": "{:.2%}"},
        )
    )
    return blocks


def _headers(profile: Profile) -> dict[str, str]:
    """Chinese headers, with the profile's co-location categories."""
    headers = dict(HEADERS_ZH)
    if profile.colocation is not None:
        for cat in profile.colocation.categories:
            headers[f"walk_min_{cat.id}"] = f"至{cat.name}（分钟）"
        headers.update(colocated="相邻设施", colocated_count="相邻设施类数")
    return headers


def _colocation_blocks(sites: pd.DataFrame, profile: Profile) -> list[Any]:
    """How many sites have each co-location category beside them, per tier (none without)."""
    from linli.reports import BarChart

    rule = profile.colocation
    if rule is None or sites.empty or "colocated" not in sites:
        return []
    tiers = list(dict.fromkeys(sites["tier_name"]))
    series = {
        tier: [
            float(sites.loc[sites["tier_name"] == tier, f"walk_min_{cat.id}"].notna().mean())
            for cat in rule.categories
        ]
        for tier in tiers
    }
    return [
        BarChart(
            categories=[cat.name for cat in rule.categories],
            series=series,
            title=f"站点 {rule.walk_min:g} 分钟步行内的相邻设施（站点占比）",
            caption="《答复函》：引导相应层级的教育、交通、商业、游憩等设施相邻布局；"
            f"“相邻”按 {rule.walk_min:g} 分钟步行计（标准配置 {profile.id}）。地点来自 OSM，"
            "国内 OSM 常缺学校、公交站等：占比低时请先核对数据。",
            value_fmt="{:.0%}",
            max_value=1.0,
        )
    ]


def _utilisation_notes(sites: pd.DataFrame, profile: Profile) -> list[str]:
    """What decides each tier's count (the circle or the capacity), and the very small new
    centres, in words."""
    if sites.empty or "utilisation" not in sites:
        return []
    lines = []
    for tier_id, group in sites.groupby("tier", sort=False):
        tier = profile.tier(str(tier_id))
        mean = float(group["utilisation"].mean())
        if mean < 0.5:
            decides = f"站点数主要由 {tier.walk_min:g} 分钟步行圈决定，而非人口"
            decides_en = f"the {tier.walk_min:g}-minute circle, not the population, sets the count"
        elif mean >= 0.8:
            decides = "站点数主要由容量（人口）决定"
            decides_en = "the capacity (population) sets the count"
        else:
            decides = "步行圈与容量共同决定站点数"
            decides_en = "the circle and the capacity both set the count"
        lines.append(
            f"{tier.name} {len(group)} 处，平均服务 {group['residents'].mean():,.0f} 人，为容量 "
            f"{tier.population_max:,.0f} 的 {mean:.0%}：{decides}。 {tier.name_en}: "
            f"{len(group)}, serving {group['residents'].mean():,.0f} residents on average, "
            f"{mean:.0%} of the capacity: {decides_en}."
        )
    low = sites[(sites["kind"] == "new") & (sites["utilisation"] < LOW_UTILISATION)]
    if len(low):
        shown = "；".join(
            f"{row.tier_name} #{row.site}（{row.residents:,.0f} 人）"
            for row in low.sort_values("utilisation").head(20).itertuples()
        )
        more = f" 等 {len(low)} 处" if len(low) > 20 else ""
        total = sites.groupby("tier_name")["residents"].sum()
        per_tier = [
            (str(name), len(group), float(group["residents"].sum()))
            for name, group in low.groupby("tier_name", sort=False)
        ]
        counted = "，".join(
            f"{name} {n} 处共 {people:,.0f} 人（{people / total[name]:.1%}）"
            for name, n, people in per_tier
        )
        lines.append(
            f"{len(low)} 处新建站点服务人口不足其容量的 {LOW_UTILISATION:.0%}（{counted}）："
            f"{shown}{more}。"
            "它们多为少数居民唯一可达的站点（偏远片区、被坡地或河流隔开的居民点，或步行网络"
            f"的缺口），规划时可考虑以其他方式服务这些居民，或核查该处的步行道。 {len(low)} "
            f"new centres serve less than {LOW_UTILISATION:.0%} of their capacity, mostly the "
            "only site a few homes reach: consider serving those homes another way, or check "
            "the walking network there."
        )
    return lines


def _new_why(tier: Any, residents: float, only: float, shortfall: float, needed: str) -> str:
    """Why a new site is in the plan, in Chinese and English (see :func:`_needed_for`)."""
    head = f"新建：服务 {residents:,.0f} 人（{tier.walk_min:g} 分钟内）"
    en = f"new: serves {residents:,.0f} within {tier.walk_min:g} min"
    if needed == "reach":
        return (
            f"{head}，其中 {only:,.0f} 人没有其他可达站点 ({en}; {only:,.0f} have no other "
            "site within reach)"
        )
    if needed == "capacity":
        return (
            f"{head}；人人另有可达站点，但其他站点容量不足：关闭它，无论如何重新分配，至少 "
            f"{shortfall:,.0f} 人将无处可去 ({en}; each could reach another site, but without "
            f"it at least {shortfall:,.0f} residents would find no site with room, however "
            "everyone is re-assigned)"
        )
    if needed == "co-location":
        rest = "其居民也可由其他站点容纳" if residents > 0 else "不另服务居民"
        rest_en = "its residents would fit in other sites" if residents > 0 else "no one else"
        return (
            f"{head}；与街道中心同址合设（街道中心须有社区家园），{rest} ({en}; it stands with "
            f"a street centre, which must have one; {rest_en})"
        )
    return (
        f"{head}；其居民拆分后可由其他可达站点容纳，可复核是否需要（按整点分配或缩短步行时保留） "
        f"({en}; split, its residents would fit in the other sites within reach: worth a "
        "review — kept to assign homes whole or for shorter walks)"
    )


def _needed_for(kind: str, only: float, shortfall: float, co_located: bool) -> str:
    """The first reason that holds: existing, reach, capacity, co-location, else review."""
    if kind == "existing":
        return "existing"
    if only >= 0.5:
        return "reach"
    if shortfall >= 0.5:
        return "capacity"
    return "co-location" if co_located else "review"


def _tier_pairs(
    reach: pd.DataFrame, tier: Any, held: np.ndarray | None, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (planned row, site) pairs within the tier's circle, as the model saw them: a row
    held at an existing centre keeps only that pair.  Also the held site per row."""
    in_circle = reach[reach["walk_min"] <= tier.walk_min]
    origin = in_circle["origin"].to_numpy(dtype=np.int64)
    destination = in_circle["destination"].to_numpy(dtype=np.int64)
    held_at = np.full(n_rows, -1) if held is None else np.asarray(held, np.int64)
    keep = (held_at[origin] < 0) | (destination == held_at[origin])
    return origin[keep], destination[keep], held_at


TRADE_OFF_COUNTS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987)
"""How many of the least used new sites the trade-off table closes, in turn."""
TRADE_OFF_FLOOR = 0.9
"""The trade-off table stops once fewer than this share of the residents would be served."""


def _trade_off(
    tier: Any, table: pd.DataFrame, reach: pd.DataFrame, weights: np.ndarray, held: Any
) -> pd.DataFrame:
    """What the last residents cost: the plan with its least used new sites closed, in turn.

    Each row: ``dropped`` new sites closed (least residents served first), ``centres`` left,
    ``served`` residents the rest can still serve within the circle and capacities (a
    maximum flow, :func:`linli.planning.explain.served_without`) and their ``share``.
    """
    from linli.planning.explain import served_without

    new = table[table["kind"] == "new"].sort_values(["residents", "site"], kind="stable")
    if new.empty:
        return pd.DataFrame()
    origin, destination, _ = _tier_pairs(reach, tier, held, weights.shape[0])
    n_sites = int(max(table["site"].max(), destination.max(initial=0))) + 1
    capacity = np.full(n_sites, float(tier.population_max))
    total = float(weights.sum())
    rows = []
    for k in (c for c in TRADE_OFF_COUNTS if c <= len(new) and c < len(table)):
        (served,) = served_without(
            origin, destination, weights, capacity, table["site"].to_numpy(np.int64),
            new["site"].to_numpy(np.int64), [k],
        )  # fmt: skip
        rows.append(
            {"tier": tier.id, "tier_name": tier.name, "dropped": k, "centres": len(table) - k,
             "served": served, "share": served / total if total else 1.0,
             "unserved": total - served}
        )  # fmt: skip
        if total and served / total < TRADE_OFF_FLOOR:
            break
    return pd.DataFrame(rows)


def _tier_rows(
    tier: Any,
    site_positions: np.ndarray,
    assignment: np.ndarray,
    minutes: np.ndarray,
    *,
    weights: np.ndarray,
    sites: Any,
    profile: Profile,
    reach: Any,
    held: np.ndarray | None = None,
    street_sites: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per chosen site of ``tier``, with why it is needed (:mod:`linli.planning.explain`).

    ``reach`` holds the pairs (origin = planned row, destination = site position); ``held``
    per planned row the existing site it is held at (-1: none): held residents stay there
    and reach no other site, as in the model.  ``street_sites``: the plan's street centres,
    for a community home standing with one.
    """
    from linli.planning.explain import closing_shortfall, only_reach

    pph = profile.population.persons_per_household if profile.population else 1.0
    names = {f.id: f.name for f in profile.facility_types()}
    n_sites = len(sites)
    positions = np.asarray(site_positions, dtype=np.int64)
    origin, destination, held_at = _tier_pairs(reach, tier, held, weights.shape[0])
    only = only_reach(origin, destination, weights, positions, n_sites)
    assigned = assignment >= 0
    residents = np.bincount(assignment[assigned], weights=weights[assigned], minlength=n_sites)[
        positions
    ]
    kinds = np.array(
        ["existing" if sites.iloc[int(s)].get("kind") == "existing" else "new" for s in positions]
    )
    shortfall = np.full(positions.shape[0], np.nan)
    check = (kinds == "new") & (only < 0.5)
    if check.any():
        capacity = np.full(n_sites, float(tier.population_max))
        shortfall[check] = closing_shortfall(
            origin, destination, weights, assignment, capacity, positions[check],
            movable=held_at < 0,
        )  # fmt: skip
    co_located = (
        np.isin(positions, street_sites) if street_sites is not None else np.zeros_like(check)
    )
    rows = []
    for k, s in enumerate(positions):
        s = int(s)
        served = assignment == s
        site = sites.iloc[s]
        kind = str(kinds[k])
        needed = _needed_for(kind, float(only[k]), float(shortfall[k]), bool(co_located[k]))
        if kind == "existing":
            why = _existing_why(tier, site, float(residents[k]), profile=profile, names=names)
        else:
            why = _new_why(tier, float(residents[k]), float(only[k]), float(shortfall[k]), needed)
        row = {
            "site": s,
            "tier": tier.id,
            "tier_name": tier.name,
            "kind": kind,
            "source": str(site.get("source") or ""),
            "source_ref": str(site.get("source_ref") or ""),
            "residents": float(residents[k]),
            "households": float(residents[k]) / pph,
            "only_reach": float(only[k]),
            "closing_shortfall": float(shortfall[k]),
            "utilisation": float(residents[k]) / float(tier.population_max),
            "needed_for": needed,
            "floor_area_required_m2": float(tier.min_floor_area_m2 or np.nan),
            "why": why,
            "mean_walk_min": float(np.nanmean(minutes[served])) if served.any() else np.nan,
        }
        if "meets_standard" in sites:
            meets = site.get("meets_standard")
            row["meets_standard"] = None if meets is None or pd.isna(meets) else bool(meets)
            row["missing_types"] = site.get("missing_types")
        rows.append(row)
    return pd.DataFrame(rows)


def _pair_minutes(reach: pd.DataFrame, assign: np.ndarray, n_sites: int) -> np.ndarray:
    """Per row ``i``, the minutes of the pair (i, ``assign[i]``) in ``reach`` (NaN if none).

    >>> reach = pd.DataFrame({"origin": [0, 0, 1], "destination": [2, 0, 1],
    ...                       "walk_min": [4.0, 1.0, 7.5]})
    >>> _pair_minutes(reach, np.array([2, 1, -1]), 3).tolist()
    [4.0, 7.5, nan]
    """
    out = np.full(assign.shape[0], np.nan)
    if reach.empty:
        return out
    key = reach["origin"].to_numpy(np.int64) * n_sites + reach["destination"].to_numpy(np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    walk = reach["walk_min"].to_numpy(np.float64)[order]
    wanted = np.arange(assign.shape[0], dtype=np.int64) * n_sites + assign
    at = np.minimum(np.searchsorted(key, wanted), key.shape[0] - 1)
    found = (assign >= 0) & (key[at] == wanted)
    out[found] = walk[at[found]]
    return out


def _spread(values: np.ndarray, rows: np.ndarray, n: int, fill: Any) -> np.ndarray:
    """``values`` of the planned rows placed at their positions among ``n`` (others ``fill``)."""
    out = np.full(n, fill, dtype=np.asarray(values).dtype)
    out[rows] = values
    return out


def _summary(sites: Any, demand: Any, held_residents: Mapping[str, float]) -> dict[str, Any]:
    """The counts of :attr:`PlanTables.summary`."""
    lost = (demand["status"] == "unserviceable").to_numpy()
    population = demand["population"].to_numpy(dtype=float)
    return {
        "sites": {
            str(t): {k: int(((sites["tier"] == t) & (sites["kind"] == k)).sum())
                     for k in ("existing", "new")}
            for t in pd.unique(sites["tier"])
        },
        "residents": float(population.sum()),
        "residents_served": float(population[~lost].sum()),
        "residents_held": dict(held_residents),
        "unserviceable_homes": int(lost.sum()),
        "unserviceable_residents": float(population[lost].sum()),
    }  # fmt: skip


def plan_tables(
    result: Any,
    *,
    network: Any,
    demand: Any,
    sites: Any,
    profile: Profile,
    tier: str,
    planned: Any = None,
    reach: Any = None,
    held: Mapping[str, Any] | None = None,
    places: Any = None,
) -> PlanTables:
    """Chosen sites (existing or new, with why), every demand point's status, service areas.

    Parameters
    ----------
    result : PlanResult
        Of a ``TwoTierPlan`` (``tier="both"``) or a ``SetCover`` of one tier, whose rows are
        ``demand.iloc[planned]`` and whose columns are ``sites``.
    network : WalkNetwork
    demand : GeoDataFrame
        Every demand point (positions 0..n-1), with ``population``; optionally ``status``,
        ``status_reason``, ``access_walk_min`` (kept as they are; default ``served``).
    sites : GeoDataFrame
        The candidate sites; ``kind`` ``existing`` marks existing centres.
    profile : Profile
    tier : {"both", "street", "community"}
    planned : int array, optional
        Positions of the demand points that were planned (the result's rows); default all.
        The others are never assigned: site -1, minutes NaN.
    reach : WalkMatrix, optional
        Minutes from the planned demand points to the sites within the largest circle;
        computed when not given.
    held : mapping, optional
        Tier id -> per planned row, the existing site it was held at (-1: none), for the
        summary's residents already served.
    places : GeoDataFrame, optional
        Places of the profile's co-location categories
        (:func:`linli.audit.prepare.colocation_places`): each chosen site then gets the
        minutes to the nearest one of each category within the rule's walk
        (``walk_min_<category>``, ``colocated``, ``colocated_count``; see
        :func:`linli.audit.run.colocation_table`).

    Returns
    -------
    PlanTables
    """
    import geopandas as gpd

    from linli.access import walk_minutes_within
    from linli.access.isochrones import isochrones

    n = len(demand)
    rows = np.arange(n) if planned is None else np.asarray(planned, dtype=np.int64)
    model_demand = demand.iloc[rows].reset_index(drop=True)
    weights = model_demand["population"].to_numpy(dtype=float)
    tiers = {t.id: t for t in profile.tiers}
    largest = max(t.walk_min for t in profile.tiers)
    if reach is None:
        reach = walk_minutes_within(network, model_demand, sites, cutoff_min=float(largest))
    reach_frame = reach.to_frame()
    out_demand = demand.copy()
    if "status" not in out_demand:
        out_demand["status"] = "served"
        out_demand["status_reason"] = ""
    is_existing = (sites["kind"] == "existing").to_numpy() if "kind" in sites else None

    def served_by(assign: np.ndarray) -> np.ndarray:
        words = np.where(assign < 0, "", "new").astype(object)
        if is_existing is not None:
            words[(assign >= 0) & is_existing[np.clip(assign, 0, None)]] = "existing"
        return _spread(words, rows, n, "")

    frames = []
    street_sites: np.ndarray | None = None  # the community homes standing with one
    if tier == "both":
        d = result.details
        street_sites = np.asarray(d["street_sites"], dtype=np.int64)
        community_sites = np.asarray(d["community_sites"], dtype=np.int64)
        s_assign = np.asarray(d["street_assignment"], dtype=np.int64)
        c_assign = np.asarray(result.assignment, dtype=np.int64)
        c_min = np.asarray(d["community_walk_min"], dtype=float)
        s_min = np.asarray(d["street_walk_min"], dtype=float)
        out_demand["community_site"] = _spread(c_assign, rows, n, -1)
        out_demand["street_site"] = _spread(s_assign, rows, n, -1)
        out_demand["community_walk_min"] = _spread(c_min, rows, n, np.nan)
        out_demand["street_walk_min"] = _spread(s_min, rows, n, np.nan)
        out_demand["community_served_by"] = served_by(c_assign)
        out_demand["street_served_by"] = served_by(s_assign)
        parts = [
            (tiers["street_centre"], street_sites, s_assign, s_min),
            (tiers["community_home"], community_sites, c_assign, c_min),
        ]
    else:
        t = tiers["street_centre" if tier == "street" else "community_home"]
        assign = np.asarray(result.assignment, dtype=np.int64)
        minutes = _pair_minutes(reach_frame, assign, len(sites))
        out_demand["site"] = _spread(assign, rows, n, -1)
        out_demand["walk_min"] = _spread(minutes, rows, n, np.nan)
        out_demand["served_by"] = served_by(assign)
        parts = [(t, np.asarray(result.sites, dtype=np.int64), assign, minutes)]
    areas = []
    trade_offs = []
    for t, positions, assign, minutes in parts:
        table = _tier_rows(
            t, positions, assign, minutes, weights=weights, sites=sites, profile=profile,
            reach=reach_frame, held=(held or {}).get(t.id),
            street_sites=street_sites if t.id == "community_home" else None,
        )  # fmt: skip
        geoms = sites.geometry.iloc[positions].to_numpy() if len(positions) else []
        frames.append(gpd.GeoDataFrame(table, geometry=list(geoms), crs=sites.crs))
        if len(positions):
            trade_offs.append(_trade_off(t, table, reach_frame, weights, (held or {}).get(t.id)))
        if len(positions):
            iso = isochrones(network, sites.iloc[positions], cutoffs_min=(float(t.walk_min),))
            iso["tier"] = t.id
            areas.append(iso.to_crs("EPSG:4326"))
    chosen = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=sites.crs)
    if places is not None and profile.colocation is not None and len(chosen):
        from linli.audit.run import colocation_table

        rule = profile.colocation
        beside = colocation_table(network, chosen, places, rule)
        chosen = gpd.GeoDataFrame(pd.concat([chosen, beside], axis=1), crs=chosen.crs)
        kinds = "、".join(c.name for c in rule.categories)
        chosen["why"] = [
            f"{why}；{rule.walk_min:g} 分钟步行内有{near}设施" if near
            else f"{why}；{rule.walk_min:g} 分钟步行内没有{kinds}设施"
            for why, near in zip(chosen["why"], chosen["colocated"], strict=True)
        ]  # fmt: skip
    service = (
        gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs="EPSG:4326") if areas else None
    )
    held_residents = {
        t_id: float(weights[np.asarray(h) >= 0].sum()) for t_id, h in (held or {}).items()
    }
    return PlanTables(
        sites=chosen.to_crs("EPSG:4326"), demand=out_demand, service_areas=service,
        summary=_summary(chosen, out_demand, held_residents),
        trade_off=pd.concat(trade_offs, ignore_index=True) if trade_offs else None,
    )  # fmt: skip


def _treatment(summary: Mapping[str, Any], profile: Profile) -> list[str]:
    """How existing centres and unserviceable homes were treated, in words, for the report."""
    lines = []
    counts = summary.get("sites", {})
    if any(c.get("existing", 0) for c in counts.values()):
        held = summary.get("residents_held", {})
        served = "；".join(f"{profile.tier(t).name} {v:,.0f} 人" for t, v in held.items() if v > 0)
        lines.append(
            "现有中心全部保留（现有街道中心兼作社区家园）。已在现有中心步行圈内的居民按就近原则"
            "归属现有中心（不超过其服务人口），不再重新规划；其余居民（不在任何现有中心步行圈内，"
            "或附近现有中心已满）由新建站点服务。"
            + (f"已由现有中心服务：{served}。" if served else "")
            + " Existing centres are kept (an existing street centre is also a community home). "
            "Residents within an existing centre's circle are held at the nearest one with room "
            "(up to its capacity) and not planned again; new sites serve everyone else."
        )
    if summary.get("unserviceable_homes", 0):
        homes, people = summary["unserviceable_homes"], summary["unserviceable_residents"]
        lines.append(
            f"{homes:,} 处居民点（{people:,.0f} 人）离最近的步行道太远，任何站点都无法在步行圈"
            "内服务；它们保留在居民点图层与表中"
            "（状态“unserviceable”，并注明原因和至最近步行道的分钟数），不分配站点。请核查该处的"
            f" OSM 道路。 {homes:,} homes lie too far from any walkable "
            "way for any site to serve them within the circle; they are kept in the demand "
            "layer and tables with status 'unserviceable' and never assigned."
        )
    return lines


STATUS_ZH = {
    "optimal": "已证明最优",
    "time_limit": "达到时限",
    "gap_limit": "达到差距限",
    "heuristic": "启发式",
    "infeasible": "无可行方案",
    "error": "出错",
}


NOT_RUN_ZH = {"time limit reached": "时限已到", "model too large": "模型过大，保留上一层级的方案"}


def solve_lines(result: Any, tier_names: Sequence[str]) -> list[str]:
    """What the solver proved, one line per level, in Chinese and English.

    A plan of both tiers is solved level by level (fewest street centres, then fewest
    community homes, then least walking); each level has its own count, proven bound and
    gap, and the planner needs all of them, not only the first level's.  ``tier_names`` are
    the planned tiers' names, street tier first.

    >>> from types import SimpleNamespace as NS
    >>> r = NS(objective=3, bound=3, gap=0.0, status="optimal", seconds=2.0, details={})
    >>> for line in solve_lines(r, ["街道中心"]):
    ...     print(line)
    街道中心 3 处：已证明最优（下界 3，差距 0.00%） centres: 3, optimal (proven bound 3, gap 0.00%)
    求解用时 solve time 2.0 s
    """
    stages = result.details.get("stages") or [
        {"kind": "count", "level": 0, "weights": (1.0, 0.0), "objective": result.objective,
         "bound": result.bound, "gap": result.gap, "status": result.status}
    ]  # fmt: skip
    lines = []
    for st in stages:
        status = str(st["status"])
        zh = STATUS_ZH.get(status, status)
        value, bound, gap = f"{st['objective']:,.0f}", f"{st['bound']:,.0f}", f"{st['gap']:.2%}"
        proven = (f"（下界 {bound}，差距 {gap}）", f" (proven bound {bound}, gap {gap})")
        why = str(st.get("model_status", ""))
        if why.startswith("not run"):  # no bound to speak of: the stage kept the plan before
            zh = "未求解（" + NOT_RUN_ZH.get(why.removeprefix("not run: "), why) + "）"
            status, proven = why, ("", "")
        if st["kind"] == "walking":
            what, unit, en = "步行总时间", "人·分钟", "walking, resident-minutes"
        else:
            unit, en = "处", "centres"
            a_s, a_c = st["weights"]
            if (a_s, a_c) == (1.0, 0.0):
                what = tier_names[0]
            elif (a_s, a_c) == (0.0, 1.0):
                what = tier_names[-1]
            elif a_s == a_c:
                what = "站点总数（" + "、".join(tier_names) + "）"
            else:
                what = f"加权站点数 {a_s:g}×{tier_names[0]} + {a_c:g}×{tier_names[-1]}"
        lines.append(f"{what} {value} {unit}：{zh}{proven[0]} {en}: {value}, {status}{proven[1]}")
    lines.append(f"求解用时 solve time {result.seconds:.1f} s")
    return lines


def write_plan(
    tables: PlanTables,
    out: str | Path,
    *,
    profile: Profile,
    network: Any,
    result: Any,
    title: str,
    method_notes: Sequence[str] = (),
    tier_names: Sequence[str] | None = None,
    lang: str = "zh",
) -> Path:
    """Write ``plan.gpkg`` (sites, service_areas, demand), ``plan.xlsx`` and ``report.html``.

    The report's headline figures count the sites of each tier, existing (kept) and new, the
    residents served and the unserviceable homes; its map draws existing and new sites apart
    and the unserviceable homes in red; a note says how both were treated.

    Parameters
    ----------
    tables : PlanTables
        From :func:`plan_tables`.
    out : str or Path
        The output folder; the three files appear there together or not at all.
    profile : Profile
    network : WalkNetwork
        For the map's walking network.
    result : PlanResult
        For the solver's status, bound and gap.
    title : str
    method_notes : sequence of str
    tier_names : sequence of str, optional
        The planned tiers' names, street tier first (default: the profile's tiers), for
        the solver's lines (:func:`solve_lines`).
    lang : {"zh", "en"}

    Returns
    -------
    Path
        ``out``.
    """
    from linli.reports.audit import _plain

    out_dir = Path(out)
    sites = tables.sites
    summary = tables.summary or _summary(sites, tables.demand, {})
    treatment = _treatment(summary, profile)
    lost = tables.demand[tables.demand["status"] == "unserviceable"]
    solved = solve_lines(result, tier_names or [t.name for t in profile.tiers])
    stages = result.details.get("stages") or [{"kind": "count", "gap": result.gap}]
    worst_gap = max(float(st["gap"]) for st in stages if st["kind"] == "count")
    with atomic_dir(out_dir) as tmp:
        gpkg = tmp / "plan.gpkg"
        sites.to_file(gpkg, layer="sites", driver="GPKG")
        if tables.service_areas is not None:
            tables.service_areas.to_file(gpkg, layer="service_areas", driver="GPKG")
        tables.demand.to_file(gpkg, layer="demand", driver="GPKG")
        write_workbook(
            tmp / "plan.xlsx",
            {
                "站点 sites": _plain(sites),
                "居民点 demand": _plain(tables.demand),
                **(
                    {"少建的代价 trade-off": tables.trade_off}
                    if tables.trade_off is not None and not tables.trade_off.empty
                    else {}
                ),
            },
            headers_zh=_headers(profile),
            notes=[
                *solved,
                *treatment,
                *_utilisation_notes(_plain(sites), profile),
                *method_notes,
            ],
        )
        roads = LineLayer(
            data=network.links_frame().to_crs("EPSG:4326")[["geometry"]], name="步行网络",
            legend=False,
        )  # fmt: skip
        layers: list[Any] = []
        if tables.service_areas is not None:
            layers.append(
                PolygonLayer(
                    data=tables.service_areas,
                    name="服务范围",
                    fill=ColourBy(column="tier", categorical=True,
                                  labels={t.id: t.name for t in profile.tiers}, title="服务范围"),
                    fill_opacity=0.18,
                    stroke=None,
                )
            )  # fmt: skip
        shown = sites.assign(
            图例=sites["tier_name"] + "（" + sites["kind"].map(KIND_ZH).fillna("") + "）"
        )
        layers.append(roads)
        # Community homes first, street centres larger on top: a street centre stands on a
        # community home's site and would be hidden under it.
        palette = {
            f"{profile.tier(tier_id).name}（{KIND_ZH[kind]}）": colour
            for tier_id, by_kind in SITE_COLOURS.items()
            for kind, colour in by_kind.items()
        }
        for tier in reversed(profile.tiers):
            part = shown[shown["tier"] == tier.id]
            if part.empty:
                continue
            layers.append(
                PointLayer(
                    data=part,
                    name=tier.name,
                    fill=ColourBy(
                        column="图例", categorical=True, title="现状/新建", colours=palette
                    ),
                    radius_px=7 if tier.id == "street_centre" else 4.5,
                    tooltip="why",
                )
            )
        if len(lost):
            layers.append(
                PointLayer(data=lost, name="无法服务的居民点", fill="#CC79A7", radius_px=3.5,
                           tooltip="status_reason")
            )  # fmt: skip
        figures = []
        for tier_id, counts in summary["sites"].items():
            name = profile.tier(tier_id).name
            figures.append(
                Figure(label=f"{name}（新建）", value=counts["new"], unit="处", fmt="{:,.0f}",
                       note=f"现有 {counts['existing']} 处保留")
            )  # fmt: skip
        figures += [
            Figure(label="服务人口", value=summary["residents_served"], unit="人",
                   fmt="{:,.0f}", note=f"共 {summary['residents']:,.0f} 人"),
            Figure(label="无法服务的居民点", value=summary["unserviceable_homes"], unit="处",
                   fmt="{:,.0f}", note=f"{summary['unserviceable_residents']:,.0f} 人",
                   tone="warning" if summary["unserviceable_homes"] else "good"),
            Figure(label="最优性差距", value=worst_gap, fmt="{:.2%}",
                   note="站点数与已证明下界之差，各层级中最大者；见下方求解说明",
                   tone="good" if worst_gap <= 0.01 else "warning"),
        ]  # fmt: skip
        blocks: list[Any] = [
            Text(
                text=(
                    "每个站点都写明现状或新建，以及选址理由（必要原因）：可达性——部分居民没有其他"
                    "可达站点；容量——关闭它，无论怎样重新分配居民，其他站点都容纳不下（给出无处可去"
                    "的人数，经最大流核验）；与街道中心合设；可复核——其居民拆分后可由其他站点容纳。"
                    " Every site says whether it exists or is new, and why it is needed: reach "
                    "(some residents have no other site within the circle), capacity (closed, the "
                    "others could not hold its residents however everyone is re-assigned: the "
                    "shortfall, checked by a maximum flow), co-location with a street centre, or "
                    "review (split, its residents would fit elsewhere)."
                ),
                kind="note",
            ),
            *[Text(text=line, kind="note") for line in treatment],
            MapSpec(title="站点与服务范围", layers=layers),
            *_site_charts(_plain(sites), tier_names or [t.name for t in profile.tiers]),
            *[Text(text=line, kind="note") for line in _utilisation_notes(_plain(sites), profile)],
            *_trade_off_blocks(tables.trade_off),
            *_colocation_blocks(_plain(sites), profile),
            Table(
                data=_in_words(_plain(sites)),
                caption="站点（现状与新建）",
                headers=_headers(profile),
                formats={"residents": "{:,.0f}", "households": "{:,.0f}",
                         "only_reach": "{:,.0f}", "closing_shortfall": "{:,.0f}",
                         "utilisation": "{:.0%}"},
            ),
        ]  # fmt: skip
        if len(lost):
            columns = [c for c in ("population", "access_walk_min", "status_reason") if c in lost]
            blocks.append(
                Table(data=_plain(lost)[columns], caption="无法服务的居民点", headers=HEADERS_ZH,
                      max_rows=100)
            )  # fmt: skip
        write_report(
            tmp / "report.html",
            title=title,
            subtitle=profile.title,
            figures=figures,
            sections=[Section(title="规划站点与服务范围", blocks=blocks)],
            sources=[OSM_SOURCE],
            method_notes=[
                "求解 solver: linli（拉格朗日下界与局部搜索）+ HiGHS；各层级的站点数、"
                "已证明的下界与差距 (each level's count, proven bound and gap):",
                *solved,
                *method_notes,
            ],
            lang="en" if lang == "en" else "zh",
        )
    return out_dir
