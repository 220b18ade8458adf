"""Every rule runs on every sample; each sample's exact findings are a snapshot.

samples/<name>/old and samples/<name>/new are small QEMU-like trees; the findings of
`vmsd-lint old..new` are compared with samples/<name>/expected.json (rule, severity,
directions, vmsd, path, sections, types and old/new file:line).  A rule that fires on
another type's sample shows up as a snapshot difference.

Regenerate after an intended change: VMSD_LINT_UPDATE_SNAPSHOTS=1 pytest tests/test_samples.py
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vmsd_lint.app.check import Options, run_check
from vmsd_lint.catalogue import load_catalogue
from vmsd_lint.report.check_json import finding_dict

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
PAIRED = sorted(p.name for p in SAMPLES.iterdir() if (p / "old").is_dir() and (p / "new").is_dir())
UPDATE = os.environ.get("VMSD_LINT_UPDATE_SNAPSHOTS") == "1"
SNAPSHOT_KEYS = ("rule", "severity", "directions", "vmsd", "path", "sections", "types", "old", "new")


def findings_of(old: Path, new: Path) -> list[dict]:
    report = run_check(str(old), str(new), Options())
    return [{k: v for k, v in finding_dict(f).items() if k in SNAPSHOT_KEYS} for f in report.findings]


@pytest.mark.parametrize("name", PAIRED)
def test_sample_findings_match_snapshot(name: str) -> None:
    sample = SAMPLES / name
    found = findings_of(sample / "old", sample / "new")
    expected_file = sample / "expected.json"
    if UPDATE:
        expected_file.write_text(json.dumps(found, indent=2) + "\n")
    assert expected_file.exists(), f"{expected_file} missing: run with VMSD_LINT_UPDATE_SNAPSHOTS=1 and review it"
    assert found == json.loads(expected_file.read_text())


@pytest.mark.parametrize("name", PAIRED)
@pytest.mark.parametrize("side", ["old", "new"])
def test_sample_against_itself_reports_nothing(name: str, side: str) -> None:
    tree = SAMPLES / name / side
    assert findings_of(tree, tree) == []


def sample_type(name: str) -> str | None:
    """The catalogue type a sample is about: its name, or its name less a "-variant" suffix."""
    catalogue = load_catalogue()
    return name if name in catalogue else name.rsplit("-", 1)[0] if name.rsplit("-", 1)[0] in catalogue else None


@pytest.mark.parametrize("name", [n for n in PAIRED if sample_type(n)])
def test_each_type_sample_reports_its_own_type(name: str) -> None:
    expected = json.loads((SAMPLES / name / "expected.json").read_text())
    assert sample_type(name) in {f["rule"] for f in expected}


def test_every_catalogue_type_has_a_sample_and_every_sample_a_purpose() -> None:
    catalogue = set(load_catalogue())
    assert catalogue <= set(PAIRED), f"types without a sample: {sorted(catalogue - set(PAIRED))}"
    extra = {name for name in set(PAIRED) - catalogue if name.rsplit("-", 1)[0] not in catalogue}
    assert extra <= {"nested-change", "compatible"}, f"samples that name no catalogue type: {sorted(extra)}"


def test_every_rule_reported_somewhere_is_in_the_catalogue() -> None:
    catalogue = set(load_catalogue())
    for name in PAIRED:
        expected = json.loads((SAMPLES / name / "expected.json").read_text())
        assert {f["rule"] for f in expected} <= catalogue, name


def test_a_change_where_headers_are_missing_is_a_finding_not_clean(tmp_path: Path) -> None:
    """A sample copied out of the checkout loses its include/ (a link out of the tree, not
    followed): its field macros no longer expand.  The removed field cannot be checked,
    but the change is still a finding -- OLD's unexpanded field is gone from NEW."""
    for side in ("old", "new"):
        source = SAMPLES / "field-removed" / side
        shutil.copytree(source / "hw", tmp_path / side / "hw")  # hw/ only: no include/
    found = findings_of(tmp_path / "old", tmp_path / "new")
    assert [(f["rule"], f["severity"], f["old"]["line"]) for f in found] == [("unresolved", "info", 63)]
    assert "VMSTATE_UINT32(old_in_data, PL061State) does not expand" in found[0]["path"]
    assert findings_of(tmp_path / "old", tmp_path / "old") == []
