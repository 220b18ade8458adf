#!/bin/bash
# Remake the streams in this directory from real QEMU binaries (see README.md here).
# Needs: Debian 12's qemu-system-x86, qemu-system-arm, qemu-system-misc (apt), and for the
# 10.0 stream trixie's QEMU unpacked in $TRIXIE_ROOT (README.md says how); the QEMU source
# trees $Q7 and $Q10 for their scripts/analyze-migration.py. Not run by the tests or CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
Q7=${Q7:-/tmp/q7}
Q10=${Q10:-/tmp/q10}
TRIXIE_ROOT=${TRIXIE_ROOT:-/tmp/trixie-root}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

X86_Q35=(-M pc-q35-7.2 -nodefaults -S -m 64
  -drive if=none,id=d0,driver=null-co,size=1M -drive if=none,id=d1,driver=null-co,size=1M
  -chardev null,id=c0
  -device virtio-net-pci,id=net0 -device virtio-net-pci-non-transitional,id=net1
  -device virtio-balloon-pci -device virtio-blk-pci,drive=d0
  -device virtio-serial-pci -device virtserialport,chardev=c0,name=org.example.port0
  -device virtio-rng-pci -device virtio-scsi-pci,id=scsi0 -device scsi-hd,bus=scsi0.0,drive=d1
  -device virtio-gpu-pci)
X86_MICROVM=(-M microvm -nodefaults -S -m 64
  -drive if=none,id=d0,driver=null-co,size=1M
  -device virtio-net-device,id=net0 -device virtio-rng-device -device virtio-blk-device,drive=d0)
ARM_VIRT=(-M virt-7.2 -cpu cortex-a57 -nodefaults -S -m 64
  -drive if=none,id=d0,driver=null-co,size=1M
  -device virtio-net-device,id=net0 -device virtio-rng-device
  -device virtio-balloon-device -device virtio-blk-device,drive=d0
  -device virtio-net-pci,id=net1 -device virtio-rng-pci)
S390_CCW=(-M s390-ccw-virtio-7.2 -nodefaults -S -m 64
  -drive if=none,id=d0,driver=null-co,size=1M -chardev null,id=c0
  -device virtio-net-ccw,id=net0 -device virtio-rng-ccw -device virtio-balloon-ccw
  -device virtio-blk-ccw,drive=d0
  -device virtio-serial-ccw -device virtserialport,chardev=c0,name=org.example.port0)

# one NAME SOURCE-TREE [--wrap W] -- BINARY ARGS...
one() {
  local name=$1 tree=$2; shift 2
  python3 "$here/record.py" --out "$work/$name.mig" "$@" > "$work/record.json"
  # the stream's own file name instead of the temporary path; the binary's --version added
  python3 - "$work/record.json" "$name.mig" "$@" >> "$here/streams.jsonl" <<'PY'
import json, shlex, subprocess, sys
rec = json.load(open(sys.argv[1]))
args = sys.argv[3:]
wrap = shlex.split(args[1]) if args[0] == "--wrap" else []
binary = args[args.index("--") + 1]
rec["file"] = sys.argv[2]
rec["qemu_version"] = subprocess.run(wrap + [binary, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
print(json.dumps(rec))
PY
  python3 "$tree/scripts/analyze-migration.py" -f "$work/$name.mig" --dump desc > "$work/$name.desc.json"
  xz -9 -T1 -c "$work/$name.desc.json" > "$here/$name.desc.json.xz"
  xz -9 -T1 -c "$work/$name.mig" > "$here/$name.mig.xz"
}
rm -f "$here/streams.jsonl"

one x86_64-v7.2.22-pc-q35-7.2-virtio-pci "$Q7" -- qemu-system-x86_64 "${X86_Q35[@]}"
one x86_64-v7.2.22-microvm-virtio-mmio "$Q7" -- qemu-system-x86_64 "${X86_MICROVM[@]}"
one aarch64-v7.2.22-virt-7.2-virtio-mmio-pci "$Q7" -- qemu-system-aarch64 "${ARM_VIRT[@]}"
one s390x-v7.2.22-s390-ccw-virtio-7.2-virtio-ccw "$Q7" -- qemu-system-s390x "${S390_CCW[@]}"

if [ -x "$TRIXIE_ROOT/usr/bin/qemu-system-x86_64" ]; then
  lib=$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu
  export QEMU_MODULE_DIR=$lib/qemu   # trixie's modules (virtio-gpu), not the installed 7.2 ones
  one x86_64-v10.0.13-pc-q35-7.2-virtio-pci "$Q10" --wrap "$lib/ld-linux-x86-64.so.2 --library-path $lib" -- \
    "$TRIXIE_ROOT/usr/bin/qemu-system-x86_64" -L "$TRIXIE_ROOT/usr/share/qemu" -L "$TRIXIE_ROOT/usr/share/seabios" \
    -L "$TRIXIE_ROOT/usr/lib/ipxe/qemu" "${X86_Q35[@]}"
fi
cat "$here/streams.jsonl"
