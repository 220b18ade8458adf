"""Arm coprocessor registers (extract/cpregs.py): what a tree defines, and the list a CPU
model migrates, measured against a real QEMU 7.2.22 stream (-machine virt-7.2 -cpu
cortex-a57, TCG)."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import machine_type

from vmsd_lint.extract import cpregs
from vmsd_lint.extract.cpuoptions import machine_cpu_options
from vmsd_lint.sources.stream import load_stream_bytes, read_stream, read_vmdesc
from vmsd_lint.sources.tree import directory_tree, git_revision_tree

STREAM = Path(__file__).parent / "data/streams/aarch64-v7.2.22-virt-7.2-virtio-mmio-pci.mig.xz"


def virt_options(tree, name: str = "virt-7.2"):
    """The CPU options machine type NAME of TREE gives, read as `check` reads them
    (extract/cpuoptions.py): hw/arm/virt.c turns has_el3 and has_el2 off, and TCG."""
    return machine_cpu_options(tree, machine_type(tree, name))


def stream_cpreg_values(path: Path) -> dict[int, int]:
    """index -> value of the stream's cpu section (cpreg_vmstate_indexes and _values)."""
    data = load_stream_bytes(path)
    stream = read_stream(data)
    section = next(s for s in stream.sections if s.idstr == "cpu")
    device = next(d for d in read_vmdesc(data, stream)["devices"] if d["name"] == "cpu")
    pos, arrays = section.start, {}
    for f in device["fields"]:
        size = f.get("array_len", 1) * f["size"]
        if f["name"] in ("cpreg_vmstate_indexes", "cpreg_vmstate_values"):
            arrays[f["name"]] = struct.unpack(f">{f['array_len']}Q", data[pos:pos + size])
        pos += size
    return dict(zip(arrays["cpreg_vmstate_indexes"], arrays["cpreg_vmstate_values"]))


def stream_cpreg_indexes(path: Path) -> tuple[int, list[int]]:
    """cpreg_vmstate_array_len and cpreg_vmstate_indexes of the stream's cpu section, at
    the offsets its vmdesc gives (the fields before them have fixed sizes)."""
    data = load_stream_bytes(path)
    stream = read_stream(data)
    section = next(s for s in stream.sections if s.idstr == "cpu")
    device = next(d for d in read_vmdesc(data, stream)["devices"] if d["name"] == "cpu")
    pos, length, indexes = section.start, None, None
    for f in device["fields"]:
        size = f.get("array_len", 1) * f["size"]
        if f["name"] == "cpreg_vmstate_array_len":
            length = struct.unpack(">i", data[pos:pos + 4])[0]  # "le": at most, not little-endian
        elif f["name"] == "cpreg_vmstate_indexes":
            indexes = list(struct.unpack(f">{f['array_len']}Q", data[pos:pos + size]))
        pos += size
    return length, indexes


@pytest.fixture(scope="module")
def facts72(qemu_repo):
    return cpregs.extract(git_revision_tree(qemu_repo, "v7.2.0"))


@pytest.fixture(scope="module")
def facts10(qemu_repo):
    return cpregs.extract(git_revision_tree(qemu_repo, "v10.0.2"))


@pytest.fixture(scope="module")
def virt72(qemu_repo):
    return virt_options(git_revision_tree(qemu_repo, "v7.2.0")).values


@pytest.fixture(scope="module")
def virt10(qemu_repo):
    return virt_options(git_revision_tree(qemu_repo, "v10.0.2")).values


