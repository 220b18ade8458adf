"""Each finding's verdict for versioned machine types, and the severity that follows.

QEMU promises migration between two releases only for a versioned machine type both
have (pc-q35-7.2 from 7.2 to 10.0), so a finding is judged per machine type:

- which machine types count: NEW's versioned machine types built by the finding's targets
  (a target builds a machine type when it compiles the file defining it: pseries is
  ppc64's, not ppc's), no newer than OLD's release, that can hold its devices
  (extract/holders.py); with --machine, that one;
- **board-only**: no versioned machine type of its targets, of any version, can hold the
  devices (in either tree): QEMU promises nothing, the severity is lowered to the
  `board_only` setting (info by default);
- **gated**: the state is sent only while a device property is on, and every machine type
  that counts turns it off with a compat entry (ramfb's x-migrate, off in hw_compat_8_1):
  no machine type breaks, the finding is info;
- otherwise the finding lists the machine types it breaks.

A finding about state on both sides (a field whose test changed) is spared on a machine
type only when the gates of both sides spare it; state of one side (added, removed) by
that side's gates.  The fingerprint keeps the directions the change breaks on the wire,
so waivers and --per-commit attribution do not depend on the verdict.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..catalogue import SEVERITIES, load_catalogue
from ..diff.findings import Finding, Report
from ..diff.properties import property_defaults
from ..errors import InputError
from ..extract.machines import MachineFacts, MachineType, is_machine_file
from ..extract.properties import defaults_may_differ
from ..extract.rust import RUST_SUFFIX
from ..model import InitContext, Placement, Severity, section_key
from ..placement.machines import Question, Verdict, machine_verdict, release
from ..placement.targets import with_targets
from ..placement.wire import WireSchema

QDEV_OWNER = "dc->vmsd of "  # a qdev placement's function: the device type whose dc->vmsd it is (contexts.py)
# the rules of new state: a finding of these that breaks machine types and is gated by no
# property gets the recipe of one (property + compat entry)
NEW_STATE_RULES = ("subsection-added", "subsection-added-unconditional", "field-added", "field-added-conditional",
                   "field-added-versioned")


@dataclass(frozen=True, slots=True)
class MachinePolicy:
    """What a run asked of the verdicts: --machine, and [settings] board_only."""
    machine: str | None = None
    board_only: str = Severity.INFO  # the severity a board-only finding gets at most


DEFAULT_POLICY = MachinePolicy()


class MachineJudge:
    """The verdicts of OLD..NEW's findings, from both endpoints' machine facts (computed
    when first needed: NEW's always, OLD's only for what NEW cannot answer)."""

    def __init__(self, old: WireSchema, new: WireSchema, policy: MachinePolicy):
        self.old, self.new, self.policy = old, new, policy
        self._old_facts: MachineFacts | None = None
        self._by_targets: dict[tuple[str, ...] | None, list[MachineType]] = {}
        self._held: dict[tuple[str, ...], tuple[set[int], set[int] | None]] = {}
        self._files: dict[str, set[str]] = {}
        self._arrays: dict[str, str] = {}  # compat array -> where NEW defines it, for the recipe
        self._holding: dict[tuple, list[MachineType]] = {}
        self._new_facts: MachineFacts | None = None

    def available(self) -> bool:
        """Whether both endpoints are source trees of a QEMU release with versioned machine
        types (a sample tree has none: its findings get no verdict)."""
        if self.old.machines is None or self.new.machines is None or self.old.machines.release is None:
            return False
        return bool(self.new_facts.machines)

    @property
    def new_facts(self) -> MachineFacts:
        if self._new_facts is None:
            assert self.new.machines is not None
            self._new_facts = self.new.machines.facts()
        return self._new_facts

    @property
    def old_facts(self) -> MachineFacts:
        if self._old_facts is None:
            assert self.old.machines is not None
            self._old_facts = self.old.machines.facts()
        return self._old_facts

    @property
    def old_release(self) -> str:
        assert self.old.machines is not None and self.old.machines.release is not None
        return self.old.machines.release

    # -- which machine types count ----------------------------------------------------
    def check_machine(self, target: str | None) -> None:
        """--machine must name a versioned machine type of NEW (of --target's binary, when
        given) that OLD's release has too: else an input error listing the known ones."""
        name = self.policy.machine
        if name is None:
            return
        known = [m for m in self.new_facts.machines if target is None or self._compiles(target, m.file)]
        found = [m for m in known if m.name == name]
        where = f"qemu-system-{target}" if target else "NEW"
        if not found:
            names = ", ".join(sorted({m.name for m in known}, key=_machine_order)) or "none"
            raise InputError(f"unknown machine type '{name}' (versioned machine types of {where}: {names})")
        if all(m.version > release(self.old_release) for m in found):
            raise InputError(f"machine type '{name}' is newer than OLD's release {self.old_release}: "
                             f"a stream of OLD cannot use it")

    def _compiles(self, target: str, path: str) -> bool:
        build = (self.new.builds or {}).get(target) or (self.old.builds or {}).get(target)
        return build is None or build.compiles(path)

    def _versioned(self, finding: Finding) -> list[MachineType]:
        """NEW's versioned machine types (any version) of the finding's targets."""
        found = self._by_targets.get(finding.targets)
        if found is None:
            machines = list(self.new_facts.machines)
            if finding.targets is not None:
                built = {target: self._built(target) for target in finding.targets}
                machines = [m for m in machines if any(m.file in files for files in built.values())]
            if self.policy.machine is not None:
                machines = [m for m in machines if m.name == self.policy.machine]
            found = self._by_targets[finding.targets] = machines
        return found

    def _built(self, target: str) -> set[str]:
        """The files of NEW's machine types that TARGET compiles."""
        found = self._files.get(target)
        if found is None:
            found = self._files[target] = {m.file for m in self.new_facts.machines if self._compiles(target, m.file)}
        return found

    def _holds(self, machine: MachineType, finding: Finding) -> bool:
        """Whether MACHINE can hold the finding's state: a device of its types, or else
        what registers its sections."""
        if finding.types:
            return self._holds_types(machine, finding.types)
        placements = self._placements(finding)
        return not placements or any(self._placement_holds(machine, p) for p in placements)

    def _holds_types(self, machine: MachineType, types: Iterable[str]) -> bool:
        types = tuple(types)
        found = self._held.get(types)
        if found is None:
            found = self._held[types] = self._holding_sets(types)
        new_sets, old_sets = found
        new = self.new_facts.holders
        if new is None or new.by_machine.get(machine.key, -1) in new_sets:
            return True
        if old_sets is None:
            return False  # NEW knows them all: OLD's facts are not needed (nor computed)
        old = self.old_facts.holders
        return old is None or old.by_machine.get(machine.key, -1) in old_sets

    def _holding_sets(self, types: tuple[str, ...]) -> tuple[set[int], set[int] | None]:
        """The indices of NEW's holders' sets holding one of TYPES, and of OLD's when NEW
        does not know them all (None when it does)."""
        known = all(t in self.new.type_sections for t in types)
        # a Rust implementation ("pl011 (rust)") is created under its C twin's QOM name
        types = tuple(t.removesuffix(RUST_SUFFIX) for t in types)
        new = self.new_facts.holders
        new_sets = {i for i, held in enumerate(new.created) for t in types if t in held} if new else set()
        if known:
            return new_sets, None
        old = self.old_facts.holders
        return new_sets, {i for i, held in enumerate(old.created) for t in types if t in held} if old else set()

    def _placements(self, finding: Finding) -> list[Placement]:
        found: list[Placement] = []
        for schema in (self.new, self.old):
            for name in finding.sections:
                found.extend((schema.placements or {}).get(section_key(name, finding.target), ()))
        return found

    def _placement_holds(self, machine: MachineType, placement: Placement) -> bool:
        """Whether MACHINE runs the code registering a section: a board's init function
        that its code reaches, or the realize of a device it can hold.  Anything else (the
        migration core's own sections, an unknown or ambiguous context) counts as held."""
        if placement.context in (InitContext.MACHINE_INIT, InitContext.MACHINE_INSTANCE_INIT):
            function = f"{placement.file}:{placement.function}"
            for facts in (self.new_facts, self.old_facts):  # OLD's only where NEW does not know the function
                found = facts.holders.registers(machine.key, function) if facts.holders is not None else None
                if found is not None:
                    return found
            return True
        if placement.context == InitContext.QDEV and placement.function.startswith(QDEV_OWNER):
            return self._holds_types(machine, [placement.function[len(QDEV_OWNER):]])
        if placement.context in (InitContext.DEVICE_REALIZE, InitContext.DEVICE_INSTANCE_INIT):
            for facts in (self.new_facts, self.old_facts):  # OLD's only where NEW does not know the hook
                types = {t for entry in placement.entries
                         for t in (facts.holders.hooked.get(entry, ()) if facts.holders is not None else ())}
                if types:
                    return self._holds_types(machine, types)
            return True
        return True

    # -- the verdict --------------------------------------------------------------------
    def verdict(self, finding: Finding) -> Verdict | None:
        """None when the finding is outside what is judged: no target compiles its state,
        or (with --machine) the machine type cannot hold it."""
        if finding.targets == ():
            return None
        if finding.machines is not None and finding.machines.board_only:
            return finding.machines  # the detector's own (a CPU model no versioned machine type runs)
        key = (finding.targets, finding.types, finding.sections if not finding.types else (), finding.target)
        holding = self._holding.get(key)
        if holding is None:  # (the findings of one section share it)
            holding = self._holding[key] = [m for m in self._versioned(finding) if self._holds(m, finding)]
        if not holding:
            return None if self.policy.machine is not None else Verdict((), None, board_only=True)
        old = release(self.old_release)
        common = [m for m in holding if m.version <= old]
        if finding.machines is not None:  # the detector's own verdict (property-default-changed)
            common = [m for m in common if m.name in finding.machines.breaks]
        if not finding.broken_directions:
            return Verdict((), None)  # wire-compatible: it breaks nothing
        names = list(dict.fromkeys(m.name for m in common))
        keys = {m.key for m in common}
        sides = [side for side in ("old", "new") if getattr(finding, side) is not None] or ["old", "new"]
        if finding.spared_when_sent:  # one side's test replaced "always": it alone decides
            sides = sorted({gate[0] for gate in finding.gates})
        spared: set[str] | None = None
        chosen: Verdict | None = None
        for side in sides:
            best = self._side_verdict(finding, side, keys)
            spared_here = set(names) - set(best.breaks) if best is not None else set()
            spared = spared_here if spared is None else spared & spared_here
            if best is not None and best.gated is not None and (chosen is None or side == "new"):
                chosen = best
        breaks = tuple(n for n in names if n not in (spared or set()))
        if chosen is None or not spared:
            return Verdict(breaks, None)
        return Verdict(breaks, chosen.gated, chosen.condition, chosen.function)

    def _side_verdict(self, finding: Finding, side: str, keys: set[str]) -> Verdict | None:
        """The verdict of SIDE's gate sparing the most machine types; None without one."""
        facts = self.new_facts if side == "new" else self.old_facts
        best: Verdict | None = None
        for gate_side, file, function in finding.gates:
            if gate_side != side:
                continue
            found = machine_verdict(Question(finding.vmsd, finding.types, function, file, self.old_release,
                                             finding.spared_when_sent), facts, keys=keys)
            if best is None or len(found.breaks) < len(best.breaks):
                best = found
        return best

    # -- the finding, judged ----------------------------------------------------------------
    def judge(self, finding: Finding) -> Finding | None:
        """FINDING with its verdict and the severity that follows; None when --machine
        leaves it out."""
        verdict = self.verdict(finding)
        if verdict is None:  # compiled by no target; with --machine, not that machine type's
            return None if self.policy.machine is not None else finding
        if finding.machines is not None and not verdict.breaks and not verdict.board_only:
            return None  # the detector's breaks (property-default-changed) none of its targets builds
        judged = finding.with_(machines=verdict)
        if verdict.board_only:
            reason = "board-only: no versioned machine type" + (f" of {', '.join(finding.targets)}"
                                                                  if finding.targets else "") + " can hold " + \
                     (", ".join(finding.types[:4]) + (", ..." if len(finding.types) > 4 else "")
                      if finding.types else "it") + "; QEMU promises no migration between releases for it"
            judged = _lowered(judged, self.policy.board_only, reason)
        elif verdict.gated is not None and not verdict.breaks:
            judged = _lowered(judged, Severity.INFO, gated_words(verdict))
        elif verdict.breaks and verdict.gated is None and finding.rule in NEW_STATE_RULES \
                and not finding.vmsd.endswith(")"):  # (not bytes written by hand: `ram_save_iterate()`)
            judged = judged.with_(fix=self.gate_recipe(finding))
        return judged

    def gate_recipe(self, finding: Finding) -> str:
        """How to keep new state off the wire for OLD's machine types: a property that its
        .needed tests, turned off in the compat array of OLD's release."""
        major, minor = (release(self.old_release) + (0, 0))[:2]
        array = f"hw_compat_{major}_{minor}"
        holder = finding.types[0] if finding.types else "<device>"
        name = re.sub(r"[^a-z0-9]+", "-", finding.path.rsplit("/", 1)[-1].lower()).strip("-") or "state"
        if array not in self._arrays:
            files = sorted({e.file for m in self.new_facts.machines for e in m.compat if e.compat == array})
            self._arrays[array] = f" ({files[0]})" if files else " (added with the next release's machine types)"
        where = self._arrays[array]
        what = "its .needed" if finding.rule.startswith("subsection") else "the .needed of a subsection holding it"
        return (f"no device property gates it: add one, e.g. DEFINE_PROP_BOOL(\"x-migrate-{name}\", <State>, "
                f"migrate_{name.replace('-', '_')}, true), test it in {what}, and add "
                f"{{ \"{holder}\", \"x-migrate-{name}\", \"off\" }} to {array}{where}, "
                f"which every machine type up to {major}.{minor} applies")


