"""On-disk cache of per-blob facts: one SQLite file, safe for concurrent runs
(WAL, a busy timeout, every write a transaction, so a killed run leaves at most an
unfinished transaction that SQLite rolls back).  A damaged entry fails its CRC-32
and is recomputed; a damaged database file is moved aside and rebuilt.

An entry is data (extract/codec.py: msgpack of allowed records), never a pickle: a
cache restored from someone else's CI run must not run their code.  A cache file that is a symlink is neither read nor written."""
from __future__ import annotations

import os
import sqlite3
import time
import weakref
import zlib

from . import codec

FORMAT = 2  # of the file and its entries: 1 held pickles
# size and used (seconds since the epoch) before the value: reading them reads no blob
SCHEMA = ("CREATE TABLE IF NOT EXISTS entries (kind TEXT, key TEXT, size INTEGER, used INTEGER, value BLOB, "
          "PRIMARY KEY (kind, key))")
def database_name() -> str:
    return f"cache-v{FORMAT}.sqlite"


def _symlinked(path: str) -> bool:
    """Whether the database or one of the files SQLite keeps beside it is a symlink."""
    return any(os.path.islink(path + suffix) for suffix in ("", "-wal", "-shm", "-journal"))


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
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
    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.path = os.path.join(directory, database_name())
        self._db = None
        # a symlinked file: every read a miss and no write (not followed, not written through)
        self.unused = _symlinked(self.path)
        # Writes left to a child process (write_later/flush_in_background): the batches not
        # flushed yet, and (pid, kinds or None for any) of the children still writing.  Lists mutated in
        # place: the finalizer below holds them, not the cache.
        self._later: list[tuple[str, dict]] = []
        self._writers: list[tuple[int, set[str] | None]] = []
        self._finish = weakref.finalize(self, _finish_writes, self.directory, self._later, self._writers)
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
                _sql(self._db, "PRAGMA journal_mode=WAL")
                # a cache needs no durability, only consistency: with WAL, NORMAL keeps the
                # file consistent through a crash and spares an fsync per transaction
                _sql(self._db, "PRAGMA synchronous=NORMAL")
                _sql(self._db, SCHEMA)
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
            _write(self.directory, batches)
            return
        if pid == 0:  # the child: its own connection (one must not cross a fork), no cleanup
            code = 1
            try:
                _write(self.directory, batches)
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

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
                rows += _sql(self._db, f"SELECT key, value FROM entries WHERE kind = ? AND key IN "
                                       f"({','.join('?' * len(batch))})", (kind, *batch)).fetchall()
        except sqlite3.DatabaseError as exc:
            self._damaged_file(exc)
            return found
        damaged = False
        for key, value in rows:
            try:
                found[key] = unpack(value)
            except Exception:  # a damaged entry is simply recomputed
                damaged = True
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

    def _transaction(self, write) -> None:
        """WRITE() in one transaction."""
        if self.unused or _symlinked(self.path):  # made a symlink since: leave it alone
            return
        for _ in range(2):  # again once, after a damaged file was rebuilt
            try:
                with self._db:
                    _sql(self._db, "BEGIN IMMEDIATE")
                    write()
                return
            except sqlite3.DatabaseError as exc:
                if not self._damaged_file(exc):
                    return  # a cache that cannot be written only costs time

# An entry: MAGIC (the format), the CRC-32 of the data (4 bytes, big-endian), the data
# (extract/codec.py).  Not compressed: compressing took 0.6 s of CPU per QEMU revision,
# the checksum 0.01 s.
MAGIC = b"vl%d" % FORMAT


def _write(directory: str, batches: list[tuple[str, object]]) -> None:
    cache = Cache(directory)
    for kind, items in batches:
        cache.put_many(kind, _made(items))
    cache._close_db()


def _made(items) -> dict:
    return items() if callable(items) else items


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _finish_writes(directory: str, later: list, writers: list) -> None:
    """When a cache goes away: what still waits is written, the writing children awaited
    (a cache never loses a write to the end of the run that made it)."""
    for pid, _ in writers:
        _reap(pid)
    writers.clear()
    if later:
        batches = later[:]
        later.clear()
        try:
            _write(directory, batches)
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
