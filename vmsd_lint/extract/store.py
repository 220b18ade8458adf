"""What the extraction keeps in the cache (extract/cache.py stores the entries): the kinds
of entries, each with the type of what it holds and what keys it, and the keys of a tree
and of a file's resolution.

A kind is stored under its name and a digest of the code that makes its entries (every
.py and .scm file of the package), so that two builds of vmsd-lint never share entries (a
version number bumped by hand was forgotten)."""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from .. import __version__
from ..sources.tree import SourceTree
from .cache import Cache
from .qemu import SAVEVM, target_mak

if TYPE_CHECKING:
    from ..model import Extraction
    from .context import TreeIndex
    from .machines import MachineFacts
    from .names import NameMap
    from .perfile import FileResult, ParsedFile
    from .rustparse import RustFacts
    from .scan import TextFacts

V = TypeVar("V")
# What a file's resolution asked the tree and was answered: (kind, name...) -> answer
# (extract/context.py records them)
Lookups = dict[tuple[str, ...], object]


@functools.cache
def code_digest() -> str:
    """A digest of the code that makes facts and extractions (every .py and .scm file of
    the package: about 3 ms, once per process)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".scm") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Kind(Generic[V]):
    """A kind of entry: its values are V, its keys KEYED_BY."""
    name: str
    keyed_by: str

    @property
    def tag(self) -> str:
        """The kind as the cache stores it: made by this very code."""
        return f"{self.name}:{code_digest()[:20]}"


# Per file, by the blob id of its bytes (extract/perfile.py, extract/rust.py)
SCAN: Kind[TextFacts] = Kind("scan", "the file's blob id")
PARSE: Kind[ParsedFile | None] = Kind("parse", "the file's blob id (None: a file not worth a parse)")
RUST: Kind[RustFacts] = Kind("rust", "the file's blob id")
# Per file, with the lookups its resolution made (reused when they answer the same)
RESOLVED: Kind[tuple[Lookups, FileResult]] = Kind("resolved", "ResolvedCache.key(): blob id, path, target, VMS_* flags")
# Per tree, by tree_key()
NAMES: Kind[NameMap] = Kind("names", "tree_key()")
EXTRACTION: Kind[Extraction] = Kind("extraction", "tree_key() and the extractor's finishing pass")
# Per tree and target, by machines.source_key() (the .c/.h/.inc files' blob ids)
MACHINE_FACTS: Kind[MachineFacts] = Kind("machine-facts", "machines.source_key()")
# Per tree, CPU model and machine options: an Arm model's migrated registers (diff/cpuregs.py);
# per tree, its x86 CPU models (diff/cpumodels.py)
CPU_REGS: Kind[tuple[object, ...]] = Kind("cpu-regs", "machines.source_key() of the model and options")
KINDS = (SCAN, PARSE, RUST, RESOLVED, NAMES, EXTRACTION, MACHINE_FACTS, CPU_REGS)


class Store:
    """The cache's entries by kind; without a cache, every read misses and every write
    is dropped."""

    def __init__(self, cache: Cache | None):
        self.cache = cache

    @property
    def enabled(self) -> bool:
        return self.cache is not None

    def get(self, kind: Kind[V], key: str) -> V | None:
        return cast("V | None", self.cache.get(kind.tag, key)) if self.cache is not None else None

    def get_many(self, kind: Kind[V], keys: list[str]) -> dict[str, V]:
        return cast("dict[str, V]", self.cache.get_many(kind.tag, keys)) if self.cache is not None else {}

    def has(self, kind: Kind[V], key: str) -> bool:
        return self.cache is not None and self.cache.has(kind.tag, key)

    def put_many(self, kind: Kind[V], items: dict[str, V]) -> None:
        if self.cache is not None:
            self.cache.put_many(kind.tag, cast("dict[str, object]", items))

    def put_packed(self, kind: Kind[V], items: dict[str, bytes]) -> None:
        """Store values packed by cache.pack (by a worker process, or to send them to one)."""
        if self.cache is not None:
            self.cache.put_packed(kind.tag, items)

    def write_later(self, kind: Kind[V], items: dict[str, V] | Callable[[], dict[str, V]]) -> None:
        """Store ITEMS (or what the function makes, then made by the writer) at the next
        flush_in_background()."""
        if self.cache is not None:
            self.cache.write_later(kind.tag, items)

    def flush_in_background(self) -> None:
        if self.cache is not None:
            self.cache.flush_in_background()


def tree_key(tree: SourceTree, target: str | None) -> str:
    """The key of a whole tree: vmsd-lint's version and code, the target, every file's
    path and blob id, the files the tree did not read (their diagnostics are part of the
    extraction) and the files of QEMU that decide how it is extracted."""
    digest = hashlib.sha1(f"{__version__}:{code_digest()}:{target}".encode())
    for f in sorted(tree.files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.blob}\n".encode())
    for path, why in tree.skipped:
        digest.update(f"{path}\0{why}\n".encode())
    for extra in (SAVEVM, target_mak(target)):
        digest.update(hashlib.sha1(tree.read_path(extra) or b"").digest())
    return digest.hexdigest()


class ResolvedCache:
    """Per-file resolutions, keyed by the file's blob, and kept with every answer the
    file's lookups got (macros, constants, types, #if conditions): one is reused only
    when all of those answer the same in this tree, so a changed header re-resolves
    just the files it affects."""

    def __init__(self, store: Store, blobs: dict[str, str], target: str | None):
        self.store, self.blobs = store, blobs
        self.suffix = f":{target}:{code_digest()}"
        self.entries: dict[str, tuple[Lookups, FileResult]] = {}
        self.fresh: dict[str, tuple[Lookups, FileResult]] = {}

    def load(self, vms_flags: dict[str, int]) -> None:
        if not self.store.enabled:
            return
        self.suffix += ":" + hashlib.sha1(repr(sorted(vms_flags.items())).encode()).hexdigest()
        self.entries = self.store.get_many(RESOLVED, [self.key(p) for p in self.blobs])

    def reusable(self, index: TreeIndex, path: str) -> FileResult | None:
        entry = self.entries.get(self.key(path))
        if entry is None:
            return None
        lookups, file_result = entry
        return file_result if index.context(path).same_answers(lookups) else None

    def keep(self, path: str, lookups: Lookups, file_result: FileResult) -> None:
        if self.store.enabled:
            self.fresh[self.key(path)] = (lookups, file_result)

    def save(self) -> None:
        if self.fresh:
            self.store.write_later(RESOLVED, self.fresh)

    def key(self, path: str) -> str:
        return f"{self.blobs.get(path)}:{path}{self.suffix}"
