"""Bytes written by hand, decoded by search: virtio's `virtio_save()` in a real stream.

`VMSTATE_VIRTIO_DEVICE` hands the stream to `virtio_save()`, which writes the transport's
config, the queues, the device's `vdc->vmsd` and `vmstate_virtio` with no JSON
description: the stream's description gives only the total size.  extract/saves.py models
those bytes as VMSDs of fields; what it leaves to run time (an `if` on the device, a
count of queues, MSI-X vectors, a PCIe config space or a plain one) is tried every way
here, as a set of ways of reading, each with the values it read and the choices it made.
A way that reaches the end the description gives decodes the bytes; when none does, the
one that went furthest says why (an unknown subsection, a version, or bytes that do not
add up).

Choices are bound once per section: one test function gives one answer for the whole
section (`msix_present(dev)`), a value not in the stream (the number of MSI-X vectors) is
one value until the function that used it returns.  No text of the analysed tree is
evaluated but integer arithmetic, with extract/cexpr.py, after the values are put in.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..extract.cexpr import evaluate_int
from ..extract.ctypes import CType, Unresolved
from ..extract.lexer import tokenize
from ..extract.preprocess import ExpansionError
from ..placement.wire import WireField, WireSchema, WireVmsd
from ..sources.stream import SUBSECTION, StreamData

MAX_FREE = 64  # values tried for a value not in the stream (queues, vectors, ports)
FIRST_FREE = 8  # ... by a first search, which finds the usual ways fast (decode_hand_written)
MAX_LOOP = 1024  # a count written by hand before a loop (VIRTIO_QUEUE_MAX)
MAX_WAYS = 4000  # ways of reading kept at once
MAX_READS = 300_000  # fields read over all ways (virtio-net: 61,000, virtio-serial: 235,000): then it gives up
BROAD_READS = 150_000  # ... by the search with larger values, which only tells failing from not judged
KEPT_VALUES = 32  # values a way keeps: the lengths and counts a value gives follow it closely
_NAME = re.compile(r"[A-Za-z_]\w*(?:\s*(?:->|\.)\s*\w+|\[\w+\])*")
_NOT_NAMES = frozenset({"sizeof", "ULL", "UL", "U", "LL", "L"})


@dataclass(frozen=True, slots=True)
class Way:
    """One way of reading so far: where it is, what it read, the answers it gave tests
    and the values it chose for names the stream does not give."""
    pos: int
    values: tuple[tuple[str, int], ...] = ()
    tests: tuple[tuple[str, int], ...] = ()
    chosen: tuple[tuple[str, int], ...] = ()

    def value(self, name: str) -> int | None:
        for key, value in reversed(self.values):
            if key == name:
                return value
        return None

    def read(self, name: str, value: int, pos: int) -> Way:
        return Way(pos, self.values[-KEPT_VALUES:] + ((name, value),), self.tests, self.chosen)

    def at(self, pos: int) -> Way:
        return Way(pos, self.values, self.tests, self.chosen)

    def answer(self, test: str, value: int) -> Way:
        return Way(self.pos, self.values, tuple(sorted(self.tests + ((test, value),))), self.chosen)

    def choose(self, name: str, value: int) -> Way:
        return Way(self.pos, self.values, self.tests, self.chosen + ((name, value),))

    def forget(self) -> Way:
        return Way(self.pos, self.values, self.tests) if self.chosen else self


@dataclass(frozen=True, slots=True)
class Miss:
    """Why one way of reading stopped: a failure QEMU's loader would report there
    (kind as streamload.Stop's: unknown-subsection, too-new, too-old)."""
    kind: str
    offset: int
    path: str
    facts: tuple[tuple[str, object], ...]


class _NoConstants:
    """cexpr's environment for an expression whose names are already values."""

    def constant(self, name: str) -> int | None:
        return None

    def typedef(self, name: str) -> CType | None:
        return None

    def record(self, kind: str, tag: str) -> None:
        return None

    def enum_type(self, tag: str) -> CType:
        raise Unresolved(tag)


@dataclass
class Search:
    """Reads data[start:end] with SCHEMA's VMSDs every way the model allows."""
    schema: WireSchema
    data: StreamData
    end: int
    most: int = MAX_FREE  # the largest value tried for a name the stream does not give
    budget: int = MAX_READS  # fields read over all ways
    misses: list[Miss] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # what the model could not follow
    visited: set[str] = field(default_factory=set)  # VMSD keys some way read
    guessed: set[str] = field(default_factory=set)  # loops whose counts were guessed
    asked: dict[str, int] = field(default_factory=dict)  # test -> how often it may be asked (count_tests)
    furthest: int = 0  # the furthest offset a way reached
    sizes: dict[tuple[str, int, tuple[tuple[str, int], ...]], int | None] = field(default_factory=dict)  # fixed_size()
    reads: int = 0

    def run(self, vmsd: WireVmsd, start: int, version: int, path: str) -> list[Way]:
        self.furthest = start
        self.count_tests(vmsd)
        return self.vmsd(vmsd, [Way(start)], version, path)

    # -- vmstate_load_state, every way ------------------------------------------------------
    def vmsd(self, vmsd: WireVmsd, ways: list[Way], version: int, path: str) -> list[Way]:
        name = vmsd.name or vmsd.key
        if not ways:
            return []
        if vmsd.version_id is not None and version > vmsd.version_id:
            return self.miss("too-new", ways[0].pos, path, vmsd=name, version=version, local=vmsd.version_id)
        if vmsd.minimum_version_id is not None and version < vmsd.minimum_version_id:
            return self.miss("too-old", ways[0].pos, path, vmsd=name, version=version,
                             local=vmsd.minimum_version_id)
        self.visited.add(vmsd.key)
        for one, wire_name in zip(vmsd.fields, wire_names(vmsd), strict=True):
            if one.on_wire:
                ways = _dedupe([out for way in ways for out in self.field(vmsd, one, way, version,
                                                                          f"{path}/{wire_name}")])
                if not ways:
                    return []
        # a VMSD's unknowns are its own: once its bytes are read, ways that end at the same
        # place are one (msix_save()'s vector count does not matter after it)
        ways = _dedupe([w.forget() for w in ways])
        if vmsd.hand_written:  # bytes a function wrote: no subsections after them
            return ways
        return [out for way in ways for out in self.subsections(vmsd, way, path)]

    def field(self, owner: WireVmsd, one: WireField, way: Way, version: int, path: str) -> list[Way]:
        self.reads += 1
        if self.reads > self.budget:
            if self.reads == self.budget + 1:
                self.unknown.append(f"gave up after {self.budget} fields read")
            return []
        outs: list[Way] = []
        for present, tested in self.tested(one, way, version):
            if not present:
                outs.append(tested)
                continue
            for count, counted in self.counts(one, tested, path):
                outs.extend(self.elements(one, counted, count, path))
        return outs

    def tested(self, one: WireField, way: Way, version: int) -> Iterator[tuple[bool, Way]]:
        """Whether the field is on the wire: its test both ways (one answer per section,
        kept where the test is asked again), else its version."""
        if one.test is None:
            yield one.version_id <= version, way
            return
        key, negated = _test_key(one.test)
        bound = dict(way.tests).get(key)
        if bound is None:  # `if (elem_popped)` after `qemu_put_be32s(f, &elem_popped)`: the value decides
            bound = way.value(one.test.lstrip("&"))
            negated = False
        if bound is not None:
            yield bool(bound) != negated, way
            return
        again = self.asked.get(key, 0) > 1
        for answer in (0, 1):
            yield bool(answer) != negated, way.answer(key, answer) if again else way

    def count_tests(self, vmsd: WireVmsd, repeated: bool = False, seen: frozenset[str] = frozenset()) -> None:
        """How often each test may be asked below VMSD (twice for one in a loop): a test
        asked once need not be remembered, which keeps the ways few."""
        if vmsd.key in seen:
            return
        seen |= {vmsd.key}
        for one in vmsd.fields:
            if one.test is not None:
                key = _test_key(one.test)[0]
                self.asked[key] = self.asked.get(key, 0) + (2 if repeated else 1)
            nested = self.schema.vmsds.get(one.nested or "")
            if nested is not None:
                self.count_tests(nested, repeated or one.macro == "loop" or one.count not in (None, 1), seen)
        for key in vmsd.subsections:
            if key in self.schema.vmsds:
                self.count_tests(self.schema.vmsds[key], repeated, seen)

    def counts(self, one: WireField, way: Way, path: str) -> Iterator[tuple[int, Way]]:
        if (one.macro == "loop" or one.count == "variable") and not one.num_field:
            # written by hand: the count written just before it, or none (`for_each_req()`)
            self.guessed.add(path)  # (a guess: `for (i = 0; i < DIV_ROUND_UP(ports, 32); i++)` is not)
            last = way.values[-1][1] if way.values else None
            for count in sorted({0} | ({last} if last is not None and 0 <= last <= MAX_LOOP else set())):
                yield count, way
        elif one.count == "variable" and "VMS_VBUFFER" not in one.flags:
            yield from self.amount(one.num_field, way, path)
        elif isinstance(one.count, int):
            yield one.count, way
        else:
            yield 1, way

    def amount(self, expression: str | None, way: Way, path: str) -> Iterator[tuple[int, Way]]:
        """The values an expression can take: evaluated with the values read, a name the
        stream does not give tried 0..self.most (bound for the rest of its function)."""
        if not expression:
            self.unknown.append(f"{path}: a count the model does not name")
            return
        single = way.value(expression)  # most lengths are a member read before (`vdev->config_len`)
        if single is not None:
            yield single, way
            return
        names = _names(expression)
        known = {n: way.value(n) for n in names}
        known.update({n: v for n, v in way.chosen if n in known and known[n] is None})
        free = sorted(n for n, v in known.items() if v is None)
        if len(free) > 1:
            self.unknown.append(f"{path}: more than one value unknown in {expression}")
            return
        given = tuple(sorted((n, v) for n, v in known.items() if v is not None))
        results = _evaluated(expression, given, free[0] if free else None, self.most)
        if results is None:
            self.unknown.append(f"{path}: cannot evaluate {expression}")
            return
        for value, result in results:
            yield result, (way.choose(free[0], value) if free and value is not None else way)

    def elements(self, one: WireField, way: Way, count: int, path: str) -> list[Way]:
        nested = self.schema.vmsds.get(one.nested or "") if one.kind in ("struct", "vstruct") else None
        if one.kind in ("struct", "vstruct") and (nested is None or (one.info and one.count == "variable")):
            self.unknown.append(f"{path}: {'a list whose elements end it' if nested else 'a nested VMSD'} "
                                f"the model cannot read")
            return []
        if nested is not None:
            version = one.struct_version_id if one.kind == "vstruct" and one.struct_version_id is not None \
                else (nested.version_id or 0)
            return self.structs(nested, version, way, count, path)
        if "VMS_VBUFFER" in one.flags:
            return [self.reached(w.at(w.pos + length * (one.size or 1)))
                    for length, w in self.amount(one.num_field, way, path)
                    if w.pos + length * (one.size or 1) <= self.end]
        if one.size is None:
            self.unknown.append(f"{path}: size unknown to the model")
            return []
        end = way.pos + one.size * count
        if end > self.end:
            return []
        if count == 1 and one.size in (1, 2, 4, 8):  # perhaps a count or a length read later
            name = one.name or path.rsplit("/", 1)[-1]
            return [self.reached(way.read(name, int.from_bytes(self.data[way.pos:end], "big"), end))]
        return [self.reached(way.at(end))]

    def structs(self, nested: WireVmsd, version: int, way: Way, count: int, path: str) -> list[Way]:
        """COUNT elements of NESTED: each read every way, until their size is fixed (the
        tests they ask answered by the first): then the rest is skipped (1024 virtqueues)."""
        ways = [way]
        for i in range(count):
            fixed = [(w, self.fixed_size(nested, version, w.tests)) for w in ways]
            if all(size is not None for _, size in fixed):
                return [self.reached(w.at(w.pos + (size or 0) * (count - i))) for w, size in fixed
                        if w.pos + (size or 0) * (count - i) <= self.end]
            if count - i > self.end - min(w.pos for w in ways):  # each element takes a byte at least
                return []
            ways = _dedupe(self.vmsd(nested, ways, version, f"{path}[{i}]" if count > 1 else path))
            if not ways:
                return []
        return ways

    def fixed_size(self, vmsd: WireVmsd, version: int, tests: tuple[tuple[str, int], ...] = ()) -> int | None:
        """The bytes VMSD takes at VERSION whatever the stream holds, given the answers
        TESTS gave (no other test, no count known at run time, no subsection), or None."""
        key = (vmsd.key, version, tests)
        if key not in self.sizes:
            self.sizes[key] = None  # (a VMSD inside itself: not fixed)
            self.sizes[key] = self._fixed_size(vmsd, version, tests)
        return self.sizes[key]

    def _fixed_size(self, vmsd: WireVmsd, version: int, tests: tuple[tuple[str, int], ...]) -> int | None:
        if vmsd.subsections:
            return None
        answers = dict(tests)
        total = 0
        for one in vmsd.fields:
            if one.test is not None and one.test not in answers:
                return None
            present = answers[one.test] if one.test is not None else one.version_id <= version
            if not one.on_wire or not present:
                continue
            if one.count == "variable" or one.macro == "loop":
                return None
            nested = self.schema.vmsds.get(one.nested or "") if one.kind in ("struct", "vstruct") else None
            if one.kind in ("struct", "vstruct"):
                if nested is None:
                    return None
                inner = one.struct_version_id if one.kind == "vstruct" and one.struct_version_id is not None \
                    else (nested.version_id or 0)
                size = self.fixed_size(nested, inner, tests)
            else:
                size = one.size
            if size is None:
                return None
            total += size * (one.count if isinstance(one.count, int) else 1)
        return total

    def reached(self, way: Way) -> Way:
        self.furthest = max(self.furthest, way.pos)
        return way

    # -- vmstate_subsection_load, every way ---------------------------------------------------
    def subsections(self, vmsd: WireVmsd, way: Way, path: str) -> list[Way]:
        name = vmsd.name or ""
        ways = [way]
        pos = way.pos
        while (idstr := subsection_at(self.data, pos, self.end, name)) is not None:
            length = len(idstr)
            if pos + 6 + length > self.end:  # no room for its version
                return ways
            known = known_subsections(self.schema, vmsd)
            sub_path = f"{path}/{idstr}"
            sub = known.get(idstr)
            if sub is None:
                return self.miss("unknown-subsection", pos, sub_path, vmsd=name, subsection=idstr,
                                 known=tuple(sorted(n for n in known if n)))
            version = int.from_bytes(self.data[pos + 2 + length:pos + 6 + length], "big")
            ways = self.vmsd(sub, [w.at(pos + 6 + length) for w in ways], version, sub_path)
            if not ways:
                return []
            if len({w.pos for w in ways}) != 1:  # several ways through a subsection: follow each
                return [out for w in ways for out in self.subsections(vmsd, w, path)]
            pos = ways[0].pos
        return ways

    def miss(self, kind: str, offset: int, path: str, **facts: object) -> list[Way]:
        self.misses.append(Miss(kind, offset, path, tuple(facts.items())))
        return []

    def first_miss(self) -> Miss | None:
        """The furthest failure a way met: the one the source's real choices lead to."""
        return max(self.misses, key=lambda m: m.offset, default=None)


_PREDICATE = re.compile(r"(!?)\s*(\w+)\s*\(\s*[^,()]*\)")


@functools.lru_cache(maxsize=1024)
def _test_key(test: str) -> tuple[str, bool]:
    """(what a test asks, whether it is negated): a predicate of one argument asks the
    same of the device whatever the argument is spelled in each function
    (`msix_present(dev)` in msix_save(), `msix_present(&proxy->pci_dev)` in its caller)."""
    m = _PREDICATE.fullmatch(test.strip())
    if m is None:
        return test, False
    return f"{m.group(2)}()", bool(m.group(1))


def subsection_at(data: StreamData, pos: int, end: int, parent: str) -> str | None:
    """vmstate_subsection_load()'s peek: the name of a subsection of PARENT that starts at
    POS (the marker, a length, a name that starts with the parent's), or None: none there,
    or another VMSD's (its caller's)."""
    if pos + 1 >= end or data[pos] != SUBSECTION:
        return None
    length = data[pos + 1]
    if length < len(parent) + 1 or pos + 2 + length > end:
        return None
    idstr = bytes(data[pos + 2:pos + 2 + length]).decode("latin-1")
    return idstr if idstr.startswith(parent) else None


def known_subsections(schema: WireSchema, vmsd: WireVmsd) -> dict[str | None, WireVmsd]:
    """VMSD's subsections by name, as vmstate_get_subsection() finds them."""
    return {schema.vmsds[k].name: schema.vmsds[k] for k in vmsd.subsections if k in schema.vmsds}


@functools.lru_cache(maxsize=1024)
def _names(expression: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(0) for m in _NAME.finditer(expression) if m.group(0) not in _NOT_NAMES))


