"""Whose section a vmstate_register() registration is: the QOM types (devices, CPUs,
machines) whose hooks start the init path that reaches it (Placement.entries: the realize,
instance_init or machine init functions the walk back from the call reached).

A section NEW registers from the realize of a device OLD also has is sent by every VM
with that device, and OLD has nothing to load it into ("Unknown savevm section or
instance"): a backward break, as for a qdev type that gains a dc->vmsd. A section of a
type OLD does not have cannot come from a VM OLD can run.
"""
from __future__ import annotations

from ..extract.calls import FunctionIndex
from ..model import Extraction, Placement, context_owner, section_key
from ..placement.graph import type_function_edges
from ..placement.wire import Section, WireSchema

OWNING = ("device", "CPU", "machine")  # init paths of a QOM type; not the migration core's own


def owners_on_both_sides(old: WireSchema, new: WireSchema, section: Section) -> list[str]:
    """The QOM types on both sides whose init paths register SECTION in NEW (registration
    calls only: a qdev section's types are its own); [] when a side has no source."""
    old_x, new_x = _extraction(old), _extraction(new)
    placements = (new.placements or {}).get(section_key(section.name, section.target), [])
    entries = {name for p in placements if _registered_by_a_type(p) for name in p.entries}
    if old_x is None or new_x is None or not entries:
        return []
    return sorted(t for t in _types_entered_by(new_x, entries) if t in old_x.types)


def _registered_by_a_type(placement: Placement) -> bool:
    return placement.mechanism != "qdev" and context_owner(placement.context) in OWNING


def _extraction(schema: WireSchema) -> Extraction | None:
    return schema.machines.extraction if schema.machines is not None else None


def _types_entered_by(extraction: Extraction, entries: set[str]) -> set[str]:
    """The types whose class_init installs one of ENTRIES as a hook, or whose instance_init
    is one of them."""
    functions = FunctionIndex(extraction)
    found = set()
    for qom in extraction.types.values():
        for node, kind, _ in type_function_edges(qom, functions):
            if kind != "class_init" and node.rpartition(":")[2] in entries:
                found.add(qom.name)
                break
    return found
