"""The files a side pass over a tree reads (machine types, device properties), and the
TreeIndex it resolves their macros with.

The extractor's own index is gone once an extraction is made (only its results are
kept), so a side pass that needs the revision's macros builds one: every header, and
the .c files the pass reads -- a .c file's #defines are visible only to itself (and to
the few files including it), so leaving the other .c files out changes no answer.
"""
from __future__ import annotations

from collections.abc import Callable

from ..sources.tree import SourceTree
from .buildconfig import target_config
from .context import TreeIndex
from .scan import scan_text

HEADER_SUFFIXES = (".h", ".inc")


class SourceSet:
    """The .c files of TREE that `wanted(path, data)` keeps, read once, with an index."""

    def __init__(self, tree: SourceTree, wanted: Callable[[str, bytes], bool], target: str | None = None,
                 index: TreeIndex | None = None):
        self.tree = tree
        c_files = [f for f in tree.files if f.path.endswith(".c")]
        data = tree.read(c_files)
        self.files: dict[str, bytes] = {path: data[path] for path in sorted(data) if wanted(path, data[path])}
        self.headers = self.tree.read([f for f in self.tree.files if f.path.endswith(HEADER_SUFFIXES)])
        # every C file and header of the tree: what a pass reading all code (extract.holders) reads
        self.texts: dict[str, bytes] = {**data, **self.headers}
        self.index = index if index is not None else self._index(target)

    def _index(self, target: str | None) -> TreeIndex:
        mak = self.tree.read_path(f"configs/targets/{target}-softmmu.mak") if target else None
        index = TreeIndex({}, target_config(target, mak.decode("utf-8", "replace") if mak else None))
        texts = dict(self.headers)
        texts.update(self.files)
        for path in sorted(texts):  # in path order, as the extractor adds them: ties are broken by it
            index.add(path, scan_text(texts[path].decode("utf-8", "surrogateescape")))
        return index

    def text(self, path: str) -> bytes | None:
        """A file of the set, or any other file of the tree: read on demand, and its
        #defines indexed (its own macros are seen only by itself)."""
        found = self.files.get(path)
        if found is None:
            found = self.texts.get(path) or self.tree.read_path(path)
            if found is not None and path not in self.index.files:
                self.index.add(path, scan_text(found.decode("utf-8", "surrogateescape")))
        return found
