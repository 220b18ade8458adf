"""Arm CPU register lists compared: `cpu-registers-changed` (issue 15).

Arm sends its system registers as one list in the `cpu` section (target/arm/machine.c):
its length, then the kvm-style indexes and the values.  For each CPU model checked, the
list each tree migrates is estimated (extract/cpregs.py) with TCG under the CPU options
the machine type gives (extract/cpuoptions.py: `virt` turns EL3 and EL2 off), and a
model whose list gained or lost registers is one finding: added registers break
backward (NEW's longer list, or an index OLD lacks), removed ones forward.  A model
whose estimate is incomplete on either side (an undecided registration, a register not
read) is not compared: a note says why.

The work (reading target/arm twice, 4-5 s a tree) is done only when the Arm CPU code
differs between the trees (target/arm/**, hw/intc/arm_gicv3_cpuif*) or the machine
gives other CPU options, and each model's
list is cached by the tree's files.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..catalogue import qemu_prints
from ..extract import cpregs
from ..extract.cpuoptions import TCG, CpuOptions, machine_cpu_options
from ..extract.machines import MachineType, source_key
from ..extract.store import CPU_REGS, Store
from ..model import Direction, Location
from ..sources.tree import SourceTree, files_differ
from . import armmodels
from .findings import Finding, new_finding

# without --cpu: the models `virt` has accepted since long before 7.2 and that users
# migrate (cortex-a53/a57/a72); `max` and `host` are not migration-stable by design
DEFAULT_MODELS = ("cortex-a53", "cortex-a57", "cortex-a72")
UNSTABLE_MODELS = ("max", "host")
AARCH64 = "aarch64"  # the build the lists are estimated for (extract/cpregs.py)
ARM_TARGETS = (AARCH64, "arm")
ARM_PATHS = ("target/arm/", "hw/intc/arm_gicv3_cpuif")
NO_MODEL = "no such CPU model"
# what the estimate leaves out, said with every finding
NOT_MODELLED = ("other machine or CPU options, the GICv3 CPU interface's registers (hw/intc, gic-version=3: "
                "not modelled) or KVM (the host kernel's list) give other lists")
SHOWN = 24  # registers named in a message; the others are counted


@dataclass(frozen=True, slots=True)
class ModelList:
    """A model's migrated registers on one side, or why they are not known."""
    regs: dict[int, tuple[str, str, int]]  # kvm-style index -> (name, file, line)
    problem: str | None = None
    # the value each ARM_CP_CONST register of the list reads as (None: not evaluated)
    values: dict[int, int | None] = field(default_factory=dict)


def arm_code_differs(old: SourceTree, new: SourceTree) -> bool:
    """Whether a file the register lists are read from differs between the trees."""
    return files_differ(old, new, ARM_PATHS)


