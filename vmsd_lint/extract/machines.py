"""Versioned machine types of one revision and the compat properties each one applies.

QEMU promises migration between two builds only for one versioned machine type
(pc-q35-7.2, virt-7.2, pseries-7.2, ...), and keeps the promise with compat properties:
each machine type's class_init calls its options function, which calls the next newer
one and then adds that release's arrays (`compat_props_add(m->compat_props,
hw_compat_7_2, hw_compat_7_2_len)`), so pc-q35-7.2 ends up with every array from
hw_compat_7_2 up to the newest.  Each array holds `{ driver, property, value }` entries
that a device of that type (or a subtype) gets instead of its default.

Everything is read from the revision's own code: the machine-defining macros
(`DEFINE_Q35_MACHINE(7, 2)`) are expanded with the tree's definitions and the expansion
is read like C; names like TYPE_VIRTIO_NET are evaluated.  What cannot be evaluated is
a diagnostic naming its file and line.  Only a machine type's own class_init chain
counts: machine_class_base_init() gives each non-abstract machine class a fresh
compat_props, so what an abstract parent's class_init would add is not kept.

machine_facts() is the whole pass: these machine types, the device properties
(properties.py), what each .needed or test function reads (gates.py) and the devices a
proxy creates inside it; placement/machines.py gives a finding's verdict from them.
"""
from __future__ import annotations

import bisect
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import NamedTuple, Protocol

from tree_sitter import Node, Query, QueryCursor

from ..model import Diagnostic, Extraction, QomType
from ..sources.tree import SourceTree
from .buildconfig import target_config
from .cache import Cache
from .cexpr import Symbol, split_top
from .context import FileContext, TreeIndex
from .ctypes import Unresolved
from .gates import FieldRead, Gate, conditional_registrations, gate, gating_functions, read_gates
from .holders import BUS_TYPE, USER_CREATABLE, FunctionTexts, Holders, holders, hooked_types, mention_profiles
from .lexer import Token, join_tokens, tokenize
from .parse import Decl, _language, parse_tree
from .preprocess import ExpansionError
from .properties import DeviceProperties, PropertyReader, is_property_file
from .qom import type_infos
from .scan import TextFacts, scan_text
from .sourceset import SourceSet
from .store import MACHINE_FACTS, Store
from .vmsd import designated

COMPAT_ADD = "compat_props_add"
# A machine type's QOM name is its machine name and this macro's string (boards.h)
SUFFIX_MACRO = "TYPE_MACHINE_SUFFIX"
VERSION_RE = re.compile(r"-(\d+)\.(\d+)(?:\.(\d+))?$")
GLOBAL_MEMBERS = ("driver", "property", "value")  # GlobalProperty's first members, in order
MAX_CHAIN = 200  # option functions walked for one machine type (a cycle is cut before)


@dataclass(frozen=True, slots=True)
class CompatProperty:
    """One `{ driver, property, value }` entry of a GlobalProperty array."""
    driver: str
    property: str
    value: str
    compat: str  # the array: "hw_compat_8_1", or "function:name" for one declared in a function
    file: str
    line: int
    condition: str | None = None  # the `if` around the compat_props_add() adding it, when not decided


@dataclass(frozen=True, slots=True)
class MachineType:
    """A versioned machine type and the compat properties it applies, in QEMU's order
    (object_apply_global_props(): a later entry for the same property wins)."""
    name: str  # "pc-q35-7.2"
    version: tuple[int, ...]  # (7, 2)
    hw_dir: str  # "i386": the hw/<dir> holding it, built for the targets of that base arch
    file: str
    line: int  # of the macro call or TypeInfo that defines it
    class_init: str
    chain: tuple[str, ...]  # the functions its class_init reaches, in call order (options functions)
    arrays: tuple[str, ...]  # the GlobalProperty arrays it adds, in order (empty ones too)
    compat: tuple[CompatProperty, ...]
    parent: str | None = None  # its QOM parent (TYPE_PC_MACHINE): whose class_init and instance_init run too

    @property
    def key(self) -> str:
        """"i386/pc-q35-7.2": a machine type's name is unique within its hw/ directory."""
        return f"{self.hw_dir}/{self.name}"

    @property
    def release(self) -> str:
        return ".".join(map(str, self.version))


