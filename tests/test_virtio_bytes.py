"""The bytes virtio writes by hand, modelled from the code (extract/saves.py), against real
streams: each virtio section of the streams Debian's QEMU 7.2.22 and 10.0.13 saved
(tests/data/streams: virtio-pci on q35 and aarch64 virt, virtio-mmio on microvm and
aarch64 virt, virtio-ccw on s390x) decodes to its last byte with the model of the release
that saved it, over its own transport -- and not over another transport's.

`virtio_save()`'s fixed part (status, isr, queue_sel, features, config, the queues), each
transport's config and queue vectors, the device's `vdc->vmsd`, `vdc->save` and
`vmstate_virtio` with its subsections are all in that model; tests/wire_decode.py tries
every possibility the model leaves to run time.  Not decoded: virtio-serial
(`virtio-console`), whose ports bitmap is `DIV_ROUND_UP(max_nr_ports, 32)` words long: a
property, not a value of the stream.
"""
from __future__ import annotations

import functools
import re
import subprocess

import pytest
from conftest import ROOT
from wire_decode import Decoder

from vmsd_lint.placement.wire import from_extraction
from vmsd_lint.sources.stream import load_stream_bytes, read_sections

pytestmark = pytest.mark.qemu

DATA = ROOT / "tests" / "data" / "streams"
STREAMS = [  # (stream, release, target)
    ("x86_64-v7.2.22-pc-q35-7.2-virtio-pci", "v7.2.0", "x86_64"),
    ("x86_64-v10.0.13-pc-q35-7.2-virtio-pci", "v10.0.2", "x86_64"),
    ("x86_64-v7.2.22-microvm-virtio-mmio", "v7.2.0", "x86_64"),
    ("aarch64-v7.2.22-virt-7.2-virtio-mmio-pci", "v7.2.0", "aarch64"),
    ("s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw", "v7.2.0", "s390x"),
]
NOT_DECODED = {"virtio-console"}


def transport(idstr: str) -> str:
    """The bus a section's path says its device sits on."""
    if idstr.startswith("virtio-mmio@"):
        return "virtio-mmio-bus"
    if idstr.startswith("/fe."):
        return "virtio-ccw-bus"
    return "virtio-pci-bus"


def constants(repo: str, release: str):
    """NAME -> the number a release's `#define NAME <number>` gives (PCI_MSIX_ENTRY_SIZE)."""
    @functools.cache
    def constant(name: str) -> int | None:
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
            return None
        out = subprocess.run(["git", "-C", repo, "grep", "-h", "-E", rf"#define\s+{name}\s+\(?[0-9]+\)?\s*($|/)",
                              release, "--", "include", "hw"], capture_output=True, text=True).stdout
        m = re.search(r"#define\s+\w+\s+\(?([0-9]+)", out)
        return int(m.group(1)) if m else None
    return constant


@pytest.mark.parametrize("stream, release, target", [pytest.param(*s, id=s[0]) for s in STREAMS])
def test_virtio_sections_decode_over_their_own_transport(qemu_repo, release_extractions, stream, release,
                                                        target):
    extraction = release_extractions(release, target)
    schema = from_extraction(extraction)
    data = load_stream_bytes(DATA / f"{stream}.mig.xz")
    constant = constants(qemu_repo, release)
    checked, wrong_transport_refused = [], False
    for section in read_sections(data):
        name = section.idstr.rsplit("/", 1)[-1]
        if section.kind != "full" or not name.startswith("virtio") or name in NOT_DECODED:
            continue
        keys = sorted(k for s in schema.sections.values() if s.name == name for k in s.vmsds)
        own = [k for k in keys if transport(section.idstr) in k]
        assert own, f"{section.idstr}: no variant over {transport(section.idstr)} in {keys}"
        decoder = Decoder(extraction, data, constant)
        assert any(Decoder(extraction, data, constant).section(k, section.start, section.end, section.version_id)
                   for k in own), f"{section.idstr} ({section.end - section.start} bytes): {decoder.unknown[:3]}"
        if not wrong_transport_refused and transport(section.idstr) != "virtio-pci-bus":
            # the layout depends on the transport (a small mmio or ccw section is quickly refused)
            others = [k for k in keys if "-bus" in k and transport(section.idstr) not in k]
            wrong_transport_refused = bool(others) and not any(
                Decoder(extraction, data, constant).section(k, section.start, section.end, section.version_id)
                for k in others)
        checked.append(name)
    assert len(checked) >= 3, checked
    assert wrong_transport_refused or all(transport(s.idstr) == "virtio-pci-bus" for s in read_sections(data)
                                          if "virtio" in s.idstr), checked
