"""One file's part of an extraction, from its bytes alone: its text facts (scan_facts),
its parse (parse_facts: for a file that can hold migration state), its resolution in
the tree's index (resolve_file: its VMSDs, QOM types and diagnostics, with the lookups
they depended on) and its record (file_record: what the tree-wide linking reads of it,
extract/linking.py).  Each is kept in the cache (extract/store.py), so a file seen
before is neither read, parsed nor resolved again."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..model import Diagnostic, FunctionInfo, OpsTable, QomType, Registration, Vmsd
from ..sources.tree import SOURCE_SUFFIXES, SourceFile, SourceTree
from .cexpr import Unresolved
from .context import TreeIndex
from .lexer import join_tokens, tokenize
from .parse import Decl, ParseFacts, is_interesting, parse_file, parse_tree
from .preprocess import ExpansionError
from .qemu import CALLS_WITH_ARGS, EVALUATED_CALLS, HOOK_CALLS, REGISTRATION_CALLS
from .qom import type_infos, virtio_pci_types
from .registrars import (
    FileTypes,
    RegistrarFacts,
    included_arrays,
    passes_array_elements,
    registers_dynamically,
    registrar_facts,
)
from .scan import TextFacts, scan_text
from .vmsd import VmsdBuilder


@dataclass(slots=True)
class ParsedFile:
    """The tree-sitter facts of a file that can hold migration state."""
    parse: ParseFacts
    # for files registering types from data (arrays of descriptors, helpers): what that reads
    registrars: RegistrarFacts | None = None


def source_files(tree: SourceTree) -> list[SourceFile]:
    """The files an extraction reads, in path order."""
    return sorted((f for f in tree.files if f.path.endswith(SOURCE_SUFFIXES)), key=lambda f: f.path)


def scan_facts(path: str, data: bytes) -> TextFacts:
    """The text facts of one file, from its bytes alone (so they can be cached by blob id)."""
    if path.endswith(".c") and not is_interesting(data):
        return TextFacts()  # nothing of a plain .c file is visible elsewhere
    return scan_source(path, data)


def scan_source(path: str, data: bytes) -> TextFacts:
    """The text facts of a file that is not a plain .c file."""
    return scan_text(data.decode("utf-8", "surrogateescape"))


def parse_facts(path: str, data: bytes) -> ParsedFile | None:
    """The parse of one file (None when it cannot hold migration state), from its bytes alone."""
    return parse_interesting(path, data) if worth_a_parse(path, data) else None


def worth_a_parse(path: str, data: bytes) -> bool:
    """Files that can hold migration state, and .c files that may register types by
    passing array elements to a function of another file (`arm_cpu_register(&arm_v7m_cpus[i])`
    in a file that has nothing else of QOM or migration)."""
    return is_interesting(data) or (path.endswith(".c") and passes_array_elements(data))


def parse_interesting(path: str, data: bytes) -> ParsedFile:
    """The parse of a file that can hold migration state (is_interesting)."""
    tree = parse_tree(data)
    parsed = ParsedFile(parse_file(data, CALLS_WITH_ARGS, tree))
    if registers_dynamically(parsed.parse, data):
        parsed.registrars = registrar_facts(tree, data, parsed.parse)
    return parsed


def c_includes(files: dict[str, TextFacts]) -> dict[str, tuple[str, ...]]:
    """path -> the names of the .c files it #includes, for the files that include any."""
    found = {}
    for path, facts in files.items():
        names = tuple(posixpath.basename(inc) for inc in facts.includes if inc.endswith(".c"))
        if names:
            found[path] = names
    return found


# What resolving one file gives: its VMSDs, QOM types and diagnostics.
FileResult = tuple[list[Vmsd], list[QomType], list[Diagnostic]]


def resolve_file(index: TreeIndex, vms_flags: dict[str, int], path: str,
                 ff: ParsedFile) -> tuple[FileResult, dict]:
    """A file's VMSDs, types and diagnostics, with the lookups they depended on."""
    ctx = index.context(path)
    ctx.record_lookups()
    try:
        return _resolve_decls(ctx, vms_flags, ff), ctx.recorded_lookups()
    finally:
        ctx.lookups = None


