"""The calls between the functions of an extraction, a fact of the source: which
function a name means from a file, and who calls a function.  The tree-wide linking
walks them (the buses a device's hooks create: extract/saves.py; a class_init's
helpers: extract/classes.py), and so does the placement stage (placement/contexts.py);
the placement graph (placement/graph.py) draws the same edges.

A function is named as a node of that graph, `fn:FILE:NAME` (fn_node)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from ..model import Extraction, FunctionInfo


def fn_node(key: str) -> str:
    return f"fn:{key}"


MAX_DEPTH = 16  # call levels walked back from a registration site


def walk_callers(callers_of: Callable[[str], Iterable[str]], starts: list[str],
                 stop: Iterable[str] = frozenset()) -> set[str]:
    """The nodes STARTS and, level by level up to MAX_DEPTH, every node that calls them
    directly or transitively (`callers_of(node)` gives the direct callers of a node); a
    node in STOP is kept, its callers not."""
    found: set[str] = set()
    frontier = list(starts)
    for _ in range(MAX_DEPTH):
        next_frontier: list[str] = []
        for node in frontier:
            if node in found:
                continue
            found.add(node)
            if node in stop:
                continue
            next_frontier.extend(caller for caller in callers_of(node) if caller not in found)
        frontier = next_frontier
        if not frontier:
            break
    return found


class FunctionIndex:
    """Which function a name means from a file: the file's own, else the one non-static
    definition elsewhere (preferring the endpoint's target directory)."""

    def __init__(self, extraction: Extraction):
        self.x = extraction
        self.global_by_name: dict[str, list[FunctionInfo]] = {}
        for fn in extraction.functions.values():
            if not fn.static:
                self.global_by_name.setdefault(fn.name, []).append(fn)

    def find(self, name: str, from_file: str) -> FunctionInfo | None:
        own = self.x.functions.get(f"{from_file}:{name}")
        if own is not None:
            return own
        candidates = self.global_by_name.get(name, [])
        target = self.x.target_dir
        if len(candidates) > 1 and target:
            candidates = [f for f in candidates if f.file.startswith(target)] or candidates
        return min(candidates, key=lambda f: f.file) if candidates else None


class CallIndex:
    """The `calls` edges of the placement graph without building it: the callers of a
    function are found on demand among the functions that call its name (placements
    walk back from a few hundred registration sites, not over the whole tree)."""

    def __init__(self, extraction: Extraction):
        self.x = extraction
        self.functions = FunctionIndex(extraction)
        self.by_callee: dict[str, list[FunctionInfo]] = {}
        for fn in extraction.functions.values():
            for callee in fn.calls:
                self.by_callee.setdefault(callee, []).append(fn)

    def callers_of(self, node: str) -> list[str]:
        fn = self.x.functions.get(node[len("fn:"):])
        if fn is None:
            return []
        return [fn_node(caller.key) for caller in self.by_callee.get(fn.name, ())
                if caller.key != fn.key and self.functions.find(fn.name, caller.file) is fn]
