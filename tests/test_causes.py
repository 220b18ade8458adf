"""A macro of a header that many fields expand: every finding it makes names it as its
cause (diff/causes.py), and every format groups them (report/causes.py).  On branches of
the real QEMU repository, each one line changed over v10.0.2."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import git, make_branch, shared_clone

from vmsd_lint.cli.main import main

pytestmark = pytest.mark.qemu

I2C_HEADER = "include/hw/i2c/aspeed_i2c.h"
PCI_HEADER = "include/hw/pci/pci_device.h"
BRANCHES = {
    # (a) a constant sizing one array: aspeed.i2c's bus registers
    "i2c-regs": {I2C_HEADER: ("#define ASPEED_I2C_NEW_NUM_REG 28", "#define ASPEED_I2C_NEW_NUM_REG 30")},
    # (b) one line of VMSTATE_PCI_DEVICE, which every PCI device's VMSD expands: the
    # PCIDevice it sends becomes an array of two
    "pci-device-array": {PCI_HEADER: (
        "    .flags      = VMS_STRUCT,                                        \\\n"
        "    .offset     = vmstate_offset_value(_state, _field, PCIDevice),",
        "    .flags      = VMS_STRUCT | VMS_ARRAY, .num = 2,                  \\\n"
        "    .offset     = vmstate_offset_value(_state, _field, PCIDevice),")},
    # an enum constant sizing three arrays of the RX timer
    "cmt-channels": {"include/hw/timer/renesas_cmt.h": ("    CMT_CH = 2,", "    CMT_CH = 3,")},
    # the constant and the field's own line both changed: the field's line is the change
    "i2c-regs-and-field": {
        I2C_HEADER: ("#define ASPEED_I2C_NEW_NUM_REG 28", "#define ASPEED_I2C_NEW_NUM_REG 30"),
        "hw/i2c/aspeed_i2c.c": ("VMSTATE_UINT32_ARRAY(regs, AspeedI2CBus, ASPEED_I2C_NEW_NUM_REG)",
                                "VMSTATE_UINT32_ARRAY(regs, AspeedI2CBus, ASPEED_I2C_NEW_NUM_REG + 2)")},
}


@pytest.fixture(scope="module")
def clone(qemu_repo, tmp_path_factory):
    path = shared_clone(qemu_repo, tmp_path_factory.mktemp("causes") / "qemu")
    for name, edits in BRANCHES.items():
        make_branch(path, name, edits)
    return path


@pytest.fixture(scope="module")
def check(clone, tmp_path_factory):
    """check(branch, format) -> (exit code, output) of v10.0.2..BRANCH, one cache for all."""
    cache = tmp_path_factory.mktemp("cache")

    def run(branch: str, fmt: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--format", fmt, "--repo", str(clone), "--cache-dir", str(cache),
                                           f"v10.0.2..{branch}"], catch_exceptions=False)
        return result.exit_code, result.output
    return run


def line_of(clone, rev: str, path: str, pattern: str) -> int:
    """The 1-based line of REV:PATH where PATTERN (a regex) first matches."""
    for number, line in enumerate(git(clone, "show", f"{rev}:{path}").splitlines(), 1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"{pattern} not in {rev}:{path}")


def findings(check, branch: str) -> list[dict]:
    return json.loads(check(branch, "json")[1])["findings"]


def test_a_changed_constant_is_the_cause_of_its_array_finding(check, clone):
    [finding] = findings(check, "i2c-regs")
    assert (finding["rule"], finding["path"]) == ("field-size-changed", "aspeed.i2c/regs")
    define = r"^#define ASPEED_I2C_NEW_NUM_REG\b"
    assert finding["cause"] == {
        "symbol": "ASPEED_I2C_NEW_NUM_REG",
        "old": {"file": I2C_HEADER, "line": line_of(clone, "v10.0.2", I2C_HEADER, define)},
        "new": {"file": I2C_HEADER, "line": line_of(clone, "i2c-regs", I2C_HEADER, define)}}
    text = check("i2c-regs", "text")[1]
    assert f"cause: ASPEED_I2C_NEW_NUM_REG changed at {I2C_HEADER}:{finding['cause']['new']['line']}, 1 section" \
        in text.splitlines()


def test_a_changed_line_of_vmstate_pci_device_is_the_cause_of_every_pci_finding(check, clone):
    found = findings(check, "pci-device-array")
    assert len(found) >= 60  # every PCI device's VMSD sends a PCIDevice
    assert {f["rule"] for f in found} == {"field-size-changed"}
    # the changed line itself, not the #define's first line
    changed = line_of(clone, "pci-device-array", PCI_HEADER, r"VMS_STRUCT \| VMS_ARRAY, \.num = 2")
    assert changed > line_of(clone, "pci-device-array", PCI_HEADER, r"^#define VMSTATE_PCI_DEVICE\(")
    expected = {"symbol": "VMSTATE_PCI_DEVICE", "old": {"file": PCI_HEADER, "line": changed},
                "new": {"file": PCI_HEADER, "line": changed}}
    assert all(f["cause"] == expected for f in found), [f["cause"] for f in found if f["cause"] != expected]
    sections = {s for f in found for s in (f["sections"] or [f["vmsd"]])}

    # text: one heading a severity block, naming the change and how many sections it reaches
    code, text = check("pci-device-array", "text")
    assert code == 1
    heading = f"cause: VMSTATE_PCI_DEVICE changed at {PCI_HEADER}:{changed}, {len(sections)} sections"
    severities = {f["severity"] for f in found}
    assert text.splitlines().count(heading) == len(severities)

    # github: one annotation, at the changed line, listing the sections
    github = check("pci-device-array", "github")[1]
    annotations = [line for line in github.splitlines() if line.startswith("::")]
    assert len(annotations) == 1, annotations
    [annotation] = annotations
    assert annotation.startswith(f"::error file={PCI_HEADER},line={changed},")
    assert all(section in annotation for section in sections)

    # markdown: one entry for the cause, no table row for its findings
    markdown = check("pci-device-array", "markdown")[1]
    assert markdown.count("- **cause**: `VMSTATE_PCI_DEVICE`") == 1
    assert "| field-size-changed |" not in markdown.replace("`", "")

    # SARIF: a result a finding, the changed line as a related location of each
    sarif = check("pci-device-array", "sarif")[1]
    results = json.loads(sarif)["runs"][0]["results"]
    assert len(results) == len(found)
    for result in results:
        related = [(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
                   for r in result["relatedLocations"]]
        assert (PCI_HEADER, changed) in related

    # HTML: the causes list links to the table filtered to them
    html = check("pci-device-array", "html")[1]
    assert 'href="#q=cause%3A%20VMSTATE_PCI_DEVICE"' in html
    assert html.count("cause: <code>VMSTATE_PCI_DEVICE</code>") == len(found)


def test_a_changed_enum_constant_is_the_cause_at_its_enumerator(check, clone):
    found = findings(check, "cmt-channels")
    # every array of RCMTState sized by CMT_CH (hw/timer/renesas_cmt.c)
    assert {f["vmsd"] for f in found} == {"rx-cmt"} and {f["rule"] for f in found} == {"field-size-changed"}
    assert {"rx-cmt/cmcnt", "rx-cmt/cmcor", "rx-cmt/cmcr"} <= {f["path"] for f in found}
    header = "include/hw/timer/renesas_cmt.h"
    line = {rev: line_of(clone, rev, header, r"^\s+CMT_CH = ") for rev in ("v10.0.2", "cmt-channels")}
    assert all(f["cause"] == {"symbol": "CMT_CH", "old": {"file": header, "line": line["v10.0.2"]},
                              "new": {"file": header, "line": line["cmt-channels"]}} for f in found), found
    text = check("cmt-channels", "text")[1]
    assert f"cause: CMT_CH changed at {header}:{line['cmt-channels']}, 1 section" in text.splitlines()


def test_a_field_whose_own_line_changed_has_no_cause(check):
    [finding] = findings(check, "i2c-regs-and-field")
    assert (finding["rule"], finding["path"]) == ("field-size-changed", "aspeed.i2c/regs")
    assert finding["cause"] is None


def _field_definitions(extraction) -> dict:
    return {(key, index): (field.text, field.depends.entries if field.depends else None)
            for key, vmsd in extraction.vmsds.items() for index, field in enumerate(vmsd.fields or ())}


def test_what_fields_record_is_the_same_cold_warm_and_with_one_or_two_jobs(qemu_repo, tmp_path):
    """A field's definitions are recorded outside the index's memoized work (a struct's
    layout, an #if), so they do not depend on which file was resolved first."""
    from vmsd_lint.app.check import Options, extract_endpoint
    from vmsd_lint.extract.cache import Cache

    recorded = []
    for jobs, cache_dir in ((1, "one"), (2, "two"), (2, "two")):  # the last one warm
        cache = Cache(str(tmp_path / cache_dir))
        try:
            recorded.append(_field_definitions(extract_endpoint("v10.0.2", Options(repo=qemu_repo, jobs=jobs,
                                                                                   cache=cache))))
        finally:
            cache.close()
    assert recorded[0] == recorded[1] == recorded[2]
    assert sum(1 for text, entries in recorded[0].values() if entries) > 5000  # most fields expand a macro


def test_a_pathspec_naming_the_changed_header_keeps_the_findings_it_causes(clone, tmp_path):
    """`-- PATHSPEC` counts a finding when its VMSD's file or its cause's file matches."""
    def run(*pathspec: str) -> list[dict]:
        result = CliRunner().invoke(main, ["--format", "json", "--repo", str(clone), "--cache-dir", str(tmp_path),
                                           "v10.0.2..i2c-regs", "--", *pathspec], catch_exceptions=False)
        return json.loads(result.output)["findings"]
    assert [f["cause"]["symbol"] for f in run(I2C_HEADER)] == ["ASPEED_I2C_NEW_NUM_REG"]
    assert [f["path"] for f in run("hw/i2c/")] == ["aspeed.i2c/regs"]  # the VMSD's own file
    assert run("hw/pci/", "include/hw/pci/") == []
