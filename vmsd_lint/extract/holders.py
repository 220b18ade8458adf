"""Which device types a versioned machine type can hold: a device is **board-only** when
none can, and QEMU promises nothing about migrating it across releases.

A machine type holds a device when
- a user can create it (`-device`): a device class is user-creatable unless its class_init
  (or the nearest ancestor's that says anything) sets `dc->user_creatable = false`, as
  sysbus_device_class_init() does for every sysbus device; a CPU type counts as one too
  (the machine creates `machine->cpu_type`, a name known at run time); or
- code the machine runs creates it: its init, its class_init and options functions, and
  transitively every function they call and every device they create, with the devices
  those devices create in their own instance_init, realize and class_init hooks.

What "creates" means is over-approximated, so that an approximation errs toward "the
machine can hold it" and never hides a real break:
- a machine's code is the whole file defining it (pc_q35.c for pc-q35-7.2: its init, its
  options functions, its tables of type names) and its QOM ancestors' class_init and
  instance_init;
- a function reaches every function whose name its body mentions (a call, or a callback
  handed on: `dc->realize = foo_realize`, `qbus_walk_children(bus, fn, ...)`), found by
  name: the function of its own file, else every other definition of that name (stubs
  included; header `static inline` ones included);
- a function creates every device type whose name its body mentions, as a string
  (`"kvmvapic"`) or through an object-like macro (`TYPE_ICH9_LPC_DEVICE`) evaluated with
  the file's macros: `qdev_new(TYPE_X)`, `object_initialize_child(..., TYPE_X)`,
  `isa_create_simple(bus, TYPE_X)`, `machine_class_allow_dynamic_sysbus_dev(mc, TYPE_X)`,
  but also `object_dynamic_cast(obj, TYPE_X)` -- all but `dc->bus_type = TYPE_X`, the
  bus a device plugs into (a machine provides a bus it creates, or one a device it
  holds creates);
- a device created runs the class_init and instance_init of its type and ancestors.

Functions are found in the text without a parse: QEMU's style opens a function body
with `{` in column 0 after its `)` and closes it with `}` in column 0.  A body written
otherwise is not found, and what only it creates is missed: the one way this pass can
call a device board-only that is not (a type named at run time -- `object_new(name)`
with `name` a variable -- is the other; CPU types, the main such case, count as
user-creatable).  A user-creatable device counts as held by a machine type that provides
the bus it plugs into (`dc->bus_type`; any machine type for a device without one), and so
do the devices and buses it creates: the user-creatable devices of one bus are walked
together.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..model import Extraction, QomType

# the directories whose code no system emulator runs (tests, user-mode emulation, tools)
NOT_SYSTEM = ("tests/", "linux-user/", "bsd-user/", "contrib/", "subprojects/", "roms/", "scripts/", "docs/",
              "qga/", "tools/", "python/", "pc-bios/", "fuzz/")
CPU_BASE = "cpu"  # TYPE_CPU: the QOM ancestor of every CPU type
DEVICE_BASE = "device"  # TYPE_DEVICE
USER_CREATABLE = "user_creatable"
BUS_TYPE = "bus_type"
_OPEN = re.compile(rb"\n\{")  # a function body opens in column 0 ...
_CLOSE = re.compile(rb"\n\}")  # ... and closes in column 0
_IDENT = re.compile(rb"[A-Za-z_]\w*")
_BUS_TYPE = re.compile(rb"->\s*bus_type\s*=\s*\w+")
_STRING = re.compile(rb'"((?:[^"\\\n]|\\.)*)"')
_SPACES = frozenset(b" \t\r\n")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_DIGITS = frozenset(b"0123456789")
_KEYWORDS = frozenset({b"if", b"while", b"for", b"switch", b"sizeof", b"return", b"defined", b"__attribute__",
                       b"typeof", b"_Static_assert", b"QEMU_BUILD_BUG_ON"})
MAX_LOOKBACK = 2000  # bytes before a `{` searched for the function's `(`


@dataclass(frozen=True, slots=True)
class Holders:
    """Per tree: which device types each versioned machine type can hold.  Machine types
    of one file and family share their sets: `by_machine` maps a MachineType.key
    ("i386/pc-q35-7.2") to an index into `created`."""
    # the types each machine type can hold, with their ancestors (so that the set says
    # which bus types the machine provides: a PCIE bus is a PCI bus): what its code
    # creates, the user-creatable devices that plug into a bus it provides (or into none),
    # and what those create in turn (a PCI SCSI adapter's bus, the disks on it)
    created: tuple[frozenset[str], ...]
    by_machine: dict[str, int]
    # user-creatable device (and CPU) types -> the bus type they plug into ("" for none)
    user_creatable: dict[str, str]
    # "file:function" of each function registering state (vmstate_register()...) -> the
    # indices into `created` whose machine code reaches it
    registrations: dict[str, tuple[int, ...]]
    # a hook function's name (realize, instance_init: where a device registers state by
    # hand) -> the concrete types running it (the type installing it and its subtypes)
    hooked: dict[str, tuple[str, ...]]
    # path -> the functions of it that some walk reached, space-separated (one string a
    # file reads back fast): a change to any other function of the file leaves the sets
    # as they are (extract/machines.py derives a tree's facts)
    reached: dict[str, str] = field(default_factory=dict)

    def held(self, key: str) -> frozenset[str]:
        """The types machine type KEY can hold (MachineType.key), with their ancestors."""
        index = self.by_machine.get(key)
        return self.created[index] if index is not None else frozenset()

    def holds(self, key: str, type_name: str) -> bool:
        """Whether machine type KEY can hold a device of TYPE_NAME: its code creates one,
        or a user can plug one into a bus it has."""
        return type_name in self.held(key)

    def registers(self, key: str, function: str) -> bool | None:
        """Whether machine type KEY's code reaches FUNCTION ("file:name", registering
        state); None when it is not known as a function registering state."""
        reached = self.registrations.get(function)
        if reached is None:
            return None
        return self.by_machine.get(key, -1) in reached


# -- functions in the text ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextFunction:
    path: str
    name: str
    start: int  # of the body's `{`
    end: int  # of its `}`
    static: bool


def function_spans(path: str, data: bytes) -> list[TextFunction]:
    """The functions of one C text whose bodies open and close in column 0."""
    found = []
    closes = [m.start() + 1 for m in _CLOSE.finditer(data)]
    j = 0
    for m in _OPEN.finditer(data):
        start = m.start() + 1
        while j < len(closes) and closes[j] < start:
            j += 1
        if j == len(closes):
            break
        end = start
        while end > 0 and data[end - 1] in _SPACES:
            end -= 1
        if end == 0 or data[end - 1] != 0x29:  # `)`
            continue  # `= {` of an initializer, a struct body
        head = data[max(0, start - MAX_LOOKBACK):end]
        open_paren = _matching_open(head)
        if open_paren is None:
            continue
        name_start, name = _name_before(head, open_paren)
        if not name or name in _KEYWORDS or name[0] in _DIGITS:
            continue
        # the declaration's words: from the previous statement, preprocessor line or comment
        decl_start = max(head.rfind(b";", 0, name_start), head.rfind(b"}", 0, name_start),
                         head.rfind(b"\n#", 0, name_start), head.rfind(b"*/", 0, name_start),
                         head.rfind(b"\n\n", 0, name_start))
        static = b"static" in head[decl_start + 1:name_start]
        found.append(TextFunction(path, name.decode(), start, closes[j], static))
    return found


def _name_before(head: bytes, end: int) -> tuple[int, bytes]:
    """(start, identifier) of the identifier ending HEAD[:END], spaces after it skipped."""
    i = end
    while i > 0 and head[i - 1] in _SPACES:
        i -= 1
    stop = i
    while i > 0 and head[i - 1] in _WORD:
        i -= 1
    return i, head[i:stop]


def _matching_open(head: bytes) -> int | None:
    """The index of the `(` matching HEAD's final `)`."""
    last = head.rfind(b"(")
    if last >= 0 and head.count(b")", last) == 1:
        return last  # no parentheses inside the parameters: most functions
    depth = 0
    for i in range(len(head) - 1, -1, -1):
        char = head[i]
        if char == 0x29:  # )
            depth += 1
        elif char == 0x28:  # (
            depth -= 1
            if depth == 0:
                return i
    return None


