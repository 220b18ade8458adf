"""One VMSD against its counterpart: versions, .unmigratable, fields, subsections."""
from __future__ import annotations

from ..catalogue import qemu_prints
from ..placement.wire import UNKNOWN_TEST, WireVmsd
from . import fields
from .engine import Differ
from .fields import pair_gates
from .findings import Finding, new_finding
from .semantics import LOAD_FAILED, Pair, too_new

MAX_NESTING = 64  # VMSDs nested in one another (QEMU's deepest chains are under 10)


def compare_pair(differ: Differ, pair: Pair, parent: Pair | None = None) -> None:
    if differ.unchanged(pair):
        return
    if differ.depth >= MAX_NESTING:
        what = f"VMSD '{pair.new.name}' is nested more than {MAX_NESTING} deep: it was not compared"
        differ.report(pair, _finding(differ, pair, "unresolved", pair.new.name or "", {"what": what}))
        return
    if not differ.first_visit(pair, parent):
        return
    differ.depth += 1
    try:
        _compare_pair(differ, pair)
    finally:
        differ.depth -= 1


def _compare_pair(differ: Differ, pair: Pair) -> None:
    if pair.versioned_on_wire:
        _versions(differ, pair)
    if pair.level == "section" and pair.new.unmigratable and pair.old.unmigratable is False:
        differ.report(pair, _finding(differ, pair, "unmigratable-added", pair.new.name or "",
                                     {}, prints=("blocked", "{section}")))
    fields.compare_fields(differ, pair, compare_pair)
    _subsections(differ, pair)


def _finding(differ: Differ, pair: Pair, rule: str, path: str, args: dict, prints: tuple | None = None,
             old_line: int | None = None, new_line: int | None = None) -> Finding:
    vmsd = pair.new.name or pair.old.name or ""
    return new_finding(rule, vmsd=vmsd, path=path, args=args,
                       old=differ.where(pair.old, old_line), new=differ.where(pair.new, new_line),
                       runtime_error=qemu_prints(rule, *prints) if prints else None, gates=pair_gates(pair))


def _versions(differ: Differ, pair: Pair) -> None:
    old, new = pair.old, pair.new
    if old.version_id is None or new.version_id is None:
        return  # unresolved: the extractor's diagnostic says so
    name = new.name or ""
    args = {"old_version": str(old.version_id), "new_version": str(new.version_id)}
    if new.version_id > old.version_id:
        differ.report(pair, _finding(differ, pair, "version-bumped", name, args,
                                     prints=too_new(pair, new.version_id, old.version_id)))
    elif new.version_id < old.version_id:
        differ.report(pair, _finding(differ, pair, "version-decreased", name, args,
                                     prints=too_new(pair, old.version_id, new.version_id)))
    minimum = new.minimum_version_id
    if minimum is not None and minimum > old.version_id:
        args = {"new_minimum": str(minimum), "old_version": str(old.version_id)}
        differ.report(pair, _finding(differ, pair, "minimum-version-raised", name, args,
                                     prints=("too-old", name, old.version_id, minimum)))


def _subsections(differ: Differ, pair: Pair) -> None:
    old_subs = _by_name(differ.old.vmsds, pair.old.subsections)
    new_subs = _by_name(differ.new.vmsds, pair.new.subsections)
    removed = [name for name in old_subs if name not in new_subs]
    added = [name for name in new_subs if name not in old_subs]
    for old_name, new_name in _renamed(old_subs, new_subs, removed, added):
        removed.remove(old_name)
        added.remove(new_name)
        old_sub, new_sub = old_subs[old_name], new_subs[new_name]
        differ.report(pair, _sub_finding(differ, pair, old_sub, new_sub, "subsection-renamed",
                                         {"old_subsection": old_name}, LOAD_FAILED))
    for name in removed:
        sub = old_subs[name]
        when = "always (it has no .needed)" if sub.needed is None else f"whenever {_needed_words(sub.needed)} is true"
        differ.report(pair, _sub_finding(differ, pair, sub, None, "subsection-removed", {"when": when}, LOAD_FAILED))
    for name in added:
        sub = new_subs[name]
        if sub.needed is None:
            differ.report(pair, _sub_finding(differ, pair, None, sub, "subsection-added-unconditional", {},
                                             LOAD_FAILED))
        else:
            needed = sub.needed if sub.needed != UNKNOWN_TEST else "its .needed"
            differ.report(pair, _sub_finding(differ, pair, None, sub, "subsection-added", {"needed": needed},
                                             LOAD_FAILED))
    for name in old_subs:
        if name in new_subs:
            _compare_subsection(differ, pair, old_subs[name], new_subs[name])


def _compare_subsection(differ: Differ, pair: Pair, old_sub: WireVmsd, new_sub: WireVmsd) -> None:
    known = UNKNOWN_TEST not in (old_sub.needed, new_sub.needed)
    if known and old_sub.needed != new_sub.needed:
        args = {"old_needed": _needed_words(old_sub.needed), "new_needed": _needed_words(new_sub.needed)}
        differ.report(pair, _sub_finding(differ, pair, old_sub, new_sub, "subsection-needed-changed", args))
    compare_pair(differ, Pair(old_sub, new_sub, "subsection"), pair)


def _sub_finding(differ: Differ, pair: Pair, old_sub: WireVmsd | None, new_sub: WireVmsd | None,
                 rule: str, args: dict, prints: tuple | None = None) -> Finding:
    sub = new_sub or old_sub
    args = {"subsection": sub.name or "", **args}
    # the subsection is sent only when its .needed (and the one of a subsection around it) says so
    gates = tuple((side, s.file, s.needed) for side, s in (("old", old_sub), ("new", new_sub))
                  if s is not None and s.file and s.needed and s.needed != UNKNOWN_TEST) + pair_gates(pair)
    return new_finding(rule, vmsd=pair.new.name or pair.old.name or "",
                       path=sub.name or "", args=args, old=differ.where(old_sub) if old_sub else None,
                       new=differ.where(new_sub) if new_sub else None,
                       runtime_error=qemu_prints(rule, *prints) if prints else None, gates=gates)


def _by_name(vmsds: dict[str, WireVmsd], keys: tuple[str, ...]) -> dict[str, WireVmsd]:
    table = {}
    for key in keys:
        sub = vmsds.get(key)
        if sub is not None and sub.name and sub.name not in table:
            table[sub.name] = sub
    return table


def _renamed(old_subs, new_subs, removed, added) -> list[tuple[str, str]]:
    """Pairs (old name, new name): the same C symbol, or else the very same fields."""
    pairs = []
    free = list(added)
    for old_name in removed:
        old_sub = old_subs[old_name]
        for new_name in free:
            new_sub = new_subs[new_name]
            same_symbol = old_sub.symbol is not None and old_sub.symbol == new_sub.symbol
            same_fields = [_shape(f) for f in old_sub.fields] == [_shape(f) for f in new_sub.fields]
            if same_symbol or (same_fields and old_sub.fields):
                pairs.append((old_name, new_name))
                free.remove(new_name)
                break
    return pairs


def _shape(field) -> tuple:
    return (field.name, field.size, field.count, field.kind)


def _needed_words(needed: str | None) -> str:
    if needed == UNKNOWN_TEST:
        return "its .needed()"
    return "none (always sent)" if needed is None else f"{needed}()"