def cpu_register_findings(old: SourceTree, new: SourceTree, cpu: str | None, cache: object | None = None,
                          machines: tuple[MachineType | None, MachineType | None] = (None, None),
                          ) -> tuple[list[Finding], list[str]]:
    """A `cpu-registers-changed` finding per model (CPU, else DEFAULT_MODELS) whose
    migrated list differs between OLD and NEW, each side under the CPU options its
    machine type (MACHINES: OLD's, NEW's) gives, and notes on what was not checked."""
    store = Store(cache)  # type: ignore[arg-type]
    read: dict[int, cpregs.CpRegFacts] = {}  # each tree read at most once, for lists and signatures

    def facts_of(tree: SourceTree) -> cpregs.CpRegFacts:
        if id(tree) not in read:
            read[id(tree)] = cpregs.extract(tree)
        return read[id(tree)]

    options = [machine_cpu_options(tree, machine) for tree, machine in zip((old, new), machines)]
    if not arm_code_differs(old, new) and options[0].values == options[1].values:
        return [], []  # the same code under the same options: the same lists
    unstable = _unstable_changes(old, new, store, cpu, facts_of)
    named, named_notes = _named_model_changes(old, new, store, cpu, facts_of, options)
    unstable += named
    if cpu in UNSTABLE_MODELS:
        return unstable, [f"--cpu {cpu}: not migration-stable by design (its features follow the release and "
                          f"the host), so its register list is not compared"]
    models = (cpu,) if cpu else DEFAULT_MODELS
    sides = [_lists(tree, models, store, facts_of, opts) for tree, opts in zip((old, new), options)]
    findings: list[Finding] = []
    not_evaluated: dict[tuple[str, ...], list[str]] = {}  # registers -> the models
    notes = [f"{side}: {problem}" for side, opts in zip(("OLD", "NEW"), options) for problem in opts.problems]
    notes += named_notes
    under = _under(options)
    for model in models:
        before, after = sides[0][model], sides[1][model]
        if before.problem == after.problem == NO_MODEL and not cpu:
            continue  # a default model neither tree has (a sample, an old release)
        problems = [f"{side}: {lst.problem}" for side, lst in (("OLD", before), ("NEW", after)) if lst.problem]
        if problems:
            notes.append(f"CPU model {model}: its register list could not be checked ({'; '.join(problems)})")
            continue
        for found in (_compared(model, before, after, under), _values_compared(model, before, after, under)):
            if found is not None:
                findings.append(found)
        unknown = _not_evaluated(before, after)
        if unknown:
            not_evaluated.setdefault(unknown, []).append(model)
    notes += [f"CPU model(s) {', '.join(names)}: {len(regs)} constant register(s) read a value not known "
              f"statically (set at run time, or a property's default), not compared: {', '.join(regs[:SHOWN])}"
              f"{', ...' if len(regs) > SHOWN else ''}" for regs, names in not_evaluated.items()]
    return findings + unstable, notes


def _not_evaluated(before: ModelList, after: ModelList) -> tuple[str, ...]:
    """The constant registers whose value one side does not know (`cpu->pmceid0`, set by
    the PMU's realize): their values are not compared."""
    return tuple(sorted({side.regs[k][0] for side in (before, after) for k, v in side.values.items() if v is None}))


class TreeFacts:
    """A tree's target/arm, read (4-7 s) at most once for the lists and ID values asked of it."""

    def __init__(self, tree: SourceTree):
        self.tree = tree
        self._facts: cpregs.CpRegFacts | None = None

    def __call__(self, _tree: SourceTree | None = None) -> cpregs.CpRegFacts:
        if self._facts is None:
            self._facts = cpregs.extract(self.tree)
        return self._facts


def model_list(facts: TreeFacts, model: str, cache: object | None,
               machine: MachineType | None) -> tuple[ModelList, CpuOptions]:
    """MODEL's migrated list in the tree of FACTS under the CPU options MACHINE gives
    (TCG), as `check` estimates it and from the same cache: what a destination running
    that tree accepts."""
    store = Store(cache)  # type: ignore[arg-type]
    options = _cached_options(facts.tree, machine, store)
    return _lists(facts.tree, (model,), store, facts, options)[model], options


def _cached_options(tree: SourceTree, machine: MachineType | None, store: Store) -> CpuOptions:
    """machine_cpu_options(), cached by the tree's files: reading them costs a warm
    check-stream 0.25 s (44 files out of git)."""
    key = source_key(tree, f"cpu options of {machine.key if machine else None}")
    entry = store.get(CPU_REGS, key)
    if entry is not None:
        name, values, settings, problems = entry
        return CpuOptions(name, dict(values), tuple(settings), tuple(problems))  # type: ignore[arg-type]
    options = machine_cpu_options(tree, machine)
    store.write_later(CPU_REGS, {key: (options.machine, tuple(options.values.items()), options.settings,
                                       options.problems)})
    return options


def model_id_values(facts: TreeFacts, cache: object | None,
                    fields: tuple[str, ...]) -> dict[str, dict[str, int | None]]:
    """Each CPU model of the tree of FACTS -> the value its init function sets in each of FIELDS
    ("ctr", "isar.id_isar0", ...) under TCG (None: not a constant), cached by the tree's
    files: how a stream's list names its model (its MIDR is not in the list: NO_RAW)."""
    store = Store(cache)  # type: ignore[arg-type]
    key = source_key(facts.tree, f"cpregs id values of every model {fields}")
    entry = store.get(CPU_REGS, key)
    if entry is None:
        read = facts()
        models = ((name, cpregs.cpu_model(read, name, dict(TCG))) for name in sorted(read.models))
        entry = tuple((name, tuple(model.value(f) for f in fields)) for name, model in models)
        store.write_later(CPU_REGS, {key: entry})
    return {name: dict(zip(fields, values, strict=True)) for name, values in entry}  # type: ignore[misc]


