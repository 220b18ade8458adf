"""Decode a real section body with the model of the release that saved it, as
vmstate_save_state() wrote it: does the model admit exactly these bytes?

A test tool, not a loader: where the model leaves something to run time (a test
function, the length of a buffer written by hand, how many times a loop ran), every
possibility is tried, and the body must be consumed to its last byte by one of them.
Values read earlier are used by name (`qemu_put_buffer(f, vdev->config,
vdev->config_len)` after `qemu_put_be32(f, vdev->config_len)`); names the stream does
not give are free variables, each given one value (0..MAX_FREE) for the whole section;
constants come from the caller (the release's #defines).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vmsd_lint.model import Extraction, Field, Vmsd
from vmsd_lint.resolve import Resolved

SUBSECTION = 0x05
MAX_FREE = 64  # a free variable's values tried: counts of queues, vectors, ports
MAX_LOOP = 1024  # a count written by hand before a loop (VIRTIO_QUEUE_MAX)
MAX_STATES = 4000
KEPT_VALUES = 32
MAX_STEPS = 3_000_000
SMALL_LOOP = 0  # ways of reading kept at once (the rest of the body prunes them)
VARIABLE = {"VMS_VARRAY_INT32", "VMS_VARRAY_UINT32", "VMS_VARRAY_UINT16", "VMS_VARRAY_UINT8"}
_NAME = re.compile(r"[A-Za-z_]\w*(?:\s*(?:->|\.)\s*\w+|\[\w+\])*")


@dataclass(frozen=True)
class State:
    pos: int
    values: tuple  # ((name, value), ...) read so far
    free: tuple  # ((free variable, value), ...)

    def value(self, name: str):
        for key, value in reversed(self.values):
            if key == name:
                return value
        return None

    def read(self, name: str, value: int) -> State:
        # the lengths and counts a value gives follow it closely: the last few are kept
        return State(self.pos, self.values[-KEPT_VALUES:] + ((name, value),), self.free)


class Decoder:
    def __init__(self, extraction: Extraction, data: bytes, constant):
        self.x, self.data, self.constant = extraction, data, constant
        self.resolved = Resolved(extraction)
        self.unknown: list[str] = []  # what stopped a way of reading, for the failure message
        self._sizes: dict = {}
        self.budget = MAX_STEPS  # fields read in all, over all ways of reading: then it gives up

    def section(self, key: str, start: int, end: int, version: int) -> bool:
        states = self.vmsd(self.x.vmsds[key], [State(start, (), ())], version)
        return any(s.pos == end for s in states)

    def vmsd(self, vmsd: Vmsd, states: list[State], version: int) -> list[State]:
        for field in vmsd.fields or ():
            states = _dedupe([out for state in states for out in self.field(vmsd, field, state, version)])
            if not states:
                return []
        if vmsd.synthetic and vmsd.synthetic.startswith("written by hand"):
            # a function's unknowns are its own: once its bytes are read, ways that end at the
            # same place are one (msix_save()'s vector count does not matter after it)
            return _dedupe([State(s.pos, s.values, tuple(f for f in s.free if f[0].startswith("test:")))
                            for s in states])
        if vmsd.subsections is None:  # no subsection to look for
            return states
        return [out for state in states for out in self.subsections(vmsd, state)]

    def fixed_size(self, vmsd: Vmsd, version: int) -> int | None:
        """The bytes a VMSD always takes (no test, no run-time count, no subsection), or None."""
        key = (vmsd.key, version)
        if key in self._sizes:
            return self._sizes[key]
        self._sizes[key] = None
        total = 0
        if vmsd.subsections:
            return None
        for field in vmsd.fields or ():
            flags = set(field.flags)
            if "VMS_MUST_EXIST" in flags and not field.info and not field.vmsd:
                continue
            if field.field_exists is not None or flags & VARIABLE or "VMS_VBUFFER" in flags or field.macro == "loop":
                return None
            if (field.version_id or 0) > version:
                continue
            count = field.num or 0 if "VMS_ARRAY" in flags else 1
            nested = self.resolved.field_vmsd(vmsd, field)
            if nested is not None:
                size = self.fixed_size(nested, nested.version_id or 0)
            else:
                size = field.size
            if size is None:
                return None
            total += size * count
        self._sizes[key] = total
        return total

    def subsections(self, vmsd: Vmsd, state: State) -> list[State]:
        states = [state]
        subs = {s.name: s for s in self.resolved.subsections(vmsd)}
        while True:
            pos = state.pos
            if pos >= len(self.data) or self.data[pos] != SUBSECTION:
                return states
            length = self.data[pos + 1]
            name = self.data[pos + 2:pos + 2 + length].decode("latin-1")
            version = int.from_bytes(self.data[pos + 2 + length:pos + 6 + length], "big")
            if not name.startswith(vmsd.name or ""):
                return states  # another VMSD's subsection: left to the caller (vmstate_subsection_load)
            sub = subs.get(name)
            if sub is None:
                self.unknown.append(f"subsection {name} unknown to {vmsd.name}")
                return []
            states = self.vmsd(sub, [State(pos + 6 + length, state.values, state.free)], version)
            if len(states) != 1:  # several ways through a subsection: follow each
                return [out for s in states for out in self.subsections(vmsd, s)]
            state = states[0]

    def field(self, owner: Vmsd, field: Field, state: State, version: int) -> list[State]:
        self.budget -= 1
        if self.budget < 0:
            if self.budget == -1:
                self.unknown.append(f"gave up after {MAX_STEPS} fields")
            return []
        flags = set(field.flags)
        if "VMS_MUST_EXIST" in flags and not field.info and not field.vmsd:
            return [state]  # VMSTATE_VALIDATE: nothing on the wire
        if field.field_exists is None and (field.version_id or 0) > version:
            return [state]
        outs = []
        for present, tested in self.tested(field, state):
            if not present:
                outs.append(tested)
                continue
            for count, counted in self.counts(field, flags, tested):
                outs.extend(self.elements(owner, field, flags, counted, count))
        return outs

    def tested(self, field: Field, state: State):
        """Whether the field is there: both, for a test; one test function gives one answer
        for the whole section (`scanout_vmstate_after_v2` asks the device, not the element)."""
        if field.field_exists is None:
            yield True, state
            return
        key = f"test:{field.field_exists}"
        bound = dict(state.free).get(key)
        if bound is not None:
            yield bool(bound), state
            return
        for answer in (0, 1):
            yield bool(answer), State(state.pos, state.values, tuple(sorted(state.free + ((key, answer),))))

    def counts(self, field: Field, flags: set, state: State):
        if field.macro == "loop":  # written by hand: the count is what was written just before, or a
            last = state.values[-1][1] if state.values else None  # list ended by a marker (none, when idle)
            small = set(range(SMALL_LOOP + 1))  # or a few times (a bitmap of ports, ...)
            for count in sorted(small | ({last} if last is not None and 0 <= last <= MAX_LOOP else set())):
                yield count, state
        elif flags & VARIABLE:
            yield from self.amount(field.num_field, state)
        elif "VMS_ARRAY" in flags:
            yield field.num or 0, state
        else:
            yield 1, state

    def amount(self, expression: str | None, state: State):
        """The values an expression can have: evaluated from what was read, with free
        variables tried one value at a time."""
        if not expression:
            for n in range(MAX_FREE + 1):
                yield n, state
            return
        names = [m.group(0) for m in _NAME.finditer(expression)
                 if m.group(0) not in ("DIV_ROUND_UP", "sizeof")]
        free = [n for n in names if state.value(n) is None and self.constant(n) is None and n not in dict(state.free)]
        for values in _product(len(free[:1])):
            assigned = dict(state.free) | dict(zip(free[:1], values))
            if len(free) > 1:
                self.unknown.append(f"more than one unknown in {expression}")
                return
            env = {n: state.value(n) if state.value(n) is not None else
                   self.constant(n) if self.constant(n) is not None else assigned.get(n) for n in names}
            text = expression
            for name in sorted(env, key=len, reverse=True):
                text = text.replace(name, str(env[name]))
            try:
                value = eval(text, {"__builtins__": {}}, {"DIV_ROUND_UP": lambda a, b: -(-a // b)})
            except Exception:
                self.unknown.append(f"cannot evaluate {expression}")
                return
            yield int(value), State(state.pos, state.values, tuple(sorted(assigned.items())))

    def elements(self, owner: Vmsd, field: Field, flags: set, state: State, count: int) -> list[State]:
        nested = self.resolved.field_vmsd(owner, field)
        if nested is not None:
            version = field.struct_version_id if "VMS_VSTRUCT" in flags and field.struct_version_id else \
                nested.version_id or 0
            size = self.fixed_size(nested, version)
            if size is not None:
                end = state.pos + size * count
                return [State(end, state.values, state.free)] if end <= len(self.data) else []
            if count > len(self.data) - state.pos:  # each element takes a byte at least
                return []
            states = [state]
            for _ in range(count):
                states = _dedupe(self.vmsd(nested, states, version))
            return states
        if "VMS_VBUFFER" in flags:
            return [State(s.pos + length * (field.size or 1), s.values, s.free)
                    for length, s in self.amount(field.num_field, state) if s.pos + length <= len(self.data)]
        if field.size is None:
            self.unknown.append(f"{owner.name}/{field.name}: size unknown")
            return []
        end = state.pos + field.size * count
        if end > len(self.data):
            return []
        out = State(end, state.values, state.free)
        if count == 1 and field.size in (1, 2, 4, 8) and field.name:
            out = out.read(field.name, int.from_bytes(self.data[state.pos:end], "big"))
        return [out]


def _product(n: int):
    if n == 0:
        yield ()
        return
    for value in range(MAX_FREE + 1):
        yield (value,)


def _dedupe(states: list[State]) -> list[State]:
    seen, kept = set(), []
    for state in states:
        key = (state.pos, state.free)
        if key not in seen:
            seen.add(key)
            kept.append(state)
    return kept[:MAX_STATES]
