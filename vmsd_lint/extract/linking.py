"""Tree-wide linking: the records of every file (extract/perfile.py) merged, in path
order, into one extraction, and the steps that need the whole tree: types registered by
functions of other files (extract/registrars.py), each type linked to the VMSD its
class_init assigns, each registration to the VMSD it names (from the class where it
reads one: extract/classes.py), bytes written by hand and virtio (extract/saves.py),
references checked, and a later stage's pass (FINISH: the placements) over the result."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..model import Diagnostic, Extraction, FunctionInfo, QomType, Registration
from ..resolve import Resolved
from .calls import CallIndex
from .classes import ClassModel, member_chain
from .context import TreeIndex
from .implementations import check_implementations
from .perfile import FileRecord
from .qemu import REGISTRATION_CALLS
from .qom import vmsd_assignment
from .registrars import FileTypes
from .saves import model_saves

# A later stage's pass over a linked extraction, given its call index: the placement
# stage's placements (placement.contexts.place), made here so that they are cached with
# the extraction and a warm run does not make them again.
Finish = Callable[[Extraction, CallIndex], None]


def assemble(result: Extraction, index: TreeIndex, records: dict[str, FileRecord],
             finish: Finish | None = None) -> None:
    """The tree-wide steps over the file records (in path order) into `result`; FINISH
    last but the diagnostics."""
    for record in records.values():  # merged in path order, as if resolved here one by one
        for vmsd in record.vmsds:
            result.vmsds[vmsd.key] = vmsd
        for qom in record.types:
            _add_type(result, qom)
        result.diagnostics.extend(record.diagnostics)
    for record in records.values():
        for info in record.functions:
            result.functions[info.key] = info
        for table in record.tables:
            result.tables[table.key] = table
    for record in _with_calls_elsewhere(index, records, result.target_dir).values():
        for qom in record.loop_types:
            if qom.name not in result.types:
                result.types[qom.name] = qom
        result.diagnostics.extend(record.loop_diagnostics)
    resolved = Resolved(result)
    _link_types(index, result, resolved)
    _resolve_registrations(records, result, resolved)
    calls = CallIndex(result)  # the call edges, for the saves' buses and FINISH
    model_saves(result, resolved, index, calls)
    _check_references(resolved, result)
    _check_abstract_owners(resolved, result)
    check_implementations(resolved, result)
    if finish is not None:
        finish(result, calls)
    result.diagnostics.extend(Diagnostic("unreached", v.file, v.line, f"VMSD {v.symbol} ('{v.name}') is sent by no "
                                         f"section this tool knows: a change to it is reported without sections")
                              for v in Resolved(result).unreached())
    result.diagnostics = sorted(set(result.diagnostics), key=lambda d: (d.file, d.line, d.message))
    result.records = records


def _add_type(result: Extraction, qom: QomType) -> None:
    existing = result.types.get(qom.name)
    if existing is None or _type_preference(qom, result.target) < _type_preference(existing, result.target):
        result.types[qom.name] = qom


def _type_preference(qom: QomType, target: str | None) -> tuple:
    in_target = qom.file.startswith("target/")
    return (in_target, qom.file)


def _with_calls_elsewhere(index: TreeIndex, records: dict[str, FileRecord],
                          target_dir: str | None) -> dict[str, FileRecord]:
    """The records, those that pass array elements to a registering function of another
    file (`arm_cpu_register(&arm_tcg_cpus[i])`) run again now that it is known."""
    helpers: dict[str, list] = {}
    for path, record in records.items():
        for fn in (record.registrars.functions.values() if record.registrars else ()):
            if fn.params and not fn.static:
                helpers.setdefault(fn.name, []).append((path, fn))

    def others(name: str):
        candidates = helpers.get(name)
        if not candidates:
            return None
        path, fn = _prefer_target(candidates, target_dir)
        return FileTypes(path, records[path].registrars, index.context), fn

    out = dict(records)
    called = set()
    for path, record in records.items():
        if any(name in helpers for name in record.calls_elsewhere):
            run = FileTypes(path, record.registrars, index.context, others=others)
            run.run()
            called |= run.called_elsewhere
            out[path] = _replace_record(record, run.types, run.diagnostics)
    # Called by no function the extractor read (xtensa_register_core(), called by the
    # REGISTER_CORE() macro): what they register is unknown, and that is said.
    called |= {callee for record in records.values() for fn in record.functions for callee in fn.calls}
    for path, record in records.items():
        for name in record.uncalled:
            if name not in called:
                note = FileTypes(path, record.registrars, index.context)
                note.note_uncalled(record.registrars.functions[name])
                out[path] = _replace_record(out[path], out[path].loop_types,
                                            out[path].loop_diagnostics + note.diagnostics)
    return out


def _replace_record(record: FileRecord, types: list[QomType], diagnostics: list[Diagnostic]) -> FileRecord:
    return replace(record, loop_types=types, loop_diagnostics=diagnostics)


def _link_types(index: TreeIndex, result: Extraction, resolved: Resolved) -> None:
    """Attach to each type the VMSD its class_init assigns."""
    functions_by_file: dict[str, dict[str, FunctionInfo]] = {}
    global_functions: dict[str, list[tuple[str, FunctionInfo]]] = {}
    for fn in result.functions.values():
        functions_by_file.setdefault(fn.file, {})[fn.name] = fn
        global_functions.setdefault(fn.name, []).append((fn.file, fn))

    def elsewhere(name: str):
        candidates = [(p, f) for p, f in global_functions.get(name, []) if not f.static]
        if not candidates:
            return None
        path, fn = _prefer_target(candidates, index.target_dir)
        return index.context(path), fn, functions_by_file[path]

    for name, qom in list(result.types.items()):
        if not qom.class_init:
            continue
        fns = functions_by_file.get(qom.file, {})
        fn = fns.get(qom.class_init)
        path = qom.file
        if fn is None:
            candidates = global_functions.get(qom.class_init, [])
            if not candidates:
                continue
            path, fn = _prefer_target(candidates, index.target_dir)
            fns = functions_by_file[path]
        found = vmsd_assignment(index.context(path), fn, fns, None, elsewhere)
        if found is None and qom.data_vmsd:
            found = (qom.data_vmsd, qom.line, qom.file)  # the class_data descriptor names it
        if found:
            symbol, line, path = found
            key = resolve_vmsd(resolved, symbol, path)
            if key is None:
                result.diagnostics.append(Diagnostic("unresolved", path, line,
                                                     f"type {name}: vmsd '{symbol}' is not defined in the tree"))
                continue
            result.types[name] = replace(qom, vmsd=key, vmsd_line=line)


def _prefer_target(candidates, target_dir):
    if target_dir:
        for path, fn in candidates:
            if path.startswith(target_dir):
                return path, fn
        others = [(p, f) for p, f in candidates if not p.startswith("target/")]
        if others:
            return others[0]
    return candidates[0]


def resolve_vmsd(resolved: Resolved, symbol: str, from_path: str) -> str | None:
    """The key of the VMSD a C symbol names, as seen from `from_path`."""
    vmsd = resolved.ref(symbol, from_path)
    return vmsd.key if vmsd is not None else None


def _resolve_registrations(records: dict[str, FileRecord], result: Extraction, resolved: Resolved) -> None:
    """Every registration, in path order, with the VMSD its argument names; one whose
    argument is read from the class (`cpu->cc->sysemu_ops->legacy_vmsd`) is one
    registration per VMSD the classes give, naming the types that give it."""
    classes = None
    for record in records.values():
        for reg in record.registrations:
            vmsd_index = REGISTRATION_CALLS[reg.function][1]
            if vmsd_index is None or vmsd_index >= len(reg.args):
                result.registrations.append(reg)
                continue
            argument = reg.args[vmsd_index].strip()
            symbol = argument.lstrip("&").strip()
            key = resolve_vmsd(resolved, symbol, reg.file) if symbol.isidentifier() else None
            if key is not None:
                result.registrations.append(replace(reg, vmsd=key))
                continue
            copy = _run_time_copy(result, resolved, reg, argument)
            if copy is not None:
                result.registrations.append(replace(reg, vmsd=copy))
                continue
            chain = member_chain(argument)
            if chain is not None:
                classes = classes or ClassModel(result, resolved)
                by_class = _class_registrations(classes, result, reg, chain)
                if by_class:
                    result.registrations.extend(by_class)
                    continue
            result.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"{reg.function}() in {reg.enclosing}: VMSD argument '{reg.args[vmsd_index]}' "
                f"is not a known VMSD"))
            result.registrations.append(reg)


def _run_time_copy(result: Extraction, resolved: Resolved, reg: Registration, argument: str) -> str | None:
    """`s->vmstate = g_memdup(&vmstate_eepro100, ...); s->vmstate->name = <run time>;
    vmstate_register_any(..., s->vmstate, s)`: a copy of that VMSD, under the name it is
    given (known only at run time: checked under a name that stands for it, `<...>`)."""
    fn = result.functions.get(f"{reg.file}:{reg.enclosing}")
    argument = " ".join(argument.split())
    for lhs, symbol, name, _ in fn.copies if fn is not None else ():
        original = resolved.ref(symbol, reg.file) if lhs == argument else None
        if original is None:
            continue
        if not name:
            return original.key
        copy = replace(original, symbol=f"{original.symbol}@{reg.enclosing}", name=f"<{name}>",
                        copy_of=original.key, synthetic=f"a copy of {original.symbol} made at run time in "
                                                         f"{reg.enclosing}(), named {name}")
        result.vmsds[copy.key] = copy
        result.diagnostics.append(Diagnostic(
            "unresolved", reg.file, reg.line,
            f"{reg.function}() in {reg.enclosing}: registers a copy of {original.symbol} named at run time "
            f"({name}): it is checked as section '<{name}>'"))
        return copy.key
    return None


def _class_registrations(classes: ClassModel, result: Extraction, reg: Registration,
                         chain: list[str]) -> list[Registration]:
    """REG once per VMSD that the types' classes give through CHAIN, naming the concrete
    types that give it.  A VMSD only abstract types are known to give (their concrete
    types are built by code the extractor does not read) is still registered, so its
    section is checked, and that is said."""
    by_vmsd: dict[str, list[str]] = {}
    for name, qom in sorted(result.types.items()):
        found = classes.vmsd_through(name, chain)
        if found is not None:
            types = by_vmsd.setdefault(found[0], [])
            if not qom.abstract:
                types.append(name)
    for key, types in sorted(by_vmsd.items()):
        if not types:
            vmsd = result.vmsds[key]
            result.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"{reg.function}() in {reg.enclosing} registers {vmsd.symbol} ('{chain[-1]}' of a class) "
                f"for abstract types only: no concrete type that inherits it was found"))
    return [replace(reg, vmsd=key, types=tuple(types)) for key, types in sorted(by_vmsd.items())]


def _check_references(resolved: Resolved, result: Extraction) -> None:
    """Nested and subsection symbols must name VMSDs of the tree."""
    for vmsd in result.vmsds.values():
        for sub in vmsd.subsections or ():
            if resolve_vmsd(resolved, sub, vmsd.file) is None:
                message = f"VMSD {vmsd.symbol}: subsection '{sub}' is not defined in the tree"
                result.diagnostics.append(Diagnostic("unresolved", vmsd.file, vmsd.line, message))
        for member in vmsd.fields or ():
            if member.vmsd and resolve_vmsd(resolved, member.vmsd, vmsd.file) is None:
                message = f"VMSD {vmsd.symbol}: field '{member.name}' nests '{member.vmsd}', not defined in the tree"
                result.diagnostics.append(Diagnostic("unresolved", vmsd.file, member.line, message))


def _check_abstract_owners(resolved: Resolved, result: Extraction) -> None:
    """A VMSD installed by an abstract type reaches the wire only through the concrete
    types that inherit it: when none is known (they are built by C code the extractor
    does not read), its sections cannot be checked, and that must be said."""
    inherited = {vmsd.key for qom in result.types.values() if not qom.abstract
                 if (vmsd := resolved.type_vmsd(qom.name)) is not None}
    for qom in result.types.values():
        if qom.abstract and qom.vmsd and qom.vmsd not in inherited:
            vmsd = result.vmsds.get(qom.vmsd)
            result.diagnostics.append(Diagnostic(
                "unresolved", qom.file, qom.vmsd_line or qom.line,
                f"type '{qom.name}' is abstract and installs VMSD {vmsd.symbol if vmsd else qom.vmsd}, but no "
                f"concrete type that inherits it was found: its sections are not checked"))
