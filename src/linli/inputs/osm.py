"""Reading walkable ways from an OpenStreetMap extract (.osm.pbf or .osm XML).

Which ways a pedestrian may use follows OSM's tagging conventions (these are facts about the
data format, not policy numbers, so they live here rather than in a standards profile):

- ``highway`` is one of :data:`WALKABLE_HIGHWAYS` (footways, steps, paths, pedestrian
  streets, residential and service streets, and ordinary roads, which in Chinese cities carry
  sidewalks that OSM rarely maps apart).  Motorways, roads under construction or proposed,
  raceways and bus guideways are never walkable.
- ``foot=no`` excludes a way; so does ``access=no|private`` (and ``service=private``) unless
  ``foot`` is ``yes``, ``designated`` or ``permissive``.
- Closed ways tagged ``area=yes`` (pedestrian squares) are walked along their outline.
- ``oneway:foot=yes`` (or ``-1``, against the drawing direction) makes a way one-way for
  pedestrians; ``oneway`` alone (for vehicles) does not.
- A way that leaves the extract and comes back is cut at the missing nodes (no segment is
  invented across the gap).

For the slope model the reader keeps ``incline`` (the direction of stairs), ``bridge`` and
``tunnel`` (whose elevation is not the ground's).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from linli._errors import InputError

__all__ = [
    "WALKABLE_HIGHWAYS",
    "OsmWays",
    "read_osm_features",
    "read_osm_streets",
    "read_walkable_ways",
]

log = logging.getLogger(__name__)

WALKABLE_HIGHWAYS = frozenset(
    {
        "footway", "pedestrian", "steps", "path", "living_street", "residential", "service",
        "unclassified", "road", "track", "corridor", "bridleway", "cycleway", "elevator",
        "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
        "trunk", "trunk_link", "platform",
    }
)  # fmt: skip
"""Values of ``highway`` a pedestrian may use (unless other tags say no)."""

_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive", "official"})
_ACCESS_DENIED = frozenset({"no", "private"})
_NOT_STRUCTURE = frozenset({"no", "building_passage", "false", "0"})
_INCLINE_NUMBER = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(%|°)?\s*$")


@dataclass
class OsmWays:
    """Walkable ways read from an OSM file, as flat arrays.

    Way ``i`` runs through nodes ``node_id[way_ptr[i]:way_ptr[i+1]]`` (OSM node ids) at
    ``lon``/``lat`` (WGS-84 degrees) in the way's own direction.  An OSM way cut by the
    extract's edge appears once per located run, with the same ``way_id``.
    """

    path: Path
    way_id: NDArray[np.int64]
    way_ptr: NDArray[np.int64]
    node_id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    is_steps: NDArray[np.bool_]
    incline: NDArray[np.int8]
    """+1: the way climbs in its own direction, -1: it descends, 0: not tagged."""
    on_structure: NDArray[np.bool_]
    """Bridge or tunnel: its elevation is not the ground's."""
    oneway_foot: NDArray[np.int8]
    """+1: walkable only in the way's direction (``oneway:foot=yes``), -1: only against it
    (``oneway:foot=-1``), 0: both ways."""
    n_highway_ways: int = 0
    """Ways with any ``highway`` tag, walkable or not (for the report)."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Why highway ways were left out, and how many."""

    @property
    def n_ways(self) -> int:
        """Number of walkable ways."""
        return int(self.way_id.shape[0])


def _incline_sign(value: str | None) -> int:
    if not value:
        return 0
    v = value.strip().lower()
    if v == "up":
        return 1
    if v == "down":
        return -1
    m = _INCLINE_NUMBER.match(v)
    if m:
        number = float(m.group(1))
        return int(np.sign(number))
    return 0


def _exclusion(tags: dict[str, str]) -> str | None:
    """Why a highway way is not walkable, or None if it is."""
    highway = tags.get("highway", "")
    if highway not in WALKABLE_HIGHWAYS:
        return f"highway={highway}"
    foot = tags.get("foot", "")
    if foot == "no":
        return "foot=no"
    if foot not in _FOOT_ALLOWED:
        if tags.get("access", "") in _ACCESS_DENIED:
            return f"access={tags['access']}"
        if tags.get("service", "") == "private":
            return "service=private"
    return None


