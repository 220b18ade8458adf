#!/usr/bin/env python3
"""Record a migration stream from a real QEMU binary, then load it back into the same binary.

Not a test: the tool that made the streams beside it (see README.md here). Standard library
only; needs the QEMU binary, so CI never runs it.

    record.py --out NAME.mig [--wrap 'LOADER --library-path DIRS'] -- QEMU-BINARY ARGS...

Source side: QEMU-BINARY ARGS -display none -qmp unix:SOCK,server=on,wait=off, then over QMP
  {"execute": "qmp_capabilities"}
  {"execute": "migrate", "arguments": {"uri": "exec:cat > NAME.mig"}}
  {"execute": "query-migrate"}   (repeated until "status" is "completed"; "failed" stops)
  {"execute": "quit"}
Load-back: QEMU-BINARY ARGS -display none -qmp ... -incoming "exec:cat NAME.mig", then
  {"execute": "qmp_capabilities"}
  {"execute": "query-status"}    (repeated until it is no longer "inmigrate")
  {"execute": "query-migrate"}   (the destination's own status: "completed" when it loaded)
  {"execute": "quit"}
The load-back passes when the destination is still running, its status left "inmigrate" and
its query-migrate says "completed" (QEMU exits with "load of migration failed" otherwise).
Prints one JSON line: the file, its size, the load-back result and the destination's stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time


class QMP:
    def __init__(self, path: str, proc: subprocess.Popen, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"QEMU exited ({proc.returncode}) before its QMP socket opened")
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self) -> dict:
        line = self.file.readline()
        if not line:
            raise RuntimeError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name: str, **arguments) -> object:
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']}")
            return reply.get("return")


def start(argv: list[str], sock: str, extra: list[str], log) -> subprocess.Popen:
    cmd = argv + ["-display", "none", "-qmp", f"unix:{sock},server=on,wait=off"] + extra
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def stop(proc: subprocess.Popen, qmp: QMP | None) -> None:
    try:
        if qmp and proc.poll() is None:
            qmp.cmd("quit")
    except (RuntimeError, OSError):
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def record(argv: list[str], out: str, timeout: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "log"), "w+") as log:
        sock = os.path.join(tmp, "qmp")
        proc = start(argv, sock, [], log)
        qmp = None
        try:
            qmp = QMP(sock, proc)
            qmp.cmd("migrate", uri=f"exec:cat > {shlex.quote(out)}")
            deadline = time.monotonic() + timeout
            while True:
                status = qmp.cmd("query-migrate").get("status")
                if status == "completed":
                    break
                if status in ("failed", "cancelled") or time.monotonic() > deadline:
                    raise RuntimeError(f"migration {status}: {qmp.cmd('query-migrate')}")
                time.sleep(0.2)
        finally:
            stop(proc, qmp)
            log.seek(0)
            text = log.read()
            if text.strip():
                print(f"source stderr: {text.strip()}", file=sys.stderr)


def load_back(argv: list[str], path: str, timeout: float) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(tmp, "log"), "w+") as log:
        sock = os.path.join(tmp, "qmp")
        proc = start(argv, sock, ["-incoming", f"exec:cat {shlex.quote(path)}"], log)
        qmp = None
        ok = False
        try:
            qmp = QMP(sock, proc)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    status = qmp.cmd("query-status")["status"]
                except (RuntimeError, OSError):
                    break
                if status != "inmigrate":
                    ok = proc.poll() is None and qmp.cmd("query-migrate").get("status") == "completed"
                    break
                time.sleep(0.2)
        except (RuntimeError, OSError):
            ok = False
        finally:
            stop(proc, qmp)
            log.seek(0)
            text = log.read().strip()
        return ok, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wrap", default="", help="command put before the binary (a dynamic loader and its options)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    argv = [a for a in args.qemu if a != "--"]
    argv = shlex.split(args.wrap) + argv
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        os.unlink(out)
    record(argv, out, args.timeout)
    ok, text = load_back(argv, out, args.timeout)
    print(json.dumps({"file": out, "size": os.path.getsize(out), "loaded_back": ok, "destination_stderr": text}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
