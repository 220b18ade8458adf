"""The placement graph: who registers each piece of migration state, from which init path."""
from .build import build_graph
from .placement import Placement, placements

__all__ = ["Placement", "build_graph", "placements"]
