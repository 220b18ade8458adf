"""Read a QEMU migration stream (what `migrate "exec:cat > FILE"` saves) into its sections.

The layout, from migration/savevm.c (the same in v7.2.0 and v10.0.2):

    be32 magic 'QEVM'  be32 version 3
    [u8 QEMU_VM_CONFIGURATION  be32 len  name[len]  subsections...]
    then, any number of times, in the order the source wrote them:
      u8 QEMU_VM_SECTION_START | QEMU_VM_SECTION_FULL
         be32 section_id  u8 len  idstr[len]  be32 instance_id  be32 version_id
         body  u8 QEMU_VM_SECTION_FOOTER (0x7e)  be32 section_id
      u8 QEMU_VM_SECTION_PART | QEMU_VM_SECTION_END
         be32 section_id  body  u8 0x7e  be32 section_id
      u8 QEMU_VM_COMMAND  be16 command  be16 len  data[len]
    u8 QEMU_VM_EOF
    [u8 QEMU_VM_VMDESCRIPTION  be32 len  JSON[len]]

START/PART/END are the pieces of an iterative section (`ram`; s390x's
`s390-storage_attributes`): START names it, PART and END carry only its id (this reader gives
them the START's idstr, instance and version, as the destination does). FULL is a whole
device section. The configuration section is a VMState (`vmstate_configuration`: the machine
type, then optional subsections `configuration/target-page-bits`, `.../capabilities`,
`.../uuid`), with no section id and no footer; it is parsed field by field, and a
subsection this reader does not know is an error (its size cannot be known otherwise).
The JSON description (the `vmdesc`) lists every FULL section with its fields; QEMU appends it
unless the machine sets `suppress-vmdesc`; `read_vmdesc` parses it.

Splitting the bodies. A body has no length on the wire: only the code of each device's
VMSD knows where it ends. This reader finds the end by searching for the section's footer,
0x7e followed by its own be32 section id, and takes the first occurrence that is followed by
a well-formed next element:
- a START or FULL header whose section id has not been used by a START (resp. FULL) yet,
  whose idstr is 1-255 printable ASCII bytes, with its instance and version ids in the data;
- a PART or END header of an iterative section that was started and has not ended;
- a QEMU_VM_COMMAND with a known command number, the length that command must have, and its
  data in the stream;
- QEMU_VM_EOF that either ends the data or is followed by QEMU_VM_VMDESCRIPTION whose length
  ends exactly at the end of the data.
Why it is safe: every real body is followed by exactly such a footer and element (the
writer emits them; the destination checks the footer, savevm.c check_section_footer), so the
real end is always among the candidates; an earlier occurrence is taken only if a body
contains those 5 bytes *and* the bytes after them form a valid element: at least 10 bytes
that must match (the footer, then a PART/END type byte and the id of an open iterative
section), more for the other elements (a printable idstr and 8 more bytes in the data; an
EOF whose vmdesc length lands exactly on the end of the data). The idle streams this project
keeps have no such coincidence: the tests check each FULL body's length against the byte
counts in QEMU's own description.
What would defeat it: bytes the guest controls inside a body (RAM page contents in `ram`'s
PART pieces, device buffers such as a NIC's packet or a disk controller's sector buffer)
can be crafted to contain `7e <own id>` plus a valid element; the split then ends early there
(for `ram`, typically an extra PART piece; for a FULL section, a body cut short followed by a
forged section, and usually an error further on). Damage can go unnoticed the same way: a FULL
header's section id changed to that of a later FULL section makes its body run on to that
section's footer, swallowing it. Streams with no footers at all (machine
types 2.3 and older, and Xen: `send-section-footer=off`) and postcopy streams (a MIG_CMD_PACKAGED
command wraps a second stream) are not read: both are reported as errors.

Beyond the layout, the reader checks that every iterative section has ended (QEMU_VM_SECTION_END)
before QEMU_VM_EOF, as precopy does: a damaged type byte of a FULL section then fails instead of
turning it into a START that nothing ends.

Every problem (not a stream, truncated, damaged, unsupported) is a StreamError carrying the
byte offset and what was wrong; no IndexError or struct.error escapes.
"""
from __future__ import annotations

import dataclasses
import json
import lzma
import mmap
import os
from pathlib import Path
from typing import overload

from ..errors import InputError

