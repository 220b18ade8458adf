"""The placement graph of one endpoint (networkx): QOM types, VMSDs, functions and
registration sites, and the edges between them.

Nodes are strings with a kind prefix: `type:NAME`, `vmsd:FILE:SYMBOL`, `fn:FILE:NAME`,
`reg:FILE:LINE`.  Every node carries `kind`, `label` and, where it has one, `file`/`line`.
Edges carry `kind`: parent, vmsd, nests, subsection, class_init, instance_init,
hook:<member> (a class_init installing `dc->realize = f`), calls, registers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..extract.calls import FunctionIndex, fn_node, walk_callers
from ..model import Extraction
from ..resolve import Resolved

if TYPE_CHECKING:
    import networkx as nx


def type_node(name: str) -> str:
    return f"type:{name}"


def vmsd_node(key: str) -> str:
    return f"vmsd:{key}"


def reg_node(file: str, line: int) -> str:
    return f"reg:{file}:{line}"


def callers(graph: nx.MultiDiGraph, starts: list[str], stop=frozenset()) -> set[str]:
    """The functions `starts` and, level by level up to MAX_DEPTH (extract/calls.py), every
    function that calls them directly or transitively; a function in `stop` is kept, its
    callers not."""
    return walk_callers(lambda node: (caller for caller, _, data in graph.in_edges(node, data=True)
                                      if data["kind"] == "calls"), starts, stop)


def build_graph(extraction: Extraction) -> nx.MultiDiGraph:
    import networkx as nx  # only `vmsd-lint graph` builds the whole graph

    graph = nx.MultiDiGraph()
    resolved = Resolved(extraction)
    functions = FunctionIndex(extraction)
    _add_vmsds(graph, extraction, resolved)
    _add_functions(graph, extraction, functions)
    _add_types(graph, extraction, functions)
    _add_registrations(graph, extraction)
    return graph


def _add_vmsds(graph, extraction: Extraction, resolved: Resolved) -> None:
    for vmsd in extraction.vmsds.values():
        graph.add_node(vmsd_node(vmsd.key), kind="vmsd", label=vmsd.name or vmsd.symbol, symbol=vmsd.symbol,
                       file=vmsd.file, line=vmsd.line)
    for vmsd in extraction.vmsds.values():
        for field in vmsd.fields or ():
            nested = resolved.field_vmsd(vmsd, field)
            if nested is not None:
                graph.add_edge(vmsd_node(vmsd.key), vmsd_node(nested.key), kind="nests", field=field.name or "")
        for sub in resolved.subsections(vmsd):
            graph.add_edge(vmsd_node(vmsd.key), vmsd_node(sub.key), kind="subsection")


def _add_functions(graph, extraction: Extraction, functions: FunctionIndex) -> None:
    for fn in extraction.functions.values():
        graph.add_node(fn_node(fn.key), kind="function", label=fn.name, file=fn.file, line=fn.line)
    for fn in extraction.functions.values():
        for callee in fn.calls:
            target = functions.find(callee, fn.file)
            if target is not None and target.key != fn.key:
                graph.add_edge(fn_node(fn.key), fn_node(target.key), kind="calls")


def _add_types(graph, extraction: Extraction, functions: FunctionIndex) -> None:
    for qom in extraction.types.values():
        graph.add_node(type_node(qom.name), kind="type", label=qom.name, file=qom.file, line=qom.line,
                       abstract=qom.abstract)
    for qom in extraction.types.values():
        node = type_node(qom.name)
        if qom.parent:
            if qom.parent not in extraction.types:
                graph.add_node(type_node(qom.parent), kind="type", label=qom.parent, external=True)
            graph.add_edge(node, type_node(qom.parent), kind="parent")
        if qom.vmsd:
            graph.add_edge(node, vmsd_node(qom.vmsd), kind="vmsd", line=qom.vmsd_line or 0)
        for target, kind, line in type_function_edges(qom, functions):
            if line is None:
                graph.add_edge(node, target, kind=kind)
            else:
                graph.add_edge(node, target, kind=kind, line=line)


def type_function_edges(qom, functions: FunctionIndex):
    """(function node, kind, line or None) of the edges from a type to functions, in the
    order the graph adds them: class_init, the hooks it installs, instance_init."""
    for role in ("class_init", "instance_init"):
        fn = functions.find(getattr(qom, role), qom.file) if getattr(qom, role) else None
        if fn is None:
            continue
        yield fn_node(fn.key), role, None
        if role == "class_init":
            for member, target_name, line in fn.hooks:
                target = functions.find(target_name, fn.file)
                if target is not None:
                    yield fn_node(target.key), f"hook:{member}", line


def _add_registrations(graph, extraction: Extraction) -> None:
    for reg in extraction.registrations:
        node = reg_node(reg.file, reg.line)
        section = extraction.vmsds[reg.vmsd].name if reg.vmsd in extraction.vmsds else reg.idstr
        graph.add_node(node, kind="registration", label=f"{reg.function}({reg.instance_id})", call=reg.function,
                       instance_id=reg.instance_id, section=section or "?", file=reg.file, line=reg.line)
        enclosing = f"{reg.file}:{reg.enclosing}"
        if enclosing in extraction.functions:
            graph.add_edge(fn_node(enclosing), node, kind="registers")
        if reg.vmsd:
            graph.add_edge(node, vmsd_node(reg.vmsd), kind="registers")
