"""`vmsd-lint pre-commit` and the hook in .pre-commit-hooks.yaml, driven by the real
`pre-commit` framework (https://pre-commit.com, from PyPI) in throw-away repositories.

Everything runs with HOME, PRE_COMMIT_HOME and XDG_CACHE_HOME in tmp_path, so neither the
user's git or pre-commit configuration nor their caches are read or written.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
DEVICE = Path("hw/gpio/pl061.c")
BREAKING = SAMPLES / "field-removed" / "new" / DEVICE    # drops old_in_data: [field-removed]
COMPATIBLE = SAMPLES / "compatible" / "new" / DEVICE     # renames, reformatting, same-size UNUSED

pytest.importorskip("pre_commit", reason="pip install '.[test]' (the real pre-commit framework)")

LOCAL_CONFIG = """\
repos:
-   repo: local
    hooks:
    -   id: vmsd-lint
        name: vmsd-lint
        entry: {python} -m vmsd_lint.cli.main pre-commit
        language: system
        pass_filenames: false
        files: '{files}'
"""


def hook_files_pattern() -> str:
    """The `files` pattern of the published hook, so the local hook matches what users get."""
    import yaml  # a dependency of pre-commit

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return hook["files"]


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: private HOME and caches, git identity, this checkout importable."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(HOME=str(home), PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(home / ".config"),
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(repo: Path, env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["git", *args], repo, env, check)


def vmsd_lint(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "vmsd_lint.cli.main", *args], repo, env, check=False)


def make_repo(tmp_path: Path, env: dict[str, str], name: str = "repo", config: str | None = None) -> Path:
    """A git repository whose one commit is samples/field-removed/old (include/ as real
    files, not the samples' shared symlink) and CONFIG as .pre-commit-config.yaml."""
    repo = tmp_path / name
    shutil.copytree(SAMPLES / "field-removed" / "old", repo, symlinks=False)
    git(repo, env, "init", "-q", "-b", "main")
    if config is not None:
        (repo / ".pre-commit-config.yaml").write_text(config)
    git(repo, env, "add", ".")
    git(repo, env, "commit", "-q", "-m", "sample")
    return repo


@pytest.fixture()
def hooked_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """make_repo with a `repo: local` hook running this checkout's vmsd-lint, installed."""
    config = LOCAL_CONFIG.format(python=sys.executable, files=hook_files_pattern())
    repo = make_repo(tmp_path, env, config=config)
    run([sys.executable, "-m", "pre_commit", "install"], repo, env)
    assert (repo / ".git" / "hooks" / "pre-commit").is_file()
    return repo


def head(repo: Path, env: dict[str, str]) -> str:
    return git(repo, env, "rev-parse", "HEAD").stdout.strip()


def committed(repo: Path, env: dict[str, str], path: Path = DEVICE) -> bytes:
    return subprocess.run(["git", "show", f"HEAD:{path.as_posix()}"], cwd=repo, env=env, capture_output=True,
                          check=True).stdout


def snapshot(repo: Path) -> dict[str, str]:
    """Hashes of HEAD, the refs, the index and every working-tree file."""
    git_dir = repo / ".git"
    files = [git_dir / "HEAD", git_dir / "index", git_dir / "packed-refs"]
    files += sorted((git_dir / "refs").rglob("*"))
    files += sorted(p for p in repo.rglob("*") if git_dir not in p.parents and p != git_dir)
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in files if p.exists()}


# --- through `git commit` and the pre-commit framework ----------------------------------------

