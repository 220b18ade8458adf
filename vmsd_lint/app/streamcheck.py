"""`check-stream`: would a revision load this real migration stream, and if not, where
and why? Each section is found among the revision's sections by its idstr, then loaded
with its model (streamload.Loader); the first failure is explained with the catalogue.

Not judged, and said so: what pre_load/post_load hooks and *_EQUAL checks decide at run
time (except the Arm register list, streamcpu.py), the instance ids of sections registered
with any id (qdev devices, VMSTATE_INSTANCE_ID_ANY: the machine's configuration numbers
them), the bodies of sections that register_savevm_live() handlers write by hand (`ram`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalogue import load_catalogue, qemu_prints
from ..model import Extraction
from ..placement.wire import Section as WireSection
from ..placement.wire import WireSchema, WireVmsd
from ..sources.stream import Section, Stream, StreamData
from .streamcpu import HOOKS_JUDGED, ArmRegisters, incoming_list
from .streamload import Desc, Entry, Hooks, Loader, Step, Stop, Unknown, same_name

Described = dict[tuple[Any, Any], Desc]  # (idstr, instance id) -> the description of that section

LOADS = "loads"
LOADS_IF_HOOKS = "loads-if-hooks"  # loads, if its post_load (or an _EQUAL check) accepts the values
FAILS = "fails"
NOT_DECODED = "not-decoded"  # a body written by hand, or one the model cannot follow
NOT_REACHED = "not-reached"  # after the first failure: QEMU stops there


@dataclass
class SectionVerdict:
    section: Section
    status: str
    vmsd: str | None = None  # the revision's VMSD key the body was loaded with
    hooks: list[str] = field(default_factory=list)
    note: str | None = None
    failure: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list, repr=False)  # the fields read, where


@dataclass
class StreamVerdict:
    revision: str
    commit: str | None
    machine: str | None
    sections: list[SectionVerdict]
    notes: list[str] = field(default_factory=list)

    @property
    def failure(self) -> dict[str, Any] | None:
        return next((s.failure for s in self.sections if s.failure), None)


def section_name(idstr: str, known: set[str]) -> str:
    """`0000:00:1f.0/ICH9LPC` -> `ICH9LPC`: qdev prefixes a section with its device's path,
    and some section names hold a '/' themselves (`spapr/htab`)."""
    name = idstr
    while name not in known and "/" in name:
        name = name.split("/", 1)[1]
    return name if name in known else idstr


def load_hooks(extraction: Extraction | None) -> Hooks:
    """VMSD key -> its load hooks ("post_load cpu_post_load"): what runs on the values."""
    if extraction is None:
        return {}
    return {key: [f"{hook} {function}()" for hook, function in sorted(vmsd.hooks.items())
                  if hook.startswith(("pre_load", "post_load"))]
            for key, vmsd in extraction.vmsds.items()}


def fixed_instances(extraction: Extraction | None) -> dict[str, set[int]]:
    """Section name -> the instance ids REV registers it with, for the sections every
    registration of which names a constant id (`vmstate_register(NULL, 0, ...)`); qdev
    devices and VMSTATE_INSTANCE_ID_ANY take any id, and are left out."""
    found: dict[str, set[int]] = {}
    for name, placements in (extraction.placements.items() if extraction is not None else ()):
        ids = {p.instance_id for p in placements}
        if ids and all(i.isdigit() for i in ids):
            found[name] = {int(i) for i in ids}
    return found


def check_stream(data: StreamData, stream: Stream, desc: Desc | None, schema: WireSchema,
                 hooks: Hooks, machine: str | None = None, arm: ArmRegisters | None = None,
                 instances: dict[str, set[int]] | None = None) -> StreamVerdict:
    """Every section of STREAM (DATA its bytes, DESC its description) against SCHEMA;
    ARM judges an Arm `cpu` section's register list (streamcpu.py), INSTANCES the instance
    ids of the sections registered with constant ones (fixed_instances())."""
    verdict = StreamVerdict(schema.label, schema.commit, stream.machine, [])
    if desc is None:
        verdict.notes.append("the stream carries no JSON description: fields behind a test, VARRAYs and "
                             "custom VMStateInfos cannot be sized, their sections are not decoded")
    if machine and stream.machine and machine != stream.machine:
        verdict.notes.append(f"the stream was saved by machine type {stream.machine}, not {machine}: QEMU "
                             f"refuses it in configuration_post_load()")
    if not hooks:
        verdict.notes.append(f"{schema.label} carries no hooks (a dump): pre_load/post_load are not listed")
    described = _descriptions(desc)
    known = {s.name for s in schema.sections.values()}
    failed = False
    for section in stream.sections:
        if section.kind in ("part", "end"):
            continue  # pieces of an iterative section: judged with its START
        if failed:
            verdict.sections.append(SectionVerdict(section, NOT_REACHED))
            continue
        judged = _judge(data, section, schema, hooks, known, described, instances or {})
        if arm is not None and judged.status in (LOADS, LOADS_IF_HOOKS):
            judged = _registers(data, judged, arm)
        verdict.sections.append(judged)
        failed = judged.status == FAILS
    return verdict


def _registers(data: StreamData, judged: SectionVerdict, arm: ArmRegisters) -> SectionVerdict:
    """An Arm cpu section that loaded, its register list judged: a failure, or the hooks
    whose checks the model knows no longer listed as run-time ones."""
    name = judged.steps[0].path.split("/", 1)[0] if judged.steps else ""
    incoming = incoming_list(data, judged.steps, name)
    if incoming is None:
        return judged
    section = judged.section
    failure, note = arm.judge(incoming, section.instance_id or 0, section.idstr)
    if failure is not None:
        return SectionVerdict(section, FAILS, judged.vmsd, judged.hooks, note, failure)
    if note.startswith("register list judged"):
        rest = [h for h in judged.hooks if h not in (f"{name}: {hook}" for hook in HOOKS_JUDGED)]
        return SectionVerdict(section, LOADS_IF_HOOKS if rest else LOADS, judged.vmsd, rest,
                              "; ".join(filter(None, (judged.note, note))))
    return SectionVerdict(section, judged.status, judged.vmsd, judged.hooks,
                          "; ".join(filter(None, (judged.note, note))))


def _descriptions(desc: Desc | None) -> Described:
    """(idstr, instance id) -> the description of that section; "configuration" too."""
    found: Described = {}
    if not isinstance(desc, dict):
        return found
    devices = desc.get("devices")
    for entry in devices if isinstance(devices, list) else ():
        if isinstance(entry, dict):
            found[(entry.get("name"), entry.get("instance_id"))] = entry
    if isinstance(desc.get("configuration"), dict):
        found[("configuration", None)] = desc["configuration"]
    return found


def _judge(data: StreamData, section: Section, schema: WireSchema, hooks: Hooks, known: set[str],
           described: Described, instances: dict[str, set[int]]) -> SectionVerdict:
    if section.kind == "configuration":
        return _configuration(data, section, schema, hooks, described)
    name = section_name(section.idstr, known)
    candidates = [s for s in schema.sections.values() if s.name == name]
    if not candidates:
        stop = Stop("unknown-section", section.header_start, section.idstr)
        return SectionVerdict(section, FAILS, failure=explain(stop, section, None, schema))
    fixed = instances.get(section.idstr)  # find_se(): the idstr and the instance id (or its alias)
    if fixed is not None and section.instance_id not in fixed:
        stop = Stop("unknown-instance", section.header_start, section.idstr, fixed=sorted(fixed))
        return SectionVerdict(section, FAILS, failure=explain(stop, section, None, schema))
    keys = sorted({key for s in candidates for key in s.vmsds})
    if not keys or section.kind == "start":
        return _registered(section, candidates, schema)
    desc = described.get((section.idstr, section.instance_id))
    wanted = desc.get("vmsd_name") if isinstance(desc, dict) else None
    keys.sort(key=lambda k: schema.vmsds[k].name != wanted)  # the VMSD the source named first
    tried = [_load(data, section, schema.vmsds[key], schema, hooks, desc) for key in keys]
    loaded = [t for t in tried if t.status in (LOADS, LOADS_IF_HOOKS)]
    return next(iter(loaded or [t for t in tried if t.status != FAILS]), max(tried, key=_progress))


def _progress(tried: SectionVerdict) -> int:
    """How far a failed load read: of a section's variants (one per virtio transport),
    the one that read furthest is the source's."""
    failure = tried.failure or {}
    return max(failure.get("detected_at") or 0, failure.get("offset") or 0)


