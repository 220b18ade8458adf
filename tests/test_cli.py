"""The command line: output shapes, exit statuses, one-line errors (no QEMU repo needed)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE

from vmsd_lint import __version__
from vmsd_lint.cli.main import main


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real entry point in a subprocess: what a user or a CI job sees."""
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("vmsd-lint: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture()
def git_repo(tmp_path: Path, sample_tree: Path) -> Path:
    """A git repository whose single commit is the sample tree."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "."], ["git", "commit", "-qm", "sample"],
                ["git", "tag", "v1"]):
        subprocess.run(cmd, cwd=sample_tree, check=True, env=env, capture_output=True)
    return sample_tree


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_dump_sample_directory_native():
    proc = run_cli("dump", "--no-cache", str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"endpoint", "commit", "target", "target_dir", "vmsds", "types", "registrations",
                         "placements", "variants", "diagnostics"}
    names = [v["name"] for v in data["vmsds"]]
    assert names == sorted(names) and "serial" in names
    serial = next(v for v in data["vmsds"] if v["name"] == "serial")
    assert serial["file"] == "hw/char/serial.c" and serial["symbol"] == "vmstate_serial"
    assert {"name", "symbol", "file", "line", "version_id", "minimum_version_id", "fields", "subsections",
            "hooks", "unmigratable", "priority", "early_setup"} <= set(serial)
    assert proc.stderr.strip() == ("vmsd-lint: 5 VMSDs, 5 fully resolved, 0 reached by no section, "
                                   "0 modelled from hand-written code; 0 diagnostics (7 files read, 6 parsed)")
    placed = {p["section"]: p["vmsd"] for p in data["placements"]}
    assert placed["serial"] == "hw/char/serial.c:vmstate_serial"  # each placement names what it sends


def test_dump_qemu_format_and_output_file(tmp_path):
    out = tmp_path / "dump.json"
    proc = run_cli("dump", "--no-cache", "--format", "qemu", "-o", str(out), str(SAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    data = json.loads(out.read_text())
    assert data["vmschkmachine"] == {"Name": "vmsd-lint"}
    assert data["serial"]["Description"]["name"] == "serial"


def test_dump_git_revision_and_worktree(git_repo):
    by_rev = run_cli("dump", "--no-cache", "--repo", str(git_repo), "v1")
    assert by_rev.returncode == 0, by_rev.stderr
    rev = json.loads(by_rev.stdout)
    assert rev["endpoint"] == "v1" and len(rev["commit"]) == 40
    # default --repo: the repository around the current directory
    from_inside = run_cli("dump", "--no-cache", "-q", "HEAD", cwd=git_repo / "hw")
    assert from_inside.returncode == 0, from_inside.stderr
    assert json.loads(from_inside.stdout)["vmsds"] == rev["vmsds"]
    (git_repo / "hw" / "char" / "serial.c").write_text(
        (git_repo / "hw" / "char" / "serial.c").read_text().replace('.version_id = 3,', '.version_id = 4,'))
    work = run_cli("dump", "--no-cache", "-q", "--repo", str(git_repo), "WORKTREE")
    assert work.returncode == 0, work.stderr
    serial = next(v for v in json.loads(work.stdout)["vmsds"] if v["name"] == "serial")
    assert serial["version_id"] == 4


def test_unknown_revision(git_repo):
    assert_one_line_error(run_cli("dump", "--repo", str(git_repo), "no-such-rev"), "no-such-rev")


def test_option_like_revision_is_refused(git_repo):
    proc = run_cli("dump", "--repo", str(git_repo), "--", "--output=/tmp/x")
    assert_one_line_error(proc)


def test_not_a_git_repository(tmp_path):
    assert_one_line_error(run_cli("dump", "HEAD", cwd=tmp_path), "not a git repository")
    assert_one_line_error(run_cli("dump", "--repo", str(tmp_path), "HEAD"), "not a git repository")
    assert_one_line_error(run_cli("dump", "--repo", str(tmp_path / "missing"), "HEAD"), "missing")


def test_non_utf8_source_is_not_a_traceback(sample_tree):
    (sample_tree / "hw" / "latin1.c").write_bytes(
        b'/* caf\xe9 \xff\xfe */\n#include "migration/vmstate.h"\n'
        b"typedef struct L { uint32_t x; } L;\n"
        b'static const VMStateDescription vmstate_l = {\n    .name = "l\xe9",\n'
        b"    .fields = (const VMStateField[]) {\n        VMSTATE_UINT32(x, L),\n"
        b"        VMSTATE_END_OF_LIST()\n    }\n};\n")
    for fmt in ("native", "qemu"):
        proc = run_cli("dump", "--no-cache", "--format", fmt, str(sample_tree))
        assert "Traceback" not in proc.stderr
        assert proc.returncode in (0, 2), proc.stderr
        if proc.returncode == 0:
            json.loads(proc.stdout)
        else:
            assert_one_line_error(proc)


def test_unwritable_output_is_one_line(tmp_path):
    proc = run_cli("dump", "--no-cache", "-o", str(tmp_path / "no" / "such" / "dir.json"), str(SAMPLE))
    assert_one_line_error(proc)


def test_cache_gives_identical_output(tmp_path):
    cache = tmp_path / "cache"
    runs = [run_cli("dump", "--cache-dir", str(cache), "--jobs", jobs, str(SAMPLE)) for jobs in ("1", "2", "1")]
    runs.append(run_cli("dump", "--no-cache", str(SAMPLE)))
    assert all(r.returncode == 0 for r in runs)
    assert len({r.stdout for r in runs}) == 1


@pytest.fixture()
def branch_named_hw(git_repo: Path) -> Path:
    """The sample repository with a branch `hw` (v1, where the tree has an hw/ folder too)
    and v2, which widens serial's lsr: hw..v2 has one error."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    serial = git_repo / "hw" / "char" / "serial.c"
    serial.write_text(serial.read_text().replace("VMSTATE_UINT8(lsr", "VMSTATE_UINT16(lsr"))
    for cmd in (["git", "branch", "hw", "v1"], ["git", "commit", "-qam", "widen lsr"], ["git", "tag", "v2"]):
        subprocess.run(cmd, cwd=git_repo, check=True, env=env, capture_output=True)
    return git_repo


def test_word_both_directory_and_revision_is_refused(branch_named_hw, tmp_path):
    """`hw` names the branch in the repository and the hw/ folder of the current directory:
    refused as git refuses an ambiguous argument, with both ways out -- also with --repo
    from another directory that has an hw/ folder, and for dump and a single REV."""
    repo = branch_named_hw
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "hw").mkdir(parents=True)
    patch = tmp_path / "widen.patch"
    patch.write_text(subprocess.run(["git", "format-patch", "--stdout", "-1", "v2"], cwd=repo, check=True,
                                    capture_output=True, text=True).stdout)
    for args, cwd in ((["hw..v2"], repo), (["--repo", str(repo), "hw..v2"], elsewhere), (["v1..hw"], repo),
                      (["hw"], repo), (["dump", "hw"], repo), (["review", "--base", "hw", str(patch)], repo)):
        assert_one_line_error(run_cli(*args, "--no-cache", cwd=cwd),
                              "'hw' is both a directory and a revision", "'./hw'", "'hw^{commit}'")
    # where no hw/ folder is in the way, hw is the branch
    proc = run_cli("--no-cache", "--repo", str(repo), "--format", "json", "hw..v2", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["old"]["kind"] == "source"


def test_explicit_path_or_revision_picks_one(branch_named_hw):
    repo = branch_named_hw
    by_revision = run_cli("--no-cache", "--format", "json", "hw^{commit}..v2", cwd=repo)
    assert by_revision.returncode == 1, by_revision.stderr
    report = json.loads(by_revision.stdout)
    v1 = subprocess.run(["git", "rev-parse", "v1"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert report["old"]["commit"] == v1
    assert [f["rule"] for f in report["findings"] if f["severity"] == "error"] == ["field-size-changed"]
    by_path = run_cli("--no-cache", "--format", "json", "./hw..v2", cwd=repo)
    assert by_path.returncode in (0, 1), by_path.stderr
    assert json.loads(by_path.stdout)["old"] == {"endpoint": "./hw", "commit": None, "kind": "source"}


def test_bare_repository_head_is_a_revision(branch_named_hw, tmp_path):
    """In a bare repository the current directory holds a file named HEAD: `OLD..` and a
    single REV still mean the repository's HEAD."""
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(branch_named_hw), str(bare)], check=True,
                   capture_output=True)
    for args in (["v1.."], ["HEAD"], ["v1..HEAD"]):
        proc = run_cli("--no-cache", "--format", "json", *args, cwd=bare)
        assert proc.returncode == 1, proc.stderr
        assert json.loads(proc.stdout)["new"]["endpoint"] == "HEAD"
