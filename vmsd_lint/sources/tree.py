"""Reading a source tree: a git revision (from the object database, no checkout),
a directory, a repository's working tree or its staged index.  Nothing is ever written
to the repository, and git runs with hooks, fsmonitor and external helpers disabled."""
from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from dataclasses import dataclass, field

from ..errors import InputError

DEFAULT_EXCLUDES = ("roms/", "subprojects/", "tests/", "linux-headers/")
SOURCE_SUFFIXES = (".c", ".h", ".inc")
# Rust devices, and the qemu-api crate that says what their macros and types mean
# (extract/rust.py); no other Rust is read.
BUILD_FILE_NAMES = ("meson.build", "meson_options.txt", "meson.options")
RUST_DIRS = ("rust/hw/", "rust/qemu-api/src/")
# A source larger than this is skipped (and named in a diagnostic): QEMU's largest is ~1 MB,
# and a stranger's 5 GB file must not be read into memory.
MAX_FILE_SIZE = 64 * 1024 * 1024
GITLINK_MODE = b"160000"
SYMLINK_MODE = b"120000"

# Transports git knows (built in, or helpers it ships): a partial clone fetches a missing
# object from its promisor remote, and the repository's own protocol.<name>.allow beats
# protocol.allow=never -- `ext::` runs any command.  Each is closed by name.
TRANSPORTS = ("ext", "fd", "file", "git", "ssh", "http", "https", "ftp", "ftps")

# Settings that stop a repository's own configuration from running code on our behalf
# (log.showSignature: `git log` would run gpg.program on every signed commit).
SAFE_GIT_CONFIG = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "diff.external=",
    "-c", "core.sshCommand=false", "-c", "protocol.allow=never", "-c", "core.untrackedCache=false",
    "-c", "log.showSignature=false",
    *(arg for name in TRANSPORTS for arg in ("-c", f"protocol.{name}.allow=never")),
)


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # GIT_NO_LAZY_FETCH (git >= 2.44): no fetch from a promisor remote, whatever the transport
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
               GIT_NO_REPLACE_OBJECTS="1", GIT_NO_LAZY_FETCH="1")
    return env


