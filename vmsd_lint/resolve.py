"""Queries over an extraction: a type's effective VMSD (inherited), nested and
subsection VMSDs by key, QOM ancestry.  Shared by every report and rule."""
from __future__ import annotations

from functools import cached_property

from .model import Extraction, Field, Vmsd


class Resolved:
    def __init__(self, extraction: Extraction):
        self.x = extraction

    @cached_property
    def _by_symbol(self) -> dict[str, list[Vmsd]]:
        table: dict[str, list[Vmsd]] = {}
        for vmsd in self.x.vmsds.values():
            table.setdefault(vmsd.symbol, []).append(vmsd)
        return table

    def ref(self, symbol: str, from_file: str) -> Vmsd | None:
        """The VMSD a symbol names from a file: the file's own (static) first, then a global one.
        A key (`file:symbol`) names itself: a VMSD a function saves by hand (extract.saves),
        a Rust VMSD of another module (extract.rust)."""
        if ":" in symbol:
            return self.x.vmsds.get(symbol)
        local = self.x.vmsds.get(f"{from_file}:{symbol}")
        if local is not None:
            return local
        candidates = [v for v in self._by_symbol.get(symbol, []) if not v.static] or \
                     [v for v in self._by_symbol.get(symbol, []) if v.file.endswith(".h")]
        if not candidates:
            return None
        target_dir = self.x.target_dir
        if len(candidates) > 1 and target_dir:
            preferred = [v for v in candidates if v.file.startswith(target_dir)] or \
                        [v for v in candidates if not v.file.startswith("target/")]
            candidates = preferred or candidates
        return sorted(candidates, key=lambda v: (_is_stub(v.file), v.file))[0]

    def field_vmsd(self, owner: Vmsd, field: Field) -> Vmsd | None:
        return self.ref(field.vmsd, owner.file) if field.vmsd else None

    def subsections(self, vmsd: Vmsd) -> list[Vmsd]:
        subs = []
        for symbol in vmsd.subsections or ():
            sub = self.ref(symbol, vmsd.file)
            if sub is not None:
                subs.append(sub)
        return subs

    def type_vmsd(self, name: str) -> Vmsd | None:
        """A type's VMSD: its own class_init's, else its nearest ancestor's."""
        seen = set()
        while name and name not in seen:
            seen.add(name)
            qom = self.x.types.get(name)
            if qom is None:
                return None
            if qom.vmsd:
                return self.x.vmsds.get(qom.vmsd)
            name = qom.parent
        return None

    def may_be_a(self, name: str, ancestor: str) -> bool:
        """is_a, or the ancestry leaves the tree before reaching a root (a partial tree,
        such as a sample that does not define sys-bus-device)."""
        return self._ancestry_meets(name, ancestor) is not False

    def is_a(self, name: str, ancestor: str) -> bool:
        return self._ancestry_meets(name, ancestor) is True

    def _ancestry_meets(self, name: str, ancestor: str) -> bool | None:
        """True: ancestor is on name's parent chain; False: the chain ends at a root
        without it; None: the chain leaves the tree (a parent it does not define)."""
        seen = set()
        while name and name not in seen:
            if name == ancestor:
                return True
            seen.add(name)
            qom = self.x.types.get(name)
            if qom is None:
                return None
            name = qom.parent
        return False

    def device_vmsds(self):
        """(type name, QomType, its effective VMSD or None) of every concrete device type:
        the dc->vmsd qdev registers as a section when such a device is realized."""
        for name, qom in self.x.types.items():
            if not qom.abstract and self.x.in_build(qom.file) and self.may_be_a(name, "device"):
                yield name, qom, self.type_vmsd(name)

    def sent_vmsds(self):
        """device_vmsds(), with what each type's section really sends where that is not its
        dc->vmsd as declared (hand-written fields expanded, a virtio proxy's device over
        its transport: Extraction.variants)."""
        for name, qom, vmsd in self.device_vmsds():
            variant = self.x.variants.get(name)
            yield name, qom, self.x.vmsds.get(variant, vmsd) if variant else vmsd


    def reached(self) -> set[str]:
        """The keys of every VMSD some section sends: the sections' own, what they nest and
        their subsections, and the declared VMSD of every expanded copy among them."""
        stack = [vmsd.key for _, _, vmsd in self.sent_vmsds() if vmsd is not None and self.x.in_build(vmsd.file)]
        stack += [r.vmsd for r in self.x.registrations if r.vmsd and r.vmsd in self.x.vmsds
                  and self.x.in_build(self.x.vmsds[r.vmsd].file)]
        reached: set[str] = set()
        while stack:
            key = stack.pop()
            if key in reached:
                continue
            reached.add(key)
            vmsd = self.x.vmsds[key]
            stack.extend(n.key for f in vmsd.fields or () if (n := self.field_vmsd(vmsd, f)) is not None)
            stack.extend(sub.key for sub in self.subsections(vmsd))
            if vmsd.copy_of in self.x.vmsds:
                stack.append(vmsd.copy_of)
        return reached

    def unreached(self) -> list[Vmsd]:
        """VMSDs with fields no section sends (of the build: with --target, not another
        target's own), in file order: dead code, or a way onto the wire not modelled."""
        reached = self.reached()
        return sorted((v for v in self.x.vmsds.values() if v.key not in reached and v.fields
                       and self.x.in_build(v.file) and not v.synthetic), key=lambda v: (v.file, v.line, v.symbol))


def _is_stub(path: str) -> bool:
    """Stub files stand in for a feature a build leaves out; the real definition wins."""
    name = path.rsplit("/", 1)[-1]
    return path.startswith("stubs/") or "-stub" in name or "_stub" in name
