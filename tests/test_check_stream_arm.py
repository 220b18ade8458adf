"""`check-stream` judges the Arm register list of a real stream's `cpu` section as the
destination's loader does (app/streamcpu.py): its length, which registers, and the values
of constant ones.

The stream: QEMU 7.2.22, `-M virt-7.2 -cpu cortex-a57`, TCG (tests/data/streams). On the
real binaries it loads back into 7.2.22, and QEMU 10.0.13 (Debian 13, closest to v10.0.2)
refuses it: "error while loading state for instance 0x0 of device 'cpu'", "load of
migration failed: Operation not permitted" (run by hand, 2026-12-05). 10.0's realize
clears ID_DFR0.MMAPTRC under TCG, so the constant ID_DFR0 reads 0x3000006 where 7.2 sent
0x3010006; before that, 10.0's realize makes the 32-bit AArch32 PAR an alias of the 64-bit
one under LPAE, so it is not in 10.0's list (274 registers) and cpu_post_load() refuses the
PAR 7.2 sends (the same two lines). The branches below are of v10.0.2 with both taken out
(the 258 registers then all load into the branch's 275), and one more change each."""
from __future__ import annotations

import json
import lzma

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_branch, shared_dir
from test_cpregs import stream_cpreg_indexes, stream_cpreg_values

from vmsd_lint.app.streamtarget import guess_target
from vmsd_lint.cli.main import main
from vmsd_lint.sources.stream import load_stream_bytes, read_stream, read_vmdesc
from vmsd_lint.sources.tree import git_revision_tree

pytestmark = pytest.mark.qemu

NAME = "aarch64-v7.2.22-virt-7.2-virtio-mmio-pci"
XZ = ROOT / "tests" / "data" / "streams" / f"{NAME}.mig.xz"
CPU_C, CPU64_C, HELPER_C = "target/arm/cpu.c", "target/arm/cpu64.c", "target/arm/helper.c"
KEEP_MMAPTRC = (CPU_C, ("        cpu->isar.id_dfr0 =\n            FIELD_DP32(cpu->isar.id_dfr0, ID_DFR0, MMAPTRC, 0);\n",
                        ""))
PAR_ALIAS = ("        if (arm_feature(env, ARM_FEATURE_LPAE)) {\n"
             "            vapa_cp_reginfo[0].type = ARM_CP_ALIAS | ARM_CP_NO_GDB;\n"
             "        }\n", "")
PAR_32 = 0x40200000200F3A00  # AArch32 cp15 crn=7 opc1=0 crm=4 opc2=0: the 32-bit PAR
TPIDRRO_EL0 = 0x603000000013DE83  # op0=3 op1=3 crn=13 crm=0 op2=3
POST_LOAD = ["error while loading state for instance 0x0 of device 'cpu'",
             "load of migration failed: Operation not permitted"]


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    path = tmp_path_factory.mktemp("arm") / f"{NAME}.mig"
    path.write_bytes(lzma.decompress(XZ.read_bytes()))
    return path


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("arm-cache"))



def check(stream, revision: str, repo, cache_dir: str, *extra: str) -> tuple[int, dict]:
    code, output = run(["check-stream", str(stream), revision, "--repo", str(repo), "--target", "aarch64",
                        "--format", "json", "--cache-dir", cache_dir, *extra])
    assert code in (0, 1), output
    return code, json.loads(output)


def cpu_of(report: dict) -> dict:
    return next(s for s in report["sections"] if s["idstr"] == "cpu")


def field_start(stream, name: str) -> int:
    """Where the source wrote the cpu section's field NAME, from the stream's description."""
    data = stream.read_bytes()
    section = next(s for s in read_stream(data).sections if s.idstr == "cpu")
    offset = section.start
    for field in next(d for d in read_vmdesc(data)["devices"] if d["name"] == "cpu")["fields"]:
        if field["name"] == name:
            return offset
        offset += field["size"] * field.get("array_len", 1)
    raise AssertionError(name)


def test_the_list_loads_into_7_2_and_the_cpu_section_is_judged(qemu_repo, stream, cache_dir):
    code, report = check(stream, "v7.2.0", qemu_repo, cache_dir)
    cpu = cpu_of(report)
    assert code == 0 and cpu["status"] == "loads" and cpu["hooks"] == [], cpu
    # the model named by the stream's own ID registers, the machine by its configuration section
    assert "258 registers, all in REV's 258 of cortex-a57 (its 20 ID registers)" in cpu["note"]
    assert "virt-7.2's defaults" in cpu["note"] and "134 constant values equal" in cpu["note"]