@dataclass(frozen=True, slots=True)
class MachineTypes:
    machines: tuple[MachineType, ...]
    diagnostics: tuple[Diagnostic, ...]


def is_machine_file(path: str, data: bytes) -> bool:
    """A .c file that adds compat properties or declares GlobalProperty arrays."""
    return path.endswith(".c") and (COMPAT_ADD.encode() in data or b"GlobalProperty" in data)


# -- one file, as tree-sitter sees it ---------------------------------------------


class Call(NamedTuple):
    callee: str
    args: tuple[str, ...]
    line: int
    conditions: tuple[str, ...]  # the `if` conditions around it, outermost first ("!(c)" in an else)


@dataclass(slots=True)
class Function:
    name: str
    line: int
    static: bool
    calls: list[Call]
    arrays: dict[str, Decl]  # GlobalProperty arrays declared in its body


@dataclass(slots=True)
class FileFacts:
    functions: dict[str, Function]
    arrays: dict[str, Decl]  # file-level GlobalProperty arrays
    types: list[Decl]  # TypeInfo variables
    macro_calls: list[tuple[str, int]]  # (call text, line) of macros called at file level


@cache
def _query() -> Query:
    text = resources.files("vmsd_lint.extract").joinpath("queries", "machines.scm").read_text()
    return Query(_language(), text)


def read_file(data: bytes, first_line: int = 1) -> FileFacts:
    """The functions, calls, arrays and file-level macro calls of one C text (FIRST_LINE:
    the line its first line stands for; an expansion is one line)."""
    facts = FileFacts({}, {}, [], [])
    bodies: list[tuple[int, int, Function]] = []
    calls: list[dict[str, list[Node]]] = []
    decls: list[dict[str, list[Node]]] = []
    for _, caps in QueryCursor(_query()).matches(parse_tree(data).root_node):
        if "function" in caps:
            node = caps["function"][0]
            fn = Function(_text(caps["name"][0], data), node.start_point[0] + first_line, _is_static(node), [], {})
            facts.functions[fn.name] = fn
            body = caps["body"][0]
            bodies.append((body.start_byte, body.end_byte, fn))
        elif "call" in caps:
            calls.append(caps)
        elif "decl" in caps:
            decls.append(caps)
        else:
            node = caps["macro_call"][0]
            facts.macro_calls.append((_text(node, data), node.start_point[0] + first_line))
    bodies.sort(key=lambda b: b[0])
    calls.sort(key=lambda caps: caps["call"][0].start_byte)  # body order: the order they run in
    for caps in calls:
        node = caps["call"][0]
        caller = _enclosing(bodies, node)
        if caller is not None:
            args = tuple(_text(a, data) for a in caps["args"][0].named_children if a.type != "comment")
            caller.calls.append(Call(_text(caps["callee"][0], data), args, node.start_point[0] + first_line,
                                 _conditions(node, data)))
    for caps in decls:
        decl = _decl(caps, data, first_line)
        holder = _enclosing(bodies, caps["decl"][0])
        if decl.type == "TypeInfo":
            facts.types.append(decl)
        elif holder is not None:
            holder.arrays[decl.symbol] = decl
        else:
            facts.arrays[decl.symbol] = decl
    return facts


