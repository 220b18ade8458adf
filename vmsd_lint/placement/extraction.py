"""Extractions with their placements: the extract stage's Extractor, given this stage's
pass (contexts.place) to run over each extraction it links, before it is cached -- a
warm run reads the placements from the cache with the rest."""
from __future__ import annotations

from ..extract.cache import Cache
from ..extract.extractor import Extractor
from ..processes import Progress, silent_progress
from .contexts import place


def placing_extractor(target: str | None = None, jobs: int = 1, cache: Cache | None = None,
                      progress: Progress = silent_progress) -> Extractor:
    """An Extractor (extract/extractor.py) whose extractions hold their placements."""
    return Extractor(target, jobs, cache, finish=place, progress=progress)
