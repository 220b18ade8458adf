"""`vmsd-lint STREAM..REV`: a real migration stream as OLD, in the usual finding format.

A stream is one concrete source: what it carries is checked forward only, by the same
loader as `check-stream` (app/streamcheck.py).  The first section REV cannot load is an
error finding of its catalogue type at REV's VMSD; sections whose hooks judge the values
at run time, and those not decoded, are notes (what was not checked), never clean.
"""
from __future__ import annotations

import os

from ..catalogue import load_catalogue
from ..diff.findings import Endpoint, Finding, Report, new_finding
from ..errors import InputError
from ..model import Direction, EndpointKind, Location, Severity
from ..sources.stream import MAGIC, FileBytes, read_stream, read_vmdesc
from .check import Options, load_endpoint
from .streamcheck import (
    FAILS,
    LOADS_IF_HOOKS,
    NOT_DECODED,
    SectionVerdict,
    StreamVerdict,
    check_stream,
    fixed_instances,
    load_hooks,
)
from .streamcpu import ArmRegisters

MAGIC_BYTES = MAGIC.to_bytes(4, "big")


def is_stream_file(spec: str) -> bool:
    """Whether SPEC is a file that starts as QEMU's migration streams do ('QEVM')."""
    try:
        with open(spec, "rb") as file:
            return os.path.isfile(spec) and file.read(4) == MAGIC_BYTES
    except OSError:
        return False


def stream_report(stream_spec: str, new_spec: str, options: Options) -> Report:
    """The stream STREAM_SPEC against NEW_SPEC (a source endpoint), as a check's report."""
    with open(stream_spec, "rb") as file:
        data = FileBytes(file.fileno())
        split = read_stream(data)
        desc = read_vmdesc(data, split)
        schema, source = load_endpoint(new_spec, options)
        if source is None:
            raise InputError(f"{new_spec}: a stream is checked against a source endpoint (a revision, a "
                             f"directory, WORKTREE), not a JSON file")
        machine = options.machines.machine
        arm = ArmRegisters(source[0], schema.machines, options.cache, options.cpu, machine or split.machine)
        verdict = check_stream(data, split, desc, schema, load_hooks(source[1]), machine, arm,
                               fixed_instances(source[1]))
    report = Report(Endpoint(stream_spec, None, EndpointKind.SOURCE), Endpoint(new_spec, schema.commit, schema.kind))
    report.findings = [_finding(s, schema) for s in verdict.sections if s.failure]
    report.notes = verdict.notes + _unjudged(verdict)
    return report


def _finding(judged: SectionVerdict, schema) -> Finding:
    failure = judged.failure or {}
    rule = failure["rule"]
    vmsd = schema.vmsds.get(judged.vmsd) if judged.vmsd else None
    spec = load_catalogue()[rule]
    forward = (str(Direction.FORWARD),)
    severity, directions = (Severity.ERROR, forward) if spec.allows(Severity.ERROR, forward) else (None, None)
    where = Location(vmsd.file, vmsd.line or 0) if vmsd is not None and vmsd.file else None
    return new_finding(
        rule, vmsd=vmsd.name if vmsd is not None and vmsd.name else judged.section.idstr,
        path=failure["path"], args=failure["message_args"], severity=severity, directions=directions,
        new=where, sections=(judged.section.idstr,), runtime_error=" / ".join(failure["qemu_prints"]),
        note=f"the stream's byte {failure['offset']}: it holds {failure['stream_holds']}; "
             f"{schema.label} expects {failure['expected']}")


def _unjudged(verdict: StreamVerdict) -> list[str]:
    """Notes on the sections that load only if their hooks accept the values, and on
    those not decoded: what was not checked, by section."""
    hooked = [s.section.idstr for s in verdict.sections if s.status == LOADS_IF_HOOKS]
    undecoded = [f"{s.section.idstr} ({s.note})" for s in verdict.sections if s.status == NOT_DECODED]
    notes = []
    if hooked:
        notes.append(f"{len(hooked)} section(s) load if their pre_load/post_load accept the values (not "
                     f"judged): {', '.join(hooked)}")
    if undecoded:
        notes.append(f"{len(undecoded)} section(s) not decoded: {', '.join(undecoded)}")
    failed = next((s for s in verdict.sections if s.status == FAILS), None)
    if failed is not None:
        after = sum(1 for s in verdict.sections if s.status == "not-reached")
        if after:
            notes.append(f"{after} section(s) after {failed.section.idstr} not checked: QEMU stops at the first "
                         f"failure")
    return notes