@functools.lru_cache(maxsize=4096)
def _evaluated(expression: str, given: tuple[tuple[str, int], ...], free: str | None,
               most: int) -> tuple[tuple[int | None, int], ...] | None:
    """(value of FREE, the expression's value) for each value FREE is tried with (one
    pair when FREE is None), the names GIVEN put in; None when it cannot be evaluated."""
    out = []
    for value in range(most + 1) if free else (None,):
        text = expression
        for name, number in sorted(given + (((free, value),) if free else ()), key=lambda p: -len(p[0])):
            text = re.sub(rf"(?<![\w>.]){re.escape(name)}(?![\w\[])", str(number), text)
        result = int(text) if text.isdigit() else _arithmetic(text)
        if result is None:
            return None
        out.append((value, result))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _arithmetic(text: str) -> int | None:
    """An integer expression of numbers (the names replaced by values), or None."""
    try:
        return evaluate_int(tokenize(text), _NoConstants())
    except (Unresolved, ExpansionError, ArithmeticError, ValueError, TypeError, IndexError, RecursionError):
        return None


def wire_names(vmsd: WireVmsd) -> list[str]:
    """Each field's name as the description writes it: a name used twice gets its
    occurrence number (`cur_offset[1]`, vmstate.c vmsd_desc_field_start)."""
    names = [f.name for f in vmsd.fields]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        out.append(name if names.count(name) == 1 else f"{name}[{seen.get(name, 0)}]")
        seen[name] = seen.get(name, 0) + 1
    return out


def _dedupe(ways: list[Way]) -> list[Way]:
    seen: set[tuple[int, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]] = set()
    kept = []
    for way in ways:
        key = (way.pos, way.tests, way.chosen)
        if key not in seen:
            seen.add(key)
            kept.append(way)
    return kept[:MAX_WAYS]
