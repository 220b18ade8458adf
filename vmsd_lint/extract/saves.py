"""What QEMU writes to a migration stream by hand, modelled as VMSDs the diff compares.

Not every byte on the wire is declared by a VMStateDescription.  Some are written by C
functions (`qemu_put_be32(f, ...)`, `vmstate_save_state(f, &vmsd, ...)`), reached from:
- a field whose VMStateInfo has a `.put` function and no size of its own
  (`VMSTATE_VIRTIO_DEVICE`: `virtio_vmstate_info.put` runs `virtio_save()`);
- the handlers a `register_savevm_live()` section is given (`SaveVMHandlers`);
- the migration core itself, outside any section (the stream's `configuration`).

Each such function is read from its body, in order (extract.parse records the steps of
every function that calls `qemu_put_*` or `vmstate_save_state*`), and becomes a
synthetic VMSD named `function()`:
- `qemu_put_<type>(f, value)` is a field of the type's size, named by the value;
  `qemu_put_buffer` and the like are a variable number of bytes;
- `vmstate_save_state(f, &vmsd, ...)` nests that VMSD at that point (loaded with the
  version the matching `vmstate_load_state()` call gives, when it gives a constant);
- a call to another function that writes by hand nests that function's VMSD;
- a call through a class member (`k->save_config(...)` with `VirtioBusClass *k`) nests
  what the class of the device (or of the bus it sits on) installs there; through any
  other member (`bus->info->save_request(...)`), each function installed under that
  member anywhere, as alternatives (a field each, present only with that function);
- steps in a loop become one field repeated a number of times known only at run time;
  steps under an `if` are fields with that condition as their test, except conditions on
  a class member, which the device's class decides (`if (k->has_variable_vring_alignment)`).

A device's VMSD that holds such a field is copied for each device type (and, where the
bus class decides, each bus) with the field expanded; `Extraction.variants` says which
copy each type's section sends.  Virtio devices sit on a bus (`dc->bus_type`): the
transports' buses (virtio-pci-bus, virtio-ccw-bus, virtio-mmio-bus) save their own config
(`VirtioBusClass.save_config`), so one section has a layout per transport.  A proxy type
(virtio-net-pci) creates its device (`virtio_instance_init_common(..., TYPE_VIRTIO_NET)`)
and the bus (`qbus_init(..., TYPE_VIRTIO_PCI_BUS, ...)` from its realize): its section is
the device's over that bus.  A bus no proxy creates (virtio-mmio's) takes the devices a
user plugs in: the device type's own section is the one over that bus.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..model import HAND_WRITTEN, Diagnostic, Extraction, Field, FunctionInfo, Registration, Step, Vmsd
from ..resolve import Resolved
from .calls import CallIndex, fn_node, walk_callers
from .cexpr import Unresolved
from .classes import ClassModel
from .lexer import tokenize
from .preprocess import ExpansionError

# Bytes each qemu_put_* writes (migration/qemu-file.h, include/migration/qemu-file-types.h).
PUT_SIZES = {
    "qemu_put_byte": 1, "qemu_put_8s": 1, "qemu_put_sbyte": 1, "qemu_put_s8s": 1,
    "qemu_put_be16": 2, "qemu_put_be16s": 2, "qemu_put_sbe16": 2, "qemu_put_sbe16s": 2,
    "qemu_put_be32": 4, "qemu_put_be32s": 4, "qemu_put_sbe32": 4, "qemu_put_sbe32s": 4,
    "qemu_put_be64": 8, "qemu_put_be64s": 8, "qemu_put_sbe64": 8, "qemu_put_sbe64s": 8,
}
# what reading a text with the tree's macros may raise: the text is then left as written
UNEVALUATED = (Unresolved, ExpansionError, RecursionError, IndexError, KeyError)
# ... and those writing a number of bytes known at run time.
VARIABLE_PUTS = frozenset({"qemu_put_buffer", "qemu_put_buffer_async", "qemu_put_counted_string",
                           "qemu_put_virtqueue_element"})
MAX_DEPTH = 8  # nested hand-written functions (virtio: put -> virtio_save -> save_config -> pci_device_save)
MAX_ALTERNATIVES = 8  # functions installed under one member, expanded as alternatives
SAVE_HANDLER_PREFIX = "save_"  # SaveVMHandlers members that write the section (save_setup, ...)
COMPOUND_INFO = re.compile(r"\(VMStateInfo\)\{\.put = (\w+)\}")  # how extract.vmsd names a literal info
_CLASS_CONDITION = re.compile(r"(!?)\s*\(?\s*(\w+)\s*->\s*(\w+)\s*(?:!=\s*NULL\s*)?\)?")


class SaveModel:
    def __init__(self, extraction: Extraction, resolved: Resolved, classes: ClassModel, index):
        self.x, self.resolved, self.classes, self.index = extraction, resolved, classes, index
        self.functions = classes.functions
        self.added: dict[str, Vmsd] = {}
        self.diagnostics: list[Diagnostic] = []
        self.reached: set[str] = set()  # functions expanded
        self._memo: dict[tuple, tuple[str | None, frozenset]] = {}
        self._vmsd_memo: dict[tuple, tuple[str, frozenset, frozenset]] = {}
        self._unbound: set[str] = set()  # class structs a step needed and the context did not give
        self._holds: dict[str, bool] = {}
        self._buses: dict[str, list[str]] = {}
        self._installed = self._installed_functions()
        self.load_versions = self._load_versions()

    # -- facts read once ------------------------------------------------------------
    def _installed_functions(self) -> dict[str, list[tuple[str, str]]]:
        """member -> [(function name, file)] installed under it anywhere: in tables of
        operations and by class_inits."""
        found: dict[str, dict[tuple[str, str], None]] = {}
        for table in self.x.tables.values():
            for member, value, _ in table.members:
                if not value.startswith("&"):
                    found.setdefault(member, {})[(value, table.file)] = None
        for fn in self.x.functions.values():
            for _, member, value, _ in fn.class_members:
                if value.isidentifier() and value not in ("true", "false"):
                    found.setdefault(member, {})[(value, fn.file)] = None
        return {member: list(names) for member, names in found.items()}

    def _load_versions(self) -> dict[str, int | None]:
        """VMSD key -> the version `vmstate_load_state(f, &vmsd, opaque, N)` loads it with."""
        versions: dict[str, int | None] = {}
        for fn in self.x.functions.values():
            for callee, args, _ in fn.evaluated_calls:
                if callee != "vmstate_load_state" or len(args) < 4 or not isinstance(args[1], str):
                    continue
                vmsd = self.resolved.ref(args[1].lstrip("&").strip(), fn.file) if args[1].startswith("&") else None
                if vmsd is not None:
                    version = args[3] if isinstance(args[3], int) else None
                    versions[vmsd.key] = version if versions.get(vmsd.key, version) == version else None
        return versions

    # -- a function's bytes -----------------------------------------------------------
    def function(self, fn: FunctionInfo, bindings: dict[str, str], depth: int = 0,
                 entry: bool = False) -> tuple[str | None, frozenset]:
        """The key of FN's synthetic VMSD under BINDINGS (class struct -> QOM type), None
        when it writes nothing; and the bindings it used (which its key names)."""
        memo_key = (fn.key, tuple(sorted(bindings.items())), entry)
        if memo_key in self._memo:
            return self._memo[memo_key]
        self._memo[memo_key] = (None, frozenset())  # a recursion back here writes nothing more
        self.reached.add(fn.key)
        used: set[tuple[str, str]] = set()
        steps = fn.steps or (self._through_calls(fn) if entry else ())
        fields: list[Field] = []
        loop: list[Field] = []
        loops, current = 0, ()
        for step in steps:
            keep, test = self._conditions(step, fn, bindings, used)
            if not keep:
                continue
            produced = [replace(f, field_exists=" && ".join(t for t in (test, f.field_exists) if t)) if test else f
                        for f in self._step(step, fn, bindings, used, depth)]
            if loop and step.loop != current:  # another loop, or out of it
                loops += 1
                fields.append(self._loop(fn, loop, used, loops, current, fields))
                loop = []
            current = step.loop
            if step.loop:
                loop.extend(produced)
                continue
            fields.extend(produced)
        if loop:
            fields.append(self._loop(fn, loop, used, loops + 1, current, fields))
        result = (self._add(fn, fields, used), frozenset(used)) if fields else (None, frozenset(used))
        self._memo[memo_key] = result
        return result

    def _through_calls(self, fn: FunctionInfo) -> tuple[Step, ...]:
        """An entry function that writes nothing itself (`virtio_device_put()` calls
        `virtio_save()`): its direct calls, as steps."""
        return tuple(Step("call", callee, (), fn.line, (), ()) for callee in fn.calls)

    def _suffix(self, used) -> str:
        return "@" + "+".join(sorted({t for _, t in used})) if used else ""

    def _add(self, fn: FunctionInfo, fields: list[Field], used, part: str = "") -> str:
        symbol = f"{fn.name}(){part}{self._suffix(used)}"
        names = sorted({t for _, t in used})
        what = f"{fn.name}(){part}" + (f" for {', '.join(names)}" if names else "")
        vmsd = Vmsd(symbol=symbol, file=fn.file, line=fn.line, name=f"{fn.name}(){part}", version_id=0,
                    minimum_version_id=0, fields=tuple(fields), subsections=None, hooks={}, static=True,
                    synthetic=f"{HAND_WRITTEN}: {what}")
        self.added[vmsd.key] = vmsd
        return vmsd.key

    def _loop(self, fn: FunctionInfo, fields: list[Field], used, ordinal: int, loop: tuple,
              before: list[Field]) -> Field:
        """Steps repeated in a loop: one field, a struct repeated a run-time number of times.
        Its VMSD is named by the loop's place among the function's loops, not its line:
        a line moved by an edit elsewhere does not make another struct.  Its count, where
        the code says it: the bound of `for (i = 0; i < N; i++)` left by no `break`, or the
        value written just before a loop on the same counter (`qemu_put_be32(f, i)` in
        virtio_save(): the queues that follow, up to the first empty one)."""
        part = f"[loop {ordinal}]"
        key = self._add(fn, fields, used, part)
        _, counter, bound = loop if len(loop) == 3 else (0, "", "")
        count = self._length(bound, fn.file) if bound else \
            counter if counter and before and before[-1].macro in PUT_SIZES and before[-1].name == counter else None
        return Field(name=f"{fields[0].name}[]", line=fields[0].line, macro="loop", size=None,
                     flags=("VMS_STRUCT", "VMS_VARRAY_UINT32"), vmsd=key, field_exists=_common_test(fields),
                     num_field=count)

    def _conditions(self, step: Step, fn: FunctionInfo, bindings, used) -> tuple[bool, str | None]:
        """Whether the step runs for this class (False: never), and its run-time test."""
        tests = []
        classes = dict(fn.class_vars)
        for condition in step.conditions:
            if step.kind == "dispatch" and _tests_member(condition, step):
                continue  # `if (x->save) { x->save(...); }`: the alternative's own test says it
            m = _CLASS_CONDITION.fullmatch(condition)
            struct = classes.get(m.group(2)) if m else None
            if struct is None or struct not in bindings:
                if struct is not None:
                    self._unbound.add(struct)
                tests.append(condition)
                continue
            used.add((struct, bindings[struct]))
            value = self.classes.member(bindings[struct], m.group(3), struct)
            present = value is not None and value[0] not in ("false", "NULL", "0")
            if present == bool(m.group(1)):
                return False, None
        return True, " && ".join(tests) or None

    def _step(self, step: Step, fn: FunctionInfo, bindings, used, depth: int) -> list[Field]:
        if step.kind == "put":
            callee = self.functions.find(step.name, fn.file)
            if callee is not None and callee.steps:  # a helper of the tree's own (qemu_put_bitmap_flags)
                return self._nested(callee, bindings, used, depth, step)
            return [self._put(step, fn)]
        if step.kind == "save":
            return self._saved_vmsd(step, fn, bindings, used)
        if step.kind == "dispatch":
            return self._dispatch(step, fn, bindings, used, depth)
        callee = self.functions.find(step.name, fn.file)
        if callee is not None and callee.steps:
            return self._nested(callee, bindings, used, depth, step)
        return self._callbacks(step, fn, bindings, used, depth)

    def _callbacks(self, step: Step, fn: FunctionInfo, bindings, used, depth: int) -> list[Field]:
        """A function that writes by hand passed to another call (`for_each_req(s,
        put_scsi_req, f)`): called back a number of times known only at run time."""
        fields = []
        for argument in step.args:
            callback = self.functions.find(argument.strip(), fn.file) if argument.strip().isidentifier() else None
            if callback is not None and callback.steps:
                nested = self._nested(callback, bindings, used, depth, step)
                fields.extend(replace(f, name=f"{f.name}[]", flags=f.flags + ("VMS_VARRAY_UINT32",))
                              for f in nested)
        return fields

    def _nested(self, callee: FunctionInfo, bindings, used, depth: int, step: Step,
                test: str | None = None) -> list[Field]:
        if depth >= MAX_DEPTH:
            self.diagnostics.append(Diagnostic("unresolved", callee.file, step.line,
                                               f"{callee.name}(): written by hand more than {MAX_DEPTH} calls "
                                               f"deep: not modelled"))
            return []
        key, inner = self.function(callee, bindings, depth + 1)
        used.update(inner)
        if key is None:
            return []
        # a callee that writes only under one test (its guard clauses: parse._entry_guards)
        # is a struct present under that test, as a `VMSTATE_*_TEST` field would be
        test = " && ".join(t for t in (test, _common_test(self.added[key].fields or ())) if t) or None
        return [Field(name=f"{callee.name}()", line=step.line, macro=step.name, size=None, flags=("VMS_STRUCT",),
                      vmsd=key, field_exists=test)]

    def _put(self, step: Step, fn: FunctionInfo) -> Field:
        value = step.args[1] if len(step.args) > 1 else step.name
        name = " ".join(value.split()).lstrip("&").strip()
        if step.name in VARIABLE_PUTS:
            length = self._length(step.args[2], fn.file) if len(step.args) > 2 else None
            return Field(name=name, line=step.line, macro=step.name, size=1, flags=("VMS_VBUFFER",), info=step.name,
                         num_field=length)
        size = PUT_SIZES.get(step.name)
        if size is None:
            self.diagnostics.append(Diagnostic("unresolved", fn.file, step.line,
                                               f"{fn.name}(): {step.name}() writes a number of bytes this tool "
                                               f"does not know"))
        return Field(name=name, line=step.line, macro=step.name, size=size, flags=("VMS_SINGLE",), info=step.name,
                     unresolved=() if size is not None else ("size",))

    def _length(self, text: str, path: str) -> str:
        """A buffer's length as written, with the tree's macros expanded where it uses
        any (`n * PCI_MSIX_ENTRY_SIZE` -> `n * 16`, `DIV_ROUND_UP(n, 8)`): what a stream's
        reader evaluates with the values it read (app/streamsearch.py)."""
        written = tokenize(text)
        try:
            expanded = self.index.context(path).expand(written)
        except UNEVALUATED:
            return " ".join(text.split())
        if [t.text for t in expanded] == [t.text for t in written]:
            return " ".join(text.split())
        return _rendered(expanded)

    def _saved_vmsd(self, step: Step, fn: FunctionInfo, bindings, used) -> list[Field]:
        """`vmstate_save_state(f, &vmsd, ...)` or `(f, vdc->vmsd, ...)`: that VMSD, nested here."""
        argument = step.args[1].strip() if len(step.args) > 1 else ""
        key = None
        if argument.startswith("&") and argument[1:].strip().isidentifier():
            vmsd = self.resolved.ref(argument[1:].strip(), fn.file)
            key = vmsd.key if vmsd is not None else None
        else:
            m = re.fullmatch(r"(\w+)\s*->\s*(\w+)", argument)
            struct = dict(fn.class_vars).get(m.group(1)) if m else None
            if struct is not None and struct in bindings:
                used.add((struct, bindings[struct]))
                found = self.classes.member(bindings[struct], m.group(2), struct)
                if found is None:
                    return []  # this class installs none (`if (vdc->vmsd)` said so already)
                vmsd = self.resolved.ref(found[0].lstrip("&"), found[1]) if found[0].startswith("&") else None
                key = vmsd.key if vmsd is not None else None
            elif struct is not None:
                self._unbound.add(struct)
                return []
        if key is None:
            if argument and not argument.isidentifier():  # a plain variable: a helper's own parameter
                self.diagnostics.append(Diagnostic("unresolved", fn.file, step.line,
                                                   f"{fn.name}(): saves VMSD '{argument}', which this tool "
                                                   f"cannot resolve: not checked"))
            return []
        vmsd = self.x.vmsds[key]
        version = self.load_versions.get(key)
        flags = ("VMS_VSTRUCT",) if version is not None else ("VMS_STRUCT",)
        expanded, inner = self.vmsd(key, bindings)
        used.update(inner)
        return [Field(name=vmsd.name or vmsd.symbol, line=step.line, macro=step.name, size=None, flags=flags,
                      vmsd=expanded, struct_version_id=version)]

    def _dispatch(self, step: Step, fn: FunctionInfo, bindings, used, depth: int) -> list[Field]:
        """`obj->member(...)`: the class's function when obj is a class the context gives,
        else every function installed under that member, as alternatives."""
        obj = step.args[0] if step.args else ""
        struct = dict(fn.class_vars).get(obj)
        if struct is not None and struct in bindings:
            used.add((struct, bindings[struct]))
            found = self.classes.member(bindings[struct], step.name, struct)
            target = self.functions.find(found[0], found[1]) if found and found[0].isidentifier() else None
            return self._nested(target, bindings, used, depth, step) if target is not None else []
        if struct is not None:
            self._unbound.add(struct)
            return []
        candidates = [f for name, file in self._installed.get(step.name, [])
                      if (f := self.functions.find(name, file)) is not None and f.steps]
        candidates = sorted({f.key: f for f in candidates}.values(), key=lambda f: f.key)
        if len(candidates) > MAX_ALTERNATIVES:
            self.diagnostics.append(Diagnostic("unresolved", fn.file, step.line,
                                               f"{fn.name}(): {obj}->{step.name}() is one of {len(candidates)} "
                                               f"functions that write by hand: not modelled"))
            return []
        fields = []
        for target in candidates:
            fields.extend(self._nested(target, bindings, used, depth, step,
                                       test=f"{_last_member(obj)}->{step.name} == {target.name}"))
        return fields

    # -- VMSDs holding hand-written fields ----------------------------------------------
    def vmsd(self, key: str, bindings: dict[str, str], depth: int = 0) -> tuple[str, frozenset]:
        """KEY, or the key of a copy whose hand-written fields (a VMStateInfo's `.put`) are
        expanded, and of whose nested VMSDs and subsections the same holds; with the
        bindings used."""
        if not self.holds_hand_written(key):
            return key, frozenset()  # most VMSDs: nothing to expand, whatever the device
        memo_key = (key, tuple(sorted(bindings.items())))
        if memo_key in self._vmsd_memo:
            return self._vmsd_memo[memo_key][:2]
        self._vmsd_memo[memo_key] = (key, frozenset(), frozenset())
        original = self.x.vmsds.get(key)
        if original is None or depth > MAX_DEPTH:
            return key, frozenset()
        used: set[tuple[str, str]] = set()
        fields = [self._field(original, f, bindings, used, depth) for f in original.fields or ()]
        subsections = []
        for symbol in original.subsections or ():
            sub = self.resolved.ref(symbol, original.file)
            if sub is None:
                subsections.append(symbol)
                continue
            sub_key, sub_used = self.vmsd(sub.key, bindings, depth + 1)
            used.update(sub_used)
            subsections.append(sub_key if sub_key != sub.key else symbol)
        changed = tuple(fields) != (original.fields or ()) or tuple(subsections) != (original.subsections or ())
        if not changed:
            result = (key, frozenset(used))
        else:
            copy = replace(original, symbol=f"{original.symbol}{self._suffix(used) or '@'}", copy_of=original.key,
                           fields=tuple(fields) if original.fields is not None else None,
                           subsections=tuple(subsections) if original.subsections is not None else None,
                           synthetic=f"{original.symbol} with its hand-written fields"
                                     + (f" for {', '.join(sorted({t for _, t in used}))}" if used else ""))
            self.added[copy.key] = copy
            result = (copy.key, frozenset(used))
        self._vmsd_memo[memo_key] = result + (frozenset(),)
        return result

    def holds_hand_written(self, key: str) -> bool:
        """Whether a VMSD, or one it nests or has as a subsection, has a field a
        VMStateInfo's `.put` writes (so that it has copies to make). Walked with a
        stack, not recursion: a tree may nest VMSDs deeper than Python's stack."""
        found = self._holds.get(key)
        if found is not None:
            return found
        seen, stack = {key}, [key]
        while stack:
            vmsd = self.x.vmsds.get(stack.pop())
            if vmsd is None:
                continue
            if any(self.put_function(vmsd, f) is not None for f in vmsd.fields or ()):
                self._holds[key] = True
                return True
            inner = [nested.key for f in vmsd.fields or ()
                     if (nested := self.resolved.field_vmsd(vmsd, f)) is not None]
            inner += [sub.key for sub in self.resolved.subsections(vmsd)]
            for other in inner:
                if self._holds.get(other):
                    self._holds[key] = True
                    return True
                if other not in seen and other not in self._holds:
                    seen.add(other)
                    stack.append(other)
        # nothing reachable writes by hand, so nothing reachable from those does either
        for other in seen:
            self._holds[other] = False
        return False

    def _field(self, owner: Vmsd, field: Field, bindings, used, depth: int) -> Field:
        if field.vmsd:
            nested = self.resolved.field_vmsd(owner, field)
            if nested is None:
                return field
            nested_key, inner = self.vmsd(nested.key, bindings, depth + 1)
            used.update(inner)
            return field if nested_key == nested.key else replace(field, vmsd=nested_key)
        put = self.put_function(owner, field)
        if put is None:
            return field
        key, inner = self.function(put, bindings, entry=True)
        used.update(inner)
        if key is None:
            return field
        return replace(field, flags=tuple(sorted(set(field.flags) | {"VMS_STRUCT"})), vmsd=key, size=None)

    def put_function(self, owner: Vmsd, field: Field) -> FunctionInfo | None:
        """The `.put` of a field's VMStateInfo, for a single field that has no size of its
        own (the info writes what it wants: VMSTATE_VIRTIO_DEVICE, the SCSI requests)."""
        if not field.info or field.size not in (None, 0) or "size" in field.unresolved \
                or field.flags != ("VMS_SINGLE",):
            return None
        literal = COMPOUND_INFO.fullmatch(field.info)
        if literal:  # `.info = &(const VMStateInfo) { .put = f, ... }`
            return self.functions.find(literal.group(1), owner.file)
        table = self.classes.table(field.info, owner.file)
        put = table.member("put") if table is not None else None
        return self.functions.find(put, table.file) if put else None

    def wanted(self) -> set[str]:
        """The class structs some step asked for and its context did not give."""
        return set(self._unbound)

    def reset_wanted(self) -> None:
        self._unbound.clear()


# -- the tree-wide step ------------------------------------------------------------------

def _rendered(tokens) -> str:
    """Tokens as text, `->`, `.` and brackets without spaces: `vdev->config_len * 16`."""
    out = ""
    for token in tokens:
        glued = token.text in ("->", ".", "[", "]", ")") or out.endswith(("->", ".", "[", "("))
        out += token.text if glued or not out else " " + token.text
    return out


def _last_member(obj: str) -> str:
    """`info` of `req->bus->info`: an alternative's test names the table, not the path a
    function took to it (`bus->info` in one release, `req->bus->info` in the next)."""
    return re.split(r"->|\.", obj)[-1].strip()


def _tests_member(condition: str, step: Step) -> bool:
    """Whether CONDITION only says that the member a dispatch calls through is set."""
    called = f"{step.args[0] if step.args else ''}->{step.name}"
    text = " ".join(condition.split()).removesuffix(" != NULL").strip("() ")
    return text == called


def _common_test(fields) -> str | None:
    """The test every one of FIELDS is written under, if they share one."""
    tests = {f.field_exists for f in fields}
    return tests.pop() if len(tests) == 1 else None


def model_saves(extraction: Extraction, resolved: Resolved, index, calls=None) -> None:
    """Expand what is written by hand into `extraction`: synthetic VMSDs, the VMSD each
    device type's section really sends (`variants`), the sections of
    register_savevm_live() handlers and those the migration core writes outside sections."""
    classes = ClassModel(extraction, resolved)
    model = SaveModel(extraction, resolved, classes, index)
    _device_variants(extraction, resolved, classes, model, index, calls)
    _live_sections(extraction, classes, model)
    _core_saves(extraction, model)
    extraction.vmsds.update(_reachable(extraction, model.added))
    extraction.diagnostics.extend(model.diagnostics)


def _reachable(extraction: Extraction, added: dict[str, Vmsd]) -> dict[str, Vmsd]:
    """The synthetic VMSDs some section sends (a device's first expansion, before its bus
    was known, is not one)."""
    roots = list(extraction.variants.values()) + [r.vmsd for r in extraction.registrations if r.vmsd]
    kept: dict[str, Vmsd] = {}
    stack = [key for key in roots if key in added]
    while stack:
        key = stack.pop()
        if key in kept:
            continue
        vmsd = kept[key] = added[key]
        stack.extend(f.vmsd for f in vmsd.fields or () if f.vmsd in added)
        stack.extend(sub for sub in vmsd.subsections or () if sub in added)
    return kept


def class_bindings(extraction: Extraction, type_name: str) -> dict[str, str]:
    """class struct -> TYPE_NAME for each struct its ancestry declares (`.class_size`)."""
    bindings = {}
    seen = set()
    name = type_name
    while name and name not in seen:
        seen.add(name)
        qom = extraction.types.get(name)
        if qom is None:
            break
        if qom.class_struct:
            bindings.setdefault(qom.class_struct, type_name)
        name = qom.parent
    return bindings


def _device_variants(extraction: Extraction, resolved: Resolved, classes: ClassModel, model: SaveModel,
                     index, calls=None) -> None:
    proxies = _proxies(extraction, resolved)
    creators = None
    for name, _, vmsd in list(resolved.device_vmsds()):
        if vmsd is None:
            continue
        bindings = class_bindings(extraction, name)
        model.reset_wanted()
        key, _ = model.vmsd(vmsd.key, bindings)
        wanted = model.wanted()
        buses = _buses(extraction, resolved, classes, name, index, model._buses) if wanted else []
        buses = [b for b in buses if wanted & set(class_bindings(extraction, b))]
        if not buses:
            if key != vmsd.key:
                extraction.variants[name] = key
            continue
        creators = creators if creators is not None else _bus_creators(extraction, classes, calls)
        by_bus = {bus: model.vmsd(vmsd.key, {**class_bindings(extraction, bus), **bindings})[0] for bus in buses}
        plugged = [bus for bus in buses if not any(resolved.is_a(proxy, creator) for proxy in proxies
                                                   for creator in creators.get(bus, ()))]
        if plugged:
            extraction.variants[name] = by_bus[plugged[0]]
        for proxy, device in proxies.items():
            if device != name or resolved.type_vmsd(proxy) is not None:
                continue  # a proxy with a section of its own (virtio-vga): its device's is the bus's
            bus = next((b for b in buses for creator in creators.get(b, ()) if resolved.is_a(proxy, creator)), None)
            if bus is not None:
                extraction.variants[proxy] = by_bus[bus]


def _proxies(extraction: Extraction, resolved: Resolved) -> dict[str, str]:
    """Concrete type -> the virtio device type its instance_init creates
    (`virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->vdev), TYPE_VIRTIO_NET)`)."""
    creates: dict[str, str] = {}
    for fn in extraction.functions.values():
        for callee, args, _ in fn.evaluated_calls:
            if callee == "virtio_instance_init_common" and len(args) > 3 and isinstance(args[3], str) \
                    and args[3] in extraction.types:
                creates[fn.name] = args[3]
    found = {}
    for name, qom in extraction.types.items():
        if qom.abstract:
            continue
        ancestor, seen = name, set()
        while ancestor and ancestor not in seen:
            seen.add(ancestor)
            info = extraction.types.get(ancestor)
            if info is None:
                break
            if info.instance_init in creates:
                found[name] = creates[info.instance_init]
                break
            ancestor = info.parent
    return found


def _bus_creators(extraction: Extraction, classes: ClassModel, calls=None) -> dict[str, list[str]]:
    """Bus type -> the types whose hooks (realize, instance_init...) create it
    (`qbus_init(bus, size, TYPE_VIRTIO_PCI_BUS, ...)`, directly or through helpers)."""
    creating: dict[str, set[str]] = {}  # function key -> bus types it creates
    for fn in extraction.functions.values():
        for callee, args, _ in fn.evaluated_calls:
            if callee == "qbus_init" and len(args) > 2 and isinstance(args[2], str):
                creating.setdefault(fn.key, set()).add(args[2])
    if not creating:
        return {}
    calls = calls or CallIndex(extraction)
    reaching: dict[str, set[str]] = {}  # function name -> bus types
    for key, buses in creating.items():
        for node in walk_callers(calls.callers_of, [fn_node(key)]):
            fn = extraction.functions.get(node[len("fn:"):])
            if fn is not None:
                reaching.setdefault(fn.name, set()).update(buses)
    result: dict[str, list[str]] = {}
    for name, qom in extraction.types.items():
        hooks = {value for value, _, _ in classes.own_members(qom).values()} | {qom.instance_init}
        for bus in sorted(set().union(*(reaching.get(h, set()) for h in hooks if h))):
            result.setdefault(bus, []).append(name)
    return result


def _buses(extraction: Extraction, resolved: Resolved, classes: ClassModel, type_name: str, index,
           cache: dict[str, list[str]]) -> list[str]:
    """The concrete bus types a device of TYPE_NAME can sit on (`dc->bus_type`)."""
    found = classes.member(type_name, "bus_type")
    if found is None:
        return []
    value = _evaluate(index, found[1], found[0])
    if not isinstance(value, str):
        return []
    if value not in cache:
        cache[value] = sorted(name for name, qom in extraction.types.items()
                              if not qom.abstract and resolved.is_a(name, value))
    return cache[value]


def _evaluate(index, path: str, text: str):
    try:
        ctx = index.context(path)
        return ctx.evaluate(ctx.expand(tokenize(text)))
    except UNEVALUATED:
        return None


def _live_sections(extraction: Extraction, classes: ClassModel, model: SaveModel) -> None:
    """register_savevm_live(idstr, instance, version, &handlers, opaque): a synthetic VMSD
    named idstr, at that version, whose fields are what its save handlers write; its
    minimum version is the version when its load handler accepts no other
    (`if (version_id != 4)` in ram_load)."""
    registrations = []
    for reg in extraction.registrations:
        if reg.function != "register_savevm_live" or len(reg.args) < 4:
            registrations.append(reg)
            continue
        if reg.idstr is None:  # checked under a name that stands for it: `<id>`
            reg = replace(reg, idstr=f"<{' '.join(reg.args[0].split())}>")
            model.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"register_savevm_live() in {reg.enclosing}: its section name '{reg.args[0]}' is known only at "
                f"run time: it is checked as section '{reg.idstr}'"))
        handlers = reg.args[3].strip().lstrip("&").strip()
        table = classes.table(handlers, reg.file) if handlers.isidentifier() else None
        fields = []
        minimum = 0
        for member, value, line in table.members if table is not None else ():
            fn = model.functions.find(value, table.file) if not value.startswith("&") else None
            if fn is None:
                continue
            if member.startswith(SAVE_HANDLER_PREFIX):
                key, _ = model.function(fn, {}, entry=True)
                if key is not None:
                    fields.append(Field(name=f"{member}()", line=line, macro=value, size=None,
                                        flags=("VMS_STRUCT",), vmsd=key))
            elif member == "load_state" and reg.version is not None and \
                    any(op == "!=" and value_text in (str(reg.version), reg.args[2].strip())
                        for op, value_text in fn.version_checks):
                minimum = reg.version
        if reg.version is None:
            model.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"register_savevm_live() in {reg.enclosing}: version '{reg.args[2]}' could not be evaluated"))
            registrations.append(reg)
            continue
        vmsd = Vmsd(symbol=f"{handlers or reg.idstr}#{reg.idstr}", file=reg.file, line=reg.line, name=reg.idstr,
                    version_id=reg.version, minimum_version_id=minimum, fields=tuple(fields), subsections=None,
                    hooks={}, static=True, synthetic=f"register_savevm_live(\"{reg.idstr}\") handlers "
                                                     f"{handlers or '?'}")
        model.added[vmsd.key] = vmsd
        registrations.append(replace(reg, vmsd=vmsd.key))
    extraction.registrations = registrations


CORE_DIRECTORY = "migration/"


def _core_saves(extraction: Extraction, model: SaveModel) -> None:
    """`vmstate_save_state(f, &vmsd, ...)` in the migration core outside any section (the
    stream's configuration, CPR state): a section of its own, keyed by the VMSD's name.
    Elsewhere, one no modelled section reaches is a diagnostic."""
    for fn in sorted(extraction.functions.values(), key=lambda f: f.key):
        if fn.key in model.reached:
            continue
        for step in fn.steps:
            if step.kind != "save" or len(step.args) < 2 or not step.args[1].startswith("&"):
                continue
            vmsd = model.resolved.ref(step.args[1][1:].strip(), fn.file)
            if vmsd is None:
                continue
            if fn.file.startswith(CORE_DIRECTORY):
                extraction.registrations.append(Registration(
                    step.name, fn.file, step.line, fn.name, "none", vmsd.key, None, step.args))
            else:
                model.diagnostics.append(Diagnostic(
                    "unresolved", fn.file, step.line,
                    f"{fn.name}() saves {vmsd.symbol} by hand, but no section this tool models calls it: "
                    f"not checked"))
