"""What the extractor knows of QEMU itself, beyond C: the calls that put a section on
the wire and the calls whose arguments the tree-wide steps read, the files of a revision
that decide what is extracted (the target's build configuration) and how it is printed
(the keys `-dump-vmstate` writes), and the VMS_* flags of vmstate.h."""
from __future__ import annotations

import re

from ..sources.tree import SourceTree
from .context import TreeIndex

REGISTRATION_CALLS = {
    # callee: (index of instance id, index of vmsd or None, index of idstr or None)
    "vmstate_register": (1, 2, None),
    "vmstate_register_any": (None, 1, None),
    "vmstate_register_with_alias_id": (1, 2, None),
    "register_savevm_live": (1, None, 0),
}
# Calls whose arguments a later stage reads; of the others only the callee is kept.
# Calls that install a hook: callee -> (hook, index of the function argument).
HOOK_CALLS = {"device_class_set_parent_realize": ("realize", 1)}
# Calls whose arguments the tree-wide steps read, evaluated in their file: the bus a
# device creates, the virtio device a proxy creates, the version a hand-made load uses.
EVALUATED_CALLS = frozenset({"qbus_init", "virtio_instance_init_common", "vmstate_load_state",
                             "qdev_set_legacy_instance_id"})
CALLS_WITH_ARGS = frozenset(REGISTRATION_CALLS) | frozenset(HOOK_CALLS) | {"type_register", "type_register_static"} \
    | EVALUATED_CALLS

SAVEVM = "migration/savevm.c"  # dump_vmstate_vmsf(): what -dump-vmstate prints per field
VMSTATE_H = "include/migration/vmstate.h"  # the VMS_* flags


def target_mak(target: str | None) -> str:
    """The build configuration of a target (`TARGET_BIG_ENDIAN=y`...)."""
    return f"configs/targets/{target}-softmmu.mak"


def target_mak_text(tree: SourceTree, target: str | None) -> str | None:
    if not target:
        return None
    data = tree.read_path(target_mak(target))
    return data.decode("utf-8", "replace") if data is not None else None


def savevm_field_keys(tree: SourceTree) -> tuple[str, ...] | None:
    """The JSON keys `dump_vmstate_vmsf` of this revision prints per field."""
    data = tree.read_path(SAVEVM)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    start = text.find("static void dump_vmstate_vmsf(")
    end = text.find("\n}\n", start)
    if start < 0 or end < 0:
        return None
    keys = re.findall(r'\\"(\w+)\\":', text[start:end])
    return tuple(dict.fromkeys(keys)) or None


def vms_flag_values(index: TreeIndex) -> dict[str, int]:
    """The VMS_* flags of vmstate.h by name, with their values in this tree."""
    flags = {}
    for name in index.enumerators:
        if name.startswith("VMS_"):
            value = index.enum_constant(name, VMSTATE_H)
            if value is not None:
                flags[name] = value
    return flags
