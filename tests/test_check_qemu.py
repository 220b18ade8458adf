"""`vmsd-lint OLD..NEW` on the real QEMU repository and the real binaries' dumps."""
from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from conftest import make_branch

from vmsd_lint.cli.main import main

pytestmark = pytest.mark.qemu


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def real_range(qemu_repo, tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("cache")
    code, output = run(["--format", "json", "--repo", qemu_repo, "--cache-dir", str(cache), "v7.2.0..v10.0.2"])
    assert code == 1, output
    return json.loads(output)


def test_a_revision_against_itself_reports_nothing(qemu_repo, tmp_path) -> None:
    code, output = run(["--format", "json", "--repo", qemu_repo, "--cache-dir", str(tmp_path), "v10.0.2..v10.0.2"])
    assert code == 0
    report = json.loads(output)
    assert report["findings"] == []
    assert report["diagnostics"], "the unresolved constructs must still be listed"
    assert any("could not be resolved" in note for note in report["notes"])


def test_real_range_finds_known_breaks_and_stays_quiet_on_known_compatible_changes(real_range) -> None:
    by_path = {(f["rule"], f["path"]): f for f in real_range["findings"]}
    # GlobalState.runstate[100] became runstate[32] + 2 flags + unused[66]: same 100 bytes
    assert ("field-relayout", "globalstate/runstate") in by_path
    assert not any(f["vmsd"] == "globalstate" and f["severity"] != "info" for f in real_range["findings"])
    # hpet's num_timers became num_timers_save at the same place with the same layout
    assert by_path[("field-renamed", "hpet/num_timers_save")]["severity"] == "info"
    # aspeed i2c's register file grew from 22 to 28 registers
    grown = by_path[("field-size-changed", "aspeed.i2c/regs")]
    # ... on Aspeed boards only, which QEMU promises nothing for: info, keeping what it breaks
    assert grown["severity"] == "info" and grown["machines"]["board_only"]
    assert grown["downgrade"]["directions"] == ["backward", "forward"]
    assert grown["old"]["file"] == grown["new"]["file"] == "hw/i2c/aspeed_i2c.c"


def test_arm_named_models_changed_between_the_releases(real_range) -> None:
    """Arm's named models (issue 15) as the releases define them: 10.0 gives cortex-a53
    REVIDR 0x100 (a constant register of its list too: 7.2's value is refused on load),
    and the PMU to cortex-a8/a9, which only boards QEMU promises nothing for can run;
    9.0's new ARM_FEATURE_BACKCOMPAT_CNTFRQ keeps the old models' timer: a note."""
    models = {f["message"].split()[2]: f for f in real_range["findings"] if f["rule"] == "cpu-model-changed"
              and f["target"] == "arm"}
    assert sorted(models) == ["cortex-a53", "cortex-a8", "cortex-a9", "max"]
    a53 = models["cortex-a53"]
    assert a53["message"].endswith("changed: revidr 0x0 -> 0x100") and a53["severity"] == "error"
    assert a53["new"]["file"] == "target/arm/cpu64.c" and "virt-7.2" in a53["machines"]["breaks"]
    for board in ("cortex-a8", "cortex-a9"):
        assert models[board]["message"].endswith("feature ARM_FEATURE_PMU added")
        assert models[board]["severity"] == "info" and models[board]["machines"]["board_only"]
    [value] = [f for f in real_range["findings"] if f["rule"] == "cpu-register-value-changed"
               and "cortex-a53" in f["message"]]
    assert "REVIDR_EL1 0x0 -> 0x100" in value["message"]
    assert any("ARM_FEATURE_BACKCOMPAT_CNTFRQ is a feature flag OLD does not define" in n
               for n in real_range["notes"])
    # the other targets' models (diff/othermodels.py): compared as text, never a silent green
    other = [f for f in real_range["findings"] if f["rule"] == "cpu-model-changed"
             and f["target"] not in ("arm", "i386")]
    assert {"ppc", "s390x", "riscv"} <= {f["target"] for f in other}
    assert all(f["old"]["file"].startswith(f"target/{f['target']}/") for f in other)
    # ... and a note for each directory whose idiom is not understood
    assert [n.split()[3] for n in real_range["notes"] if n.startswith("CPU models of target/")] == [
        "target/hppa:", "target/microblaze:", "target/xtensa:"]


def test_every_finding_is_complete_and_sorted(real_range) -> None:
    findings = real_range["findings"]
    assert findings
    for finding in findings:
        assert finding["message"] and finding["fingerprint"]
        assert finding["old"] or finding["new"]
        if finding["severity"] != "info":
            assert finding["directions"]
            # what QEMU prints for a changed default depends on what the property does
            # (rules/property-default-changed.toml lists the candidates): none is claimed
            # and a CPU model's definition is not on the wire: the guest sees another CPU
            assert finding["runtime_error"] or finding["rule"] in ("property-default-changed",
                                                                   "cpu-model-changed"), finding
        else:
            assert finding["directions"] == [] or finding["downgrade"] is None
    fingerprints = [f["fingerprint"] for f in findings]
    assert len(set(fingerprints)) == len(fingerprints)


def test_each_finding_lists_the_targets_holding_its_state(real_range) -> None:
    """Without --target every target is modelled (extract/build): a finding lists the
    targets whose binaries send its sections."""
    by_path = {(f["rule"], f["path"]): f for f in real_range["findings"]}
    aspeed = by_path[("field-size-changed", "aspeed.i2c/regs")]["targets"]
    assert aspeed == ["aarch64", "arm"]  # an Arm board's device
    hpet = by_path[("field-renamed", "hpet/num_timers_save")]["targets"]
    assert "x86_64" in hpet and "aarch64" not in hpet
    cpu = [f for f in real_range["findings"] if f["sections"] == ["cpu"] and f["target"] == "arm"]
    assert cpu and all(set(f["targets"]) <= {"arm", "aarch64"} for f in cpu)
    assert all(isinstance(f["targets"], list) for f in real_range["findings"])


def test_a_target_on_one_side_only_is_a_note_not_findings(real_range) -> None:
    # cris and nios2 were removed after 7.2: their CPUs' sections are one note each
    notes = [n for n in real_range["notes"] if n.startswith("target ")]
    assert [n.split()[1] for n in notes] == ["cris", "nios2"]
    assert all("exists in OLD only" in n for n in notes)
    assert not any(f["target"] in ("cris", "nios2") for f in real_range["findings"])


def test_an_unknown_target_is_bad_input_naming_the_known_ones(qemu_repo, tmp_path) -> None:
    code, output = run(["--repo", qemu_repo, "--cache-dir", str(tmp_path), "--target", "nosucharch",
                        "v10.0.2..v10.0.2"])
    assert code == 2
    assert "unknown target 'nosucharch' (known: aarch64, alpha, arm," in output and "x86_64" in output


def test_dump_files_are_endpoints(dumps) -> None:
    _code, output = run(["--format", "json", f"{dumps['v7.2.0']}..{dumps['v10.0.2']}"])
    report = json.loads(output)
    assert report["old"]["kind"] == report["new"]["kind"] == "dump"
    rules = {(f["rule"], f["path"]) for f in report["findings"]}
    assert ("field-renamed", "hpet/num_timers_save") in rules
    assert any("before 8.0" in note for note in report["notes"])
    same_code, same_output = run(["--format", "json", f"{dumps['v10.0.2']}..{dumps['v10.0.2']}"])
    assert same_code == 0 and json.loads(same_output)["findings"] == []


def test_a_dump_mixes_with_a_revision(dumps, qemu_repo, tmp_path) -> None:
    _code, output = run(["--format", "json", "--target", "x86_64", "--repo", qemu_repo, "--cache-dir", str(tmp_path),
                        f"{dumps['v10.0.2']}..v10.0.2"])
    report = json.loads(output)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    # the binary and its own source agree, apart from what the extractor cannot see
    assert len(errors) <= 5, [(f["rule"], f["path"]) for f in errors]


# virtio-vga and its siblings are registered by virtio_pci_types_register() from a
# VirtioPCIDeviceTypeInfo; their VMSD is installed by the abstract virtio-vga-base.
VIRTIO_VGA_FIELD = {"hw/display/virtio-vga.c": (
    "vmstate_vga_common, VGACommonState),",
    "vmstate_vga_common, VGACommonState),\n        VMSTATE_UINT8(vga.sr_index, VirtIOVGABase),")}


def test_a_field_added_to_types_registered_by_virtio_pci_types_register(qemu_repo, tmp_path) -> None:
    clone = tmp_path / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    make_branch(clone, "virtio-vga-field", VIRTIO_VGA_FIELD)
    code, output = run(["--format", "json", "--repo", str(clone), "--no-cache", "v10.0.2..virtio-vga-field"])
    assert code == 1, output
    [finding] = json.loads(output)["findings"]
    assert (finding["rule"], finding["vmsd"], finding["new"]) == (
        "field-added", "virtio-vga", {"file": "hw/display/virtio-vga.c", "line": 95})
    assert finding["types"] == ["vhost-user-vga", "virtio-vga", "virtio-vga-gl", "virtio-vga-rutabaga"]


# hw/block/m25p80.c registers one type per flash part, in a loop over known_devices[]
# with a TypeInfo declared in the loop body (extract/registrars.py); vmstate_m25p80 is
# installed by m25p80_class_init, which every part type runs.
M25P80_FIELD_REMOVED = {"hw/block/m25p80.c": ("        VMSTATE_UINT32(cur_addr, Flash),\n", "")}


def test_a_field_removed_from_types_registered_in_a_loop(qemu_repo, tmp_path) -> None:
    clone = tmp_path / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    make_branch(clone, "m25p80-field", M25P80_FIELD_REMOVED)
    code, output = run(["--format", "json", "--repo", str(clone), "--no-cache", "--target", "aarch64",
                        "v10.0.2..m25p80-field"])
    assert code == 0, output  # an SSI flash: on boards only (aspeed, ...), so info
    [finding] = json.loads(output)["findings"]
    assert (finding["rule"], finding["vmsd"], finding["path"]) == ("field-removed", "m25p80", "m25p80/cur_addr")
    assert finding["machines"]["board_only"] and finding["downgrade"]["severity"] == "error"
    assert finding["sections"] == ["m25p80"]
    assert {"n25q128", "mx25l25635e", "s25fl512s", "w25q256", "is25lp256"} <= set(finding["types"])
    assert len(finding["types"]) >= 130, finding["types"]


def test_real_range_names_a_changed_constant_as_the_cause_only_where_the_field_line_did_not_change(
        real_range, qemu_repo) -> None:
    by_path = {(f["rule"], f["path"]): f for f in real_range["findings"]}
    header = "include/hw/i2c/aspeed_i2c.h"

    def define_line(rev: str) -> int:
        text = subprocess.run(["git", "-C", qemu_repo, "show", f"{rev}:{header}"], capture_output=True, text=True,
                              check=True).stdout
        return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("#define ASPEED_I2C_NEW_NUM_REG "))
    # VMSTATE_UINT32_ARRAY(regs, AspeedI2CBus, ASPEED_I2C_NEW_NUM_REG) on both sides; 22 -> 28
    assert by_path["field-size-changed", "aspeed.i2c/regs"]["cause"] == {
        "symbol": "ASPEED_I2C_NEW_NUM_REG", "old": {"file": header, "line": define_line("v7.2.0")},
        "new": {"file": header, "line": define_line("v10.0.2")}}
    # hppa's VMSTATE_UINTTR_ARRAY(gr, ...) became VMSTATE_UINT64_ARRAY(gr, ...): its own line changed
    assert by_path["field-size-changed", "env/gr"]["cause"] is None
