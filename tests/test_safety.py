"""The repository under analysis is read-only to vmsd-lint, and none of its code runs.

A test repository holds the serial sample (two commits, a staged change, an unstaged
one) and a hostile configuration: core.fsmonitor, core.hooksPath, hooks in .git/hooks,
an external diff, a textconv driver, clean/smudge/process filters (with .gitattributes),
core.sshCommand, core.pager, core.editor, aliases over the commands vmsd-lint runs,
credential and gpg helpers, safe.directory = * ... -- each would create a marker file if
git ran it.  Every command (check in its forms, dump, graph, pre-commit, review) must
work, leave .git and the working tree byte-identical (and untouched: same mtimes), and
create no marker.  Revision arguments starting with '-' are refused and never reach git.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vmsd_lint.cli import main

from conftest import SAMPLE

HAS_REVIEW = "review" in main.commands
SETUP_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
HOOKS = ("post-checkout", "post-index-change", "reference-transaction", "fsmonitor-watchman", "pre-commit",
         "post-commit", "pre-auto-gc", "post-rewrite", "post-merge", "pre-push", "push-to-checkout",
         "sendemail-validate", "p4-pre-submit", "post-update", "update", "prepare-commit-msg", "commit-msg")


def _script(path: Path, marker: Path, extra: str = "") -> str:
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\n{extra}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def _git(repo: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={**SETUP_ENV, **(env or {})}).stdout


@pytest.fixture()
def hostile(tmp_path: Path) -> dict[str, Path]:
    """The test repository (set up with git first, then armed), its marker directory, a
    home without configuration, and a patch onto v1 for review."""
    home = tmp_path / "home"
    home.mkdir()
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    env = {"HOME": str(home)}
    (repo / ".gitattributes").write_text("* diff=evil filter=x merge=evil\n*.c text eol=crlf\n")
    _git(repo, "init", "-q", "-b", "main", env=env)
    _git(repo, "add", ".", env=env)
    _git(repo, "commit", "-qm", "one", env=env)
    _git(repo, "tag", "v1", env=env)
    serial = repo / "hw/char/serial.c"
    serial.write_text(serial.read_text().replace("VMSTATE_UINT8(lsr", "VMSTATE_UINT16(lsr"))
    _git(repo, "commit", "-qam", "two", env=env)
    _git(repo, "tag", "v2", env=env)
    patch = tmp_path / "series.mbox"
    patch.write_text(_git(repo, "format-patch", "--stdout", "v1..v2", env=env))
    serial.write_text(serial.read_text().replace("VMSTATE_UINT8(scr", "VMSTATE_UINT16(scr"))
    _git(repo, "add", "hw/char/serial.c", env=env)  # staged
    serial.write_text(serial.read_text().replace("VMSTATE_UINT8(msr", "VMSTATE_UINT32(msr"))  # unstaged

    # Arm it: from here on, no git command of this test may run in the repository.
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    hooks_path = tmp_path / "hooks-path"
    hooks_path.mkdir()
    for name in HOOKS:
        _script(repo / ".git" / "hooks" / name, markers / f"hook-{name}")
        _script(hooks_path / name, markers / f"hooks-path-{name}")

    def s(name: str, extra: str = "") -> str:
        return _script(scripts / name, markers / name, extra)

    config = f"""
