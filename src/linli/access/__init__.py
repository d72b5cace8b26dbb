"""Accessibility: walking minutes within a cutoff, nearest destinations, isochrones.

The node-level engine (:func:`minutes_within`) works on any :class:`~linli.network.Graph`;
the point-level functions attach points to a :class:`~linli.network.WalkNetwork` first.
"""

from linli.access.engine import WalkMatrix, minutes_within
from linli.access.points import nearest_destination, walk_minutes_within
from linli.network.graph import Graph

__all__ = ["Graph", "WalkMatrix", "minutes_within", "nearest_destination", "walk_minutes_within"]
