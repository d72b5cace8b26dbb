"""Walking networks: built from OSM, timed with stairs and slope, points attached to them."""

from linli.network.build import NetworkReport, WalkNetwork, walk_network_from_osm
from linli.network.graph import Graph
from linli.network.snap import Attachment, attach_points

__all__ = [
    "Attachment",
    "Graph",
    "NetworkReport",
    "WalkNetwork",
    "attach_points",
    "walk_network_from_osm",
]
