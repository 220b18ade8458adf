"""x86 CPU models compared: `cpu-model-changed` (issue 15).

Each released version of each named model of OLD (extract/x86models.py: builtin_x86_defs[],
version N = the base with the props of versions 2..N) is compared with the same version of
NEW: a base field, a feature word (as evaluated with each tree's macros) or a property that
differs is one finding per model, naming the versions and what changed.  A new version or
a new model is how QEMU changes a model: not a finding.  A model or version NEW no longer
has is a finding too (a guest started with it cannot be started, nor migrated to, on NEW).

The work (reading target/i386/cpu.c twice, a few tenths of a second) is done only when a
file under target/i386/ differs between the trees.
"""
from __future__ import annotations

from ..extract.machines import source_key
from ..extract.store import CPU_REGS, Store
from ..extract.x86models import (
    CPU_FILE,
    UNSTABLE,
    Setting,
    X86Model,
    from_record,
    to_record,
    unstable_signatures,
    x86_models,
)
from ..model import Location
from ..sources.tree import SourceTree, files_differ
from .findings import Finding, new_finding

X86_PATHS = ("target/i386/",)
SHOWN = 6  # changes named in a message; the others are counted


def cpu_model_findings(old: SourceTree, new: SourceTree, cpu: str | None = None,
                       cache: object | None = None) -> list[Finding]:
    """A `cpu-model-changed` finding per named x86 model (CPU alone, when given) whose
    released versions changed between OLD and NEW."""
    if not files_differ(old, new, X86_PATHS):
        return []
    store = Store(cache)  # type: ignore[arg-type]
    (before, old_unstable), (after, new_unstable) = _models(old, store), _models(new, store)
    findings = [_unstable(model, old_unstable[model][0], new_unstable[model][0]) for model in UNSTABLE
                if cpu in (None, model) and model in old_unstable and model in new_unstable
                and old_unstable[model][1] != new_unstable[model][1]]
    if before is None or after is None:
        return findings
    for name in sorted(before):
        if cpu is not None and name != cpu:
            continue
        found = _compared(before[name], after.get(name))
        if found is not None:
            findings.append(found)
    return findings


def _models(tree: SourceTree, store: Store) -> tuple[dict[str, X86Model] | None, dict[str, tuple[int, tuple]]]:
    """TREE's models and max's signature, from the cache (by its files) or read (0.2-0.3 s
    a release)."""
    key = source_key(tree, "x86 models and max's place")
    stored = store.get(CPU_REGS, key)
    if stored is None:
        stored = (to_record(x86_models(tree)), tuple(unstable_signatures(tree).items()))
        store.write_later(CPU_REGS, {key: stored})
    return from_record(stored[0]), dict(stored[1])


def _unstable(model: str, old_line: int, new_line: int) -> Finding:
    return new_finding("cpu-model-changed", severity="info", directions=(), vmsd="cpu", path=f"cpu-model:{model}",
                       args={"model": model, "versions": "",
                             "changes": "its QOM type's init functions changed; it is not migration-stable by "
                                        "design (it follows the release and the host)"},
                       old=Location(CPU_FILE, old_line), new=Location(CPU_FILE, new_line),
                       sections=("cpu",), target="i386")


def _compared(old: X86Model, new: X86Model | None) -> Finding | None:
    changed: dict[str, list[int]] = {}  # what changed -> the versions it changed
    first_line = None  # where NEW defines the first thing that changed
    for version in sorted(old.versions):
        if new is None or version not in new.versions:
            changed.setdefault("removed from NEW", []).append(version)
            continue
        before, after = old.settings(version), new.settings(version)
        for key in sorted(set(before) | set(after)):
            words = _change(key, before.get(key), after.get(key))
            if words:
                changed.setdefault(words, []).append(version)
                first_line = first_line or (after[key].line if key in after else None)
    if not changed:
        return None
    versions = sorted({v for vs in changed.values() for v in vs})
    shown = [f"{words} (v{_span(vs)})" if vs != versions else words for words, vs in list(changed.items())[:SHOWN]]
    if len(changed) > SHOWN:
        shown.append(f"{len(changed) - SHOWN} more")
    return new_finding(
        "cpu-model-changed", vmsd="cpu", path=f"cpu-model:{old.name}",
        args={"model": old.name, "versions": f" in released version(s) {_span(versions)}", "changes": "; ".join(shown)},
        old=Location(CPU_FILE, old.line),
        new=Location(CPU_FILE, first_line or new.line) if new is not None else None,
        sections=("cpu",), target="i386")


def _change(key: str, before: Setting | None, after: Setting | None) -> str | None:
    """Words for one setting that differs, None when it does not."""
    if (before.value if before else None) == (after.value if after else None):
        return None
    what = key.removeprefix("prop ").strip(".")
    if before is not None and after is not None and (before.names or after.names):
        added, removed = sorted(after.names - before.names), sorted(before.names - after.names)
        parts = ([f"+{', +'.join(added)}"] if added else []) + ([f"-{', -'.join(removed)}"] if removed else [])
        if parts:
            return f"{what} {' '.join(parts)}"
    return f"{what} {_shown(before)} -> {_shown(after)}"


def _shown(setting: Setting | None) -> str:
    return "(unset)" if setting is None else repr(setting.value) if not setting.value.startswith("0x") \
        else setting.value


def _span(versions: list[int]) -> str:
    """1-4, or 2, 4."""
    if versions == list(range(versions[0], versions[-1] + 1)) and len(versions) > 2:
        return f"{versions[0]}-{versions[-1]}"
    return ", ".join(str(v) for v in versions)
