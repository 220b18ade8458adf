"""The cache's entry format (extract/codec.py): data read back equal, with its types;
nothing outside the allowlist of record classes is ever made."""
from __future__ import annotations

import pytest
from conftest import ROOT


def test_entries_read_back_equal_and_of_the_same_types(tmp_path):
    """An extraction (records, tuples, lists, dicts, shared objects) read back from the
    format equals the original, lists as lists and tuples as tuples (a tuple where a list
    was would compare unequal)."""
    from vmsd_lint.app.check import Options, extract_endpoint
    from vmsd_lint.extract.codec import decode, encode

    extraction = extract_endpoint(str(ROOT / "samples" / "serial-device"), Options(cache=None))
    again = decode(encode(extraction))
    assert again == extraction and again.records == extraction.records
    assert type(again.registrations) is list and type(next(iter(again.vmsds.values())).fields) is tuple


def test_unknown_record_tag_is_refused():
    """A tag naming anything outside the allowlist (here os.system) is a damaged entry."""
    import msgpack

    from vmsd_lint.extract.codec import decode

    with pytest.raises(KeyError):
        decode(msgpack.packb({b"os.system": [0, "touch /tmp/vmsd-lint-marker"]}))
