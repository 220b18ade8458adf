"""Hostile files and descriptors around a run: where the report goes (-o onto a device, a
FIFO, a directory, a full disk; a non-blocking, broken or closed standard output) and what
the trees hold (file names that are not UTF-8 or hold newlines, links leading out of the
tree, FIFOs, huge files), plus malformed configuration, mail and dumps.  Each ends in a
whole report or one `vmsd-lint: error: ...` line (exit 2) -- never a hang, a traceback or
a device node replaced by a regular file."""
from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def assert_one_line_error(proc, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: "), proc.stderr
    assert "internal error" not in lines[0] and "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def check_json(*args: str) -> list[str]:
    return ["--format", "json", "--no-cache", *args, f"{SAMPLE}..{SAMPLE}"]


# -- -o FILE --------------------------------------------------------------------------------

@ROOT_ONLY
def test_output_onto_a_device_node_writes_through_it(tmp_path):
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    proc = run_cli(*check_json("-o", str(node)))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(node.lstat().st_mode) and node.lstat().st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_output_onto_dev_null_keeps_it_a_device():
    before = os.stat("/dev/null")
    if not stat.S_ISCHR(before.st_mode):  # another program on this machine replaced it already
        pytest.skip("/dev/null is not a character device on this machine")
    proc = run_cli(*check_json("-o", "/dev/null"))
    assert proc.returncode == 0, proc.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_output_onto_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open first, so the writer does not wait
    try:
        proc = run_cli(*check_json("-o", str(fifo)))
        assert proc.returncode == 0, proc.stderr
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
        report = json.loads(os.read(reader, 1 << 20))
    finally:
        os.close(reader)
    assert report["summary"]["error"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.fifo"]


def test_output_onto_a_directory_is_one_line_and_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    assert_one_line_error(run_cli(*check_json("-o", str(target))), str(target), "directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not any(target.iterdir())


def _file_size_limit(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_output_on_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path):
    """A file size limit (ulimit -f) stands in for a full disk: the write fails midway."""
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *check_json("-o", str(out))],
                          capture_output=True, text=True, timeout=120, preexec_fn=_file_size_limit(100))
    assert_one_line_error(proc, str(out))
    assert out.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_output_replacing_a_file_keeps_its_permissions(tmp_path):
    out = tmp_path / "report.json"
    out.write_text("old\n")
    out.chmod(0o600)
    assert run_cli(*check_json("-o", str(out))).returncode == 0
    assert json.loads(out.read_text())["summary"]["error"] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# -- standard output ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_tree(tmp_path_factory) -> Path:
    """The serial sample with 40 more copies of its device: a dump of several pipe buffers."""
    tree = tmp_path_factory.mktemp("big") / "tree"
    shutil.copytree(SAMPLE, tree)
    source = (tree / "hw" / "char" / "serial.c").read_text()
    for n in range(40):
        (tree / "hw" / "char" / f"serial{n}.c").write_text(source.replace('"serial', f'"serial{n}-'))
    return tree


@pytest.mark.parametrize("unbuffered", [False, True])
def test_report_to_a_non_blocking_pipe_is_whole(big_tree, tmp_path, unbuffered):
    expected_file = tmp_path / "expected.json"
    assert run_cli("dump", "--no-cache", "-q", "-o", str(expected_file), str(big_tree)).returncode == 0
    expected = expected_file.read_bytes()
    assert len(expected) > 4 * 65536
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # as a parent that set O_NONBLOCK on its side leaves it
    env = {**os.environ, **({"PYTHONUNBUFFERED": "1"} if unbuffered else {})}
    proc = subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli.main", "dump", "--no-cache", "-q", str(big_tree)],
                            stdout=write_end, stderr=subprocess.PIPE, env=env)
    os.close(write_end)
    time.sleep(3)  # a slow reader: the pipe fills and the writer meets EAGAIN
    received = bytearray()
    while chunk := os.read(read_end, 1 << 16):
        received += chunk
    os.close(read_end)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert stderr == "" and bytes(received) == expected


def test_closed_standard_output_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *check_json()], stderr=subprocess.PIPE,
                          text=True, timeout=120, preexec_fn=lambda: os.close(1))
    assert_one_line_error(proc, "standard output is closed")


def test_broken_pipe_is_one_line():
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write fails with EPIPE
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *check_json()], stdout=write_end,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert_one_line_error(proc, "could not write the report to standard output")


# -- what a tree holds ------------------------------------------------------------------------

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def commit_all(repo: Path) -> None:
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "c"]):
        subprocess.run(cmd, cwd=repo, check=True, capture_output=True, env={**GIT_ENV, "HOME": str(repo)})


def serial_copy(tree: Path, name: str) -> bytes:
    """The sample's serial device renamed NAME: a VMSD that shows whether a file was read."""
    return (tree / "hw" / "char" / "serial.c").read_bytes().replace(b'"serial"', f'"{name}"'.encode())