def test_virt_cpu_options_read_from_the_machine_and_the_cpu(qemu_repo):
    """virt-7.2 of each release: machvirt_init's `if (!vms->secure)` and `if (!vms->virt &&
    ...)` hold (virt_instance_init: secure and virt false), `vmc->no_pmu` is set only by
    virt_machine_2_6_options, not in 7.2's chain; the CPU's defaults come from its
    DEFINE_PROP_BOOLs and the pmu setter; 10.0.2's virt-7.2 gets hw_compat_9_2's
    backcompat-cntfrq."""
    old = virt_options(git_revision_tree(qemu_repo, "v7.2.0"))
    new = virt_options(git_revision_tree(qemu_repo, "v10.0.2"))
    for opts in (old, new):
        assert opts.values["cpu->has_el3"] is False and opts.values["cpu->has_el2"] is False
        assert opts.values["cpu->has_pmu"] is True and opts.values["cpu->has_vfp"] is True
        assert opts.values["tcg_enabled()"] is True and not opts.problems
    assert [s.split(" ")[0] for s in old.settings] == ["has_el3=false", "has_el2=false"]
    assert old.settings[0].startswith("has_el3=false (hw/arm/virt.c:")
    assert new.values["cpu->backcompat_cntfrq"] is True and "cpu->backcompat_cntfrq" not in old.values
    # virt-2.6 is the newest machine type whose options function sets no_pmu
    assert virt_options(git_revision_tree(qemu_repo, "v7.2.0"), "virt-2.6").values["cpu->has_pmu"] is False
    assert virt_options(git_revision_tree(qemu_repo, "v7.2.0"), "virt-2.7").values["cpu->has_pmu"] is True


def test_registers_found_in_each_release(facts72, facts10):
    assert len(facts72.regs) == 645
    assert len(facts10.regs) == 790
    sctlr = [r for r in facts72.regs if r.name == "SCTLR"]
    assert len(sctlr) == 1 and sctlr[0].where == "target/arm/helper.c:8303"
    assert sctlr[0].fields["opc0"] == 3 and sctlr[0].fields["crn"] == 1 and sctlr[0].fields["state"] == 2


def test_cortex_a57_init_function(facts72):
    model = cpregs.cpu_model(facts72, "cortex-a57")
    assert model.initfn == "aarch64_a57_initfn"
    assert {"ARM_FEATURE_V8", "ARM_FEATURE_AARCH64", "ARM_FEATURE_EL3", "ARM_FEATURE_PMU"} <= model.features
    assert model.values["midr"] == 0x411fd070
    assert model.values["isar.id_aa64pfr0"] == 0x00002222
    assert model.values["ctr"] == 0x8444c004
    assert not model.unknown and not model.undecided


def test_max_starts_from_cortex_a57_and_says_what_it_cannot_know(facts72, virt72):
    model = cpregs.cpu_model(facts72, "max", virt72)
    assert model.initfn == "aarch64_max_initfn"
    assert "ARM_FEATURE_V8" in model.features  # from aarch64_a57_initfn(obj), under TCG
    # its ID registers are built in locals (t = FIELD_DP64(t, ...)): not known, and listed
    assert "isar.id_aa64isar0" not in model.values
    assert any(u.endswith("cpu->isar.id_aa64isar0") for u in model.unknown)
    # so what depends on them is undecided, listed, and not counted: no number for max
    est = cpregs.estimate(facts72, "max", virt72)
    assert len(est.undecided) == 25 and est.id_changes


def test_virt_72_clears_el2_el3_and_realize_implies_v7(facts72, virt72):
    model = cpregs.cpu_model(facts72, "cortex-a57")
    features, undecided = cpregs.realize_features(facts72, model, virt72)
    assert "ARM_FEATURE_EL3" not in features and "ARM_FEATURE_EL2" not in features
    assert {"ARM_FEATURE_V7", "ARM_FEATURE_V7VE", "ARM_FEATURE_LPAE"} <= features
    assert not undecided


def test_cortex_a57_v720_estimate_against_the_real_stream(facts72, virt72):
    length, real = stream_cpreg_indexes(STREAM)
    assert length == len(real) == 258
    est = cpregs.estimate(facts72, "cortex-a57", virt72)
    # the same registers, in the same (sorted) order: 64 of them are defined in loops
    # (breakpoints and watchpoints from ID_AA64DFR0, PMU event counters from PMCR.N,
    # AArch32 RAZ ID registers), bounded by small functions the estimate evaluates
    assert est.migrated == real
    assert not est.unread and not est.undecided and not est.id_changes
    # realize clears ID_AA64PFR0.EL3 and .EL2 (0x2222 -> 0x22) before it defines the registers
    assert est.model.values["isar.id_aa64pfr0"] == 0x22
    # isar_feature_aa64_scxtnum() decides with a local variable: CSV2 is 0, so not registered
    scxtnum = [r for r in est.registered if r.call.args[1:] == ("scxtnum_reginfo",)]
    assert not scxtnum


def test_cortex_a57_v720_constant_values_against_the_real_stream(facts72, virt72):
    """Every constant register whose value the estimate evaluates (the ID registers after
    realize's edits: ID_DFR0 without CopSDbg, as virt-7.2 has no EL3) holds that value in
    the real stream; the few it cannot evaluate (PMCEID0, set by the PMU's realize;
    ACTLR, a field the model leaves to a default) are None, never guessed."""
    est = cpregs.estimate(facts72, "cortex-a57", virt72)
    values = cpregs.const_values(facts72, est, virt72)
    real = stream_cpreg_values(STREAM)
    known = {k: v for k, v in values.items() if v is not None}
    assert len(values) == 144 and len(known) == 134
    assert {k: real[k] for k in known} == known


def test_cortex_a57_v720_to_v1002_differences(facts72, facts10, virt72, virt10):
    added, removed = cpregs.differences(cpregs.estimate(facts72, "cortex-a57", virt72),
                                        cpregs.estimate(facts10, "cortex-a57", virt10))
    # forward: the 32-bit AArch32 PAR 7.2 sends is an alias in 10.0.2 under LPAE (realize's
    # `vapa_cp_reginfo[0].type = ARM_CP_ALIAS | ARM_CP_NO_GDB`): not migrated, as the real
    # 10.0.13 stream shows
    assert [(reg.name, key) for key, reg in removed] == [("PAR", 0x40200000200F3A00)]
    assert len(added) == 17  # backward: 10.0.2's list is longer than 7.2 accepts
    assert sorted({reg.name for _, reg in added}) == [
        "DBGCLAIMCLR_EL1", "DBGDTR_EL0", "DBGVCR", "DBGVCR32_EL2", "MDCCINT_EL1", "OSDTRRX_EL1",
        "OSDTRTX_EL1", "OSECCR_EL1", "RMR_EL1", "RVBAR_EL1"]
    assert {reg.path for _, reg in added} == {"target/arm/debug_helper.c", "target/arm/helper.c"}


def test_cortex_a57_v1002_estimate(facts10, virt10):
    est = cpregs.estimate(facts10, "cortex-a57", virt10)
    assert len(est.migrated) == 274 and not est.unread and not est.undecided
    assert "ARM_FEATURE_EL3" not in est.features
    names = {est.keys[k][0].name for k in est.migrated}
    assert {"OSDTRRX_EL1", "MDCCINT_EL1", "DBGVCR32_EL2", "RMR_EL1"} <= names  # not sent by 7.2


def test_cortex_a57_v1002_estimate_against_the_real_10_0_13_stream(facts10, virt10):
    """QEMU 10.0.13 (Debian 13) sends 275 registers: v10.0.2's 274 with one stable-branch
    fix (debug_helper.c: the BOTH register DBGDTR_EL0 at opc1=3 crm=5 split into the AArch64
    DBGDTRTX_EL0, the AArch32 DBGDTRTX at opc1=0, and an AArch64 DBGDTR_EL0 at crm=4), and
    without the 32-bit PAR, as v10.0.2 (an alias under LPAE)."""
    est = cpregs.estimate(facts10, "cortex-a57", virt10)
    length, real = stream_cpreg_indexes(STREAM.parent / "aarch64-v10.0.13-virt-7.2-virtio-mmio-pci.mig.xz")
    assert length == len(real) == 275
    assert 0x40200000200F3A00 not in real and 0x40200000200F3A00 not in est.migrated  # PAR [AArch32]
    assert sorted(set(real) - set(est.migrated)) == [0x40200000200E0280, 0x6030000000139820]
    assert [est.keys[k][0].name for k in sorted(set(est.migrated) - set(real))] == ["DBGDTR_EL0"]


# -- a tiny tree --------------------------------------------------------------------

