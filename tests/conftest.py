"""Shared fixtures: the bundled sample tree, the real QEMU repository (integration tests)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "serial-device"
QEMU_REPO_ENV = "VMSD_LINT_QEMU_REPO"
SHARED_ENV = "VMSD_LINT_SHARED"


# The fast tier (`pytest -m "not slow"`) leaves out what reads the real QEMU repository
# and the modules that run whole programs many times (fuzzing, real pre-commit, git safety).
SLOW_FIXTURES = {"qemu_repo", "release_extractions"}
SLOW_MODULES = {"test_fuzz.py", "test_pre_commit.py", "test_safety.py", "test_determinism.py", "test_cache.py",
                "test_qemu_integration.py", "test_signals.py", "test_cache_policy.py", "test_io.py",
                "test_review.py", "test_per_commit.py", "test_cli.py", "test_triage.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def shared_dir() -> Path:
    """../shared beside the checkout (as CI lays it out), or $VMSD_LINT_SHARED."""
    return Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared")


@pytest.fixture(scope="session")
def qemu_repo() -> str:
    repo = os.environ.get(QEMU_REPO_ENV)
    if not repo:
        pytest.skip(f"set {QEMU_REPO_ENV} to a QEMU git repository with tags v7.2.0 and v10.0.2 "
                    f"(build one with ../shared/qemu/make-repo.sh DEST) to run the QEMU integration tests")
    if not (Path(repo) / ".git").exists() and not (Path(repo) / "HEAD").exists():
        pytest.fail(f"{QEMU_REPO_ENV}={repo} is not a git repository")
    return repo


@pytest.fixture(scope="session")
def release_extractions(qemu_repo, tmp_path_factory):
    """extract(release, target): the extraction of a release for a target, made once per
    session (one cache shared by the tests that read real streams)."""
    from vmsd_lint.app.check import Options, extract_endpoint
    from vmsd_lint.extract.cache import Cache

    cache = Cache(str(tmp_path_factory.mktemp("vmsd-lint-release-cache")))
    found = {}

    def extract(release: str, target: str):
        if (release, target) not in found:
            found[release, target] = extract_endpoint(release, Options(repo=qemu_repo, target=target, jobs=2,
                                                                       cache=cache))
        return found[release, target]
    yield extract
    cache.close()


@pytest.fixture()
def sample_tree(tmp_path: Path) -> Path:
    """A private copy of samples/serial-device that a test may modify."""
    dest = tmp_path / "serial-device"
    shutil.copytree(SAMPLE, dest)
    return dest


@pytest.fixture(scope="session")
def dumps(tmp_path_factory) -> dict[str, Path]:
    """The real x86_64 binaries' -dump-vmstate files, decompressed: {"v7.2.0": path, ...}."""
    import lzma

    out = tmp_path_factory.mktemp("dumps")
    files = {}
    for version in ("v7.2.0", "v10.0.2"):
        source = shared_dir() / "qemu" / "dumps" / f"x86_64-{version}.json.xz"
        if not source.exists():
            pytest.skip(f"{source} not found")
        files[version] = out / f"x86_64-{version}.json"
        files[version].write_bytes(lzma.decompress(source.read_bytes()))
    return files


def shared_clone(repo: str, dest: Path) -> Path:
    """DEST: a clone sharing REPO's objects, without a checkout: branches are made there,
    never in the QEMU repository itself."""
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", repo, str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def clone(qemu_repo, tmp_path_factory) -> Path:
    """A module's own shared clone of the QEMU repository (shared_clone())."""
    return shared_clone(qemu_repo, tmp_path_factory.mktemp("qemu") / "qemu")


def git(repo: Path, *args: str, **kw) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, **kw)
    if proc.returncode != 0:  # say what git said (a CI run once saw exit 128 and nothing else)
        pytest.fail(f"git {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def make_branch(repo: Path, name: str, edits: dict, base: str = "v10.0.2") -> None:
    """Branch NAME in REPO: a commit on BASE with EDITS ({path: (text, replacement)}, or
    {path: [(text, replacement), ...]}), made with a private index (no checkout)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / f"index-{name}")}
    git(repo, "read-tree", base, env=env)
    for path, replacements in edits.items():
        source = git(repo, "show", f"{base}:{path}")
        for text, replacement in [replacements] if isinstance(replacements, tuple) else replacements:
            assert text in source, f"{path} no longer holds {text!r}"
            source = source.replace(text, replacement, 1)
        blob = git(repo, "hash-object", "-w", "--stdin", input=source + "\n")
        git(repo, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env)
    commit = git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit-tree", tree,
                 "-p", base, "-m", name)
    git(repo, "branch", "-f", name, commit)




def machine_type(tree, name: str, target: str = "aarch64"):
    """TREE's versioned machine type NAME of TARGET's hw/ directory, read as `check` reads
    it (extract/machines.py)."""
    from vmsd_lint.extract.machines import MachineReader, is_machine_file, target_hw_dir
    from vmsd_lint.extract.sourceset import SourceSet
    sources = SourceSet(tree, is_machine_file, target)
    machines = MachineReader(sources.files, sources.index.context).machine_types().machines
    hw_dir = target_hw_dir(tree, target)
    return next(m for m in machines if m.name == name and m.hw_dir == hw_dir)
