"""The comparison helper itself (so a fidelity figure can be trusted)."""
from __future__ import annotations

import copy

from fidelity_compare import compare, first_difference

REAL = {
    "vmschkmachine": {"Name": "pc"},
    "dev": {"Name": "dev", "version_id": 2, "minimum_version_id": 1, "Description": {
        "name": "dev", "version_id": 2, "minimum_version_id": 1,
        "Fields": [
            {"field": "a", "version_id": 0, "field_exists": False, "size": 4},
            {"field": "arr", "version_id": 0, "field_exists": False, "num": 4, "size": 1},
            {"field": "s", "version_id": 1, "field_exists": False, "size": 640,
             "Description": {"name": "sub", "version_id": 1, "minimum_version_id": 1,
                             "Fields": [{"field": "x", "version_id": 0, "field_exists": True, "size": 8}]}},
        ],
        "Subsections": [{"name": "dev/extra", "version_id": 1, "minimum_version_id": 1,
                         "Fields": [{"field": "y", "version_id": 0, "field_exists": False, "size": 2}]}]}},
    "other": {"Name": "other", "version_id": 1, "minimum_version_id": 1,
              "Description": {"name": "other", "version_id": 1, "minimum_version_id": 1}},
}


def test_identical_dumps():
    result = compare(REAL, copy.deepcopy(REAL))
    assert (result.total, result.identical, result.percent) == (2, 2, 100.0)


def test_struct_size_is_not_compared_but_scalar_size_is():
    ours = copy.deepcopy(REAL)
    ours["dev"]["Description"]["Fields"][2]["size"] = 600
    assert compare(REAL, ours).identical == 2
    ours["dev"]["Description"]["Fields"][0]["size"] = 8
    result = compare(REAL, ours)
    assert result.identical == 1 and "size 4 != ours 8" in result.differences["dev"]


def test_nested_and_subsection_differences_are_found():
    ours = copy.deepcopy(REAL)
    ours["dev"]["Description"]["Fields"][2]["Description"]["Fields"][0]["field_exists"] = False
    assert "field_exists" in compare(REAL, ours).differences["dev"]
    ours = copy.deepcopy(REAL)
    ours["dev"]["Description"]["Subsections"][0]["Fields"][0]["field"] = "z"
    assert "dev+dev/extra" in compare(REAL, ours).differences["dev"]
    ours = copy.deepcopy(REAL)
    del ours["dev"]["Description"]["Subsections"]
    assert "subsections" in compare(REAL, ours).differences["dev"]


def test_missing_type_and_num():
    ours = copy.deepcopy(REAL)
    del ours["other"]
    ours["dev"]["Description"]["Fields"][1]["num"] = 5
    result = compare(REAL, ours)
    assert result.differences["other"] == "other: missing in ours"
    assert "num 4 != ours 5" in result.differences["dev"]
    assert first_difference(REAL["other"]["Description"], REAL["other"]["Description"], "x") is None


def test_dump_without_num_is_compared_without_num():
    old = copy.deepcopy(REAL)  # QEMU 7.2 printed no "num"
    del old["dev"]["Description"]["Fields"][1]["num"]
    assert compare(old, copy.deepcopy(REAL)).identical == 2
    assert compare(REAL, old).identical == 1
