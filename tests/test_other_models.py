"""`cpu-model-changed` for the named CPU models of the targets other than x86 and Arm
(extract/othermodels.py, diff/othermodels.py), on branches of the real QEMU repository."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import make_branch

from vmsd_lint.cli.main import main
from vmsd_lint.diff.othermodels import changed_dirs, models_key, other_model_findings
from vmsd_lint.extract.cache import Cache
from vmsd_lint.extract.othermodels import target_models
from vmsd_lint.extract.store import CPU_REGS, Store
from vmsd_lint.sources.tree import git_revision_tree

pytestmark = pytest.mark.qemu

SIFIVE_U = "    cpu->cfg.mmu = true;\n    cpu->cfg.pmp = true;\n}\n\nstatic void rv64_sifive_e_cpu_init"
# sifive-u54 and shakti-c share rv64_sifive_u_cpu_init: PMP dropped from it
PMP_DROPPED = {"target/riscv/cpu.c": (SIFIVE_U, "    cpu->cfg.mmu = true;\n}\n\nstatic void rv64_sifive_e_cpu_init")}
# the same function reformatted and its comment reworded: the same tokens
REFORMATTED = {"target/riscv/cpu.c": [
    ("    /* inherited from parent obj via riscv_cpu_init() */\n    cpu->cfg.ext_zifencei = true;",
     "    // set here, as riscv_cpu_init() would\n    cpu->cfg.ext_zifencei   =\n        true;"),
    (SIFIVE_U, "    cpu->cfg.mmu = true;   /* an MMU */\n    cpu->cfg.pmp = true;\n}\n\n\n"
               "static void rv64_sifive_e_cpu_init")]}
# max only: not migration-stable by design
MAX_CHANGED = {"target/riscv/cpu.c": ("static void riscv_max_cpu_init(Object *obj)\n{\n",
                                      "static void riscv_max_cpu_init(Object *obj)\n{\n    (void)0;\n")}
# a released model's row dropped from riscv_cpu_type_infos[]
C906_REMOVED = {"target/riscv/cpu.c": (
    "    DEFINE_VENDOR_CPU(TYPE_RISCV_CPU_THEAD_C906, MXL_RV64,  rv64_thead_c906_cpu_init),\n", "")}
# ppc: POWER9's family class_init (both power9 models) and one PVR (power9_v2.2 only)
POWER9_FAMILY = {"target/ppc/cpu_init.c": ('    dc->fw_name = "PowerPC,POWER9";\n',
                                           '    dc->fw_name = "PowerPC,POWER9-X";\n')}
POWER9_PVR = {"target/ppc/cpu-models.h": ("CPU_POWERPC_POWER9_DD22        = 0x004E1202,",
                                          "CPU_POWERPC_POWER9_DD22        = 0x004E1203,")}
# ppc: common code most models read (register_non_embedded_sprs(): 198 models)
SHARED_SPRS = {"target/ppc/helper_regs.c": ("    /* Exception processing */\n    spr_register_kvm(env, SPR_DSISR,",
                                             "    (void)env;\n    spr_register_kvm(env, SPR_DSISR,")}
# s390x: one more base feature for generation 15 (the generator adds it to every later one)
GEN15_FEATURE = {"target/s390x/gen-features.c": ("static uint16_t base_GEN15_GA1[] = {\n",
                                                 "static uint16_t base_GEN15_GA1[] = {\n    S390_FEAT_DEFLATE_BASE,\n")}


@pytest.fixture(scope="module")
def branches(clone):
    for name, edits in [("pmp", PMP_DROPPED), ("reformat", REFORMATTED), ("max", MAX_CHANGED),
                        ("c906", C906_REMOVED), ("power9", POWER9_FAMILY), ("pvr", POWER9_PVR),
                        ("gen15", GEN15_FEATURE), ("sprs", SHARED_SPRS)]:
        make_branch(clone, f"models-{name}", edits)
    return clone


def findings(repo, branch: str, cpu: str | None = None, only: str | None = None):
    old, new = git_revision_tree(str(repo), "v10.0.2"), git_revision_tree(str(repo), f"models-{branch}")
    return other_model_findings(old, new, cpu, None, only)


def by_model(found) -> dict[str, object]:
    return {dict(f.args)["model"]: f for f in found}


def test_a_riscv_init_function_changed_is_one_finding_per_model_using_it(branches) -> None:
    found, notes = findings(branches, "pmp")
    assert notes == []
    models = by_model(found)
    assert sorted(models) == ["shakti-c", "sifive-u54"]
    u54 = models["sifive-u54"]
    assert (u54.rule, u54.severity, u54.directions, u54.target) == (
        "cpu-model-changed", "warning", ("backward", "forward"), "riscv")
    # the row of riscv_cpu_type_infos[] on both sides (a line less above it in NEW), and
    # the init function read
    assert (u54.old.file, u54.old.line, u54.new.file, u54.new.line) == (
        "target/riscv/cpu.c", 3257, "target/riscv/cpu.c", 3256)
    changes = dict(u54.args)["changes"]
    assert "target/riscv/cpu.c:3257 (OLD), target/riscv/cpu.c:3256 (NEW)" in changes
    assert "rv64_sifive_u_cpu_init (target/riscv/cpu.c:500)" in changes
    assert changes.endswith("not evaluated: what the guest sees may or may not differ")


def test_cpu_restricts_to_one_model(branches) -> None:
    found, _ = findings(branches, "pmp", cpu="sifive-u54")
    assert list(by_model(found)) == ["sifive-u54"]
    assert findings(branches, "pmp", cpu="rv64")[0] == []


def test_target_restricts_to_its_directory(branches) -> None:
    assert findings(branches, "pmp", only="ppc") == ([], [])
    assert sorted(by_model(findings(branches, "pmp", only="riscv")[0])) == ["shakti-c", "sifive-u54"]


def test_reformatting_and_comments_change_nothing(branches) -> None:
    old, new = git_revision_tree(str(branches), "v10.0.2"), git_revision_tree(str(branches), "models-reformat")
    assert changed_dirs(old, new) == ["riscv"]  # the directory was read, and found the same
    assert findings(branches, "reformat") == ([], [])


def test_max_is_info_not_migration_stable_by_design(branches) -> None:
    found, _ = findings(branches, "max")
    assert {name: (f.severity, f.directions) for name, f in by_model(found).items()} == {
        "max": ("info", ()), "max32": ("info", ())}
    assert "not migration-stable by design" in dict(found[0].args)["changes"]


def test_a_removed_model_is_an_error(branches) -> None:
    [removed], _ = findings(branches, "c906")
    assert dict(removed.args)["model"] == "thead-c906" and removed.severity == "error"
    assert removed.old.file == "target/riscv/cpu.c" and removed.new is None
    assert "removed from NEW" in dict(removed.args)["changes"]


def test_a_ppc_family_class_init_changes_its_models_and_a_pvr_one_model(branches) -> None:
    found, _ = findings(branches, "power9")
    models = by_model(found)
    assert sorted(models) == ["power9_v2.0", "power9_v2.2"]
    assert models["power9_v2.2"].old.file == "target/ppc/cpu-models.c" and models["power9_v2.2"].target == "ppc"
    assert "ppc_POWER9_cpu_family_class_init (target/ppc/cpu_init.c:" in dict(models["power9_v2.2"].args)[
        "changes"]
    found, _ = findings(branches, "pvr")
    assert list(by_model(found)) == ["power9_v2.2"]


def test_common_code_of_many_models_is_info_grouped_by_its_cause(branches) -> None:
    """One change to a function more than 8 models read is not a warning per model: each
    is info, with that function as the cause every format groups them under."""
    found, _ = findings(branches, "sprs")
    assert len(found) > 100
    assert {f.severity for f in found} == {"info"}, {f.severity for f in found}
    assert {f.cause.symbol for f in found if f.cause} == {"register_non_embedded_sprs()"}
    assert all(f.cause is not None and f.cause.new.file == "target/ppc/helper_regs.c" for f in found)
    assert "only code more than 8 models read changed" in dict(found[0].args)["changes"]


def test_an_s390x_generation_s_features_change_it_and_the_later_ones(branches) -> None:
    found, _ = findings(branches, "gen15")
    models = by_model(found)
    assert {"gen15a", "gen15b", "gen16a", "gen16b", "gen17a", "gen17b"} <= set(models)
    assert not {"z14", "z14ZR1", "z13", "z900"} & set(models)
    assert all(f.severity == "warning" and f.target == "s390x" for f in models.values() if f.severity != "info")
    assert models["gen15a"].old.file == "target/s390x/cpu_models.c"


def test_a_revision_against_itself_reports_nothing(branches) -> None:
    tree = git_revision_tree(str(branches), "v10.0.2")
    assert other_model_findings(tree, tree) == ([], [])


def test_models_of_the_releases_and_the_targets_not_understood(qemu_repo) -> None:
    tree = git_revision_tree(qemu_repo, "v10.0.2")
    riscv = target_models(tree, "riscv").models
    assert riscv["sifive-u54"].file == "target/riscv/cpu.c" and riscv["rv64"].unstable  # a dynamic CPU
    assert not riscv["sifive-u54"].unstable
    assert len(target_models(tree, "ppc").models) == 306
    s390x = target_models(tree, "s390x").models
    assert "z900" in s390x and s390x["qemu"].unstable and s390x["max"].unstable
    [note] = target_models(tree, "xtensa").notes
    assert note.startswith("CPU models of target/xtensa: no named model found in target/xtensa/cpu.c")


def test_the_cache_answers_a_second_run(branches, tmp_path) -> None:
    old, new = git_revision_tree(str(branches), "v10.0.2"), git_revision_tree(str(branches), "models-pmp")
    with Cache(str(tmp_path / "cache")) as cache:
        assert Store(cache).get(CPU_REGS, models_key(new, "riscv")) is None
        first = other_model_findings(old, new, None, cache)
    with Cache(str(tmp_path / "cache")) as cache:  # both trees' riscv models are stored, by their files
        assert Store(cache).get(CPU_REGS, models_key(old, "riscv")) is not None
        assert Store(cache).get(CPU_REGS, models_key(new, "riscv")) is not None
        second = other_model_findings(old, new, None, cache)
    assert [f.fingerprint for f in first[0]] == [f.fingerprint for f in second[0]] and len(first[0]) == 2


def test_check_with_target_and_cpu_reports_that_model_for_that_target(branches, tmp_path) -> None:
    """The whole check (app/check.py): --target riscv64 reads target/riscv only, and --cpu
    keeps one model; the finding names the build that holds it."""
    result = CliRunner().invoke(main, ["--format", "json", "--repo", str(branches), "--cache-dir", str(tmp_path),
                                       "--target", "riscv64", "--cpu", "sifive-u54", "v10.0.2..models-pmp"],
                                catch_exceptions=False)
    report = json.loads(result.output)
    [finding] = [f for f in report["findings"] if f["rule"] == "cpu-model-changed"]
    assert finding["message"].startswith("CPU model sifive-u54 changed: the text of its definition changed")
    assert (finding["target"], finding["targets"]) == ("riscv", ["riscv64"])
    assert not any(n.startswith("CPU models of target/") for n in report["notes"])
