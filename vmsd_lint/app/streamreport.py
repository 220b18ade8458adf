"""What `check-stream` prints: the description of a stream (--describe) and the verdict of
a revision on it, as text or JSON. Rendering only: nothing here decodes or judges."""
from __future__ import annotations

import json
from typing import Any

from ..sources.stream import Section, Stream
from .streamcheck import FAILS, LOADS, LOADS_IF_HOOKS, NOT_DECODED, NOT_REACHED, StreamVerdict

STATUS_TEXT = {
    LOADS: "loads",
    LOADS_IF_HOOKS: "loads, if its post_load accepts the values",
    NOT_DECODED: "not decoded",
    NOT_REACHED: "not reached (the load stopped before)",
    FAILS: "FAILS",
}


def described_sections(stream: Stream, desc: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each section (an iterative one's pieces each) with where it lies and what it is."""
    names = {}
    devices = desc.get("devices") if isinstance(desc, dict) else None
    for entry in devices if isinstance(devices, list) else ():
        if isinstance(entry, dict):
            names[(entry.get("name"), entry.get("instance_id"))] = entry.get("vmsd_name")
    return [_section(s, names.get((s.idstr, s.instance_id))) for s in stream.sections]


def _section(section: Section, vmsd_name: object) -> dict[str, Any]:
    return {"kind": section.kind, "section_id": section.section_id, "idstr": section.idstr,
            "instance_id": section.instance_id, "version_id": section.version_id,
            "offset": section.header_start, "body_offset": section.start, "size": section.end - section.start,
            "vmsd_name": vmsd_name if isinstance(vmsd_name, str) else None}


def describe_json(name: str, stream: Stream, desc: dict[str, Any] | None) -> str:
    data = {
        "stream": name, "size": stream.size, "machine": stream.machine,
        "sections": described_sections(stream, desc),
        "commands": [{"offset": c.offset, "name": c.name, "size": c.end - c.start} for c in stream.commands],
        "eof": stream.eof,
        "vmdesc": None if stream.vmdesc is None else {"offset": stream.vmdesc[0],
                                                      "size": stream.vmdesc[1] - stream.vmdesc[0]},
    }
    return json.dumps(data, indent=2) + "\n"


def describe_text(name: str, stream: Stream, desc: dict[str, Any] | None) -> str:
    lines = [f"{name}: {stream.size} bytes, machine {stream.machine or '(no configuration section)'}",
             f"{'offset':>10}  {'kind':<13} {'id':>4}  {'idstr':<32} {'inst':>4} {'ver':>4} {'bytes':>9}  vmsd"]
    for s in described_sections(stream, desc):
        lines.append(f"{s['offset']:>10}  {s['kind']:<13} {_opt(s['section_id']):>4}  {s['idstr']:<32} "
                     f"{_opt(s['instance_id']):>4} {_opt(s['version_id']):>4} {s['size']:>9}  {s['vmsd_name'] or ''}")
    for c in stream.commands:
        lines.append(f"{c.offset:>10}  command {c.name} ({c.end - c.start} bytes of data)")
    vmdesc = "no JSON description" if stream.vmdesc is None else \
        f"JSON description at {stream.vmdesc[0]} ({stream.vmdesc[1] - stream.vmdesc[0]} bytes)"
    lines.append(f"{stream.eof:>10}  end of the stream (QEMU_VM_EOF); {vmdesc}")
    return "\n".join(lines) + "\n"


def _opt(value: object) -> str:
    return "-" if value is None else str(value)


def verdict_json(name: str, verdict: StreamVerdict) -> str:
    data: dict[str, Any] = {
        "stream": name,
        "revision": {"endpoint": verdict.revision, "commit": verdict.commit},
        "machine": verdict.machine,
        "result": "fails" if verdict.failure else "loads",
        "sections": [dict(_section(v.section, None), status=v.status, vmsd=v.vmsd, hooks=v.hooks, note=v.note)
                     for v in verdict.sections],
        "failure": verdict.failure,
        "notes": verdict.notes,
    }
    for section in data["sections"]:
        del section["vmsd_name"]
    return json.dumps(data, indent=2) + "\n"


def verdict_text(name: str, verdict: StreamVerdict) -> str:
    commit = f" ({verdict.commit[:12]})" if verdict.commit else ""
    lines = [f"{name} into {verdict.revision}{commit}, machine {verdict.machine or 'unknown'}:"]
    counts: dict[str, int] = {}
    for v in verdict.sections:
        counts[v.status] = counts.get(v.status, 0) + 1
        if v.status == NOT_REACHED:
            continue
        where = f"{v.section.idstr} (instance {_opt(v.section.instance_id)}, version {_opt(v.section.version_id)})"
        lines.append(f"  {STATUS_TEXT[v.status]}: {where}")
        if v.status == LOADS_IF_HOOKS:
            lines.extend(f"      {hook}" for hook in v.hooks)
        if v.note:
            lines.append(f"      {v.note}")
        if v.failure:
            lines.extend(_failure_lines(v.failure, verdict.revision))
    if counts.get(NOT_REACHED):
        lines.append(f"  {counts[NOT_REACHED]} section(s) after it not reached: QEMU stops at the first failure")
    lines.extend(f"note: {note}" for note in verdict.notes)
    summary = ", ".join(f"{counts[s]} {text.split(' (')[0]}" for s, text in STATUS_TEXT.items() if counts.get(s))
    lines.append(f"{'FAILS' if verdict.failure else 'loads'}: {len(verdict.sections)} sections: {summary}")
    return "\n".join(lines) + "\n"


def _failure_lines(failure: dict[str, Any], revision: str) -> list[str]:
    offset = failure["offset"]
    lines = [f"      at byte {offset} (0x{offset:x}) of the stream, field {failure['path']}",
             f"      the stream holds: {failure['stream_holds']}",
             f"      {revision} expects: {failure['expected']}"]
    if failure.get("detected_at") is not None:
        lines.append(f"      QEMU notices at byte {failure['detected_at']}, where it looks for the section footer")
    lines.append(f"      type: {failure['rule']} (vmsd-lint explain {failure['rule']})")
    lines.extend(f"      QEMU prints: {line}" for line in failure["qemu_prints"])
    lines.append(f"      fix: {failure['recipe']['title']}")
    return lines
