"""The Arm register list of a stream's `cpu` section, judged as the destination judges it
(target/arm/machine.c): the one post_load whose checks the model knows.

The section carries `cpreg_vmstate_array_len`, then that many kvm-style indexes and
values.  The destination (REV, under TCG, running the stream's CPU model and machine type)
refuses, in this order:
- a length above its own list's (`VMSTATE_INT32_POSITIVE_LE`, get_int32_le(): "Invalid
  value N expecting positive value <= M", then "Failed to load cpu:cpreg_vmstate_array_len");
- in cpu_post_load(), an incoming index its list lacks (the two sorted lists are walked
  together; the walk ends with the destination's list, so indexes above its last are never
  looked at), and in write_list_to_cpustate() a constant register sent with another value
  (a raw write to an ARM_CP_CONST register is ignored, and the read-back differs).
Both return -1: "error while loading state for instance 0x0 of device 'cpu'", then "load
of migration failed: Operation not permitted".

The list REV accepts is estimated (diff/cpuregs.model_list(): TCG, the machine type's CPU
options); the model is --cpu, else the one of REV whose MIDR the stream's MIDR_EL1 holds.
Under KVM the list comes from the host kernel: a list holding registers TCG never lists
(firmware pseudo-registers, CCSIDR demux) is not judged, and said so.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalogue import load_catalogue, qemu_prints
from ..diff.cpuregs import UNSTABLE_MODELS, ModelList, TreeFacts, model_id_values, model_list
from ..extract import cpregs
from ..extract.machines import MachineType, target_hw_dir
from ..sources.stream import StreamData
from ..sources.tree import SourceTree
from .streamload import Step

AARCH64 = "aarch64"
LENGTH, INDEXES, VALUES = "cpreg_vmstate_array_len", "cpreg_vmstate_indexes", "cpreg_vmstate_values"
# the ID registers that name a model: (op0, op1, crn, crm, op2) of the AArch64 view -> the
# CPU field its init function sets and the register reads as a constant (MIDR would say
# it best, but it is ARM_CP_NO_RAW: not in the list)
ID_FIELDS = {
    (3, 3, 0, 0, 1): "ctr", (3, 1, 0, 0, 1): "clidr", (3, 0, 0, 0, 6): "revidr",
    (3, 0, 0, 6, 0): "isar.id_aa64isar0", (3, 0, 0, 6, 1): "isar.id_aa64isar1",
    (3, 0, 0, 7, 0): "isar.id_aa64mmfr0", (3, 0, 0, 7, 1): "isar.id_aa64mmfr1",
    **{(3, 0, 0, 2, n): f"isar.id_isar{n}" for n in range(6)},
    **{(3, 0, 0, 1, 4 + n): f"isar.id_mmfr{n}" for n in range(4)},
    **{(3, 0, 0, 3, n): f"isar.mvfr{n}" for n in range(3)},
}
# the register groups (kvm's coprocessor field, bits 16-27) TCG's list is made of:
# AArch64 system registers, and AArch32 cp14 and cp15
TCG_GROUPS = {0x6: {0x13}, 0x4: {14, 15}}
HOOKS_JUDGED = ("pre_load cpu_pre_load()", "post_load cpu_post_load()")


@dataclass(frozen=True, slots=True)
class Incoming:
    """The list the stream carries, with where each part starts in the stream."""
    length: int
    length_at: int
    indexes: list[int]
    indexes_at: int
    values: list[int]
    values_at: int


def incoming_list(data: StreamData, steps: list[Step], name: str) -> Incoming | None:
    """The register list of a section VMSD NAME loaded (its steps), None without one."""
    at = {s.path: s for s in steps}
    parts = [at.get(f"{name}/{field}") for field in (LENGTH, INDEXES, VALUES)]
    if None in parts:
        return None
    length, indexes, values = parts
    assert length is not None and indexes is not None and values is not None
    count = length.size and int.from_bytes(data[length.start:length.start + 4], "big", signed=True)
    return Incoming(count, length.start, _words(data, indexes), indexes.start, _words(data, values), values.start)


def _aa64_index(op0: int, op1: int, crn: int, crm: int, op2: int) -> int:
    return 0x6030000000130000 | op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2


def _words(data: StreamData, step: Step) -> list[int]:
    raw = data[step.start:step.start + step.size]
    return [int.from_bytes(raw[k:k + 8], "big") for k in range(0, len(raw) - 7, 8)]


def tcg_like(indexes: list[int]) -> bool:
    """Whether every index is of a group TCG lists (a KVM list has firmware registers)."""
    return all((k >> 16 & 0xfff) in TCG_GROUPS.get(k >> 60, set()) for k in indexes)


class ArmRegisters:
    """Judges the `cpu` section's list against REV (TREE, its machine facts MACHINES)."""

    def __init__(self, tree: SourceTree, machines: Any, cache: object | None, cpu: str | None,
                 machine: str | None):
        self.tree, self.machines, self.cache, self.cpu, self.machine = tree, machines, cache, cpu, machine
        self.facts = TreeFacts(tree)  # target/arm read once, only if the cache lacks an answer

    def judge(self, incoming: Incoming, instance: int, idstr: str) -> tuple[dict[str, Any] | None, str]:
        """(the failure, or None; what was judged or why not: the section's note)."""
        if not tcg_like(incoming.indexes):
            return None, ("register list not judged: it holds registers TCG never lists (a KVM source: "
                          "the host kernel makes the list, out of reach of a static tool)")
        model, why = self._model(incoming)
        if model is None:
            return None, f"register list not judged: {why}"
        machine, machine_note = self._machine()
        ours, options = model_list(self.facts, model, self.cache, machine)
        if ours.problem:
            return None, f"register list not judged: REV's list of {model} is not known ({ours.problem})"
        under = f"{model} ({why}), {options.describe()}{machine_note}"
        failure = _failure(incoming, ours, model, instance, idstr, under)
        if failure is not None:
            return failure, f"register list of {under}"
        consts = sum(1 for k in incoming.indexes if ours.values.get(k) is not None)
        return None, (f"register list judged: {incoming.length} registers, all in REV's {len(ours.regs)} of "
                      f"{under}; {consts} constant values equal (values of other registers are written "
                      f"as sent: registers with read-only bits are not modelled)")

    def _model(self, incoming: Incoming) -> tuple[str | None, str]:
        """The CPU model and how it was chosen, or None and why none was."""
        if self.cpu:
            model, why = self.cpu, "--cpu"
        else:
            model, why = self._guessed(incoming)
            if model is None:
                return None, why
        if model in UNSTABLE_MODELS:
            return None, f"CPU model {model} is not migration-stable by design (its features follow the release)"
        return model, why

    def _guessed(self, incoming: Incoming) -> tuple[str | None, str]:
        """The model of REV whose ID registers (ID_FIELDS) hold the stream's values: every
        one its init function sets to a constant equal, and the most of them compared."""
        sent = dict(zip(incoming.indexes, incoming.values, strict=False))
        wanted = {field: sent[_aa64_index(*op)] for op, field in ID_FIELDS.items() if _aa64_index(*op) in sent}
        if not wanted:
            return None, "the stream's list has none of the ID registers that name a CPU model (use --cpu)"
        matches: dict[str, int] = {}
        for model, values in model_id_values(self.facts, self.cache, tuple(ID_FIELDS.values())).items():
            known = [f for f in wanted if values.get(f) is not None]
            if all(values[f] == wanted[f] for f in known):
                matches[model] = len(known)
        best = max(matches.values(), default=0)
        named = sorted(m for m, n in matches.items() if n == best)
        if len(named) != 1 or best == 0:
            which = "no CPU model" if not named or best == 0 else f"{len(named)} CPU models ({', '.join(named)})"
            return None, f"the stream's ID registers are those of {which} of REV (use --cpu)"
        return named[0], f"its {best} ID registers"

    def _machine(self) -> tuple[MachineType | None, str]:
        """REV's machine type of --machine's name, else the stream's, and what to say of it."""
        if not self.machine or self.machines is None:
            return None, "; no machine type: the CPU's own defaults"
        hw_dir = target_hw_dir(self.tree, AARCH64)
        found = next((m for m in self.machines.facts().machines if m.name == self.machine and m.hw_dir == hw_dir),
                     None)
        if found is None:
            return None, f"; REV has no machine type {self.machine}: the CPU's own defaults"
        return found, ""


