"""`vmsd-lint --per-commit OLD..NEW`: each finding names the commit that introduced it."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmsd_lint.cli.main import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
DEVICE = "hw/gpio/pl061.c"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=ENV).stdout.strip()


def commit_edit(repo: Path, subject: str, old: str, new: str) -> None:
    path = repo / DEVICE
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-q", "-am", subject)


def build_history(repo: Path) -> None:
    """32 commits on the PL061 sample: a field removed in commit 5, a field added in 20,
    a size change made in 10 and undone in 12; the rest touch comments or a README."""
    shutil.copytree(SAMPLES / "field-removed" / "old", repo, symlinks=False)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "tag", "base")
    for n in range(1, 33):
        if n == 5:
            commit_edit(repo, "pl061: stop migrating old_in_data", "        VMSTATE_UINT32(old_in_data, PL061State),\n", "")
        elif n == 10:
            commit_edit(repo, "pl061: widen ibe", "VMSTATE_UINT32(ibe, PL061State)", "VMSTATE_UINT64(ibe, PL061State)")
        elif n == 12:
            commit_edit(repo, "Revert \"pl061: widen ibe\"", "VMSTATE_UINT64(ibe, PL061State)", "VMSTATE_UINT32(ibe, PL061State)")
        elif n == 20:
            commit_edit(repo, "pl061: migrate pullups", "        VMSTATE_UINT32(cr, PL061State),\n",
                        "        VMSTATE_UINT32(cr, PL061State),\n        VMSTATE_UINT32(pullups, PL061State),\n")
        elif n % 2:
            commit_edit(repo, f"pl061: comment {n}", " * Written by Paul Brook", f" * Written by Paul Brook ({n})")
        else:
            (repo / "README").write_text(f"note {n}\n")
            git(repo, "add", "README")
            git(repo, "commit", "-qm", f"docs: note {n}")


def test_each_finding_names_the_commit_that_introduced_it(tmp_path) -> None:
    repo = tmp_path / "repo"
    build_history(repo)
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["--format", "json", "--per-commit", "--repo", str(repo),
                                       "--cache-dir", str(tmp_path / "cache"), "base..HEAD"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1, result.output
    findings = {f["rule"]: f for f in json.loads(result.output)["findings"]}
    assert set(findings) == {"field-removed", "field-added"}  # the widening was reverted in the range
    assert findings["field-removed"]["commit"].endswith(" pl061: stop migrating old_in_data")
    assert findings["field-added"]["commit"].endswith(" pl061: migrate pullups")
    sha = git(repo, "log", "--format=%H", "--grep", "stop migrating")
    assert findings["field-removed"]["commit"].startswith(sha[:12])
    print(f"--per-commit over 32 commits: {elapsed:.1f} s")


def test_per_commit_needs_revisions(tmp_path) -> None:
    old, new = SAMPLES / "field-removed" / "old", SAMPLES / "field-removed" / "new"
    result = CliRunner().invoke(main, ["--per-commit", "--repo", str(SAMPLES.parent), f"{old}..{new}"])
    assert result.exit_code == 2 and "--per-commit needs two git revisions" in result.output


def test_an_unresolved_finding_names_its_commit_too(tmp_path) -> None:
    """Per-commit goes through the same report builder as a plain run (timeline.py), so the
    `unresolved` finding a commit brings is attributed like any other."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLES / "field-removed" / "old", repo, symlinks=False)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "tag", "base")
    commit_edit(repo, "pl061: a comment", " * Written by Paul Brook", " * Written by Paul Brook (1)")
    commit_edit(repo, "pl061: a field macro nobody defines", "VMSTATE_UINT32(cr, PL061State)",
                "VMSTATE_NO_SUCH_MACRO(cr, PL061State)")
    result = CliRunner().invoke(main, ["--format", "json", "--per-commit", "--repo", str(repo), "--no-cache",
                                       "base..HEAD"])
    findings = json.loads(result.output)["findings"]
    unresolved = [f for f in findings if f["rule"] == "unresolved"]
    assert unresolved and all(f["commit"].endswith(" pl061: a field macro nobody defines") for f in unresolved)


def sample_history(repo: Path, sample: str) -> None:
    """A history of SAMPLE: its OLD tree, a commit editing a comment in one of its C files,
    the commit making it NEW, and a README change."""
    shutil.copytree(SAMPLES / sample / "old", repo, symlinks=False)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "tag", "base")
    source = next(p for p in sorted(repo.rglob("*.c")))
    source.write_text(source.read_text() + "/* a comment */\n")
    git(repo, "commit", "-qam", "a comment")
    # (copied with fresh times: copytree's copy2 keeps the sample's, and a file of the same
    # size and time as the one it replaces is one git's index takes as unchanged)
    shutil.copytree(SAMPLES / sample / "new", repo, dirs_exist_ok=True, copy_function=shutil.copy)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"the {sample} change")
    (repo / "README").write_text("note\n")
    git(repo, "add", "README")
    git(repo, "commit", "-qm", "docs: note")


@pytest.mark.parametrize(("sample", "options"), [
    ("cpu-registers-changed", ["--cpu", "cortex-a57"]),
    ("cpu-register-value-changed", ["--cpu", "cortex-a57"]),
    ("cpu-model-changed", []),
    ("property-default-changed", []),
])
def test_findings_of_the_machine_fact_detectors_name_their_commit_too(tmp_path, sample, options) -> None:
    """CPU lists and models and property defaults are found after the report is built
    (check.detected): each step runs them too, so their findings name a commit."""
    repo = tmp_path / "repo"
    sample_history(repo, sample)
    result = CliRunner().invoke(main, ["--format", "json", "--per-commit", "--repo", str(repo), *options,
                                       "--cache-dir", str(tmp_path / "cache"), "base..HEAD"])
    assert result.exit_code in (0, 1), result.output
    findings = [f for f in json.loads(result.output)["findings"] if f["rule"] == sample]
    assert findings
    assert all(f["commit"] and f["commit"].endswith(f" the {sample} change") for f in findings), findings
