"""JSON endpoints: a `qemu-system-* -dump-vmstate` file, or a snapshot from `vmsd-lint dump`.

A dump knows what a binary sends for each device type: names, versions, sizes, array
lengths (from QEMU 8.0 on), nested descriptions and subsections; not the C behind them
(test and .needed functions, infos, registrations), so its wire schema is imprecise.
"""
from __future__ import annotations

import hashlib
import json
import types
import typing

from ..errors import InputError
from ..model import (
    Diagnostic,
    EndpointKind,
    Extraction,
    Field,
    Placement,
    QomType,
    Registration,
    Vmsd,
    section_key,
    target_of,
)
from ..placement.wire import UNKNOWN_TEST, WireField, WireSchema, WireVmsd, from_extraction

DUMP_MACHINE_KEY = "vmschkmachine"


def read_json_endpoint(path: str, expand: bool = True) -> WireSchema:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh, object_pairs_hook=lambda pairs: _object(pairs, path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a JSON text file") from None
    except RecursionError:
        raise InputError(f"{path}: not a JSON file this tool reads (nested too deeply)") from None
    except ValueError as exc:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise InputError(f"{path}: not a JSON file this tool reads ({exc})") from None
    if isinstance(data, dict) and {"vmsds", "types", "endpoint"} <= data.keys():
        return from_extraction(_snapshot_extraction(data, path), kind=EndpointKind.SNAPSHOT, expand=expand)
    if isinstance(data, dict) and DUMP_MACHINE_KEY in data:
        return _dump_schema(data, path)
    raise InputError(f"{path}: neither a -dump-vmstate file (no \"{DUMP_MACHINE_KEY}\") "
                     f"nor a vmsd-lint snapshot (no \"vmsds\")")


def _object(pairs: list[tuple[str, object]], path: str) -> dict:
    """A JSON object; a key given twice is refused: which one counts would be a guess (the
    decoder would silently keep the last, a reader might show the first)."""
    data = dict(pairs)
    if len(data) == len(pairs):
        return data
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InputError(f"{path}: duplicate key {key!r} in a JSON object")
        seen.add(key)
    return data


# -- -dump-vmstate ------------------------------------------------------------------------

def _dump_schema(data: dict, path: str) -> WireSchema:
    schema = WireSchema(path, None, EndpointKind.DUMP)
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
        _check(Extraction, {k: v for k, v in data.items() if k in ("endpoint", "commit", "target", "target_dir")},
               path, "snapshot")
        extraction = Extraction(data["endpoint"], data.get("commit"), data.get("target"),
                                target_dir=data.get("target_dir"))
        for entry in _expect(data["vmsds"], list, path, "vmsds"):
            _check(Vmsd, entry, path, "vmsds")
            fields = None
            if entry["fields"] is not None:
                fields = tuple(Field(**{**_check(Field, f, path, "fields"), "flags": tuple(f["flags"]),
                                        "unresolved": tuple(f["unresolved"])}) for f in entry["fields"])
            subsections = tuple(entry["subsections"]) if entry["subsections"] is not None else None
            vmsd = Vmsd(**{**entry, "fields": fields, "subsections": subsections})
            extraction.vmsds[vmsd.key] = vmsd
        for entry in _expect(data["types"], list, path, "types"):
            extraction.types[entry["name"]] = QomType(**_check(QomType, entry, path, "types"))
        extraction.registrations = [Registration(**{**_check(Registration, r, path, "registrations"),
                                                    "args": tuple(r["args"]), "types": tuple(r.get("types", ()))})
                                    for r in _expect(data.get("registrations", []), list, path, "registrations")]
        extraction.diagnostics = [Diagnostic(**_check(Diagnostic, d, path, "diagnostics"))
                                  for d in _expect(data.get("diagnostics", []), list, path, "diagnostics")]
        for entry in _expect(data.get("placements", []), list, path, "placements"):
            placement = Placement(**{**_check(Placement, entry, path, "placements"),
                                     "entries": tuple(entry["entries"])})
            sent = extraction.vmsds.get(placement.vmsd) if placement.vmsd else None
            key = section_key(placement.section, target_of(sent.file) if sent is not None else None)
            extraction.placements.setdefault(key, []).append(placement)
        variants = _expect(data.get("variants", {}), dict, path, "variants")
        extraction.variants = {str(k): v for k, v in variants.items() if isinstance(v, str) and v in extraction.vmsds}
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: malformed vmsd-lint snapshot ({type(exc).__name__}: {exc})") from None
    return extraction


def _check(cls, entry, path: str, where: str) -> dict:
    """ENTRY must be a JSON object whose values have the types CLS's fields are annotated
    with (lists for tuples); unknown or missing keys are left to CLS itself (TypeError)."""
    entry = _expect(entry, dict, path, where)
    hints = _hints(cls)
    for key, value in entry.items():
        if key in hints and not _conforms(value, hints[key]):
            raise InputError(f"{path}: {where}: \"{key}\" has the wrong type ({type(value).__name__})")
    return entry


_HINTS: dict[type, dict] = {}


def _hints(cls) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _conforms(value, hint) -> bool:
    if hint is type(None):
        return value is None
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_conforms(value, arm) for arm in typing.get_args(hint))
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if not isinstance(value, list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(_conforms(v, a) for v, a in zip(value, args))
    if hint is dict or origin is dict:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True  # a nested record (Vmsd.fields) is checked on its own
