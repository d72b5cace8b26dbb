"""The built-area audit end to end: how far each community and street is from the standard.

:func:`run_audit` takes the walking network, the demand points (homes with households and
population), the communities and the existing facilities, and answers, with every number
taken from the standards profile:

- per demand point: walking minutes to the nearest facility of every type the standard names;
- per community (社区): households, population, required service floor area (e.g. 30 m² per
  100 households), existing and *usable* area (basement rooms and high floors without a lift
  do not count), the deficit on both, each community-tier facility present or missing and the
  share of residents within its walking circle;
- per street (街道): population against the street centre's service population, street
  centres found (facilities grouped by proximity) and whether they meet the standard, the
  share of residents within the street circle of each street-tier facility;
- coverage: the share of communities whose usable service area meets the requirement,
  against the profile's target;
- recommendations (缺什么、补什么): what to add, where, how much, and why, ranked by the
  residents concerned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from linli._progress import ProgressCallback, report
from linli.audit.core import (
    assign_zones,
    best_site,
    facility_minutes,
    group_centres,
    share_within,
    usable_mask,
)
from linli.network import WalkNetwork, attach_points
from linli.standards import Profile

__all__ = ["AuditResult", "run_audit"]

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    """Everything the audit found; frames are in WGS-84 (EPSG:4326)."""

    demand: Any
    """GeoDataFrame: one row per demand point; households, population, community, street,
    ``walk_min_<facility id>`` (NaN beyond the largest circle)."""
    communities: Any
    """GeoDataFrame: one row per community (see the module docstring for the columns)."""
    streets: Any
    """GeoDataFrame: one row per street, communities dissolved."""
    facilities: Any
    """GeoDataFrame: the facilities with ``usable``, ``community``, ``centre`` columns."""
    centres: pd.DataFrame
    """One row per centre (facilities of a tier grouped by proximity)."""
    recommendations: pd.DataFrame
    """The ranked "缺什么、补什么" list."""
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _tiers(profile: Profile) -> list[dict[str, Any]]:
    """Tiers as plain dicts, highest level first (typed accessors once the schema lands)."""
    tiers = getattr(profile, "tiers", None)
    if tiers is not None:
        return [
            {
                "id": t.id,
                "name": t.name,
                "walk_min": float(t.walk_min),
                "population_served": t.population_served,
                "min_floor_area_m2": t.min_floor_area_m2,
                "facilities": [{"id": f.id, "name": f.name} for f in t.facilities],
            }
            for t in tiers
        ]
    return [dict(t) for t in profile.data["tiers"]]


def _number(profile: Profile, table: str, key: str) -> float:
    section = getattr(profile, table, None)
    if section is not None and hasattr(section, key):
        return float(getattr(section, key))
    return float(profile.data[table][key])


def run_audit(
    network: WalkNetwork,
    *,
    demand: Any,
    communities: Any,
    facilities: Any,
    profile: Profile,
    community_tier: str = "community_home",
    street_tier: str = "street_centre",
    centre_radius_m: float = 150.0,
    places: Any = None,
    progress: ProgressCallback | None = None,
) -> AuditResult:
    """Audit built-up areas against the standard: minutes, areas, coverage, recommendations.

    Parameters
    ----------
    network : WalkNetwork
    demand : GeoDataFrame
        Homes (points or footprints) with ``households`` and ``population``.
    communities : GeoDataFrame
        Community polygons with ``name``, ``street``, ``district`` and optionally
        ``households``/``population`` (which then replace the sums of the demand points).
    facilities : GeoDataFrame
        Existing facilities with ``facility_id`` (the profile's ids), ``floor_area_m2`` and
        optionally ``floor``, ``lift``, ``basement``.
    profile : Profile
    community_tier, street_tier : str
        Tier ids of the profile for the community and street levels.
    centre_radius_m : float
        Facilities of a tier closer than this are one centre.
    places : GeoDataFrame, optional
        Places for the co-location check (相邻布局), with a ``category`` column holding the
        profile's co-location category ids (education, transport, commerce, recreation).
        Each centre then gets ``walk_min_<category>`` (minutes to the nearest, NaN beyond the
        profile's co-location walk) and ``colocated`` (the categories within it).
    progress : callable, optional

    Returns
    -------
    AuditResult
    """
    steps = 6
    report(progress, 0, steps)
    tiers = {t["id"]: t for t in _tiers(profile)}
    community = tiers[community_tier]
    street = tiers[street_tier]
    type_ids = [f["id"] for t in tiers.values() for f in t["facilities"]]
    type_tier = {f["id"]: t["id"] for t in tiers.values() for f in t["facilities"]}
    type_name = {f["id"]: f["name"] for t in tiers.values() for f in t["facilities"]}
    largest = max(t["walk_min"] for t in tiers.values())
    also_serves: dict[str, list[str]] = {}
    for t in profile.tiers:
        if t.replaces_lower:
            for f in t.facilities:
                for lower in f.replaces:
                    also_serves.setdefault(lower, []).append(f.id)
    rules = profile.usable
    per_100 = _number(profile, "built_area", "service_floor_area_m2_per_100_households")
    target = _number(profile, "coverage", "target_share")
    notes: list[str] = []

    demand = demand.to_crs("EPSG:4326").copy()
    communities = communities.to_crs("EPSG:4326").copy()
    facilities = facilities.to_crs("EPSG:4326").copy()
    for column in ("floor", "lift", "basement"):
        if column not in facilities:
            facilities[column] = pd.NA

    # 1. Walking minutes from every home to every facility type.
    homes = attach_points(network, demand, source="demand points")
    sites = attach_points(network, facilities, source="facilities")
    minutes = facility_minutes(
        network,
        homes,
        sites,
        facilities["facility_id"].to_numpy(),
        types=type_ids,
        cutoff_min=largest,
        also_serves=also_serves,
    )
    for col in minutes:
        demand[col] = minutes[col].to_numpy()
    report(progress, 1, steps)

    # 2. Who lives where.
    demand["community"] = assign_zones(demand, communities, key="name")
    outside = int(demand["community"].isna().sum())
    if outside:
        notes.append(f"{outside} demand points lie outside every community boundary.")
    lookup = communities.set_index("name")
    demand["street"] = demand["community"].map(lookup["street"])
    demand["district"] = demand["community"].map(lookup["district"])
    facilities["community"] = assign_zones(facilities, communities, key="name")
    facilities["tier"] = facilities["facility_id"].map(type_tier)
    facilities["facility_name"] = facilities["facility_id"].map(type_name)
    usable, assumed = usable_mask(
        facilities["floor"],
        facilities["lift"],
        facilities["basement"],
        max_floor_without_lift=rules.max_floor_without_lift if rules else 10**6,
        basement_usable=rules.basement_usable if rules else True,
    )
    facilities["usable"] = usable
    facilities["usable_assumed"] = assumed
    if assumed.any():
        assumed_m2 = float(facilities.loc[assumed, "floor_area_m2"].sum())
        notes.append(
            f"{int(assumed.sum())} facility rows do not say their floor or lift; their "
            f"{assumed_m2:,.0f} m² are counted as usable."
        )
    report(progress, 2, steps)

    # 3. Communities: floor area balance and each community-tier facility.
    sums = demand.groupby("community")[["households", "population"]].sum()
    table = communities.copy()
    for col in ("households", "population"):
        given = table[col] if col in table else pd.Series(np.nan, index=table.index)
        table[col] = given.fillna(table["name"].map(sums[col])).fillna(0.0)
    ctier = facilities[facilities["tier"] == community_tier]
    area = ctier.groupby("community")["floor_area_m2"].sum()
    usable_area = ctier[ctier["usable"]].groupby("community")["floor_area_m2"].sum()
    table["required_m2"] = table["households"] * per_100 / 100.0
    table["existing_m2"] = table["name"].map(area).fillna(0.0)
    table["usable_m2"] = table["name"].map(usable_area).fillna(0.0)
    table["deficit_m2"] = (table["required_m2"] - table["existing_m2"]).clip(lower=0.0)
    table["deficit_usable_m2"] = (table["required_m2"] - table["usable_m2"]).clip(lower=0.0)
    circle = community["walk_min"]
    for f in community["facilities"]:
        fid = f["id"]
        share = share_within(
            demand[f"walk_min_{fid}"], demand["population"], demand["community"], cutoff_min=circle
        )
        table[f"share_{fid}"] = table["name"].map(share)
        serving = facilities[facilities["facility_id"].isin([fid, *also_serves.get(fid, [])])]
        present = serving.groupby("community").size()
        table[f"has_{fid}"] = table["name"].map(present).fillna(0).astype(int) > 0
        s = table[f"share_{fid}"]
        table[f"status_{fid}"] = np.select(
            [s.isna(), s <= 0.0, s + 1e-12 >= target], ["no residents", "missing", "met"], "partial"
        )
    status_cols = [f"status_{f['id']}" for f in community["facilities"]]
    table["facility_types_met"] = (table[status_cols] == "met").sum(axis=1)
    table["covered"] = (table["usable_m2"] > 0) & (table["usable_m2"] >= table["required_m2"])
    report(progress, 3, steps)

    # 4. Centres: facilities of a tier grouped by proximity.
    centres = _centres(facilities, tiers, centre_radius_m=centre_radius_m)
    facilities["centre"] = centres["per_facility"]
    centre_table = centres["table"]
    if places is not None and profile.colocation is not None and len(centre_table):
        centre_table = _colocation(network, centre_table, places, profile.colocation)
    report(progress, 4, steps)

    # 5. Streets.
    streets = _streets(table, demand, street, centre_table, street_tier=street_tier)
    report(progress, 5, steps)

    # 6. Recommendations.
    recommendations = _recommendations(
        network, demand, homes, table, community, target=target, per_100=per_100
    )
    covered = float(table["covered"].mean()) if len(table) else float("nan")
    summary = {
        "communities": len(table),
        "streets": len(streets),
        "population": float(table["population"].sum()),
        "households": float(table["households"].sum()),
        "coverage_share": covered,
        "coverage_target": target,
        "required_m2": float(table["required_m2"].sum()),
        "usable_m2": float(table["usable_m2"].sum()),
        "deficit_usable_m2": float(table["deficit_usable_m2"].sum()),
        "recommendations": len(recommendations),
    }
    report(progress, steps, steps)
    return AuditResult(
        demand=demand,
        communities=table,
        streets=streets,
        facilities=facilities,
        centres=centre_table,
        recommendations=recommendations,
        summary=summary,
        notes=notes,
    )


def _centres(
    facilities: Any, tiers: dict[str, dict[str, Any]], *, centre_radius_m: float
) -> dict[str, Any]:
    from linli.inputs.crs import local_metric_crs

    per_facility = pd.Series(pd.NA, index=facilities.index, dtype="object")
    rows: list[dict[str, Any]] = []
    if len(facilities) == 0:
        return {"per_facility": per_facility, "table": pd.DataFrame(rows)}
    pts = facilities.geometry.representative_point()
    crs = local_metric_crs(pts.x.to_numpy(), pts.y.to_numpy())
    metric = pts.to_crs(crs)
    for tier_id, tier in tiers.items():
        mask = (facilities["tier"] == tier_id).to_numpy()
        if not mask.any():
            continue
        groups = group_centres(
            metric.x.to_numpy()[mask], metric.y.to_numpy()[mask], within_m=centre_radius_m
        )
        labels = [f"{tier_id}-{g + 1:03d}" for g in groups]
        per_facility[mask] = labels
        sub = facilities[mask].assign(centre=labels)
        wanted = {f["id"] for f in tier["facilities"]}
        for label, grp in sub.groupby("centre"):
            have = set(grp["facility_id"]) & wanted
            usable = float(grp.loc[grp["usable"], "floor_area_m2"].sum())
            minimum = tier.get("min_floor_area_m2")
            rows.append(
                {
                    "centre": label,
                    "tier": tier_id,
                    "community": grp["community"].mode().iloc[0]
                    if grp["community"].notna().any()
                    else pd.NA,
                    "facility_types": len(have),
                    "facility_types_required": len(wanted),
                    "missing_types": ",".join(sorted(wanted - have)),
                    "floor_area_m2": float(grp["floor_area_m2"].sum()),
                    "usable_m2": usable,
                    "meets_standard": len(have) == len(wanted)
                    and (minimum is None or usable >= float(minimum)),
                    "lon": float(grp.geometry.representative_point().x.mean()),
                    "lat": float(grp.geometry.representative_point().y.mean()),
                }
            )
    return {"per_facility": per_facility, "table": pd.DataFrame(rows)}


def _colocation(
    network: WalkNetwork, centres: pd.DataFrame, places: Any, rule: Any
) -> pd.DataFrame:
    """Minutes from each centre to the nearest place of each co-location category."""
    import geopandas as gpd

    points = gpd.GeoDataFrame(
        centres, geometry=gpd.points_from_xy(centres["lon"], centres["lat"]), crs="EPSG:4326"
    )
    return pd.concat([centres, colocation_table(network, points, places, rule)], axis=1)


def colocation_table(network: WalkNetwork, points: Any, places: Any, rule: Any) -> pd.DataFrame:
    """Which co-location categories (education, transport, …) each point has beside it.

    Parameters
    ----------
    network : WalkNetwork
    points : GeoDataFrame
        Centres or planned sites (any CRS).
    places : GeoDataFrame
        From :func:`linli.audit.prepare.colocation_places` (``category`` per place).
    rule : Colocation
        The profile's rule: its categories and ``walk_min`` ("beside" = within it).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``walk_min_<category>`` (minutes to the nearest place of
        the category, NaN beyond ``walk_min``), ``colocated`` (the names of the categories
        beside it, joined by 、) and ``colocated_count``.
    """
    from linli.access import nearest_destination

    att = attach_points(network, points, source="centres")
    out = pd.DataFrame(index=points.index)
    near: list[list[str]] = [[] for _ in range(len(out))]
    for cat in rule.categories:
        subset = places[places["category"] == cat.id]
        column = f"walk_min_{cat.id}"
        if len(subset) == 0:
            out[column] = np.nan
            continue
        found = nearest_destination(
            network, att, attach_points(network, subset, source=f"{cat.id} places"),
            cutoff_min=float(rule.walk_min),
        )  # fmt: skip
        out[column] = found["walk_min"].to_numpy()
        for i, m in enumerate(out[column].to_numpy()):
            if np.isfinite(m):
                near[i].append(cat.name)
    out["colocated"] = ["、".join(n) for n in near]
    out["colocated_count"] = [len(n) for n in near]
    return out


def _streets(
    table: Any, demand: Any, street: dict[str, Any], centres: pd.DataFrame, *, street_tier: str
) -> Any:
    grouped = table.dissolve(
        by="street",
        aggfunc={
            "households": "sum",
            "population": "sum",
            "name": "count",
            "district": "first",
            "covered": "mean",
        },
    ).rename(columns={"name": "communities", "covered": "coverage_share"})
    served = street["population_served"]
    low, high = served if isinstance(served, tuple | list) else (served, served)
    grouped["population_served"] = float(high)
    grouped["population_served_min"] = float(low)
    grouped["population_over_served"] = grouped["population"] / float(high)
    circle = street["walk_min"]
    for f in street["facilities"]:
        fid = f["id"]
        share = share_within(
            demand[f"walk_min_{fid}"], demand["population"], demand["street"], cutoff_min=circle
        )
        grouped[f"share_{fid}"] = grouped.index.map(share)
    if len(centres):
        sc = centres[(centres["tier"] == street_tier) & centres["meets_standard"]]
        by_street = sc.merge(table[["name", "street"]], left_on="community", right_on="name")
        counts = by_street.groupby("street").size()
        grouped["street_centres_meeting_standard"] = grouped.index.map(counts).fillna(0).astype(int)
    else:
        grouped["street_centres_meeting_standard"] = 0
    return grouped.reset_index()


def _row(c: Any, *, what: str, area: float, how: str, reason: str) -> dict[str, Any]:
    return {
        "community": c["name"],
        "street": c["street"],
        "what": what,
        "facility_id": "",
        "floor_area_m2": area,
        "how": how,
        "reason": reason,
        "residents": float(c["population"]),
        "lon": np.nan,
        "lat": np.nan,
    }


def _recommendations(
    network: WalkNetwork,
    demand: Any,
    homes: Any,
    table: Any,
    community: dict[str, Any],
    *,
    target: float,
    per_100: float,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    per_100_note = f"{per_100:g} m² per 100 households"
    circle = community["walk_min"]
    positions = pd.Series(np.arange(len(demand)), index=demand.index)
    for _, c in table.iterrows():
        name = c["name"]
        if c["deficit_usable_m2"] > 0:
            unusable = float(c["existing_m2"] - c["usable_m2"])
            recoverable = min(unusable, float(c["deficit_usable_m2"]))
            if recoverable > 0:
                rows.append(
                    _row(
                        c,
                        what="综合服务设施面积 service floor area",
                        area=recoverable,
                        how="改建/置换 (renovate or relocate rooms that do not count)",
                        reason=(
                            f"{unusable:,.0f} m² exist but sit in basements or on high floors "
                            f"without a lift; usable {c['usable_m2']:,.0f} of "
                            f"{c['required_m2']:,.0f} m² required"
                        ),
                    )
                )
            rest = float(c["deficit_usable_m2"]) - recoverable
            if rest > 0:
                rows.append(
                    _row(
                        c,
                        what="综合服务设施面积 service floor area",
                        area=rest,
                        how=(
                            "新建、购买、项目配套或整合共享 "
                            "(new build, purchase, developer rooms, sharing)"
                        ),
                        reason=(
                            f"usable {c['usable_m2']:,.0f} of {c['required_m2']:,.0f} m² "
                            f"required ({per_100_note})"
                        ),
                    )
                )
        members = demand["community"] == name
        for f in community["facilities"]:
            fid = f["id"]
            status = c[f"status_{fid}"]
            if status not in ("missing", "partial"):
                continue
            minutes = demand.loc[members, f"walk_min_{fid}"]
            outside = members & ~(demand[f"walk_min_{fid}"] <= circle)
            pop_out = float(demand.loc[outside, "population"].sum())
            cand = homes.take(positions[members].to_numpy())
            unc = homes.take(positions[outside].to_numpy())
            best, reached = best_site(
                network, cand, unc, demand.loc[outside, "population"].to_numpy(dtype=float),
                cutoff_min=circle,
            )  # fmt: skip
            site = (
                demand.loc[members].geometry.iloc[best].representative_point()
                if best >= 0
                else None
            )
            share = c[f"share_{fid}"]
            rows.append(
                {
                    "community": name,
                    "street": c["street"],
                    "what": f"{f['name']} ({fid})",
                    "facility_id": fid,
                    "floor_area_m2": np.nan,
                    "how": "新建或整合共享 (new build or shared use)",
                    "reason": (
                        f"{share:.0%} of residents within {circle:g} min (target {target:.0%}); "
                        f"{pop_out:,.0f} residents outside; the suggested site reaches "
                        f"{reached:,.0f} of them"
                        if not np.isnan(share)
                        else "no residents located"
                    )
                    + ("" if minutes.notna().any() else "; none within reach at all"),
                    "residents": pop_out,
                    "lon": float(site.x) if site is not None else np.nan,
                    "lat": float(site.y) if site is not None else np.nan,
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "community", "street", "what", "facility_id", "floor_area_m2", "how", "reason",
            "residents", "lon", "lat",
        ],
    )  # fmt: skip
    frame = frame.sort_values("residents", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame
