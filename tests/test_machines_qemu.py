"""Machine types, compat properties, device properties, the functions they gate and the
verdicts they give, read from the real QEMU v7.2.0 and v10.0.2 (VMSD_LINT_QEMU_REPO):
what QEMU's own code says, checked against the source lines quoted in each test."""
from __future__ import annotations

import pytest

from vmsd_lint.extract.gates import gate, gating_functions, read_gates
from vmsd_lint.extract.machines import MachineReader, is_machine_file, machine_facts, qemu_release, target_hw_dir
from vmsd_lint.extract.properties import PropertyReader, is_property_file
from vmsd_lint.extract.sourceset import SourceSet
from vmsd_lint.placement.machines import Question, common_machines, machine_verdict, property_value
from vmsd_lint.sources.tree import git_revision_tree

COVERED = {"i386": ("pc_q35.c", "pc_piix.c", "pc.c"), "arm": ("virt.c",), "ppc": ("spapr.c",),
           "s390x": ("s390-virtio-ccw.c",)}


@pytest.fixture(scope="module")
def releases(qemu_repo):
    """release -> (tree, machine types), for x86_64 (the target decides TYPE_X86_CPU's name)."""
    found = {}
    for tag in ("v7.2.0", "v10.0.2"):
        tree = git_revision_tree(qemu_repo, tag)
        sources = SourceSet(tree, is_machine_file, "x86_64")
        found[tag] = tree, MachineReader(sources.files, sources.index.context).machine_types()
    return found


def machine(facts, name, hw_dir):
    return next(m for m in facts.machines if m.name == name and m.hw_dir == hw_dir)


def test_pc_q35_7_2_of_10_0_applies_every_array_from_7_2_up(releases):
    # pc_q35_machine_7_2_options: pc_q35_machine_8_0_options(m); then
    # compat_props_add(m->compat_props, hw_compat_7_2, ...); ... pc_compat_7_2
    q35 = machine(releases["v10.0.2"][1], "pc-q35-7.2", "i386")
    assert (q35.file, q35.class_init) == ("hw/i386/pc_q35.c", "pc_q35_machine_7_2_class_init")
    assert q35.chain[:3] == ("pc_q35_machine_7_2_options", "pc_q35_machine_8_0_options", "pc_q35_machine_8_1_options")
    releases_up = ["9_2", "9_1", "9_0", "8_2", "8_1", "8_0", "7_2"]
    expected = [f"{kind}_compat_{r}" for r in releases_up for kind in ("hw", "pc")]
    assert [a for a in q35.arrays if a.startswith(("hw_compat", "pc_compat"))] == expected
    assert q35.arrays[0] == "pc_q35_compat_defaults"  # pc_q35_machine_options, at the end of the chain
    entry = next(e for e in q35.compat if e.property == "migrate-timadj")
    assert (entry.driver, entry.value, entry.compat, entry.file) == ("e1000e", "off", "hw_compat_7_2",
                                                                     "hw/core/machine.c")


def test_virt_7_2_of_10_0_has_hw_compat_7_2(releases):
    virt = machine(releases["v10.0.2"][1], "virt-7.2", "arm")
    assert virt.arrays[0] == "arm_virt_compat"  # arm_virt_compat_set(mc), before the options
    assert virt.arrays[-1] == "hw_compat_7_2" and "pc_compat_7_2" not in virt.arrays


def test_machine_types_of_7_2(releases):
    facts = releases["v7.2.0"][1]
    names = {(m.name, m.hw_dir) for m in facts.machines}
    assert {("pc-q35-7.2", "i386"), ("pc-i440fx-7.2", "i386"), ("virt-7.2", "arm"), ("pseries-7.2", "ppc"),
            ("s390-ccw-virtio-7.2", "s390x")} <= names
    # DEFINE_Q35_MACHINE(v7_1, "pc-q35-7.1", NULL, pc_q35_7_1_machine_options)
    q35 = machine(facts, "pc-q35-7.1", "i386")
    assert q35.chain[0] == "pc_q35_7_1_machine_options" and q35.arrays == ("hw_compat_7_1", "pc_compat_7_1")
    # the newest machine types of a release add nothing
    assert machine(facts, "pc-q35-7.2", "i386").compat == ()
    # spapr_machine_5_0_class_options: static GlobalProperty compat[] = { ... }
    pseries = machine(facts, "pseries-5.0", "ppc")
    assert pseries.arrays[-1] == "spapr_machine_5_0_class_options:compat"


def test_s390_local_compat_arrays_of_10_0(releases):
    # ccw_machine_9_2_class_options: static GlobalProperty compat[] = {
    #     { TYPE_S390_PCI_DEVICE, "relaxed-translation", "off", }, };
    ccw = machine(releases["v10.0.2"][1], "s390-ccw-virtio-9.2", "s390x")
    assert ccw.arrays == ("hw_compat_9_2", "ccw_machine_9_2_class_options:compat")
    assert [(e.driver, e.property, e.value) for e in ccw.compat if e.compat.endswith(":compat")] == [
        ("zpci", "relaxed-translation", "off")]


