"""Fields of one VMSD against its counterpart's, aligned by name then by position and layout.

Names are not on the wire, so the alignment is only a way to pair fields up; what is
reported follows from the bytes each side sends and expects (see semantics.py).
"""
from __future__ import annotations

from collections.abc import Callable
from difflib import SequenceMatcher

from ..catalogue import qemu_prints
from ..model import Severity
from ..placement.wire import UNKNOWN_TEST, WireField
from .causes import cause_of
from .engine import Differ
from .findings import BACKWARD, FORWARD, new_finding
from .layout import condition_words, describe, hand_written_shape, layout_key, same_bytes, test_words, wire_bytes
from .semantics import BOTH, FOOTER_MISSING, LOAD_FAILED, Pair, breaks_if_differ, loads, sends, too_new, verdict

Recurse = Callable[[Differ, Pair, Pair], None]


class FieldDiff:
    def __init__(self, differ: Differ, pair: Pair, recurse: Recurse):
        self.differ, self.pair, self.recurse = differ, pair, recurse
        self.old_fields = [f for f in pair.old.fields if f.on_wire]
        self.new_fields = [f for f in pair.new.fields if f.on_wire]
        self.old_paths = _paths(pair.old.name, self.old_fields)
        self.new_paths = _paths(pair.new.name, self.new_fields)

    # -- alignment ---------------------------------------------------------------------
    def run(self) -> None:
        if any(not f.name for f in self.old_fields + self.new_fields):
            return  # a field macro did not expand: its bytes are unknown (reported as unresolved)
        ops = self.relayouts_dropped(self.align())
        removed: list[int] = []
        added: list[int] = []
        block_old: list[int] = []
        block_new: list[int] = []
        for op, i, j in ops + [("end", None, None)]:
            if op == "del":
                block_old.append(i)
            elif op == "ins":
                block_new.append(j)
            else:
                self.unmatched_block(block_old, block_new, removed, added)
                block_old, block_new = [], []
                if op == "match":
                    self.matched(i, j)
        self.moved(removed, added)
        for i in removed:
            self.removed(i)
        for j in added:
            self.added(j)
        if not self.differ.coarse:  # a dump leaves VMS_MUST_EXIST checks out
            _compare_checks(self.differ, self.pair)

    def align(self) -> list[tuple[str, int | None, int | None]]:
        """("match", i, j), ("del", i, None), ("ins", None, j) in wire order, paired by name."""
        matcher = SequenceMatcher(None, [f.name for f in self.old_fields], [f.name for f in self.new_fields],
                                  autojunk=False)
        ops: list[tuple[str, int | None, int | None]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                ops.extend(("match", i, j) for i, j in zip(range(i1, i2), range(j1, j2)))
            else:
                ops.extend(("del", i, None) for i in range(i1, i2))
                ops.extend(("ins", None, j) for j in range(j1, j2))
        return ops

    def relayouts_dropped(self, ops: list) -> list:
        """Leave out runs of plain fields that were split or merged into the same bytes
        (QEMU did that to GlobalState.runstate[100] in 9.0): the wire did not change."""
        kept: list = []
        k = 0
        while k < len(ops):
            end = self.relayout_end(ops, k) if not self.clean_match(ops[k]) else None
            if end is None:
                kept.append(ops[k])
                k += 1
                continue
            olds = [i for _, i, _ in ops[k:end] if i is not None]
            news = [j for _, _, j in ops[k:end] if j is not None]
            old_names = [self.old_fields[i].name for i in olds]
            new_names = [self.new_fields[j].name for j in news]
            # one for one is a rename, and names in another order a reorder: judged by the caller
            common = set(old_names) & set(new_names)
            reordered = _order(old_names, common) != _order(new_names, common)
            if len(olds) == len(news) == 1 or reordered:
                kept.append(ops[k])
                k += 1
                continue
            k = end
            if all(self.new_fields[j].kind == "unused" for j in news):
                continue  # replaced by VMSTATE_UNUSED placeholders of the same size
            self.emit("field-relayout", news[0], olds[0],
                      {"old_fields": ", ".join(old_names), "new_fields": ", ".join(new_names)})
        return kept

    def clean_match(self, op: tuple) -> bool:
        kind, i, j = op
        return kind == "match" and self.same_layout(self.old_fields[i], self.new_fields[j])

    def relayout_end(self, ops: list, start: int, window: int = 16) -> int | None:
        """End of the shortest run from start whose old and new fields carry the same
        fixed bytes, all plain and always sent; None when there is none."""
        old_bytes = new_bytes = 0
        for k in range(start, min(len(ops), start + window)):
            if k > start and self.clean_match(ops[k]):
                return None  # a field that kept its name and bytes ends any split or merge
            _, i, j = ops[k]
            for field, total in ((self.old_fields[i] if i is not None else None, "old"),
                                 (self.new_fields[j] if j is not None else None, "new")):
                if field is None:
                    continue
                size = self.plain_bytes(field)
                if size is None:
                    return None
                if total == "old":
                    old_bytes += size
                else:
                    new_bytes += size
            if old_bytes == new_bytes and k > start:
                return k + 1
        return None

    def plain_bytes(self, field: WireField) -> int | None:
        if field.test is not None or field.kind not in ("data", "unused"):
            return None
        if loads(field, self.pair.load_version(FORWARD)) is False:
            return None
        return wire_bytes(field)

    def unmatched_block(self, olds: list[int], news: list[int], removed: list[int], added: list[int]) -> None:
        """Fields that changed names at the same place: pair those with the same bytes."""
        while olds and news:
            old, new = self.old_fields[olds[0]], self.new_fields[news[0]]
            if old.kind in ("struct", "vstruct") and new.kind == old.kind and old.count == new.count \
                    and self._hand_written(old, new) and self._alike(old, new):
                # code that writes by hand, at the same place and mostly the same bytes: its
                # names are code, not wire (a loop moved into a helper), so what differs is
                # judged inside
                self.matched(olds.pop(0), news.pop(0))
                continue
            if not self.same_layout(old, new):
                break
            self.renamed(olds.pop(0), news.pop(0))
        removed.extend(olds)
        added.extend(news)

    def same_layout(self, old: WireField, new: WireField) -> bool:
        # without array lengths (a pre-8.0 dump) a placeholder's match cannot be judged; one
        # of a run-time length matches what has the same element and count (the key below)
        if (old.kind == "unused" or new.kind == "unused") and (same_bytes(old, new) or not self.differ.counts):
            return True
        key = layout_key(old, self.differ.old, self.differ.coarse, self.differ.counts)
        return key is not None and key == layout_key(new, self.differ.new, self.differ.coarse, self.differ.counts)

    def moved(self, removed: list[int], added: list[int]) -> None:
        """A name deleted in one place and inserted in another: the field was reordered."""
        new_by_name = {self.new_fields[j].name: j for j in added}
        for i in list(removed):
            j = new_by_name.get(self.old_fields[i].name)
            if j is None or self.old_fields[i].kind == "unused":
                continue
            removed.remove(i)
            added.remove(j)
            del new_by_name[self.new_fields[j].name]
            old = self.old_fields[i]
            self.emit("field-reordered", j, i,
                      {"field": old.name, "old_index": str(i + 1), "new_index": str(j + 1)})

    # -- classification ----------------------------------------------------------------
    def matched(self, i: int, j: int) -> None:
        old, new = self.old_fields[i], self.new_fields[j]
        if not self.layout_matches(i, j):
            return
        self.conditions(i, j)
        self.equal_checks(i, j)
        if old.kind in ("struct", "vstruct") and old.nested and new.nested:
            self.nested(old, new)

    def layout_matches(self, i: int, j: int) -> bool:
        """False (and reported) when the bytes differ."""
        old, new = self.old_fields[i], self.new_fields[j]
        if self.same_layout(old, new):
            return True
        old_key = layout_key(old, self.differ.old, self.differ.coarse, self.differ.counts)
        new_key = layout_key(new, self.differ.new, self.differ.coarse, self.differ.counts)
        if old_key is None or new_key is None:
            return False  # unresolved on one side: the diagnostic says so
        if old_key[0] == new_key[0] == "struct" and old_key[1] == new_key[1] and self._hand_written(old, new):
            return True  # two functions' bytes: what differs inside is reported inside (nested)
        old_nested, new_nested = self._nested_name(old, self.differ.old), self._nested_name(new, self.differ.new)
        if old_key[0] == new_key[0] == "struct" and old_key[1] == new_key[1] and old_nested != new_nested:
            self.emit("nested-vmsd-changed", j, i,
                      {"field": new.name, "old_nested": old_nested or "?", "new_nested": new_nested or "?"})
        else:
            self.emit("field-size-changed", j, i,
                      {"field": new.name, "old_layout": describe(old, self.differ.old),
                       "new_layout": describe(new, self.differ.new)}, FOOTER_MISSING)
        return False

    def renamed(self, i: int, j: int) -> None:
        old, new = self.old_fields[i], self.new_fields[j]
        if new.kind == "unused":
            return  # a same-size VMSTATE_UNUSED placeholder: compatible by design
        self.emit("field-renamed", j, i,
                  {"old_field": old.name, "field": new.name, "new_layout": describe(new, self.differ.new)})
        self.conditions(i, j)

    def conditions(self, i: int, j: int) -> None:
        old, new = self.old_fields[i], self.new_fields[j]
        if old.test == new.test and old.version_id == new.version_id:
            return
        if old.test is not None and new.test is not None and "?" in (old.test, new.test):
            return  # a dump only knows there is a test
        breaks = {
            FORWARD: breaks_if_differ(sends(old, self.pair.save_version(FORWARD)),
                                      loads(new, self.pair.load_version(FORWARD))),
            BACKWARD: breaks_if_differ(sends(new, self.pair.save_version(BACKWARD)),
                                       loads(old, self.pair.load_version(BACKWARD))),
        }
        result = verdict(breaks)
        if result is None:
            return  # the gate moved but every stream still reads the same bytes
        directions, severity = result
        self.emit("field-condition-changed", j, i,
                  {"field": new.name, "old_condition": condition_words(old),
                   "new_condition": condition_words(new)}, FOOTER_MISSING, severity=severity, directions=directions,
                  spared_when_sent=(old.test is None) != (new.test is None))

    def equal_checks(self, i: int, j: int) -> None:
        old, new = self.old_fields[i], self.new_fields[j]
        if old.info is None or new.info is None or not new.is_equal_check:
            return
        if old.is_equal_check and old.info == new.info:
            return
        directions = BOTH if old.is_equal_check else (FORWARD,)
        self.emit("equal-check-added", j, i,
                  {"field": new.name, "new_check": f"{new.info[len('vmstate_info_'):]} (value must equal the "
                                                   f"destination's)",
                   "old_check": old.info[len("vmstate_info_"):] if old.is_equal_check else "nothing"},
                  prints=("field-failed", self.pair.new.name, new.name), directions=directions)

    def nested(self, old: WireField, new: WireField) -> None:
        old_vmsd = self.differ.old.vmsds.get(old.nested)
        new_vmsd = self.differ.new.vmsds.get(new.nested)
        if old_vmsd is None or new_vmsd is None:
            return
        if old_vmsd.name != new_vmsd.name and not (old_vmsd.hand_written and new_vmsd.hand_written):
            return
        level = "vstruct" if new.kind == "vstruct" else "struct"
        self.recurse(self.differ, Pair(old_vmsd, new_vmsd, level, old.struct_version_id, new.struct_version_id),
                     self.pair)

    def removed(self, i: int) -> None:
        old = self.old_fields[i]
        breaks = {FORWARD: sends(old, self.pair.save_version(FORWARD)),
                  BACKWARD: loads(old, self.pair.load_version(BACKWARD))}
        result = verdict(breaks)
        if result is None:
            return
        directions, severity = result
        condition = condition_words(old)
        self.emit("field-removed", None, i,
                  {"field": old.name, "old_layout": describe(old, self.differ.old),
                   "after": _after(self.old_fields, i),
                   "condition": f" (OLD sent it under {condition})" if condition != "always" else ""},
                  FOOTER_MISSING, severity=severity, directions=directions)

    def added(self, j: int) -> None:
        new = self.new_fields[j]
        args = {"field": new.name, "new_layout": describe(new, self.differ.new), "after": _after(self.new_fields, j)}
        forward = loads(new, self.pair.load_version(FORWARD))
        if new.test is not None:
            self.emit("field-added-conditional", j, None,
                      {**args, "test": test_words(new.test)}, FOOTER_MISSING)
        elif forward is False:
            self.emit("field-added-versioned", j, None,
                      {**args, "field_version": str(new.version_id)}, prints=self._rejected_version())
        else:
            self.emit("field-added", j, None, args, FOOTER_MISSING)

    # -- output ------------------------------------------------------------------------
    def emit(self, rule: str, j: int | None, i: int | None, args: dict, prints: tuple | None = LOAD_FAILED, *,
             severity: Severity | None = None, directions: tuple[str, ...] | None = None,
             spared_when_sent: bool = False) -> None:
        """A finding of RULE on new field J / old field I; the severity and directions are
        the rule file's unless the detector chose one of the others it allows."""
        pair, differ = self.pair, self.differ
        path = self.new_paths[j] if j is not None else self.old_paths[i]
        old_loc = differ.where(pair.old, self.old_fields[i].line) if i is not None else None
        new_loc = differ.where(pair.new, self.new_fields[j].line) if j is not None else None
        gates = field_gates("old", pair.old.file, self.old_fields[i] if i is not None else None) \
            + field_gates("new", pair.new.file, self.new_fields[j] if j is not None else None)
        if not spared_when_sent:  # (a subsection's .needed spares where it is off: the other sense)
            gates += pair_gates(pair)
        cause = cause_of(self.old_fields[i] if i is not None else None,
                         self.new_fields[j] if j is not None else None)
        finding = new_finding(rule, severity=severity, directions=directions,
                              vmsd=pair.new.name or pair.old.name or "", path=path, args=args,
                              old=old_loc, new=new_loc, gates=gates, spared_when_sent=spared_when_sent,
                              cause=cause)
        if prints and finding.directions:  # (info breaks nothing: QEMU prints nothing)
            finding = finding.with_(runtime_error=qemu_prints(rule, *prints))
        differ.report(pair, finding)

    def _rejected_version(self) -> tuple | None:
        """OLD rejects the stream of the bumped version before it reads a field."""
        old, new = self.pair.old.version_id, self.pair.new.version_id
        if self.pair.versioned_on_wire and old is not None and new is not None and new > old:
            return too_new(self.pair, new, old)
        return None  # (a VSTRUCT's version: not modelled as a printed error)

    def _alike(self, old: WireField, new: WireField) -> bool:
        """Two functions' bytes of which at least half are the same fields, in order (not
        two different helpers that happen to sit at the same place)."""
        shapes = [hand_written_shape(schema.vmsds[field.nested], schema, self.differ.coarse, self.differ.counts)
                  for field, schema in ((old, self.differ.old), (new, self.differ.new)) if field.nested]
        return len(shapes) == 2 and SequenceMatcher(None, *shapes, autojunk=False).ratio() >= 0.5

    def _hand_written(self, old: WireField, new: WireField) -> bool:
        old_vmsd = self.differ.old.vmsds.get(old.nested) if old.nested else None
        new_vmsd = self.differ.new.vmsds.get(new.nested) if new.nested else None
        return old_vmsd is not None and new_vmsd is not None and old_vmsd.hand_written and new_vmsd.hand_written

    @staticmethod
    def _nested_name(field: WireField, schema) -> str | None:
        nested = schema.vmsds.get(field.nested) if field.nested else None
        return nested.name if nested else field.nested


def field_gates(side: str, file: str | None, field: WireField | None) -> tuple[tuple[str, str, str], ...]:
    """The test function of FIELD on SIDE, as a finding's gate."""
    if field is None or file is None or not field.test or field.test == UNKNOWN_TEST:
        return ()
    return ((side, file, field.test),)


def pair_gates(pair: Pair) -> tuple[tuple[str, str, str], ...]:
    """The .needed functions of a subsection pair (or a section's: savevm.c skips a section
    whose VMSD's .needed says no): state inside it is sent only when they return true."""
    if not pair.versioned_on_wire:
        return ()
    return tuple((side, vmsd.file, vmsd.needed) for side, vmsd in (("old", pair.old), ("new", pair.new))
                 if vmsd.file and vmsd.needed and vmsd.needed != UNKNOWN_TEST)


def compare_fields(differ: Differ, pair: Pair, recurse: Recurse) -> None:
    FieldDiff(differ, pair, recurse).run()


def _compare_checks(differ: Differ, pair: Pair) -> None:
    """VMSTATE_VALIDATE entries: nothing on the wire, but the destination runs them on load."""
    old_checks = {f.name: f for f in pair.old.fields if not f.on_wire}
    for field in pair.new.fields:
        if field.on_wire:
            continue
        before = old_checks.get(field.name)
        if before is not None and before.test == field.test:
            continue
        directions = (FORWARD,) if before is None else BOTH
        old_check = f"{before.test}()" if before is not None else "nothing"
        args = {"field": field.name, "new_check": f"{field.test}()", "old_check": old_check}
        differ.report(pair, new_finding(
            "equal-check-added", directions=directions, vmsd=pair.new.name or "",
            path=f"{pair.new.name}/{field.name}", args=args,
            old=differ.where(pair.old, before.line) if before else None, new=differ.where(pair.new, field.line),
            runtime_error=qemu_prints("equal-check-added", "validation-failed", pair.new.name, field.name),
            gates=pair_gates(pair)))


def _paths(vmsd_name: str | None, fields: list[WireField]) -> list[str]:
    """vmsd/field, with #N on the second and later fields of one name (VMSTATE_UNUSED)."""
    seen: dict[str, int] = {}
    paths = []
    for field in fields:
        seen[field.name] = seen.get(field.name, 0) + 1
        suffix = f"#{seen[field.name]}" if seen[field.name] > 1 else ""
        paths.append(f"{vmsd_name}/{field.name}{suffix}")
    return paths


def _order(names: list[str], common: set[str]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n in common))


def _after(fields: list[WireField], index: int) -> str:
    return f" after '{fields[index - 1].name}'" if index > 0 else " at the start"
