"""Which versioned machine types a migration finding breaks, given NEW's machine facts.

Migration between two QEMU releases is promised only for one versioned machine type, so
the machine types that matter are those both releases have: NEW's versioned machine
types no newer than OLD's release.  A finding about state that NEW sends only while a
device property is on (a subsection's .needed, a field's test) spares every machine type
whose compat properties turn it off: the verdict names the compat entry that does so
(`machines.gated` of a finding, ../shared/design/cli.md) and lists the machine types
left (`machines.breaks`).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ..extract.cache import Cache
from ..extract.gates import FieldRead, Gate, default_value, gate, parse_value
from ..extract.machines import CompatProperty, MachineFacts, MachineType, qemu_release, stored_machine_facts
from ..extract.properties import DeviceProperty
from ..model import Extraction
from ..sources.tree import SourceTree


@dataclass(frozen=True, slots=True)
class Question:
    """A finding, as far as machine types go."""
    vmsd: str  # the wire name of the VMSD (or subsection) the change is in
    types: tuple[str, ...]  # the QOM types whose section it reaches
    function: str | None  # the subsection's .needed or the field's test function in NEW, if any
    file: str | None  # the file defining that function (the VMSD's file)
    old_release: str  # OLD's QEMU release, "7.2"
    spared_when_sent: bool = False  # spared where the function keeps the state sent, not where it is off


@dataclass(frozen=True, slots=True)
class Gated:
    """The compat entry that turns the property off: `machines.gated` of cli.md."""
    driver: str
    property: str
    value: str
    compat: str  # the GlobalProperty array: "hw_compat_8_1", "ccw_machine_9_2_class_options:compat"
    file: str
    line: int
    up_to: str  # the newest machine type version it covers, "8.1"

    def to_json(self) -> dict[str, object]:
        return {"driver": self.driver, "property": self.property, "value": self.value, "compat": self.compat,
                "file": self.file, "line": self.line, "up_to": self.up_to}


@dataclass(frozen=True, slots=True)
class Verdict:
    breaks: tuple[str, ...]  # the versioned machine types of both releases that the finding breaks
    gated: Gated | None
    condition: str | None = None  # the run-time condition the state also needs, besides the property
    function: str | None = None  # the function read, "file:name"
    board_only: bool = False  # no versioned machine type can hold the state (extract.holders)

    def to_json(self) -> dict[str, object]:
        """`machines` of a finding in cli.md's JSON."""
        return {"breaks": list(self.breaks), "gated": self.gated.to_json() if self.gated else None,
                "board_only": self.board_only}


def release(text: str) -> tuple[int, ...]:
    """ "7.2" (or "v7.2.0") as (7, 2): a release compared with machine type versions."""
    parts = text.strip().lstrip("v").split(".")
    numbers = tuple(int(p) for p in parts if p.isdigit())
    return numbers[:2] if len(numbers) > 2 and numbers[2] == 0 else numbers


def common_machines(facts: MachineFacts, old_release: str, hw_dirs: Iterable[str] | None = None,
                    keys: Collection[str] | None = None) -> list[MachineType]:
    """NEW's versioned machine types that OLD's release has too (of HW_DIRS, and with a
    MachineType.key among KEYS, when given)."""
    old = release(old_release)
    dirs = set(hw_dirs) if hw_dirs is not None else None
    return [m for m in facts.machines if m.version <= old and (dirs is None or m.hw_dir in dirs)
            and (keys is None or m.key in keys)]


def machine_verdict(question: Question, facts: MachineFacts, hw_dirs: Iterable[str] | None = None,
                    keys: Collection[str] | None = None) -> Verdict:
    """The machine types QUESTION's finding breaks, and the compat entry sparing the others
    (of the machine types in hw/<dir> for HW_DIRS, and of KEYS, when given)."""
    machines = common_machines(facts, question.old_release, hw_dirs, keys)
    reads = facts.reads.get(f"{question.file}:{question.function}") if question.function else None
    if not reads or not question.types:
        return Verdict(tuple(dict.fromkeys(m.name for m in machines)), None)
    # a machine type is spared when, for every type the section belongs to, the state is off
    if question.spared_when_sent and (len(reads) != 1 or reads[0].condition is not None):
        return Verdict(tuple(dict.fromkeys(m.name for m in machines)), None)  # sent only at run time's will
    per_owner = [_spared(owner, reads, facts, machines, question.spared_when_sent) for owner in question.types]
    spared = {_key(m): [pair for found in per_owner for pair in found[_key(m)]] for m in machines
              if all(found[_key(m)] for found in per_owner)}
    # one name in two directories (virt-7.2 of arm and of m68k) is listed once
    breaks = tuple(dict.fromkeys(m.name for m in machines if _key(m) not in spared))
    function = f"{question.file}:{question.function}"
    best = _most_sparing(spared)
    if best is None:
        return Verdict(breaks, None, function=function)
    chosen, entry = best
    return Verdict(breaks, _gated(facts, entry), chosen.condition, function)


Spare = tuple[Gate, "CompatProperty | None"]  # a gate, and the compat entry turning it off (None: the default)
Key = tuple[str, str]  # (hw_dir, name): two targets' machine types may share a name


