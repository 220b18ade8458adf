"""Top-level sections matched by wire identity: the section name, and the QOM type that
owns a qdev section (so a type whose VMSD changed its .name is a rename, not a removal)."""
from __future__ import annotations

from ..catalogue import qemu_prints
from ..extract.gates import registration_gate
from ..model import EndpointKind, Location, Severity, section_key
from ..placement.wire import UNKNOWN_TEST, Section, WireSchema
from .engine import Differ
from .findings import BACKWARD, Finding, new_finding
from .instances import DECIMAL, fill_instance, section_instance
from .owners import owners_on_both_sides
from .placement import compare_placements
from .semantics import Pair
from .vmsds import compare_pair


def compare_sections(differ: Differ) -> None:
    old, new = differ.old, differ.new
    renamed_old, renamed_new = _renamed_sections(differ)
    for name in sorted(old.sections):
        if name in new.sections:
            _compare_section(differ, old.sections[name], new.sections[name])
        elif name not in renamed_old and _comparable(old.sections[name], old, new):
            _section_removed(differ, old.sections[name])
    for name in sorted(new.sections):
        if name not in old.sections and name not in renamed_new and _comparable(new.sections[name], new, old):
            _section_added(differ, new.sections[name])


def _comparable(section: Section, own: WireSchema, other: WireSchema) -> bool:
    """A -dump-vmstate file lists one binary's device types: a source section of a type it
    does not list (another target's device, a registration) cannot be judged against it."""
    if other.kind != EndpointKind.DUMP or own.kind == EndpointKind.DUMP:
        return True
    return any(t in other.type_sections for t in section.types)


def _compare_section(differ: Differ, old: Section, new: Section) -> None:
    """Pair the VMSDs behind one section name: through their QOM types, else by C symbol."""
    pairs: set[tuple[str, str]] = set()
    for qom_type in sorted(old.types & new.types):
        old_entry, new_entry = differ.old.type_sections[qom_type], differ.new.type_sections[qom_type]
        pairs.add((old_entry[1], new_entry[1]))
        _root(differ, old_entry[1], new_entry[1], old, qom_type)
    unpaired_old = old.vmsds - {o for o, _ in pairs}
    unpaired_new = new.vmsds - {n for _, n in pairs}
    for old_key in sorted(unpaired_old):
        match = _same_symbol(differ, old_key, unpaired_new)
        if match is None and len(unpaired_old) == len(unpaired_new) == 1:
            match = next(iter(unpaired_new))
        if match is not None:
            unpaired_new.discard(match)
            _root(differ, old_key, match, old, None)


def _root(differ: Differ, old_key: str, new_key: str, section: Section, qom_type: str | None) -> None:
    pair = Pair(differ.old.vmsds[old_key], differ.new.vmsds[new_key], "section")
    differ.root(pair, section.name, section.target, qom_type)
    compare_pair(differ, pair)


def _same_symbol(differ: Differ, old_key: str, candidates: set[str]) -> str | None:
    symbol = differ.old.vmsds[old_key].symbol
    for new_key in sorted(candidates):
        if symbol is not None and differ.new.vmsds[new_key].symbol == symbol:
            return new_key
    return None


def _renamed_sections(differ: Differ) -> tuple[set[str], set[str]]:
    """Device types that persist but now send a section with another name."""
    old, new = differ.old, differ.new
    renames: dict[tuple[str, str], set[str]] = {}
    for qom_type, old_entry in old.type_sections.items():
        new_entry = new.type_sections.get(qom_type)
        if old_entry and new_entry and old_entry[0] != new_entry[0]:
            renames.setdefault((old_entry[0], new_entry[0]), set()).add(qom_type)
    for (old_key, new_key), types in sorted(renames.items()):
        owner = "device " + ", ".join(sorted(types))
        old_section, new_section = old.sections[old_key], new.sections[new_key]
        differ.report(None, new_finding(
            "section-renamed", vmsd=new_section.name, path=new_section.name,
            args={"old_section": old_section.name, "owner": owner, "section": new_section.name},
            old=_where(old_section), new=_where(new_section),
            sections=(new_section.name,), types=tuple(sorted(types)),
            runtime_error=qemu_prints("section-renamed", "unknown-section", old_section.name,
                                      _instance(old, old_section)),
            target=new_section.target))
    return {o for o, _ in renames}, {n for _, n in renames}