def _registered(section: Section, candidates: list[WireSection], schema: WireSchema) -> SectionVerdict:
    """A register_savevm_live() section: its handlers read the body; only the version is known."""
    local = next((s.version for s in candidates if s.version is not None), None)
    if local is not None and section.version_id is not None and section.version_id > local:
        stop = Stop("too-new", section.header_start, section.idstr, vmsd=section.idstr,
                    version=section.version_id, local=local, top=True)
        return SectionVerdict(section, FAILS, failure=explain(stop, section, None, schema))
    return SectionVerdict(section, NOT_DECODED, note="read by hand-written load handlers (register_savevm_live)")


def _configuration(data: StreamData, section: Section, schema: WireSchema, hooks: Hooks,
                   described: Described) -> SectionVerdict:
    vmsd = next((v for v in schema.vmsds.values() if v.name == "configuration"), None)
    if vmsd is None:
        return SectionVerdict(section, NOT_DECODED, note="REV has no VMSD named configuration")
    # not on the wire: savevm.c loads it at version 0 (qemu_loadvm_state_header)
    return _load(data, section, vmsd, schema, hooks, described.get(("configuration", None)), version=0)


def _load(data: StreamData, section: Section, vmsd: WireVmsd, schema: WireSchema, hooks: Hooks, desc: Desc | None,
          version: int | None = None) -> SectionVerdict:
    loader = Loader(schema, hooks, data, section.end)
    version = section.version_id if version is None else version
    if not isinstance(version, int):
        return SectionVerdict(section, NOT_DECODED, vmsd.key, note="no version to load it at")
    try:
        pos = loader.load(vmsd, version, section.start, desc, vmsd.name or vmsd.key, top=True)
        if pos != section.end:
            raise Stop("footer", pos, vmsd.name or vmsd.key, left=section.end - pos)
    except Stop as stop:
        return SectionVerdict(section, FAILS, vmsd.key, loader.hooks,
                              failure=explain(stop, section, loader, schema))
    except Unknown as why:
        return SectionVerdict(section, NOT_DECODED, vmsd.key, loader.hooks, note=str(why))
    status = LOADS_IF_HOOKS if loader.hooks else LOADS
    note = "; ".join(dict.fromkeys(loader.notes)) or None
    return SectionVerdict(section, status, vmsd.key, list(dict.fromkeys(loader.hooks)), note=note,
                          steps=loader.steps)


