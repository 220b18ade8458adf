"""The repository under analysis is read-only to vmsd-lint, and none of its code runs.

A test repository holds the serial sample (four signed commits, a staged change, an
unstaged one) and a hostile configuration: core.fsmonitor, core.hooksPath, hooks in .git/hooks,
an external diff, a textconv driver, clean/smudge/process filters (with .gitattributes),
core.sshCommand, core.pager, core.editor, aliases over the commands vmsd-lint runs,
credential and signature verifiers (with log.showSignature and commits signed in each
format), safe.directory = * ... -- each would create a marker file if git ran it.  Every
command (check in its forms, dump, graph, pre-commit, review) must work, leave .git and
the working tree byte-identical (and untouched: same mtimes), and create no marker; every
git command line they run, recorded and replayed one by one, must create none either.
Revision arguments starting with '-' are refused and never reach git.
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
from conftest import SAMPLE

from vmsd_lint.cli.main import main

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


def _git(repo: Path, *args: str, env: dict | None = None, input: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, input=input,
                          env={**SETUP_ENV, **(env or {})}).stdout


# The armour of each signature format: git picks the program that verifies a signature
# (gpg.program, gpg.x509.program, gpg.ssh.program) by it.
SIGNATURES = ("PGP SIGNATURE", "SIGNED MESSAGE", "SSH SIGNATURE")


def _commit_signed(repo: Path, message: str, armour: str, env: dict) -> None:
    """`git commit -qam MESSAGE`, then HEAD replaced by the same commit with a fake
    signature: no key is needed to make it, and `git log --show-signature` (or
    log.showSignature = true) hands it to the verifying program all the same."""
    _git(repo, "commit", "-qam", message, env=env)
    headers, _, body = _git(repo, "cat-file", "commit", "HEAD", env=env).partition("\n\n")
    signature = f"gpgsig -----BEGIN {armour}-----\n \n AAAA\n -----END {armour}-----"
    signed = _git(repo, "hash-object", "-t", "commit", "-w", "--stdin", env=env,
                  input=f"{headers}\n{signature}\n\n{body}").strip()
    _git(repo, "update-ref", "HEAD", signed, env=env)


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
    _commit_signed(repo, "one", SIGNATURES[0], env)
    _git(repo, "tag", "v1", env=env)
    # v1..v2: three commits (a change, a source edit, a non-source edit), one signature
    # format each, so that walking them (--per-commit) meets every verifier
    serial = repo / "hw/char/serial.c"
    serial.write_text(serial.read_text().replace("VMSTATE_UINT8(lsr", "VMSTATE_UINT16(lsr"))
    _commit_signed(repo, "two", SIGNATURES[0], env)
    serial.write_text(serial.read_text() + "/* three */\n")
    _commit_signed(repo, "three", SIGNATURES[1], env)
    (repo / "NOTES").write_text("four\n")
    _git(repo, "add", "NOTES", env=env)
    _commit_signed(repo, "four", SIGNATURES[2], env)
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

    allowed_signers = scripts / "allowed-signers"  # ssh verification runs only when it exists
    allowed_signers.write_text("")

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
[gpg "x509"]
\tprogram = {s("gpgsm")}
[gpg "ssh"]
\tprogram = {s("ssh-keygen")}
\tallowedSignersFile = {allowed_signers}
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
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), **(extra_env or {})})
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


COMMANDS = {  # name: (arguments; {repo}, {patch} filled in), run from the repository or elsewhere
    "check-range": (["--repo", "{repo}", "v1..v2"], False),
    "check-single-rev": (["check", "--repo", "{repo}", "v2"], False),
    "check-from-cwd": (["v1..v2", "--format", "json"], True),
    "check-worktree": (["--repo", "{repo}", "v2..WORKTREE", "--show-diagnostics"], False),
    "check-index": (["--repo", "{repo}", "v2..INDEX", "--format", "sarif"], False),
    "check-index-worktree": (["INDEX..WORKTREE", "--format", "markdown"], True),
    "check-per-commit": (["--repo", "{repo}", "--per-commit", "v1..v2"], False),
    "check-per-commit-from-cwd": (["--per-commit", "v1..", "--format", "json"], True),
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


# The git subcommands vmsd-lint runs, all reading the object database or the index.  A
# new one goes here on purpose, once the armed repository shows it runs no program.
GIT_SUBCOMMANDS = {"cat-file", "diff", "log", "ls-files", "ls-tree", "rev-parse"}


def _git_recorder(directory: Path) -> tuple[Path, str]:
    """A `git` wrapper that records each call (directory, arguments, environment, standard
    input) under DIRECTORY/calls and runs the real git; returns that folder and the PATH
    that puts the wrapper first."""
    calls, bin_dir = directory / "calls", directory / "bin"
    calls.mkdir(parents=True)
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f"""#!/bin/sh
call=$(mktemp "{calls}/XXXXXXXX")
printf '%s\\0' "$PWD" "$@" > "$call"
env -0 > "$call.env"
tee "$call.stdin" | "{shutil.which("git")}" "$@"
""")
    wrapper.chmod(0o755)
    return calls, f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"


def _take_calls(calls: Path) -> list[tuple[str, tuple[str, ...], dict[str, str], bytes]]:
    """The calls recorded so far, as (directory, argv, environment, stdin); the records are removed."""
    taken = []
    for record in sorted(p for p in calls.iterdir() if "." not in p.name):
        cwd, *argv = record.read_bytes().decode("utf-8", "surrogateescape").split("\0")[:-1]
        env_file, stdin_file = Path(f"{record}.env"), Path(f"{record}.stdin")
        env = dict(item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
        taken.append((cwd, tuple(argv), env, stdin_file.read_bytes()))
        for path in (record, env_file, stdin_file):
            path.unlink()
    return taken


def _take_markers(markers: Path) -> list[str]:
    """The markers created so far (the programs that ran); the folder is emptied."""
    names = sorted(p.name for p in markers.iterdir())
    for name in names:
        (markers / name).unlink()
    return names


def test_every_git_command_line_runs_no_program(hostile):
    """Every git command line of every command family (COMMANDS: ranges, --per-commit,
    WORKTREE, INDEX, dump, graph, pre-commit, review) is recorded by a `git` wrapper, then
    run again on its own -- same directory, environment and input -- in the armed
    repository: none may create a marker.  Each call must go through the safe
    configuration and run a known subcommand, so a new git call fails here until checked."""
    from vmsd_lint.sources.tree import SAFE_GIT_CONFIG

    repo, markers, tmp = hostile["repo"], hostile["markers"], hostile["tmp"]
    calls_dir, path = _git_recorder(tmp / "recorder")
    calls, ran_program = {}, {}
    for name, (args, from_repo) in sorted(COMMANDS.items()):
        if name.startswith("review") and not HAS_REVIEW:
            continue
        args = [a.format(repo=repo, patch=hostile["patch"]) for a in args]
        proc = run(args, cwd=repo if from_repo else tmp, home=hostile["home"],
                   extra_env={"PATH": path, "XDG_CACHE_HOME": str(tmp / "cache" / name)})  # cold: reads all
        assert proc.returncode in (0, 1), f"{name}: {proc.stderr}"
        recorded = _take_calls(calls_dir)
        assert recorded, f"{name} ran no git command"
        for cwd, argv, env, stdin in recorded:
            calls.setdefault((cwd, argv, stdin), env)
        if ran := _take_markers(markers):
            ran_program[name] = ran

    safe_prefix = (*SAFE_GIT_CONFIG, "-C")
    assert [argv for _, argv, _ in calls if argv[:len(safe_prefix)] != safe_prefix] == []
    assert {argv[len(safe_prefix) + 1] for _, argv, _ in calls} == GIT_SUBCOMMANDS
    for (cwd, argv, stdin), env in sorted(calls.items()):
        subprocess.run([shutil.which("git"), *argv], cwd=cwd, input=stdin, capture_output=True, timeout=120,
                       env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        if ran := _take_markers(markers):
            ran_program[" ".join(argv[len(safe_prefix) + 1:])] = ran
    assert ran_program == {}


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


def test_partial_clone_fetches_nothing(tmp_path):
    """A partial clone whose promisor remote is an `ext::` command (allowed by its own
    protocol.ext.allow): reading a missing blob must not fetch it, so the command never
    runs -- one line, exit 2, no marker."""
    env = {"HOME": str(tmp_path)}
    source = tmp_path / "source"
    shutil.copytree(SAMPLE, source)
    _git(source, "init", "-q", "-b", "main", env=env)
    _git(source, "add", ".", env=env)
    _git(source, "commit", "-qm", "one", env=env)
    _git(source, "config", "uploadpack.allowFilter", "true", env=env)
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--no-local", "--filter=blob:none", "--no-checkout", str(source), str(clone),
         env=env)
    marker = tmp_path / "fetched"
    _git(clone, "config", "remote.origin.url", f"ext::sh -c touch% {marker}", env=env)
    _git(clone, "config", "protocol.ext.allow", "always", env=env)
    proc = run(["dump", "--repo", str(clone), "HEAD"], cwd=tmp_path, home=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("vmsd-lint: error: ")
    assert not marker.exists()