class FunctionTexts:
    """Every function of the system emulator's C files and headers, by name."""

    def __init__(self, texts: dict[str, bytes]):
        self.texts = texts
        self.by_name: dict[str, list[TextFunction]] = {}
        self.by_path: dict[str, list[TextFunction]] = {}
        self._at: dict[tuple[str, int], TextFunction] = {}
        for path in sorted(texts):
            if path.startswith(NOT_SYSTEM):
                continue
            self.by_path[path] = function_spans(path, texts[path])
            for fn in self.by_path[path]:
                self.by_name.setdefault(fn.name, []).append(fn)

    def find(self, name: str, from_path: str) -> list[TextFunction]:
        """What NAME means in FROM_PATH: the file's own function, else every other file's
        definition that another file may call (a header's static inline ones included)."""
        candidates = self.by_name.get(name, ())
        own = [fn for fn in candidates if fn.path == from_path]
        return own or [fn for fn in candidates if not fn.static or not fn.path.endswith(".c")]

    def at(self, path: str, start: int) -> TextFunction | None:
        """The function of PATH whose body starts at START."""
        if not self._at:
            self._at.update(((fn.path, fn.start), fn) for fns in self.by_path.values() for fn in fns)
        return self._at.get((path, start))

    def whole(self, path: str) -> TextFunction:
        """PATH's whole text as one function: what it mentions anywhere (its functions, and
        the type names of its tables: a machine's choice of south bridge)."""
        return TextFunction(path, "", 0, len(self.texts.get(path, b"")), False)