# -- explaining a failure ---------------------------------------------------------------------------

def explain(stop: Stop, section: Section, loader: Loader | None, schema: WireSchema) -> dict[str, Any]:
    """The failure as the report shows it: where, what the stream holds and what the
    revision expected, the catalogue type, QEMU's own message and the fix."""
    facts = stop.facts
    offset, path, detected = stop.offset, stop.path, None
    instance = section.instance_id or 0
    lines: list[str]
    if stop.kind == "unknown-section":
        rule, lines = "section-removed", [qemu_prints("section-removed", "unknown-section", section.idstr, instance)]
        holds, expected = f"section '{section.idstr}' instance {instance}", "no section of that name"
    elif stop.kind == "unknown-instance":
        rule = "instance-id-changed"
        lines = [qemu_prints(rule, "unknown-section", section.idstr, instance)]
        holds = f"section '{section.idstr}' instance {instance}"
        expected = f"instance {' or '.join(map(str, facts['fixed']))}: the only one(s) REV registers it with"
    elif stop.kind == "too-new":
        if facts.get("top"):
            rule = "version-decreased"
            lines = [qemu_prints(rule, "unsupported-version", facts["version"], section.idstr, facts["local"])]
        else:
            rule = "version-decreased"
            lines = [qemu_prints(rule, "too-new", facts["vmsd"], facts["version"], facts["local"]),
                     qemu_prints("minimum-version-raised", "load-failed", instance, section.idstr)]
        holds = f"{facts['vmsd']} version {facts['version']}"
        expected = f"version_id {facts['local']} at most"
    elif stop.kind == "too-old":
        rule = "minimum-version-raised"
        lines = [qemu_prints(rule, "too-old", facts["vmsd"], facts["version"], facts["local"]),
                 qemu_prints(rule, "load-failed", instance, section.idstr)]
        holds = f"{facts['vmsd']} version {facts['version']}"
        expected = f"minimum_version_id {facts['local']} at least"
    elif stop.kind == "unknown-subsection":
        rule = "subsection-removed"
        lines = [qemu_prints(rule, "load-failed", instance, section.idstr)]
        holds = f"subsection '{facts['subsection']}'"
        known = ", ".join(facts["known"]) or "none"
        expected = f"a subsection {facts['vmsd']} knows ({known}), or the end of the section"
    elif stop.kind == "hand-written":  # no way of reading virtio_save()'s bytes ends where they do
        nearest, end = facts["nearest"], facts["end"]
        rule, detected = ("field-removed" if nearest < end else "field-added"), nearest
        lines = [qemu_prints(rule, "footer-missing", section.idstr)]
        holds = f"{facts['written']} bytes written by hand, to offset {end}"
        expected = (f"bytes that end elsewhere: every way of reading them with REV's model fails or ends "
                    f"elsewhere, the nearest at offset {nearest} ({nearest - end:+d} bytes)")
    else:  # the fields did not add up: the footer is not where the revision looks for it
        detected = offset
        rule, offset, path, holds, expected = _divergence(stop, loader, schema)
        lines = [qemu_prints(rule if rule != "field-reordered" else "field-removed", "footer-missing",
                             section.idstr)]
    recipe = load_catalogue()[rule].recipes[0]
    return {"rule": rule, "section": section.idstr, "instance_id": section.instance_id, "path": path,
            "offset": offset, "detected_at": detected, "stream_holds": holds, "expected": expected,
            "qemu_prints": lines, "recipe": {"title": recipe.title, "body": recipe.body},
            "message_args": _message_args(rule, facts, path, holds, expected, section.idstr)}


