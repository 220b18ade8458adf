"""What the report says about a finding, in every format: an unresolved construct is
"not checked", never "wire-compatible" (samples/unresolved, a real review of a patch)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_review import DEVICE, commit, edit, env, format_patches, make_repo, vmsd_lint  # noqa: F401 (env: a fixture)

from vmsd_lint.app.check import Options, run_check
from vmsd_lint.report.formats import CHECK_FORMATS, RenderOptions

ROOT = Path(__file__).resolve().parents[1]
UNRESOLVED = ROOT / "samples" / "unresolved"


@pytest.fixture(scope="module")
def unresolved_report():
    report = run_check(str(UNRESOLVED / "old"), str(UNRESOLVED / "new"), Options())
    assert [f.rule for f in report.findings] == ["unresolved"]
    return report


@pytest.mark.parametrize("name", list(CHECK_FORMATS))
def test_an_unresolved_finding_says_not_checked_in_every_format(unresolved_report, name):
    rendered = CHECK_FORMATS[name].render(unresolved_report, RenderOptions())
    if name == "sarif":  # its rule descriptors hold the whole catalogue: the result's own words
        [result] = json.loads(rendered)["runs"][0]["results"]
        rendered = result["message"]["text"]
    elif name == "html":  # the finding's row (the diagnostics table names the construct too)
        rendered = "\n".join(x for x in rendered.splitlines() if x.startswith("<tr class="))
    elif name == "json":
        [finding] = json.loads(rendered)["findings"]
        rendered = finding["verdict"]
    [line] = [x for x in rendered.splitlines() if "VMSTATE_ZYNQ_SLCR_REGS" in x or name == "json"]
    assert "not checked" in line
    assert "wire-compatible" not in rendered


def test_a_compatible_finding_still_says_wire_compatible():
    sample = ROOT / "samples" / "field-renamed"
    report = run_check(str(sample / "old"), str(sample / "new"), Options())
    [finding] = json.loads(CHECK_FORMATS["json"].render(report, RenderOptions()))["findings"]
    assert (finding["rule"], finding["verdict"]) == ("field-renamed", "wire-compatible")


def test_a_review_counts_an_unresolved_construct_as_not_checked(tmp_path, env):  # noqa: F811 (a fixture)
    """A patch that makes a field unresolvable: the reply does not call it compatible."""
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, "VMSTATE_UINT32(isense, PL061State)", "VMSTATE_PL061_GENERATED(isense, PL061State)")
    commit(repo, env, "pl061: use a generated macro")
    patch = format_patches(repo, env, 1, tmp_path / "p.patch")
    proc = vmsd_lint(env, "review", "--repo", str(repo), str(patch))
    assert proc.returncode == 0, proc.stderr
    assert "1 construct not checked" in proc.stdout
    assert "wire-compatible" not in proc.stdout
