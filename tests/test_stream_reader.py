"""vmsd_lint.sources.stream on real migration streams: the shared x86_64 pair
(../shared/qemu/streams) and the virtio ones in tests/data/streams (pci, mmio, ccw; 7.2.22 and
10.0.13). No QEMU binary is needed: only the committed files are read.

- every FULL section of QEMU's own JSON description is in the reader's list, same idstr,
  instance and version, same order; the description beside each stream (analyze-migration.py
  --dump desc) is the one the reader extracts;
- headers, bodies, footers, commands and EOF tile the stream with no gap, and each body is as
  long as the description's field sizes say (an independent check of the footer-based split);
- truncated, corrupted and foreign inputs raise StreamError with an offset, nothing else.
"""
from __future__ import annotations

import functools
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, shared_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmsd_lint.errors import InputError
from vmsd_lint.sources.stream import (
    COMMAND,
    EOF,
    SECTION_END,
    SECTION_FULL,
    SECTION_PART,
    SECTION_START,
    FileBytes,
    StreamError,
    load_stream_bytes,
    read_sections,
    read_stream,
    read_vmdesc,
)

DATA = ROOT / "tests" / "data" / "streams"
OURS = sorted(DATA.glob("*.mig.xz"))
SHARED = sorted((shared_dir() / "qemu" / "streams").glob("*.mig.xz"))
KIND_BYTES = {"start": SECTION_START, "part": SECTION_PART, "end": SECTION_END, "full": SECTION_FULL}
# The one FULL section whose description does not add up to its body: s390x's css array of
# 256 pointers (VMSTATE_ARRAY_OF_POINTER_TO_STRUCT) is described with the size of its first
# element, a 1-byte null marker, but css 0xfe is a whole image (1039 bytes on the wire, 272 described).
SIZE_NOT_DESCRIBED = {"s390_css"}
# 25 inputs per property by default; a long fuzz run (VMSD_LINT_FUZZ_EXAMPLES=N, as for
# tests/test_fuzz.py) gives each property N/100
FUZZ_EXAMPLES = max(25, int(os.environ.get("VMSD_LINT_FUZZ_EXAMPLES") or 0) // 100)
SETTINGS = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _id(path: Path) -> str:
    return path.name.removesuffix(".mig.xz")


ALL = OURS + SHARED
FIRST = DATA / "aarch64-v7.2.22-virt-7.2-virtio-mmio-pci.mig.xz"  # the one the synthetic tests edit
PARAMS = [pytest.param(p, id=_id(p)) for p in ALL]


@functools.cache
def stream_bytes(path: Path) -> bytes:
    return load_stream_bytes(path)


def description(path: Path) -> dict:
    desc = path.with_name(path.name.replace(".mig.xz", ".desc.json.xz"))
    return json.loads(lzma.decompress(desc.read_bytes()))


def test_the_data_is_there():
    """The committed streams cover virtio on each transport; the shared ones are found."""
    assert len(OURS) == 6, OURS
    names = " ".join(s.idstr for p in OURS for s in read_sections(stream_bytes(p)))
    for transport in ("0000:00:01.0/virtio-net", "virtio-mmio@000000000a003e00/virtio-net",
                      "virtio-mmio@00000000feb02e00/virtio-net", "/fe.0.0000/virtio-net"):
        assert transport in names
    records = [json.loads(line) for line in (DATA / "streams.jsonl").read_text().splitlines()]
    assert sorted(r["file"] + ".xz" for r in records) == sorted(p.name for p in OURS)
    for record in records:
        assert record["loaded_back"] is True
        assert len(stream_bytes(DATA / (record["file"] + ".xz"))) == record["size"]
    if not SHARED:
        pytest.skip(f"no shared streams in {shared_dir() / 'qemu' / 'streams'}")
    assert len(SHARED) == 2


@pytest.mark.parametrize("path", PARAMS)
def test_sections_match_the_description(path):
    data = stream_bytes(path)
    stream = read_stream(data)
    desc = read_vmdesc(data, stream)
    assert desc == description(path)  # the analyze-migration.py output kept beside it
    full = [s for s in stream.sections if s.kind == "full"]
    for s, device in zip(full, desc["devices"], strict=True):
        assert (s.idstr, s.instance_id) == (device["name"], device["instance_id"])
        if "vmsd_name" in device:
            assert s.version_id == device["version"], s.idstr
        else:  # old-style (register_savevm_live, no VMSD): no version in the description
            assert "version" not in device
    assert stream.sections[0].kind == "configuration"
    assert stream.machine in path.name


@pytest.mark.parametrize("path", PARAMS)
def test_iterative_sections(path):
    stream = read_stream(stream_bytes(path))
    pieces: dict[int, list[str]] = {}
    for s in stream.sections:
        if s.kind in ("start", "part", "end"):
            pieces.setdefault(s.section_id, []).append(s.kind)
    names = {s.section_id: s.idstr for s in stream.sections if s.kind == "start"}
    assert "ram" in names.values()
    for sid, kinds in pieces.items():
        assert kinds[0] == "start" and kinds[-1] == "end" and set(kinds[1:-1]) <= {"part"}, (names[sid], kinds)
    if path.name.startswith("s390x"):
        assert sorted(names.values()) == ["ram", "s390-storage_attributes"]


@pytest.mark.parametrize("path", PARAMS)
def test_layout_is_contiguous(path):
    """Re-derive every header and footer from the bytes; nothing between them is unaccounted."""
    data = stream_bytes(path)
    stream = read_stream(data)
    assert data[:8] == b"QEVM\x00\x00\x00\x03"
    elements = sorted([(s.header_start, s) for s in stream.sections]
                      + [(c.offset, c) for c in stream.commands], key=lambda e: e[0])
    pos = 8
    for offset, element in elements:
        assert offset == pos
        if not hasattr(element, "kind"):  # a command
            assert data[offset] == COMMAND
            pos = element.end
            continue
        s = element
        if s.kind == "configuration":
            assert data[pos] == 0x07 and s.start == pos + 1
            length = int.from_bytes(data[s.start:s.start + 4], "big")
            assert data[s.start + 4:s.start + 4 + length].decode() == stream.machine
        else:
            assert data[pos] == KIND_BYTES[s.kind]
            assert int.from_bytes(data[pos + 1:pos + 5], "big") == s.section_id
            if s.kind in ("start", "full"):
                n = data[pos + 5]
                assert data[pos + 6:pos + 6 + n].decode() == s.idstr
                assert int.from_bytes(data[pos + 6 + n:pos + 10 + n], "big") == s.instance_id
                assert int.from_bytes(data[pos + 10 + n:pos + 14 + n], "big") == s.version_id
                assert s.start == pos + 14 + n
            else:
                assert s.start == pos + 5
            assert data[s.end:s.end + 5] == b"\x7e" + s.section_id.to_bytes(4, "big")
        assert s.start <= s.end
        pos = s.footer_end
    assert pos == stream.eof and data[pos] == EOF
    start, end = stream.vmdesc
    assert data[pos + 1] == 0x06 and int.from_bytes(data[pos + 2:pos + 6], "big") == end - start
    assert start == pos + 6 and end == len(data) == stream.size


def _described_size(vmsd: dict) -> int:
    """Bytes a VMSD description says it wrote: fields (size x array_len), then each
    subsection with its header (0x05, name length, name, be32 version)."""
    total = sum(f["size"] * f.get("array_len", 1) for f in vmsd.get("fields", []))
    for sub in vmsd.get("subsections", []):
        total += 2 + len(sub["vmsd_name"]) + 4 + _described_size(sub)
    return total


@pytest.mark.parametrize("path", PARAMS)
def test_body_lengths_match_the_description(path):
    data = stream_bytes(path)
    stream = read_stream(data)
    full = [s for s in stream.sections if s.kind == "full"]
    checked = 0
    for s, device in zip(full, read_vmdesc(data, stream)["devices"], strict=True):
        if s.idstr in SIZE_NOT_DESCRIBED:
            assert _described_size(device) != s.end - s.start  # still the known exception
            continue
        assert s.end - s.start == _described_size(device), s.idstr
        checked += 1
    assert checked == len(full) - sum(s.idstr in SIZE_NOT_DESCRIBED for s in full)


# -- damaged and foreign input -----------------------------------------------------------------

def _fails(data: bytes) -> StreamError:
    with pytest.raises(StreamError) as info:
        read_stream(data)
    assert 0 <= info.value.offset <= len(data)
    assert str(info.value).startswith(f"offset {info.value.offset} ")
    return info.value


@pytest.mark.parametrize("data", [b"", b"QEV", b"QEVM", b"QEVM\x00\x00\x00\x03", b"QEVM\x00\x00\x00\x02\x04",
                                  b"QEVM\x00\x00\x00\x04\x00", b"\x7fELF" + bytes(100), bytes(64),
                                  b"QEVM\x00\x00\x00\x03\x07\xff\xff\xff\xff"],
                         ids=["empty", "short-magic", "magic-only", "no-elements", "version-2", "version-4",
                              "elf", "zeros", "huge-config-name"])
def test_not_a_stream(data):
    _fails(data)


def test_compressed_file_is_not_a_stream():
    assert _fails(FIRST.read_bytes()).offset == 0


def test_stream_error_is_an_input_error():
    assert issubclass(StreamError, InputError)  # the CLI's one-line exit-2 error


def _cut_points(data: bytes) -> list[int]:
    """Every structural boundary of the stream (and the bytes beside it)."""
    stream = read_stream(data)
    points = {0, 4, 8, stream.eof, stream.vmdesc[0], len(data) - 1}
    for s in stream.sections:
        points |= {s.header_start, s.header_start + 1, s.start, s.end, s.end + 1, s.end + 4, s.footer_end}
    return sorted(p for p in points if 0 <= p < len(data) and p != stream.eof + 1)


@pytest.mark.parametrize("path", PARAMS)
def test_truncated_at_each_boundary(path):
    data = stream_bytes(path)
    for cut in _cut_points(data):
        _fails(data[:cut])


@pytest.mark.parametrize("path", PARAMS)
def test_cut_after_eof_is_a_stream_without_vmdesc(path):
    data = stream_bytes(path)
    stream = read_stream(data)
    short = data[:stream.eof + 1]
    assert read_stream(short).vmdesc is None and read_vmdesc(short) is None
    assert read_sections(short) == list(stream.sections)


@SETTINGS
@given(st.sampled_from(ALL), st.floats(0, 1, exclude_max=True))
def test_truncated_anywhere(path, where):
    data = stream_bytes(path)
    cut = int(where * len(data))
    if cut == read_stream(data).eof + 1:
        return
    _fails(data[:cut])


def _structural_bytes(data: bytes) -> list[int]:
    """Bytes whose change must be detected: magic, version, EOF, the vmdesc's type and length
    bytes, and for FULL sections the type byte and the whole footer. (Not the section id in a
    header: changed to the id of a later FULL section, the body runs on to that one's footer
    and swallows it, which the layout alone cannot tell.)"""
    stream = read_stream(data)
    offsets = list(range(8)) + list(range(stream.eof, stream.eof + 6))
    for s in stream.sections:
        if s.kind == "full":
            offsets += [s.header_start] + list(range(s.end, s.end + 5))
    return offsets


@SETTINGS
@given(st.sampled_from(ALL), st.integers(0, 10**9), st.integers(1, 255))
def test_structural_corruption_is_detected(path, which, delta):
    data = stream_bytes(path)
    offsets = _structural_bytes(data)
    offset = offsets[which % len(offsets)]
    damaged = bytearray(data)
    damaged[offset] = (damaged[offset] + delta) % 256
    _fails(bytes(damaged))


@SETTINGS
@given(st.sampled_from(ALL), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                                      min_size=1, max_size=8))
def test_corruption_anywhere_is_a_stream_error_or_a_stream(path, changes):
    data = bytearray(stream_bytes(path))
    for where, value in changes:
        data[int(where * len(data))] = value
    try:
        stream = read_stream(bytes(data))
        read_vmdesc(bytes(data), stream)
    except StreamError as exc:
        assert 0 <= exc.offset <= len(data)


