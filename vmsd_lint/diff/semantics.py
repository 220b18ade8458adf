"""How QEMU saves and loads a VMSD (migration/vmstate.c), as three-valued logic.

True: always; False: never; None: depends on a runtime test (a `field_exists` or
`.needed` function), so a break is possible, not certain.

- Save and load apply one test (vmstate_field_exists): a field with a field_exists
  function is on the wire when it returns true; one without, when field->version_id is at
  most the version: the source's own version_id on save, the stream's on load.
- A top-level section and a subsection carry their version on the wire; a VMS_STRUCT
  nested VMSD is loaded with the destination's own version_id, a VMS_VSTRUCT with the
  destination field's struct_version_id: their version gates do not protect anything.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model import Severity
from ..placement.wire import WireField, WireVmsd
from .findings import BACKWARD, FORWARD
from .instances import HEX

Maybe = bool | None

# What the destination prints comes from the rule files (catalogue.qemu_prints); a VMSD's
# `{section}`, and the `{instance:x}` its registration sends, are filled in once the
# sections it reaches are known (engine.Differ.findings, diff/instances.py).
LOAD_FAILED = ("load-failed", HEX, "{section}")  # vmstate_load() failed: -ENOENT, a field's decoding
# A plain layout break: every field "loads", on shifted bytes, and check_section_footer()
# then finds a data byte where the footer's 0x7e should be (migration/savevm.c)
FOOTER_MISSING = ("footer-missing", "{section}")


def too_new(pair: Pair, incoming: int, local: int) -> tuple:
    """The error a too new version gives: savevm's for a section, vmstate's for a subsection."""
    if pair.level == "section":
        return ("unsupported-version", incoming, "{section}", local)
    return ("too-new", pair.new.name, incoming, local)


@dataclass(frozen=True, slots=True)
class Pair:
    """Two VMSDs at the same place on the wire, and how they are reached."""
    old: WireVmsd
    new: WireVmsd
    level: str  # "section", "subsection", "struct", "vstruct"
    old_struct_version: int | None = None  # VSTRUCT: the containing fields' struct_version_id
    new_struct_version: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.old.key, self.new.key, self.level)

    @property
    def versioned_on_wire(self) -> bool:
        return self.level in ("section", "subsection")

    def save_version(self, direction: str) -> int | None:
        """The version the source saves this VMSD with: its own (a VSTRUCT: the field's)."""
        if self.level == "vstruct":
            return self.old_struct_version if direction == FORWARD else self.new_struct_version
        return (self.old if direction == FORWARD else self.new).version_id

    def load_version(self, direction: str) -> int | None:
        """The version the destination loads this VMSD with, in a direction."""
        src, dst = (self.old, self.new) if direction == FORWARD else (self.new, self.old)
        if self.versioned_on_wire:
            return src.version_id
        if self.level == "vstruct":
            return self.new_struct_version if direction == FORWARD else self.old_struct_version
        return dst.version_id


def on_wire(field: WireField, version: int | None) -> Maybe:
    """Whether a field is saved (or loaded) at a version: vmstate_field_exists()."""
    if field.test is not None or version is None:
        return None
    return field.version_id <= version


sends = loads = on_wire


def breaks_if_differ(sent: Maybe, loaded: Maybe) -> Maybe:
    """A field the source may send and the destination may read: a break when they differ."""
    if sent is None or loaded is None:
        return None
    return sent != loaded


def verdict(breaks: dict[str, Maybe]) -> tuple[tuple[str, ...], Severity] | None:
    """(directions, severity) from per-direction break states; None when nothing breaks."""
    certain = [d for d, b in breaks.items() if b is True]
    possible = [d for d, b in breaks.items() if b is None]
    directions = tuple(sorted(certain + possible))
    if not directions:
        return None
    return directions, Severity.ERROR if certain else Severity.WARNING


def directions_of(*names: str) -> tuple[str, ...]:
    return tuple(sorted(names))


BOTH = directions_of(FORWARD, BACKWARD)
