#!/usr/bin/env python3
"""Fidelity of the per-target build model against the real binaries' -dump-vmstate output.

    python benchmarks/build_fidelity.py --repo QEMU_REPO [--target x86_64 ...] [--version v10.0.2 ...]

The extraction lists every device type with a VMSD in the tree; restricted to the types whose
defining file the build model compiles for the target, it is compared with the device
types the real binary dumps, both ways: types the binary has that we lack, and types we
list that the binary lacks.  The 7.2 binaries were built without modules, so their dumps
lack qxl, virtio-gpu, usb-redir, usb-host, ccid...: for 7.2 only the first way counts.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fidelity_compare import MACHINE_KEY, load_real_dump  # noqa: E402

from vmsd_lint.app.check import Options, extract_tree  # noqa: E402
from vmsd_lint.extract.build import build_model  # noqa: E402
from vmsd_lint.extract.cache import Cache, default_cache_dir  # noqa: E402
from vmsd_lint.report.qemu_dump import qemu_dump  # noqa: E402
from vmsd_lint.sources.tree import git_revision_tree  # noqa: E402

ONE_WAY = {"v7.2.0"}  # releases whose binaries were built without modules


def compare(repo: str, version: str, target: str, shared: Path, cache: Cache | None) -> tuple[float, float | None]:
    tree = git_revision_tree(repo, version)
    start = time.perf_counter()
    build = build_model(tree, target)
    elapsed = time.perf_counter() - start
    extraction = extract_tree(tree, Options(repo=repo, target=target, jobs=2, cache=cache))
    ours_all = set(qemu_dump(extraction)) - {MACHINE_KEY}
    ours = {name for name in ours_all if build.compiles(extraction.types[name].file)}
    real = set(load_real_dump(shared, version, target)) - {MACHINE_KEY}
    lack, extra = sorted(real - ours), sorted(ours - real)
    have = 100.0 * (len(real) - len(lack)) / len(real)
    precise = 100.0 * (len(ours) - len(extra)) / len(ours) if ours else 0.0
    print(f"{target} {version}: build model {elapsed:.2f} s, {len(build.files)} files, "
          f"{len(build.configs)} CONFIG_ symbols, {len(build.diagnostics)} diagnostics")
    print(f"  binary {len(real)} types, extraction {len(ours_all)}, of them compiled for {target}: {len(ours)}")
    print(f"  binary has, we lack: {len(lack)} ({have:.1f} % of the binary's types found)")
    for name in lack:
        print(f"    {name}  ({describe(extraction, build, name)})")
    counted = "" if version not in ONE_WAY else "  [not counted: this binary was built without modules]"
    print(f"  we list, binary lacks: {len(extra)} ({precise:.1f} % of ours in the binary){counted}")
    for name in extra:
        print(f"    {name}  ({extraction.types[name].file})")
    return have, None if version in ONE_WAY else precise


def describe(extraction, build, name: str) -> str:
    info = extraction.types.get(name)
    if info is None:
        return "not extracted"
    return f"{info.file}: {'compiled' if build.compiles(info.file) else 'not compiled'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"),
                        help="QEMU git repository (default: $VMSD_LINT_QEMU_REPO)")
    parser.add_argument("--version", action="append", help="release tag (default: v7.2.0 and v10.0.2)")
    parser.add_argument("--target", action="append", help="target (default: x86_64 and aarch64)")
    parser.add_argument("--shared", default=os.environ.get("VMSD_LINT_SHARED") or str(ROOT.parent / "shared"))
    parser.add_argument("--cache-dir", default=None, help="extraction cache (default: vmsd-lint's own)")
    args = parser.parse_args()
    if not args.repo:
        parser.error("give --repo or set VMSD_LINT_QEMU_REPO")
    cache = Cache(args.cache_dir or default_cache_dir())
    try:
        for target in args.target or ["x86_64", "aarch64"]:
            for version in args.version or ["v7.2.0", "v10.0.2"]:
                compare(args.repo, version, target, Path(args.shared), cache)
    finally:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