def _body(data: bytes, fn: TextFunction) -> bytes:
    """FN's body as the walk reads it: `dc->bus_type = TYPE_X` names the bus a device
    plugs into, which it does not create."""
    return _BUS_TYPE.sub(b"", data[fn.start:fn.end])


def mention_profiles(path: str, data: bytes) -> dict[str, frozenset[bytes]]:
    """Function name -> the words and strings its body (or bodies: one per #if branch)
    mention: what a walk reads of a function."""
    found: dict[str, frozenset[bytes]] = {}
    for fn in function_spans(path, data):
        body = _body(data, fn)
        found[fn.name] = found.get(fn.name, frozenset()) | frozenset(_IDENT.findall(body)) \
            | frozenset(_STRING.findall(body))
    return found


# -- what a machine's code reaches ----------------------------------------------------------


class Macros(Protocol):
    """The tree's object-like macros, as a file sees them."""

    def known(self, path: str, word: str) -> bool: ...

    def value(self, path: str, word: str) -> object: ...


class Reach:
    """The walk from a machine type's code to the device types it creates."""

    def __init__(self, functions: FunctionTexts, types: dict[str, QomType], macros: Macros):
        self.functions, self.types, self.macros = functions, types, macros
        self._mentions: dict[tuple[str, int], tuple[tuple[TextFunction, ...], frozenset[str]]] = {}
        self._values: dict[tuple[str, str], object] = {}

    def mentions(self, fn: TextFunction) -> tuple[tuple[TextFunction, ...], frozenset[str]]:
        """The functions FN's body names, and the QOM types it names."""
        key = (fn.path, fn.start)
        found = self._mentions.get(key)
        if found is not None:
            return found
        body = _body(self.functions.texts[fn.path], fn)
        callees: list[TextFunction] = []
        types: set[str] = set()
        for raw in set(_IDENT.findall(body)):
            word = raw.decode()
            if word in self.functions.by_name:
                callees.extend(f for f in self.functions.find(word, fn.path) if f is not fn)
            elif self.macros.known(fn.path, word):
                value = self._value(fn.path, word)
                if isinstance(value, str) and value in self.types:
                    types.add(value)
        for raw in set(_STRING.findall(body)):
            text = raw.decode("utf-8", "replace")
            if text in self.types:
                types.add(text)
        found = self._mentions[key] = (tuple(callees), frozenset(types))
        return found

    def _value(self, path: str, word: str) -> object:
        key = (path, word)
        if key not in self._values:
            self._values[key] = self.macros.value(path, word)
        return self._values[key]

    def type_functions(self, type_name: str) -> list[TextFunction]:
        """The class_init and instance_init of TYPE_NAME and its ancestors."""
        found: list[TextFunction] = []
        seen: set[str] = set()
        current: str | None = type_name
        while current is not None and current not in seen and current in self.types:
            seen.add(current)
            qom = self.types[current]
            for name in (qom.class_init, qom.instance_init):
                if name:
                    found.extend(self.functions.find(name, qom.file))
            current = qom.parent
        return found

    def walk(self, functions: Iterable[TextFunction],
             types: Iterable[str] = ()) -> tuple[frozenset[str], set[tuple[str, int]]]:
        """The types created by FUNCTIONS and TYPES' own functions, transitively, and the
        functions reached ((path, start) of each)."""
        seen_fns: set[tuple[str, int]] = set()
        created: set[str] = set()
        pending: list[TextFunction] = list(functions)
        pending_types = list(types)
        while pending or pending_types:
            while pending_types:
                type_name = pending_types.pop()
                if type_name in created:
                    continue
                created.add(type_name)
                pending.extend(self.type_functions(type_name))
            while pending:
                fn = pending.pop()
                key = (fn.path, fn.start)
                if key in seen_fns:
                    continue
                seen_fns.add(key)
                callees, named = self.mentions(fn)
                pending.extend(callees)
                pending_types.extend(t for t in named if t not in created)
        return frozenset(created), seen_fns


