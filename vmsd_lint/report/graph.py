"""The placement graph out: the neighbourhood of one name (--focus), as DOT, GraphML or JSON."""
from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from ..errors import InputError
from ..model import Extraction
from ..placement.graph import callers

if TYPE_CHECKING:
    import networkx as nx

MAX_INSTALLERS = 3  # QOM types shown per entry point (spapr has a dozen CPU core models)
SHAPES = {"type": "box", "vmsd": "note", "function": "ellipse", "registration": "diamond"}


def annotate(graph: nx.MultiDiGraph, extraction: Extraction) -> None:
    """Registration nodes learn their init context (from the extraction's placements)."""
    for found in extraction.placements.values():
        for placement in found:
            node = f"reg:{placement.file}:{placement.line}"
            if node in graph:
                graph.nodes[node]["context"] = placement.context
                graph.nodes[node]["label"] = (f"{graph.nodes[node]['call']}({placement.instance_id})\n"
                                              f"{placement.context}")


def focus(graph: nx.MultiDiGraph, names: list[str]) -> nx.MultiDiGraph:
    """The nodes named, their neighbours, and the init paths of the registrations among
    them: the callers back to the entry points and the types that install those."""
    starts = []
    for name in names:
        found = _named(graph, name)
        if not found:
            raise InputError(f"no type, VMSD, function or section named '{name}' in the graph")
        starts += found
    keep = set(starts)
    for node in starts:
        keep.update(graph.predecessors(node))
        keep.update(graph.successors(node))
    for node in [n for n in keep if graph.nodes[n].get("kind") == "registration"]:
        keep.update(_init_path(graph, node))
    return graph.subgraph(keep).copy()


def _named(graph, name: str) -> list[str]:
    exact = [n for n, d in graph.nodes(data=True)
             if name in (d.get("label"), d.get("symbol"), d.get("section")) or n == name]
    if exact:
        return sorted(exact)
    return sorted(n for n, d in graph.nodes(data=True) if str(d.get("symbol") or "").endswith(name))


def _init_path(graph, registration: str) -> set[str]:
    """The function that registers, its callers up to the entry points, and their hooks' types."""
    registering = [u for u, _, d in graph.in_edges(registration, data=True) if d["kind"] == "registers"]
    found = callers(graph, registering)
    for node in list(found):
        installers = sorted(caller for caller, _, data in graph.in_edges(node, data=True)
                            if data["kind"].startswith("hook:") or data["kind"] == "instance_init")
        found.update(installers[:MAX_INSTALLERS])  # the QOM types that install this entry point
    return found


def to_dot(graph: nx.MultiDiGraph) -> str:
    lines = ["digraph vmsd_lint {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node, data in sorted(graph.nodes(data=True)):
        label = data.get("label", node)
        if data.get("file"):
            label += f"\n{data['file']}:{data.get('line', 0)}"
        lines.append(f"  {_quote(node)} [shape={SHAPES.get(data.get('kind'), 'plaintext')}, label={_quote(label)}];")
    for source, target, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1], e[2]["kind"])):
        lines.append(f"  {_quote(source)} -> {_quote(target)} [label={_quote(data['kind'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: nx.MultiDiGraph) -> str:
    import networkx as nx  # only `vmsd-lint graph` needs it: 0.16 s to import

    buffer = io.BytesIO()
    nx.write_graphml(_sorted_copy(graph), buffer)
    return buffer.getvalue().decode()


def to_json(graph: nx.MultiDiGraph) -> str:
    import networkx as nx  # only `vmsd-lint graph` needs it: 0.16 s to import

    data = nx.node_link_data(_sorted_copy(graph), edges="edges")
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _sorted_copy(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The same graph with nodes and edges inserted in sorted order: deterministic output."""
    copy = type(graph)()
    for node, data in sorted(graph.nodes(data=True)):
        copy.add_node(node, **data)
    for source, target, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1], sorted(e[2].items()))):
        copy.add_edge(source, target, **data)
    return copy


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
