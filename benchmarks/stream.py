#!/usr/bin/env python3
"""Speed and memory of `vmsd-lint check-stream`, each figure the median of RUNS runs:

- warm: the real 585 KB x86_64 stream QEMU 10.0.2 saved (`-M pc-q35-7.2 -nodefaults -S`)
  checked against REV (default v10.0.2, --target x86_64), after one run that fills the cache;
- virtio: the 1.3 MB stream QEMU 7.2.22 saved with nine virtio-pci devices on q35
  (tests/data/streams), whose hand-written virtio bytes the check decodes by search;
- big: that stream with GIGABYTES of zero pages added to its ram section (a sparse file:
  the reader cannot tell), through `--describe` and through the check: wall time and the
  peak RSS of the process (wait4), which must not grow with the file.

    python benchmarks/stream.py --repo QEMU_REPO [--rev v10.0.2] [--gigabytes 2.5] [--runs 5] [--code DIR]

--code runs another checkout's vmsd_lint (a worktree of an earlier commit): before and
after a change, on the same machine in the same run.

The stream is ../shared/qemu/streams/x86_64-v10.0.2-pc-q35-7.2.mig.xz, decompressed into a
temporary directory (QEMU writes no .xz). Nothing is written into the repository.
"""
from __future__ import annotations

import argparse
import lzma
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from vmsd_lint.sources.stream import read_stream  # noqa: E402

SEED = ROOT.parent / "shared" / "qemu" / "streams" / "x86_64-v10.0.2-pc-q35-7.2.mig.xz"
VIRTIO = ROOT / "tests" / "data" / "streams" / "x86_64-v7.2.22-pc-q35-7.2-virtio-pci.mig.xz"


def run(args: list[str], env: dict) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one `vmsd-lint ARGS` process (its own rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"vmsd-lint {' '.join(args)}: exit {proc.returncode}: {errors.decode()[-500:]}")
    return wall, usage.ru_maxrss // 1024


def median(args: list[str], env: dict, runs: int) -> tuple[float, int]:
    results = [run(args, env) for _ in range(runs)]
    return statistics.median(w for w, _ in results), max(m for _, m in results)


def big_stream(seed: bytes, path: Path, extra: int) -> None:
    """SEED with EXTRA zero bytes at the end of its ram PART piece (a hole in a sparse file)."""
    part = next(s for s in read_stream(seed).sections if s.kind == "part")
    with open(path, "wb") as out:
        out.write(seed[:part.end])
        out.seek(part.end + extra)
        out.write(seed[part.end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--rev", default="v10.0.2")
    parser.add_argument("--gigabytes", type=float, default=2.5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose vmsd_lint runs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vmsd-lint-stream-bench-") as tmp:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": os.path.join(tmp, "pycache"),
               "PYTHONPATH": options.code}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a warm run has its bytecode compiled
        seed = lzma.decompress(SEED.read_bytes())
        small, big, virtio = Path(tmp) / "small.mig", Path(tmp) / "big.mig", Path(tmp) / "virtio.mig"
        small.write_bytes(seed)
        virtio.write_bytes(lzma.decompress(VIRTIO.read_bytes()))
        big_stream(seed, big, int(options.gigabytes * 1e9))
        check = [options.rev, "--repo", options.repo, "--target", "x86_64", "--cache-dir", os.path.join(tmp, "cache")]
        run(["check-stream", str(small), *check], env)  # fills the cache and the bytecode
        for name, args in [("warm check, 585 KB", ["check-stream", str(small), *check]),
                           ("warm check, virtio 1.3 MB", ["check-stream", str(virtio), *check]),
                           ("describe, 585 KB", ["check-stream", "--describe", str(small)]),
                           (f"describe, {options.gigabytes} GB", ["check-stream", "--describe", str(big)]),
                           (f"warm check, {options.gigabytes} GB", ["check-stream", str(big), *check])]:
            wall, peak = median(args, env, options.runs)
            print(f"{name:<24} {wall:6.2f} s   peak RSS {peak:5d} MB")


if __name__ == "__main__":
    main()
