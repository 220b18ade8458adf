"""Golden tests of the extractor: a small C tree in, the expected VMSD model out.

tests/golden/<case>/ holds C files laid over the bundled sample tree (samples/serial-device,
whose vmstate.h is real QEMU macro text: the extractor has no built-in table of VMSTATE_*
macros, it expands the definitions the tree holds) and expected.json: the native dump's
VMSDs, types, placements and diagnostics of the case's own files, and `about`, what the
case shows. To add a case, add a directory with its files and run

    VMSD_LINT_UPDATE_GOLDEN=1 pytest tests/test_extractor_golden.py

then review expected.json (keep its `about`).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.report.qemu_dump import qemu_dump
from vmsd_lint.sources.tree import directory_tree

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
UPDATE = os.environ.get("VMSD_LINT_UPDATE_GOLDEN") == "1"
KEPT = ("vmsds", "types", "placements", "diagnostics")


def case_tree(sample_tree: Path, case: str) -> tuple[Path, set[str]]:
    """The sample tree with the case's files laid over it, and those files' paths."""
    files = set()
    for path in sorted((GOLDEN / case).rglob("*")):
        if path.is_file() and path.name != "expected.json":
            rel = path.relative_to(GOLDEN / case)
            (sample_tree / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, sample_tree / rel)
            files.add(rel.as_posix())
    return sample_tree, files


def extract(root: Path, **kwargs):
    return placing_extractor(**kwargs).run(directory_tree(str(root)))


def case_model(sample_tree: Path, case: str) -> dict:
    tree, files = case_tree(sample_tree, case)
    dump = json.loads(dumps_native(native_dump(extract(tree))))
    return {key: [entry for entry in dump[key] if entry.get("file") in files] for key in KEPT}


@pytest.mark.parametrize("case", CASES)
def test_golden_case(sample_tree, case):
    model = case_model(sample_tree, case)
    expected_file = GOLDEN / case / "expected.json"
    expected = json.loads(expected_file.read_text()) if expected_file.is_file() else {}
    if UPDATE:
        expected_file.write_text(json.dumps({"about": expected.get("about", "TODO: what this case shows"), **model},
                                            indent=1) + "\n")
    assert expected.get("about", "TODO").strip() and not expected["about"].startswith("TODO"), \
        f"{expected_file}: say what the case shows in `about`"
    assert model == {key: expected[key] for key in KEPT}


def by_name(extraction, name):
    [vmsd] = [v for v in extraction.vmsds.values() if v.name == name]
    return vmsd


def test_inherited_vmsd_in_the_qemu_dump(sample_tree):
    tree, _ = case_tree(sample_tree, "device-fields-macros-subsection")
    dump = qemu_dump(extract(tree))
    assert dump["my-device-sub"]["Description"]["name"] == "my-device"  # inherited
    assert dump["my-device"]["version_id"] == 3


def test_sample_tree_qemu_dump(sample_tree):
    dump = qemu_dump(extract(sample_tree))
    assert sorted(dump) == ["isa-serial", "serial", "vmschkmachine"]
    desc = dump["serial"]["Description"]
    assert (desc["name"], desc["version_id"], desc["minimum_version_id"]) == ("serial", 3, 2)
    assert [f["field"] for f in desc["Fields"]] == [
        "divider", "rbr", "ier", "iir", "lcr", "mcr", "lsr", "msr", "scr", "fcr_vmstate", "unused"]
    assert desc["Fields"][0] == {"field": "divider", "version_id": 2, "field_exists": False, "size": 2}
    subs = {s["name"]: s for s in desc["Subsections"]}
    assert list(subs) == ["serial/thr_ipending", "serial/recv_fifo", "serial/poll"]
    fifo = subs["serial/recv_fifo"]["Fields"]
    assert fifo[0]["Description"]["name"] == "Fifo8"
    assert fifo[1] == {"field": "scratch", "version_id": 0, "field_exists": False, "num": 32, "size": 1}
    assert subs["serial/poll"]["Fields"][1]["field"] == "modem_status_poll"
    assert subs["serial/poll"]["Fields"][1]["size"] == 8


def test_native_dump_is_deterministic(sample_tree):
    tree, _ = case_tree(sample_tree, "device-fields-macros-subsection")
    first = dumps_native(native_dump(extract(tree)))
    second = dumps_native(native_dump(extract(tree, jobs=2)))
    assert first == second
    assert first.endswith("\n")
