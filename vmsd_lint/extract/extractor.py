"""Extraction of one endpoint, the pipeline: read every file, scan it (text facts:
extract/scan.py) and index the scans, parse the files that can hold migration state, in
worker processes, while this one resolves them (extract/resolver.py) in path order, then
link the tree (extract/linking.py).  With a cache, what was seen before is not done
again (extract/store.py): a tree, a file's scan, parse or resolution; and a tree a few
.c files away from one extracted is derived from it (extract/derive.py)."""
from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import MISSING, dataclass, field, fields
from functools import partial

from ..errors import ChildDied
from ..model import Diagnostic, Extraction
from ..processes import Progress, ProgressBar, how_it_ended, name_process, silent_progress
from ..sources.tree import SourceFile, SourceTree
from .buildconfig import target_config
from .cache import Cache, pack, unpack
from .context import TreeIndex
from .derive import derive
from .linking import Finish, assemble
from .names import NameMap
from .parse import is_interesting
from .perfile import FileRecord, c_includes, file_record, parse_interesting, scan_source, source_files
from .qemu import savevm_field_keys, target_mak_text
from .registrars import passes_array_elements
from .resolver import resolve_files
from .rust import resolve_rust, rust_facts, rust_files
from .scan import TextFacts
from .store import EXTRACTION, NAMES, PARSE, RUST, SCAN, Kind, ResolvedCache, Store, tree_key


def _packed(compute, items: list[tuple[str, bytes]]) -> list[bytes]:
    """A worker's task: compute over a chunk of files, each result packed as the cache
    stores it (which is also how it travels back)."""
    return [pack(compute(path, data)) for path, data in items]


