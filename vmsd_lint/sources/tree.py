"""Reading a source tree: a git revision (from the object database, no checkout),
a directory, a repository's working tree or its staged index.  Nothing is ever written
to the repository, and git runs with hooks, fsmonitor and external helpers disabled."""
from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field

from ..errors import InputError

DEFAULT_EXCLUDES = ("roms/", "subprojects/", "tests/", "linux-headers/")
SOURCE_SUFFIXES = (".c", ".h", ".inc")
# Rust devices, and the qemu-api crate that says what their macros and types mean
# (extract/rust.py); no other Rust is read.
RUST_DIRS = ("rust/hw/", "rust/qemu-api/src/")

# Settings that stop a repository's own configuration from running code on our behalf.
SAFE_GIT_CONFIG = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "diff.external=",
    "-c", "core.sshCommand=false", "-c", "protocol.allow=never", "-c", "core.untrackedCache=false",
)


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
               GIT_NO_REPLACE_OBJECTS="1")
    return env


def run_git(repo: str, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """git ARGS in REPO with the safe configuration; ENV adds variables to git_env()."""
    # Without INPUT git gets /dev/null: a git child must never read our caller's stdin
    # (a hook's, or a CI script fed to bash through a pipe).
    stdin = subprocess.DEVNULL if input is None else None
    proc = subprocess.run(["git", *SAFE_GIT_CONFIG, "-C", repo, *args], input=input, stdin=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**git_env(), **(env or {})})
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        fatal = [line for line in message if line.startswith(("fatal: ", "error: "))]
        raise InputError((fatal or message)[-1] if message else f"git {' '.join(args)} failed")
    return proc.stdout


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    blob: str  # git blob id (computed for files read from disk)


@dataclass
class SourceTree:
    """A list of source files and a way to read them."""
    label: str
    commit: str | None
    files: list[SourceFile]
    _reader: object = field(repr=False, default=None)
    _path_reader: object = field(repr=False, default=None)
    _path_cache: dict = field(repr=False, default_factory=dict)
    # (base, changes) of a tree made by sources.apply.overlay(): an overlay of it is
    # made on that base, so that a series of 500 patches does not nest 500 readers
    layers: tuple | None = field(repr=False, default=None)

    def read(self, wanted: list[SourceFile]) -> dict[str, bytes]:
        return self._reader(wanted)

    def read_path(self, path: str) -> bytes | None:
        """Any file of the tree, even one outside the source list (e.g. configs/)."""
        if path not in self._path_cache:  # the cache key and the extraction both ask
            self._path_cache[path] = self._path_reader(path)
        return self._path_cache[path]


def wanted_path(path: str, excludes: tuple[str, ...]) -> bool:
    return (path.endswith(SOURCE_SUFFIXES) or is_rust_source(path)) and not path.startswith(excludes)


def is_rust_source(path: str) -> bool:
    return path.endswith(".rs") and path.startswith(RUST_DIRS)


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def resolve_commit(repo: str, rev: str) -> str:
    """The commit id a revision names; refuses option-like and NUL-carrying strings."""
    if rev.startswith("-"):
        raise InputError(f"'{rev}' is not a revision (it starts with '-')")
    if "\0" in rev:
        raise InputError(f"'{rev!r}' is not a revision (it contains a NUL character)")
    commit = run_git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    if not commit:
        raise InputError(f"unknown revision '{rev}' in {repo}")
    return commit