def _unstable_changes(old: SourceTree, new: SourceTree, store: Store, cpu: str | None,
                      facts_of: Callable[[SourceTree], cpregs.CpRegFacts]) -> list[Finding]:
    """An info `cpu-model-changed` for max (or host) when what its init functions set
    differs: not migration-stable by design, so a change is expected, never an alarm."""
    wanted = [m for m in UNSTABLE_MODELS if cpu in (None, m)]
    sides = [_signatures(tree, store, facts_of) for tree in (old, new)]
    return [new_finding("cpu-model-changed", severity="info", directions=(), vmsd="cpu", path=f"cpu-model:{model}",
                        args={"model": model, "versions": "",
                              "changes": "its init functions set other features or ID register values; it is "
                                         "not migration-stable by design (it follows the release and the host)"},
                        old=Location(*sides[0][model][:2]), new=Location(*sides[1][model][:2]),
                        sections=("cpu",), target="arm")
            for model in wanted if model in sides[0] and model in sides[1]
            and sides[0][model][2] != sides[1][model][2]]


def _named_model_changes(old: SourceTree, new: SourceTree, store: Store, cpu: str | None,
                         facts_of: Callable[[SourceTree], cpregs.CpRegFacts],
                         options: list[CpuOptions]) -> tuple[list[Finding], list[str]]:
    """`cpu-model-changed` for the named models (CPU alone, when given) whose init
    functions set other features or values (diff/armmodels.py)."""
    if cpu in UNSTABLE_MODELS:
        return [], []
    sides = [armmodels.definitions(tree, store, facts_of, opts.values) for tree, opts in zip((old, new), options)]
    models = [cpu] if cpu else sorted(set(sides[0][0]) - set(UNSTABLE_MODELS))
    return armmodels.model_findings(sides[0], sides[1], models, _under(options))


def _signatures(tree: SourceTree, store: Store,
                facts_of: Callable[[SourceTree], cpregs.CpRegFacts]) -> dict[str, tuple[str, int, tuple]]:
    """What the init functions of the unstable models set in TREE, cached like the lists."""
    key = source_key(tree, f"cpregs signatures and places {UNSTABLE_MODELS}")
    entry = store.get(CPU_REGS, key)
    if entry is None:
        facts = facts_of(tree)
        entry = tuple((m, cpregs.init_signature(facts, m)) for m in UNSTABLE_MODELS if m in facts.models)
        store.write_later(CPU_REGS, {key: entry})
    return dict(entry)  # type: ignore[arg-type]


def _under(options: list[CpuOptions]) -> str:
    """What the lists were estimated under, said in each finding's note."""
    old, new = (opts.describe() for opts in options)
    return f"estimated for {old}" + ("" if old == new else f" in OLD, {new} in NEW")


def _lists(tree: SourceTree, models: tuple[str, ...], store: Store,
           facts_of: Callable[[SourceTree], cpregs.CpRegFacts], options: CpuOptions) -> dict[str, ModelList]:
    """Each model's list in TREE: from the cache, else estimated (the tree read once)."""
    keys = {m: source_key(tree, f"cpregs {m} {sorted(options.values.items())}") for m in models}
    stored = store.get_many(CPU_REGS, list(keys.values()))
    found: dict[str, ModelList] = {}
    for model, key in keys.items():
        entry = stored.get(key)
        if entry is None:
            found[model] = _estimated(facts_of(tree), model, options.values)
            store.write_later(CPU_REGS, {key: _packed(found[model])})
        else:
            found[model] = _unpacked(entry)
    return found