@pytest.mark.parametrize("tag", ["v7.2.0", "v10.0.2"])
def test_the_covered_machine_files_read_whole(releases, tag):
    facts = releases[tag][1]
    for hw_dir, files in COVERED.items():
        assert [m for m in facts.machines if m.hw_dir == hw_dir]
        wrong = [d for d in facts.diagnostics if d.file.startswith(f"hw/{hw_dir}/") and d.file.endswith(files)]
        assert wrong == []
    assert not [d for d in facts.diagnostics if d.file == "hw/core/machine.c"]


@pytest.fixture(scope="module")
def properties(qemu_repo, release_extractions):
    """release -> its device properties."""
    found = {}
    for tag in ("v7.2.0", "v10.0.2"):
        sources = SourceSet(git_revision_tree(qemu_repo, tag), is_property_file, "x86_64")
        found[tag] = PropertyReader(sources.files, sources.index.context,
                                    release_extractions(tag, "x86_64")).properties()
    return found


def test_device_properties_of_10_0(properties):
    props = properties["v10.0.2"]
    # ramfb-standalone.c: DEFINE_PROP_BOOL("x-migrate", RAMFBStandaloneState, migrate,  true)
    owner, ramfb = props.named("ramfb", "x-migrate")
    assert (owner, ramfb.struct, ramfb.field, ramfb.info, ramfb.value, ramfb.line) == (
        "ramfb", "RAMFBStandaloneState", "migrate", "qdev_prop_bool", 1, 64)
    # e1000e.c: DEFINE_PROP_BOOL("migrate-timadj", E1000EState, timadj, true)
    assert props.named("e1000e", "migrate-timadj")[1].field == "timadj"
    # virtio-net.c: DEFINE_PROP_BIT64("host_uso", VirtIONet, host_features, VIRTIO_NET_F_HOST_USO, true)
    owner, uso = props.named("virtio-net-device", "host_uso")
    assert (owner, uso.field, uso.bit, uso.info) == ("virtio-net-device", "host_features", 56, "qdev_prop_bit64")
    # inherited: virtio.c's DEFINE_VIRTIO_COMMON_FEATURES, pci.c's pci_props
    assert props.named("virtio-net-device", "queue_reset")[0] == "virtio-device"
    assert props.named("e1000e", "x-pcie-err-unc-mask")[0] == "pci-device"
    assert "virtio-pci" in props.lineage("virtio-net-pci")


def test_device_properties_of_7_2(properties):
    props = properties["v7.2.0"]
    assert props.named("ramfb", "x-migrate") is None  # x-migrate came in 8.2
    assert props.named("e1000e", "init-vet")[1].field == "init_vet"
    assert len(props.own) > 700


@pytest.mark.parametrize("tag", ["v7.2.0", "v10.0.2"])
def test_properties_not_read_are_named(properties, tag):
    # armsse.c, megasas.c: device_class_set_props(dc, info->props) (_n in 10.0)
    assert sorted(d.file for d in properties[tag].diagnostics) == ["hw/arm/armsse.c", "hw/scsi/megasas.c"]


@pytest.fixture(scope="module")
def reads(qemu_repo, release_extractions):
    extraction = release_extractions("v10.0.2", "x86_64")
    files = set(gating_functions(extraction))
    sources = SourceSet(git_revision_tree(qemu_repo, "v10.0.2"), lambda path, data: path in files, "x86_64")
    found, diagnostics = read_gates(extraction, sources.text, sources.index.context)
    # spapr_caps.c's SPAPR_CAP_MIG_STATE(htm, ...) defines spapr_cap_htm_needed; pl011's Rust
    # VMSD names a Rust function: neither is C to read
    assert sorted({d.file for d in diagnostics}) == ["hw/ppc/spapr_caps.c", "rust/hw/char/pl011/src/device_class.rs"]
    assert len(diagnostics) == 16
    return found


@pytest.mark.parametrize("key, read, driver, prop, disables", [
    # ramfb-standalone.c: RAMFBStandaloneState *ramfb = RAMFB(opaque); return ramfb->migrate;
    ("hw/display/ramfb-standalone.c:migrate_needed", ("RAMFBStandaloneState", "migrate", None, True, None),
     "ramfb", "x-migrate", "off"),
    # e1000e.c: E1000EState *s = opaque; return s->timadj;
    ("hw/net/e1000e.c:e1000e_migrate_timadj", ("E1000EState", "timadj", None, True, None),
     "e1000e", "migrate-timadj", "off"),
    # hpet.c: return s->hpet_offset_saved && hpet_enabled(s); (its order in the source)
    ("hw/timer/hpet.c:hpet_offset_needed", ("HPETState", "hpet_offset_saved", None, True, "hpet_enabled(s)"),
     "hpet", "hpet-offset-saved", "off"),
    # target/i386/machine.c: return cpu->migrate_smi_count && env->msr_smi_count != 0;
    ("target/i386/machine.c:msr_smi_count_needed",
     ("X86CPU", "migrate_smi_count", None, True, "env->msr_smi_count != 0"),
     "x86_64-cpu", "x-migrate-smi-count", "off"),
])
def test_functions_gated_by_a_property_in_10_0(reads, properties, key, read, driver, prop, disables):
    first = reads[key][0]
    assert (first.struct, first.field, first.bit, first.sends_when, first.condition) == read
    found = gate(first, properties["v10.0.2"])
    assert (found.driver, found.property, found.disables) == (driver, prop, disables)


