"""What the commands share: the caches a run opens (closed before the output is written),
a report rendered through its format (report/formats.py) and written whole, and the check
itself (run by `check` and `pre-commit`). The command modules import this; nothing here
imports them."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from typing import TypeVar

import click

from ..app.config import RunConfig
from ..app.runs import check_report
from ..app.waivers import baseline_toml
from ..diff.findings import Report
from ..errors import InputError
from ..extract.cache import Cache, default_cache_dir, max_bytes_from_env
from ..processes import Progress, ProgressBar, signals_deferred, silent_progress
from ..report.formats import CHECK_FORMATS, STATISTICS_FORMATS, Format, RenderOptions, Styles
from .output import stdout_is_terminal, write_report

T = TypeVar("T")


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


open_caches: list[Cache] = []  # closed before the output is written, and at the end of the run


def open_cache(config: RunConfig) -> Cache | None:
    if config.no_cache:
        return None
    directory = config.cache_dir or default_cache_dir()
    max_bytes = cache_cap()
    try:
        cache = Cache(directory, max_bytes)
        open_caches.append(cache)
        return cache
    except (OSError, sqlite3.Error) as exc:
        busy = isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))
        if config.cache_dir and not busy:  # asked for explicitly and unusable: that is an input error
            raise InputError(f"cache directory {directory}: {describe_error(exc)}") from None
        click.echo(f"vmsd-lint: warning: running without a cache ({directory}: {describe_error(exc)})", err=True)
        return None


def cache_cap() -> int:
    """The cache's size cap (VMSD_LINT_CACHE_MAX); a value that is not a size is an input error."""
    try:
        return max_bytes_from_env()
    except ValueError as exc:
        raise InputError(str(exc)) from None


def close_caches() -> None:
    """Wait for the processes writing the caches, close them."""
    while open_caches:
        open_caches.pop().close()


def write_output(text: str, output: str | None) -> None:
    # Output comes last, once the cache writers are done: a run interrupted before it
    # has printed nothing (processes.py), rather than a whole report with exit status 130.
    close_caches()
    with signals_deferred():  # all of the report or none of it, even at the last moment
        write_report(text, output)


def write_rendered(fmt: Format[T], subject: T, config: RunConfig, quiet: bool = False) -> None:
    """SUBJECT rendered in FMT, written to --output; nothing at all when the format
    renders nothing (QUIET: -q and nothing fails)."""
    text = fmt.render(subject, RenderOptions(config.show_waived, config.show_diagnostics, quiet))
    if not text:
        return
    if fmt.styles != Styles.NONE:
        text = text if fmt.styles == Styles.TERMINAL and colour_wanted(config) else click.unstyle(text)
    write_output(text, config.output)


def colour_wanted(config: RunConfig) -> bool:
    """--color always or never, else (auto) colour on a terminal, unless NO_COLOR is set."""
    if config.color != "auto":
        return config.color == "always"
    return config.output in (None, "-") and stdout_is_terminal() and not os.environ.get("NO_COLOR")


def run_check_command(old_spec: str, new_spec: str, config: RunConfig) -> None:
    """What `check` does once the range is parsed (shared with `pre-commit`): compare, apply
    waivers, print the report, exit 1 when it fails and 0 otherwise."""
    formats = STATISTICS_FORMATS if config.statistics else CHECK_FORMATS
    if config.format not in formats:  # before anything is extracted
        raise InputError(f"--statistics prints {' or '.join(formats)}, not --format {config.format}")
    report = check_report(old_spec, new_spec, config, open_cache(config), terminal_progress(config))
    if config.write_baseline:
        write_baseline(report, config.write_baseline)
        sys.exit(0)
    failed = report.failed(config.strict)
    write_rendered(formats[config.format], report, config, quiet=config.quiet and not failed)
    sys.exit(1 if failed and not config.exit_zero else 0)


def terminal_progress(config: RunConfig) -> Progress:
    """click's progress bar on standard error when it is a terminal and -q was not given;
    else nothing (a CI log or a pipe gets no carriage-return noise)."""
    if config.quiet or sys.stderr is None or not sys.stderr.isatty():
        return silent_progress

    def bar(label: str, length: int) -> contextlib.AbstractContextManager[ProgressBar]:
        return click.progressbar(length=length, label=label, file=sys.stderr, show_eta=False)
    return bar


def write_baseline(report: Report, path: str) -> None:
    """The waivers of every current finding written to PATH, and one line saying so: the
    report itself is what the baseline now accepts, so it is not printed, and the run passes."""
    write_output(baseline_toml(report.findings), path)
    click.echo(f"vmsd-lint: wrote {len(report.findings)} waiver(s) to {path} "
               f"({report.old.label} -> {report.new.label}); give each a real reason", err=True)
