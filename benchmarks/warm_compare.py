#!/usr/bin/env python3
"""Warm runs of two checkouts of vmsd-lint, interleaved on the same machine in the same
run (it is noisy: medians), for a change that can cost time:

- `check v7.2.0..v10.0.2` on a warm cache;
- `pre-commit` with one file staged over v10.0.2 (bench.py's serial.c change), warm.

    python benchmarks/warm_compare.py --repo QEMU_REPO --before DIR [--after DIR] [--runs 9]

DIR is a checkout of vmsd-lint (`git worktree add DIR REV`); each runs from its own
source (PYTHONPATH), with its own cache warmed by two runs first, bytecode allowed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import one_file_branch, stage_one_file

HERE = Path(__file__).resolve().parents[1]


def entry(code: Path) -> str:
    """The CLI module of that checkout (it moved into a package during the restructure)."""
    return "vmsd_lint.cli.main" if (code / "vmsd_lint" / "cli" / "main.py").exists() else "vmsd_lint.cli"


def timed(code: Path, args: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(code)
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", entry(code), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{code}: {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return elapsed


def compare(label: str, sides: dict[str, Path], args: list[str], runs: int) -> list[str]:
    caches = {name: tempfile.mkdtemp(prefix="vmsd-lint-warm-") for name in sides}
    for name, code in sides.items():
        for _ in range(2):  # the first fills the cache, the second the bytecode of the rest
            timed(code, [*args[:1], "--cache-dir", caches[name], *args[1:]])
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, code in sides.items():
            times[name].append(timed(code, [*args[:1], "--cache-dir", caches[name], *args[1:]]))
    before, after = statistics.median(times["before"]), statistics.median(times["after"])
    return [f"{label:<40} {before:>8.2f} {after:>8.2f} {after - before:>+8.2f} {100 * (after / before - 1):>+7.1f} %"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"))
    parser.add_argument("--before", required=True, type=Path, help="the checkout before the change")
    parser.add_argument("--after", default=HERE, type=Path, help="the checkout after it (default: this one)")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if not args.repo:
        parser.error("give --repo or set VMSD_LINT_QEMU_REPO")
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    rows = compare("check v7.2.0..v10.0.2, warm", sides, ["check", "-q", "--repo", args.repo, "v7.2.0..v10.0.2"],
                   args.runs)
    with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-repo-") as scratch:
        clone = os.path.join(scratch, "qemu")
        branch = one_file_branch(args.repo, clone)
        stage_one_file(clone, branch)
        rows += compare("pre-commit, one staged file, warm", sides, ["pre-commit", "-q", "--repo", clone], args.runs)
    print(f"medians of {args.runs} interleaved runs; before {sides['before']}, after {sides['after']}")
    print(f"{'run':<40} {'before':>8} {'after':>8} {'diff s':>8} {'diff':>9}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