@pytest.fixture(scope="module")
def new(qemu_repo, release_extractions):
    """The machine facts of v10.0.2, the NEW of v7.2.0..v10.0.2."""
    return machine_facts(git_revision_tree(qemu_repo, "v10.0.2"), release_extractions("v10.0.2", "x86_64"))


def test_the_release_of_a_tree(releases):
    assert qemu_release(releases["v7.2.0"][0]) == "7.2" and qemu_release(releases["v10.0.2"][0]) == "10.0"


@pytest.mark.parametrize("tag", ["v7.2.0", "v10.0.2"])
def test_the_machine_directory_of_a_target(releases, tag):
    # configs/targets/<target>-softmmu.mak's TARGET_BASE_ARCH, and meson.build's
    # `hw_dir = target_name == 'sparc64' ? 'sparc64' : target_base_arch`
    tree = releases[tag][0]
    found = {target: target_hw_dir(tree, target) for target in ("x86_64", "aarch64", "ppc64", "s390x", "sparc64",
                                                                "nonesuch")}
    assert found == {"x86_64": "i386", "aarch64": "arm", "ppc64": "ppc", "s390x": "s390x", "sparc64": "sparc64",
                     "nonesuch": None}


def test_ramfb_migrate_subsection_is_gated_by_hw_compat_8_1(new):
    # ramfb-standalone.c: migrate_needed() { ... return ramfb->migrate; }
    # DEFINE_PROP_BOOL("x-migrate", RAMFBStandaloneState, migrate, true)
    # hw_compat_8_1: { "ramfb", "x-migrate", "off" }
    facts = new
    found = machine_verdict(Question("ramfb-dev", ("ramfb",), "migrate_needed", "hw/display/ramfb-standalone.c",
                                     "7.2"), facts)
    assert found.breaks == () and found.condition is None
    assert found.gated.to_json() == {"driver": "ramfb", "property": "x-migrate", "value": "off",
                                     "compat": "hw_compat_8_1", "file": "hw/core/machine.c", "line": 77,
                                     "up_to": "8.1"}
    assert "pc-q35-7.2" in [m.name for m in common_machines(facts, "7.2")]
    assert [(g.driver, g.property, g.disables, g.condition)
            for g in facts.gates("hw/display/ramfb-standalone.c:migrate_needed")] == [
        ("ramfb", "x-migrate", "off", None)]


def test_e1000e_timadj_field_is_gated_by_hw_compat_7_2(new):
    # VMSTATE_INT64_TEST(core.timadj, E1000EState, e1000e_migrate_timadj): return s->timadj;
    facts = new
    question = Question("e1000e", ("e1000e",), "e1000e_migrate_timadj", "hw/net/e1000e.c", "7.2")
    found = machine_verdict(question, facts)
    assert found.breaks == ()
    assert (found.gated.driver, found.gated.property, found.gated.compat, found.gated.up_to) == (
        "e1000e", "migrate-timadj", "hw_compat_7_2", "7.2")
    # a source on 8.1 has pc-q35-8.0 and 8.1, which turn it on: those break
    later = machine_verdict(Question("e1000e", ("e1000e",), "e1000e_migrate_timadj", "hw/net/e1000e.c", "8.1"),
                            facts, hw_dirs=["i386"])
    assert later.breaks == ("pc-i440fx-8.0", "pc-i440fx-8.1", "pc-q35-8.0", "pc-q35-8.1")
    # every target's: virt-8.0 of arm and of m68k is one name
    everywhere = machine_verdict(Question("e1000e", ("e1000e",), "e1000e_migrate_timadj", "hw/net/e1000e.c",
                                          "8.1"), facts).breaks
    assert everywhere.count("virt-8.0") == 1 and "pseries-8.1" in everywhere and "s390-ccw-virtio-8.0" in everywhere


def test_a_property_on_type_virtio_net_reaches_virtio_net_pci(new):
    # hw_compat_8_1: { TYPE_VIRTIO_NET, "host_uso", "off"}: the virtio-net-device that
    # virtio_net_pci_instance_init creates inside virtio-net-pci
    facts = new
    assert "virtio-net-device" in facts.objects("virtio-net-pci")
    value, entry, holder = property_value(facts, machine(facts, "pc-q35-8.1", "i386"), "virtio-net-pci", "host_uso")
    assert (value, entry.compat, entry.driver, holder) == (False, "hw_compat_8_1", "virtio-net-device",
                                                           "virtio-net-device")
    assert property_value(facts, machine(facts, "pc-q35-8.2", "i386"), "virtio-net-pci", "host_uso")[:2] == (
        True, None)
