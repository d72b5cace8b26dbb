"""Getting the audit's inputs ready from what the user has (and OSM for the rest).

- :func:`facilities_from_osm`: facilities the standard names, as far as OSM tags tell
  (floor areas unknown, marked ``source = "osm"``);
- :func:`demand_from_osm`: homes and residents from OSM buildings, scaled to a total
  (see :mod:`linli.population`);
- :func:`derive_zones`: community and street zones when no boundaries are given: residents
  grouped into zones of about the standard's population by weighted k-means, then Voronoi
  polygons of the groups' centres clipped to the study area; outputs say they are derived.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli._errors import InputError
from linli.inputs.osm import read_osm_features
from linli.standards import Profile

__all__ = [
    "colocation_places",
    "demand_from_osm",
    "derive_zones",
    "facilities_from_osm",
    "weighted_kmeans",
]

log = logging.getLogger(__name__)


def facilities_from_osm(osm: str | Path, profile: Profile, *, area: Any = None) -> Any:
    """The standard's facility types found in OSM, as points (WGS-84).

    Each OSM feature takes the first facility type (highest tier first) whose OSM tags it
    carries.  Floor area, floor and lift are unknown (NaN / missing).
    """
    types = profile.facility_types()
    keys = sorted({k for f in types for k, _ in f.osm})
    if not keys:
        return _empty_facilities()
    feats = read_osm_features(osm, keys=tuple(keys), columns=("name",))
    if area is not None:
        feats = feats[feats.geometry.representative_point().within(area)]
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for _, feat in feats.iterrows():
        tags = {k: feat[k] for k in keys if isinstance(feat.get(k), str)}
        match = next((f for f in types if f.matches_osm(tags)), None)
        if match is None:
            continue
        rows.append(
            {
                "facility_id": match.id,
                "facility_name": match.name,
                "name": feat.get("name"),
                "floor_area_m2": np.nan,
                "source": "osm",
                "osm_id": f"{feat['osm_type']}/{feat['osm_id']}",
            }
        )
        geoms.append(feat.geometry.representative_point())
    if not rows:
        return _empty_facilities()
    import geopandas as gpd

    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def colocation_places(osm: str | Path, profile: Profile, *, area: Any = None) -> Any:
    """Places of the profile's co-location categories (education, transport, …) from OSM.

    Returns points (WGS-84) with ``category`` (the category id); a place matching several
    categories appears once per category.  None if the profile has no co-location rule.
    """
    import geopandas as gpd

    rule = profile.colocation
    if rule is None:
        return None
    keys = sorted({k for cat in rule.categories for k, _ in cat.osm})
    feats = read_osm_features(osm, keys=tuple(keys), columns=("name",))
    if area is not None:
        feats = feats[feats.geometry.representative_point().within(area)]
    frames = []
    for cat in rule.categories:
        mask = [
            cat.matches_osm({k: row[k] for k in keys if isinstance(row[k], str)})
            for _, row in feats[keys].iterrows()
        ]
        part = feats.loc[mask, ["osm_type", "osm_id", "name", "geometry"]].copy()
        part["category"] = cat.id
        frames.append(part)
    places = pd.concat(frames, ignore_index=True) if frames else feats.iloc[:0]
    places = gpd.GeoDataFrame(places, geometry="geometry", crs="EPSG:4326")
    return places.set_geometry(places.geometry.representative_point())


def _empty_facilities() -> Any:
    import geopandas as gpd

    cols = ["facility_id", "facility_name", "name", "floor_area_m2", "source", "osm_id"]
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")


def demand_from_osm(
    osm: str | Path,
    *,
    total_population: float,
    profile: Profile,
    network: Any,
    area: Any = None,
) -> tuple[Any, Any]:
    """Homes and residents from an OSM extract, scaled to ``total_population``.

    Returns ``(demand, PopulationReport)``; see :func:`linli.population.estimate_population`.
    """
    from linli.inputs.osm import read_osm_streets
    from linli.population import NON_RESIDENTIAL_KEYS, EstimateDefaults, estimate_population

    columns = ("building:levels", "height", "building:use", *NON_RESIDENTIAL_KEYS)
    buildings = read_osm_features(osm, keys=("building",), columns=columns)
    landuse = read_osm_features(osm, keys=("landuse",), columns=("amenity",))
    landuse = landuse[landuse.geom_type.isin(["Polygon", "MultiPolygon"])]
    streets = read_osm_streets(osm)
    defaults = EstimateDefaults.from_profile(profile)
    pop = profile.population
    if pop is None:
        raise InputError(
            f"standards profile {profile.id}: expected a [population] table with "
            "persons_per_household; found none"
        )
    return estimate_population(
        buildings,
        total_population=total_population,
        persons_per_household=pop.persons_per_household,
        landuse=landuse if len(landuse) else None,
        streets=streets,
        area=area,
        min_buildings=defaults.min_buildings,
        min_home_footprint_m2=defaults.min_home_footprint_m2,
        default_levels=defaults.default_levels,
        metres_per_level=defaults.metres_per_level,
        street_spacing_m=defaults.street_spacing_m,
        cell_m=defaults.cell_m,
        min_mapped_cover=defaults.min_mapped_cover,
        min_mapped_share=defaults.min_mapped_share,
    )


def weighted_kmeans(
    x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64], *, k: int, seed: int = 0
) -> NDArray[np.int64]:
    """Group weighted points into ``k`` clusters (Lloyd's iterations, k-means++ start, seeded)."""
    n = x.shape[0]
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    pts = np.column_stack([x, y])
    weights = np.where(w > 0, w, 0.0) + 1e-12
    centres = [pts[rng.choice(n, p=weights / weights.sum())]]
    for _ in range(1, k):
        d2 = np.min([((pts - c) ** 2).sum(axis=1) for c in centres], axis=0) * weights
        centres.append(
            pts[rng.choice(n, p=d2 / d2.sum())] if d2.sum() > 0 else pts[rng.integers(n)]
        )
    c = np.array(centres)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(50):
        d2 = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = np.argmin(d2, axis=1).astype(np.int64)
        for j in range(k):
            mask = new == j
            if mask.any():
                c[j] = np.average(pts[mask], axis=0, weights=weights[mask])
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def derive_zones(
    demand: Any,
    *,
    area: Any,
    residents_per_zone: float,
    residents_per_street: float,
    seed: int = 0,
) -> Any:
    """Community and street zones from where residents live, when no boundaries are given.

    Residents are grouped into ``ceil(total / residents_per_zone)`` zones by population-
    weighted k-means on their homes (local metres); each zone is the Voronoi cell of its
    group's centre, clipped to ``area``.  Zones are then grouped the same way into streets of
    about ``residents_per_street``.  Names are 派生社区-NN / 派生街道-N ("derived"); column
    ``derived`` is True.

    Returns
    -------
    GeoDataFrame
        ``name``, ``street``, ``district`` ("—"), ``derived``, polygons in WGS-84.
    """
    import geopandas as gpd

    from linli.inputs.crs import local_metric_crs
    from linli.population import zones_from_points

    pts = demand.geometry.representative_point()
    crs = local_metric_crs(pts.x.to_numpy(), pts.y.to_numpy())
    metric = pts.to_crs(crs)
    w = demand["population"].to_numpy(dtype=np.float64)
    total = float(w.sum())
    k = max(1, math.ceil(total / residents_per_zone))
    labels = weighted_kmeans(metric.x.to_numpy(), metric.y.to_numpy(), w, k=k, seed=seed)
    centres = pd.DataFrame(
        {"x": metric.x.to_numpy(), "y": metric.y.to_numpy(), "w": w, "g": labels}
    )
    centres["wx"] = centres["x"] * (centres["w"] + 1e-12)
    centres["wy"] = centres["y"] * (centres["w"] + 1e-12)
    centres["wt"] = centres["w"] + 1e-12
    sums = centres.groupby("g")[["wx", "wy", "wt", "w"]].sum()
    grouped = pd.DataFrame(
        {
            "x": sums["wx"] / sums["wt"],
            "y": sums["wy"] / sums["wt"],
            "population": sums["w"],
        }
    )
    points = gpd.GeoDataFrame(
        {"population": grouped["population"].to_numpy()},
        geometry=gpd.points_from_xy(grouped["x"], grouped["y"]),
        crs=crs,
    )
    s = max(1, math.ceil(total / residents_per_street))
    street_of = weighted_kmeans(
        grouped["x"].to_numpy(),
        grouped["y"].to_numpy(),
        grouped["population"].to_numpy(),
        k=s,
        seed=seed,
    )
    points["name"] = [f"派生社区-{i + 1:02d}" for i in range(len(points))]
    points["street"] = [f"派生街道-{j + 1}" for j in street_of]
    points["district"] = "—"
    zones = zones_from_points(points, area=area)
    zones["derived"] = True
    return zones[["name", "street", "district", "derived", "geometry"]]