def _resolve_decls(ctx, vms_flags: dict[str, int], ff: ParsedFile) -> FileResult:
    decls = ff.parse.decls
    arrays = {d.symbol: d for d in decls if d.is_array or d.is_pointer}
    builder = VmsdBuilder(ctx, arrays, vms_flags)
    vmsds, types, diagnostics = [], [], []
    for decl in decls:
        if decl.type == "VMStateDescription" and not decl.is_array and not decl.is_pointer:
            vmsds.append(builder.build(decl))
        elif decl.type == "TypeInfo" and not _inside_function(decl, ff.parse):
            types.extend(type_infos(ctx, decl, diagnostics))
        elif decl.type == "VirtioPCIDeviceTypeInfo" and not decl.is_array and not _inside_function(decl, ff.parse):
            types.extend(virtio_pci_types(ctx, decl, diagnostics))
    for decl in macro_declarations(ctx, ff.parse.macro_calls, diagnostics):
        vmsds.append(builder.build(decl))
    diagnostics.extend(builder.diagnostics)
    return vmsds, types, diagnostics


def macro_declarations(ctx, calls: list[tuple[str, str, int]], diagnostics: list[Diagnostic]) -> list[Decl]:
    """The VMSDs a macro called at file level declares (`SPAPR_CAP_MIG_STATE(htm, ...)`
    defines `vmstate_spapr_cap_htm`): its expansion, parsed, placed on the call's line."""
    found = []
    for name, text, line in calls:
        macro = ctx.macro(name)
        if macro is None or not any(t.text == "VMStateDescription" for t in macro.body):
            continue
        try:
            expanded = join_tokens(ctx.expand(tokenize(text, line)))
        except (ExpansionError, RecursionError) as exc:
            diagnostics.append(Diagnostic("unresolved", ctx.path, line, f"{name}(...): not expanded: {exc}"))
            continue
        for decl in parse_file(expanded.encode("utf-8", "surrogateescape")).decls:
            if decl.type == "VMStateDescription" and not decl.is_array and not decl.is_pointer:
                found.append(decl._replace(line=line, init_line=line))
    return found


@dataclass(slots=True)
class FileRecord:
    """What one parsed file gives, before the tree-wide steps (merging, linking types to
    VMSDs, resolving registrations, placements): kept with the extraction, so that a
    tree differing in a few files can be assembled again without resolving the rest."""
    vmsds: list[Vmsd]
    types: list[QomType]  # from its TypeInfos, not yet linked to their VMSDs
    diagnostics: list[Diagnostic]
    functions: list[FunctionInfo]
    registrations: list[Registration]  # evaluated in the file's context; vmsd not resolved yet
    loop_types: list[QomType]  # registered by its functions from data (extract/registrars.py)
    loop_diagnostics: list[Diagnostic]
    tables: list[OpsTable] = field(default_factory=list)
    registrars: RegistrarFacts | None = None  # those functions, for calls from other files
    calls_elsewhere: tuple[str, ...] = ()  # functions of other files it passes array elements to
    uncalled: tuple[str, ...] = ()  # its functions registering types from their parameters, not called in it


def file_record(index: TreeIndex, path: str, ff: ParsedFile, file_result: FileResult, read=None) -> FileRecord:
    """READ(path) -> bytes | None reads the .inc files whose arrays its registrations use."""
    vmsds, types, diagnostics = file_result
    ctx = index.context(path)
    tables = [OpsTable(t.type, t.symbol, path, t.line, t.static, t.members) for t in ff.parse.tables]
    record = FileRecord(vmsds, types, diagnostics, [_function_info(ctx, path, fn) for fn in ff.parse.functions],
                        _file_registrations(ctx, path, ff), [], [], tables, ff.registrars)
    if ff.registrars is not None:
        run = FileTypes(path, ff.registrars, index.context, included_arrays(path, ff.registrars, read))
        run.run()
        record.loop_types, record.loop_diagnostics = run.types, run.diagnostics
        record.calls_elsewhere = tuple(sorted({p.callee for p in run.pending}))
        record.uncalled = tuple(fn.name for fn in run.uncalled_helpers())
    return record


