"""`dump --format qemu`: the JSON `qemu-system-* -dump-vmstate` writes
(dump_vmstate_json_to_file in migration/savevm.c), so scripts/vmstate-static-checker.py
can read it."""
from __future__ import annotations

import json

from ..model import Extraction, Vmsd
from ..resolve import Resolved

TYPE_DEVICE = "device"
MAX_NESTING = 64  # VMSDs nested in one another (QEMU's deepest chains are under 10)


def qemu_dump(extraction: Extraction, machine: str = "vmsd-lint") -> dict:
    resolved = Resolved(extraction)
    out: dict = {"vmschkmachine": {"Name": machine}}
    for name in sorted(extraction.types):
        path = extraction.types[name].file
        if not resolved.is_a(name, TYPE_DEVICE) or path.endswith(".rs") or not extraction.in_build(path):
            continue  # not in the binary (with --target: the build model's); Rust is off in it
        vmsd = resolved.type_vmsd(name)
        if vmsd is None:
            continue
        out[name] = {"Name": name, "version_id": vmsd.version_id, "minimum_version_id": vmsd.minimum_version_id,
                     "Description": _description(resolved, vmsd, set())}
    return out


def _description(resolved: Resolved, vmsd: Vmsd, stack: set[str]) -> dict:
    desc: dict = {"name": vmsd.name, "version_id": vmsd.version_id, "minimum_version_id": vmsd.minimum_version_id}
    if vmsd.key in stack:  # QEMU would recurse forever; we stop and say so in the name
        desc["name"] = f"{vmsd.name} (recursive)"
        return desc
    if len(stack) >= MAX_NESTING:  # a stack overflow here; we stop and say so in the name
        desc["name"] = f"{vmsd.name} (nested more than {MAX_NESTING} deep)"
        return desc
    stack = stack | {vmsd.key}
    if vmsd.fields is not None:
        fields = []
        for field in vmsd.fields:
            if "VMS_MUST_EXIST" in field.flags:
                continue
            entry: dict = {"field": field.name, "version_id": field.version_id or 0,
                           "field_exists": field.field_exists is not None}
            if "VMS_ARRAY" in field.flags and "num" in resolved.x.dump_field_keys:
                entry["num"] = field.num or 0
            entry["size"] = field.size or 0
            nested = resolved.field_vmsd(vmsd, field)
            if nested is not None:
                entry["Description"] = _description(resolved, nested, stack)
            fields.append(entry)
        desc["Fields"] = fields
    if vmsd.subsections is not None:
        desc["Subsections"] = [_description(resolved, sub, stack) for sub in resolved.subsections(vmsd)]
    return desc


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"
