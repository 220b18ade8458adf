"""A field's wire layout: what must stay equal for the bytes to line up, and its words."""
from __future__ import annotations

from ..placement.wire import WireField, WireSchema, WireVmsd


def layout_key(field: WireField, schema: WireSchema, coarse: bool, counts: bool = True) -> tuple | None:
    """Equal keys: the same bytes on the wire.  None: unknown (an unresolved size).

    A struct's C size is not on the wire (its nested VMSD is), so it is left out.
    `coarse` drops what a -dump-vmstate file cannot tell (variable-length arrays), and
    `counts` False drops array lengths (dumps from before QEMU 8.0 do not write them).
    """
    count = field.count
    if (coarse and count == "variable") or not counts:
        count = None
    if field.kind in ("struct", "vstruct"):
        nested = schema.vmsds.get(field.nested) if field.nested else None
        if nested is not None and nested.hand_written:
            return ("struct", count, hand_written_shape(nested, schema, coarse, counts))
        return ("struct", count, nested.name if nested else field.nested)
    if field.size is None:
        return None
    return ("bytes", field.size, count)


def hand_written_shape(vmsd: WireVmsd, schema: WireSchema, coarse: bool, counts: bool) -> tuple:
    """What a function's bytes look like on the wire, without its name (a helper's or a
    loop's, which the wire does not carry): its fields' layouts, in order.  The same
    bytes moved into a helper (`put_scsi_requests()`'s loop became `put_scsi_req()`) have
    the same shape.  (extract/saves.py makes no cycle: a recursion writes nothing.)"""
    return tuple(layout_key(field, schema, coarse, counts) for field in vmsd.fields)


def wire_bytes(field: WireField) -> int | None:
    """Fixed number of bytes a plain field puts on the wire; None when variable or unknown."""
    if field.kind not in ("data", "unused") or field.size is None:
        return None
    if field.count is None:
        return field.size
    if isinstance(field.count, int):
        return field.size * field.count
    return None


def same_bytes(a: WireField, b: WireField) -> bool:
    """An UNUSED placeholder matches any plain field of the same total size."""
    size_a, size_b = wire_bytes(a), wire_bytes(b)
    return size_a is not None and size_a == size_b


def describe(field: WireField, schema: WireSchema) -> str:
    """Words for a layout: "uint32, 4 bytes", "uint8[16], 16 bytes", "struct 'fifo8'"."""
    if field.kind in ("struct", "vstruct"):
        nested = schema.vmsds.get(field.nested) if field.nested else None
        text = f"struct '{nested.name if nested else field.nested}'"
        return text + _count_suffix(field.count)
    if field.kind == "unused":
        return f"{field.size} unused bytes" if field.size is not None else "unused bytes"
    if field.kind == "check":
        return "validation check, no bytes"
    type_name = _type_name(field)
    if field.size is None:
        return f"{type_name}, size unresolved"
    total = wire_bytes(field)
    if field.count is None:
        return f"{type_name}, {field.size} byte{'s' if field.size != 1 else ''}"
    if total is None:
        return f"{type_name}{_count_suffix(field.count)}, {field.size} bytes each"
    return f"{type_name}{_count_suffix(field.count)}, {total} bytes"


def _count_suffix(count: int | str | None) -> str:
    return "" if count is None else f"[{count}]"


def _type_name(field: WireField) -> str:
    info = field.info or ""
    if info.startswith("vmstate_info_"):
        return info[len("vmstate_info_"):]
    return info or "field"


def test_words(test: str) -> str:
    """A field's test as a reader knows it: `foo_needed()` for a function, the expression
    itself for a condition of code that writes by hand, "a test" when a dump hides it."""
    if test == "?":
        return "a test"
    return f"{test}()" if test.isidentifier() else test


def condition_words(field: WireField) -> str:
    parts = []
    if field.test is not None:
        parts.append("a test" if field.test == "?" else f"test {test_words(field.test)}")
    if field.version_id:
        parts.append(f"version >= {field.version_id}")
    return " and ".join(parts) if parts else "always"
