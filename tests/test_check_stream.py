"""`check-stream` on the real x86_64 streams (QEMU 7.2.0 and 10.0.2 binaries, `-M
pc-q35-7.2 -nodefaults -S`): each loads into both releases on the real binaries, so each
pair must load here; branches of v10.0.2 that break one section the stream carries must
fail there, at the byte the stream's own description places the change."""
from __future__ import annotations

import json
import lzma
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_branch, shared_dir

from vmsd_lint.cli.main import main
from vmsd_lint.sources.stream import read_stream, read_vmdesc

pytestmark = pytest.mark.qemu

STREAMS = shared_dir() / "qemu" / "streams"
RELEASES = ("v7.2.0", "v10.0.2")


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def streams(tmp_path_factory) -> dict:
    """release -> the stream its binary saved, decompressed (QEMU writes no .xz)."""
    out = tmp_path_factory.mktemp("streams")
    found = {}
    for release in RELEASES:
        source = STREAMS / f"x86_64-{release}-pc-q35-7.2.mig.xz"
        if not source.exists():
            pytest.skip(f"{source} not found")
        found[release] = out / f"{release}.mig"
        found[release].write_bytes(lzma.decompress(source.read_bytes()))
    return found


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("check-stream-cache"))



def check(stream, revision: str, repo, cache_dir: str) -> tuple[int, dict]:
    code, output = run(["check-stream", str(stream), revision, "--repo", str(repo), "--target", "x86_64",
                        "--format", "json", "--cache-dir", cache_dir])
    assert code in (0, 1), output
    return code, json.loads(output)


def section_of(stream, idstr: str):
    data = stream.read_bytes()
    return next(s for s in read_stream(data).sections if s.idstr == idstr), read_vmdesc(data)


@pytest.mark.parametrize("saved", RELEASES)
@pytest.mark.parametrize("revision", RELEASES)
def test_each_real_stream_loads_into_both_releases(qemu_repo, streams, cache_dir, saved, revision):
    code, report = check(streams[saved], revision, qemu_repo, cache_dir)
    assert code == 0, report["failure"]
    assert report["result"] == "loads" and report["failure"] is None
    statuses = {s["idstr"]: s["status"] for s in report["sections"]}
    sections = read_stream(streams[saved].read_bytes()).sections
    assert set(statuses) == {s.idstr for s in sections}
    # every device section is decoded to its last byte; only ram's hand-written handlers are not
    decoded = {idstr for idstr, status in statuses.items() if status in ("loads", "loads-if-hooks")}
    assert {s.idstr for s in sections if s.kind == "full"} <= decoded, statuses
    # x86's cpu_post_load judges the values: the report says so, and does not call it safe
    cpu = next(s for s in report["sections"] if s["idstr"] == "cpu")
    assert cpu["status"] == "loads-if-hooks" and "cpu: post_load cpu_post_load()" in cpu["hooks"]


OURS = ROOT / "tests" / "data" / "streams"
VIRTIO = [  # (stream, source releases it loads into on the real binaries, target): tests/data/streams/README.md
    ("x86_64-v7.2.22-pc-q35-7.2-virtio-pci", RELEASES, "x86_64"),
    ("x86_64-v10.0.13-pc-q35-7.2-virtio-pci", RELEASES, "x86_64"),
    ("x86_64-v7.2.22-microvm-virtio-mmio", ("v7.2.0",), "x86_64"),
    ("aarch64-v7.2.22-virt-7.2-virtio-mmio-pci", ("v7.2.0",), "aarch64"),
    ("s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw", ("v7.2.0",), "s390x"),
]


