"""Rust devices (rust/hw/**): their VMStateDescriptions and QOM types, as the same model
records the C extractor makes (Vmsd, Field, QomType, Diagnostic), so that the wire
schema, the diff and the dumps treat them like C ones.

What each qemu-api macro puts in a VMStateField is modelled from its definition in
rust/qemu-api/src/vmstate.rs (QEMU 10.0): `vmstate_of!` takes everything from the
field's Rust type through the `VMState` trait, `vmstate_struct!`, `vmstate_clock!`,
`vmstate_unused!` and `vmstate_validate!` fill the field as their C twins do,
`vmstate_fields!` ends the list itself and `vmstate_subsections!` sends a copy of each
VMSD it names.  Which types implement `VMState` is read from the tree: the
`impl_vmstate_scalar!`, `impl_vmstate_transparent!` and `impl_vmstate_pointer!` calls
of qemu-api, the `VMState for [T; N]` impl, and each device's `impl_vmstate_forward!` /
`impl_vmstate_bitsized!` (a `#[bitsize(N)]` type is its bilge carrier, the smallest
of u8..u128 holding N bits).

A Rust device and the C device it replaces have the same QOM type name: a build holds
one or the other (`select PL011_C if !HAVE_RUST` in hw/char/Kconfig).  The Rust one is
recorded as the type "NAME (rust)", so both stay in the model and each is compared with
its own past; extract.implementations says when the two send different bytes.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace

from ..model import Diagnostic, Field, QomType, Vmsd
from ..sources.tree import SourceFile, SourceTree, is_rust_source
from .cexpr import Unresolved
from .lexer import tokenize
from .preprocess import ExpansionError
from .rustexpr import (
    INT_OPERATORS,
    KEYWORDS,
    Unread,
    eval_int,
    macro_call,
    read_path,
    rust_int,
    rust_string,
    skip_group,
    skip_type,
    split_top,
    the_path,
    token_text,
)
from .rustparse import MAX_TOKENS, Item, RustFacts, Struct, Tok, parse_rust
from .vmsd import HOOKS

RUST_SUFFIX = " (rust)"  # the QOM type of a Rust implementation: "pl011 (rust)"
BINDINGS_HEADER = "rust/wrapper.h"  # what bindgen reads: the view in which `bindings::X` is evaluated
POINTER_SIZE = 8  # LP64 host (see Build-configuration assumptions)
PRIMITIVE_SIZES = {"bool": 1, "u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "f32": 4, "char": 4,
                   "u64": 8, "i64": 8, "f64": 8, "u128": 16, "i128": 16, "usize": POINTER_SIZE,
                   "isize": POINTER_SIZE}
MAX_DEPTH = 32  # constants defined from constants, types wrapping types, VMSDs nesting VMSDs

# VMStateFlags bits, by their C names (bindgen keeps them)
SINGLE, ARRAY, POINTER, ARRAY_OF_POINTER = "VMS_SINGLE", "VMS_ARRAY", "VMS_POINTER", "VMS_ARRAY_OF_POINTER"
STRUCT, BUFFER, MUST_EXIST, MULTIPLY = "VMS_STRUCT", "VMS_BUFFER", "VMS_MUST_EXIST", "VMS_MULTIPLY_ELEMENTS"


def rust_files(tree: SourceTree) -> list[SourceFile]:
    """The Rust files an extraction reads (rust/hw and qemu-api's sources), in path order."""
    return sorted((f for f in tree.files if is_rust_source(f.path)), key=lambda f: f.path)


# Of qemu-api, only the files that say which types implement VMState and what QOM names
# the C types it wraps have are parsed (half of its sources in QEMU 10.0).
_QEMU_API_NEEDED = re.compile(rb"^(?:unsafe impl\b[^\n]*\b(?:ObjectType|VMState) for|impl_vmstate_\w+!)", re.M)


def rust_facts(tree: SourceTree, files: list[SourceFile], cache, kind: str) -> dict[str, RustFacts]:
    """path -> RustFacts of every file (empty for the qemu-api files not needed); per-file
    facts cached by blob id."""
    cached = cache.get_many(kind, [f.blob for f in files]) if cache is not None else {}
    missing = [f for f in files if f.blob not in cached]
    data = tree.read(missing) if missing else {}
    fresh = {f.blob: parse_rust(data[f.path]) if _needed(f.path, data[f.path]) else RustFacts() for f in missing}
    if cache is not None and fresh:
        cache.write_later(kind, fresh)
    found = {**cached, **fresh}
    return {f.path: found[f.blob] for f in files}


def _needed(path: str, data: bytes) -> bool:
    return not path.startswith("rust/qemu-api/") or _QEMU_API_NEEDED.search(data) is not None


def resolve_rust(facts: dict[str, RustFacts], index) -> dict[str, tuple[list, list, list]]:
    """path -> (VMSDs, QOM types, diagnostics) of each Rust file parsed, over the crates
    they form; INDEX (the C tree's) evaluates `bindings::NAME` as bindgen saw it."""
    return _Crates(facts, index).results()


# -- the crates ---------------------------------------------------------------------------

def crate_root(path: str) -> str:
    """A file's crate: the directory holding its src/ (rust/hw/char/pl011, rust/qemu-api)."""
    if "/src/" in path:
        return path[:path.rindex("/src/")]
    return posixpath.dirname(path)


def crate_name(root: str) -> str:
    """The name other crates use for it (Cargo's: dashes become underscores)."""
    return posixpath.basename(root).replace("-", "_")


@dataclass(frozen=True)
class _Base:
    """What `<T as VMState>::BASE` and `SCALAR_TYPE` give for a type."""
    size: int | None
    info: str | None
    flags: frozenset
    num: int | None = None
    varray: str | None = None  # VARRAY_FLAG: the flag used when this type counts a VARRAY
    unread: str | None = None  # why the size is unknown


class _Crates:
    def __init__(self, facts: dict[str, RustFacts], index):
        self.facts = facts
        self.index = index
        self.roots = {path: crate_root(path) for path in facts}
        self.names = {crate_name(root): root for root in sorted(set(self.roots.values()))}
        self.items = self._table((p, i.name, i) for p, f in facts.items() for i in f.items)
        self.structs = self._table((p, s.name, s) for p, f in facts.items() for s in f.structs)
        self.impls = self._table((p, f"{im.trait} for {im.type}", im) for p, f in facts.items() for im in f.impls)
        self.out: dict[str, tuple[list, list, list]] = {p: ([], [], []) for p in facts}
        self._vmstate_families()

    def _table(self, entries) -> dict[str, dict[str, list]]:
        """crate root -> name -> [(path, object)]"""
        table: dict[str, dict[str, list]] = {}
        for path, name, obj in entries:
            table.setdefault(self.roots[path], {}).setdefault(name, []).append((path, obj))
        return table

    def _vmstate_families(self) -> None:
        """The types with a VMState impl, from qemu-api's own impl macros and impls."""
        self.scalars: dict[str, tuple[str, str | None]] = {}  # type -> (info, VARRAY flag)
        self.transparent: set[str] = set()
        self.pointers: set[str] = set()
        self.forwarded: set[tuple[str, str]] = set()  # (crate root, type)
        self.bitsized: set[tuple[str, str]] = set()
        for path, facts in sorted(self.facts.items()):
            for call in facts.macros:
                self._vmstate_macro(path, call)
        self.arrays = any(name.startswith("VMState for [") for table in self.impls.values() for name in table)

    def _vmstate_macro(self, path: str, call) -> None:
        args = split_top(list(call.args[1:-1]))
        if call.name == "impl_vmstate_scalar" and len(args) >= 2 and args[0] and args[1]:
            self.scalars[_type_key(args[1])] = (args[0][0].text, args[2][-1].text if len(args) > 2 and args[2]
                                                else None)
        elif call.name == "impl_vmstate_transparent" and args and args[0]:
            self.transparent.add(_type_key(args[0]))
        elif call.name == "impl_vmstate_pointer" and args and args[0]:
            self.pointers.add(_type_key(args[0]))
        elif call.name in ("impl_vmstate_forward", "impl_vmstate_bitsized") and args and args[0]:
            target = self.forwarded if call.name == "impl_vmstate_forward" else self.bitsized
            target.add((self.roots[path], _type_key(args[0])))

    # -- looking names up ---------------------------------------------------------------
    def lookup(self, table: dict, segments: tuple[str, ...], from_path: str):
        """(path, object) a path names from a file, or None (unknown or ambiguous).  `use`
        is not followed: a name is looked up in the crate the path names (its own by
        default), then, if not found, in any crate where it is unique."""
        if not segments:
            return None
        name = segments[-1]
        root = self.roots.get(from_path) or crate_root(from_path)
        if len(segments) > 1 and segments[0] in self.names:
            root = self.names[segments[0]]
        found = table.get(root, {}).get(name, [])
        if not found:
            found = [entry for crate in table.values() for entry in crate.get(name, [])]
        if len(found) > 1:
            found = _prefer_module(found, segments, from_path)
        return found[0] if len(found) == 1 else None

    def c_value(self, name: str):
        """A C macro through bindgen's eyes (`bindings::TYPE_DEVICE` is "device")."""
        ctx = self.index.context(BINDINGS_HEADER)
        try:
            return ctx.evaluate(ctx.expand(tokenize(name)))
        except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
            raise Unread(f"bindings::{name}: {exc}") from None

    # -- values ---------------------------------------------------------------------------
    def int_value(self, tokens, from_path: str, depth: int = 0) -> int:
        if depth > MAX_DEPTH:
            raise Unread("constants defined more than 32 deep")
        text = []
        i = 0
        tokens = [t for t in tokens if t.text not in ("{", "}", "unsafe")]
        while i < len(tokens):
            tok = tokens[i]
            if tok.kind == "int":
                text.append(str(rust_int(tok.text)))
                i += 1
            elif tok.text == "as":  # a cast: the value stays (sizes and counts fit)
                i = skip_type(tokens, i + 1)
            elif tok.kind == "id" and tok.text not in KEYWORDS:
                value, i = self._int_path(tokens, i, from_path, depth)
                text.append(str(value))
            elif tok.text in INT_OPERATORS:
                text.append(INT_OPERATORS[tok.text])
                i += 1
            else:
                raise Unread(f"'{tok.text}' in an integer expression")
        return eval_int(" ".join(text))

    def _int_path(self, tokens, i: int, from_path: str, depth: int) -> tuple[int, int]:
        segments, end = read_path(tokens, i)
        if segments[-1] == "size_of":
            return self._size_of(tokens[i:end]), skip_group(tokens, end) if end < len(tokens) else end
        if end + 2 < len(tokens) and [t.text for t in tokens[end:end + 3]] == [".", "len", "("]:
            return self._array_length(segments, from_path, depth), skip_group(tokens, end + 2)
        if "bindings" in segments:
            value = self.c_value(segments[-1])
            if isinstance(value, int) and not isinstance(value, bool):
                return value, end
            raise Unread(f"bindings::{segments[-1]} is not an integer")
        found = self.lookup(self.items, segments, from_path)
        if found is None:
            raise Unread(f"constant {'::'.join(segments)} not found")
        path, item = found
        return self.int_value(item.value, path, depth + 1), end

    @staticmethod
    def _size_of(path_tokens) -> int:
        """`size_of::<T>()` of a primitive T (its size is the language's)."""
        texts = [t.text for t in path_tokens]
        if "<" in texts and texts[-1:] == [">"] and len(texts) - texts.index("<") == 3:
            size = PRIMITIVE_SIZES.get(texts[-2])
            if size is not None:
                return size
        raise Unread("size_of::<T>() of a type that is not a primitive")

    def _array_length(self, segments, from_path: str, depth: int) -> int:
        found = self.lookup(self.items, segments, from_path)
        if found is None or found[1].type[0] != "array":
            raise Unread(f"{'::'.join(segments)}.len(): not a constant array")
        return self.int_value(found[1].type[2], found[0], depth + 1)

    def string_value(self, tokens, from_path: str, depth: int = 0) -> str:
        """A C string: `c_str!("x")`, `c"x"`, a constant holding one, or `bindings::TYPE_X`."""
        if depth > MAX_DEPTH:
            raise Unread("constants defined more than 32 deep")
        literals = [t for t in tokens if t.kind == "str"]
        if len(literals) == 1:
            return rust_string(literals[0].text)
        if literals:
            raise Unread("more than one string literal")
        segments = the_path(tokens)
        if segments is None:
            raise Unread("not a string literal or a constant")
        if "bindings" in segments:
            value = self.c_value(segments[-1])
            if isinstance(value, str):
                return value
            raise Unread(f"bindings::{segments[-1]} is not a string")
        found = self.lookup(self.items, segments, from_path)
        if found is None:
            raise Unread(f"constant {'::'.join(segments)} not found")
        return self.string_value(found[1].value, found[0], depth + 1)

    def vmsd_ref(self, tokens, from_path: str) -> str:
        """The VMSD an expression points to (`&VMSTATE_X`, `addr_of!(bindings::vmstate_clock)`):
        a Rust static of this file by its symbol, of another file by its key (file:symbol),
        a C one (`bindings::`) by its C symbol."""
        segments = the_path(tokens)
        if segments is None:
            raise Unread("not a path to a VMStateDescription")
        if "bindings" in segments:
            return segments[-1]
        found = self.lookup(self.items, segments, from_path)
        if found is None:
            raise Unread(f"{'::'.join(segments)} not found")
        path, item = found
        return item.name if path == from_path else f"{path}:{item.name}"

    # -- results --------------------------------------------------------------------------
    def results(self) -> dict[str, tuple[list, list, list]]:
        for path, facts in sorted(self.facts.items()):
            for item in facts.items:
                if _last(item.type) == "VMStateDescription":
                    self.out[path][0].append(_VmsdReader(self, path, item).read())
            for line in facts.cut:
                self.diag(path, line, f"a value longer than {MAX_TOKENS} tokens was cut: not read whole")
        for path, facts in sorted(self.facts.items()):
            for struct in facts.structs:
                if _derives(struct, "Object"):
                    qom = self._qom_type(path, struct)
                    if qom is not None:
                        self.out[path][1].append(qom)
        return self.out

    def diag(self, path: str, line: int, message: str) -> None:
        self.out[path][2].append(Diagnostic("unresolved", path, line, message))

    # -- QOM types ------------------------------------------------------------------------
    def _impl(self, trait: str, type_name: str, path: str):
        return self.lookup(self.impls, (f"{trait} for {type_name}",), path)

    def _qom_type(self, path: str, struct: Struct) -> QomType | None:
        """A `#[derive(Object)]` struct: qemu_api registers `<T as ObjectImpl>::TYPE_INFO`,
        named by ObjectType::TYPE_NAME, child of ObjectImpl::ParentType; DeviceImpl's
        vmsd() (or VMSTATE) is what DeviceClass::class_init puts in dc->vmsd."""
        label = f"QOM type {struct.name}"
        try:
            name = self._type_name(struct.name, path)
        except Unread as exc:
            self.diag(path, struct.line, f"{label}: TYPE_NAME not read ({exc}): its VMSD has no owner")
            return None
        parent, abstract = None, False
        found = self._impl("ObjectImpl", struct.name, path)
        if found is None:
            self.diag(path, struct.line, f"{label} ({name}): no `impl ObjectImpl`: parent unknown")
        else:
            parent = self._parent(found[1], found[0], label)
            abstract = any(n == "ABSTRACT" and [t.text for t in v] == ["true"] for n, v, _ in found[1].consts)
        vmsd, vmsd_line = self._device_vmsd(struct.name, path, label)
        return QomType(name + RUST_SUFFIX, struct.name, path, struct.line, parent, None, abstract, vmsd, vmsd_line)

    def _type_name(self, type_name: str, path: str) -> str:
        found = self._impl("ObjectType", type_name, path)
        if found is None:
            raise Unread(f"no `impl ObjectType for {type_name}`")
        impl_path, impl = found
        for name, value, _ in impl.consts:
            if name == "TYPE_NAME":
                return self.string_value(value, impl_path)
        raise Unread(f"`impl ObjectType for {type_name}` has no TYPE_NAME")

    def _parent(self, impl, path: str, label: str) -> str | None:
        ref = dict(impl.types).get("ParentType")
        if ref is None or ref[0] != "path":
            self.diag(path, impl.line, f"{label}: ParentType not read")
            return None
        parent = ref[1][-1]
        try:
            name = self._type_name(parent, path)
        except Unread as exc:
            self.diag(path, impl.line, f"{label}: parent type {parent} not read ({exc})")
            return "::".join(ref[1])  # a parent outside the tree, as for a C type whose parent is unknown
        rust_parent = self.lookup(self.structs, ref[1], path)
        if rust_parent is not None and _derives(rust_parent[1], "Object") and \
                self._impl("ObjectImpl", parent, rust_parent[0]) is not None:
            return name + RUST_SUFFIX
        return name

    def _device_vmsd(self, type_name: str, path: str, label: str) -> tuple[str | None, int | None]:
        found = self._impl("DeviceImpl", type_name, path)
        if found is None:
            return None, None
        impl_path, impl = found
        places = [(v, line) for n, v, line in impl.functions if n == "vmsd"] + \
                 [(v, line) for n, v, line in impl.consts if n == "VMSTATE"]
        for tokens, line in places:
            if [t.text for t in tokens if t.text not in "{}"] == ["None"]:
                return None, None
            try:
                ref = self.vmsd_ref(tokens, impl_path)
            except Unread as exc:
                self.diag(impl_path, line, f"{label}: VMSD not read ({exc})")
                return None, None
            if ":" not in ref and ref not in {i.name for i in self.facts[impl_path].items}:
                self.diag(impl_path, line, f"{label}: installs the C VMSD {ref}, which this tool does not "
                                           f"follow from Rust")
                return None, None
            return (ref if ":" in ref else f"{impl_path}:{ref}"), line
        return None, None

    # -- field types ----------------------------------------------------------------------
    def base(self, ref: tuple, from_path: str, depth: int = 0) -> _Base:
        """<T as VMState>::BASE (and SCALAR_TYPE) of a field type, as vmstate.rs builds it."""
        if depth > MAX_DEPTH:
            raise Unread("type nested more than 32 deep")
        kind = ref[0]
        if kind == "prim":
            return self._scalar(ref[1])
        if kind == "ptr":
            return self._pointer(self.base(ref[1], from_path, depth + 1))
        if kind == "array":
            return self._array(ref, from_path, depth)
        if kind != "path" or not ref[1]:  # (an empty path: a damaged source, `<>` alone)
            raise Unread(f"type {_type_text(ref)} has no VMState impl this tool reads")
        name, args = ref[1][-1], ref[2]
        if name in self.scalars:
            return self._scalar(name)
        if name in self.transparent and args:  # size_of the wrapper is the inner type's on the wire
            return self.base(args[0], from_path, depth + 1)
        if name in self.pointers and args:
            return self._pointer(self.base(args[0], from_path, depth + 1))
        found = self.lookup(self.structs, ref[1], from_path)
        if found is not None:
            path, struct = found
            if (self.roots[path], name) in self.forwarded and struct.elements:
                return self.base(struct.elements[0], path, depth + 1)
            if (self.roots[path], name) in self.bitsized:
                return self._scalar(_carrier(struct))
        raise Unread(f"type {_type_text(ref)} has no VMState impl this tool reads")

    def _scalar(self, name: str) -> _Base:
        if name not in self.scalars:
            raise Unread(f"type {name} has no impl_vmstate_scalar! in qemu-api")
        info, varray = self.scalars[name]
        size = PRIMITIVE_SIZES.get(name)
        unread = None if size is not None else f"the size of {name} is not known from Rust source"
        return _Base(size, info, frozenset({SINGLE}), None, varray, unread)

    @staticmethod
    def _pointer(inner: _Base) -> _Base:
        if POINTER in inner.flags:
            raise Unread("a pointer to a pointer")
        return replace(inner, flags=inner.flags | {POINTER}, varray=None)

    def _array(self, ref: tuple, from_path: str, depth: int) -> _Base:
        if not self.arrays:
            raise Unread("arrays: qemu-api has no `impl VMState for [T; N]`")
        inner = self.base(ref[1], from_path, depth + 1)
        if ARRAY in inner.flags:
            raise Unread("an array of arrays")
        count = self.int_value(ref[2], from_path)
        flags, size = set(inner.flags) - {SINGLE}, inner.size
        if POINTER in flags:  # with_array_flag(): an array of pointers to scalars
            flags, size = (flags - {POINTER}) | {ARRAY_OF_POINTER}, POINTER_SIZE
        return _Base(size, inner.info, frozenset(flags | {ARRAY}), count, None, inner.unread)

    def field_type(self, struct_tokens, field: str, from_path: str) -> tuple[tuple, str]:
        """The declared type of STRUCT.FIELD, and the file declaring it."""
        segments = the_path(struct_tokens)
        found = self.lookup(self.structs, segments, from_path) if segments else None
        if found is None:
            raise Unread(f"struct {token_text(struct_tokens)} not found")
        path, struct = found
        for name, ref, _ in struct.fields:
            if name == field:
                return ref, path
        if field.isdigit() and int(field) < len(struct.elements):
            return struct.elements[int(field)], path
        raise Unread(f"{struct.name} has no field {field}")


class _VmsdReader:
    """One `static X: VMStateDescription = VMStateDescription { ... }`."""

    def __init__(self, crates: _Crates, path: str, item: Item):
        self.crates, self.path, self.item = crates, path, item
        self.label = f"VMSD {item.name}"

    def diag(self, line: int, message: str) -> None:
        self.crates.diag(self.path, line, f"{self.label}: {message}")

    def read(self) -> Vmsd:
        item = self.item
        values: dict = {"name": None, "version_id": 0, "minimum_version_id": 0, "unmigratable": False,
                        "early_setup": False, "priority": None}
        fields = subsections = None
        hooks: dict[str, str] = {}
        if item.members is None:
            self.diag(item.line, "not read: its value is not a `VMStateDescription { ... }` expression")
            values["version_id"] = values["minimum_version_id"] = None
        for member, tokens, line in item.members or ():
            try:
                if member == "fields":
                    fields = tuple(self._fields(tokens, line))
                elif member == "subsections":
                    subsections = tuple(self._subsections(tokens, line))
                elif member in HOOKS:
                    if token_text(tokens) != "None":
                        hooks[member] = (the_path(tokens) or ("?",))[-1]
                else:
                    self._value(values, member, tokens)
            except Unread as exc:
                self.diag(line, f"{member}: {exc}")
                if member == "fields":  # a list that is there but unread: never an empty one
                    fields = (Field(name=None, line=line, macro="vmstate_fields!", unresolved=("expansion",)),)
        if item.members is not None and not any(m == "name" for m, _, _ in item.members):
            self.diag(item.line, "has no name")
        return Vmsd(item.name, self.path, item.line, values["name"], values["version_id"],
                    values["minimum_version_id"], fields, subsections, hooks, values["unmigratable"],
                    values["priority"], values["early_setup"], static=not item.public)

    def _value(self, values: dict, member: str, tokens) -> None:
        if member == "name":
            values["name"] = self.crates.string_value(tokens, self.path)
        elif member in ("version_id", "minimum_version_id"):
            values[member] = None  # unknown until read
            values[member] = self.crates.int_value(tokens, self.path)
        elif member in ("unmigratable", "early_setup"):
            values[member] = token_text(tokens) == "true"
        elif member == "priority":
            values[member] = (the_path(tokens) or (None,))[-1]

    def _fields(self, tokens, line: int) -> list[Field]:
        name, inner, rest = macro_call(tokens)
        if name != "vmstate_fields" or rest:
            raise Unread(f"{token_text(tokens)[:60]} is not a vmstate_fields! {{ ... }} list")
        return [self._field(element) for element in split_top(inner) if element]

    def _subsections(self, tokens, line: int) -> list[str]:
        name, inner, rest = macro_call(tokens)
        if name != "vmstate_subsections" or rest:
            raise Unread(f"{token_text(tokens)[:60]} is not a vmstate_subsections! {{ ... }} list")
        found = []
        for element in split_top(inner):
            if element:
                try:
                    found.append(self.crates.vmsd_ref(element, self.path))
                except Unread as exc:
                    self.diag(element[0].line, f"subsection {token_text(element)[:60]}: {exc}")
        return found

    def _field(self, element: list[Tok]) -> Field:
        line = element[0].line
        name, inner, rest = macro_call(element)
        macro = f"{name}!" if name else token_text(element)[:40]
        read = FIELD_MACROS.get(name)
        if read is None:
            self.diag(line, f"{token_text(element)[:80]} is not a vmstate macro this tool reads")
            return Field(name=None, line=line, macro=macro, unresolved=("expansion",))
        args = split_top(inner)
        try:
            field = read(self, args, line, macro)
        except Unread as exc:
            self.diag(line, f"{token_text(element)[:80]}: {exc}")
            return Field(name=_field_name(args), line=line, macro=macro, unresolved=("expansion",))
        return self._methods(field, rest)

    def _methods(self, field: Field, rest: list[Tok]) -> Field:
        """Builder calls after the macro: `.with_version_id(N)`."""
        while rest:
            if len(rest) >= 4 and rest[0].text == "." and rest[1].text == "with_version_id" and rest[2].text == "(":
                end = skip_group(rest, 2)
                try:
                    field = replace(field, version_id=self.crates.int_value(rest[3:end - 1], self.path))
                except Unread as exc:
                    self.diag(field.line, f"field {field.name}: version not read ({exc})")
                    field = replace(field, unresolved=field.unresolved + ("version_id",))
                rest = rest[end:]
                continue
            self.diag(field.line, f"field {field.name}: {token_text(rest)[:60]} not read")
            return replace(field, unresolved=field.unresolved + ("expansion",))
        return field

    # -- the field macros of qemu-api (vmstate.rs) ----------------------------------------
    def _vmstate_of(self, args, line: int, macro: str) -> Field:
        """vmstate_of!(Struct, field [0 .. num (* factor)?]): BASE of the field's type."""
        if len(args) != 2 or not args[1]:
            raise Unread("expected (Struct, field)")
        field, count = _varray_part(args[1])
        ref, path = self.crates.field_type(args[0], field, self.path)
        base = self.crates.base(ref, path)
        flags, num, num_field = set(base.flags), base.num, None
        if count is not None:
            if ARRAY not in flags:
                raise Unread(f"[0 .. {count[0]}] on a field that is not an array")
            flags, num, num_field = self._varray(args[0], flags, count)
        unresolved = ("size",) if base.size is None else ()
        if base.unread:
            self.diag(line, f"field {field}: {base.unread}")
        return Field(name=field, line=line, macro=macro, size=base.size, num=num, num_field=num_field,
                     flags=tuple(sorted(flags)), info=base.info, unresolved=unresolved)

    def _varray(self, struct_tokens, flags: set, count) -> tuple[set, int, str]:
        """with_varray_flag(VARRAY_FLAG of the count's type) and with_varray_multiply()."""
        num_name, factor = count
        ref, path = self.crates.field_type(struct_tokens, num_name, self.path)
        flag = self.crates.base(ref, path).varray
        if flag is None:
            raise Unread(f"{num_name}'s type cannot count a variable array")
        flags = (flags - {ARRAY}) | {flag}
        if factor is None:
            return flags, 0, num_name
        return flags | {MULTIPLY}, self.crates.int_value(factor, self.path), num_name

    def _vmstate_struct(self, args, line: int, macro: str) -> Field:
        """vmstate_struct!(Struct, field [0 .. num]?, &VMSD, Type): VMS_STRUCT and the VMSD;
        the size is the Rust type's, host layout that is not on the wire (left unknown)."""
        if len(args) != 4 or not args[1]:
            raise Unread("expected (Struct, field, &VMSD, Type)")
        field, count = _varray_part(args[1])
        flags, num, num_field = {STRUCT}, None, None
        if count is not None:
            flags, num, num_field = self._varray(args[0], flags, count)
        return Field(name=field, line=line, macro=macro, num=num, num_field=num_field, flags=tuple(sorted(flags)),
                     vmsd=self.crates.vmsd_ref(args[2], self.path))

    def _vmstate_clock(self, args, line: int, macro: str) -> Field:
        """vmstate_clock!(Struct, field): a pointer to a Clock, nesting C's vmstate_clock."""
        if len(args) != 2 or len(args[1]) != 1:
            raise Unread("expected (Struct, field)")
        return Field(name=args[1][0].text, line=line, macro=macro, size=POINTER_SIZE,
                     flags=(POINTER, STRUCT), vmsd="vmstate_clock")

    def _vmstate_unused(self, args, line: int, macro: str) -> Field:
        if len(args) != 1:
            raise Unread("expected (size)")
        return Field(name="unused", line=line, macro=macro, size=self.crates.int_value(args[0], self.path),
                     flags=(BUFFER,), info="vmstate_info_unused_buffer")

    def _vmstate_validate(self, args, line: int, macro: str) -> Field:
        """vmstate_validate!(Struct, c"name", test): no bytes, the test decides the load."""
        if len(args) != 3:
            raise Unread("expected (Struct, name, test)")
        test = the_path(args[2])
        return Field(name=self.crates.string_value(args[1], self.path), line=line, macro=macro,
                     field_exists=test[-1] if test else token_text(args[2])[:40], num=0, flags=(ARRAY, MUST_EXIST))


FIELD_MACROS = {"vmstate_of": _VmsdReader._vmstate_of, "vmstate_struct": _VmsdReader._vmstate_struct,
                "vmstate_clock": _VmsdReader._vmstate_clock, "vmstate_unused": _VmsdReader._vmstate_unused,
                "vmstate_validate": _VmsdReader._vmstate_validate}


def _varray_part(tokens) -> tuple[str, tuple | None]:
    """`field` or `field[0 .. num]` / `field[0 .. num * factor]`: (field, (num, factor tokens))."""
    field = tokens[0].text
    if len(tokens) == 1:
        return field, None
    texts = [t.text for t in tokens]
    if len(tokens) >= 6 and texts[1] == "[" and texts[2] == "0" and texts[3] == ".." and texts[-1] == "]":
        num = tokens[4].text
        factor = tokens[6:-1] if len(tokens) > 6 and texts[5] == "*" else None
        return field, (num, factor)
    raise Unread(f"{token_text(tokens)} is not a field name")


def _field_name(args) -> str | None:
    """The field an unreadable macro call names, for the record (its second argument)."""
    if len(args) >= 2 and args[1] and args[1][0].kind == "id":
        return args[1][0].text
    return None


def _last(ref: tuple) -> str | None:
    return ref[1][-1] if ref[0] == "path" and ref[1] else None


def _type_key(tokens) -> str:
    """How a type is known in the impl tables: `u32`, `Timer` (crate::timer::Timer),
    `BqlCell` (crate::cell::BqlCell<T>), `*const`."""
    texts = [t.text for t in tokens]
    if texts[:1] == ["*"] and len(texts) > 1:
        return "*" + texts[1]
    segments, _ = read_path(tokens, 0)
    return segments[-1] if segments else " ".join(texts)


def _type_text(ref: tuple) -> str:
    if ref[0] == "path":
        return "::".join(ref[1])
    if ref[0] in ("prim", "other"):
        return ref[1]
    if ref[0] == "array":
        return f"[{_type_text(ref[1])}; {token_text(ref[2])}]"
    return f"{'*' if ref[0] == 'ptr' else '&'}{_type_text(ref[1])}"


def _derives(struct: Struct, trait: str) -> bool:
    """#[derive(..., path::TRAIT, ...)] on the struct."""
    for attribute in struct.attributes:
        texts = [t.text for t in attribute]
        if "derive" in texts[:3] and trait in texts:
            return True
    return False


def _carrier(struct: Struct) -> str:
    """The integer a #[bitsize(N)] (bilge) type is stored in: u8, u16, u32, u64 or u128."""
    for attribute in struct.attributes:
        texts = [t.text for t in attribute]
        if "bitsize" in texts[:3] and len(texts) >= 6 and texts[3] == "(":
            bits = rust_int(texts[4])
            for carrier in (8, 16, 32, 64, 128):
                if bits <= carrier:
                    return f"u{carrier}"
            raise Unread(f"bitsize({bits}) is wider than u128")
    raise Unread(f"{struct.name} has impl_vmstate_bitsized! but no #[bitsize(N)]")


def _prefer_module(found: list, segments: tuple[str, ...], from_path: str) -> list:
    """Among several definitions of a name: the one in the module the path names
    (`device_class::X` -> device_class.rs, `crate::X` -> lib.rs), else the reader's own file."""
    module = segments[-2] if len(segments) > 1 else None
    if module == "crate":
        wanted = [e for e in found if e[0].endswith(("/src/lib.rs", "/src/main.rs"))]
    elif module not in (None, "self", "super", "Self"):
        wanted = [e for e in found if posixpath.basename(e[0]) == f"{module}.rs" or e[0].endswith(f"/{module}/mod.rs")]
    else:
        wanted = []
    return wanted or [e for e in found if e[0] == from_path] or found
