"""The revision a patch or series from the list applies to, when `review` is given no
--base: what the mails say, checked against the repository.

1. The `base-commit: <id>` line that `git format-patch --base` writes after the last
   patch's diff (or in the cover letter) and that b4 writes in the cover letter, when the
   repository has that commit.
2. Else the preimage blob ids of the diffs' `index <old>..<new>` lines: HEAD when its
   files are those blobs, else the newest of the commits that introduced them at which
   every file is its blob.
3. Else HEAD, as before; if the series does not apply there, the error says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from .patches import Mail, Patch
from .tree import run_git

BASE_COMMIT = re.compile(r"^base-commit: ([0-9a-fA-F]{7,64})\s*$", re.M)
INDEX_LINE = re.compile(r"^index ([0-9a-f]{7,64})\.\.[0-9a-f]{7,64}")
MAX_INTRODUCERS = 16  # commits checked for the blobs: the series' files are few


@dataclass(frozen=True, slots=True)
class Base:
    revision: str
    why: str  # how it was chosen, for the report and for a patch that does not apply


def choose_base(repo: str, patches: list[Patch], cover: Mail | None) -> Base:
    named = base_commit(patches, cover)
    if named is not None:
        found = _commit(repo, named)
        if found is not None:
            return Base(found[:12], f"the base-commit line of the series ({named[:12]})")
    blobs = preimage_blobs(patches)
    unknown = f"; its base-commit {named[:12]} is not in the repository" if named else ""
    if blobs:
        if _has_blobs(repo, "HEAD", blobs):
            return Base("HEAD", f"HEAD, whose files are the patches' preimage blobs{unknown}")
        found = _introducing_commit(repo, blobs)
        if found is not None:
            return Base(found[:12], f"the commit whose files are the patches' preimage blobs{unknown}")
    return Base("HEAD", f"HEAD (the default: no base-commit line{' known' if named else ''} and no commit "
                        f"with the patches' preimage blobs{unknown})")


def base_commit(patches: list[Patch], cover: Mail | None) -> str | None:
    """The id of the first `base-commit:` line, cover letter first, then the patches."""
    texts = ([cover.body] if cover is not None else []) + [p.body for p in patches]
    for text in texts:
        match = BASE_COMMIT.search(text)
        if match:
            return match.group(1).lower()
    return None


def preimage_blobs(patches: list[Patch]) -> dict[str, str]:
    """path -> the abbreviated blob id the series' first change to it starts from (new files
    and later patches' preimages left out: those are the series' own results)."""
    blobs: dict[str, str] = {}
    touched: set[str] = set()
    for patch in patches:
        for diff in patch.files:
            match = next((m for m in map(INDEX_LINE.match, diff.header) if m), None)
            path = diff.old_path
            if path and path not in touched and match and set(match.group(1)) != {"0"}:
                blobs[path] = match.group(1)
            touched.update(p for p in (diff.old_path, diff.new_path) if p)
    return blobs


def _git(repo: str, *args: str) -> str:
    return run_git(repo, *args).decode("utf-8", "replace")


def _commit(repo: str, name: str) -> str | None:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").strip() or None
    except InputError:
        return None


def _has_blobs(repo: str, revision: str, blobs: dict[str, str]) -> bool:
    """Whether every path of BLOBS is, at REVISION, the blob its abbreviated id names."""
    try:
        listing = _git(repo, "ls-tree", "-z", "--full-tree", revision, "--", *sorted(blobs))
    except InputError:
        return False
    found = {}
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        if path:
            found[path] = meta.split()[2]
    return all(found.get(path, "").startswith(blob) for path, blob in blobs.items())


def _introducing_commit(repo: str, blobs: dict[str, str]) -> str | None:
    """The newest commit, among those that made a file one of its preimage blobs, at which
    every file is its blob."""
    candidates: list[str] = []
    for path, blob in sorted(blobs.items()):
        full = _object(repo, blob)
        if full is None:
            return None  # a blob the repository does not have: no commit of it holds the file
        log = _git(repo, "log", "--all", "--format=%H", f"-{MAX_INTRODUCERS}", f"--find-object={full}", "--", path)
        candidates += [c for c in log.split() if c not in candidates]
    if not candidates:
        return None
    newest_first = _git(repo, "rev-list", "--no-walk=sorted", "--date-order", *candidates).split()
    return next((c for c in newest_first if _has_blobs(repo, c, blobs)), None)


def _object(repo: str, abbreviated: str) -> str | None:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{abbreviated}^{{blob}}").strip() or None
    except InputError:
        return None
