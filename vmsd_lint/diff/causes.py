"""The cause of a change a field's own lines do not show: a macro it expands or an enum
constant it reads whose definition changed (ASPEED_I2C_NEW_NUM_REG, VMSTATE_PCI_DEVICE,
CMT_CH).

The extraction records, for each field, a digest of its own tokens as written and the
macro and enum constant definitions its expansion and evaluation used (model.Field.text,
.depends).  When
a finding is at a field whose own text is the same on both sides, what changed is in one
of those definitions: the cause is the first of them, in the order the field used them,
that is defined on both sides with another body, and its place is the first line of that
definition that differs (a line of a long #define such as VMSTATE_PCI_DEVICE).  A field whose own text changed has no
cause: its own lines are the change, and the finding already points at them.

A QEMU maintainer reads a header change once, at the header: the reports group the
findings of one cause (report/causes.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..model import Location
from ..placement.wire import WireField


@dataclass(frozen=True, slots=True)
class Cause:
    symbol: str
    old: Location | None
    new: Location | None

    @property
    def location(self) -> Location | None:
        """Where the change is to be read: in NEW (OLD when NEW has no definition)."""
        return self.new or self.old


class _Definition(NamedTuple):
    where: Location  # the #define's line
    digest: str  # of its parameters and body
    lines: list[str]  # a digest of each of its lines


def _definitions(field: WireField) -> dict[str, _Definition]:
    """The field's dependencies by name (extract/context.py's TreeIndex.definition)."""
    found = {}
    for entry in field.depends:
        name, origin, digest, lines = entry.split("\t")
        file, _, line = origin.rpartition(":")
        found.setdefault(name, _Definition(Location(file, int(line)), digest, lines.split(",")))
    return found


def cause_of(old: WireField | None, new: WireField | None) -> Cause | None:
    """The changed definition behind a finding at OLD -> NEW, or None (see the module)."""
    if old is None or new is None or old.text is None or old.text != new.text:
        return None
    before = _definitions(old)
    for name, now in _definitions(new).items():
        was = before.get(name)
        if was is not None and was.digest != now.digest:
            first = _first_change(was.lines, now.lines)
            return Cause(name, _line(was, first), _line(now, first))
    return None


def _first_change(old: list[str], new: list[str]) -> int:
    """The index of the first line of a definition that differs between OLD and NEW."""
    for index, (a, b) in enumerate(zip(old, new)):
        if a != b:
            return index
    return min(len(old), len(new))


def _line(definition: _Definition, offset: int) -> Location:
    """The line OFFSET lines into DEFINITION (its last one at most)."""
    where = definition.where
    return Location(where.file, where.line + min(offset, len(definition.lines) - 1))