def test_a_debian_source_tree_with_quilt_backups_loads_its_own_stream(qemu_repo, cache_dir, tmp_path):
    """`dpkg-source -x` of Debian's qemu leaves quilt's `.pc/PATCH/FILE`: each patched file
    as it was before the patch (the 7.2.22 package: 1,119 files under .pc/).  Read, the copy
    `.pc/v7.2.1.diff/hw/nvram/fw_cfg.c` defined the QOM type fw_cfg first (its path sorts
    first), but no target compiles it, so fw_cfg's section was sent by nothing and the
    7.2.22 stream (written by that very source) failed as section-removed at 'fw_cfg'."""
    tree = tmp_path / "qemu-7.2"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", qemu_repo, "archive", "v7.2.0"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    backup = tree / ".pc" / "v7.2.1.diff" / "hw" / "nvram"
    backup.mkdir(parents=True)
    shutil.copy(tree / "hw" / "nvram" / "fw_cfg.c", backup / "fw_cfg.c")
    name = "x86_64-v7.2.22-pc-q35-7.2-virtio-pci"
    path = tmp_path / f"{name}.mig"
    path.write_bytes(lzma.decompress((OURS / f"{name}.mig.xz").read_bytes()))
    code, output = run(["check-stream", str(path), str(tree), "--target", "x86_64", "--format", "json",
                        "--cache-dir", cache_dir])
    report = json.loads(output)
    assert code == 0, report["failure"]
    fw_cfg = next(s for s in report["sections"] if s["idstr"] == "fw_cfg")
    assert fw_cfg["vmsd"] == "hw/nvram/fw_cfg.c:vmstate_fw_cfg", fw_cfg


@pytest.mark.parametrize("name, releases, target", VIRTIO, ids=[v[0] for v in VIRTIO])
def test_real_virtio_streams_load(qemu_repo, cache_dir, tmp_path, name, releases, target):
    """Streams that loaded back into real binaries: no section may fail. What is not decoded
    (virtio's hand-written virtio_save(), ram) says why."""
    path = tmp_path / f"{name}.mig"
    path.write_bytes(lzma.decompress((OURS / f"{name}.mig.xz").read_bytes()))
    for release in releases:
        code, output = run(["check-stream", str(path), release, "--repo", qemu_repo, "--target", target,
                            "--format", "json", "--cache-dir", cache_dir])
        report = json.loads(output)
        assert code == 0, report["failure"]
        statuses = [s["status"] for s in report["sections"]]
        assert "fails" not in statuses and "not-reached" not in statuses
        assert all(s["note"] for s in report["sections"] if s["status"] == "not-decoded")
        assert statuses.count("loads") + statuses.count("loads-if-hooks") >= 8, report["sections"]


def test_describe_lists_every_section_with_its_size(streams):
    code, output = run(["check-stream", "--describe", "--format", "json", str(streams["v7.2.0"])])
    assert code == 0, output
    described = json.loads(output)
    data = streams["v7.2.0"].read_bytes()
    desc = read_vmdesc(data)
    assert described["machine"] == "pc-q35-7.2" and described["size"] == len(data)
    full = {(s["idstr"], s["instance_id"]): s for s in described["sections"] if s["kind"] == "full"}
    # each body's size is what QEMU's own description counts for that section's fields
    assert set(full) == {(d["name"], d["instance_id"]) for d in desc["devices"]}
    timer = full["timer", 0]
    assert timer["size"] == sum(f["size"] for f in next(d for d in desc["devices"] if d["name"] == "timer")["fields"])
    assert timer["vmsd_name"] == "timer"


def test_describe_reads_standard_input(streams):
    data = streams["v10.0.2"].read_bytes()
    result = CliRunner().invoke(main, ["check-stream", "--describe", "-"], input=data)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<stdin>: ")
    assert len(result.output.splitlines()) == len(read_stream(data).sections) + 3


RTC = "hw/rtc/mc146818rtc.c"
RTC_HEADER = "    .name = \"mc146818rtc\",\n    .version_id = 3,\n    .minimum_version_id = 1,\n"


