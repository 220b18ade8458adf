"""The bytes virtio writes by hand, modelled from the code (extract/saves.py), against real
streams: each virtio section of the streams Debian's QEMU 7.2.22 and 10.0.13 saved
(tests/data/streams: virtio-pci on q35 and aarch64 virt, virtio-mmio on microvm and
aarch64 virt, virtio-ccw on s390x) decodes to its last byte with the model of the release
that saved it, over its own transport -- and not over another transport's.

`virtio_save()`'s fixed part (status, isr, queue_sel, features, config, the queues), each
transport's config and queue vectors, the device's `vdc->vmsd`, `vdc->save` and
`vmstate_virtio` with its subsections are all in that model; app/streamsearch.py (what
check-stream uses) tries every possibility the model leaves to run time.
"""
from __future__ import annotations

import pytest
from conftest import ROOT

from vmsd_lint.app.streamsearch import FIRST_FREE, Search
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


def transport(idstr: str) -> str:
    """The bus a section's path says its device sits on."""
    if idstr.startswith("virtio-mmio@"):
        return "virtio-mmio-bus"
    if idstr.startswith("/fe."):
        return "virtio-ccw-bus"
    return "virtio-pci-bus"


def decodes(schema, data, key: str, section) -> bool:
    """Whether some way of reading the section's body with the VMSD KEY ends at its end."""
    search = Search(schema, data, section.end, FIRST_FREE)
    return any(way.pos == section.end for way in search.run(schema.vmsds[key], section.start,
                                                             section.version_id, key))


@pytest.mark.parametrize("stream, release, target", [pytest.param(*s, id=s[0]) for s in STREAMS])
def test_virtio_sections_decode_over_their_own_transport(release_extractions, stream, release, target):
    schema = from_extraction(release_extractions(release, target))
    data = load_stream_bytes(DATA / f"{stream}.mig.xz")
    checked, wrong_transport_refused = [], False
    for section in read_sections(data):
        name = section.idstr.rsplit("/", 1)[-1]
        if section.kind != "full" or not name.startswith("virtio"):
            continue
        keys = sorted(k for s in schema.sections.values() if s.name == name for k in s.vmsds)
        own = [k for k in keys if transport(section.idstr) in k]
        assert own, f"{section.idstr}: no variant over {transport(section.idstr)} in {keys}"
        assert any(decodes(schema, data, k, section) for k in own), \
            f"{section.idstr} ({section.end - section.start} bytes)"
        if not wrong_transport_refused and transport(section.idstr) != "virtio-pci-bus":
            # the layout depends on the transport (a small mmio or ccw section is quickly refused)
            others = [k for k in keys if "-bus" in k and transport(section.idstr) not in k]
            wrong_transport_refused = bool(others) and not any(decodes(schema, data, k, section) for k in others)
        checked.append(name)
    assert len(checked) >= 3, checked
    assert wrong_transport_refused or all(transport(s.idstr) == "virtio-pci-bus" for s in read_sections(data)
                                          if "virtio" in s.idstr), checked