HEADER = """
#define ARM_CP_NO_RAW (1 << 0)
#define ARM_CP_ALIAS (1 << 1)
#define ARM_CP_CONST (1 << 2)
#define ARM_CP_64BIT (1 << 3)
#define ARM_CP_SPECIAL_MASK 0xf00
#define ARM_CP_NOP (1 << 8)
#define CP_ANY 0xff
enum { PL3_R = 0x80, PL3_W = 0x40, PL2_R = 0x20 | PL3_R, PL2_W = 0x10 | PL3_W, PL1_R = 0x08 | PL2_R,
       PL1_W = 0x04 | PL2_W, PL2_RW = PL2_R | PL2_W, PL1_RW = PL1_R | PL1_W };
#define CP_REG_ARM64_SYSREG_CP 0x13
#define CP_REG_NS_SHIFT 29
#define CP_REG_SIZE_U32 0x0020000000000000ULL
#define CP_REG_SIZE_U64 0x0030000000000000ULL
#define CP_REG_ARM 0x4000000000000000ULL
#define CP_REG_ARM64 0x6000000000000000ULL
enum { ARM_CP_STATE_AA32 = 0, ARM_CP_STATE_AA64 = 1, ARM_CP_STATE_BOTH = 2 };
enum { ARM_CP_SECSTATE_BOTH = 0, ARM_CP_SECSTATE_S = 1, ARM_CP_SECSTATE_NS = 2 };
"""

HELPER = """
#include "cpregs.h"
static const ARMCPRegInfo base[] = {
    { .name = "A_EL1", .state = ARM_CP_STATE_AA64, .opc0 = 3, .crn = 1, .access = PL1_RW },
    { .name = "B_EL1", .state = ARM_CP_STATE_AA64, .opc0 = 3, .crn = 2, .access = PL1_RW,
      .type = ARM_CP_ALIAS },
    { .name = "NOP", .state = ARM_CP_STATE_AA64, .opc0 = 3, .crn = 4, .access = PL1_RW,
      .type = ARM_CP_NOP },
};
static const ARMCPRegInfo el2_regs[] = {
    { .name = "C_EL2", .state = ARM_CP_STATE_AA64, .opc0 = 3, .opc1 = 4, .crn = 3, .access = PL2_RW },
};
static const ARMCPRegInfo both = {
    .name = "D", .state = ARM_CP_STATE_BOTH, .opc0 = 3, .crn = 5, .access = PL1_RW,
};
static const ARMCPRegInfo feature_regs[] = {
    { .name = "F_EL1", .state = ARM_CP_STATE_AA64, .opc0 = 3, .crn = 6, .access = PL1_RW },
};
static const ARMCPRegInfo mystery_regs[] = {
    { .name = "G_EL1", .state = ARM_CP_STATE_AA64, .opc0 = 3, .crn = 7, .access = PL1_RW },
};
static inline int num_things(ARMCPU *cpu)
{
    if (arm_feature(&cpu->env, ARM_FEATURE_BAR)) {
        return (cpu->isar.id_things >> 4) + 1;
    }
    return 1;
}
static void define_things(ARMCPU *cpu)
{
    int i, n = num_things(cpu);
    for (i = 0; i < n; i++) {
        ARMCPRegInfo things[] = {
            { .name = "THING", .state = ARM_CP_STATE_AA64, .opc0 = 2, .crn = 0, .crm = i,
              .access = PL1_RW },
        };
        define_arm_cp_regs(cpu, things);
    }
}
void register_cp_regs_for_features(ARMCPU *cpu)
{
    if (arm_feature(env, ARM_FEATURE_M)) {
        return;
    }
    define_arm_cp_regs(cpu, base);
    define_one_arm_cp_reg(cpu, &both);
    define_things(cpu);
    if (arm_feature(env, ARM_FEATURE_EL2)) {
        define_arm_cp_regs(cpu, el2_regs);
    }
    if (arm_feature(env, ARM_FEATURE_FOO)) {
        define_arm_cp_regs(cpu, feature_regs);
    } else {
        define_arm_cp_regs(cpu, mystery_regs);
    }
    if (cpu->something_else) {
        define_arm_cp_regs(cpu, mystery_regs);
    }
}
"""

