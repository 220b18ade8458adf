"""`check-stream` through virtio's hand-written bytes (app/streamsearch.py): `virtio_save()`
writes the transport's config, the queues, the device's `vdc->vmsd` and `vmstate_virtio`
with no JSON description, so the model decodes them.  Every virtio section of the real
streams in tests/data/streams (virtio-pci, virtio-mmio, virtio-ccw; QEMU 7.2.22 and
10.0.13) decodes with the model of the release that loads it; branches of v10.0.2 that
break what virtio writes fail at the virtio section, with the catalogue type and QEMU's
message, at the byte the stream holds the change."""
from __future__ import annotations

import json
import lzma

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_branch

from vmsd_lint.cli.main import main
from vmsd_lint.sources.stream import read_stream

pytestmark = pytest.mark.qemu

DATA = ROOT / "tests" / "data" / "streams"
Q35 = "x86_64-v10.0.13-pc-q35-7.2-virtio-pci"  # loads into the real v10.0.2 and 7.2 binaries
NET = "0000:00:01.0/virtio-net"
STREAMS = [  # (stream, release that loads it, target)
    ("x86_64-v7.2.22-pc-q35-7.2-virtio-pci", "v7.2.0", "x86_64"),
    ("x86_64-v7.2.22-pc-q35-7.2-virtio-pci", "v10.0.2", "x86_64"),
    (Q35, "v10.0.2", "x86_64"),
    ("x86_64-v7.2.22-microvm-virtio-mmio", "v7.2.0", "x86_64"),
    ("aarch64-v7.2.22-virt-7.2-virtio-mmio-pci", "v7.2.0", "aarch64"),
    ("s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw", "v7.2.0", "s390x"),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("virtio-stream-cache"))


def stream(tmp_path, name: str):
    path = tmp_path / f"{name}.mig"
    path.write_bytes(lzma.decompress((DATA / f"{name}.mig.xz").read_bytes()))
    return path


def check(path, revision: str, repo, cache_dir: str, target: str = "x86_64") -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check-stream", str(path), revision, "--repo", str(repo), "--target", target,
                                       "--format", "json", "--cache-dir", cache_dir], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("name, release, target", STREAMS, ids=[f"{s[0]}-{s[1]}" for s in STREAMS])
def test_every_virtio_section_is_decoded(qemu_repo, cache_dir, tmp_path, name, release, target):
    code, report = check(stream(tmp_path, name), release, qemu_repo, cache_dir, target)
    assert code == 0, report["failure"]
    virtio = [s for s in report["sections"] if "virtio" in s["idstr"].rsplit("/", 1)[-1]]
    assert len(virtio) >= 3
    for section in virtio:
        assert section["status"] == "loads-if-hooks", section
        assert "bytes written by hand" in section["note"], section
        # the load counterpart judges values (features, queue indices): never called safe
        assert any("load counterpart" in hook for hook in section["hooks"]), section
    # what is not decoded (ram's handlers, s390-skeys' page loop) says why
    assert all(s["note"] for s in report["sections"] if s["status"] == "not-decoded")


def _subsection_offset(path, idstr: str, name: bytes) -> int:
    data = path.read_bytes()
    section = next(s for s in read_stream(data).sections if s.idstr == idstr)
    return section.start + data[section.start:section.end].index(bytes([5, len(name)]) + name)


def test_a_virtio_subsection_removed(clone, cache_dir, tmp_path):
    make_branch(clone, "virtio-64bit-removed",
                {"hw/virtio/virtio.c": ("        &vmstate_virtio_64bit_features,\n", "")})
    path = stream(tmp_path, Q35)
    code, report = check(path, "virtio-64bit-removed", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["section"] == NET and failure["rule"] == "subsection-removed", failure
    assert failure["offset"] == _subsection_offset(path, NET, b"virtio/64bit_features")
    assert failure["path"].endswith("/virtio/64bit_features")
    assert failure["qemu_prints"] == [f"error while loading state for instance 0x0 of device '{NET}'"]


def test_a_virtio_subsection_minimum_raised(clone, cache_dir, tmp_path):
    header = "    .name = \"virtio/virtqueues\",\n    .version_id = 1,\n    .minimum_version_id = 1,\n"
    make_branch(clone, "virtio-virtqueues-minimum",
                {"hw/virtio/virtio.c": (header, header.replace("= 1", "= 2"))})
    path = stream(tmp_path, Q35)
    code, report = check(path, "virtio-virtqueues-minimum", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["section"] == NET and failure["rule"] == "minimum-version-raised", failure
    name = b"virtio/virtqueues"
    assert failure["offset"] == _subsection_offset(path, NET, name) + 2 + len(name) + 4
    assert failure["qemu_prints"][0] == \
        "virtio/virtqueues: incoming version_id 1 is too old for local minimum version_id  2"


def test_a_field_added_to_the_device_vmsd_is_never_called_loading(clone, cache_dir, tmp_path):
    """`vdc->vmsd` (vmstate_virtio_net_device) is saved with no description: one byte more
    in REV's model, and no way of reading the bytes with usual values ends where the
    source's did; it fails, or, where unusual values would let them fit, is not judged."""
    promisc = "        VMSTATE_UINT8(promisc, VirtIONet),\n"
    make_branch(clone, "virtio-net-field-added", {"hw/net/virtio-net.c": (promisc, promisc * 2)})
    code, report = check(stream(tmp_path, Q35), "virtio-net-field-added", clone, cache_dir)
    net = next(s for s in report["sections"] if s["idstr"] == NET)
    assert net["status"] in ("fails", "not-decoded"), net
    if net["status"] == "fails":
        assert code == 1 and net["failure"]["rule"] == "field-added"
        assert net["failure"]["qemu_prints"] == [f"Missing section footer for {NET}"]
    else:
        assert "not judged" in net["note"], net


def test_damaged_virtio_sections_end_in_a_verdict(qemu_repo, cache_dir, tmp_path):
    """Bytes flipped or cut inside the hand-written virtio bytes: a verdict or one line
    (exit 2), never a traceback, and in bounded time (each search has a budget of reads)."""
    path = stream(tmp_path, Q35)
    data = path.read_bytes()
    sections = [s for s in read_stream(data).sections if "virtio" in s.idstr]
    damaged = tmp_path / "damaged.mig"
    for i, section in enumerate(sections[:4]):
        body = bytearray(data)
        for offset in range(section.start + 40 * i, section.end, 997):
            body[offset] ^= 0xA5
        damaged.write_bytes(bytes(body))
        result = CliRunner().invoke(main, ["check-stream", str(damaged), "v10.0.2", "--repo", qemu_repo,
                                           "--target", "x86_64", "--format", "json", "--cache-dir", cache_dir])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1, 2), result.output
        if result.exit_code == 2:
            assert result.output.count("\n") == 1, result.output
            continue
        report = json.loads(result.output)
        hit = next(s for s in report["sections"] if s["idstr"] == section.idstr)
        assert hit["status"] in ("fails", "not-decoded", "loads-if-hooks", "not-reached"), hit
