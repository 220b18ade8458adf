"""`cpu-model-changed` (diff/cpumodels.py): the released versions of the named x86 CPU
models compared between two trees, on the real QEMU repository and on tiny copies of the
sample."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import make_branch

from vmsd_lint.diff.cpumodels import cpu_model_findings
from vmsd_lint.extract.x86models import x86_models
from vmsd_lint.sources.tree import directory_tree, git_revision_tree

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "cpu-model-changed"

# Skylake-Client's base definition (every version) gets one more leaf-7 EBX feature
FEATURE_IN_RELEASED = {"target/i386/cpu.c": (
    "            CPUID_7_0_EBX_RTM | CPUID_7_0_EBX_RDSEED | CPUID_7_0_EBX_ADX |\n"
    "            CPUID_7_0_EBX_SMAP,\n"
    "        /* XSAVES is added in version 4 */\n",
    "            CPUID_7_0_EBX_RTM | CPUID_7_0_EBX_RDSEED | CPUID_7_0_EBX_ADX |\n"
    "            CPUID_7_0_EBX_SMAP | CPUID_7_0_EBX_AVX512F,\n"
    "        /* XSAVES is added in version 4 */\n")}
# the same feature the right way: a new version 5 of Skylake-Client
FEATURE_AS_NEW_VERSION = {"target/i386/cpu.c": (
    "                    { \"xsaves\", \"on\" },\n"
    "                    { \"vmx-xsaves\", \"on\" },\n"
    "                    { /* end of list */ }\n"
    "                }\n"
    "            },\n"
    "            { /* end of list */ }\n",
    "                    { \"xsaves\", \"on\" },\n"
    "                    { \"vmx-xsaves\", \"on\" },\n"
    "                    { /* end of list */ }\n"
    "                }\n"
    "            },\n"
    "            {\n"
    "                .version = 5,\n"
    "                .props = (PropValue[]) {\n"
    "                    { \"avx512f\", \"on\" },\n"
    "                    { /* end of list */ }\n"
    "                }\n"
    "            },\n"
    "            { /* end of list */ }\n")}


def copy(tmp_path: Path, old_text: str, new_text: str) -> tuple[Path, Path]:
    """The sample's OLD, and a NEW whose cpu.c has OLD_TEXT replaced by NEW_TEXT."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SAMPLE / "old", old)
    shutil.copytree(SAMPLE / "old", new)
    path = new / "target" / "i386" / "cpu.c"
    text = path.read_text()
    assert old_text in text
    path.write_text(text.replace(old_text, new_text))
    return old, new


def findings(old: Path, new: Path, cpu: str | None = None):
    return cpu_model_findings(directory_tree(str(old)), directory_tree(str(new)), cpu)


def test_a_later_version_s_property_changes_only_that_version_and_later(tmp_path):
    old, new = copy(tmp_path, '{ "msr", "off" },', '{ "msr", "on" },')
    [found] = findings(old, new)
    assert dict(found.args)["model"] == "toy-cpu" and dict(found.args)["versions"] == " in released version(s) 2"
    assert dict(found.args)["changes"] == "msr 'off' -> 'on'"


