"""The command line: output shapes, exit statuses, one-line errors (no QEMU repo needed)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmsd_lint import __version__
from vmsd_lint.cli import main

from conftest import SAMPLE


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real entry point in a subprocess: what a user or a CI job sees."""
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli", *args], cwd=cwd,
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