def _failure(incoming: Incoming, ours: ModelList, model: str, instance: int, idstr: str,
             under: str) -> dict[str, Any] | None:
    """The first check of REV's loader the list fails, in QEMU's order, or None."""
    limit = len(ours.regs)
    if not 0 <= incoming.length <= limit:
        lines = [qemu_prints("cpu-registers-changed", "too-long", incoming.length, limit),
                 qemu_prints("cpu-registers-changed", "field-failed", "cpu", LENGTH),
                 qemu_prints("cpu-registers-changed", "load-failed", instance, idstr),
                 qemu_prints("cpu-registers-changed", "migration-failed", "Invalid argument")]
        extra = sorted(set(incoming.indexes) - set(ours.regs))
        return _explained("cpu-registers-changed", idstr, instance, f"cpu/{LENGTH}", incoming.length_at,
                          f"{incoming.length} registers ({_named(extra, 'not in REV')})",
                          f"{limit} registers at most: REV's list of {model}", lines,
                          {"model": model, "old_count": incoming.length, "new_count": limit,
                           "added": "none", "removed": _named(extra, "")})
    post_load = [qemu_prints("cpu-registers-changed", "load-failed", instance, idstr),
                 qemu_prints("cpu-registers-changed", "migration-failed", "Operation not permitted")]
    matched, missing = _walk(incoming.indexes, sorted(ours.regs))
    if missing is not None:
        index = incoming.indexes[missing]
        return _explained("cpu-registers-changed", idstr, instance, f"cpu/{INDEXES}[{missing}]",
                          incoming.indexes_at + 8 * missing, f"register {_name(index)} ({index:#x})",
                          f"only registers of REV's list of {model}: it lacks this one", post_load,
                          {"model": model, "old_count": incoming.length, "new_count": limit,
                           "added": "none", "removed": f"1: {_name(index)}"})
    changed = [(v, k) for v, k in matched
               if ours.values.get(k) is not None and ours.values[k] != incoming.values[v]]
    if not changed:
        return None
    v, index = changed[0]
    shown = ", ".join(f"{_name(k, ours)} {incoming.values[w]:#x} -> {ours.values[k]:#x}" for w, k in changed)
    lines = [qemu_prints("cpu-register-value-changed", "load-failed", instance, idstr),
             qemu_prints("cpu-register-value-changed", "migration-failed", "Operation not permitted")]
    return _explained("cpu-register-value-changed", idstr, instance, f"cpu/{VALUES}[{v}]",
                      incoming.values_at + 8 * v, f"{_name(index, ours)} = {incoming.values[v]:#x} (all that "
                      f"differ, sent -> REV's: {shown})", f"{ours.values[index]:#x}, REV's constant for {model}", lines,
                      {"model": model, "count": len(changed), "registers": shown})


