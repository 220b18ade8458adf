"""Every section real QEMU binaries sent is one the model places, with its VMSD, version,
fields in order and subsections (tests/stream_coverage.py says exactly what is checked).

Streams: the shared x86_64 pair (QEMU 7.2.0 and 10.0.2, `-M pc-q35-7.2 -nodefaults -S`:
CPU state, the stream's configuration, sections registered outside qdev) and the virtio
ones in tests/data/streams (Debian's 7.2.22 and 10.0.13 builds: virtio-pci on q35,
virtio-mmio on microvm and aarch64 virt-7.2, virtio-ccw on s390x), each against the source
release it was built from (a stable update against its .0 release).
"""
from __future__ import annotations

import json
import lzma

import pytest
from conftest import ROOT, shared_dir
from stream_coverage import check_stream

from vmsd_lint.placement.wire import from_extraction

pytestmark = pytest.mark.qemu

OURS = ROOT / "tests" / "data" / "streams"
STREAMS = [  # (description, source release, target)
    (shared_dir() / "qemu" / "streams" / "x86_64-v10.0.2-pc-q35-7.2.desc.json.xz", "v10.0.2", "x86_64"),
    (shared_dir() / "qemu" / "streams" / "x86_64-v7.2.0-pc-q35-7.2.desc.json.xz", "v7.2.0", "x86_64"),
    (OURS / "x86_64-v7.2.22-pc-q35-7.2-virtio-pci.desc.json.xz", "v7.2.0", "x86_64"),
    (OURS / "x86_64-v10.0.13-pc-q35-7.2-virtio-pci.desc.json.xz", "v10.0.2", "x86_64"),
    (OURS / "x86_64-v7.2.22-microvm-virtio-mmio.desc.json.xz", "v7.2.0", "x86_64"),
    (OURS / "aarch64-v7.2.22-virt-7.2-virtio-mmio-pci.desc.json.xz", "v7.2.0", "aarch64"),
    (OURS / "s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw.desc.json.xz", "v7.2.0", "s390x"),
]


@pytest.mark.parametrize("desc, release, target", [pytest.param(*s, id=s[0].name.removesuffix(".desc.json.xz"))
                                                   for s in STREAMS])
def test_every_section_of_a_real_stream_is_placed(release_extractions, desc, release, target):
    if not desc.exists():
        pytest.skip(f"{desc} not found")
    extraction = release_extractions(release, target)
    checks = check_stream(json.loads(lzma.decompress(desc.read_bytes())), from_extraction(extraction), extraction)
    failed = {c.section: c.problems[:3] for c in checks if not c.ok}
    assert not failed, f"{len(failed)} of {len(checks)} sections: {failed}"
    assert len(checks) >= 17


def test_the_streams_carry_cpu_virtio_and_the_header():
    """What the check covers: the CPU section of each target, virtio on every transport,
    the configuration header and register_savevm_live() sections."""
    names = set()
    for desc, _, _ in STREAMS:
        if desc.exists():
            data = json.loads(lzma.decompress(desc.read_bytes()))
            names.update(d["name"].rsplit("/", 1)[-1] for d in data["devices"])
            names.update(["configuration"] if "configuration" in data else [])
    assert {"cpu", "cpu_common", "configuration", "virtio-net", "virtio-blk", "todclock", "s390-skeys"} <= names
    transports = {d.split("/")[0].split("@")[0] for desc, _, _ in STREAMS if desc.exists()
                  for d in (e["name"] for e in json.loads(lzma.decompress(desc.read_bytes()))["devices"])
                  if d.endswith("/virtio-net")}
    assert any(t.startswith("0000:") for t in transports)  # pci
    assert "virtio-mmio" in transports
    assert any(t.startswith("fe.") or t == "" for t in transports), transports  # ccw: /fe.0.0000/virtio-net
