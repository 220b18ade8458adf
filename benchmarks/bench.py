#!/usr/bin/env python3
"""Speed of vmsd-lint on the full QEMU tree, cold (fresh cache) and warm (same cache),
with the peak RSS of each run (its largest process, and summed over its processes):

- `dump v10.0.2`;
- `v7.2.0..v10.0.2` (the main job on two releases);
- `v10.0.2..BRANCH`, where BRANCH is v10.0.2 plus a one-file change (a field added to
  hw/char/serial.c), committed in a scratch clone that shares the repository's objects,
  so the repository itself is not touched;
- `--per-commit v10.0.2..thirty`: 30 commits each changing one .c file, two of them
  adding a field to serial (cache warmed by `dump v10.0.2`);
- `pre-commit` in that clone with the same change staged (HEAD at v10.0.2).

    python benchmarks/bench.py --repo QEMU_REPO [--jobs N] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

# The wrapper process of one run: its wall time, the peak RSS of its largest process
# (RUSAGE_CHILDREN) and the peak of the RSS summed over its process tree, sampled every
# 0.1 s from /proc by a thread (shared pages are counted in each process; 0 without /proc).
_RUN_ONCE = """
import os, resource, subprocess, sys, tempfile, threading, time

def tree_kib(root):
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return total

summed = [0]
def sample(pid):
    while proc.poll() is None:
        summed[0] = max(summed[0], tree_kib(pid))
        time.sleep(0.1)

with tempfile.TemporaryFile() as err:
    t = time.perf_counter()
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)
    threading.Thread(target=sample, args=(proc.pid,), daemon=True).start()
    proc.wait()
    t = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        err.seek(0)
        sys.exit(err.read().decode(errors="replace"))
