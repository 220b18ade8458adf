"""Load one section body of a real migration stream with a revision's model, the way
vmstate_load_state() (migration/vmstate.c) would: version checks, fields in order with
their version gates, nested VMSDs, arrays, then subsections by name.

The model cannot say everything the C code decides at run time: whether a field's test
function is true, how many elements a VARRAY has, how many bytes a custom VMStateInfo
reads. There the stream's own JSON description (the `vmdesc` QEMU appends) answers: it
lists, for each VMSD the source saved, the fields it wrote with their byte counts and the
subsections its `.needed()` chose. Each description entry is placed at the byte offset the
source wrote it at (`Layout`), and a field of the revision takes the entry's answer only
when an entry of its name starts exactly where the revision reads it.

What the loader records along the way (`Loader.steps`) explains a failure: the first place
where the revision reads something else than what the source wrote there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..placement.wire import WireField, WireSchema, WireVmsd
from ..sources.stream import StreamData
from .streamsearch import BROAD_READS, FIRST_FREE, MAX_FREE, Search, known_subsections, subsection_at, wire_names

Desc = dict[str, Any]  # one VMSD as the stream's JSON description has it
Hooks = dict[str, list[str]]  # VMSD key -> its load hooks
NULLPTR_MARKER = 0x30  # vmstate-types.c: VMS_NULLPTR_MARKER, what a NULL element puts
MAX_READS = 1_000_000  # fields read in one section: a bound on what a damaged stream costs


@dataclass(frozen=True, slots=True)
class Entry:
    """One field the source wrote, from the description: where, how many bytes, its name."""
    name: str
    start: int
    size: int  # every element's bytes
    count: int  # elements (array_len, or the run of "index" entries)
    desc: dict[str, Any]  # the description entry (of the first element)


@dataclass(frozen=True, slots=True)
class Step:
    """A field the revision read: where, how many bytes, and the entry the source wrote there."""
    path: str
    start: int
    size: int
    entry: Entry | None
    owner: str  # the key of the revision's VMSD the field belongs to


class Stop(Exception):
    """The load fails here. `kind` names the failure (see streamcheck.explain)."""

    def __init__(self, kind: str, offset: int, path: str, **facts: Any):
        super().__init__(kind)
        self.kind, self.offset, self.path, self.facts = kind, offset, path, facts


class Unknown(Exception):
    """The model and the description together cannot say how the load goes on."""


def same_name(ours: str, sent: str) -> bool:
    """The description writes a repeated field name with its index (`cur_offset[1]`)."""
    if ours == sent:
        return True
    base, bracket, rest = sent.rpartition("[")
    return bool(bracket) and rest.endswith("]") and rest[:-1].isdigit() and base == ours


def entries(desc: Desc | None, start: int) -> dict[int, Entry]:
    """The description's fields of one VMSD, placed from START, keyed by their offset."""
    placed: dict[int, Entry] = {}
    pos = start
    fields = desc.get("fields") if isinstance(desc, dict) else None
    for item in fields if isinstance(fields, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("size"), int) or item["size"] < 0:
            break  # a description this reader does not understand: stop placing
        length = item.get("array_len")
        count = max(length, 0) if isinstance(length, int) else 1
        placed[pos] = Entry(str(item.get("name")), pos, item["size"], count, item)
        pos += item["size"] * count
    return placed


def _names(entry: Entry, field: WireField, wire_name: str) -> bool:
    """Whether ENTRY is FIELD: the same name, numbered where the revision repeats it; a
    numbered entry is also the revision's one field of that name (a duplicate removed)."""
    return entry.name == wire_name or (wire_name == field.name and same_name(field.name, entry.name))


def _at_fields_end(placed: dict[int, Entry], pos: int) -> bool:
    """Whether POS is where the source's fields end: a tested field read there was not sent."""
    if not placed:
        return True
    last = placed[max(placed)]
    return pos == last.start + last.size * last.count


