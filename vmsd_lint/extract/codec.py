"""The cache's on-disk format: msgpack, where a record is stored as the values of its
fields tagged by its class name, and only the classes listed in RECORD_CLASSES can be
made when reading.  Unlike a pickle, reading an entry runs no code that the entry names:
a crafted entry can at worst give wrong facts of the listed shapes, never run a program.

A msgpack array is read back as a tuple (most of the model's containers are tuples, and
so they cost no Python call to read).  A record's list fields, as their annotations
declare them, are made lists again; any other list is stored tagged ("l"), as are sets
("s") and frozensets ("f").  A tagged value is a one-entry map whose key is bytes (no
dict of the model has a bytes key) and whose value is [number, values...]; a record met
again is stored as {"r": its number}, so what one entry shares is read once (an
extraction's records and its tables share their objects: reading them twice took twice
the time).
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import itertools
import operator
import typing

import msgpack

# module -> the classes of it that a cache entry may hold (dataclasses and NamedTuples);
# nothing else is ever made from an entry.  A class missing here fails the write (a
# TypeError the tests see), not the read.
RECORD_CLASSES = {
    "vmsd_lint.model": ("Location", "Definitions", "Field", "Vmsd", "QomType", "Step", "FunctionInfo", "OpsTable",
                        "Registration", "Placement", "Diagnostic", "Extraction"),
    "vmsd_lint.extract.scan": ("Define", "Body", "Typedef", "TextFacts"),
    "vmsd_lint.extract.parse": ("Decl", "Call", "Assignment", "MemberSet", "OpsTable", "Function", "ParseFacts"),
    "vmsd_lint.extract.registrars": ("Expr", "Loop", "Func", "Text", "Array", "RegistrarFacts", "Struct",
                                     "Elements", "Pending"),
    "vmsd_lint.extract.perfile": ("ParsedFile", "FileRecord"),
    "vmsd_lint.extract.names": ("NameMap",),
    "vmsd_lint.extract.rustparse": ("Tok", "Item", "Struct", "Impl", "MacroCall", "RustFacts"),
    "vmsd_lint.extract.cexpr": ("Symbol", "Address", "Typed", "Compound"),
    "vmsd_lint.extract.context": ("Candidate",),
    "vmsd_lint.extract.machines": ("CompatProperty", "MachineType", "MachineFacts"),
    "vmsd_lint.extract.properties": ("DeviceProperty", "DeviceProperties"),
    "vmsd_lint.extract.gates": ("FieldRead",),
    "vmsd_lint.extract.holders": ("Holders",),
}

_LIST, _SET, _FROZENSET, _REF = b"l", b"s", b"f", b"r"


class _Codec:
    """The tables of the allowed classes, made once per process (they import the model)."""

    def __init__(self):
        self.encoders: dict[type, tuple[bytes, object]] = {}  # class -> (tag, its field values getter)
        self.decoders: dict[bytes, object] = {_LIST: _collection(list), _SET: _collection(set),
                                              _FROZENSET: _collection(frozenset)}
        for module_name, names in RECORD_CLASSES.items():
            module = importlib.import_module(module_name)
            for name in names:
                cls = getattr(module, name)
                tag = f"{module_name.rsplit('.', 1)[-1]}.{name}".encode()
                rows = _row_fields(cls, module, names)
                self.encoders[cls] = (tag, _values_of(cls, rows))
                self.decoders[tag] = _maker(cls, rows)


def _row_fields(cls, module, allowed) -> dict[int, type]:
    """CLS's fields declared `list[X]` for a NamedTuple X of the allowlist: stored as
    plain arrays ("rows") and made X again by the field's annotation, which spares a
    tag and a hook call per element (a tree's #defines are most of the scans)."""
    rows = {}
    for i, kind in enumerate(_annotations(cls)):
        if kind.startswith("list[") and kind.endswith("]") and kind[5:-1] in allowed:
            element = getattr(module, kind[5:-1])
            # only a NamedTuple whose own fields need nothing done to them when read
            if not dataclasses.is_dataclass(element) and not any(_may_hold_lists(k) for k in _annotations(element)):
                rows[i] = element
    return rows


def _annotations(cls) -> list[str]:
    """The declared types of CLS's fields, as written, in order."""
    if dataclasses.is_dataclass(cls):
        return [str(f.type) for f in dataclasses.fields(cls)]
    return [a.__forward_arg__ if isinstance(a, typing.ForwardRef) else str(a) for a in cls.__annotations__.values()]


def _values_of(cls, rows: dict[int, type]):
    """A function (obj, numbers) giving an object's field values in declaration order: a
    list field as it is (read back by its annotation; ROWS as plain arrays), any other
    with its lists tagged."""
    plain = [kind.startswith(("list[", "dict[str, list[")) or not _may_hold_lists(kind) for kind in _annotations(cls)]
    if dataclasses.is_dataclass(cls):
        getter = operator.attrgetter(*(f.name for f in dataclasses.fields(cls)))
        values = (lambda obj: (getter(obj),)) if len(plain) == 1 else getter
    else:
        values = tuple  # a NamedTuple is its values
    if all(plain) and not rows:
        return lambda obj, numbers: values(obj)

    def field_values(obj, numbers):
        found = list(values(obj))
        for i, value in enumerate(found):
            if i in rows:
                found[i] = _rows(value, rows[i])
            elif not plain[i]:
                found[i] = _tagged(value, numbers)
        return found
    return field_values


def _rows(items: list, element: type) -> list[tuple]:
    if not items:
        return items
    if any(type(item) is not element for item in items):
        raise TypeError(f"not storable in the cache: a list[{element.__name__}] holding something else")
    return list(map(tuple, items))


def _may_hold_lists(kind: str) -> bool:
    """Whether a field of this declared type may hold a list not inside a record."""
    return any(word in kind for word in ("list", "dict", "set", "object")) \
        or kind.split(" | ")[0] == "tuple"  # a bare tuple: anything inside


def _maker(cls, rows: dict[int, type]):
    """A function making an object of CLS from its field values."""
    kinds = _annotations(cls)
    lists = [i for i, kind in enumerate(kinds) if kind.startswith("list[") and i not in rows]
    dict_of_lists = [i for i, kind in enumerate(kinds) if kind.startswith("dict[str, list[")]
    if not lists and not dict_of_lists and not rows:
        return cls

    def made(*values):
        values = list(values)
        for i in lists:
            values[i] = list(values[i]) if values[i] is not None else None
        for i, element in rows.items():
            values[i] = list(map(element._make, values[i])) if values[i] else []
        for i in dict_of_lists:
            values[i] = {key: list(items) for key, items in values[i].items()} if values[i] is not None else None
        return cls(*values)
    return made


def _collection(kind):
    return lambda *items: kind(items)


# values that hold no list: a container of only these is stored as it is
_SCALARS = frozenset({str, int, bool, float, bytes, type(None)})


def _tagged(value, numbers):
    """VALUE with its lists (outside records, which keep theirs by annotation) tagged;
    NUMBERS gives each tagged value its number.  A tuple or dict of scalars is returned
    as it is, checked without a Python call per item (most of a name map's and of the
    resolutions' lookups: rebuilding them took 0.5 s per revision)."""
    kind = type(value)
    if kind is tuple:
        if _SCALARS.issuperset(map(type, value)):
            return value
        return tuple(_tagged(item, numbers) for item in value)
    if kind is list:
        return {_LIST: [next(numbers), *(_tagged(item, numbers) for item in value)]}
    if kind is dict:
        if _SCALARS.issuperset(map(type, value.values())) and _SCALARS.issuperset(map(type, value)):
            return value
        return {_tagged(key, numbers): _tagged(item, numbers) for key, item in value.items()}
    return value


@functools.cache
def _codec() -> _Codec:
    return _Codec()


def encode(value) -> bytes:
    numbers = itertools.count()
    seen: dict[int, int] = {}  # id of a record stored -> its number (all live in VALUE meanwhile)

    def default(obj):
        """What msgpack does not store itself (strict_types: tuples, records, sets)."""
        kind = type(obj)
        if kind is tuple:
            return list(obj)
        found = _codec().encoders.get(kind)  # the tables only once a record is met
        if found is not None:
            number = seen.get(id(obj))
            if number is not None:
                return {_REF: number}
            seen[id(obj)] = number = next(numbers)
            tag, values = found
            return {tag: [number, *values(obj, numbers)]}
        if kind is set or kind is frozenset:
            return {_SET if kind is set else _FROZENSET: [next(numbers), *sorted(obj, key=repr)]}
        raise TypeError(f"not storable in the cache: {kind.__module__}.{kind.__qualname__}")

    return msgpack.packb(_tagged(value, numbers), default=default, strict_types=True, use_bin_type=True)


def decode(data: bytes):
    """The value of DATA; ValueError, KeyError, TypeError or msgpack's own errors when it
    is not one (an unknown tag, a reference to nothing, values that do not fit)."""
    decoders = _codec().decoders
    made: dict[int, object] = {}

    def hook(mapping: dict):
        if len(mapping) == 1:
            for key, value in mapping.items():
                if type(key) is bytes:
                    if key == _REF:
                        return made[value]
                    made[value[0]] = obj = decoders[key](*value[1:])
                    return obj
        return mapping

    return msgpack.unpackb(data, object_hook=hook, use_list=False, strict_map_key=False, raw=False)