def _text(node: Node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _is_static(node: Node) -> bool:
    return any(c.type == "storage_class_specifier" and c.text == b"static" for c in node.children)


def _enclosing(bodies: list[tuple[int, int, Function]], node: Node) -> Function | None:
    """The function whose body (BODIES: sorted, disjoint) holds NODE."""
    i = bisect.bisect_right(bodies, node.start_byte, key=lambda b: b[0]) - 1
    return bodies[i][2] if i >= 0 and node.end_byte <= bodies[i][1] else None


def _decl(caps: dict[str, list[Node]], data: bytes, first_line: int) -> Decl:
    node, declarator, value = caps["decl"][0], caps["declarator"][0], caps["value"][0]
    name = declarator
    while name.type != "identifier" and (inner := name.child_by_field_name("declarator")) is not None:
        name = inner
    return Decl(_text(caps["decl_type"][0], data), _text(name, data), declarator.type == "array_declarator",
                declarator.type == "pointer_declarator", _is_static(node), node.start_point[0] + first_line,
                _text(value, data), value.start_point[0] + first_line)


def _conditions(node: Node, data: bytes) -> tuple[str, ...]:
    """The conditions of the `if` statements around NODE, up to its function."""
    found: list[str] = []
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        if parent.type == "if_statement":
            condition = parent.child_by_field_name("condition")
            if condition is not None and child != condition:
                text = " ".join(_text(condition, data).split())
                text = text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text
                found.append(f"!({text})" if child.type == "else_clause" else text)
        child, parent = parent, parent.parent
    return tuple(reversed(found))


# -- the machine types of a tree ------------------------------------------------------


class MachineReader:
    """Machine types of the machine files of one tree (FILES: path -> bytes), their macros
    and names resolved with CONTEXT(path) -> FileContext."""

    def __init__(self, files: dict[str, bytes], context: Callable[[str], FileContext]):
        self.context = context
        self.diagnostics: list[Diagnostic] = []
        self.files = {path: read_file(data) for path, data in sorted(files.items())}
        self._globals: dict[str, tuple[str, Function]] = {}
        self._global_arrays: dict[str, tuple[str, Decl]] = {}
        self._entries: dict[tuple[str, str, str], tuple[CompatProperty, ...]] = {}
        self._conditions: dict[tuple[str, str], object] = {}  # (path, condition) -> its value
        for path, facts in self.files.items():
            for fn in facts.functions.values():
                if not fn.static:
                    self._globals.setdefault(fn.name, (path, fn))
            for decl in facts.arrays.values():
                if not decl.static:
                    self._global_arrays.setdefault(decl.symbol, (path, decl))

    def machine_types(self) -> MachineTypes:
        machines: list[MachineType] = []
        for path, facts in self.files.items():
            ctx = self.context(path)
            suffix = _evaluate_text(ctx, SUFFIX_MACRO)
            if not isinstance(suffix, str):
                continue  # not a file that sees boards.h: no machine type
            for decl, local, line in self._type_decls(ctx, facts):
                # a file-level TypeInfo the extractor reads (and reports) itself
                reported = self.diagnostics if local is not facts else []
                for qom in type_infos(ctx, decl, reported):
                    machine = self._machine(ctx, facts, local, qom, suffix, line)
                    if machine is not None:
                        machines.append(machine)
        machines.sort(key=lambda m: (m.hw_dir, VERSION_RE.sub("", m.name), m.version, m.name))
        # an options function several machine types reach is reported once
        return MachineTypes(tuple(machines), tuple(dict.fromkeys(self.diagnostics)))

    def _type_decls(self, ctx: FileContext, facts: FileFacts) -> Iterator[tuple[Decl, FileFacts, int]]:
        """(TypeInfo declaration, the facts it was read in, line) of the file's own
        TypeInfos and of those its file-level macro calls declare."""
        for decl in facts.types:
            yield decl, facts, decl.line
        for text, line in facts.macro_calls:
            if not _may_declare_type(ctx, text):
                continue
            try:
                tokens = ctx.expand(tokenize(text, line))
            except (ExpansionError, RecursionError) as exc:
                self._diag(ctx.path, line, f"{text.split('(')[0]}: not expanded: {exc}")
                continue
            expansion = read_file(join_tokens(tokens).encode(), line)
            for decl in expansion.types:
                yield decl, expansion, line

    def _machine(self, ctx: FileContext, facts: FileFacts, local: FileFacts, qom: QomType, suffix: str,
                 line: int) -> MachineType | None:
        if qom.abstract or not qom.name.endswith(suffix):
            return None
        name = qom.name[:-len(suffix)]
        version = VERSION_RE.search(name)
        if version is None:
            return None  # an unversioned board: no cross-version promise
        if qom.class_init is None:
            self._diag(ctx.path, line, f"machine type {name}: no class_init")
            return None
        chain: list[str] = []
        compat: list[tuple[str, tuple[CompatProperty, ...]]] = []
        class_init = local.functions.get(qom.class_init) or facts.functions.get(qom.class_init)
        if class_init is None:
            self._diag(ctx.path, line, f"machine type {name}: class_init {qom.class_init} not found")
        else:
            self._walk(ctx.path, class_init, local, (), chain, compat)
        return MachineType(name, tuple(int(g) for g in version.groups() if g is not None), _hw_dir(ctx.path),
                           ctx.path, line, qom.class_init, tuple(chain[1:]), tuple(name for name, _ in compat),
                           tuple(entry for _, entries in compat for entry in entries), qom.parent)

    def _walk(self, path: str, fn: Function, local: FileFacts, conditions: tuple[str, ...],
              chain: list[str], compat: list[tuple[str, tuple[CompatProperty, ...]]]) -> None:
        """Follow FN's calls in order: compat_props_add() adds an array's entries, a call
        to a function of the machine files is walked in turn."""
        if fn.name in chain or len(chain) >= MAX_CHAIN:
            return
        chain.append(fn.name)
        ctx = self.context(path)
        for call in fn.calls:
            around = self._undecided(ctx, conditions + call.conditions)
            if around is None:
                continue  # under a condition that is false here (`if (latest)` with latest = false)
            if call.callee == COMPAT_ADD:
                added = self._added(path, fn, local, call, around)
                if added is not None:
                    compat.append(added)
                continue
            found = self._function(path, local, call.callee)
            if found is not None:
                self._walk(found[0], found[1], local if found[0] == path else self.files[found[0]], around,
                           chain, compat)

    def _undecided(self, ctx: FileContext, conditions: tuple[str, ...]) -> tuple[str, ...] | None:
        """CONDITIONS without those that hold; None when one of them is false."""
        left: list[str] = []
        for condition in conditions:
            key = (ctx.path, condition)
            if key not in self._conditions:
                self._conditions[key] = _evaluate_text(ctx, condition)
            value = self._conditions[key]
            if isinstance(value, int):  # decided here (`if (latest)` once the macro is expanded)
                if not value:
                    return None
                continue
            left.append(condition)
        return tuple(left)

    def _function(self, path: str, local: FileFacts, name: str) -> tuple[str, Function] | None:
        fn = local.functions.get(name) or self.files[path].functions.get(name)
        if fn is not None:
            return path, fn
        return self._globals.get(name)

    def _added(self, path: str, fn: Function, local: FileFacts, call: Call,
               conditions: tuple[str, ...]) -> tuple[str, tuple[CompatProperty, ...]] | None:
        """The array a compat_props_add() call adds, and its entries."""
        name = call.args[1] if len(call.args) == 3 else ""
        if not name.isidentifier():
            self._diag(path, call.line, f"{fn.name}: {COMPAT_ADD}({', '.join(call.args)}): not an array name")
            return None
        if name in fn.arrays:
            where, decl, compat = path, fn.arrays[name], f"{fn.name}:{name}"
        elif name in self.files[path].arrays or name in local.arrays:
            where, decl, compat = path, (self.files[path].arrays.get(name) or local.arrays[name]), name
        elif name in self._global_arrays:
            (where, decl), compat = self._global_arrays[name], name
        else:
            self._diag(path, call.line, f"{fn.name}: GlobalProperty array {name} not found")
            return None
        entries = self._array(where, decl, compat)
        condition = " && ".join(conditions) or None
        return compat, tuple(e if condition is None else _with_condition(e, condition) for e in entries)

    def _array(self, path: str, decl: Decl, compat: str) -> tuple[CompatProperty, ...]:
        key = (path, compat, decl.symbol)
        if key not in self._entries:
            self._entries[key] = tuple(self._read_array(self.context(path), decl, compat))
        return self._entries[key]

    def _read_array(self, ctx: FileContext, decl: Decl, compat: str) -> list[CompatProperty]:
        try:
            tokens = ctx.apply_conditionals(tokenize(decl.init_text, decl.init_line, directives=True))
            tokens = ctx.expand(tokens[1:-1])  # PC_CPU_MODEL_IDS("2.4.0") is three entries
        except (ExpansionError, RecursionError) as exc:
            self._diag(ctx.path, decl.line, f"GlobalProperty {compat}: not read: {exc}")
            return []
        entries: list[CompatProperty] = []
        for element in split_top(tokens, ","):
            if not element:
                continue
            if element[0].text != "{" or element[-1].text != "}":
                self._diag(ctx.path, element[0].line, f"GlobalProperty {compat}: element "
                                                      f"{join_tokens(element)[:60]} is not a brace list")
                continue
            entry = self._entry(ctx, element[1:-1], compat, element[0].line)
            if entry is not None:
                entries.append(entry)
        return entries

    def _entry(self, ctx: FileContext, tokens: list[Token], compat: str, line: int) -> CompatProperty | None:
        values: dict[str, object] = {}
        for index, (member, value_tokens, _) in enumerate(designated(tokens)):
            key = member if member is not None else (GLOBAL_MEMBERS[index] if index < 3 else None)
            if key in GLOBAL_MEMBERS:
                values[key] = _evaluate(ctx, value_tokens)
        driver, prop, value = (values.get(m) for m in GLOBAL_MEMBERS)
        if not (isinstance(driver, str) and isinstance(prop, str) and isinstance(value, str)):
            self._diag(ctx.path, line, f"GlobalProperty {compat}: {{{join_tokens(tokens)[:80]}}}: "
                                       f"driver, property or value could not be evaluated")
            return None
        return CompatProperty(driver, prop, value, compat, ctx.path, line)

    def _diag(self, path: str, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic("unresolved", path, line, message))


def _may_declare_type(ctx: FileContext, text: str) -> bool:
    """Whether a file-level macro call is worth expanding: its macro's body (or one it
    calls) must say TypeInfo; most such calls (REG32(...), OBJECT_DECLARE_...) do not."""
    name = text.split("(", 1)[0].strip()
    seen: set[str] = set()
    pending = [name]
    while pending:
        macro = ctx.macro(pending.pop())
        if macro is None or macro.name in seen:
            continue
        seen.add(macro.name)
        words = {t.text for t in macro.body}
        if "TypeInfo" in words:
            return True
        pending.extend(words)  # the macros it calls: ctx.macro() says which words are
    return False


def _with_condition(entry: CompatProperty, condition: str) -> CompatProperty:
    return CompatProperty(entry.driver, entry.property, entry.value, entry.compat, entry.file, entry.line,
                          condition)


def _evaluate(ctx: FileContext, tokens: list[Token]) -> object:
    try:
        return ctx.evaluate(ctx.expand(tokens))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return None


def _evaluate_text(ctx: FileContext, text: str) -> object:
    value = _evaluate(ctx, tokenize(text))
    return None if isinstance(value, Symbol) else value


def _hw_dir(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "hw" else parts[0]


# -- the machine pass: machine types, device properties, and what gates a function ----------


@dataclass(frozen=True, slots=True)
class MachineFacts:
    """What decides, in one revision, which versioned machine types send a piece of state."""
    machines: tuple[MachineType, ...]
    properties: DeviceProperties
    children: dict[str, tuple[str, ...]]  # QOM type -> the device types its instance_init creates in it
    # "vmsd file:function" -> the fields each .needed or test function of its VMSDs reads (gates.py)
    reads: dict[str, tuple[FieldRead, ...]]
    diagnostics: tuple[Diagnostic, ...]
    holders: Holders | None = None  # which device types each machine type can hold (holders.py)

    def objects(self, type_name: str) -> list[str]:
        """TYPE_NAME and the devices created inside one (virtio-net-pci: virtio-net-device),
        whose properties the state of TYPE_NAME's section may depend on."""
        found = [type_name]
        for current in found:
            for owner in self.properties.lineage(current):
                found.extend(child for child in self.children.get(owner, ()) if child not in found)
        return found

    def gates(self, key: str, types: tuple[str, ...] = ()) -> tuple[Gate, ...]:
        """What gates function KEY ("vmsd file:function", a .needed or a field's test):
        a Gate (driver, property, the value turning it off, the run-time condition left)
        per term of its result that reads a property, of TYPES' devices when given."""
        objects = tuple(obj for type_name in types for obj in self.objects(type_name))
        found = (gate(read, self.properties, objects) for read in self.reads.get(key, ()))
        return tuple(dict.fromkeys(g for g in found if g is not None))

    def built_in(self, hw_dir: str) -> tuple[MachineType, ...]:
        """The machine types of hw/<HW_DIR>: those the targets of that base arch build."""
        return tuple(m for m in self.machines if m.hw_dir == hw_dir)


# a virtio proxy's instance_init creates its device: virtio_instance_init_common(obj, &dev->vdev,
# sizeof(dev->vdev), TYPE_VIRTIO_NET), the type being its fourth argument
CHILD_CALLS = {"virtio_instance_init_common": 3}


def machine_facts(tree: SourceTree, extraction: Extraction, index: TreeIndex | None = None) -> MachineFacts:
    """The machine facts of TREE, whose extraction is EXTRACTION.  INDEX: the tree's index
    when the caller has one (else one is built: every header and the files read)."""
    gating_files = set(gating_functions(extraction)) | {reg.file for reg in conditional_registrations(extraction)}
    sources = SourceSet(tree, lambda path, data: _wanted(path, data) or path in gating_files, extraction.target,
                        index)
    machine_files = {path: data for path, data in sources.files.items() if is_machine_file(path, data)}
    machines = MachineReader(machine_files, sources.index.context).machine_types()
    property_files = {path: data for path, data in sources.files.items() if is_property_file(path, data)}
    properties = PropertyReader(property_files, sources.index.context, extraction).properties()
    reads, unread = read_gates(extraction, sources.text, sources.index.context)
    held = holders(machines.machines, extraction, FunctionTexts(sources.texts), _TreeMacros(sources))
    return MachineFacts(machines.machines, properties, _children(extraction), reads,
                        machines.diagnostics + properties.diagnostics + tuple(unread), held)


class _TreeMacros:
    """The object-like macros of a SourceSet's tree, as each file sees them (holders.Macros)."""

    def __init__(self, sources: SourceSet):
        self.sources = sources
        self.indexed: set[str] = set()

    def known(self, path: str, word: str) -> bool:
        if path not in self.indexed:  # a .c file's own #defines: seen by itself only
            self.indexed.add(path)
            self.sources.text(path)
        candidates = self.sources.index.macros.get(word)
        # a type name is a string, or a macro making one (`RISCV_CPU_TYPE_NAME("x")`, another TYPE_*)
        return bool(candidates) and any(c.item.params is None and ('"' in c.item.body or "TYPE" in c.item.body
                                                                   or c.item.body.strip().isidentifier())
                                        for c in candidates)

    def value(self, path: str, word: str) -> object:
        return _evaluate_text(self.sources.index.context(path), word)


def _wanted(path: str, data: bytes) -> bool:
    return is_machine_file(path, data) or is_property_file(path, data)


def _children(extraction: Extraction) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for qom in extraction.types.values():
        fn = extraction.functions.get(f"{qom.file}:{qom.instance_init}") if qom.instance_init else None
        created = [args[CHILD_CALLS[callee]] for callee, args, _ in fn.evaluated_calls
                   if callee in CHILD_CALLS and len(args) > CHILD_CALLS[callee]] if fn else []
        names = tuple(name for name in created if isinstance(name, str) and name in extraction.types)
        if names:
            found[qom.name] = names
    return found


# meson.build: `hw_dir = target_name == 'sparc64' ? 'sparc64' : target_base_arch`
_HW_DIR_RE = re.compile(rb"hw_dir\s*=\s*target_name\s*==\s*'([\w-]+)'\s*\?\s*'([\w-]+)'\s*:\s*target_base_arch")


def target_hw_dir(tree: SourceTree, target: str) -> str | None:
    """The hw/<dir> whose machine types TARGET builds: its TARGET_BASE_ARCH
    (configs/targets/<target>-softmmu.mak), unless meson.build names it an exception;
    None when the tree has no such target.  (Which of that directory's machines a target
    builds is its Kconfig's say: pseries is ppc64's, not ppc's.)"""
    mak = tree.read_path(f"configs/targets/{target}-softmmu.mak")
    if mak is None:
        return None
    exception = _HW_DIR_RE.search(tree.read_path("meson.build") or b"")
    if exception is not None and exception.group(1).decode() == target:
        return exception.group(2).decode()
    return target_config(target, mak.decode("utf-8", "replace")).base_arch


def qemu_release(tree: SourceTree) -> str | None:
    """The QEMU release of TREE, from its VERSION file ("7.2.0" -> "7.2"); None without one."""
    data = tree.read_path("VERSION")
    match = re.match(rb"\s*(\d+)\.(\d+)", data or b"")
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


# -- cached per tree -------------------------------------------------------------------------

_MADE: dict[str, MachineFacts] = {}  # key -> facts, for the trees of one run


class Base(Protocol):
    """A tree whose machine facts are known or can be computed (placement.machines.MachineSource)."""
    tree: SourceTree
    extraction: Extraction

    def facts(self) -> MachineFacts: ...


def stored_machine_facts(tree: SourceTree, extraction: Extraction, cache: Cache | None,
                         base: Base | None = None) -> MachineFacts:
    """machine_facts(TREE, EXTRACTION), from CACHE when a tree of the same files (by blob
    id) and target was seen before, else derived from BASE's when TREE is a few .c files
    away from its tree (derived_machine_facts), else computed; stored either way (a pass
    of a few seconds; loading it back takes a few hundredths)."""
    key = source_key(tree, extraction.target)
    found = _MADE.get(key)
    if found is not None:
        return found
    store = Store(cache)
    stored = store.get(MACHINE_FACTS, key)
    if isinstance(stored, MachineFacts):
        found = stored
    else:
        changed = changed_c_files(base.tree, tree) if base is not None and base.tree is not tree else None
        if base is not None and changed is not None and base.extraction.target == extraction.target:
            found = derived_machine_facts(tree, extraction, base.tree, base.extraction, base.facts(), changed)
        if found is None:
            found = machine_facts(tree, extraction)
        store.write_later(MACHINE_FACTS, {key: found})
    _MADE[key] = found
    return found


# -- a tree a few .c files away from one whose facts are known -------------------------------

MAX_DERIVED = 16  # changed .c files: more, and the whole pass is about as quick


def changed_c_files(base_tree, tree: SourceTree) -> list[str] | None:
    """The paths whose blobs differ between BASE_TREE and TREE, when they are a few .c
    files and the trees list the same paths; None otherwise."""
    old = {f.path: f.blob for f in base_tree.files}
    new = {f.path: f.blob for f in tree.files}
    if old.keys() != new.keys():
        return None
    changed = sorted(path for path, blob in new.items() if old[path] != blob)
    if len(changed) > MAX_DERIVED or any(not path.endswith(".c") for path in changed):
        return None
    return changed


def derived_machine_facts(tree: SourceTree, extraction: Extraction, base_tree: SourceTree, base_extraction: Extraction,
                          base: MachineFacts, changed: list[str]) -> MachineFacts | None:
    """TREE's machine facts from BASE (those of BASE_TREE) when the trees differ only in
    the .c files CHANGED; None when that cannot be done: a changed file is a machine file
    (compat arrays, machine types), or it changes what the holders' walks read (a
    function some walk reached, a QOM type, a registration).  The device properties and
    gate functions of the changed files are read again with an index of the files they
    include (not every header: a macro only a header they do not include defines is not
    seen, where the whole pass would see it); everything else is BASE's."""
    if not changed:
        return base
    files = {f.path: f for f in tree.files}
    base_files = {f.path: f for f in base_tree.files}
    before = base_tree.read([base_files[path] for path in changed])
    after = tree.read([files[path] for path in changed])
    if base.holders is None or any(is_machine_file(path, data) for path in changed
                                   for data in (before[path], after[path])):
        return None
    if not _holders_kept(changed, before, after, base.holders, base_extraction, extraction):
        return None
    index = partial_index(tree, changed, extraction.target)
    found = PropertyReader({path: after[path] for path in changed if is_property_file(path, after[path])},
                           index.context, extraction).properties()
    if any("not found" in d.message or "declared in" in d.message for d in found.diagnostics):
        return None  # an array of another file: the whole pass reads it
    moved = {qom.name for qom in extraction.types.values() if qom.file in changed}
    own = {name: props for name, props in base.properties.own.items() if name not in moved}
    own.update({name: props for name, props in found.own.items() if name in moved})
    properties = DeviceProperties(own, {name: qom.parent for name, qom in extraction.types.items()},
                                  tuple(d for d in base.properties.diagnostics if d.file not in changed)
                                  + found.diagnostics)
    reads, unread = read_gates(extraction, lambda path: after.get(path) or tree.read_path(path), index.context,
                               set(changed))
    reads = {**{key: value for key, value in base.reads.items() if key.rsplit(":", 1)[0] not in changed}, **reads}
    diagnostics = tuple(d for d in base.diagnostics if d.file not in changed) \
        + tuple(d for d in found.diagnostics + tuple(unread) if d.file in changed)
    holders = replace(base.holders, hooked=hooked_types(extraction))
    return MachineFacts(base.machines, properties, _children(extraction), reads, diagnostics, holders)


def _holders_kept(changed: list[str], before: dict[str, bytes], after: dict[str, bytes], holders: Holders,
                  base_extraction: Extraction, extraction: Extraction) -> bool:
    """Whether the holders' walks would find what they found: no function of a changed file
    that a walk reached mentions other names, and its QOM types and registrations stay."""
    for path in changed:
        reached = set(holders.reached.get(path, "").split())
        if reached:
            old, new = mention_profiles(path, before[path]), mention_profiles(path, after[path])
            if any(old.get(name) != new.get(name) for name in reached):
                return False
    return _qom_facts(base_extraction, changed) == _qom_facts(extraction, changed)


def _qom_facts(extraction: Extraction, paths: list[str]) -> tuple:
    """What the holders read of the QOM types and registrations of PATHS (lines aside)."""
    types = []
    for qom in sorted((q for q in extraction.types.values() if q.file in paths), key=lambda q: q.name):
        fn = extraction.functions.get(f"{qom.file}:{qom.class_init}") if qom.class_init else None
        members = tuple(sorted((m, v) for _, m, v, _ in fn.class_members if m in (USER_CREATABLE, BUS_TYPE))) \
            if fn else ()
        types.append((qom.name, qom.parent, qom.class_init, qom.instance_init, qom.abstract, members))
    registrations = sorted({(r.file, r.enclosing) for r in extraction.registrations if r.file in paths})
    return tuple(types), tuple(registrations)


def partial_index(tree: SourceTree, paths: list[str], target: str | None) -> TreeIndex:
    """A TreeIndex of PATHS and every file they include, transitively."""
    mak = tree.read_path(f"configs/targets/{target}-softmmu.mak") if target else None
    config = target_config(target, mak.decode("utf-8", "replace") if mak else None)
    target_dir = f"target/{config.base_arch}/" if config.base_arch else None
    files = {f.path: f for f in tree.files}
    scans: dict[str, TextFacts] = {}
    pending = list(paths)
    while pending:
        batch = [path for path in dict.fromkeys(pending) if path not in scans and path in files]
        pending = []
        data = tree.read([files[path] for path in batch])
        for path in batch:
            scans[path] = scan_text(data[path].decode("utf-8", "surrogateescape"))
            for include in scans[path].includes:
                found = next((c for c in include_candidates(path, include, target_dir) if c in files), None)
                if found is not None and found not in scans:
                    pending.append(found)
    index = TreeIndex({}, config)
    for path in sorted(scans):  # in path order, as the extractor adds them
        index.add(path, scans[path])
    return index


def include_candidates(current: str, include: str, target_dir: str | None) -> list[str]:
    """Where `#include "INCLUDE"` of CURRENT may be, in TreeIndex's order of preference."""
    found = [posixpath.normpath(posixpath.join(posixpath.dirname(current), include)),
             posixpath.normpath(posixpath.join("include", include)), include]
    if target_dir:
        found.append(target_dir + include)
    parts = current.split("/")
    if len(parts) > 2 and parts[0] == "target":
        found.append(f"target/{parts[1]}/{include}")
    return found


def source_key(tree: SourceTree, target: str | None) -> str:
    """The C files and headers of TREE (what the machine pass reads) and the target."""
    text = "".join(f"{f.path}\0{f.blob}\n" for f in sorted(tree.files, key=lambda f: f.path)
                   if f.path.endswith((".c", ".h", ".inc")))
    return hashlib.sha1(f"{target}\n{text}".encode()).hexdigest()

