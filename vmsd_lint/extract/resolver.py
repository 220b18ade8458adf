"""The resolution of a tree's parsed files, shared by two processes: this one and a
second resolver, forked once the tree's index is built, take turns by blocks of files.
A file whose resolution the cache holds, with lookups that answer the same in this
tree, is not resolved again (store.ResolvedCache)."""
from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Iterable

from ..errors import ChildDied
from ..processes import how_it_ended, name_process
from .cache import pack, unpack
from .context import TreeIndex
from .perfile import FileResult, ParsedFile, resolve_file
from .qemu import vms_flag_values
from .store import ResolvedCache

RESOLVE_BLOCK = 16  # the two resolvers take turns by blocks of files (neighbours share headers)


def resolve_files(index: TreeIndex, parsed_files: Iterable[tuple[str, ParsedFile, bytes | None]],
                  reuse: ResolvedCache) -> list[tuple[str, ParsedFile, FileResult]]:
    """The parsed files (path, parse, packed parse or None, in path order, as they
    arrive) with their resolutions, in the same order."""
    vms_flags = vms_flag_values(index)
    reuse.load(vms_flags)
    facts: dict[str, ParsedFile] = {}
    mine: dict[int, FileResult] = {}
    theirs: list[tuple[int, str]] = []  # (position, path) of the files the second resolver has
    with SecondResolver(index, vms_flags) as second:
        for position, (path, ff, packed) in enumerate(parsed_files):
            facts[path] = ff
            reused = reuse.reusable(index, path)
            if reused is not None:
                mine[position] = reused
            elif second.active and position // RESOLVE_BLOCK % 2:
                second.send(path, ff, packed)
                theirs.append((position, path))
            else:
                mine[position], lookups = resolve_file(index, vms_flags, path, ff)
                reuse.keep(path, lookups, mine[position])
        for (position, path), (file_result, lookups) in zip(theirs, second.results()):
            mine[position] = file_result
            reuse.keep(path, lookups, file_result)
    reuse.save()
    return [(path, ff, mine[position]) for position, (path, ff) in enumerate(facts.items())]


class SecondResolver:
    """A process that resolves every other block of files, so that two cores share
    the resolution.  It is forked once the index is built, whatever --jobs is: a
    resolution fills caches (records, conditions) whose content can depend on what
    was resolved before, so the split must not depend on the number of workers."""

    def __init__(self, index: TreeIndex, vms_flags: dict[str, int]):
        self.active = False
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform: everything is resolved here
            return
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_second_resolver_main, args=(index, vms_flags, child, self._conn),
                                        daemon=True)
        try:
            self._process.start()
        except OSError:  # no room for a process: everything is resolved here
            self._conn.close()
            return
        finally:
            child.close()
        self.active = True

    def __enter__(self) -> SecondResolver:
        return self

    def __exit__(self, *exc) -> None:
        if self.active and self._process.is_alive():
            self._process.kill()
        if self.active:
            self._process.join()
            self._conn.close()

    def send(self, path: str, ff: ParsedFile, packed: bytes | None) -> None:
        try:
            self._conn.send((path, packed if packed is not None else pack(ff)))
        except OSError:  # it died: say so, rather than "Broken pipe"
            raise self._died() from None

    def results(self) -> list[FileResult]:
        """The results of the files sent, in order."""
        if not self.active:
            return []
        try:
            self._conn.send(None)
            status, value = self._conn.recv()
        except (OSError, EOFError):
            raise self._died() from None
        if status != "ok":
            raise RuntimeError(f"second resolver: {value}")
        return value

    def _died(self) -> ChildDied:
        self._process.join(10)  # its end of the pipe is closed: it is dead or about to be
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
            return ChildDied(f"the second resolver (pid {self._process.pid}) closed its pipe")
        return ChildDied(f"the second resolver (pid {self._process.pid}) {how_it_ended(self._process.exitcode)}")


def _second_resolver_main(index: TreeIndex, vms_flags: dict[str, int], conn, parent_end) -> None:
    # The parent's end, copied by the fork: held here, this process would never read the
    # end of its input if the parent died.
    parent_end.close()
    name_process("vmsd-resolver")
    try:
        results = []
        while (item := conn.recv()) is not None:
            path, packed = item
            results.append(resolve_file(index, vms_flags, path, unpack(packed)))
        reply = ("ok", results)
    except EOFError:  # the parent ended (and says why): a traceback here would be a second line
        return
    except Exception:
        reply = ("error", traceback.format_exc())
    try:
        conn.send(reply)
    except OSError:  # the parent ended meanwhile
        pass