print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, summed[0])
"""


def run_once(args: list[str]) -> tuple[float, float, float]:
    """Wall time (s), peak RSS of the largest process and peak summed RSS (MiB) of one
    vmsd-lint run, in a fresh wrapper process (so RUSAGE_CHILDREN holds this run alone)."""
    out = subprocess.run([sys.executable, "-c", _RUN_ONCE, sys.executable, "-m", "vmsd_lint.cli.main", *args],
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"vmsd-lint failed: {out.stderr.strip()}")
    wall, rss_kib, summed_kib = out.stdout.split()
    return float(wall), int(rss_kib) / 1024, int(summed_kib) / 1024


def one_file_branch(repo: str, scratch: str) -> str:
    """A clone of repo (objects shared) with branch `one-file` = v10.0.2 + one field."""
    def git(*args: str, **kw) -> str:
        return subprocess.run(["git", "-C", scratch, *args], check=True, capture_output=True, text=True,
                              **kw).stdout.strip()

    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", repo, scratch], check=True)
    source = git("show", "v10.0.2:hw/char/serial.c")
    changed = source.replace("VMSTATE_UINT8(lsr, SerialState),",
                             "VMSTATE_UINT8(lsr, SerialState),\n        VMSTATE_UINT8(msr_extra, SerialState),", 1)
    blob = git("hash-object", "-w", "--stdin", input=changed)
    env = {**os.environ, "GIT_INDEX_FILE": os.path.join(scratch, "bench-index")}
    subprocess.run(["git", "-C", scratch, "read-tree", "v10.0.2"], check=True, env=env)
    subprocess.run(["git", "-C", scratch, "update-index", "--cacheinfo", f"100644,{blob},hw/char/serial.c"],
                   check=True, env=env)
    tree = subprocess.run(["git", "-C", scratch, "write-tree"], check=True, env=env, capture_output=True,
                          text=True).stdout.strip()
    commit = git("-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit-tree", tree,
                 "-p", "v10.0.2", "-m", "serial: one more field")
    git("branch", "one-file", commit)
    return "one-file"


def thirty_commits(clone: str) -> str:
    """Branch `thirty`: 30 commits on v10.0.2, each changing one .c file; commits 10 and 20
    add a field to serial's VMSD (the two findings --per-commit must attribute)."""
    def git(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(["git", "-C", clone, *args], check=True, capture_output=True, text=True,
                              input=stdin).stdout.strip()

    files = sorted(p for p in git("ls-tree", "-r", "--name-only", "v10.0.2", "hw/char/", "hw/gpio/").split()
                   if p.endswith(".c") and p != "hw/char/serial.c")[:28]
    env = {**os.environ, "GIT_INDEX_FILE": os.path.join(clone, "thirty-index")}
    subprocess.run(["git", "-C", clone, "read-tree", "v10.0.2"], check=True, env=env)
    commit, serial = git("rev-parse", "v10.0.2^{commit}"), git("show", "v10.0.2:hw/char/serial.c")
    for number in range(1, 31):
        if number in (10, 20):
            member = "msr_extra" if number == 10 else "scr_extra"
            serial = serial.replace("VMSTATE_UINT8(lsr, SerialState),",
                                    "VMSTATE_UINT8(lsr, SerialState),\n"
                                    f"        VMSTATE_UINT8({member}, SerialState),", 1)
            path, text = "hw/char/serial.c", serial
        else:
            path = files.pop(0)
            text = git("show", f"v10.0.2:{path}") + f"\n/* commit {number} */\n"
        blob = git("hash-object", "-w", "--stdin", stdin=text)
        subprocess.run(["git", "-C", clone, "update-index", "--cacheinfo", f"100644,{blob},{path}"],
                       check=True, env=env)
        tree = subprocess.run(["git", "-C", clone, "write-tree"], check=True, env=env, capture_output=True,
                              text=True).stdout.strip()
        commit = git("-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit-tree", tree,
                     "-p", commit, "-m", f"commit {number}: {path}")
    git("branch", "thirty", commit)
    return "thirty"


def stage_one_file(clone: str, branch: str) -> None:
    """HEAD at v10.0.2 and, staged in the index (nothing checked out), BRANCH's serial.c."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", clone, *args], check=True, capture_output=True, text=True).stdout.strip()

    git("update-ref", "HEAD", "v10.0.2^{commit}")  # the clone's branch, moved: HEAD names v10.0.2
    git("read-tree", "HEAD")
    blob = git("rev-parse", f"{branch}:hw/char/serial.c")
    git("update-index", "--cacheinfo", f"100644,{blob},hw/char/serial.c")


def cold_and_warm(label: str, args: list[str], runs: int) -> list[tuple]:
    """Median of RUNS cold runs (each with a new empty cache; the machine is noisy) and
    the best of RUNS warm runs (on the last cold run's cache)."""
    cold = []
    for _ in range(max(1, runs)):
        with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-") as cache:
            cold.append(run_once([*args[:1], "--cache-dir", cache, *args[1:]]))
            if len(cold) == max(1, runs):
                warm = [run_once([*args[:1], "--cache-dir", cache, *args[1:]]) for _ in range(max(1, runs))]
    median = sorted(cold)[len(cold) // 2]
    return [(f"{label}: cold (median of {len(cold)})", *median), (f"{label}: warm (best of {len(warm)})", *min(warm))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"),
                        help="QEMU git repository (default: $VMSD_LINT_QEMU_REPO)")
    parser.add_argument("--jobs", default=None, help="--jobs for vmsd-lint (default: its own)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (the best is reported)")
    args = parser.parse_args()
    if not args.repo:
        parser.error("give --repo or set VMSD_LINT_QEMU_REPO")
    jobs = ["--jobs", args.jobs] if args.jobs else []
    rows = []
    rows += cold_and_warm("dump v10.0.2", ["dump", "-q", "--repo", args.repo, *jobs, "v10.0.2"], args.runs)
    rows += cold_and_warm("v7.2.0..v10.0.2", ["check", "-q", "--repo", args.repo, *jobs, "v7.2.0..v10.0.2"],
                          args.runs)
    with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-repo-") as scratch:
        branch = one_file_branch(args.repo, os.path.join(scratch, "qemu"))
        clone = os.path.join(scratch, "qemu")
        rows += cold_and_warm("v10.0.2..one-file", ["check", "-q", "--repo", clone, *jobs, f"v10.0.2..{branch}"],
                              args.runs)
        with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-") as cache:
            run_once(["dump", "-q", "--cache-dir", cache, "--repo", clone, *jobs, "v10.0.2"])
            rows.append(("v10.0.2..one-file: first run after v10.0.2",
                         *run_once(["check", "-q", "--cache-dir", cache, "--repo", clone, *jobs,
                                    f"v10.0.2..{branch}"])))
        thirty = thirty_commits(clone)
        with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-") as cache:
            run_once(["dump", "-q", "--cache-dir", cache, "--repo", clone, *jobs, "v10.0.2"])
            rows.append(("--per-commit v10.0.2..thirty (30 commits)",
                         *run_once(["check", "-q", "--per-commit", "--cache-dir", cache, "--repo", clone, *jobs,
                                    f"v10.0.2..{thirty}"])))
        stage_one_file(clone, branch)
        with tempfile.TemporaryDirectory(prefix="vmsd-lint-bench-") as cache:
            run_once(["dump", "-q", "--cache-dir", cache, "--repo", clone, *jobs, "HEAD"])
            args_pc = ["pre-commit", "-q", "--cache-dir", cache, "--repo", clone, *jobs]
            rows.append(("pre-commit (one staged file): first run after HEAD", *run_once(args_pc)))
            rows.append(("pre-commit (one staged file): again", *min(run_once(args_pc) for _ in range(args.runs))))
    print(f"vmsd-lint on {args.repo}  ({os.cpu_count()} CPUs)")
    print(f"{'run':<52} {'wall s':>8} {'peak RSS MiB':>13} {'summed':>7}")
    for label, wall, rss, summed in rows:
        print(f"{label:<52} {wall:>8.2f} {rss:>13.0f} {summed:>7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
