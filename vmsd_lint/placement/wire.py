"""The wire schema of one endpoint: what each migration section puts on the wire.

It is the common ground of every endpoint kind: a source extraction (or a snapshot of
one) gives everything; a `-dump-vmstate` file gives less (no hooks, no test names, no
registrations), and `precise` says so.  The diff compares two of these, never the C.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model import (
    HAND_WRITTEN,
    VARIABLE_COUNT,
    Diagnostic,
    EndpointKind,
    Extraction,
    Field,
    Placement,
    Vmsd,
    section_key,
    target_of,
)
from ..resolve import Resolved

if TYPE_CHECKING:
    from ..extract.build import TargetBuild
    from .machines import MachineSource

UNKNOWN_TEST = "?"  # a -dump-vmstate file says a field has a test, not which


@dataclass(frozen=True, slots=True)
class WireField:
    name: str
    line: int | None
    macro: str | None
    version_id: int  # load gate: read when no test and version_id <= stream version
    test: str | None  # field_exists function (UNKNOWN_TEST from a dump)
    size: int | None  # bytes of one element (None: could not be resolved)
    count: int | str | None  # fixed element count, "variable" (VARRAY/VBUFFER), None for one
    kind: str  # "data", "struct", "vstruct", "unused", "check" (VALIDATE: nothing on the wire)
    info: str | None  # vmstate_info_* symbol, None when unknown
    nested: str | None  # key of the nested VMSD (struct kinds)
    struct_version_id: int | None = None
    unresolved: tuple[str, ...] = ()
    num_field: str | None = None  # the member holding a VARRAY's count or a VBUFFER's size
    flags: tuple[str, ...] = ()  # VMS_* (a source endpoint's; a dump has none)
    # Field.text and Field.depends: what names a cause (diff/causes.py), not compared
    text: str | None = field(default=None, compare=False)
    depends: tuple[str, ...] = field(default=(), compare=False)  # Definitions.entries

    @property
    def on_wire(self) -> bool:
        return self.kind != "check"

    @property
    def is_equal_check(self) -> bool:
        return bool(self.info) and self.info.endswith("_equal")


@dataclass(frozen=True, slots=True)
class WireVmsd:
    key: str  # unique within its schema
    name: str | None
    symbol: str | None
    file: str | None
    line: int | None
    version_id: int | None
    minimum_version_id: int | None
    fields: tuple[WireField, ...]
    subsections: tuple[str, ...]  # keys
    needed: str | None  # the .needed function; UNKNOWN_TEST when the endpoint cannot say
    unmigratable: bool | None = False  # None: the endpoint cannot say (a dump)
    # the bytes a function writes by hand (extract/saves.py): its name is the function's,
    # not on the wire, so it is compared by its shape (diff/layout.py)
    hand_written: bool = False


@dataclass(slots=True)
class Section:
    """A top-level wire section: a qdev VMSD or a registration outside qdev.  Not frozen:
    each qdev type and registration that sends it adds itself (from_extraction)."""
    name: str
    target: str | None = None  # the target whose own section it is (a CPU): target/<target>/
    vmsds: set[str] = field(default_factory=set)  # keys; empty for register_savevm_live handlers
    types: set[str] = field(default_factory=set)  # QOM types whose dc->vmsd it is
    registrations: list[str] = field(default_factory=list)  # "vmstate_register() in f (file:line)"
    file: str | None = None
    line: int | None = None
    version: int | None = None  # register_savevm_live(): the version its handlers save and load
    # the files whose code puts the section on the wire: each type's (its TypeInfo) and
    # each registration's; a binary compiling one of them sends the section
    files: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return section_key(self.name, self.target)

    @property
    def label(self) -> str:
        """The name, with the target where the section is a target's own: `cpu [arm]`."""
        return f"{self.name} [{self.target}]" if self.target else self.name

    @property
    def owner(self) -> str:
        if self.types:
            names = sorted(self.types)
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            return "device " + ", ".join(names[:3]) + more
        if self.registrations:
            return self.registrations[0]
        return "unknown owner"


@dataclass(slots=True)
class WireSchema:
    """Not frozen: built section by section (from_extraction, jsonfiles), then only read."""
    label: str
    commit: str | None
    kind: EndpointKind
    vmsds: dict[str, WireVmsd] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    # every concrete device type -> (section name, VMSD key), or None when it has no VMSD
    type_sections: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    counts_known: bool = True  # False for a dump from before QEMU 8.0 (no "num")
    placements: dict[str, list[Placement]] | None = None  # None: unknown (a dump)
    notes: list[str] = field(default_factory=list)  # what this endpoint cannot tell
    unreached: set[str] = field(default_factory=set)  # keys of VMSDs with fields no section sends
    # target -> what its binary compiles (extract/build), None when unknown (a dump, a tree
    # without meson.build); with --target, that target's only
    builds: dict[str, TargetBuild] | None = None
    # the versioned machine types, compat properties and device holders of a source
    # endpoint, computed when first asked (placement/machines.py); None for a dump
    machines: MachineSource | None = None

    @property
    def precise(self) -> bool:
        """False for -dump-vmstate input: no hooks, test names, infos or registrations."""
        return self.kind != EndpointKind.DUMP

    def section(self, name: str, target: str | None = None) -> Section:
        key = section_key(name, target)
        if key not in self.sections:
            self.sections[key] = Section(name, target)
        return self.sections[key]


