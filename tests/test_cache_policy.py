"""The cache's format and policy: an entry is data, never code (a crafted entry runs
nothing); per-file facts are keyed by a digest of the code that made them; a symlinked
cache file is neither followed nor written through; the cache is capped in size,
evicting the least recently used entries; `vmsd-lint cache info|clean`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT




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
        proc = subprocess.run([sys.executable, "-c", "import sys, vmsd_lint.cli as c; "
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
