"""Tiny hand-made OpenStreetMap files for tests.

:func:`write_osm` writes an ``.osm`` XML file from a list of nodes and ways.  Networks are
easiest to lay out in metres: :func:`lonlat` turns UTM zone 48N coordinates (the zone of
central Chongqing, where linli's network builder projects such data) into the longitude and
latitude written to the file, and :func:`utm` turns them back, so a test can compute expected
lengths independently of the code under test.

Coordinates are written with 7 decimals, the precision OSM (and osmium) store, so that what a
test writes is exactly what the reader reads.

Example
-------
>>> nodes = [(1, *lonlat(648_000.0, 3_270_000.0)), (2, *lonlat(648_100.0, 3_270_000.0))]
>>> ways = [(10, [1, 2], {"highway": "footway"})]
>>> path = write_osm(tmp_path / "one.osm", nodes, ways)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import numpy.typing as npt
import pyproj

UTM48N = "EPSG:32648"
"""The metric CRS linli chooses for data in central Chongqing."""

ORIGIN_M = (648_000.0, 3_270_000.0)
"""A point in Yuzhong (UTM 48N metres), a convenient origin for hand-made networks."""

_TO_LONLAT = pyproj.Transformer.from_crs(UTM48N, "EPSG:4326", always_xy=True)
_TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", UTM48N, always_xy=True)

Node = tuple[int, float, float]
"""``(id, lon, lat)``."""
Way = tuple[int, Sequence[int], Mapping[str, str]]
"""``(id, node ids, tags)``."""


def lonlat(x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (rounded to OSM's 7 decimals) of UTM 48N points."""
    lon, lat = _TO_LONLAT.transform(np.asarray(x_m, float), np.asarray(y_m, float))
    return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)


def utm(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """UTM 48N metres of longitude/latitude points."""
    x, y = _TO_UTM.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def nodes_at(
    xy_m: Mapping[int, tuple[float, float]], *, origin_m: tuple[float, float] = ORIGIN_M
) -> list[Node]:
    """Nodes from ``{id: (dx, dy)}`` offsets in metres east and north of ``origin_m``."""
    ids = list(xy_m)
    dx = np.array([xy_m[i][0] for i in ids], dtype=float)
    dy = np.array([xy_m[i][1] for i in ids], dtype=float)
    lon, lat = lonlat(origin_m[0] + dx, origin_m[1] + dy)
    return [(i, float(a), float(b)) for i, a, b in zip(ids, lon, lat, strict=True)]


def write_osm(
    path: str | Path,
    nodes: Iterable[Node],
    ways: Iterable[Way],
    *,
    node_tags: Mapping[int, Mapping[str, str]] | None = None,
) -> Path:
    """Write an OSM XML file with the given nodes and ways; return its path.

    Parameters
    ----------
    path : str or Path
        The file to write (use an ``.osm`` suffix: osmium picks the format from it).
    nodes : iterable of (id, lon, lat)
        Node ids and WGS-84 coordinates in degrees.
    ways : iterable of (id, node ids, tags)
        Way ids, their node ids in order, and their tags (a mapping of str to str).
    node_tags : mapping of node id to tags, optional
        Tags of tagged nodes (points of interest).
    """
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="linli tests">',
    ]
    for node_id, lon, lat in nodes:
        head = f'  <node id="{int(node_id)}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        tags = (node_tags or {}).get(int(node_id), {})
        if not tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </node>")
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{int(way_id)}" version="1">')
        lines.extend(f'    <nd ref="{int(ref)}"/>' for ref in refs)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p
