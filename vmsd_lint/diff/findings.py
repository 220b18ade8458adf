"""What a check reports: findings (typed by a catalogue slug) and the report around them.

Detection code creates these records; formatters render them and never recompute.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..catalogue import SEVERITIES, load_catalogue, placeholders
from ..model import Diagnostic, Direction, EndpointKind, Location, Severity

if TYPE_CHECKING:
    from ..placement.machines import Verdict
    from .causes import Cause

FORWARD, BACKWARD = Direction.FORWARD, Direction.BACKWARD
# How a note points at the diagnostics: JSON lists them always; the text report only with
# --show-diagnostics, and says so instead (report/text.py).
DIAGNOSTICS_LISTED = "(listed under diagnostics)"
DIAGNOSTICS_HIDDEN = "(run with --show-diagnostics)"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # catalogue slug
    severity: str
    directions: tuple[str, ...]  # sorted: ("backward", "forward"), empty for info
    vmsd: str  # wire name of the VMSD the change is in (a subsection's own name)
    path: str  # where inside it: "serial/lsr"; the section or VMSD name for whole-VMSD changes
    args: tuple[tuple[str, str], ...]  # message arguments, rendered by the catalogue's template
    old: Location | None = None
    new: Location | None = None
    sections: tuple[str, ...] = ()  # top-level wire sections this change reaches
    types: tuple[str, ...] = ()  # QOM types whose state it is
    runtime_error: str | None = None  # what QEMU prints when the stream breaks
    commit: str | None = None  # filled by --per-commit: "<sha12> <subject>"
    introduced_by: str | None = None  # filled by review: the patch, "[PATCH 2/3] subject"
    waived_by: str | None = None  # the reason of the waiver that matched
    # the target whose own state it is (target/<target>/: its CPU), where one wire name
    # ("cpu", "cpu/fpu") is used by several targets; None for shared state
    target: str | None = None
    note: str | None = None
    # the targets whose qemu-system binary holds the state (the build model); None when
    # the endpoints cannot say (a dump, a tree without meson.build)
    targets: tuple[str, ...] | None = None  # what the reader must know besides the message (no sender found...)
    # the functions whose result decides whether the state is sent, innermost first: the
    # field's test, the subsection's .needed; (side "old"/"new", file, function)
    gates: tuple[tuple[str, str, str], ...] = ()
    # the break is where the gated state IS sent: a field that was always sent now has a
    # test (or the reverse), so a machine type is spared where its test keeps sending it
    spared_when_sent: bool = False
    # the verdict for versioned machine types (app/verdicts.py); None when the endpoints
    # cannot say (a dump, a tree without machine types)
    machines: Verdict | None = None
    # why a machine verdict lowered the severity (gated, board-only), and what it was:
    # (severity, directions) as the detector found them
    downgrade: str | None = None
    was: tuple[str, tuple[str, ...]] | None = None
    fix: str | None = None  # a recipe naming this finding's own device, property and compat array
    # the changed definition (a macro) that made this change, when the field's own lines
    # did not change (diff/causes.py)
    cause: Cause | None = None

    @property
    def broken_directions(self) -> tuple[str, ...]:
        """The directions the change breaks on the wire, before any machine verdict."""
        return self.was[1] if self.was is not None else self.directions

    @property
    def fingerprint(self) -> str:
        """Stable id of the finding: its type and place, not its words (nor the verdict of
        machine types, which settings change)."""
        key = "\0".join((self.rule, self.vmsd, self.path, ",".join(self.broken_directions)))
        if self.target:
            key += "\0" + self.target
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def identity(self) -> tuple[str, str, str, tuple[str, ...], str | None]:
        """What makes two findings the same one (merging, per-commit attribution)."""
        return (self.rule, self.vmsd, self.path, self.broken_directions, self.target)

    @property
    def arguments(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def origin(self) -> str | None:
        """The commit or patch that introduced the finding, where a timeline was walked."""
        return self.commit or self.introduced_by

    @property
    def location(self) -> Location | None:
        return self.new or self.old

    def sort_key(self) -> tuple[str, str, str, str, str, int, str, tuple[str, ...]]:
        loc = self.location
        return (self.sections[0] if self.sections else self.vmsd, self.target or "", self.vmsd, self.path,
                loc.file if loc else "", loc.line if loc else 0, self.rule, self.directions)

    def with_(self, **changes: Any) -> Finding:
        return replace(self, **changes)


def new_finding(rule: str, *, vmsd: str, path: str, args: dict[str, object] | None = None,
                severity: str | None = None, directions: tuple[str, ...] | None = None,
                old: Location | None = None, new: Location | None = None, **more: Any) -> Finding:
    """A finding of a catalogue type, checked against its rule file: the arguments are
    exactly the message template's placeholders, and the severity and directions are ones
    the rule allows (by default, the rule's own). Detection code says which rule and what
    it saw; the wording and the allowed verdicts live in rules/<slug>.toml."""
    spec = load_catalogue().get(rule)
    if spec is None:
        raise ValueError(f"no rule file for finding type '{rule}'")
    severity = spec.severity if severity is None else severity
    directions = tuple(sorted(spec.directions if directions is None else directions))
    if not spec.allows(severity, directions):
        raise ValueError(f"rules/{rule}.toml does not allow a {severity} finding breaking "
                         f"{', '.join(directions) or 'nothing'}")
    values = {key: str(value) for key, value in (args or {}).items()}
    expected = set(_placeholders(rule))
    if set(values) != expected:
        raise ValueError(f"rules/{rule}.toml's message takes {sorted(expected)}, not {sorted(values)}")
    return Finding(rule, severity, directions, vmsd, path, tuple(sorted(values.items())), old, new, **more)


@functools.cache
def _placeholders(rule: str) -> tuple[str, ...]:
    return placeholders(load_catalogue()[rule].message)


@dataclass(frozen=True, slots=True)
class Endpoint:
    label: str
    commit: str | None
    kind: EndpointKind


@dataclass(slots=True)
class Report:
    """Not frozen: a check fills it in steps (compare, then --per-commit attribution and
    the waivers replace `findings`, app/); the renderers only read it."""
    old: Endpoint
    new: Endpoint
    findings: list[Finding] = field(default_factory=list)
    waived: list[Finding] = field(default_factory=list)
    diagnostics: list[tuple[str, Diagnostic]] = field(default_factory=list)  # (side, diagnostic)
    unmatched_waivers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not checked, and why
    # every target either endpoint builds (extract/build); None when they cannot say
    targets: tuple[str, ...] | None = None
    machines_judged: bool = False  # the findings carry verdicts for machine types
    machine: str | None = None  # --machine: the one machine type judged

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        counts["waived"] = len(self.waived)
        if self.machines_judged:
            counts.update(self.machine_counts())
        return counts

    def machine_counts(self) -> dict[str, int]:
        """How many findings are board-only, gated by a compat property (and breaking no
        machine type), and breaking versioned machine types."""
        verdicts = [f.machines for f in self.findings if f.machines is not None]
        return {"board_only": sum(1 for v in verdicts if v.board_only),
                "gated": sum(1 for v in verdicts if not v.board_only and v.gated is not None and not v.breaks),
                "breaking": sum(1 for v in verdicts if not v.board_only and v.breaks)}

    def failed(self, strict: bool = False) -> bool:
        failing = (Severity.ERROR, Severity.WARNING) if strict else (Severity.ERROR,)
        return any(f.severity in failing for f in self.findings)
