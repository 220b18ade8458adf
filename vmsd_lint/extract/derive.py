"""The extraction of a tree that differs from an already extracted one in a few .c files:
the changed files are parsed and resolved again, every other file's record is reused,
and the tree-wide steps run over the records (linking.assemble).  What it needs of the
cache, the files' scans and the base's name map, it reads from the store.

Reusing a record is exact only when nothing of a changed file is visible to the other
files.  Another file sees a .c file's #defines (and its file-scope macro calls) only if
it includes it; it can see its struct/union/enum bodies and typedefs through any
lookup, and those are evaluated with the file's own macros.  So every changed file must
be a .c file that no file includes, and one that has bodies or typedefs must keep the
same text facts (lines included).  When that does not hold (a header changed, a file
was added or removed, an included .c file changed) the caller extracts the whole tree.
"""
from __future__ import annotations

import posixpath

from ..model import Extraction
from ..sources.tree import SourceFile, SourceTree
from .buildconfig import target_config
from .context import TreeIndex
from .linking import Finish, assemble
from .names import LazyTreeIndex, NameMap
from .perfile import c_includes, file_record, parse_facts, resolve_file, scan_facts, source_files
from .qemu import savevm_field_keys, target_mak_text, vms_flag_values
from .rust import rust_files
from .store import NAMES, PARSE, SCAN, Store, tree_key

MAX_CHANGED = 16  # more changed files than this: a whole extraction is about as quick


def derive(store: Store, target: str | None, tree: SourceTree, base_tree: SourceTree, base: Extraction,
           finish: Finish | None) -> Extraction | None:
    """TREE's extraction for TARGET from BASE (the extraction of BASE_TREE), or None when
    it cannot be derived exactly; FINISH is the extractor's (linking.assemble)."""
    if base.records is None or base.target != target or base.c_includes is None:
        return None
    if target_mak_text(tree, target) != target_mak_text(base_tree, target):
        return None  # the target's build configuration changed: every #if may answer otherwise
    if rust_files(tree) != rust_files(base_tree):
        return None  # the Rust files are resolved together (extract.rust): a whole extraction
    old = {f.path: f.blob for f in source_files(base_tree)}
    new = {f.path: f.blob for f in source_files(tree)}
    changed = _changed_c_files(old, new, base)
    if changed is None:
        return None
    new_data = tree.read([SourceFile(path, new[path]) for path in changed])
    old_scans = _scans(store, base_tree, [SourceFile(path, old[path]) for path in changed])
    new_scans = {path: scan_facts(path, new_data[path]) for path in changed}
    for path in changed:
        before, after = old_scans[path], new_scans[path]
        if (before.bodies or before.typedefs or after.bodies or after.typedefs) and before != after:
            return None

    index, names = _index(store, target, tree, base_tree, base, new, old_scans, new_scans)
    records = dict(base.records)
    fresh_parses = {}
    vms_flags = vms_flag_values(index)
    for path in changed:
        parsed = fresh_parses[new[path]] = parse_facts(path, new_data[path])
        records.pop(path, None)
        if parsed is not None:
            file_result, _ = resolve_file(index, vms_flags, path, parsed)
            records[path] = file_record(index, path, parsed, file_result, tree.read_path)
    store.put_many(SCAN, {new[p]: new_scans[p] for p in changed})
    store.put_many(PARSE, fresh_parses)

    result = Extraction(tree.label, tree.commit, target, index.target_dir)
    result.dump_field_keys = savevm_field_keys(tree) or result.dump_field_keys
    result.files_read = len(index.files) + len(rust_files(tree))
    result.files_parsed = len(records)
    includes = {path: names for path, names in base.c_includes.items() if path not in new_scans}
    includes.update(c_includes(new_scans))
    result.c_includes = {path: includes[path] for path in sorted(includes)}
    result.names = names
    assemble(result, index, {path: records[path] for path in sorted(records)}, finish)
    return result


def _changed_c_files(old: dict[str, str], new: dict[str, str], base: Extraction) -> list[str] | None:
    """The changed files, when they allow a derivation: few_c_files_apart, and every
    changed file a .c file no file includes."""
    changed = few_c_files_apart(old, new)
    included = {name for names in base.c_includes.values() for name in names}
    if changed is None or any(posixpath.basename(path) in included for path in changed):
        return None
    return changed


def few_c_files_apart(old: dict[str, str], new: dict[str, str]) -> list[str] | None:
    """The paths whose blob differs between two trees' {path: blob}, when the trees have
    the same files and at most MAX_CHANGED of them changed, all .c files; else None."""
    if old.keys() != new.keys():
        return None
    changed = sorted(path for path, blob in new.items() if old[path] != blob)
    if len(changed) > MAX_CHANGED or not all(path.endswith(".c") for path in changed):
        return None
    return changed


def _index(store: Store, target: str | None, tree: SourceTree, base_tree: SourceTree, base: Extraction,
           blobs: dict[str, str], old_scans: dict, new_scans: dict):
    """TREE's index and name map: lazy, from BASE's name map (kept with BASE, or in the
    cache) with the changed files' entries replaced; or, for a base without one, built
    from every file's facts."""
    config = target_config(target, target_mak_text(tree, target))
    names = base.names if base.names is not None else store.get(NAMES, tree_key(base_tree, target))
    if names is not None:
        for path in new_scans:
            names = names.with_file(path, old_scans[path], new_scans[path], config)
        return LazyTreeIndex(names, set(blobs), _facts_reader(store, tree, blobs, new_scans), config), names
    files = [SourceFile(path, blobs[path]) for path in sorted(blobs)]
    scans = _scans(store, tree, [f for f in files if f.path not in new_scans])
    scans.update(new_scans)
    index = TreeIndex({}, config)
    for f in files:
        index.add(f.path, scans[f.path])
    return index, NameMap.of(index)


def _scans(store: Store, tree: SourceTree, files: list[SourceFile]) -> dict:
    """The text facts of files by path: from the cache, else read and scanned here."""
    cached = store.get_many(SCAN, [f.blob for f in files])
    missing = [f for f in files if f.blob not in cached]
    data = tree.read(missing) if missing else {}
    found = {f.path: cached[f.blob] for f in files if f.blob in cached}
    found.update((f.path, scan_facts(f.path, data[f.path])) for f in missing)
    return found


def _facts_reader(store: Store, tree: SourceTree, blobs: dict[str, str], known: dict):
    """path -> TextFacts for a LazyTreeIndex: KNOWN ones, else from the cache, else read
    and scanned."""
    def read(path: str):
        if path in known:
            return known[path]
        return _scans(store, tree, [SourceFile(path, blobs[path])])[path]
    return read
