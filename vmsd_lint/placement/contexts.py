"""Where each wire section is registered: its init context, found by walking the call
graph back from the registration site to the framework's entry points.

Entry points are the hooks a QOM class installs: `mc->init` of a machine (machine
init), `dc->realize` of a CPU or CPU core (CPU realize) or of another device (device
realize), and a TypeInfo's `.instance_init`.  A qdev VMSD (`dc->vmsd`) is registered by
qdev itself when the device is realized.  Several contexts reaching one site are
reported as ambiguous, never guessed.
"""
from __future__ import annotations

import re

from ..extract.calls import CallIndex, fn_node, walk_callers
from ..model import Extraction, InitContext, Placement, section_key, target_of
from ..resolve import Resolved
from .graph import type_function_edges


def placements(extraction: Extraction, calls: CallIndex | None = None) -> dict[str, list[Placement]]:
    """Every section's placements, by section name, sorted.  The walks follow the
    graph's edges (vmsd_lint.placement.graph) through a CallIndex (extract/calls.py),
    which finds them on demand instead of building the whole graph."""
    resolved = Resolved(extraction)
    calls = calls or CallIndex(extraction)
    entries = _entry_points(extraction, calls, resolved)
    result: dict[str, list[Placement]] = {}
    for reg in extraction.registrations:
        vmsd = extraction.vmsds.get(reg.vmsd) if reg.vmsd else None
        section = vmsd.name if vmsd is not None else reg.idstr
        if not section or not extraction.in_build(vmsd.file if vmsd is not None else None):
            continue
        context, reached = _context(calls, f"{reg.file}:{reg.enclosing}", entries, reg.file)
        owned = reg.function.startswith("vmstate_register") and reg.args and reg.args[0].strip() != "NULL"
        mechanism = f"{reg.function}(owner)" if owned else reg.function  # idstr prefixed with the device's path
        key = section_key(section, target_of(vmsd.file) if vmsd is not None else None)
        result.setdefault(key, []).append(Placement(
            section, mechanism, context, reg.enclosing, reached, " ".join(reg.instance_id.split()),
            reg.file, reg.line, vmsd.key if vmsd is not None else None))
    legacy = LegacyIds(extraction, calls)
    for name, qom, vmsd in resolved.sent_vmsds():
        if vmsd is None or vmsd.name is None or not extraction.in_build(vmsd.file):
            continue
        result.setdefault(section_key(vmsd.name, target_of(vmsd.file)), []).append(Placement(
            vmsd.name, "qdev", InitContext.QDEV.value, f"dc->vmsd of {name}", (), legacy.instance_id(qom), qom.file,
            qom.vmsd_line or qom.line, vmsd.key))
    return {name: _merge_qdev(sorted(found, key=lambda p: (p.mechanism, p.file, p.line, p.function)))
            for name, found in result.items()}


def place(extraction: Extraction, calls: CallIndex) -> None:
    """The placements of a linked extraction: its extractor's last tree-wide pass (the
    FINISH of extract.linking.assemble), so that they are cached with it."""
    extraction.placements = placements(extraction, calls)


LEGACY_CALL = "qdev_set_legacy_instance_id"
MAX_HOOK_DEPTH = 1  # realize -> a helper of its file: where a device sets its own legacy instance id
_SELF = re.compile(r"\w+|DEVICE\((?:dev|obj|d|s)\)")  # the device being realized, not a child it made


class LegacyIds:
    """`qdev_set_legacy_instance_id(dev, alias, version)` in a device's hooks (realize,
    instance_init and their helpers): before that version, qdev also matches the section
    by the alias instance id (migration/savevm.c), so the alias is part of its placement."""

    def __init__(self, extraction: Extraction, calls: CallIndex):
        self.x, self.calls = extraction, calls
        self._by_function: dict[str, str | None] = {}
        self._by_type: dict[str, str] = {}

    def instance_id(self, qom) -> str:
        """"qdev", or "qdev, legacy alias ..." when the type or an ancestor sets one."""
        found = self._by_type.get(qom.name)
        if found is None:
            found = self._own(qom)
            if found is None:
                parent = self.x.types.get(qom.parent) if qom.parent and qom.parent != qom.name else None
                self._by_type[qom.name] = "qdev"  # a cycle in the ancestry ends here
                found = self.instance_id(parent) if parent is not None else "qdev"
            self._by_type[qom.name] = found
        return found

    def _own(self, qom) -> str | None:
        for target, _, _ in type_function_edges(qom, self.calls.functions):
            found = self._reached(target[len("fn:"):], MAX_HOOK_DEPTH, set())
            if found:
                return f"qdev, legacy alias {found}"
        return None

    def _reached(self, key: str, depth: int, seen: set) -> str | None:
        if key in self._by_function:
            return self._by_function[key]
        fn = self.x.functions.get(key)
        if fn is None or key in seen:
            return None
        seen.add(key)
        found = next((f"{args[1]} below version {args[2]}" for callee, args, _ in fn.evaluated_calls
                      if callee == LEGACY_CALL and len(args) > 2 and _SELF.fullmatch(str(args[0]))), None)
        if found is None and depth > 0:
            for callee in fn.calls:
                target = self.x.functions.get(f"{fn.file}:{callee}")
                if target is not None and (found := self._reached(target.key, depth - 1, seen)):
                    break
        self._by_function[key] = found
        return found


