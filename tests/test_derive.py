"""A tree a few .c files away from an extracted one is derived from it (extract.derive):
the derived extraction must be the one a whole extraction gives, byte for byte in the
native dump, and a change derivation cannot follow must fall back to a whole extraction."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import make_branch

from vmsd_lint.extract.cache import Cache
from vmsd_lint.extract.derive import derive
from vmsd_lint.extract.store import Store
from vmsd_lint.placement.contexts import place
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.sources.tree import directory_tree, git_revision_tree

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

SERIAL_FIELD = ("VMSTATE_UINT8(lsr, SerialState),",
                "VMSTATE_UINT8(lsr, SerialState),\n        VMSTATE_UINT8(msr_extra, SerialState),")
# Edits of v10.0.2: each branch changes the files listed, (text, replacement) each.
EDITS = {
    "serial-field": {"hw/char/serial.c": SERIAL_FIELD},
    # pl061.c defines its own struct, above the VMSD: its text facts stay the same
    "pl061-field": {"hw/gpio/pl061.c": ("VMSTATE_UINT32(isense, PL061State),",
                                       "VMSTATE_UINT32(isense, PL061State),\n        VMSTATE_UINT32(ibe, PL061State),")},
    # a new subsection VMSD and its .needed function
    "serial-subsection": {"hw/char/serial.c": (
        "static const VMStateDescription vmstate_serial_tsr = {",
        "static bool serial_extra_needed(void *opaque)\n{\n    return true;\n}\n\n"
        "static const VMStateDescription vmstate_serial_extra = {\n    .name = \"serial/extra\",\n"
        "    .version_id = 1,\n    .minimum_version_id = 1,\n    .needed = serial_extra_needed,\n"
        "    .fields = (const VMStateField[]) {\n        VMSTATE_UINT8(scr, SerialState),\n"
        "        VMSTATE_END_OF_LIST()\n    }\n};\n\nstatic const VMStateDescription vmstate_serial_tsr = {")},
    # a registration's instance id (placements are recomputed)
    "spapr-instance-id": {"hw/ppc/spapr_cpu_core.c": (
        "vmstate_register(NULL, cs->cpu_index, &vmstate_spapr_cpu_state,",
        "vmstate_register(NULL, 0, &vmstate_spapr_cpu_state,")},
    "two-files": {"hw/char/serial.c": SERIAL_FIELD,
                  "hw/gpio/pl061.c": ("VMSTATE_UINT32(isense, PL061State),", "")},
}
NOT_DERIVED = {
    "header": {"include/hw/char/serial.h": ("uint8_t lsr;", "uint8_t lsr;\n    uint8_t msr_extra;")},
}


@pytest.fixture(scope="module")
def qemu_base(qemu_repo, tmp_path_factory):
    """A clone of the QEMU repository sharing its objects, the cache and v10.0.2's extraction."""
    root = tmp_path_factory.mktemp("derive")
    clone = root / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    for name, edits in {**EDITS, **NOT_DERIVED}.items():
        make_branch(clone, name, edits)
    cache_dir = str(root / "cache")
    base_tree = git_revision_tree(str(clone), "v10.0.2")
    return clone, cache_dir, base_tree, placing_extractor(jobs=2, cache=Cache(cache_dir)).run(base_tree)


def dump(extraction) -> str:
    return dumps_native(native_dump(extraction))


@pytest.mark.parametrize("branch", sorted(EDITS))
def test_derived_extraction_is_the_whole_extraction(qemu_base, branch) -> None:
    clone, cache_dir, base_tree, base = qemu_base
    tree = git_revision_tree(str(clone), branch)
    derived = derive(Store(Cache(cache_dir)), None, tree, base_tree, base, place)
    assert derived is not None, f"{branch}: expected a derivation"
    whole = placing_extractor(jobs=2, cache=None).run(tree)
    assert dump(derived) == dump(whole)
    assert derived.functions == whole.functions and derived.records.keys() == whole.records.keys()


def test_a_header_change_is_extracted_whole(qemu_base) -> None:
    clone, cache_dir, base_tree, base = qemu_base
    tree = git_revision_tree(str(clone), "header")
    assert derive(Store(Cache(cache_dir)), None, tree, base_tree, base, place) is None
    # run() then extracts the whole tree: the header's field shows in the serial VMSD's users
    through_run = placing_extractor(jobs=2, cache=Cache(cache_dir)).run(tree, base=(base_tree, base))
    assert dump(through_run) == dump(placing_extractor(jobs=2, cache=None).run(tree))


def sample_pairs() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if (p / "old").is_dir() and (p / "new").is_dir())


@pytest.mark.parametrize("sample", sample_pairs())
def test_samples_derive_or_fall_back_to_the_same_answer(sample, tmp_path) -> None:
    """Every sample's NEW, from its OLD: derived where only .c files changed, and always
    what a whole extraction of NEW gives."""
    old_tree = directory_tree(str(SAMPLES / sample / "old"))
    new_tree = directory_tree(str(SAMPLES / sample / "new"))
    cache = Cache(str(tmp_path / "cache"))
    base = placing_extractor(cache=cache).run(old_tree)
    through_run = placing_extractor(cache=cache).run(new_tree, base=(old_tree, base))
    whole = placing_extractor(cache=None).run(new_tree)
    through_run.endpoint = whole.endpoint
    assert dump(through_run) == dump(whole)


@pytest.mark.parametrize("sample", ["field-added", "registration-moved", "section-renamed"])
def test_samples_changing_one_c_file_are_derived(sample, tmp_path) -> None:
    """The comparison above is not vacuous: these samples change one .c file, unincluded."""
    old_tree = directory_tree(str(SAMPLES / sample / "old"))
    new_tree = directory_tree(str(SAMPLES / sample / "new"))
    cache = Cache(str(tmp_path / "cache"))
    base = placing_extractor(cache=cache).run(old_tree)
    assert derive(Store(cache), None, new_tree, old_tree, base, place) is not None


def test_a_changed_target_configuration_is_extracted_whole(tmp_path) -> None:
    """configs/targets/<arch>-softmmu.mak decides #if answers everywhere: not derived."""
    import shutil

    trees = {}
    for side, mak in (("old", "TARGET_ARCH=x86_64\n"), ("new", "TARGET_ARCH=x86_64\nTARGET_BIG_ENDIAN=y\n")):
        root = tmp_path / side
        shutil.copytree(SAMPLES / "field-added" / side, root, symlinks=True)
        (root / "configs" / "targets").mkdir(parents=True)
        (root / "configs" / "targets" / "x86_64-softmmu.mak").write_text(mak)
        trees[side] = directory_tree(str(root))
    cache = Cache(str(tmp_path / "cache"))
    base = placing_extractor(target="x86_64", cache=cache).run(trees["old"])
    assert derive(Store(cache), "x86_64", trees["new"], trees["old"], base, place) is None


def test_derivation_without_a_cache_indexes_every_file_and_is_exact() -> None:
    """With no cache there is no name map to start from: the whole index is built."""
    old_tree = directory_tree(str(SAMPLES / "field-added" / "old"))
    new_tree = directory_tree(str(SAMPLES / "field-added" / "new"))
    base = placing_extractor(cache=None).run(old_tree)
    derived = derive(Store(None), None, new_tree, old_tree, base, place)
    assert derived is not None and derived.names is not None
    assert dump(derived) == dump(placing_extractor(cache=None).run(new_tree))