def gated_words(verdict: Verdict) -> str:
    """"safe for machine types <= 8.1: gated by ramfb x-migrate, off in hw_compat_8_1 (file:line)"."""
    gated = verdict.gated
    assert gated is not None
    return (f"safe for machine types <= {gated.up_to}: gated by {gated.driver} {gated.property}, "
            f"{gated.value} in {gated.compat} ({gated.file}:{gated.line})")


def _lowered(finding: Finding, severity: str, reason: str) -> Finding:
    """FINDING at SEVERITY when that is lower than its own (info breaks nothing: its
    directions are emptied), with the reason and what it was."""
    if SEVERITIES.index(Severity(severity)) <= SEVERITIES.index(Severity(finding.severity)):
        return finding  # not lower: the verdict says why it may not matter
    directions = () if severity == Severity.INFO else finding.directions
    rule = load_catalogue().get(finding.rule)
    if rule is not None and not rule.allows(severity, directions):
        severity, directions = Severity.INFO, ()  # the rule allows no other: no promise is kept anyway
    return finding.with_(severity=str(severity), directions=directions, downgrade=reason,
                         was=(str(finding.severity), tuple(str(d) for d in finding.directions)))


def _machine_order(name: str) -> tuple:
    numbers = tuple(int(n) for n in re.findall(r"\d+", name.rsplit("-", 1)[-1]))
    return (name.rsplit("-", 1)[0], numbers)