def _key(machine: MachineType) -> Key:
    return machine.hw_dir, machine.name


def _spared(owner: str, reads: tuple[FieldRead, ...], facts: MachineFacts,
            machines: list[MachineType], when_sent: bool = False) -> dict[Key, list[Spare]]:
    """machine type -> what keeps OWNER's state unsent on it: a term of the function's
    conjunction whose property is off, on OWNER or a device created in it (WHEN_SENT:
    what keeps it sent, the property the function is alone with at its other value)."""
    found: dict[Key, list[Spare]] = {_key(m): [] for m in machines}
    for obj in facts.objects(owner):
        for read in reads:
            found_gate = gate(read, facts.properties, (obj,))
            if found_gate is None:
                continue
            for m in machines:
                off, entry = _turned_off(facts, m, obj, found_gate, when_sent)
                if off:
                    found[_key(m)].append((found_gate, entry))
    return found


def _turned_off(facts: MachineFacts, machine: MachineType, obj: str, found: Gate,
                inverted: bool = False) -> tuple[bool, CompatProperty | None]:
    """Whether MACHINE leaves FOUND's property at its disabling value (INVERTED: at any
    other) on a device of type OBJ, and the compat entry that sets it (None: the default)."""
    value, entry = _value_on(machine, facts.properties.lineage(obj), found.prop)
    return value is not None and (value == parse_value(found.disables)) != inverted, entry


Value = bool | int | None  # a property value as parse_value() reads it (None: not known)


def _value_on(machine: MachineType, lineage: list[str], prop: DeviceProperty) -> tuple[Value, CompatProperty | None]:
    """PROP's value on a device of the type whose ancestors are LINEAGE, on MACHINE: its
    default, or the last of the machine's compat entries setting it on one of LINEAGE
    (object_apply_global_props(): a later entry wins).  An entry under a condition
    (`if (kvm_enabled())`) may not apply: it is left out."""
    value, setter = default_value(prop), None
    for entry in machine.compat:
        if entry.property == prop.name and entry.driver in lineage and entry.condition is None:
            value, setter = parse_value(entry.value), entry
    return value, setter


def machine_value(machine: MachineType, lineage: list[str], prop: DeviceProperty) -> Value:
    """PROP's value on MACHINE for a device whose type and ancestors are LINEAGE: its
    default, or the last unconditional compat entry setting it."""
    return _value_on(machine, lineage, prop)[0]


def property_value(facts: MachineFacts, machine: MachineType, type_name: str,
                   name: str) -> tuple[Value, CompatProperty | None, str] | None:
    """(value, compat entry setting it or None for the default, device type having it) of
    property NAME on a device of TYPE_NAME (or one created inside it: virtio-net-pci's
    virtio-net-device) on MACHINE; None when none of them has the property."""
    for obj in facts.objects(type_name):
        found = facts.properties.named(obj, name)
        if found is not None:
            value, entry = _value_on(machine, facts.properties.lineage(obj), found[1])
            return value, entry, obj
    return None


def _most_sparing(spared: dict[Key, list[Spare]]) -> tuple[Gate, CompatProperty] | None:
    """The (gate, compat entry) sparing the most machine types: the one to report.  A
    property whose default spares the newer types while compat entries turn it on for
    older ones is the reverse of a gate for older machine types: not reported."""
    counts: dict[tuple[str, str, CompatProperty], int] = {}
    first: dict[tuple[str, str, CompatProperty], tuple[Gate, CompatProperty]] = {}
    for pairs in spared.values():
        for found_gate, entry in dict.fromkeys(pairs):
            if entry is None:
                continue
            key = (found_gate.driver, found_gate.property, entry)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, (found_gate, entry))
    return first[max(counts, key=lambda k: counts[k])] if counts else None


def _gated(facts: MachineFacts, entry: CompatProperty) -> Gated:
    """ENTRY as cli.md's `machines.gated`: up to the newest machine type applying it."""
    covered = [m.version for m in facts.machines if entry in m.compat]
    up_to = ".".join(map(str, max(covered))) if covered else ""
    return Gated(entry.driver, entry.property, entry.value, entry.compat, entry.file, entry.line, up_to)


class MachineSource:
    """One source endpoint's machine facts, computed (or read from the cache) when first
    asked: a run whose report has no finding never pays for them."""

    def __init__(self, tree: SourceTree, extraction: Extraction, cache: Cache | None):
        self.tree, self.extraction, self.cache = tree, extraction, cache
        self._facts: MachineFacts | None = None
        self._release: str | bool | None = False
        # the endpoint this one is compared with: its facts are derived from the base's
        # when the trees are a few .c files apart (pre-commit's index from HEAD)
        self.base: MachineSource | None = None

    @property
    def release(self) -> str | None:
        """The tree's QEMU release ("7.2"), None without a VERSION file."""
        if self._release is False:
            self._release = qemu_release(self.tree)
        return self._release if isinstance(self._release, str) else None

    def facts(self) -> MachineFacts:
        if self._facts is None:
            self._facts = stored_machine_facts(self.tree, self.extraction, self.cache, self.base)
        return self._facts
