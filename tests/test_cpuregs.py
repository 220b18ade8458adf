"""`cpu-registers-changed` (diff/cpuregs.py): an Arm CPU model's migrated register list
compared between two trees, on the real QEMU repository."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import machine_type, make_branch

from vmsd_lint.catalogue import match_error
from vmsd_lint.cli.main import main
from vmsd_lint.diff.cpuregs import cpu_register_findings
from vmsd_lint.extract.cache import Cache
from vmsd_lint.sources.tree import directory_tree, git_revision_tree

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "cpu-registers-changed"

# one register more in the v8 ID register list every v8 model (cortex-a57 too) defines,
# at an encoding no other register has (op0=3 op1=0 crn=11 crm=0 op2=0)
ID_REG_ADDED = {"target/arm/helper.c": (
    '            { .name = "ID_AA64PFR1_EL1", .state = ARM_CP_STATE_AA64,\n',
    '            { .name = "ID_TEST_EL1", .state = ARM_CP_STATE_AA64,\n'
    '              .opc0 = 3, .opc1 = 0, .crn = 11, .crm = 0, .opc2 = 0,\n'
    '              .access = PL1_R, .type = ARM_CP_CONST, .resetvalue = 0 },\n'
    '            { .name = "ID_AA64PFR1_EL1", .state = ARM_CP_STATE_AA64,\n')}


def virt_7_2(old, new):
    """virt-7.2 of each tree: the machine type `check` estimates the lists under for these
    releases (the newest one 7.2 has)."""
    return machine_type(old, "virt-7.2"), machine_type(new, "virt-7.2")


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


def sample_check(*args: str, config: str | None = None, tmp_path: Path | None = None) -> dict:
    extra = []
    if config is not None and tmp_path is not None:
        (tmp_path / "c.toml").write_text(config)
        extra = ["--config", str(tmp_path / "c.toml")]
    code, output = run(["--format", "json", "--no-cache", *extra, *args,
                        f"{SAMPLE / 'old'}..{SAMPLE / 'new'}"])
    assert code in (0, 1), output
    return json.loads(output)


def test_the_cpu_option_and_setting_choose_the_model(tmp_path) -> None:
    [finding] = sample_check("--cpu", "cortex-a57")["findings"]
    assert finding["rule"] == "cpu-registers-changed" and "ID_AA64ZFR0_EL1" in finding["message"]
    # a model neither tree has: said, not a clean result
    report = sample_check("--cpu", "cortex-a53")
    assert report["findings"] == []
    assert any("cortex-a53: its register list could not be checked" in n for n in report["notes"])
    # max and host are not migration-stable: a note, never an alarm
    report = sample_check(config='[settings]\ncpu = "max"\n', tmp_path=tmp_path)
    assert report["findings"] == [] and any("not migration-stable" in n for n in report["notes"])


def test_the_lists_are_cached(tmp_path) -> None:
    old, new = directory_tree(str(SAMPLE / "old")), directory_tree(str(SAMPLE / "new"))
    with Cache(str(tmp_path / "cache")) as cache:
        first = cpu_register_findings(old, new, "cortex-a57", cache)
    with Cache(str(tmp_path / "cache")) as cache:
        assert cpu_register_findings(old, new, "cortex-a57", cache) == first
        assert cache.totals()[0] >= 2  # one entry a side


@pytest.mark.qemu
def test_a_register_added_to_the_v8_id_registers(qemu_repo, tmp_path) -> None:
    clone = tmp_path / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    make_branch(clone, "id-reg-added", ID_REG_ADDED)
    code, output = run(["--format", "json", "--repo", str(clone), "--no-cache", "--target", "aarch64",
                        "--cpu", "cortex-a57", "v10.0.2..id-reg-added"])
    assert code == 1, output
    report = json.loads(output)
    [finding] = [f for f in report["findings"] if f["rule"] == "cpu-registers-changed"]
    assert finding["directions"] == ["backward"] and finding["severity"] == "error"
    assert (finding["vmsd"], finding["sections"], finding["target"]) == ("cpu", ["cpu"], "arm")
    assert "274 -> 275; added 1: ID_TEST_EL1 (target/arm/helper.c:" in finding["message"]
    assert finding["new"]["file"] == "target/arm/helper.c" and finding["old"] is None
    assert not any("could not be checked" in note for note in report["notes"])


@pytest.mark.qemu
def test_cortex_a57_from_7_2_to_10_0(qemu_repo) -> None:
    old, new = git_revision_tree(qemu_repo, "v7.2.0"), git_revision_tree(qemu_repo, "v10.0.2")
    findings, notes = cpu_register_findings(old, new, "cortex-a57", None, virt_7_2(old, new))
    assert not [n for n in notes if "could not be checked" in n]
    # 9.0's new flag, set on every model 7.2 had, keeps their 62.5 MHz timer: no change of
    # the model; 10.0's make_ccsidr(...) is not evaluated: said, not compared
    assert any(n.startswith("Arm CPU models: ARM_FEATURE_BACKCOMPAT_CNTFRQ is a feature flag OLD does not "
                            "define, set on 1 model(s) (cortex-a57)") for n in notes)
    assert any(n.startswith("Arm CPU models: ccsidr[0], ccsidr[1], ccsidr[2] set to a value not known") for n in notes)
    assert any("PMCEID0_EL0" in n and "not compared" in n for n in notes)  # set by the PMU's realize
    finding, values = findings
    assert values.rule == "cpu-register-value-changed" and values.directions == ("backward", "forward")
    # 10.0.2's realize also clears ID_DFR0.MMAPTRC (memory-mapped trace) under TCG
    assert values.arguments["registers"].startswith("ID_DFR0 [AArch32] 0x3010006 -> 0x3000006 (")
    assert values.arguments["count"] == "2"
    args = finding.arguments
    assert (args["old_count"], args["new_count"]) == ("258", "274")
    # the 32-bit PAR is an alias in 10.0.2 under LPAE: not migrated (the real 10.0.13 list)
    assert args["removed"] == "1: PAR [AArch32] (target/arm/helper.c:3552)"
    assert args["added"].startswith("17: ") and finding.directions == ("backward", "forward")
    for name in ("OSDTRRX_EL1", "OSDTRTX_EL1", "OSECCR_EL1", "MDCCINT_EL1", "DBGDTR_EL0", "DBGCLAIMCLR_EL1",
                 "DBGVCR32_EL2", "RMR_EL1", "RVBAR_EL1 [AArch32]"):
        assert name in args["added"]


# cortex-a57's ID_AA64ISAR0_EL1 (a constant register of its list) given another value in
# bits no feature test reads (a change realize undoes, such as ID_AA64DFR0.TraceVer, which
# 10.0.2 clears under TCG, is rightly not a finding)
ID_VALUE_CHANGED = {"target/arm/cpu64.c": ("    cpu->isar.id_aa64isar0 = 0x00011120;\n",
                                           "    cpu->isar.id_aa64isar0 = 0x00011121;\n")}


@pytest.mark.qemu
def test_an_id_register_value_changed_for_one_model(qemu_repo) -> None:
    make_branch(Path(qemu_repo), "id-value-changed", ID_VALUE_CHANGED)
    old, new = git_revision_tree(qemu_repo, "v10.0.2"), git_revision_tree(qemu_repo, "id-value-changed")
    findings, notes = cpu_register_findings(old, new, "cortex-a57", None, virt_7_2(old, new))
    assert not [n for n in notes if "could not be checked" in n or n.startswith("Arm CPU models")]
    finding, model = findings
    assert finding.rule == "cpu-register-value-changed" and finding.severity == "error"
    assert finding.arguments["registers"].startswith("ID_AA64ISAR0_EL1 0x11120 -> 0x11121 (target/arm/")
    # and what the guest sees: the model's definition changed, where its init function is
    assert (model.rule, model.severity) == ("cpu-model-changed", "error")
    assert model.arguments["changes"] == "isar.id_aa64isar0 0x11120 -> 0x11121"
    assert model.new is not None and model.new.file == "target/arm/cpu64.c"
    # the other models do not start from cortex-a57's init function; max does (an info
    # finding: not migration-stable by design)
    assert [(f.rule, f.arguments["model"], f.severity)
            for f in cpu_register_findings(old, new, None, None, virt_7_2(old, new))[0]] == \
        [("cpu-register-value-changed", "cortex-a57", "error"), ("cpu-model-changed", "max", "info"),
         ("cpu-model-changed", "cortex-a57", "error")]


# the maintainers' case: a feature removed from one model's init function by mistake
FEATURE_REMOVED = {"target/arm/cpu64.c": ("    set_feature(&cpu->env, ARM_FEATURE_GENERIC_TIMER);\n", "")}


@pytest.mark.qemu
def test_a_feature_removed_from_one_model_s_init_function(qemu_repo) -> None:
    """cortex-a57 without ARM_FEATURE_GENERIC_TIMER: its timer registers leave the list
    (OLD's longer list fails NEW's length check: forward); cortex-a53, whose init is
    untouched, is quiet.  (Without ARM_FEATURE_PMU instead, the list stays -- the PMU's
    registers are every v7 CPU's -- and realize clears the PMU fields of ID_DFR0 and
    ID_AA64DFR0: cpu-register-value-changed.)"""
    make_branch(Path(qemu_repo), "a57-timer-removed", FEATURE_REMOVED)
    old, new = git_revision_tree(qemu_repo, "v10.0.2"), git_revision_tree(qemu_repo, "a57-timer-removed")
    findings, notes = cpu_register_findings(old, new, None, None, virt_7_2(old, new))
    assert not [n for n in notes if "could not be checked" in n or n.startswith("Arm CPU models")]
    [model] = [f for f in findings if f.rule == "cpu-model-changed" and f.arguments["model"] != "max"]
    assert (model.arguments["model"], model.arguments["changes"]) == \
        ("cortex-a57", "feature ARM_FEATURE_GENERIC_TIMER removed")
    lists = [f for f in findings if f.rule == "cpu-registers-changed"]
    assert [f.arguments["model"] for f in lists] == ["cortex-a57"]
    [finding] = lists
    assert finding.directions == ("forward",) and finding.arguments["added"] == "none"
    assert "CNTFRQ_EL0" in finding.arguments["removed"]
    assert finding.runtime_error.startswith("Invalid value 274 expecting positive value <= ")


# max's TCG init function (target/arm/tcg/cpu64.c) drops a feature from an ID register it
# builds in a local variable
MAX_CHANGED = {"target/arm/tcg/cpu64.c": ("    t = FIELD_DP64(t, ID_AA64ISAR0, SHA1, 1);     /* FEAT_SHA1 */\n",
                                          "")}


@pytest.mark.qemu
def test_a_change_to_max_only_is_info(qemu_repo) -> None:
    """max is not migration-stable by design: its change is one info finding saying so;
    the named models it starts from (cortex-a57) are untouched and quiet."""
    make_branch(Path(qemu_repo), "max-changed", MAX_CHANGED)
    old, new = git_revision_tree(qemu_repo, "v10.0.2"), git_revision_tree(qemu_repo, "max-changed")
    findings, notes = cpu_register_findings(old, new, None)
    assert all("constant register(s) read a value not known statically" in n for n in notes)
    [finding] = findings
    assert (finding.rule, finding.severity, finding.directions) == ("cpu-model-changed", "info", ())
    assert finding.arguments["model"] == "max" and "not migration-stable by design" in finding.arguments["changes"]
    assert finding.new is not None and finding.new.file == "target/arm/cpu64.c"  # its init function
    # and asked for by name: the same finding, with the note
    findings, [note] = cpu_register_findings(old, new, "max")
    assert [f.arguments["model"] for f in findings] == ["max"] and "not migration-stable" in note


@pytest.mark.qemu
def test_same_tree_and_unstable_models_report_nothing(qemu_repo) -> None:
    tree = git_revision_tree(qemu_repo, "v10.0.2")
    assert cpu_register_findings(tree, tree, None) == ([], [])  # no Arm file differs: not even read
    other = git_revision_tree(qemu_repo, "v7.2.0")
    findings, [note] = cpu_register_findings(other, tree, "max")
    assert "not migration-stable" in note  # and max changed, as expected: info, never an alarm
    assert [(f.rule, f.severity, f.directions) for f in findings] == [("cpu-model-changed", "info", ())]


def test_an_undecided_registration_is_a_note_not_a_clean_result(tmp_path) -> None:
    """NEW registers v8_idregs[] under a condition the estimate cannot decide: cortex-a57
    is not compared, and the note says why and where."""
    shutil.copytree(SAMPLE, tmp_path / "s")
    helper = tmp_path / "s" / "new" / "target" / "arm" / "helper.c"
    helper.write_text(helper.read_text().replace("if (arm_feature(env, ARM_FEATURE_V8)) {",
                                                 "if (board_wants_it(cpu)) {"))
    old, new = directory_tree(str(tmp_path / "s" / "old")), directory_tree(str(tmp_path / "s" / "new"))
    findings, [note] = cpu_register_findings(old, new, "cortex-a57")
    assert findings == []
    assert note.startswith("CPU model cortex-a57: its register list could not be checked (NEW: 1 registration(s) "
                           "under a condition not decided, first at target/arm/helper.c:"), note


@pytest.mark.parametrize("error", ["Invalid value 275 expecting positive value <= 258",
                                   "Failed to load cpu:cpreg_vmstate_array_len",
                                   "error while loading state for instance 0x0 of device 'cpu'\n"
                                   "load of migration failed: Operation not permitted"])
def test_explain_error_ranks_it_first_for_the_arm_errors(error) -> None:
    """The length errors are the list's; a post_load refusal ("Operation not permitted")
    is either a register the destination lacks or a constant of another value."""
    ranked = [rule.slug for rule, *_ in match_error(error)]
    if "Operation not permitted" in error:
        assert set(ranked[:2]) == {"cpu-registers-changed", "cpu-register-value-changed"}, ranked[:4]
    else:
        assert ranked[0] == "cpu-registers-changed", ranked[:4]
