"""What the commands share: the caches a run opens (closed before the output is written),
the report written whole, the repository's .vmsd-lint.toml, and the check itself (run by
`check` and `pre-commit`). The command modules import this; nothing here imports them."""
from __future__ import annotations

import os
import sqlite3
import sys

import click

from ..errors import InputError
from .options import default_jobs
from .output import stdout_is_terminal, write_report


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


open_caches: list = []  # closed before the output is written, and at the end of the run


def open_cache(cache_dir: str | None, no_cache: bool):
    if no_cache:
        return None
    from ..extract.cache import Cache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    max_bytes = cache_cap()
    try:
        cache = Cache(directory, max_bytes)
        open_caches.append(cache)
        return cache
    except (OSError, sqlite3.Error) as exc:
        busy = isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))
        if cache_dir and not busy:  # asked for explicitly and unusable: that is an input error
            raise InputError(f"cache directory {directory}: {describe_error(exc)}") from None
        click.echo(f"vmsd-lint: warning: running without a cache ({directory}: {describe_error(exc)})", err=True)
        return None


def cache_cap() -> int:
    """The cache's size cap (VMSD_LINT_CACHE_MAX); a value that is not a size is an input error."""
    from ..extract.cache import max_bytes_from_env

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
    write_report(text, output)


def run_check_command(old_spec: str, new_spec: str, *, fmt: str = "text", target: str | None = None,
                      repo: str | None = None, jobs: int | None = None, cache_dir: str | None = None,
                      no_cache: bool = False, config: str | None = None, strict: bool = False,
                      show_waived: bool = False, show_diagnostics: bool = False, write_baseline: str | None = None,
                      output: str | None = None, quiet: bool = False, per_commit: bool = False) -> None:
    """What `check` does once the range is parsed (shared with `pre-commit`): compare, apply
    waivers, print the report, exit 1 when it fails and 0 otherwise."""
    from ..app.check import Options, run_check
    from ..app.waivers import apply_waivers, baseline_toml, load_waivers
    from ..report.check_json import render_json
    from ..report.text import render_text

    options = Options(repo=repo, target=target, jobs=default_jobs(jobs),
                      cache=open_cache(cache_dir, no_cache))
    config_path = config or default_config(repo)
    waivers = load_waivers(config_path) if config_path else []
    report = run_check(old_spec, new_spec, options)
    if per_commit:
        from ..app.percommit import attribute_commits
        attribute_commits(report, old_spec, new_spec, options)
    apply_waivers(report, waivers)
    if write_baseline:
        write_output(baseline_toml(report.findings), write_baseline)
    failed = report.failed(strict)
    if fmt == "json":
        write_output(render_json(report, show_waived), output)
    elif fmt in ("sarif", "markdown", "github"):
        from ..report.github import render_github
        from ..report.markdown import render_markdown
        from ..report.sarif import render_sarif
        write_output({"sarif": render_sarif, "markdown": render_markdown, "github": render_github}[fmt](report), output)
    elif not (quiet and not failed):
        text = render_text(report, show_waived, show_diagnostics)
        colour = output in (None, "-") and stdout_is_terminal() and not os.environ.get("NO_COLOR")
        write_output(text if colour else click.unstyle(text), output)
    sys.exit(1 if failed else 0)


def default_config(repo: str | None) -> str | None:
    """.vmsd-lint.toml at the root of the repository around --repo or the current directory."""
    from ..app.check import find_repo

    try:
        root = find_repo(repo)
    except InputError:
        root = os.getcwd()
    path = os.path.join(root, ".vmsd-lint.toml")
    return path if os.path.isfile(path) else None
