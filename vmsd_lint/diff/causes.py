"""The cause of a change a field's own lines do not show: a macro it expands whose
definition changed (ASPEED_I2C_NEW_NUM_REG, VMSTATE_PCI_DEVICE).

The extraction records, for each field, a digest of its own tokens as written and the
macro definitions its expansion and evaluation used (model.Field.text, .depends).  When
a finding is at a field whose own text is the same on both sides, what changed is in one
of those definitions: the cause is the first of them, in the order the field used them,
that is defined on both sides with another body.  A field whose own text changed has no
cause: its own lines are the change, and the finding already points at them.

A QEMU maintainer reads a header change once, at the header: the reports group the
findings of one cause (report/causes.py)."""
from __future__ import annotations

from dataclasses import dataclass

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


def _definitions(field: WireField) -> dict[str, tuple[Location, str]]:
    """The field's dependencies by name: (where defined, digest of the definition)."""
    found = {}
    for entry in field.depends:
        name, origin, digest = entry.split("\t")
        file, _, line = origin.rpartition(":")
        found.setdefault(name, (Location(file, int(line)), digest))
    return found


def cause_of(old: WireField | None, new: WireField | None) -> Cause | None:
    """The changed definition behind a finding at OLD -> NEW, or None (see the module)."""
    if old is None or new is None or old.text is None or old.text != new.text:
        return None
    before = _definitions(old)
    for name, (where, digest) in _definitions(new).items():
        was = before.get(name)
        if was is not None and was[1] != digest:
            return Cause(name, was[0], where)
    return None
