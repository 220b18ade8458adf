"""The named CPU models of the targets other than x86 and Arm compared: `cpu-model-changed`
(issue 15).

extract/othermodels.py reads each target directory's models (riscv's DEFINE_*_CPU rows,
ppc's POWERPC_DEF, s390x's CPUDEF_INIT table and feature lists, the TypeInfos and
`*_def_t` tables of the others) and the text that defines each.  That text is compared,
not evaluated: a model whose definition changed is one warning finding (what the guest
sees may or may not differ: the finding says so), a model NEW no longer has is an error
(a guest started with it cannot be started, nor migrated to, on NEW), and a model that is
not migration-stable by design (max, host, riscv's dynamic CPUs, s390x's qemu) is info.
A directory whose models could not be found is a note naming it and its files.

The work is done per directory, only where a file under target/<dir>/ differs between the
trees, and cached per tree and directory (the directory's files and include/).
"""
from __future__ import annotations

import hashlib

from ..extract.othermodels import SKIPPED_DIRS, Model, TargetModels, from_record, target_models, to_record, users
from ..extract.store import CPU_REGS, Store
from ..model import Location
from ..sources.tree import SourceTree, differing_paths
from .causes import Cause
from .findings import Finding, new_finding

SHOWN_INITS = 3  # init functions named in a message; the others are counted
SHARED = 8  # a function more models read is the target's common code (_shared_only)


def changed_dirs(old: SourceTree, new: SourceTree, only: str | None = None) -> list[str]:
    """The target directories (not i386 nor arm; ONLY, when given) with a C file or header
    that differs between the trees and that both trees have."""
    prefixes = (f"target/{only}/",) if only else ("target/",)
    dirs = {path.split("/")[1] for path in differing_paths(old, new, prefixes)
            if path.count("/") >= 2 and path.endswith((".c", ".h", ".inc"))}
    both = {f.path.split("/")[1] for f in old.files if f.path.startswith("target/")} & \
        {f.path.split("/")[1] for f in new.files if f.path.startswith("target/")}
    return sorted(d for d in dirs & both if d not in SKIPPED_DIRS)


def other_model_findings(old: SourceTree, new: SourceTree, cpu: str | None = None, cache: object | None = None,
                         only: str | None = None) -> tuple[list[Finding], list[str]]:
    """`cpu-model-changed` findings of the other targets' named models (CPU alone, when
    given; the directory ONLY, when given), and notes on what was not understood."""
    store = Store(cache)  # type: ignore[arg-type]
    findings: list[Finding] = []
    notes: list[str] = []
    for target in changed_dirs(old, new, only):
        before, after = _models(old, target, store), _models(new, target, store)
        notes += [f"OLD: {n}" for n in before.notes if n not in after.notes] + after.notes
        for name in sorted(before.models):
            if cpu is not None and name != cpu:
                continue
            was, now = before.models[name], after.models.get(name)
            if now is None:
                findings.append(_removed(was, after))
            elif was.digest != now.digest:
                findings.append(_changed(was, now, *_shared_only(was, now, before, after)))
    return findings, notes


def models_key(tree: SourceTree, target: str) -> str:
    """The cache key of TARGET's models in TREE: the directory's and include/'s files."""
    digest = hashlib.sha1(f"other cpu models\0{target}\n".encode())
    for f in sorted(tree.files, key=lambda f: f.path):
        if f.path.startswith((f"target/{target}/", "include/")):
            digest.update(f"{f.path}\0{f.blob}\n".encode())
    return digest.hexdigest()


def _models(tree: SourceTree, target: str, store: Store) -> TargetModels:
    """TARGET's models in TREE, from the cache (models_key()) or read."""
    key = models_key(tree, target)
    stored = store.get(CPU_REGS, key)
    if stored is None:
        stored = to_record(target_models(tree, target))
        store.write_later(CPU_REGS, {key: stored})
    return from_record(stored)


