"""On-disk cache of per-blob facts: one SQLite file, safe for concurrent runs
(every write is a transaction; a damaged entry is dropped and recomputed)."""
from __future__ import annotations

import os
import pickle
import sqlite3
import zlib

from .. import __version__

SCHEMA = "CREATE TABLE IF NOT EXISTS entries (kind TEXT, key TEXT, value BLOB, PRIMARY KEY (kind, key))"


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vmsd-lint")


class Cache:
    def __init__(self, directory: str):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, f"cache-{__version__}.sqlite")
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)
        except sqlite3.DatabaseError:
            self._db.close()
            os.replace(self.path, self.path + ".corrupt")
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(SCHEMA)

    def get_many(self, kind: str, keys: list[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        wanted = set(keys)
        try:
            rows = self._db.execute("SELECT key, value FROM entries WHERE kind = ?", (kind,)).fetchall()
        except sqlite3.DatabaseError:
            return found
        for key, value in rows:
            if key in wanted:
                try:
                    found[key] = unpack(value)
                except Exception:  # a damaged entry is simply recomputed
                    continue
        return found

    def get(self, kind: str, key: str):
        return self.get_many(kind, [key]).get(key)

    def put_many(self, kind: str, items: dict[str, object]) -> None:
        self.put_packed(kind, {key: pack(value) for key, value in items.items()})

    def put_packed(self, kind: str, items: dict[str, bytes]) -> None:
        """Store values already packed by `pack` (e.g. by a worker process)."""
        rows = [(kind, key, value) for key, value in items.items()]
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
        except sqlite3.DatabaseError:
            pass  # a cache that cannot be written only costs time


def pack(value) -> bytes:
    """A value as the cache stores it."""
    return zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 1)


def unpack(data: bytes):
    return pickle.loads(zlib.decompress(data))
