"""C types as the compiler of an LP64 host (x86_64, aarch64: QEMU's build hosts) sees them.

Only the C language's own types are listed here; every QEMU typedef, struct and
enum comes from the tree being read.
"""
from __future__ import annotations

from dataclasses import dataclass, field

POINTER_SIZE = 8

# C's arithmetic types and the standard headers' fixed-width types (not part of QEMU).
PRIMITIVE_SIZES = {
    "char": 1, "signed char": 1, "unsigned char": 1, "_Bool": 1, "bool": 1,
    "short": 2, "unsigned short": 2, "int": 4, "unsigned int": 4, "unsigned": 4, "signed": 4,
    "long": 8, "unsigned long": 8, "long long": 8, "unsigned long long": 8,
    "float": 4, "double": 8, "long double": 16, "__int128": 16, "unsigned __int128": 16,
    "int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
    "int64_t": 8, "uint64_t": 8, "size_t": 8, "ssize_t": 8, "intptr_t": 8, "uintptr_t": 8,
    "ptrdiff_t": 8, "off_t": 8, "time_t": 8, "pid_t": 4, "uid_t": 4, "gid_t": 4, "mode_t": 4,
    "socklen_t": 4, "wchar_t": 4, "__int128_t": 16, "__uint128_t": 16, "void": 1,
    "gboolean": 4, "gint": 4, "guint": 4, "gint8": 1, "guint8": 1, "gint16": 2, "guint16": 2,
    "gint32": 4, "guint32": 4, "gint64": 8, "guint64": 8, "gsize": 8, "gssize": 8, "gchar": 1,
    "guchar": 1, "glong": 8, "gulong": 8, "gpointer": 8, "gconstpointer": 8, "gdouble": 8,
    "gfloat": 4, "gshort": 2, "gushort": 2, "GQuark": 4,
}
_ALIGN_CAP = 16


def type_identity(ctype) -> tuple | None:
    """What of a type an expression can observe (sizes, members by value, pointer target
    names), as plain data: per-file results are reused only when these are unchanged."""
    if ctype is None:
        return None
    if isinstance(ctype, Record):
        return ("record", ctype.kind, ctype.name, ctype._size, ctype._align, ctype.incomplete,
                tuple((name, type_identity(member)) for name, member in ctype.members.items()))
    if isinstance(ctype, Pointer):
        target = ctype.target
        return ("pointer", type(target).__name__, getattr(target, "name", None))
    if isinstance(ctype, Array):
        return ("array", type_identity(ctype.elem), ctype.count)
    return (type(ctype).__name__, getattr(ctype, "name", None), getattr(ctype, "reason", None),
            ctype.size if isinstance(ctype, Prim) else None)


class Unresolved(Exception):
    """An expression or type depends on something the tree does not define."""


class CType:
    size: int
    align: int


@dataclass(frozen=True, slots=True)
class Opaque(CType):
    """A type whose definition is not available: usable behind a pointer, not sized."""
    name: str
    reason: str

    @property
    def size(self) -> int:
        raise Unresolved(self.reason)

    @property
    def align(self) -> int:
        raise Unresolved(self.reason)


@dataclass(frozen=True, slots=True)
class Prim(CType):
    name: str
    size: int

    @property
    def align(self) -> int:
        return min(self.size, _ALIGN_CAP) or 1


@dataclass(frozen=True, slots=True)
class Pointer(CType):
    target: CType

    size = POINTER_SIZE
    align = POINTER_SIZE


@dataclass(frozen=True, slots=True)
class Array(CType):
    elem: CType
    count: int

    @property
    def size(self) -> int:
        return self.elem.size * self.count

    @property
    def align(self) -> int:
        return self.elem.align


@dataclass(frozen=True, slots=True)
class Function(CType):
    size = 1
    align = 1


@dataclass(slots=True, eq=False)
class Record(CType):
    """A struct or union with its members laid out."""
    kind: str
    name: str
    members: dict[str, CType] = field(default_factory=dict)
    _size: int = 0
    _align: int = 1
    incomplete: str | None = None  # why the layout is unknown (a member's type is not defined)

    def __hash__(self) -> int:
        return hash((self.kind, self.name))

    @property
    def size(self) -> int:
        if self.incomplete:
            raise Unresolved(self.incomplete)
        return self._size

    @property
    def align(self) -> int:
        if self.incomplete:
            raise Unresolved(self.incomplete)
        return self._align


def layout(kind: str, name: str, members: list[tuple[str | None, CType, int | None]], packed: bool,
           record: Record | None = None) -> Record:
    """Lay out members (name, type, bit width or None) with natural alignment (SysV ABI).
    Fills ``record`` when given, so a record can be registered before its members
    are known (self-referencing pointers)."""
    record = record if record is not None else Record(kind, name)
    bit_offset = 0  # struct: bits used so far; union: largest member in bits
    align = 1
    for member_name, ctype, bits in members:
        if member_name:
            record.members[member_name] = ctype
        try:
            member_align = 1 if packed else ctype.align
            _ = ctype.size  # evaluated for the Unresolved it raises
        except Unresolved as exc:
            record.incomplete = record.incomplete or f"{kind} {name}: member '{member_name}': {exc}"
            continue
        align = max(align, member_align)
        if not member_name and isinstance(ctype, Record):
            record.members.update(ctype.members)  # anonymous struct/union members are promoted
        if kind == "union":
            bit_offset = max(bit_offset, bits if bits is not None else ctype.size * 8)
            continue
        if bits is not None:
            unit = max(ctype.size * 8, 8)
            if bits == 0 or (not packed and bit_offset // unit != (bit_offset + bits - 1) // unit):
                bit_offset = _round_up(bit_offset, unit)
            bit_offset += bits
            continue
        byte_offset = _round_up(_round_up(bit_offset, 8) // 8, member_align)
        bit_offset = (byte_offset + ctype.size) * 8
    record._align = align
    record._size = _round_up(_round_up(bit_offset, 8) // 8, align)
    return record


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align