def _walk(theirs: list[int], ours: list[int]) -> tuple[list[tuple[int, int]], int | None]:
    """cpu_post_load()'s walk: the (incoming position, index) pairs matched, and the
    position of the first incoming index the destination lacks (None: none)."""
    matched: list[tuple[int, int]] = []
    i = v = 0
    while i < len(ours) and v < len(theirs):
        if theirs[v] > ours[i]:  # in our list, not sent: keeps its reset value
            i += 1
        elif theirs[v] < ours[i]:  # sent, not in our list: the load fails
            return matched, v
        else:
            matched.append((v, ours[i]))
            i, v = i + 1, v + 1
    return matched, None


def _name(index: int, ours: ModelList | None = None) -> str:
    if ours is not None and index in ours.regs:
        name = ours.regs[index][0]
        return name if index >> 60 == 0x6 else f"{name} [AArch32]"
    return cpregs.describe_index(index)


def _named(indexes: list[int], what: str) -> str:
    if not indexes:
        return f"none {what}".strip()
    shown = ", ".join(_name(k) for k in indexes[:8])
    return f"{len(indexes)} {what}: {shown}{', ...' if len(indexes) > 8 else ''}".replace("  ", " ")


def _explained(rule: str, idstr: str, instance: int, path: str, offset: int, holds: str, expected: str,
               lines: list[str], args: dict[str, object]) -> dict[str, Any]:
    """The failure in the form streamcheck.explain() gives every other one."""
    recipe = load_catalogue()[rule].recipes[0]
    return {"rule": rule, "section": idstr, "instance_id": instance, "path": path, "offset": offset,
            "detected_at": None, "stream_holds": holds, "expected": expected, "qemu_prints": lines,
            "recipe": {"title": recipe.title, "body": recipe.body}, "message_args": args}
