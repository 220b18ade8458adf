#!/usr/bin/env python3
"""Speed of `vmsd-lint dump v10.0.2` on the full tree: cold (fresh cache) and warm (same
cache), with the peak RSS of each run.

    python benchmarks/bench.py --repo QEMU_REPO [--rev v10.0.2] [--jobs N] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def run_once(args: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MiB) of one vmsd-lint run in a child process."""
    code = ("import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
            "t = time.perf_counter() - t\n"
            "if p.returncode: sys.exit(p.stderr.decode(errors='replace'))\n"
            "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    # a fresh wrapper process per run, so RUSAGE_CHILDREN holds this run's peak alone
    # (ru_maxrss is the largest of the children: the main process or a parser worker)
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "vmsd_lint.cli", *args],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"vmsd-lint failed: {out.stderr.strip()}")
    wall, rss_kib = out.stdout.split()
    return float(wall), int(rss_kib) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"),
                        help="QEMU git repository (default: $VMSD_LINT_QEMU_REPO)")
    parser.add_argument("--rev", default="v10.0.2")
    parser.add_argument("--jobs", default=None, help="--jobs for vmsd-lint (default: its own)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (the best is reported)")
    args = parser.parse_args()
    if not args.repo:
        parser.error("give --repo or set VMSD_LINT_QEMU_REPO")
    rows = []
    with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-") as cache:
        common = ["dump", "-q", "--repo", args.repo, "--cache-dir", cache]
        if args.jobs:
            common += ["--jobs", args.jobs]
        rows.append(("cold (empty cache)", *run_once([*common, args.rev])))
        warm = [run_once([*common, args.rev]) for _ in range(max(1, args.runs))]
        best = min(warm)
        rows.append((f"warm (best of {len(warm)})", best[0], max(r for _, r in warm)))
    rows.append(("no cache", *run_once(["dump", "-q", "--repo", args.repo, "--no-cache",
                                        *(["--jobs", args.jobs] if args.jobs else []), args.rev])))
    print(f"vmsd-lint dump {args.rev}  ({os.cpu_count()} CPUs)")
    print(f"{'run':<22} {'wall s':>8} {'peak RSS MiB':>13}")
    for label, wall, rss in rows:
        print(f"{label:<22} {wall:>8.2f} {rss:>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