@pytest.mark.parametrize("path", PARAMS[:1] + PARAMS[-1:])
def test_every_structural_byte_flipped(path):
    """Exhaustive over one bit flip of each structural byte of two streams."""
    data = stream_bytes(path)
    for offset in _structural_bytes(data):
        damaged = bytearray(data)
        damaged[offset] ^= 0x20
        _fails(bytes(damaged))


def test_damaged_vmdesc():
    data = stream_bytes(FIRST)
    stream = read_stream(data)
    start, end = stream.vmdesc
    with pytest.raises(StreamError) as info:
        read_vmdesc(data[:start + 10] + b"\xff" + data[start + 11:])
    assert info.value.offset == start + 10
    with pytest.raises(StreamError) as info:
        read_vmdesc(data[:start] + b"[" + data[start + 1:])  # '{' -> '[': an array with a "key":
    assert info.value.offset == start + len(b'["page_size"') and "not valid JSON" in info.value.reason
    assert _fails(data + b"\x00").offset == end  # a byte after the vmdesc


# -- synthetic elements around real sections ----------------------------------------------------

def _after_full(data: bytes, n: int) -> int:
    return [s for s in read_stream(data).sections if s.kind == "full"][n].footer_end


def test_command_between_sections():
    data = stream_bytes(FIRST)
    at = _after_full(data, 3)
    switchover = bytes([COMMAND]) + (11).to_bytes(2, "big") + bytes(2)  # MIG_CMD_SWITCHOVER_START
    ping = bytes([COMMAND]) + (2).to_bytes(2, "big") + (4).to_bytes(2, "big") + b"\x00\x00\x00\x07"
    spliced = data[:at] + switchover + ping + data[at:]
    stream = read_stream(spliced)
    assert [(c.name, c.offset, c.end - c.start) for c in stream.commands] == [
        ("SWITCHOVER_START", at, 0), ("PING", at + 5, 4)]
    assert [s.idstr for s in stream.sections] == [s.idstr for s in read_sections(data)]
    for bad, reason in [(bytes([COMMAND]) + (7).to_bytes(2, "big") + (4).to_bytes(2, "big") + bytes(4), "PACKAGED"),
                        (bytes([COMMAND]) + (99).to_bytes(2, "big") + bytes(2), "unknown QEMU_VM_COMMAND"),
                        (bytes([COMMAND]) + (2).to_bytes(2, "big") + bytes(2), "PING with 0 byte")]:
        assert reason in _fails(data[:at] + bad + data[at:]).reason