def _shared_only(old: Model, new: Model, before: TargetModels, after: TargetModels) -> tuple[str, Cause | None]:
    """When all that changed in a model's definition is code more than SHARED models of
    its directory read (ppc's register_*_sprs(), a family's class_init): what, and the
    most shared function as the findings' common cause; else ('', None).  Such a change
    is reported as info, grouped by that cause: a model's own row and init functions are
    what a warning is about."""
    if old.row != new.row:
        return "", None
    was, now = dict(old.bodies), dict(new.bodies)
    changed = sorted(name for name in set(was) | set(now) if was.get(name) != now.get(name))
    count_old, count_new = users(before), users(after)
    readers = {n: max(count_old.get(n, 0), count_new.get(n, 0)) for n in changed}
    if not changed or any(count <= SHARED for count in readers.values()):
        return "", None
    shown = ", ".join(f"{n}() ({readers[n]} models)" for n in changed[:SHOWN_INITS])
    more = f" and {len(changed) - SHOWN_INITS} more" if len(changed) > SHOWN_INITS else ""
    top = max(changed, key=lambda n: (readers[n], n))
    cause = Cause(f"{top}()", _where(old, top), _where(new, top))
    return f"only code more than {SHARED} models read changed: {shown}{more}", cause


def _where(model: Model, function: str) -> Location | None:
    """Where MODEL's tree defines FUNCTION, from its init functions' "name (file:line)"."""
    for text in model.inits:
        name, _, place = text.partition(" (")
        if name == function and ":" in place:
            path, _, line = place.rstrip(")").rpartition(":")
            return Location(path, int(line)) if line.isdigit() else None
    return None


def _inits(model: Model) -> str:
    shown = ", ".join(model.inits[:SHOWN_INITS])
    more = f" and {len(model.inits) - SHOWN_INITS} more" if len(model.inits) > SHOWN_INITS else ""
    return f"; its init functions: {shown}{more}" if shown else ""


def _changed(old: Model, new: Model, shared: str, cause: Cause | None) -> Finding:
    where = f"target/{old.target} model defined at {old.file}:{old.line} (OLD), {new.file}:{new.line} (NEW)"
    why = old.unstable or new.unstable or shared
    if why:
        return new_finding(
            "cpu-model-changed", severity="info", directions=(), vmsd="cpu", path=f"cpu-model:{old.target}:{old.name}",
            args={"model": old.name, "versions": "",
                  "changes": f"the text of its definition changed ({where}); {why}"},
            old=Location(old.file, old.line), new=Location(new.file, new.line), sections=("cpu",), target=old.target,
            cause=cause)
    return new_finding(
        "cpu-model-changed", severity="warning", vmsd="cpu", path=f"cpu-model:{old.target}:{old.name}",
        args={"model": old.name, "versions": "",
              "changes": f"the text of its definition changed ({where}{_inits(new)}); not evaluated: what "
                         f"the guest sees may or may not differ"},
        old=Location(old.file, old.line), new=Location(new.file, new.line), sections=("cpu",), target=old.target,
        note=f"target/{old.target}'s models are compared as text (extract/othermodels.py): the row and the init "
             f"functions that define the model; a guest that read its CPU at boot runs on NEW's definition after "
             f"migration, and on OLD's after migrating back")


def _removed(old: Model, after: TargetModels) -> Finding:
    where = f"target/{old.target} model defined at {old.file}:{old.line} (OLD)"
    if old.unstable:
        return new_finding(
            "cpu-model-changed", severity="info", directions=(), vmsd="cpu", path=f"cpu-model:{old.target}:{old.name}",
            args={"model": old.name, "versions": "", "changes": f"removed from NEW ({where}); {old.unstable}"},
            old=Location(old.file, old.line), sections=("cpu",), target=old.target)
    return new_finding(
        "cpu-model-changed", vmsd="cpu", path=f"cpu-model:{old.target}:{old.name}",
        args={"model": old.name, "versions": "",
              "changes": f"removed from NEW ({where}; NEW has {len(after.models)} model(s) there): a guest "
                         f"started with it cannot be started, nor migrated to, on NEW"},
        old=Location(old.file, old.line), sections=("cpu",), target=old.target)
