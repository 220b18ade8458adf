#!/usr/bin/env python3
"""Check every real stream here (and the two shared x86_64 ones) into the exact sources of
the QEMU builds that wrote them, and print the verdicts as the README's table.

Not a test: it needs Debian's source packages unpacked by hand (nothing is downloaded
here), for example, with a private apt configuration whose sources.list has deb-src lines
for bookworm, bookworm-security, trixie and trixie-security:

    apt-get source --download-only qemu=1:7.2+dfsg-7+deb12u18 qemu=1:10.0.13+ds-0+deb13u1
    dpkg-source -x qemu_7.2+dfsg-7+deb12u18.dsc   /tmp/src/qemu-7.2.22    # applies the patches
    dpkg-source -x qemu_10.0.13+ds-0+deb13u1.dsc /tmp/src/qemu-10.0.13

    compare-sources.py /tmp/src/qemu-7.2.22 /tmp/src/qemu-10.0.13 [--repo QEMU-GIT] [--tags]

--tags also checks each stream into the git tags v7.2.0 and v10.0.2 of --repo (default
$VMSD_LINT_QEMU_REPO).  Nothing of QEMU's is run: vmsd-lint reads the sources.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("VMSD_LINT_SHARED", HERE.parents[3] / "shared")) / "qemu" / "streams"

# What the real binaries did (README.md here, and the shared streams' own README): the
# stream's writer, then per destination binary "loads" or the error it printed.
REAL = {
    "x86_64-v7.2.22-pc-q35-7.2-virtio-pci": ("7.2.22", {"7.2.22": "loads", "10.0.13": "loads"}),
    "x86_64-v10.0.13-pc-q35-7.2-virtio-pci": ("10.0.13", {"10.0.13": "loads", "7.2.22": "loads"}),
    "x86_64-v7.2.22-microvm-virtio-mmio": ("7.2.22", {"7.2.22": "loads"}),
    "aarch64-v7.2.22-virt-7.2-virtio-mmio-pci": ("7.2.22", {
        "7.2.22": "loads", "10.0.13": "fails in cpu_post_load (Operation not permitted)"}),
    "aarch64-v10.0.13-virt-7.2-virtio-mmio-pci": ("10.0.13", {
        "10.0.13": "loads", "7.2.22": "fails: Invalid value 275 expecting positive value <= 258"}),
    "s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw": ("7.2.22", {"7.2.22": "loads"}),
    "x86_64-v7.2.0-pc-q35-7.2": ("v7.2.0", {"v7.2.0": "loads", "v10.0.2": "loads"}),
    "x86_64-v10.0.2-pc-q35-7.2": ("v10.0.2", {"v10.0.2": "loads", "v7.2.0": "loads"}),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qemu_7_2_22", help="Debian's qemu 1:7.2+dfsg-7+deb12u18, unpacked with dpkg-source -x")
    parser.add_argument("qemu_10_0_13", help="Debian's qemu 1:10.0.13+ds-0+deb13u1, unpacked with dpkg-source -x")
    parser.add_argument("--repo", default=os.environ.get("VMSD_LINT_QEMU_REPO"))
    parser.add_argument("--tags", action="store_true", help="also into v7.2.0 and v10.0.2 of --repo")
    parser.add_argument("--jobs", default="2")
    args = parser.parse_args()
    endpoints = {"7.2.22": args.qemu_7_2_22, "10.0.13": args.qemu_10_0_13}
    missing = [p for p in endpoints.values() if not Path(p).is_dir()]
    if missing:
        parser.error(f"not a directory: {', '.join(missing)} (unpack the source packages first)")
    if args.tags:
        if not args.repo:
            parser.error("--tags needs --repo or VMSD_LINT_QEMU_REPO")
        endpoints |= {"v7.2.0": "v7.2.0", "v10.0.2": "v10.0.2"}
    streams = sorted(HERE.glob("*.mig.xz")) + sorted(SHARED.glob("*.mig.xz"))
    print("| stream | endpoint | verdict | first failure | what the real binary did |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for xz in streams:
            name = xz.name.removesuffix(".mig.xz")
            writer, real = REAL.get(name, ("?", {}))
            stream = Path(tmp) / f"{name}.mig"
            stream.write_bytes(lzma.decompress(xz.read_bytes()))
            for label, endpoint in endpoints.items():
                verdict, failure = check(stream, endpoint, name.split("-")[0], args)
                own = " (its writer)" if label == writer else ""
                print(f"| `{name}` | {label}{own} | {verdict} | {failure} | {real.get(label, 'not run')} |")
    return 0


def check(stream: Path, endpoint: str, target: str, args) -> tuple[str, str]:
    command = ["vmsd-lint", "check-stream", str(stream), endpoint, "--target", target,
               "--format", "json", "--jobs", args.jobs]
    if args.repo:
        command += ["--repo", args.repo]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 1):
        return f"exit {run.returncode}", run.stderr.strip().replace("|", "\\|")
    report = json.loads(run.stdout)
    failure = report["failure"]
    if failure is None:
        return report["result"], ""
    return report["result"], f"{failure['rule']} at `{failure['path']}`: {failure['stream_holds']}"[:160]


if __name__ == "__main__":
    sys.exit(main())
