"""Device property defaults compared: `property-default-changed`.

A versioned machine type promises the same device configuration in every release, so a
property whose default changed between OLD and NEW needs a compat entry giving older
machine types the old value back.  For each property of a device type in both trees
whose default (as qdev reads it) differs, every machine type of both releases that can
hold a device of the type (or a subtype) is asked for the value each release gives it --
the default, or the last of the machine type's compat entries setting it
(placement/machines.py); one whose two values differ breaks.  A default that cannot be
evaluated on either side is not compared, nor one whose property changed type (its
PropertyInfo): QEMU 9.1 made pci-device's rombar an int32 whose -1 means what uint32 1
meant, and values of two types say nothing about each other.
"""
from __future__ import annotations

from ..extract.gates import default_value
from ..extract.machines import MachineFacts
from ..model import Location
from ..placement.machines import Verdict, common_machines, machine_value
from ..placement.wire import WireSchema
from .findings import Finding, new_finding


def property_defaults(old: MachineFacts, new: MachineFacts, old_release: str, new_schema: WireSchema) -> list[Finding]:
    """A finding per property of a device type whose default changed, with the machine
    types of both releases it breaks as its verdict (`machines.breaks`)."""
    holders = new.holders
    machines = common_machines(new, old_release)
    old_machines = {m.key: m for m in old.machines}
    children: dict[str, list[str]] = {}
    for name, parent in new.properties.parents.items():
        if parent:
            children.setdefault(parent, []).append(name)
    findings = []
    for owner, props in sorted(new.properties.own.items()):
        before = {p.name: p for p in old.properties.own.get(owner, ())}
        devices = [t for t in _subtypes(owner, children) if t in new_schema.type_sections]
        for prop in props:
            was = before.get(prop.name)
            if was is None or was.info != prop.info:
                continue  # new, or of another type: its values do not compare (rombar: uint32 1 -> int32 -1, "auto")
            old_value, new_value = default_value(was), default_value(prop)
            if old_value is None or new_value is None or old_value == new_value:
                continue
            breaks = [m.name for m in machines
                      if any((holders is None or holders.holds(m.key, device))
                             and machine_value(m, new.properties.lineage(device), prop)
                             != _old_value(old_machines.get(m.key), old, device, was, old_value)
                             for device in devices)]
            if not breaks:
                continue  # kept by compat entries, or held by no machine type of both releases
            findings.append(new_finding(
                "property-default-changed", vmsd=owner, path=f"{owner}/{prop.name}",
                args={"property": prop.name, "device": owner, "old_default": _words(old_value),
                      "new_default": _words(new_value), "release": old_release},
                old=Location(was.file, was.line), new=Location(prop.file, prop.line),
                sections=_sections(new_schema, devices), types=tuple(devices),
                machines=Verdict(tuple(dict.fromkeys(breaks)), None)))
    return findings


def _old_value(machine, old: MachineFacts, device: str, prop, default):
    """What OLD gave PROP on a DEVICE of MACHINE (OLD's machine type of that name): its
    default unless a compat entry of OLD's set it."""
    if machine is None:
        return default
    return machine_value(machine, old.properties.lineage(device), prop)


def _sections(schema: WireSchema, devices: list[str]) -> tuple[str, ...]:
    """The sections the devices send (their state may be sized by the property)."""
    keys = {entry[0] for entry in (schema.type_sections.get(d) for d in devices) if entry}
    return tuple(sorted({schema.sections[key].name for key in keys if key in schema.sections}))


def _subtypes(owner: str, children: dict[str, list[str]]) -> list[str]:
    found = [owner]
    for name in found:
        found.extend(c for c in children.get(name, ()) if c not in found)
    return sorted(found)


def _words(value: bool | int) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
