"""What a real migration stream holds, against the sections `vmsd-lint dump` places.

A stream's JSON description (`analyze-migration.py --dump desc`) lists every section a
real QEMU sent, with its VMSD name, version, fields (name, size, array length, nested
structs) and the subsections its `.needed()` chose.  For each, the model must place a
section of that name whose VMSD (named by a placement) has that name and version, holds
the stream's fields in order -- the ones the stream left out gated by a test or a version
-- with the same sizes, and knows every subsection that was sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vmsd_lint.model import Extraction
from vmsd_lint.placement.wire import WireSchema, WireVmsd


@dataclass
class Check:
    section: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def section_name(idstr: str, known) -> str:
    """`0000:00:1f.0/ICH9LPC` -> `ICH9LPC`: qdev prefixes a section with its device's path
    (`virtio-mmio@00000000feb02e00/`), and some section names hold a '/' (`spapr/htab`)."""
    name = idstr
    while name not in known and "/" in name:
        name = name.split("/", 1)[1]
    return name if name in known else idstr


def check_stream(desc: dict, schema: WireSchema, extraction: Extraction) -> list[Check]:
    header = [dict(desc["configuration"], name="configuration")] if "configuration" in desc else []
    return [check_section(entry, schema, extraction) for entry in header + list(desc["devices"])]


def check_section(entry: dict, schema: WireSchema, extraction: Extraction) -> Check:
    name = section_name(entry["name"], {s.name for s in schema.sections.values()})
    check = Check(name)
    sections = [s for s in schema.sections.values() if s.name == name]
    if not sections:
        check.problems.append("no such section")
        return check
    candidates = [schema.vmsds[key] for s in sections for key in sorted(s.vmsds)]
    if "vmsd_name" not in entry:  # a register_savevm_live() section: the description has no VMSD
        if not any(s.registrations for s in sections):
            check.problems.append("not a registered section")
        return check
    best = None
    for vmsd in candidates:
        if vmsd.name != entry.get("vmsd_name", name) or vmsd.version_id != entry["version"]:
            continue
        problems = compare_vmsd(entry, vmsd, schema, entry["version"], name)
        if not problems:
            best = vmsd
            break
        best = best or vmsd
        check.problems = problems
    if best is None:
        found = sorted({f"{v.name} v{v.version_id}" for v in candidates})
        check.problems = [f"no VMSD {entry.get('vmsd_name', name)} v{entry['version']} (found {', '.join(found)})"]
        return check
    if check.problems and best is not None and not compare_vmsd(entry, best, schema, entry["version"], name):
        check.problems = []
    placed = [p for key, found in extraction.placements.items() for p in found if p.section == name]
    if not any(p.vmsd == best.key for p in placed):
        check.problems.append(f"no placement names VMSD {best.key}")
    return check


def compare_vmsd(entry: dict, vmsd: WireVmsd, schema: WireSchema, version: int | None, where: str) -> list[str]:
    """The stream's fields in order within ours; ours it lacks must be gated."""
    problems: list[str] = []
    ours = [f for f in vmsd.fields if f.on_wire]
    position = 0
    previous = None
    for sent in entry.get("fields", []):
        if previous is not None and previous.name == sent["name"] and previous.count is not None:
            continue  # another element of the array just matched (the description's "index")
        match = next((i for i in range(position, len(ours)) if ours[i].name == sent["name"]), None)
        if match is None:
            occurrence = _occurrence(sent["name"])
            match = next((i for i in range(position, len(ours)) if same_name(ours[i].name, sent["name"])
                          and _nth(ours, i) >= occurrence), None)
        if match is None:
            problems.append(f"{where}: field {sent['name']!r} not found in order in {vmsd.name}")
            continue
        for skipped in ours[position:match]:
            if not gated(skipped, version):
                problems.append(f"{where}: our field {skipped.name!r} is not in the stream and not gated")
        problems.extend(_compare_field(sent, ours[match], schema, f"{where}/{sent['name']}"))
        position = match + 1
        previous = ours[match]
    for rest in ours[position:]:
        if not gated(rest, version):
            problems.append(f"{where}: our field {rest.name!r} is not in the stream and not gated")
    known = {schema.vmsds[k].name: schema.vmsds[k] for k in vmsd.subsections}
    for sub in entry.get("subsections", []):
        ours_sub = known.get(sub["vmsd_name"])
        if ours_sub is None:
            problems.append(f"{where}: subsection {sub['vmsd_name']!r} unknown to {vmsd.name}")
            continue
        problems.extend(compare_vmsd(sub, ours_sub, schema, sub.get("version"), f"{where}/{sub['vmsd_name']}"))
    return problems


def same_name(ours: str, sent: str) -> bool:
    """The description names a field that repeats a name with its index (`env.xmm_regs[1]`,
    `config[0]`: QEMU writes "index", analyze-migration.py appends it)."""
    if ours == sent:
        return True
    base, bracket, rest = sent.rpartition("[")
    return bool(bracket) and rest.endswith("]") and rest[:-1].isdigit() and base == ours


def _occurrence(name: str) -> int:
    """`cur_offset[1]`: the second field named cur_offset (0 for a name without an index)."""
    _base, bracket, rest = name.rpartition("[")
    return int(rest[:-1]) if bracket and rest.endswith("]") and rest[:-1].isdigit() else 0


def _nth(fields, i: int) -> int:
    """How many fields before fields[i] have its name."""
    return sum(1 for f in fields[:i] if f.name == fields[i].name)


def gated(field, version: int | None) -> bool:
    """A field a stream may leave out: behind a test, a later version, or of a run-time
    count (the description leaves out an array of no elements)."""
    return field.test is not None or (version is not None and field.version_id > version) \
        or field.count == "variable"


def _compare_field(sent: dict, ours, schema: WireSchema, where: str) -> list[str]:
    problems = []
    count = sent.get("array_len")
    if count is not None and isinstance(ours.count, int) and ours.count != count:
        problems.append(f"{where}: {count} elements in the stream, {ours.count} in ours")
    nested = sent.get("struct") or (sent if sent.get("type") == "tmp" else None)
    if nested is not None and ours.nested:
        problems.extend(compare_vmsd(nested, schema.vmsds[ours.nested], schema, None, where))
    elif sent.get("type") not in ("struct", "tmp") and ours.size is not None and sent.get("size") is not None \
            and ours.kind not in ("struct", "vstruct") and sent["size"] != ours.size * (ours.count if isinstance(ours.count, int) and sent.get("array_len") is None else 1):
        problems.append(f"{where}: {sent['size']} bytes in the stream, {ours.size} in ours")
    return problems
