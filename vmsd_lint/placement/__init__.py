"""The placement graph: who registers each piece of migration state, from which init path."""
from .contexts import placements
from .graph import build_graph

__all__ = ["build_graph", "placements"]
