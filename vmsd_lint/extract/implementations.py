"""One device, two implementations: a Rust type "NAME (rust)" and the C type NAME are the
two builds of one device (HAVE_RUST picks one, as hw/char/Kconfig's
`select PL011_C if !HAVE_RUST` says).  Their VMSDs are compared byte for byte."""
from __future__ import annotations

from ..model import IMPLEMENTATIONS_DIFFER, VARIABLE_COUNT, Diagnostic
from .rust import ARRAY, MAX_DEPTH, MUST_EXIST, RUST_SUFFIX, STRUCT

NO_GATE = (False, 0)


def check_implementations(resolved, result) -> None:
    """A Rust type and the C type of the same name are the two builds of one device
    (HAVE_RUST picks one): when their VMSDs put different bytes on the wire, a build
    with Rust cannot migrate that device to or from one without it.  That is said as a
    diagnostic, not a finding: each implementation is compared with its own past."""
    seen: set[tuple] = set()
    for name in sorted(result.types):
        c_name = name[:-len(RUST_SUFFIX)]
        if not name.endswith(RUST_SUFFIX) or c_name not in result.types:
            continue
        rust_type, c_type = result.types[name], result.types[c_name]
        if rust_type.abstract or c_type.abstract or not resolved.may_be_a(c_name, "device"):
            continue
        c_vmsd, rust_vmsd = resolved.type_vmsd(c_name), resolved.type_vmsd(name)
        pair = (c_vmsd.key if c_vmsd else None, rust_vmsd.key if rust_vmsd else None)
        if pair in seen or pair == (None, None):
            continue
        seen.add(pair)
        difference = _difference(resolved, c_vmsd, rust_vmsd)
        if difference is None:
            continue
        where = rust_vmsd or rust_type
        result.diagnostics.append(Diagnostic(IMPLEMENTATIONS_DIFFER, where.file, where.line, (
            f"type {c_name}: the Rust implementation ({_placed(rust_vmsd, rust_type)}) and the C one "
            f"({_placed(c_vmsd, c_type)}) differ on the wire: {difference}; a build with Rust cannot migrate "
            f"{c_name} to or from one without")))


def _placed(vmsd, qom) -> str:
    if vmsd is None:
        return f"no VMSD, type at {qom.file}:{qom.line}"
    return f"VMSD {vmsd.symbol} at {vmsd.file}:{vmsd.line}"


def _difference(resolved, c_vmsd, rust_vmsd) -> str | None:
    """What differs on the wire, in words; None when nothing does or it cannot be told."""
    if c_vmsd is None or rust_vmsd is None:
        sender = c_vmsd or rust_vmsd
        return f"only the {'C' if c_vmsd else 'Rust'} one sends section '{sender.name}'"
    if c_vmsd.name != rust_vmsd.name:
        return f"sections '{c_vmsd.name}' and '{rust_vmsd.name}'"
    c_versions = (c_vmsd.version_id, c_vmsd.minimum_version_id)
    rust_versions = (rust_vmsd.version_id, rust_vmsd.minimum_version_id)
    if c_versions != rust_versions:
        return "version/minimum version {}/{} and {}/{}".format(*c_versions, *rust_versions)
    c_shape, rust_shape = wire_shape(resolved, c_vmsd), wire_shape(resolved, rust_vmsd)
    if c_shape is None or rust_shape is None or c_shape == rust_shape:
        return None
    at = next((i for i, (a, b) in enumerate(zip(c_shape, rust_shape)) if a != b), min(len(c_shape), len(rust_shape)))
    after = f"after {_describe(c_shape[:at])}, " if at else ""
    return (f"{after}C sends {_describe(c_shape[at:at + 1]) or 'nothing more'} and Rust "
            f"{_describe(rust_shape[at:at + 1]) or 'nothing more'}")


MAX_SHAPE = 100_000  # runs in one VMSD's shape: more (VMSDs nesting each other many times) is not compared