def _function_info(ctx, path: str, fn) -> FunctionInfo:
    hooks = [(h.lhs, h.rhs, h.line) for h in fn.hooks]
    for call in fn.calls:
        hook = HOOK_CALLS.get(call.callee)
        if hook and len(call.args) > hook[1] and call.args[hook[1]].strip().isidentifier():
            hooks.append((hook[0], call.args[hook[1]].strip(), call.line))
    classes = fn.class_vars
    vmsds = tuple((a.rhs, a.line, classes.get(_assigned_object(a.lhs))) for a in fn.vmsd_assignments) \
        if fn.vmsd_assignments else ()
    members = tuple((classes[m.object], m.member, m.value, m.line) for m in fn.members if m.object in classes) \
        if classes and fn.members else ()
    evaluated = tuple((call.callee, tuple(_argument_value(ctx, a) for a in call.args), call.line)
                      for call in fn.calls if call.callee in EVALUATED_CALLS) if fn.calls else ()
    if not fn.events:  # most functions: only what the call graph needs
        return FunctionInfo(fn.name, path, fn.line, fn.static, tuple(fn.callees), tuple(hooks), vmsds, members,
                            (), (), tuple(fn.version_checks), tuple(fn.copies), evaluated)
    return FunctionInfo(fn.name, path, fn.line, fn.static, tuple(fn.callees), tuple(hooks), vmsds, members,
                        tuple(fn.events), tuple(sorted(classes.items())), tuple(fn.version_checks),
                        tuple(fn.copies), evaluated)


def _argument_value(ctx, text: str):
    """An argument as a string or number where it evaluates to one (`TYPE_VIRTIO_NET`
    -> "virtio-net-device"), else as written."""
    try:
        value = ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return " ".join(text.split())
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else " ".join(text.split())


def _assigned_object(lhs: str) -> str:
    """`vdc->vmsd` -> `vdc`: the variable whose member is assigned."""
    return re.split(r"->|\.", lhs, maxsplit=1)[0].strip()


def _inside_function(decl: Decl, parse: ParseFacts) -> bool:
    return any(fn.line <= decl.line <= fn.end_line for fn in parse.functions)


def _file_registrations(ctx, path: str, ff: ParsedFile) -> list[Registration]:
    """The registration calls of a file, evaluated in its context (VMSDs resolved later)."""
    found = []
    for fn in ff.parse.functions:
        if fn.name in REGISTRATION_CALLS:
            continue  # a wrapper's own body (vmstate_register() calls ..._with_alias_id())
        for call in fn.calls:
            spec = REGISTRATION_CALLS.get(call.callee)
            if spec is None:
                continue
            id_index, _, idstr_index = spec
            args = call.args
            instance = args[id_index] if id_index is not None and id_index < len(args) else "VMSTATE_INSTANCE_ID_ANY"
            idstr = None
            if idstr_index is not None and idstr_index < len(args):
                try:
                    value = ctx.evaluate(ctx.expand(tokenize(args[idstr_index])))
                    idstr = value if isinstance(value, str) else None
                except (Unresolved, ExpansionError, RecursionError, IndexError):
                    idstr = None
            version = _argument_value(ctx, args[2]) if call.callee == "register_savevm_live" and len(args) > 2 else None
            found.append(Registration(call.callee, path, call.line, fn.name, _instance_id(ctx, instance),
                                      None, idstr, tuple(args), version=version if isinstance(version, int) else None,
                                      conditions=call.conditions))
    return found


def _instance_id(ctx, text: str) -> str:
    """The instance id argument: a constant as its value (VMSTATE_INSTANCE_ID_ANY for -1,
    as vmstate.h defines it), anything else as written."""
    text = " ".join(text.split())
    try:
        value = ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return "VMSTATE_INSTANCE_ID_ANY" if value == -1 else str(value)
    return text
