"""`property-default-changed` (diff/properties.py): a device property's default changed
with no compat entry keeping the old value, on copies of its sample pair."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vmsd_lint.app.check import Options, run_check
from vmsd_lint.extract.machines import is_machine_file
from vmsd_lint.extract.properties import defaults_may_differ
from vmsd_lint.sources.tree import directory_tree

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "property-default-changed"


@pytest.fixture()
def pair(tmp_path):
    for side in ("old", "new"):
        shutil.copytree(SAMPLE / side, tmp_path / side)  # the shared headers copied, not linked
    return tmp_path / "old", tmp_path / "new"


def findings(pair):
    assert run_check(str(pair[0]), str(pair[0]), Options()).findings == []  # (the trees are read whole)
    return [f for f in run_check(str(pair[0]), str(pair[1]), Options()).findings
            if f.rule == "property-default-changed"]


def test_a_changed_default_breaks_the_machine_types_holding_the_device(pair):
    (found,) = findings(pair)
    assert (found.vmsd, found.path, found.severity) == ("foo", "foo/queues", "error")
    assert found.machines.breaks == ("toy-1.0",)
    assert found.arguments == {"property": "queues", "device": "foo", "old_default": "1", "new_default": "4",
                               "release": "1.0"}


def test_a_compat_entry_keeping_the_old_value_is_no_finding(pair):
    board = pair[1] / "hw" / "toy" / "board.c"
    board.write_text(board.read_text().replace('{ "foo", "x-unrelated", "off" },',
                                               '{ "foo", "x-unrelated", "off" },\n    { "foo", "queues", "1" },'))
    assert findings(pair) == []


def test_a_compat_entry_of_old_carries_over(pair):
    # OLD's toy-1.0 already set 4 by a compat entry: NEW's default 4 keeps it
    for side in pair:
        board = side / "hw" / "toy" / "board.c"
        board.write_text(board.read_text().replace('{ "foo", "x-unrelated", "off" },', '{ "foo", "queues", "4" },'))
    assert findings(pair) == []


def test_only_a_change_to_property_arrays_or_machine_files_needs_the_machine_pass(pair):
    old, new = (directory_tree(str(side)) for side in pair)
    assert defaults_may_differ(old, new, is_machine_file)
    device = pair[1] / "hw" / "misc" / "foo.c"
    device.write_text(device.read_text().replace('queues, 4)', 'queues, 1)')
                      .replace("VMSTATE_UINT32(status, FooState),", "VMSTATE_UINT32(status, FooState),\n"
                                                                       "        VMSTATE_UINT32(queues, FooState),"))
    assert not defaults_may_differ(old, directory_tree(str(pair[1])), is_machine_file)
