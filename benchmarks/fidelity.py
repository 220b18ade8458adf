#!/usr/bin/env python3
"""Fidelity of `vmsd-lint dump --format qemu` against the real binaries' -dump-vmstate output.

    python benchmarks/fidelity.py --repo QEMU_REPO [--target x86_64|aarch64] [--version v10.0.2 ...] [--shared DIR]

Prints, per release, the share of the binary's device types whose dump is identical and
each other type with its first difference (see tests/fidelity_compare.py for the rules).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fidelity_compare import compare, load_real_dump  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"),
                        help="QEMU git repository (default: $VMSD_LINT_QEMU_REPO)")
    parser.add_argument("--version", action="append", help="release tag (default: v7.2.0 and v10.0.2)")
    parser.add_argument("--shared", default=os.environ.get("VMSD_LINT_SHARED") or str(ROOT.parent / "shared"))
    parser.add_argument("--target", default="x86_64")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    if not args.repo:
        parser.error("give --repo or set VMSD_LINT_QEMU_REPO")
    status = 0
    for version in args.version or ["v7.2.0", "v10.0.2"]:
        cmd = [sys.executable, "-m", "vmsd_lint.cli.main", "dump", "-q", "--repo", args.repo, "--format", "qemu",
               "--target", args.target, version]
        if args.cache_dir:
            cmd[4:4] = ["--cache-dir", args.cache_dir]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{version}: vmsd-lint failed: {proc.stderr.strip()}", file=sys.stderr)
            status = 2
            continue
        result = compare(load_real_dump(Path(args.shared), version, args.target), json.loads(proc.stdout))
        print(f"{version}: {result.summary()}")
        for diff in result.differences.values():
            print(f"  {diff}")
        if result.extra:
            print(f"  ({len(result.extra)} types in our dump are not in the binary: not counted)")
    return status


if __name__ == "__main__":
    sys.exit(main())
