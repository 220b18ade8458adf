"""On-disk cache of per-blob facts: one SQLite file, safe for concurrent runs
(WAL, a busy timeout, every write a transaction, so a killed run leaves at most an
unfinished transaction that SQLite rolls back).  A damaged entry fails its CRC-32
and is recomputed; a damaged database file is moved aside and rebuilt.

An entry is data (extract/codec.py: msgpack of allowed records), never a pickle: a
cache restored from someone else's CI run must not run their code.  The cache holds at
most a cap of entry bytes (VMSD_LINT_CACHE_MAX, default 2 GB), evicting the entries
used least recently.  A cache file that is a symlink is neither read nor written."""
from __future__ import annotations

import glob
import os
import re
import sqlite3
import time
import weakref
import zlib

from . import codec

FORMAT = 2  # of the file and its entries: 1 held pickles
# size and used come before the value, so that summing sizes reads no blob
SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (kind TEXT, key TEXT, size INTEGER, used INTEGER, value BLOB, "
          "PRIMARY KEY (kind, key))")
USED_INDEX = "CREATE INDEX IF NOT EXISTS entries_used ON entries (used, size)"
DEFAULT_MAX_BYTES = 2_000_000_000
MAX_ENV = "VMSD_LINT_CACHE_MAX"
TOUCH_AFTER = 600  # seconds: an entry read is marked used again only this long after its last mark
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def max_bytes_from_env() -> int:
    """The cap VMSD_LINT_CACHE_MAX gives (bytes, or with a K, M, G or T suffix);
    ValueError when it is not a size."""
    text = os.environ.get(MAX_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"{MAX_ENV}: not a size: {text[:40]!r} (say 2G, 500M or a number of bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def human(size: int) -> str:
    for unit in ("TB", "GB", "MB", "KB"):
        scale = _UNITS[unit[0]]
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def database_name() -> str:
    return f"cache-v{FORMAT}.sqlite"


def _symlinked(path: str) -> bool:
    """Whether the database or one of the files SQLite keeps beside it is a symlink."""
    return any(os.path.islink(path + suffix) for suffix in ("", "-wal", "-shm", "-journal"))


def default_cache_dir() -> str:
    xdg = os.environ.get("XDG_CACHE_HOME", "")  # the XDG spec: a relative path is invalid, ignore it
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vmsd-lint")


_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


LOOKUP_BATCH = 500  # keys per SELECT (SQLite allows 999 parameters in old builds)
OPEN_ATTEMPTS = 40  # about a minute of waiting in all


def _busy(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class _DamagedFile(sqlite3.DatabaseError):
    """SQLite failed with a message that is not even text: bytes of a damaged file."""


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    """The file is damaged (not merely busy or read-only)."""
    return isinstance(exc, _DamagedFile) or getattr(exc, "sqlite_errorcode", None) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _sql(db: sqlite3.Connection, statement: str, parameters=(), many: bool = False) -> sqlite3.Cursor:
    """db.execute() (executemany() with MANY), where an error message Python cannot
    decode is a damaged file."""
    try:
        return db.executemany(statement, parameters) if many else db.execute(statement, parameters)
    except UnicodeDecodeError as exc:
        raise _DamagedFile(f"damaged cache file ({exc})") from None


class Cache:
    def __init__(self, directory: str, max_bytes: int | None = None):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.path = os.path.join(directory, database_name())
        self.max_bytes = max_bytes_from_env() if max_bytes is None else max_bytes
        self._db = None
        # a symlinked file: every read a miss and no write (not followed, not written through)
        self.unused = _symlinked(self.path)
        self._touched: dict[str, list[str]] = {}  # kind -> keys read, to be marked used
        # Writes left to a child process (write_later/flush_in_background): the batches not
        # flushed yet, and (pid, kinds or None for any) of the children still writing.  Lists mutated in
        # place: the finalizer below holds them, not the cache.
        self._later: list[tuple[str, dict]] = []
        self._writers: list[tuple[int, set[str] | None]] = []
        self._finish = weakref.finalize(self, _finish_writes, self.directory, self.max_bytes, self._later,
                                        self._writers, self._touched)
        self._close_db = lambda: None
        if self.unused:
            return
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise  # busy, read-only, ...: the caller runs without a cache
            self._rebuild()

    def _open(self) -> None:
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        # Closed when the cache goes away or the process ends: the last connection to
        # close folds the write-ahead log into the file, so no WAL is left behind that
        # could mask a damaged file on the next open.
        self._close_db = weakref.finalize(self, self._db.close)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                # a new file gives evicted pages back to the file system (incremental_vacuum);
                # set before anything is written, WAL mode included, or it is too late
                _sql(self._db, "PRAGMA auto_vacuum=INCREMENTAL")
                _sql(self._db, "PRAGMA journal_mode=WAL")
                # a cache needs no durability, only consistency: with WAL, NORMAL keeps the
                # file consistent through a crash and spares an fsync per transaction
                _sql(self._db, "PRAGMA synchronous=NORMAL")
                _sql(self._db, SCHEMA)
                _sql(self._db, USED_INDEX)
                return
            except sqlite3.OperationalError as exc:
                # switching to WAL takes a lock the busy timeout does not wait for:
                # another run opening the same new cache at the same moment
                if not _busy(exc) or attempt == OPEN_ATTEMPTS - 1:
                    self._db.close()
                    raise
                time.sleep(0.05 * (attempt + 1))
            except sqlite3.DatabaseError:
                self._db.close()
                raise

    def _rebuild(self) -> None:
        """Move the damaged database (and its WAL) aside as *.corrupt and start an empty one."""
        try:
            if self._db is not None:
                self._db.close()
        except sqlite3.Error:
            pass
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.replace(self.path + suffix, f"{self.path}.corrupt{suffix}")
        self._open()

    def _damaged_file(self, exc: sqlite3.DatabaseError) -> bool:
        """True when exc says the file is damaged and it could be rebuilt."""
        if not _damaged(exc):
            return False
        try:
            self._rebuild()
        except (OSError, sqlite3.Error):
            return False
        return True

    def write_later(self, kind: str, items) -> None:
        """Store items (a dict, or a function making it: then made by the writer too) at
        the next flush_in_background() (or when the kind is read)."""
        if not self.unused:
            self._later.append((kind, items))

    def flush_in_background(self) -> None:
        """Pickle and store the items of write_later() in a forked child process, while this
        one goes on (with the next endpoint, the diff, the output).  A read of one of their
        kinds, and the end of this cache, wait for the child.  Call it only where no other
        thread runs (a fork copies their locks)."""
        if not self._later:
            return
        batches = self._later[:]
        self._later.clear()
        try:
            pid = os.fork()
        except (AttributeError, OSError):  # no fork here, or no room for a process: write now
            _write(self.directory, self.max_bytes, batches)
            return
        if pid == 0:  # the child: its own connection (one must not cross a fork), no cleanup
            code = 1
            try:
                _write(self.directory, self.max_bytes, batches)
                code = 0
            finally:
                os._exit(code)
        self._writers.append((pid, {kind for kind, _ in batches}))

    def adopt_writer(self, pid: int) -> None:
        """A child process (forked by this one) writing entries of any kind: a read of any
        kind, and the end of this cache, wait for it as for the cache's own writers."""
        self._writers.append((pid, None))

    def close(self) -> None:
        """Write what waits, wait for the writing children, close the connection."""
        self._finish()
        self._close_db()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def totals(self) -> tuple[int, int]:
        """(entries, bytes in entries)."""
        if self.unused:
            return 0, 0
        return tuple(_sql(self._db, "SELECT count(*), coalesce(sum(size), 0) FROM entries").fetchone())

    def _settle(self, kind: str) -> None:
        """Before reading KIND: wait for the children writing it, write what waits here."""
        for pid, kinds in list(self._writers):
            if kinds is None or kind in kinds:
                _reap(pid)
                self._writers.remove((pid, kinds))
        pending = [(k, items) for k, items in self._later if k == kind]
        for entry in pending:
            self._later.remove(entry)
            self.put_many(entry[0], _made(entry[1]))

    def get_many(self, kind: str, keys: list[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        if self.unused:
            return found
        self._settle(kind)
        wanted = sorted(set(keys))
        rows = []
        try:
            for start in range(0, len(wanted), LOOKUP_BATCH):  # only the wanted rows are read
                batch = wanted[start:start + LOOKUP_BATCH]
                rows += _sql(self._db, f"SELECT key, used, value FROM entries WHERE kind = ? AND key IN "
                                       f"({','.join('?' * len(batch))})", (kind, *batch)).fetchall()
        except sqlite3.DatabaseError as exc:
            self._damaged_file(exc)
            return found
        damaged = False
        stale = time.time() - TOUCH_AFTER
        for key, used, value in rows:
            try:
                found[key] = unpack(value)
            except Exception:  # a damaged entry is simply recomputed
                damaged = True
                continue
            if not isinstance(used, int) or used < stale:
                self._touched.setdefault(kind, []).append(key)
        if damaged:
            self._check_file()
        return found

    def _check_file(self) -> None:
        """After a damaged entry: rebuild the file if SQLite finds it damaged too (the
        entries read from it passed their checksums; the recomputed ones go to the new one)."""
        try:
            result = _sql(self._db, "PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            self._damaged_file(exc)
            return
        if result != [("ok",)]:
            try:
                self._rebuild()
            except (OSError, sqlite3.Error):
                pass

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is stored (not whether it is intact), without reading it."""
        if self.unused:
            return False
        self._settle(kind)
        try:
            return _sql(self._db, "SELECT 1 FROM entries WHERE kind = ? AND key = ?", (kind, key)).fetchone() \
                is not None
        except sqlite3.DatabaseError:
            return False

    def get(self, kind: str, key: str):
        return self.get_many(kind, [key]).get(key)

    def put_many(self, kind: str, items: dict[str, object]) -> None:
        self.put_packed(kind, {key: pack(value) for key, value in items.items()})

    def put_packed(self, kind: str, items: dict[str, bytes]) -> None:
        """Store values already packed by `pack` (e.g. by a worker process)."""
        now = int(time.time())
        rows = [(kind, key, len(value), now, value) for key, value in items.items()]
        self._transaction(lambda: _sql(self._db, "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)", rows,
                                       many=True))

    def touch(self, touched: dict[str, list[str]]) -> None:
        """Mark the entries read (kind -> keys) as used now: the last to be evicted."""
        now = int(time.time())
        rows = [(now, kind, key) for kind, keys in touched.items() for key in keys]
        if rows:
            self._transaction(lambda: _sql(self._db, "UPDATE entries SET used = ? WHERE kind = ? AND key = ?",
                                           rows, many=True), evict=False)

    def _transaction(self, write, evict: bool = True) -> None:
        """WRITE() in one transaction, then the entries beyond the cap evicted."""
        if self.unused or _symlinked(self.path):  # made a symlink since: leave it alone
            return
        for _ in range(2):  # again once, after a damaged file was rebuilt
            try:
                with self._db:
                    _sql(self._db, "BEGIN IMMEDIATE")
                    write()
                    evicted = evict and self._evict()
                if evicted:
                    # executescript steps it to the end (execute() frees a single page)
                    self._db.executescript("PRAGMA incremental_vacuum")
                return
            except sqlite3.DatabaseError as exc:
                if not self._damaged_file(exc):
                    return  # a cache that cannot be written only costs time

    def _evict(self) -> bool:
        """Within a write: delete the least recently used entries until the rest fit under
        the cap.  Reads only the (used, size) index."""
        total = _sql(self._db, "SELECT coalesce(sum(size), 0) FROM entries").fetchone()[0]
        if total <= self.max_bytes:
            return False
        doomed, freed = [], 0
        for rowid, size in _sql(self._db, "SELECT rowid, size FROM entries ORDER BY used, rowid"):
            if total - freed <= self.max_bytes:
                break
            doomed.append((rowid,))
            freed += size or 0
        _sql(self._db, "DELETE FROM entries WHERE rowid = ?", doomed, many=True)
        return True


# An entry: MAGIC (the format), the CRC-32 of the data (4 bytes, big-endian), the data
# (extract/codec.py).  Not compressed: compressing took 0.6 s of CPU per QEMU revision,
# the checksum 0.01 s.
MAGIC = b"vl%d" % FORMAT
_TOUCH = "\0touch"  # a batch of write_later(): entries read, to be marked used


def _write(directory: str, max_bytes: int, batches: list[tuple[str, object]]) -> None:
    cache = Cache(directory, max_bytes)
    for kind, items in batches:
        if kind == _TOUCH:
            cache.touch(items)
        else:
            cache.put_many(kind, _made(items))
    cache._close_db()


def _made(items) -> dict:
    return items() if callable(items) else items


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _finish_writes(directory: str, max_bytes: int, later: list, writers: list, touched: dict) -> None:
    """When a cache goes away: what still waits is written (and the entries read marked
    used), the writing children awaited (a cache never loses a write to the end of the
    run that made it)."""
    for pid, _ in writers:
        _reap(pid)
    writers.clear()
    if touched:
        later.append((_TOUCH, dict(touched)))
        touched.clear()
    if later:
        batches = later[:]
        later.clear()
        try:
            _write(directory, max_bytes, batches)
        except (OSError, sqlite3.Error):
            pass  # a cache that cannot be written only costs time


def pack(value) -> bytes:
    """A value as the cache stores it."""
    data = codec.encode(value)
    return MAGIC + zlib.crc32(data).to_bytes(4, "big") + data


def unpack(data: bytes):
    """The value of an entry; an exception when it is damaged or of another format (an
    entry is only ever decoded as data: extract/codec.py)."""
    start = len(MAGIC) + 4
    if data[:len(MAGIC)] != MAGIC or int.from_bytes(data[len(MAGIC):start], "big") != zlib.crc32(data[start:]):
        raise ValueError("damaged cache entry")
    return codec.decode(data[start:])


def cache_files(directory: str) -> list[str]:
    """The files of vmsd-lint's caches in DIRECTORY, of any format: databases, their WAL
    and shared-memory files, damaged ones moved aside."""
    return sorted(glob.glob(os.path.join(glob.escape(directory), "cache-*.sqlite*")))


def info(directory: str, max_bytes: int) -> dict[str, str]:
    """What `vmsd-lint cache info` prints.  Creates nothing; a symlinked file is not read."""
    path = os.path.join(directory, database_name())
    entries = size = 0
    if os.path.isfile(path) and not _symlinked(path):
        with Cache(directory, max_bytes) as cache:
            entries, size = cache.totals()
    others = [p for p in cache_files(directory) if not p.startswith(path)]
    on_disk = sum(os.lstat(p).st_size for p in cache_files(directory))
    return {"location": path, "entries": str(entries),
            "size": f"{human(size)} ({size} bytes in entries; {human(on_disk)} on disk with "
                    f"{len(others)} other file(s) of vmsd-lint's caches)",
            "cap": f"{human(max_bytes)} ({max_bytes} bytes; {MAX_ENV} sets it)"}


def clean(directory: str) -> int:
    """Remove every file of vmsd-lint's caches in DIRECTORY (symlinks themselves, not what
    they point to); returns how many."""
    removed = 0
    for path in cache_files(directory):
        try:
            os.unlink(path)
            removed += 1
        except FileNotFoundError:
            pass
    return removed
