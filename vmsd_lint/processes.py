"""How vmsd-lint's processes end.

The main process of a command handles SIGINT, SIGTERM and SIGHUP: it removes what it
registered here (temporary files), prints one line and exits at once with 128 + the
signal's number (130, 143, 129), as a shell reports a process the signal killed.  It does
not unwind: a `finally` or a pool shutdown could wait for minutes of queued work, and the
cache needs no cleanup (every write is one SQLite transaction, rolled back if cut).  The
output is written last, after the cache writers are done (cli/run.py, write_output), so an
interrupted run prints nothing on stdout.

Every process forked while a command runs (pool workers, the second resolver, the
process extracting a range's NEW tree, cache writers, and theirs) ignores SIGINT -- a
Ctrl-C reaches the whole process group and only the main process acts on it -- and is
killed when its parent dies (Linux's parent-death signal), so that no child outlives a
main process killed by any signal, holding the caller's stdout and stderr open.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n_steps: int) -> None: ...


# progress(label, length): a context manager whose bar is moved by update(); the command
# line gives click's bar on a terminal (cli/run.py), every other caller silent_progress
Progress = Callable[[str, int], contextlib.AbstractContextManager[ProgressBar]]


class _NoBar:
    def update(self, n_steps: int) -> None:
        pass


@contextlib.contextmanager
def silent_progress(label: str, length: int) -> Iterator[ProgressBar]:
    """No progress shown: not a terminal, -q, a forked process, a library caller."""
    yield _NoBar()


EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}

_PR_SET_NAME, _PR_SET_PDEATHSIG = 15, 1  # from <linux/prctl.h>

_main_pid: int | None = None  # the process handling the signals, while a command runs
_forking_pid: int | None = None  # set just before a fork: the child's parent
_hooks_registered = False
_on_exit: dict[int, object] = {}  # id -> function run when a signal ends the run
_deferred: list[int] | None = None  # inside signals_deferred(): the signals that came


@contextlib.contextmanager
def signals_handled():
    """Handle the signals in this process while the block runs (a command's run)."""
    global _main_pid, _hooks_registered
    if threading.current_thread() is not threading.main_thread():  # only the main thread may
        yield
        return
    if not _hooks_registered:  # os.register_at_fork cannot be undone: once per process
        os.register_at_fork(before=_before_fork, after_in_child=_in_child)
        _hooks_registered = True
    _libc()  # loaded once here, not in every forked child
    previous = {signum: signal.getsignal(signum) for signum in EXIT_STATUS}
    _main_pid = os.getpid()
    for signum in EXIT_STATUS:
        signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        _main_pid = None
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _on_signal(signum: int, frame) -> None:
    if os.getpid() != _main_pid:
        # a child forked a moment ago, before _in_child set its own dispositions
        if signum != signal.SIGINT:
            os._exit(EXIT_STATUS[signum])
        return
    if _deferred is not None:
        if not _deferred:  # the first: the block has LIMIT seconds left (signals_deferred)
            signal.setitimer(signal.ITIMER_REAL, _deferred_limit)
        _deferred.append(signum)
        return
    _end_run(signum)


def _end_run(signum: int) -> None:
    for function in list(_on_exit.values()):
        try:
            function()
        except Exception:
            pass
    name = signal.Signals(signum).name
    os.write(2, f"vmsd-lint: error: interrupted by {name}\n".encode())
    os._exit(EXIT_STATUS[signum])  # the children die with this process (_in_child)


_deferred_limit = 5.0


@contextlib.contextmanager
def signals_deferred(limit: float = 5.0):
    """Hold SIGINT, SIGTERM and SIGHUP while the block runs (the report's final write, so
    that an interrupted run prints all of it or nothing), and end the run by the first of
    them when the block is done.  Bounded: LIMIT seconds after a signal came, it ends the
    run even though the block is still running (a reader that stopped reading the pipe)."""
    global _deferred, _deferred_limit
    if os.getpid() != _main_pid or threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    _deferred, _deferred_limit = came, limit
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: _end_run(came[0]))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _deferred = None
    if came:
        _end_run(came[0])


@contextlib.contextmanager
def removed_if_interrupted(path: str):
    """Remove PATH (a file or a directory tree) if a signal ends the run inside the block."""
    def remove() -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)

    key = id(remove)
    _on_exit[key] = remove
    try:
        yield
    finally:
        del _on_exit[key]


def _before_fork() -> None:
    global _forking_pid
    _forking_pid = os.getpid()


def _in_child() -> None:
    """In every child forked while a command runs: leave Ctrl-C to the main process, and
    die with the parent."""
    if _main_pid is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    if _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL)) and os.getppid() != _forking_pid:
        os._exit(1)  # the parent died before the death signal was set: it would never come


def name_process(name: str) -> None:
    """Name this process as `ps -o comm`, `top` and the error lines show it (Linux)."""
    _prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]))


def _prctl(option: int, argument) -> bool:
    libc = _libc()
    return libc is not None and libc.prctl(option, argument, 0, 0, 0) == 0


@functools.lru_cache(maxsize=1)
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl  # noqa: B018 - present in every Linux C library; checked once
        return libc
    except (OSError, AttributeError):
        return None


def how_it_ended(exitcode: int | None) -> str:
    """'was killed by signal 9 (SIGKILL)' for a multiprocessing exit code (negative: the
    signal) or an os.waitpid() status turned into one by waitstatus_to_exitcode()."""
    if exitcode is None:
        return "ended"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown"
        hint = ", as the out-of-memory killer does" if -exitcode == signal.SIGKILL else ""
        return f"was killed by signal {-exitcode} ({name}{hint})"
    return f"exited with status {exitcode}"