# -- user-creatable device types -------------------------------------------------------------


def user_creatable(extraction: Extraction, macros: Macros) -> dict[str, str]:
    """The concrete device (and CPU) types a user may create, with the bus type each plugs
    into ("" for none): no class_init of the type or its ancestors sets `user_creatable =
    false`, or the nearest one that sets it sets true; the bus is the nearest `bus_type`
    set.  A class_init that cannot be found says nothing (the type stays creatable, with
    no bus: anywhere)."""
    creatable: dict[str, bool] = {}
    buses: dict[str, str] = {}
    for qom in extraction.types.values():
        fn = extraction.functions.get(f"{qom.file}:{qom.class_init}") if qom.class_init else None
        for _, member, value, _ in fn.class_members if fn else ():
            if member == USER_CREATABLE:
                creatable[qom.name] = creatable.get(qom.name, False) or value != "false"
            elif member == BUS_TYPE:
                bus = macros.value(qom.file, value) if value.isidentifier() else None
                if isinstance(bus, str):
                    buses[qom.name] = bus
    found = {}
    for qom in extraction.types.values():
        if qom.abstract:
            continue
        lineage = _lineage(extraction.types, qom.name)
        if DEVICE_BASE not in lineage and CPU_BASE not in lineage:
            continue  # not a device (a machine, a backend, a bus)
        if CPU_BASE in lineage:
            found[qom.name] = ""  # the machine creates its -cpu model
        elif next((creatable[t] for t in lineage if t in creatable), True):
            found[qom.name] = next((buses[t] for t in lineage if t in buses), "")
    return found


def _lineage(types: dict[str, QomType], name: str) -> list[str]:
    found: list[str] = []
    current: str | None = name
    while current is not None and current not in found:
        found.append(current)
        qom = types.get(current)
        current = qom.parent if qom is not None else None
    return found


def _with_ancestors(types: dict[str, QomType], names: Iterable[str]) -> frozenset[str]:
    return frozenset(t for name in names for t in _lineage(types, name))