@contextlib.contextmanager
def _without_gc():
    """An extraction makes millions of small objects that live until its end, and
    hardly any reference cycles: the cyclic collector's passes over them (in the
    worker processes too, forked from here) would cost far more than they free.
    Afterwards they are frozen (left out of later passes) rather than handed back to
    the collector, whose next pass would otherwise walk them all once (0.3 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


READ_SLICE = 512  # files read at a time (one git cat-file each) before their scans are queued
SCAN_CHUNK = 128  # files per worker task: scans are quick
PARSE_CHUNK = 8  # parses are slow: small tasks let the resolver start on the first files early


@dataclass
class Extractor:
    """Extracts trees.  TARGET: the target architecture (target/<arch>/ is preferred
    where names collide, its build configuration answers the #ifs); JOBS: the worker
    processes that scan and parse; CACHE: the cache (None: none); FINISH, always said
    (None: none): a later stage's pass over each extraction, made before the extraction
    is cached (linking.Finish: the placements, placement.extraction.placing_extractor).
    PROGRESS shows how far a whole extraction has got (the files indexed, then resolved)."""
    target: str | None = None
    jobs: int = 1
    cache: Cache | None = None
    finish: Finish | None = field(kw_only=True)
    progress: Progress = field(default=silent_progress, kw_only=True, repr=False)
    store: Store = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.jobs = max(1, self.jobs)
        self.store = Store(self.cache)

    def run(self, tree: SourceTree, base: tuple[SourceTree, Extraction] | None = None) -> Extraction:
        """Extract a tree.  With a cache, a tree whose files (by blob id) and options
        were seen before is answered from it; otherwise only the files not seen
        before are read and parsed.  BASE, a tree and its extraction: a tree that
        differs from it in a few .c files is derived from it (extract.derive)."""
        key = tree_key(tree, self.target)
        cached = self.store.get(EXTRACTION, self._extraction_key(key))
        if cached is not None:
            cached.endpoint, cached.commit = tree.label, tree.commit
            return cached
        if base is not None:
            with _without_gc():
                derived = derive(self.store, self.target, tree, *base, self.finish)
            if derived is not None:
                return _with_skipped_files(derived, tree)
        with _without_gc():
            result = _with_skipped_files(self._extract(tree, key), tree)
        if self.store.enabled:
            # the pool and the second resolver are gone: no thread runs, a fork is safe
            self.store.write_later(EXTRACTION, {self._extraction_key(key): result})
            self.store.flush_in_background()
        return result

    def is_cached(self, tree: SourceTree) -> bool:
        """Whether the cache holds the extraction of TREE."""
        return self.store.has(EXTRACTION, self._extraction_key(tree_key(tree, self.target)))

    def _extraction_key(self, key: str) -> str:
        """An extraction is cached with what FINISH made of it: under the tree's key and
        FINISH's name."""
        return key if self.finish is None else f"{key}:{self.finish.__module__}.{self.finish.__qualname__}"

    def _extract(self, tree: SourceTree, key: str) -> Extraction:
        """Scan every file, index the scans, then resolve the parsed files one by one in
        path order while the worker processes are still parsing the later ones."""
        files = source_files(tree)
        cached_scans = self._cached(SCAN, files)
        cached_parses = self._cached(PARSE, files)
        missing = [f for f in files if f.blob not in cached_scans or f.blob not in cached_parses]
        with self._pool(len(missing)) as pool, self.progress(f"extracting {tree.label}", 2 * len(files)) as bar:
            contents, interesting, computed_scans = self._read_and_scan(pool, tree, missing)
            to_parse = [(f.path, contents[f.path]) for f in missing if f.path in interesting]
            computed_parses = self._compute(pool, parse_interesting, to_parse, PARSE_CHUNK)
            index = TreeIndex({}, target_config(self.target, target_mak_text(tree, self.target)))
            for path, scan in self._scans(files, missing, cached_scans, computed_scans):
                index.add(path, scan)  # while the workers scan the next files
                bar.update(1)
            result = Extraction(tree.label, tree.commit, self.target, index.target_dir)
            result.dump_field_keys = savevm_field_keys(tree) or result.dump_field_keys
            result.c_includes = c_includes(index.files)
            self.store.write_later(NAMES, lambda: {key: NameMap.of(index)})  # made by the writer
            rust = rust_records(self.store, tree, index)  # a few small files, while the workers parse
            result.files_read = len(index.files) + len(rust_files(tree))
            parsed = self._parses(files, missing, {p for p, _ in to_parse}, cached_parses, computed_parses, bar)
            reuse = ResolvedCache(self.store, {f.path: f.blob for f in files}, self.target)
            resolved = resolve_files(index, parsed, reuse)
            records = {path: file_record(index, path, ff, file_result, tree.read_path)
                       for path, ff, file_result in resolved}
            records.update(rust)
            assemble(result, index, {path: records[path] for path in sorted(records)}, self.finish)
            result.files_parsed = len(resolved) + len(rust)
        return result

    def _cached(self, kind: Kind, files: list[SourceFile]) -> dict:
        return self.store.get_many(kind, [f.blob for f in files])

    def _pool(self, count: int):
        if self.jobs > 1 and count > 50:
            return _worker_pool(self.jobs)
        return contextlib.nullcontext()

    def _read_and_scan(self, pool, tree: SourceTree, missing: list[SourceFile]):
        """Read the files by slices, the scans of each slice queued as soon as it is read
        (so the workers scan while the rest is read); returns the contents, the paths of
        the files worth a parse (is_interesting: each file is searched once) and the
        scans, as (value, packed value or None) in the order of MISSING."""
        contents: dict[str, bytes] = {}
        interesting: set[str] = set()
        scans = []
        for start in range(0, len(missing), READ_SLICE):
            part = missing[start:start + READ_SLICE]
            contents.update(tree.read(part))
            interesting.update(f.path for f in part if is_interesting(contents[f.path]))
            plain = {f.path for f in part if f.path.endswith(".c") and f.path not in interesting}
            computed = self._compute(pool, scan_source, [(f.path, contents[f.path]) for f in part
                                                         if f.path not in plain], SCAN_CHUNK)
            scans.append(_merged_scans(part, plain, computed))
            # parsed, though their scans stay those of plain files (worth_a_parse)
            interesting.update(path for path in plain if passes_array_elements(contents[path]))
        return contents, interesting, itertools.chain.from_iterable(scans)

    def _compute(self, pool, compute, items: list[tuple[str, bytes]], chunk: int):
        """compute(path, data) over items, in order, as (value, packed value or None):
        in the worker processes (the tasks are queued now, the results read lazily),
        or in this process (lazily)."""
        if pool is None:
            return ((value, pack(value) if self.store.enabled else None)
                    for value in (compute(path, data) for path, data in items))
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        results = pool.map(partial(_packed, compute), chunks)
        return ((unpack(packed), packed) for packed_chunk in results for packed in packed_chunk)

    def _scans(self, files, missing, cached, computed):
        """(path, TextFacts) of every file in path order, as the scans arrive; new ones
        are stored in the cache once all have."""
        missing_paths = {f.path for f in missing}
        fresh: dict[str, bytes] = {}
        for f in files:
            if f.path in missing_paths:
                scan, fresh[f.blob] = next(computed)
            else:
                scan = cached[f.blob]
            yield f.path, scan
        self.store.put_packed(SCAN, fresh)

    def _parses(self, files, missing, computing: set[str], cached, computed, bar: ProgressBar):
        """(path, ParsedFile, packed ParsedFile or None) of every parsed file in path
        order, as the parses arrive; new ones are stored in the cache once all have."""
        missing_paths = {f.path for f in missing}
        fresh: dict[str, bytes] = {}
        for f in files:
            packed = None
            if f.path not in missing_paths:
                parsed = cached[f.blob]
            elif f.path in computing:
                parsed, packed = next(computed)
                fresh[f.blob] = packed
            else:
                parsed, fresh[f.blob] = None, _NOT_PARSED
            bar.update(1)  # (read lazily by the resolver: this is how far it has got)
            if parsed is not None:
                yield f.path, parsed, packed
        self.store.put_packed(PARSE, fresh)


@contextlib.contextmanager
def _worker_pool(jobs: int):
    """A pool of JOBS worker processes; a worker that dies (the out-of-memory killer) is
    one ChildDied line naming it, not the pool's "terminated abruptly"."""
    with ProcessPoolExecutor(jobs, initializer=name_process, initargs=("vmsd-worker",)) as pool:
        try:
            yield pool
        except BrokenProcessPool:
            workers = list((pool._processes or {}).values())  # private, but nothing else names them
            pool.shutdown(wait=True)  # the pool ends the others (SIGTERM) and reaps them all
            raise ChildDied(_first_death(workers)) from None


def _first_death(workers) -> str:
    """Which worker died and how: the one the pool did not end itself."""
    ended = [w for w in workers if w.exitcode is not None]
    dead = [w for w in ended if w.exitcode != -signal.SIGTERM] or ended
    if not dead:
        return "a worker process ended without its result"
    return f"a worker process (pid {dead[0].pid}) {how_it_ended(dead[0].exitcode)}"


_NOT_PARSED = pack(None)  # None needs no record class: packed while this module is imported


@functools.cache
def _plain_scan() -> bytes:
    """The scan of a plain .c file, as cached (made on first use, with the codec's tables)."""
    return pack(TextFacts())


def _merged_scans(files: list[SourceFile], plain: set[str], computed):
    """The scans of FILES in order: those computed, and the empty ones of plain .c files."""
    for f in files:
        yield (TextFacts(), _plain_scan()) if f.path in plain else next(computed)


def _with_skipped_files(result: Extraction, tree: SourceTree) -> Extraction:
    """The files the tree did not read, or read under another name, as diagnostics."""
    if tree.skipped:
        result.diagnostics = sorted(set(result.diagnostics) | {Diagnostic("unresolved", path, 0, why)
                                                               for path, why in tree.skipped},
                                    key=lambda d: (d.file, d.line, d.message))
    return result


def rust_records(store: Store, tree: SourceTree, index: TreeIndex) -> dict[str, FileRecord]:
    """The records of the Rust files (extract/rust.py): resolved together, crate by crate.
    They hold VMSDs, types and diagnostics; every other list of a record stays empty."""
    facts = rust_facts(tree, rust_files(tree), store.cache, RUST.tag)
    empty = [f.name for f in fields(FileRecord) if f.default is MISSING and f.default_factory is MISSING][3:]
    return {path: FileRecord(vmsds, types, diagnostics, **{name: [] for name in empty})
            for path, (vmsds, types, diagnostics) in resolve_rust(facts, index).items()}