MAGIC = 0x5145564D  # 'QEVM'
VERSION = 3
VERSION_COMPAT = 2

EOF = 0x00
SECTION_START = 0x01
SECTION_PART = 0x02
SECTION_END = 0x03
SECTION_FULL = 0x04
SUBSECTION = 0x05
VMDESCRIPTION = 0x06
CONFIGURATION = 0x07
COMMAND = 0x08
SECTION_FOOTER = 0x7E

KIND_NAMES = {SECTION_START: "start", SECTION_PART: "part", SECTION_END: "end", SECTION_FULL: "full"}

# MIG_CMD_* (savevm.c mig_cmd_args): number -> (name, data length, or None if variable)
COMMANDS = {
    1: ("OPEN_RETURN_PATH", 0),
    2: ("PING", 4),
    3: ("POSTCOPY_ADVISE", None),
    4: ("POSTCOPY_LISTEN", 0),
    5: ("POSTCOPY_RUN", 0),
    6: ("POSTCOPY_RAM_DISCARD", None),
    7: ("PACKAGED", 4),
    8: ("ENABLE_COLO", 0),
    9: ("POSTCOPY_RESUME", 0),
    10: ("RECV_BITMAP", None),
    11: ("SWITCHOVER_START", 0),
}
PACKAGED = 7


class StreamError(InputError):
    """The data is not a migration stream this reader can split: `offset` is where, `reason` what."""

    def __init__(self, offset: int, reason: str):
        self.offset = offset
        self.reason = reason
        super().__init__(f"offset {offset} (0x{offset:x}): {reason}")


@dataclasses.dataclass(frozen=True)
class Section:
    """One section (or one piece of an iterative section) and where its body lies.

    kind: "configuration", "start", "part", "end" or "full". For "configuration":
    section_id, instance_id and version_id are None (not on the wire) and idstr is
    "configuration". `header_start` is the offset of the section type byte; the body is
    data[start:end]; the footer (all kinds but "configuration") is data[end:end + 5].
    """
    kind: str
    section_id: int | None
    idstr: str
    instance_id: int | None
    version_id: int | None
    header_start: int
    start: int
    end: int

    @property
    def footer_end(self) -> int:
        """Offset just after this section: after its footer (after the body for the configuration)."""
        return self.end if self.kind == "configuration" else self.end + 5


@dataclasses.dataclass(frozen=True)
class Command:
    """A QEMU_VM_COMMAND element: its number, name, and the byte range of its data."""
    offset: int
    number: int
    name: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class Stream:
    """A split stream: `sections` in stream order (the configuration first, when present),
    `commands` in stream order, `eof` the offset of QEMU_VM_EOF, `vmdesc` the byte range of
    the JSON description (None when the stream has none), `machine` the configuration's
    machine type name (None without a configuration section)."""
    size: int
    machine: str | None
    sections: tuple[Section, ...]
    commands: tuple[Command, ...]
    eof: int
    vmdesc: tuple[int, int] | None


class FileBytes:
    """An open file read in place, as the reader and the loader use bytes: len(), [i],
    [a:b] and find(). Nothing is held but one window: a multi-GB stream's RAM pages pass
    through in windows of at most MAX_WINDOW bytes (an mmap would keep every page it
    searched resident, 2.4 GB for a 2.5 GB stream)."""

    WINDOW = 64 << 10
    MAX_WINDOW = 8 << 20

    def __init__(self, fd: int):
        self.fd = fd
        self.size = os.fstat(fd).st_size
        self.window_start, self.window = 0, b""

    def __len__(self) -> int:
        return self.size

    def _read(self, start: int, n: int) -> bytes:
        return os.pread(self.fd, max(0, min(n, self.size - start)), start) if start < self.size else b""

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> bytes: ...

    def __getitem__(self, key: int | slice) -> int | bytes:
        if isinstance(key, slice):
            start, stop, _ = key.indices(self.size)
            if self.window_start <= start and stop <= self.window_start + len(self.window):
                return self.window[start - self.window_start:stop - self.window_start]
            if stop - start > self.WINDOW:
                return self._read(start, stop - start)
            self.window_start, self.window = start, self._read(start, self.WINDOW)
            return self.window[:max(stop - start, 0)]
        index = key + self.size if key < 0 else key
        if not 0 <= index < self.size:
            raise IndexError(key)
        return self[index:index + 1][0]


