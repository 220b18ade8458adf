"""What a QOM type's class is given by the class_init functions of its ancestry: the
members assigned on a declared class pointer (`cc->sysemu_ops = &arm_sysemu_ops;`,
`vdc->vmsd = &vmstate_virtio_net_device;`, `k->has_variable_vring_alignment = true;`)
and the tables of operations they point to (`SysemuCPUOps`, `VMStateInfo`...).

QOM runs a parent's class_init before its child's, so the nearest assignment wins; in
one function the last one does.  A class_init's helpers (the functions it calls, in its
file or non-static elsewhere) are followed as `qom.vmsd_assignment` follows them.
"""
from __future__ import annotations

import re

from ..model import Extraction, FunctionInfo, OpsTable, QomType
from ..resolve import Resolved
from .calls import FunctionIndex

MAX_HELPER_DEPTH = 4  # class_init -> helper -> helper ...: QEMU's chains are one or two deep


class ClassModel:
    def __init__(self, extraction: Extraction, resolved: Resolved | None = None):
        self.x = extraction
        self.resolved = resolved or Resolved(extraction)
        self.functions = FunctionIndex(extraction)
        self._own: dict[str, dict[tuple[str | None, str], tuple[str, str, int]]] = {}
        self._tables: dict[str, list[OpsTable]] = {}
        for table in extraction.tables.values():
            self._tables.setdefault(table.symbol, []).append(table)

    # -- members ------------------------------------------------------------------
    def member(self, type_name: str, member: str, struct: str | None = None) -> tuple[str, str, int] | None:
        """(value, file, line) of the nearest assignment of MEMBER (on a class pointer of
        STRUCT, or of any struct when None) in TYPE_NAME's class_init or an ancestor's."""
        seen = set()
        name = type_name
        while name and name not in seen:
            seen.add(name)
            qom = self.x.types.get(name)
            if qom is None:
                return None
            own = self.own_members(qom)
            found = own.get((struct, member)) if struct else own.get((None, member))
            if found is not None:
                return found
            name = qom.parent
        return None

    def own_members(self, qom: QomType) -> dict[tuple[str | None, str], tuple[str, str, int]]:
        """(struct, member) and (None, member) -> (value, file, line) of what the type's
        own class_init (and its helpers) assigns."""
        own = self._own.get(qom.name)
        if own is not None:
            return own
        own = {}
        start = self.functions.find(qom.class_init, qom.file) if qom.class_init else None
        for fn in self._class_init_functions(start):
            for struct, member, value, line in fn.class_members:
                own[(struct, member)] = own[(None, member)] = (value, fn.file, line)
        self._own[qom.name] = own
        return own

    def _class_init_functions(self, start: FunctionInfo | None) -> list[FunctionInfo]:
        """START and the helpers it calls, callees before the caller's own later lines
        (approximately the order their assignments run)."""
        order: list[FunctionInfo] = []
        seen: set[str] = set()

        def visit(fn: FunctionInfo, depth: int) -> None:
            if fn.key in seen:
                return
            seen.add(fn.key)
            if depth < MAX_HELPER_DEPTH:
                for callee in fn.calls:
                    helper = self.functions.find(callee, fn.file)
                    if helper is not None and helper.class_members:
                        visit(helper, depth + 1)
            order.append(fn)

        if start is not None:
            visit(start, 0)
        return order

    # -- values -------------------------------------------------------------------
    def table(self, symbol: str, from_file: str) -> OpsTable | None:
        """The table a symbol names from a file: its own (static) first, else a global one."""
        candidates = self._tables.get(symbol, [])
        own = [t for t in candidates if t.file == from_file]
        if own:
            return own[0]
        shared = sorted((t for t in candidates if not t.static), key=lambda t: t.file)
        return shared[0] if shared else None

    def vmsd_through(self, type_name: str, chain: list[str]) -> tuple[str, str, int] | None:
        """The VMSD key a member chain such as `cpu->cc->sysemu_ops->legacy_vmsd` names for
        a type, with the file and line that set it: the last member assigned by the class
        itself (`->vmsd`), or a member of a table the class points to."""
        direct = self.member(type_name, chain[-1])
        if direct is not None:
            return self._vmsd_value(*direct)
        if len(chain) < 2:
            return None
        pointer = self.member(type_name, chain[-2])
        if pointer is None or not pointer[0].startswith("&"):
            return None
        table = self.table(pointer[0][1:], pointer[1])
        if table is None:
            return None
        value = table.member(chain[-1])
        line = next((ln for m, _, ln in table.members if m == chain[-1]), table.line)
        return self._vmsd_value(value, table.file, line) if value else None

    def _vmsd_value(self, value: str, file: str, line: int) -> tuple[str, str, int] | None:
        if not value.startswith("&"):
            return None
        vmsd = self.resolved.ref(value[1:], file)
        return (vmsd.key, file, line) if vmsd is not None else None


def member_chain(text: str) -> list[str] | None:
    """`cpu->cc->sysemu_ops->legacy_vmsd` -> ['cpu', 'cc', 'sysemu_ops', 'legacy_vmsd'];
    None for anything but a plain chain of members."""
    parts = [p.strip() for p in re.split(r"->|\.", text.strip())]
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        return None
    return parts