def _message_args(rule: str, facts: dict[str, Any], path: str, holds: str, expected: str,
                  idstr: str) -> dict[str, object]:
    """The placeholders of RULE's message (rules/<rule>.toml) for a failure of the stream,
    for `STREAM..REV` (app/streamrange.py): the stream is OLD, REV is NEW."""
    field = path.rsplit("/", 1)[-1]
    by_rule: dict[str, dict[str, object]] = {
        "section-removed": {"section": idstr, "owner": "sent by the stream's source"},
        "instance-id-changed": {"section": idstr, "old_instance": holds.rsplit(" ", 1)[-1],
                                "new_instance": " or ".join(map(str, facts.get("fixed", ())))},
        "version-decreased": {"old_version": facts.get("version"), "new_version": facts.get("local")},
        "minimum-version-raised": {"new_minimum": facts.get("local"), "old_version": facts.get("version")},
        "subsection-removed": {"subsection": facts.get("subsection"), "when": "(the stream carries it)"},
        "field-removed": {"field": field, "old_layout": holds, "after": "", "condition": ""},
        "field-added": {"field": field, "new_layout": expected, "after": ""},
        "field-size-changed": {"field": field, "old_layout": holds, "new_layout": expected},
        "field-reordered": {"field": field, "old_index": f"({holds})", "new_index": f"({expected})"},
    }
    return by_rule.get(rule, {})


def _divergence(stop: Stop, loader: Loader | None, schema: WireSchema) -> tuple[str, int, str, str, str]:
    """(type, offset, path, what the stream holds, what the revision expected) at the first
    field the revision read that is not the one the source wrote there."""
    steps = sorted(loader.steps, key=lambda s: s.start) if loader else []
    first = next((s for s in steps if s.entry is None or s.entry.size * s.entry.count != s.size
                  or not same_name(s.path.rsplit("/", 1)[-1].split("[")[0], s.entry.name)), None)
    if first is None:  # every field read was the source's: the revision stops early, or reads on
        sent = loader.sent.get(stop.offset) if loader else None
        if stop.kind == "past-end":
            return ("field-added", stop.offset, stop.path, "the end of the section",
                    f"{stop.path} ({stop.facts.get('wanted')} bytes)")
        holds = f"{sent.name} ({sent.size * sent.count} bytes)" if sent else f"{stop.facts.get('left')} byte(s)"
        return "field-removed", stop.offset, _path_of(stop.path, sent), holds, "the end of the section (its footer)"
    ours = f"{first.path.rsplit('/', 1)[-1]} ({first.size} bytes)"
    entry = first.entry
    if entry is None:
        return "field-added", first.start, first.path, "no field of the source starts there", ours
    held = f"{entry.name} ({entry.size * entry.count} bytes)"
    if same_name(first.path.rsplit("/", 1)[-1].split("[")[0], entry.name):
        return "field-size-changed", first.start, first.path, held, ours
    owner = schema.vmsds.get(first.owner)
    names = {f.name for f in owner.fields} if owner else set()
    gone = not any(same_name(name, entry.name) for name in names)
    path = first.path.rsplit("/", 1)[0] + "/" + entry.name
    return ("field-removed" if gone else "field-reordered"), first.start, path, held, ours


def _path_of(path: str, sent: Entry | None) -> str:
    return f"{path}/{sent.name}" if sent else path