def test_into_10_0_2_the_32_bit_par_fails_as_on_the_real_10_0_binary(qemu_repo, stream, cache_dir):
    """cpu_post_load() walks the lists before it writes a value: the PAR 7.2 sends and
    10.0 made an alias (not migrated) fails first, with the same two lines."""
    code, report = check(stream, "v10.0.2", qemu_repo, cache_dir)
    assert code == 1
    assert_fails_at_index(report, stream, PAR_32, "AA32 p15 crn=7 opc1=0 crm=4 opc2=0")


def assert_fails_at_index(report: dict, stream, index: int, name: str) -> None:
    """The first failure is the stream's register INDEX, which REV's list lacks."""
    failure = report["failure"]
    assert failure["rule"] == "cpu-registers-changed", failure
    position = stream_cpreg_indexes(XZ)[1].index(index)
    assert failure["path"] == f"cpu/cpreg_vmstate_indexes[{position}]"
    assert failure["offset"] == field_start(stream, "cpreg_vmstate_indexes") + 8 * position
    assert failure["stream_holds"] == f"register {name} ({index:#x})"
    assert failure["qemu_prints"] == POST_LOAD


def test_with_the_par_kept_id_dfr0_fails_as_on_the_real_10_0_binary(clone, stream, cache_dir):
    make_branch(clone, "a57-keeps-par", {HELPER_C: PAR_ALIAS})
    code, report = check(stream, "a57-keeps-par", clone, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "cpu-register-value-changed", failure
    indexes = stream_cpreg_indexes(XZ)[1]
    position = next(i for i, k in enumerate(indexes) if stream_cpreg_values(XZ)[k] == 0x3010006)
    assert failure["path"] == f"cpu/cpreg_vmstate_values[{position}]"
    assert failure["offset"] == field_start(stream, "cpreg_vmstate_values") + 8 * position
    assert failure["stream_holds"].startswith("ID_DFR0 [AArch32] = 0x3010006")
    assert failure["expected"].startswith("0x3000006")
    assert failure["qemu_prints"] == POST_LOAD
    statuses = [s["status"] for s in report["sections"]]
    assert statuses[statuses.index("fails") + 1:] == ["not-reached"] * (len(statuses) - statuses.index("fails") - 1)


def test_a_shorter_list_whose_registers_all_exist_loads(clone, stream, cache_dir):
    make_branch(clone, "a57-keeps-mmaptrc", {CPU_C: KEEP_MMAPTRC[1], HELPER_C: PAR_ALIAS})
    code, report = check(stream, "a57-keeps-mmaptrc", clone, cache_dir)
    assert code == 0, report["failure"]
    assert cpu_of(report)["status"] == "loads"
    assert "258 registers, all in REV's 275 of cortex-a57" in cpu_of(report)["note"]


def test_a_register_definition_deleted_fails_in_post_load(clone, stream, cache_dir):
    tpidrro = ('    { .name = "TPIDRRO_EL0", .state = ARM_CP_STATE_AA64,\n'
               "      .opc0 = 3, .opc1 = 3, .opc2 = 3, .crn = 13, .crm = 0,\n"
               "      .access = PL0_R | PL1_W,\n"
               "      .fgt = FGT_TPIDRRO_EL0,\n"
               "      .fieldoffset = offsetof(CPUARMState, cp15.tpidrro_el[0]),\n"
               "      .resetvalue = 0},\n")
    make_branch(clone, "a57-without-tpidrro", {CPU_C: KEEP_MMAPTRC[1], HELPER_C: [PAR_ALIAS, (tpidrro, "")]})
    code, report = check(stream, "a57-without-tpidrro", clone, cache_dir)
    assert code == 1
    assert_fails_at_index(report, stream, TPIDRRO_EL0, "AA64 op0=3 op1=3 crn=13 crm=0 op2=3")


def test_a_feature_dropped_from_the_model_fails_in_post_load(clone, stream, cache_dir):
    """The maintainers' case, a feature bit removed from an Arm CPU: without the generic
    timer cortex-a57 lists 266 registers in 10.0.2, still more than the 258 sent, so the
    length passes and cpu_post_load() fails at the first timer register (CNT*: crn 14)."""
    make_branch(clone, "a57-without-timer", {
        CPU_C: KEEP_MMAPTRC[1], HELPER_C: PAR_ALIAS,
        CPU64_C: ("    set_feature(&cpu->env, ARM_FEATURE_GENERIC_TIMER);\n", "")})
    code, report = check(stream, "a57-without-timer", clone, cache_dir, "--cpu", "cortex-a57")
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "cpu-registers-changed", failure
    assert failure["path"].startswith("cpu/cpreg_vmstate_indexes[")
    position = int(failure["path"].rsplit("[", 1)[1][:-1])
    assert failure["offset"] == field_start(stream, "cpreg_vmstate_indexes") + 8 * position
    assert "crn=14" in failure["stream_holds"]
    assert failure["qemu_prints"] == POST_LOAD


def test_a_constant_id_register_changed_for_the_model(clone, stream, cache_dir):
    make_branch(clone, "a57-other-isar5", {CPU_C: KEEP_MMAPTRC[1], HELPER_C: PAR_ALIAS,
                                          CPU64_C: ("    cpu->isar.id_isar5 = 0x00011121;\n",
                                                    "    cpu->isar.id_isar5 = 0x00011122;\n")})
    # the stream's ID registers no longer name a model of the branch: it says so
    code, report = check(stream, "a57-other-isar5", clone, cache_dir)
    assert code == 0 and cpu_of(report)["status"] == "loads-if-hooks"
    assert "no CPU model of REV (use --cpu)" in cpu_of(report)["note"]
    code, report = check(stream, "a57-other-isar5", clone, cache_dir, "--cpu", "cortex-a57")
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "cpu-register-value-changed", failure
    assert failure["stream_holds"].startswith("ID_ISAR5 [AArch32] = 0x11121")
    assert failure["expected"] == "0x11122, REV's constant for cortex-a57"
    assert failure["qemu_prints"] == POST_LOAD


def test_a_list_tcg_never_makes_is_not_judged(qemu_repo, stream, cache_dir, tmp_path):
    """Under KVM the host kernel makes the list (with firmware pseudo-registers, group
    0x14): the last index of the real list replaced with one, the list is not judged."""
    data = bytearray(stream.read_bytes())
    length, _ = stream_cpreg_indexes(XZ)
    last = field_start(stream, "cpreg_vmstate_indexes") + 8 * (length - 1)
    data[last:last + 8] = (0x6030000000140000).to_bytes(8, "big")  # KVM_REG_ARM_FW: PSCI version
    kvm = tmp_path / "kvm.mig"
    kvm.write_bytes(bytes(data))
    code, report = check(kvm, "v10.0.2", qemu_repo, cache_dir)
    assert code == 0 and cpu_of(report)["status"] == "loads-if-hooks"
    assert "holds registers TCG never lists (a KVM source" in cpu_of(report)["note"]


def test_a_longer_list_fails_the_length_check_as_on_the_real_7_2_binary(qemu_repo, cache_dir, tmp_path):
    """QEMU 10.0.13's stream of the same command line (275 registers) into 7.2: the real
    7.2.22 binary printed exactly these four lines (tests/data/streams/README.md)."""
    newer = tmp_path / "newer.mig"
    newer.write_bytes(lzma.decompress((XZ.parent / "aarch64-v10.0.13-virt-7.2-virtio-mmio-pci.mig.xz").read_bytes()))
    code, report = check(newer, "v7.2.0", qemu_repo, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "cpu-registers-changed", failure
    assert failure["path"] == "cpu/cpreg_vmstate_array_len"
    assert failure["offset"] == field_start(newer, "cpreg_vmstate_array_len")
    assert failure["qemu_prints"] == ["Invalid value 275 expecting positive value <= 258",
                                      "Failed to load cpu:cpreg_vmstate_array_len",
                                      "error while loading state for instance 0x0 of device 'cpu'",
                                      "load of migration failed: Invalid argument"]
    assert failure["stream_holds"].startswith("275 registers (18 not in REV")


STREAMS = sorted((XZ.parent).glob("*.mig.xz")) + sorted((shared_dir() / "qemu" / "streams").glob("*.mig.xz"))


@pytest.mark.parametrize("path", STREAMS, ids=[p.name.split("-v")[0] + "-" + p.name.split("-")[1] for p in STREAMS])
def test_the_target_is_guessed_from_each_real_stream(qemu_repo, path):
    data = load_stream_bytes(path)
    stream = read_stream(data)
    tree = git_revision_tree(qemu_repo, "v10.0.2")
    target, how = guess_target(tree, data, stream, read_vmdesc(data, stream))
    assert target == path.name.split("-")[0], how  # the file names start with the binary's target


def test_without_target_the_guess_is_said_or_the_run_refused(qemu_repo, stream, cache_dir, tmp_path):
    code, report = check_without_target(stream, "v7.2.0", qemu_repo, cache_dir)
    assert code == 0 and report["notes"][0].startswith("--target aarch64 guessed: its cpu section is target/arm's")
    data = stream.read_bytes()
    cut = tmp_path / "cut.mig"  # ends at QEMU_VM_EOF: no description to tell the target by
    cut.write_bytes(data[:read_stream(data).eof + 1])
    code, output = run(["check-stream", str(cut), "v7.2.0", "--repo", str(qemu_repo), "--cache-dir", cache_dir])
    assert code == 2 and output.count("\n") == 1, output
    assert "--target not given and not guessed from the stream" in output


def check_without_target(stream, revision: str, repo, cache_dir: str) -> tuple[int, dict]:
    code, output = run(["check-stream", str(stream), revision, "--repo", str(repo), "--format", "json",
                        "--cache-dir", cache_dir])
    assert code in (0, 1), output
    return code, json.loads(output)


def test_an_instance_id_rev_never_registers_fails_at_the_header(qemu_repo, stream, cache_dir, tmp_path):
    """globalstate is registered with instance id 0 only (vmstate_register(NULL, 0, ...));
    the real stream with that id set to 1 in its header: QEMU 7.2.22 printed the same line
    (and "load of migration failed: Invalid argument"), checked by hand."""
    data = bytearray(stream.read_bytes())
    section = next(s for s in read_stream(bytes(data)).sections if s.idstr == "globalstate")
    at = section.header_start + 1 + 4 + 1 + len(section.idstr)  # type, section id, idstr, then the instance
    data[at:at + 4] = (1).to_bytes(4, "big")
    other = tmp_path / "instance.mig"
    other.write_bytes(bytes(data))
    code, report = check(other, "v7.2.0", qemu_repo, cache_dir)
    failure = report["failure"]
    assert code == 1 and failure["rule"] == "instance-id-changed", failure
    assert failure["offset"] == section.header_start and failure["section"] == "globalstate"
    assert failure["qemu_prints"] == ["Unknown savevm section or instance 'globalstate' 1. Make sure that your "
                                      "current VM setup matches your saved VM setup, including any hotplugged devices"]
    # the sections registered with any id (qdev devices, VMSTATE_INSTANCE_ID_ANY) are not judged by it
    code, report = check(stream, "v7.2.0", qemu_repo, cache_dir)
    assert code == 0


def test_a_stream_as_old_endpoint_judges_the_register_list(qemu_repo, stream, cache_dir):
    """`vmsd-lint STREAM..REV`: the same verdicts as findings; the cpu section is no longer
    among those left to their hooks when its list was judged."""
    def range_check(revision: str) -> tuple[int, dict]:
        code, output = run(["--repo", str(qemu_repo), "--target", "aarch64", "--format", "json",
                            "--cache-dir", cache_dir, f"{stream}..{revision}"])
        assert code in (0, 1), output
        return code, json.loads(output)

    code, report = range_check("v7.2.0")
    assert code == 0 and report["findings"] == [], report["findings"]
    hooked = next(n for n in report["notes"] if "pre_load/post_load accept the values" in n)
    assert "cpu" not in hooked.split("(not judged): ", 1)[1].split(", ")
    code, report = range_check("v10.0.2")
    (finding,) = report["findings"]
    assert code == 1 and finding["rule"] == "cpu-registers-changed", finding
    assert "258 -> 274; added none; removed 1: AA32 p15 crn=7 opc1=0 crm=4 opc2=0" in finding["message"]