CPU = """
static void arm_cpu_realizefn(DeviceState *dev, Error **errp)
{
    if (!cpu->has_el2) {
        unset_feature(env, ARM_FEATURE_EL2);
    }
    if (arm_feature(env, ARM_FEATURE_BAR)) {
        set_feature(env, ARM_FEATURE_FOO);
    }
    if (bad) {
        error_setg(errp, "no");
        return;
    }
    register_cp_regs_for_features(cpu);
}
static void tiny_initfn(Object *obj)
{
    set_feature(&cpu->env, ARM_FEATURE_BAR);
    set_feature(&cpu->env, ARM_FEATURE_EL2);
    cpu->midr = 0x41 << 24;
    cpu->isar.id_things = 0x20;
}
static const ARMCPUInfo cpus[] = {
    { .name = "tiny", .initfn = tiny_initfn },
};
"""


@pytest.fixture
def tiny(tmp_path):
    arm = tmp_path / "target/arm"
    arm.mkdir(parents=True)
    (arm / "cpregs.h").write_text(HEADER)
    (arm / "helper.c").write_text(HELPER)
    (arm / "cpu.c").write_text(CPU)
    return cpregs.extract(directory_tree(str(tmp_path)))


def aa64(crn: int, opc1: int = 0) -> int:
    return 0x6030000000000000 | 0x13 << 16 | 3 << 14 | opc1 << 11 | crn << 7


def test_tiny_tree_registers_and_model(tiny):
    assert [r.name for r in tiny.regs] == ["A_EL1", "B_EL1", "NOP", "C_EL2", "D", "F_EL1", "G_EL1", "THING"]
    model = cpregs.cpu_model(tiny, "tiny")
    assert model.features == {"ARM_FEATURE_BAR", "ARM_FEATURE_EL2"} and model.values["midr"] == 0x41000000


def test_tiny_tree_estimate(tiny):
    est = cpregs.estimate(tiny, "tiny", {"cpu->has_el2": True})
    # ALIAS and NOP are not sent; D is sent in both views (AA32: cp15, non-secure bank;
    # the secure one is an alias); FOO is implied by BAR at realize, so F_EL1 and not G_EL1
    aa32_d = 0x4020000000000000 | 1 << 29 | 15 << 16 | 5 << 11
    # THING is defined in a loop of num_things() = (0x20 >> 4) + 1 = 3 iterations, crm = i
    things = [0x6030000000000000 | 0x13 << 16 | 2 << 14 | crm << 3 for crm in range(3)]
    assert est.migrated == sorted([aa64(1), aa64(3, opc1=4), aa64(5), aa64(6), aa32_d, *things])
    lines = HELPER.splitlines()
    line = max(i for i, text in enumerate(lines) if "cpu, mystery_regs" in text) + 1  # under something_else
    assert [(r.call.line, r.conds[-1].text) for r in est.undecided] == [(line, "(cpu->something_else)")]


def test_tiny_tree_without_el2_drops_el2_registers(tiny):
    est = cpregs.estimate(tiny, "tiny", {"cpu->has_el2": False})
    assert aa64(3, opc1=4) not in est.migrated and aa64(1) in est.migrated


def test_the_machine_type_decides_the_pmu(qemu_repo, facts72) -> None:
    """virt-2.6's options function sets vmc->no_pmu, so machvirt_init turns the CPU's pmu
    property off and realize clears the PMU fields of the ID registers (ID_DFR0.PerfMon,
    bits 27:24; ID_AA64DFR0_EL1.PMUVer, bits 11:8): the same list, other values."""
    tree = git_revision_tree(qemu_repo, "v7.2.0")
    found = {}
    for name in ("virt-2.6", "virt-7.2"):
        options = virt_options(tree, name).values
        est = cpregs.estimate(facts72, "cortex-a57", options)
        values = cpregs.const_values(facts72, est, options)
        found[name] = {est.keys[k][0].name: values[k] for k in est.migrated if k in values}, len(est.migrated)
    (old, old_len), (new, new_len) = found["virt-2.6"], found["virt-7.2"]
    assert old_len == new_len == 258
    assert (old["ID_DFR0"] >> 24) & 0xf == 0 and (new["ID_DFR0"] >> 24) & 0xf == 3
    assert (old["ID_AA64DFR0_EL1"] >> 8) & 0xf == 0 and (new["ID_AA64DFR0_EL1"] >> 8) & 0xf == 1
