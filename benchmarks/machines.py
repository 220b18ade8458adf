#!/usr/bin/env python3
"""Time of the machine pass (extract.machines.machine_facts) on a release, cold: each run
in a fresh process, with the index built by the pass itself (no caller's index).  The
extraction it needs is made first (cached in --cache-dir) and not timed.

    python benchmarks/machines.py --repo QEMU_REPO [--release v10.0.2] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile

_RUN_ONCE = """
import sys, time
from vmsd_lint.app.check import Options, extract_endpoint
from vmsd_lint.extract import machines
from vmsd_lint.extract.cache import Cache
from vmsd_lint.sources.tree import git_revision_tree

repo, release, cache_dir = sys.argv[1:4]
cache = Cache(cache_dir)
extraction = extract_endpoint(release, Options(repo=repo, target="x86_64", jobs=2, cache=cache))
cache.close()
parts = {}

def timed(name, function):
    def run(*args, **kw):
        start = time.perf_counter()
        try:
            return function(*args, **kw)
        finally:
            parts[name] = parts.get(name, 0) + time.perf_counter() - start
    return run

machines.SourceSet = timed("index", machines.SourceSet)
machines.MachineReader.__init__ = timed("machine_files", machines.MachineReader.__init__)
machines.MachineReader.machine_types = timed("machine_types", machines.MachineReader.machine_types)
machines.PropertyReader.properties = timed("properties", machines.PropertyReader.properties)
machines.read_gates = timed("gates", machines.read_gates)
start = time.perf_counter()
facts = machines.machine_facts(git_revision_tree(repo, release), extraction)
print(time.perf_counter() - start, *(f"{k}={v}" for k, v in parts.items()))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--release", default="v10.0.2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vmsd-lint-machines-") as scratch:
        cache = args.cache_dir or scratch
        runs = []
        for _ in range(max(1, args.runs)):
            out = subprocess.run([sys.executable, "-c", _RUN_ONCE, args.repo, args.release, cache],
                                 capture_output=True, text=True)
            if out.returncode:
                sys.exit(out.stderr.strip())
            total, *parts = out.stdout.split()
            runs.append((float(total), dict(p.split("=") for p in parts)))
    median = statistics.median(total for total, _ in runs)
    print(f"machine pass, {args.release}, cold: median {median:.2f} s of {[round(t, 2) for t, _ in runs]}")
    for name in runs[0][1]:
        print(f"  {name}: median {statistics.median(float(p[name]) for _, p in runs):.2f} s")


if __name__ == "__main__":
    main()
