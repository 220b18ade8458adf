"""Integration tests on real QEMU sources (tags v7.2.0 and v10.0.2).

They need $VMSD_LINT_QEMU_REPO: a git repository with both tags, e.g. one built by
`../shared/qemu/make-repo.sh DEST` (or your own QEMU clone), and the real binaries'
`-dump-vmstate` output in ../shared/qemu/dumps/ (or $VMSD_LINT_SHARED/qemu/dumps/).
Each full-tree dump is run once per module and shared between tests.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_dir
from fidelity_compare import compare, load_real_dump

pytestmark = pytest.mark.qemu

FIDELITY_TARGET = 97.0
VERSIONS = ("v7.2.0", "v10.0.2")


def vmsd_lint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], capture_output=True,
                          timeout=900)


def ok(proc: subprocess.CompletedProcess) -> bytes:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vmsd-lint-cache")


@pytest.fixture(scope="module")
def native_runs(qemu_repo, cache_dir) -> dict[str, bytes]:
    """Native dumps of v10.0.2: without cache (jobs 1), cold cache (jobs 2), warm cache (jobs 2
    and jobs 1)."""
    runs = {}
    runs["no-cache, jobs 1"] = ok(vmsd_lint("dump", "--repo", qemu_repo, "--no-cache", "--jobs", "1", "v10.0.2"))
    for label, jobs in (("cold cache, jobs 2", "2"), ("warm cache, jobs 2", "2"), ("warm cache, jobs 1", "1")):
        runs[label] = ok(vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache_dir), "--jobs", jobs,
                                   "v10.0.2"))
    return runs


@pytest.fixture(scope="module")
def qemu_dumps(qemu_repo, cache_dir) -> dict[str, dict]:
    return {version: json.loads(ok(vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache_dir),
                                             "--format", "qemu", "--target", "x86_64", version)))
            for version in VERSIONS}


@pytest.fixture(scope="module")
def aarch64_dumps(qemu_repo, cache_dir) -> dict[str, dict]:
    return {version: json.loads(ok(vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache_dir),
                                             "--format", "qemu", "--target", "aarch64", version)))
            for version in VERSIONS}


# What each release reaches (measured; README "Measured"): x86_64 v7.2.0 misses only
# cfi.pflash01 (a Debian backport); aarch64 misses a few types for reasons listed there.
FIDELITY = {("x86_64", "v7.2.0"): 100.0 * 198 / 199, ("x86_64", "v10.0.2"): 100.0,
            ("aarch64", "v7.2.0"): 99.0, ("aarch64", "v10.0.2"): 99.0}


@pytest.mark.parametrize("target, version", sorted(FIDELITY))
def test_fidelity_against_real_binary(request, target, version):
    shared = shared_dir()
    if not (shared / "qemu" / "dumps").is_dir():
        pytest.skip(f"no real -dump-vmstate output in {shared}/qemu/dumps (set VMSD_LINT_SHARED)")
    ours = request.getfixturevalue("qemu_dumps" if target == "x86_64" else "aarch64_dumps")[version]
    result = compare(load_real_dump(shared, version, target), ours)
    report = "\n".join(f"  {diff}" for diff in result.differences.values())
    print(f"{target} {version}: {result.summary()}\n{report}")
    goal = max(FIDELITY_TARGET, FIDELITY[target, version])
    assert result.percent >= goal - 1e-9, (
        f"{target} {version}: {result.summary()}, target {goal} %; non-identical types:\n{report}")


# The device types of --target's binary, both ways (issue 14: >= 99 % each way; the
# build model reaches 100 %). The 7.2 binaries lack what they build as modules: one way only.
@pytest.mark.parametrize("target, version", sorted(FIDELITY))
def test_target_holds_exactly_the_binarys_device_types(request, target, version):
    shared = shared_dir()
    if not (shared / "qemu" / "dumps").is_dir():
        pytest.skip(f"no real -dump-vmstate output in {shared}/qemu/dumps (set VMSD_LINT_SHARED)")
    ours = set(request.getfixturevalue("qemu_dumps" if target == "x86_64" else "aarch64_dumps")[version])
    real = set(load_real_dump(shared, version, target))
    assert real - ours == set(), f"{target} {version}: the binary has, we lack"
    if version != "v7.2.0":
        assert ours - real == set(), f"{target} {version}: we list, the binary lacks"


# registered by virtio_pci_types_register() (extract/qom.py virtio_pci_types)
VIRTIO_VGA_TYPES = ("virtio-vga", "virtio-vga-base-type", "virtio-vga-gl", "virtio-vga-gl-base-type",
                    "vhost-user-vga", "vhost-user-vga-base-type")


def test_types_registered_by_virtio_pci_types_register_match_the_binary(qemu_dumps):
    shared = shared_dir()
    if not (shared / "qemu" / "dumps").is_dir():
        pytest.skip(f"no real -dump-vmstate output in {shared}/qemu/dumps (set VMSD_LINT_SHARED)")
    real = load_real_dump(shared, "v10.0.2")
    assert set(VIRTIO_VGA_TYPES) <= set(real) and set(VIRTIO_VGA_TYPES) <= set(qemu_dumps["v10.0.2"])
    differences = compare(real, qemu_dumps["v10.0.2"]).differences
    assert not set(VIRTIO_VGA_TYPES) & set(differences), differences


def test_native_dump_is_deterministic(native_runs):
    outputs = set(native_runs.values())
    assert len(outputs) == 1, "native dumps differ between: " + ", ".join(native_runs)
    data = json.loads(next(iter(outputs)))
    assert data["endpoint"] == "v10.0.2" and len(data["vmsds"]) > 1000


def test_qemu_dump_is_deterministic(qemu_repo, cache_dir, qemu_dumps):
    again = json.loads(ok(vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache_dir),
                                    "--format", "qemu", "--target", "x86_64", "--jobs", "1", "v10.0.2")))
    assert again == qemu_dumps["v10.0.2"]


def test_unknown_revision_in_real_repo(qemu_repo):
    proc = vmsd_lint("dump", "--repo", qemu_repo, "v99.0.0")
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: ") and "v99.0.0" in lines[0]
