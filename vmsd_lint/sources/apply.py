"""Applying a patch to a SourceTree in memory: the repository is never touched.

Each hunk must match the file exactly (every context and removed line, byte for byte);
like `git apply`, a hunk may match a few lines away from where its header says, and the
nearest match wins.  The patched tree shares the base's reader and keeps the changed files
in memory, with the git blob id their content would have, so the caches keyed by blob id
work for it as for a commit.
"""
from __future__ import annotations

import sys

from ..errors import InputError
from .patches import FileDiff, Hunk, Patch
from .tree import DEFAULT_EXCLUDES, SOURCE_SUFFIXES, SourceFile, SourceTree, blob_id, is_build_file, wanted_path


class PatchDoesNotApply(InputError):
    """A patch that does not apply to its base: exit status 2, naming file and hunk."""


def apply_patch(tree: SourceTree, patch: Patch, label: str) -> SourceTree:
    changes: dict[str, bytes | None] = {}  # path -> new content, None when deleted
    for diff in patch.files:
        _apply_file(tree, changes, diff, patch)
    return overlay(tree, changes, label)


def changed_paths(patch: Patch) -> set[str]:
    return {p for diff in patch.files for p in (diff.old_path, diff.new_path) if p}


def _apply_file(tree: SourceTree, changes: dict, diff: FileDiff, patch: Patch) -> None:
    where = f"{patch.name} '{diff.path}'"
    if diff.binary:
        if diff.path.endswith(SOURCE_SUFFIXES):
            raise PatchDoesNotApply(f"{where}: a binary change to a source file cannot be applied")
        return  # a firmware blob or an image: nothing the extractor reads

    def current(path: str) -> bytes | None:
        return changes[path] if path in changes else tree.read_path(path)

    if diff.old_path is None:
        if current(diff.new_path) is not None:
            raise PatchDoesNotApply(f"{where}: already exists in {tree.label}")
        old_text = ""
    else:
        data = current(diff.old_path)
        if data is None:
            raise PatchDoesNotApply(f"{patch.name} '{diff.old_path}': does not exist in {tree.label}")
        old_text = data.decode("utf-8", "surrogateescape")
    new_text = apply_hunks(old_text, diff.hunks, where)
    if diff.new_path is None:
        if new_text:  # git apply refuses a deletion that does not remove the whole file
            raise PatchDoesNotApply(f"{where}: the file in {tree.label} has more than the patch deletes")
        changes[diff.old_path] = None
        return
    if diff.old_path not in (None, diff.new_path) and not diff.copy:
        changes[diff.old_path] = None  # a rename
    changes[diff.new_path] = new_text.encode("utf-8", "surrogateescape")


def apply_hunks(text: str, hunks: list[Hunk], where: str) -> str:
    lines = text.splitlines(keepends=True)
    codes: dict[str, str] = {}
    coded = _coded(lines, codes, where)
    out: list[str] = []
    pos = 0  # lines[:pos] are done; hunks apply in order and never overlap
    offset = 0  # how far the previous hunk matched from where its header said
    for number, hunk in enumerate(hunks, 1):
        old = [line for tag, line in hunk.lines if tag != "+"]
        new = [line for tag, line in hunk.lines if tag != "-"]
        stated = hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1  # 0-based first line
        at = _find(coded, _coded(old, codes, where), max(stated + offset, pos), pos)
        if at is None:
            raise PatchDoesNotApply(f"{where}: hunk #{number} ({hunk.range}) does not apply")
        out.extend(lines[pos:at])
        out.extend(new)
        pos = at + len(old)
        offset = at - stated
    out.extend(lines[pos:])
    return "".join(out)


def _coded(lines: list[str], codes: dict[str, str], where: str) -> str:
    """LINES as a string of one character per line, the same for equal lines: a hunk is
    then looked for by str.find(), in time linear in the file (comparing lists at each
    line took lines x hunk size: seconds for a hunk that does not apply)."""
    try:
        return "".join([codes.get(line) or codes.setdefault(line, chr(len(codes))) for line in lines])
    except ValueError:  # chr() past U+10FFFF
        raise PatchDoesNotApply(f"{where}: the file has more than {sys.maxunicode + 1} distinct lines") from None


def _find(coded: str, old: str, expected: int, start: int) -> int | None:
    """The match of OLD in coded[start:] nearest to EXPECTED (the earlier one at equal
    distances)."""
    last = len(coded) - len(old)
    if last < start:
        return None
    expected = min(max(expected, start), last)
    after = coded.find(old, expected)
    before = coded.rfind(old, start, expected + len(old) - 1) if expected > start else -1
    found = [at for at in (before, after) if at >= 0]
    return min(found, key=lambda at: (abs(at - expected), at)) if found else None


def overlay(base: SourceTree, changes: dict[str, bytes | None], label: str) -> SourceTree:
    """BASE with CHANGES on top: changed files come from memory, the others from BASE."""
    if base.layers is not None:  # an overlay itself: one level on its base, not two
        below, earlier = base.layers
        return overlay(below, {**earlier, **changes}, label)
    files = {f.path: f for f in base.files}
    for path, data in changes.items():
        files.pop(path, None)
        if data is not None and wanted_path(path, DEFAULT_EXCLUDES):
            files[path] = SourceFile(path, blob_id(data))

    def read(wanted: list[SourceFile]) -> dict[str, bytes]:
        inherited = [f for f in wanted if f.path not in changes]
        result = base.read(inherited) if inherited else {}
        result.update({f.path: changes[f.path] for f in wanted if f.path in changes})
        return result

    def read_path(path: str) -> bytes | None:
        return changes[path] if path in changes else base.read_path(path)

    build = {path: blob for path, blob in base.build_files.items() if path not in changes}
    build.update({path: blob_id(data) for path, data in changes.items() if data is not None and is_build_file(path)})
    return SourceTree(label, None, sorted(files.values(), key=lambda f: f.path), read, read_path,
                      skipped=[(path, why) for path, why in base.skipped if path not in changes],
                      layers=(base, changes), _dir_reader=base.list_dir, build_files=build)
