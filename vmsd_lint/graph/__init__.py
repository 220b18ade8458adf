"""The placement graph: who registers each piece of migration state, from which init path."""
from .build import build_graph
from .placement import placements

__all__ = ["build_graph", "placements"]