def find(data: bytes | mmap.mmap | FileBytes, sub: bytes, start: int) -> int:
    """The first offset of SUB at or after START in DATA, or -1; read in growing windows,
    so that a search through gigabytes of RAM pages holds one window at a time."""
    size = FileBytes.WINDOW
    while start < len(data):
        chunk = data[start:start + size + len(sub) - 1]
        assert isinstance(chunk, bytes)
        found = _find_in(chunk, sub)
        if found != -1:
            return start + found
        start += size
        size = min(size * 2, FileBytes.MAX_WINDOW)
    return -1


def _find_in(chunk: bytes, sub: bytes) -> int:
    """bytes.find, but through memchr on SUB's first byte where that byte is rare: CPython's
    own search crawls a byte at a time through zeros when SUB holds a zero (a footer does),
    and idle RAM pages are zeros (12 s for 2.5 GB, 1.4 s this way)."""
    first = sub[:1]
    if chunk.count(first) * 64 > len(chunk):
        return chunk.find(sub)
    found = chunk.find(first)
    while found != -1 and chunk[found:found + len(sub)] != sub:
        found = chunk.find(first, found + 1)
    return found


class _Reader:
    def __init__(self, data: bytes | mmap.mmap | FileBytes):
        self.data = data
        self.size = len(data)
        self.started: dict[int, tuple[str, int, int]] = {}  # iterative sections by id: idstr, instance, version
        self.open: set[int] = set()  # iterative sections started and not ended
        self.full_ids: set[int] = set()

    # -- bounds-checked reads --------------------------------------------------------------
    def need(self, pos: int, n: int, what: str) -> None:
        if pos + n > self.size:
            have = max(self.size - pos, 0)
            raise StreamError(pos, f"truncated: {what} needs {n} byte(s), {have} left")

    def u8(self, pos: int, what: str) -> int:
        self.need(pos, 1, what)
        return self.data[pos]

    def be16(self, pos: int, what: str) -> int:
        self.need(pos, 2, what)
        return int.from_bytes(self.data[pos:pos + 2], "big")

    def be32(self, pos: int, what: str) -> int:
        self.need(pos, 4, what)
        return int.from_bytes(self.data[pos:pos + 4], "big")

    def text(self, pos: int, n: int, what: str) -> str:
        self.need(pos, n, what)
        raw = self.data[pos:pos + n]
        if not all(0x20 <= c < 0x7F for c in raw):
            raise StreamError(pos, f"{what} is not printable ASCII: {bytes(raw)!r}")
        return raw.decode("ascii")

    # -- elements ----------------------------------------------------------------------------
    def start_full_header(self, pos: int) -> tuple[int, str, int, int, int]:
        """(section id, idstr, instance id, version id, body start) of a START/FULL header at pos."""
        sid = self.be32(pos + 1, "section id")
        n = self.u8(pos + 5, "idstr length")
        if n == 0:
            raise StreamError(pos + 5, "empty idstr")
        idstr = self.text(pos + 6, n, "idstr")
        instance = self.be32(pos + 6 + n, "instance id")
        version = self.be32(pos + 10 + n, "version id")
        return sid, idstr, instance, version, pos + 14 + n

    def follower_problem(self, q: int) -> tuple[int, str] | None:
        """None if a well-formed element (see the module docstring) starts at q, else (offset, why)."""
        if q >= self.size:
            return q, "the data ends with no QEMU_VM_EOF"
        t = self.data[q]
        try:
            if t in (SECTION_START, SECTION_FULL):
                sid, _, _, _, _ = self.start_full_header(q)
                used = self.started if t == SECTION_START else self.full_ids
                if sid in used:
                    return q, f"a {KIND_NAMES[t].upper()} header reuses section id {sid}"
                return None
            if t in (SECTION_PART, SECTION_END):
                sid = self.be32(q + 1, "section id")
                if sid not in self.open:
                    return q, (f"a {KIND_NAMES[t].upper()} header for section id {sid}, "
                               f"which is not an open iterative section")
                return None
            if t == COMMAND:
                self.command(q)
                return None
            if t == EOF:
                if q + 1 == self.size:
                    return None
                self.vmdesc_range(q + 1)
                return None
        except StreamError as exc:
            return exc.offset, exc.reason
        return q, f"byte 0x{t:02x} is no section type"

    def command(self, pos: int) -> Command:
        number = self.be16(pos + 1, "command number")
        length = self.be16(pos + 3, "command data length")
        if number not in COMMANDS:
            raise StreamError(pos + 1, f"unknown QEMU_VM_COMMAND {number}")
        name, fixed = COMMANDS[number]
        if fixed is not None and length != fixed:
            raise StreamError(pos + 3, f"command {name} with {length} byte(s) of data, {fixed} expected")
        self.need(pos + 5, length, f"command {name} data")
        return Command(pos, number, name, pos + 5, pos + 5 + length)

    def vmdesc_range(self, pos: int) -> tuple[int, int]:
        """The JSON description after QEMU_VM_EOF: type byte at pos, it must end the data."""
        t = self.u8(pos, "the element after QEMU_VM_EOF")
        if t != VMDESCRIPTION:
            raise StreamError(pos, f"byte 0x{t:02x} after QEMU_VM_EOF, not QEMU_VM_VMDESCRIPTION")
        length = self.be32(pos + 1, "vmdesc length")
        start, end = pos + 5, pos + 5 + length
        if end > self.size:
            raise StreamError(pos + 1, f"truncated: the vmdesc is {length} bytes, {self.size - start} left")
        if end < self.size:
            raise StreamError(end, f"{self.size - end} byte(s) after the end of the vmdesc")
        return start, end

    def body_end(self, sid: int, idstr: str, start: int) -> int:
        footer = bytes([SECTION_FOOTER]) + sid.to_bytes(4, "big")
        p = find(self.data, footer, start)
        last = None
        while p != -1:
            problem = self.follower_problem(p + 5)
            if problem is None:
                return p
            last = problem
            p = find(self.data, footer, p + 1)
        if last is None:
            raise StreamError(start, f"no footer (7e {sid:08x}) after the body of section {sid} '{idstr}': "
                                     f"the stream is truncated or damaged (streams with no section footers, "
                                     f"of machine types 2.3 and older or Xen, are not read)")
        offset, why = last
        raise StreamError(offset, f"the body of section {sid} '{idstr}' has no footer followed by a well-formed "
                                  f"element; after the last one: {why}")

    def configuration(self, pos: int) -> tuple[Section, str]:
        """The configuration section whose type byte is at pos; parsed field by field."""
        length = self.be32(pos + 1, "configuration name length")
        if length > 255:
            raise StreamError(pos + 1, f"configuration machine name of {length} bytes")
        machine = self.text(pos + 5, length, "configuration machine name")
        p = pos + 5 + length
        while p < self.size and self.data[p] == SUBSECTION:
            n = self.u8(p + 1, "subsection name length")
            name = self.text(p + 2, n, "subsection name")
            p += 2 + n + 4  # type, length, name, be32 version
            self.need(p - 4, 4, f"subsection {name} version")
            if name == "configuration/target-page-bits":
                self.need(p, 4, name)
                p += 4
            elif name == "configuration/capabilities":
                count = self.be32(p, "capability count")
                p += 4
                for _ in range(count):
                    n = self.u8(p, "capability name length")
                    self.text(p + 1, n, "capability name")
                    p += 1 + n
            elif name == "configuration/uuid":
                self.need(p, 16, name)
                p += 16
            else:
                raise StreamError(p - 6 - n, f"unknown configuration subsection '{name}' (this reader knows "
                                             f"target-page-bits, capabilities and uuid)")
        problem = self.follower_problem(p)
        if problem is not None:
            raise StreamError(problem[0], f"after the configuration section: {problem[1]}")
        return Section("configuration", None, "configuration", None, None, pos, pos + 1, p), machine

    def read(self) -> Stream:
        magic = self.be32(0, "the magic")
        if magic != MAGIC:
            raise StreamError(0, f"not a QEMU migration stream (magic {self.data[:4].hex()}, 'QEVM' expected)")
        version = self.be32(4, "the stream version")
        if version == VERSION_COMPAT:
            raise StreamError(4, "a version 2 stream (the obsolete format QEMU itself no longer loads): not read")
        if version != VERSION:
            raise StreamError(4, f"stream version {version}, 3 expected")
        sections: list[Section] = []
        commands: list[Command] = []
        machine = None
        pos = 8
        if self.u8(pos, "the first element") == CONFIGURATION:
            config, machine = self.configuration(pos)
            sections.append(config)
            pos = config.end
        while True:
            t = self.u8(pos, "a section type")
            if t in (SECTION_START, SECTION_FULL):
                problem = self.follower_problem(pos)
                if problem is not None:
                    raise StreamError(*problem)
                sid, idstr, instance, version_id, start = self.start_full_header(pos)
                # recorded before the body's end is searched: what follows may be this
                # section's own PART, and may not reuse its id
                if t == SECTION_START:
                    self.started[sid] = (idstr, instance, version_id)
                    self.open.add(sid)
                else:
                    self.full_ids.add(sid)
                end = self.body_end(sid, idstr, start)
                section = Section(KIND_NAMES[t], sid, idstr, instance, version_id, pos, start, end)
            elif t in (SECTION_PART, SECTION_END):
                problem = self.follower_problem(pos)
                if problem is not None:
                    raise StreamError(*problem)
                sid = self.be32(pos + 1, "section id")
                idstr, instance, version_id = self.started[sid]
                if t == SECTION_END:  # what follows an END may not be a piece of the same section
                    self.open.discard(sid)
                end = self.body_end(sid, idstr, pos + 5)
                section = Section(KIND_NAMES[t], sid, idstr, instance, version_id, pos, pos + 5, end)
            elif t == COMMAND:
                command = self.command(pos)
                if command.number == PACKAGED:
                    raise StreamError(pos, "a MIG_CMD_PACKAGED command (postcopy): packaged streams are not read")
                commands.append(command)
                pos = command.end
                continue
            elif t == EOF:
                if self.open:  # precopy ends every iterative section before EOF
                    sid = min(self.open)
                    raise StreamError(pos, f"QEMU_VM_EOF while iterative section {sid} '{self.started[sid][0]}' "
                                           f"has not ended (no QEMU_VM_SECTION_END)")
                vmdesc = None if pos + 1 == self.size else self.vmdesc_range(pos + 1)
                return Stream(self.size, machine, tuple(sections), tuple(commands), pos, vmdesc)
            elif t == SECTION_FOOTER:
                raise StreamError(pos, "a section footer where a section type was expected")
            else:
                raise StreamError(pos, f"byte 0x{t:02x} is no section type")
            sections.append(section)
            pos = section.footer_end


