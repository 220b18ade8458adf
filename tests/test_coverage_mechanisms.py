"""Each way QEMU puts VMSD bytes on the wire, as a one-line edit of real v10.0.2 code made
in a test branch: the check reports it with the right rule, directions and section (a
green result means checked); edits that change nothing on the wire stay quiet.

Mechanisms: a CPU's `SysemuCPUOps.legacy_vmsd` (Arm, x86), virtio (the device's
`vdc->vmsd`, the bytes `virtio_save()` writes by hand), VMSDs saved by hand
(`vmstate_save_state()` from a VMStateInfo put, a SCSIBusInfo save_request, a VFIO
ops table), `register_savevm_live()` versions, the stream's configuration header, VMSDs
a macro declares (`SPAPR_CAP_MIG_STATE`), a VMSD copied and named at run time (eepro100),
a qdev section's legacy alias instance id (`qdev_set_legacy_instance_id`),
and a VMSD no section sends (reported without sections, at most a warning).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_branch

pytestmark = pytest.mark.qemu

ARM_FIELD = ("            .info = &vmstate_powered_off,\n            .flags = VMS_SINGLE,\n"
             "            .offset = 0,\n        },\n")
X86_SUB = ("const VMStateDescription vmstate_x86_cpu = {",
           "static bool test_sub_needed(void *opaque)\n{\n    return true;\n}\n\n"
           "static const VMStateDescription vmstate_test_sub = {\n    .name = \"cpu/test_sub\",\n"
           "    .version_id = 1,\n    .minimum_version_id = 1,\n    .needed = test_sub_needed,\n"
           "    .fields = (const VMStateField[]) {\n        VMSTATE_UINT64(env.fred_rsp0, X86CPU),\n"
           "        VMSTATE_END_OF_LIST()\n    }\n};\n\n"
           "const VMStateDescription vmstate_x86_cpu = {")

FIELD_ADDED_CONDITIONAL = ["backward", "forward"]

# name: (edits, rule, severity, directions, a section it must name, target or None)
CASES = {
    "arm-cpu-field": ({"target/arm/machine.c": (ARM_FIELD, ARM_FIELD + "        VMSTATE_UINT32(env.regs[0], ARMCPU),\n")},
                      "field-added", "error", ["backward", "forward"], "cpu", "arm"),
    "x86-cpu-subsection": ({"target/i386/machine.c": [X86_SUB, ("        &vmstate_msr_hwcr,\n",
                                                                 "        &vmstate_msr_hwcr,\n        &vmstate_test_sub,\n")]},
                           "subsection-added", "warning", ["backward"], "cpu", "i386"),
    "virtio-net-device-field": ({"hw/net/virtio-net.c": ("        VMSTATE_UINT8(promisc, VirtIONet),\n",
                                                         "        VMSTATE_UINT8(promisc, VirtIONet),\n"
                                                         "        VMSTATE_UINT8(promisc, VirtIONet),\n")},
                                "field-added", "error", ["backward", "forward"], "virtio-net", None),
    "virtio-save-by-hand": ({"hw/virtio/virtio.c": ("    qemu_put_8s(f, &vdev->isr);\n",
                                                    "    qemu_put_8s(f, &vdev->isr);\n    qemu_put_8s(f, &vdev->status);\n")},
                            "field-added", "error", ["backward", "forward"], "virtio-blk", None),
    "ram-version": ({"migration/ram.c": [('register_savevm_live("ram", 0, 4,', 'register_savevm_live("ram", 0, 5,'),
                                         ("    if (version_id != 4) {", "    if (version_id != 5) {")]},
                    "version-bumped", "error", ["backward"], "ram", None),
    "configuration-header": ({"migration/savevm.c": ("        VMSTATE_UINT32(len, SaveState),\n",
                                                     "        VMSTATE_UINT32(len, SaveState),\n"
                                                     "        VMSTATE_UINT32(len, SaveState),\n")},
                             "field-added", "error", ["backward", "forward"], "configuration", None),
    "spapr-caps-macro": ({"hw/ppc/spapr_caps.c": ("        VMSTATE_UINT8(mig.caps[cap],",
                                                  "        VMSTATE_UINT16(mig.caps[cap],")},
                         "field-size-changed", "error", ["backward", "forward"], "spapr", None),
    "eepro100-run-time-copy": ({"hw/net/eepro100.c": ("        VMSTATE_UNUSED(32),\n", "        VMSTATE_UNUSED(36),\n")},
                               "field-size-changed", "error", ["backward", "forward"],
                               "<qemu_get_queue(s->nic)->model>", None),
    "virtio-gpu-scanouts-by-hand": ({"hw/display/virtio-gpu.c": ("        VMSTATE_INT32(parent_obj.enable, struct VirtIOGPU),\n",
                                                                 "        VMSTATE_INT32(parent_obj.enable, struct VirtIOGPU),\n"
                                                                 "        VMSTATE_INT32(parent_obj.enable, struct VirtIOGPU),\n")},
                                    "field-added", "error", ["backward", "forward"], "virtio-gpu", None),
    "vfio-config-by-hand": ({"hw/vfio/pci.c": ("        VMSTATE_PCI_DEVICE(pdev, VFIOPCIDevice),\n",
                                               "        VMSTATE_PCI_DEVICE(pdev, VFIOPCIDevice),\n"
                                               "        VMSTATE_UINT32(intx.pin, VFIOPCIDevice),\n")},
                            "field-added", "error", ["backward", "forward"], "<id>", None),
    "legacy-instance-id": ({"hw/rtc/mc146818rtc.c": ("    qdev_set_legacy_instance_id(dev, s->io_base, 3);",
                                                      "    qdev_set_legacy_instance_id(dev, s->io_base, 4);")},
                           "instance-id-changed", "warning", ["forward"], "mc146818rtc", None),
    "spapr-vscsi-request-by-hand": ({"hw/scsi/spapr_vscsi.c": ("        VMSTATE_UINT32(qtag, vscsi_req),\n",
                                                               "        VMSTATE_UINT32(qtag, vscsi_req),\n"
                                                               "        VMSTATE_UINT32(qtag, vscsi_req),\n")},
                                    "field-added", "error", ["backward", "forward"], "scsi-disk", None),
    "guarded-helper-by-hand": ({"migration/ram.c": [
        ("static int ram_save_complete(QEMUFile *f, void *opaque)\n{",
         "static void ram_save_extra(QEMUFile *f)\n{\n    if (!migrate_mapped_ram()) {\n        return;\n    }\n"
         "    qemu_put_be64(f, 1);\n}\n\nstatic int ram_save_complete(QEMUFile *f, void *opaque)\n{"),
        ("        ret = rdma_registration_start(f, RAM_CONTROL_FINISH);\n",
         "        ram_save_extra(f);\n        ret = rdma_registration_start(f, RAM_CONTROL_FINISH);\n")]},
                               "field-added-conditional", "warning", FIELD_ADDED_CONDITIONAL, "ram", None),
}

SCSI_LOOP = """    SCSIRequest *req;

    QTAILQ_FOREACH(req, &s->requests, next) {
        qemu_put_sbyte(f, req->retry ? 1 : 2);
        qemu_put_buffer(f, req->cmd.buf, sizeof(req->cmd.buf));
        qemu_put_be32s(f, &req->tag);
        qemu_put_be32s(f, &req->lun);
        if (req->bus->info->save_request) {
            req->bus->info->save_request(f, req);
        }
        if (req->ops->save_request) {
            req->ops->save_request(f, req);
        }
    }