def test_stream_without_configuration():
    data = stream_bytes(FIRST)
    config = read_stream(data).sections[0]
    stream = read_stream(data[:8] + data[config.end:])
    assert stream.machine is None and stream.sections[0].kind == "start"
    assert len(stream.sections) == len(read_sections(data)) - 1


def test_unknown_configuration_subsection():
    data = stream_bytes(FIRST)
    config = read_stream(data).sections[0]
    name = b"configuration/future"
    sub = b"\x05" + bytes([len(name)]) + name + bytes(4)
    assert "unknown configuration subsection" in _fails(data[:config.end] + sub + data[config.end:]).reason


def test_known_configuration_subsections():
    """capabilities and uuid (not in these streams: no validated capability, no -uuid) are parsed."""
    data = stream_bytes(FIRST)
    config = read_stream(data).sections[0]
    name = b"configuration/capabilities"
    caps = b"\x05" + bytes([len(name)]) + name + (1).to_bytes(4, "big") + (2).to_bytes(4, "big") \
        + b"".join(bytes([len(c)]) + c for c in (b"x-ignore-shared", b"validate-uuid"))
    name = b"configuration/uuid"
    uuid = b"\x05" + bytes([len(name)]) + name + (1).to_bytes(4, "big") + bytes(range(16))
    stream = read_stream(data[:config.end] + caps + uuid + data[config.end:])
    assert stream.sections[0].end == config.end + len(caps) + len(uuid)
    assert "truncated" in _fails(data[:config.end] + caps[:-3]).reason


