"""Writing a report: whole, or not at all with one clear error line.

Standard output may be a pipe another process left non-blocking, or be closed; `-o FILE`
may name a regular file (replaced atomically: a reader never sees half a report), a new
path, or a device or FIFO such as /dev/null (written in place: renaming over it would
replace the device node with a regular file).
"""
from __future__ import annotations

import contextlib
import os
import select
import stat
import sys

from ..errors import InputError
from ..processes import removed_if_interrupted


def write_report(text: str, output: str | None) -> None:
    """TEXT to standard output (OUTPUT None or "-") or to the file OUTPUT."""
    data = text.encode("utf-8", "surrogateescape")
    if output is None or output == "-":
        _write_stdout(text, data)
    else:
        _write_file(data, output)


def stdout_is_terminal() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()


def _write_stdout(text: str, data: bytes) -> None:
    if sys.stdout is None:  # started with standard output closed (`>&-`)
        raise InputError("could not write the report: standard output is closed")
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (a test runner's capture): its own write is whole
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        sys.stdout.flush()  # anything printed before goes first
        write_all(fd, data)
    except OSError as exc:
        raise InputError(f"could not write the report to standard output: {exc.strerror or exc}") from None


def write_all(fd: int, data: bytes) -> None:
    """Every byte of DATA to FD; a non-blocking FD that is full is waited on, not given up."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [])


def _write_file(data: bytes, output: str) -> None:
    target = os.path.realpath(output)  # through a link, as a shell redirection writes
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"could not write {output}: {exc.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"could not write {output}: it is a directory")
    try:
        if mode is not None and not stat.S_ISREG(mode):
            _write_in_place(data, target)
        else:
            _replace(data, target, mode)
    except OSError as exc:
        raise InputError(f"could not write {output}: {exc.strerror or exc}") from None


def _write_in_place(data: bytes, target: str) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CLOEXEC)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def _replace(data: bytes, target: str, mode: int | None) -> None:
    """Written beside TARGET, then renamed over it; the temporary file never outlives a
    failure (a full disk, a file size limit)."""
    tmp = f"{target}.tmp{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # left by a killed run that had our pid
    with removed_if_interrupted(tmp):  # a signal ends the run at once (processes.py)
        _write_and_rename(data, tmp, target, mode)


def _write_and_rename(data: bytes, tmp: str, target: str, mode: int | None) -> None:
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        try:
            if mode is not None:
                os.fchmod(fd, stat.S_IMODE(mode))  # an existing report keeps its permissions
            write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