def holders(machines: Iterable, extraction: Extraction, functions: FunctionTexts, macros: Macros) -> Holders:
    """The Holders of a tree: MACHINES (extract.machines.MachineType) and the types of
    EXTRACTION; FUNCTIONS the tree's function texts, MACROS its macros."""
    types = extraction.types
    reach = Reach(functions, types, macros)
    creatable = user_creatable(extraction, macros)
    by_bus: dict[str, frozenset[str]] = {}  # bus -> what its user-creatable devices are and create
    visited_all: set[tuple[str, int]] = set()
    for bus in sorted(set(creatable.values())):
        found, visited = reach.walk((), sorted(t for t, b in creatable.items() if b == bus))
        by_bus[bus] = _with_ancestors(types, found)
        visited_all |= visited
    registering = _registering(extraction, functions)
    reached: dict[str, set[int]] = {}
    sets: dict[frozenset[str], int] = {}
    created: list[frozenset[str]] = []
    by_machine: dict[str, int] = {}
    walked: dict[tuple[str, str | None], int] = {}
    for machine in machines:
        start = (machine.file, machine.parent)
        if start not in walked:
            found, visited = reach.walk([functions.whole(machine.file)], [machine.parent] if machine.parent else [])
            found = _pluggable(_with_ancestors(types, found), by_bus)
            if found not in sets:
                sets[found] = len(created)
                created.append(found)
            walked[start] = sets[found]
            visited_all |= visited
            for key, fns in registering.items():
                if fns & visited:
                    reached.setdefault(key, set()).add(walked[start])
        by_machine[machine.key] = walked[start]
    names: dict[str, set[str]] = {}
    for path, start in visited_all:
        fn = functions.at(path, start)
        if fn is not None and fn.name:
            names.setdefault(path, set()).add(fn.name)
    return Holders(tuple(created), by_machine, creatable,
                   {key: tuple(sorted(reached.get(key, ()))) for key in registering}, hooked_types(extraction),
                   {path: " ".join(sorted(found)) for path, found in sorted(names.items())})


def _pluggable(held: frozenset[str], by_bus: dict[str, frozenset[str]]) -> frozenset[str]:
    """HELD with what users can plug into the buses it provides, until no new bus comes."""
    found = set(held) | by_bus.get("", frozenset())
    done: set[str] = set()
    while True:
        buses = [bus for bus in by_bus if bus and bus in found and bus not in done]
        if not buses:
            return frozenset(found)
        for bus in buses:
            done.add(bus)
            found |= by_bus[bus]


HOOKS = ("realize", "instance_init")  # the device hooks a registration's init context names


def hooked_types(extraction: Extraction) -> dict[str, tuple[str, ...]]:
    """A device hook function's name -> the concrete types that run it."""
    children: dict[str, list[str]] = {}
    for qom in extraction.types.values():
        if qom.parent:
            children.setdefault(qom.parent, []).append(qom.name)
    installers: dict[str, set[str]] = {}
    for qom in extraction.types.values():
        if qom.instance_init:
            installers.setdefault(qom.instance_init, set()).add(qom.name)
        fn = extraction.functions.get(f"{qom.file}:{qom.class_init}") if qom.class_init else None
        for member, target, _ in fn.hooks if fn else ():
            if member in HOOKS:
                installers.setdefault(target, set()).add(qom.name)
    found = {}
    for hook, owners in installers.items():
        running = set()
        pending = list(owners)
        while pending:
            name = pending.pop()
            if name in running:
                continue
            running.add(name)
            pending.extend(children.get(name, ()))
        found[hook] = tuple(sorted(t for t in running if not extraction.types[t].abstract))
    return found


def _registering(extraction: Extraction, functions: FunctionTexts) -> dict[str, set[tuple[str, int]]]:
    """"file:function" of each function holding a registration -> its texts' (path, start)."""
    found: dict[str, set[tuple[str, int]]] = {}
    for reg in extraction.registrations:
        key = f"{reg.file}:{reg.enclosing}"
        found[key] = {(fn.path, fn.start) for fn in functions.by_name.get(reg.enclosing, ()) if fn.path == reg.file}
    return found