"""
# name: edits that move code that writes by hand without changing its bytes
QUIET = {
    # the loops of ram_save_iterate() and later move down three lines
    "ram-lines-moved": {"migration/ram.c": ("static int ram_save_iterate(QEMUFile *f, void *opaque)\n",
                                            "\n\n\nstatic int ram_save_iterate(QEMUFile *f, void *opaque)\n")},
    # put_scsi_req()'s body back inline in a loop, as QEMU 7.2 had it
    "scsi-requests-inline": {"hw/scsi/scsi-bus.c": ("    scsi_device_for_each_req_sync(s, put_scsi_req, f);\n",
                                                    SCSI_LOOP)},
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vmsd-lint-cache")


@pytest.fixture(scope="module")
def check(qemu_repo, cache_dir):
    def run_check(branch: str, edits: dict) -> tuple[int, dict]:
        make_branch(Path(qemu_repo), branch, edits)
        proc = run("--repo", qemu_repo, "--cache-dir", str(cache_dir), "--format", "json",
                   f"v10.0.2..{branch}")
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr
        return proc.returncode, json.loads(proc.stdout)
    return run_check


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_mechanism_is_checked(check, case):
    edits, rule, severity, directions, section, target = CASES[case]
    status, report = check(f"coverage-{case}", edits)
    found = [f for f in report["findings"] if f["rule"] == rule and section in f["sections"]]
    assert found, [(f["rule"], f["sections"][:3], f["vmsd"]) for f in report["findings"]]
    assert found[0]["severity"] == severity and found[0]["directions"] == directions, found[0]
    assert found[0]["target"] == target
    assert status == (1 if severity == "error" else 0)


@pytest.mark.parametrize("case", sorted(QUIET))
def test_hand_written_bytes_moved_in_the_code_are_quiet(check, case):
    """Loops are named by their place among a function's loops, not by line, and a helper
    is compared by the bytes it writes, not its name: moving code changes nothing."""
    status, report = check(f"coverage-quiet-{case}", QUIET[case])
    assert status == 0 and report["findings"] == [], [(f["rule"], f["message"]) for f in report["findings"]]


def test_ram_version_bump_breaks_both_ways(check):
    """ram_load() accepts only its own version: NEW's stream is too new for OLD, and OLD's
    too old for NEW."""
    _, report = check("coverage-ram-version", CASES["ram-version"][0])
    rules = {(f["rule"], tuple(f["directions"])) for f in report["findings"] if "ram" in f["sections"]}
    assert rules == {("version-bumped", ("backward",)), ("minimum-version-raised", ("forward",))}


def test_swapped_dc_and_vdc_vmsd_lines_are_quiet(check):
    """`dc->vmsd` (the section) and `vdc->vmsd` (the virtio device's state) are different
    class members: their order in class_init changes nothing."""
    status, report = check("coverage-virtio-snd-swap", {"hw/audio/virtio-snd.c": (
        "    dc->vmsd = &vmstate_virtio_snd;\n    vdc->vmsd = &vmstate_virtio_snd_device;\n",
        "    vdc->vmsd = &vmstate_virtio_snd_device;\n    dc->vmsd = &vmstate_virtio_snd;\n")})
    assert status == 0 and report["findings"] == [], report["findings"]


def test_a_vmsd_no_section_sends_is_still_reported(check):
    """icp/server is registered by nothing in v10.0.2 (only unregistered): a change to it is
    reported, without sections, as a warning that says why."""
    status, report = check("coverage-unreached", {"hw/intc/xics.c": (
        "        VMSTATE_UINT8(mfrr, ICPState),\n",
        "        VMSTATE_UINT8(mfrr, ICPState),\n        VMSTATE_UINT8(mfrr, ICPState),\n")})
    found = [f for f in report["findings"] if f["vmsd"] == "icp/server"]
    assert found and all(f["sections"] == [] and f["severity"] == "warning" and f["note"] for f in found), found
    assert status == 0


def test_cpu_sections_of_several_targets_are_never_compared(check):
    """Every target names its CPU section "cpu": a change to Arm's is Arm's only."""
    _, report = check("coverage-arm-cpu-field", CASES["arm-cpu-field"][0])
    cpu = [f for f in report["findings"] if "cpu" in f["sections"]]
    assert cpu and {f["target"] for f in cpu} == {"arm"}, cpu
