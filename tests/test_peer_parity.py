"""Peer parity with QEMU's own scripts/vmstate-static-checker.py on the real x86_64 dumps.

The checker runs on the shared dumps 7.2.0 -> 10.0.2 (forward) and 10.0.2 -> 7.2.0
(backward).  For every line it prints, vmsd-lint on the same two JSON endpoints either
reports a corresponding finding or gives the reason the change is compatible; the
mapping is asserted here line by line.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from vmsd_lint.app.check import Options, run_check

pytestmark = pytest.mark.qemu

LINE_PATTERNS = {
    "type-missing": re.compile(r'^Section "(?P<type>[^"]+)" does not exist in dest$'),
    "field-mismatch": re.compile(r'^Section "(?P<type>[^"]+)", Description "(?P<vmsd>[^"]+)": '
                                 r'expected field "(?P<old>[^"]+)", got "(?P<new>[^"]+)"; skipping rest$'),
    "entry-missing": re.compile(r'^Section "(?P<type>[^"]+)" Description "(?P<vmsd>[^"]+)": '
                                r'Entry "(?P<entry>[^"]+)" missing$'),
    "subsection-missing": re.compile(r'^Section "(?P<type>[^"]+)", Description "(?P<vmsd>[^"]+)": '
                                     r'Subsection "(?P<sub>[^"]+)" not found$'),
    "version": re.compile(r'^Section "(?P<type>[^"]+)" Description "(?P<vmsd>[^"]+)": '
                          r'version error: (?P<src>\d+) > (?P<dst>\d+)$'),
}


def checker_lines(qemu_repo: str, src, dst, tmp_path) -> list[str]:
    script = tmp_path / "vmstate-static-checker.py"
    script.write_bytes(subprocess.run(["git", "-C", qemu_repo, "show", "v10.0.2:scripts/vmstate-static-checker.py"],
                                      check=True, capture_output=True).stdout)
    out = subprocess.run([sys.executable, str(script), "-s", str(src), "-d", str(dst)], capture_output=True, text=True)
    assert out.returncode != 0, "the checker found nothing: the dumps are not the expected ones"
    return [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]


def nested_only(dump: dict, vmsd: str) -> bool:
    """vmsd appears only as a struct field's Description, never as a device's own."""
    return all(entry.get("Description", {}).get("name") != vmsd
               for name, entry in dump.items() if name != "vmschkmachine")


def section_senders(dump: dict, section: str) -> list[str]:
    return sorted(name for name, entry in dump.items()
                  if name != "vmschkmachine" and entry["Description"]["name"] == section)


def account_for(line: str, direction: str, findings: list[dict], src: dict, dst: dict) -> str:
    """'finding: ...' or 'compatible: ...' for one checker line; AssertionError when neither."""
    for kind, pattern in LINE_PATTERNS.items():  # noqa: B007 - kind is read after the break
        match = pattern.match(line)
        if match:
            break
    else:
        raise AssertionError(f"checker line of an unknown form: {line}")
    qom_type = match["type"]
    about_type = [f for f in findings if qom_type in f["types"]]
    if kind == "type-missing":
        wanted = "section-removed" if direction == "forward" else "section-added"
        hits = [f for f in about_type if f["rule"] == wanted]
        if hits:
            return f"finding: {wanted} {hits[0]['path']}"
        section = src[qom_type]["Description"]["name"]
        senders = section_senders(dst, section)
        assert senders, f"{line}: section '{section}' vanished but vmsd-lint reported nothing"
        return f"compatible: type {qom_type} is gone but section '{section}' is still sent by {senders[0]}"
    vmsd = match["vmsd"]
    if kind == "version" and nested_only(src, vmsd):
        return f"compatible: '{vmsd}' is a nested struct; its version is not on the wire"
    hits = [f for f in about_type if f["vmsd"] == vmsd or f["path"].startswith(vmsd + "/")]
    if kind == "subsection-missing":
        hits = [f for f in about_type if f["path"] == match["sub"]]
    assert hits, f"{line}: no corresponding vmsd-lint finding"
    best = min(hits, key=lambda f: closeness(f, kind, match))
    return f"finding: {best['rule']} {best['path']}"


def closeness(finding: dict, kind: str, match: re.Match) -> int:
    """Rank the findings that could answer a checker line: the one naming its field or
    entry first (the checker stops at the first difference, we report them all)."""
    if kind == "field-mismatch":
        named = {f"{match['vmsd']}/{match['old']}", f"{match['vmsd']}/{match['new']}"}
        return 0 if finding["path"] in named else 1
    if kind == "entry-missing":
        wanted = "subsection" if match["entry"] == "Subsections" else "field"
        return 0 if finding["rule"].startswith(wanted) else 1
    return 0


def test_every_checker_line_maps_to_a_finding_or_a_reason(qemu_repo, dumps, tmp_path) -> None:
    old, new = dumps["v7.2.0"], dumps["v10.0.2"]
    report = run_check(str(old), str(new), Options())
    findings = [{"rule": f.rule, "vmsd": f.vmsd, "path": f.path, "types": f.types} for f in report.findings]
    old_dump, new_dump = json.loads(old.read_text()), json.loads(new.read_text())
    mapping = {}
    for direction, src, dst, src_dump, dst_dump in (("forward", old, new, old_dump, new_dump),
                                                    ("backward", new, old, new_dump, old_dump)):
        for line in checker_lines(qemu_repo, src, dst, tmp_path):
            mapping[(direction, line)] = account_for(line, direction, findings, src_dump, dst_dump)
    assert len(mapping) >= 60
    reported = [k for k, v in mapping.items() if v.startswith("finding")]
    assert len(reported) >= len(mapping) // 3
