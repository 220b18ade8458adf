"""The cache only ever saves time: damaged entries, a damaged or truncated database file,
concurrent runs and runs killed while writing all end with the output of `--no-cache`.

Entries are msgpack data (extract/codec.py) behind a CRC-32 (which catches a damaged entry, then recomputed and
rewritten); the database is SQLite in WAL mode with a busy timeout, every
write a transaction (a killed writer leaves nothing half-written); a file SQLite reports
as damaged is moved aside (*.corrupt) and rebuilt.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ROOT

from vmsd_lint.extract.cache import database_name, unpack

SAMPLES = ROOT / "samples"
RANGES = [f"{SAMPLES / s}/old..{SAMPLES / s}/new" for s in
          ("field-removed", "subsection-added", "nested-vmsd-changed", "registration-moved")]


def vmsd_lint(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def check(spec: str, cache: Path | None) -> str:
    cache_args = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    proc = vmsd_lint("--format", "json", *cache_args, spec)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def database(cache: Path) -> Path:
    return cache / database_name()


def entries_ok(cache: Path) -> tuple[int, int]:
    """(entries, damaged entries) of the cache, after checking the file's integrity."""
    with sqlite3.connect(database(cache)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT value FROM entries").fetchall()
    damaged = 0
    for (value,) in rows:
        try:
            unpack(value)
        except Exception:
            damaged += 1
    return len(rows), damaged


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """The --no-cache output of each range."""
    return {spec: check(spec, None) for spec in RANGES}


@pytest.fixture()
def warm(tmp_path: Path, reference) -> Path:
    """A cache directory that has seen the first range."""
    cache = tmp_path / "cache"
    assert check(RANGES[0], cache) == reference[RANGES[0]]
    return cache


def _flip(value: bytes) -> bytes:
    data = bytearray(value)
    data[len(data) // 2] ^= 0x55
    return bytes(data)


DAMAGE = {
    "flipped-byte": _flip,
    "truncated": lambda value: value[:len(value) // 2],
    "empty": lambda value: b"",
    "garbage": lambda value: os.urandom(len(value)),
    "shifted": lambda value: b"x" + value,
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_entries_are_detected_and_rebuilt(warm, reference, how):
    with sqlite3.connect(database(warm)) as db:
        for rowid, value in db.execute("SELECT rowid, value FROM entries").fetchall():
            db.execute("UPDATE entries SET value = ? WHERE rowid = ?", (DAMAGE[how](value), rowid))
    assert entries_ok(warm)[1] > 0
    assert check(RANGES[0], warm) == reference[RANGES[0]]
    count, damaged = entries_ok(warm)
    assert count > 0 and damaged == 0  # every damaged entry was recomputed and rewritten
    assert check(RANGES[0], warm) == reference[RANGES[0]]


@pytest.mark.parametrize("keep", [0, 100, 4096, 0.5, 0.9])
def test_truncated_database_file(warm, reference, keep):
    path = database(warm)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(int(size * keep) if isinstance(keep, float) else keep)
    for spec in RANGES[:2]:
        assert check(spec, warm) == reference[spec]
    count, damaged = entries_ok(warm)  # a sound file again, with the entries of both ranges
    assert count > 0 and damaged == 0


def test_garbage_database_file_is_moved_aside(warm, reference):
    database(warm).write_bytes(os.urandom(20_000))
    assert check(RANGES[0], warm) == reference[RANGES[0]]
    assert (warm / f"{database(warm).name}.corrupt").exists()
    assert entries_ok(warm)[0] > 0


def test_damaged_table_is_moved_aside_and_rebuilt(warm, reference):
    """The file opens, but reading the table fails ("database disk image is malformed"):
    it is moved aside and rebuilt, so the next run is warm again instead of cold forever."""
    path = database(warm)
    with sqlite3.connect(path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size:root * page_size] = b"\xa5" * page_size
    path.write_bytes(bytes(data))
    assert check(RANGES[0], warm) == reference[RANGES[0]]
    assert (warm / f"{path.name}.corrupt").exists()
    count, damaged = entries_ok(warm)
    assert count > 0 and damaged == 0


def test_damaged_schema_text_is_moved_aside_and_rebuilt(warm, reference):
    """A byte of the stored schema that is not UTF-8 (here in the name of the primary
    key's index): SQLite quotes it in its error message ("malformed database schema
    (sqlite_autoindex\\xa0entries_1)"), which Python then cannot decode, a
    UnicodeDecodeError and not an sqlite3 error; that too is a damaged file."""
    path = database(warm)
    data = bytearray(path.read_bytes())
    data[data.index(b"sqlite_autoindex_entries_1") + len(b"sqlite_autoindex")] = 0xA0
    path.write_bytes(bytes(data))
    assert check(RANGES[0], warm) == reference[RANGES[0]]
    assert (warm / f"{path.name}.corrupt").exists()
    assert entries_ok(warm)[0] > 0


@pytest.mark.parametrize("seed", range(4))
def test_damaged_database_pages(warm, reference, seed):
    """Random bytes of the file flipped: whatever SQLite notices or not, the output is right."""
    path = database(warm)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(30):
        data[rng.randrange(100, len(data))] ^= 0xFF
    path.write_bytes(bytes(data))
    for _ in range(2):
        for spec in RANGES[:2]:
            assert check(spec, warm) == reference[spec]


def test_concurrent_runs_share_one_cache(tmp_path, reference):
    """Eight runs at once on one cold cache directory (two per range)."""
    cache = tmp_path / "cache"
    procs = [(spec, subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli.main", "--format", "json", "--cache-dir",
                                      str(cache), spec], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=ROOT))
             for spec in RANGES * 2]
    for spec, proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode in (0, 1) and "Traceback" not in err, err
        assert out == reference[spec]
    assert entries_ok(cache)[1] == 0
    for spec in RANGES:  # and warm afterwards
        assert check(spec, cache) == reference[spec]


WRITER = textwrap.dedent("""
    import os, signal, sys
    from vmsd_lint.extract.cache import Cache, pack
    cache = Cache(sys.argv[1])
    cache.put_many("scan-test", {f"k{i}": i for i in range(10)})  # committed
    db = cache._db
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)",
                   [("scan-test", f"u{i}", 10_000, 0, pack(b"x" * 10_000)) for i in range(2_000)])
    os.kill(os.getpid(), signal.SIGKILL)  # killed with the transaction open
""")


def test_writer_killed_inside_a_transaction(warm, reference):
    proc = subprocess.run([sys.executable, "-c", WRITER, str(warm)], capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    for spec in RANGES[:2]:
        assert check(spec, warm) == reference[spec]
    with sqlite3.connect(database(warm)) as db:
        keys = {k for (k,) in db.execute("SELECT key FROM entries WHERE kind = 'scan-test'")}
    assert keys == {f"k{i}" for i in range(10)}  # the committed rows, none of the killed transaction
    assert entries_ok(warm)[1] == 0


HAMMER = textwrap.dedent("""
    import sys
    from vmsd_lint.extract.cache import Cache
    cache = Cache(sys.argv[1])
    i = 0
    while True:
        cache.put_many("hammer", {f"h{i}-{j}": bytes(50_000) for j in range(20)})
        i += 1
""")


def test_writer_killed_at_random_times(warm, reference):
    """A process writing transaction after transaction, killed -9 at a random moment, five times."""
    rng = random.Random(2026)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", HAMMER, str(warm)], cwd=ROOT)
        time.sleep(0.3 + rng.random())
        proc.kill()
        proc.wait(timeout=60)
        assert check(RANGES[0], warm) == reference[RANGES[0]]
    assert entries_ok(warm)[1] == 0


def test_output_file_is_written_atomically(tmp_path, reference):
    """-o FILE is written beside it and renamed into place: no partial or temporary file stays."""
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    proc = vmsd_lint("--format", "json", "--no-cache", "-o", str(out), RANGES[0])
    assert proc.returncode in (0, 1), proc.stderr
    assert out.read_text() == reference[RANGES[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


# -- on the real QEMU repository ----------------------------------------------------------

@pytest.fixture(scope="module")
def qemu_reference(qemu_repo) -> str:
    proc = vmsd_lint("dump", "--repo", qemu_repo, "--no-cache", "v10.0.2")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.qemu
def test_cold_run_killed_mid_write(qemu_repo, qemu_reference, tmp_path):
    """A cold `dump v10.0.2` (with its worker processes) killed -9 after 2 s and, on the
    same cache, after 6 s: the next run's output is that of --no-cache, and so is the
    warm one after it."""
    cache = tmp_path / "cache"
    for delay in (2, 6):
        proc = subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli.main", "dump", "--repo", qemu_repo, "--jobs", "2",
                                 "--cache-dir", str(cache), "-q", "v10.0.2"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    for _ in range(2):
        proc = vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache), "v10.0.2")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == qemu_reference


@pytest.mark.qemu
def test_concurrent_cold_runs(qemu_repo, qemu_reference, tmp_path):
    """Two cold `dump v10.0.2` at once on one cache directory."""
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-m", "vmsd_lint.cli.main", "dump", "--repo", qemu_repo, "--jobs", "1",
                               "--cache-dir", str(cache), "v10.0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        assert out == qemu_reference
    proc = vmsd_lint("dump", "--repo", qemu_repo, "--cache-dir", str(cache), "v10.0.2")
    assert proc.stdout == qemu_reference


def test_writes_left_to_a_child_are_done_here_when_no_process_can_be_forked(tmp_path, monkeypatch):
    from vmsd_lint.extract.cache import Cache

    cache = Cache(str(tmp_path))
    cache.write_later("kind", {"key": [1, 2]})

    def no_fork():
        raise OSError("Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", no_fork)
    cache.flush_in_background()
    assert Cache(str(tmp_path)).get_many("kind", ["key"]) == {"key": [1, 2]}


def test_a_read_waits_for_the_child_writing_its_kind(tmp_path):
    from vmsd_lint.extract.cache import Cache

    cache = Cache(str(tmp_path))
    cache.write_later("kind", lambda: {"key": "made by the child"})
    cache.flush_in_background()
    assert cache.get_many("kind", ["key"]) == {"key": "made by the child"}