StreamData = bytes | bytearray | memoryview | mmap.mmap | FileBytes


def read_stream(data: StreamData) -> Stream:
    """Split a whole migration stream (bytes, or a file read in place: FileBytes, an mmap)
    into its sections; StreamError if it cannot."""
    return _Reader(data if isinstance(data, (bytes, mmap.mmap, FileBytes)) else bytes(data)).read()


def read_sections(data: bytes | bytearray | memoryview) -> list[Section]:
    """The sections of a stream, in stream order (see Section)."""
    return list(read_stream(data).sections)


def read_vmdesc(data: StreamData, stream: Stream | None = None) -> dict | None:
    """The JSON description QEMU appended to the stream, parsed; None if it has none.

    `stream` (from read_stream on the same data) saves splitting it again."""
    stream = stream or read_stream(data)
    if stream.vmdesc is None:
        return None
    start, end = stream.vmdesc
    try:
        text = bytes(data[start:end]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StreamError(start + exc.start, "the vmdesc is not UTF-8") from None
    try:
        desc = json.loads(text)
    except json.JSONDecodeError as exc:
        offset = start + len(text[:exc.pos].encode("utf-8"))
        raise StreamError(offset, f"the vmdesc is not valid JSON ({exc.msg})") from None
    except (RecursionError, ValueError) as exc:
        raise StreamError(start, f"the vmdesc is not JSON this reader reads ({exc.__class__.__name__})") from None
    if not isinstance(desc, dict):
        raise StreamError(start, "the vmdesc is not a JSON object")
    return desc


def load_stream_bytes(path: str | Path) -> bytes:
    """A stream file's bytes, decompressed if its name ends in .xz; OSError/lzma errors as InputError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        return lzma.decompress(raw) if path.suffix == ".xz" else raw
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except lzma.LZMAError as exc:
        raise InputError(f"{path}: not a readable .xz file ({exc})") from None