def test_section_never_ended():
    data = stream_bytes(FIRST)
    stream = read_stream(data)
    end = next(s for s in stream.sections if s.kind == "end")
    without_end = data[:end.header_start] + data[end.footer_end:]
    assert "has not ended" in _fails(without_end).reason


@pytest.mark.parametrize("path", PARAMS)
def test_a_file_read_in_place_splits_as_its_bytes(path, tmp_path):
    """FileBytes (what check-stream reads a file through) gives the same split and description."""
    data = stream_bytes(path)
    raw = tmp_path / "stream.mig"
    raw.write_bytes(data)
    with open(raw, "rb") as file:
        in_place = FileBytes(file.fileno())
        assert read_stream(in_place) == read_stream(data)
        assert read_vmdesc(in_place) == read_vmdesc(data)
        assert in_place[-1] == data[-1] and in_place[5:3] == b"" and in_place[10:2_000_000] == data[10:2_000_000]


PEAK_REPORTING_CLI = """
import atexit, re, sys
atexit.register(lambda: sys.stderr.write(re.search(r"VmHWM:.*", open("/proc/self/status").read()).group(0) + "\\n"))
from vmsd_lint.cli.main import main
sys.argv[0] = "vmsd-lint"
main()
"""


def test_a_big_stream_is_described_in_constant_memory(tmp_path):
    """A real stream with 1 GB of zero pages added to its ram section (a sparse file): the
    reader passes them through a window; peak RSS of the process stays far below the file."""
    data = stream_bytes(SHARED[-1]) if SHARED else stream_bytes(FIRST)
    part = next(s for s in read_stream(data).sections if s.kind == "part")
    big = tmp_path / "big.mig"
    with open(big, "wb") as out:
        out.write(data[:part.end])
        out.seek(part.end + (1 << 30))
        out.write(data[part.end:])
    # the child reports its own peak (VmHWM of its own address space): its rusage would
    # count this test process's memory too, as exec() keeps the forking process's peak
    proc = subprocess.run([sys.executable, "-c", PEAK_REPORTING_CLI, "check-stream", "--describe", "--format", "json",
                           str(big)], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    described = json.loads(proc.stdout)
    assert described["size"] == len(data) + (1 << 30)
    ram = next(s for s in described["sections"] if s["kind"] == "part")
    assert ram["size"] == part.end - part.start + (1 << 30)
    peak_kb = int(proc.stderr.decode().rsplit("VmHWM:", 1)[1].split()[0])
    assert peak_kb < 200 * 1024, f"peak RSS {peak_kb // 1024} MB"