def dump(tree_or_rev: str, *args: str) -> tuple[dict, list[dict]]:
    proc = run_cli("dump", "--no-cache", "-q", *args, tree_or_rev, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return {v["name"] for v in data["vmsds"]}, data["diagnostics"]


def notes_about(diagnostics: list[dict], path: str) -> list[str]:
    return [d["message"] for d in diagnostics if d["file"] == path]


NON_UTF8 = b"hw/char/caf\xe9.c"


def test_non_utf8_file_name_in_a_directory_is_read_and_named(sample_tree):
    with open(os.fsencode(sample_tree) + b"/" + NON_UTF8, "wb") as fh:
        fh.write(serial_copy(sample_tree, "cafe"))
    names, diagnostics = dump(str(sample_tree))
    assert {"serial", "cafe"} <= names  # the rest, and the file itself, analysed
    assert any("not valid UTF-8" in m for m in notes_about(diagnostics, "hw/char/caf\\xe9.c")), diagnostics


def test_non_utf8_file_name_in_a_commit_is_read_and_named(sample_tree):
    with open(os.fsencode(sample_tree) + b"/" + NON_UTF8, "wb") as fh:
        fh.write(serial_copy(sample_tree, "cafe"))
    commit_all(sample_tree)
    for endpoint in ("HEAD", "WORKTREE", "INDEX"):
        names, diagnostics = dump(endpoint, "--repo", str(sample_tree))
        assert {"serial", "cafe"} <= names, endpoint
        assert any("not valid UTF-8" in m for m in notes_about(diagnostics, "hw/char/caf\\xe9.c")), endpoint
    proc = run_cli("--no-cache", "--format", "json", "--repo", str(sample_tree), "HEAD..WORKTREE", timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_link_out_of_a_directory_tree_is_not_followed(sample_tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.c").write_bytes(serial_copy(sample_tree, "secret"))
    os.symlink(outside / "secret.c", sample_tree / "hw" / "char" / "secret.c")
    os.symlink(outside, sample_tree / "hw" / "elsewhere")
    names, diagnostics = dump(str(sample_tree))
    assert "serial" in names and "secret" not in names
    assert any("outside the tree" in m for m in notes_about(diagnostics, "hw/char/secret.c")), diagnostics
    assert any("outside the tree" in m for m in notes_about(diagnostics, "hw/elsewhere")), diagnostics


def test_files_under_a_hidden_directory_are_not_read(sample_tree):
    """quilt's `.pc/` (every `dpkg-source -x` leaves one) holds each patched file as it was
    before the patch: QEMU builds nothing from a directory whose name starts with a dot, and
    a type defined there must not shadow the one in the patched file."""
    backup = sample_tree / ".pc" / "fix.diff" / "hw" / "char"
    backup.mkdir(parents=True)
    (backup / "serial.c").write_bytes(serial_copy(sample_tree, "serial-before-the-patch"))
    (sample_tree / ".pc" / "fix.diff" / "meson.build").write_text("subdir('nowhere')\n")
    names, diagnostics = dump(str(sample_tree))
    assert "serial" in names and "serial-before-the-patch" not in names
    assert not [d for d in diagnostics if d["file"].startswith(".pc/")], diagnostics


def test_links_inside_a_directory_tree_are_followed(sample_tree):
    """(The samples' include/ links, to headers beside the tree in this checkout, too.)"""
    os.symlink("serial.c", sample_tree / "hw" / "char" / "serial-link.c")
    proc = run_cli("dump", "--no-cache", "-q", str(sample_tree), timeout=60)
    files = {v["file"] for v in json.loads(proc.stdout)["vmsds"]}
    assert {"hw/char/serial.c", "hw/char/serial-link.c"} <= files


def test_links_to_kmsg_and_to_root_end_quickly(sample_tree):
    """A link to /proc/kmsg blocks once the kernel log is read; a link to / would walk the
    whole filesystem.  Neither is followed."""
    os.symlink("/proc/kmsg", sample_tree / "hw" / "kmsg.c")
    os.symlink("/", sample_tree / "hw" / "root")
    start = time.monotonic()
    names, diagnostics = dump(str(sample_tree))
    assert time.monotonic() - start < 30 and "serial" in names
    assert notes_about(diagnostics, "hw/kmsg.c") and notes_about(diagnostics, "hw/root")


def test_committed_link_to_kmsg_through_worktree(sample_tree):
    os.symlink("/proc/kmsg", sample_tree / "hw" / "kmsg.c")
    commit_all(sample_tree)
    for endpoint in ("WORKTREE", "HEAD", "INDEX"):
        names, diagnostics = dump(endpoint, "--repo", str(sample_tree))
        assert "serial" in names and notes_about(diagnostics, "hw/kmsg.c"), endpoint
    proc = run_cli("--no-cache", "--repo", str(sample_tree), "HEAD..WORKTREE", timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_fifo_and_huge_file_are_skipped_and_named(sample_tree):
    os.mkfifo(sample_tree / "hw" / "fifo.c")
    with open(sample_tree / "hw" / "huge.c", "wb") as fh:  # sparse: no disk used
        fh.truncate(65 * 1024 * 1024)
    names, diagnostics = dump(str(sample_tree))
    assert "serial" in names
    assert any("not a regular file" in m for m in notes_about(diagnostics, "hw/fifo.c")), diagnostics
    assert any("larger than" in m for m in notes_about(diagnostics, "hw/huge.c")), diagnostics


# -- names in reports -----------------------------------------------------------------------

WEIRD_NAME = "hw/char/x\n::error file=y::injected ``b`` |.c"
UNRESOLVABLE = (b'#include "migration/vmstate.h"\ntypedef struct W { uint32_t x; } W;\n'
                b'static const VMStateDescription vmstate_w = {\n    .name = "w",\n'
                b'    .fields = (const VMStateField[]) {\n        VMSTATE_NOPE(x, W),\n'
                b'        VMSTATE_END_OF_LIST()\n    }\n};\n')


@pytest.mark.parametrize("fmt", ["text", "github", "markdown"])
def test_file_names_cannot_break_lines_or_inject_markup(sample_tree, fmt):
    """A newline in a file name would start a line of its own -- in a GitHub Actions log a
    workflow command, in a PR comment a new table row -- and backticks would close the
    code span around it."""
    (sample_tree / WEIRD_NAME).write_bytes(UNRESOLVABLE)
    proc = run_cli("--no-cache", "--show-diagnostics", "--format", fmt, f"{SAMPLE}..{sample_tree}")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and not [line for line in lines if line.startswith("::error file=y")], proc.stdout
    mentions = [line for line in lines if "injected" in line]
    assert mentions
    if fmt != "github":  # (github's own escaping spells a newline %0A)
        assert all("x\\n::error" in line for line in mentions), mentions
    if fmt == "markdown":
        rows = [line for line in mentions if line.startswith("| ")]
        assert rows and all(line.endswith(" |") and "``` hw/char/x" in line for line in rows), rows


# -- configuration, mail, dumps -------------------------------------------------------------

def test_relative_xdg_cache_home_is_ignored(tmp_path):
    """The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored (it would
    put a cache into whatever directory the run started in)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": "relative-cache", "HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", "dump", "-q", str(SAMPLE)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "relative-cache").exists()
    assert (home / ".cache" / "vmsd-lint").is_dir()


@pytest.mark.parametrize("content", [b"\xff\xfe = 1\n", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n"],
                         ids=["not-utf8", "nested-5000"])
def test_malformed_config_is_one_line_naming_it(tmp_path, content):
    config = tmp_path / "waivers.toml"
    config.write_bytes(content)
    assert_one_line_error(run_cli(*check_json("--config", str(config))), str(config))


def test_config_that_is_a_fifo_is_refused(tmp_path):
    config = tmp_path / "waivers.toml"
    os.mkfifo(config)  # opened for reading, it would wait for a writer forever
    assert_one_line_error(run_cli(*check_json("--config", str(config)), timeout=60), str(config), "regular file")


def _deep_multipart(depth: int) -> bytes:
    head = "From: a@b\nSubject: [PATCH] x\nMIME-Version: 1.0\n"
    for n in range(depth):
        head += f"Content-Type: multipart/mixed; boundary=b{n}\n\n--b{n}\n"
    return (head + "Content-Type: text/plain\n\ndiff --git a/hw/x.c b/hw/x.c\n").encode()


BAD_MAILS = {  # name: (mail, what the error line says)
    "utf32-garbage": ((b"From: a@b\nSubject: [PATCH] x\nContent-Type: text/plain; charset=utf-32\n\n"
                       b"diff --git a/hw/x.c b/hw/x.c\n--- a/hw/x.c\n+++ b/hw/x.c\n@@ -1 +1 @@\n-a\n+b\n"),
                      "'hw/x.c': does not exist"),  # read as UTF-8, as git writes it: then the patch fails
    "multipart-3000": (_deep_multipart(3000), "multipart-3000.eml"),
}


@pytest.mark.parametrize("name", sorted(BAD_MAILS))
def test_malformed_mail_is_one_line_naming_it(tmp_path, name):
    mail = tmp_path / f"{name}.eml"
    content, needle = BAD_MAILS[name]
    mail.write_bytes(content)
    line = assert_one_line_error(run_cli("review", "--no-cache", "--base", str(SAMPLE), str(mail)), needle)
    assert "codec" not in line


def test_duplicate_keys_in_a_json_dump_are_refused(tmp_path):
    dump_file = tmp_path / "dump.json"
    dump_file.write_text('{"vmschkmachine": {"Name": "pc"}, "serial": {"Description": {"name": "serial"}},'
                         ' "serial": {"Description": {"name": "serial", "version_id": 9}}}')
    assert_one_line_error(run_cli("--no-cache", f"{dump_file}..{dump_file}"), str(dump_file), "'serial'",
                          "duplicate")