def _section_removed(differ: Differ, section: Section) -> None:
    differ.report(None, new_finding(
        "section-removed", vmsd=section.name, path=section.name,
        args={"owner": section.owner, "section": section.name}, old=_where(section),
        sections=(section.name,), types=tuple(sorted(section.types)),
        runtime_error=qemu_prints("section-removed", "unknown-section", section.name, _instance(differ.old, section)),
        target=section.target,
        gates=_section_gates("old", differ.old, section)))


def _section_added(differ: Differ, section: Section) -> None:
    # a device OLD has too (its dc->vmsd, or the realize, instance_init or machine init
    # that now calls vmstate_register()): OLD cannot load it (a warning); else the rule's info
    existed = sorted(t for t in section.types if t in differ.old.type_sections) \
        or owners_on_both_sides(differ.old, differ.new, section)
    verdict = {"severity": Severity.WARNING, "directions": (BACKWARD,)} if existed else {}
    differ.report(None, new_finding(
        "section-added", **verdict, vmsd=section.name, path=section.name,
        args={"owner": section.owner, "section": section.name}, new=_where(section),
        sections=(section.name,), types=tuple(sorted(section.types)) or tuple(existed),
        runtime_error=qemu_prints("section-added", "unknown-section", section.name, _instance(differ.new, section))
        if existed else None,
        target=section.target, gates=_section_gates("new", differ.new, section)))


def _section_gates(side: str, schema: WireSchema, section: Section) -> tuple[tuple[str, str, str], ...]:
    """The .needed of a section's VMSDs: savevm.c sends it only while that returns true
    (vmstate_section_needed(), ramfb-dev's migrate_needed)."""
    found = []
    for key in sorted(section.vmsds):
        vmsd = schema.vmsds.get(key)
        if vmsd is not None and vmsd.file and vmsd.needed and vmsd.needed != UNKNOWN_TEST:
            found.append((side, vmsd.file, vmsd.needed))
    if found and len(found) == len(section.vmsds):  # every VMSD of it gated, or none
        return tuple(found)
    return _registration_gate(side, schema, section)


def _registration_gate(side: str, schema: WireSchema, section: Section) -> tuple[tuple[str, str, str], ...]:
    """The `if` around the one call registering the section (virtio-mem-device-early's
    `if (vmem->early_migration)`): it is sent only where that holds (extract/gates.py
    reads it, under registration_gate()'s key; a call under no `if` has nothing to read)."""
    placements = {(p.file, p.function, p.line) for p in (schema.placements or {}).get(
        section_key(section.name, section.target), ()) if p.mechanism != "qdev"}
    if len(placements) != 1:
        return ()
    [(path, function, line)] = placements
    return ((side, path, registration_gate(path, function, line)[len(path) + 1:]),)


def _instance(schema: WireSchema, section: Section) -> str:
    """The instance id SCHEMA sends the section with, in decimal (find_se()'s error)."""
    return fill_instance(DECIMAL, section_instance((schema,), section.name, section.target),
                         qdev_only=bool(section.types) and not section.registrations)


def _where(section: Section | None) -> Location | None:
    if section is None or section.file is None:
        return None
    return Location(section.file, section.line or 0)


NO_SENDER = ("no section this tool knows sends this VMSD (see --show-diagnostics): the change is reported "
             "without sections, at most a warning")


def compare_unreached(differ: Differ) -> None:
    """A VMSD no section sends on either side is still compared with its counterpart
    (same C symbol in the same file, else the one VMSD of that symbol and name): its
    findings have no sections, and a note says why; none is more than a warning."""
    old, new = differ.old, differ.new
    by_symbol: dict[tuple, list[str]] = {}
    for key in new.unreached:
        vmsd = new.vmsds[key]
        by_symbol.setdefault((vmsd.symbol, vmsd.name), []).append(key)
    first = len(differ.drafts)
    for key in sorted(old.unreached):
        vmsd = old.vmsds[key]
        match = key if key in new.unreached else None
        candidates = by_symbol.get((vmsd.symbol, vmsd.name), [])
        if match is None and len(candidates) == 1:
            match = candidates[0]
        if match is not None:
            compare_pair(differ, Pair(vmsd, new.vmsds[match], "section"))
    differ.drafts[first:] = [(None, f.with_(sections=(), types=(), note=NO_SENDER,
                                            severity=Severity.WARNING if f.severity == Severity.ERROR else f.severity))
                             for _, f in differ.drafts[first:]]


def compare(old: WireSchema, new: WireSchema) -> list[Finding]:
    differ = Differ(old, new)
    compare_sections(differ)
    compare_placements(differ)
    compare_unreached(differ)
    return differ.findings()