def run_git(repo: str, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """git ARGS in REPO with the safe configuration; ENV adds variables to git_env()."""
    # Without INPUT git gets /dev/null: a git child must never read our caller's stdin
    # (a hook's, or a CI script fed to bash through a pipe).
    stdin = subprocess.DEVNULL if input is None else None
    proc = subprocess.run(["git", *SAFE_GIT_CONFIG, "-C", repo, *args], input=input, stdin=stdin,
                          capture_output=True, env={**git_env(), **(env or {})}, check=False)
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
    # files named like sources but not read, or read under another name: (path, why);
    # the extraction reports each as a diagnostic
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (base, changes) of a tree made by sources.apply.overlay(): an overlay of it is
    # made on that base, so that a series of 500 patches does not nest 500 readers
    layers: tuple | None = field(repr=False, default=None)
    # path -> names in that directory, or None; trees made without one cannot list
    _dir_reader: object = field(repr=False, default=None)
    # paths -> {path: bytes or None} in one go (a revision's: one git process, not one each)
    _paths_reader: object = field(repr=False, default=None)
    # the build description (meson.build, Kconfig, configs/**.mak): path -> blob id, or None
    # where the id is computed when asked (a file on disk); what build_digest() hashes
    build_files: dict[str, str | None] = field(repr=False, default_factory=dict)

    def build_digest(self) -> str | None:
        """A digest of the tree's build description: equal for two trees whose builds the
        build model reads the same.  None for a tree with no meson.build (not QEMU's)."""
        if "meson.build" not in self.build_files:
            return None
        unknown = [path for path, blob in self.build_files.items() if blob is None]
        if unknown:
            self.prefetch(unknown)
            for path in unknown:
                data = self.read_path(path)
                self.build_files[path] = blob_id(data) if data is not None else "-"
        digest = hashlib.sha1()
        for path, blob in sorted(self.build_files.items()):
            digest.update(f"{path}\0{blob}\n".encode())
        return digest.hexdigest()

    def read(self, wanted: list[SourceFile]) -> dict[str, bytes]:
        return self._reader(wanted)

    def read_path(self, path: str) -> bytes | None:
        """Any file of the tree, even one outside the source list (e.g. configs/)."""
        if path not in self._path_cache:  # the cache key and the extraction both ask
            self._path_cache[path] = self._path_reader(path)
        return self._path_cache[path]

    def prefetch(self, paths: list[str]) -> None:
        """Read several files at once into the cache that read_path answers from."""
        missing = [p for p in dict.fromkeys(paths) if p not in self._path_cache]
        if missing and self._paths_reader:
            self._path_cache.update(self._paths_reader(missing))

    def list_dir(self, path: str) -> list[str] | None:
        """The names in a directory of the tree (e.g. configs/targets), or None."""
        return self._dir_reader(path) if self._dir_reader else None


def wanted_path(path: str, excludes: tuple[str, ...]) -> bool:
    return (path.endswith(SOURCE_SUFFIXES) or is_rust_source(path)) and not path.startswith(excludes) \
        and not in_hidden_dir(path)


def in_hidden_dir(path: str) -> bool:
    """Whether PATH lies under a directory whose name starts with a dot.  QEMU builds
    nothing from one, and what is there is not the source: quilt's `.pc/` (left by
    `dpkg-source -x` in every Debian source package) holds each patched file as it was
    before the patch, whose types and VMSDs would otherwise shadow the patched ones."""
    return any(part.startswith(".") for part in path.split("/")[:-1])


def is_build_file(path: str) -> bool:
    """A file of the build description the build model reads (extract/build)."""
    name = path.rpartition("/")[2]
    return not in_hidden_dir(path) and (name in BUILD_FILE_NAMES or name.startswith("Kconfig") or
                                        (path.startswith("configs/") and path.endswith(".mak")))


def is_rust_source(path: str) -> bool:
    return path.endswith(".rs") and path.startswith(RUST_DIRS)


def files_differ(old: SourceTree, new: SourceTree, prefixes: tuple[str, ...]) -> bool:
    """Whether a file under one of PREFIXES is added, removed or changed (by blob id)
    between the trees: a detector that reads only those files skips identical ones."""
    return bool(differing_paths(old, new, prefixes))


def differing_paths(old: SourceTree, new: SourceTree, prefixes: tuple[str, ...]) -> set[str]:
    """The paths under PREFIXES added, removed or changed (by blob id) between the trees."""
    def blobs(tree: SourceTree) -> set[tuple[str, str]]:
        return {(f.path, f.blob) for f in tree.files if f.path.startswith(prefixes)}
    return {path for path, _ in blobs(old) ^ blobs(new)}


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
    listing = run_git(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    files, skipped, build = [], [], {}
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, sha, size = meta.split()
        path = display_path(raw_path, notes := [])
        if kind == b"blob" and is_build_file(path):
            build[path] = sha.decode()
        if kind != b"blob" or not wanted_path(path, excludes):
            continue
        skipped += notes
        if mode == SYMLINK_MODE:  # its blob is the link's target, not source
            skipped.append((path, f"{path}: not read: a symbolic link"))
        elif int(size) > MAX_FILE_SIZE:
            skipped.append((path, f"{path}: not read: larger than {MAX_FILE_SIZE >> 20} MB"))
        else:
            files.append(SourceFile(path, sha.decode()))
    return SourceTree(rev, commit, files, lambda wanted: _read_blobs(repo, wanted),
                      lambda path: _read_git_path(repo, commit, path), skipped=skipped,
                      _dir_reader=lambda path: _list_git_dir(repo, commit, path),
                      _paths_reader=lambda paths: _read_git_paths(repo, commit, paths), build_files=build)


def display_path(raw: bytes, skipped: list[tuple[str, str]]) -> str:
    """A path as text.  One that is not UTF-8 gets \\x escapes for its stray bytes, and a
    note: nothing downstream (cache keys, JSON, SQLite) can hold the raw bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        path = raw.decode("utf-8", "backslashreplace")
        skipped.append((path, f"{path}: the file name is not valid UTF-8: read under this name, "
                              f"its stray bytes written as \\x escapes"))
        return path


def _read_git_path(repo: str, commit: str, path: str) -> bytes | None:
    try:
        return run_git(repo, "cat-file", "blob", f"{commit}:{path}")
    except InputError:
        return None


def _read_git_paths(repo: str, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """Files of a revision by path with one `git cat-file --batch` (`COMMIT:PATH` names); a
    path that is missing or not a file reads as None, like _read_git_path."""
    wanted = [p for p in paths if "\n" not in p]  # a name --batch cannot take is read alone
    result: dict[str, bytes | None] = {p: _read_git_path(repo, commit, p) for p in paths if "\n" in p}
    if not wanted:
        return result
    out = run_git(repo, "cat-file", "--batch", input="".join(f"{commit}:{p}\n" for p in wanted).encode())
    pos = 0
    for path in wanted:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split(b" ")
        pos = header_end + 1
        if len(header) != 3 or not header[2].isdigit():  # "NAME missing", "NAME ambiguous"
            result[path] = None
            continue
        size = int(header[2])
        result[path] = out[pos:pos + size] if header[1] == b"blob" else None
        pos += size + 1
    return result


def _list_git_dir(repo: str, commit: str, path: str) -> list[str] | None:
    try:
        out = run_git(repo, "ls-tree", "--name-only", "-z", f"{commit}:{path}")
    except InputError:
        return None
    return sorted(name.decode("utf-8", "backslashreplace") for name in out.split(b"\0") if name)


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
    boundary = _checkout_around(root)
    paths, skipped, build = _walk(root, excludes, boundary)
    return _disk_tree(root, paths, label or root, boundary, skipped, build)


def _checkout_around(root: str) -> str:
    """Where links in a directory tree may lead: the git working tree holding it (the
    samples share headers through links beside them), else the directory itself."""
    real = os.path.realpath(root)
    here = real
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return real
        here = parent


def _inside(path: str, boundary: str) -> bool:
    real = os.path.realpath(path)
    return real == boundary or real.startswith(boundary.rstrip(os.sep) + os.sep)


def _walk(root: str, excludes: tuple[str, ...], boundary: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """The wanted paths under ROOT (as os.walk spells them), the directory links not
    followed because they leave the tree (a link to / would read the whole filesystem),
    and the files of the build description."""
    paths, skipped, build = [], [], []
    # each real directory is walked once, so a link loop cannot recurse
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        rel_dir = os.path.relpath(dirpath, root)
        kept = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):  # .git, quilt's .pc
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and not _inside(full, boundary):
                rel = _join(rel_dir, name)
                if not f"{rel}/".startswith(excludes):
                    path = display_path(os.fsencode(rel), [])
                    skipped.append((path, f"{path}: not read: a link to a directory outside the tree"))
            else:
                kept.append(name)
        dirnames[:] = kept
        names = [_join(rel_dir, name) for name in sorted(filenames)]
        paths += [rel for rel in names if wanted_path(rel, excludes)]
        build += [rel for rel in names if is_build_file(rel)]
    return paths, skipped, build


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")


def worktree_tree(repo: str, excludes: tuple[str, ...] = DEFAULT_EXCLUDES) -> SourceTree:
    listing = run_git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    paths = sorted({p.decode("utf-8", "surrogateescape") for p in listing.split(b"\0") if p})
    build = [p for p in paths if is_build_file(p)]
    paths = [p for p in paths if wanted_path(p, excludes)]
    return _disk_tree(repo, paths, "working tree", os.path.realpath(repo), [], build)


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
    skipped: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, sha, stage = meta.split(b" ")
        path_text = display_path(path, notes := [])
        wanted = wanted_path(path_text, excludes)
        if stage != b"0":
            unmerged.add(path_text)
        elif mode == SYMLINK_MODE:  # its blob is the link's target, not source
            skipped += notes + [(path_text, f"{path_text}: not read: a symbolic link")] if wanted else []
        elif mode != GITLINK_MODE:
            skipped += notes if wanted else []
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

    return SourceTree("index", None, files, lambda wanted: _read_blobs(repo, wanted), read_path, skipped=skipped,
                      _dir_reader=lambda path: _list_paths(blobs, path),
                      build_files={path: sha for path, sha in blobs.items() if is_build_file(path)})


def _list_paths(paths: dict[str, str], directory: str) -> list[str] | None:
    """The names in DIRECTORY of a tree known by its list of file paths."""
    prefix = directory.rstrip("/") + "/"
    names = sorted({p[len(prefix):].split("/", 1)[0] for p in paths if p.startswith(prefix)})
    return names or None


def _index_env() -> dict[str, str]:
    """GIT_INDEX_FILE as absolute path (git resolves a relative one against its own cwd,
    which `git -C REPO` changes), or nothing."""
    index_file = os.environ.get("GIT_INDEX_FILE")
    return {"GIT_INDEX_FILE": os.path.abspath(index_file)} if index_file else {}


def _disk_tree(root: str, paths: list[str], label: str, boundary: str,
               skipped: list[tuple[str, str]], build: list[str]) -> SourceTree:
    """A tree read from disk, every file now.  Links are followed only when they stay inside
    BOUNDARY, and only regular files up to MAX_FILE_SIZE are read; each file skipped is
    noted.  A file listed but gone (deleted in a working tree) is simply not there."""
    contents: dict[str, bytes] = {}
    files = []
    for rel in paths:
        path = display_path(os.fsencode(rel), notes := [])
        if path in contents:  # a non-UTF-8 name whose escaped spelling another file has
            skipped.append((path, f"{path}: not read: another file has this name once escaped"))
            continue
        disk_path = os.path.join(root, rel)
        try:
            if not _inside(disk_path, boundary):
                raise SkippedFile("a link leading outside the tree")
            data = read_regular_file(disk_path)
        except FileNotFoundError:
            continue
        except SkippedFile as exc:
            skipped.append((path, f"{path}: not read: {exc}"))
            continue
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror}") from None
        skipped += notes
        contents[path] = data
        files.append(SourceFile(path, blob_id(data)))
    files.sort(key=lambda f: f.path)
    return SourceTree(label, None, files, lambda wanted: {f.path: contents[f.path] for f in wanted},
                      lambda path: _read_disk_path(root, path, boundary), skipped=skipped,
                      _dir_reader=lambda path: _list_disk_dir(root, path, boundary),
                      build_files=dict.fromkeys(build))


class SkippedFile(Exception):
    """A file that is not read: not a regular file, too large, or reached by a link out."""


def read_regular_file(path: str, limit: int = MAX_FILE_SIZE) -> bytes:
    """The bytes of PATH if it is a regular file of at most LIMIT bytes, else SkippedFile.
    Opened non-blocking, so that a FIFO does not wait for a writer before it is refused."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SkippedFile("not a regular file")
        if info.st_size > limit:
            raise SkippedFile(f"larger than {limit >> 20} MB")
        chunks, total = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while read (or its size was not its size)
                raise SkippedFile(f"larger than {limit >> 20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _list_disk_dir(root: str, path: str, boundary: str) -> list[str] | None:
    disk_path = os.path.join(root, path)
    try:
        return sorted(os.listdir(disk_path)) if _inside(disk_path, boundary) else None
    except OSError:
        return None


def _read_disk_path(root: str, path: str, boundary: str) -> bytes | None:
    disk_path = os.path.join(root, path)
    try:
        return read_regular_file(disk_path) if _inside(disk_path, boundary) else None
    except (OSError, SkippedFile):
        return None