def property_findings(report: Report, old: WireSchema, new: WireSchema) -> list[Finding]:
    """`property-default-changed` findings of OLD..NEW (diff/properties.py), with their
    targets; none when the endpoints cannot say, or when nothing a default depends on
    changed (the machine pass is then not run for them)."""
    if old.machines is None or new.machines is None or old.machines.release is None:
        return []
    if not defaults_may_differ(old.machines.tree, new.machines.tree, is_machine_file):
        return []
    new_facts = new.machines.facts()
    if not new_facts.machines:
        return []
    return with_targets(property_defaults(old.machines.facts(), new_facts, old.machines.release, new), old, new)


def apply_machine_verdicts(report: Report, old: WireSchema, new: WireSchema, policy: MachinePolicy,
                           target: str | None = None) -> None:
    """Give REPORT's findings their verdicts (when both endpoints can say), lower the
    severities that follow, and leave out with --machine what it cannot hold."""
    judge = MachineJudge(old, new, policy)
    if policy.machine is not None and not (old.machines is not None and new.machines is not None):
        raise InputError("--machine needs two source endpoints (revisions or directories)")
    if (not report.findings and policy.machine is None) or not judge.available():
        if policy.machine is not None and old.machines is not None and new.machines is not None:
            raise InputError(f"--machine {policy.machine}: the endpoints have no versioned machine types")
        return
    judge.check_machine(target)
    judged = [judge.judge(f) for f in report.findings]
    kept = [f for f in judged if f is not None]
    left_out = len(judged) - len(kept)
    report.findings = kept
    report.machines_judged = True
    report.machine = policy.machine
    if left_out and policy.machine is not None:
        report.notes.append(f"--machine {policy.machine}: {left_out} finding(s) on state this machine type cannot "
                            f"hold are not reported")
    elif left_out:  # property-default-changed on machine types only targets not built have
        report.notes.append(f"{left_out} finding(s) on machine types of targets not built are not reported")
