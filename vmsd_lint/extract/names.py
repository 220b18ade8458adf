"""Which files define each name, and a TreeIndex that reads only those files.

A NameMap lists, for every name a TreeIndex table holds (macros, struct/union/enum
bodies, typedefs, enumerators, file-scope macro call arguments), the files defining it,
in path order.  A LazyTreeIndex answers exactly as the TreeIndex built from every file
would, but reads a file's text facts only when a lookup needs a name it defines (or its
#includes): resolving a few changed files then reads a few hundred headers, not the
whole tree (extract.derive).
"""
from __future__ import annotations

from dataclasses import dataclass

from .buildconfig import BuildConfig
from .context import TreeIndex
from .scan import TextFacts

TABLES = ("macros", "bodies", "typedefs", "enumerators", "calls_by_arg")


@dataclass
class NameMap:
    paths: dict[str, dict]  # table -> {name: (path, ...)}

    @classmethod
    def of(cls, index: TreeIndex) -> NameMap:
        paths = {table: {name: _paths(entries) for name, entries in getattr(index, table).items()}
                 for table in TABLES if table != "calls_by_arg"}
        paths["calls_by_arg"] = {name: tuple(dict.fromkeys(entry[0] for entry in entries))
                                 for name, entries in index.calls_by_arg.items()}
        return cls(paths)

    def with_file(self, path: str, before: TextFacts, after: TextFacts, config: BuildConfig) -> NameMap:
        """The map once `path`'s facts change from BEFORE to AFTER."""
        paths = {table: dict(names) for table, names in self.paths.items()}
        for facts, present in ((before, False), (after, True)):
            tables = _file_tables(path, facts, config)
            for table in TABLES:
                for name in getattr(tables, table):
                    current = set(paths[table].get(name, ()))
                    if present:
                        current.add(path)
                    else:
                        current.discard(path)
                    if current:
                        paths[table][name] = tuple(sorted(current))
                    else:
                        paths[table].pop(name, None)
        return NameMap(paths)


def _paths(candidates) -> tuple[str, ...]:
    if len(candidates) == 1:  # most names
        return (candidates[0].path,)
    return tuple(dict.fromkeys(c.path for c in candidates))


def _file_tables(path: str, facts: TextFacts, config: BuildConfig) -> TreeIndex:
    """A TreeIndex of one file: its own entries, in the order the full index lists them."""
    tables = TreeIndex({}, config)
    tables._index(path, facts)
    return tables


class LazyTreeIndex(TreeIndex):
    def __init__(self, names: NameMap, all_paths: set[str], read_facts, config: BuildConfig):
        super().__init__({}, config)
        self.files = _LazyFiles(all_paths, read_facts)
        self._per_file: dict[str, TreeIndex] = {}
        for table in TABLES:
            setattr(self, table, _LazyTable(table, names.paths[table], self._tables_of))

    def _tables_of(self, path: str) -> TreeIndex:
        tables = self._per_file.get(path)
        if tables is None:
            tables = self._per_file[path] = _file_tables(path, self.files.get(path) or TextFacts(), self.config)
        return tables

    def add(self, path: str, facts: TextFacts) -> None:
        raise TypeError("a LazyTreeIndex reads its files itself")


class _LazyTable:
    """A table of a TreeIndex (name -> entries in path order), filled name by name."""

    def __init__(self, table: str, paths_of: dict[str, tuple[str, ...]], tables_of):
        self.table, self.paths_of, self.tables_of = table, paths_of, tables_of
        self.loaded: dict[str, list] = {}

    def get(self, name, default=None):
        found = self.loaded.get(name)
        if found is None:
            paths = self.paths_of.get(name)
            if not paths:
                return default
            found = self.loaded[name] = [entry for path in paths
                                         for entry in getattr(self.tables_of(path), self.table).get(name, ())]
        return found

    def __iter__(self):
        return iter(self.paths_of)


class _LazyFiles:
    """path -> TextFacts, read on first use; every path of the tree is known up front."""

    def __init__(self, paths: set[str], read_facts):
        self.paths, self.read_facts = paths, read_facts
        self.loaded: dict[str, TextFacts] = {}

    def __contains__(self, path: str) -> bool:
        return path in self.paths

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, path: str, default=None):
        if path not in self.paths:
            return default
        facts = self.loaded.get(path)
        if facts is None:
            facts = self.loaded[path] = self.read_facts(path)
        return facts