class Loader:
    """Reads one section body data[start:end] with SCHEMA's VMSDs; HOOKS maps a VMSD key
    to the load hooks (pre_load, post_load) its C code sets."""

    def __init__(self, schema: WireSchema, hooks: Hooks, data: StreamData, end: int):
        self.schema, self.hooks_of, self.data, self.end = schema, hooks, data, end
        self.steps: list[Step] = []
        self.sent: dict[int, Entry] = {}  # every description entry placed, by offset (the innermost)
        self.hooks: list[str] = []  # "vmsd: post_load cpu_post_load", in load order
        self.notes: list[str] = []  # what was read without being decoded
        self.reads = 0  # a bound on the work a damaged description can cause
        self.values: list[dict[str, int]] = []  # per VMSD being read: its scalar fields' values

    # -- bounded reads -----------------------------------------------------------------------
    def need(self, pos: int, n: int, path: str) -> None:
        if pos + n > self.end:
            raise Stop("past-end", pos, path, wanted=n, left=max(self.end - pos, 0))

    def be32(self, pos: int, path: str) -> int:
        self.need(pos, 4, path)
        return int.from_bytes(self.data[pos:pos + 4], "big")

    # -- vmstate_load_state --------------------------------------------------------------------
    def load(self, vmsd: WireVmsd, version: int, pos: int, desc: Desc | None, path: str,
             top: bool = False) -> int:
        """The offset after VMSD's fields and subsections, read from POS at VERSION."""
        name = vmsd.name or vmsd.key
        if vmsd.version_id is not None and version > vmsd.version_id:
            raise Stop("too-new", pos, path, vmsd=name, version=version, local=vmsd.version_id, top=top)
        if vmsd.minimum_version_id is not None and version < vmsd.minimum_version_id:
            raise Stop("too-old", pos, path, vmsd=name, version=version, local=vmsd.minimum_version_id)
        self.add_hooks(vmsd)
        self.values.append({})
        placed = entries(desc, pos)
        self.sent.update(placed)
        for field, wire_name in zip(vmsd.fields, wire_names(vmsd), strict=True):
            if field.on_wire:
                pos = self.field(vmsd.key, field, wire_name, version, pos, placed, isinstance(desc, dict),
                                 f"{path}/{wire_name}")
        pos = self.subsections(vmsd, pos, desc, path)
        self.values.pop()
        return pos

    def field(self, owner: str, field: WireField, wire_name: str, version: int, pos: int,
              placed: dict[int, Entry], described: bool, path: str) -> int:
        self.reads += 1
        if self.reads > MAX_READS:
            raise Unknown(f"more than {MAX_READS} fields read: the description is not a real one")
        entry = placed.get(pos)
        sent = entry is not None and _names(entry, field, wire_name)
        if field.test is not None:
            if not described or (entry is None and not _at_fields_end(placed, pos)):
                raise Unknown(f"{path}: its test {field.test}() decides at run time, and the description "
                              f"has no field at offset {pos}")
            if not sent:
                return pos  # the source did not write it: the test was false there
        elif field.version_id > version:
            return pos
        there, entry = entry, entry if sent else None  # what the source wrote here; it, if it is this field
        if field.count == "variable" and field.info is not None and field.nested is not None:  # QTAILQ, GTREE
            self.steps.append(Step(path, pos, entry.size if entry else 0, there, owner))
            return self.opaque(field, entry, described, pos, path)
        struct = field.nested is not None and field.kind in ("struct", "vstruct")
        if field.count == "variable" and not described:
            count, size = self.from_values(field, path)
        else:
            count = self.count(field, pos, placed, entry)
            size = 0 if struct else self.size(field, entry, path)
        if struct:
            return self.structs(owner, field, count, pos, placed, entry, path)
        if field.is_equal_check:  # *_EQUAL compares with the destination's own value, known at run time
            self.hooks.append(f"{path}: must equal the destination's own value ({field.info})")
        self.steps.append(Step(path, pos, size * count, there, owner))
        self.need(pos, size * count, path)
        if count == 1 and size in (1, 2, 4, 8):  # perhaps a count or a size (an _EQUAL one too: the same)
            self.values[-1][field.name] = int.from_bytes(self.data[pos:pos + size], "big")
        return pos + size * count

    def from_values(self, field: WireField, path: str) -> tuple[int, int]:
        """(count, element size) of a VARRAY or VBUFFER when no description gives them: the
        value of the member that holds them, if this VMSD read it before (`len` then `name`
        in the configuration section), as vmstate_n_elems() and vmstate_size() take it."""
        value = self.values[-1].get(field.num_field or "")
        if value is None or (field.size is None and "VMS_MULTIPLY" in field.flags):
            raise Unknown(f"{path}: its length is a value of the device ({field.num_field}), and neither "
                          f"the stream's description nor the fields before it give it")
        if "VMS_VBUFFER" in field.flags:
            return 1, value * (field.size or 1 if "VMS_MULTIPLY" in field.flags else 1)
        if field.size is None and field.nested is None:
            raise Unknown(f"{path}: the size of its elements is unknown")
        return value, field.size or 0

    @staticmethod
    def count(field: WireField, pos: int, placed: dict[int, Entry], entry: Entry | None) -> int:
        if field.count == "variable":  # the C code holds the count: the source wrote that many
            count = 0
            while entry is not None and same_name(field.name, entry.name):
                count += entry.count  # array_len, or one "index" entry per element
                if "index" not in entry.desc:
                    break
                pos += entry.size * entry.count
                entry = placed.get(pos)
            return count
        return field.count if isinstance(field.count, int) else 1

    @staticmethod
    def size(field: WireField, entry: Entry | None, path: str) -> int:
        """One element's bytes: a VBUFFER's or an unresolved size is the description's
        (the bytes the source wrote); a plain field's is the model's, what get() reads."""
        if entry is not None and (field.size is None or field.count == "variable"):
            return entry.size
        if field.size is None:
            raise Unknown(f"{path}: size unknown to the model and not in the description")
        return field.size

    def structs(self, owner: str, field: WireField, count: int, pos: int, placed: dict[int, Entry],
                entry: Entry | None, path: str) -> int:
        nested = self.schema.vmsds.get(field.nested or "")
        if nested is None:
            raise Unknown(f"{path}: nested VMSD {field.nested} not in the model")
        if nested.hand_written and count == 1:
            return self.by_search(owner, nested, pos, entry if entry is not None and entry.count == 1 else None, path)
        version = field.struct_version_id if field.kind == "vstruct" and field.struct_version_id is not None \
            else (nested.version_id or 0)
        desc = None
        pointers = False  # an array of pointers: NULL elements put one marker byte each
        for i in range(count):
            here = placed.get(pos)
            mine = here is not None and same_name(field.name, here.name)
            where = f"{path}[{i}]" if count > 1 else path
            pointers = pointers or (mine and here is not None and self.null_pointer(here))
            if pointers and pos < self.end and self.data[pos] == NULLPTR_MARKER:
                # vmstate.c's fake nullptr field; the destination must hold NULL there too (run
                # time). 7.2's description calls a whole array NULL after its first element.
                self.steps.append(Step(where, pos, 1, here, owner))
                self.hooks.append(f"{path}: NULL elements where the destination must have NULL")
                pos += 1
                continue
            if mine and here is not None:
                entry, desc = here, here.desc.get("struct", here.desc)
            elif entry is None or entry.count == 1:  # a compressed array describes its first element for all
                desc = None
            start = pos
            pos = self.load(nested, version, pos, desc, where)
            self.steps.append(Step(where, start, pos - start, here, owner))
        return pos

    def add_hooks(self, vmsd: WireVmsd) -> None:
        """VMSD's load hooks, listed as run on the values read ("vmsd: post_load f()")."""
        self.hooks.extend(f"{vmsd.name or vmsd.key}: {hook}" for hook in self.hooks_of.get(vmsd.key, ()))

    def by_search(self, owner: str, nested: WireVmsd, pos: int, entry: Entry | None, path: str) -> int:
        """Bytes a function wrote by hand (`virtio_save()`), which the description only
        sizes: decoded every way the model allows (streamsearch.py), with small values
        for what the stream does not give; they must end where the description says, or,
        with no description, in one place.  When none does, a search with larger values
        tells a failure (no way at all) from what is not judged (a way, which such values
        make too easy to find)."""
        end = pos + entry.size if entry is not None else None
        search = Search(self.schema, self.data, end if end is not None else self.end, FIRST_FREE)
        ways = search.run(nested, pos, nested.version_id or 0, path)
        ends = sorted({way.pos for way in ways})
        if end is None and len(ends) == 1:
            end = ends[0]
        if end is None:
            raise self.search_failed(search, pos, end, ends, path)
        if end not in ends:
            if search.first_miss() is not None:  # a subsection or version no way gets past (a
                raise self.search_failed(search, pos, end, ends, path)  # wrong reading rarely meets one)
            broad = Search(self.schema, self.data, end, MAX_FREE, BROAD_READS)  # larger values, then?
            ends = sorted({way.pos for way in broad.run(nested, pos, nested.version_id or 0, path)})
            if end in ends:  # so many values let a wrong reading fit too: neither loads nor fails
                raise Unknown(f"{path}: the {end - pos} bytes written by hand decode only with a value the "
                              f"stream does not give above {FIRST_FREE} (an MSI-X vector count, a queue count), "
                              f"which lets wrong readings fit too: not judged")
            raise self.search_failed(broad, pos, end, ends, path)
        self.steps.append(Step(path, pos, end - pos, entry, owner))
        for key in sorted(search.visited):
            self.add_hooks(self.schema.vmsds[key])
        self.hooks.append(f"{path}: {nested.name}'s load counterpart checks the values it reads")
        ways_there = sum(way.pos == end for way in ways)
        self.notes.append(f"{path}: {end - pos} bytes written by hand ({nested.name}), decoded with the model"
                          + (f" ({ways_there} ways of reading them)" if ways_there > 1 else ""))
        return end

    def search_failed(self, search: Search, pos: int, end: int | None, ends: list[int], path: str) -> Exception:
        """Why no way of reading the bytes written by hand ended where it must: the
        furthest failure a way met, else the bytes do not add up."""
        if end is None:
            why = f"{len(ends)} ways of reading end in different places" if ends else \
                "; ".join(dict.fromkeys(search.unknown)) or "no way of reading them"
            return Unknown(f"{path}: bytes written by hand that the description does not size ({why})")
        miss = search.first_miss()
        if miss is not None:
            return Stop(miss.kind, miss.offset, miss.path, **dict(miss.facts))
        if search.unknown:  # a way the model could not follow may have been the source's
            return Unknown(f"{path}: {'; '.join(dict.fromkeys(search.unknown))}")
        if search.guessed:  # the counts of loops were guessed: no proof the bytes do not add up
            return Unknown(f"{path}: no way of reading the {end - pos} bytes written by hand ends where they "
                           f"do, and the counts of loops were guessed ({', '.join(sorted(search.guessed)[:3])})")
        nearest = min(ends, key=lambda e: (abs(e - end), e)) if ends else search.furthest
        return Stop("hand-written", pos, path, end=end, nearest=nearest, written=end - pos)

    @staticmethod
    def null_pointer(entry: Entry) -> bool:
        """Whether the description says a struct element was NULL: 1 byte, no fields."""
        return entry.size == 1 and not entry.desc.get("struct")

    def opaque(self, field: WireField, entry: Entry | None, described: bool, pos: int, path: str) -> int:
        """A list or tree (QTAILQ, GTREE): its VMStateInfo's get() reads elements until a
        marker, so only the description can say how many bytes it took."""
        if entry is None:
            what = "no description" if not described else f"no entry of its name at offset {pos}"
            raise Unknown(f"{path}: a {field.info} whose length the elements decide ({what})")
        self.notes.append(f"{path}: {entry.size} bytes of {field.info}, sized by the description, "
                          f"elements not decoded")
        self.need(pos, entry.size, path)
        return pos + entry.size

    # -- vmstate_subsection_load -------------------------------------------------------------------
    def subsections(self, vmsd: WireVmsd, pos: int, desc: dict[str, Any] | None, path: str) -> int:
        name = vmsd.name or ""
        sent = desc.get("subsections") if isinstance(desc, dict) else None
        described = [s for s in sent if isinstance(s, dict)] if isinstance(sent, list) else []
        while (idstr := subsection_at(self.data, pos, self.end, name)) is not None:
            length = len(idstr)
            known = known_subsections(self.schema, vmsd)
            sub = known.get(idstr)
            # a subsection's name starts with its parent's: `fw_cfg/acpi_mr` in `fw_cfg`
            sub_path = path[:-len(name)] + idstr if name and path.endswith(name) else f"{path}/{idstr}"
            if sub is None:
                raise Stop("unknown-subsection", pos, sub_path, vmsd=name, subsection=idstr,
                           known=sorted(n for n in known if n))
            version = self.be32(pos + 2 + length, f"{sub_path} version")
            sub_desc = next((s for s in described if s.get("vmsd_name") == idstr), None)
            pos = self.load(sub, version, pos + 6 + length, sub_desc, sub_path)
        return pos

