"""The extractions of a range's two trees.  When both must be extracted whole (neither
is cached, and they are too far apart to derive one from the other), NEW's is made by
a forked process while this one makes OLD's: each extraction leaves the cores idle at
times (reading, indexing, the tree-wide steps at its end), which the other one fills."""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sqlite3
import traceback
from dataclasses import replace

from ..errors import ChildDied
from ..model import Extraction
from ..processes import how_it_ended, name_process, silent_progress
from ..sources.tree import SourceTree
from .cache import Cache
from .derive import few_c_files_apart
from .extractor import Extractor
from .perfile import source_files
from .rust import rust_files


def extract_pair(extractor: Extractor, old_tree: SourceTree, new_tree: SourceTree) -> tuple[Extraction, Extraction]:
    if extractor.is_cached(old_tree) or extractor.is_cached(new_tree) or _few_c_files_apart(old_tree, new_tree):
        old = extractor.run(old_tree)
        return old, extractor.run(new_tree, base=(old_tree, old))
    # the two extractions share the cores: each gets half the workers
    half = replace(extractor, jobs=max(1, extractor.jobs // 2))
    new_job = _ForkedExtraction.start(replace(half, progress=silent_progress), new_tree)  # one bar: OLD's
    if new_job is None:  # no process could be forked
        return extractor.run(old_tree), extractor.run(new_tree)
    try:
        old = half.run(old_tree)
    except BaseException:
        new_job.cancel()
        raise
    return old, new_job.result()


def _few_c_files_apart(old_tree: SourceTree, new_tree: SourceTree) -> bool:
    """Whether NEW may be derived from OLD (extract.derive decides for sure)."""
    blobs = [{f.path: f.blob for f in source_files(tree)} for tree in (old_tree, new_tree)]
    return few_c_files_apart(*blobs) is not None and rust_files(old_tree) == rust_files(new_tree)


class _ForkedExtraction:
    """An extraction made by a forked child process, which sends it back pickled.  With a
    cache, the child opens its own connection and writes what it computed; the end of
    this process's cache waits for it, as for its other writers."""

    def __init__(self, pid: int, reader, cache: Cache | None):
        self.pid, self._reader, self._cache = pid, reader, cache

    @classmethod
    def start(cls, extractor: Extractor, tree: SourceTree) -> _ForkedExtraction | None:
        reader, writer = multiprocessing.Pipe(duplex=False)
        try:
            pid = os.fork()
        except (AttributeError, OSError):
            reader.close()
            writer.close()
            return None
        if pid == 0:
            reader.close()
            _child(extractor, tree, writer)  # never returns
        writer.close()
        return cls(pid, reader, extractor.cache)

    def result(self) -> Extraction:
        try:
            self._wait()
            status, value = self._reader.recv()
        except (EOFError, OSError):
            raise self._died() from None
        finally:
            self._reader.close()
        if self._cache is not None:
            self._cache.adopt_writer(self.pid)
        else:
            os.waitpid(self.pid, 0)
        if status != "ok":
            raise value
        return value

    def _wait(self) -> None:
        """Until the child sends its result or dies: its own children could hold the pipe
        open after its death (on Linux they die with it; a pidfd does not depend on it)."""
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # not Linux (5.3+): the end of the pipe tells
            return
        try:
            ready = multiprocessing.connection.wait([self._reader, pidfd])
        finally:
            os.close(pidfd)
        if self._reader not in ready:
            raise EOFError

    def _died(self) -> ChildDied:
        """The error for a child that ended without a result (it is reaped here)."""
        _, status = os.waitpid(self.pid, 0)
        how = how_it_ended(os.waitstatus_to_exitcode(status))
        return ChildDied(f"the process extracting NEW (pid {self.pid}) {how}")

    def cancel(self) -> None:
        self._reader.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def _child(extractor: Extractor, tree: SourceTree, writer) -> None:
    code = 1
    try:
        name_process("vmsd-new-tree")
        cache = None
        if extractor.cache is not None:
            try:  # its own connection: one must not cross a fork
                cache = Cache(extractor.cache.directory, extractor.cache.max_bytes)
            except (OSError, sqlite3.Error):
                pass  # busy or damaged: NEW is extracted without it (only costs time)
        try:
            result = ("ok", replace(extractor, cache=cache).run(tree))
        except Exception as exc:
            result = ("error", exc)
        try:
            writer.send(result)
        except Exception:
            writer.send(("error", RuntimeError(traceback.format_exc())))
        if cache is not None:
            cache.close()  # waits for its writers
        code = 0
    finally:
        os._exit(code)
