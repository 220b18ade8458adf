"""Arm named CPU models compared: `cpu-model-changed` for targets other than x86 (issue 15).

An Arm CPU model is its init function (`aarch64_a57_initfn`, and the `*_initfn` it
calls): the features it sets (`set_feature(&cpu->env, ARM_FEATURE_PMU)`) and the fields
it gives values (`cpu->midr`, `cpu->revidr`, `cpu->isar.id_aa64pfr0`, ...), read by
extract/cpregs.py's `cpu_model()` under the machine type's CPU options.  Arm has no model
versions: a named model whose features or values differ between OLD and NEW is one
finding, naming what changed with file:line.  The ID registers among those values are
also on the wire (constant registers: `cpu-register-value-changed`) and a feature may
add or remove registers (`cpu-registers-changed`); this finding says what the guest sees.

Not compared, and said in a note: a field one side sets to a value only known at run
time (10.0's `make_ccsidr(...)`), and a feature flag OLD does not define at all
(ARM_FEATURE_BACKCOMPAT_CNTFRQ, 9.0): a new flag set on the models OLD already had is
how QEMU keeps their old behaviour while new models get a new default, so it is no
change of those models.  `kvm_target` is KVM's id for the host kernel, not a property of
the TCG CPU modelled here.  `max` and `host` are not compared here (not migration-stable
by design: cpuregs.py's info finding).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..extract import cpregs
from ..extract.machines import source_key
from ..extract.store import CPU_REGS, Store
from ..model import Location
from ..sources.tree import SourceTree
from .findings import Finding, new_finding

NOT_MODEL_FIELDS = ("kvm_target",)  # KVM's target id for the host kernel: not the CPU's definition
FEATURE_PREFIX = "ARM_FEATURE_"
SHOWN = 8  # changes named in a message; the others are counted


@dataclass(frozen=True, slots=True)
class ModelDefinition:
    """What one model's init functions set in one tree, and where its init function is."""
    features: tuple[str, ...]
    values: tuple[tuple[str, int], ...]
    unknown: tuple[tuple[str, str], ...]  # (field, the value's text) of values not known statically
    file: str
    line: int


def definitions(tree: SourceTree, store: Store, facts_of: Callable[[SourceTree], cpregs.CpRegFacts],
                options: dict[str, bool | None]) -> tuple[dict[str, ModelDefinition], frozenset[str]]:
    """TREE's named models (max and host left out) and the feature flags it defines,
    cached by the tree's files and the CPU options."""
    key = source_key(tree, f"arm model definitions {sorted(options.items())}")
    entry = store.get(CPU_REGS, key)
    if entry is None:
        facts = facts_of(tree)
        models = {name: _definition(facts, name, options) for name in sorted(facts.models)}
        entry = (tuple((name, (d.features, d.values, d.unknown, d.file, d.line)) for name, d in models.items()),
                 tuple(sorted(_defined_features(facts))))
        store.write_later(CPU_REGS, {key: entry})
    models_entry, features = entry
    return {name: ModelDefinition(tuple(f), tuple(map(tuple, v)), tuple(map(tuple, u)), path, line)  # type: ignore[arg-type]
            for name, (f, v, u, path, line) in models_entry}, frozenset(features)


def _definition(facts: cpregs.CpRegFacts, name: str, options: dict[str, bool | None]) -> ModelDefinition:
    model = cpregs.cpu_model(facts, name, options)  # type: ignore[arg-type]
    path, line, _ = cpregs.init_signature(facts, name)
    values = tuple(sorted((k, v) for k, v in model.values.items() if k not in NOT_MODEL_FIELDS))
    unknown = tuple(sorted((k, model.unknown_texts.get(k, "")) for k in model.unknown_fields
                           if k not in NOT_MODEL_FIELDS))
    return ModelDefinition(tuple(sorted(model.features)), values, unknown, path, line)


def _defined_features(facts: cpregs.CpRegFacts) -> set[str]:
    """The ARM_FEATURE_* names the tree's headers define (cpu.h's enum)."""
    found = set()
    for path, data in facts.texts.items():
        if path.endswith(".h") and FEATURE_PREFIX.encode() in data:
            ctx = facts.index.context(path)
            for word in set(data.decode("utf-8", "replace").replace(",", " ").split()):
                if word.startswith(FEATURE_PREFIX) and word.isidentifier() \
                        and cpregs.constant_value(ctx, word) is not None:
                    found.add(word)
    return found


def model_findings(old: tuple[dict[str, ModelDefinition], frozenset[str]],
                   new: tuple[dict[str, ModelDefinition], frozenset[str]], models: list[str],
                   under: str) -> tuple[list[Finding], list[str]]:
    """A `cpu-model-changed` finding per model of MODELS (named in both trees) whose
    definition changed, and notes on what was not compared."""
    (before, old_features), (after, _) = old, new
    findings: list[Finding] = []
    skipped_fields: dict[str, list[str]] = {}
    new_flags: dict[str, list[str]] = {}
    for name in models:
        if name not in before or name not in after:
            continue
        changes, unknown, flags = _changes(before[name], after[name], old_features)
        for item in unknown:
            skipped_fields.setdefault(item, []).append(name)
        for flag in flags:
            new_flags.setdefault(flag, []).append(name)
        if changes:
            findings.append(_finding(name, before[name], after[name], changes, under))
    notes = [f"Arm CPU models: {flag} is a feature flag OLD does not define, set on {len(names)} model(s) "
             f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''}): a new flag keeps what those "
             f"models did, not compared" for flag, names in sorted(new_flags.items())]
    by_models: dict[tuple[str, ...], list[str]] = {}
    for field, names in sorted(skipped_fields.items()):
        by_models.setdefault(tuple(names), []).append(field)
    notes += [f"Arm CPU models: {', '.join(fields)} set to a value not known statically, not "
              f"compared, for {len(names)} model(s) ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
              for names, fields in by_models.items()]
    return findings, notes


def _changes(old: ModelDefinition, new: ModelDefinition,
             old_features: frozenset[str]) -> tuple[list[str], list[str], list[str]]:
    """What changed (in words), the fields not compared, and NEW's flags OLD lacks."""
    added = sorted(set(new.features) - set(old.features))
    removed = sorted(set(old.features) - set(new.features))
    unknown_flags = [f for f in added if f not in old_features]
    changes = [f"feature {f} added" for f in added if f in old_features]
    changes += [f"feature {f} removed" for f in removed]
    before, after = dict(old.values), dict(new.values)
    # a value known on neither side is the same when its text is (10.0's make_ccsidr(...))
    skipped = sorted({name for name, _ in set(old.unknown) ^ set(new.unknown)})
    same = {name for name, _ in set(old.unknown) & set(new.unknown)} - set(skipped)
    for field in sorted(set(before) | set(after)):
        if field in skipped or field in same:
            continue
        was, now = before.get(field, 0), after.get(field, 0)  # not set: QOM zeroes the CPU object
        if was != now:
            changes.append(f"{field} {was:#x} -> {now:#x}")
    return changes, skipped, unknown_flags


def _finding(name: str, old: ModelDefinition, new: ModelDefinition, changes: list[str], under: str) -> Finding:
    more = f", and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return new_finding(
        "cpu-model-changed", vmsd="cpu", path=f"cpu-model:{name}",
        args={"model": name, "versions": "", "changes": ", ".join(changes[:SHOWN]) + more},
        old=Location(old.file, old.line), new=Location(new.file, new.line), sections=("cpu",), target="arm",
        note=f"Arm models have no versions: the guest, which read its ID registers at boot, runs on the "
             f"changed definition after migration; {under}")
