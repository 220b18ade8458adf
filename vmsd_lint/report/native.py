"""`dump --format native`: every VMSD with its fields, subsections, hooks, source
location and C symbol, plus QOM types, registrations and diagnostics.

The output is deterministic: lists are sorted by stable keys and JSON keys are sorted,
so two dumps of the same revision are byte-identical whatever the cache or --jobs.
"""
from __future__ import annotations

import json
from dataclasses import fields
from functools import cache

from ..model import Extraction, Field, Vmsd


@cache
def _names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _plain(record) -> dict:
    """A flat record as a dict (its tuples are written as JSON lists all the same)."""
    return {name: getattr(record, name) for name in _names(type(record))}


# what a field records for naming causes (diff/causes.py) is not part of a dump: digests
# and definitions' places, which a snapshot read back as an endpoint does not need
_CAUSE_KEYS = ("text", "depends")


def _field(field: Field) -> dict:
    plain = _plain(field)
    for key in _CAUSE_KEYS:
        del plain[key]
    return plain


def _vmsd(vmsd: Vmsd) -> dict:
    return {
        "name": vmsd.name,
        "symbol": vmsd.symbol,
        "file": vmsd.file,
        "line": vmsd.line,
        "static": vmsd.static,
        "version_id": vmsd.version_id,
        "minimum_version_id": vmsd.minimum_version_id,
        "fields": None if vmsd.fields is None else [_field(f) for f in vmsd.fields],
        "subsections": None if vmsd.subsections is None else list(vmsd.subsections),
        "hooks": dict(sorted(vmsd.hooks.items())),
        "unmigratable": vmsd.unmigratable,
        "priority": vmsd.priority,
        "early_setup": vmsd.early_setup,
        "synthetic": vmsd.synthetic,
        "copy_of": vmsd.copy_of,
    }


def _sort_key(vmsd: Vmsd) -> tuple:
    return (vmsd.name or "", vmsd.file, vmsd.symbol, vmsd.line)


def native_dump(extraction: Extraction) -> dict:
    types = [_plain(extraction.types[name]) for name in sorted(extraction.types)]
    registrations = sorted(
        (_plain(r) for r in extraction.registrations),
        key=lambda r: (r["file"], r["line"], r["function"], r["enclosing"], json.dumps(r, sort_keys=True)))
    diagnostics = sorted(
        (_plain(d) for d in extraction.diagnostics),
        key=lambda d: (d["file"], d["line"], d["kind"], d["message"]))
    placed = [_plain(p)
              for section in sorted(extraction.placements) for p in extraction.placements[section]]
    return {
        "endpoint": extraction.endpoint,
        "commit": extraction.commit,
        "target": extraction.target,
        "target_dir": extraction.target_dir,
        "vmsds": [_vmsd(v) for v in sorted(extraction.vmsds.values(), key=_sort_key)],
        "types": types,
        "registrations": registrations,
        "placements": placed,
        "variants": dict(sorted(extraction.variants.items())),
        "diagnostics": diagnostics,
    }


def dumps_native(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