# -- from a source extraction -------------------------------------------------------------

def from_extraction(extraction: Extraction, kind: EndpointKind = EndpointKind.SOURCE,
                    expand: bool = True) -> WireSchema:
    """EXPAND: what each type's section sends, hand-written fields included (extract.saves);
    without it, each type's dc->vmsd as declared, which is all a -dump-vmstate file shows."""
    resolved = Resolved(extraction)
    schema = WireSchema(extraction.endpoint, extraction.commit, kind,
                        diagnostics=[d for d in extraction.diagnostics if extraction.in_build(d.file)],
                        placements=extraction.placements)
    for vmsd in extraction.vmsds.values():
        schema.vmsds[vmsd.key] = _wire_vmsd(resolved, vmsd)
    _add_qdev_sections(schema, resolved, expand)
    _add_registered_sections(schema, extraction)
    if extraction.built is not None and schema.placements is not None:  # only what the binary has
        schema.placements = {key: found for key, found in schema.placements.items() if key in schema.sections}
    schema.unreached = {v.key for v in resolved.unreached()}
    return schema


def _wire_vmsd(resolved: Resolved, vmsd: Vmsd) -> WireVmsd:
    subsections = tuple(sub.key for sub in resolved.subsections(vmsd))
    fields = tuple(_wire_field(resolved, vmsd, f) for f in vmsd.fields or ())
    return WireVmsd(vmsd.key, vmsd.name, vmsd.symbol, vmsd.file, vmsd.line, vmsd.version_id,
                    vmsd.minimum_version_id, fields, subsections, vmsd.hooks.get("needed"),
                    vmsd.unmigratable, hand_written=(vmsd.synthetic or "").startswith(HAND_WRITTEN))


def _wire_field(resolved: Resolved, owner: Vmsd, f: Field) -> WireField:
    flags = set(f.flags)
    nested = resolved.field_vmsd(owner, f)
    if "VMS_MUST_EXIST" in flags and not f.info and nested is None:
        kind = "check"
    elif nested is not None or flags & {"VMS_STRUCT", "VMS_VSTRUCT"}:
        kind = "vstruct" if "VMS_VSTRUCT" in flags else "struct"  # QTAILQ/GTREE too: a list of structs
    elif f.info == "vmstate_info_unused_buffer":
        kind = "unused"
    else:
        kind = "data"
    if flags & VARIABLE_COUNT or f.info in ("vmstate_info_qtailq", "vmstate_info_gtree"):
        count: int | str | None = "variable"
    elif "VMS_ARRAY" in flags:
        count = f.num
    else:
        count = None
    return WireField(f.name or "", f.line, f.macro, f.version_id or 0, f.field_exists, f.size, count,
                     kind, f.info, nested.key if nested else None, f.struct_version_id, f.unresolved,
                     f.num_field, tuple(f.flags), f.text, f.depends.entries if f.depends else ())


def _add_qdev_sections(schema: WireSchema, resolved: Resolved, expand: bool) -> None:
    extraction = resolved.x
    for name, _, vmsd in resolved.sent_vmsds() if expand else resolved.device_vmsds():
        if vmsd is None or vmsd.name is None or not extraction.in_build(vmsd.file):
            schema.type_sections[name] = None
            continue
        section = schema.section(vmsd.name, target_of(vmsd.file))
        schema.type_sections[name] = (section.key, vmsd.key)
        section.vmsds.add(vmsd.key)
        section.types.add(name)
        section.files.add(extraction.types[name].file)
        if section.file is None:
            section.file, section.line = vmsd.file, vmsd.line


def _add_registered_sections(schema: WireSchema, extraction: Extraction) -> None:
    for reg in extraction.registrations:
        vmsd = extraction.vmsds.get(reg.vmsd) if reg.vmsd else None
        name = vmsd.name if vmsd is not None else reg.idstr
        if not name or not extraction.in_build(vmsd.file if vmsd is not None else None) \
                or not extraction.in_build(reg.file):
            continue  # the extractor already reported what it could not resolve
        section = schema.section(name, target_of(vmsd.file) if vmsd is not None else None)
        if vmsd is not None:
            section.vmsds.add(vmsd.key)
        elif reg.version is not None:
            section.version = reg.version
        section.registrations.append(f"{reg.function}() in {reg.enclosing} ({reg.file}:{reg.line})")
        section.files.add(reg.file)
        if section.file is None:
            section.file, section.line = reg.file, reg.line
