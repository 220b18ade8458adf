"""The instance id a section's header carries, as its registrations say, for the lines
QEMU prints: "error while loading state for instance 0x%x of device '%s'" (hex) and
"Unknown savevm section or instance '%s' %u" (decimal).

A detector writes `{instance}` or `{instance:x}` where the id goes (semantics.LOAD_FAILED);
engine.Differ.findings() fills it in once the finding's section is known, as it does
`{section}`.  migration/savevm.c: vmstate_register_with_alias_id() numbers an
VMSTATE_INSTANCE_ID_ANY registration -- qdev's dc->vmsd always is one -- from 0 among the
sections of its idstr (calculate_new_instance_id()); a constant is sent as it is; any other
expression (cpu->cpu_index, tcet->liobn) is known only at run time and is shown as
`<expression>`.
"""
from __future__ import annotations

from ..model import Placement, section_key
from ..placement.wire import WireSchema

ANY = "VMSTATE_INSTANCE_ID_ANY"
DECIMAL, HEX = "{instance}", "{instance:x}"


def instance_id(placement: Placement) -> int | str:
    """The id the first instance of a registration is sent with, or `<expression>`."""
    if placement.mechanism == "qdev" or placement.instance_id == ANY:
        return 0  # the first of its idstr (a qdev idstr carries the device's bus path)
    if placement.instance_id.isdigit():
        return int(placement.instance_id)
    return f"<{placement.instance_id}>"


def section_instance(schemas: tuple[WireSchema, ...], section: str, target: str | None) -> list[int | str]:
    """The ids of SECTION's registrations on the first of SCHEMAS that registers it (the
    stream's sender, NEW before OLD for a change both have); [] when no side says (a dump)."""
    for schema in schemas:
        found = (schema.placements or {}).get(section_key(section, target))
        if found:
            return sorted({instance_id(p) for p in found}, key=lambda v: (isinstance(v, str), str(v)))
    return []


def fill_instance(text: str, ids: list[int | str], qdev_only: bool) -> str:
    """TEXT with `{instance}` / `{instance:x}` replaced.  Several registrations with other
    ids: `<0|1>`.  Without placements, a section only qdev types send is 0, else `<n>`."""
    if DECIMAL not in text and HEX not in text:
        return text
    if not ids:
        ids = [0] if qdev_only else ["<n>"]
    if len(ids) == 1 and isinstance(ids[0], int):
        decimal, hexadecimal = str(ids[0]), format(ids[0], "x")
    else:
        words = [str(v).strip("<>") if isinstance(v, str) else str(v) for v in ids]
        decimal = "<" + "|".join(words) + ">"
        hexadecimal = "<" + "|".join(w if not w.isdigit() else format(int(w), "x") for w in words) + ">"
    return text.replace(HEX, hexadecimal).replace(DECIMAL, decimal)
