"""The comparison of two wire schemas: walks every section to the end and collects findings.

A nested VMSD (say `vmstate_pci_device`) is compared once per (old, new) pair; the
sections that reach the pair are gathered afterwards, so a change in it is reported
once, listing every top-level section it reaches.
"""
from __future__ import annotations

from ..model import Location, section_key
from ..placement.wire import WireSchema, WireVmsd
from .findings import Finding
from .instances import fill_instance, section_instance
from .semantics import Pair

PairKey = tuple[str, str, str]
MAX_SAME_DEPTH = 64  # nesting walked to tell an unchanged VMSD (QEMU's deepest chains are under 10)


class Differ:
    def __init__(self, old: WireSchema, new: WireSchema):
        self.old, self.new = old, new
        self.coarse = not (old.precise and new.precise)  # a -dump-vmstate side knows less
        self.counts = old.counts_known and new.counts_known
        self.children: dict[PairKey, set[PairKey]] = {}
        self.roots: dict[PairKey, set[tuple[str, str | None, str | None]]] = {}  # pair -> {(section, target, type)}
        self.drafts: list[tuple[PairKey | None, Finding]] = []
        self.visited: set[PairKey] = set()
        self.depth = 0  # VMSDs being compared inside one another (compare_pair)
        self._same: dict[str, bool] = {}  # VMSD key -> the same VMSD, and all it nests, on both sides

    def unchanged(self, pair: Pair) -> bool:
        """The two sides are the very same VMSD, with all it nests: nothing to find there
        (most pairs of a one-file change), and nothing reached through it either."""
        return (pair.old.key == pair.new.key and pair.old_struct_version == pair.new_struct_version
                and self._same_subtree(pair.old.key))

    def _same_subtree(self, key: str, depth: int = 0) -> bool:
        found = self._same.get(key)
        if found is not None:
            return found
        if depth >= MAX_SAME_DEPTH:
            return False  # compared in full, where compare_pair bounds the depth
        self._same[key] = False  # a cycle back here counts as a change: compared in full
        old, new = self.old.vmsds.get(key), self.new.vmsds.get(key)
        same = old is not None and old == new and all(
            self._same_subtree(nested, depth + 1)
            for nested in [f.nested for f in old.fields if f.nested] + list(old.subsections))
        self._same[key] = same
        return same

    # -- collecting ------------------------------------------------------------------
    def report(self, pair: Pair | None, finding: Finding) -> None:
        self.drafts.append((pair.key if pair else None, finding))

    def root(self, pair: Pair, section: str, target: str | None, qom_type: str | None) -> None:
        self.roots.setdefault(pair.key, set()).add((section, target, qom_type))

    def first_visit(self, pair: Pair, parent: Pair | None) -> bool:
        """Record the edge from parent; True the first time the pair is seen."""
        if parent is not None:
            self.children.setdefault(parent.key, set()).add(pair.key)
        if pair.key in self.visited:
            return False
        self.visited.add(pair.key)
        return True

    # -- finishing -------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        reach = self._reach()
        merged: dict[tuple, Finding] = {}
        for pair_key, finding in self.drafts:
            if pair_key is not None:
                owners = reach.get(pair_key, ())
                sections = {s for s, _, _ in owners}
                types = {t for _, _, t in owners if t}
                targets = {target for _, target, _ in owners}
                finding = finding.with_(sections=tuple(sorted(sections | set(finding.sections))),
                                        types=tuple(sorted(types | set(finding.types))),
                                        target=finding.target or (targets.pop() if len(targets) == 1 else None))
            if finding.runtime_error and "{" in finding.runtime_error:
                finding = finding.with_(runtime_error=self._runtime_error(finding))
            key = finding.identity
            if key in merged:
                kept = merged[key]
                finding = kept.with_(sections=tuple(sorted(set(kept.sections) | set(finding.sections))),
                                     types=tuple(sorted(set(kept.types) | set(finding.types))))
            merged[key] = finding
        return sorted(merged.values(), key=Finding.sort_key)

    def _runtime_error(self, finding: Finding) -> str:
        """What QEMU prints, with the section (the idstr) and its instance id filled in."""
        text = str(finding.runtime_error)
        section = finding.vmsd if finding.vmsd in finding.sections or not finding.sections else finding.sections[0]
        text = text.replace("{section}", section)
        ids = section_instance((self.new, self.old), section, finding.target)
        known = self.new.sections.get(section_key(section, finding.target)) \
            or self.old.sections.get(section_key(section, finding.target))
        return fill_instance(text, ids, qdev_only=known is not None and bool(known.types)
                             and not known.registrations)

    def _reach(self) -> dict[PairKey, set[tuple[str, str | None, str | None]]]:
        """Every pair's reaching (section, type)s, pushed down from the section roots."""
        reach: dict[PairKey, set[tuple[str, str | None, str | None]]] = {}
        for root, owners in self.roots.items():
            stack = [root]
            seen = set()
            while stack:
                key = stack.pop()
                if key in seen:
                    continue
                seen.add(key)
                reach.setdefault(key, set()).update(owners)
                stack.extend(self.children.get(key, ()))
        return reach

    # -- helpers for the rules -------------------------------------------------------
    @staticmethod
    def where(vmsd: WireVmsd, line: int | None = None) -> Location | None:
        if vmsd.file is None:
            return None
        return Location(vmsd.file, line if line is not None else (vmsd.line or 0))
