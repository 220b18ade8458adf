"""How a run ends when it is interrupted or one of its processes is killed: real runs in
their own process group, real signals.

Each ends with one `vmsd-lint: error: ...` line on stderr, nothing on stdout (or all of the
report, when the signal came while it was being written), a defined
exit status (130 SIGINT, 143 SIGTERM, 2 a child killed), no process of the run left (none
holding the caller's pipes open), and a cache that gives what --no-cache gives.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANGE = "v7.2.0..v10.0.2"


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """vmsd-lint in a process group of its own (as a shell starts a job)."""
    return subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, process_group=0, env=env)


def group_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, name) of the live processes of a process group (zombies left out)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            found.append((int(entry), name))
    return found


def assert_group_gone(pgid: int) -> None:
    deadline = time.monotonic() + 10
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = group_members(pgid)
    if left:
        os.killpg(pgid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the run hung")
    return out.decode(), err.decode()


def wait_for_process(proc: subprocess.Popen, name: str, timeout: float = 120) -> int:
    """The pid of the first process of the run named NAME (processes.name_process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for pid, found in group_members(proc.pid):
            if found == name:
                return pid
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"no process named {name} appeared")


def assert_one_line(err: str, *needles: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def check(qemu_repo: str, *args: str) -> list[str]:
    return ["--format", "json", "--repo", qemu_repo, RANGE, *args]


@pytest.mark.qemu
def test_ctrl_c_at_any_moment(qemu_repo, tmp_path):
    """SIGINT to the whole group (Ctrl-C) at several moments of a cold run: exit 130,
    one line, nothing on stdout, no process left; then a run on that cache is --no-cache's."""
    began = time.monotonic()
    reference = finish(start(*check(qemu_repo, "--no-cache")), 600)[0]
    cold = time.monotonic() - began
    cache = str(tmp_path / "cache")
    for fraction in (0.1, 0.45, 0.8, 0.97):
        proc = start(*check(qemu_repo, "--cache-dir", cache))
        time.sleep(cold * fraction)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = finish(proc)
        if proc.returncode in (0, 1):  # ended before the signal came (a loaded machine is slower)
            assert fraction > 0.5 and out == reference, err
        else:
            assert proc.returncode == 130, (fraction, err)
            assert_one_line(err, "SIGINT")
            # the report is written with the signals held (processes.signals_deferred):
            # a signal that comes during the write ends the run after it, never in it
            assert out in ("", reference), fraction
        assert_group_gone(proc.pid)
    warm = finish(start(*check(qemu_repo, "--cache-dir", cache)), 600)[0]
    assert warm == reference


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["vmsd-worker", "vmsd-resolver"])
def test_sigterm_to_the_main_process_only(qemu_repo, name):
    """`kill PID`, `timeout --foreground`: the children (pool workers, second resolver)
    end with the main process, which says so in one line with exit status 143."""
    proc = start(*check(qemu_repo, "--no-cache", "--jobs", "4"))
    wait_for_process(proc, name)
    os.kill(proc.pid, signal.SIGTERM)
    out, err = finish(proc, 30)
    assert proc.returncode == 143, err
    assert_one_line(err, "SIGTERM")
    assert out == ""
    assert_group_gone(proc.pid)


@pytest.mark.qemu
def test_sigkill_to_the_main_process_leaves_no_child(qemu_repo):
    """subprocess.run(timeout=) kills the main process only: the caller must not hang on
    the pipes its children would hold."""
    proc = start(*check(qemu_repo, "--no-cache", "--jobs", "4"))
    wait_for_process(proc, "vmsd-worker")
    proc.kill()
    finish(proc, 30)
    assert proc.returncode == -signal.SIGKILL
    assert_group_gone(proc.pid)


@pytest.mark.qemu
@pytest.mark.parametrize("name, described", [
    ("vmsd-worker", "a worker process"),
    ("vmsd-resolver", "the second resolver"),
    ("vmsd-new-tree", "the process extracting NEW"),
])
def test_a_child_killed_as_by_the_oom_killer(qemu_repo, name, described):
    """SIGKILL to one child: one line naming it and the signal, exit status 2, no hang."""
    proc = start(*check(qemu_repo, "--no-cache", "--jobs", "4"))
    os.kill(wait_for_process(proc, name), signal.SIGKILL)
    out, err = finish(proc, 120)
    assert proc.returncode == 2, err
    assert_one_line(err, described, "signal 9 (SIGKILL")
    assert out == ""
    assert_group_gone(proc.pid)


def big_mbox(path: Path, megabytes: int) -> None:
    """A series of many small patches, MEGABYTES in all."""
    diff = ("diff --git a/docs/a.txt b/docs/a.txt\n--- a/docs/a.txt\n+++ b/docs/a.txt\n"
            "@@ -1,1 +1,1 @@\n-a\n+b\n")
    message = ("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
               "From: A <a@example.org>\nSubject: [PATCH] docs: x\n\n" + "x" * 2000 + "\n---\n" + diff + "\n")
    with open(path, "w") as fh:
        for _ in range(megabytes * 1024 * 1024 // len(message)):
            fh.write(message)


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_review_interrupted_leaves_no_temporary_file(tmp_path, signum, status):
    mbox = tmp_path / "series.mbox"
    big_mbox(mbox, 80)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    proc = start("review", "--base", str(ROOT / "samples" / "serial-device"), "--no-cache", str(mbox), env=env)
    time.sleep(1.5)
    os.killpg(proc.pid, signum)
    out, err = finish(proc, 60)
    assert proc.returncode == status, err
    assert_one_line(err, signal.Signals(signum).name)
    assert out == ""
    assert list(scratch.iterdir()) == []
    assert_group_gone(proc.pid)


WRITER = """
import os, signal, sys
from vmsd_lint.processes import signals_handled, signals_deferred
from vmsd_lint.cli.output import write_report
with signals_handled():
    with signals_deferred(limit=float(sys.argv[1])):
        os.kill(os.getpid(), signal.SIGINT)
        write_report("x" * 4_000_000 + "\\n", None)
    print("not reached", file=sys.stderr)
"""


def test_a_signal_during_the_report_write_waits_for_its_end():
    """SIGINT while the report is written: all of it on stdout, then exit 130."""
    proc = subprocess.run([sys.executable, "-c", WRITER, "30"], capture_output=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 130
    assert proc.stdout == b"x" * 4_000_000 + b"\n"
    assert_one_line(proc.stderr.decode(), "SIGINT")


def test_a_stalled_reader_does_not_hold_an_interrupted_run():
    """The same with a pipe nobody reads: the run ends the limit after the signal."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    try:
        status = proc.wait(timeout=30)  # the pipe holds 64 KiB of the 4 MB: the write stalls
    finally:
        proc.kill()
    assert status == 130
    assert_one_line(proc.stderr.read().decode(), "SIGINT")