def _estimated(facts: cpregs.CpRegFacts, model: str, options: dict[str, bool | None]) -> ModelList:
    if model not in facts.models:
        return ModelList({}, NO_MODEL)
    est = cpregs.estimate(facts, model, options)
    problems = []
    if est.undecided:
        problems.append(f"{len(est.undecided)} registration(s) under a condition not decided, first at "
                        f"{est.undecided[0].call.where}")
    if est.unread:
        problems.append(f"{len(est.unread)} register(s) not read, first {est.unread[0]}")
    regs = {k: (reg.name or cpregs.describe_index(k), reg.path, reg.line)
            for k in est.migrated for reg in (est.keys[k][0],)}
    return ModelList(regs, "; ".join(problems) or None, cpregs.const_values(facts, est, options))


def _packed(found: ModelList) -> tuple:
    return (tuple((k, *v) for k, v in sorted(found.regs.items())), found.problem,
            tuple(sorted(found.values.items())))


def _unpacked(entry) -> ModelList:
    regs, problem, values = entry
    return ModelList({k: (name, path, line) for k, name, path, line in regs}, problem, dict(values))


def _compared(model: str, before: ModelList, after: ModelList, under: str) -> Finding | None:
    added = sorted(set(after.regs) - set(before.regs))
    removed = sorted(set(before.regs) - set(after.regs))
    if not added and not removed:
        return None
    directions = ((Direction.BACKWARD,) if added else ()) + ((Direction.FORWARD,) if removed else ())
    # a longer list fails its length check at once; one of the same length in post_load
    counts = sorted((len(before.regs), len(after.regs)), reverse=True)
    longer = ("too-long", *counts) if counts[0] != counts[1] else ("load-failed", 0, "cpu")
    return new_finding(
        "cpu-registers-changed", vmsd="cpu", path=f"cpu/cpreg_vmstate_indexes:{model}",
        args={"model": model, "old_count": len(before.regs), "new_count": len(after.regs),
              "added": _names(added, after), "removed": _names(removed, before)},
        directions=tuple(str(d) for d in directions),
        old=_where(before, removed[0]) if removed else None, new=_where(after, added[0]) if added else None,
        sections=("cpu",), target="arm", runtime_error=qemu_prints("cpu-registers-changed", *longer),
        note=f"{under}; {NOT_MODELLED}")


def _values_compared(model: str, before: ModelList, after: ModelList, under: str) -> Finding | None:
    """`cpu-register-value-changed`: constant registers both lists hold whose values
    differ (write_list_to_cpustate() reads NEW's own constant back: not the value sent)."""
    changed = sorted(k for k in set(before.values) & set(after.values)
                     if None not in (before.values[k], after.values[k]) and before.values[k] != after.values[k])
    if not changed:
        return None
    shown = [f"{after.regs[k][0]}{_view(k)} {before.values[k]:#x} -> {after.values[k]:#x} "
             f"({after.regs[k][1]}:{after.regs[k][2]})" for k in changed[:SHOWN]]
    more = f", and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
    return new_finding(
        "cpu-register-value-changed", vmsd="cpu", path=f"cpu/cpreg_vmstate_values:{model}",
        args={"model": model, "count": len(changed), "registers": ", ".join(shown) + more},
        old=_where(before, changed[0]), new=_where(after, changed[0]), sections=("cpu",), target="arm",
        runtime_error=qemu_prints("cpu-register-value-changed", "load-failed", 0, "cpu"),
        note=f"{under}; {NOT_MODELLED}")


def _names(indexes: list[int], side: ModelList) -> str:
    if not indexes:
        return "none"
    names = [f"{side.regs[k][0]}{_view(k)} ({side.regs[k][1]}:{side.regs[k][2]})" for k in indexes[:SHOWN]]
    more = f", and {len(indexes) - SHOWN} more" if len(indexes) > SHOWN else ""
    return f"{len(indexes)}: {', '.join(names)}{more}"


def _view(index: int) -> str:
    """' [AArch32]' for an AArch32 view (a BOTH register has one of each, of one name)."""
    return "" if cpregs.describe_index(index).startswith("AA64") else " [AArch32]"


def _where(side: ModelList, index: int) -> Location:
    _, path, line = side.regs[index]
    return Location(path, line)
