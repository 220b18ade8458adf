"""The placements are the placement stage's, made by the extractor as the last pass of
its linking (its `finish`) so that they are cached with the extraction: a warm run reads
them and does not make them again, and an extraction cached without them is not taken
for one with them."""
from __future__ import annotations

from pathlib import Path

from vmsd_lint.extract.cache import Cache
from vmsd_lint.extract.extractor import Extractor
from vmsd_lint.placement.contexts import place
from vmsd_lint.sources.tree import directory_tree

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "serial-device"
made: list[str] = []  # the trees finish() ran on


def finish(extraction, calls) -> None:
    made.append(extraction.endpoint)
    place(extraction, calls)


def test_a_warm_run_reads_the_placements_and_does_not_make_them(tmp_path) -> None:
    made.clear()
    tree = directory_tree(str(SAMPLE))
    with Cache(str(tmp_path / "cache")) as cache:
        cold = Extractor(cache=cache, finish=finish).run(tree)
    with Cache(str(tmp_path / "cache")) as cache:
        warm = Extractor(cache=cache, finish=finish).run(tree)
    assert made == [tree.label]
    assert cold.placements and warm.placements == cold.placements


def test_an_extraction_cached_without_placements_is_not_read_with_them(tmp_path) -> None:
    tree = directory_tree(str(SAMPLE))
    with Cache(str(tmp_path / "cache")) as cache:
        assert Extractor(cache=cache, finish=None).run(tree).placements == {}
    with Cache(str(tmp_path / "cache")) as cache:
        placing = Extractor(cache=cache, finish=place)
        assert not placing.is_cached(tree)
        assert placing.run(tree).placements