def read_walkable_ways(path: str | Path) -> OsmWays:
    """Read the ways a pedestrian may use from an OSM extract.

    Parameters
    ----------
    path : str or Path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2``/``.osm.gz`` file.

    Returns
    -------
    OsmWays

    Raises
    ------
    InputError
        The file is missing, empty, unreadable as OSM data, or has no walkable way.
    """
    import osmium

    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"{p}: expected an OpenStreetMap file (.osm.pbf or .osm); found no such file"
        )
    if p.stat().st_size == 0:
        raise InputError(
            f"{p}: expected an OpenStreetMap file (.osm.pbf or .osm); found an empty file"
        )

    way_ids: list[int] = []
    ptr: list[int] = [0]
    node_ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    steps: list[bool] = []
    incline: list[int] = []
    structure: list[bool] = []
    oneway: list[int] = []
    excluded: dict[str, int] = {}
    n_highway = 0
    missing_nodes = 0
    try:
        processor = (
            osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        way: Any
        for way in processor:
            n_highway += 1
            tags = {t.k: t.v for t in way.tags}
            reason = _exclusion(tags)
            if reason is not None:
                excluded[reason] = excluded.get(reason, 0) + 1
                continue
            # A way leaving the extract and coming back is cut into its located runs, so
            # that no segment is invented across the missing nodes.
            runs: list[tuple[list[int], list[float], list[float]]] = [([], [], [])]
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    missing_nodes += 1
                    if runs[-1][0]:
                        runs.append(([], [], []))
                    continue
                runs[-1][0].append(nd.ref)
                runs[-1][1].append(loc.lon)
                runs[-1][2].append(loc.lat)
            runs = [r for r in runs if len(r[0]) >= 2]
            if not runs:
                excluded["fewer than 2 nodes in the extract"] = (
                    excluded.get("fewer than 2 nodes in the extract", 0) + 1
                )
                continue
            highway = tags["highway"]
            is_structure = (
                tags.get("bridge", "no") not in _NOT_STRUCTURE
                or tags.get("tunnel", "no") not in _NOT_STRUCTURE
            )
            oneway_tag = tags.get("oneway:foot", "")
            direction = 1 if oneway_tag in ("yes", "1", "true") else -1 if oneway_tag == "-1" else 0
            for refs, wl, wt in runs:
                way_ids.append(way.id)
                node_ids.extend(refs)
                lons.extend(wl)
                lats.extend(wt)
                ptr.append(len(node_ids))
                steps.append(highway == "steps")
                incline.append(_incline_sign(tags.get("incline")))
                structure.append(is_structure)
                oneway.append(direction)
    except RuntimeError as exc:
        raise InputError(
            f"{p}: expected OpenStreetMap data (.osm.pbf or .osm XML); "
            f"the file cannot be read: {exc}"
        ) from exc
    if missing_nodes:
        log.warning(
            "%s: %d way nodes have no location in the extract (clipped at its edge); skipped",
            p,
            missing_nodes,
        )
    if not way_ids:
        found = (
            f"{n_highway} highway ways, none walkable ({_summary(excluded)})"
            if n_highway
            else "no ways tagged highway=* at all"
        )
        raise InputError(f"{p}: expected walkable ways (footways, steps, streets …); found {found}")
    return OsmWays(
        path=p,
        way_id=np.asarray(way_ids, dtype=np.int64),
        way_ptr=np.asarray(ptr, dtype=np.int64),
        node_id=np.asarray(node_ids, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
        is_steps=np.asarray(steps, dtype=bool),
        incline=np.asarray(incline, dtype=np.int8),
        on_structure=np.asarray(structure, dtype=bool),
        oneway_foot=np.asarray(oneway, dtype=np.int8),
        n_highway_ways=n_highway,
        excluded=excluded,
    )


def _summary(counts: dict[str, int], limit: int = 5) -> str:
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{k}: {v}" for k, v in top)


def read_osm_features(
    path: str | Path,
    *,
    keys: tuple[str, ...],
    columns: tuple[str, ...] = (),
) -> Any:
    """Read points and areas carrying any of ``keys`` from an OSM extract.

    Nodes become Points; closed ways and multipolygon relations become (Multi)Polygons
    (areas assembled by libosmium).  Open ways are skipped.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` file.
    keys : tuple of str
        OSM keys to select on, e.g. ``("building",)`` or ``("amenity", "shop")``.
    columns : tuple of str
        Tags to keep as columns (missing tags are ``None``); the selecting keys are always
        kept.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osm_type`` (``node``/``way``/``relation``), ``osm_id``, the tags, and the
        geometry, in WGS-84 (EPSG:4326).
    """
    import geopandas as gpd
    import osmium
    import shapely

    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        raise InputError(
            f"{p}: expected an OpenStreetMap file (.osm.pbf or .osm); "
            "found no such file or an empty one"
        )
    wanted = tuple(dict.fromkeys((*keys, *columns)))
    wkb = osmium.geom.WKBFactory()
    records: list[dict[str, Any]] = []
    geoms: list[Any] = []
    try:
        processor = (
            osmium.FileProcessor(str(p)).with_areas().with_filter(osmium.filter.KeyFilter(*keys))
        )
        obj: Any
        for obj in processor:
            if obj.is_node():
                if not obj.location.valid():
                    continue
                geom = shapely.Point(obj.location.lon, obj.location.lat)
                kind, oid = "node", obj.id
            elif obj.is_area():
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                except RuntimeError:  # broken ring in the extract
                    continue
                kind = "way" if obj.from_way() else "relation"
                oid = obj.orig_id()
            else:
                continue
            tags = obj.tags
            records.append({"osm_type": kind, "osm_id": oid, **{k: tags.get(k) for k in wanted}})
            geoms.append(geom)
    except RuntimeError as exc:
        raise InputError(
            f"{p}: expected OpenStreetMap data; the file cannot be read: {exc}"
        ) from exc
    frame = pd.DataFrame(records, columns=["osm_type", "osm_id", *wanted])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def read_osm_streets(path: str | Path, *, highways: tuple[str, ...] | None = None) -> Any:
    """Read OSM ways tagged ``highway`` as lines, with their type.

    The walking network (:class:`~linli.network.WalkNetwork`) keeps no highway types; this
    gives :func:`linli.population.estimate_population` the residential streets it spreads
    residents along.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf`` or ``.osm`` file.
    highways : tuple of str, optional
        Keep only these ``highway`` values (default: all).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``osm_id``, ``highway`` and LineString geometry in WGS-84 (EPSG:4326); a way
        cut by the extract's edge appears once per located run of nodes.

    Raises
    ------
    InputError
        The file is missing, empty or not OSM data.
    """
    import geopandas as gpd
    import osmium
    import shapely

    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        raise InputError(
            f"{p}: expected an OpenStreetMap file (.osm.pbf or .osm); "
            "found no such file or an empty one"
        )
    wanted = None if highways is None else frozenset(highways)
    ids: list[int] = []
    kinds: list[str] = []
    lines: list[Any] = []
    try:
        processor = (
            osmium.FileProcessor(str(p), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        way: Any
        for way in processor:
            kind = way.tags.get("highway")
            if wanted is not None and kind not in wanted:
                continue
            runs: list[list[tuple[float, float]]] = [[]]
            for nd in way.nodes:
                if not nd.location.valid():
                    if runs[-1]:
                        runs.append([])
                    continue
                runs[-1].append((nd.location.lon, nd.location.lat))
            for run in runs:
                if len(run) >= 2:
                    ids.append(way.id)
                    kinds.append(kind)
                    lines.append(shapely.LineString(run))
    except RuntimeError as exc:
        raise InputError(
            f"{p}: expected OpenStreetMap data; the file cannot be read: {exc}"
        ) from exc
    frame = {"osm_id": np.asarray(ids, dtype=np.int64), "highway": kinds}
    return gpd.GeoDataFrame(frame, geometry=lines, crs="EPSG:4326")