def test_a_macro_the_features_use_is_evaluated(tmp_path):
    """TOY_BASE_FEATURES is the tree's: a feature added to it changes both models."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SAMPLE / "old", old)
    shutil.copytree(SAMPLE / "old", new)
    header = new / "target" / "i386" / "cpu.h"
    header.write_text(header.read_text().replace("(CPUID_FP87 | CPUID_TSC)", "(CPUID_FP87 | CPUID_TSC | CPUID_PSE)"))
    found = findings(old, new)
    assert [dict(f.args)["model"] for f in found] == ["other-cpu", "toy-cpu"]
    assert all("+CPUID_PSE" in dict(f.args)["changes"] for f in found)


def test_a_new_model_is_quiet_and_a_removed_one_is_not(tmp_path):
    old, new = copy(tmp_path, '.name = "other-cpu"', '.name = "third-cpu"')
    [found] = findings(old, new)
    assert dict(found.args)["model"] == "other-cpu" and "removed from NEW" in dict(found.args)["changes"]
    assert findings(old, new, cpu="toy-cpu") == []


@pytest.mark.qemu
def test_the_real_models_read_and_no_released_version_changed(qemu_repo):
    """QEMU changed its x86 models between 7.2 and 10.0 only by new versions and models."""
    trees = [git_revision_tree(qemu_repo, rev) for rev in ("v7.2.0", "v10.0.2")]
    models = [x86_models(tree) for tree in trees]
    assert models[0] is not None and models[1] is not None
    assert len(models[0]) == 38 and len(models[1]) == 44 and set(models[0]) <= set(models[1])
    skylake = models[1]["Skylake-Client"]
    assert sorted(skylake.versions) == [1, 2, 3, 4]
    assert skylake.settings(3)["prop hle"].value == "off" and "prop hle" not in skylake.settings(1)
    assert "CPUID_7_0_EBX_AVX2" in skylake.base[".features[FEAT_7_0_EBX]"].names
    # only max, not versioned, changed: one info finding (tests below)
    assert [(dict(f.args)["model"], f.severity) for f in cpu_model_findings(*trees)] == [("max", "info")]


@pytest.mark.qemu
@pytest.mark.parametrize("edits, expected", [
    (FEATURE_IN_RELEASED, ("Skylake-Client", " in released version(s) 1-4", "features[FEAT_7_0_EBX] +CPUID_7_0_EBX_AVX512F")),
    (FEATURE_AS_NEW_VERSION, None),
], ids=["released-version", "new-version"])
def test_a_feature_added_to_a_released_version_or_as_a_new_one(qemu_repo, tmp_path, edits, expected):
    branch = f"cpumodel-{'released' if expected else 'new-version'}"
    make_branch(Path(qemu_repo), branch, edits)
    found = cpu_model_findings(git_revision_tree(qemu_repo, "v10.0.2"), git_revision_tree(qemu_repo, branch))
    if expected is None:
        assert found == []
        return
    [finding] = found
    assert (dict(finding.args)["model"], dict(finding.args)["versions"], dict(finding.args)["changes"]) == expected
    assert (finding.rule, finding.severity, finding.directions) == ("cpu-model-changed", "error",
                                                                  ("backward", "forward"))


def test_the_models_are_cached_as_they_were_read(tmp_path):
    """A warm check reads the models back (0.01 s instead of 0.4 s for two releases): the
    same models and the same findings as a cold read."""
    from vmsd_lint.extract.cache import Cache
    from vmsd_lint.extract.x86models import from_record, to_record
    models = x86_models(directory_tree(str(SAMPLE / "old")))
    assert models is not None and from_record(to_record(models)) == models
    old, new = copy(tmp_path, '{ "msr", "off" },', '{ "msr", "on" },')
    cold = findings(old, new)
    for _ in range(2):
        with Cache(str(tmp_path / "cache")) as cache:
            assert cpu_model_findings(directory_tree(str(old)), directory_tree(str(new)), None, cache) == cold


# max's instance_init: its PMU default turned off; and, apart, only a comment reworded
MAX_CHANGED = {"target/i386/cpu.c": ('    object_property_set_bool(OBJECT(cpu), "pmu", true, &error_abort);\n',
                                     '    object_property_set_bool(OBJECT(cpu), "pmu", false, &error_abort);\n')}
MAX_COMMENT = {"target/i386/cpu.c": ("     * these defaults are used for TCG and all other accelerators\n",
                                     "     * these defaults serve TCG and every accelerator\n")}


@pytest.mark.qemu
@pytest.mark.parametrize("edits, expected", [(MAX_CHANGED, [("max", "info")]), (MAX_COMMENT, [])],
                         ids=["code", "comment"])
def test_a_change_to_x86_max_only_is_info(qemu_repo, edits, expected):
    """max is not a versioned model: a change is expected, one info finding says so (not
    migration-stable by design); a comment is not a change."""
    branch = f"x86-max-{'code' if expected else 'comment'}"
    make_branch(Path(qemu_repo), branch, edits)
    found = cpu_model_findings(git_revision_tree(qemu_repo, "v10.0.2"), git_revision_tree(qemu_repo, branch))
    assert [(dict(f.args)["model"], f.severity) for f in found] == expected
    assert all(f.directions == () and "not migration-stable" in dict(f.args)["changes"] for f in found)
    assert all(f.old.file == f.new.file == "target/i386/cpu.c" for f in found)  # max's TypeInfo