[core]
\tfsmonitor = {s("fsmonitor")}
\thooksPath = {hooks_path}
\tsshCommand = {s("ssh-command")}
\tpager = {s("pager", "cat")}
\teditor = {s("editor")}
\taskPass = {s("askpass")}
\tgitProxy = {s("git-proxy")}
\talternateRefsCommand = {s("alternate-refs")}
\tuntrackedCache = true
\tpreloadIndex = true
[diff]
\texternal = {s("diff-external")}
[diff "evil"]
\ttextconv = {s("textconv", 'cat "$1"')}
\tcommand = {s("diff-command")}
[merge "evil"]
\tdriver = {s("merge-driver")}
[filter "x"]
\tclean = {s("filter-clean", "cat")}
\tsmudge = {s("filter-smudge", "cat")}
\tprocess = {s("filter-process")}
\trequired = true
[alias]
\trev-parse = !{s("alias-rev-parse")}
\tls-tree = !{s("alias-ls-tree")}
\tls-files = !{s("alias-ls-files")}
\tcat-file = !{s("alias-cat-file")}
\tstatus = !{s("alias-status")}
[safe]
\tdirectory = *
[credential]
\thelper = !{s("credential-helper")}
[gpg]
\tprogram = {s("gpg")}
[log]
\tshowSignature = true
[uploadpack]
\tpackObjectsHook = {s("pack-objects-hook")}
[protocol]
\tallow = always
[sequence]
\teditor = {s("sequence-editor")}
[pager]
\tls-files = {s("pager-ls-files")}
\tcat-file = {s("pager-cat-file")}
"""
    with open(repo / ".git" / "config", "a") as fh:
        fh.write(config)
    return {"repo": repo, "markers": markers, "home": home, "patch": patch, "tmp": tmp_path}


def snapshot(repo: Path) -> dict[str, tuple]:
    """Every file of .git and of the working tree: content digest, size, mtime, mode."""
    state = {}
    for path in sorted(repo.rglob("*")):
        if path.is_file() or path.is_symlink():
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else os.readlink(path)
            state[str(path.relative_to(repo))] = (digest, info.st_size, info.st_mtime_ns, info.st_mode)
        elif path.is_dir():
            state[str(path.relative_to(repo)) + "/"] = (path.lstat().st_mode,)
    return state


def git_state(repo: Path) -> dict[str, str]:
    """HEAD, refs, packed-refs, index, config and the list of object files, as hashes."""
    git_dir = repo / ".git"
    parts = {name: hashlib.sha256((git_dir / name).read_bytes()).hexdigest()
             for name in ("HEAD", "index", "config", "packed-refs") if (git_dir / name).exists()}
    parts["refs"] = hashlib.sha256("\n".join(f"{p.relative_to(git_dir)} {p.read_text()}"
                                             for p in sorted((git_dir / "refs").rglob("*")) if p.is_file())
                                   .encode()).hexdigest()
    parts["objects"] = hashlib.sha256("\n".join(str(p.relative_to(git_dir))
                                                for p in sorted((git_dir / "objects").rglob("*")))
                                      .encode()).hexdigest()
    return parts


def run(args: list[str], cwd: Path, home: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **(extra_env or {}))
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


COMMANDS = {  # name: (arguments; {repo}, {patch} filled in), run from the repository or elsewhere
    "check-range": (["--repo", "{repo}", "v1..v2"], False),
    "check-single-rev": (["check", "--repo", "{repo}", "v2"], False),
    "check-from-cwd": (["v1..v2", "--format", "json"], True),
    "check-worktree": (["--repo", "{repo}", "v2..WORKTREE", "--show-diagnostics"], False),
    "check-index": (["--repo", "{repo}", "v2..INDEX", "--format", "sarif"], False),
    "check-index-worktree": (["INDEX..WORKTREE", "--format", "markdown"], True),
    "check-no-cache": (["--repo", "{repo}", "--no-cache", "v1..v2", "--format", "github"], False),
    "dump-rev": (["dump", "--repo", "{repo}", "v1"], False),
    "dump-worktree": (["dump", "--format", "qemu", "WORKTREE"], True),
    "dump-index": (["dump", "--repo", "{repo}", "INDEX"], False),
    "graph": (["graph", "--repo", "{repo}", "v2"], False),
    "graph-worktree": (["graph", "--format", "json", "WORKTREE"], True),
    "pre-commit": (["pre-commit"], True),
    "pre-commit-json": (["pre-commit", "--repo", "{repo}", "--format", "json"], False),
    "review": (["review", "--repo", "{repo}", "--base", "v1", "--format", "text", "{patch}"], False),
    "review-from-cwd": (["review", "--base", "v1", "--format", "json", "{patch}"], True),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_repository_untouched_and_none_of_its_code_runs(hostile, name):
    if name.startswith("review") and not HAS_REVIEW:
        pytest.skip("no `vmsd-lint review` command yet")
    repo, markers = hostile["repo"], hostile["markers"]
    args, from_repo = COMMANDS[name]
    args = [a.format(repo=repo, patch=hostile["patch"]) for a in args]
    before, before_git = snapshot(repo), git_state(repo)
    proc = run(args, cwd=repo if from_repo else hostile["tmp"], home=hostile["home"])
    assert proc.returncode in (0, 1), proc.stderr  # the hostile configuration does not stop the check
    assert "Traceback" not in proc.stderr
    assert git_state(repo) == before_git
    assert snapshot(repo) == before
    assert sorted(p.name for p in markers.iterdir()) == []


def test_hostile_environment_is_ignored(hostile):
    """GIT_* variables of the caller (a config injected through the environment, another
    GIT_DIR, an external diff) do not reach git either."""
    repo, markers = hostile["repo"], hostile["markers"]
    fsmonitor = _script(hostile["tmp"] / "env-fsmonitor", markers / "env-fsmonitor")
    env = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "core.fsmonitor", "GIT_CONFIG_VALUE_0": fsmonitor,
           "GIT_CONFIG_KEY_1": "core.hooksPath", "GIT_CONFIG_VALUE_1": str(markers),
           "GIT_CONFIG_PARAMETERS": f"'core.fsmonitor'='{fsmonitor}'", "GIT_EXTERNAL_DIFF": fsmonitor,
           "GIT_DIR": str(hostile["tmp"]), "GIT_WORK_TREE": "/", "GIT_SSH_COMMAND": fsmonitor,
           "GIT_PAGER": fsmonitor}
    before = snapshot(repo)
    for args in (["--repo", str(repo), "v1..WORKTREE"], ["dump", "INDEX"]):
        proc = run(args, cwd=repo, home=hostile["home"], extra_env=env)
        assert proc.returncode in (0, 1), proc.stderr
    assert snapshot(repo) == before
    assert sorted(p.name for p in markers.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository another owner")
def test_dubious_ownership_is_not_bypassed(hostile):
    """A repository owned by someone else is refused as git refuses it (its own
    `safe.directory = *` does not count): one line, exit 2, no marker."""
    repo, markers = hostile["repo"], hostile["markers"]
    for path in [repo, *repo.rglob("*")]:
        os.lchown(path, 4242, 4242)
    for args in (["--repo", str(repo), "v1..v2"], ["dump", "--repo", str(repo), "v1"], ["pre-commit"]):
        proc = run(args, cwd=repo, home=hostile["home"])
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: ") and "dubious ownership" in lines[0]
    assert sorted(p.name for p in markers.iterdir()) == []


DASH_ARGUMENTS = [
    ["check", "--", "-x..v2"], ["check", "--", "v1..-x"], ["check", "--", "--output=/tmp/x"],
    ["check", "--", "--upload-pack=touch {marker}"], ["check", "--", "-p"], ["check", "--", "v1..--exec=x"],
    ["dump", "--", "--output=/tmp/x"], ["dump", "--", "-h"], ["graph", "--", "--all"],
    ["--", "-x..v2"], ["-x..v2"], ["--all"], ["dump", "--git-dir=/"],
]


@pytest.mark.parametrize("args", DASH_ARGUMENTS, ids=[" ".join(a) for a in DASH_ARGUMENTS])
def test_revisions_starting_with_dash_are_refused(hostile, args):
    """Exit 2 with one line; a logging `git` first on PATH shows no such argument reached git."""
    repo, markers = hostile["repo"], hostile["markers"]
    log = hostile["tmp"] / "git-argv.log"
    bin_dir = hostile["tmp"] / "bin"
    bin_dir.mkdir(exist_ok=True)
    real_git = shutil.which("git")
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\necho ===== >> "{log}"\nexec "{real_git}" "$@"\n')
    wrapper.chmod(0o755)
    args = [a.format(marker=markers / "dash") for a in args]
    command = args[:1] if args[0] in ("check", "dump", "graph") else []
    proc = run([*command, "--repo", str(repo), *args[len(command):]], cwd=repo, home=hostile["home"],
               extra_env={"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: "), proc.stderr
    passed = log.read_text().splitlines() if log.exists() else []
    ours = {"-c", "-C", "--verify", "--quiet", "--end-of-options", "--is-bare-repository", "--absolute-git-dir",
            "--show-toplevel", "-r", "-l", "-z", "--full-tree", "--batch", "-s", "--full-name", "--cached", "--others",
            "--exclude-standard"}
    assert not [a for a in passed if a.startswith("-") and a not in ours], passed
    assert sorted(p.name for p in markers.iterdir()) == []


@pytest.mark.skipif(not HAS_REVIEW, reason="no `vmsd-lint review` command yet")
@pytest.mark.parametrize("path", ["../escape.c", "hw/../../escape.c", "/tmp/vmsd-lint-escape.c"])
def test_review_refuses_paths_outside_the_tree(hostile, path):
    repo, tmp = hostile["repo"], hostile["tmp"]
    patch = tmp / "escape.patch"
    patch.write_text(f"""From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: t <t@t>
Subject: [PATCH] escape

---
diff --git a/{path} b/{path}
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/{path}
@@ -0,0 +1 @@
+int escaped;
--
2.39.5
""")
    before = snapshot(repo)
    proc = run(["review", "--repo", str(repo), "--base", "v1", str(patch)], cwd=tmp, home=hostile["home"])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert snapshot(repo) == before
    assert not (tmp / "escape.c").exists() and not Path("/tmp/vmsd-lint-escape.c").exists()
