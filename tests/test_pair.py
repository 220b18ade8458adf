"""A range's two trees, extracted at the same time when both must be extracted whole
(extract.pair): the answer must be the one two extractions one after the other give,
with or without a cache; a failure in the forked process must reach the caller as the
same exception; with no process to fork, the two are extracted here."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from vmsd_lint.errors import InputError
from vmsd_lint.extract import pair
from vmsd_lint.extract.cache import Cache
from vmsd_lint.extract.extractor import Extractor
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.sources.tree import directory_tree

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
# samples whose trees differ by more than .c files: NEW cannot be derived from OLD
NOT_DERIVABLE = ["registration-moved-icp", "section-removed"]


def dump(extraction) -> str:
    return dumps_native(native_dump(extraction))


def trees(sample: str):
    return (directory_tree(str(SAMPLES / sample / "old")), directory_tree(str(SAMPLES / sample / "new")))


@pytest.fixture
def forks(monkeypatch) -> list:
    """The forked extractions started during a test."""
    started = []
    start = pair._ForkedExtraction.start.__func__

    def spy(cls, extractor, tree):
        job = start(cls, extractor, tree)
        started.append(job)
        return job
    monkeypatch.setattr(pair._ForkedExtraction, "start", classmethod(spy))
    return started


@pytest.mark.parametrize("with_cache", [False, True])
@pytest.mark.parametrize("sample", NOT_DERIVABLE)
def test_trees_extracted_at_once_give_the_sequential_answer(sample, with_cache, forks, tmp_path) -> None:
    old_tree, new_tree = trees(sample)
    cache = Cache(str(tmp_path / "cache")) if with_cache else None
    old, new = pair.extract_pair(placing_extractor(jobs=2, cache=cache), old_tree, new_tree)
    assert len(forks) == 1 and forks[0] is not None
    assert dump(old) == dump(placing_extractor(cache=None).run(old_tree))
    assert dump(new) == dump(placing_extractor(cache=None).run(new_tree))
    if with_cache:  # the forked process wrote NEW's extraction to the cache
        cache.close()
        again = placing_extractor(jobs=2, cache=Cache(str(tmp_path / "cache")))
        assert again.is_cached(old_tree) and again.is_cached(new_tree)
        assert dump(again.run(new_tree)) == dump(new)


def test_cached_or_derivable_trees_are_extracted_here(forks, tmp_path) -> None:
    old_tree, new_tree = trees("field-added")  # one .c file apart: NEW is derived
    pair.extract_pair(placing_extractor(cache=None), old_tree, new_tree)
    old_tree, new_tree = trees("section-removed")
    extractor = placing_extractor(cache=Cache(str(tmp_path / "cache")))
    extractor.run(old_tree)  # OLD cached: NEW alone is left to extract
    pair.extract_pair(extractor, old_tree, new_tree)
    assert forks == []


def test_a_failure_in_the_forked_extraction_is_raised_here(monkeypatch) -> None:
    old_tree, new_tree = trees("section-removed")
    run = Extractor.run

    def failing_run(self, tree, base=None):
        if tree is new_tree:
            raise InputError("hw/broken.c: cannot be read")
        return run(self, tree, base)
    monkeypatch.setattr(Extractor, "run", failing_run)
    with pytest.raises(InputError, match="hw/broken.c: cannot be read"):
        pair.extract_pair(placing_extractor(cache=None), old_tree, new_tree)


def test_a_cache_the_forked_process_cannot_open_only_costs_time(monkeypatch, forks, tmp_path) -> None:
    def busy(directory, max_bytes=None):
        raise sqlite3.OperationalError("database is locked")
    monkeypatch.setattr(pair, "Cache", busy)  # the forked process's own connection
    old_tree, new_tree = trees("section-removed")
    extractor = placing_extractor(cache=Cache(str(tmp_path / "cache")))
    _old, new = pair.extract_pair(extractor, old_tree, new_tree)
    assert len(forks) == 1 and dump(new) == dump(placing_extractor(cache=None).run(new_tree))
    assert extractor.is_cached(old_tree) and not extractor.is_cached(new_tree)


def test_without_fork_both_are_extracted_here(monkeypatch, forks) -> None:
    def no_fork():
        raise OSError("no room for a process")
    monkeypatch.setattr(os, "fork", no_fork)
    old_tree, new_tree = trees("registration-moved-icp")
    _old, new = pair.extract_pair(placing_extractor(cache=None), old_tree, new_tree)
    assert forks == [None]
    assert dump(new) == dump(placing_extractor(cache=None).run(new_tree))