def git_revision_tree(repo: str, rev: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> SourceTree:
    commit = resolve_commit(repo, rev)
    listing = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    files = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, sha = meta.split(b" ")
        path_text = path.decode("utf-8", "surrogateescape")
        if kind == b"blob" and wanted_path(path_text, excludes):
            files.append(SourceFile(path_text, sha.decode()))
    return SourceTree(rev, commit, files, lambda wanted: _read_blobs(repo, wanted),
                      lambda path: _read_git_path(repo, commit, path))


def _read_git_path(repo: str, commit: str, path: str) -> bytes | None:
    try:
        return run_git(repo, "cat-file", "blob", f"{commit}:{path}")
    except InputError:
        return None


def _read_blobs(repo: str, wanted: list[SourceFile]) -> dict[str, bytes]:
    """Read blobs with one `git cat-file --batch` (what gitpython's object db does, without
    paying a Python round trip per object)."""
    if not wanted:
        return {}
    request = "".join(f"{f.blob}\n" for f in wanted).encode()
    out = run_git(repo, "cat-file", "--batch", input=request)
    result: dict[str, bytes] = {}
    pos = 0
    for f in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split(b" ")
        if len(header) < 3:
            raise InputError(f"cannot read blob {f.blob} ({f.path})")
        size = int(header[2])
        start = header_end + 1
        result[f.path] = out[start:start + size]
        pos = start + size + 1
    return result


def directory_tree(root: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES, label: str | None = None) -> SourceTree:
    if not os.path.isdir(root):
        raise InputError(f"{root}: not a directory")
    paths = []
    # Symlinked directories are followed (samples share one set of headers that way);
    # each real directory is walked once, so a link loop cannot recurse.
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            # regular files only: opening a FIFO or a device named *.h would block or never end
            if wanted_path(rel, excludes) and os.path.isfile(os.path.join(dirpath, name)):
                paths.append(rel)
    return _disk_tree(root, paths, label or root, None)


def worktree_tree(repo: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> SourceTree:
    listing = run_git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    paths = sorted({p.decode("utf-8", "surrogateescape") for p in listing.split(b"\0") if p})
    paths = [p for p in paths if wanted_path(p, excludes) and os.path.isfile(os.path.join(repo, p))]
    return _disk_tree(repo, paths, "working tree", None)


GITLINK_MODE = b"160000"


def index_tree(repo: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> SourceTree:
    """The staged index: what `git commit` would record (unstaged edits left out).

    Read with `git ls-files -s` and `git cat-file --batch`, which never write the index
    (no refresh, no lock; GIT_OPTIONAL_LOCKS=0 anyway).  Inside a commit hook git points
    GIT_INDEX_FILE at the index being committed (`git commit -a`, `git commit PATH`), so
    that variable is honoured here while git_env() drops every other GIT_*.  Submodules
    (gitlinks) are skipped; an index with unmerged paths is an input error.
    """
    env = _index_env()
    listing = run_git(repo, "ls-files", "-s", "-z", "--full-name", env=env)
    blobs: dict[str, str] = {}
    unmerged: set[str] = set()
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, sha, stage = meta.split(b" ")
        path_text = path.decode("utf-8", "surrogateescape")
        if stage != b"0":
            unmerged.add(path_text)
        elif mode != GITLINK_MODE:
            blobs[path_text] = sha.decode()
    if unmerged:
        names = sorted(unmerged)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise InputError(f"the index of {repo} has unmerged paths ({shown}): resolve the conflicts and "
                         f"stage the result first")
    files = [SourceFile(path, sha) for path, sha in sorted(blobs.items()) if wanted_path(path, excludes)]

    def read_path(path: str) -> bytes | None:
        sha = blobs.get(path)
        return _read_blobs(repo, [SourceFile(path, sha)])[path] if sha else None

    return SourceTree("index", None, files, lambda wanted: _read_blobs(repo, wanted), read_path)


def _index_env() -> dict[str, str]:
    """GIT_INDEX_FILE as absolute path (git resolves a relative one against its own cwd,
    which `git -C REPO` changes), or nothing."""
    index_file = os.environ.get("GIT_INDEX_FILE")
    return {"GIT_INDEX_FILE": os.path.abspath(index_file)} if index_file else {}


def _disk_tree(root: str, paths: list[str], label: str, commit: str | None) -> SourceTree:
    contents: dict[str, bytes] = {}
    files = []
    for rel in paths:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise InputError(f"{rel}: {exc.strerror}") from None
        contents[rel] = data
        files.append(SourceFile(rel, blob_id(data)))
    return SourceTree(label, commit, files, lambda wanted: {f.path: contents[f.path] for f in wanted},
                      lambda path: _read_disk_path(root, path))


def _read_disk_path(root: str, path: str) -> bytes | None:
    if not os.path.isfile(os.path.join(root, path)):
        return None
    try:
        with open(os.path.join(root, path), "rb") as fh:
            return fh.read()
    except OSError:
        return None