def test_breaking_staged_change_fails_the_commit(hooked_repo: Path, env):
    before = head(hooked_repo, env)
    shutil.copyfile(BREAKING, hooked_repo / DEVICE)
    git(hooked_repo, env, "add", DEVICE.as_posix())
    proc = git(hooked_repo, env, "commit", "-m", "pl061: drop old_in_data", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Failed" in output and "[field-removed]" in output, output
    assert "old_in_data" in output and "HEAD" in output and "INDEX" in output, output
    assert head(hooked_repo, env) == before


def test_compatible_staged_change_commits(hooked_repo: Path, env):
    before = head(hooked_repo, env)
    shutil.copyfile(COMPATIBLE, hooked_repo / DEVICE)
    git(hooked_repo, env, "add", DEVICE.as_posix())
    proc = git(hooked_repo, env, "commit", "-m", "pl061: cleanups", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "vmsd-lint" in proc.stdout + proc.stderr and "Passed" in proc.stdout + proc.stderr
    assert head(hooked_repo, env) != before
    assert committed(hooked_repo, env) == COMPATIBLE.read_bytes()


def test_comment_only_change_commits(hooked_repo: Path, env):
    path = hooked_repo / DEVICE
    path.write_bytes(path.read_bytes() + b"/* a comment */\n")
    git(hooked_repo, env, "add", DEVICE.as_posix())
    proc = git(hooked_repo, env, "commit", "-m", "comment", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unstaged_breaking_edit_does_not_fail_the_commit(hooked_repo: Path, env):
    """The staged index is checked, not the working tree."""
    shutil.copyfile(COMPATIBLE, hooked_repo / DEVICE)
    git(hooked_repo, env, "add", DEVICE.as_posix())
    shutil.copyfile(BREAKING, hooked_repo / DEVICE)  # on top, not staged
    proc = git(hooked_repo, env, "commit", "-m", "pl061: cleanups", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert committed(hooked_repo, env) == COMPATIBLE.read_bytes()
    assert (hooked_repo / DEVICE).read_bytes() == BREAKING.read_bytes()  # pre-commit put the edit back


def test_commit_all_checks_what_is_committed(hooked_repo: Path, env):
    """`git commit -a` commits through a temporary index (GIT_INDEX_FILE): that one is checked."""
    before = head(hooked_repo, env)
    shutil.copyfile(BREAKING, hooked_repo / DEVICE)
    proc = git(hooked_repo, env, "commit", "-a", "-m", "pl061: drop old_in_data", check=False)
    assert proc.returncode != 0 and "[field-removed]" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert head(hooked_repo, env) == before


def test_hook_skipped_when_no_source_file_is_staged(hooked_repo: Path, env):
    (hooked_repo / "NOTES.txt").write_text("not C\n")
    git(hooked_repo, env, "add", "NOTES.txt")
    proc = git(hooked_repo, env, "commit", "-m", "notes", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no files to check" in proc.stdout + proc.stderr


def test_try_repo_runs_the_published_hook(tmp_path: Path, env):
    """`pre-commit try-repo` with .pre-commit-hooks.yaml as users get it (language: python):
    pre-commit clones the hook repository at a commit and pip-installs it into a virtualenv
    of its own, taking the dependencies from the package registry (about 15 s here).  The
    repository is a copy of this checkout's package files, committed, so what is tested is
    the code beside this test even when it is not committed yet -- and running try-repo on
    the checkout itself would run git in it."""
    source = tmp_path / "vmsd-lint"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copyfile(ROOT / name, source / name)
    for name in ("vmsd_lint", "rules"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(source, env, "init", "-q", "-b", "main")
    git(source, env, "add", ".")
    git(source, env, "commit", "-q", "-m", "vmsd-lint")

    repo = make_repo(tmp_path, env)
    shutil.copyfile(BREAKING, repo / DEVICE)
    git(repo, env, "add", DEVICE.as_posix())
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", str(source), "vmsd-lint"]
    clean_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}  # the hook's own virtualenv only
    proc = run(try_repo, repo, clean_env, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "vmsd-lint (QEMU migration compatibility)" in output and "[field-removed]" in output, output

    shutil.copyfile(COMPATIBLE, repo / DEVICE)
    git(repo, env, "add", DEVICE.as_posix())
    proc = run(try_repo, repo, clean_env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- `vmsd-lint pre-commit` itself ------------------------------------------------------------

def test_pre_commit_writes_nothing_to_the_repository(tmp_path: Path, env):
    repo = make_repo(tmp_path, env)
    shutil.copyfile(BREAKING, repo / DEVICE)
    git(repo, env, "add", DEVICE.as_posix())
    (repo / DEVICE).write_bytes((repo / DEVICE).read_bytes() + b"/* unstaged */\n")
    for path in (repo / "include").rglob("*.h"):  # unchanged content, stale stat data: a refreshing
        os.utime(path, (1, 1))                   # git command (status, diff) would rewrite the index
    before = snapshot(repo)
    proc = vmsd_lint(repo, env, "pre-commit")
    assert proc.returncode == 1 and "[field-removed]" in proc.stdout, proc.stdout + proc.stderr
    assert snapshot(repo) == before
    assert not (repo / ".git" / "index.lock").exists()


def test_pre_commit_ignores_unstaged_changes(tmp_path: Path, env):
    repo = make_repo(tmp_path, env)
    shutil.copyfile(BREAKING, repo / DEVICE)  # not staged
    proc = vmsd_lint(repo, env, "pre-commit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no migration-breaking change found" in proc.stdout
    assert vmsd_lint(repo, env, "pre-commit", "--quiet").stdout == ""
    assert vmsd_lint(repo, env, "HEAD..WORKTREE", "-q").returncode == 1  # the working tree does break


def test_pre_commit_options_and_index_endpoint(tmp_path: Path, env):
    import json

    repo = make_repo(tmp_path, env)
    shutil.copyfile(BREAKING, repo / DEVICE)
    git(repo, env, "add", DEVICE.as_posix())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = vmsd_lint(elsewhere, env, "pre-commit", "--repo", str(repo / "hw"), "--format", "json", "--no-cache",
                     "--jobs", "1")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["old"]["endpoint"] == "HEAD" and data["old"]["commit"] == head(repo, env)
    assert data["new"] == {"endpoint": "INDEX", "commit": None, "kind": "source"}
    assert [f["rule"] for f in data["findings"]] == ["field-removed"]
    for spelling in ("HEAD..INDEX", "HEAD..:index"):
        proc = vmsd_lint(repo, env, spelling, "--format", "json")
        assert proc.returncode == 1 and json.loads(proc.stdout)["findings"] == data["findings"], proc.stderr

    (repo / ".vmsd-lint.toml").write_text(
        '[[waiver]]\nrule = "field-removed"\nvmsd = "pl061"\nreason = "boards gone"\n')
    assert vmsd_lint(repo, env, "pre-commit", "-q").returncode == 0  # default config: the repository's
    proc = vmsd_lint(repo, env, "pre-commit", "--config", str(tmp_path / "missing.toml"))
    assert proc.returncode == 2 and proc.stderr.startswith("vmsd-lint: error: "), proc.stderr


def test_pre_commit_before_the_first_commit(tmp_path: Path, env):
    """No HEAD yet: the index is compared with an empty tree, so everything is new (info)."""
    repo = tmp_path / "fresh"
    shutil.copytree(SAMPLES / "field-removed" / "old", repo, symlinks=False)
    git(repo, env, "init", "-q", "-b", "main")
    proc = vmsd_lint(repo, env, "pre-commit")
    assert proc.returncode == 0 and "0 section(s)" in proc.stdout, proc.stdout + proc.stderr
    git(repo, env, "add", ".")
    proc = vmsd_lint(repo, env, "pre-commit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no commit yet" in proc.stderr and "[section-added]" in proc.stdout


def test_pre_commit_bad_input_is_one_line(tmp_path: Path, env):
    proc = vmsd_lint(tmp_path, env, "pre-commit")
    assert proc.returncode == 2 and "not a git repository" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unmerged_index_is_an_input_error(tmp_path: Path, env):
    repo = make_repo(tmp_path, env)
    git(repo, env, "checkout", "-q", "-b", "side")
    shutil.copyfile(COMPATIBLE, repo / DEVICE)
    git(repo, env, "commit", "-q", "-am", "side")
    git(repo, env, "checkout", "-q", "main")
    shutil.copyfile(BREAKING, repo / DEVICE)
    git(repo, env, "commit", "-q", "-am", "main")
    assert git(repo, env, "merge", "-q", "side", check=False).returncode != 0  # a conflict
    proc = vmsd_lint(repo, env, "pre-commit")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unmerged paths (hw/gpio/pl061.c)" in lines[0], proc.stderr


def test_index_tree_skips_submodules(tmp_path: Path, env):
    from vmsd_lint.sources.tree import index_tree

    repo = make_repo(tmp_path, env)
    sha = head(repo, env)
    git(repo, env, "update-index", "--add", "--cacheinfo", f"160000,{sha},sub.c")  # a gitlink named like C
    tree = index_tree(str(repo))
    paths = [f.path for f in tree.files]
    assert "sub.c" not in paths and DEVICE.as_posix() in paths
    assert tree.label == "index" and tree.commit is None
    assert tree.read([f for f in tree.files if f.path == DEVICE.as_posix()])[DEVICE.as_posix()] == \
        (repo / DEVICE).read_bytes()
