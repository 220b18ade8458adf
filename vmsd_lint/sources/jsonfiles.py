"""JSON endpoints: a `qemu-system-* -dump-vmstate` file, or a snapshot from `vmsd-lint dump`.

A dump knows what a binary sends for each device type: names, versions, sizes, array
lengths (from QEMU 8.0 on), nested descriptions and subsections; not the C behind them
(test and .needed functions, infos, registrations), so its wire schema is imprecise.
"""
from __future__ import annotations

import hashlib
import json

from ..errors import InputError
from ..model import Diagnostic, Extraction, Field, Placement, QomType, Registration, Vmsd
from ..wire import UNKNOWN_TEST, WireField, WireSchema, WireVmsd, from_extraction

DUMP_MACHINE_KEY = "vmschkmachine"


def read_json_endpoint(path: str) -> WireSchema:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a JSON text file") from None
    if isinstance(data, dict) and {"vmsds", "types", "endpoint"} <= data.keys():
        return from_extraction(_snapshot_extraction(data, path), kind="snapshot")
    if isinstance(data, dict) and DUMP_MACHINE_KEY in data:
        return _dump_schema(data, path)
    raise InputError(f"{path}: neither a -dump-vmstate file (no \"{DUMP_MACHINE_KEY}\") "
                     f"nor a vmsd-lint snapshot (no \"vmsds\")")


# -- -dump-vmstate ------------------------------------------------------------------------

def _dump_schema(data: dict, path: str) -> WireSchema:
    schema = WireSchema(path, None, "dump")
    schema.counts_known = _mentions_num(data)
    for type_name, entry in sorted(data.items()):
        if type_name == DUMP_MACHINE_KEY:
            continue
        description = _expect(entry, dict, path, type_name).get("Description")
        key = _dump_vmsd(schema, _expect(description, dict, path, type_name), path, type_name)
        name = schema.vmsds[key].name
        schema.type_sections[type_name] = (name, key)
        section = schema.section(name)
        section.vmsds.add(key)
        section.types.add(type_name)
    return schema


def _dump_vmsd(schema: WireSchema, desc: dict, path: str, where: str) -> str:
    name = desc.get("name")
    if not isinstance(name, str):
        raise InputError(f"{path}: {where}: a Description without a \"name\"")
    digest = hashlib.sha1(json.dumps(desc, sort_keys=True).encode()).hexdigest()[:12]
    key = f"dump:{name}:{digest}"
    if key in schema.vmsds:
        return key
    fields = tuple(_dump_field(schema, f, path, f"{where}/{name}")
                   for f in _expect(desc.get("Fields", []), list, path, where))
    subsections = tuple(_dump_vmsd(schema, _expect(s, dict, path, where), path, f"{where}/{name}")
                        for s in _expect(desc.get("Subsections", []), list, path, where))
    schema.vmsds[key] = WireVmsd(key, name, None, None, None, _int(desc.get("version_id"), path, where),
                                 _int(desc.get("minimum_version_id"), path, where), fields, subsections,
                                 UNKNOWN_TEST, unmigratable=None)
    return key


def _dump_field(schema: WireSchema, entry: dict, path: str, where: str) -> WireField:
    entry = _expect(entry, dict, path, where)
    name = entry.get("field")
    if not isinstance(name, str):
        raise InputError(f"{path}: {where}: a field without a \"field\" name")
    nested = None
    if "Description" in entry:
        nested = _dump_vmsd(schema, _expect(entry["Description"], dict, path, where), path, where)
    kind = "struct" if nested else ("unused" if name == "unused" else "data")
    count = _int(entry["num"], path, where) if "num" in entry else None
    return WireField(name, None, None, _int(entry.get("version_id", 0), path, where),
                     UNKNOWN_TEST if entry.get("field_exists") else None,
                     _int(entry.get("size"), path, where), count, kind, None, nested)


def _mentions_num(data) -> bool:
    """-dump-vmstate writes "num" for arrays from QEMU 8.0; older dumps cannot tell a
    uint32[16] from a uint32."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "field" in item and "num" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _expect(value, kind, path: str, where: str):
    if not isinstance(value, kind):
        raise InputError(f"{path}: {where}: expected a JSON {kind.__name__}, found {type(value).__name__}")
    return value


def _int(value, path: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{path}: {where}: expected an integer, found {json.dumps(value)}")
    return value


# -- vmsd-lint snapshots ------------------------------------------------------------------

def _snapshot_extraction(data: dict, path: str) -> Extraction:
    try:
        extraction = Extraction(data["endpoint"], data.get("commit"), data.get("target"),
                                target_dir=data.get("target_dir"))
        for entry in data["vmsds"]:
            fields = None
            if entry["fields"] is not None:
                fields = tuple(Field(**{**f, "flags": tuple(f["flags"]), "unresolved": tuple(f["unresolved"])})
                               for f in entry["fields"])
            subsections = tuple(entry["subsections"]) if entry["subsections"] is not None else None
            vmsd = Vmsd(**{**entry, "fields": fields, "subsections": subsections})
            extraction.vmsds[vmsd.key] = vmsd
        for entry in data["types"]:
            extraction.types[entry["name"]] = QomType(**entry)
        extraction.registrations = [Registration(**{**r, "args": tuple(r["args"])})
                                    for r in data.get("registrations", [])]
        extraction.diagnostics = [Diagnostic(**d) for d in data.get("diagnostics", [])]
        for entry in data.get("placements", []):
            placement = Placement(**{**entry, "entries": tuple(entry["entries"])})
            extraction.placements.setdefault(placement.section, []).append(placement)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: malformed vmsd-lint snapshot ({type(exc).__name__}: {exc})") from None
    return extraction