def _field_offset(stream, idstr: str, name: str) -> int:
    """Where the source wrote field NAME of section IDSTR, from the stream's description."""
    section, desc = section_of(stream, idstr)
    entry = next(d for d in desc["devices"] if d["name"] == idstr)
    offset = section.start
    for field in entry["fields"]:
        if field["name"] == name:
            return offset
        offset += field["size"] * field.get("array_len", 1)
    raise AssertionError(f"{idstr} has no field {name}")


def test_a_field_removed_fails_at_that_field(clone, streams, cache_dir):
    make_branch(clone, "rtc-field-removed",
                {RTC: ("        VMSTATE_INT64(next_periodic_time, MC146818RtcState),\n", "")})
    code, report = check(streams["v10.0.2"], "rtc-field-removed", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["section"] == "mc146818rtc", failure
    assert failure["rule"] == "field-removed"
    assert failure["path"] == "mc146818rtc/next_periodic_time"
    assert failure["offset"] == _field_offset(streams["v10.0.2"], "mc146818rtc", "next_periodic_time")
    assert failure["stream_holds"].startswith("next_periodic_time (8 bytes)")
    assert failure["qemu_prints"] == ["Missing section footer for mc146818rtc"]
    statuses = [s["status"] for s in report["sections"]]
    assert statuses[statuses.index("fails") + 1:] == ["not-reached"] * (len(statuses) - statuses.index("fails") - 1)


def test_a_subsection_the_stream_sends_removed(clone, streams, cache_dir):
    make_branch(clone, "fw-cfg-subsection-removed",
                {"hw/nvram/fw_cfg.c": ("        &vmstate_fw_cfg_acpi_mr,\n", "")})
    code, report = check(streams["v10.0.2"], "fw-cfg-subsection-removed", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "subsection-removed", failure
    section, _ = section_of(streams["v10.0.2"], "fw_cfg")
    name = b"fw_cfg/acpi_mr"
    marker = bytes([5, len(name)]) + name
    body = streams["v10.0.2"].read_bytes()[section.start:section.end]
    assert failure["offset"] == section.start + body.index(marker)
    assert failure["path"] == "fw_cfg/acpi_mr"
    assert failure["qemu_prints"] == ["error while loading state for instance 0x0 of device 'fw_cfg'"]


def test_minimum_version_raised_above_the_streams(clone, streams, cache_dir):
    make_branch(clone, "rtc-minimum-raised",
                {RTC: (RTC_HEADER, RTC_HEADER.replace("= 3", "= 4").replace("= 1", "= 4"))})
    code, report = check(streams["v7.2.0"], "rtc-minimum-raised", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "minimum-version-raised", failure
    section, _ = section_of(streams["v7.2.0"], "mc146818rtc")
    assert failure["offset"] == section.start
    assert failure["qemu_prints"][0] == (
        f"mc146818rtc: incoming version_id {section.version_id} is too old for local minimum version_id  4")


def test_a_version_lowered_below_the_streams(clone, streams, cache_dir):
    make_branch(clone, "rtc-version-lowered", {RTC: (RTC_HEADER, RTC_HEADER.replace("= 3", "= 2"))})
    code, report = check(streams["v10.0.2"], "rtc-version-lowered", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "version-decreased", failure
    section, _ = section_of(streams["v10.0.2"], "mc146818rtc")
    assert failure["qemu_prints"] == [f"savevm: unsupported version {section.version_id} for 'mc146818rtc' v2"]


def test_a_version_raised_with_a_gated_field_still_loads(clone, streams, cache_dir):
    """Forward is what version bumps keep: the new field is not read from an older stream."""
    make_branch(clone, "rtc-version-raised", {RTC: [
        (RTC_HEADER, RTC_HEADER.replace("= 3", "= 4")),
        ("        VMSTATE_UINT64_V(next_alarm_time, MC146818RtcState, 3),\n",
         "        VMSTATE_UINT64_V(next_alarm_time, MC146818RtcState, 3),\n"
         "        VMSTATE_UINT32_V(period, MC146818RtcState, 4),\n")]})
    code, report = check(streams["v10.0.2"], "rtc-version-raised", clone, cache_dir)
    assert code == 0, report["failure"]
    rtc = next(s for s in report["sections"] if s["idstr"] == "mc146818rtc")
    assert rtc["status"] == "loads-if-hooks"


def test_wrong_invocations_are_one_line(streams, dumps):
    code, output = run(["check-stream", str(streams["v10.0.2"])])
    assert code == 2 and output.count("\n") == 1 and "needs a revision" in output, output
    code, output = run(["check-stream", str(streams["v10.0.2"]), str(dumps["v10.0.2"])])
    assert code == 2 and output.count("\n") == 1 and "source endpoint" in output, output
    code, output = run(["check-stream", "--describe", str(streams["v10.0.2"].parent)])
    assert code == 2 and output.count("\n") == 1 and "is a directory" in output, output


def test_without_a_description_counts_come_from_the_fields_before(qemu_repo, streams, cache_dir, tmp_path):
    """A stream without its JSON description (as a machine with suppress-vmdesc writes):
    a VBUFFER or VARRAY is sized by the field that holds its length, read just before
    (the configuration's `len` then `name`; PCIBUS's `nirq` then `irq_count`)."""
    data = streams["v7.2.0"].read_bytes()
    bare = tmp_path / "bare.mig"
    bare.write_bytes(data[:read_stream(data).eof + 1])
    code, report = check(bare, "v10.0.2", qemu_repo, cache_dir)
    assert code == 0, report["failure"]
    statuses = {s["idstr"]: s for s in report["sections"]}
    assert statuses["configuration"]["status"] == "loads-if-hooks"
    assert statuses["PCIBUS"]["status"] == "loads-if-hooks"
    assert any(s["status"] == "not-decoded" and "test" in s["note"] for s in report["sections"])


# -- STREAM..REV: the stream as OLD, in the usual finding format ---------------------------------

def range_check(stream, revision: str, repo, cache_dir: str, *extra: str) -> tuple[int, dict]:
    code, output = run(["--repo", str(repo), "--target", "x86_64", "--format", "json", "--cache-dir", cache_dir,
                        *extra, f"{stream}..{revision}"])
    assert code in (0, 1), output
    return code, json.loads(output)


def test_a_stream_as_old_endpoint_loads_into_both_releases(streams, qemu_repo, cache_dir):
    """Each real stream loaded into both releases on the real binaries: no finding, and the
    notes name what was not judged (hooks, ram's hand-written body), never a clean bill."""
    for name, stream in streams.items():
        for release in RELEASES:
            code, report = range_check(stream, release, qemu_repo, cache_dir)
            assert code == 0 and report["findings"] == [], (name, release, report["findings"])
            assert any("not decoded: ram" in n for n in report["notes"]), report["notes"]
            assert any("pre_load/post_load accept the values" in n and "cpu" in n for n in report["notes"])


def test_a_stream_as_old_endpoint_reports_the_first_failure(clone, streams, cache_dir):
    """The field-removed branch: one forward error at REV's VMSD, QEMU's line and where in
    the stream; the sections after it are a note (QEMU stops there), not clean."""
    make_branch(clone, "rtc-field-removed-range",
                {RTC: ("        VMSTATE_INT64(next_periodic_time, MC146818RtcState),\n", "")})
    code, report = range_check(streams["v10.0.2"], "rtc-field-removed-range", clone, cache_dir)
    assert code == 1
    [finding] = report["findings"]
    assert (finding["rule"], finding["severity"], finding["directions"]) == ("field-removed", "error", ["forward"])
    assert finding["sections"] == ["mc146818rtc"] and finding["new"]["file"] == RTC
    assert finding["runtime_error"] == "Missing section footer for mc146818rtc"
    offset = _field_offset(streams["v10.0.2"], "mc146818rtc", "next_periodic_time")
    assert f"the stream's byte {offset}: it holds next_periodic_time (8 bytes)" in finding["note"]
    assert any("not checked: QEMU stops at the first failure" in n for n in report["notes"])
