"""Accessibility: walking minutes within a cutoff, nearest destinations, isochrones."""

from linli.access.engine import WalkMatrix, minutes_within
from linli.access.graph import Graph

__all__ = ["Graph", "WalkMatrix", "minutes_within"]