def _merge_qdev(found: list[Placement]) -> list[Placement]:
    """One qdev placement per section and VMSD sent, naming every device type that installs it."""
    qdev = [p for p in found if p.mechanism == "qdev"]
    if len(qdev) <= 1:
        return found
    merged = []
    for vmsd, instance in sorted({(p.vmsd or "", p.instance_id) for p in qdev}):
        same = [p for p in qdev if (p.vmsd or "", p.instance_id) == (vmsd, instance)]
        types = ", ".join(sorted(p.function.removeprefix("dc->vmsd of ") for p in same))
        first = min(same, key=lambda p: (p.file, p.line))
        merged.append(Placement(first.section, "qdev", InitContext.QDEV.value, f"dc->vmsd of {types}", (), instance,
                                first.file, first.line, first.vmsd))
    return [p for p in found if p.mechanism != "qdev"] + merged


def _entry_points(extraction: Extraction, calls: CallIndex, resolved: Resolved) -> dict[str, InitContext]:
    """Function node -> the init context it starts (hooks installed by QOM classes)."""
    entries: dict[str, InitContext] = {}
    for qom_type, hooks in _type_hooks(extraction, calls):
        for target, kind in hooks:
            if kind == "hook:init" and resolved.is_a(qom_type, "machine"):
                entries.setdefault(target, InitContext.MACHINE_INIT)
            elif kind == "hook:realize":
                cpu = resolved.is_a(qom_type, "cpu") or resolved.is_a(qom_type, "cpu-core")
                entries.setdefault(target, InitContext.CPU_REALIZE if cpu else InitContext.DEVICE_REALIZE)
            elif kind == "instance_init":
                entries.setdefault(target, InitContext.MACHINE_INSTANCE_INIT if resolved.is_a(qom_type, "machine")
                                   else InitContext.CPU_INSTANCE_INIT if resolved.is_a(qom_type, "cpu")
                                   else InitContext.DEVICE_INSTANCE_INIT)
    return entries


def _type_hooks(extraction: Extraction, calls: CallIndex):
    """(type, [(function node, edge kind)]) per type: its edges to functions in the order
    the graph lists them (grouped by function, as networkx keeps a node's edges)."""
    for qom in extraction.types.values():
        by_target: dict[str, list[str]] = {}
        for target, kind, _ in type_function_edges(qom, calls.functions):
            by_target.setdefault(target, []).append(kind)
        yield qom.name, [(target, kind) for target, kinds in by_target.items() for kind in kinds]


def _context(calls: CallIndex, function_key: str, entries: dict[str, InitContext],
             file: str) -> tuple[str, tuple[str, ...]]:
    """Walk callers back from a function to the entry points it is reached from: the
    context as the plain string a Placement holds (the cache stores no enums)."""
    if function_key not in calls.x.functions:
        return InitContext.NOT_PARSED.value, ()
    # an entry point is where the walk stops: the framework calls it
    reached = {node: entries[node] for node in walk_callers(calls.callers_of, [fn_node(function_key)], stop=entries)
               if node in entries}
    names = tuple(sorted(calls.x.functions[n[len("fn:"):]].name for n in reached))
    contexts = sorted(set(reached.values()))
    if len(contexts) == 1:
        return contexts[0].value, names
    if contexts:
        return InitContext.ambiguous(contexts), names
    if file.startswith("migration/"):
        return InitContext.MIGRATION_CORE.value, names
    return InitContext.NO_ENTRY_POINT.value, names



