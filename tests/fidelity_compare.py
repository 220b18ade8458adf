"""Compare a `dump --format qemu` with the `-dump-vmstate` output of a real QEMU binary.

Type by type over the binary's device types: name, version_id, minimum_version_id, and
for every field its name, version_id, field_exists, num and size -- except the size of
a field carrying a nested "Description" (a struct's size is the compiler's layout, not
migrated state) -- then nested descriptions and subsections, recursively.

Used by tests/test_qemu_integration.py and benchmarks/fidelity.py.
"""
from __future__ import annotations

import json
import lzma
from dataclasses import dataclass, field
from pathlib import Path

MACHINE_KEY = "vmschkmachine"
FIELD_KEYS = ("field", "version_id", "field_exists", "num")
# QEMU before 8.x printed no "num" at all (7.2.0's dump_vmstate_vmsf has none); a dump whose
# fields never carry "num" is compared without it.


def load_real_dump(shared: Path, version: str, arch: str = "x86_64") -> dict:
    path = Path(shared) / "qemu" / "dumps" / f"{arch}-{version}.json.xz"
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def dump_has_num(dump: dict) -> bool:
    """Whether a -dump-vmstate output reports array lengths ("num") at all."""
    def walk(desc: dict) -> bool:
        for f in desc.get("Fields", ()):
            if "num" in f or ("Description" in f and walk(f["Description"])):
                return True
        return any(walk(sub) for sub in desc.get("Subsections", ()))
    return any(walk(entry.get("Description", {})) for name, entry in dump.items() if name != MACHINE_KEY)


def first_difference(real: dict, ours: dict, path: str, keys: tuple[str, ...] = FIELD_KEYS) -> str | None:
    """The first difference between two Description objects, or None when identical."""
    for key in ("name", "version_id", "minimum_version_id"):
        if real.get(key) != ours.get(key):
            return f"{path}: {key} {real.get(key)!r} != ours {ours.get(key)!r}"
    if ("Fields" in real) != ("Fields" in ours):
        return f"{path}: Fields {'present' if 'Fields' in real else 'absent'} in the binary, not in ours"
    real_fields, our_fields = real.get("Fields", []), ours.get("Fields", [])
    for i, (rf, of) in enumerate(zip(real_fields, our_fields)):
        where = f"{path}/{rf.get('field')}[{i}]"
        for key in keys:
            if rf.get(key) != of.get(key):
                return f"{where}: {key} {rf.get(key)!r} != ours {of.get(key)!r}"
        if "Description" in rf:
            if "Description" not in of:
                return f"{where}: nested Description {rf['Description'].get('name')!r} missing in ours"
            diff = first_difference(rf["Description"], of["Description"], f"{where}>", keys)
            if diff:
                return diff
        else:
            if "Description" in of:
                return f"{where}: ours has a nested Description, the binary has none"
            if rf.get("size") != of.get("size"):
                return f"{where}: size {rf.get('size')!r} != ours {of.get('size')!r}"
    if len(real_fields) != len(our_fields):
        extra = real_fields[len(our_fields):] or our_fields[len(real_fields):]
        side = "binary" if len(real_fields) > len(our_fields) else "ours"
        return (f"{path}: {len(real_fields)} fields in the binary, {len(our_fields)} in ours "
                f"(first extra in {side}: {extra[0].get('field')!r})")
    real_subs, our_subs = real.get("Subsections"), ours.get("Subsections")
    if bool(real_subs) != bool(our_subs) or len(real_subs or ()) != len(our_subs or ()):
        return (f"{path}: subsections {[s.get('name') for s in real_subs or ()]} != "
                f"ours {[s.get('name') for s in our_subs or ()]}")
    for rs, os_ in zip(real_subs or (), our_subs or ()):
        diff = first_difference(rs, os_, f"{path}+{rs.get('name')}", keys)
        if diff:
            return diff
    return None


def type_difference(name: str, real: dict, ours: dict | None, keys: tuple[str, ...] = FIELD_KEYS) -> str | None:
    if ours is None:
        return f"{name}: missing in ours"
    for key in ("Name", "version_id", "minimum_version_id"):
        if real.get(key) != ours.get(key):
            return f"{name}: {key} {real.get(key)!r} != ours {ours.get(key)!r}"
    return first_difference(real.get("Description", {}), ours.get("Description", {}), name, keys)


@dataclass
class Fidelity:
    total: int = 0
    identical: int = 0
    differences: dict[str, str] = field(default_factory=dict)  # type name -> first difference
    extra: list[str] = field(default_factory=list)  # types we report that the binary does not

    @property
    def percent(self) -> float:
        return 100.0 * self.identical / self.total if self.total else 0.0

    def summary(self) -> str:
        return f"{self.identical}/{self.total} device types identical ({self.percent:.1f} %)"


def compare(real: dict, ours: dict) -> Fidelity:
    result = Fidelity()
    keys = FIELD_KEYS if dump_has_num(real) else tuple(k for k in FIELD_KEYS if k != "num")
    for name in sorted(real):
        if name == MACHINE_KEY:
            continue
        result.total += 1
        diff = type_difference(name, real[name], ours.get(name), keys)
        if diff is None:
            result.identical += 1
        else:
            result.differences[name] = diff
    result.extra = sorted(n for n in ours if n != MACHINE_KEY and n not in real)
    return result
