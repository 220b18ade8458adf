"""qdev properties of the device types of one revision: for each QOM type, the Property
arrays its class_init installs (`device_class_set_props(dc, ramfb_properties)`), and
for each property its name, the state struct and field (or bit) it sets and its default.

An array's elements are expanded with the revision's own DEFINE_PROP_* macros, which
all end in `{ .name = ..., .info = &qdev_prop_bool, .offset = offsetof(State, field) +
..., .bitnr = ..., .set_default = true, .defval.u = ... }`: the members say what the
property is, whatever wrapper macro (DEFINE_PROP_BIT64, DEFINE_VIRTIO_COMMON_FEATURES,
DEFINE_NIC_PROPERTIES...) wrote it.  A property set on a type applies to its subtypes
too (qdev looks properties up through the class's parents).
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..model import Diagnostic, Extraction, FunctionInfo
from .cexpr import Address, Symbol, split_top
from .context import FileContext
from .ctypes import Unresolved
from .lexer import IDENT, Token, join_tokens, tokenize
from .preprocess import ExpansionError

PROPERTY_MARK = b"DEFINE_PROP"
# `[static] [const] Property NAME[] = {`: arrays are brace lists closed by `};` first on a line
_ARRAY_RE = re.compile(rb"\bProperty\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{")
_ARRAY_END = b"\n}"
# The calls that give a class its properties (qdev-properties.c): the array is the second
# argument.  `dc->props_` is qdev's own.
_SET_PROPS_RE = re.compile(rb"\bdevice_class_set_props(?:_n)?\s*\(([^;]*?),\s*([^,;()]+?)\s*[,)]")
SET_PROPS_CALLS = ("device_class_set_props", "device_class_set_props_n")
MAX_HELPER_DEPTH = 3  # class_init -> helper -> helper -> device_class_set_props()


@dataclass(frozen=True, slots=True)
class DeviceProperty:
    """One qdev property: `DEFINE_PROP_BOOL("x-migrate", RAMFBStandaloneState, migrate, true)`."""
    name: str
    struct: str | None  # the state struct of offsetof(State, field); None for a property with
    field: str | None  # accessors of its own and no field (`{ .name = "busnr", .info = &prop_pci_busnr }`)
    bit: int | None  # DEFINE_PROP_BIT/BIT64: the bit of the field it sets
    info: str  # the PropertyInfo: "qdev_prop_bool", "qdev_prop_bit64", "qdev_prop_on_off_auto", ...
    default: str | None  # as written after expansion ("(bool)true"); None without a default
    value: int | None  # the default evaluated (1 for true); None without one, or not a number
    file: str
    line: int
    array: str


@dataclass(frozen=True, slots=True)
class DeviceProperties:
    own: dict[str, tuple[DeviceProperty, ...]]  # QOM type name -> what its own class_init installs
    parents: dict[str, str | None]  # QOM type name -> its parent type
    diagnostics: tuple[Diagnostic, ...]

    def lineage(self, type_name: str) -> list[str]:
        """TYPE_NAME and its ancestors, nearest first."""
        found: list[str] = []
        current: str | None = type_name
        while current is not None and current not in found:
            found.append(current)
            current = self.parents.get(current)
        return found

    def of(self, type_name: str) -> list[tuple[str, DeviceProperty]]:
        """(defining type, property) of every property a device of TYPE_NAME has: its own
        first, then each ancestor's (a subclass's property of the same name wins)."""
        seen: set[str] = set()
        found = []
        for owner in self.lineage(type_name):
            for prop in self.own.get(owner, ()):
                if prop.name not in seen:
                    seen.add(prop.name)
                    found.append((owner, prop))
        return found

    def named(self, type_name: str, name: str) -> tuple[str, DeviceProperty] | None:
        return next(((owner, p) for owner, p in self.of(type_name) if p.name == name), None)


def is_property_file(path: str, data: bytes) -> bool:
    """A .c file declaring Property arrays or installing them (migration.c installs
    options.c's array)."""
    return path.endswith(".c") and (PROPERTY_MARK in data or SET_PROPS_CALLS[0].encode() in data)


class PropertyReader:
    """The properties of the types of EXTRACTION, from FILES (path -> bytes of the .c files
    declaring or installing Property arrays), names resolved with CONTEXT(path)."""

    def __init__(self, files: dict[str, bytes], context: Callable[[str], FileContext], extraction: Extraction):
        self.files, self.context, self.extraction = files, context, extraction
        self.diagnostics: list[Diagnostic] = []
        self.arrays: dict[str, list[tuple[str, int, int]]] = {}  # name -> [(path, start offset, line)]
        self.installs: dict[str, list[tuple[str, int]]] = {}  # function key -> [(array name, line)]
        self.spans = _function_spans(extraction)
        for path, data in files.items():
            self._find_arrays(path, data)
            self._find_installs(path, data)
        self._read: dict[tuple[str, int], tuple[DeviceProperty, ...]] = {}

    def properties(self) -> DeviceProperties:
        own = {}
        for qom in self.extraction.types.values():
            props = self._type_properties(qom.name, qom.file, qom.class_init)
            if props:
                own[qom.name] = props
        parents = {name: qom.parent for name, qom in self.extraction.types.items()}
        return DeviceProperties(own, parents, tuple(self.diagnostics))

    # -- where the arrays are, and who installs them -------------------------------
    def _find_arrays(self, path: str, data: bytes) -> None:
        for m in _ARRAY_RE.finditer(data):
            line = data.count(b"\n", 0, m.end()) + 1  # of the opening brace
            self.arrays.setdefault(m.group(1).decode(), []).append((path, m.end() - 1, line))

    def _find_installs(self, path: str, data: bytes) -> None:
        for m in _SET_PROPS_RE.finditer(data):
            line = data.count(b"\n", 0, m.start()) + 1
            function = _enclosing(self.spans.get(path), line)
            if function is None or function in SET_PROPS_CALLS:
                continue  # outside a function, or qdev's own definition
            array = m.group(2).decode().strip()
            if not array.isidentifier():
                self._diag(path, line, f"{function}: device_class_set_props(..., {array}): properties from "
                                       f"class data or an expression are not read")
                continue
            self.installs.setdefault(f"{path}:{function}", []).append((array, line))

    # -- a type's own properties --------------------------------------------------
    def _type_properties(self, type_name: str, path: str, class_init: str | None) -> tuple[DeviceProperty, ...]:
        found: list[DeviceProperty] = []
        for key in self._reached(path, class_init):
            for array, line in self.installs.get(key, ()):
                found.extend(self._array(key.rsplit(":", 1)[0], array, line))
        return tuple(found)

    def _reached(self, path: str, class_init: str | None) -> list[str]:
        """The function keys class_init reaches in a few calls (helpers it shares with
        sibling types), class_init first."""
        start = self._function_key(path, class_init) if class_init else None
        if start is None:
            return []
        reached, frontier = [start], [start]
        for _ in range(MAX_HELPER_DEPTH):
            step = []
            for key in frontier:
                fn: FunctionInfo = self.extraction.functions[key]
                for callee in fn.calls:
                    if callee in SET_PROPS_CALLS:
                        continue  # 7.2's device_class_set_props() is a function: qdev's own
                    found = self._function_key(fn.file, callee)
                    if found is not None and found not in reached:
                        reached.append(found)
                        step.append(found)
            frontier = step
        return reached

    def _function_key(self, path: str, name: str) -> str | None:
        key = f"{path}:{name}"
        if key in self.extraction.functions:
            return key
        others = [k for k in self._by_name().get(name, ()) if not self.extraction.functions[k].static]
        return others[0] if len(others) == 1 else None

    def _by_name(self) -> dict[str, list[str]]:
        if not hasattr(self, "_names"):
            self._names: dict[str, list[str]] = {}
            for key, fn in self.extraction.functions.items():
                self._names.setdefault(fn.name, []).append(key)
        return self._names

    def _array(self, path: str, name: str, line: int) -> tuple[DeviceProperty, ...]:
        candidates = self.arrays.get(name, [])
        here = [c for c in candidates if c[0] == path] or candidates
        if len(here) != 1:
            what = "not found" if not here else f"declared in {len(here)} files"
            self._diag(path, line, f"Property array {name}: {what}")
            return ()
        where, offset, array_line = here[0]
        key = (where, offset)
        if key not in self._read:
            self._read[key] = tuple(self._read_array(where, name, offset, array_line))
        return self._read[key]

    # -- an array's elements ------------------------------------------------------------
    def _read_array(self, path: str, name: str, offset: int, line: int) -> list[DeviceProperty]:
        data = self.files[path]
        end = data.find(_ARRAY_END, offset)
        ctx = self.context(path)
        text = data[offset:end + 2 if end >= 0 else len(data)].decode("utf-8", "replace")
        try:
            tokens = ctx.apply_conditionals(tokenize(text, line, directives=True))
            tokens = ctx.expand(tokens[1:-1])
        except (ExpansionError, RecursionError) as exc:
            self._diag(path, line, f"Property array {name}: not read: {exc}")
            return []
        found = []
        for element in split_top(tokens, ","):
            if len(element) <= 2:
                continue  # DEFINE_PROP_END_OF_LIST(): `{}`
            prop = self._property(ctx, name, element)
            if prop is not None:
                found.append(prop)
        return found

    def _property(self, ctx: FileContext, array: str, element: list[Token]) -> DeviceProperty | None:
        line = element[0].line
        members = _members(element[1:-1] if element[0].text == "{" else element)
        prop_name = _evaluate(ctx, members.get("name"))
        info = _evaluate(ctx, members.get("info"))
        place = _offsetof(members.get("offset")) if "offset" in members else (None, None)
        if not isinstance(prop_name, str) or place is None:
            self._diag(ctx.path, line, f"Property array {array}: {join_tokens(element)[:80]}: "
                                       f"name or offsetof(State, field) could not be read")
            return None
        bit = _evaluate(ctx, members.get("bitnr")) if "bitnr" in members else None
        default = members.get("defval.u") or members.get("defval.i") if _evaluate(ctx, members.get("set_default")) \
            else None
        value = _evaluate(ctx, default)
        return DeviceProperty(prop_name, place[0], place[1], bit if isinstance(bit, int) else None,
                              info.name if isinstance(info, (Address, Symbol)) else "?",
                              join_tokens(default) if default else None,
                              value if isinstance(value, int) else None, ctx.path, line, array)

    def _diag(self, path: str, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic("unresolved", path, line, message))


def _function_spans(extraction: Extraction) -> dict[str, tuple[list[int], list[str]]]:
    """path -> (sorted start lines, function names) of the functions the extraction parsed."""
    by_file: dict[str, list[tuple[int, str]]] = {}
    for fn in extraction.functions.values():
        by_file.setdefault(fn.file, []).append((fn.line, fn.name))
    spans = {}
    for path, functions in by_file.items():
        functions.sort()
        spans[path] = ([line for line, _ in functions], [name for _, name in functions])
    return spans


def _enclosing(span: tuple[list[int], list[str]] | None, line: int) -> str | None:
    """The function whose definition starts last at or before LINE: C functions do not
    nest, so a call at LINE is in it."""
    if not span:
        return None
    lines, names = span
    i = bisect.bisect_right(lines, line) - 1
    return names[i] if i >= 0 else None


def _members(tokens: list[Token]) -> dict[str, list[Token]]:
    """`.a = x, .b.c = y` -> {"a": x, "b.c": y}."""
    found = {}
    for part in split_top(tokens, ","):
        path = []
        i = 0
        while i + 1 < len(part) and part[i].text == "." and part[i + 1].kind == IDENT:
            path.append(part[i + 1].text)
            i += 2
        if path and i < len(part) and part[i].text == "=":
            found[".".join(path)] = part[i + 1:]
    return found


def _offsetof(tokens: list[Token] | None) -> tuple[str | None, str | None] | None:
    """(State, field) of the `offsetof(State, field)` an offset starts with."""
    texts = [t.text for t in tokens or ()]
    if tokens is None or len(texts) < 6 or texts[0] != "offsetof" or texts[1] != "(":
        return None
    depth, comma, close = 0, None, None
    for i in range(1, len(texts)):
        if texts[i] in ("(", "["):
            depth += 1
        elif texts[i] in (")", "]"):
            depth -= 1
            if depth == 0:
                close = i
                break
        elif texts[i] == "," and depth == 1 and comma is None:
            comma = i
    if comma is None or close is None:
        return None
    struct = " ".join(texts[2:comma]).removeprefix("struct ")
    return struct, join_tokens(tokens[comma + 1:close]).replace(" ", "")


def _evaluate(ctx: FileContext, tokens: list[Token] | None) -> object:
    if not tokens:
        return None
    try:
        return ctx.evaluate(tokens)
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return None


MAX_COMPARED = 64  # changed .c files read to tell whether property defaults may differ


def defaults_may_differ(old_tree, new_tree, is_machine_file) -> bool:
    """Whether a property default (or a compat entry) may differ between two trees
    (sources.tree.SourceTree): a header or an .inc file changed, more than a few .c
    files, or a changed .c file whose Property arrays differ or that is a machine file
    (IS_MACHINE_FILE(path, data)).  A cheap test that spares the machine pass of a change
    that cannot touch them (a field added to a VMSD)."""
    old = {f.path: f.blob for f in old_tree.files}
    new = {f.path: f.blob for f in new_tree.files}
    changed = [path for path in old.keys() | new.keys() if old.get(path) != new.get(path)]
    if any(not path.endswith(".c") for path in changed) or len(changed) > MAX_COMPARED:
        return True
    before, after = old_tree.read([f for f in old_tree.files if f.path in changed]), \
        new_tree.read([f for f in new_tree.files if f.path in changed])
    for path in changed:
        texts = (before.get(path, b""), after.get(path, b""))
        if any(is_machine_file(path, data) for data in texts):
            return True
        if _arrays_text(texts[0]) != _arrays_text(texts[1]):
            return True
    return False


def _arrays_text(data: bytes) -> list[bytes]:
    """The Property arrays of a C text, as written (without their lines)."""
    found = []
    for m in _ARRAY_RE.finditer(data):
        end = data.find(_ARRAY_END, m.end())
        found.append(data[m.start():end if end >= 0 else len(data)])
    return found
