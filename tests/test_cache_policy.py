"""The cache's format and policy: an entry is data, never code (a crafted entry runs
nothing); per-file facts are keyed by a digest of the code that made them; a symlinked
cache file is neither followed nor written through; the cache is capped in size,
evicting the least recently used entries; `vmsd-lint cache info|clean`."""
from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import ROOT
from test_cache import RANGES, check, database, vmsd_lint

SAMPLE_RANGE = RANGES[0]


class _Marker:
    """Pickles to a call of exec() that creates a file: what a crafted entry would run."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return exec, (f"open({str(self.path)!r}, 'w').close()",)


def _entry(magic: bytes, payload: bytes) -> bytes:
    """An entry as the cache frames it: magic, CRC-32 of the payload, the payload."""
    return magic + zlib.crc32(payload).to_bytes(4, "big") + payload


@pytest.fixture(scope="module")
def reference() -> str:
    return check(SAMPLE_RANGE, None)


@pytest.mark.parametrize("magic", [b"vl1", b"vl2"])
def test_crafted_pickle_entry_with_valid_crc_runs_nothing(tmp_path, reference, magic):
    """Every entry of a warm cache replaced by a pickle that would create a marker file,
    framed with a valid CRC (in the old format's header, and in the current one): the
    run gives the --no-cache output and the marker is never created."""
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    assert check(SAMPLE_RANGE, cache) == reference
    crafted = _entry(magic, pickle.dumps(_Marker(marker), pickle.HIGHEST_PROTOCOL))
    with sqlite3.connect(database(cache)) as db:
        assert db.execute("UPDATE entries SET value = ?", (crafted,)).rowcount > 0
    assert check(SAMPLE_RANGE, cache) == reference
    assert not marker.exists()
    pickle.loads(crafted[7:])  # the same bytes, unpickled, do create it: the test can tell
    assert marker.exists()


def _link_target(tmp_path: Path) -> tuple[Path, bytes]:
    target = tmp_path / "elsewhere" / "precious.sqlite"
    target.parent.mkdir()
    target.write_bytes(b"")  # SQLite would make a database of an empty file
    return target, target.read_bytes()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_symlinked_cache_file_is_not_followed(tmp_path, reference, suffix):
    """The database file (or its WAL or shared-memory file) is a symlink: it is not
    written through, and the run is right (run as if there were no cache)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    target, before = _link_target(tmp_path)
    link = Path(f"{database(cache)}{suffix}")
    link.symlink_to(target)
    for _ in range(2):
        assert check(SAMPLE_RANGE, cache) == reference
    assert target.read_bytes() == before
    assert link.is_symlink()


SCAN_CHANGE = '''

_scan_text_as_shipped = scan_text


def scan_text(text, want_bodies=True):  # another build: macros are no longer seen
    facts = _scan_text_as_shipped(text, want_bodies)
    facts.defines = []
    return facts
'''


def test_changed_code_does_not_reuse_per_file_facts(tmp_path):
    """Two builds of vmsd-lint with the same version number and FACTS_VERSION but other
    code for the per-file facts: the second, on the first's cache, prints what it prints
    with --no-cache (the facts are keyed by a digest of the code, not a version string)."""
    copy = tmp_path / "build"
    shutil.copytree(ROOT / "vmsd_lint", copy / "vmsd_lint", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "rules").symlink_to(ROOT / "rules")
    with open(copy / "vmsd_lint" / "extract" / "scan.py", "a") as fh:
        fh.write(SCAN_CHANGE)
    spec = f"{ROOT / 'samples' / 'serial-device'}"

    def dump(build: Path | None, *cache_args: str) -> str:
        env = {**os.environ, "PYTHONPATH": str(build)} if build else None
        proc = subprocess.run([sys.executable, "-c", "import sys, vmsd_lint.cli.main as c; "
                               "assert c.__file__.startswith(sys.argv[1]), c.__file__; sys.argv[1:2] = []; c.main()",
                               str(build or ROOT), "dump", "-q", *cache_args, spec],
                              capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    cache = ["--cache-dir", str(tmp_path / "cache")]
    shipped = dump(None, *cache)
    other = dump(copy, "--no-cache")
    assert other != shipped  # the change is visible in the output
    assert dump(copy, *cache) == other
    assert dump(None, *cache) == shipped  # and the first build's facts are still there


def test_size_cap_evicts_least_recently_used(tmp_path):
    """Entries of 100 KB under a 350 KB cap: writing a fourth evicts the one used least
    recently (b: a was read since), and the file shrinks back."""
    from vmsd_lint.extract.cache import Cache

    cache = Cache(str(tmp_path), max_bytes=350_000)
    blob = os.urandom(100_000)
    for number, key in enumerate("abc"):
        cache.put_many("kind", {key: blob})
        _age(cache.path, key, hours=10 - number)  # a oldest, then b, then c
    assert cache.get("kind", "a") == blob  # a is used: now the most recent
    cache.close()
    cache = Cache(str(tmp_path), max_bytes=350_000)
    cache.put_many("kind", {"d": blob})
    assert set(cache.get_many("kind", list("abcd"))) == {"a", "c", "d"}
    cache.close()
    assert os.path.getsize(cache.path) < 360_000  # 4 entries were written: the freed pages went back


def test_size_cap_from_the_environment(tmp_path, reference):
    cache = tmp_path / "cache"
    proc = vmsd_lint("--format", "json", "--cache-dir", str(cache), SAMPLE_RANGE,
                     env={"VMSD_LINT_CACHE_MAX": "20K"})
    assert proc.stdout == reference
    info = vmsd_lint("cache", "info", "--cache-dir", str(cache), env={"VMSD_LINT_CACHE_MAX": "20K"})
    assert info.returncode == 0, info.stderr
    assert "cap: 20.0 KB" in info.stdout
    size = int(next(line for line in info.stdout.splitlines() if line.startswith("size:")).split("(")[1].split()[0])
    assert 0 < size <= 20_000
    bad = vmsd_lint("--cache-dir", str(cache), SAMPLE_RANGE, env={"VMSD_LINT_CACHE_MAX": "lots"})
    assert bad.returncode == 2 and bad.stderr.startswith("vmsd-lint: error: VMSD_LINT_CACHE_MAX") \
        and "Traceback" not in bad.stderr


def test_cache_info_and_clean(tmp_path, reference):
    cache = tmp_path / "cache"
    assert check(SAMPLE_RANGE, cache) == reference
    (cache / "unrelated.txt").write_text("kept")
    info = vmsd_lint("cache", "info", "--cache-dir", str(cache))
    assert info.returncode == 0, info.stderr
    fields = dict(line.split(": ", 1) for line in info.stdout.splitlines())
    assert fields["location"] == str(database(cache))
    assert int(fields["entries"]) > 0
    assert fields["cap"].startswith("2.0 GB")
    clean = vmsd_lint("cache", "clean", "--cache-dir", str(cache))
    assert clean.returncode == 0, clean.stderr
    assert sorted(p.name for p in cache.iterdir()) == ["unrelated.txt"]
    info = vmsd_lint("cache", "info", "--cache-dir", str(cache))
    assert dict(line.split(": ", 1) for line in info.stdout.splitlines())["entries"] == "0"
    assert check(SAMPLE_RANGE, cache) == reference  # and usable again


def test_cache_info_of_a_missing_directory_creates_nothing(tmp_path):
    info = vmsd_lint("cache", "info", "--cache-dir", str(tmp_path / "none"))
    assert info.returncode == 0 and "entries: 0" in info.stdout
    assert not (tmp_path / "none").exists()


def _age(path: str, key: str, hours: float) -> None:
    """Make an entry look last used HOURS ago."""
    import time
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET used = ? WHERE key = ?", (int(time.time() - hours * 3600), key))



def test_a_file_size_limit_leaves_a_usable_cache(tmp_path, qemu_repo):
    """`ulimit -f` below the cache's size (red-team item 13): the limited run still prints
    the answer, and the next run completes the cache without moving a damaged file aside
    (the pickle-format cache left a 10 MB `.corrupt` file here) and prints the same."""
    import resource

    cache = tmp_path / "cache"

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_240_000, 10_240_000))  # the cache needs ~40 MB

    runs = [subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", "dump", "--repo", qemu_repo, "--cache-dir",
                            str(cache), "v10.0.2"], capture_output=True, text=True, timeout=900, preexec_fn=hook)
            for hook in (limited, None)]
    for run in runs:
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert runs[0].stdout == runs[1].stdout
    assert not [p.name for p in cache.iterdir() if "corrupt" in p.name]