def wire_shape(resolved, vmsd) -> tuple | None:
    """The bytes a VMSD puts on the wire, as a tuple of runs: plain fields that are always
    sent merged into byte counts whatever their names, types or grouping (a single
    nested struct is sent inline), then the subsections.  None when a field is
    unresolved (or the VMSDs nest each other in a cycle, or too much)."""
    return _Shaper(resolved).shape(vmsd, 0)


class _Shaper:
    def __init__(self, resolved):
        self.resolved = resolved
        self.done: dict[str, tuple | None] = {}
        self.size = 0

    def shape(self, vmsd, depth: int) -> tuple | None:
        if vmsd.key in self.done:
            return self.done[vmsd.key]
        if depth > MAX_DEPTH:
            return None
        self.done[vmsd.key] = None  # a VMSD reached again inside itself: a cycle, not compared
        found = self._shape(vmsd, depth)
        self.done[vmsd.key] = found
        return found

    def _shape(self, vmsd, depth: int) -> tuple | None:
        atoms: list[tuple] = []
        for f in vmsd.fields or ():
            if f.unresolved or f.name is None:
                return None
            flags, gate = set(f.flags), (f.field_exists is not None, f.version_id or 0)
            nested = self.resolved.field_vmsd(vmsd, f)
            count = "variable" if flags & VARIABLE_COUNT else (f.num if ARRAY in flags else None)
            if MUST_EXIST in flags and not f.info and nested is None:
                atoms.append(("check", gate))
            elif nested is not None or flags & {STRUCT, "VMS_VSTRUCT"}:
                inner = self.shape(nested, depth + 1) if nested is not None else None
                if inner is None:
                    return None
                if count is None and gate == NO_GATE:
                    atoms.extend(inner)  # one nested struct: its bytes sit inline, with no header
                else:
                    atoms.append(("struct", gate, count, inner))
            elif f.size is None:
                return None
            elif count == "variable" or f.info in ("vmstate_info_qtailq", "vmstate_info_gtree"):
                atoms.append(("variable", gate, f.size))
            else:
                kind = "equal" if f.info and f.info.endswith("_equal") else "bytes"
                atoms.append((kind, gate, f.size * (count if count is not None else 1)))
            self.size += 1
            if self.size > MAX_SHAPE or len(atoms) > MAX_SHAPE:
                return None
        for sub in self.resolved.subsections(vmsd):
            inner = self.shape(sub, depth + 1)
            if inner is None:
                return None
            atoms.append(("subsection", sub.name, sub.version_id, sub.minimum_version_id, "needed" in sub.hooks,
                          inner))
        return tuple(_merged(atoms))


def _merged(atoms: list[tuple]):
    run = 0
    for atom in atoms:
        if atom[0] == "bytes" and atom[1] == NO_GATE:
            run += atom[2]
            continue
        if run:
            yield ("bytes", NO_GATE, run)
            run = 0
        yield atom
    if run:
        yield ("bytes", NO_GATE, run)


def _describe(shape: tuple) -> str:
    words = []
    for atom in shape:
        kind = atom[0]
        if kind == "subsection":
            words.append(f"subsection '{atom[1]}' v{atom[2]}{' (.needed)' if atom[4] else ''}: "
                         f"{_describe(atom[5]) or 'nothing'}")
            continue
        gate = atom[1]
        condition = " if its test passes" if gate[0] else f" from version {gate[1]}" if gate[1] else ""
        if kind == "bytes":
            words.append(f"{atom[2]} bytes{condition}")
        elif kind == "equal":
            words.append(f"{atom[2]} bytes checked equal{condition}")
        elif kind == "variable":
            words.append(f"a variable array of {atom[2]}-byte elements{condition}")
        elif kind == "check":
            words.append(f"a validation check{condition}")
        else:
            words.append(f"struct[{atom[2]}] of ({_describe(atom[3])}){condition}")
    text = ", ".join(words)
    return text if len(text) <= 300 else text[:297] + "..."
